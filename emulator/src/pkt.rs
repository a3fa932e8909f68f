//! Packet helpers the firmware's datapath needs: header parsing, Internet
//! checksums (TX offload and RX verification), TCP segmentation (LSO),
//! the Toeplitz hash and a flow hash. All work on borrowed buffers; only
//! LSO writes into a scratch buffer the caller keeps.

/// `ETH_HLEN` (include/uapi/linux/if_ether.h): Ethernet header bytes.
pub const ETH_HLEN: usize = 14;
/// `ETH_P_IP` (include/uapi/linux/if_ether.h).
pub const ETH_P_IPV4: u16 = 0x0800;
/// `ETH_P_IPV6` (include/uapi/linux/if_ether.h).
pub const ETH_P_IPV6: u16 = 0x86dd;
/// `ETH_P_8021Q` (include/uapi/linux/if_ether.h): a VLAN tag.
pub const ETH_P_8021Q: u16 = 0x8100;
/// `ETH_P_8021AD` (include/uapi/linux/if_ether.h): a service VLAN tag.
pub const ETH_P_8021AD: u16 = 0x88a8;
/// `IPPROTO_TCP`.
pub const IPPROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const IPPROTO_UDP: u8 = 17;

/// Layer 3 of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L3 {
    /// IPv4.
    V4 {
        /// Offset of the IP header.
        off: usize,
        /// Its length in bytes.
        hlen: usize,
    },
    /// IPv6 (without extension headers).
    V6 {
        /// Offset of the IP header.
        off: usize,
    },
}

/// What `parse` found in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Headers {
    /// The IP header.
    pub l3: L3,
    /// L4 protocol and offset, if the packet is not a fragment and the
    /// header fits in the frame.
    pub l4: Option<(u8, usize)>,
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

/// Parse Ethernet (with up to two VLAN tags), IPv4 or IPv6 (no extension
/// headers), and the TCP/UDP header position.
pub fn parse(frame: &[u8]) -> Option<Headers> {
    let mut off = 12;
    let mut ethertype = be16(frame, off)?;
    for _ in 0..2 {
        if ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD {
            off += 4;
            ethertype = be16(frame, off)?;
        }
    }
    let l3off = off + 2;
    match ethertype {
        ETH_P_IPV4 => {
            let vihl = *frame.get(l3off)?;
            let hlen = usize::from(vihl & 0xf) * 4;
            if vihl >> 4 != 4 || hlen < 20 || frame.len() < l3off + hlen {
                return None;
            }
            let frag = be16(frame, l3off + 6)? & 0x3fff; // MF | offset
            let proto = frame[l3off + 9];
            let l4off = l3off + hlen;
            let l4 = (frag == 0 && l4_fits(frame, proto, l4off)).then_some((proto, l4off));
            Some(Headers {
                l3: L3::V4 { off: l3off, hlen },
                l4,
            })
        }
        ETH_P_IPV6 => {
            if frame.len() < l3off + 40 || frame[l3off] >> 4 != 6 {
                return None;
            }
            let proto = frame[l3off + 6];
            let l4off = l3off + 40;
            let l4 = l4_fits(frame, proto, l4off).then_some((proto, l4off));
            Some(Headers {
                l3: L3::V6 { off: l3off },
                l4,
            })
        }
        _ => None,
    }
}

fn l4_fits(frame: &[u8], proto: u8, off: usize) -> bool {
    match proto {
        IPPROTO_TCP => frame.get(off + 12).is_some_and(|&d| {
            usize::from(d >> 4) * 4 >= 20 && off + usize::from(d >> 4) * 4 <= frame.len()
        }),
        IPPROTO_UDP => off + 8 <= frame.len(),
        _ => false,
    }
}

/// One's-complement sum of `data` added to `sum` (not folded).
pub fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        // Fold early enough that u32 never overflows on jumbo frames.
        if sum & 0x8000_0000 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [b] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*b) << 8);
    }
    sum
}

/// Fold and complement a one's-complement sum.
pub fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Pseudo-header sum for an L4 segment of `len` bytes.
fn pseudo(frame: &[u8], l3: L3, proto: u8, len: usize) -> u32 {
    let mut s = 0;
    match l3 {
        L3::V4 { off, .. } => s = sum16(s, &frame[off + 12..off + 20]),
        L3::V6 { off } => s = sum16(s, &frame[off + 8..off + 40]),
    }
    s = s.wrapping_add(u32::from(proto));
    s.wrapping_add(len as u32 & 0xffff)
        .wrapping_add((len >> 16) as u32)
}

