//! `udp:LOCAL@REMOTE`: one Ethernet frame per UDP datagram, as QEMU's
//! `-netdev dgram` carries them.

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};

use super::{Link, PortError, PortSpec, Readiness, RxBatch, WireRx, WireTx};

/// Parse `LOCALHOST:LPORT@REMOTEHOST:RPORT`.
pub(super) fn parse(rest: &str) -> Result<PortSpec, PortError> {
    let (l, r) = rest
        .split_once('@')
        .ok_or_else(|| PortError::UdpSyntax(rest.to_string()))?;
    Ok(PortSpec::Udp {
        local: resolve(l)?,
        remote: resolve(r)?,
    })
}

fn resolve(s: &str) -> Result<SocketAddr, PortError> {
    s.to_socket_addrs()
        .map_err(|source| PortError::Resolve {
            addr: s.to_string(),
            source,
        })?
        .next()
        .ok_or_else(|| PortError::NoAddress(s.to_string()))
}

/// A socket bound to `local` and connected to `remote`, shared by both ends.
pub(super) fn open(port: usize, local: SocketAddr, remote: SocketAddr) -> Result<Link, PortError> {
    let s = UdpSocket::bind(local).map_err(|source| PortError::UdpBind {
        port,
        addr: local,
        source,
    })?;
    s.connect(remote).map_err(|source| PortError::UdpConnect {
        port,
        addr: remote,
        source,
    })?;
    let r = s
        .try_clone()
        .map_err(|source| PortError::Dup { port, source })?;
    Ok(Link {
        tx: Box::new(UdpTx(s)),
        rx: Box::new(UdpRx(r)),
    })
}

/// Datagrams one `recvmmsg`/`sendmmsg` call moves at most.
const MMSG_MAX: usize = 64;

/// Zeroed `recvmmsg`/`sendmmsg` scratch: one header and one iovec per
/// datagram, on the caller's stack.
fn mmsg_scratch() -> ([libc::mmsghdr; MMSG_MAX], [libc::iovec; MMSG_MAX]) {
    // SAFETY: mmsghdr and iovec are plain C structs (integers and raw
    // pointers) for which all-zero bytes are a valid value.
    unsafe { (std::mem::zeroed(), std::mem::zeroed()) }
}

/// Point header `i` of `hdrs` at `iovs[i]`, one buffer per datagram.
fn link_iovecs(hdrs: &mut [libc::mmsghdr], iovs: &mut [libc::iovec]) {
    for (h, io) in hdrs.iter_mut().zip(iovs.iter_mut()) {
        h.msg_hdr.msg_iov = io;
        h.msg_hdr.msg_iovlen = 1;
    }
}

/// Tries of one datagram whose send fails with an error that does not
/// say the datagram itself is bad (see [`retryable`]).
const SEND_TRIES: u32 = 4;
/// How long a send waits for room in a full socket buffer before it
/// drops the datagram (a failure guard: a blocking socket has room again
/// as soon as the kernel moves earlier datagrams on).
const SEND_WAIT_MS: libc::c_int = 100;

/// Whether a failed send of a datagram may succeed if tried again: the
/// error belongs to an earlier datagram (`ECONNREFUSED`: an ICMP port
/// unreachable for an earlier one, reported on the connected socket by
/// the next send, which it fails without sending), a signal came
/// (`EINTR`), or the socket buffer or the device queue is full (`EAGAIN`,
/// `ENOBUFS`). Anything else (`EMSGSIZE`, ...) is about the datagram.
fn retryable(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::Interrupted | ErrorKind::WouldBlock
    ) || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Sends one datagram per frame; a batch with one `sendmmsg` call per 64
/// frames. A frame is not lost to an error that belongs to an earlier
/// one, nor to a full socket buffer: see [`retryable`].
struct UdpTx(UdpSocket);

