//! The CPP bus ("Command Push Pull"): every on-chip target the host reaches
//! through the PCIe expansion BARs.
//!
//! A CPP ID is `target<<24 | token<<16 | action<<8 | island`
//! (nfpcore/nfp_cpp.h:81-101). The driver resolves the island into the
//! address before it programs a window (nfp_target.c), so the device sees
//! (target, action, token, 40-bit address) per access; island bits live in
//! the address (see [`mu`]).

pub mod layout;
pub mod memmap;
pub mod mu;
pub mod xpb;

pub use memmap::MemoryMap;

#[cfg(test)]
mod attack_tests;
pub use mu::Mu;
pub use xpb::Xpb;

/// Target 0: the PCIe island's own space (SRAM, BAR CSRs, queue
/// controller). The driver's header calls it `NFP_CPP_TARGET_INVALID`
/// (nfpcore/nfp6000/nfp6000.h:11) yet uses it for the queue controller
/// (nfp_net_main.c:489).
pub const NFP_CPP_TARGET_LOCAL: u8 = 0;
/// `NFP_CPP_TARGET_NBI` (nfp6000.h:12).
pub const NFP_CPP_TARGET_NBI: u8 = 1;
/// `NFP_CPP_TARGET_MU` (nfp6000.h:16): EMEM, IMEM and CTM memories.
pub const NFP_CPP_TARGET_MU: u8 = 7;
/// `NFP_CPP_TARGET_PCIE` (nfp6000.h:17).
pub const NFP_CPP_TARGET_PCIE: u8 = 9;
/// `NFP_CPP_TARGET_ARM` (nfp6000.h:18).
pub const NFP_CPP_TARGET_ARM: u8 = 10;
/// `NFP_CPP_TARGET_ISLAND_XPB` (nfp6000.h:21).
pub const NFP_CPP_TARGET_ISLAND_XPB: u8 = 14;
/// `NFP_CPP_TARGET_CLS` (nfp6000.h:23).
pub const NFP_CPP_TARGET_CLS: u8 = 15;

/// `NFP_CPP_ACTION_RW` (nfp_cpp.h:59): read on loads, write on stores.
pub const NFP_CPP_ACTION_RW: u8 = 32;
/// Explicit read and write actions (nfp_cpplib.c:176-179, 229-232).
pub const NFP_CPP_ACTION_READ: u8 = 0;
/// Explicit write action (nfp_cpplib.c:229-232).
pub const NFP_CPP_ACTION_WRITE: u8 = 1;
/// MU atomic actions used by the NFP mutex (nfpcore/nfp_mutex.c:126, 89, 265).
pub const MU_ACTION_ATOMIC_READ: u8 = 3;
/// MU `atomic_write` (nfp_mutex.c:89).
pub const MU_ACTION_ATOMIC_WRITE: u8 = 4;
/// MU `test_set_imm` (nfp_mutex.c:265).
pub const MU_ACTION_TEST_SET_IMM: u8 = 5;
/// Token of `test_set_imm` that the mutex uses (nfp_mutex.c:265).
pub const MU_TOKEN_TEST_SET_IMM: u8 = 3;

/// A CPP transaction's identity without the island (already in the address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CppId {
    /// CPP target (bits 30:24 of the ID).
    pub target: u8,
    /// Action (bits 15:8).
    pub action: u8,
    /// Token (bits 23:16).
    pub token: u8,
}

impl CppId {
    /// A CPP ID from its three fields.
    pub const fn new(target: u8, action: u8, token: u8) -> Self {
        Self {
            target,
            action,
            token,
        }
    }

    /// Split a 32-bit CPP ID as the driver packs it (nfp_cpp.h:81-101); the
    /// island byte is returned separately.
    pub const fn from_raw(id: u32) -> (Self, u8) {
        (
            Self {
                target: ((id >> 24) & 0x7f) as u8,
                token: ((id >> 16) & 0xff) as u8,
                action: ((id >> 8) & 0xff) as u8,
            },
            (id & 0xff) as u8,
        )
    }
}

impl std::fmt::Display for CppId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.target {
            NFP_CPP_TARGET_LOCAL => "pcie-local",
            NFP_CPP_TARGET_NBI => "NBI",
            2 => "QDR",
            6 => "ILA",
            NFP_CPP_TARGET_MU => "MU",
            NFP_CPP_TARGET_PCIE => "PCIE",
            NFP_CPP_TARGET_ARM => "ARM",
            12 => "CRYPTO",
            NFP_CPP_TARGET_ISLAND_XPB => "XPB",
            NFP_CPP_TARGET_CLS => "CLS",
            _ => "?",
        };
        write!(
            f,
            "CPP({}={name}, action {}, token {})",
            self.target, self.action, self.token
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpp_id_unpacks_like_the_driver_packs() {
        // NFP_CPP_ISLAND_ID(7, RW, 0, 24): the rtsym table read (nfp_rtsym.c:97).
        let raw = (7u32 << 24) | (32 << 8) | 24;
        let (id, island) = CppId::from_raw(raw);
        assert_eq!(id, CppId::new(NFP_CPP_TARGET_MU, NFP_CPP_ACTION_RW, 0));
        assert_eq!(island, 24);
        assert_eq!(
            CppId::from_raw((7 << 24) | (3 << 16) | (5 << 8)).0,
            CppId::new(7, MU_ACTION_TEST_SET_IMM, MU_TOKEN_TEST_SET_IMM)
        );
        assert_eq!(id.to_string(), "CPP(7=MU, action 32, token 0)");
    }
}
