//! The flow processor: microengines (MEs) running the microcode the
//! driver's BPF JIT emits (docs/me-isa.md, docs/bpf-offload.md), mapped onto a pool of host worker
//! threads.
//!
//! The card's MEs ([`me::Me`], 4 contexts each) are divided among the
//! workers; a packet goes to the ME its flow hashes to, so packets of one
//! flow are processed, and leave the card, in arrival order. Each worker
//! runs its packets to completion and hands the outcome to the datapath.
//! Receiving threads reach the workers through a [`Lane`] each, which
//! hands packets over in batches, or, without workers, runs them on the
//! receiving thread itself ([`lane`]).
//!
//! Where a packet's program runs is an [`exec::Executor`] the pool is
//! given (chosen through [`FpConfig::exec`]); the MEs and the pool never
//! learn which. The instruction word is defined once, in [`word`], and
//! read by the decoder ([`insn`]), the disassembler ([`disasm`]) and the
//! test assembler.

#![warn(missing_docs)]

#[cfg(test)]
pub mod asm;
pub mod disasm;
pub mod exec;
pub mod insn;
pub mod jit;
pub mod lane;
pub mod me;
pub mod timing;
pub mod word;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender};
use crossbeam_utils::CachePadded;
use parking_lot::Mutex;
use tracing::warn;

use crate::counters::{Counters, scoped, visit_in};

use exec::{Env, Executor, ExecutorKind, Program};
pub use lane::Lane;
use lane::{Batch, FREE_BATCHES, Handoff, INLINE_SHARDS, Inline, WORKER_BATCHES};
use me::{Me, MeStats, Outcome};
use timing::{Meter, PcLog, Timing, TraceKey, TracedPacket, WorkerProfiles};

impl ExecutorKind {
    /// An executor of this kind.
    pub fn executor(self) -> Arc<dyn Executor> {
        match self {
            ExecutorKind::Jit => Arc::new(jit::Jit),
            ExecutorKind::Interp => Arc::new(exec::Interpreter),
        }
    }
}

/// MEs of the model (the NFP-4000's flow-processing cores the firmware
/// gives to the datapath).
pub const DEFAULT_MES: usize = 48;

/// How the flow processor is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpConfig {
    /// Host worker threads; 0: none, packets run to completion on the
    /// threads that receive them.
    pub threads: usize,
    /// Microengines.
    pub mes: usize,
    /// Per-instruction trace at `tracing` trace level
    /// (target `nfp_emu::fp::trace`).
    pub trace: bool,
    /// Instructions a packet may run.
    pub budget: u64,
    /// The executor packets run on (`--fp-exec`).
    pub exec: ExecutorKind,
}

impl Default for FpConfig {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mes: DEFAULT_MES,
            trace: false,
            budget: me::DEFAULT_BUDGET,
            exec: ExecutorKind::default(),
        }
    }
}

/// What the flow processor may ask of a job's tag: where its packet came
/// from, for the monitor's trace filter ([`timing::TraceFilter`]). Asked
/// only while a trace runs.
pub trait PacketTag {
    /// The packet's port and vNIC ([`TraceKey::UNKNOWN`] if the tag does
    /// not say).
    fn trace_key(&self) -> TraceKey {
        TraceKey::UNKNOWN
    }
}

impl PacketTag for () {}
impl PacketTag for u32 {}
impl PacketTag for TraceKey {
    fn trace_key(&self) -> TraceKey {
        *self
    }
}

/// A packet for the flow processor, with the submitter's handle `T` on it
/// (the flow processor never looks inside, except for the trace filter's
/// [`PacketTag::trace_key`]).
pub struct Job<T> {
    /// What the submitter needs to carry out the verdict.
    pub tag: T,
    /// The program, taken when the packet arrived: a packet never sees
    /// half of one program and half of another.
    pub prog: Arc<Program>,
    /// The frame as it arrived.
    pub frame: Vec<u8>,
}

/// Where outcomes go: the job, the outcome, and the ME's CTM buffer the
/// outcome's data range points into.
pub type Handler<T> = Arc<dyn Fn(Job<T>, &Outcome, &[u8]) + Send + Sync>;

