//! The vNIC control BAR as the driver sees it: register offsets, bits and
//! field layouts of `nfp_net_ctrl.h` (Linux 6.12
//! `drivers/net/ethernet/netronome/nfp/nfp_net_ctrl.h`), and the
//! configuration types the firmware reads out of it. The one home of the
//! register map: [`super::vnic`] (control plane) and [`super::rings`] (data
//! path) both read it from here and never from each other.

/// `NFP_NET_CFG_BAR_SZ` (nfp_net_ctrl.h:25): bytes reserved per vNIC BAR.
pub const NFP_NET_CFG_BAR_SZ: u64 = 32 * 1024;

/// `NFP_NET_META_FIELD_SIZE` (nfp_net_ctrl.h:43): bits per type nibble of
/// the chained RX metadata.
pub const NFP_NET_META_FIELD_SIZE: u32 = 4;
/// `NFP_NET_META_HASH` (nfp_net_ctrl.h:44): the next metadata word is the
/// RSS hash.
pub const NFP_NET_META_HASH: u32 = 1;

/// `NFP_NET_RSS_IPV4` (nfp_net_ctrl.h:63): hash type, IPv4 addresses.
pub const NFP_NET_RSS_IPV4: u8 = 1;
/// `NFP_NET_RSS_IPV6` (nfp_net_ctrl.h:64): hash type, IPv6 addresses.
pub const NFP_NET_RSS_IPV6: u8 = 2;
/// `NFP_NET_RSS_IPV4_TCP` (nfp_net_ctrl.h:66): hash type, IPv4 + TCP ports.
pub const NFP_NET_RSS_IPV4_TCP: u8 = 4;
/// `NFP_NET_RSS_IPV6_TCP` (nfp_net_ctrl.h:67): hash type, IPv6 + TCP ports.
pub const NFP_NET_RSS_IPV6_TCP: u8 = 5;
/// `NFP_NET_RSS_IPV4_UDP` (nfp_net_ctrl.h:69): hash type, IPv4 + UDP ports.
pub const NFP_NET_RSS_IPV4_UDP: u8 = 7;
/// `NFP_NET_RSS_IPV6_UDP` (nfp_net_ctrl.h:70): hash type, IPv6 + UDP ports.
pub const NFP_NET_RSS_IPV6_UDP: u8 = 8;

/// `NFP_NET_TXR_MAX` / `NFP_NET_RXR_MAX` (nfp_net_ctrl.h:77-78): rings a
/// BAR can describe.
pub const NFP_NET_RING_MAX: usize = 64;

