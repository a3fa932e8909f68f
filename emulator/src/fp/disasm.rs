//! NFP-6xxx (ME 2.8) microcode disassembler whose text is byte-for-byte
//! what binutils 2.40 prints (opcodes/nfp-dis.c, 4-context mode, as wrapped
//! by spec/tools/nfpdis), for any 64-bit ustore word: every instruction
//! class binutils knows, unknown operand encodings and invalid words
//! included (bpf.md §4).
//!
//! [`disasm`] (or the allocation-free [`Disasm`]) gives the text of one
//! word; [`listing`] the whole `nfpdis` output for an image. Branch targets
//! are absolute in the encoding, so the text of a word does not depend on
//! where it sits; only the listing's address columns do.
//!
//! Quirks of the reference kept on purpose: once an operand fails to decode,
//! the following operands of that instruction are not printed (their
//! separators are), and the line ends in `\t # ERROR`; values printed with
//! C's `%d` or `%x` keep their 32-bit wrap-around; a missing CRC byte-select
//! name prints as glibc's `(null)`.

use std::fmt::{self, Write};

/// Bits `hi..=lo` of `w`.
fn bf(w: u64, hi: u32, lo: u32) -> u32 {
    ((w >> lo) & ((1u64 << (hi - lo + 1)) - 1)) as u32
}

fn bit(w: u64, n: u32) -> bool {
    (w >> n) & 1 != 0
}

/// A 10-bit operand holding an 8-bit immediate (or, as destination, none)
/// (nfp-dis.c:935-939).
fn is_imm10(v: u32) -> bool {
    v >> 8 == 3
}

/// Its value, or all ones if it is not an immediate (nfp-dis.c:947-951).
fn imm10(v: u32) -> u32 {
    if is_imm10(v) { v & 0xff } else { u32::MAX }
}

/// An 8-bit operand holding a 7-bit immediate (nfp-dis.c:941-945).
fn is_imm8(v: u32) -> bool {
    v & 0x20 != 0
}

/// Its value with `msb` as bit 7 (nfp-dis.c:953-959).
fn imm8(v: u32, msb: bool) -> u32 {
    u32::from(msb) << 7 | ((v >> 6) & 3) << 5 | (v & 0x1f)
}

fn bank(b: bool) -> char {
    if b { 'B' } else { 'A' }
}

/// Source fields A and B after the swap bit, with the bank letter each is
/// printed with.
fn sources(a: u32, b: u32, swap: bool) -> (u32, u32, char, char) {
    if swap {
        (b, a, 'B', 'A')
    } else {
        (a, b, 'A', 'B')
    }
}

/// Instruction classes: (mask, value), tested in this order
/// (include/opcode/nfp.h:100-158, nfp-dis.c:2925-2950).
const CMD: (u64, u64) = (0x0080_0000_0000, 0);
const ALU_SHF: (u64, u64) = (0x00e0_0000_0000, 0x0080_0000_0000);
const ALU: (u64, u64) = (0x00e0_0000_0000, 0x00a0_0000_0000);
const IMMED: (u64, u64) = (0x01f9_0000_0000, 0x00f0_0000_0000);
const LD_FIELD: (u64, u64) = (0x01fa_00e0_0000, 0x00c0_0000_0000);
const CTX_ARB: (u64, u64) = (0x00f8_0000_0000, 0x00e0_0000_0000);
const LOCAL_CSR: (u64, u64) = (0x01fe_0010_0000, 0x00fc_0000_0000);
const BRANCH: (u64, u64) = (0x00f8_000c_3ce0, 0x00d8_0000_0020);
const BR_BYTE: (u64, u64) = (0x00f8_0000_0000, 0x00c8_0000_0000);
const BR_BIT: (u64, u64) = (0x00f8_0008_0300, 0x00d0_0000_0000);
const BR_ALU: (u64, u64) = (0x00ff_8000_0000, 0x00e8_0000_0000);
const MULT: (u64, u64) = (0x00fe_3f00_0000, 0x00f8_0000_0000);

fn is(w: u64, (mask, value): (u64, u64)) -> bool {
    w & mask == value
}

/// `alu_shf` operators (nfp-dis.c:75-85).
const SHF_OPS: [&str; 8] = ["B", "~B", "AND", "~AND", "AND~", "OR", "asr", "byte_align"];

/// `alu` operators; "" = none (nfp-dis.c:87-121).
#[rustfmt::skip]
const ALU_OPS: [&str; 32] = [
    "B", "+", "", "pop_count3", "~B", "+16", "pop_count1", "pop_count2",
    "AND", "+8", "", "cam_clear", "~AND", "-carry", "ffs", "cam_read_tag",
    "AND~", "+carry", "CRC", "cam_write", "OR", "-", "", "cam_lookup",
    "XOR", "B-A", "", "cam_write_state", "", "", "", "cam_read_state",
];

/// CRC operators; "" = invalid (nfp-dis.c:123-133).
#[rustfmt::skip]
const CRC_OPS: [&str; 8] = ["--", "", "crc_ccitt", "", "crc_32", "crc_iscsi", "crc_10", "crc_5"];

/// CRC byte selects (nfp-dis.c:135-144). Binutils has no name for 7 and
/// hands printf a NULL, which glibc prints as "(null)".
#[rustfmt::skip]
const CRC_BYTES: [&str; 8] = [
    "bytes_0_3", "bytes_1_3", "bytes_2_3", "byte_3", "bytes_0_2", "bytes_0_1", "byte_0", "(null)",
];

/// Branch conditions; "" = invalid (nfp-dis.c:251-285).
#[rustfmt::skip]
const BR_OPS: [&str; 32] = [
    "beq", "bne", "bmi", "bpl", "bcs", "bcc", "bvs", "bvc",
    "bge", "blt", "ble", "bgt", "", "", "", "",
    "br=ctx", "br!=ctx", "br_signal", "br_!signal",
    "br_inp_state", "br_!inp_state", "br_cls_state", "br_!cls_state",
    "br", "", "", "", "", "", "", "",
];

/// ME 2.8 input states of `br_inp_state` (nfp-dis.c:307-325).
#[rustfmt::skip]
const INP_STATES: [&str; 16] = [
    "nn_empty", "nn_full", "ctm_ring0_status", "ctm_ring1_status",
    "ctm_ring2_status", "ctm_ring3_status", "ctm_ring4_status", "ctm_ring5_status",
    "ctm_ring6_status", "ctm_ring7_status", "ctm_ring8_status", "ctm_ring9_status",
    "ctm_ring10_status", "ctm_ring11_status", "ctm_ring12_status", "ctm_ring13_status",
];

/// `mul_step` steps; "" = invalid (nfp-dis.c:327-337).
#[rustfmt::skip]
const MUL_STEPS: [&str; 8] = ["step1", "step2", "step3", "step4", "last", "last2", "", ""];

