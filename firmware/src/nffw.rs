//! Reading and writing NFFW images.
//!
//! An NFFW image is an ELF64 little-endian relocatable file (`ET_REL`; the
//! flower images Debian ships are `ET_EXEC`, read alike) with
//! `e_machine` = [`NFFW_ELF_MACHINE`].  Each section names a memory of the
//! card; `sh_addr` is the address inside that memory and `sh_info` encodes
//! where the memory is:
//!
//! | bits  | meaning                                         |
//! |-------|-------------------------------------------------|
//! | 31:24 | island number                                   |
//! | 23:16 | ME number (per-ME local memory and code)        |
//! | 7:0   | memory type                                     |
//!
//! This encoding is not documented publicly; it is inferred from the images
//! in Debian's `firmware-netronome` package.  The memory types seen there:
//! [`SECTION_MEM_MU`] (4) for EMEM (islands 24/25), IMEM (island 28) and
//! CTM (islands 4, 32..48); [`SECTION_MEM_CLS`] (3) for cluster local
//! scratch; [`SECTION_MEM_LMEM`] (2) for ME local memory; 1 on microcode
//! (`.text.*`, `.init.*`); 7 and 8 on the packet processor memories of
//! island 8; [`SECTION_MEM_EMU_CACHE`] (9) on `.emucache*` (EMU internal
//! SRAM, islands 24 and 25).  Sections of type `SHT_LOPROC + 2`
//! ([`SHT_NFP_REGINIT`], `.regi.*`/`.regt.*`) hold register initialisation
//! tables.
//!
//! The runtime symbol table lives in the `.rtsymtab`/`.rtstrtab` sections
//! (see [`crate::rtsym`]); the `.mip` symbol points at the MIP
//! (see [`crate::mip`]).

use object::LittleEndian as LE;
use object::elf;
use object::read::elf::{FileHeader as _, SectionHeader as _};
use object::write::elf as welf;

use crate::mip::{MIP_SIZE, Mip};
use crate::rtsym::{self, NFP_CPP_TARGET_MU, RtSym};

/// `e_machine` of NFFW images (the NFP-6000 family, including the NFP-4000).
pub const NFFW_ELF_MACHINE: u16 = 0x6000;

/// Memory type (`sh_info` bits 7:0) of MU-family memories: EMEM, IMEM, CTM.
pub const SECTION_MEM_MU: u8 = 4;
/// Memory type of cluster local scratch (CLS).
pub const SECTION_MEM_CLS: u8 = 3;
/// Memory type of ME local memory.
pub const SECTION_MEM_LMEM: u8 = 2;
/// Memory type of an EMU's internal SRAM used as memory ("emu cache",
/// `.emucache*` sections).
pub const SECTION_MEM_EMU_CACHE: u8 = 9;

/// Section type of the register initialisation tables (`SHT_LOPROC + 2`).
pub const SHT_NFP_REGINIT: u32 = elf::SHT_LOPROC + 2;

/// Note owner used by NFFW notes.
pub const NOTE_OWNER_NFP: &str = "NFP";
/// Note type of the `.note.build_info` note (0x100, shown as "OPEN" by
/// binutils' readelf, which takes it for `NT_GNU_BUILD_ATTRIBUTE_OPEN`).
pub const NOTE_TYPE_BUILD_INFO: u32 = 0x100;

/// Name of the rtsym symbol table section.
pub const RTSYMTAB_SECTION: &str = ".rtsymtab";
/// Name of the rtsym string table section.
pub const RTSTRTAB_SECTION: &str = ".rtstrtab";
/// Name of the runtime symbol pointing at the MIP.
pub const MIP_SYMBOL: &str = ".mip";

/// Most sections [`Nffw::parse`] accepts.
pub const MAX_SECTIONS: usize = 65535;
/// Longest section name [`Nffw::parse`] accepts, in bytes.
pub const MAX_SECTION_NAME_LEN: usize = 1024;

const ELF_HEADER_SIZE: usize = 64;
const SECTION_HEADER_SIZE: usize = 64;
/// Largest file alignment [`Nffw::to_bytes`] honours for section data.
const MAX_FILE_ALIGN: u64 = 4096;

/// Builds an `sh_info` value from island, ME and memory type.
pub const fn section_info(island: u8, me: u8, mem: u8) -> u32 {
    ((island as u32) << 24) | ((me as u32) << 16) | mem as u32
}

/// The memory a section is loaded into (`sh_info` bits 7:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemType {
    /// ME local memory ([`SECTION_MEM_LMEM`]).
    Lmem,
    /// Cluster local scratch ([`SECTION_MEM_CLS`]).
    Cls,
    /// EMEM, IMEM or CTM ([`SECTION_MEM_MU`]).
    Mu,
    /// EMU internal SRAM ([`SECTION_MEM_EMU_CACHE`]).
    EmuCache,
    /// Any other value.
    Other(u8),
}

impl MemType {
    /// Decodes the memory type byte.
    pub fn from_raw(v: u8) -> Self {
        match v {
            SECTION_MEM_LMEM => MemType::Lmem,
            SECTION_MEM_CLS => MemType::Cls,
            SECTION_MEM_MU => MemType::Mu,
            SECTION_MEM_EMU_CACHE => MemType::EmuCache,
            other => MemType::Other(other),
        }
    }

