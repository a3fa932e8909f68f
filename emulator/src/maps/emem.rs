//! The EMEM region of map tables: which address ranges hold a table and
//! which are free, and the zero-filled host storage behind a table.
//!
//! Placement is first fit over an address-ordered list of free extents,
//! coalesced with both neighbours on free, so a freed table's range is
//! whole again as soon as its neighbours are free (create/free of one
//! table in a loop reuses the same range forever). Two ends: extents of
//! at least [`LARGE_EXTENT`] bytes are placed first fit from the bottom of
//! the region, smaller ones first fit from the top, so small tables that
//! outlive large ones do not pin the large ones' holes apart (the classic
//! pattern that fragments a single-ended first fit: a large table, a
//! small one after it, the large one freed and a slightly larger one
//! asked for, again and again). The region is the card's
//! [`MemoryMap::map_region`](crate::cpp::memmap::MemoryMap::map_region).

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Alignment and size granule of a table's range (one EMEM cache line).
pub const EMEM_ALIGN: u64 = 64;

/// Extents of this size or more are placed from the bottom of the region,
/// smaller ones from the top.
pub const LARGE_EXTENT: u64 = 16 << 20;

/// First-fit allocator of table ranges in the map region.
#[derive(Debug, Clone)]
pub struct EmemAllocator {
    base: u64,
    end: u64,
    /// Free extents: start -> length, never two adjacent.
    free: BTreeMap<u64, u64>,
}

impl EmemAllocator {
    /// An allocator of `base..end` (rounded inwards to [`EMEM_ALIGN`]),
    /// all free.
    pub fn new(base: u64, end: u64) -> Self {
        let base = base.next_multiple_of(EMEM_ALIGN);
        let end = end - end % EMEM_ALIGN;
        let mut free = BTreeMap::new();
        if end > base {
            free.insert(base, end - base);
        }
        Self { base, end, free }
    }

    /// `size` rounded up to the allocation granule (None if it overflows).
    pub fn granule(size: u64) -> Option<u64> {
        size.max(1).checked_next_multiple_of(EMEM_ALIGN)
    }

    /// A free range of at least `size` bytes: its start and its length
    /// (what [`free`](Self::free) must be given back).
    pub fn alloc(&mut self, size: u64) -> Option<(u64, u64)> {
        let len = Self::granule(size)?;
        let (start, extent) = if len >= LARGE_EXTENT {
            let (&s, &l) = self.free.iter().find(|&(_, &l)| l >= len)?;
            (s, (s, l))
        } else {
            let (&s, &l) = self.free.iter().rev().find(|&(_, &l)| l >= len)?;
            (s + l - len, (s, l))
        };
        let (s, l) = extent;
        self.free.remove(&s);
        if start > s {
            self.free.insert(s, start - s);
        }
        if start + len < s + l {
            self.free.insert(start + len, s + l - start - len);
        }
        Some((start, len))
    }

    /// Give back `start..start+len` (as [`alloc`](Self::alloc) returned
    /// it), merged with free neighbours. A range outside the region or
    /// overlapping a free extent is refused (false) and nothing changes.
    pub fn free(&mut self, start: u64, len: u64) -> bool {
        let Some(end) = start.checked_add(len) else {
            return false;
        };
        if len == 0 || start < self.base || end > self.end {
            return false;
        }
        let prev = self.free.range(..end).next_back().map(|(&s, &l)| (s, l));
        if prev.is_some_and(|(s, l)| s + l > start) {
            return false;
        }
        let (mut s, mut l) = (start, len);
        if let Some((ps, pl)) = prev.filter(|&(ps, pl)| ps + pl == start) {
            self.free.remove(&ps);
            s = ps;
            l += pl;
        }
        if let Some(nl) = self.free.remove(&end) {
            l += nl;
        }
        self.free.insert(s, l);
        true
    }

    /// Free bytes in all.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }

    /// The longest free extent.
    pub fn largest_free(&self) -> u64 {
        self.free.values().copied().max().unwrap_or(0)
    }

    /// Number of free extents (1 when nothing is allocated).
    pub fn extents(&self) -> usize {
        self.free.len()
    }
}

/// Atomic words whose all-zero bit pattern is a valid value.
pub trait ZeroWord: Sized {}
impl ZeroWord for AtomicU64 {}
impl ZeroWord for AtomicU32 {}

