//! `nfp-emu`: serve one emulated Agilio CX (NFP-4000) card on a vfio-user
//! socket for QEMU's `-device vfio-user-pci`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use nfp_emu::counters::{Counters, Filter, Snapshot};
use nfp_emu::fp::FpConfig;
use nfp_emu::fp::exec::ExecutorKind;
use nfp_emu::nsp::board::{BoardConfig, BoardError};
use nfp_emu::ports::{self, PortError, PortSpec};
use nfp_emu::{Card, CardConfig};

/// Emulated Netronome Agilio CX (NFP-4000) SmartNIC, served over vfio-user.
///
/// Attach it to QEMU with
/// `-device '{"driver":"vfio-user-pci","socket":{"type":"unix","path":"SOCKET"}}'`
/// and a shared memory backend (`-object memory-backend-memfd,...,share=on`).
/// The process exits when QEMU disconnects.
///
/// `nfp-emu bench --prog IMAGE ...` instead runs a microcode image on a
/// card's datapath in-process and measures it (`nfp-emu bench --help`).
#[derive(Debug, Parser)]
#[command(name = "nfp-emu", version)]
struct Args {
    /// Path of the vfio-user UNIX socket to listen on. A stale socket file
    /// left by a dead server is replaced.
    #[arg(long, value_name = "PATH")]
    socket: PathBuf,

    /// Card serial number, six bytes as `xx:xx:xx:xx:xx:xx` (PCIe DSN bits
    /// 63:16). Give each card of a VM its own.
    #[arg(long, value_name = "SERIAL", default_value = "00:15:4d:00:00:01", value_parser = parse_serial)]
    serial: [u8; 6],

    /// NFFW firmware image to store in the card's flash. The card loads it at
    /// power-on, so the driver finds application firmware already running
    /// (FW_LOADED) and FW_STORED can reload it after a soft reset. The image
    /// is checked first; a bad one is refused with the reason.
    #[arg(long, value_name = "FILE")]
    firmware: Option<PathBuf>,

    /// The board and its port mode, ASSEMBLY[:MODE]: AMDA0099-0001 (Agilio
    /// CX 2x25GbE: 2x25, 2x10, 1x10_1x25), AMDA0096-0001 (CX 2x10GbE: 2x10),
    /// AMDA0081-0001 (CX 1x40GbE: 1x40, 4x10), AMDA0097-0001 (CX 2x40GbE:
    /// 2x40, 4x10_1x40, 8x10); the first mode is the default. hwinfo, the
    /// ETH table and so the firmware file the driver asks for
    /// (netronome/nic_<ASSEMBLY>_<MODE>.nffw) follow.
    #[arg(long, value_name = "ASSEMBLY[:MODE]", default_value = "AMDA0099-0001", value_parser = parse_board_spec)]
    board: String,

    /// Ports in use: the first N ports of the board's mode (default: all);
    /// the ETH table and the firmware file name follow (e.g. --ports 1 on
    /// the AMDA0099-0001: nic_AMDA0099-0001_1x25.nffw).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=8))]
    ports: Option<u8>,

    /// What is plugged into physical port N: `N=loop:P` (a cable to port P
    /// of this card), `N=udp:LOCALHOST:LPORT@REMOTEHOST:RPORT` (one frame per
    /// datagram, like QEMU's -netdev dgram), `N=tap:IFNAME` (a host tap
    /// device), `N=pcap:FILE[,loop=K][,rate=PPS]` (the frames of a pcap or
    /// pcapng file replayed K times, 0: forever, as fast as possible or at
    /// PPS frames/s), `N=gen:[size=B][,count=N][,flows=F][,rate=PPS]`
    /// (generated IPv4/UDP frames of B bytes over F flows) or `N=none`.
    /// Repeat for each port; unlisted ports have no cable (link down).
    #[arg(long = "port", value_name = "N=SPEC", value_parser = parse_port)]
    port: Vec<(usize, PortSpec)>,

    /// Cable the card's ports to each other in pairs (0 with 1, 2 with 3,
    /// ...), except those given a --port; an odd last port stays unplugged.
    /// nfp-vm's default.
    #[arg(long)]
    loop_pairs: bool,

    /// Write every port's received and transmitted frames to
    /// DIR/portN-rx.pcap and DIR/portN-tx.pcap.
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,

    /// Host worker threads of the flow processor, which runs offloaded BPF
    /// programs (default: the host's cores); 0: no workers, each packet
    /// runs to completion on the thread that receives it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=256))]
    fp_threads: Option<u16>,

    /// Microengines of the flow processor (4 contexts each); packets of one
    /// flow always run on the same ME, so they leave in order.
    #[arg(long, value_name = "N", default_value_t = nfp_emu::fp::DEFAULT_MES as u16,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    fp_mes: u16,

