//! The project's own open firmware images.
//!
//! The emulator does not run NFP microcode; what the Linux `nfp` driver
//! needs from a loaded firmware is its runtime symbol table, the MIP and the
//! few objects the driver reads or maps by name.  [`bpf_image`] builds an
//! image that presents the BPF offload application (`NFP_APP_BPF_NIC`) with
//! exactly those objects, all in EMEM (island [`EMEM_ISLAND`]):
//!
//! | symbol                  | address    | size               | contents                    |
//! |-------------------------|------------|--------------------|-----------------------------|
//! | `_pf0_net_ctrl_bar`     | 0x800000   | 0x8000             | zeros                       |
//! | `_pf0_net_bar0`         | 0x808000   | 0x8000 per port    | zeros                       |
//! | `.mip`                  | 0x81b000   | 96                 | the MIP                     |
//! | `_pf0_net_app_id`       | 0x81b060   | 8                  | [`BPF_APP_ID`] (le64)       |
//! | `nfd_cfg_pf0_num_ports` | 0x81b0e8   | 8                  | port count (le64)           |
//! | `_abi_bpf_capabilities` | 0x81b100   | blob length        | [`bpf_capabilities`]        |
//! | `_mac_stats`            | 0x860c00   | 0x3000             | zeros                       |
//!
//! The rtsym tables sit at [`RTSYMTAB_ADDR`] (`.rtsymtab`) and right after
//! it, 8-aligned (`.rtstrtab`).  Images are byte-for-byte reproducible.

use crate::mip::{MIP_SIZE, Mip};
use crate::nffw::{
    NOTE_TYPE_BUILD_INFO, Nffw, Note, RTSTRTAB_SECTION, RTSYMTAB_SECTION, SECTION_MEM_MU, Section,
    section_info,
};
use crate::rtsym::{self, RtSym};

/// `NFP_APP_BPF_NIC`: the application ID of BPF offload firmware.
pub const BPF_APP_ID: u32 = 2;
/// Island of the EMEM the image lives in.
pub const EMEM_ISLAND: u8 = 24;
/// `sh_info` of the image's EMEM sections (island 24, MU memory).
pub const EMEM_SECTION_INFO: u32 = section_info(EMEM_ISLAND, 0, SECTION_MEM_MU);

/// Firmware name in the MIP and the build information note.
pub const BPF_FW_NAME: &str = "nfp-emu-bpf";
/// Toolchain string in the MIP.
pub const BPF_FW_TOOLCHAIN: &str = "nfp-emu";
/// Firmware version (major, minor, patch).
pub const BPF_FW_VERSION: (u8, u8, u8) = (0, 1, 0);
/// Build number in the MIP and the build information note.
pub const BPF_FW_BUILD: u32 = 1;

/// Address of `_pf0_net_ctrl_bar`.
pub const NET_CTRL_BAR_ADDR: u64 = 0x80_0000;
/// Size of `_pf0_net_ctrl_bar`.
pub const NET_CTRL_BAR_SIZE: u64 = 0x8000;
/// Address of `_pf0_net_bar0` for up to two ports.
pub const NET_BAR0_ADDR: u64 = 0x80_8000;
/// Address of `_pf0_net_bar0` for more than two ports (its own
/// `.emembss2.i24`, above the rtsym tables): room for [`MAX_PORTS`].
pub const NET_BAR0_WIDE_ADDR: u64 = 0x88_0000;
/// Size of `_pf0_net_bar0` per port.
pub const NET_BAR0_PORT_SIZE: u64 = 0x8000;
/// Address of `.emembss.i24` (the control and data vNIC BARs).
pub const EMEM_BSS_ADDR: u64 = 0x80_0000;
/// Address of `.ememdata.i24` and of the MIP.
pub const EMEM_DATA_ADDR: u64 = 0x81_b000;
/// Address of the MIP (`.mip`).
pub const MIP_ADDR: u64 = EMEM_DATA_ADDR;
/// Address of `_pf0_net_app_id`.
pub const APP_ID_ADDR: u64 = 0x81_b060;
/// Address of `nfd_cfg_pf0_num_ports`.
pub const NUM_PORTS_ADDR: u64 = 0x81_b0e8;
/// Address of `_abi_bpf_capabilities`.
pub const BPF_CAPS_ADDR: u64 = 0x81_b100;
/// Address of `_mac_stats` and of `.emembss1.i24`.
pub const MAC_STATS_ADDR: u64 = 0x86_0c00;
/// Size of `_mac_stats`.
pub const MAC_STATS_SIZE: u64 = 0x3000;
/// Address of `.rtsymtab`.
pub const RTSYMTAB_ADDR: u64 = 0x86_4010;

