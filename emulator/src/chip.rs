//! The NFP-4000 chip behind the PCIe function: the CPP bus and its targets,
//! the service processor and the application firmware. Host BAR accesses are
//! decoded through the expansion BARs ([`crate::pcie::expbar`]) into CPP
//! transactions here.

use std::sync::Arc;

use tracing::debug;

use crate::app::{AppFirmware, FirmwareCtx};
use crate::cpp::{
    CppId, MU_ACTION_ATOMIC_READ, MU_ACTION_ATOMIC_WRITE, MU_ACTION_TEST_SET_IMM, Mu,
    NFP_CPP_ACTION_READ, NFP_CPP_ACTION_RW, NFP_CPP_ACTION_WRITE, NFP_CPP_TARGET_ARM,
    NFP_CPP_TARGET_CLS, NFP_CPP_TARGET_ISLAND_XPB, NFP_CPP_TARGET_LOCAL, NFP_CPP_TARGET_MU, Xpb,
};
use crate::datapath::Datapath;
use crate::nfd::Doorbell;
use crate::nfd::qc::QcEvent;
use crate::nsp::Nsp;
use crate::pcie::expbar::Window;
use crate::pcie::local::{NFP_QCP_AREA_SIZE, NFP_QCP_BASE, PcieLocal};

/// `NFP_ARM_GCSR` SOFTMODEL2/3 (nfpcore/nfp_cppcore.c:27-28, 1241-1244):
/// read during probe, values ignored.
const NFP_ARM_GCSR_SOFTMODEL2: u64 = 0x0040_014c;
const NFP_ARM_GCSR_SOFTMODEL3: u64 = 0x0040_0150;
/// The immediate `test_set_imm` ORs in for the NFP mutex: the command's byte
/// mask 0b1111 (nfpcore/nfp_mutex.c:292-306).
const MU_TEST_SET_IMM_BITS: u32 = 0xf;
/// Largest explicit transaction (nfpcore/nfp_cpplib.c:171).
const NFP_EXPLICIT_MAX_BYTES: u64 = 128;

/// The chip: its memories, peripheral registers, the PCIe island, the
/// service processor and the application firmware.
#[derive(Debug)]
pub struct Chip {
    /// The memories (MU and CLS targets).
    pub mu: Mu,
    /// The XPB registers the driver reads.
    pub xpb: Xpb,
    /// The PCIe island: expansion BARs, explicit CSRs, SRAM.
    pub pcie: PcieLocal,
    /// The service processor.
    pub nsp: Nsp,
    /// The application firmware.
    pub app: AppFirmware,
    /// The datapath, shared with the port threads; owns the queue
    /// controller, guest memory and MSI-X.
    pub dp: Arc<Datapath>,
}

impl Chip {
    /// Power on: the service processor lays out its structures; firmware in
    /// flash is loaded.
    pub fn power_on(nsp: Nsp, app: AppFirmware, dp: Arc<Datapath>) -> Self {
        let mut chip = Self {
            mu: Mu::with_map(app.map().clone()),
            xpb: Xpb::default(),
            pcie: PcieLocal::default(),
            nsp,
            app,
            dp,
        };
        chip.nsp.power_on(&mut chip.mu);
        chip.app.boot_from_flash(&mut chip.mu, &chip.dp);
        chip
    }

    /// Host read of BAR `bar` at `offset` (already bounds-checked).
    pub fn bar_read(&mut self, bar: usize, offset: u64, buf: &mut [u8]) {
        match self.pcie.expbars.decode(bar, offset, buf.len()) {
            Window::Local { addr } => self.local_read(addr, buf),
            Window::Cpp { id, addr } => self.cpp_read(id, addr, buf),
            Window::Explicit {
                group,
                area,
                offset,
            } => {
                buf.fill(0);
                self.explicit_kickoff(group, area, offset);
            }
            Window::Unmapped { index, cfg } => {
                buf.fill(0);
                PcieLocal::warn_unmapped(index, cfg);
            }
            Window::Outside => {
                buf.fill(0xff);
                crate::guest_warn!(
                    "{}-byte read at BAR{bar} offset {offset:#x} crosses an expansion BAR slice",
                    buf.len()
                );
            }
        }
    }