/// Called on a thread that ran packets for the handler, after the last
/// packet of a batch (a worker's batch, or a packet
/// [`FlowProcessor::submit`] ran inline) went to the handler: where a
/// handler that gathers work per thread (frames to transmit) finishes it.
pub type BatchEnd = Arc<dyn Fn() + Send + Sync>;

/// Counters of the whole flow processor. Each ME's block and each
/// worker's counter has a cache line of its own (`CachePadded`): worker
/// `w` writes the blocks of its MEs `w`, `w + threads`, ... on every
/// packet, and neighbours in these arrays belong to other workers.
#[derive(Debug)]
pub struct FpStats {
    /// Per ME.
    pub mes: Box<[CachePadded<MeStats>]>,
    /// Packets each worker thread processed (without workers, worker 0
    /// counts the packets run on the receiving threads).
    pub workers: Box<[CachePadded<AtomicU64>]>,
}

/// `meM.ctxC.*` per ME ([`MeStats`]) and `workerW.packets` per worker
/// thread: the counter surface's `fp.*` (docs/counters.md).
impl Counters for FpStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        for (m, st) in self.mes.iter().enumerate() {
            visit_in(format_args!("me{m}"), &**st, visit);
        }
        for (w, n) in self.workers.iter().enumerate() {
            scoped(format_args!("worker{w}"), visit, |v| {
                v("packets", n.load(Ordering::Relaxed));
            });
        }
    }
}

/// The pool of workers.
pub struct FlowProcessor<T> {
    /// The layout it runs with (threads and MEs clamped).
    pub cfg: FpConfig,
    /// Each worker's queue of batches.
    senders: Vec<Sender<Batch<T>>>,
    /// Empty batches, recycled by the workers.
    free: (Sender<Batch<T>>, Receiver<Batch<T>>),
    exec: Arc<dyn Executor>,
    env: Arc<dyn Env + Send + Sync>,
    handler: Handler<T>,
    /// Called after the handler's last packet of a batch.
    batch_end: Option<BatchEnd>,
    /// Where [`Self::submit`] runs packets without workers.
    inline: Mutex<Option<Inline>>,
    /// Inline lanes made so far (each meters into a shard of its own).
    lanes: AtomicUsize,
    /// Its counters.
    pub stats: Arc<FpStats>,
    /// The timing model: switches, profiles, records.
    timing: Arc<Timing>,
}

impl<T> std::fmt::Debug for FlowProcessor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowProcessor")
            .field("cfg", &self.cfg)
            .field("exec", &self.exec.name())
            .finish_non_exhaustive()
    }
}

