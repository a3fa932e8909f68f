//! The card's physical ports and what is plugged into them.
//!
//! A wire backend is two trait objects: a [`WireTx`] that every thread
//! transmitting on the port shares, and a [`WireRx`] owned by the one
//! thread that receives from it, in batches into preallocated buffers
//! ([`RxBatch`]); [`Readiness`] says how that thread is driven. The
//! backends, one file each, are a loopback cable to another port of the
//! card (`cable`, `loop:P`), a UDP socket carrying one Ethernet frame per
//! datagram as QEMU's `-netdev dgram` does (`udp`), a host tap device
//! (`tap`), a capture file replayed (`pcap`), a traffic generator (`generator`, `gen:`)
//! and nothing (`none`); `record` wraps any of them to record its
//! traffic, `pace` paces the sources at a given rate, and `source` offers
//! the two sources to threads that feed a card in-process. Adding a
//! backend is one new file (its parser, its `open` and its two ends) and
//! its name in `spec`.
//!
//! This module uses neither the datapath nor NFD: it moves frames.

mod batch;
mod cable;
mod generator;
mod none;
mod pace;
mod pcap;
mod record;
mod source;
mod spec;
mod tap;
mod udp;

pub use batch::{RxBatch, TX_BATCH, TX_BATCH_BYTES, TxBatch};
pub use generator::{GEN_MAX_FLOWS, GEN_MIN_SIZE, GEN_SEQ_OFF, GenSpec, gen_frame};
pub use pcap::PcapFrames;
pub use source::Source;
pub use spec::{PortSpec, parse_assignment};

use std::net::SocketAddr;
use std::num::ParseIntError;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender};
use tracing::warn;

/// Largest frame a port carries (9216 MTU + headers, rounded up).
pub const MAX_FRAME: usize = 9600;
/// Frames queued on a loopback cable before it drops.
pub const LOOP_QUEUE: usize = 4096;
/// Frames a port's receive thread takes per batch.
pub const RX_BATCH: usize = 32;
/// Bytes per receive slot: the largest UDP datagram or tap frame, so an
/// oversized frame arrives whole and is counted as too long, not cut.
pub const RX_SLOT: usize = 65536;

/// The sending end of a wire backend, shared by every thread that
/// transmits on the port (the flow processor's workers, the host's TX
/// rings).
pub trait WireTx: Send + Sync {
    /// Put one frame on the wire; false if it was dropped (no link, a full
    /// queue, a send error).
    fn send(&self, frame: &[u8]) -> bool;

    /// Put `frames` on the wire in order; returns how many went out and
    /// sets `sent[i]` to whether `frames[i]` did (the caller passes a
    /// `sent` as long as `frames`; frames past its end are not sent). A
    /// frame the backend cannot send is dropped and the others still go,
    /// in order. The default sends them one by one; batched backends
    /// override it.
    fn send_batch(&self, frames: &[&[u8]], sent: &mut [bool]) -> usize {
        let mut n = 0;
        for (f, s) in frames.iter().zip(sent.iter_mut()) {
            *s = self.send(f);
            n += usize::from(*s);
        }
        n
    }

    /// Whether a link partner is connected: the port's link state.
    fn link_up(&self) -> bool {
        true
    }
}

/// How a port's receiving end must be driven.
#[derive(Clone, Copy, Debug)]
pub enum Readiness<'a> {
    /// Nothing ever arrives: the port needs no receive thread.
    Never,
    /// [`WireRx::recv_batch`] blocks until frames arrive: give the port a
    /// thread of its own.
    Blocking,
    /// As `Blocking`, and `fd` polls readable whenever frames wait, so one
    /// thread may serve several such ports (epoll) or wait with a timeout.
    Fd(BorrowedFd<'a>),
    /// Frames are always ready (a generator, a file replayed as fast as
    /// possible): `recv_batch` never waits, and can be driven to
    /// completion on any thread, e.g. in-process by a benchmark.
    Always,
}

