//! Checks on the bpf2bpf call graph: no recursion, at most [`MAX_FRAMES`]
//! frames, at most [`MAX_STACK`] bytes of stack along any call chain, and the
//! Linux rule that a subprogram containing a tail call may only be entered
//! while the frames above it use less than [`TAIL_CALL_STACK_LIMIT`] bytes
//! (a tail call replaces only the current frame, so up to 33 chained tail
//! calls keep the callers' frames alive).

use super::effects::{is_call, TAIL_CALL_HELPER};
use super::error::VerifyErrorKind;
use super::layout::rel_target;
use super::Reject;
use crate::inst::{CallTarget, Inst, LddwKind};

/// Most frames (the entry function plus nested bpf2bpf calls) on one chain.
pub const MAX_FRAMES: usize = 8;
/// Most stack bytes (sum of rounded frame depths) along one chain.
pub const MAX_STACK: u32 = 512;
/// A tail-calling subprogram needs the frames above it to use less than this.
pub const TAIL_CALL_STACK_LIMIT: u32 = 256;

/// One function's outgoing bpf2bpf calls: (pc of the call, callee index).
pub type CallSites = Vec<(usize, usize)>;

/// The program split into functions (index 0 is the entry).
pub struct Functions<'a> {
    pub insts: &'a [Inst],
    pub starts: &'a [usize],
    pub ends: &'a [usize],
    pub names: &'a [String],
    /// From BTF, per function (`None` when unknown).
    pub returns_int: &'a [Option<bool>],
}

impl Functions<'_> {
    /// Index of the function containing `pc`.
    pub fn index_of(&self, pc: usize) -> usize {
        self.starts.partition_point(|&s| s <= pc).saturating_sub(1)
    }
}

/// What the instructions of each function say about calls.
pub struct CallScan {
    /// bpf2bpf calls.
    pub calls: Vec<CallSites>,
    /// Functions whose address a `lddw` takes: callbacks a helper may run
    /// on top of the current frame.
    pub callbacks: Vec<CallSites>,
    pub has_tail_call: Vec<bool>,
    pub makes_calls: Vec<bool>,
    pub makes_helper_calls: Vec<bool>,
}

/// Collects call sites and call properties of every function, rejecting a
/// tail call in a subprogram whose BTF prototype does not return an int (the
/// tail callee's return value becomes the subprogram's; a Linux rule).
pub fn scan(funcs: &Functions) -> Result<CallScan, Reject> {
    let n = funcs.starts.len();
    let mut scan = CallScan {
        calls: vec![Vec::new(); n],
        callbacks: vec![Vec::new(); n],
        has_tail_call: vec![false; n],
        makes_calls: vec![false; n],
        makes_helper_calls: vec![false; n],
    };
    for f in 0..n {
        for pc in funcs.starts[f]..funcs.ends[f] {
            let inst = &funcs.insts[pc];
            match *inst {
                Inst::Call(CallTarget::Local(off)) => {
                    let callee = funcs.index_of(rel_target(pc, off.into()) as usize);
                    scan.calls[f].push((pc, callee));
                }
                Inst::Lddw {
                    kind: LddwKind::Func { offset },
                    ..
                } => {
                    let callee = funcs.index_of(rel_target(pc, offset.into()) as usize);
                    scan.callbacks[f].push((pc, callee));
                }
                Inst::Call(CallTarget::Helper(TAIL_CALL_HELPER)) => {
                    if f != 0 && funcs.returns_int[f] == Some(false) {
                        return Err(Reject::at(
                            pc,
                            VerifyErrorKind::TailCallInNonIntFunction {
                                function: funcs.names[f].clone(),
                            },
                        ));
                    }
                    scan.has_tail_call[f] = true;
                }
                _ => {}
            }
            scan.makes_calls[f] |= is_call(inst);
            scan.makes_helper_calls[f] |= matches!(
                inst,
                Inst::Call(CallTarget::Helper(_) | CallTarget::Kfunc(_)) | Inst::Callx { .. }
            );
        }
    }
    Ok(scan)
}