/// `NFP_NET_CFG_CTRL` (nfp_net_ctrl.h:94): control word.
pub const NFP_NET_CFG_CTRL: u64 = 0x0000;
/// `NFP_NET_CFG_CTRL_ENABLE` (nfp_net_ctrl.h:95): the vNIC is up.
pub const NFP_NET_CFG_CTRL_ENABLE: u32 = 1 << 0;
/// `NFP_NET_CFG_CTRL_PROMISC` (nfp_net_ctrl.h:96): accept every unicast.
pub const NFP_NET_CFG_CTRL_PROMISC: u32 = 1 << 1;
/// `NFP_NET_CFG_CTRL_L2BC` (nfp_net_ctrl.h:97): accept broadcast.
pub const NFP_NET_CFG_CTRL_L2BC: u32 = 1 << 2;
/// `NFP_NET_CFG_CTRL_L2MC` (nfp_net_ctrl.h:98): accept multicast.
pub const NFP_NET_CFG_CTRL_L2MC: u32 = 1 << 3;
/// `NFP_NET_CFG_CTRL_RXCSUM` (nfp_net_ctrl.h:99): RX checksum verification.
pub const NFP_NET_CFG_CTRL_RXCSUM: u32 = 1 << 4;
/// `NFP_NET_CFG_CTRL_TXCSUM` (nfp_net_ctrl.h:100): TX checksum offload.
pub const NFP_NET_CFG_CTRL_TXCSUM: u32 = 1 << 5;
/// `NFP_NET_CFG_CTRL_GATHER` (nfp_net_ctrl.h:104): gather DMA on TX.
pub const NFP_NET_CFG_CTRL_GATHER: u32 = 1 << 9;
/// `NFP_NET_CFG_CTRL_LSO` (nfp_net_ctrl.h:105): TSO, version 1.
pub const NFP_NET_CFG_CTRL_LSO: u32 = 1 << 10;
/// `NFP_NET_CFG_CTRL_RSS` (nfp_net_ctrl.h:111): RSS, version 1.
pub const NFP_NET_CFG_CTRL_RSS: u32 = 1 << 17;
/// `NFP_NET_CFG_CTRL_IRQMOD` (nfp_net_ctrl.h:112): interrupt moderation.
pub const NFP_NET_CFG_CTRL_IRQMOD: u32 = 1 << 18;
/// `NFP_NET_CFG_CTRL_BPF` (nfp_net_ctrl.h:119): run the offloaded program.
pub const NFP_NET_CFG_CTRL_BPF: u32 = 1 << 27;
/// `NFP_NET_CFG_CTRL_RSS2` (nfp_net_ctrl.h:121): RSS with chained metadata.
pub const NFP_NET_CFG_CTRL_RSS2: u32 = 1 << 29;

/// `NFP_NET_CFG_UPDATE` (nfp_net_ctrl.h:138): what a reconfig changes.
pub const NFP_NET_CFG_UPDATE: u64 = 0x0004;
/// `NFP_NET_CFG_UPDATE_GEN` (nfp_net_ctrl.h:139): general update.
pub const NFP_NET_CFG_UPDATE_GEN: u32 = 1 << 0;
/// `NFP_NET_CFG_UPDATE_RING` (nfp_net_ctrl.h:140): ring configuration.
pub const NFP_NET_CFG_UPDATE_RING: u32 = 1 << 1;
/// `NFP_NET_CFG_UPDATE_MSIX` (nfp_net_ctrl.h:144): MSI-X entries.
pub const NFP_NET_CFG_UPDATE_MSIX: u32 = 1 << 5;
/// `NFP_NET_CFG_UPDATE_BPF` (nfp_net_ctrl.h:148): load a BPF image.
pub const NFP_NET_CFG_UPDATE_BPF: u32 = 1 << 10;
/// `NFP_NET_CFG_UPDATE_MBOX` (nfp_net_ctrl.h:150): mailbox command.
pub const NFP_NET_CFG_UPDATE_MBOX: u32 = 1 << 12;
/// `NFP_NET_CFG_UPDATE_ERR` (nfp_net_ctrl.h:153): the reconfig failed.
pub const NFP_NET_CFG_UPDATE_ERR: u32 = 1 << 31;

/// `NFP_NET_CFG_TXRS_ENABLE` (nfp_net_ctrl.h:154): bitmap of enabled TX rings.
pub const NFP_NET_CFG_TXRS_ENABLE: u64 = 0x0008;
/// `NFP_NET_CFG_RXRS_ENABLE` (nfp_net_ctrl.h:155): bitmap of enabled RX rings.
pub const NFP_NET_CFG_RXRS_ENABLE: u64 = 0x0010;
/// `NFP_NET_CFG_MTU` (nfp_net_ctrl.h:156).
pub const NFP_NET_CFG_MTU: u64 = 0x0018;
/// `NFP_NET_CFG_FLBUFSZ` (nfp_net_ctrl.h:157): freelist buffer size.
pub const NFP_NET_CFG_FLBUFSZ: u64 = 0x001c;
/// `NFP_NET_CFG_EXN` (nfp_net_ctrl.h:158): MSI-X entry for exceptions.
pub const NFP_NET_CFG_EXN: u64 = 0x001f;
/// `NFP_NET_CFG_LSC` (nfp_net_ctrl.h:159): MSI-X entry for link changes.
pub const NFP_NET_CFG_LSC: u64 = 0x0020;
/// `NFP_NET_CFG_MACADDR` (nfp_net_ctrl.h:160).
pub const NFP_NET_CFG_MACADDR: u64 = 0x0024;

