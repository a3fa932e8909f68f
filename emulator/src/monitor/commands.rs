//! The monitor's commands (docs/monitor.md). Each takes its arguments as
//! a JSON object, refuses arguments it does not know, and answers a JSON
//! value. None of them waits for the data path: counters are relaxed
//! loads, program reports copy the profile list under its lock and add up
//! outside it, map dumps read the tables as the offloaded maps' own
//! readers do; `query-card` takes the chip's lock for a moment (the
//! control plane's, not the data path's). `trace-start`/`trace-stop` and
//! `pcap-start`/`pcap-stop` flip a switch the data path reads with one
//! relaxed load and hand their files to writer threads of their own
//! (`fp::timing::trace`, `datapath::capture`).

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::{CommandError, State};
use crate::app::NFP_APP_BPF_NIC;
use crate::counters::{Filter, Snapshot};
use crate::datapath::capture::CaptureError;
use crate::fp::timing::{TraceError, TraceFilter, TraceFormat, TraceSession};
use crate::nfd::ctrl::VnicKind;
use crate::nfd::rings::{RingPtrs, RingView};

/// Every command, with a line of help (`query-commands`, `nfp-ctl`).
pub const COMMANDS: [(&str, &str); 13] = [
    (
        "qmp_capabilities",
        "accepted for QMP clients; nothing to negotiate",
    ),
    ("query-commands", "the commands"),
    ("query-version", "the emulator's name and version"),
    (
        "query-counters",
        "counters by name since the last reset-counters; arguments: filter (glob or list), total (bool: raw totals), nonzero (bool)",
    ),
    (
        "reset-counters",
        "start query-counters and the timing profiles from zero",
    ),
    ("query-card", "board, firmware, ports and link, vNICs"),
    (
        "query-programs",
        "per loaded program: vNIC, length, timing totals, distribution, estimate; arguments: profile (bool), top (rows)",
    ),
    ("query-maps", "the offloaded maps"),
    (
        "dump-map",
        "a map's entries; arguments: id, max (default 256), after (hex key)",
    ),
    (
        "trace-start",
        "trace each packet's NFP instructions to a file; arguments: path (absolute, in an existing directory), count (packets), port, vnic, format (json or text)",
    ),
    (
        "trace-stop",
        "stop the trace: its file, packets traced, packets dropped",
    ),
    (
        "pcap-start",
        "record the frames a port receives and sends into a pcap file; arguments: port, path (absolute, in an existing directory)",
    ),
    (
        "pcap-stop",
        "stop a port's pcap: its file, frames recorded (rx, tx), frames dropped; arguments: port",
    ),
];

/// How long a `trace-stop` or `pcap-stop` waits for its writer to write
/// what was queued (a guard; the writer is normally done at once).
const STOP_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Most entries `dump-map` returns in one reply.
pub const DUMP_MAX: u64 = 65_536;

/// A command's arguments, taken one by one; what is left is an error.
struct Args(Map<String, Value>);

impl Args {
    fn bad(what: String) -> CommandError {
        CommandError::BadArgument(what)
    }

    fn bool(&mut self, name: &str) -> Result<Option<bool>, CommandError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(v) => Err(Self::bad(format!("{name} must be a boolean, not {v}"))),
        }
    }

    fn u64(&mut self, name: &str) -> Result<Option<u64>, CommandError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                Self::bad(format!("{name} must be a non-negative integer, not {v}"))
            }),
        }
    }

    fn str(&mut self, name: &str) -> Result<Option<String>, CommandError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(Self::bad(format!("{name} must be a string, not {v}"))),
        }
    }

    /// A string or a list of strings.
    fn strs(&mut self, name: &str) -> Result<Vec<String>, CommandError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    v => Err(Self::bad(format!("{name} must hold strings, not {v}"))),
                })
                .collect(),
            Some(v) => Err(Self::bad(format!(
                "{name} must be a string or a list of strings, not {v}"
            ))),
        }
    }

    /// `path`: an absolute path whose directory exists (required).
    fn path(&mut self) -> Result<PathBuf, CommandError> {
        let s = self
            .str("path")?
            .ok_or_else(|| Self::bad("path is required".into()))?;
        let path = PathBuf::from(&s);
        if !path.is_absolute() {
            return Err(Self::bad(format!("path must be absolute, not {s:?}")));
        }
        if path.is_dir() {
            return Err(Self::bad(format!("path {s:?} is a directory")));
        }
        match path.parent() {
            Some(d) if d.is_dir() => Ok(path),
            _ => Err(Self::bad(format!(
                "the directory of path {s:?} does not exist"
            ))),
        }
    }

    /// A port number of the card (`name`).
    fn port(&mut self, state: &State, name: &str) -> Result<Option<usize>, CommandError> {
        let Some(p) = self.u64(name)? else {
            return Ok(None);
        };
        let ports = state.card.datapath().wires.len();
        match usize::try_from(p) {
            Ok(p) if p < ports => Ok(Some(p)),
            _ => Err(Self::bad(format!(
                "{name} {p}: the card has {ports} ports (0..{ports})"
            ))),
        }
    }

    /// No argument left unread.
    fn done(self) -> Result<(), CommandError> {
        match self.0.keys().next() {
            Some(k) => Err(Self::bad(format!("unexpected argument {k:?}"))),
            None => Ok(()),
        }
    }
}

