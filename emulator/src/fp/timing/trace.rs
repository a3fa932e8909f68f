//! The monitor's per-packet instruction trace (`trace-start`/`trace-stop`,
//! docs/monitor.md): for the packets a [`TraceFilter`] picks, the NFP
//! instruction addresses the program executed (with their disassembly) and
//! the verdict, one JSON line or text block per packet, written to a file
//! by a thread of its own.
//!
//! The packet side is an [`Observer`] ([`PcLog`]) that the flow processor
//! runs beside (or without) the timing meter, through the same observed
//! path as `--trace-prog` and `--timing` (`fp::me`). Whether a trace runs
//! is a bit of the timing switches ([`super::Timing::level`]): with no
//! trace the data path pays nothing beyond the load it already does. A
//! traced packet hands its addresses to a bounded queue
//! ([`TRACE_QUEUE`]); when the writer falls behind, the packet's trace is
//! dropped and counted, the packet never waits. Address buffers are
//! recycled through a free list, so a steady trace allocates nothing once
//! warm.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use tracing::warn;

use super::model::Verdict;
use crate::fp::disasm::Disasm;
use crate::fp::exec::{Observer, Program};
use crate::fp::insn::Insn;

/// Traced packets waiting for the writer; beyond, traces are dropped.
pub const TRACE_QUEUE: usize = 1024;

/// Most instruction addresses kept per packet; a longer run is marked
/// truncated.
pub const MAX_TRACE_STEPS: usize = 1 << 16;

/// Address buffers kept for reuse.
const FREE_BUFFERS: usize = 64;

/// Where a packet came from, as the trace filter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceKey {
    /// Ingress port.
    pub port: u8,
    /// The vNIC whose program runs it.
    pub vnic: u8,
}

impl TraceKey {
    /// A packet of no known port or vNIC (matches only a filter without
    /// port and vNIC).
    pub const UNKNOWN: TraceKey = TraceKey {
        port: u8::MAX,
        vnic: u8::MAX,
    };
}

/// Which packets a trace takes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceFilter {
    /// Only packets from this port.
    pub port: Option<u8>,
    /// Only packets of this vNIC.
    pub vnic: Option<u8>,
    /// At most this many packets (then the trace stops taking packets).
    pub count: Option<u64>,
}

impl TraceFilter {
    /// Whether a packet from `key` matches the port and vNIC.
    pub fn matches(&self, key: TraceKey) -> bool {
        self.port.is_none_or(|p| p == key.port) && self.vnic.is_none_or(|v| v == key.vnic)
    }
}

/// How each traced packet is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// A block of text per packet: a header line, one line per
    /// instruction, an empty line.
    Text,
}

/// Why a trace could not start.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A trace is already running.
    #[error("a trace is already running (to {0}); trace-stop it first")]
    Busy(PathBuf),
    /// Creating the file.
    #[error("creating {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Starting the writer thread.
    #[error("starting the trace writer thread: {0}")]
    Thread(std::io::Error),
}

/// One traced packet, as the writer gets it.
#[derive(Debug)]
pub struct TracedPacket {
    /// Where it came from.
    pub key: TraceKey,
    /// The program that ran (for the disassembly).
    pub prog: Arc<Program>,
    /// The frame's length as it arrived.
    pub frame_len: usize,
    /// What the firmware did with it.
    pub verdict: Verdict,
    /// Instructions executed.
    pub steps: u64,
    /// ME occupancy, if the packet was metered (docs/timing.md).
    pub cycles: Option<u64>,
    /// The addresses executed, in order (at most [`MAX_TRACE_STEPS`]).
    pub pcs: Vec<u16>,
    /// More instructions ran than `pcs` holds.
    pub truncated: bool,
}

/// The observer that records a run's instruction addresses.
#[derive(Debug)]
pub struct PcLog<'a> {
    pcs: &'a mut Vec<u16>,
    truncated: bool,
}

impl<'a> PcLog<'a> {
    /// Record into `pcs` (emptied first).
    pub fn new(pcs: &'a mut Vec<u16>) -> Self {
        pcs.clear();
        Self {
            pcs,
            truncated: false,
        }
    }

    /// Whether instructions were left out ([`MAX_TRACE_STEPS`]).
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl Observer for PcLog<'_> {
    #[inline]
    fn insn(&mut self, _prog: &Program, pc: u16, _insn: &Insn) {
        if self.pcs.len() < MAX_TRACE_STEPS {
            self.pcs.push(pc);
        } else {
            self.truncated = true;
        }
    }
}

enum Msg {
    Packet(TracedPacket),
    /// Flush, answer and end.
    Stop(Sender<()>),
}

/// What a finished trace did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceSummary {
    /// The file.
    pub path: PathBuf,
    /// Packets written to it.
    pub traced: u64,
    /// Traced packets dropped because the writer fell behind.
    pub dropped: u64,
}

