//! The card's datapath: frames from the wire ports go to the host through
//! the data vNIC of their port, or, while the vNIC has an offloaded BPF
//! program, through the flow processor that runs it and then to the host,
//! back out of the port, or nowhere; frames the host transmits go out of the
//! vNIC's port. MAC counters are kept per port, and the overlay registers
//! (ICR, counters, link status) are served from here so the datapath never
//! takes the control-plane lock.

pub mod capture;
pub mod helpers;
pub mod mac;
mod rx;
mod timing;
mod tx;

pub use rx::{AttachError, RxLane};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::RwLock;
use tracing::{info, warn};

use crate::counters::{Counters, visit_in};
use crate::fp::exec::Program;
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
pub use mac::{MacStats, NFP_MAC_STATS_SIZE};

/// Minimum Ethernet frame without FCS (`ETH_ZLEN`).
pub const ETH_ZLEN: usize = 60;

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
    /// The monitor's pcap captures, by port.
    captures: Box<[capture::PortCapture]>,
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
        Ok(Self::with_ports(
            msix_vectors,
            ports,
            slots,
            pool,
            fp_cfg,
            bpf_dump,
            map_region,
        ))
    }

    /// As [`Self::new`], with the ports already connected (`ports[i]` is
    /// port `i` and its receiving end; loopback cables take their buffers
    /// from `pool`).
    fn with_ports(
        msix_vectors: u16,
        ports: Vec<(Wire, PortRx)>,
        slots: Vec<usize>,
        pool: Arc<FramePool>,
        fp_cfg: FpConfig,
        bpf_dump: Option<PathBuf>,
        map_region: std::ops::Range<u64>,
    ) -> Arc<Self> {
        let (wires, inputs): (Vec<Wire>, Vec<PortRx>) = ports.into_iter().unzip();
        Arc::new(Self {
            host: Host::new(msix_vectors),
            mac_stats: wires.iter().map(|_| MacStats::default()).collect(),
            captures: wires
                .iter()
                .map(|_| capture::PortCapture::default())
                .collect(),
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
        })
    }

    /// The vNICs of the running firmware (data vNICs, then the control
    /// vNIC), none before firmware runs.
    pub fn vnics(&self) -> Vec<Arc<VnicDp>> {
        self.attached().vnics.clone()
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
            let end_of = weak.clone();
            let handler: crate::fp::Handler<RxTag> = Arc::new(move |job, out, ctm| {
                if let Some(dp) = weak.upgrade() {
                    dp.fp_done(job, out, ctm);
                }
            });
            let batch_end: crate::fp::BatchEnd = Arc::new(move || {
                if let Some(dp) = end_of.upgrade() {
                    dp.worker_tx_flush();
                }
            });
            let exec = self.fp_cfg.exec.executor();
            FlowProcessor::with_batch_end(
                self.fp_cfg,
                exec,
                &env,
                &handler,
                Some(batch_end),
                self.timing.clone(),
            )
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
                    let mut lane = dp.rx_lane();
                    ports::receive_loop(port, &mut *input, |batch| {
                        dp.wire_rx_batch(port, batch, &mut lane);
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
        // Helper addresses the datapath's threads resolved belong to the
        // firmware before.
        self.maps.invalidate();
    }

    /// Firmware stopped: no vNICs, no MAC counters, no maps.
    pub fn detach(&self) {
        self.attach(Vec::new(), None, None);
    }

    /// The helper id the firmware has at ustore address `addr`.
    pub fn helper_at(&self, addr: u16) -> Option<u32> {
        self.attached().caps.as_ref()?.helper_at(addr)
    }

    /// The firmware's helpers: `(helper id, ustore address)` as its
    /// capabilities announce them (none without firmware or BPF).
    pub fn helper_funcs(&self) -> Vec<(u32, u32)> {
        self.attached()
            .caps
            .as_ref()
            .map(|c| c.funcs.clone())
            .unwrap_or_default()
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
        if let Some(c) = self.port_capture(port).filter(|c| c.on()) {
            c.frame(&self.pool, capture::Direction::Rx, frame);
        }
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
            // then does with it (Netronome's eBPF Offload Getting Started Guide, "Stat Watch":
            // dev_rx_pkts).
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
    /// counter the program chose (docs/bpf-offload.md#exit-result-word-verdicts-and-counters) and
    /// carry out its verdict.
    fn fp_done(&self, job: Job, out: &Outcome, ctm: &[u8]) {
        let v = &job.tag.vnic;
        let count = &mut |w, n| v.stats.add(w, n);
        let port = job.tag.port;
        let tx = &mut |f: &[u8]| self.worker_tx(port, f);
        self.complete(port, v, &job.prog, job.frame.len(), out, ctm, count, tx);
        match out.cost {
            Some(cost) => self.record(job, out, &cost),
            None => self.pool.put(job.frame),
        }
    }

    /// The verdict `out` of `prog` on a frame of `len` bytes from port
    /// `port` (received by `v`), whose data is in `ctm`: count it under
    /// the vNIC counter words it gives `count` and carry it out (XDP_TX:
    /// the frame goes to `tx`, to leave port `port`).
    #[allow(clippy::too_many_arguments)]
    fn complete(
        &self,
        port: usize,
        v: &VnicDp,
        prog: &Program,
        len: usize,
        out: &Outcome,
        ctm: &[u8],
        count: &mut impl FnMut(usize, u64),
        tx: &mut impl FnMut(&[u8]),
    ) {
        if let Some(s) = out.stat {
            let w = stat::APP0_FRAMES + 2 * usize::from(s);
            count(w, 1);
            count(w + 1, len as u64);
        }
        if let Some(f) = out.fault {
            if prog.count_fault() == 0 {
                crate::guest_warn!("{}: packet aborted (XDP_ABORTED): {f}", v.name());
            } else {
                crate::guest_debug!("{}: packet aborted: {f}", v.name());
            }
        }
        if out.fault.is_none() && out.stat == Some(3) {
            crate::guest_debug!(
                "{}: program {} returned XDP_ABORTED (result {:#010x}, {} instructions)",
                v.name(),
                prog.seq,
                out.result,
                out.steps
            );
        }
        let data = ctm.get(out.data.clone()).unwrap_or_default();
        match out.action {
            Action::Pass => self.to_host(port, v, &v.config(), data, out.queue, false),
            Action::Tx => tx(data),
            Action::Drop => {}
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
        // The capture sees every frame handed to the wire, sent or not
        // (as `--pcap DIR` does).
        if let Some(c) = self.port_capture(port).filter(|c| c.on()) {
            c.frame(&self.pool, capture::Direction::Tx, frame);
        }
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
                // A kick's frames leave one at a time, as the ring yields
                // them (batched sends serve the card's own XDP_TX).
                vnic.tx_kick(&self.host, ring, &mut |f| self.wire_tx(port, f));
            }
            VnicKind::Ctrl => {
                let slots = self.attached().caps.as_ref().map(BpfCaps::cmsg_layout);
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

/// The datapath's counters (docs/counters.md): per port `portP.mac.*` and
/// `portP.wire.*`; per vNIC of the running firmware `vnicN.*` (N its
/// port) and `vnic_ctrl.*`; `dma.*`, `msix.*`, `qc.*`; and, once started,
/// the flow processor's `fp.*`; the timing model's per-program totals
/// `timing.progN.*`. A visitor must not call back into the
/// card: the MSI-X table's read lock is held while its two counters are
/// visited.
impl Counters for Datapath {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        for (p, (m, w)) in self.mac_stats.iter().zip(&self.wires).enumerate() {
            visit_in(format_args!("port{p}.mac"), m, visit);
            visit_in(format_args!("port{p}.wire"), &w.stats, visit);
        }
        for v in &self.attached().vnics {
            match v.params.kind {
                VnicKind::Data { port } => visit_in(format_args!("vnic{port}"), &**v, visit),
                VnicKind::Ctrl => visit_in("vnic_ctrl", &**v, visit),
            }
        }
        visit_in("dma", &self.host.mem.stats, visit);
        visit_in("msix", &*self.host.msix.read(), visit);
        visit_in("qc", &self.host.qc, visit);
        if let Some(fp) = self.fp.get() {
            visit_in("fp", &*fp.stats, visit);
        }
        visit_in("timing", &*self.timing, visit);
    }
}

#[cfg(test)]
mod tests;
