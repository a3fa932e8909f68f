//! NFP-6xxx (ME 2.8) microengine instruction words, decoded once at load
//! into [`Insn`]: the forms the Linux nfp JIT emits, 4-context mode. The
//! word's layout is [`super::word`]'s.

pub use super::word::LmMode;
use super::word::{
    A_SRC8, A_SRC10, B_SRC8, B_SRC10, Class, CmdTgtAct, DEFBR, DST_LMEXTN, I8, NFP_INSN_MASK,
    NO_CC, OP_ALU_DST, OP_ALU_DST_AB, OP_ALU_OP, OP_ALU_SW, OP_BR_ALU_IMM_HI, OP_BR_BIT_BV,
    OP_BR_MASK, OP_CMD_CNT, OP_CMD_CTX, OP_CMD_INDIR, OP_CMD_MODE, OP_CMD_SIG, OP_IMMED_IMM,
    OP_IMMED_INV, OP_IMMED_SHIFT, OP_IMMED_WIDTH, OP_LCSR_ADDR, OP_LCSR_WRITE, OP_LDF_BMASK,
    OP_LDF_ZF, OP_MUL_DST_AB, OP_MUL_STEP, OP_MUL_SW, OP_MUL_TYPE, OP_SHF_DST, OP_SHF_DST_AB,
    OP_SHF_OP, OP_SHF_SC, OP_SHF_SHIFT, OP_SHF_SW, Restricted, SRC_LMEXTN, Unrestricted, WR_AB,
    alu_op, br_mask, br_target, cmd_of, cmd_tgt_act, cmd_xfer, imm8, immed_width, is_imm10, lm_ptr,
    mul_step, shf_op, shf_sc,
};

/// GPR bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {
    /// Bank A.
    A,
    /// Bank B.
    B,
}

impl Bank {
    /// Bank B if `b`, else A (a `DST_AB` bit).
    fn of(b: bool) -> Self {
        if b { Bank::B } else { Bank::A }
    }
}

/// An operand field after decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opnd {
    /// Context-relative GPR.
    Gpr(Bank, u8),
    /// Transfer register: reads the transfer-in file, writes the
    /// transfer-out file.
    Xfer(u8),
    /// Local memory through index register `ptr` (0..3).
    Lm {
        /// Index register 0..3.
        ptr: u8,
        /// Offset or post-modification.
        mode: LmMode,
    },
    /// Immediate value (sources only).
    Imm(u32),
    /// No destination (`--`).
    None,
    /// An operand form the JIT never emits (absolute GPR, indexed
    /// transfer/next-neighbour, NN registers): kept raw for the
    /// disassembler; executing it aborts the packet.
    Other(u16),
}

/// Decode an unrestricted (10-bit) operand field.
fn opnd10(v: u32, bank: Bank, lm_ext: bool, dst: bool) -> Opnd {
    match Unrestricted::decode(v) {
        Unrestricted::Gpr(n) => Opnd::Gpr(bank, n),
        Unrestricted::Xfer(n) => Opnd::Xfer(n),
        Unrestricted::Lm { ptr, mode } => Opnd::Lm {
            ptr: lm_ptr(ptr, lm_ext),
            mode,
        },
        Unrestricted::Imm(_) if dst => Opnd::None,
        Unrestricted::Imm(x) => Opnd::Imm(u32::from(x)),
        Unrestricted::AbsGpr(_)
        | Unrestricted::XferIndexed(_)
        | Unrestricted::NnIndexed { .. }
        | Unrestricted::Nn(_)
        | Unrestricted::Undecodable => Opnd::Other(v as u16),
    }
}

/// Decode a restricted (8-bit) operand field; `imm8_msb` is the
/// instruction's [`I8`] bit.
fn opnd8(v: u32, bank: Bank, lm_ext: bool, imm8_msb: bool, dst: bool) -> Opnd {
    match Restricted::decode(v) {
        Restricted::Gpr(n) => Opnd::Gpr(bank, n),
        Restricted::Xfer(n) => Opnd::Xfer(n),
        Restricted::Lm { ptr, offset } => Opnd::Lm {
            ptr: lm_ptr(ptr, lm_ext),
            mode: LmMode::Offset(offset),
        },
        Restricted::Imm(_) if dst => Opnd::None,
        Restricted::Imm(_) => Opnd::Imm(imm8(v, imm8_msb)),
        Restricted::XferIndexed(_) | Restricted::NnIndexed { .. } => Opnd::Other(v as u16),
    }
}

