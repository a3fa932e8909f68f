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
//! Then the same lookups in the host kernel's own hash maps (the same
//! keys, computed by a hand-written XDP program from
//! `bpf_get_prandom_u32`, run with `BPF_PROG_TEST_RUN`), as the baseline
//! of what this host's caches make of a 64k-entry table: the kernel's
//! 64k / 16 ratio, per round, from the thread CPU time per run with the
//! lookup minus the same program without it.
//!
//!   cargo bench -p nfp-emu --bench maps

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::exec::{Ctx, LM_WORDS};
use nfp_emu::maps::caps::MapLimits;
use nfp_emu::maps::{BPF_ANY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, MapStore};

#[path = "common/bpf.rs"]
mod bpf;

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

/// The host kernel's hash maps with the keys [`key_of`] gives, looked up
/// by an XDP program that computes key `prandom & (n - 1)` as `key_of`
/// does; and the same program without the lookup (the control).
mod host {
    use std::os::fd::OwnedFd;

    use super::bpf::{self, Asm, HostError};

    /// A full host hash map of `n` keys of `len` bytes and its two
    /// programs: (with the lookup, without it).
    pub struct HostMap {
        _map: OwnedFd,
        pub lookup: OwnedFd,
        pub control: OwnedFd,
    }

    /// The program: r0 = prandom & (n - 1); the key as `key_of` makes it,
    /// on the stack at r10 - 16; then (if `lookup`) the lookup; XDP_PASS.
    fn program(map: &OwnedFd, n: u32, len: usize, lookup: bool) -> Vec<u8> {
        let mut a = Asm::default();
        a.call(bpf::BPF_FUNC_GET_PRANDOM_U32)
            .insn(0x57, 0, 0, 0, (n - 1) as i32); // r0 &= n - 1
        if len >= 8 {
            // splitmix64's finaliser of r0, in place (r1 scratch).
            let mix = |a: &mut Asm| {
                for (shift, mul) in [(30, Some(7)), (27, Some(8)), (31, None)] {
                    a.insn(0xbf, 1, 0, 0, 0) // r1 = r0
                        .insn(0x77, 1, 0, 0, shift) // r1 >>= shift
                        .insn(0xaf, 0, 1, 0, 0); // r0 ^= r1
                    if let Some(m) = mul {
                        a.insn(0x2f, 0, m, 0, 0); // r0 *= r7 | r8
                    }
                }
            };
            a.insn(0xbf, 6, 0, 0, 0) // r6 = i
                .ld64(7, 0xbf58_476d_1ce4_e5b9)
                .ld64(8, 0x94d0_49bb_1331_11eb);
            mix(&mut a);
            a.insn(0x7b, 10, 0, -16, 0) // *(u64 *)(r10 - 16) = r0
                .insn(0xbf, 0, 6, 0, 0) // r0 = i
                .ld64(1, 0x5555_5555_5555_5555)
                .insn(0xaf, 0, 1, 0, 0); // r0 ^= r1
            mix(&mut a);
            a.insn(0x7b, 10, 0, -8, 0); // *(u64 *)(r10 - 8) = r0
        } else {
            a.insn(0x24, 0, 0, 0, 0x9e37_79b1_u32 as i32) // w0 *= ...
                .insn(0xbc, 1, 0, 0, 0) // w1 = w0
                .insn(0x74, 1, 0, 0, 16) // w1 >>= 16
                .insn(0xac, 0, 1, 0, 0) // w0 ^= w1
                .insn(0x63, 10, 0, -16, 0); // *(u32 *)(r10 - 16) = w0
        }
        if lookup {
            a.ld_map(1, map)
                .insn(0xbf, 2, 10, 0, 0) // r2 = r10
                .insn(0x07, 2, 0, 0, -16) // r2 += -16
                .call(bpf::BPF_FUNC_MAP_LOOKUP_ELEM)
                // Found: XDP_PASS; absent: XDP_DROP (checked before timing).
                .insn(0x15, 0, 0, 2, 0) // if r0 == 0 goto +2
                .ret(2)
                .ret(1);
        } else {
            a.ret(2); // XDP_PASS
        }
        a.0
    }

