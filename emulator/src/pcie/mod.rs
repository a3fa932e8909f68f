//! The PCIe side of the card: identity, configuration space and BARs.
//!
//! Constants are named as the Linux `nfp` driver and `pci_regs.h` name them;
//! the comment beside each cites where the value comes from
//! (docs/pcie.md gives the full reading).

pub mod config;
pub mod expbar;
pub mod local;
pub mod msix;

pub use config::ConfigSpace;
pub use msix::MsixVectors;

/// `PCI_VENDOR_ID_NETRONOME` (include/linux/pci_ids.h:2572).
pub const PCI_VENDOR_ID_NETRONOME: u16 = 0x19ee;
/// `PCI_DEVICE_ID_NFP4000` (nfpcore/nfp_dev.h:11): the PF of an NFP-4000 card.
pub const PCI_DEVICE_ID_NFP4000: u16 = 0x4000;
/// `PCI_DEVICE_ID_NFP6000_VF` (nfpcore/nfp_dev.h:15): the VF of NFP-4000
/// and NFP-6000 cards (nfp_netvf_main.c:45-47).
pub const PCI_DEVICE_ID_NFP_VF: u16 = 0x6003;
/// Subsystem device of an Agilio CX [external: lspci of a real card]. The
/// driver matches the subsystem vendor only (nfp_main.c:40-43).
pub const PCI_SUBSYSTEM_ID_AGILIO_CX: u16 = 0x4001;
/// Ethernet controller (class 0x02, subclass 0x00, prog-if 0x00) \[external\].
pub const PCI_CLASS_NETWORK_ETHERNET: u32 = 0x02_00_00;
/// Revision of the emulated silicon \[choice\].
pub const PCI_REVISION: u8 = 0x00;

/// One memory BAR as the card exposes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarDef {
    /// BAR number (0..=5); a 64-bit BAR also occupies `index + 1`.
    pub index: usize,
    /// Size in bytes, a power of two.
    pub size: u64,
    /// 64-bit BAR.
    pub is_64bit: bool,
    /// Prefetchable BAR.
    pub prefetchable: bool,
}

/// The three BARs `enable_bars()` slices into 8 expansion windows each
/// (nfpcore/nfp6000_pcie.c:535-708): 128/64/16 MiB, 64-bit prefetchable,
/// like a real NFP-4000 (docs/pcie.md#bars). BAR0 must have 16 MiB slices for the
/// FIXED windows that MU atomics (and so every NFP mutex) need.
pub const NFP_BARS: [BarDef; 3] = [
    BarDef {
        index: 0,
        size: 128 << 20,
        is_64bit: true,
        prefetchable: true,
    },
    BarDef {
        index: 2,
        size: 64 << 20,
        is_64bit: true,
        prefetchable: true,
    },
    BarDef {
        index: 4,
        size: 16 << 20,
        is_64bit: true,
        prefetchable: true,
    },
];

/// Number of expansion-BAR slices per BAR (nfpcore/nfp6000_pcie.c:179-188).
pub const NFP_PCIE_SLICES_PER_BAR: u64 = 8;

/// MSI-X vectors, as on the real card (docs/pcie.md#msi-x).
pub const NFP_MSIX_VECTORS: u16 = 256;
/// MSI-X table: BAR0 offset 0, in the fixed BAR0.0 slice (docs/pcie.md#msi-x).
pub const NFP_MSIX_TABLE_BAR: u8 = 0;
/// MSI-X table offset in BAR0 (table BIR 0).
pub const NFP_MSIX_TABLE_OFFSET: u32 = 0;
/// MSI-X PBA: BAR0 offset 0x01100190, in the fixed BAR0.1 (XPB) slice
/// (docs/pcie.md#msi-x, [external: lspci of a real card]).
pub const NFP_MSIX_PBA_BAR: u8 = 0;
/// MSI-X PBA offset in BAR0.
pub const NFP_MSIX_PBA_OFFSET: u32 = 0x0110_0190;

/// Build the PCIe Device Serial Number as the driver reads it
/// (nfpcore/nfp6000_pcie.c:1245-1274): bits 63:16 are the 6-byte card serial
/// (big-endian order), bits 15:0 the CPP interface ID.
pub fn device_serial_number(serial: [u8; 6], interface: u16) -> u64 {
    let mut dsn = 0u64;
    for b in serial {
        dsn = (dsn << 8) | u64::from(b);
    }
    (dsn << 16) | u64::from(interface)
}

/// `NFP_CPP_INTERFACE(type=PCI(1), unit=0, channel=PEROPENER(0xff))`
/// (nfpcore/nfp_cpp.h:171-195, 384): the only interface the driver accepts
/// (nfpcore/nfp6000_pcie.c:1337-1354).
pub const NFP_CPP_INTERFACE_PCIE0: u16 = 0x10ff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_layout_matches_driver_reading() {
        // docs/pcie.md#configuration-space example: SN 00:15:4d:00:00:01, Ifc 0x10ff.
        let dsn = device_serial_number(
            [0x00, 0x15, 0x4d, 0x00, 0x00, 0x01],
            NFP_CPP_INTERFACE_PCIE0,
        );
        assert_eq!(dsn, 0x0015_4d00_0001_10ff);
        assert_eq!(dsn as u32, 0x0001_10ff); // dword at cap+4
        assert_eq!((dsn >> 32) as u32, 0x0015_4d00); // dword at cap+8
    }
}
