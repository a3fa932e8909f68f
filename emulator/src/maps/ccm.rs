//! The control-message (CCM) channel of the BPF app: map requests the
//! driver sends on the control vNIC and the firmware's replies
//! (docs/maps.md#messages; ccm.h:16-47, bpf/fw.h:73-124, bpf/cmsg.c). All fields
//! after the 4-byte header are big-endian.

use tracing::debug;

use super::caps::CmsgLayout;
use super::{MapError, MapStore};

/// `NFP_CCM_ABI_VERSION` (ccm.c:144).
pub const NFP_CCM_ABI_VERSION: u8 = 1;
/// `NFP_CCM_TYPE_REPLY_BIT` (ccm.h:35-36).
pub const NFP_CCM_TYPE_REPLY_BIT: u8 = 0x80;

/// `enum nfp_ccm_type` (ccm.h:16-31): create a table.
pub const NFP_CCM_TYPE_BPF_MAP_ALLOC: u8 = 1;
/// ... free a table.
pub const NFP_CCM_TYPE_BPF_MAP_FREE: u8 = 2;
/// ... look an element up.
pub const NFP_CCM_TYPE_BPF_MAP_LOOKUP: u8 = 3;
/// ... create or replace an element.
pub const NFP_CCM_TYPE_BPF_MAP_UPDATE: u8 = 4;
/// ... delete an element.
pub const NFP_CCM_TYPE_BPF_MAP_DELETE: u8 = 5;
/// ... the element(s) after a key.
pub const NFP_CCM_TYPE_BPF_MAP_GETNEXT: u8 = 6;
/// ... the first element(s).
pub const NFP_CCM_TYPE_BPF_MAP_GETFIRST: u8 = 7;
/// ... a perf event from a program (firmware to host).
pub const NFP_CCM_TYPE_BPF_BPF_EVENT: u8 = 8;

/// `CMSG_RC_ERR_MAP_PARSE` (bpf/fw.h:62-71).
pub const CMSG_RC_ERR_MAP_PARSE: u32 = 4;

/// Bytes of the header and of the fixed part of a map operation.
const HDR: usize = 4;
const OP_HDR: usize = 16;
/// Most entries a GETFIRST/GETNEXT reply carries.
const MAX_ENTRIES_PER_REPLY: usize = 16;

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// A reply header for request `req`.
fn reply_hdr(req: &[u8]) -> Vec<u8> {
    vec![
        req[0] | NFP_CCM_TYPE_REPLY_BIT,
        NFP_CCM_ABI_VERSION,
        req[2],
        req[3],
    ]
}

