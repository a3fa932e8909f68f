//! The monitor: commands on a card, and the socket server under several
//! clients and hostile input.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::card::CardConfig;
use crate::datapath::mac;

fn state() -> State {
    State::new(Arc::new(Card::new(&CardConfig::default()).unwrap()))
}

fn ask(s: &State, req: &Value) -> Value {
    handle_line(s, req.to_string().as_bytes())
}

fn ret(s: &State, req: &Value) -> Value {
    let r = ask(s, req);
    r.get("return")
        .cloned()
        .unwrap_or_else(|| panic!("{req} -> {r}"))
}

fn error_class(r: &Value) -> &str {
    r["error"]["class"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
}

#[test]
fn greeting_names_the_version_and_capabilities() {
    let g = greeting();
    assert_eq!(g["QMP"]["version"]["package"], "nfp-emu");
    assert!(g["QMP"]["capabilities"].as_array().unwrap().len() >= 3);
}

#[test]
fn counters_are_queried_by_filter_and_reset_to_a_baseline() {
    let s = state();
    let mac0 = &s.card.datapath().mac_stats[0];
    mac0.add(mac::RX_IN_OCTETS, 640);
    let r = ret(
        &s,
        &json!({"execute": "query-counters", "arguments": {"filter": "port0.mac"}}),
    );
    let c = r["counters"].as_object().unwrap();
    assert_eq!(c["port0.mac.rx_octets"], 640);
    assert!(c.keys().all(|k| k.starts_with("port0.mac.")), "{c:?}");
    assert_eq!(r["since-reset"], false);
    // Every block of a card without firmware: ports, DMA, MSI-X, QC, NSP.
    let all = ret(&s, &json!({"execute": "query-counters"}));
    for name in [
        "port1.wire.tx_dropped",
        "dma.errors",
        "msix.raised",
        "qc.doorbells",
        "nsp.commands",
    ] {
        assert!(all["counters"].get(name).is_some(), "{name}");
    }
    assert_eq!(ret(&s, &json!({"execute": "reset-counters"})), json!({}));
    mac0.add(mac::RX_IN_OCTETS, 64);
    let q = |args: Value| ret(&s, &json!({"execute": "query-counters", "arguments": args}));
    let r = q(json!({"filter": ["port0.mac.rx_octets"]}));
    assert_eq!(r["counters"], json!({"port0.mac.rx_octets": 64}));
    assert_eq!(r["since-reset"], true);
    let r = q(json!({"filter": ["port0.mac.rx_octets"], "total": true}));
    assert_eq!(
        r["counters"]["port0.mac.rx_octets"], 704,
        "the card's own total"
    );
    let r = q(json!({"nonzero": true}));
    assert_eq!(r["counters"], json!({"port0.mac.rx_octets": 64}));
}

#[test]
fn errors_are_replies_with_qmp_classes_and_ids_come_back() {
    let s = state();
    let r = ask(&s, &json!({"execute": "no-such-command", "id": 7}));
    assert_eq!(error_class(&r), "CommandNotFound");
    assert_eq!(r["id"], 7);
    for bad in [
        json!({"execute": "query-counters", "arguments": {"filter": 3}}),
        json!({"execute": "query-counters", "arguments": {"total": "yes"}}),
        json!({"execute": "query-counters", "arguments": {"bogus": 1}}),
        json!({"execute": "dump-map"}),
        json!({"execute": "dump-map", "arguments": {"id": 5}}),
        json!({"execute": "dump-map", "arguments": {"id": -1}}),
        json!({"execute": "dump-map", "arguments": {"id": 1, "after": "xyz"}}),
        json!({"execute": 5}),
        json!({"execute": "query-card", "arguments": [1]}),
        json!({"execute": "query-card", "extra": 1}),
        json!({"arguments": {}}),
        json!([1, 2]),
        json!("query-card"),
    ] {
        let r = ask(&s, &bad);
        assert_eq!(error_class(&r), "GenericError", "{bad} -> {r}");
        assert!(!r["error"]["desc"].as_str().unwrap().is_empty());
    }
    for text in [
        "",
        "{",
        "{\"execute\":",
        "\u{0}\u{1}",
        "{\"execute\": \"query-card\"} x",
    ] {
        let r = handle_line(&s, text.as_bytes());
        assert_eq!(error_class(&r), "GenericError", "{text:?}");
    }
    assert_eq!(
        error_class(&handle_line(&s, &[0xff, 0xfe, b'{'])),
        "GenericError"
    );
}

#[test]
fn card_programs_and_maps_are_described() {
    let s = state();
    let card = ret(&s, &json!({"execute": "query-card"}));
    assert_eq!(card["ports"].as_array().unwrap().len(), 2);
    assert_eq!(card["ports"][0]["link"], false, "nothing plugged in");
    assert!(card["board"]["model"].is_string());
    assert_eq!(card["firmware"], Value::Null, "no firmware yet");
    let progs = ret(
        &s,
        &json!({"execute": "query-programs", "arguments": {"profile": true}}),
    );
    assert_eq!(progs["programs"], json!([]));
    let maps = ret(&s, &json!({"execute": "query-maps"}));
    assert_eq!(maps["maps"], json!([]));
    let cmds = ret(&s, &json!({"execute": "query-commands"}));
    assert_eq!(cmds.as_array().unwrap().len(), commands::COMMANDS.len());
}

/// A program loaded through the timing model shows up with its totals
/// and, asked for, its hottest instructions; a map's entries page.
#[test]
fn programs_report_timing_and_maps_dump_in_pages() {
    use crate::fp::asm::{self, R, br};
    use crate::fp::exec::Program;
    use crate::fp::timing::Owner;
    let s = state();
    let prog = Arc::new(
        Program::load(
            &[
                asm::br(br::UNC, 1, 2),
                asm::alu(R::A(0), R::None, asm::alu_op::NONE, R::Imm(0)),
                asm::immed(R::A(0), 0x22, 0, false, 2),
            ],
            3072,
            1,
            4096,
        )
        .unwrap(),
    );
    let timing = s.card.datapath().timing();
    let owner = Owner {
        vnic: 0,
        port: 0,
        name: "vNIC 0".into(),
    };
    timing.loaded(&prog, &owner);
    let r = ret(&s, &json!({"execute": "query-programs"}));
    let p = &r["programs"][0];
    assert_eq!(p["seq"], prog.seq);
    assert_eq!(p["len"], 3);
    assert_eq!(p["owner"]["name"], "vNIC 0");
    assert_eq!(p["estimate-mpps"], Value::Null, "no packet timed yet");
    assert!(p.get("profile").is_none(), "rows only when asked");
    let r = ret(
        &s,
        &json!({"execute": "query-programs", "arguments": {"profile": true, "top": 1}}),
    );
    assert!(r["programs"][0]["profile"]["rows"].is_array());

    // An array map of 5 u32 values.
    let maps = &s.card.datapath().maps;
    maps.reset(Some(
        crate::maps::caps::BpfCaps::parse(&nfp_firmware::image::bpf_capabilities())
            .maps
            .unwrap(),
    ));
    let tid = maps
        .alloc(4, 4, 5, crate::maps::BPF_MAP_TYPE_ARRAY, 0)
        .expect("array map");
    maps.update(tid, &3u32.to_le_bytes(), &0xaabb_ccddu32.to_le_bytes(), 0)
        .unwrap();
    let list = ret(&s, &json!({"execute": "query-maps"}));
    assert_eq!(list["maps"][0]["id"], tid);
    assert_eq!(list["maps"][0]["max-entries"], 5);
    let page = |after: Option<&str>| {
        let mut args = json!({"id": tid, "max": 2});
        if let Some(a) = after {
            args["after"] = json!(a);
        }
        ret(&s, &json!({"execute": "dump-map", "arguments": args}))
    };
    let p1 = page(None);
    assert_eq!(p1["entries"].as_array().unwrap().len(), 2);
    assert_eq!(p1["next"], "01000000");
    let p2 = page(Some("01000000"));
    assert_eq!(
        p2["entries"][1],
        json!({"key": "03000000", "value": "ddccbbaa"})
    );
    let p3 = page(p2["next"].as_str());
    assert_eq!(p3["entries"].as_array().unwrap().len(), 1);
    assert_eq!(p3["next"], Value::Null);
}

/// A socket path of this test's own.
fn sock(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("nfp-mon-{}-{name}.sock", std::process::id()))
}

