//! Guest memory as the card sees it for DMA.
//!
//! QEMU shares guest RAM with `VFIO_USER_DMA_MAP` messages that carry an fd
//! (a `share=on` memory backend); ROM/BIOS ranges arrive without one and the
//! set changes several times while firmware boots. Ranges with an fd are
//! mmapped (rust-vmm `vm-memory`) and published as one `GuestMemoryMmap`
//! that the data path reads and writes without taking the control-plane lock.
//! Every access is bounds-checked: one outside the mapped regions is counted
//! and logged, never performed.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tracing::{debug, warn};
use vm_memory::{
    Bytes, FileOffset, GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap,
    GuestRegionMmap,
};

/// One range of bus addresses the guest made visible to the device.
#[derive(Debug)]
pub struct DmaMapping {
    /// First bus address.
    pub iova: u64,
    /// Bytes mapped.
    pub size: u64,
    /// Offset of `iova` inside `fd`.
    pub offset: u64,
    /// The memory backing the range; `None` when QEMU sent no fd (the device
    /// cannot reach that memory).
    pub fd: Option<File>,
    /// The device may read the range.
    pub readable: bool,
    /// The device may write the range.
    pub writable: bool,
}

impl DmaMapping {
    /// One past the last address; [`GuestMemory::map`] refuses mappings
    /// that wrap, so saturating never changes a stored mapping's end.
    fn end(&self) -> u64 {
        self.iova.saturating_add(self.size)
    }
}

/// Why a `VFIO_USER_DMA_MAP` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DmaMapError {
    /// An empty range, or one that wraps the address space.
    #[error("DMA map of {size:#x} bytes at {iova:#x} is empty or wraps the address space")]
    BadRange {
        /// First bus address.
        iova: u64,
        /// Bytes.
        size: u64,
    },
    /// The range overlaps a mapping already made.
    #[error("DMA map {iova:#x}+{size:#x} overlaps the existing map {other:#x}+{other_size:#x}")]
    Overlap {
        /// First bus address.
        iova: u64,
        /// Bytes.
        size: u64,
        /// The existing mapping's first address.
        other: u64,
        /// The existing mapping's size.
        other_size: u64,
    },
    /// The range runs past the end of the file that backs it.
    #[error(
        "DMA map {iova:#x}+{size:#x} at fd offset {offset:#x} runs past the end of its fd ({file_size:#x} bytes)"
    )]
    PastEndOfFile {
        /// First bus address.
        iova: u64,
        /// Bytes.
        size: u64,
        /// Offset in the file.
        offset: u64,
        /// The file's size.
        file_size: u64,
    },
    /// The host could not map the file.
    #[error("DMA map {iova:#x}+{size:#x}: mmap failed: {reason}")]
    Mmap {
        /// First bus address.
        iova: u64,
        /// Bytes.
        size: u64,
        /// The host's error.
        reason: String,
    },
}

/// A DMA access the device could not perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("DMA {dir} of {len} bytes at {addr:#x} is outside guest memory")]
pub struct DmaError {
    /// "read" or "write".
    pub dir: &'static str,
    /// Bus address of the access.
    pub addr: u64,
    /// Bytes.
    pub len: usize,
}

#[derive(Debug)]
struct Mapped {
    map: DmaMapping,
    region: Option<Arc<GuestRegionMmap>>,
}

/// Counters of DMA activity: the counter surface's `dma.*`
/// (docs/counters.md).
#[derive(Debug, Default)]
pub struct DmaStats {
    /// Accesses refused (outside guest memory or its permissions).
    pub errors: AtomicU64,
}

impl crate::counters::Counters for DmaStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("errors", self.errors.load(Ordering::Relaxed));
    }
}

/// The device's view of guest memory.
pub struct GuestMemory {
    table: Mutex<Vec<Mapped>>,
    /// The mappings the device may read, and those it may write (the
    /// permissions QEMU gave with each `dma_map`).
    mem: GuestMemoryAtomic<GuestMemoryMmap>,
    wmem: GuestMemoryAtomic<GuestMemoryMmap>,
    /// What DMA did.
    pub stats: DmaStats,
}

impl std::fmt::Debug for GuestMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestMemory")
            .field("mappings", &self.table.lock().len())
            .finish_non_exhaustive()
    }
}

impl Default for GuestMemory {
    fn default() -> Self {
        Self {
            table: Mutex::new(Vec::new()),
            mem: GuestMemoryAtomic::new(GuestMemoryMmap::new()),
            wmem: GuestMemoryAtomic::new(GuestMemoryMmap::new()),
            stats: DmaStats::default(),
        }
    }
}

