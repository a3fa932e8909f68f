//! The vNIC capability TLVs of a control BAR (nfp_net_ctrl.h:459-554,
//! parsed by the driver in `nfp_net_tlv_caps_parse`, nfp_net_ctrl.c:44-170).
//!
//! NFD keeps a per-vNIC block of TLVs (ME clock frequency, mailbox
//! placement, ...) in a template the firmware image initialises
//! (`nfd_cfg_tlv_template<pcie>`, one block per vNIC), and at start copies a
//! vNIC's block to a fixed offset of its BAR, with a RESERVED TLV at
//! `NFP_NET_CFG_TLV_BASE` that jumps over the fixed registers to it. The
//! image also initialises the BARs themselves with the same block, so its
//! offset can be read from the image. [`TlvBlock::find`] finds a block in
//! a BAR as the image left it, [`TlvBlock::publish`] writes it back with
//! its anchor, and [`TlvCaps::parse`] reads a BAR's TLVs with the driver's
//! rules (the card never needs more than that: it only publishes them).

use crate::cpp::Mu;

use super::ctrl::{NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_TLV_BASE};

/// `NFP_NET_CFG_TLV_HEADER_REQUIRED` (nfp_net_ctrl.h:481): the driver must
/// know this TLV type.
pub const NFP_NET_CFG_TLV_HEADER_REQUIRED: u32 = 0x8000_0000;
/// `NFP_NET_CFG_TLV_HEADER_TYPE` (nfp_net_ctrl.h:482).
pub const NFP_NET_CFG_TLV_HEADER_TYPE: u32 = 0x7fff_0000;
/// `NFP_NET_CFG_TLV_HEADER_LENGTH` (nfp_net_ctrl.h:483): value bytes, the
/// 4-byte header not counted.
pub const NFP_NET_CFG_TLV_HEADER_LENGTH: u32 = 0x0000_ffff;
/// `NFP_NET_CFG_TLV_LENGTH_INC` (nfp_net_ctrl.h:478).
pub const NFP_NET_CFG_TLV_LENGTH_INC: u32 = 4;

/// `NFP_NET_CFG_TLV_TYPE_UNKNOWN` (nfp_net_ctrl.h:543): never valid.
pub const NFP_NET_CFG_TLV_TYPE_UNKNOWN: u16 = 0;
/// `NFP_NET_CFG_TLV_TYPE_RESERVED` (nfp_net_ctrl.h:544): padding, skipped.
pub const NFP_NET_CFG_TLV_TYPE_RESERVED: u16 = 1;
/// `NFP_NET_CFG_TLV_TYPE_END` (nfp_net_ctrl.h:545): empty, ends the list.
pub const NFP_NET_CFG_TLV_TYPE_END: u16 = 2;
/// `NFP_NET_CFG_TLV_TYPE_ME_FREQ` (nfp_net_ctrl.h:546): ME clock in MHz.
pub const NFP_NET_CFG_TLV_TYPE_ME_FREQ: u16 = 3;
/// `NFP_NET_CFG_TLV_TYPE_MBOX` (nfp_net_ctrl.h:547): the mailbox area.
pub const NFP_NET_CFG_TLV_TYPE_MBOX: u16 = 4;
/// `NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL0` (nfp_net_ctrl.h:548).
pub const NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL0: u16 = 5;
/// `NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL1` (nfp_net_ctrl.h:549).
pub const NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL1: u16 = 6;
/// `NFP_NET_CFG_TLV_TYPE_REPR_CAP` (nfp_net_ctrl.h:550).
pub const NFP_NET_CFG_TLV_TYPE_REPR_CAP: u16 = 7;
/// `NFP_NET_CFG_TLV_TYPE_MBOX_CMSG_TYPES` (nfp_net_ctrl.h:551).
pub const NFP_NET_CFG_TLV_TYPE_MBOX_CMSG_TYPES: u16 = 10;
/// `NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS` (nfp_net_ctrl.h:552).
pub const NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS: u16 = 11;
/// `NFP_NET_CFG_TLV_TYPE_VNIC_STATS` (nfp_net_ctrl.h:553).
pub const NFP_NET_CFG_TLV_TYPE_VNIC_STATS: u16 = 12;
/// `NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS_RX_SCAN` (nfp_net_ctrl.h:554).
pub const NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS_RX_SCAN: u16 = 13;

