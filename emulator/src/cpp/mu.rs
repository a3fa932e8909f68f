//! MU memories (EMEM, IMEM, CTM) as one sparse 40-bit address space.
//!
//! With the IMB table the card reports (`IMB[MU]` = mode 0, addr40; see
//! [`super::xpb`]), the driver puts an MU access's island into address bits
//! 37:32 (nfpcore/nfp_target.c:592-598), so EMEM of island 24 is at
//! `0x18_0000_0000`, CTM of island 4 at `0x04_0000_0000` and the service
//! processor's structures at `0x81_0000_0000`. Only pages that were written
//! are backed; everything else reads as zero.

use std::collections::HashMap;
use std::ops::Range;

/// Backing granule.
pub const MU_PAGE_SIZE: u64 = 4096;
/// CPP addresses are 40 bits wide.
pub const MU_ADDR_MASK: u64 = (1 << 40) - 1;

type Page = Box<[u8; MU_PAGE_SIZE as usize]>;

/// MU address of `addr` in island `island`: island 0 means "already a
/// 40-bit address"; otherwise the island goes into bits 37:32, as
/// `nfp_encode_mu()` does in mode 0 with addr40 (nfpcore/nfp_target.c:592-598).
pub fn mu_address(island: u8, addr: u64) -> u64 {
    if island == 0 {
        addr & MU_ADDR_MASK
    } else {
        (addr & !(0x3f << 32) & MU_ADDR_MASK) | (u64::from(island & 0x3f) << 32)
    }
}

#[derive(Default)]
pub struct Mu {
    pages: HashMap<u64, Page>,
}

impl std::fmt::Debug for Mu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mu")
            .field("pages", &self.pages.len())
            .finish()
    }
}

/// Iterate the (page number, offset in page, range in buffer) chunks of an
/// access of `len` bytes at `addr`.
fn chunks(addr: u64, len: usize) -> impl Iterator<Item = (u64, usize, Range<usize>)> {
    let mut done = 0usize;
    std::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let a = (addr.wrapping_add(done as u64)) & MU_ADDR_MASK;
        let page = a / MU_PAGE_SIZE;
        let off = (a % MU_PAGE_SIZE) as usize;
        let n = (MU_PAGE_SIZE as usize - off).min(len - done);
        let r = done..done + n;
        done += n;
        Some((page, off, r))
    })
}