fn file_size(f: &File) -> Option<u64> {
    f.metadata().ok().map(|m| m.len())
}

impl GuestMemory {
    /// Add a mapping; with an fd its memory becomes reachable.
    pub fn map(&self, m: DmaMapping) -> Result<(), DmaMapError> {
        if m.size == 0 || m.iova.checked_add(m.size).is_none() {
            return Err(DmaMapError::BadRange {
                iova: m.iova,
                size: m.size,
            });
        }
        let mut table = self.table.lock();
        if let Some(o) = table
            .iter()
            .find(|o| o.map.iova < m.end() && m.iova < o.map.end())
        {
            return Err(DmaMapError::Overlap {
                iova: m.iova,
                size: m.size,
                other: o.map.iova,
                other_size: o.map.size,
            });
        }
        let region = match &m.fd {
            None => None,
            Some(fd) => {
                // A mapping past the end of the fd would fault (SIGBUS) on
                // access instead of failing cleanly.
                let fsize = file_size(fd).unwrap_or(0);
                if m.offset.checked_add(m.size).is_none_or(|e| e > fsize) {
                    return Err(DmaMapError::PastEndOfFile {
                        iova: m.iova,
                        size: m.size,
                        offset: m.offset,
                        file_size: fsize,
                    });
                }
                let fd = fd.try_clone().map_err(|e| DmaMapError::Mmap {
                    iova: m.iova,
                    size: m.size,
                    reason: e.to_string(),
                })?;
                let size = usize::try_from(m.size).map_err(|_| DmaMapError::BadRange {
                    iova: m.iova,
                    size: m.size,
                })?;
                let r = GuestRegionMmap::from_range(
                    GuestAddress(m.iova),
                    size,
                    Some(FileOffset::new(fd, m.offset)),
                )
                .map_err(|e| DmaMapError::Mmap {
                    iova: m.iova,
                    size: m.size,
                    reason: e.to_string(),
                })?;
                Some(Arc::new(r))
            }
        };
        debug!(
            target: "nfp_emu::dma",
            "map {:#x}+{:#x} (fd: {}, offset {:#x})",
            m.iova,
            m.size,
            m.fd.is_some(),
            m.offset
        );
        let pos = table.partition_point(|o| o.map.iova < m.iova);
        table.insert(pos, Mapped { map: m, region });
        self.publish(&table);
        Ok(())
    }

    /// Remove every mapping inside `iova..iova+size`. A mapping that only
    /// partly overlaps the range is left alone and reported, as the VFIO
    /// type1 IOMMU refuses to split mappings.
    pub fn unmap(&self, iova: u64, size: u64) -> usize {
        let end = iova.saturating_add(size);
        let mut table = self.table.lock();
        let before = table.len();
        table.retain(|m| {
            let (s, e) = (m.map.iova, m.map.end());
            let inside = s >= iova && e <= end;
            if !inside && s < end && iova < e {
                crate::guest_warn!(
                    "unmap {iova:#x}+{size:#x} splits the mapping {s:#x}+{:#x}; kept",
                    m.map.size
                );
            }
            !inside
        });
        let removed = before - table.len();
        if removed > 0 {
            self.publish(&table);
        }
        removed
    }

    /// Remove every mapping.
    pub fn clear(&self) {
        let mut table = self.table.lock();
        table.clear();
        self.publish(&table);
    }

    /// Number of mappings (with or without memory behind them).
    pub fn mappings(&self) -> usize {
        self.table.lock().len()
    }

    fn publish(&self, table: &[Mapped]) {
        let view = |allowed: fn(&DmaMapping) -> bool| {
            let regions: Vec<Arc<GuestRegionMmap>> = table
                .iter()
                .filter(|m| allowed(&m.map))
                .filter_map(|m| m.region.clone())
                .collect();
            if regions.is_empty() {
                return Some(GuestMemoryMmap::new());
            }
            // The table never overlaps, so this cannot fail; keep the
            // previous view if it does.
            GuestMemoryMmap::from_arc_regions(regions)
                .map_err(|e| warn!(target: "nfp_emu::dma", "cannot publish DMA regions: {e}"))
                .ok()
        };
        for (atomic, allowed) in [
            (&self.mem, (|m| m.readable) as fn(&DmaMapping) -> bool),
            (&self.wmem, |m| m.writable),
        ] {
            if let (Some(mem), Ok(guard)) = (view(allowed), atomic.lock()) {
                guard.replace(mem);
            }
        }
    }

