//! The interpreter: the reference [`Executor`]. Generic over an
//! [`Observer`] so that an unobserved run carries no observation code.
//!
//! Two sequencers share one machine state:
//!
//! - the **lean loop** runs the program's pre-resolved form ([`Code`],
//!   built once at load): operands are register-file indexes, branch
//!   targets instruction indexes, the defer slots of a branch run inline
//!   right after it, and nothing is counted per instruction but the step;
//! - the **general sequencer** (`slow.rs`) runs the decoded [`Insn`]s with
//!   every rule of the ME: defer slots counted down, memory commands
//!   waiting for theirs, a CSR read feeding the next `immed`, branches in
//!   defer slots. The lean loop hands it any instruction the lean form does
//!   not cover ([`ops::Op::Slow`]) and takes over again at the first
//!   instruction boundary where nothing is in flight.
//!
//! The budget (see [`Executor::run`]) is checked on arrival by a taken
//! backward branch and at helper calls only.
//!
//! [`Insn`]: crate::fp::insn::Insn

mod mem;
mod ops;
mod slow;

pub(in crate::fp::exec) use ops::Code;

use super::{
    Ctx, Env, Executor, Exit, Fault, LM_WORDS, NoObserver, Observer, Packet, Program, Thread,
};
use crate::fp::exec::ctx::FILE_WORDS;
use crate::fp::insn::LmMode;
use mem::Pending;
use ops::{AluK, Dst, Fd, Fs, Op, ShfK, Src};

/// The interpreter: the reference executor, and the one that serves
/// observed runs (`--trace-prog`, profiles) for every other.
#[derive(Clone, Copy, Debug, Default)]
pub struct Interpreter;

impl Executor for Interpreter {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
        interpret(prog, t, budget, &mut NoObserver)
    }
}

/// Interpret `prog` on `t` from its start until it branches to DONE, a
/// fault or the budget (see [`Executor::run`]), showing each step to `obs`
/// (statically dispatched: with [`NoObserver`] the hooks compile away).
pub fn interpret<O: Observer + ?Sized>(
    prog: &Program,
    t: &mut Thread<'_>,
    budget: u64,
    obs: &mut O,
) -> Exit {
    interpret_from(prog, t, prog.start, budget, obs)
}

/// As [`interpret`], starting at `pc` instead of the program's start, with
/// no branch and no memory command pending: how another executor hands a
/// run it started over to the interpreter (a side exit; `budget` is what
/// is left of the packet's). `pc` may be DONE or a helper's address, as a
/// branch target may.
pub fn interpret_from<O: Observer + ?Sized>(
    prog: &Program,
    t: &mut Thread<'_>,
    pc: u16,
    budget: u64,
    obs: &mut O,
) -> Exit {
    let mut m = Machine::new(t, obs);
    let result = m.run(prog, pc, budget);
    Exit {
        steps: m.steps,
        result,
    }
}

/// As [`interpret`], with every instruction run by the general sequencer
/// (`slow.rs`) in its decoded form, never by the lean loop: the oracle the
/// differential tests hold the lean form to (`tests/oracle.rs`).
#[cfg(test)]
pub(in crate::fp::exec) fn interpret_general<O: Observer + ?Sized>(
    prog: &Program,
    t: &mut Thread<'_>,
    budget: u64,
    obs: &mut O,
) -> Exit {
    let mut m = Machine::new(t, obs);
    // Staying, the general sequencer leaves only at DONE or a fault.
    let result = match m.slow(prog, prog.start, budget, true) {
        Ok(Next::Done(r)) => Ok(r),
        Ok(Next::At(i)) => unreachable!("the general sequencer left at index {i}"),
        Err(f) => Err(f),
    };
    Exit {
        steps: m.steps,
        result,
    }
}

/// One run in progress: the thread's state, the observer, and the memory
/// commands waiting for their defer slots.
pub(super) struct Machine<'a, 'p, O: Observer + ?Sized> {
    pub(super) ctx: &'a mut Ctx,
    pub(super) lm: &'a mut [u32; LM_WORDS],
    pub(super) pkt: &'a mut Packet<'p>,
    pub(super) env: &'a dyn Env,
    pub(super) obs: &'a mut O,
    pub(super) pending: [Option<Pending>; 4],
    pub(super) npending: usize,
    pub(super) steps: u64,
}