/// `NFP_NET_CFG_VERSION` (nfp_net_ctrl.h:175).
pub const NFP_NET_CFG_VERSION: u64 = 0x0030;
/// `NFP_NET_CFG_STS` (nfp_net_ctrl.h:187): status word.
pub const NFP_NET_CFG_STS: u64 = 0x0034;
/// `NFP_NET_CFG_STS_LINK` (nfp_net_ctrl.h:188): link up.
pub const NFP_NET_CFG_STS_LINK: u32 = 1 << 0;
/// `NFP_NET_CFG_STS_LINK_RATE_SHIFT` (nfp_net_ctrl.h:190).
pub const NFP_NET_CFG_STS_LINK_RATE_SHIFT: u32 = 1;
/// `NFP_NET_CFG_STS_LINK_RATE_25G` (nfp_net_ctrl.h:198).
pub const NFP_NET_CFG_STS_LINK_RATE_25G: u32 = 4;
/// `NFP_NET_CFG_STS_NSP_LINK_RATE` (nfp_net_ctrl.h:205): a 16-bit word the
/// driver writes.
pub const NFP_NET_CFG_STS_NSP_LINK_RATE: u64 = 0x0036;
/// `NFP_NET_CFG_CAP` (nfp_net_ctrl.h:206): what CTRL may enable.
pub const NFP_NET_CFG_CAP: u64 = 0x0038;
/// `NFP_NET_CFG_MAX_TXRINGS` (nfp_net_ctrl.h:207).
pub const NFP_NET_CFG_MAX_TXRINGS: u64 = 0x003c;
/// `NFP_NET_CFG_MAX_RXRINGS` (nfp_net_ctrl.h:208).
pub const NFP_NET_CFG_MAX_RXRINGS: u64 = 0x0040;
/// `NFP_NET_CFG_MAX_MTU` (nfp_net_ctrl.h:209).
pub const NFP_NET_CFG_MAX_MTU: u64 = 0x0044;
/// `NFP_NET_CFG_START_TXQ` (nfp_net_ctrl.h:211): first QC queue for TX.
pub const NFP_NET_CFG_START_TXQ: u64 = 0x0048;
/// `NFP_NET_CFG_START_RXQ` (nfp_net_ctrl.h:212): first QC queue for RX.
pub const NFP_NET_CFG_START_RXQ: u64 = 0x004c;
/// `NFP_NET_CFG_RX_OFFSET` (nfp_net_ctrl.h:216): packet offset in RX buffers.
pub const NFP_NET_CFG_RX_OFFSET: u64 = 0x0050;
/// `NFP_NET_CFG_RSS_CAP` (nfp_net_ctrl.h:223): hash functions offered.
pub const NFP_NET_CFG_RSS_CAP: u64 = 0x0054;
/// The Toeplitz bit of `NFP_NET_CFG_RSS_CAP_HFUNC` (nfp_net_ctrl.h:224,
/// same bits as `NFP_NET_CFG_RSS_TOEPLITZ`, nfp_net_ctrl.h:298).
pub const NFP_NET_CFG_RSS_CAP_TOEPLITZ: u32 = 1 << 24;
/// `NFP_NET_CFG_TLV_BASE` (nfp_net_ctrl.h:229): start of the TLV area.
pub const NFP_NET_CFG_TLV_BASE: u64 = 0x0058;

