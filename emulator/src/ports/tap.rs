//! `tap:IFNAME`: a host tap device (`IFF_TAP | IFF_NO_PI`), one frame per
//! read or write. The device is non-blocking: the receiving end waits in
//! `poll` for the first frame, then reads what else is queued, up to the
//! batch, without waiting again.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd};

use super::{Link, PortError, PortSpec, Readiness, RxBatch, WireRx, WireTx};

/// Parse `IFNAME` (1-15 bytes, `IFNAMSIZ` - 1).
pub(super) fn parse(rest: &str) -> Result<PortSpec, PortError> {
    if !rest.is_empty() && rest.len() < 16 {
        Ok(PortSpec::Tap(rest.to_string()))
    } else {
        Err(PortError::TapName(rest.to_string()))
    }
}

/// `TUNSETIFF` (include/uapi/linux/if_tun.h).
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
/// `IFF_TAP` (include/uapi/linux/if_tun.h): Ethernet frames.
const IFF_TAP: libc::c_short = 0x0002;
/// `IFF_NO_PI` (include/uapi/linux/if_tun.h): no packet-information header.
const IFF_NO_PI: libc::c_short = 0x1000;

/// `struct ifreq` as `TUNSETIFF` uses it.
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
    // `parse` keeps names to 15 bytes, leaving the terminating NUL.
    let n = name.len().min(req.name.len() - 1);
    req.name[..n].copy_from_slice(&name.as_bytes()[..n]);
    // SAFETY: TUNSETIFF reads and writes a struct ifreq, which IfReq lays
    // out (name then a short of flags, padded to 40 bytes).
    let r = unsafe { libc::ioctl(f.as_raw_fd(), TUNSETIFF, &mut req as *mut IfReq) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: F_GETFL/F_SETFL on a descriptor this function owns.
    let ok = unsafe {
        let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
        fl >= 0 && libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Attach to tap device `name`; both ends share its file.
pub(super) fn open(port: usize, name: &str) -> Result<Link, PortError> {
    parse(name)?;
    let f = open_tap(name).map_err(|source| PortError::Tap {
        port,
        name: name.to_string(),
        source,
    })?;
    let r = f
        .try_clone()
        .map_err(|source| PortError::Dup { port, source })?;
    Ok(Link {
        tx: Box::new(TapTx(f)),
        rx: Box::new(TapRx(r)),
    })
}

/// Writes one frame per `write`.
struct TapTx(File);

impl WireTx for TapTx {
    fn send(&self, frame: &[u8]) -> bool {
        (&self.0).write(frame).is_ok()
    }
}

/// Reads the frames queued on the device, one per `read`.
struct TapRx(File);

impl TapRx {
    /// Wait until the device has a frame (or an error or hang-up to
    /// report).
    fn wait(&self) -> std::io::Result<()> {
        let mut p = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd for the call; no timeout.
            let r = unsafe { libc::poll(&mut p, 1, -1) };
            if r >= 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl WireRx for TapRx {
    /// Wait for a frame, then read until the device has no more or the
    /// batch is full. The device going away ends the port.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        if batch.is_full() {
            return Err(super::batch_full());
        }
        let mut got = 0;
        while let Some(slot) = batch.free_slot() {
            match (&self.0).read(slot) {
                Ok(0) => break,
                Ok(n) => {
                    batch.commit(n);
                    got += 1;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock && got == 0 => self.wait()?,
                Err(_) if got > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.0.as_fd())
    }
}
