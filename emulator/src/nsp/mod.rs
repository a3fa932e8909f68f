//! The NFP Service Processor as the host sees it: the resource table,
//! hwinfo, the `nfp.nffw` firmware-info block and the NSP command mailbox
//! (nfpcore/nfp_nsp.c; docs/nsp.md, docs/firmware.md). Commands run synchronously when the
//! driver sets START, so every command is answered before its MMIO write
//! completes.

pub mod board;
pub mod crc;
pub mod eth;
pub mod hwinfo;
pub mod resource;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::{debug, info};

use crate::cpp::{Mu, NFP_CPP_ACTION_RW, NFP_CPP_TARGET_MU};
use eth::{EthTable, NSP_ETH_TABLE_SIZE};
use resource::{NFP_RESOURCE_HWINFO, NFP_RESOURCE_NFP_NFFW, NFP_RESOURCE_NSP, Resource};

// The service processor's memory (docs/memory.md) [choice]: the resource
// table at its start, then these regions.
/// NSP CSRs (the `nfp.sp` resource).
pub const NSP_CSR_BASE: u64 = 0x81_0000_1000;
/// Size of the `nfp.sp` resource.
pub const NSP_CSR_SIZE: u64 = 0x100;
/// The hwinfo table (the `nfp.info` resource).
pub const HWINFO_BASE: u64 = 0x81_0000_2000;
/// Size of the `nfp.info` resource.
pub const HWINFO_SIZE: u64 = 0x2000;
/// The firmware-info block (the `nfp.nffw` resource).
pub const NFFW_INFO_BASE: u64 = 0x81_0000_4000;
/// Size of the `nfp.nffw` resource.
pub const NFFW_INFO_SIZE: u64 = 0x1000;
/// The NSP's default command buffer. 8 MiB so every firmware image Debian
/// ships (the largest is 6.9 MB) fits without the DMA path
/// (nfp_nsp.c:660-694).
pub const NSP_DFLT_BUFFER_BASE: u64 = 0x81_0010_0000;
/// Size of the default buffer in MiB (`NSP_DFLT_BUFFER_SIZE_MB`,
/// nfp_nsp.c:56).
pub const NSP_DFLT_BUFFER_MB: u64 = 8;

// CSRs relative to NSP_CSR_BASE (nfp_nsp.c:30-58).
/// `NSP_STATUS` CSR offset (nfp_nsp.c:30-58).
pub const NSP_STATUS: u64 = 0x00;
/// `NSP_COMMAND` CSR offset (nfp_nsp.c:30-58).
pub const NSP_COMMAND: u64 = 0x08;
/// `NSP_BUFFER` CSR offset (nfp_nsp.c:30-58).
pub const NSP_BUFFER: u64 = 0x10;
/// `NSP_DFLT_BUFFER` CSR offset (nfp_nsp.c:30-58).
pub const NSP_DFLT_BUFFER: u64 = 0x18;
/// `NSP_DFLT_BUFFER_CONFIG` CSR offset (nfp_nsp.c:30-58).
pub const NSP_DFLT_BUFFER_CONFIG: u64 = 0x20;
/// `NFP_CAP_CMD_DMA_SG` CSR offset (nfp_nsp.c:30-58).
pub const NFP_CAP_CMD_DMA_SG: u64 = 0x28;
const NSP_COMMAND_START: u64 = 1 << 0;
const NSP_COMMAND_DMA_BUF: u64 = 1 << 1;
/// `NSP_MAGIC` (nfp_nsp.c:60).
pub const NSP_MAGIC: u64 = 0xab10;
/// ABI 0.37: the newest minor the 6.12 driver distinguishes
/// (nfp_nsp.h:33-71, nfp_nsp_eth.c:188-195).
pub const NSP_ABI_MAJOR: u64 = 0;
/// NSP ABI minor version the NSP reports.
pub const NSP_ABI_MINOR: u64 = 37;

