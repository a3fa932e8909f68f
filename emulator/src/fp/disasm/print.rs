//! The printer: one word in binutils' syntax, field by field
//! (nfp-dis.c:961-2418), reading the word through [`crate::fp::word`].

use std::fmt::{self, Write};

use super::tables::{
    ALU_OPS, BR_OPS, CRC_BYTES, CRC_OPS, CSRS, INP_STATES, MUL_STEPS, MUL_TYPES, SHF_OPS,
    cmd_mnemonic, cmd_target,
};
use crate::fp::word::{
    A_SRC8, A_SRC10, B_SRC8, B_SRC10, Class, DEFBR, DST_LMEXTN, I8, IndexMod, LmMode, NO_CC,
    OP_ALU_DST, OP_ALU_DST_AB, OP_ALU_OP, OP_ALU_SW, OP_BB_BYTE, OP_BB_EQ, OP_BR_ALU_IMM_HI,
    OP_BR_BIT_BV, OP_BR_CSS, OP_BR_MASK, OP_CARB_BPT, OP_CARB_BR, OP_CARB_EVENTS, OP_CARB_NOT_KILL,
    OP_CARB_OR, OP_CMD_CNT, OP_CMD_CTX, OP_CMD_INDIR, OP_CMD_MODE, OP_CMD_SIG, OP_CMD_TGT_CMD,
    OP_CMD_TOKEN, OP_IMMED_IMM, OP_IMMED_INV, OP_IMMED_SHIFT, OP_IMMED_WIDTH, OP_LCSR_ADDR,
    OP_LCSR_UIDX, OP_LCSR_WRITE, OP_LDF_BMASK, OP_LDF_LOAD_CC, OP_LDF_ZF, OP_MUL_DST_AB,
    OP_MUL_STEP, OP_MUL_SW, OP_MUL_TYPE, OP_SHF_DST, OP_SHF_DST_AB, OP_SHF_OP, OP_SHF_SC,
    OP_SHF_SHIFT, OP_SHF_SW, PREDICATE_CC, Restricted, SRC_LMEXTN, Unrestricted, WR_AB, alu_op,
    br_target, cmd_ctx_swap, cmd_mode, cmd_xfer, imm8, immed_width, is_imm8, is_imm10, lm_ptr,
    mul_step, shf_op, shf_sc,
};

/// Command address modes binutils prints beside the driver's
/// ([`cmd_mode`]; nfp-dis.c:2330-2396): third-party `(A << 8) + B`.
const CMD_MODE_3RD_AB: u64 = 2;
/// Third-party `(B << 8) + A`.
const CMD_MODE_3RD_BA: u64 = 3;
/// Immediate address.
const CMD_MODE_IMM_ADDR: u64 = 5;
/// Immediate address and data.
const CMD_MODE_IMM: u64 = 6;

/// Bank letter of a `DST_AB` bit.
fn bank(b: bool) -> char {
    if b { 'B' } else { 'A' }
}

/// Source fields A and B after the swap bit, with the bank letter each is
/// printed with.
fn sources(a: u32, b: u32, swap: bool) -> (u32, u32, char, char) {
    if swap {
        (b, a, 'B', 'A')
    } else {
        (a, b, 'A', 'B')
    }
}

/// An 8-bit immediate's value, or all ones if the field is none
/// (nfp-dis.c:947-951).
fn imm10(v: u32) -> u32 {
    if is_imm10(v) { v & 0xff } else { u32::MAX }
}

/// `++`/`--` suffix of an indexed transfer operand.
fn index_mod(m: IndexMod) -> &'static str {
    match m {
        IndexMod::None => "",
        IndexMod::Inc => "++",
        IndexMod::Dec => "--",
    }
}

/// Writes one instruction the way binutils does.
pub(super) struct Out<'a, W: Write + ?Sized> {
    pub(super) w: &'a mut W,
    /// An operand failed to decode (or a field had no name): binutils skips
    /// the remaining operands and ends the line with an error marker
    /// (nfp-dis.c:2973-2976).
    pub(super) err: bool,
}