struct Client {
    r: BufReader<UnixStream>,
    w: UnixStream,
}

impl Client {
    fn connect(path: &Path) -> Self {
        let w = UnixStream::connect(path).expect("connect");
        // A failure guard, not a wait: replies come at once.
        w.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        Self {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    fn line(&mut self) -> Value {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("a reply");
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l:?}: {e}"))
    }

    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
    }

    fn ask(&mut self, req: &Value) -> Value {
        self.send(format!("{req}\n").as_bytes());
        self.line()
    }
}

#[test]
fn the_socket_serves_several_clients_and_survives_hostile_input() {
    let s = state();
    let path = sock("serve");
    let mon = Monitor::start(&path, s.card.clone()).expect("monitor");
    assert!(matches!(
        Monitor::start(&path, s.card.clone()),
        Err(MonitorError::InUse(_))
    ));
    let mut clients: Vec<Client> = (0..3).map(|_| Client::connect(mon.path())).collect();
    for c in &mut clients {
        assert_eq!(c.line(), greeting());
    }
    let q = json!({"execute": "query-counters", "arguments": {"filter": "nsp"}, "id": "x"});
    for c in &mut clients {
        let r = c.ask(&q);
        assert_eq!(r["id"], "x");
        assert!(r["return"]["counters"]["nsp.commands"].is_u64(), "{r}");
    }

    // Random bytes, then malformed lines: every line gets an error reply,
    // and a good request afterwards is answered.
    let c = &mut clients[0];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 300) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|i| {
                let b = (x >> (i % 8 * 8)) as u8 ^ i as u8;
                if b == b'\n' { b' ' } else { b }
            })
            .collect();
        c.send(&bytes);
        c.send(b"\n");
        // Blank lines are skipped without a reply, as QMP does.
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let r = c.line();
            assert!(r.get("error").is_some(), "round {round}: {r}");
        }
        if round % 50 == 0 {
            assert!(c.ask(&q).get("return").is_some());
        }
    }
    let deep = format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    c.send(deep.as_bytes());
    assert_eq!(error_class(&c.line()), "GenericError");
    let long = vec![b'a'; MAX_LINE * 3];
    c.send(&long);
    c.send(b"\n");
    let r = c.line();
    assert!(
        r["error"]["desc"].as_str().unwrap().contains("longer"),
        "{r}"
    );
    assert!(
        c.ask(&q).get("return").is_some(),
        "served on after a long line"
    );

    // A client that leaves mid-conversation, without reading its replies.
    {
        let mut gone = Client::connect(mon.path());
        for _ in 0..100 {
            gone.send(format!("{}\n", json!({"execute": "query-counters"})).as_bytes());
        }
    }
    // More clients than allowed: the extra one is told so.
    let mut many: Vec<Client> = (0..MAX_CLIENTS)
        .map(|_| Client::connect(mon.path()))
        .collect();
    let mut refused = 0;
    for c in &mut many {
        let first = c.line();
        if first.get("error").is_some() {
            refused += 1;
        }
    }
    assert!(
        refused >= 3,
        "{refused} refused: the 3 clients above are still served"
    );
    drop(many);
    for c in &mut clients {
        assert!(c.ask(&q).get("return").is_some(), "still served");
    }
    drop(mon);
    assert!(!path.exists(), "socket removed");
}