// Command codes (nfp_nsp.c:84-104).
/// NSP command `SPCODE_NOOP` (nfp_nsp.c:84-104).
pub const SPCODE_NOOP: u16 = 0;
/// NSP command `SPCODE_SOFT_RESET` (nfp_nsp.c:84-104).
pub const SPCODE_SOFT_RESET: u16 = 1;
/// NSP command `SPCODE_FW_DEFAULT` (nfp_nsp.c:84-104).
pub const SPCODE_FW_DEFAULT: u16 = 2;
/// NSP command `SPCODE_PHY_INIT` (nfp_nsp.c:84-104).
pub const SPCODE_PHY_INIT: u16 = 3;
/// NSP command `SPCODE_MAC_INIT` (nfp_nsp.c:84-104).
pub const SPCODE_MAC_INIT: u16 = 4;
/// NSP command `SPCODE_PHY_RXADAPT` (nfp_nsp.c:84-104).
pub const SPCODE_PHY_RXADAPT: u16 = 5;
/// NSP command `SPCODE_FW_LOAD` (nfp_nsp.c:84-104).
pub const SPCODE_FW_LOAD: u16 = 6;
/// NSP command `SPCODE_ETH_RESCAN` (nfp_nsp.c:84-104).
pub const SPCODE_ETH_RESCAN: u16 = 7;
/// NSP command `SPCODE_ETH_CONTROL` (nfp_nsp.c:84-104).
pub const SPCODE_ETH_CONTROL: u16 = 8;
/// NSP command `SPCODE_NSP_WRITE_FLASH` (nfp_nsp.c:84-104).
pub const SPCODE_NSP_WRITE_FLASH: u16 = 11;
/// NSP command `SPCODE_NSP_SENSORS` (nfp_nsp.c:84-104).
pub const SPCODE_NSP_SENSORS: u16 = 12;
/// NSP command `SPCODE_NSP_IDENTIFY` (nfp_nsp.c:84-104).
pub const SPCODE_NSP_IDENTIFY: u16 = 13;
/// NSP command `SPCODE_FW_STORED` (nfp_nsp.c:84-104).
pub const SPCODE_FW_STORED: u16 = 16;
/// NSP command `SPCODE_HWINFO_LOOKUP` (nfp_nsp.c:84-104).
pub const SPCODE_HWINFO_LOOKUP: u16 = 17;
/// NSP command `SPCODE_HWINFO_SET` (nfp_nsp.c:84-104).
pub const SPCODE_HWINFO_SET: u16 = 18;
/// NSP command `SPCODE_FW_LOADED` (nfp_nsp.c:84-104).
pub const SPCODE_FW_LOADED: u16 = 19;
/// NSP command `SPCODE_VERSIONS` (nfp_nsp.c:84-104).
pub const SPCODE_VERSIONS: u16 = 21;
/// NSP command `SPCODE_READ_SFF_EEPROM` (nfp_nsp.c:84-104).
pub const SPCODE_READ_SFF_EEPROM: u16 = 22;
/// NSP command `SPCODE_READ_MEDIA` (nfp_nsp.c:84-104).
pub const SPCODE_READ_MEDIA: u16 = 23;

const EINVAL: u8 = 22;
const ENOENT: u8 = 2;
const EOPNOTSUPP: u8 = 95;
const ENOSPC: u8 = 28;

/// FW_LOAD/FW_STORED status word: bits 15:8 major, 23:16 minor
/// (`NFP_FW_LOAD_RET_*`, nfp_nsp.c:67-68, messages :738-789).
pub fn fw_load_status(major: u8, minor: u8) -> u32 {
    u32::from(major) << 8 | u32::from(minor) << 16
}