    /// Host write to BAR `bar` at `offset` (already bounds-checked).
    pub fn bar_write(&mut self, bar: usize, offset: u64, data: &[u8]) {
        match self.pcie.expbars.decode(bar, offset, data.len()) {
            Window::Local { addr } => self.local_write(addr, data),
            Window::Cpp { id, addr } => self.cpp_write(id, addr, data),
            Window::Explicit { group, area, .. } => crate::guest_warn!(
                "write to explicit group {group} area {area} kick-off window at BAR{bar} offset {offset:#x}; ignored"
            ),
            Window::Unmapped { index, cfg } => PcieLocal::warn_unmapped(index, cfg),
            Window::Outside => crate::guest_warn!(
                "{}-byte write at BAR{bar} offset {offset:#x} crosses an expansion BAR slice; ignored",
                data.len()
            ),
        }
    }

    /// Target 0: the PCIe island's registers and the queue controller.
    pub fn local_read(&mut self, addr: u64, buf: &mut [u8]) {
        if addr < NFP_QCP_BASE {
            self.pcie.read(addr, buf);
        } else if addr - NFP_QCP_BASE < NFP_QCP_AREA_SIZE {
            self.dp.host.qc.read(addr - NFP_QCP_BASE, buf);
        } else {
            buf.fill(0);
            crate::guest_warn!(
                "read of {} bytes at PCIe-local {addr:#x}: nothing there",
                buf.len()
            );
        }
    }

    /// Target 0 write: the PCIe island's registers and the queue controller.
    pub fn local_write(&mut self, addr: u64, data: &[u8]) {
        if addr < NFP_QCP_BASE {
            self.pcie.write(addr, data);
        } else if addr - NFP_QCP_BASE < NFP_QCP_AREA_SIZE {
            if let Some(QcEvent::WptrAdded { queue, .. }) =
                self.dp.host.qc.write(addr - NFP_QCP_BASE, data)
            {
                self.doorbell(queue);
            }
        } else {
            crate::guest_warn!(
                "write of {} bytes at PCIe-local {addr:#x}: nothing there; ignored",
                data.len()
            );
        }
    }

    fn doorbell(&mut self, queue: u16) {
        let Some(nfd) = self.app.running.as_mut().and_then(|r| r.nfd.as_mut()) else {
            return;
        };
        match nfd.on_doorbell(&mut self.mu, &self.dp.host, queue) {
            Doorbell::Tx { vnic, ring } => {
                let v = nfd.vnics[vnic].dp.clone();
                self.dp.host_tx(&v, ring);
            }
            Doorbell::Reconfigured { vnic } => {
                self.dp.refresh_links();
                self.dp.note_bpf(&nfd.vnics[vnic].dp);
            }
            Doorbell::Freelist { .. } | Doorbell::Unknown => {}
        }
    }

    /// A CPP read of `buf.len()` bytes at `addr` on the target of `id`.
    pub fn cpp_read(&mut self, id: CppId, addr: u64, buf: &mut [u8]) {
        match (id.target, id.action) {
            (NFP_CPP_TARGET_LOCAL, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_READ) => {
                self.local_read(addr, buf);
            }
            (
                NFP_CPP_TARGET_MU,
                NFP_CPP_ACTION_RW | NFP_CPP_ACTION_READ | MU_ACTION_ATOMIC_READ,
            ) => {
                self.mu.read(addr, buf);
                self.dp.overlay_read(addr, buf);
            }
            (NFP_CPP_TARGET_MU, MU_ACTION_TEST_SET_IMM) if buf.len() == 4 => {
                let old = self.mu.test_and_set(addr, MU_TEST_SET_IMM_BITS);
                buf.copy_from_slice(&old.to_le_bytes());
            }
            (NFP_CPP_TARGET_CLS, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_READ) => {
                self.mu.cls_read(addr, buf);
            }
            (NFP_CPP_TARGET_ISLAND_XPB, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_READ)
                if buf.len() == 4 && addr % 4 == 0 =>
            {
                buf.copy_from_slice(&self.xpb.read32(addr).to_le_bytes());
            }
            (NFP_CPP_TARGET_ARM, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_READ) => {
                buf.fill(0);
                if addr != NFP_ARM_GCSR_SOFTMODEL2 && addr != NFP_ARM_GCSR_SOFTMODEL3 {
                    crate::guest_warn!(
                        "{id} read at {addr:#x}: unimplemented ARM register; returning 0"
                    );
                }
            }
            _ => {
                buf.fill(0);
                crate::guest_warn!(
                    "{id} read of {} bytes at {addr:#012x}: unimplemented; returning 0",
                    buf.len()
                );
            }
        }
    }