/// `NFP_NET_CFG_BPF_ABI` (nfp_net_ctrl.h:249).
pub const NFP_NET_CFG_BPF_ABI: u64 = 0x0080;
/// `NFP_NET_CFG_BPF_CAP` (nfp_net_ctrl.h:250).
pub const NFP_NET_CFG_BPF_CAP: u64 = 0x0081;
/// `NFP_NET_CFG_BPF_MAX_LEN` (nfp_net_ctrl.h:252): program limit.
pub const NFP_NET_CFG_BPF_MAX_LEN: u64 = 0x0082;
/// `NFP_NET_CFG_BPF_START` (nfp_net_ctrl.h:253): load address.
pub const NFP_NET_CFG_BPF_START: u64 = 0x0084;
/// `NFP_NET_CFG_BPF_DONE` (nfp_net_ctrl.h:254): exit address.
pub const NFP_NET_CFG_BPF_DONE: u64 = 0x0086;
/// `NFP_NET_CFG_BPF_STACK_SZ` (nfp_net_ctrl.h:255): stack in 64 B chunks.
pub const NFP_NET_CFG_BPF_STACK_SZ: u64 = 0x0088;
/// `NFP_NET_CFG_BPF_INL_MTU` (nfp_net_ctrl.h:256): packet split offset.
pub const NFP_NET_CFG_BPF_INL_MTU: u64 = 0x0089;
/// `NFP_NET_CFG_BPF_SIZE` (nfp_net_ctrl.h:257): image size in instructions.
pub const NFP_NET_CFG_BPF_SIZE: u64 = 0x008e;
/// `NFP_NET_CFG_BPF_ADDR` (nfp_net_ctrl.h:258): DMA address of the image.
pub const NFP_NET_CFG_BPF_ADDR: u64 = 0x0090;
/// `NFP_NET_CFG_BPF_CFG_MASK` (nfp_net_ctrl.h:260): low bits of
/// `NFP_NET_CFG_BPF_ADDR` reserved for flags.
pub const NFP_NET_CFG_BPF_CFG_MASK: u64 = 7;
/// `NFP_NET_CFG_CTRL_WORD1` (nfp_net_ctrl.h:267): extended control word.
pub const NFP_NET_CFG_CTRL_WORD1: u64 = 0x0098;
/// `NFP_NET_CFG_CAP_WORD1` (nfp_net_ctrl.h:275): extended capabilities.
pub const NFP_NET_CFG_CAP_WORD1: u64 = 0x00a4;

/// `NFP_NET_CFG_RSS_CTRL` (nfp_net_ctrl.h:288): RSS configuration word.
pub const NFP_NET_CFG_RSS_CTRL: u64 = 0x0100;
/// `NFP_NET_CFG_RSS_MASK` (nfp_net_ctrl.h:289): indirection-table index
/// mask in `NFP_NET_CFG_RSS_CTRL`.
pub const NFP_NET_CFG_RSS_MASK: u32 = 0x7f;
/// `NFP_NET_CFG_RSS_IPV4` (nfp_net_ctrl.h:291): hash IPv4 addresses.
pub const NFP_NET_CFG_RSS_IPV4: u32 = 1 << 8;
/// `NFP_NET_CFG_RSS_IPV6` (nfp_net_ctrl.h:292): hash IPv6 addresses.
pub const NFP_NET_CFG_RSS_IPV6: u32 = 1 << 9;
/// `NFP_NET_CFG_RSS_IPV4_TCP` (nfp_net_ctrl.h:293): and TCP ports over IPv4.
pub const NFP_NET_CFG_RSS_IPV4_TCP: u32 = 1 << 10;
/// `NFP_NET_CFG_RSS_IPV4_UDP` (nfp_net_ctrl.h:294): and UDP ports over IPv4.
pub const NFP_NET_CFG_RSS_IPV4_UDP: u32 = 1 << 11;
/// `NFP_NET_CFG_RSS_IPV6_TCP` (nfp_net_ctrl.h:295): and TCP ports over IPv6.
pub const NFP_NET_CFG_RSS_IPV6_TCP: u32 = 1 << 12;
/// `NFP_NET_CFG_RSS_IPV6_UDP` (nfp_net_ctrl.h:296): and UDP ports over IPv6.
pub const NFP_NET_CFG_RSS_IPV6_UDP: u32 = 1 << 13;
/// `NFP_NET_CFG_RSS_KEY` (nfp_net_ctrl.h:302): the 40-byte Toeplitz key.
pub const NFP_NET_CFG_RSS_KEY: u64 = 0x0104;
/// `NFP_NET_CFG_RSS_KEY_SZ` (nfp_net_ctrl.h:303).
pub const NFP_NET_CFG_RSS_KEY_SZ: usize = 0x28;
/// `NFP_NET_CFG_RSS_ITBL` (nfp_net_ctrl.h:304): the indirection table.
pub const NFP_NET_CFG_RSS_ITBL: u64 = 0x012c;
/// `NFP_NET_CFG_RSS_ITBL_SZ` (nfp_net_ctrl.h:306).
pub const NFP_NET_CFG_RSS_ITBL_SZ: usize = 0x80;

