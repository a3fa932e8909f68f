//! The nfp driver's side of the card: BAR windows, CPP reads and writes,
//! the resource-table mutexes, NSP commands, firmware loading and the
//! runtime symbol table, each done the way the driver does it (cited per
//! method), through [`Card`]'s config-space and BAR entry points only.

use std::fs::File;

use nfp_firmware::RtSym;

use crate::card::{Card, CardConfig, CardError};
use crate::cpp::{
    CppId, MU_ACTION_ATOMIC_READ, MU_ACTION_ATOMIC_WRITE, MU_ACTION_TEST_SET_IMM,
    MU_TOKEN_TEST_SET_IMM, NFP_CPP_ACTION_RW, NFP_CPP_TARGET_LOCAL, NFP_CPP_TARGET_MU,
};
use crate::nfd::qc::{NFP_QCP_QUEUE_ADD_WPTR, NFP_QCP_QUEUE_ADDR_SZ};
use crate::nsp::{
    NFFW_INFO_BASE, NSP_BUFFER, NSP_COMMAND, NSP_CSR_BASE, NSP_DFLT_BUFFER, NSP_STATUS,
    SPCODE_FW_LOAD,
};
use crate::pcie::local::{NFP_PCIE_BAR_PF0, NFP_PCIE_CFG_EXPBAR_OFFSET, NFP_QCP_BASE};

/// Size of one BAR0 expansion slice: 128 MiB / 8 (nfp6000_pcie.c:76-89).
pub const BAR0_SLICE: u64 = 16 << 20;
/// BAR0 slices the mock programs: a BULK window for RW accesses, FIXED
/// windows with an action for reads and for writes (the driver keeps its
/// own per-area slices the same way, nfp6000_pcie.c:193-286).
const SLICE_BULK: u64 = 2;
const SLICE_ACT_READ: u64 = 3;
const SLICE_ACT_WRITE: u64 = 6;
/// BAR0.0's config word for the PCIe island's own space, the first
/// expansion-BAR write of every probe, done through the config-space alias
/// (nfp6000_pcie.c:608-616, nfpcore/nfp_dev.c:38).
const BAR0_0_LOCAL: u32 = 0x6000_0000;
/// `NSP_COMMAND_START`, `NSP_STATUS_BUSY` (nfp_nsp.c:42, 36).
const NSP_COMMAND_START: u64 = 1;
const NSP_STATUS_BUSY: u64 = 1;
/// `NSP_BUFFER_ADDRESS`: the low 40 bits of NSP_BUFFER / NSP_DFLT_BUFFER
/// (nfp_nsp.c:47).
const NSP_BUFFER_ADDR_MASK: u64 = (1 << 40) - 1;
/// The firmware-info block `nfp.nffw`: fwinfo[0]'s MIP words
/// (nfpcore/nfp_nffw.c:49-98, 155-180): `loaded` bit 31 and MIP offset
/// bits 39:32 in word 0, the MIP's CPP ID, then its offset's low word.
const NFFW_FWINFO0_MIP_HI: u64 = 0x328;
const NFFW_FWINFO0_MIP_CPPID: u64 = 0x32c;
const NFFW_FWINFO0_MIP_LO: u64 = 0x330;
/// MIP fields (nfpcore/nfp_mip.c:21-39): signature, symtab and strtab
/// addresses and sizes.
const NFP_MIP_SIGNATURE: u32 = 0x0050_494d;
const MIP_SYMTAB_ADDR: u64 = 0x20;
const MIP_SYMTAB_SIZE: u64 = 0x24;
const MIP_STRTAB_ADDR: u64 = 0x28;
const MIP_STRTAB_SIZE: u64 = 0x2c;
/// The mock's own limit on the rtsym tables it reads (a broken MIP must
/// not make a test allocate gigabytes).
const RTSYM_TABLE_MAX: u32 = 64 << 10;

