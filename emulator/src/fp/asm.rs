//! A small assembler for the instruction forms the JIT emits, used by the
//! executor's and the disassembler's tests. Words are built from
//! [`super::word`]'s fields; operands are placed in the A/B fields by bank
//! the way the driver's `swreg_to_unrestricted`/`_restricted` do
//! (nfp_asm.c:162-283): a B-bank left operand or an A-bank right operand
//! sets the swap bit.

use super::word::{
    A_SRC8, A_SRC10, B_SRC8, B_SRC10, Class, CmdTgtAct, DEFBR, DST_LMEXTN, I8, LmMode, OP_ALU_DST,
    OP_ALU_DST_AB, OP_ALU_OP, OP_ALU_SW, OP_BR_BIT_BV, OP_BR_CSS, OP_BR_EV_PIP, OP_BR_MASK,
    OP_CMD_CNT, OP_CMD_CTX, OP_CMD_INDIR, OP_CMD_MODE, OP_CMD_SIG, OP_CMD_XFER, OP_IMMED_IMM,
    OP_IMMED_INV, OP_IMMED_SHIFT, OP_IMMED_WIDTH, OP_LCSR_ADDR, OP_LCSR_WRITE, OP_LDF_BMASK,
    OP_LDF_ZF, OP_MUL_DST_AB, OP_MUL_STEP, OP_MUL_SW, OP_MUL_TYPE, OP_SHF_DST, OP_SHF_DST_AB,
    OP_SHF_OP, OP_SHF_SC, OP_SHF_SHIFT, OP_SHF_SW, RE_REG_NO_DST, Restricted, SRC_LMEXTN,
    UR_REG_NO_DST, Unrestricted, WR_AB, br_mask, cmd_ctx_swap, mul_step, put_br_target, put_cmd,
    with_ecc,
};
pub use super::word::{
    BR_CSS_NONE, BR_EV_PIP_COND, alu_op, br_mask as br, cmd_tgt_act as cmd, shf_op, shf_sc as sc,
};

/// An operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum R {
    /// GPR A n.
    A(u8),
    /// GPR B n.
    B(u8),
    /// GPR n of both banks (destination: `gpr_wrboth`; source: read
    /// from whichever bank the field needs).
    Both(u8),
    /// Transfer register n.
    X(u8),
    /// Immediate.
    Imm(u32),
    /// `*l$indexP[off]`.
    Lm(u8, u8),
    /// `*l$indexP++`.
    LmInc(u8),
    /// `*l$indexP--`.
    LmDec(u8),
    /// No destination.
    None,
}

fn lm_ext(r: R) -> bool {
    matches!(r, R::Lm(p, _) | R::LmInc(p) | R::LmDec(p) if p >= 2)
}

/// An immediate that fits a field of `max`.
fn imm(v: u32, max: u32) -> u8 {
    assert!(v <= max, "immediate {v:#x} above {max:#x}");
    v as u8
}

/// Unrestricted (10-bit) operand field (nfp_asm.c:113-160).
fn u10(r: R) -> u64 {
    let o = match r {
        R::A(n) | R::B(n) | R::Both(n) => Unrestricted::Gpr(n),
        R::X(n) => Unrestricted::Xfer(n),
        R::Imm(v) => Unrestricted::Imm(imm(v, 0xff)),
        R::Lm(p, off) => Unrestricted::Lm {
            ptr: p,
            mode: LmMode::Offset(off),
        },
        R::LmInc(p) => Unrestricted::Lm {
            ptr: p,
            mode: LmMode::PostInc,
        },
        R::LmDec(p) => Unrestricted::Lm {
            ptr: p,
            mode: LmMode::PostDec,
        },
        R::None => return u64::from(UR_REG_NO_DST),
    };
    u64::from(o.encode())
}

/// Restricted (8-bit) operand field and the I8 bit (nfp_asm.c:214-250).
fn u8f(r: R) -> (u64, bool) {
    let o = match r {
        R::A(n) | R::B(n) | R::Both(n) => Restricted::Gpr(n),
        R::X(n) => Restricted::Xfer(n),
        R::Imm(v) => {
            let (f, i8) = Restricted::encode_imm(imm(v, 0xff));
            return (u64::from(f), i8);
        }
        R::Lm(p, off) => Restricted::Lm {
            ptr: p,
            offset: off,
        },
        R::None => return (u64::from(RE_REG_NO_DST), false),
        R::LmInc(_) | R::LmDec(_) => panic!("no post-modify in restricted operands"),
    };
    (u64::from(o.encode()), false)
}

/// Whether the driver puts (left, right) swapped: left in bank B or right
/// in bank A.
fn swapped(l: R, r: R) -> bool {
    matches!(l, R::B(_)) || matches!(r, R::A(_))
}

