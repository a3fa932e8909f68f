//! The ME instruction word, defined once: its classes, field positions and
//! masks, operand encodings, opcode values and ECC. The decoder
//! ([`super::insn`]), the disassembler ([`super::disasm`]) and the
//! assembler (`super::asm`, test-only) all read and write words through
//! this module and nothing else.
//!
//! A ustore word is 64 bits: bits 44..0 hold the instruction, 51..45 its
//! ECC, 63..52 are zero. Field masks carry the driver's names
//! (nfp_asm.h:36-267, 426-435); the instruction classes and what the driver
//! does not name come from binutils (include/opcode/nfp.h:100-158,
//! opcodes/nfp-dis.c).

mod opcode;
mod operand;

pub use opcode::{
    BR_CSS_NONE, BR_EV_PIP_COND, CmdTgtAct, alu_op, br_mask, cmd_ctx_swap, cmd_mode, cmd_of,
    cmd_tgt_act, immed_width, mul_step, mul_type, put_cmd, shf_op, shf_sc,
};
pub use operand::{
    IndexMod, LmMode, RE_REG_IMM, RE_REG_LM, RE_REG_LM_IDX, RE_REG_NO_DST, RE_REG_XFR, Restricted,
    UR_REG_IMM, UR_REG_LM, UR_REG_LM_IDX, UR_REG_LM_POST_MOD, UR_REG_LM_POST_MOD_DEC,
    UR_REG_NO_DST, UR_REG_XFR, Unrestricted, imm8, is_imm8, is_imm10, lm_ptr,
};

/// Bits 44..0 hold the instruction, 51..45 the ECC (nfp_asm.c:285-320).
pub const NFP_INSN_MASK: u64 = (1 << 45) - 1;
/// Where the ECC bits start.
const ECC_SHIFT: u32 = 45;
/// Parity masks of the 7 ECC bits (nfp_asm.c:288-296).
const ECC_POLY: [u64; 7] = [
    0x0ff8_0000_7fff,
    0x11f8_01ff_801f,
    0x1e38_7e07_81e1,
    0x17cb_8e38_8e22,
    0x1af5_b2c9_3244,
    0x1f56_d552_5488,
    0x0daf_69a4_6910,
];

/// The 7 ECC bits of a 45-bit instruction (nfp_asm.c:288-296, 311-320).
pub fn ecc(insn: u64) -> u64 {
    ECC_POLY.iter().enumerate().fold(0, |e, (i, p)| {
        e | u64::from((insn & p).count_ones() & 1) << i
    })
}

/// Whether a ustore word carries a correct ECC and nothing above bit 51.
pub fn ecc_ok(word: u64) -> bool {
    word >> 52 == 0 && (word >> ECC_SHIFT) & 0x7f == ecc(word & NFP_INSN_MASK)
}

/// A word with its ECC filled in (what the driver DMAs).
pub fn with_ecc(insn: u64) -> u64 {
    let i = insn & NFP_INSN_MASK;
    i | ecc(i) << ECC_SHIFT
}

/// A field of the instruction word, given by its mask as the driver gives
/// it (`OP_ALU_OP` = `0x00f80000000`: bits 35..31). At most 32 bits wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field(pub u64);

impl Field {
    /// The lowest bit of the field.
    pub const fn shift(self) -> u32 {
        self.0.trailing_zeros()
    }

    /// The field's value in `w`.
    #[inline]
    pub const fn get(self, w: u64) -> u32 {
        ((w & self.0) >> self.shift()) as u32
    }

    /// Bit 0 of the field's value in `w` (for one-bit fields).
    #[inline]
    pub const fn is_set(self, w: u64) -> bool {
        w & self.0 != 0
    }

    /// `v` in the field's position; bits of `v` that do not fit are
    /// dropped.
    #[inline]
    pub const fn put(self, v: u64) -> u64 {
        (v << self.shift()) & self.0
    }

    /// A one-bit field set or clear.
    #[inline]
    pub const fn flag(self, on: bool) -> u64 {
        if on { self.0 } else { 0 }
    }
}