/// Run command `name` with `args`.
pub fn execute(state: &State, name: &str, args: Map<String, Value>) -> Result<Value, CommandError> {
    let mut a = Args(args);
    let v = match name {
        "qmp_capabilities" => json!({}),
        "query-commands" => Value::Array(
            COMMANDS
                .iter()
                .map(|(n, h)| json!({"name": n, "help": h}))
                .collect(),
        ),
        "query-version" => json!({"package": "nfp-emu", "version": env!("CARGO_PKG_VERSION")}),
        "query-counters" => {
            let filter = Filter::new(a.strs("filter")?);
            let total = a.bool("total")?.unwrap_or(false);
            let nonzero = a.bool("nonzero")?.unwrap_or(false);
            a.done()?;
            return Ok(query_counters(state, &filter, total, nonzero));
        }
        "reset-counters" => {
            a.done()?;
            reset_counters(state);
            json!({})
        }
        "query-card" => {
            a.done()?;
            query_card(state)
        }
        "query-programs" => {
            let profile = a.bool("profile")?.unwrap_or(false);
            let top = a.u64("top")?;
            a.done()?;
            query_programs(state, profile, top)
        }
        "query-maps" => {
            a.done()?;
            query_maps(state)
        }
        "trace-start" => {
            trace_start(state, a)?;
            json!({})
        }
        "trace-stop" => {
            a.done()?;
            let sum = state
                .card
                .datapath()
                .timing()
                .stop_trace(STOP_LIMIT)
                .ok_or_else(|| CommandError::Unavailable("no trace is running".into()))?;
            json!(sum)
        }
        "pcap-start" => {
            let port = a
                .port(state, "port")?
                .ok_or_else(|| Args::bad("pcap-start needs port".into()))?;
            let path = a.path()?;
            a.done()?;
            state
                .card
                .datapath()
                .start_pcap(port, &path)
                .map_err(|e| capture_error(&e))?;
            json!({})
        }
        "pcap-stop" => {
            let port = a
                .port(state, "port")?
                .ok_or_else(|| Args::bad("pcap-stop needs port".into()))?;
            a.done()?;
            let sum = state
                .card
                .datapath()
                .stop_pcap(port, STOP_LIMIT)
                .map_err(|e| capture_error(&e))?;
            json!(sum)
        }
        "dump-map" => {
            let id = a
                .u64("id")?
                .ok_or_else(|| Args::bad("dump-map needs id".into()))?;
            return dump_map(state, id, a);
        }
        _ => return Err(CommandError::NotFound(name.to_owned())),
    };
    Ok(v)
}

/// `{"counters": {name: value}, "seconds": since the baseline}`: values
/// since the last `reset-counters` (or raw totals), in name order.
fn query_counters(state: &State, filter: &Filter, total: bool, nonzero: bool) -> Value {
    let now = Snapshot::take(&*state.card, filter);
    let base = if total {
        None
    } else {
        state.baseline.lock().clone()
    };
    let (snap, since) = match &base {
        Some(b) => (now.since(b), now.at().duration_since(b.at())),
        None => (now, state.started.elapsed()),
    };
    let counters: Map<String, Value> = snap
        .iter()
        .filter(|&(_, v)| !nonzero || v != 0)
        .map(|(n, v)| (n.to_owned(), Value::from(v)))
        .collect();
    json!({
        "counters": counters,
        "seconds": since.as_secs_f64(),
        "since-reset": base.is_some(),
    })
}

