//! PCI Express configuration space (4 KiB) of the NFP-4000 physical function.
//!
//! Behaves like hardware: every byte has a write mask (read-only bits keep
//! their value), some bits are write-one-to-clear, BARs answer sizing probes,
//! accesses outside the 4 KiB space read as all ones and are ignored on
//! write. Register offsets and bits are named as in
//! include/uapi/linux/pci_regs.h.

use super::{
    BarDef, NFP_BARS, NFP_MSIX_PBA_BAR, NFP_MSIX_PBA_OFFSET, NFP_MSIX_TABLE_BAR,
    NFP_MSIX_TABLE_OFFSET, NFP_MSIX_VECTORS, PCI_CLASS_NETWORK_ETHERNET, PCI_DEVICE_ID_NFP_VF,
    PCI_DEVICE_ID_NFP4000, PCI_REVISION, PCI_SUBSYSTEM_ID_AGILIO_CX, PCI_VENDOR_ID_NETRONOME,
};

/// Size of the conventional header plus capabilities.
pub const PCI_CFG_SPACE_SIZE: usize = 256;
/// Size of the PCI Express (extended) configuration space.
pub const PCI_CFG_SPACE_EXP_SIZE: usize = 4096;

// Type 0 header registers (pci_regs.h).
/// `PCI_VENDOR_ID` (include/uapi/linux/pci_regs.h).
pub const PCI_VENDOR_ID: usize = 0x00;
/// `PCI_DEVICE_ID` (include/uapi/linux/pci_regs.h).
pub const PCI_DEVICE_ID: usize = 0x02;
/// `PCI_COMMAND` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND: usize = 0x04;
/// `PCI_STATUS` (include/uapi/linux/pci_regs.h).
pub const PCI_STATUS: usize = 0x06;
/// `PCI_CLASS_REVISION` (include/uapi/linux/pci_regs.h).
pub const PCI_CLASS_REVISION: usize = 0x08;
/// `PCI_CACHE_LINE_SIZE` (include/uapi/linux/pci_regs.h).
pub const PCI_CACHE_LINE_SIZE: usize = 0x0c;
/// `PCI_HEADER_TYPE` (include/uapi/linux/pci_regs.h).
pub const PCI_HEADER_TYPE: usize = 0x0e;
/// `PCI_BASE_ADDRESS_0` (include/uapi/linux/pci_regs.h).
pub const PCI_BASE_ADDRESS_0: usize = 0x10;
/// `PCI_SUBSYSTEM_VENDOR_ID` (include/uapi/linux/pci_regs.h).
pub const PCI_SUBSYSTEM_VENDOR_ID: usize = 0x2c;
/// `PCI_SUBSYSTEM_ID` (include/uapi/linux/pci_regs.h).
pub const PCI_SUBSYSTEM_ID: usize = 0x2e;
/// `PCI_ROM_ADDRESS` (include/uapi/linux/pci_regs.h).
pub const PCI_ROM_ADDRESS: usize = 0x30;
/// `PCI_CAPABILITY_LIST` (include/uapi/linux/pci_regs.h).
pub const PCI_CAPABILITY_LIST: usize = 0x34;
/// `PCI_INTERRUPT_LINE` (include/uapi/linux/pci_regs.h).
pub const PCI_INTERRUPT_LINE: usize = 0x3c;
/// `PCI_INTERRUPT_PIN` (include/uapi/linux/pci_regs.h).
pub const PCI_INTERRUPT_PIN: usize = 0x3d;

/// `PCI_COMMAND_MEMORY` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND_MEMORY: u16 = 0x0002;
/// `PCI_COMMAND_MASTER` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND_MASTER: u16 = 0x0004;
/// `PCI_COMMAND_PARITY` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND_PARITY: u16 = 0x0040;
/// `PCI_COMMAND_SERR` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND_SERR: u16 = 0x0100;
/// `PCI_COMMAND_INTX_DISABLE` (include/uapi/linux/pci_regs.h).
pub const PCI_COMMAND_INTX_DISABLE: u16 = 0x0400;

/// `PCI_STATUS_CAP_LIST` (include/uapi/linux/pci_regs.h).
pub const PCI_STATUS_CAP_LIST: u16 = 0x0010;
/// Error bits of the status register, all RW1C.
pub const PCI_STATUS_ERRORS: u16 = 0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000;

/// `PCI_BASE_ADDRESS_MEM_TYPE_64` (include/uapi/linux/pci_regs.h).
pub const PCI_BASE_ADDRESS_MEM_TYPE_64: u32 = 0x04;
/// `PCI_BASE_ADDRESS_MEM_PREFETCH` (include/uapi/linux/pci_regs.h).
pub const PCI_BASE_ADDRESS_MEM_PREFETCH: u32 = 0x08;

/// `PCI_CAP_ID_PM` (include/uapi/linux/pci_regs.h).
pub const PCI_CAP_ID_PM: u8 = 0x01;
/// `PCI_CAP_ID_EXP` (include/uapi/linux/pci_regs.h).
pub const PCI_CAP_ID_EXP: u8 = 0x10;
/// `PCI_CAP_ID_MSIX` (include/uapi/linux/pci_regs.h).
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
/// `PCI_EXT_CAP_ID_DSN` (include/uapi/linux/pci_regs.h).
pub const PCI_EXT_CAP_ID_DSN: u16 = 0x0003;
/// `PCI_EXT_CAP_ID_SRIOV` (include/uapi/linux/pci_regs.h).
pub const PCI_EXT_CAP_ID_SRIOV: u16 = 0x0010;

