//! The card's datapath: frames from the wire ports go to the host through
//! the data vNIC of their port, or, while the vNIC has an offloaded BPF
//! program, through the flow processor that runs it and then to the host,
//! back out of the port, or nowhere; frames the host transmits go out of the
//! vNIC's port. MAC counters are kept per port, and the overlay registers
//! (ICR, counters, link status) are served from here so the datapath never
//! takes the control-plane lock.

pub mod helpers;
mod timing;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::RwLock;
use tracing::{info, warn};

use crate::fp::me::{Action, Outcome};
use crate::fp::{FlowProcessor, FpConfig};
use crate::maps::MapStore;
use crate::pkt;

/// A packet in the flow processor, with where it came from: its ingress
/// port and the vNIC whose program runs (and whose counters count).
type Job = crate::fp::Job<RxTag>;

/// The datapath's handle on a packet the flow processor runs.
pub struct RxTag {
    port: usize,
    vnic: Arc<VnicDp>,
}
use crate::maps::caps::BpfCaps;
use crate::nfd::Host;
use crate::nfd::ctrl::{NFP_NET_CFG_BAR_SZ, VnicConfig, VnicKind, stat};
use crate::nfd::rings::{RxDrop, VnicDp};
use crate::ports::{self, FramePool, PortError, PortRx, PortSpec, Readiness, Wire};

/// Minimum Ethernet frame without FCS (`ETH_ZLEN`).
pub const ETH_ZLEN: usize = 60;

/// `NFP_MAC_STATS_SIZE` (nfp_port.h:149): bytes of counters per port slot.
pub const NFP_MAC_STATS_SIZE: u64 = 0x200;

