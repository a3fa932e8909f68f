//! Offloaded-map lookups as the firmware's lookup helper does them (the
//! table resolved from the program's table id, the key read from LM, the
//! hash index probed, the value's EMEM address returned), in hash maps of
//! 16, 1k and 64k entries with random 16-byte keys looked up in random
//! order; and atomic adds to map values by EMEM address with 64 maps
//! alive. After the criterion output, the lookups are timed again in
//! interleaved rounds, in thread CPU time (each round times every size, so
//! a busy machine's drift hits all sizes alike), and a table gives the
//! median of each and
//! the median over rounds of the 64k/16 ratio: the figure the map goal
//! (64k within 1.3x of 16) is judged by.
//!
//!   cargo bench -p nfp-emu --bench maps

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::exec::{Ctx, LM_WORDS};
use nfp_emu::maps::caps::MapLimits;
use nfp_emu::maps::{BPF_ANY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, MapStore};

const KEY: usize = 16;
/// Lookups per size in one interleaved round.
const ROUND: usize = 1 << 17;
const SIZES: [(&str, u32); 4] = [("16", 16), ("1k", 1024), ("64k", 65536), ("1M", 1 << 20)];

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// splitmix64's finaliser: a bijection, so distinct `i` give distinct keys.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Key number `i` of a map: random-looking, computed rather than read
/// from a table, so the benchmark's own memory traffic is the same at
/// every size.
fn key_of(i: u64) -> [u8; KEY] {
    let mut k = [0u8; KEY];
    k[..8].copy_from_slice(&mix(i).to_le_bytes());
    k[8..].copy_from_slice(&mix(i ^ 0x5555_5555_5555_5555).to_le_bytes());
    k
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

/// A hash map holding keys `0..n` (`n` a power of two), full.
fn filled(s: &MapStore, n: u32) -> u32 {
    let tid = s.alloc(KEY as u32, 8, n, BPF_MAP_TYPE_HASH, 0).unwrap();
    for i in 0..u64::from(n) {
        s.update(tid, &key_of(i), &i.to_le_bytes(), BPF_ANY)
            .unwrap();
    }
    tid
}

/// Write `key` into LM at byte address `addr` in stack byte order.
fn key_to_lm(lm: &mut [u32; LM_WORDS], addr: usize, key: &[u8; KEY]) {
    for (i, w) in key.chunks_exact(4).enumerate() {
        lm[addr / 4 + i] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
    }
}

/// One lookup as a program's helper call makes it (table id in A0, the
/// key in LM); the value's address (low word), which must not be 0.
fn lookup(s: &MapStore, tid: u32, ctx: &mut Ctx, lm: &mut [u32; LM_WORDS], key: &[u8; KEY]) -> u32 {
    ctx.set_both(0, tid);
    key_to_lm(lm, 0x100, key);
    nfp_emu::datapath::helpers::map_helper(
        s,
        nfp_emu::datapath::helpers::BPF_FUNC_MAP_LOOKUP_ELEM,
        ctx,
        lm,
    );
    ctx.a(0)
}

/// The filled maps: (name, table id, number of keys).
type Filled = Vec<(&'static str, u32, u32)>;

fn bench(c: &mut Criterion, s: &MapStore, maps: &Filled) {
    let mut g = c.benchmark_group("maps");
    g.throughput(Throughput::Elements(1));
    let mut ctx = Ctx::default();
    let mut lm = [0u32; LM_WORDS];
    ctx.lm_addr[0] = 0x100;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for &(name, tid, n) in maps {
        g.bench_function(format!("lookup_{name}"), |b| {
            b.iter(|| {
                let k = key_of(xorshift(&mut x) & u64::from(n - 1));
                black_box(lookup(s, tid, &mut ctx, &mut lm, &k))
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

/// This thread's CPU time (what a busy machine's other work does not
/// inflate, unlike wall time).
fn thread_cpu_ns() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e9 + ts.tv_nsec as f64
}

/// Interleaved rounds: thread CPU ns per lookup of each map in each round.
fn rounds(s: &MapStore, maps: &Filled, rounds: usize) -> Vec<Vec<f64>> {
    let mut ctx = Ctx::default();
    let mut lm = [0u32; LM_WORDS];
    ctx.lm_addr[0] = 0x100;
    let mut out = vec![Vec::new(); maps.len()];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..rounds {
        for (m, &(_, tid, n)) in maps.iter().enumerate() {
            let t = thread_cpu_ns();
            for _ in 0..ROUND {
                let k = key_of(xorshift(&mut x) & u64::from(n - 1));
                black_box(lookup(s, tid, &mut ctx, &mut lm, &k));
            }
            out[m].push((thread_cpu_ns() - t) / ROUND as f64);
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let s = store();
    let maps: Filled = SIZES
        .iter()
        .map(|&(name, n)| (name, filled(&s, n), n))
        .collect();
    let (mut ctx, mut lm) = (Ctx::default(), [0u32; LM_WORDS]);
    ctx.lm_addr[0] = 0x100;
    for &(name, tid, n) in &maps {
        let found = (0..1000u64)
            .filter(|i| lookup(&s, tid, &mut ctx, &mut lm, &key_of(i * 7 % u64::from(n))) != 0);
        assert_eq!(found.count(), 1000, "{name}: keys are found");
    }
    bench(&mut c, &s, &maps);
    c.final_summary();
    println!("\ncriterion means, one thread:");
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
    let r = rounds(&s, &maps, 21);
    println!("\ninterleaved rounds (21 x {ROUND} lookups per size), thread CPU time, medians:");
    for ((name, _, _), ns) in maps.iter().zip(&r) {
        println!("  lookup_{name:<13} {:>8.1} ns", median(ns.clone()));
    }
    let ratio: Vec<f64> = r[2]
        .iter()
        .zip(&r[0])
        .map(|(big, small)| big / small)
        .collect();
    println!(
        "  lookup 64k / 16 = {:.2} (median of per-round ratios; goal <= 1.3)",
        median(ratio)
    );
}