/// The receiving end of a wire backend, owned by the thread that receives.
pub trait WireRx: Send {
    /// Wait until at least one frame arrives, then receive what else is
    /// waiting without waiting again, appending to `batch` (which has at
    /// least one free slot) up to its capacity. Returns the number of
    /// frames received; 0 when the input has ended for good (a cable whose
    /// far end is gone, the end of a file). Transient conditions are
    /// retried inside; an error ends the port's receive loop.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize>;

    /// How this end must be driven.
    fn readiness(&self) -> Readiness<'_>;
}

/// A port's receiving end, which its receive thread takes.
pub type PortRx = Box<dyn WireRx>;

/// A loopback cable's queue into one port.
type Queue = (Sender<Vec<u8>>, Receiver<Vec<u8>>);

/// The two ends of a port's backend.
pub struct Link {
    /// Where transmitted frames go.
    pub tx: Box<dyn WireTx>,
    /// Where received frames come from.
    pub rx: Box<dyn WireRx>,
}

/// The error a backend returns when [`WireRx::recv_batch`] is called with
/// a full batch.
fn batch_full() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "receive batch has no free slot",
    )
}

/// Why a port could not be described or set up.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Not `NAME:ARGS` nor `none`.
    #[error("port backend {0:?}: expected {alternatives}", alternatives = spec::expected())]
    Syntax(String),
    /// A `NAME` no backend has.
    #[error("unknown port backend {kind:?} in {spec:?}")]
    UnknownBackend {
        /// The name given.
        kind: String,
        /// The whole description.
        spec: String,
    },
    /// `loop:P` with a `P` that is not a number.
    #[error("loop:{arg}: bad port number: {source}")]
    LoopPort {
        /// The `P` given.
        arg: String,
        /// Why it is not a number.
        source: ParseIntError,
    },
    /// `udp:` without `LOCAL@REMOTE`.
    #[error("udp:{0}: expected LOCALHOST:LPORT@REMOTEHOST:RPORT")]
    UdpSyntax(String),
    /// A host or port that does not resolve.
    #[error("cannot resolve {addr:?}: {source}")]
    Resolve {
        /// The address given.
        addr: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// A host that resolves to no address.
    #[error("{0:?} resolves to nothing")]
    NoAddress(String),
    /// A tap interface name that is empty or too long.
    #[error("tap:{0}: interface name must be 1-15 bytes")]
    TapName(String),
    /// A `--port` argument that is not `N=SPEC`.
    #[error("expected N=SPEC, got {0:?}")]
    Assignment(String),
    /// The `N` of `N=SPEC` is not a number.
    #[error("bad port number {arg:?}: {source}")]
    PortNumber {
        /// The `N` given.
        arg: String,
        /// Why it is not a number.
        source: ParseIntError,
    },
    /// A loopback cable to a port the card does not have.
    #[error("port {port}: loop:{peer}: the card has {ports} port(s)")]
    NoPeer {
        /// The port being cabled.
        port: usize,
        /// The port its cable goes to.
        peer: usize,
        /// Ports of the card.
        ports: usize,
    },
    /// The UDP socket cannot bind its local address.
    #[error("port {port}: udp bind {addr}: {source}")]
    UdpBind {
        /// The port.
        port: usize,
        /// The local address.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
    /// The UDP socket cannot connect to its remote address.
    #[error("port {port}: udp connect {addr}: {source}")]
    UdpConnect {
        /// The port.
        port: usize,
        /// The remote address.
        addr: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
    /// The tap device cannot be opened or attached.
    #[error("port {port}: tap {name}: {source}")]
    Tap {
        /// The port.
        port: usize,
        /// The interface name.
        name: String,
        /// The error of `/dev/net/tun` or `TUNSETIFF`.
        source: std::io::Error,
    },
    /// A socket or device cannot be shared by the two ends.
    #[error("port {port}: cannot duplicate its descriptor: {source}")]
    Dup {
        /// The port.
        port: usize,
        /// The `dup` error.
        source: std::io::Error,
    },
    /// A pcap file cannot be created.
    #[error("creating {}: {source}", path.display())]
    Pcap {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An option a backend does not have.
    #[error("{backend}: unknown option {option:?} (known: {known})")]
    UnknownOption {
        /// The backend.
        backend: &'static str,
        /// The option given.
        option: String,
        /// The options it has.
        known: &'static str,
    },
    /// An option whose value is not a number.
    #[error("{backend}: {option}: bad number: {source}")]
    OptionValue {
        /// The backend.
        backend: &'static str,
        /// The option.
        option: String,
        /// Why it is not a number.
        source: ParseIntError,
    },
    /// An option whose value is out of range.
    #[error("{backend}: {option}={value}: must be {lo} to {hi}")]
    OptionRange {
        /// The backend.
        backend: &'static str,
        /// The option.
        option: String,
        /// The value given.
        value: u64,
        /// Smallest allowed.
        lo: u64,
        /// Largest allowed.
        hi: u64,
    },
    /// `pcap:` without a file name.
    #[error("pcap:{0}: expected FILE[,loop=K][,rate=PPS]")]
    PcapSyntax(String),
    /// A capture file to replay cannot be opened.
    #[error("opening {}: {source}", path.display())]
    PcapOpen {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A capture file to replay does not read as pcap or pcapng.
    #[error("reading {}: {source}", path.display())]
    PcapRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: pcap_file::PcapError,
    },
    /// A capture file of another link type than Ethernet.
    #[error("{}: link type {linktype}, not Ethernet", path.display())]
    PcapLinkType {
        /// The file.
        path: PathBuf,
        /// Its link type.
        linktype: String,
    },
    /// A capture file without a frame.
    #[error("{}: no frames", .0.display())]
    PcapEmpty(PathBuf),
}

/// Reusable frame buffers, so steady-state traffic allocates nothing.
pub struct FramePool {
    free_tx: Sender<Vec<u8>>,
    free_rx: Receiver<Vec<u8>>,
}

impl Default for FramePool {
    fn default() -> Self {
        let (free_tx, free_rx) = crossbeam_channel::bounded(2 * LOOP_QUEUE);
        Self { free_tx, free_rx }
    }
}

impl FramePool {
    /// An empty buffer with room for [`MAX_FRAME`] bytes: a pooled one if
    /// there is one.
    pub fn get(&self) -> Vec<u8> {
        self.free_rx
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(MAX_FRAME))
    }

    /// Give a buffer back (dropped if the pool is full).
    pub fn put(&self, mut v: Vec<u8>) {
        v.clear();
        let _ = self.free_tx.try_send(v);
    }
}

/// Per-port counters of what the cable itself dropped: the counter
/// surface's `portN.wire.*` (docs/counters.md).
#[derive(Debug, Default)]
pub struct WireStats {
    /// Frames the backend could not send.
    pub tx_dropped: AtomicU64,
}

impl crate::counters::Counters for WireStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("tx_dropped", self.tx_dropped.load(Ordering::Relaxed));
    }
}

