use super::*;
use crate::cpp::memmap::{CTM_SIZE, EMU_SRAM_BASE, NSP_MEM_BASE};

#[test]
fn island_addresses() {
    assert_eq!(mu_address(24, 0x81b000), 0x18_0081_b000);
    assert_eq!(mu_address(4, 0x400), 0x04_0000_0400);
    assert_eq!(mu_address(0, 0x81_0000_1000), 0x81_0000_1000);
    assert_eq!(emu_cache_address(24, 0x60_0000), 0x98_0060_0000);
    assert_eq!(emu_cache_address(25, 0xc0_0041_57a8), 0x99_0041_57a8);
}

#[test]
fn lazy_reads_zero_and_writes_cross_pages() {
    let mut mu = Mu::new();
    assert_eq!(mu.read_u64(NSP_MEM_BASE), 0);
    assert_eq!(mu.backed_pages(), 0);
    let data: Vec<u8> = (0..10).collect();
    mu.write(0x18_0000_0ffc, &data);
    assert_eq!(mu.backed_pages(), 2);
    let mut back = [0u8; 10];
    mu.read(0x18_0000_0ffc, &mut back);
    assert_eq!(&back[..], &data[..]);
}

#[test]
fn outside_reads_zero_and_writes_are_dropped() {
    let mut mu = Mu::with_map(MemoryMap::nfp4000(16 << 20).unwrap());
    for a in [
        0x18_0100_0000,
        0x05_0000_0000,
        0x20_0004_0000,
        0xff_ffff_fff8,
    ] {
        mu.write_u64(a, u64::MAX);
        assert_eq!(mu.read_u64(a), 0, "{a:#x}");
    }
    assert_eq!(mu.backed_pages(), 0);
    // A write straddling the end of CTM keeps its first half only.
    mu.write_u64(0x20_0000_0000 + CTM_SIZE - 4, u64::MAX);
    assert_eq!(mu.read_u64(0x20_0000_0000 + CTM_SIZE - 4), 0xffff_ffff);
    assert_eq!(mu.backed_pages(), 1);
    // The last bytes of the 40-bit space wrap to address 0 (outside).
    mu.write_u32(MU_ADDR_MASK - 1, 0x1122_3344);
    assert_eq!(mu.read_u32(MU_ADDR_MASK - 1), 0);
}

#[test]
fn aliases_of_the_emu_sram() {
    let mut mu = Mu::new();
    // EMU 1's SRAM answers every locality; EMU 0's only direct access.
    mu.write_u32(0x19_0041_57a8, 2);
    assert_eq!(mu.read_u32(0x99_0041_57a8), 2);
    mu.write_u32(emu_cache_address(24, EMU_SRAM_BASE), 7);
    assert_eq!(
        mu.read_u32(0x18_0000_0000 + EMU_SRAM_BASE),
        0,
        "DRAM, not SRAM"
    );
    assert_eq!(mu.read_u32(0x98_0000_0000 + EMU_SRAM_BASE), 7);
}

#[test]
fn cls_is_its_own_space() {
    let mut mu = Mu::new();
    mu.cls_write(33 << 26 | 0x10, &[1, 2, 3, 4]);
    let mut b = [0u8; 4];
    mu.cls_read(33 << 26 | 0x10, &mut b);
    assert_eq!(b, [1, 2, 3, 4]);
    assert_eq!(mu.read_u32(33 << 26 | 0x10), 0, "not an MU address");
    mu.cls_zero(33 << 26, 0x1000);
    mu.cls_read(33 << 26 | 0x10, &mut b);
    assert_eq!(b, [0; 4]);
    assert_eq!(mu.backed_pages(), 0);
}

#[test]
fn zero_releases_pages_and_clears_partial_ones() {
    let mut mu = Mu::new();
    let base = 0x18_0000_0000;
    for p in 0..4u64 {
        mu.write_u64(base + 0x1000 * p + 0x10, u64::MAX);
    }
    mu.write_u64(base + 0x3ff8, 7);
    mu.zero(base + 0x1000, 0x2000);
    assert_eq!(mu.backed_pages(), 2);
    assert_eq!(mu.read_u64(base + 0x10), u64::MAX);
    assert_eq!(mu.read_u64(base + 0x3010), u64::MAX);
    mu.zero(base + 0x3008, 0x10);
    assert_eq!(mu.read_u64(base + 0x3010), 0);
    assert_eq!(mu.read_u64(base + 0x3ff8), 7);
    // A huge range costs nothing, stops at the end of EMEM.
    mu.write_u64(NSP_MEM_BASE, 1);
    mu.zero(base, u64::MAX);
    assert_eq!(mu.backed_pages(), 1, "the NSP memory is another memory");
    mu.zero(0x05_0000_0000, 0x1000);
}

#[test]
fn test_and_set_returns_old_and_ors_immediate() {
    let mut mu = Mu::new();
    let a = NSP_MEM_BASE + 0x20;
    assert_eq!(mu.test_and_set(a, 0xf), 0);
    assert_eq!(mu.atomic_read(a), 0xf);
    assert_eq!(mu.test_and_set(a, 0xf), 0xf);
    mu.atomic_write(a, 0x10ff_0000);
    assert_eq!(mu.test_and_set(a, 0xf), 0x10ff_0000);
    assert_eq!(mu.atomic_read(a), 0x10ff_000f);
}

#[test]
fn clearing_keeps_only_the_nsp_memory() {
    let mut mu = Mu::new();
    mu.write_u32(NSP_MEM_BASE, 1);
    mu.write_u32(0x18_0000_0000, 2);
    mu.write_u32(0x1c_0000_0000, 3);
    mu.cls_write(32 << 26, &[4]);
    mu.clear_application_memories();
    assert_eq!(mu.read_u32(NSP_MEM_BASE), 1);
    assert_eq!(mu.read_u32(0x18_0000_0000), 0);
    assert_eq!(mu.backed_pages(), 1);
}

#[test]
fn every_page_of_every_memory_stays_within_the_bound() {
    // Write one word per page over every memory, and just past each end.
    let map = MemoryMap::nfp4000(16 << 20).unwrap();
    let mut mu = Mu::with_map(map.clone());
    for m in map.memories() {
        let cls = m.kind == MemKind::Cls;
        let mut off = m.base;
        while off <= m.base + m.size {
            let a = m.cpp_address(off);
            if cls {
                mu.cls_write(a, &[0xa5; 4]);
            } else {
                mu.write_u32(a, 0xa5a5_a5a5);
            }
            off += PAGE_SIZE;
        }
    }
    assert_eq!(mu.backed_bytes(), map.total_size());
    assert!(mu.backed_bytes() <= map.bound());
}
