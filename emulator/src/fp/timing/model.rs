//! The cost model's parameters and arithmetic (docs/timing.md): what each
//! executed instruction, memory command and firmware helper costs, what
//! the firmware spends around the program per verdict, how a packet's
//! busy and wait cycles become ME occupancy, and how a program's packets
//! bound the card's packet rate. Every constant cites the section of
//! docs/timing.md that gives its source; keep the two in step.

use serde::Serialize;

use crate::fp::insn::{BrCond, Insn};
use crate::fp::word::{cmd_ctx_swap, cmd_mode};

/// `F_ME`: ME clock of the Agilio CX 2x25 (NFP-4000 "Carbon"), Hz
/// (docs/timing.md §3).
pub const ME_CLOCK_HZ: u64 = 800_000_000;
/// `N_ME`: worker MEs the firmware runs the BPF datapath on
/// (docs/timing.md §3).
pub const WORKER_MES: u64 = 50;
/// `CTX`: contexts per ME, 4-context mode (docs/timing.md §3).
pub const CONTEXTS: u64 = 4;
/// Cycles of one issued instruction of any class (docs/timing.md §3, §4).
pub const INSN_CYCLES: u32 = 1;
/// `P_UNCOND`: pipeline slots a taken `br` loses, less its defer slots
/// (docs/timing.md §3).
pub const P_UNCOND: u32 = 2;
/// `P_COND`: slots a taken conditional `bcc` or `br_bit` loses
/// (docs/timing.md §3).
pub const P_COND: u32 = 3;
/// `P_JUMP`: slots a `rtn`/`jump` loses (docs/timing.md §3).
pub const P_JUMP: u32 = 3;
/// `P_SWAP`: slots a command's context swap loses, less its defer slots
/// (docs/timing.md §3).
pub const P_SWAP: u32 = 2;
/// `L_CTM`: latency of a blocking command to the local CTM (the packet),
/// cycles (docs/timing.md §3).
pub const L_CTM: u32 = 50;
/// `L_CLS`: latency of cluster local scratch, cycles (estimate,
/// docs/timing.md §3; firmware only).
pub const L_CLS: u32 = 50;
/// `L_CTM_REMOTE`: latency of another island's CTM or the PCIe island,
/// cycles (estimate, docs/timing.md §3; firmware only).
pub const L_CTM_REMOTE: u32 = 100;
/// `L_IMEM`: latency of internal SRAM, cycles (estimate, docs/timing.md
/// §3; firmware and helpers).
pub const L_IMEM: u32 = 150;
/// `L_EMEM`: latency of EMEM (map values, 40-bit mode), cycles (estimate,
/// docs/timing.md §3).
pub const L_EMEM: u32 = 250;
/// `D_ISLAND`: minimum ME cycles between blocking commands to
/// CTM/CLS/IMEM (docs/timing.md §3, §5).
pub const D_ISLAND: u32 = 16;
/// `D_EMEM`: minimum ME cycles between blocking commands to EMEM
/// (docs/timing.md §3, §5).
pub const D_EMEM: u32 = 25;
/// `EMEM_OPS_PER_S`: EMEM operations the card sustains per second
/// (estimate, docs/timing.md §3).
pub const EMEM_OPS_PER_S: u64 = 400_000_000;
/// `NBI_PPS`: the MAC/NBI packet-rate limit, packets per second: drop.c on
/// 64-byte frames in Netronome's guide (docs/timing.md §3).
pub const NBI_PPS: u64 = 59_725_098;
/// `LINE_BPS`: line rate of one port, bit/s (docs/timing.md §3).
pub const LINE_BPS: u64 = 25_000_000_000;
/// Preamble, SFD and inter-frame gap per frame on the wire, bytes
/// (docs/timing.md §3).
pub const WIRE_OVERHEAD: u64 = 20;
/// The FCS the emulator's frames are captured without, bytes
/// (docs/timing.md §3).
pub const FCS: u64 = 4;
/// Shortest frame without FCS; shorter ones are padded on the wire
/// (docs/timing.md §3).
pub const MIN_FRAME: u64 = 60;

/// Calibration point: XDP_DROP at 1.9 Mpps per ME (docs/timing.md §8).
pub const CALIBRATION_PPS_PER_ME: u64 = 1_900_000;
/// ME cycles per packet at the calibration point: 800 MHz / 1.9 Mpps,
/// rounded (docs/timing.md §8).
pub const CALIBRATION_CYCLES: u32 =
    ((ME_CLOCK_HZ + CALIBRATION_PPS_PER_ME / 2) / CALIBRATION_PPS_PER_ME) as u32;