/// Place (left, right) into (A field, B field, swap). An unused source
/// (`--`) is encoded as field value 0, as the driver does.
fn place(l: R, r: R) -> (R, R, bool) {
    let unused = |x: R| if x == R::None { R::A(0) } else { x };
    if swapped(l, r) {
        (unused(r), unused(l), true)
    } else {
        (unused(l), unused(r), false)
    }
}

/// Destination bits: (in bank B, WR_AB and DST_LMEXTN bits).
fn dst_bits(d: R) -> (bool, u64) {
    (
        matches!(d, R::B(_)),
        WR_AB.flag(matches!(d, R::Both(_))) | DST_LMEXTN.flag(lm_ext(d)),
    )
}

/// SRC_LMEXTN when a source uses LM pointer 2 or 3.
fn src_ext(a: R, b: R) -> u64 {
    SRC_LMEXTN.flag(lm_ext(a) || lm_ext(b))
}

/// `alu[dst, l, op, r]`
pub fn alu(dst: R, l: R, op: u64, r: R) -> u64 {
    let (a, b, sw) = place(l, r);
    let (ab, extra) = dst_bits(dst);
    with_ecc(
        Class::Alu.base()
            | A_SRC10.put(u10(a))
            | B_SRC10.put(u10(b))
            | OP_ALU_DST.put(u10(dst))
            | OP_ALU_SW.flag(sw)
            | OP_ALU_OP.put(op)
            | OP_ALU_DST_AB.flag(ab)
            | extra
            | src_ext(a, b),
    )
}

/// `alu_shf[dst, l, op, r, shift]`: `shift` is the SHIFT field as encoded
/// (for a left shift by n pass 32 - n; 0 = indirect).
pub fn alu_shf(dst: R, l: R, op: u64, r: R, sc: u64, shift: u64) -> u64 {
    let (a, b, sw) = place(l, r);
    let (fa, ia) = u8f(a);
    let (fb, ib) = u8f(b);
    let (fd, _) = u8f(dst);
    let (ab, extra) = dst_bits(dst);
    with_ecc(
        Class::AluShf.base()
            | A_SRC8.put(fa)
            | OP_SHF_SC.put(sc)
            | B_SRC8.put(fb)
            | I8.flag(ia || ib)
            | OP_SHF_SW.flag(sw)
            | OP_SHF_DST.put(fd)
            | OP_SHF_SHIFT.put(shift)
            | OP_SHF_OP.put(op)
            | OP_SHF_DST_AB.flag(ab)
            | extra
            | src_ext(a, b),
    )
}

/// `immed[dst, v16 << 8*shift]` with width 0 (all), 1 (byte), 2 (word).
/// A missing destination goes in the A field as `UR_REG_NO_DST`
/// (jit.c:311-315).
pub fn immed(dst: R, v16: u16, width: u64, inv: bool, shift: u64) -> u64 {
    let lo = R::Imm(u32::from(v16 & 0xff));
    let (fa, fb) = match dst {
        R::B(_) => (u10(lo), u10(dst)),
        _ => (u10(dst), u10(lo)),
    };
    let (_, extra) = dst_bits(dst);
    with_ecc(
        Class::Immed.base()
            | A_SRC10.put(fa)
            | B_SRC10.put(fb)
            | OP_IMMED_IMM.put(u64::from(v16 >> 8))
            | OP_IMMED_WIDTH.put(width)
            | OP_IMMED_INV.flag(inv)
            | OP_IMMED_SHIFT.put(shift)
            | extra,
    )
}

/// `ld_field[dst, bmask, src, shift]` (`zf`: `ld_field_w_clr`): the
/// destination is also the left source (jit.c:393-410).
pub fn ld_field(dst: R, bmask: u64, src: R, sc: u64, shift: u64, zf: bool) -> u64 {
    let swap = swapped(dst, src);
    let (fd, _) = u8f(dst);
    let (fs, i8) = u8f(src);
    let (fa, fb) = if swap { (fs, fd) } else { (fd, fs) };
    let (_, extra) = dst_bits(dst);
    with_ecc(
        Class::LdField.base()
            | A_SRC8.put(fa)
            | OP_SHF_SC.put(sc)
            | B_SRC8.put(fb)
            | I8.flag(i8)
            | OP_SHF_SW.flag(swap)
            | OP_LDF_ZF.flag(zf)
            | OP_LDF_BMASK.put(bmask)
            | OP_SHF_SHIFT.put(shift)
            | extra
            | src_ext(src, R::None),
    )
}

