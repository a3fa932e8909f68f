//! Images checked against the card's memories before anything is
//! installed, through `--firmware` (the flash at power-on) and FW_LOAD.

use nfp_firmware::image::{BoardSpec, EMEM_SECTION_INFO, bpf_image};
use nfp_firmware::nffw::{RTSTRTAB_SECTION, RTSYMTAB_SECTION, section_info};
use nfp_firmware::{Nffw, RtSym, Section, SectionData};

use super::*;
use crate::card::{Card, CardConfig, CardError};
use crate::cpp::layout::LayoutError;

fn good() -> Nffw {
    bpf_image(&BoardSpec::agilio_cx_2x25())
}

/// Replace the image's runtime symbols: new tables where the old ones
/// were (the string table right after the symbol table) and the MIP's
/// table fields to match.
fn with_symbols(mut img: Nffw, f: impl FnOnce(&mut Vec<RtSym>)) -> Nffw {
    use nfp_firmware::image::{EMEM_DATA_ADDR, MIP_ADDR};
    use nfp_firmware::mip::{MIP_SIZE, Mip};
    let mut syms = img.rtsyms().unwrap();
    f(&mut syms);
    let (symtab, strtab) = nfp_firmware::rtsym::encode(&syms);
    let symtab_addr = img.section(RTSYMTAB_SECTION).unwrap().addr;
    let strtab_addr = (symtab_addr + symtab.len() as u64).next_multiple_of(8);
    for s in &mut img.sections {
        if s.name == RTSYMTAB_SECTION {
            s.data = SectionData::Bytes(symtab.clone());
        }
        if s.name == RTSTRTAB_SECTION {
            s.addr = strtab_addr;
            s.data = SectionData::Bytes(strtab.clone());
        }
        if s.name == ".ememdata.i24"
            && let SectionData::Bytes(b) = &mut s.data
        {
            let at = (MIP_ADDR - EMEM_DATA_ADDR) as usize;
            let mut mip = Mip::decode(&b[at..at + MIP_SIZE]).unwrap();
            mip.symtab_size = symtab.len() as u32;
            mip.strtab_addr = strtab_addr as u32;
            mip.strtab_size = strtab.len() as u32;
            b[at..at + MIP_SIZE].copy_from_slice(&mip.encode());
        }
    }
    img
}

fn flash_error(img: &Nffw) -> FwLoadError {
    match Card::new(&CardConfig {
        flash_firmware: Some(img.to_bytes()),
        ..CardConfig::default()
    }) {
        Err(CardError::Firmware(e)) => e,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("image accepted"),
    }
}

