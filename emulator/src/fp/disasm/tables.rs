//! The names binutils prints: operators, branch conditions, CSRs and the
//! CPP command names of every target (opcodes/nfp-dis.c:75-925).

/// `alu_shf` operators (nfp-dis.c:75-85).
pub(super) const SHF_OPS: [&str; 8] = ["B", "~B", "AND", "~AND", "AND~", "OR", "asr", "byte_align"];

/// `alu` operators; "" = none (nfp-dis.c:87-121).
#[rustfmt::skip]
pub(super) const ALU_OPS: [&str; 32] = [
    "B", "+", "", "pop_count3", "~B", "+16", "pop_count1", "pop_count2",
    "AND", "+8", "", "cam_clear", "~AND", "-carry", "ffs", "cam_read_tag",
    "AND~", "+carry", "CRC", "cam_write", "OR", "-", "", "cam_lookup",
    "XOR", "B-A", "", "cam_write_state", "", "", "", "cam_read_state",
];

/// CRC operators; "" = invalid (nfp-dis.c:123-133).
#[rustfmt::skip]
pub(super) const CRC_OPS: [&str; 8] = ["--", "", "crc_ccitt", "", "crc_32", "crc_iscsi", "crc_10", "crc_5"];

/// CRC byte selects (nfp-dis.c:135-144). Binutils has no name for 7 and
/// hands printf a NULL, which glibc prints as "(null)".
#[rustfmt::skip]
pub(super) const CRC_BYTES: [&str; 8] = [
    "bytes_0_3", "bytes_1_3", "bytes_2_3", "byte_3", "bytes_0_2", "bytes_0_1", "byte_0", "(null)",
];

/// Branch conditions; "" = invalid (nfp-dis.c:251-285).
#[rustfmt::skip]
pub(super) const BR_OPS: [&str; 32] = [
    "beq", "bne", "bmi", "bpl", "bcs", "bcc", "bvs", "bvc",
    "bge", "blt", "ble", "bgt", "", "", "", "",
    "br=ctx", "br!=ctx", "br_signal", "br_!signal",
    "br_inp_state", "br_!inp_state", "br_cls_state", "br_!cls_state",
    "br", "", "", "", "", "", "", "",
];

/// ME 2.8 input states of `br_inp_state` (nfp-dis.c:307-325).
#[rustfmt::skip]
pub(super) const INP_STATES: [&str; 16] = [
    "nn_empty", "nn_full", "ctm_ring0_status", "ctm_ring1_status",
    "ctm_ring2_status", "ctm_ring3_status", "ctm_ring4_status", "ctm_ring5_status",
    "ctm_ring6_status", "ctm_ring7_status", "ctm_ring8_status", "ctm_ring9_status",
    "ctm_ring10_status", "ctm_ring11_status", "ctm_ring12_status", "ctm_ring13_status",
];

/// `mul_step` steps; "" = invalid (nfp-dis.c:327-337).
#[rustfmt::skip]
pub(super) const MUL_STEPS: [&str; 8] = ["step1", "step2", "step3", "step4", "last", "last2", "", ""];

/// `mul_step` types (nfp-dis.c:339-345).
pub(super) const MUL_TYPES: [&str; 4] = ["start", "24x8", "16x16", "32x32"];
/// NBI command names by [action][token]; "" = none (nfp-dis.c:615-620).
pub(super) const NBI: [[&str; 4]; 4] = [
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
pub(super) const ILA: [[&str; 4]; 4] = [
    ["read", "read_check_error", "", ""],
    ["write", "write_check_error", "", ""],
    ["read_int", "", "", ""],
    ["", "", "", ""],
];
/// MU (`mem`) command names by [action][token] for the actions whose name
/// does not depend on the length (nfp-dis.c:628-818).
pub(super) const MU: [[&str; 4]; 32] = [
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
pub(super) const PCIE: [[&str; 4]; 4] = [
    ["read", "read_rid", "", ""],
    ["write", "write_rid", "write_vdm", ""],
    ["read_int", "", "", ""],
    ["write_int", "", "", ""],
];
/// ARM command names (nfp-dis.c:826-827).
pub(super) const ARM: [[&str; 4]; 2] = [["read", "", "", ""], ["write", "", "", ""]];
/// Crypto command names (nfp-dis.c:828-830).
pub(super) const CRYPTO: [[&str; 4]; 3] = [
    ["read", "", "", ""],
    ["write", "", "", ""],
    ["write_fifo", "", "", ""],
];
/// CT (cluster target) command names (nfp-dis.c:831-844).
pub(super) const CT: [[&str; 4]; 4] = [
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
pub(super) const CLS: [[&str; 4]; 26] = [
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
pub(super) const MU_ARITH: [[[&str; 2]; 4]; 4] = [
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
pub(super) const MU_CAM: [[&str; 8]; 4] = [
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
pub(super) const MU_MICROQ: [[&str; 2]; 3] = [
    ["microq128_get", "microq256_get"],
    ["microq128_pop", "microq256_pop"],
    ["microq128_put", "microq256_put"],
];
/// MU action 14 by [token][length 0 / 4] (nfp-dis.c:736-739).
pub(super) const MU_QUEUE: [[&str; 2]; 2] = [
    ["queue128_lock", "queue256_lock"],
    ["queue128_unlock", "queue256_unlock"],
];
/// Local CSR names by number (byte address / 4); "" = none
/// (nfp-dis.c:146-249).
#[rustfmt::skip]
pub(super) const CSRS: [&str; 101] = [
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
pub(super) enum Target {
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
    pub(super) fn id(self) -> u32 {
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

    pub(super) fn prefix(self) -> &'static str {
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
pub(super) fn cmd_target(tc: u32) -> (Option<Target>, u32) {
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
pub(super) fn cmd_mnemonic(t: Target, act: u32, tok: u32, len: u32) -> Option<&'static str> {
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