impl UdpTx {
    /// After a failed send: wait (bounded) until the socket can take a
    /// datagram again if the error says it is full.
    fn backoff(&self, e: &std::io::Error) {
        if e.kind() == ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS) {
            let mut p = libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the call; bounded timeout.
            unsafe { libc::poll(&mut p, 1, SEND_WAIT_MS) };
        }
    }

    /// `sendmmsg` of `frames` (at most [`MMSG_MAX`]): how many of the
    /// first went out, or the error of the first.
    fn sendmmsg(&self, frames: &[&[u8]]) -> std::io::Result<usize> {
        let n = frames.len().min(MMSG_MAX);
        let (mut hdrs, mut iovs) = mmsg_scratch();
        for (io, f) in iovs.iter_mut().zip(frames) {
            // The kernel only reads from a send buffer.
            io.iov_base = f.as_ptr().cast_mut().cast();
            io.iov_len = f.len();
        }
        link_iovecs(&mut hdrs[..n], &mut iovs[..n]);
        // SAFETY: `hdrs[..n]` are valid headers of a connected socket (no
        // address, no control data), each pointing at one iovec that
        // points at a frame borrowed for this call.
        let r =
            unsafe { libc::sendmmsg(self.0.as_raw_fd(), hdrs.as_mut_ptr(), n as libc::c_uint, 0) };
        match usize::try_from(r) {
            Ok(sent) => Ok(sent.min(n)),
            Err(_) => Err(std::io::Error::last_os_error()),
        }
    }
}

impl WireTx for UdpTx {
    fn send(&self, frame: &[u8]) -> bool {
        for _ in 0..SEND_TRIES {
            match self.0.send(frame) {
                Ok(_) => return true,
                Err(e) if retryable(&e) => self.backoff(&e),
                Err(_) => return false,
            }
        }
        false
    }

    /// `sendmmsg` calls until every frame went out or was dropped. When a
    /// call stops short, the kernel has dropped the error of the datagram
    /// it stopped at: the next call, from that datagram, sends it or
    /// reports its error; a frame that cannot go is dropped and the rest
    /// still go, in order.
    fn send_batch(&self, frames: &[&[u8]], marks: &mut [bool]) -> usize {
        let frames = &frames[..frames.len().min(marks.len())];
        let (mut at, mut sent, mut tries) = (0, 0, 0);
        while at < frames.len() {
            match self.sendmmsg(&frames[at..]) {
                Ok(n) if n > 0 => {
                    if let Some(m) = marks.get_mut(at..at + n) {
                        m.fill(true);
                    }
                    (at, sent, tries) = (at + n, sent + n, 0);
                    continue;
                }
                Ok(_) => {}
                Err(e) if retryable(&e) && tries + 1 < SEND_TRIES => {
                    tries += 1;
                    self.backoff(&e);
                    continue;
                }
                Err(_) => {}
            }
            // Frame `at` cannot be sent.
            if let Some(m) = marks.get_mut(at) {
                *m = false;
            }
            (at, tries) = (at + 1, 0);
        }
        sent
    }
}

/// Receives every datagram waiting, up to the batch, with one
/// `recvmmsg` call.
struct UdpRx(UdpSocket);

