//! `--pcap DIR`: record what crosses a port, whatever is plugged into it,
//! to `DIR/portN-rx.pcap` and `DIR/portN-tx.pcap`: a wrapper around any
//! backend's two ends.

use std::fs::File;
use std::path::Path;
use std::time::SystemTime;

use parking_lot::Mutex;
use pcap_file::pcap::{PcapPacket, PcapWriter};
use tracing::warn;

use super::{Link, PortError, Readiness, RxBatch, WireRx, WireTx};

/// Wrap `link`, the backend of port `port`, so that its traffic is
/// recorded in `dir`.
pub(super) fn wrap(link: Link, dir: &Path, port: usize) -> Result<Link, PortError> {
    let rx = Recorder::create(&dir.join(format!("port{port}-rx.pcap")))?;
    let tx = Recorder::create(&dir.join(format!("port{port}-tx.pcap")))?;
    Ok(Link {
        tx: Box::new(RecordTx {
            inner: link.tx,
            rec: Mutex::new(tx),
        }),
        rx: Box::new(RecordRx {
            inner: link.rx,
            rec: rx,
        }),
    })
}

/// One pcap file.
struct Recorder(PcapWriter<File>);

impl Recorder {
    fn create(path: &Path) -> Result<Self, PortError> {
        let err = |source| PortError::Pcap {
            path: path.to_path_buf(),
            source,
        };
        let f = File::create(path).map_err(err)?;
        let w = PcapWriter::new(f).map_err(|e| err(std::io::Error::other(e)))?;
        Ok(Self(w))
    }

    fn record(&mut self, frame: &[u8]) {
        let ts = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let p = PcapPacket::new(ts, len, frame);
        if let Err(e) = self.0.write_packet(&p) {
            warn!(target: "nfp_emu::ports", "pcap write failed: {e}");
        }
    }
}

/// Records every frame handed to the wire, sent or not.
struct RecordTx {
    inner: Box<dyn WireTx>,
    rec: Mutex<Recorder>,
}

impl WireTx for RecordTx {
    fn send(&self, frame: &[u8]) -> bool {
        self.rec.lock().record(frame);
        self.inner.send(frame)
    }

    fn send_batch(&self, frames: &[&[u8]], sent: &mut [bool]) -> usize {
        {
            let mut rec = self.rec.lock();
            for f in frames {
                rec.record(f);
            }
        }
        self.inner.send_batch(frames, sent)
    }

    fn link_up(&self) -> bool {
        self.inner.link_up()
    }
}

/// Records every frame received.
struct RecordRx {
    inner: Box<dyn WireRx>,
    rec: Recorder,
}

impl WireRx for RecordRx {
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        let start = batch.len();
        let n = self.inner.recv_batch(batch)?;
        for f in batch.frames().skip(start) {
            self.rec.record(f);
        }
        Ok(n)
    }

    fn readiness(&self) -> Readiness<'_> {
        self.inner.readiness()
    }
}