/// `NFP_NET_CFG_TXR_ADDR(x)` (nfp_net_ctrl.h:318): DMA address of TX ring x.
pub const fn nfp_net_cfg_txr_addr(x: u64) -> u64 {
    0x0200 + 8 * x
}
/// `NFP_NET_CFG_TXR_SZ(x)` (nfp_net_ctrl.h:321): log2 of TX ring x's size.
pub const fn nfp_net_cfg_txr_sz(x: u64) -> u64 {
    0x0600 + x
}
/// `NFP_NET_CFG_TXR_VEC(x)` (nfp_net_ctrl.h:322): MSI-X entry of TX ring x.
pub const fn nfp_net_cfg_txr_vec(x: u64) -> u64 {
    0x0640 + x
}
/// `NFP_NET_CFG_RXR_ADDR(x)` (nfp_net_ctrl.h:336): DMA address of RX
/// (freelist) ring x.
pub const fn nfp_net_cfg_rxr_addr(x: u64) -> u64 {
    0x0800 + 8 * x
}
/// `NFP_NET_CFG_RXR_SZ(x)` (nfp_net_ctrl.h:337): log2 of RX ring x's size.
pub const fn nfp_net_cfg_rxr_sz(x: u64) -> u64 {
    0x0a00 + x
}
/// `NFP_NET_CFG_RXR_VEC(x)` (nfp_net_ctrl.h:338): MSI-X entry of RX ring x.
pub const fn nfp_net_cfg_rxr_vec(x: u64) -> u64 {
    0x0a40 + x
}

/// `NFP_NET_CFG_ICR_BASE` (nfp_net_ctrl.h:352): one interrupt cause byte
/// per MSI-X entry; non-zero masks the entry.
pub const NFP_NET_CFG_ICR_BASE: u64 = 0x0c00;
/// `NFP_NET_CFG_ICR_RXTX` (nfp_net_ctrl.h:355): cause, ring activity.
pub const NFP_NET_CFG_ICR_RXTX: u8 = 0x1;
/// `NFP_NET_CFG_ICR_LSC` (nfp_net_ctrl.h:356): cause, link state change.
pub const NFP_NET_CFG_ICR_LSC: u8 = 0x2;
/// MSI-X entries the ICR array covers (0x0c00..0x0d00).
pub const NFP_NET_ICR_ENTRIES: usize = 256;

/// `NFP_NET_CFG_STATS_BASE` (nfp_net_ctrl.h:361): the general counters.
pub const NFP_NET_CFG_STATS_BASE: u64 = 0x0d00;
/// u64 counters at `NFP_NET_CFG_STATS_BASE` (nfp_net_ctrl.h:362-389).
pub const NFP_NET_CFG_STATS_WORDS: usize = 26;