impl WireRx for UdpRx {
    /// `recvmmsg` into the batch's free slots with `MSG_WAITFORONE`:
    /// waits for the first datagram, then takes what else is queued
    /// without waiting. A refused earlier send (ICMP port unreachable from
    /// a peer not yet listening) is not an error.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        if batch.is_full() {
            return Err(super::batch_full());
        }
        loop {
            let (mut hdrs, mut iovs) = mmsg_scratch();
            let mut n = 0;
            for (io, slot) in iovs.iter_mut().zip(batch.free_slots()) {
                io.iov_base = slot.as_mut_ptr().cast();
                io.iov_len = slot.len();
                n += 1;
            }
            link_iovecs(&mut hdrs[..n], &mut iovs[..n]);
            // SAFETY: `hdrs[..n]` are valid headers (no address, no control
            // data), each pointing at one iovec over a distinct free slot of
            // `batch`, which is not otherwise touched until the call
            // returns; no timeout.
            let r = unsafe {
                libc::recvmmsg(
                    self.0.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            let Ok(got) = usize::try_from(r) else {
                let e = std::io::Error::last_os_error();
                match e.kind() {
                    ErrorKind::ConnectionRefused | ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            };
            for h in &hdrs[..got.min(n)] {
                batch.commit(h.msg_len as usize);
            }
            return Ok(got.min(n));
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.0.as_fd())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A port's sending end bound on 127.0.0.1 and connected to `remote`.
    fn tx_to(remote: SocketAddr) -> UdpTx {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.connect(remote).unwrap();
        UdpTx(s)
    }

    /// Send to `remote`, where nothing listens, until the kernel has the
    /// ICMP port unreachable pending on the socket (it polls POLLERR),
    /// then listen on `remote`.
    fn refused_then_listening(tx: &UdpTx, remote: SocketAddr) -> UdpSocket {
        assert!(tx.0.send(b"to nobody").is_ok());
        let mut p = libc::pollfd {
            fd: tx.0.as_raw_fd(),
            events: 0,
            revents: 0,
        };
        // Failure guard only: the error comes as soon as loopback delivers.
        // SAFETY: one valid pollfd for the call.
        let r = unsafe { libc::poll(&mut p, 1, 60_000) };
        assert!(r == 1 && p.revents & libc::POLLERR != 0, "no ICMP error");
        let peer = UdpSocket::bind(remote).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        peer
    }

    /// A free port on 127.0.0.1 where nothing listens.
    fn closed_port() -> SocketAddr {
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[test]
    fn a_refusal_for_an_earlier_datagram_does_not_drop_the_next() {
        let remote = closed_port();
        let tx = tx_to(remote);
        let peer = refused_then_listening(&tx, remote);
        // The send that meets the pending ECONNREFUSED fails without
        // sending; the port sends the frame again.
        assert!(tx.send(b"first"), "frame dropped for an earlier refusal");
        let mut buf = [0u8; 64];
        let n = peer.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"first");

        // Likewise in the middle of a batch: every frame, in order.
        let remote = closed_port();
        let tx = tx_to(remote);
        let peer = refused_then_listening(&tx, remote);
        let frames: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 60 + usize::from(i)]).collect();
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        assert_eq!(tx.send_batch(&refs, &mut [false; 5]), 5);
        for f in &frames {
            let n = peer.recv(&mut buf[..]).unwrap();
            assert_eq!(&buf[..n], &f[..]);
        }
    }

    #[test]
    fn a_frame_that_cannot_go_is_dropped_and_the_rest_go() {
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let tx = tx_to(peer.local_addr().unwrap());
        // More than a UDP datagram holds: EMSGSIZE, for that frame only.
        let big = vec![0u8; 70_000];
        let frames: [&[u8]; 4] = [b"one", &big, b"three", b"four"];
        let mut marks = [false; 4];
        assert_eq!(tx.send_batch(&frames, &mut marks), 3);
        assert_eq!(marks, [true, false, true, true], "which frame was dropped");
        assert!(!tx.send(&big));
        let mut buf = [0u8; 64];
        for want in [&b"one"[..], b"three", b"four"] {
            let n = peer.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], want);
        }
        // More frames than one sendmmsg call takes.
        let many: Vec<[u8; 2]> = (0..100u16).map(u16::to_be_bytes).collect();
        let refs: Vec<&[u8]> = many.iter().map(|f| &f[..]).collect();
        let mut marks = [false; 100];
        assert_eq!(tx.send_batch(&refs, &mut marks), 100);
        assert!(marks.iter().all(|m| *m));
        for f in &many {
            let n = peer.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], f);
        }
    }
}
