//! The whole card as the host sees it over PCIe: configuration space, BARs,
//! MSI-X and DMA. Later subsystems (CPP bus, NSP, NFD, flow processor) hang
//! off this type.

use parking_lot::Mutex;
use tracing::{debug, warn};

use crate::dma::DmaMap;
use crate::pcie::{
    BarDef, ConfigSpace, MsixVectors, NFP_BARS, NFP_CPP_INTERFACE_PCIE0, NFP_MSIX_VECTORS,
    device_serial_number,
};

/// What distinguishes one emulated card from another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardConfig {
    /// The 6-byte card serial (PCIe DSN bits 63:16), printed by the driver as
    /// `SN: xx:xx:...` and used as the devlink switch id.
    pub serial: [u8; 6],
}

impl Default for CardConfig {
    fn default() -> Self {
        // probe.md §1.3 example serial [choice].
        Self {
            serial: [0x00, 0x15, 0x4d, 0x00, 0x00, 0x01],
        }
    }
}

/// One NFP-4000 card.
#[derive(Debug)]
pub struct Card {
    config_at_reset: ConfigSpace,
    config: Mutex<ConfigSpace>,
    msix: Mutex<MsixVectors>,
    dma: Mutex<DmaMap>,
}

impl Card {
    pub fn new(cfg: &CardConfig) -> Self {
        let config =
            ConfigSpace::nfp4000(device_serial_number(cfg.serial, NFP_CPP_INTERFACE_PCIE0));
        Self {
            config_at_reset: config.clone(),
            config: Mutex::new(config),
            msix: Mutex::new(MsixVectors::new(NFP_MSIX_VECTORS)),
            dma: Mutex::new(DmaMap::default()),
        }
    }

    pub fn config_read(&self, offset: u64, buf: &mut [u8]) {
        self.config.lock().read(offset, buf);
    }

    pub fn config_write(&self, offset: u64, data: &[u8]) {
        self.config.lock().write(offset, data);
    }

    pub fn config(&self) -> parking_lot::MutexGuard<'_, ConfigSpace> {
        self.config.lock()
    }

    pub fn msix(&self) -> parking_lot::MutexGuard<'_, MsixVectors> {
        self.msix.lock()
    }

    pub fn dma(&self) -> parking_lot::MutexGuard<'_, DmaMap> {
        self.dma.lock()
    }

    /// Host read from BAR `bar` at `offset`.
    pub fn bar_read(&self, bar: usize, offset: u64, buf: &mut [u8]) {
        if Self::bar_access(bar, offset, buf.len()).is_none() {
            buf.fill(0xff);
            return;
        }
        buf.fill(0);
        debug!(
            target: "nfp_emu::pcie",
            "unimplemented read of {} bytes at BAR{bar} offset {offset:#x}",
            buf.len()
        );
    }

    /// Host write to BAR `bar` at `offset`.
    pub fn bar_write(&self, bar: usize, offset: u64, data: &[u8]) {
        if Self::bar_access(bar, offset, data.len()).is_none() {
            return;
        }
        debug!(
            target: "nfp_emu::pcie",
            "unimplemented write of {} bytes at BAR{bar} offset {offset:#x}: {:02x?}",
            data.len(),
            data
        );
    }

    /// Check that an access falls inside one of the card's BARs.
    fn bar_access(bar: usize, offset: u64, len: usize) -> Option<BarDef> {
        let def = NFP_BARS.iter().find(|b| b.index == bar).copied();
        let fits = def.is_some_and(|d| {
            offset
                .checked_add(len as u64)
                .is_some_and(|end| end <= d.size)
        });
        if !fits {
            warn!(
                target: "nfp_emu::pcie",
                "access of {len} bytes at BAR{bar} offset {offset:#x} is outside the BAR; ignored"
            );
            return None;
        }
        def
    }

    /// Function-level reset: config space back to power-on values, device
    /// state cleared. Interrupt eventfds and DMA maps belong to the VMM and
    /// stay.
    pub fn reset(&self) {
        *self.config.lock() = self.config_at_reset.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_accesses_outside_a_bar_read_ones_and_do_not_panic() {
        let card = Card::new(&CardConfig::default());
        let mut b = [0u8; 8];
        card.bar_read(0, (128 << 20) - 4, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_read(1, 0, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_read(4, u64::MAX, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_write(9, 0, &b);
        card.bar_read(2, 0, &mut b);
        assert_eq!(b, [0; 8]);
    }

    #[test]
    fn reset_restores_config_space() {
        let card = Card::new(&CardConfig::default());
        card.config_write(0x04, &[0x06, 0x00]);
        assert!(card.config().bus_master());
        card.reset();
        assert!(!card.config().bus_master());
    }
}
