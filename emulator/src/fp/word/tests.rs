//! The word's fields, classes and operand encodings against known words.

use super::*;

#[test]
fn ecc_matches_the_golden_words() {
    for w in [
        0x000f_20f0_03f0_5bffu64,
        0x0007_00b4_4160_5a20,
        0x0000_60d8_0060_8038,
        0x0008_8647_0008_0700,
        0x0000_00f0_000c_0300,
    ] {
        assert!(ecc_ok(w), "{w:#x}");
        assert_eq!(with_ecc(w & NFP_INSN_MASK), w);
    }
    assert!(!ecc_ok(0x0000_60d8_0060_8039), "one flipped bit");
    assert!(!ecc_ok(0x0100_60d8_0060_8038), "bits above 51");
}

#[test]
fn fields_read_and_write_their_bits() {
    // alu[gprB_22, gprB_22, AND, *l$index1] (p1_drop.ustore.bin word 1)
    let w = 0x0007_00b4_4160_5a20u64;
    assert_eq!(Class::of(w), Some(Class::Alu));
    assert_eq!(u64::from(OP_ALU_OP.get(w)), alu_op::AND);
    assert!(OP_ALU_SW.is_set(w) && OP_ALU_DST_AB.is_set(w));
    assert_eq!(OP_ALU_DST.get(w), 22);
    assert_eq!(OP_ALU_OP.put(alu_op::AND), w & OP_ALU_OP.0);
    assert_eq!(OP_ALU_OP.put(0xff), OP_ALU_OP.0, "excess bits dropped");
    assert_eq!((OP_SHF_SHIFT.shift(), OP_CMD_MODE.shift()), (28, 42));
    // br[.1], defer[2]; a target with bit 13 set.
    let b = 0x0000_60d8_0060_8038u64;
    assert_eq!((br_target(b), DEFBR.get(b)), (1, 2));
    assert_eq!(br_target(put_br_target(0x3fff)), 0x3fff);
    assert_eq!(put_br_target(0x2000), OP_BR_ADDR_HI.0);
}

#[test]
fn every_word_has_at_most_its_first_matching_class() {
    // Class bases are distinct and each matches its own pattern.
    for c in Class::ALL {
        assert!(c.matches(c.base()), "{c:?}");
        assert_eq!(Class::of(c.base()), Some(c), "{c:?}");
    }
    assert_eq!(Class::of(0x00ff_ffff_ffff), None);
}

#[test]
fn operand_encodings_round_trip() {
    for v in [
        Unrestricted::Gpr(5),
        Unrestricted::Xfer(3),
        Unrestricted::Xfer(40),
        Unrestricted::Lm {
            ptr: 1,
            mode: LmMode::Offset(15),
        },
        Unrestricted::Lm {
            ptr: 0,
            mode: LmMode::PostInc,
        },
        Unrestricted::Lm {
            ptr: 1,
            mode: LmMode::PostDec,
        },
        Unrestricted::Imm(0xff),
    ] {
        assert_eq!(Unrestricted::decode(v.encode()), v);
    }
    for v in [
        Restricted::Gpr(31),
        Restricted::Xfer(0),
        Restricted::Xfer(63),
        Restricted::Lm { ptr: 1, offset: 7 },
        Restricted::Imm(0x7f),
    ] {
        assert_eq!(Restricted::decode(v.encode()), v);
    }
    for x in 0..=255u8 {
        let (f, msb) = Restricted::encode_imm(x);
        assert!(is_imm8(f));
        assert_eq!(imm8(f, msb), u32::from(x));
    }
    // Every 10-bit field decodes (some as undecodable); every 8-bit
    // one names something.
    for v in 0..0x400 {
        let _ = Unrestricted::decode(v);
        assert_eq!(
            is_imm10(v),
            matches!(Unrestricted::decode(v), Unrestricted::Imm(_))
        );
    }
    for v in 0..0x100 {
        assert_eq!(
            is_imm8(v),
            matches!(Restricted::decode(v), Restricted::Imm(_)),
            "{v:#x}"
        );
    }
}
