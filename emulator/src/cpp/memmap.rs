//! The memories of the NFP-4000 on an Agilio CX card, where they are on the
//! CPP bus and how big they are (docs/memory.md has the table and the
//! sources).
//!
//! MU addresses (target 7) are decoded as the driver encodes them with the
//! IMB table this card reports (`IMB[MU]` mode 0, addr40, see
//! [`super::xpb`]): bits 39:38 are the locality (access type), bits 37:32
//! the island, bits 31:0 the offset in the island's memory
//! (nfpcore/nfp_target.c:592-598, nfpcore/nfp6000/nfp6000.h:43-50).
//! CLS addresses (target 15, `IMB[CLS]` mode 0 without addr40) carry the
//! island in bits 31:26 (nfp_target.c:500-507).
//!
//! Every access that falls in none of the memories is outside the card: it
//! reads as zero and a write is ignored (see [`super::mu::Mu`]).

use std::ops::Range;

/// CPP addresses are 40 bits wide.
pub const MU_ADDR_MASK: u64 = (1 << 40) - 1;
/// Lowest bit of the MU locality (access type) field with the card's IMB
/// (mode 0, addr40): `nfp_cppat_mu_locality_lsb()` (nfp6000/nfp6000.h:43-50).
pub const MU_LOCALITY_LSB: u32 = 38;
/// `NFP_MU_ADDR_ACCESS_TYPE_MASK` (nfp6000/nfp6000.h:27).
pub const NFP_MU_ADDR_ACCESS_TYPE_MASK: u64 = 3;
/// `NFP_MU_ADDR_ACCESS_TYPE_DIRECT` (nfp6000/nfp6000.h:28): direct access
/// to a memory unit's internal SRAM.
pub const NFP_MU_ADDR_ACCESS_TYPE_DIRECT: u64 = 2;
/// Lowest bit of the island field of an MU address in mode 0 with addr40
/// (nfp_target.c:592-598).
pub const MU_ISLAND_LSB: u32 = 32;
/// Lowest bit of the island field of a CLS address in mode 0 without
/// addr40 (`nfp_encode_basic()`, nfp_target.c:500-507).
pub const CLS_ISLAND_LSB: u32 = 26;
/// Offset bits of a CLS address below the island field.
pub const CLS_OFFSET_MASK: u64 = (1 << CLS_ISLAND_LSB) - 1;

/// `NFP_ISL_EMEM0` (nfp6000/nfp6000.h:25): the EMU with the card's DRAM.
pub const NFP_ISL_EMEM0: u8 = 24;
/// The second EMU: internal SRAM only on the NFP-4000 (Debian's NFP-4000
/// images place only emu-cache sections there, never DRAM sections).
pub const NFP_ISL_EMU1: u8 = 25;
/// The internal memory unit (IMEM).
pub const NFP_ISL_IMEM0: u8 = 28;
/// Islands with a CTM and a CLS: the PCIe island 4, the ME islands 32-36 and
/// island 48 (the islands of the `.ctm*`/`.cls*` sections of Debian's
/// NFP-4000 images).
pub const CTM_ISLANDS: [u8; 7] = [4, 32, 33, 34, 35, 36, 48];

/// EMEM (external DRAM of EMU 0) of the Agilio CX 2x25 (AMDA0099): 2 GiB
/// (docs/memory.md).
pub const EMEM_SIZE_DEFAULT: u64 = 2 << 30;
/// Smallest EMEM [`MemoryMap::nfp4000`] accepts: the project's images and
/// the NSP's structures need the first 16 MiB.
pub const EMEM_SIZE_MIN: u64 = 16 << 20;
/// Largest EMEM: an island's offset field is 32 bits.
pub const EMEM_SIZE_MAX: u64 = 1 << 32;
/// Offset of the EMU internal SRAM ("emu cache", `emem_cache_upper`) window
/// that firmware uses as memory.
pub const EMU_SRAM_BASE: u64 = 0x40_0000;
/// Size of that window.
pub const EMU_SRAM_SIZE: u64 = 4 << 20;
/// IMEM size.
pub const IMEM_SIZE: u64 = 4 << 20;
/// CTM size per island.
pub const CTM_SIZE: u64 = 256 << 10;
/// CLS size per island.
pub const CLS_SIZE: u64 = 64 << 10;
/// The service processor's memory: resource table, NSP CSRs, hwinfo,
/// `nfp.nffw` and the NSP buffer, at `NFP_RESOURCE_TBL_BASE`
/// (nfp_resource.c:20). In the card's address mode this is a direct access
/// (locality 2) to island 1.
pub const NSP_MEM_BASE: u64 = 0x81_0000_0000;
/// Size of the service processor's memory [choice: room for an 8 MiB NSP
/// buffer].
pub const NSP_MEM_SIZE: u64 = 16 << 20;

