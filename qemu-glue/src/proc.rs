//! Child processes reaped with `wait4`, so that how each one ended (exit
//! status, whether nfp-vm had to signal it, its peak resident memory) is
//! known after the fact.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a child gets to leave after SIGTERM before SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(3);

/// How often [`Proc::wait_for`] looks at the child.
const POLL: Duration = Duration::from_millis(10);

/// What nfp-vm did to make a child end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedBy {
    /// Nothing: the child exited (or was killed by someone else) on its own.
    Itself,
    /// nfp-vm sent SIGTERM and the child left within [`TERM_GRACE`].
    Terminated,
    /// nfp-vm sent SIGKILL after SIGTERM went unanswered.
    Killed,
}

impl EndedBy {
    /// The word used in `nfp-emu<N>.exit` files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Itself => "itself",
            EndedBy::Terminated => "terminated",
            EndedBy::Killed => "killed",
        }
    }

    /// How it ended, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            EndedBy::Itself => "by itself",
            EndedBy::Terminated => "on nfp-vm's SIGTERM",
            EndedBy::Killed => "on nfp-vm's SIGKILL",
        }
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug)]
pub struct Ended {
    /// Its wait status.
    pub status: ExitStatus,
    /// Its peak resident set size in KiB (`ru_maxrss` of `wait4`, the
    /// `VmHWM` it had when it ended).
    pub max_rss_kib: u64,
    /// Whether nfp-vm had to signal it.
    pub by: EndedBy,
    /// When nfp-vm reaped it.
    pub at: Instant,
}

/// `exit:N` or `signal:N`, the form `nfp-emu<N>.exit` files use.
pub fn status_word(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit:{c}"),
        (None, Some(s)) => format!("signal:{s}"),
        _ => format!("raw:{}", status.into_raw()),
    }
}

/// "exit status N" or "signal N", for messages.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

/// A spawned child that only this wrapper waits for (never `Child::wait`,
/// `try_wait` or `kill`: the pid is reaped here, with its resource usage).
#[derive(Debug)]
pub struct Proc {
    child: Child,
    ended: Option<Ended>,
    signalled: Option<EndedBy>,
}

impl Proc {
    /// Take over a child just spawned.
    pub fn new(child: Child) -> Self {
        Self {
            child,
            ended: None,
            signalled: None,
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    fn pid(&self) -> libc::pid_t {
        libc::pid_t::try_from(self.child.id()).unwrap_or(libc::pid_t::MAX)
    }

    /// How the child ended, reaping it if it just did; `None` while it runs.
    pub fn try_wait(&mut self) -> Option<Ended> {
        if self.ended.is_none() {
            let mut status: libc::c_int = 0;
            // SAFETY: an all-zero rusage is a valid value of the C struct.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: wait4 on our own child's pid with valid out-pointers.
            let r = unsafe { libc::wait4(self.pid(), &mut status, libc::WNOHANG, &mut usage) };
            if r == self.pid() {
                self.ended = Some(Ended {
                    status: ExitStatus::from_raw(status),
                    max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
                    by: self.signalled.unwrap_or(EndedBy::Itself),
                    at: Instant::now(),
                });
            }
        }
        self.ended
    }

    /// Wait up to `limit` for the child to end by itself.
    pub fn wait_for(&mut self, limit: Duration) -> Option<Ended> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(e) = self.try_wait() {
                return Some(e);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    fn signal(&mut self, sig: libc::c_int, by: EndedBy) {
        if self.try_wait().is_none() {
            self.signalled = Some(by);
            // SAFETY: kill() on our own child's pid, which is not reaped yet
            // (so not reused).
            unsafe {
                libc::kill(self.pid(), sig);
            }
        }
    }

    /// SIGTERM, [`TERM_GRACE`], then SIGKILL; returns once the child is
    /// reaped. Does nothing to a child that has already ended.
    pub fn terminate(&mut self) -> Ended {
        self.signal(libc::SIGTERM, EndedBy::Terminated);
        if let Some(e) = self.wait_for(TERM_GRACE) {
            return e;
        }
        self.signal(libc::SIGKILL, EndedBy::Killed);
        loop {
            if let Some(e) = self.wait_for(Duration::from_secs(1)) {
                return e;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_child_that_exits_ended_by_itself_with_its_status_and_rss() {
        let mut p = Proc::new(Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap());
        let e = p.wait_for(Duration::from_secs(60)).expect("sh exits");
        assert_eq!(e.status.code(), Some(3));
        assert_eq!(e.by, EndedBy::Itself);
        assert!(e.max_rss_kib > 0, "ru_maxrss of a real process");
        assert_eq!(status_word(e.status), "exit:3");
        // Reaped once; later calls return the same record.
        assert_eq!(p.try_wait().unwrap().status.code(), Some(3));
    }

    #[test]
    fn terminate_says_who_ended_the_child() {
        let mut p = Proc::new(Command::new("sleep").arg("600").spawn().unwrap());
        assert!(p.try_wait().is_none());
        let e = p.terminate();
        assert_eq!(e.by, EndedBy::Terminated);
        assert_eq!(status_word(e.status), "signal:15");
        // A child that ignores SIGTERM is killed.
        let mut p = Proc::new(
            Command::new("sh")
                .args(["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // Wait until the trap is set (the shell printed its line).
        let mut out = p.child.stdout.take().unwrap();
        let mut b = [0u8; 6];
        std::io::Read::read_exact(&mut out, &mut b).unwrap();
        let e = p.terminate();
        assert_eq!(e.by, EndedBy::Killed);
        assert_eq!(describe(e.status), "signal 9");
    }

    #[test]
    fn a_child_killed_by_someone_else_ended_by_itself() {
        let mut p = Proc::new(Command::new("sleep").arg("600").spawn().unwrap());
        // SAFETY: kill() on our own, unreaped child.
        unsafe {
            libc::kill(p.pid(), libc::SIGKILL);
        }
        let e = p.wait_for(Duration::from_secs(60)).expect("killed");
        assert_eq!(e.by, EndedBy::Itself);
        assert_eq!(status_word(e.status), "signal:9");
    }
}