/// `local_csr_rd`/`local_csr_wr` with both operand fields given.
pub fn local_csr(write: bool, a: R, b: R, csr: u16) -> u64 {
    with_ecc(
        Class::LocalCsr.base()
            | A_SRC10.put(u10(a))
            | B_SRC10.put(u10(b))
            | OP_LCSR_WRITE.flag(write)
            | OP_LCSR_ADDR.put(u64::from(csr / 4))
            | src_ext(a, b),
    )
}

/// `local_csr_wr[csr, src]`
pub fn csr_wr(csr: u16, src: R) -> u64 {
    match src {
        R::B(_) => local_csr(true, R::Imm(0), src, csr),
        _ => local_csr(true, src, R::Imm(0), csr),
    }
}

/// `local_csr_rd[csr]`
pub fn csr_rd(csr: u16) -> u64 {
    local_csr(false, R::A(0), R::A(0), csr)
}

/// `br<cond>[target], defer[d]`
pub fn br(cond: u64, t: u16, defer: u64) -> u64 {
    let ev = if cond == br_mask::UNC {
        0
    } else {
        BR_EV_PIP_COND
    };
    with_ecc(
        Class::Branch.base()
            | OP_BR_MASK.put(cond)
            | OP_BR_EV_PIP.put(ev)
            | OP_BR_CSS.put(BR_CSS_NONE)
            | DEFBR.put(defer)
            | put_br_target(t),
    )
}

/// `br_bset`/`br_bclr[reg, bit, target]`
pub fn br_bit(set: bool, reg: R, bit: u32, t: u16, defer: u64) -> u64 {
    let imm = R::Imm(bit + 1);
    let (a, b) = if matches!(reg, R::B(_)) {
        (imm, reg)
    } else {
        (reg, imm)
    };
    with_ecc(
        Class::BrBit.base()
            | A_SRC8.put(u8f(a).0)
            | B_SRC8.put(u8f(b).0)
            | OP_BR_BIT_BV.flag(set)
            | DEFBR.put(defer)
            | put_br_target(t),
    )
}

/// `rtn[reg], defer[d]`
pub fn rtn(reg: R, defer: u64) -> u64 {
    let (a, b) = if matches!(reg, R::B(_)) {
        (R::Imm(0), reg)
    } else {
        (reg, R::Imm(0))
    };
    with_ecc(Class::BrAlu.base() | A_SRC10.put(u10(a)) | B_SRC10.put(u10(b)) | DEFBR.put(defer))
}

/// `mul_step[l, r], start` (type 0).
pub fn mul_start(l: R, r: R) -> u64 {
    mul_step(l, r, 0, 1)
}

/// `mul_step[l, r], <ty> step<n>` (n = 1..4).
pub fn mul_step(l: R, r: R, ty: u64, n: u64) -> u64 {
    let (a, b, sw) = place(l, r);
    with_ecc(
        Class::Mult.base()
            | A_SRC10.put(u10(a))
            | B_SRC10.put(u10(b))
            | OP_MUL_STEP.put(n - 1)
            | OP_MUL_SW.flag(sw)
            | OP_MUL_TYPE.put(ty),
    )
}

/// `mul_step[dst, --], <ty> last` (`hi`: `last2`).
pub fn mul_last(dst: R, ty: u64, hi: bool) -> u64 {
    let (ab, extra) = dst_bits(dst);
    with_ecc(
        Class::Mult.base()
            | A_SRC10.put(u10(dst))
            | B_SRC10.put(u10(R::None))
            | OP_MUL_STEP.put(if hi { mul_step::LAST_2 } else { mul_step::LAST })
            | OP_MUL_DST_AB.flag(ab)
            | OP_MUL_TYPE.put(ty)
            | extra,
    )
}

/// `mem[op, $xfer_x, a, b, cnt+1]` with address `mode` (0, 1 = 40b_BA,
/// 4 = 32b), context-swap field `ctx` (3 = no swap) and `indirect_ref`.
#[allow(clippy::too_many_arguments)]
pub fn mem(op: CmdTgtAct, xfer: u64, a: R, b: R, cnt: u64, mode: u64, ctx: u64, ind: bool) -> u64 {
    with_ecc(
        Class::Cmd.base()
            | A_SRC8.put(u8f(a).0)
            | OP_CMD_CTX.put(ctx)
            | B_SRC8.put(u8f(b).0)
            | put_cmd(op)
            | OP_CMD_XFER.put(xfer)
            | OP_CMD_CNT.put(cnt)
            | OP_CMD_SIG.put(u64::from(ctx != cmd_ctx_swap::NO_SWAP))
            | OP_CMD_INDIR.flag(ind)
            | OP_CMD_MODE.put(mode),
    )
}

/// `nop` (`immed[--, 0]`).
pub fn nop() -> u64 {
    immed(R::None, 0, 0, false, 0)
}
