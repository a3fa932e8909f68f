//! One nfp-vm guest from start to stop: nfp-emu processes (one per card),
//! QEMU in the host tool root, the console channels, the timeout, and a
//! teardown that leaves no process behind on any path.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::console::{self, GuestStatus, SharedStatus};
use crate::hostroot::{self, Bind, Group};
use crate::images::Images;
use crate::proc::{Ended, Proc, describe, status_word};
use crate::qemu::{self, Console, QemuSpec};

/// How long nfp-vm waits for an nfp-emu to create its socket: a guard for a
/// card that never comes up, generous because the machine may be busy.
pub const EMU_LISTEN_LIMIT: Duration = Duration::from_secs(60);

/// How long an nfp-emu gets to leave by itself once QEMU (its vfio-user
/// client) is gone, before nfp-vm terminates it; a generous guard (it
/// normally leaves within a fraction of a second).
pub const EMU_EXIT_GRACE: Duration = Duration::from_secs(20);

/// What the guest does once booted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run this script (a path relative to the shared directory) as root,
    /// then power off.
    Run {
        /// The script, relative to the shared directory.
        script: String,
    },
    /// An interactive root shell on the serial console.
    Shell,
}

/// Everything one nfp-vm run needs: the images, what the guest does, the
/// cards and the guest's size, the nfp-emu binary and where the run's
/// sockets and logs go.
#[derive(Clone, Debug)]
pub struct VmSpec {
    /// The image cache (guest kernel, root file system, host tool root) and
    /// the kernel variant to boot.
    pub images: Images,
    /// Run a script or open a shell.
    pub mode: Mode,
    /// Host directory mounted in the guest at /mnt/host.
    pub share: Option<PathBuf>,
    /// Wall-clock limit from start to the script's exit status.
    pub timeout: Option<Duration>,
    /// Number of emulated cards, one nfp-emu process and one vfio-user
    /// PCI device each.
    pub cards: u32,
    /// Guest vCPUs.
    pub cpus: u32,
    /// Guest RAM in MiB.
    pub memory_mib: u32,
    /// The `nfp-emu` binary.
    pub emu_bin: PathBuf,
    /// Extra arguments for every nfp-emu (e.g. `-vv`); `@CARD@` is replaced
    /// by the card number, `@RUN@` by the run directory.
    pub emu_args: Vec<String>,
    /// Directory for sockets and logs (see [`new_run_dir`]).
    pub run_dir: PathBuf,
    /// Echo the script's output to stdout.
    pub echo: bool,
}

/// How a VM run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script ran and exited with this status.
    Exited(i32),
    /// The timeout expired; `booted` says whether the guest had come up.
    Timeout {
        /// Whether the guest had printed `@@nfp-vm: booted`.
        booted: bool,
        /// The limit that expired.
        after: Duration,
    },
    /// QEMU or nfp-emu failed or stopped before the guest reported a status.
    BootFailure(String),
    /// nfp-vm got SIGINT, SIGTERM or SIGHUP.
    Interrupted,
}

impl Outcome {
    /// nfp-vm's exit status for this outcome: the script's own status, or
    /// [`crate::EXIT_TIMEOUT`], [`crate::EXIT_BOOT_FAILURE`],
    /// [`crate::EXIT_INTERRUPTED`].
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Exited(c) => *c,
            Outcome::Timeout { .. } => crate::EXIT_TIMEOUT,
            Outcome::BootFailure(_) => crate::EXIT_BOOT_FAILURE,
            Outcome::Interrupted => crate::EXIT_INTERRUPTED,
        }
    }
}

/// Serial number of card `i`: distinct per card so devlink switch ids differ.
pub fn card_serial(i: u32) -> String {
    format!("00:15:4d:00:{:02x}:{:02x}", (i + 1) >> 8, (i + 1) & 0xff)
}

/// A fresh run directory under `$NFP_VM_RUN_BASE` (default
/// `$TMPDIR/nfp-vm`); keeps the newest 20 runs.
pub fn new_run_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("NFP_VM_RUN_BASE")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nfp-vm"));
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    prune_runs(&base, 19);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let dir = base.join(format!("{secs}-{}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// `dir` as a run directory: created if missing, refused unless empty.
pub fn given_run_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let used = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .next()
        .is_some();
    if used {
        bail!("run directory {} is not empty", dir.display());
    }
    Ok(dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()))
}