    fn fail(&self, dir: &'static str, addr: u64, len: usize) -> DmaError {
        let n = self.stats.errors.fetch_add(1, Ordering::Relaxed);
        let e = DmaError { dir, addr, len };
        crate::guest_warn!("{e} (DMA error #{})", n + 1);
        e
    }

    /// Read guest memory at bus address `addr`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaError> {
        let mem = self.mem.memory();
        mem.read_slice(buf, GuestAddress(addr))
            .map_err(|_| self.fail("read", addr, buf.len()))
    }

    /// Write guest memory at bus address `addr`.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), DmaError> {
        let mem = self.wmem.memory();
        mem.write_slice(data, GuestAddress(addr))
            .map_err(|_| self.fail("write", addr, data.len()))
    }

    /// Store a naturally aligned u64 with release ordering, so everything
    /// written before (the packet) is visible when the guest sees it (a
    /// descriptor with its DD bit).
    pub fn store_u64_release(&self, addr: u64, v: u64) -> Result<(), DmaError> {
        let mem = self.wmem.memory();
        mem.store(v.to_le(), GuestAddress(addr), Ordering::Release)
            .map_err(|_| self.fail("write", addr, 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::ram;

    fn rom(iova: u64, size: u64) -> DmaMapping {
        DmaMapping {
            iova,
            size,
            offset: 0,
            fd: None,
            readable: true,
            writable: false,
        }
    }

    #[test]
    fn reads_and_writes_reach_the_fd_memory() {
        let g = GuestMemory::default();
        g.map(ram(0x10_0000, 0x10000)).unwrap();
        g.write(0x10_0ff0, b"hello, guest").unwrap();
        let mut b = [0u8; 12];
        g.read(0x10_0ff0, &mut b).unwrap();
        assert_eq!(&b, b"hello, guest");
        g.store_u64_release(0x10_0008, 0x8000_0000_0000_0042)
            .unwrap();
        let mut b = [0u8; 8];
        g.read(0x10_0008, &mut b).unwrap();
        assert_eq!(u64::from_le_bytes(b), 0x8000_0000_0000_0042);
    }

    #[test]
    fn read_only_mappings_refuse_device_writes() {
        let g = GuestMemory::default();
        g.map(DmaMapping {
            writable: false,
            ..ram(0x20_0000, 0x1000)
        })
        .unwrap();
        let mut b = [0u8; 4];
        g.read(0x20_0000, &mut b).unwrap();
        assert!(g.write(0x20_0000, &[1; 4]).is_err());
        assert!(g.store_u64_release(0x20_0008, 1).is_err());
        assert_eq!(g.stats.errors.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn out_of_bounds_accesses_are_refused_and_counted() {
        let g = GuestMemory::default();
        g.map(ram(0x1000, 0x1000)).unwrap();
        g.map(rom(0x100000, 0x1000)).unwrap();
        let mut b = [0u8; 16];
        // Straddling the end of the region.
        assert!(g.read(0x1ff8, &mut b).is_err());
        // No fd behind the ROM range.
        assert!(g.write(0x100000, &b).is_err());
        // Nowhere near anything, and at the top of the address space.
        assert!(g.read(0xdead_0000, &mut b).is_err());
        assert!(g.read(u64::MAX - 4, &mut b).is_err());
        assert!(g.store_u64_release(0x2000, 1).is_err());
        assert_eq!(g.stats.errors.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn map_table_rules() {
        let g = GuestMemory::default();
        g.map(ram(0x10000, 0x1000)).unwrap();
        g.map(rom(0x0, 0x1000)).unwrap();
        assert!(matches!(
            g.map(rom(0x10800, 0x1000)),
            Err(DmaMapError::Overlap { .. })
        ));
        assert!(matches!(
            g.map(rom(u64::MAX, 2)),
            Err(DmaMapError::BadRange { .. })
        ));
        // An fd smaller than the mapping would fault on access: refused.
        let mut m = ram(0x40000, 0x1000);
        m.size = 0x2000;
        assert!(matches!(g.map(m), Err(DmaMapError::PastEndOfFile { .. })));
        // Unmap removes whole mappings only, then the memory is unreachable.
        assert_eq!(g.unmap(0x10800, 0x100), 0, "partial overlap is not split");
        assert_eq!(g.unmap(0, 0x20000), 2);
        assert!(g.read(0x10000, &mut [0u8; 4]).is_err());
        // Remap works.
        g.map(ram(0x10000, 0x1000)).unwrap();
        assert!(g.read(0x10000, &mut [0u8; 4]).is_ok());
        g.clear();
        assert_eq!(g.mappings(), 0);
    }
}