/// Word indices of the general counters: `NFP_NET_CFG_STATS_*` offsets
/// (nfp_net_ctrl.h:362-389) from the stats base, divided by 8.
pub mod stat {
    /// `NFP_NET_CFG_STATS_RX_DISCARDS`.
    pub const RX_DISCARDS: usize = 0;
    /// `NFP_NET_CFG_STATS_RX_ERRORS`.
    pub const RX_ERRORS: usize = 1;
    /// `NFP_NET_CFG_STATS_RX_OCTETS`.
    pub const RX_OCTETS: usize = 2;
    /// `NFP_NET_CFG_STATS_RX_UC_OCTETS`.
    pub const RX_UC_OCTETS: usize = 3;
    /// `NFP_NET_CFG_STATS_RX_MC_OCTETS`.
    pub const RX_MC_OCTETS: usize = 4;
    /// `NFP_NET_CFG_STATS_RX_BC_OCTETS`.
    pub const RX_BC_OCTETS: usize = 5;
    /// `NFP_NET_CFG_STATS_RX_FRAMES`.
    pub const RX_FRAMES: usize = 6;
    /// `NFP_NET_CFG_STATS_RX_MC_FRAMES`.
    pub const RX_MC_FRAMES: usize = 7;
    /// `NFP_NET_CFG_STATS_RX_BC_FRAMES`.
    pub const RX_BC_FRAMES: usize = 8;
    /// `NFP_NET_CFG_STATS_TX_DISCARDS`.
    pub const TX_DISCARDS: usize = 9;
    /// `NFP_NET_CFG_STATS_TX_ERRORS`.
    pub const TX_ERRORS: usize = 10;
    /// `NFP_NET_CFG_STATS_TX_OCTETS`.
    pub const TX_OCTETS: usize = 11;
    /// `NFP_NET_CFG_STATS_TX_UC_OCTETS`.
    pub const TX_UC_OCTETS: usize = 12;
    /// `NFP_NET_CFG_STATS_TX_MC_OCTETS`.
    pub const TX_MC_OCTETS: usize = 13;
    /// `NFP_NET_CFG_STATS_TX_BC_OCTETS`.
    pub const TX_BC_OCTETS: usize = 14;
    /// `NFP_NET_CFG_STATS_TX_FRAMES`.
    pub const TX_FRAMES: usize = 15;
    /// `NFP_NET_CFG_STATS_TX_MC_FRAMES`.
    pub const TX_MC_FRAMES: usize = 16;
    /// `NFP_NET_CFG_STATS_TX_BC_FRAMES`.
    pub const TX_BC_FRAMES: usize = 17;
    /// `NFP_NET_CFG_STATS_APP0_FRAMES`: first of 4 {frames, bytes} pairs
    /// (the BPF app's pass/drop/tx/abort counters).
    pub const APP0_FRAMES: usize = 18;
}

/// `NFP_NET_CFG_TXR_STATS_BASE` (nfp_net_ctrl.h:396): {packets, bytes}
/// per TX ring.
pub const NFP_NET_CFG_TXR_STATS_BASE: u64 = 0x1000;
/// `NFP_NET_CFG_RXR_STATS_BASE` (nfp_net_ctrl.h:399): {packets, bytes}
/// per RX ring.
pub const NFP_NET_CFG_RXR_STATS_BASE: u64 = 0x1400;

/// `NFP_NET_CFG_MBOX_BASE` (nfp_net_ctrl.h:407): the mailbox.
pub const NFP_NET_CFG_MBOX_BASE: u64 = 0x1800;
/// `NFP_NET_CFG_MBOX_SIMPLE_CMD` (nfp_net_ctrl.h:409): mailbox command.
pub const NFP_NET_CFG_MBOX_SIMPLE_CMD: u64 = 0x0;
/// `NFP_NET_CFG_MBOX_SIMPLE_RET` (nfp_net_ctrl.h:410): mailbox result.
pub const NFP_NET_CFG_MBOX_SIMPLE_RET: u64 = 0x4;

