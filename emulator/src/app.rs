//! The application firmware the card runs: an NFFW image loaded into the
//! chip's memories (its runtime symbol table and initialised data), and the
//! native model of that firmware's behaviour (NFD; later the datapath).
//!
//! Everything the driver can observe comes from the image: the symbols and
//! their sizes, the app id, the port count, the BPF capabilities. The image
//! may come from the driver (FW_LOAD), from "flash" (`nfp-emu --firmware`,
//! FW_STORED, NSP_WRITE_FLASH) or be replaced at run time.

use nfp_firmware::check::ImageError;
use nfp_firmware::{Nffw, NffwError, RtSym, SectionData};
use tracing::info;

use crate::cpp::memmap::{MemKind, MemoryMap};
use crate::cpp::{Mu, NFP_CPP_ACTION_RW, NFP_CPP_TARGET_MU};
use crate::datapath::Datapath;
use crate::maps::caps::BpfCaps;
use crate::nfd::tlv::TlvBlock;
use crate::nfd::vnic::NFP_NET_CFG_BAR_SZ;
use crate::nfd::{Nfd, NfdLayout};
use crate::nsp::eth::EthTable;
use crate::nsp::{FirmwareHost, FwLoadError, MipLocation, write_nffw_info};

/// `NFP_APP_CORE_NIC` (nfp_app.h:27-31).
pub const NFP_APP_CORE_NIC: u32 = 1;
/// `NFP_APP_BPF_NIC` (nfp_app.h:27-31), the firmware crate's.
pub const NFP_APP_BPF_NIC: u32 = nfp_firmware::image::BPF_APP_ID;
/// `NFP_APP_FLOWER_NIC` (nfp_app.h:27-31).
pub const NFP_APP_FLOWER_NIC: u32 = 3;
/// `NFP_APP_ACTIVE_BUFFER_MGMT_NIC` (nfp_app.h:27-31).
pub const NFP_APP_ACTIVE_BUFFER_MGMT_NIC: u32 = 4;

/// The application an image runs, by its `_pf0_net_app_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// Core NIC (`nic/` and `nic-sriov/` images): NFD and the datapath.
    CoreNic,
    /// BPF offload (`bpf/` images, the project's): NFD, the datapath, the
    /// flow processor for offloaded programs and the map channel.
    Bpf,
    /// An app this emulator does not model (flower, ABM, unknown ids): the
    /// image loads, its NFD does not start.
    Unmodelled(u32),
}

impl AppKind {
    /// The app of `_pf0_net_app_id` `id`.
    pub fn from_id(id: u32) -> Self {
        match id {
            NFP_APP_CORE_NIC => Self::CoreNic,
            NFP_APP_BPF_NIC => Self::Bpf,
            id => Self::Unmodelled(id),
        }
    }

    /// The app's name as the driver gives it (`struct nfp_app_type` `.name`: nic/main.c:69, bpf/main.c:523, flower/main.c:996, abm/main.c:538).
    pub fn name(self) -> &'static str {
        match self {
            Self::CoreNic => "nic",
            Self::Bpf => "ebpf",
            Self::Unmodelled(NFP_APP_FLOWER_NIC) => "flower",
            Self::Unmodelled(NFP_APP_ACTIVE_BUFFER_MGMT_NIC) => "abm",
            Self::Unmodelled(_) => "unknown",
        }
    }

    /// Whether the driver drives a control vNIC for this app (it does for
    /// apps with control messages, `nfp_app_needs_ctrl_vnic`, nfp_app.h:292-295).
    pub fn has_ctrl_vnic(self) -> bool {
        self == Self::Bpf
    }
}

/// A runtime symbol with its MU address resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The symbol as the image's MIP tables give it.
    pub sym: RtSym,
    /// 40-bit MU address for MU objects.
    pub mu_addr: Option<u64>,
}

/// Firmware that runs on the card.
#[derive(Debug)]
pub struct RunningApp {
    /// Firmware name from the MIP.
    pub name: String,
    /// `_pf0_net_app_id` (core NIC when absent).
    pub app_id: u32,
    /// What the card makes of the app id.
    pub kind: AppKind,
    /// `nfd_vf_cfg_max_vfs`: VFs the image's NFD serves (0 when absent).
    pub max_vfs: u64,
    /// The runtime symbols.
    pub symbols: Vec<Symbol>,
    /// The host interface, when the image has vNIC BARs.
    pub nfd: Option<Nfd>,
}

