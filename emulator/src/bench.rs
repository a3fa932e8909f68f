//! `nfp-emu bench`: a microcode image (as `--bpf-dump` writes them) run
//! by a card's datapath in-process, without QEMU or a socket, fed by a
//! traffic generator or a replayed capture file on N threads; it prints
//! the figures, one JSON object last.
//!
//! The card is built with the project's BPF firmware in flash, so data
//! vNIC 0 exists as the driver would find it; the image is attached to it
//! with [`Datapath::attach_program`](crate::datapath::Datapath::attach_program) (a reconfig without a driver). Each
//! feeding thread takes its part of the frames and calls
//! [`Datapath::wire_rx_batch`](crate::datapath::Datapath::wire_rx_batch) a receive batch at a time, as a port's
//! receive thread does: MAC counters, the vNIC's counters, the flow
//! processor (run to completion on the feeding thread, or handed to
//! `--workers` worker threads), the verdict and its counters. Frames the
//! program passes find no guest (no freelist buffer) and are counted as
//! dropped; transmitted ones go to port 0's empty cable.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::card::{Card, CardConfig, CardError};
use crate::datapath::AttachError;
use crate::fp::exec::{ExecutorKind, LoadError, Program, le_words};
use crate::fp::{DEFAULT_MES, FpConfig};
use crate::nfd::ctrl::stat;
use crate::nfd::vnic::{NFD_BPF_DONE, NFD_BPF_MAX_LEN, NFD_BPF_START};
use crate::ports::{self, GenSpec, PcapFrames, PortError, PortSpec, Source};

/// The port the program is attached to and frames arrive on.
const PORT: usize = 0;
/// How long to wait for the workers to finish the last packets.
const DRAIN_DEADLINE: Duration = Duration::from_secs(600);

/// Verdict names, in the order of the BPF counters `bpf_pass`,
/// `bpf_app1..3` the XDP result codes bump (jit.c:3713-3719).
pub const VERDICTS: [&str; 4] = ["PASS", "DROP", "TX", "ABORTED"];

/// `nfp-emu bench`: run a microcode image on the card's datapath,
/// in-process, and measure it.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "nfp-emu bench", version)]
pub struct BenchArgs {
    /// The program: a microcode image as --bpf-dump writes them
    /// (vNIC<port>-prog<N>.bin: little-endian 64-bit instruction words).
    // The comment is clap's help text; `<port>` is not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long, value_name = "IMAGE")]
    pub prog: PathBuf,

    /// Replay the frames of FILE (pcap or pcapng, Ethernet) instead of
    /// generating frames.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["frames", "size", "flows"])]
    pub pcap: Option<PathBuf>,

    /// Times the --pcap file is replayed.
    #[arg(long = "loop", value_name = "K", default_value_t = 1, requires = "pcap",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub loops: u64,

    /// Frames to generate: IPv4/UDP, round-robin over --flows flows.
    #[arg(long, value_name = "N", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: u64,

    /// Bytes per generated frame, without FCS.
    #[arg(long, value_name = "BYTES", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(ports::GEN_MIN_SIZE as i64..=ports::MAX_FRAME as i64))]
    pub size: u16,

    /// Flows the generated frames are spread over.
    #[arg(long, value_name = "F", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ports::GEN_MAX_FLOWS)))]
    pub flows: u32,

    /// Threads feeding the card, each with its share of the frames.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,

    /// The executor the program runs on: jit (the default, as for the
    /// card) or interp.
    #[arg(long, value_name = "KIND", default_value = "jit", value_parser = parse_exec)]
    pub exec: ExecutorKind,

    /// Flow-processor worker threads; 0: packets run to completion on
    /// the feeding threads.
    #[arg(long, value_name = "M", default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=256))]
    pub workers: u16,

    /// Microengines of the flow processor.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MES as u16,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub mes: u16,
}

