//! The firmware's BPF capabilities: the TLV list in the run-time symbol
//! `_abi_bpf_capabilities` (docs/bpf-offload.md#capabilities; bpf/fw.h:19-52, parsed by the
//! driver in bpf/main.c:205-421). The emulator reads the same blob the
//! driver reads, so the loaded image decides what the card offers.

/// TLV types (bpf/fw.h:19-52), as the firmware crate writes them.
use nfp_firmware::image::{
    BPF_CAP_TYPE_ABI_VERSION as NFP_BPF_CAP_TYPE_ABI_VERSION,
    BPF_CAP_TYPE_CMSG_MULTI_ENT as NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT,
    BPF_CAP_TYPE_FUNC as NFP_BPF_CAP_TYPE_FUNC, BPF_CAP_TYPE_MAPS as NFP_BPF_CAP_TYPE_MAPS,
};

/// ABI 2 control messages use fixed 64-byte key and value slots
/// (`CMSG_MAP_KEY_LW`/`CMSG_MAP_VALUE_LW`, bpf/fw.h:58-60).
pub const CMSG_MAP_SLOT_ABI2: u32 = 64;

/// Most entries one GETFIRST/GETNEXT reply carries when the firmware
/// announces `NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT` (the driver asks for at most
/// `NFP_BPF_MAP_CACHE_CNT` = 4, bpf/main.h:191).
pub const CMSG_MAX_ENTRIES_MULTI: u32 = 16;

/// How map control messages are laid out: key and value slot sizes, and
/// how many entries a reply may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmsgLayout {
    /// Bytes of a key slot.
    pub key: u32,
    /// Bytes of a value slot.
    pub value: u32,
    /// Most entries per reply: 1 unless the image announces
    /// `NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT` (the driver then asks for more,
    /// `nfp_bpf_start`, bpf/main.c:448-451).
    pub max_entries: u32,
}

impl From<(u32, u32)> for CmsgLayout {
    /// Slots of `(key, value)` bytes, multi-entry replies allowed.
    fn from((key, value): (u32, u32)) -> Self {
        Self {
            key,
            value,
            max_entries: CMSG_MAX_ENTRIES_MULTI,
        }
    }
}

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
    /// `NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT`: replies may carry several entries.
    pub multi_ent: bool,
}

impl Default for BpfCaps {
    fn default() -> Self {
        Self {
            abi: 2,
            funcs: Vec::new(),
            maps: None,
            multi_ent: false,
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
                    // The driver knows ABIs 2 and 3 and disables offload
                    // (version 0) for others (bpf/main.c:326-331).
                    if let Some(a) = val(0) {
                        caps.abi = if (2..=3).contains(&a) { a as u8 } else { 0 };
                    }
                }
                NFP_BPF_CAP_TYPE_CMSG_MULTI_ENT => caps.multi_ent = true,
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

    /// Key and value slot sizes of map control messages (bpf/main.c:483-489):
    /// ABI 3 sizes them by the maps TLV (0 without one), older ABIs use
    /// 64 bytes.
    pub fn cmsg_slots(&self) -> (u32, u32) {
        match (self.abi, self.maps) {
            (3, Some(m)) => (m.max_key_sz, m.max_val_sz),
            (3, None) => (0, 0),
            _ => (CMSG_MAP_SLOT_ABI2, CMSG_MAP_SLOT_ABI2),
        }
    }

    /// The control-message layout this firmware answers with.
    pub fn cmsg_layout(&self) -> CmsgLayout {
        let (key, value) = self.cmsg_slots();
        CmsgLayout {
            key,
            value,
            max_entries: if self.multi_ent {
                CMSG_MAX_ENTRIES_MULTI
            } else {
                1
            },
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
        // ABI 3 without a maps TLV: the driver's slots are max_key_sz = 0.
        assert_eq!(c.cmsg_slots(), (0, 0));
    }

    fn tlv(ty: u32, words: &[u32]) -> Vec<u8> {
        let mut v = ty.to_le_bytes().to_vec();
        v.extend_from_slice(&(4 * words.len() as u32).to_le_bytes());
        for w in words {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v
    }

    /// The capabilities of Debian's bpf images (firmware-netronome
    /// 20250410, bpf-2.0.6): no ABI version TLV (ABI 2), lookup and
    /// perf_event_output helpers at their own addresses, 56-byte keys and
    /// values, no multi-entry messages.
    #[test]
    fn abi2_image_without_multi_entry_messages() {
        let mut b = tlv(2, &[1, 44, 248, 84, 112]);
        b.extend(tlv(3, &[6, 128, 3_072_000, 56, 56, 64]));
        b.extend(tlv(1, &[1, 1149]));
        b.extend(tlv(1, &[25, 1152]));
        b.extend(tlv(4, &[]));
        b.extend(tlv(5, &[]));
        b.extend(tlv(6, &[]));
        let c = BpfCaps::parse(&b);
        assert_eq!(c.abi, 2);
        assert_eq!(c.helper_at(1149), Some(1));
        assert_eq!(c.helper_at(1152), Some(25));
        assert_eq!(
            c.helper_at(0x200),
            None,
            "not the project image's addresses"
        );
        assert_eq!(c.maps.unwrap().max_key_sz, 56);
        assert_eq!(
            c.cmsg_layout(),
            CmsgLayout {
                key: 64,
                value: 64,
                max_entries: 1
            },
            "ABI 2: 64-byte slots whatever the maps TLV says; one entry"
        );
        // The project's image: ABI 3, slots by the maps TLV, multi-entry.
        let p = BpfCaps::parse(&nfp_firmware::image::bpf_capabilities());
        assert!(p.multi_ent);
        assert_eq!(p.cmsg_layout().max_entries, CMSG_MAX_ENTRIES_MULTI);
    }

    /// ABI versions the driver does not know disable offload (version 0,
    /// bpf/main.c:326-331); they are not truncated into a known one.
    #[test]
    fn unknown_abi_versions() {
        for (v, abi) in [(1, 0), (2, 2), (3, 3), (4, 0), (259, 0)] {
            let mut b = tlv(7, &[v]);
            b.extend(tlv(3, &[6, 64, 1000, 32, 32, 64]));
            let c = BpfCaps::parse(&b);
            assert_eq!(c.abi, abi, "version {v}");
            let slots = if abi == 3 { (32, 32) } else { (64, 64) };
            assert_eq!(c.cmsg_slots(), slots, "version {v}");
        }
    }
}
