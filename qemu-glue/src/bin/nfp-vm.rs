//! `nfp-vm`: boot a Debian guest under QEMU with emulated Agilio CX cards and
//! run a script or a shell in it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use qemu_glue::images::Images;
use qemu_glue::vm::{self, Mode, Outcome, VmSpec};

/// Boot a guest with emulated Netronome Agilio CX (NFP-4000) cards.
///
/// QEMU (TCG) runs from the host tool root and each card is an `nfp-emu`
/// process attached with `-device vfio-user-pci`. Build the images first with
/// `images/build`. Exit status: the script's own status, or
/// 124 = timeout, 125 = the VM failed to start or stopped before the script
/// finished, 130 = interrupted.
#[derive(Debug, Parser)]
#[command(name = "nfp-vm", version, args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Boot, run SCRIPT as root in the guest, power off; exit with its status.
    Run {
        /// Host directory mounted in the guest at /mnt/host (read-write).
        #[arg(long, value_name = "DIR")]
        share: PathBuf,
        /// Script to run, relative to DIR; its working directory is /mnt/host.
        #[arg(long, value_name = "PATH")]
        script: String,
        /// Give up after SECS seconds from start (boot included).
        #[arg(long, value_name = "SECS", default_value_t = 900)]
        timeout: u64,
        /// Do not echo the script's output (it is still saved to script.log).
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Boot with an interactive root shell on the serial console. Leave with
    /// `exit` (powers the guest off) or Ctrl-A X (quits QEMU).
    Shell {
        /// Host directory mounted in the guest at /mnt/host (read-write).
        #[arg(long, value_name = "DIR")]
        share: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// Number of emulated cards.
    #[arg(long, value_name = "N", default_value_t = 1)]
    cards: u32,
    /// Guest CPUs.
    #[arg(long, value_name = "N", default_value_t = 2)]
    cpus: u32,
    /// Guest memory in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    memory: u32,
    /// Image cache directory [default: $NFP_EMU_CACHE, else ~/.cache/nfp-emu].
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Guest kernel variant built by `images/build --kernel NAME` (trixie,
    /// bookworm, trixie-backports) [default: $NFP_EMU_KERNEL, else trixie,
    /// the default guest].
    #[arg(long, value_name = "NAME")]
    kernel: Option<String>,
    /// The nfp-emu binary [default: next to nfp-vm].
    #[arg(long, value_name = "PATH")]
    emu: Option<PathBuf>,
    /// What is plugged into port N of every card, as nfp-emu --port takes it
    /// (loop:P, udp:LOCAL@REMOTE, tap:IF, pcap:FILE[,loop=K][,rate=PPS],
    /// gen:[size=B][,count=N][,flows=F][,rate=PPS], none). Without any --port,
    /// each card's ports are cabled to each other in pairs, 0 with 1, 2 with 3
    /// and so on, whatever the board (nfp-emu --loop-pairs).
    // The comment is clap's help text; `[,rate=PPS]` is not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long = "port", value_name = "N=SPEC")]
    ports: Vec<String>,
    /// Record every port's traffic as pcap files in DIR/nfpK/ (card K).
    #[arg(long, value_name = "DIR")]
    pcap: Option<PathBuf>,
    /// Time and profile every packet each card's flow processor runs, with
    /// the cost model of docs/timing.md: the run directory gets timingK.jsonl
    /// (one JSON record per packet of card K) and profileK.json/.txt
    /// (per-instruction profiles, cycles per packet and the estimated packet
    /// rate of a real card, per program).
    #[arg(long)]
    timing: bool,
    /// Extra argument for every nfp-emu (repeat for several), e.g. --emu-arg=-vv.
    #[arg(long = "emu-arg", value_name = "ARG", allow_hyphen_values = true)]
    emu_args: Vec<String>,
    /// Directory for this run's sockets and logs (created; must not exist
    /// or be empty) [default: a new directory under $NFP_VM_RUN_BASE, else
    /// $TMPDIR/nfp-vm].
    #[arg(long, value_name = "DIR")]
    run_dir: Option<PathBuf>,
}

fn emu_bin(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let me = std::env::current_exe().context("locating nfp-vm")?;
    Ok(me.with_file_name("nfp-emu"))
}

/// nfp-emu arguments for the cabling and pcap options.
fn emu_args(
    ports: &[String],
    pcap: Option<&std::path::Path>,
    extra: Vec<String>,
) -> anyhow::Result<Vec<String>> {
    let mut a: Vec<String> = Vec::new();
    if ports.is_empty() {
        a.push("--loop-pairs".into());
    }
    for p in ports {
        a.push(format!("--port={p}"));
    }
    if let Some(dir) = pcap {
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        a.push(format!("--pcap={}/nfp@CARD@", dir.display()));
    }
    a.extend(extra);
    Ok(a)
}

fn spec(
    mode: Mode,
    share: Option<PathBuf>,
    timeout: Option<u64>,
    echo: bool,
    c: Common,
) -> anyhow::Result<VmSpec> {
    if c.cards == 0 || c.cards > 8 {
        anyhow::bail!("--cards must be between 1 and 8");
    }
    let mut c = c;
    if c.timing {
        c.emu_args.extend([
            "--timing=@RUN@/timing@CARD@.jsonl".to_owned(),
            "--profile=@RUN@/profile@CARD@.json".to_owned(),
        ]);
    }
    Ok(VmSpec {
        images: Images::new(c.cache).with_kernel(c.kernel)?,
        mode,
        share: share.map(|s| s.canonicalize().unwrap_or(s)),
        timeout: timeout.map(Duration::from_secs),
        cards: c.cards,
        cpus: c.cpus.max(1),
        memory_mib: c.memory.max(256),
        emu_bin: emu_bin(c.emu)?,
        emu_args: emu_args(&c.ports, c.pcap.as_deref(), c.emu_args)?,
        run_dir: match c.run_dir {
            Some(d) => vm::given_run_dir(&d)?,
            None => vm::new_run_dir()?,
        },
        echo,
    })
}

fn main() {
    let cli = Cli::parse();
    let spec = match cli.cmd {
        Cmd::Run {
            share,
            script,
            timeout,
            quiet,
            common,
        } => spec(
            Mode::Run { script },
            Some(share),
            Some(timeout),
            !quiet,
            common,
        ),
        Cmd::Shell { share, common } => spec(Mode::Shell, share, None, false, common),
    };
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nfp-vm: {e:#}");
            std::process::exit(2);
        }
    };
    let run_dir = spec.run_dir.display().to_string();
    if spec.mode != Mode::Shell {
        eprintln!("nfp-vm: console log: {run_dir}/console.log (logs of this run in {run_dir})");
    }
    for card in 0..spec.cards {
        eprintln!(
            "nfp-vm: card {card} monitor: {} (nfp-ctl SOCKET counters|watch|programs|maps)",
            vm::monitor_socket(&spec.run_dir, card).display()
        );
    }
    let report = match vm::run(&spec) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nfp-vm: {e:#}");
            std::process::exit(qemu_glue::EXIT_BOOT_FAILURE);
        }
    };
    for card in &report.cards {
        eprintln!("nfp-vm: {}", card.summary());
    }
    let outcome = report.outcome;
    match &outcome {
        Outcome::Exited(c) if spec.mode != Mode::Shell => {
            eprintln!("nfp-vm: script exited with status {c}");
        }
        Outcome::Exited(_) => {}
        Outcome::Timeout { booted, after } => eprintln!(
            "nfp-vm: timeout: {} within {} s; stopped the VM (logs in {run_dir})",
            if *booted {
                "the script did not finish"
            } else {
                "the guest did not boot"
            },
            after.as_secs()
        ),
        Outcome::BootFailure(why) => eprintln!("nfp-vm: VM failure: {why}"),
        Outcome::Interrupted => eprintln!("nfp-vm: interrupted; stopped the VM"),
    }
    std::process::exit(outcome.exit_code());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
