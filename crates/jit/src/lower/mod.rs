//! Per-BPF-instruction lowering into [`Item`]s. Laid out in the
//! interpreter's op-class order: alu ([`alu`]), memory ([`mem`]), jumps
//! ([`jump`]), calls ([`call`]).
//!
//! A few rewrites span instructions, each justified by an analysis done
//! before lowering: a `mov` absorbed by the next ALU op ([`fuse`]), an
//! `lsh` absorbed by a later add as Zba `shNadd` ([`shadd`], needs
//! [`live`]), a `ja` past a mov its path already did
//! ([`jump::ja_target`]), and a conditional jump threaded through a repeat
//! of its own test ([`thread`]).

mod alu;
mod call;
mod cfg;
mod consts;
mod effects;
mod fuse;
mod hash;
mod jump;
mod known;
mod live;
mod mem;
mod packet;
mod shadd;
mod thread;

pub(crate) use call::widening_insts;

use crate::facts::ProgramFacts;
use crate::frame::FrameLayout;
use crate::image::{PoolEntry, RelocKind};
use crate::items::{Item, Label, Owner, Tagged};
use crate::regmap::{bpf_reg, T1};
use crate::stream::Stream;
use crate::{JitError, JitOptions, TccScheme};
use rvbpf_ebpf::inst::{AluOp as BpfAlu, Inst as Bpf, LddwKind};
use rvbpf_rv64::li::LoadImm;
use rvbpf_rv64::{AluOp, Imm12, Inst, Reg, Shamt, ShiftOp};

/// Longest inline constant sequence; longer ones (most 64-bit constants)
/// come from the literal pool in two instructions.
pub const MAX_INLINE_CONSTANT: usize = 2;

/// A lowered program: the code stream plus the literal pool's relocations.
pub(crate) struct Lowered {
    pub stream: Stream,
    /// Each 8-byte pool slot, by slot number.
    pub pool: Vec<PoolEntry>,
    pub frames: Vec<FrameLayout>,
}

/// State shared by all lowerings of one program.
struct Program<'a> {
    facts: &'a ProgramFacts<'a>,
    opts: &'a JitOptions,
    pool: Vec<PoolEntry>,
    /// Slot of each entry in `pool` (entries are shared).
    pool_slots: hash::IntMap<PoolEntry, usize>,
    next_local: u32,
}

impl Program<'_> {
    fn pool_entry(&mut self, entry: PoolEntry) -> usize {
        let next = self.pool.len();
        let slot = *self.pool_slots.entry(entry).or_insert(next);
        if slot == next {
            self.pool.push(entry);
        }
        slot
    }

    /// `rd = value`, inline or from the pool (see [`Cx::li`]): the inline
    /// sequence, or the pool slot to load from.
    fn li(&mut self, rd: Reg, value: i64) -> Result<LoadImm, usize> {
        let inline = LoadImm::new(rd, value);
        if inline.len() <= MAX_INLINE_CONSTANT {
            Ok(inline)
        } else {
            Err(self.pool_entry(PoolEntry::Const(value as u64)))
        }
    }

    /// Appends `rd = value` to `out` (see [`Program::li`]).
    fn li_into(&mut self, rd: Reg, value: i64, out: &mut Vec<Item>) {
        match self.li(rd, value) {
            Ok(inline) => out.extend(inline.iter().map(|&i| Item::Fixed(i))),
            Err(slot) => out.push(Item::PoolLoad { rd, slot }),
        }
    }
}

/// The lowering context of one BPF instruction. One `Cx` serves a whole
/// function: the per-instruction fields are reset for each pc.
pub(crate) struct Cx<'p, 'a> {
    prog: &'p mut Program<'a>,
    /// Where the items go, owned by `Insn(pc)`, unless `buffered`.
    stream: &'p mut Stream,
    /// Items go to `out` instead: code that is dropped or moved out of line
    /// (see [`thread`]).
    buffered: bool,
    pub func: usize,
    pub frame: &'p FrameLayout,
    pub pc: usize,
    /// The items of the last buffered instruction.
    pub out: Vec<Item>,
    /// Per pc of the function: ALU32 zero-extension not needed.
    dead_zext: &'p [bool],
    /// Constants kept in registers for the whole function.
    constants: &'p [(Reg, i64)],
    /// Upper-half facts of every BPF register before this instruction
    /// (see [`known`]).
    pub known: known::KnownRegs,
    /// Set when the previous `mov dst, src` was fused into this
    /// instruction: the register holding its first operand (see [`fuse`]).
    pub fused_first: Option<Reg>,
    /// Set on the add that performs a preceding `lsh` (see [`shadd`]): the
    /// register to shift and the amount.
    pub fused_shift: Option<(Reg, u8)>,
    /// Where a conditional jump goes instead of its BPF target (see
    /// [`thread`]).
    pub branch_to: Option<Label>,
}