fn chain_text(names: &[String], chain: &[usize]) -> String {
    chain
        .iter()
        .map(|&f| format!("`{}`", names[f]))
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Rejects recursion and returns the functions in post-order (every callee
/// before its callers), so per-function analyses can use callee results.
pub fn postorder(calls: &[CallSites], names: &[String]) -> Result<Vec<usize>, Reject> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; calls.len()];
    let mut order = Vec::with_capacity(calls.len());
    for root in 0..calls.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Explicit stack of (function, next call site to follow): programs
        // can hold very many functions, so no native recursion.
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (f, ref mut next)) = stack.last_mut() {
            let Some(&(pc, callee)) = calls[f].get(*next) else {
                mark[f] = Mark::Done;
                order.push(f);
                stack.pop();
                continue;
            };
            *next += 1;
            match mark[callee] {
                Mark::Done => {}
                Mark::New => {
                    mark[callee] = Mark::Open;
                    stack.push((callee, 0));
                }
                Mark::Open => {
                    let from = stack.iter().position(|&(g, _)| g == callee).unwrap_or(0);
                    let mut chain: Vec<usize> = stack[from..].iter().map(|&(g, _)| g).collect();
                    chain.push(callee);
                    return Err(Reject::at(
                        pc,
                        VerifyErrorKind::Recursion {
                            function: names[callee].clone(),
                            chain: chain_text(names, &chain),
                        },
                    ));
                }
            }
        }
    }
    Ok(order)
}

/// `tail_call_reachable` per function: it tail-calls itself or calls,
/// transitively, a function that does. `order` is from [`postorder`].
pub fn tail_call_reachable(
    calls: &[CallSites],
    has_tail_call: &[bool],
    order: &[usize],
) -> Vec<bool> {
    let mut reach = has_tail_call.to_vec();
    for &f in order {
        reach[f] |= calls[f].iter().any(|&(_, g)| reach[g]);
    }
    reach
}

/// The worst chain found so far into a function: its value and the call
/// (caller, pc) it came through (`None` for chain roots).
#[derive(Clone, Copy)]
struct Best {
    value: u32,
    via: Option<(usize, usize)>,
}

/// Walks the chain back from `f` through the `via` links.
fn chain_to(best: &[Best], f: usize) -> Vec<usize> {
    let mut chain = vec![f];
    let mut cur = f;
    while let Some((caller, _)) = best[cur].via {
        chain.push(caller);
        cur = caller;
    }
    chain.reverse();
    chain
}

/// Checks frame count, combined stack and the tail-call stack rule along
/// every chain. Chains start at functions nobody calls (the entry function,
/// and subprograms only referenced by address). `stack` holds each
/// function's rounded depth; `order` is from [`postorder`].
pub fn check_chains(
    calls: &[CallSites],
    names: &[String],
    stack: &[u32],
    has_tail_call: &[bool],
    order: &[usize],
) -> Result<(), Reject> {
    let n = calls.len();
    let mut called = vec![false; n];
    for sites in calls {
        for &(_, g) in sites {
            called[g] = true;
        }
    }
    // Longest paths in a DAG: relax edges with callers before callees.
    let mut frames = vec![
        Best {
            value: 1,
            via: None
        };
        n
    ];
    let mut above = vec![
        Best {
            value: 0,
            via: None
        };
        n
    ];
    for &f in order.iter().rev() {
        for &(pc, g) in &calls[f] {
            if frames[f].value + 1 > frames[g].value {
                frames[g] = Best {
                    value: frames[f].value + 1,
                    via: Some((f, pc)),
                };
            }
            let a = above[f].value + stack[f];
            if a > above[g].value || above[g].via.is_none() {
                above[g] = Best {
                    value: a,
                    via: Some((f, pc)),
                };
            }
        }
    }
    let pc_of = |b: &Best| b.via.map(|(_, pc)| pc);
    for &f in order.iter().rev() {
        if frames[f].value as usize > MAX_FRAMES {
            return Err(Reject {
                pc: pc_of(&frames[f]),
                kind: VerifyErrorKind::CallChainTooDeep {
                    chain: chain_text(names, &chain_to(&frames, f)),
                    frames: frames[f].value as usize,
                    max: MAX_FRAMES,
                },
            });
        }
        if called[f] && has_tail_call[f] && above[f].value >= TAIL_CALL_STACK_LIMIT {
            return Err(Reject {
                pc: pc_of(&above[f]),
                kind: VerifyErrorKind::TailCallStackTooLarge {
                    function: names[f].clone(),
                    chain: chain_text(names, &chain_to(&above, f)),
                    above: above[f].value,
                    limit: TAIL_CALL_STACK_LIMIT,
                },
            });
        }
        let total = above[f].value + stack[f];
        if total > MAX_STACK {
            return Err(Reject {
                pc: pc_of(&above[f]),
                kind: VerifyErrorKind::StackTooLarge {
                    chain: chain_text(names, &chain_to(&above, f)),
                    bytes: total,
                    max: MAX_STACK,
                },
            });
        }
    }
    Ok(())
}
