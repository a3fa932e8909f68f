//! One vNIC's 32 KiB control BAR as the NFD firmware keeps it in MU memory,
//! and the reconfiguration handshake (nfp_net_common.c `nfp_net_reconfig`):
//! what the firmware publishes, and what it does when the driver rings the
//! vNIC's config queue. The register map itself is [`super::ctrl`].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tracing::{debug, info};

use super::Host;
use super::ctrl::*;
use super::rings::VnicDp;
use crate::cpp::Mu;
use crate::dma::DmaError;
use crate::fp::exec::{LoadError, Program};

/// Re-exported for the firmware loader, which sizes the BAR area with it.
pub use super::ctrl::NFP_NET_CFG_BAR_SZ;

/// Largest ring the queue controller can address: 2^18 descriptors
/// (`max_qc_size`, nfpcore/nfp_dev.c:35).
pub const NFD_RING_LOG2_MAX: u8 = 18;

/// VERSION 0.0.5.0: NFD3 datapath, class 0 (generic), ABI 5 [choice,
/// docs/nfd.md#version].
pub const NFD_CFG_VERSION: u32 = 0x0000_0500;
/// MTU limit of the firmware (docs/nfd.md#control-bar-layout).
pub const NFD_MAX_MTU: u32 = 9216;
/// MTU the firmware publishes before the driver sets one.
pub const NFD_DEFAULT_MTU: u32 = 1500;
/// Rings per data vNIC.
pub const NFD_MAX_DATA_RINGS: u32 = 8;
/// Queue-controller plan: a data vNIC k uses TX queues 32k + 4i, its
/// config queue 32k + 1 and freelists 32k + 2 + 4i; the control vNIC sits
/// after the last data vNIC (docs/nfd.md#queue-controller).
pub const NFD_QUEUES_PER_VNIC: u32 = 32;

// BPF offload parameters of the firmware (docs/bpf-offload.md#the-bpf-block-of-the-vnic-bar,
// docs/bpf-offload.md#capabilities).
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
/// `NFP_NET_CFG_BPF_INL_MTU`, the packet split offset in 64 B chunks: 30,
/// the CTM buffer size / 64 that NFD writes for every BPF-capable vNIC
/// (Netronome/nfd `me/blocks/vnic/shared/nfd_cfg_internal.c:609-611`,
/// `30 << 8 /* CTM buf size / 64 */`). The driver reads it as
/// 30 x 64 - 32 = 1888 packet bytes a program may reach at any MTU
/// (`nfp_bpf_offload_check_mtu`, bpf/offload.c:485-494;
/// docs/bpf-offload.md#the-bpf-block-of-the-vnic-bar).
pub const NFD_BPF_INL_MTU: u8 = 30;

const EOPNOTSUPP: u32 = 95;

/// Which rings a ring-configuration error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingDir {
    /// The TX rings (`NFP_NET_CFG_TXR_*`).
    Tx,
    /// The RX (freelist) rings (`NFP_NET_CFG_RXR_*`).
    Rx,
}

impl std::fmt::Display for RingDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RingDir::Tx => "TX",
            RingDir::Rx => "RX",
        })
    }
}

/// Why a reconfig was refused (the driver sees `NFP_NET_CFG_UPDATE_ERR`).
#[derive(Debug, thiserror::Error)]
pub enum ReconfigError {
    /// CTRL enables features CAP does not offer.
    #[error("CTRL {ctrl:#010x} enables {unsupported:#x}, which CAP does not offer")]
    Unsupported {
        /// The CTRL word written.
        ctrl: u32,
        /// Its bits outside CAP.
        unsupported: u32,
    },
    /// An MTU the firmware cannot carry.
    #[error("MTU {0} outside 68..={NFD_MAX_MTU}")]
    Mtu(u32),
    /// Rings enabled beyond `NFP_NET_CFG_MAX_*RINGS`.
    #[error("{dir} ring enable bitmap {bitmap:#x} beyond the {max} rings offered")]
    RingEnable {
        /// TX or RX.
        dir: RingDir,
        /// `NFP_NET_CFG_*RS_ENABLE` as written.
        bitmap: u64,
        /// Rings offered.
        max: u32,
    },
    /// An enabled ring without an address or with a size out of range.
    #[error("{dir} ring {ring}: address {addr:#x} / size 2^{log2} invalid")]
    Ring {
        /// TX or RX.
        dir: RingDir,
        /// The ring.
        ring: u64,
        /// Its `NFP_NET_CFG_*R_ADDR`.
        addr: u64,
        /// Its `NFP_NET_CFG_*R_SZ`.
        log2: u8,
    },
    /// `UPDATE_BPF` on a vNIC that offers no BPF offload.
    #[error("UPDATE_BPF on a vNIC without BPF offload")]
    NoBpf,
    /// `NFP_NET_CFG_BPF_SIZE` empty or beyond the code store.
    #[error("NFP_NET_CFG_BPF_SIZE {0} outside 1..={NFD_BPF_MAX_LEN} instructions")]
    BpfSize(u16),
    /// The BPF image could not be read from guest memory.
    #[error("NFP_NET_CFG_BPF_ADDR {addr:#x}: DMA of the {len}-byte BPF image failed: {source}")]
    BpfDma {
        /// `NFP_NET_CFG_BPF_ADDR`, flags masked off.
        addr: u64,
        /// Bytes of the image.
        len: usize,
        /// The failed access.
        source: DmaError,
    },
    /// The BPF image does not load (ECC, length).
    #[error("BPF image at {addr:#x} refused: {reason}")]
    BpfImage {
        /// `NFP_NET_CFG_BPF_ADDR`, flags masked off.
        addr: u64,
        /// What the loader found.
        reason: LoadError,
    },
}