/// ALU operations ([`alu_op`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// `B`
    None,
    /// `+`
    Add,
    /// `~B`
    Not,
    /// `+16`
    Add16,
    /// `AND`
    And,
    /// `~AND`: `~a & b`
    AndNotA,
    /// `-carry`
    SubC,
    /// `AND~`: `a & ~b`
    AndNotB,
    /// `+carry`
    AddC,
    /// `OR`
    Or,
    /// `-`
    Sub,
    /// `XOR`
    Xor,
    /// An ALU op the JIT never emits.
    Other(u8),
}

impl AluOp {
    fn from_bits(v: u32) -> Self {
        match u64::from(v) {
            alu_op::NONE => AluOp::None,
            alu_op::ADD => AluOp::Add,
            alu_op::NOT => AluOp::Not,
            alu_op::ADD_2B => AluOp::Add16,
            alu_op::AND => AluOp::And,
            alu_op::AND_NOT_A => AluOp::AndNotA,
            alu_op::SUB_C => AluOp::SubC,
            alu_op::AND_NOT_B => AluOp::AndNotB,
            alu_op::ADD_C => AluOp::AddC,
            alu_op::OR => AluOp::Or,
            alu_op::SUB => AluOp::Sub,
            alu_op::XOR => AluOp::Xor,
            _ => AluOp::Other(v as u8),
        }
    }
}

/// Shift control of `alu_shf` and `ld_field` ([`shf_sc`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftCtl {
    /// Rotate right (0 = no shift).
    RotR,
    /// Logical right.
    ShR,
    /// Left by `32 - field`.
    ShL,
    /// Double shift (`dbl_shf`).
    DblR,
}

impl ShiftCtl {
    fn from_bits(v: u32) -> Self {
        match u64::from(v) {
            shf_sc::R_ROT => ShiftCtl::RotR,
            shf_sc::R_SHF => ShiftCtl::ShR,
            shf_sc::L_SHF => ShiftCtl::ShL,
            _ => ShiftCtl::DblR,
        }
    }
}

/// `alu_shf` operations ([`shf_op`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShfOp {
    /// `B`
    B,
    /// `~B`
    NotB,
    /// `AND`
    And,
    /// `~AND`
    AndNotA,
    /// `AND~`
    AndNotB,
    /// `OR`
    Or,
    /// `ASHR`
    Ashr,
    /// `byte_align` (never emitted)
    ByteAlign,
}

impl ShfOp {
    fn from_bits(v: u32) -> Self {
        match u64::from(v) {
            shf_op::NONE => ShfOp::B,
            shf_op::NOT_B => ShfOp::NotB,
            shf_op::AND => ShfOp::And,
            shf_op::AND_NOT_A => ShfOp::AndNotA,
            shf_op::AND_NOT_B => ShfOp::AndNotB,
            shf_op::OR => ShfOp::Or,
            shf_op::ASHR => ShfOp::Ashr,
            _ => ShfOp::ByteAlign,
        }
    }
}

/// Branch conditions ([`br_mask`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrCond {
    /// `beq`
    Eq,
    /// `bne`
    Ne,
    /// `bmi`
    Mi,
    /// `bpl`
    Pl,
    /// `bcs` (`bhs`)
    Cs,
    /// `bcc` (`blo`)
    Cc,
    /// `bvs`
    Vs,
    /// `bvc`
    Vc,
    /// `bge`
    Ge,
    /// `blt`
    Lt,
    /// `ble`
    Le,
    /// `bgt`
    Gt,
    /// `br`
    Always,
    /// Context/signal/state conditions the JIT never emits.
    Other(u8),
}

