//! A small assembler for the instruction forms the JIT emits, used by the
//! executor's tests and benchmarks. Field layouts are those of bpf.md §4.4
//! (nfp_asm.h); operands are placed in the A/B fields by bank the way the
//! driver's `swreg_to_unrestricted`/`_restricted` do (nfp_asm.c:113-283):
//! a B-bank left operand or an A-bank right operand sets the swap bit.

use super::insn::with_ecc;

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

/// OP_ALU_BASE etc. (nfp_asm.h).
const OP_SHF_BASE: u64 = 0x080_0000_0000;
const OP_ALU_BASE: u64 = 0x0a0_0000_0000;
const OP_IMMED_BASE: u64 = 0x0f0_0000_0000;
const OP_LDF_BASE: u64 = 0x0c0_0000_0000;
const OP_LCSR_BASE: u64 = 0x0fc_0000_0000;
const OP_BR_BASE: u64 = 0x0d8_0000_0020;
const OP_BR_BIT_BASE: u64 = 0x0d0_0000_0000;
const OP_BR_ALU_BASE: u64 = 0x0e8_0000_0000;
const OP_MUL_BASE: u64 = 0x0f8_0000_0000;
const WR_AB: u64 = 1 << 41;
const SRC_LMEXTN: u64 = 1 << 42;
const DST_LMEXTN: u64 = 1 << 43;

fn lm_ext(r: R) -> bool {
    matches!(r, R::Lm(p, _) | R::LmInc(p) | R::LmDec(p) if p >= 2)
}

/// 10-bit operand field.
fn u10(r: R) -> u64 {
    match r {
        R::A(n) | R::B(n) | R::Both(n) => u64::from(n & 31),
        R::X(n) if n < 32 => 0x180 | u64::from(n),
        R::X(n) => 0x1c0 | u64::from(n & 31),
        R::Imm(v) => {
            assert!(v <= 0xff, "10-bit immediate {v:#x}");
            0x300 | u64::from(v)
        }
        R::Lm(p, off) => {
            assert!(off < 16);
            0x200 | u64::from(p & 1) << 5 | u64::from(off)
        }
        R::LmInc(p) => 0x210 | u64::from(p & 1) << 5,
        R::LmDec(p) => 0x211 | u64::from(p & 1) << 5,
        R::None => 0x300,
    }
}

/// 8-bit operand field and the I8 bit.
fn u8f(r: R) -> (u64, bool) {
    match r {
        R::A(n) | R::B(n) | R::Both(n) => (u64::from(n & 31), false),
        R::X(n) if n < 32 => (0x80 | u64::from(n), false),
        R::X(n) => (0xc0 | u64::from(n & 31), false),
        R::Imm(v) => {
            assert!(v <= 0xff, "8-bit immediate {v:#x}");
            let v = u64::from(v);
            (0x20 | (v & 0x1f) | (v & 0x60) << 1, v & 0x80 != 0)
        }
        R::Lm(p, off) => {
            assert!(off < 8);
            (0x50 | u64::from(p & 1) << 3 | u64::from(off), false)
        }
        R::None => (0x20, false),
        R::LmInc(_) | R::LmDec(_) => panic!("no post-modify in restricted operands"),
    }
}

/// Place (left, right) into (A field, B field, swap). An unused source
/// (`--`) is encoded as field value 0, as the driver does.
fn place(l: R, r: R) -> (R, R, bool) {
    let unused = |x: R| if x == R::None { R::A(0) } else { x };
    let swap = matches!(l, R::B(_)) || matches!(r, R::A(_));
    if swap {
        (unused(r), unused(l), true)
    } else {
        (unused(l), unused(r), false)
    }
}

/// Destination bits: (field value source, DST_AB, WR_AB, DST_LMEXTN).
fn dst_bits(d: R) -> (bool, u64) {
    let ab = matches!(d, R::B(_));
    let mut extra = 0;
    if matches!(d, R::Both(_)) {
        extra |= WR_AB;
    }
    if lm_ext(d) {
        extra |= DST_LMEXTN;
    }
    (ab, extra)
}

