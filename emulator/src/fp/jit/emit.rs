//! One instruction to Cranelift IR, in exactly the interpreter's order of
//! effects (operand reads with their LM post-modify, condition codes, the
//! previous-ALU value, the destination), so that a fault part-way leaves
//! the same state (docs/me-isa.md).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, Value};

use super::frame::{self, code, mem_op_code};
use super::scan::bank;
use super::translate::{Flow, Pending, St, Stopped, Target, Tr, mf, off};
use crate::cpp::mu::MU_ADDR_MASK as ADDR40_MASK;
use crate::fp::exec::{
    LM_WORDS, NFP_CSR_ACT_LM_ADDR0, NFP_CSR_ACT_LM_ADDR1, NFP_CSR_ACT_LM_ADDR2,
    NFP_CSR_ACT_LM_ADDR3, NFP_CSR_PSEUDO_RND_NUM, XFER_REGS,
};
use crate::fp::insn::{AluOp, BrCond, Cmd, Insn, LmMode, MemOp, Opnd, ShfOp, ShiftCtl};
use crate::fp::word::{cmd_ctx_swap, cmd_mode};

/// `CMD_OVE_LEN` (nfp_asm.h:258).
const CMD_OVE_LEN: i64 = 1 << 7;
/// `CMD_OV_LEN` shift (nfp_asm.h:259).
const CMD_OV_LEN_SHIFT: i64 = 8;
/// `CMD_OVE_DATA` shift (nfp_asm.h:257).
const CMD_OVE_DATA_SHIFT: i64 = 3;
/// OveData = 2: PREV_ALU[31:16] is the immediate (nfp_me.h:919-970).
const CMD_OVE_DATA_IMM16: i64 = 2;

/// A resolved destination.
#[derive(Clone, Copy)]
enum Place {
    Gpr(usize, usize),
    XferOut(usize),
    /// LM word index (i32, already masked).
    Lm(Value),
    None,
}

/// The LM index register a local CSR address names.
fn lm_csr(csr: u16) -> Option<usize> {
    match csr {
        NFP_CSR_ACT_LM_ADDR0 => Some(0),
        NFP_CSR_ACT_LM_ADDR1 => Some(1),
        NFP_CSR_ACT_LM_ADDR2 => Some(2),
        NFP_CSR_ACT_LM_ADDR3 => Some(3),
        _ => None,
    }
}

