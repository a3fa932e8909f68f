//! Microcode to Cranelift IR: blocks, control flow, defer slots, pending
//! memory commands, exits. The instructions themselves are in `emit.rs`.
//!
//! # Shape of the code
//!
//! A program becomes one host function. Its code is cut into blocks at
//! *leaders* (the start, branch targets, the instruction after a
//! conditional branch's defer slots, and every code-store address an
//! `immed` loads: the JIT's return addresses). A block runs from its
//! leader in a straight line; the state the interpreter keeps between
//! instructions — a branch waiting for its defer slots, memory commands
//! waiting for theirs, a CSR value waiting for the next `immed` — is
//! known at translation time inside a block, so it costs nothing at run
//! time. Blocks start with none of it pending; a block that would end with
//! some pending (never in what the driver emits) is not run: its entry
//! is a side exit to the interpreter.
//!
//! GPRs, LM index registers, condition codes, the previous-ALU value and
//! the multiplier latch live in SSA variables (host registers) and are
//! written back to the context at every exit and before helper calls;
//! transfer registers and local memory stay in memory. Z and N are kept
//! as the value they were computed from.
//!
//! The budget is checked where the interpreter checks it: on arrival by a
//! taken backward branch (`Fault::Budget` at the target) and before a
//! helper call (a side exit, the interpreter faults there), so faults and
//! steps are exactly the interpreter's.
//! Dynamic targets (`rtn`, helper returns) go through a dispatch on the
//! address; one that is not a leader also continues on the interpreter.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I8, I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, Endianness, InstBuilder, JumpTableData, MemFlags, SigRef, Signature,
    Type, UserFuncName, Value,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};

use super::JitError;
use super::frame::{self, Frame, Translation, code};
use super::scan::{Scan, scan};
use crate::fp::exec::{Ctx, Program, XFER_REGS};
use crate::fp::insn::MemOp;

/// The bits of a 32-bit-mode address that name a CTM packet: bit 31 and
/// the packet number in [25:16] (docs/bpf-offload.md#the-programs-environment).
const CTM_TAG_MASK: i64 = 0x83ff_0000;
/// Bit 31: a CTM packet address.
const CTM_PKT_BIT: i64 = 0x8000_0000;

/// Most instructions translated per program instruction (defer slots and
/// pending state duplicate a few): a hostile image cannot make the
/// translation grow beyond this.
const MAX_COPIES: usize = 4;

/// Where a branch goes when it is taken.
#[derive(Clone, Copy)]
pub(super) enum Target {
    /// A code-store address in the word.
    Static(u16),
    /// A register's value (`rtn`).
    Dynamic(Value),
}

/// A branch waiting for its defer slots.
#[derive(Clone, Copy)]
pub(super) struct Branch {
    /// Instructions left before it happens.
    pub left: u8,
    /// Whether it is taken (`None`: always).
    pub taken: Option<Value>,
    /// Where to.
    pub target: Target,
    /// The branch's own address (a target at or before it is a backward
    /// branch, which meets the budget).
    pub at: u16,
}

/// A memory command waiting for its defer slots.
#[derive(Clone, Copy)]
pub(super) struct Pending {
    /// Ticks left.
    pub countdown: u8,
    /// Its address in the program.
    pub pc: u16,
    /// Operation, CTM bit, transfer register, swap (see `frame::call_mem`).
    pub spec: u32,
    /// Address (i64).
    pub addr: Value,
    /// Length field (i32).
    pub len: Value,
    /// Immediate data (i32).
    pub imm: Value,
    /// The length field when the instruction fixes it (no indirect
    /// override): what lets a packet access be done inline.
    pub cnt: Option<u8>,
}

/// The interpreter's between-instruction state, known statically.
#[derive(Clone, Copy, Default)]
pub(super) struct St {
    pub branch: Option<Branch>,
    pub pend: [Option<Pending>; 4],
    pub csr: Option<Value>,
}

impl St {
    fn clean(&self) -> bool {
        self.branch.is_none() && self.csr.is_none() && self.pend.iter().all(Option::is_none)
    }
}

/// What an instruction asks of the sequencer.
pub(super) enum Flow {
    Next,
    Branch {
        defer: u8,
        taken: Option<Value>,
        target: Target,
    },
}

/// The block ended with an exit already emitted.
pub(super) struct Stopped;

/// How a block's translation ended.
enum End {
    /// The block is emitted.
    Emitted,
    /// It would end with state pending: it is not run.
    Poisoned,
}

