//! A hostile guest as a byte stream: each operation (raw config-space and
//! BAR accesses, vNIC register writes and reconfigs, descriptors and
//! buffers written into guest memory, doorbells, frames from the wire,
//! control messages, program loads, DMA and MSI-X changes, NSP commands)
//! is decoded from the next bytes of the input and carried out on a card
//! whose firmware runs and whose data and control vNICs have their rings
//! up in guest memory ([`Storm::new`]), so the input reaches descriptors,
//! DMA and interrupts, not only registers.
//!
//! The same interpreter serves the card's random storm unit test (bytes
//! from a PRNG) and the `card_mmio` fuzz target (bytes from libFuzzer).
//! The only property checked is the one a device model owes a hostile
//! guest: no operation panics (overflow checks are on in tests and fuzz
//! builds) or hangs.

use crate::nfd::ctrl::{
    NFP_NET_CFG_BAR_SZ, NFP_NET_CFG_BPF_ADDR, NFP_NET_CFG_BPF_SIZE, NFP_NET_CFG_CTRL_ENABLE,
    NFP_NET_CFG_CTRL_GATHER, NFP_NET_CFG_CTRL_L2BC, NFP_NET_CFG_CTRL_LSO, NFP_NET_CFG_CTRL_PROMISC,
    NFP_NET_CFG_CTRL_RSS2, NFP_NET_CFG_CTRL_RXCSUM, NFP_NET_CFG_CTRL_TXCSUM,
    NFP_NET_CFG_UPDATE_BPF,
};
use crate::nfd::ctrl::{NFP_NET_CFG_STATS_BASE, stat};
use crate::nfd::desc::TxDesc;
use crate::nsp::{NSP_CSR_BASE, NSP_CSR_SIZE};
use crate::pcie::local::{NFP_PCIE_BAR_PF0, NFP_PCIE_CFG_EXPBAR_OFFSET, NFP_QCP_BASE};

use super::{Driver, RingLayout, VnicRig};

/// Bus address of the data vNIC's guest RAM; the control vNIC's follows.
pub const STORM_RAM: u64 = 0x10_0000;
/// Ring size of the storm's vNICs: 64 descriptors.
const STORM_RING_LOG2: u8 = 6;
/// MSI-X vectors of the data and control vNICs' ring pairs.
const DATA_VECTOR: u8 = 1;
const CTRL_VECTOR: u8 = 3;
/// The data vNIC's CTRL word: enabled with every offload it offers.
const DATA_CTRL: u32 = NFP_NET_CFG_CTRL_ENABLE
    | NFP_NET_CFG_CTRL_PROMISC
    | NFP_NET_CFG_CTRL_L2BC
    | NFP_NET_CFG_CTRL_RXCSUM
    | NFP_NET_CFG_CTRL_TXCSUM
    | NFP_NET_CFG_CTRL_GATHER
    | NFP_NET_CFG_CTRL_LSO
    | NFP_NET_CFG_CTRL_RSS2;
/// Most operations one input carries out (inputs are bounded anyway; this
/// bounds the time of one storm).
pub const STORM_MAX_OPS: usize = 4096;
/// Largest frame, buffer write or message one operation carries.
const MAX_CHUNK: usize = 2048;
/// Most instructions of a program loaded by one operation.
const MAX_PROG_WORDS: usize = 64;

/// Operation codes: the first byte of each operation, modulo [`op::COUNT`].
pub mod op {
    /// Raw BAR write (BAR0 CSRs, QC, the mock's window, BAR2, BAR4, any).
    pub const BAR_WRITE: u8 = 0;
    /// Raw BAR read.
    pub const BAR_READ: u8 = 1;
    /// Config-space read or write (mostly the expansion-BAR alias).
    pub const CONFIG: u8 = 2;
    /// A write into a vNIC's control BAR or the NSP CSRs.
    pub const VNIC_REG: u8 = 3;
    /// A reconfig with a given UPDATE word.
    pub const RECONFIG: u8 = 4;
    /// Bytes written anywhere in the vNICs' guest RAM.
    pub const GUEST_WRITE: u8 = 5;
    /// TX descriptors with fuzzed fields, then a doorbell.
    pub const TX_DESCS: u8 = 6;
    /// One frame sent the way the driver sends it.
    pub const SEND: u8 = 7;
    /// Freelist buffers posted.
    pub const POST_FL: u8 = 8;
    /// A doorbell on any queue.
    pub const DOORBELL: u8 = 9;
    /// A frame from the wire.
    pub const WIRE_RX: u8 = 10;
    /// An ICR byte unmasked.
    pub const UNMASK: u8 = 11;
    /// RX ring drained and the freelist refilled.
    pub const DRAIN: u8 = 12;
    /// A program loaded with UPDATE_BPF.
    pub const LOAD_PROGRAM: u8 = 13;
    /// The data vNIC's RAM unmapped, or mapped again.
    pub const DMA_TOGGLE: u8 = 14;
    /// An MSI-X vector's eventfd released, or assigned.
    pub const MSIX_TOGGLE: u8 = 15;
    /// An NSP command.
    pub const NSP: u8 = 16;
    /// A vNIC brought up again.
    pub const ENABLE: u8 = 17;
    /// Number of operations.
    pub const COUNT: u8 = 18;
}