/// `n` zeroed words from the allocator's zeroed pages (the OS maps them on
/// first touch, so a large table costs host memory only where it is
/// used); None if the host cannot give them.
pub fn zeroed<T: ZeroWord>(n: usize) -> Option<Box<[T]>> {
    let layout = Layout::array::<T>(n).ok()?;
    if layout.size() == 0 {
        return Some(Box::default());
    }
    // SAFETY: `layout` has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` was just allocated by the global allocator with the
    // layout of `[T; n]`, as `Box<[T]>` frees it; every byte is zero, a
    // valid `T` for the atomic integer types `ZeroWord` admits; nothing
    // else refers to it.
    Some(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn check(a: &EmemAllocator, live: &[(u64, u64)]) {
        // Free extents and live ranges tile the region exactly.
        let mut all: Vec<(u64, u64, bool)> = a.free.iter().map(|(&s, &l)| (s, l, true)).collect();
        all.extend(live.iter().map(|&(s, l)| (s, l, false)));
        all.sort_unstable();
        let mut at = a.base;
        let mut prev_free = false;
        for (s, l, is_free) in all {
            assert_eq!(s, at, "gap or overlap at {s:#x}");
            assert_eq!(s % EMEM_ALIGN, 0);
            assert!(!(prev_free && is_free), "adjacent free extents not merged");
            prev_free = is_free;
            at = s + l;
        }
        assert_eq!(at, a.end);
    }

    #[test]
    fn one_range_reused_forever() {
        let mut a = EmemAllocator::new(0x1000, 0x1000 + 2048 * MIB);
        for _ in 0..10_000 {
            let (s, l) = a.alloc(208 * MIB + 7).unwrap();
            assert_eq!((s, l), (0x1000, 208 * MIB + 64));
            assert!(a.free(s, l));
            assert_eq!(a.extents(), 1);
        }
    }

    #[test]
    fn coalesces_in_any_free_order() {
        let mut a = EmemAllocator::new(0, 64 * MIB);
        let r: Vec<_> = (0..8).map(|_| a.alloc(8 * MIB).unwrap()).collect();
        assert_eq!(a.alloc(1), None, "full");
        for i in [3, 1, 7, 0, 5, 2, 6, 4] {
            assert!(a.free(r[i].0, r[i].1));
        }
        assert_eq!((a.extents(), a.largest_free()), (1, 64 * MIB));
        assert_eq!(a.alloc(64 * MIB), Some((0, 64 * MIB)));
    }

    #[test]
    fn bad_frees_change_nothing() {
        let mut a = EmemAllocator::new(0, MIB);
        let (s, l) = a.alloc(4096).unwrap();
        assert!(!a.free(s + l, 64), "already free");
        assert!(!a.free(u64::MAX - 10, 64), "overflow");
        assert!(!a.free(2 * MIB, 64), "outside");
        assert!(!a.free(s, 0));
        assert!(a.free(s, l));
        assert!(!a.free(s, l), "double free");
        assert_eq!(a.free_bytes(), MIB);
        assert_eq!(a.alloc(u64::MAX), None);
    }

    /// Small tables pinned between freed large ones, each large one a
    /// little larger than the last: a single-ended first fit (or a bump
    /// pointer) leaves every hole too small for the next request and runs
    /// out; placing small ranges from the top keeps the bottom whole.
    #[test]
    fn small_pins_do_not_split_large_holes() {
        let mut a = EmemAllocator::new(0, 2048 * MIB);
        let mut pins = Vec::new();
        for i in 0..1000u64 {
            let big = a.alloc(200 * MIB + i * 4096).unwrap();
            if pins.len() < 63 {
                pins.push(a.alloc(64 + 64 * (i % 7)).unwrap());
            }
            assert!(a.free(big.0, big.1));
            check(&a, &pins);
        }
    }

    /// Random interleavings of sizes from 64 bytes to 300 MiB with at most
    /// 600 MiB live never fail and keep the free list exact.
    #[test]
    fn random_mixed_sizes_never_fail_below_a_third_of_the_region() {
        let mut a = EmemAllocator::new(0, 2048 * MIB);
        let mut live: Vec<(u64, u64)> = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let used: u64 = live.iter().map(|r| r.1).sum();
            if !live.is_empty() && (next() % 2 == 0 || live.len() >= 64) {
                let r = live.swap_remove((next() % live.len() as u64) as usize);
                assert!(a.free(r.0, r.1));
            } else {
                let size = match next() % 4 {
                    0 => 64 + next() % 4096,
                    1 => next() % (4 * MIB),
                    2 => next() % (64 * MIB),
                    _ => next() % (300 * MIB),
                };
                if used + size <= 600 * MIB {
                    live.push(
                        a.alloc(size)
                            .expect("fragmentation refused a fitting table"),
                    );
                }
            }
            check(&a, &live);
        }
    }
}