/// MAC counter offsets in a port's slot (nfp_port.h:151-214).
pub mod mac {
    /// `NFP_MAC_STATS_RX_IN_OCTETS` (nfp_port.h:151).
    pub const RX_IN_OCTETS: usize = 0x000;
    /// `NFP_MAC_STATS_RX_FRAME_TOO_LONG_ERRORS` (nfp_port.h:153).
    pub const RX_FRAME_TOO_LONG_ERRORS: usize = 0x010;
    /// `NFP_MAC_STATS_RX_IN_BROADCAST_PKTS` (nfp_port.h:157).
    pub const RX_IN_BROADCAST_PKTS: usize = 0x030;
    /// `NFP_MAC_STATS_RX_DROP_EVENTS` (nfp_port.h:158).
    pub const RX_DROP_EVENTS: usize = 0x038;
    /// `NFP_MAC_STATS_RX_FRAMES_RECEIVED_OK` (nfp_port.h:161).
    pub const RX_FRAMES_RECEIVED_OK: usize = 0x050;
    /// `NFP_MAC_STATS_RX_UNICAST_PKTS` (nfp_port.h:163).
    pub const RX_UNICAST_PKTS: usize = 0x060;
    /// `NFP_MAC_STATS_RX_MULTICAST_PKTS` (nfp_port.h:164).
    pub const RX_MULTICAST_PKTS: usize = 0x068;
    /// `NFP_MAC_STATS_RX_PKTS` (nfp_port.h:165).
    pub const RX_PKTS: usize = 0x070;
    /// `NFP_MAC_STATS_RX_UNDERSIZE_PKTS` (nfp_port.h:166).
    pub const RX_UNDERSIZE_PKTS: usize = 0x078;
    /// `NFP_MAC_STATS_RX_PKTS_64_OCTETS` (nfp_port.h:167).
    pub const RX_PKTS_64_OCTETS: usize = 0x080;
    /// `NFP_MAC_STATS_RX_PKTS_65_TO_127_OCTETS` (nfp_port.h:168).
    pub const RX_PKTS_65_TO_127_OCTETS: usize = 0x088;
    /// `NFP_MAC_STATS_RX_PKTS_512_TO_1023_OCTETS` (nfp_port.h:169).
    pub const RX_PKTS_512_TO_1023_OCTETS: usize = 0x090;
    /// `NFP_MAC_STATS_RX_PKTS_1024_TO_1518_OCTETS` (nfp_port.h:170).
    pub const RX_PKTS_1024_TO_1518_OCTETS: usize = 0x098;
    /// `NFP_MAC_STATS_RX_PKTS_128_TO_255_OCTETS` (nfp_port.h:175).
    pub const RX_PKTS_128_TO_255_OCTETS: usize = 0x0c0;
    /// `NFP_MAC_STATS_RX_PKTS_256_TO_511_OCTETS` (nfp_port.h:176).
    pub const RX_PKTS_256_TO_511_OCTETS: usize = 0x0c8;
    /// `NFP_MAC_STATS_RX_PKTS_1519_TO_MAX_OCTETS` (nfp_port.h:177).
    pub const RX_PKTS_1519_TO_MAX_OCTETS: usize = 0x0d0;
    /// `NFP_MAC_STATS_TX_QUEUE_DROP` (nfp_port.h:190).
    pub const TX_QUEUE_DROP: usize = 0x138;
    /// `NFP_MAC_STATS_TX_OUT_OCTETS` (nfp_port.h:191).
    pub const TX_OUT_OCTETS: usize = 0x140;
    /// `NFP_MAC_STATS_TX_BROADCAST_PKTS` (nfp_port.h:195).
    pub const TX_BROADCAST_PKTS: usize = 0x160;
    /// `NFP_MAC_STATS_TX_PKTS_64_OCTETS` (nfp_port.h:196).
    pub const TX_PKTS_64_OCTETS: usize = 0x168;
    /// `NFP_MAC_STATS_TX_PKTS_256_TO_511_OCTETS` (nfp_port.h:197).
    pub const TX_PKTS_256_TO_511_OCTETS: usize = 0x170;
    /// `NFP_MAC_STATS_TX_PKTS_512_TO_1023_OCTETS` (nfp_port.h:198).
    pub const TX_PKTS_512_TO_1023_OCTETS: usize = 0x178;
    /// `NFP_MAC_STATS_TX_FRAMES_TRANSMITTED_OK` (nfp_port.h:200).
    pub const TX_FRAMES_TRANSMITTED_OK: usize = 0x188;
    /// `NFP_MAC_STATS_TX_UNICAST_PKTS` (nfp_port.h:201).
    pub const TX_UNICAST_PKTS: usize = 0x190;
    /// `NFP_MAC_STATS_TX_MULTICAST_PKTS` (nfp_port.h:202).
    pub const TX_MULTICAST_PKTS: usize = 0x198;
    /// `NFP_MAC_STATS_TX_PKTS_65_TO_127_OCTETS` (nfp_port.h:203).
    pub const TX_PKTS_65_TO_127_OCTETS: usize = 0x1a0;
    /// `NFP_MAC_STATS_TX_PKTS_128_TO_255_OCTETS` (nfp_port.h:204).
    pub const TX_PKTS_128_TO_255_OCTETS: usize = 0x1a8;
    /// `NFP_MAC_STATS_TX_PKTS_1024_TO_1518_OCTETS` (nfp_port.h:205).
    pub const TX_PKTS_1024_TO_1518_OCTETS: usize = 0x1b0;
    /// `NFP_MAC_STATS_TX_PKTS_1519_TO_MAX_OCTETS` (nfp_port.h:206).
    pub const TX_PKTS_1519_TO_MAX_OCTETS: usize = 0x1b8;
}

/// The 64 u64 MAC counters of one port.
pub struct MacStats([AtomicU64; (NFP_MAC_STATS_SIZE / 8) as usize]);

