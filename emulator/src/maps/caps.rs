//! The firmware's BPF capabilities: the TLV list in the run-time symbol
//! `_abi_bpf_capabilities` (bpf.md §3; bpf/fw.h:19-52, parsed by the
//! driver in bpf/main.c:205-421). The emulator reads the same blob the
//! driver reads, so the loaded image decides what the card offers.

/// TLV types (bpf/fw.h:19-52), as the firmware crate writes them.
use nfp_firmware::image::{
    BPF_CAP_TYPE_ABI_VERSION as NFP_BPF_CAP_TYPE_ABI_VERSION,
    BPF_CAP_TYPE_FUNC as NFP_BPF_CAP_TYPE_FUNC, BPF_CAP_TYPE_MAPS as NFP_BPF_CAP_TYPE_MAPS,
};

/// ABI 2 control messages use fixed 64-byte key and value slots
/// (`CMSG_MAP_KEY_LW`/`CMSG_MAP_VALUE_LW`, bpf/fw.h:58-60).
pub const CMSG_MAP_SLOT_ABI2: u32 = 64;

/// `NFP_BPF_CAP_TYPE_MAPS` (bpf/fw.h:45-52).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapLimits {
    /// Bit per `BPF_MAP_TYPE_*`.
    pub types: u32,
    /// Most maps alive at once.
    pub max_maps: u32,
    /// Elements over all maps.
    pub max_elems: u32,
    /// Largest key, bytes.
    pub max_key_sz: u32,
    /// Largest value, bytes.
    pub max_val_sz: u32,
    /// Largest key + value, each rounded up to 8 bytes.
    pub max_elem_sz: u32,
}

/// What `_abi_bpf_capabilities` announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpfCaps {
    /// 2 when the TLV is absent (bpf/main.c:418-421).
    pub abi: u8,
    /// (helper id, ustore address) pairs.
    pub funcs: Vec<(u32, u32)>,
    /// The map limits, if the firmware has maps.
    pub maps: Option<MapLimits>,
}

impl Default for BpfCaps {
    fn default() -> Self {
        Self {
            abi: 2,
            funcs: Vec::new(),
            maps: None,
        }
    }
}

impl BpfCaps {
    /// Parse a TLV list (little-endian u32 type, length, value); a
    /// truncated TLV ends the list.
    pub fn parse(b: &[u8]) -> Self {
        let word = |o: usize| {
            b.get(o..o + 4)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        };
        let mut caps = Self::default();
        let mut off = 0usize;
        while let (Some(ty), Some(len)) = (word(off), word(off + 4)) {
            let v = off + 8;
            let len = len as usize;
            if v.saturating_add(len) > b.len() {
                break;
            }
            let val = |i: usize| {
                if 4 * i + 4 <= len {
                    word(v + 4 * i)
                } else {
                    None
                }
            };
            match ty {
                NFP_BPF_CAP_TYPE_ABI_VERSION => {
                    if let Some(a) = val(0) {
                        caps.abi = a as u8;
                    }
                }
                NFP_BPF_CAP_TYPE_FUNC => {
                    if let (Some(id), Some(addr)) = (val(0), val(1)) {
                        caps.funcs.push((id, addr));
                    }
                }
                NFP_BPF_CAP_TYPE_MAPS => {
                    if let [
                        Some(types),
                        Some(max_maps),
                        Some(max_elems),
                        Some(k),
                        Some(vs),
                        Some(e),
                    ] = [0, 1, 2, 3, 4, 5].map(val)
                    {
                        caps.maps = Some(MapLimits {
                            types,
                            max_maps,
                            max_elems,
                            max_key_sz: k,
                            max_val_sz: vs,
                            max_elem_sz: e,
                        });
                    }
                }
                _ => {}
            }
            off = v + len;
        }
        caps
    }

    /// Key and value slot sizes of map control messages (bpf/main.c:483-489).
    pub fn cmsg_slots(&self) -> (u32, u32) {
        match (self.abi, self.maps) {
            (3, Some(m)) => (m.max_key_sz, m.max_val_sz),
            _ => (CMSG_MAP_SLOT_ABI2, CMSG_MAP_SLOT_ABI2),
        }
    }

    /// The helper id at ustore address `addr`, if the firmware has one.
    pub fn helper_at(&self, addr: u16) -> Option<u32> {
        self.funcs
            .iter()
            .find(|(_, a)| *a == u32::from(addr))
            .map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_project_firmware_blob() {
        let blob = nfp_firmware::image::bpf_capabilities();
        let c = BpfCaps::parse(&blob);
        assert_eq!(c.abi, 3);
        assert_eq!(c.helper_at(0x200), Some(1));
        assert_eq!(c.helper_at(0x203), Some(25));
        assert_eq!(c.helper_at(0x204), None);
        let m = c.maps.unwrap();
        assert_eq!(
            (m.types, m.max_maps, m.max_key_sz, m.max_val_sz),
            (6, 64, 64, 64)
        );
        assert_eq!(c.cmsg_slots(), (64, 64));
    }

    #[test]
    fn defaults_and_truncation() {
        assert_eq!(BpfCaps::parse(&[]), BpfCaps::default());
        // A TLV claiming more bytes than there are ends the list.
        let mut b = vec![7, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0];
        b.extend_from_slice(&[3, 0, 0, 0, 100, 0, 0, 0, 1]);
        let c = BpfCaps::parse(&b);
        assert_eq!((c.abi, c.maps), (3, None));
        assert_eq!(c.cmsg_slots(), (64, 64));
    }
}
