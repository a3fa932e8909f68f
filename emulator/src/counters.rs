//! One counter surface: every counter of the card, by name
//! (docs/counters.md).
//!
//! Each block of counters (a port's MAC counters, a vNIC's, an ME's, DMA's,
//! ...) implements [`Counters`]: it calls a visitor once per counter with
//! the counter's name within the block and its value. The card composes
//! its blocks under hierarchical, dot-separated names
//! (`port0.mac.rx_frames_received_ok`, `vnic1.bpf_app1_pkts`,
//! `fp.me12.ctx2.instructions`, ...), as cloud-hypervisor's devices each
//! expose `counters()` and the VMM gathers them by device id.
//!
//! Reading is the only operation: nothing here resets a counter, since
//! the guest reads many of them (the MAC and vNIC counters through the
//! BARs, `ethtool -S`) and expects them to only ever grow. A monitor
//! implements "reset" as a [`Snapshot`] it keeps as a baseline and
//! subtracts ([`Snapshot::since`]); rates come the same way from two
//! snapshots and their [`Snapshot::at`] times. Reading a counter is a
//! relaxed atomic load: a snapshot never stops the data path.

use std::collections::HashMap;
use std::fmt::{self, Display, Write as _};
use std::time::Instant;

/// A block of counters, visited by name (see the module doc).
pub trait Counters {
    /// Call `visit` once per counter of this block with its name, relative
    /// to the block (lowercase ASCII, digits, `_` and `.` between levels),
    /// and its value now. The names a block visits depend only on its
    /// layout (ports, vNICs, MEs, rings), never on the values.
    fn counters(&self, visit: &mut dyn FnMut(&str, u64));

    /// The counter named `name`, if this block has one.
    fn counter(&self, name: &str) -> Option<u64> {
        let mut found = None;
        self.counters(&mut |n, v| {
            if n == name {
                found = Some(v);
            }
        });
        found
    }
}

/// Run `body` with a visitor that passes every name to `visit` prefixed by
/// `scope` and a dot: the way a block composes the blocks inside it. The
/// name is built in one buffer reused for every counter.
pub fn scoped(
    scope: impl Display,
    visit: &mut dyn FnMut(&str, u64),
    body: impl FnOnce(&mut dyn FnMut(&str, u64)),
) {
    let mut name = String::with_capacity(64);
    // Writing to a String cannot fail.
    let _ = write!(name, "{scope}.");
    let base = name.len();
    body(&mut |leaf, v| {
        name.truncate(base);
        name.push_str(leaf);
        visit(&name, v);
    });
}

/// Visit `block`'s counters under `scope` (see [`scoped`]).
pub fn visit_in<C: Counters + ?Sized>(
    scope: impl Display,
    block: &C,
    visit: &mut dyn FnMut(&str, u64),
) {
    scoped(scope, visit, |v| block.counters(v));
}

/// Which counters to read: names matching any of a list of patterns, or
/// every counter when the list is empty.
///
/// A pattern is a glob (`*` any run of characters, dots included; `?` any
/// one character) matched against the whole name or against the part of
/// it before a dot: `fp` selects every counter under `fp.`, `vnic*.bpf_*`
/// every vNIC's BPF counters, `fp.me*.ctx0.packets` one counter per ME.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    patterns: Vec<String>,
}

impl Filter {
    /// Every counter.
    pub fn all() -> Self {
        Self::default()
    }

