//! What translated code runs on: the [`Frame`] of one run, the calls out
//! to Rust it makes (memory commands, helpers, the random-number CSR), and
//! [`Translation::run`], the one place translated code is called.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::fp::exec::{
    Ctx, Env, Exit, Fault, LM_WORDS, MemCmd, NoObserver, Packet, Program, Thread, interpret_from,
};
use crate::fp::insn::MemOp;
use crate::fp::word::NFP_INSN_MASK;

/// How a run of translated code ended (its return value and
/// [`Frame::code`]).
pub(super) mod code {
    /// The program reached DONE; the result is in A0.
    pub const DONE: u32 = 0;
    /// An instruction the card cannot run: `Fault::Invalid` at `pc`.
    pub const INVALID: u32 = 1;
    /// An operand outside the JIT's forms: `Fault::Operand` at `pc`.
    pub const OPERAND: u32 = 2;
    /// Control left the program in a defer slot: `Fault::OutOfProgram`.
    pub const OUT_OF_PROGRAM: u32 = 3;
    /// A call out recorded the fault in [`super::Frame::fault`].
    pub const FAULT_SET: u32 = 4;
    /// Continue on the interpreter at `pc` (no branch, command or CSR
    /// value pending).
    pub const SIDE_EXIT: u32 = 5;
    /// A call out panicked; the payload is in [`super::Frame::panic`].
    pub const PANIC: u32 = 6;
    /// The budget ran out on arrival at `pc` by a backward branch:
    /// `Fault::Budget`.
    pub const BUDGET: u32 = 7;
}

/// Runs that went on on the interpreter part-way (a statistic for tests
/// and the bench: translated code is expected to need it rarely).
pub(super) static SIDE_EXITS: AtomicU64 = AtomicU64::new(0);

/// What a call out to a helper returns when the run ends there (the call
/// out set [`Frame::code`]); otherwise it returns the return address.
pub(super) const HELPER_END: u32 = 0x1_0000;

/// Signature of translated code: the frame in, the exit code out.
pub(super) type Entry = unsafe extern "C" fn(*mut Frame<'_>) -> u32;

/// The state of one run of translated code. Translated code reads
/// `ctx`, `lm`, `budget` and the packet fields and writes `steps`, `code`,
/// `pc`, `csr_set`, `csr` and `low_write` (at their `offset_of!` offsets);
/// the rest is for the calls out.
#[repr(C)]
pub(super) struct Frame<'a> {
    /// The context's registers.
    pub ctx: *mut Ctx,
    /// The ME's local memory (`LM_WORDS` words).
    pub lm: *mut u32,
    /// Instructions the packet may run.
    pub budget: u64,
    /// Instructions run when the code returned.
    pub steps: u64,
    /// How it ended ([`code`]).
    pub code: u32,
    /// Where (the faulting instruction, or where the interpreter goes on).
    pub pc: u32,
    /// 1 if a `local_csr_rd` value is waiting for the next instruction.
    pub csr_set: u32,
    /// That value.
    pub csr: u32,
    /// The context's CTM packet buffer.
    pub pkt: *mut u8,
    /// Its length.
    pub pkt_len: usize,
    /// The packet number.
    pub pkt_num: u16,
    /// EMEM and the helpers.
    pub env: &'a dyn Env,
    /// The fault a call out met.
    pub fault: Option<Fault>,
    /// The payload of a call out's panic, resumed once the code returned.
    pub panic: Option<Box<dyn std::any::Any + Send>>,
    /// The lowest packet offset a memory command wrote (`Packet::low_write`).
    pub low_write: usize,
}

/// A program translated to host code: the entry point and the module that
/// owns its memory.
pub(super) struct Translation {
    entry: Entry,
    code: Code,
    /// Bytes of host code.
    pub bytes: usize,
}

impl std::fmt::Debug for Translation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Translation")
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

/// The JIT module owning a translation's executable memory, freed when
/// the translation (and so its [`Program`]) is dropped.
pub(super) struct Code(Option<cranelift_jit::JITModule>);