fn parse_exec(s: &str) -> Result<ExecutorKind, crate::fp::exec::UnknownExecutor> {
    s.parse()
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The image cannot be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The image is not a program the card loads.
    #[error("{}: {source}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// Why the card refuses it.
        source: LoadError,
    },
    /// The card cannot be built.
    #[error("card: {0}")]
    Card(#[from] CardError),
    /// The frame source cannot be opened.
    #[error("frames: {0}")]
    Frames(#[from] PortError),
    /// The program cannot be attached.
    #[error("{0}")]
    Attach(#[from] AttachError),
    /// The flow processor did not finish the packets.
    #[error("the flow processor finished {done} of {fed} packets in {DRAIN_DEADLINE:?}")]
    Stalled {
        /// Packets finished.
        done: u64,
        /// Packets fed.
        fed: u64,
    },
}

/// What a run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Frames fed to the card.
    pub packets: u64,
    /// Wall time from the first frame fed to the last verdict.
    pub seconds: f64,
    /// CPU time the process used meanwhile (all threads: feeders,
    /// workers, spinning included).
    pub cpu_seconds: f64,
    /// Program instructions executed, all packets.
    pub instructions: u64,
    /// Packets per verdict, as [`VERDICTS`] names them (from the vNIC's
    /// BPF counters).
    pub verdicts: [u64; 4],
    /// Feeding threads.
    pub threads: u16,
    /// Flow-processor workers (0: run to completion).
    pub workers: u16,
    /// The executor.
    pub exec: ExecutorKind,
    /// Instructions in the image.
    pub prog_len: usize,
    /// Where the frames came from (a `gen:` or `pcap:` description).
    pub source: String,
}

impl Report {
    /// Million packets per second.
    pub fn mpps(&self) -> f64 {
        self.packets as f64 / self.seconds.max(f64::MIN_POSITIVE) / 1e6
    }

    /// Wall nanoseconds per packet.
    pub fn ns_per_packet(&self) -> f64 {
        self.seconds * 1e9 / self.packets.max(1) as f64
    }

    /// Process CPU nanoseconds per packet: on a busy host the cost of the
    /// path, where wall time also counts the time other processes ran.
    pub fn cpu_ns_per_packet(&self) -> f64 {
        self.cpu_seconds * 1e9 / self.packets.max(1) as f64
    }

    /// Program instructions per packet.
    pub fn insns_per_packet(&self) -> f64 {
        self.instructions as f64 / self.packets.max(1) as f64
    }

    /// One JSON object on one line: `packets`, `seconds`, `mpps`,
    /// `ns_per_packet`, `insns_per_packet`, `verdicts` (an object of
    /// counts by PASS/DROP/TX/ABORTED), then `cpu_seconds`,
    /// `cpu_ns_per_packet`, `threads`, `workers`, `exec`, `prog_insns` and
    /// `source`.
    pub fn json(&self) -> String {
        let mut s = format!(
            "{{\"packets\":{},\"seconds\":{:.6},\"mpps\":{:.4},\"ns_per_packet\":{:.2},\"insns_per_packet\":{:.2},\"verdicts\":{{",
            self.packets,
            self.seconds,
            self.mpps(),
            self.ns_per_packet(),
            self.insns_per_packet()
        );
        for (i, (name, n)) in VERDICTS.iter().zip(self.verdicts).enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(s, "{sep}\"{name}\":{n}");
        }
        let _ = write!(
            s,
            "}},\"cpu_seconds\":{:.6},\"cpu_ns_per_packet\":{:.2},\"threads\":{},\"workers\":{},\"exec\":\"{}\",\"prog_insns\":{},\"source\":\"{}\"}}",
            self.cpu_seconds,
            self.cpu_ns_per_packet(),
            self.threads,
            self.workers,
            self.exec,
            self.prog_len,
            json_escape(&self.source)
        );
        s
    }
}

/// CPU time this process has used (`CLOCK_PROCESS_CPUTIME_ID`).
fn process_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `t` is.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// `s` with the characters JSON strings cannot hold escaped.
fn json_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", u32::from(c));
            }
            c => o.push(c),
        }
    }
    o
}

