//! NFD, the firmware's host interface: the vNIC control-BAR register map
//! ([`ctrl`]), control BARs and reconfiguration ([`vnic`]), the queue
//! controller ([`qc`]), and the NFD3 TX, freelist and RX rings in guest
//! memory with their interrupts and RSS ([`rings`], [`desc`], [`rss`]).
//!
//! Within NFD, [`vnic`] (control plane) uses [`rings`] (data path); both
//! read the register map from [`ctrl`], and neither is used by it.

pub mod ctrl;
pub mod desc;
pub mod qc;
pub mod rings;
pub mod rss;
pub mod tlv;
pub mod vnic;

use parking_lot::RwLock;
use tracing::info;

use crate::cpp::Mu;
use crate::dma::GuestMemory;
use crate::pcie::MsixVectors;
use ctrl::{
    NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_CTRL_BPF, NFP_NET_CFG_CTRL_GATHER, NFP_NET_CFG_CTRL_IRQMOD,
    NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_CTRL_L2MC, NFP_NET_CFG_CTRL_LSO, NFP_NET_CFG_CTRL_PROMISC,
    NFP_NET_CFG_CTRL_RSS2, NFP_NET_CFG_CTRL_RXCSUM, NFP_NET_CFG_CTRL_TXCSUM, VnicKind, VnicParams,
};
use qc::QueueController;
use tlv::TlvBlock;
use vnic::{NFD_MAX_DATA_RINGS, NFD_QUEUES_PER_VNIC, Vnic};

/// What a data vNIC offers: promiscuous and L2 broadcast/multicast
/// filtering, RX/TX checksum offload, gather DMA, TSO (LSO v1), RSS with
/// chained metadata (v2), interrupt moderation settings.
pub const NFD_DATA_VNIC_CAP: u32 = NFP_NET_CFG_CTRL_PROMISC
    | NFP_NET_CFG_CTRL_L2BC
    | NFP_NET_CFG_CTRL_L2MC
    | NFP_NET_CFG_CTRL_RXCSUM
    | NFP_NET_CFG_CTRL_TXCSUM
    | NFP_NET_CFG_CTRL_GATHER
    | NFP_NET_CFG_CTRL_LSO
    | NFP_NET_CFG_CTRL_RSS2
    | NFP_NET_CFG_CTRL_IRQMOD;

/// What the rings reach on the host side: guest memory, the queue
/// controller's pointers and the MSI-X vectors.
#[derive(Debug)]
pub struct Host {
    /// Guest memory, for DMA.
    pub mem: GuestMemory,
    /// The queue controller's read and write pointers.
    pub qc: QueueController,
    /// The MSI-X vectors the card raises.
    pub msix: RwLock<MsixVectors>,
}

impl Host {
    /// A host side with no guest memory mapped and `msix_vectors` vectors.
    pub fn new(msix_vectors: u16) -> Self {
        Self {
            mem: GuestMemory::default(),
            qc: QueueController::default(),
            msix: RwLock::new(MsixVectors::new(msix_vectors)),
        }
    }
}

/// MU address of the `k`-th 32 KiB BAR from `base`, if the whole BAR lies
/// below the end of the address space.
fn bar_at(base: u64, k: usize) -> Option<u64> {
    let bar = (k as u64)
        .checked_mul(NFP_NET_CFG_BAR_SZ)
        .and_then(|off| base.checked_add(off))?;
    bar.checked_add(NFP_NET_CFG_BAR_SZ).map(|_| bar)
}

/// What a doorbell asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doorbell {
    /// A reconfig was carried out.
    Reconfigured {
        /// Index of the vNIC in [`Nfd::vnics`].
        vnic: usize,
    },
    /// TX descriptors were posted.
    Tx {
        /// Index of the vNIC in [`Nfd::vnics`].
        vnic: usize,
        /// Its TX ring.
        ring: usize,
    },
    /// Freelist buffers were posted.
    Freelist {
        /// Index of the vNIC in [`Nfd::vnics`].
        vnic: usize,
        /// Its freelist.
        ring: usize,
    },
    /// Not a queue of any vNIC.
    Unknown,
}

/// Where the firmware image put the vNIC BARs, and what the app needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NfdLayout {
    /// MU address of `_pf0_net_bar0` (data vNIC k at + k * 32 KiB).
    pub data_bar: u64,
    /// Number of data vNICs (`nfd_cfg_pf0_num_ports`).
    pub num_ports: usize,
    /// MU address of `_pf0_net_ctrl_bar`, for apps with a control vNIC.
    pub ctrl_bar: Option<u64>,
    /// BPF ABI of the app (from `_abi_bpf_capabilities`), if it offloads BPF.
    pub bpf_abi: Option<u8>,
    /// The capability TLV block of each vNIC that has one, by the MU
    /// address of its BAR ([`tlv`]: what the image's NFD template holds).
    pub tlv: Vec<(u64, TlvBlock)>,
}