/// ALU ops (nfp_asm.h:179-192).
pub mod alu_op {
    pub const NONE: u64 = 0x00;
    pub const ADD: u64 = 0x01;
    pub const NOT: u64 = 0x04;
    pub const ADD_2B: u64 = 0x05;
    pub const AND: u64 = 0x08;
    pub const AND_NOT_A: u64 = 0x0c;
    pub const SUB_C: u64 = 0x0d;
    pub const AND_NOT_B: u64 = 0x10;
    pub const ADD_C: u64 = 0x11;
    pub const OR: u64 = 0x14;
    pub const SUB: u64 = 0x15;
    pub const XOR: u64 = 0x18;
}

/// `alu[dst, l, op, r]`
pub fn alu(dst: R, l: R, op: u64, r: R) -> u64 {
    let (a, b, sw) = place(l, r);
    let (ab, extra) = dst_bits(dst);
    let ext = if lm_ext(a) || lm_ext(b) {
        SRC_LMEXTN
    } else {
        0
    };
    with_ecc(
        OP_ALU_BASE
            | u10(a)
            | u10(b) << 10
            | u10(dst) << 20
            | u64::from(sw) << 30
            | op << 31
            | u64::from(ab) << 36
            | extra
            | ext,
    )
}

/// Shift controls (nfp_asm.h:151-156).
pub mod sc {
    pub const R_ROT: u64 = 0;
    pub const R_SHF: u64 = 1;
    pub const L_SHF: u64 = 2;
    pub const R_DSHF: u64 = 3;
}

/// `alu_shf` ops (nfp_asm.h:158-166).
pub mod shf_op {
    pub const NONE: u64 = 0;
    pub const AND: u64 = 2;
    pub const OR: u64 = 5;
    pub const ASHR: u64 = 6;
}

/// `alu_shf[dst, l, op, r, shift]`: `shift` is the SHIFT field as encoded
/// (for a left shift by n pass 32 - n; 0 = indirect).
pub fn alu_shf(dst: R, l: R, op: u64, r: R, sc: u64, shift: u64) -> u64 {
    let (a, b, sw) = place(l, r);
    let (fa, ia) = u8f(a);
    let (fb, ib) = u8f(b);
    let (fd, _) = u8f(dst);
    let (ab, extra) = dst_bits(dst);
    let ext = if lm_ext(a) || lm_ext(b) {
        SRC_LMEXTN
    } else {
        0
    };
    with_ecc(
        OP_SHF_BASE
            | fa
            | sc << 8
            | fb << 10
            | u64::from(ia || ib) << 18
            | u64::from(sw) << 19
            | fd << 20
            | (shift & 31) << 28
            | op << 33
            | u64::from(ab) << 36
            | extra
            | ext,
    )
}

/// `immed[dst, v16 << 8*shift]` with width 0 (all), 1 (byte), 2 (word).
pub fn immed(dst: R, v16: u16, width: u64, inv: bool, shift: u64) -> u64 {
    let lo = R::Imm(u32::from(v16 & 0xff));
    let (fa, fb) = match dst {
        R::B(_) => (u10(lo), u10(dst)),
        R::None => (u10(lo), u10(lo)),
        _ => (u10(dst), u10(lo)),
    };
    let (_, extra) = dst_bits(dst);
    with_ecc(
        OP_IMMED_BASE
            | fa
            | fb << 10
            | u64::from(v16 >> 8) << 20
            | width << 29
            | u64::from(inv) << 31
            | shift << 33
            | extra,
    )
}

/// `ld_field[dst, bmask, src, shift]` (`zf`: `ld_field_w_clr`).
pub fn ld_field(dst: R, bmask: u64, src: R, sc: u64, shift: u64, zf: bool) -> u64 {
    let swap = matches!(dst, R::B(_));
    let (fd, _) = u8f(dst);
    let (fs, i8) = u8f(src);
    let (fa, fb) = if swap { (fs, fd) } else { (fd, fs) };
    let (_, mut extra) = dst_bits(dst);
    if lm_ext(src) {
        extra |= SRC_LMEXTN;
    }
    with_ecc(
        OP_LDF_BASE
            | fa
            | sc << 8
            | fb << 10
            | u64::from(i8) << 18
            | u64::from(swap) << 19
            | u64::from(zf) << 20
            | bmask << 24
            | (shift & 31) << 28
            | extra,
    )
}

/// `local_csr_wr[csr, src]`
pub fn csr_wr(csr: u16, src: R) -> u64 {
    let (a, b) = match src {
        R::B(_) => (R::Imm(0), src),
        _ => (src, R::Imm(0)),
    };
    let ext = if lm_ext(src) { SRC_LMEXTN } else { 0 };
    with_ecc(OP_LCSR_BASE | u10(a) | u10(b) << 10 | 1 << 21 | u64::from(csr / 4) << 22 | ext)
}

