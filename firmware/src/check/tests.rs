use super::*;
use crate::image::{BoardSpec, EMEM_DATA_ADDR, EMEM_SECTION_INFO, MIP_ADDR, bpf_image};
use crate::mip::MIP_SIZE;
use crate::nffw::{RTSTRTAB_SECTION, RTSYMTAB_SECTION, section_info};

fn good() -> Nffw {
    bpf_image(&BoardSpec::agilio_cx_2x25())
}

/// The image with its MIP changed by `f`.
fn with_mip(f: impl FnOnce(&mut Mip)) -> Nffw {
    let mut img = good();
    let s = img
        .sections
        .iter_mut()
        .find(|s| s.name == ".ememdata.i24")
        .unwrap();
    let SectionData::Bytes(b) = &mut s.data else {
        panic!("data section");
    };
    let at = (MIP_ADDR - EMEM_DATA_ADDR) as usize;
    let mut mip = Mip::decode(&b[at..at + MIP_SIZE]).unwrap();
    f(&mut mip);
    b[at..at + MIP_SIZE].copy_from_slice(&mip.encode());
    img
}

/// Round trip through the file format, as a loader sees it.
fn check_bytes(img: &Nffw) -> Result<Checked, ImageError> {
    check(&Nffw::parse(&img.to_bytes()).unwrap())
}

#[test]
fn the_project_image_passes_with_the_symbols_of_its_mip() {
    let img = good();
    let c = check_bytes(&img).unwrap();
    assert_eq!(c.symbols, img.rtsyms().unwrap());
    assert_eq!(c.mip_sym.name, ".mip");
    assert_eq!(c.mip.name, "nfp-emu-bpf");
}

#[test]
fn mip_tables_outside_the_image_are_refused() {
    let e = check_bytes(&with_mip(|m| m.symtab_addr = 0x4000_0000)).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::MipTableOutside {
                table: MipTable::Symtab,
                addr: 0x4000_0000,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("symtab_addr 0x40000000"), "{e}");
    // The 4 GiB case: a size the driver would try to allocate.
    let e = check_bytes(&with_mip(|m| m.strtab_size = 0xffff_fff8)).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::MipTableOutside {
                table: MipTable::Strtab,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("strtab_size 0xfffffff8"), "{e}");
}

#[test]
fn mip_table_sizes_the_driver_refuses_are_refused() {
    let e = check_bytes(&with_mip(|m| m.symtab_size = 24)).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::MipTableSize {
                table: MipTable::Symtab,
                size: 24,
                ..
            }
        ),
        "{e}"
    );
    let e = check_bytes(&with_mip(|m| m.strtab_size = 0)).unwrap_err();
    assert!(e.to_string().starts_with("MIP strtab_size 0x0"), "{e}");
}

#[test]
fn mip_tables_must_be_stored_in_the_file() {
    // A huge NOBITS section covering the table address: nothing to read,
    // and nothing the size of the section is allocated.
    let mut img = with_mip(|m| {
        m.symtab_addr = 0x1000_0000;
        m.symtab_size = 0xffff_fff0;
    });
    img.sections.push(Section::nobits(
        ".emembss9.i24",
        0x1000_0000,
        EMEM_SECTION_INFO,
        0x1_0000_0000,
    ));
    let e = check_bytes(&img).unwrap_err();
    assert!(matches!(e, ImageError::MipTableOutside { .. }), "{e}");
}

#[test]
fn names_outside_the_string_table_are_refused() {
    let mut img = good();
    let s = img
        .sections
        .iter_mut()
        .find(|s| s.name == RTSYMTAB_SECTION)
        .unwrap();
    let SectionData::Bytes(b) = &mut s.data else {
        panic!("symtab");
    };
    b[16 + 8..16 + 10].copy_from_slice(&0x7ff0u16.to_le_bytes());
    let e = check_bytes(&img).unwrap_err();
    assert!(
        matches!(
            e,
            ImageError::NameOutside {
                index: 1,
                offset: 0x7ff0,
                ..
            }
        ),
        "{e}"
    );
    // A strtab_size that cuts the last name before its NUL.
    let strtab = match &good().section(RTSTRTAB_SECTION).unwrap().data {
        SectionData::Bytes(b) => b.clone(),
        SectionData::Zero(_) => panic!("strtab"),
    };
    let last = strtab.iter().rposition(|&c| c != 0).unwrap() as u32;
    let e = check_bytes(&with_mip(|m| m.strtab_size = last)).unwrap_err();
    assert!(matches!(e, ImageError::NameOutside { .. }), "{e}");
}

#[test]
fn overlapping_sections_are_refused_naming_both() {
    let mut img = good();
    img.sections.push(Section::progbits(
        ".ememdata9.i24",
        EMEM_DATA_ADDR + 0x40,
        EMEM_SECTION_INFO,
        vec![1; 16],
    ));
    let e = check_bytes(&img).unwrap_err();
    assert_eq!(
        e,
        ImageError::SectionsOverlap {
            first: ".ememdata.i24".into(),
            second: ".ememdata9.i24".into(),
            island: 24,
            me: 0,
            mem: 4,
            at: EMEM_DATA_ADDR + 0x40,
        }
    );
    // The same addresses in another island, ME or memory type are fine.
    let mut img = good();
    for info in [
        section_info(25, 0, 4),
        section_info(24, 0, 9),
        section_info(24, 1, 4),
    ] {
        img.sections.push(Section::progbits(
            ".other",
            EMEM_DATA_ADDR,
            info,
            vec![1; 16],
        ));
    }
    check_bytes(&img).unwrap();
}

#[test]
fn section_ranges_that_overflow_are_refused() {
    let mut img = good();
    img.sections.push(Section::nobits(
        ".emembss9.i24",
        u64::MAX - 8,
        EMEM_SECTION_INFO,
        16,
    ));
    let e = check_bytes(&img).unwrap_err();
    assert!(matches!(e, ImageError::SectionRange { .. }), "{e}");
    assert!(e.to_string().contains(".emembss9.i24"), "{e}");
}

#[test]
fn a_mip_symbol_outside_the_image_is_refused() {
    let mut img = good();
    let syms: Vec<RtSym> = img
        .rtsyms()
        .unwrap()
        .into_iter()
        .map(|mut s| {
            if s.name == ".mip" {
                s.addr = 0x2000_0000;
            }
            s
        })
        .collect();
    let (symtab, _) = rtsym::encode(&syms);
    let s = img
        .sections
        .iter_mut()
        .find(|s| s.name == RTSYMTAB_SECTION)
        .unwrap();
    s.data = SectionData::Bytes(symtab);
    let e = check_bytes(&img).unwrap_err();
    assert!(
        matches!(&e, ImageError::Nffw(NffwError::BadMip(r)) if r.contains("0x20000000")),
        "{e}"
    );
}
