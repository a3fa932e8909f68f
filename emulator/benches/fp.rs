//! Flow-processor executor throughput: packets per second per host core
//! (criterion, in thread CPU time), for every executor (`ExecutorKind::ALL`:
//! a new executor is benched without changes here) on
//!
//! - `drop`: `ci/progs/drop.c` (15 instructions run per packet),
//! - `mid`: `ci/progs/diff/pkt_read.c` (1039 instructions, about 800 run),
//! - `largest`: `ci/progs/diff/jmp32_imm.c` (the largest image of the
//!   differential corpus, 2084 instructions, about 1950 run),
//! - `byte`: the golden packet-byte program (no C source: no ratio),
//!
//! each as the Linux 6.12 nfp JIT made it (the card's `--bpf-dump` of the
//! xdp-offload and xdp-diff boot scenarios), run as the flow processor
//! runs it (`Me::run`: packet entry, the program, the verdict). In the
//! same run, the host kernel runs the same C programs (eBPF from the
//! checked-in objects, its x86 JIT) through `BPF_PROG_TEST_RUN` on the
//! same frames; the table after criterion's output gives each figure as
//! packets/s and as a ratio to the host (skipped, with the reason, where
//! the kernel refuses: not root, no BPF, no JIT...). Nothing is asserted.
//!
//! Each program is also run on the interpreter metered by the timing model
//! (`timing/`: cost and totals; `profile/`: and the per-instruction
//! profile); their cost relative to the plain run is then measured again
//! in interleaved rounds in thread CPU time (each round times every
//! variant, so a busy machine's drift hits them alike), and a table gives
//! the medians. `FP_BENCH_ROUNDS=N` runs only those rounds.
//!
//!   cargo bench -p nfp-emu --bench fp

use std::hint::black_box;
use std::sync::Arc;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, Throughput};
use nfp_emu::fp::exec::{Executor, ExecutorKind, NoEnv, Program, le_words};
use nfp_emu::fp::jit::translate_now;
use nfp_emu::fp::me::{DEFAULT_BUDGET, Me, MeStats, Outcome};
use nfp_emu::fp::timing::{Meter, ProgramProfile};

/// One program to measure.
struct Case {
    name: &'static str,
    /// The NFP image.
    prog: Arc<Program>,
    /// The frame every packet carries.
    frame: Vec<u8>,
    /// The eBPF object of the same C program, for the host.
    host: Option<&'static [u8]>,
}

fn image(bytes: &[u8]) -> Arc<Program> {
    Arc::new(Program::load(&le_words(bytes), 3072, 1, 4096).expect("valid image"))
}

