//! The interpreter before it was made lean (3e8b830: `interp/mod.rs` and
//! `interp/mem.rs`), frozen as the oracle of the differential tests. Only
//! the budget rule differs (see [`Oracle`]).

#![allow(clippy::too_many_lines)]

use tracing::trace;

use crate::cpp::mu::MU_ADDR_MASK as ADDR40_MASK;
use crate::fp::exec::ctx::lm_csr;
use crate::fp::exec::{
    Ctx, Env, Executor, Exit, Fault, LM_WORDS, MemCmd, NFP_CSR_PSEUDO_RND_NUM, NoObserver,
    Observer, Packet, Program, Thread, XFER_REGS,
};
use crate::fp::insn::{AluOp, Insn, Opnd, ShfOp, ShiftCtl};
use crate::fp::insn::{Cmd, MemOp};
use crate::fp::word::NFP_INSN_MASK;
use crate::fp::word::{cmd_ctx_swap, cmd_mode};

/// The interpreter as it was before it was made lean (the interpreter of
/// 3e8b830), kept as the differential tests' oracle. One change: the
/// budget is checked where the lean interpreter checks it (see
/// [`Executor::run`]): on arrival by a taken backward branch and at helper
/// calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct Oracle;

impl Executor for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
        interpret(prog, t, budget, &mut NoObserver)
    }

    fn run_observed(
        &self,
        prog: &Program,
        t: &mut Thread<'_>,
        budget: u64,
        obs: &mut dyn Observer,
    ) -> Exit {
        interpret(prog, t, budget, obs)
    }
}

/// Interpret `prog` on `t` from its start until it branches to DONE, a
/// fault or `budget` instructions, showing each step to `obs` (statically
/// dispatched: with [`NoObserver`] the hooks compile away).
pub fn interpret<O: Observer + ?Sized>(
    prog: &Program,
    t: &mut Thread<'_>,
    budget: u64,
    obs: &mut O,
) -> Exit {
    let mut m = Machine {
        ctx: &mut *t.ctx,
        lm: &mut *t.lm,
        pkt: &mut t.pkt,
        env: t.env,
        obs,
        pending: [None; 4],
        npending: 0,
        steps: 0,
    };
    let result = m.run(prog, budget);
    Exit {
        steps: m.steps,
        result,
    }
}