/// Program busy cycles of the calibration program (drop.c as the 6.12 JIT
/// emits it: `p1_drop`, docs/timing.md §10).
pub const CALIBRATION_PROG_CYCLES: u32 = 17;
/// Busy cycles counted by hand on the firmware's drop path
/// (docs/timing.md §7).
pub const FW_DROP_COUNTED: u32 = 258;
/// Busy cycles counted on the pass path (docs/timing.md §7).
pub const FW_PASS_COUNTED: u32 = 411;
/// Busy cycles counted on the XDP_TX path (docs/timing.md §7).
pub const FW_TX_COUNTED: u32 = 298;

/// A hand count of firmware cycles scaled by `FW_COUNT_SCALE` =
/// (421 − 17) / 258, rounded (docs/timing.md §8).
pub const fn scaled(counted: u32) -> u32 {
    let num = CALIBRATION_CYCLES - CALIBRATION_PROG_CYCLES;
    (counted * num + FW_DROP_COUNTED / 2) / FW_DROP_COUNTED
}

/// What one instruction, helper or the firmware adds to a packet: the
/// four quantities of docs/timing.md §2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// `B`: cycles the ME pipeline spends.
    pub busy: u64,
    /// `W`: latency of the commands the context blocks on.
    pub wait: u64,
    /// `D`: minimum ME time between its blocking commands.
    pub spacing: u64,
    /// `E`: operations reaching EMEM.
    pub emem: u64,
}

impl Charge {
    /// Both charges added.
    pub const fn plus(self, o: Charge) -> Charge {
        Charge {
            busy: self.busy + o.busy,
            wait: self.wait + o.wait,
            spacing: self.spacing + o.spacing,
            emem: self.emem + o.emem,
        }
    }
}

/// What the firmware does with the packet, as the record names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// To the host (`XDP_PASS`, tc unspec).
    Pass,
    /// Dropped (`XDP_DROP`, `TC_ACT_SHOT`, ...).
    Drop,
    /// Back out of the ingress port (`XDP_TX`, tc redirect).
    Tx,
    /// `XDP_ABORTED` or a fault: dropped as stat 3.
    Aborted,
}

impl Verdict {
    /// Every verdict, in record order.
    pub const ALL: [Verdict; 4] = [Verdict::Pass, Verdict::Drop, Verdict::Tx, Verdict::Aborted];

    /// The record's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Drop => "DROP",
            Verdict::Tx => "TX",
            Verdict::Aborted => "ABORTED",
        }
    }

    /// Index into per-verdict tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// What the firmware spends on a packet with this verdict outside the
    /// program (docs/timing.md §7-§8): aborted packets take the drop path.
    pub const fn firmware(self) -> Charge {
        match self {
            Verdict::Pass => FW_PASS,
            Verdict::Tx => FW_TX,
            Verdict::Drop | Verdict::Aborted => FW_DROP,
        }
    }
}

/// Firmware per dropped (or aborted) packet: busy scaled from the count,
/// wait = 3 CTM + CLS + IMEM + 2 remote CTM + half an EMEM ring put,
/// 2 EMEM operations, spacing of 7 island and half an EMEM command
/// (docs/timing.md §7-§8).
pub const FW_DROP: Charge = Charge {
    busy: scaled(FW_DROP_COUNTED) as u64,
    wait: (3 * L_CTM + L_CLS + L_IMEM + 2 * L_CTM_REMOTE + L_EMEM / 2) as u64,
    spacing: (2 * 7 * D_ISLAND + D_EMEM).div_ceil(2) as u64,
    emem: 2,
};
/// Firmware per passed packet: CTM 3, CLS 2, IMEM 2, PCIe 1, remote CTM 2,
/// half an EMEM put; 3 EMEM operations (docs/timing.md §7-§8).
pub const FW_PASS: Charge = Charge {
    busy: scaled(FW_PASS_COUNTED) as u64,
    wait: (3 * L_CTM + 2 * L_CLS + 2 * L_IMEM + 3 * L_CTM_REMOTE + L_EMEM / 2) as u64,
    spacing: (2 * 10 * D_ISLAND + D_EMEM).div_ceil(2) as u64,
    emem: 3,
};
/// Firmware per transmitted packet: the drop path's waits (the CTM
/// prepend writes replace the free's read) (docs/timing.md §7-§8).
pub const FW_TX: Charge = Charge {
    busy: scaled(FW_TX_COUNTED) as u64,
    wait: FW_DROP.wait,
    spacing: FW_DROP.spacing,
    emem: 2,
};