    /// How offloaded programs run: `jit` translates each program to host
    /// code when it is loaded (its first packets run interpreted until
    /// the translation is ready), `interp` interprets every instruction.
    /// --trace-prog always interprets. The default is `jit`; `interp` is
    /// the reference it is tested against.
    #[arg(long, value_name = "EXEC", default_value_t = ExecutorKind::default())]
    fp_exec: ExecutorKind,

    /// Trace every instruction an offloaded program executes, disassembled,
    /// with each packet's entry and verdict (tracing target
    /// nfp_emu::fp::trace at trace level). Slow: for debugging.
    #[arg(long)]
    trace_prog: bool,

    /// Write each BPF image the driver loads into DIR, raw
    /// (vNIC<port>-prog<N>.bin) and disassembled (.dis.txt).
    #[arg(long, value_name = "DIR")]
    bpf_dump: Option<PathBuf>,

    /// Keep FILE updated (every second) with the flow processor's
    /// counters (packets, instructions and aborts per ME and context,
    /// packets per worker thread) and each vNIC's BPF verdict and program
    /// counters: one `name value` line per counter that is not zero, names
    /// as in docs/counters.md.
    #[arg(long, value_name = "FILE")]
    fp_stats: Option<PathBuf>,

    /// Time every packet the flow processor runs with the cost model of
    /// docs/timing.md and write one JSON object per line per packet to
    /// FILE, with the keys port, vnic, prog (the program's load number, as
    /// in --bpf-dump names), frame_len, frame_crc32 (zlib CRC-32 of the
    /// frame as it arrived from the wire), frame_hex, verdict
    /// (PASS/DROP/TX/ABORTED), insns (program instructions), prog_cycles,
    /// fw_cycles and cycles (ME cycles the packet occupies). Records are
    /// written by a thread of their own; if it falls behind, packets wait
    /// for it rather than go unrecorded. Metered packets run on the
    /// interpreter.
    #[arg(long, value_name = "FILE")]
    timing: Option<PathBuf>,

    /// Profile every loaded program per instruction (execution count,
    /// cycles and the disassembly per address, helper calls, latency not
    /// hidden) and keep FILE (JSON) and FILE with extension .txt (tables,
    /// hottest instruction first) updated every second, with each
    /// program's cycles per packet and estimated packet rate on a real
    /// Agilio CX and its bottleneck. Implies timing.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,

    /// Serve a JSON monitor on the UNIX socket PATH, in QMP's style
    /// (docs/monitor.md): a greeting, then one JSON request per line,
    /// `{"execute": NAME, "arguments": {...}}`, answered by one line
    /// `{"return": ...}` or `{"error": {"class": ..., "desc": ...}}`.
    /// Commands: query-counters, reset-counters, query-card,
    /// query-programs, query-maps, dump-map, trace-start, trace-stop (the
    /// NFP instructions each packet ran, to a file), pcap-start, pcap-stop
    /// (a port's frames, to a pcap file), query-commands, query-version.
    /// `nfp-ctl PATH` is its command-line client. The data path never
    /// waits for it.
    #[arg(long, value_name = "PATH")]
    monitor: Option<PathBuf>,

    /// EMEM size (the card's DRAM), e.g. 2G (the Agilio CX's, default) or
    /// 256M: a multiple of 1 MiB from 16M to 4G. The emulator's memory model
    /// never holds more than the card's memories (docs/memory.md), so this
    /// bounds what a guest can make nfp-emu allocate.
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    emem_size: u64,

    /// More log output: -v info, -vv debug (every unimplemented register
    /// access), -vvv trace. RUST_LOG overrides, e.g. RUST_LOG=nfp_emu::pcie=debug.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// `--board`, checked on its own (`--ports` is checked with it in `main`).
fn parse_board_spec(s: &str) -> Result<String, BoardError> {
    BoardConfig::parse(s, None).map(|_| s.to_string())
}

/// Each port's cable: the --port given for it, else with --loop-pairs a
/// loop to its pair partner (2k with 2k + 1) when that has no --port
/// either, else none.
fn cabling(given: &[Option<PortSpec>], loop_pairs: bool) -> Vec<PortSpec> {
    let n = given.len();
    (0..n)
        .map(|p| match &given[p] {
            Some(spec) => spec.clone(),
            None if loop_pairs && (p ^ 1) < n && given[p ^ 1].is_none() => PortSpec::Loop(p ^ 1),
            None => PortSpec::None,
        })
        .collect()
}

/// The counters `--fp-stats` writes (docs/counters.md): the flow
/// processor's, and each vNIC's BPF verdict counters and program counters.
const FP_STATS: [&str; 3] = ["fp", "vnic*.bpf_*", "vnic*.prog"];
/// The first line of the `--fp-stats` file.
const FP_STATS_HEADER: &str =
    "# nfp-emu counters fp, vnic*.bpf_*, vnic*.prog (docs/counters.md); zeros left out\n";

/// The `--fp-stats` file's text: `snap` refreshed from `card`'s counter
/// surface under `filter`, after the header.
fn fp_stats_text(card: &impl Counters, filter: &Filter, snap: &mut Snapshot) -> String {
    snap.refresh(card, filter);
    format!("{FP_STATS_HEADER}{snap}")
}

/// `--port N=SPEC`; the backends' syntax lives with the backends.
fn parse_port(s: &str) -> Result<(usize, PortSpec), PortError> {
    ports::parse_assignment(s)
}

/// A size in bytes with an optional K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, shift) = match s.trim().as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|e| format!("bad size {s:?}: {e}"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} is too large"))
}