/// Instruction classes, in the order binutils tests them (a word belongs
/// to the first class whose pattern it matches; nfp-dis.c:2923-2950).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// CPP memory commands (`mem[...]`, `cls[...]`, ...).
    Cmd,
    /// `alu_shf`, `asr`, `dbl_shf`, `byte_align_*`.
    AluShf,
    /// `alu` and its CRC/CAM/pop_count forms.
    Alu,
    /// `immed*`, `nop`.
    Immed,
    /// `ld_field`, `ld_field_w_clr`.
    LdField,
    /// `ctx_arb`.
    CtxArb,
    /// `local_csr_rd`, `local_csr_wr`.
    LocalCsr,
    /// Conditional and unconditional branches.
    Branch,
    /// `br=byte`, `br!=byte`.
    BrByte,
    /// `br_bset`, `br_bclr`.
    BrBit,
    /// `rtn`, `jump`.
    BrAlu,
    /// `mul_step`.
    Mult,
}

impl Class {
    /// Every class, in matching order.
    pub const ALL: [Class; 12] = [
        Class::Cmd,
        Class::AluShf,
        Class::Alu,
        Class::Immed,
        Class::LdField,
        Class::CtxArb,
        Class::LocalCsr,
        Class::Branch,
        Class::BrByte,
        Class::BrBit,
        Class::BrAlu,
        Class::Mult,
    ];

    /// The bits that identify the class (include/opcode/nfp.h:100-158;
    /// the driver's `OP_BR_BASE_MASK`, `OP_BR_BIT_BASE_MASK`,
    /// `OP_BR_ALU_BASE_MASK` where it has one).
    pub const fn mask(self) -> u64 {
        match self {
            Class::Cmd => 0x0080_0000_0000,
            Class::AluShf | Class::Alu => 0x00e0_0000_0000,
            Class::Immed => 0x01f9_0000_0000,
            Class::LdField => 0x01fa_00e0_0000,
            Class::CtxArb | Class::BrByte => 0x00f8_0000_0000,
            Class::LocalCsr => 0x01fe_0010_0000,
            Class::Branch => 0x00f8_000c_3ce0,
            Class::BrBit => 0x00f8_0008_0300,
            Class::BrAlu => 0x00ff_8000_0000,
            Class::Mult => 0x00fe_3f00_0000,
        }
    }

    /// Their value: the base opcode the driver ORs the fields into
    /// (`OP_SHF_BASE`, `OP_ALU_BASE`, ...; nfp_asm.h).
    pub const fn base(self) -> u64 {
        match self {
            Class::Cmd => 0,
            Class::AluShf => 0x0080_0000_0000,
            Class::Alu => 0x00a0_0000_0000,
            Class::Immed => 0x00f0_0000_0000,
            Class::LdField => 0x00c0_0000_0000,
            Class::CtxArb => 0x00e0_0000_0000,
            Class::LocalCsr => 0x00fc_0000_0000,
            Class::Branch => 0x00d8_0000_0020,
            Class::BrByte => 0x00c8_0000_0000,
            Class::BrBit => 0x00d0_0000_0000,
            Class::BrAlu => 0x00e8_0000_0000,
            Class::Mult => 0x00f8_0000_0000,
        }
    }

    /// Whether `w` matches this class's pattern (earlier classes aside).
    pub const fn matches(self, w: u64) -> bool {
        w & self.mask() == self.base()
    }

    /// The class of `w`, or `None` for an invalid word.
    pub fn of(w: u64) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.matches(w))
    }
}

// Fields several classes share.