/// ME clock the driver assumes without an ME_FREQ TLV
/// (`nfp_net_tlv_caps_reset`, nfp_net_ctrl.c:12-18).
pub const NFP_NET_DEFAULT_ME_FREQ_MHZ: u32 = 1200;
/// `NFP_NET_CFG_MBOX_BASE` (nfp_net_ctrl.h:407): the default mailbox.
pub const NFP_NET_CFG_MBOX_BASE: u32 = 0x1800;
/// `NFP_NET_CFG_MBOX_VAL_MAX_SZ` (nfp_net_ctrl.h:408).
pub const NFP_NET_CFG_MBOX_VAL_MAX_SZ: u32 = 0x1f8;

/// First byte after the anchor word at `NFP_NET_CFG_TLV_BASE`: the
/// earliest a block can start.
const BLOCK_MIN_OFF: usize = NFP_NET_CFG_TLV_BASE as usize + 4;
const BAR: usize = NFP_NET_CFG_BAR_SZ as usize;

/// A TLV header word: (type, value length, required bit).
fn header(hdr: u32) -> (u16, u32, bool) {
    (
        ((hdr & NFP_NET_CFG_TLV_HEADER_TYPE) >> 16) as u16,
        hdr & NFP_NET_CFG_TLV_HEADER_LENGTH,
        hdr & NFP_NET_CFG_TLV_HEADER_REQUIRED != 0,
    )
}

fn word(b: &[u8], off: usize) -> Option<u32> {
    let w = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// Why the driver would refuse a BAR's TLVs (each case is one `dev_err`
/// of `nfp_net_tlv_caps_parse`, which then fails the vNIC's init).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// "TLV size not multiple of 4".
    #[error("TLV at {offset:#x}: length {length} is not a multiple of 4")]
    Length {
        /// Offset of the TLV header in the BAR.
        offset: usize,
        /// Its length field.
        length: u32,
    },
    /// "oversized TLV".
    #[error("TLV at {offset:#x}: {length} bytes run past the BAR")]
    Oversized {
        /// Offset of the TLV header in the BAR.
        offset: usize,
        /// Its length field.
        length: u32,
    },
    /// "NULL TLV", or a bad length of a TLV whose size is fixed.
    #[error("TLV at {offset:#x}: type {ty} with length {length} is invalid")]
    Invalid {
        /// Offset of the TLV header in the BAR.
        offset: usize,
        /// Its type.
        ty: u16,
        /// Its length field.
        length: u32,
    },
    /// "unknown TLV type" with the required bit set.
    #[error("TLV at {offset:#x}: unknown required type {ty}")]
    UnknownRequired {
        /// Offset of the TLV header in the BAR.
        offset: usize,
        /// Its type.
        ty: u16,
    },
    /// "reached end of BAR without END TLV".
    #[error("no END TLV before the end of the BAR")]
    NoEnd,
}

/// What the driver takes from a BAR's TLVs (`struct nfp_net_tlv_caps`,
/// nfp_net_ctrl.h:558-581), the fields the card's images use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlvCaps {
    /// `me_freq_mhz`: the ME clock the driver converts interrupt
    /// moderation times with (nfp_net_common.c:888).
    pub me_freq_mhz: u32,
    /// `mbox_off`: BAR offset of the mailbox (0: none).
    pub mbox_off: u32,
    /// `mbox_len`: its length.
    pub mbox_len: u32,
}

impl Default for TlvCaps {
    fn default() -> Self {
        Self {
            me_freq_mhz: NFP_NET_DEFAULT_ME_FREQ_MHZ,
            mbox_off: NFP_NET_CFG_MBOX_BASE,
            mbox_len: NFP_NET_CFG_MBOX_VAL_MAX_SZ,
        }
    }
}