impl<'a, 'p, O: Observer + ?Sized> Machine<'a, 'p, O> {
    /// A run on `t`'s state, observed by `obs`, with nothing in flight.
    fn new(t: &'a mut Thread<'p>, obs: &'a mut O) -> Self {
        Self {
            ctx: &mut *t.ctx,
            lm: &mut *t.lm,
            pkt: &mut t.pkt,
            env: t.env,
            obs,
            pending: [None; 4],
            npending: 0,
            steps: 0,
        }
    }
}

/// Where a run goes on after leaving the lean loop.
enum Next {
    /// At this instruction index.
    At(usize),
    /// The run ended at DONE with this result.
    Done(u32),
}

/// A resolved generic destination.
#[derive(Clone, Copy)]
enum At {
    F(Fd),
    Lm(usize),
}

/// `a + b + cin`: result, carry out, signed overflow.
#[inline(always)]
fn add(a: u32, b: u32, cin: u32) -> (u32, bool, bool) {
    let s = u64::from(a) + u64::from(b) + u64::from(cin);
    let r = s as u32;
    (r, s >> 32 != 0, (!(a ^ b) & (a ^ r)) >> 31 != 0)
}

/// `a - b - borrow`: result, carry (no borrow), signed overflow.
#[inline(always)]
fn sub(a: u32, b: u32, borrow: u32) -> (u32, bool, bool) {
    let s = i64::from(a) - i64::from(b) - i64::from(borrow);
    let r = s as u32;
    (r, s >= 0, ((a ^ b) & (a ^ r)) >> 31 != 0)
}

/// An ALU operation on (left, right) with its condition codes and the
/// previous-ALU latches.
#[inline(always)]
fn alu(c: &mut Ctx, k: AluK, cc: bool, a: u32, b: u32) -> u32 {
    let (r, cv) = match k {
        AluK::B => (b, None),
        AluK::Add => {
            let (r, co, v) = add(a, b, 0);
            (r, Some((co, v)))
        }
        AluK::AddC => {
            let (r, co, v) = add(a, b, u32::from(c.c));
            (r, Some((co, v)))
        }
        AluK::Add16 => (a.wrapping_add(b) & 0xffff, None),
        AluK::Sub => {
            let (r, co, v) = sub(a, b, 0);
            (r, Some((co, v)))
        }
        AluK::SubC => {
            let (r, co, v) = sub(a, b, u32::from(!c.c));
            (r, Some((co, v)))
        }
        AluK::Not => (!b, None),
        AluK::And => (a & b, None),
        AluK::AndNotA => (!a & b, None),
        AluK::AndNotB => (a & !b, None),
        AluK::Or => (a | b, None),
        AluK::Xor => (a ^ b, None),
    };
    if cc {
        c.set_zn(r);
        if let Some((co, v)) = cv {
            c.c = co;
            c.v = v;
        }
    }
    c.prev_alu = r;
    c.prev_a = a;
    r
}

/// An `alu_shf` computation (docs/me-isa.md#alu_shf), then its condition codes and
/// latches.
#[inline(always)]
fn shf(c: &mut Ctx, k: ShfK, sc: crate::fp::insn::ShiftCtl, shift: u8, a: u32, b: u32) -> u32 {
    let r = match k {
        ShfK::Ashr => {
            // Sign from bit 31 of the previous ALU result.
            let n = if shift == 0 {
                c.prev_a & 31
            } else {
                u32::from(shift)
            };
            let r = b >> n;
            if c.prev_alu >> 31 != 0 && n != 0 {
                r | !(u32::MAX >> n)
            } else {
                r
            }
        }
        ShfK::Dbl => c.shift(sc, shift, a, b),
        k => {
            let s = c.shift(sc, shift, a, b);
            match k {
                ShfK::NotB => !s,
                ShfK::And => a & s,
                ShfK::AndNotA => !a & s,
                ShfK::AndNotB => a & !s,
                ShfK::Or => a | s,
                _ => s,
            }
        }
    };
    c.set_zn(r);
    c.prev_alu = r;
    c.prev_a = a;
    r
}