/// Load a microcode image as the card's `UPDATE_BPF` does.
pub fn load_image(path: &std::path::Path) -> Result<Program, BenchError> {
    let bytes = std::fs::read(path).map_err(|source| BenchError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Program::load(
        &le_words(&bytes),
        NFD_BPF_START,
        NFD_BPF_DONE,
        usize::from(NFD_BPF_MAX_LEN),
    )
    .map_err(|source| BenchError::Image {
        path: path.to_path_buf(),
        source,
    })
}

/// A card with the project's BPF firmware running, no cables, its flow
/// processor started with `fp`, and `prog` attached to port 0's vNIC.
pub fn card_with(prog: &Arc<Program>, fp: FpConfig) -> Result<Card, BenchError> {
    card_cabled(prog, fp, vec![PortSpec::None, PortSpec::None])
}

/// As [`card_with`], its ports cabled as `cabling` and their receive
/// threads started.
pub fn card_cabled(
    prog: &Arc<Program>,
    fp: FpConfig,
    cabling: Vec<PortSpec>,
) -> Result<Card, BenchError> {
    use nfp_firmware::image::{BoardSpec, bpf_image};
    let card = Card::new(&CardConfig {
        flash_firmware: Some(bpf_image(&BoardSpec::agilio_cx_2x25()).to_bytes()),
        cabling,
        fp,
        ..CardConfig::default()
    })?;
    card.datapath().start();
    card.datapath().attach_program(PORT, prog)?;
    Ok(card)
}

/// Run the benchmark `args` describes.
pub fn run(args: &BenchArgs) -> Result<Report, BenchError> {
    let prog = Arc::new(load_image(&args.prog)?);
    let (spec, source) = match &args.pcap {
        Some(path) => (
            PortSpec::Pcap {
                path: path.clone(),
                loops: args.loops,
                rate: None,
            },
            Source::Pcap {
                frames: Arc::new(PcapFrames::load(path)?),
                loops: args.loops,
                rate: None,
            },
        ),
        None => {
            let g = GenSpec {
                size: usize::from(args.size),
                count: Some(args.frames),
                flows: args.flows,
                rate: None,
            };
            (PortSpec::Gen(g), Source::Gen(g))
        }
    };
    let card = card_with(
        &prog,
        FpConfig {
            threads: usize::from(args.workers),
            mes: usize::from(args.mes),
            exec: args.exec,
            ..FpConfig::default()
        },
    )?;
    let dp = card.datapath();
    let threads = usize::from(args.threads);
    let cpu_start = process_cpu();
    let start = Instant::now();
    let fed: u64 = std::thread::scope(|s| {
        let feeders: Vec<_> = (0..threads)
            .map(|i| {
                let mut rx = source.part(i, threads);
                s.spawn(move || {
                    let mut lane = dp.rx_lane();
                    let mut n = 0u64;
                    ports::receive_loop(PORT, &mut *rx, |batch| {
                        n += batch.len() as u64;
                        dp.wire_rx_batch(PORT, batch, &mut lane);
                        true
                    });
                    n
                })
            })
            .collect();
        feeders.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let fp = dp.fp().ok_or(BenchError::Stalled { done: 0, fed })?;
    let done = || {
        fp.stats
            .workers
            .iter()
            .map(|w| w.load(std::sync::atomic::Ordering::Relaxed))
            .sum::<u64>()
    };
    let deadline = Instant::now() + DRAIN_DEADLINE;
    while done() < fed {
        if Instant::now() > deadline {
            return Err(BenchError::Stalled { done: done(), fed });
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = (process_cpu() - cpu_start).as_secs_f64();
    let v = dp.port_vnic(PORT).ok_or(AttachError::NoVnic(PORT))?;
    let verdicts = std::array::from_fn(|k| v.stats.get(stat::APP0_FRAMES + 2 * k));
    Ok(Report {
        packets: fed,
        seconds,
        cpu_seconds,
        instructions: fp.stats.mes.iter().map(|m| m.instructions()).sum(),
        verdicts,
        threads: args.threads,
        workers: args.workers,
        exec: args.exec,
        prog_len: prog.len(),
        source: spec.to_string(),
    })
}

/// `nfp-emu bench ARGS...` (`argv` without the program name): run, print
/// a summary and the JSON object last; the process's exit status.
pub fn main(argv: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    use clap::Parser;
    let args = BenchArgs::parse_from(argv);
    match run(&args) {
        Ok(r) => {
            eprintln!(
                "{}: {} packets from {} in {:.3} s on {} thread(s) ({} workers, {}): {:.3} Mpps, {:.1} ns/packet ({:.1} CPU ns/packet), {:.1} instructions/packet",
                args.prog.display(),
                r.packets,
                r.source,
                r.seconds,
                r.threads,
                r.workers,
                r.exec,
                r.mpps(),
                r.ns_per_packet(),
                r.cpu_ns_per_packet(),
                r.insns_per_packet()
            );
            println!("{}", r.json());
            0
        }
        Err(e) => {
            eprintln!("nfp-emu bench: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/fp/testdata");

    fn args(extra: &str) -> BenchArgs {
        let argv = format!("bench {extra}");
        BenchArgs::try_parse_from(argv.split_whitespace()).unwrap()
    }

    #[test]
    fn the_drop_program_drops_every_generated_frame() {
        for (threads, workers) in [(1, 0), (3, 0), (2, 2)] {
            let a = args(&format!(
                "--prog {TESTDATA}/p1_drop.ustore.bin --frames 1000 --flows 7 --threads {threads} --workers {workers}"
            ));
            let r = run(&a).unwrap();
            assert_eq!(r.packets, 1000);
            assert_eq!(
                r.verdicts,
                [0, 1000, 0, 0],
                "{threads} threads, {workers} workers"
            );
            assert!(r.insns_per_packet() > 10.0, "{}", r.insns_per_packet());
            assert_eq!(r.prog_len, 26);
            let j = r.json();
            assert!(j.starts_with("{\"packets\":1000,\"seconds\":"), "{j}");
            for key in ["\"mpps\":", "\"ns_per_packet\":", "\"insns_per_packet\":"] {
                assert!(j.contains(key), "{j}");
            }
            assert!(
                j.contains("\"verdicts\":{\"PASS\":0,\"DROP\":1000,\"TX\":0,\"ABORTED\":0}"),
                "{j}"
            );
        }
    }

    #[test]
    fn a_replayed_capture_gets_the_program_verdict_per_frame() {
        use pcap_file::pcap::{PcapPacket, PcapWriter};
        // p2_byte drops frames whose first byte is 0xff and passes the
        // others: 3 of every 5 frames of this file.
        let path = std::env::temp_dir().join(format!("nfp-emu-bench-{}.pcap", std::process::id()));
        {
            let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
            for k in 0..5u8 {
                let mut f = crate::ports::gen_frame(64, u32::from(k));
                f[0] = if k < 3 { 0xff } else { 0x02 };
                w.write_packet(&PcapPacket::new(Duration::ZERO, 64, &f))
                    .unwrap();
            }
        }
        for (threads, workers) in [(1, 0), (2, 1)] {
            let a = args(&format!(
                "--prog {TESTDATA}/p2_byte.ustore.bin --pcap {} --loop 40 --threads {threads} --workers {workers}",
                path.display()
            ));
            let r = run(&a).unwrap();
            assert_eq!(r.packets, 200);
            assert_eq!(r.verdicts, [80, 120, 0, 0]);
            assert!(r.source.starts_with("pcap:"), "{}", r.source);
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn bad_arguments_and_images_are_refused_clearly() {
        let e = BenchArgs::try_parse_from(["bench", "--prog", "x", "--exec", "warp"]).unwrap_err();
        assert!(e.to_string().contains("unknown executor \"warp\""), "{e}");
        assert!(BenchArgs::try_parse_from(["bench", "--prog", "x", "--threads", "0"]).is_err());
        assert!(
            BenchArgs::try_parse_from(["bench", "--prog", "x", "--pcap", "f", "--size", "64"])
                .is_err()
        );
        let missing = run(&args("--prog /nonexistent/image.bin")).unwrap_err();
        assert!(matches!(missing, BenchError::Read { .. }), "{missing}");
        let empty = std::env::temp_dir().join(format!("nfp-emu-empty-{}.bin", std::process::id()));
        std::fs::write(&empty, b"").unwrap();
        let e = run(&args(&format!("--prog {}", empty.display()))).unwrap_err();
        assert!(matches!(e, BenchError::Image { .. }), "{e}");
        let _ = std::fs::remove_file(empty);
    }
}