impl TlvCaps {
    /// Parse the TLVs of a 32 KiB BAR as `nfp_net_tlv_caps_parse` does:
    /// from `NFP_NET_CFG_TLV_BASE`, none at all if the first word is 0.
    pub fn parse(bar: &[u8]) -> Result<Self, TlvError> {
        let mut caps = Self::default();
        let end = bar.len().min(BAR);
        let mut off = NFP_NET_CFG_TLV_BASE as usize;
        if word(bar, off).unwrap_or(0) == 0 {
            return Ok(caps);
        }
        loop {
            let hdr = word(bar, off).ok_or(TlvError::NoEnd)?;
            let (ty, length, required) = header(hdr);
            let data = off + 4;
            if length % NFP_NET_CFG_TLV_LENGTH_INC != 0 {
                return Err(TlvError::Length {
                    offset: off,
                    length,
                });
            }
            let next = data + length as usize;
            if next > end {
                return Err(TlvError::Oversized {
                    offset: off,
                    length,
                });
            }
            let invalid = TlvError::Invalid {
                offset: off,
                ty,
                length,
            };
            match ty {
                NFP_NET_CFG_TLV_TYPE_UNKNOWN => return Err(invalid),
                NFP_NET_CFG_TLV_TYPE_END if length == 0 => return Ok(caps),
                NFP_NET_CFG_TLV_TYPE_END => return Err(invalid),
                NFP_NET_CFG_TLV_TYPE_ME_FREQ => {
                    if length != 4 {
                        return Err(invalid);
                    }
                    caps.me_freq_mhz = word(bar, data).unwrap_or(0);
                }
                NFP_NET_CFG_TLV_TYPE_MBOX => {
                    (caps.mbox_off, caps.mbox_len) = if length == 0 {
                        (0, 0)
                    } else {
                        (data as u32, length)
                    };
                }
                NFP_NET_CFG_TLV_TYPE_REPR_CAP if length < 4 => return Err(invalid),
                NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS | NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS_RX_SCAN
                    if length < 32 =>
                {
                    return Err(invalid);
                }
                NFP_NET_CFG_TLV_TYPE_RESERVED
                | NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL0
                | NFP_NET_CFG_TLV_TYPE_EXPERIMENTAL1
                | NFP_NET_CFG_TLV_TYPE_REPR_CAP
                | NFP_NET_CFG_TLV_TYPE_MBOX_CMSG_TYPES
                | NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS
                | NFP_NET_CFG_TLV_TYPE_VNIC_STATS
                | NFP_NET_CFG_TLV_TYPE_CRYPTO_OPS_RX_SCAN => {}
                _ if required => return Err(TlvError::UnknownRequired { offset: off, ty }),
                _ => {}
            }
            if next + 4 > end {
                return Err(TlvError::NoEnd);
            }
            off = next;
        }
    }
}

/// A vNIC's TLV block and where in its BAR NFD places it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvBlock {
    /// BAR offset of the block (NFD's `NFD_CFG_TLV_BLOCK_OFF`).
    pub offset: usize,
    /// The TLVs, up to and including the END TLV.
    pub bytes: Vec<u8>,
}

impl TlvBlock {
    /// The TLV list at `offset` of `b` up to its END TLV, if `b` holds a
    /// well-formed one there (the driver's rules; the list may not leave
    /// the BAR).
    fn chain_at(b: &[u8], offset: usize, bar_left: usize) -> Option<Vec<u8>> {
        let mut off = offset;
        let limit = offset.checked_add(bar_left)?.min(b.len());
        loop {
            let (ty, length, _) = header(word(b, off)?);
            let next = off.checked_add(4 + length as usize)?;
            if length % NFP_NET_CFG_TLV_LENGTH_INC != 0
                || next > limit
                || ty == NFP_NET_CFG_TLV_TYPE_UNKNOWN
            {
                return None;
            }
            if ty == NFP_NET_CFG_TLV_TYPE_END {
                return (length == 0).then(|| b[offset..next].to_vec());
            }
            off = next;
        }
    }

