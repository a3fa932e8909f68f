//! `gen:size=B,count=N,flows=F,rate=PPS`: a traffic generator plugged
//! into a port. It sends the card IPv4/UDP frames of `B` bytes (without
//! FCS), spread round-robin over `F` flows (source address and port vary),
//! `N` in all (or without end), as fast as the port takes them or at `PPS`
//! frames per second. Each frame carries its number within its flow (a
//! big-endian u32 after the UDP header), so order can be checked. What the
//! card transmits on the port is discarded.
//!
//! The frames of each flow are built once; sending copies them into the
//! receive batch and stamps the number, so the generator costs a copy per
//! frame.

use std::fmt;

use super::pace::Pace;
use super::{Link, MAX_FRAME, PortError, PortSpec, Readiness, RxBatch, WireRx, WireTx};

/// Smallest frame the generator builds: Ethernet, IPv4 and UDP headers.
pub const GEN_MIN_SIZE: usize = 14 + 20 + 8;
/// Most flows a generator spreads frames over.
pub const GEN_MAX_FLOWS: u32 = 1 << 20;
/// Offset of the per-flow frame number (after the UDP header).
pub const GEN_SEQ_OFF: usize = GEN_MIN_SIZE;
/// UDP destination port of generated frames (discard, RFC 863).
const GEN_DST_PORT: u16 = 9;
/// UDP source port of flow 0; flow `i` uses `GEN_SRC_PORT + i % GEN_PORTS`.
const GEN_SRC_PORT: u16 = 1024;
/// Source ports used before the source address moves on.
const GEN_PORTS: u32 = 60000;

/// What a generator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenSpec {
    /// Bytes per frame, without FCS (`GEN_MIN_SIZE`..=`MAX_FRAME`).
    pub size: usize,
    /// Frames in all; `None`: without end.
    pub count: Option<u64>,
    /// Flows the frames are spread over (1..=`GEN_MAX_FLOWS`).
    pub flows: u32,
    /// Frames per second; `None`: as fast as they are taken.
    pub rate: Option<u64>,
}

impl Default for GenSpec {
    /// 64-byte frames, one flow, without end, unpaced.
    fn default() -> Self {
        Self {
            size: 64,
            count: None,
            flows: 1,
            rate: None,
        }
    }
}

impl fmt::Display for GenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gen:size={}", self.size)?;
        if let Some(c) = self.count {
            write!(f, ",count={c}")?;
        }
        write!(f, ",flows={}", self.flows)?;
        if let Some(r) = self.rate {
            write!(f, ",rate={r}")?;
        }
        Ok(())
    }
}

/// Parse a `KEY=N` option of backend `backend` within `lo..=hi`.
pub(super) fn number(backend: &'static str, kv: &str, lo: u64, hi: u64) -> Result<u64, PortError> {
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    let n: u64 = value.parse().map_err(|source| PortError::OptionValue {
        backend,
        option: key.to_string(),
        source,
    })?;
    if !(lo..=hi).contains(&n) {
        return Err(PortError::OptionRange {
            backend,
            option: key.to_string(),
            value: n,
            lo,
            hi,
        });
    }
    Ok(n)
}

/// Parse `size=B,count=N,flows=F,rate=PPS` (each optional, any order).
pub(super) fn parse(rest: &str) -> Result<PortSpec, PortError> {
    let mut g = GenSpec::default();
    for kv in rest.split(',').filter(|s| !s.is_empty()) {
        let key = kv.split_once('=').map_or(kv, |(k, _)| k);
        match key {
            "size" => g.size = number("gen", kv, GEN_MIN_SIZE as u64, MAX_FRAME as u64)? as usize,
            "count" => g.count = Some(number("gen", kv, 1, u64::MAX)?),
            "flows" => g.flows = number("gen", kv, 1, u64::from(GEN_MAX_FLOWS))? as u32,
            "rate" => g.rate = Some(number("gen", kv, 1, u64::MAX)?),
            _ => {
                return Err(PortError::UnknownOption {
                    backend: "gen",
                    option: kv.to_string(),
                    known: "size, count, flows, rate",
                });
            }
        }
    }
    Ok(PortSpec::Gen(g))
}

