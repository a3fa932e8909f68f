//! The firmware's native helper subroutines an offloaded program calls
//! (docs/bpf-offload.md#helpers): map lookup/update/delete and perf_event_output, at the
//! ustore addresses the capabilities announce, and EMEM access to map
//! values. What the program's context, LM and packet hold is read as the
//! calling convention says; results go to R0 in both banks; GPRs 12..22
//! and the LM pointers are left alone, as the firmware's helpers do.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use tracing::trace;

use super::Datapath;
use crate::fp::exec::{Ctx, Env, LM_WORDS, Packet};
use crate::fp::me::pv_data;
use crate::maps::ccm::bpf_event;
use crate::maps::{MAP_MAX_KV_SIZE, MapError, MapStore, Table};

/// Helper ids (include/uapi/linux/bpf.h `___BPF_FUNC_MAPPER`), as the
/// firmware crate names them.
pub use nfp_firmware::image::{
    BPF_FUNC_MAP_DELETE_ELEM, BPF_FUNC_MAP_LOOKUP_ELEM, BPF_FUNC_MAP_UPDATE_ELEM,
    BPF_FUNC_PERF_EVENT_OUTPUT,
};

/// Pointer type of `perf_event_output`'s data argument, passed in A1: a
/// scalar (bpf/fw.h:11-17).
pub const NFP_BPF_SCALAR_VALUE: u32 = 1;
/// ... a map value (bpf/fw.h:11-17).
pub const NFP_BPF_MAP_VALUE: u32 = 4;
/// ... the stack (bpf/fw.h:11-17).
pub const NFP_BPF_STACK: u32 = 6;
/// ... packet data (bpf/fw.h:11-17).
pub const NFP_BPF_PACKET_DATA: u32 = 8;

/// `BPF_F_CTXLEN_MASK` >> 32: packet bytes to append to an event.
const CTXLEN_MASK: u64 = 0xf_ffff;
/// Most data bytes an event carries (the whole BPF stack).
const MAX_EVENT_DATA: usize = 512;

/// The environment the flow processor's programs run in.
pub struct FirmwareEnv {
    /// The maps the helpers work on.
    pub maps: Arc<MapStore>,
    /// The datapath: helper addresses from its capabilities, and the
    /// control vNIC perf events go to.
    pub dp: Weak<Datapath>,
}

thread_local! {
    static EVENT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static RESOLVED: RefCell<Resolved> = RefCell::new(Resolved::default());
}

/// Map handles a thread keeps: as many tables as a program commonly names.
const MAX_HANDLES: usize = 8;

/// What a thread running programs has resolved for their helper calls:
/// the firmware's helper ids by ustore address and the tables the
/// programs named (by table id), each resolved once, at the first call
/// that needs it, and kept while the map store's stamp
/// ([`MapStore::stamp`]) stands. Every MAP_ALLOC, MAP_FREE, reset and
/// firmware attach changes the stamp, and the next helper call drops all
/// of it: a freed table is never reached through a handle, and its host
/// memory goes at that call.
#[derive(Default)]
struct Resolved {
    /// The stamp the rest was resolved under.
    stamp: (u64, u64),
    /// `(helper id, ustore address)`; None until a call resolves them.
    funcs: Option<Vec<(u32, u32)>>,
    /// `(table id, table)`, filled in order, then replaced round-robin.
    handles: [Option<(u32, Arc<Table>)>; MAX_HANDLES],
    next: usize,
}

impl Resolved {
    /// Start over if `maps` has changed since.
    fn refresh(&mut self, maps: &MapStore) {
        let stamp = maps.stamp();
        if self.stamp != stamp {
            *self = Self {
                stamp,
                ..Self::default()
            };
        }
    }

    /// The helper id at ustore address `addr`, the funcs resolved from
    /// `dp` at the first call.
    fn helper_at(&mut self, dp: &Weak<Datapath>, addr: u16) -> Option<u32> {
        let funcs = match &mut self.funcs {
            Some(f) => f,
            f @ None => f.insert(dp.upgrade()?.helper_funcs()),
        };
        funcs
            .iter()
            .find(|(_, a)| *a == u32::from(addr))
            .map(|(id, _)| *id)
    }