/// Why the firmware loader refused an image, with the NSP status code the
/// driver turns into a message (nfp_nsp.c:738-789).
#[derive(Debug, thiserror::Error)]
pub enum FwLoadError {
    /// The file is not a readable NFFW image.
    #[error("can not parse FW file: {0}")]
    Parse(#[source] nfp_firmware::NffwError),
    /// No runtime symbol table, no `.mip` symbol or no valid MIP.
    #[error("MIP not found in FW file: {0}")]
    NoMip(#[source] nfp_firmware::NffwError),
    /// The MIP names no firmware.
    #[error("null firmware name in MIP")]
    NullName,
    /// FW_STORED with an empty flash.
    #[error("no firmware stored in flash")]
    NoStoredFirmware,
    /// The image contradicts itself (MIP tables, sections, names).
    #[error("inconsistent FW file: {0}")]
    Image(#[source] nfp_firmware::check::ImageError),
    /// The image does not fit the card's memories.
    #[error("firmware does not fit the card: {0}")]
    Layout(#[from] crate::cpp::layout::LayoutError),
}

impl FwLoadError {
    /// (major, minor) of the load status.
    pub fn status(&self) -> (u8, u8) {
        match self {
            FwLoadError::Parse(_) | FwLoadError::Image(_) | FwLoadError::Layout(_) => (2, 5),
            FwLoadError::NoMip(_) => (2, 6),
            FwLoadError::NullName => (2, 7),
            FwLoadError::NoStoredFirmware => (2, 1),
        }
    }
}

/// What the NSP needs from the application-firmware side of the chip.
pub trait FirmwareHost {
    /// Stop and forget the application firmware (SOFT_RESET).
    fn soft_reset(&mut self, mu: &mut Mu);
    /// Load an NFFW image handed over by the driver (FW_LOAD).
    fn load(&mut self, mu: &mut Mu, eth: &EthTable, image: &[u8]) -> Result<(), FwLoadError>;
    /// Whether application firmware runs (FW_LOADED).
    fn is_loaded(&self) -> bool;
    /// Load the image stored in flash unless firmware already runs
    /// (FW_STORED). Returns whether it loaded something now.
    fn load_stored(&mut self, mu: &mut Mu, eth: &EthTable) -> Result<bool, FwLoadError>;
    /// Replace the image stored in flash (NSP_WRITE_FLASH).
    fn write_flash(&mut self, image: &[u8]) -> Result<(), FwLoadError>;
    /// Name of the running firmware (from its MIP), if any.
    fn running_version(&self) -> Option<String>;
    /// Name of the firmware stored in flash, if any.
    fn stored_version(&self) -> Option<String>;
}

/// Board facts the service processor reports.
#[derive(Clone, Debug)]
pub struct BoardInfo {
    /// `assembly.partno` (e.g. AMDA0099-0001).
    pub partno: String,
    /// `assembly.serial`.
    pub serial: String,
    /// `assembly.revision`.
    pub revision: String,
    /// `assembly.model`.
    pub model: String,
    /// `cpld.version`.
    pub cpld_version: String,
    /// `pn`: the marketing part number.
    pub part_number: String,
    /// BSP version reported by NSP_IDENTIFY and VERSIONS.
    pub bsp_version: String,
}

/// Static sensor readings (millidegrees C, microwatts) \[choice\].
#[derive(Clone, Copy, Debug)]
pub struct Sensors {
    /// Chip temperature, millidegrees Celsius.
    pub chip_temp: u32,
    /// Board power, microwatts.
    pub assembly_power: u32,
    /// 12 V rail power, microwatts.
    pub assembly_12v_power: u32,
    /// 3.3 V rail power, microwatts.
    pub assembly_3v3_power: u32,
}

impl Default for Sensors {
    fn default() -> Self {
        Self {
            chip_temp: 52_000,
            assembly_power: 24_500_000,
            assembly_12v_power: 20_100_000,
            assembly_3v3_power: 4_400_000,
        }
    }
}

/// `NFP_SENSOR_*` bits of `sensor_mask` (nfp_nsp.h:310-315): all four.
pub const NSP_SENSOR_MASK_ALL: u64 = 0xf;

/// Counters of NSP activity: the counter surface's `nsp.*`
/// (docs/counters.md). Shared with the card, which reads them without the
/// chip's lock.
#[derive(Debug, Default)]
pub struct NspStats {
    /// Commands run.
    pub commands: AtomicU64,
    /// Commands answered with an error.
    pub errors: AtomicU64,
}

impl crate::counters::Counters for NspStats {
    fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
        visit("commands", self.commands.load(Ordering::Relaxed));
        visit("errors", self.errors.load(Ordering::Relaxed));
    }
}

/// The service processor.
#[derive(Debug)]
pub struct Nsp {
    /// Board facts (hwinfo).
    pub board: BoardInfo,
    /// The ETH table.
    pub eth: EthTable,
    hwinfo: Vec<(String, String)>,
    overrides: Vec<(String, String)>,
    /// Sensor readings.
    pub sensors: Sensors,
    /// Activity counters.
    pub stats: Arc<NspStats>,
}

/// Outcome of one command: the value for COMMAND[63:32] and the errno for
/// STATUS[15:8].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Answer {
    ret: u32,
    errno: u8,
}

impl Answer {
    fn ok(ret: u32) -> Self {
        Self { ret, errno: 0 }
    }
    fn err(errno: u8) -> Self {
        Self { ret: 0, errno }
    }
}

fn status_word(code: u16, errno: u8) -> u64 {
    NSP_MAGIC << 48
        | NSP_ABI_MAJOR << 44
        | NSP_ABI_MINOR << 32
        | u64::from(code) << 16
        | u64::from(errno) << 8
}

/// Read a NUL-terminated string from `b`.
fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

impl Nsp {
    /// A service processor for `board` with the ports of `eth`.
    pub fn new(board: BoardInfo, eth: EthTable) -> Self {
        let mut hwinfo = vec![
            ("assembly.vendor".to_string(), "Netronome".to_string()),
            ("assembly.partno".into(), board.partno.clone()),
            ("assembly.serial".into(), board.serial.clone()),
            ("assembly.revision".into(), board.revision.clone()),
            ("assembly.model".into(), board.model.clone()),
            ("pn".into(), board.part_number.clone()),
            ("cpld.version".into(), board.cpld_version.clone()),
            ("board.state".into(), "15".into()),
        ];
        for p in &eth.ports {
            let m = p.mac;
            hwinfo.push((
                format!("eth{}.mac", p.eth_index),
                format!(
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    m[0], m[1], m[2], m[3], m[4], m[5]
                ),
            ));
        }
        Self {
            board,
            eth,
            hwinfo,
            overrides: Vec::new(),
            sensors: Sensors::default(),
            stats: Arc::default(),
        }
    }

    /// Regions the resource table announces.
    pub fn resources() -> [Resource; 3] {
        let r = |name, addr, size| Resource {
            name,
            cpp_target: NFP_CPP_TARGET_MU,
            cpp_action: NFP_CPP_ACTION_RW,
            cpp_token: 0,
            addr,
            size,
        };
        [
            r(NFP_RESOURCE_NSP, NSP_CSR_BASE, NSP_CSR_SIZE),
            r(NFP_RESOURCE_HWINFO, HWINFO_BASE, HWINFO_SIZE),
            r(NFP_RESOURCE_NFP_NFFW, NFFW_INFO_BASE, NFFW_INFO_SIZE),
        ]
    }

    /// Power-on state of the service processor's MU structures: resource
    /// table, idle NSP CSRs, hwinfo, and a firmware-info block with no
    /// firmware loaded.
    pub fn power_on(&self, mu: &mut Mu) {
        mu.write(
            resource::NFP_RESOURCE_TBL_BASE,
            &resource::build_table(&Self::resources()),
        );
        mu.write_u64(NSP_CSR_BASE + NSP_STATUS, status_word(0, 0));
        mu.write_u64(NSP_CSR_BASE + NSP_COMMAND, 0);
        mu.write_u64(NSP_CSR_BASE + NSP_BUFFER, 0);
        let cpp = u64::from(NFP_CPP_TARGET_MU) << 16 | u64::from(NFP_CPP_ACTION_RW);
        mu.write_u64(
            NSP_CSR_BASE + NSP_DFLT_BUFFER,
            cpp << 40 | NSP_DFLT_BUFFER_BASE,
        );
        mu.write_u64(NSP_CSR_BASE + NSP_DFLT_BUFFER_CONFIG, NSP_DFLT_BUFFER_MB);
        mu.write_u64(NSP_CSR_BASE + NFP_CAP_CMD_DMA_SG, 0);
        let table =
            hwinfo::build(&self.hwinfo, HWINFO_SIZE as usize).expect("hwinfo fits its region");
        mu.write(HWINFO_BASE, &table);
        write_nffw_info(mu, None);
    }

    /// Whether a write at `addr` of `len` bytes touches the COMMAND register.
    pub fn is_command_write(addr: u64, len: usize) -> bool {
        let cmd = NSP_CSR_BASE + NSP_COMMAND;
        addr < cmd + 8 && cmd < addr.saturating_add(len as u64)
    }

    /// Run the command the driver just started, if START is set.
    pub fn on_command_write(&mut self, mu: &mut Mu, fw: &mut dyn FirmwareHost) {
        let command = mu.read_u64(NSP_CSR_BASE + NSP_COMMAND);
        if command & NSP_COMMAND_START == 0 {
            return;
        }
        let code = ((command >> 16) & 0xffff) as u16;
        let option = (command >> 32) as u32;
        let buffer = mu.read_u64(NSP_CSR_BASE + NSP_BUFFER);
        let ans = if command & NSP_COMMAND_DMA_BUF != 0 {
            crate::guest_warn!(
                code,
                "NSP command with a DMA buffer, which this NSP does not offer"
            );
            Answer::err(EINVAL)
        } else {
            self.execute(mu, fw, code, option, buffer)
        };
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        if ans.errno != 0 {
            self.stats.errors.fetch_add(1, Ordering::Relaxed);
        }
        debug!(target: "nfp_emu::nsp", code, option, ret = ans.ret, errno = ans.errno, "NSP command done");
        mu.write_u64(
            NSP_CSR_BASE + NSP_COMMAND,
            u64::from(ans.ret) << 32 | u64::from(code) << 16,
        );
        mu.write_u64(NSP_CSR_BASE + NSP_STATUS, status_word(code, ans.errno));
    }

    /// The buffer's MU address, if NSP_BUFFER names an MU location that can
    /// hold `len` bytes inside the default buffer.
    fn buffer_addr(buffer: u64, len: usize) -> Option<u64> {
        let cpp = buffer >> 40;
        let addr = buffer & ((1 << 40) - 1);
        let target = ((cpp >> 16) & 0xff) as u8;
        let end = NSP_DFLT_BUFFER_BASE + (NSP_DFLT_BUFFER_MB << 20);
        let ok = target == NFP_CPP_TARGET_MU
            && addr >= NSP_DFLT_BUFFER_BASE
            && addr.checked_add(len as u64).is_some_and(|e| e <= end);
        if !ok {
            crate::guest_warn!(
                "NSP_BUFFER {buffer:#018x} ({len} bytes) is outside the default buffer; refused"
            );
        }
        ok.then_some(addr)
    }

    fn read_buf(mu: &Mu, buffer: u64, len: usize) -> Option<Vec<u8>> {
        let addr = Self::buffer_addr(buffer, len)?;
        let mut v = vec![0u8; len];
        mu.read(addr, &mut v);
        Some(v)
    }

    fn write_buf(mu: &mut Mu, buffer: u64, data: &[u8]) -> bool {
        match Self::buffer_addr(buffer, data.len()) {
            Some(addr) => {
                mu.write(addr, data);
                true
            }
            None => false,
        }
    }

    fn execute(
        &mut self,
        mu: &mut Mu,
        fw: &mut dyn FirmwareHost,
        code: u16,
        option: u32,
        buffer: u64,
    ) -> Answer {
        let size = option as usize;
        match code {
            SPCODE_NOOP | SPCODE_MAC_INIT | SPCODE_PHY_INIT | SPCODE_PHY_RXADAPT => Answer::ok(0),
            SPCODE_SOFT_RESET => {
                info!(target: "nfp_emu::nsp", "soft reset: application firmware stopped");
                fw.soft_reset(mu);
                Answer::ok(0)
            }
            SPCODE_FW_LOAD => {
                let Some(image) = Self::read_buf(mu, buffer, size) else {
                    return Answer::err(EINVAL);
                };
                match fw.load(mu, &self.eth, &image) {
                    Ok(()) => {
                        info!(target: "nfp_emu::nsp", bytes = size, "FW_LOAD: firmware loaded");
                        Answer::ok(fw_load_status(0, 0))
                    }
                    Err(e) => {
                        crate::guest_warn!(bytes = size, "FW_LOAD: image rejected: {e}");
                        let (major, minor) = e.status();
                        Answer {
                            ret: fw_load_status(major, minor),
                            errno: EINVAL,
                        }
                    }
                }
            }
            SPCODE_FW_STORED => match fw.load_stored(mu, &self.eth) {
                Ok(_) => Answer::ok(fw_load_status(1, 0)),
                Err(e) => {
                    crate::guest_warn!("FW_STORED: {e}");
                    let (major, minor) = e.status();
                    Answer {
                        ret: fw_load_status(major, minor),
                        errno: ENOENT,
                    }
                }
            },
            SPCODE_FW_LOADED => Answer::ok(u32::from(fw.is_loaded())),
            SPCODE_NSP_WRITE_FLASH => {
                let Some(image) = Self::read_buf(mu, buffer, size) else {
                    return Answer::err(EINVAL);
                };
                match fw.write_flash(&image) {
                    Ok(()) => Answer::ok(0),
                    Err(e) => {
                        crate::guest_warn!("NSP_WRITE_FLASH: image rejected: {e}");
                        Answer::err(EINVAL)
                    }
                }
            }
            SPCODE_ETH_RESCAN => {
                if size < NSP_ETH_TABLE_SIZE {
                    return Answer::err(ENOSPC);
                }
                if !Self::write_buf(mu, buffer, &self.eth.encode()) {
                    return Answer::err(EINVAL);
                }
                Answer::ok(self.eth.ports.len() as u32)
            }
            SPCODE_ETH_CONTROL => {
                let Some(table) = Self::read_buf(mu, buffer, size.min(NSP_ETH_TABLE_SIZE)) else {
                    return Answer::err(EINVAL);
                };
                match self.eth.apply_control(&table) {
                    Ok(()) => Answer::ok(0),
                    Err(e) => {
                        crate::guest_warn!("ETH_CONTROL refused: {e}");
                        Answer::err(EINVAL)
                    }
                }
            }
            SPCODE_NSP_IDENTIFY => self.identify(mu, buffer, size),
            SPCODE_NSP_SENSORS => {
                let s = &self.sensors;
                let mut out = Vec::with_capacity(16);
                for v in [
                    s.chip_temp,
                    s.assembly_power,
                    s.assembly_12v_power,
                    s.assembly_3v3_power,
                ] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                // The driver passes the sensor mask as the option and reads 16 bytes.
                if !Self::write_buf(mu, buffer, &out) {
                    return Answer::err(EINVAL);
                }
                Answer::ok(0)
            }
            SPCODE_HWINFO_LOOKUP => self.hwinfo_lookup(mu, buffer, size),
            SPCODE_HWINFO_SET => {
                let Some(b) = Self::read_buf(mu, buffer, size) else {
                    return Answer::err(EINVAL);
                };
                let s = c_str(&b);
                let Some((k, v)) = s.split_once('=') else {
                    crate::guest_warn!("HWINFO_SET without '=': {s:?}");
                    return Answer::err(EINVAL);
                };
                self.overrides.retain(|(ok, _)| ok != k);
                self.overrides.push((k.to_string(), v.to_string()));
                Answer::ok(0)
            }
            SPCODE_VERSIONS => self.versions(mu, fw, buffer, size),
            SPCODE_READ_MEDIA => {
                let Some(mut b) = Self::read_buf(mu, buffer, size.max(40)) else {
                    return Answer::err(EINVAL);
                };
                let Some((sup, adv)) = self.eth.media(b[0]) else {
                    return Answer::err(ENOENT);
                };
                for (i, w) in sup.iter().chain(adv.iter()).enumerate() {
                    b[8 + 8 * i..16 + 8 * i].copy_from_slice(&w.to_le_bytes());
                }
                Self::write_buf(mu, buffer, &b);
                Answer::ok(0)
            }
            SPCODE_READ_SFF_EEPROM => self.module_eeprom(mu, buffer, size),
            _ => {
                crate::guest_warn!(code, option, "unsupported NSP command");
                Answer::err(EOPNOTSUPP)
            }
        }
    }

    fn identify(&self, mu: &mut Mu, buffer: u64, size: usize) -> Answer {
        // struct nsp_identify (nfp_nsp_cmds.c:10-21), 64 bytes.
        let mut b = vec![0u8; 64.max(size.min(4096))];
        let v = self.board.bsp_version.as_bytes();
        b[..v.len().min(39)].copy_from_slice(&v[..v.len().min(39)]);
        b[0x28] = 0; // flags
        b[0x29] = 0; // br_primary
        b[0x2a] = 0; // br_secondary
        b[0x2b] = 0; // br_nsp
        b[0x2c..0x2e].copy_from_slice(&1u16.to_le_bytes());
        b[0x2e..0x30].copy_from_slice(&1u16.to_le_bytes());
        b[0x30..0x32].copy_from_slice(&(NSP_ABI_MINOR as u16).to_le_bytes());
        b[0x38..0x40].copy_from_slice(&NSP_SENSOR_MASK_ALL.to_le_bytes());
        b.truncate(size.max(64));
        if !Self::write_buf(mu, buffer, &b) {
            return Answer::err(EINVAL);
        }
        Answer::ok(0)
    }

    /// Value of hwinfo `key`, NSP overrides first.
    pub fn hwinfo_get(&self, key: &str) -> Option<&str> {
        self.overrides
            .iter()
            .chain(self.hwinfo.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn hwinfo_lookup(&self, mu: &mut Mu, buffer: u64, size: usize) -> Answer {
        let Some(b) = Self::read_buf(mu, buffer, size) else {
            return Answer::err(EINVAL);
        };
        let key = c_str(&b);
        match self.hwinfo_get(&key) {
            Some(v) if v.len() < size => {
                let mut out = vec![0u8; size];
                out[..v.len()].copy_from_slice(v.as_bytes());
                Self::write_buf(mu, buffer, &out);
                Answer::ok(0)
            }
            Some(_) => Answer::err(ENOSPC),
            None => Answer::err(ENOENT),
        }
    }

    fn versions(&self, mu: &mut Mu, fw: &dyn FirmwareHost, buffer: u64, size: usize) -> Answer {
        // Layout read by nfp_nsp_versions_get() (nfp_nsp.c:72-80, 1012-1044):
        // le16 field count, then per id a (running, flash) pair of le16
        // offsets of NUL-terminated strings.
        const FIELDS: u16 = 14;
        let mut b = vec![0u8; size.clamp(64, 4096)];
        let mut strings_at = 2 + 2 * usize::from(FIELDS);
        b[0..2].copy_from_slice(&FIELDS.to_le_bytes());
        let mut put = |b: &mut Vec<u8>, field_off: usize, s: Option<String>| {
            let Some(s) = s else { return };
            let bytes = s.as_bytes();
            if strings_at + bytes.len() + 1 > b.len() {
                return;
            }
            b[field_off..field_off + 2].copy_from_slice(&(strings_at as u16).to_le_bytes());
            b[strings_at..strings_at + bytes.len()].copy_from_slice(bytes);
            strings_at += bytes.len() + 1;
        };
        let bsp = Some(self.board.bsp_version.clone());
        let cpld = Some(self.board.cpld_version.clone());
        put(&mut b, 2, bsp.clone()); // BSP running
        put(&mut b, 4, bsp); // BSP flash
        put(&mut b, 6, cpld.clone()); // CPLD running
        put(&mut b, 8, cpld); // CPLD flash
        put(&mut b, 10, fw.running_version()); // APP running
        put(&mut b, 12, fw.stored_version()); // APP flash
        b.truncate(size.min(b.len()));
        if !Self::write_buf(mu, buffer, &b) {
            return Answer::err(EINVAL);
        }
        Answer::ok(0)
    }

    fn module_eeprom(&self, mu: &mut Mu, buffer: u64, size: usize) -> Answer {
        // struct eeprom_buf (nfp_nsp.c:1049-1056): metalen, le16 length,
        // le16 offset, le16 readlen, eth_index, data at metalen * 8.
        let Some(mut b) = Self::read_buf(mu, buffer, size.max(8)) else {
            return Answer::err(EINVAL);
        };
        let meta = usize::from(b[0]) * 8;
        let length = usize::from(u16::from_le_bytes([b[1], b[2]]));
        let offset = usize::from(u16::from_le_bytes([b[3], b[4]]));
        let Some(port) = self.eth.by_eth_index(b[7]) else {
            return Answer::err(ENOENT);
        };
        let eeprom = sff8472_eeprom(port);
        let avail = eeprom.len().saturating_sub(offset);
        let n = length.min(avail).min(b.len().saturating_sub(meta));
        if n > 0 {
            b[meta..meta + n].copy_from_slice(&eeprom[offset..offset + n]);
        }
        b[5..7].copy_from_slice(&(n as u16).to_le_bytes());
        Self::write_buf(mu, buffer, &b);
        Answer::ok(0)
    }
}

/// A plausible SFF-8472 A0h page of a 1 m passive 25G DAC (SFP28) for
/// `ethtool -m`.
fn sff8472_eeprom(port: &eth::EthPort) -> Vec<u8> {
    let mut e = vec![0u8; 256];
    e[0] = 0x03; // identifier: SFP/SFP+/SFP28
    e[1] = 0x04; // extended identifier
    e[2] = 0x21; // connector: copper pigtail
    e[8] = 0x04; // SFP+ cable technology: passive cable
    e[12] = 0xff; // nominal bit rate: see byte 66
    e[18] = 1; // length (copper), metres
    e[20..36].copy_from_slice(b"nfp-emu         ");
    e[36] = 0x0b; // extended compliance: 25GBASE-CR CA-L
    e[40..56].copy_from_slice(b"DAC-25G-1M      ");
    e[56..60].copy_from_slice(b"A   ");
    e[60] = 0x01; // passive cable compliance
    e[66] = 0x67; // nominal bit rate 25.78 Gb/s in 250 Mb/s units
    let sn = format!(
        "EMU{:02x}{:02x}{:02x}{:02x}     ",
        port.mac[2], port.mac[3], port.mac[4], port.index
    );
    e[68..84].copy_from_slice(&sn.as_bytes()[..16]);
    e[84..92].copy_from_slice(b"26112100");
    e[63] = e[..63].iter().fold(0u8, |a, &x| a.wrapping_add(x)); // CC_BASE
    e[95] = e[64..95].iter().fold(0u8, |a, &x| a.wrapping_add(x)); // CC_EXT
    e
}

/// `struct nfp_nffw_info_data` size (nfpcore/nfp_nffw.c:159-200).
pub const NFFW_INFO_DATA_SIZE: usize = 3208;
/// v2 layout: `fwinfo[200]` at 0x328 (nfp_nffw.c:53-127).
const NFFW_INFO_FWINFO_V2: usize = 0x328;

/// Where the loaded firmware's MIP is, as the NSP announces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MipLocation {
    /// Full 32-bit CPP ID of the MIP (island byte included).
    pub cpp_id: u32,
    /// 40-bit offset.
    pub offset: u64,
}

/// Write the `nfp.nffw` block: version 2, init done, and `fwinfo[0]` loaded
/// with `mip` if firmware runs.
pub fn write_nffw_info(mu: &mut Mu, mip: Option<MipLocation>) {
    let mut b = vec![0u8; NFFW_INFO_DATA_SIZE];
    b[0..4].copy_from_slice(&(2u32 << 16 | 1).to_le_bytes());
    if let Some(m) = mip {
        let w0 = 1u32 << 31 | ((m.offset >> 32) & 0xff) as u32;
        let f = NFFW_INFO_FWINFO_V2;
        b[f..f + 4].copy_from_slice(&w0.to_le_bytes());
        b[f + 4..f + 8].copy_from_slice(&m.cpp_id.to_le_bytes());
        b[f + 8..f + 12].copy_from_slice(&(m.offset as u32).to_le_bytes());
    }
    mu.write(NFFW_INFO_BASE, &b);
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod edge_tests {
    use super::*;

    #[test]
    fn buffer_bounds_at_the_edges() {
        let cpp = u64::from(NFP_CPP_TARGET_MU) << 56;
        let end = NSP_DFLT_BUFFER_BASE + (NSP_DFLT_BUFFER_MB << 20);
        assert_eq!(
            Nsp::buffer_addr(
                cpp | NSP_DFLT_BUFFER_BASE,
                (NSP_DFLT_BUFFER_MB << 20) as usize
            ),
            Some(NSP_DFLT_BUFFER_BASE)
        );
        assert_eq!(Nsp::buffer_addr(cpp | (end - 8), 8), Some(end - 8));
        assert_eq!(Nsp::buffer_addr(cpp | (end - 8), 9), None);
        assert_eq!(
            Nsp::buffer_addr(cpp | NSP_DFLT_BUFFER_BASE, usize::MAX),
            None
        );
        assert_eq!(Nsp::buffer_addr(cpp | ((1 << 40) - 1), 2), None);
        assert_eq!(
            Nsp::buffer_addr(NSP_DFLT_BUFFER_BASE, 8),
            None,
            "not the MU target"
        );
        assert!(!Nsp::is_command_write(u64::MAX, usize::MAX));
        assert!(Nsp::is_command_write(NSP_CSR_BASE + NSP_COMMAND + 7, 1));
        assert!(!Nsp::is_command_write(NSP_CSR_BASE + NSP_COMMAND + 8, 8));
    }
}
