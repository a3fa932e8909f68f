//! Device-resident BPF maps (docs/maps.md): tables the driver creates and
//! reads/writes with control messages over the control vNIC ([`ccm`]),
//! and that offloaded programs reach through the firmware's helpers
//! (lookup/update/delete) and through 40-bit EMEM pointers to their values
//! (loads and atomic adds).
//!
//! Values live in EMEM at stable addresses: a program may keep a pointer
//! from a lookup and add to it. They are stored as atomic 64-bit words so
//! the flow-processor workers and the control plane can touch them
//! concurrently. A table occupies one range of the map region ([`emem`]):
//! its values, then its hash index ([`index`]), which the datapath reads
//! without a lock. The datapath finds a table by id or by EMEM address in
//! a directory it reads without a lock or a reference count ([`MapStore`]).

pub mod caps;
pub mod ccm;
pub mod emem;
pub mod index;
pub mod table;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use tracing::{debug, info, warn};

use caps::MapLimits;
use emem::EmemAllocator;
pub use table::Table;

/// `BPF_MAP_TYPE_HASH` (include/uapi/linux/bpf.h).
pub const BPF_MAP_TYPE_HASH: u32 = 1;
/// `BPF_MAP_TYPE_ARRAY` (include/uapi/linux/bpf.h).
pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// Update flag: create or replace (include/uapi/linux/bpf.h).
pub const BPF_ANY: u64 = 0;
/// Update flag: create only (include/uapi/linux/bpf.h).
pub const BPF_NOEXIST: u64 = 1;
/// Update flag: replace only (include/uapi/linux/bpf.h).
pub const BPF_EXIST: u64 = 2;

/// Largest key or value this firmware model handles, whatever the
/// capabilities of a (guest-supplied) image announce.
pub const MAP_MAX_KV_SIZE: u32 = 256;

/// Most tables alive at once in this firmware model, whatever the
/// capabilities announce (the project's firmware announces 64).
pub const MAP_MAX_MAPS: u32 = 1024;

/// Why a map operation failed, as the firmware reports it in control
/// message replies (`CMSG_RC_ERR_*`, bpf/fw.h:62-71) and helpers return
/// it (negative errno).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// No such table.
    #[error("no such map")]
    BadMap,
    /// No such element.
    #[error("no such element")]
    NoEnt,
    /// Invalid request.
    #[error("invalid request")]
    Inval,
    /// The element exists (`BPF_NOEXIST`).
    #[error("element exists")]
    Exist,
    /// Out of map memory or map slots.
    #[error("out of map memory")]
    NoMem,
    /// The table is full, or an array index is out of range.
    #[error("map full or index out of range")]
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

/// The table directory the datapath reads: every live table, by table id
/// and by EMEM address. Replaced whole on MAP_ALLOC/MAP_FREE/reset.
#[derive(Debug, Default)]
struct Directory {
    /// Sorted by `tid`.
    by_tid: Vec<Arc<Table>>,
    /// `(base, index into by_tid)`, sorted by base.
    by_base: Vec<(u64, usize)>,
}

impl Directory {
    fn new(mut tables: Vec<Arc<Table>>) -> Self {
        tables.sort_unstable_by_key(|t| t.tid);
        let mut by_base: Vec<(u64, usize)> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.base, i))
            .collect();
        by_base.sort_unstable();
        Self {
            by_tid: tables,
            by_base,
        }
    }

    fn get(&self, tid: u32) -> Option<&Arc<Table>> {
        let i = self.by_tid.binary_search_by_key(&tid, |t| t.tid).ok()?;
        self.by_tid.get(i)
    }

    /// The table holding EMEM bytes `addr..addr+len`, with the offset.
    fn at(&self, addr: u64, len: u64) -> Option<(&Table, u64)> {
        let i = self.by_base.partition_point(|&(b, _)| b <= addr);
        let &(base, t) = self.by_base.get(i.checked_sub(1)?)?;
        let t = self.by_tid.get(t)?;
        t.contains(addr, len).then_some((&**t, addr - base))
    }
}

/// What MAP_ALLOC/MAP_FREE/reset change, under one lock.
#[derive(Debug)]
struct Control {
    /// The part of EMEM the tables live in (the card's
    /// [`MemoryMap::map_region`](crate::cpp::memmap::MemoryMap::map_region)).
    region: std::ops::Range<u64>,
    limits: Option<MapLimits>,
    emem: EmemAllocator,
    next_tid: u32,
}

/// Ids of stores, for the per-thread directory cache.
static STORE_IDS: AtomicU64 = AtomicU64::new(1);

/// Generation of a store's directory: bumped after each replacement.
type CachedDir = (u64, u64, Arc<Directory>);