/// Where a memory command goes (docs/timing.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Not a memory command.
    None,
    /// The packet in the local CTM (32-bit mode).
    Ctm,
    /// EMEM (40-bit mode): map values.
    Emem,
}

/// The static cost of one instruction: everything but the branch decision
/// (docs/timing.md §4-§5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsnCost {
    /// Busy cycles whether or not it branches.
    pub busy: u8,
    /// Busy cycles added when it branches (taken): the slots lost less
    /// its defer slots.
    pub taken: u8,
    /// Latency the context waits for (blocking commands).
    pub wait: u16,
    /// Minimum ME spacing (blocking commands).
    pub spacing: u8,
    /// EMEM operations.
    pub emem: u8,
    /// Memory command target.
    pub target: Target,
}

impl InsnCost {
    /// The charge of one execution, `taken` if it branched.
    #[inline(always)]
    pub fn charge(self, taken: bool) -> Charge {
        Charge {
            busy: u64::from(self.busy) + if taken { u64::from(self.taken) } else { 0 },
            wait: u64::from(self.wait),
            spacing: u64::from(self.spacing),
            emem: u64::from(self.emem),
        }
    }
}

/// Slots a taken branch loses beyond its defer slots (docs/timing.md §4).
const fn lost(slots: u32, defer: u8) -> u8 {
    slots.saturating_sub(defer as u32) as u8
}

/// The cost of `insn` (docs/timing.md §4 table, §5 table).
pub fn insn_cost(insn: &Insn) -> InsnCost {
    let plain = InsnCost {
        busy: INSN_CYCLES as u8,
        taken: 0,
        wait: 0,
        spacing: 0,
        emem: 0,
        target: Target::None,
    };
    match *insn {
        Insn::Br {
            cond: BrCond::Always,
            defer,
            ..
        } => InsnCost {
            taken: lost(P_UNCOND, defer),
            ..plain
        },
        Insn::Br { defer, .. } | Insn::BrBit { defer, .. } => InsnCost {
            taken: lost(P_COND, defer),
            ..plain
        },
        Insn::BrAlu { defer, .. } => InsnCost {
            taken: lost(P_JUMP, defer),
            ..plain
        },
        Insn::Cmd(c) => {
            let swap = u64::from(c.ctx) < cmd_ctx_swap::NO_SWAP;
            let target = if u64::from(c.mode) == cmd_mode::M32 {
                Target::Ctm
            } else {
                Target::Emem
            };
            let (latency, spacing) = match target {
                Target::Emem => (L_EMEM, D_EMEM),
                _ => (L_CTM, D_ISLAND),
            };
            InsnCost {
                busy: (INSN_CYCLES + if swap { lost(P_SWAP, c.ctx) as u32 } else { 0 }) as u8,
                taken: 0,
                wait: if swap { latency as u16 } else { 0 },
                spacing: if swap { spacing as u8 } else { 0 },
                emem: u8::from(target == Target::Emem),
                target,
            }
        }
        _ => plain,
    }
}

/// The firmware helpers the model knows (docs/timing.md §6), by BPF
/// helper id (`___BPF_FUNC_MAPPER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Helper {
    /// `bpf_map_lookup_elem` (1).
    MapLookupElem,
    /// `bpf_map_update_elem` (2).
    MapUpdateElem,
    /// `bpf_map_delete_elem` (3).
    MapDeleteElem,
    /// `bpf_perf_event_output` (25).
    PerfEventOutput,
    /// Any other address the program called: the call faults.
    Unknown,
}

impl Helper {
    /// Every helper row of a profile, in order.
    pub const ALL: [Helper; 5] = [
        Helper::MapLookupElem,
        Helper::MapUpdateElem,
        Helper::MapDeleteElem,
        Helper::PerfEventOutput,
        Helper::Unknown,
    ];

    /// The helper with BPF id `id`.
    pub fn from_id(id: Option<u32>) -> Helper {
        use nfp_firmware::image as fw;
        match id {
            Some(fw::BPF_FUNC_MAP_LOOKUP_ELEM) => Helper::MapLookupElem,
            Some(fw::BPF_FUNC_MAP_UPDATE_ELEM) => Helper::MapUpdateElem,
            Some(fw::BPF_FUNC_MAP_DELETE_ELEM) => Helper::MapDeleteElem,
            Some(fw::BPF_FUNC_PERF_EVENT_OUTPUT) => Helper::PerfEventOutput,
            _ => Helper::Unknown,
        }
    }

