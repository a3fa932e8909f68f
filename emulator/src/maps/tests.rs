//! Map semantics and the control messages as the driver builds and checks
//! them (bpf/cmsg.c).

use super::ccm::*;
use super::*;

const SLOTS: (u32, u32) = (64, 64);

fn store() -> MapStore {
    let s = MapStore::new();
    s.reset(Some(MapLimits {
        types: 1 << BPF_MAP_TYPE_HASH | 1 << BPF_MAP_TYPE_ARRAY,
        max_maps: 4,
        max_elems: 1000,
        max_key_sz: 64,
        max_val_sz: 64,
        max_elem_sz: 128,
    }));
    s
}

fn hdr(ty: u8, tag: u16) -> Vec<u8> {
    let mut m = vec![ty, NFP_CCM_ABI_VERSION];
    m.extend_from_slice(&tag.to_be_bytes());
    m
}

fn alloc_msg(key: u32, value: u32, entries: u32, ty: u32) -> Vec<u8> {
    let mut m = hdr(NFP_CCM_TYPE_BPF_MAP_ALLOC, 7);
    for v in [key, value, entries, ty, 0] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    m
}

/// A map operation as `nfp_bpf_ctrl_entry_op` builds it: one entry, only
/// the key/value bytes of the map written (the rest of the slots garbage).
fn op_msg(ty: u8, tid: u32, count: u32, flags: u32, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut m = hdr(ty, 0x1234);
    for v in [tid, count, flags] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    let mut k = [0xeeu8; 64];
    k[..key.len()].copy_from_slice(key);
    let mut v = [0xddu8; 64];
    v[..value.len()].copy_from_slice(value);
    m.extend_from_slice(&k);
    m.extend_from_slice(&v);
    m
}

fn rc(r: &[u8]) -> u32 {
    u32::from_be_bytes(r[4..8].try_into().unwrap())
}

fn count(r: &[u8]) -> u32 {
    u32::from_be_bytes(r[8..12].try_into().unwrap())
}

/// The driver's length rule (cmsg.c:341-365).
fn check_len(r: &[u8], asked: u32) {
    let err = rc(r) != 0 && !(count(r) > 0 && asked > 1);
    if !err {
        let blocks = count(r) + u32::from(rc(r) != 0);
        assert_eq!(r.len(), 16 + 128 * blocks as usize, "reply length");
    }
}

#[test]
fn alloc_and_free_follow_the_driver_contract() {
    let s = store();
    let r = s
        .handle_ccm(&alloc_msg(4, 8, 16, BPF_MAP_TYPE_ARRAY), SLOTS)
        .unwrap();
    assert_eq!(r.len(), 12, "ALLOC reply is exactly 12 bytes");
    assert_eq!(&r[..4], &[0x81, 1, 0, 7], "reply type, version, echoed tag");
    assert_eq!(rc(&r), 0);
    let tid = u32::from_be_bytes(r[8..12].try_into().unwrap());
    assert!(s.table(tid).is_some());
    // Refused: unknown type, key over the limit, array key not 4 bytes,
    // flags, too many elements.
    for m in [
        alloc_msg(4, 8, 16, 9),
        alloc_msg(65, 8, 16, BPF_MAP_TYPE_HASH),
        alloc_msg(8, 8, 16, BPF_MAP_TYPE_ARRAY),
        alloc_msg(4, 8, 2000, BPF_MAP_TYPE_HASH),
    ] {
        let r = s.handle_ccm(&m, SLOTS).unwrap();
        assert_ne!(rc(&r), 0);
    }
    let mut flagged = alloc_msg(4, 8, 16, BPF_MAP_TYPE_HASH);
    flagged[23] = 1;
    assert_eq!(
        rc(&s.handle_ccm(&flagged, SLOTS).unwrap()),
        MapError::Inval.rc()
    );
    // max_maps = 4.
    for _ in 0..3 {
        assert_eq!(
            rc(&s
                .handle_ccm(&alloc_msg(4, 4, 1, BPF_MAP_TYPE_HASH), SLOTS)
                .unwrap()),
            0
        );
    }
    assert_eq!(
        rc(&s
            .handle_ccm(&alloc_msg(4, 4, 1, BPF_MAP_TYPE_HASH), SLOTS)
            .unwrap()),
        MapError::NoMem.rc()
    );
    let mut free = hdr(NFP_CCM_TYPE_BPF_MAP_FREE, 9);
    free.extend_from_slice(&tid.to_be_bytes());
    let r = s.handle_ccm(&free, SLOTS).unwrap();
    assert_eq!((r.len(), r[0], rc(&r), count(&r)), (12, 0x82, 0, 16));
    assert!(s.table(tid).is_none());
    assert_eq!(
        rc(&s.handle_ccm(&free, SLOTS).unwrap()),
        MapError::BadMap.rc()
    );
}

