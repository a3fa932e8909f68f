//! Runtime symbol table ("rtsym") of an NFFW image.
//!
//! The firmware carries a table of named objects (control BARs, capability
//! blobs, statistics areas, ...) that the Linux `nfp` driver looks up by name.
//! The table is two blobs: a symbol table of fixed 16-byte entries and a
//! string table of NUL-terminated names.  The layout and the decoding rules
//! follow the driver (`drivers/net/ethernet/netronome/nfp/nfpcore/nfp_rtsym.c`,
//! `struct nfp_rtsym_entry` and `__nfp_rtsym_table_read`).
//!
//! Entry layout, little-endian:
//!
//! | offset | size | field                                   |
//! |--------|------|-----------------------------------------|
//! | 0      | 1    | type ([`RTSYM_TYPE_OBJECT`], ...)         |
//! | 1      | 1    | CPP target ([`NFP_CPP_TARGET_MU`], ...)   |
//! | 2      | 1    | island                                  |
//! | 3      | 1    | address bits 39:32                      |
//! | 4      | 4    | address bits 31:0                       |
//! | 8      | 2    | name: offset into the string table      |
//! | 10     | 1    | ME number, `0xff` for none              |
//! | 11     | 1    | size bits 39:32                         |
//! | 12     | 4    | size bits 31:0                          |

use std::collections::HashMap;

use crate::nffw::NffwError;

/// Size in bytes of one symbol table entry.
pub const RTSYM_ENTRY_SIZE: usize = 16;

/// Symbol type: none.
pub const RTSYM_TYPE_NONE: u8 = 0;
/// Symbol type: a data object.
pub const RTSYM_TYPE_OBJECT: u8 = 1;
/// Symbol type: a function (microcode address).
pub const RTSYM_TYPE_FUNCTION: u8 = 2;
/// Symbol type: an absolute value (the address is the value).
pub const RTSYM_TYPE_ABS: u8 = 3;

/// Special target: ME local memory (the driver's `SYM_TGT_LMEM`).
pub const RTSYM_TARGET_LMEM: u8 = 0;
/// Special target: EMU cache (the driver's `SYM_TGT_EMU_CACHE`).
pub const RTSYM_TARGET_EMU_CACHE: u8 = 0x17;
/// CPP target ID of the memory units (EMEM, IMEM, CTM).
pub const NFP_CPP_TARGET_MU: u8 = 7;

/// `menum` value meaning "not bound to one ME".
pub const RTSYM_MENUM_NONE: u8 = 0xff;

/// Largest address or size an entry can hold (40 bits).
pub const RTSYM_MAX_ADDR: u64 = (1 << 40) - 1;

/// Longest symbol name [`decode`] accepts, in bytes (without the NUL).
///
/// The driver has no such limit; it is here so that a hostile table cannot
/// make decoding allocate far more than the table's own size.
pub const RTSYM_MAX_NAME_LEN: usize = 1024;

/// One runtime symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtSym {
    /// Symbol name.
    pub name: String,
    /// Symbol type (`RTSYM_TYPE_*`).
    pub typ: u8,
    /// CPP target, or one of the special `RTSYM_TARGET_*` values.
    pub target: u8,
    /// Island number (0xff for none).
    pub island: u8,
    /// ME number within the island, [`RTSYM_MENUM_NONE`] for none.
    pub menum: u8,
    /// Address inside the target memory (40 bits).
    pub addr: u64,
    /// Size in bytes (40 bits).
    pub size: u64,
}

impl RtSym {
    /// An object in EMEM/IMEM/CTM (`typ` OBJECT, target MU, no ME).
    pub fn mu_object(name: &str, island: u8, addr: u64, size: u64) -> Self {
        RtSym {
            name: name.to_owned(),
            typ: RTSYM_TYPE_OBJECT,
            target: NFP_CPP_TARGET_MU,
            island,
            menum: RTSYM_MENUM_NONE,
            addr,
            size,
        }
    }

    /// End address (exclusive) of the symbol, saturating.
    pub fn end(&self) -> u64 {
        self.addr.saturating_add(self.size)
    }
}

/// Encodes symbols into `(symtab, strtab)`.
///
/// The string table starts with one NUL (so offset 0 is the empty name),
/// identical names share one string, and it is padded with NULs to a
/// multiple of 8 so that the driver's round-up does not read past it.
///
/// # Panics
///
/// If a symbol cannot be encoded; see [`try_encode`] for the conditions.
pub fn encode(syms: &[RtSym]) -> (Vec<u8>, Vec<u8>) {
    match try_encode(syms) {
        Ok(tables) => tables,
        Err(e) => panic!("rtsym::encode: {e}"),
    }
}

