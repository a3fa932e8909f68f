//! The cost model on hand-counted sequences: every expected number is
//! worked out from docs/timing.md (§4 instruction classes, §5 commands, §6
//! helpers, §8 firmware, §9 finalisation, §10 the golden programs).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use super::model::*;
use super::profile::{bucket, bucket_range};
use super::record::format_record;
use super::*;
use crate::fp::asm::{self, R, alu_op as op, br, cmd};
use crate::fp::exec::{
    Ctx, Env, Interpreter, LM_WORDS, NoEnv, Observer, Packet, Program, le_words,
};
use crate::fp::insn::decode;
use crate::fp::me::{DEFAULT_BUDGET, Me, MeStats};
use crate::fp::word::cmd_mode::{M32, M40_BA};

fn cost(word: u64) -> InsnCost {
    insn_cost(&decode(word))
}

/// (busy if not taken, busy if taken, wait, spacing, emem, target).
fn summary(word: u64) -> (u64, u64, u64, u64, u64, Target) {
    let c = cost(word);
    let (n, t) = (c.charge(false), c.charge(true));
    (n.busy, t.busy, n.wait, n.spacing, n.emem, c.target)
}

#[test]
fn one_cycle_classes_cost_one_cycle() {
    // §4: ALU, ALU_SHF, IMMED, LD_FIELD, LOCAL_CSR, MUL_STEP: 1 cycle,
    // nothing else, branch or not.
    for w in [
        asm::alu(R::A(1), R::A(2), op::ADD, R::B(3)),
        asm::alu_shf(
            R::A(1),
            R::None,
            asm::shf_op::NONE,
            R::B(0),
            asm::sc::L_SHF,
            3,
        ),
        asm::immed(R::A(0), 0x1234, 0, false, 0),
        asm::nop(),
        asm::ld_field(R::A(0), 0xc, R::B(2), asm::sc::L_SHF, 16, false),
        asm::csr_wr(0x64, R::A(1)),
        asm::csr_rd(0x170),
        asm::mul_start(R::A(1), R::B(2)),
        asm::mul_last(R::A(3), 3, false),
    ] {
        assert_eq!(summary(w), (1, 1, 0, 0, 0, Target::None), "{w:#x}");
    }
}

#[test]
fn taken_branches_lose_the_slots_their_defer_does_not_fill() {
    // §3-§4: br: 1 + (2 − defer) taken; bcc and br_bit: 1 + (3 − defer);
    // rtn: 1 + (3 − defer); not taken: 1.
    for (defer, taken) in [(0, 3), (1, 2), (2, 1)] {
        assert_eq!(
            summary(asm::br(br::UNC, 3080, defer)).1,
            taken,
            "br defer {defer}"
        );
    }
    for (defer, taken) in [(0, 4), (1, 3), (2, 2), (3, 1)] {
        let (not, t, ..) = summary(asm::br(br::BEQ, 3097, defer));
        assert_eq!((not, t), (1, taken), "beq defer {defer}");
    }
    let (not, t, ..) = summary(asm::br_bit(true, R::A(1), 5, 3090, 0));
    assert_eq!((not, t), (1, 4), "br_bset");
    assert_eq!(summary(asm::rtn(R::A(2), 0)).1, 4, "rtn");
    assert_eq!(summary(asm::rtn(R::A(2), 3)).1, 1, "rtn defer 3");
}

#[test]
fn memory_commands_cost_issue_swap_latency_spacing_and_emem() {
    // §5: a blocking packet read: 1 + (2 − defer) busy, L_CTM wait,
    // D_ISLAND spacing; to EMEM: L_EMEM, D_EMEM and one EMEM operation;
    // add_imm does not swap: 1 busy, one EMEM operation.
    let read = |mode, ctx| asm::mem(cmd::READ32_SWAP, 0, R::A(2), R::Imm(0), 1, mode, ctx, false);
    for (ctx, busy) in [(0, 3), (1, 2), (2, 1)] {
        assert_eq!(
            summary(read(M32, ctx)),
            (busy, busy, 50, 16, 0, Target::Ctm)
        );
    }
    assert_eq!(summary(read(M40_BA, 0)), (3, 3, 250, 25, 1, Target::Emem));
    // p3_map .3092: mem[add_imm, ...], indirect_ref, no swap.
    assert_eq!(
        summary(0x0008_8647_0008_0700),
        (1, 1, 0, 0, 1, Target::Emem)
    );
    let add64 = asm::mem(cmd::ADD, 0, R::A(2), R::B(3), 1, M40_BA, 2, false);
    assert_eq!(summary(add64), (1, 1, 250, 25, 1, Target::Emem));
}