/// Keep every counter as the new baseline, and start the timing profiles
/// afresh. The card's own counters (which the guest reads) are untouched.
fn reset_counters(state: &State) {
    let snap = Snapshot::take(&*state.card, &Filter::all());
    *state.baseline.lock() = Some(snap);
    state.card.datapath().timing().reset();
}

fn query_card(state: &State) -> Value {
    let dp = state.card.datapath();
    let (board, firmware) = {
        let chip = state.card.chip();
        let b = &chip.nsp.board;
        let board = json!({
            "model": b.model,
            "partno": b.partno,
            "part-number": b.part_number,
            "serial": b.serial,
            "revision": b.revision,
            "bsp-version": b.bsp_version,
        });
        let fw = chip.app.running.as_ref().map(|r| {
            json!({
                "name": r.name,
                "app-id": r.app_id,
                "app": if r.app_id == NFP_APP_BPF_NIC { "bpf" } else { "other" },
                "vnics": r.nfd.is_some(),
            })
        });
        (board, fw)
    };
    let ports: Vec<Value> = dp
        .wires
        .iter()
        .map(|w| json!({"port": w.index, "cable": w.spec.to_string(), "link": dp.link_up(w.index)}))
        .collect();
    let vnics: Vec<Value> = dp
        .vnics()
        .iter()
        .map(|v| {
            let cfg = v.config();
            let mac = cfg.mac.map(|b| format!("{b:02x}")).join(":");
            json!({
                "name": v.name(),
                "port": match v.params.kind { VnicKind::Data { port } => Some(port), VnicKind::Ctrl => None },
                "enabled": cfg.enabled,
                "mtu": cfg.mtu,
                "mac": mac,
                "link": v.link_up(),
                "program": v.bpf().map(|p| json!({"seq": p.seq, "len": p.len()})),
                "rings": rings_json(&v.ring_view(&dp.host)),
            })
        })
        .collect();
    json!({
        "board": board,
        "firmware": firmware,
        "ports": ports,
        "vnics": vnics,
        "flow-processor": dp.fp().map(|fp| json!({
            "executor": fp.executor().name(),
            "mes": fp.cfg.mes,
            "threads": fp.cfg.threads,
        })),
        "timing": dp.timing().timing(),
        "profiling": dp.timing().profiling(),
    })
}

/// A vNIC's rings and masked vectors for `query-card`.
fn rings_json(r: &RingView) -> Value {
    let ptrs = |v: &[RingPtrs]| -> Vec<Value> {
        v.iter()
            .map(|p| {
                json!({"ring": p.ring, "vector": p.vector, "size": p.size,
                       "wptr": p.wptr, "rptr": p.rptr, "next": p.idx})
            })
            .collect()
    };
    json!({
        "tx": ptrs(&r.tx),
        "rx": ptrs(&r.rx),
        "masked-vectors": r.vectors.iter()
            .map(|&(e, icr, pending)| json!({"entry": e, "icr": icr, "pending": pending}))
            .collect::<Vec<_>>(),
    })
}

/// The timing reports (docs/timing.md) of the kept programs, newest first,
/// each with the vNIC that runs it now (if one does); without `profile`
/// the per-instruction rows are left out, with it at most `top` of them.
fn query_programs(state: &State, profile: bool, top: Option<u64>) -> Value {
    let dp = state.card.datapath();
    let running: Vec<(u64, String)> = dp
        .vnics()
        .iter()
        .filter_map(|v| Some((v.bpf()?.seq, v.name())))
        .collect();
    let programs: Vec<Value> = dp
        .timing()
        .reports()
        .into_iter()
        .map(|mut r| {
            if profile {
                let top = top.map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
                r.profile.rows.truncate(top);
            } else {
                r.profile.rows.clear();
            }
            let mpps = r.estimate.map(|e| e.pps / 1e6);
            let on = running
                .iter()
                .find(|(s, _)| *s == r.seq)
                .map(|(_, n)| n.clone());
            let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("running-on".into(), json!(on));
                m.insert("estimate-mpps".into(), json!(mpps));
                if !profile {
                    m.remove("profile");
                }
            }
            v
        })
        .collect();
    json!({ "timing": dp.timing().timing(), "programs": programs })
}