/// A reader of the operation stream: reads past the end give zeros, so
/// every input decodes to some sequence of operations.
#[derive(Debug)]
pub struct ByteStream<'a> {
    data: &'a [u8],
}

impl<'a> ByteStream<'a> {
    /// A stream over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let b = self.bytes(N);
        a[..b.len()].copy_from_slice(b);
        a
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// The next little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    /// The next little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// Everything not consumed yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }

    /// The next little-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// An access width: 1, 2, 4 or 8 bytes.
    fn width(&mut self) -> usize {
        1 << (self.u8() & 3)
    }

    /// A length-prefixed chunk of at most `max` bytes, mostly short.
    fn chunk(&mut self, max: usize) -> &'a [u8] {
        let n = match self.u8() {
            k @ 0..0xe0 => usize::from(k),
            _ => usize::from(self.u16()),
        };
        self.bytes(n % (max + 1))
    }
}

/// What a storm reached, read the way the driver reads it (vNIC counters
/// in the control BAR) plus the card's DMA error count and the interrupts
/// the mock's eventfds saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StormReach {
    /// Operations carried out.
    pub ops: u64,
    /// Frames the data vNIC sent (`NFP_NET_CFG_STATS_TX_FRAMES`).
    pub tx_frames: u64,
    /// TX packets refused for bad descriptors (`..._TX_ERRORS`).
    pub tx_errors: u64,
    /// Frames the data vNIC delivered to the host (`..._RX_FRAMES`).
    pub rx_frames: u64,
    /// Control messages answered on the control vNIC's RX ring.
    pub ctrl_rx_frames: u64,
    /// DMA accesses the card refused.
    pub dma_errors: u64,
    /// MSI-X interrupts raised on the ring vectors.
    pub irqs: u64,
}

/// The card, its driver mock and the two vNICs the storm drives.
#[derive(Debug)]
pub struct Storm {
    /// The driver side, owning the card.
    pub drv: Driver,
    /// Data vNIC 0 with its rings.
    pub data: VnicRig,
    /// The control vNIC with its rings.
    pub ctrl: VnicRig,
    /// Counts seen so far (counter deltas between samples, so a soft
    /// reset that clears the vNIC counters loses nothing already seen).
    seen: StormReach,
    last: StormReach,
}

/// Operations between two samples of the counters.
const SAMPLE_EVERY: u64 = 64;

impl Storm {
    /// A card with the project's firmware (ports cabled to each other,
    /// port threads not started), data vNIC 0 enabled with offloads and
    /// the control vNIC enabled, each with rings of 64 descriptors and
    /// freelists filled, in guest RAM from [`STORM_RAM`].
    pub fn new() -> Self {
        let mut drv = Driver::with_firmware();
        let data_bar = drv.rtsym_addr("_pf0_net_bar0").expect("_pf0_net_bar0");
        let ctrl_bar = drv
            .rtsym_addr("_pf0_net_ctrl_bar")
            .expect("_pf0_net_ctrl_bar");
        let layout = RingLayout::new(STORM_RAM, STORM_RING_LOG2, DATA_VECTOR);
        let mut data =
            VnicRig::enable(&mut drv, data_bar, layout, DATA_CTRL).expect("data vNIC up");
        let ctrl_layout = RingLayout::new(
            (layout.ram + layout.ram_size).next_multiple_of(1 << 20),
            STORM_RING_LOG2,
            CTRL_VECTOR,
        );
        let mut ctrl = VnicRig::enable(&mut drv, ctrl_bar, ctrl_layout, NFP_NET_CFG_CTRL_ENABLE)
            .expect("control vNIC up");
        let n = data.layout.slots() - 1;
        data.post_fl(&drv, n);
        ctrl.post_fl(&drv, n);
        Self {
            drv,
            data,
            ctrl,
            seen: StormReach::default(),
            last: StormReach::default(),
        }
    }