/// Encodes symbols into `(symtab, strtab)` like [`encode`].
///
/// Fails if a name contains a NUL byte, if the string table grows past
/// the 16-bit name offsets, or if an address or size exceeds 40 bits.
pub fn try_encode(syms: &[RtSym]) -> Result<(Vec<u8>, Vec<u8>), NffwError> {
    let mut symtab = Vec::with_capacity(syms.len() * RTSYM_ENTRY_SIZE);
    let mut strtab = vec![0u8];
    let mut offsets: HashMap<&str, u16> = HashMap::new();
    for (i, sym) in syms.iter().enumerate() {
        if sym.name.as_bytes().contains(&0) {
            return Err(NffwError::BadRtsym(format!(
                "symbol #{i} name {:?} contains a NUL byte",
                sym.name
            )));
        }
        if sym.addr > RTSYM_MAX_ADDR {
            return Err(NffwError::BadRtsym(format!(
                "symbol {:?} address {:#x} does not fit in 40 bits",
                sym.name, sym.addr
            )));
        }
        if sym.size > RTSYM_MAX_ADDR {
            return Err(NffwError::BadRtsym(format!(
                "symbol {:?} size {:#x} does not fit in 40 bits",
                sym.name, sym.size
            )));
        }
        let name_off = if sym.name.is_empty() {
            0
        } else if let Some(&off) = offsets.get(sym.name.as_str()) {
            off
        } else {
            let off = u16::try_from(strtab.len()).map_err(|_| {
                NffwError::BadRtsym(format!(
                    "string table exceeds 64 KiB at symbol {:?}",
                    sym.name
                ))
            })?;
            strtab.extend_from_slice(sym.name.as_bytes());
            strtab.push(0);
            offsets.insert(&sym.name, off);
            off
        };
        symtab.push(sym.typ);
        symtab.push(sym.target);
        symtab.push(sym.island);
        symtab.push((sym.addr >> 32) as u8);
        symtab.extend_from_slice(&(sym.addr as u32).to_le_bytes());
        symtab.extend_from_slice(&name_off.to_le_bytes());
        symtab.push(sym.menum);
        symtab.push((sym.size >> 32) as u8);
        symtab.extend_from_slice(&(sym.size as u32).to_le_bytes());
    }
    strtab.resize(strtab.len().next_multiple_of(8), 0);
    Ok((symtab, strtab))
}

