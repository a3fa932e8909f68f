//! One vNIC's 32 KiB control BAR (nfp_net_ctrl.h) as the NFD firmware keeps
//! it in MU memory, and the reconfiguration handshake (probe.md §8).

use tracing::{debug, info, warn};

use super::qc::QueueController;
use crate::cpp::Mu;

/// `NFP_NET_CFG_BAR_SZ` (nfp_net_ctrl.h:25).
pub const NFP_NET_CFG_BAR_SZ: u64 = 32 * 1024;

// Control BAR offsets (nfp_net_ctrl.h).
pub const NFP_NET_CFG_CTRL: u64 = 0x0000;
pub const NFP_NET_CFG_UPDATE: u64 = 0x0004;
pub const NFP_NET_CFG_TXRS_ENABLE: u64 = 0x0008;
pub const NFP_NET_CFG_RXRS_ENABLE: u64 = 0x0010;
pub const NFP_NET_CFG_MTU: u64 = 0x0018;
pub const NFP_NET_CFG_FLBUFSZ: u64 = 0x001c;
pub const NFP_NET_CFG_EXN: u64 = 0x001f;
pub const NFP_NET_CFG_LSC: u64 = 0x0020;
pub const NFP_NET_CFG_MACADDR: u64 = 0x0024;
pub const NFP_NET_CFG_VERSION: u64 = 0x0030;
pub const NFP_NET_CFG_STS: u64 = 0x0034;
pub const NFP_NET_CFG_CAP: u64 = 0x0038;
pub const NFP_NET_CFG_MAX_TXRINGS: u64 = 0x003c;
pub const NFP_NET_CFG_MAX_RXRINGS: u64 = 0x0040;
pub const NFP_NET_CFG_MAX_MTU: u64 = 0x0044;
pub const NFP_NET_CFG_START_TXQ: u64 = 0x0048;
pub const NFP_NET_CFG_START_RXQ: u64 = 0x004c;
pub const NFP_NET_CFG_RX_OFFSET: u64 = 0x0050;
pub const NFP_NET_CFG_TLV_BASE: u64 = 0x0058;
pub const NFP_NET_CFG_BPF_ABI: u64 = 0x0080;
pub const NFP_NET_CFG_BPF_CAP: u64 = 0x0081;
pub const NFP_NET_CFG_BPF_MAX_LEN: u64 = 0x0082;
pub const NFP_NET_CFG_BPF_START: u64 = 0x0084;
pub const NFP_NET_CFG_BPF_DONE: u64 = 0x0086;
pub const NFP_NET_CFG_BPF_STACK_SZ: u64 = 0x0088;
pub const NFP_NET_CFG_BPF_INL_MTU: u64 = 0x0089;
pub const NFP_NET_CFG_CTRL_WORD1: u64 = 0x0098;
pub const NFP_NET_CFG_CAP_WORD1: u64 = 0x00a4;
pub const NFP_NET_CFG_ICR_BASE: u64 = 0x0c00;
pub const NFP_NET_CFG_MBOX_BASE: u64 = 0x1800;
pub const NFP_NET_CFG_MBOX_SIMPLE_CMD: u64 = 0x0;
pub const NFP_NET_CFG_MBOX_SIMPLE_RET: u64 = 0x4;

// CTRL/CAP bits (nfp_net_ctrl.h:94-123).
pub const NFP_NET_CFG_CTRL_ENABLE: u32 = 1 << 0;
pub const NFP_NET_CFG_CTRL_PROMISC: u32 = 1 << 1;
pub const NFP_NET_CFG_CTRL_L2BC: u32 = 1 << 2;
pub const NFP_NET_CFG_CTRL_L2MC: u32 = 1 << 3;
pub const NFP_NET_CFG_CTRL_BPF: u32 = 1 << 27;

// UPDATE bits (nfp_net_ctrl.h:138-153).
pub const NFP_NET_CFG_UPDATE_GEN: u32 = 1 << 0;
pub const NFP_NET_CFG_UPDATE_RING: u32 = 1 << 1;
pub const NFP_NET_CFG_UPDATE_MSIX: u32 = 1 << 5;
pub const NFP_NET_CFG_UPDATE_BPF: u32 = 1 << 10;
pub const NFP_NET_CFG_UPDATE_MBOX: u32 = 1 << 12;
pub const NFP_NET_CFG_UPDATE_ERR: u32 = 1 << 31;