    /// Carry out the operations `input` encodes (at most
    /// [`STORM_MAX_OPS`]).
    pub fn run(&mut self, input: &[u8]) {
        let mut s = ByteStream::new(input);
        for _ in 0..STORM_MAX_OPS {
            if s.is_empty() {
                break;
            }
            self.step(&mut s);
        }
    }

    /// What the storm reached so far.
    pub fn reach(&mut self) -> StormReach {
        self.sample();
        self.seen
    }

    /// Add what the counters moved since the last sample.
    fn sample(&mut self) {
        let stat = |rig: &VnicRig, word: usize| {
            self.drv
                .mu_read64(rig.bar + NFP_NET_CFG_STATS_BASE + 8 * word as u64)
        };
        let now = StormReach {
            ops: 0,
            tx_frames: stat(&self.data, stat::TX_FRAMES),
            tx_errors: stat(&self.data, stat::TX_ERRORS),
            rx_frames: stat(&self.data, stat::RX_FRAMES),
            ctrl_rx_frames: stat(&self.ctrl, stat::RX_FRAMES),
            dma_errors: self
                .drv
                .card
                .datapath()
                .host
                .mem
                .stats
                .errors
                .load(std::sync::atomic::Ordering::Relaxed),
            irqs: [DATA_VECTOR, CTRL_VECTOR]
                .into_iter()
                .map(|v| self.drv.irqs(u16::from(v)))
                .sum(),
        };
        let (seen, last) = (&mut self.seen, &self.last);
        let delta = |now: u64, last: u64| now.saturating_sub(last);
        seen.tx_frames += delta(now.tx_frames, last.tx_frames);
        seen.tx_errors += delta(now.tx_errors, last.tx_errors);
        seen.rx_frames += delta(now.rx_frames, last.rx_frames);
        seen.ctrl_rx_frames += delta(now.ctrl_rx_frames, last.ctrl_rx_frames);
        seen.dma_errors += delta(now.dma_errors, last.dma_errors);
        // The eventfds are read (reset) by the sample itself.
        seen.irqs += now.irqs;
        self.last = now;
    }

    /// The driver and the vNIC `sel` picks (bit 0: data or control).
    fn rig(&mut self, sel: u8) -> (&Driver, &mut VnicRig) {
        let rig = if sel & 1 == 0 {
            &mut self.data
        } else {
            &mut self.ctrl
        };
        (&self.drv, rig)
    }

