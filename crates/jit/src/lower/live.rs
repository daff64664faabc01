//! Two backward liveness analyses over the function's control-flow graph,
//! done before lowering in one reverse pass (they walk the same edges):
//!
//! * **register liveness**: which BPF registers some path reads after each
//!   instruction before overwriting them (any read counts). Used by the
//!   `lsh`/add fusion ([`super::shadd`]) and threading ([`super::thread`]).
//! * **upper-half liveness**: which ALU32 zero-extensions are dead. Every
//!   ALU32 lowering produces the right low 32 bits; the zero-extension only
//!   fixes the upper half. The upper half of a register is *live* at a
//!   point when some path from there reads the register's full 64 bits
//!   (see [`Effects::reads_upper`]) before overwriting it. An ALU32 result
//!   whose upper half is not live needs no zero-extension.
//!
//! Without a backward jump one reverse pass sees every successor's final
//! value; with loops the pass repeats until nothing changes.

use super::cfg::Cfg;
use super::effects::Effects;
use rvbpf_ebpf::inst::Reg;

/// The results of both analyses for one function (indexed from its start).
pub struct Liveness {
    /// Registers live after each pc.
    pub live_out: Vec<u16>,
    /// The instruction is an ALU32 operation whose result's upper half is
    /// never observed.
    pub dead_zext: Vec<bool>,
}

/// Both analyses of the function `cfg` describes.
pub fn analyze(cfg: &Cfg) -> Liveness {
    let (start, n) = (cfg.start, cfg.end - cfg.start);
    // Registers (upper halves) live before each pc.
    let mut live_in = vec![0u16; n];
    let mut upper_in = vec![0u16; n];
    let mut live_out = vec![0u16; n];
    let mut dead_zext = vec![false; n];
    loop {
        let mut changed = false;
        // What `pc + 1`, visited just before, has live on entry: taken
        // from here rather than stored there and read back (most pcs fall
        // through, and the round trip through memory cost a stall).
        let (mut next_in, mut next_upper_in) = (0u16, 0u16);
        for pc in (start..cfg.end).rev() {
            let i = pc - start;
            let e = cfg.effects(pc);
            let (falls, taken) = cfg.edges(pc);
            let mut out = if falls { next_in } else { 0 };
            let mut upper_out = if falls { next_upper_in } else { 0 };
            if let Some(t) = taken {
                out |= live_in[t - start];
                upper_out |= upper_in[t - start];
            }
            live_out[i] = out;
            // Without a branch on the (unpredictable) kind: `result` is a
            // register for every ALU32 operation, masked for the others.
            dead_zext[i] = e.alu32 & (upper_out >> (e.result & 15) & 1 == 0);
            let new = e.reads | (out & !e.writes);
            let new_upper = e.reads_upper | (upper_out & !e.writes_upper);
            changed |= new != live_in[i] || new_upper != upper_in[i];
            live_in[i] = new;
            upper_in[i] = new_upper;
            (next_in, next_upper_in) = (new, new_upper);
        }
        // Only a loop can carry a change to an already visited pc; the
        // pass that changes nothing saw final values only.
        if !(changed && cfg.has_backward_jump) {
            return Liveness {
                live_out,
                dead_zext,
            };
        }
    }
}

/// Registers live before `pc`.
pub fn live_in(cfg: &Cfg, live_out: &[u16], pc: usize) -> u16 {
    let e: &Effects = cfg.effects(pc);
    e.reads | (live_out[pc - cfg.start] & !e.writes)
}

/// Is `r` live after `pc`?
pub fn is_live(live_out: &[u16], start: usize, pc: usize, r: Reg) -> bool {
    live_out[pc - start] & (1 << r.index()) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvbpf_ebpf::asm::assemble;

    fn live_out(insts: &[rvbpf_ebpf::inst::Inst]) -> Vec<u16> {
        analyze(&Cfg::new(insts, 0, insts.len())).live_out
    }

    #[test]
    fn overwritten_registers_are_dead_and_loop_reads_keep_them_live() {
        let insts = assemble(
            "mov %r1, 1
             loop:
             mov %r2, %r1
             add %r1, 1
             jlt %r1, 10, loop
             mov %r2, 0
             mov %r0, %r2
             exit",
        )
        .unwrap();
        let live = live_out(&insts);
        let r = |n| Reg::new(n).unwrap();
        // r2 written at pc 1 is overwritten at pc 4 before any read.
        assert!(!is_live(&live, 0, 1, r(2)));
        // r1 is read around the loop.
        assert!(is_live(&live, 0, 3, r(1)));
        // r0 is read by exit.
        assert!(is_live(&live, 0, 5, r(0)));
        assert!(!is_live(&live, 0, 5, r(1)));
    }

    fn dead(src: &str) -> Vec<bool> {
        let insts = assemble(src).unwrap();
        analyze(&Cfg::new(&insts, 0, insts.len())).dead_zext
    }

    #[test]
    fn overwritten_after_low_reads_only_is_dead() {
        // r1's upper half after pc 0 is never read: pc 1 reads the low half
        // (mov32), pc 2 overwrites r1 with an ALU32 op.
        let d = dead("add32 %r1, 1\nmov32 %r0, %r1\nmul32 %r1, 3\nadd %r0, %r1\nexit");
        assert_eq!(d, [true, false, false, false, false]);
    }

    #[test]
    fn full_reads_branches_and_exits_keep_it() {
        // 64-bit ALU read, address use, jump, exit.
        assert!(!dead("add32 %r1, 1\nadd %r0, %r1\nexit")[0]);
        assert!(!dead("add32 %r1, 1\nldxw %r0, [%r1]\nexit")[0]);
        // A jmp32 keeps it (it can then compare without extending).
        assert!(!dead("add32 %r1, 1\njeq32 %r1, 0, +0\nmov %r1, 0\nexit")[0]);
        assert!(!dead("add32 %r1, 1\njeq32 %r1, 0, +1\nmov %r1, 0\nmov %r0, %r1\nexit")[0]);
        assert!(!dead("add32 %r0, 1\nexit")[0]);
        // A 64-bit store of the value needs it whole; a 32-bit store does not.
        assert!(!dead("add32 %r1, 1\nstxdw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
        assert!(dead("add32 %r1, 1\nstxw [%r10-8], %r1\nmov %r1, 0\nexit")[0]);
    }
    #[test]
    fn liveness_follows_loop_back_edges() {
        use rvbpf_ebpf::asm::assemble;
        // r3's zext at pc 2 is dead: the loop head rewrites r3 (mov32 reads it
        // low only), and after the loop r3 is overwritten before exit.
        let insts = assemble(
            "mov %r3, 0
             loop:
             mov32 %r3, %r3
             add32 %r3, 7
             add %r2, 1
             jlt %r2, 10, loop
             mov %r3, 0
             mov %r0, 0
             exit",
        )
        .unwrap();
        let d = analyze(&Cfg::new(&insts, 0, insts.len())).dead_zext;
        assert!(d[1] && d[2]);
    }
}
