//! The card's physical ports and what is plugged into them: a loopback
//! cable to another port of the card, a UDP socket (one Ethernet frame per
//! datagram, as QEMU's `-netdev dgram` does), a host tap device, or nothing.
//! Every port can also record its traffic to pcap files.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use tracing::warn;

/// Largest frame a port carries (9216 MTU + headers, rounded up).
pub const MAX_FRAME: usize = 9600;
/// Frames queued on a loopback cable before it drops.
pub const LOOP_QUEUE: usize = 4096;

/// What is plugged into a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// Nothing: the link is down.
    None,
    /// A cable to port `P` of the same card.
    Loop(usize),
    /// One frame per UDP datagram between `local` and `remote`.
    Udp {
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// A host tap device.
    Tap(String),
}

impl std::fmt::Display for PortSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortSpec::None => write!(f, "none"),
            PortSpec::Loop(p) => write!(f, "loop:{p}"),
            PortSpec::Udp { local, remote } => write!(f, "udp:{local}@{remote}"),
            PortSpec::Tap(n) => write!(f, "tap:{n}"),
        }
    }
}

fn resolve(s: &str) -> Result<SocketAddr, String> {
    s.to_socket_addrs()
        .map_err(|e| format!("cannot resolve {s:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("{s:?} resolves to nothing"))
}

impl FromStr for PortSpec {
    type Err = String;

    /// `none`, `loop:P`, `udp:LOCALHOST:LPORT@REMOTEHOST:RPORT`, `tap:IFNAME`.
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "none" {
            return Ok(PortSpec::None);
        }
        let (kind, rest) = s.split_once(':').ok_or_else(|| {
            format!("port backend {s:?}: expected none, loop:P, udp:L@R or tap:IF")
        })?;
        match kind {
            "loop" => rest
                .parse()
                .map(PortSpec::Loop)
                .map_err(|e| format!("loop:{rest}: bad port number: {e}")),
            "udp" => {
                let (l, r) = rest.split_once('@').ok_or_else(|| {
                    format!("udp:{rest}: expected LOCALHOST:LPORT@REMOTEHOST:RPORT")
                })?;
                Ok(PortSpec::Udp {
                    local: resolve(l)?,
                    remote: resolve(r)?,
                })
            }
            "tap" if !rest.is_empty() && rest.len() < 16 => Ok(PortSpec::Tap(rest.to_string())),
            "tap" => Err(format!("tap:{rest}: interface name must be 1-15 bytes")),
            _ => Err(format!("unknown port backend {kind:?} in {s:?}")),
        }
    }
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
    pub fn get(&self) -> Vec<u8> {
        self.free_rx
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(MAX_FRAME))
    }

    pub fn put(&self, mut v: Vec<u8>) {
        v.clear();
        let _ = self.free_tx.try_send(v);
    }
}

/// Per-port counters of what the cable itself dropped.
#[derive(Debug, Default)]
pub struct WireStats {
    pub tx_dropped: AtomicU64,
}

/// Where a port's transmitted frames go.
enum Out {
    None,
    /// The peer port's receive queue.
    Loop(Sender<Vec<u8>>),
    Udp(UdpSocket),
    Tap(File),
}

/// pcap recording of one direction.
struct Recorder(Mutex<PcapWriter<File>>);

impl Recorder {
    fn create(path: &Path) -> std::io::Result<Self> {
        let f = File::create(path)?;
        let w = PcapWriter::new(f).map_err(std::io::Error::other)?;
        Ok(Self(Mutex::new(w)))
    }

    fn record(&self, frame: &[u8]) {
        let ts = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut w = self.0.lock();
        let p = PcapPacket::new(ts, frame.len() as u32, frame);
        if let Err(e) = w.write_packet(&p) {
            warn!(target: "nfp_emu::ports", "pcap write failed: {e}");
        }
    }
}