#[test]
fn array_maps_lookup_update_and_iterate() {
    let s = store();
    let tid = s.alloc(4, 8, 4, BPF_MAP_TYPE_ARRAY, 0).unwrap();
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_LOOKUP,
                tid,
                1,
                0,
                &2u32.to_le_bytes(),
                &[],
            ),
            SLOTS,
        )
        .unwrap();
    check_len(&r, 1);
    assert_eq!((r[0], rc(&r), count(&r)), (0x83, 0, 1));
    assert_eq!(&r[16..20], &2u32.to_le_bytes());
    assert_eq!(&r[80..88], &[0; 8], "arrays start zeroed");
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_UPDATE,
                tid,
                1,
                0,
                &2u32.to_le_bytes(),
                &[1, 2, 3, 4, 5, 6, 7, 8],
            ),
            SLOTS,
        )
        .unwrap();
    check_len(&r, 1);
    assert_eq!(rc(&r), 0);
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_LOOKUP,
                tid,
                1,
                0,
                &2u32.to_le_bytes(),
                &[],
            ),
            SLOTS,
        )
        .unwrap();
    assert_eq!(&r[80..88], &[1, 2, 3, 4, 5, 6, 7, 8]);
    // Out of range, NOEXIST and delete are refused.
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_LOOKUP,
                tid,
                1,
                0,
                &4u32.to_le_bytes(),
                &[],
            ),
            SLOTS,
        )
        .unwrap();
    assert_eq!(rc(&r), MapError::NoEnt.rc());
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_UPDATE,
                tid,
                1,
                1,
                &0u32.to_le_bytes(),
                &[0; 8],
            ),
            SLOTS,
        )
        .unwrap();
    assert_eq!(rc(&r), MapError::Exist.rc());
    assert_eq!(
        s.table(tid).unwrap().delete(&0u32.to_le_bytes()),
        Err(MapError::Inval)
    );
    // GETFIRST / GETNEXT walk 0..4, then NOENT.
    let r = s
        .handle_ccm(
            &op_msg(NFP_CCM_TYPE_BPF_MAP_GETFIRST, tid, 1, 0, &[], &[]),
            SLOTS,
        )
        .unwrap();
    assert_eq!(
        (rc(&r), count(&r), &r[16..20]),
        (0, 1, &0u32.to_le_bytes()[..])
    );
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_GETNEXT,
                tid,
                1,
                0,
                &3u32.to_le_bytes(),
                &[],
            ),
            SLOTS,
        )
        .unwrap();
    check_len(&r, 1);
    assert_eq!((rc(&r), count(&r)), (MapError::NoEnt.rc(), 0));
    // Several entries per reply (MULTI_ENT), values included.
    let r = s
        .handle_ccm(
            &op_msg(
                NFP_CCM_TYPE_BPF_MAP_GETNEXT,
                tid,
                4,
                0,
                &1u32.to_le_bytes(),
                &[],
            ),
            SLOTS,
        )
        .unwrap();
    check_len(&r, 4);
    assert_eq!((rc(&r), count(&r)), (MapError::NoEnt.rc(), 2));
    assert_eq!(&r[16..20], &2u32.to_le_bytes());
    assert_eq!(&r[80..88], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&r[144..148], &3u32.to_le_bytes());
}

