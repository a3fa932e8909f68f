//! Opcode values of the word's fields: operations, conditions, widths,
//! command modes and the commands the JIT emits.

use super::{OP_CMD_TGT_CMD, OP_CMD_TOKEN};

/// `alu` operations (`enum alu_op`, nfp_asm.h:179-192).
pub mod alu_op {
    /// `B`
    pub const NONE: u64 = 0x00;
    /// `+`
    pub const ADD: u64 = 0x01;
    /// `~B`
    pub const NOT: u64 = 0x04;
    /// `+16`
    pub const ADD_2B: u64 = 0x05;
    /// `AND`
    pub const AND: u64 = 0x08;
    /// `~AND`: `~a & b`
    pub const AND_NOT_A: u64 = 0x0c;
    /// `-carry`
    pub const SUB_C: u64 = 0x0d;
    /// `AND~`: `a & ~b`
    pub const AND_NOT_B: u64 = 0x10;
    /// `+carry`
    pub const ADD_C: u64 = 0x11;
    /// `OR`
    pub const OR: u64 = 0x14;
    /// `-`
    pub const SUB: u64 = 0x15;
    /// `XOR`
    pub const XOR: u64 = 0x18;
    // Operations binutils knows beside the driver's (nfp-dis.c:87-121).
    /// `pop_count3`
    pub const POP_COUNT3: u64 = 0x03;
    /// `pop_count1`
    pub const POP_COUNT1: u64 = 0x06;
    /// `pop_count2`
    pub const POP_COUNT2: u64 = 0x07;
    /// `cam_clear`
    pub const CAM_CLEAR: u64 = 0x0b;
    /// `ffs`
    pub const FFS: u64 = 0x0e;
    /// `cam_read_tag`
    pub const CAM_READ_TAG: u64 = 0x0f;
    /// `crc_le`/`crc_be`
    pub const CRC: u64 = 0x12;
    /// `cam_write`
    pub const CAM_WRITE: u64 = 0x13;
    /// `cam_lookup`
    pub const CAM_LOOKUP: u64 = 0x17;
    /// `cam_write_state`
    pub const CAM_WRITE_STATE: u64 = 0x1b;
    /// `cam_read_state`
    pub const CAM_READ_STATE: u64 = 0x1f;
}

/// `alu_shf` operations (`enum shf_op`, nfp_asm.h:153-158; the others
/// from nfp-dis.c:75-85).
pub mod shf_op {
    /// `B`
    pub const NONE: u64 = 0;
    /// `~B`
    pub const NOT_B: u64 = 1;
    /// `AND`
    pub const AND: u64 = 2;
    /// `~AND`
    pub const AND_NOT_A: u64 = 3;
    /// `AND~`
    pub const AND_NOT_B: u64 = 4;
    /// `OR`
    pub const OR: u64 = 5;
    /// `asr`
    pub const ASHR: u64 = 6;
    /// `byte_align_*`
    pub const BYTE_ALIGN: u64 = 7;
}

/// Shift controls of `alu_shf` and `ld_field` (`enum shf_sc`,
/// nfp_asm.h:160-166).
pub mod shf_sc {
    /// Rotate right.
    pub const R_ROT: u64 = 0;
    /// Logical shift right.
    pub const R_SHF: u64 = 1;
    /// Shift left by 32 - SHIFT.
    pub const L_SHF: u64 = 2;
    /// Double shift right (`dbl_shf`).
    pub const R_DSHF: u64 = 3;
}

/// Branch conditions (`enum br_mask`, nfp_asm.h:70-80; the others from
/// nfp-dis.c:251-285).
pub mod br_mask {
    /// Z set.
    pub const BEQ: u64 = 0x00;
    /// Z clear.
    pub const BNE: u64 = 0x01;
    /// N set.
    pub const BMI: u64 = 0x02;
    /// N clear.
    pub const BPL: u64 = 0x03;
    /// C set (`bcs`).
    pub const BHS: u64 = 0x04;
    /// C clear (`bcc`).
    pub const BLO: u64 = 0x05;
    /// V set.
    pub const BVS: u64 = 0x06;
    /// V clear.
    pub const BVC: u64 = 0x07;
    /// N == V.
    pub const BGE: u64 = 0x08;
    /// N != V.
    pub const BLT: u64 = 0x09;
    /// Z or N != V.
    pub const BLE: u64 = 0x0a;
    /// Not Z and N == V.
    pub const BGT: u64 = 0x0b;
    /// Unconditional.
    pub const UNC: u64 = 0x18;
}

/// `OP_BR_EV_PIP` of a conditional branch (`enum br_ev_pip`,
/// nfp_asm.h:82-85).
pub const BR_EV_PIP_COND: u64 = 1;
/// `OP_BR_CSS` of a plain branch (`BR_CSS_NONE`, nfp_asm.h:87-89).
pub const BR_CSS_NONE: u64 = 2;