/// Why `nfp_cpp_mutex_trylock()`/`unlock()` refused (nfp_mutex.c:217-328):
/// the errno the driver returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MutexError {
    /// `-EPERM`: the key does not match the mutex.
    #[error("EPERM: wrong key")]
    Perm,
    /// `-EBUSY`: someone else holds it.
    #[error("EBUSY: held")]
    Busy,
    /// `-EINVAL`: the lock word is not a valid mutex state.
    #[error("EINVAL: not a mutex")]
    Inval,
    /// `-EACCES`: unlock by someone who does not hold it.
    #[error("EACCES: not the holder")]
    Acces,
}

/// What an NSP command answered (nfp_nsp.c:359-491).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NspReply {
    /// COMMAND[63:32] after the command: its return value.
    pub ret: u32,
    /// STATUS[15:8]: the errno.
    pub errno: u8,
    /// The first `out_len` bytes of the buffer after the command.
    pub out: Vec<u8>,
    /// START and BUSY were clear right after the command was started (the
    /// NSP answers synchronously).
    pub done: bool,
    /// The whole STATUS word after the command (magic, ABI version,
    /// errno, BUSY).
    pub status: u64,
}

/// The driver side of one card (see the module doc).
#[derive(Debug)]
pub struct Driver {
    /// The card under test.
    pub card: Card,
    /// Eventfds the mock gave the card, by MSI-X vector.
    vectors: Vec<(u16, File)>,
}

impl Driver {
    /// Build and power on a card from `cfg` and program BAR0.0 as every
    /// probe starts; panics if the card cannot be built.
    pub fn new(cfg: &CardConfig) -> Self {
        Self::try_new(cfg).expect("card builds")
    }

    /// [`Driver::new`] that returns why the card could not be built (e.g.
    /// the flash firmware was refused).
    pub fn try_new(cfg: &CardConfig) -> Result<Self, CardError> {
        let card = Card::new(cfg)?;
        card.config_write(NFP_PCIE_CFG_EXPBAR_OFFSET, &BAR0_0_LOCAL.to_le_bytes());
        Ok(Self {
            card,
            vectors: Vec::new(),
        })
    }

    /// A card with the project's BPF firmware in flash (so running after
    /// power-on) and its two ports cabled to each other; port threads are
    /// not started, so everything runs on the caller's thread.
    pub fn with_firmware() -> Self {
        use crate::ports::PortSpec;
        Self::new(&CardConfig {
            flash_firmware: Some(super::firmware_image()),
            cabling: vec![PortSpec::Loop(1), PortSpec::Loop(0)],
            ..CardConfig::default()
        })
    }

    /// Program BAR0 slice `slice` onto (`tgt`, `act`, `tok`) around `addr`
    /// with a `compute_bar()` word (nfp6000_pcie.c:193-265): BULK for the
    /// RW action, FIXED with the action otherwise. Returns the BAR0 offset
    /// at which `addr` appears. Panics if the word does not read back.
    pub fn window(&self, slice: u64, tgt: u8, act: u8, tok: u8, addr: u64) -> u64 {
        let base = addr & !(BAR0_SLICE - 1);
        let cfg = if act == NFP_CPP_ACTION_RW || act == 0 {
            1 << 29 | u32::from(tgt) << 23 | u32::from(tok) << 21 | (base >> 19) as u32
        } else {
            u32::from(tgt) << 23 | u32::from(act) << 16 | u32::from(tok) << 21 | (base >> 24) as u32
        };
        let csr = NFP_PCIE_BAR_PF0 + 4 * slice;
        self.card.bar_write(0, csr, &cfg.to_le_bytes());
        let mut back = [0u8; 4];
        self.card.bar_read(0, csr, &mut back);
        assert_eq!(u32::from_le_bytes(back), cfg, "expansion BAR read-back");
        slice * BAR0_SLICE + (addr - base)
    }

