//! One microengine in 4-context mode and the firmware glue around a BPF
//! program (docs/bpf-offload.md#the-programs-environment,
//! docs/bpf-offload.md#exit-result-word-verdicts-and-counters; the open firmware's ebpf.uc): the
//! packet
//! vector and stack in local memory, the packet in CTM, entry at the start
//! address, and the decode of the result word at DONE.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::trace;

use super::exec::{
    CTM_PKT_BUF, Ctx, Env, Executor, Fault, LM_WORDS, Observer, Packet, Program, Thread, Tracer,
    interpret,
};
use super::timing::{Meter, PacketCost, Verdict};

/// Contexts per ME in 4-context mode (the firmware runs BPF on contexts
/// 0, 2, 4 and 6: nic_internal.c:511,523).
pub const CONTEXTS: usize = 4;
/// Stack bytes per context: `NFP_NET_CFG_BPF_STACK_SZ` (8) * 64.
pub const STACK_BYTES: u32 = 512;
/// LM byte address of context 0's packet vector (after the four stacks).
pub const PV_BASE: u32 = STACK_BYTES * CONTEXTS as u32;
/// Bytes of packet vector per context.
pub const PV_BYTES: u32 = 64;
/// Where packet data starts in the CTM buffer: headroom for
/// `bpf_xdp_adjust_head` (docs/bpf-offload.md#capabilities: 128 - 84 = off_min 44).
pub const PKT_DATA_OFF: u32 = 128;
/// PV word 0 bits 13..0: packet length (pv.uc:62-204).
pub const PV_LEN_MASK: u32 = 0x3fff;
/// PV word 4 bit 4: queue selected (`PV_QUEUE_SELECTED_bf`, main.h:64).
pub const PV_QUEUE_SELECTED: u32 = 1 << 4;

/// Result word: pass the packet to the host (ebpf.uc:111-130).
pub const EBPF_RET_PASS: u32 = 1 << 16;
/// Result word: drop the packet.
pub const EBPF_RET_DROP: u32 = 1 << 17;
/// Result word: redirect (transmit) the packet.
pub const EBPF_RET_REDIR: u32 = 1 << 18;
/// Result word: bits 23..20 select the BPF counter to bump.
pub const EBPF_RET_STATS_SHIFT: u32 = 20;

/// Instructions one packet may run before it is aborted.
pub const DEFAULT_BUDGET: u64 = 1 << 20;

/// Where a packet's data is in the CTM buffer, as the packet vector at LM
/// byte address `pv` says: word 0 bits 13..0 the length, word 2 bits 15..0
/// the offset (docs/bpf-offload.md#the-programs-environment).
pub fn pv_data(lm: &[u32; LM_WORDS], pv: u32) -> Range<usize> {
    let w = (pv >> 2) as usize;
    let len = (lm[w & (LM_WORDS - 1)] & PV_LEN_MASK) as usize;
    let off = (lm[(w + 2) & (LM_WORDS - 1)] & 0xffff) as usize;
    off..off + len
}

/// What the firmware does with the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Continue to the host (RSS or the selected queue).
    Pass,
    /// Drop it.
    Drop,
    /// Transmit out of the ingress port (XDP_TX).
    Tx,
}

/// The end of one packet's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// What to do with the packet.
    pub action: Action,
    /// Which BPF counter (0 = `bpf_pass`, 1..3 = `bpf_app1..3`) to bump.
    pub stat: Option<u8>,
    /// The packet's bytes in the CTM buffer after the program.
    pub data: Range<usize>,
    /// RX queue the program selected.
    pub queue: Option<u8>,
    /// The result word.
    pub result: u32,
    /// Instructions executed.
    pub steps: u64,
    /// Why the program was aborted, if it was.
    pub fault: Option<Fault>,
    /// What the packet cost, if it was metered ([`Me::run_metered`]).
    pub cost: Option<PacketCost>,
}

impl Outcome {
    fn aborted(fault: Fault, steps: u64, data: Range<usize>) -> Self {
        Self {
            action: Action::Drop,
            stat: Some(3),
            data,
            queue: None,
            result: 0,
            steps,
            fault: Some(fault),
            cost: None,
        }
    }

    /// The verdict as the timing records name it: a fault or XDP_ABORTED
    /// (the drop counted as stat 3, jit.c:3714-3718) is ABORTED.
    pub fn verdict(&self) -> Verdict {
        match self.action {
            _ if self.fault.is_some() => Verdict::Aborted,
            Action::Drop if self.stat == Some(3) => Verdict::Aborted,
            Action::Drop => Verdict::Drop,
            Action::Pass => Verdict::Pass,
            Action::Tx => Verdict::Tx,
        }
    }

