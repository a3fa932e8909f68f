//! How packets reach the MEs: each thread that receives frames holds a
//! [`Lane`] into the flow processor. With worker threads, a lane gathers
//! the packets of one receive batch per worker and hands each worker its
//! share in one message ([`Handoff`]); a worker spins briefly for the next
//! batch before it parks, so a steady stream costs neither a wake-up nor a
//! syscall per packet. Without workers (`FpConfig::threads` 0) a lane
//! owns MEs of its own and runs each packet to completion on the
//! receiving thread ([`Inline`]): no hand-off, no copy.
//!
//! Packets of one flow hash to one ME, which one worker owns; a lane
//! queues them in arrival order and a worker runs its batches in order,
//! so they leave in arrival order. Batches are recycled through a free
//! list: steady traffic allocates nothing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::exec::{Env, Executor, Program};
use super::me::{Me, Outcome};
use super::timing::{Timing, WorkerProfiles};
use super::{FpConfig, FpStats, Job, PacketTag};

/// Packets handed to a worker at once, each with the number of its ME.
pub(super) type Batch<T> = Vec<(u16, Job<T>)>;

/// Most packets a lane gathers for one worker before it hands them over.
pub(super) const BATCH_MAX: usize = 64;
/// Batches waiting per worker before a lane waits for the worker.
pub(super) const WORKER_BATCHES: usize = 16;
/// Empty batches kept for reuse.
pub(super) const FREE_BATCHES: usize = 1024;
/// Profile shards of the timing model when packets run on the receiving
/// threads (inline lane `n` meters into shard `n % INLINE_SHARDS`).
pub(super) const INLINE_SHARDS: usize = 256;
/// How long an idle worker spins for the next batch before it parks.
pub(super) const SPIN: Duration = Duration::from_micros(20);

/// A receiving thread's way into the flow processor.
pub enum Lane<T> {
    /// Packets run here, on the receiving thread.
    Inline(Inline),
    /// Packets are handed to the workers in batches.
    Handoff(Handoff<T>),
}

impl<T> std::fmt::Debug for Lane<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lane::Inline(_) => "Lane::Inline",
            Lane::Handoff(_) => "Lane::Handoff",
        })
    }
}

/// MEs of a lane that runs packets to completion on its own thread. They
/// are the flow processor's MEs by number and count in its counters
/// (worker 0's packet counter stands for every inline lane); each ME is
/// built when its first packet comes.
pub struct Inline {
    mes: Box<[Option<Me>]>,
    exec: Arc<dyn Executor>,
    env: Arc<dyn Env + Send + Sync>,
    stats: Arc<FpStats>,
    timing: Arc<Timing>,
    profiles: WorkerProfiles,
    /// The timing model's profile shard this lane meters into.
    shard: usize,
    cfg: FpConfig,
    /// Packets run since the worker counter was last updated.
    ran: u64,
}

impl Inline {
    pub(super) fn new(
        exec: Arc<dyn Executor>,
        env: Arc<dyn Env + Send + Sync>,
        stats: Arc<FpStats>,
        timing: Arc<Timing>,
        cfg: FpConfig,
        shard: usize,
    ) -> Self {
        Self {
            mes: (0..cfg.mes.max(1)).map(|_| None).collect(),
            exec,
            env,
            stats,
            timing,
            profiles: WorkerProfiles::default(),
            shard,
            cfg,
            ran: 0,
        }
    }

    /// Run `prog` on `frame` on the ME its flow hash `hash` picks, now
    /// (metered and traced when the timing model says so; `tag` says where
    /// the packet came from): the outcome and the ME's CTM buffer its data
    /// range points into.
    pub fn run(
        &mut self,
        hash: u32,
        prog: &Arc<Program>,
        frame: &[u8],
        tag: &dyn PacketTag,
    ) -> (Outcome, &[u8]) {
        let m = hash as usize % self.mes.len();
        let exec = &self.exec;
        let me = self.mes[m].get_or_insert_with(|| Me::new(m as u16, exec.clone()));
        let out = super::run_packet(
            me,
            prog,
            frame,
            tag,
            &*self.env,
            &self.cfg,
            &self.stats.mes[m],
            &self.timing,
            &mut self.profiles,
            self.shard,
        );
        self.ran += 1;
        (out, me.ctm())
    }

    /// Bring the packet counter up to date (once per receive batch).
    pub fn flush(&mut self) {
        if self.ran > 0 {
            if let Some(w) = self.stats.workers.first() {
                w.fetch_add(self.ran, Ordering::Relaxed);
            }
            self.ran = 0;
        }
    }
}

