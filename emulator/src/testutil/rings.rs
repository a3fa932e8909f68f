//! One vNIC brought up by the [`Driver`] as `nfp_net_open()` brings it up:
//! a TX ring, a freelist/RX ring and their buffers in guest RAM (a memfd
//! mapped for DMA), an MSI-X eventfd, the ring registers of the control
//! BAR and the reconfig doorbell; then packets posted and doorbells rung
//! as the NFD3 datapath does (nfd3/dp.c).

use crate::nfd::ctrl::{
    NFP_NET_CFG_CTRL, NFP_NET_CFG_CTRL_ENABLE, NFP_NET_CFG_FLBUFSZ, NFP_NET_CFG_ICR_BASE,
    NFP_NET_CFG_MACADDR, NFP_NET_CFG_MTU, NFP_NET_CFG_RXRS_ENABLE, NFP_NET_CFG_START_RXQ,
    NFP_NET_CFG_START_TXQ, NFP_NET_CFG_TXRS_ENABLE, NFP_NET_CFG_UPDATE, NFP_NET_CFG_UPDATE_GEN,
    NFP_NET_CFG_UPDATE_MSIX, NFP_NET_CFG_UPDATE_RING, nfp_net_cfg_rxr_addr, nfp_net_cfg_rxr_sz,
    nfp_net_cfg_rxr_vec, nfp_net_cfg_txr_addr, nfp_net_cfg_txr_sz, nfp_net_cfg_txr_vec,
};
use crate::nfd::desc::{NFD3_RX_DESC_SIZE, NFD3_TX_DESC_SIZE, PCIE_DESC_RX_DD, TxDesc, fl_desc};

use super::Driver;

/// Where a vNIC's rings and buffers sit in guest RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingLayout {
    /// Bus address of the RAM the rig maps for this vNIC.
    pub ram: u64,
    /// Its size.
    pub ram_size: u64,
    /// log2 of the descriptors per ring (TX and freelist/RX alike).
    pub log2: u8,
    /// TX ring (16-byte descriptors).
    pub tx: u64,
    /// Freelist/RX ring (8-byte descriptors; NFD3 shares one ring).
    pub rx: u64,
    /// TX buffers, one of `buf_size` per TX slot.
    pub tx_bufs: u64,
    /// Freelist buffers, one of `buf_size` per freelist slot.
    pub fl_bufs: u64,
    /// Bytes per buffer (also the freelist buffer size given to the card).
    pub buf_size: u64,
    /// The MSI-X vector of the ring pair.
    pub vector: u8,
}

impl RingLayout {
    /// Rings of 2^`log2` descriptors with 2 KiB buffers in RAM at `ram`,
    /// interrupting on `vector`.
    pub fn new(ram: u64, log2: u8, vector: u8) -> Self {
        Self::with_buf_size(ram, log2, vector, 2048)
    }

    /// [`RingLayout::new`] with buffers of `buf_size` bytes.
    pub fn with_buf_size(ram: u64, log2: u8, vector: u8, buf_size: u64) -> Self {
        let n = 1u64 << log2;
        let tx = ram;
        let rx = tx + (NFD3_TX_DESC_SIZE * n).next_multiple_of(4096);
        let tx_bufs = rx + (NFD3_RX_DESC_SIZE * n).next_multiple_of(4096);
        let fl_bufs = tx_bufs + buf_size * n;
        Self {
            ram,
            ram_size: fl_bufs + buf_size * n - ram,
            log2,
            tx,
            rx,
            tx_bufs,
            fl_bufs,
            buf_size,
            vector,
        }
    }

    /// Descriptors per ring.
    pub fn slots(&self) -> u32 {
        1 << self.log2
    }

    /// The TX descriptor of slot `slot` (the ring index wraps).
    pub fn tx_desc(&self, slot: u32) -> u64 {
        self.tx + NFD3_TX_DESC_SIZE * u64::from(slot & (self.slots() - 1))
    }

    /// The freelist/RX descriptor of slot `slot` (the ring index wraps).
    pub fn rx_desc(&self, slot: u32) -> u64 {
        self.rx + NFD3_RX_DESC_SIZE * u64::from(slot & (self.slots() - 1))
    }

    /// The TX buffer of slot `slot`.
    pub fn tx_buf(&self, slot: u32) -> u64 {
        self.tx_bufs + u64::from(slot & (self.slots() - 1)) * self.buf_size
    }

    /// The freelist buffer of slot `slot`.
    pub fn fl_buf(&self, slot: u32) -> u64 {
        self.fl_bufs + u64::from(slot & (self.slots() - 1)) * self.buf_size
    }
}

