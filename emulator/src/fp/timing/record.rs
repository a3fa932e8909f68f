//! `--timing FILE`: one JSON object per line per packet the flow processor
//! ran, written by a thread of its own.
//!
//! Packets hand their record to a bounded queue ([`RECORD_QUEUE`]); the
//! writer formats it (CRC-32, hex), writes it and gives the frame buffer
//! back. The file is flushed whenever the queue runs empty, so it is
//! complete whenever the card is idle. If the writer falls behind and the
//! queue fills, the packet's worker waits for room (backpressure): records
//! are never dropped, so the file covers every packet; the flow processor
//! slows down and, upstream, the ports' receive queues fill as they do
//! under any overload (frames then wait, or are dropped on the cable,
//! before the card runs them). This only happens while records are being
//! written. If the file cannot be written, one warning is logged and
//! records are discarded from then on (the data path never waits on a
//! broken file).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use tracing::warn;

use super::model::Verdict;

/// Records waiting for the writer before packets wait.
pub const RECORD_QUEUE: usize = 4096;

/// One packet's record.
#[derive(Debug)]
pub struct Record {
    /// Ingress port.
    pub port: u8,
    /// The vNIC whose program ran.
    pub vnic: u8,
    /// The program's load sequence number.
    pub prog: u64,
    /// What the firmware did with the packet.
    pub verdict: Verdict,
    /// Program instructions executed.
    pub insns: u64,
    /// The program's cycles (busy + exposed latency).
    pub prog_cycles: u64,
    /// The firmware's cycles.
    pub fw_cycles: u64,
    /// ME occupancy of the packet.
    pub cycles: u64,
    /// The frame as it arrived from the wire (its buffer is given back
    /// through the sink's recycle function once written).
    pub frame: Vec<u8>,
}

/// Where frame buffers go once their record is written.
pub type Recycle = Box<dyn Fn(Vec<u8>) + Send>;

enum Msg {
    Record(Record),
    /// Answer once everything before has been written and flushed.
    Sync(Sender<()>),
}

/// Why the record file could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Creating the file.
    #[error("creating {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Starting the writer thread.
    #[error("starting the timing writer thread: {0}")]
    Thread(std::io::Error),
}

/// The record file and its writer thread.
pub struct RecordSink {
    tx: Sender<Msg>,
    queued: AtomicU64,
    written: std::sync::Arc<AtomicU64>,
}

impl std::fmt::Debug for RecordSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSink")
            .field("queued", &self.queued)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl RecordSink {
    /// Create (truncate) `path` and start its writer; frame buffers go to
    /// `recycle` once written.
    pub fn start(path: &Path, recycle: Recycle) -> Result<Self, RecordError> {
        let file = File::create(path).map_err(|source| RecordError::Create {
            path: path.to_owned(),
            source,
        })?;
        let (tx, rx) = crossbeam_channel::bounded(RECORD_QUEUE);
        let written = std::sync::Arc::new(AtomicU64::new(0));
        let w = written.clone();
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("timing-writer".into())
            .spawn(move || writer(&path, file, &rx, &recycle, &w))
            .map_err(RecordError::Thread)?;
        Ok(Self {
            tx,
            queued: AtomicU64::new(0),
            written,
        })
    }

    /// Queue a record; waits while the queue is full.
    pub fn send(&self, r: Record) {
        self.queued.fetch_add(1, Ordering::Relaxed);
        // Fails only if the writer is gone (it never leaves while the
        // sink lives): the record is dropped.
        let _ = self.tx.send(Msg::Record(r));
    }

    /// Records queued so far.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Wait until every record queued before the call is in the file (or
    /// `limit` passes, a guard); whether it got there.
    pub fn sync(&self, limit: Duration) -> bool {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if self.tx.send_timeout(Msg::Sync(tx), limit).is_err() {
            return false;
        }
        rx.recv_timeout(limit).is_ok()
    }
}

/// Lowercase hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Append `r` as one JSON line (the keys external tools read, in order).
pub fn format_record(out: &mut Vec<u8>, r: &Record) {
    use std::io::Write as _;
    let crc = crc32fast::hash(&r.frame);
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{{\"port\":{},\"vnic\":{},\"prog\":{},\"frame_len\":{},\"frame_crc32\":{crc},\"frame_hex\":\"",
        r.port,
        r.vnic,
        r.prog,
        r.frame.len()
    );
    out.reserve(2 * r.frame.len());
    for &b in &r.frame {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 15)]);
    }
    let _ = writeln!(
        out,
        "\",\"verdict\":\"{}\",\"insns\":{},\"prog_cycles\":{},\"fw_cycles\":{},\"cycles\":{}}}",
        r.verdict.as_str(),
        r.insns,
        r.prog_cycles,
        r.fw_cycles,
        r.cycles
    );
}

fn writer(path: &Path, file: File, rx: &Receiver<Msg>, recycle: &Recycle, written: &AtomicU64) {
    let mut out = Some(BufWriter::with_capacity(1 << 16, file));
    let mut line = Vec::with_capacity(4096);
    let fail = |out: &mut Option<BufWriter<File>>, e: std::io::Error| {
        warn!(target: "nfp_emu::fp::timing", "cannot write {}: {e}; timing records are discarded from now on", path.display());
        *out = None;
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Record(r) => {
                if let Some(w) = out.as_mut() {
                    line.clear();
                    format_record(&mut line, &r);
                    if let Err(e) = w.write_all(&line) {
                        fail(&mut out, e);
                    }
                }
                written.fetch_add(1, Ordering::Relaxed);
                recycle(r.frame);
            }
            Msg::Sync(done) => {
                if let Some(Err(e)) = out.as_mut().map(Write::flush) {
                    fail(&mut out, e);
                }
                let _ = done.send(());
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