/// BPF capability TLV type: helper function address.
pub const BPF_CAP_TYPE_FUNC: u32 = 1;
/// BPF capability TLV type: `bpf_xdp_adjust_head` limits.
pub const BPF_CAP_TYPE_ADJUST_HEAD: u32 = 2;
/// BPF capability TLV type: map support.
pub const BPF_CAP_TYPE_MAPS: u32 = 3;
/// BPF capability TLV type: `bpf_get_prandom_u32` support.
pub const BPF_CAP_TYPE_RANDOM: u32 = 4;
/// BPF capability TLV type: queue selection support.
pub const BPF_CAP_TYPE_QUEUE_SELECT: u32 = 5;
/// BPF capability TLV type: `bpf_xdp_adjust_tail` support.
pub const BPF_CAP_TYPE_ADJUST_TAIL: u32 = 6;
/// BPF capability TLV type: ABI version.
pub const BPF_CAP_TYPE_ABI_VERSION: u32 = 7;
/// BPF capability TLV type: multiple entries per control message.
pub const BPF_CAP_TYPE_CMSG_MULTI_ENT: u32 = 8;

/// The BPF ABI version the image announces.
pub const BPF_ABI_VERSION: u32 = 3;

/// `BPF_FUNC_map_lookup_elem`.
pub const BPF_FUNC_MAP_LOOKUP_ELEM: u32 = 1;
/// `BPF_FUNC_map_update_elem`.
pub const BPF_FUNC_MAP_UPDATE_ELEM: u32 = 2;
/// `BPF_FUNC_map_delete_elem`.
pub const BPF_FUNC_MAP_DELETE_ELEM: u32 = 3;
/// `BPF_FUNC_perf_event_output`.
pub const BPF_FUNC_PERF_EVENT_OUTPUT: u32 = 25;

/// Microcode address of the map lookup helper.
pub const BPF_HELPER_MAP_LOOKUP: u32 = 0x200;
/// Microcode address of the map update helper.
pub const BPF_HELPER_MAP_UPDATE: u32 = 0x201;
/// Microcode address of the map delete helper.
pub const BPF_HELPER_MAP_DELETE: u32 = 0x202;
/// Microcode address of the perf event output helper.
pub const BPF_HELPER_PERF_EVENT_OUTPUT: u32 = 0x203;

/// `bpf_xdp_adjust_head` capability: flags (`NFP_BPF_ADJUST_HEAD_NO_META`).
pub const BPF_ADJUST_HEAD_FLAGS: u32 = 1;
/// `bpf_xdp_adjust_head` capability: smallest packet offset.
pub const BPF_ADJUST_HEAD_OFF_MIN: u32 = 0x2c;
/// `bpf_xdp_adjust_head` capability: largest packet offset.
pub const BPF_ADJUST_HEAD_OFF_MAX: u32 = 0xf8;
/// `bpf_xdp_adjust_head` capability: guaranteed headroom to remove.
pub const BPF_ADJUST_HEAD_GUARANTEED_SUB: u32 = 0x54;
/// `bpf_xdp_adjust_head` capability: guaranteed headroom to add.
pub const BPF_ADJUST_HEAD_GUARANTEED_ADD: u32 = 0x70;

/// Map capability: supported map types, a bit per `BPF_MAP_TYPE_*`
/// (hash = 1, array = 2).
pub const BPF_MAPS_TYPES: u32 = (1 << 1) | (1 << 2);
/// Map capability: most maps.
pub const BPF_MAPS_MAX_MAPS: u32 = 64;
/// Map capability: most elements over all maps.
pub const BPF_MAPS_MAX_ELEMS: u32 = 0x10_0000;
/// Map capability: largest key.
pub const BPF_MAPS_MAX_KEY_SZ: u32 = 64;
/// Map capability: largest value.
pub const BPF_MAPS_MAX_VAL_SZ: u32 = 64;
/// Map capability: largest key + value.
pub const BPF_MAPS_MAX_ELEM_SZ: u32 = 128;