/// Capability placement of a real NFP-4000: PM@0x80, MSI-X@0xb0, PCIe v2@0xc0
/// [external: lspci of a real card, docs/pcie.md#configuration-space]; DSN is the first
/// extended capability.
pub const CAP_PM_OFFSET: usize = 0x80;
/// Offset of the capability MSIX in config space \[choice\].
pub const CAP_MSIX_OFFSET: usize = 0xb0;
/// Offset of the capability EXP in config space \[choice\].
pub const CAP_EXP_OFFSET: usize = 0xc0;
/// Offset of the extended capability DSN in config space \[choice\].
pub const EXT_CAP_DSN_OFFSET: usize = 0x100;
/// Offset of the SR-IOV extended capability, as on a real Agilio CX
/// [external: lspci -vvv of an AMDA0099].
pub const EXT_CAP_SRIOV_OFFSET: usize = 0x200;

// SR-IOV capability (include/uapi/linux/pci_regs.h).
/// `PCI_SRIOV_CTRL`: VF Enable, VF Memory Space Enable, ARI hierarchy.
pub const PCI_SRIOV_CTRL: usize = 0x08;
/// `PCI_SRIOV_CTRL_VFE`: VF Enable.
pub const PCI_SRIOV_CTRL_VFE: u16 = 0x0001;
/// `PCI_SRIOV_CTRL_MSE`: VF Memory Space Enable.
pub const PCI_SRIOV_CTRL_MSE: u16 = 0x0008;
/// `PCI_SRIOV_CTRL_ARI`: ARI Capable Hierarchy.
pub const PCI_SRIOV_CTRL_ARI: u16 = 0x0010;
/// `PCI_SRIOV_INITIAL_VF`.
pub const PCI_SRIOV_INITIAL_VF: usize = 0x0c;
/// `PCI_SRIOV_TOTAL_VF`.
pub const PCI_SRIOV_TOTAL_VF: usize = 0x0e;
/// `PCI_SRIOV_NUM_VF`: the VFs software asks for.
pub const PCI_SRIOV_NUM_VF: usize = 0x10;
/// `PCI_SRIOV_VF_OFFSET`: routing-ID offset of the first VF.
pub const PCI_SRIOV_VF_OFFSET: usize = 0x14;
/// `PCI_SRIOV_VF_STRIDE`.
pub const PCI_SRIOV_VF_STRIDE: usize = 0x16;
/// `PCI_SRIOV_VF_DID`: the VFs' device ID.
pub const PCI_SRIOV_VF_DID: usize = 0x1a;
/// `PCI_SRIOV_SUP_PGSIZE`.
pub const PCI_SRIOV_SUP_PGSIZE: usize = 0x1c;
/// `PCI_SRIOV_SYS_PGSIZE`.
pub const PCI_SRIOV_SYS_PGSIZE: usize = 0x20;
/// `PCI_SRIOV_BAR`: VF BAR0.
pub const PCI_SRIOV_BAR: usize = 0x24;
/// `PCI_EXT_CAP_SRIOV_SIZEOF`.
const PCI_EXT_CAP_SRIOV_SIZEOF: usize = 0x40;
/// VFs of an NFP-4000 PF: Initial and Total VFs 64, first VF at routing-ID
/// offset 64, stride 1, supported page sizes 0x553 [external: lspci -vvv
/// of an AMDA0099]. The firmware lowers the count the driver lets software
/// enable to its `nfd_vf_cfg_max_vfs` (`pci_sriov_set_totalvfs`,
/// nfp_main.c:221-240).
pub const NFP_SRIOV_TOTAL_VFS: u16 = 64;
/// Routing-ID offset of the first VF [external: lspci -vvv of an AMDA0099].
pub const NFP_SRIOV_VF_OFFSET: u16 = 64;
/// Supported page sizes: 4K, 16K, 64K, 256K, 1M, 4M [external: lspci].
pub const NFP_SRIOV_SUP_PGSIZE: u32 = 0x553;
/// Each VF's BAR0 (its vNIC control BAR, `NFP_NET_CFG_BAR_SZ`) and BAR2
/// (its queue-controller window) [choice: sizes not public], 64-bit
/// non-prefetchable as on the real card [external: lspci].
pub const NFP_SRIOV_VF_BARS: [(usize, u64); 2] = [(0, 0x8000), (2, 0x10_0000)];

// MSI-X capability (pci_regs.h).
/// `PCI_MSIX_FLAGS` (include/uapi/linux/pci_regs.h).
pub const PCI_MSIX_FLAGS: usize = 2;
/// `PCI_MSIX_TABLE` (include/uapi/linux/pci_regs.h).
pub const PCI_MSIX_TABLE: usize = 4;
/// `PCI_MSIX_PBA` (include/uapi/linux/pci_regs.h).
pub const PCI_MSIX_PBA: usize = 8;
/// `PCI_MSIX_FLAGS_ENABLE` (include/uapi/linux/pci_regs.h).
pub const PCI_MSIX_FLAGS_ENABLE: u16 = 0x8000;
/// `PCI_MSIX_FLAGS_MASKALL` (include/uapi/linux/pci_regs.h).
pub const PCI_MSIX_FLAGS_MASKALL: u16 = 0x4000;
/// Bytes of the MSI-X capability (`PCI_CAP_MSIX_SIZEOF`,
/// include/uapi/linux/pci_regs.h:335).
const PCI_CAP_MSIX_SIZEOF: usize = 12;