impl Tr<'_, '_> {
    fn k(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, i64::from(v))
    }

    fn gpr_var(&self, b: usize, n: usize) -> cranelift_frontend::Variable {
        self.gpr[b][n].expect("every named GPR has a variable")
    }

    /// LM word index of an LM operand, with its post-modify.
    fn lm_word(&mut self, ptr: u8, mode: LmMode) -> Value {
        let var = self.lm_addr[usize::from(ptr & 3)];
        let a = self.b.use_var(var);
        let sh = self.b.ins().ushr_imm(a, 2);
        let base = self.b.ins().band_imm(sh, (LM_WORDS - 1) as i64);
        match mode {
            // "offset is ORed in not added" (jit.c:1194-1195); the result
            // stays below LM_WORDS.
            LmMode::Offset(o) => {
                let w = self.b.ins().bor_imm(base, i64::from(o));
                self.b.ins().band_imm(w, (LM_WORDS - 1) as i64)
            }
            LmMode::PostInc | LmMode::PostDec => {
                let d = if mode == LmMode::PostInc { 4 } else { -4 };
                let n = self.b.ins().iadd_imm(a, d);
                let n = self.b.ins().band_imm(n, 0xffc);
                self.b.def_var(var, n);
                base
            }
        }
    }

    fn lm_addr_of(&mut self, w: Value) -> Value {
        let w = self.b.ins().uextend(I64, w);
        let byte = self.b.ins().ishl_imm(w, 2);
        self.b.ins().iadd(self.lm, byte)
    }

    /// A source operand's value; an operand outside the JIT's forms faults.
    fn rd(&mut self, o: Opnd) -> Result<Value, Stopped> {
        Ok(match o {
            Opnd::Gpr(b, n) => {
                let v = self.gpr_var(bank(b), usize::from(n & 31));
                self.b.use_var(v)
            }
            Opnd::Xfer(n) if usize::from(n) < XFER_REGS => {
                self.b
                    .ins()
                    .load(I32, mf(), self.ctx, off::XFER_IN + 4 * i32::from(n))
            }
            Opnd::Lm { ptr, mode } => {
                let w = self.lm_word(ptr, mode);
                let a = self.lm_addr_of(w);
                self.b.ins().load(I32, mf(), a, 0)
            }
            Opnd::Imm(v) => self.k(v),
            Opnd::Xfer(_) | Opnd::None | Opnd::Other(_) => return Err(self.fault(code::OPERAND)),
        })
    }

    /// Where a destination writes, with an LM post-modify.
    fn place(&mut self, o: Opnd) -> Result<Place, Stopped> {
        Ok(match o {
            Opnd::Gpr(b, n) => Place::Gpr(bank(b), usize::from(n & 31)),
            Opnd::Xfer(n) if usize::from(n) < XFER_REGS => Place::XferOut(usize::from(n)),
            Opnd::Lm { ptr, mode } => Place::Lm(self.lm_word(ptr, mode)),
            Opnd::None => Place::None,
            Opnd::Xfer(_) | Opnd::Imm(_) | Opnd::Other(_) => {
                return Err(self.fault(code::OPERAND));
            }
        })
    }

    fn get(&mut self, p: Place) -> Value {
        match p {
            Place::Gpr(b, n) => {
                let v = self.gpr_var(b, n);
                self.b.use_var(v)
            }
            Place::XferOut(n) => {
                self.b
                    .ins()
                    .load(I32, mf(), self.ctx, off::XFER_OUT + 4 * n as i32)
            }
            Place::Lm(w) => {
                let a = self.lm_addr_of(w);
                self.b.ins().load(I32, mf(), a, 0)
            }
            Place::None => self.k(0),
        }
    }

    fn put(&mut self, p: Place, v: Value, wr_both: bool) {
        match p {
            Place::Gpr(_, n) if wr_both => {
                for b in 0..2 {
                    let var = self.gpr_var(b, n);
                    self.b.def_var(var, v);
                }
            }
            Place::Gpr(b, n) => {
                let var = self.gpr_var(b, n);
                self.b.def_var(var, v);
            }
            Place::XferOut(n) => {
                self.b
                    .ins()
                    .store(mf(), v, self.ctx, off::XFER_OUT + 4 * n as i32);
            }
            Place::Lm(w) => {
                let a = self.lm_addr_of(w);
                self.b.ins().store(mf(), v, a, 0);
            }
            Place::None => {}
        }
    }

    fn wr(&mut self, o: Opnd, v: Value, wr_both: bool) -> Result<(), Stopped> {
        let p = self.place(o)?;
        self.put(p, v, wr_both);
        Ok(())
    }

    /// Bits 4..0 of the previous A operand: an indirect shift amount.
    fn indirect(&mut self) -> Value {
        let a = self.b.use_var(self.prev_a);
        self.b.ins().band_imm(a, 31)
    }

    /// The shifter (docs/me-isa.md "ALU_SHF").
    fn shift(&mut self, sc: ShiftCtl, field: u8, a: Value, b: Value) -> Value {
        let f = i64::from(field);
        match sc {
            ShiftCtl::RotR => self.b.ins().rotr_imm(b, f),
            ShiftCtl::ShR if field == 0 => {
                let n = self.indirect();
                self.b.ins().ushr(b, n)
            }
            ShiftCtl::ShR => self.b.ins().ushr_imm(b, f),
            ShiftCtl::ShL if field == 0 => {
                let n = self.indirect();
                self.b.ins().ishl(b, n)
            }
            ShiftCtl::ShL => self.b.ins().ishl_imm(b, 32 - f),
            ShiftCtl::DblR => {
                let n = if field == 0 {
                    self.indirect()
                } else {
                    self.k(u32::from(field))
                };
                let hi = self.b.ins().uextend(I64, a);
                let hi = self.b.ins().ishl_imm(hi, 32);
                let lo = self.b.ins().uextend(I64, b);
                let ab = self.b.ins().bor(hi, lo);
                let n = self.b.ins().uextend(I64, n);
                let r = self.b.ins().ushr(ab, n);
                self.b.ins().ireduce(I32, r)
            }
        }
    }

    /// Z/N/C/V after an ALU result, the previous-ALU value and A operand.
    fn alu_done(&mut self, r: Value, a: Value, cv: Option<(Value, Value)>, cc: bool) {
        if cc {
            self.b.def_var(self.zn, r);
            if let Some((c, v)) = cv {
                self.b.def_var(self.c, c);
                self.b.def_var(self.v, v);
            }
        }
        self.b.def_var(self.prev_alu, r);
        self.b.def_var(self.prev_a, a);
    }

    /// `a + b + cin` with carry out and overflow.
    fn add(&mut self, a: Value, b: Value, cin: Option<Value>) -> (Value, Value, Value) {
        let x = self.b.ins().uextend(I64, a);
        let y = self.b.ins().uextend(I64, b);
        let mut s = self.b.ins().iadd(x, y);
        if let Some(c) = cin {
            let c = self.b.ins().uextend(I64, c);
            s = self.b.ins().iadd(s, c);
        }
        let r = self.b.ins().ireduce(I32, s);
        let hi = self.b.ins().ushr_imm(s, 32);
        let c = self.b.ins().icmp_imm(IntCC::NotEqual, hi, 0);
        // V = (!(a ^ b) & (a ^ r)) >> 31
        let ab = self.b.ins().bxor(a, b);
        let ar = self.b.ins().bxor(a, r);
        let m = self.b.ins().band_not(ar, ab);
        let v = self.b.ins().icmp_imm(IntCC::SignedLessThan, m, 0);
        (r, c, v)
    }

    /// `a - b - borrow` with carry (no borrow) and overflow.
    fn sub(&mut self, a: Value, b: Value, borrow: Option<Value>) -> (Value, Value, Value) {
        let x = self.b.ins().uextend(I64, a);
        let y = self.b.ins().uextend(I64, b);
        let mut s = self.b.ins().isub(x, y);
        if let Some(w) = borrow {
            let w = self.b.ins().uextend(I64, w);
            s = self.b.ins().isub(s, w);
        }
        let r = self.b.ins().ireduce(I32, s);
        let c = self.b.ins().icmp_imm(IntCC::SignedGreaterThanOrEqual, s, 0);
        // V = ((a ^ b) & (a ^ r)) >> 31
        let ab = self.b.ins().bxor(a, b);
        let ar = self.b.ins().bxor(a, r);
        let m = self.b.ins().band(ab, ar);
        let v = self.b.ins().icmp_imm(IntCC::SignedLessThan, m, 0);
        (r, c, v)
    }

    /// The condition of a branch (i8), `None` for `br` (always).
    fn cond(&mut self, c: BrCond) -> Result<Option<Value>, Stopped> {
        let zn = self.b.use_var(self.zn);
        let z = |t: &mut Self| t.b.ins().icmp_imm(IntCC::Equal, zn, 0);
        let n = |t: &mut Self| t.b.ins().icmp_imm(IntCC::SignedLessThan, zn, 0);
        let c_ = |t: &mut Self| t.b.use_var(t.c);
        let v_ = |t: &mut Self| t.b.use_var(t.v);
        let not = |t: &mut Self, x: Value| t.b.ins().bxor_imm(x, 1);
        Ok(Some(match c {
            BrCond::Eq => z(self),
            BrCond::Ne => self.b.ins().icmp_imm(IntCC::NotEqual, zn, 0),
            BrCond::Mi => n(self),
            BrCond::Pl => self
                .b
                .ins()
                .icmp_imm(IntCC::SignedGreaterThanOrEqual, zn, 0),
            BrCond::Cs => c_(self),
            BrCond::Cc => {
                let x = c_(self);
                not(self, x)
            }
            BrCond::Vs => v_(self),
            BrCond::Vc => {
                let x = v_(self);
                not(self, x)
            }
            BrCond::Ge | BrCond::Lt | BrCond::Le | BrCond::Gt => {
                let nn = n(self);
                let vv = v_(self);
                let ne = self.b.ins().bxor(nn, vv);
                match c {
                    BrCond::Ge => not(self, ne),
                    BrCond::Lt => ne,
                    BrCond::Le => {
                        let zz = z(self);
                        self.b.ins().bor(zz, ne)
                    }
                    _ => {
                        let zz = z(self);
                        let x = self.b.ins().bor(zz, ne);
                        not(self, x)
                    }
                }
            }
            BrCond::Always => return Ok(None),
            BrCond::Other(_) => return Err(self.fault(code::INVALID)),
        }))
    }

    /// Translate one instruction (docs/me-isa.md), after the CSR value it
    /// takes (`csr`) was taken from `st`.
    pub(super) fn insn(
        &mut self,
        insn: &Insn,
        csr: Option<Value>,
        st: &mut St,
    ) -> Result<Flow, Stopped> {
        match *insn {
            Insn::Alu {
                op,
                dst,
                a,
                b,
                swap,
                wr_both,
                no_cc,
            } => {
                let (x, y) = (self.rd(a)?, self.rd(b)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let (r, cv) = match op {
                    AluOp::None => (b, None),
                    AluOp::Add | AluOp::AddC => {
                        let cin = (op == AluOp::AddC).then(|| self.b.use_var(self.c));
                        let (r, c, v) = self.add(a, b, cin);
                        (r, Some((c, v)))
                    }
                    AluOp::Sub | AluOp::SubC => {
                        let borrow = if op == AluOp::SubC {
                            let c = self.b.use_var(self.c);
                            Some(self.b.ins().bxor_imm(c, 1))
                        } else {
                            None
                        };
                        let (r, c, v) = self.sub(a, b, borrow);
                        (r, Some((c, v)))
                    }
                    AluOp::Add16 => {
                        let s = self.b.ins().iadd(a, b);
                        (self.b.ins().band_imm(s, 0xffff), None)
                    }
                    AluOp::Not => (self.b.ins().bnot(b), None),
                    AluOp::And => (self.b.ins().band(a, b), None),
                    AluOp::AndNotA => (self.b.ins().band_not(b, a), None),
                    AluOp::AndNotB => (self.b.ins().band_not(a, b), None),
                    AluOp::Or => (self.b.ins().bor(a, b), None),
                    AluOp::Xor => (self.b.ins().bxor(a, b), None),
                    AluOp::Other(_) => return Err(self.fault(code::INVALID)),
                };
                self.alu_done(r, a, cv, !no_cc);
                self.wr(dst, r, wr_both)?;
            }
            Insn::AluShf {
                op,
                sc,
                shift,
                dst,
                a,
                b,
                swap,
                wr_both,
            } => {
                let (x, y) = (self.rd(a)?, self.rd(b)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let r = if op == ShfOp::Ashr {
                    // Sign from bit 31 of the previous ALU result.
                    let n = if shift == 0 {
                        self.indirect()
                    } else {
                        self.k(u32::from(shift))
                    };
                    let r = self.b.ins().ushr(b, n);
                    let prev = self.b.use_var(self.prev_alu);
                    let sign = self.b.ins().sshr_imm(prev, 31);
                    let ones = self.k(u32::MAX);
                    let keep = self.b.ins().ushr(ones, n);
                    let fill = self.b.ins().band_not(sign, keep);
                    self.b.ins().bor(r, fill)
                } else if sc == ShiftCtl::DblR {
                    self.shift(sc, shift, a, b)
                } else {
                    let s = self.shift(sc, shift, a, b);
                    let i = self.b.ins();
                    match op {
                        ShfOp::B => s,
                        ShfOp::NotB => i.bnot(s),
                        ShfOp::And => i.band(a, s),
                        ShfOp::AndNotA => i.band_not(s, a),
                        ShfOp::AndNotB => i.band_not(a, s),
                        ShfOp::Or => i.bor(a, s),
                        ShfOp::Ashr | ShfOp::ByteAlign => return Err(self.fault(code::INVALID)),
                    }
                };
                self.alu_done(r, a, None, true);
                self.wr(dst, r, wr_both)?;
            }
            Insn::Immed {
                dst,
                value,
                width,
                inv,
                shift,
                wr_both,
            } => {
                let sh = 8 * u32::from(shift);
                let v16 = u64::from(value);
                let place = self.place(dst)?;
                let r = if let Some(c) = csr {
                    c
                } else if width == 0 {
                    let r = (v16 << sh) as u32;
                    self.k(if inv { !r } else { r })
                } else {
                    let w: u64 = if width == 1 { 0xff } else { 0xffff };
                    let old = self.get(place);
                    let m = (w << sh) as u32;
                    let kept = self.b.ins().band_imm(old, i64::from(!m));
                    self.b
                        .ins()
                        .bor_imm(kept, i64::from(((v16 & w) << sh) as u32))
                };
                self.b.def_var(self.prev_alu, r);
                self.put(place, r, wr_both);
            }
            Insn::LdField {
                dst,
                src,
                sc,
                shift,
                bmask,
                zero_fill,
                wr_both,
                ..
            } => {
                let s = self.rd(src)?;
                let place = self.place(dst)?;
                let zero = self.k(0);
                let old = if zero_fill { zero } else { self.get(place) };
                let s = self.shift(sc, shift, zero, s);
                let m = (0..4)
                    .filter(|k| bmask >> k & 1 != 0)
                    .fold(0u32, |m, k| m | 0xff << (8 * k));
                let kept = self.b.ins().band_imm(old, i64::from(!m));
                let new = self.b.ins().band_imm(s, i64::from(m));
                let r = self.b.ins().bor(kept, new);
                self.b.def_var(self.prev_alu, r);
                self.put(place, r, wr_both);
            }
            Insn::LocalCsr { write, csr, a, b } => {
                if write {
                    let src = if matches!(a, Opnd::Imm(_)) && !matches!(b, Opnd::Imm(_)) {
                        b
                    } else {
                        a
                    };
                    let v = self.rd(src)?;
                    // Writes of other CSRs are ignored.
                    if let Some(k) = lm_csr(csr) {
                        let v = self.b.ins().band_imm(v, 0xffc);
                        self.b.def_var(self.lm_addr[k], v);
                    }
                } else {
                    let v = match csr {
                        NFP_CSR_PSEUDO_RND_NUM => {
                            let callee = self
                                .b
                                .ins()
                                .iconst(self.ptr, frame::call_random as *const () as usize as i64);
                            let call =
                                self.b
                                    .ins()
                                    .call_indirect(self.sig_random, callee, &[self.frame]);
                            self.b.inst_results(call)[0]
                        }
                        c => match lm_csr(c) {
                            Some(k) => self.b.use_var(self.lm_addr[k]),
                            None => self.k(0),
                        },
                    };
                    st.csr = Some(v);
                }
            }
            Insn::Br {
                cond,
                defer,
                target,
            } => {
                let taken = self.cond(cond)?;
                return Ok(Flow::Branch {
                    defer,
                    taken,
                    target: Target::Static(target),
                });
            }
            Insn::BrBit {
                set,
                a,
                b,
                defer,
                target,
            } => {
                let (reg, imm) = if matches!(a, Opnd::Imm(_)) {
                    (b, a)
                } else {
                    (a, b)
                };
                let reg = self.rd(reg)?;
                let bit = self.rd(imm)?;
                let bit = self.b.ins().iadd_imm(bit, -1);
                let bit = self.b.ins().band_imm(bit, 31);
                let r = self.b.ins().ushr(reg, bit);
                let r = self.b.ins().band_imm(r, 1);
                let cc = if set { IntCC::NotEqual } else { IntCC::Equal };
                let taken = self.b.ins().icmp_imm(cc, r, 0);
                return Ok(Flow::Branch {
                    defer,
                    taken: Some(taken),
                    target: Target::Static(target),
                });
            }
            Insn::BrAlu { a, b, defer, imm } => {
                if imm != 0 {
                    return Err(self.fault(code::INVALID));
                }
                let reg = if matches!(a, Opnd::Imm(_)) { b } else { a };
                let t = self.rd(reg)?;
                let t = self.b.ins().band_imm(t, 0x3fff);
                return Ok(Flow::Branch {
                    defer,
                    taken: None,
                    target: Target::Dynamic(t),
                });
            }
            Insn::MulStep {
                step,
                ty,
                a,
                b,
                dst,
                wr_both,
                ..
            } => {
                if step >= 4 {
                    if step > 5 {
                        return Err(self.fault(code::INVALID));
                    }
                    let x = self.b.use_var(self.mul[0]);
                    let y = self.b.use_var(self.mul[1]);
                    let (mx, my) = match ty {
                        1 => (0xff_ffff, 0xff),
                        2 => (0xffff, 0xffff),
                        _ => (u32::MAX, u32::MAX),
                    };
                    let x = self.b.ins().band_imm(x, i64::from(mx));
                    let y = self.b.ins().band_imm(y, i64::from(my));
                    let x = self.b.ins().uextend(I64, x);
                    let y = self.b.ins().uextend(I64, y);
                    let p = self.b.ins().imul(x, y);
                    let p = if step == 4 {
                        p
                    } else {
                        self.b.ins().ushr_imm(p, 32)
                    };
                    let v = self.b.ins().ireduce(I32, p);
                    self.wr(dst, v, wr_both)?;
                } else if ty == 0 {
                    let x = self.rd(a)?;
                    let y = self.rd(b)?;
                    self.b.def_var(self.mul[0], x);
                    self.b.def_var(self.mul[1], y);
                }
            }
            Insn::Cmd(ref c) => self.issue(c, st)?,
            Insn::Invalid => return Err(self.fault(code::INVALID)),
        }
        Ok(Flow::Next)
    }

    /// Issue a memory command: operands, address and overrides now, the
    /// access after its defer slots.
    fn issue(&mut self, c: &Cmd, st: &mut St) -> Result<(), Stopped> {
        let op = c.mem_op();
        if op == MemOp::Other {
            return Err(self.fault(code::INVALID));
        }
        let a = self.rd(c.a)?;
        let b = self.rd(c.b)?;
        let (ctm, addr) = match u64::from(c.mode) {
            cmd_mode::M32 => {
                let s = self.b.ins().iadd(a, b);
                (true, self.b.ins().uextend(I64, s))
            }
            cmd_mode::M40_BA => {
                let hi = self.b.ins().uextend(I64, b);
                let hi = self.b.ins().ishl_imm(hi, 8);
                let lo = self.b.ins().uextend(I64, a);
                let s = self.b.ins().iadd(hi, lo);
                (false, self.b.ins().band_imm(s, ADDR40_MASK as i64))
            }
            _ => return Err(self.fault(code::INVALID)),
        };
        let (len, imm) = if c.indirect {
            let prev = self.b.use_var(self.prev_alu);
            let ove = self.b.ins().band_imm(prev, CMD_OVE_LEN);
            let ov = self.b.ins().ushr_imm(prev, CMD_OV_LEN_SHIFT);
            let ov = self.b.ins().band_imm(ov, 0x1f);
            let cnt = self.k(u32::from(c.cnt));
            let len = self.b.ins().select(ove, ov, cnt);
            let data = self.b.ins().ushr_imm(prev, CMD_OVE_DATA_SHIFT);
            let data = self.b.ins().band_imm(data, 7);
            let is_imm = self
                .b
                .ins()
                .icmp_imm(IntCC::Equal, data, CMD_OVE_DATA_IMM16);
            let hi = self.b.ins().ushr_imm(prev, 16);
            let zero = self.k(0);
            (len, self.b.ins().select(is_imm, hi, zero))
        } else {
            (self.k(u32::from(c.cnt)), self.k(0))
        };
        let swap = u64::from(c.ctx) < cmd_ctx_swap::NO_SWAP;
        let defer = if swap { c.ctx } else { 0 };
        let spec =
            mem_op_code(op) | u32::from(ctm) << 8 | u32::from(swap) << 9 | u32::from(c.xfer) << 16;
        let p = Pending {
            countdown: defer + 1,
            pc: self.pc,
            spec,
            addr,
            len,
            imm,
            cnt: (!c.indirect).then_some(c.cnt),
        };
        let steps = self.steps_now.expect("inside an instruction");
        if defer == 0 {
            self.perform(&p, None, steps);
            return Ok(());
        }
        // +1: the tick after this instruction itself does not count.
        match st.pend.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = Some(p),
            None => return Err(self.fault(code::INVALID)),
        }
        Ok(())
    }
}