/// The symbol `name` of an image.
fn find_symbol<'a>(symbols: &'a [Symbol], name: &str) -> Option<&'a Symbol> {
    symbols.iter().find(|s| s.sym.name == name)
}

#[derive(Debug)]
struct StoredImage {
    bytes: Vec<u8>,
    name: String,
}

/// The card's application-firmware slot and its flash.
#[derive(Debug, Default)]
pub struct AppFirmware {
    flash: Option<StoredImage>,
    /// The firmware that runs, if any.
    pub running: Option<RunningApp>,
    /// The card's memories, which every image must fit.
    map: MemoryMap,
}

/// A parsed and checked image, ready to be written into the chip.
struct Prepared {
    nffw: Nffw,
    mip_sym: RtSym,
    name: String,
    symbols: Vec<Symbol>,
}

/// Parse and check an image completely (firmware crate: MIP and its tables,
/// sections; [`crate::cpp::layout`]: the card's memories) before anything is installed.
fn prepare(bytes: &[u8], map: &MemoryMap) -> Result<Prepared, FwLoadError> {
    let nffw = Nffw::parse(bytes).map_err(FwLoadError::Parse)?;
    let checked = nfp_firmware::check::check(&nffw).map_err(|e| match e {
        ImageError::Nffw(
            e @ (NffwError::NoRtsymTable | NffwError::NoMip | NffwError::BadMip(_)),
        ) => FwLoadError::NoMip(e),
        e => FwLoadError::Image(e),
    })?;
    if checked.mip.name.is_empty() {
        return Err(FwLoadError::NullName);
    }
    crate::cpp::layout::check(map, &nffw, &checked)?;
    let symbols = checked
        .symbols
        .into_iter()
        .map(|sym| Symbol {
            mu_addr: crate::cpp::layout::object_mu_address(&sym),
            sym,
        })
        .collect();
    Ok(Prepared {
        nffw,
        mip_sym: checked.mip_sym,
        name: checked.mip.name,
        symbols,
    })
}

/// Read a 4- or 8-byte little-endian scalar symbol as `nfp_rtsym_read_le`
/// does (nfpcore/nfp_rtsym.c:443-480).
fn read_scalar(mu: &Mu, symbols: &[Symbol], name: &str) -> Option<u64> {
    let s = find_symbol(symbols, name)?;
    let addr = s.mu_addr?;
    match s.sym.size {
        4 => Some(u64::from(mu.read_u32(addr))),
        8 => Some(mu.read_u64(addr)),
        _ => {
            crate::guest_warn!("symbol {name} has size {}, not 4 or 8", s.sym.size);
            None
        }
    }
}

/// The BPF capabilities in `_abi_bpf_capabilities` (defaults when absent,
/// bpf/main.c:418-421).
fn bpf_caps(mu: &Mu, symbols: &[Symbol]) -> BpfCaps {
    let Some(s) = find_symbol(symbols, "_abi_bpf_capabilities") else {
        return BpfCaps::default();
    };
    let (Some(addr), Ok(len)) = (s.mu_addr, usize::try_from(s.sym.size.min(4096))) else {
        return BpfCaps::default();
    };
    let mut b = vec![0u8; len];
    mu.read(addr, &mut b);
    BpfCaps::parse(&b)
}

/// The capability TLV block NFD publishes in each of `bars` (MU addresses
/// of vNIC BARs), read from the image as it was just loaded: the block's
/// place from the BAR's initialised data, its contents from NFD's template
/// `nfd_cfg_tlv_template0` when the image has one (one block per vNIC of
/// `nfd_cfg_base0`, in BAR order), else from the BAR itself.
fn tlv_blocks(mu: &Mu, symbols: &[Symbol], bars: &[u64]) -> Vec<(u64, TlvBlock)> {
    let object =
        |name: &str| find_symbol(symbols, name).and_then(|s| s.mu_addr.map(|a| (a, s.sym.size)));
    let base = object("nfd_cfg_base0");
    let template = object("nfd_cfg_tlv_template0");
    let mut out = Vec::new();
    for &bar in bars {
        let mut b = vec![0u8; NFP_NET_CFG_BAR_SZ as usize];
        mu.read(bar, &mut b);
        let Some(found) = TlvBlock::find(&b) else {
            continue;
        };
        let from_template = (|| {
            let ((base, base_size), (tpl, tpl_size)) = (base?, template?);
            let vnics = base_size / NFP_NET_CFG_BAR_SZ;
            let vid = bar.checked_sub(base)? / NFP_NET_CFG_BAR_SZ;
            if vid >= vnics {
                return None;
            }
            let block_sz = tpl_size.checked_div(vnics)?.min(NFP_NET_CFG_BAR_SZ);
            let mut t = vec![0u8; usize::try_from(block_sz).ok()?];
            mu.read(tpl.checked_add(vid.checked_mul(block_sz)?)?, &mut t);
            found.from_template(&t)
        })();
        out.push((bar, from_template.unwrap_or(found)));
    }
    out
}