fn parse_serial(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(format!("expected 6 colon-separated bytes, got {s:?}"));
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).map_err(|e| format!("bad byte {p:?} in {s:?}: {e}"))?;
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    if std::env::args_os().nth(1).is_some_and(|a| a == "bench") {
        std::process::exit(nfp_emu::bench::main(std::env::args_os().skip(1)));
    }
    let args = Args::parse();
    let _log = nfp_emu::logging::init(args.verbose, args.trace_prog);
    let flash_firmware = match &args.firmware {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let board = BoardConfig::parse(&args.board, args.ports.map(usize::from))?;
    let n = board.ports.len();
    let mut given: Vec<Option<PortSpec>> = vec![None; n];
    for (p, spec) in args.port {
        let slot = given.get_mut(p).ok_or_else(|| {
            anyhow::anyhow!(
                "--port {p}: the card has {n} port(s) ({} {})",
                board.board.assembly,
                board.mode()
            )
        })?;
        *slot = Some(spec);
    }
    let cabling = cabling(&given, args.loop_pairs);
    for dir in [&args.pcap, &args.bpf_dump].into_iter().flatten() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut fp = FpConfig {
        mes: usize::from(args.fp_mes),
        trace: args.trace_prog,
        exec: args.fp_exec,
        ..FpConfig::default()
    };
    if let Some(n) = args.fp_threads {
        fp.threads = usize::from(n);
    }
    let card = Card::new(&CardConfig {
        serial: args.serial,
        board,
        cabling,
        pcap_dir: args.pcap,
        flash_firmware,
        fp,
        bpf_dump: args.bpf_dump,
        emem_size: args.emem_size,
    })?;
    tracing::info!(
        target: "nfp_emu::app",
        "card memories: {} MiB EMEM; the model never holds more than {} MiB",
        args.emem_size >> 20,
        card.memory_bound() >> 20
    );
    let timing = card.datapath().timing().clone();
    if let Some(path) = &args.timing {
        card.datapath()
            .start_timing_records(path)
            .context("--timing")?;
    }
    if args.profile.is_some() {
        timing.set_profiling(true);
    }
    card.start();
    let card = Arc::new(card);
    // The timing files are complete when nfp-emu leaves: at the end of
    // serving, and on SIGTERM/SIGINT/SIGHUP (nfp-vm stops cards so).
    let finish = {
        let (timing, profile) = (timing.clone(), args.profile.clone());
        move || finish_timing(&timing, profile.as_deref())
    };
    if args.timing.is_some() || args.profile.is_some() {
        let finish = finish.clone();
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGHUP,
        ])
        .context("installing signal handlers")?;
        std::thread::Builder::new()
            .name("timing-exit".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    finish();
                    std::process::exit(128 + sig);
                }
            })
            .context("starting the signal thread")?;
    }
    if let Some(path) = args.profile.clone() {
        let timing = timing.clone();
        std::thread::Builder::new()
            .name("profile".into())
            .spawn(move || {
                loop {
                    if let Err(e) = timing.write_files(&path) {
                        tracing::warn!(target: "nfp_emu::fp::timing", "cannot write {}: {e}", path.display());
                    }
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })
            .context("starting the profile thread")?;
    }
    if let Some(path) = args.fp_stats {
        let card = card.clone();
        std::thread::Builder::new()
            .name("fp-stats".into())
            .spawn(move || {
                let filter = Filter::new(FP_STATS);
                let mut snap = Snapshot::take(&*card, &filter);
                loop {
                    let text = fp_stats_text(&*card, &filter, &mut snap);
                    let tmp = path.with_extension("tmp");
                    if std::fs::write(&tmp, text).is_ok() {
                        let _ = std::fs::rename(&tmp, &path);
                    }
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })
            .context("starting the fp-stats thread")?;
    }
    // Kept until nfp-emu leaves, when it removes the socket.
    let _monitor = match &args.monitor {
        Some(path) => {
            Some(nfp_emu::monitor::Monitor::start(path, card.clone()).context("--monitor")?)
        }
        None => None,
    };
    let served = nfp_emu::vfio::serve(&args.socket, card)
        .with_context(|| format!("serving {}", args.socket.display()));
    finish();
    served
}

/// Write what is pending of the timing records, and the profile files a
/// last time.
fn finish_timing(timing: &nfp_emu::fp::timing::Timing, profile: Option<&std::path::Path>) {
    // A guard only: the writer normally drains in milliseconds.
    if let Some(r) = timing.records() {
        if !r.sync(std::time::Duration::from_secs(30)) {
            tracing::warn!(target: "nfp_emu::fp::timing", "timing records not all written at exit");
        }
    }
    if let Some(path) = profile {
        if let Err(e) = timing.write_files(path) {
            tracing::warn!(target: "nfp_emu::fp::timing", "cannot write {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_parsing() {
        assert_eq!(
            parse_serial("00:15:4d:00:00:02"),
            Ok([0, 0x15, 0x4d, 0, 0, 2])
        );
        assert!(parse_serial("00:15:4d").is_err());
        assert!(parse_serial("00:15:4d:00:00:zz").is_err());
    }

    #[test]
    fn port_parsing() {
        assert_eq!(parse_port("1=loop:0").ok(), Some((1, PortSpec::Loop(0))));
        assert!(parse_port("loop:0").is_err());
        assert!(parse_port("x=loop:0").is_err());
    }

    #[test]
    fn loop_pairs_cable_what_no_port_option_names() {
        use PortSpec::{Loop, None as Unplugged};
        assert_eq!(cabling(&vec![None; 2], true), [Loop(1), Loop(0)]);
        assert_eq!(cabling(&vec![None; 2], false), [Unplugged, Unplugged]);
        assert_eq!(cabling(&[None], true), [Unplugged]);
        assert_eq!(
            cabling(&vec![None; 5], true),
            [Loop(1), Loop(0), Loop(3), Loop(2), Unplugged]
        );
        let tap = PortSpec::Tap("t0".into());
        assert_eq!(
            cabling(&[Some(tap.clone()), None, None, None], true),
            [tap, Unplugged, Loop(3), Loop(2)]
        );
    }

    #[test]
    fn board_parsing() {
        let a = Args::try_parse_from(["nfp-emu", "--socket", "s"]).unwrap();
        assert_eq!(a.board, "AMDA0099-0001");
        assert_eq!(a.ports, None);
        let a = Args::try_parse_from(["nfp-emu", "--socket", "s", "--board", "AMDA0097-0001:8x10"])
            .unwrap();
        assert_eq!(BoardConfig::parse(&a.board, None).unwrap().ports.len(), 8);
        for bad in ["AMDA0058-0011", "AMDA0099-0001:2x40", "x"] {
            assert!(
                Args::try_parse_from(["nfp-emu", "--socket", "s", "--board", bad]).is_err(),
                "{bad}"
            );
        }
        assert!(Args::try_parse_from(["nfp-emu", "--socket", "s", "--ports", "9"]).is_err());
    }

    #[test]
    fn fp_stats_selects_the_flow_processor_and_bpf_counters() {
        let f = Filter::new(FP_STATS);
        for name in [
            "fp.me3.ctx2.instructions",
            "fp.worker1.packets",
            "vnic0.bpf_app1_pkts",
            "vnic1.prog.faults",
        ] {
            assert!(f.matches(name), "{name}");
        }
        for name in ["port0.mac.rx_octets", "vnic0.dev_rx_pkts", "dma.errors"] {
            assert!(!f.matches(name), "{name}");
        }
    }

    /// The file is the counter surface's snapshot: what the card's blocks
    /// visit, filtered, zeros left out, refreshed on every write.
    #[test]
    fn fp_stats_text_comes_from_the_counter_surface() {
        use std::sync::atomic::{AtomicU64, Ordering};
        struct Surface(AtomicU64);
        impl Counters for Surface {
            fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
                visit("port0.mac.rx_octets", 640);
                visit("vnic0.bpf_app1_pkts", self.0.load(Ordering::Relaxed));
                visit("vnic0.prog.loads", 1);
                visit("fp.me3.ctx2.packets", 0);
                visit("fp.worker0.packets", self.0.load(Ordering::Relaxed));
            }
        }
        let card = Surface(AtomicU64::new(7));
        let filter = Filter::new(FP_STATS);
        let mut snap = Snapshot::take(&card, &filter);
        card.0.store(9, Ordering::Relaxed);
        assert_eq!(
            fp_stats_text(&card, &filter, &mut snap),
            format!(
                "{FP_STATS_HEADER}vnic0.bpf_app1_pkts  9\nvnic0.prog.loads     1\nfp.worker0.packets   9\n"
            )
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
