//! Frame sources that need no peer — the `gen` and `pcap` backends — as
//! inputs that can be split among threads, for feeding a card in-process
//! (`nfp-emu bench`, the benches) without a port thread.

use std::sync::Arc;

use super::generator::{GenSpec, Generator};
use super::pcap::{PcapFrames, Replay};
use super::{PortError, PortSpec, WireRx};

/// A generator or a loaded capture file, ready to be split into parts.
#[derive(Debug, Clone)]
pub enum Source {
    /// A traffic generator.
    Gen(GenSpec),
    /// A capture file replayed `loops` times (0: without end).
    Pcap {
        /// Its frames.
        frames: Arc<PcapFrames>,
        /// Times replayed.
        loops: u64,
        /// Frames per second, if paced.
        rate: Option<u64>,
    },
}

impl Source {
    /// The source a `gen:` or `pcap:` port description names (a capture
    /// file is read now); `None` for backends that need a peer.
    pub fn open(spec: &PortSpec) -> Result<Option<Self>, PortError> {
        Ok(match spec {
            PortSpec::Gen(g) => Some(Source::Gen(*g)),
            PortSpec::Pcap { path, loops, rate } => Some(Source::Pcap {
                frames: Arc::new(PcapFrames::load(path)?),
                loops: *loops,
                rate: *rate,
            }),
            _ => None,
        })
    }

    /// Frames the whole source sends; `None` without end.
    pub fn frames(&self) -> Option<u64> {
        match self {
            Source::Gen(g) => g.count,
            Source::Pcap { frames, loops, .. } => {
                (*loops != 0).then(|| loops.saturating_mul(frames.len() as u64))
            }
        }
    }

    /// Part `part` of `parts`: together the parts send each frame of the
    /// source once (frame *k* goes to part *k* mod `parts`), a given rate
    /// shared among them.
    pub fn part(&self, part: usize, parts: usize) -> Box<dyn WireRx> {
        match self {
            Source::Gen(g) => Box::new(Generator::new(g, part, parts)),
            Source::Pcap {
                frames,
                loops,
                rate,
            } => Box::new(Replay::new(frames.clone(), *loops, *rate, part, parts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::RxBatch;

    #[test]
    fn parts_of_a_generator_send_its_count() {
        let spec: PortSpec = "gen:count=100,flows=7".parse().unwrap();
        let src = Source::open(&spec).unwrap().unwrap();
        assert_eq!(src.frames(), Some(100));
        let mut n = 0;
        for p in 0..3 {
            let mut rx = src.part(p, 3);
            let mut b = RxBatch::new(16, 128);
            while rx.recv_batch(&mut b).unwrap() > 0 {
                n += b.len();
                b.clear();
            }
        }
        assert_eq!(n, 100);
        assert!(Source::open(&PortSpec::None).unwrap().is_none());
        assert_eq!(
            Source::open(&"gen:".parse().unwrap())
                .unwrap()
                .unwrap()
                .frames(),
            None
        );
    }
}