impl Drop for Inline {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A lane that hands packets to the workers: a batch per worker being
/// filled.
pub struct Handoff<T> {
    /// Each worker's queue of batches.
    senders: Vec<Sender<Batch<T>>>,
    /// Empty batches to fill.
    free: Receiver<Batch<T>>,
    /// The batch being filled for each worker.
    pending: Vec<Batch<T>>,
    mes: usize,
}

impl<T> Handoff<T> {
    pub(super) fn new(
        senders: Vec<Sender<Batch<T>>>,
        free: Receiver<Batch<T>>,
        mes: usize,
    ) -> Self {
        Self {
            pending: senders.iter().map(|_| Vec::new()).collect(),
            senders,
            free,
            mes: mes.max(1),
        }
    }

    /// Queue `job` for the ME its flow hash `hash` picks; its worker gets
    /// it at the next [`Self::flush`] (or now, if its batch is full).
    /// Jobs a worker can no longer take (it is gone) go to `lost`.
    pub fn push(&mut self, hash: u32, job: Job<T>, lost: &mut dyn FnMut(Job<T>)) {
        let me = hash as usize % self.mes;
        let w = me % self.senders.len();
        let b = &mut self.pending[w];
        if b.capacity() == 0 {
            *b = self
                .free
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH_MAX));
        }
        b.push((me as u16, job));
        if b.len() >= BATCH_MAX {
            self.send(w, lost);
        }
    }

    /// Hand every worker the packets gathered for it.
    pub fn flush(&mut self, lost: &mut dyn FnMut(Job<T>)) {
        for w in 0..self.pending.len() {
            if !self.pending[w].is_empty() {
                self.send(w, lost);
            }
        }
    }

    fn send(&mut self, w: usize, lost: &mut dyn FnMut(Job<T>)) {
        let b = std::mem::take(&mut self.pending[w]);
        if let Err(e) = self.senders[w].send(b) {
            for (_, job) in e.into_inner() {
                lost(job);
            }
        }
    }
}

impl<T> Drop for Handoff<T> {
    fn drop(&mut self) {
        self.flush(&mut |job| drop(job));
    }
}

