//! Consistency checks of an NFFW image before a loader installs it.
//!
//! [`check`] verifies what the image says about itself, independently of
//! the card it is loaded on:
//!
//! - every loadable section's address range is representable
//!   (`sh_addr + sh_size` does not overflow) and no two loadable data
//!   sections ([`is_data_memory`]) of the same memory (island, ME, memory
//!   type) overlap;
//! - the `.mip` runtime symbol points at a valid MIP inside a loadable MU
//!   section of the image;
//! - the MIP's symbol and string tables (`symtab_addr`/`symtab_size`,
//!   `strtab_addr`/`strtab_size`) lie inside loadable MU sections of EMEM 0
//!   whose bytes the file holds (island 24, where the driver reads them: nfp_rtsym.c:94-136), have the
//!   sizes the driver accepts (non-zero, the symbol table a multiple of 16
//!   bytes) and decode: every name offset is inside the string table and
//!   its name ends with a NUL inside it.
//!
//! Where the sections and objects sit in the card's memories is the
//! loader's side (the emulator's `app` module), which knows the memory map.

use crate::mip::Mip;
use crate::nffw::{MemType, Nffw, NffwError, Section, SectionData};
use crate::rtsym::{self, RTSYM_ENTRY_SIZE, RtSym};

/// `NFP_ISL_EMEM0` (nfp6000/nfp6000.h:25): the island whose MU memory holds
/// the MIP's symbol and string tables.
pub const MIP_TABLE_ISLAND: u8 = 24;

/// Which of the MIP's two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MipTable {
    /// `symtab_addr`/`symtab_size`.
    Symtab,
    /// `strtab_addr`/`strtab_size`.
    Strtab,
}

impl std::fmt::Display for MipTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MipTable::Symtab => "symtab",
            MipTable::Strtab => "strtab",
        })
    }
}

/// Why [`check`] refused an image. Each message names the field at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    /// Reading the runtime symbols or the MIP failed.
    #[error(transparent)]
    Nffw(#[from] NffwError),
    /// A section's `sh_addr + sh_size` overflows.
    #[error("section {name}: sh_addr {addr:#x} + sh_size {size:#x} overflows")]
    SectionRange {
        /// Section name.
        name: String,
        /// `sh_addr`.
        addr: u64,
        /// `sh_size`.
        size: u64,
    },
    /// Two loadable sections of one memory overlap.
    #[error(
        "sections {first} and {second} overlap in island {island} ME {me} memory type {mem} \
         at {at:#x}"
    )]
    SectionsOverlap {
        /// The section that starts first.
        first: String,
        /// The other section.
        second: String,
        /// Island.
        island: u8,
        /// ME number.
        me: u8,
        /// Memory type (`sh_info` bits 7:0).
        mem: u8,
        /// Where the second one starts.
        at: u64,
    },
    /// A MIP table size the driver refuses.
    #[error("MIP {table}_size {size:#x}: {reason}")]
    MipTableSize {
        /// Which table.
        table: MipTable,
        /// Its size field.
        size: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// A MIP table is not inside the image.
    #[error(
        "MIP {table}_addr {addr:#x} + {table}_size {size:#x} is not inside one loadable MU \
         section of island {MIP_TABLE_ISLAND} of the image"
    )]
    MipTableOutside {
        /// Which table.
        table: MipTable,
        /// Its address field.
        addr: u32,
        /// Its size field.
        size: u32,
    },
    /// A symbol's name offset is outside the string table.
    #[error(
        "symbol #{index}: name offset {offset:#x} is outside the string table \
         (strtab_size {strtab_size:#x}) or its name has no NUL inside it"
    )]
    NameOutside {
        /// Index of the symbol in the MIP's symbol table.
        index: usize,
        /// The name offset.
        offset: u16,
        /// The string table size.
        strtab_size: u32,
    },
}

/// What [`check`] found: the MIP, the `.mip` symbol and the runtime symbols
/// the driver will read through the MIP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The `.mip` symbol.
    pub mip_sym: RtSym,
    /// The MIP.
    pub mip: Mip,
    /// The symbols of the MIP's tables.
    pub symbols: Vec<RtSym>,
}

