//! The MIP ("microcode information page").
//!
//! A 96-byte little-endian record inside the image that names the firmware
//! and points at the runtime symbol table.  The layout follows the Linux
//! driver (`drivers/net/ethernet/netronome/nfp/nfpcore/nfp_mip.c`,
//! `struct nfp_mip`):
//!
//! | offset | field                                     |
//! |--------|-------------------------------------------|
//! | 0x00   | signature, [`MIP_SIGNATURE`] (`"MIP\0"`)  |
//! | 0x04   | mip_version, [`MIP_VERSION`]              |
//! | 0x08   | mip_size                                  |
//! | 0x0c   | first_entry                               |
//! | 0x10   | version                                   |
//! | 0x14   | buildnum                                  |
//! | 0x18   | buildtime                                 |
//! | 0x1c   | loadtime                                  |
//! | 0x20   | symtab_addr                               |
//! | 0x24   | symtab_size                               |
//! | 0x28   | strtab_addr                               |
//! | 0x2c   | strtab_size                               |
//! | 0x30   | name\[16\], NUL-terminated                |
//! | 0x40   | toolchain\[32\], NUL-terminated           |

use crate::nffw::NffwError;

/// `"MIP\0"` read as a little-endian u32.
pub const MIP_SIGNATURE: u32 = 0x0050_494d;
/// The only MIP version the driver accepts.
pub const MIP_VERSION: u32 = 1;
/// Size of the MIP in bytes.
pub const MIP_SIZE: usize = 96;

const NAME_OFF: usize = 0x30;
const NAME_LEN: usize = 16;
const TOOLCHAIN_OFF: usize = 0x40;
const TOOLCHAIN_LEN: usize = 32;

/// A decoded MIP (without the fixed signature and `mip_version`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mip {
    /// `mip_size` field.
    pub mip_size: u32,
    /// `first_entry` field.
    pub first_entry: u32,
    /// Firmware version.
    pub version: u32,
    /// Build number.
    pub buildnum: u32,
    /// Build time (seconds since the epoch; 0 in the project's images).
    pub buildtime: u32,
    /// Load time (filled in by the loader).
    pub loadtime: u32,
    /// Address of the rtsym symbol table.
    pub symtab_addr: u32,
    /// Size of the rtsym symbol table in bytes.
    pub symtab_size: u32,
    /// Address of the rtsym string table.
    pub strtab_addr: u32,
    /// Size of the rtsym string table in bytes.
    pub strtab_size: u32,
    /// Firmware name; at most 15 bytes are stored.
    pub name: String,
    /// Toolchain description; at most 31 bytes are stored.
    pub toolchain: String,
}