    /// Table `tid` of `maps`, from its handle (resolved at the first call
    /// that named it).
    fn table(&mut self, maps: &MapStore, tid: u32) -> Option<&Table> {
        let at = match self
            .handles
            .iter()
            .position(|h| h.as_ref().is_some_and(|(t, _)| *t == tid))
        {
            Some(i) => i,
            None => {
                let t = maps.table(tid)?;
                let i = self.next;
                self.next = (i + 1) % MAX_HANDLES;
                self.handles[i] = Some((tid, t));
                i
            }
        };
        self.handles[at].as_ref().map(|(_, t)| &**t)
    }
}

/// `n` bytes of LM from byte address `addr`, stack byte order (byte k of
/// a word in bits 8k+7..8k: jit.c:1019-1158).
fn lm_bytes(lm: &[u32; LM_WORDS], addr: u32, out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        let a = addr as usize + i;
        *b = (lm[(a >> 2) & (LM_WORDS - 1)] >> (8 * (a & 3))) as u8;
    }
}

fn reg64(ctx: &Ctx, n: usize) -> u64 {
    u64::from(ctx.a(n + 1)) << 32 | u64::from(ctx.a(n))
}

fn set_r0(ctx: &mut Ctx, v: u64) {
    ctx.set_both(0, v as u32);
    ctx.set_both(1, (v >> 32) as u32);
}

/// A 40-bit EMEM address in the split form programs hold it in: low word
/// = bits 31..0, high word = bits 39..32 in bits 31..24 (docs/me-isa.md#memory-commands).
fn split_addr(addr: u64) -> u64 {
    (addr >> 32 & 0xff) << 56 | (addr & 0xffff_ffff)
}

fn join_addr(v: u64) -> u64 {
    (v >> 56) << 32 | (v & 0xffff_ffff)
}

/// The map helpers (lookup/update/delete, `id`) as the firmware runs
/// them: A0 = table id; key at ActLMAddr0, value at ActLMAddr2, flags R4
/// (jit.c:1725-1764); the result in R0 (lookup: the value's EMEM address
/// or 0; update/delete: 0 or a negative errno).
///
/// The table comes from this thread's handle of it, resolved once per
/// map store generation (not per call).
pub fn map_helper(maps: &MapStore, id: u32, ctx: &mut Ctx, lm: &[u32; LM_WORDS]) {
    let tid = ctx.a(0);
    let r = RESOLVED.with(|r| match r.try_borrow_mut() {
        Ok(mut r) => {
            r.refresh(maps);
            r.table(maps, tid).map(|t| map_op(t, id, ctx, lm))
        }
        // Re-entered: resolve this call on its own.
        Err(_) => maps.with_table(tid, |t| map_op(t, id, ctx, lm)),
    });
    map_result(tid, id, r, ctx);
}

/// Helper `id` on table `t`: R0's new value.
fn map_op(t: &Table, id: u32, ctx: &Ctx, lm: &[u32; LM_WORDS]) -> u64 {
    let flags = reg64(ctx, 8);
    let (key_at, value_at) = (ctx.lm_addr[0], ctx.lm_addr[2]);
    {
        let mut key = [0u8; MAP_MAX_KV_SIZE as usize];
        let key = &mut key[..(t.key_size as usize).min(MAP_MAX_KV_SIZE as usize)];
        lm_bytes(lm, key_at, key);
        let status =
            |r: Result<(), MapError>| r.map_or_else(|e| e.errno().wrapping_neg() as u64, |()| 0);
        match id {
            BPF_FUNC_MAP_LOOKUP_ELEM => t.lookup(key).map_or(0, split_addr),
            BPF_FUNC_MAP_UPDATE_ELEM => {
                let mut v = [0u8; MAP_MAX_KV_SIZE as usize];
                let v = &mut v[..(t.value_size as usize).min(MAP_MAX_KV_SIZE as usize)];
                lm_bytes(lm, value_at, v);
                status(t.update(key, v, flags))
            }
            _ => status(t.delete(key)),
        }
    }
}