impl<W: Write + ?Sized> Out<'_, W> {
    fn s(&mut self, s: &str) -> fmt::Result {
        self.w.write_str(s)
    }

    /// An unrestricted (10-bit) operand, 4-context mode (nfp-dis.c:961-1031).
    fn opnd10(&mut self, v: u32, bank: char, lm_ext: bool) -> fmt::Result {
        if self.err {
            return Ok(());
        }
        match Unrestricted::decode(v) {
            Unrestricted::Gpr(n) => write!(self.w, "gpr{bank}_{n}"),
            Unrestricted::AbsGpr(n) => write!(self.w, "@gpr{bank}_{n}"),
            Unrestricted::XferIndexed(m) => {
                self.s("*$index")?;
                self.s(index_mod(m))
            }
            Unrestricted::Xfer(n) => write!(self.w, "$xfer_{n}"),
            Unrestricted::Lm { ptr, mode } => {
                write!(self.w, "*l$index{}", lm_ptr(ptr, lm_ext))?;
                match mode {
                    LmMode::PostDec => self.s("--"),
                    LmMode::PostInc => self.s("++"),
                    LmMode::Offset(0) => Ok(()),
                    LmMode::Offset(o) => write!(self.w, "[{o}]"),
                }
            }
            Unrestricted::NnIndexed { inc } => self.s(if inc { "*n$index++" } else { "*n$index" }),
            Unrestricted::Nn(n) => write!(self.w, "n$reg_{n}"),
            Unrestricted::Imm(x) => write!(self.w, "0x{x:x}"),
            Unrestricted::Undecodable => {
                self.err = true;
                write!(self.w, "<opnd:0x{v:x}>")
            }
        }
    }

    /// A restricted (8-bit) operand, 4-context mode; `msb` is bit 7 of an
    /// immediate (nfp-dis.c:1033-1098).
    fn opnd8(&mut self, v: u32, bank: char, lm_ext: bool, msb: bool) -> fmt::Result {
        if self.err {
            return Ok(());
        }
        match Restricted::decode(v) {
            Restricted::Gpr(n) => write!(self.w, "gpr{bank}_{n}"),
            Restricted::Xfer(n) => write!(self.w, "$xfer_{n}"),
            Restricted::XferIndexed(m) => {
                self.s("*$index")?;
                self.s(index_mod(m))
            }
            Restricted::NnIndexed { inc } => self.s(if inc { "*n$index++" } else { "*n$index" }),
            Restricted::Lm { ptr, offset } => {
                write!(self.w, "*l$index{}", lm_ptr(ptr, lm_ext))?;
                if offset != 0 {
                    write!(self.w, "[{offset}]")?;
                }
                Ok(())
            }
            Restricted::Imm(_) => write!(self.w, "0x{:x}", imm8(v, msb)),
        }
    }

    /// A 10-bit destination: an immediate encoding means none.
    fn dst10(&mut self, v: u32, bank: char, lm_ext: bool) -> fmt::Result {
        if is_imm10(v) {
            self.s("--")
        } else {
            self.opnd10(v, bank, lm_ext)
        }
    }

    /// An 8-bit destination: an immediate encoding means none.
    fn dst8(&mut self, v: u32, bank: char, lm_ext: bool, msb: bool) -> fmt::Result {
        if is_imm8(v) {
            self.s("--")
        } else {
            self.opnd8(v, bank, lm_ext, msb)
        }
    }

    /// Trailing flags of the ALU-like classes: `no_cc` (when the class has
    /// it), `gpr_wrboth` and `predicate_cc`.
    fn flags(&mut self, no_cc: bool, w: u64) -> fmt::Result {
        if no_cc {
            self.s(", no_cc")?;
        }
        if WR_AB.is_set(w) {
            self.s(", gpr_wrboth")?;
        }
        if PREDICATE_CC.is_set(w) {
            self.s(", predicate_cc")?;
        }
        Ok(())
    }

    /// Branch defer slots.
    fn defer(&mut self, w: u64) -> fmt::Result {
        match DEFBR.get(w) {
            0 => Ok(()),
            d => write!(self.w, ", defer[{d}]"),
        }
    }

    /// One word (nfp-dis.c:2923-2950, 2973-2976).
    pub(super) fn insn(&mut self, w: u64) -> fmt::Result {
        match Class::of(w) {
            Some(Class::Cmd) => self.cmd(w)?,
            Some(Class::AluShf) => self.alu_shf(w)?,
            Some(Class::Alu) => self.alu(w)?,
            Some(Class::Immed) => self.immed(w)?,
            Some(Class::LdField) => self.ld_field(w)?,
            Some(Class::CtxArb) => self.ctx_arb(w)?,
            Some(Class::LocalCsr) => self.local_csr(w)?,
            Some(Class::Branch) => self.branch(w)?,
            Some(Class::BrByte) => self.br_byte(w)?,
            Some(Class::BrBit) => self.br_bit(w)?,
            Some(Class::BrAlu) => self.br_alu(w)?,
            Some(Class::Mult) => self.mult(w)?,
            None => {
                // The whole word, ECC bits included (nfp-dis.c:927-933).
                self.err = true;
                write!(self.w, "<invalid_instruction>: 0x{w:x}")?;
            }
        }
        if self.err {
            self.s("\t # ERROR")?;
        }
        Ok(())
    }

    /// `alu_shf`, `asr`, `dbl_shf`, `byte_align_*` (nfp-dis.c:1100-1222).
    fn alu_shf(&mut self, w: u64) -> fmt::Result {
        let op = u64::from(OP_SHF_OP.get(w));
        let sc = u64::from(OP_SHF_SC.get(w));
        let shift = OP_SHF_SHIFT.get(w);
        let msb = I8.is_set(w);
        let (a, b, ab, bb) = sources(A_SRC8.get(w), B_SRC8.get(w), OP_SHF_SW.is_set(w));
        let dst_bank = bank(OP_SHF_DST_AB.is_set(w));
        let (src_ext, dst_ext) = (SRC_LMEXTN.is_set(w), DST_LMEXTN.is_set(w));
        if op == shf_op::BYTE_ALIGN {
            self.s(if sc == shf_sc::L_SHF {
                "byte_align_le["
            } else {
                "byte_align_be["
            })?;
            self.dst8(OP_SHF_DST.get(w), dst_bank, dst_ext, msb)?;
            self.s(", ")?;
            if sc == shf_sc::L_SHF {
                self.opnd8(a, ab, false, msb)?;
            } else {
                self.opnd8(b, bb, false, msb)?;
            }
        } else {
            self.s(if sc == shf_sc::R_DSHF {
                "dbl_shf["
            } else if op == shf_op::ASHR {
                "asr["
            } else {
                "alu_shf["
            })?;
            self.dst8(OP_SHF_DST.get(w), dst_bank, dst_ext, msb)?;
            self.s(", ")?;
            if op != shf_op::ASHR {
                // B and ~B take no A operand, except as dbl_shf.
                if (op == shf_op::NONE || op == shf_op::NOT_B) && sc != shf_sc::R_DSHF {
                    self.s("--")?;
                } else {
                    self.opnd8(a, ab, src_ext, msb)?;
                }
                self.s(", ")?;
                if sc != shf_sc::R_DSHF {
                    self.s(SHF_OPS[op as usize])?;
                    self.s(", ")?;
                }
            }
            self.opnd8(b, bb, src_ext, msb)?;
            self.s(", ")?;
            match (sc, shift) {
                (shf_sc::R_ROT, _) => write!(self.w, ">>rot{shift}")?,
                (shf_sc::L_SHF, 0) => self.s("<<indirect")?,
                (shf_sc::L_SHF, _) => write!(self.w, "<<{}", 32 - shift)?,
                (_, 0) => self.s(">>indirect")?,
                _ => write!(self.w, ">>{shift}")?,
            }
        }
        self.s("]")?;
        self.flags(NO_CC.is_set(w), w)
    }

    /// `alu` and the other operations of the ALU class (nfp-dis.c:1224-1413).
    fn alu(&mut self, w: u64) -> fmt::Result {
        let op = u64::from(OP_ALU_OP.get(w));
        let (a, b, ab, bb) = sources(A_SRC10.get(w), B_SRC10.get(w), OP_ALU_SW.is_set(w));
        let dst = OP_ALU_DST.get(w);
        let dst_bank = bank(OP_ALU_DST_AB.is_set(w));
        let (src_ext, dst_ext) = (SRC_LMEXTN.is_set(w), DST_LMEXTN.is_set(w));
        let mut close = true;
        match op {
            // pop_count3, pop_count1, pop_count2, ffs, cam_read_tag,
            // cam_read_state: [dst, ]B.
            alu_op::POP_COUNT3
            | alu_op::POP_COUNT1
            | alu_op::POP_COUNT2
            | alu_op::FFS
            | alu_op::CAM_READ_TAG
            | alu_op::CAM_READ_STATE => {
                write!(self.w, "{}[", ALU_OPS[op as usize])?;
                if op != alu_op::POP_COUNT1 && op != alu_op::POP_COUNT2 {
                    self.dst10(dst, dst_bank, dst_ext)?;
                    self.s(", ")?;
                }
                self.opnd10(b, bb, src_ext)?;
            }
            alu_op::CAM_CLEAR => {
                close = false;
                self.s("cam_clear")?;
            }
            alu_op::CAM_LOOKUP => {
                close = false;
                self.s("cam_lookup[")?;
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                self.opnd10(a, ab, src_ext)?;
                self.s("]")?;
                if b & 3 != 0 {
                    let n = ((b >> 1) & 1) + if b & 0x10 != 0 { 2 } else { 0 };
                    write!(self.w, ", lm_addr{n}[{}]", (b >> 2) & 3)?;
                }
            }
            // cam_write[B, A, entry], cam_write_state[B, entry].
            alu_op::CAM_WRITE | alu_op::CAM_WRITE_STATE => {
                write!(self.w, "{}[", ALU_OPS[op as usize])?;
                self.opnd10(b, bb, src_ext)?;
                self.s(", ")?;
                if op == alu_op::CAM_WRITE {
                    self.opnd10(a, ab, src_ext)?;
                    self.s(", ")?;
                }
                write!(self.w, "{}", dst & 0xf)?;
            }
            alu_op::CRC => {
                close = false;
                self.s(if a & 8 != 0 { "crc_le[" } else { "crc_be[" })?;
                match CRC_OPS[((a >> 5) & 7) as usize] {
                    "" => {
                        self.s(", <invalid CRC operator>, ")?;
                        self.err = true;
                    }
                    crc => {
                        self.s(crc)?;
                        self.s(", ")?;
                    }
                }
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                self.opnd10(b, bb, src_ext)?;
                self.s("]")?;
                if a & 7 != 0 {
                    self.s(", ")?;
                    self.s(CRC_BYTES[(a & 7) as usize])?;
                }
                if a & 0x10 != 0 {
                    self.s(", bit_swap")?;
                }
            }
            _ => {
                self.s("alu[")?;
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                // B and ~B take no A operand.
                if op == alu_op::NONE || op == alu_op::NOT {
                    self.s("--")?;
                } else {
                    self.opnd10(a, ab, src_ext)?;
                }
                match ALU_OPS[op as usize] {
                    "" => {
                        write!(self.w, ", <operator:0x{op:x}>, ")?;
                        self.err = true;
                    }
                    name => write!(self.w, ", {name}, ")?,
                }
                self.opnd10(b, bb, src_ext)?;
            }
        }
        if close {
            self.s("]")?;
        }
        self.flags(NO_CC.is_set(w), w)
    }

    /// `immed`, `immed_bN`, `immed_wN`, `nop` (nfp-dis.c:1415-1483).
    fn immed(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC10.get(w), B_SRC10.get(w));
        let width = u64::from(OP_IMMED_WIDTH.get(w));
        let (byte, word) = (
            width & immed_width::BYTE != 0,
            width & immed_width::WORD != 0,
        );
        let inv = OP_IMMED_INV.is_set(w);
        let shift = OP_IMMED_SHIFT.get(w);
        // The low byte comes from B if it is an immediate, else from A (all
        // ones when neither is).
        let mut imm = OP_IMMED_IMM.get(w) << 8 | if is_imm10(b) { b & 0xff } else { imm10(a) };
        if is_imm10(a) && is_imm10(b) && imm == 0 {
            return self.s("nop");
        }
        if inv {
            imm = (imm ^ 0xffff) | 0xffff_0000;
        }
        if byte {
            write!(self.w, "immed_b{shift}[")?;
            imm &= 0xff;
        } else if word {
            write!(self.w, "immed_w{}[", shift / 2)?;
            imm &= 0xffff;
        } else {
            self.s("immed[")?;
        }
        // The destination is the field that is not an immediate.
        let dst_ext = DST_LMEXTN.is_set(w);
        if is_imm10(a) && is_imm10(b) {
            self.s("--")?;
        } else if is_imm10(a) {
            self.opnd10(b, 'B', dst_ext)?;
        } else {
            self.opnd10(a, 'A', dst_ext)?;
        }
        write!(self.w, ", 0x{imm:x}")?;
        if !byte && !word && shift != 0 {
            write!(self.w, ", <<{}", shift * 8)?;
        }
        self.s("]")?;
        self.flags(false, w)
    }

    /// `ld_field`, `ld_field_w_clr` (nfp-dis.c:1485-1554).
    fn ld_field(&mut self, w: u64) -> fmt::Result {
        let shift = OP_SHF_SHIFT.get(w);
        let mask = OP_LDF_BMASK.get(w);
        let msb = I8.is_set(w);
        let sc = u64::from(OP_SHF_SC.get(w));
        // The destination is also the first source: A, or B when swapped.
        let (dst, src, db, sb) = sources(A_SRC8.get(w), B_SRC8.get(w), OP_SHF_SW.is_set(w));
        self.s(if OP_LDF_ZF.is_set(w) {
            "ld_field_w_clr["
        } else {
            "ld_field["
        })?;
        self.opnd8(dst, db, DST_LMEXTN.is_set(w), msb)?;
        write!(
            self.w,
            ", {}{}{}{}, ",
            (mask >> 3) & 1,
            (mask >> 2) & 1,
            (mask >> 1) & 1,
            mask & 1
        )?;
        self.opnd8(src, sb, SRC_LMEXTN.is_set(w), msb)?;
        match (sc, shift) {
            (shf_sc::R_ROT, 0) => {}
            (shf_sc::R_ROT, _) => write!(self.w, ", >>rot{shift}")?,
            (shf_sc::R_SHF, 0) => self.s(", >>indirect")?,
            (shf_sc::R_SHF, _) => write!(self.w, ", >>{shift}")?,
            (shf_sc::L_SHF, 0) => self.s(", <<indirect")?,
            (shf_sc::L_SHF, _) => write!(self.w, ", <<{}", 32 - shift)?,
            _ => write!(self.w, ", >>dbl{shift}")?,
        }
        self.s("]")?;
        if OP_LDF_LOAD_CC.is_set(w) {
            self.s(", load_cc")?;
        }
        self.flags(false, w)
    }

    /// `ctx_arb` (nfp-dis.c:1556-1604).
    fn ctx_arb(&mut self, w: u64) -> fmt::Result {
        let events = OP_CARB_EVENTS.get(w);
        let mut any = OP_CARB_OR.is_set(w);
        self.s("ctx_arb[")?;
        if OP_CARB_BPT.is_set(w) {
            self.s("bpt")?;
        } else if events == 1 {
            self.s("voluntary")?;
        } else if events == 0 && !OP_CARB_NOT_KILL.is_set(w) {
            self.s("kill")?;
            any = false;
        } else if events == 0 {
            self.s("--")?;
        } else {
            let mut sep = "";
            for n in (1..16).filter(|n| events >> n & 1 != 0) {
                write!(self.w, "{sep}sig{n}")?;
                sep = ", ";
            }
        }
        self.s("]")?;
        if any {
            self.s(", any")?;
        }
        if OP_CARB_BR.is_set(w) {
            write!(self.w, ", br[.{}]", br_target(w))?;
        }
        self.defer(w)
    }

    /// `local_csr_rd`, `local_csr_wr` and the ME 2.7 `urd`/`uwr` binutils
    /// still decodes for CSR 1 (nfp-dis.c:1606-1671).
    fn local_csr(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC10.get(w), B_SRC10.get(w));
        let write = OP_LCSR_WRITE.is_set(w);
        let csr = OP_LCSR_ADDR.get(w);
        let (src, src_bank) = if is_imm10(a) && !is_imm10(b) {
            (b, 'B')
        } else {
            (a, 'A')
        };
        let ext = SRC_LMEXTN.is_set(w);
        if csr == 1 {
            let idx = u32::from(OP_LCSR_UIDX.is_set(w));
            if write {
                write!(self.w, "uwr[*u$index{idx}++, ")?;
                self.opnd10(src, src_bank, ext)?;
            } else {
                self.s("urd[")?;
                self.opnd10(src, src_bank, ext)?;
                write!(self.w, ", *u$index{idx}++")?;
            }
        } else {
            self.s(if write {
                "local_csr_wr["
            } else {
                "local_csr_rd["
            })?;
            match CSRS.get(csr as usize) {
                Some(name) if !name.is_empty() => self.s(name)?,
                _ => write!(self.w, "0x{:x}", csr * 4)?,
            }
            if write {
                self.s(", ")?;
                self.opnd10(src, src_bank, ext)?;
            }
        }
        self.s("]")
    }

    /// Conditional and unconditional branches (nfp-dis.c:1673-1720).
    fn branch(&mut self, w: u64) -> fmt::Result {
        let op = OP_BR_MASK.get(w) as usize;
        let state = OP_BR_CSS.get(w);
        match BR_OPS[op] {
            "" => {
                self.s("<invalid branch>[")?;
                self.err = true;
            }
            name => write!(self.w, "{name}[")?,
        }
        match op {
            16..=19 => write!(self.w, "{state}, ")?,
            20 | 21 => write!(self.w, "{}, ", INP_STATES[state as usize])?,
            22 | 23 => write!(self.w, "cls_ring{state}_status, ")?,
            _ => {}
        }
        write!(self.w, ".{}]", br_target(w))?;
        self.defer(w)
    }

    /// `br=byte`, `br!=byte` (nfp-dis.c:1722-1765).
    fn br_byte(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC8.get(w), B_SRC8.get(w));
        let msb = I8.is_set(w);
        let ext = SRC_LMEXTN.is_set(w);
        self.s(if OP_BB_EQ.is_set(w) {
            "br=byte["
        } else {
            "br!=byte["
        })?;
        // The register first, then the byte number and the value.
        let (first, fb, second, sb) = if is_imm8(a) {
            (b, 'B', a, 'A')
        } else {
            (a, 'A', b, 'B')
        };
        self.opnd8(first, fb, ext, msb)?;
        write!(self.w, ", {}, ", OP_BB_BYTE.get(w))?;
        self.opnd8(second, sb, ext, msb)?;
        write!(self.w, ", .{}]", br_target(w))?;
        self.defer(w)
    }

    /// `br_bset`, `br_bclr` (nfp-dis.c:1767-1804).
    fn br_bit(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC8.get(w), B_SRC8.get(w));
        let ext = SRC_LMEXTN.is_set(w);
        self.s(if OP_BR_BIT_BV.is_set(w) {
            "br_bset["
        } else {
            "br_bclr["
        })?;
        // One field is the register, the other holds bit number + 1 (all
        // ones if it is no immediate either).
        let (reg, rb, num) = if is_imm8(a) { (b, 'B', a) } else { (a, 'A', b) };
        self.opnd8(reg, rb, ext, false)?;
        let plus1 = if is_imm8(num) {
            imm8(num, false)
        } else {
            u32::MAX
        };
        write!(
            self.w,
            ", {}, .{}]",
            plus1.wrapping_sub(1) & 0x1f,
            br_target(w)
        )?;
        self.defer(w)
    }

    /// `rtn`, `jump` (nfp-dis.c:1806-1842).
    fn br_alu(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC10.get(w), B_SRC10.get(w));
        let hi = OP_BR_ALU_IMM_HI.get(w) << 8;
        let (reg, rb, imm) = if is_imm10(a) {
            (b, 'B', hi | (a & 0xff))
        } else {
            (a, 'A', hi | imm10(b))
        };
        self.s(if imm == 0 { "rtn[" } else { "jump[" })?;
        self.opnd10(reg, rb, SRC_LMEXTN.is_set(w))?;
        if imm != 0 {
            // Printed with %d: all ones shows as -1.
            write!(self.w, ", .{}", imm as i32)?;
        }
        self.s("]")?;
        self.defer(w)
    }

    /// `mul_step` (nfp-dis.c:1844-1905).
    fn mult(&mut self, w: u64) -> fmt::Result {
        let step = OP_MUL_STEP.get(w) as usize;
        let ty = OP_MUL_TYPE.get(w) as usize;
        let (a, b, ab, bb) = sources(A_SRC10.get(w), B_SRC10.get(w), OP_MUL_SW.is_set(w));
        let src_ext = SRC_LMEXTN.is_set(w);
        self.s("mul_step[")?;
        // last/last2 name the destination in the (swapped) A position.
        if step as u64 >= mul_step::LAST {
            self.opnd10(a, bank(OP_MUL_DST_AB.is_set(w)), DST_LMEXTN.is_set(w))?;
            self.s(", --")?;
        } else {
            self.opnd10(a, ab, src_ext)?;
            self.s(", ")?;
            self.opnd10(b, bb, src_ext)?;
        }
        write!(self.w, "], {}", MUL_TYPES[ty])?;
        if ty > 0 {
            match MUL_STEPS[step] {
                "" => {
                    self.s("_<invalid mul_step>")?;
                    self.err = true;
                }
                s => write!(self.w, "_{s}")?,
            }
        }
        self.flags(NO_CC.is_set(w), w)
    }

    /// CPP commands, ME 2.8 layout (nfp-dis.c:2232-2418).
    fn cmd(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (A_SRC8.get(w), B_SRC8.get(w));
        let ctx = u64::from(OP_CMD_CTX.get(w));
        let mut token = OP_CMD_TOKEN.get(w);
        let mut xfer = cmd_xfer(w);
        let len = OP_CMD_CNT.get(w);
        let mut sig = OP_CMD_SIG.get(w);
        let indirect = OP_CMD_INDIR.is_set(w);
        let mode = u64::from(OP_CMD_MODE.get(w));
        // Immediate forms reuse the signal, length, transfer and token
        // fields as data (computed before mode 6 clears them).
        let imm = sig << 10 | len << 7 | (xfer & 0x1f) << 2 | token;
        let val_ba = b << 8 | a;
        if mode == CMD_MODE_IMM {
            (token, sig, xfer) = (0, 0, 0);
        }
        let (target, action) = cmd_target(OP_CMD_TGT_CMD.get(w));
        let Some(target) = target else {
            self.err = true;
            return write!(self.w, "<invalid cmd target -1:{action}:{token}>[]");
        };
        self.s(target.prefix())?;
        let Some(name) = cmd_mnemonic(target, action, token, len) else {
            self.err = true;
            return write!(
                self.w,
                "<invalid cmd action {}:{action}:{token}>[]",
                target.id()
            );
        };
        write!(self.w, "{name}, ")?;
        // Modes 1 and 3 take the address as (B << 8) + A.
        let (a, b, ab, bb) = sources(a, b, mode == cmd_mode::M40_BA || mode == CMD_MODE_3RD_BA);
        match mode {
            cmd_mode::M40_AB | cmd_mode::M40_BA => {
                write!(self.w, "$xfer_{xfer}, ")?;
                self.opnd8(a, ab, false, false)?;
                self.s(", <<8, ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            CMD_MODE_3RD_AB | CMD_MODE_3RD_BA => {
                // Without an ELF MiscControl the 3rd-party address mode is
                // the 40-bit one.
                write!(self.w, "0x{:x}, ", u32::from(indirect) << 6 | xfer)?;
                self.opnd8(a, ab, false, false)?;
                self.s(", <<8, ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            cmd_mode::M32 => {
                write!(self.w, "$xfer_{xfer}, ")?;
                self.opnd8(a, ab, false, false)?;
                self.s(", ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            CMD_MODE_IMM_ADDR => write!(self.w, "$xfer_{xfer}, 0x{val_ba:x}, {}", len + 1)?,
            CMD_MODE_IMM => write!(self.w, "0x{val_ba:x}, 0x{imm:x}")?,
            _ => write!(self.w, "0x{:x}, --, {}", xfer << 16 | val_ba, len + 1)?,
        }
        self.s("]")?;
        if indirect && mode != CMD_MODE_3RD_AB && mode != CMD_MODE_3RD_BA {
            self.s(", indirect_ref")?;
        }
        if ctx != cmd_ctx_swap::NO_SWAP {
            match sig {
                0 => self.s(", ctx_swap[--]")?,
                s => write!(self.w, ", ctx_swap[sig{s}]")?,
            }
            if ctx != 0 {
                write!(self.w, ", defer[{ctx}]")?;
            }
        } else if sig != 0 {
            write!(self.w, ", sig_done[sig{sig}]")?;
        }
        Ok(())
    }
}