/// The translator's state for one program.
pub(super) struct Tr<'p, 'b> {
    pub prog: &'p Program,
    pub b: FunctionBuilder<'b>,
    pub ptr: Type,
    pub frame: Value,
    pub ctx: Value,
    pub lm: Value,
    budget: Value,
    /// GPR variables of the registers the program names.
    pub gpr: [[Option<Variable>; 32]; 2],
    pub lm_addr: [Variable; 4],
    /// The value Z and N were last computed from.
    pub zn: Variable,
    pub c: Variable,
    pub v: Variable,
    pub prev_alu: Variable,
    pub prev_a: Variable,
    pub mul: [Variable; 2],
    steps: Variable,
    leader: Vec<bool>,
    dyn_target: Vec<bool>,
    blocks: Vec<Option<Block>>,
    work: Vec<u16>,
    exit: Block,
    exit_nosync: Block,
    dispatch: Block,
    helper: Block,
    done: Block,
    pub sig_mem: SigRef,
    sig_helper: SigRef,
    pub sig_random: SigRef,
    emitted: usize,
    /// The steps counted at the instruction being translated (i64).
    pub steps_now: Option<Value>,
    /// Its address.
    pub pc: u16,
}

/// Offsets in [`Ctx`] and [`Frame`] the code uses.
pub(super) mod off {
    use super::{Ctx, Frame};
    use std::mem::offset_of;