impl Default for MacStats {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl MacStats {
    /// Add `n` to the counter at byte offset `off` (a [`mac`] offset).
    pub fn add(&self, off: usize, n: u64) {
        if let Some(c) = self.0.get(off / 8) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counter at byte offset `off` (a [`mac`] offset); 0 if none.
    pub fn get(&self, off: usize) -> u64 {
        self.0.get(off / 8).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    fn count(&self, frame: &[u8], rx: bool) {
        use mac::*;
        let len = frame.len() as u64;
        // Sizes on the wire include the 4-byte FCS.
        let wire = len + 4;
        let bucket = |b: [usize; 7]| match wire {
            0..=64 => b[0],
            65..=127 => b[1],
            128..=255 => b[2],
            256..=511 => b[3],
            512..=1023 => b[4],
            1024..=1518 => b[5],
            _ => b[6],
        };
        if rx {
            self.add(RX_IN_OCTETS, wire);
            self.add(RX_FRAMES_RECEIVED_OK, 1);
            self.add(RX_PKTS, 1);
            self.add(
                bucket([
                    RX_PKTS_64_OCTETS,
                    RX_PKTS_65_TO_127_OCTETS,
                    RX_PKTS_128_TO_255_OCTETS,
                    RX_PKTS_256_TO_511_OCTETS,
                    RX_PKTS_512_TO_1023_OCTETS,
                    RX_PKTS_1024_TO_1518_OCTETS,
                    RX_PKTS_1519_TO_MAX_OCTETS,
                ]),
                1,
            );
            if wire < 64 {
                self.add(RX_UNDERSIZE_PKTS, 1);
            }
            match pkt::dst_class(frame) {
                pkt::Dst::Unicast => self.add(RX_UNICAST_PKTS, 1),
                pkt::Dst::Multicast => self.add(RX_MULTICAST_PKTS, 1),
                pkt::Dst::Broadcast => self.add(RX_IN_BROADCAST_PKTS, 1),
            }
        } else {
            self.add(TX_OUT_OCTETS, wire);
            self.add(TX_FRAMES_TRANSMITTED_OK, 1);
            self.add(
                bucket([
                    TX_PKTS_64_OCTETS,
                    TX_PKTS_65_TO_127_OCTETS,
                    TX_PKTS_128_TO_255_OCTETS,
                    TX_PKTS_256_TO_511_OCTETS,
                    TX_PKTS_512_TO_1023_OCTETS,
                    TX_PKTS_1024_TO_1518_OCTETS,
                    TX_PKTS_1519_TO_MAX_OCTETS,
                ]),
                1,
            );
            match pkt::dst_class(frame) {
                pkt::Dst::Unicast => self.add(TX_UNICAST_PKTS, 1),
                pkt::Dst::Multicast => self.add(TX_MULTICAST_PKTS, 1),
                pkt::Dst::Broadcast => self.add(TX_BROADCAST_PKTS, 1),
            }
        }
    }
}

/// vNICs of the running firmware, where its MAC counters live and what
/// its BPF capabilities are.
#[derive(Default)]
struct Attached {
    vnics: Vec<Arc<VnicDp>>,
    /// The data vNIC of each port.
    by_port: Vec<Option<Arc<VnicDp>>>,
    /// MU address of `_mac_stats`.
    mac_stats: Option<u64>,
    caps: Option<BpfCaps>,
}

/// The datapath of one card.
pub struct Datapath {
    /// Guest memory, queue controller and MSI-X: what NFD reaches.
    pub host: Host,
    /// The physical ports, by number.
    pub wires: Vec<Wire>,
    /// ETH-table position of each port: its MAC counter slot.
    slots: Vec<usize>,
    /// The MAC counters of each port.
    pub mac_stats: Vec<MacStats>,
    /// Frame buffers of the flow processor's jobs and the loopback cables.
    pool: Arc<FramePool>,
    attached: RwLock<Arc<Attached>>,
    /// The receiving ends of the ports, until [`Self::start`] takes them.
    inputs: parking_lot::Mutex<Vec<Option<PortRx>>>,
    fp_cfg: FpConfig,
    /// The flow processor, started with the port threads.
    fp: OnceLock<FlowProcessor<RxTag>>,
    /// Write every BPF image loaded into this directory.
    bpf_dump: Option<PathBuf>,
    last_dump: AtomicU64,
    /// The BPF maps of the running firmware.
    pub maps: Arc<MapStore>,
    /// The timing model of the flow processor (docs/timing.md).
    timing: Arc<crate::fp::timing::Timing>,
}

impl std::fmt::Debug for Datapath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Datapath")
            .field("wires", &self.wires)
            .finish_non_exhaustive()
    }
}

impl Datapath {
    /// A datapath whose port `i` is cabled as `specs[i]` and sits at ETH
    /// table position `slots[i]`; offloaded maps live in `map_region` of
    /// EMEM.
    pub fn new(
        msix_vectors: u16,
        specs: &[PortSpec],
        slots: Vec<usize>,
        pcap_dir: Option<&std::path::Path>,
        fp_cfg: FpConfig,
        bpf_dump: Option<PathBuf>,
        map_region: std::ops::Range<u64>,
    ) -> Result<Arc<Self>, PortError> {
        let pool = Arc::new(FramePool::default());
        let ports = ports::connect(specs, pcap_dir, &pool)?;
        let (wires, inputs): (Vec<Wire>, Vec<PortRx>) = ports.into_iter().unzip();
        Ok(Arc::new(Self {
            host: Host::new(msix_vectors),
            mac_stats: wires.iter().map(|_| MacStats::default()).collect(),
            wires,
            slots,
            pool,
            attached: RwLock::new(Arc::new(Attached::default())),
            inputs: parking_lot::Mutex::new(inputs.into_iter().map(Some).collect()),
            fp_cfg,
            fp: OnceLock::new(),
            bpf_dump,
            last_dump: AtomicU64::new(0),
            maps: Arc::new(MapStore::with_region(map_region)),
            timing: Arc::default(),
        }))
    }