/// `mul_step` types (nfp-dis.c:339-345).
const MUL_TYPES: [&str; 4] = ["start", "24x8", "16x16", "32x32"];
/// NBI command names by [action][token]; "" = none (nfp-dis.c:615-620).
const NBI: [[&str; 4]; 4] = [
    ["read", "", "", ""],
    ["write", "", "", ""],
    ["", "", "", ""],
    [
        "packet_ready_drop",
        "packet_ready_unicast",
        "packet_ready_multicast_dont_free",
        "packet_ready_multicast_free_on_last",
    ],
];
/// ILA command names by [action][token] (nfp-dis.c:621-627; action 3
/// depends on the length, see [`cmd_mnemonic`]).
const ILA: [[&str; 4]; 4] = [
    ["read", "read_check_error", "", ""],
    ["write", "write_check_error", "", ""],
    ["read_int", "", "", ""],
    ["", "", "", ""],
];
/// MU (`mem`) command names by [action][token] for the actions whose name
/// does not depend on the length (nfp-dis.c:628-818).
const MU: [[&str; 4]; 32] = [
    ["read", "read_le", "read_swap", "read_swap_le"],
    ["write", "write_le", "write_swap", "write_swap_le"],
    ["write8", "write8_le", "write8_swap", "write8_swap_le"],
    [
        "atomic_read",
        "read8",
        "compare_write_or_incr/mask_compare_write",
        "test_compare_write_or_incr/test_mask_compare_write",
    ],
    ["atomic_write", "swap", "atomic_write_imm", "swap_imm"],
    ["set", "test_set", "set_imm", "test_set_imm"],
    ["clr", "test_clr", "clr_imm", "test_clr_imm"],
    ["", "", "", ""],
    ["", "", "", ""],
    ["", "", "", ""],
    ["", "", "", ""],
    ["ticket_release", "ticket_release_ind", "", ""],
    ["", "", "", ""],
    ["", "", "", ""],
    ["", "", "", ""],
    ["xor", "test_xor", "xor_imm", "test_xor_imm"],
    [
        "ctm.packet_wait_packet_status/emem.rd_qdesc/imem.stats_log",
        "ctm.packet_read_packet_status/emem.wr_qdesc/imem.stats_log_sat",
        "emem.push_qdesc/imem.stats_log_event",
        "imem.stats_log_sat_event",
    ],
    [
        "ctm.packet_alloc/emem.enqueue/imem.stats_push",
        "ctm.packet_credit_get/emem.enqueue_tail/imem.stats_push_clear",
        "ctm.packet_alloc_poll/emem.dequeue",
        "ctm.packet_add_thread",
    ],
    [
        "ctm.packet_free/emem.read_queue/imem.lb_write_desc",
        "ctm.packet_free_and_signal/emem.read_queue_ring/imem.lb_read_desc",
        "ctm.packet_free_and_return_pointer/emem.write_queue",
        "ctm.packet_return_pointer/emem.write_queue_ring",
    ],
    [
        "ctm.packet_complete_drop/emem.add_tail/imem.lb_write_idtable",
        "ctm.packet_complete_unicast/emem.qadd_thread/imem.lb_read_idtable",
        "ctm.packet_complete_multicast/emem.qadd_work",
        "ctm.packet_complete_multicast_free/emem.qadd_work_imm",
    ],
    [
        "ctm.pe_dma_to_memory_packet/emem.put/imem.lb_bucket_write_local",
        "ctm.pe_dma_to_memory_packet_swap/imem.lb_bucket_write_dcache",
        "ctm.pe_dma_to_memory_packet_free/emem.journal",
        "ctm.pe_dma_to_memory_packet_free_swap",
    ],
    [
        "ctm.pe_dma_to_memory_indirect/emem.get/imem.lb_bucket_read_local",
        "ctm.pe_dma_to_memory_indirect_swap/emem.get_eop/imem.lb_bucket_read_dcache",
        "ctm.pe_dma_to_memory_indirect_free/emem.get_freely",
        "ctm.pe_dma_to_memory_indirect_free_swap",
    ],
    [
        "ctm.pe_dma_to_memory_buffer/emem.pop/imem.lb_lookup_bundleid",
        "ctm.pe_dma_to_memory_buffer_le/emem.pop_eop/imem.lb_lookup_dcache",
        "ctm.pe_dma_to_memory_buffer_swap/emem.pop_freely/imem.lb_lookup_idtable",
        "ctm.pe_dma_to_memory_buffer_le_swap",
    ],
    [
        "ctm.pe_dma_from_memory_buffer/emem.fast_journal/imem.lb_push_stats_local",
        "ctm.pe_dma_from_memory_buffer_le/emem.fast_journal_sig/imem.lb_push_stats_dcache",
        "ctm.pe_dma_from_memory_buffer_swap/imem.lb_push_stats_local_clr",
        "ctm.pe_dma_from_memory_buffer_le_swap/imem.lb_push_stats_dcache_clr",
    ],
    ["", "", "", ""],
    ["", "", "", ""],
    ["emem.lookup/imem.lookup", "", "", ""],
    ["", "", "", ""],
    ["read32", "read32_le", "read32_swap", "read32_swap_le"],
    [
        "",
        "cam_lookup_add_lock",
        "cam_lookup_add_extend",
        "cam_lookup_add_inc",
    ],
    ["", "", "meter", ""],
    ["write32", "write32_le", "write32_swap", "write32_swap_le"],
];
/// PCIe command names by [action][token] (nfp-dis.c:819-825).
const PCIE: [[&str; 4]; 4] = [
    ["read", "read_rid", "", ""],
    ["write", "write_rid", "write_vdm", ""],
    ["read_int", "", "", ""],
    ["write_int", "", "", ""],
];
/// ARM command names (nfp-dis.c:826-827).
const ARM: [[&str; 4]; 2] = [["read", "", "", ""], ["write", "", "", ""]];
/// Crypto command names (nfp-dis.c:828-830).
const CRYPTO: [[&str; 4]; 3] = [
    ["read", "", "", ""],
    ["write", "", "", ""],
    ["write_fifo", "", "", ""],
];
/// CT (cluster target) command names (nfp-dis.c:831-844).
const CT: [[&str; 4]; 4] = [
    ["xpb_read", "ring_get", "interthread_signal", ""],
    ["xpb_write", "ring_put", "ctnn_write", ""],
    [
        "reflect_read_none",
        "reflect_read_sig_init",
        "reflect_read_sig_remote",
        "reflect_read_sig_both",
    ],
    [
        "reflect_write_none",
        "reflect_write_sig_init",
        "reflect_write_sig_remote",
        "reflect_write_sig_both",
    ],
];
/// CLS command names by [action][token] (nfp-dis.c:845-924).
const CLS: [[&str; 4]; 26] = [
    ["read", "read_le", "swap/test_compare_write", "xor"],
    ["write", "write_le", "write8_be", "write8_le"],
    ["set", "clr", "test_set", "test_clr"],
    ["set_imm", "clr_imm", "test_set_imm", "test_clr_imm"],
    ["add", "add64", "addsat", ""],
    ["add_imm", "add64_imm", "addsat_imm", ""],
    ["sub", "sub64", "subsat", ""],
    ["sub_imm", "sub64_imm", "subsat_imm", ""],
    ["queue_lock", "queue_unlock", "hash_mask", "hash_mask_clear"],
    ["get", "pop", "get_safe", "pop_safe"],
    ["ring_put", "", "ring_journal", ""],
    [
        "cam_lookup32",
        "cam_lookup32_add",
        "cam_lookup24",
        "cam_lookup24_add",
    ],
    [
        "cam_lookup8",
        "cam_lookup8_add",
        "cam_lookup16",
        "cam_lookup16_add",
    ],
    [
        "tcam_lookup32",
        "tcam_lookup24",
        "tcam_lookup16",
        "tcam_lookup8",
    ],
    [
        "reflect_write_sig_local",
        "reflect_write_sig_remote",
        "reflect_write_sig_both",
        "",
    ],
    [
        "reflect_read_sig_remote",
        "reflect_read_sig_local",
        "reflect_read_sig_both",
        "",
    ],
    [
        "",
        "cam_lookup32_add_lock",
        "cam_lookup24_add_inc",
        "cam_lookup32_add_extend",
    ],
    ["meter", "", "statistic", "statistic_imm"],
    ["", "", "", ""],
    ["", "", "", ""],
    ["test_add", "test_add64", "test_addsat", ""],
    ["test_add_imm", "test_add64_imm", "test_addsat_imm", ""],
    ["test_sub", "test_sub64", "test_subsat", ""],
    ["test_sub_imm", "test_sub64_imm", "test_subsat_imm", ""],
    [
        "ring_read",
        "ring_write",
        "ring_ordered_lock",
        "ring_ordered_unlock",
    ],
    ["ring_workq_add_thread", "ring_workq_add_work", "", ""],
];
/// MU actions 7..=10 by [action - 7][token][length bit 2] (nfp-dis.c:658-689).
const MU_ARITH: [[[&str; 2]; 4]; 4] = [
    [
        ["add", "add64"],
        ["test_add", "test_add64"],
        ["add_imm", "add64_imm"],
        ["test_add_imm", "test_add64_imm"],
    ],
    [
        ["addsat", "addsat64"],
        ["test_addsat", "test_addsat64"],
        ["addsat_imm", "addsat64_imm"],
        ["test_addsat_imm", "test_addsat64_imm"],
    ],
    [
        ["sub", "sub64"],
        ["test_sub", "test_sub64"],
        ["sub_imm", "sub64_imm"],
        ["test_sub_imm", "test_sub64_imm"],
    ],
    [
        ["subsat", "subsat64"],
        ["test_subsat", "test_subsat64"],
        ["subsat_imm", "subsat64_imm"],
        ["test_subsat_imm", "test_subsat64_imm"],
    ],
];
/// MU action 12 by [token][length] (nfp-dis.c:692-728).
const MU_CAM: [[&str; 8]; 4] = [
    [
        "cam128_lookup8/cam384_lookup8",
        "cam128_lookup16/cam384_lookup16",
        "cam128_lookup24/cam384_lookup24",
        "cam128_lookup32/cam384_lookup32",
        "cam256_lookup8/cam512_lookup8",
        "cam256_lookup16/cam512_lookup16",
        "cam256_lookup24/cam512_lookup24",
        "cam256_lookup32/cam512_lookup32",
    ],
    [
        "cam128_lookup8_add/cam384_lookup8_add",
        "cam128_lookup16_add/cam384_lookup16_add",
        "cam128_lookup24_add/cam384_lookup24_add",
        "cam128_lookup32_add/cam384_lookup32_add",
        "cam256_lookup8_add/cam512_lookup8_add",
        "cam256_lookup16_add/cam512_lookup16_add",
        "cam256_lookup24_add/cam512_lookup24_add",
        "cam256_lookup32_add/cam512_lookup32_add",
    ],
    [
        "tcam128_lookup8/tcam384_lookup8",
        "tcam128_lookup16/tcam384_lookup16",
        "tcam128_lookup24/tcam384_lookup24",
        "tcam128_lookup32/tcam384_lookup32",
        "tcam256_lookup8/tcam512_lookup8",
        "tcam256_lookup16/tcam512_lookup16",
        "tcam256_lookup24/tcam512_lookup24",
        "tcam256_lookup32/tcam512_lookup32",
    ],
    [
        "lock128/lock384",
        "",
        "cam128_lookup24_add_inc/cam384_lookup24_add_inc",
        "",
        "lock256/lock512",
        "",
        "cam256_lookup24_add_inc/cam512_lookup24_add_inc",
        "",
    ],
];
/// MU action 13 by [token][length 0 / 4] (nfp-dis.c:730-735).
const MU_MICROQ: [[&str; 2]; 3] = [
    ["microq128_get", "microq256_get"],
    ["microq128_pop", "microq256_pop"],
    ["microq128_put", "microq256_put"],
];
/// MU action 14 by [token][length 0 / 4] (nfp-dis.c:736-739).
const MU_QUEUE: [[&str; 2]; 2] = [
    ["queue128_lock", "queue256_lock"],
    ["queue128_unlock", "queue256_unlock"],
];
/// Local CSR names by number (byte address / 4); "" = none
/// (nfp-dis.c:146-249).
#[rustfmt::skip]
const CSRS: [&str; 101] = [
    "UstorAddr", "UstorDataLwr", "UstorDataUpr", "UstorErrStat",
    "ALUOut", "CtxArbCtrl", "CtxEnables", "CondCodeEn",
    "CSRCtxPtr", "PcBreakpoint0", "PcBreakpoint1", "PcBreakpointStatus",
    "RegErrStatus", "LMErrStatus", "LMeccErrorMask", "",
    "IndCtxStatus", "ActCtxStatus", "IndCtxSglEvt", "ActCtxSglEvt",
    "IndCtxWkpEvt", "ActCtxWkpEvt", "IndCtxFtrCnt", "ActCtxFtrCnt",
    "IndLMAddr0", "ActLMAddr0", "IndLMAddr1", "ActLMAddr1",
    "ByteIndex", "XferIndex", "IndFtrCntSgl", "ActFtrCntSgl",
    "NNPut", "NNGet", "", "",
    "IndLMAddr2", "ActLMAddr2", "IndLMAddr3", "ActLMAddr3",
    "IndLMAddr2BytIdx", "ActLMAddr2BytIdx", "IndLMAddr3BytIdx", "ActLMAddr3BytIdx",
    "IndPredCC", "", "", "",
    "TimestampLow", "TimestampHgh", "", "",
    "", "", "", "",
    "IndLMAddr0BytIdx", "ActLMAddr0BytIdx", "IndLMAddr1BytIdx", "ActLMAddr1BytIdx",
    "", "XfrAndBytIdx", "", "",
    "NxtNghbrSgl", "PrvNghbrSgl", "SameMESignal", "",
    "", "", "", "",
    "", "", "", "",
    "", "", "", "",
    "CRCRemainder", "ProfileCnt", "PseudoRndNum", "",
    "", "", "", "",
    "MiscControl", "PcBreakpoint0Mask", "PcBreakpoint1Mask", "",
    "Mailbox0", "Mailbox1", "Mailbox2", "Mailbox3",
    "", "", "", "",
    "CmdIndirectRef0",
];

