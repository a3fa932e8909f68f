//! `nfp-ctl`: the command-line client of `nfp-emu --monitor`
//! (docs/monitor.md).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use nfp_emu::monitor::client::Client;
use serde_json::{Value, json};

/// Talk to an emulated card's monitor socket (`nfp-emu --monitor PATH`;
/// `nfp-vm` prints each card's).
#[derive(Debug, Parser)]
#[command(name = "nfp-ctl", version)]
struct Args {
    /// The monitor socket.
    socket: PathBuf,
    /// Seconds to wait for a reply before giving up.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Counters by name (docs/counters.md), since the last `reset`:
    /// PATTERNs are globs (`*`, `?`) matched against the name or the part
    /// before a dot (`fp`, `vnic*.bpf_*`, `port0.mac.rx_*`).
    Counters {
        /// Which counters (all if none).
        pattern: Vec<String>,
        /// Show counters at zero too.
        #[arg(long)]
        all: bool,
        /// The card's totals, not since the last reset.
        #[arg(long)]
        total: bool,
    },
    /// A live table of counters: name, rate per second, count since the
    /// watch started, total. Redrawn in place on a terminal; otherwise one
    /// block of plain lines per interval.
    Watch {
        /// Which counters (all if none); only counters that are not zero
        /// are shown.
        pattern: Vec<String>,
        /// Seconds between refreshes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Stop after this many refreshes (default: until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Start the monitor's counters and the timing profiles from zero
    /// (the guest's counters are untouched).
    Reset,
    /// Board, firmware, ports and link, vNICs (JSON).
    Card,
    /// Loaded programs: vNIC, length, timed packets, cycles per packet and
    /// the estimated rate on a real card (docs/timing.md).
    Programs {
        /// Also the hottest instructions of each.
        #[arg(long)]
        profile: bool,
        /// How many instructions with --profile.
        #[arg(long, default_value_t = 5)]
        top: u64,
    },
    /// Each program's hottest instructions: executions and cycles beside
    /// the disassembly (the timing model's profile; nfp-emu --profile or
    /// --timing must be on for figures).
    Profile {
        /// How many instructions per program.
        #[arg(long, default_value_t = 10)]
        top: u64,
    },
    /// One line per program: the estimated packet rate on a real Agilio CX
    /// and its bottleneck (docs/timing.md).
    Estimate,
    /// The offloaded maps; with --dump ID, that map's entries (hex).
    Maps {
        /// Dump the entries of this map.
        #[arg(long, value_name = "ID")]
        dump: Option<u64>,
        /// Most entries to dump.
        #[arg(long, default_value_t = 1024)]
        max: u64,
    },
    /// The NFP instructions each packet runs, traced to a file: `trace
    /// start FILE` (for --count packets, or those of --port/--vnic), then
    /// `trace stop` (prints how many packets were traced).
    Trace {
        #[command(subcommand)]
        action: TraceAction,
    },
    /// The frames a port receives and sends, recorded into a pcap file:
    /// `pcap start PORT FILE`, then `pcap stop PORT` (prints how many).
    Pcap {
        #[command(subcommand)]
        action: PcapAction,
    },
    /// Any monitor command, with its arguments as a JSON object; prints
    /// the reply's return value.
    Raw {
        /// The command (query-commands lists them).
        command: String,
        /// Its arguments, e.g. '{"filter": "fp"}'.
        arguments: Option<String>,
    },
}

/// `nfp-ctl trace ...`.
#[derive(Debug, Subcommand)]
enum TraceAction {
    /// Start tracing into FILE (one JSON line per packet: addresses,
    /// disassembly, verdict; --text for a text block per packet).
    Start {
        /// The trace file (created; made absolute for the monitor).
        file: PathBuf,
        /// Stop taking packets after this many.
        #[arg(long)]
        count: Option<u64>,
        /// Only packets received on this port.
        #[arg(long)]
        port: Option<u64>,
        /// Only packets of this vNIC.
        #[arg(long)]
        vnic: Option<u64>,
        /// Text blocks rather than JSON lines.
        #[arg(long)]
        text: bool,
    },
    /// Stop the trace; print its file and the packets traced.
    Stop,
}

/// `nfp-ctl pcap ...`.
#[derive(Debug, Subcommand)]
enum PcapAction {
    /// Start recording PORT's frames into FILE.
    Start {
        /// The port.
        port: u64,
        /// The pcap file (created; made absolute for the monitor).
        file: PathBuf,
    },
    /// Stop recording PORT; print the frames recorded.
    Stop {
        /// The port.
        port: u64,
    },
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut c = Client::connect(&args.socket, Duration::from_secs(args.timeout))
        .with_context(|| format!("connecting to {}", args.socket.display()))?;
    let mut out = std::io::stdout().lock();
    match args.command {
        Command::Counters {
            pattern,
            all,
            total,
        } => {
            let r = c.execute(
                "query-counters",
                json!({"filter": pattern, "total": total, "nonzero": !all}),
            )?;
            write!(out, "{}", counters_text(&r["counters"]))?;
        }
        Command::Watch {
            pattern,
            interval,
            count,
        } => watch(&mut c, &mut out, &pattern, interval, count)?,
        Command::Reset => {
            c.execute("reset-counters", Value::Null)?;
        }
        Command::Card => {
            let r = c.execute("query-card", Value::Null)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
        }
        Command::Programs { profile, top } => {
            let r = c.execute("query-programs", json!({"profile": profile, "top": top}))?;
            write!(out, "{}", programs_text(&r))?;
        }
        Command::Profile { top } => {
            let r = c.execute("query-programs", json!({"profile": true, "top": top}))?;
            write!(out, "{}", programs_text(&r))?;
        }
        Command::Estimate => {
            let r = c.execute("query-programs", Value::Null)?;
            write!(out, "{}", estimates_text(&r))?;
        }
        Command::Maps { dump: None, .. } => {
            let r = c.execute("query-maps", Value::Null)?;
            write!(out, "{}", maps_text(&r))?;
        }
        Command::Maps {
            dump: Some(id),
            max,
        } => {
            let mut after: Option<String> = None;
            let mut left = max;
            while left > 0 {
                let mut a = json!({"id": id, "max": left.min(4096)});
                if let Some(k) = &after {
                    a["after"] = json!(k);
                }
                let r = c.execute("dump-map", a)?;
                for e in r["entries"].as_array().into_iter().flatten() {
                    writeln!(out, "{} {}", str_of(&e["key"]), str_of(&e["value"]))?;
                    left = left.saturating_sub(1);
                }
                match r["next"].as_str() {
                    Some(k) => after = Some(k.to_owned()),
                    None => break,
                }
            }
        }
        Command::Trace { action } => trace(&mut c, &mut out, action)?,
        Command::Pcap { action } => pcap(&mut c, &mut out, action)?,
        Command::Raw { command, arguments } => {
            let a = match arguments {
                Some(s) => serde_json::from_str(&s).context("arguments are not JSON")?,
                None => Value::Null,
            };
            let r = c.execute(&command, a)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
        }
    }
    Ok(())
}

/// `path` as the monitor wants it: absolute.
fn absolute(path: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("{}", path.display()))
}