#[test]
fn firmware_and_helper_parameters_follow_their_derivation() {
    // §8: 800 MHz / 1.9 Mpps = 421; (421 − 17) / 258 scales the counts.
    assert_eq!(CALIBRATION_CYCLES, 421);
    let scaled_all = [258, 411, 298, 140, 6, 199, 169, 78, 2].map(scaled);
    assert_eq!(scaled_all, [404, 644, 467, 219, 9, 312, 265, 122, 3]);
    let c = |busy, wait, spacing, emem| Charge {
        busy,
        wait,
        spacing,
        emem,
    };
    assert_eq!(Verdict::Drop.firmware(), c(404, 675, 125, 2));
    assert_eq!(Verdict::Aborted.firmware(), c(404, 675, 125, 2));
    assert_eq!(Verdict::Pass.firmware(), c(644, 975, 173, 3));
    assert_eq!(Verdict::Tx.firmware(), c(467, 675, 125, 2));
    // §6: lookup 219 (+9 per key word beyond the first), waits IMEM + 2
    // EMEM = 650, 3 EMEM operations, spacing 16 + 2 × 25.
    let args = |key_bytes, data_bytes, packet_bytes| HelperArgs {
        key_bytes,
        data_bytes,
        packet_bytes,
    };
    assert_eq!(
        helper_cost(Helper::MapLookupElem, args(4, 0, 0)),
        c(219, 650, 66, 3)
    );
    assert_eq!(
        helper_cost(Helper::MapLookupElem, args(16, 0, 0)),
        c(219 + 27, 650, 66, 3)
    );
    assert_eq!(
        helper_cost(Helper::MapUpdateElem, args(4, 0, 0)),
        c(312, 1150, 116, 5)
    );
    assert_eq!(
        helper_cost(Helper::MapDeleteElem, args(4, 0, 0)),
        c(265, 1150, 116, 5)
    );
    // perf_event_output of 16 stack bytes: 122 + 3 × 4; with 64 packet
    // bytes appended: 80 bytes = 20 words, + L_CTM, + 2 EMEM operations
    // (ceil(80 / 64)), + D_ISLAND.
    assert_eq!(
        helper_cost(Helper::PerfEventOutput, args(0, 16, 0)),
        c(134, 850, 91, 4)
    );
    assert_eq!(
        helper_cost(Helper::PerfEventOutput, args(0, 16, 64)),
        c(182, 900, 107, 5)
    );
    assert_eq!(
        helper_cost(Helper::Unknown, args(4, 4, 4)),
        Charge::default()
    );
    // Guest-sized arguments are clamped, never overflow.
    let big = helper_cost(Helper::PerfEventOutput, args(u32::MAX, u32::MAX, u32::MAX));
    assert_eq!(
        big.busy,
        122 + 3 * u64::from((512 + 0x3fff_u32).div_ceil(4))
    );
    assert!(helper_cost(Helper::MapLookupElem, args(u32::MAX, 0, 0)).busy < 1000);
}

#[test]
fn the_firmware_alone_keeps_the_me_compute_bound() {
    // §8: for every verdict fw_busy >= ceil((fw_busy + fw_wait) / 4) and
    // >= fw_spacing, so prog_cycles >= 0 and cycles = fw + prog.
    for v in Verdict::ALL {
        let f = v.firmware();
        assert!(f.busy >= (f.busy + f.wait).div_ceil(CONTEXTS), "{v:?}");
        assert!(f.busy >= f.spacing, "{v:?}");
        let c = PacketCost::finish(v, Charge::default());
        assert_eq!((c.cycles, c.prog_cycles, c.exposed), (f.busy, 0, 0));
    }
}

#[test]
fn latency_shows_once_the_contexts_cannot_hide_it() {
    // §9: DROP, program busy 20 and wait 1600: B = 424, W = 2275,
    // ceil(2699 / 4) = 675 cycles, 251 of them exposed.
    let prog = Charge {
        busy: 20,
        wait: 1600,
        ..Charge::default()
    };
    let c = PacketCost::finish(Verdict::Drop, prog);
    assert_eq!(
        (c.cycles, c.fw_cycles, c.prog_cycles, c.exposed),
        (675, 404, 271, 251)
    );
    // Spacing binds a program made of blocking commands: D = 125 + 600.
    let prog = Charge {
        busy: 100,
        spacing: 600,
        ..Charge::default()
    };
    let c = PacketCost::finish(Verdict::Drop, prog);
    assert_eq!((c.cycles, c.exposed), (725, 221));
}

