//! The resource table the service processor keeps in MU memory
//! (nfpcore/nfp_resource.c; docs/nsp.md#resource-table): 128 entries of 32 bytes at
//! `0x81_0000_0000`, each a mutex {lock, key} plus a named region.

use super::crc::crc32_posix;

/// `NFP_RESOURCE_TBL_BASE` (nfp_resource.c:19), a MU address.
pub const NFP_RESOURCE_TBL_BASE: u64 = 0x81_0000_0000;
/// `NFP_RESOURCE_TBL_SIZE` (nfp_resource.c:18).
pub const NFP_RESOURCE_TBL_SIZE: u64 = 4096;
/// Size of `struct nfp_resource_entry` (nfp_resource.c:41-55).
pub const NFP_RESOURCE_ENTRY_SIZE: u64 = 32;
/// `NFP_RESOURCE_TBL_ENTRIES` (nfp_resource.c:57-59).
pub const NFP_RESOURCE_TBL_ENTRIES: usize = 128;
/// `NFP_RESOURCE_TBL_NAME` (nfp_resource.c:22); its key is 0 (:23).
pub const NFP_RESOURCE_TBL_NAME: &str = "nfp.res";

/// Resource names (nfpcore/nfp.h:48-65).
pub const NFP_RESOURCE_NSP: &str = "nfp.sp";
/// `NFP_RESOURCE_NFP_HWINFO` (nfpcore/nfp.h:48-65).
pub const NFP_RESOURCE_HWINFO: &str = "nfp.info";
/// `NFP_RESOURCE_NFP_NFFW` (nfpcore/nfp.h:48-65).
pub const NFP_RESOURCE_NFP_NFFW: &str = "nfp.nffw";

/// Key of a resource name: the POSIX CRC of the 8-byte zero-padded name
/// (nfp_resource.c:82).
pub fn resource_key(name: &str) -> u32 {
    let mut n = [0u8; 8];
    let b = name.as_bytes();
    let l = b.len().min(8);
    n[..l].copy_from_slice(&b[..l]);
    crc32_posix(&n)
}

/// One region in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Resource name (at most 8 bytes).
    pub name: &'static str,
    /// CPP target of the region.
    pub cpp_target: u8,
    /// CPP action.
    pub cpp_action: u8,
    /// CPP token.
    pub cpp_token: u8,
    /// MU address, 256-byte aligned.
    pub addr: u64,
    /// Size in bytes, a multiple of 256.
    pub size: u64,
}

impl Resource {
    /// The 32-byte entry (`struct nfp_resource_entry`, nfp_resource.c:41-55),
    /// mutex unlocked.
    pub fn entry(&self, key: u32) -> [u8; NFP_RESOURCE_ENTRY_SIZE as usize] {
        let mut e = [0u8; 32];
        e[4..8].copy_from_slice(&key.to_le_bytes());
        let n = self.name.as_bytes();
        e[8..8 + n.len().min(8)].copy_from_slice(&n[..n.len().min(8)]);
        e[0x15] = self.cpp_action;
        e[0x16] = self.cpp_token;
        e[0x17] = self.cpp_target;
        e[0x18..0x1c].copy_from_slice(&((self.addr >> 8) as u32).to_le_bytes());
        e[0x1c..0x20].copy_from_slice(&((self.size >> 8) as u32).to_le_bytes());
        e
    }
}

/// The whole 4 KiB table: entry 0 is the table's own mutex (key 0), then
/// `resources` in order.
pub fn build_table(resources: &[Resource]) -> Vec<u8> {
    let mut t = vec![0u8; NFP_RESOURCE_TBL_SIZE as usize];
    let own = Resource {
        name: NFP_RESOURCE_TBL_NAME,
        cpp_target: crate::cpp::NFP_CPP_TARGET_MU,
        cpp_action: 0,
        cpp_token: 0,
        addr: NFP_RESOURCE_TBL_BASE,
        size: NFP_RESOURCE_TBL_SIZE,
    };
    t[..32].copy_from_slice(&own.entry(0));
    for (i, r) in resources
        .iter()
        .enumerate()
        .take(NFP_RESOURCE_TBL_ENTRIES - 1)
    {
        let o = (i + 1) * 32;
        t[o..o + 32].copy_from_slice(&r.entry(resource_key(r.name)));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_driver() {
        // docs/nsp.md#resource-table table.
        assert_eq!(resource_key("nfp.sp"), 0xdf97_c080);
        assert_eq!(resource_key("nfp.info"), 0xd428_ea95);
        assert_eq!(resource_key("nfp.nffw"), 0x4c38_81ca);
    }

    #[test]
    fn table_layout() {
        let t = build_table(&[Resource {
            name: "nfp.sp",
            cpp_target: 7,
            cpp_action: 32,
            cpp_token: 0,
            addr: 0x81_0000_1000,
            size: 0x100,
        }]);
        assert_eq!(t.len(), 4096);
        // Entry 0: unlocked, key 0 (the driver requires 0 at +4).
        assert_eq!(&t[0..8], &[0; 8]);
        assert_eq!(&t[8..15], b"nfp.res");
        // Entry 1.
        let e = &t[32..64];
        assert_eq!(
            u32::from_le_bytes(e[0..4].try_into().unwrap()),
            0,
            "unlocked"
        );
        assert_eq!(u32::from_le_bytes(e[4..8].try_into().unwrap()), 0xdf97_c080);
        assert_eq!(&e[8..14], b"nfp.sp");
        assert_eq!((e[0x17], e[0x15], e[0x16]), (7, 32, 0));
        assert_eq!(
            u32::from_le_bytes(e[0x18..0x1c].try_into().unwrap()),
            0x8100_0010
        );
        assert_eq!(u32::from_le_bytes(e[0x1c..0x20].try_into().unwrap()), 1);
        assert!(t[64..].iter().all(|&b| b == 0));
    }
}
