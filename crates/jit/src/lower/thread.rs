//! Threading a conditional jump through a repeat of its own test.
//!
//! Compilers emit `if (c) x = y; z += 1; if (c) goto L;` as
//!
//! ```text
//! j:  jlt32 r9, r5, +1   ; to t
//!     mov r7, r6          ; F: only when the test failed
//! t:  add r6, 1           ; T: on both paths
//! k:  jlt32 r9, r5, L     ; the same test again
//! ```
//!
//! Nothing between `j` and `k` writes the compared registers, so `k` goes
//! the way `j` went. The taken edge of `j` goes to an out-of-line copy of
//! `T` followed by `j L`; the inline path (F, T) then always falls through
//! `k`, which emits nothing. The copy is placed after the function's
//! epilogue (which ends in `ret`).
//!
//! Required: `t` lies after `j + 1`; F and T are straight-line code
//! (ALU, loads, stores, `lddw`) writing neither compared register; no jump
//! lands inside `j + 1 ..= k` except `j`'s own on `t`.

use super::cfg::Cfg;
use rvbpf_ebpf::inst::Inst;

/// A threaded pair of identical tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threaded {
    /// The first test.
    pub first: usize,
    /// Start of the code both paths run (`j`'s target).
    pub shared: usize,
    /// The repeated test, which ends the shared code.
    pub repeat: usize,
}

/// pcs of the shared code whose inline copy can be left out: ALU
/// operations whose result nothing on the inline path (the rest of the
/// shared code, then `repeat + 1` on) reads. The out-of-line copy keeps
/// them.
pub fn dead_inline(insts: &[Inst], th: &Threaded, cfg: &Cfg, live_out: &[u16]) -> Vec<usize> {
    let after = if th.repeat + 1 < cfg.end {
        super::live::live_in(cfg, live_out, th.repeat + 1)
    } else {
        0
    };
    // Backwards over the shared code, keeping the registers read after
    // `p` (up to the repeat) so each pc is looked at once.
    let mut read_later = 0u16;
    let mut dead = Vec::new();
    for p in (th.shared..th.repeat).rev() {
        if let Inst::Alu { dst, .. } = insts[p] {
            let bit = 1u16 << dst.index();
            if read_later & bit == 0 && after & bit == 0 {
                dead.push(p);
            }
        }
        read_later |= cfg.effects(p).reads;
    }
    dead.reverse();
    dead
}

/// Every threadable pair of the function.
pub fn threaded_jumps(insts: &[Inst], cfg: &Cfg) -> Vec<Threaded> {
    let (start, end) = (cfg.start, cfg.end);
    let mut found: Vec<Threaded> = Vec::new();
    // Conditional jumps only, listed by the scan (a test of every
    // instruction would mispredict on mixed code).
    let jumps = &cfg.conditional_jumps;
    for (i, &j) in jumps.iter().enumerate() {
        let j = j as usize;
        let Inst::Jump {
            is32,
            cond,
            dst,
            src,
            ..
        } = insts[j]
        else {
            continue;
        };
        // Threads never overlap: a first test that repeats an earlier one
        // stays a plain jump. Repeats grow with `first`, so the last one
        // found is the only one that can reach `j`.
        if found.last().is_some_and(|th| th.repeat >= j) {
            continue;
        }
        let Some(t) = super::cfg::jump_target(&insts[j], j) else {
            continue;
        };
        if t <= j as i64 + 1 || t >= end as i64 {
            continue;
        }
        let t = t as usize;
        // F and T hold no jump, so the repeat can only be the next
        // conditional jump: compare the tests first, and look at the code
        // between only for a repeat (rare; the scan's data-dependent exit
        // was a misprediction at every jump).
        let Some(k) = jumps.get(i + 1).map(|&k| k as usize) else {
            continue;
        };
        if k <= t {
            continue;
        }
        let Inst::Jump {
            is32: i,
            cond: c,
            dst: d,
            src: s,
            off,
        } = insts[k]
        else {
            continue;
        };
        if i != is32 || c != cond || d != dst || s != src {
            continue;
        }
        // F and T: straight-line, not writing the compared registers
        // (the registers the test reads).
        let compared = cfg.effects(j).reads;
        let plain = |p: usize| {
            let e = cfg.effects(p);
            e.straight_line && e.writes & compared == 0
        };
        if !(j + 1..k).all(plain) {
            continue;
        }
        let repeat_target = k as i64 + 1 + off as i64;
        if !(start as i64..end as i64).contains(&repeat_target) {
            continue;
        }
        // No other jump may land in j+1..=k: `j`'s own landing on `t`
        // (inside that range) must be the only one.
        if cfg.landings_in(j + 1, k) == 1 {
            found.push(Threaded {
                first: j,
                shared: t,
                repeat: k,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn threads(src: &str) -> Vec<Threaded> {
        let insts = assemble(src).unwrap();
        threaded_jumps(&insts, &Cfg::new(&insts, 0, insts.len()))
    }

    #[test]
    fn repeated_test_over_untouched_operands_is_threaded() {
        let src =
            "jlt32 %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\njlt32 %r9, %r5, +1\nmov %r0, 1\nexit";
        assert_eq!(
            threads(src),
            [Threaded {
                first: 0,
                shared: 2,
                repeat: 3
            }]
        );
    }

    #[test]
    fn written_operand_other_test_or_extra_jump_in_is_not() {
        // r9 changes in the shared code.
        assert!(threads(
            "jlt %r9, %r5, +1\nmov %r7, %r6\nadd %r9, 1\njlt %r9, %r5, +1\nmov %r0, 1\nexit"
        )
        .is_empty());
        // A different test.
        assert!(threads(
            "jlt %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\njle %r9, %r5, +1\nmov %r0, 1\nexit"
        )
        .is_empty());
        // The 32-bit and 64-bit tests differ.
        assert!(threads(
            "jlt %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\njlt32 %r9, %r5, +1\nmov %r0, 1\nexit"
        )
        .is_empty());
        // Another jump lands on the shared code.
        assert!(threads("ja +0\njlt %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\njlt %r9, %r5, +1\nmov %r0, 1\nja -6\nexit").len() == 1);
        assert!(threads(
            "jlt %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\njlt %r9, %r5, +1\nmov %r0, 1\nja -4\nexit"
        )
        .is_empty());
    }

    #[test]
    fn shared_code_overwritten_after_the_inline_fall_through_is_dead_there() {
        let src = "jlt %r9, %r5, +1\nmov %r7, %r6\nadd %r6, 1\nadd %r1, 2\njlt %r9, %r5, +2\nmov %r6, %r8\nmov %r0, %r1\nexit";
        let insts = assemble(src).unwrap();
        let n = insts.len();
        let cfg = Cfg::new(&insts, 0, n);
        let th = threaded_jumps(&insts, &cfg)[0];
        let live = super::super::live::analyze(&cfg).live_out;
        // r6 (pc 2) is overwritten at pc 5; r1 (pc 3) is read at pc 6.
        assert_eq!(dead_inline(&insts, &th, &cfg, &live), [2]);
    }
}
