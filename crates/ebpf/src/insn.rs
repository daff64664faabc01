//! Raw BPF instructions (RFC 9669 wire format) and the opcode constants.
//!
//! An [`Insn`] is the 8-byte slot exactly as stored in an ELF section; `lddw`
//! occupies two consecutive slots. Typed decoding into `Inst` lives in
//! `inst.rs`; this module only knows the bit layout:
//!
//! ```text
//!  byte 0    byte 1          bytes 2-3     bytes 4-7
//! +--------+----+----+------------------+-------------------+
//! | opcode |dst |src | offset (i16, LE) | immediate (i32,LE)|
//! +--------+----+----+------------------+-------------------+
//!           lo4  hi4
//! ```

/// Size of one instruction slot in bytes.
pub const INSN_SIZE: usize = 8;

/// One raw 8-byte instruction slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Insn {
    pub opc: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    pub const fn new(opc: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Insn {
            opc,
            dst,
            src,
            off,
            imm,
        }
    }

    /// Decodes one little-endian slot.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Insn {
            opc: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Encodes one little-endian slot.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.opc,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The instruction class (low three opcode bits).
    pub fn class(self) -> u8 {
        self.opc & 0x07
    }

    /// True for the first slot of a 16-byte `lddw`.
    pub fn is_lddw(self) -> bool {
        self.opc == op::LD | op::IMM | op::DW
    }
}

/// Splits a byte buffer into instruction slots. Fails if the length is not
/// a multiple of 8 (the returned value is the number of trailing bytes).
pub fn insns_from_bytes(bytes: &[u8]) -> Result<Vec<Insn>, usize> {
    if !bytes.len().is_multiple_of(INSN_SIZE) {
        return Err(bytes.len() % INSN_SIZE);
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| Insn::from_bytes(c.try_into().expect("chunk of 8")))
        .collect())
}

/// Serialises instruction slots back to bytes.
pub fn insns_to_bytes(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

/// Opcode field constants, named as in RFC 9669.
pub mod op {
    // Classes.
    pub const LD: u8 = 0x00;
    pub const LDX: u8 = 0x01;
    pub const ST: u8 = 0x02;
    pub const STX: u8 = 0x03;
    pub const ALU: u8 = 0x04;
    pub const JMP: u8 = 0x05;
    pub const JMP32: u8 = 0x06;
    pub const ALU64: u8 = 0x07;

    // Source operand bit for ALU/JMP.
    pub const K: u8 = 0x00;
    pub const X: u8 = 0x08;

    // ALU operations (high four bits).
    pub const ADD: u8 = 0x00;
    pub const SUB: u8 = 0x10;
    pub const MUL: u8 = 0x20;
    pub const DIV: u8 = 0x30;
    pub const OR: u8 = 0x40;
    pub const AND: u8 = 0x50;
    pub const LSH: u8 = 0x60;
    pub const RSH: u8 = 0x70;
    pub const NEG: u8 = 0x80;
    pub const MOD: u8 = 0x90;
    pub const XOR: u8 = 0xa0;
    pub const MOV: u8 = 0xb0;
    pub const ARSH: u8 = 0xc0;
    pub const END: u8 = 0xd0;

    /// For `END` in class ALU: source bit 0 = to little endian, 1 = to big endian.
    /// In class ALU64 the same opcode is the unconditional byte swap (`bswap`).
    pub const TO_LE: u8 = 0x00;
    pub const TO_BE: u8 = 0x08;

    // Jump operations (high four bits).
    pub const JA: u8 = 0x00;
    pub const JEQ: u8 = 0x10;
    pub const JGT: u8 = 0x20;
    pub const JGE: u8 = 0x30;
    pub const JSET: u8 = 0x40;
    pub const JNE: u8 = 0x50;
    pub const JSGT: u8 = 0x60;
    pub const JSGE: u8 = 0x70;
    pub const CALL: u8 = 0x80;
    pub const EXIT: u8 = 0x90;
    pub const JLT: u8 = 0xa0;
    pub const JLE: u8 = 0xb0;
    pub const JSLT: u8 = 0xc0;
    pub const JSLE: u8 = 0xd0;

    // Memory sizes.
    pub const W: u8 = 0x00;
    pub const H: u8 = 0x08;
    pub const B: u8 = 0x10;
    pub const DW: u8 = 0x18;

    // Memory modes.
    pub const IMM: u8 = 0x00;
    pub const ABS: u8 = 0x20;
    pub const IND: u8 = 0x40;
    pub const MEM: u8 = 0x60;
    /// Sign-extending load (v4, class LDX only).
    pub const MEMSX: u8 = 0x80;
    pub const ATOMIC: u8 = 0xc0;

    // Atomic operations (in `imm`).
    pub const ATOMIC_ADD: i32 = 0x00;
    pub const ATOMIC_OR: i32 = 0x40;
    pub const ATOMIC_AND: i32 = 0x50;
    pub const ATOMIC_XOR: i32 = 0xa0;
    pub const FETCH: i32 = 0x01;
    pub const ATOMIC_XCHG: i32 = 0xe0 | FETCH;
    pub const ATOMIC_CMPXCHG: i32 = 0xf0 | FETCH;
}

/// Values of the `src` field that give `lddw` and `call` special meanings.
pub mod pseudo {
    /// `lddw dst, imm64`: a plain 64-bit constant.
    pub const LDDW_IMM: u8 = 0;
    /// `lddw dst, map`: imm holds a map index (Linux: fd); dst gets the map handle.
    pub const MAP_FD: u8 = 1;
    /// `lddw dst, map + off`: imm holds a map index, next imm an offset into
    /// its value; dst gets the address of that byte (used for globals).
    pub const MAP_VALUE: u8 = 2;
    /// `lddw dst, btf_id` (not supported by rvbpf; rejected by the verifier).
    pub const BTF_ID: u8 = 3;
    /// `lddw dst, func`: address of a subprogram (for callbacks).
    pub const FUNC: u8 = 4;
    /// `lddw` variants indexing maps by position (`*_IDX`).
    pub const MAP_IDX: u8 = 5;
    pub const MAP_IDX_VALUE: u8 = 6;

    /// `call imm`: helper number `imm`.
    pub const CALL_HELPER: u8 = 0;
    /// `call imm`: bpf2bpf call, `imm` = pc-relative offset of the callee.
    pub const CALL_LOCAL: u8 = 1;
    /// `call imm`: kfunc; rvbpf stores an index into the object's kfunc table.
    pub const CALL_KFUNC: u8 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_field_layout() {
        // mov64 r1, -2 : opcode 0xb7, dst 1, imm -2 (hand-assembled).
        let b = [0xb7, 0x01, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff];
        let i = Insn::from_bytes(b);
        assert_eq!(i, Insn::new(op::ALU64 | op::MOV | op::K, 1, 0, 0, -2));
        assert_eq!(i.to_bytes(), b);
        // ldxw r2, [r3-4]: src in the high nibble, negative offset.
        let j = Insn::new(op::LDX | op::MEM | op::W, 2, 3, -4, 0);
        assert_eq!(j.to_bytes(), [0x61, 0x32, 0xfc, 0xff, 0, 0, 0, 0]);
        assert_eq!(Insn::from_bytes(j.to_bytes()), j);
    }

    #[test]
    fn ragged_buffers_are_rejected() {
        assert_eq!(insns_from_bytes(&[0u8; 12]), Err(4));
        assert_eq!(insns_from_bytes(&[0u8; 16]).unwrap().len(), 2);
    }
}
