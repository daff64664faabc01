//! Opcode enums. Each one owns its encoding bits (major opcode, `funct3`,
//! `funct7` ...), its mnemonic and the extension it belongs to, so the
//! encoder, decoder and printer all read the same table.

/// Major opcodes (bits `6:0`) of the 32-bit encodings used here.
pub mod opcode {
    /// `lb` .. `lwu`, `ld`.
    pub const LOAD: u32 = 0b000_0011;
    /// `fence`, `fence.tso`, `fence.i`.
    pub const MISC_MEM: u32 = 0b000_1111;
    /// `addi` .. `andi`, immediate shifts, Zbb unary ops.
    pub const OP_IMM: u32 = 0b001_0011;
    /// `auipc`.
    pub const AUIPC: u32 = 0b001_0111;
    /// `addiw`, `*iw` shifts, `slli.uw`, Zbb `*w` unary ops.
    pub const OP_IMM_32: u32 = 0b001_1011;
    /// `sb` .. `sd`.
    pub const STORE: u32 = 0b010_0011;
    /// LR/SC/AMOs.
    pub const AMO: u32 = 0b010_1111;
    /// Register-register ops.
    pub const OP: u32 = 0b011_0011;
    /// `lui`.
    pub const LUI: u32 = 0b011_0111;
    /// 32-bit register-register ops (`addw` ...), `add.uw`, `zext.h`.
    pub const OP_32: u32 = 0b011_1011;
    /// Conditional branches.
    pub const BRANCH: u32 = 0b110_0011;
    /// `jalr`.
    pub const JALR: u32 = 0b110_0111;
    /// `jal`.
    pub const JAL: u32 = 0b110_1111;
    /// `ecall`, `ebreak`.
    pub const SYSTEM: u32 = 0b111_0011;
}

/// ISA extensions an instruction may require.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Extension {
    /// Base integer ISA (always present).
    I,
    /// Integer multiply/divide.
    M,
    /// Atomics.
    A,
    /// Compressed instructions.
    C,
    /// Address-generation bit manipulation.
    Zba,
    /// Basic bit manipulation.
    Zbb,
}

