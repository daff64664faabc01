//! Shared by the kernel test, example and bench: the C kernels of
//! `kernels/kernels.c` run natively (clang's riscv64 code) and through the
//! JIT (clang's BPF code compiled by `rvbpf_jit`) in the rv64 emulator, with
//! exact retired-instruction counts.
//!
//! Both sides run with the same memory layout: code at [`CODE_BASE`], the
//! input buffer at [`BUF_BASE`] (read-only), a stack below [`STACK_TOP`];
//! a0 = buffer address, a1 = buffer length, the result comes back in a0.
#![allow(dead_code)]

pub mod attribution;
pub mod bpf;
pub mod native;
pub mod reference;

use rvbpf_rv64::emu::{Counters, EmuError, Hart, Memory, MemoryError, Perms, Stop};
use rvbpf_rv64::Target;

/// 8-byte aligned bytes: the `object` crate reads ELF headers in place and
/// insists on their natural alignment, which `include_bytes!` alone does
/// not promise.
#[repr(C, align(8))]
struct Aligned<B: ?Sized>(B);

const BPF_ALIGNED: &Aligned<[u8]> = &Aligned(*include_bytes!("../../../../kernels/kernels.bpf.o"));
const RV64GC_ALIGNED: &Aligned<[u8]> =
    &Aligned(*include_bytes!("../../../../kernels/kernels.rv64gc.o"));
const RV64GC_ZBA_ZBB_ALIGNED: &Aligned<[u8]> = &Aligned(*include_bytes!(
    "../../../../kernels/kernels.rv64gc_zba_zbb.o"
));

/// The committed objects (rebuilt by `kernels/build.sh`).
pub const BPF_OBJECT: &[u8] = &BPF_ALIGNED.0;
pub const NATIVE_RV64GC: &[u8] = &RV64GC_ALIGNED.0;
pub const NATIVE_RV64GC_ZBA_ZBB: &[u8] = &RV64GC_ZBA_ZBB_ALIGNED.0;

pub const CODE_BASE: u64 = 0x10_0000;
pub const BUF_BASE: u64 = 0x40_0000;
pub const STACK_BASE: u64 = 0x80_0000;
pub const STACK_SIZE: u64 = 0x1_0000;
pub const STACK_TOP: u64 = STACK_BASE + STACK_SIZE;
/// Far above what any kernel needs on the inputs used here.
pub const BUDGET: u64 = 100_000_000;

/// The two ISA variants measured: (name, native object). The JIT compiles
/// for the same target the native object was built for.
pub const VARIANTS: [(&str, &[u8]); 2] = [
    ("rv64gc", NATIVE_RV64GC),
    ("rv64gc_zba_zbb", NATIVE_RV64GC_ZBA_ZBB),
];