    /// The flow processor (once started).
    pub fn fp(&self) -> Option<&FlowProcessor<RxTag>> {
        self.fp.get()
    }

    /// Start the flow processor and one receive thread per connected port.
    pub fn start(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        self.fp.get_or_init(|| {
            let fw = Arc::new(helpers::FirmwareEnv {
                maps: self.maps.clone(),
                dp: weak.clone(),
            });
            self.timing.set_firmware(fw.clone());
            let env: Arc<dyn crate::fp::exec::Env + Send + Sync> = fw;
            let handler: crate::fp::Handler<RxTag> = Arc::new(move |job, out, ctm| {
                if let Some(dp) = weak.upgrade() {
                    dp.fp_done(job, out, ctm);
                }
            });
            let exec = self.fp_cfg.exec.executor();
            FlowProcessor::with_timing(self.fp_cfg, exec, &env, &handler, self.timing.clone())
        });
        let inputs: Vec<Option<PortRx>> = std::mem::take(&mut *self.inputs.lock());
        for (port, input) in inputs.into_iter().enumerate() {
            let Some(mut input) = input else { continue };
            if matches!(input.readiness(), Readiness::Never) {
                continue;
            }
            let weak: Weak<Self> = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name(format!("port{port}-rx"))
                .spawn(move || {
                    // The thread keeps the datapath while its port has input.
                    let Some(dp) = weak.upgrade() else {
                        return;
                    };
                    ports::receive_loop(port, &mut *input, |batch| {
                        for frame in batch.frames() {
                            dp.wire_rx(port, frame);
                        }
                        true
                    });
                });
            if let Err(e) = spawned {
                warn!(target: "nfp_emu::ports", "cannot start the receive thread of port {port}: {e}");
            }
        }
    }

    /// Whether port `i` has a cable.
    pub fn link_up(&self, port: usize) -> bool {
        self.wires.get(port).is_some_and(Wire::link_up)
    }

    /// The running firmware's vNICs, `_mac_stats` and BPF capabilities
    /// (or nothing when firmware stops); its maps start empty.
    pub fn attach(&self, vnics: Vec<Arc<VnicDp>>, mac_stats: Option<u64>, caps: Option<BpfCaps>) {
        self.maps.reset(caps.as_ref().and_then(|c| c.maps));
        let by_port = (0..self.wires.len())
            .map(|port| {
                vnics
                    .iter()
                    .find(|v| v.params.kind == VnicKind::Data { port })
                    .cloned()
            })
            .collect();
        *self.attached.write() = Arc::new(Attached {
            vnics,
            by_port,
            mac_stats,
            caps,
        });
    }

    /// Firmware stopped: no vNICs, no MAC counters, no maps.
    pub fn detach(&self) {
        self.attach(Vec::new(), None, None);
    }

    /// The helper id the firmware has at ustore address `addr`.
    pub fn helper_at(&self, addr: u16) -> Option<u32> {
        self.attached().caps.as_ref()?.helper_at(addr)
    }

    /// Send a message to the host on the control vNIC.
    pub fn to_ctrl(&self, msg: &[u8]) {
        let a = self.attached();
        match a.vnics.iter().find(|v| v.params.kind == VnicKind::Ctrl) {
            Some(v) => {
                if let Err(why) = v.deliver(&self.host, msg) {
                    crate::guest_debug!(?why, "control message to the host not delivered");
                }
            }
            None => crate::guest_debug!("no control vNIC: message dropped"),
        }
    }

    fn attached(&self) -> Arc<Attached> {
        self.attached.read().clone()
    }

    fn data_vnic(&self, port: usize) -> Option<Arc<VnicDp>> {
        self.attached.read().by_port.get(port).cloned().flatten()
    }