/// Control-plane state of a vNIC; its rings live in [`VnicDp`].
#[derive(Clone, Debug)]
pub struct Vnic {
    /// What the firmware publishes for this vNIC.
    pub params: VnicParams,
    /// Its rings, interrupts and counters, shared with the datapath.
    pub dp: Arc<VnicDp>,
}

impl Vnic {
    /// A vNIC with `params` whose port's link is `link_up`.
    pub fn new(params: VnicParams, link_up: bool) -> Self {
        Self {
            dp: Arc::new(VnicDp::new(params.clone(), link_up)),
            params,
        }
    }

    /// Reconfigs refused so far (counted in the data path's counters,
    /// `vnicN.reconfig_errors`).
    pub fn reconfig_errors(&self) -> u64 {
        self.dp.stats.reconfig_errors.load(Ordering::Relaxed)
    }

    /// Whether the last reconfig enabled it.
    pub fn enabled(&self) -> bool {
        self.dp.config().enabled
    }

    /// "vNIC N" or "ctrl vNIC", for log lines.
    pub fn name(&self) -> String {
        self.dp.name()
    }

    /// MU address of BAR register `off`. [`super::Nfd::start`] only places
    /// BARs that end below 2^64; saturating keeps any other at the top of
    /// the address space rather than wrapping onto other memory.
    fn reg(&self, off: u64) -> u64 {
        self.params.bar.saturating_add(off)
    }