    /// Find the block in a BAR as the firmware image initialised it: the
    /// first non-zero word after the anchor starts it, and it must be a
    /// well-formed TLV list ending in END inside the BAR.
    pub fn find(bar: &[u8]) -> Option<Self> {
        let bar = &bar[..bar.len().min(BAR)];
        let offset = (BLOCK_MIN_OFF..bar.len())
            .step_by(4)
            .find(|&o| word(bar, o).is_some_and(|w| w != 0))?;
        let bytes = Self::chain_at(bar, offset, BAR - offset)?;
        Some(Self { offset, bytes })
    }

    /// This block's TLVs taken from `template` (NFD's template block of
    /// the vNIC) instead, if it holds a well-formed list that fits.
    pub fn from_template(&self, template: &[u8]) -> Option<Self> {
        let bytes = Self::chain_at(template, 0, BAR - self.offset)?;
        Some(Self {
            offset: self.offset,
            bytes,
        })
    }

    /// The anchor NFD writes at `NFP_NET_CFG_TLV_BASE`: a RESERVED TLV
    /// covering everything up to the block (`nfd_flr_init_tlv` in
    /// Netronome's NFD).
    pub fn anchor(&self) -> u32 {
        let skip = (self.offset - BLOCK_MIN_OFF) as u32;
        u32::from(NFP_NET_CFG_TLV_TYPE_RESERVED) << 16 | skip & NFP_NET_CFG_TLV_HEADER_LENGTH
    }

