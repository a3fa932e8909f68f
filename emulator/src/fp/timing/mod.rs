//! What a real card would do with the packets: a per-packet cycle model of
//! the NFP-4000 microengines running the driver's JITed code
//! (docs/timing.md), per-instruction profiles of every loaded program, and
//! the estimated packet rate of each program on the traffic it saw.
//!
//! Pieces: [`model`] holds the parameters and arithmetic (each constant
//! cites docs/timing.md), [`Meter`] is the [`crate::fp::exec::Observer`]
//! that charges one packet's run, [`ProgramProfile`] accumulates a
//! program's packets (per-instruction rows, helper rows, exposed latency,
//! totals, cycle histogram), [`RecordSink`] writes `--timing` records.
//! [`Timing`] ties them together for a card: the run-time switches, the
//! profiles of the loaded programs, and the reports the monitor and the
//! profile file show.
//!
//! Cost when off: the flow processor reads [`Timing::level`] once per
//! packet (one relaxed atomic load); with timing off the packet runs on
//! the executor unobserved. Metered packets run on the interpreter with
//! the meter inlined (`fp::exec::interpret`).

pub mod meter;
pub mod model;
pub mod profile;
pub mod record;
pub mod text;
pub mod trace;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use serde::Serialize;

pub use meter::{FirmwareInfo, Meter};
pub use model::{Bottleneck, Charge, Estimate, Helper, PacketCost, Verdict};
pub use profile::{
    Distribution, HelperRow, Owner, Profile, ProfileRow, ProgramProfile, ProgramReport, Totals,
};
pub use record::{Record, RecordError, RecordSink};
pub use trace::{
    PcLog, TraceError, TraceFilter, TraceFormat, TraceKey, TraceSession, TraceSummary, TracedPacket,
};

use crate::fp::exec::Program;

/// Profiles kept: every live program's, and the most recent retired ones
/// up to this many in all (a guest loading programs in a loop cannot grow
/// them).
pub const MAX_PROFILES: usize = 32;

/// What is measured: the run-time switches, read once per packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level(u8);

impl Level {
    const TIMING: u8 = 1;
    const PROFILING: u8 = 2;
    const TRACING: u8 = 4;

    /// Whether nothing is switched on: the packet runs unobserved.
    #[inline(always)]
    pub fn off(self) -> bool {
        self.0 == 0
    }

    /// Whether packets are metered (costed and accounted).
    #[inline(always)]
    pub fn metering(self) -> bool {
        self.0 & (Self::TIMING | Self::PROFILING) != 0
    }

    /// Whether a monitor trace may take packets ([`Timing::trace_claim`]).
    #[inline(always)]
    pub fn tracing(self) -> bool {
        self.0 & Self::TRACING != 0
    }

    /// Whether the per-instruction profile counts too.
    #[inline(always)]
    pub fn profiling(self) -> bool {
        self.0 & Self::PROFILING != 0
    }
}

/// The timing model of one card: switches, profiles, record file.
pub struct Timing {
    level: AtomicU8,
    /// Bumped when profiles are replaced (reset), so workers drop the
    /// profiles they hold.
    generation: AtomicU64,
    workers: AtomicUsize,
    profiles: Mutex<Vec<Arc<ProgramProfile>>>,
    firmware: OnceLock<Arc<dyn FirmwareInfo>>,
    records: OnceLock<RecordSink>,
    /// Held while the profile files are written (by the periodic writer
    /// and at exit).
    files: Mutex<()>,
    /// The monitor's trace, while one runs. Packets read it only while
    /// the tracing switch is on; the monitor writes it at start and stop.
    trace: RwLock<Option<Arc<TraceSession>>>,
}

impl std::fmt::Debug for Timing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timing")
            .field("level", &self.level())
            .field("profiles", &self.profiles.lock().len())
            .finish_non_exhaustive()
    }
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            level: AtomicU8::new(0),
            generation: AtomicU64::new(0),
            workers: AtomicUsize::new(1),
            profiles: Mutex::new(Vec::new()),
            firmware: OnceLock::new(),
            records: OnceLock::new(),
            files: Mutex::new(()),
            trace: RwLock::new(None),
        }
    }
}

impl Timing {
    /// Everything off.
    pub fn new() -> Self {
        Self::default()
    }

    /// The switches (one relaxed load: the per-packet check).
    #[inline(always)]
    pub fn level(&self) -> Level {
        Level(self.level.load(Ordering::Relaxed))
    }

