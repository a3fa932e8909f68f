//! Control messages of the map channel as the driver builds them
//! (bpf/cmsg.c, bpf/fw.h:73-124): a 4-byte header (type, ABI version,
//! big-endian tag) then big-endian fields.

use crate::maps::ccm::{
    NFP_CCM_ABI_VERSION, NFP_CCM_TYPE_BPF_MAP_ALLOC, NFP_CCM_TYPE_BPF_MAP_FREE,
};

/// The header of a request of type `ty` with tag `tag`.
pub fn hdr(ty: u8, tag: u16) -> Vec<u8> {
    let mut m = vec![ty, NFP_CCM_ABI_VERSION];
    m.extend_from_slice(&tag.to_be_bytes());
    m
}

/// `MAP_ALLOC` (`nfp_bpf_ctrl_alloc_map()`, bpf/cmsg.c:83-120): key and
/// value sizes, entries, map type, flags 0.
pub fn alloc_msg(key: u32, value: u32, entries: u32, map_type: u32) -> Vec<u8> {
    let mut m = hdr(NFP_CCM_TYPE_BPF_MAP_ALLOC, 7);
    for v in [key, value, entries, map_type, 0] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m
}

/// `MAP_FREE` of table `tid` (`nfp_bpf_ctrl_free_map()`, bpf/cmsg.c:122-145).
pub fn free_msg(tid: u32) -> Vec<u8> {
    let mut m = hdr(NFP_CCM_TYPE_BPF_MAP_FREE, 9);
    m.extend_from_slice(&tid.to_be_bytes());
    m
}

/// A one-entry map operation of type `ty` on table `tid`
/// (`nfp_bpf_ctrl_entry_op()`, bpf/cmsg.c:293-380): `key` and `value`
/// written into slots of `slots` = (key, value) bytes, the rest of each
/// slot filled with garbage as the driver leaves it.
pub fn op_msg(
    ty: u8,
    tid: u32,
    flags: u32,
    key: &[u8],
    value: &[u8],
    slots: (u32, u32),
) -> Vec<u8> {
    let mut m = hdr(ty, 0x1234);
    for v in [tid, 1, flags] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    let mut k = vec![0xee; slots.0 as usize];
    let n = key.len().min(k.len());
    k[..n].copy_from_slice(&key[..n]);
    let mut v = vec![0xdd; slots.1 as usize];
    let n = value.len().min(v.len());
    v[..n].copy_from_slice(&value[..n]);
    m.extend_from_slice(&k);
    m.extend_from_slice(&v);
    m
}