/// One physical port.
pub struct Wire {
    pub index: usize,
    pub spec: PortSpec,
    out: Out,
    pcap_rx: Option<Recorder>,
    pcap_tx: Option<Recorder>,
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

/// How frames come in on a port.
pub enum Input {
    /// Frames pushed by a loopback cable.
    Queue(Receiver<Vec<u8>>),
    Udp(UdpSocket),
    Tap(File),
    None,
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

#[repr(C)]
struct IfReq {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

fn open_tap(name: &str) -> std::io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")?;
    let mut req = IfReq {
        name: [0; 16],
        flags: IFF_TAP | IFF_NO_PI,
        _pad: [0; 22],
    };
    req.name[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq, which IfReq lays
    // out (name then a short of flags, padded to 40 bytes).
    let r = unsafe { libc::ioctl(f.as_raw_fd(), TUNSETIFF, &mut req as *mut IfReq) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Build the ports of a card: `specs[i]` is what is plugged into port i.
/// Returns each port and where its received frames come from.
pub fn connect(specs: &[PortSpec], pcap_dir: Option<&Path>) -> Result<Vec<(Wire, Input)>, String> {
    let n = specs.len();
    type Queue = (Sender<Vec<u8>>, Receiver<Vec<u8>>);
    let queues: Vec<Queue> = (0..n)
        .map(|_| crossbeam_channel::bounded(LOOP_QUEUE))
        .collect();
    let mut out = Vec::with_capacity(n);
    for (i, spec) in specs.iter().enumerate() {
        let (o, input) = match spec {
            PortSpec::None => (Out::None, Input::None),
            PortSpec::Loop(p) => {
                let peer = queues
                    .get(*p)
                    .ok_or_else(|| format!("port {i}: loop:{p}: the card has {n} port(s)"))?;
                let looped_back = specs.get(*p) == Some(&PortSpec::Loop(i));
                if !looped_back && *p != i {
                    warn!(target: "nfp_emu::ports", "port {i} is cabled to port {p}, whose cable goes elsewhere");
                }
                (Out::Loop(peer.0.clone()), Input::Queue(queues[i].1.clone()))
            }
            PortSpec::Udp { local, remote } => {
                let s = UdpSocket::bind(local)
                    .map_err(|e| format!("port {i}: udp bind {local}: {e}"))?;
                s.connect(remote)
                    .map_err(|e| format!("port {i}: udp connect {remote}: {e}"))?;
                let r = s.try_clone().map_err(|e| e.to_string())?;
                (Out::Udp(s), Input::Udp(r))
            }
            PortSpec::Tap(name) => {
                let f = open_tap(name).map_err(|e| format!("port {i}: tap {name}: {e}"))?;
                let r = f.try_clone().map_err(|e| e.to_string())?;
                (Out::Tap(f), Input::Tap(r))
            }
        };
        let rec = |dir: &str| -> Result<Option<Recorder>, String> {
            match pcap_dir {
                None => Ok(None),
                Some(d) => {
                    let p = d.join(format!("port{i}-{dir}.pcap"));
                    Recorder::create(&p)
                        .map(Some)
                        .map_err(|e| format!("creating {}: {e}", p.display()))
                }
            }
        };
        out.push((
            Wire {
                index: i,
                spec: spec.clone(),
                out: o,
                pcap_rx: rec("rx")?,
                pcap_tx: rec("tx")?,
                stats: WireStats::default(),
            },
            input,
        ));
    }
    Ok(out)
}

impl Wire {
    /// Whether a cable (or socket, or tap) is connected.
    pub fn link_up(&self) -> bool {
        !matches!(self.out, Out::None)
    }

    /// Put a frame on the wire; `pool` supplies the buffer a loopback cable
    /// carries. Returns false if it was dropped.
    pub fn send(&self, frame: &[u8], pool: &FramePool) -> bool {
        if let Some(r) = &self.pcap_tx {
            r.record(frame);
        }
        let ok = match &self.out {
            Out::None => false,
            Out::Loop(tx) => {
                let mut b = pool.get();
                b.extend_from_slice(frame);
                match tx.try_send(b) {
                    Ok(()) => true,
                    Err(e) => {
                        pool.put(e.into_inner());
                        false
                    }
                }
            }
            Out::Udp(s) => s.send(frame).is_ok(),
            Out::Tap(f) => {
                let mut f: &File = f;
                f.write(frame).is_ok()
            }
        };
        if !ok {
            self.stats.tx_dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Record a received frame.
    pub fn record_rx(&self, frame: &[u8]) {
        if let Some(r) = &self.pcap_rx {
            r.record(frame);
        }
    }
}

/// Receive loop of a port: calls `deliver` for every frame until the input
/// closes (or, for sockets, forever). Runs on the port's own thread.
pub fn receive_loop(input: Input, pool: &FramePool, mut deliver: impl FnMut(&[u8]) -> bool) {
    match input {
        Input::None => {}
        Input::Queue(rx) => {
            while let Ok(frame) = rx.recv() {
                let go = deliver(&frame);
                pool.put(frame);
                if !go {
                    return;
                }
            }
        }
        Input::Udp(s) => {
            let mut buf = vec![0u8; 65536];
            loop {
                match s.recv(&mut buf) {
                    Ok(n) => {
                        if !deliver(&buf[..n]) {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                    Err(e) => {
                        warn!(target: "nfp_emu::ports", "udp receive failed: {e}");
                        return;
                    }
                }
            }
        }
        Input::Tap(mut f) => {
            let mut buf = vec![0u8; 65536];
            loop {
                match f.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        if !deliver(&buf[..n]) {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        warn!(target: "nfp_emu::ports", "tap read failed: {e}");
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("none".parse::<PortSpec>(), Ok(PortSpec::None));
        assert_eq!("loop:1".parse::<PortSpec>(), Ok(PortSpec::Loop(1)));
        assert_eq!(
            "tap:nfp0".parse::<PortSpec>(),
            Ok(PortSpec::Tap("nfp0".into()))
        );
        let u: PortSpec = "udp:127.0.0.1:5555@127.0.0.1:6666".parse().unwrap();
        assert_eq!(u.to_string(), "udp:127.0.0.1:5555@127.0.0.1:6666");
        for bad in [
            "loop:x",
            "udp:1.2.3.4:5",
            "tap:",
            "tap:waytoolonginterfacename",
            "wire:0",
            "loop",
        ] {
            assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn loop_cable_carries_frames_both_ways() {
        let pool = FramePool::default();
        let mut ports = connect(&[PortSpec::Loop(1), PortSpec::Loop(0)], None).unwrap();
        let (w1, i1) = ports.pop().unwrap();
        let (w0, i0) = ports.pop().unwrap();
        assert!(w0.link_up() && w1.link_up());
        assert!(w0.send(b"to port one", &pool));
        assert!(w1.send(b"to port zero", &pool));
        let Input::Queue(q1) = i1 else { panic!() };
        let Input::Queue(q0) = i0 else { panic!() };
        assert_eq!(q1.try_recv().unwrap(), b"to port one");
        assert_eq!(q0.try_recv().unwrap(), b"to port zero");
        assert!(connect(&[PortSpec::Loop(5)], None).is_err());
    }

    #[test]
    fn udp_port_sends_one_frame_per_datagram() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = UdpSocket::bind("127.0.0.1:0").unwrap();
        let laddr = local.local_addr().unwrap();
        drop(local);
        let spec = PortSpec::Udp {
            local: laddr,
            remote: peer.local_addr().unwrap(),
        };
        let pool = FramePool::default();
        let mut ports = connect(&[spec], None).unwrap();
        let (w, input) = ports.pop().unwrap();
        assert!(w.send(b"\x00\x01frame", &pool));
        let mut b = [0u8; 64];
        let (n, from) = peer.recv_from(&mut b).unwrap();
        assert_eq!(&b[..n], b"\x00\x01frame");
        assert_eq!(from, laddr);
        peer.send_to(b"reply", laddr).unwrap();
        let mut got = Vec::new();
        receive_loop(input, &pool, |f| {
            got.extend_from_slice(f);
            false
        });
        assert_eq!(got, b"reply");
    }

    #[test]
    fn pcap_files_hold_the_frames() {
        let dir = std::env::temp_dir().join(format!("nfp-emu-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = FramePool::default();
        let ports = connect(&[PortSpec::Loop(0)], Some(&dir)).unwrap();
        let (w, _) = &ports[0];
        w.send(&[0xaa; 60], &pool);
        w.record_rx(&[0xbb; 64]);
        let tx = std::fs::read(dir.join("port0-tx.pcap")).unwrap();
        let rx = std::fs::read(dir.join("port0-rx.pcap")).unwrap();
        // 24-byte file header + 16-byte record header + data.
        assert_eq!(tx.len(), 24 + 16 + 60);
        assert_eq!(rx.len(), 24 + 16 + 64);
        let _ = std::fs::remove_dir_all(dir);
    }
}
