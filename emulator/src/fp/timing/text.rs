//! The profile file's text form: per program, its traffic, cycles, the
//! estimate with every bound, and the profile's rows hottest first.

use std::fmt::Write;

use super::model::Verdict;
use super::{ProgramReport, Snapshot};

/// Every program of `snap` as text.
pub fn render(snap: &Snapshot) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "timing {}, profiling {} (model: docs/timing.md; {} MEs at {} MHz)",
        on(snap.timing),
        on(snap.profiling),
        snap.model.worker_mes,
        snap.model.me_clock_hz / 1_000_000
    );
    if snap.programs.is_empty() {
        s.push_str("no program loaded\n");
    }
    for p in &snap.programs {
        s.push('\n');
        program(&mut s, p, usize::MAX);
    }
    s
}

fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// One program's report as text, with at most `rows` profile rows.
pub fn program(s: &mut String, p: &ProgramReport, rows: usize) {
    let who = p.owner.as_ref().map_or_else(
        || "not loaded by a vNIC".to_owned(),
        |o| format!("{}, port {}", o.name, o.port),
    );
    let _ = writeln!(
        s,
        "program {} ({who}): {} instructions at .{}{}",
        p.seq,
        p.len,
        p.start,
        if p.retired { ", replaced" } else { "" }
    );
    let t = &p.timed;
    if t.packets == 0 {
        s.push_str("  no packet timed\n");
        return;
    }
    let verdicts: Vec<String> = Verdict::ALL
        .iter()
        .zip(t.verdicts)
        .map(|(v, n)| format!("{} {n}", v.as_str()))
        .collect();
    let n = t.packets as f64;
    let _ = writeln!(s, "  packets {}: {}", t.packets, verdicts.join(", "));
    let d = &p.distribution;
    let _ = writeln!(
        s,
        "  cycles per packet: min {}, mean {:.1}, p50 {}, p90 {}, p99 {}, max {} (program {:.1}, firmware {:.1})",
        d.min,
        d.mean,
        d.p50,
        d.p90,
        d.p99,
        d.max,
        t.prog_cycles as f64 / n,
        t.fw_cycles as f64 / n
    );
    let _ = writeln!(
        s,
        "  per packet: {:.1} instructions, {:.1} CTM and {:.1} EMEM commands, {:.1} helper calls, {:.1} EMEM operations",
        t.insns as f64 / n,
        t.ctm_cmds as f64 / n,
        t.emem_cmds as f64 / n,
        t.helper_calls as f64 / n,
        t.emem_ops as f64 / n
    );
    if let Some(e) = &p.estimate {
        let _ = writeln!(s, "  {}", e.sentence());
        let _ = writeln!(
            s,
            "    bounds: MEs {:.1} Mpps, EMEM {:.1} Mpps, MAC/NBI {:.1} Mpps, line {:.1} Mpps",
            e.me_pps / 1e6,
            e.emem_pps / 1e6,
            e.nbi_pps / 1e6,
            e.line_pps / 1e6
        );
    }
    let pr = &p.profile;
    if pr.totals.packets == 0 {
        s.push_str("  no packet profiled\n");
        return;
    }
    let _ = writeln!(
        s,
        "  profile of {} packets: {} instructions, {} program cycles, {} firmware cycles",
        pr.totals.packets, pr.totals.insns, pr.totals.prog_cycles, pr.totals.fw_cycles
    );
    let _ = writeln!(
        s,
        "    {:>7} {:>12} {:>12} {:>14} {:>14}  instruction",
        "addr", "count", "taken", "cycles", "wait"
    );
    for r in pr.rows.iter().take(rows) {
        let _ = writeln!(
            s,
            "    {:>7} {:>12} {:>12} {:>14} {:>14}  {}",
            format!(".{}", r.addr),
            r.count,
            r.taken,
            r.busy,
            r.wait,
            r.disasm
        );
    }
    if pr.rows.len() > rows {
        let _ = writeln!(s, "    ... {} more addresses", pr.rows.len() - rows);
    }
    for h in &pr.helpers {
        let _ = writeln!(
            s,
            "    {:>7} {:>12} {:>12} {:>14} {:>14}  helper {}",
            "helper", h.count, "", h.busy, h.wait, h.name
        );
    }
    let _ = writeln!(
        s,
        "    {:>7} {:>12} {:>12} {:>14} {:>14}  latency the other contexts did not hide",
        "exposed", "", "", pr.exposed, ""
    );
}
