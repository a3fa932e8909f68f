//! The card's memories behind the MU target (EMEM, EMU SRAM, IMEM, CTM, the
//! service processor's memory) and the CLS target, as laid out by
//! [`MemoryMap`].
//!
//! Each memory is backed lazily: a 4 KiB page is allocated on its first
//! write and never outside the memory, so the host memory the model holds is
//! at most [`MemoryMap::bound`] whatever a guest writes. Accesses outside
//! every memory are answered as the hardware's error path would: reads
//! return zeros, writes are dropped, and both are logged as guest errors.

use std::collections::BTreeMap;

pub use super::memmap::MU_ADDR_MASK;
use super::memmap::{
    Location, MU_ISLAND_LSB, MemKind, MemoryMap, NFP_MU_ADDR_ACCESS_TYPE_MASK, PAGE_SIZE,
};

/// Backing granule (kept under its old name for callers).
pub const MU_PAGE_SIZE: u64 = PAGE_SIZE;

type Page = Box<[u8; PAGE_SIZE as usize]>;

/// MU address of `addr` in island `island`: island 0 means "already a
/// 40-bit address"; otherwise the island goes into bits 37:32, as
/// `nfp_encode_mu()` does in mode 0 with addr40 (nfpcore/nfp_target.c:592-598).
pub fn mu_address(island: u8, addr: u64) -> u64 {
    if island == 0 {
        addr & MU_ADDR_MASK
    } else {
        (addr & !(0x3f << MU_ISLAND_LSB) & MU_ADDR_MASK)
            | (u64::from(island & 0x3f) << MU_ISLAND_LSB)
    }
}

/// The MU address the driver uses for an `NFP_RTSYM_TARGET_EMU_CACHE`
/// symbol: the island's address with direct-access locality
/// (nfp_rtsym.c:237-243).
pub fn emu_cache_address(island: u8, addr: u64) -> u64 {
    use super::memmap::{MU_LOCALITY_LSB, NFP_MU_ADDR_ACCESS_TYPE_DIRECT};
    let a = mu_address(island, addr) & !(NFP_MU_ADDR_ACCESS_TYPE_MASK << MU_LOCALITY_LSB);
    a | NFP_MU_ADDR_ACCESS_TYPE_DIRECT << MU_LOCALITY_LSB
}

/// The pages of one memory that were written, by page index.
#[derive(Default)]
struct PageStore {
    pages: BTreeMap<u64, Page>,
}

impl PageStore {
    fn read(&self, off: u64, buf: &mut [u8]) {
        let (page, in_page) = (off / PAGE_SIZE, (off % PAGE_SIZE) as usize);
        match self.pages.get(&page) {
            Some(p) => buf.copy_from_slice(&p[in_page..in_page + buf.len()]),
            None => buf.fill(0),
        }
    }

    fn write(&mut self, off: u64, data: &[u8]) {
        let (page, in_page) = (off / PAGE_SIZE, (off % PAGE_SIZE) as usize);
        let p = self
            .pages
            .entry(page)
            .or_insert_with(|| Box::new([0; PAGE_SIZE as usize]));
        p[in_page..in_page + data.len()].copy_from_slice(data);
    }

    /// Zero `off..end`: whole pages are released, partial ones cleared; the
    /// cost follows the backed pages, not the length.
    fn zero(&mut self, off: u64, end: u64) {
        let first_full = off.div_ceil(PAGE_SIZE);
        let last_full = end / PAGE_SIZE;
        if first_full < last_full {
            let doomed: Vec<u64> = self
                .pages
                .range(first_full..last_full)
                .map(|(&k, _)| k)
                .collect();
            for k in doomed {
                self.pages.remove(&k);
            }
        }
        let mut partial = |a: u64, b: u64| {
            if a < b
                && let Some(p) = self.pages.get_mut(&(a / PAGE_SIZE))
            {
                let o = (a % PAGE_SIZE) as usize;
                p[o..o + (b - a) as usize].fill(0);
            }
        };
        let head_end = (first_full * PAGE_SIZE).min(end);
        partial(off, head_end);
        partial((last_full * PAGE_SIZE).max(head_end), end);
    }
}

/// Which address space of the CPP bus an access is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    /// Target 7.
    Mu,
    /// Target 15.
    Cls,
}

impl Space {
    fn name(self) -> &'static str {
        match self {
            Space::Mu => "MU",
            Space::Cls => "CLS",
        }
    }
}

/// The card's memories and their contents.
pub struct Mu {
    map: MemoryMap,
    stores: Vec<PageStore>,
}

impl Default for Mu {
    fn default() -> Self {
        Self::with_map(MemoryMap::default())
    }
}

impl std::fmt::Debug for Mu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mu")
            .field("emem_size", &self.map.emem_size())
            .field("pages", &self.backed_pages())
            .finish()
    }
}

impl Mu {
    /// The memories of the default Agilio CX (2 GiB EMEM), all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The memories of `map`, all zero.
    pub fn with_map(map: MemoryMap) -> Self {
        let stores = map
            .memories()
            .iter()
            .map(|_| PageStore::default())
            .collect();
        Self { map, stores }
    }

    /// The memory map.
    pub fn map(&self) -> &MemoryMap {
        &self.map
    }

    /// Number of backed pages (for introspection and tests).
    pub fn backed_pages(&self) -> usize {
        self.stores.iter().map(|s| s.pages.len()).sum()
    }

    /// Bytes of backed pages; never more than the sum of the memories'
    /// sizes.
    pub fn backed_bytes(&self) -> u64 {
        self.backed_pages() as u64 * PAGE_SIZE
    }