/// The TX descriptor of a whole packet of `len` bytes in one buffer at
/// `addr` (EOP set, no offloads).
pub fn eop_desc(addr: u64, len: usize) -> TxDesc {
    TxDesc {
        addr,
        dma_len: len as u16,
        eop: true,
        data_len: len as u16,
        ..TxDesc::default()
    }
}

/// A received packet: an RX descriptor with DD set and its buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxSlot {
    /// `data_len`: packet plus metadata bytes.
    pub len: u16,
    /// Metadata bytes before the packet.
    pub meta_len: u8,
    /// RX flags (`PCIE_DESC_RX_*`).
    pub flags: u16,
    /// The buffer's first `len` bytes (metadata then packet).
    pub data: Vec<u8>,
}

/// A vNIC with its rings enabled (see the module doc).
#[derive(Debug)]
pub struct VnicRig {
    /// MU address of the vNIC's control BAR.
    pub bar: u64,
    /// Where its rings are.
    pub layout: RingLayout,
    /// Its first TX queue (`NFP_NET_CFG_START_TXQ`).
    pub txq: u16,
    /// Its first freelist queue (`NFP_NET_CFG_START_RXQ`).
    pub flq: u16,
    /// Driver-side write pointers of the TX ring and the freelist, and the
    /// read pointer of the RX ring.
    tx_wr: u32,
    fl_wr: u32,
    rx_rd: u32,
}

impl VnicRig {
    /// Bring up ring 0 of the vNIC whose control BAR is at `bar` as
    /// `nfp_net_open()` does: first `nfp_net_clear_config_and_disable()`
    /// (nfp_net_common.c:924-946: rings off, ENABLE cleared, reconfig),
    /// then `nfp_net_set_config_and_enable()` (nfp_net_common.c:979-1040,
    /// ring registers nfp_net_dp.c:383-402): map the layout's RAM (unless
    /// mapped), give its vector an eventfd, write rings, MTU, buffer size,
    /// MAC and `ctrl`, then reconfig with GEN | RING | MSIX. Returns the
    /// UPDATE word the card answered with as the error if it is not 0.
    pub fn enable(drv: &mut Driver, bar: u64, layout: RingLayout, ctrl: u32) -> Result<Self, u32> {
        let update = NFP_NET_CFG_UPDATE_GEN | NFP_NET_CFG_UPDATE_RING | NFP_NET_CFG_UPDATE_MSIX;
        drv.mu_write64(bar + NFP_NET_CFG_TXRS_ENABLE, 0);
        drv.mu_write64(bar + NFP_NET_CFG_RXRS_ENABLE, 0);
        drv.mu_write32(bar + NFP_NET_CFG_CTRL, ctrl & !NFP_NET_CFG_CTRL_ENABLE);
        Self::reconfig(drv, bar, update);
        drv.map_ram(layout.ram, layout.ram_size);
        drv.assign_vector(u16::from(layout.vector));
        let txq = drv.mu_read32(
            crate::cpp::NFP_CPP_ACTION_RW,
            0,
            bar + NFP_NET_CFG_START_TXQ,
        );
        let flq = drv.mu_read32(
            crate::cpp::NFP_CPP_ACTION_RW,
            0,
            bar + NFP_NET_CFG_START_RXQ,
        );
        drv.mu_write64(bar + nfp_net_cfg_txr_addr(0), layout.tx);
        drv.mu_write(bar + nfp_net_cfg_txr_sz(0), &[layout.log2]);
        drv.mu_write(bar + nfp_net_cfg_txr_vec(0), &[layout.vector]);
        drv.mu_write64(bar + nfp_net_cfg_rxr_addr(0), layout.rx);
        drv.mu_write(bar + nfp_net_cfg_rxr_sz(0), &[layout.log2]);
        drv.mu_write(bar + nfp_net_cfg_rxr_vec(0), &[layout.vector]);
        drv.mu_write64(bar + NFP_NET_CFG_TXRS_ENABLE, 1);
        drv.mu_write64(bar + NFP_NET_CFG_RXRS_ENABLE, 1);
        // nfp_net_write_mac_addr(): be32 of bytes 0..4, be16 of 4..6 at +6
        // (nfp_net_common.c:912-916).
        let mac = [0x00, 0x15, 0x4d, 0x00, 0x00, 0x99];
        drv.mu_write32(
            bar + NFP_NET_CFG_MACADDR,
            u32::from_be_bytes([mac[0], mac[1], mac[2], mac[3]]),
        );
        drv.mu_write(
            bar + NFP_NET_CFG_MACADDR + 6,
            &u16::from_be_bytes([mac[4], mac[5]]).to_le_bytes(),
        );
        drv.mu_write32(bar + NFP_NET_CFG_MTU, 1500);
        drv.mu_write32(bar + NFP_NET_CFG_FLBUFSZ, layout.buf_size as u32);
        drv.mu_write32(bar + NFP_NET_CFG_CTRL, ctrl);
        let answer = Self::reconfig(drv, bar, update);
        if answer != 0 {
            return Err(answer);
        }
        Ok(Self {
            bar,
            layout,
            txq: txq as u16,
            flq: flq as u16,
            tx_wr: 0,
            fl_wr: 0,
            rx_rd: 0,
        })
    }

