//! solana-sbpf's interpreter (`ExecutionMode::Interpreted`), configured as
//! close to plain eBPF as it gets: SBPF **v3**, no syscalls registered.
//!
//! Why v3: it is the first version whose bpf2bpf calls are eBPF's
//! `call local` (src = 1, pc-relative imm; v0..v2 look the imm up as a
//! function hash) and that has jmp32; unlike v2 it keeps eBPF's memory
//! instruction classes, `lddw`, `le`, `neg` and operand order of `sub`.
//! What still differs from eBPF (32-bit ALU results are sign-extended,
//! division by zero faults) is listed in `programs.rs` and avoided there.
//!
//! Instruction metering and address translation stay on (the production
//! setting, and what rvbpf's budget and bounds checks correspond to), with
//! the aligned memory mapping (one region per 4 GiB slot, its faster
//! lookup; mandatory from v4 on). Stack frames are fixed 4 KiB, no gaps.

use std::ptr::NonNull;
use std::sync::Arc;

use solana_sbpf::aligned_memory::AlignedMemory;
use solana_sbpf::ebpf::{HOST_ALIGN, MM_INPUT_START, MM_STACK_START};
use solana_sbpf::elf::Executable;
use solana_sbpf::memory_region::{MemoryMapping, MemoryRegion};
use solana_sbpf::program::{BuiltinProgram, FunctionRegistry, SBPFVersion};
use solana_sbpf::verifier::RequisiteVerifier;
use solana_sbpf::vm::{CallFrame, Config, ContextObject, EbpfVm, ExecutionMode};

const VERSION: SBPFVersion = SBPFVersion::V3;

/// The per-run context SBPF asks of its embedder: the instruction meter
/// and the memory mapping.
struct Meter {
    remaining: u64,
    mapping: MemoryMapping,
}

impl ContextObject for Meter {
    fn consume(&mut self, amount: u64) {
        self.remaining = self.remaining.saturating_sub(amount);
    }
    fn get_remaining(&self) -> u64 {
        self.remaining
    }
    fn active_mapping_ptr(&mut self) -> NonNull<MemoryMapping> {
        NonNull::from(&mut self.mapping)
    }
}

/// A verified SBPF executable with its memory, reused across runs.
pub struct Sbpf {
    // Declared (so dropped) before the buffers its mapping points into.
    meter: Meter,
    exe: Executable<Meter>,
    loader: Arc<BuiltinProgram<Meter>>,
    frames: Vec<CallFrame>,
    insn_budget: u64,
    input_len: u64,
    stack_len: usize,
    _stack: AlignedMemory<HOST_ALIGN>,
    _input: AlignedMemory<HOST_ALIGN>,
}

impl Sbpf {
    /// Loads and verifies raw instruction bytes; the input is mapped
    /// writable at `MM_INPUT_START` and passed in `r1` (length in `r2`).
    pub fn new(code: &[u8], input: &[u8], insn_budget: u64) -> Result<Sbpf, String> {
        let config = Config {
            enabled_sbpf_versions: VERSION..=VERSION,
            aligned_memory_mapping: true,
            enable_instruction_meter: true,
            enable_address_translation: true,
            ..Config::default()
        };
        let loader = Arc::new(BuiltinProgram::new_loader(config.clone()));
        let exe = Executable::from_text_bytes(
            code,
            Arc::clone(&loader),
            VERSION,
            FunctionRegistry::default(),
        )
        .map_err(|e| format!("sbpf load: {e}"))?;
        exe.verify::<RequisiteVerifier>()
            .map_err(|e| format!("sbpf verify: {e}"))?;
        let mut stack = AlignedMemory::<HOST_ALIGN>::zero_filled(config.stack_size());
        let mut input_mem = AlignedMemory::<HOST_ALIGN>::from_slice(input);
        let regions = vec![
            exe.get_ro_region(),
            MemoryRegion::new(&mut stack, MM_STACK_START),
            MemoryRegion::new(&mut input_mem, MM_INPUT_START),
        ];
        // SAFETY: the regions point into `exe`'s text, `stack` and
        // `input_mem`, whose heap buffers are moved into the returned `Sbpf`
        // unchanged (never resized), outlive `meter` (dropped first, see the
        // field order) and hold plain bytes, so any guest write is sound.
        let mapping = unsafe { MemoryMapping::new(regions, &config, VERSION) }
            .map_err(|e| format!("sbpf memory mapping: {e}"))?;
        Ok(Sbpf {
            meter: Meter {
                remaining: 0,
                mapping,
            },
            exe,
            loader,
            frames: vec![CallFrame::default(); config.max_call_depth],
            insn_budget,
            input_len: input.len() as u64,
            stack_len: stack.len(),
            _stack: stack,
            _input: input_mem,
        })
    }

    /// One run: `(r0, instructions executed)`.
    pub fn run(&mut self) -> (u64, u64) {
        self.meter.remaining = self.insn_budget;
        let mut vm = EbpfVm::new(
            Arc::clone(&self.loader),
            VERSION,
            &mut self.meter,
            self.stack_len,
        );
        vm.registers[1] = MM_INPUT_START;
        vm.registers[2] = self.input_len;
        let (count, result) =
            vm.execute_program(&self.exe, &mut ExecutionMode::Interpreted, &mut self.frames);
        match Result::from(result) {
            Ok(r0) => (r0, count),
            Err(e) => panic!("sbpf run failed: {e}"),
        }
    }
}