/// The loopback cables of a card: a receive queue per port, and the pool
/// their buffers come from.
struct Cables<'a> {
    /// What is plugged into each port.
    specs: &'a [PortSpec],
    /// Each port's receive queue.
    queues: Vec<Queue>,
    pool: Arc<FramePool>,
}

/// One physical port: what is plugged in, its sending end and counters.
pub struct Wire {
    /// Port number.
    pub index: usize,
    /// What is plugged in.
    pub spec: PortSpec,
    tx: Box<dyn WireTx>,
    /// What the cable dropped.
    pub stats: WireStats,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire")
            .field("index", &self.index)
            .field("spec", &self.spec)
            .finish()
    }
}

impl Wire {
    /// Whether a cable (or socket, or tap) is connected.
    pub fn link_up(&self) -> bool {
        self.tx.link_up()
    }

    /// Put a frame on the wire. Returns false if it was dropped.
    pub fn send(&self, frame: &[u8]) -> bool {
        let ok = self.tx.send(frame);
        if !ok {
            self.stats.tx_dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// A port `index` cabled as `spec` whose frames go to `tx`: a backend
    /// made outside [`connect`] (a test's, a benchmark's).
    pub fn with_backend(index: usize, spec: PortSpec, tx: Box<dyn WireTx>) -> Self {
        Self {
            index,
            spec,
            tx,
            stats: WireStats::default(),
        }
    }

    /// Put frames on the wire in order; returns how many went out (the
    /// others were dropped) and sets `sent[i]` to whether `frames[i]`
    /// did. Only the first `min(frames.len(), sent.len())` frames are
    /// handed to the backend.
    pub fn send_batch(&self, frames: &[&[u8]], sent: &mut [bool]) -> usize {
        let n = frames.len().min(sent.len());
        let (frames, sent) = (&frames[..n], &mut sent[..n]);
        sent.fill(false);
        // The marks are the truth the MAC counters follow.
        self.tx.send_batch(frames, sent);
        let ok = sent.iter().filter(|s| **s).count();
        let dropped = (n - ok) as u64;
        if dropped > 0 {
            self.stats.tx_dropped.fetch_add(dropped, Ordering::Relaxed);
        }
        ok
    }

    /// Put the frames of `batch` on the wire in order, with one
    /// [`WireTx::send_batch`]; returns how many went out and marks each
    /// frame's fate in the batch ([`TxBatch::outcomes`]).
    pub fn send_tx_batch(&self, batch: &mut TxBatch) -> usize {
        let mut refs: [&[u8]; TX_BATCH] = [&[]; TX_BATCH];
        let (frames, sent) = batch.parts();
        let mut n = 0;
        for (r, f) in refs.iter_mut().zip(frames) {
            *r = f;
            n += 1;
        }
        self.send_batch(&refs[..n], sent)
    }
}

/// Build the ports of a card: `specs[i]` is what is plugged into port i;
/// loopback cables carry buffers from `pool`; with `pcap_dir`, every port
/// records its traffic there. Returns each port and its receiving end.
pub fn connect(
    specs: &[PortSpec],
    pcap_dir: Option<&Path>,
    pool: &Arc<FramePool>,
) -> Result<Vec<(Wire, PortRx)>, PortError> {
    let cables = Cables {
        specs,
        queues: (0..specs.len())
            .map(|_| crossbeam_channel::bounded(LOOP_QUEUE))
            .collect(),
        pool: pool.clone(),
    };
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let mut link = spec.open(i, &cables)?;
        if let Some(dir) = pcap_dir {
            link = record::wrap(link, dir, i)?;
        }
        out.push((
            Wire {
                index: i,
                spec: spec.clone(),
                tx: link.tx,
                stats: WireStats::default(),
            },
            link.rx,
        ));
    }
    Ok(out)
}

/// Receive loop of port `port`: hands every batch of frames to `deliver`
/// until the input ends, fails, or `deliver` returns false. Runs on the
/// port's own thread; the batch is allocated once, here.
pub fn receive_loop(port: usize, rx: &mut dyn WireRx, mut deliver: impl FnMut(&RxBatch) -> bool) {
    let mut batch = RxBatch::new(RX_BATCH, RX_SLOT);
    loop {
        batch.clear();
        match rx.recv_batch(&mut batch) {
            Ok(0) => return,
            Ok(_) => {
                if !deliver(&batch) {
                    return;
                }
            }
            Err(e) => {
                warn!(target: "nfp_emu::ports", "port {port}: receive failed: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
