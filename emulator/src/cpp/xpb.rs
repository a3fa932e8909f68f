//! XPB: the island-local peripheral bus, as far as the driver reads it.

/// `NFP_XPB_DEVICE(1, 1, 16) + NFP_PL_DEVICE_ID` (nfpcore/nfp_cpplib.c:25,
/// 128; nfp6000/nfp_xpb.h:80-83), after `nfp_xpb_readl`'s island-1 overlay
/// rule (nfp_cppcore.c:1055-1100): the PL device ID register.
pub const NFP_XPB_PL_DEVICE_ID: u64 = 0x0150_0004;
/// NFP-4000 PL device ID: part 0x4001, revision 0x10; the driver prints it as
/// `Model: 0x40010010` [external: believed to match a real NFP-4000].
pub const NFP_PL_DEVICE_ID_NFP4000: u32 = 0x4001_0010;
/// `NFP_XPB_..._IMB` CPP address-mode table: 16 words at XPB 0x000a0000,
/// one per CPP target (nfpcore/nfp_cppcore.c:1229-1239).
pub const NFP_IMB_TGTADDRESSMODECFG: u64 = 0x000a_0000;
/// IMB entry for the MU target: mode 0, addr40 = 1, so the island goes into
/// address bits 37:32 and `mu_locality_lsb` is 38 (docs/cpp.md#imb-table-and-island-translation).
pub const IMB_MU_MODE0_ADDR40: u32 = 0x0000_1000;

/// The XPB registers the card implements.
#[derive(Debug)]
pub struct Xpb {
    imb: [u32; 16],
}

impl Default for Xpb {
    fn default() -> Self {
        let mut imb = [0; 16];
        imb[usize::from(super::NFP_CPP_TARGET_MU)] = IMB_MU_MODE0_ADDR40;
        Self { imb }
    }
}

impl Xpb {
    /// Read the XPB register at `addr`; unimplemented ones read 0 (logged).
    pub fn read32(&self, addr: u64) -> u32 {
        match addr {
            NFP_XPB_PL_DEVICE_ID => NFP_PL_DEVICE_ID_NFP4000,
            a if (NFP_IMB_TGTADDRESSMODECFG..NFP_IMB_TGTADDRESSMODECFG + 64).contains(&a)
                && a % 4 == 0 =>
            {
                self.imb[((a - NFP_IMB_TGTADDRESSMODECFG) / 4) as usize]
            }
            _ => {
                crate::guest_warn!("XPB read of unimplemented register {addr:#010x}; returning 0");
                0
            }
        }
    }

    /// Write an XPB register: none is writable here (logged, ignored).
    pub fn write32(&mut self, addr: u64, value: u32) {
        crate::guest_warn!(
            "XPB write of {value:#x} to unimplemented register {addr:#010x}; ignored"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_imb_table() {
        let x = Xpb::default();
        let model = x.read32(NFP_XPB_PL_DEVICE_ID);
        // nfp_cpp_model_autodetect(): reg & 0xffff00ff, no NFP6000 fix-up.
        assert_eq!(model & 0xffff_00ff, 0x4001_0010);
        assert_eq!(x.read32(0xa0000 + 4 * 7), 0x1000);
        // IMB[7] mode (bits 15:13) must be <= 3 (nfp_cppcore.c:1246-1250).
        assert!((x.read32(0xa0000 + 4 * 7) >> 13) & 7 <= 3);
        assert_eq!(x.read32(0xa0000), 0);
        assert_eq!(x.read32(0x1234), 0);
    }
}