    /// One operation.
    pub fn step(&mut self, s: &mut ByteStream<'_>) {
        self.seen.ops += 1;
        if self.seen.ops % SAMPLE_EVERY == 0 {
            self.sample();
        }
        let code = s.u8();
        match code % op::COUNT {
            op::BAR_WRITE => self.bar_access(s, true),
            op::BAR_READ => self.bar_access(s, false),
            op::CONFIG => self.config_access(s),
            op::VNIC_REG => self.vnic_reg_write(s),
            op::RECONFIG => {
                let sel = s.u8();
                let update = s.u32();
                let (drv, rig) = self.rig(sel);
                VnicRig::reconfig(drv, rig.bar, update);
            }
            op::GUEST_WRITE => {
                // Descriptors and buffers: anywhere in (or just past) the
                // two vNICs' RAM.
                let span = self.ctrl.layout.ram + self.ctrl.layout.ram_size - STORM_RAM;
                let at = STORM_RAM + u64::from(s.u32()) % (span + 64);
                let data = s.chunk(MAX_CHUNK);
                self.drv.guest_write(at, data);
            }
            op::TX_DESCS => self.tx_descriptors(s),
            op::SEND => {
                let sel = s.u8();
                let frame = s.chunk(MAX_CHUNK);
                let (drv, rig) = self.rig(sel);
                rig.send(drv, frame);
            }
            op::POST_FL => {
                let sel = s.u8();
                let n = u32::from(s.u8() % 80);
                let (drv, rig) = self.rig(sel);
                rig.post_fl(drv, n);
            }
            op::DOORBELL => self.doorbell(s),
            op::WIRE_RX => {
                let port = usize::from(s.u8() % 3);
                let kind = s.u8();
                let payload = s.chunk(MAX_CHUNK);
                let frame = frame(kind, payload);
                self.drv.card.datapath().wire_rx(port, &frame);
            }
            op::UNMASK => {
                let sel = s.u8();
                let (drv, rig) = self.rig(sel);
                rig.unmask(drv);
            }
            op::DRAIN => {
                // Drain what the card delivered, then refill the freelist.
                let sel = s.u8();
                let (drv, rig) = self.rig(sel);
                let mut n = 0;
                while n < rig.layout.slots() && rig.rx(drv).is_some() {
                    n += 1;
                }
                rig.post_fl(drv, n);
            }
            op::LOAD_PROGRAM => self.load_program(s),
            op::DMA_TOGGLE => {
                // DMA map changes: the data vNIC's RAM goes away or comes
                // back (fresh, zeroed).
                let l = self.data.layout;
                let mem = &self.drv.card.datapath().host.mem;
                if mem.unmap(l.ram, l.ram_size) == 0 {
                    self.drv.map_ram(l.ram, l.ram_size);
                }
            }
            op::MSIX_TOGGLE => {
                let v = u16::from(s.u8() % 8);
                let msix = &self.drv.card.datapath().host.msix;
                if msix.read().is_assigned(v) {
                    let _ = msix.write().release(u32::from(v), 1);
                } else {
                    self.drv.assign_vector(v);
                }
            }
            op::NSP => self.nsp(s),
            _ => {
                // op::ENABLE: bring a vNIC up again (after a soft reset and FW_STORED,
                // or after the storm reconfigured it into uselessness).
                let sel = s.u8();
                let (bar, layout) = {
                    let (_, rig) = self.rig(sel);
                    (rig.bar, rig.layout)
                };
                let ctrl = if sel & 1 == 0 {
                    DATA_CTRL
                } else {
                    NFP_NET_CFG_CTRL_ENABLE
                };
                if let Ok(mut rig) = VnicRig::enable(&mut self.drv, bar, layout, ctrl) {
                    rig.post_fl(&self.drv, layout.slots() - 1);
                    *self.rig(sel).1 = rig;
                }
            }
        }
    }

    /// A raw BAR access, biased towards the expansion-BAR CSRs, the queue
    /// controller (both through BAR0.0) and the window the mock last used.
    fn bar_access(&mut self, s: &mut ByteStream<'_>, write: bool) {
        let how = s.u8();
        let r = u64::from(s.u32());
        let (len, v) = write_value(s);
        let (bar, off) = match how % 6 {
            0 => (0, NFP_PCIE_BAR_PF0 + r % 0x200),
            1 => (0, NFP_QCP_BASE + r % (256 * 0x800)),
            2 => (
                0,
                super::driver::BAR0_SLICE * 2 + r % super::driver::BAR0_SLICE,
            ),
            3 => (2, r % (64 << 20)),
            4 => (4, r % (16 << 20)),
            _ => (usize::from(how >> 4) % 6, r << 8 | u64::from(how)),
        };
        let off = if how & 0x80 == 0 {
            off & !(len as u64 - 1)
        } else {
            off
        };
        if write {
            self.drv.card.bar_write(bar, off, &v[..len]);
        } else {
            let mut b = [0u8; 8];
            self.drv.card.bar_read(bar, off, &mut b[..len]);
        }
    }

    fn config_access(&mut self, s: &mut ByteStream<'_>) {
        let how = s.u8();
        let r = u64::from(s.u16());
        let len = s.width();
        let v = s.u64().to_le_bytes();
        let off = if how & 2 == 0 {
            NFP_PCIE_CFG_EXPBAR_OFFSET + r % 0x180
        } else {
            r % 4100
        };
        if how & 1 == 0 {
            self.drv.card.config_write(off, &v[..len]);
        } else {
            let mut b = [0u8; 8];
            self.drv.card.config_read(off, &mut b[..len]);
        }
    }