thread_local! {
    /// The directory this thread last used: (store id, generation, it).
    static DIR_CACHE: RefCell<Option<CachedDir>> = const { RefCell::new(None) };
}

/// The maps of the running firmware.
///
/// The datapath reads the table directory through a per-thread cache
/// checked against the directory's generation (one shared, read-mostly
/// word), so a helper call or an EMEM access takes no lock and no
/// reference count; a thread lets go of a freed table's host memory at its
/// next map access (its EMEM range is free at once).
#[derive(Debug)]
pub struct MapStore {
    id: u64,
    dir: ArcSwap<Directory>,
    generation: AtomicU64,
    ctl: Mutex<Control>,
}

impl Default for MapStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MapStore {
    /// A store for firmware without maps (until [`reset`](Self::reset)),
    /// its tables in the map region of the default card's EMEM.
    pub fn new() -> Self {
        Self::with_region(crate::cpp::memmap::MemoryMap::default().map_region())
    }

    /// A store whose tables live in `region` (MU addresses in EMEM).
    pub fn with_region(region: std::ops::Range<u64>) -> Self {
        Self {
            id: STORE_IDS.fetch_add(1, Ordering::Relaxed),
            dir: ArcSwap::from_pointee(Directory::default()),
            generation: AtomicU64::new(0),
            ctl: Mutex::new(Control {
                emem: EmemAllocator::new(region.start, region.end),
                region,
                limits: None,
                next_tid: 1,
            }),
        }
    }

    /// Firmware (re)start: forget every table; `limits` from its
    /// capabilities (None: the firmware has no maps).
    pub fn reset(&self, limits: Option<MapLimits>) {
        let mut c = self.ctl.lock();
        c.limits = limits;
        c.emem = EmemAllocator::new(c.region.start, c.region.end);
        self.publish(Directory::default());
    }