impl<T: PacketTag + Send + 'static> FlowProcessor<T> {
    /// Start `cfg.threads` workers sharing `cfg.mes` MEs, running packets
    /// on the executor `cfg.exec` names; outcomes of packets run on the
    /// workers go to `handler`, EMEM and helper calls to `env`.
    pub fn start(cfg: FpConfig, env: &Arc<dyn Env + Send + Sync>, handler: &Handler<T>) -> Self {
        Self::with_executor(cfg, cfg.exec.executor(), env, handler)
    }

    /// As [`FlowProcessor::start`], running packets on `exec` (whatever
    /// `cfg.exec` says).
    pub fn with_executor(
        cfg: FpConfig,
        exec: Arc<dyn Executor>,
        env: &Arc<dyn Env + Send + Sync>,
        handler: &Handler<T>,
    ) -> Self {
        Self::with_timing(cfg, exec, env, handler, Arc::new(Timing::new()))
    }

    /// As [`FlowProcessor::with_executor`], metering packets as `timing`'s
    /// switches say (checked once per packet): metered packets carry
    /// their cost in [`Outcome::cost`] and are accounted in `timing`'s
    /// profiles.
    pub fn with_timing(
        cfg: FpConfig,
        exec: Arc<dyn Executor>,
        env: &Arc<dyn Env + Send + Sync>,
        handler: &Handler<T>,
        timing: Arc<Timing>,
    ) -> Self {
        Self::with_batch_end(cfg, exec, env, handler, None, timing)
    }

    /// As [`FlowProcessor::with_timing`], calling `batch_end` on the
    /// thread that ran them after the handler got the last packet of
    /// each batch.
    pub fn with_batch_end(
        cfg: FpConfig,
        exec: Arc<dyn Executor>,
        env: &Arc<dyn Env + Send + Sync>,
        handler: &Handler<T>,
        batch_end: Option<BatchEnd>,
        timing: Arc<Timing>,
    ) -> Self {
        let threads = cfg.threads.min(256);
        let mes = cfg.mes.clamp(threads.max(1), 1024);
        let cfg = FpConfig {
            threads,
            mes,
            ..cfg
        };
        let stats = Arc::new(FpStats {
            mes: (0..mes).map(|_| CachePadded::default()).collect(),
            workers: (0..threads.max(1))
                .map(|_| CachePadded::default())
                .collect(),
        });
        let free = crossbeam_channel::bounded(FREE_BATCHES);
        // A profile shard per worker; without workers, one per inline lane.
        timing.set_workers(if threads == 0 { INLINE_SHARDS } else { threads });
        let mut senders = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = crossbeam_channel::bounded(WORKER_BATCHES);
            senders.push(tx);
            // Worker w owns MEs w, w + threads, ...
            let owned: Vec<Me> = (w..mes)
                .step_by(threads)
                .map(|m| Me::new(m as u16, exec.clone()))
                .collect();
            let ctx = WorkerCtx {
                env: env.clone(),
                handler: handler.clone(),
                batch_end: batch_end.clone(),
                stats: stats.clone(),
                timing: timing.clone(),
                cfg,
            };
            let recycle = free.0.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("fp-worker{w}"))
                .spawn(move || worker(w, owned, &rx, &recycle, &ctx));
            if let Err(e) = spawned {
                warn!(target: "nfp_emu::fp", "cannot start flow processor worker {w}: {e}");
            }
        }
        Self {
            cfg,
            senders,
            free,
            exec,
            env: env.clone(),
            handler: handler.clone(),
            batch_end,
            inline: Mutex::new(None),
            lanes: AtomicUsize::new(0),
            stats,
            timing,
        }
    }

    /// The timing model its packets are metered by.
    pub fn timing(&self) -> &Arc<Timing> {
        &self.timing
    }

    /// A lane for a thread that receives frames: it hands packets to the
    /// workers in batches, or, without workers, runs them itself.
    pub fn lane(&self) -> Lane<T> {
        if self.senders.is_empty() {
            Lane::Inline(self.inline_lane())
        } else {
            Lane::Handoff(Handoff::new(
                self.senders.clone(),
                self.free.1.clone(),
                self.cfg.mes,
            ))
        }
    }

    fn inline_lane(&self) -> Inline {
        let n = self.lanes.fetch_add(1, Ordering::Relaxed);
        Inline::new(
            self.exec.clone(),
            self.env.clone(),
            self.stats.clone(),
            self.timing.clone(),
            self.cfg,
            n % INLINE_SHARDS,
        )
    }

    /// The executor packets run on.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.exec
    }

    /// Prepare a newly loaded program for the executor (e.g. translate
    /// it): call once per program, on the control thread that loaded it.
    /// Packets may run `prog` before, during and after; they never wait.
    pub fn prepare(&self, prog: &Arc<Program>) {
        self.exec.prepare(prog);
    }

    /// The ME a flow hash maps to.
    pub fn me_of(&self, hash: u32) -> usize {
        hash as usize % self.cfg.mes
    }

    /// Queue one packet on the ME of its flow; waits while that ME's
    /// worker is full. Gives the job back if the worker is gone. Without
    /// workers the packet runs now, on the caller's thread, and its
    /// outcome goes to the handler. Receiving threads use a [`Lane`].
    pub fn submit(&self, hash: u32, job: Job<T>) -> Result<(), Job<T>> {
        let me = self.me_of(hash);
        if self.senders.is_empty() {
            let mut inline = self.inline.lock();
            let lane = inline.get_or_insert_with(|| self.inline_lane());
            let (out, ctm) = lane.run(hash, &job.prog, &job.frame, &job.tag);
            (self.handler)(job, &out, ctm);
            if let Some(end) = &self.batch_end {
                end();
            }
            lane.flush();
            return Ok(());
        }
        let w = me % self.senders.len();
        let mut b = self.free.1.try_recv().unwrap_or_default();
        b.push((me as u16, job));
        match self.senders[w].send(b) {
            Ok(()) => Ok(()),
            Err(e) => match e.into_inner().pop() {
                Some((_, job)) => Err(job),
                None => Ok(()),
            },
        }
    }
}