    /// A CPP write of `data` at `addr` on the target of `id`.
    pub fn cpp_write(&mut self, id: CppId, addr: u64, data: &[u8]) {
        match (id.target, id.action) {
            (NFP_CPP_TARGET_LOCAL, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_WRITE) => {
                self.local_write(addr, data);
            }
            (
                NFP_CPP_TARGET_MU,
                NFP_CPP_ACTION_RW | NFP_CPP_ACTION_WRITE | MU_ACTION_ATOMIC_WRITE,
            ) => {
                self.mu.write(addr, data);
                self.dp.overlay_write(addr, data);
                if Nsp::is_command_write(addr, data.len()) {
                    let mut ctx = FirmwareCtx {
                        app: &mut self.app,
                        dp: &self.dp,
                    };
                    self.nsp.on_command_write(&mut self.mu, &mut ctx);
                }
            }
            (NFP_CPP_TARGET_CLS, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_WRITE) => {
                self.mu.cls_write(addr, data);
            }
            (NFP_CPP_TARGET_ISLAND_XPB, NFP_CPP_ACTION_RW | NFP_CPP_ACTION_WRITE)
                if data.len() == 4 && addr % 4 == 0 =>
            {
                self.xpb
                    .write32(addr, u32::from_le_bytes(data.try_into().expect("4 bytes")));
            }
            _ => crate::guest_warn!(
                "{id} write of {} bytes at {addr:#012x}: unimplemented; ignored",
                data.len()
            ),
        }
    }