    /// The memory type byte.
    pub fn raw(self) -> u8 {
        match self {
            MemType::Lmem => SECTION_MEM_LMEM,
            MemType::Cls => SECTION_MEM_CLS,
            MemType::Mu => SECTION_MEM_MU,
            MemType::EmuCache => SECTION_MEM_EMU_CACHE,
            MemType::Other(v) => v,
        }
    }
}

/// Contents of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionData {
    /// Bytes stored in the file.
    Bytes(Vec<u8>),
    /// No bytes in the file (`SHT_NOBITS`); the section is this many zeros.
    Zero(u64),
}

/// One ELF section (other than the null section and `.shstrtab`).
///
/// `sh_link` is not kept: [`Nffw::to_bytes`] derives it (see there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// `sh_type`.
    pub sh_type: u32,
    /// `sh_flags`.
    pub flags: u64,
    /// `sh_addr`: address inside the memory the section names.
    pub addr: u64,
    /// `sh_info`: island, ME and memory type (see the module docs).
    pub info: u32,
    /// `sh_addralign`.
    pub align: u64,
    /// `sh_entsize`.
    pub entsize: u64,
    /// Contents; `Zero` exactly when `sh_type` is `SHT_NOBITS`.
    pub data: SectionData,
}

impl Section {
    /// A loadable, writable `SHT_PROGBITS` section.
    pub fn progbits(name: &str, addr: u64, info: u32, data: Vec<u8>) -> Self {
        Section {
            name: name.to_owned(),
            sh_type: elf::SHT_PROGBITS.0,
            flags: elf::SHF_WRITE.0 | elf::SHF_ALLOC.0,
            addr,
            info,
            align: 8,
            entsize: 0,
            data: SectionData::Bytes(data),
        }
    }

    /// A loadable, writable `SHT_NOBITS` section of `size` zeros.
    pub fn nobits(name: &str, addr: u64, info: u32, size: u64) -> Self {
        Section {
            name: name.to_owned(),
            sh_type: elf::SHT_NOBITS.0,
            flags: elf::SHF_WRITE.0 | elf::SHF_ALLOC.0,
            addr,
            info,
            align: 8,
            entsize: 0,
            data: SectionData::Zero(size),
        }
    }

    /// An `SHT_NOTE` section holding `notes` (4-byte aligned).
    pub fn note(name: &str, notes: &[Note]) -> Self {
        Section {
            name: name.to_owned(),
            sh_type: elf::SHT_NOTE.0,
            flags: 0,
            addr: 0,
            info: 0,
            align: 4,
            entsize: 0,
            data: SectionData::Bytes(encode_notes(notes)),
        }
    }

    /// Island number (`sh_info` bits 31:24).
    pub fn island(&self) -> u8 {
        (self.info >> 24) as u8
    }

    /// ME number (`sh_info` bits 23:16).
    pub fn me(&self) -> u8 {
        (self.info >> 16) as u8
    }

    /// Memory type (`sh_info` bits 7:0).
    pub fn mem_type(&self) -> MemType {
        MemType::from_raw(self.info as u8)
    }

    /// Size in bytes (`sh_size`).
    pub fn size(&self) -> u64 {
        match &self.data {
            SectionData::Bytes(b) => b.len() as u64,
            SectionData::Zero(n) => *n,
        }
    }

    /// Whether the loader puts this section into card memory:
    /// `SHF_ALLOC` and `SHT_PROGBITS` or `SHT_NOBITS`.
    pub fn is_loadable(&self) -> bool {
        self.flags & elf::SHF_ALLOC.0 != 0
            && (self.sh_type == elf::SHT_PROGBITS.0 || self.sh_type == elf::SHT_NOBITS.0)
    }

    /// Whether `[addr, addr + len)` lies inside the section's address range.
    pub fn covers(&self, addr: u64, len: u64) -> bool {
        match (addr.checked_add(len), self.addr.checked_add(self.size())) {
            (Some(end), Some(sec_end)) => addr >= self.addr && end <= sec_end,
            _ => false,
        }
    }

    /// `len` bytes at `addr` (an address in the section's memory), if the
    /// section covers them.  `Zero` sections read as zeros.
    pub fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        if !self.covers(addr, len as u64) {
            return None;
        }
        let off = usize::try_from(addr - self.addr).ok()?;
        match &self.data {
            SectionData::Bytes(b) => b.get(off..off.checked_add(len)?).map(<[u8]>::to_vec),
            SectionData::Zero(_) => Some(vec![0; len]),
        }
    }
}

/// One ELF note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Owner name without the terminating NUL (e.g. [`NOTE_OWNER_NFP`]).
    pub owner: String,
    /// Note type.
    pub kind: u32,
    /// Descriptor bytes.
    pub desc: Vec<u8>,
}

impl Note {
    /// A `.note.build_info` note: 4 bytes of build time (0 here, so that
    /// images are reproducible), then the NUL-terminated text.
    pub fn build_info(text: &str) -> Self {
        let mut desc = vec![0u8; 4];
        desc.extend_from_slice(text.as_bytes());
        desc.push(0);
        Note {
            owner: NOTE_OWNER_NFP.to_owned(),
            kind: NOTE_TYPE_BUILD_INFO,
            desc,
        }
    }
}