/// The file word of a source index.
#[inline(always)]
fn rf(f: &[u32; FILE_WORDS], i: Fs) -> u32 {
    f[usize::from(i) & (FILE_WORDS - 1)]
}

/// Write a file destination.
#[inline(always)]
fn wf(f: &mut [u32; FILE_WORDS], d: Fd, v: u32) {
    f[usize::from(d.0)] = v;
    f[usize::from(d.1)] = v;
}

impl<O: Observer + ?Sized> Machine<'_, '_, O> {
    fn run(&mut self, prog: &Program, from: u16, budget: u64) -> Result<u32, Fault> {
        let code = &prog.code;
        // A CSR read left for the first instruction: the general sequencer
        // takes it.
        let next = if code.all_slow || self.ctx.csr_read.is_some() {
            self.slow(prog, from, budget, code.all_slow)?
        } else if from == prog.start {
            Next::At(0)
        } else {
            // A side exit: an address in the program, DONE or a helper.
            self.goto(prog, from, budget)?
        };
        let mut i = match next {
            Next::Done(r) => return Ok(r),
            Next::At(i) => i,
        };
        let ops = &*code.ops;
        let start = prog.start;
        loop {
            let Some(&op) = ops.get(i) else {
                // Never: indexes come from the program's own form.
                return Err(Fault::OutOfProgram {
                    pc: start.wrapping_add(i as u16),
                });
            };
            let pc = start.wrapping_add(i as u16);
            match op {
                Op::Leave { pc } => match self.goto(prog, pc, budget)? {
                    Next::At(k) => i = k,
                    Next::Done(r) => return Ok(r),
                },
                Op::Slow => match self.slow(prog, pc, budget, code.all_slow)? {
                    Next::At(k) => i = k,
                    Next::Done(r) => return Ok(r),
                },
                Op::Br { mask, d, t, back } => {
                    self.steps += 1;
                    self.show(prog, pc, i);
                    let c = &*self.ctx;
                    let f = u16::from(c.z)
                        | u16::from(c.n) << 1
                        | u16::from(c.c) << 2
                        | u16::from(c.v) << 3;
                    let taken = mask >> f & 1 != 0;
                    i = self.branch(prog, ops, i, d, taken.then_some((t, back)), budget)?;
                }
                Op::BrBit {
                    set,
                    r,
                    bit,
                    d,
                    t,
                    back,
                } => {
                    self.steps += 1;
                    self.show(prog, pc, i);
                    let f = self.ctx.file();
                    let bitno = rf(f, bit).wrapping_sub(1) & 31;
                    let taken = (rf(f, r) >> bitno & 1 != 0) == set;
                    i = self.branch(prog, ops, i, d, taken.then_some((t, back)), budget)?;
                }
                Op::Rtn { s, d } => {
                    self.steps += 1;
                    self.show(prog, pc, i);
                    let target = (rf(self.ctx.file(), s) & 0x3fff) as u16;
                    self.obs.branch(pc, d, true);
                    self.slots(prog, ops, i, d)?;
                    if target != prog.done && target <= pc && self.steps >= budget {
                        return Err(Fault::Budget { pc: target });
                    }
                    match self.goto(prog, target, budget)? {
                        Next::At(k) => i = k,
                        Next::Done(r) => return Ok(r),
                    }
                }
                op => {
                    self.steps += 1;
                    self.show(prog, pc, i);
                    self.straight(op, pc)?;
                    i += 1;
                }
            }
        }
    }

    /// Show the instruction at index `i` to the observer.
    #[inline(always)]
    fn show(&mut self, prog: &Program, pc: u16, i: usize) {
        if let Some(insn) = prog.insns.get(i) {
            self.obs.insn(prog, pc, insn);
        }
    }