    /// A write into a vNIC's control BAR (or the NSP CSRs) through the
    /// mock's CPP window, biased to the ring and config registers.
    fn vnic_reg_write(&mut self, s: &mut ByteStream<'_>) {
        let sel = s.u8();
        let r = u64::from(s.u16());
        let (len, v) = write_value(s);
        let addr = match sel % 8 {
            5 => self.rig(sel >> 3).1.bar + VNIC_REGS[r as usize % VNIC_REGS.len()],
            6 => NSP_CSR_BASE + r % NSP_CSR_SIZE,
            7 => self.rig(sel >> 3).1.bar + r % NFP_NET_CFG_BAR_SZ,
            _ => self.rig(sel >> 3).1.bar + r % 0x0d00,
        };
        self.drv.mu_write(addr, &v[..len]);
    }

    /// TX descriptors of the driver's layout with fuzzed fields, their
    /// buffers in (or near) the TX buffer area, then a doorbell.
    fn tx_descriptors(&mut self, s: &mut ByteStream<'_>) {
        let n = 1 + u32::from(s.u8() % 8);
        let sel = s.u8();
        let (drv, rig) = self.rig(sel);
        for _ in 0..n {
            let raw = s.u64();
            let addr = if raw >> 63 == 0 {
                rig.layout.tx_bufs + (raw & 0xffff_ffff) % (rig.layout.buf_size * 66)
            } else {
                raw & ((1 << 40) - 1)
            };
            let f = s.array::<10>();
            let d = TxDesc {
                addr,
                dma_len: u16::from_le_bytes([f[0], f[1]]),
                eop: f[2] & 0x80 != 0,
                md_bytes: f[2] & 0x7f,
                mss: u16::from_le_bytes([f[3], f[4]]),
                lso_hdrlen: f[5],
                flags: f[6],
                l3_offset: f[7],
                l4_offset: f[8],
                data_len: u16::from_le_bytes([f[9], s.u8()]),
            };
            rig.put_tx(drv, &d);
        }
        let extra = u32::from(s.u8() >> 6);
        rig.kick_tx(drv, n + extra);
    }

    /// A doorbell on any queue, biased to the vNICs' own.
    fn doorbell(&mut self, s: &mut ByteStream<'_>) {
        let sel = s.u8();
        let n = match s.u8() {
            0xff => s.u32(),
            k => u32::from(k % 70),
        };
        let q = match sel % 4 {
            0 => self.data.txq.wrapping_add(u16::from(sel >> 2) % 32),
            1 => self.ctrl.txq.wrapping_add(u16::from(sel >> 2) % 32),
            _ => u16::from(s.u8()),
        };
        self.drv.qc_add_wptr(q, n);
    }

    /// A program of fuzzed instructions (ECC made valid unless the input
    /// says otherwise) placed in guest memory and loaded with UPDATE_BPF
    /// (`nfp_net_bpf_load()`, bpf/offload.c).
    fn load_program(&mut self, s: &mut ByteStream<'_>) {
        let flags = s.u8();
        let n = usize::from(s.u8()) % (MAX_PROG_WORDS + 1);
        let at = self.data.layout.tx_bufs;
        let mut image = Vec::with_capacity(8 * n);
        for _ in 0..n {
            let w = s.u64();
            let w = if flags & 1 == 0 {
                crate::fp::word::with_ecc(w & crate::fp::word::NFP_INSN_MASK)
            } else {
                w
            };
            image.extend_from_slice(&w.to_le_bytes());
        }
        self.drv.guest_write(at, &image);
        let bar = self.data.bar;
        let size = if flags & 2 == 0 { n as u16 } else { s.u16() };
        self.drv
            .mu_write(bar + NFP_NET_CFG_BPF_SIZE, &size.to_le_bytes());
        self.drv.mu_write64(bar + NFP_NET_CFG_BPF_ADDR, at);
        VnicRig::reconfig(&self.drv, bar, NFP_NET_CFG_UPDATE_BPF);
    }

    /// An NSP command with a fuzzed code, option and buffer.
    fn nsp(&mut self, s: &mut ByteStream<'_>) {
        let code = u16::from(s.u8() % 26);
        let option = match s.u8() {
            0xff => s.u32(),
            k => u32::from(k) * 16,
        };
        let input = s.chunk(256);
        let out_len = usize::from(s.u8());
        let _ = self.drv.nsp_command(code, option, input, out_len);
    }
}

impl Default for Storm {
    fn default() -> Self {
        Self::new()
    }
}

