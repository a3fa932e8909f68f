//! The backends through their traits, as the datapath drives them.

use std::net::UdpSocket;
use std::sync::Mutex;

use super::*;

fn pool() -> Arc<FramePool> {
    Arc::new(FramePool::default())
}

#[test]
fn specs_parse() {
    assert_eq!("none".parse::<PortSpec>().ok(), Some(PortSpec::None));
    assert_eq!("loop:1".parse::<PortSpec>().ok(), Some(PortSpec::Loop(1)));
    assert_eq!(
        "tap:nfp0".parse::<PortSpec>().ok(),
        Some(PortSpec::Tap("nfp0".into()))
    );
    let u: PortSpec = "udp:127.0.0.1:5555@127.0.0.1:6666".parse().unwrap();
    assert_eq!(u.to_string(), "udp:127.0.0.1:5555@127.0.0.1:6666");
    for bad in [
        "loop:x",
        "udp:1.2.3.4:5",
        "tap:",
        "tap:waytoolonginterfacename",
        "wire:0",
        "loop",
    ] {
        assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
    }
    let e = "loop".parse::<PortSpec>().unwrap_err().to_string();
    assert!(
        e.contains("expected none, loop:P, udp:L@R, tap:IF, pcap:FILE[,loop=K][,rate=PPS] or gen:"),
        "{e}"
    );
    assert!(matches!(
        parse_assignment("1=loop:0"),
        Ok((1, PortSpec::Loop(0)))
    ));
    assert!(matches!(
        parse_assignment("loop:0"),
        Err(PortError::Assignment(_))
    ));
    assert!(matches!(
        parse_assignment("x=loop:0"),
        Err(PortError::PortNumber { .. })
    ));
}

/// Receive one batch from `rx`.
fn recv(rx: &mut dyn WireRx) -> Vec<Vec<u8>> {
    let mut b = RxBatch::new(RX_BATCH, 2048);
    let n = rx.recv_batch(&mut b).unwrap();
    assert_eq!(n, b.len());
    b.frames().map(<[u8]>::to_vec).collect()
}

#[test]
fn loop_cable_carries_frames_both_ways() {
    let pool = pool();
    let mut ports = connect(&[PortSpec::Loop(1), PortSpec::Loop(0)], None, &pool).unwrap();
    let (w1, mut i1) = ports.pop().unwrap();
    let (w0, mut i0) = ports.pop().unwrap();
    assert!(w0.link_up() && w1.link_up());
    assert!(matches!(i0.readiness(), Readiness::Blocking));
    assert!(w0.send(b"to port one"));
    assert!(w1.send(b"to port zero"));
    assert_eq!(recv(&mut *i1), [b"to port one".to_vec()]);
    assert_eq!(recv(&mut *i0), [b"to port zero".to_vec()]);
    assert!(matches!(
        connect(&[PortSpec::Loop(5)], None, &pool),
        Err(PortError::NoPeer { .. })
    ));
}

#[test]
fn loop_cable_delivers_what_is_queued_in_one_batch_and_ends_with_its_peer() {
    let pool = pool();
    let mut ports = connect(&[PortSpec::Loop(0)], None, &pool).unwrap();
    let (w, mut rx) = ports.pop().unwrap();
    for i in 0..RX_BATCH + 3 {
        assert!(w.send(&[i as u8; 60]));
    }
    assert_eq!(w.send_batch(&[&[1; 60], &[2; 60]], &mut [false; 2]), 2);
    let first = recv(&mut *rx);
    assert_eq!(first.len(), RX_BATCH, "a full batch at once");
    assert_eq!(first[7], [7u8; 60]);
    assert_eq!(recv(&mut *rx).len(), 5, "the rest");
    // A full queue drops, and the port counts it.
    for _ in 0..LOOP_QUEUE {
        assert!(w.send(&[0; 60]));
    }
    assert!(!w.send(&[0; 60]));
    assert_eq!(w.stats.tx_dropped.load(Ordering::Relaxed), 1);
    // The queued frames still arrive after the sending end is gone, then
    // the input ends.
    drop(w);
    let mut n = 0;
    receive_loop(0, &mut *rx, |b| {
        n += b.len();
        true
    });
    assert_eq!(n, LOOP_QUEUE);
}

#[test]
fn an_empty_port_has_no_link_and_no_input() {
    let mut ports = connect(&[PortSpec::None], None, &pool()).unwrap();
    let (w, mut rx) = ports.pop().unwrap();
    assert!(!w.link_up());
    assert!(!w.send(b"into the void"));
    assert_eq!(w.stats.tx_dropped.load(Ordering::Relaxed), 1);
    assert!(matches!(rx.readiness(), Readiness::Never));
    let mut b = RxBatch::new(1, 64);
    assert_eq!(rx.recv_batch(&mut b).unwrap(), 0);
}

#[test]
fn udp_port_sends_one_frame_per_datagram() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = UdpSocket::bind("127.0.0.1:0").unwrap();
    let laddr = local.local_addr().unwrap();
    drop(local);
    let spec = PortSpec::Udp {
        local: laddr,
        remote: peer.local_addr().unwrap(),
    };
    let mut ports = connect(&[spec], None, &pool()).unwrap();
    let (w, mut input) = ports.pop().unwrap();
    assert!(matches!(input.readiness(), Readiness::Fd(_)));
    assert!(w.send(b"\x00\x01frame"));
    let mut b = [0u8; 64];
    let (n, from) = peer.recv_from(&mut b).unwrap();
    assert_eq!(&b[..n], b"\x00\x01frame");
    assert_eq!(from, laddr);
    peer.send_to(b"reply", laddr).unwrap();
    let mut got = Vec::new();
    receive_loop(0, &mut *input, |batch| {
        for f in batch.frames() {
            got.extend_from_slice(f);
        }
        false
    });
    assert_eq!(got, b"reply");
}