    /// A branch at index `i` with `d` defer slots, to `(t, back)` if
    /// taken: the slots run, then the budget is checked if the branch goes
    /// back. The index to go on at.
    #[inline(always)]
    fn branch(
        &mut self,
        prog: &Program,
        ops: &[Op],
        i: usize,
        d: u8,
        taken: Option<(u16, bool)>,
        budget: u64,
    ) -> Result<usize, Fault> {
        let pc = prog.start.wrapping_add(i as u16);
        self.obs.branch(pc, d, taken.is_some());
        if d != 0 {
            self.slots(prog, ops, i, d)?;
        }
        match taken {
            Some((t, back)) => {
                if back && self.steps >= budget {
                    return Err(Fault::Budget {
                        pc: pc_at(prog, ops, t),
                    });
                }
                Ok(usize::from(t))
            }
            None => Ok(i + 1 + usize::from(d)),
        }
    }

    /// Run the `d` defer slots after the branch at index `i` (lean,
    /// straight-line instructions: checked at load).
    #[inline(always)]
    fn slots(&mut self, prog: &Program, ops: &[Op], i: usize, d: u8) -> Result<(), Fault> {
        for k in i + 1..=i + usize::from(d) {
            let Some(&op) = ops.get(k) else {
                break;
            };
            let pc = prog.start.wrapping_add(k as u16);
            self.steps += 1;
            self.show(prog, pc, k);
            self.straight(op, pc)?;
        }
        Ok(())
    }

    /// Go on at `pc` (nothing in flight): DONE ends the run, an address in
    /// the program is an index, anything else is a helper call (and the
    /// address it returns to is gone on at).
    #[cold]
    fn goto(&mut self, prog: &Program, mut pc: u16, budget: u64) -> Result<Next, Fault> {
        loop {
            if pc == prog.done {
                return self.done(pc).map(Next::Done);
            }
            if let Some(k) = pc.checked_sub(prog.start) {
                if usize::from(k) < prog.len() {
                    return Ok(Next::At(usize::from(k)));
                }
            }
            // A helper call meets the budget like a backward branch.
            if self.steps >= budget {
                return Err(Fault::Budget { pc });
            }
            self.steps += 1;
            pc = self.call_helper(pc)?;
        }
    }

    /// The run reached DONE at `pc`: the result is A0.
    pub(super) fn done(&mut self, pc: u16) -> Result<u32, Fault> {
        self.flush()?;
        let result = self.ctx.a(0);
        self.obs.done(pc, result);
        Ok(result)
    }