impl AppFirmware {
    /// An empty slot of a card with the memories of `map`, with `flash` as
    /// the stored image (checked against them).
    pub fn new(flash: Option<Vec<u8>>, map: MemoryMap) -> Result<Self, FwLoadError> {
        let flash = match flash {
            Some(bytes) => {
                let p = prepare(&bytes, &map)?;
                Some(StoredImage {
                    bytes,
                    name: p.name,
                })
            }
            None => None,
        };
        Ok(Self {
            flash,
            running: None,
            map,
        })
    }

    /// The card's memories this slot checks images against.
    pub fn map(&self) -> &MemoryMap {
        &self.map
    }

    /// Write a prepared image into the chip and start its native model.
    fn install(&mut self, mu: &mut Mu, dp: &Datapath, p: Prepared) {
        self.stop(mu, dp);
        let mut loaded = 0u64;
        for s in p.nffw.sections.iter().filter(|s| s.is_loadable()) {
            // Checked by `prepare`: the section fits its memory.
            let memory = match crate::cpp::layout::section_memory(mu.map(), s) {
                Ok(Some(m)) => m,
                Ok(None) => {
                    crate::guest_debug!(
                        "section {} ({:?}) not modelled; skipped",
                        s.name,
                        s.mem_type()
                    );
                    continue;
                }
                Err(e) => {
                    crate::guest_warn!("{e}; skipped");
                    continue;
                }
            };
            let addr = memory.cpp_address(s.addr);
            let cls = memory.kind == MemKind::Cls;
            match &s.data {
                SectionData::Bytes(b) if cls => mu.cls_write(addr, b),
                SectionData::Bytes(b) => mu.write(addr, b),
                SectionData::Zero(n) if cls => mu.cls_zero(addr, *n),
                SectionData::Zero(n) => mu.zero(addr, *n),
            }
            if let SectionData::Bytes(b) = &s.data {
                loaded += b.len() as u64;
            }
        }
        let island = p.mip_sym.island;
        write_nffw_info(
            mu,
            Some(MipLocation {
                cpp_id: u32::from(NFP_CPP_TARGET_MU) << 24
                    | u32::from(NFP_CPP_ACTION_RW) << 8
                    | u32::from(island),
                offset: p.mip_sym.addr,
            }),
        );
        let app_id = read_scalar(mu, &p.symbols, "_pf0_net_app_id")
            .unwrap_or(u64::from(NFP_APP_CORE_NIC)) as u32;
        let kind = AppKind::from_id(app_id);
        let max_vfs = read_scalar(mu, &p.symbols, "nfd_vf_cfg_max_vfs").unwrap_or(0);
        // One data vNIC per port the card has, whatever a (possibly
        // guest-supplied) image claims.
        let declared = read_scalar(mu, &p.symbols, "nfd_cfg_pf0_num_ports").unwrap_or(1);
        let num_ports = usize::try_from(declared)
            .unwrap_or(usize::MAX)
            .min(dp.wires.len());
        if num_ports as u64 != declared {
            crate::guest_warn!(
                "firmware {} declares {declared} ports; the card has {}",
                p.name,
                dp.wires.len()
            );
        }
        let bar = |name: &str| {
            find_symbol(&p.symbols, name).and_then(|s| s.mu_addr.map(|a| (a, s.sym.size)))
        };
        let nfd = match bar("_pf0_net_bar0") {
            _ if matches!(kind, AppKind::Unmodelled(_)) => {
                crate::guest_warn!(
                    "firmware {} runs the {} app (app id {app_id}), which nfp-emu does not model: \
                     the image is loaded but its NFD does not start, so the driver finds no vNIC \
                     (\"Unsupported Firmware ABI 0.0.0.0\"); nfp-emu models the nic, nic-sriov \
                     and bpf apps",
                    p.name,
                    kind.name()
                );
                None
            }
            Some((data_bar, size)) => {
                let fits = (size / NFP_NET_CFG_BAR_SZ) as usize;
                let caps = (kind == AppKind::Bpf).then(|| bpf_caps(mu, &p.symbols));
                let num_ports = num_ports.min(fits);
                let ctrl_bar = bar("_pf0_net_ctrl_bar")
                    .filter(|&(_, s)| kind.has_ctrl_vnic() && s >= NFP_NET_CFG_BAR_SZ)
                    .map(|(a, _)| a);
                let bars: Vec<u64> = (0..num_ports as u64)
                    .filter_map(|k| data_bar.checked_add(k * NFP_NET_CFG_BAR_SZ))
                    .chain(ctrl_bar)
                    .collect();
                let layout = NfdLayout {
                    data_bar,
                    num_ports,
                    ctrl_bar,
                    bpf_abi: caps.as_ref().map(|c| c.abi),
                    tlv: tlv_blocks(mu, &p.symbols, &bars),
                };
                let nfd = Nfd::start(mu, &layout, &|port| dp.link_up(port));
                dp.attach(
                    nfd.vnics.iter().map(|v| v.dp.clone()).collect(),
                    bar("_mac_stats").map(|(a, _)| a),
                    caps,
                );
                Some(nfd)
            }
            None => {
                crate::guest_warn!("firmware {} has no _pf0_net_bar0: no vNICs", p.name);
                None
            }
        };
        info!(
            target: "nfp_emu::app",
            "firmware {} running: {} app (id {app_id}), {num_ports} port(s), {max_vfs} VF(s), {} symbols, {loaded} bytes of data",
            p.name,
            kind.name(),
            p.symbols.len()
        );
        self.running = Some(RunningApp {
            name: p.name,
            app_id,
            kind,
            max_vfs,
            symbols: p.symbols,
            nfd,
        });
    }

