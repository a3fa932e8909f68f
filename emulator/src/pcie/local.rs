//! The PCIe island's own CPP space (target 0), which BAR0.0 maps directly:
//! SRAM (explicit-transaction data buffers), the expansion-BAR config words
//! and the explicit-transaction CSRs (docs/cpp.md#target-0-the-pcie-island). The queue controller
//! at 0x80000 is in [`crate::nfd::qc`].

use super::expbar::{ExpansionBars, NFP_PCIE_EXPBARS};

/// `NFP_PCIE_SRAM` (nfp6000_pcie.c:91): 64 KiB modelled.
pub const NFP_PCIE_SRAM: u64 = 0x0000;
/// Size of the PCIe island's SRAM (explicit transaction data).
pub const NFP_PCIE_SRAM_SIZE: u64 = 0x1_0000;
/// `NFP_PCIE_EM` (nfp6000_pcie.c:90): mapped by the driver, never used.
pub const NFP_PCIE_EM: u64 = 0x2_0000;
/// `NFP_PCIE_BAR(0)` (nfp6000_pcie.c:37): PF0's BAR config block.
pub const NFP_PCIE_BAR_PF0: u64 = 0x3_0000;
/// `NFP_PCIE_BAR_EXPLICIT_BAR0(0, 0)` relative to `NFP_PCIE_BAR`
/// (nfp6000_pcie.c:38): 4 groups x 4 areas x 16 bytes.
pub const NFP_PCIE_BAR_EXPLICIT: u64 = 0x80;
/// Explicit transaction groups (nfp6000_pcie.c:1000-1020).
pub const NFP_PCIE_EXPLICIT_GROUPS: usize = 4;
/// `pcie_cfg_expbar_offset` (nfpcore/nfp_dev.c:38): config-space alias of
/// the BAR config block, used before BAR0.0 is mapped
/// (docs/pcie.md#expansion-bar-registers-in-config-space).
pub const NFP_PCIE_CFG_EXPBAR_OFFSET: u64 = 0x400;
/// Size of the aliased block: 24 expansion BARs then the explicit CSRs.
pub const NFP_PCIE_CFG_EXPBAR_SIZE: u64 = NFP_PCIE_BAR_EXPLICIT + 0x100;
/// `qc_addr_offset` (nfpcore/nfp_dev.c:33): start of the queue controller.
pub const NFP_QCP_BASE: u64 = 0x8_0000;
/// `qc_area_sz` (nfpcore/nfp_dev.c:40).
pub const NFP_QCP_AREA_SIZE: u64 = 0x8_0000;

/// One explicit-transaction area's three CSRs (nfp6000_pcie.c:38-65).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExplicitCsrs {
    /// CSR0-2 as the driver wrote them.
    pub csr: [u32; 3],
}

impl ExplicitCsrs {
    /// Token, from CSR0 bits 29:28.
    pub fn token(&self) -> u8 {
        ((self.csr[0] >> 28) & 3) as u8
    }
    /// Address bits 39:16, from CSR0 bits 23:0.
    pub fn address_hi(&self) -> u64 {
        u64::from(self.csr[0] & 0xff_ffff) << 16
    }
    /// SRAM offset of the data buffer, from CSR1 bits 13:0.
    pub fn data_ref(&self) -> u64 {
        u64::from(self.csr[1] & 0x3fff)
    }
    /// CPP target, CSR2 bits 31:28.
    pub fn target(&self) -> u8 {
        (self.csr[2] >> 28) as u8
    }
    /// CPP action, CSR2 bits 27:23.
    pub fn action(&self) -> u8 {
        ((self.csr[2] >> 23) & 0x1f) as u8
    }
    /// Number of push/pull words minus one (CSR2 bits 22:18).
    pub fn length(&self) -> u32 {
        (self.csr[2] >> 18) & 0x1f
    }
}

/// Registers and SRAM of the PCIe island.
#[derive(Debug)]
pub struct PcieLocal {
    /// The 24 expansion BAR config words.
    pub expbars: ExpansionBars,
    /// Explicit transaction groups (nfp6000_pcie.c:1000-1020).
    pub explicit: [[ExplicitCsrs; 4]; NFP_PCIE_EXPLICIT_GROUPS],
    sram: Box<[u8]>,
}

impl Default for PcieLocal {
    fn default() -> Self {
        Self {
            expbars: ExpansionBars::default(),
            explicit: Default::default(),
            sram: vec![0; NFP_PCIE_SRAM_SIZE as usize].into_boxed_slice(),
        }
    }
}