/// A board the images are built for: its assembly and the port mode of
/// the ports in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardSpec {
    /// Assembly part number, e.g. `"AMDA0099-0001"`.
    pub partno: String,
    /// Port mode as in Debian's file names: runs of `<count>x<Gbit/s>`
    /// joined by `_`, in ETH table order (`"2x25"`, `"4x10_1x40"`).
    pub mode: String,
}

/// Assembly part number of the Agilio CX 2x25GbE.
pub const AGILIO_CX_PARTNO: &str = "AMDA0099-0001";

/// The NFP-4000 Agilio CX boards and the port modes Debian's
/// `firmware-netronome` ships `nic_<assembly>_<mode>.nffw` images for, the
/// board's default mode first (the emulator's `--board` models the same).
pub const AGILIO_CX_BOARDS: [(&str, &[&str]); 4] = [
    (AGILIO_CX_PARTNO, &["2x25", "2x10", "1x10_1x25"]),
    ("AMDA0096-0001", &["2x10"]),
    ("AMDA0081-0001", &["1x40", "4x10"]),
    ("AMDA0097-0001", &["2x40", "4x10_1x40", "8x10"]),
];

/// Most data vNICs an image declares (the AMDA0097-0001 in 8x10).
pub const MAX_PORTS: u64 = 8;

impl BoardSpec {
    /// `partno` in port mode `mode`.
    pub fn new(partno: &str, mode: &str) -> Self {
        BoardSpec {
            partno: partno.into(),
            mode: mode.into(),
        }
    }

    /// The Agilio CX 2x25GbE (AMDA0099-0001) with both ports.
    pub fn agilio_cx_2x25() -> Self {
        Self::new(AGILIO_CX_PARTNO, "2x25")
    }

    /// The Agilio CX 2x25GbE (AMDA0099-0001) configured with one port.
    pub fn agilio_cx_1x25() -> Self {
        Self::new(AGILIO_CX_PARTNO, "1x25")
    }

