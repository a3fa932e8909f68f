//! Offloaded-map lookups as the firmware's lookup helper does them (the
//! table resolved from the program's table id, the key read from LM, the
//! hash index probed, the value's EMEM address returned), in full hash
//! maps of 16, 1k, 64k and 1M entries, with random 16-byte keys (a flow
//! key) and random 4-byte keys (an IPv4 address, as `map_blocklist.c`)
//! looked up in random order; and atomic adds to map values by EMEM
//! address with 64 maps alive.
//!
//! After the criterion output, the lookups are timed again in interleaved
//! rounds, in thread CPU time (each round times every size, so a busy
//! machine's drift hits all sizes alike); a table gives the median of
//! each and the median over rounds of the 64k/16 ratio, the figure the
//! map goal (a 64k-entry lookup within 1.3x of a 16-entry one) is judged
//! by.
//!
//!   cargo bench -p nfp-emu --bench maps

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::exec::{Ctx, LM_WORDS};
use nfp_emu::maps::caps::MapLimits;
use nfp_emu::maps::{BPF_ANY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, MapStore};

/// Key sizes measured, bytes.
const KEYS: [usize; 2] = [16, 4];
/// Lookups per size in one interleaved round.
const ROUND: usize = 1 << 17;
const ROUNDS: usize = 21;
const SIZES: [(&str, u32); 4] = [("16", 16), ("1k", 1024), ("64k", 65536), ("1M", 1 << 20)];
/// LM byte address of the key.
const KEY_LM: u32 = 0x100;

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

/// Key number `i` (`len` bytes) of a map: random-looking, computed rather
/// than read from a table, so the benchmark's own memory traffic is the
/// same at every size. Distinct for distinct `i < 2^32` at any length.
fn key_of(i: u64, len: usize) -> [u8; 16] {
    let mut k = [0u8; 16];
    if len >= 8 {
        k[..8].copy_from_slice(&mix(i).to_le_bytes());
        k[8..].copy_from_slice(&mix(i ^ 0x5555_5555_5555_5555).to_le_bytes());
    } else {
        // A bijection of 32 bits: an odd multiplier, then xor-shift.
        let x = (i as u32).wrapping_mul(0x9e37_79b1);
        k[..4].copy_from_slice(&(x ^ (x >> 16)).to_le_bytes());
    }
    k
}

fn store() -> MapStore {
    let s = MapStore::new();
    s.reset(Some(MapLimits {
        types: 1 << BPF_MAP_TYPE_HASH | 1 << BPF_MAP_TYPE_ARRAY,
        max_maps: 64,
        max_elems: 1 << 22,
        max_key_sz: 64,
        max_val_sz: 64,
        max_elem_sz: 128,
    }));
    s
}

/// A full hash map of `n` keys of `len` bytes (`n` a power of two).
fn filled(s: &MapStore, n: u32, len: usize) -> u32 {
    let tid = s.alloc(len as u32, 8, n, BPF_MAP_TYPE_HASH, 0).unwrap();
    for i in 0..u64::from(n) {
        s.update(tid, &key_of(i, len)[..len], &i.to_le_bytes(), BPF_ANY)
            .unwrap();
    }
    tid
}

/// One map under test.
struct Map {
    name: String,
    tid: u32,
    n: u32,
    len: usize,
}

/// One lookup of key number `i` as a program's helper call makes it
/// (table id in A0, the key in LM); the value's address (low word), 0 if
/// absent.
fn lookup(s: &MapStore, m: &Map, ctx: &mut Ctx, lm: &mut [u32; LM_WORDS], i: u64) -> u32 {
    let key = key_of(i, m.len);
    for (w, b) in lm[KEY_LM as usize / 4..]
        .iter_mut()
        .zip(key.chunks_exact(4))
    {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    ctx.set_both(0, m.tid);
    nfp_emu::datapath::helpers::map_helper(
        s,
        nfp_emu::datapath::helpers::BPF_FUNC_MAP_LOOKUP_ELEM,
        ctx,
        lm,
    );
    ctx.a(0)
}

fn bench(c: &mut Criterion, s: &MapStore, maps: &[Map]) {
    let mut g = c.benchmark_group("maps");
    g.throughput(Throughput::Elements(1));
    let mut ctx = Ctx::default();
    let mut lm = [0u32; LM_WORDS];
    ctx.lm_addr[0] = KEY_LM;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for m in maps {
        g.bench_function(&m.name, |b| {
            b.iter(|| {
                let i = xorshift(&mut x) & u64::from(m.n - 1);
                black_box(lookup(s, m, &mut ctx, &mut lm, i))
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
fn rounds(s: &MapStore, maps: &[Map]) -> Vec<Vec<f64>> {
    let mut ctx = Ctx::default();
    let mut lm = [0u32; LM_WORDS];
    ctx.lm_addr[0] = KEY_LM;
    let mut out = vec![Vec::new(); maps.len()];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..ROUNDS {
        for (m, times) in maps.iter().zip(&mut out) {
            let t = thread_cpu_ns();
            for _ in 0..ROUND {
                let i = xorshift(&mut x) & u64::from(m.n - 1);
                black_box(lookup(s, m, &mut ctx, &mut lm, i));
            }
            times.push((thread_cpu_ns() - t) / ROUND as f64);
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
    let mut maps = Vec::new();
    for len in KEYS {
        for (size, n) in SIZES {
            let tid = filled(&s, n, len);
            maps.push(Map {
                name: format!("lookup_k{len}_{size}"),
                tid,
                n,
                len,
            });
        }
    }
    let (mut ctx, mut lm) = (Ctx::default(), [0u32; LM_WORDS]);
    ctx.lm_addr[0] = KEY_LM;
    for m in &maps {
        let found = (0..1000u64)
            .filter(|i| lookup(&s, m, &mut ctx, &mut lm, i * 7 % u64::from(m.n)) != 0)
            .count();
        assert_eq!(found, 1000, "{}: keys are found", m.name);
    }
    bench(&mut c, &s, &maps);
    c.final_summary();
    println!("\ncriterion means (wall time), one thread:");
    for name in maps
        .iter()
        .map(|m| m.name.as_str())
        .chain(["emem_add_64_maps"])
    {
        if let Some(ns) = mean_ns(name) {
            println!("  {name:<22} {ns:>8.1} ns");
        }
    }
    let r = rounds(&s, &maps);
    println!(
        "\ninterleaved rounds ({ROUNDS} x {ROUND} lookups per map), thread CPU time, medians:"
    );
    for (m, ns) in maps.iter().zip(&r) {
        println!("  {:<22} {:>8.1} ns", m.name, median(ns.clone()));
    }
    for len in KEYS {
        let at = |size: &str| {
            maps.iter()
                .position(|m| m.len == len && m.name.ends_with(&format!("_{size}")))
        };
        if let (Some(big), Some(small)) = (at("64k"), at("16")) {
            let ratio = r[big].iter().zip(&r[small]).map(|(b, s)| b / s).collect();
            println!(
                "  {len}-byte keys: lookup 64k / 16 = {:.2} (median of per-round ratios; goal <= 1.3)",
                median(ratio)
            );
        }
    }
}