impl<'a> Cx<'_, 'a> {
    /// The program's facts, borrowed for as long as the program (not just
    /// this context), so a caller may keep a slice of them while emitting.
    pub fn facts(&self) -> &'a ProgramFacts<'a> {
        self.prog.facts
    }
    pub fn scheme(&self) -> TccScheme {
        self.prog.opts.tcc
    }
    pub fn zba(&self) -> bool {
        self.prog.opts.target.zba
    }
    pub fn zbb(&self) -> bool {
        self.prog.opts.target.zbb
    }
    /// Appends `inst`. Inlined down to the encoder: at each call site the
    /// instruction's kind is then known and its encoding needs no dispatch.
    #[inline(always)]
    pub fn push(&mut self, inst: Inst) {
        if self.buffered {
            self.out.push(Item::Fixed(inst));
        } else {
            self.stream.push_inst(Owner::Insn(self.pc as u32), inst);
        }
    }
    /// Appends `item` (inlined like [`Cx::push`]).
    #[inline(always)]
    pub fn item(&mut self, item: Item) {
        if self.buffered {
            self.out.push(item);
        } else {
            self.stream.push(Owner::Insn(self.pc as u32), item);
        }
    }
    /// Is this ALU32 instruction's zero-extension dead (see [`live`])?
    pub fn zext_is_dead(&self) -> bool {
        self.dead_zext[self.pc - self.facts().functions[self.func].start]
    }
    pub fn new_label(&mut self) -> Label {
        self.prog.next_local += 1;
        Label::Local(self.prog.next_local)
    }
    /// Pool slot for relocation `kind` (one slot per distinct kind).
    pub fn pool_slot(&mut self, kind: RelocKind) -> usize {
        self.prog.pool_entry(PoolEntry::Reloc(kind))
    }
    pub fn invalid(&self, why: impl Into<String>) -> JitError {
        JitError::InvalidInput {
            pc: self.pc,
            why: why.into(),
        }
    }
    /// `rd = value`: a copy of a hoisted constant register, inline code
    /// when that takes at most [`MAX_INLINE_CONSTANT`] instructions, else a
    /// load from a pool slot (`auipc; ld`).
    pub fn li(&mut self, rd: Reg, value: i64) {
        if let Some(r) = self.constant(value) {
            self.mv(rd, r);
            return;
        }
        if let Some(imm) = Imm12::new(value) {
            // Most immediates: the one `addi rd, zero, imm` that `LoadImm`
            // would build, without building it.
            self.push(Inst::addi(rd, Reg::ZERO, imm));
            return;
        }
        match self.prog.li(rd, value) {
            Ok(inline) => inline.iter().for_each(|&i| self.push(i)),
            Err(slot) => self.item(Item::PoolLoad { rd, slot }),
        }
    }
    /// The register holding `value` for this function, if it was hoisted.
    pub fn constant(&self, value: i64) -> Option<Reg> {
        self.constants
            .iter()
            .find(|(_, v)| *v == value)
            .map(|&(r, _)| r)
    }
    /// A register holding `value` for use as an operand: the hoisted
    /// constant's register, or t1 after building it there.
    pub fn operand_imm(&mut self, value: i64) -> Reg {
        if let Some(r) = self.constant(value) {
            return r;
        }
        self.li(T1, value);
        T1
    }
    /// `rd = (u32)rs`: `add.uw` (`zext.w`) with Zba, else a shift pair.
    pub fn zext32(&mut self, rd: Reg, rs: Reg) {
        if self.zba() {
            self.push(Inst::alu(AluOp::AddUw, rd, rs, Reg::ZERO));
        } else {
            self.shift(ShiftOp::Slli, rd, rs, 32);
            self.shift(ShiftOp::Srli, rd, rd, 32);
        }
    }
    /// `rd = (s32)rs` (`sext.w`).
    pub fn sext32(&mut self, rd: Reg, rs: Reg) {
        self.push(Inst::AluImm {
            op: rvbpf_rv64::AluImmOp::Addiw,
            rd,
            rs1: rs,
            imm: Imm12::ZERO,
        });
    }
    pub fn shift(&mut self, op: ShiftOp, rd: Reg, rs1: Reg, amount: u32) {
        let shamt = Shamt::new(amount & 63).expect("masked to 6 bits");
        self.push(Inst::Shift { op, rd, rs1, shamt });
    }
    pub fn mv(&mut self, rd: Reg, rs: Reg) {
        if rd != rs {
            self.push(Inst::mv(rd, rs));
        }
    }
}