fn prune_runs(base: &Path, keep: usize) {
    let Ok(rd) = std::fs::read_dir(base) else {
        return;
    };
    let mut dirs: Vec<(std::time::SystemTime, PathBuf)> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    dirs.sort();
    let excess = dirs.len().saturating_sub(keep);
    for (_, d) in dirs.into_iter().take(excess) {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A script path the guest init can take from the kernel command line.
fn check_script_path(script: &str) -> anyhow::Result<()> {
    let ok = !script.is_empty()
        && !script.starts_with('/')
        && script
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+,".contains(c))
        && !script.split('/').any(|p| p == "..");
    if !ok {
        bail!(
            "script path {script:?} must be relative to the shared directory, \
             without '..', and use only letters, digits and ._-/+,"
        );
    }
    Ok(())
}

/// The JSON monitor socket of card `card` in run directory `run`
/// (`nfp-emu --monitor`; `nfp-ctl SOCKET counters` reads it). Its `.sock`
/// extension has it removed with the others when the run ends.
pub fn monitor_socket(run: &Path, card: u32) -> PathBuf {
    run.join(format!("monitor{card}.sock"))
}

/// One card's nfp-emu process.
struct Card {
    log: PathBuf,
    socket: PathBuf,
    proc: Proc,
}

/// How one card's nfp-emu ended, recorded in `nfp-emu<N>.exit` in the run
/// directory (`key value` lines) once the VM has stopped.
#[derive(Clone, Debug)]
pub struct CardExit {
    /// Card number.
    pub card: u32,
    /// Exit status, who ended it and its peak resident memory.
    pub ended: Ended,
    /// How long after QEMU it ended; `None` if it ended while QEMU ran.
    pub after_qemu: Option<Duration>,
    /// Whether its vfio-user socket file was still there after it ended
    /// (nfp-vm removes it then).
    pub socket_left: bool,
}

impl CardExit {
    /// The `nfp-emu<N>.exit` file's text.
    pub fn record(&self) -> String {
        let mut r = format!(
            "card {}\nstatus {}\nended {}\nmax_rss_kib {}\nsocket {}\n",
            self.card,
            status_word(self.ended.status),
            self.ended.by.as_str(),
            self.ended.max_rss_kib,
            if self.socket_left { "left" } else { "removed" },
        );
        match self.after_qemu {
            Some(d) => r.push_str(&format!("after_qemu_ms {}\n", d.as_millis())),
            None => r.push_str("before_qemu yes\n"),
        }
        r
    }

    /// One line for nfp-vm's output.
    pub fn summary(&self) -> String {
        let when = match self.after_qemu {
            Some(d) => format!("{:.1} s after QEMU", d.as_secs_f64()),
            None => "while QEMU ran".to_string(),
        };
        format!(
            "nfp-emu of card {} ended {} ({}) {when}; peak RSS {:.1} MiB; its socket {}",
            self.card,
            self.ended.by.describe(),
            describe(self.ended.status),
            self.ended.max_rss_kib as f64 / 1024.0,
            if self.socket_left {
                "was left behind (removed now)"
            } else {
                "was removed"
            },
        )
    }
}

/// The processes of a running VM. Dropping it stops them all.
struct Processes {
    emus: Vec<Card>,
    qemu: Option<Proc>,
    saved_tty: Option<libc::termios>,
}

impl Processes {
    /// Stop everything: QEMU first (its vfio-user clients disconnect), then
    /// each nfp-emu, which gets [`EMU_EXIT_GRACE`] to leave by itself.
    /// Returns how each card ended (empty if called again).
    fn stop(&mut self) -> Vec<CardExit> {
        let qemu_end = self.qemu.as_mut().map(|q| q.terminate().at);
        let mut exits = Vec::new();
        for (i, c) in self.emus.iter_mut().enumerate() {
            let ended = match c.proc.try_wait() {
                Some(e) => e,
                None => match c.proc.wait_for(EMU_EXIT_GRACE) {
                    Some(e) => e,
                    None => c.proc.terminate(),
                },
            };
            let socket_left = c.socket.exists();
            exits.push(CardExit {
                card: u32::try_from(i).unwrap_or(u32::MAX),
                ended,
                after_qemu: qemu_end
                    .filter(|q| ended.at >= *q)
                    .map(|q| ended.at.duration_since(q)),
                socket_left,
            });
        }
        self.emus.clear();
        if let Some(t) = self.saved_tty.take() {
            // SAFETY: restoring attributes saved from the same fd.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
        exits
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop();
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn stdio_file(path: &Path) -> anyhow::Result<Stdio> {
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Stdio::from(f))
}

/// How a VM run ended, and how each card's nfp-emu did.
#[derive(Debug)]
pub struct Report {
    /// The run's outcome (nfp-vm's exit status).
    pub outcome: Outcome,
    /// One record per card, also written to `nfp-emu<N>.exit`.
    pub cards: Vec<CardExit>,
}

/// Boot the VM described by `spec` and wait for it to finish. Whatever
/// happens, no process of the VM outlives this call, each card's exit is
/// recorded in the run directory and the sockets there are removed.
pub fn run(spec: &VmSpec) -> anyhow::Result<Report> {
    spec.images.check()?;
    if let Mode::Run { script } = &spec.mode {
        check_script_path(script)?;
        let share = spec
            .share
            .as_ref()
            .context("running a script needs a shared directory")?;
        if !share.join(script).is_file() {
            bail!("script {} not found in {}", script, share.display());
        }
    }
    if let Some(share) = &spec.share {
        if !share.is_dir() {
            bail!("shared directory {} does not exist", share.display());
        }
    }
    if !spec.emu_bin.is_file() {
        bail!("nfp-emu binary not found at {}", spec.emu_bin.display());
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, interrupted.clone())?;
    }

    let mut procs = Processes {
        emus: Vec::new(),
        qemu: None,
        saved_tty: None,
    };
    let mut readers = Vec::new();
    let status = SharedStatus::default();
    let outcome = start_and_wait(spec, &mut procs, &mut readers, &status, &interrupted);
    let cards = procs.stop();
    // Readers end at EOF once QEMU is gone; collect their last lines. One
    // that QEMU never connected to still waits in accept(): connect to
    // release it.
    for (reader, path) in readers.drain(..) {
        if !reader.is_finished() {
            let _ = std::os::unix::net::UnixStream::connect(&path);
        }
        let _ = reader.join();
    }
    for c in &cards {
        let path = spec.run_dir.join(format!("nfp-emu{}.exit", c.card));
        std::fs::write(&path, c.record()).with_context(|| format!("writing {}", path.display()))?;
    }
    remove_sockets(&spec.run_dir);
    let outcome = match outcome? {
        // QEMU stopped but the status line may have arrived just after.
        Outcome::BootFailure(why) => match status.lock().expect("status").exit {
            Some(c) => Outcome::Exited(c),
            None => Outcome::BootFailure(why),
        },
        o => o,
    };
    Ok(Report { outcome, cards })
}

/// Remove the UNIX sockets left in a run directory whose processes have
/// ended (a card killed with SIGKILL cannot remove its own).
fn remove_sockets(run: &Path) {
    let Ok(rd) = std::fs::read_dir(run) else {
        return;
    };
    for e in rd.flatten() {
        if e.path().extension().is_some_and(|x| x == "sock") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A console reader thread and the socket it listens on.
type Reader = (std::thread::JoinHandle<()>, PathBuf);

fn start_and_wait(
    spec: &VmSpec,
    procs: &mut Processes,
    readers: &mut Vec<Reader>,
    status: &SharedStatus,
    interrupted: &AtomicBool,
) -> anyhow::Result<Outcome> {
    let start = Instant::now();
    let run = &spec.run_dir;

    // The cards.
    let mut sockets = Vec::new();
    for i in 0..spec.cards {
        let sock = format!("nfp{i}.sock");
        let log = run.join(format!("nfp-emu{i}.log"));
        let child = hostroot::host_command(&spec.emu_bin, Group::Own)
            .arg("--socket")
            .arg(run.join(&sock))
            .arg("--serial")
            .arg(card_serial(i))
            // Introspection kept in the run directory: the flow
            // processor's counters and every BPF image the driver loads.
            .arg("--fp-stats")
            .arg(run.join(format!("fp-stats{i}.txt")))
            .arg("--bpf-dump")
            .arg(run.join(format!("bpf{i}")))
            // The live view: counters, programs, maps (nfp-ctl).
            .arg("--monitor")
            .arg(monitor_socket(run, i))
            .args(spec.emu_args.iter().map(|a| {
                a.replace("@CARD@", &i.to_string())
                    .replace("@RUN@", &run.display().to_string())
            }))
            .stdin(Stdio::null())
            .stdout(stdio_file(&log)?)
            .stderr(stdio_file(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", spec.emu_bin.display()))?;
        procs.emus.push(Card {
            log,
            socket: run.join(&sock),
            proc: Proc::new(child),
        });
        sockets.push(sock);
    }
    for (i, card) in procs.emus.iter_mut().enumerate() {
        let deadline = Instant::now() + EMU_LISTEN_LIMIT;
        while !card.socket.exists() {
            if let Some(e) = card.proc.try_wait() {
                return Ok(Outcome::BootFailure(format!(
                    "nfp-emu for card {i} exited ({}) before listening; its log {}:\n{}",
                    describe(e.status),
                    card.log.display(),
                    tail(&card.log, 20)
                )));
            }
            if Instant::now() > deadline {
                return Ok(Outcome::BootFailure(format!(
                    "nfp-emu for card {i} did not create {} within {} s",
                    card.socket.display(),
                    EMU_LISTEN_LIMIT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    // Console channels.
    let (console, script_socket) = match &spec.mode {
        Mode::Run { .. } => {
            let (cpath, spath) = (run.join("console.sock"), run.join("script.sock"));
            let c = std::os::unix::net::UnixListener::bind(&cpath)?;
            let s = std::os::unix::net::UnixListener::bind(&spath)?;
            readers.push((
                console::spawn_log_copier(c, File::create(run.join("console.log"))?),
                cpath,
            ));
            readers.push((
                console::spawn_script_reader(
                    s,
                    File::create(run.join("script.log"))?,
                    spec.echo,
                    status.clone(),
                ),
                spath,
            ));
            (
                Console::Socket("console.sock".into()),
                Some("script.sock".to_string()),
            )
        }
        Mode::Shell => (Console::Stdio, None),
    };

    let kernel_args = vec![match &spec.mode {
        Mode::Run { script } => format!("nfpvm.mode=run nfpvm.script={script}"),
        Mode::Shell => "nfpvm.mode=shell".to_string(),
    }];
    let qspec = QemuSpec {
        // Unique per run (the run directory's path): a run's processes can
        // be found by it (ci/lib/check.sh no_leftovers).
        name: format!("nfp-vm:{}", run.display()),
        cpus: spec.cpus,
        memory_mib: spec.memory_mib,
        card_sockets: sockets,
        console,
        script_socket,
        share: spec.share.is_some(),
        kernel_args,
    };
    let mut binds = vec![
        Bind {
            source: spec.images.guest_dir(),
            target: qemu::GUEST_DIR.into(),
            read_only: true,
        },
        Bind {
            source: run.clone(),
            target: qemu::RUN_DIR.into(),
            read_only: false,
        },
    ];
    if let Some(share) = &spec.share {
        binds.push(Bind {
            source: share.clone(),
            target: qemu::SHARE_DIR.into(),
            read_only: false,
        });
    }
    let qemu_log = run.join("qemu.log");
    let shell = spec.mode == Mode::Shell;
    let mut cmd = hostroot::root_command(
        &spec.images.host_root(),
        spec.images.qemu_in_root(),
        &binds,
        if shell { Group::Inherit } else { Group::Own },
    )?;
    cmd.args(qemu::args(&qspec)).stderr(stdio_file(&qemu_log)?);
    if shell {
        // SAFETY: tcgetattr fills a termios for fd 0; failure leaves None.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(0) == 1 && libc::tcgetattr(0, &mut t) == 0 {
                procs.saved_tty = Some(t);
            }
        }
    } else {
        cmd.stdin(Stdio::null())
            .stdout(stdio_file(&qemu_log.with_extension("out"))?);
    }
    procs.qemu = Some(Proc::new(
        cmd.spawn().context("starting QEMU in the host tool root")?,
    ));
    Ok(wait(spec, procs, status, interrupted, start, &qemu_log))
}

/// What ended a run, as far as the processes tell.
#[derive(Debug)]
enum News {
    /// The guest reported its script's status (or a shell session ended).
    Exited(i32),
    /// QEMU stopped first and no card failed.
    QemuStopped(Ended),
    /// Card `.0`'s nfp-emu stopped under the running guest.
    CardStopped(usize, Ended),
}

/// Whether a card's nfp-emu ended in failure: killed by a signal or with a
/// nonzero status (it exits 0 when its vfio-user client leaves).
fn card_failed(status: std::process::ExitStatus) -> bool {
    status.code() != Some(0)
}

/// Decide what the processes' states mean; `None` while the run goes on.
/// QEMU leaves as soon as its device does, and nfp-emu leaves (status 0)
/// when QEMU does, so which of the two was reaped first says little: a card
/// that failed is the news even when QEMU was reaped first, and a card that
/// left cleanly is the news only while QEMU still runs.
fn news(
    qemu: Option<Ended>,
    cards: &[Option<Ended>],
    guest_exit: Option<i32>,
    shell: bool,
) -> Option<News> {
    if qemu.is_some() {
        if let Some(c) = guest_exit {
            return Some(News::Exited(c));
        }
        if shell {
            return Some(News::Exited(0));
        }
    }
    if guest_exit.is_none() {
        let stopped = cards
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.map(|e| (i, e)))
            .find(|(_, e)| card_failed(e.status) || qemu.is_none());
        if let Some((i, e)) = stopped {
            return Some(News::CardStopped(i, e));
        }
    }
    qemu.map(News::QemuStopped)
}

fn wait(
    spec: &VmSpec,
    procs: &mut Processes,
    status: &SharedStatus,
    interrupted: &AtomicBool,
    start: Instant,
    qemu_log: &Path,
) -> Outcome {
    let mut exit_seen: Option<Instant> = None;
    let qemu_stopped = |qs: Ended| {
        format!(
            "QEMU stopped ({}) before the guest reported the script's exit status; \
             QEMU log {}:\n{}\nlast console lines ({}):\n{}",
            describe(qs.status),
            qemu_log.display(),
            tail(qemu_log, 10),
            spec.run_dir.join("console.log").display(),
            tail(&spec.run_dir.join("console.log"), 15)
        )
    };
    loop {
        if interrupted.load(Ordering::Relaxed) {
            return Outcome::Interrupted;
        }
        let st: GuestStatus = *status.lock().expect("status");
        let Some(qemu) = procs.qemu.as_mut() else {
            return Outcome::BootFailure("QEMU was not started".into());
        };
        let mut qemu_ended = qemu.try_wait();
        let cards: Vec<Option<Ended>> = procs.emus.iter_mut().map(|c| c.proc.try_wait()).collect();
        if qemu_ended.is_none() && cards.iter().any(Option::is_some) {
            // QEMU may have left between the two looks (nfp-vm can be
            // preempted there on a busy machine).
            qemu_ended = qemu.try_wait();
        }
        match news(qemu_ended, &cards, st.exit, spec.mode == Mode::Shell) {
            None => {}
            Some(News::Exited(c)) => return Outcome::Exited(c),
            Some(News::QemuStopped(qs)) => return Outcome::BootFailure(qemu_stopped(qs)),
            Some(News::CardStopped(i, es)) => {
                let log = &procs.emus[i].log;
                return Outcome::BootFailure(format!(
                    "nfp-emu for card {i} stopped ({}) while the guest was running; its log {}:\n{}",
                    describe(es.status),
                    log.display(),
                    tail(log, 20)
                ));
            }
        }
        if let Some(c) = st.exit {
            // The init powers off right after; give it a moment.
            let seen = *exit_seen.get_or_insert_with(Instant::now);
            if seen.elapsed() > Duration::from_secs(15) {
                return Outcome::Exited(c);
            }
        } else if let Some(limit) = spec.timeout {
            if start.elapsed() > limit {
                return Outcome::Timeout {
                    booted: st.booted.is_some(),
                    after: limit,
                };
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_paths_are_checked() {
        assert!(check_script_path("s.sh").is_ok());
        assert!(check_script_path("ci/scenarios/pci/guest.sh").is_ok());
        assert!(check_script_path("/etc/passwd").is_err());
        assert!(check_script_path("../x.sh").is_err());
        assert!(check_script_path("a b.sh").is_err());
        assert!(check_script_path("").is_err());
    }

    #[test]
    fn serials_differ_per_card() {
        assert_eq!(card_serial(0), "00:15:4d:00:00:01");
        assert_eq!(card_serial(1), "00:15:4d:00:00:02");
        assert_ne!(card_serial(255), card_serial(256));
    }

    #[test]
    fn a_given_run_dir_is_created_and_must_be_empty() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/run");
        assert_eq!(given_run_dir(&d).unwrap(), d.canonicalize().unwrap());
        std::fs::write(d.join("x"), "").unwrap();
        assert!(given_run_dir(&d).is_err());
    }

    fn ended(raw: i32) -> Option<Ended> {
        use std::os::unix::process::ExitStatusExt;
        Some(Ended {
            status: std::process::ExitStatus::from_raw(raw),
            max_rss_kib: 0,
            by: crate::proc::EndedBy::Itself,
            at: Instant::now(),
        })
    }

    #[test]
    fn a_killed_card_is_the_news_even_when_qemu_was_reaped_first() {
        // nfp-emu SIGKILLed; QEMU followed within the same poll.
        let n = news(ended(9), &[None, ended(9)], None, false);
        assert!(matches!(n, Some(News::CardStopped(1, _))), "{n:?}");
        // QEMU killed; nfp-emu left cleanly after it (exit 0).
        let n = news(ended(9), &[ended(0)], None, false);
        assert!(matches!(n, Some(News::QemuStopped(_))), "{n:?}");
        // A card that leaves cleanly while QEMU runs is the news.
        let n = news(None, &[ended(0)], None, false);
        assert!(matches!(n, Some(News::CardStopped(0, _))), "{n:?}");
        // A nonzero status (raw 256 = exit 1) is a failure.
        let n = news(ended(0), &[ended(256)], None, false);
        assert!(matches!(n, Some(News::CardStopped(0, _))), "{n:?}");
        assert!(news(None, &[None], None, false).is_none());
        // Once the guest reported, QEMU leaving ends the run normally.
        let n = news(ended(0), &[ended(9)], Some(3), false);
        assert!(matches!(n, Some(News::Exited(3))), "{n:?}");
        assert!(news(None, &[ended(9)], Some(3), false).is_none());
        let n = news(ended(0), &[None], None, true);
        assert!(matches!(n, Some(News::Exited(0))), "{n:?}");
    }

    #[test]
    fn card_exit_record_has_one_key_per_line() {
        use std::os::unix::process::ExitStatusExt;
        let mut c = CardExit {
            card: 1,
            ended: Ended {
                status: std::process::ExitStatus::from_raw(9),
                max_rss_kib: 5520,
                by: crate::proc::EndedBy::Itself,
                at: Instant::now(),
            },
            after_qemu: None,
            socket_left: true,
        };
        assert_eq!(
            c.record(),
            "card 1\nstatus signal:9\nended itself\nmax_rss_kib 5520\nsocket left\nbefore_qemu yes\n"
        );
        c.after_qemu = Some(Duration::from_millis(120));
        c.socket_left = false;
        assert!(c.record().ends_with("socket removed\nafter_qemu_ms 120\n"));
        assert!(c.summary().contains("0.1 s after QEMU"), "{}", c.summary());
    }

    #[test]
    fn monitor_sockets_are_per_card_and_removed_with_the_run() {
        let t = tempfile::tempdir().unwrap();
        let m = monitor_socket(t.path(), 1);
        assert_eq!(m, t.path().join("monitor1.sock"));
        let _l = std::os::unix::net::UnixListener::bind(&m).unwrap();
        remove_sockets(t.path());
        assert!(!m.exists());
    }

    #[test]
    fn sockets_are_removed_from_a_run_dir() {
        let t = tempfile::tempdir().unwrap();
        let _l = std::os::unix::net::UnixListener::bind(t.path().join("nfp0.sock")).unwrap();
        std::fs::write(t.path().join("nfp-emu0.log"), "x").unwrap();
        remove_sockets(t.path());
        assert!(!t.path().join("nfp0.sock").exists());
        assert!(t.path().join("nfp-emu0.log").exists());
    }

    #[test]
    fn exit_codes_are_distinct() {
        assert_eq!(Outcome::Exited(7).exit_code(), 7);
        let t = Outcome::Timeout {
            booted: true,
            after: Duration::from_secs(1),
        };
        assert_eq!(t.exit_code(), crate::EXIT_TIMEOUT);
        assert_eq!(
            Outcome::BootFailure(String::new()).exit_code(),
            crate::EXIT_BOOT_FAILURE
        );
        assert_eq!(Outcome::Interrupted.exit_code(), crate::EXIT_INTERRUPTED);
    }
}
