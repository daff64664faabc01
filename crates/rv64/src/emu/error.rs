//! Typed errors of the emulator: guest faults (`EmuError`) and host-side
//! misuse of the memory map (`MemoryError`).

use thiserror::Error;

/// Kind of guest memory access that faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Data load (including the load half of an AMO and `lr`).
    Read,
    /// Data store (including the store half of an AMO and `sc`).
    Write,
    /// Instruction fetch.
    Execute,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Execute => "execute",
        })
    }
}

/// Why guest execution stopped abnormally. Every variant carries the pc of
/// the instruction that could not be retired.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EmuError {
    /// An access outside every region, across a region boundary, or without
    /// the needed permission. `size` is the access width in bytes.
    #[error("{access} fault at pc {pc:#x}: {size}-byte access to {addr:#x}")]
    Fault {
        /// Address of the faulting instruction.
        pc: u64,
        /// First byte of the attempted access.
        addr: u64,
        /// Width of the access in bytes.
        size: u8,
        /// What was attempted.
        access: Access,
    },
    /// The bytes at `pc` are not an RV64IMAC+Zba/Zbb instruction. `bits`
    /// holds the raw parcel(s): 16 bits for a compressed encoding, else 32.
    #[error("illegal instruction {bits:#010x} at pc {pc:#x}")]
    IllegalInstruction {
        /// Address of the instruction.
        pc: u64,
        /// Raw instruction bits as fetched (little-endian).
        bits: u32,
    },
    /// The instruction budget ran out before the instruction at `pc` ran.
    #[error("instruction budget exhausted at pc {pc:#x}")]
    BudgetExhausted {
        /// Address of the next (not executed) instruction.
        pc: u64,
    },
    /// An `lr`/`sc`/AMO address that is not naturally aligned (the A
    /// extension requires alignment; only plain loads/stores may be misaligned).
    #[error("misaligned atomic access to {addr:#x} at pc {pc:#x}")]
    MisalignedAtomic {
        /// Address of the instruction.
        pc: u64,
        /// The misaligned address.
        addr: u64,
    },
    /// [`Hart::call_with_host`](super::Hart::call_with_host) met an `ecall`
    /// or `ebreak`, which it has no handler for.
    #[error("unhandled {} at pc {pc:#x}", if *ebreak { "ebreak" } else { "ecall" })]
    UnhandledTrap {
        /// Address of the instruction.
        pc: u64,
        /// `ebreak` (true) or `ecall` (false).
        ebreak: bool,
    },
    /// [`Hart::call`](super::Hart::call) takes at most 8 register arguments.
    #[error("{count} arguments passed, at most 8 fit in a0..a7")]
    TooManyArguments {
        /// Number of arguments offered.
        count: usize,
    },
    /// The host-call slots or the return sentinel lie inside an executable
    /// region, which would make them unreachable as stop addresses.
    #[error("host-call address {addr:#x} lies inside executable region `{region}`")]
    StopAddressInCode {
        /// The conflicting stop address.
        addr: u64,
        /// Name of the executable region that covers it.
        region: String,
    },
}

/// Host-side misuse of [`Memory`](super::Memory): rejected region layouts and
/// host reads/writes outside the map.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MemoryError {
    /// A new region would overlap an existing one.
    #[error("region `{name}` [{base:#x}, +{size:#x}) overlaps region `{other}`")]
    Overlap {
        /// Name of the rejected region.
        name: String,
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
        /// Name of the region already occupying part of the range.
        other: String,
    },
    /// Regions must be non-empty and must not wrap around the address space.
    #[error("region `{name}` has an invalid range [{base:#x}, +{size:#x})")]
    BadRange {
        /// Name of the rejected region.
        name: String,
        /// Its base address.
        base: u64,
        /// Its size.
        size: u64,
    },
    /// Executable regions must start on a 2-byte boundary (IALIGN = 16 with C).
    #[error("executable region `{name}` base {base:#x} is not 2-byte aligned")]
    MisalignedCode {
        /// Name of the rejected region.
        name: String,
        /// Its base address.
        base: u64,
    },
    /// A second region with the same name.
    #[error("a region named `{name}` already exists")]
    DuplicateName {
        /// The duplicated name.
        name: String,
    },
    /// The backing vector handed back does not have the region's size.
    #[error("region `{name}` is {expected} bytes but the new backing store has {got}")]
    SizeMismatch {
        /// Region name.
        name: String,
        /// The region's declared size.
        expected: u64,
        /// Length of the vector offered.
        got: u64,
    },
    /// A host read or write touched bytes outside every region (or a region
    /// whose backing store is currently taken out).
    #[error("host access to [{addr:#x}, +{size}) is not inside one mapped region")]
    Unmapped {
        /// First byte of the access.
        addr: u64,
        /// Its length.
        size: u64,
    },
}
