//! Layout: choose each relaxable item's form with a bounded relaxation loop
//! (forms only grow), then encode everything once.
//!
//! | item     | forms (bytes)                                                        |
//! |----------|----------------------------------------------------------------------|
//! | Branch   | `c.beqz/c.bnez` (2) → `b<op>` (4) → `b<!op> +8; jal` (8) → `b<!op> +12; auipc t3; jalr` (12) |
//! | Jump     | `c.j` (2) → `jal zero` (4) → `auipc t3; jalr zero` (8)              |
//! | Call     | `jal ra` (4) → `auipc t1; jalr ra` (8)                               |
//! | PoolLoad | `auipc rd; ld rd` (8)                                                |
//! | AddrOf   | `auipc rd; addi rd` (8)                                              |
//!
//! [`expand`] is the single source of truth for what an item becomes: the
//! relaxation loop asks it whether the current form reaches, the emitter
//! encodes exactly what it returns.

use crate::facts::ProgramFacts;
use crate::image::{FunctionEntry, Image, PoolEntry, Reloc, Span};
use crate::items::{Item, Label, Tagged};
use crate::label_map::LabelMap;
use crate::lower::Lowered;
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
    fn len(&self) -> usize {
        if self.compressed {
            2
        } else {
            4
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

/// Where things are, for resolving labels during one layout iteration.
struct Resolver<'a> {
    labels: &'a LabelMap,
    pool_base: usize,
}

impl Resolver<'_> {
    fn label(&self, l: Label) -> Result<usize, JitError> {
        self.labels
            .get(l)
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

fn fixed_piece(inst: Inst, target: &Target) -> Result<Piece, JitError> {
    let enc = target
        .encode(&inst)
        .map_err(|e| JitError::Internal(e.to_string()))?;
    Ok(Piece {
        inst,
        compressed: enc.is_compressed(),
    })
}

/// Size of `item` in `form` at offset `at` (what layout assumes before
/// expanding).
fn form_size(item: &Item, form: Form, target: &Target, at: usize) -> Result<usize, JitError> {
    Ok(match *item {
        Item::Align4 => (4 - at % 4) % 4,
        Item::Fixed(i) => fixed_piece(i, target)?.len(),
        Item::Wide(_) => 4,
        Item::Bind(_) => 0,
        Item::Branch { .. } => [2, 4, 8, 12][form as usize],
        Item::Jump { .. } => [2, 4, 8, 8][form as usize],
        Item::Call { .. } => [4, 4, 8, 8][form as usize],
        Item::PoolLoad { .. } | Item::AddrOf { .. } => 8,
    })
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
        Item::Fixed(i) => Pieces::new(&[fixed_piece(i, target)?]),
        Item::Wide(i) => Pieces::new(&[Piece::word(i)]),
        Item::Bind(_) => Pieces::new(&[]),
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

/// Offsets of every item and every label for the current sizes
/// (`sizes[i]` of each item in its form; `Align4` depends on its offset).
fn place(
    items: &[Tagged],
    sizes: &[u8],
    labels: &mut LabelMap,
    offsets: &mut Vec<usize>,
) -> Result<usize, JitError> {
    offsets.clear();
    let mut at = 0;
    for (t, &size) in items.iter().zip(sizes) {
        offsets.push(at);
        at += match t.item {
            Item::Bind(l) => {
                if !labels.insert(l, at) {
                    return Err(JitError::Internal(format!("label {l:?} bound twice")));
                }
                0
            }
            Item::Align4 => (4 - at % 4) % 4,
            _ => size as usize,
        };
    }
    Ok(at)
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
    pub labels: LabelMap,
    pub spans: Vec<Span>,
}

/// Relaxes and encodes `items`, appending the pool (constants filled in,
/// relocated slots zero) at the next 8-byte boundary.
pub(crate) fn encode_items(
    items: &[Tagged],
    pool: &[PoolEntry],
    target: &Target,
) -> Result<Encoded, JitError> {
    let pool_slots = pool.len();
    let mut forms: Vec<Form> = items
        .iter()
        .map(|t| initial_form(&t.item, target))
        .collect();
    // Fixed items are encoded once, here; the emitter copies the bytes.
    let mut fixed_bytes = Vec::with_capacity(items.len());
    let mut sizes = Vec::with_capacity(items.len());
    for (t, &form) in items.iter().zip(&forms) {
        let (size, bytes) = match t.item {
            Item::Fixed(i) => {
                let enc = target
                    .encode(&i)
                    .map_err(|e| JitError::Internal(e.to_string()))?;
                (enc.len(), enc)
            }
            _ => (
                form_size(&t.item, form, target, 0)?,
                rvbpf_rv64::Encoded::word(0),
            ),
        };
        sizes.push(size as u8);
        fixed_bytes.push(bytes);
    }
    // Only relaxable items can be out of range; one at its largest form
    // cannot grow (reach errors surface when it is encoded).
    let mut pending: Vec<usize> = (0..items.len())
        .filter(|&i| growable(&items[i].item, forms[i]))
        .collect();
    // Each relaxable item grows at most three times, and every round that
    // does not converge grows at least one item.
    let max_rounds = 3 * items.len() + 2;
    let mut rounds = 0;
    let mut offsets = Vec::with_capacity(items.len());
    let mut labels = LabelMap::with_pcs(items.len());
    let text_len = loop {
        labels.unbind_all();
        let text_len = place(items, &sizes, &mut labels, &mut offsets)?;
        let r = Resolver {
            labels: &labels,
            pool_base: align8(text_len),
        };
        let mut changed = false;
        for &i in &pending {
            let item = &items[i].item;
            if expand(item, forms[i], offsets[i], target, &r)?.is_err() {
                forms[i] = grow(forms[i]);
                sizes[i] = form_size(item, forms[i], target, 0)? as u8;
                changed = true;
            }
        }
        if !changed {
            break text_len;
        }
        pending.retain(|&i| growable(&items[i].item, forms[i]));
        rounds += 1;
        if rounds > max_rounds {
            return Err(JitError::Internal(
                "branch relaxation did not converge".into(),
            ));
        }
    };
    let pool_base = align8(text_len);
    let r = Resolver {
        labels: &labels,
        pool_base,
    };
    let mut code = Vec::with_capacity(pool_base + 8 * pool_slots);
    let mut spans: Vec<Span> = Vec::new();
    for (i, t) in items.iter().enumerate() {
        debug_assert_eq!(code.len(), offsets[i]);
        let start = code.len();
        let pieces = match t.item {
            Item::Fixed(_) => {
                code.extend_from_slice(fixed_bytes[i].bytes());
                Pieces::new(&[])
            }
            // A label emits nothing.
            Item::Bind(_) => Pieces::new(&[]),
            _ => expand(&t.item, forms[i], offsets[i], target, &r)?
                .map_err(|_| JitError::Internal("relaxed item out of range".into()))?,
        };
        for p in pieces.iter() {
            if p.compressed {
                let half = compress(&p.inst)
                    .ok_or_else(|| JitError::Internal(format!("{:?} has no RVC form", p.inst)))?;
                code.extend_from_slice(&half.to_le_bytes());
            } else {
                code.extend_from_slice(&encode(&p.inst).to_le_bytes());
            }
        }
        let expected = match t.item {
            Item::Align4 => (4 - start % 4) % 4,
            _ => sizes[i] as usize,
        };
        if code.len() - start != expected {
            return Err(JitError::Internal(format!(
                "{:?}: size differs from its form",
                t.item
            )));
        }
        match spans.last_mut() {
            Some(s) if s.owner == t.owner => s.end = code.len(),
            _ => spans.push(Span {
                owner: t.owner,
                start,
                end: code.len(),
            }),
        }
    }
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
        labels,
        spans,
    })
}

pub fn assemble(
    facts: &ProgramFacts,
    lowered: Lowered,
    opts: &JitOptions,
) -> Result<Image, JitError> {
    let target = &opts.target;
    let enc = encode_items(&lowered.items, &lowered.pool, target)?;
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
    let label_at = |l: Label| {
        enc.labels
            .get(l)
            .ok_or_else(|| JitError::Internal(format!("label {l:?} never bound")))
    };
    let functions = facts
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Ok(FunctionEntry {
                name: f.name.clone(),
                offset: label_at(Label::FuncStart(i))?,
                frame_size: lowered.frames[i].size as usize,
            })
        })
        .collect::<Result<Vec<_>, JitError>>()?;
    let pc_map = (0..facts.insts.len())
        .map(|pc| label_at(Label::Pc(pc)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Image {
        code: enc.code,
        text_len: enc.text_len,
        functions,
        tail_call_entry_offset: TAIL_CALL_ENTRY_OFFSET,
        pc_map,
        relocs,
        pool: lowered.pool,
        target: *target,
        spans: enc.spans,
        bpf_insts: facts.insts.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::Owner;
    use rvbpf_rv64::{decode, BranchOp};

    fn tagged(items: Vec<Item>) -> Vec<Tagged> {
        items
            .into_iter()
            .map(|item| Tagged {
                owner: Owner::Insn(0),
                item,
            })
            .collect()
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
        let enc = encode_items(&tagged(items), &[], &target).unwrap();
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