impl Mu {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of backed pages (for introspection and tests).
    pub fn backed_pages(&self) -> usize {
        self.pages.len()
    }

    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        for (page, off, r) in chunks(addr, buf.len()) {
            match self.pages.get(&page) {
                Some(p) => buf[r.clone()].copy_from_slice(&p[off..off + r.len()]),
                None => buf[r].fill(0),
            }
        }
    }

    pub fn write(&mut self, addr: u64, data: &[u8]) {
        for (page, off, r) in chunks(addr, data.len()) {
            let p = self
                .pages
                .entry(page)
                .or_insert_with(|| Box::new([0; MU_PAGE_SIZE as usize]));
            p[off..off + r.len()].copy_from_slice(&data[r]);
        }
    }

    pub fn read_u32(&self, addr: u64) -> u32 {
        let mut b = [0; 4];
        self.read(addr, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn read_u64(&self, addr: u64) -> u64 {
        let mut b = [0; 8];
        self.read(addr, &mut b);
        u64::from_le_bytes(b)
    }

    pub fn write_u32(&mut self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes());
    }

    pub fn write_u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }

    /// Zero `len` bytes at `addr`: pages entirely inside are released, the
    /// cost is proportional to the backed pages, not to `len`.
    pub fn zero(&mut self, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        let end = addr.saturating_add(len);
        let first_full = addr.div_ceil(MU_PAGE_SIZE);
        let last_full = end / MU_PAGE_SIZE; // exclusive
        self.pages
            .retain(|&p, _| !(p >= first_full && p < last_full));
        // Partial pages at either end.
        let mut zero_partial = |a: u64, b: u64| {
            if a < b {
                let page = a / MU_PAGE_SIZE;
                if let Some(p) = self.pages.get_mut(&page) {
                    let off = (a % MU_PAGE_SIZE) as usize;
                    p[off..off + (b - a) as usize].fill(0);
                }
            }
        };
        let head_end = (first_full * MU_PAGE_SIZE).min(end);
        zero_partial(addr, head_end);
        let tail_start = (last_full * MU_PAGE_SIZE).max(head_end);
        zero_partial(tail_start, end);
    }

    /// Drop every page outside `keep` (a page-aligned range).
    pub fn retain(&mut self, keep: Range<u64>) {
        self.pages
            .retain(|&p, _| keep.contains(&(p * MU_PAGE_SIZE)));
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
mod tests {
    use super::*;

    #[test]
    fn island_addresses() {
        assert_eq!(mu_address(24, 0x81b000), 0x18_0081_b000);
        assert_eq!(mu_address(4, 0x400), 0x04_0000_0400);
        assert_eq!(mu_address(0, 0x81_0000_1000), 0x81_0000_1000);
    }

    #[test]
    fn sparse_reads_zero_and_writes_cross_pages() {
        let mut mu = Mu::new();
        assert_eq!(mu.read_u64(0x81_0000_0000), 0);
        assert_eq!(mu.backed_pages(), 0);
        let data: Vec<u8> = (0..10).collect();
        mu.write(0x18_0000_0ffc, &data);
        assert_eq!(mu.backed_pages(), 2);
        let mut back = [0u8; 10];
        mu.read(0x18_0000_0ffc, &mut back);
        assert_eq!(&back[..], &data[..]);
    }

    #[test]
    fn addresses_wrap_at_40_bits() {
        let mut mu = Mu::new();
        mu.write_u32(MU_ADDR_MASK - 1, 0x1122_3344);
        assert_eq!(mu.read_u32(MU_ADDR_MASK - 1), 0x1122_3344);
        // The last two bytes wrapped to address 0.
        assert_eq!(mu.read_u32(0) & 0xffff, 0x1122);
        assert_eq!(mu.read_u32(u64::MAX - 1), 0x1122_3344, "high bits ignored");
    }

    #[test]
    fn zero_releases_pages_and_clears_partial_ones() {
        let mut mu = Mu::new();
        for p in 0..4u64 {
            mu.write_u64(0x1000 * p + 0x10, 0xffff_ffff_ffff_ffff);
        }
        mu.write_u64(0x3ff8, 7);
        mu.zero(0x1000, 0x2000);
        assert_eq!(mu.backed_pages(), 2);
        assert_eq!(mu.read_u64(0x10), u64::MAX);
        assert_eq!(mu.read_u64(0x3010), u64::MAX);
        mu.zero(0x3008, 0x10);
        assert_eq!(mu.read_u64(0x3010), 0);
        assert_eq!(mu.read_u64(0x3ff8), 7);
        // A huge range costs nothing and clears everything inside.
        mu.zero(0, 1 << 40);
        assert_eq!(mu.backed_pages(), 0);
    }

    #[test]
    fn test_and_set_returns_old_and_ors_immediate() {
        let mut mu = Mu::new();
        let a = 0x81_0000_0020;
        assert_eq!(mu.test_and_set(a, 0xf), 0);
        assert_eq!(mu.atomic_read(a), 0xf);
        assert_eq!(mu.test_and_set(a, 0xf), 0xf);
        mu.atomic_write(a, 0x10ff_0000);
        assert_eq!(mu.test_and_set(a, 0xf), 0x10ff_0000);
        assert_eq!(mu.atomic_read(a), 0x10ff_000f);
    }

    #[test]
    fn retain_keeps_only_listed_ranges() {
        let mut mu = Mu::new();
        mu.write_u32(0x81_0000_0000, 1);
        mu.write_u32(0x18_0000_0000, 2);
        mu.retain(0x81_0000_0000..0x81_0100_0000);
        assert_eq!(mu.read_u32(0x81_0000_0000), 1);
        assert_eq!(mu.read_u32(0x18_0000_0000), 0);
    }
}