fn query_maps(state: &State) -> Value {
    let maps = &state.card.datapath().maps;
    let tables: Vec<Value> = maps
        .tables()
        .iter()
        .map(|t| {
            json!({
                "id": t.tid,
                "type": t.map_type,
                "key-size": t.key_size,
                "value-size": t.value_size,
                "max-entries": t.max_entries,
                "entries": t.len(),
            })
        })
        .collect();
    let (free, largest) = maps.emem_free();
    json!({"maps": tables, "emem-free": free, "emem-largest-free": largest})
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Up to `max` entries of map `id` after key `after`, keys and values in
/// hex; `next` is the key to continue after, if there are more.
fn dump_map(state: &State, id: u64, mut a: Args) -> Result<Value, CommandError> {
    let max = a.u64("max")?.unwrap_or(256).min(DUMP_MAX);
    let after = match a.str("after")? {
        Some(s) => Some(unhex(&s).ok_or_else(|| Args::bad(format!("after is not hex: {s:?}")))?),
        None => None,
    };
    a.done()?;
    let tid = u32::try_from(id).map_err(|_| Args::bad(format!("no map {id}")))?;
    let maps = &state.card.datapath().maps;
    let t = maps
        .table(tid)
        .ok_or_else(|| CommandError::Unavailable(format!("no map {id}")))?;
    let n = usize::try_from(max).unwrap_or(usize::MAX);
    // One more than asked, to say whether there is a next page.
    let mut keys = t.next_keys(after.as_deref(), n.saturating_add(1));
    let more = keys.len() > n;
    keys.truncate(n);
    let mut value = vec![0u8; t.value_size as usize];
    let entries: Vec<Value> = keys
        .iter()
        .map(|(k, slot)| {
            t.value(*slot, &mut value);
            json!({"key": hex(k), "value": hex(&value)})
        })
        .collect();
    let next = more.then(|| keys.last().map(|(k, _)| hex(k))).flatten();
    Ok(json!({"id": id, "entries": entries, "next": next}))
}

/// `trace-start`: check the arguments, create the file, start the trace.
fn trace_start(state: &State, mut a: Args) -> Result<(), CommandError> {
    let path = a.path()?;
    let count = match a.u64("count")? {
        Some(0) => return Err(Args::bad("count must be at least 1".into())),
        c => c,
    };
    let port = a.port(state, "port")?;
    let vnic = match a.u64("vnic")? {
        None => None,
        Some(v) => Some(
            u8::try_from(v)
                .ok()
                .filter(|&v| v < u8::MAX)
                .ok_or_else(|| Args::bad(format!("vnic {v} is out of range")))?,
        ),
    };
    let format = match a.str("format")?.as_deref() {
        None | Some("json") => TraceFormat::Json,
        Some("text") => TraceFormat::Text,
        Some(f) => {
            return Err(Args::bad(format!("format must be json or text, not {f:?}")));
        }
    };
    a.done()?;
    let timing = state.card.datapath().timing();
    if let Some((running, _)) = timing.trace_status() {
        return Err(CommandError::Unavailable(
            TraceError::Busy(running).to_string(),
        ));
    }
    let filter = TraceFilter {
        // Ports are at most 255 here (checked against the card's).
        port: port.map(|p| u8::try_from(p).unwrap_or(u8::MAX)),
        vnic,
        count,
    };
    let session = TraceSession::start(&path, filter, format).map_err(|e| trace_error(&e))?;
    timing.start_trace(session).map_err(|e| trace_error(&e))
}

fn trace_error(e: &TraceError) -> CommandError {
    match e {
        TraceError::Create { .. } => CommandError::BadArgument(e.to_string()),
        _ => CommandError::Unavailable(e.to_string()),
    }
}

fn capture_error(e: &CaptureError) -> CommandError {
    match e {
        CaptureError::NoPort(_) | CaptureError::Create { .. } => {
            CommandError::BadArgument(e.to_string())
        }
        _ => CommandError::Unavailable(e.to_string()),
    }
}