impl MapStore {
    /// Handle one control message from the driver; the reply to send back
    /// on the control vNIC, if any. `layout` gives the key/value slot
    /// sizes of map operations and the most entries a reply carries
    /// (`BpfCaps::cmsg_layout`; a `(key, value)` pair allows several).
    pub fn handle_ccm(&self, msg: &[u8], layout: impl Into<CmsgLayout>) -> Option<Vec<u8>> {
        let CmsgLayout {
            key: ks,
            value: vs,
            max_entries,
        } = layout.into();
        if msg.len() < HDR {
            crate::guest_warn!(
                len = msg.len(),
                "control message shorter than its header; dropped"
            );
            return None;
        }
        let (ty, tag) = (msg[0], u16::from_be_bytes([msg[2], msg[3]]));
        debug!(target: "nfp_emu::maps", ty, tag, len = msg.len(), "control message");
        let mut r = reply_hdr(msg);
        let parse_error = |mut r: Vec<u8>, what: &str| {
            crate::guest_warn!(ty, tag, "control message: {what}");
            r.extend_from_slice(&CMSG_RC_ERR_MAP_PARSE.to_be_bytes());
            r.extend_from_slice(&[0; 8]);
            Some(r)
        };
        match ty {
            NFP_CCM_TYPE_BPF_MAP_ALLOC => {
                let f: Option<[u32; 5]> = (|| {
                    Some([
                        be32(msg, 4)?,
                        be32(msg, 8)?,
                        be32(msg, 12)?,
                        be32(msg, 16)?,
                        be32(msg, 20)?,
                    ])
                })();
                let Some([key_size, value_size, max_entries, map_type, flags]) = f else {
                    return parse_error(r, "MAP_ALLOC shorter than 24 bytes");
                };
                let (rc, tid) = match self.alloc(key_size, value_size, max_entries, map_type, flags)
                {
                    Ok(tid) => (0, tid),
                    Err(e) => {
                        crate::guest_warn!(
                            "MAP_ALLOC refused ({e:?}): type {map_type}, key {key_size} B, value {value_size} B, {max_entries} entries, flags {flags:#x}"
                        );
                        (e.rc(), 0)
                    }
                };
                r.extend_from_slice(&rc.to_be_bytes());
                r.extend_from_slice(&tid.to_be_bytes());
                Some(r)
            }
            NFP_CCM_TYPE_BPF_MAP_FREE => {
                let Some(tid) = be32(msg, 4) else {
                    return parse_error(r, "MAP_FREE shorter than 8 bytes");
                };
                let (rc, count) = match self.free(tid) {
                    Ok(n) => (0, n),
                    Err(e) => {
                        crate::guest_debug!(tid, "MAP_FREE of an unknown map");
                        (e.rc(), 0)
                    }
                };
                r.extend_from_slice(&rc.to_be_bytes());
                r.extend_from_slice(&count.to_be_bytes());
                Some(r)
            }
            NFP_CCM_TYPE_BPF_MAP_LOOKUP..=NFP_CCM_TYPE_BPF_MAP_GETFIRST => {
                let (ks, vs) = (ks as usize, vs as usize);
                if msg.len() < OP_HDR + ks + vs {
                    return parse_error(r, "map operation shorter than one entry");
                }
                let tid = be32(msg, 4).unwrap_or(0);
                let count = be32(msg, 8)
                    .unwrap_or(1)
                    .clamp(1, max_entries.clamp(1, MAX_ENTRIES_PER_REPLY as u32))
                    as usize;
                let flags = u64::from(be32(msg, 12).unwrap_or(0));
                let (key_slot, value_slot) = (
                    &msg[OP_HDR..OP_HDR + ks],
                    &msg[OP_HDR + ks..OP_HDR + ks + vs],
                );
                let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
                let result: Result<(), MapError> = (|| {
                    let Some(t) = self.table(tid) else {
                        crate::guest_debug!(ty, tid, "map operation on an unknown map");
                        return Err(MapError::BadMap);
                    };
                    let key = key_slot.get(..t.key_size as usize).ok_or(MapError::Inval)?;
                    let value_of = |slot: u32| {
                        let mut v = vec![0u8; t.value_size as usize];
                        t.value(slot, &mut v);
                        v
                    };
                    match ty {
                        NFP_CCM_TYPE_BPF_MAP_LOOKUP => {
                            let s = t.find(key).ok_or(MapError::NoEnt)?;
                            entries.push((key.to_vec(), value_of(s)));
                        }
                        NFP_CCM_TYPE_BPF_MAP_UPDATE => {
                            let v = value_slot
                                .get(..t.value_size as usize)
                                .ok_or(MapError::Inval)?;
                            t.update(key, v, flags)?;
                            entries.push((key.to_vec(), v.to_vec()));
                        }
                        NFP_CCM_TYPE_BPF_MAP_DELETE => {
                            t.delete(key)?;
                            entries.push((key.to_vec(), Vec::new()));
                        }
                        _ => {
                            let after = (ty == NFP_CCM_TYPE_BPF_MAP_GETNEXT).then_some(key);
                            for (k, s) in t.next_keys(after, count) {
                                let v = value_of(s);
                                entries.push((k, v));
                            }
                            if entries.len() < count {
                                return Err(MapError::NoEnt);
                            }
                        }
                    }
                    Ok(())
                })();
                let rc = result.err().map_or(0, MapError::rc);
                r.extend_from_slice(&rc.to_be_bytes());
                r.extend_from_slice(&(entries.len() as u32).to_be_bytes());
                r.extend_from_slice(&[0; 4]);
                // One block per good entry, plus one if there was an error
                // (cmsg.c:341-365).
                let blocks = entries.len() + usize::from(rc != 0);
                for i in 0..blocks {
                    let (k, v) = entries
                        .get(i)
                        .map_or((&[][..], &[][..]), |(k, v)| (&k[..], &v[..]));
                    let start = r.len();
                    r.resize(start + ks + vs, 0);
                    let kn = k.len().min(ks);
                    r[start..start + kn].copy_from_slice(&k[..kn]);
                    let vn = v.len().min(vs);
                    r[start + ks..start + ks + vn].copy_from_slice(&v[..vn]);
                }
                Some(r)
            }
            _ => {
                crate::guest_warn!(ty, tag, "control message of unknown type; dropped");
                None
            }
        }
    }
}