/// One run in progress: the thread's state, the observer, and the memory
/// commands waiting for their defer slots.
struct Machine<'a, 'p, O: Observer + ?Sized> {
    ctx: &'a mut Ctx,
    lm: &'a mut [u32; LM_WORDS],
    pkt: &'a mut Packet<'p>,
    env: &'a dyn Env,
    obs: &'a mut O,
    pending: [Option<Pending>; 4],
    npending: usize,
    steps: u64,
}

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
    fn run(&mut self, prog: &Program, budget: u64) -> Result<u32, Fault> {
        let mut pc = prog.start;
        // (instructions left before the branch happens, its target, its
        // address)
        let mut branch: Option<(u8, Option<u16>, u16)> = None;
        // Arrived at pc by a taken backward branch.
        let mut back = false;
        loop {
            if pc == prog.done && branch.is_none() {
                self.flush()?;
                let result = self.ctx.a(0);
                self.obs.done(pc, result);
                return Ok(result);
            }
            let fetched = prog.fetch(pc);
            // The budget: on arrival by a backward branch, and at helper
            // calls (a program looping through a helper meets it too).
            if (back || fetched.is_none() && branch.is_none()) && self.steps >= budget {
                return Err(Fault::Budget { pc });
            }
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

    /// Run the helper at `pc`; the address to continue at.
    fn call_helper(&mut self, pc: u16) -> Result<u16, Fault> {
        self.flush()?;
        // The return address is in B0 at the call (jit.c:1750-1751); the
        // helper overwrites R0, so latch it first.
        let ret = (self.ctx.b(0) & 0x3fff) as u16;
        self.obs.helper(pc, ret, self.ctx);
        if self.env.helper(pc, self.ctx, self.lm, self.pkt) {
            Ok(ret)
        } else {
            Err(Fault::OutOfProgram { pc })
        }
    }

    #[inline(always)]
    fn rd(&mut self, o: Opnd, pc: u16, word: u64) -> Result<u32, Fault> {
        self.ctx.read(self.lm, o).ok_or(Fault::Operand { pc, word })
    }

    #[inline(always)]
    fn wr(&mut self, o: Opnd, v: u32, wr_both: bool, pc: u16, word: u64) -> Result<(), Fault> {
        self.ctx
            .write(self.lm, o, v, wr_both)
            .ok_or(Fault::Operand { pc, word })
    }

    #[inline(always)]
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

/// `indirect_ref` overrides in the previous ALU result: the length is
/// overridden (`CMD_OVE_LEN`, nfp_asm.h:258).
const CMD_OVE_LEN: u32 = 1 << 7;
/// The length override (`CMD_OV_LEN`, bits 12..8, nfp_asm.h:259).
const CMD_OV_LEN_SHIFT: u32 = 8;
/// Which data override (`CMD_OVE_DATA`, bits 5..3, nfp_asm.h:257).
const CMD_OVE_DATA_SHIFT: u32 = 3;
/// OveData = 2: PREV_ALU[31:16] is the command's 16-bit immediate data
/// (nfp_me.h:919-970).
const CMD_OVE_DATA_IMM16: u32 = 2;

/// A memory command issued and waiting for its defer slots.
#[derive(Clone, Copy, Debug)]
struct Pending {
    countdown: u8,
    cmd: MemCmd,
}

impl<O: Observer + ?Sized> Machine<'_, '_, O> {
    /// Issue a memory command: operands, address and overrides are taken
    /// now, the access happens after its defer slots (docs/me-isa.md#memory-commands).
    fn issue(&mut self, c: &Cmd, pc: u16, word: u64) -> Result<(), Fault> {
        let op = c.mem_op();
        if op == MemOp::Other {
            return Err(Fault::Invalid { pc, word });
        }
        let a = self.rd(c.a, pc, word)?;
        let b = self.rd(c.b, pc, word)?;
        let (ctm, addr) = match u64::from(c.mode) {
            cmd_mode::M32 => (true, u64::from(a.wrapping_add(b))),
            cmd_mode::M40_BA => (false, ((u64::from(b) << 8) + u64::from(a)) & ADDR40_MASK),
            _ => return Err(Fault::Invalid { pc, word }),
        };
        let prev = self.ctx.prev_alu;
        let mut len = c.cnt;
        let mut imm = 0;
        if c.indirect {
            if prev & CMD_OVE_LEN != 0 {
                len = ((prev >> CMD_OV_LEN_SHIFT) & 0x1f) as u8;
            }
            if (prev >> CMD_OVE_DATA_SHIFT) & 7 == CMD_OVE_DATA_IMM16 {
                imm = prev >> 16;
            }
        }
        let swap = u64::from(c.ctx) < cmd_ctx_swap::NO_SWAP;
        let defer = if swap { c.ctx } else { 0 };
        let cmd = MemCmd {
            pc,
            op,
            ctm,
            addr,
            xfer: c.xfer,
            len,
            imm,
            swap,
        };
        self.obs.mem(&cmd);
        if defer == 0 {
            return self.execute(&cmd);
        }
        // +1: the tick after this instruction itself does not count.
        let slot = self
            .pending
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(Fault::Invalid { pc, word })?;
        *slot = Some(Pending {
            countdown: defer + 1,
            cmd,
        });
        self.npending += 1;
        Ok(())
    }

    fn mem_read(&self, p: &MemCmd, off: u64, out: &mut [u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        if p.ctm {
            let o = self
                .pkt
                .offset(addr as u32)
                .ok_or(Fault::Memory { pc: p.pc, addr })?;
            self.pkt.read(o, out);
            Ok(())
        } else if self.env.emem_read(addr & ADDR40_MASK, out) {
            Ok(())
        } else {
            Err(Fault::Memory { pc: p.pc, addr })
        }
    }

    fn mem_write(&mut self, p: &MemCmd, off: u64, data: &[u8]) -> Result<(), Fault> {
        let addr = p.addr + off;
        let ok = if p.ctm {
            match self.pkt.offset(addr as u32) {
                Some(o) => self.pkt.write(o, data),
                None => false,
            }
        } else {
            self.env.emem_write(addr & ADDR40_MASK, data)
        };
        ok.then_some(()).ok_or(Fault::Memory { pc: p.pc, addr })
    }

    fn execute(&mut self, p: &MemCmd) -> Result<(), Fault> {
        let x = usize::from(p.xfer);
        let n = usize::from(p.len) + 1;
        let bad = Fault::Memory {
            pc: p.pc,
            addr: p.addr,
        };
        match p.op {
            MemOp::Read32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                self.mem_read(p, 0, &mut bytes[..4 * n])?;
                for (k, w) in bytes[..4 * n].chunks_exact(4).enumerate() {
                    self.ctx.xfer_in[x + k] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                }
            }
            MemOp::Read8 => {
                let words = n.div_ceil(4);
                if x + words > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 8];
                let len = n.min(bytes.len());
                self.mem_read(p, 0, &mut bytes[..len])?;
                for k in 0..words {
                    let w = [0, 1, 2, 3].map(|i| bytes[4 * k + i]);
                    self.ctx.xfer_in[x + k] = u32::from_be_bytes(w);
                }
            }
            MemOp::Write8Swap => {
                if x + n.div_ceil(4) > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                for (k, b) in bytes.iter_mut().take(n).enumerate() {
                    *b = (self.ctx.xfer_out[x + k / 4] >> (8 * (k % 4))) as u8;
                }
                self.mem_write(p, 0, &bytes[..n])?;
            }
            MemOp::Write32Swap => {
                if x + n > XFER_REGS {
                    return Err(bad);
                }
                let mut bytes = [0u8; 4 * 32];
                for k in 0..n {
                    bytes[4 * k..4 * k + 4]
                        .copy_from_slice(&self.ctx.xfer_out[x + k].to_le_bytes());
                }
                self.mem_write(p, 0, &bytes[..4 * n])?;
            }
            MemOp::Add | MemOp::AddImm => {
                let wide = p.len & 4 != 0;
                let v = if p.op == MemOp::AddImm {
                    u64::from(p.imm)
                } else {
                    if x + 2 > XFER_REGS {
                        return Err(bad);
                    }
                    let lo = u64::from(self.ctx.xfer_out[x]);
                    if wide {
                        u64::from(self.ctx.xfer_out[x + 1]) << 32 | lo
                    } else {
                        lo
                    }
                };
                if p.ctm {
                    // Atomics on packet memory: never emitted (the verifier
                    // refuses them), done plainly for completeness.
                    let mut b = [0u8; 8];
                    self.mem_read(p, 0, &mut b)?;
                    let lo = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                    let hi = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                    if wide {
                        let s = (u64::from(hi) << 32 | u64::from(lo)).wrapping_add(v);
                        b[..4].copy_from_slice(&(s as u32).to_be_bytes());
                        b[4..].copy_from_slice(&((s >> 32) as u32).to_be_bytes());
                        self.mem_write(p, 0, &b)?;
                    } else {
                        self.mem_write(p, 0, &lo.wrapping_add(v as u32).to_be_bytes())?;
                    }
                } else if !self.env.emem_add(p.addr, v, wide) {
                    return Err(bad);
                }
            }
            MemOp::Other => return Err(bad),
        }
        Ok(())
    }

    /// Count down the defer slots of pending commands; run the due ones.
    #[inline(always)]
    fn tick(&mut self) -> Result<(), Fault> {
        if self.npending == 0 {
            return Ok(());
        }
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].as_mut() {
                p.countdown -= 1;
                if p.countdown == 0 {
                    let cmd = p.cmd;
                    self.pending[i] = None;
                    self.npending -= 1;
                    self.execute(&cmd)?;
                }
            }
        }
        Ok(())
    }

    /// Run every pending command now (before DONE and helper calls).
    fn flush(&mut self) -> Result<(), Fault> {
        for i in 0..self.pending.len() {
            if let Some(p) = self.pending[i].take() {
                self.npending -= 1;
                self.execute(&p.cmd)?;
            }
        }
        Ok(())
    }
}
