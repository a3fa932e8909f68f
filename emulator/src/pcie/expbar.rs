//! PCIe-to-CPP expansion BARs: BAR0, BAR2 and BAR4 are each cut into 8
//! slices (24 in all); each slice is a window onto the CPP bus whose target,
//! action, token and base address come from its 32-bit config word
//! (nfpcore/nfp6000_pcie.c:76-89, 193-286; docs/pcie.md#bars, docs/cpp.md#the-config-word).

use crate::cpp::{CppId, NFP_CPP_ACTION_RW};

use super::{NFP_BARS, NFP_PCIE_SLICES_PER_BAR};

/// Number of expansion BAR slices.
pub const NFP_PCIE_EXPBARS: usize = 24;

// Config word fields (nfp6000_pcie.c:67-89).
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_SHIFT` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_SHIFT: u32 = 29;
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_FIXED` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_FIXED: u32 = 0;
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_BULK` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_BULK: u32 = 1;
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_TARGET` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_TARGET: u32 = 2;
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_GENERAL` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_GENERAL: u32 = 3;
/// `NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_EXPLICIT0` (nfp6000_pcie.c:67-89).
pub const NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_EXPLICIT0: u32 = 4;

/// What a host access to a BAR offset reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// BAR0.0: the PCIe island's own space (target 0) at `addr`.
    /// BAR0.0: the PCIe island's own space (target 0) at `addr`.
    Local {
        /// Offset in the island's space.
        addr: u64,
    },
    /// A FIXED or BULK window: a CPP transaction at `addr`.
    /// A FIXED or BULK window: a CPP transaction at `addr`.
    Cpp {
        /// Target, action and token of the window.
        id: CppId,
        /// Address of the access.
        addr: u64,
    },
    /// An explicit-transaction group slice: a read kicks off the transaction
    /// of `area` (nfp6000_pcie.c:1121-1213).
    Explicit {
        /// Explicit group (0-3).
        group: usize,
        /// Area of the group (0-3).
        area: usize,
        /// Offset inside the area.
        offset: u64,
    },
    /// A slice whose config word the driver never programs this way.
    /// A slice whose config word the driver never programs this way.
    Unmapped {
        /// Slice index (0-23).
        index: usize,
        /// Its config word.
        cfg: u32,
    },
    /// Not inside any slice of this BAR (or crossing a slice boundary).
    Outside,
}

/// Slice geometry of BAR `bar`: (first slice index, slice size).
fn geometry(bar: usize) -> Option<(usize, u64)> {
    let def = NFP_BARS.iter().find(|b| b.index == bar)?;
    Some((
        (bar / 2) * NFP_PCIE_SLICES_PER_BAR as usize,
        def.size / NFP_PCIE_SLICES_PER_BAR,
    ))
}

/// The 24 config words.
#[derive(Clone, Debug, Default)]
pub struct ExpansionBars {
    cfg: [u32; NFP_PCIE_EXPBARS],
}

impl ExpansionBars {
    /// The config word of slice `index`.
    pub fn get(&self, index: usize) -> Option<u32> {
        self.cfg.get(index).copied()
    }

    /// Store a config word; the hardware keeps all 32 bits and returns them.
    pub fn set(&mut self, index: usize, value: u32) -> bool {
        match self.cfg.get_mut(index) {
            Some(c) => {
                *c = value;
                true
            }
            None => false,
        }
    }

    /// Decode an access of `len` bytes at `offset` of BAR `bar` against the
    /// slice's current config word.
    pub fn decode(&self, bar: usize, offset: u64, len: usize) -> Window {
        let Some((first, slice)) = geometry(bar) else {
            return Window::Outside;
        };
        let slice_no = offset / slice;
        let soff = offset % slice;
        // soff < slice: the subtraction cannot wrap, the sum is never formed.
        if slice_no >= NFP_PCIE_SLICES_PER_BAR || len as u64 > slice - soff {
            return Window::Outside;
        }
        let index = first + slice_no as usize;
        if index == 0 {
            // BAR0.0 is GENERAL (0x60000000) and maps the PCIe island's own
            // registers directly (nfp6000_pcie.c:610-642).
            return Window::Local { addr: soff };
        }
        let cfg = self.cfg[index];
        let target = ((cfg >> 23) & 0xf) as u8;
        let token = ((cfg >> 21) & 0x3) as u8;
        match cfg >> NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_SHIFT {
            // Base (at most 2^40) plus an offset inside a slice (at most
            // 2^27): no overflow; the MU decodes 40 bits.
            NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_FIXED => Window::Cpp {
                id: CppId::new(target, ((cfg >> 16) & 0x1f) as u8, token),
                addr: (u64::from(cfg & 0xffff) << 24) + soff,
            },
            NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_BULK => Window::Cpp {
                id: CppId::new(target, NFP_CPP_ACTION_RW, token),
                addr: (u64::from(cfg & 0x1f_ffff) << 19) + soff,
            },
            t @ 4..=7 => {
                // Each group slice holds 4 areas (group bitsize - 2).
                let area_size = slice / 4;
                Window::Explicit {
                    group: (t - NFP_PCIE_BAR_PCIE2CPP_MAPTYPE_EXPLICIT0) as usize,
                    area: (soff / area_size) as usize,
                    offset: soff % area_size,
                }
            }
            _ => Window::Unmapped { index, cfg },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpp::*;

    /// The driver's `compute_bar()` (nfp6000_pcie.c:193-265) for a slice of
    /// `bitsize`, width 4 or 8.
    fn compute_bar(bitsize: u32, tgt: u8, act: u8, tok: u8, offset: u64, width: u32) -> u32 {
        let ls = if width == 8 { 1u32 << 27 } else { 0 };
        let mask = !((1u64 << bitsize) - 1);
        let base = offset & mask;
        if act != NFP_CPP_ACTION_RW && act != 0 {
            ls | (u32::from(tgt) << 23)
                | (u32::from(act) << 16)
                | (u32::from(tok) << 21)
                | (base >> 24) as u32
        } else {
            ls | (1 << 29) | (u32::from(tgt) << 23) | (u32::from(tok) << 21) | (base >> 19) as u32
        }
    }

    #[test]
    fn bar0_slice0_is_the_local_space() {
        let e = ExpansionBars::default();
        assert_eq!(e.decode(0, 0x30004, 4), Window::Local { addr: 0x30004 });
        assert_eq!(
            e.decode(0, 0x8_0000 + 8, 4),
            Window::Local { addr: 0x8_0008 }
        );
    }

    #[test]
    fn bulk_windows_in_every_bar() {
        let mut e = ExpansionBars::default();
        // BAR4.0 (index 16, 2 MiB): XPB window for the model register
        // (docs/cpp.md#how-the-driver-uses-windows).
        let cfg = compute_bar(
            21,
            NFP_CPP_TARGET_ISLAND_XPB,
            NFP_CPP_ACTION_RW,
            0,
            0x0150_0004,
            4,
        );
        assert_eq!(cfg, 0x2700_0028);
        e.set(16, cfg);
        assert_eq!(
            e.decode(4, 0x10_0004, 4),
            Window::Cpp {
                id: CppId::new(14, NFP_CPP_ACTION_RW, 0),
                addr: 0x0150_0004
            }
        );
        // BAR2.3 (index 11, 8 MiB): an MU BULK window at 0x18_0080_0000.
        let addr = 0x18_0080_0000 + 0x1234;
        e.set(
            11,
            compute_bar(23, NFP_CPP_TARGET_MU, NFP_CPP_ACTION_RW, 0, addr, 8),
        );
        assert_eq!(
            e.decode(2, 3 * (8 << 20) + 0x1234, 8),
            Window::Cpp {
                id: CppId::new(7, NFP_CPP_ACTION_RW, 0),
                addr
            }
        );
        // BAR0.2 (index 2, 16 MiB).
        e.set(
            2,
            compute_bar(
                24,
                NFP_CPP_TARGET_MU,
                NFP_CPP_ACTION_RW,
                1,
                0x81_0000_4000,
                8,
            ),
        );
        assert_eq!(
            e.decode(0, 2 * (16 << 20) + 0x4000, 8),
            Window::Cpp {
                id: CppId::new(7, NFP_CPP_ACTION_RW, 1),
                addr: 0x81_0000_4000
            }
        );
    }

    #[test]
    fn fixed_windows_carry_the_action() {
        let mut e = ExpansionBars::default();
        // The resource-table mutex windows of docs/cpp.md#how-the-driver-uses-windows.
        let cfg = compute_bar(
            24,
            NFP_CPP_TARGET_MU,
            MU_ACTION_ATOMIC_READ,
            0,
            0x81_0000_0000,
            4,
        );
        assert_eq!(cfg, 0x0383_8100);
        e.set(3, cfg);
        assert_eq!(
            e.decode(0, 3 * (16 << 20) + 0x24, 4),
            Window::Cpp {
                id: CppId::new(7, MU_ACTION_ATOMIC_READ, 0),
                addr: 0x81_0000_0024
            }
        );
        let tsi = compute_bar(
            24,
            NFP_CPP_TARGET_MU,
            MU_ACTION_TEST_SET_IMM,
            MU_TOKEN_TEST_SET_IMM,
            0x81_0000_0000,
            4,
        );
        assert_eq!(tsi, 0x03e5_8100);
        e.set(6, tsi);
        assert_eq!(
            e.decode(0, 6 * (16 << 20), 4),
            Window::Cpp {
                id: CppId::new(7, MU_ACTION_TEST_SET_IMM, MU_TOKEN_TEST_SET_IMM),
                addr: 0x81_0000_0000
            }
        );
    }

    #[test]
    fn explicit_groups_split_into_four_areas() {
        let mut e = ExpansionBars::default();
        e.set(4, 0x8000_0000);
        e.set(5, 0xa000_0000);
        assert_eq!(
            e.decode(0, 4 * (16 << 20) + (2 << 22) + 0x10, 1),
            Window::Explicit {
                group: 0,
                area: 2,
                offset: 0x10
            }
        );
        assert!(matches!(
            e.decode(0, 5 * (16 << 20), 1),
            Window::Explicit {
                group: 1,
                area: 0,
                ..
            }
        ));
    }

    #[test]
    fn out_of_range_and_unprogrammed() {
        let e = ExpansionBars::default();
        assert_eq!(e.decode(0, 128 << 20, 4), Window::Outside);
        assert_eq!(e.decode(1, 0, 4), Window::Outside);
        assert_eq!(
            e.decode(4, (2 << 20) - 4, 8),
            Window::Outside,
            "crosses a slice"
        );
        // An unprogrammed slice (config 0) is a FIXED window to target 0 at 0.
        assert!(matches!(e.decode(2, 0, 4), Window::Cpp { .. }));
        let mut e = ExpansionBars::default();
        e.set(9, 0x6000_0000);
        assert_eq!(
            e.decode(2, 8 << 20, 4),
            Window::Unmapped {
                index: 9,
                cfg: 0x6000_0000
            }
        );
        assert!(!e.set(24, 0));
    }

    #[test]
    fn edge_offsets_and_lengths_do_not_overflow() {
        let mut e = ExpansionBars::default();
        e.set(
            1,
            compute_bar(
                24,
                NFP_CPP_TARGET_MU,
                NFP_CPP_ACTION_RW,
                0,
                0xff_ff00_0000,
                4,
            ),
        );
        assert_eq!(e.decode(0, u64::MAX, 4), Window::Outside);
        assert_eq!(e.decode(0, 16 << 20, usize::MAX), Window::Outside);
        // The last 4 bytes of slice 1 of BAR0, at the top of the 40-bit space.
        let last = (32 << 20) - 4;
        assert!(matches!(
            e.decode(0, last, 4),
            Window::Cpp {
                addr: 0xff_ffff_fffc,
                ..
            }
        ));
        assert_eq!(e.decode(0, last, 5), Window::Outside, "crosses the slice");
    }
}