/// What a worker thread works with.
struct WorkerCtx<T> {
    env: Arc<dyn Env + Send + Sync>,
    handler: Handler<T>,
    batch_end: Option<BatchEnd>,
    stats: Arc<FpStats>,
    timing: Arc<Timing>,
    cfg: FpConfig,
}

/// Run one packet on `me`, metered if `timing`'s switches say so (checked
/// once per packet, one relaxed load) with profile shard `shard`, and
/// traced if the monitor's trace takes it (`tag` says where it came from):
/// what a worker and an inline lane do with each packet.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_packet(
    me: &mut Me,
    prog: &Arc<Program>,
    frame: &[u8],
    tag: &dyn PacketTag,
    env: &dyn Env,
    cfg: &FpConfig,
    st: &MeStats,
    timing: &Timing,
    profiles: &mut WorkerProfiles,
    shard: usize,
) -> Outcome {
    let level = timing.level();
    if level.off() {
        return me.run(prog, frame, env, cfg.budget, cfg.trace, st);
    }
    let meter = level.metering().then(|| {
        let prof = profiles.get(timing, prog);
        Meter::new(prof, shard, level.profiling(), timing.firmware())
    });
    let key = if level.tracing() {
        tag.trace_key()
    } else {
        TraceKey::UNKNOWN
    };
    let traced = if level.tracing() {
        timing.trace_claim(key)
    } else {
        None
    };
    let Some(session) = traced else {
        return match meter {
            Some(m) => me.run_metered(prog, frame, env, cfg.budget, cfg.trace, st, m),
            None => me.run(prog, frame, env, cfg.budget, cfg.trace, st),
        };
    };
    let mut pcs = session.buffer();
    let mut log = PcLog::new(&mut pcs);
    let out = me.run_observed(prog, frame, env, cfg.budget, cfg.trace, st, meter, &mut log);
    let truncated = log.truncated();
    session.submit(TracedPacket {
        key,
        prog: prog.clone(),
        frame_len: frame.len(),
        verdict: out.verdict(),
        steps: out.steps,
        cycles: out.cost.map(|c| c.cycles),
        pcs,
        truncated,
    });
    out
}

