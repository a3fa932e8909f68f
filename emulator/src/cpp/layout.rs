//! Where a firmware image's sections and objects go in the card's memories, and
//! the checks that they fit there before anything is installed.

use nfp_firmware::check::Checked;
use nfp_firmware::rtsym::{RTSYM_MENUM_NONE, RTSYM_TARGET_EMU_CACHE, RTSYM_TYPE_OBJECT};
use nfp_firmware::{MemType, Nffw, RtSym, Section};

use crate::cpp::memmap::{CTM_ISLANDS, MemKind, Memory, MemoryMap, NFP_ISL_EMEM0, NFP_ISL_IMEM0};
use crate::cpp::mu::{emu_cache_address, mu_address};
use crate::cpp::{NFP_CPP_TARGET_CLS, NFP_CPP_TARGET_MU};

/// Why an image does not fit the card's memories. Each message names the
/// section or symbol at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    /// A loadable section names a memory the card does not have.
    #[error("section {name}: island {island} has no memory of type {mem} on this card")]
    NoMemory {
        /// Section name.
        name: String,
        /// Its island.
        island: u8,
        /// Its memory type.
        mem: u8,
    },
    /// A loadable section does not fit its memory.
    #[error(
        "section {name}: sh_addr {addr:#x} + sh_size {size:#x} is outside {memory} \
         ({start:#x}..{end:#x})"
    )]
    SectionOutside {
        /// Section name.
        name: String,
        /// `sh_addr`.
        addr: u64,
        /// `sh_size`.
        size: u64,
        /// The memory, e.g. `EMEM (island 24)`.
        memory: String,
        /// First offset of the memory in its island.
        start: u64,
        /// End offset of the memory in its island.
        end: u64,
    },
    /// A data object of the runtime symbol table is not inside one memory.
    #[error(
        "symbol {name}: object at island {island} address {addr:#x} size {size:#x} is not \
         inside one memory of the card"
    )]
    SymbolOutside {
        /// Symbol name.
        name: String,
        /// Its island.
        island: u8,
        /// Its address.
        addr: u64,
        /// Its size.
        size: u64,
    },
}

/// The memory a loadable section is loaded into; `Ok(None)` for memory
/// types this model does not hold (code store, ME local memory, the packet
/// engine's memories).
pub fn section_memory(map: &MemoryMap, s: &Section) -> Result<Option<Memory>, LayoutError> {
    let island = s.island();
    let kind = match s.mem_type() {
        MemType::Mu => match island {
            NFP_ISL_EMEM0 => Some(MemKind::Emem),
            NFP_ISL_IMEM0 => Some(MemKind::Imem),
            i if CTM_ISLANDS.contains(&i) => Some(MemKind::Ctm),
            _ => None,
        },
        MemType::EmuCache => Some(MemKind::EmuSram),
        MemType::Cls => Some(MemKind::Cls),
        MemType::Lmem | MemType::Other(_) => return Ok(None),
    };
    let memory = kind
        .and_then(|k| map.find(k, island))
        .map(|i| map.memories()[i])
        .ok_or_else(|| LayoutError::NoMemory {
            name: s.name.clone(),
            island,
            mem: s.mem_type().raw(),
        })?;
    let fits = s.addr >= memory.base
        && s.addr
            .checked_add(s.size())
            .is_some_and(|e| e <= memory.base + memory.size);
    if !fits {
        return Err(LayoutError::SectionOutside {
            name: s.name.clone(),
            addr: s.addr,
            size: s.size(),
            memory: memory.name(),
            start: memory.base,
            end: memory.base + memory.size,
        });
    }
    Ok(Some(memory))
}

/// The MU address the driver uses for a data object (target MU or
/// EMU cache; nfp_rtsym.c:225-252), if the symbol is one.
pub fn object_mu_address(sym: &RtSym) -> Option<u64> {
    if sym.typ != RTSYM_TYPE_OBJECT || sym.menum != RTSYM_MENUM_NONE || sym.island == 0xff {
        return None;
    }
    match sym.target {
        NFP_CPP_TARGET_MU => Some(mu_address(sym.island, sym.addr)),
        RTSYM_TARGET_EMU_CACHE => Some(emu_cache_address(sym.island, sym.addr)),
        _ => None,
    }
}

/// Check that every section the model loads fits its memory, and that
/// every island-bound MU, EMU-cache and CLS object lies inside one memory.
pub fn check(map: &MemoryMap, nffw: &Nffw, checked: &Checked) -> Result<(), LayoutError> {
    for s in nffw.sections.iter().filter(|s| s.is_loadable()) {
        section_memory(map, s)?;
    }
    for sym in &checked.symbols {
        let loc = if let Some(a) = object_mu_address(sym) {
            map.decode_mu(a)
        } else if sym.typ == RTSYM_TYPE_OBJECT
            && sym.target == NFP_CPP_TARGET_CLS
            && sym.menum == RTSYM_MENUM_NONE
            && sym.island != 0xff
        {
            map.locate(MemKind::Cls, sym.island, sym.addr)
        } else {
            continue;
        };
        if sym.size == 0 {
            continue;
        }
        if !loc.is_some_and(|l| map.fits(l, sym.size)) {
            return Err(LayoutError::SymbolOutside {
                name: sym.name.clone(),
                island: sym.island,
                addr: sym.addr,
                size: sym.size,
            });
        }
    }
    Ok(())
}