fn l4_csum_off(proto: u8) -> usize {
    if proto == IPPROTO_TCP { 16 } else { 6 }
}

fn l4_len(frame: &[u8], h: &Headers, l4off: usize) -> usize {
    match h.l3 {
        L3::V4 { off, .. } => {
            let tot = usize::from(be16(frame, off + 2).unwrap_or(0));
            (off + tot).min(frame.len()).saturating_sub(l4off)
        }
        L3::V6 { off } => {
            let pl = usize::from(be16(frame, off + 4).unwrap_or(0));
            (off + 40 + pl).min(frame.len()).saturating_sub(l4off)
        }
    }
}

/// Compute the checksums the TX descriptor asks for (NFD3_DESC_TX_IP4_CSUM,
/// _TCP_CSUM, _UDP_CSUM): the stack leaves them partial (CHECKSUM_PARTIAL).
/// Returns false if the frame has no such headers.
pub fn fill_checksums(frame: &mut [u8], ip4: bool, l4: bool) -> bool {
    let Some(h) = parse(frame) else {
        return false;
    };
    if ip4 {
        if let L3::V4 { off, hlen } = h.l3 {
            frame[off + 10..off + 12].fill(0);
            let c = fold(sum16(0, &frame[off..off + hlen]));
            frame[off + 10..off + 12].copy_from_slice(&c.to_be_bytes());
        }
    }
    if l4 {
        let Some((proto, l4off)) = h.l4 else {
            return false;
        };
        let len = l4_len(frame, &h, l4off);
        let co = l4off + l4_csum_off(proto);
        frame[co..co + 2].fill(0);
        let mut c = fold(sum16(
            pseudo(frame, h.l3, proto, len),
            &frame[l4off..l4off + len],
        ));
        if proto == IPPROTO_UDP && c == 0 {
            c = 0xffff;
        }
        frame[co..co + 2].copy_from_slice(&c.to_be_bytes());
    }
    true
}

/// RX checksum verdict as NFD reports it in the RX descriptor flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxCsum {
    /// An IPv4 header was checked.
    pub ip4_checked: bool,
    /// Its checksum is correct.
    pub ip4_ok: bool,
    /// A TCP checksum was checked.
    pub tcp_checked: bool,
    /// It is correct.
    pub tcp_ok: bool,
    /// A UDP checksum was checked.
    pub udp_checked: bool,
    /// It is correct (or absent over IPv4).
    pub udp_ok: bool,
}

/// Verify the IPv4 header and TCP/UDP checksums of a received frame.
pub fn verify_checksums(frame: &[u8]) -> RxCsum {
    let mut r = RxCsum::default();
    let Some(h) = parse(frame) else {
        return r;
    };
    if let L3::V4 { off, hlen } = h.l3 {
        r.ip4_checked = true;
        r.ip4_ok = fold(sum16(0, &frame[off..off + hlen])) == 0;
    }
    if let Some((proto, l4off)) = h.l4 {
        let len = l4_len(frame, &h, l4off);
        let stored = be16(frame, l4off + l4_csum_off(proto)).unwrap_or(0);
        let ok = (proto == IPPROTO_UDP && stored == 0 && matches!(h.l3, L3::V4 { .. }))
            || fold(sum16(
                pseudo(frame, h.l3, proto, len),
                &frame[l4off..l4off + len],
            )) == 0;
        if proto == IPPROTO_TCP {
            r.tcp_checked = true;
            r.tcp_ok = ok;
        } else {
            r.udp_checked = true;
            r.udp_ok = ok;
        }
    }
    r
}