impl BrCond {
    fn from_bits(v: u32) -> Self {
        match u64::from(v) {
            br_mask::BEQ => BrCond::Eq,
            br_mask::BNE => BrCond::Ne,
            br_mask::BMI => BrCond::Mi,
            br_mask::BPL => BrCond::Pl,
            br_mask::BHS => BrCond::Cs,
            br_mask::BLO => BrCond::Cc,
            br_mask::BVS => BrCond::Vs,
            br_mask::BVC => BrCond::Vc,
            br_mask::BGE => BrCond::Ge,
            br_mask::BLT => BrCond::Lt,
            br_mask::BLE => BrCond::Le,
            br_mask::BGT => BrCond::Gt,
            br_mask::UNC => BrCond::Always,
            _ => BrCond::Other(v as u8),
        }
    }
}

/// A CPP memory command (docs/me-isa.md#memory-commands).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cmd {
    /// TGT_CMD field (target and action).
    pub tgt_cmd: u8,
    /// Token (with TGT_CMD, which command).
    pub token: u8,
    /// First transfer register.
    pub xfer: u8,
    /// Length - 1 (units depend on the command).
    pub cnt: u8,
    /// 0..2: swap context after `ctx` defer slots; 3: no swap.
    pub ctx: u8,
    /// Signal number.
    pub sig: u8,
    /// `indirect_ref`: PREV_ALU overrides fields.
    pub indirect: bool,
    /// Address mode: 0 `(A<<8)+B`, 1 `(B<<8)+A`, 4 `A+B`
    /// ([`super::word::cmd_mode`]).
    pub mode: u8,
    /// A operand.
    pub a: Opnd,
    /// B operand.
    pub b: Opnd,
}

/// The MU commands the JIT emits ([`cmd_tgt_act`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    /// `read8`
    Read8,
    /// `read32_swap`
    Read32Swap,
    /// `write8_swap`
    Write8Swap,
    /// `write32_swap`
    Write32Swap,
    /// `add`/`add64` of transfer registers.
    Add,
    /// `add_imm`/`add64_imm` of PREV_ALU data.
    AddImm,
    /// Any other command.
    Other,
}

impl Cmd {
    /// Which of the JIT's commands this is.
    pub fn mem_op(&self) -> MemOp {
        let c = CmdTgtAct {
            token: self.token,
            tgt_cmd: self.tgt_cmd,
        };
        match c {
            cmd_tgt_act::READ8 => MemOp::Read8,
            cmd_tgt_act::READ32_SWAP => MemOp::Read32Swap,
            cmd_tgt_act::WRITE8_SWAP => MemOp::Write8Swap,
            cmd_tgt_act::WRITE32_SWAP => MemOp::Write32Swap,
            cmd_tgt_act::ADD => MemOp::Add,
            cmd_tgt_act::ADD_IMM => MemOp::AddImm,
            _ => MemOp::Other,
        }
    }
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    /// `alu[dst, a, op, b]`
    Alu {
        /// Operation.
        op: AluOp,
        /// Destination.
        dst: Opnd,
        /// A operand (after the encoding's swap: the left one).
        a: Opnd,
        /// B operand.
        b: Opnd,
        /// The operands are swapped.
        swap: bool,
        /// Write a GPR destination in both banks.
        wr_both: bool,
        /// Leave the condition codes alone.
        no_cc: bool,
    },
    /// `alu_shf[dst, a, op, b, shift]`, `asr`, `dbl_shf`.
    AluShf {
        /// Operation.
        op: ShfOp,
        /// Shift control.
        sc: ShiftCtl,
        /// Raw SHIFT field (for SC=ShL the left amount is 32 - field; 0
        /// with SC≠RotR means an indirect amount).
        shift: u8,
        /// Destination.
        dst: Opnd,
        /// A operand.
        a: Opnd,
        /// B operand (the shifted one).
        b: Opnd,
        /// The operands are swapped.
        swap: bool,
        /// Write a GPR destination in both banks.
        wr_both: bool,
    },
    /// `immed*[dst, value]`
    Immed {
        /// Destination.
        dst: Opnd,
        /// The 16-bit constant before inversion and shift.
        value: u16,
        /// 0 whole word, 1 byte, 2 word (partial writes).
        width: u8,
        /// Invert the constant.
        inv: bool,
        /// Byte shift (0..2; width=word uses 0 or 2).
        shift: u8,
        /// Write a GPR destination in both banks.
        wr_both: bool,
    },
    /// `ld_field[dst, bmask, src, shift]`
    LdField {
        /// Destination, also the first source.
        dst: Opnd,
        /// The source.
        src: Opnd,
        /// Shift control.
        sc: ShiftCtl,
        /// Raw SHIFT field.
        shift: u8,
        /// Bytes written.
        bmask: u8,
        /// Clear the other bytes (`ld_field_w_clr`).
        zero_fill: bool,
        /// Write a GPR destination in both banks.
        wr_both: bool,
        /// The operands are swapped.
        swap: bool,
    },
    /// `local_csr_rd[csr]`, `local_csr_wr[csr, src]`
    LocalCsr {
        /// A write.
        write: bool,
        /// CSR byte address.
        csr: u16,
        /// A operand.
        a: Opnd,
        /// B operand.
        b: Opnd,
    },
    /// `b<cond>[target]`
    Br {
        /// Condition.
        cond: BrCond,
        /// Defer slots.
        defer: u8,
        /// Target address.
        target: u16,
    },
    /// `br_bset`/`br_bclr[reg, bit, target]`
    BrBit {
        /// `br_bset`.
        set: bool,
        /// A operand (the register or bit number + 1).
        a: Opnd,
        /// B operand.
        b: Opnd,
        /// Defer slots.
        defer: u8,
        /// Target address.
        target: u16,
    },
    /// `rtn[reg]` when `imm == 0`, else `jump[reg, imm]`.
    BrAlu {
        /// A operand.
        a: Opnd,
        /// B operand.
        b: Opnd,
        /// Defer slots.
        defer: u8,
        /// `jump`'s immediate.
        imm: u32,
    },
    /// `mul_step`
    MulStep {
        /// 0..3 step1..4, 4 last, 5 last2.
        step: u8,
        /// 0 start, 1 24x8, 2 16x16, 3 32x32.
        ty: u8,
        /// A operand.
        a: Opnd,
        /// B operand.
        b: Opnd,
        /// For last/last2: the destination.
        dst: Opnd,
        /// The operands are swapped.
        swap: bool,
        /// Write a GPR destination in both banks.
        wr_both: bool,
    },
    /// A CPP memory command.
    Cmd(Cmd),
    /// A word outside the emitted subset (or a class the JIT never uses).
    Invalid,
}