/// R0 after helper `id` on table `tid` (`r`: None if there is no such
/// table).
fn map_result(tid: u32, id: u32, r: Option<u64>, ctx: &mut Ctx) {
    let r = r.unwrap_or_else(|| {
        crate::guest_debug!(tid, "helper {id} on an unknown map");
        if id == BPF_FUNC_MAP_LOOKUP_ELEM {
            0
        } else {
            MapError::BadMap.errno().wrapping_neg() as u64
        }
    });
    trace!(target: "nfp_emu::fp::trace", "  helper {id} on map {tid}: R0 = {r:#x}");
    set_r0(ctx, r);
}

impl FirmwareEnv {
    /// `bpf_perf_event_output`: R2 perf map id, R3 flags (bits 51..32:
    /// packet bytes to append), R4 data (of the type in A1), R5 size
    /// (jit.c:1778-1801, docs/maps.md#perf-events). The event goes to the host on the
    /// control vNIC.
    fn perf_event(&self, ctx: &mut Ctx, lm: &[u32; LM_WORDS], pkt: &Packet) {
        let map_id = reg64(ctx, 4);
        let flags = reg64(ctx, 6);
        let ptr = reg64(ctx, 8);
        let size = (ctx.a(10) as usize).min(MAX_EVENT_DATA);
        let mut data = [0u8; MAX_EVENT_DATA];
        let data = &mut data[..size];
        let ok = match ctx.a(1) {
            NFP_BPF_SCALAR_VALUE => {
                data.fill(0);
                true
            }
            NFP_BPF_STACK => {
                lm_bytes(lm, ptr as u32, data);
                true
            }
            NFP_BPF_MAP_VALUE => self.maps.emem_read(join_addr(ptr), data),
            NFP_BPF_PACKET_DATA => pkt
                .offset(ptr as u32)
                .and_then(|o| pkt.buf.get(o..o.checked_add(size)?))
                .map(|b| data.copy_from_slice(b))
                .is_some(),
            _ => false,
        };
        if !ok {
            crate::guest_debug!(
                "perf_event_output: data pointer {ptr:#x} (type {}) unreadable",
                ctx.a(1)
            );
        }
        // The packet, as its vector (at ActLMAddr1) says.
        let d = pv_data(lm, ctx.lm_addr[1]);
        let want = (((flags >> 32) & CTXLEN_MASK) as usize).min(d.len());
        let packet = d
            .start
            .checked_add(want)
            .and_then(|end| pkt.buf.get(d.start..end))
            .unwrap_or_default();
        if let Some(dp) = self.dp.upgrade() {
            EVENT.with(|e| {
                let mut e = e.borrow_mut();
                bpf_event(&mut e, flags as u32, map_id, packet, data);
                dp.to_ctrl(&e);
            });
        }
        set_r0(ctx, 0);
    }
}