/// The golden map program's world: one array map (table 1, 4-byte keys)
/// whose value lives in EMEM, the lookup helper at 0x200.
#[derive(Default)]
struct OneMap {
    adds: AtomicU32,
}

const VALUE: u64 = 0x18_0000_1000;

impl Env for OneMap {
    fn emem_add(&self, addr: u64, _value: u64, _wide: bool) -> bool {
        self.adds.fetch_add(1, Ordering::Relaxed);
        addr == VALUE
    }
    fn helper(&self, addr: u16, ctx: &mut Ctx, _lm: &mut [u32; LM_WORDS], _pkt: &Packet) -> bool {
        if addr != 0x200 || ctx.a(0) != 1 {
            return false;
        }
        ctx.set_both(0, VALUE as u32);
        ctx.set_both(1, ((VALUE >> 32) as u32) << 24);
        true
    }
}

impl FirmwareInfo for OneMap {
    fn helper_id(&self, addr: u16) -> Option<u32> {
        (addr == 0x200).then_some(1)
    }
    fn key_size(&self, tid: u32) -> Option<u32> {
        (tid == 1).then_some(4)
    }
}

fn golden(bytes: &[u8]) -> Arc<Program> {
    Arc::new(Program::load(&le_words(bytes), 3072, 1, 4096).unwrap())
}

/// Run `frame` through `prof`'s program metered (profiling on) on a
/// fresh ME.
fn metered(
    prof: &ProgramProfile,
    frame: &[u8],
    env: &dyn Env,
    fw: Option<&dyn FirmwareInfo>,
) -> (crate::fp::me::Outcome, PacketCost) {
    let mut me = Me::new(0, Arc::new(Interpreter));
    let meter = Meter::new(prof, 0, true, fw);
    let out = me.run_metered(
        prof.program(),
        frame,
        env,
        DEFAULT_BUDGET,
        false,
        &MeStats::default(),
        meter,
    );
    let c = out.cost.expect("metered");
    (out, c)
}

#[test]
fn golden_programs_cost_what_docs_timing_10_counts() {
    let drop = golden(include_bytes!("../testdata/p1_drop.ustore.bin"));
    let byte = golden(include_bytes!("../testdata/p2_byte.ustore.bin"));
    let map = golden(include_bytes!("../testdata/p3_map.ustore.bin"));
    let env = OneMap::default();
    let mut ff = [0u8; 60];
    ff[0] = 0xff;
    // (program, frame), then (insns, prog busy, prog wait, prog emem),
    // then (verdict, cycles, prog_cycles, fw_cycles).
    type Case<'a> = (
        (&'a Arc<Program>, &'a [u8]),
        [u64; 4],
        (Verdict, u64, u64, u64),
    );
    let cases: [Case; 4] = [
        (
            (&drop, &[0; 60]),
            [15, 17, 0, 0],
            (Verdict::Drop, 421, 17, 404),
        ),
        ((&byte, &ff), [34, 41, 50, 0], (Verdict::Drop, 445, 41, 404)),
        (
            (&byte, &[1; 60]),
            [36, 40, 50, 0],
            (Verdict::Pass, 684, 40, 644),
        ),
        (
            (&map, &[0; 60]),
            [34, 255, 650, 4],
            (Verdict::Pass, 899, 255, 644),
        ),
    ];
    for (i, ((p, frame), [insns, busy, wait, emem], (v, cycles, prog_cycles, fw_cycles))) in
        cases.into_iter().enumerate()
    {
        let prof = ProgramProfile::new(p.clone(), 1);
        let (out, c) = metered(&prof, frame, &env, Some(&env));
        assert_eq!(out.verdict(), v, "case {i}");
        assert_eq!(
            (c.insns, c.prog.busy, c.prog.wait, c.prog.emem),
            (insns, busy, wait, emem),
            "case {i}: {c:?}"
        );
        assert_eq!(
            (c.cycles, c.prog_cycles, c.fw_cycles, c.exposed),
            (cycles, prog_cycles, fw_cycles, 0),
            "case {i}"
        );
        // Program instructions exclude the helper's step.
        assert_eq!(out.steps, insns + c.helper_calls, "case {i}");
    }
    assert_eq!(
        env.adds.load(Ordering::Relaxed),
        1,
        "p3's add_imm reached EMEM"
    );
    // p1 is the calibration program.
    let prof = ProgramProfile::new(drop, 1);
    assert_eq!(
        metered(&prof, &[0; 60], &NoEnv, None).1.prog.busy,
        u64::from(CALIBRATION_PROG_CYCLES)
    );
}