/// The next batch for a worker: what is queued, else spin for up to
/// [`SPIN`] for one, then park until one comes. `None` once every lane
/// and the flow processor are gone.
pub(super) fn next_batch<B>(rx: &Receiver<B>) -> Option<B> {
    let mut since: Option<Instant> = None;
    let mut spins = 0u32;
    loop {
        match rx.try_recv() {
            Ok(b) => return Some(b),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        spins = spins.wrapping_add(1);
        if spins % 64 == 0 {
            let t = *since.get_or_insert_with(Instant::now);
            if t.elapsed() >= SPIN {
                return rx.recv().ok();
            }
        }
        std::hint::spin_loop();
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::fp::asm::{self, R, alu_op, br};
    use crate::fp::exec::NoEnv;
    use crate::fp::me::Action;
    use crate::fp::{FlowProcessor, Handler};
    use parking_lot::Mutex;

    /// XDP_PASS after a loop of (frame[0] & 15) * 8 iterations, so packets
    /// take different times.
    pub(in crate::fp) fn uneven() -> Arc<Program> {
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
        Arc::new(p)
    }

    fn frame(flow: u8, seq: u32) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[0] = (seq as u8).wrapping_mul(7) ^ flow;
        f[1] = flow;
        f[4..8].copy_from_slice(&seq.to_be_bytes());
        f
    }

    fn hash(flow: u8) -> u32 {
        u32::from(flow).wrapping_mul(0x9e37_79b9)
    }

    /// The (flow, seq) of each packet a handler saw.
    type Seen = Arc<Mutex<Vec<(u8, u32)>>>;

    /// A flow processor whose handler records (flow, seq) of each packet.
    fn recording(threads: usize) -> (FlowProcessor<()>, Seen) {
        let seen: Seen = Arc::default();
        let s2 = seen.clone();
        let fp = FlowProcessor::start(
            FpConfig {
                threads,
                mes: 8,
                ..FpConfig::default()
            },
            &(Arc::new(NoEnv) as Arc<dyn Env + Send + Sync>),
            &(Arc::new(move |job: Job<()>, out: &Outcome, _ctm: &[u8]| {
                assert_eq!(out.action, Action::Pass);
                let seq = u32::from_be_bytes(job.frame[4..8].try_into().unwrap());
                s2.lock().push((job.frame[1], seq));
            }) as Handler<()>),
        );
        (fp, seen)
    }

    fn assert_in_order(seen: &[(u8, u32)], flows: u8, per_flow: u32) {
        for flow in 0..flows {
            let order: Vec<u32> = seen
                .iter()
                .filter(|(f, _)| *f == flow)
                .map(|(_, s)| *s)
                .collect();
            assert_eq!(
                order,
                (0..per_flow).collect::<Vec<_>>(),
                "flow {flow} reordered"
            );
        }
    }

    #[test]
    fn batches_handed_to_workers_keep_each_flow_in_order() {
        const FLOWS: u8 = 16;
        const PER_FLOW: u32 = 300;
        let (fp, seen) = recording(4);
        let prog = uneven();
        // Two lanes (two ports' receive threads) at once, each with its
        // own flows, batches of uneven size.
        std::thread::scope(|s| {
            for half in 0..2u8 {
                let (fp, prog) = (&fp, &prog);
                s.spawn(move || {
                    let Lane::Handoff(mut lane) = fp.lane() else {
                        panic!("workers: a hand-off lane");
                    };
                    let mut in_batch = 0;
                    for seq in 0..PER_FLOW {
                        for flow in (half..FLOWS).step_by(2) {
                            let job = Job {
                                tag: (),
                                prog: prog.clone(),
                                frame: frame(flow, seq),
                            };
                            lane.push(hash(flow), job, &mut |_| panic!("lost"));
                            in_batch += 1;
                            if in_batch == 1 + (seq as usize % 37) {
                                lane.flush(&mut |_| panic!("lost"));
                                in_batch = 0;
                            }
                        }
                    }
                    lane.flush(&mut |_| panic!("lost"));
                });
            }
        });
        let total = usize::from(FLOWS) * PER_FLOW as usize;
        let deadline = Instant::now() + Duration::from_secs(120);
        while seen.lock().len() < total {
            assert!(Instant::now() < deadline, "packets lost");
            std::thread::yield_now();
        }
        assert_in_order(&seen.lock(), FLOWS, PER_FLOW);
        let per_worker: Vec<u64> = fp
            .stats
            .workers
            .iter()
            .map(|w| w.load(Ordering::Relaxed))
            .collect();
        assert_eq!(per_worker.iter().sum::<u64>(), total as u64);
        assert!(
            per_worker.iter().filter(|&&n| n > 0).count() > 1,
            "{per_worker:?}"
        );
    }

    #[test]
    fn an_inline_lane_runs_packets_on_the_receiving_thread() {
        let (fp, seen) = recording(0);
        let prog = uneven();
        let Lane::Inline(mut lane) = fp.lane() else {
            panic!("no workers: an inline lane");
        };
        for seq in 0..50 {
            let f = frame(3, seq);
            let (out, ctm) = lane.run(hash(3), &prog, &f, &());
            assert_eq!(out.action, Action::Pass);
            assert_eq!(&ctm[out.data], &f[..], "the frame, in the ME's CTM buffer");
        }
        assert_eq!(
            fp.stats.workers[0].load(Ordering::Relaxed),
            0,
            "until flushed"
        );
        lane.flush();
        assert_eq!(fp.stats.workers[0].load(Ordering::Relaxed), 50);
        let me = hash(3) as usize % 8;
        assert_eq!(fp.stats.mes[me].packets(), 50, "on the ME of the flow");
        // The handler is for workers; a lane's caller carries out verdicts.
        assert!(seen.lock().is_empty());
        // Single packets without workers run at once and reach the handler.
        let job = Job {
            tag: (),
            prog: prog.clone(),
            frame: frame(1, 0),
        };
        assert!(fp.submit(hash(1), job).is_ok());
        assert_eq!(*seen.lock(), [(1, 0)]);
    }

    #[test]
    fn counters_that_threads_bump_side_by_side_do_not_share_cache_lines() {
        let (fp, _) = recording(2);
        let w = &fp.stats.workers;
        let a = std::ptr::from_ref(&*w[0]) as usize;
        let b = std::ptr::from_ref(&*w[1]) as usize;
        assert!(b - a >= 128, "worker counters {a:#x} {b:#x}");
        let m = &fp.stats.mes;
        let a = std::ptr::from_ref(&m[0]) as usize;
        let b = std::ptr::from_ref(&m[1]) as usize;
        assert!(a % 128 == 0 && b - a >= 128, "ME counters {a:#x} {b:#x}");
    }

    #[test]
    fn an_idle_worker_parks_and_ends_with_its_lanes() {
        let (tx, rx) = crossbeam_channel::bounded::<u32>(1);
        let t = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(b) = next_batch(&rx) {
                got.push(b);
            }
            got
        });
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(t.join().unwrap(), [1, 2]);
    }
}
