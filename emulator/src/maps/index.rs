//! The index of a hash map: key -> element slot, for fixed-size keys.
//!
//! Open addressing with linear probing over a flat array of buckets, each
//! a 32-bit slot word and the key inline (so a lookup usually touches one
//! cache line), sized at creation for the map's `max_entries` at a load of
//! at most 3/4 (any bucket count, not a power of two: the hash picks the
//! home bucket by multiply-shift) and never resized. Keys are hashed with a
//! per-table random seed (foldhash), so a guest cannot aim keys at one
//! probe chain.
//!
//! Readers (the datapath's lookups) take no lock and write nothing shared.
//! Keys are rewritten in place only by deletes (deletion by backward
//! shift: no tombstones, so probe chains never degrade), and a delete
//! holds a table-wide version odd while it moves entries; a reader checks
//! that version before and after its probe and looks again if a delete
//! ran meanwhile. An insert writes the key into an empty bucket before it
//! publishes the slot word. Writers (updates and deletes from the control
//! plane or from programs) are serialised by a mutex held for one probe
//! chain.
//!
//! Iteration (GETFIRST/GETNEXT) is in slot order: a slot keeps its element
//! until the element is deleted, so a walk from any key moves strictly
//! forward and ends, whatever else is deleted or inserted meanwhile.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use parking_lot::{Mutex, MutexGuard};

use super::emem::zeroed;

/// Largest key in 32-bit words (`MAP_MAX_KV_SIZE` bytes).
pub const MAX_KEY_WORDS: usize = super::MAP_MAX_KV_SIZE as usize / 4;

/// A key as the index stores it: little-endian words, zero-padded.
pub type KeyWords = [u32; MAX_KEY_WORDS];

/// `link` value of a slot with no successor in the free list.
const NO_SLOT: u32 = u32::MAX;

/// Pack `key` (at most `MAP_MAX_KV_SIZE` bytes) into words.
pub fn pack(key: &[u8]) -> KeyWords {
    let mut w = [0u32; MAX_KEY_WORDS];
    let mut chunks = key.chunks_exact(4);
    for (d, c) in w.iter_mut().zip(&mut chunks) {
        *d = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 4];
        b[..rest.len()].copy_from_slice(rest);
        if let Some(d) = w.get_mut(key.len() / 4) {
            *d = u32::from_le_bytes(b);
        }
    }
    w
}

/// What a writer keeps beside the buckets.
#[derive(Debug)]
struct Slots {
    /// Per slot: its bucket when the slot is in use, else the next free
    /// slot (or `NO_SLOT`).
    link: Box<[AtomicU32]>,
    /// Per slot, one bit: in use.
    used: Box<[AtomicU64]>,
    /// Head of the free list of deleted slots.
    free_head: u32,
    /// Slots `fresh..` were never used.
    fresh: u32,
}

/// The writer's side of the index (held while updating or iterating).
pub struct Writer<'a> {
    ix: &'a HashIndex,
    s: MutexGuard<'a, Slots>,
}

/// The hash index of one map.
#[derive(Debug)]
pub struct HashIndex {
    key_words: usize,
    bucket_words: usize,
    nb: usize,
    max_entries: u32,
    /// Per bucket: slot + 1 (0: empty), then the key.
    buckets: Box<[AtomicU32]>,
    hasher: foldhash::fast::RandomState,
    /// Odd while a delete moves entries; +2 per delete.
    shifts: AtomicU64,
    len: AtomicU32,
    slots: Mutex<Slots>,
}

impl HashIndex {
    /// Buckets for `max_entries` keys: load at most 3/4.
    pub fn buckets_for(max_entries: u32) -> u64 {
        (u64::from(max_entries) * 4).div_ceil(3).max(2)
    }

    /// Host bytes an index of `max_entries` keys of `key_size` bytes takes.
    pub fn footprint(key_size: u32, max_entries: u32) -> u64 {
        let bucket = 4 * (1 + u64::from(key_size).div_ceil(4));
        let n = u64::from(max_entries);
        Self::buckets_for(max_entries) * bucket + 4 * n + n.div_ceil(64) * 8
    }

