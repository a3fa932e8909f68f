//! The whole card as the host sees it over PCIe: configuration space, BARs,
//! MSI-X and DMA, and the chip behind them.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::app::AppFirmware;
use crate::chip::Chip;
use crate::counters::{Counters, visit_in};
use crate::cpp::memmap::{MemoryMap, MemoryMapError};
use crate::maps::MAP_MAX_MAPS;

/// Host memory a live map table needs beyond its EMEM range (its
/// descriptor, directory entry and allocator node): an upper bound.
const MAP_TABLE_OVERHEAD_MAX: u64 = 4096;
use crate::datapath::Datapath;
use crate::fp::FpConfig;
use crate::nsp::board::BoardConfig;
use crate::nsp::eth::EthTable;
use crate::nsp::{BoardInfo, FwLoadError, Nsp, NspStats};
use crate::pcie::local::PcieLocal;
use crate::pcie::{
    BarDef, ConfigSpace, NFP_BARS, NFP_CPP_INTERFACE_PCIE0, NFP_MSIX_VECTORS, device_serial_number,
};
use crate::ports::{PortError, PortSpec};

/// Assembly of the default board: Agilio CX 2x25GbE (docs/nsp.md#hwinfo), the
/// board the firmware crate builds images for.
pub use nfp_firmware::image::AGILIO_CX_PARTNO;

/// What distinguishes one emulated card from another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardConfig {
    /// The 6-byte card serial (PCIe DSN bits 63:16), printed by the driver as
    /// `SN: xx:xx:...` and used as the devlink switch id.
    pub serial: [u8; 6],
    /// The board, its port mode and the ports in use (`--board`,
    /// `--ports`): hwinfo and the ETH table follow.
    pub board: BoardConfig,
    /// What is plugged into each port (missing entries: nothing).
    pub cabling: Vec<PortSpec>,
    /// Record every port's traffic to pcap files in this directory.
    pub pcap_dir: Option<PathBuf>,
    /// Firmware image in the card's flash, loaded at power-on.
    pub flash_firmware: Option<Vec<u8>>,
    /// The flow processor's layout (worker threads, MEs, tracing).
    pub fp: FpConfig,
    /// Write each BPF image the driver loads into this directory.
    pub bpf_dump: Option<PathBuf>,
    /// EMEM size in bytes (default: the Agilio CX's 2 GiB; docs/memory.md).
    pub emem_size: u64,
}

impl Default for CardConfig {
    fn default() -> Self {
        // docs/pcie.md#configuration-space example serial [choice].
        Self {
            serial: [0x00, 0x15, 0x4d, 0x00, 0x00, 0x01],
            board: BoardConfig::default(),
            cabling: Vec::new(),
            pcap_dir: None,
            flash_firmware: None,
            fp: FpConfig::default(),
            bpf_dump: None,
            emem_size: crate::cpp::memmap::EMEM_SIZE_DEFAULT,
        }
    }
}

impl CardConfig {
    /// MAC of port `p`: the Netronome OUI, the card serial's last two bytes
    /// and the port number, so cards and ports never collide.
    pub fn port_mac(&self, p: u8) -> [u8; 6] {
        [0x00, 0x15, 0x4d, self.serial[4], self.serial[5], p]
    }

    /// The card's memories with this configuration's EMEM size.
    pub fn memory_map(&self) -> Result<MemoryMap, MemoryMapError> {
        MemoryMap::nfp4000(self.emem_size)
    }

