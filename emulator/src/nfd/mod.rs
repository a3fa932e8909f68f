//! NFD, the firmware's host interface: vNIC control BARs, reconfiguration
//! and the queue controller; later the TX/freelist/RX rings and DMA.

pub mod qc;
pub mod vnic;

use tracing::info;

use crate::cpp::Mu;
use qc::QueueController;
use vnic::{
    NFD_MAX_DATA_RINGS, NFD_QUEUES_PER_VNIC, NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_CTRL_BPF,
    NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_CTRL_L2MC, NFP_NET_CFG_CTRL_PROMISC, Vnic, VnicKind,
    VnicParams,
};

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
}

/// The running NFD firmware.
#[derive(Clone, Debug, Default)]
pub struct Nfd {
    /// Data vNICs in port order, then the control vNIC.
    pub vnics: Vec<Vnic>,
}

impl Nfd {
    /// Start NFD: publish every vNIC's BAR.
    pub fn start(mu: &mut Mu, layout: &NfdLayout, link_up: bool) -> Self {
        let mut vnics = Vec::new();
        let mut data_cap = NFP_NET_CFG_CTRL_PROMISC | NFP_NET_CFG_CTRL_L2BC | NFP_NET_CFG_CTRL_L2MC;
        if layout.bpf_abi.is_some() {
            data_cap |= NFP_NET_CFG_CTRL_BPF;
        }
        for k in 0..layout.num_ports {
            let q = NFD_QUEUES_PER_VNIC * k as u32;
            vnics.push(Vnic::new(VnicParams {
                kind: VnicKind::Data { port: k },
                bar: layout.data_bar + k as u64 * NFP_NET_CFG_BAR_SZ,
                start_txq: q,
                start_rxq: q + 2,
                max_rings: NFD_MAX_DATA_RINGS,
                cap: data_cap,
                bpf_abi: layout.bpf_abi,
            }));
        }
        if let Some(bar) = layout.ctrl_bar {
            let q = NFD_QUEUES_PER_VNIC * layout.num_ports as u32;
            vnics.push(Vnic::new(VnicParams {
                kind: VnicKind::Ctrl,
                bar,
                start_txq: q,
                start_rxq: q + 2,
                max_rings: 1,
                cap: 0,
                bpf_abi: None,
            }));
        }
        for v in &mut vnics {
            v.publish(mu, link_up);
        }
        info!(target: "nfp_emu::nfd", vnics = vnics.len(), "NFD started");
        Self { vnics }
    }

    /// A doorbell on QC `queue`: reconfigure the vNIC whose config queue it
    /// is.
    pub fn on_doorbell(&mut self, mu: &mut Mu, qc: &mut QueueController, queue: u16) {
        if let Some(v) = self
            .vnics
            .iter_mut()
            .find(|v| v.cfg_queue() == u32::from(queue))
        {
            v.reconfig(mu, qc);
        }
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
            },
            true,
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
}