/// The control-BAR registers the card acts on (nfp_net_ctrl.h): CTRL,
/// UPDATE, ring enables, MTU, FLBUFSZ, LSC, BPF size and address, RSS
/// control, key and table, the ring registers of rings 0 and 1, an ICR.
const VNIC_REGS: [u64; 22] = [
    0x000, 0x004, 0x008, 0x010, 0x018, 0x01c, 0x020, 0x08e, 0x090, 0x100, 0x104, 0x12c, 0x200,
    0x208, 0x600, 0x601, 0x640, 0x800, 0x808, 0xa00, 0xa40, 0xc01,
];

/// Values that break address and length arithmetic.
const EDGE_VALUES: [u64; 8] = [
    0,
    1,
    u64::MAX,
    u64::MAX - 15,
    1 << 63,
    (1 << 40) - 8,
    u32::MAX as u64,
    0x8000_0000,
];

/// The width (1, 2, 4 or 8 bytes, bits 1:0 of the first byte) and value
/// of a register write: raw, or (bits 4:2 of the first byte = 5, 6, 7) an
/// edge value, an address in the storm's guest RAM, a small number.
fn write_value(s: &mut ByteStream<'_>) -> (usize, [u8; 8]) {
    let w = s.u8();
    let raw = s.u64();
    let v = match (w >> 2) & 7 {
        5 => EDGE_VALUES[(raw % 8) as usize],
        6 => STORM_RAM + raw % (8 << 20),
        7 => raw & 0xff,
        _ => raw,
    };
    (1 << (w & 3), v.to_le_bytes())
}

/// Builds operation streams (the seeds of the `card_mmio` fuzz target and
/// storms with a purpose); each method appends one operation as
/// [`Storm::step`] decodes it. `sel` picks the vNIC: even the data vNIC,
/// odd the control vNIC.
#[derive(Clone, Debug, Default)]
pub struct Ops(pub Vec<u8>);

impl Ops {
    fn chunk(&mut self, data: &[u8]) {
        match u8::try_from(data.len()) {
            Ok(n) if n < 0xe0 => self.0.push(n),
            _ => {
                self.0.push(0xff);
                let n = u16::try_from(data.len()).expect("chunk under 64 KiB");
                self.0.extend_from_slice(&n.to_le_bytes());
            }
        }
        self.0.extend_from_slice(data);
    }

    /// Send `frame` on the vNIC's TX ring ([`op::SEND`]).
    pub fn send(mut self, sel: u8, frame: &[u8]) -> Self {
        self.0.extend_from_slice(&[op::SEND, sel]);
        self.chunk(frame);
        self
    }

    /// A frame from the wire on `port`, built by [`frame`] ([`op::WIRE_RX`]).
    pub fn wire_rx(mut self, port: u8, kind: u8, payload: &[u8]) -> Self {
        self.0.extend_from_slice(&[op::WIRE_RX, port, kind]);
        self.chunk(payload);
        self
    }

    /// Post `n` freelist buffers ([`op::POST_FL`]).
    pub fn post_fl(mut self, sel: u8, n: u8) -> Self {
        self.0.extend_from_slice(&[op::POST_FL, sel, n]);
        self
    }

    /// Drain the RX ring and refill the freelist ([`op::DRAIN`]).
    pub fn drain(mut self, sel: u8) -> Self {
        self.0.extend_from_slice(&[op::DRAIN, sel]);
        self
    }

    /// Unmask the vNIC's ring vector ([`op::UNMASK`]).
    pub fn unmask(mut self, sel: u8) -> Self {
        self.0.extend_from_slice(&[op::UNMASK, sel]);
        self
    }

    /// Reconfig with `update` ([`op::RECONFIG`]).
    pub fn reconfig(mut self, sel: u8, update: u32) -> Self {
        self.0.extend_from_slice(&[op::RECONFIG, sel]);
        self.0.extend_from_slice(&update.to_le_bytes());
        self
    }

    /// Write the 4-byte `value` at offset `off` of the vNIC's control BAR
    /// ([`op::VNIC_REG`]).
    pub fn vnic_reg32(mut self, sel: u8, off: u16, value: u32) -> Self {
        self.0
            .extend_from_slice(&[op::VNIC_REG, 7 | (sel & 1) << 3]);
        self.0.extend_from_slice(&off.to_le_bytes());
        self.0.push(2);
        self.0.extend_from_slice(&u64::from(value).to_le_bytes());
        self
    }

