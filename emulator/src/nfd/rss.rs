//! Receive-side scaling as NFD does it: the Toeplitz hash over the headers
//! `NFP_NET_CFG_RSS_CTRL` selects (nfp_net_ctrl.h:287-306), and the hash
//! type reported in the chained RX metadata.

use super::ctrl::{
    NFP_NET_CFG_RSS_IPV4, NFP_NET_CFG_RSS_IPV4_TCP, NFP_NET_CFG_RSS_IPV4_UDP, NFP_NET_CFG_RSS_IPV6,
    NFP_NET_CFG_RSS_IPV6_TCP, NFP_NET_CFG_RSS_IPV6_UDP, NFP_NET_RSS_IPV4, NFP_NET_RSS_IPV4_TCP,
    NFP_NET_RSS_IPV4_UDP, NFP_NET_RSS_IPV6, NFP_NET_RSS_IPV6_TCP, NFP_NET_RSS_IPV6_UDP,
};
use crate::pkt::{IPPROTO_TCP, IPPROTO_UDP, L3, parse, toeplitz};

/// RSS hash of a frame under the selection bits `cfg`: (hash, hash type).
pub fn rss_hash(frame: &[u8], key: &[u8], cfg: u32) -> Option<(u32, u8)> {
    let h = parse(frame)?;
    let mut input = [0u8; 36];
    let (addrs, v4) = match h.l3 {
        L3::V4 { off, .. } => {
            input[..8].copy_from_slice(&frame[off + 12..off + 20]);
            (8, true)
        }
        L3::V6 { off } => {
            input[..32].copy_from_slice(&frame[off + 8..off + 40]);
            (32, false)
        }
    };
    let ports = match h.l4 {
        Some((IPPROTO_TCP, o))
            if cfg
                & if v4 {
                    NFP_NET_CFG_RSS_IPV4_TCP
                } else {
                    NFP_NET_CFG_RSS_IPV6_TCP
                }
                != 0 =>
        {
            Some((
                o,
                if v4 {
                    NFP_NET_RSS_IPV4_TCP
                } else {
                    NFP_NET_RSS_IPV6_TCP
                },
            ))
        }
        Some((IPPROTO_UDP, o))
            if cfg
                & if v4 {
                    NFP_NET_CFG_RSS_IPV4_UDP
                } else {
                    NFP_NET_CFG_RSS_IPV6_UDP
                }
                != 0 =>
        {
            Some((
                o,
                if v4 {
                    NFP_NET_RSS_IPV4_UDP
                } else {
                    NFP_NET_RSS_IPV6_UDP
                },
            ))
        }
        _ => None,
    };
    match ports {
        Some((o, ty)) => {
            input[addrs..addrs + 4].copy_from_slice(&frame[o..o + 4]);
            Some((toeplitz(key, &input[..addrs + 4]), ty))
        }
        None => {
            let want = if v4 {
                NFP_NET_CFG_RSS_IPV4
            } else {
                NFP_NET_CFG_RSS_IPV6
            };
            // The driver never enables the L3-only types; hash anyway so
            // flows spread, but only report the type if it was asked for.
            let ty = if cfg & want != 0 {
                if v4 {
                    NFP_NET_RSS_IPV4
                } else {
                    NFP_NET_RSS_IPV6
                }
            } else {
                0
            };
            Some((toeplitz(key, &input[..addrs]), ty))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkt::tests::tcp4;

    #[test]
    fn rss_uses_ports_only_when_selected() {
        let key: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x6d).collect();
        let f = tcp4(b"x", 1, 0x10);
        let (h4, t4) = rss_hash(&f, &key, NFP_NET_CFG_RSS_IPV4_TCP).unwrap();
        assert_eq!(t4, NFP_NET_RSS_IPV4_TCP);
        let (h3, t3) = rss_hash(&f, &key, NFP_NET_CFG_RSS_IPV4).unwrap();
        assert_eq!(t3, NFP_NET_RSS_IPV4);
        assert_ne!(h4, h3);
        assert!(rss_hash(&[0u8; 20], &key, 0).is_none());
    }
}
