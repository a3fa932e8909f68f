//! Device-resident BPF maps (bpf.md §6): tables the driver creates and
//! reads/writes with control messages over the control vNIC ([`ccm`]),
//! and that offloaded programs reach through the firmware's helpers
//! (lookup/update/delete) and through 40-bit EMEM pointers to their values
//! (loads and atomic adds).
//!
//! Values live in EMEM at stable addresses: a program may keep a pointer
//! from a lookup and add to it. They are stored as atomic 64-bit words so
//! the flow-processor workers and the control plane can touch them
//! concurrently; the hash index is behind a lock held only for a lookup or
//! an insert.

pub mod caps;
pub mod ccm;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};
use tracing::{debug, info};

use caps::MapLimits;

/// `BPF_MAP_TYPE_HASH` / `_ARRAY` (include/uapi/linux/bpf.h).
pub const BPF_MAP_TYPE_HASH: u32 = 1;
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// Update flags (include/uapi/linux/bpf.h).
pub const BPF_ANY: u64 = 0;
pub const BPF_NOEXIST: u64 = 1;
pub const BPF_EXIST: u64 = 2;

/// Largest key or value this firmware model handles, whatever the
/// capabilities of a (guest-supplied) image announce.
pub const MAP_MAX_KV_SIZE: u32 = 256;

/// Where map values live: EMEM (MU island 24), above what the firmware
/// image uses.
pub const MAP_EMEM_BASE: u64 = 0x18_8000_0000;
/// End of the map value region.
pub const MAP_EMEM_END: u64 = 0x19_0000_0000;

/// Why a map operation failed, as the firmware reports it in control
/// message replies (`CMSG_RC_ERR_*`, bpf/fw.h:62-71) and helpers return
/// it (negative errno).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// No such table.
    BadMap,
    NoEnt,
    /// Invalid request.
    Inval,
    Exist,
    NoMem,
    TooBig,
}

impl MapError {
    /// `CMSG_RC_ERR_*` (bpf/fw.h:62-71).
    pub fn rc(self) -> u32 {
        match self {
            MapError::BadMap => 1,
            MapError::NoEnt => 2,
            MapError::Inval => 3,
            MapError::Exist => 5,
            MapError::NoMem => 6,
            MapError::TooBig => 7,
        }
    }

    /// The errno a helper returns (include/uapi/asm-generic/errno*.h).
    pub fn errno(self) -> i64 {
        match self {
            MapError::BadMap => 77, // EBADFD
            MapError::NoEnt => 2,
            MapError::Inval => 22,
            MapError::Exist => 17,
            MapError::NoMem => 12,
            MapError::TooBig => 7,
        }
    }
}

/// The hash index: key bytes -> element slot, in key order (the order
/// GETFIRST/GETNEXT walk).
#[derive(Debug, Default)]
struct HashIndex {
    keys: BTreeMap<Box<[u8]>, u32>,
    free: Vec<u32>,
}

/// One map.
#[derive(Debug)]
pub struct Table {
    pub tid: u32,
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// EMEM address of element 0's value.
    pub base: u64,
    /// Bytes from one value to the next (value size rounded up to 8).
    pub stride: u64,
    values: Box<[AtomicU64]>,
    index: Option<RwLock<HashIndex>>,
}

impl Table {
    fn new(
        tid: u32,
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        base: u64,
    ) -> Self {
        let stride = u64::from(value_size).div_ceil(8) * 8;
        let words = (stride / 8) as usize * max_entries as usize;
        Self {
            tid,
            map_type,
            key_size,
            value_size,
            max_entries,
            base,
            stride,
            values: (0..words).map(|_| AtomicU64::new(0)).collect(),
            index: (map_type == BPF_MAP_TYPE_HASH).then(|| RwLock::new(HashIndex::default())),
        }
    }

    /// Bytes of the value region.
    pub fn size(&self) -> u64 {
        self.stride * u64::from(self.max_entries)
    }

    fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.base && addr.saturating_add(len) <= self.base + self.size()
    }

    /// Read value bytes at region offset `off` (word by word).
    fn read(&self, off: u64, out: &mut [u8]) {
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
    }

    /// Write value bytes at region offset `off` (word by word).
    fn write(&self, off: u64, data: &[u8]) {
        let mut i = 0usize;
        while i < data.len() {
            let a = off + i as u64;
            let w = &self.values[(a / 8) as usize];
            let first = (a % 8) as usize;
            let n = (8 - first).min(data.len() - i);
            let _ = w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let mut b = old.to_le_bytes();
                b[first..first + n].copy_from_slice(&data[i..i + n]);
                Some(u64::from_le_bytes(b))
            });
            i += n;
        }
    }

    /// Atomically add `v` to the big-endian 32-bit word at region offset
    /// `off` (or, `wide`, to the 64-bit value whose big-endian low word is
    /// at `off` and high word at `off + 4`: bpf.md §4.4.10).
    fn add(&self, off: u64, v: u64, wide: bool) -> bool {
        if off % 4 != 0 || off + if wide { 8 } else { 4 } > self.size() {
            return false;
        }
        let w = &self.values[(off / 8) as usize];
        let lane = (off % 8) as usize;
        if wide && lane != 0 {
            // Two words in two u64s: the JIT only adds to aligned u64
            // values, so this is never hot; add each half with carry.
            let (lo_w, hi_w) = (w, &self.values[(off / 8 + 1) as usize]);
            let mut carry = 0u64;
            let _ = lo_w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let mut b = old.to_le_bytes();
                let x = u64::from(u32::from_be_bytes([b[4], b[5], b[6], b[7]])) + (v & 0xffff_ffff);
                carry = x >> 32;
                b[4..8].copy_from_slice(&(x as u32).to_be_bytes());
                Some(u64::from_le_bytes(b))
            });
            let _ = hi_w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                let mut b = old.to_le_bytes();
                let x = u32::from_be_bytes([b[0], b[1], b[2], b[3]])
                    .wrapping_add((v >> 32) as u32)
                    .wrapping_add(carry as u32);
                b[0..4].copy_from_slice(&x.to_be_bytes());
                Some(u64::from_le_bytes(b))
            });
            return true;
        }
        let _ = w.fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
            let mut b = old.to_le_bytes();
            let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
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

    /// Slot of `key`, if present.
    pub fn find(&self, key: &[u8]) -> Option<u32> {
        match &self.index {
            Some(ix) => ix.read().keys.get(key).copied(),
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
        let slot = match &self.index {
            None => {
                let s = self.array_index(key).ok_or(MapError::TooBig)?;
                if flags == BPF_NOEXIST {
                    return Err(MapError::Exist);
                }
                s
            }
            Some(ix) => {
                let key = key.get(..self.key_size as usize).ok_or(MapError::Inval)?;
                let mut ix = ix.write();
                match ix.keys.get(key).copied() {
                    Some(s) if flags == BPF_NOEXIST => {
                        let _ = s;
                        return Err(MapError::Exist);
                    }
                    Some(s) => s,
                    None if flags == BPF_EXIST => return Err(MapError::NoEnt),
                    None => {
                        let used = ix.keys.len() as u32;
                        let s = match ix.free.pop() {
                            Some(s) => s,
                            None if used < self.max_entries => used,
                            None => return Err(MapError::TooBig),
                        };
                        // A new element starts from zero before its value.
                        let w = (self.slot_off(s) / 8) as usize;
                        for word in &self.values[w..w + (self.stride / 8) as usize] {
                            word.store(0, Ordering::Relaxed);
                        }
                        ix.keys.insert(key.into(), s);
                        s
                    }
                }
            }
        };
        self.write(self.slot_off(slot), value);
        Ok(())
    }

    /// `bpf_map_delete_elem` semantics (arrays cannot delete).
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        let ix = self.index.as_ref().ok_or(MapError::Inval)?;
        let mut ix = ix.write();
        let key = key.get(..self.key_size as usize).ok_or(MapError::Inval)?;
        let s = ix.keys.remove(key).ok_or(MapError::NoEnt)?;
        ix.free.push(s);
        Ok(())
    }

    /// Up to `n` (key, slot) pairs after `after` (from the first when
    /// `after` is None or not in the map: kernel GETNEXT semantics).
    pub fn next_keys(&self, after: Option<&[u8]>, n: usize) -> Vec<(Vec<u8>, u32)> {
        match &self.index {
            Some(ix) => {
                let ix = ix.read();
                let start = match after {
                    Some(k) if ix.keys.contains_key(k) => Bound::Excluded(k),
                    _ => Bound::Unbounded,
                };
                ix.keys
                    .range::<[u8], _>((start, Bound::Unbounded))
                    .take(n)
                    .map(|(k, s)| (k.to_vec(), *s))
                    .collect()
            }
            None => {
                let first = match after.and_then(|k| self.array_index(k)) {
                    Some(i) => i + 1,
                    None => 0,
                };
                (first..self.max_entries)
                    .take(n)
                    .map(|i| (i.to_le_bytes().to_vec(), i))
                    .collect()
            }
        }
    }

    /// Elements in use.
    pub fn len(&self) -> u32 {
        match &self.index {
            Some(ix) => ix.read().keys.len() as u32,
            None => self.max_entries,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The maps of the running firmware.
#[derive(Debug, Default)]
pub struct MapStore {
    limits: RwLock<Option<MapLimits>>,
    tables: RwLock<Vec<Arc<Table>>>,
    next_tid: AtomicU32,
    /// Next free EMEM address for a table.
    next_base: Mutex<u64>,
}

impl MapStore {
    pub fn new() -> Self {
        Self {
            next_tid: AtomicU32::new(1),
            next_base: Mutex::new(MAP_EMEM_BASE),
            ..Self::default()
        }
    }

    /// Firmware (re)start: forget every table; `limits` from its
    /// capabilities (None: the firmware has no maps).
    pub fn reset(&self, limits: Option<MapLimits>) {
        *self.limits.write() = limits;
        self.tables.write().clear();
        *self.next_base.lock() = MAP_EMEM_BASE;
    }

    pub fn limits(&self) -> Option<MapLimits> {
        *self.limits.read()
    }

    pub fn table(&self, tid: u32) -> Option<Arc<Table>> {
        self.tables.read().iter().find(|t| t.tid == tid).cloned()
    }

    /// Every table (for introspection).
    pub fn tables(&self) -> Vec<Arc<Table>> {
        self.tables.read().clone()
    }

    /// `MAP_ALLOC`: check the request against the firmware's limits and
    /// create the table (arrays start zero-filled).
    pub fn alloc(
        &self,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        map_type: u32,
        flags: u32,
    ) -> Result<u32, MapError> {
        let l = self.limits().ok_or(MapError::Inval)?;
        let type_ok = map_type < 32 && l.types & 1 << map_type != 0;
        let kinds_ok =
            map_type == BPF_MAP_TYPE_HASH || (map_type == BPF_MAP_TYPE_ARRAY && key_size == 4);
        let round8 = |x: u32| x.div_ceil(8) * 8;
        if !type_ok
            || !kinds_ok
            || flags != 0
            || key_size == 0
            || value_size == 0
            || key_size > l.max_key_sz.min(MAP_MAX_KV_SIZE)
            || value_size > l.max_val_sz.min(MAP_MAX_KV_SIZE)
            || round8(key_size) + round8(value_size) > l.max_elem_sz
            || max_entries == 0
        {
            return Err(MapError::Inval);
        }
        let mut tables = self.tables.write();
        if tables.len() as u32 >= l.max_maps {
            return Err(MapError::NoMem);
        }
        let used: u64 = tables.iter().map(|t| u64::from(t.max_entries)).sum();
        if used + u64::from(max_entries) > u64::from(l.max_elems) {
            return Err(MapError::NoMem);
        }
        let mut next = self.next_base.lock();
        let base = *next;
        // Check the EMEM room before allocating anything.
        let size = u64::from(value_size).div_ceil(8) * 8 * u64::from(max_entries);
        if base + size > MAP_EMEM_END {
            return Err(MapError::NoMem);
        }
        let tid = self.next_tid.fetch_add(1, Ordering::Relaxed);
        let t = Table::new(tid, map_type, key_size, value_size, max_entries, base);
        *next = (base + t.size()).div_ceil(64) * 64;
        info!(
            target: "nfp_emu::maps",
            "map {tid}: {} of {max_entries} x ({key_size}-byte key, {value_size}-byte value) at EMEM {base:#x}",
            if map_type == BPF_MAP_TYPE_HASH { "hash" } else { "array" }
        );
        tables.push(Arc::new(t));
        Ok(tid)
    }

    /// `MAP_FREE`: the number of elements the table held.
    pub fn free(&self, tid: u32) -> Result<u32, MapError> {
        let mut tables = self.tables.write();
        let i = tables
            .iter()
            .position(|t| t.tid == tid)
            .ok_or(MapError::BadMap)?;
        let t = tables.remove(i);
        debug!(target: "nfp_emu::maps", tid, "map freed");
        Ok(t.len())
    }

    /// The table holding EMEM bytes `addr..addr+len`, with the offset.
    fn at(&self, addr: u64, len: u64) -> Option<(Arc<Table>, u64)> {
        if !(MAP_EMEM_BASE..MAP_EMEM_END).contains(&addr) {
            return None;
        }
        self.tables
            .read()
            .iter()
            .find(|t| t.contains(addr, len))
            .map(|t| (t.clone(), addr - t.base))
    }

    /// `update` on table `tid`.
    pub fn update(&self, tid: u32, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.table(tid)
            .ok_or(MapError::BadMap)?
            .update(key, value, flags)
    }

    /// `lookup` on table `tid`.
    pub fn lookup(&self, tid: u32, key: &[u8]) -> Option<u64> {
        self.table(tid)?.lookup(key)
    }

    /// EMEM read of map values.
    pub fn emem_read(&self, addr: u64, out: &mut [u8]) -> bool {
        match self.at(addr, out.len() as u64) {
            Some((t, off)) => {
                t.read(off, out);
                true
            }
            None => false,
        }
    }

    /// EMEM write of map values.
    pub fn emem_write(&self, addr: u64, data: &[u8]) -> bool {
        match self.at(addr, data.len() as u64) {
            Some((t, off)) => {
                t.write(off, data);
                true
            }
            None => false,
        }
    }

    /// EMEM atomic add (big-endian words, bpf.md §4.4.10).
    pub fn emem_add(&self, addr: u64, v: u64, wide: bool) -> bool {
        match self.at(addr, if wide { 8 } else { 4 }) {
            Some((t, off)) => t.add(off, v, wide),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
