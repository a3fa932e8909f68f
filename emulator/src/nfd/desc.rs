//! NFD3 descriptor formats (nfd3/nfd3.h:10-51, nfp_net.h:194-251).

/// Bytes per TX descriptor.
pub const NFD3_TX_DESC_SIZE: u64 = 16;
/// Bytes per freelist/RX descriptor.
pub const NFD3_RX_DESC_SIZE: u64 = 8;

/// `NFD3_DESC_TX_EOP` (nfd3/nfd3.h:12): last descriptor of a packet.
pub const NFD3_DESC_TX_EOP: u8 = 1 << 7;
/// `NFD3_DESC_TX_OFFSET_MASK` (nfd3/nfd3.h:13): metadata bytes before the
/// packet in its first buffer.
pub const NFD3_DESC_TX_OFFSET_MASK: u8 = 0x7f;
/// `NFD3_DESC_TX_MSS_MASK` (nfd3/nfd3.h:14).
pub const NFD3_DESC_TX_MSS_MASK: u16 = 0x3fff;
/// `NFD3_DESC_TX_CSUM` (nfd3/nfd3.h:17): checksum offload requested.
pub const NFD3_DESC_TX_CSUM: u8 = 1 << 7;
/// `NFD3_DESC_TX_IP4_CSUM` (nfd3/nfd3.h:18): fill the IPv4 header checksum.
pub const NFD3_DESC_TX_IP4_CSUM: u8 = 1 << 6;
/// `NFD3_DESC_TX_TCP_CSUM` (nfd3/nfd3.h:19): fill the TCP checksum.
pub const NFD3_DESC_TX_TCP_CSUM: u8 = 1 << 5;
/// `NFD3_DESC_TX_UDP_CSUM` (nfd3/nfd3.h:20): fill the UDP checksum.
pub const NFD3_DESC_TX_UDP_CSUM: u8 = 1 << 4;
/// `NFD3_DESC_TX_VLAN` (nfd3/nfd3.h:21): insert the VLAN tag.
pub const NFD3_DESC_TX_VLAN: u8 = 1 << 3;
/// `NFD3_DESC_TX_LSO` (nfd3/nfd3.h:22): segment (TSO).
pub const NFD3_DESC_TX_LSO: u8 = 1 << 2;
/// `NFD3_DESC_TX_ENCAP` (nfd3/nfd3.h:23): encapsulated packet.
pub const NFD3_DESC_TX_ENCAP: u8 = 1 << 1;

/// `PCIE_DESC_RX_DD` (nfp_net.h:196): the descriptor is done.
pub const PCIE_DESC_RX_DD: u8 = 1 << 7;
/// `PCIE_DESC_RX_META_LEN_MASK` (nfp_net.h:197): prepended metadata bytes.
pub const PCIE_DESC_RX_META_LEN_MASK: u8 = 0x7f;
/// `PCIE_DESC_RX_RSS` (nfp_net.h:200): the RSS hash is valid.
pub const PCIE_DESC_RX_RSS: u16 = 1 << 15;
/// `PCIE_DESC_RX_EOP` (nfp_net.h:208): last buffer of the packet.
pub const PCIE_DESC_RX_EOP: u16 = 1 << 7;
/// `PCIE_DESC_RX_IP4_CSUM` (nfp_net.h:209): IPv4 header checksum checked.
pub const PCIE_DESC_RX_IP4_CSUM: u16 = 1 << 6;
/// `PCIE_DESC_RX_IP4_CSUM_OK` (nfp_net.h:210): and correct.
pub const PCIE_DESC_RX_IP4_CSUM_OK: u16 = 1 << 5;
/// `PCIE_DESC_RX_TCP_CSUM` (nfp_net.h:211): TCP checksum checked.
pub const PCIE_DESC_RX_TCP_CSUM: u16 = 1 << 4;
/// `PCIE_DESC_RX_TCP_CSUM_OK` (nfp_net.h:212): and correct.
pub const PCIE_DESC_RX_TCP_CSUM_OK: u16 = 1 << 3;
/// `PCIE_DESC_RX_UDP_CSUM` (nfp_net.h:213): UDP checksum checked.
pub const PCIE_DESC_RX_UDP_CSUM: u16 = 1 << 2;
/// `PCIE_DESC_RX_UDP_CSUM_OK` (nfp_net.h:214): and correct.
pub const PCIE_DESC_RX_UDP_CSUM_OK: u16 = 1 << 1;

