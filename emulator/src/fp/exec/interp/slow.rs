//! The general sequencer: runs the decoded instructions with every rule
//! of the ME (docs/me-isa.md): defer slots counted down per instruction,
//! memory commands waiting for theirs, a `local_csr_rd` feeding the next
//! `immed`, a branch in a defer slot. The lean loop hands it what its form
//! does not cover and takes over again where nothing is in flight.

use tracing::trace;

use super::{Machine, Next};
use crate::fp::exec::ctx::lm_csr;
use crate::fp::exec::{Fault, NFP_CSR_PSEUDO_RND_NUM, Observer, Program};
use crate::fp::insn::{AluOp, Insn, Opnd, ShfOp, ShiftCtl};
use crate::fp::word::NFP_INSN_MASK;

/// What one instruction asks of the sequencer.
enum Flow {
    Next,
    /// Branch after `defer` more instructions, to `target` if taken.
    Branch {
        defer: u8,
        target: Option<u16>,
    },
}

impl<O: Observer + ?Sized> Machine<'_, '_, O> {
    /// Run from `pc` until the run ends, or (unless `stay`: the program
    /// runs wholly here) until an instruction boundary after the first
    /// instruction where no branch, memory command or CSR read is in
    /// flight: where the lean loop goes on.
    #[cold]
    #[inline(never)]
    pub(super) fn slow(
        &mut self,
        prog: &Program,
        mut pc: u16,
        budget: u64,
        stay: bool,
    ) -> Result<Next, Fault> {
        // (instructions left before the branch happens, its target, its
        // address)
        let mut branch: Option<(u8, Option<u16>, u16)> = None;
        // Arrived at pc by a taken backward branch.
        let mut back = false;
        let mut first = true;
        loop {
            if pc == prog.done && branch.is_none() {
                return self.done(pc).map(Next::Done);
            }
            let fetched = prog.fetch(pc);
            // The budget: on arrival by a backward branch, and at helper
            // calls (a program looping through a helper meets it too).
            if (back || fetched.is_none() && branch.is_none()) && self.steps >= budget {
                return Err(Fault::Budget { pc });
            }
            if !stay
                && !first
                && branch.is_none()
                && self.npending == 0
                && self.ctx.csr_read.is_none()
                && fetched.is_some()
            {
                let k = pc.wrapping_sub(prog.start);
                return Ok(Next::At(usize::from(k)));
            }
            first = false;
            back = false;
            self.steps += 1;
            let Some(insn) = fetched else {
                if branch.is_none() {
                    // A firmware helper: it returns to the address latched
                    // in B0 at the call.
                    pc = self.call_helper(pc)?;
                    continue;
                }
                return Err(Fault::OutOfProgram { pc });
            };
            self.obs.insn(prog, pc, insn);
            // Faults name the word; it is looked up only then.
            let flow = self
                .step(insn, pc)
                .map_err(|f| f.with_word(prog.word(pc) & NFP_INSN_MASK))?;
            let mut next = pc.wrapping_add(1);
            // A branch issued earlier: this was one of its defer slots.
            if let Some((left, target, from)) = branch.as_mut() {
                *left -= 1;
                if *left == 0 {
                    if let Some(t) = *target {
                        next = t;
                        back = t <= *from;
                    }
                    branch = None;
                }
            }
            if let Flow::Branch { defer, target } = flow {
                if branch.is_some() {
                    // A branch in a defer slot: never emitted by the JIT.
                    return Err(Fault::Invalid {
                        pc,
                        word: prog.word(pc) & NFP_INSN_MASK,
                    });
                }
                self.obs.branch(pc, defer, target.is_some());
                if defer == 0 {
                    if let Some(t) = target {
                        next = t;
                        back = t <= pc;
                    }
                } else {
                    branch = Some((defer, target, pc));
                }
            }
            self.tick()?;
            pc = next;
        }
    }

    #[inline(always)]
    pub(super) fn rd(&mut self, o: Opnd, pc: u16, word: u64) -> Result<u32, Fault> {
        self.ctx.read(self.lm, o).ok_or(Fault::Operand { pc, word })
    }