/// QC queues per vNIC when `vnics` vNICs share the 256 queues of the
/// NFP-4000's queue controller (`qc_idx_mask`, nfpcore/nfp_dev.c:32): 32
/// (8 rings, 4 queues each) while they fit, else the largest power of two
/// that does (9 vNICs: 16 queues, 4 rings), at least 4 (one ring).
pub fn queues_per_vnic(vnics: usize) -> u32 {
    let fit = 256 / vnics.max(1) as u32;
    let mut q = NFD_QUEUES_PER_VNIC;
    while q > 4 && q > fit {
        q /= 2;
    }
    q
}

/// The running NFD firmware.
#[derive(Clone, Debug, Default)]
pub struct Nfd {
    /// Data vNICs in port order, then the control vNIC.
    pub vnics: Vec<Vnic>,
}

impl Nfd {
    /// Start NFD: publish every vNIC's BAR. `link_up(port)` tells whether
    /// a port's cable is connected.
    pub fn start(mu: &mut Mu, layout: &NfdLayout, link_up: &dyn Fn(usize) -> bool) -> Self {
        let mut vnics = Vec::new();
        let mut data_cap = NFD_DATA_VNIC_CAP;
        if layout.bpf_abi.is_some() {
            data_cap |= NFP_NET_CFG_CTRL_BPF;
        }
        let per_vnic = queues_per_vnic(layout.num_ports + usize::from(layout.ctrl_bar.is_some()));
        for k in 0..layout.num_ports {
            let q = per_vnic * k as u32;
            // The image places the BARs; one that would wrap the address
            // space is no BAR.
            let Some(bar) = bar_at(layout.data_bar, k) else {
                crate::guest_warn!(
                    "_pf0_net_bar0 at {:#x}: BAR of vNIC {k} lies beyond the end of the address space; no vNIC",
                    layout.data_bar
                );
                break;
            };
            vnics.push(Vnic::new(
                VnicParams {
                    kind: VnicKind::Data { port: k },
                    bar,
                    start_txq: q,
                    start_rxq: q + 2,
                    max_rings: NFD_MAX_DATA_RINGS.min(per_vnic / 4),
                    cap: data_cap,
                    bpf_abi: layout.bpf_abi,
                },
                link_up(k),
            ));
        }
        let ctrl_bar = layout.ctrl_bar.filter(|&b| {
            let fits = bar_at(b, 0).is_some();
            if !fits {
                crate::guest_warn!(
                    "_pf0_net_ctrl_bar at {b:#x} lies beyond the end of the address space; no control vNIC"
                );
            }
            fits
        });
        if let Some(bar) = ctrl_bar {
            let q = per_vnic * vnics.len() as u32;
            vnics.push(Vnic::new(
                VnicParams {
                    kind: VnicKind::Ctrl,
                    bar,
                    start_txq: q,
                    start_rxq: q + 2,
                    max_rings: 1,
                    cap: 0,
                    bpf_abi: None,
                },
                true,
            ));
        }
        for v in &vnics {
            v.publish(mu);
            if let Some((_, block)) = layout.tlv.iter().find(|(bar, _)| *bar == v.params.bar) {
                block.publish(mu, v.params.bar);
            }
        }
        info!(target: "nfp_emu::nfd", vnics = vnics.len(), "NFD started");
        Self { vnics }
    }

