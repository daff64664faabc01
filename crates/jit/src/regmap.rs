//! The register map (see the table in the crate docs). One place decides
//! which RV64 register stands for which BPF register or JIT role.

use rvbpf_ebpf::inst::Reg as BpfReg;
use rvbpf_rv64::Reg;

/// RV64 register for BPF R0..R10, indexed by BPF register number.
const BPF_TO_RV: [Reg; 11] = [
    Reg::A5, // R0
    Reg::A0, // R1
    Reg::A1, // R2
    Reg::A2, // R3
    Reg::A3, // R4
    Reg::A4, // R5
    Reg::S1, // R6
    Reg::S2, // R7
    Reg::S3, // R8
    Reg::S4, // R9
    Reg::S5, // R10
];

/// The RV64 register holding BPF register `r`.
pub fn bpf_reg(r: BpfReg) -> Reg {
    BPF_TO_RV[r.index()]
}

/// Tail-call count (`reg`/`stack` schemes) or counter pointer (`ptr`).
pub const TCC: Reg = Reg::A6;
/// Where the count/pointer survives helper calls.
pub const TCC_SAVED: Reg = Reg::S6;
/// Scratch registers, free inside any one BPF instruction's lowering.
pub const T0: Reg = Reg::T0;
pub const T1: Reg = Reg::T1;
pub const T2: Reg = Reg::T2;
pub const T3: Reg = Reg::T3;

/// Linux helper number of `bpf_tail_call`.
pub const HELPER_TAIL_CALL: i32 = 12;
/// Successful tail calls allowed per run (Linux `MAX_TAIL_CALL_CNT`).
pub const MAX_TAIL_CALL_CNT: i32 = 33;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpf_registers_map_to_distinct_rv_registers_disjoint_from_roles() {
        let mut seen = std::collections::HashSet::new();
        for r in BPF_TO_RV {
            assert!(seen.insert(r), "{r} mapped twice");
        }
        for role in [TCC, TCC_SAVED, T0, T1, T2, T3, Reg::SP, Reg::RA, Reg::ZERO] {
            assert!(
                !seen.contains(&role),
                "{role} is both a BPF register and a role"
            );
        }
        // R1..R5 are the C argument registers, R6..R10 callee-saved.
        assert_eq!(bpf_reg(BpfReg::R1), Reg::A0);
        assert_eq!(bpf_reg(BpfReg::R5), Reg::A4);
        assert_eq!(bpf_reg(BpfReg::R6), Reg::S1);
        assert_eq!(bpf_reg(BpfReg::R10), Reg::S5);
    }
}