#[test]
fn estimates_take_the_least_bound_and_name_it() {
    let mpps = |e: &Estimate| (e.pps / 1e4).round() / 100.0;
    // §10 p1 on 64-byte frames: MEs 50 × 800 MHz / 421 = 95.0 Mpps, EMEM
    // 400 M / 2 = 200 Mpps; one port's line rate 25 G / (84 × 8) = 37.20
    // Mpps; two ports 74.4, above the MAC's 59.7.
    let e = Estimate::of(10, 4210, 20, 640, 1).unwrap();
    assert_eq!((mpps(&e), e.bottleneck), (37.2, Bottleneck::LineRate));
    assert_eq!((e.me_pps / 1e4).round() / 100.0, 95.01);
    assert_eq!(e.emem_pps, 200e6);
    let e = Estimate::of(10, 4210, 20, 640, 2).unwrap();
    assert_eq!(
        (mpps(&e), e.bottleneck),
        (59.73, Bottleneck::MacNbiPacketRate)
    );
    assert_eq!(
        e.sentence(),
        "on a real Agilio CX 2x25: about 59.7 Mpps; bottleneck: MAC/NBI packet rate"
    );
    // p3: 899 cycles: 44.49 Mpps; EMEM 400 / 7 = 57.1.
    let e = Estimate::of(1, 899, 7, 64, 2).unwrap();
    assert_eq!((mpps(&e), e.bottleneck), (44.49, Bottleneck::Microengines));
    // EMEM-bound: 20 operations per packet.
    let e = Estimate::of(1, 421, 20, 64, 2).unwrap();
    assert_eq!((mpps(&e), e.bottleneck), (20.0, Bottleneck::EmemOperations));
    // Large frames: 1514 bytes = 1538 on the wire: 2.03 Mpps per port.
    let e = Estimate::of(1, 421, 2, 1518, 1).unwrap();
    assert_eq!((mpps(&e), e.bottleneck), (2.03, Bottleneck::LineRate));
    assert_eq!(wire_bytes(1514), 1518);
    assert_eq!(wire_bytes(14), 64);
    assert!(Estimate::of(0, 0, 0, 0, 1).is_none());
}

/// `n` blocking packet reads, then XDP_DROP: latency-bound once n >= 14
/// (§9: 1079 + 53n > 4 × (404 + 3n)).
fn reads(n: usize) -> Vec<u64> {
    let mut w = vec![asm::alu(R::A(2), R::None, op::NONE, R::Lm(1, 2))];
    for _ in 0..n {
        w.push(asm::mem(
            cmd::READ32_SWAP,
            0,
            R::A(2),
            R::Imm(0),
            1,
            M32,
            0,
            false,
        ));
    }
    w.extend([
        asm::br(br::UNC, 1, 2),
        asm::alu(R::A(0), R::None, op::NONE, R::Imm(0)),
        asm::immed(R::A(0), 0x22, 0, false, 2),
    ]);
    w
}