/// `local_csr_rd[csr]`
pub fn csr_rd(csr: u16) -> u64 {
    with_ecc(OP_LCSR_BASE | u64::from(csr / 4) << 22)
}

/// Branch conditions (nfp_asm.h:70-80).
pub mod br {
    pub const BEQ: u64 = 0x00;
    pub const BNE: u64 = 0x01;
    pub const BMI: u64 = 0x02;
    pub const BHS: u64 = 0x04;
    pub const BLO: u64 = 0x05;
    pub const BGE: u64 = 0x08;
    pub const BLT: u64 = 0x09;
    pub const UNC: u64 = 0x18;
}

fn target(t: u16) -> u64 {
    u64::from(t & 0x1fff) << 22 | u64::from(t >> 13 & 1) << 40
}

/// `br<cond>[target], defer[d]`
pub fn br(cond: u64, t: u16, defer: u64) -> u64 {
    let ev = if cond == br::UNC { 0 } else { 1 };
    with_ecc(OP_BR_BASE | cond | ev << 8 | 2 << 14 | defer << 20 | target(t))
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
        OP_BR_BIT_BASE | u8f(a).0 | u8f(b).0 << 10 | u64::from(set) << 18 | defer << 20 | target(t),
    )
}

/// `rtn[reg], defer[d]`
pub fn rtn(reg: R, defer: u64) -> u64 {
    let (a, b) = if matches!(reg, R::B(_)) {
        (R::Imm(0), reg)
    } else {
        (reg, R::Imm(0))
    };
    with_ecc(OP_BR_ALU_BASE | u10(a) | u10(b) << 10 | defer << 20)
}

/// `mul_step[l, r], start` (type 0).
pub fn mul_start(l: R, r: R) -> u64 {
    let (a, b, sw) = place(l, r);
    with_ecc(OP_MUL_BASE | u10(a) | u10(b) << 10 | u64::from(sw) << 30)
}

/// `mul_step[l, r], <ty> step<n>` (n = 1..4).
pub fn mul_step(l: R, r: R, ty: u64, n: u64) -> u64 {
    let (a, b, sw) = place(l, r);
    with_ecc(OP_MUL_BASE | u10(a) | u10(b) << 10 | (n - 1) << 20 | u64::from(sw) << 30 | ty << 31)
}

/// `mul_step[dst, --], <ty> last` (`hi`: `last2`).
pub fn mul_last(dst: R, ty: u64, hi: bool) -> u64 {
    let (ab, extra) = dst_bits(dst);
    with_ecc(
        OP_MUL_BASE
            | u10(dst)
            | u10(R::None) << 10
            | (if hi { 5 } else { 4 }) << 20
            | u64::from(ab) << 23
            | ty << 31
            | extra,
    )
}

/// CPP commands as (TGT_CMD, token) (nfp_asm.c:12-23).
pub mod cmd {
    pub const READ8: (u64, u64) = (0x43, 1);
    pub const READ32_SWAP: (u64, u64) = (0x5c, 2);
    pub const WRITE8_SWAP: (u64, u64) = (0x42, 2);
    pub const WRITE32_SWAP: (u64, u64) = (0x5f, 2);
    pub const ADD: (u64, u64) = (0x47, 0);
    pub const ADD_IMM: (u64, u64) = (0x47, 2);
}

/// `mem[op, $xfer_x, a, b, cnt+1]` with address `mode` (0, 1 = 40b_BA,
/// 4 = 32b), context-swap field `ctx` (3 = no swap) and `indirect_ref`.
#[allow(clippy::too_many_arguments)]
pub fn mem(op: (u64, u64), xfer: u64, a: R, b: R, cnt: u64, mode: u64, ctx: u64, ind: bool) -> u64 {
    let sig = if ctx == 3 { 0 } else { 1 };
    with_ecc(
        u8f(a).0
            | ctx << 8
            | u8f(b).0 << 10
            | op.1 << 18
            | (xfer & 31) << 20
            | (cnt & 7) << 25
            | sig << 28
            | op.0 << 32
            | u64::from(ind) << 41
            | mode << 42,
    )
}

/// `nop` (`immed[--, 0]`).
pub fn nop() -> u64 {
    immed(R::None, 0, 0, false, 0)
}