    /// `nfp_net_reconfig()` (nfp_net_common.c:84-91, 282-300): UPDATE,
    /// +1 on the config queue (START_TXQ + 1); returns UPDATE as the card
    /// left it (0 when done, `NFP_NET_CFG_UPDATE_ERR` set when refused).
    pub fn reconfig(drv: &Driver, bar: u64, update: u32) -> u32 {
        let rw = crate::cpp::NFP_CPP_ACTION_RW;
        drv.mu_write32(bar + NFP_NET_CFG_UPDATE, update);
        let txq = drv.mu_read32(rw, 0, bar + NFP_NET_CFG_START_TXQ);
        drv.qc_add_wptr(txq.wrapping_add(1) as u16, 1);
        drv.mu_read32(rw, 0, bar + NFP_NET_CFG_UPDATE)
    }

    /// Write TX descriptor `d` into the next TX slot (no doorbell).
    pub fn put_tx(&mut self, drv: &Driver, d: &TxDesc) {
        drv.guest_write(self.layout.tx_desc(self.tx_wr), &d.encode());
        self.tx_wr = self.tx_wr.wrapping_add(1);
    }

    /// Ring the TX doorbell for `n` new descriptors
    /// (`nfp_net_tx_xmit_more_flush()`, nfd3/dp.c).
    pub fn kick_tx(&self, drv: &Driver, n: u32) {
        drv.qc_add_wptr(self.txq, n);
    }

    /// Send `frame` in one buffer: copy it into the next TX slot's buffer,
    /// write an EOP descriptor, ring the doorbell.
    pub fn send(&mut self, drv: &Driver, frame: &[u8]) {
        let len = frame.len().min(self.layout.buf_size as usize);
        let addr = self.layout.tx_buf(self.tx_wr);
        drv.guest_write(addr, &frame[..len]);
        self.put_tx(drv, &eop_desc(addr, len));
        self.kick_tx(drv, 1);
    }

    /// Post `n` freelist buffers and ring the freelist doorbell
    /// (`nfp_nfd3_rx_give_one()`, nfd3/dp.c:587-618).
    pub fn post_fl(&mut self, drv: &Driver, n: u32) {
        for _ in 0..n {
            drv.guest_write(
                self.layout.rx_desc(self.fl_wr),
                &fl_desc(self.layout.fl_buf(self.fl_wr)),
            );
            self.fl_wr = self.fl_wr.wrapping_add(1);
        }
        drv.qc_add_wptr(self.flq, n);
    }

    /// The next received packet, if the card has written its descriptor
    /// (DD set); consumes the slot.
    pub fn rx(&mut self, drv: &Driver) -> Option<RxSlot> {
        let mut d = [0u8; NFD3_RX_DESC_SIZE as usize];
        if !drv.guest_read(self.layout.rx_desc(self.rx_rd), &mut d) || d[3] & PCIE_DESC_RX_DD == 0 {
            return None;
        }
        let len = u16::from_le_bytes([d[0], d[1]]);
        let mut data = vec![0u8; usize::from(len).min(self.layout.buf_size as usize)];
        drv.guest_read(self.layout.fl_buf(self.rx_rd), &mut data);
        self.rx_rd = self.rx_rd.wrapping_add(1);
        Some(RxSlot {
            len,
            meta_len: d[3] & !PCIE_DESC_RX_DD,
            flags: u16::from_le_bytes([d[4], d[5]]),
            data,
        })
    }

    /// Unmask the ring pair's vector: write `NFP_NET_CFG_ICR_UNMASKED` to
    /// its ICR byte (`nfp_net_irq_unmask()`, nfp_net_common.c).
    pub fn unmask(&self, drv: &Driver) {
        drv.mu_write(
            self.bar + NFP_NET_CFG_ICR_BASE + u64::from(self.layout.vector),
            &[0],
        );
    }

    /// Interrupts raised on the ring pair's vector since the last call.
    pub fn irqs(&self, drv: &Driver) -> u64 {
        drv.irqs(u16::from(self.layout.vector))
    }
}
