//! Offloaded-map lookups as the firmware's lookup helper does them (the
//! table resolved from the program's table id, the key read from LM, the
//! hash index probed, the value's EMEM address returned), in hash maps of
//! 16, 1k and 64k entries with random 16-byte keys looked up in random
//! order; and atomic adds to map values by EMEM address with 64 maps
//! alive. After the criterion output, a table gives each figure and the
//! ratio of the 64k-entry lookup to the 16-entry one, from the same run.
//!
//!   cargo bench -p nfp-emu --bench maps

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::exec::{Ctx, LM_WORDS};
use nfp_emu::maps::caps::MapLimits;
use nfp_emu::maps::{BPF_ANY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, MapStore};

const KEY: usize = 16;
/// Lookups per measured sequence (a power of two).
const SEQ: usize = 1 << 16;
const SIZES: [(&str, u32); 4] = [("16", 16), ("1k", 1024), ("64k", 65536), ("1M", 1 << 20)];

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn store() -> MapStore {
    let s = MapStore::new();
    s.reset(Some(MapLimits {
        types: 1 << BPF_MAP_TYPE_HASH | 1 << BPF_MAP_TYPE_ARRAY,
        max_maps: 64,
        max_elems: 1 << 21,
        max_key_sz: 64,
        max_val_sz: 64,
        max_elem_sz: 128,
    }));
    s
}

/// A hash map of `n` random keys, and `SEQ` of its keys in random order
/// (stored one after the other, so the benchmark's own reads stream).
fn filled(s: &MapStore, n: u32) -> (u32, Vec<[u8; KEY]>) {
    let tid = s.alloc(KEY as u32, 8, n, BPF_MAP_TYPE_HASH, 0).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15 ^ u64::from(n);
    let mut keys = Vec::with_capacity(n as usize);
    while keys.len() < n as usize {
        let mut k = [0u8; KEY];
        k[..8].copy_from_slice(&xorshift(&mut x).to_le_bytes());
        k[8..].copy_from_slice(&xorshift(&mut x).to_le_bytes());
        if s.update(tid, &k, &(keys.len() as u64).to_le_bytes(), BPF_ANY)
            .is_ok()
        {
            keys.push(k);
        }
    }
    let seq = (0..SEQ)
        .map(|_| keys[(xorshift(&mut x) % u64::from(n)) as usize])
        .collect();
    (tid, seq)
}

/// Write `key` into LM at byte address `addr` in stack byte order.
fn key_to_lm(lm: &mut [u32; LM_WORDS], addr: usize, key: &[u8; KEY]) {
    for (i, w) in key.chunks_exact(4).enumerate() {
        lm[addr / 4 + i] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("maps");
    g.throughput(Throughput::Elements(1));
    let s = store();
    let mut ctx = Ctx::default();
    let mut lm = [0u32; LM_WORDS];
    ctx.lm_addr[0] = 0x100;
    for (name, n) in SIZES {
        let (tid, seq) = filled(&s, n);
        ctx.set_both(0, tid);
        let mut i = 0usize;
        g.bench_function(format!("lookup_{name}"), |b| {
            b.iter(|| {
                i = (i + 1) & (SEQ - 1);
                key_to_lm(&mut lm, 0x100, &seq[i]);
                black_box(nfp_emu::datapath::helpers::map_helper(
                    &s,
                    nfp_emu::datapath::helpers::BPF_FUNC_MAP_LOOKUP_ELEM,
                    &mut ctx,
                    &lm,
                ));
                black_box(ctx.a(0))
            });
        });
    }
    // Adds to the last of 64 small arrays' values, as a program adds to a
    // value it looked up.
    let s = store();
    let mut last = 0;
    for _ in 0..64 {
        last = s.alloc(4, 64, 16, BPF_MAP_TYPE_ARRAY, 0).unwrap();
    }
    let addr = s.lookup(last, &3u32.to_le_bytes()).unwrap();
    g.bench_function("emem_add_64_maps", |b| {
        b.iter(|| black_box(s.emem_add(black_box(addr), 1, true)));
    });
    g.finish();
}

/// Mean time per operation (ns) of a finished benchmark, from criterion's
/// estimates file.
fn mean_ns(name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let text =
        std::fs::read_to_string(format!("{dir}/criterion/maps/{name}/new/estimates.json")).ok()?;
    let mean = text.split("\"mean\"").nth(1)?;
    let pe = mean.split("\"point_estimate\":").nth(1)?;
    pe.split([',', '}']).next()?.trim().parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    println!("\nper operation, one thread:");
    for name in [
        "lookup_16",
        "lookup_1k",
        "lookup_64k",
        "lookup_1M",
        "emem_add_64_maps",
    ] {
        if let Some(ns) = mean_ns(name) {
            println!("  {name:<20} {ns:>8.1} ns");
        }
    }
    if let (Some(small), Some(big)) = (mean_ns("lookup_16"), mean_ns("lookup_64k")) {
        println!("  lookup 64k / 16 = {:.2} (goal <= 1.3)", big / small);
    }
}