/// A host TX descriptor (`struct nfp_nfd3_tx_desc`, nfd3/nfd3.h:26-51).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxDesc {
    /// 40-bit buffer address.
    pub addr: u64,
    /// Bytes to DMA from the buffer.
    pub dma_len: u16,
    /// Last descriptor of the packet.
    pub eop: bool,
    /// Metadata bytes prepended to the packet in its first buffer.
    pub md_bytes: u8,
    /// MSS for LSO.
    pub mss: u16,
    /// LSO: offset of the TCP payload.
    pub lso_hdrlen: u8,
    /// `NFD3_DESC_TX_*` flags.
    pub flags: u8,
    /// Offset of the L3 header.
    pub l3_offset: u8,
    /// Offset of the L4 header.
    pub l4_offset: u8,
    /// Packet length including metadata (the head descriptor's).
    pub data_len: u16,
}

impl TxDesc {
    /// Decode the 16 bytes the driver wrote.
    pub fn parse(b: &[u8; 16]) -> Self {
        let le16 = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        Self {
            addr: u64::from(b[0]) << 32 | u64::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]])),
            dma_len: le16(1),
            eop: b[3] & NFD3_DESC_TX_EOP != 0,
            md_bytes: b[3] & NFD3_DESC_TX_OFFSET_MASK,
            mss: le16(8) & NFD3_DESC_TX_MSS_MASK,
            lso_hdrlen: b[10],
            flags: b[11],
            l3_offset: b[12],
            l4_offset: b[13],
            data_len: le16(14),
        }
    }

    /// The driver's layout, for tests and tools.
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0] = (self.addr >> 32) as u8;
        b[1..3].copy_from_slice(&self.dma_len.to_le_bytes());
        b[3] =
            self.md_bytes & NFD3_DESC_TX_OFFSET_MASK | if self.eop { NFD3_DESC_TX_EOP } else { 0 };
        b[4..8].copy_from_slice(&(self.addr as u32).to_le_bytes());
        b[8..10].copy_from_slice(&self.mss.to_le_bytes());
        b[10] = self.lso_hdrlen;
        b[11] = self.flags;
        b[12] = self.l3_offset;
        b[13] = self.l4_offset;
        b[14..16].copy_from_slice(&self.data_len.to_le_bytes());
        b
    }
}

/// Buffer address of a freelist descriptor (48 bits: le16 hi, le32 lo).
pub fn fl_addr(b: &[u8; 8]) -> u64 {
    u64::from(u16::from_le_bytes([b[0], b[1]])) << 32
        | u64::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]]))
}

/// Encode a freelist descriptor (the driver's side, for tests).
pub fn fl_desc(addr: u64) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[0..2].copy_from_slice(&((addr >> 32) as u16).to_le_bytes());
    b[4..8].copy_from_slice(&(addr as u32).to_le_bytes());
    b
}

/// An RX descriptor as one little-endian u64, DD set: `le16 data_len,
/// u8 reserved, u8 meta_len_dd, le16 flags, le16 vlan`.
pub fn rx_desc(data_len: u16, meta_len: u8, flags: u16, vlan: u16) -> u64 {
    u64::from(data_len)
        | u64::from(PCIE_DESC_RX_DD | (meta_len & PCIE_DESC_RX_META_LEN_MASK)) << 24
        | u64::from(flags) << 32
        | u64::from(vlan) << 48
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tx_descriptor_round_trip_and_layout() {
        let d = TxDesc {
            addr: 0xab_1234_5678,
            dma_len: 1514,
            eop: true,
            md_bytes: 8,
            mss: 1448,
            lso_hdrlen: 54,
            flags: NFD3_DESC_TX_CSUM | NFD3_DESC_TX_LSO,
            l3_offset: 14,
            l4_offset: 34,
            data_len: 1522,
        };
        let b = d.encode();
        assert_eq!(b[0], 0xab, "dma_addr_hi");
        assert_eq!(b[3], 0x88, "EOP | 8 bytes of metadata");
        assert_eq!(&b[4..8], &0x1234_5678u32.to_le_bytes());
        assert_eq!(TxDesc::parse(&b), d);
    }

    #[test]
    fn freelist_and_rx_descriptors() {
        let b = fl_desc(0xbeef_1234_5678);
        assert_eq!(fl_addr(&b), 0xbeef_1234_5678);
        let rx = rx_desc(1514, 8, PCIE_DESC_RX_RSS, 0).to_le_bytes();
        assert_eq!(u16::from_le_bytes([rx[0], rx[1]]), 1514);
        assert_eq!(rx[2], 0);
        assert_eq!(rx[3], PCIE_DESC_RX_DD | 8);
        assert_eq!(u16::from_le_bytes([rx[4], rx[5]]), PCIE_DESC_RX_RSS);
    }
}