/// A `BPF_EVENT` message (docs/maps.md#perf-events; bpf/fw.h:117-124) carrying `pkt`
/// (packet bytes, padded to 4) and `data`, into `out`.
pub fn bpf_event(out: &mut Vec<u8>, cpu_id: u32, map_id: u64, pkt: &[u8], data: &[u8]) {
    out.clear();
    out.extend_from_slice(&[NFP_CCM_TYPE_BPF_BPF_EVENT, NFP_CCM_ABI_VERSION, 0, 0]);
    out.extend_from_slice(&cpu_id.to_be_bytes());
    out.extend_from_slice(&map_id.to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&(pkt.len() as u32).to_be_bytes());
    out.extend_from_slice(pkt);
    out.resize(out.len() + (4 - pkt.len() % 4) % 4, 0);
    out.extend_from_slice(data);
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use crate::maps::caps::CmsgLayout;
    use crate::maps::{BPF_MAP_TYPE_ARRAY, MapLimits};

    fn msg(ty: u8, words: &[u32], slots: usize) -> Vec<u8> {
        let mut m = vec![ty, NFP_CCM_ABI_VERSION, 0, 1];
        for w in words {
            m.extend_from_slice(&w.to_be_bytes());
        }
        m.resize(m.len() + slots, 0);
        m
    }

    /// A firmware without `NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT` (Debian's bpf
    /// images) answers one entry whatever count a request carries; one
    /// with it up to the count (the driver then asks for up to 4).
    #[test]
    fn getfirst_entries_follow_the_multi_entry_capability() {
        let s = MapStore::new();
        s.reset(Some(MapLimits {
            types: 1 << BPF_MAP_TYPE_ARRAY,
            max_maps: 4,
            max_elems: 100,
            max_key_sz: 64,
            max_val_sz: 64,
            max_elem_sz: 128,
        }));
        let alloc = msg(
            NFP_CCM_TYPE_BPF_MAP_ALLOC,
            &[4, 4, 8, BPF_MAP_TYPE_ARRAY, 0],
            0,
        );
        let r = s.handle_ccm(&alloc, (64, 64)).unwrap();
        let tid = u32::from_be_bytes(r[8..12].try_into().unwrap());
        let getfirst = msg(NFP_CCM_TYPE_BPF_MAP_GETFIRST, &[tid, 4, 0], 128);
        let count = |layout: CmsgLayout| {
            let r = s.handle_ccm(&getfirst, layout).unwrap();
            let n = u32::from_be_bytes(r[8..12].try_into().unwrap());
            assert_eq!(
                r.len(),
                16 + 128 * n as usize,
                "reply sized for its entries"
            );
            n
        };
        let single = CmsgLayout {
            key: 64,
            value: 64,
            max_entries: 1,
        };
        assert_eq!(count(single), 1);
        assert_eq!(count((64, 64).into()), 4);
    }
}