/// Unrestricted (10-bit) A operand (`OP_ALU_A_SRC`).
pub const A_SRC10: Field = Field(0x0000_0000_03ff);
/// Unrestricted (10-bit) B operand (`OP_ALU_B_SRC`).
pub const B_SRC10: Field = Field(0x0000_000f_fc00);
/// Restricted (8-bit) A operand (`OP_SHF_A_SRC`).
pub const A_SRC8: Field = Field(0x0000_0000_00ff);
/// Restricted (8-bit) B operand (`OP_SHF_B_SRC`).
pub const B_SRC8: Field = Field(0x0000_0003_fc00);
/// Bit 7 of an 8-bit immediate in a restricted operand (`OP_SHF_I8`).
pub const I8: Field = Field(0x0000_0004_0000);
/// Branch defer slots (`OP_BR_DEFBR`, also of the other branch classes).
pub const DEFBR: Field = Field(0x0000_0030_0000);
/// `no_cc` of `alu` and `mul_step` (nfp-dis.c:1398-1400).
pub const NO_CC: Field = Field(0x0100_0000_0000);
/// Write the destination GPR in both banks (`OP_ALU_WR_AB`).
pub const WR_AB: Field = Field(0x0200_0000_0000);
/// Source LM pointers are 2 and 3 (`OP_ALU_SRC_LMEXTN`).
pub const SRC_LMEXTN: Field = Field(0x0400_0000_0000);
/// The destination LM pointer is 2 or 3 (`OP_ALU_DST_LMEXTN`).
pub const DST_LMEXTN: Field = Field(0x0800_0000_0000);
/// `predicate_cc` (nfp-dis.c:2902-2905).
pub const PREDICATE_CC: Field = Field(0x1000_0000_0000);

/// `alu_shf` (nfp_asm.h:139-151).
pub const OP_SHF_SC: Field = Field(0x0000_0000_0300);
/// Swap the A and B operands (`OP_SHF_SW`; `ld_field`: `OP_LDF_SW`).
pub const OP_SHF_SW: Field = Field(0x0000_0008_0000);
/// Restricted destination.
pub const OP_SHF_DST: Field = Field(0x0000_0ff0_0000);
/// Shift amount (`ld_field`: `OP_LDF_SHF`).
pub const OP_SHF_SHIFT: Field = Field(0x0001_f000_0000);
/// [`shf_op`].
pub const OP_SHF_OP: Field = Field(0x000e_0000_0000);
/// The destination is in bank B.
pub const OP_SHF_DST_AB: Field = Field(0x0010_0000_0000);

/// `alu` (nfp_asm.h:168-177): unrestricted destination.
pub const OP_ALU_DST: Field = Field(0x0000_3ff0_0000);
/// Swap the A and B operands.
pub const OP_ALU_SW: Field = Field(0x0000_4000_0000);
/// [`alu_op`].
pub const OP_ALU_OP: Field = Field(0x000f_8000_0000);
/// The destination is in bank B.
pub const OP_ALU_DST_AB: Field = Field(0x0010_0000_0000);

/// `immed` (nfp_asm.h:112-121): bits 15..8 of the constant.
pub const OP_IMMED_IMM: Field = Field(0x0000_0ff0_0000);
/// [`immed_width`]; binutils reads bit 29 as byte, bit 30 as word.
pub const OP_IMMED_WIDTH: Field = Field(0x0000_6000_0000);
/// Invert the constant.
pub const OP_IMMED_INV: Field = Field(0x0000_8000_0000);
/// Byte shift of the constant.
pub const OP_IMMED_SHIFT: Field = Field(0x0006_0000_0000);

/// `ld_field` (nfp_asm.h:199-210): clear the unselected bytes.
pub const OP_LDF_ZF: Field = Field(0x0000_0010_0000);
/// Byte mask.
pub const OP_LDF_BMASK: Field = Field(0x0000_0f00_0000);
/// `load_cc` (nfp-dis.c:1540-1541).
pub const OP_LDF_LOAD_CC: Field = Field(0x0004_0000_0000);

/// CPP commands (nfp_asm.h:212-221): context swap ([`cmd_ctx_swap`]).
pub const OP_CMD_CTX: Field = Field(0x0000_0000_0300);
/// Token (with TGT_CMD: [`CmdTgtAct`]).
pub const OP_CMD_TOKEN: Field = Field(0x0000_000c_0000);
/// First transfer register, bits 4..0.
pub const OP_CMD_XFER: Field = Field(0x0000_01f0_0000);
/// Bit 5 of the first transfer register (nfp-dis.c:2240).
pub const OP_CMD_XFER_HI: Field = Field(0x0100_0000_0000);
/// Length - 1.
pub const OP_CMD_CNT: Field = Field(0x0000_0e00_0000);
/// Signal.
pub const OP_CMD_SIG: Field = Field(0x0000_f000_0000);
/// Target and action.
pub const OP_CMD_TGT_CMD: Field = Field(0x007f_0000_0000);
/// `indirect_ref`: PREV_ALU overrides fields.
pub const OP_CMD_INDIR: Field = Field(0x0200_0000_0000);
/// Address mode ([`cmd_mode`]).
pub const OP_CMD_MODE: Field = Field(0x1c00_0000_0000);