/// Encodes notes as the contents of an `SHT_NOTE` section with 4-byte
/// alignment.  The owner gets a terminating NUL (an empty owner is stored
/// with `n_namesz` 0).
pub fn encode_notes(notes: &[Note]) -> Vec<u8> {
    let mut out = Vec::new();
    for n in notes {
        let name: &[u8] = n.owner.as_bytes();
        let namesz = if name.is_empty() { 0 } else { name.len() + 1 };
        out.extend_from_slice(&(namesz as u32).to_le_bytes());
        out.extend_from_slice(&(n.desc.len() as u32).to_le_bytes());
        out.extend_from_slice(&n.kind.to_le_bytes());
        if namesz != 0 {
            out.extend_from_slice(name);
            out.push(0);
        }
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(&n.desc);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    out
}

/// Errors from reading an NFFW image or its contents.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NffwError {
    /// The file does not start with the ELF magic.
    #[error("not an ELF file: missing \\x7fELF magic")]
    NotElf,
    /// An ELF file for another machine.
    #[error("not an NFFW image: e_machine is {machine:#x}, expected {NFFW_ELF_MACHINE:#x}")]
    NotNffw {
        /// The file's `e_machine`.
        machine: u16,
    },
    /// An ELF file of a kind NFFW never is.
    #[error("unsupported ELF file: {0}")]
    Unsupported(&'static str),
    /// A field of the ELF header is invalid.
    #[error("bad ELF header: {0}")]
    BadHeader(String),
    /// Something extends past the end of the file.
    #[error("file truncated: {what}")]
    Truncated {
        /// What does not fit, with offsets.
        what: String,
    },
    /// A section header or its contents are invalid.
    #[error("bad section {name}: {reason}")]
    BadSection {
        /// The section's name, or `#index` if the name is unknown.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The image has no `.rtsymtab`/`.rtstrtab` sections.
    #[error("no runtime symbol table: the image lacks a .rtsymtab or .rtstrtab section")]
    NoRtsymTable,
    /// The runtime symbol table is invalid.
    #[error("bad runtime symbol table: {0}")]
    BadRtsym(String),
    /// The runtime symbol table has no `.mip` symbol.
    #[error("no MIP: the runtime symbol table has no .mip symbol")]
    NoMip,
    /// The MIP is invalid or cannot be read.
    #[error("bad MIP: {0}")]
    BadMip(String),
}

/// An NFFW image.
///
/// `sections` holds every section of the file except the null section and
/// the section name table, in file order; `SHT_NOTE` sections stay in
/// `sections`.  `notes` is the decoded content of those note sections (in
/// order), filled in by [`Nffw::parse`]; [`Nffw::to_bytes`] writes
/// `sections` only, so a note must be in a section to be written (see
/// [`Nffw::add_note_section`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nffw {
    /// The sections, in file order.
    pub sections: Vec<Section>,
    /// The notes of the `SHT_NOTE` sections.
    pub notes: Vec<Note>,
}

fn le16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

impl Nffw {
    /// Parses an image.
    ///
    /// Checks the ELF identification (magic, 64-bit, little-endian,
    /// version), `e_machine`, `e_type` (`ET_REL` or `ET_EXEC`), the section header table
    /// bounds, each section's name and, except for `SHT_NOBITS`, that its
    /// data lies inside the file.  Note sections must hold well-formed
    /// notes.  Program headers are ignored.  Never panics; memory use is
    /// bounded by a small multiple of the input size.
    pub fn parse(bytes: &[u8]) -> Result<Nffw, NffwError> {
        if bytes.len() < 4 || bytes[..4] != elf::ELFMAG {
            return Err(NffwError::NotElf);
        }
        if bytes.len() < ELF_HEADER_SIZE {
            return Err(NffwError::Truncated {
                what: format!(
                    "ELF header needs {ELF_HEADER_SIZE} bytes, the file has {}",
                    bytes.len()
                ),
            });
        }
        let ident = &bytes[..16];
        if ident[4] != elf::ELFCLASS64.0 {
            return Err(NffwError::Unsupported("EI_CLASS is not ELFCLASS64"));
        }
        if ident[5] != elf::ELFDATA2LSB.0 {
            return Err(NffwError::Unsupported("EI_DATA is not little-endian"));
        }
        if ident[6] != elf::EV_CURRENT.0 {
            return Err(NffwError::Unsupported("EI_VERSION is not EV_CURRENT"));
        }
        let machine = le16(bytes, 18);
        if machine != NFFW_ELF_MACHINE {
            return Err(NffwError::NotNffw { machine });
        }
        let header = elf::FileHeader64::<LE>::parse(bytes)
            .map_err(|e| NffwError::BadHeader(e.to_string()))?;
        if header.e_type(LE) != elf::ET_REL && header.e_type(LE) != elf::ET_EXEC {
            return Err(NffwError::Unsupported(
                "e_type is neither ET_REL nor ET_EXEC",
            ));
        }
        let shoff = header.e_shoff(LE);
        if shoff == 0 {
            return Ok(Nffw::default());
        }
        let shentsize = header.e_shentsize(LE);
        if usize::from(shentsize) != SECTION_HEADER_SIZE {
            return Err(NffwError::BadHeader(format!(
                "e_shentsize is {shentsize}, expected {SECTION_HEADER_SIZE}"
            )));
        }
        let table_truncated = |count: u64| NffwError::Truncated {
            what: format!(
                "section header table ({count} entries at offset {shoff:#x}) ends past the \
                 end of the file ({:#x} bytes)",
                bytes.len()
            ),
        };
        let shnum = header
            .shnum(LE, bytes)
            .map_err(|_| table_truncated(u64::from(header.e_shnum(LE)).max(1)))?;
        if shnum == 0 {
            return Ok(Nffw::default());
        }
        if shnum as usize > MAX_SECTIONS {
            return Err(NffwError::BadHeader(format!(
                "{shnum} sections, at most {MAX_SECTIONS} are supported"
            )));
        }
        let headers = header
            .section_headers(LE, bytes)
            .map_err(|_| table_truncated(u64::from(shnum)))?;
        let shstrndx = header
            .shstrndx(LE, bytes)
            .map_err(|e| NffwError::BadHeader(format!("e_shstrndx: {e}")))?;
        let shstrndx = shstrndx as usize;
        let Some(shstrtab_hdr) = headers.get(shstrndx) else {
            return Err(NffwError::BadHeader(format!(
                "e_shstrndx {shstrndx} is out of range ({} sections)",
                headers.len()
            )));
        };
        let shstrtab = section_bytes(bytes, shstrtab_hdr, &format!("#{shstrndx} (.shstrtab)"))?;

        let mut nffw = Nffw::default();
        let mut copied: u64 = 0;
        for (index, sh) in headers.iter().enumerate() {
            if index == 0 || index == shstrndx {
                continue;
            }
            let name = section_name(shstrtab, sh.sh_name(LE), index)?;
            let sh_type = sh.sh_type(LE).0;
            let data = if sh_type == elf::SHT_NOBITS.0 {
                SectionData::Zero(sh.sh_size(LE))
            } else {
                let b = section_bytes(bytes, sh, &name)?;
                copied += b.len() as u64;
                if copied > bytes.len() as u64 {
                    return Err(NffwError::BadSection {
                        name,
                        reason: "section data overlaps other sections: the sections' data \
                                 add up to more than the file size"
                            .into(),
                    });
                }
                if sh_type == elf::SHT_NOTE.0 {
                    decode_notes(&name, sh.sh_addralign(LE), b, &mut nffw.notes)?;
                }
                SectionData::Bytes(b.to_vec())
            };
            nffw.sections.push(Section {
                name,
                sh_type,
                flags: sh.sh_flags(LE).0,
                addr: sh.sh_addr(LE),
                info: sh.sh_info(LE),
                align: sh.sh_addralign(LE),
                entsize: sh.sh_entsize(LE),
                data,
            });
        }
        Ok(nffw)
    }

    /// Writes the image as an ELF64 little-endian `ET_REL` file with
    /// `e_machine` [`NFFW_ELF_MACHINE`].
    ///
    /// Layout: ELF header, section header table, `.shstrtab`, then section
    /// data in order.  Section indices: 0 null, 1 `.shstrtab`, then
    /// `sections` in order (as in nfld's output, so that `sh_info` of
    /// relocation sections keeps pointing at the right section when an
    /// nfld-built image is re-written).  `sh_link` is derived: `SHT_SYMTAB`
    /// links to the section named `.strtab`, `SHT_REL`/`SHT_RELA` to the
    /// first `SHT_SYMTAB`; everything else gets 0.  Section names are cut at
    /// the first NUL.  The data of a `SHT_NOBITS` section is not stored
    /// (only its size); `Zero` data of any other section type is written out
    /// as zero bytes.  Section data is aligned in the file to `align` when
    /// that is a power of two no larger than 4096.  The output depends only
    /// on `sections`.
    ///
    /// # Panics
    ///
    /// Only if the section name table would exceed 4 GiB.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = welf::Writer::new(object::Endianness::Little, true, &mut out);

        let names: Vec<&[u8]> = self
            .sections
            .iter()
            .map(|s| {
                let b = s.name.as_bytes();
                &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())]
            })
            .collect();

        // Phase 1: reserve.
        w.reserve_file_header();
        w.reserve_shstrtab_section_index();
        let mut name_ids = Vec::with_capacity(self.sections.len());
        for name in &names {
            name_ids.push((!name.is_empty()).then(|| w.add_section_name(name)));
            w.reserve_section_index();
        }
        w.reserve_section_headers();
        w.reserve_shstrtab()
            .expect("section name table exceeds 4 GiB");
        let mut offsets = Vec::with_capacity(self.sections.len());
        for s in &self.sections {
            let stored = stored_len(s);
            offsets.push(if s.sh_type == elf::SHT_NOBITS.0 {
                0
            } else {
                w.reserve(stored, file_align(s.align))
            });
        }

        // Section indices for sh_link.
        let index_of = |pred: &dyn Fn(&Section) -> bool| {
            self.sections
                .iter()
                .position(pred)
                .map_or(0, |i| (i + 2) as u32)
        };
        let strtab_index = index_of(&|s| s.name == ".strtab");
        let symtab_index = index_of(&|s| s.sh_type == elf::SHT_SYMTAB.0);

        // Phase 2: write in the same order.
        w.write_file_header(&welf::FileHeader {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_type: elf::ET_REL,
            e_machine: elf::Machine(NFFW_ELF_MACHINE),
            e_entry: 0,
            e_flags: elf::FileFlags(0),
        })
        .expect("in-memory buffer cannot fail");
        w.write_null_section_header();
        w.write_shstrtab_section_header();
        for ((s, id), &offset) in self.sections.iter().zip(&name_ids).zip(&offsets) {
            let sh_link = match s.sh_type {
                t if t == elf::SHT_SYMTAB.0 => strtab_index,
                t if t == elf::SHT_REL.0 || t == elf::SHT_RELA.0 => symtab_index,
                _ => 0,
            };
            w.write_section_header(&welf::SectionHeader {
                sh_name: w.section_name_offset(*id),
                sh_type: elf::SectionType(s.sh_type),
                sh_flags: elf::SectionFlags(s.flags),
                sh_addr: s.addr,
                sh_offset: offset,
                sh_size: s.size(),
                sh_link,
                sh_info: s.info,
                sh_addralign: s.align,
                sh_entsize: s.entsize,
            });
        }
        w.write_shstrtab();
        for (s, &offset) in self.sections.iter().zip(&offsets) {
            if s.sh_type == elf::SHT_NOBITS.0 {
                continue;
            }
            w.write_align(file_align(s.align));
            debug_assert_eq!(w.offset(), offset);
            match &s.data {
                SectionData::Bytes(b) => w.write(b),
                SectionData::Zero(n) => w.pad_until(offset + n),
            }
        }
        debug_assert_eq!(w.offset(), w.reserved_len());
        drop(w);
        out
    }

    /// The first section with this name.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// Appends an `SHT_NOTE` section holding `notes` and records the notes
    /// in [`Nffw::notes`], keeping the two in step.
    pub fn add_note_section(&mut self, name: &str, notes: Vec<Note>) {
        self.sections.push(Section::note(name, &notes));
        self.notes.extend(notes);
    }

    /// Decodes the runtime symbol table from `.rtsymtab` and `.rtstrtab`.
    pub fn rtsyms(&self) -> Result<Vec<RtSym>, NffwError> {
        let table = |name: &str| -> Result<&[u8], NffwError> {
            match self.section(name).map(|s| &s.data) {
                None => Err(NffwError::NoRtsymTable),
                Some(SectionData::Bytes(b)) => Ok(b),
                Some(SectionData::Zero(_)) => Err(NffwError::BadRtsym(format!(
                    "section {name} has no contents (SHT_NOBITS)"
                ))),
            }
        };
        let symtab = table(RTSYMTAB_SECTION)?;
        let strtab = table(RTSTRTAB_SECTION)?;
        rtsym::decode(symtab, strtab)
    }

    /// The `.mip` runtime symbol and the MIP it points at.
    ///
    /// The symbol must have the MU target; the MIP is read from the loadable
    /// MU section of the symbol's island that covers its address. Images
    /// without a `.mip` symbol but with a loadable MU section named `.mip`
    /// (Debian's flower images) get a symbol made from that section.
    pub fn mip(&self) -> Result<(RtSym, Mip), NffwError> {
        let syms = self.rtsyms()?;
        let sym = match syms.into_iter().find(|s| s.name == MIP_SYMBOL) {
            Some(sym) => sym,
            None => self
                .sections
                .iter()
                .find(|s| s.name == MIP_SYMBOL && s.is_loadable() && s.mem_type() == MemType::Mu)
                .map(|s| RtSym::mu_object(MIP_SYMBOL, s.island(), s.addr, s.size()))
                .ok_or(NffwError::NoMip)?,
        };
        if sym.target != NFP_CPP_TARGET_MU {
            return Err(NffwError::BadMip(format!(
                "the .mip symbol has target {:#x}, expected the MU target {NFP_CPP_TARGET_MU}",
                sym.target
            )));
        }
        let bytes = self
            .read_mu(sym.island, sym.addr, MIP_SIZE)
            .ok_or_else(|| {
                NffwError::BadMip(format!(
                    "{MIP_SIZE} bytes at island {} address {:#x} (the .mip symbol) are not inside \
                 one loadable MU section",
                    sym.island, sym.addr
                ))
            })?;
        let mip = Mip::decode(&bytes)?;
        Ok((sym, mip))
    }

    /// `len` bytes at `addr` of the MU memory of `island`, from the first
    /// loadable [`MemType::Mu`] section of that island that covers all of
    /// them (`Zero` sections read as zeros).  `None` if no one section
    /// covers the range.
    pub fn read_mu(&self, island: u8, addr: u64, len: usize) -> Option<Vec<u8>> {
        self.sections
            .iter()
            .filter(|s| s.is_loadable() && s.mem_type() == MemType::Mu && s.island() == island)
            .find(|s| s.covers(addr, len as u64))
            .and_then(|s| s.read(addr, len))
    }

    /// The text of the build information note (owner `NFP`, type
    /// [`NOTE_TYPE_BUILD_INFO`]): the descriptor after its first 4 bytes, up
    /// to the first NUL, converted lossily.
    pub fn build_info(&self) -> Option<String> {
        let note = self
            .notes
            .iter()
            .find(|n| n.owner == NOTE_OWNER_NFP && n.kind == NOTE_TYPE_BUILD_INFO)?;
        let text = note.desc.get(4..).unwrap_or(&[]);
        let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
        Some(String::from_utf8_lossy(&text[..end]).into_owned())
    }
}

