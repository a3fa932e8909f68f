//! One map: its values (atomic 64-bit words at a stable EMEM address) and,
//! for a hash map, its index.

use std::sync::atomic::{AtomicU64, Ordering};

use super::emem::zeroed;
use super::index::{HashIndex, pack};
use super::{BPF_EXIST, BPF_MAP_TYPE_HASH, BPF_NOEXIST, MapError};

/// One map.
#[derive(Debug)]
pub struct Table {
    /// The table id the driver names it by.
    pub tid: u32,
    /// `BPF_MAP_TYPE_HASH` or `BPF_MAP_TYPE_ARRAY`.
    pub map_type: u32,
    /// Bytes of a key.
    pub key_size: u32,
    /// Bytes of a value.
    pub value_size: u32,
    /// Most elements.
    pub max_entries: u32,
    /// EMEM address of element 0's value.
    pub base: u64,
    /// Bytes from one value to the next (value size rounded up to 8).
    pub stride: u64,
    /// Bytes of EMEM the table occupies (values, then the index).
    pub extent: u64,
    values: Box<[AtomicU64]>,
    index: Option<HashIndex>,
}

impl Table {
    /// Bytes of EMEM a table of these dimensions occupies: its values and,
    /// for a hash map, its index (None if that overflows).
    pub fn footprint(
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> Option<u64> {
        let values = u64::from(value_size)
            .div_ceil(8)
            .checked_mul(8 * u64::from(max_entries))?;
        if map_type == BPF_MAP_TYPE_HASH {
            values.checked_add(HashIndex::footprint(key_size, max_entries))
        } else {
            Some(values)
        }
    }

    /// An empty table at EMEM `base` (arrays zero-filled); None if the host
    /// cannot give its memory.
    pub fn new(
        tid: u32,
        map_type: u32,
        (key_size, value_size, max_entries): (u32, u32, u32),
        base: u64,
        extent: u64,
    ) -> Option<Self> {
        let stride = u64::from(value_size).div_ceil(8) * 8;
        let words = usize::try_from(stride / 8 * u64::from(max_entries)).ok()?;
        let index = if map_type == BPF_MAP_TYPE_HASH {
            Some(HashIndex::new(key_size, max_entries)?)
        } else {
            None
        };
        Some(Self {
            tid,
            map_type,
            key_size,
            value_size,
            max_entries,
            base,
            stride,
            extent,
            values: zeroed(words)?,
            index,
        })
    }

    /// Bytes of the value region.
    pub fn size(&self) -> u64 {
        self.stride * u64::from(self.max_entries)
    }

    /// Whether EMEM bytes `addr..addr+len` are values of this table.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.base
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= self.base + self.size())
    }

    /// Read value bytes at region offset `off` (word by word); false if
    /// they are not all inside the region.
    pub fn read(&self, off: u64, out: &mut [u8]) -> bool {
        if off.saturating_add(out.len() as u64) > self.size() {
            return false;
        }
        let mut i = 0usize;
        while i < out.len() {
            let a = off + i as u64;
            let w = self.values[(a / 8) as usize]
                .load(Ordering::Relaxed)
                .to_le_bytes();
            let first = (a % 8) as usize;
            let n = (8 - first).min(out.len() - i);
            out[i..i + n].copy_from_slice(&w[first..first + n]);
            i += n;
        }
        true
    }

    /// Write value bytes at region offset `off` (word by word); false if
    /// they are not all inside the region.
    pub fn write(&self, off: u64, data: &[u8]) -> bool {
        if off.saturating_add(data.len() as u64) > self.size() {
            return false;
        }
        let mut i = 0usize;
        while i < data.len() {
            let a = off + i as u64;
            let w = &self.values[(a / 8) as usize];
            let first = (a % 8) as usize;
            let n = (8 - first).min(data.len() - i);
            if n == 8 {
                w.store(
                    u64::from_le_bytes(data[i..i + 8].try_into().unwrap_or_default()),
                    Ordering::Release,
                );
            } else {
                let _ = w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                    let mut b = old.to_le_bytes();
                    b[first..first + n].copy_from_slice(&data[i..i + n]);
                    Some(u64::from_le_bytes(b))
                });
            }
            i += n;
        }
        true
    }

    /// Atomically add `v` to the big-endian 32-bit word at region offset
    /// `off` (or, `wide`, to the 64-bit value whose big-endian low word is
    /// at `off` and high word at `off + 4`: docs/me-isa.md#memory-commands); false if the
    /// word is unaligned or outside the region.
    pub fn add(&self, off: u64, v: u64, wide: bool) -> bool {
        let len = if wide { 8 } else { 4 };
        if off % 4 != 0 || off.saturating_add(len) > self.size() {
            return false;
        }
        let w = &self.values[(off / 8) as usize];
        let lane = (off % 8) as usize;
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if wide && lane != 0 {
            // Two words in two u64s: the JIT only adds to aligned u64
            // values, so this is never hot; add each half with carry.
            let hi_w = &self.values[(off / 8 + 1) as usize];
            let mut carry = 0u32;
            let _ = w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let mut b = old.to_le_bytes();
                let (x, c) = be(&b[4..8]).overflowing_add(v as u32);
                carry = u32::from(c);
                b[4..8].copy_from_slice(&x.to_be_bytes());
                Some(u64::from_le_bytes(b))
            });
            let _ = hi_w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let mut b = old.to_le_bytes();
                let x = be(&b[0..4])
                    .wrapping_add((v >> 32) as u32)
                    .wrapping_add(carry);
                b[0..4].copy_from_slice(&x.to_be_bytes());
                Some(u64::from_le_bytes(b))
            });
            return true;
        }
        let _ = w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
            let mut b = old.to_le_bytes();
            if wide {
                let lo = u64::from(be(&b[0..4]));
                let hi = u64::from(be(&b[4..8]));
                let s = (hi << 32 | lo).wrapping_add(v);
                b[0..4].copy_from_slice(&(s as u32).to_be_bytes());
                b[4..8].copy_from_slice(&((s >> 32) as u32).to_be_bytes());
            } else {
                let s = be(&b[lane..lane + 4]).wrapping_add(v as u32);
                b[lane..lane + 4].copy_from_slice(&s.to_be_bytes());
            }
            Some(u64::from_le_bytes(b))
        });
        true
    }

    fn slot_off(&self, slot: u32) -> u64 {
        u64::from(slot) * self.stride
    }

    fn array_index(&self, key: &[u8]) -> Option<u32> {
        let k = u32::from_le_bytes(key.get(..4)?.try_into().ok()?);
        (k < self.max_entries).then_some(k)
    }

    /// The key's bytes, if it is at least `key_size` long.
    fn key<'k>(&self, key: &'k [u8]) -> Result<&'k [u8], MapError> {
        key.get(..self.key_size as usize).ok_or(MapError::Inval)
    }

    /// Slot of `key`, if present (no lock).
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        match &self.index {
            Some(ix) => ix.find(&pack(self.key(key).ok()?)),
            None => self.array_index(key),
        }
    }

    /// EMEM address of the value of `key`.
    pub fn lookup(&self, key: &[u8]) -> Option<u64> {
        self.find(key).map(|s| self.base + self.slot_off(s))
    }

    /// A copy of the value of slot `slot`.
    pub fn value(&self, slot: u32, out: &mut [u8]) {
        self.read(self.slot_off(slot), out);
    }

    /// `bpf_map_update_elem` semantics.
    pub fn update(&self, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        if flags > BPF_EXIST {
            return Err(MapError::Inval);
        }
        let value = value
            .get(..self.value_size as usize)
            .ok_or(MapError::Inval)?;
        let Some(ix) = &self.index else {
            let s = self.array_index(key).ok_or(MapError::TooBig)?;
            if flags == BPF_NOEXIST {
                return Err(MapError::Exist);
            }
            self.write(self.slot_off(s), value);
            return Ok(());
        };
        let key = pack(self.key(key)?);
        let mut w = ix.writer();
        match w.entry(&key) {
            Ok(_) if flags == BPF_NOEXIST => Err(MapError::Exist),
            Ok(s) => {
                self.write(self.slot_off(s), value);
                Ok(())
            }
            Err(_) if flags == BPF_EXIST => Err(MapError::NoEnt),
            Err(vacant) => w
                .insert(vacant, &key, |s| {
                    // A new element starts from zero, then its value.
                    let first = (self.slot_off(s) / 8) as usize;
                    for word in &self.values[first..first + (self.stride / 8) as usize] {
                        word.store(0, Ordering::Relaxed);
                    }
                    self.write(self.slot_off(s), value);
                })
                .map(drop)
                .ok_or(MapError::TooBig),
        }
    }

    /// `bpf_map_delete_elem` semantics (arrays cannot delete).
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        let ix = self.index.as_ref().ok_or(MapError::Inval)?;
        let key = pack(self.key(key)?);
        ix.writer().remove(&key).map(drop).ok_or(MapError::NoEnt)
    }

    /// Up to `n` (key, slot) pairs after `after` (from the first when
    /// `after` is None or not in the map: kernel GETNEXT semantics), in
    /// slot order.
    pub fn next_keys(&self, after: Option<&[u8]>, n: usize) -> Vec<(Vec<u8>, u32)> {
        let mut out = Vec::new();
        match &self.index {
            Some(ix) => {
                let w = ix.writer();
                let mut from = after
                    .and_then(|k| w.find(&pack(self.key(k).ok()?)))
                    .map_or(0, |s| s + 1);
                while out.len() < n {
                    let Some(s) = w.next_used(from) else { break };
                    let mut k = vec![0u8; self.key_size as usize];
                    w.key_of(s, &mut k);
                    out.push((k, s));
                    from = s + 1;
                }
            }
            None => {
                let first = after.and_then(|k| self.array_index(k)).map_or(0, |i| i + 1);
                out.extend(
                    (first..self.max_entries)
                        .take(n)
                        .map(|i| (i.to_le_bytes().to_vec(), i)),
                );
            }
        }
        out
    }

    /// Elements in use.
    pub fn len(&self) -> u32 {
        self.index.as_ref().map_or(self.max_entries, HashIndex::len)
    }

    /// Whether no element is in use.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