    /// The board's hwinfo identity (docs/boards.md).
    fn board_info(&self) -> BoardInfo {
        let sn = self.serial.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
        let b = &self.board.board;
        BoardInfo {
            partno: b.assembly.into(),
            serial: format!("21{:06}", sn % 1_000_000),
            revision: "11".into(),
            model: b.model.into(),
            cpld_version: "0x44".into(),
            part_number: b.product.into(),
            bsp_version: format!("nfp-emu-{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Why a card could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// The flash image does not load.
    #[error("firmware image rejected: {0}")]
    Firmware(#[from] FwLoadError),
    /// A port backend cannot be set up.
    #[error("ports: {0}")]
    Ports(#[from] PortError),
    /// More port backends than the card has ports.
    #[error("ports: {given} port backends given for a card with {ports} port(s)")]
    Cabling {
        /// Backends given.
        given: usize,
        /// Ports of the card.
        ports: usize,
    },
    /// The memory configuration is invalid.
    #[error("memory: {0}")]
    Memory(#[from] MemoryMapError),
}

/// One NFP-4000 card.
#[derive(Debug)]
pub struct Card {
    config_at_reset: ConfigSpace,
    config: Mutex<ConfigSpace>,
    chip: Mutex<Chip>,
    dp: Arc<Datapath>,
    /// The NSP's counters, read without the chip's lock.
    nsp_stats: Arc<NspStats>,
}

/// Every counter of the card (docs/counters.md): the datapath's (ports,
/// vNICs, DMA, MSI-X, queue controller, flow processor) and the NSP's
/// `nsp.*`. Reading takes no lock the data path or the chip holds for
/// long; a visitor must not call back into the card.
impl Counters for Card {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        self.dp.counters(visit);
        visit_in("nsp", &*self.nsp_stats, visit);
    }
}

impl Card {
    /// Build and power on a card. Fails if the flash firmware is not a
    /// loadable NFFW image or a port backend cannot be set up. Port threads
    /// start with [`Card::start`].
    pub fn new(cfg: &CardConfig) -> Result<Self, CardError> {
        let config =
            ConfigSpace::nfp4000(device_serial_number(cfg.serial, NFP_CPP_INTERFACE_PCIE0));
        let eth = EthTable {
            ports: cfg.board.eth_ports(|p| cfg.port_mac(p)),
        };
        let slots = eth.ports.iter().map(|p| p.index).collect();
        let specs: Vec<PortSpec> = (0..eth.ports.len())
            .map(|i| cfg.cabling.get(i).cloned().unwrap_or(PortSpec::None))
            .collect();
        if cfg.cabling.len() > specs.len() {
            return Err(CardError::Cabling {
                given: cfg.cabling.len(),
                ports: specs.len(),
            });
        }
        let map = cfg.memory_map()?;
        let dp = Datapath::new(
            NFP_MSIX_VECTORS,
            &specs,
            slots,
            cfg.pcap_dir.as_deref(),
            cfg.fp,
            cfg.bpf_dump.clone(),
            map.map_region(),
        )?;
        let nsp = Nsp::new(cfg.board_info(), eth);
        let nsp_stats = nsp.stats.clone();
        let app = AppFirmware::new(cfg.flash_firmware.clone(), map)?;
        Ok(Self {
            config_at_reset: config.clone(),
            config: Mutex::new(config),
            chip: Mutex::new(Chip::power_on(nsp, app, dp.clone())),
            dp,
            nsp_stats,
        })
    }

    /// Upper bound of the host memory the card's memories and its
    /// offloaded maps can hold, whatever the guest does (docs/memory.md,
    /// "The bound"): the MU model's bound plus the map region, whose
    /// tables the map store keeps in memory of its own, plus their
    /// bookkeeping.
    pub fn memory_bound(&self) -> u64 {
        let map = self.chip.lock().mu.map().clone();
        let region = map.map_region();
        map.bound() + (region.end - region.start) + MAP_TABLE_OVERHEAD_MAX * u64::from(MAP_MAX_MAPS)
    }

    /// Start the port threads.
    pub fn start(&self) {
        self.dp.describe_ports();
        self.dp.start();
    }

    /// The card's datapath: its ports, vNIC data paths and counters.
    pub fn datapath(&self) -> &Arc<Datapath> {
        &self.dp
    }

    /// Config-space read; 0x400.. aliases the expansion-BAR registers
    /// (docs/pcie.md#expansion-bar-registers-in-config-space).
    pub fn config_read(&self, offset: u64, buf: &mut [u8]) {
        if let Some(addr) = PcieLocal::config_alias(offset) {
            self.chip.lock().pcie.read(addr, buf);
            return;
        }
        self.config.lock().read(offset, buf);
    }

    /// Config-space write; 0x400.. aliases the expansion-BAR registers.
    pub fn config_write(&self, offset: u64, data: &[u8]) {
        if let Some(addr) = PcieLocal::config_alias(offset) {
            self.chip.lock().pcie.write(addr, data);
            return;
        }
        self.config.lock().write(offset, data);
    }

    /// The chip behind the BARs, locked (the control plane's lock: not
    /// for the data path, nor for reading counters).
    pub fn chip(&self) -> parking_lot::MutexGuard<'_, Chip> {
        self.chip.lock()
    }

    /// The PCI configuration space, locked.
    pub fn config(&self) -> parking_lot::MutexGuard<'_, ConfigSpace> {
        self.config.lock()
    }

    /// Host read from BAR `bar` at `offset`.
    pub fn bar_read(&self, bar: usize, offset: u64, buf: &mut [u8]) {
        if Self::bar_access(bar, offset, buf.len()).is_none() {
            buf.fill(0xff);
            return;
        }
        self.chip.lock().bar_read(bar, offset, buf);
    }

    /// Host write to BAR `bar` at `offset`.
    pub fn bar_write(&self, bar: usize, offset: u64, data: &[u8]) {
        if Self::bar_access(bar, offset, data.len()).is_none() {
            return;
        }
        self.chip.lock().bar_write(bar, offset, data);
    }

    /// Check that an access falls inside one of the card's BARs.
    fn bar_access(bar: usize, offset: u64, len: usize) -> Option<BarDef> {
        let def = NFP_BARS.iter().find(|b| b.index == bar).copied();
        let fits = def.is_some_and(|d| {
            offset
                .checked_add(len as u64)
                .is_some_and(|end| end <= d.size)
        });
        if !fits {
            crate::guest_warn!(
                "access of {len} bytes at BAR{bar} offset {offset:#x} is outside the BAR; ignored"
            );
            return None;
        }
        def
    }

    /// PCI reset from the VMM: config space and expansion BARs back to
    /// power-on values. The chip's memories and firmware stay (a PCIe reset
    /// does not reset the NFP), as do interrupt eventfds and DMA maps.
    pub fn reset(&self) {
        *self.config.lock() = self.config_at_reset.clone();
        self.chip.lock().pcie = PcieLocal::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_accesses_outside_a_bar_read_ones_and_do_not_panic() {
        let card = Card::new(&CardConfig::default()).unwrap();
        let mut b = [0u8; 8];
        card.bar_read(0, (128 << 20) - 4, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_read(1, 0, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_read(4, u64::MAX, &mut b);
        assert_eq!(b, [0xff; 8]);
        card.bar_write(9, 0, &b);
    }

    /// The guest is untrusted: a storm of random config-space and BAR
    /// accesses (biased to the expansion-BAR CSRs, the config-space alias
    /// and the queue controller, so windows get retargeted at random CPP
    /// targets and doorbells ring) never panics, with firmware running.
    #[test]
    fn random_guest_accesses_never_panic() {
        let fw = nfp_firmware::image::bpf_image(&nfp_firmware::image::BoardSpec::agilio_cx_2x25());
        let card = Card::new(&CardConfig {
            flash_firmware: Some(fw.to_bytes()),
            ..CardConfig::default()
        })
        .unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut buf = [0u8; 8];
        for _ in 0..100_000 {
            let r = next();
            let len = [1usize, 2, 4, 8][(r & 3) as usize];
            let v = next().to_le_bytes();
            let (bar, off) = match (r >> 2) % 6 {
                // expansion BAR CSRs in BAR0 (docs/pcie.md#expansion-bar-registers-in-config-space)
                // and around
                0 => (0, 0x30000 + (r >> 8) % 0x200),
                // the config-space alias of the same CSRs
                1 => {
                    let off = 0x400 + (r >> 8) % 0x180;
                    if r & 0x10 != 0 {
                        card.config_write(off, &v[..len]);
                    } else {
                        card.config_read(off, &mut buf[..len]);
                    }
                    continue;
                }
                2 => (4, (r >> 8) % (16 << 20)),
                3 => (2, (r >> 8) % (64 << 20)),
                4 => (0, (r >> 8) % (128 << 20)),
                _ => {
                    let off = (r >> 8) % 4096;
                    if r & 0x10 != 0 {
                        card.config_write(off, &v[..len]);
                    } else {
                        card.config_read(off, &mut buf[..len]);
                    }
                    continue;
                }
            };
            let off = off & !(len as u64 - 1);
            if r & 0x20 != 0 {
                card.bar_write(bar, off, &v[..len]);
            } else {
                card.bar_read(bar, off, &mut buf[..len]);
            }
        }
    }

    /// The storm again, now past the registers: rings of the data and
    /// control vNICs set up in guest memory by the driver mock first
    /// (`testutil::storm`), then random operations that also write
    /// descriptors and buffers, ring doorbells, inject frames, send control
    /// messages, load programs, change DMA maps and MSI-X vectors and issue
    /// NSP commands. Nothing panics, and the storm did reach TX, RX, the
    /// control channel, DMA errors and interrupts.
    #[test]
    fn random_guest_storm_reaches_the_rings_and_never_panics() {
        use crate::testutil::storm::{STORM_MAX_OPS, Storm, StormReach};
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut total = StormReach::default();
        for _ in 0..6 {
            let bytes: Vec<u8> = (0..STORM_MAX_OPS * 64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            let mut storm = Storm::new();
            storm.run(&bytes);
            let r = storm.reach();
            total.ops += r.ops;
            total.tx_frames += r.tx_frames;
            total.tx_errors += r.tx_errors;
            total.rx_frames += r.rx_frames;
            total.ctrl_rx_frames += r.ctrl_rx_frames;
            total.dma_errors += r.dma_errors;
            total.irqs += r.irqs;
        }
        assert!(total.ops > 6_000, "{total:?}");
        assert!(total.tx_frames > 0, "TX reached the wire: {total:?}");
        assert!(total.tx_errors > 0, "bad TX descriptors: {total:?}");
        assert!(total.rx_frames > 0, "RX reached the host: {total:?}");
        assert!(total.ctrl_rx_frames > 0, "map channel answered: {total:?}");
        assert!(total.dma_errors > 0, "DMA outside guest memory: {total:?}");
        assert!(total.irqs > 0, "interrupts raised: {total:?}");
    }

    /// Every counter block of a running card is reachable by a unique,
    /// well-formed name, and the counters move with traffic: frames from
    /// vNIC 0 over the loopback cable to vNIC 1, a bad TX descriptor, a
    /// frame vNIC 1 filters, an NSP command, then an offloaded XDP_DROP
    /// program on vNIC 1.
    #[test]
    fn every_counter_is_reachable_by_a_unique_name_and_moves_with_traffic() {
        use crate::counters::{Counters, Filter, Snapshot};
        use crate::fp::asm::{self, R, br};
        use crate::nfd::ctrl::{
            NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_BPF_ADDR, NFP_NET_CFG_BPF_SIZE, NFP_NET_CFG_CTRL_BPF,
            NFP_NET_CFG_CTRL_ENABLE, NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_UPDATE_BPF,
        };
        use crate::testutil::{Driver, RingLayout, VnicRig, eop_desc};

        let mut drv = Driver::with_firmware();
        drv.card.start();
        let bar0 = drv.rtsym_addr("_pf0_net_bar0").expect("vNIC BARs");
        let ctrl = NFP_NET_CFG_CTRL_ENABLE | NFP_NET_CFG_CTRL_L2BC | NFP_NET_CFG_CTRL_BPF;
        let mut v0 = VnicRig::enable(&mut drv, bar0, RingLayout::new(0x1000_0000, 6, 1), ctrl)
            .expect("vNIC 0 up");
        let bar1 = bar0 + NFP_NET_CFG_BAR_SZ;
        let mut v1 = VnicRig::enable(&mut drv, bar1, RingLayout::new(0x2000_0000, 6, 2), ctrl)
            .expect("vNIC 1 up");
        v1.post_fl(&drv, 64);
        let card = &drv.card;
        let all = Filter::all();
        let before = Snapshot::take(card, &all);

        // Names: unique, lowercase dotted words, every block present.
        let mut seen = std::collections::HashSet::new();
        for (name, _) in before.iter() {
            assert!(seen.insert(name), "{name} visited twice");
            assert!(
                name.split('.').count() >= 2
                    && name.split('.').all(|w| !w.is_empty()
                        && w.bytes()
                            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))),
                "{name} is not a dotted lowercase name"
            );
        }
        for name in [
            "port0.mac.rx_frames_received_ok",
            "port1.mac.tx_octets",
            "port0.wire.tx_dropped",
            "port1.wire.tx_dropped",
            "vnic0.dev_tx_pkts",
            "vnic1.bpf_app1_pkts",
            "vnic1.rxq_7_bytes",
            "vnic1.rx_drop.filtered",
            "vnic1.prog.loads",
            "vnic1.prog.faults",
            "vnic1.reconfig_errors",
            "vnic_ctrl.dev_rx_pkts",
            "dma.errors",
            "msix.raised",
            "qc.doorbells",
            "nsp.commands",
            "fp.me0.ctx0.packets",
            "fp.me47.ctx6.aborts",
            "fp.worker0.packets",
        ] {
            assert!(before.get(name).is_some(), "{name} missing");
        }
        assert_eq!(before.get("vnic1.rxq_8_pkts"), None, "8 rings");
        let fp = card.datapath().fp().expect("started");
        let ctx_counters = Snapshot::take(card, &Filter::new(["fp.me*.ctx*.packets"]));
        assert_eq!(ctx_counters.len(), fp.cfg.mes * crate::fp::me::CONTEXTS);

        let wait = |name: &str, want: u64| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while card.counter(name).unwrap_or(0) < want {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{name} never reached {want}"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        };
        // Ten broadcast frames from vNIC 0 arrive at vNIC 1; one unicast
        // frame for another MAC is filtered; a descriptor outside guest
        // memory is a DMA error; one NSP command.
        let mut bcast = crate::pkt::tests::tcp4(b"counted", 1, 0x18);
        bcast[..6].fill(0xff);
        for _ in 0..10 {
            v0.send(&drv, &bcast);
        }
        v0.send(&drv, &crate::pkt::tests::tcp4(b"filtered", 2, 0x18));
        v0.put_tx(&drv, &eop_desc(0xdead_0000, 60));
        v0.kick_tx(&drv, 1);
        drv.nsp_command(crate::nsp::SPCODE_NOOP, 0, &[], 0);
        wait("vnic1.rx_drop.filtered", 1);
        wait("vnic1.dev_rx_pkts", 10);
        let d = Snapshot::take(card, &all).since(&before);
        for (name, want) in [
            ("vnic0.dev_tx_pkts", 11),
            ("vnic0.txq_0_pkts", 11),
            ("vnic0.dev_tx_errors", 1),
            ("port0.mac.tx_frames_transmitted_ok", 11),
            ("port1.mac.rx_frames_received_ok", 11),
            ("port1.mac.rx_broadcast_pkts", 10),
            ("vnic1.dev_rx_pkts", 10),
            ("vnic1.rxq_0_pkts", 10),
            ("vnic1.rx_drop.filtered", 1),
            ("dma.errors", 1),
            ("nsp.commands", 1),
        ] {
            assert_eq!(d.get(name), Some(want), "{name}");
        }
        assert!(d.get("msix.raised") > Some(0));
        assert!(d.get("qc.doorbells") >= Some(12));

        // XDP_DROP (result 0x22 << 16: bpf_app1) offloaded on vNIC 1.
        let prog = [
            asm::br(br::UNC, 1, 2),
            asm::alu(R::A(0), R::None, asm::alu_op::NONE, R::Imm(0)),
            asm::immed(R::A(0), 0x22, 0, false, 2),
        ];
        let image: Vec<u8> = prog.iter().flat_map(|w| w.to_le_bytes()).collect();
        let at = v1.layout.tx_bufs;
        assert!(drv.guest_write(at, &image));
        drv.mu_write(
            bar1 + NFP_NET_CFG_BPF_SIZE,
            &(prog.len() as u16).to_le_bytes(),
        );
        drv.mu_write64(bar1 + NFP_NET_CFG_BPF_ADDR, at);
        assert_eq!(VnicRig::reconfig(&drv, bar1, NFP_NET_CFG_UPDATE_BPF), 0);
        card.datapath().timing().set_timing(true);
        let before = Snapshot::take(card, &all);
        for _ in 0..5 {
            v0.send(&drv, &bcast);
        }
        wait("vnic1.bpf_app1_pkts", 5);
        let d = Snapshot::take(card, &all).since(&before);
        let sum = |pattern: &str| -> u64 {
            let f = Filter::new([pattern]);
            d.iter().filter(|(n, _)| f.matches(n)).map(|(_, v)| v).sum()
        };
        assert_eq!(d.get("vnic1.bpf_app1_pkts"), Some(5));
        assert_eq!(d.get("vnic1.dev_rx_pkts"), Some(5), "counted on arrival");
        assert_eq!(d.get("vnic1.rxq_0_pkts"), Some(0), "dropped by the card");
        assert_eq!(card.counter("vnic1.prog.loads"), Some(1));
        assert_eq!(sum("fp.me*.ctx*.packets"), 5);
        assert_eq!(sum("fp.me*.ctx*.instructions"), 5 * 3);
        assert_eq!(sum("fp.worker*.packets"), 5);
        // The timing model metered them: the program's totals by name.
        assert_eq!(sum("timing.prog*.packets"), 5);
        assert_eq!(sum("timing.prog*.verdict.drop"), 5);
        assert_eq!(sum("timing.prog*.insns"), 5 * 3);
        assert!(sum("timing.prog*.cycles") > sum("timing.prog*.fw_cycles"));
    }

    #[test]
    fn reset_restores_config_space() {
        let card = Card::new(&CardConfig::default()).unwrap();
        card.config_write(0x04, &[0x06, 0x00]);
        assert!(card.config().bus_master());
        card.reset();
        assert!(!card.config().bus_master());
    }
}