    #[inline(always)]
    fn wr(&mut self, o: Opnd, v: u32, wr_both: bool, pc: u16, word: u64) -> Result<(), Fault> {
        self.ctx
            .write(self.lm, o, v, wr_both)
            .ok_or(Fault::Operand { pc, word })
    }

    /// Run one decoded instruction (the general form of every one).
    fn step(&mut self, insn: &Insn, pc: u16) -> Result<Flow, Fault> {
        let csr_read = self.ctx.csr_read.take();
        // Filled in by the caller when a fault leaves.
        let word = 0;
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
                let (x, y) = (self.rd(a, pc, word)?, self.rd(b, pc, word)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let c = &mut *self.ctx;
                let add = |a: u32, b: u32, cin: u32| {
                    let s = u64::from(a) + u64::from(b) + u64::from(cin);
                    let r = s as u32;
                    (r, s >> 32 != 0, (!(a ^ b) & (a ^ r)) >> 31 != 0)
                };
                let sub = |a: u32, b: u32, borrow: u32| {
                    let s = i64::from(a) - i64::from(b) - i64::from(borrow);
                    let r = s as u32;
                    (r, s >= 0, ((a ^ b) & (a ^ r)) >> 31 != 0)
                };
                let (r, cv) = match op {
                    AluOp::None => (b, None),
                    AluOp::Add => {
                        let (r, co, v) = add(a, b, 0);
                        (r, Some((co, v)))
                    }
                    AluOp::AddC => {
                        let (r, co, v) = add(a, b, u32::from(c.c));
                        (r, Some((co, v)))
                    }
                    AluOp::Add16 => (a.wrapping_add(b) & 0xffff, None),
                    AluOp::Sub => {
                        let (r, co, v) = sub(a, b, 0);
                        (r, Some((co, v)))
                    }
                    AluOp::SubC => {
                        let (r, co, v) = sub(a, b, u32::from(!c.c));
                        (r, Some((co, v)))
                    }
                    AluOp::Not => (!b, None),
                    AluOp::And => (a & b, None),
                    AluOp::AndNotA => (!a & b, None),
                    AluOp::AndNotB => (a & !b, None),
                    AluOp::Or => (a | b, None),
                    AluOp::Xor => (a ^ b, None),
                    AluOp::Other(_) => return Err(Fault::Invalid { pc, word }),
                };
                if !no_cc {
                    c.set_zn(r);
                    if let Some((co, v)) = cv {
                        c.c = co;
                        c.v = v;
                    }
                }
                c.prev_alu = r;
                c.prev_a = a;
                self.wr(dst, r, wr_both, pc, word)?;
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
                let (x, y) = (self.rd(a, pc, word)?, self.rd(b, pc, word)?);
                let (a, b) = if swap { (y, x) } else { (x, y) };
                let c = &mut *self.ctx;
                let r = if op == ShfOp::Ashr {
                    // Sign from bit 31 of the previous ALU result.
                    let n = if shift == 0 {
                        c.prev_a & 31
                    } else {
                        u32::from(shift)
                    };
                    let sign = c.prev_alu >> 31 != 0;
                    let r = b >> n;
                    if sign && n != 0 {
                        r | !(u32::MAX >> n)
                    } else {
                        r
                    }
                } else if sc == ShiftCtl::DblR {
                    c.shift(sc, shift, a, b)
                } else {
                    let s = c.shift(sc, shift, a, b);
                    match op {
                        ShfOp::B => s,
                        ShfOp::NotB => !s,
                        ShfOp::And => a & s,
                        ShfOp::AndNotA => !a & s,
                        ShfOp::AndNotB => a & !s,
                        ShfOp::Or => a | s,
                        ShfOp::Ashr | ShfOp::ByteAlign => return Err(Fault::Invalid { pc, word }),
                    }
                };
                c.set_zn(r);
                c.prev_alu = r;
                c.prev_a = a;
                self.wr(dst, r, wr_both, pc, word)?;
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
                let place = self.ctx.place(dst).ok_or(Fault::Operand { pc, word })?;
                let r = if let Some(csr) = csr_read {
                    csr
                } else if width == 0 {
                    let r = (v16 << sh) as u32;
                    if inv { !r } else { r }
                } else {
                    let w: u64 = if width == 1 { 0xff } else { 0xffff };
                    let old = self.ctx.get(self.lm, place);
                    let m = (w << sh) as u32;
                    old & !m | ((v16 & w) << sh) as u32
                };
                self.ctx.prev_alu = r;
                self.ctx.put(self.lm, place, r, wr_both);
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
                let s = self.rd(src, pc, word)?;
                let place = self.ctx.place(dst).ok_or(Fault::Operand { pc, word })?;
                let old = if zero_fill {
                    0
                } else {
                    self.ctx.get(self.lm, place)
                };
                let s = self.ctx.shift(sc, shift, 0, s);
                let m = (0..4)
                    .filter(|k| bmask >> k & 1 != 0)
                    .fold(0u32, |m, k| m | 0xff << (8 * k));
                let r = old & !m | s & m;
                self.ctx.prev_alu = r;
                self.ctx.put(self.lm, place, r, wr_both);
            }
            Insn::LocalCsr { write, csr, a, b } => {
                if write {
                    let src = if matches!(a, Opnd::Imm(_)) && !matches!(b, Opnd::Imm(_)) {
                        b
                    } else {
                        a
                    };
                    let v = self.rd(src, pc, word)?;
                    if let Some(k) = lm_csr(csr) {
                        self.ctx.lm_addr[k] = v & 0xffc;
                    } else {
                        trace!(target: "nfp_emu::fp", csr, "write of local CSR {csr:#x} ignored");
                    }
                } else {
                    let v = match csr {
                        NFP_CSR_PSEUDO_RND_NUM => self.ctx.next_random(),
                        c => lm_csr(c).map_or(0, |k| self.ctx.lm_addr[k]),
                    };
                    self.ctx.csr_read = Some(v);
                }
            }
            Insn::Br {
                cond,
                defer,
                target,
            } => {
                let taken = self.ctx.cond(cond).ok_or(Fault::Invalid { pc, word })?;
                return Ok(Flow::Branch {
                    defer,
                    target: taken.then_some(target),
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
                let reg = self.rd(reg, pc, word)?;
                let bitno = self.rd(imm, pc, word)?.wrapping_sub(1) & 31;
                let taken = (reg >> bitno & 1 != 0) == set;
                return Ok(Flow::Branch {
                    defer,
                    target: taken.then_some(target),
                });
            }
            Insn::BrAlu { a, b, defer, imm } => {
                if imm != 0 {
                    return Err(Fault::Invalid { pc, word });
                }
                let reg = if matches!(a, Opnd::Imm(_)) { b } else { a };
                let t = (self.rd(reg, pc, word)? & 0x3fff) as u16;
                return Ok(Flow::Branch {
                    defer,
                    target: Some(t),
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
                    let [x, y] = self.ctx.mul;
                    let p = match ty {
                        1 => u64::from(x & 0xff_ffff) * u64::from(y & 0xff),
                        2 => u64::from(x & 0xffff) * u64::from(y & 0xffff),
                        _ => u64::from(x) * u64::from(y),
                    };
                    let v = if step == 4 {
                        p as u32
                    } else {
                        (p >> 32) as u32
                    };
                    if step > 5 {
                        return Err(Fault::Invalid { pc, word });
                    }
                    self.wr(dst, v, wr_both, pc, word)?;
                } else if ty == 0 {
                    let x = self.rd(a, pc, word)?;
                    let y = self.rd(b, pc, word)?;
                    self.ctx.mul = [x, y];
                }
            }
            Insn::Cmd(ref c) => self.issue(c, pc, word)?,
            Insn::Invalid => return Err(Fault::Invalid { pc, word }),
        }
        Ok(Flow::Next)
    }
}