impl Env for FirmwareEnv {
    fn emem_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.maps.emem_read(addr, buf)
    }

    fn emem_write(&self, addr: u64, data: &[u8]) -> bool {
        self.maps.emem_write(addr, data)
    }

    fn emem_add(&self, addr: u64, value: u64, wide: bool) -> bool {
        self.maps.emem_add(addr, value, wide)
    }

    /// The helper at `addr` and, for a map helper, its table come from
    /// this thread's resolutions (`Resolved`): no lock, no reference
    /// count, no search per call.
    fn helper(&self, addr: u16, ctx: &mut Ctx, lm: &mut [u32; LM_WORDS], pkt: &Packet) -> bool {
        // The helper id from this thread's resolutions (or, re-entered,
        // from the datapath); a map helper's table the same way
        // (`map_helper`).
        let id = RESOLVED.with(|r| match r.try_borrow_mut() {
            Ok(mut r) => {
                r.refresh(&self.maps);
                r.helper_at(&self.dp, addr)
            }
            Err(_) => self.dp.upgrade().and_then(|dp| dp.helper_at(addr)),
        });
        match id {
            Some(
                id @ (BPF_FUNC_MAP_LOOKUP_ELEM
                | BPF_FUNC_MAP_UPDATE_ELEM
                | BPF_FUNC_MAP_DELETE_ELEM),
            ) => map_helper(&self.maps, id, ctx, lm),
            Some(BPF_FUNC_PERF_EVENT_OUTPUT) => self.perf_event(ctx, lm, pkt),
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_emem_addresses_round_trip() {
        let a = 0x18_8000_0040;
        let s = split_addr(a);
        assert_eq!(s as u32, 0x8000_0040);
        assert_eq!((s >> 32) as u32, 0x1800_0000);
        assert_eq!(join_addr(s), a);
    }

    /// A lookup of `key` (4 bytes at LM 0x100) in table `tid`: R0's low
    /// word.
    fn lookup(maps: &MapStore, tid: u32, key: u32) -> u32 {
        let mut ctx = Ctx::default();
        let mut lm = [0u32; LM_WORDS];
        lm[0x40] = key;
        ctx.lm_addr[0] = 0x100;
        ctx.set_both(0, tid);
        map_helper(maps, BPF_FUNC_MAP_LOOKUP_ELEM, &mut ctx, &lm);
        ctx.a(0)
    }

    fn handles() -> Vec<u32> {
        RESOLVED.with(|r| r.borrow().handles.iter().flatten().map(|h| h.0).collect())
    }

    /// A table is resolved at the first call that names it and kept for
    /// the next; a free (or any change of the directory) drops every
    /// handle, so a freed table is never reached.
    #[test]
    fn tables_are_resolved_once_and_never_reached_after_a_free() {
        use crate::maps::{BPF_ANY, BPF_MAP_TYPE_HASH, caps::MapLimits};
        let maps = MapStore::new();
        maps.reset(Some(MapLimits {
            types: 1 << BPF_MAP_TYPE_HASH,
            max_maps: 4,
            max_elems: 1024,
            max_key_sz: 64,
            max_val_sz: 64,
            max_elem_sz: 128,
        }));
        let a = maps.alloc(4, 8, 16, BPF_MAP_TYPE_HASH, 0).unwrap();
        let b = maps.alloc(4, 8, 16, BPF_MAP_TYPE_HASH, 0).unwrap();
        maps.update(a, &7u32.to_le_bytes(), &[1; 8], BPF_ANY)
            .unwrap();
        maps.update(b, &7u32.to_le_bytes(), &[2; 8], BPF_ANY)
            .unwrap();
        let (va, vb) = (
            maps.lookup(a, &7u32.to_le_bytes()),
            maps.lookup(b, &7u32.to_le_bytes()),
        );
        assert_eq!(u64::from(lookup(&maps, a, 7)), va.unwrap() & 0xffff_ffff);
        assert_eq!(handles(), [a], "resolved at the first call");
        assert_eq!(u64::from(lookup(&maps, b, 7)), vb.unwrap() & 0xffff_ffff);
        assert_eq!(lookup(&maps, a, 8), 0, "absent key");
        assert_eq!(handles(), [a, b], "each resolved once, then kept");
        maps.free(a).unwrap();
        assert_eq!(lookup(&maps, a, 7), 0, "a freed table is not reached");
        assert_eq!(
            handles(),
            Vec::<u32>::new(),
            "the free dropped every handle"
        );
        assert_eq!(u64::from(lookup(&maps, b, 7)), vb.unwrap() & 0xffff_ffff);
        assert_eq!(handles(), [b]);
    }

    #[test]
    fn lm_bytes_are_little_endian_within_words() {
        let mut lm = [0u32; LM_WORDS];
        lm[0x40] = 0x4433_2211;
        lm[0x41] = 0x8877_6655;
        let mut b = [0u8; 6];
        lm_bytes(&lm, 0x101, &mut b);
        assert_eq!(b, [0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
    }
}