    /// A full map of `n` keys of `len` bytes, its values the key numbers.
    pub fn filled(n: u32, len: usize) -> Result<HostMap, HostError> {
        let map = bpf::map_create(bpf::BPF_MAP_TYPE_HASH, len as u32, 8, n)?;
        for i in 0..u64::from(n) {
            bpf::map_update(&map, &super::key_of(i, len)[..len], &i.to_le_bytes())?;
        }
        let lookup = bpf::prog_load(bpf::BPF_PROG_TYPE_XDP, &program(&map, n, len, true))?;
        let control = bpf::prog_load(bpf::BPF_PROG_TYPE_XDP, &program(&map, n, len, false))?;
        Ok(HostMap {
            _map: map,
            lookup,
            control,
        })
    }

    /// The return value of one run of `prog`.
    pub fn verdict(prog: &OwnedFd) -> Result<u32, String> {
        bpf::test_run(prog, &[0u8; 64], 1)
            .map(|(_, r)| r)
            .map_err(|e| e.to_string())
    }

    /// Thread CPU ns per run of `prog` over `repeat` runs (the syscall
    /// included; the clock the card's lookups are timed with).
    pub fn ns(prog: &OwnedFd, repeat: u32) -> Result<f64, HostError> {
        let frame = [0u8; 64];
        let t = super::thread_cpu_ns();
        bpf::test_run(prog, &frame, repeat)?;
        Ok((super::thread_cpu_ns() - t) / f64::from(repeat))
    }
}

/// The host kernel's figures: interleaved rounds of every size, each
/// the mean ns per run with the lookup minus without it; printed with the
/// per-round 64k / 16 ratios.
fn host_baseline() {
    const REPEAT: u32 = 1 << 17;
    let mut maps = Vec::new();
    for len in KEYS {
        for (size, n) in SIZES {
            match host::filled(n, len) {
                Ok(m) => maps.push((len, size, m)),
                Err(e) => {
                    println!("\nhost kernel baseline skipped: {e}");
                    return;
                }
            }
        }
    }
    // The program computes the keys `key_of` gave the map: every lookup
    // hits (a single run draws a random key; XDP_PASS means found).
    for (len, size, m) in &maps {
        let hits = (0..200)
            .filter(|_| host::verdict(&m.lookup) == Ok(2))
            .count();
        assert_eq!(
            hits, 200,
            "host map k{len}_{size}: the program's keys are the map's"
        );
    }
    let mut times = vec![Vec::new(); maps.len()];
    for _ in 0..ROUNDS {
        for ((_, _, m), t) in maps.iter().zip(&mut times) {
            match (host::ns(&m.lookup, REPEAT), host::ns(&m.control, REPEAT)) {
                (Ok(with), Ok(without)) => t.push((with - without).max(0.5)),
                (Err(e), _) | (_, Err(e)) => {
                    println!("\nhost kernel baseline skipped: {e}");
                    return;
                }
            }
        }
    }
    println!(
        "\nhost kernel's hash maps, the same keys ({ROUNDS} rounds x {REPEAT} runs, BPF_PROG_TEST_RUN, thread CPU time; lookup = run - run without it), medians:"
    );
    for ((len, size, _), t) in maps.iter().zip(&times) {
        println!("  host_k{len}_{size:<12} {:>8.1} ns", median(t.clone()));
    }
    for len in KEYS {
        let at = |s: &str| maps.iter().position(|(l, size, _)| *l == len && *size == s);
        if let (Some(big), Some(small)) = (at("64k"), at("16")) {
            let ratio = times[big]
                .iter()
                .zip(&times[small])
                .map(|(b, s)| b / s)
                .collect();
            println!(
                "  {len}-byte keys: host kernel lookup 64k / 16 = {:.2} (median of per-round ratios)",
                median(ratio)
            );
        }
    }
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
    host_baseline();
}