    /// Decode the result word as the firmware does (ebpf.uc:137-170):
    /// counter = lowest STATS bit; DROP drops; else PASS goes to the host;
    /// else the packet is redirected out of its port.
    pub fn from_result(result: u32) -> (Action, Option<u8>) {
        let stats = (result >> EBPF_RET_STATS_SHIFT) & 0xf;
        let stat = (stats != 0).then(|| stats.trailing_zeros() as u8);
        let action = if result & EBPF_RET_DROP != 0 {
            Action::Drop
        } else if result & EBPF_RET_PASS != 0 {
            Action::Pass
        } else {
            Action::Tx
        };
        (action, stat)
    }
}

/// Counters of one ME, per context. Only the worker thread that owns the
/// ME writes them; the flow processor keeps each ME's block in a cache
/// line of its own ([`FpStats`](super::FpStats)).
#[derive(Debug, Default)]
pub struct MeStats {
    /// Packets run.
    pub packets: [AtomicU64; CONTEXTS],
    /// Instructions executed.
    pub instructions: [AtomicU64; CONTEXTS],
    /// Packets aborted by a fault.
    pub aborts: [AtomicU64; CONTEXTS],
}

impl MeStats {
    /// Packets run on all contexts.
    pub fn packets(&self) -> u64 {
        self.packets.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Instructions executed on all contexts.
    pub fn instructions(&self) -> u64 {
        self.instructions
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// `ctxC.packets`, `ctxC.instructions`, `ctxC.aborts` for the hardware
/// contexts C = 0, 2, 4, 6 the firmware runs BPF on (docs/counters.md).
impl crate::counters::Counters for MeStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        for c in 0..CONTEXTS {
            crate::counters::scoped(format_args!("ctx{}", 2 * c), visit, |v| {
                v("packets", self.packets[c].load(Ordering::Relaxed));
                v("instructions", self.instructions[c].load(Ordering::Relaxed));
                v("aborts", self.aborts[c].load(Ordering::Relaxed));
            });
        }
    }
}

/// What watches a packet's run.
enum Watch<'m, 'a> {
    /// Nothing: the executor runs it.
    None,
    /// `--trace-prog`.
    Trace,
    /// The timing meter, and the trace if `true`.
    Meter(&'m mut Meter<'a>, bool),
    /// Another observer (the monitor's trace), beside the meter if there
    /// is one, and the trace if `true`.
    Also(Option<&'m mut Meter<'a>>, &'m mut dyn Observer, bool),
}

impl Watch<'_, '_> {
    fn traced(&self) -> bool {
        matches!(
            self,
            Watch::Trace | Watch::Meter(_, true) | Watch::Also(_, _, true)
        )
    }
}

/// Two observers shown every step, the first first.
struct Tee<A, B>(A, B);

impl<A: Observer, B: Observer> Observer for Tee<A, B> {
    fn insn(&mut self, prog: &Program, pc: u16, insn: &crate::fp::insn::Insn) {
        self.0.insn(prog, pc, insn);
        self.1.insn(prog, pc, insn);
    }
    fn branch(&mut self, pc: u16, defer: u8, taken: bool) {
        self.0.branch(pc, defer, taken);
        self.1.branch(pc, defer, taken);
    }
    fn mem(&mut self, cmd: &crate::fp::exec::MemCmd) {
        self.0.mem(cmd);
        self.1.mem(cmd);
    }
    fn helper(&mut self, pc: u16, ret: u16, ctx: &Ctx) {
        self.0.helper(pc, ret, ctx);
        self.1.helper(pc, ret, ctx);
    }
    fn done(&mut self, pc: u16, result: u32) {
        self.0.done(pc, result);
        self.1.done(pc, result);
    }
}

/// One microengine: local memory shared by its contexts, their registers
/// and a CTM packet buffer. Its packets' programs run on the executor it is
/// given.
pub struct Me {
    /// ME number (0..MEs).
    pub id: u16,
    exec: Arc<dyn Executor>,
    lm: Box<[u32; LM_WORDS]>,
    ctx: Box<[Ctx; CONTEXTS]>,
    ctm: Box<[u8]>,
    /// The lowest CTM offset below the packet data that may not be zero
    /// (`PKT_DATA_OFF` when the headroom is clean).
    dirty: usize,
    next: usize,
}

impl std::fmt::Debug for Me {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Me")
            .field("id", &self.id)
            .field("exec", &self.exec.name())
            .finish_non_exhaustive()
    }
}

impl Me {
    /// ME `id`, its contexts' programs running on `exec`.
    pub fn new(id: u16, exec: Arc<dyn Executor>) -> Self {
        Self {
            id,
            exec,
            lm: Box::new([0; LM_WORDS]),
            ctx: Box::new(std::array::from_fn(|c| {
                Ctx::new(0x9e37_79b9 ^ u32::from(id) << 8 ^ c as u32)
            })),
            ctm: vec![0; CTM_PKT_BUF].into_boxed_slice(),
            dirty: PKT_DATA_OFF as usize,
            next: 0,
        }
    }