    /// The helper's name in BPF's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Helper::MapLookupElem => "map_lookup_elem",
            Helper::MapUpdateElem => "map_update_elem",
            Helper::MapDeleteElem => "map_delete_elem",
            Helper::PerfEventOutput => "perf_event_output",
            Helper::Unknown => "unknown helper",
        }
    }

    /// Index into per-helper tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a helper call works on, as far as its cost depends on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelperArgs {
    /// Key size of the map (map helpers), bytes.
    pub key_bytes: u32,
    /// Data bytes of an event (`perf_event_output`'s size argument).
    pub data_bytes: u32,
    /// Packet bytes appended to an event (`BPF_F_CTXLEN_MASK` of the
    /// flags).
    pub packet_bytes: u32,
}

/// Busy cycles of `map_lookup_elem` counted in the firmware, one key word
/// (docs/timing.md §6).
pub const LOOKUP_COUNTED: u32 = 140;
/// Counted cycles per key word beyond the first (docs/timing.md §6).
pub const KEY_WORD_COUNTED: u32 = 6;
/// Counted cycles of `map_update_elem` (docs/timing.md §6).
pub const UPDATE_COUNTED: u32 = 199;
/// Counted cycles of `map_delete_elem` (docs/timing.md §6).
pub const DELETE_COUNTED: u32 = 169;
/// Estimated cycles of `perf_event_output` without data (docs/timing.md
/// §6).
pub const PERF_COUNTED: u32 = 78;
/// Estimated cycles per 4 data bytes an event copies (docs/timing.md §6).
pub const PERF_WORD_COUNTED: u32 = 2;
/// Most data bytes an event carries: the BPF stack (docs/timing.md §6).
pub const PERF_MAX_DATA: u32 = 512;
/// Most packet bytes an event appends: a packet's length field
/// (docs/timing.md §6).
pub const PERF_MAX_PACKET: u32 = 0x3fff;

/// The cost of a call of `helper` on `args` (docs/timing.md §6).
pub fn helper_cost(helper: Helper, args: HelperArgs) -> Charge {
    let ch = |busy: u32, wait: u32, spacing: u32, emem: u32| Charge {
        busy: u64::from(busy),
        wait: u64::from(wait),
        spacing: u64::from(spacing),
        emem: u64::from(emem),
    };
    match helper {
        Helper::MapLookupElem => {
            let extra = args.key_bytes.div_ceil(4).saturating_sub(1).min(64);
            ch(
                scaled(LOOKUP_COUNTED) + extra * scaled(KEY_WORD_COUNTED),
                L_IMEM + 2 * L_EMEM,
                D_ISLAND + 2 * D_EMEM,
                3,
            )
        }
        Helper::MapUpdateElem => ch(
            scaled(UPDATE_COUNTED),
            L_IMEM + 4 * L_EMEM,
            D_ISLAND + 4 * D_EMEM,
            5,
        ),
        Helper::MapDeleteElem => ch(
            scaled(DELETE_COUNTED),
            L_IMEM + 4 * L_EMEM,
            D_ISLAND + 4 * D_EMEM,
            5,
        ),
        Helper::PerfEventOutput => {
            let pkt = args.packet_bytes.min(PERF_MAX_PACKET);
            let bytes = args.data_bytes.min(PERF_MAX_DATA) + pkt;
            let with_pkt = u32::from(pkt > 0);
            ch(
                scaled(PERF_COUNTED) + bytes.div_ceil(4) * scaled(PERF_WORD_COUNTED),
                3 * L_EMEM + L_CTM_REMOTE + with_pkt * L_CTM,
                3 * D_EMEM + D_ISLAND + with_pkt * D_ISLAND,
                3 + bytes.div_ceil(64),
            )
        }
        Helper::Unknown => Charge::default(),
    }
}

/// One packet's cost (docs/timing.md §9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PacketCost {
    /// Program instructions executed (helpers not included).
    pub insns: u64,
    /// The program's part: its instructions and helper calls.
    pub prog: Charge,
    /// Blocking and non-blocking commands of the program to CTM.
    pub ctm_cmds: u64,
    /// Commands of the program to EMEM.
    pub emem_cmds: u64,
    /// Helper calls.
    pub helper_calls: u64,
    /// ME occupancy of the packet: `max(B, ceil((B + W) / CTX), D)`.
    pub cycles: u64,
    /// The firmware's busy cycles.
    pub fw_cycles: u64,
    /// `cycles − fw_cycles`: the program's busy cycles plus `exposed`.
    pub prog_cycles: u64,
    /// Latency or spacing the other contexts could not hide.
    pub exposed: u64,
    /// All EMEM operations of the packet, firmware included.
    pub emem_ops: u64,
}