/// Cut a TSO frame into segments of at most `mss` payload bytes, as NFD
/// does for NFD3_DESC_TX_LSO: headers (`hdrlen` bytes: L2..L4) repeated,
/// IPv4 total length/ID/checksum and IPv6 payload length fixed, TCP sequence
/// advanced, FIN/PSH kept for the last segment and CWR for the first, TCP
/// checksum recomputed. `seg` is scratch space. Returns the segment count.
pub fn segment_tcp(
    frame: &[u8],
    l3off: usize,
    l4off: usize,
    hdrlen: usize,
    mss: usize,
    seg: &mut Vec<u8>,
    mut out: impl FnMut(&[u8]),
) -> Option<usize> {
    if mss == 0 || hdrlen > frame.len() || l4off + 20 > hdrlen || l3off + 20 > l4off {
        return None;
    }
    let v4 = frame[l3off] >> 4 == 4;
    let payload = &frame[hdrlen..];
    let n = payload.len().div_ceil(mss).max(1);
    let seq0 = u32::from_be_bytes(frame[l4off + 4..l4off + 8].try_into().ok()?);
    let id0 = be16(frame, l3off + 4)?;
    let flags0 = frame[l4off + 13];
    for (i, chunk) in payload
        .chunks(mss)
        .chain(std::iter::once(&[][..]).take(usize::from(payload.is_empty())))
        .enumerate()
    {
        seg.clear();
        seg.extend_from_slice(&frame[..hdrlen]);
        seg.extend_from_slice(chunk);
        let last = i + 1 == n;
        if v4 {
            let tot = (seg.len() - l3off) as u16;
            seg[l3off + 2..l3off + 4].copy_from_slice(&tot.to_be_bytes());
            seg[l3off + 4..l3off + 6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
        } else {
            let pl = (seg.len() - l3off - 40) as u16;
            seg[l3off + 4..l3off + 6].copy_from_slice(&pl.to_be_bytes());
        }
        let seq = seq0.wrapping_add((i * mss) as u32);
        seg[l4off + 4..l4off + 8].copy_from_slice(&seq.to_be_bytes());
        let mut f = flags0;
        if !last {
            f &= !(0x01 | 0x08); // FIN, PSH
        }
        if i != 0 {
            f &= !0x80; // CWR
        }
        seg[l4off + 13] = f;
        fill_checksums(seg, v4, true);
        out(seg);
    }
    Some(n)
}

/// Toeplitz hash of `input` with `key` (the Microsoft RSS definition).
pub fn toeplitz(key: &[u8], input: &[u8]) -> u32 {
    let mut result = 0u32;
    let kbit = |i: usize| -> u32 {
        key.get(i / 8)
            .map_or(0, |b| u32::from(b >> (7 - i % 8)) & 1)
    };
    // 32-bit window of the key starting at bit position.
    let mut window: u32 = (0..32).fold(0, |w, i| w << 1 | kbit(i));
    for (byte_no, &b) in input.iter().enumerate() {
        for bit in 0..8 {
            if b & (0x80 >> bit) != 0 {
                result ^= window;
            }
            window = window << 1 | kbit(byte_no * 8 + bit + 32);
        }
    }
    result
}

/// A hash of a frame's flow: IP addresses and TCP/UDP ports when it has
/// them, else its MAC addresses and EtherType. Frames of one flow always
/// hash alike (the flow processor keeps them in order by it).
pub fn flow_hash(frame: &[u8]) -> u32 {
    // FNV-1a.
    let mix = |h: u32, bytes: &[u8]| {
        bytes
            .iter()
            .fold(h, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
    };
    let mut h = 0x811c_9dc5;
    match parse(frame) {
        Some(hd) => {
            let (addrs, n) = match hd.l3 {
                L3::V4 { off, .. } => (off + 12, 8),
                L3::V6 { off } => (off + 8, 32),
            };
            h = mix(h, frame.get(addrs..addrs + n).unwrap_or_default());
            if let Some((proto, l4)) = hd.l4 {
                h = mix(h, &[proto]);
                h = mix(h, frame.get(l4..l4 + 4).unwrap_or_default());
            }
        }
        None => h = mix(h, frame.get(..ETH_HLEN).unwrap_or(frame)),
    }
    h
}

/// Destination class of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dst {
    /// One station.
    Unicast,
    /// A group (the I/G bit of the destination MAC).
    Multicast,
    /// Every station (ff:ff:ff:ff:ff:ff).
    Broadcast,
}

/// The destination class of `frame` (unicast when too short to tell).
pub fn dst_class(frame: &[u8]) -> Dst {
    match frame.get(..6) {
        Some([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) => Dst::Broadcast,
        Some(d) if d[0] & 1 != 0 => Dst::Multicast,
        _ => Dst::Unicast,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn flow_hash_follows_addresses_and_ports() {
        let a = tcp4(b"x", 1, 0x10);
        let mut b = tcp4(b"other payload", 99, 0x18);
        assert_eq!(flow_hash(&a), flow_hash(&b), "same flow");
        b[37] ^= 1; // destination port
        assert_ne!(flow_hash(&a), flow_hash(&b));
        let mut c = a.clone();
        c[12] = 0x88; // not IP: MACs and EtherType
        assert_ne!(flow_hash(&a), flow_hash(&c));
        assert_eq!(
            flow_hash(&c[..6]),
            flow_hash(&c[..6]),
            "short frames hash too"
        );
    }

    /// An Ethernet/IPv4/TCP frame with correct checksums and `payload`.
    pub(crate) fn tcp4(payload: &[u8], seq: u32, flags: u8) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[0..6].copy_from_slice(&[0, 0x15, 0x4d, 0, 1, 0]);
        f[6..12].copy_from_slice(&[0, 0x15, 0x4d, 0, 1, 1]);
        f[12..14].copy_from_slice(&ETH_P_IPV4.to_be_bytes());
        f[14] = 0x45;
        f[14 + 8] = 64;
        f[14 + 9] = IPPROTO_TCP;
        f[14 + 12..14 + 16].copy_from_slice(&[10, 0, 0, 1]);
        f[14 + 16..14 + 20].copy_from_slice(&[10, 0, 0, 2]);
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&5201u16.to_be_bytes());
        f[38..42].copy_from_slice(&seq.to_be_bytes());
        f[46] = 0x50;
        f[47] = flags;
        f[48..50].copy_from_slice(&1000u16.to_be_bytes());
        f.extend_from_slice(payload);
        let tot = (f.len() - 14) as u16;
        f[16..18].copy_from_slice(&tot.to_be_bytes());
        assert!(fill_checksums(&mut f, true, true));
        f
    }

    #[test]
    fn checksums_verify_and_detect_corruption() {
        let f = tcp4(b"hello world", 1, 0x18);
        let v = verify_checksums(&f);
        assert!(v.ip4_checked && v.ip4_ok && v.tcp_checked && v.tcp_ok);
        let mut bad = f.clone();
        bad[60] ^= 0x40;
        let v = verify_checksums(&bad);
        assert!(v.ip4_ok && v.tcp_checked && !v.tcp_ok);
        let mut bad = f.clone();
        bad[14 + 8] = 3; // TTL without fixing the header checksum
        assert!(!verify_checksums(&bad).ip4_ok);
    }

    #[test]
    fn known_ipv4_header_checksum() {
        // The classic example header from RFC 1071 discussions: checksum 0xb861.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(fold(sum16(0, &hdr)), 0xb861);
    }

    #[test]
    fn tso_segments_are_valid_tcp() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let big = tcp4(&payload, 1000, 0x19); // FIN|PSH|ACK
        let mut seg = Vec::new();
        let mut segs = Vec::new();
        let n = segment_tcp(&big, 14, 34, 54, 1448, &mut seg, |s| segs.push(s.to_vec())).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            segs.iter().map(|s| s.len() - 54).collect::<Vec<_>>(),
            [1448, 1448, 104]
        );
        let mut joined = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            let v = verify_checksums(s);
            assert!(v.ip4_ok && v.tcp_ok, "segment {i} checksums");
            assert_eq!(
                u32::from_be_bytes(s[38..42].try_into().unwrap()),
                1000 + 1448 * i as u32
            );
            assert_eq!(
                usize::from(u16::from_be_bytes([s[16], s[17]])),
                s.len() - 14
            );
            let fin_psh = s[47] & 0x09;
            assert_eq!(fin_psh != 0, i == 2, "FIN/PSH only on the last segment");
            joined.extend_from_slice(&s[54..]);
        }
        assert_eq!(joined, payload);
        assert!(segment_tcp(&big, 14, 34, 54, 0, &mut seg, |_| {}).is_none());
    }

    #[test]
    fn toeplitz_matches_the_microsoft_verification_suite() {
        let key = [
            0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
            0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
            0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
        ];
        // 66.9.149.187:2794 -> 161.142.100.80:1766
        let mut input = vec![66, 9, 149, 187, 161, 142, 100, 80];
        assert_eq!(toeplitz(&key, &input), 0x323e_8fc2);
        input.extend_from_slice(&2794u16.to_be_bytes());
        input.extend_from_slice(&1766u16.to_be_bytes());
        assert_eq!(toeplitz(&key, &input), 0x51cc_c178);
    }

    #[test]
    fn parse_handles_vlan_and_truncation() {
        let f = tcp4(b"abc", 1, 0x10);
        let mut v = f[..12].to_vec();
        v.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        v.extend_from_slice(&f[12..]);
        let h = parse(&v).unwrap();
        assert_eq!(h.l3, L3::V4 { off: 18, hlen: 20 });
        assert_eq!(h.l4, Some((IPPROTO_TCP, 38)));
        for n in 0..f.len() {
            let _ = parse(&f[..n]);
            let _ = verify_checksums(&f[..n]);
            let mut g = f[..n].to_vec();
            let _ = fill_checksums(&mut g, true, true);
        }
        assert_eq!(dst_class(&[0xff; 14]), Dst::Broadcast);
        assert_eq!(dst_class(&[0x01, 0, 0x5e, 0, 0, 1]), Dst::Multicast);
        assert_eq!(dst_class(&f), Dst::Unicast);
    }
}