/// `NFP_NET_CFG_STS_LINK` and the 25G link-rate code (nfp_net_ctrl.h:187-201).
pub const NFP_NET_CFG_STS_LINK: u32 = 1 << 0;
pub const NFP_NET_CFG_STS_LINK_RATE_SHIFT: u32 = 1;
pub const NFP_NET_CFG_STS_LINK_RATE_25G: u32 = 4;

/// VERSION 0.0.5.0: NFD3 datapath, class 0 (generic), ABI 5 [choice,
/// probe.md §8.2].
pub const NFD_CFG_VERSION: u32 = 0x0000_0500;
/// MTU limit of the firmware (probe.md §8.8).
pub const NFD_MAX_MTU: u32 = 9216;
pub const NFD_DEFAULT_MTU: u32 = 1500;
/// Rings per data vNIC.
pub const NFD_MAX_DATA_RINGS: u32 = 8;
/// Queue-controller plan: a data vNIC k uses TX queues 32k + 4i, its
/// config queue 32k + 1 and freelists 32k + 2 + 4i; the control vNIC sits
/// after the last data vNIC (probe.md §8.7).
pub const NFD_QUEUES_PER_VNIC: u32 = 32;

// BPF offload parameters of the firmware (bpf.md §2.6, §3.3).
/// `NFP_NET_BPF_CAP_RELO`: programs can be replaced live.
pub const NFD_BPF_CAP_RELO: u8 = 1;
/// Code-store address of the first program instruction.
pub const NFD_BPF_START: u16 = 3072;
/// Program length limit in instructions.
pub const NFD_BPF_MAX_LEN: u16 = 4096;
/// Address a program jumps to when done.
pub const NFD_BPF_DONE: u16 = 1;
/// Stack: 8 x 64 B = 512 B per context.
pub const NFD_BPF_STACK_SZ: u8 = 8;
/// Packet bytes in CTM: 255 x 64 - 32 = 16288 B (covers the max MTU).
pub const NFD_BPF_INL_MTU: u8 = 0xff;

const EOPNOTSUPP: u32 = 95;

/// What a vNIC is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VnicKind {
    /// The BPF app's control vNIC (map control messages).
    Ctrl,
    /// The data vNIC of physical port `port` (its ETH table entry).
    Data { port: usize },
}

/// Static facts the firmware publishes in a vNIC's BAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VnicParams {
    pub kind: VnicKind,
    /// MU address of the 32 KiB control BAR.
    pub bar: u64,
    pub start_txq: u32,
    pub start_rxq: u32,
    pub max_rings: u32,
    pub cap: u32,
    /// BPF ABI to announce (data vNICs of the BPF app).
    pub bpf_abi: Option<u8>,
}

/// Run-time state of a vNIC.
#[derive(Clone, Debug)]
pub struct Vnic {
    pub params: VnicParams,
    pub ctrl: u32,
    pub enabled: bool,
    pub mtu: u32,
    pub tx_rings_enabled: u64,
    pub rx_rings_enabled: u64,
    pub link_up: bool,
    pub reconfigs: u64,
    pub reconfig_errors: u64,
}

impl Vnic {
    pub fn new(params: VnicParams) -> Self {
        Self {
            params,
            ctrl: 0,
            enabled: false,
            mtu: NFD_DEFAULT_MTU,
            tx_rings_enabled: 0,
            rx_rings_enabled: 0,
            link_up: false,
            reconfigs: 0,
            reconfig_errors: 0,
        }
    }

    pub fn name(&self) -> String {
        match self.params.kind {
            VnicKind::Ctrl => "ctrl vNIC".into(),
            VnicKind::Data { port } => format!("vNIC {port}"),
        }
    }

    fn reg(&self, off: u64) -> u64 {
        self.params.bar + off
    }

