#!/usr/bin/env python3
"""Test traffic built and sent with scapy, for the offload scenarios.

Frames are IPv4/UDP from 198.51.100.2 to 192.0.2.1 (documentation
addresses: no stack of the test answers them), 16 source ports (16 flows),
sizes cycling 60..1514, a payload that numbers them.

  frames.py send DEV COUNT [--rate PPS] [--dst MAC] [--started FILE] [--until FILE]
      send COUNT frames (COUNT 0: no limit), or until FILE exists; prints
      the number sent.
  frames.py swapcheck DEV COUNT [--dst MAC] [--wait SECONDS]
      send COUNT frames one by one and wait for each to come back with its
      MAC addresses swapped (an XDP_TX program on the far end); prints
      "sent N returned R exact E" and the first mismatches. A frame not back
      within SECONDS (default 30, a guard: the host may be busy) counts as
      lost.
"""
import argparse
import itertools
import os
import random
import socket
import sys
import time

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
# The modules needed, not scapy.all: importing every layer costs a TCG
# guest tens of seconds per run on a busy host.
import scapy.arch  # noqa: E402,F401 (sets conf.L2socket)
from scapy.config import conf  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import str2mac  # noqa: E402

ETH_P_ALL = 3
PACKET_OUTGOING = 4
MARK = b"nfp-emu "
SIZES = [60, 64, 99, 128, 200, 255, 256, 511, 600, 1000, 1023, 1024, 1400, 1514]


def mac_of(dev):
    with open(f"/sys/class/net/{dev}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


HEADERS = {}


def frame(i, src, dst, rng):
    """Frame i: scapy builds the headers once per size and flow (UDP
    checksum 0: none, so the payload can change); the payload numbers the
    frame and fills it with seeded random bytes."""
    size, sport = SIZES[i % len(SIZES)], 40000 + i % 16
    key = (size, sport, src, dst)
    if key not in HEADERS:
        p = (Ether(src=src, dst=dst) / IP(src="198.51.100.2", dst="192.0.2.1")
             / UDP(sport=sport, dport=9, chksum=0) / Raw(bytes(size - 42)))
        HEADERS[key] = bytes(p)[:42]
    body = MARK + b"%08d " % i
    return HEADERS[key] + body + rng.randbytes(size - 42 - len(body))


def open_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    return s


def send(args):
    s = conf.L2socket(iface=args.dev)
    src, dst = str2mac(mac_of(args.dev)), args.dst
    rng = random.Random(1)
    if args.started:
        open(args.started, "w").close()
    t0 = time.monotonic()
    sent = 0
    for i in range(args.count) if args.count else itertools.count():
        # Looking for the file costs a system call: once every 16 frames.
        if args.until and i % 16 == 0 and os.path.exists(args.until):
            break
        s.send(frame(i, src, dst, rng))
        sent += 1
        if args.rate:
            ahead = sent / args.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    print(sent)


def swapcheck(args):
    s = open_socket(args.dev)
    s.settimeout(args.wait)
    out = conf.L2socket(iface=args.dev)
    src, dst = str2mac(mac_of(args.dev)), args.dst
    rng = random.Random(2)
    returned = exact = 0
    bad = []
    for i in range(args.count):
        f = frame(i, src, dst, rng)
        want = f[6:12] + f[0:6] + f[12:]
        out.send(f)
        deadline = time.monotonic() + args.wait
        got = None
        while time.monotonic() < deadline:
            try:
                data, addr = s.recvfrom(65536)
            except socket.timeout:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            if data[12:] == f[12:]:
                got = data
                break
        if got is None:
            bad.append(f"frame {i} ({len(f)} bytes): did not come back")
            continue
        returned += 1
        if got == want:
            exact += 1
        else:
            bad.append(f"frame {i}: came back as {got[:32].hex()}... ({len(got)} bytes), "
                       f"expected {want[:32].hex()}... ({len(want)} bytes)")
    print(f"sent {args.count} returned {returned} exact {exact}")
    for b in bad[:5]:
        print(b)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("send", "swapcheck"):
        q = sub.add_parser(name)
        q.add_argument("dev")
        q.add_argument("count", type=int)
        q.add_argument("--dst", default="02:00:00:00:00:01")
        if name == "send":
            q.add_argument("--rate", type=float, default=0)
            q.add_argument("--started", help="create this file when sending starts")
            q.add_argument("--until", help="stop sending once this file exists")
        else:
            q.add_argument("--wait", type=float, default=30.0)
    args = p.parse_args()
    {"send": send, "swapcheck": swapcheck}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