    /// Run the helper at `pc`; the address to continue at.
    pub(super) fn call_helper(&mut self, pc: u16) -> Result<u16, Fault> {
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

    /// Read a generic source (an LM pointer's post-modify applied).
    #[inline(always)]
    fn read(&mut self, s: Src) -> u32 {
        match s {
            Src::F(i) => rf(self.ctx.file(), i),
            Src::Lm(p, o) => self.lm[self.ctx.lm_word(p, LmMode::Offset(o))],
            Src::LmInc(p) => self.lm[self.ctx.lm_word(p, LmMode::PostInc)],
            Src::LmDec(p) => self.lm[self.ctx.lm_word(p, LmMode::PostDec)],
        }
    }

    /// Resolve a generic destination (an LM pointer's post-modify
    /// applied).
    #[inline(always)]
    fn place(&mut self, d: Dst) -> At {
        match d {
            Dst::F(f) => At::F(f),
            Dst::Lm(p, o) => At::Lm(self.ctx.lm_word(p, LmMode::Offset(o))),
            Dst::LmInc(p) => At::Lm(self.ctx.lm_word(p, LmMode::PostInc)),
            Dst::LmDec(p) => At::Lm(self.ctx.lm_word(p, LmMode::PostDec)),
        }
    }

    /// The value at a resolved destination (for partial writes).
    #[inline(always)]
    fn get(&mut self, a: At) -> u32 {
        match a {
            At::F(f) => self.ctx.file()[usize::from(f.0)],
            At::Lm(w) => self.lm[w],
        }
    }

    /// Write a resolved destination.
    #[inline(always)]
    fn put(&mut self, a: At, v: u32) {
        match a {
            At::F(f) => wf(self.ctx.file(), f, v),
            At::Lm(w) => self.lm[w] = v,
        }
    }

    /// Run one straight-line instruction of the lean form.
    #[inline(always)]
    fn straight(&mut self, op: Op, pc: u16) -> Result<(), Fault> {
        match op {
            Op::Alu { k, cc, d, a, b } => {
                let f = self.ctx.file();
                let (x, y) = (rf(f, a), rf(f, b));
                let r = alu(self.ctx, k, cc, x, y);
                wf(self.ctx.file(), d, r);
            }
            Op::AluG {
                k,
                cc,
                swap,
                d,
                a,
                b,
            } => {
                let (x, y) = (self.read(a), self.read(b));
                let (x, y) = if swap { (y, x) } else { (x, y) };
                let r = alu(self.ctx, k, cc, x, y);
                let at = self.place(d);
                self.put(at, r);
            }
            Op::Shf {
                k,
                sc,
                shift,
                d,
                a,
                b,
            } => {
                let f = self.ctx.file();
                let (x, y) = (rf(f, a), rf(f, b));
                let r = shf(self.ctx, k, sc, shift, x, y);
                wf(self.ctx.file(), d, r);
            }
            Op::ShfG {
                k,
                sc,
                shift,
                swap,
                d,
                a,
                b,
            } => {
                let (x, y) = (self.read(a), self.read(b));
                let (x, y) = if swap { (y, x) } else { (x, y) };
                let r = shf(self.ctx, k, sc, shift, x, y);
                let at = self.place(d);
                self.put(at, r);
            }
            Op::Immed { d, m, v } => {
                let f = self.ctx.file();
                let r = f[usize::from(d.0)] & !m | v;
                wf(f, d, r);
                self.ctx.prev_alu = r;
            }
            Op::ImmedG { d, m, v } => {
                let at = self.place(d);
                let r = self.get(at) & !m | v;
                self.ctx.prev_alu = r;
                self.put(at, r);
            }
            Op::LdF {
                d,
                s,
                sc,
                shift,
                m,
                keep,
            } => {
                let f = self.ctx.file();
                let (s, old) = (rf(f, s), f[usize::from(d.0)]);
                let r = old & keep | self.ctx.shift(sc, shift, 0, s) & m;
                wf(self.ctx.file(), d, r);
                self.ctx.prev_alu = r;
            }
            Op::LdFG {
                d,
                s,
                sc,
                shift,
                m,
                keep,
            } => {
                let s = self.read(s);
                let at = self.place(d);
                let old = if keep == 0 { 0 } else { self.get(at) };
                let r = old & keep | self.ctx.shift(sc, shift, 0, s) & m;
                self.ctx.prev_alu = r;
                self.put(at, r);
            }
            Op::SetLm { k, s } => {
                let v = self.read(s);
                self.ctx.lm_addr[usize::from(k & 3)] = v & 0xffc;
            }
            Op::MulLatch { a, b } => {
                let f = self.ctx.file();
                let (x, y) = (rf(f, a), rf(f, b));
                self.ctx.mul = [x, y];
            }
            Op::MulLast { ty, hi, d } => {
                let [x, y] = self.ctx.mul;
                let p = match ty {
                    1 => u64::from(x & 0xff_ffff) * u64::from(y & 0xff),
                    2 => u64::from(x & 0xffff) * u64::from(y & 0xffff),
                    _ => u64::from(x) * u64::from(y),
                };
                let v = if hi { (p >> 32) as u32 } else { p as u32 };
                wf(self.ctx.file(), d, v);
            }
            Op::Mem(m) => self.issue_lean(&m, pc)?,
            // Control and sentinels never run straight (checked at load).
            Op::Nop
            | Op::Br { .. }
            | Op::BrBit { .. }
            | Op::Rtn { .. }
            | Op::Leave { .. }
            | Op::Slow => {}
        }
        Ok(())
    }
}

/// The address an instruction index stands for (a sentinel's own).
fn pc_at(prog: &Program, ops: &[Op], t: u16) -> u16 {
    match ops.get(usize::from(t)) {
        Some(Op::Leave { pc }) if usize::from(t) >= prog.len() => *pc,
        _ => prog.start.wrapping_add(t),
    }
}
