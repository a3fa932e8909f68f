//! One nfp-vm guest from start to stop: nfp-emu processes (one per card),
//! QEMU in the host tool root, the console channels, the timeout, and a
//! teardown that leaves no process behind on any path.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::console::{self, GuestStatus, SharedStatus};
use crate::hostroot::{self, Bind, Group};
use crate::images::Images;
use crate::qemu::{self, Console, QemuSpec};

/// What the guest does once booted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Run this script (a path relative to the shared directory) as root,
    /// then power off.
    Run { script: String },
    /// An interactive root shell on the serial console.
    Shell,
}

#[derive(Clone, Debug)]
pub struct VmSpec {
    pub images: Images,
    pub mode: Mode,
    /// Host directory mounted in the guest at /mnt/host.
    pub share: Option<PathBuf>,
    /// Wall-clock limit from start to the script's exit status.
    pub timeout: Option<Duration>,
    pub cards: u32,
    pub cpus: u32,
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
    Timeout { booted: bool, after: Duration },
    /// QEMU or nfp-emu failed or stopped before the guest reported a status.
    BootFailure(String),
    /// nfp-vm got SIGINT, SIGTERM or SIGHUP.
    Interrupted,
}

impl Outcome {
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

/// The processes of a running VM. Dropping it stops them all.
struct Processes {
    emus: Vec<(String, Child)>,
    qemu: Option<Child>,
    saved_tty: Option<libc::termios>,
}

impl Processes {
    fn stop(&mut self) {
        // QEMU first (its vfio-user clients disconnect), then the cards.
        if let Some(q) = self.qemu.as_mut() {
            terminate(q);
        }
        for (_, e) in &mut self.emus {
            terminate(e);
        }
        if let Some(t) = self.saved_tty.take() {
            // SAFETY: restoring attributes saved from the same fd.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &t);
            }
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGTERM, a short grace period, then SIGKILL; always reaps the child.
fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: kill() on our own child's pid.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

fn stdio_file(path: &Path) -> anyhow::Result<Stdio> {
    let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Stdio::from(f))
}

/// Boot the VM described by `spec` and wait for it to finish.
pub fn run(spec: &VmSpec) -> anyhow::Result<Outcome> {
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

    let start = Instant::now();
    let run = &spec.run_dir;
    let mut procs = Processes {
        emus: Vec::new(),
        qemu: None,
        saved_tty: None,
    };

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
            .args(spec.emu_args.iter().map(|a| {
                a.replace("@CARD@", &i.to_string())
                    .replace("@RUN@", &run.display().to_string())
            }))
            .stdin(Stdio::null())
            .stdout(stdio_file(&log)?)
            .stderr(stdio_file(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", spec.emu_bin.display()))?;
        procs.emus.push((log.display().to_string(), child));
        sockets.push(sock);
    }
    for (i, sock) in sockets.iter().enumerate() {
        let path = run.join(sock);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            let (log, child) = &mut procs.emus[i];
            if let Ok(Some(st)) = child.try_wait() {
                return Ok(Outcome::BootFailure(format!(
                    "nfp-emu for card {i} exited ({}) before listening; its log {log}:\n{}",
                    describe(st),
                    tail(Path::new(log), 20)
                )));
            }
            if Instant::now() > deadline {
                return Ok(Outcome::BootFailure(format!(
                    "nfp-emu for card {i} did not create {} within 10 s",
                    path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    // Console channels.
    let status = SharedStatus::default();
    let (console, script_socket, mut readers) = match &spec.mode {
        Mode::Run { .. } => {
            let c = std::os::unix::net::UnixListener::bind(run.join("console.sock"))?;
            let s = std::os::unix::net::UnixListener::bind(run.join("script.sock"))?;
            let readers = vec![
                console::spawn_log_copier(c, File::create(run.join("console.log"))?),
                console::spawn_script_reader(
                    s,
                    File::create(run.join("script.log"))?,
                    spec.echo,
                    status.clone(),
                ),
            ];
            (
                Console::Socket("console.sock".into()),
                Some("script.sock".to_string()),
                readers,
            )
        }
        Mode::Shell => (Console::Stdio, None, Vec::new()),
    };

    let kernel_args = vec![match &spec.mode {
        Mode::Run { script } => format!("nfpvm.mode=run nfpvm.script={script}"),
        Mode::Shell => "nfpvm.mode=shell".to_string(),
    }];
    let run_id = run
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let qspec = QemuSpec {
        name: format!("nfp-vm:{run_id}"),
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
    procs.qemu = Some(cmd.spawn().context("starting QEMU in the host tool root")?);

    let outcome = wait(spec, &mut procs, &status, &interrupted, start, &qemu_log);
    procs.stop();
    // Readers end at EOF once QEMU is gone; collect their last lines.
    for r in readers.drain(..) {
        let _ = r.join();
    }
    let outcome = match outcome {
        // QEMU stopped but the status line may have arrived just after.
        Outcome::BootFailure(why) => match status.lock().expect("status").exit {
            Some(c) => Outcome::Exited(c),
            None => Outcome::BootFailure(why),
        },
        o => o,
    };
    Ok(outcome)
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
    loop {
        if interrupted.load(Ordering::Relaxed) {
            return Outcome::Interrupted;
        }
        let st: GuestStatus = *status.lock().expect("status");
        let qemu = procs.qemu.as_mut().expect("qemu started");
        if let Ok(Some(qs)) = qemu.try_wait() {
            if let Some(c) = st.exit {
                return Outcome::Exited(c);
            }
            if spec.mode == Mode::Shell {
                return Outcome::Exited(0);
            }
            return Outcome::BootFailure(format!(
                "QEMU stopped ({}) before the guest reported the script's exit status; \
                 QEMU log {}:\n{}\nlast console lines ({}):\n{}",
                describe(qs),
                qemu_log.display(),
                tail(qemu_log, 10),
                spec.run_dir.join("console.log").display(),
                tail(&spec.run_dir.join("console.log"), 15)
            ));
        }
        for (i, (log, emu)) in procs.emus.iter_mut().enumerate() {
            if let Ok(Some(es)) = emu.try_wait() {
                if st.exit.is_none() {
                    return Outcome::BootFailure(format!(
                        "nfp-emu for card {i} stopped ({}) while the guest was running; its log {log}:\n{}",
                        describe(es),
                        tail(Path::new(log), 20)
                    ));
                }
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