/// Lowers every function: header, prologue, body, epilogue.
pub(crate) fn lower_program(facts: &ProgramFacts, opts: &JitOptions) -> Result<Lowered, JitError> {
    check_functions(facts)?;
    let program_has_tail_calls = facts.functions.iter().any(|f| f.has_tail_call);
    // One scan of each function feeds every analysis below.
    let cfgs: Vec<cfg::Cfg> = facts
        .functions
        .iter()
        .map(|f| cfg::Cfg::new(facts.insts, f.start, f.end))
        .collect();
    let constants: Vec<Vec<(Reg, i64)>> = cfgs
        .iter()
        .map(|cfg| {
            consts::hoisted_constants(cfg)
                .into_iter()
                .zip(consts::CONSTANT_REGS)
                .map(|(v, r)| (r, v))
                .collect()
        })
        .collect();
    let frames = facts
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| {
            FrameLayout::plan(
                f,
                i,
                facts.calls_out(i),
                &constants[i].iter().map(|c| c.0).collect::<Vec<_>>(),
                opts.tcc,
                program_has_tail_calls,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut prog = Program {
        facts,
        opts,
        pool: Vec::new(),
        pool_slots: hash::IntMap::default(),
        next_local: 0,
    };
    let mut stream = Stream::new(opts.target, facts.insts.len());
    let address_taken = address_taken(facts);
    for (i, f) in facts.functions.iter().enumerate() {
        let frame = &frames[i];
        let tag = |owner, list: Vec<Item>, stream: &mut Stream| stream.extend(owner, &list);
        let stub = |owner, list: Vec<Item>, stubs: &mut Vec<Tagged>| {
            stubs.extend(list.into_iter().map(|item| Tagged { owner, item }))
        };
        tag(Owner::Header(i as u32), header(i, opts.tcc), &mut stream);
        prog.next_local += 1;
        let skip = Label::Local(prog.next_local);
        let mut prologue = frame.prologue(skip);
        prologue.extend(mem::frame_pointer_mask(frame, opts));
        for &(r, v) in &constants[i] {
            prog.li_into(r, v, &mut prologue);
        }
        tag(Owner::Prologue(i as u32), prologue, &mut stream);
        let cfg = &cfgs[i];
        let live::Liveness {
            live_out,
            dead_zext,
        } = live::analyze(cfg);
        let known_in = known::analyze(cfg, &dead_zext);
        let threads = thread::threaded_jumps(facts.insts, cfg);
        let body = Body {
            known_in: &known_in,
            cfg,
            live_out: &live_out,
        };
        // Per-pc roles (indexed from `f.start`), looked up in O(1).
        let mut dead_inline = vec![false; f.end - f.start];
        let mut is_repeat = vec![false; f.end - f.start];
        for th in &threads {
            for p in thread::dead_inline(facts.insts, th, cfg, &live_out) {
                dead_inline[p - f.start] = true;
            }
            is_repeat[th.repeat - f.start] = true;
        }
        let mut state = Carried::default();
        let mut stubs = Vec::new();
        let mut cx = Cx {
            prog: &mut prog,
            stream: &mut stream,
            buffered: false,
            func: i,
            frame,
            pc: f.start,
            out: Vec::with_capacity(32),
            dead_zext: &dead_zext,
            constants: &constants[i],
            known: known::KnownRegs::NONE,
            fused_first: None,
            fused_shift: None,
            branch_to: None,
        };
        // Threads come in pc order and never overlap: the next one to
        // start is all that needs looking at.
        let mut next_thread = 0;
        for pc in f.start..f.end {
            let thread_here = threads.get(next_thread).filter(|th| th.first == pc);
            next_thread += thread_here.is_some() as usize;
            if dead_inline[pc - f.start] {
                // Keeps the fusion state in step, drops the code.
                cx.buffered = true;
                body.lower_pc(&mut cx, &mut state, pc, None)?;
                cx.buffered = false;
                cx.stream
                    .push(Owner::Insn(pc as u32), Item::Bind(Label::Pc(pc)));
                continue;
            }
            if is_repeat[pc - f.start] {
                // Reached inline only when the first test failed: falls
                // through (see `thread`).
                cx.stream
                    .push(Owner::Insn(pc as u32), Item::Bind(Label::Pc(pc)));
                continue;
            }
            let Some(th) = thread_here else {
                body.lower_pc(&mut cx, &mut state, pc, None)?;
                continue;
            };
            // The first test branches to an out-of-line copy of the shared
            // code that ends with the repeated test's jump.
            let stub_label = cx.new_label();
            body.lower_pc(&mut cx, &mut state, pc, Some(stub_label))?;
            stub(
                Owner::Insn(pc as u32),
                vec![Item::Bind(stub_label)],
                &mut stubs,
            );
            let mut copy_state = Carried::default();
            cx.buffered = true;
            for p in th.shared..th.repeat {
                body.lower_pc(&mut cx, &mut copy_state, p, None)?;
                // Its label belongs to the inline copy.
                let owner = Owner::Insn(p as u32);
                stubs.extend(
                    cx.out
                        .iter()
                        .filter(|item| **item != Item::Bind(Label::Pc(p)))
                        .map(|&item| Tagged { owner, item }),
                );
            }
            cx.buffered = false;
            let Bpf::Jump { off, .. } = facts.insts[th.repeat] else {
                unreachable!("threaded_jumps ends at a jump")
            };
            let target = Label::Pc((th.repeat as i64 + 1 + off as i64) as usize);
            stub(
                Owner::Insn(th.repeat as u32),
                vec![Item::Jump { target }],
                &mut stubs,
            );
        }
        let mut epi = vec![Item::Bind(Label::Epilogue(i))];
        epi.extend(frame.epilogue());
        if !returns_in_a0(&address_taken, i) {
            // Only bpf2bpf callers (which read a5) and trampolines (which
            // also read a5) return here.
            let copy = Item::Fixed(Inst::mv(Reg::A0, Reg::A5));
            if let Some(at) = epi.iter().rposition(|item| *item == copy) {
                epi.remove(at);
            }
        }
        stream.extend(Owner::Epilogue(i as u32), &epi);
        // After the epilogue's `ret`: reached only by their branches.
        for t in stubs {
            stream.push(t.owner, t.item);
        }
        if i + 1 < facts.functions.len() {
            stream.push(Owner::Epilogue(i as u32), Item::Align4);
        }
    }
    Ok(Lowered {
        stream,
        pool: prog.pool,
        frames,
    })
}

/// The analyses of one function that lowering its instructions reads
/// besides [`Cx`].
struct Body<'b> {
    known_in: &'b [known::KnownRegs],
    cfg: &'b cfg::Cfg,
    /// Registers live after each pc (see [`live`]).
    live_out: &'b [u16],
}

/// Fusion state carried from one instruction to the next.
#[derive(Default)]
struct Carried {
    /// See [`Cx::fused_first`].
    fused_first: Option<Reg>,
    /// A shift some later add performs, with the register to shift.
    pending_shift: Option<(shadd::PendingShift, Reg)>,
}

impl Body<'_> {
    /// Lowers BPF instruction `pc` (its label first) into the stream, or
    /// into `cx.out` (cleared first) when buffered; a conditional jump goes
    /// to `branch_to` when given.
    fn lower_pc(
        &self,
        cx: &mut Cx,
        state: &mut Carried,
        pc: usize,
        branch_to: Option<Label>,
    ) -> Result<(), JitError> {
        let insts = cx.prog.facts.insts;
        cx.fused_shift = match state.pending_shift {
            Some((p, reg)) if p.add_pc == pc => {
                state.pending_shift = None;
                Some((reg, p.amount))
            }
            _ => None,
        };
        cx.out.clear();
        cx.pc = pc;
        if cx.buffered {
            cx.out.push(Item::Bind(Label::Pc(pc)));
        } else {
            cx.stream.bind_pc(pc);
        }
        cx.known = self.known_in[pc - self.cfg.start];
        cx.fused_first = state.fused_first.take();
        cx.branch_to = branch_to;
        // One look at the instruction's kind: only ALU operations fuse, and
        // they are lowered directly (each extra `match` on the kind costs a
        // mispredicted branch on mixed code).
        let Bpf::Alu { is64, op, dst, src } = insts[pc] else {
            return lower_inst(cx, &insts[pc]);
        };
        if op == BpfAlu::Lsh && cx.zba() {
            if let Some(shift) = shadd::fused_shift(insts, pc, self.cfg, self.live_out) {
                // The add at `shift.add_pc` shifts the lsh's first operand.
                let reg = cx.fused_first.take().unwrap_or(bpf_reg(dst));
                state.pending_shift = Some((shift, reg));
                return Ok(());
            }
        }
        if op == BpfAlu::Mov {
            if let Some(src) = fuse::fused_mov_source(insts, pc, self.cfg) {
                // The next instruction does this mov's work.
                state.fused_first = Some(bpf_reg(src));
                return Ok(());
            }
        }
        alu::lower_alu(cx, is64, op, dst, src)
    }
}

