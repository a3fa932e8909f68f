//! The monitor's `pcap-start`/`pcap-stop` (docs/monitor.md): record the
//! frames a port receives from and sends to its wire into a pcap file,
//! while the card runs.
//!
//! Per port, one switch ([`PortCapture`]): with no capture the receive
//! path reads it once per receive batch and the transmit path once per
//! frame (a relaxed load each). A captured frame is copied into a pooled
//! buffer and handed to a bounded queue ([`CAPTURE_QUEUE`]); a thread of
//! the capture's own writes the frames in batches (a buffered writer,
//! flushed when the queue runs empty). When the writer falls behind, frames
//! are dropped from the capture and counted; the data path never waits.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::{Mutex, RwLock};
use pcap_file::pcap::{PcapPacket, PcapWriter};
use tracing::warn;

use super::Datapath;
use crate::ports::FramePool;

/// Captured frames waiting for the writer; beyond, frames are dropped
/// from the capture.
pub const CAPTURE_QUEUE: usize = 4096;

/// Which way a captured frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received from the wire.
    Rx,
    /// Sent to the wire.
    Tx,
}

/// Why a capture could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The card has no such port.
    #[error("no port {0}")]
    NoPort(usize),
    /// The port is already being captured.
    #[error("port {port} is already being captured (to {path}); pcap-stop it first")]
    Busy {
        /// The port.
        port: usize,
        /// The file of the running capture.
        path: PathBuf,
    },
    /// No capture runs on the port.
    #[error("no capture runs on port {0}")]
    NotRunning(usize),
    /// Creating the file.
    #[error("creating {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Starting the writer thread.
    #[error("starting the pcap writer thread: {0}")]
    Thread(std::io::Error),
}

/// What a finished capture did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CaptureSummary {
    /// The port.
    pub port: usize,
    /// The file.
    pub path: PathBuf,
    /// Frames written (received and sent).
    pub frames: u64,
    /// Of them, received from the wire.
    pub rx: u64,
    /// Of them, sent to the wire.
    pub tx: u64,
    /// Frames dropped from the capture because the writer fell behind.
    pub dropped: u64,
}

enum Msg {
    Frame(Direction, Duration, Vec<u8>),
    /// Flush, answer and end.
    Stop(Sender<()>),
}

/// Counts the writer keeps.
#[derive(Debug, Default)]
struct Written {
    rx: AtomicU64,
    tx: AtomicU64,
}

/// One running capture: its queue and writer thread.
struct Capture {
    path: PathBuf,
    tx: Sender<Msg>,
    dropped: AtomicU64,
    written: Arc<Written>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A port's capture switch and, while one runs, its capture.
#[derive(Default)]
pub struct PortCapture {
    on: AtomicBool,
    capture: RwLock<Option<Arc<Capture>>>,
}

impl std::fmt::Debug for PortCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortCapture")
            .field("on", &self.on())
            .finish_non_exhaustive()
    }
}