/// Power management capability: the PM Capabilities register (`PCI_PM_PMC`,
/// include/uapi/linux/pci_regs.h:238).
const PCI_PM_PMC: usize = 2;
/// Power management capability: the control and status register (`PCI_PM_CTRL`,
/// include/uapi/linux/pci_regs.h:254).
const PCI_PM_CTRL: usize = 4;
/// `PCI_PM_CTRL`: the current power state, D0 to D3
/// (include/uapi/linux/pci_regs.h:255).
const PCI_PM_CTRL_STATE_MASK: u16 = 0x0003;
/// `PCI_PM_CTRL`: no reset on D3hot to D0 (include/uapi/linux/pci_regs.h:256).
const PCI_PM_CTRL_NO_SOFT_RESET: u16 = 0x0008;
/// `PCI_PM_CTRL`: PME enable (include/uapi/linux/pci_regs.h:257).
const PCI_PM_CTRL_PME_ENABLE: u16 = 0x0100;
/// `PCI_PM_CTRL`: PME status, write 1 to clear
/// (include/uapi/linux/pci_regs.h:260).
const PCI_PM_CTRL_PME_STATUS: u16 = 0x8000;
/// Bytes of the power management capability (`PCI_PM_SIZEOF`,
/// include/uapi/linux/pci_regs.h:265).
const PCI_PM_SIZEOF: usize = 8;

/// PCI Express capability: the capabilities register, version and device type
/// (`PCI_EXP_FLAGS`, include/uapi/linux/pci_regs.h:474).
const PCI_EXP_FLAGS: usize = 2;
/// PCI Express capability: Device Capabilities (`PCI_EXP_DEVCAP`,
/// include/uapi/linux/pci_regs.h:488).
const PCI_EXP_DEVCAP: usize = 4;
/// PCI Express capability: Device Control (`PCI_EXP_DEVCTL`,
/// include/uapi/linux/pci_regs.h:501).
const PCI_EXP_DEVCTL: usize = 8;
/// PCI Express capability: Device Status (`PCI_EXP_DEVSTA`,
/// include/uapi/linux/pci_regs.h:526).
const PCI_EXP_DEVSTA: usize = 10;
/// PCI Express capability: Link Capabilities (`PCI_EXP_LNKCAP`,
/// include/uapi/linux/pci_regs.h:534).
const PCI_EXP_LNKCAP: usize = 12;
/// PCI Express capability: Link Control (`PCI_EXP_LNKCTL`,
/// include/uapi/linux/pci_regs.h:553).
const PCI_EXP_LNKCTL: usize = 16;
/// PCI Express capability: Link Status (`PCI_EXP_LNKSTA`,
/// include/uapi/linux/pci_regs.h:566).
const PCI_EXP_LNKSTA: usize = 18;
/// PCI Express capability: Device Capabilities 2 (`PCI_EXP_DEVCAP2`,
/// include/uapi/linux/pci_regs.h:654).
const PCI_EXP_DEVCAP2: usize = 36;
/// PCI Express capability: Device Control 2 (`PCI_EXP_DEVCTL2`,
/// include/uapi/linux/pci_regs.h:666).
const PCI_EXP_DEVCTL2: usize = 40;
/// PCI Express capability: Link Capabilities 2 (`PCI_EXP_LNKCAP2`,
/// include/uapi/linux/pci_regs.h:680).
const PCI_EXP_LNKCAP2: usize = 44;
/// PCI Express capability: Link Control 2 (`PCI_EXP_LNKCTL2`,
/// include/uapi/linux/pci_regs.h:689).
const PCI_EXP_LNKCTL2: usize = 48;
/// Bytes of the version-2 PCI Express capability as the card lays it out:
/// all 60, through the slot and root registers the driver never reads
/// (Linux's `PCI_CAP_EXP_ENDPOINT_SIZEOF_V2`, include/uapi/linux/pci_regs.h:702,
/// is 0x34, where an endpoint's link registers end).
const PCI_CAP_EXP_LAYOUT_BYTES: usize = 60;
/// `PCI_EXP_FLAGS`: capability version 2, device type 0
/// (`PCI_EXP_TYPE_ENDPOINT`).
const PCI_EXP_FLAGS_V2_ENDPOINT: u16 = 0x0002;
/// Gen3 (8 GT/s) x8, the link of an Agilio CX \[external\].
const PCI_EXP_LNK_SPEED_8_0GB: u32 = 3;
/// Link width x8 (`PCI_EXP_LNKCAP_MLW` and `PCI_EXP_LNKSTA_NLW` fields).
const PCI_EXP_LNK_WIDTH_X8: u32 = 8;

