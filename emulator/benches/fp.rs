//! Flow-processor executor throughput: packets per second on one thread
//! (criterion), on each executor (the interpreter, the translation), for
//! the drop program, the packet-byte program, and the
//! largest program of the differential corpus, against a baseline
//! measured in the same run (copying the frame into the ME's CTM buffer,
//! the work every packet costs before its program runs). After the
//! criterion output, a table gives each figure as a ratio to the baseline.
//!
//!   cargo bench -p nfp-emu --bench fp

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::exec::{ExecutorKind, NoEnv, Program, le_words};
use nfp_emu::fp::jit::translate_now;
use nfp_emu::fp::me::{DEFAULT_BUDGET, Me, MeStats};

fn image(bytes: &[u8]) -> Program {
    Program::load(&le_words(bytes), 3072, 1, 4096).expect("valid image")
}

/// Programs to measure: (name, image, frame).
fn programs() -> Vec<(&'static str, Program, Vec<u8>)> {
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

/// The executors measured.
const EXECUTORS: [ExecutorKind; 2] = [ExecutorKind::Interp, ExecutorKind::Jit];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fp");
    g.throughput(Throughput::Elements(1));
    let stats = MeStats::default();
    let frame = vec![0u8; 64];
    let mut ctm = vec![0u8; 16 * 1024];
    g.bench_function("baseline_frame_copy", |b| {
        b.iter(|| {
            ctm[128..128 + frame.len()].copy_from_slice(black_box(&frame));
            black_box(&ctm);
        });
    });
    let programs = programs();
    // Each executor behind the executor seam as the flow processor runs
    // it; the translating one with its translation ready.
    for exec in EXECUTORS {
        let mut me = Me::new(0, exec.executor());
        for (name, prog, frame) in &programs {
            if exec == ExecutorKind::Jit {
                let bytes = translate_now(prog).expect("translated");
                eprintln!("{name}: {bytes} bytes of host code");
            }
            let steps = me
                .run(prog, frame, &NoEnv, DEFAULT_BUDGET, false, &stats)
                .steps;
            eprintln!(
                "{name}: {} instructions in the image, {steps} executed per packet",
                prog.len()
            );
            g.bench_function(format!("{name}_{exec}"), |b| {
                b.iter(|| {
                    black_box(me.run(
                        prog,
                        black_box(frame),
                        &NoEnv,
                        DEFAULT_BUDGET,
                        false,
                        &stats,
                    ))
                });
            });
        }
    }
    g.finish();
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
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let Some(base) = mean_ns("baseline_frame_copy") else {
        return;
    };
    println!("\nper packet, one thread (ratio = time / baseline_frame_copy time):");
    let mut names = vec!["baseline_frame_copy".to_owned()];
    for exec in EXECUTORS {
        for p in ["drop", "byte", "largest_corpus"] {
            names.push(format!("{p}_{exec}"));
        }
    }
    for name in names {
        if let Some(ns) = mean_ns(&name) {
            println!(
                "  {name:<26} {ns:>10.1} ns  {:>12.0} packets/s  x{:.1}",
                1e9 / ns,
                ns / base
            );
        }
    }
}