#[test]
fn the_client_executes_commands_and_reports_their_errors() {
    let s = state();
    let path = sock("client");
    let mon = Monitor::start(&path, s.card.clone()).expect("monitor");
    let mut c = client::Client::connect(mon.path(), Duration::from_secs(120)).unwrap();
    assert_eq!(c.greeting["version"]["package"], "nfp-emu");
    let r = c
        .execute("query-counters", json!({"filter": "dma"}))
        .unwrap();
    assert!(r["counters"]["dma.errors"].is_u64(), "{r}");
    assert_eq!(c.execute("reset-counters", Value::Null).unwrap(), json!({}));
    match c.execute("nope", Value::Null) {
        Err(client::ClientError::Command { class, .. }) => assert_eq!(class, "CommandNotFound"),
        r => panic!("{r:?}"),
    }
    match c.execute("query-card", json!({"x": 1})) {
        Err(client::ClientError::Command { class, desc }) => {
            assert_eq!(class, "GenericError");
            assert!(desc.contains("unexpected argument"), "{desc}");
        }
        r => panic!("{r:?}"),
    }
}

/// Stopping the monitor does not hang when its socket file was removed
/// behind its back (the accept loop cannot be woken then).
#[test]
fn stopping_survives_a_removed_socket_file() {
    let s = state();
    let path = sock("removed");
    let mon = Monitor::start(&path, s.card.clone()).expect("monitor");
    std::fs::remove_file(&path).unwrap();
    drop(mon);
    assert!(!path.exists());
    // And the path can be served again.
    let mon = Monitor::start(&path, s.card.clone()).expect("monitor again");
    Client::connect(mon.path()).line();
}