#[test]
fn the_profile_adds_up_to_the_packets_totals() {
    let byte = golden(include_bytes!("../testdata/p2_byte.ustore.bin"));
    let prof = ProgramProfile::new(byte.clone(), 1);
    let mut ff = [0u8; 60];
    ff[0] = 0xff;
    let mut sums = Totals::default();
    for i in 0..10 {
        let frame: &[u8] = if i % 3 == 0 { &ff } else { &[7; 100] };
        let (_, c) = metered(&prof, frame, &NoEnv, None);
        sums.packets += 1;
        sums.insns += c.insns;
        sums.prog_cycles += c.prog_cycles;
        sums.fw_cycles += c.fw_cycles;
        sums.cycles += c.cycles;
    }
    let r = prof.report();
    let p = &r.profile;
    assert_eq!(p.totals.packets, 10);
    assert_eq!(
        (
            p.totals.insns,
            p.totals.prog_cycles,
            p.totals.fw_cycles,
            p.totals.cycles
        ),
        (sums.insns, sums.prog_cycles, sums.fw_cycles, sums.cycles)
    );
    assert_eq!(p.rows.iter().map(|r| r.count).sum::<u64>(), p.totals.insns);
    let busy: u64 = p.rows.iter().map(|r| r.busy).sum::<u64>() + p.exposed;
    assert_eq!(busy, p.totals.prog_cycles);
    assert_eq!(r.timed, p.totals);
    // 4 of 10 dropped (0xff), 6 passed.
    assert_eq!(r.timed.verdicts, [6, 4, 0, 0]);
    // Hottest first; ties by address. The packet read is the hottest: 3
    // busy cycles each time, 50 wait.
    assert!(
        p.rows
            .windows(2)
            .all(|w| w[0].busy > w[1].busy || (w[0].busy == w[1].busy && w[0].addr < w[1].addr))
    );
    let read = p.rows.iter().find(|r| r.addr == 3087).unwrap();
    assert_eq!((read.count, read.busy, read.wait), (10, 30, 500));
    assert!(
        read.disasm.starts_with("mem[read32_swap"),
        "{}",
        read.disasm
    );
    // The beq at .3094 was taken by the 4 dropped packets: 10 + 4 × 3.
    let beq = p.rows.iter().find(|r| r.addr == 3094).unwrap();
    assert_eq!((beq.count, beq.taken, beq.busy), (10, 4, 22));
    // Distribution: 445 (drop) and 684 (pass; a longer frame costs the
    // same); mean (4 × 445 + 6 × 684) / 10.
    let d = &r.distribution;
    assert_eq!((d.min, d.max), (445, 684));
    assert_eq!(d.mean, 588.4);
    assert_eq!(d.histogram.iter().map(|h| h.2).sum::<u64>(), 10);
    assert!(d.p50 >= 684 * 7 / 8 && d.p50 <= 684, "{d:?}");
    assert!(d.p99 <= 684);
    // The estimate is the documented formula over the totals.
    let e = r.estimate.unwrap();
    assert_eq!(e.me_pps, 50.0 * 800e6 / 588.4);
    assert_eq!(e.pps, e.line_pps.min(e.me_pps).min(e.nbi_pps));
}

#[test]
fn exposed_latency_and_helpers_have_rows_of_their_own() {
    // 20 blocking reads: B = 404 + 1 + 60 + 3 (br defer 2 costs 1, two
    // slot instructions) = 468 + ..., W = 675 + 1000: latency-bound.
    let p = Arc::new(Program::load(&reads(20), 3072, 1, 4096).unwrap());
    let prof = ProgramProfile::new(p, 1);
    let (out, c) = metered(&prof, &[0; 60], &NoEnv, None);
    assert_eq!(out.verdict(), Verdict::Drop);
    // Program: 1 + 20 × 3 + 1 + 2 = 64 busy, 1000 wait.
    assert_eq!((c.prog.busy, c.prog.wait, c.ctm_cmds), (64, 1000, 20));
    // B = 468, W = 1675: ceil(2143 / 4) = 536.
    assert_eq!((c.cycles, c.exposed, c.prog_cycles), (536, 68, 132));
    let r = prof.report();
    assert_eq!(r.profile.exposed, 68);
    let rows: u64 = r.profile.rows.iter().map(|r| r.busy).sum();
    assert_eq!(rows + r.profile.exposed, r.profile.totals.prog_cycles);
    // The map program's helper row holds the lookup.
    let map = golden(include_bytes!("../testdata/p3_map.ustore.bin"));
    let env = OneMap::default();
    let prof = ProgramProfile::new(map, 1);
    metered(&prof, &[0; 60], &env, Some(&env));
    let r = prof.report();
    assert_eq!(r.profile.helpers.len(), 1);
    let h = &r.profile.helpers[0];
    assert_eq!(
        (h.helper, h.count, h.busy, h.wait),
        (Helper::MapLookupElem, 1, 219, 650)
    );
    let rows: u64 = r.profile.rows.iter().map(|r| r.busy).sum();
    assert_eq!(
        rows + h.busy + r.profile.exposed,
        r.profile.totals.prog_cycles
    );
    assert_eq!(
        (r.timed.emem_cmds, r.timed.helper_calls, r.timed.emem_ops),
        (1, 1, 7)
    );
    // Without firmware information a helper call is unknown and free.
    let prof2 = ProgramProfile::new(prof.program().clone(), 1);
    let (_, c) = metered(&prof2, &[0; 60], &env, None);
    assert_eq!(c.prog.busy, 36);
    assert_eq!(prof2.report().profile.helpers[0].helper, Helper::Unknown);
}