/// The frame of flow `flow` with `size` bytes: broadcast Ethernet from a
/// locally administered MAC, IPv4 10.0.0.0/8 -> 10.255.0.1, UDP to port
/// 9, payload zero.
pub fn gen_frame(size: usize, flow: u32) -> Vec<u8> {
    let size = size.clamp(GEN_MIN_SIZE, MAX_FRAME);
    let mut f = vec![0u8; size];
    f[..6].fill(0xff);
    f[6..12].copy_from_slice(&[0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((size - 14) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    let src = 0x0a00_0001u32.wrapping_add(flow / GEN_PORTS);
    ip[12..16].copy_from_slice(&src.to_be_bytes());
    ip[16..20].copy_from_slice(&[10, 255, 0, 1]);
    let sum = crate::pkt::fold(crate::pkt::sum16(0, ip));
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let udp = &mut f[34..42];
    let sport = GEN_SRC_PORT + (flow % GEN_PORTS) as u16;
    udp[0..2].copy_from_slice(&sport.to_be_bytes());
    udp[2..4].copy_from_slice(&GEN_DST_PORT.to_be_bytes());
    // Length; checksum 0: none (RFC 768), so the frame number can change.
    udp[4..6].copy_from_slice(&((size - 34) as u16).to_be_bytes());
    f
}

/// A generator's receiving end (what the card receives), or one part of
/// it: of the frames 0, 1, 2, ... it sends those whose number is
/// `part` modulo `parts`, so `parts` generators on as many threads send
/// the frames one generator would, flows and numbers alike.
pub(super) struct Generator {
    /// One frame per flow.
    frames: Box<[Box<[u8]>]>,
    /// Number of the next frame.
    next: u64,
    /// Frames between two of this part's.
    stride: u64,
    /// Frames in all (of every part); `u64::MAX` without end.
    end: u64,
    pace: Option<Pace>,
}

impl Generator {
    /// Part `part` of `parts` (`part` < `parts`) of what `spec` sends; a
    /// given rate is shared among the parts.
    pub(super) fn new(spec: &GenSpec, part: usize, parts: usize) -> Self {
        let flows = spec.flows.clamp(1, GEN_MAX_FLOWS);
        let parts = parts.max(1) as u64;
        Self {
            frames: (0..flows)
                .map(|i| gen_frame(spec.size, i).into_boxed_slice())
                .collect(),
            next: (part as u64).min(parts - 1),
            stride: parts,
            end: spec.count.unwrap_or(u64::MAX),
            pace: spec.rate.map(|r| Pace::new((r / parts).max(1))),
        }
    }
}

impl WireRx for Generator {
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
        let flows = self.frames.len() as u64;
        let mut got = 0;
        for _ in 0..want {
            let k = self.next;
            let f = &self.frames[(k % flows) as usize];
            let Some(slot) = batch.free_slot() else { break };
            let n = f.len().min(slot.len());
            slot[..n].copy_from_slice(&f[..n]);
            let seq = ((k / flows) as u32).to_be_bytes();
            if let Some(s) = slot
                .get_mut(GEN_SEQ_OFF..GEN_SEQ_OFF + 4)
                .filter(|_| n >= GEN_SEQ_OFF + 4)
            {
                s.copy_from_slice(&seq);
            }
            batch.commit(n);
            got += 1;
            self.next = self.next.saturating_add(self.stride);
        }
        Ok(got)
    }

    fn readiness(&self) -> Readiness<'_> {
        if self.pace.is_some() {
            Readiness::Blocking
        } else {
            Readiness::Always
        }
    }
}

/// The sending end of a frame source: frames are taken and discarded.
pub(super) struct Discard;

impl WireTx for Discard {
    fn send(&self, _frame: &[u8]) -> bool {
        true
    }
}

/// Both ends of a generator port.
pub(super) fn open(spec: &GenSpec) -> Link {
    Link {
        tx: Box::new(Discard),
        rx: Box::new(Generator::new(spec, 0, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> GenSpec {
        match s.parse::<PortSpec>().unwrap() {
            PortSpec::Gen(g) => g,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_parse_and_print_back() {
        assert_eq!(spec("gen:"), GenSpec::default());
        let g = spec("gen:flows=4,size=128,count=1000,rate=5000");
        assert_eq!(
            g,
            GenSpec {
                size: 128,
                count: Some(1000),
                flows: 4,
                rate: Some(5000)
            }
        );
        assert_eq!(g.to_string(), "gen:size=128,count=1000,flows=4,rate=5000");
        assert_eq!(
            PortSpec::Gen(g).to_string().parse::<PortSpec>().ok(),
            Some(PortSpec::Gen(g))
        );
        for bad in [
            "gen:size=10",
            "gen:size=x",
            "gen:flows=0",
            "gen:speed=3",
            "gen:count=0",
            "gen:size",
        ] {
            assert!(bad.parse::<PortSpec>().is_err(), "{bad}");
        }
        let e = "gen:speed=3".parse::<PortSpec>().unwrap_err().to_string();
        assert!(e.contains("size, count, flows, rate"), "{e}");
    }

    #[test]
    fn frames_have_the_size_flows_and_numbers_asked_for() {
        let g = spec("gen:size=100,count=10,flows=3");
        let mut rx = Generator::new(&g, 0, 1);
        assert!(matches!(rx.readiness(), Readiness::Always));
        let mut b = RxBatch::new(4, 2048);
        let mut frames = Vec::new();
        loop {
            b.clear();
            match rx.recv_batch(&mut b).unwrap() {
                0 => break,
                n => assert_eq!(n, b.len()),
            }
            frames.extend(b.frames().map(<[u8]>::to_vec));
        }
        assert_eq!(frames.len(), 10);
        for (k, f) in frames.iter().enumerate() {
            assert_eq!(f.len(), 100);
            let h = crate::pkt::parse(f).expect("IPv4/UDP");
            assert!(h.l4.is_some());
            let csum = crate::pkt::verify_checksums(f);
            assert!(csum.ip4_ok && csum.udp_checked && csum.udp_ok, "{csum:?}");
            let seq = u32::from_be_bytes(f[GEN_SEQ_OFF..GEN_SEQ_OFF + 4].try_into().unwrap());
            assert_eq!(seq as usize, k / 3, "number within the flow");
        }
        // Three flows, round-robin: frames k and k + 3 are of one flow.
        let hash: Vec<u32> = frames.iter().map(|f| crate::pkt::flow_hash(f)).collect();
        assert_eq!(hash[0], hash[3]);
        assert_eq!(hash[1], hash[7]);
        assert!(hash[0] != hash[1] && hash[1] != hash[2] && hash[0] != hash[2]);
    }

    #[test]
    fn parts_send_what_one_generator_sends() {
        let g = spec("gen:size=64,count=11,flows=2");
        let all = |parts: usize| {
            let mut v = Vec::new();
            for part in 0..parts {
                let mut rx = Generator::new(&g, part, parts);
                let mut b = RxBatch::new(32, 128);
                while rx.recv_batch(&mut b).unwrap() > 0 {
                    v.extend(b.frames().map(<[u8]>::to_vec));
                    b.clear();
                }
            }
            v.sort();
            v
        };
        assert_eq!(all(1).len(), 11);
        assert_eq!(all(1), all(3));
        assert_eq!(all(1), all(16));
    }

    #[test]
    fn a_paced_generator_blocks_and_an_endless_one_fills_batches() {
        let rx = Generator::new(&spec("gen:rate=1000000"), 0, 1);
        assert!(matches!(rx.readiness(), Readiness::Blocking));
        let mut rx = Generator::new(&spec("gen:size=60"), 0, 1);
        let mut b = RxBatch::new(8, 64);
        for _ in 0..3 {
            b.clear();
            assert_eq!(rx.recv_batch(&mut b).unwrap(), 8);
        }
        assert!(rx.recv_batch(&mut b).is_err(), "full batch");
        assert!(Discard.send(&[0; 60]) && Discard.link_up());
    }
}