    /// Carry out the explicit transaction set up in the CSRs of
    /// `group`/`area`; the driver reads the result right after the kick-off
    /// read, so it completes synchronously (nfp6000_pcie.c:1121-1213).
    fn explicit_kickoff(&mut self, group: usize, area: usize, offset: u64) {
        let Some(c) = self
            .pcie
            .explicit
            .get(group)
            .and_then(|g| g.get(area))
            .copied()
        else {
            return;
        };
        let addr = c.address_hi() | (offset & 0xffff);
        let id = CppId::new(c.target(), c.action(), c.token());
        let width: u64 = if id.target == NFP_CPP_TARGET_MU { 8 } else { 4 };
        // length is a CSR field of a few bits: no overflow in u64.
        let bytes = ((u64::from(c.length()) + 1) * width).min(NFP_EXPLICIT_MAX_BYTES) as usize;
        let data_ref = c.data_ref() as usize;
        if data_ref
            .checked_add(bytes)
            .is_none_or(|end| end > self.pcie.sram().len())
        {
            crate::guest_warn!(
                "explicit transaction data ref {data_ref:#x}+{bytes} outside PCIe SRAM; dropped"
            );
            return;
        }
        debug!(target: "nfp_emu::pcie", group, area, "explicit {id} of {bytes} bytes at {addr:#x}");
        if matches!(id.action, NFP_CPP_ACTION_WRITE | MU_ACTION_ATOMIC_WRITE) {
            let data = self.pcie.sram()[data_ref..data_ref + bytes].to_vec();
            self.cpp_write(id, addr, &data);
        } else {
            let mut data = vec![0u8; bytes];
            self.cpp_read(id, addr, &mut data);
            self.pcie.sram_mut()[data_ref..data_ref + bytes].copy_from_slice(&data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::CardConfig;
    use crate::nsp::resource::{NFP_RESOURCE_TBL_BASE, resource_key};
    use crate::testutil::Driver;
    use crate::testutil::MutexError;

    const SLICE: u64 = crate::testutil::BAR0_SLICE;

    #[test]
    fn config_space_alias_programs_bar0_slice0() {
        let h = Driver::new(&CardConfig::default());
        let mut b = [0u8; 4];
        h.card.bar_read(0, 0x30000, &mut b);
        assert_eq!(u32::from_le_bytes(b), 0x6000_0000);
        h.card.config_read(0x400, &mut b);
        assert_eq!(u32::from_le_bytes(b), 0x6000_0000);
    }

    #[test]
    fn xpb_model_and_imb_through_a_bulk_window() {
        let h = Driver::new(&CardConfig::default());
        let mut b = [0u8; 4];
        h.read(
            NFP_CPP_TARGET_ISLAND_XPB,
            NFP_CPP_ACTION_RW,
            0,
            0x0150_0004,
            &mut b,
        );
        assert_eq!(u32::from_le_bytes(b), 0x4001_0010);
        h.read(
            NFP_CPP_TARGET_ISLAND_XPB,
            NFP_CPP_ACTION_RW,
            0,
            0x000a_001c,
            &mut b,
        );
        assert_eq!(u32::from_le_bytes(b), 0x1000);
    }

    #[test]
    fn resource_table_mutexes_with_contention() {
        let h = Driver::new(&CardConfig::default());
        let tbl = NFP_RESOURCE_TBL_BASE;
        // The table's own mutex: key 0, unlocked at power-on.
        assert_eq!(h.mu_read32(MU_ACTION_ATOMIC_READ, 0, tbl + 4), 0);
        h.trylock(tbl, 0, 0x10ff).unwrap();
        assert_eq!(h.mu_read32(MU_ACTION_ATOMIC_READ, 0, tbl), 0x10ff_000f);
        // A second interface contends and must wait.
        assert_eq!(h.trylock(tbl, 0, 0x20ff), Err(MutexError::Busy));
        // It cannot unlock someone else's lock.
        assert_eq!(h.unlock(tbl, 0, 0x20ff), Err(MutexError::Acces));
        h.unlock(tbl, 0, 0x10ff).unwrap();
        h.trylock(tbl, 0, 0x20ff).unwrap();
        h.unlock(tbl, 0, 0x20ff).unwrap();
        // Entry 1 is nfp.sp with its CRC key; a wrong key is refused.
        let sp = tbl + 32;
        let key = resource_key("nfp.sp");
        assert_eq!(h.trylock(sp, key ^ 1, 0x10ff), Err(MutexError::Perm));
        h.trylock(sp, key, 0x10ff).unwrap();
        assert_eq!(h.trylock(sp, key, 0x10ff), Err(MutexError::Busy));
        h.unlock(sp, key, 0x10ff).unwrap();
        // A lock word left in another state is not a valid mutex.
        h.write(
            NFP_CPP_TARGET_MU,
            MU_ACTION_ATOMIC_WRITE,
            0,
            sp,
            &0x10ff_0003u32.to_le_bytes(),
        );
        assert_eq!(h.trylock(sp, key, 0x10ff), Err(MutexError::Inval));
    }

    #[test]
    fn explicit_transaction_reads_mu() {
        let h = Driver::new(&CardConfig::default());
        h.mu_write64(0x18_0000_1238, 0x1122_3344_5566_7788);
        // Group 0 at BAR0.4, area 1: CSRs then the kick-off read.
        h.card.bar_write(0, 0x30010, &0x8000_0000u32.to_le_bytes());
        let csr = 0x30080 + 0x10;
        let addr: u64 = 0x18_0000_1238;
        let data_ref = 0x1000 + (1 << 7);
        let csr0 = 1u32 << 30 | ((addr >> 16) as u32 & 0xff_ffff);
        let csr1 = data_ref as u32;
        let csr2 = u32::from(NFP_CPP_TARGET_MU) << 28; // action 0 = read, length 0 = one word
        for (i, v) in [csr0, csr1, csr2].into_iter().enumerate() {
            h.card.bar_write(0, csr + 4 * i as u64, &v.to_le_bytes());
        }
        let mut kick = [0u8; 1];
        h.card
            .bar_read(0, 4 * SLICE + (1 << 22) + (addr & 0x3f_ffff), &mut kick);
        let mut got = [0u8; 8];
        h.card.bar_read(0, data_ref, &mut got);
        assert_eq!(u64::from_le_bytes(got), 0x1122_3344_5566_7788);
    }

    #[test]
    fn unknown_targets_read_zero_and_do_not_panic() {
        let h = Driver::new(&CardConfig::default());
        let mut b = [0xffu8; 8];
        h.read(12, NFP_CPP_ACTION_RW, 0, 0x1000, &mut b);
        assert_eq!(b, [0; 8]);
        h.write(12, NFP_CPP_ACTION_RW, 0, 0x1000, &b);
        h.read(NFP_CPP_TARGET_MU, 9, 0, 0x1000, &mut b[..4]);
        assert_eq!(&b[..4], &[0; 4]);
    }

    #[test]
    fn driver_probe_path_rtsyms_vnic_bar_and_reconfig() {
        let h = Driver::new(&CardConfig {
            flash_firmware: Some(crate::testutil::firmware_image()),
            ..CardConfig::default()
        });
        let rw = NFP_CPP_ACTION_RW;
        let nffw = crate::nsp::NFFW_INFO_BASE;
        assert_eq!(h.mu_read32(rw, 0, nffw) & 1, 1, "nfp.nffw init");
        // nfp.nffw -> fwinfo[0] -> MIP -> symtab/strtab, as the driver
        // walks it (the mock's rtsyms()).
        let syms = h.rtsyms().expect("rtsym table through the MIP");
        assert!(syms.iter().any(|s| s.name == "_abi_bpf_capabilities"));
        let bar = h.rtsym_addr("_pf0_net_bar0").unwrap();
        // vNIC 0's control BAR.
        assert_eq!(h.mu_read32(rw, 0, bar + 0x30), 0x500, "VERSION");
        assert_eq!(
            h.mu_read32(rw, 0, bar + 0x38) & (1 << 27),
            1 << 27,
            "CAP.BPF"
        );
        let start_txq = h.mu_read32(rw, 0, bar + 0x48);
        // Reconfig: UPDATE, then +1 on the config queue's write pointer
        // through a target-0 BULK window (nfp_net_common.c:84-91).
        h.mu_write32(bar + 0x4, 3);
        assert_eq!(h.mu_read32(rw, 0, bar + 0x4), 3, "no ack before the kick");
        h.qc_add_wptr(start_txq as u16 + 1, 1);
        assert_eq!(
            h.mu_read32(rw, 0, bar + 0x4),
            0,
            "UPDATE cleared by the reconfig"
        );
    }

    #[test]
    fn firmware_loaded_through_the_nsp_publishes_rtsyms() {
        let h = Driver::new(&CardConfig::default());
        assert_eq!(h.rtsyms(), None, "no firmware at power-on");
        let r = h.load_firmware(&crate::testutil::firmware_image());
        assert!(r.done, "NSP answered synchronously");
        assert_eq!((r.ret, r.errno), (0, 0));
        assert!(h.rtsym_addr("_pf0_net_ctrl_bar").is_some());
        // A truncated image is refused and loads nothing.
        let h = Driver::new(&CardConfig::default());
        let r = h.load_firmware(&crate::testutil::firmware_image()[..300]);
        assert_eq!(r.errno, 22, "EINVAL");
        assert_eq!(h.rtsyms(), None);
    }

    #[test]
    fn link_status_follows_the_cabling() {
        use crate::ports::PortSpec;
        let h = Driver::new(&CardConfig {
            flash_firmware: Some(crate::testutil::firmware_image()),
            cabling: vec![PortSpec::Loop(1), PortSpec::None],
            ..CardConfig::default()
        });
        // vNIC 0 (cabled) reports link up at 25G, vNIC 1 (no cable) down.
        let sts0 = h.mu_read32(NFP_CPP_ACTION_RW, 0, 0x18_0080_8034);
        let sts1 = h.mu_read32(NFP_CPP_ACTION_RW, 0, 0x18_0081_0034);
        assert_eq!(sts0 & 0x1f, 0x9);
        assert_eq!(sts1 & 1, 0);
        let mut w = [0u8; 2];
        h.read(
            NFP_CPP_TARGET_MU,
            NFP_CPP_ACTION_RW,
            0,
            0x18_0080_8034,
            &mut w,
        );
        assert_eq!(u16::from_le_bytes(w) & 1, 1, "16-bit read as nn_readw does");
    }
}