/// Granule of lazy backing: a memory page is allocated on its first write.
pub const PAGE_SIZE: u64 = 4096;
/// Upper bound of the bookkeeping per backed page (the map entry beside the
/// page), used by [`MemoryMap::bound`].
pub const PAGE_OVERHEAD_MAX: u64 = 64;
/// Upper bound of the fixed part of the memory model (the map itself).
pub const FIXED_OVERHEAD_MAX: u64 = 64 << 10;

/// What kind of memory a [`Memory`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemKind {
    /// EMEM: the external DRAM behind EMU 0.
    Emem,
    /// An EMU's internal SRAM used as memory ("emu cache", section memory
    /// type 9).
    EmuSram,
    /// IMEM.
    Imem,
    /// Cluster target memory of one island.
    Ctm,
    /// Cluster local scratch of one island (CPP target 15).
    Cls,
    /// The service processor's structures and buffer.
    Nsp,
}

/// One memory of the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Kind of memory.
    pub kind: MemKind,
    /// Island (1 for the service processor's memory).
    pub island: u8,
    /// First offset inside the island that belongs to this memory.
    pub base: u64,
    /// Size in bytes (a multiple of [`PAGE_SIZE`]).
    pub size: u64,
}

impl Memory {
    /// Offsets inside the island that belong to this memory.
    pub fn offsets(&self) -> Range<u64> {
        self.base..self.base + self.size
    }

    /// Name for messages, e.g. `EMEM (island 24)`.
    pub fn name(&self) -> String {
        let k = match self.kind {
            MemKind::Emem => "EMEM",
            MemKind::EmuSram => "EMU SRAM",
            MemKind::Imem => "IMEM",
            MemKind::Ctm => "CTM",
            MemKind::Cls => "CLS",
            MemKind::Nsp => "NSP memory",
        };
        format!("{k} (island {})", self.island)
    }

    /// The canonical CPP address of the island offset `off` (in
    /// [`Memory::offsets`]): the MU address (target 7) the driver uses, or
    /// the CLS address (target 15).
    /// Direct-access locality for the SRAM of EMU 0, whose DRAM answers the
    /// other localities (nfp_rtsym.c:237-243).
    pub fn cpp_address(&self, off: u64) -> u64 {
        let island = u64::from(self.island);
        match self.kind {
            MemKind::Cls => island << CLS_ISLAND_LSB | off,
            MemKind::Nsp => NSP_MEM_BASE | off,
            MemKind::EmuSram if self.island == NFP_ISL_EMEM0 => {
                NFP_MU_ADDR_ACCESS_TYPE_DIRECT << MU_LOCALITY_LSB | island << MU_ISLAND_LSB | off
            }
            _ => island << MU_ISLAND_LSB | off,
        }
    }
}

/// Errors building a memory map.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MemoryMapError {
    /// The EMEM size is not a multiple of 1 MiB in the accepted range.
    #[error(
        "EMEM size {0:#x} must be a multiple of 1 MiB between {EMEM_SIZE_MIN:#x} and {EMEM_SIZE_MAX:#x}"
    )]
    BadEmemSize(u64),
}

/// Where a memory is in the address space of one CPP target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Index into [`MemoryMap::memories`].
    pub index: usize,
    /// Offset from the start of that memory.
    pub offset: u64,
}

/// The card's memories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryMap {
    memories: Vec<Memory>,
}

impl Default for MemoryMap {
    fn default() -> Self {
        Self::nfp4000(EMEM_SIZE_DEFAULT).expect("the default EMEM size is valid")
    }
}

impl MemoryMap {
    /// The NFP-4000 of an Agilio CX with `emem_size` bytes of EMEM.
    pub fn nfp4000(emem_size: u64) -> Result<Self, MemoryMapError> {
        if !(EMEM_SIZE_MIN..=EMEM_SIZE_MAX).contains(&emem_size) || emem_size % (1 << 20) != 0 {
            return Err(MemoryMapError::BadEmemSize(emem_size));
        }
        let m = |kind, island, base, size| Memory {
            kind,
            island,
            base,
            size,
        };
        let mut memories = vec![
            m(MemKind::Nsp, 1, 0, NSP_MEM_SIZE),
            m(MemKind::Emem, NFP_ISL_EMEM0, 0, emem_size),
            m(
                MemKind::EmuSram,
                NFP_ISL_EMEM0,
                EMU_SRAM_BASE,
                EMU_SRAM_SIZE,
            ),
            m(MemKind::EmuSram, NFP_ISL_EMU1, EMU_SRAM_BASE, EMU_SRAM_SIZE),
            m(MemKind::Imem, NFP_ISL_IMEM0, 0, IMEM_SIZE),
        ];
        memories.extend(CTM_ISLANDS.iter().map(|&i| m(MemKind::Ctm, i, 0, CTM_SIZE)));
        memories.extend(CTM_ISLANDS.iter().map(|&i| m(MemKind::Cls, i, 0, CLS_SIZE)));
        Ok(Self { memories })
    }