    fn decode(&self, space: Space, addr: u64) -> Option<Location> {
        match space {
            Space::Mu => self.map.decode_mu(addr),
            Space::Cls => self.map.decode_cls(addr),
        }
    }

    /// Visit the page-sized chunks of an access of `len` bytes at `addr`:
    /// `f(location, range in the buffer)`, location `None` outside every
    /// memory. Addresses wrap at 40 bits, as the CPP bus's do.
    fn chunks(
        &self,
        space: Space,
        addr: u64,
        len: usize,
        mut f: impl FnMut(Option<Location>, std::ops::Range<usize>),
    ) {
        let mut done = 0usize;
        while done < len {
            let a = addr.wrapping_add(done as u64) & MU_ADDR_MASK;
            let n = ((PAGE_SIZE - a % PAGE_SIZE) as usize).min(len - done);
            f(self.decode(space, a), done..done + n);
            done += n;
        }
    }

    fn read_in(&self, space: Space, addr: u64, buf: &mut [u8]) {
        let mut outside = false;
        self.chunks(space, addr, buf.len(), |loc, r| match loc {
            Some(l) => self.stores[l.index].read(l.offset, &mut buf[r]),
            None => {
                buf[r].fill(0);
                outside = true;
            }
        });
        if outside {
            crate::guest_warn!(
                "{} read of {} bytes at {addr:#012x} is outside the card's memories; reads as zero",
                space.name(),
                buf.len()
            );
        }
    }

    fn write_in(&mut self, space: Space, addr: u64, data: &[u8]) {
        let mut outside = false;
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.wrapping_add(done as u64) & MU_ADDR_MASK;
            let n = ((PAGE_SIZE - a % PAGE_SIZE) as usize).min(data.len() - done);
            match self.decode(space, a) {
                Some(l) => self.stores[l.index].write(l.offset, &data[done..done + n]),
                None => outside = true,
            }
            done += n;
        }
        if outside {
            crate::guest_warn!(
                "{} write of {} bytes at {addr:#012x} is outside the card's memories; ignored",
                space.name(),
                data.len()
            );
        }
    }

    /// Read MU memory (target 7) at the 40-bit address `addr`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        self.read_in(Space::Mu, addr, buf);
    }

    /// Write MU memory (target 7) at the 40-bit address `addr`.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        self.write_in(Space::Mu, addr, data);
    }

    /// Read CLS (target 15) at `addr` (island in bits 31:26).
    pub fn cls_read(&self, addr: u64, buf: &mut [u8]) {
        self.read_in(Space::Cls, addr, buf);
    }

    /// Write CLS (target 15) at `addr` (island in bits 31:26).
    pub fn cls_write(&mut self, addr: u64, data: &[u8]) {
        self.write_in(Space::Cls, addr, data);
    }

    /// Little-endian 32-bit MU read.
    pub fn read_u32(&self, addr: u64) -> u32 {
        let mut b = [0; 4];
        self.read(addr, &mut b);
        u32::from_le_bytes(b)
    }

    /// Little-endian 64-bit MU read.
    pub fn read_u64(&self, addr: u64) -> u64 {
        let mut b = [0; 8];
        self.read(addr, &mut b);
        u64::from_le_bytes(b)
    }

    /// Little-endian 32-bit MU write.
    pub fn write_u32(&mut self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes());
    }

    /// Little-endian 64-bit MU write.
    pub fn write_u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }

    /// Zero `len` bytes at the MU address `addr`, inside the memory that
    /// holds `addr`: pages entirely inside are released, the cost is
    /// proportional to the backed pages, not to `len`. Bytes past the end of
    /// that memory are outside the card (logged, nothing done).
    pub fn zero(&mut self, addr: u64, len: u64) {
        self.zero_in(Space::Mu, addr, len);
    }

    /// Zero `len` bytes of CLS at `addr` like [`Mu::zero`].
    pub fn cls_zero(&mut self, addr: u64, len: u64) {
        self.zero_in(Space::Cls, addr, len);
    }

    fn zero_in(&mut self, space: Space, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        let Some(l) = self.decode(space, addr) else {
            crate::guest_warn!(
                "{} zeroing of {len:#x} bytes at {addr:#012x} is outside the card's memories; ignored",
                space.name()
            );
            return;
        };
        let size = self.map.memories()[l.index].size;
        let end = l.offset.saturating_add(len).min(size);
        self.stores[l.index].zero(l.offset, end);
        if end - l.offset < len {
            crate::guest_warn!(
                "{} zeroing of {len:#x} bytes at {addr:#012x} runs past the end of {}",
                space.name(),
                self.map.memories()[l.index].name()
            );
        }
    }

    /// Clear every memory but the service processor's: what a soft reset
    /// of the application firmware leaves.
    pub fn clear_application_memories(&mut self) {
        for (m, s) in self.map.memories().iter().zip(&mut self.stores) {
            if m.kind != MemKind::Nsp {
                s.pages.clear();
            }
        }
    }

    /// MU `atomic_read` (action 3): a 32-bit read.
    pub fn atomic_read(&self, addr: u64) -> u32 {
        self.read_u32(addr)
    }

    /// MU `atomic_write` (action 4): a 32-bit write.
    pub fn atomic_write(&mut self, addr: u64, v: u32) {
        self.write_u32(addr, v);
    }

    /// MU `test_set_imm` (action 5): return the old 32-bit word and OR in
    /// the immediate `bits` (0xf for the mutex, nfpcore/nfp_mutex.c:292-306).
    pub fn test_and_set(&mut self, addr: u64, bits: u32) -> u32 {
        let old = self.read_u32(addr);
        self.write_u32(addr, old | bits);
        old
    }
}

#[cfg(test)]
mod tests;