/// Must function `func` also return R0 in a0 (native calling convention)?
/// The entry function must: the runtime and tail-call chains enter it
/// natively. So must any function whose address is taken (`lddw` of a
/// function: callbacks run by helpers, `callx`). A function reached only
/// by `call local` returns to BPF code, which reads R0 from a5.
fn returns_in_a0(address_taken: &[bool], func: usize) -> bool {
    func == 0 || address_taken[func]
}

/// `taken[f]`: some `lddw` loads the address of function `f`. The
/// verifier lists them per function (`FunctionFacts::callbacks`), so no
/// instruction is looked at again. (A `lddw` of any other pc does not
/// compile: see `lower_lddw`.)
fn address_taken(facts: &ProgramFacts) -> Vec<bool> {
    let mut taken = vec![false; facts.functions.len()];
    for &f in facts.functions.iter().flat_map(|f| &f.callbacks) {
        if let Some(slot) = taken.get_mut(f) {
            *slot = true;
        }
    }
    taken
}

/// The fixed 12-byte header: patch-site nops and the 4-byte tcc init.
fn header(func: usize, scheme: TccScheme) -> Vec<Item> {
    let init = match scheme {
        TccScheme::Reg | TccScheme::Stack => crate::regmap::MAX_TAIL_CALL_CNT as i64,
        // 0 = "no counter yet": the entry prologue creates it.
        TccScheme::Ptr => 0,
    };
    let init = Imm12::new(init).expect("small constant");
    vec![
        Item::Bind(Label::FuncStart(func)),
        Item::Wide(Inst::NOP),
        Item::Wide(Inst::NOP),
        Item::Wide(Inst::addi(crate::regmap::TCC, Reg::ZERO, init)),
        Item::Bind(Label::FuncTcEntry(func)),
    ]
}

