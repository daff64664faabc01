//! Layout: choose each relaxable item's form with a bounded relaxation loop
//! (forms only grow), then emit the text once.
//!
//! | item     | forms (bytes)                                                        |
//! |----------|----------------------------------------------------------------------|
//! | Branch   | `c.beqz/c.bnez` (2) → `b<op>` (4) → `b<!op> +8; jal` (8) → `b<!op> +12; auipc t3; jalr` (12) |
//! | Jump     | `c.j` (2) → `jal zero` (4) → `auipc t3; jalr zero` (8)              |
//! | Call     | `jal ra` (4) → `auipc t1; jalr ra` (8)                               |
//! | PoolLoad | `auipc rd; ld rd` (8)                                                |
//! | AddrOf   | `auipc rd; addi rd` (8)                                              |
//!
//! Layout works on the [`Stream`]: fixed code is already encoded, so only
//! its fragments (the items above and `Align4`) are sized, and only the
//! ones that can still grow are checked again in each round. An offset is
//! `fixed bytes before + fragment bytes before` (`Growth`).
//!
//! [`expand`] is the single source of truth for what a fragment becomes
//! (the emitter encodes exactly what it returns); the relaxation loop asks
//! the cheaper [`reaches`], which a unit test holds to `expand`'s range
//! decisions.

use crate::facts::ProgramFacts;
use crate::image::{FunctionEntry, Image, PoolEntry, Reloc, Span};
use crate::items::{Item, Label};
use crate::lower::Lowered;
use crate::stream::{Frag, Pos, Stream};
use crate::{JitError, JitOptions, TAIL_CALL_ENTRY_OFFSET};
use rvbpf_rv64::{
    compress, encode, split_hi_lo, BranchOffset, Imm12, Inst, JumpOffset, LoadOp, Reg, Target,
};

/// Register clobbered by far branches/jumps (never live across a label).
const FAR_SCRATCH: Reg = Reg::T3;

/// Size class of an item, in increasing size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    Compressed,
    Short,
    Medium,
    Long,
}

/// One concrete instruction of an expansion and whether it is encoded in
/// 16 bits.
#[derive(Clone, Copy, Debug)]
struct Piece {
    inst: Inst,
    compressed: bool,
}

impl Piece {
    fn word(inst: Inst) -> Piece {
        Piece {
            inst,
            compressed: false,
        }
    }
}

/// The instructions of one expanded item (at most three), without a heap
/// allocation: expansion runs for every relaxable item in every layout
/// round.
#[derive(Clone, Copy, Debug)]
struct Pieces {
    buf: [Piece; 3],
    len: usize,
}

impl Pieces {
    fn new(pieces: &[Piece]) -> Pieces {
        let mut p = Pieces {
            buf: [Piece::word(Inst::NOP); 3],
            len: 0,
        };
        for &piece in pieces {
            p.push(piece);
        }
        p
    }

    fn push(&mut self, piece: Piece) {
        self.buf[self.len] = piece;
        self.len += 1;
    }
}

impl std::ops::Deref for Pieces {
    type Target = [Piece];

    fn deref(&self) -> &[Piece] {
        &self.buf[..self.len]
    }
}

/// The current form does not reach its target.
struct OutOfRange;

/// Bytes of fragments before each fragment: `growth[k]` for fragments
/// `0..k`, one more entry for the end. Position `p` is at offset
/// `p.at + growth[p.frag]`.
struct Growth(Vec<u32>);

impl Growth {
    fn offset(&self, p: Pos) -> usize {
        p.at as usize + self.0[p.frag as usize] as usize
    }
}

/// Where things are, for resolving labels during one layout iteration.
struct Resolver<'a> {
    stream: &'a Stream,
    growth: &'a Growth,
    pool_base: usize,
}

impl Resolver<'_> {
    fn label(&self, l: Label) -> Result<usize, JitError> {
        self.stream
            .label(l)
            .map(|p| self.growth.offset(p))
            .ok_or_else(|| JitError::Internal(format!("label {l:?} never bound")))
    }
}