    /// The counters matching any of `patterns` (every counter if none).
    pub fn new<S: Into<String>>(patterns: impl IntoIterator<Item = S>) -> Self {
        Self {
            patterns: patterns.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether counter `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        self.patterns.is_empty()
            || self.patterns.iter().any(|p| {
                glob(p.as_bytes(), name.as_bytes())
                    || name
                        .match_indices('.')
                        .any(|(i, _)| glob(p.as_bytes(), &name.as_bytes()[..i]))
            })
    }
}

/// Whether `text` matches the glob `pat` (`*`, `?`); linear backtracking
/// on the last `*`, so no input makes it slow.
fn glob(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// The values of a set of counters at one moment, in the order their
/// blocks visit them.
#[derive(Clone, Debug)]
pub struct Snapshot {
    at: Instant,
    entries: Vec<(String, u64)>,
}

impl Snapshot {
    /// Read the counters of `src` that `filter` selects.
    pub fn take(src: &(impl Counters + ?Sized), filter: &Filter) -> Self {
        let mut s = Self {
            at: Instant::now(),
            entries: Vec::new(),
        };
        s.refresh(src, filter);
        s
    }

    /// Read again into this snapshot. While the names stay the same (the
    /// card's layout did not change) this allocates nothing: a monitor
    /// refreshing a snapshot every second costs one relaxed load per
    /// counter.
    pub fn refresh(&mut self, src: &(impl Counters + ?Sized), filter: &Filter) {
        let mut i = 0;
        let entries = &mut self.entries;
        src.counters(&mut |name, v| {
            if !filter.matches(name) {
                return;
            }
            match entries.get_mut(i) {
                Some(e) if e.0 == name => e.1 = v,
                _ => {
                    entries.truncate(i);
                    entries.push((name.to_owned(), v));
                }
            }
            i += 1;
        });
        self.entries.truncate(i);
        self.at = Instant::now();
    }

    /// When it was read.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// Counters in it.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no counter.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names and values, in visiting order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// The value of counter `name`, if it is in the snapshot.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// What each counter counted since `earlier` (a baseline kept by a
    /// monitor's reset, or the previous refresh for a rate): this
    /// snapshot's names and time, each value less its value in `earlier`.
    /// A counter `earlier` lacks, or one that went backwards (its block was
    /// created again: firmware reloaded, a program replaced), counts from
    /// zero: its whole value.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        let same_layout = self.entries.len() == earlier.entries.len()
            && self
                .entries
                .iter()
                .zip(&earlier.entries)
                .all(|(a, b)| a.0 == b.0);
        let lookup: HashMap<&str, u64> = if same_layout {
            HashMap::new()
        } else {
            earlier.iter().collect()
        };
        let entries = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (name, now))| {
                let before = if same_layout {
                    Some(earlier.entries[i].1)
                } else {
                    lookup.get(name.as_str()).copied()
                };
                let d = match before {
                    Some(b) if b <= *now => now - b,
                    _ => *now,
                };
                (name.clone(), d)
            })
            .collect();
        Snapshot {
            at: self.at,
            entries,
        }
    }
}

/// One line per counter, `name  value`, names aligned; counters at zero
/// are left out (the card has hundreds, most idle).
impl Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .iter()
            .filter(|(_, v)| *v != 0)
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0);
        for (name, v) in self.iter().filter(|(_, v)| *v != 0) {
            writeln!(f, "{name:<width$}  {v}")?;
        }
        Ok(())
    }
}

/// The unit of false sharing the counter layout avoids: 128 bytes, two
/// 64-byte cache lines, as `crossbeam_utils::CachePadded` pads on x86-64
/// (the adjacent-line prefetcher moves lines in pairs).
pub const CACHE_BLOCK: usize = 128;

/// The [`CACHE_BLOCK`]s `x` occupies, first and last, by address: two
/// values written by different threads must not share one (tests assert
/// it of the counter blocks, docs/counters.md).
pub fn cache_blocks<T>(x: &T) -> (usize, usize) {
    let at = std::ptr::from_ref(x) as usize;
    let last = at + std::mem::size_of::<T>().max(1) - 1;
    (at / CACHE_BLOCK, last / CACHE_BLOCK)
}

/// Whether no two of the spans of [`cache_blocks`] share a block.
pub fn apart(spans: impl IntoIterator<Item = (usize, usize)>) -> bool {
    let mut blocks: Vec<(usize, usize)> = spans.into_iter().collect();
    blocks.sort_unstable();
    blocks.windows(2).all(|w| w[0].1 < w[1].0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn apart_sees_shared_and_separate_blocks() {
        #[repr(align(128))]
        struct Aligned([u64; 32]);
        let w = Aligned([0; 32]);
        let words = |i: &[usize]| apart(i.iter().map(|&i| cache_blocks(&w.0[i])));
        assert!(!words(&[0, 1]));
        assert!(!words(&[0, 15]), "same 128-byte block");
        assert!(words(&[0, 16]));
        assert!(!words(&[16, 0, 31]), "order does not matter");
        assert!(!apart([cache_blocks(&w), cache_blocks(&w.0[20])]), "inside");
        let padded = [
            crossbeam_utils::CachePadded::new(0u64),
            crossbeam_utils::CachePadded::new(0u64),
        ];
        assert!(apart(padded.iter().map(|p| cache_blocks::<u64>(p))));
    }

    struct Block(AtomicU64, AtomicU64);

    impl Counters for Block {
        fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
            visit("a", self.0.load(Ordering::Relaxed));
            visit("b.c", self.1.load(Ordering::Relaxed));
        }
    }

    struct Card(Vec<Block>);

    impl Counters for Card {
        fn counters(&self, visit: &mut dyn FnMut(&str, u64)) {
            for (i, b) in self.0.iter().enumerate() {
                visit_in(format_args!("blk{i}"), b, visit);
            }
            scoped("x", visit, |v| visit_in("y", &self.0[0], v));
        }
    }

    fn card() -> Card {
        Card(
            (0..3)
                .map(|i| Block(AtomicU64::new(i), AtomicU64::new(10 * i)))
                .collect(),
        )
    }

    #[test]
    fn blocks_compose_under_hierarchical_names() {
        let c = card();
        let s = Snapshot::take(&c, &Filter::all());
        let names: Vec<&str> = s.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "blk0.a", "blk0.b.c", "blk1.a", "blk1.b.c", "blk2.a", "blk2.b.c", "x.y.a",
                "x.y.b.c"
            ]
        );
        assert_eq!(c.counter("blk2.b.c"), Some(20));
        assert_eq!(c.counter("blk2.b"), None);
        assert_eq!(s.get("blk1.a"), Some(1));
    }

    #[test]
    fn filters_match_globs_and_dotted_prefixes() {
        let f = |p: &[&str], n: &str| Filter::new(p.iter().copied()).matches(n);
        assert!(f(&[], "anything"));
        assert!(f(&["fp"], "fp.me1.ctx0.packets"));
        assert!(!f(&["fp"], "fpx.a"));
        assert!(!f(&["fp.me1"], "fp.me12.ctx0.packets"));
        assert!(f(&["fp.me1"], "fp.me1.ctx0.packets"));
        assert!(f(&["vnic*.bpf_*"], "vnic1.bpf_app1_pkts"));
        assert!(!f(&["vnic*.bpf_*"], "vnic1.dev_rx_pkts"));
        assert!(f(&["fp.me*.ctx0.packets"], "fp.me47.ctx0.packets"));
        assert!(f(&["port?.mac"], "port1.mac.rx_octets"));
        assert!(!f(&["port?.mac"], "port10.mac.rx_octets"));
        assert!(f(&["dma", "qc"], "qc.doorbells"));
        assert!(f(&["*"], "x"));
        assert!(!f(&["a*b*c*d"], &"ab".repeat(1000)), "no blow-up");
        let c = card();
        let s = Snapshot::take(&c, &Filter::new(["blk1", "*.c"]));
        let names: Vec<&str> = s.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["blk0.b.c", "blk1.a", "blk1.b.c", "blk2.b.c", "x.y.b.c"]
        );
    }

    #[test]
    fn a_baseline_is_subtracted_and_restarted_counters_count_from_zero() {
        let c = card();
        let base = Snapshot::take(&c, &Filter::all());
        c.0[1].0.fetch_add(5, Ordering::Relaxed);
        let now = Snapshot::take(&c, &Filter::all());
        let d = now.since(&base);
        assert_eq!(d.get("blk1.a"), Some(5));
        assert_eq!(d.get("blk2.b.c"), Some(0));
        assert_eq!(d.at(), now.at());
        // The guest's view is untouched: the card still has the total.
        assert_eq!(c.counter("blk1.a"), Some(6));
        // A block created again (its counter went back) and a new block.
        let mut c2 = card();
        c2.0.push(Block(AtomicU64::new(3), AtomicU64::new(0)));
        let d = Snapshot::take(&c2, &Filter::all()).since(&now);
        assert_eq!(d.get("blk1.a"), Some(1), "6 -> 1: restarted");
        assert_eq!(d.get("blk2.a"), Some(0));
        assert_eq!(d.get("blk3.a"), Some(3));
    }

    #[test]
    fn refresh_reuses_the_names_and_follows_layout_changes() {
        let mut c = card();
        let f = Filter::all();
        let mut s = Snapshot::take(&c, &f);
        let ptr = s.entries[0].0.as_ptr();
        c.0[0].0.fetch_add(7, Ordering::Relaxed);
        s.refresh(&c, &f);
        assert_eq!(s.get("blk0.a"), Some(7));
        assert_eq!(s.entries[0].0.as_ptr(), ptr, "the same name buffer");
        c.0.remove(1);
        s.refresh(&c, &f);
        assert_eq!(s.len(), 6);
        assert_eq!(s.get("blk1.a"), Some(2));
    }

    #[test]
    fn display_lists_nonzero_counters_aligned() {
        let c = card();
        let text = Snapshot::take(&c, &Filter::all()).to_string();
        assert_eq!(
            text,
            "blk1.a    1\nblk1.b.c  10\nblk2.a    2\nblk2.b.c  20\n"
        );
    }
}
