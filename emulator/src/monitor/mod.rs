//! The JSON monitor (docs/monitor.md): `nfp-emu --monitor PATH` serves a
//! UNIX socket in the style of QEMU's QMP. A client is greeted with
//! `{"QMP": {"version": ..., "capabilities": [...]}}`, then sends one JSON
//! object per line, `{"execute": NAME, "arguments": {...}, "id": ...}`, and
//! gets one line back: `{"return": ...}` or `{"error": {"class": ...,
//! "desc": ...}}` (with the request's `id`, if it had one).
//!
//! Robustness: each client has a thread of its own, at most
//! [`MAX_CLIENTS`] at once; a line is at most [`MAX_LINE`] bytes; a
//! malformed line, an unknown command or a bad argument gets an error
//! reply and the client is served on; a client that goes away mid-reply
//! ends only its own thread. The commands read the card's counters
//! (relaxed atomic loads) and take no lock the data path waits on for
//! more than a copy ([`commands`]).

pub mod client;
pub mod commands;

#[cfg(test)]
mod tests;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Map, Value, json};
use tracing::{debug, warn};

use crate::card::Card;
use crate::counters::Snapshot;

/// Clients served at once; one more is told so and closed.
pub const MAX_CLIENTS: usize = 16;

/// The longest request line, bytes; a longer one gets an error reply and
/// is skipped up to its newline.
pub const MAX_LINE: usize = 64 * 1024;

/// How long a reply may take to write before the client is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the greeting lists as capabilities.
pub const CAPABILITIES: [&str; 5] = ["counters", "timing", "maps", "trace", "pcap"];

/// Why the monitor could not start.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// Another process serves the socket.
    #[error("{0}: a monitor is already listening there")]
    InUse(PathBuf),
    /// Binding or configuring the socket failed.
    #[error("{path}: {source}")]
    Socket {
        /// The socket path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The accept thread could not be started.
    #[error("starting the monitor thread: {0}")]
    Thread(std::io::Error),
}

/// The error class and text of a reply (QMP's `error` object).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The line is not a JSON object with a string `execute`.
    #[error("{0}")]
    Malformed(String),
    /// No command has that name.
    #[error("the command {0} has not been found")]
    NotFound(String),
    /// An argument is missing, unexpected or of the wrong type.
    #[error("{0}")]
    BadArgument(String),
    /// The command cannot be answered now (e.g. no such map).
    #[error("{0}")]
    Unavailable(String),
}

impl CommandError {
    /// QMP's class name: `CommandNotFound` for an unknown command,
    /// `GenericError` for everything else (as QEMU answers).
    pub fn class(&self) -> &'static str {
        match self {
            CommandError::NotFound(_) => "CommandNotFound",
            _ => "GenericError",
        }
    }

    /// The reply object.
    pub fn reply(&self) -> Value {
        json!({"error": {"class": self.class(), "desc": self.to_string()}})
    }
}

/// What the commands work on: the card, and the monitor's own state
/// (the baseline `reset-counters` keeps).
pub struct State {
    /// The card.
    pub card: Arc<Card>,
    /// When the monitor started.
    pub started: Instant,
    /// The counters at the last `reset-counters`, subtracted from what
    /// `query-counters` answers. The monitor's lock: the data path never
    /// takes it.
    pub baseline: Mutex<Option<Snapshot>>,
}

impl State {
    /// The state for `card`, nothing reset.
    pub fn new(card: Arc<Card>) -> Self {
        Self {
            card,
            started: Instant::now(),
            baseline: Mutex::new(None),
        }
    }
}

/// The greeting line's object.
pub fn greeting() -> Value {
    json!({"QMP": {
        "version": {"package": "nfp-emu", "version": env!("CARGO_PKG_VERSION")},
        "capabilities": CAPABILITIES,
    }})
}

/// Answer one request line (without its newline): the reply object.
pub fn handle_line(state: &State, line: &[u8]) -> Value {
    let req: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return CommandError::Malformed(format!("JSON parse error: {e}")).reply(),
    };
    let Value::Object(mut req) = req else {
        return CommandError::Malformed("a request is a JSON object".into()).reply();
    };
    let id = req.remove("id");
    let reply = match parse_request(req) {
        Ok((name, args)) => match commands::execute(state, &name, args) {
            Ok(v) => json!({ "return": v }),
            Err(e) => e.reply(),
        },
        Err(e) => e.reply(),
    };
    match (reply, id) {
        (Value::Object(mut m), Some(id)) => {
            m.insert("id".into(), id);
            Value::Object(m)
        }
        (r, _) => r,
    }
}