/// CPP targets of ME 2.8 commands.
#[derive(Clone, Copy)]
enum Target {
    Nbi,
    Sram,
    Ila,
    Mu,
    Pcie,
    Arm,
    Crypto,
    Ct,
    Cls,
}

impl Target {
    /// CPP target id (include/elf/nfp.h:60-68), printed in error texts.
    fn id(self) -> u32 {
        match self {
            Target::Nbi => 1,
            Target::Sram => 2,
            Target::Ila => 6,
            Target::Mu => 7,
            Target::Pcie => 9,
            Target::Arm => 10,
            Target::Crypto => 12,
            Target::Ct => 14,
            Target::Cls => 15,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Target::Nbi => "nbi[",
            Target::Sram => "sram[",
            Target::Ila => "ila[",
            Target::Mu => "mem[",
            Target::Pcie => "pcie[",
            Target::Arm => "arm[",
            Target::Crypto => "crypto[",
            Target::Ct => "ct[",
            Target::Cls => "cls[",
        }
    }
}

/// Target and action of a 7-bit TGT_CMD field (nfp-dis.c:2267-2322): with
/// bits 6..5 clear the target is in bits 4..2 and the action in 1..0,
/// otherwise bits 6..4 select SRAM (4-bit action) or MU/CLS (5-bit action).
fn cmd_target(tc: u32) -> (Option<Target>, u32) {
    if tc >> 5 == 0 {
        let t = match (tc >> 2) & 7 {
            0 => Some(Target::Ila),
            1 => Some(Target::Nbi),
            3 => Some(Target::Pcie),
            5 => Some(Target::Crypto),
            6 => Some(Target::Arm),
            7 => Some(Target::Ct),
            _ => None,
        };
        (t, tc & 3)
    } else {
        match (tc >> 4) & 7 {
            3 => (Some(Target::Sram), tc & 0xf),
            4 | 5 => (Some(Target::Mu), tc & 0x1f),
            6 | 7 => (Some(Target::Cls), tc & 0x1f),
            _ => (None, tc & 0x1f),
        }
    }
}

/// The command name for (target, action, token, length field), or `None`
/// where binutils knows none (nfp-dis.c:613-925, 1922-1951).
fn cmd_mnemonic(t: Target, act: u32, tok: u32, len: u32) -> Option<&'static str> {
    let (act, tok, len) = (act as usize, (tok & 3) as usize, (len & 7) as usize);
    let by_token = |table: &[[&'static str; 4]]| table.get(act).map_or("", |row| row[tok]);
    // Names of the lengths 0 and 4 (the only ones defined).
    let len_0_4 = |row: Option<&[&'static str; 2]>| match (row, len) {
        (Some(r), 0) => r[0],
        (Some(r), 4) => r[1],
        _ => "",
    };
    let name = match t {
        Target::Sram => "",
        Target::Nbi => by_token(&NBI),
        Target::Ila if act == 3 => match (tok, len) {
            (0, 0) => "write_int",
            (0, 3) => "write_dma",
            _ => "",
        },
        Target::Ila => by_token(&ILA),
        Target::Mu => match act {
            7..=10 => MU_ARITH[act - 7][tok][len >> 2],
            12 => MU_CAM[tok][len],
            13 => len_0_4(MU_MICROQ.get(tok)),
            14 => len_0_4(MU_QUEUE.get(tok)),
            _ => by_token(&MU),
        },
        Target::Pcie => by_token(&PCIE),
        Target::Arm => by_token(&ARM),
        Target::Crypto => by_token(&CRYPTO),
        Target::Ct => by_token(&CT),
        Target::Cls => by_token(&CLS),
    };
    (!name.is_empty()).then_some(name)
}

/// `++`/`--` suffix of an indexed transfer operand.
fn xfer_index_mod(v: u32) -> &'static str {
    match (v >> 1) & 3 {
        1 => "++",
        2 => "--",
        _ => "",
    }
}

/// Writes one instruction the way binutils does.
struct Out<'a, W: Write + ?Sized> {
    w: &'a mut W,
    /// An operand failed to decode (or a field had no name): binutils skips
    /// the remaining operands and ends the line with an error marker
    /// (nfp-dis.c:2973-2976).
    err: bool,
}