/// Check `image` (see the module documentation).
pub fn check(image: &Nffw) -> Result<Checked, ImageError> {
    check_sections(image)?;
    let (mip_sym, mip) = image.mip()?;
    let table = |table, addr: u32, size: u32| {
        if size == 0 {
            return Err(ImageError::MipTableSize {
                table,
                size,
                reason: "the table is empty",
            });
        }
        if table == MipTable::Symtab && size as usize % RTSYM_ENTRY_SIZE != 0 {
            return Err(ImageError::MipTableSize {
                table,
                size,
                reason: "not a multiple of the 16-byte entry",
            });
        }
        stored_mu(image, MIP_TABLE_ISLAND, u64::from(addr), u64::from(size))
            .ok_or(ImageError::MipTableOutside { table, addr, size })
    };
    let symtab = table(MipTable::Symtab, mip.symtab_addr, mip.symtab_size)?;
    let strtab = table(MipTable::Strtab, mip.strtab_addr, mip.strtab_size)?;
    for (index, e) in symtab.chunks_exact(RTSYM_ENTRY_SIZE).enumerate() {
        let offset = u16::from_le_bytes([e[8], e[9]]);
        let named = strtab
            .get(usize::from(offset)..)
            .is_some_and(|t| t.contains(&0));
        if !named {
            return Err(ImageError::NameOutside {
                index,
                offset,
                strtab_size: mip.strtab_size,
            });
        }
    }
    let symbols = rtsym::decode(&symtab, &strtab)?;
    Ok(Checked {
        mip_sym,
        mip,
        symbols,
    })
}

/// `len` bytes at `addr` of the MU memory of `island`, from a loadable MU
/// section whose bytes are stored in the file (so the copy is never larger
/// than the image).
fn stored_mu(image: &Nffw, island: u8, addr: u64, len: u64) -> Option<Vec<u8>> {
    image
        .sections
        .iter()
        .filter(|s| s.is_loadable() && s.mem_type() == MemType::Mu && s.island() == island)
        .filter(|s| matches!(s.data, SectionData::Bytes(_)))
        .find(|s| s.covers(addr, len))
        .and_then(|s| s.read(addr, usize::try_from(len).ok()?))
}

/// Range checks and overlap checks of the loadable sections.
fn check_sections(image: &Nffw) -> Result<(), ImageError> {
    let mut ranges: Vec<(u32, u64, u64, &Section)> = Vec::new();
    for s in image.sections.iter().filter(|s| s.is_loadable()) {
        let end = s
            .addr
            .checked_add(s.size())
            .ok_or_else(|| ImageError::SectionRange {
                name: s.name.clone(),
                addr: s.addr,
                size: s.size(),
            })?;
        if s.size() > 0 && is_data_memory(s.mem_type()) {
            // Island, ME and memory type: the memory the section names.
            ranges.push((s.info & 0xffff_00ff, s.addr, end, s));
        }
    }
    ranges.sort_unstable_by_key(|&(mem, start, end, _)| (mem, start, end));
    for w in ranges.windows(2) {
        let ((m0, _, end0, a), (m1, start1, _, b)) = (w[0], w[1]);
        if m0 == m1 && start1 < end0 {
            return Err(ImageError::SectionsOverlap {
                first: a.name.clone(),
                second: b.name.clone(),
                island: a.island(),
                me: a.me(),
                mem: a.mem_type().raw(),
                at: start1,
            });
        }
    }
    Ok(())
}

/// Whether sections of memory type `m` hold data that must not overlap:
/// ME local memory, CLS, MU memories and the EMU SRAM. Code store sections
/// (type 1) do overlap in real images (`.init.*` and `.text.*` of one ME
/// both start at 0: the init code runs first and is replaced), as do the
/// other types nothing reads back.
pub fn is_data_memory(m: MemType) -> bool {
    matches!(
        m,
        MemType::Lmem | MemType::Cls | MemType::Mu | MemType::EmuCache
    )
}

/// Whether a section's memory type is one the MU target serves on the
/// NFP-4000 (EMEM, IMEM, CTM, and the EMU SRAM of emu-cache sections).
pub fn is_mu_memory(m: MemType) -> bool {
    matches!(m, MemType::Mu | MemType::EmuCache)
}

#[cfg(test)]
mod tests;