/// A running trace: its filter, its queue and its writer thread.
pub struct TraceSession {
    path: PathBuf,
    filter: TraceFilter,
    /// Packets it may still take.
    remaining: AtomicU64,
    tx: Sender<Msg>,
    free: (Sender<Vec<u16>>, Receiver<Vec<u16>>),
    dropped: AtomicU64,
    written: Arc<AtomicU64>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for TraceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceSession")
            .field("path", &self.path)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl TraceSession {
    /// Create (truncate) `path` and start its writer, taking the packets
    /// `filter` matches, written as `format`.
    pub fn start(
        path: &Path,
        filter: TraceFilter,
        format: TraceFormat,
    ) -> Result<Self, TraceError> {
        let file = File::create(path).map_err(|source| TraceError::Create {
            path: path.to_owned(),
            source,
        })?;
        let (tx, rx) = crossbeam_channel::bounded(TRACE_QUEUE);
        let free = crossbeam_channel::bounded(FREE_BUFFERS);
        let written = Arc::new(AtomicU64::new(0));
        let writer = {
            let (w, recycle, path) = (written.clone(), free.0.clone(), path.to_owned());
            std::thread::Builder::new()
                .name("trace-writer".into())
                .spawn(move || writer(&path, file, format, &rx, &recycle, &w))
                .map_err(TraceError::Thread)?
        };
        Ok(Self {
            path: path.to_owned(),
            filter,
            remaining: AtomicU64::new(filter.count.unwrap_or(u64::MAX)),
            tx,
            free,
            dropped: AtomicU64::new(0),
            written,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The filter.
    pub fn filter(&self) -> TraceFilter {
        self.filter
    }

    /// Take a packet from `key` if the filter matches it and the count is
    /// not used up; `Some(left)` (packets it may still take after this
    /// one) if taken.
    pub fn claim(&self, key: TraceKey) -> Option<u64> {
        if !self.filter.matches(key) {
            return None;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .ok()
            .map(|n| n - 1)
    }

    /// Whether the count is used up.
    pub fn exhausted(&self) -> bool {
        self.remaining.load(Ordering::Relaxed) == 0
    }

    /// An address buffer, from the free list if one is there.
    pub fn buffer(&self) -> Vec<u16> {
        self.free.1.try_recv().unwrap_or_default()
    }

    /// Hand a traced packet to the writer; if its queue is full (or the
    /// trace has stopped), it is dropped and counted.
    pub fn submit(&self, p: TracedPacket) {
        match self.tx.try_send(Msg::Packet(p)) {
            Ok(()) => {}
            Err(
                TrySendError::Full(Msg::Packet(p)) | TrySendError::Disconnected(Msg::Packet(p)),
            ) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                let _ = self.free.0.try_send(p.pcs);
            }
            Err(_) => {}
        }
    }

    /// Packets written so far.
    pub fn traced(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Stop the writer once it has written everything queued before the
    /// call (waiting at most `limit`, a guard) and say what the trace did.
    pub fn finish(&self, limit: Duration) -> TraceSummary {
        let (ack, done) = crossbeam_channel::bounded(1);
        if self.tx.send_timeout(Msg::Stop(ack), limit).is_ok() && done.recv_timeout(limit).is_ok() {
            if let Some(t) = self.writer.lock().take() {
                let _ = t.join();
            }
        }
        TraceSummary {
            path: self.path.clone(),
            traced: self.traced(),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Append `p` (the `n`th packet of the trace, from 0) as one JSON line.
pub fn format_json(out: &mut String, n: u64, p: &TracedPacket) {
    let disasm: Vec<String> = p
        .pcs
        .iter()
        .map(|&pc| Disasm(p.prog.word(pc)).to_string())
        .collect();
    let v = serde_json::json!({
        "packet": n,
        "port": p.key.port,
        "vnic": p.key.vnic,
        "prog": p.prog.seq,
        "frame_len": p.frame_len,
        "verdict": p.verdict.as_str(),
        "insns": p.steps,
        "cycles": p.cycles,
        "truncated": p.truncated,
        "pcs": p.pcs,
        "disasm": disasm,
    });
    out.push_str(&v.to_string());
    out.push('\n');
}

/// Append `p` (the `n`th packet of the trace) as a block of text: a
/// header, `.ADDR  WORD  DISASSEMBLY` per instruction, an empty line.
pub fn format_text(out: &mut String, n: u64, p: &TracedPacket) {
    let _ = write!(
        out,
        "packet {n}: port {} vnic {} prog {}, {} bytes, {}, {} instructions",
        p.key.port,
        p.key.vnic,
        p.prog.seq,
        p.frame_len,
        p.verdict.as_str(),
        p.steps
    );
    if let Some(c) = p.cycles {
        let _ = write!(out, ", {c} cycles");
    }
    if p.truncated {
        out.push_str(" (truncated)");
    }
    out.push('\n');
    for &pc in &p.pcs {
        let w = p.prog.word(pc);
        let _ = writeln!(out, "  .{pc:<5} {w:016x}  {}", Disasm(w));
    }
    out.push('\n');
}

fn writer(
    path: &Path,
    file: File,
    format: TraceFormat,
    rx: &Receiver<Msg>,
    recycle: &Sender<Vec<u16>>,
    written: &AtomicU64,
) {
    let mut out = Some(BufWriter::with_capacity(1 << 16, file));
    let mut text = String::with_capacity(4096);
    let fail = |out: &mut Option<BufWriter<File>>, e: std::io::Error| {
        warn!(target: "nfp_emu::fp::timing", "cannot write the trace {}: {e}; its packets are discarded from now on", path.display());
        *out = None;
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Packet(p) => {
                if let Some(w) = out.as_mut() {
                    text.clear();
                    let n = written.load(Ordering::Relaxed);
                    match format {
                        TraceFormat::Json => format_json(&mut text, n, &p),
                        TraceFormat::Text => format_text(&mut text, n, &p),
                    }
                    match w.write_all(text.as_bytes()) {
                        Ok(()) => {
                            written.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => fail(&mut out, e),
                    }
                }
                let _ = recycle.try_send(p.pcs);
            }
            Msg::Stop(ack) => {
                if let Some(Err(e)) = out.as_mut().map(Write::flush) {
                    fail(&mut out, e);
                }
                let _ = ack.send(());
                return;
            }
        }
        if rx.is_empty() {
            if let Some(Err(e)) = out.as_mut().map(Write::flush) {
                fail(&mut out, e);
            }
        }
    }
    if let Some(mut w) = out {
        let _ = w.flush();
    }
}