impl<W: Write + ?Sized> Out<'_, W> {
    fn s(&mut self, s: &str) -> fmt::Result {
        self.w.write_str(s)
    }

    /// An unrestricted (10-bit) operand, 4-context mode (nfp-dis.c:961-1031).
    fn opnd10(&mut self, v: u32, bank: char, lm_ext: bool) -> fmt::Result {
        if self.err {
            return Ok(());
        }
        let n = v & 0x1f;
        match v >> 6 {
            0 => write!(self.w, "gpr{bank}_{n}"),
            2 | 3 => write!(self.w, "@gpr{bank}_{}", v & 0x7f),
            4 | 5 => {
                self.s("*$index")?;
                self.s(xfer_index_mod(v))
            }
            6 | 7 => write!(self.w, "$xfer_{}", n + if v & 0x40 != 0 { 32 } else { 0 }),
            8 => {
                let ptr = ((v >> 5) & 1) + if lm_ext { 2 } else { 0 };
                write!(self.w, "*l$index{ptr}")?;
                if v & 0x10 != 0 {
                    self.s(if v & 1 != 0 { "--" } else { "++" })
                } else if v & 0xf != 0 {
                    write!(self.w, "[{}]", v & 0xf)
                } else {
                    Ok(())
                }
            }
            9 => self.s(if v & 2 != 0 { "*n$index++" } else { "*n$index" }),
            0xa => write!(self.w, "n$reg_{n}"),
            0xc..=0xf => write!(self.w, "0x{:x}", v & 0xff),
            _ => {
                self.err = true;
                write!(self.w, "<opnd:0x{v:x}>")
            }
        }
    }

    /// A restricted (8-bit) operand, 4-context mode; `msb` is bit 7 of an
    /// immediate (nfp-dis.c:1033-1098).
    fn opnd8(&mut self, v: u32, bank: char, lm_ext: bool, msb: bool) -> fmt::Result {
        if self.err {
            return Ok(());
        }
        let n = v & 0x1f;
        match v >> 4 {
            0 | 1 => write!(self.w, "gpr{bank}_{n}"),
            8 | 9 => write!(self.w, "$xfer_{n}"),
            0xc | 0xd => write!(self.w, "$xfer_{}", n + 32),
            4 if v & 1 == 0 => {
                self.s("*$index")?;
                self.s(xfer_index_mod(v))
            }
            4 => self.s(if v & 2 != 0 { "*n$index++" } else { "*n$index" }),
            5 => {
                let ptr = ((v >> 3) & 1) + if lm_ext { 2 } else { 0 };
                write!(self.w, "*l$index{ptr}")?;
                if v & 7 != 0 {
                    write!(self.w, "[{}]", v & 7)?;
                }
                Ok(())
            }
            _ if is_imm8(v) => write!(self.w, "0x{:x}", imm8(v, msb)),
            _ => {
                self.err = true;
                write!(self.w, "<opnd:0x{v:x}>")
            }
        }
    }

    /// A 10-bit destination: an immediate encoding means none.
    fn dst10(&mut self, v: u32, bank: char, lm_ext: bool) -> fmt::Result {
        if is_imm10(v) {
            self.s("--")
        } else {
            self.opnd10(v, bank, lm_ext)
        }
    }

    /// An 8-bit destination: an immediate encoding means none.
    fn dst8(&mut self, v: u32, bank: char, lm_ext: bool, msb: bool) -> fmt::Result {
        if is_imm8(v) {
            self.s("--")
        } else {
            self.opnd8(v, bank, lm_ext, msb)
        }
    }

    /// Trailing flags of the ALU-like classes: bit 40 (when the class has
    /// it), gpr_wrboth (41) and predicate_cc (44).
    fn flags(&mut self, no_cc: bool, w: u64) -> fmt::Result {
        if no_cc {
            self.s(", no_cc")?;
        }
        if bit(w, 41) {
            self.s(", gpr_wrboth")?;
        }
        if bit(w, 44) {
            self.s(", predicate_cc")?;
        }
        Ok(())
    }

    /// Branch defer slots (bits 21..20).
    fn defer(&mut self, w: u64) -> fmt::Result {
        match bf(w, 21, 20) {
            0 => Ok(()),
            d => write!(self.w, ", defer[{d}]"),
        }
    }

    /// One word (nfp-dis.c:2923-2950, 2973-2976).
    fn insn(&mut self, w: u64) -> fmt::Result {
        if is(w, CMD) {
            self.cmd(w)?;
        } else if is(w, ALU_SHF) {
            self.alu_shf(w)?;
        } else if is(w, ALU) {
            self.alu(w)?;
        } else if is(w, IMMED) {
            self.immed(w)?;
        } else if is(w, LD_FIELD) {
            self.ld_field(w)?;
        } else if is(w, CTX_ARB) {
            self.ctx_arb(w)?;
        } else if is(w, LOCAL_CSR) {
            self.local_csr(w)?;
        } else if is(w, BRANCH) {
            self.branch(w)?;
        } else if is(w, BR_BYTE) {
            self.br_byte(w)?;
        } else if is(w, BR_BIT) {
            self.br_bit(w)?;
        } else if is(w, BR_ALU) {
            self.br_alu(w)?;
        } else if is(w, MULT) {
            self.mult(w)?;
        } else {
            // The whole word, ECC bits included (nfp-dis.c:927-933).
            self.err = true;
            write!(self.w, "<invalid_instruction>: 0x{w:x}")?;
        }
        if self.err {
            self.s("\t # ERROR")?;
        }
        Ok(())
    }

    /// `alu_shf`, `asr`, `dbl_shf`, `byte_align_*` (nfp-dis.c:1100-1222).
    fn alu_shf(&mut self, w: u64) -> fmt::Result {
        let op = bf(w, 35, 33) as usize;
        let sc = bf(w, 9, 8);
        let shift = bf(w, 32, 28);
        let msb = bit(w, 18);
        let (a, b, ab, bb) = sources(bf(w, 7, 0), bf(w, 17, 10), bit(w, 19));
        let dst_bank = bank(bit(w, 36));
        let (src_ext, dst_ext) = (bit(w, 42), bit(w, 43));
        if op == 7 {
            self.s(if sc == 2 {
                "byte_align_le["
            } else {
                "byte_align_be["
            })?;
            self.dst8(bf(w, 27, 20), dst_bank, dst_ext, msb)?;
            self.s(", ")?;
            if sc == 2 {
                self.opnd8(a, ab, false, msb)?;
            } else {
                self.opnd8(b, bb, false, msb)?;
            }
        } else {
            self.s(if sc == 3 {
                "dbl_shf["
            } else if op == 6 {
                "asr["
            } else {
                "alu_shf["
            })?;
            self.dst8(bf(w, 27, 20), dst_bank, dst_ext, msb)?;
            self.s(", ")?;
            if op != 6 {
                // B and ~B take no A operand, except as dbl_shf.
                if op < 2 && sc != 3 {
                    self.s("--")?;
                } else {
                    self.opnd8(a, ab, src_ext, msb)?;
                }
                self.s(", ")?;
                if sc != 3 {
                    self.s(SHF_OPS[op])?;
                    self.s(", ")?;
                }
            }
            self.opnd8(b, bb, src_ext, msb)?;
            self.s(", ")?;
            match (sc, shift) {
                (0, _) => write!(self.w, ">>rot{shift}")?,
                (2, 0) => self.s("<<indirect")?,
                (2, _) => write!(self.w, "<<{}", 32 - shift)?,
                (_, 0) => self.s(">>indirect")?,
                _ => write!(self.w, ">>{shift}")?,
            }
        }
        self.s("]")?;
        self.flags(bit(w, 40), w)
    }

    /// `alu` and the other operations of the ALU class (nfp-dis.c:1224-1413).
    fn alu(&mut self, w: u64) -> fmt::Result {
        let op = bf(w, 35, 31) as usize;
        let (a, b, ab, bb) = sources(bf(w, 9, 0), bf(w, 19, 10), bit(w, 30));
        let dst = bf(w, 29, 20);
        let dst_bank = bank(bit(w, 36));
        let (src_ext, dst_ext) = (bit(w, 42), bit(w, 43));
        let mut close = true;
        match op {
            // pop_count3, pop_count1, pop_count2, ffs, cam_read_tag,
            // cam_read_state: [dst, ]B.
            3 | 6 | 7 | 14 | 15 | 31 => {
                write!(self.w, "{}[", ALU_OPS[op])?;
                if op != 6 && op != 7 {
                    self.dst10(dst, dst_bank, dst_ext)?;
                    self.s(", ")?;
                }
                self.opnd10(b, bb, src_ext)?;
            }
            11 => {
                close = false;
                self.s("cam_clear")?;
            }
            23 => {
                close = false;
                self.s("cam_lookup[")?;
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                self.opnd10(a, ab, src_ext)?;
                self.s("]")?;
                if b & 3 != 0 {
                    let n = ((b >> 1) & 1) + if b & 0x10 != 0 { 2 } else { 0 };
                    write!(self.w, ", lm_addr{n}[{}]", (b >> 2) & 3)?;
                }
            }
            // cam_write[B, A, entry], cam_write_state[B, entry].
            19 | 27 => {
                write!(self.w, "{}[", ALU_OPS[op])?;
                self.opnd10(b, bb, src_ext)?;
                self.s(", ")?;
                if op == 19 {
                    self.opnd10(a, ab, src_ext)?;
                    self.s(", ")?;
                }
                write!(self.w, "{}", dst & 0xf)?;
            }
            18 => {
                close = false;
                self.s(if a & 8 != 0 { "crc_le[" } else { "crc_be[" })?;
                match CRC_OPS[((a >> 5) & 7) as usize] {
                    "" => {
                        self.s(", <invalid CRC operator>, ")?;
                        self.err = true;
                    }
                    crc => {
                        self.s(crc)?;
                        self.s(", ")?;
                    }
                }
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                self.opnd10(b, bb, src_ext)?;
                self.s("]")?;
                if a & 7 != 0 {
                    self.s(", ")?;
                    self.s(CRC_BYTES[(a & 7) as usize])?;
                }
                if a & 0x10 != 0 {
                    self.s(", bit_swap")?;
                }
            }
            _ => {
                self.s("alu[")?;
                self.dst10(dst, dst_bank, dst_ext)?;
                self.s(", ")?;
                // B and ~B take no A operand.
                if op == 0 || op == 4 {
                    self.s("--")?;
                } else {
                    self.opnd10(a, ab, src_ext)?;
                }
                match ALU_OPS[op] {
                    "" => {
                        write!(self.w, ", <operator:0x{op:x}>, ")?;
                        self.err = true;
                    }
                    name => write!(self.w, ", {name}, ")?,
                }
                self.opnd10(b, bb, src_ext)?;
            }
        }
        if close {
            self.s("]")?;
        }
        self.flags(bit(w, 40), w)
    }

    /// `immed`, `immed_bN`, `immed_wN`, `nop` (nfp-dis.c:1415-1483).
    fn immed(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 9, 0), bf(w, 19, 10));
        let (byte, word, inv) = (bit(w, 29), bit(w, 30), bit(w, 31));
        let shift = bf(w, 34, 33);
        // The low byte comes from B if it is an immediate, else from A (all
        // ones when neither is).
        let mut imm = bf(w, 27, 20) << 8 | if is_imm10(b) { b & 0xff } else { imm10(a) };
        if is_imm10(a) && is_imm10(b) && imm == 0 {
            return self.s("nop");
        }
        if inv {
            imm = (imm ^ 0xffff) | 0xffff_0000;
        }
        if byte {
            write!(self.w, "immed_b{shift}[")?;
            imm &= 0xff;
        } else if word {
            write!(self.w, "immed_w{}[", shift / 2)?;
            imm &= 0xffff;
        } else {
            self.s("immed[")?;
        }
        // The destination is the field that is not an immediate.
        let dst_ext = bit(w, 43);
        if is_imm10(a) && is_imm10(b) {
            self.s("--")?;
        } else if is_imm10(a) {
            self.opnd10(b, 'B', dst_ext)?;
        } else {
            self.opnd10(a, 'A', dst_ext)?;
        }
        write!(self.w, ", 0x{imm:x}")?;
        if !byte && !word && shift != 0 {
            write!(self.w, ", <<{}", shift * 8)?;
        }
        self.s("]")?;
        self.flags(false, w)
    }

    /// `ld_field`, `ld_field_w_clr` (nfp-dis.c:1485-1554).
    fn ld_field(&mut self, w: u64) -> fmt::Result {
        let shift = bf(w, 32, 28);
        let mask = bf(w, 27, 24);
        let msb = bit(w, 18);
        let sc = bf(w, 9, 8);
        // The destination is also the first source: A, or B when swapped.
        let (dst, src, db, sb) = sources(bf(w, 7, 0), bf(w, 17, 10), bit(w, 19));
        self.s(if bit(w, 20) {
            "ld_field_w_clr["
        } else {
            "ld_field["
        })?;
        self.opnd8(dst, db, bit(w, 43), msb)?;
        write!(
            self.w,
            ", {}{}{}{}, ",
            (mask >> 3) & 1,
            (mask >> 2) & 1,
            (mask >> 1) & 1,
            mask & 1
        )?;
        self.opnd8(src, sb, bit(w, 42), msb)?;
        match (sc, shift) {
            (0, 0) => {}
            (0, _) => write!(self.w, ", >>rot{shift}")?,
            (1, 0) => self.s(", >>indirect")?,
            (1, _) => write!(self.w, ", >>{shift}")?,
            (2, 0) => self.s(", <<indirect")?,
            (2, _) => write!(self.w, ", <<{}", 32 - shift)?,
            _ => write!(self.w, ", >>dbl{shift}")?,
        }
        self.s("]")?;
        if bit(w, 34) {
            self.s(", load_cc")?;
        }
        self.flags(false, w)
    }

    /// `ctx_arb` (nfp-dis.c:1556-1604).
    fn ctx_arb(&mut self, w: u64) -> fmt::Result {
        let events = bf(w, 15, 0);
        let mut any = bit(w, 16);
        self.s("ctx_arb[")?;
        if bit(w, 17) {
            self.s("bpt")?;
        } else if events == 1 {
            self.s("voluntary")?;
        } else if events == 0 && !bit(w, 19) {
            self.s("kill")?;
            any = false;
        } else if events == 0 {
            self.s("--")?;
        } else {
            let mut sep = "";
            for n in (1..16).filter(|n| events >> n & 1 != 0) {
                write!(self.w, "{sep}sig{n}")?;
                sep = ", ";
            }
        }
        self.s("]")?;
        if any {
            self.s(", any")?;
        }
        if bit(w, 18) {
            write!(self.w, ", br[.{}]", br_addr(w))?;
        }
        self.defer(w)
    }

    /// `local_csr_rd`, `local_csr_wr` and the ME 2.7 `urd`/`uwr` binutils
    /// still decodes for CSR 1 (nfp-dis.c:1606-1671).
    fn local_csr(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 9, 0), bf(w, 19, 10));
        let write = bit(w, 21);
        let csr = bf(w, 32, 22);
        let (src, src_bank) = if is_imm10(a) && !is_imm10(b) {
            (b, 'B')
        } else {
            (a, 'A')
        };
        let ext = bit(w, 42);
        if csr == 1 {
            let idx = u32::from(bit(w, 20));
            if write {
                write!(self.w, "uwr[*u$index{idx}++, ")?;
                self.opnd10(src, src_bank, ext)?;
            } else {
                self.s("urd[")?;
                self.opnd10(src, src_bank, ext)?;
                write!(self.w, ", *u$index{idx}++")?;
            }
        } else {
            self.s(if write {
                "local_csr_wr["
            } else {
                "local_csr_rd["
            })?;
            match CSRS.get(csr as usize) {
                Some(name) if !name.is_empty() => self.s(name)?,
                _ => write!(self.w, "0x{:x}", csr * 4)?,
            }
            if write {
                self.s(", ")?;
                self.opnd10(src, src_bank, ext)?;
            }
        }
        self.s("]")
    }

    /// Conditional and unconditional branches (nfp-dis.c:1673-1720).
    fn branch(&mut self, w: u64) -> fmt::Result {
        let op = bf(w, 4, 0) as usize;
        let state = bf(w, 17, 14);
        match BR_OPS[op] {
            "" => {
                self.s("<invalid branch>[")?;
                self.err = true;
            }
            name => write!(self.w, "{name}[")?,
        }
        match op {
            16..=19 => write!(self.w, "{state}, ")?,
            20 | 21 => write!(self.w, "{}, ", INP_STATES[state as usize])?,
            22 | 23 => write!(self.w, "cls_ring{state}_status, ")?,
            _ => {}
        }
        write!(self.w, ".{}]", br_addr(w))?;
        self.defer(w)
    }

    /// `br=byte`, `br!=byte` (nfp-dis.c:1722-1765).
    fn br_byte(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 7, 0), bf(w, 17, 10));
        let msb = bit(w, 18);
        let ext = bit(w, 42);
        self.s(if bit(w, 19) { "br=byte[" } else { "br!=byte[" })?;
        // The register first, then the byte number and the value.
        let (first, fb, second, sb) = if is_imm8(a) {
            (b, 'B', a, 'A')
        } else {
            (a, 'A', b, 'B')
        };
        self.opnd8(first, fb, ext, msb)?;
        write!(self.w, ", {}, ", bf(w, 9, 8))?;
        self.opnd8(second, sb, ext, msb)?;
        write!(self.w, ", .{}]", br_addr(w))?;
        self.defer(w)
    }

    /// `br_bset`, `br_bclr` (nfp-dis.c:1767-1804).
    fn br_bit(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 7, 0), bf(w, 17, 10));
        let ext = bit(w, 42);
        self.s(if bit(w, 18) { "br_bset[" } else { "br_bclr[" })?;
        // One field is the register, the other holds bit number + 1 (all
        // ones if it is no immediate either).
        let (reg, rb, num) = if is_imm8(a) { (b, 'B', a) } else { (a, 'A', b) };
        self.opnd8(reg, rb, ext, false)?;
        let plus1 = if is_imm8(num) {
            imm8(num, false)
        } else {
            u32::MAX
        };
        write!(
            self.w,
            ", {}, .{}]",
            plus1.wrapping_sub(1) & 0x1f,
            br_addr(w)
        )?;
        self.defer(w)
    }

    /// `rtn`, `jump` (nfp-dis.c:1806-1842).
    fn br_alu(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 9, 0), bf(w, 19, 10));
        let hi = bf(w, 30, 22) << 8;
        let (reg, rb, imm) = if is_imm10(a) {
            (b, 'B', hi | (a & 0xff))
        } else {
            (a, 'A', hi | imm10(b))
        };
        self.s(if imm == 0 { "rtn[" } else { "jump[" })?;
        self.opnd10(reg, rb, bit(w, 42))?;
        if imm != 0 {
            // Printed with %d: all ones shows as -1.
            write!(self.w, ", .{}", imm as i32)?;
        }
        self.s("]")?;
        self.defer(w)
    }

    /// `mul_step` (nfp-dis.c:1844-1905).
    fn mult(&mut self, w: u64) -> fmt::Result {
        let step = bf(w, 22, 20) as usize;
        let ty = bf(w, 32, 31) as usize;
        let (a, b, ab, bb) = sources(bf(w, 9, 0), bf(w, 19, 10), bit(w, 30));
        let src_ext = bit(w, 42);
        self.s("mul_step[")?;
        // last/last2 name the destination in the (swapped) A position.
        if step >= 4 {
            self.opnd10(a, bank(bit(w, 23)), bit(w, 43))?;
            self.s(", --")?;
        } else {
            self.opnd10(a, ab, src_ext)?;
            self.s(", ")?;
            self.opnd10(b, bb, src_ext)?;
        }
        write!(self.w, "], {}", MUL_TYPES[ty])?;
        if ty > 0 {
            match MUL_STEPS[step] {
                "" => {
                    self.s("_<invalid mul_step>")?;
                    self.err = true;
                }
                s => write!(self.w, "_{s}")?,
            }
        }
        self.flags(bit(w, 40), w)
    }

    /// CPP commands, ME 2.8 layout (nfp-dis.c:2232-2418).
    fn cmd(&mut self, w: u64) -> fmt::Result {
        let (a, b) = (bf(w, 7, 0), bf(w, 17, 10));
        let ctx = bf(w, 9, 8);
        let mut token = bf(w, 19, 18);
        let mut xfer = u32::from(bit(w, 40)) << 5 | bf(w, 24, 20);
        let len = bf(w, 27, 25);
        let mut sig = bf(w, 31, 28);
        let indirect = bit(w, 41);
        let mode = bf(w, 44, 42);
        // Immediate forms reuse the signal, length, transfer and token
        // fields as data (computed before mode 6 clears them).
        let imm = sig << 10 | len << 7 | (xfer & 0x1f) << 2 | token;
        let val_ba = b << 8 | a;
        if mode == 6 {
            (token, sig, xfer) = (0, 0, 0);
        }
        let (target, action) = cmd_target(bf(w, 38, 32));
        let Some(target) = target else {
            self.err = true;
            return write!(self.w, "<invalid cmd target -1:{action}:{token}>[]");
        };
        self.s(target.prefix())?;
        let Some(name) = cmd_mnemonic(target, action, token, len) else {
            self.err = true;
            return write!(
                self.w,
                "<invalid cmd action {}:{action}:{token}>[]",
                target.id()
            );
        };
        write!(self.w, "{name}, ")?;
        // Modes 1 and 3 take the address as (B << 8) + A.
        let (a, b, ab, bb) = sources(a, b, mode == 1 || mode == 3);
        match mode {
            0 | 1 => {
                write!(self.w, "$xfer_{xfer}, ")?;
                self.opnd8(a, ab, false, false)?;
                self.s(", <<8, ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            2 | 3 => {
                // Without an ELF MiscControl the 3rd-party address mode is
                // the 40-bit one.
                write!(self.w, "0x{:x}, ", u32::from(indirect) << 6 | xfer)?;
                self.opnd8(a, ab, false, false)?;
                self.s(", <<8, ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            4 => {
                write!(self.w, "$xfer_{xfer}, ")?;
                self.opnd8(a, ab, false, false)?;
                self.s(", ")?;
                self.opnd8(b, bb, false, false)?;
                write!(self.w, ", {}", len + 1)?;
            }
            5 => write!(self.w, "$xfer_{xfer}, 0x{val_ba:x}, {}", len + 1)?,
            6 => write!(self.w, "0x{val_ba:x}, 0x{imm:x}")?,
            _ => write!(self.w, "0x{:x}, --, {}", xfer << 16 | val_ba, len + 1)?,
        }
        self.s("]")?;
        if indirect && mode != 2 && mode != 3 {
            self.s(", indirect_ref")?;
        }
        if ctx != 3 {
            match sig {
                0 => self.s(", ctx_swap[--]")?,
                s => write!(self.w, ", ctx_swap[sig{s}]")?,
            }
            if ctx != 0 {
                write!(self.w, ", defer[{ctx}]")?;
            }
        } else if sig != 0 {
            write!(self.w, ", sig_done[sig{sig}]")?;
        }
        Ok(())
    }
}

/// Branch target: bit 40 above bits 34..22 (nfp-dis.c:1681).
fn br_addr(w: u64) -> u32 {
    u32::from(bit(w, 40)) << 13 | bf(w, 34, 22)
}

/// Formats one ustore word as binutils' disassembler does (4-context mode,
/// ME 2.8), without allocating: `format!("{}", Disasm(word))` equals
/// [`disasm`]`(word)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disasm(pub u64);

impl fmt::Display for Disasm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Out { w: f, err: false }.insn(self.0)
    }
}