    /// Every memory, in a fixed order.
    pub fn memories(&self) -> &[Memory] {
        &self.memories
    }

    /// The EMEM size.
    pub fn emem_size(&self) -> u64 {
        self.find(MemKind::Emem, NFP_ISL_EMEM0)
            .map_or(0, |i| self.memories[i].size)
    }

    /// MU addresses of EMEM, e.g. for map storage that lives "in EMEM".
    pub fn emem_range(&self) -> Range<u64> {
        let base = u64::from(NFP_ISL_EMEM0) << MU_ISLAND_LSB;
        base..base + self.emem_size()
    }

    /// The part of EMEM set aside for offloaded BPF map tables: its upper
    /// half (0x18_4000_0000..0x18_8000_0000 with the default 2 GiB). The
    /// firmware images the card accepts keep their EMEM sections below it
    /// in practice (the project's images use the first 9 MiB); a map store
    /// that allocates only here holds at most its size.
    pub fn map_region(&self) -> Range<u64> {
        let emem = self.emem_range();
        emem.start + self.emem_size() / 2..emem.end
    }

    /// Index of the memory of `kind` in `island`.
    pub fn find(&self, kind: MemKind, island: u8) -> Option<usize> {
        self.memories
            .iter()
            .position(|m| m.kind == kind && m.island == island)
    }

    /// The memory an MU address (target 7) falls in. The island's memories
    /// are told apart by locality: EMU 0 serves direct access from its SRAM
    /// and every other locality from DRAM; the other islands ignore it.
    pub fn decode_mu(&self, addr: u64) -> Option<Location> {
        let addr = addr & MU_ADDR_MASK;
        let locality = (addr >> MU_LOCALITY_LSB) & NFP_MU_ADDR_ACCESS_TYPE_MASK;
        let island = ((addr >> MU_ISLAND_LSB) & 0x3f) as u8;
        let off = addr & 0xffff_ffff;
        let direct = locality == NFP_MU_ADDR_ACCESS_TYPE_DIRECT;
        let kind = match island {
            1 if direct => MemKind::Nsp,
            NFP_ISL_EMEM0 if direct => MemKind::EmuSram,
            NFP_ISL_EMEM0 => MemKind::Emem,
            NFP_ISL_EMU1 => MemKind::EmuSram,
            NFP_ISL_IMEM0 => MemKind::Imem,
            i if CTM_ISLANDS.contains(&i) => MemKind::Ctm,
            _ => return None,
        };
        self.locate(kind, island, off)
    }

    /// The memory a CLS address (target 15) falls in.
    pub fn decode_cls(&self, addr: u64) -> Option<Location> {
        let island = ((addr >> CLS_ISLAND_LSB) & 0x3f) as u8;
        if addr >> (CLS_ISLAND_LSB + 6) != 0 {
            return None;
        }
        self.locate(MemKind::Cls, island, addr & CLS_OFFSET_MASK)
    }

    /// The memory of `kind` in `island` if `off` is inside it.
    pub fn locate(&self, kind: MemKind, island: u8, off: u64) -> Option<Location> {
        let index = self.find(kind, island)?;
        let m = &self.memories[index];
        m.offsets().contains(&off).then(|| Location {
            index,
            offset: off - m.base,
        })
    }

    /// Whether `len` bytes at `loc` stay inside its memory.
    pub fn fits(&self, loc: Location, len: u64) -> bool {
        self.memories
            .get(loc.index)
            .is_some_and(|m| loc.offset.checked_add(len).is_some_and(|e| e <= m.size))
    }

    /// Sum of the sizes of every memory.
    pub fn total_size(&self) -> u64 {
        self.memories.iter().map(|m| m.size).sum()
    }