macro_rules! op_enum {
    (
        $(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = ($mn:expr, $ext:ident, $($field:expr),*) ),* $(,)? }
        fields($($fname:ident),*)
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name { $( $(#[$vdoc])* $variant ),* }

        impl $name {
            /// Every operation, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// Assembler mnemonic.
            #[inline]
            pub const fn mnemonic(self) -> &'static str {
                match self { $($name::$variant => $mn),* }
            }

            /// Extension that defines this operation.
            #[inline]
            pub const fn extension(self) -> Extension {
                match self { $($name::$variant => Extension::$ext),* }
            }

            op_enum!(@fields $name [$($fname),*] [$( $variant ($($field),*) )*]);
        }
    };
    (@fields $name:ident [$($fname:ident),*] [$( $variant:ident ($($field:expr),*) )*]) => {
        op_enum!(@accessors $name [$($fname),*] [$( $variant [$($field),*] )*]);
    };
    (@accessors $name:ident [] [$($rest:tt)*]) => {};
    (@accessors $name:ident [$f0:ident $(, $fname:ident)*] [$( $variant:ident [$v0:expr $(, $vr:expr)*] )*]) => {
        /// Encoding field (see the format diagrams in `encode::format`).
        #[inline]
        pub const fn $f0(self) -> u32 {
            match self { $($name::$variant => $v0),* }
        }
        op_enum!(@accessors $name [$($fname),*] [$( $variant [$($vr),*] )*]);
    };
}

op_enum! {
    /// Register-register operations (R-type): `rd = rs1 op rs2`.
    AluOp {
        /// `add`
        Add = ("add", I, opcode::OP, 0b000, 0b000_0000),
        /// `sub`
        Sub = ("sub", I, opcode::OP, 0b000, 0b010_0000),
        /// `sll`
        Sll = ("sll", I, opcode::OP, 0b001, 0b000_0000),
        /// `slt`
        Slt = ("slt", I, opcode::OP, 0b010, 0b000_0000),
        /// `sltu`
        Sltu = ("sltu", I, opcode::OP, 0b011, 0b000_0000),
        /// `xor`
        Xor = ("xor", I, opcode::OP, 0b100, 0b000_0000),
        /// `srl`
        Srl = ("srl", I, opcode::OP, 0b101, 0b000_0000),
        /// `sra`
        Sra = ("sra", I, opcode::OP, 0b101, 0b010_0000),
        /// `or`
        Or = ("or", I, opcode::OP, 0b110, 0b000_0000),
        /// `and`
        And = ("and", I, opcode::OP, 0b111, 0b000_0000),
        /// `addw`
        Addw = ("addw", I, opcode::OP_32, 0b000, 0b000_0000),
        /// `subw`
        Subw = ("subw", I, opcode::OP_32, 0b000, 0b010_0000),
        /// `sllw`
        Sllw = ("sllw", I, opcode::OP_32, 0b001, 0b000_0000),
        /// `srlw`
        Srlw = ("srlw", I, opcode::OP_32, 0b101, 0b000_0000),
        /// `sraw`
        Sraw = ("sraw", I, opcode::OP_32, 0b101, 0b010_0000),
        /// `mul`
        Mul = ("mul", M, opcode::OP, 0b000, 0b000_0001),
        /// `mulh`
        Mulh = ("mulh", M, opcode::OP, 0b001, 0b000_0001),
        /// `mulhsu`
        Mulhsu = ("mulhsu", M, opcode::OP, 0b010, 0b000_0001),
        /// `mulhu`
        Mulhu = ("mulhu", M, opcode::OP, 0b011, 0b000_0001),
        /// `div`
        Div = ("div", M, opcode::OP, 0b100, 0b000_0001),
        /// `divu`
        Divu = ("divu", M, opcode::OP, 0b101, 0b000_0001),
        /// `rem`
        Rem = ("rem", M, opcode::OP, 0b110, 0b000_0001),
        /// `remu`
        Remu = ("remu", M, opcode::OP, 0b111, 0b000_0001),
        /// `mulw`
        Mulw = ("mulw", M, opcode::OP_32, 0b000, 0b000_0001),
        /// `divw`
        Divw = ("divw", M, opcode::OP_32, 0b100, 0b000_0001),
        /// `divuw`
        Divuw = ("divuw", M, opcode::OP_32, 0b101, 0b000_0001),
        /// `remw`
        Remw = ("remw", M, opcode::OP_32, 0b110, 0b000_0001),
        /// `remuw`
        Remuw = ("remuw", M, opcode::OP_32, 0b111, 0b000_0001),
        /// `sh1add`: `rd = (rs1 << 1) + rs2`
        Sh1add = ("sh1add", Zba, opcode::OP, 0b010, 0b001_0000),
        /// `sh2add`
        Sh2add = ("sh2add", Zba, opcode::OP, 0b100, 0b001_0000),
        /// `sh3add`
        Sh3add = ("sh3add", Zba, opcode::OP, 0b110, 0b001_0000),
        /// `add.uw`: `rd = zext32(rs1) + rs2`
        AddUw = ("add.uw", Zba, opcode::OP_32, 0b000, 0b000_0100),
        /// `sh1add.uw`
        Sh1addUw = ("sh1add.uw", Zba, opcode::OP_32, 0b010, 0b001_0000),
        /// `sh2add.uw`
        Sh2addUw = ("sh2add.uw", Zba, opcode::OP_32, 0b100, 0b001_0000),
        /// `sh3add.uw`
        Sh3addUw = ("sh3add.uw", Zba, opcode::OP_32, 0b110, 0b001_0000),
        /// `andn`: `rd = rs1 & !rs2`
        Andn = ("andn", Zbb, opcode::OP, 0b111, 0b010_0000),
        /// `orn`
        Orn = ("orn", Zbb, opcode::OP, 0b110, 0b010_0000),
        /// `xnor`
        Xnor = ("xnor", Zbb, opcode::OP, 0b100, 0b010_0000),
        /// `max` (signed)
        Max = ("max", Zbb, opcode::OP, 0b110, 0b000_0101),
        /// `maxu`
        Maxu = ("maxu", Zbb, opcode::OP, 0b111, 0b000_0101),
        /// `min` (signed)
        Min = ("min", Zbb, opcode::OP, 0b100, 0b000_0101),
        /// `minu`
        Minu = ("minu", Zbb, opcode::OP, 0b101, 0b000_0101),
        /// `rol`
        Rol = ("rol", Zbb, opcode::OP, 0b001, 0b011_0000),
        /// `ror`
        Ror = ("ror", Zbb, opcode::OP, 0b101, 0b011_0000),
        /// `rolw`
        Rolw = ("rolw", Zbb, opcode::OP_32, 0b001, 0b011_0000),
        /// `rorw`
        Rorw = ("rorw", Zbb, opcode::OP_32, 0b101, 0b011_0000),
    }
    fields(opcode, funct3, funct7)
}

op_enum! {
    /// Register-immediate arithmetic (I-type): `rd = rs1 op imm12`.
    AluImmOp {
        /// `addi`
        Addi = ("addi", I, opcode::OP_IMM, 0b000),
        /// `slti`
        Slti = ("slti", I, opcode::OP_IMM, 0b010),
        /// `sltiu` (the immediate is sign-extended, then compared unsigned)
        Sltiu = ("sltiu", I, opcode::OP_IMM, 0b011),
        /// `xori`
        Xori = ("xori", I, opcode::OP_IMM, 0b100),
        /// `ori`
        Ori = ("ori", I, opcode::OP_IMM, 0b110),
        /// `andi`
        Andi = ("andi", I, opcode::OP_IMM, 0b111),
        /// `addiw`
        Addiw = ("addiw", I, opcode::OP_IMM_32, 0b000),
    }
    fields(opcode, funct3)
}

op_enum! {
    /// 64-bit immediate shifts/rotates with a 6-bit shift amount.
    /// `funct6` occupies bits `31:26`.
    ShiftOp {
        /// `slli`
        Slli = ("slli", I, opcode::OP_IMM, 0b001, 0b00_0000),
        /// `srli`
        Srli = ("srli", I, opcode::OP_IMM, 0b101, 0b00_0000),
        /// `srai`
        Srai = ("srai", I, opcode::OP_IMM, 0b101, 0b01_0000),
        /// `rori`
        Rori = ("rori", Zbb, opcode::OP_IMM, 0b101, 0b01_1000),
        /// `slli.uw`: `rd = zext32(rs1) << shamt`
        SlliUw = ("slli.uw", Zba, opcode::OP_IMM_32, 0b001, 0b00_0010),
    }
    fields(opcode, funct3, funct6)
}

op_enum! {
    /// 32-bit immediate shifts/rotates with a 5-bit shift amount.
    /// `funct7` occupies bits `31:25`.
    ShiftWOp {
        /// `slliw`
        Slliw = ("slliw", I, opcode::OP_IMM_32, 0b001, 0b000_0000),
        /// `srliw`
        Srliw = ("srliw", I, opcode::OP_IMM_32, 0b101, 0b000_0000),
        /// `sraiw`
        Sraiw = ("sraiw", I, opcode::OP_IMM_32, 0b101, 0b010_0000),
        /// `roriw`
        Roriw = ("roriw", Zbb, opcode::OP_IMM_32, 0b101, 0b011_0000),
    }
    fields(opcode, funct3, funct7)
}

op_enum! {
    /// One-operand Zbb operations: `rd = op(rs1)`. Bits `31:20` are a fixed
    /// pattern (`funct12`), so they are encoded as I-type with a constant immediate.
    UnaryOp {
        /// `clz`
        Clz = ("clz", Zbb, opcode::OP_IMM, 0b001, 0x600),
        /// `ctz`
        Ctz = ("ctz", Zbb, opcode::OP_IMM, 0b001, 0x601),
        /// `cpop`
        Cpop = ("cpop", Zbb, opcode::OP_IMM, 0b001, 0x602),
        /// `clzw`
        Clzw = ("clzw", Zbb, opcode::OP_IMM_32, 0b001, 0x600),
        /// `ctzw`
        Ctzw = ("ctzw", Zbb, opcode::OP_IMM_32, 0b001, 0x601),
        /// `cpopw`
        Cpopw = ("cpopw", Zbb, opcode::OP_IMM_32, 0b001, 0x602),
        /// `sext.b`
        SextB = ("sext.b", Zbb, opcode::OP_IMM, 0b001, 0x604),
        /// `sext.h`
        SextH = ("sext.h", Zbb, opcode::OP_IMM, 0b001, 0x605),
        /// `zext.h` (RV64 encoding: `OP-32`, funct7 `0000100`, rs2 = 0)
        ZextH = ("zext.h", Zbb, opcode::OP_32, 0b100, 0x080),
        /// `rev8` (RV64 encoding)
        Rev8 = ("rev8", Zbb, opcode::OP_IMM, 0b101, 0x6b8),
        /// `orc.b`
        OrcB = ("orc.b", Zbb, opcode::OP_IMM, 0b101, 0x287),
    }
    fields(opcode, funct3, funct12)
}

op_enum! {
    /// Conditional branches (B-type).
    BranchOp {
        /// `beq`
        Beq = ("beq", I, 0b000),
        /// `bne`
        Bne = ("bne", I, 0b001),
        /// `blt` (signed)
        Blt = ("blt", I, 0b100),
        /// `bge` (signed)
        Bge = ("bge", I, 0b101),
        /// `bltu`
        Bltu = ("bltu", I, 0b110),
        /// `bgeu`
        Bgeu = ("bgeu", I, 0b111),
    }
    fields(funct3)
}

impl BranchOp {
    /// The branch taken exactly when `self` is not.
    pub const fn inverse(self) -> BranchOp {
        match self {
            BranchOp::Beq => BranchOp::Bne,
            BranchOp::Bne => BranchOp::Beq,
            BranchOp::Blt => BranchOp::Bge,
            BranchOp::Bge => BranchOp::Blt,
            BranchOp::Bltu => BranchOp::Bgeu,
            BranchOp::Bgeu => BranchOp::Bltu,
        }
    }
}

op_enum! {
    /// Loads (I-type): `rd = mem[rs1 + offset]`.
    LoadOp {
        /// `lb` (sign-extending)
        Lb = ("lb", I, 0b000, 1),
        /// `lh`
        Lh = ("lh", I, 0b001, 2),
        /// `lw`
        Lw = ("lw", I, 0b010, 4),
        /// `ld`
        Ld = ("ld", I, 0b011, 8),
        /// `lbu` (zero-extending)
        Lbu = ("lbu", I, 0b100, 1),
        /// `lhu`
        Lhu = ("lhu", I, 0b101, 2),
        /// `lwu`
        Lwu = ("lwu", I, 0b110, 4),
    }
    fields(funct3, size)
}

impl LoadOp {
    /// Does the load sign-extend the value it reads?
    pub const fn is_signed(self) -> bool {
        matches!(self, LoadOp::Lb | LoadOp::Lh | LoadOp::Lw | LoadOp::Ld)
    }
}

op_enum! {
    /// Stores (S-type): `mem[rs1 + offset] = rs2`.
    StoreOp {
        /// `sb`
        Sb = ("sb", I, 0b000, 1),
        /// `sh`
        Sh = ("sh", I, 0b001, 2),
        /// `sw`
        Sw = ("sw", I, 0b010, 4),
        /// `sd`
        Sd = ("sd", I, 0b011, 8),
    }
    fields(funct3, size)
}

op_enum! {
    /// Atomic read-modify-write operations (`funct5` in bits `31:27`).
    AmoOp {
        /// `amoswap`
        Swap = ("amoswap", A, 0b00001),
        /// `amoadd`
        Add = ("amoadd", A, 0b00000),
        /// `amoxor`
        Xor = ("amoxor", A, 0b00100),
        /// `amoand`
        And = ("amoand", A, 0b01100),
        /// `amoor`
        Or = ("amoor", A, 0b01000),
        /// `amomin`
        Min = ("amomin", A, 0b10000),
        /// `amomax`
        Max = ("amomax", A, 0b10100),
        /// `amominu`
        Minu = ("amominu", A, 0b11000),
        /// `amomaxu`
        Maxu = ("amomaxu", A, 0b11100),
    }
    fields(funct5)
}

/// `funct5` of `lr.*`.
pub const LR_FUNCT5: u32 = 0b00010;
/// `funct5` of `sc.*`.
pub const SC_FUNCT5: u32 = 0b00011;

/// Access width of LR/SC/AMO instructions (`funct3`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AmoWidth {
    /// 32-bit (`.w`); the loaded value is sign-extended.
    W,
    /// 64-bit (`.d`).
    D,
}

