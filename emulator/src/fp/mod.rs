//! The flow processor: microengines (MEs) running the microcode the
//! driver's BPF JIT emits (bpf.md §4-5), mapped onto a pool of host worker
//! threads.
//!
//! The card's MEs ([`me::Me`], 4 contexts each) are divided among the
//! workers; a packet goes to the ME its flow hashes to, so packets of one
//! flow are processed, and leave the card, in arrival order. Each worker
//! runs its packets to completion and hands the outcome to the datapath.

pub mod asm;
pub mod disasm;
pub mod exec;
pub mod insn;
pub mod me;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};
use tracing::warn;

use crate::nfd::rings::VnicDp;
use exec::{Env, Program};
use me::{Me, MeStats, Outcome};

/// MEs of the model (the NFP-4000's flow-processing cores the firmware
/// gives to the datapath).
pub const DEFAULT_MES: usize = 48;
/// Packets waiting per worker before the port's receive path waits.
const WORKER_QUEUE: usize = 256;

/// How the flow processor is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Default for FpConfig {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mes: DEFAULT_MES,
            trace: false,
            budget: me::DEFAULT_BUDGET,
        }
    }
}

/// A packet for the flow processor.
pub struct Job {
    /// Ingress port.
    pub port: usize,
    /// The vNIC whose program runs (and whose counters count).
    pub vnic: Arc<VnicDp>,
    /// The program, taken when the packet arrived: a packet never sees
    /// half of one program and half of another.
    pub prog: Arc<Program>,
    pub frame: Vec<u8>,
}

/// Where outcomes go: the job, the outcome, and the ME's CTM buffer the
/// outcome's data range points into.
pub type Handler = Arc<dyn Fn(Job, &Outcome, &[u8]) + Send + Sync>;

/// Counters of the whole flow processor.
#[derive(Debug)]
pub struct FpStats {
    pub mes: Box<[MeStats]>,
    /// Packets each worker thread processed.
    pub workers: Box<[AtomicU64]>,
}

/// The pool of workers.
pub struct FlowProcessor {
    pub cfg: FpConfig,
    senders: Vec<Sender<(u16, Job)>>,
    pub stats: Arc<FpStats>,
}

impl std::fmt::Debug for FlowProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowProcessor")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl FlowProcessor {
    /// Start `cfg.threads` workers sharing `cfg.mes` MEs; outcomes go to
    /// `handler`, EMEM and helper calls to `env`.
    pub fn start(cfg: FpConfig, env: Arc<dyn Env + Send + Sync>, handler: Handler) -> Self {
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
        let mut senders = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = crossbeam_channel::bounded(WORKER_QUEUE);
            senders.push(tx);
            // Worker w owns MEs w, w + threads, ...
            let owned: Vec<Me> = (w..mes)
                .step_by(threads)
                .map(|m| Me::new(m as u16))
                .collect();
            let (env, handler, stats, cfg) =
                (env.clone(), handler.clone(), stats.clone(), cfg.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("fp-worker{w}"))
                .spawn(move || worker(w, owned, rx, &*env, &handler, &stats, &cfg));
            if let Err(e) = spawned {
                warn!(target: "nfp_emu::fp", "cannot start flow processor worker {w}: {e}");
            }
        }
        Self {
            cfg,
            senders,
            stats,
        }
    }

    /// The ME a flow hash maps to.
    pub fn me_of(&self, hash: u32) -> usize {
        hash as usize % self.cfg.mes
    }

    /// Queue a packet on the ME of its flow; waits while that ME's worker
    /// is full. Gives the job back if the worker is gone.
    pub fn submit(&self, hash: u32, job: Job) -> Result<(), Job> {
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

fn worker(
    w: usize,
    mut mes: Vec<Me>,
    rx: Receiver<(u16, Job)>,
    env: &dyn Env,
    handler: &Handler,
    stats: &FpStats,
    cfg: &FpConfig,
) {
    let threads = cfg.threads;
    while let Ok((m, job)) = rx.recv() {
        let Some(me) = mes.get_mut(usize::from(m) / threads) else {
            continue;
        };
        let st = &stats.mes[usize::from(m)];
        let out = me.run(&job.prog, &job.frame, env, cfg.budget, cfg.trace, st);
        stats.workers[w].fetch_add(1, Ordering::Relaxed);
        handler(job, &out, me.ctm());
    }
}