    pub const GPR: i32 = offset_of!(Ctx, gpr) as i32;
    pub const XFER_IN: i32 = offset_of!(Ctx, xfer_in) as i32;
    pub const XFER_OUT: i32 = offset_of!(Ctx, xfer_out) as i32;
    pub const LM_ADDR: i32 = offset_of!(Ctx, lm_addr) as i32;
    pub const Z: i32 = offset_of!(Ctx, z) as i32;
    pub const N: i32 = offset_of!(Ctx, n) as i32;
    pub const C: i32 = offset_of!(Ctx, c) as i32;
    pub const V: i32 = offset_of!(Ctx, v) as i32;
    pub const PREV_ALU: i32 = offset_of!(Ctx, prev_alu) as i32;
    pub const PREV_A: i32 = offset_of!(Ctx, prev_a) as i32;
    pub const MUL: i32 = offset_of!(Ctx, mul) as i32;
    pub const F_CTX: i32 = offset_of!(Frame<'_>, ctx) as i32;
    pub const F_LM: i32 = offset_of!(Frame<'_>, lm) as i32;
    pub const F_BUDGET: i32 = offset_of!(Frame<'_>, budget) as i32;
    pub const F_STEPS: i32 = offset_of!(Frame<'_>, steps) as i32;
    pub const F_CODE: i32 = offset_of!(Frame<'_>, code) as i32;
    pub const F_PC: i32 = offset_of!(Frame<'_>, pc) as i32;
    pub const F_CSR_SET: i32 = offset_of!(Frame<'_>, csr_set) as i32;
    pub const F_CSR: i32 = offset_of!(Frame<'_>, csr) as i32;
    pub const F_PKT: i32 = offset_of!(Frame<'_>, pkt) as i32;
    pub const F_PKT_LEN: i32 = offset_of!(Frame<'_>, pkt_len) as i32;
    pub const F_PKT_NUM: i32 = offset_of!(Frame<'_>, pkt_num) as i32;
    pub const F_LOW_WRITE: i32 = offset_of!(Frame<'_>, low_write) as i32;
}

/// Memory the code owns or was handed: never traps, always aligned.
pub(super) fn mf() -> MemFlags {
    MemFlags::trusted()
}

/// Packet bytes: inside the buffer (checked first), so never trapping,
/// but at any alignment; words little-endian.
fn pkt_mf() -> MemFlags {
    MemFlags::new()
        .with_notrap()
        .with_endianness(Endianness::Little)
}

/// Translate `prog` to host code.
pub(super) fn translate(prog: &Program) -> Result<Translation, JitError> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed")?;
    flags.set(
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    let isa = cranelift_native::builder()
        .map_err(JitError::Host)?
        .finish(settings::Flags::new(flags))?;
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let ptr = module.target_config().pointer_type();
    let call_conv = module.target_config().default_call_conv;
    let mut ctx = module.make_context();
    ctx.func.signature.params.push(AbiParam::new(ptr));
    ctx.func.signature.returns.push(AbiParam::new(I32));
    ctx.func.name = UserFuncName::user(0, 0);
    let sig = |params: &[Type], ret: Option<Type>| {
        let mut s = Signature::new(call_conv);
        s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        s.returns.extend(ret.map(AbiParam::new));
        s
    };
    let mut fbc = FunctionBuilderContext::new();
    {
        let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
        let sig_mem = b.import_signature(sig(&[ptr, I32, I32, I64, I32, I32], Some(I32)));
        let sig_helper = b.import_signature(sig(&[ptr, I32], Some(I32)));
        let sig_random = b.import_signature(sig(&[ptr], Some(I32)));
        Tr::build(prog, b, ptr, [sig_mem, sig_helper, sig_random])?;
    }
    let id = module.declare_function("nfp_prog", Linkage::Local, &ctx.func.signature)?;
    // The host code, after register allocation, at trace level.
    let listing = tracing::enabled!(target: "nfp_emu::fp::jit", tracing::Level::TRACE);
    ctx.set_disasm(listing);
    module.define_function(id, &mut ctx)?;
    if let Some(vcode) = ctx.compiled_code().and_then(|c| c.vcode.as_ref()) {
        tracing::trace!(target: "nfp_emu::fp::jit", seq = prog.seq, "host code:\n{vcode}");
    }
    let bytes = ctx
        .compiled_code()
        .map_or(0, |c| c.code_info().total_size as usize);
    module.clear_context(&mut ctx);
    module.finalize_definitions()?;
    let entry = module.get_finalized_function(id);
    Ok(Translation::new(module, entry, bytes))
}

impl<'p, 'b> Tr<'p, 'b> {
    fn build(
        prog: &'p Program,
        mut b: FunctionBuilder<'b>,
        ptr: Type,
        [sig_mem, sig_helper, sig_random]: [SigRef; 3],
    ) -> Result<(), JitError> {
        let len = prog.len();
        let Scan {
            gprs: seen,
            leader,
            dyn_target,
        } = scan(prog);
        let mut nvar = 0u32;
        let mut var = |b: &mut FunctionBuilder<'_>, ty: Type| {
            let v = Variable::from_u32(nvar);
            nvar += 1;
            b.declare_var(v, ty);
            v
        };
        let mut gpr = [[None; 32]; 2];
        for (bank, row) in seen.iter().enumerate() {
            for (n, &s) in row.iter().enumerate() {
                if s {
                    gpr[bank][n] = Some(var(&mut b, I32));
                }
            }
        }
        let lm_addr = [0; 4].map(|_| var(&mut b, I32));
        let (zn, c, v) = (var(&mut b, I32), var(&mut b, I8), var(&mut b, I8));
        let (prev_alu, prev_a) = (var(&mut b, I32), var(&mut b, I32));
        let mul = [var(&mut b, I32), var(&mut b, I32)];
        let steps = var(&mut b, I64);

        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let frame = b.block_params(entry)[0];
        let ctx = b.ins().load(ptr, mf(), frame, off::F_CTX);
        let lm = b.ins().load(ptr, mf(), frame, off::F_LM);
        let budget = b.ins().load(I64, mf(), frame, off::F_BUDGET);
        let exit = b.create_block();
        let exit_nosync = b.create_block();
        let dispatch = b.create_block();
        let helper = b.create_block();
        let done = b.create_block();
        let mut t = Tr {
            prog,
            b,
            ptr,
            frame,
            ctx,
            lm,
            budget,
            gpr,
            lm_addr,
            zn,
            c,
            v,
            prev_alu,
            prev_a,
            mul,
            steps,
            leader,
            dyn_target,
            blocks: vec![None; len],
            work: Vec::new(),
            exit,
            exit_nosync,
            dispatch,
            helper,
            done,
            sig_mem,
            sig_helper,
            sig_random,
            emitted: 0,
            steps_now: None,
            pc: 0,
        };
        t.load_state();
        let zero = t.b.ins().iconst(I64, 0);
        t.b.def_var(t.steps, zero);
        let (blk, args) = t.goto(prog.start);
        t.b.ins().jump(blk, &args);
        // Addresses code loads (return addresses) get blocks whether or
        // not a static branch reaches them: dispatch finds them there.
        for i in 0..len {
            if t.dyn_target[i] {
                t.goto(prog.start.wrapping_add(i as u16));
            }
        }
        t.special_blocks();
        while let Some(l) = t.work.pop() {
            t.leader_block(l)?;
        }
        t.dispatch_block();
        t.b.seal_all_blocks();
        t.b.finalize();
        Ok(())
    }

    /// The block (and arguments) that continues at `pc` with nothing
    /// pending.
    fn goto(&mut self, pc: u16) -> (Block, Vec<BlockArg>) {
        if pc == self.prog.done {
            return (self.done, Vec::new());
        }
        let start = self.prog.start;
        match pc.checked_sub(start).map(usize::from) {
            Some(i) if i < self.prog.len() => {
                let blk = match self.blocks[i] {
                    Some(b) => b,
                    None => {
                        let b = self.b.create_block();
                        self.blocks[i] = Some(b);
                        self.leader[i] = true;
                        self.work.push(pc);
                        b
                    }
                };
                (blk, Vec::new())
            }
            _ => {
                let v = self.b.ins().iconst(I32, i64::from(pc));
                (self.helper, vec![v.into()])
            }
        }
    }

    fn is_leader(&self, pc: u16) -> bool {
        pc.checked_sub(self.prog.start)
            .and_then(|i| self.leader.get(usize::from(i)))
            .copied()
            .unwrap_or(false)
    }

    /// The exit block's arguments.
    fn exit_args(&mut self, code: u32, pc: u16, csr: Option<Value>, steps: Value) -> [BlockArg; 5] {
        let code = self.b.ins().iconst(I32, i64::from(code));
        let pcv = self.b.ins().iconst(I32, i64::from(pc));
        let set = self.b.ins().iconst(I32, i64::from(csr.is_some()));
        let val = csr.unwrap_or_else(|| self.b.ins().iconst(I32, 0));
        [
            code.into(),
            pcv.into(),
            set.into(),
            val.into(),
            steps.into(),
        ]
    }

    /// End the current block with an exit.
    pub fn exit_now(&mut self, code: u32, pc: u16, csr: Option<Value>, steps: Value) -> Stopped {
        let args = self.exit_args(code, pc, csr, steps);
        self.b.ins().jump(self.exit, &args);
        Stopped
    }

    /// A fault of the instruction being translated, with no CSR value
    /// pending (every instruction takes it).
    pub fn fault(&mut self, code: u32) -> Stopped {
        let steps = self.steps_now.expect("inside an instruction");
        self.exit_now(code, self.pc, None, steps)
    }

    /// Whether `steps` has reached the budget.
    fn out_of_budget(&mut self, steps: Value) -> Value {
        self.b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, steps, self.budget)
    }

    /// End the run with `Fault::Budget` at `pc` (an i32) if `cond` is
    /// non-zero, else go on in a new block (nothing is pending at a
    /// resolved branch).
    fn budget_exit_if(&mut self, cond: Value, pc: Value, steps: Value) {
        let mut args = self.exit_args(code::BUDGET, 0, None, steps);
        args[1] = pc.into();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, self.exit, &args, cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Exit if `cond` is non-zero, else go on in a new block.
    pub fn exit_if(&mut self, cond: Value, code: u32, pc: u16, csr: Option<Value>, steps: Value) {
        let args = self.exit_args(code, pc, csr, steps);
        let cont = self.b.create_block();
        self.b.ins().brif(cond, self.exit, &args, cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Load every variable from the context.
    fn load_state(&mut self) {
        let (b, ctx) = (&mut self.b, self.ctx);
        for (bank, row) in self.gpr.iter().enumerate() {
            for (n, v) in row.iter().enumerate() {
                if let Some(v) = *v {
                    let x = b
                        .ins()
                        .load(I32, mf(), ctx, off::GPR + (bank * 128 + n * 4) as i32);
                    b.def_var(v, x);
                }
            }
        }
        for (k, &v) in self.lm_addr.iter().enumerate() {
            let x = b.ins().load(I32, mf(), ctx, off::LM_ADDR + 4 * k as i32);
            b.def_var(v, x);
        }
        // Z and N as a value: 0 if Z, 0x80000000 if N, else 1 (both set
        // never reaches translated code).
        let z = b.ins().load(I8, mf(), ctx, off::Z);
        let n = b.ins().load(I8, mf(), ctx, off::N);
        let n32 = b.ins().uextend(I32, n);
        let nbit = b.ins().ishl_imm(n32, 31);
        let one = b.ins().iconst(I32, 1);
        let nz = b.ins().select(n, nbit, one);
        let zero = b.ins().iconst(I32, 0);
        let zn = b.ins().select(z, zero, nz);
        b.def_var(self.zn, zn);
        for (var, o) in [(self.c, off::C), (self.v, off::V)] {
            let x = b.ins().load(I8, mf(), ctx, o);
            b.def_var(var, x);
        }
        for (var, o) in [
            (self.prev_alu, off::PREV_ALU),
            (self.prev_a, off::PREV_A),
            (self.mul[0], off::MUL),
            (self.mul[1], off::MUL + 4),
        ] {
            let x = b.ins().load(I32, mf(), ctx, o);
            b.def_var(var, x);
        }
    }

    /// Store every variable to the context.
    fn store_state(&mut self) {
        let ctx = self.ctx;
        for bank in 0..2 {
            for n in 0..32 {
                if let Some(v) = self.gpr[bank][n] {
                    let x = self.b.use_var(v);
                    self.b
                        .ins()
                        .store(mf(), x, ctx, off::GPR + (bank * 128 + n * 4) as i32);
                }
            }
        }
        for k in 0..4 {
            let x = self.b.use_var(self.lm_addr[k]);
            self.b
                .ins()
                .store(mf(), x, ctx, off::LM_ADDR + 4 * k as i32);
        }
        let zn = self.b.use_var(self.zn);
        let z = self.b.ins().icmp_imm(IntCC::Equal, zn, 0);
        let n = self.b.ins().icmp_imm(IntCC::SignedLessThan, zn, 0);
        self.b.ins().store(mf(), z, ctx, off::Z);
        self.b.ins().store(mf(), n, ctx, off::N);
        for (var, o) in [
            (self.c, off::C),
            (self.v, off::V),
            (self.prev_alu, off::PREV_ALU),
            (self.prev_a, off::PREV_A),
            (self.mul[0], off::MUL),
            (self.mul[1], off::MUL + 4),
        ] {
            let x = self.b.use_var(var);
            self.b.ins().store(mf(), x, ctx, o);
        }
    }

    /// The exit, DONE and helper blocks.
    fn special_blocks(&mut self) {
        let b = &mut self.b;
        // exit(code, pc, csr_set, csr, steps): state back to the context.
        let params: Vec<Value> = [I32, I32, I32, I32, I64]
            .iter()
            .map(|&t| b.append_block_param(self.exit, t))
            .collect();
        b.switch_to_block(self.exit);
        self.store_state();
        let (b, f) = (&mut self.b, self.frame);
        b.ins().store(mf(), params[0], f, off::F_CODE);
        b.ins().store(mf(), params[1], f, off::F_PC);
        b.ins().store(mf(), params[2], f, off::F_CSR_SET);
        b.ins().store(mf(), params[3], f, off::F_CSR);
        b.ins().store(mf(), params[4], f, off::F_STEPS);
        b.ins().return_(&[params[0]]);

        // exit_nosync(steps): a call out ended the run with the state in
        // the context and the code in the frame.
        let steps = b.append_block_param(self.exit_nosync, I64);
        b.switch_to_block(self.exit_nosync);
        b.ins().store(mf(), steps, f, off::F_STEPS);
        let c = b.ins().load(I32, mf(), f, off::F_CODE);
        b.ins().return_(&[c]);

        // DONE with nothing pending.
        b.switch_to_block(self.done);
        let s = b.use_var(self.steps);
        let args = self.exit_args(code::DONE, self.prog.done, None, s);
        self.b.ins().jump(self.exit, &args);

        // helper(pc): a code-store address outside the program reached
        // with nothing pending: a firmware helper.
        let pc = self.b.append_block_param(self.helper, I32);
        self.b.switch_to_block(self.helper);
        let s = self.b.use_var(self.steps);
        let out = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, s, self.budget);
        let side = self.b.create_block();
        let go = self.b.create_block();
        self.b.ins().brif(out, side, &[], go, &[]);
        self.b.switch_to_block(side);
        self.b.seal_block(side);
        let args = self.exit_args(code::SIDE_EXIT, 0, None, s);
        let mut args = args.to_vec();
        args[1] = pc.into();
        self.b.ins().jump(self.exit, &args);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
        let s1 = self.b.ins().iadd_imm(s, 1);
        self.store_state();
        let callee = self
            .b
            .ins()
            .iconst(self.ptr, frame::call_helper as *const () as usize as i64);
        let call = self
            .b
            .ins()
            .call_indirect(self.sig_helper, callee, &[self.frame, pc]);
        let ret = self.b.inst_results(call)[0];
        let end = self.b.ins().icmp_imm(
            IntCC::UnsignedGreaterThanOrEqual,
            ret,
            i64::from(frame::HELPER_END),
        );
        let back = self.b.create_block();
        self.b
            .ins()
            .brif(end, self.exit_nosync, &[s1.into()], back, &[]);
        self.b.switch_to_block(back);
        self.b.seal_block(back);
        self.load_state();
        self.b.def_var(self.steps, s1);
        self.b.ins().jump(self.dispatch, &[ret.into()]);
    }

    /// dispatch(pc): go on at a code-store address known only at run time.
    fn dispatch_block(&mut self) {
        let pc = self.b.append_block_param(self.dispatch, I32);
        self.b.switch_to_block(self.dispatch);
        let prog = self.prog;
        let is_done = self
            .b
            .ins()
            .icmp_imm(IntCC::Equal, pc, i64::from(prog.done));
        let inside = self.b.create_block();
        self.b.ins().brif(is_done, self.done, &[], inside, &[]);
        self.b.switch_to_block(inside);
        self.b.seal_block(inside);
        let i = self.b.ins().iadd_imm(pc, -i64::from(prog.start));
        let within = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThan, i, prog.len() as i64);
        let table = self.b.create_block();
        self.b
            .ins()
            .brif(within, table, &[], self.helper, &[pc.into()]);
        self.b.switch_to_block(table);
        self.b.seal_block(table);
        let miss = self.b.create_block();
        let miss_call = self.b.func.dfg.block_call(miss, &[]);
        let mut calls = Vec::with_capacity(prog.len());
        for k in 0..prog.len() {
            let target = match self.blocks[k] {
                Some(b) if self.dyn_target[k] => b,
                _ => miss,
            };
            calls.push(self.b.func.dfg.block_call(target, &[]));
        }
        let jt = self
            .b
            .create_jump_table(JumpTableData::new(miss_call, &calls));
        self.b.ins().br_table(i, jt);
        self.b.switch_to_block(miss);
        let s = self.b.use_var(self.steps);
        let mut args = self.exit_args(code::SIDE_EXIT, 0, None, s).to_vec();
        args[1] = pc.into();
        self.b.ins().jump(self.exit, &args);
    }

    /// Translate the block at leader `l`.
    fn leader_block(&mut self, l: u16) -> Result<(), JitError> {
        let i = usize::from(l - self.prog.start);
        let eb = self.blocks[i].expect("queued leaders have blocks");
        let body = self.b.create_block();
        self.b.switch_to_block(body);
        let steps0 = self.b.use_var(self.steps);
        let end = self.body(l, steps0)?;
        if let End::Poisoned = end {
            // The body is left unreachable; end its last block.
            let args = self.exit_args(code::SIDE_EXIT, l, None, steps0);
            self.b.ins().jump(self.exit, &args);
        }
        self.b.switch_to_block(eb);
        let s = self.b.use_var(self.steps);
        match end {
            End::Poisoned => {
                let args = self.exit_args(code::SIDE_EXIT, l, None, s);
                self.b.ins().jump(self.exit, &args);
            }
            // The budget is met on backward branches and at helper calls
            // only: a block runs whole.
            End::Emitted => {
                self.b.ins().jump(body, &[]);
            }
        }
        self.b.seal_block(body);
        Ok(())
    }

    /// Emit a block's instructions from `l`; `steps0` counts the steps
    /// before it.
    fn body(&mut self, l: u16, steps0: Value) -> Result<End, JitError> {
        let mut st = St::default();
        let mut pc = l;
        let mut k: u32 = 0;
        let limit = MAX_COPIES * self.prog.len() + 64;
        loop {
            let insn = self.prog.fetch(pc).copied();
            if st.branch.is_none() {
                let stop = pc == self.prog.done
                    || insn.is_none()
                    || (k > 0 && self.is_leader(pc) && st.clean());
                if stop {
                    if !st.clean() {
                        return Ok(End::Poisoned);
                    }
                    let s = self.b.ins().iadd_imm(steps0, i64::from(k));
                    self.b.def_var(self.steps, s);
                    let (blk, args) = self.goto(pc);
                    self.b.ins().jump(blk, &args);
                    return Ok(End::Emitted);
                }
            }
            k += 1;
            let steps = self.b.ins().iadd_imm(steps0, i64::from(k));
            let Some(insn) = insn else {
                // A defer slot outside the program.
                self.exit_now(code::OUT_OF_PROGRAM, pc, st.csr, steps);
                return Ok(End::Emitted);
            };
            self.emitted += 1;
            if self.emitted > limit {
                return Err(JitError::TooLarge { limit });
            }
            self.pc = pc;
            self.steps_now = Some(steps);
            // Every instruction takes a waiting CSR value.
            let csr_in = st.csr.take();
            let Ok(flow) = self.insn(&insn, csr_in, &mut st) else {
                return Ok(End::Emitted);
            };
            let mut resolved = None;
            if let Some(br) = st.branch.as_mut() {
                br.left -= 1;
                if br.left == 0 {
                    resolved = Some(*br);
                    st.branch = None;
                }
            }
            if let Flow::Branch {
                defer,
                taken,
                target,
            } = flow
            {
                if st.branch.is_some() {
                    // A branch in a defer slot: never emitted by the JIT.
                    self.fault(code::INVALID);
                    return Ok(End::Emitted);
                }
                if resolved.is_some() {
                    // A branch in the last defer slot of another: rare
                    // enough for the interpreter.
                    return Ok(End::Poisoned);
                }
                let br = Branch {
                    left: defer,
                    taken,
                    target,
                    at: pc,
                };
                if defer == 0 {
                    resolved = Some(br);
                } else {
                    st.branch = Some(br);
                }
            }
            if self.tick(&mut st, steps).is_err() {
                return Ok(End::Emitted);
            }
            let Some(br) = resolved else {
                pc = pc.wrapping_add(1);
                continue;
            };
            if !st.clean() {
                return Ok(End::Poisoned);
            }
            self.b.def_var(self.steps, steps);
            // A taken backward branch meets the budget on arrival (as the
            // interpreter: exec::Executor::run); DONE is never "back".
            let (at, done) = (br.at, self.prog.done);
            let back = move |t: u16| t <= at && t != done;
            match (br.target, br.taken) {
                (Target::Dynamic(t), _) => {
                    let not_done =
                        self.b
                            .ins()
                            .icmp_imm(IntCC::NotEqual, t, i64::from(self.prog.done));
                    let before =
                        self.b
                            .ins()
                            .icmp_imm(IntCC::UnsignedLessThanOrEqual, t, i64::from(br.at));
                    let over = self.out_of_budget(steps);
                    let back = self.b.ins().band(not_done, before);
                    let stop = self.b.ins().band(back, over);
                    self.budget_exit_if(stop, t, steps);
                    self.b.ins().jump(self.dispatch, &[t.into()]);
                }
                (Target::Static(t), None) => {
                    if back(t) {
                        let over = self.out_of_budget(steps);
                        let tv = self.b.ins().iconst(I32, i64::from(t));
                        self.budget_exit_if(over, tv, steps);
                    }
                    let (blk, args) = self.goto(t);
                    self.b.ins().jump(blk, &args);
                }
                (Target::Static(t), Some(taken)) => {
                    let (fb, fargs) = self.goto(pc.wrapping_add(1));
                    if back(t) {
                        let check = self.b.create_block();
                        self.b.ins().brif(taken, check, &[], fb, &fargs);
                        self.b.switch_to_block(check);
                        self.b.seal_block(check);
                        let over = self.out_of_budget(steps);
                        let tv = self.b.ins().iconst(I32, i64::from(t));
                        self.budget_exit_if(over, tv, steps);
                        let (tb, targs) = self.goto(t);
                        self.b.ins().jump(tb, &targs);
                    } else {
                        let (tb, targs) = self.goto(t);
                        self.b.ins().brif(taken, tb, &targs, fb, &fargs);
                    }
                }
            }
            return Ok(End::Emitted);
        }
    }

    /// Count down the pending commands; perform the due ones.
    fn tick(&mut self, st: &mut St, steps: Value) -> Result<(), Stopped> {
        for i in 0..st.pend.len() {
            if let Some(p) = st.pend[i].as_mut() {
                p.countdown -= 1;
                if p.countdown == 0 {
                    let p = *p;
                    st.pend[i] = None;
                    self.perform(&p, st.csr, steps);
                }
            }
        }
        Ok(())
    }

    /// Perform a memory command; exit on a fault. Packet reads and writes
    /// (`read32_swap` of a fixed or indirect length, `write8_swap` and
    /// `write32_swap` of a fixed length) are done inline when the whole
    /// access falls in this context's packet buffer; anything else
    /// (another packet's address, bytes past the buffer, EMEM, atomics)
    /// calls out.
    pub fn perform(&mut self, p: &Pending, csr: Option<Value>, steps: Value) {
        let x = (p.spec >> 16) as usize;
        let ctm = p.spec >> 8 & 1 != 0;
        let op = p.spec & 0xff;
        // (bytes, transfer registers) of the access.
        let size = p.cnt.filter(|_| ctm).and_then(|c| {
            let c = usize::from(c) + 1;
            if op == frame::mem_op_code(MemOp::Read32Swap) {
                Some((4 * c, c, false))
            } else if op == frame::mem_op_code(MemOp::Write32Swap) {
                Some((4 * c, c, true))
            } else if op == frame::mem_op_code(MemOp::Write8Swap) {
                Some((c, c.div_ceil(4), true))
            } else {
                None
            }
        });
        if ctm && p.cnt.is_none() && op == frame::mem_op_code(MemOp::Read32Swap) {
            return self.read32_counted(p, csr, steps);
        }
        let Some((bytes, regs, write)) = size.filter(|&(_, r, _)| x + r <= XFER_REGS) else {
            return self.call_mem(p, csr, steps);
        };
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let merge = self.b.create_block();
        // A CTM packet address of this packet (bit 31, [25:16] the
        // packet number, as `Packet::offset`), all of it inside the buffer.
        let (o, ours) = self.ctm_offset(p.addr);
        let end = self.b.ins().iadd_imm(o, bytes as i64);
        let at = self.packet_guard(ours, o, end, None, fast, slow);
        // Byte k of the access is byte k % 4 (little-endian) of transfer
        // register k / 4, as `mem::execute` assembles them.
        let pkt_mf = pkt_mf();
        for k in 0..regs {
            let reg = off::XFER_IN + 4 * (x + k) as i32;
            let at_k = 4 * k as i32;
            if !write {
                let v = self.b.ins().load(I32, pkt_mf, at, at_k);
                self.b.ins().store(mf(), v, self.ctx, reg);
                continue;
            }
            let reg = reg - off::XFER_IN + off::XFER_OUT;
            let v = self.b.ins().load(I32, mf(), self.ctx, reg);
            match bytes - 4 * k {
                1 => {
                    self.b.ins().istore8(pkt_mf, v, at, at_k);
                }
                2 => {
                    self.b.ins().istore16(pkt_mf, v, at, at_k);
                }
                3 => {
                    self.b.ins().istore16(pkt_mf, v, at, at_k);
                    let hi = self.b.ins().ushr_imm(v, 16);
                    self.b.ins().istore8(pkt_mf, hi, at, at_k + 2);
                }
                _ => {
                    self.b.ins().store(pkt_mf, v, at, at_k);
                }
            }
        }
        if write {
            // `Packet::write` keeps the lowest offset written.
            let low = self
                .b
                .ins()
                .load(self.ptr, mf(), self.frame, off::F_LOW_WRITE);
            let low = self.b.ins().umin(low, o);
            self.b.ins().store(mf(), low, self.frame, off::F_LOW_WRITE);
        }
        self.b.ins().jump(merge, &[]);
        self.slow_then_merge(p, csr, steps, slow, merge);
    }

    /// Branch to `fast` when the packet access `o..end` is this packet's
    /// (`ours`) and inside its buffer (and `also` holds), else to `slow`;
    /// continue in `fast` and return the access's host address there.
    fn packet_guard(
        &mut self,
        ours: Value,
        o: Value,
        end: Value,
        also: Option<Value>,
        fast: Block,
        slow: Block,
    ) -> Value {
        let len = self
            .b
            .ins()
            .load(self.ptr, mf(), self.frame, off::F_PKT_LEN);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, end, len);
        let mut ok = self.b.ins().band(ours, inside);
        if let Some(c) = also {
            ok = self.b.ins().band(ok, c);
        }
        self.b.ins().brif(ok, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        self.b.seal_block(fast);
        let base = self.b.ins().load(self.ptr, mf(), self.frame, off::F_PKT);
        self.b.ins().iadd(base, o)
    }

    /// The CTM packet address `addr` (the command's i64 address) as a
    /// buffer offset (pointer width) and whether it is this packet's, as
    /// `Packet::offset`.
    fn ctm_offset(&mut self, addr: Value) -> (Value, Value) {
        let a32 = self.b.ins().ireduce(I32, addr);
        let tag = self.b.ins().band_imm(a32, CTM_TAG_MASK);
        let num = self.b.ins().uload16(I32, mf(), self.frame, off::F_PKT_NUM);
        let num = self.b.ins().ishl_imm(num, 16);
        let want = self.b.ins().bor_imm(num, CTM_PKT_BIT);
        let ours = self.b.ins().icmp(IntCC::Equal, tag, want);
        let o = self.b.ins().band_imm(a32, 0xffff);
        (self.b.ins().uextend(self.ptr, o), ours)
    }

    /// A packet `read32_swap` whose length an indirect reference sets (the
    /// packet cache's reads): a loop over the words, inline when every
    /// word lies in the buffer and fits the transfer registers, else the
    /// call out.
    fn read32_counted(&mut self, p: &Pending, csr: Option<Value>, steps: Value) {
        let x = (p.spec >> 16) as usize;
        let Some(room) = XFER_REGS.checked_sub(x) else {
            return self.call_mem(p, csr, steps);
        };
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let head = self.b.create_block();
        let body = self.b.create_block();
        let merge = self.b.create_block();
        let (o, ours) = self.ctm_offset(p.addr);
        // Words: the length field plus one (1..=32).
        let n = self.b.ins().band_imm(p.len, 0xff);
        let n = self.b.ins().iadd_imm(n, 1);
        let n = self.b.ins().uextend(self.ptr, n);
        let fits = self
            .b
            .ins()
            .icmp_imm(IntCC::UnsignedLessThanOrEqual, n, room as i64);
        let bytes = self.b.ins().ishl_imm(n, 2);
        let end = self.b.ins().iadd(o, bytes);
        let at = self.packet_guard(ours, o, end, Some(fits), fast, slow);
        let regs = self
            .b
            .ins()
            .iadd_imm(self.ctx, i64::from(off::XFER_IN) + 4 * x as i64);
        let zero = self.b.ins().iconst(self.ptr, 0);
        self.b.ins().jump(head, &[zero.into()]);

        self.b.append_block_param(head, self.ptr);
        self.b.switch_to_block(head);
        let k = self.b.block_params(head)[0];
        let done = self.b.ins().icmp(IntCC::Equal, k, n);
        self.b.ins().brif(done, merge, &[], body, &[]);

        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let k4 = self.b.ins().ishl_imm(k, 2);
        let from = self.b.ins().iadd(at, k4);
        let v = self.b.ins().load(I32, pkt_mf(), from, 0);
        let to = self.b.ins().iadd(regs, k4);
        self.b.ins().store(mf(), v, to, 0);
        let k1 = self.b.ins().iadd_imm(k, 1);
        self.b.ins().jump(head, &[k1.into()]);
        self.b.seal_block(head);
        self.slow_then_merge(p, csr, steps, slow, merge);
    }

    /// Emit `slow` (the call out for `p`) and go on in `merge`, where the
    /// fast path also arrives.
    fn slow_then_merge(
        &mut self,
        p: &Pending,
        csr: Option<Value>,
        steps: Value,
        slow: Block,
        merge: Block,
    ) {
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        self.call_mem(p, csr, steps);
        self.b.ins().jump(merge, &[]);
        self.b.switch_to_block(merge);
        self.b.seal_block(merge);
    }

    /// Call out to perform a memory command; exit on a fault.
    fn call_mem(&mut self, p: &Pending, csr: Option<Value>, steps: Value) {
        let callee = self
            .b
            .ins()
            .iconst(self.ptr, frame::call_mem as *const () as usize as i64);
        let pcv = self.b.ins().iconst(I32, i64::from(p.pc));
        let spec = self.b.ins().iconst(I32, i64::from(p.spec));
        let call = self.b.ins().call_indirect(
            self.sig_mem,
            callee,
            &[self.frame, pcv, spec, p.addr, p.len, p.imm],
        );
        let status = self.b.inst_results(call)[0];
        self.exit_if(status, code::FAULT_SET, p.pc, csr, steps);
    }
}