    /// Load `words` (as DMAed, ECC included) with UPDATE_BPF on the data
    /// vNIC ([`op::LOAD_PROGRAM`]).
    pub fn load_program(mut self, words: &[u64]) -> Self {
        let n = u8::try_from(words.len().min(MAX_PROG_WORDS)).unwrap_or(0);
        self.0.extend_from_slice(&[op::LOAD_PROGRAM, 1, n]);
        for w in &words[..usize::from(n)] {
            self.0.extend_from_slice(&w.to_le_bytes());
        }
        self
    }

    /// An NSP command ([`op::NSP`]); `option` in units of 16.
    pub fn nsp(mut self, code: u8, option16: u8, input: &[u8], out_len: u8) -> Self {
        self.0.extend_from_slice(&[op::NSP, code, option16]);
        self.chunk(input);
        self.0.push(out_len);
        self
    }

    /// Bring the vNIC up again ([`op::ENABLE`]).
    pub fn enable(mut self, sel: u8) -> Self {
        self.0.extend_from_slice(&[op::ENABLE, sel]);
        self
    }

    /// Toggle the data vNIC's DMA mapping ([`op::DMA_TOGGLE`]).
    pub fn dma_toggle(mut self) -> Self {
        self.0.push(op::DMA_TOGGLE);
        self
    }
}

/// A frame from the wire: `payload` as it is, or behind an Ethernet
/// header (broadcast or the vNIC's MAC) with IPv4/IPv6 and TCP/UDP
/// headers whose length fields follow the payload, so the parsers,
/// checksums and RSS see plausible packets.
pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    if kind & 3 == 0 {
        return payload.to_vec();
    }
    let mut f = Vec::with_capacity(payload.len() + 74);
    let dst: [u8; 6] = if kind & 4 == 0 {
        [0xff; 6]
    } else {
        [0x00, 0x15, 0x4d, 0x00, 0x00, 0x99]
    };
    f.extend_from_slice(&dst);
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    let udp = kind & 8 != 0;
    let l4_len = payload.len() + if udp { 8 } else { 20 };
    let proto = if udp { 17 } else { 6 };
    if kind & 3 == 1 {
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + l4_len) as u16;
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&total.to_be_bytes());
        f.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, kind]);
    } else {
        f.extend_from_slice(&[0x86, 0xdd]);
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(l4_len as u16).to_be_bytes());
        f.extend_from_slice(&[proto, 64]);
        f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, kind]);
    }
    let ports = [0x30, kind, 0x00, 0x50];
    f.extend_from_slice(&ports);
    if udp {
        f.extend_from_slice(&(l4_len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    } else {
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    }
    f.extend_from_slice(payload);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_stream_reads_zeros_past_the_end() {
        let mut s = ByteStream::new(&[1, 2, 3]);
        assert_eq!(s.u16(), 0x0201);
        assert_eq!(s.u32(), 3);
        assert!(s.is_empty());
        assert_eq!(s.u64(), 0);
        assert_eq!(s.bytes(4), &[] as &[u8]);
    }

    #[test]
    fn frames_have_consistent_lengths() {
        let f = frame(1, &[0xaa; 10]);
        assert_eq!(f.len(), 14 + 20 + 20 + 10);
        assert_eq!(u16::from_be_bytes([f[16], f[17]]), 50, "IPv4 total length");
        let f = frame(2 | 8, &[0xaa; 10]);
        assert_eq!(f.len(), 14 + 40 + 8 + 10);
        assert_eq!(
            u16::from_be_bytes([f[18], f[19]]),
            18,
            "IPv6 payload length"
        );
        assert_eq!(frame(0, &[1, 2]), vec![1, 2]);
    }

    /// The storm's set-up is what the storm relies on: both vNICs up, a
    /// frame sent reaches the wire, one from the wire reaches the host
    /// with an interrupt, a control message gets its answer.
    #[test]
    fn storm_setup_reaches_rings_dma_and_interrupts() {
        let mut st = Storm::new();
        let drv = &st.drv;
        st.data.send(drv, &frame(1, &[7; 100]));
        drv.card.datapath().wire_rx(0, &frame(5, &[9; 60]));
        let got = st.data.rx(drv).expect("frame delivered to the RX ring");
        assert_eq!(usize::from(got.len - u16::from(got.meta_len)), 14 + 40 + 60);
        let reach = st.reach();
        assert_eq!((reach.tx_frames, reach.rx_frames), (1, 1));
        assert!(reach.irqs >= 1, "interrupt raised");
        assert_eq!(reach.dma_errors, 0);
    }
}