    fn set(&self, bit: u8, on: bool) {
        if on {
            self.level.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.level.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Switch per-packet timing (costs, totals, estimate, records) on or
    /// off.
    pub fn set_timing(&self, on: bool) {
        self.set(Level::TIMING, on);
    }

    /// Switch the per-instruction profile on or off (it implies timing).
    pub fn set_profiling(&self, on: bool) {
        self.set(Level::PROFILING, on);
    }

    /// Whether packets are timed.
    pub fn timing(&self) -> bool {
        self.level().metering()
    }

    /// Whether packets are profiled.
    pub fn profiling(&self) -> bool {
        self.level().profiling()
    }

    /// Start `session` (the monitor's `trace-start`): packets it matches
    /// are traced from now on. Refused while another trace runs.
    pub fn start_trace(&self, session: TraceSession) -> Result<(), TraceError> {
        let mut slot = self.trace.write();
        if let Some(s) = &*slot {
            return Err(TraceError::Busy(s.path().to_owned()));
        }
        *slot = Some(Arc::new(session));
        self.set(Level::TRACING, true);
        Ok(())
    }

    /// Stop the running trace (the monitor's `trace-stop`): no packet is
    /// traced from now on; the writer is given up to `limit` to write what
    /// was queued. `None` if no trace runs.
    pub fn stop_trace(&self, limit: std::time::Duration) -> Option<TraceSummary> {
        let s = {
            let mut slot = self.trace.write();
            self.set(Level::TRACING, false);
            slot.take()?
        };
        Some(s.finish(limit))
    }

    /// The running trace's file and packets written so far, if one runs.
    pub fn trace_status(&self) -> Option<(PathBuf, u64)> {
        let slot = self.trace.read();
        slot.as_ref().map(|s| (s.path().to_owned(), s.traced()))
    }

    /// With the tracing switch on: the running trace, if it takes a packet
    /// from `key` (counted against its `count`). When the count is used up
    /// the switch goes off, so later packets skip the trace.
    pub fn trace_claim(&self, key: TraceKey) -> Option<Arc<TraceSession>> {
        let slot = self.trace.read();
        let s = slot.as_ref()?;
        let Some(left) = s.claim(key) else {
            if s.exhausted() {
                self.set(Level::TRACING, false);
            }
            return None;
        };
        if left == 0 {
            self.set(Level::TRACING, false);
        }
        Some(s.clone())
    }

    /// Write every timed packet's record to `sink` (once; later sinks are
    /// refused and come back).
    pub fn set_records(&self, sink: RecordSink) -> Result<(), RecordSink> {
        self.records.set(sink)
    }

    /// The record file, if one is set.
    pub fn records(&self) -> Option<&RecordSink> {
        self.records.get()
    }

    /// The firmware's helper and map information (set once, when the
    /// datapath starts).
    pub fn set_firmware(&self, fw: Arc<dyn FirmwareInfo>) {
        let _ = self.firmware.set(fw);
    }

    /// The firmware information meters use.
    pub fn firmware(&self) -> Option<&dyn FirmwareInfo> {
        self.firmware.get().map(|f| &**f)
    }

    /// The flow processor has `n` workers: profiles get a shard each.
    pub fn set_workers(&self, n: usize) {
        self.workers.store(n.max(1), Ordering::Relaxed);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Add `p` and drop the oldest retired profiles beyond
    /// [`MAX_PROFILES`] (the oldest of all if none is retired).
    fn insert(list: &mut Vec<Arc<ProgramProfile>>, p: Arc<ProgramProfile>) {
        list.push(p);
        list.sort_by_key(|p| p.seq());
        while list.len() > MAX_PROFILES {
            let i = list.iter().position(|p| p.retired()).unwrap_or(0);
            list.remove(i);
        }
    }

    /// The profile of `prog`, made if it has none.
    pub fn profile(&self, prog: &Arc<Program>) -> Arc<ProgramProfile> {
        let mut list = self.profiles.lock();
        if let Some(p) = list.iter().find(|p| p.seq() == prog.seq) {
            return p.clone();
        }
        let p = Arc::new(ProgramProfile::new(
            prog.clone(),
            self.workers.load(Ordering::Relaxed),
        ));
        Self::insert(&mut list, p.clone());
        p
    }

    /// `owner` loaded `prog`: its profile is kept from now on (and shows
    /// `owner`), the profiles of programs `owner` loaded before are
    /// retired.
    pub fn loaded(&self, prog: &Arc<Program>, owner: &Owner) {
        let p = self.profile(prog);
        p.set_owner(owner.clone());
        for q in self.profiles.lock().iter() {
            if q.seq() != prog.seq && q.owner().is_some_and(|o| o.vnic == owner.vnic) {
                q.retire();
            }
        }
    }

    /// Start every profile afresh (the monitor's reset-counters). Packets
    /// in flight may be counted in the old profiles.
    pub fn reset(&self) {
        let mut list = self.profiles.lock();
        for p in list.iter_mut() {
            *p = Arc::new(p.fresh());
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Reports of every profile kept, newest program first.
    pub fn reports(&self) -> Vec<ProgramReport> {
        let list: Vec<Arc<ProgramProfile>> = self.profiles.lock().clone();
        list.iter().rev().map(|p| p.report()).collect()
    }

    /// The report of program `seq`, if its profile is kept.
    pub fn report(&self, seq: u64) -> Option<ProgramReport> {
        let p = self
            .profiles
            .lock()
            .iter()
            .find(|p| p.seq() == seq)
            .cloned();
        p.map(|p| p.report())
    }

    /// Everything, as the profile file holds it.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            model: ModelParams::CURRENT,
            timing: self.timing(),
            profiling: self.profiling(),
            records: self.records().map(|r| (r.queued(), r.written())),
            programs: self.reports(),
        }
    }

    /// Write the snapshot to `path` as JSON and, beside it (extension
    /// `.txt`), as text tables; each file is replaced whole.
    pub fn write_files(&self, path: &Path) -> std::io::Result<()> {
        let _one_writer = self.files.lock();
        let snap = self.snapshot();
        let json = serde_json::to_vec_pretty(&snap).map_err(std::io::Error::other)?;
        replace(path, &json)?;
        replace(&path.with_extension("txt"), text::render(&snap).as_bytes())
    }
}

/// Per kept profile, `progN.*` (N the program's load sequence number, the
/// `prog` of a `--timing` record) with its timed totals ([`Totals`]):
/// the counter surface's `timing.*` (docs/counters.md). A profile goes
/// back to 0 when the monitor resets the profiles, and disappears when
/// it is dropped ([`MAX_PROFILES`]). Holds the profile list's lock only
/// to copy it.
impl crate::counters::Counters for Timing {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        let list: Vec<Arc<ProgramProfile>> = self.profiles.lock().clone();
        for p in &list {
            crate::counters::visit_in(format_args!("prog{}", p.seq()), &p.timed(), visit);
        }
    }
}

/// Write `data` to a temporary file beside `path`, then rename it there.
fn replace(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// The profile file: the model's parameters, the switches and every
/// program's report.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// The parameters the figures were computed with.
    pub model: ModelParams,
    /// Packets are timed.
    pub timing: bool,
    /// Packets are profiled.
    pub profiling: bool,
    /// `--timing` records queued and written, if a file is set.
    pub records: Option<(u64, u64)>,
    /// Every program kept, newest first.
    pub programs: Vec<ProgramReport>,
}

/// The model's card-level parameters (docs/timing.md §3, §8), for readers
/// that recompute the estimate.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ModelParams {
    /// `F_ME`, Hz.
    pub me_clock_hz: u64,
    /// `N_ME`.
    pub worker_mes: u64,
    /// `CTX`.
    pub contexts: u64,
    /// `EMEM_OPS_PER_S`.
    pub emem_ops_per_s: u64,
    /// `NBI_PPS`.
    pub nbi_pps: u64,
    /// `LINE_BPS` per port.
    pub line_bps: u64,
    /// Preamble, SFD and gap bytes per frame.
    pub wire_overhead: u64,
    /// Firmware per verdict: PASS, DROP, TX, ABORTED.
    pub firmware: [Charge; 4],
}

impl ModelParams {
    /// The parameters in force.
    pub const CURRENT: ModelParams = ModelParams {
        me_clock_hz: model::ME_CLOCK_HZ,
        worker_mes: model::WORKER_MES,
        contexts: model::CONTEXTS,
        emem_ops_per_s: model::EMEM_OPS_PER_S,
        nbi_pps: model::NBI_PPS,
        line_bps: model::LINE_BPS,
        wire_overhead: model::WIRE_OVERHEAD,
        firmware: [
            Verdict::Pass.firmware(),
            Verdict::Drop.firmware(),
            Verdict::Tx.firmware(),
            Verdict::Aborted.firmware(),
        ],
    };
}

/// A flow-processor worker's handle on the profiles: the one of the
/// program it ran last, so a packet finds its profile without a lock.
#[derive(Debug, Default)]
pub struct WorkerProfiles {
    last: Option<(u64, u64, Arc<ProgramProfile>)>,
}

impl WorkerProfiles {
    /// The profile of `prog`.
    pub fn get(&mut self, t: &Timing, prog: &Arc<Program>) -> &Arc<ProgramProfile> {
        let generation = t.generation();
        let entry = match self.last.take() {
            Some(e) if e.0 == prog.seq && e.1 == generation => e,
            _ => (prog.seq, generation, t.profile(prog)),
        };
        &self.last.insert(entry).2
    }
}