/// The command name and its arguments of a request object.
fn parse_request(
    mut req: Map<String, Value>,
) -> Result<(String, Map<String, Value>), CommandError> {
    let name = match req.remove("execute") {
        Some(Value::String(s)) => s,
        Some(_) => return Err(CommandError::Malformed("execute must be a string".into())),
        None => return Err(CommandError::Malformed("a request needs execute".into())),
    };
    let args = match req.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => a,
        Some(_) => {
            return Err(CommandError::Malformed(
                "arguments must be an object".into(),
            ));
        }
    };
    if let Some(k) = req.keys().next() {
        return Err(CommandError::Malformed(format!("unexpected member {k:?}")));
    }
    Ok((name, args))
}

/// One line read from a client.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// A line (its newline removed) is in the buffer.
    Full,
    /// The line was longer than [`MAX_LINE`]; it was skipped.
    TooLong,
    /// The client closed its end.
    Eof,
}

/// Read the next line into `buf`, at most [`MAX_LINE`] bytes of it held.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    let limit = MAX_LINE as u64 + 1;
    let n = std::io::Read::take(&mut *r, limit).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Line::Full);
    }
    if buf.len() <= MAX_LINE {
        // The last line, without a newline.
        return Ok(Line::Full);
    }
    buf.clear();
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(Line::TooLong);
        }
        if let Some(i) = chunk.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(Line::TooLong);
        }
        let n = chunk.len();
        r.consume(n);
    }
}

/// Write `v` and a newline.
fn send(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    out.push(b'\n');
    w.write_all(&out)?;
    w.flush()
}

/// Serve one client until it leaves or its socket fails.
fn serve(state: &State, stream: UnixStream) -> std::io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    send(&mut out, &greeting())?;
    let mut buf = Vec::new();
    loop {
        let reply = match read_line(&mut input, &mut buf)? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                CommandError::Malformed(format!("request longer than {MAX_LINE} bytes")).reply()
            }
            Line::Full if buf.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Full => handle_line(state, &buf),
        };
        send(&mut out, &reply)?;
    }
}

/// A running monitor: the accept thread, until dropped (which stops it
/// and removes the socket; clients already connected are served on).
pub struct Monitor {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("path", &self.path).finish()
    }
}

impl Monitor {
    /// Serve `card`'s monitor at `path`. A stale socket file (nobody
    /// listening) is replaced; a live one is an error.
    pub fn start(path: &Path, card: Arc<Card>) -> Result<Self, MonitorError> {
        let sock_err = |source| MonitorError::Socket {
            path: path.to_owned(),
            source,
        };
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(MonitorError::InUse(path.to_owned()));
            }
            std::fs::remove_file(path).map_err(sock_err)?;
        }
        let listener = UnixListener::bind(path).map_err(sock_err)?;
        let state = Arc::new(State::new(card));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("monitor".into())
                .spawn(move || accept_loop(&listener, &state, &stop))
                .map_err(MonitorError::Thread)?
        };
        Ok(Self {
            path: path.to_owned(),
            stop,
            accept: Some(accept),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; if the socket cannot be reached (its file
        // was removed), leave the thread blocked rather than wait for it.
        let woken = UnixStream::connect(&self.path).is_ok();
        if let Some(t) = self.accept.take().filter(|_| woken) {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn accept_loop(listener: &UnixListener, state: &Arc<State>, stop: &AtomicBool) {
    let clients = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let mut stream = match conn {
            Ok(s) => s,
            Err(e) => {
                warn!(target: "nfp_emu::monitor", "accept failed: {e}");
                // Out of descriptors and the like: do not spin.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            clients.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
            let _ = send(
                &mut stream,
                &CommandError::Unavailable(format!("too many clients (at most {MAX_CLIENTS})"))
                    .reply(),
            );
            continue;
        }
        let (state, left) = (state.clone(), clients.clone());
        let spawned = std::thread::Builder::new()
            .name("monitor-client".into())
            .spawn(move || {
                if let Err(e) = serve(&state, stream) {
                    debug!(target: "nfp_emu::monitor", "client gone: {e}");
                }
                left.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            clients.fetch_sub(1, Ordering::SeqCst);
            warn!(target: "nfp_emu::monitor", "cannot start a client thread: {e}");
        }
    }
}