    /// The CTM packet buffer (the packet's bytes are `Outcome::data`).
    pub fn ctm(&self) -> &[u8] {
        &self.ctm
    }

    /// Run `prog` on `frame` on the next context of this ME, counting it
    /// in `stats`: this ME's counters, which only the thread running this
    /// ME writes (they are bumped without a locked read-modify-write).
    pub fn run(
        &mut self,
        prog: &Program,
        frame: &[u8],
        env: &dyn Env,
        budget: u64,
        trace: bool,
        stats: &MeStats,
    ) -> Outcome {
        let watch = if trace { Watch::Trace } else { Watch::None };
        self.run_watched(prog, frame, env, budget, stats, watch)
    }

    /// As [`Me::run`], metered by `meter` (on the interpreter, the meter
    /// inlined): the outcome carries the packet's cost, and the packet is
    /// accounted in the meter's profile.
    #[allow(clippy::too_many_arguments)]
    pub fn run_metered(
        &mut self,
        prog: &Program,
        frame: &[u8],
        env: &dyn Env,
        budget: u64,
        trace: bool,
        stats: &MeStats,
        meter: Meter<'_>,
    ) -> Outcome {
        let mut meter = meter;
        let mut out = self.run_watched(
            prog,
            frame,
            env,
            budget,
            stats,
            Watch::Meter(&mut meter, trace),
        );
        out.cost = Some(meter.finish(out.verdict(), frame.len()));
        out
    }

    /// As [`Me::run`], showing every step to `obs` (the monitor's trace),
    /// and metered by `meter` if given (as [`Me::run_metered`]). Runs on
    /// the interpreter, through [`Executor::run_observed`] when unmetered.
    #[allow(clippy::too_many_arguments)]
    pub fn run_observed(
        &mut self,
        prog: &Program,
        frame: &[u8],
        env: &dyn Env,
        budget: u64,
        trace: bool,
        stats: &MeStats,
        meter: Option<Meter<'_>>,
        obs: &mut dyn Observer,
    ) -> Outcome {
        let Some(mut meter) = meter else {
            let watch = Watch::Also(None, obs, trace);
            return self.run_watched(prog, frame, env, budget, stats, watch);
        };
        let watch = Watch::Also(Some(&mut meter), obs, trace);
        let mut out = self.run_watched(prog, frame, env, budget, stats, watch);
        out.cost = Some(meter.finish(out.verdict(), frame.len()));
        out
    }

    fn run_watched(
        &mut self,
        prog: &Program,
        frame: &[u8],
        env: &dyn Env,
        budget: u64,
        stats: &MeStats,
        watch: Watch<'_, '_>,
    ) -> Outcome {
        let c = self.next;
        self.next = (self.next + 1) % CONTEXTS;
        let out = self.run_on(c, prog, frame, env, budget, watch);
        bump(&stats.packets[c], 1);
        bump(&stats.instructions[c], out.steps);
        if out.fault.is_some() {
            bump(&stats.aborts[c], 1);
        }
        out
    }