#[test]
fn perf_event_output_is_charged_by_its_sizes() {
    let prog = golden(include_bytes!("../testdata/p1_drop.ustore.bin"));
    let prof = ProgramProfile::new(prog, 1);
    struct Perf;
    impl FirmwareInfo for Perf {
        fn helper_id(&self, _: u16) -> Option<u32> {
            Some(25)
        }
        fn key_size(&self, _: u32) -> Option<u32> {
            None
        }
    }
    let mut m = Meter::new(&prof, 0, true, Some(&Perf));
    let mut ctx = Ctx::default();
    // R5 = 16 bytes of data; R3's high word: 64 packet bytes (flags
    // bits 51..32).
    ctx.set_both(10, 16);
    ctx.set_both(7, 64);
    m.helper(0x203, 3100, &ctx);
    assert_eq!(
        m.charge(),
        helper_cost(
            Helper::PerfEventOutput,
            HelperArgs {
                key_bytes: 0,
                data_bytes: 16,
                packet_bytes: 64
            }
        )
    );
    assert_eq!(m.charge().busy, 182);
}

#[test]
fn metering_switches_at_run_time_and_keeps_profiles_bounded() {
    let t = Timing::new();
    assert!(!t.level().metering());
    t.set_profiling(true);
    assert!(t.level().metering() && t.level().profiling());
    t.set_profiling(false);
    t.set_timing(true);
    assert!(t.level().metering() && !t.level().profiling());
    // Programs loaded in a loop by one vNIC: the live one is kept, old ones
    // retired and dropped beyond MAX_PROFILES.
    let owner = Owner {
        vnic: 0,
        port: 0,
        name: "vNIC 0".into(),
    };
    let mut last = None;
    for _ in 0..MAX_PROFILES + 10 {
        let p = Arc::new(Program::load(&reads(1), 3072, 1, 4096).unwrap());
        t.loaded(&p, &owner);
        last = Some(p);
    }
    let reports = t.reports();
    assert_eq!(reports.len(), MAX_PROFILES);
    let last = last.unwrap();
    assert_eq!(reports[0].seq, last.seq);
    assert!(!reports[0].retired && reports[1..].iter().all(|r| r.retired));
    // A worker finds the profile; a reset gives it a fresh one.
    let mut w = WorkerProfiles::default();
    let p1 = w.get(&t, &last).clone();
    metered(&p1, &[0; 60], &NoEnv, None);
    assert_eq!(t.report(last.seq).unwrap().timed.packets, 1);
    assert!(Arc::ptr_eq(w.get(&t, &last), &p1));
    t.reset();
    assert!(!Arc::ptr_eq(w.get(&t, &last), &p1));
    assert_eq!(t.report(last.seq).unwrap().timed.packets, 0);
    assert_eq!(t.report(last.seq).unwrap().owner, Some(owner));
}

#[test]
fn histogram_buckets_cover_every_value_once() {
    for i in 0..HIST {
        let (lo, hi) = bucket_range(i);
        assert_eq!((bucket(lo), bucket(hi)), (i, i), "bucket {i}");
        if i + 1 < HIST {
            assert_eq!(bucket_range(i + 1).0, hi + 1);
        }
    }
    assert_eq!(bucket(u64::MAX), HIST - 1);
    assert_eq!(bucket_range(bucket(421)), (416, 447));
}

const HIST: usize = profile::HIST_BUCKETS;

#[test]
fn records_are_json_lines_with_the_frame_as_it_arrived() {
    let r = Record {
        port: 1,
        vnic: 1,
        prog: 7,
        verdict: Verdict::Aborted,
        insns: 15,
        prog_cycles: 17,
        fw_cycles: 404,
        cycles: 421,
        frame: b"123456789".to_vec(),
    };
    let mut out = Vec::new();
    format_record(&mut out, &r);
    assert_eq!(out.last(), Some(&b'\n'));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = [
        "port",
        "vnic",
        "prog",
        "frame_len",
        "frame_crc32",
        "frame_hex",
        "verdict",
        "insns",
        "prog_cycles",
        "fw_cycles",
        "cycles",
    ];
    let mut got = keys.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
    // zlib's CRC-32 check value.
    assert_eq!(v["frame_crc32"], 0xcbf4_3926_u32);
    assert_eq!(v["frame_hex"], "313233343536373839");
    assert_eq!(v["verdict"], "ABORTED");
    assert_eq!(
        (v["frame_len"].as_u64(), v["cycles"].as_u64()),
        (Some(9), Some(421))
    );
}