fn trace(c: &mut Client, out: &mut impl Write, action: TraceAction) -> anyhow::Result<()> {
    match action {
        TraceAction::Start {
            file,
            count,
            port,
            vnic,
            text,
        } => {
            let a = json!({
                "path": absolute(&file)?,
                "count": count,
                "port": port,
                "vnic": vnic,
                "format": if text { "text" } else { "json" },
            });
            c.execute("trace-start", a)?;
        }
        TraceAction::Stop => {
            let r = c.execute("trace-stop", Value::Null)?;
            writeln!(out, "{}", trace_text(&r))?;
        }
    }
    Ok(())
}

fn pcap(c: &mut Client, out: &mut impl Write, action: PcapAction) -> anyhow::Result<()> {
    match action {
        PcapAction::Start { port, file } => {
            let a = json!({"port": port, "path": absolute(&file)?});
            c.execute("pcap-start", a)?;
        }
        PcapAction::Stop { port } => {
            let r = c.execute("pcap-stop", json!({ "port": port }))?;
            writeln!(out, "{}", pcap_text(&r))?;
        }
    }
    Ok(())
}

/// `traced N packets into FILE (D dropped)`.
fn trace_text(r: &Value) -> String {
    format!(
        "traced {} packets into {} ({} dropped)",
        r["traced"].as_u64().unwrap_or(0),
        str_of(&r["path"]),
        r["dropped"].as_u64().unwrap_or(0)
    )
}

/// `recorded N frames (R received, T sent) into FILE (D dropped)`.
fn pcap_text(r: &Value) -> String {
    format!(
        "recorded {} frames ({} received, {} sent) into {} ({} dropped)",
        r["frames"].as_u64().unwrap_or(0),
        r["rx"].as_u64().unwrap_or(0),
        r["tx"].as_u64().unwrap_or(0),
        str_of(&r["path"]),
        r["dropped"].as_u64().unwrap_or(0)
    )
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// `name  value` lines, names aligned, in name order.
fn counters_text(counters: &Value) -> String {
    let Some(m) = counters.as_object() else {
        return String::new();
    };
    let w = m.keys().map(String::len).max().unwrap_or(0);
    m.iter()
        .map(|(k, v)| format!("{k:<w$}  {}\n", v.as_u64().unwrap_or(0)))
        .collect()
}

/// One row of the watch table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    rate: f64,
    since: u64,
    total: u64,
}