/// Decode bits 0..44 of a ustore word.
pub fn decode(word: u64) -> Insn {
    let w = word & NFP_INSN_MASK;
    let src_ext = SRC_LMEXTN.is_set(w);
    let dst_ext = DST_LMEXTN.is_set(w);
    let wr_both = WR_AB.is_set(w);
    let (a8, b8) = (A_SRC8.get(w), B_SRC8.get(w));
    let (a10, b10) = (A_SRC10.get(w), B_SRC10.get(w));
    let Some(class) = Class::of(w) else {
        return Insn::Invalid;
    };
    match class {
        Class::Cmd => {
            let c = cmd_of(w);
            Insn::Cmd(Cmd {
                tgt_cmd: c.tgt_cmd,
                token: c.token,
                xfer: cmd_xfer(w) as u8,
                cnt: OP_CMD_CNT.get(w) as u8,
                ctx: OP_CMD_CTX.get(w) as u8,
                sig: OP_CMD_SIG.get(w) as u8,
                indirect: OP_CMD_INDIR.is_set(w),
                mode: OP_CMD_MODE.get(w) as u8,
                a: opnd8(a8, Bank::A, false, false, false),
                b: opnd8(b8, Bank::B, false, false, false),
            })
        }
        Class::AluShf => {
            let i8 = I8.is_set(w);
            Insn::AluShf {
                op: ShfOp::from_bits(OP_SHF_OP.get(w)),
                sc: ShiftCtl::from_bits(OP_SHF_SC.get(w)),
                shift: OP_SHF_SHIFT.get(w) as u8,
                dst: opnd8(
                    OP_SHF_DST.get(w),
                    Bank::of(OP_SHF_DST_AB.is_set(w)),
                    dst_ext,
                    false,
                    true,
                ),
                a: opnd8(a8, Bank::A, src_ext, i8, false),
                b: opnd8(b8, Bank::B, src_ext, i8, false),
                swap: OP_SHF_SW.is_set(w),
                wr_both,
            }
        }
        Class::Alu => Insn::Alu {
            op: AluOp::from_bits(OP_ALU_OP.get(w)),
            dst: opnd10(
                OP_ALU_DST.get(w),
                Bank::of(OP_ALU_DST_AB.is_set(w)),
                dst_ext,
                true,
            ),
            a: opnd10(a10, Bank::A, src_ext, false),
            b: opnd10(b10, Bank::B, src_ext, false),
            swap: OP_ALU_SW.is_set(w),
            wr_both,
            no_cc: NO_CC.is_set(w),
        },
        Class::Immed => {
            // The low byte is in whichever field is an immediate; the
            // other one is the destination.
            let (lo, dst) = if is_imm10(b10) {
                let dst = if is_imm10(a10) {
                    Opnd::None
                } else {
                    opnd10(a10, Bank::A, dst_ext, true)
                };
                (b10 & 0xff, dst)
            } else {
                (a10 & 0xff, opnd10(b10, Bank::B, dst_ext, true))
            };
            let wd = u64::from(OP_IMMED_WIDTH.get(w));
            let width = if wd & immed_width::BYTE != 0 {
                immed_width::BYTE
            } else if wd & immed_width::WORD != 0 {
                immed_width::WORD
            } else {
                immed_width::ALL
            };
            Insn::Immed {
                dst,
                value: (OP_IMMED_IMM.get(w) << 8 | lo) as u16,
                width: width as u8,
                inv: OP_IMMED_INV.is_set(w),
                shift: OP_IMMED_SHIFT.get(w) as u8,
                wr_both,
            }
        }
        Class::LdField => {
            let swap = OP_SHF_SW.is_set(w);
            let i8 = I8.is_set(w);
            let (dst, src) = if swap {
                (
                    opnd8(b8, Bank::B, dst_ext, false, true),
                    opnd8(a8, Bank::A, src_ext, i8, false),
                )
            } else {
                (
                    opnd8(a8, Bank::A, dst_ext, false, true),
                    opnd8(b8, Bank::B, src_ext, i8, false),
                )
            };
            Insn::LdField {
                dst,
                src,
                sc: ShiftCtl::from_bits(OP_SHF_SC.get(w)),
                shift: OP_SHF_SHIFT.get(w) as u8,
                bmask: OP_LDF_BMASK.get(w) as u8,
                zero_fill: OP_LDF_ZF.is_set(w),
                wr_both,
                swap,
            }
        }
        Class::LocalCsr => Insn::LocalCsr {
            write: OP_LCSR_WRITE.is_set(w),
            csr: (OP_LCSR_ADDR.get(w) * 4) as u16,
            a: opnd10(a10, Bank::A, src_ext, false),
            b: opnd10(b10, Bank::B, src_ext, false),
        },
        Class::Branch => Insn::Br {
            cond: BrCond::from_bits(OP_BR_MASK.get(w)),
            defer: DEFBR.get(w) as u8,
            target: br_target(w),
        },
        Class::BrBit => Insn::BrBit {
            set: OP_BR_BIT_BV.is_set(w),
            a: opnd8(a8, Bank::A, src_ext, false, false),
            b: opnd8(b8, Bank::B, src_ext, false, false),
            defer: DEFBR.get(w) as u8,
            target: br_target(w),
        },
        Class::BrAlu => {
            let lo = if is_imm10(b10) {
                b10 & 0xff
            } else if is_imm10(a10) {
                a10 & 0xff
            } else {
                0
            };
            Insn::BrAlu {
                a: opnd10(a10, Bank::A, src_ext, false),
                b: opnd10(b10, Bank::B, src_ext, false),
                defer: DEFBR.get(w) as u8,
                imm: OP_BR_ALU_IMM_HI.get(w) << 8 | lo,
            }
        }
        Class::Mult => {
            let step = OP_MUL_STEP.get(w);
            let last = u64::from(step) >= mul_step::LAST;
            Insn::MulStep {
                step: step as u8,
                ty: OP_MUL_TYPE.get(w) as u8,
                a: opnd10(a10, Bank::A, src_ext, false),
                b: opnd10(b10, Bank::B, src_ext, false),
                dst: if last {
                    opnd10(a10, Bank::of(OP_MUL_DST_AB.is_set(w)), dst_ext, true)
                } else {
                    Opnd::None
                },
                swap: OP_MUL_SW.is_set(w),
                wr_both,
            }
        }
        // Classes the JIT never emits.
        Class::CtxArb | Class::BrByte => Insn::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_golden_drop_program() {
        // immed[gprB_22, 0x3fff]
        assert_eq!(
            decode(0x000f_20f0_03f0_5bff),
            Insn::Immed {
                dst: Opnd::Gpr(Bank::B, 22),
                value: 0x3fff,
                width: 0,
                inv: false,
                shift: 0,
                wr_both: false
            }
        );
        // alu[gprB_22, gprB_22, AND, *l$index1]
        assert_eq!(
            decode(0x0007_00b4_4160_5a20),
            Insn::Alu {
                op: AluOp::And,
                dst: Opnd::Gpr(Bank::B, 22),
                a: Opnd::Lm {
                    ptr: 1,
                    mode: LmMode::Offset(0)
                },
                b: Opnd::Gpr(Bank::B, 22),
                swap: true,
                wr_both: false,
                no_cc: false
            }
        );
        // br[.1], defer[2]
        assert_eq!(
            decode(0x0000_60d8_0060_8038),
            Insn::Br {
                cond: BrCond::Always,
                defer: 2,
                target: 1
            }
        );
        // bcc[.3077]
        assert_eq!(
            decode(0x0005_40db_0140_8125),
            Insn::Br {
                cond: BrCond::Cc,
                defer: 0,
                target: 3077
            }
        );
        // ld_field[gprA_0, 1100, 0x82, <<16]
        assert_eq!(
            decode(0x0008_00c1_0c04_8a00),
            Insn::LdField {
                dst: Opnd::Gpr(Bank::A, 0),
                src: Opnd::Imm(0x82),
                sc: ShiftCtl::ShL,
                shift: 16,
                bmask: 0b1100,
                zero_fill: false,
                wr_both: false,
                swap: false
            }
        );
        // alu_shf[gprB_2, 0xff, AND, gprB_2, >>indirect]
        assert_eq!(
            decode(0x000b_c094_0024_09ff),
            Insn::AluShf {
                op: ShfOp::And,
                sc: ShiftCtl::ShR,
                shift: 0,
                dst: Opnd::Gpr(Bank::B, 2),
                a: Opnd::Imm(0xff),
                b: Opnd::Gpr(Bank::B, 2),
                swap: false,
                wr_both: false
            }
        );
        // immed_w1[gprB_2, 0x4411]
        assert!(matches!(
            decode(0x000b_60f4_4440_0b11),
            Insn::Immed {
                dst: Opnd::Gpr(Bank::B, 2),
                value: 0x4411,
                width: 2,
                shift: 2,
                ..
            }
        ));
        // nop
        assert!(matches!(
            decode(0x0000_00f0_000c_0300),
            Insn::Immed {
                dst: Opnd::None,
                value: 0,
                ..
            }
        ));
    }

    #[test]
    fn decodes_memory_commands() {
        // mem[add_imm, $xfer_0, gprB_1, <<8, gprA_0, 1], indirect_ref
        let Insn::Cmd(c) = decode(0x0008_8647_0008_0700) else {
            panic!()
        };
        assert_eq!(c.mem_op(), MemOp::AddImm);
        assert_eq!(
            (c.mode, c.indirect, c.ctx, c.xfer, c.cnt),
            (1, true, 3, 0, 0)
        );
        assert_eq!((c.a, c.b), (Opnd::Gpr(Bank::A, 0), Opnd::Gpr(Bank::B, 1)));
        // mem[read32_swap, $xfer_0, gprA_2, 0x0, 1], ctx_swap[sig1]
        let Insn::Cmd(c) = decode(0x0004_d05c_1008_8002) else {
            panic!()
        };
        assert_eq!(c.mem_op(), MemOp::Read32Swap);
        assert_eq!((c.mode, c.ctx, c.sig, c.cnt), (4, 0, 1, 0));
        assert_eq!(c.b, Opnd::Imm(0));
    }

    #[test]
    fn every_word_decodes_without_panicking() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let _ = decode(x);
        }
    }
}
