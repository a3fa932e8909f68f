//! The binaries' `--help`: `nfp-emu` documents `--timing FILE` and
//! `--monitor PATH`; `nfp-ctl` names every command (issue #10).

use std::process::Command;

fn help(bin: &str) -> String {
    let out = Command::new(bin).arg("--help").output().unwrap();
    assert!(out.status.success(), "{bin} --help: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn nfp_emu_help_documents_timing_and_monitor() {
    let h = help(env!("CARGO_BIN_EXE_nfp-emu"));
    for opt in ["--timing <FILE>", "--monitor <PATH>"] {
        assert!(h.contains(opt), "nfp-emu --help documents {opt}:\n{h}");
    }
    // The monitor's help names its commands.
    for cmd in ["trace-start", "trace-stop", "pcap-start", "pcap-stop"] {
        assert!(h.contains(cmd), "nfp-emu --help names {cmd}:\n{h}");
    }
}

#[test]
fn nfp_ctl_help_names_every_command() {
    let h = help(env!("CARGO_BIN_EXE_nfp-ctl"));
    for cmd in [
        "counters", "watch", "reset", "card", "programs", "profile", "estimate", "maps", "trace",
        "pcap", "raw",
    ] {
        assert!(
            h.lines()
                .any(|l| l.trim_start().starts_with(&format!("{cmd} "))),
            "nfp-ctl --help names {cmd}:\n{h}"
        );
    }
}
