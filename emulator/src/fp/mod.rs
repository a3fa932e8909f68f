//! The flow processor: microengines (MEs) running the microcode the
//! driver's BPF JIT emits (bpf.md §4-5), mapped onto a pool of host worker
//! threads.
//!
//! The card's MEs ([`me::Me`], 4 contexts each) are divided among the
//! workers; a packet goes to the ME its flow hashes to, so packets of one
//! flow are processed, and leave the card, in arrival order. Each worker
//! runs its packets to completion and hands the outcome to the datapath.
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
pub mod me;
pub mod timing;
pub mod word;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};
use tracing::warn;

use exec::{Env, Executor, ExecutorKind, Program};
use me::{Me, MeStats, Outcome};
use timing::{Meter, Timing, WorkerProfiles};

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
/// Packets waiting per worker before the port's receive path waits.
const WORKER_QUEUE: usize = 256;

/// How the flow processor is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpConfig {
    /// Host worker threads.
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

/// A packet for the flow processor, with the submitter's handle `T` on it
/// (the flow processor never looks inside).
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

/// Counters of the whole flow processor.
#[derive(Debug)]
pub struct FpStats {
    /// Per ME.
    pub mes: Box<[MeStats]>,
    /// Packets each worker thread processed.
    pub workers: Box<[AtomicU64]>,
}

/// The pool of workers.
pub struct FlowProcessor<T> {
    /// The layout it runs with (threads and MEs clamped).
    pub cfg: FpConfig,
    senders: Vec<Sender<(u16, Job<T>)>>,
    exec: Arc<dyn Executor>,
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

impl<T: Send + 'static> FlowProcessor<T> {
    /// Start `cfg.threads` workers sharing `cfg.mes` MEs, running packets
    /// on the executor `cfg.exec` names; outcomes go to `handler`, EMEM and
    /// helper calls to `env`.
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
        let threads = cfg.threads.clamp(1, 256);
        let mes = cfg.mes.clamp(threads, 1024);
        let cfg = FpConfig {
            threads,
            mes,
            ..cfg
        };
        let stats = Arc::new(FpStats {
            mes: (0..mes).map(|_| MeStats::default()).collect(),
            workers: (0..threads).map(|_| AtomicU64::new(0)).collect(),
        });
        timing.set_workers(threads);
        let mut senders = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = crossbeam_channel::bounded(WORKER_QUEUE);
            senders.push(tx);
            // Worker w owns MEs w, w + threads, ...
            let owned: Vec<Me> = (w..mes)
                .step_by(threads)
                .map(|m| Me::new(m as u16, exec.clone()))
                .collect();
            let ctx = WorkerCtx {
                env: env.clone(),
                handler: handler.clone(),
                stats: stats.clone(),
                timing: timing.clone(),
                cfg,
            };
            let spawned = std::thread::Builder::new()
                .name(format!("fp-worker{w}"))
                .spawn(move || worker(w, owned, &rx, &ctx));
            if let Err(e) = spawned {
                warn!(target: "nfp_emu::fp", "cannot start flow processor worker {w}: {e}");
            }
        }
        Self {
            cfg,
            senders,
            exec,
            stats,
            timing,
        }
    }

    /// The timing model its packets are metered by.
    pub fn timing(&self) -> &Arc<Timing> {
        &self.timing
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

    /// Queue a packet on the ME of its flow; waits while that ME's worker
    /// is full. Gives the job back if the worker is gone.
    pub fn submit(&self, hash: u32, job: Job<T>) -> Result<(), Job<T>> {
        let me = self.me_of(hash);
        let w = me % self.cfg.threads;
        self.senders[w]
            .send((me as u16, job))
            .map_err(|e| e.into_inner().1)
    }

    /// A table of the counters: one line per ME that ran packets.
    pub fn report(&self) -> String {
        let mut s = String::from("ME   ctx  packets        instructions   aborts\n");
        for (m, st) in self.stats.mes.iter().enumerate() {
            if st.packets() == 0 {
                continue;
            }
            for c in 0..me::CONTEXTS {
                let p = st.packets[c].load(Ordering::Relaxed);
                s += &format!(
                    "{m:<4} {:<4} {p:<14} {:<14} {}\n",
                    2 * c,
                    st.instructions[c].load(Ordering::Relaxed),
                    st.aborts[c].load(Ordering::Relaxed)
                );
            }
        }
        for (w, n) in self.stats.workers.iter().enumerate() {
            s += &format!("worker {w}: {} packets\n", n.load(Ordering::Relaxed));
        }
        s
    }
}

/// What a worker thread works with.
struct WorkerCtx<T> {
    env: Arc<dyn Env + Send + Sync>,
    handler: Handler<T>,
    stats: Arc<FpStats>,
    timing: Arc<Timing>,
    cfg: FpConfig,
}

fn worker<T>(w: usize, mut mes: Vec<Me>, rx: &Receiver<(u16, Job<T>)>, x: &WorkerCtx<T>) {
    let (cfg, env, timing) = (&x.cfg, &*x.env, &*x.timing);
    let threads = cfg.threads;
    let mut profiles = WorkerProfiles::default();
    while let Ok((m, job)) = rx.recv() {
        let Some(me) = mes.get_mut(usize::from(m) / threads) else {
            continue;
        };
        let st = &x.stats.mes[usize::from(m)];
        let level = timing.level();
        let out = if level.metering() {
            let prof = profiles.get(timing, &job.prog);
            let meter = Meter::new(prof, w, level.profiling(), timing.firmware());
            me.run_metered(&job.prog, &job.frame, env, cfg.budget, cfg.trace, st, meter)
        } else {
            me.run(&job.prog, &job.frame, env, cfg.budget, cfg.trace, st)
        };
        x.stats.workers[w].fetch_add(1, Ordering::Relaxed);
        (x.handler)(job, &out, me.ctm());
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
        let counted: u64 = fp.stats.mes.iter().map(MeStats::packets).sum::<u64>()
            + traced.stats.mes.iter().map(MeStats::packets).sum::<u64>();
        assert_eq!(counted, 60);
    }

    #[test]
    fn executors_by_name_the_translating_one_by_default() {
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
        // times: loop (frame[0] & 15) * 8 times.
        let p = Program::load(
            &[
                asm::alu(R::A(2), R::None, alu_op::NONE, R::Lm(1, 2)),
                asm::mem(asm::cmd::READ8, 0, R::A(2), R::Imm(0), 0, 4, 0, false),
                asm::alu_shf(
                    R::A(3),
                    R::Imm(0xf),
                    asm::shf_op::AND,
                    R::X(0),
                    asm::sc::R_SHF,
                    21,
                ),
                // 3075: loop
                asm::alu(R::A(3), R::A(3), alu_op::SUB, R::Imm(1)),
                asm::br(br::BHS, 3075, 0),
                asm::br(br::UNC, 1, 2),
                asm::alu(R::A(0), R::None, alu_op::NONE, R::Imm(0)),
                asm::immed(R::A(0), 0x11, 0, false, 2),
            ],
            3072,
            1,
            4096,
        )
        .unwrap();
        let prog = Arc::new(p);
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