    fn run_on(
        &mut self,
        c: usize,
        prog: &Program,
        frame: &[u8],
        env: &dyn Env,
        budget: u64,
        watch: Watch<'_, '_>,
    ) -> Outcome {
        let trace = watch.traced();
        let start = PKT_DATA_OFF as usize;
        let len = frame
            .len()
            .min(self.ctm.len() - start)
            .min(PV_LEN_MASK as usize);
        let entry = start..start + len;
        // Packet number: unique per ME context.
        let num = (self.id * CONTEXTS as u16 + c as u16) & 0x3ff;
        // Headroom bytes a program exposes with bpf_xdp_adjust_head read
        // as zero (as BPF_PROG_TEST_RUN gives them), never as an earlier
        // packet's data: cleared where an earlier run wrote.
        if self.dirty < start {
            self.ctm[self.dirty..start].fill(0);
            self.dirty = start;
        }
        self.ctm[entry.clone()].copy_from_slice(&frame[..len]);
        let pv = PV_BASE + c as u32 * PV_BYTES;
        let pvw = (pv / 4) as usize;
        let stack = c as u32 * STACK_BYTES;
        let lm = &mut *self.lm;
        lm[pvw..pvw + (PV_BYTES / 4) as usize].fill(0);
        // word 0: packet number and length; word 2: the CTM packet
        // address of the data (docs/bpf-offload.md#the-programs-environment).
        lm[pvw] = u32::from(num) << 16 | len as u32;
        lm[pvw + 2] = 0x8000_0000 | u32::from(num) << 16 | PKT_DATA_OFF;
        let ctx = &mut self.ctx[c];
        ctx.lm_addr[1] = pv;
        ctx.lm_addr[0] = stack;
        ctx.gpr[0][22] = stack;
        if trace {
            trace!(
                target: "nfp_emu::fp::trace",
                me = self.id,
                ctx = 2 * c,
                "packet {num}: {len} bytes, program of {} instructions at .{}",
                prog.len(),
                prog.start
            );
        }
        let mut t = Thread {
            ctx,
            lm,
            pkt: Packet::new(num, &mut self.ctm),
            env,
        };
        let exit = match watch {
            Watch::None => self.exec.run(prog, &mut t, budget),
            Watch::Trace => self.exec.run_observed(prog, &mut t, budget, &mut Tracer),
            // Metered packets run on the interpreter with the meter
            // inlined (exec::Executor, "Observation").
            Watch::Meter(m, false) => interpret(prog, &mut t, budget, m),
            Watch::Meter(m, true) => interpret(prog, &mut t, budget, &mut Tee(m, Tracer)),
            Watch::Also(None, o, false) => self.exec.run_observed(prog, &mut t, budget, o),
            Watch::Also(None, o, true) => {
                self.exec
                    .run_observed(prog, &mut t, budget, &mut Tee(o, Tracer))
            }
            Watch::Also(Some(m), o, false) => interpret(prog, &mut t, budget, &mut Tee(m, o)),
            Watch::Also(Some(m), o, true) => {
                interpret(prog, &mut t, budget, &mut Tee(Tee(m, o), Tracer))
            }
        };
        self.dirty = self.dirty.min(t.pkt.low_write);
        let lm = &*self.lm;
        let result = match exit.result {
            Ok(r) => r,
            Err(f) => return Outcome::aborted(f, exit.steps, entry),
        };
        let data = pv_data(lm, pv);
        if data.end > self.ctm.len() {
            let f = Fault::Memory {
                pc: prog.done,
                addr: data.end as u64,
            };
            return Outcome::aborted(f, exit.steps, entry);
        }
        let queue = (lm[pvw + 4] & PV_QUEUE_SELECTED != 0).then_some(lm[pvw + 6] as u8);
        let (action, stat) = Outcome::from_result(result);
        if trace {
            trace!(
                target: "nfp_emu::fp::trace",
                me = self.id,
                ctx = 2 * c,
                "packet {num}: result {result:#010x} -> {action:?}, {} bytes at {}, {} instructions",
                data.len(),
                data.start,
                exit.steps
            );
        }
        Outcome {
            action,
            stat,
            data,
            queue,
            result,
            steps: exit.steps,
            fault: None,
            cost: None,
        }
    }
}

/// Add to a counter only this thread writes: a plain load and store, no
/// locked read-modify-write on the packet path.
#[inline]
fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::asm::{self, R, alu_op as op, br, cmd};
    use crate::fp::exec::{Interpreter, NoEnv};

    fn interp() -> Arc<dyn Executor> {
        Arc::new(Interpreter)
    }

    fn golden(bytes: &[u8]) -> Program {
        Program::load(&crate::fp::exec::le_words(bytes), 3072, 1, 4096).unwrap()
    }

    #[test]
    fn result_words_decode_like_the_firmware() {
        use Action::*;
        // The XDP outro's codes (jit.c:3713-3719) and TC's STOLEN.
        assert_eq!(Outcome::from_result(0x0082_0000), (Drop, Some(3)));
        assert_eq!(Outcome::from_result(0x0022_0000), (Drop, Some(1)));
        assert_eq!(Outcome::from_result(0x0011_0000), (Pass, Some(0)));
        assert_eq!(Outcome::from_result(0x0044_0000), (Tx, Some(2)));
        assert_eq!(Outcome::from_result(0x0002_0000), (Drop, None));
    }

