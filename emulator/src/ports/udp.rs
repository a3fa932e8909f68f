//! `udp:LOCAL@REMOTE`: one Ethernet frame per UDP datagram, as QEMU's
//! `-netdev dgram` carries them.

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::os::fd::AsFd;

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

/// Sends one datagram per frame.
struct UdpTx(UdpSocket);

impl WireTx for UdpTx {
    fn send(&self, frame: &[u8]) -> bool {
        self.0.send(frame).is_ok()
    }
}

/// Receives one datagram per frame.
struct UdpRx(UdpSocket);

impl WireRx for UdpRx {
    /// One datagram per call (batched receive is a later step: `recvmmsg`
    /// into [`RxBatch::free_slots`]). A refused earlier send (ICMP port
    /// unreachable from a peer not yet listening) is not an error.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        loop {
            let slot = batch.free_slot().ok_or_else(super::batch_full)?;
            match self.0.recv(slot) {
                Ok(n) => {
                    batch.commit(n);
                    return Ok(1);
                }
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.0.as_fd())
    }
}