#[test]
fn sections_in_memories_the_card_lacks_are_refused() {
    let mut img = good();
    img.sections.push(Section::progbits(
        ".imemdata.i29",
        0,
        section_info(29, 0, 4),
        vec![1; 8],
    ));
    let e = flash_error(&img);
    assert!(
        matches!(
            &e,
            FwLoadError::Layout(LayoutError::NoMemory {
                island: 29,
                mem: 4,
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains(".imemdata.i29"), "{e}");
    assert_eq!(e.status(), (2, 5));
}

#[test]
fn sections_past_the_end_of_their_memory_are_refused() {
    for (name, info, addr, size) in [
        (".imembss.i28", section_info(28, 0, 4), 0x3f_f000, 0x2000),
        (".emembss9.i24", EMEM_SECTION_INFO, 0x7fff_f000, 0x2000),
        (".ctmbss.i32", section_info(32, 0, 4), 0x4_0000, 8),
        (".emucachebss.i25", section_info(25, 0, 9), 0, 8),
        (".clsbss.i33", section_info(33, 0, 3), 0xfff8, 16),
    ] {
        let mut img = good();
        img.sections.push(Section::nobits(name, addr, info, size));
        let e = flash_error(&img);
        assert!(
            matches!(&e, FwLoadError::Layout(LayoutError::SectionOutside { name: n, .. }) if n == name),
            "{name}: {e}"
        );
    }
}

#[test]
fn objects_outside_every_memory_are_refused() {
    let img = with_symbols(good(), |s| {
        s.push(RtSym::mu_object("_big", 24, 0x7000_0000, 0x2000_0000));
    });
    let e = flash_error(&img);
    assert!(
        matches!(&e, FwLoadError::Layout(LayoutError::SymbolOutside { name, .. }) if name == "_big"),
        "{e}"
    );
    let img = with_symbols(good(), |s| {
        s.push(RtSym::mu_object("_nowhere", 7, 0, 8));
    });
    assert!(matches!(
        flash_error(&img),
        FwLoadError::Layout(LayoutError::SymbolOutside { .. })
    ));
}

#[test]
fn inconsistent_images_are_refused_before_the_card_changes() {
    let mut img = good();
    img.sections.push(Section::progbits(
        ".ememdata9.i24",
        nfp_firmware::image::MIP_ADDR,
        EMEM_SECTION_INFO,
        vec![0; 8],
    ));
    let e = flash_error(&img);
    assert!(matches!(&e, FwLoadError::Image(_)), "{e}");
    assert!(e.to_string().contains("overlap"), "{e}");
}

#[test]
fn emu_cache_and_cls_sections_are_loaded_where_the_driver_reads_them() {
    // As Debian's nic images: nfd_cfg_pf0_num_ports in an emu-cache
    // section of island 25 with target MU, and an EMU_CACHE object of
    // island 24.
    let mut img = with_symbols(good(), |s| {
        s.retain(|s| s.name != "nfd_cfg_pf0_num_ports");
        s.push(RtSym::mu_object("nfd_cfg_pf0_num_ports", 25, 0x41_57a8, 8));
        let mut c = RtSym::mu_object("fl_cache_mem0", 24, 0x60_0000, 8);
        c.target = nfp_firmware::rtsym::RTSYM_TARGET_EMU_CACHE;
        s.push(c);
    });
    img.sections.push(Section::progbits(
        ".emucachedata1.i25",
        0x41_57a8,
        section_info(25, 0, 9),
        1u64.to_le_bytes().to_vec(),
    ));
    img.sections.push(Section::progbits(
        ".emucachedata.i24",
        0x60_0000,
        section_info(24, 0, 9),
        0x1234u64.to_le_bytes().to_vec(),
    ));
    img.sections.push(Section::progbits(
        ".clsdata.i32",
        0x10,
        section_info(32, 0, 3),
        vec![7; 4],
    ));
    let card = Card::new(&CardConfig {
        flash_firmware: Some(img.to_bytes()),
        ..CardConfig::default()
    })
    .unwrap();
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    assert_eq!(chip.mu.read_u64(0x19_0041_57a8), 1);
    let num_ports = find_symbol(&run.symbols, "nfd_cfg_pf0_num_ports").unwrap();
    assert_eq!(num_ports.mu_addr, Some(0x19_0041_57a8));
    let fl = find_symbol(&run.symbols, "fl_cache_mem0").unwrap();
    assert_eq!(fl.mu_addr, Some(0x98_0060_0000));
    assert_eq!(chip.mu.read_u64(0x98_0060_0000), 0x1234);
    let mut b = [0u8; 4];
    chip.mu.cls_read(32 << 26 | 0x10, &mut b);
    assert_eq!(b, [7; 4]);
    // One data vNIC (the port count read from island 25) and the control vNIC.
    assert_eq!(run.nfd.as_ref().unwrap().vnics.len(), 2);
}

/// Every NFP-4000 image of Debian's firmware-netronome passes the loader's
/// checks: `NFP_EMU_DEBIAN_FW=/lib/firmware/netronome cargo test -p nfp-emu
/// -- --ignored debian_images`. Not run by default: the images are not
/// part of the repository.
#[test]
#[ignore = "needs Debian's firmware-netronome in NFP_EMU_DEBIAN_FW"]
fn debian_images_pass_the_checks() {
    let dir = std::env::var("NFP_EMU_DEBIAN_FW").expect("NFP_EMU_DEBIAN_FW");
    let map = MemoryMap::default();
    let mut n = 0;
    for sub in ["bpf", "nic", "nic-sriov", "flower"] {
        for e in std::fs::read_dir(format!("{dir}/{sub}")).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // NFP-4000 boards (the NFP-6000 LX boards have EMUs 25/26 and IMEM 29).
            if ["AMDA0081", "AMDA0096", "AMDA0097", "AMDA0099"]
                .iter()
                .any(|b| name.contains(b))
            {
                let bytes = std::fs::read(&path).unwrap();
                if let Err(e) = prepare(&bytes, &map) {
                    panic!("{}: {e}", path.display());
                }
                n += 1;
            }
        }
    }
    assert!(n > 0, "no images under {dir}");
    // Debian's default image for this card: its port count lives in the
    // EMU SRAM of island 25 (issue #11); core NIC app, two data vNICs with
    // the image's 800 MHz ME clock in their TLVs.
    let image = |sub: &str| {
        running_bytes(std::fs::read(format!("{dir}/{sub}/nic_AMDA0099-0001_2x25.nffw")).unwrap())
    };
    let card = image("nic");
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    let ports = find_symbol(&run.symbols, "nfd_cfg_pf0_num_ports").unwrap();
    assert_eq!(ports.mu_addr, Some(0x19_0041_57a8));
    assert_eq!(chip.mu.read_u64(0x19_0041_57a8), 2);
    assert_eq!(run.kind, AppKind::CoreNic);
    let nfd = run.nfd.as_ref().unwrap();
    assert_eq!(nfd.vnics.len(), 2, "two data vNICs, no control vNIC");
    for v in &nfd.vnics {
        let mut b = vec![0u8; 0x8000];
        chip.mu.read(v.params.bar, &mut b);
        assert_eq!(
            crate::nfd::tlv::TlvCaps::parse(&b).unwrap().me_freq_mhz,
            800
        );
    }
    drop(chip);
    let card = image("bpf");
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    assert_eq!(run.kind, AppKind::Bpf);
    assert_eq!(run.nfd.as_ref().unwrap().vnics.len(), 3);
    drop(chip);
    let card = image("nic-sriov");
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    assert_eq!((run.kind, run.max_vfs), (AppKind::CoreNic, 48));
    assert_eq!(run.nfd.as_ref().unwrap().vnics.len(), 2);
    drop(chip);
    let card = image("flower");
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    assert_eq!(run.kind, AppKind::Unmodelled(3));
    assert!(run.nfd.is_none());
}

fn running_bytes(bytes: Vec<u8>) -> Card {
    Card::new(&CardConfig {
        flash_firmware: Some(bytes),
        ..CardConfig::default()
    })
    .unwrap()
}

/// `img` with `bytes` written at EMEM address `addr` of its data: into
/// `.ememdata.i24`, or into `.emembss.i24` (the vNIC BARs), which then
/// becomes initialised data as in Debian's images.
fn poke(mut img: Nffw, addr: u64, bytes: &[u8]) -> Nffw {
    for s in &mut img.sections {
        let data_len = match &s.data {
            SectionData::Bytes(b) => b.len() as u64,
            SectionData::Zero(n) => *n,
        };
        if s.island() != 24 || addr < s.addr || addr + bytes.len() as u64 > s.addr + data_len {
            continue;
        }
        if let SectionData::Zero(n) = s.data {
            *s = Section::progbits(&s.name, s.addr, s.info, vec![0; n as usize]);
        }
        if let SectionData::Bytes(b) = &mut s.data {
            let at = (addr - s.addr) as usize;
            b[at..at + bytes.len()].copy_from_slice(bytes);
            return img;
        }
    }
    panic!("no section holds {addr:#x}");
}

fn with_app_id(img: Nffw, id: u64) -> Nffw {
    poke(img, nfp_firmware::image::APP_ID_ADDR, &id.to_le_bytes())
}

fn running(img: &Nffw) -> Card {
    running_bytes(img.to_bytes())
}

/// The core NIC app (Debian's `nic/` images): data vNICs without BPF and
/// no control vNIC, which the driver never drives for it.
#[test]
fn core_nic_app_has_data_vnics_only() {
    let card = running(&with_app_id(good(), 1));
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    assert_eq!(run.kind, AppKind::CoreNic);
    let nfd = run.nfd.as_ref().unwrap();
    assert_eq!(nfd.vnics.len(), 2);
    for v in &nfd.vnics {
        assert!(matches!(
            v.params.kind,
            crate::nfd::ctrl::VnicKind::Data { .. }
        ));
        assert_eq!(v.params.cap & crate::nfd::ctrl::NFP_NET_CFG_CTRL_BPF, 0);
        assert_eq!(v.params.bpf_abi, None);
    }
}

/// A flower image (app id 3) loads: its MIP is published for the driver,
/// but its NFD does not start, so the driver finds no vNIC; the card
/// neither crashes nor pretends.
#[test]
fn unmodelled_apps_load_without_vnics() {
    for id in [3, 4, 77] {
        let card = running(&with_app_id(good(), id));
        let chip = card.chip();
        let run = chip.app.running.as_ref().unwrap();
        assert_eq!(run.kind, AppKind::Unmodelled(id as u32));
        assert!(run.nfd.is_none(), "app {id}");
        // The BAR the driver reads its ABI version from stays zero.
        let bar = find_symbol(&run.symbols, "_pf0_net_bar0")
            .unwrap()
            .mu_addr
            .unwrap();
        assert_eq!(chip.mu.read_u32(bar), 0);
        // nfp.nffw says firmware runs (fwinfo[0] loaded).
        assert_ne!(chip.mu.read_u32(0x81_0000_4000 + 0x328) & 1 << 31, 0);
    }
    assert_eq!(AppKind::from_id(3).name(), "flower");
    assert_eq!(AppKind::from_id(2).name(), "ebpf");
}

/// `nfd_vf_cfg_max_vfs` is read (Debian's nic-sriov images declare 48).
#[test]
fn vf_count_is_read_from_the_image() {
    let img = with_symbols(good(), |s| {
        s.push(RtSym::mu_object("nfd_vf_cfg_max_vfs", 24, 0x85_0000, 8));
    });
    let mut img = img;
    img.sections.push(Section::progbits(
        ".ememdata9.i24",
        0x85_0000,
        EMEM_SECTION_INFO,
        48u64.to_le_bytes().to_vec(),
    ));
    let card = running(&img);
    assert_eq!(card.chip().app.running.as_ref().unwrap().max_vfs, 48);
    assert_eq!(
        running(&good())
            .chip()
            .app
            .running
            .as_ref()
            .unwrap()
            .max_vfs,
        0
    );
}

/// The vNIC TLVs as Debian's images carry them: the BARs initialised with
/// ME_FREQ + END at a fixed offset and NFD's template (one block per vNIC
/// of `nfd_cfg_base0`: control, port 0, port 1) with the values NFD copies.
/// The driver's parser then reads the template's ME clock in each data
/// vNIC's BAR; without TLVs it would assume 1200 MHz.
#[test]
fn vnic_tlv_template_is_honoured() {
    use crate::nfd::tlv::TlvCaps;
    use nfp_firmware::image::{NET_BAR0_ADDR, NET_CTRL_BAR_ADDR};
    let tlvs = |mhz: u32| -> Vec<u8> {
        [0x0003_0004u32, mhz, 0x0002_0000]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect()
    };
    const BLOCK_OFF: u64 = 0x2200;
    const BLOCK_SZ: usize = 0x10;
    let mut img = good();
    for port in 0..2 {
        img = poke(img, NET_BAR0_ADDR + port * 0x8000 + BLOCK_OFF, &tlvs(800));
    }
    let mut template = vec![0u8; 3 * BLOCK_SZ];
    template[BLOCK_SZ..BLOCK_SZ + 12].copy_from_slice(&tlvs(633));
    template[2 * BLOCK_SZ..2 * BLOCK_SZ + 12].copy_from_slice(&tlvs(700));
    let mut img = with_symbols(img, |s| {
        s.push(RtSym::mu_object(
            "nfd_cfg_base0",
            24,
            NET_CTRL_BAR_ADDR,
            0x18000,
        ));
        s.push(RtSym::mu_object(
            "nfd_cfg_tlv_template0",
            24,
            0x85_0000,
            template.len() as u64,
        ));
    });
    img.sections.push(Section::progbits(
        ".ememdata9.i24",
        0x85_0000,
        EMEM_SECTION_INFO,
        template,
    ));
    let card = running(&img);
    let chip = card.chip();
    let nfd = chip.app.running.as_ref().unwrap().nfd.as_ref().unwrap();
    let caps = |i: usize| {
        let mut b = vec![0u8; 0x8000];
        chip.mu.read(nfd.vnics[i].params.bar, &mut b);
        TlvCaps::parse(&b).unwrap()
    };
    assert_eq!(caps(0).me_freq_mhz, 633);
    assert_eq!(caps(1).me_freq_mhz, 700);
    assert_eq!(caps(2).me_freq_mhz, 1200, "control vNIC: no TLVs");

    // Without a template the BAR's own block is published.
    let mut img = good();
    img = poke(img, NET_BAR0_ADDR + BLOCK_OFF, &tlvs(800));
    let card = running(&img);
    let chip = card.chip();
    let nfd = chip.app.running.as_ref().unwrap().nfd.as_ref().unwrap();
    let mut b = vec![0u8; 0x8000];
    chip.mu.read(nfd.vnics[0].params.bar, &mut b);
    assert_eq!(TlvCaps::parse(&b).unwrap().me_freq_mhz, 800);
    // The project's own image has no TLVs: the driver's defaults.
    let card = running(&good());
    let chip = card.chip();
    let nfd = chip.app.running.as_ref().unwrap().nfd.as_ref().unwrap();
    chip.mu.read(nfd.vnics[0].params.bar, &mut b);
    assert_eq!(TlvCaps::parse(&b).unwrap(), TlvCaps::default());
}

/// Every project image on the board and mode it is named for: one BPF
/// data vNIC per ETH table port (the driver pairs them, nfp_port.c:176-181),
/// plus the control vNIC, each with its BAR where the image says.
#[test]
fn each_board_image_runs_one_vnic_per_port() {
    use crate::nsp::board::BoardConfig;
    use nfp_firmware::image::AGILIO_CX_BOARDS;
    for (partno, modes) in AGILIO_CX_BOARDS {
        for mode in modes {
            let board = BoardConfig::parse(&format!("{partno}:{mode}"), None).unwrap();
            let card = Card::new(&CardConfig {
                board,
                flash_firmware: Some(bpf_image(&BoardSpec::new(partno, mode)).to_bytes()),
                ..CardConfig::default()
            })
            .unwrap();
            let ports = BoardSpec::new(partno, mode).ports() as usize;
            let chip = card.chip();
            let run = chip.app.running.as_ref().unwrap();
            assert_eq!(run.kind, AppKind::Bpf, "{partno} {mode}");
            let nfd = run.nfd.as_ref().unwrap();
            let data = nfd
                .vnics
                .iter()
                .filter(|v| matches!(v.params.kind, crate::nfd::ctrl::VnicKind::Data { .. }))
                .count();
            assert_eq!(data, ports, "{partno} {mode}");
            assert_eq!(
                nfd.vnics.len(),
                ports + 1,
                "{partno} {mode}: and the control vNIC"
            );
        }
    }
}
