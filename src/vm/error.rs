//! Errors of the runtime: one [`Error`] for the `Vm` API (load, verify,
//! lookups, attach) wrapping the per-stage errors, and [`RunError`] for a
//! program run. Every variant names where it happened (object, program, pc).

use crate::helpers::HelperError;
use crate::maps::MapError;
use crate::memory::{Access, MemFault};
use std::path::PathBuf;

/// A failed program run. `pc` is the instruction index inside the program
/// executing when it failed (which may be a tail-called or tracing program).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error("pc {pc}: {access} of {size} bytes at {addr:#x} is out of bounds")]
    OutOfBounds {
        pc: usize,
        addr: u64,
        size: usize,
        access: Access,
    },
    #[error("pc {pc}: write of {size} bytes at {addr:#x} hits read-only memory")]
    ReadOnly { pc: usize, addr: u64, size: usize },
    #[error("pc {pc}: instruction budget exhausted")]
    BudgetExhausted { pc: usize },
    #[error("pc {pc}: BPF stack overflow ({needed} more bytes needed)")]
    StackOverflow { pc: usize, needed: u64 },
    #[error("pc {pc}: call depth {depth} exceeds the limit")]
    CallDepth { pc: usize, depth: usize },
    #[error("pc {pc}: helper {id} is not registered")]
    UnknownHelper { pc: usize, id: i64 },
    #[error("pc {pc}: kfunc `{name}` is not registered")]
    UnknownKfunc { pc: usize, name: String },
    #[error("pc {pc}: helper {id} failed: {source}")]
    Helper {
        pc: usize,
        id: i64,
        source: HelperError,
    },
    #[error("pc {pc}: kfunc `{name}` failed: {source}")]
    Kfunc {
        pc: usize,
        name: String,
        source: HelperError,
    },
    #[error("no program with id {0}")]
    NoSuchProgram(u32),
    #[error("input of {len} bytes exceeds the {limit}-byte ctx/packet limit")]
    InputTooLarge { len: usize, limit: usize },
    #[error("engine {0} is not available")]
    EngineUnavailable(String),
}

impl RunError {
    /// Attaches a pc to a memory fault.
    pub fn from_fault(pc: usize, f: MemFault) -> RunError {
        match f {
            MemFault::OutOfBounds { addr, size, access } => RunError::OutOfBounds {
                pc,
                addr,
                size,
                access,
            },
            MemFault::ReadOnly { addr, size } => RunError::ReadOnly { pc, addr, size },
        }
    }

    /// The pc the error names, if any.
    pub fn pc(&self) -> Option<usize> {
        match *self {
            RunError::OutOfBounds { pc, .. }
            | RunError::ReadOnly { pc, .. }
            | RunError::BudgetExhausted { pc }
            | RunError::StackOverflow { pc, .. }
            | RunError::CallDepth { pc, .. }
            | RunError::UnknownHelper { pc, .. }
            | RunError::UnknownKfunc { pc, .. }
            | RunError::Helper { pc, .. }
            | RunError::Kfunc { pc, .. } => Some(pc),
            _ => None,
        }
    }
}

/// Why a program was rejected at load time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The verifier rejected the program.
    #[error(transparent)]
    Verifier(#[from] rvbpf_ebpf::verifier::VerifyError),
    /// It uses a prog array that holds programs of another class.
    #[error(transparent)]
    ProgArray(MapError),
    /// The runtime could not pre-decode it (see `interp::decode`).
    #[error(transparent)]
    Decode(#[from] crate::interp::decode::DecodeFailure),
}

/// Any failure of the `Vm` API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Load(Box<rvbpf_ebpf::elf::LoadError>),
    #[error("{object}: program `{program}` rejected: {reason}")]
    Rejected {
        object: String,
        program: String,
        reason: RejectReason,
    },
    #[error("{object}: map `{map}`: {source}")]
    MapCreate {
        object: String,
        map: String,
        source: MapError,
    },
    #[error("{object}: map `{map}` cannot reuse map #{reused}: {why}")]
    MapReuse {
        object: String,
        map: String,
        reused: u32,
        why: &'static str,
    },
    #[error("{object}: prog array `{map}` slot {slot}: no program `{program}`")]
    ProgInit {
        object: String,
        map: String,
        slot: u32,
        program: String,
    },
    #[error(transparent)]
    Map(#[from] MapError),
    #[error("no object with id {0}")]
    NoSuchObject(u32),
    #[error("no program with id {0}")]
    NoSuchProgramId(u32),
    #[error("{object}: no program `{name}`")]
    NoSuchProgram { object: String, name: String },
    #[error("{object}: no map `{name}`")]
    NoSuchMap { object: String, name: String },
    #[error("{object}: no global variable `{name}`")]
    NoSuchGlobal { object: String, name: String },
    #[error("{object}: global `{name}` has {size} bytes, the value has {got}")]
    GlobalSize {
        object: String,
        name: String,
        size: u32,
        got: usize,
    },
    #[error("map #{0} is not a prog array")]
    NotAProgArray(u32),
    #[error("cannot attach `{tracer}` to `{target}`: {why}")]
    Attach {
        tracer: String,
        target: String,
        why: &'static str,
    },
    #[error("no attachment with id {0}")]
    NoSuchAttachment(u32),
    #[error("{object}: program `{program}`: {source}")]
    Run {
        object: String,
        program: String,
        source: RunError,
    },
}

impl From<rvbpf_ebpf::elf::LoadError> for Error {
    fn from(e: rvbpf_ebpf::elf::LoadError) -> Self {
        Error::Load(Box::new(e))
    }
}

impl Error {
    /// The run error inside, if this is one.
    pub fn as_run(&self) -> Option<&RunError> {
        match self {
            Error::Run { source, .. } => Some(source),
            _ => None,
        }
    }
}
