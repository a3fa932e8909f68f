//! `tracing` set-up shared by the binaries, and the rate-limited log of
//! what a guest causes.
//!
//! Quiet by default (warnings), `-v` for info, `-vv` for debug, `-vvv` for
//! trace; `RUST_LOG` overrides. Targets follow the subsystems
//! (`nfp_emu::pcie`, `nfp_emu::vfio`, ...), except for everything a guest
//! can cause (a bad register access, descriptor, program or control
//! message): that goes to the one target [`GUEST_TARGET`] through
//! [`guest_warn!`](crate::guest_warn) and [`guest_debug!`](crate::guest_debug),
//! rate-limited per call site, so a hostile guest cannot flood the host's
//! log and `RUST_LOG=nfp_emu::guest=off` silences it without hiding the
//! emulator's own errors.
//!
//! Lines are written by a background thread through a bounded, lossy queue
//! (`tracing-appender`): a slow log consumer never blocks the vCPU's MMIO
//! path or a packet.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tracing_subscriber::EnvFilter;

/// The target of every message a guest can cause.
pub const GUEST_TARGET: &str = "nfp_emu::guest";

/// Messages a call site logs before rate limiting starts.
pub const GUEST_LOG_BURST: u64 = 10;

/// Keeps the background log writer alive; dropping it flushes what is
/// queued. Hold it for the life of the process.
#[must_use = "the log writer stops when the guard is dropped"]
#[derive(Debug)]
pub struct LogGuard {
    _writer: tracing_appender::non_blocking::WorkerGuard,
}

/// Install the subscriber. `trace_prog`: also the per-instruction trace of
/// offloaded programs (target `nfp_emu::fp::trace`).
pub fn init(verbosity: u8, trace_prog: bool) -> LogGuard {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if trace_prog {
        if let Ok(d) = "nfp_emu::fp::trace=trace".parse() {
            filter = filter.add_directive(d);
        }
    }
    // Route the `log` records of rust-vmm crates into tracing.
    let _ = tracing_log::LogTracer::init();
    let ansi = std::io::stderr().is_terminal();
    // A per-instruction trace must not lose lines; everything else may,
    // rather than block the caller.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(!trace_prog)
        .thread_name("log-writer")
        .finish(std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(true)
        .try_init();
    LogGuard { _writer: guard }
}

/// Whole seconds since the first call (a monotonic, process-wide clock).
fn coarse_secs() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs()
}

/// The rate limit of one log call site: the first [`GUEST_LOG_BURST`]
/// messages pass, then at most one per second, which carries the number of
/// messages suppressed since the previous one. Lock-free; costs a few
/// atomic operations per message.
#[derive(Debug)]
pub struct RateLimit {
    seen: AtomicU64,
    /// `coarse_secs() + 1` of the last message let through after the burst.
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimit {
    /// A call site that has logged nothing yet.
    pub const fn new() -> Self {
        Self {
            seen: AtomicU64::new(0),
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether this message may be logged: `Some(n)` with the number of
    /// messages suppressed before it, or `None` to drop it.
    pub fn admit(&self) -> Option<u64> {
        self.admit_at(coarse_secs())
    }

    /// [`RateLimit::admit`] at time `now` (seconds).
    pub fn admit_at(&self, now: u64) -> Option<u64> {
        if self.seen.fetch_add(1, Ordering::Relaxed) < GUEST_LOG_BURST {
            return Some(0);
        }
        let now = now.saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        if now > last
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Log, at warning level under [`GUEST_TARGET`], something the guest
/// caused; rate-limited per call site ([`RateLimit`]).
#[macro_export]
macro_rules! guest_warn {
    ($($arg:tt)+) => {
        $crate::guest_log!(::tracing::Level::WARN, $($arg)+)
    };
}

/// Log, at debug level under [`GUEST_TARGET`], something the guest caused;
/// rate-limited per call site ([`RateLimit`]).
#[macro_export]
macro_rules! guest_debug {
    ($($arg:tt)+) => {
        $crate::guest_log!(::tracing::Level::DEBUG, $($arg)+)
    };
}

/// The body of [`guest_warn!`] and [`guest_debug!`].
#[doc(hidden)]
#[macro_export]
macro_rules! guest_log {
    ($lvl:expr, $($arg:tt)+) => {{
        static LIMIT: $crate::logging::RateLimit = $crate::logging::RateLimit::new();
        if ::tracing::enabled!(target: "nfp_emu::guest", $lvl) {
            match LIMIT.admit() {
                Some(0) => ::tracing::event!(target: "nfp_emu::guest", $lvl, $($arg)+),
                Some(suppressed) => {
                    ::tracing::event!(target: "nfp_emu::guest", $lvl, suppressed, $($arg)+)
                }
                None => {}
            }
        }
    }};
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `tracing` writer into a shared buffer, for tests that check what
    /// is logged.
    #[derive(Clone, Default)]
    pub(crate) struct Capture(pub std::sync::Arc<parking_lot::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Capture {
        /// Run `f` with a subscriber filtered by `filter` writing here;
        /// return what was logged.
        pub(crate) fn run(filter: &str, f: impl FnOnce()) -> String {
            let cap = Capture::default();
            let w = cap.clone();
            let sub = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(move || w.clone())
                .with_ansi(false)
                .finish();
            tracing::subscriber::with_default(sub, f);
            String::from_utf8_lossy(&cap.0.lock()).into_owned()
        }
    }

    #[test]
    fn burst_then_one_per_second_with_the_count() {
        let l = RateLimit::new();
        for _ in 0..GUEST_LOG_BURST {
            assert_eq!(l.admit_at(5), Some(0));
        }
        // The next message in the same second carries the (zero) count,
        // then the rest of that second is suppressed.
        assert_eq!(l.admit_at(5), Some(0));
        for _ in 0..1000 {
            assert_eq!(l.admit_at(5), None);
        }
        assert_eq!(l.admit_at(6), Some(1000));
        assert_eq!(l.admit_at(6), None);
        assert_eq!(l.admit_at(9), Some(1));
    }

    #[test]
    fn a_guest_storm_logs_a_bounded_amount() {
        let text = Capture::run("warn", || {
            for i in 0..100_000u32 {
                crate::guest_warn!("bad register {i:#x}");
            }
        });
        let lines = text.lines().count();
        // The burst, plus at most one line per second the loop took.
        assert!(lines >= GUEST_LOG_BURST as usize, "{text}");
        assert!(lines <= GUEST_LOG_BURST as usize + 60, "{lines} lines");
        assert!(text.contains("nfp_emu::guest"), "{text}");
        // Silencing the guest target silences it and nothing else.
        let text = Capture::run("warn,nfp_emu::guest=off", || {
            crate::guest_warn!("bad register");
            tracing::warn!(target: "nfp_emu::pcie", "own error");
        });
        assert!(
            !text.contains("bad register") && text.contains("own error"),
            "{text}"
        );
    }
}
