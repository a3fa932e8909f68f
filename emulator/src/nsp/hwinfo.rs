//! hwinfo: the board's key/value database (nfpcore/nfp_hwinfo.c;
//! docs/nsp.md#hwinfo). Only version 2 is accepted: a 16-byte header, packed
//! `key\0value\0` pairs, an extra `\0`, then a CRC over everything before it.

use super::crc::crc32_posix;

/// `NFP_HWINFO_VERSION_2` (nfp_hwinfo.c:84).
pub const NFP_HWINFO_VERSION_2: u32 = (b'H' as u32) << 24 | (b'I' as u32) << 16 | 2 << 8;

/// Encode `kv` as a hwinfo v2 table padded to `area_size` bytes.
/// Returns `None` if it does not fit.
pub fn build(kv: &[(String, String)], area_size: usize) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    for (k, v) in kv {
        data.extend_from_slice(k.as_bytes());
        data.push(0);
        data.extend_from_slice(v.as_bytes());
        data.push(0);
    }
    // hwinfo_db_walk() stops at an empty key but may run past the CRC
    // (nfp_hwinfo.c:106-126): terminate with one more NUL.
    data.push(0);
    let size = 16 + data.len() + 4;
    if size > area_size {
        return None;
    }
    let mut t = Vec::with_capacity(area_size);
    t.extend_from_slice(&NFP_HWINFO_VERSION_2.to_le_bytes());
    t.extend_from_slice(&(size as u32).to_le_bytes());
    t.extend_from_slice(&(area_size as u32).to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&data);
    let crc = crc32_posix(&t);
    t.extend_from_slice(&crc.to_le_bytes());
    t.resize(area_size, 0);
    Some(t)
}

/// Parse a table as the driver validates it (nfp_hwinfo.c:128-149).
pub fn parse(db: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
    if db.len() < 20 {
        return Err("too short");
    }
    let ver = u32::from_le_bytes(db[0..4].try_into().expect("4"));
    let size = u32::from_le_bytes(db[4..8].try_into().expect("4")) as usize;
    if ver != NFP_HWINFO_VERSION_2 {
        return Err("unknown version");
    }
    if size > db.len() || size < 20 {
        return Err("bad size");
    }
    let crc = u32::from_le_bytes(db[size - 4..size].try_into().expect("4"));
    if crc32_posix(&db[..size - 4]) != crc {
        return Err("CRC mismatch");
    }
    let mut out = Vec::new();
    let mut fields = db[16..size - 4].split(|&b| b == 0);
    while let Some(k) = fields.next() {
        if k.is_empty() {
            break;
        }
        let v = fields.next().ok_or("key without value")?;
        out.push((
            String::from_utf8_lossy(k).into_owned(),
            String::from_utf8_lossy(v).into_owned(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn header_size_and_crc_as_the_driver_checks_them() {
        let pairs = kv(&[
            ("assembly.vendor", "Netronome"),
            ("assembly.partno", "AMDA0099-0001"),
            ("assembly.serial", "21234567"),
            ("assembly.revision", "11"),
            ("cpld.version", "0x44"),
            ("board.state", "15"),
        ]);
        let t = build(&pairs, 0x2000).unwrap();
        // Same header as the layout in docs/nsp.md#hwinfo for these
        // pairs: 00024948 9c000000 00200000 00000000 (size 0x9c with CRC).
        assert_eq!(
            &t[0..16],
            &[
                0x00, 0x02, 0x49, 0x48, 0x9c, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(parse(&t).unwrap(), pairs);
        // The data ends with an empty key just before the CRC.
        assert_eq!(t[0x9c - 5], 0);
        assert_eq!(t[0x9c - 6], 0);
        assert_eq!(
            u32::from_le_bytes(t[0x98..0x9c].try_into().unwrap()),
            crc32_posix(&t[..0x98])
        );
    }

    #[test]
    fn corruption_is_detected() {
        let mut t = build(&kv(&[("board.state", "15")]), 0x100).unwrap();
        t[20] ^= 1;
        assert_eq!(parse(&t), Err("CRC mismatch"));
        assert!(build(&kv(&[("k", &"v".repeat(300))]), 0x100).is_none());
    }
}