    /// Ports of the mode (data vNICs of the image): the counts of its runs
    /// added up; a malformed run counts 0.
    pub fn ports(&self) -> u64 {
        self.mode
            .split('_')
            .map(|run| {
                run.split_once('x')
                    .and_then(|(n, _)| n.parse::<u64>().ok())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// The firmware file name the driver asks for on this board:
    /// `nic_<partno>_<mode>.nffw` (`nfp_net_fw_find`, nfp_main.c:413-440).
    pub fn file_name(&self) -> String {
        format!("nic_{}_{}.nffw", self.partno, self.mode)
    }
}

/// The BPF capability TLVs read by the driver from `_abi_bpf_capabilities`
/// (`nfp_bpf_parse_capabilities`): little-endian `type`, `length`, then
/// `length` bytes of value.  168 bytes.
pub fn bpf_capabilities() -> Vec<u8> {
    let mut out = Vec::new();
    let mut tlv = |typ: u32, words: &[u32]| {
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&((words.len() * 4) as u32).to_le_bytes());
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
    };
    tlv(BPF_CAP_TYPE_ABI_VERSION, &[BPF_ABI_VERSION]);
    tlv(
        BPF_CAP_TYPE_FUNC,
        &[BPF_FUNC_MAP_LOOKUP_ELEM, BPF_HELPER_MAP_LOOKUP],
    );
    tlv(
        BPF_CAP_TYPE_FUNC,
        &[BPF_FUNC_MAP_UPDATE_ELEM, BPF_HELPER_MAP_UPDATE],
    );
    tlv(
        BPF_CAP_TYPE_FUNC,
        &[BPF_FUNC_MAP_DELETE_ELEM, BPF_HELPER_MAP_DELETE],
    );
    tlv(
        BPF_CAP_TYPE_FUNC,
        &[BPF_FUNC_PERF_EVENT_OUTPUT, BPF_HELPER_PERF_EVENT_OUTPUT],
    );
    tlv(
        BPF_CAP_TYPE_ADJUST_HEAD,
        &[
            BPF_ADJUST_HEAD_FLAGS,
            BPF_ADJUST_HEAD_OFF_MIN,
            BPF_ADJUST_HEAD_OFF_MAX,
            BPF_ADJUST_HEAD_GUARANTEED_SUB,
            BPF_ADJUST_HEAD_GUARANTEED_ADD,
        ],
    );
    tlv(
        BPF_CAP_TYPE_MAPS,
        &[
            BPF_MAPS_TYPES,
            BPF_MAPS_MAX_MAPS,
            BPF_MAPS_MAX_ELEMS,
            BPF_MAPS_MAX_KEY_SZ,
            BPF_MAPS_MAX_VAL_SZ,
            BPF_MAPS_MAX_ELEM_SZ,
        ],
    );
    tlv(BPF_CAP_TYPE_RANDOM, &[]);
    tlv(BPF_CAP_TYPE_QUEUE_SELECT, &[]);
    tlv(BPF_CAP_TYPE_ADJUST_TAIL, &[]);
    tlv(BPF_CAP_TYPE_CMSG_MULTI_ENT, &[]);
    out
}

/// The firmware version as stored in the MIP: `major << 16 | minor << 8 | patch`.
pub fn bpf_fw_version_word() -> u32 {
    let (major, minor, patch) = BPF_FW_VERSION;
    (u32::from(major) << 16) | (u32::from(minor) << 8) | u32::from(patch)
}

/// The text of the image's build information note.
pub fn bpf_build_info() -> String {
    let (major, minor, patch) = BPF_FW_VERSION;
    format!(
        "Toolchain: {BPF_FW_TOOLCHAIN}\nName: {BPF_FW_NAME}\nVersion: {major}.{minor}.{patch}\n\
         Build Number: {BPF_FW_BUILD}\n"
    )
}

/// The project's BPF offload firmware image for `board`.
pub fn bpf_image(board: &BoardSpec) -> Nffw {
    let ports = board.ports().clamp(1, MAX_PORTS);
    let bar0 = if ports > 2 {
        NET_BAR0_WIDE_ADDR
    } else {
        NET_BAR0_ADDR
    };
    let caps = bpf_capabilities();
    let syms = vec![
        RtSym::mu_object(
            "_pf0_net_ctrl_bar",
            EMEM_ISLAND,
            NET_CTRL_BAR_ADDR,
            NET_CTRL_BAR_SIZE,
        ),
        RtSym::mu_object(
            "_pf0_net_bar0",
            EMEM_ISLAND,
            bar0,
            NET_BAR0_PORT_SIZE * ports,
        ),
        RtSym::mu_object(".mip", EMEM_ISLAND, MIP_ADDR, MIP_SIZE as u64),
        RtSym::mu_object("_pf0_net_app_id", EMEM_ISLAND, APP_ID_ADDR, 8),
        RtSym::mu_object("nfd_cfg_pf0_num_ports", EMEM_ISLAND, NUM_PORTS_ADDR, 8),
        RtSym::mu_object(
            "_abi_bpf_capabilities",
            EMEM_ISLAND,
            BPF_CAPS_ADDR,
            caps.len() as u64,
        ),
        RtSym::mu_object("_mac_stats", EMEM_ISLAND, MAC_STATS_ADDR, MAC_STATS_SIZE),
    ];
    let (symtab, strtab) = rtsym::encode(&syms);
    let strtab_addr = (RTSYMTAB_ADDR + symtab.len() as u64).next_multiple_of(8);

    let mip = Mip {
        mip_size: MIP_SIZE as u32,
        first_entry: 0,
        version: bpf_fw_version_word(),
        buildnum: BPF_FW_BUILD,
        buildtime: 0,
        loadtime: 0,
        symtab_addr: RTSYMTAB_ADDR as u32,
        symtab_size: symtab.len() as u32,
        strtab_addr: strtab_addr as u32,
        strtab_size: strtab.len() as u32,
        name: BPF_FW_NAME.into(),
        toolchain: BPF_FW_TOOLCHAIN.into(),
    };

    let at = |addr: u64| (addr - EMEM_DATA_ADDR) as usize;
    let mut data = vec![0u8; at(BPF_CAPS_ADDR) + caps.len()];
    data[at(MIP_ADDR)..at(MIP_ADDR) + MIP_SIZE].copy_from_slice(&mip.encode());
    data[at(APP_ID_ADDR)..at(APP_ID_ADDR) + 8]
        .copy_from_slice(&u64::from(BPF_APP_ID).to_le_bytes());
    data[at(NUM_PORTS_ADDR)..at(NUM_PORTS_ADDR) + 8].copy_from_slice(&ports.to_le_bytes());
    data[at(BPF_CAPS_ADDR)..].copy_from_slice(&caps);

    let mut image = Nffw::default();
    image.sections.push(Section::nobits(
        ".emembss.i24",
        EMEM_BSS_ADDR,
        EMEM_SECTION_INFO,
        EMEM_DATA_ADDR - EMEM_BSS_ADDR,
    ));
    image.sections.push(Section::progbits(
        ".ememdata.i24",
        EMEM_DATA_ADDR,
        EMEM_SECTION_INFO,
        data,
    ));
    image.sections.push(Section::nobits(
        ".emembss1.i24",
        MAC_STATS_ADDR,
        EMEM_SECTION_INFO,
        MAC_STATS_SIZE,
    ));
    if bar0 == NET_BAR0_WIDE_ADDR {
        image.sections.push(Section::nobits(
            ".emembss2.i24",
            NET_BAR0_WIDE_ADDR,
            EMEM_SECTION_INFO,
            NET_BAR0_PORT_SIZE * ports,
        ));
    }
    image.sections.push(Section::progbits(
        RTSYMTAB_SECTION,
        RTSYMTAB_ADDR,
        EMEM_SECTION_INFO,
        symtab,
    ));
    image.sections.push(Section::progbits(
        RTSTRTAB_SECTION,
        strtab_addr,
        EMEM_SECTION_INFO,
        strtab,
    ));
    debug_assert_eq!(NOTE_TYPE_BUILD_INFO, Note::build_info("").kind);
    image.add_note_section(
        ".note.build_info",
        vec![Note::build_info(&bpf_build_info())],
    );
    image
}

/// Every image the project ships, with its path relative to the firmware
/// directory (`/lib/firmware`): the BPF image for the AMDA0099-0001 as
/// 2x25 and 1x25 (one port in use), then for every board and mode of
/// [`AGILIO_CX_BOARDS`] under the name Debian ships for it.
pub fn project_images() -> Vec<(String, Nffw)> {
    let mut boards = vec![BoardSpec::agilio_cx_2x25(), BoardSpec::agilio_cx_1x25()];
    for (partno, modes) in AGILIO_CX_BOARDS {
        for mode in modes {
            let b = BoardSpec::new(partno, mode);
            if !boards.contains(&b) {
                boards.push(b);
            }
        }
    }
    boards
        .iter()
        .map(|b| (format!("netronome/{}", b.file_name()), bpf_image(b)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nffw::{MemType, NffwError, SectionData};
    use crate::rtsym::{NFP_CPP_TARGET_MU, RTSYM_MENUM_NONE, RTSYM_TYPE_OBJECT};

    fn image_2x25() -> Nffw {
        bpf_image(&BoardSpec::agilio_cx_2x25())
    }

    fn sym(img: &Nffw, name: &str) -> RtSym {
        img.rtsyms()
            .unwrap()
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
    }

    fn read_sym_le64(img: &Nffw, name: &str) -> u64 {
        let s = sym(img, name);
        assert_eq!(s.size, 8, "{name}");
        let b = img.read_mu(s.island, s.addr, 8).unwrap();
        u64::from_le_bytes(b.try_into().unwrap())
    }

    #[test]
    fn file_names() {
        assert_eq!(
            BoardSpec::agilio_cx_2x25().file_name(),
            "nic_AMDA0099-0001_2x25.nffw"
        );
        assert_eq!(
            BoardSpec::agilio_cx_1x25().file_name(),
            "nic_AMDA0099-0001_1x25.nffw"
        );
        let paths: Vec<String> = project_images().into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "netronome/nic_AMDA0099-0001_2x25.nffw",
                "netronome/nic_AMDA0099-0001_1x25.nffw",
                "netronome/nic_AMDA0099-0001_2x10.nffw",
                "netronome/nic_AMDA0099-0001_1x10_1x25.nffw",
                "netronome/nic_AMDA0096-0001_2x10.nffw",
                "netronome/nic_AMDA0081-0001_1x40.nffw",
                "netronome/nic_AMDA0081-0001_4x10.nffw",
                "netronome/nic_AMDA0097-0001_2x40.nffw",
                "netronome/nic_AMDA0097-0001_4x10_1x40.nffw",
                "netronome/nic_AMDA0097-0001_8x10.nffw",
            ]
        );
    }

    /// One data vNIC per port of the mode: the driver pairs vNIC `i` with
    /// ETH table entry `i` and fails the probe when the image declares
    /// more (nfp_port.c:176-181); the BAR block has room for every vNIC.
    #[test]
    fn num_ports_and_bar_follow_the_mode() {
        for (mode, ports, bar) in [
            ("1x25", 1, NET_BAR0_ADDR),
            ("2x25", 2, NET_BAR0_ADDR),
            ("1x10_1x25", 2, NET_BAR0_ADDR),
            ("4x10", 4, NET_BAR0_WIDE_ADDR),
            ("4x10_1x40", 5, NET_BAR0_WIDE_ADDR),
            ("8x10", 8, NET_BAR0_WIDE_ADDR),
        ] {
            let b = BoardSpec::new("AMDA0097-0001", mode);
            assert_eq!(b.ports(), ports, "{mode}");
            let img = bpf_image(&b);
            assert_eq!(
                read_sym_le64(&img, "nfd_cfg_pf0_num_ports"),
                ports,
                "{mode}"
            );
            let s = sym(&img, "_pf0_net_bar0");
            assert_eq!(
                (s.addr, s.size),
                (bar, NET_BAR0_PORT_SIZE * ports),
                "{mode}"
            );
        }
    }

    #[test]
    fn round_trip() {
        for (path, img) in project_images() {
            let bytes = img.to_bytes();
            let parsed = Nffw::parse(&bytes).unwrap();
            assert_eq!(parsed.sections, img.sections, "{path}");
            assert_eq!(parsed.notes, img.notes, "{path}");
            assert_eq!(parsed.to_bytes(), bytes, "{path}");
        }
    }

    #[test]
    fn reproducible() {
        for ((p1, a), (p2, b)) in project_images().into_iter().zip(project_images()) {
            assert_eq!(p1, p2);
            assert_eq!(a.to_bytes(), b.to_bytes(), "{p1}");
        }
    }

    #[test]
    fn mip_points_at_rtsym_tables() {
        let img = image_2x25();
        let (sym, mip) = img.mip().unwrap();
        assert_eq!(sym.addr, MIP_ADDR);
        assert_eq!((sym.island, sym.target), (24, NFP_CPP_TARGET_MU));
        assert_eq!(mip.name, BPF_FW_NAME);
        assert_eq!(mip.toolchain, BPF_FW_TOOLCHAIN);
        let symtab = img.section(".rtsymtab").unwrap();
        let strtab = img.section(".rtstrtab").unwrap();
        assert_eq!(u64::from(mip.symtab_addr), symtab.addr);
        assert_eq!(u64::from(mip.symtab_size), symtab.size());
        assert_eq!(u64::from(mip.strtab_addr), strtab.addr);
        assert_eq!(u64::from(mip.strtab_size), strtab.size());
        assert_eq!(symtab.addr, RTSYMTAB_ADDR);
        assert_eq!(strtab.addr % 8, 0);
        assert!(strtab.addr >= symtab.addr + symtab.size());
        assert!(strtab.addr < symtab.addr + symtab.size() + 8);
        for s in [symtab, strtab] {
            assert_eq!(s.info, 0x1800_0004);
            assert!(s.is_loadable());
        }
        // The tables are readable through MU memory at the MIP's addresses,
        // as the driver reads them.
        let st = img
            .read_mu(24, mip.symtab_addr.into(), mip.symtab_size as usize)
            .unwrap();
        let ss = img
            .read_mu(24, mip.strtab_addr.into(), mip.strtab_size as usize)
            .unwrap();
        assert_eq!(rtsym::decode(&st, &ss).unwrap(), img.rtsyms().unwrap());
    }

    #[test]
    fn app_id_and_port_count() {
        let img = image_2x25();
        assert_eq!(read_sym_le64(&img, "_pf0_net_app_id"), 2);
        assert_eq!(read_sym_le64(&img, "nfd_cfg_pf0_num_ports"), 2);
        assert_eq!(sym(&img, "_pf0_net_bar0").size, 0x10000);
        let img1 = bpf_image(&BoardSpec::agilio_cx_1x25());
        assert_eq!(read_sym_le64(&img1, "_pf0_net_app_id"), 2);
        assert_eq!(read_sym_le64(&img1, "nfd_cfg_pf0_num_ports"), 1);
        assert_eq!(sym(&img1, "_pf0_net_bar0").size, 0x8000);
    }

    #[test]
    fn symbol_table_contents() {
        let img = image_2x25();
        let syms = img.rtsyms().unwrap();
        let expect = [
            ("_pf0_net_ctrl_bar", 0x80_0000, 0x8000),
            ("_pf0_net_bar0", 0x80_8000, 0x10000),
            (".mip", 0x81_b000, 96),
            ("_pf0_net_app_id", 0x81_b060, 8),
            ("nfd_cfg_pf0_num_ports", 0x81_b0e8, 8),
            ("_abi_bpf_capabilities", 0x81_b100, 168),
            ("_mac_stats", 0x86_0c00, 0x3000),
        ];
        assert_eq!(syms.len(), expect.len());
        for (s, (name, addr, size)) in syms.iter().zip(expect) {
            assert_eq!((s.name.as_str(), s.addr, s.size), (name, addr, size));
            assert_eq!(s.typ, RTSYM_TYPE_OBJECT, "{name}");
            assert_eq!(s.target, NFP_CPP_TARGET_MU, "{name}");
            assert_eq!(s.island, EMEM_ISLAND, "{name}");
            assert_eq!(s.menum, RTSYM_MENUM_NONE, "{name}");
        }
    }

    #[test]
    fn every_symbol_inside_a_loadable_section_of_its_island() {
        for (path, img) in project_images() {
            for s in img.rtsyms().unwrap() {
                let inside = img.sections.iter().any(|sec| {
                    sec.is_loadable()
                        && sec.mem_type() == MemType::Mu
                        && sec.island() == s.island
                        && sec.covers(s.addr, s.size)
                });
                assert!(inside, "{path}: {} not inside a section", s.name);
                assert!(
                    img.read_mu(s.island, s.addr, s.size as usize).is_some(),
                    "{path}: {}",
                    s.name
                );
            }
        }
    }

    #[test]
    fn loadable_sections_do_not_overlap() {
        let img = image_2x25();
        let secs: Vec<&Section> = img.sections.iter().filter(|s| s.is_loadable()).collect();
        for (i, a) in secs.iter().enumerate() {
            for b in &secs[i + 1..] {
                let disjoint = a.addr + a.size() <= b.addr || b.addr + b.size() <= a.addr;
                assert!(disjoint, "{} overlaps {}", a.name, b.name);
            }
        }
    }

    /// Walks the TLVs as the driver does; returns (type, value) pairs.
    fn parse_tlvs(blob: &[u8]) -> Vec<(u32, Vec<u32>)> {
        let mut out = Vec::new();
        let mut off = 0;
        let word = |o: usize| u32::from_le_bytes(blob[o..o + 4].try_into().unwrap());
        while off < blob.len() {
            assert!(off + 8 <= blob.len(), "truncated TLV header at {off}");
            let (typ, len) = (word(off), word(off + 4) as usize);
            off += 8;
            assert!(off + len <= blob.len(), "TLV {typ} overruns");
            assert_eq!(len % 4, 0);
            out.push((typ, (0..len / 4).map(|i| word(off + 4 * i)).collect()));
            off += len;
        }
        assert_eq!(off, blob.len());
        out
    }

    #[test]
    fn bpf_capabilities_blob() {
        let caps = bpf_capabilities();
        assert_eq!(caps.len(), 168);
        let words: Vec<u32> = caps
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        #[rustfmt::skip]
        let expect: [u32; 42] = [
            7, 4, 3,
            1, 8, 1, 0x200,
            1, 8, 2, 0x201,
            1, 8, 3, 0x202,
            1, 8, 25, 0x203,
            2, 0x14, 1, 0x2c, 0xf8, 0x54, 0x70,
            3, 0x18, 6, 0x40, 0x0010_0000, 0x40, 0x40, 0x80,
            4, 0, 5, 0, 6, 0, 8, 0,
        ];
        assert_eq!(words, expect);
        let tlvs = parse_tlvs(&caps);
        let types: Vec<u32> = tlvs.iter().map(|t| t.0).collect();
        assert_eq!(types, [7, 1, 1, 1, 1, 2, 3, 4, 5, 6, 8]);

        let img = image_2x25();
        let s = sym(&img, "_abi_bpf_capabilities");
        assert_eq!(s.size, caps.len() as u64);
        let in_image = img.read_mu(s.island, s.addr, s.size as usize).unwrap();
        assert_eq!(in_image, caps);
        assert_eq!(parse_tlvs(&in_image).len(), 11);
    }

    #[test]
    fn build_info_note() {
        let img = Nffw::parse(&image_2x25().to_bytes()).unwrap();
        let text = img.build_info().unwrap();
        assert!(text.contains("Name: nfp-emu-bpf\n"), "{text}");
        assert!(text.contains("Version: 0.1.0\n"), "{text}");
    }

    #[test]
    fn sections_are_in_emem() {
        let img = image_2x25();
        for s in img.sections.iter().filter(|s| s.is_loadable()) {
            assert_eq!(s.info, (24 << 24) | 4, "{}", s.name);
            assert_eq!((s.island(), s.mem_type()), (24, MemType::Mu));
        }
        assert!(matches!(
            img.section(".emembss.i24").unwrap().data,
            SectionData::Zero(_)
        ));
    }

    /// Deterministic xorshift64 generator for the corruption test.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Exercises everything that reads a parsed image.
    fn poke(bytes: &[u8]) {
        if let Ok(f) = Nffw::parse(bytes) {
            let _ = f.rtsyms();
            let _ = f.mip();
            let _ = f.build_info();
            let _ = f.read_mu(24, MIP_ADDR, 96);
            // Re-writing must work and give the same image back.
            let again = f.to_bytes();
            assert_eq!(Nffw::parse(&again).as_ref(), Ok(&f));
        }
    }

    #[test]
    fn truncations_never_panic() {
        let bytes = image_2x25().to_bytes();
        let lens = (0..bytes.len().min(512)).chain((512..bytes.len()).step_by(61));
        for len in lens {
            let r = Nffw::parse(&bytes[..len]);
            assert!(r.is_err(), "length {len} parsed");
            poke(&bytes[..len]);
        }
        assert!(Nffw::parse(&bytes).is_ok());
    }

    #[test]
    fn truncated_section_data_names_the_section() {
        let bytes = image_2x25().to_bytes();
        let e = Nffw::parse(&bytes[..bytes.len() - 2]).unwrap_err();
        assert!(
            matches!(&e, NffwError::Truncated { what } if what.contains(".note.build_info")),
            "{e}"
        );
    }

    #[test]
    fn random_corruptions_never_panic() {
        let bytes = image_2x25().to_bytes();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut rejected = 0;
        for _ in 0..4000 {
            let mut b = bytes.clone();
            let pos = (rng.next() % b.len() as u64) as usize;
            let val = rng.next() as u8;
            b[pos] ^= val | 1;
            if Nffw::parse(&b).is_err() {
                rejected += 1;
            }
            poke(&b);
        }
        // Many corruptions only change data bytes; some must be caught.
        assert!(rejected > 0);
        // Corrupting only the header and section table region, harder.
        let h = 64 + 8 * 64;
        for _ in 0..2000 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                let pos = (rng.next() % h as u64) as usize;
                b[pos] = rng.next() as u8;
            }
            poke(&b);
        }
    }

    #[test]
    fn wrong_machine_is_not_nffw() {
        let mut bytes = image_2x25().to_bytes();
        bytes[18] = 0x3e;
        bytes[19] = 0;
        assert_eq!(
            Nffw::parse(&bytes),
            Err(NffwError::NotNffw { machine: 0x3e })
        );
    }
}