    /// Replace the directory (under the control lock).
    fn publish(&self, d: Directory) {
        self.dir.store(Arc::new(d));
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// `f` on the directory, from this thread's cache when it is current.
    fn with_dir<R>(&self, f: impl FnOnce(&Directory) -> R) -> R {
        let generation = self.generation.load(Ordering::Acquire);
        DIR_CACHE.with(|c| {
            // Re-entered (f reads maps itself): straight from the store.
            let Ok(mut c) = c.try_borrow_mut() else {
                return f(&self.dir.load());
            };
            if !matches!(&*c, Some((id, g, _)) if *id == self.id && *g == generation) {
                *c = Some((self.id, generation, self.dir.load_full()));
            }
            match &*c {
                Some((_, _, d)) => f(d),
                None => f(&self.dir.load()),
            }
        })
    }

    /// What a reader resolves against: the store's id and its directory's
    /// generation, which changes with every MAP_ALLOC, MAP_FREE, reset
    /// and [`invalidate`](Self::invalidate). Tables (and anything else)
    /// resolved while the stamp read before resolving stands are still
    /// current; a freed table is gone from every stamp after its free.
    pub fn stamp(&self) -> (u64, u64) {
        (self.id, self.generation.load(Ordering::Acquire))
    }

    /// A new generation with the same tables: what readers resolved
    /// before (e.g. helper addresses of the firmware that just attached)
    /// is stale.
    pub fn invalidate(&self) {
        let _c = self.ctl.lock();
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The limits of the running firmware's capabilities.
    pub fn limits(&self) -> Option<MapLimits> {
        self.ctl.lock().limits
    }

    /// Table `tid` (a reference for the control plane; the datapath uses
    /// [`with_table`](Self::with_table)).
    pub fn table(&self, tid: u32) -> Option<Arc<Table>> {
        self.dir.load().get(tid).cloned()
    }

    /// `f` on table `tid`, without a lock or a reference count.
    pub fn with_table<R>(&self, tid: u32, f: impl FnOnce(&Table) -> R) -> Option<R> {
        self.with_dir(|d| d.get(tid).map(|t| f(t)))
    }

    /// Every table (for introspection).
    pub fn tables(&self) -> Vec<Arc<Table>> {
        self.dir.load().by_tid.clone()
    }

    /// Free bytes of the map region and its longest free extent.
    pub fn emem_free(&self) -> (u64, u64) {
        let c = self.ctl.lock();
        (c.emem.free_bytes(), c.emem.largest_free())
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
        let mut c = self.ctl.lock();
        let l = c.limits.ok_or(MapError::Inval)?;
        let type_ok = map_type < 32 && l.types & 1 << map_type != 0;
        let kinds_ok =
            map_type == BPF_MAP_TYPE_HASH || (map_type == BPF_MAP_TYPE_ARRAY && key_size == 4);
        let round8 = |x: u32| u64::from(x).div_ceil(8) * 8;
        if !type_ok
            || !kinds_ok
            || flags != 0
            || key_size == 0
            || value_size == 0
            || key_size > l.max_key_sz.min(MAP_MAX_KV_SIZE)
            || value_size > l.max_val_sz.min(MAP_MAX_KV_SIZE)
            || round8(key_size) + round8(value_size) > u64::from(l.max_elem_sz)
            || max_entries == 0
        {
            return Err(MapError::Inval);
        }
        let dir = self.dir.load_full();
        if dir.by_tid.len() as u64 >= u64::from(l.max_maps.min(MAP_MAX_MAPS)) {
            return Err(MapError::NoMem);
        }
        let used: u64 = dir.by_tid.iter().map(|t| u64::from(t.max_entries)).sum();
        if used + u64::from(max_entries) > u64::from(l.max_elems) {
            return Err(MapError::NoMem);
        }
        // The EMEM range first, then the host memory behind it.
        let footprint =
            Table::footprint(map_type, key_size, value_size, max_entries).ok_or(MapError::NoMem)?;
        let (base, extent) = c.emem.alloc(footprint).ok_or(MapError::NoMem)?;
        let mut tid = c.next_tid;
        while tid == 0 || dir.get(tid).is_some() {
            tid = tid.wrapping_add(1);
        }
        c.next_tid = tid.wrapping_add(1);
        let dims = (key_size, value_size, max_entries);
        let Some(t) = Table::new(tid, map_type, dims, base, extent) else {
            c.emem.free(base, extent);
            return Err(MapError::NoMem);
        };
        info!(
            target: "nfp_emu::maps",
            "map {tid}: {} of {max_entries} x ({key_size}-byte key, {value_size}-byte value) at EMEM {base:#x} ({extent} bytes)",
            if map_type == BPF_MAP_TYPE_HASH { "hash" } else { "array" }
        );
        let mut tables = dir.by_tid.clone();
        tables.push(Arc::new(t));
        self.publish(Directory::new(tables));
        Ok(tid)
    }

    /// `MAP_FREE`: the number of elements the table held. Its EMEM range is
    /// free again at once; its host memory goes when the last reader (a
    /// packet in a helper) lets go of it.
    pub fn free(&self, tid: u32) -> Result<u32, MapError> {
        let mut c = self.ctl.lock();
        let dir = self.dir.load_full();
        let t = dir.get(tid).ok_or(MapError::BadMap)?.clone();
        let tables = dir
            .by_tid
            .iter()
            .filter(|x| x.tid != tid)
            .cloned()
            .collect();
        self.publish(Directory::new(tables));
        if !c.emem.free(t.base, t.extent) {
            // Cannot happen: every table's range came from this allocator.
            warn!(target: "nfp_emu::maps", tid, "map range {:#x}+{:#x} not returned", t.base, t.extent);
        }
        debug!(target: "nfp_emu::maps", tid, "map freed");
        Ok(t.len())
    }

    /// `update` on table `tid`.
    pub fn update(&self, tid: u32, key: &[u8], value: &[u8], flags: u64) -> Result<(), MapError> {
        self.with_table(tid, |t| t.update(key, value, flags))
            .unwrap_or(Err(MapError::BadMap))
    }

    /// `lookup` on table `tid`: the EMEM address of the value.
    pub fn lookup(&self, tid: u32, key: &[u8]) -> Option<u64> {
        self.with_table(tid, |t| t.lookup(key)).flatten()
    }

    /// EMEM read of map values; false if the bytes are not all values of
    /// one table.
    pub fn emem_read(&self, addr: u64, out: &mut [u8]) -> bool {
        self.with_dir(|d| {
            d.at(addr, out.len() as u64)
                .is_some_and(|(t, off)| t.read(off, out))
        })
    }

    /// The MU addresses the tables live in.
    pub fn region(&self) -> std::ops::Range<u64> {
        self.ctl.lock().region.clone()
    }

    /// EMEM write of map values; false as for [`emem_read`](Self::emem_read).
    pub fn emem_write(&self, addr: u64, data: &[u8]) -> bool {
        self.with_dir(|d| {
            d.at(addr, data.len() as u64)
                .is_some_and(|(t, off)| t.write(off, data))
        })
    }

    /// EMEM atomic add (big-endian words, docs/me-isa.md#memory-commands); false if the
    /// word is not a map value's.
    pub fn emem_add(&self, addr: u64, v: u64, wide: bool) -> bool {
        self.with_dir(|d| {
            d.at(addr, if wide { 8 } else { 4 })
                .is_some_and(|(t, off)| t.add(off, v, wide))
        })
    }
}

#[cfg(test)]
mod tests;