// SAFETY: after `finalize_definitions` the module is never used again
// except to free its memory on drop, which takes it by value: no `&Code`
// gives access to it, and moving it between threads moves owned maps and
// boxes only (the executable memory itself is immutable from then on).
unsafe impl Send for Code {}
// SAFETY: as above: `&Code` exposes nothing.
unsafe impl Sync for Code {}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(m) = self.0.take() {
            // SAFETY: the code is only run through `Translation::run`,
            // which borrows the translation (so its program) for the whole
            // call: when the program, and with it this module, is dropped
            // no run is executing it and its entry pointer dies with it.
            unsafe { m.free_memory() };
        }
    }
}

impl Translation {
    /// A translation whose code starts at `entry` inside `module`.
    pub(super) fn new(module: cranelift_jit::JITModule, entry: *const u8, bytes: usize) -> Self {
        // SAFETY: `entry` is the finalized address of the function
        // `translate` defined with exactly this signature (one pointer
        // argument, an `i32` result, the host's default calling
        // convention).
        let entry = unsafe { std::mem::transmute::<*const u8, Entry>(entry) };
        Self {
            entry,
            code: Code(Some(module)),
            bytes,
        }
    }

    /// Run the translation of `prog` on `t`: as `Interpreter::run` does,
    /// with the same [`Exit`] and the same state left in `t`.
    pub(super) fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
        let _ = &self.code;
        // States translated code does not represent (a CSR value left
        // waiting by the previous packet, Z and N both set by a helper):
        // the interpreter runs the packet.
        if t.ctx.csr_read.is_some() || (t.ctx.z && t.ctx.n) {
            return interpret_from(prog, t, prog.start, budget, &mut NoObserver);
        }
        let mut f = Frame {
            ctx: &raw mut *t.ctx,
            lm: t.lm.as_mut_ptr(),
            budget,
            steps: 0,
            code: code::DONE,
            pc: 0,
            csr_set: 0,
            csr: 0,
            pkt: t.pkt.buf.as_mut_ptr(),
            pkt_len: t.pkt.buf.len(),
            pkt_num: t.pkt.num,
            env: t.env,
            fault: None,
            panic: None,
            low_write: usize::MAX,
        };
        // SAFETY: the one call of translated code. `entry` was made by
        // `translate` from `prog` (the artefact is the program's own) and
        // its module lives as long as `self`. The code reads and writes
        // only through the frame: the context (`f.ctx`, a valid exclusive
        // `Ctx`), local memory (`f.lm`, LM_WORDS words, every index masked
        // to 0..LM_WORDS), the frame's own fields; transfer registers
        // only at indexes checked against XFER_REGS at translation; the
        // packet buffer (`f.pkt`) inline only where an access's last byte
        // was checked against `f.pkt_len` first, and otherwise, like EMEM
        // and the helpers, only through the calls out, which bounds-check.
        // `t` is not used while the code runs.
        let code = unsafe { (self.entry)(&raw mut f) };
        if let Some(p) = f.panic.take() {
            std::panic::resume_unwind(p);
        }
        t.pkt.low_write = t.pkt.low_write.min(f.low_write);
        if f.csr_set != 0 {
            t.ctx.csr_read = Some(f.csr);
        }
        let pc = f.pc as u16;
        let steps = f.steps;
        let word = || prog.word(pc) & NFP_INSN_MASK;
        let result = match code {
            code::DONE => Ok(t.ctx.a(0)),
            code::INVALID => Err(Fault::Invalid { pc, word: word() }),
            code::OPERAND => Err(Fault::Operand { pc, word: word() }),
            code::OUT_OF_PROGRAM => Err(Fault::OutOfProgram { pc }),
            code::BUDGET => Err(Fault::Budget { pc }),
            code::SIDE_EXIT => {
                SIDE_EXITS.fetch_add(1, Ordering::Relaxed);
                let rest = budget.saturating_sub(steps);
                let e = interpret_from(prog, t, pc, rest, &mut NoObserver);
                return Exit {
                    steps: steps + e.steps,
                    result: e.result,
                };
            }
            _ => Err(f.fault.unwrap_or(Fault::OutOfProgram { pc })),
        };
        Exit { steps, result }
    }
}

/// Run `f` for a call out, catching a panic into the frame.
fn guarded<T>(frame: &mut Frame<'_>, fail: T, f: impl FnOnce(&mut Frame<'_>) -> T) -> T {
    match catch_unwind(AssertUnwindSafe(|| f(&mut *frame))) {
        Ok(v) => v,
        Err(p) => {
            frame.panic = Some(p);
            frame.code = code::PANIC;
            fail
        }
    }
}