    /// Fill the BAR with what the firmware publishes at start.
    pub fn publish(&self, mu: &mut Mu) {
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
        mu.write_u32(self.reg(NFP_NET_CFG_RSS_CAP), NFP_NET_CFG_RSS_CAP_TOEPLITZ);
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

    /// Read the ring, RSS and filter configuration the driver wrote, as it
    /// stands when UPDATE asks for it (nfp_net_common.c:979-1065).
    fn read_config(&self, mu: &Mu, ctrl: u32) -> Result<VnicConfig, ReconfigError> {
        let p = &self.params;
        let mtu = mu.read_u32(self.reg(NFP_NET_CFG_MTU));
        if ctrl & NFP_NET_CFG_CTRL_ENABLE != 0 && !(68..=NFD_MAX_MTU).contains(&mtu) {
            return Err(ReconfigError::Mtu(mtu));
        }
        let mut m = [0u8; 8];
        mu.read(self.reg(NFP_NET_CFG_MACADDR), &mut m);
        // writel(be32(mac[0..3])) at 0x24, writew(be16(mac[4..5])) at 0x2a
        // (nfp_net_common.c:912-916).
        let mac = [m[3], m[2], m[1], m[0], m[7], m[6]];
        let rings = |enable_off: u64,
                     addr: fn(u64) -> u64,
                     sz: fn(u64) -> u64,
                     vec: fn(u64) -> u64,
                     dir: RingDir| {
            let bitmap = mu.read_u64(self.reg(enable_off));
            let max = p.max_rings.min(NFP_NET_RING_MAX as u32);
            if max < 64 && bitmap >> max != 0 {
                return Err(ReconfigError::RingEnable { dir, bitmap, max });
            }
            let mut v = Vec::with_capacity(max as usize);
            for r in 0..u64::from(max) {
                if bitmap & 1 << r == 0 {
                    v.push(None);
                    continue;
                }
                let a = mu.read_u64(self.reg(addr(r)));
                let mut b = [0u8; 1];
                mu.read(self.reg(sz(r)), &mut b);
                let log2 = b[0];
                mu.read(self.reg(vec(r)), &mut b);
                if a == 0 || log2 == 0 || log2 > NFD_RING_LOG2_MAX {
                    return Err(ReconfigError::Ring {
                        dir,
                        ring: r,
                        addr: a,
                        log2,
                    });
                }
                v.push(Some(RingCfg {
                    addr: a,
                    log2,
                    vector: b[0],
                }));
            }
            Ok(v)
        };
        let tx = rings(
            NFP_NET_CFG_TXRS_ENABLE,
            nfp_net_cfg_txr_addr,
            nfp_net_cfg_txr_sz,
            nfp_net_cfg_txr_vec,
            RingDir::Tx,
        )?;
        let rx = rings(
            NFP_NET_CFG_RXRS_ENABLE,
            nfp_net_cfg_rxr_addr,
            nfp_net_cfg_rxr_sz,
            nfp_net_cfg_rxr_vec,
            RingDir::Rx,
        )?;
        let mut cfg = VnicConfig {
            enabled: ctrl & NFP_NET_CFG_CTRL_ENABLE != 0,
            ctrl,
            mtu,
            flbufsz: mu.read_u32(self.reg(NFP_NET_CFG_FLBUFSZ)) & 0x00ff_ffff,
            mac,
            tx,
            rx,
            ..VnicConfig::default()
        };
        let mut b = [0u8; 1];
        mu.read(self.reg(NFP_NET_CFG_LSC), &mut b);
        cfg.lsc_vector = b[0];
        if ctrl & (NFP_NET_CFG_CTRL_RSS | NFP_NET_CFG_CTRL_RSS2) != 0 {
            cfg.rss_ctrl = mu.read_u32(self.reg(NFP_NET_CFG_RSS_CTRL));
            mu.read(self.reg(NFP_NET_CFG_RSS_KEY), &mut cfg.rss_key);
            mu.read(self.reg(NFP_NET_CFG_RSS_ITBL), &mut cfg.rss_itbl);
        }
        Ok(cfg)
    }

    /// `UPDATE_BPF`: DMA the program image the driver placed at
    /// `NFP_NET_CFG_BPF_ADDR` (`NFP_NET_CFG_BPF_SIZE` little-endian
    /// words), check and decode it, and install it in the code store
    /// (docs/bpf-offload.md#load-path). The driver frees the image as soon as the
    /// reconfig is acknowledged, so it is copied now.
    fn load_bpf(&self, mu: &Mu, host: &Host) -> Result<Program, ReconfigError> {
        if self.params.bpf_abi.is_none() {
            return Err(ReconfigError::NoBpf);
        }
        let mut b = [0u8; 2];
        mu.read(self.reg(NFP_NET_CFG_BPF_SIZE), &mut b);
        let size = u16::from_le_bytes(b);
        let addr = mu.read_u64(self.reg(NFP_NET_CFG_BPF_ADDR)) & !NFP_NET_CFG_BPF_CFG_MASK;
        if size == 0 || size > NFD_BPF_MAX_LEN {
            return Err(ReconfigError::BpfSize(size));
        }
        let mut image = vec![0u8; usize::from(size) * 8];
        host.mem
            .read(addr, &mut image)
            .map_err(|source| ReconfigError::BpfDma {
                addr,
                len: image.len(),
                source,
            })?;
        let prog = Program::load(
            &crate::fp::exec::le_words(&image),
            NFD_BPF_START,
            NFD_BPF_DONE,
            usize::from(NFD_BPF_MAX_LEN),
        )
        .map_err(|reason| ReconfigError::BpfImage { addr, reason })?;
        Ok(prog)
    }

    /// Carry out the reconfig the driver requested in UPDATE, then clear
    /// UPDATE (or set UPDATE_ERR) before the doorbell write completes.
    pub fn reconfig(&mut self, mu: &mut Mu, host: &Host) {
        let update = mu.read_u32(self.reg(NFP_NET_CFG_UPDATE));
        let ctrl = mu.read_u32(self.reg(NFP_NET_CFG_CTRL));
        let mut err: Option<ReconfigError> = None;

        let unsupported = ctrl & !(self.params.cap | NFP_NET_CFG_CTRL_ENABLE);
        if unsupported != 0 {
            err = Some(ReconfigError::Unsupported { ctrl, unsupported });
        }
        // A new program is installed only if the whole reconfig succeeds.
        let mut prog = None;
        if update & NFP_NET_CFG_UPDATE_BPF != 0 && err.is_none() {
            match self.load_bpf(mu, host) {
                Ok(p) => prog = Some(p),
                Err(why) => err = Some(why),
            }
        }
        if err.is_none() {
            match self.read_config(mu, ctrl) {
                Ok(cfg) => {
                    let old = self.dp.config();
                    let bpf = cfg.ctrl & NFP_NET_CFG_CTRL_BPF != 0;
                    if bpf != (old.ctrl & NFP_NET_CFG_CTRL_BPF != 0) {
                        info!(
                            target: "nfp_emu::nfd",
                            "{}: BPF offload {}",
                            self.name(),
                            if bpf { "enabled" } else { "disabled" }
                        );
                    }
                    if cfg.enabled != old.enabled {
                        info!(
                            target: "nfp_emu::nfd",
                            "{} {}",
                            self.name(),
                            if cfg.enabled { "enabled" } else { "disabled" }
                        );
                    }
                    self.dp.apply_config(&host.qc, cfg);
                }
                Err(why) => err = Some(why),
            }
        }
        if let (None, Some(prog)) = (&err, prog) {
            info!(
                target: "nfp_emu::nfd",
                "{}: BPF program of {} instructions {} at .{NFD_BPF_START}",
                self.name(),
                prog.len(),
                if self.dp.bpf().is_some() { "replaced the previous one" } else { "loaded" }
            );
            self.dp.set_bpf(Some(Arc::new(prog)));
        }
        if err.is_none() && update & NFP_NET_CFG_UPDATE_MBOX != 0 {
            let cmd = mu.read_u32(self.reg(NFP_NET_CFG_MBOX_BASE + NFP_NET_CFG_MBOX_SIMPLE_CMD));
            crate::guest_warn!("{}: mailbox command {cmd} not supported", self.name());
            mu.write_u32(
                self.reg(NFP_NET_CFG_MBOX_BASE + NFP_NET_CFG_MBOX_SIMPLE_RET),
                EOPNOTSUPP,
            );
        }
        let answer = match &err {
            None => {
                debug!(target: "nfp_emu::nfd", update, ctrl, "{} reconfig done", self.name());
                0
            }
            Some(why) => {
                self.dp
                    .stats
                    .reconfig_errors
                    .fetch_add(1, Ordering::Relaxed);
                crate::guest_warn!(update, ctrl, "{} reconfig refused: {why}", self.name());
                update | NFP_NET_CFG_UPDATE_ERR
            }
        };
        mu.write_u32(self.reg(NFP_NET_CFG_UPDATE), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{data_vnic_params, ram};

    /// Data vNIC 0 with BPF offload, link up.
    fn data_vnic() -> Vnic {
        Vnic::new(data_vnic_params(0, true), true)
    }

    #[test]
    fn published_fields() {
        let mut mu = Mu::new();
        let v = data_vnic();
        v.publish(&mut mu);
        let b = v.params.bar;
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_VERSION), 0x500);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_CAP), v.params.cap);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_START_RXQ), 2);
        let mut abi = [0u8; 2];
        mu.read(b + NFP_NET_CFG_BPF_ABI, &mut abi);
        assert_eq!(abi, [3, 1]);
        assert_eq!(v.cfg_queue(), 1);
    }

    /// The driver's reach limit (bpf/offload.c:490): INL_MTU x 64 - 32 is
    /// the 1888 bytes of NFD's CTM buffer, not "any MTU".
    #[test]
    fn inline_mtu_is_nfd_ctm_split() {
        let mut mu = Mu::new();
        let v = data_vnic();
        v.publish(&mut mu);
        let mut b = [0u8; 2];
        mu.read(v.params.bar + NFP_NET_CFG_BPF_STACK_SZ, &mut b);
        assert_eq!(b, [NFD_BPF_STACK_SZ, 30]);
        let fw_mtu = u32::from(b[1]) * 64 - 32;
        assert_eq!(fw_mtu, 1888);
        // Any program loads at the default MTU; jumbo frames are limited.
        assert!((NFD_DEFAULT_MTU..9000).contains(&fw_mtu));
    }

    /// `nfp_net_bpf_load`: image at `addr`, SIZE/ADDR, UPDATE_BPF.
    fn load_image(mu: &mut Mu, host: &Host, v: &mut Vnic, addr: u64, words: &[u64]) -> u32 {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        host.mem.write(addr & !7, &bytes).unwrap();
        let b = v.params.bar;
        mu.write(
            b + NFP_NET_CFG_BPF_SIZE,
            &(words.len() as u16).to_le_bytes(),
        );
        mu.write_u64(b + NFP_NET_CFG_BPF_ADDR, addr);
        mu.write_u32(b + NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_BPF);
        v.reconfig(mu, host);
        mu.read_u32(b + NFP_NET_CFG_UPDATE)
    }

    #[test]
    fn update_bpf_loads_checks_and_replaces_images() {
        use crate::fp::asm;
        let mut mu = Mu::new();
        let host = Host::new(256);
        host.mem.map(ram(0x10_0000, 0x10_0000)).unwrap();
        let mut v = data_vnic();
        v.publish(&mut mu);
        let prog = [asm::nop(), asm::br(asm::br::UNC, NFD_BPF_DONE, 0)];
        assert_eq!(load_image(&mut mu, &host, &mut v, 0x10_0000, &prog), 0);
        let p = v.dp.bpf().expect("loaded");
        assert_eq!((p.start, p.done, p.len()), (NFD_BPF_START, NFD_BPF_DONE, 2));
        // A replacement takes the new image (the driver frees the old DMA
        // buffer right after the reconfig).
        let prog2 = [
            asm::nop(),
            asm::nop(),
            asm::br(asm::br::UNC, NFD_BPF_DONE, 0),
        ];
        assert_eq!(load_image(&mut mu, &host, &mut v, 0x10_8000, &prog2), 0);
        assert_eq!(v.dp.bpf().unwrap().len(), 3);
        // A flipped bit fails the ECC check: UPDATE_ERR ("FW command error
        // while loading BPF" in the driver), the running program stays.
        let mut bad = prog;
        bad[0] ^= 1 << 7;
        assert_eq!(
            load_image(&mut mu, &host, &mut v, 0x10_0000, &bad),
            NFP_NET_CFG_UPDATE_BPF | NFP_NET_CFG_UPDATE_ERR
        );
        assert_eq!(v.dp.bpf().unwrap().len(), 3);
        // The low three address bits are flags, masked off.
        assert_eq!(load_image(&mut mu, &host, &mut v, 0x10_0000 | 1, &prog), 0);
        assert_eq!(v.dp.bpf().unwrap().len(), 2);
        // Outside guest memory, or too long / empty: refused.
        let b = v.params.bar;
        mu.write_u64(b + NFP_NET_CFG_BPF_ADDR, 0x4000_0000);
        mu.write_u32(b + NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_BPF);
        v.reconfig(&mut mu, &host);
        assert_ne!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE) & NFP_NET_CFG_UPDATE_ERR,
            0
        );
        for size in [0u16, NFD_BPF_MAX_LEN + 1] {
            mu.write(b + NFP_NET_CFG_BPF_SIZE, &size.to_le_bytes());
            mu.write_u64(b + NFP_NET_CFG_BPF_ADDR, 0x10_0000);
            mu.write_u32(b + NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_BPF);
            v.reconfig(&mut mu, &host);
            assert_ne!(
                mu.read_u32(b + NFP_NET_CFG_UPDATE) & NFP_NET_CFG_UPDATE_ERR,
                0,
                "size {size}"
            );
        }
        assert_eq!(v.reconfig_errors(), 4);
        // A good image in a reconfig that fails for another reason (MTU out
        // of range) is not installed.
        let before = v.dp.bpf().unwrap().len();
        mu.write_u32(b + NFP_NET_CFG_MTU, 10);
        mu.write_u32(b + NFP_NET_CFG_CTRL, NFP_NET_CFG_CTRL_ENABLE);
        let st = load_image(&mut mu, &host, &mut v, 0x10_8000, &prog2);
        assert_ne!(st & NFP_NET_CFG_UPDATE_ERR, 0);
        assert_eq!(v.dp.bpf().unwrap().len(), before);
    }

    /// The ring-enable reconfig of `nfp_net_set_config_and_enable()`.
    fn enable(mu: &mut Mu, b: u64, mtu: u32) {
        mu.write_u64(b + NFP_NET_CFG_TXRS_ENABLE, 0b11);
        mu.write_u64(b + NFP_NET_CFG_RXRS_ENABLE, 0b11);
        for r in 0..2 {
            mu.write_u64(b + nfp_net_cfg_txr_addr(r), 0x10_0000 + r * 0x1000);
            mu.write(b + nfp_net_cfg_txr_sz(r), &[12]);
            mu.write(b + nfp_net_cfg_txr_vec(r), &[2 + r as u8]);
            mu.write_u64(b + nfp_net_cfg_rxr_addr(r), 0x20_0000 + r * 0x1000);
            mu.write(b + nfp_net_cfg_rxr_sz(r), &[12]);
            mu.write(b + nfp_net_cfg_rxr_vec(r), &[2 + r as u8]);
        }
        mu.write_u32(b + NFP_NET_CFG_MTU, mtu);
        mu.write_u32(b + NFP_NET_CFG_FLBUFSZ, 9500);
        mu.write_u32(
            b + NFP_NET_CFG_MACADDR,
            u32::from_be_bytes([0, 0x15, 0x4d, 0]),
        );
        mu.write(b + 0x2a, &u16::from_be_bytes([1, 0]).to_le_bytes());
        mu.write_u32(
            b + NFP_NET_CFG_CTRL,
            NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_L2BC,
        );
        mu.write_u32(
            b + NFP_NET_CFG_UPDATE,
            NFP_NET_CFG_UPDATE_GEN | NFP_NET_CFG_UPDATE_RING | NFP_NET_CFG_UPDATE_MSIX,
        );
    }

    #[test]
    fn reconfig_reads_rings_mtu_and_mac_and_acks() {
        let mut mu = Mu::new();
        let host = Host::new(256);
        host.mem.map(ram(0x10_0000, 0x20_0000)).unwrap();
        let mut v = data_vnic();
        v.publish(&mut mu);
        let b = v.params.bar;
        host.qc.write(4 * 0x800 + 4, &7u32.to_le_bytes());
        enable(&mut mu, b, 9000);
        v.reconfig(&mut mu, &host);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_UPDATE), 0);
        let c = v.dp.config();
        assert!(c.enabled);
        assert_eq!(c.mtu, 9000);
        assert_eq!(c.flbufsz, 9500);
        assert_eq!(c.mac, [0, 0x15, 0x4d, 0, 1, 0]);
        assert_eq!(
            c.tx[1],
            Some(RingCfg {
                addr: 0x10_1000,
                log2: 12,
                vector: 3
            })
        );
        assert_eq!(c.rx[2], None);
        assert_eq!(host.qc.wptr(4), 0, "TX queue 1 pointer reset on enable");
    }

    #[test]
    fn reconfig_refuses_bad_values_naming_them() {
        let mut mu = Mu::new();
        let host = Host::new(256);
        let mut v = data_vnic();
        v.publish(&mut mu);
        let b = v.params.bar;
        // A feature CAP does not offer (RSS v1).
        mu.write_u32(
            b + NFP_NET_CFG_CTRL,
            NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_RSS,
        );
        mu.write_u32(b + NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_GEN);
        v.reconfig(&mut mu, &host);
        assert_eq!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE),
            NFP_NET_CFG_UPDATE_GEN | NFP_NET_CFG_UPDATE_ERR
        );
        assert!(!v.enabled());
        // An MTU above the maximum.
        enable(&mut mu, b, 20000);
        v.reconfig(&mut mu, &host);
        assert_ne!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE) & NFP_NET_CFG_UPDATE_ERR,
            0
        );
        // A ring of 2^30 descriptors.
        enable(&mut mu, b, 1500);
        mu.write(b + nfp_net_cfg_rxr_sz(1), &[30]);
        v.reconfig(&mut mu, &host);
        assert_ne!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE) & NFP_NET_CFG_UPDATE_ERR,
            0
        );
        // Rings enabled beyond MAX_RXRINGS.
        enable(&mut mu, b, 1500);
        mu.write_u64(b + NFP_NET_CFG_RXRS_ENABLE, 1 << 9);
        v.reconfig(&mut mu, &host);
        assert_ne!(
            mu.read_u32(b + NFP_NET_CFG_UPDATE) & NFP_NET_CFG_UPDATE_ERR,
            0
        );
        assert_eq!(v.reconfig_errors(), 4);
        // And a good one still works.
        enable(&mut mu, b, 1500);
        v.reconfig(&mut mu, &host);
        assert_eq!(mu.read_u32(b + NFP_NET_CFG_UPDATE), 0);
    }
}
