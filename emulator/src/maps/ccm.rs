//! The control-message (CCM) channel of the BPF app: map requests the
//! driver sends on the control vNIC and the firmware's replies
//! (bpf.md §6.3-6.5; ccm.h:16-47, bpf/fw.h:73-124, bpf/cmsg.c). All fields
//! after the 4-byte header are big-endian.

use tracing::debug;

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
    /// on the control vNIC, if any. `(ks, vs)` are the key/value slot
    /// sizes of map operations (`BpfCaps::cmsg_slots`).
    pub fn handle_ccm(&self, msg: &[u8], (ks, vs): (u32, u32)) -> Option<Vec<u8>> {
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
                    .clamp(1, MAX_ENTRIES_PER_REPLY as u32) as usize;
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

/// A `BPF_EVENT` message (bpf.md §8; bpf/fw.h:117-124) carrying `pkt`
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
