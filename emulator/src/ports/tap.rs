//! `tap:IFNAME`: a host tap device (`IFF_TAP | IFF_NO_PI`), one frame per
//! read or write.

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

/// Reads one frame per `read`.
struct TapRx(File);

impl WireRx for TapRx {
    /// One frame per call (batched reads are a later step); the device
    /// going away ends the port.
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        loop {
            let slot = batch.free_slot().ok_or_else(super::batch_full)?;
            match (&self.0).read(slot) {
                Ok(0) => return Ok(0),
                Ok(n) => {
                    batch.commit(n);
                    return Ok(1);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Fd(self.0.as_fd())
    }
}