/// The text `nfpdis` prints for one ustore word after its `.PC` column,
/// e.g. `immed[gprB_22, 0x3fff]`. Words binutils cannot decode (fully or
/// in part) end in `\t # ERROR`, as there. The text does not depend on the
/// word's address (branch targets are absolute).
#[must_use]
pub fn disasm(word: u64) -> String {
    let mut s = String::with_capacity(64);
    // Writing into a String cannot fail.
    let _ = write!(s, "{}", Disasm(word));
    s
}

/// Decimal digits of `n` (at least one).
fn digits(mut n: u64) -> i64 {
    let mut d = 1;
    while n > 9 {
        n /= 10;
        d += 1;
    }
    d
}

/// Exactly what `nfpdis image.bin base ctx4` prints for an image of
/// `words` loaded at ustore word address `base`
/// (spec/tools/nfpdis.c): per word the address, the raw word, binutils'
/// `.PC` column and [`disasm`], e.g.
/// ` 3072: 000f20f003f05bff  .3072  immed[gprB_22, 0x3fff]`.
#[must_use]
pub fn listing(words: &[u64], base: u16) -> String {
    let mut out = String::with_capacity(words.len() * 72);
    let len_digits = digits(words.len() as u64);
    for (i, &w) in (0u64..).zip(words) {
        let pc = u64::from(base) + i;
        // The dot is printed with `%*c` and a width of (digits of the word
        // count) - (digits of the PC) + 1; a negative width left-justifies
        // (nfp-dis.c:2866-2890).
        let width = len_digits - digits(pc) + 1;
        let pad = width.unsigned_abs() as usize;
        // Writing into a String cannot fail.
        let _ = if width < 0 {
            write!(out, "{pc:5}: {w:016x}  {:<pad$}", '.')
        } else {
            write!(out, "{pc:5}: {w:016x}  {:>pad$}", '.')
        };
        let _ = writeln!(out, "{pc}  {}", Disasm(w));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_of(image: &[u8]) -> Vec<u64> {
        crate::fp::exec::le_words(image)
    }

    /// Compares line by line and reports every differing line.
    fn assert_same_lines(what: &str, actual: &str, expected: &str) {
        let mut bad = String::new();
        let (a, e): (Vec<_>, Vec<_>) = (actual.lines().collect(), expected.lines().collect());
        for (i, (x, y)) in a.iter().zip(&e).enumerate() {
            if x != y {
                bad += &format!("line {}:\n  expected {y:?}\n  actual   {x:?}\n", i + 1);
            }
        }
        assert_eq!(a.len(), e.len(), "{what}: line count\n{bad}");
        assert!(bad.is_empty(), "{what}:\n{bad}");
        assert_eq!(actual, expected, "{what}: line ends");
    }

    /// The three golden programs of bpf.md §9, listed by nfpdis at ustore
    /// address 3072 (spec/progs/*.dis.txt).
    #[test]
    fn golden_programs_match_nfpdis() {
        for (name, image, text) in [
            (
                "p1_drop",
                &include_bytes!("testdata/p1_drop.ustore.bin")[..],
                include_str!("testdata/p1_drop.dis.txt"),
            ),
            (
                "p2_byte",
                &include_bytes!("testdata/p2_byte.ustore.bin")[..],
                include_str!("testdata/p2_byte.dis.txt"),
            ),
            (
                "p3_map",
                &include_bytes!("testdata/p3_map.ustore.bin")[..],
                include_str!("testdata/p3_map.dis.txt"),
            ),
        ] {
            assert_same_lines(name, &listing(&words_of(image), 3072), text);
        }
    }

    /// The `.PC` column's width follows the digit counts of the word count
    /// and of the PC (expected texts from nfpdis).
    #[test]
    fn listing_columns_match_nfpdis() {
        let nop = 0x0000_00f0_000c_0300u64;
        let imm = 0x000f_20f0_03f0_5bffu64;
        assert_eq!(listing(&[], 0), "");
        assert_eq!(
            listing(&[imm, nop], 3072),
            " 3072: 000f20f003f05bff  . 3072  immed[gprB_22, 0x3fff]\n\
             \x203073: 000000f0000c0300  . 3073  nop\n"
        );
        assert_eq!(
            listing(&[imm], 65535),
            "65535: 000f20f003f05bff  .  65535  immed[gprB_22, 0x3fff]\n"
        );
        let twelve: Vec<u64> = (0..12)
            .map(|i| if i % 2 == 0 { imm } else { nop })
            .collect();
        let text = listing(&twelve, 5);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 12);
        assert_eq!(
            lines[0],
            "    5: 000f20f003f05bff   .5  immed[gprB_22, 0x3fff]"
        );
        assert_eq!(
            lines[4],
            "    9: 000f20f003f05bff   .9  immed[gprB_22, 0x3fff]"
        );
        assert_eq!(lines[5], "   10: 000000f0000c0300  .10  nop");
        assert_eq!(lines[11], "   16: 000000f0000c0300  .16  nop");
        let many = vec![nop; 100];
        let text = listing(&many, 65500);
        assert!(
            text.ends_with("65599: 000000f0000c0300  .65599  nop\n"),
            "{text}"
        );
        assert!(text.contains("\n65535: 000000f0000c0300  .65535  nop\n65536: "));
        assert!(text.contains("\n65536: 000000f0000c0300  .65536  nop\n"));
    }

    /// Every line of testdata/disasm_corpus.txt (`<word hex> <nfpdis text>`,
    /// made by `regenerate_corpus`) must match; all mismatches are reported.
    #[test]
    fn corpus_matches_nfpdis() {
        let corpus = include_str!("testdata/disasm_corpus.txt");
        let mut bad = Vec::new();
        let mut n = 0;
        for line in corpus.lines() {
            let (hex, expected) = line.split_once(' ').unwrap_or((line, ""));
            let word = u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let actual = disasm(word);
            if actual != expected {
                bad.push(format!(
                    "{word:016x}\n  expected {expected:?}\n  actual   {actual:?}"
                ));
            }
            n += 1;
        }
        assert!(n >= 5000, "corpus too small: {n} words");
        assert!(
            bad.is_empty(),
            "{} of {n} words differ from nfpdis:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn display_and_string_agree_and_nothing_panics() {
        let mut r = Rng(0x0123_4567_89ab_cdef);
        let mut buf = String::new();
        for _ in 0..100_000 {
            let w = r.next();
            buf.clear();
            let _ = write!(buf, "{}", Disasm(w));
            assert_eq!(buf, disasm(w));
            assert!(!buf.is_empty() && !buf.contains('\n'));
        }
        for w in [0, u64::MAX, 0x00ff_ffff_ffff, 0x1fff_ffff_ffff] {
            assert!(!disasm(w).is_empty());
        }
    }

    // ------------------------------------------------------------------
    // Corpus generator.

    /// xorshift64*: deterministic, so the corpus is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A random 10-bit operand, every encoding kind represented.
    fn rand_opnd10(r: &mut Rng) -> u64 {
        match r.below(12) {
            0 | 1 => r.below(0x40),           // GPR
            2 => 0x80 + r.below(0x80),        // absolute GPR
            3 => 0x100 + r.below(0x80),       // indexed xfer
            4 => 0x180 + r.below(0x80),       // xfer
            5 | 6 => 0x200 + r.below(0x40),   // LM
            7 => 0x240 + r.below(0x40),       // indexed NN
            8 => 0x280 + r.below(0x40),       // NN
            9 | 10 => 0x300 + r.below(0x100), // immediate / none
            _ => {
                // Undecodable.
                let x = r.below(0x40);
                if r.below(2) == 0 { 0x40 + x } else { 0x2c0 + x }
            }
        }
    }

    /// A random 8-bit operand, every encoding kind represented.
    fn rand_opnd8(r: &mut Rng) -> u64 {
        match r.below(8) {
            0 | 1 => r.below(0x20),
            2 => 0x80 + r.below(0x20),
            3 => 0xc0 + r.below(0x20),
            4 => 0x40 + r.below(0x10),
            5 => 0x50 + r.below(0x10),
            _ => r.below(0x100) | 0x20,
        }
    }

    /// Random 8-bit A and B operand fields.
    fn opnds8(r: &mut Rng) -> [(u32, u32, u64); 2] {
        [(0, 8, rand_opnd8(r)), (10, 8, rand_opnd8(r))]
    }

    /// A 10-bit operand pair where usually exactly one is an immediate.
    fn rand_pair10(r: &mut Rng) -> (u64, u64) {
        let (x, i) = (rand_opnd10(r), 0x300 + r.below(0x100));
        match r.below(10) {
            0..=4 => (x, i),
            5..=7 => (i, x),
            8 => (i, 0x300 + r.below(0x100)),
            _ => (x, rand_opnd10(r)),
        }
    }

    /// Random bits with the class bits forced and operand fields placed.
    fn in_class(r: &mut Rng, (mask, value): (u64, u64), fields: &[(u32, u32, u64)]) -> u64 {
        let mut w = r.next() & NFP_INSN_BITS;
        for &(lo, width, v) in fields {
            w = (w & !(((1u64 << width) - 1) << lo)) | v << lo;
        }
        (w & !mask) | value
    }

    const NFP_INSN_BITS: u64 = (1 << 45) - 1;

    /// Software registers as the JIT names them (nfp_asm.h:285-367).
    #[derive(Clone, Copy)]
    enum Sw {
        A(u64),
        B(u64),
        Both(u64),
        Xfer(u64),
        Imm(u64),
        None,
        /// LM pointer 0..3, word offset.
        Lm(u64, u64),
        LmInc(u64),
        LmDec(u64),
    }

    impl Sw {
        fn lm_ext(self) -> bool {
            matches!(self, Sw::Lm(p, _) | Sw::LmInc(p) | Sw::LmDec(p) if p >= 2)
        }

        /// Unrestricted encoding (nfp_asm.c:113-160).
        fn ur(self, dst: bool) -> u64 {
            match self {
                Sw::A(n) | Sw::B(n) | Sw::Both(n) => n,
                Sw::Xfer(n) => 0x180 | n,
                Sw::Imm(v) => 0x300 | v,
                Sw::None => {
                    if dst {
                        0x300
                    } else {
                        0
                    }
                }
                Sw::Lm(p, off) => 0x200 | (p & 1) << 5 | off,
                Sw::LmInc(p) => 0x210 | (p & 1) << 5,
                Sw::LmDec(p) => 0x211 | (p & 1) << 5,
            }
        }

        /// Restricted encoding and imm8 bit (nfp_asm.c:214-250).
        fn re(self, dst: bool) -> (u64, bool) {
            match self {
                Sw::A(n) | Sw::B(n) | Sw::Both(n) => (n, false),
                Sw::Xfer(n) => (0x80 | n, false),
                Sw::Imm(v) => (0x20 | (v & 0x1f) | (v & 0x60) << 1, v & 0x80 != 0),
                Sw::None => (if dst { 0x20 } else { 0 }, false),
                Sw::Lm(p, off) => (0x50 | (p & 1) << 3 | off, false),
                Sw::LmInc(_) | Sw::LmDec(_) => (0x50, false),
            }
        }
    }

    /// Operand placement of the JIT (nfp_asm.c:162-283): swap when the left
    /// operand is in bank B or the right one in bank A.
    fn jit_swap(l: Sw, r: Sw) -> bool {
        matches!(l, Sw::B(_)) || matches!(r, Sw::A(_))
    }

    fn dst_bits(dst: Sw, ab_bit: u32) -> u64 {
        u64::from(matches!(dst, Sw::B(_))) << ab_bit
            | u64::from(matches!(dst, Sw::Both(_))) << 41
            | u64::from(dst.lm_ext()) << 43
    }

    fn jit_alu(dst: Sw, l: Sw, op: u64, r: Sw) -> u64 {
        let sw = jit_swap(l, r);
        let (a, b) = if sw { (r, l) } else { (l, r) };
        0x00a0_0000_0000
            | a.ur(false)
            | b.ur(false) << 10
            | dst.ur(true) << 20
            | u64::from(sw) << 30
            | op << 31
            | dst_bits(dst, 36)
            | u64::from(l.lm_ext() || r.lm_ext()) << 42
    }

    fn jit_shf(dst: Sw, l: Sw, op: u64, r: Sw, sc: u64, shift: u64) -> u64 {
        let sw = jit_swap(l, r);
        let (a, b) = if sw { (r, l) } else { (l, r) };
        let ((a, ia), (b, ib)) = (a.re(false), b.re(false));
        let shift = if sc == 2 && shift != 0 {
            32 - shift
        } else {
            shift
        };
        0x0080_0000_0000
            | a
            | sc << 8
            | b << 10
            | u64::from(ia || ib) << 18
            | u64::from(sw) << 19
            | dst.re(true).0 << 20
            | shift << 28
            | op << 33
            | dst_bits(dst, 36)
            | u64::from(l.lm_ext() || r.lm_ext()) << 42
    }

    fn jit_immed(dst: Sw, imm: u64, width: u64, inv: bool, shift: u64) -> u64 {
        let lo = Sw::Imm(imm & 0xff);
        let sw = jit_swap(dst, lo);
        let (a, b) = if sw {
            (lo.ur(false), dst.ur(true))
        } else {
            (dst.ur(true), lo.ur(false))
        };
        0x00f0_0000_0000
            | a
            | b << 10
            | (imm >> 8) << 20
            | width << 29
            | u64::from(inv) << 31
            | shift << 33
            | u64::from(matches!(dst, Sw::Both(_))) << 41
            | u64::from(dst.lm_ext()) << 43
    }

    /// `wrp_immed`: one immed if the value or its complement is 16 bits at
    /// byte 0, 1 or 2, else immed + immed_w1 (jit.c:590-623).
    fn jit_wrp_immed(out: &mut Vec<u64>, dst: Sw, v: u32) {
        let pack = |v: u32| {
            if v & 0xffff_0000 == 0 {
                Some((u64::from(v), 0))
            } else if v & 0xff00_00ff == 0 {
                Some((u64::from(v >> 8), 1))
            } else if v & 0xffff == 0 {
                Some((u64::from(v >> 16), 2))
            } else {
                None
            }
        };
        if let Some((x, s)) = pack(v) {
            out.push(jit_immed(dst, x, 0, false, s));
        } else if let Some((x, s)) = pack(!v) {
            out.push(jit_immed(dst, x, 0, true, s));
        } else {
            out.push(jit_immed(dst, u64::from(v & 0xffff), 0, false, 0));
            out.push(jit_immed(dst, u64::from(v >> 16), 2, false, 2));
        }
    }

    fn jit_ld_field(dst: Sw, mask: u64, src: Sw, sc: u64, shift: u64, zero: bool) -> u64 {
        let sw = jit_swap(dst, src);
        let (a, b) = if sw { (src, dst) } else { (dst, src) };
        let ((a, ia), (b, ib)) = (a.re(false), b.re(false));
        0x00c0_0000_0000
            | a
            | sc << 8
            | b << 10
            | u64::from(ia || ib) << 18
            | u64::from(sw) << 19
            | u64::from(zero) << 20
            | mask << 24
            | shift << 28
            | u64::from(matches!(dst, Sw::Both(_))) << 41
            | u64::from(src.lm_ext()) << 42
            | u64::from(dst.lm_ext()) << 43
    }

    fn jit_csr(write: bool, a: u64, b: u64, csr: u64) -> u64 {
        0x00fc_0000_0000 | a | b << 10 | u64::from(write) << 21 | (csr / 4) << 22
    }

    fn jit_br(cond: u64, addr: u64, defer: u64) -> u64 {
        0x00d8_0000_0020
            | cond
            | u64::from(cond != 0x18) << 8
            | 2 << 14
            | defer << 20
            | (addr & 0x1fff) << 22
            | (addr >> 13 & 1) << 40
    }

    fn jit_br_bit(set: bool, reg: Sw, bitn: u64, addr: u64, defer: u64) -> u64 {
        let imm = Sw::Imm(bitn + 1);
        let (a, b) = if jit_swap(reg, imm) {
            (imm, reg)
        } else {
            (reg, imm)
        };
        0x00d0_0000_0000
            | a.re(false).0
            | b.re(false).0 << 10
            | u64::from(set) << 18
            | defer << 20
            | (addr & 0x1fff) << 22
            | (addr >> 13 & 1) << 40
    }

    fn jit_rtn(reg: Sw, defer: u64) -> u64 {
        let imm = Sw::Imm(0);
        let (a, b) = if jit_swap(reg, imm) {
            (imm, reg)
        } else {
            (reg, imm)
        };
        0x00e8_0000_0000 | a.ur(false) | b.ur(false) << 10 | defer << 20
    }

    fn jit_mul(ty: u64, step: u64, a: Sw, b: Sw, dst: Option<Sw>) -> u64 {
        let base = 0x00f8_0000_0000 | step << 20 | ty << 31;
        match dst {
            Some(d) => base | d.ur(true) | 0x300 << 10 | dst_bits(d, 23),
            None => {
                let sw = jit_swap(a, b);
                let (x, y) = if sw { (b, a) } else { (a, b) };
                base | x.ur(false) | y.ur(false) << 10 | u64::from(sw) << 30
            }
        }
    }

    /// (token, TGT_CMD) of the commands in the JIT's table (nfp_asm.c:12-23).
    const JIT_CMDS: [(u64, u64); 10] = [
        (2, 0x42), // write8_swap
        (2, 0x5f), // write32_swap
        (1, 0x43), // read8
        (0, 0x5c), // read32
        (1, 0x5c), // read32_le
        (2, 0x5c), // read32_swap
        (1, 0x40), // read_le
        (3, 0x40), // read_swap_le
        (0, 0x47), // add / add64
        (2, 0x47), // add_imm / add64_imm
    ];

    #[allow(clippy::too_many_arguments)]
    fn jit_cmd(
        cmd: (u64, u64),
        mode: u64,
        xfer: u64,
        l: Sw,
        r: Sw,
        size: u64,
        ctx: u64,
        ind: bool,
    ) -> u64 {
        l.re(false).0
            | ctx << 8
            | r.re(false).0 << 10
            | cmd.0 << 18
            | xfer << 20
            | size << 25
            | u64::from(ctx != 3) << 28
            | cmd.1 << 32
            | u64::from(ind) << 41
            | mode << 42
    }

    /// The forms the Linux 6.12 nfp JIT emits (bpf.md §4.4).
    fn jit_words() -> Vec<u64> {
        use Sw::*;
        let mut v = Vec::new();
        let alu_ops = [
            0x00, 0x01, 0x04, 0x05, 0x08, 0x0c, 0x0d, 0x10, 0x11, 0x14, 0x15, 0x18,
        ];
        let alu_regs = [
            (Both(6), A(6), B(8)),
            (None, A(4), Imm(0x7f)),
            (None, Imm(0xff), B(0)),
            (Both(2), None, B(4)),
            (A(0), None, Imm(0)),
            (Xfer(1), None, A(5)),
            (Xfer(0), B(3), Imm(3)),
            (Lm(0, 3), None, B(2)),
            (Lm(3, 0), None, B(9)),
            (LmInc(3), None, B(12)),
            (Both(4), None, Lm(0, 5)),
            (Both(4), None, LmInc(3)),
            (None, None, LmDec(2)),
            (B(22), B(22), Lm(1, 0)),
            (Both(20), Xfer(2), B(1)),
            (Both(3), A(3), Lm(2, 15)),
        ];
        for op in alu_ops {
            for &(d, l, r) in &alu_regs {
                v.push(jit_alu(d, l, op, r));
            }
        }
        let shf_regs = [
            (Both(2), Imm(0xff), B(2)),
            (Both(4), None, Xfer(0)),
            (Both(6), A(7), B(6)),
            (Lm(1, 4), Lm(1, 4), Imm(0x10)),
            (None, None, A(21)),
            (B(2), A(2), B(2)),
        ];
        for op in [0, 2, 5, 6] {
            for sc in 0..4 {
                for shift in [0, 1, 8, 16, 24, 31] {
                    for &(d, l, r) in &shf_regs {
                        if shift % 3 == 0 || matches!(d, Both(_)) {
                            v.push(jit_shf(d, l, op, r, sc, shift));
                        }
                    }
                }
            }
        }
        for dst in [
            Both(0),
            A(3),
            B(22),
            Xfer(0),
            Xfer(5),
            None,
            Lm(0, 2),
            Lm(3, 1),
        ] {
            for c in [
                0u32,
                1,
                0xff,
                0x100,
                0xffff,
                0x1_0000,
                0xff_0000,
                0xffff_0000,
                0xffff_ffff,
                0xffff_fffe,
                0x1234_5678,
                0x3fff,
                0xff00_ffff,
                0x0c90,
                0x890,
                0x8000_0000,
            ] {
                jit_wrp_immed(&mut v, dst, c);
            }
            for (width, shift) in [
                (1, 0),
                (1, 1),
                (1, 2),
                (1, 3),
                (2, 0),
                (2, 1),
                (2, 2),
                (2, 3),
            ] {
                v.push(jit_immed(dst, 0x4411, width, false, shift));
                v.push(jit_immed(dst, 0x0f, width, true, shift));
            }
        }
        for mask in 1..16 {
            for (sc, shift) in [
                (0, 0),
                (0, 8),
                (0, 16),
                (1, 8),
                (1, 0),
                (2, 16),
                (2, 24),
                (2, 0),
                (3, 4),
            ] {
                for (d, s) in [
                    (A(0), Imm(0x82)),
                    (Both(2), Xfer(0)),
                    (Both(4), B(4)),
                    (Lm(0, 1), B(3)),
                    (Lm(3, 7), B(3)),
                    (A(21), A(5)),
                    (Both(8), Lm(2, 3)),
                ] {
                    if (mask + shift) % 4 == 0 || matches!(d, Both(_)) {
                        v.push(jit_ld_field(d, mask, s, sc, shift, mask & 4 != 0));
                    }
                }
            }
        }
        for csr in [0x64, 0x6c, 0x94, 0x9c, 0x148] {
            v.push(jit_csr(false, 0, 0, csr));
            v.push(jit_csr(false, 0x300, 0x300, csr));
            v.push(jit_csr(true, 5, 0x300, csr));
            v.push(jit_csr(true, 0x300, 22, csr));
            v.push(jit_csr(true, 0x3ff, 0x3ff, csr));
            v.push(jit_csr(true, 0x180, 0x300, csr));
        }
        for cond in [0, 1, 2, 4, 5, 8, 9, 0x18] {
            for defer in 0..4 {
                for addr in [0, 1, 3077, 0x1fff, 0x2000, 0x3fff] {
                    v.push(jit_br(cond, addr, defer));
                }
            }
        }
        for set in [false, true] {
            for reg in [A(3), B(7), A(21)] {
                for bitn in [0, 5, 31] {
                    for defer in [0, 2] {
                        v.push(jit_br_bit(set, reg, bitn, 3100 + bitn, defer));
                    }
                }
            }
        }
        for reg in [A(21), B(21), A(0), B(0)] {
            for defer in 0..4 {
                v.push(jit_rtn(reg, defer));
            }
        }
        for (a, b) in [
            (A(2), B(4)),
            (B(2), A(4)),
            (A(6), Imm(0x13)),
            (Imm(0xff), B(3)),
        ] {
            v.push(jit_mul(0, 0, a, b, Option::None));
            for ty in 1..4 {
                for step in 0..4 {
                    v.push(jit_mul(ty, step, a, b, Option::None));
                }
            }
        }
        for d in [Both(0), A(1), B(5), Both(22)] {
            for ty in 1..4 {
                for step in 4..6 {
                    v.push(jit_mul(ty, step, A(0), B(0), Some(d)));
                }
            }
        }
        for (i, &cmd) in JIT_CMDS.iter().enumerate() {
            for mode in [0, 1, 4] {
                for ctx in 0..4 {
                    for ind in [false, true] {
                        let k = i as u64 + mode + ctx;
                        let (l, r) = [
                            (A(0), B(1)),
                            (Lm(1, 2), A(3)),
                            (A(2), Imm(0)),
                            (A(4), Xfer(0)),
                        ][(k % 4) as usize];
                        v.push(jit_cmd(cmd, mode, k % 3, l, r, k % 8, ctx, ind));
                    }
                }
            }
        }
        v
    }

    /// All words of the corpus: the JIT's forms, every command name (each
    /// TGT_CMD, token and length) and random words of every class.
    fn corpus_words() -> Vec<u64> {
        let mut r = Rng(0x6e66_705f_6469_7361);
        let mut v = jit_words();
        for tc in 0..128u64 {
            for token in 0..4 {
                for len in 0..8 {
                    let f = opnds8(&mut r);
                    let w = in_class(&mut r, CMD, &f);
                    let keep = !(0x7f << 32 | 3 << 18 | 7 << 25);
                    v.push(w & keep | tc << 32 | token << 18 | len << 25);
                }
            }
        }
        for _ in 0..500 {
            let f = [
                (0, 8, rand_opnd8(&mut r)),
                (10, 8, rand_opnd8(&mut r)),
                (20, 8, rand_opnd8(&mut r)),
            ];
            v.push(in_class(&mut r, ALU_SHF, &f));
        }
        for _ in 0..800 {
            let f = [
                (0, 10, rand_opnd10(&mut r)),
                (10, 10, rand_opnd10(&mut r)),
                (20, 10, rand_opnd10(&mut r)),
            ];
            v.push(in_class(&mut r, ALU, &f));
        }
        for _ in 0..500 {
            let (a, b) = rand_pair10(&mut r);
            let w = in_class(&mut r, IMMED, &[(0, 10, a), (10, 10, b)]);
            // Mostly a 16-bit constant of 0 to also reach `nop`.
            let w = if r.below(8) == 0 {
                w & !(0xff << 20) & !0xff & !(0xff << 10)
            } else {
                w
            };
            v.push(w);
        }
        for _ in 0..400 {
            let f = opnds8(&mut r);
            v.push(in_class(&mut r, LD_FIELD, &f));
        }
        for _ in 0..200 {
            let ev = match r.below(5) {
                0 => 0,
                1 => 1,
                2 => 1 << r.below(16),
                _ => r.below(0x1_0000),
            };
            let w = in_class(&mut r, CTX_ARB, &[]);
            // Breakpoints are rare, so the event list shows.
            let w = if r.below(4) == 0 { w } else { w & !(1 << 17) };
            v.push(w & !0xffff | ev);
        }
        for csr in 0..=101u64 {
            for write in 0..2 {
                let (a, b) = rand_pair10(&mut r);
                let w = in_class(&mut r, LOCAL_CSR, &[(0, 10, a), (10, 10, b)]);
                v.push(w & !(0x7ff << 22 | 1 << 21) | csr << 22 | write << 21);
            }
        }
        for _ in 0..300 {
            let (a, b) = rand_pair10(&mut r);
            v.push(in_class(&mut r, LOCAL_CSR, &[(0, 10, a), (10, 10, b)]));
        }
        for _ in 0..400 {
            v.push(in_class(&mut r, BRANCH, &[]));
        }
        for _ in 0..150 {
            let f = opnds8(&mut r);
            v.push(in_class(&mut r, BR_BYTE, &f));
        }
        for _ in 0..300 {
            let (a, b) = (rand_opnd8(&mut r), rand_opnd8(&mut r));
            v.push(in_class(&mut r, BR_BIT, &[(0, 8, a), (10, 8, b)]));
        }
        for _ in 0..300 {
            let (a, b) = rand_pair10(&mut r);
            let w = in_class(&mut r, BR_ALU, &[(0, 10, a), (10, 10, b)]);
            v.push(if r.below(2) == 0 {
                w & !(0x1ff << 22)
            } else {
                w
            });
        }
        for _ in 0..400 {
            let f = [(0, 10, rand_opnd10(&mut r)), (10, 10, rand_opnd10(&mut r))];
            v.push(in_class(&mut r, MULT, &f));
        }
        // Anything with bit 39 set (the non-command classes and invalid
        // words), and anything at all.
        for _ in 0..600 {
            v.push(r.next() & NFP_INSN_BITS | 1 << 39);
        }
        for _ in 0..300 {
            v.push(r.next());
        }
        // Real ECC on most words, random upper bits on the others.
        for w in &mut v {
            *w = match r.below(4) {
                0 => *w | r.next() & !NFP_INSN_BITS,
                _ => crate::fp::insn::with_ecc(*w),
            };
        }
        v
    }

    /// The text after nfpdis' address, word and `.PC` columns.
    fn strip_columns(line: &str) -> &str {
        let rest = line.split_once(": ").map_or("", |(_, r)| r);
        let rest = rest.get(18..).unwrap_or("");
        let rest = rest.trim_start_matches([' ', '.']);
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        rest.strip_prefix("  ").unwrap_or(rest)
    }

    /// Rebuilds testdata/disasm_corpus.txt with the reference disassembler
    /// (`images/build nfpdis`): `cargo test -p nfp-emu --lib
    /// fp::disasm::tests::regenerate_corpus -- --ignored` (NFPDIS overrides
    /// its path, default $NFP_EMU_CACHE or ~/.cache/nfp-emu + /nfpdis/nfpdis).
    #[test]
    #[ignore = "needs the reference nfpdis; rewrites the fixture"]
    fn regenerate_corpus() {
        let words = corpus_words();
        let nfpdis = std::env::var("NFPDIS").unwrap_or_else(|_| {
            let cache = std::env::var("NFP_EMU_CACHE").unwrap_or_else(|_| {
                format!(
                    "{}/.cache/nfp-emu",
                    std::env::var("HOME").unwrap_or_default()
                )
            });
            format!("{cache}/nfpdis/nfpdis")
        });
        let image = std::env::temp_dir().join(format!("disasm-corpus-{}.bin", std::process::id()));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        std::fs::write(&image, bytes).expect("write image");
        let out = std::process::Command::new(&nfpdis)
            .arg(&image)
            .args(["0", "ctx4"])
            .output()
            .expect("run nfpdis");
        let _ = std::fs::remove_file(&image);
        assert!(out.status.success(), "nfpdis failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), words.len());
        let mut fixture = String::new();
        for (line, w) in lines.iter().zip(&words) {
            assert!(line.contains(&format!(": {w:016x}  ")), "{line}");
            fixture += &format!("{w:016x} {}\n", strip_columns(line));
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/fp/testdata/disasm_corpus.txt"
        );
        std::fs::write(path, fixture).expect("write fixture");
    }
}