/// The rows from the totals `now`, those of the previous refresh `prev`
/// (`dt` seconds ago) and those when the watch started `first`: every
/// counter that is not zero.
fn rows(
    now: &[(String, u64)],
    prev: &HashMap<String, u64>,
    first: &HashMap<String, u64>,
    dt: f64,
) -> Vec<Row> {
    now.iter()
        .filter(|(_, v)| *v != 0)
        .map(|(n, v)| {
            let since_prev = v.saturating_sub(prev.get(n).copied().unwrap_or(0));
            Row {
                name: n.clone(),
                rate: if dt > 0.0 {
                    since_prev as f64 / dt
                } else {
                    0.0
                },
                since: v.saturating_sub(first.get(n).copied().unwrap_or(0)),
                total: *v,
            }
        })
        .collect()
}

/// The table: a header and one aligned line per row.
fn table(rows: &[Row]) -> String {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(7);
    let mut s = format!(
        "{:<w$}  {:>14}  {:>14}  {:>16}\n",
        "counter", "rate/s", "since start", "total"
    );
    for r in rows {
        s += &format!(
            "{:<w$}  {:>14.1}  {:>14}  {:>16}\n",
            r.name, r.rate, r.since, r.total
        );
    }
    s
}

fn totals(c: &mut Client, pattern: &[String]) -> anyhow::Result<Vec<(String, u64)>> {
    let r = c.execute("query-counters", json!({"filter": pattern, "total": true}))?;
    Ok(r["counters"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default())
}

fn watch(
    c: &mut Client,
    out: &mut impl Write,
    pattern: &[String],
    interval: f64,
    count: Option<u64>,
) -> anyhow::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let interval = Duration::from_secs_f64(interval.clamp(0.05, 3600.0));
    let start = Instant::now();
    let first: HashMap<String, u64> = totals(c, pattern)?.into_iter().collect();
    let mut prev = first.clone();
    let mut at = start;
    let mut n = 0u64;
    while count.is_none_or(|max| n < max) {
        std::thread::sleep(interval);
        let now = totals(c, pattern)?;
        let t = Instant::now();
        let r = rows(&now, &prev, &first, t.duration_since(at).as_secs_f64());
        let text = table(&r);
        if tty {
            // Home, clear, redraw.
            write!(out, "\x1b[H\x1b[2J{text}")?;
        } else {
            writeln!(out, "# {:.1} s", t.duration_since(start).as_secs_f64())?;
            write!(out, "{text}")?;
        }
        out.flush()?;
        prev = now.into_iter().collect();
        at = t;
        n += 1;
    }
    Ok(())
}

fn programs_text(r: &Value) -> String {
    let mut s = String::new();
    let progs = r["programs"].as_array().cloned().unwrap_or_default();
    if progs.is_empty() {
        s += "no program loaded\n";
    }
    if r["timing"] == json!(false) && !progs.is_empty() {
        s += "(timing is off: start nfp-emu with --timing or --profile for cycle figures)\n";
    }
    for p in &progs {
        let on = p["running-on"]
            .as_str()
            .unwrap_or(if p["retired"] == json!(true) {
                "retired"
            } else {
                "not running"
            });
        s += &format!(
            "prog {} ({}): {} instructions, {} packets timed",
            p["seq"], on, p["len"], p["timed"]["packets"]
        );
        if let Some(mean) = p["distribution"]["mean"]
            .as_f64()
            .filter(|_| p["timed"]["packets"] != 0)
        {
            s += &format!(
                ", {mean:.1} cycles/packet (p50 {}, p99 {})",
                p["distribution"]["p50"], p["distribution"]["p99"]
            );
        }
        s += "\n";
        if let Some(t) = p["estimate_text"].as_str() {
            s += &format!("  {t}\n");
        }
        for row in p["profile"]["rows"].as_array().into_iter().flatten() {
            s += &format!(
                "  .{:<5} {:>10}x {:>10} cycles  {}\n",
                row["addr"],
                row["count"],
                row["busy"],
                str_of(&row["disasm"])
            );
        }
    }
    s
}

/// `prog N (vNIC): SENTENCE` per program with an estimate.
fn estimates_text(r: &Value) -> String {
    let mut s = String::new();
    for p in r["programs"].as_array().into_iter().flatten() {
        let on = p["running-on"].as_str().unwrap_or("not running");
        match p["estimate_text"].as_str() {
            Some(t) => s += &format!("prog {} ({on}): {t}\n", p["seq"]),
            None => s += &format!("prog {} ({on}): no packet timed\n", p["seq"]),
        }
    }
    s
}

