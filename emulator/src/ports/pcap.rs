//! `pcap:FILE,loop=K,rate=PPS`: a capture file replayed into a port. The
//! frames of FILE (pcap or pcapng, Ethernet link type) are read once when
//! the port opens and sent to the card in file order, `K` times over
//! (default 1; 0: without end), as fast as the port takes them or at `PPS`
//! frames per second (the file's timestamps are not followed). The port's
//! input ends after the last; what the card transmits on it is discarded
//! (record it with `--pcap DIR`). FILE may not contain a comma.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use super::generator::{Discard, number};
use super::pace::Pace;
use super::{Link, PortError, PortSpec, Readiness, RxBatch, WireRx};

/// Magic number of a pcapng file (its Section Header Block type).
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// Parse `FILE[,loop=K][,rate=PPS]`.
pub(super) fn parse(rest: &str) -> Result<PortSpec, PortError> {
    let mut parts = rest.split(',');
    let path = parts.next().unwrap_or_default();
    if path.is_empty() {
        return Err(PortError::PcapSyntax(rest.to_string()));
    }
    let (mut loops, mut rate) = (1, None);
    for kv in parts {
        match kv.split_once('=').map_or(kv, |(k, _)| k) {
            "loop" => loops = number("pcap", kv, 0, u64::MAX)?,
            "rate" => rate = Some(number("pcap", kv, 1, u64::MAX)?),
            _ => {
                return Err(PortError::UnknownOption {
                    backend: "pcap",
                    option: kv.to_string(),
                    known: "loop, rate",
                });
            }
        }
    }
    Ok(PortSpec::Pcap {
        path: PathBuf::from(path),
        loops,
        rate,
    })
}

/// The frames of a capture file, back to back in one buffer.
#[derive(Debug)]
pub struct PcapFrames {
    data: Vec<u8>,
    /// End offset in `data` of each frame.
    ends: Vec<usize>,
}

impl PcapFrames {
    /// Read every frame of the pcap or pcapng file at `path`; its link
    /// type must be Ethernet.
    pub fn load(path: &Path) -> Result<Self, PortError> {
        let read_err = |source| PortError::PcapRead {
            path: path.to_path_buf(),
            source,
        };
        let open = || {
            File::open(path).map_err(|source| PortError::PcapOpen {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut magic = [0u8; 4];
        {
            use std::io::Read;
            open()?
                .read_exact(&mut magic)
                .map_err(|source| PortError::PcapOpen {
                    path: path.to_path_buf(),
                    source,
                })?;
        }
        let mut frames = Self {
            data: Vec::new(),
            ends: Vec::new(),
        };
        let link = |linktype: DataLink| {
            if linktype == DataLink::ETHERNET {
                Ok(())
            } else {
                Err(PortError::PcapLinkType {
                    path: path.to_path_buf(),
                    linktype: format!("{linktype:?}"),
                })
            }
        };
        let file = BufReader::new(open()?);
        if magic == PCAPNG_MAGIC {
            let mut r = PcapNgReader::new(file).map_err(read_err)?;
            while let Some(block) = r.next_block() {
                match block.map_err(read_err)? {
                    Block::InterfaceDescription(i) => link(i.linktype)?,
                    Block::EnhancedPacket(p) => frames.push(&p.data),
                    Block::SimplePacket(p) => frames.push(&p.data),
                    Block::Packet(p) => frames.push(&p.data),
                    _ => {}
                }
            }
        } else {
            let mut r = PcapReader::new(file).map_err(read_err)?;
            link(r.header().datalink)?;
            while let Some(p) = r.next_packet() {
                frames.push(&p.map_err(read_err)?.data);
            }
        }
        if frames.ends.is_empty() {
            return Err(PortError::PcapEmpty(path.to_path_buf()));
        }
        Ok(frames)
    }

    fn push(&mut self, frame: &[u8]) {
        self.data.extend_from_slice(frame);
        self.ends.push(self.data.len());
    }

    /// Frames in the file.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the file has no frame (never, once loaded).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i` (of the file), if there is one.
    pub fn frame(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p]);
        self.data.get(start..end)
    }
}

/// A replay of a file, or one part of it: of the frames 0, 1, 2, ... the
/// whole replay sends (frame `k` is the file's `k % len`), those whose
/// number is `part` modulo `parts`.
pub(super) struct Replay {
    frames: Arc<PcapFrames>,
    /// Number of the next frame.
    next: u64,
    /// Frames between two of this part's.
    stride: u64,
    /// Frames the whole replay sends; `u64::MAX` without end.
    end: u64,
    pace: Option<Pace>,
}

impl Replay {
    /// Part `part` of `parts` of `loops` replays (0: without end) of
    /// `frames`; a given rate is shared among the parts.
    pub(super) fn new(
        frames: Arc<PcapFrames>,
        loops: u64,
        rate: Option<u64>,
        part: usize,
        parts: usize,
    ) -> Self {
        let parts = parts.max(1) as u64;
        let end = match loops {
            0 => u64::MAX,
            k => k.saturating_mul(frames.len() as u64),
        };
        Self {
            frames,
            next: (part as u64).min(parts - 1),
            stride: parts,
            end,
            pace: rate.map(|r| Pace::new((r / parts).max(1))),
        }
    }
}

impl WireRx for Replay {
    fn recv_batch(&mut self, batch: &mut RxBatch) -> std::io::Result<usize> {
        let room = batch.capacity() - batch.len();
        if room == 0 {
            return Err(super::batch_full());
        }
        let left = (self.end.saturating_sub(self.next)).div_ceil(self.stride);
        let mut want = usize::try_from(left).unwrap_or(usize::MAX).min(room);
        if want == 0 {
            return Ok(0);
        }
        if let Some(p) = &mut self.pace {
            want = p.take(want);
        }
        let len = self.frames.len() as u64;
        for _ in 0..want {
            let f = self
                .frames
                .frame((self.next % len) as usize)
                .unwrap_or_default();
            batch.push(f);
            self.next = self.next.saturating_add(self.stride);
        }
        Ok(want)
    }

