//! Flow-processor executor throughput: packets per second on one thread
//! (criterion), for the drop program, the packet-byte program, and the
//! largest program of the differential corpus, against a baseline
//! measured in the same run (copying the frame into the ME's CTM buffer,
//! the work every packet costs before its program runs). After the
//! criterion output, a table gives each figure as a ratio to the baseline.
//! Each program is also run metered by the timing model (`_timing`: cost
//! and totals; `_profile`: and the per-instruction profile); their cost
//! relative to the plain run is then measured again in interleaved rounds
//! in thread CPU time (each round times every variant, so a busy
//! machine's drift hits them alike), and a table gives the medians.
//!
//!   cargo bench -p nfp-emu --bench fp

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use std::sync::Arc;

use nfp_emu::fp::exec::{ExecutorKind, NoEnv, Program, le_words};
use nfp_emu::fp::me::{DEFAULT_BUDGET, Me, MeStats, Outcome};
use nfp_emu::fp::timing::{Meter, ProgramProfile};

fn image(bytes: &[u8]) -> Arc<Program> {
    Arc::new(Program::load(&le_words(bytes), 3072, 1, 4096).expect("valid image"))
}

/// Programs to measure: (name, image, frame).
fn programs() -> Vec<(&'static str, Arc<Program>, Vec<u8>)> {
    let mut frame = vec![0u8; 64];
    frame[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    frame[12..14].copy_from_slice(&[0x08, 0x00]);
    let big: Vec<u8> = (0..1514).map(|i| i as u8).collect();
    vec![
        (
            "drop",
            image(include_bytes!("../src/fp/testdata/p1_drop.ustore.bin")),
            frame.clone(),
        ),
        (
            "byte",
            image(include_bytes!("../src/fp/testdata/p2_byte.ustore.bin")),
            frame.clone(),
        ),
        // The largest image of the differential corpus (ci/progs/diff,
        // 2084 instructions), as the 6.12 JIT made it and the card
        // received it (nfp-emu --bpf-dump).
        (
            "largest_corpus",
            image(include_bytes!("data/jmp32_imm.ustore.bin")),
            big,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fp");
    g.throughput(Throughput::Elements(1));
    let stats = MeStats::default();
    // The interpreter, behind the executor seam as the flow processor
    // runs it.
    let mut me = Me::new(0, ExecutorKind::Interp.executor());
    let frame = vec![0u8; 64];
    let mut ctm = vec![0u8; 16 * 1024];
    g.bench_function("baseline_frame_copy", |b| {
        b.iter(|| {
            ctm[128..128 + frame.len()].copy_from_slice(black_box(&frame));
            black_box(&ctm);
        });
    });
    for (name, prog, frame) in programs() {
        let steps = me
            .run(&prog, &frame, &NoEnv, DEFAULT_BUDGET, false, &stats)
            .steps;
        eprintln!(
            "{name}: {} instructions in the image, {steps} executed per packet",
            prog.len()
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(me.run(
                    &prog,
                    black_box(&frame),
                    &NoEnv,
                    DEFAULT_BUDGET,
                    false,
                    &stats,
                ))
            });
        });
        let prof = ProgramProfile::new(prog.clone(), 1);
        for (variant, profiling) in [("timing", false), ("profile", true)] {
            g.bench_function(format!("{name}_{variant}"), |b| {
                b.iter(|| {
                    black_box(metered(
                        &mut me,
                        &prof,
                        black_box(&frame),
                        profiling,
                        &stats,
                    ))
                });
            });
        }
    }
    g.finish();
}

/// One packet run as the flow processor runs it with timing on.
fn metered(
    me: &mut Me,
    prof: &ProgramProfile,
    frame: &[u8],
    profiling: bool,
    stats: &MeStats,
) -> Outcome {
    let meter = Meter::new(prof, 0, profiling, None);
    me.run_metered(
        prof.program(),
        frame,
        &NoEnv,
        DEFAULT_BUDGET,
        false,
        stats,
        meter,
    )
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Interleaved rounds: thread CPU ns per packet of each program off,
/// timed and profiled, and the median over rounds of the ratios to off.
fn rounds(rounds: usize) {
    let stats = MeStats::default();
    let mut me = Me::new(0, ExecutorKind::Interp.executor());
    println!(
        "\ninterleaved rounds ({rounds}), thread CPU time per packet, medians (ratio to off):"
    );
    for (name, prog, frame) in programs() {
        let prof = ProgramProfile::new(prog.clone(), 1);
        let steps = me
            .run(&prog, &frame, &NoEnv, DEFAULT_BUDGET, false, &stats)
            .steps;
        // About 20 ms of work per variant and round.
        let n = (2_000_000 / steps.max(1)).max(1000);
        let mut t = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..rounds {
            for (v, times) in t.iter_mut().enumerate() {
                let t0 = thread_cpu_ns();
                for _ in 0..n {
                    if v == 0 {
                        black_box(me.run(
                            &prog,
                            black_box(&frame),
                            &NoEnv,
                            DEFAULT_BUDGET,
                            false,
                            &stats,
                        ));
                    } else {
                        black_box(metered(&mut me, &prof, black_box(&frame), v == 2, &stats));
                    }
                }
                times.push((thread_cpu_ns() - t0) / n as f64);
            }
        }
        let ratio = |v: usize| median(t[v].iter().zip(&t[0]).map(|(a, b)| a / b).collect());
        println!(
            "  {name:<16} off {:>9.1} ns  timing {:>9.1} ns (x{:.2})  profile {:>9.1} ns (x{:.2})",
            median(t[0].clone()),
            median(t[1].clone()),
            ratio(1),
            median(t[2].clone()),
            ratio(2)
        );
    }
}

/// Mean time per packet (ns) of a finished benchmark, from criterion's
/// estimates file.
fn mean_ns(name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let text =
        std::fs::read_to_string(format!("{dir}/criterion/fp/{name}/new/estimates.json")).ok()?;
    let mean = text.split("\"mean\"").nth(1)?;
    let pe = mean.split("\"point_estimate\":").nth(1)?;
    pe.split([',', '}']).next()?.trim().parse().ok()
}

fn main() {
    // FP_BENCH_ROUNDS=N: only the interleaved rounds (N of them).
    if let Some(n) = std::env::var("FP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        rounds(n);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let Some(base) = mean_ns("baseline_frame_copy") else {
        return;
    };
    println!("\nper packet, one thread (ratio = time / baseline_frame_copy time):");
    for name in [
        "baseline_frame_copy",
        "drop",
        "drop_timing",
        "drop_profile",
        "byte",
        "byte_timing",
        "byte_profile",
        "largest_corpus",
        "largest_corpus_timing",
        "largest_corpus_profile",
    ] {
        if let Some(ns) = mean_ns(name) {
            println!(
                "  {name:<20} {ns:>10.1} ns  {:>12.0} packets/s  x{:.1}",
                1e9 / ns,
                ns / base
            );
        }
    }
    rounds(15);
}