    /// An empty index (None if the host cannot give the memory).
    pub fn new(key_size: u32, max_entries: u32) -> Option<Self> {
        let key_words = (key_size as usize).div_ceil(4).min(MAX_KEY_WORDS);
        // Bucket numbers are kept in 32 bits.
        let nb = Some(Self::buckets_for(max_entries)).filter(|&n| n <= 1 << 32)?;
        let nb = usize::try_from(nb).ok()?;
        let bucket_words = 1 + key_words;
        Some(Self {
            key_words,
            bucket_words,
            nb,
            max_entries,
            buckets: zeroed(nb.checked_mul(bucket_words)?)?,
            hasher: foldhash::fast::RandomState::default(),
            shifts: AtomicU64::new(0),
            len: AtomicU32::new(0),
            slots: Mutex::new(Slots {
                link: zeroed(max_entries as usize)?,
                used: zeroed((max_entries as usize).div_ceil(64))?,
                free_head: NO_SLOT,
                fresh: 0,
            }),
        })
    }

    /// Elements in the index.
    pub fn len(&self) -> u32 {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn home(&self, key: &[u32]) -> usize {
        let mut h = self.hasher.build_hasher();
        for pair in key.chunks(2) {
            let hi = pair.get(1).copied().unwrap_or(0);
            h.write_u64(u64::from(hi) << 32 | u64::from(pair[0]));
        }
        // Multiply-shift onto 0..nb (the hash's high bits pick).
        ((u128::from(h.finish()) * self.nb as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.nb { 0 } else { i + 1 }
    }

    fn bucket(&self, i: usize) -> &[AtomicU32] {
        &self.buckets[i * self.bucket_words..(i + 1) * self.bucket_words]
    }

    /// The slot of `key` (packed), without a lock.
    pub fn find(&self, key: &KeyWords) -> Option<u32> {
        let key = &key[..self.key_words];
        let home = self.home(key);
        let mut tries = 0u32;
        loop {
            let shifts = self.shifts.load(Ordering::Acquire);
            let mut found = None;
            if shifts & 1 == 0 {
                let mut i = home;
                for _ in 0..self.nb {
                    let b = self.bucket(i);
                    let slot = b[0].load(Ordering::Acquire);
                    if slot == 0 {
                        break;
                    }
                    if key
                        .iter()
                        .zip(&b[1..])
                        .all(|(k, w)| w.load(Ordering::Relaxed) == *k)
                    {
                        found = Some(slot - 1);
                        break;
                    }
                    i = self.next(i);
                }
                // The answer stands if no delete moved keys meanwhile.
                fence(Ordering::Acquire);
                if self.shifts.load(Ordering::Relaxed) == shifts {
                    return found;
                }
            }
            tries = tries.wrapping_add(1);
            if tries % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// The writer's side: updates, deletes and iteration.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            ix: self,
            s: self.slots.lock(),
        }
    }
}

/// Where an absent key goes: the empty bucket ending its chain (valid
/// while the [`Writer`] that found it is held).
#[derive(Debug)]
pub struct Vacant(usize);

impl Writer<'_> {
    /// (bucket, slot) of `key`, or the empty bucket ending its chain.
    fn locate(&self, key: &[u32]) -> Result<(usize, u32), usize> {
        let ix = self.ix;
        let mut i = ix.home(key);
        loop {
            let b = ix.bucket(i);
            let slot = b[0].load(Ordering::Relaxed);
            if slot == 0 {
                return Err(i);
            }
            if key
                .iter()
                .zip(&b[1..])
                .all(|(k, w)| w.load(Ordering::Relaxed) == *k)
            {
                return Ok((i, slot - 1));
            }
            // The load stays below one, so an empty bucket ends every chain.
            i = ix.next(i);
        }
    }

    /// The slot of `key`, or where to insert it.
    pub fn entry(&self, key: &KeyWords) -> Result<u32, Vacant> {
        self.locate(&key[..self.ix.key_words])
            .map(|(_, s)| s)
            .map_err(Vacant)
    }

    /// The slot of `key`.
    pub fn find(&self, key: &KeyWords) -> Option<u32> {
        self.entry(key).ok()
    }

    /// Write `key` and `slot` into bucket `i` (the slot word last).
    fn fill(&self, i: usize, key: &[u32], slot: u32) {
        let b = self.ix.bucket(i);
        for (w, k) in b[1..].iter().zip(key) {
            w.store(*k, Ordering::Relaxed);
        }
        b[0].store(slot + 1, Ordering::Release);
    }

    /// Insert `key` in a free slot, at the place [`entry`](Self::entry)
    /// found for it; `init` fills the slot's value before readers can see
    /// the key. None when every slot is in use.
    pub fn insert(
        &mut self,
        Vacant(bucket): Vacant,
        key: &KeyWords,
        init: impl FnOnce(u32),
    ) -> Option<u32> {
        let key = &key[..self.ix.key_words];
        let slot = if self.s.free_head != NO_SLOT {
            let s = self.s.free_head;
            self.s.free_head = self.s.link[s as usize].load(Ordering::Relaxed);
            s
        } else if self.s.fresh < self.ix.max_entries {
            self.s.fresh += 1;
            self.s.fresh - 1
        } else {
            return None;
        };
        init(slot);
        self.s.link[slot as usize].store(bucket as u32, Ordering::Relaxed);
        self.s.used[slot as usize / 64].fetch_or(1 << (slot % 64), Ordering::Relaxed);
        self.fill(bucket, key, slot);
        self.ix.len.fetch_add(1, Ordering::Relaxed);
        Some(slot)
    }

    /// Remove `key`; its slot, now free.
    pub fn remove(&mut self, key: &KeyWords) -> Option<u32> {
        let ix = self.ix;
        let key = &key[..ix.key_words];
        let (mut hole, slot) = self.locate(key).ok()?;
        let shifts = ix.shifts.load(Ordering::Relaxed);
        ix.shifts.store(shifts.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        // Backward shift (Knuth 6.4, algorithm R): move each later entry
        // of the chain whose home is not cyclically in (hole, j].
        let mut j = hole;
        loop {
            j = ix.next(j);
            let b = ix.bucket(j);
            let moved = b[0].load(Ordering::Relaxed);
            if moved == 0 {
                break;
            }
            let mut k = [0u32; MAX_KEY_WORDS];
            for (d, w) in k.iter_mut().zip(&b[1..]) {
                *d = w.load(Ordering::Relaxed);
            }
            let k = &k[..ix.key_words];
            let home = ix.home(k);
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if stays {
                continue;
            }
            self.fill(hole, k, moved - 1);
            self.s.link[(moved - 1) as usize].store(hole as u32, Ordering::Relaxed);
            hole = j;
        }
        ix.bucket(hole)[0].store(0, Ordering::Release);
        ix.shifts.store(shifts.wrapping_add(2), Ordering::Release);
        let s = slot as usize;
        self.s.used[s / 64].fetch_and(!(1 << (s % 64)), Ordering::Relaxed);
        self.s.link[s].store(self.s.free_head, Ordering::Relaxed);
        self.s.free_head = slot;
        ix.len.fetch_sub(1, Ordering::Relaxed);
        Some(slot)
    }

    /// The first slot in use at or after `from`.
    pub fn next_used(&self, from: u32) -> Option<u32> {
        let mut w = from as usize / 64;
        let mut bits = self.s.used.get(w)?.load(Ordering::Relaxed) & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some((w * 64) as u32 + bits.trailing_zeros());
            }
            w += 1;
            bits = self.s.used.get(w)?.load(Ordering::Relaxed);
        }
    }

    /// The key in slot `slot` (in use) as bytes, into `out`.
    pub fn key_of(&self, slot: u32, out: &mut [u8]) {
        let bucket = self.s.link[slot as usize].load(Ordering::Relaxed) as usize;
        let b = self.ix.bucket(bucket);
        for (chunk, w) in out.chunks_mut(4).zip(&b[1..]) {
            let bytes = w.load(Ordering::Relaxed).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests;
