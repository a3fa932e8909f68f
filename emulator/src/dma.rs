//! Guest memory as the card sees it for DMA.
//!
//! QEMU shares guest RAM with `VFIO_USER_DMA_MAP` messages that carry an fd
//! (a `share=on` memory backend); ROM/BIOS ranges arrive without one and the
//! set changes several times while firmware boots. This table keeps the
//! current set; the host data path reads and writes through it.

use std::fs::File;

use tracing::{debug, warn};

/// One range of bus addresses the guest made visible to the device.
#[derive(Debug)]
pub struct DmaMapping {
    pub iova: u64,
    pub size: u64,
    /// Offset of `iova` inside `fd`.
    pub offset: u64,
    /// The memory backing the range; `None` when QEMU sent no fd (the device
    /// cannot reach that memory).
    pub fd: Option<File>,
    pub readable: bool,
    pub writable: bool,
}

impl DmaMapping {
    fn end(&self) -> u64 {
        self.iova + self.size
    }
}

/// The device's current DMA map, kept sorted by address, never overlapping.
#[derive(Debug, Default)]
pub struct DmaMap {
    maps: Vec<DmaMapping>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DmaMapError {
    #[error("DMA map of {size:#x} bytes at {iova:#x} is empty or wraps the address space")]
    BadRange { iova: u64, size: u64 },
    #[error("DMA map {iova:#x}+{size:#x} overlaps the existing map {other:#x}+{other_size:#x}")]
    Overlap {
        iova: u64,
        size: u64,
        other: u64,
        other_size: u64,
    },
}

impl DmaMap {
    pub fn map(&mut self, m: DmaMapping) -> Result<(), DmaMapError> {
        if m.size == 0 || m.iova.checked_add(m.size).is_none() {
            return Err(DmaMapError::BadRange {
                iova: m.iova,
                size: m.size,
            });
        }
        if let Some(o) = self
            .maps
            .iter()
            .find(|o| o.iova < m.end() && m.iova < o.end())
        {
            return Err(DmaMapError::Overlap {
                iova: m.iova,
                size: m.size,
                other: o.iova,
                other_size: o.size,
            });
        }
        debug!(
            target: "nfp_emu::dma",
            "map {:#x}+{:#x} (fd: {}, offset {:#x})",
            m.iova,
            m.size,
            m.fd.is_some(),
            m.offset
        );
        let pos = self.maps.partition_point(|o| o.iova < m.iova);
        self.maps.insert(pos, m);
        Ok(())
    }

    /// Remove every mapping inside `iova..iova+size`. A mapping that only
    /// partly overlaps the range is left alone and reported, as the VFIO
    /// type1 IOMMU refuses to split mappings.
    pub fn unmap(&mut self, iova: u64, size: u64) -> usize {
        let end = iova.saturating_add(size);
        let before = self.maps.len();
        self.maps.retain(|m| {
            let inside = m.iova >= iova && m.end() <= end;
            if !inside && m.iova < end && iova < m.end() {
                warn!(
                    target: "nfp_emu::dma",
                    "unmap {iova:#x}+{size:#x} splits the mapping {:#x}+{:#x}; kept",
                    m.iova,
                    m.size
                );
            }
            !inside
        });
        before - self.maps.len()
    }

    pub fn clear(&mut self) {
        self.maps.clear();
    }

    pub fn mappings(&self) -> &[DmaMapping] {
        &self.maps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(iova: u64, size: u64) -> DmaMapping {
        DmaMapping {
            iova,
            size,
            offset: 0,
            fd: None,
            readable: true,
            writable: true,
        }
    }

    #[test]
    fn map_keeps_order_and_rejects_overlap() {
        let mut d = DmaMap::default();
        d.map(m(0x10000, 0x1000)).unwrap();
        d.map(m(0x0, 0x1000)).unwrap();
        assert_eq!(
            d.mappings().iter().map(|m| m.iova).collect::<Vec<_>>(),
            [0, 0x10000]
        );
        assert!(matches!(
            d.map(m(0x10800, 0x1000)),
            Err(DmaMapError::Overlap { .. })
        ));
        assert!(matches!(
            d.map(m(u64::MAX, 2)),
            Err(DmaMapError::BadRange { .. })
        ));
        assert!(matches!(
            d.map(m(0x5000, 0)),
            Err(DmaMapError::BadRange { .. })
        ));
    }

    #[test]
    fn unmap_removes_whole_mappings_only() {
        let mut d = DmaMap::default();
        d.map(m(0x0, 0x1000)).unwrap();
        d.map(m(0x1000, 0x1000)).unwrap();
        d.map(m(0x4000, 0x1000)).unwrap();
        assert_eq!(d.unmap(0x0, 0x2000), 2);
        assert_eq!(d.unmap(0x4800, 0x100), 0, "partial overlap is not split");
        assert_eq!(d.mappings().len(), 1);
        assert_eq!(d.unmap(0, u64::MAX), 1);
        // Remapping after unmap works.
        d.map(m(0x0, 0x1000)).unwrap();
    }
}