#[test]
fn udp_port_receives_and_sends_batches() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = UdpSocket::bind("127.0.0.1:0").unwrap();
    let laddr = local.local_addr().unwrap();
    drop(local);
    let spec = PortSpec::Udp {
        local: laddr,
        remote: peer.local_addr().unwrap(),
    };
    let mut ports = connect(&[spec], None, &pool()).unwrap();
    let (w, mut input) = ports.pop().unwrap();
    // Datagrams queued before the receive come in one recvmmsg call, up
    // to the batch, in order; the rest in the next.
    for i in 0..RX_BATCH + 5 {
        peer.send_to(&[i as u8; 70], laddr).unwrap();
    }
    let mut b = RxBatch::new(RX_BATCH, 2048);
    assert_eq!(input.recv_batch(&mut b).unwrap(), RX_BATCH);
    assert!(b.frames().enumerate().all(|(i, f)| f == [i as u8; 70]));
    b.clear();
    b.push(b"already here");
    assert_eq!(input.recv_batch(&mut b).unwrap(), 5);
    assert_eq!(b.len(), 6);
    assert_eq!(b.frame(1), Some(&[RX_BATCH as u8; 70][..]));
    let mut full = RxBatch::new(1, 64);
    full.push(b"x");
    assert!(
        input.recv_batch(&mut full).is_err(),
        "a full batch is refused"
    );
    // A batch goes out with sendmmsg, one datagram per frame, in order.
    let frames: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 60 + usize::from(i)]).collect();
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    assert_eq!(w.send_batch(&refs, &mut [false; 100]), 100);
    let mut buf = [0u8; 256];
    for f in &frames {
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&f[..], laddr));
    }
    assert_eq!(w.stats.tx_dropped.load(Ordering::Relaxed), 0);
}

#[test]
fn pcap_files_hold_the_frames() {
    let dir = std::env::temp_dir().join(format!("nfp-emu-pcap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ports = connect(&[PortSpec::Loop(1), PortSpec::Loop(0)], Some(&dir), &pool()).unwrap();
    let (w1, _) = ports.pop().unwrap();
    let (w0, mut rx0) = ports.pop().unwrap();
    w0.send(&[0xaa; 60]);
    w1.send(&[0xbb; 64]);
    assert_eq!(recv(&mut *rx0).len(), 1);
    let tx = std::fs::read(dir.join("port0-tx.pcap")).unwrap();
    let rx = std::fs::read(dir.join("port0-rx.pcap")).unwrap();
    // 24-byte file header + 16-byte record header + data.
    assert_eq!(tx.len(), 24 + 16 + 60);
    assert_eq!(rx.len(), 24 + 16 + 64);
    let _ = std::fs::remove_dir_all(dir);
}

/// A backend defined outside this module's list: frames it sends are
/// kept, and it delivers a scripted sequence of batches.
#[derive(Default)]
struct Scripted {
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
    script: Vec<Vec<&'static [u8]>>,
}

impl WireTx for Scripted {
    fn send(&self, frame: &[u8]) -> bool {
        self.sent.lock().unwrap().push(frame.to_vec());
        frame.len() < 100
    }
}

impl WireRx for Scripted {
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        if self.script.is_empty() {
            return Ok(0);
        }
        let frames = self.script.remove(0);
        Ok(frames.iter().take_while(|f| batch.push(f)).count())
    }

    fn readiness(&self) -> Readiness<'_> {
        Readiness::Always
    }
}

#[test]
fn any_backend_plugs_in_and_is_recorded() {
    let dir = std::env::temp_dir().join(format!("nfp-emu-seam-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sent = Arc::new(Mutex::new(Vec::new()));
    let link = Link {
        tx: Box::new(Scripted {
            sent: sent.clone(),
            ..Scripted::default()
        }),
        rx: Box::new(Scripted {
            script: vec![vec![&[1; 60], &[2; 61]], vec![&[3; 62]]],
            ..Scripted::default()
        }),
    };
    let Link { tx, mut rx } = record::wrap(link, &dir, 7).unwrap();
    let w = Wire {
        index: 7,
        spec: PortSpec::None,
        tx,
        stats: WireStats::default(),
    };
    assert!(w.link_up());
    // The default batch send drops the frame the backend refuses and
    // sends the rest.
    let mut marks = [true; 3];
    assert_eq!(
        w.send_batch(&[&[9; 10], &[9; 200], &[9; 10]], &mut marks),
        2
    );
    assert_eq!(marks, [true, false, true]);
    assert_eq!(w.stats.tx_dropped.load(Ordering::Relaxed), 1);
    assert_eq!(sent.lock().unwrap().len(), 3);
    let mut batches = Vec::new();
    receive_loop(7, &mut *rx, |b| {
        batches.push(b.frames().map(<[u8]>::len).collect::<Vec<_>>());
        true
    });
    assert_eq!(batches, [vec![60, 61], vec![62]]);
    let rx = std::fs::read(dir.join("port7-rx.pcap")).unwrap();
    let tx = std::fs::read(dir.join("port7-tx.pcap")).unwrap();
    assert_eq!(rx.len(), 24 + 3 * 16 + 60 + 61 + 62);
    assert_eq!(
        tx.len(),
        24 + 3 * 16 + 10 + 200 + 10,
        "every frame handed to the wire"
    );
    let _ = std::fs::remove_dir_all(dir);
}