impl Mip {
    /// Encodes the MIP.
    ///
    /// `name` and `toolchain` are cut (at a character boundary) to leave room
    /// for the NUL the driver requires at the end of each field.
    pub fn encode(&self) -> [u8; MIP_SIZE] {
        let mut b = [0u8; MIP_SIZE];
        let words = [
            MIP_SIGNATURE,
            MIP_VERSION,
            self.mip_size,
            self.first_entry,
            self.version,
            self.buildnum,
            self.buildtime,
            self.loadtime,
            self.symtab_addr,
            self.symtab_size,
            self.strtab_addr,
            self.strtab_size,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        put_str(&mut b[NAME_OFF..NAME_OFF + NAME_LEN], &self.name);
        put_str(
            &mut b[TOOLCHAIN_OFF..TOOLCHAIN_OFF + TOOLCHAIN_LEN],
            &self.toolchain,
        );
        b
    }

    /// Decodes a MIP from the start of `b`.
    ///
    /// Checks the length (at least [`MIP_SIZE`]), the signature and the
    /// MIP version, as the driver's `nfp_mip_read` does.  Strings end at the
    /// first NUL (or the end of their field) and are converted lossily.
    pub fn decode(b: &[u8]) -> Result<Mip, NffwError> {
        if b.len() < MIP_SIZE {
            return Err(NffwError::BadMip(format!(
                "{} bytes, a MIP needs {MIP_SIZE}",
                b.len()
            )));
        }
        let w = |i: usize| u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        if w(0) != MIP_SIGNATURE {
            return Err(NffwError::BadMip(format!(
                "signature {:#010x}, expected {MIP_SIGNATURE:#010x} (\"MIP\\0\")",
                w(0)
            )));
        }
        if w(1) != MIP_VERSION {
            return Err(NffwError::BadMip(format!(
                "mip_version {}, expected {MIP_VERSION}",
                w(1)
            )));
        }
        Ok(Mip {
            mip_size: w(2),
            first_entry: w(3),
            version: w(4),
            buildnum: w(5),
            buildtime: w(6),
            loadtime: w(7),
            symtab_addr: w(8),
            symtab_size: w(9),
            strtab_addr: w(10),
            strtab_size: w(11),
            name: get_str(&b[NAME_OFF..NAME_OFF + NAME_LEN]),
            toolchain: get_str(&b[TOOLCHAIN_OFF..TOOLCHAIN_OFF + TOOLCHAIN_LEN]),
        })
    }
}

/// Copies `s` into `field`, leaving at least one trailing NUL.
fn put_str(field: &mut [u8], s: &str) {
    let mut n = s.len().min(field.len() - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

fn get_str(field: &[u8]) -> String {
    let n = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..n]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Mip {
        Mip {
            mip_size: 96,
            first_entry: 0,
            version: 0x0001_0002,
            buildnum: 7,
            buildtime: 0,
            loadtime: 0,
            symtab_addr: 0x86_4010,
            symtab_size: 0x70,
            strtab_addr: 0x86_4080,
            strtab_size: 0x58,
            name: "nfp-emu-bpf".into(),
            toolchain: "nfp-emu".into(),
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let m = sample();
        let b = m.encode();
        assert_eq!(&b[0..4], b"MIP\0");
        assert_eq!(&b[4..8], &1u32.to_le_bytes());
        assert_eq!(&b[0x20..0x24], &0x86_4010u32.to_le_bytes());
        assert_eq!(&b[0x30..0x3c], b"nfp-emu-bpf\0");
        assert_eq!(&b[0x40..0x48], b"nfp-emu\0");
        assert_eq!(Mip::decode(&b).unwrap(), m);
        // Longer input is fine: only the first 96 bytes are read.
        let mut long = b.to_vec();
        long.extend_from_slice(&[0xff; 8]);
        assert_eq!(Mip::decode(&long).unwrap(), m);
    }

    #[test]
    fn strings_are_truncated_and_nul_terminated() {
        let m = Mip {
            name: "0123456789abcdefXYZ".into(),
            toolchain: "é".repeat(20),
            ..Mip::default()
        };
        let b = m.encode();
        assert_eq!(b[0x3f], 0);
        assert_eq!(b[0x5f], 0);
        let d = Mip::decode(&b).unwrap();
        assert_eq!(d.name, "0123456789abcde");
        // 31 bytes available, 2 bytes per char: 15 chars.
        assert_eq!(d.toolchain, "é".repeat(15));
    }

    #[test]
    fn rejects_bad_signature_version_and_length() {
        let mut b = sample().encode();
        let e = Mip::decode(&b[..95]).unwrap_err();
        assert!(
            matches!(e, NffwError::BadMip(ref r) if r.contains("95 bytes")),
            "{e}"
        );
        b[0] = b'X';
        let e = Mip::decode(&b).unwrap_err();
        assert!(
            matches!(e, NffwError::BadMip(ref r) if r.contains("signature")),
            "{e}"
        );
        b[0] = b'M';
        b[4] = 2;
        let e = Mip::decode(&b).unwrap_err();
        assert!(
            matches!(e, NffwError::BadMip(ref r) if r.contains("mip_version 2")),
            "{e}"
        );
    }
}