#[test]
fn hash_maps_insert_delete_and_iterate_in_slot_order() {
    let s = store();
    let tid = s.alloc(8, 4, 3, BPF_MAP_TYPE_HASH, 0).unwrap();
    let t = s.table(tid).unwrap();
    assert_eq!(t.lookup(b"absent!!"), None);
    assert_eq!(
        t.update(b"bbbbbbbb", &[2; 4], BPF_EXIST),
        Err(MapError::NoEnt)
    );
    t.update(b"bbbbbbbb", &[2; 4], BPF_NOEXIST).unwrap();
    t.update(b"aaaaaaaa", &[1; 4], BPF_ANY).unwrap();
    t.update(b"cccccccc", &[3; 4], BPF_ANY).unwrap();
    assert_eq!(
        t.update(b"dddddddd", &[4; 4], BPF_ANY),
        Err(MapError::TooBig),
        "full"
    );
    assert_eq!(
        t.update(b"aaaaaaaa", &[9; 4], BPF_NOEXIST),
        Err(MapError::Exist)
    );
    t.update(b"aaaaaaaa", &[5; 4], BPF_EXIST).unwrap();
    let keys: Vec<Vec<u8>> = t.next_keys(None, 10).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            b"bbbbbbbb".to_vec(),
            b"aaaaaaaa".to_vec(),
            b"cccccccc".to_vec()
        ],
        "slot order: the order of insertion into a fresh table"
    );
    let b_slot = t.find(b"bbbbbbbb").unwrap();
    // GETNEXT of an absent key starts over (kernel semantics).
    assert_eq!(t.next_keys(Some(b"zzzzzzzz"), 1)[0].0, b"bbbbbbbb");
    assert_eq!(t.next_keys(Some(b"bbbbbbbb"), 1)[0].0, b"aaaaaaaa");
    // Delete frees the slot for a new key, which starts from zero.
    let addr_b = t.lookup(b"bbbbbbbb").unwrap();
    let r = s
        .handle_ccm(
            &op_msg(NFP_CCM_TYPE_BPF_MAP_DELETE, tid, 1, 0, b"bbbbbbbb", &[]),
            SLOTS,
        )
        .unwrap();
    check_len(&r, 1);
    assert_eq!(rc(&r), 0);
    let r = s
        .handle_ccm(
            &op_msg(NFP_CCM_TYPE_BPF_MAP_DELETE, tid, 1, 0, b"bbbbbbbb", &[]),
            SLOTS,
        )
        .unwrap();
    assert_eq!(rc(&r), MapError::NoEnt.rc());
    t.update(b"dddddddd", &[7, 7], BPF_ANY).unwrap_err();
    t.update(b"dddddddd", &[7; 4], BPF_ANY).unwrap();
    assert_eq!(t.lookup(b"dddddddd"), Some(addr_b), "slot reused");
    assert_eq!(t.find(b"dddddddd"), Some(b_slot));
    let mut v = [0u8; 4];
    assert!(s.emem_read(addr_b, &mut v));
    assert_eq!(v, [7; 4]);
    assert_eq!(t.len(), 3);
}

