#!/usr/bin/env python3
"""Frames through a netdev's packet socket, for the offload scenarios.

  frames.py send DEV COUNT [--rate PPS] [--dst MAC]
      send COUNT test frames (sizes cycling 60..1514); prints the number
      sent.
  frames.py swapcheck DEV COUNT [--dst MAC]
      send COUNT frames one by one and wait for each to come back with its
      MAC addresses swapped (an XDP_TX program on the far end); prints
      "sent N returned R exact E" and the first mismatches.
"""
import argparse
import random
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
ETHERTYPE = b"\x88\xb5"
SIZES = [60, 64, 99, 128, 200, 255, 256, 511, 600, 1000, 1023, 1024, 1400, 1514]


def mac_of(dev):
    with open(f"/sys/class/net/{dev}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def frame(i, src, dst, rng):
    size = SIZES[i % len(SIZES)]
    head = dst + src + ETHERTYPE + b"nfp-emu %08d " % i
    return head + bytes(rng.getrandbits(8) for _ in range(size - len(head)))


def open_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, 0))
    return s


def send(args):
    s = open_socket(args.dev)
    src = mac_of(args.dev)
    dst = bytes.fromhex(args.dst.replace(":", ""))
    rng = random.Random(1)
    t0 = time.monotonic()
    sent = 0
    for i in range(args.count):
        s.send(frame(i, src, dst, rng))
        sent += 1
        if args.rate:
            ahead = sent / args.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    print(sent)


def swapcheck(args):
    s = open_socket(args.dev)
    s.settimeout(2.0)
    src = mac_of(args.dev)
    dst = bytes.fromhex(args.dst.replace(":", ""))
    rng = random.Random(2)
    returned = exact = 0
    bad = []
    for i in range(args.count):
        f = frame(i, src, dst, rng)
        want = f[6:12] + f[0:6] + f[12:]
        s.send(f)
        deadline = time.monotonic() + 2.0
        got = None
        while time.monotonic() < deadline:
            try:
                data, addr = s.recvfrom(65536)
            except socket.timeout:
                break
            if addr[2] == PACKET_OUTGOING or data[12:14] != ETHERTYPE:
                continue
            if data[14:31] == f[14:31]:
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
    args = p.parse_args()
    {"send": send, "swapcheck": swapcheck}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