    /// Write the anchor and the block into the BAR at MU address `bar`.
    pub fn publish(&self, mu: &mut Mu, bar: u64) {
        mu.write_u32(bar.saturating_add(NFP_NET_CFG_TLV_BASE), self.anchor());
        mu.write(bar.saturating_add(self.offset as u64), &self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(ty: u16, value: &[u32]) -> Vec<u8> {
        let mut v = (u32::from(ty) << 16 | (4 * value.len()) as u32)
            .to_le_bytes()
            .to_vec();
        for w in value {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v
    }

    /// A BAR as Debian's NFD images initialise it: ME_FREQ 800 MHz and END
    /// at `off`, nothing at the anchor.
    fn image_bar(off: usize, mhz: u32) -> Vec<u8> {
        let mut bar = vec![0u8; BAR];
        let mut block = tlv(NFP_NET_CFG_TLV_TYPE_ME_FREQ, &[mhz]);
        block.extend(tlv(NFP_NET_CFG_TLV_TYPE_END, &[]));
        bar[off..off + block.len()].copy_from_slice(&block);
        bar
    }

    #[test]
    fn no_anchor_means_the_driver_defaults() {
        let bar = image_bar(0x2200, 800);
        assert_eq!(TlvCaps::parse(&bar), Ok(TlvCaps::default()));
        assert_eq!(TlvCaps::default().me_freq_mhz, 1200);
    }

    /// The block found in the image's BAR, published with its anchor, reads
    /// back through the driver's parser as the image's ME clock, for both
    /// block offsets Debian's images use (0x2200 nic, 0x1800 bpf).
    #[test]
    fn published_block_gives_the_image_me_freq() {
        for (off, mhz) in [(0x2200, 800), (0x1800, 633)] {
            let bar = image_bar(off, mhz);
            let block = TlvBlock::find(&bar).unwrap();
            assert_eq!(block.offset, off);
            assert_eq!(block.bytes.len(), 12);
            let mut mu = Mu::new();
            let base = 0x18_0080_8000;
            block.publish(&mut mu, base);
            let mut out = vec![0u8; BAR];
            mu.read(base, &mut out);
            assert_eq!(
                word(&out, 0x58),
                Some(0x0001_0000 | (off as u32 - 0x5c)),
                "RESERVED anchor"
            );
            let caps = TlvCaps::parse(&out).unwrap();
            assert_eq!(caps.me_freq_mhz, mhz);
            assert_eq!(caps.mbox_off, NFP_NET_CFG_MBOX_BASE, "mailbox default");
        }
    }

    #[test]
    fn template_block_replaces_the_bar_contents() {
        let bar = image_bar(0x2200, 800);
        let block = TlvBlock::find(&bar).unwrap();
        let mut tpl = tlv(NFP_NET_CFG_TLV_TYPE_ME_FREQ, &[900]);
        tpl.extend(tlv(NFP_NET_CFG_TLV_TYPE_MBOX, &[0, 0]));
        tpl.extend(tlv(NFP_NET_CFG_TLV_TYPE_END, &[]));
        tpl.resize(0xc00, 0);
        let t = block.from_template(&tpl).unwrap();
        assert_eq!(t.offset, 0x2200);
        let mut mu = Mu::new();
        t.publish(&mut mu, 0x18_0080_0000);
        let mut out = vec![0u8; BAR];
        mu.read(0x18_0080_0000, &mut out);
        let caps = TlvCaps::parse(&out).unwrap();
        assert_eq!(
            (caps.me_freq_mhz, caps.mbox_off, caps.mbox_len),
            (900, 0x220c, 8)
        );
        // An empty template block (a control vNIC's) gives nothing.
        assert_eq!(block.from_template(&[0u8; 0xc00]), None);
    }

    #[test]
    fn malformed_blocks_are_not_found() {
        // No END.
        let mut bar = vec![0u8; BAR];
        bar[0x2200..0x2208].copy_from_slice(&tlv(NFP_NET_CFG_TLV_TYPE_ME_FREQ, &[800]));
        assert_eq!(TlvBlock::find(&bar), None);
        // Length not a multiple of 4.
        let mut bar = vec![0u8; BAR];
        bar[0x100..0x104].copy_from_slice(&(3u32 << 16 | 3).to_le_bytes());
        assert_eq!(TlvBlock::find(&bar), None);
        // A length running past the BAR.
        let mut bar = vec![0u8; BAR];
        bar[BAR - 8..BAR - 4].copy_from_slice(&(1u32 << 16 | 0xfff0).to_le_bytes());
        assert_eq!(TlvBlock::find(&bar), None);
        // All zero: no block.
        assert_eq!(TlvBlock::find(&[0u8; BAR]), None);
        assert_eq!(TlvBlock::find(&[]), None);
    }

    /// The driver's refusals, one per `dev_err` of nfp_net_tlv_caps_parse.
    #[test]
    fn parser_refuses_what_the_driver_refuses() {
        let with = |tlvs: &[Vec<u8>]| {
            let mut bar = vec![0u8; BAR];
            let mut off = 0x58;
            for t in tlvs {
                bar[off..off + t.len()].copy_from_slice(t);
                off += t.len();
            }
            TlvCaps::parse(&bar)
        };
        let end = tlv(NFP_NET_CFG_TLV_TYPE_END, &[]);
        assert!(matches!(
            with(&[tlv(NFP_NET_CFG_TLV_TYPE_ME_FREQ, &[1, 2]), end.clone()]),
            Err(TlvError::Invalid {
                ty: 3,
                length: 8,
                ..
            })
        ));
        assert!(matches!(
            with(&[tlv(NFP_NET_CFG_TLV_TYPE_END, &[0])]),
            Err(TlvError::Invalid { ty: 2, .. })
        ));
        assert!(matches!(
            with(&[(0x8000_0000u32 | 99 << 16).to_le_bytes().to_vec()]),
            Err(TlvError::UnknownRequired { ty: 99, .. })
        ));
        // An unknown optional type is skipped.
        assert_eq!(
            with(&[
                tlv(99, &[7]),
                tlv(NFP_NET_CFG_TLV_TYPE_ME_FREQ, &[500]),
                end
            ]),
            Ok(TlvCaps {
                me_freq_mhz: 500,
                ..TlvCaps::default()
            })
        );
        assert!(matches!(
            with(&[(1u32 << 16 | 2).to_le_bytes().to_vec()]),
            Err(TlvError::Length { length: 2, .. })
        ));
        // RESERVED running to the end of the BAR: no END.
        let rest = (BAR - 0x5c) as u32;
        assert_eq!(
            with(&[(1u32 << 16 | rest).to_le_bytes().to_vec()]),
            Err(TlvError::NoEnd)
        );
        assert!(matches!(
            with(&[(1u32 << 16 | (rest + 4)).to_le_bytes().to_vec()]),
            Err(TlvError::Oversized { .. })
        ));
    }
}