impl AmoWidth {
    /// Both widths.
    pub const ALL: &'static [AmoWidth] = &[AmoWidth::W, AmoWidth::D];

    /// `funct3` field.
    pub const fn funct3(self) -> u32 {
        match self {
            AmoWidth::W => 0b010,
            AmoWidth::D => 0b011,
        }
    }

    /// Mnemonic suffix (`.w` / `.d`).
    pub const fn suffix(self) -> &'static str {
        match self {
            AmoWidth::W => ".w",
            AmoWidth::D => ".d",
        }
    }

    /// Access size in bytes.
    pub const fn size(self) -> u32 {
        match self {
            AmoWidth::W => 4,
            AmoWidth::D => 8,
        }
    }
}

/// Memory-ordering bits (`aq` = bit 26, `rl` = bit 25) of LR/SC/AMOs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Ordering {
    /// Neither bit.
    Relaxed,
    /// `.aq`
    Acquire,
    /// `.rl`
    Release,
    /// `.aqrl`
    AcqRel,
}

impl Ordering {
    /// All four orderings.
    pub const ALL: &'static [Ordering] = &[
        Ordering::Relaxed,
        Ordering::Acquire,
        Ordering::Release,
        Ordering::AcqRel,
    ];

    /// From the two-bit field `aq:rl`.
    pub const fn from_bits(aq_rl: u32) -> Ordering {
        match aq_rl & 0b11 {
            0b00 => Ordering::Relaxed,
            0b10 => Ordering::Acquire,
            0b01 => Ordering::Release,
            _ => Ordering::AcqRel,
        }
    }

    /// The two-bit field `aq:rl`.
    pub const fn bits(self) -> u32 {
        match self {
            Ordering::Relaxed => 0b00,
            Ordering::Acquire => 0b10,
            Ordering::Release => 0b01,
            Ordering::AcqRel => 0b11,
        }
    }

    /// Mnemonic suffix (`""`, `.aq`, `.rl`, `.aqrl`).
    pub const fn suffix(self) -> &'static str {
        match self {
            Ordering::Relaxed => "",
            Ordering::Acquire => ".aq",
            Ordering::Release => ".rl",
            Ordering::AcqRel => ".aqrl",
        }
    }
}