#[test]
fn emem_access_and_big_endian_atomic_adds() {
    let s = store();
    let tid = s.alloc(4, 16, 2, BPF_MAP_TYPE_ARRAY, 0).unwrap();
    let t = s.table(tid).unwrap();
    let a = t.lookup(&1u32.to_le_bytes()).unwrap();
    assert_eq!(a, t.base + 16);
    // 32-bit add to the big-endian word at +4.
    assert!(s.emem_add(a + 4, 0x1_0001, false));
    let mut v = [0u8; 16];
    assert!(s.emem_read(a, &mut v));
    assert_eq!(&v[4..8], &[0, 1, 0, 1]);
    // 64-bit add: low word first, each big-endian, with carry.
    assert!(s.emem_write(a + 8, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    assert!(s.emem_add(a + 8, 1, true));
    assert!(s.emem_read(a, &mut v));
    assert_eq!(&v[8..16], &[0, 0, 0, 0, 0, 0, 0, 1]);
    // The same across a u64 boundary (offset 4 mod 8).
    assert!(s.emem_write(a + 4, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x10]));
    assert!(s.emem_add(a + 4, 0x1_0000_0001, true));
    assert!(s.emem_read(a + 4, &mut v[..8]));
    assert_eq!(&v[..8], &[0, 0, 0, 0, 0, 0, 0, 0x12]);
    // Outside any table: refused.
    assert!(!s.emem_read(t.base + t.size(), &mut v[..4]));
    assert!(!s.emem_add(0x18_0000_0000, 1, false));
    // Concurrent adds from several threads are not lost.
    let s = Arc::new(s);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    s.emem_add(a, 1, true);
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let mut w = [0u8; 8];
    s.emem_read(a, &mut w);
    assert_eq!(u32::from_be_bytes(w[..4].try_into().unwrap()), 40_000);
}

#[test]
fn a_table_too_big_for_emem_is_refused_before_any_allocation() {
    // Limits from a guest-supplied image can be anything.
    let s = MapStore::new();
    s.reset(Some(MapLimits {
        types: 1 << BPF_MAP_TYPE_ARRAY,
        max_maps: 64,
        max_elems: u32::MAX,
        max_key_sz: u32::MAX,
        max_val_sz: u32::MAX,
        max_elem_sz: u32::MAX,
    }));
    assert_eq!(
        s.alloc(4, 256, u32::MAX, BPF_MAP_TYPE_ARRAY, 0),
        Err(MapError::NoMem)
    );
    assert_eq!(
        s.alloc(4, 257, 1, BPF_MAP_TYPE_ARRAY, 0),
        Err(MapError::Inval),
        "over the model's 256 bytes"
    );
}

#[test]
fn malformed_messages_get_parse_errors_or_are_dropped() {
    let s = store();
    assert_eq!(s.handle_ccm(&[1, 1], SLOTS), None);
    let r = s
        .handle_ccm(&hdr(NFP_CCM_TYPE_BPF_MAP_ALLOC, 1), SLOTS)
        .unwrap();
    assert_eq!(rc(&r), CMSG_RC_ERR_MAP_PARSE);
    let r = s
        .handle_ccm(&hdr(NFP_CCM_TYPE_BPF_MAP_LOOKUP, 1), SLOTS)
        .unwrap();
    assert_eq!(rc(&r), CMSG_RC_ERR_MAP_PARSE);
    assert_eq!(s.handle_ccm(&hdr(0x55, 1), SLOTS), None);
    // No maps in this firmware: every alloc fails.
    let none = MapStore::new();
    assert_ne!(
        rc(&none
            .handle_ccm(&alloc_msg(4, 4, 1, BPF_MAP_TYPE_HASH), SLOTS)
            .unwrap()),
        0
    );
}

#[test]
fn bpf_event_layout() {
    let mut m = Vec::new();
    ccm::bpf_event(&mut m, 0xffff_ffff, 42, &[1, 2, 3, 4, 5], &[9, 9]);
    assert_eq!(&m[..4], &[8, 1, 0, 0]);
    assert_eq!(&m[4..8], &[0xff; 4]);
    assert_eq!(&m[8..16], &42u64.to_be_bytes());
    assert_eq!(&m[16..20], &2u32.to_be_bytes());
    assert_eq!(&m[20..24], &5u32.to_be_bytes());
    assert_eq!(&m[24..32], &[1, 2, 3, 4, 5, 0, 0, 0]);
    assert_eq!(&m[32..], &[9, 9]);
}

#[test]
fn random_control_messages_never_panic() {
    let s = store();
    let mut x = 0x1234_5678_9abc_def1u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Some real tables to hit.
    let a = s.alloc(4, 8, 8, BPF_MAP_TYPE_ARRAY, 0).unwrap();
    let h = s.alloc(8, 16, 8, BPF_MAP_TYPE_HASH, 0).unwrap();
    for _ in 0..20_000 {
        let len = (next() % 200) as usize;
        let mut m: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len >= 8 {
            m[0] = 1 + (next() % 8) as u8;
            let tid = [a, h, 99][(next() % 3) as usize];
            m[4..8].copy_from_slice(&tid.to_be_bytes());
        }
        if len >= 12 {
            m[8..12].copy_from_slice(&((next() % 6) as u32).to_be_bytes());
        }
        if let Some(r) = s.handle_ccm(&m, SLOTS) {
            assert!(r.len() >= 12);
            assert_eq!(r[0], m[0] | NFP_CCM_TYPE_REPLY_BIT);
        }
    }
    assert!(s.tables().len() <= 4);
}

/// The limits of the project's firmware (`_abi_bpf_capabilities`).
fn firmware_limits() -> MapLimits {
    caps::BpfCaps::parse(&nfp_firmware::image::bpf_capabilities())
        .maps
        .unwrap()
}

fn free_msg(tid: u32) -> Vec<u8> {
    let mut m = hdr(NFP_CCM_TYPE_BPF_MAP_FREE, 9);
    m.extend_from_slice(&tid.to_be_bytes());
    m
}

/// The largest maps the capabilities allow (1M elements, 64-byte keys and
/// values), created, used and freed through control messages 1000 times
/// in a row: every range comes back (a bump allocator ran out after 9 of
/// these, 33 of the 64 MiB value-only ones).
#[test]
fn largest_maps_created_and_freed_1000_times() {
    let s = MapStore::new();
    let l = firmware_limits();
    s.reset(Some(l));
    let region = s.region().end - s.region().start;
    assert_eq!(s.emem_free(), (region, region));
    for i in 0..1000u32 {
        let (ty, key) = if i % 2 == 0 {
            (BPF_MAP_TYPE_HASH, l.max_key_sz)
        } else {
            (BPF_MAP_TYPE_ARRAY, 4)
        };
        let r = s
            .handle_ccm(&alloc_msg(key, l.max_val_sz, l.max_elems, ty), SLOTS)
            .unwrap();
        assert_eq!(rc(&r), 0, "MAP_ALLOC refused at cycle {i}");
        let tid = u32::from_be_bytes(r[8..12].try_into().unwrap());
        // One element used by the host and by a program's atomic add.
        let mut k = vec![0x5a; key as usize];
        k[..4].copy_from_slice(&(l.max_elems - 1 - i).to_le_bytes());
        let r = s
            .handle_ccm(
                &op_msg(NFP_CCM_TYPE_BPF_MAP_UPDATE, tid, 1, 0, &k, &[0, 0, 0, 5]),
                SLOTS,
            )
            .unwrap();
        assert_eq!(rc(&r), 0);
        let a = s.lookup(tid, &k).unwrap();
        assert!(s.emem_add(a, 2, false));
        let mut v = [0u8; 4];
        assert!(s.emem_read(a, &mut v));
        assert_eq!(v, [0, 0, 0, 7]);
        let t = s.table(tid).unwrap();
        let r = s.handle_ccm(&free_msg(tid), SLOTS).unwrap();
        let held = if ty == BPF_MAP_TYPE_HASH {
            1
        } else {
            l.max_elems
        };
        assert_eq!((rc(&r), count(&r)), (0, held));
        assert!(
            !s.emem_read(a, &mut v),
            "freed values are not EMEM any more"
        );
        assert_eq!(
            Arc::strong_count(&t),
            1,
            "the store (and this thread, at its next access) let go of the table"
        );
        assert_eq!(s.emem_free(), (region, region), "range returned whole");
    }
}

/// Small maps that outlive large ones, each large one a little larger
/// than the one before it (a program reloaded with a growing map while
/// other programs' small maps come and go): the small ones never split
/// the large ones' range.
#[test]
fn small_maps_between_growing_large_ones() {
    let s = MapStore::new();
    let l = firmware_limits();
    s.reset(Some(l));
    let mut pins: Vec<u32> = Vec::new();
    let mut next = {
        let mut x = 0x1234_5678u64;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    };
    for i in 0..200u32 {
        let entries = 200_000 + (i % 100) * 8000;
        let big = s
            .alloc(64, 64, entries, BPF_MAP_TYPE_HASH, 0)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        if pins.len() == l.max_maps as usize - 1 {
            let p = pins.swap_remove((next() % pins.len() as u64) as usize);
            s.free(p).unwrap();
        }
        let ty = if next() % 2 == 0 {
            BPF_MAP_TYPE_HASH
        } else {
            BPF_MAP_TYPE_ARRAY
        };
        pins.push(s.alloc(4, 8, 1 + (next() % 64) as u32, ty, 0).unwrap());
        s.free(big).unwrap();
    }
}

/// Random creates and frees of every shape the capabilities allow: a
/// create within the limits (maps, elements) never fails.
#[test]
fn random_interleaved_maps_never_fail_within_the_limits() {
    let s = MapStore::new();
    let l = firmware_limits();
    s.reset(Some(l));
    let mut live: Vec<(u32, u32)> = Vec::new();
    let mut x = 0x0bad_cafe_u64;
    let mut next = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for i in 0..3000 {
        if !live.is_empty() && (next(2) == 0 || live.len() == l.max_maps as usize) {
            let (tid, _) = live.swap_remove(next(live.len() as u64) as usize);
            s.free(tid).unwrap();
            continue;
        }
        let used: u32 = live.iter().map(|m| m.1).sum();
        let room = l.max_elems - used;
        if room == 0 {
            continue;
        }
        let entries = 1 + match next(3) {
            0 => next(64),
            1 => next(64 << 10),
            _ => next(u64::from(room)),
        } as u32;
        let entries = entries.min(room);
        let (ty, key) = if next(2) == 0 {
            (BPF_MAP_TYPE_HASH, 1 + next(64) as u32)
        } else {
            (BPF_MAP_TYPE_ARRAY, 4)
        };
        let value = 1 + next(64) as u32;
        let tid = s
            .alloc(key, value, entries, ty, 0)
            .unwrap_or_else(|e| panic!("op {i}: {entries} entries with {used} in use: {e}"));
        live.push((tid, entries));
    }
    for (tid, _) in live {
        s.free(tid).unwrap();
    }
    let region = s.region().end - s.region().start;
    assert_eq!(s.emem_free(), (region, region));
}

/// Tables side by side: an access spanning two tables, or past the last
/// value into the index, is refused.
#[test]
fn emem_accesses_stay_inside_one_table() {
    let s = store();
    let a = s.alloc(4, 8, 8, BPF_MAP_TYPE_ARRAY, 0).unwrap();
    let h = s.alloc(4, 8, 8, BPF_MAP_TYPE_HASH, 0).unwrap();
    let (ta, th) = (s.table(a).unwrap(), s.table(h).unwrap());
    let mut v = [0u8; 16];
    assert!(s.emem_read(ta.base + ta.size() - 8, &mut v[..8]));
    assert!(!s.emem_read(ta.base + ta.size() - 8, &mut v));
    assert!(s.emem_write(th.base, &[1; 8]));
    assert!(
        !s.emem_write(th.base + th.size(), &[1; 8]),
        "the index is not values"
    );
    assert!(!s.emem_add(th.base + th.size() - 4, 1, true));
    assert!(!s.emem_add(th.base + 2, 1, false), "unaligned");
    assert!(!s.emem_read(u64::MAX - 3, &mut v[..8]));
    assert!(!s.emem_read(0, &mut v[..8]));
}

/// A bpftool-style dump (GETFIRST, then GETNEXT from the last key) while
/// the host deletes elements ahead of it and the current one: it ends,
/// and lists each element that survives the walk exactly once.
#[test]
fn getnext_walk_ends_across_deletes() {
    let s = store();
    let tid = s.alloc(4, 8, 64, BPF_MAP_TYPE_HASH, 0).unwrap();
    for k in 0..64u32 {
        s.update(tid, &k.to_be_bytes(), &[k as u8; 8], BPF_ANY)
            .unwrap();
    }
    let t = s.table(tid).unwrap();
    let mut seen = Vec::new();
    let mut cur: Option<Vec<u8>> = None;
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps < 1000, "walk does not end");
        let ty = if cur.is_some() {
            NFP_CCM_TYPE_BPF_MAP_GETNEXT
        } else {
            NFP_CCM_TYPE_BPF_MAP_GETFIRST
        };
        let key = cur.clone().unwrap_or_default();
        let r = s
            .handle_ccm(&op_msg(ty, tid, 1, 0, &key, &[]), SLOTS)
            .unwrap();
        if rc(&r) != 0 {
            assert_eq!(rc(&r), MapError::NoEnt.rc());
            break;
        }
        let k = r[16..20].to_vec();
        let n = u32::from_be_bytes(k[..].try_into().unwrap());
        assert_eq!(r[80], n as u8, "value beside its key");
        seen.push(n);
        // Delete every third key further on.
        if n % 3 == 0 && n + 3 < 64 {
            t.delete(&(n + 3).to_be_bytes()).unwrap();
        }
        cur = Some(k);
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no element twice");
    let left: Vec<u32> = t
        .next_keys(None, 100)
        .iter()
        .map(|(k, _)| u32::from_be_bytes(k[..].try_into().unwrap()))
        .collect();
    for k in &left {
        assert!(seen.contains(k), "survivor {k} listed");
    }
}