/// Decodes a symbol table with its string table, following the driver.
///
/// As in `__nfp_rtsym_table_read`: the table sizes must be non-zero and the
/// symbol table a multiple of [`RTSYM_ENTRY_SIZE`]; the string table size is
/// rounded up to a multiple of 8 (the missing bytes read as NUL here) and a
/// name offset is taken modulo that rounded size; a name runs to the next
/// NUL (a terminating NUL is implied after the rounded table).
///
/// Names are converted lossily to UTF-8.  Names longer than
/// [`RTSYM_MAX_NAME_LEN`] are rejected (the driver has no such limit).
pub fn decode(symtab: &[u8], strtab: &[u8]) -> Result<Vec<RtSym>, NffwError> {
    if symtab.is_empty() {
        return Err(NffwError::BadRtsym("symbol table is empty".into()));
    }
    if symtab.len() % RTSYM_ENTRY_SIZE != 0 {
        return Err(NffwError::BadRtsym(format!(
            "symbol table size {} is not a multiple of {RTSYM_ENTRY_SIZE}",
            symtab.len()
        )));
    }
    if strtab.is_empty() {
        return Err(NffwError::BadRtsym("string table is empty".into()));
    }
    let rounded = strtab.len().next_multiple_of(8);
    let mut syms = Vec::with_capacity(symtab.len() / RTSYM_ENTRY_SIZE);
    for (i, e) in symtab.chunks_exact(RTSYM_ENTRY_SIZE).enumerate() {
        let name_off = usize::from(u16::from_le_bytes([e[8], e[9]])) % rounded;
        // Bytes past the real table (up to `rounded`) read as NUL, as does
        // the driver's appended terminator.
        let tail = strtab.get(name_off..).unwrap_or(&[]);
        let len = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        if len > RTSYM_MAX_NAME_LEN {
            return Err(NffwError::BadRtsym(format!(
                "symbol #{i}: name at string table offset {name_off:#x} is longer than \
                 {RTSYM_MAX_NAME_LEN} bytes"
            )));
        }
        let name = String::from_utf8_lossy(&tail[..len]).into_owned();
        let addr_lo = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
        let size_lo = u32::from_le_bytes([e[12], e[13], e[14], e[15]]);
        syms.push(RtSym {
            name,
            typ: e[0],
            target: e[1],
            island: e[2],
            menum: e[10],
            addr: (u64::from(e[3]) << 32) | u64::from(addr_lo),
            size: (u64::from(e[11]) << 32) | u64::from(size_lo),
        });
    }
    Ok(syms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<RtSym> {
        vec![
            RtSym::mu_object(".mip", 24, 0x81b000, 96),
            RtSym::mu_object("_pf0_net_bar0", 24, 0x12_3480_8000, 0x1_0000_0000),
            RtSym {
                name: "lm_var".into(),
                typ: RTSYM_TYPE_FUNCTION,
                target: RTSYM_TARGET_LMEM,
                island: 32,
                menum: 3,
                addr: 0x40,
                size: 4,
            },
            RtSym {
                name: String::new(),
                typ: RTSYM_TYPE_ABS,
                target: RTSYM_TARGET_EMU_CACHE,
                island: 0xff,
                menum: RTSYM_MENUM_NONE,
                addr: RTSYM_MAX_ADDR,
                size: RTSYM_MAX_ADDR,
            },
            // Duplicate name shares the string.
            RtSym::mu_object(".mip", 25, 0, 0),
        ]
    }

    #[test]
    fn round_trip() {
        let syms = sample();
        let (symtab, strtab) = encode(&syms);
        assert_eq!(symtab.len(), syms.len() * RTSYM_ENTRY_SIZE);
        assert_eq!(strtab.len() % 8, 0);
        assert_eq!(strtab[0], 0);
        // ".mip\0_pf0_net_bar0\0lm_var\0" after the leading NUL, no duplicate.
        assert_eq!(strtab.len(), (1 + 5 + 14 + 7usize).next_multiple_of(8));
        assert_eq!(decode(&symtab, &strtab).unwrap(), syms);
    }

    #[test]
    fn entry_layout() {
        let (symtab, strtab) = encode(&[RtSym {
            name: "x".into(),
            typ: RTSYM_TYPE_OBJECT,
            target: NFP_CPP_TARGET_MU,
            island: 24,
            menum: 0xff,
            addr: 0xab_1234_5678,
            size: 0xcd_8765_4321,
        }]);
        assert_eq!(
            symtab,
            [
                1, 7, 24, 0xab, 0x78, 0x56, 0x34, 0x12, 1, 0, 0xff, 0xcd, 0x21, 0x43, 0x65, 0x87
            ]
        );
        assert_eq!(strtab, b"\0x\0\0\0\0\0\0");
    }

    #[test]
    fn name_offset_is_taken_modulo_rounded_strtab_size() {
        // Unpadded 5-byte string table: the driver rounds it up to 8.
        let strtab = b"\0abc\0";
        let mut symtab = vec![0u8; 3 * RTSYM_ENTRY_SIZE];
        // 1 -> "abc"; 8 + 2 = 10 -> 10 % 8 = 2 -> "bc"; 7 -> padding -> "".
        symtab[8..10].copy_from_slice(&1u16.to_le_bytes());
        symtab[16 + 8..16 + 10].copy_from_slice(&10u16.to_le_bytes());
        symtab[32 + 8..32 + 10].copy_from_slice(&7u16.to_le_bytes());
        let syms = decode(&symtab, strtab).unwrap();
        let names: Vec<_> = syms.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["abc", "bc", ""]);

        // A name without NUL at the end of the table stops at the table end.
        let syms = decode(&symtab[..16], b"\0abcdefg").unwrap();
        assert_eq!(syms[0].name, "abcdefg");

        // Encoded offsets wrap modulo the padded size too.
        let (mut symtab, strtab) = encode(&[RtSym::mu_object("name", 24, 0, 0)]);
        let off = u16::from_le_bytes([symtab[8], symtab[9]]);
        let wrapped = off + u16::try_from(strtab.len()).unwrap() * 3;
        symtab[8..10].copy_from_slice(&wrapped.to_le_bytes());
        assert_eq!(decode(&symtab, &strtab).unwrap()[0].name, "name");
    }

    #[test]
    fn decode_rejects_bad_sizes() {
        let e = decode(&[0; 15], b"\0").unwrap_err();
        assert!(e.to_string().contains("multiple of 16"), "{e}");
        let e = decode(&[0; 16], b"").unwrap_err();
        assert!(e.to_string().contains("string table is empty"), "{e}");
        let e = decode(&[], b"\0").unwrap_err();
        assert!(e.to_string().contains("symbol table is empty"), "{e}");
    }

    #[test]
    fn decode_rejects_overlong_names() {
        let mut strtab = vec![b'a'; RTSYM_MAX_NAME_LEN + 2];
        strtab[0] = 0;
        let mut symtab = vec![0u8; RTSYM_ENTRY_SIZE];
        symtab[8] = 1;
        assert!(decode(&symtab, &strtab).is_err());
        strtab[RTSYM_MAX_NAME_LEN + 1] = 0;
        assert_eq!(
            decode(&symtab, &strtab).unwrap()[0].name.len(),
            RTSYM_MAX_NAME_LEN
        );
    }

    #[test]
    fn try_encode_rejects_unencodable() {
        let mut s = RtSym::mu_object("a\0b", 24, 0, 0);
        assert!(try_encode(std::slice::from_ref(&s)).is_err());
        s.name = "a".into();
        s.addr = 1 << 40;
        assert!(try_encode(std::slice::from_ref(&s)).is_err());
        s.addr = 0;
        s.size = 1 << 40;
        assert!(try_encode(std::slice::from_ref(&s)).is_err());
        let many: Vec<_> = (0..20000)
            .map(|i| RtSym::mu_object(&format!("sym{i}"), 24, 0, 0))
            .collect();
        let e = try_encode(&many).unwrap_err();
        assert!(e.to_string().contains("64 KiB"), "{e}");
    }
}