/// A card whose two ports both run `code` as their XDP verdict (the
/// result word's code byte, as the XDP outro leaves it), packets run on
/// the thread that hands them in (no workers): everything a frame causes
/// has happened when `wire_rx` returns.
fn offloaded(code: u16) -> State {
    use crate::fp::asm::{self, R, alu_op, br};
    // .3072: br[.1 (DONE)] with two defer slots, which set A0.
    let words = [
        asm::br(br::UNC, 1, 2),
        asm::alu(R::A(0), R::None, alu_op::NONE, R::Imm(0)),
        asm::immed(R::A(0), code, 0, false, 2),
    ];
    let prog = Arc::new(crate::fp::exec::Program::load(&words, 3072, 1, 4096).unwrap());
    let fp = crate::fp::FpConfig {
        threads: 0,
        mes: 4,
        ..Default::default()
    };
    let card = crate::bench::card_with(&prog, fp).unwrap();
    card.datapath().attach_program(1, &prog).unwrap();
    State::new(Arc::new(card))
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("nfp-mon-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn frame(i: u8, len: usize) -> Vec<u8> {
    (0..len).map(|k| i ^ k as u8).collect()
}

#[test]
fn a_trace_lists_the_addresses_each_packet_ran_for_count_packets() {
    let s = offloaded(0x22);
    let dir = scratch("trace-count");
    let path = dir.join("trace.jsonl");
    let start = json!({"execute": "trace-start", "arguments": {"path": path, "count": 3}});
    assert_eq!(ret(&s, &start), json!({}));
    // A second trace while one runs is refused, and the first's file is
    // untouched.
    let r = ask(&s, &start);
    assert_eq!(error_class(&r), "GenericError", "{r}");
    let dp = s.card.datapath();
    for i in 0..5 {
        dp.wire_rx(0, &frame(i, 64));
    }
    let r = ret(&s, &json!({"execute": "trace-stop"}));
    assert_eq!(
        (r["traced"].as_u64(), r["dropped"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(r["path"], json!(path));
    let lines: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "exactly count packets");
    let seq = dp.port_vnic(0).unwrap().bpf().unwrap().seq;
    for (n, p) in lines.iter().enumerate() {
        // The branch and its two defer slots, then DONE.
        assert_eq!(p["pcs"], json!([3072, 3073, 3074]), "{p}");
        let asm: Vec<&str> = p["disasm"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert_eq!(asm.len(), 3);
        assert!(asm[0].starts_with("br"), "{asm:?}");
        assert!(asm[2].starts_with("immed"), "{asm:?}");
        assert_eq!(p["packet"], n);
        assert_eq!((p["port"].as_u64(), p["vnic"].as_u64()), (Some(0), Some(0)));
        assert_eq!(
            (p["prog"].as_u64(), p["insns"].as_u64()),
            (Some(seq), Some(3))
        );
        assert_eq!(
            (p["verdict"].as_str(), p["frame_len"].as_u64()),
            (Some("DROP"), Some(64))
        );
        assert_eq!(p["truncated"], false);
    }
    // The count used up, the data path is back on its unobserved path.
    assert!(!dp.timing().level().tracing());
    let r = ask(&s, &json!({"execute": "trace-stop"}));
    assert_eq!(error_class(&r), "GenericError", "nothing to stop: {r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_trace_by_port_takes_only_that_ports_packets_and_writes_text() {
    let s = offloaded(0x22);
    let dir = scratch("trace-port");
    let path = dir.join("trace.txt");
    let args = json!({"path": path, "port": 1, "format": "text"});
    ret(&s, &json!({"execute": "trace-start", "arguments": args}));
    let dp = s.card.datapath();
    for i in 0..6 {
        dp.wire_rx(usize::from(i % 2), &frame(i, 60 + usize::from(i)));
    }
    // Timing on too: the trace runs beside the meter and shows cycles.
    dp.timing().set_timing(true);
    dp.wire_rx(1, &frame(9, 100));
    dp.wire_rx(0, &frame(9, 100));
    let r = ret(&s, &json!({"execute": "trace-stop"}));
    assert_eq!(r["traced"], 4, "port 1's packets only: {r}");
    let text = std::fs::read_to_string(&path).unwrap();
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("packet ")).collect();
    assert_eq!(heads.len(), 4, "{text}");
    for (h, len) in heads.iter().zip([61, 63, 65, 100]) {
        assert!(
            h.contains("port 1 vnic 1")
                && h.contains(&format!("{len} bytes, DROP, 3 instructions")),
            "{h}"
        );
    }
    assert!(heads[3].ends_with(" cycles"), "metered: {}", heads[3]);
    assert_eq!(text.lines().filter(|l| l.starts_with("  .307")).count(), 12);
    // After the stop nothing is traced and the file stays as it was.
    dp.wire_rx(1, &frame(1, 60));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pcap_holds_each_frame_the_port_received_and_sent() {
    use pcap_file::pcap::PcapReader;
    // XDP_TX: each frame goes back out of the port it came in on.
    let s = offloaded(0x44);
    let dir = scratch("pcap");
    let path = dir.join("port0.pcap");
    let start = json!({"execute": "pcap-start", "arguments": {"port": 0, "path": path}});
    assert_eq!(ret(&s, &start), json!({}));
    assert_eq!(
        error_class(&ask(&s, &start)),
        "GenericError",
        "already running"
    );
    let dp = s.card.datapath();
    let frames: Vec<Vec<u8>> = (0..7u8)
        .map(|i| frame(i, 60 + 11 * usize::from(i)))
        .collect();
    for f in &frames {
        dp.wire_rx(0, f);
        // Another port's traffic is not in port 0's capture.
        dp.wire_rx(1, f);
    }
    let r = ret(
        &s,
        &json!({"execute": "pcap-stop", "arguments": {"port": 0}}),
    );
    assert_eq!(
        (
            r["frames"].as_u64(),
            r["rx"].as_u64(),
            r["tx"].as_u64(),
            r["dropped"].as_u64()
        ),
        (Some(14), Some(7), Some(7), Some(0)),
        "{r}"
    );
    let mut rd = PcapReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut got = Vec::new();
    while let Some(p) = rd.next_packet() {
        let p = p.unwrap();
        assert_eq!(p.orig_len as usize, p.data.len());
        got.push(p.data.into_owned());
    }
    // Each frame as it arrived, then as the program sent it back.
    let want: Vec<Vec<u8>> = frames.iter().flat_map(|f| [f.clone(), f.clone()]).collect();
    assert_eq!(got, want);
    let r = ask(
        &s,
        &json!({"execute": "pcap-stop", "arguments": {"port": 0}}),
    );
    assert_eq!(error_class(&r), "GenericError", "not running: {r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn trace_and_pcap_arguments_are_checked() {
    let s = offloaded(0x22);
    let dir = scratch("args");
    let ok = dir.join("x");
    let missing = dir.join("no-such-dir").join("x");
    for (cmd, args) in [
        ("trace-start", json!({})),
        ("trace-start", json!({"path": "relative.jsonl"})),
        ("trace-start", json!({"path": missing})),
        ("trace-start", json!({"path": dir})),
        ("trace-start", json!({"path": 5})),
        ("trace-start", json!({"path": ok, "count": 0})),
        ("trace-start", json!({"path": ok, "count": -1})),
        ("trace-start", json!({"path": ok, "port": 2})),
        ("trace-start", json!({"path": ok, "vnic": 300})),
        ("trace-start", json!({"path": ok, "format": "xml"})),
        ("trace-start", json!({"path": ok, "bogus": 1})),
        ("trace-stop", json!({"now": true})),
        ("trace-stop", json!({})),
        ("pcap-start", json!({"path": ok})),
        ("pcap-start", json!({"port": 0})),
        ("pcap-start", json!({"port": 7, "path": ok})),
        ("pcap-start", json!({"port": 0, "path": "x.pcap"})),
        ("pcap-start", json!({"port": 0, "path": missing})),
        ("pcap-stop", json!({})),
        ("pcap-stop", json!({"port": 0})),
        ("pcap-stop", json!({"port": "0"})),
    ] {
        let r = ask(&s, &json!({"execute": cmd, "arguments": args}));
        assert_eq!(error_class(&r), "GenericError", "{cmd} {args} -> {r}");
        assert!(!r["error"]["desc"].as_str().unwrap().is_empty());
    }
    // Nothing was started, nothing was created.
    assert!(!s.card.datapath().timing().level().tracing());
    assert!(!ok.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