fn initial_form(item: &Item, target: &Target) -> Form {
    match *item {
        Item::Branch { op, rs1, rs2, .. } => {
            let c_form = matches!(op, rvbpf_rv64::BranchOp::Beq | rvbpf_rv64::BranchOp::Bne)
                && rs2.is_zero()
                && rs1.compressed_field().is_some();
            if target.c && c_form {
                Form::Compressed
            } else {
                Form::Short
            }
        }
        Item::Jump { .. } if target.c => Form::Compressed,
        Item::PoolLoad { .. } | Item::AddrOf { .. } => Form::Long,
        _ => Form::Short,
    }
}

/// Size of fragment `item` in `form` (`Align4` is sized where it lands).
fn form_size(item: &Item, form: Form) -> u8 {
    match *item {
        Item::Branch { .. } => [2, 4, 8, 12][form as usize],
        Item::Jump { .. } => [2, 4, 8, 8][form as usize],
        Item::Call { .. } => [4, 4, 8, 8][form as usize],
        Item::PoolLoad { .. } | Item::AddrOf { .. } => 8,
        Item::Align4 | Item::Fixed(_) | Item::Wide(_) | Item::Bind(_) => 0,
    }
}

/// `auipc rd, hi; <second>(lo)` reaching `delta` bytes from the auipc.
fn pc_rel(delta: i64) -> Result<(rvbpf_rv64::Imm20, Imm12), JitError> {
    split_hi_lo(delta).ok_or_else(|| JitError::Internal(format!("offset {delta} beyond ±2 GiB")))
}

/// The instructions `item` becomes at offset `here` in `form`.
fn expand(
    item: &Item,
    form: Form,
    here: usize,
    target: &Target,
    r: &Resolver,
) -> Result<Result<Pieces, OutOfRange>, JitError> {
    let rel = |l: Label| -> Result<i64, JitError> { Ok(r.label(l)? as i64 - here as i64) };
    let pieces = match *item {
        Item::Fixed(_) | Item::Wide(_) | Item::Bind(_) => {
            return Err(JitError::Internal(format!("{item:?} is not a fragment")))
        }
        Item::Align4 => match here % 4 {
            0 => Pieces::new(&[]),
            2 if target.c => Pieces::new(&[Piece {
                inst: Inst::NOP,
                compressed: true,
            }]),
            _ => return Err(JitError::Internal(format!("cannot align offset {here}"))),
        },
        Item::Branch {
            op,
            rs1,
            rs2,
            target: to,
        } => {
            let delta = rel(to)?;
            match form {
                Form::Compressed | Form::Short => {
                    let Some(offset) = BranchOffset::new(delta) else {
                        return Ok(Err(OutOfRange));
                    };
                    let inst = Inst::Branch {
                        op,
                        rs1,
                        rs2,
                        offset,
                    };
                    if form == Form::Compressed && compress(&inst).is_none() {
                        return Ok(Err(OutOfRange));
                    }
                    Pieces::new(&[Piece {
                        inst,
                        compressed: form == Form::Compressed,
                    }])
                }
                Form::Medium | Form::Long => {
                    let skip = if form == Form::Medium { 8 } else { 12 };
                    let inv = Inst::Branch {
                        op: op.inverse(),
                        rs1,
                        rs2,
                        offset: BranchOffset::new(skip).expect("small"),
                    };
                    let mut v = Pieces::new(&[Piece::word(inv)]);
                    match far_jump(form == Form::Long, Reg::ZERO, delta - 4)? {
                        Ok(rest) => rest.iter().for_each(|&p| v.push(p)),
                        Err(e) => return Ok(Err(e)),
                    }
                    v
                }
            }
        }
        Item::Jump { target: to } => {
            let delta = rel(to)?;
            match form {
                Form::Compressed => {
                    let Some(offset) = JumpOffset::new(delta) else {
                        return Ok(Err(OutOfRange));
                    };
                    let inst = Inst::Jal {
                        rd: Reg::ZERO,
                        offset,
                    };
                    if compress(&inst).is_none() {
                        return Ok(Err(OutOfRange));
                    }
                    Pieces::new(&[Piece {
                        inst,
                        compressed: true,
                    }])
                }
                _ => match far_jump(form >= Form::Medium, Reg::ZERO, delta)? {
                    Ok(v) => v,
                    Err(e) => return Ok(Err(e)),
                },
            }
        }
        Item::Call { target: to } => match far_jump(form >= Form::Medium, Reg::RA, rel(to)?)? {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        },
        Item::PoolLoad { rd, slot } => {
            let delta = (r.pool_base + 8 * slot) as i64 - here as i64;
            let (hi, lo) = pc_rel(delta)?;
            Pieces::new(&[
                Piece::word(Inst::Auipc { rd, imm: hi }),
                Piece::word(Inst::Load {
                    op: LoadOp::Ld,
                    rd,
                    rs1: rd,
                    offset: lo,
                }),
            ])
        }
        Item::AddrOf { rd, target: to } => {
            let (hi, lo) = pc_rel(rel(to)?)?;
            Pieces::new(&[
                Piece::word(Inst::Auipc { rd, imm: hi }),
                Piece::word(Inst::addi(rd, rd, lo)),
            ])
        }
    };
    Ok(Ok(pieces))
}