    fn readiness(&self) -> Readiness<'_> {
        if self.pace.is_some() {
            Readiness::Blocking
        } else {
            Readiness::Always
        }
    }
}

/// Both ends of a replay port.
pub(super) fn open(path: &Path, loops: u64, rate: Option<u64>) -> Result<Link, PortError> {
    let frames = Arc::new(PcapFrames::load(path)?);
    Ok(Link {
        tx: Box::new(Discard),
        rx: Box::new(Replay::new(frames, loops, rate, 0, 1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use std::time::Duration;

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("nfp-emu-replay-{}-{name}", std::process::id()))
    }

    /// Three frames of 60, 61 and 62 bytes (byte i of frame k is k).
    fn write_pcap(path: &Path, linktype: DataLink) {
        let header = PcapHeader {
            datalink: linktype,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(File::create(path).unwrap(), header).unwrap();
        for k in 0..3u8 {
            let data = vec![k; 60 + usize::from(k)];
            w.write_packet(&PcapPacket::new(Duration::ZERO, data.len() as u32, &data))
                .unwrap();
        }
    }

    fn all(rx: &mut dyn WireRx, batch: usize) -> Vec<Vec<u8>> {
        let mut b = RxBatch::new(batch, 256);
        let mut v = Vec::new();
        while rx.recv_batch(&mut b).unwrap() > 0 {
            v.extend(b.frames().map(<[u8]>::to_vec));
            b.clear();
        }
        v
    }

    #[test]
    fn a_file_is_replayed_the_times_asked_for() {
        let path = tmp("loop.pcap");
        write_pcap(&path, DataLink::ETHERNET);
        let spec: PortSpec = format!("pcap:{},loop=4", path.display()).parse().unwrap();
        assert_eq!(spec.to_string(), format!("pcap:{},loop=4", path.display()));
        let PortSpec::Pcap { loops, rate, .. } = &spec else {
            panic!("{spec:?}")
        };
        assert_eq!((*loops, *rate), (4, None));
        let frames = Arc::new(PcapFrames::load(&path).unwrap());
        assert_eq!(frames.len(), 3);
        let mut rx = Replay::new(frames.clone(), 4, None, 0, 1);
        assert!(matches!(rx.readiness(), Readiness::Always));
        let got = all(&mut rx, 5);
        assert_eq!(got.len(), 12);
        for (k, f) in got.iter().enumerate() {
            assert_eq!(f, &vec![(k % 3) as u8; 60 + k % 3], "frame {k}");
        }
        // Parts on several threads send the same frames between them.
        let mut parts: Vec<Vec<u8>> = (0..5)
            .flat_map(|p| all(&mut Replay::new(frames.clone(), 4, None, p, 5), 2))
            .collect();
        let mut whole = got.clone();
        parts.sort();
        whole.sort();
        assert_eq!(parts, whole);
        // The port a `--port N=pcap:FILE,loop=2` opens: the file twice,
        // then the end of its input; what the card sends is taken.
        let Link { tx, mut rx } = open(&path, 2, None).unwrap();
        assert_eq!(all(&mut *rx, 32), got[..6]);
        assert!(tx.send(&[0; 60]));
        // Without end: batch after batch.
        let mut endless = Replay::new(frames, 0, None, 0, 1);
        let mut b = RxBatch::new(7, 128);
        for _ in 0..100 {
            b.clear();
            assert_eq!(endless.recv_batch(&mut b).unwrap(), 7);
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_paced_replay_releases_what_is_due() {
        let path = tmp("rate.pcap");
        write_pcap(&path, DataLink::ETHERNET);
        let frames = Arc::new(PcapFrames::load(&path).unwrap());
        // A very high rate: the pacer is exercised, never waited on long.
        let mut rx = Replay::new(frames, 2, Some(1_000_000_000), 0, 1);
        assert!(matches!(rx.readiness(), Readiness::Blocking));
        let got = all(&mut rx, 32);
        assert_eq!(got.len(), 6);
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn pcapng_files_replay_and_bad_files_are_refused() {
        let path = tmp("ng.pcapng");
        {
            let mut w = PcapNgWriter::new(File::create(&path).unwrap()).unwrap();
            w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0xffff))
                .unwrap();
            for k in 0..2u8 {
                let data = vec![k; 64];
                w.write_pcapng_block(EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: Duration::ZERO,
                    original_len: 64,
                    data: data.into(),
                    options: vec![],
                })
                .unwrap();
            }
        }
        let f = PcapFrames::load(&path).unwrap();
        assert_eq!((f.len(), f.frame(1)), (2, Some(&[1u8; 64][..])));
        let raw = tmp("raw.pcap");
        write_pcap(&raw, DataLink::RAW);
        assert!(matches!(
            PcapFrames::load(&raw),
            Err(PortError::PcapLinkType { .. })
        ));
        std::fs::write(&raw, b"not a capture").unwrap();
        assert!(matches!(
            PcapFrames::load(&raw),
            Err(PortError::PcapRead { .. })
        ));
        assert!(matches!(
            PcapFrames::load(&tmp("missing.pcap")),
            Err(PortError::PcapOpen { .. })
        ));
        for bad in [
            "pcap:",
            "pcap:x.pcap,loop=y",
            "pcap:x.pcap,speed=1",
            "pcap:x.pcap,rate=0",
        ] {
            assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
        }
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(raw);
    }
}