    /// Fill the BAR with what the firmware publishes at start.
    pub fn publish(&mut self, mu: &mut Mu, link_up: bool) {
        mu.zero(self.params.bar, NFP_NET_CFG_BAR_SZ);
        let p = &self.params;
        mu.write_u32(self.reg(NFP_NET_CFG_VERSION), NFD_CFG_VERSION);
        mu.write_u32(self.reg(NFP_NET_CFG_CAP), p.cap);
        mu.write_u32(self.reg(NFP_NET_CFG_MAX_TXRINGS), p.max_rings);
        mu.write_u32(self.reg(NFP_NET_CFG_MAX_RXRINGS), p.max_rings);
        mu.write_u32(self.reg(NFP_NET_CFG_MAX_MTU), NFD_MAX_MTU);
        mu.write_u32(self.reg(NFP_NET_CFG_MTU), NFD_DEFAULT_MTU);
        mu.write_u32(self.reg(NFP_NET_CFG_START_TXQ), p.start_txq);
        mu.write_u32(self.reg(NFP_NET_CFG_START_RXQ), p.start_rxq);
        mu.write_u32(self.reg(NFP_NET_CFG_RX_OFFSET), 0);
        mu.write_u32(self.reg(NFP_NET_CFG_TLV_BASE), 0);
        if let Some(abi) = p.bpf_abi {
            mu.write(self.reg(NFP_NET_CFG_BPF_ABI), &[abi, NFD_BPF_CAP_RELO]);
            mu.write(
                self.reg(NFP_NET_CFG_BPF_MAX_LEN),
                &NFD_BPF_MAX_LEN.to_le_bytes(),
            );
            mu.write(
                self.reg(NFP_NET_CFG_BPF_START),
                &NFD_BPF_START.to_le_bytes(),
            );
            mu.write(self.reg(NFP_NET_CFG_BPF_DONE), &NFD_BPF_DONE.to_le_bytes());
            mu.write(
                self.reg(NFP_NET_CFG_BPF_STACK_SZ),
                &[NFD_BPF_STACK_SZ, NFD_BPF_INL_MTU],
            );
        }
        self.set_link(mu, link_up);
    }

    /// Update STS with the link state (25G when up).
    pub fn set_link(&mut self, mu: &mut Mu, up: bool) {
        self.link_up = up;
        let sts = if self.params.kind == VnicKind::Ctrl || !up {
            0
        } else {
            NFP_NET_CFG_STS_LINK | NFP_NET_CFG_STS_LINK_RATE_25G << NFP_NET_CFG_STS_LINK_RATE_SHIFT
        };
        mu.write_u32(self.reg(NFP_NET_CFG_STS), sts);
    }

    /// The QC queue whose doorbell asks for a reconfig: START_TXQ + 1
    /// (nfp_net_common.c:2891-2892).
    pub fn cfg_queue(&self) -> u32 {
        self.params.start_txq + 1
    }