/// Does fragment `item` in `form` at offset `here` reach its target? True
/// exactly when [`expand`] gives instructions rather than `OutOfRange` (a
/// unit test holds the two together), without building them: the
/// relaxation loop asks this for every pending fragment in every round.
fn reaches(item: &Item, form: Form, here: usize, r: &Resolver) -> Result<bool, JitError> {
    // An even offset that fits a `bits`-bit signed field.
    let fits = |delta: i64, bits: u32| {
        let half = 1i64 << (bits - 1);
        delta & 1 == 0 && (-half..half).contains(&delta)
    };
    let delta = |to: Label| -> Result<i64, JitError> { Ok(r.label(to)? as i64 - here as i64) };
    Ok(match *item {
        Item::Branch { target, .. } => {
            let delta = delta(target)?;
            match form {
                // c.beqz/c.bnez: 9 bits (the other operands were checked
                // when the form was chosen).
                Form::Compressed => fits(delta, 9),
                Form::Short => fits(delta, 13),
                // The jal after the inverted branch.
                Form::Medium => fits(delta - 4, 21),
                Form::Long => true,
            }
        }
        Item::Jump { target } => match form {
            // c.j: 12 bits.
            Form::Compressed => fits(delta(target)?, 12),
            Form::Short => fits(delta(target)?, 21),
            Form::Medium | Form::Long => true,
        },
        Item::Call { target } => match form {
            Form::Compressed | Form::Short => fits(delta(target)?, 21),
            Form::Medium | Form::Long => true,
        },
        _ => true,
    })
}

/// `jal link, delta` (short) or `auipc s; jalr link, lo(s)` (far; the
/// scratch is t1 for calls and t3 otherwise).
fn far_jump(far: bool, link: Reg, delta: i64) -> Result<Result<Pieces, OutOfRange>, JitError> {
    if !far {
        return Ok(match JumpOffset::new(delta) {
            Some(offset) => Ok(Pieces::new(&[Piece::word(Inst::Jal { rd: link, offset })])),
            None => Err(OutOfRange),
        });
    }
    let scratch = if link == Reg::RA {
        Reg::T1
    } else {
        FAR_SCRATCH
    };
    let (hi, lo) = pc_rel(delta)?;
    Ok(Ok(Pieces::new(&[
        Piece::word(Inst::Auipc {
            rd: scratch,
            imm: hi,
        }),
        Piece::word(Inst::Jalr {
            rd: link,
            rs1: scratch,
            offset: lo,
        }),
    ])))
}

fn grow(form: Form) -> Form {
    match form {
        Form::Compressed => Form::Short,
        Form::Short => Form::Medium,
        _ => Form::Long,
    }
}

/// Fragment bytes before each fragment for the current sizes (`sizes[k]`
/// of each fragment in its form; `Align4` depends on its offset). Returns
/// the text length.
fn place(stream: &Stream, sizes: &[u8], growth: &mut Growth) -> usize {
    let g = &mut growth.0;
    g.clear();
    let mut total = 0u32;
    g.push(0);
    for (f, &size) in stream.frags.iter().zip(sizes) {
        total += match f.item {
            Item::Align4 => (4 - (f.at + total) % 4) % 4,
            _ => size as u32,
        };
        g.push(total);
    }
    stream.fixed.len() + total as usize
}