    /// A frame arrived on port `port` from the wire.
    pub fn wire_rx(&self, port: usize, frame: &[u8]) {
        if self.wires.get(port).is_none() {
            return;
        }
        let m = &self.mac_stats[port];
        if frame.len() > ports::MAX_FRAME {
            m.add(mac::RX_FRAME_TOO_LONG_ERRORS, 1);
            return;
        }
        m.count(frame, true);
        let Some(v) = self.data_vnic(port) else {
            m.add(mac::RX_DROP_EVENTS, 1);
            return;
        };
        let cfg = v.config();
        if let (Some(prog), Some(fp)) = (v.offload(&cfg), self.fp.get()) {
            // The vNIC counts every frame it receives, whatever the program
            // then does with it (seeds/000, "Stat Watch": dev_rx_pkts).
            v.stats.count_frame(frame, true);
            let mut buf = self.pool.get();
            buf.extend_from_slice(frame);
            let job = Job {
                tag: RxTag { port, vnic: v },
                prog,
                frame: buf,
            };
            if let Err(job) = fp.submit(pkt::flow_hash(frame), job) {
                m.add(mac::RX_DROP_EVENTS, 1);
                self.pool.put(job.frame);
            }
            return;
        }
        self.to_host(port, &v, &cfg, frame, None, true);
    }

    fn to_host(
        &self,
        port: usize,
        v: &VnicDp,
        cfg: &VnicConfig,
        frame: &[u8],
        queue: Option<u8>,
        count: bool,
    ) {
        if let Err(why) = v.deliver_to(&self.host, cfg, frame, queue, count) {
            crate::guest_debug!(port, ?why, "frame not delivered to the host");
            if why == RxDrop::NoBuffer {
                self.mac_stats[port].add(mac::RX_DROP_EVENTS, 1);
            }
        }
    }

    /// The flow processor finished a packet: count it under the BPF
    /// counter the program chose (bpf.md §7) and carry out its verdict.
    fn fp_done(&self, job: Job, out: &Outcome, ctm: &[u8]) {
        let v = &job.tag.vnic;
        if let Some(s) = out.stat {
            let w = stat::APP0_FRAMES + 2 * usize::from(s);
            v.stats.add(w, 1);
            v.stats.add(w + 1, job.frame.len() as u64);
        }
        if let Some(f) = out.fault {
            if job.prog.count_fault() == 0 {
                crate::guest_warn!("{}: packet aborted (XDP_ABORTED): {f}", v.name());
            } else {
                crate::guest_debug!("{}: packet aborted: {f}", v.name());
            }
        }
        if out.fault.is_none() && out.stat == Some(3) {
            crate::guest_debug!(
                "{}: program {} returned XDP_ABORTED (result {:#010x}, {} instructions)",
                v.name(),
                job.prog.seq,
                out.result,
                out.steps
            );
        }
        let data = ctm.get(out.data.clone()).unwrap_or_default();
        match out.action {
            Action::Pass => self.to_host(job.tag.port, v, &v.config(), data, out.queue, false),
            Action::Tx => self.wire_tx(job.tag.port, data),
            Action::Drop => {}
        }
        match out.cost {
            Some(cost) => self.record(job, out, &cost),
            None => self.pool.put(job.frame),
        }
    }

    /// After a reconfig of `v` (on the control thread): hand a newly
    /// loaded BPF program to the flow processor's executor to prepare
    /// (translate it; its packets run meanwhile), register it with the
    /// timing model, and write it to the dump directory, raw and
    /// disassembled.
    pub fn note_bpf(&self, v: &VnicDp) {
        let Some(p) = v.bpf() else {
            return;
        };
        if let Some(fp) = self.fp.get() {
            fp.prepare(&p);
        }
        self.note_bpf_timing(v);
        let Some(dir) = &self.bpf_dump else {
            return;
        };
        if self.last_dump.fetch_max(p.seq, Ordering::AcqRel) >= p.seq {
            return;
        }
        let base = dir.join(format!("{}-prog{}", v.name().replace(' ', ""), p.seq));
        let raw: Vec<u8> = p.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let text = crate::fp::disasm::listing(&p.words, p.start);
        for (path, bytes) in [
            (base.with_extension("bin"), &raw[..]),
            (base.with_extension("dis.txt"), text.as_bytes()),
        ] {
            if let Err(e) = std::fs::write(&path, bytes) {
                warn!(target: "nfp_emu::fp", "cannot write {}: {e}", path.display());
            }
        }
        info!(target: "nfp_emu::fp", "{}: BPF image written to {}.bin", v.name(), base.display());
    }