/// Functions must tile the program and be sorted, entry first at pc 0.
fn check_functions(facts: &ProgramFacts) -> Result<(), JitError> {
    let mut expect = 0;
    for f in facts.functions {
        if f.start != expect || f.end <= f.start || f.end > facts.insts.len() {
            return Err(JitError::InvalidInput {
                pc: f.start,
                why: format!("function `{}` does not tile the program", f.name),
            });
        }
        expect = f.end;
    }
    if expect != facts.insts.len() || facts.functions.is_empty() {
        return Err(JitError::InvalidInput {
            pc: expect,
            why: "functions do not cover the program".into(),
        });
    }
    Ok(())
}

fn lower_inst(cx: &mut Cx, inst: &Bpf) -> Result<(), JitError> {
    match *inst {
        Bpf::Alu { is64, op, dst, src } => alu::lower_alu(cx, is64, op, dst, src),
        Bpf::Endian { op, dst, bits } => {
            alu::lower_endian(cx, op, dst, bits);
            Ok(())
        }
        Bpf::Lddw { dst, kind } => lower_lddw(cx, bpf_reg(dst), kind),
        Bpf::LddwHigh => Ok(()),
        Bpf::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            mem::lower_load(cx, size, signed, dst, src, off);
            Ok(())
        }
        Bpf::Store {
            size,
            dst,
            off,
            src,
        } => {
            mem::lower_store(cx, size, dst, off, src);
            Ok(())
        }
        Bpf::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => mem::lower_atomic(cx, size, op, fetch, dst, src, off),
        Bpf::Ja { off, .. } => {
            let target = jump::ja_target(cx, off as i64)?;
            cx.item(Item::Jump { target });
            Ok(())
        }
        Bpf::Jump {
            is32,
            cond,
            dst,
            src,
            off,
        } => jump::lower_cond(cx, is32, cond, dst, src, off),
        Bpf::Call(target) => call::lower_call(cx, target),
        Bpf::Exit => {
            // The epilogue follows the function's last instruction.
            if cx.pc + 1 != cx.facts().functions[cx.func].end {
                let target = Label::Epilogue(cx.func);
                cx.item(Item::Jump { target });
            }
            Ok(())
        }
        Bpf::Callx { reg } => {
            call::lower_callx(cx, reg);
            Ok(())
        }
        Bpf::LoadPacket { size, index, imm } => packet::lower_load_packet(cx, size, index, imm),
    }
}