/// Items whose form can still grow (relaxable and not at their largest).
fn growable(item: &Item, form: Form) -> bool {
    match item {
        Item::Branch { .. } => form < Form::Long,
        Item::Jump { .. } | Item::Call { .. } => form < Form::Medium,
        _ => false,
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// The encoded text of a program: code (text, padding, zeroed pool), where
/// each label landed and which owner produced which bytes.
pub(crate) struct Encoded {
    pub code: Vec<u8>,
    pub text_len: usize,
    growth: Growth,
    pub spans: Vec<Span>,
}

impl Encoded {
    /// Offset of label `l` in `stream` (the stream this was laid out from).
    pub fn label(&self, stream: &Stream, l: Label) -> Result<usize, JitError> {
        stream
            .label(l)
            .map(|p| self.growth.offset(p))
            .ok_or_else(|| JitError::Internal(format!("label {l:?} never bound")))
    }
}

/// Relaxes the fragments of `stream` and emits the text, appending the pool
/// (constants filled in, relocated slots zero) at the next 8-byte boundary.
pub(crate) fn encode_stream(
    stream: &Stream,
    pool: &[PoolEntry],
    target: &Target,
) -> Result<Encoded, JitError> {
    if let Some(e) = &stream.error {
        return Err(e.clone());
    }
    let frags = &stream.frags;
    let mut forms: Vec<Form> = frags
        .iter()
        .map(|f| initial_form(&f.item, target))
        .collect();
    let mut sizes: Vec<u8> = frags
        .iter()
        .zip(&forms)
        .map(|(f, &form)| form_size(&f.item, form))
        .collect();
    // Only relaxable items can be out of range; one at its largest form
    // cannot grow (reach errors surface when it is encoded).
    let mut pending: Vec<u32> = (0..frags.len() as u32)
        .filter(|&k| growable(&frags[k as usize].item, forms[k as usize]))
        .collect();
    // Each relaxable item grows at most three times, and every round that
    // does not converge grows at least one item.
    let max_rounds = 3 * frags.len() + 2;
    let mut rounds = 0;
    let mut growth = Growth(Vec::with_capacity(frags.len() + 1));
    let text_len = loop {
        let text_len = place(stream, &sizes, &mut growth);
        let r = Resolver {
            stream,
            growth: &growth,
            pool_base: align8(text_len),
        };
        let mut changed = false;
        for &k in &pending {
            let k = k as usize;
            let f = &frags[k];
            let at = f.at as usize + growth.0[k] as usize;
            if !reaches(&f.item, forms[k], at, &r)? {
                forms[k] = grow(forms[k]);
                sizes[k] = form_size(&f.item, forms[k]);
                changed = true;
            }
        }
        if !changed {
            break text_len;
        }
        pending.retain(|&k| growable(&frags[k as usize].item, forms[k as usize]));
        rounds += 1;
        if rounds > max_rounds {
            return Err(JitError::Internal(
                "branch relaxation did not converge".into(),
            ));
        }
    };
    let pool_base = align8(text_len);
    let r = Resolver {
        stream,
        growth: &growth,
        pool_base,
    };
    let mut code = Vec::with_capacity(pool_base + 8 * pool.len());
    let mut copied = 0;
    for (k, f) in frags.iter().enumerate() {
        code.extend_from_slice(&stream.fixed[copied..f.at as usize]);
        copied = f.at as usize;
        emit_frag(f, forms[k], sizes[k], target, &r, &mut code)?;
    }
    code.extend_from_slice(&stream.fixed[copied..]);
    debug_assert_eq!(code.len(), text_len);
    let spans = spans(stream, &growth, text_len);
    // Pad to the pool with `nop`s so the text disassembles cleanly
    // (`c.nop` covers a 2-byte remainder on C targets).
    while code.len() < pool_base {
        if pool_base - code.len() >= 4 {
            code.extend_from_slice(&encode(&Inst::NOP).to_le_bytes());
        } else {
            code.extend_from_slice(&compress(&Inst::NOP).unwrap_or(0x0001).to_le_bytes());
        }
    }
    for entry in pool {
        let value = match *entry {
            PoolEntry::Const(v) => v,
            PoolEntry::Reloc(_) => 0,
        };
        code.extend_from_slice(&value.to_le_bytes());
    }
    Ok(Encoded {
        code,
        text_len,
        growth,
        spans,
    })
}

/// Appends fragment `f` in its final `form` (of `size` bytes, except
/// `Align4`) at the end of `code`.
fn emit_frag(
    f: &Frag,
    form: Form,
    size: u8,
    target: &Target,
    r: &Resolver,
    code: &mut Vec<u8>,
) -> Result<(), JitError> {
    let start = code.len();
    let pieces = expand(&f.item, form, start, target, r)?
        .map_err(|_| JitError::Internal("relaxed item out of range".into()))?;
    for p in pieces.iter() {
        if p.compressed {
            let half = compress(&p.inst)
                .ok_or_else(|| JitError::Internal(format!("{:?} has no RVC form", p.inst)))?;
            code.extend_from_slice(&half.to_le_bytes());
        } else {
            code.extend_from_slice(&encode(&p.inst).to_le_bytes());
        }
    }
    let expected = match f.item {
        Item::Align4 => (4 - start % 4) % 4,
        _ => size as usize,
    };
    if code.len() - start != expected {
        return Err(JitError::Internal(format!(
            "{:?}: size differs from its form",
            f.item
        )));
    }
    Ok(())
}

/// The code range of each owner run: from its start to the next run's.
fn spans(stream: &Stream, growth: &Growth, text_len: usize) -> Vec<Span> {
    let runs = &stream.owners;
    runs.iter()
        .enumerate()
        .map(|(i, run)| Span {
            owner: run.owner,
            start: growth.offset(run.start) as u32,
            end: runs
                .get(i + 1)
                .map_or(text_len, |next| growth.offset(next.start)) as u32,
        })
        .collect()
}

pub fn assemble(
    facts: &ProgramFacts,
    lowered: Lowered,
    opts: &JitOptions,
    bpf_insts: std::sync::Arc<[rvbpf_ebpf::inst::Inst]>,
) -> Result<Image, JitError> {
    let target = &opts.target;
    let stream = &lowered.stream;
    let enc = encode_stream(stream, &lowered.pool, target)?;
    let pool_base = align8(enc.text_len);
    let relocs = lowered
        .pool
        .iter()
        .enumerate()
        .filter_map(|(slot, entry)| match *entry {
            PoolEntry::Reloc(kind) => Some(Reloc {
                offset: pool_base + 8 * slot,
                kind,
            }),
            PoolEntry::Const(_) => None,
        })
        .collect();
    let functions = facts
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Ok(FunctionEntry {
                name: f.name.clone(),
                offset: enc.label(stream, Label::FuncStart(i))?,
                frame_size: lowered.frames[i].size as usize,
            })
        })
        .collect::<Result<Vec<_>, JitError>>()?;
    // Straight from the dense pc label table (one entry per pc).
    let pc_map = stream
        .labels
        .pcs()
        .enumerate()
        .map(|(pc, at)| {
            at.map(|p| enc.growth.offset(p))
                .ok_or_else(|| JitError::Internal(format!("label Pc({pc}) never bound")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if pc_map.len() != facts.insts.len() {
        return Err(JitError::Internal(
            "pc map does not cover the program".into(),
        ));
    }
    Ok(Image {
        code: enc.code,
        text_len: enc.text_len,
        functions,
        tail_call_entry_offset: TAIL_CALL_ENTRY_OFFSET,
        pc_map,
        relocs,
        pool: lowered.pool,
        target: *target,
        spans: crate::image::Spans::Runs(enc.spans),
        bpf_insts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::Owner;
    use rvbpf_rv64::{decode, BranchOp};

    fn stream(items: Vec<Item>, target: Target) -> Stream {
        let mut s = Stream::new(target, 2);
        s.extend(Owner::Insn(0), &items);
        s
    }

    /// Branch, jump and call over `gap` 4-byte nops; returns the decoded
    /// instructions before the gap.
    fn relax_over(gap: usize, target: Target) -> Vec<(Inst, usize)> {
        let far = Label::Pc(1);
        let mut items = vec![
            Item::Branch {
                op: BranchOp::Beq,
                rs1: Reg::A0,
                rs2: Reg::ZERO,
                target: far,
            },
            Item::Jump { target: far },
            Item::Call { target: far },
        ];
        items.extend(std::iter::repeat_n(Item::Wide(Inst::NOP), gap));
        items.push(Item::Bind(far));
        items.push(Item::Fixed(Inst::RET));
        let enc = encode_stream(&stream(items, target), &[], &target).unwrap();
        let mut out = Vec::new();
        let mut at = 0;
        while at < enc.code.len() && out.len() < 6 {
            let (inst, len) = decode(&enc.code[at..]).unwrap();
            if inst == Inst::NOP {
                break;
            }
            out.push((inst, len));
            at += len;
        }
        out
    }

    #[test]
    fn reaches_agrees_with_expand() {
        // One target label at offset 1 MiB; items placed around it so the
        // deltas straddle every form's limit.
        let mut s = Stream::new(Target::RV64GC, 0);
        s.fixed.resize(1 << 20, 0);
        s.push(Owner::Insn(0), Item::Bind(Label::Local(1)));
        let growth = Growth(vec![0]);
        let r = Resolver {
            stream: &s,
            growth: &growth,
            pool_base: 0,
        };
        let to = Label::Local(1);
        let items = [
            Item::Branch {
                op: BranchOp::Beq,
                rs1: Reg::A0,
                rs2: Reg::ZERO,
                target: to,
            },
            Item::Jump { target: to },
            Item::Call { target: to },
        ];
        let forms = [Form::Compressed, Form::Short, Form::Medium];
        let limits: [i64; 5] = [256, 2048, 4096, 1 << 20, (1 << 20) + 4];
        for item in &items {
            for &form in &forms {
                for limit in limits {
                    for d in [-limit - 2, -limit, -limit + 2, limit - 2, limit, limit + 2] {
                        let here = (1i64 << 20) - d;
                        if !(0..=(1 << 21)).contains(&here) {
                            continue;
                        }
                        let here = here as usize;
                        let by_expand = expand(item, form, here, &Target::RV64GC, &r)
                            .unwrap()
                            .is_ok();
                        let by_reaches = reaches(item, form, here, &r).unwrap();
                        assert_eq!(by_reaches, by_expand, "{item:?} {form:?} delta {d}");
                    }
                }
            }
        }
    }

    #[test]
    fn near_targets_use_the_shortest_forms() {
        let v = relax_over(10, Target::RV64GC);
        // c.beqz, c.j, jal ra
        assert_eq!(v.iter().map(|p| p.1).collect::<Vec<_>>(), [2, 2, 4]);
        let v = relax_over(10, Target::RV64G);
        assert_eq!(v.iter().map(|p| p.1).collect::<Vec<_>>(), [4, 4, 4]);
    }

    #[test]
    fn branches_beyond_4k_become_inverted_branch_over_jal() {
        // 2000 nops = 8000 bytes: out of B-type range, inside jal range.
        let v = relax_over(2000, Target::RV64GC);
        assert!(
            matches!(v[0].0, Inst::Branch { op: BranchOp::Bne, offset, .. } if offset.value() == 8)
        );
        assert!(matches!(v[1].0, Inst::Jal { rd, .. } if rd == Reg::ZERO));
        // The unconditional jump: c.j reaches ±2 KiB only, so a 4-byte jal.
        assert!(matches!(v[2].0, Inst::Jal { rd, .. } if rd == Reg::ZERO) && v[2].1 == 4);
        assert!(matches!(v[3].0, Inst::Jal { rd, .. } if rd == Reg::RA));
    }

    #[test]
    fn targets_beyond_1m_use_auipc_jalr() {
        // 300_000 nops = 1.2 MB: beyond jal's ±1 MiB.
        let v = relax_over(300_000, Target::RV64G);
        let kinds: Vec<String> = v.iter().map(|(i, _)| i.display(0).to_string()).collect();
        assert!(
            matches!(v[0].0, Inst::Branch { op: BranchOp::Bne, offset, .. } if offset.value() == 12),
            "{kinds:?}"
        );
        assert!(
            matches!(v[1].0, Inst::Auipc { rd, .. } if rd == Reg::T3),
            "{kinds:?}"
        );
        assert!(matches!(v[2].0, Inst::Jalr { rd, rs1, .. } if rd == Reg::ZERO && rs1 == Reg::T3));
        assert!(matches!(v[3].0, Inst::Auipc { rd, .. } if rd == Reg::T3));
        assert!(matches!(v[5].0, Inst::Auipc { rd, .. } if rd == Reg::T1));
    }
}