impl PortCapture {
    /// Whether a capture runs (one relaxed load: the data path's check).
    #[inline(always)]
    pub fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Queue a copy of `frame` (buffer from `pool`), if a capture runs;
    /// dropped and counted if its queue is full.
    pub fn frame(&self, pool: &FramePool, dir: Direction, frame: &[u8]) {
        let slot = self.capture.read();
        let Some(c) = slot.as_ref() else {
            return;
        };
        let ts = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut buf = pool.get();
        buf.extend_from_slice(frame);
        match c.tx.try_send(Msg::Frame(dir, ts, buf)) {
            Ok(()) => {}
            Err(
                TrySendError::Full(Msg::Frame(_, _, b))
                | TrySendError::Disconnected(Msg::Frame(_, _, b)),
            ) => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                pool.put(b);
            }
            Err(_) => {}
        }
    }

    /// Start capturing into `path` (created, truncated); frame buffers go
    /// back to `pool` once written.
    fn start(&self, port: usize, path: &Path, pool: Arc<FramePool>) -> Result<(), CaptureError> {
        let mut slot = self.capture.write();
        if let Some(c) = &*slot {
            return Err(CaptureError::Busy {
                port,
                path: c.path.clone(),
            });
        }
        let file = File::create(path).map_err(|source| CaptureError::Create {
            path: path.to_owned(),
            source,
        })?;
        let (tx, rx) = crossbeam_channel::bounded(CAPTURE_QUEUE);
        let written = Arc::new(Written::default());
        let writer = {
            let (w, path) = (written.clone(), path.to_owned());
            std::thread::Builder::new()
                .name(format!("port{port}-pcap"))
                .spawn(move || writer(&path, file, &rx, &pool, &w))
                .map_err(CaptureError::Thread)?
        };
        *slot = Some(Arc::new(Capture {
            path: path.to_owned(),
            tx,
            dropped: AtomicU64::new(0),
            written,
            writer: Mutex::new(Some(writer)),
        }));
        self.on.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Stop the capture once its writer has written what was queued
    /// (waiting at most `limit`, a guard).
    fn stop(&self, port: usize, limit: Duration) -> Result<CaptureSummary, CaptureError> {
        let c = {
            let mut slot = self.capture.write();
            self.on.store(false, Ordering::Relaxed);
            slot.take().ok_or(CaptureError::NotRunning(port))?
        };
        let (ack, done) = crossbeam_channel::bounded(1);
        if c.tx.send_timeout(Msg::Stop(ack), limit).is_ok() && done.recv_timeout(limit).is_ok() {
            if let Some(t) = c.writer.lock().take() {
                let _ = t.join();
            }
        }
        let (rx, tx) = (
            c.written.rx.load(Ordering::Relaxed),
            c.written.tx.load(Ordering::Relaxed),
        );
        Ok(CaptureSummary {
            port,
            path: c.path.clone(),
            frames: rx + tx,
            rx,
            tx,
            dropped: c.dropped.load(Ordering::Relaxed),
        })
    }

    /// The running capture's file and frames written so far.
    fn status(&self) -> Option<(PathBuf, u64)> {
        let slot = self.capture.read();
        slot.as_ref().map(|c| {
            let w = &c.written;
            (
                c.path.clone(),
                w.rx.load(Ordering::Relaxed) + w.tx.load(Ordering::Relaxed),
            )
        })
    }
}

/// The pcap writer's file: buffered, and reachable for a flush between
/// frames (the pcap writer owns its writer).
#[derive(Clone)]
struct Shared(Rc<RefCell<BufWriter<File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

fn writer(path: &Path, file: File, rx: &Receiver<Msg>, pool: &FramePool, written: &Written) {
    let mut file = Shared(Rc::new(RefCell::new(BufWriter::with_capacity(
        1 << 16,
        file,
    ))));
    let fail = |e: &dyn std::fmt::Display| {
        warn!(target: "nfp_emu::datapath", "cannot write {}: {e}; the capture's frames are discarded from now on", path.display());
    };
    let mut pcap = match PcapWriter::new(file.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            fail(&e);
            None
        }
    };
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Frame(dir, ts, frame) => {
                if let Some(w) = pcap.as_mut() {
                    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
                    match w.write_packet(&PcapPacket::new(ts, len, &frame)) {
                        Ok(_) => {
                            let n = match dir {
                                Direction::Rx => &written.rx,
                                Direction::Tx => &written.tx,
                            };
                            n.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            fail(&e);
                            pcap = None;
                        }
                    }
                }
                pool.put(frame);
            }
            Msg::Stop(ack) => {
                if let Err(e) = file.flush() {
                    fail(&e);
                }
                let _ = ack.send(());
                return;
            }
        }
        if rx.is_empty() && pcap.is_some() {
            if let Err(e) = file.flush() {
                fail(&e);
                pcap = None;
            }
        }
    }
    let _ = file.flush();
}

impl Datapath {
    /// The capture switch of port `port`, if the card has that port.
    #[inline(always)]
    pub(super) fn port_capture(&self, port: usize) -> Option<&PortCapture> {
        self.captures.get(port)
    }

    /// Record what port `port` receives and sends into `path` (the
    /// monitor's `pcap-start`).
    pub fn start_pcap(&self, port: usize, path: &Path) -> Result<(), CaptureError> {
        let c = self.captures.get(port).ok_or(CaptureError::NoPort(port))?;
        c.start(port, path, self.pool.clone())
    }

    /// Stop port `port`'s capture (the monitor's `pcap-stop`), giving its
    /// writer up to `limit` to write what was queued.
    pub fn stop_pcap(&self, port: usize, limit: Duration) -> Result<CaptureSummary, CaptureError> {
        let c = self.captures.get(port).ok_or(CaptureError::NoPort(port))?;
        c.stop(port, limit)
    }

    /// Port `port`'s running capture: its file and frames written so far.
    pub fn pcap_status(&self, port: usize) -> Option<(PathBuf, u64)> {
        self.captures.get(port)?.status()
    }
}