    /// Stop the application firmware and clear its memories.
    fn stop(&mut self, mu: &mut Mu, dp: &Datapath) {
        self.running = None;
        dp.detach();
        mu.clear_application_memories();
        dp.host.qc.reset();
        write_nffw_info(mu, None);
    }

    /// Load the flash image at power-on, as a card does.
    pub fn boot_from_flash(&mut self, mu: &mut Mu, dp: &Datapath) {
        if let Some(f) = &self.flash {
            match prepare(&f.bytes, &self.map) {
                Ok(p) => self.install(mu, dp, p),
                Err(e) => crate::guest_warn!("flash image not loadable: {e}"),
            }
        }
    }
}

/// The application firmware together with the hardware its (re)start
/// touches, as the NSP drives it.
pub struct FirmwareCtx<'a> {
    /// The application-firmware slot.
    pub app: &'a mut AppFirmware,
    /// The datapath the firmware's model drives.
    pub dp: &'a Datapath,
}

impl FirmwareHost for FirmwareCtx<'_> {
    fn soft_reset(&mut self, mu: &mut Mu) {
        self.app.stop(mu, self.dp);
    }

    fn load(&mut self, mu: &mut Mu, _eth: &EthTable, image: &[u8]) -> Result<(), FwLoadError> {
        let p = prepare(image, mu.map())?;
        self.app.install(mu, self.dp, p);
        Ok(())
    }

    fn is_loaded(&self) -> bool {
        self.app.running.is_some()
    }

    fn load_stored(&mut self, mu: &mut Mu, _eth: &EthTable) -> Result<bool, FwLoadError> {
        if self.app.running.is_some() {
            return Ok(false);
        }
        let Some(f) = &self.app.flash else {
            return Err(FwLoadError::NoStoredFirmware);
        };
        let p = prepare(&f.bytes, mu.map())?;
        self.app.install(mu, self.dp, p);
        Ok(true)
    }

    fn write_flash(&mut self, image: &[u8]) -> Result<(), FwLoadError> {
        let p = prepare(image, &self.app.map)?;
        info!(target: "nfp_emu::app", "flash now holds firmware {}", p.name);
        self.app.flash = Some(StoredImage {
            bytes: image.to_vec(),
            name: p.name,
        });
        Ok(())
    }

    fn running_version(&self) -> Option<String> {
        self.app.running.as_ref().map(|r| r.name.clone())
    }

    fn stored_version(&self) -> Option<String> {
        self.app.flash.as_ref().map(|f| f.name.clone())
    }
}

#[cfg(test)]
mod tests;