/// `local_csr_*` (nfp_asm.h:261-267): write, not read.
pub const OP_LCSR_WRITE: Field = Field(0x0000_0020_0000);
/// CSR word address (byte address / 4).
pub const OP_LCSR_ADDR: Field = Field(0x0001_ffc0_0000);
/// ME 2.7 `urd`/`uwr` index register (nfp-dis.c:1620).
pub const OP_LCSR_UIDX: Field = Field(0x0000_0010_0000);

/// `ctx_arb` (nfp-dis.c:1556-1604): signals waited for.
pub const OP_CARB_EVENTS: Field = Field(0x0000_0000_ffff);
/// `any` (`OP_CARB_OR`).
pub const OP_CARB_OR: Field = Field(0x0000_0001_0000);
/// Breakpoint.
pub const OP_CARB_BPT: Field = Field(0x0000_0002_0000);
/// Branch after the swap.
pub const OP_CARB_BR: Field = Field(0x0000_0004_0000);
/// With no events: `--` rather than `kill`.
pub const OP_CARB_NOT_KILL: Field = Field(0x0000_0008_0000);

/// Branches (nfp_asm.h:36-43): condition ([`br_mask`]).
pub const OP_BR_MASK: Field = Field(0x0000_0000_001f);
/// Event/pipeline field ([`BR_EV_PIP_COND`]).
pub const OP_BR_EV_PIP: Field = Field(0x0000_0000_0300);
/// Context/signal/state number.
pub const OP_BR_CSS: Field = Field(0x0000_0003_c000);
/// Target address bits 12..0.
pub const OP_BR_ADDR_LO: Field = Field(0x0007_ffc0_0000);
/// Target address bit 13.
pub const OP_BR_ADDR_HI: Field = Field(0x0100_0000_0000);

/// `br_bset` rather than `br_bclr` (`OP_BR_BIT_BV`, nfp_asm.h:49).
pub const OP_BR_BIT_BV: Field = Field(0x0000_0004_0000);
/// `br=byte` rather than `br!=byte` (`OP_BB_EQ`, nfp_asm.h:100).
pub const OP_BB_EQ: Field = Field(0x0000_0008_0000);
/// The byte compared (`OP_BB_BYTE`, nfp_asm.h:97).
pub const OP_BB_BYTE: Field = Field(0x0000_0000_0300);
/// Bits 16..8 of `jump`'s immediate (`OP_BR_ALU_IMM_HI`, nfp_asm.h:60).
pub const OP_BR_ALU_IMM_HI: Field = Field(0x0000_7fc0_0000);

/// `mul_step` (nfp_asm.h:426-435): [`mul_step`].
pub const OP_MUL_STEP: Field = Field(0x0000_0070_0000);
/// The destination of `last`/`last2` is in bank B.
pub const OP_MUL_DST_AB: Field = Field(0x0000_0080_0000);
/// Swap the A and B operands.
pub const OP_MUL_SW: Field = Field(0x0000_4000_0000);
/// [`mul_type`].
pub const OP_MUL_TYPE: Field = Field(0x0001_8000_0000);

/// A branch's target address: `OP_BR_ADDR_HI` above `OP_BR_ADDR_LO`
/// (nfp_asm.c:32-40).
pub fn br_target(w: u64) -> u16 {
    (OP_BR_ADDR_HI.get(w) << 13 | OP_BR_ADDR_LO.get(w)) as u16
}

/// A command's first transfer register: `OP_CMD_XFER_HI` above
/// `OP_CMD_XFER` (nfp-dis.c:2240).
pub fn cmd_xfer(w: u64) -> u32 {
    OP_CMD_XFER_HI.get(w) << 5 | OP_CMD_XFER.get(w)
}

/// The target fields of a branch to `t` (bits above 13 dropped).
pub fn put_br_target(t: u16) -> u64 {
    OP_BR_ADDR_LO.put(u64::from(t)) | OP_BR_ADDR_HI.put(u64::from(t >> 13))
}

#[cfg(test)]
mod tests;