#[test]
fn the_record_file_gets_every_record_and_gives_frames_back() {
    let dir = std::env::temp_dir().join(format!("nfp-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("records.jsonl");
    let (tx, rx) = crossbeam_channel::unbounded();
    let sink = RecordSink::start(&path, Box::new(move |f| tx.send(f).unwrap())).unwrap();
    // More than the queue holds: the sender waits rather than drops.
    let n = record::RECORD_QUEUE + 100;
    for i in 0..n {
        sink.send(Record {
            port: 0,
            vnic: 0,
            prog: 1,
            verdict: Verdict::Drop,
            insns: i as u64,
            prog_cycles: 0,
            fw_cycles: 0,
            cycles: 0,
            frame: vec![i as u8; 60],
        });
    }
    assert!(sink.sync(std::time::Duration::from_secs(120)));
    assert_eq!((sink.queued(), sink.written()), (n as u64, n as u64));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), n);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["insns"], n as u64 - 1);
    assert_eq!(rx.try_iter().count(), n, "every frame buffer came back");
    drop(sink);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_profile_file_and_its_text_show_every_program() {
    let t = Timing::new();
    t.set_profiling(true);
    let p = golden(include_bytes!("../testdata/p1_drop.ustore.bin"));
    t.loaded(
        &p,
        &Owner {
            vnic: 0,
            port: 0,
            name: "vNIC 0".into(),
        },
    );
    let prof = t.profile(&p);
    for _ in 0..3 {
        metered(&prof, &[0; 60], &NoEnv, None);
    }
    let dir = std::env::temp_dir().join(format!("nfp-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("profile.json");
    t.write_files(&path).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let prog = &v["programs"][0];
    assert_eq!(prog["seq"], p.seq);
    assert_eq!(prog["timed"]["packets"], 3);
    assert_eq!(prog["timed"]["cycles"], 3 * 421);
    assert_eq!(prog["estimate"]["bottleneck"], "line_rate");
    assert_eq!(
        prog["profile"]["rows"][0]["addr"], 3076,
        "the taken br is hottest"
    );
    assert_eq!(v["model"]["worker_mes"], 50);
    let text = std::fs::read_to_string(path.with_extension("txt")).unwrap();
    assert!(
        text.contains("about 37.2 Mpps; bottleneck: line rate"),
        "{text}"
    );
    assert!(text.contains("br[.3080]"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A program's timed totals are on the counter surface as
/// `progN.*` of the card's `timing` block, and each worker's shard of a
/// profile lies in cache lines of its own.
#[test]
fn timed_totals_are_counters_and_worker_shards_are_apart() {
    use crate::counters::{Counters, apart, cache_blocks};
    let t = Timing::new();
    t.set_workers(3);
    let drop = golden(include_bytes!("../testdata/p1_drop.ustore.bin"));
    let owner = Owner {
        vnic: 0,
        port: 0,
        name: "vNIC 0".into(),
    };
    t.loaded(&drop, &owner);
    let prof = t.profile(&drop);
    for _ in 0..2 {
        metered(&prof, &[0; 60], &NoEnv, None);
    }
    let name = |leaf: &str| format!("prog{}.{leaf}", drop.seq);
    assert_eq!(t.counter(&name("packets")), Some(2));
    assert_eq!(t.counter(&name("cycles")), Some(2 * 421));
    assert_eq!(t.counter(&name("verdict.drop")), Some(2));
    assert_eq!(t.counter(&name("verdict.pass")), Some(0));
    assert_eq!(prof.timed().fw_cycles, 2 * 404);
    let shards: Vec<_> = (0..3).map(|w| prof.shard(w).expect("worker")).collect();
    assert!(apart(shards.iter().map(|s| cache_blocks(*s))));
    t.reset();
    assert_eq!(t.counter(&name("packets")), Some(0), "reset starts afresh");
}