/// Bytes of the Device Serial Number extended capability
/// (`PCI_EXT_CAP_DSN_SIZEOF`, include/uapi/linux/pci_regs.h:751).
const PCI_EXT_CAP_DSN_SIZEOF: usize = 12;

/// The 4 KiB configuration space with per-byte write and RW1C masks.
#[derive(Clone)]
pub struct ConfigSpace {
    data: Box<[u8; PCI_CFG_SPACE_EXP_SIZE]>,
    wmask: Box<[u8; PCI_CFG_SPACE_EXP_SIZE]>,
    w1cmask: Box<[u8; PCI_CFG_SPACE_EXP_SIZE]>,
    last_cap: Option<usize>,
    last_ext_cap: Option<usize>,
}

impl std::fmt::Debug for ConfigSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSpace")
            .field(
                "vendor",
                &format_args!("{:#06x}", self.read16(PCI_VENDOR_ID)),
            )
            .field(
                "device",
                &format_args!("{:#06x}", self.read16(PCI_DEVICE_ID)),
            )
            .finish_non_exhaustive()
    }
}

impl ConfigSpace {
    fn empty() -> Self {
        Self {
            data: Box::new([0; PCI_CFG_SPACE_EXP_SIZE]),
            wmask: Box::new([0; PCI_CFG_SPACE_EXP_SIZE]),
            w1cmask: Box::new([0; PCI_CFG_SPACE_EXP_SIZE]),
            last_cap: None,
            last_ext_cap: None,
        }
    }

