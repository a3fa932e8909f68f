//! Test fixtures shared by the unit tests, the fuzz targets (`fuzz/`) and
//! the benches: guest memory on a memfd, eventfds for MSI-X, vNIC
//! parameters, and one driver-side mock of the chip ([`Driver`]) that
//! reaches the card only the way the nfp driver does, through config space
//! and BAR accesses.
//!
//! Compiled for `cfg(test)` and, for other crates, behind the `test-utils`
//! feature. Nothing here is part of the device model; fixtures panic on
//! their own set-up failures (a fixture that cannot be built is a broken
//! test), never on what the card answers unless a method says so.

pub mod ccm;
mod driver;
pub mod fuzz;
mod rings;
pub mod seeds;
pub mod storm;

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;

pub use driver::{BAR0_SLICE, Driver, MutexError, NspReply};
pub use rings::{RingLayout, RxSlot, VnicRig, eop_desc};

use crate::dma::DmaMapping;
use crate::nfd::ctrl::{NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_CTRL_BPF, VnicKind, VnicParams};
use crate::nfd::vnic::NFD_QUEUES_PER_VNIC;

/// MU address of data vNIC 0's control BAR in the project's firmware
/// (`_pf0_net_bar0`: EMEM island 24, 0x808000; see the firmware crate's
/// image layout).
pub const DATA_VNIC_BAR: u64 = 0x18_0080_8000;

/// A memfd of `size` bytes, like QEMU's shared RAM backend
/// (`memory-backend-memfd,share=on`).
pub fn memfd(size: u64) -> File {
    // SAFETY: memfd_create returns a new owned fd or -1, checked.
    let fd = unsafe { libc::memfd_create(c"nfp-emu-test".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", std::io::Error::last_os_error());
    // SAFETY: fd is a fresh descriptor owned by nobody else.
    let f = unsafe { File::from_raw_fd(fd) };
    f.set_len(size).expect("memfd size");
    f
}

/// Guest RAM at bus address `iova` as QEMU maps it for DMA: readable,
/// writable, backed by a fresh memfd of `size` bytes.
pub fn ram(iova: u64, size: u64) -> DmaMapping {
    DmaMapping {
        iova,
        size,
        offset: 0,
        fd: Some(memfd(size)),
        readable: true,
        writable: true,
    }
}

/// A non-blocking eventfd, as QEMU hands one per MSI-X vector
/// (`VFIO_USER_DEVICE_SET_IRQS`).
pub fn eventfd() -> File {
    // SAFETY: eventfd returns a new owned fd or -1, checked.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: fd is a fresh descriptor owned by nobody else.
    unsafe { File::from_raw_fd(fd) }
}

/// Interrupts signalled on an eventfd since the last call (0 if none).
pub fn irqs(f: &File) -> u64 {
    let mut b = [0u8; 8];
    match (&*f).read(&mut b) {
        Ok(8) => u64::from_ne_bytes(b),
        _ => 0,
    }
}

/// The parameters NFD gives data vNIC `port` of the project's firmware
/// (its BAR at `_pf0_net_bar0` + 32 KiB per port, queues
/// `NFD_QUEUES_PER_VNIC` apart, 8 rings), with BPF offload (ABI 3) when
/// `bpf`.
pub fn data_vnic_params(port: usize, bpf: bool) -> VnicParams {
    let q = NFD_QUEUES_PER_VNIC * port as u32;
    let mut cap = crate::nfd::NFD_DATA_VNIC_CAP;
    if bpf {
        cap |= NFP_NET_CFG_CTRL_BPF;
    }
    VnicParams {
        kind: VnicKind::Data { port },
        bar: DATA_VNIC_BAR + port as u64 * NFP_NET_CFG_BAR_SZ,
        start_txq: q,
        start_rxq: q + 2,
        max_rings: crate::nfd::vnic::NFD_MAX_DATA_RINGS,
        cap,
        bpf_abi: bpf.then_some(3),
    }
}

/// The project's BPF firmware image for the Agilio CX 2x25GbE, as
/// `nfp-fw build` writes it.
pub fn firmware_image() -> Vec<u8> {
    use nfp_firmware::image::{BoardSpec, bpf_image};
    bpf_image(&BoardSpec::agilio_cx_2x25()).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn fixtures_work() {
        let f = eventfd();
        assert_eq!(irqs(&f), 0);
        (&f).write_all(&2u64.to_ne_bytes()).unwrap();
        assert_eq!(irqs(&f), 2);
        assert_eq!(irqs(&f), 0);
        let m = ram(0x1000, 0x2000);
        assert_eq!(m.fd.unwrap().metadata().unwrap().len(), 0x2000);
        let p = data_vnic_params(1, true);
        assert_eq!(p.bar, DATA_VNIC_BAR + 0x8000);
        assert_eq!((p.start_txq, p.start_rxq, p.bpf_abi), (32, 34, Some(3)));
    }
}