/// Worker `w`: runs the batches lanes hand it, packet after packet, on the
/// MEs it owns, and gives each emptied batch back for reuse.
fn worker<T: PacketTag>(
    w: usize,
    mut mes: Vec<Me>,
    rx: &Receiver<Batch<T>>,
    recycle: &Sender<Batch<T>>,
    x: &WorkerCtx<T>,
) {
    let (cfg, env, timing) = (&x.cfg, &*x.env, &*x.timing);
    let threads = cfg.threads.max(1);
    let mut profiles = WorkerProfiles::default();
    while let Some(mut batch) = lane::next_batch(rx) {
        let n = batch.len() as u64;
        for (m, job) in batch.drain(..) {
            let Some(me) = mes.get_mut(usize::from(m) / threads) else {
                continue;
            };
            let st = &x.stats.mes[usize::from(m)];
            let out = run_packet(
                me,
                &job.prog,
                &job.frame,
                &job.tag,
                env,
                cfg,
                st,
                timing,
                &mut profiles,
                w,
            );
            (x.handler)(job, &out, me.ctm());
        }
        if let Some(end) = &x.batch_end {
            end();
        }
        x.stats.workers[w].fetch_add(n, Ordering::Relaxed);
        let _ = recycle.try_send(batch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fp::asm::{self, R, alu_op, br};
    use crate::fp::exec::{Exit, Interpreter, NoEnv, Thread};
    use parking_lot::Mutex;
    use std::time::Duration;

    /// A second executor, to prove the seam: it counts what it is asked,
    /// leaves an artefact on the programs it prepares, and counts the
    /// packets that found it (where a translating executor would switch
    /// to its translation); the interpreter does the work.
    #[derive(Debug, Default)]
    struct Counting {
        prepared: AtomicU64,
        runs: AtomicU64,
        translated: AtomicU64,
    }

    /// What `Counting` makes of a program.
    struct Translation {
        seq: u64,
    }

    impl Executor for Counting {
        fn name(&self) -> &'static str {
            "counting"
        }

        fn prepare(&self, prog: &Arc<Program>) {
            self.prepared.fetch_add(1, Ordering::Relaxed);
            assert!(
                prog.set_artefact(Box::new(Translation { seq: prog.seq }))
                    .is_ok()
            );
        }

        fn run(&self, prog: &Program, t: &mut Thread<'_>, budget: u64) -> Exit {
            self.runs.fetch_add(1, Ordering::Relaxed);
            let art = prog
                .artefact()
                .and_then(|a| a.downcast_ref::<Translation>());
            if art.is_some_and(|a| a.seq == prog.seq) {
                self.translated.fetch_add(1, Ordering::Relaxed);
            }
            Interpreter.run(prog, t, budget)
        }
    }

    #[test]
    fn packets_run_on_the_executor_the_flow_processor_is_given() {
        // XDP_TX (result 0x44 << 16) after touching the packet.
        let prog = Arc::new(
            Program::load(
                &[
                    asm::alu(R::A(2), R::None, alu_op::NONE, R::Lm(1, 2)),
                    asm::mem(asm::cmd::READ8, 0, R::A(2), R::Imm(0), 0, 4, 0, false),
                    asm::br(br::UNC, 1, 2),
                    asm::alu(R::A(0), R::None, alu_op::NONE, R::Imm(0)),
                    asm::immed(R::A(0), 0x44, 0, false, 2),
                ],
                3072,
                1,
                4096,
            )
            .unwrap(),
        );
        let exec = Arc::new(Counting::default());
        let (tx, rx) = crossbeam_channel::unbounded();
        let start = |cfg: FpConfig| {
            let tx = tx.clone();
            FlowProcessor::with_executor(
                cfg,
                exec.clone(),
                &(Arc::new(NoEnv) as Arc<dyn Env + Send + Sync>),
                &(Arc::new(move |job: Job<u32>, out: &Outcome, _: &[u8]| {
                    let _ = tx.send((job.tag, out.action, out.steps));
                }) as Handler<u32>),
            )
        };
        let cfg = FpConfig {
            threads: 2,
            mes: 4,
            ..FpConfig::default()
        };
        let fp = start(cfg);
        assert_eq!(fp.executor().name(), "counting");
        let send = |fp: &FlowProcessor<u32>, n: u32| {
            for i in 0..n {
                let job = Job {
                    tag: i,
                    prog: prog.clone(),
                    frame: vec![i as u8; 60],
                };
                assert!(fp.submit(i.wrapping_mul(0x9e37_79b9), job).is_ok());
            }
            for _ in 0..n {
                let (_, action, steps) = rx
                    .recv_timeout(Duration::from_secs(120))
                    .expect("every packet comes back");
                assert_eq!((action, steps), (me::Action::Tx, 5));
            }
        };
        // Before the program is prepared every packet runs without the
        // artefact; after, every one finds it.
        send(&fp, 20);
        assert_eq!(exec.runs.load(Ordering::Relaxed), 20);
        assert_eq!(exec.translated.load(Ordering::Relaxed), 0);
        fp.prepare(&prog);
        assert_eq!(exec.prepared.load(Ordering::Relaxed), 1);
        send(&fp, 30);
        assert_eq!(exec.runs.load(Ordering::Relaxed), 50);
        assert_eq!(exec.translated.load(Ordering::Relaxed), 30);
        // Traced packets are observed runs: the interpreter serves them,
        // not the executor's own `run`.
        let traced = start(FpConfig { trace: true, ..cfg });
        send(&traced, 10);
        assert_eq!(exec.runs.load(Ordering::Relaxed), 50);
        let counted: u64 = fp.stats.mes.iter().map(|m| m.packets()).sum::<u64>()
            + traced.stats.mes.iter().map(|m| m.packets()).sum::<u64>();
        assert_eq!(counted, 60);
    }

    /// Worker w writes its MEs' blocks and its own packet counter on every
    /// packet: no two of those blocks, across all workers, share a line.
    #[test]
    fn counters_of_different_workers_do_not_share_a_cache_line() {
        use crate::counters::{CACHE_BLOCK, Counters, apart, cache_blocks};
        let fp = FlowProcessor::<()>::start(
            FpConfig {
                threads: 3,
                mes: 7,
                ..FpConfig::default()
            },
            &(Arc::new(NoEnv) as Arc<dyn Env + Send + Sync>),
            &(Arc::new(|_: Job<()>, _: &Outcome, _: &[u8]| {}) as Handler<()>),
        );
        let st = &fp.stats;
        assert!(std::mem::align_of_val(&st.mes[0]) >= CACHE_BLOCK);
        assert!(std::mem::align_of_val(&st.workers[0]) >= CACHE_BLOCK);
        assert!(apart(
            st.mes
                .iter()
                .map(|m| cache_blocks::<MeStats>(m))
                .chain(st.workers.iter().map(|w| cache_blocks::<AtomicU64>(w)))
        ));
        let mut names = Vec::new();
        st.counters(&mut |n, _| names.push(n.to_owned()));
        assert_eq!(names.len(), 7 * me::CONTEXTS * 3 + 3);
        assert_eq!(names[0], "me0.ctx0.packets");
        assert_eq!(names.last().map(String::as_str), Some("worker2.packets"));
    }

    #[test]
    fn executors_by_name_the_translator_by_default() {
        assert_eq!(FpConfig::default().exec, ExecutorKind::Jit);
        assert_eq!("interp".parse(), Ok(ExecutorKind::Interp));
        assert_eq!("jit".parse(), Ok(ExecutorKind::Jit));
        assert_eq!(ExecutorKind::Interp.executor().name(), "interp");
        assert_eq!(ExecutorKind::Jit.executor().name(), "jit");
        let e = "cranelift".parse::<ExecutorKind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown executor \"cranelift\" (known: jit, interp)"
        );
    }

    #[test]
    fn packets_of_a_flow_leave_in_arrival_order_across_workers() {
        // XDP_PASS after a data-dependent loop, so packets take different
        // times.
        let prog = lane::tests::uneven();
        let seen: Arc<Mutex<Vec<(u8, u32)>>> = Arc::default();
        let s2 = seen.clone();
        let fp = FlowProcessor::start(
            FpConfig {
                threads: 4,
                mes: 8,
                ..FpConfig::default()
            },
            &(Arc::new(NoEnv) as Arc<dyn Env + Send + Sync>),
            &(Arc::new(move |job: Job<()>, out: &Outcome, _ctm: &[u8]| {
                assert_eq!(out.action, me::Action::Pass);
                let seq = u32::from_be_bytes(job.frame[4..8].try_into().unwrap());
                s2.lock().push((job.frame[1], seq));
            }) as Handler<()>),
        );
        const FLOWS: u8 = 16;
        const PER_FLOW: u32 = 200;
        for seq in 0..PER_FLOW {
            for flow in 0..FLOWS {
                let mut frame = vec![0u8; 60];
                frame[0] = (seq as u8).wrapping_mul(7) ^ flow;
                frame[1] = flow;
                frame[4..8].copy_from_slice(&seq.to_be_bytes());
                let job = Job {
                    tag: (),
                    prog: prog.clone(),
                    frame,
                };
                assert!(
                    fp.submit(u32::from(flow).wrapping_mul(0x9e37_79b9), job)
                        .is_ok()
                );
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while seen.lock().len() < usize::from(FLOWS) * PER_FLOW as usize {
            assert!(std::time::Instant::now() < deadline, "packets lost");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let seen = seen.lock();
        for flow in 0..FLOWS {
            let order: Vec<u32> = seen
                .iter()
                .filter(|(f, _)| *f == flow)
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(
                order,
                (0..PER_FLOW).collect::<Vec<_>>(),
                "flow {flow} reordered"
            );
        }
        let busy = fp
            .stats
            .workers
            .iter()
            .filter(|w| w.load(Ordering::Relaxed) > 0)
            .count();
        assert!(busy > 1, "flows spread over workers");
    }
}
