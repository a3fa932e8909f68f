//! The page-per-write attack of issue #8 through the expansion BARs: a guest
//! points BAR0's slice 1 at the MU target and writes one word per 4 KiB
//! page. The model's memory must stay within the card's bound.

use crate::card::{Card, CardConfig};
use crate::cpp::NFP_CPP_TARGET_MU;
use crate::cpp::memmap::{MemKind, NSP_MEM_BASE, PAGE_SIZE};

/// BAR0 slices are 16 MiB (nfp6000_pcie.c:193-265).
const SLICE: u64 = 16 << 20;

/// A card with a small EMEM so the dense attack covers all of it.
fn card() -> Card {
    Card::new(&CardConfig {
        emem_size: 16 << 20,
        ..CardConfig::default()
    })
    .unwrap()
}

/// Point BAR0 slice 1 at the 16 MiB MU window holding `addr`, as the issue's
/// script does (BAR0+0x30004 = `(1<<29)|(7<<23)|(base>>19)`), and write
/// one 32-bit word at `addr`.
fn poke(card: &Card, addr: u64) {
    let base = addr & !(SLICE - 1);
    let cfg = 1u32 << 29 | u32::from(NFP_CPP_TARGET_MU) << 23 | (base >> 19) as u32;
    card.bar_write(0, 0x30004, &cfg.to_le_bytes());
    card.bar_write(0, SLICE + (addr - base), &0xa5a5_a5a5u32.to_le_bytes());
}

fn backed(card: &Card) -> u64 {
    card.chip().mu.backed_bytes()
}

#[test]
fn sparse_writes_over_the_whole_40_bit_space_back_only_card_memory() {
    let card = card();
    let before = backed(&card);
    let bound = card.memory_bound();
    // Every 64 MiB of the 40-bit space, at an odd page offset: 16384
    // writes; only those landing in a memory back a page.
    let stride = 64 << 20;
    let mut inside = 0u64;
    let mut addr = 0x3000u64;
    while addr < 1 << 40 {
        poke(&card, addr);
        if card.chip().mu.map().decode_mu(addr).is_some() {
            inside += 1;
        }
        addr += stride;
    }
    let after = backed(&card);
    assert!(
        after - before <= inside * PAGE_SIZE,
        "{} pages backed by {inside} writes inside memories",
        (after - before) / PAGE_SIZE
    );
    assert!(after <= bound, "{after} > {bound}");
}

#[test]
fn dense_writes_fill_each_memory_and_nothing_past_it() {
    let card = card();
    let map = card.chip().mu.map().clone();
    for m in map.memories().iter().filter(|m| m.kind != MemKind::Cls) {
        // One word per page of the memory and one page past its end.
        let mut off = m.base;
        while off <= m.base + m.size {
            poke(&card, m.cpp_address(off));
            off += PAGE_SIZE;
        }
    }
    // And densely over the 32 MiB past EMEM's start, most of it outside.
    for p in 0..(32 << 20) / PAGE_SIZE {
        poke(&card, 0x18_0000_0000 + p * PAGE_SIZE);
    }
    let cls: u64 = map
        .memories()
        .iter()
        .filter(|m| m.kind == MemKind::Cls)
        .map(|m| m.size)
        .sum();
    assert_eq!(backed(&card), map.total_size() - cls);
    assert!(backed(&card) <= card.memory_bound());
    // The card still answers the driver: the resource table is intact
    // apart from the words the attack wrote.
    let mut b = [0u8; 4];
    card.chip().mu.read(NSP_MEM_BASE + 8, &mut b);
    assert_eq!(&b, b"nfp.");
}

#[test]
fn the_default_bound_is_the_agilio_cx_memories() {
    let card = Card::new(&CardConfig::default()).unwrap();
    let total = card.chip().mu.map().total_size();
    assert_eq!(
        total >> 20,
        2048 + 8 + 4 + 16 + 2,
        "MiB: EMEM, EMU SRAM, IMEM, NSP, CTM+CLS"
    );
    assert!(card.chip().mu.map().bound() < total + total / 32);
    // The map store's tables come on top: at most half of EMEM and a
    // little bookkeeping per table.
    let maps = card.memory_bound() - card.chip().mu.map().bound();
    assert!((1024 << 20..(1024 + 8) << 20).contains(&maps), "{maps}");
}
