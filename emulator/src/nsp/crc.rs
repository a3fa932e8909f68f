//! `crc32_posix()`: the CRC the resource table keys and the hwinfo table use
//! (nfpcore/crc32.h:16-32): MSB-first CRC-32 (poly 0x04C11DB7), seed 0,
//! extended with the length bytes LSB-first, then inverted (== `cksum`).

const CRC32_POLY_BE: u32 = 0x04C1_1DB7;

const fn crc32_be_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ CRC32_POLY_BE
            } else {
                crc << 1
            };
            b += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = crc32_be_table();

fn crc32_be(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = (crc << 8) ^ TABLE[((crc >> 24) ^ u32::from(b)) as usize];
    }
    crc
}

/// POSIX `cksum` CRC of `data`.
pub fn crc32_posix(data: &[u8]) -> u32 {
    let mut crc = crc32_be(0, data);
    let mut len = data.len();
    while len != 0 {
        crc = crc32_be(crc, &[(len & 0xff) as u8]);
        len >>= 8;
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_self_test_vectors() {
        // nfpcore/nfp_hwinfo.c:46 and docs/nsp.md#resource-table.
        assert_eq!(crc32_posix(b""), 0xffff_ffff);
        assert_eq!(crc32_posix(b"a"), 0x48c2_79fe);
        // `printf 123456789 | cksum` = 930766865.
        assert_eq!(crc32_posix(b"123456789"), 930_766_865);
    }
}