fn lower_lddw(cx: &mut Cx, rd: Reg, kind: LddwKind) -> Result<(), JitError> {
    let reloc = match kind {
        LddwKind::Imm(v) => {
            cx.li(rd, v as i64);
            return Ok(());
        }
        LddwKind::Func { offset } => {
            let pc = cx.pc as i64 + 1 + offset as i64;
            let f = usize::try_from(pc)
                .ok()
                .and_then(|pc| cx.facts().function_starting_at(pc))
                .ok_or_else(|| cx.invalid(format!("lddw func target {pc} is not a function")))?;
            cx.item(Item::AddrOf {
                rd,
                target: Label::FuncStart(f),
            });
            return Ok(());
        }
        LddwKind::Map { map } => {
            let kind = cx.facts().map_kinds.get(map as usize).copied();
            match kind {
                Some(rvbpf_ebpf::object::MapKind::ProgArray) => RelocKind::ProgArray(map),
                Some(_) => RelocKind::MapHandle(map),
                None => return Err(cx.invalid(format!("map {map} does not exist"))),
            }
        }
        LddwKind::MapValue { map, offset } => RelocKind::MapValue { map, offset },
    };
    let slot = cx.pool_slot(reloc);
    cx.item(Item::PoolLoad { rd, slot });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::Owner;
    use crate::layout::encode_stream;
    use crate::{PATCH_SITE_SIZE, TAIL_CALL_ENTRY_OFFSET};
    use rvbpf_rv64::{decode, Target};

    #[test]
    fn header_is_12_bytes_on_every_target_with_a_4_byte_tcc_init() {
        for target in [Target::RV64G, Target::RV64GC, Target::RV64GC_ZBA_ZBB] {
            for (scheme, init) in [
                (TccScheme::Reg, 33),
                (TccScheme::Stack, 33),
                (TccScheme::Ptr, 0),
            ] {
                let mut stream = Stream::new(target, 0);
                stream.extend(Owner::Header(0), &header(0, scheme));
                let enc = encode_stream(&stream, &[], &target).unwrap();
                assert_eq!(enc.text_len, TAIL_CALL_ENTRY_OFFSET);
                assert_eq!(enc.label(&stream, Label::FuncTcEntry(0)).unwrap(), 12);
                // Two 4-byte nops form the patch site.
                for at in [0, 4] {
                    assert_eq!(decode(&enc.code[at..]).unwrap(), (Inst::NOP, 4));
                }
                assert_eq!(PATCH_SITE_SIZE, 8);
                let expect = Inst::addi(Reg::A6, Reg::ZERO, Imm12::new(init).unwrap());
                assert_eq!(decode(&enc.code[8..]).unwrap(), (expect, 4));
            }
        }
    }
}