impl PacketCost {
    /// Finalise a packet with verdict `v` whose program spent `prog`
    /// (docs/timing.md §9).
    pub fn finish(v: Verdict, prog: Charge) -> PacketCost {
        let fw = v.firmware();
        let all = fw.plus(prog);
        let hidden = (all.busy + all.wait).div_ceil(CONTEXTS);
        let cycles = all.busy.max(hidden).max(all.spacing);
        let exposed = cycles - all.busy;
        PacketCost {
            prog,
            cycles,
            fw_cycles: fw.busy,
            prog_cycles: prog.busy + exposed,
            exposed,
            emem_ops: all.emem,
            ..PacketCost::default()
        }
    }
}

/// A frame's bytes on the wire: padded to the minimum, FCS added
/// (docs/timing.md §3).
pub fn wire_bytes(frame_len: usize) -> u64 {
    (frame_len as u64).max(MIN_FRAME) + FCS
}

/// What bounds the estimate (docs/timing.md §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    /// The worker MEs' cycles.
    Microengines,
    /// The EMEM operation rate.
    EmemOperations,
    /// The MAC/NBI packet rate.
    MacNbiPacketRate,
    /// The ports' line rate.
    LineRate,
}

impl Bottleneck {
    /// Words for a sentence ("bottleneck: microengines").
    pub fn describe(self) -> &'static str {
        match self {
            Bottleneck::Microengines => "microengines",
            Bottleneck::EmemOperations => "EMEM operations",
            Bottleneck::MacNbiPacketRate => "MAC/NBI packet rate",
            Bottleneck::LineRate => "line rate",
        }
    }
}

/// The packet rate a real card would reach on a program's traffic, and
/// each bound (docs/timing.md §2), packets per second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// `N_ME × F_ME / mean(cycles)`.
    pub me_pps: f64,
    /// `EMEM_OPS_PER_S / mean(E)`.
    pub emem_pps: f64,
    /// `NBI_PPS`.
    pub nbi_pps: f64,
    /// Active ports × `LINE_BPS` / (8 × (mean wire bytes + 20)).
    pub line_pps: f64,
    /// The least of the bounds.
    pub pps: f64,
    /// Which one it is.
    pub bottleneck: Bottleneck,
}

impl Estimate {
    /// The estimate over `packets` packets that took `cycles` ME cycles,
    /// `emem_ops` EMEM operations and `wire_bytes` bytes on the wire in
    /// all, arriving on `ports` ports (at least one); None without
    /// packets.
    pub fn of(
        packets: u64,
        cycles: u64,
        emem_ops: u64,
        wire_bytes: u64,
        ports: u32,
    ) -> Option<Self> {
        if packets == 0 || cycles == 0 {
            return None;
        }
        let n = packets as f64;
        let me_pps = (WORKER_MES * ME_CLOCK_HZ) as f64 / (cycles as f64 / n);
        // A packet costs the firmware at least one EMEM operation, so
        // `emem_ops` is never 0 in practice; 0 means no bound.
        let emem_pps = if emem_ops == 0 {
            f64::INFINITY
        } else {
            EMEM_OPS_PER_S as f64 / (emem_ops as f64 / n)
        };
        let nbi_pps = NBI_PPS as f64;
        let mean_wire = wire_bytes as f64 / n;
        let line_pps =
            f64::from(ports.max(1)) * LINE_BPS as f64 / (8.0 * (mean_wire + WIRE_OVERHEAD as f64));
        // Ties go to the first in this order.
        let mut best = (me_pps, Bottleneck::Microengines);
        for b in [
            (emem_pps, Bottleneck::EmemOperations),
            (nbi_pps, Bottleneck::MacNbiPacketRate),
            (line_pps, Bottleneck::LineRate),
        ] {
            if b.0 < best.0 {
                best = b;
            }
        }
        Some(Estimate {
            me_pps,
            emem_pps,
            nbi_pps,
            line_pps,
            pps: best.0,
            bottleneck: best.1,
        })
    }

    /// "on a real Agilio CX 2x25: about X Mpps; bottleneck: Y".
    pub fn sentence(&self) -> String {
        format!(
            "on a real Agilio CX 2x25: about {:.1} Mpps; bottleneck: {}",
            self.pps / 1e6,
            self.bottleneck.describe()
        )
    }
}
