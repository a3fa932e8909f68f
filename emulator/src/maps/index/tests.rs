//! The hash index against a model, and its lock-free readers against a
//! writer that keeps moving entries.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::*;

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn key(n: u64, size: usize) -> Vec<u8> {
    let mut k = vec![0u8; size];
    for (i, b) in k.iter_mut().enumerate() {
        *b = (n >> (8 * (i % 8))) as u8 ^ (i / 8) as u8;
    }
    k
}

#[test]
fn sizes_and_footprint() {
    assert_eq!(HashIndex::buckets_for(1), 2);
    assert_eq!(HashIndex::buckets_for(3), 4);
    assert_eq!(HashIndex::buckets_for(6), 8);
    assert_eq!(HashIndex::buckets_for(1 << 20), 1_398_102);
    // 1M 64-byte keys: 1.4M buckets of 68 bytes, 4 bytes and 1 bit a slot.
    assert_eq!(
        HashIndex::footprint(64, 1 << 20),
        1_398_102 * 68 + (4 << 20) + (1 << 17)
    );
    assert_eq!(
        HashIndex::footprint(256, u32::MAX),
        5_726_623_060 * 260 + 4 * u64::from(u32::MAX) + 536_870_912
    );
}

/// Random inserts and removes on tables small enough that chains wrap
/// around the end and every delete shifts: the index agrees with a model,
/// slots stay unique and within max_entries, iteration lists each element
/// once in slot order.
#[test]
fn agrees_with_a_model_under_churn() {
    for (ks, max) in [(4usize, 7u32), (8, 8), (13, 24), (64, 100)] {
        let ix = HashIndex::new(ks as u32, max).unwrap();
        let mut model: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut next = rng(u64::from(max) * 77 + ks as u64);
        for _ in 0..20_000 {
            // Few distinct keys, so inserts and removes hit each other.
            let k = key(next() % (u64::from(max) * 2), ks);
            let packed = pack(&k);
            let mut w = ix.writer();
            if next() % 2 == 0 {
                match w.entry(&packed) {
                    Ok(s) => assert_eq!(model.get(&k), Some(&s)),
                    Err(vacant) => {
                        let got = w.insert(vacant, &packed, |_| {});
                        if model.len() < max as usize {
                            let s = got.expect("room left");
                            assert!(s < max);
                            assert!(
                                !model.values().any(|&v| v == s),
                                "slot {s} reused while in use"
                            );
                            model.insert(k, s);
                        } else {
                            assert_eq!(got, None, "full");
                        }
                    }
                }
            } else {
                assert_eq!(w.remove(&packed), model.remove(&k));
            }
            drop(w);
            assert_eq!(ix.len() as usize, model.len());
            // Every element is found by the lock-free reader.
            if next() % 16 == 0 {
                for (k, &s) in &model {
                    assert_eq!(ix.find(&pack(k)), Some(s));
                }
                let w = ix.writer();
                let mut from = 0;
                let mut seen = 0;
                while let Some(s) = w.next_used(from) {
                    let mut kb = vec![0u8; ks];
                    w.key_of(s, &mut kb);
                    assert_eq!(model.get(&kb), Some(&s));
                    seen += 1;
                    from = s + 1;
                }
                assert_eq!(seen, model.len());
            }
            assert_eq!(ix.find(&pack(&key(u64::MAX, ks))), None);
        }
    }
}

/// Readers looking up keys that stay in the table must always find them,
/// in their own slot, and never find keys that were never inserted, while
/// a writer inserts and deletes other keys in the same chains (moving the
/// readers' keys back and forth).
#[test]
fn lock_free_readers_never_miss_a_present_key() {
    let max = 64u32;
    let ix = Arc::new(HashIndex::new(8, max).unwrap());
    let stable: Vec<(Vec<u8>, u32)> = (0..16u64)
        .map(|i| {
            let k = key(i, 8);
            let mut w = ix.writer();
            let vacant = w.entry(&pack(&k)).unwrap_err();
            let s = w.insert(vacant, &pack(&k), |_| {}).unwrap();
            (k, s)
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let lookups = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let (ix, stable, done, lookups) =
                (ix.clone(), stable.clone(), done.clone(), lookups.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                let mut next = rng(r + 5);
                while !done.load(Ordering::Acquire) || n < 1000 {
                    let (k, s) = &stable[(next() % 16) as usize];
                    assert_eq!(ix.find(&pack(k)), Some(*s), "present key missed");
                    assert_eq!(ix.find(&pack(&key((1 << 40) | (next() % 1000), 8))), None);
                    n += 1;
                }
                lookups.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    let mut next = rng(99);
    let mut churn: Vec<Vec<u8>> = Vec::new();
    for _ in 0..200_000 {
        let mut w = ix.writer();
        if churn.len() < 40 && next() % 2 == 0 {
            let k = key(1000 + next() % 100_000, 8);
            if let Err(vacant) = w.entry(&pack(&k)) {
                assert!(w.insert(vacant, &pack(&k), |_| {}).is_some());
                churn.push(k);
            }
        } else if !churn.is_empty() {
            let k = churn.swap_remove((next() % churn.len() as u64) as usize);
            assert!(w.remove(&pack(&k)).is_some());
        }
    }
    done.store(true, Ordering::Release);
    for r in readers {
        r.join().unwrap();
    }
    assert!(lookups.load(Ordering::Relaxed) >= 2000);
}