    /// A doorbell on QC `queue`: reconfigure the vNIC whose config queue it
    /// is.
    pub fn on_doorbell(&mut self, mu: &mut Mu, host: &Host, queue: u16) -> Doorbell {
        for (i, v) in self.vnics.iter_mut().enumerate() {
            if v.cfg_queue() == u32::from(queue) {
                v.reconfig(mu, host);
                return Doorbell::Reconfigured { vnic: i };
            }
            if let Some(ring) = v.dp.tx_ring_of(queue) {
                return Doorbell::Tx { vnic: i, ring };
            }
            if let Some(ring) = v.dp.fl_ring_of(queue) {
                return Doorbell::Freelist { vnic: i, ring };
            }
        }
        Doorbell::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_plan_is_disjoint_and_below_256() {
        let mut mu = Mu::new();
        let nfd = Nfd::start(
            &mut mu,
            &NfdLayout {
                data_bar: 0x18_0080_8000,
                num_ports: 2,
                ctrl_bar: Some(0x18_0080_0000),
                bpf_abi: Some(3),
                tlv: Vec::new(),
            },
            &|_| true,
        );
        assert_eq!(nfd.vnics.len(), 3);
        let mut all = std::collections::HashSet::new();
        for v in &nfd.vnics {
            assert!(all.insert(v.cfg_queue() as u16));
            for q in v.ring_queues() {
                assert!(q < 256);
                assert!(all.insert(q), "queue {q} used twice");
            }
        }
        assert_eq!(nfd.vnics[2].params.kind, VnicKind::Ctrl);
        assert_eq!(nfd.vnics[1].params.bar, 0x18_0081_0000);
    }

    /// Eight ports and a control vNIC (Debian's bpf image for the
    /// AMDA0097 8x10) share the 256 QC queues: 16 each, 4 rings, disjoint.
    #[test]
    fn nine_vnics_share_the_queue_controller() {
        assert_eq!(queues_per_vnic(1), 32);
        assert_eq!(queues_per_vnic(8), 32);
        assert_eq!(queues_per_vnic(9), 16);
        assert_eq!(queues_per_vnic(64), 4);
        assert_eq!(queues_per_vnic(1000), 4);
        let mut mu = Mu::new();
        let nfd = Nfd::start(
            &mut mu,
            &NfdLayout {
                data_bar: 0x18_0080_8000,
                num_ports: 8,
                ctrl_bar: Some(0x18_0080_0000),
                bpf_abi: Some(2),
                tlv: Vec::new(),
            },
            &|_| true,
        );
        assert_eq!(nfd.vnics.len(), 9);
        let mut all = std::collections::HashSet::new();
        for v in &nfd.vnics {
            assert!(all.insert(v.cfg_queue() as u16));
            for q in v.ring_queues() {
                assert!(q < 256, "queue {q}");
                assert!(all.insert(q), "queue {q} used twice");
            }
        }
        assert_eq!(nfd.vnics[0].params.max_rings, 4);
        assert_eq!(nfd.vnics[8].params.max_rings, 1);
        assert_eq!(nfd.vnics[8].params.kind, VnicKind::Ctrl);
    }

    /// A vNIC's TLV block is published in its BAR with the anchor NFD
    /// writes; other vNICs get none.
    #[test]
    fn tlv_blocks_are_published_in_their_vnics_bar() {
        use crate::nfd::ctrl::NFP_NET_CFG_TLV_BASE;
        let block = TlvBlock {
            offset: 0x2200,
            bytes: [0x0003_0004u32, 800, 0x0002_0000]
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect(),
        };
        let mut mu = Mu::new();
        let nfd = Nfd::start(
            &mut mu,
            &NfdLayout {
                data_bar: 0x18_0080_8000,
                num_ports: 2,
                ctrl_bar: None,
                bpf_abi: None,
                tlv: vec![(0x18_0081_0000, block)],
            },
            &|_| true,
        );
        assert_eq!(nfd.vnics.len(), 2);
        let read = |mu: &Mu, bar: u64| {
            let mut b = vec![0u8; NFP_NET_CFG_BAR_SZ as usize];
            mu.read(bar, &mut b);
            tlv::TlvCaps::parse(&b).unwrap()
        };
        assert_eq!(read(&mu, 0x18_0081_0000).me_freq_mhz, 800);
        assert_eq!(read(&mu, 0x18_0080_8000).me_freq_mhz, 1200);
        assert_eq!(mu.read_u32(0x18_0080_8000 + NFP_NET_CFG_TLV_BASE), 0);
    }

    /// BAR addresses come from the firmware image: BARs that would wrap the
    /// address space are not created.
    #[test]
    fn bars_past_the_end_of_the_address_space_are_refused() {
        let mut mu = Mu::new();
        let nfd = Nfd::start(
            &mut mu,
            &NfdLayout {
                data_bar: u64::MAX - 2 * NFP_NET_CFG_BAR_SZ + 1,
                num_ports: 2,
                ctrl_bar: Some(u64::MAX - 0x100),
                bpf_abi: Some(3),
                tlv: Vec::new(),
            },
            &|_| true,
        );
        assert_eq!(nfd.vnics.len(), 1, "vNIC 0 fits, vNIC 1 and ctrl do not");
        assert_eq!(bar_at(u64::MAX - NFP_NET_CFG_BAR_SZ + 2, 0), None);
        assert!(bar_at(u64::MAX - NFP_NET_CFG_BAR_SZ, 0).is_some());
        assert_eq!(bar_at(0, usize::MAX), None);
        assert_eq!(bar_at(0x1000, 1), Some(0x1000 + NFP_NET_CFG_BAR_SZ));
    }
}