    /// The configuration space of an NFP-4000 PF whose PCIe Device Serial
    /// Number is `dsn` (see [`super::device_serial_number`]).
    pub fn nfp4000(dsn: u64) -> Self {
        let mut cs = Self::empty();
        cs.set16(PCI_VENDOR_ID, PCI_VENDOR_ID_NETRONOME);
        cs.set16(PCI_DEVICE_ID, PCI_DEVICE_ID_NFP4000);
        cs.set32(
            PCI_CLASS_REVISION,
            (PCI_CLASS_NETWORK_ETHERNET << 8) | u32::from(PCI_REVISION),
        );
        cs.set16(PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID_NETRONOME);
        cs.set16(PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_ID_AGILIO_CX);
        cs.data[PCI_HEADER_TYPE] = 0x00; // type 0, single function

        cs.mask16(
            PCI_COMMAND,
            PCI_COMMAND_MEMORY
                | PCI_COMMAND_MASTER
                | PCI_COMMAND_PARITY
                | PCI_COMMAND_SERR
                | PCI_COMMAND_INTX_DISABLE,
        );
        cs.w1c16(PCI_STATUS, PCI_STATUS_ERRORS);
        cs.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
        cs.wmask[PCI_INTERRUPT_LINE] = 0xff;
        // No INTx: the driver only uses MSI-X (docs/pcie.md#configuration-space).
        cs.data[PCI_INTERRUPT_PIN] = 0;
        // No expansion ROM: PCI_ROM_ADDRESS stays read-only zero.

        for bar in NFP_BARS {
            cs.add_bar(bar);
        }

        // Power management, version 3, D0 only; PMCSR power state writable.
        let pm = cs.add_cap(PCI_CAP_ID_PM, CAP_PM_OFFSET, PCI_PM_SIZEOF);
        cs.set16(pm + PCI_PM_PMC, 0x0003);
        cs.set16(pm + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
        cs.mask16(
            pm + PCI_PM_CTRL,
            PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE,
        );
        cs.w1c16(pm + PCI_PM_CTRL, PCI_PM_CTRL_PME_STATUS);

        // MSI-X: table and PBA in the fixed BAR0.0/BAR0.1 slices.
        let msix = cs.add_cap(PCI_CAP_ID_MSIX, CAP_MSIX_OFFSET, PCI_CAP_MSIX_SIZEOF);
        cs.set16(msix + PCI_MSIX_FLAGS, NFP_MSIX_VECTORS - 1);
        cs.mask16(
            msix + PCI_MSIX_FLAGS,
            PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
        );
        cs.set32(
            msix + PCI_MSIX_TABLE,
            NFP_MSIX_TABLE_OFFSET | u32::from(NFP_MSIX_TABLE_BAR),
        );
        cs.set32(
            msix + PCI_MSIX_PBA,
            NFP_MSIX_PBA_OFFSET | u32::from(NFP_MSIX_PBA_BAR),
        );

        // PCI Express v2 endpoint, Gen3 x8.
        let exp = cs.add_cap(PCI_CAP_ID_EXP, CAP_EXP_OFFSET, PCI_CAP_EXP_LAYOUT_BYTES);
        cs.set16(exp + PCI_EXP_FLAGS, PCI_EXP_FLAGS_V2_ENDPOINT);
        // DEVCAP: max payload 256 B, extended tags, role-based error reporting.
        cs.set32(exp + PCI_EXP_DEVCAP, 0x0000_8021);
        // DEVCTL: relaxed ordering, no snoop, MRRS 512 B; all but bit 15 writable.
        cs.set16(exp + PCI_EXP_DEVCTL, 0x2810);
        cs.mask16(exp + PCI_EXP_DEVCTL, 0x7fff);
        cs.w1c16(exp + PCI_EXP_DEVSTA, 0x000f);
        let link = PCI_EXP_LNK_SPEED_8_0GB | (PCI_EXP_LNK_WIDTH_X8 << 4);
        cs.set32(exp + PCI_EXP_LNKCAP, link);
        cs.mask16(exp + PCI_EXP_LNKCTL, 0x0fcb);
        // LNKSTA: current speed/width, slot clock configuration.
        cs.set16(exp + PCI_EXP_LNKSTA, link as u16 | 0x1000);
        // DEVCAP2: completion timeout ranges A-D and timeout disable.
        cs.set32(exp + PCI_EXP_DEVCAP2, 0x0000_001f);
        cs.mask16(exp + PCI_EXP_DEVCTL2, 0x001f);
        // LNKCAP2: 2.5, 5 and 8 GT/s supported.
        cs.set32(exp + PCI_EXP_LNKCAP2, 0x0000_000e);
        cs.set16(exp + PCI_EXP_LNKCTL2, PCI_EXP_LNK_SPEED_8_0GB as u16);
        cs.mask16(exp + PCI_EXP_LNKCTL2, 0x003f);

        // Device Serial Number: the driver's CPP interface and card serial
        // (nfpcore/nfp6000_pcie.c:1245-1274).
        let dsn_cap = cs.add_ext_cap(
            PCI_EXT_CAP_ID_DSN,
            1,
            EXT_CAP_DSN_OFFSET,
            PCI_EXT_CAP_DSN_SIZEOF,
        );
        cs.set32(dsn_cap + 4, dsn as u32);
        cs.set32(dsn_cap + 8, (dsn >> 32) as u32);

        cs.add_sriov();
        cs
    }

    /// The SR-IOV capability of an NFP-4000 PF (VF device ID
    /// `PCI_DEVICE_ID_NFP6000_VF`, nfp_netvf_main.c:45-47). The card serves
    /// one PCI function over vfio-user, so enabling VFs creates none: a VMM
    /// that exposes the capability sees VF Enable set and no VF answer.
    fn add_sriov(&mut self) {
        let c = self.add_ext_cap(
            PCI_EXT_CAP_ID_SRIOV,
            1,
            EXT_CAP_SRIOV_OFFSET,
            PCI_EXT_CAP_SRIOV_SIZEOF,
        );
        self.mask16(
            c + PCI_SRIOV_CTRL,
            PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_ARI,
        );
        self.set16(c + PCI_SRIOV_INITIAL_VF, NFP_SRIOV_TOTAL_VFS);
        self.set16(c + PCI_SRIOV_TOTAL_VF, NFP_SRIOV_TOTAL_VFS);
        self.mask16(c + PCI_SRIOV_NUM_VF, 0xffff);
        self.set16(c + PCI_SRIOV_VF_OFFSET, NFP_SRIOV_VF_OFFSET);
        self.set16(c + PCI_SRIOV_VF_STRIDE, 1);
        self.set16(c + PCI_SRIOV_VF_DID, PCI_DEVICE_ID_NFP_VF);
        self.set32(c + PCI_SRIOV_SUP_PGSIZE, NFP_SRIOV_SUP_PGSIZE);
        self.set32(c + PCI_SRIOV_SYS_PGSIZE, 1);
        self.mask32(c + PCI_SRIOV_SYS_PGSIZE, NFP_SRIOV_SUP_PGSIZE);
        for (index, size) in NFP_SRIOV_VF_BARS {
            self.add_bar_at(
                c + PCI_SRIOV_BAR + 4 * index,
                BarDef {
                    index,
                    size,
                    is_64bit: true,
                    prefetchable: false,
                },
            );
        }
    }

    fn add_bar(&mut self, bar: BarDef) {
        self.add_bar_at(PCI_BASE_ADDRESS_0 + 4 * bar.index, bar);
    }

    /// A memory BAR register (pair) at `reg` whose writable bits size it.
    fn add_bar_at(&mut self, reg: usize, bar: BarDef) {
        let mut flags = 0u32;
        if bar.is_64bit {
            flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
        }
        if bar.prefetchable {
            flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
        }
        let size_mask = !(bar.size - 1);
        self.set32(reg, flags);
        self.mask32(reg, (size_mask as u32) & !0xf);
        if bar.is_64bit {
            self.mask32(reg + 4, (size_mask >> 32) as u32);
        }
    }

    /// Append a standard capability at `offset`, linking it into the list.
    fn add_cap(&mut self, id: u8, offset: usize, len: usize) -> usize {
        debug_assert!(offset >= 0x40 && offset + len <= PCI_CFG_SPACE_SIZE);
        self.data[offset] = id;
        self.data[offset + 1] = 0;
        match self.last_cap {
            None => {
                self.data[PCI_CAPABILITY_LIST] = offset as u8;
                let status = self.read16(PCI_STATUS) | PCI_STATUS_CAP_LIST;
                self.set16(PCI_STATUS, status);
            }
            Some(prev) => self.data[prev + 1] = offset as u8,
        }
        self.last_cap = Some(offset);
        offset
    }

    /// Append an extended capability at `offset` (>= 0x100).
    fn add_ext_cap(&mut self, id: u16, version: u8, offset: usize, len: usize) -> usize {
        debug_assert!(offset >= PCI_CFG_SPACE_SIZE && offset + len <= PCI_CFG_SPACE_EXP_SIZE);
        debug_assert!(offset == PCI_CFG_SPACE_SIZE || self.last_ext_cap.is_some());
        self.set32(offset, u32::from(id) | (u32::from(version & 0xf) << 16));
        if let Some(prev) = self.last_ext_cap {
            let hdr = self.read32(prev) & 0x000f_ffff;
            self.set32(prev, hdr | ((offset as u32) << 20));
        }
        self.last_ext_cap = Some(offset);
        offset
    }

    /// Guest read of `buf.len()` bytes at `offset`. Bytes beyond the 4 KiB
    /// space read as 0xff, as a master abort would.
    pub fn read(&self, offset: u64, buf: &mut [u8]) {
        let mut outside = false;
        for (i, b) in buf.iter_mut().enumerate() {
            match Self::index(offset, i) {
                Some(idx) => *b = self.data[idx],
                None => {
                    *b = 0xff;
                    outside = true;
                }
            }
        }
        if outside {
            crate::guest_warn!(
                "config read of {} bytes at {offset:#x} runs past the {PCI_CFG_SPACE_EXP_SIZE}-byte config space",
                buf.len()
            );
        }
    }

    /// Guest write of `data` at `offset`: read-only bits keep their value,
    /// RW1C bits clear where a one is written, bytes beyond 4 KiB are dropped.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut outside = false;
        for (i, &v) in data.iter().enumerate() {
            let Some(idx) = Self::index(offset, i) else {
                outside = true;
                continue;
            };
            let wm = self.wmask[idx];
            let w1c = self.w1cmask[idx];
            self.data[idx] = ((self.data[idx] & !wm) | (v & wm)) & !(v & w1c);
        }
        if outside {
            crate::guest_warn!(
                "config write of {} bytes at {offset:#x} runs past the {PCI_CFG_SPACE_EXP_SIZE}-byte config space; ignored",
                data.len()
            );
        }
    }

