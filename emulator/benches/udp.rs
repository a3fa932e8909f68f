//! The UDP port backend against a bare `recvmmsg` receiver, measured
//! beside it in the same run (goal, issue #12: the card >= 0.9x the bare
//! receiver). One sender thread blasts 64-byte frames (one per datagram,
//! `sendmmsg` batches of 64, as fast as it can) at a socket on 127.0.0.1;
//! the receiver is either a bare thread calling `recvmmsg` and counting,
//! or a card whose port 0 is `udp:` with the drop program attached (its
//! port receive thread running each packet to completion: MAC counters,
//! flow processor, verdict). Each window counts the frames received; the
//! windows alternate, several rounds, medians reported. What the receiver
//! cannot take the kernel drops, so this is each receiver's capacity.
//!
//! Then the same card with an XDP_TX program (every frame goes back out
//! of port 0 to the sender): the frames/s it receives and sends, which
//! the transmit side's syscalls bound.
//!
//!   cargo bench -p nfp-emu --bench udp            (NFP_BENCH_SECS=2, ROUNDS=3)

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nfp_emu::datapath::mac;
use nfp_emu::fp::FpConfig;
use nfp_emu::fp::exec::{Program, le_words};
use nfp_emu::ports::{PortSpec, gen_frame};

const BATCH: usize = 64;

/// Send 64-byte frames to `to` from `from` until `stop`.
fn blast(from: &UdpSocket, stop: &AtomicBool) {
    let frames: Vec<Vec<u8>> = (0..BATCH as u32).map(|i| gen_frame(64, i)).collect();
    // SAFETY (below): zeroed mmsghdr/iovec are valid values.
    let mut iov: Vec<libc::iovec> = frames
        .iter()
        .map(|f| libc::iovec {
            iov_base: f.as_ptr().cast_mut().cast(),
            iov_len: f.len(),
        })
        .collect();
    // SAFETY: mmsghdr is a plain C struct; all-zero is a valid value.
    let mut hdrs: Vec<libc::mmsghdr> = (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (h, io) in hdrs.iter_mut().zip(iov.iter_mut()) {
        h.msg_hdr.msg_iov = io;
        h.msg_hdr.msg_iovlen = 1;
    }
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: BATCH headers of a connected socket, each with one iovec
        // over a frame that outlives the call.
        unsafe { libc::sendmmsg(from.as_raw_fd(), hdrs.as_mut_ptr(), BATCH as u32, 0) };
    }
}

/// A socket on 127.0.0.1 with a free port, and its address.
fn socket() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let a = s.local_addr().expect("address");
    (s, a)
}