    /// Put a frame on port `port`'s wire; the MAC pads it to the 60-byte
    /// minimum.
    pub fn wire_tx(&self, port: usize, frame: &[u8]) {
        let Some(w) = self.wires.get(port) else {
            return;
        };
        let mut padded = [0u8; ETH_ZLEN];
        let frame = if frame.len() < ETH_ZLEN {
            padded[..frame.len()].copy_from_slice(frame);
            &padded[..]
        } else {
            frame
        };
        if w.send(frame) {
            self.mac_stats[port].count(frame, false);
        } else {
            self.mac_stats[port].add(mac::TX_QUEUE_DROP, 1);
        }
    }

    /// The host rang TX ring `ring` of `vnic`.
    pub fn host_tx(&self, vnic: &VnicDp, ring: usize) {
        match vnic.params.kind {
            VnicKind::Data { port } => {
                vnic.tx_kick(&self.host, ring, &mut |f| self.wire_tx(port, f));
            }
            VnicKind::Ctrl => {
                let slots = self.attached().caps.as_ref().map(BpfCaps::cmsg_slots);
                vnic.tx_kick(&self.host, ring, &mut |f| match slots {
                    Some(slots) => {
                        if let Some(reply) = self.maps.handle_ccm(f, slots) {
                            if let Err(why) = vnic.deliver(&self.host, &reply) {
                                crate::guest_warn!(
                                    ?why,
                                    "reply to a control message not delivered"
                                );
                            }
                        }
                    }
                    None => {
                        crate::guest_debug!(
                            len = f.len(),
                            "control message for a firmware without BPF; dropped"
                        );
                        vnic.stats.add(stat::TX_DISCARDS, 1);
                    }
                });
            }
        }
    }

    /// Link state of every data vNIC follows its port's cable.
    pub fn refresh_links(&self) {
        for v in &self.attached().vnics {
            if let VnicKind::Data { port } = v.params.kind {
                v.set_link(&self.host, self.link_up(port));
            }
        }
    }

    /// Serve the overlay registers inside an MU read at `addr` (after the
    /// plain memory filled `buf`).
    pub fn overlay_read(&self, addr: u64, buf: &mut [u8]) {
        let a = self.attached();
        let end = addr.saturating_add(buf.len() as u64);
        for v in &a.vnics {
            let bar = v.params.bar;
            if addr < bar.saturating_add(NFP_NET_CFG_BAR_SZ) && bar < end {
                let (skip, off) = if addr >= bar {
                    (0, addr - bar)
                } else {
                    ((bar - addr) as usize, 0)
                };
                if let Some(b) = buf.get_mut(skip..) {
                    if (off..off.saturating_add(b.len() as u64)).any(VnicDp::is_overlay) {
                        v.overlay_read(off, b);
                    }
                }
            }
        }
        if let Some(base) = a.mac_stats {
            for (port, &slot) in self.slots.iter().enumerate() {
                // `_mac_stats` comes from the firmware image: a slot past
                // the end of the address space is no slot.
                let Some((s, s_end)) = (slot as u64)
                    .checked_mul(NFP_MAC_STATS_SIZE)
                    .and_then(|o| base.checked_add(o))
                    .and_then(|s| Some((s, s.checked_add(NFP_MAC_STATS_SIZE)?)))
                else {
                    continue;
                };
                if addr < s_end && s < end {
                    for (a, b) in (addr..end).zip(buf.iter_mut()) {
                        if (s..s_end).contains(&a) {
                            let off = (a - s) as usize;
                            *b = self.mac_stats[port].get(off & !7).to_le_bytes()[off % 8];
                        }
                    }
                }
            }
        }
    }

    /// Side effects of an MU write at `addr` on overlay registers.
    pub fn overlay_write(&self, addr: u64, data: &[u8]) {
        let a = self.attached();
        let end = addr.saturating_add(data.len() as u64);
        for v in &a.vnics {
            let bar = v.params.bar;
            if addr >= bar && end <= bar.saturating_add(NFP_NET_CFG_BAR_SZ) {
                let off = addr - bar;
                if (off..off.saturating_add(data.len() as u64)).any(VnicDp::is_overlay) {
                    v.overlay_write(&self.host, off, data);
                }
            }
        }
    }

    /// One line per port for logs.
    pub fn describe_ports(&self) {
        for w in &self.wires {
            info!(target: "nfp_emu::ports", "port {}: {} (link {})", w.index, w.spec, if w.link_up() { "up" } else { "down" });
        }
    }
}

#[cfg(test)]
mod tests;