    fn index(offset: u64, i: usize) -> Option<usize> {
        let idx = offset.checked_add(i as u64)?;
        (idx < PCI_CFG_SPACE_EXP_SIZE as u64).then_some(idx as usize)
    }

    /// Little-endian 16-bit read at `off` (0 outside the space).
    pub fn read16(&self, off: usize) -> u16 {
        u16::from_le_bytes([self.data[off], self.data[off + 1]])
    }

    /// Little-endian 32-bit read at `off` (0 outside the space).
    pub fn read32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.data[off..off + 4].try_into().expect("4 bytes"))
    }

    /// The command register as the guest last wrote it.
    pub fn command(&self) -> u16 {
        self.read16(PCI_COMMAND)
    }

    /// Whether the guest enabled bus mastering (DMA).
    pub fn bus_master(&self) -> bool {
        self.command() & PCI_COMMAND_MASTER != 0
    }

    /// Whether MSI-X is enabled and not function-masked.
    pub fn msix_enabled(&self) -> bool {
        let flags = self.read16(CAP_MSIX_OFFSET + PCI_MSIX_FLAGS);
        flags & PCI_MSIX_FLAGS_ENABLE != 0 && flags & PCI_MSIX_FLAGS_MASKALL == 0
    }

    /// Record an error in the status register (e.g. a DMA master abort).
    pub fn raise_status(&mut self, bits: u16) {
        let status = self.read16(PCI_STATUS) | (bits & PCI_STATUS_ERRORS);
        self.set16(PCI_STATUS, status);
    }

    fn set16(&mut self, off: usize, v: u16) {
        self.data[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn set32(&mut self, off: usize, v: u32) {
        self.data[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn mask16(&mut self, off: usize, m: u16) {
        self.wmask[off..off + 2].copy_from_slice(&m.to_le_bytes());
    }

    fn mask32(&mut self, off: usize, m: u32) {
        self.wmask[off..off + 4].copy_from_slice(&m.to_le_bytes());
    }

    fn w1c16(&mut self, off: usize, m: u16) {
        self.w1cmask[off..off + 2].copy_from_slice(&m.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcie::{NFP_CPP_INTERFACE_PCIE0, device_serial_number};

    const DSN: u64 = 0x0015_4d00_0001_10ff;

    fn cs() -> ConfigSpace {
        ConfigSpace::nfp4000(DSN)
    }

    fn rd(cs: &ConfigSpace, off: u64, len: usize) -> u32 {
        let mut b = [0u8; 4];
        cs.read(off, &mut b[..len]);
        u32::from_le_bytes(b)
    }

    fn wr(cs: &mut ConfigSpace, off: u64, len: usize, v: u32) {
        cs.write(off, &v.to_le_bytes()[..len]);
    }

    #[test]
    fn identity() {
        let cs = cs();
        assert_eq!(rd(&cs, 0, 4), 0x4000_19ee);
        assert_eq!(rd(&cs, 0x2c, 4), 0x4001_19ee);
        assert_eq!(rd(&cs, 0x08, 4) >> 8, 0x02_00_00);
        assert_eq!(rd(&cs, 0x0e, 1), 0);
        assert_eq!(rd(&cs, 0x3d, 1), 0, "no INTx pin");
        assert_eq!(
            rd(&cs, 0x06, 2) as u16 & PCI_STATUS_CAP_LIST,
            PCI_STATUS_CAP_LIST
        );
    }

    #[test]
    fn read_only_fields_ignore_writes() {
        let mut cs = cs();
        for off in [0x00u64, 0x02, 0x08, 0x0a, 0x0e, 0x2c, 0x2e, 0x34, 0x3d] {
            let before = rd(&cs, off, 2);
            wr(&mut cs, off, 2, 0xa5a5);
            assert_eq!(rd(&cs, off, 2), before, "offset {off:#x} must be read-only");
        }
        // Expansion ROM is not implemented: reads zero even after sizing.
        wr(&mut cs, 0x30, 4, 0xffff_ffff);
        assert_eq!(rd(&cs, 0x30, 4), 0);
        // Capability IDs and list pointers are read-only.
        wr(&mut cs, 0xb0, 2, 0xffff);
        assert_eq!(rd(&cs, 0xb0, 2), 0xc011);
    }

    #[test]
    fn command_register_writable_bits() {
        let mut cs = cs();
        wr(&mut cs, 0x04, 2, 0xffff);
        assert_eq!(rd(&cs, 0x04, 2), 0x0546);
        assert!(cs.bus_master());
        wr(&mut cs, 0x04, 2, 0x0002);
        assert_eq!(cs.command(), PCI_COMMAND_MEMORY);
        assert!(!cs.bus_master());
    }

    #[test]
    fn status_error_bits_are_write_one_to_clear() {
        let mut cs = cs();
        cs.raise_status(0x2000 | 0x0800); // received master abort, signalled target abort
        assert_eq!(rd(&cs, 0x06, 2) as u16 & PCI_STATUS_ERRORS, 0x2800);
        // Writing zero leaves them, writing one clears only that bit.
        wr(&mut cs, 0x06, 2, 0);
        assert_eq!(rd(&cs, 0x06, 2) as u16 & PCI_STATUS_ERRORS, 0x2800);
        wr(&mut cs, 0x06, 2, 0x2000);
        assert_eq!(rd(&cs, 0x06, 2) as u16 & PCI_STATUS_ERRORS, 0x0800);
        // The capability-list bit is not RW1C.
        wr(&mut cs, 0x06, 2, 0xffff);
        assert_eq!(rd(&cs, 0x06, 2) as u16, PCI_STATUS_CAP_LIST);
    }

    #[test]
    fn bar_sizing_reports_each_bar_size_and_type() {
        let mut cs = cs();
        for bar in NFP_BARS {
            let lo = (PCI_BASE_ADDRESS_0 + 4 * bar.index) as u64;
            assert_eq!(
                rd(&cs, lo, 4),
                0x0c,
                "BAR{} is 64-bit prefetchable memory",
                bar.index
            );
            wr(&mut cs, lo, 4, 0xffff_ffff);
            wr(&mut cs, lo + 4, 4, 0xffff_ffff);
            let size_lo = rd(&cs, lo, 4);
            let size_hi = rd(&cs, lo + 4, 4);
            assert_eq!(size_lo & 0xf, 0x0c, "type bits survive sizing");
            let mask = (u64::from(size_hi) << 32) | u64::from(size_lo & !0xf);
            assert_eq!(!mask + 1, bar.size, "BAR{} size", bar.index);
            // Program an address: low bits below the size read back as zero.
            wr(&mut cs, lo, 4, 0x8765_4321);
            wr(&mut cs, lo + 4, 4, 0x0000_0001);
            assert_eq!(
                rd(&cs, lo, 4),
                (0x8765_4321 & !(bar.size as u32 - 1) & !0xf) | 0x0c
            );
            assert_eq!(rd(&cs, lo + 4, 4), 1);
        }
        assert_eq!(NFP_BARS.map(|b| b.size), [128 << 20, 64 << 20, 16 << 20]);
    }

    /// Walk the standard capability list as the PCI core does.
    fn caps(cs: &ConfigSpace) -> Vec<(u8, usize)> {
        let mut out = vec![];
        let mut ptr = rd(cs, PCI_CAPABILITY_LIST as u64, 1) as usize;
        while ptr != 0 {
            assert!(
                (0x40..0x100).contains(&ptr) && ptr % 4 == 0,
                "bad pointer {ptr:#x}"
            );
            out.push((rd(cs, ptr as u64, 1) as u8, ptr));
            ptr = rd(cs, ptr as u64 + 1, 1) as usize;
            assert!(out.len() < 48, "capability loop");
        }
        out
    }

    #[test]
    fn capability_chain() {
        let cs = cs();
        assert_eq!(
            caps(&cs),
            vec![
                (PCI_CAP_ID_PM, 0x80),
                (PCI_CAP_ID_MSIX, 0xb0),
                (PCI_CAP_ID_EXP, 0xc0)
            ]
        );
        // PCIe v2 endpoint with a Gen3 x8 link.
        assert_eq!(rd(&cs, 0xc2, 2), 0x0002);
        assert_eq!(rd(&cs, 0xc0 + 12, 4) & 0x3ff, 0x83);
    }

    #[test]
    fn msix_capability_points_into_bar0() {
        let mut cs = cs();
        assert_eq!(rd(&cs, 0xb2, 2) & 0x7ff, u32::from(NFP_MSIX_VECTORS) - 1);
        assert_eq!(rd(&cs, 0xb4, 4), 0); // table: BIR 0, offset 0
        assert_eq!(rd(&cs, 0xb8, 4), 0x0110_0190); // PBA: BIR 0, offset 0x01100190
        assert!(!cs.msix_enabled());
        wr(&mut cs, 0xb2, 2, 0xffff);
        // Only enable and function mask are writable; table size stays.
        assert_eq!(rd(&cs, 0xb2, 2), 0xc000 | 0xff);
        assert!(!cs.msix_enabled(), "function-masked");
        wr(&mut cs, 0xb2, 2, 0x8000);
        assert!(cs.msix_enabled());
    }

    #[test]
    fn extended_space_and_dsn() {
        let mut cs = cs();
        // The extended capability chain starts at 0x100 with DSN, version 1,
        // then SR-IOV at 0x200.
        assert_eq!(rd(&cs, 0x100, 4), 0x2001_0003);
        // pci_get_dsn(): dword at +4 is bits 31:0, dword at +8 bits 63:32.
        let dsn = u64::from(rd(&cs, 0x104, 4)) | (u64::from(rd(&cs, 0x108, 4)) << 32);
        assert_eq!(dsn, DSN);
        assert_eq!(dsn & 0xffff, u64::from(NFP_CPP_INTERFACE_PCIE0));
        assert_eq!(dsn, device_serial_number([0, 0x15, 0x4d, 0, 0, 1], 0x10ff));
        // DSN is read-only.
        wr(&mut cs, 0x104, 4, 0);
        assert_eq!(rd(&cs, 0x104, 4), 0x0001_10ff);
        // Unused extended space reads zero; the last byte is addressable.
        assert_eq!(rd(&cs, 0x800, 4), 0);
        assert_eq!(rd(&cs, 0x300, 4), 0);
        assert_eq!(rd(&cs, 0xffc, 4), 0);
    }

    /// The SR-IOV capability as the PCI core reads it (drivers/pci/iov.c
    /// `sriov_init`): 64 VFs of device 0x6003, offset 64, stride 1, VF BARs
    /// sized by writing ones; NumVFs and VF Enable writable, the rest not.
    #[test]
    fn sriov_capability() {
        let mut cs = cs();
        let c = EXT_CAP_SRIOV_OFFSET as u64;
        assert_eq!(rd(&cs, c, 4), 0x0001_0010, "SR-IOV v1, last");
        assert_eq!(rd(&cs, c + 0x0c, 2), 64, "InitialVFs");
        assert_eq!(rd(&cs, c + 0x0e, 2), 64, "TotalVFs");
        assert_eq!(rd(&cs, c + 0x14, 2), 64, "First VF offset");
        assert_eq!(rd(&cs, c + 0x16, 2), 1, "VF stride");
        assert_eq!(rd(&cs, c + 0x1a, 2), 0x6003, "VF device ID");
        assert_eq!(rd(&cs, c + 0x1c, 4), 0x553);
        wr(&mut cs, c + 0x0e, 2, 7);
        assert_eq!(rd(&cs, c + 0x0e, 2), 64, "TotalVFs is read-only");
        wr(&mut cs, c + 0x10, 2, 48);
        assert_eq!(rd(&cs, c + 0x10, 2), 48, "NumVFs");
        wr(&mut cs, c + 0x08, 2, 0xffff);
        assert_eq!(rd(&cs, c + 0x08, 2), 0x19, "VFE | MSE | ARI");
        for (i, size) in NFP_SRIOV_VF_BARS {
            let reg = c + 0x24 + 4 * i as u64;
            assert_eq!(rd(&cs, reg, 4), 0x4, "VF BAR{i}: 64-bit, not prefetchable");
            wr(&mut cs, reg, 4, 0xffff_ffff);
            wr(&mut cs, reg + 4, 4, 0xffff_ffff);
            let mask = u64::from(rd(&cs, reg + 4, 4)) << 32 | u64::from(rd(&cs, reg, 4) & !0xf);
            assert_eq!(!mask + 1, size, "VF BAR{i} size");
        }
        wr(&mut cs, c + 0x24 + 16, 4, 0xffff_ffff);
        assert_eq!(rd(&cs, c + 0x24 + 16, 4), 0, "no VF BAR4");
    }

    #[test]
    fn whole_space_reads_in_one_access_and_outside_reads_ones() {
        let cs = cs();
        let mut all = vec![0u8; PCI_CFG_SPACE_EXP_SIZE];
        cs.read(0, &mut all);
        assert_eq!(&all[0..4], &[0xee, 0x19, 0x00, 0x40]);
        // A read straddling the end: inside bytes real, outside bytes 0xff.
        let mut b = [0u8; 8];
        cs.read(0xffc, &mut b);
        assert_eq!(b, [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        // Offsets that overflow u64 do not panic.
        cs.read(u64::MAX, &mut b);
        assert_eq!(b, [0xff; 8]);
    }

    #[test]
    fn writes_past_the_end_are_dropped() {
        let mut cs = cs();
        let before = cs.clone();
        cs.write(0x1000, &[1, 2, 3, 4]);
        cs.write(u64::MAX - 1, &[1, 2, 3, 4]);
        assert_eq!(before.data[..], cs.data[..]);
    }
}