fn maps_text(r: &Value) -> String {
    let mut s = format!(
        "{:>6} {:>5} {:>4} {:>6} {:>10} {:>10}\n",
        "id", "type", "key", "value", "max", "entries"
    );
    for m in r["maps"].as_array().into_iter().flatten() {
        s += &format!(
            "{:>6} {:>5} {:>4} {:>6} {:>10} {:>10}\n",
            m["id"], m["type"], m["key-size"], m["value-size"], m["max-entries"], m["entries"]
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    /// Every command of the client, as the issue and docs/monitor.md
    /// name them.
    const COMMANDS: [&str; 11] = [
        "counters", "watch", "reset", "card", "programs", "profile", "estimate", "maps", "trace",
        "pcap", "raw",
    ];

    #[test]
    fn help_names_every_command() {
        use clap::CommandFactory;
        let mut cmd = Args::command();
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .filter(|n| n != "help")
            .collect();
        let mut want: Vec<String> = COMMANDS.iter().map(|&c| c.to_owned()).collect();
        want.sort();
        let mut got = names.clone();
        got.sort();
        assert_eq!(got, want, "the commands are the documented ones");
        let help = cmd.render_help().to_string();
        for n in COMMANDS {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{n} "))),
                "--help lists {n}:\n{help}"
            );
        }
        for (sub, actions) in [("trace", ["start", "stop"]), ("pcap", ["start", "stop"])] {
            let h = cmd
                .find_subcommand_mut(sub)
                .unwrap()
                .render_help()
                .to_string();
            for a in actions {
                assert!(h.contains(a), "{sub} --help lists {a}:\n{h}");
            }
        }
    }

    #[test]
    fn trace_and_pcap_replies_read_as_text() {
        assert_eq!(
            trace_text(&json!({"path": "/t/x", "traced": 20, "dropped": 0})),
            "traced 20 packets into /t/x (0 dropped)"
        );
        assert_eq!(
            pcap_text(
                &json!({"port": 0, "path": "/t/p", "frames": 4, "rx": 2, "tx": 2, "dropped": 1})
            ),
            "recorded 4 frames (2 received, 2 sent) into /t/p (1 dropped)"
        );
    }

    #[test]
    fn watch_rows_give_rate_since_start_and_total() {
        let first: HashMap<String, u64> = [("a".into(), 10), ("b".into(), 0)].into();
        let prev: HashMap<String, u64> = [("a".into(), 20), ("b".into(), 0)].into();
        let now = vec![("a".into(), 40), ("b".into(), 0), ("c".into(), 5)];
        let r = rows(&now, &prev, &first, 2.0);
        assert_eq!(
            r,
            [
                Row {
                    name: "a".into(),
                    rate: 10.0,
                    since: 30,
                    total: 40
                },
                Row {
                    name: "c".into(),
                    rate: 2.5,
                    since: 5,
                    total: 5
                },
            ]
        );
        let t = table(&r);
        assert!(t.starts_with("counter  "), "{t}");
        assert_eq!(t.lines().count(), 3);
        assert!(t.lines().nth(1).unwrap().ends_with(" 40"));
    }

    #[test]
    fn texts_show_counters_programs_and_maps() {
        assert_eq!(
            counters_text(&json!({"a.b": 1, "ccc.d": 22})),
            "a.b    1\nccc.d  22\n"
        );
        let p = json!({"timing": true, "programs": [{
            "seq": 3, "len": 15, "retired": false, "running-on": "vNIC 0",
            "timed": {"packets": 2}, "distribution": {"mean": 421.0, "p50": 421, "p99": 421},
            "estimate_text": "about 37.2 Mpps", "profile": {"rows": [
                {"addr": 3072, "count": 2, "busy": 4, "disasm": "alu[...]"}]}}]});
        let t = programs_text(&p);
        assert!(
            t.contains("prog 3 (vNIC 0): 15 instructions, 2 packets timed, 421.0 cycles/packet"),
            "{t}"
        );
        assert!(t.contains("about 37.2 Mpps") && t.contains(".3072"), "{t}");
        assert_eq!(estimates_text(&p), "prog 3 (vNIC 0): about 37.2 Mpps\n");
        let m = maps_text(
            &json!({"maps": [{"id": 1, "type": 2, "key-size": 4, "value-size": 8, "max-entries": 5, "entries": 5}]}),
        );
        assert_eq!(m.lines().count(), 2);
    }
}