impl PcieLocal {
    /// Read below the queue controller (`addr < NFP_QCP_BASE`).
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        if let Some(r) = Self::sram_range(addr, buf.len()) {
            buf.copy_from_slice(&self.sram[r]);
            return;
        }
        if let Some(v) = self.csr_read(addr, buf.len()) {
            let bytes = v.to_le_bytes();
            let sh = (addr % 4) as usize;
            buf.copy_from_slice(&bytes[sh..sh + buf.len()]);
            return;
        }
        buf.fill(0);
        crate::guest_debug!(
            "unimplemented read of {} bytes at PCIe-local {addr:#x}",
            buf.len()
        );
    }

    /// Host write to the PCIe island's registers at `addr`.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        if let Some(r) = Self::sram_range(addr, data.len()) {
            self.sram[r].copy_from_slice(data);
            return;
        }
        if data.len() == 4 && addr % 4 == 0 {
            let v = u32::from_le_bytes(data.try_into().expect("4 bytes"));
            if self.csr_write(addr, v) {
                return;
            }
        }
        crate::guest_debug!(
            "unimplemented write of {} bytes at PCIe-local {addr:#x}: {data:02x?}",
            data.len()
        );
    }

    /// The PCIe SRAM.
    pub fn sram(&self) -> &[u8] {
        &self.sram
    }

    /// The PCIe SRAM, writable.
    pub fn sram_mut(&mut self) -> &mut [u8] {
        &mut self.sram
    }

    fn sram_range(addr: u64, len: usize) -> Option<std::ops::Range<usize>> {
        let end = addr.checked_add(len as u64)?;
        (end <= NFP_PCIE_SRAM + NFP_PCIE_SRAM_SIZE).then_some(addr as usize..end as usize)
    }

    /// 32-bit CSR at `addr & !3` if it is one of the BAR config block's.
    fn csr_read(&self, addr: u64, len: usize) -> Option<u32> {
        if len > 4 || (addr % 4) as usize + len > 4 {
            return None;
        }
        let a = addr & !3;
        let rel = a.checked_sub(NFP_PCIE_BAR_PF0)?;
        if rel < 4 * NFP_PCIE_EXPBARS as u64 {
            return self.expbars.get((rel / 4) as usize);
        }
        let (g, ar, w) = Self::explicit_index(rel)?;
        Some(self.explicit[g][ar].csr[w])
    }

    fn csr_write(&mut self, addr: u64, v: u32) -> bool {
        let Some(rel) = addr.checked_sub(NFP_PCIE_BAR_PF0) else {
            return false;
        };
        if rel < 4 * NFP_PCIE_EXPBARS as u64 {
            return self.expbars.set((rel / 4) as usize, v);
        }
        if let Some((g, ar, w)) = Self::explicit_index(rel) {
            self.explicit[g][ar].csr[w] = v;
            return true;
        }
        false
    }

    fn explicit_index(rel: u64) -> Option<(usize, usize, usize)> {
        let e = rel.checked_sub(NFP_PCIE_BAR_EXPLICIT)?;
        if e >= 0x100 {
            return None;
        }
        let w = ((e % 0x10) / 4) as usize;
        (w < 3).then_some(((e / 0x40) as usize, ((e % 0x40) / 0x10) as usize, w))
    }

    /// Config-space alias at 0x400.. (docs/pcie.md#expansion-bar-registers-in-config-space): `Some`
    /// if `offset` is
    /// in the aliased block.
    pub fn config_alias(offset: u64) -> Option<u64> {
        let rel = offset.checked_sub(NFP_PCIE_CFG_EXPBAR_OFFSET)?;
        (rel < NFP_PCIE_CFG_EXPBAR_SIZE).then_some(NFP_PCIE_BAR_PF0 + rel)
    }

    /// Log a write the hardware keeps but nothing acts on.
    pub fn warn_unmapped(index: usize, cfg: u32) {
        crate::guest_warn!(
            "access through expansion BAR {index} with map type {} (config {cfg:#010x}), which the card does not route",
            cfg >> 29
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expbar_words_read_back_at_0x30000() {
        let mut l = PcieLocal::default();
        l.write(0x30004, &0x2700_0000u32.to_le_bytes());
        let mut b = [0; 4];
        l.read(0x30004, &mut b);
        assert_eq!(u32::from_le_bytes(b), 0x2700_0000);
        assert_eq!(l.expbars.get(1), Some(0x2700_0000));
        // Byte reads of a CSR.
        let mut b1 = [0; 1];
        l.read(0x30007, &mut b1);
        assert_eq!(b1[0], 0x27);
    }

    #[test]
    fn explicit_csrs_and_sram() {
        let mut l = PcieLocal::default();
        // Group 1, area 2, CSR2.
        let a = NFP_PCIE_BAR_PF0 + NFP_PCIE_BAR_EXPLICIT + 0x40 + 0x20 + 8;
        l.write(a, &0x7000_0000u32.to_le_bytes());
        assert_eq!(l.explicit[1][2].csr[2], 0x7000_0000);
        assert_eq!(l.explicit[1][2].target(), 7);
        l.write(0x1000 + (1 << 9) + (2 << 7), &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut b = [0; 8];
        l.read(0x1300, &mut b);
        assert_eq!(b, [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn config_alias_covers_expbars_and_explicit_csrs() {
        assert_eq!(PcieLocal::config_alias(0x400), Some(0x30000));
        assert_eq!(PcieLocal::config_alias(0x45c), Some(0x3005c));
        assert_eq!(PcieLocal::config_alias(0x480), Some(0x30080));
        assert_eq!(PcieLocal::config_alias(0x57c), Some(0x3017c));
        assert_eq!(PcieLocal::config_alias(0x580), None);
        assert_eq!(PcieLocal::config_alias(0x3fc), None);
    }

    #[test]
    fn unknown_offsets_read_zero() {
        let l = PcieLocal::default();
        let mut b = [0xffu8; 8];
        l.read(0x2_0000, &mut b);
        assert_eq!(b, [0; 8]);
    }
}
