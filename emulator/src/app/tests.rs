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
    // EMU SRAM of island 25 (issue #11).
    let card = Card::new(&CardConfig {
        flash_firmware: Some(
            std::fs::read(format!("{dir}/nic/nic_AMDA0099-0001_2x25.nffw")).unwrap(),
        ),
        ..CardConfig::default()
    })
    .unwrap();
    let chip = card.chip();
    let run = chip.app.running.as_ref().unwrap();
    let ports = find_symbol(&run.symbols, "nfd_cfg_pf0_num_ports").unwrap();
    assert_eq!(ports.mu_addr, Some(0x19_0041_57a8));
    assert_eq!(chip.mu.read_u64(0x19_0041_57a8), 2);
    assert_eq!(
        run.nfd.as_ref().unwrap().vnics.len(),
        3,
        "two data vNICs and the control vNIC"
    );
}