    /// Upper bound of the host memory the model of these memories can ever
    /// hold, whatever a guest writes: every page of every memory backed,
    /// plus the bookkeeping per page and the fixed overhead
    /// (docs/memory.md, "The bound").
    pub fn bound(&self) -> u64 {
        let total = self.total_size();
        total + total / PAGE_SIZE * PAGE_OVERHEAD_MAX + FIXED_OVERHEAD_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_addresses_decode_to_their_memories() {
        let map = MemoryMap::default();
        let kind = |a: u64| map.decode_mu(a).map(|l| map.memories()[l.index].kind);
        // NFP_RESOURCE_TBL_BASE (nfp_resource.c:20).
        assert_eq!(kind(0x81_0000_0000), Some(MemKind::Nsp));
        assert_eq!(kind(0x81_00ff_ffff), Some(MemKind::Nsp));
        assert_eq!(kind(0x81_0100_0000), None);
        // vNIC BAR, MIP of the project's image; Debian's EMEM sections.
        assert_eq!(kind(0x18_0080_8000), Some(MemKind::Emem));
        assert_eq!(kind(0x18_4a00_0000 - 1), Some(MemKind::Emem));
        assert_eq!(kind(0x18_8000_0000), None, "past 2 GiB");
        // An EMU_CACHE rtsym of domain 24 (nfp_rtsym.c:237-243).
        assert_eq!(kind(0x98_0060_0000), Some(MemKind::EmuSram));
        assert_eq!(kind(0x98_0000_0000), None, "below the SRAM window");
        // Debian's nic image: nfd_cfg_pf0_num_ports, target MU, domain 25.
        assert_eq!(kind(0x19_0041_57a8), Some(MemKind::EmuSram));
        assert_eq!(kind(0x99_0041_57a8), Some(MemKind::EmuSram));
        assert_eq!(kind(0x1c_003f_ffff), Some(MemKind::Imem));
        assert_eq!(kind(0x1c_0040_0000), None);
        assert_eq!(kind(0x20_0003_ffff), Some(MemKind::Ctm));
        assert_eq!(kind(0x20_0004_0000), None);
        assert_eq!(kind(0x05_0000_0000), None, "no island 5");
        assert_eq!(kind(0x01_0000_0000), None, "island 1 only in direct access");
        // High bits above 40 are not part of the address.
        assert_eq!(kind(0xff00_0018_0000_0000), Some(MemKind::Emem));
    }

    #[test]
    fn cls_addresses_carry_the_island_in_bits_31_26() {
        let map = MemoryMap::default();
        let l = map.decode_cls(32 << 26 | 0x1234).unwrap();
        assert_eq!(map.memories()[l.index].island, 32);
        assert_eq!(l.offset, 0x1234);
        assert_eq!(map.decode_cls(32 << 26 | CLS_SIZE), None);
        assert_eq!(map.decode_cls(1 << 32), None);
        assert_eq!(map.decode_cls(24 << 26), None, "no CLS in island 24");
    }

    #[test]
    fn canonical_addresses_round_trip() {
        let map = MemoryMap::default();
        for (i, m) in map.memories().iter().enumerate() {
            for off in [0, m.size - 1] {
                let a = m.cpp_address(m.base + off);
                let l = if m.kind == MemKind::Cls {
                    map.decode_cls(a)
                } else {
                    map.decode_mu(a)
                };
                assert_eq!(
                    l,
                    Some(Location {
                        index: i,
                        offset: off
                    }),
                    "{}",
                    m.name()
                );
            }
        }
    }

    #[test]
    fn sizes_and_bound() {
        assert_eq!(
            MemoryMap::nfp4000(1 << 20),
            Err(MemoryMapError::BadEmemSize(1 << 20))
        );
        assert!(MemoryMap::nfp4000((64 << 20) + 1).is_err());
        assert!(MemoryMap::nfp4000(8 << 30).is_err());
        let map = MemoryMap::nfp4000(64 << 20).unwrap();
        assert_eq!(map.emem_size(), 64 << 20);
        assert_eq!(map.emem_range(), 0x18_0000_0000..0x18_0400_0000);
        assert_eq!(map.map_region(), 0x18_0200_0000..0x18_0400_0000);
        assert_eq!(
            MemoryMap::default().map_region(),
            0x18_4000_0000..0x18_8000_0000
        );
        // 64 MiB EMEM, 2x4 MiB EMU SRAM, 4 MiB IMEM, 7 CTMs, 7 CLSs, 16 MiB NSP.
        let total = (64 << 20) + (8 << 20) + (4 << 20) + 7 * CTM_SIZE + 7 * CLS_SIZE + (16 << 20);
        assert_eq!(map.total_size(), total);
        assert!(map.bound() > total && map.bound() < total + total / 32 + (1 << 20));
        assert!(map.fits(
            Location {
                index: 1,
                offset: 0
            },
            64 << 20
        ));
        assert!(!map.fits(
            Location {
                index: 1,
                offset: 1
            },
            64 << 20
        ));
        assert!(!map.fits(
            Location {
                index: 1,
                offset: u64::MAX
            },
            2
        ));
    }
}