/// The memory operations of [`MemOp`] as translated code passes them.
pub(super) fn mem_op_code(op: MemOp) -> u32 {
    match op {
        MemOp::Read8 => 0,
        MemOp::Read32Swap => 1,
        MemOp::Write8Swap => 2,
        MemOp::Write32Swap => 3,
        MemOp::Add => 4,
        MemOp::AddImm => 5,
        MemOp::Other => 6,
    }
}

fn mem_op_of(code: u32) -> MemOp {
    match code {
        0 => MemOp::Read8,
        1 => MemOp::Read32Swap,
        2 => MemOp::Write8Swap,
        3 => MemOp::Write32Swap,
        4 => MemOp::Add,
        5 => MemOp::AddImm,
        _ => MemOp::Other,
    }
}

/// Call out: perform a memory command. `spec` packs the operation (bits
/// 7..0), CTM (bit 8), the first transfer register (15..9... see
/// `translate`) and the swap bit. 0 on success; otherwise the fault (or
/// panic) is in the frame.
pub(super) extern "C" fn call_mem(
    frame: *mut Frame<'_>,
    pc: u32,
    spec: u32,
    addr: u64,
    len: u32,
    imm: u32,
) -> u32 {
    // SAFETY: translated code passes the frame `Translation::run` gave it,
    // alive and not otherwise borrowed while the code runs.
    let frame = unsafe { &mut *frame };
    guarded(frame, 1, |f| {
        let cmd = MemCmd {
            pc: pc as u16,
            op: mem_op_of(spec & 0xff),
            ctm: spec >> 8 & 1 != 0,
            addr,
            xfer: (spec >> 16) as u8,
            len: len as u8,
            imm,
            swap: spec >> 9 & 1 != 0,
        };
        // SAFETY: the frame's pointers are those `Translation::run` took
        // from the thread: an exclusive context and packet buffer of
        // `pkt_len` bytes, not otherwise used while the code runs.
        let (ctx, buf) = unsafe {
            (
                &mut *f.ctx,
                std::slice::from_raw_parts_mut(f.pkt, f.pkt_len),
            )
        };
        let mut pkt = Packet::new(f.pkt_num, buf);
        let done = super::mem::execute(ctx, &mut pkt, f.env, &cmd);
        f.low_write = f.low_write.min(pkt.low_write);
        match done {
            Ok(()) => 0,
            Err(fault) => {
                f.fault = Some(fault);
                1
            }
        }
    })
}

/// Call out: run the firmware helper at `pc` with the registers in the
/// context (translated code stored them first). Returns the address to go
/// on at (B0 at the call), or [`HELPER_END`] with the frame's `code` set.
pub(super) extern "C" fn call_helper(frame: *mut Frame<'_>, pc: u32) -> u32 {
    // SAFETY: as in `call_mem`.
    let frame = unsafe { &mut *frame };
    guarded(frame, HELPER_END, |f| {
        // SAFETY: as in `call_mem`; local memory is the thread's
        // `[u32; LM_WORDS]`.
        let (ctx, lm, buf) = unsafe {
            (
                &mut *f.ctx,
                &mut *f.lm.cast::<[u32; LM_WORDS]>(),
                std::slice::from_raw_parts_mut(f.pkt, f.pkt_len),
            )
        };
        let pkt = Packet::new(f.pkt_num, buf);
        // The return address is in B0 at the call (jit.c:1750-1751).
        let ret = ctx.b(0) & 0x3fff;
        if !f.env.helper(pc as u16, ctx, lm, &pkt) {
            f.fault = Some(Fault::OutOfProgram { pc: pc as u16 });
            f.code = code::FAULT_SET;
            return HELPER_END;
        }
        if ctx.csr_read.is_some() || (ctx.z && ctx.n) {
            // A state translated code does not hold: go on interpreting.
            f.code = code::SIDE_EXIT;
            f.pc = ret;
            return HELPER_END;
        }
        ret
    })
}

/// Call out: the next value of the context's `PseudoRandomNumber`.
pub(super) extern "C" fn call_random(frame: *mut Frame<'_>) -> u32 {
    // SAFETY: as in `call_mem`.
    let frame = unsafe { &mut *frame };
    // SAFETY: as in `call_mem`.
    let ctx = unsafe { &mut *frame.ctx };
    ctx.next_random()
}
