//! The card's packet path fed in-process (no QEMU, no socket): a receive
//! batch of 32 generated 64-byte frames (32 flows) from wire input to
//! verdict and counters (`Datapath::wire_rx_batch`: MAC and vNIC counters,
//! flow hash, the flow processor, the verdict's counters), on one thread,
//! for the drop program (goal: >= 10 Mpps per host core, issue #12) and
//! the packet-byte program. Beside them, in the same run: the executor
//! alone on the same frames (`Me::run`, what the path costs on top of
//! it), the old per-frame entry point (`Datapath::wire_rx`), and the
//! hand-off to one worker thread (two threads; the feeding thread waits
//! for the worker when its queue is full). A table of packets/s and ratios
//! follows the criterion output.
//!
//!   cargo bench -p nfp-emu --bench card

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use nfp_emu::fp::FpConfig;
use nfp_emu::fp::exec::{NoEnv, Program, le_words};
use nfp_emu::fp::me::{DEFAULT_BUDGET, Me, MeStats};
use nfp_emu::ports::{GenSpec, RX_BATCH, RxBatch, Source};

fn image(bytes: &[u8]) -> Arc<Program> {
    Arc::new(Program::load(&le_words(bytes), 3072, 1, 4096).expect("valid image"))
}

/// One receive batch of generated frames.
fn batch() -> RxBatch {
    let src = Source::Gen(GenSpec {
        size: 64,
        count: None,
        flows: 32,
        rate: None,
    });
    let mut b = RxBatch::new(RX_BATCH, 2048);
    src.part(0, 1).recv_batch(&mut b).expect("generated");
    b
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("card");
    let frames = batch();
    g.throughput(Throughput::Elements(frames.len() as u64));
    let drop = image(include_bytes!("../src/fp/testdata/p1_drop.ustore.bin"));
    let byte = image(include_bytes!("../src/fp/testdata/p2_byte.ustore.bin"));
    let inline = FpConfig {
        threads: 0,
        ..FpConfig::default()
    };

    let stats = MeStats::default();
    let mut me = Me::new(0, inline.exec.executor());
    g.bench_function("executor_only_drop", |b| {
        b.iter(|| {
            for f in frames.frames() {
                black_box(me.run(&drop, black_box(f), &NoEnv, DEFAULT_BUDGET, false, &stats));
            }
        });
    });

    for (name, prog) in [("drop", &drop), ("byte", &byte)] {
        let card = nfp_emu::bench::card_with(prog, inline).expect("card");
        let dp = card.datapath();
        let mut lane = dp.rx_lane();
        g.bench_function(format!("{name}_batch_inline"), |b| {
            b.iter(|| dp.wire_rx_batch(0, black_box(&frames), &mut lane));
        });
        if name == "drop" {
            g.bench_function("drop_per_frame_wire_rx", |b| {
                b.iter(|| {
                    for f in frames.frames() {
                        dp.wire_rx(0, black_box(f));
                    }
                });
            });
        }
    }

    let one_worker = FpConfig {
        threads: 1,
        ..FpConfig::default()
    };
    let card = nfp_emu::bench::card_with(&drop, one_worker).expect("card");
    let dp = card.datapath();
    let mut lane = dp.rx_lane();
    g.bench_function("drop_batch_handoff_1_worker", |b| {
        b.iter(|| dp.wire_rx_batch(0, black_box(&frames), &mut lane));
    });
    g.finish();
}

/// Time per iteration (ns) of a finished benchmark, from criterion's
/// estimates file: the slope estimate criterion prints (the mean where
/// there is none; on a busy host the mean carries every preemption).
fn mean_ns(name: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let text =
        std::fs::read_to_string(format!("{dir}/criterion/card/{name}/new/estimates.json")).ok()?;
    let est = text
        .split("\"slope\":{")
        .nth(1)
        .or_else(|| text.split("\"mean\"").nth(1))?;
    let pe = est.split("\"point_estimate\":").nth(1)?;
    pe.split([',', '}']).next()?.trim().parse().ok()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let per = batch().len() as f64;
    let Some(exec) = mean_ns("executor_only_drop") else {
        return;
    };
    println!("\nper packet, batches of {per} frames (ratio = time / executor_only_drop time):");
    for name in [
        "executor_only_drop",
        "drop_batch_inline",
        "byte_batch_inline",
        "drop_per_frame_wire_rx",
        "drop_batch_handoff_1_worker",
    ] {
        if let Some(ns) = mean_ns(name) {
            let ns = ns / per;
            println!(
                "  {name:<28} {ns:>8.1} ns  {:>7.2} Mpps  x{:.2}",
                1e3 / ns,
                ns * per / exec
            );
        }
    }
}
