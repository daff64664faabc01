//! Why the verifier rejected a program.
//!
//! Every rejection names the program and, when one instruction is to blame,
//! its pc (index of the 8-byte slot in the linked program). The wording is
//! ours; a few kinds mirror Linux conditions so users of both recognise them.

use crate::inst::{DecodeError, Reg};
use std::fmt;

/// A rejected program: which one, where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct VerifyError {
    /// Name of the program being verified.
    pub program: String,
    /// The instruction at fault, when the problem has one.
    pub pc: Option<usize>,
    pub kind: VerifyErrorKind,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pc {
            Some(pc) => write!(f, "program `{}`, pc {}: {}", self.program, pc, self.kind),
            None => write!(f, "program `{}`: {}", self.program, self.kind),
        }
    }
}

/// The reason for a rejection. Each message is a sentence a user can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyErrorKind {
    #[error("the object has no program number {index} (it has {count})")]
    NoSuchProgram { index: usize, count: usize },
    /// The raw instruction stream is malformed.
    #[error("invalid instruction: {}", decode_reason(.0))]
    Decode(DecodeError),
    #[error("the program has no instructions")]
    EmptyProgram,
    #[error(
        "legacy packet loads (ldabs/ldind) cannot be used in a program that has bpf2bpf functions"
    )]
    LegacyPacketLoadWithCalls,
    #[error("the program has {count} instruction slots; at most {max} are allowed")]
    TooManyInstructions { count: usize, max: usize },
    #[error("local call targets pc {target}, which is outside the program (0..{len})")]
    CallOutOfProgram { target: i64, len: usize },
    #[error("local call targets pc {target}, the second half of a lddw")]
    CallIntoLddw { target: usize },
    #[error("lddw takes the address of pc {target}, which is outside the program (0..{len})")]
    FuncRefOutOfProgram { target: i64, len: usize },
    #[error("lddw takes the address of pc {target}, the second half of a lddw")]
    FuncRefIntoLddw { target: usize },
    #[error("jump to pc {target} leaves function `{function}` (pcs {start}..{end})")]
    JumpOutOfFunction {
        target: i64,
        function: String,
        start: usize,
        end: usize,
    },
    #[error("jump to pc {target} lands on the second half of a lddw")]
    JumpIntoLddw { target: usize },
    #[error(
        "execution can run past the last instruction of function `{function}`; \
         a function must end with exit or an unconditional jump"
    )]
    FallsOffEnd { function: String },
    #[error("helper {helper} is not provided by the runtime")]
    UnknownHelper { helper: i32 },
    #[error("kfunc index {index} is out of range (the object declares {count} kfuncs)")]
    KfuncIndexOutOfRange { index: u32, count: usize },
    #[error("kfunc `{name}` is not registered with the runtime")]
    UnknownKfunc { name: String },
    #[error("lddw refers to map {index}, but the object has {count} maps")]
    MapIndexOutOfRange { index: u32, count: usize },
    #[error("lddw points {offset} bytes into the value of map `{map}`, whose value is {value_size} bytes")]
    MapValueOffsetOutOfRange {
        map: String,
        offset: u32,
        value_size: u32,
    },
    #[error("r10 is the read-only frame pointer; this instruction writes it")]
    WriteToFramePointer,
    #[error("{reg} is read here but not written on every path leading here")]
    UninitializedRegister { reg: Reg },
    #[error(
        "stack access of {size} bytes at r10{offset:+} is outside the frame \
         (allowed: r10-512 up to r10)"
    )]
    StackOutOfBounds { offset: i64, size: usize },
    #[error("function `{function}` calls itself through the call chain {chain}; recursion is not allowed")]
    Recursion { function: String, chain: String },
    #[error("the call chain {chain} is {frames} frames deep; at most {max} are allowed")]
    CallChainTooDeep {
        chain: String,
        frames: usize,
        max: usize,
    },
    #[error("the call chain {chain} uses {bytes} bytes of stack; at most {max} are allowed")]
    StackTooLarge { chain: String, bytes: u32, max: u32 },
    #[error(
        "function `{function}` contains a tail call but is reached through {chain}, whose \
         frames already use {above} bytes of stack; tail-calling subprograms need less than {limit}"
    )]
    TailCallStackTooLarge {
        function: String,
        chain: String,
        above: u32,
        limit: u32,
    },
    #[error("a tail call needs a prog-array map in r2, but map `{map}` is of type {kind}")]
    TailCallMapNotProgArray { map: String, kind: String },
    #[error("a tail call needs a prog-array map in r2, but r2 holds {what}")]
    TailCallNotAMap { what: &'static str },
    #[error(
        "function `{function}` contains a tail call but its BTF prototype does not return \
         an int; the tail callee's return value has to become its return value"
    )]
    TailCallInNonIntFunction { function: String },
}

/// A decode error's message without its leading `pc N: ` (the verifier's
/// own message already names the pc).
fn decode_reason(e: &DecodeError) -> String {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((pc, reason)) if pc.starts_with("pc ") => reason.to_string(),
        _ => text,
    }
}

impl VerifyErrorKind {
    /// The pc a decode error points at.
    pub(crate) fn decode_pc(e: &DecodeError) -> usize {
        match *e {
            DecodeError::UnknownOpcode { pc, .. }
            | DecodeError::BadRegister { pc, .. }
            | DecodeError::NonZeroField { pc, .. }
            | DecodeError::BadField { pc, .. }
            | DecodeError::IncompleteLddw { pc } => pc,
        }
    }
}
