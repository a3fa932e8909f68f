//! Operand fields: what an unrestricted (10-bit) or restricted (8-bit)
//! A/B/destination field names, and how the driver encodes one.

// Encodings: nfp_asm.h:14-34; decoding: nfp-dis.c:935-1098.

/// Restricted operand: no destination.
pub const RE_REG_NO_DST: u32 = 0x020;
/// Restricted operand: immediate (bits 4..0 and, at 7..6, bits 6..5).
pub const RE_REG_IMM: u32 = 0x020;
/// Restricted operand: LM through pointer 0/1, offset in bits 2..0.
pub const RE_REG_LM: u32 = 0x050;
/// Restricted operand: LM pointer 1.
pub const RE_REG_LM_IDX: u32 = 0x008;
/// Restricted operand: transfer register 0..31.
pub const RE_REG_XFR: u32 = 0x080;
/// Restricted operand: transfer register 32..63.
const RE_REG_XFR_HI: u32 = 0x0c0;
/// Unrestricted operand: transfer register (bit 6: 32..63).
pub const UR_REG_XFR: u32 = 0x180;
/// Unrestricted operand: LM (bit 5 the pointer, bits 3..0 the offset).
pub const UR_REG_LM: u32 = 0x200;
/// Unrestricted operand: LM pointer 1.
pub const UR_REG_LM_IDX: u32 = 0x020;
/// Unrestricted operand: LM pointer post-modified.
pub const UR_REG_LM_POST_MOD: u32 = 0x010;
/// Unrestricted operand: post-decrement rather than increment.
pub const UR_REG_LM_POST_MOD_DEC: u32 = 0x001;
/// Unrestricted operand: no destination; as a source, an 8-bit immediate.
pub const UR_REG_NO_DST: u32 = 0x300;
/// Unrestricted operand: an 8-bit immediate.
pub const UR_REG_IMM: u32 = UR_REG_NO_DST;
/// Unrestricted operand: transfer register 32..63 (bit 6 of the index).
const UR_REG_XFR_HI: u32 = 0x040;

/// The LM index register an operand's pointer bit names: 2 and 3 when the
/// instruction's LM extension bit (`SRC_LMEXTN`/`DST_LMEXTN`) is set.
pub fn lm_ptr(ptr: u8, ext: bool) -> u8 {
    ptr + if ext { 2 } else { 0 }
}

/// Post-modification of an LM index register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LmMode {
    /// `*l$indexN[off]`: word offset ORed into the index.
    Offset(u8),
    /// `*l$indexN++`
    PostInc,
    /// `*l$indexN--`
    PostDec,
}

/// Post-modification of an indexed transfer register (`*$index++`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexMod {
    /// `*$index`
    None,
    /// `*$index++`
    Inc,
    /// `*$index--`
    Dec,
}

impl IndexMod {
    /// Bits 2..1 of an indexed operand (nfp-dis.c:967-975).
    fn of(v: u32) -> Self {
        match (v >> 1) & 3 {
            1 => IndexMod::Inc,
            2 => IndexMod::Dec,
            _ => IndexMod::None,
        }
    }
}

/// What an unrestricted (10-bit) operand field names in 4-context mode
/// (nfp-dis.c:961-1031). The GPR bank and the LM pointer extension come
/// from the instruction, not the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unrestricted {
    /// Context-relative GPR 0..31.
    Gpr(u8),
    /// Absolute GPR (`@gpr`), 0..127.
    AbsGpr(u8),
    /// Indexed transfer register.
    XferIndexed(IndexMod),
    /// Transfer register 0..63.
    Xfer(u8),
    /// LM through pointer `ptr` (0 or 1; +2 with the LM extension bit).
    Lm {
        /// Pointer 0 or 1.
        ptr: u8,
        /// Offset or post-modification.
        mode: LmMode,
    },
    /// Indexed next-neighbour register (`*n$index`, `++` if `inc`).
    NnIndexed {
        /// Post-increment.
        inc: bool,
    },
    /// Next-neighbour register 0..31.
    Nn(u8),
    /// 8-bit immediate; as a destination, none.
    Imm(u8),
    /// An encoding binutils does not decode.
    Undecodable,
}

impl Unrestricted {
    /// Decode a 10-bit field.
    pub fn decode(v: u32) -> Self {
        let n = (v & 0x1f) as u8;
        match v >> 6 {
            0 => Self::Gpr(n),
            2 | 3 => Self::AbsGpr((v & 0x7f) as u8),
            4 | 5 => Self::XferIndexed(IndexMod::of(v)),
            6 | 7 => Self::Xfer(n + if v & UR_REG_XFR_HI != 0 { 32 } else { 0 }),
            8 => Self::Lm {
                ptr: u8::from(v & UR_REG_LM_IDX != 0),
                mode: if v & UR_REG_LM_POST_MOD == 0 {
                    LmMode::Offset((v & 0xf) as u8)
                } else if v & UR_REG_LM_POST_MOD_DEC != 0 {
                    LmMode::PostDec
                } else {
                    LmMode::PostInc
                },
            },
            9 => Self::NnIndexed { inc: v & 2 != 0 },
            0xa => Self::Nn(n),
            0xc..=0xf => Self::Imm(v as u8),
            _ => Self::Undecodable,
        }
    }

