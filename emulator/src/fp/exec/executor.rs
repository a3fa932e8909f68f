//! The seam a packet's program runs through: [`Executor`], what it works
//! on ([`Thread`]), what can watch it ([`Observer`]) and how one is chosen
//! ([`ExecutorKind`]).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use tracing::trace;

#[cfg(doc)]
use super::Interpreter;
use super::{Ctx, Env, Exit, LM_WORDS, Packet, Program};
use crate::fp::disasm::Disasm;
use crate::fp::insn::Insn;
use crate::fp::insn::MemOp;

/// What one packet's run works on: one ME context's registers, the ME's
/// local memory, the packet in CTM and the firmware environment (EMEM,
/// helpers).
pub struct Thread<'a> {
    /// The context's registers.
    pub ctx: &'a mut Ctx,
    /// The ME's local memory (shared by its contexts).
    pub lm: &'a mut [u32; LM_WORDS],
    /// The packet the context works on.
    pub pkt: Packet<'a>,
    /// EMEM and the firmware helpers.
    pub env: &'a dyn Env,
}

impl fmt::Debug for Thread<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("pkt", &self.pkt.num)
            .finish_non_exhaustive()
    }
}

/// Runs a packet's program: the one place the flow processor hands a
/// packet to code that executes microcode. The ME model (`fp::me`), the
/// flow processor and the datapath hold an `Arc<dyn Executor>` chosen
/// through `FpConfig::exec` ([`ExecutorKind`]) and never learn which one
/// it is.
///
/// # Design
///
/// - **Granularity.** One call runs one packet from the program's start to
///   DONE (or a fault): the only dynamic dispatch is one virtual call per
///   packet. Inside, an implementation runs monomorphic code; nothing is
///   dispatched per instruction.
/// - **Reference.** [`Interpreter`] is the reference implementation. Any
///   other executor must leave the [`Thread`] (registers, LM, packet
///   bytes, EMEM through [`Env`]) and the [`Exit`] (steps, result or
///   fault) exactly as the interpreter does, so that a differential test
///   can run both on every program.
/// - **Per-program work at load** ([`Executor::prepare`]). Called once per
///   program on the control thread that loaded it, before or after the
///   program is installed; never on a packet thread. A translating
///   executor (issue #12: microcode to host code with Cranelift) compiles
///   there, or hands the program to a thread of its own, and stores the
///   result in the program's artefact slot ([`Program::set_artefact`]).
///   [`Executor::run`] then reads the slot once per packet
///   ([`Program::artefact`], one atomic load): until it is filled the
///   packet runs on the interpreter, after that on the translation. A
///   packet never switches half-way, and packets never wait for a
///   translation. The artefact lives and dies with its [`Program`].
/// - **Observation** ([`Executor::run_observed`], issue #10: per-packet
///   cycle model, per-instruction profile, memory commands by target; and
///   `--trace-prog`). An [`Observer`] sees each instruction, branch,
///   memory command, helper call and the exit. The interpreter is generic
///   over its observer ([`super::interpret`]): [`Executor::run`]
///   instantiates it with [`NoObserver`], whose empty inline hooks compile
///   away, so observation costs nothing when it is off. Observed runs go
///   through `&mut dyn Observer` (a call per hook: only when asked for); a
///   caller that knows its observer type statically (a bench, a timing
///   module) can call [`super::interpret`] directly and get it inlined.
///   By default observed runs use the interpreter, whatever the executor:
///   a translating executor need not instrument its code.
/// - **Choice.** [`ExecutorKind`] names the executors (`--fp-exec`);
///   `FlowProcessor::with_executor` takes any implementation (tests wrap
///   the interpreter to prove the seam).
pub trait Executor: Send + Sync + fmt::Debug {
    /// A short name for logs and `--fp-exec` (`interp`, ...).
    fn name(&self) -> &'static str;

    /// Prepare `prog` once, at load, on the control thread: e.g. translate
    /// it and [`Program::set_artefact`] the result. Must not block on
    /// packets; packets may already run `prog` (on the interpreter).
    fn prepare(&self, _prog: &Arc<Program>) {}

    /// Run `prog` on one packet from its start until it branches to DONE,
    /// a fault, or `budget` instructions.
    fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit;

    /// As [`Executor::run`], showing every step to `obs`. By default the
    /// interpreter runs observed packets.
    fn run_observed(
        &self,
        prog: &Program,
        t: &mut Thread<'_>,
        budget: u64,
        obs: &mut dyn Observer,
    ) -> Exit {
        super::interpret(prog, t, budget, obs)
    }
}