/// Why a kernel could not be prepared or run.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("native link: {0}")]
    Link(String),
    #[error("BPF load: {0}")]
    Load(#[from] rvbpf_ebpf::elf::LoadError),
    #[error("BPF verify: {0}")]
    Verify(#[from] rvbpf_ebpf::verifier::VerifyError),
    #[error("JIT: {0}")]
    Jit(#[from] rvbpf_jit::JitError),
    #[error("no BPF program `{0}` in the object")]
    NoProgram(String),
    #[error("the JIT image of `{0}` needs relocations; kernels must be self-contained")]
    Relocations(String),
    #[error("emulator: {0}")]
    Emu(#[from] EmuError),
    #[error("emulator memory: {0}")]
    Memory(#[from] MemoryError),
    #[error("run stopped with {0:?} instead of returning")]
    Stopped(Stop),
}

/// One kernel: its C name, any noinline helpers it calls (counted in its
/// native code size), the Rust oracle and how to make its input.
#[derive(Clone, Copy)]
pub struct Kernel {
    pub name: &'static str,
    pub callees: &'static [&'static str],
    pub reference: fn(&[u8]) -> u64,
    pub input: fn(usize) -> Vec<u8>,
}

/// Every kernel in `kernels.c`.
pub const KERNELS: [Kernel; 6] = [
    Kernel {
        name: "checksum",
        callees: &[],
        reference: reference::checksum,
        input: random_bytes,
    },
    Kernel {
        name: "fnv1a",
        callees: &[],
        reference: reference::fnv1a,
        input: random_bytes,
    },
    Kernel {
        name: "murmur3",
        callees: &[],
        reference: reference::murmur3,
        input: random_bytes,
    },
    Kernel {
        name: "crc32",
        callees: &[],
        reference: reference::crc32,
        input: random_bytes,
    },
    Kernel {
        name: "binsearch",
        callees: &[],
        reference: reference::binsearch,
        input: sorted_u32s,
    },
    Kernel {
        name: "call_loop",
        callees: &["mix_step"],
        reference: reference::call_loop,
        input: random_bytes,
    },
];

/// `len` deterministic pseudo-random bytes (xorshift64, fixed seed).
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `len / 4` ascending little-endian u32s with gaps of 1..=4 (so about half
/// of the odd keys `binsearch` looks up are absent), then `len % 4` zeros.
pub fn sorted_u32s(len: usize) -> Vec<u8> {
    let gaps = random_bytes(len / 4);
    let mut v = 7u32;
    let mut out = Vec::with_capacity(len);
    for g in gaps {
        v += 1 + u32::from(g % 4);
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.resize(len, 0);
    out
}

/// Result and exact counters of one emulated call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub result: u64,
    pub counters: Counters,
}

/// Code mapped in an emulator with a buffer and a stack, ready to be called
/// any number of times (the bench times [`Loaded::run`] alone).
pub struct Loaded {
    mem: Memory,
    hart: Hart,
    entry: u64,
    len: u64,
}

impl Loaded {
    /// Maps `code` RX at [`CODE_BASE`] (entry at `CODE_BASE + entry`) and
    /// `input` read-only at [`BUF_BASE`].
    pub fn new(code: Vec<u8>, entry: u64, input: &[u8]) -> Result<Loaded, KernelError> {
        let mut mem = Memory::new();
        mem.add_region("code", CODE_BASE, Perms::RX, code)?;
        // A region cannot be empty; a zero-length input still gets a page.
        let mut data = input.to_vec();
        data.resize(input.len().max(1), 0);
        mem.add_region("buffer", BUF_BASE, Perms::R, data)?;
        mem.add_zeroed_region("stack", STACK_BASE, STACK_SIZE, Perms::RW)?;
        Ok(Loaded {
            mem,
            hart: Hart::new(),
            entry: CODE_BASE + entry,
            len: input.len() as u64,
        })
    }

    /// Like [`run`](Self::run), also returning the code offset (from
    /// [`CODE_BASE`]) of every instruction retired, in order.
    pub fn run_traced(&mut self) -> Result<(Run, Vec<u64>), KernelError> {
        self.hart.enable_trace(BUDGET as usize);
        let run = self.run();
        let trace = self.hart.take_trace().expect("tracing was enabled");
        let offsets = trace.entries().map(|e| e.pc - CODE_BASE).collect();
        Ok((run?, offsets))
    }

    /// Calls the code once with a0 = buffer, a1 = length.
    pub fn run(&mut self) -> Result<Run, KernelError> {
        self.hart.reset_counters();
        self.hart.set_budget(BUDGET);
        self.hart
            .call(self.entry, STACK_TOP, &[BUF_BASE, self.len])?;
        match self.hart.run(&mut self.mem)? {
            Stop::Returned => Ok(Run {
                result: self.hart.reg(rvbpf_rv64::Reg::A0),
                counters: self.hart.counters(),
            }),
            other => Err(KernelError::Stopped(other)),
        }
    }
}

/// Native clang code of `kernel` from `object`, loaded with `input`.
/// Returns the loaded code and its size in bytes (the kernel's function
/// plus its callees; constant-pool data is not counted).
pub fn load_native(
    kernel: &Kernel,
    object: &[u8],
    input: &[u8],
) -> Result<(Loaded, u64), KernelError> {
    let image = native::link(object, CODE_BASE)?;
    let (entry, size) = image.function(kernel.name)?;
    let mut bytes = size;
    for callee in kernel.callees {
        bytes += image.function(callee)?.1;
    }
    Ok((Loaded::new(image.bytes, entry, input)?, bytes))
}

/// The JIT's image of `kernel` for `target`, loaded with `input`.
pub fn load_jit(
    kernel: &Kernel,
    target: Target,
    input: &[u8],
) -> Result<(Loaded, rvbpf_jit::Image), KernelError> {
    let image = bpf::compile(kernel.name, target)?;
    let loaded = Loaded::new(image.code.clone(), image.entry() as u64, input)?;
    Ok((loaded, image))
}

/// One kernel measured on one ISA variant.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub kernel: &'static str,
    pub target: &'static str,
    pub native: Run,
    pub jit: Run,
    /// Native function bytes (kernel + callees).
    pub native_bytes: u64,
    /// JIT image text bytes (all functions, headers and prologues included;
    /// the literal pool is empty for these kernels).
    pub jit_bytes: u64,
    /// `Image::listing()`, for reading why the JIT side costs more.
    pub listing: String,
}

impl Measurement {
    /// JIT instructions / native instructions.
    pub fn ratio(&self) -> f64 {
        self.jit.counters.instructions as f64 / self.native.counters.instructions as f64
    }
}

/// Runs `kernel` on a `len`-byte input natively and through the JIT for the
/// variant `(target, native object)`.
pub fn measure(
    kernel: &Kernel,
    (target, object): (&'static str, &[u8]),
    len: usize,
) -> Result<Measurement, KernelError> {
    let input = (kernel.input)(len);
    let (mut native, native_bytes) = load_native(kernel, object, &input)?;
    let parsed: Target = target
        .parse()
        .map_err(|e: rvbpf_rv64::TargetParseError| KernelError::Link(e.to_string()))?;
    let (mut jit, image) = load_jit(kernel, parsed, &input)?;
    Ok(Measurement {
        kernel: kernel.name,
        target,
        native: native.run()?,
        jit: jit.run()?,
        native_bytes,
        jit_bytes: image.text_len as u64,
        listing: image.listing(),
    })
}