/// Bytes of the section in the file (empty for `SHT_NOBITS`).
fn section_bytes<'a>(
    bytes: &'a [u8],
    sh: &elf::SectionHeader64<LE>,
    name: &str,
) -> Result<&'a [u8], NffwError> {
    if sh.sh_type(LE) == elf::SHT_NOBITS {
        return Ok(&[]);
    }
    let (offset, size) = (sh.sh_offset(LE), sh.sh_size(LE));
    let Some(end) = offset.checked_add(size) else {
        return Err(NffwError::BadSection {
            name: name.to_owned(),
            reason: format!("offset {offset:#x} + size {size:#x} overflows"),
        });
    };
    if end > bytes.len() as u64 {
        return Err(NffwError::Truncated {
            what: format!(
                "data of section {name} (offset {offset:#x}, size {size:#x}) ends past the \
                 end of the file ({:#x} bytes)",
                bytes.len()
            ),
        });
    }
    // In range: both fit in usize because they are <= bytes.len().
    Ok(&bytes[offset as usize..end as usize])
}

fn section_name(shstrtab: &[u8], off: u32, index: usize) -> Result<String, NffwError> {
    let bad = |reason: String| NffwError::BadSection {
        name: format!("#{index}"),
        reason,
    };
    let tail = shstrtab.get(off as usize..).ok_or_else(|| {
        bad(format!(
            "name offset {off:#x} is outside .shstrtab ({:#x} bytes)",
            shstrtab.len()
        ))
    })?;
    let Some(len) = tail
        .iter()
        .take(MAX_SECTION_NAME_LEN + 1)
        .position(|&c| c == 0)
    else {
        return Err(bad(format!(
            "name at .shstrtab offset {off:#x} has no NUL within {MAX_SECTION_NAME_LEN} bytes \
             or before the end of .shstrtab"
        )));
    };
    Ok(String::from_utf8_lossy(&tail[..len]).into_owned())
}