/// `immed` widths (`enum immed_width`, nfp_asm.h:123-127).
pub mod immed_width {
    /// The whole register.
    pub const ALL: u64 = 0;
    /// One byte.
    pub const BYTE: u64 = 1;
    /// One 16-bit word.
    pub const WORD: u64 = 2;
}

/// `mul_step` types (`enum mul_type`, nfp_asm.h:409-414).
pub mod mul_type {
    /// `start`: latch the operands.
    pub const START: u64 = 0;
    /// 24 x 8 bits.
    pub const STEP_24X8: u64 = 1;
    /// 16 x 16 bits.
    pub const STEP_16X16: u64 = 2;
    /// 32 x 32 bits.
    pub const STEP_32X32: u64 = 3;
}

/// `mul_step` steps (`enum mul_step`, nfp_asm.h:416-424): 0..3 are
/// `step1..4`.
pub mod mul_step {
    /// `last`: the low word of the product.
    pub const LAST: u64 = 4;
    /// `last2`: the high word.
    pub const LAST_2: u64 = 5;
}

/// Address modes of CPP commands (`enum cmd_mode`, nfp_asm.h:244-248).
pub mod cmd_mode {
    /// 40-bit address `(A << 8) + B`.
    pub const M40_AB: u64 = 0;
    /// 40-bit address `(B << 8) + A`.
    pub const M40_BA: u64 = 1;
    /// 32-bit address `A + B`.
    pub const M32: u64 = 4;
}

/// Context swap of CPP commands (`enum cmd_ctx_swap`, nfp_asm.h:250-255):
/// 0..2 swap after that many defer slots.
pub mod cmd_ctx_swap {
    /// Keep running; no signal awaited.
    pub const NO_SWAP: u64 = 3;
}

/// A CPP command: token and target-action (`struct cmd_tgt_act`,
/// nfp_asm.h:223-226).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdTgtAct {
    /// `OP_CMD_TOKEN`.
    pub token: u8,
    /// `OP_CMD_TGT_CMD`.
    pub tgt_cmd: u8,
}

/// The commands the JIT emits (`cmd_tgt_act[]`, nfp_asm.c:12-23).
pub mod cmd_tgt_act {
    use super::CmdTgtAct;

    /// `write8_swap`
    pub const WRITE8_SWAP: CmdTgtAct = CmdTgtAct {
        token: 2,
        tgt_cmd: 0x42,
    };
    /// `write32_swap`
    pub const WRITE32_SWAP: CmdTgtAct = CmdTgtAct {
        token: 2,
        tgt_cmd: 0x5f,
    };
    /// `read8`
    pub const READ8: CmdTgtAct = CmdTgtAct {
        token: 1,
        tgt_cmd: 0x43,
    };
    /// `read32`
    pub const READ32: CmdTgtAct = CmdTgtAct {
        token: 0,
        tgt_cmd: 0x5c,
    };
    /// `read32_le`
    pub const READ32_LE: CmdTgtAct = CmdTgtAct {
        token: 1,
        tgt_cmd: 0x5c,
    };
    /// `read32_swap`
    pub const READ32_SWAP: CmdTgtAct = CmdTgtAct {
        token: 2,
        tgt_cmd: 0x5c,
    };
    /// `read_le`
    pub const READ_LE: CmdTgtAct = CmdTgtAct {
        token: 1,
        tgt_cmd: 0x40,
    };
    /// `read_swap_le`
    pub const READ_SWAP_LE: CmdTgtAct = CmdTgtAct {
        token: 3,
        tgt_cmd: 0x40,
    };
    /// `add`/`add64`
    pub const ADD: CmdTgtAct = CmdTgtAct {
        token: 0,
        tgt_cmd: 0x47,
    };
    /// `add_imm`/`add64_imm`
    pub const ADD_IMM: CmdTgtAct = CmdTgtAct {
        token: 2,
        tgt_cmd: 0x47,
    };

    /// All of them, in the driver's table order.
    pub const ALL: [CmdTgtAct; 10] = [
        WRITE8_SWAP,
        WRITE32_SWAP,
        READ8,
        READ32,
        READ32_LE,
        READ32_SWAP,
        READ_LE,
        READ_SWAP_LE,
        ADD,
        ADD_IMM,
    ];
}

/// The fields of a command word for `c`.
pub fn put_cmd(c: CmdTgtAct) -> u64 {
    OP_CMD_TOKEN.put(u64::from(c.token)) | OP_CMD_TGT_CMD.put(u64::from(c.tgt_cmd))
}

/// The command of a command word.
pub fn cmd_of(w: u64) -> CmdTgtAct {
    CmdTgtAct {
        token: OP_CMD_TOKEN.get(w) as u8,
        tgt_cmd: OP_CMD_TGT_CMD.get(w) as u8,
    }
}