/// Frames per second `count` grows by while `from` blasts at `to`, over a
/// window of `secs` (after a short warm-up).
fn window(from: &UdpSocket, to: SocketAddr, secs: f64, count: &dyn Fn() -> u64) -> f64 {
    let s = from.try_clone().expect("dup");
    s.connect(to).expect("connect");
    let stop = AtomicBool::new(false);
    std::thread::scope(|sc| {
        sc.spawn(|| blast(&s, &stop));
        std::thread::sleep(Duration::from_millis(200));
        let (n0, t0) = (count(), Instant::now());
        std::thread::sleep(Duration::from_secs_f64(secs));
        let (n1, t1) = (count(), Instant::now());
        stop.store(true, Ordering::Relaxed);
        (n1 - n0) as f64 / (t1 - t0).as_secs_f64()
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: f64 = std::env::var("NFP_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let (sender, sender_addr) = socket();

    // The bare receiver: recvmmsg into 64 buffers, count, repeat.
    let (bare, bare_addr) = socket();
    bare.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let bare_thread = {
        let (received, done) = (received.clone(), done.clone());
        std::thread::spawn(move || {
            let mut bufs = vec![[0u8; 2048]; BATCH];
            let mut iov: Vec<libc::iovec> = bufs
                .iter_mut()
                .map(|b| libc::iovec {
                    iov_base: b.as_mut_ptr().cast(),
                    iov_len: b.len(),
                })
                .collect();
            // SAFETY: mmsghdr is a plain C struct; all-zero is a valid value.
            let mut hdrs: Vec<libc::mmsghdr> =
                (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
            for (h, io) in hdrs.iter_mut().zip(iov.iter_mut()) {
                h.msg_hdr.msg_iov = io;
                h.msg_hdr.msg_iovlen = 1;
            }
            while !done.load(Ordering::Relaxed) {
                // SAFETY: BATCH headers, each with one iovec over its own
                // 2 KiB buffer that outlives the call.
                let r = unsafe {
                    libc::recvmmsg(
                        bare.as_raw_fd(),
                        hdrs.as_mut_ptr(),
                        BATCH as u32,
                        libc::MSG_WAITFORONE,
                        std::ptr::null_mut(),
                    )
                };
                if r > 0 {
                    received.fetch_add(r as u64, Ordering::Relaxed);
                }
            }
        })
    };

    // The card: port 0 is a UDP cable from the sender, the drop program
    // runs on it to completion on the port's receive thread.
    let (card_sock, card_addr) = socket();
    drop(card_sock);
    let drop_prog = Arc::new(
        Program::load(
            &le_words(include_bytes!("../src/fp/testdata/p1_drop.ustore.bin")),
            3072,
            1,
            4096,
        )
        .expect("valid image"),
    );
    let card = nfp_emu::bench::card_cabled(
        &drop_prog,
        FpConfig {
            threads: 0,
            ..FpConfig::default()
        },
        vec![
            PortSpec::Udp {
                local: card_addr,
                remote: sender_addr,
            },
            PortSpec::None,
        ],
    )
    .expect("card");
    let dp = card.datapath().clone();

    let (mut bare_pps, mut card_pps) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let b = window(&sender, bare_addr, secs, &|| {
            received.load(Ordering::Relaxed)
        });
        let c = window(&sender, card_addr, secs, &|| {
            dp.mac_stats[0].get(mac::RX_FRAMES_RECEIVED_OK)
        });
        eprintln!(
            "round {round}: bare recvmmsg {:.0} frames/s, card udp port {:.0} frames/s (x{:.2})",
            b,
            c,
            c / b
        );
        bare_pps.push(b);
        card_pps.push(c);
    }
    // The card again, with XDP_TX: each frame back out of port 0.
    let (tx_sock, tx_addr) = socket();
    drop(tx_sock);
    // ci/progs/diff/reflect.c: swap the MAC addresses, XDP_TX.
    let xdp_tx = Arc::new(
        Program::load(
            &le_words(include_bytes!("../src/fp/testdata/corpus/diff-reflect.bin")),
            3072,
            1,
            4096,
        )
        .expect("valid image"),
    );
    let tx_card = nfp_emu::bench::card_cabled(
        &xdp_tx,
        FpConfig {
            threads: 0,
            ..FpConfig::default()
        },
        vec![
            PortSpec::Udp {
                local: tx_addr,
                remote: sender_addr,
            },
            PortSpec::None,
        ],
    )
    .expect("card");
    let tdp = tx_card.datapath().clone();
    let mut tx_pps = Vec::new();
    for round in 0..rounds {
        let sent0 = tdp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK);
        let t0 = Instant::now();
        let r = window(&sender, tx_addr, secs, &|| {
            tdp.mac_stats[0].get(mac::RX_FRAMES_RECEIVED_OK)
        });
        let sent = tdp.mac_stats[0].get(mac::TX_FRAMES_TRANSMITTED_OK) - sent0;
        let t = sent as f64 / t0.elapsed().as_secs_f64();
        eprintln!(
            "round {round}: card udp port XDP_TX: received {r:.0} frames/s, sent {t:.0} frames/s"
        );
        tx_pps.push(r);
    }
    let x = median(tx_pps);
    println!("  card udp port (XDP_TX) {x:>10.0} frames/s received and sent back");
    println!("{{\"xdp_tx_pps\":{x:.0}}}");
    done.store(true, Ordering::Relaxed);
    let _ = bare_thread.join();
    let (b, c) = (median(bare_pps), median(card_pps));
    println!(
        "\nUDP, 64-byte frames, medians of {rounds} windows of {secs} s:\n  bare recvmmsg receiver {:>10.0} frames/s\n  card udp port (drop)   {:>10.0} frames/s\n  ratio                  {:>10.2}",
        b,
        c,
        c / b
    );
    println!(
        "{{\"bare_pps\":{b:.0},\"card_pps\":{c:.0},\"ratio\":{:.3}}}",
        c / b
    );
}
