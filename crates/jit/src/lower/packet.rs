//! Legacy packet access (`ldabs`/`ldind`): a call to the runtime's
//! packet-load routine ([`RelocKind::LoadPacket`]), which has its own
//! register convention (see the crate docs) so that BPF R1..R5 survive,
//! as the verifier and the interpreter assume (only R0 is written).
//!
//! ```text
//!   t0 = offset             ; ldind: zext.w t0, index; + imm   ldabs: li t0, imm
//!   li    t2, size
//!   auipc t1; ld t1, slot   ; the LoadPacket pool slot
//!   jalr  ra, 0(t1)         ; → a5 = value (0 when out of range), t0 = ok
//!   beqz  t0, epilogue      ; out of range: the program ends with R0 = 0
//! ```

use super::Cx;
use crate::image::RelocKind;
use crate::items::{Item, Label};
use crate::regmap::{bpf_reg, T0, T1, T2};
use crate::JitError;
use rvbpf_ebpf::inst::{Reg as BpfReg, Size};
use rvbpf_rv64::{BranchOp, Imm12, Inst, Reg};

pub fn lower_load_packet(
    cx: &mut Cx,
    size: Size,
    index: Option<BpfReg>,
    imm: i32,
) -> Result<(), JitError> {
    // Out of range the interpreter ends the whole run; from a bpf2bpf
    // callee the epilogue would only end the callee. Linux forbids the mix.
    if cx.facts().functions.len() > 1 {
        return Err(JitError::Unsupported {
            pc: cx.pc,
            what: "legacy packet access (ldabs/ldind) in a program with bpf2bpf functions",
        });
    }
    // offset = (u32)index + imm, as a signed 64-bit value (never wraps).
    match index {
        Some(r) => {
            cx.zext32(T0, bpf_reg(r));
            if imm != 0 {
                match Imm12::new(imm as i64) {
                    Some(i) => cx.push(Inst::addi(T0, T0, i)),
                    None => {
                        cx.li(T2, imm as i64);
                        cx.push(Inst::alu(rvbpf_rv64::AluOp::Add, T0, T0, T2));
                    }
                }
            }
        }
        None => cx.li(T0, imm as i64),
    }
    cx.li(T2, size.bytes() as i64);
    let slot = cx.pool_slot(RelocKind::LoadPacket);
    cx.item(Item::PoolLoad { rd: T1, slot });
    cx.push(Inst::Jalr {
        rd: Reg::RA,
        rs1: T1,
        offset: Imm12::ZERO,
    });
    cx.item(Item::Branch {
        op: BranchOp::Beq,
        rs1: T0,
        rs2: Reg::ZERO,
        target: Label::Epilogue(cx.func),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{compile, JitError, JitOptions};
    use rvbpf_ebpf::asm::assemble_object;
    use rvbpf_ebpf::verifier::{verify, VerifyEnv};

    fn compile_asm(src: &str) -> Result<crate::Image, JitError> {
        let obj = assemble_object("t", src).unwrap();
        let env = VerifyEnv {
            helper_known: &|_| true,
            kfunc_known: &|_| true,
            entry_args: 1,
        };
        let prog = verify(&obj, 0, &env).unwrap();
        compile(&prog, &JitOptions::default())
    }

    #[test]
    fn a_packet_load_is_a_call_through_its_own_pool_slot() {
        let image = compile_asm("mov %r6, %r1\nldabsw 3\nexit").unwrap();
        let kinds: Vec<_> = image.relocs.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [crate::RelocKind::LoadPacket]);
        let listing = image.listing();
        // Offset 3 in t0, 4 bytes in t2, the ok flag tested after the call.
        for line in ["li t0, 3", "li t2, 4", "jalr t1", "beqz t0"] {
            assert!(listing.contains(line), "`{line}` missing:\n{listing}");
        }
    }

    #[test]
    fn a_packet_load_next_to_bpf2bpf_functions_never_reaches_the_jit() {
        // Out of range the *program* must end, which a callee's epilogue
        // cannot do: the verifier rejects the mix (as Linux does), so no
        // `VerifiedProgram` with it exists; the lowering's own refusal is
        // a second line of defence.
        let src = "mov %r6, %r1\ncall local f\nexit\nf:\nldabsb 0\nexit";
        let obj = assemble_object("t", src).unwrap();
        let env = VerifyEnv {
            helper_known: &|_| true,
            kfunc_known: &|_| true,
            entry_args: 1,
        };
        let err = verify(&obj, 0, &env).unwrap_err();
        assert_eq!(err.pc, Some(3));
    }
}