    /// The accesses of `len` bytes at `addr` that stay inside one slice
    /// and are naturally aligned (at most 8 bytes, as `readq`/`writeq`).
    fn chunks(addr: u64, len: usize) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> {
        let mut done = 0usize;
        std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let a = addr.wrapping_add(done as u64);
            let n = [8usize, 4, 2, 1]
                .into_iter()
                .find(|&n| a % n as u64 == 0 && n <= len - done)
                .unwrap_or(1);
            let r = done..done + n;
            done += n;
            Some((a, r))
        })
    }

    /// CPP read of `buf.len()` bytes at `addr` through a BAR0 window.
    pub fn read(&self, tgt: u8, act: u8, tok: u8, addr: u64, buf: &mut [u8]) {
        let slice = if act == NFP_CPP_ACTION_RW || act == 0 {
            SLICE_BULK
        } else {
            SLICE_ACT_READ
        };
        for (a, r) in Self::chunks(addr, buf.len()) {
            let off = self.window(slice, tgt, act, tok, a);
            self.card.bar_read(0, off, &mut buf[r]);
        }
    }

    /// CPP write of `data` at `addr` through a BAR0 window.
    pub fn write(&self, tgt: u8, act: u8, tok: u8, addr: u64, data: &[u8]) {
        let slice = if act == NFP_CPP_ACTION_RW || act == 0 {
            SLICE_BULK
        } else {
            SLICE_ACT_WRITE
        };
        for (a, r) in Self::chunks(addr, data.len()) {
            let off = self.window(slice, tgt, act, tok, a);
            self.card.bar_write(0, off, &data[r]);
        }
    }

    /// 32-bit MU read with action `act` and token `tok`.
    pub fn mu_read32(&self, act: u8, tok: u8, addr: u64) -> u32 {
        let mut b = [0u8; 4];
        self.read(NFP_CPP_TARGET_MU, act, tok, addr, &mut b);
        u32::from_le_bytes(b)
    }

    /// 64-bit MU read (RW action).
    pub fn mu_read64(&self, addr: u64) -> u64 {
        let mut b = [0u8; 8];
        self.read(NFP_CPP_TARGET_MU, NFP_CPP_ACTION_RW, 0, addr, &mut b);
        u64::from_le_bytes(b)
    }

    /// 32-bit MU write (RW action).
    pub fn mu_write32(&self, addr: u64, v: u32) {
        self.mu_write(addr, &v.to_le_bytes());
    }

    /// 64-bit MU write (RW action).
    pub fn mu_write64(&self, addr: u64, v: u64) {
        self.mu_write(addr, &v.to_le_bytes());
    }

    /// MU read of any length (RW action), as `nfp_cpp_read()` splits it.
    pub fn mu_read(&self, addr: u64, buf: &mut [u8]) {
        self.read(NFP_CPP_TARGET_MU, NFP_CPP_ACTION_RW, 0, addr, buf);
    }

    /// MU write of any length (RW action), as `nfp_cpp_write()` splits it.
    pub fn mu_write(&self, addr: u64, data: &[u8]) {
        self.write(NFP_CPP_TARGET_MU, NFP_CPP_ACTION_RW, 0, addr, data);
    }

    /// 32-bit MU write with the atomic-write action, as the NFP mutex code
    /// writes a lock word (`nfp_cpp_mutex_trylock`/`_unlock`).
    fn mu_atomic_write32(&self, addr: u64, v: u32) {
        self.write(
            NFP_CPP_TARGET_MU,
            MU_ACTION_ATOMIC_WRITE,
            0,
            addr,
            &v.to_le_bytes(),
        );
    }

    /// Add `n` to QC queue `queue`'s write pointer: a doorbell, through a
    /// target-0 window as `nfp_qcp_wr_ptr_add()` does (nfp_net.h:862-870).
    pub fn qc_add_wptr(&self, queue: u16, n: u32) {
        let addr = NFP_QCP_BASE + u64::from(queue) * NFP_QCP_QUEUE_ADDR_SZ + NFP_QCP_QUEUE_ADD_WPTR;
        self.write(
            NFP_CPP_TARGET_LOCAL,
            NFP_CPP_ACTION_RW,
            0,
            addr,
            &n.to_le_bytes(),
        );
    }

    /// `nfp_cpp_mutex_trylock()` (nfp_mutex.c:262-328) of the mutex at
    /// `addr` with `key`, for interface `owner`.
    pub fn trylock(&self, addr: u64, key: u32, owner: u16) -> Result<(), MutexError> {
        if self.mu_read32(MU_ACTION_ATOMIC_READ, 0, addr + 4) != key {
            return Err(MutexError::Perm);
        }
        let old = self.mu_read32(MU_ACTION_TEST_SET_IMM, MU_TOKEN_TEST_SET_IMM, addr);
        match old & 0xffff {
            0 => {
                self.mu_atomic_write32(addr, u32::from(owner) << 16 | 0xf);
                Ok(())
            }
            0xf => Err(MutexError::Busy),
            _ => Err(MutexError::Inval),
        }
    }

    /// `nfp_cpp_mutex_unlock()` (nfp_mutex.c:217-254).
    pub fn unlock(&self, addr: u64, key: u32, owner: u16) -> Result<(), MutexError> {
        if self.mu_read32(MU_ACTION_ATOMIC_READ, 0, addr + 4) != key {
            return Err(MutexError::Perm);
        }
        let v = self.mu_read32(MU_ACTION_ATOMIC_READ, 0, addr);
        if v != u32::from(owner) << 16 | 0xf {
            return Err(MutexError::Acces);
        }
        self.mu_atomic_write32(addr, u32::from(owner) << 16);
        Ok(())
    }

    /// One NSP command as `nfp_nsp_command_buf()` issues it with the
    /// default buffer (nfp_nsp.c:359-491): `input` then zeros up to
    /// `out_len` into the buffer, NSP_BUFFER, COMMAND with START, then
    /// COMMAND, STATUS and `out_len` buffer bytes read back.
    pub fn nsp_command(&self, code: u16, option: u32, input: &[u8], out_len: usize) -> NspReply {
        let dflt = self.mu_read64(NSP_CSR_BASE + NSP_DFLT_BUFFER);
        let addr = dflt & NSP_BUFFER_ADDR_MASK;
        self.mu_write(addr, input);
        if out_len > input.len() {
            self.mu_write(addr + input.len() as u64, &vec![0; out_len - input.len()]);
        }
        self.mu_write64(NSP_CSR_BASE + NSP_BUFFER, dflt);
        self.mu_write64(
            NSP_CSR_BASE + NSP_COMMAND,
            u64::from(option) << 32 | u64::from(code) << 16 | NSP_COMMAND_START,
        );
        let command = self.mu_read64(NSP_CSR_BASE + NSP_COMMAND);
        let status = self.mu_read64(NSP_CSR_BASE + NSP_STATUS);
        let mut out = vec![0u8; out_len];
        self.mu_read(addr, &mut out);
        NspReply {
            ret: (command >> 32) as u32,
            errno: ((status >> 8) & 0xff) as u8,
            out,
            done: command & NSP_COMMAND_START == 0 && status & NSP_STATUS_BUSY == 0,
            status,
        }
    }

    /// `nfp_nsp_load_fw()` (nfp_nsp.c:791-810): FW_LOAD with the image in
    /// the buffer.
    pub fn load_firmware(&self, image: &[u8]) -> NspReply {
        let len = u32::try_from(image.len()).unwrap_or(u32::MAX);
        self.nsp_command(SPCODE_FW_LOAD, len, image, 0)
    }

    /// The running firmware's runtime symbols, found as the driver finds
    /// them: `nfp.nffw` -> fwinfo[0] -> MIP -> symtab and strtab
    /// (nfp_nffw.c:218-260, nfp_mip.c, nfp_rtsym.c:92-150). `None` if no firmware
    /// is loaded or its tables do not decode.
    pub fn rtsyms(&self) -> Option<Vec<RtSym>> {
        let rw = NFP_CPP_ACTION_RW;
        let w0 = self.mu_read32(rw, 0, NFFW_INFO_BASE + NFFW_FWINFO0_MIP_HI);
        if w0 >> 31 == 0 {
            return None;
        }
        let (id, island) =
            CppId::from_raw(self.mu_read32(rw, 0, NFFW_INFO_BASE + NFFW_FWINFO0_MIP_CPPID));
        if id.target != NFP_CPP_TARGET_MU {
            return None;
        }
        let mip_off = u64::from(w0 & 0xff) << 32
            | u64::from(self.mu_read32(rw, 0, NFFW_INFO_BASE + NFFW_FWINFO0_MIP_LO));
        // Island translation with the card's IMB (mode 0, addr40).
        let xlate = |addr: u64| u64::from(island) << 32 | addr;
        let mip = xlate(mip_off);
        if self.mu_read32(rw, 0, mip) != NFP_MIP_SIGNATURE {
            return None;
        }
        let table = |addr: u64, size: u64| {
            let size = self.mu_read32(rw, 0, mip + size);
            if size > RTSYM_TABLE_MAX {
                return None;
            }
            let mut t = vec![0u8; size as usize];
            self.mu_read(xlate(u64::from(self.mu_read32(rw, 0, mip + addr))), &mut t);
            Some(t)
        };
        let symtab = table(MIP_SYMTAB_ADDR, MIP_SYMTAB_SIZE)?;
        let strtab = table(MIP_STRTAB_ADDR, MIP_STRTAB_SIZE)?;
        nfp_firmware::rtsym::decode(&symtab, &strtab).ok()
    }

    /// The MU address of runtime symbol `name` (island in bits 39:32, as
    /// `nfp_rtsym_map()` reaches it through the IMB), if the running
    /// firmware has it.
    pub fn rtsym_addr(&self, name: &str) -> Option<u64> {
        self.rtsyms()?
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| u64::from(s.island) << 32 | s.addr)
    }

    /// Map `size` bytes of fresh guest RAM at bus address `iova` for DMA,
    /// as QEMU's `dma_map` does. Returns false if the card refused it (e.g.
    /// an overlap).
    pub fn map_ram(&self, iova: u64, size: u64) -> bool {
        self.card
            .datapath()
            .host
            .mem
            .map(super::ram(iova, size))
            .is_ok()
    }

    /// Write guest memory (the driver's CPU stores); false if not mapped.
    pub fn guest_write(&self, addr: u64, data: &[u8]) -> bool {
        self.card.datapath().host.mem.write(addr, data).is_ok()
    }

    /// Read guest memory (the driver's CPU loads); false if not mapped.
    pub fn guest_read(&self, addr: u64, buf: &mut [u8]) -> bool {
        self.card.datapath().host.mem.read(addr, buf).is_ok()
    }

    /// Give MSI-X vector `vector` an eventfd, as QEMU does when the guest
    /// enables it (`VFIO_USER_DEVICE_SET_IRQS`); false if the card has no
    /// such vector.
    pub fn assign_vector(&mut self, vector: u16) -> bool {
        let fd = super::eventfd();
        let Ok(dup) = fd.try_clone() else {
            return false;
        };
        let ok = self
            .card
            .datapath()
            .host
            .msix
            .write()
            .assign(u32::from(vector), vec![dup])
            .is_ok();
        if ok {
            self.vectors.retain(|(v, _)| *v != vector);
            self.vectors.push((vector, fd));
        }
        ok
    }

    /// Interrupts raised on `vector` since the last call.
    pub fn irqs(&self, vector: u16) -> u64 {
        self.vectors
            .iter()
            .find(|(v, _)| *v == vector)
            .map_or(0, |(_, f)| super::irqs(f))
    }
}