    #[test]
    fn golden_programs_on_every_context() {
        let stats = MeStats::default();
        let mut me = Me::new(3, interp());
        let drop = golden(include_bytes!("testdata/p1_drop.ustore.bin"));
        let byte = golden(include_bytes!("testdata/p2_byte.ustore.bin"));
        for i in 0..8 {
            let o = me.run(&drop, &[i; 60], &NoEnv, DEFAULT_BUDGET, false, &stats);
            assert_eq!((o.action, o.stat, o.fault), (Action::Drop, Some(1), None));
            let mut f = [0u8; 64];
            f[0] = if i % 2 == 0 { 0xff } else { 1 };
            let o = me.run(&byte, &f, &NoEnv, DEFAULT_BUDGET, false, &stats);
            let want = if i % 2 == 0 {
                Action::Drop
            } else {
                Action::Pass
            };
            assert_eq!(o.action, want);
            assert_eq!(&me.ctm()[o.data.clone()], &f[..]);
        }
        assert_eq!(stats.packets(), 16);
        assert!(stats.packets.iter().all(|p| p.load(Ordering::Relaxed) == 4));
        assert!(stats.instructions() > 16 * 10);
    }

    #[test]
    fn adjust_head_tail_and_queue_select_come_back_through_the_pv() {
        // Move the data start 14 bytes back, cut 4 bytes, select queue 3,
        // as the JIT's inline helpers do (jit.c:1600-1833), then XDP_TX.
        let p = Program::load(
            &[
                // PV word 2 (packet pointer) -= 14, word 0 (length) += 14 - 4
                asm::alu(R::Lm(1, 2), R::Lm(1, 2), op::SUB, R::Imm(14)),
                asm::alu(R::Lm(1, 0), R::Lm(1, 0), op::ADD, R::Imm(10)),
                asm::alu(R::Lm(1, 4), R::Lm(1, 4), op::OR, R::Imm(1 << 4)),
                asm::alu(R::Lm(1, 6), R::None, op::NONE, R::Imm(3)),
                // write 0xab at the new start
                asm::alu(R::A(2), R::None, op::NONE, R::Lm(1, 2)),
                asm::immed(R::X(0), 0xab, 0, false, 0),
                asm::mem(cmd::WRITE8_SWAP, 0, R::A(2), R::Imm(0), 0, 4, 0, false),
                asm::br(br::UNC, 1, 2),
                asm::alu(R::A(0), R::None, op::NONE, R::Imm(0)),
                asm::immed(R::A(0), 0x44, 0, false, 2),
            ],
            3072,
            1,
            4096,
        )
        .unwrap();
        let mut me = Me::new(0, interp());
        let frame: Vec<u8> = (0..60).collect();
        let o = me.run(
            &p,
            &frame,
            &NoEnv,
            DEFAULT_BUDGET,
            false,
            &MeStats::default(),
        );
        assert_eq!((o.action, o.stat, o.queue), (Action::Tx, Some(2), Some(3)));
        let out = &me.ctm()[o.data];
        assert_eq!(out.len(), 70);
        assert_eq!(out[0], 0xab);
        assert_eq!(&out[14..], &frame[..56]);
    }

    #[test]
    fn trace_prog_logs_each_instruction_disassembled_and_the_verdict() {
        let drop = golden(include_bytes!("testdata/p1_drop.ustore.bin"));
        let text = crate::logging::tests::Capture::run("nfp_emu::fp::trace=trace", || {
            let mut me = Me::new(1, interp());
            me.run(
                &drop,
                &[0; 60],
                &NoEnv,
                DEFAULT_BUDGET,
                true,
                &MeStats::default(),
            );
            // Without the flag nothing is traced.
            me.run(
                &drop,
                &[0; 61],
                &NoEnv,
                DEFAULT_BUDGET,
                false,
                &MeStats::default(),
            );
        });
        assert!(
            text.contains("packet 4: 60 bytes, program of 26 instructions at .3072"),
            "{text}"
        );
        assert!(
            text.contains(".3072  000f20f003f05bff  immed[gprB_22, 0x3fff]"),
            "{text}"
        );
        assert!(
            text.contains("ld_field[gprA_0, 1100, gprB_2, <<16]"),
            "{text}"
        );
        assert!(text.contains("result 0x00220000 -> Drop"), "{text}");
        assert!(!text.contains("61 bytes"));
    }

    #[test]
    fn a_fault_aborts_the_packet_as_xdp_aborted() {
        let p = Program::load(&[asm::br(br::UNC, 77, 0)], 3072, 1, 4096).unwrap();
        let stats = MeStats::default();
        let o = Me::new(0, interp()).run(&p, &[0; 60], &NoEnv, DEFAULT_BUDGET, false, &stats);
        assert_eq!((o.action, o.stat), (Action::Drop, Some(3)));
        assert_eq!(o.fault, Some(Fault::OutOfProgram { pc: 77 }));
        assert_eq!(stats.aborts[0].load(Ordering::Relaxed), 1);
    }
}