/// What a vNIC is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VnicKind {
    /// The BPF app's control vNIC (map control messages).
    Ctrl,
    /// The data vNIC of a physical port.
    Data {
        /// The port (its ETH table entry).
        port: usize,
    },
}

/// Static facts the firmware publishes in a vNIC's BAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VnicParams {
    /// Control or data vNIC.
    pub kind: VnicKind,
    /// MU address of the 32 KiB control BAR.
    pub bar: u64,
    /// `NFP_NET_CFG_START_TXQ`: QC queue of TX ring 0.
    pub start_txq: u32,
    /// `NFP_NET_CFG_START_RXQ`: QC queue of freelist 0.
    pub start_rxq: u32,
    /// `NFP_NET_CFG_MAX_TXRINGS` and `_MAX_RXRINGS`.
    pub max_rings: u32,
    /// `NFP_NET_CFG_CAP`: the CTRL bits the vNIC offers.
    pub cap: u32,
    /// BPF ABI to announce (data vNICs of the BPF app).
    pub bpf_abi: Option<u8>,
}

/// One ring's place in guest memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingCfg {
    /// `NFP_NET_CFG_TXR_ADDR` / `_RXR_ADDR`: DMA address of descriptor 0.
    pub addr: u64,
    /// log2 of the descriptor count.
    pub log2: u8,
    /// MSI-X entry.
    pub vector: u8,
}

impl RingCfg {
    /// Descriptors in the ring. A reconfig accepts at most 2^18; a larger
    /// `log2` counts as 2^31 rather than overflow.
    pub fn size(&self) -> u32 {
        1 << self.log2.min(31)
    }

    /// Guest address of descriptor `slot` of `desc_size` bytes, or `None`
    /// if it lies beyond the end of the 64-bit address space (the ring's
    /// base is the guest's choice).
    pub fn slot_addr(&self, slot: u64, desc_size: u64) -> Option<u64> {
        slot.checked_mul(desc_size)
            .and_then(|off| self.addr.checked_add(off))
    }
}

/// What the host configured at the last reconfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VnicConfig {
    /// `NFP_NET_CFG_CTRL_ENABLE`.
    pub enabled: bool,
    /// `NFP_NET_CFG_CTRL`.
    pub ctrl: u32,
    /// `NFP_NET_CFG_MTU`.
    pub mtu: u32,
    /// `NFP_NET_CFG_FLBUFSZ`: bytes per freelist buffer.
    pub flbufsz: u32,
    /// `NFP_NET_CFG_MACADDR`.
    pub mac: [u8; 6],
    /// TX rings, `None` where not enabled.
    pub tx: Vec<Option<RingCfg>>,
    /// RX (freelist) rings, `None` where not enabled.
    pub rx: Vec<Option<RingCfg>>,
    /// `NFP_NET_CFG_RSS_CTRL`.
    pub rss_ctrl: u32,
    /// `NFP_NET_CFG_RSS_KEY`.
    pub rss_key: [u8; NFP_NET_CFG_RSS_KEY_SZ],
    /// `NFP_NET_CFG_RSS_ITBL`: RX ring per hash bucket.
    pub rss_itbl: [u8; NFP_NET_CFG_RSS_ITBL_SZ],
    /// `NFP_NET_CFG_LSC`: MSI-X entry for link changes (0xff: none).
    pub lsc_vector: u8,
}

impl Default for VnicConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            ctrl: 0,
            mtu: 1500,
            flbufsz: 0,
            mac: [0; 6],
            tx: Vec::new(),
            rx: Vec::new(),
            rss_ctrl: 0,
            rss_key: [0; NFP_NET_CFG_RSS_KEY_SZ],
            rss_itbl: [0; NFP_NET_CFG_RSS_ITBL_SZ],
            lsc_vector: 0xff,
        }
    }
}
