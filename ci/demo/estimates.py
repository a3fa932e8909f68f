#!/usr/bin/env python3
"""Print, for every program in an nfp-emu --profile JSON file (nfp-vm
--timing writes profileN.json), the timing model's estimate for a real
Agilio CX and its hottest instructions.

  estimates.py PROFILE.json [ROWS]
"""
import json
import sys


def main():
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(path) as f:
        snap = json.load(f)
    shown = 0
    for p in snap.get("programs", []):
        if not p.get("estimate_text"):
            continue
        owner = p.get("owner") or {}
        who = f"{owner.get('name', '?')}, port {owner.get('port', '?')}" if owner else "no vNIC"
        t = p["timed"]
        n = max(t["packets"], 1)
        print(f"program {p['seq']} ({who}): {p['len']} instructions, {t['packets']} packets, "
              f"{t['cycles'] / n:.1f} cycles per packet ({t['prog_cycles'] / n:.1f} program, "
              f"{t['fw_cycles'] / n:.1f} firmware)")
        print(f"  {p['estimate_text']}")
        hot = p["profile"]["rows"][:rows]
        if hot:
            print(f"  its {len(hot)} hottest instructions (executions, busy cycles):")
            for r in hot:
                print(f"    .{r['addr']:<5} {r['count']:>9} {r['busy']:>10}  {r['disasm']}")
        shown += 1
    if not shown:
        print("no program ran on the card")


if __name__ == "__main__":
    main()