    /// TX queues (`START_TXQ + 4i`) and freelist queues (`START_RXQ + 4i`).
    pub fn ring_queues(&self) -> impl Iterator<Item = u16> + '_ {
        (0..self.params.max_rings).flat_map(move |i| {
            [self.params.start_txq + 4 * i, self.params.start_rxq + 4 * i].map(|q| q as u16)
        })
    }

    /// Carry out the reconfig the driver requested in UPDATE, then clear
    /// UPDATE (or set UPDATE_ERR) before the doorbell write completes.
    pub fn reconfig(&mut self, mu: &mut Mu, qc: &mut QueueController) {
        let update = mu.read_u32(self.reg(NFP_NET_CFG_UPDATE));
        let ctrl = mu.read_u32(self.reg(NFP_NET_CFG_CTRL));
        self.reconfigs += 1;
        let mut err: Option<String> = None;

        let unsupported = ctrl & !(self.params.cap | NFP_NET_CFG_CTRL_ENABLE);
        if unsupported != 0 {
            err = Some(format!(
                "CTRL {ctrl:#010x} enables {unsupported:#x}, which CAP does not offer"
            ));
        }
        if update & NFP_NET_CFG_UPDATE_BPF != 0 && err.is_none() {
            err =
                Some("BPF program load (UPDATE_BPF) is not supported by this firmware yet".into());
        }
        if err.is_none() {
            let enable = ctrl & NFP_NET_CFG_CTRL_ENABLE != 0;
            if enable != self.enabled {
                // Ring pointers restart from zero on enable and disable.
                let queues: Vec<u16> = self.ring_queues().collect();
                for q in queues {
                    qc.reset_queue(q);
                }
                info!(
                    target: "nfp_emu::nfd",
                    "{} {}",
                    self.name(),
                    if enable { "enabled" } else { "disabled" }
                );
            }
            self.enabled = enable;
            self.ctrl = ctrl;
            self.mtu = mu.read_u32(self.reg(NFP_NET_CFG_MTU));
            self.tx_rings_enabled = mu.read_u64(self.reg(NFP_NET_CFG_TXRS_ENABLE));
            self.rx_rings_enabled = mu.read_u64(self.reg(NFP_NET_CFG_RXRS_ENABLE));
            if update & NFP_NET_CFG_UPDATE_MBOX != 0 {
                let mbox = self.reg(NFP_NET_CFG_MBOX_BASE);
                let cmd = mu.read_u32(mbox + NFP_NET_CFG_MBOX_SIMPLE_CMD);
                warn!(target: "nfp_emu::nfd", "{}: mailbox command {cmd} not supported", self.name());
                mu.write_u32(mbox + NFP_NET_CFG_MBOX_SIMPLE_RET, EOPNOTSUPP);
            }
        }
        let answer = match &err {
            None => {
                debug!(target: "nfp_emu::nfd", update, ctrl, "{} reconfig done", self.name());
                0
            }
            Some(why) => {
                self.reconfig_errors += 1;
                warn!(target: "nfp_emu::nfd", update, ctrl, "{} reconfig refused: {why}", self.name());
                update | NFP_NET_CFG_UPDATE_ERR
            }
        };
        mu.write_u32(self.reg(NFP_NET_CFG_UPDATE), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nfd::qc::{NFP_QCP_QUEUE_ADD_WPTR, NFP_QCP_QUEUE_ADDR_SZ};

    fn data_vnic() -> Vnic {
        Vnic::new(VnicParams {
            kind: VnicKind::Data { port: 0 },
            bar: 0x18_0080_8000,
            start_txq: 0,
            start_rxq: 2,
            max_rings: 8,
            cap: NFP_NET_CFG_CTRL_PROMISC
                | NFP_NET_CFG_CTRL_L2BC
                | NFP_NET_CFG_CTRL_L2MC
                | NFP_NET_CFG_CTRL_BPF,
            bpf_abi: Some(3),
        })
    }

    #[test]
    fn published_fields() {
        let mut mu = Mu::new();
        let mut v = data_vnic();
        v.publish(&mut mu, true);
        let b = v.params.bar;
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_VERSION), 0x500);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_CAP), 0x0800_000e);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_STS), 0x9);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_START_RXQ), 2);
        let mut abi = [0u8; 2];
        mu.read(b + NFP_NET_CFG_BPF_ABI, &mut abi);
        assert_eq!(abi, [3, 1]);
        assert_eq!(v.cfg_queue(), 1);
    }

    #[test]
    fn reconfig_acks_and_resets_ring_pointers_on_enable() {
        let mut mu = Mu::new();
        let mut qc = QueueController::default();
        let mut v = data_vnic();
        v.publish(&mut mu, true);
        let b = v.params.bar;
        qc.write(
            4 * NFP_QCP_QUEUE_ADDR_SZ + NFP_QCP_QUEUE_ADD_WPTR,
            &7u32.to_le_bytes(),
        );
        mu.write_u32(
            b + NFP_NET_CFG_CTRL,
            NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_L2BC,
        );
        mu.write_u32(b + NFP_NET_CFG_MTU, 9000);
        mu.write_u32(
            b + NFP_NET_CFG_UPDATE,
            NFP_NET_CFG_UPDATE_GEN | NFP_NET_CFG_UPDATE_RING | NFP_NET_CFG_UPDATE_MSIX,
        );
        v.reconfig(&mut mu, &mut qc);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_UPDATE), 0);
        assert!(v.enabled);
        assert_eq!(v.mtu, 9000);
        assert_eq!(qc.wptr(4), 0, "TX queue 1 pointer reset");
    }

    #[test]
    fn reconfig_refuses_features_not_in_cap() {
        let mut mu = Mu::new();
        let mut qc = QueueController::default();
        let mut v = data_vnic();
        v.publish(&mut mu, true);
        let b = v.params.bar;
        mu.write_u32(b + NFP_NET_CFG_CTRL, NFP_NET_CFG_CTRL_ENABLE | (1 << 17)); // RSS
        mu.write_u32(b + NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_GEN);
        v.reconfig(&mut mu, &mut qc);
        assert_eq!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE),
            NFP_NET_CFG_UPDATE_GEN | NFP_NET_CFG_UPDATE_ERR
        );
        assert!(!v.enabled);
        assert_eq!(v.reconfig_errors, 1);
    }
}