fn decode_notes(name: &str, align: u64, data: &[u8], out: &mut Vec<Note>) -> Result<(), NffwError> {
    let bad = |e: object::read::Error| NffwError::BadSection {
        name: name.to_owned(),
        reason: format!("bad note: {e}"),
    };
    let iter = object::read::elf::NoteIterator::<elf::FileHeader64<LE>>::new(LE, align, data)
        .map_err(bad)?;
    for note in iter {
        let note = note.map_err(bad)?;
        out.push(Note {
            owner: String::from_utf8_lossy(note.name()).into_owned(),
            kind: note.n_type(LE).0,
            desc: note.desc().to_vec(),
        });
    }
    Ok(())
}

/// Bytes of section data stored in the file by [`Nffw::to_bytes`].
fn stored_len(s: &Section) -> u64 {
    if s.sh_type == elf::SHT_NOBITS.0 {
        0
    } else {
        s.size()
    }
}

fn file_align(align: u64) -> u64 {
    if align.is_power_of_two() && align <= MAX_FILE_ALIGN {
        align
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Nffw {
        let mut f = Nffw::default();
        f.sections.push(Section::nobits(
            ".emembss.i24",
            0x1000,
            section_info(24, 0, 4),
            0x100,
        ));
        f.sections.push(Section::progbits(
            ".ememdata.i24",
            0x2000,
            section_info(24, 0, 4),
            (0..=255).collect(),
        ));
        f.sections.push(Section {
            name: ".regi.test".into(),
            sh_type: SHT_NFP_REGINIT,
            flags: 0x8000_0000,
            addr: 0,
            info: 0x0380_0000,
            align: 0,
            entsize: 16,
            data: SectionData::Bytes(vec![0xaa; 32]),
        });
        f.sections.push(Section::progbits(
            ".ldata.i32.me3",
            0x40,
            section_info(32, 3, 2),
            vec![1, 2, 3],
        ));
        f.add_note_section(".note.build_info", vec![Note::build_info("Name: t\n")]);
        f.add_note_section(
            ".note.nfp",
            vec![
                Note {
                    owner: "NFP".into(),
                    kind: 0x101,
                    desc: vec![1, 2, 3, 4, 5],
                },
                Note {
                    owner: String::new(),
                    kind: 7,
                    desc: vec![],
                },
            ],
        );
        f
    }

    #[test]
    fn section_accessors() {
        let f = small();
        let s = f.section(".ldata.i32.me3").unwrap();
        assert_eq!((s.island(), s.me(), s.mem_type()), (32, 3, MemType::Lmem));
        assert_eq!(s.size(), 3);
        assert!(s.is_loadable());
        let b = f.section(".emembss.i24").unwrap();
        assert_eq!(
            (b.island(), b.mem_type(), b.size()),
            (24, MemType::Mu, 0x100)
        );
        assert!(b.is_loadable());
        assert!(!f.section(".regi.test").unwrap().is_loadable());
        assert!(!f.section(".note.nfp").unwrap().is_loadable());
        assert_eq!(MemType::from_raw(3), MemType::Cls);
        assert_eq!(MemType::from_raw(9), MemType::EmuCache);
        assert_eq!(MemType::EmuCache.raw(), 9);
        assert_eq!(MemType::from_raw(8), MemType::Other(8));
    }

    #[test]
    fn round_trip_small() {
        let f = small();
        let bytes = f.to_bytes();
        let g = Nffw::parse(&bytes).unwrap();
        assert_eq!(g, f);
        assert_eq!(g.to_bytes(), bytes);
        assert_eq!(g.build_info().as_deref(), Some("Name: t\n"));
        assert_eq!(g.notes.len(), 3);
    }

    #[test]
    fn elf_header_fields() {
        let bytes = small().to_bytes();
        let h = elf::FileHeader64::<LE>::parse(&bytes[..]).unwrap();
        assert_eq!(h.e_type(LE), elf::ET_REL);
        assert_eq!(h.e_machine(LE).0, NFFW_ELF_MACHINE);
        assert_eq!(h.e_shstrndx(LE).0, 1);
        assert_eq!(h.e_shnum(LE), 2 + 6);
    }

    #[test]
    fn empty_image_round_trips() {
        let f = Nffw::default();
        let bytes = f.to_bytes();
        assert_eq!(Nffw::parse(&bytes).unwrap(), f);
        // A file without any section table parses as empty too.
        let mut bare = bytes[..ELF_HEADER_SIZE].to_vec();
        bare[40..48].fill(0); // e_shoff
        bare[60..64].fill(0); // e_shnum, e_shstrndx
        assert_eq!(Nffw::parse(&bare).unwrap(), f);
    }

    #[test]
    fn read_mu_bounds() {
        let f = small();
        assert_eq!(f.read_mu(24, 0x2010, 2), Some(vec![0x10, 0x11]));
        assert_eq!(f.read_mu(24, 0x2000, 256).map(|v| v.len()), Some(256));
        assert_eq!(f.read_mu(24, 0x2001, 256), None);
        assert_eq!(f.read_mu(24, 0x10f8, 8), Some(vec![0; 8]));
        assert_eq!(f.read_mu(24, 0x10f8, 9), None);
        assert_eq!(f.read_mu(25, 0x2000, 1), None);
        // Not MU memory.
        assert_eq!(f.read_mu(32, 0x40, 1), None);
        assert_eq!(f.read_mu(24, u64::MAX, 2), None);
    }

    #[test]
    fn sh_link_is_derived() {
        let mut f = Nffw::default();
        let plain = |name: &str, t: u32| Section {
            name: name.into(),
            sh_type: t,
            flags: 0,
            addr: 0,
            info: 0,
            align: 0,
            entsize: 0,
            data: SectionData::Bytes(vec![]),
        };
        f.sections.push(plain(".symtab", elf::SHT_SYMTAB.0));
        f.sections.push(plain(".strtab", elf::SHT_STRTAB.0));
        f.sections.push(plain(".rel.init", elf::SHT_REL.0));
        let bytes = f.to_bytes();
        let h = elf::FileHeader64::<LE>::parse(&bytes[..]).unwrap();
        let sh = h.section_headers(LE, &bytes[..]).unwrap();
        let links: Vec<u32> = sh.iter().map(|s| s.sh_link(LE)).collect();
        assert_eq!(links, [0, 0, 3, 0, 2]);
        assert_eq!(Nffw::parse(&bytes).unwrap(), f);
    }

    #[test]
    fn rejects_wrong_identity() {
        let good = small().to_bytes();
        assert_eq!(Nffw::parse(b""), Err(NffwError::NotElf));
        assert_eq!(Nffw::parse(b"\x7fEL"), Err(NffwError::NotElf));
        assert!(matches!(
            Nffw::parse(&good[..40]),
            Err(NffwError::Truncated { .. })
        ));
        let mut b = good.clone();
        b[18..20].copy_from_slice(&0x3eu16.to_le_bytes());
        assert_eq!(Nffw::parse(&b), Err(NffwError::NotNffw { machine: 0x3e }));
        assert!(
            Nffw::parse(&b)
                .unwrap_err()
                .to_string()
                .contains("e_machine is 0x3e")
        );
        let mut b = good.clone();
        b[4] = elf::ELFCLASS32.0;
        assert_eq!(
            Nffw::parse(&b),
            Err(NffwError::Unsupported("EI_CLASS is not ELFCLASS64"))
        );
        let mut b = good.clone();
        b[5] = elf::ELFDATA2MSB.0;
        assert!(matches!(Nffw::parse(&b), Err(NffwError::Unsupported(_))));
        let mut b = good.clone();
        b[16] = elf::ET_DYN.0 as u8;
        assert_eq!(
            Nffw::parse(&b),
            Err(NffwError::Unsupported(
                "e_type is neither ET_REL nor ET_EXEC"
            ))
        );
        // ET_EXEC (Debian's flower images) reads like ET_REL.
        b[16] = elf::ET_EXEC.0 as u8;
        assert_eq!(Nffw::parse(&b).unwrap(), small());
        let mut b = good.clone();
        b[58] = 40; // e_shentsize
        let e = Nffw::parse(&b).unwrap_err();
        assert!(e.to_string().contains("e_shentsize is 40"), "{e}");
    }

    #[test]
    fn rejects_truncated_section_data_naming_it() {
        let good = small().to_bytes();
        // The last section's data ends at the end of the file.
        let e = Nffw::parse(&good[..good.len() - 1]).unwrap_err();
        assert!(
            matches!(&e, NffwError::Truncated { what } if what.contains(".note.nfp")),
            "{e}"
        );
        // Cutting into the section header table.
        let e = Nffw::parse(&good[..100]).unwrap_err();
        assert!(e.to_string().contains("section header table"), "{e}");
    }

    #[test]
    fn rejects_bad_names_and_notes() {
        let good = small().to_bytes();
        let h = elf::FileHeader64::<LE>::parse(&good[..]).unwrap();
        let shoff = h.e_shoff(LE) as usize;
        // Section 2's sh_name far outside .shstrtab.
        let mut b = good.clone();
        b[shoff + 2 * 64..shoff + 2 * 64 + 4].copy_from_slice(&0xffff_0000u32.to_le_bytes());
        let e = Nffw::parse(&b).unwrap_err();
        assert!(
            matches!(&e, NffwError::BadSection { name, reason } if name == "#2" && reason.contains("outside .shstrtab")),
            "{e}"
        );
        // Corrupt the first note's namesz in .note.nfp (section 7).
        let sh7 = shoff + 7 * 64;
        let off = u64::from_le_bytes(b[sh7 + 24..sh7 + 32].try_into().unwrap()) as usize;
        let mut b = good.clone();
        b[off..off + 4].copy_from_slice(&1000u32.to_le_bytes());
        let e = Nffw::parse(&b).unwrap_err();
        assert!(
            matches!(&e, NffwError::BadSection { name, .. } if name == ".note.nfp"),
            "{e}"
        );
    }

    #[test]
    fn rejects_overlapping_section_data() {
        let mut f = Nffw::default();
        f.sections.push(Section::progbits(".a", 0, 0, vec![7; 64]));
        let mut b = f.to_bytes();
        let h = elf::FileHeader64::<LE>::parse(&b[..]).unwrap();
        let shoff = h.e_shoff(LE) as usize;
        // Point section 2 at offset 0 with the whole file as its size, then
        // add many copies of that header: each alone is in range.
        let len = b.len() as u64;
        let sh2 = shoff + 2 * 64;
        b[sh2 + 24..sh2 + 32].copy_from_slice(&0u64.to_le_bytes());
        b[sh2 + 32..sh2 + 40].copy_from_slice(&len.to_le_bytes());
        let entry: Vec<u8> = b[sh2..sh2 + 64].to_vec();
        let n = 100u16;
        let new_shoff = b.len();
        let mut table = b[shoff..shoff + 128].to_vec();
        for _ in 0..n {
            table.extend_from_slice(&entry);
        }
        b.extend_from_slice(&table);
        b[40..48].copy_from_slice(&(new_shoff as u64).to_le_bytes());
        b[60..62].copy_from_slice(&(n + 2).to_le_bytes());
        let e = Nffw::parse(&b).unwrap_err();
        assert!(e.to_string().contains("overlaps"), "{e}");
    }

    #[test]
    fn mip_found_through_its_section_without_a_symbol() {
        // As Debian's flower images: a loadable `.mip` section, no `.mip`
        // runtime symbol.
        let mut f = small();
        let mip = Mip {
            mip_size: MIP_SIZE as u32,
            first_entry: 0,
            version: 1,
            buildnum: 2,
            buildtime: 0,
            loadtime: 0,
            symtab_addr: 0,
            symtab_size: 0,
            strtab_addr: 0,
            strtab_size: 0,
            name: "flower".into(),
            toolchain: "t".into(),
        };
        f.sections.push(Section::progbits(
            MIP_SYMBOL,
            0x3000,
            section_info(24, 0, SECTION_MEM_MU),
            mip.encode().to_vec(),
        ));
        let (symtab, strtab) = rtsym::encode(&[RtSym::mu_object("x", 24, 0, 0)]);
        f.sections
            .push(Section::progbits(RTSYMTAB_SECTION, 0, 0, symtab));
        f.sections
            .push(Section::progbits(RTSTRTAB_SECTION, 0, 0, strtab));
        let (sym, got) = f.mip().unwrap();
        assert_eq!(
            (sym.island, sym.addr, sym.size),
            (24, 0x3000, MIP_SIZE as u64)
        );
        assert_eq!(got.name, "flower");
    }

    #[test]
    fn rtsyms_and_mip_errors() {
        let f = small();
        assert_eq!(f.rtsyms(), Err(NffwError::NoRtsymTable));
        assert_eq!(f.mip(), Err(NffwError::NoRtsymTable));
        let mut f = small();
        let (symtab, strtab) = rtsym::encode(&[RtSym::mu_object("x", 24, 0, 0)]);
        f.sections
            .push(Section::progbits(RTSYMTAB_SECTION, 0, 0, symtab));
        f.sections
            .push(Section::progbits(RTSTRTAB_SECTION, 0, 0, strtab));
        assert_eq!(f.mip(), Err(NffwError::NoMip));
        let (symtab, strtab) = rtsym::encode(&[RtSym::mu_object(".mip", 24, 0x2000, 96)]);
        f.sections[6].data = SectionData::Bytes(symtab);
        f.sections[7].data = SectionData::Bytes(strtab);
        let e = f.mip().unwrap_err();
        assert!(
            matches!(&e, NffwError::BadMip(r) if r.contains("signature")),
            "{e}"
        );
        let (symtab, _) = rtsym::encode(&[RtSym::mu_object(".mip", 24, 0x2100, 96)]);
        f.sections[6].data = SectionData::Bytes(symtab);
        let e = f.mip().unwrap_err();
        assert!(
            matches!(&e, NffwError::BadMip(r) if r.contains("0x2100")),
            "{e}"
        );
    }
}