/// Watches a run step by step (a cycle model, a profile, the trace). Every
/// hook does nothing by default.
pub trait Observer {
    /// The instruction at `pc` is about to run.
    #[inline(always)]
    fn insn(&mut self, _prog: &Program, _pc: u16, _insn: &Insn) {}
    /// The branch at `pc` was decided: `taken` after `defer` slots.
    #[inline(always)]
    fn branch(&mut self, _pc: u16, _defer: u8, _taken: bool) {}
    /// A memory command was issued (it takes effect after its defer slots).
    #[inline(always)]
    fn mem(&mut self, _cmd: &MemCmd) {}
    /// The firmware helper at `pc` is called; it returns to `ret`. `ctx`
    /// holds its arguments (docs/bpf-offload.md#helpers: table id in A0, sizes and flags
    /// in R3..R5), as the helper is about to read them.
    #[inline(always)]
    fn helper(&mut self, _pc: u16, _ret: u16, _ctx: &Ctx) {}
    /// The program reached DONE at `pc` with `result` in A0.
    #[inline(always)]
    fn done(&mut self, _pc: u16, _result: u32) {}
}

impl<O: Observer + ?Sized> Observer for &mut O {
    #[inline(always)]
    fn insn(&mut self, prog: &Program, pc: u16, insn: &Insn) {
        (**self).insn(prog, pc, insn);
    }
    #[inline(always)]
    fn branch(&mut self, pc: u16, defer: u8, taken: bool) {
        (**self).branch(pc, defer, taken);
    }
    #[inline(always)]
    fn mem(&mut self, cmd: &MemCmd) {
        (**self).mem(cmd);
    }
    #[inline(always)]
    fn helper(&mut self, pc: u16, ret: u16, ctx: &Ctx) {
        (**self).helper(pc, ret, ctx);
    }
    #[inline(always)]
    fn done(&mut self, pc: u16, result: u32) {
        (**self).done(pc, result);
    }
}

/// Observes nothing: the unobserved fast path.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;
impl Observer for NoObserver {}

/// `--trace-prog`: each instruction disassembled, helper calls and DONE at
/// `tracing` trace level (target `nfp_emu::fp::trace`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tracer;

impl Observer for Tracer {
    fn insn(&mut self, prog: &Program, pc: u16, _insn: &Insn) {
        let word = prog.word(pc);
        trace!(target: "nfp_emu::fp::trace", "  .{pc}  {word:016x}  {}", Disasm(word));
    }
    fn helper(&mut self, pc: u16, ret: u16, _ctx: &Ctx) {
        trace!(target: "nfp_emu::fp::trace", "  .{pc}  helper call, return to .{ret}");
    }
    fn done(&mut self, pc: u16, result: u32) {
        trace!(target: "nfp_emu::fp::trace", "  .{pc}  DONE  A0={result:#010x}");
    }
}

/// The executors there are (`--fp-exec`). An executor of a kind is made
/// by `ExecutorKind::executor` (in `fp`, which sees every executor).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecutorKind {
    /// `fp::jit::Jit`, the default: each program translated to host code
    /// at load (the interpreter runs its packets until the translation is
    /// ready). It passes the differential suite against the interpreter and
    /// every boot scenario runs on it.
    #[default]
    Jit,
    /// [`Interpreter`]: the reference every translation is tested against.
    Interp,
}

impl ExecutorKind {
    /// Every kind, for help texts.
    pub const ALL: [ExecutorKind; 2] = [ExecutorKind::Jit, ExecutorKind::Interp];

    /// The name `--fp-exec` takes.
    pub fn name(self) -> &'static str {
        match self {
            ExecutorKind::Jit => "jit",
            ExecutorKind::Interp => "interp",
        }
    }
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name no executor has.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown executor {0:?} (known: {known})", known = known_executors())]
pub struct UnknownExecutor(pub String);

/// The names of [`ExecutorKind::ALL`], comma-separated.
fn known_executors() -> String {
    let names: Vec<&str> = ExecutorKind::ALL.iter().map(|k| k.name()).collect();
    names.join(", ")
}

impl FromStr for ExecutorKind {
    type Err = UnknownExecutor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExecutorKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownExecutor(s.to_owned()))
    }
}

/// A memory command as issued: operands, address and overrides resolved
/// (what [`Observer::mem`] is shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemCmd {
    /// Address of the command in the program.
    pub pc: u16,
    /// What it does.
    pub op: MemOp,
    /// CTM packet memory (32-bit mode), else EMEM (40-bit mode).
    pub ctm: bool,
    /// The address.
    pub addr: u64,
    /// First transfer register.
    pub xfer: u8,
    /// Length field (units depend on the command), after overrides.
    pub len: u8,
    /// Immediate data (`add_imm`), from the override.
    pub imm: u32,
    /// The context swaps out until the command completes.
    pub swap: bool,
}