fn cases() -> Vec<Case> {
    // An Ethernet/IPv4/UDP frame of 64 bytes.
    let mut small = vec![0u8; 64];
    small[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    small[12..14].copy_from_slice(&[0x08, 0x00]);
    small[14] = 0x45;
    let big: Vec<u8> = (0..1514).map(|i| i as u8).collect();
    vec![
        Case {
            name: "drop",
            // drop.c as loaded in the xdp-offload scenario (the golden
            // drop program is that image).
            prog: image(include_bytes!("../src/fp/testdata/p1_drop.ustore.bin")),
            frame: small.clone(),
            host: Some(include_bytes!("data/drop.bpf.o")),
        },
        Case {
            name: "mid",
            prog: image(include_bytes!("data/diff/pkt_read.ustore.bin")),
            frame: big.clone(),
            host: Some(include_bytes!("data/diff/pkt_read.bpf.o")),
        },
        Case {
            name: "largest",
            prog: image(include_bytes!("data/diff/jmp32_imm.ustore.bin")),
            frame: big,
            host: Some(include_bytes!("data/diff/jmp32_imm.bpf.o")),
        },
        Case {
            name: "byte",
            prog: image(include_bytes!("../src/fp/testdata/p2_byte.ustore.bin")),
            frame: small,
            host: None,
        },
    ]
}

/// The executors to measure: every kind there is, each having prepared
/// every program (as the card does at load).
fn executors(cases: &[Case]) -> Vec<(&'static str, Arc<dyn Executor>)> {
    ExecutorKind::ALL
        .iter()
        .map(|k| {
            let e = k.executor();
            for c in cases {
                if *k == ExecutorKind::Jit {
                    // Translated before measuring (`prepare` would
                    // translate on the executor's thread meanwhile).
                    match translate_now(&c.prog) {
                        Ok(bytes) => eprintln!("jit/{}: {bytes} bytes of host code", c.name),
                        Err(err) => eprintln!("jit/{}: not translated: {err}", c.name),
                    }
                } else {
                    e.prepare(&c.prog);
                }
            }
            (k.name(), e)
        })
        .collect()
}

/// Thread CPU time: the machine may be shared; time the thread spent
/// waiting for a core is not the executor's.
struct ThreadCpu;

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, i: u64) -> u64 {
        thread_cpu_ns().saturating_sub(i)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Nanoseconds of CPU time, scaled like criterion's wall-time formatter.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "us cpu")
        } else if typical < 1e9 {
            (1e6, "ms cpu")
        } else {
            (1e9, "s cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let n = match t {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n,
        } as f64;
        // values are ns per iteration: elements per second.
        let per_s = n * 1e9 / typical;
        let (div, unit) = if per_s >= 1e6 {
            (1e6, "Melem/s")
        } else if per_s >= 1e3 {
            (1e3, "Kelem/s")
        } else {
            (1.0, "elem/s")
        };
        values.iter_mut().for_each(|v| *v = n * 1e9 / *v / div);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn bench(c: &mut Criterion<ThreadCpu>, cases: &[Case]) {
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
    for (exec_name, exec) in executors(cases) {
        // The executor behind the seam as the flow processor runs it.
        let mut me = Me::new(0, exec);
        for case in cases {
            let o = me.run(
                &case.prog,
                &case.frame,
                &NoEnv,
                DEFAULT_BUDGET,
                false,
                &stats,
            );
            eprintln!(
                "{exec_name}/{}: {} instructions in the image, {} run per packet, {:?}",
                case.name,
                case.prog.len(),
                o.steps,
                o.action
            );
            g.bench_function(BenchmarkId::new(exec_name, case.name), |b| {
                b.iter(|| {
                    black_box(me.run(
                        &case.prog,
                        black_box(&case.frame),
                        &NoEnv,
                        DEFAULT_BUDGET,
                        false,
                        &stats,
                    ))
                });
            });
        }
    }
    // The timing model meters packets on the interpreter.
    let mut me = Me::new(0, ExecutorKind::Interp.executor());
    for case in cases {
        let prof = ProgramProfile::new(case.prog.clone(), 1);
        for (variant, profiling) in [("timing", false), ("profile", true)] {
            g.bench_function(BenchmarkId::new(variant, case.name), |b| {
                b.iter(|| {
                    black_box(metered(
                        &mut me,
                        &prof,
                        black_box(&case.frame),
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Interleaved rounds on the interpreter: thread CPU ns per packet of each
/// program off, timed and profiled, and the median over rounds of the
/// ratios to off.
fn rounds(cases: &[Case], rounds: usize) {
    let stats = MeStats::default();
    let mut me = Me::new(0, ExecutorKind::Interp.executor());
    println!(
        "\ninterleaved rounds ({rounds}) on the interpreter, thread CPU time per packet, medians (ratio to off):"
    );
    let mut models = Vec::new();
    for case in cases {
        let (prog, frame) = (&case.prog, &case.frame);
        let prof = ProgramProfile::new(prog.clone(), 1);
        let steps = me
            .run(prog, frame, &NoEnv, DEFAULT_BUDGET, false, &stats)
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
                            prog,
                            black_box(frame),
                            &NoEnv,
                            DEFAULT_BUDGET,
                            false,
                            &stats,
                        ));
                    } else {
                        black_box(metered(&mut me, &prof, black_box(frame), v == 2, &stats));
                    }
                }
                times.push(thread_cpu_ns().saturating_sub(t0) as f64 / n as f64);
            }
        }
        let ratio = |v: usize| median(t[v].iter().zip(&t[0]).map(|(a, b)| a / b).collect());
        println!(
            "  {:<16} off {:>9.1} ns  timing {:>9.1} ns (x{:.2})  profile {:>9.1} ns (x{:.2})",
            case.name,
            median(t[0].clone()),
            median(t[1].clone()),
            ratio(1),
            median(t[2].clone()),
            ratio(2)
        );
        models.push((case.name, prof.report()));
    }
    // What the cost model (docs/timing.md) makes of each program: the
    // metered packets above, one 64-byte frame each.
    println!(
        "
cost model (docs/timing.md) over the metered packets, per packet:"
    );
    for (name, r) in models {
        let n = r.timed.packets.max(1);
        let est = r.estimate_text.unwrap_or_else(|| "no estimate".into());
        println!(
            "  {name:<16} {:>6} instructions {:>7} cycles ({} program, {} firmware); {est}",
            r.timed.insns / n,
            r.timed.cycles / n,
            r.timed.prog_cycles / n,
            r.timed.fw_cycles / n,
        );
    }
}

/// Mean time per packet (ns) of a finished benchmark, from criterion's
/// estimates file.
fn mean_ns(id: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let text =
        std::fs::read_to_string(format!("{dir}/criterion/fp/{id}/new/estimates.json")).ok()?;
    let mean = text.split("\"mean\"").nth(1)?;
    let pe = mean.split("\"point_estimate\":").nth(1)?;
    pe.split([',', '}']).next()?.trim().parse().ok()
}

/// The host kernel's figure for each case: ns per packet, or why not.
fn host_figures(cases: &[Case]) -> Vec<Result<host::Figure, String>> {
    cases
        .iter()
        .map(|c| match c.host {
            None => Err("no C program".into()),
            Some(obj) => host::measure(obj, &c.frame).map_err(|e| e.to_string()),
        })
        .collect()
}

fn main() {
    let cases = cases();
    // FP_BENCH_ROUNDS=N: only the interleaved rounds (N of them).
    if let Some(n) = std::env::var("FP_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        rounds(&cases, n);
        return;
    }
    let mut c = Criterion::default()
        .with_measurement(ThreadCpu)
        .configure_from_args();
    // The host first and last: its figure is the better of the two.
    let before = host_figures(&cases);
    bench(&mut c, &cases);
    c.final_summary();
    let after = host_figures(&cases);
    let host: Vec<Result<host::Figure, String>> = before
        .into_iter()
        .zip(after)
        .map(|(a, b)| match (a, b) {
            (Ok(a), Ok(b)) => Ok(if a.ns <= b.ns { a } else { b }),
            (Ok(a), Err(_)) | (Err(_), Ok(a)) => Ok(a),
            (Err(e), Err(_)) => Err(e),
        })
        .collect();
    println!(
        "\nper packet, one host core (thread CPU time; host = the kernel's x86 JIT, BPF_PROG_TEST_RUN):"
    );
    if let Some(base) = mean_ns("baseline_frame_copy") {
        println!("  {:<22} {base:>10.1} ns", "baseline_frame_copy");
    }
    // Instructions run per packet (the same on every executor).
    let steps: Vec<u64> = {
        let stats = MeStats::default();
        let mut me = Me::new(0, ExecutorKind::Interp.executor());
        cases
            .iter()
            .map(|c| {
                me.run(&c.prog, &c.frame, &NoEnv, DEFAULT_BUDGET, false, &stats)
                    .steps
            })
            .collect()
    };
    println!(
        "  {:<22} {:>10} {:>9} {:>14} {:>12} {:>10}",
        "executor/program", "ns/packet", "ns/insn", "packets/s", "host ns", "x host"
    );
    let rows = ExecutorKind::ALL
        .iter()
        .map(|k| k.name())
        .chain(["timing", "profile"]);
    for name in rows {
        for ((case, h), n) in cases.iter().zip(&host).zip(&steps) {
            let id = format!("{name}/{}", case.name);
            let Some(ns) = mean_ns(&id) else {
                continue;
            };
            let (hns, ratio) = match h {
                Ok(f) => (format!("{:.1}", f.ns), format!("{:.1}", ns / f.ns)),
                Err(_) => ("-".into(), "-".into()),
            };
            println!(
                "  {id:<22} {ns:>10.1} {:>9.2} {:>14.0} {hns:>12} {ratio:>10}",
                ns / (*n).max(1) as f64,
                1e9 / ns
            );
        }
    }
    for (case, h) in cases.iter().zip(&host) {
        match h {
            Ok(f) => println!(
                "  host {}: {:.1} ns/packet cpu, {} ns by the kernel's clock ({} runs a round), verdict {}",
                case.name, f.ns, f.kernel_ns, f.repeat, f.retval
            ),
            Err(e) => println!("  host {}: no ratio: {e}", case.name),
        }
    }
    rounds(&cases, 15);
}

#[path = "common/bpf.rs"]
mod bpf;

/// The host kernel's run of an eBPF program (`BPF_PROG_LOAD`,
/// `BPF_PROG_TEST_RUN` with `repeat`, common/bpf.rs), the program read
/// from its ELF object with `object`.
mod host {
    use std::os::fd::OwnedFd;

    use object::{Object, ObjectSection};

    use super::bpf;
    pub use bpf::HostError;

    /// The host's figure for one program and frame.
    #[derive(Clone, Copy, Debug)]
    pub struct Figure {
        /// Thread CPU ns per run (the syscall included, over `repeat`
        /// runs), the median of the rounds: the clock the executors are
        /// measured with.
        pub ns: f64,
        /// The kernel's own mean per run (`duration`, whole ns), median.
        pub kernel_ns: u32,
        /// Runs per round.
        pub repeat: u32,
        /// The program's return value (the XDP verdict).
        pub retval: u32,
    }

    /// Load the `xdp` section of `obj` (no maps, no relocations).
    fn load(obj: &[u8]) -> Result<OwnedFd, HostError> {
        let file = object::File::parse(obj).map_err(|e| HostError::Object(e.to_string()))?;
        let sec = file
            .section_by_name("xdp")
            .ok_or_else(|| HostError::Object("no xdp section".into()))?;
        if sec.relocations().next().is_some() {
            return Err(HostError::Object("relocations: needs a full loader".into()));
        }
        let insns = sec.data().map_err(|e| HostError::Object(e.to_string()))?;
        bpf::prog_load(bpf::BPF_PROG_TYPE_XDP, insns)
    }

    /// The host's figure: rounds of about 50 ms, the median of seven.
    pub fn measure(obj: &[u8], frame: &[u8]) -> Result<Figure, HostError> {
        let fd = load(obj)?;
        let (ns, _) = bpf::test_run(&fd, frame, 1000)?;
        let repeat = (50_000_000 / u64::from(ns.max(1))).clamp(1000, 10_000_000) as u32;
        let mut cpu = Vec::new();
        let mut kernel = Vec::new();
        let mut retval = 0;
        for _ in 0..7 {
            let t0 = super::thread_cpu_ns();
            let (ns, r) = bpf::test_run(&fd, frame, repeat)?;
            cpu.push((super::thread_cpu_ns() - t0) as f64 / f64::from(repeat));
            kernel.push(ns);
            retval = r;
        }
        cpu.sort_by(f64::total_cmp);
        kernel.sort_unstable();
        Ok(Figure {
            ns: cpu[cpu.len() / 2],
            kernel_ns: kernel[kernel.len() / 2],
            repeat,
            retval,
        })
    }
}