    /// The 10-bit field (the driver's encoding: nfp_asm.c:113-160). Only
    /// the forms the driver emits: GPR, transfer register, LM, immediate.
    ///
    /// # Panics
    /// On any other form, or an LM offset above 15 (an assembler bug).
    pub fn encode(self) -> u32 {
        match self {
            Self::Gpr(n) => u32::from(n & 31),
            Self::Xfer(n) if n < 32 => UR_REG_XFR | u32::from(n),
            Self::Xfer(n) => UR_REG_XFR | UR_REG_XFR_HI | u32::from(n & 31),
            Self::Lm { ptr, mode } => {
                let idx = if ptr & 1 != 0 { UR_REG_LM_IDX } else { 0 };
                UR_REG_LM
                    | idx
                    | match mode {
                        LmMode::Offset(o) => {
                            assert!(o < 16, "LM offset {o}");
                            u32::from(o)
                        }
                        LmMode::PostInc => UR_REG_LM_POST_MOD,
                        LmMode::PostDec => UR_REG_LM_POST_MOD | UR_REG_LM_POST_MOD_DEC,
                    }
            }
            Self::Imm(v) => UR_REG_IMM | u32::from(v),
            other => panic!("the driver never encodes {other:?}"),
        }
    }
}

/// Whether a 10-bit field holds an immediate (or, as a destination, none)
/// (nfp-dis.c:935-939).
pub fn is_imm10(v: u32) -> bool {
    v & UR_REG_IMM == UR_REG_IMM
}

/// What a restricted (8-bit) operand field names in 4-context mode
/// (nfp-dis.c:1033-1098). Every encoding names something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restricted {
    /// Context-relative GPR 0..31.
    Gpr(u8),
    /// Transfer register 0..63.
    Xfer(u8),
    /// Indexed transfer register.
    XferIndexed(IndexMod),
    /// Indexed next-neighbour register (`++` if `inc`).
    NnIndexed {
        /// Post-increment.
        inc: bool,
    },
    /// LM through pointer `ptr` (0 or 1; +2 with the extension bit) at a
    /// word offset 0..7.
    Lm {
        /// Pointer 0 or 1.
        ptr: u8,
        /// Word offset.
        offset: u8,
    },
    /// Immediate bits 6..0 (bit 7 is the instruction's [`I8`](super::I8)); as a
    /// destination, none.
    Imm(u8),
}

impl Restricted {
    /// Decode an 8-bit field.
    pub fn decode(v: u32) -> Self {
        let n = (v & 0x1f) as u8;
        match v >> 4 {
            0 | 1 => Self::Gpr(n),
            8 | 9 => Self::Xfer(n),
            0xc | 0xd => Self::Xfer(n + 32),
            4 if v & 1 == 0 => Self::XferIndexed(IndexMod::of(v)),
            4 => Self::NnIndexed { inc: v & 2 != 0 },
            5 => Self::Lm {
                ptr: u8::from(v & RE_REG_LM_IDX != 0),
                offset: (v & 7) as u8,
            },
            // Every other encoding has bit 5 set.
            _ => Self::Imm((((v >> 6) & 3) << 5 | (v & 0x1f)) as u8),
        }
    }

    /// The 8-bit field and the [`I8`](super::I8) bit for the immediate `v` (0..255)
    /// (`RE_REG_IMM_encode`, nfp_asm.h:16-17).
    pub fn encode_imm(v: u8) -> (u32, bool) {
        let v = u32::from(v);
        (RE_REG_IMM | (v & 0x1f) | (v & 0x60) << 1, v & 0x80 != 0)
    }

    /// The 8-bit field (the driver's encoding: nfp_asm.c:214-250). Only
    /// the forms the driver emits: GPR, transfer register, LM offset,
    /// immediate (bits 6..0; bit 7 goes to [`I8`](super::I8)).
    ///
    /// # Panics
    /// On an indexed form or an LM offset above 7 (an assembler bug).
    pub fn encode(self) -> u32 {
        match self {
            Self::Gpr(n) => u32::from(n & 31),
            Self::Xfer(n) if n < 32 => RE_REG_XFR | u32::from(n),
            Self::Xfer(n) => RE_REG_XFR_HI | u32::from(n & 31),
            Self::Lm { ptr, offset } => {
                assert!(offset < 8, "LM offset {offset}");
                let idx = if ptr & 1 != 0 { RE_REG_LM_IDX } else { 0 };
                RE_REG_LM | idx | u32::from(offset)
            }
            Self::Imm(v) => Self::encode_imm(v).0,
            other => panic!("the driver never encodes {other:?}"),
        }
    }
}

/// Whether an 8-bit field holds an immediate (or, as a destination, none)
/// (nfp-dis.c:941-945).
pub fn is_imm8(v: u32) -> bool {
    v & RE_REG_IMM != 0
}

/// The value of an 8-bit immediate field with `msb` ([`I8`](super::I8)) as bit 7
/// (nfp-dis.c:953-959).
pub fn imm8(v: u32, msb: bool) -> u32 {
    u32::from(msb) << 7 | ((v >> 6) & 3) << 5 | (v & 0x1f)
}