/// A `fence` predecessor/successor set: bits `i`=8, `o`=4, `r`=2, `w`=1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FenceSet(u8);

impl FenceSet {
    /// Device input.
    pub const I: FenceSet = FenceSet(0b1000);
    /// Device output.
    pub const O: FenceSet = FenceSet(0b0100);
    /// Memory reads.
    pub const R: FenceSet = FenceSet(0b0010);
    /// Memory writes.
    pub const W: FenceSet = FenceSet(0b0001);
    /// Memory reads and writes.
    pub const RW: FenceSet = FenceSet(0b0011);
    /// Everything (`iorw`).
    pub const IORW: FenceSet = FenceSet(0b1111);

    /// From the 4-bit field; `None` if `bits > 0xf`.
    pub const fn new(bits: u32) -> Option<FenceSet> {
        if bits <= 0xf {
            Some(FenceSet(bits as u8))
        } else {
            None
        }
    }

    /// Decoder use: the low 4 bits of `bits`.
    pub(crate) const fn from_field(bits: u32) -> FenceSet {
        FenceSet((bits & 0xf) as u8)
    }

    /// The 4-bit field.
    pub const fn bits(self) -> u32 {
        self.0 as u32
    }

    /// Assembler spelling: subset of `iorw` in that order (`"0"` when empty,
    /// which only appears when disassembling odd encodings).
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 16] = [
            "0", "w", "r", "rw", "o", "ow", "or", "orw", "i", "iw", "ir", "irw", "io", "iow",
            "ior", "iorw",
        ];
        NAMES[self.0 as usize]
    }
}
