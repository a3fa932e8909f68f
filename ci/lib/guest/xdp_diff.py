#!/usr/bin/env python3
"""Differential fidelity of the XDP offload: every program of the corpus
(ci/progs/diff) runs on the same frames offloaded to the card and on the
guest CPU, and the verdicts and output frames must be identical.

  xdp_diff.py run --progs DIR --out DIR [--ref-only] [--only NAME,...]
                  [--ns-a a --dev-a A --ns-b b --dev-b B] [--timeout S] [--show N]
      For each PROG.o in DIR (with PROG.c beside it): generate its frames,
      run them through the non-offloaded copy (BPF_PROG_TEST_RUN, the
      reference), then offload the program to port 0's netdev A (netns
      ns-a) and send every frame from port 1's netdev B (netns ns-b), which
      is cabled to port 0. PASS: the frame arrives on A; TX: it comes back
      to B; DROP / ABORTED (and out-of-range verdicts, which the card
      aborts): nothing arrives, ethtool -S A's bpf_app1 / bpf_app3 counters
      move (the counters tell the verdict; the frame is awaited for PASS and
      TX only). --timeout S (default 30) only guards against a frame that
      never comes: the host may be busy. Prints a table program by program and the first N (3)
      mismatches of each with a hex diff; every mismatch goes to
      DIR/mismatches.txt, the numbers to DIR/summary.json. Exits 1 on any
      mismatch, failure or coverage gap. --ref-only: the reference half only (plus the
      offload load, which must succeed).
  xdp_diff.py frames PROG.c [--hex]
      list the frames generated for a program.
  xdp_diff.py coverage --progs DIR
      the BPF opcodes the corpus uses, and those the acceptance needs but
      no program has.

Frames: a common set (well-formed IPv4/IPv6 TCP/UDP/ICMP, ARP, VLAN;
malformed: bad IHL, versions, ethertypes, garbage; truncated: headers
claiming more than the frame holds; frames with edge-case operand values;
random frames), 60..1514 bytes, deterministic. A program can ask for more
in its header comment:
  // xdp-diff: random N          N more random frames (seeded by its name)
  // xdp-diff: frame HEX         one explicit frame (zero-padded to 60)
  // xdp-diff: patch OFF HEX     copies of the first 8 common frames with
                                 HEX written at offset OFF
"""
import argparse
import ctypes
import fcntl
import json
import os
import random
import re
import select
import socket
import struct
import subprocess
import sys
import time

XDP = {0: "ABORTED", 1: "DROP", 2: "PASS", 3: "TX"}
MIN_WIRE = 60

# ---------------------------------------------------------------- frames


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac(s):
    return bytes.fromhex(s.replace(":", ""))


DST = mac("02:00:00:00:00:0a")
SRC = mac("02:00:00:00:00:0b")
IP_A, IP_B = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
IP6_A = bytes.fromhex("fd000000000000000000000000000001")
IP6_B = bytes.fromhex("fd000000000000000000000000000002")


def eth(payload, etype, dst=DST, src=SRC):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(proto, payload, ttl=64, opts=b"", tot=None, ihl=None, ver=4, frag=0, ok=True):
    hl = 20 + len(opts)
    ihl = hl // 4 if ihl is None else ihl
    tot = hl + len(payload) if tot is None else tot
    h = struct.pack("!BBHHHBBH4s4s", ver << 4 | ihl, 0, tot & 0xFFFF, 0x1234, frag,
                    ttl, proto, 0, IP_B, IP_A) + opts
    if ok:
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def l4_csum4(proto, seg):
    return csum(IP_B + IP_A + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def udp(payload, sport=40000, dport=4789, length=None, src=IP_B, dst=IP_A, v6=False):
    ln = 8 + len(payload) if length is None else length
    seg = struct.pack("!HHHH", sport, dport, ln & 0xFFFF, 0) + payload
    if v6:
        c = csum(src + dst + struct.pack("!I3xB", len(seg), 17) + seg)
    else:
        c = l4_csum4(17, seg)
    return seg[:6] + struct.pack("!H", c or 0xFFFF) + seg[8:]


def tcp(payload, sport=40001, dport=80, flags=0x18, doff=5, v6=False):
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1000, 2000, doff << 4, flags, 65535, 0, 0)
    seg += bytes(max(0, doff * 4 - 20)) + payload
    if v6:
        c = csum(IP6_B + IP6_A + struct.pack("!I3xB", len(seg), 6) + seg)
    else:
        c = l4_csum4(6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp_echo(payload, ident=7, seq=1):
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def ipv6(nh, payload, hlim=64, plen=None, ver=6):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", ver << 28, plen & 0xFFFF, nh, hlim) + IP6_B + IP6_A + payload


def icmp6_echo(payload):
    h = struct.pack("!BBHHH", 128, 0, 0, 9, 2) + payload
    c = csum(IP6_B + IP6_A + struct.pack("!I3xB", len(h), 58) + h)
    return h[:2] + struct.pack("!H", c) + h[4:]


def pad(f, size=None):
    size = max(MIN_WIRE, len(f)) if size is None else size
    return (f + bytes(max(0, size - len(f))))[:size]


def data(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


EDGE = [0, 1, 2, 3, 7, 0x1F, 0x20, 0x21, 0x3F, 0x40, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000,
        0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
        0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFF00000000,
        0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0x00000000FFFFFFFF, 0x8000000080000000]


def edge_frames(rng):
    """Frames whose operand area (bytes 0..80) holds edge-case values."""
    sizes = [60, 61, 62, 63, 64, 65, 100, 127, 128, 129, 200, 256, 511, 1023, 1513, 1514]
    out = []
    for i, size in enumerate(sizes):
        if i == 0:
            body = bytes(80)
        elif i == 1:
            body = b"\xff" * 80
        elif i == 2:
            body = (struct.pack("<Q", 0x8000000000000000) + struct.pack("<Q", 0x7FFFFFFFFFFFFFFF)) * 5
        elif i == 3:
            body = struct.pack("<Q", rng.getrandbits(64)) * 10  # equal operands
        elif i == 4:
            body = bytes(range(80))  # small values: shift amounts 0..63
        elif i == 5:
            body = (struct.pack("<I", 0x80000000) + struct.pack("<I", 0x7FFFFFFF)) * 10
        elif i == 6:
            body = (b"\x00\x00\x00\x00\xff\xff\xff\xff") * 10
        elif i == 7:
            body = bytes([rng.choice([0, 1, 0x1F, 0x20, 0x3F, 0x7F, 0x80, 0xFF]) for _ in range(80)])
        else:
            b = bytearray(data(rng, 80))
            for _ in range(12):
                v = rng.choice(EDGE)
                w = rng.choice([1, 2, 4, 8])
                o = rng.randrange(0, 80 - w)
                b[o:o + w] = (v & ((1 << (8 * w)) - 1)).to_bytes(w, rng.choice(["little", "big"]))
            body = bytes(b)
        f = body[:12] + b"\x88\xb5" + body[14:]
        out.append(("edge%d" % i, pad(f + data(rng, max(0, size - len(f))), size)))
    return out


def common_frames():
    rng = random.Random(20250101)
    F = []

    def add(name, f, size=None):
        F.append((name, pad(f, size)))

    # well-formed
    add("ipv4-udp", eth(ipv4(17, udp(data(rng, 18))), 0x0800))
    add("ipv4-udp-128", eth(ipv4(17, udp(data(rng, 86))), 0x0800))
    add("ipv4-udp-dns", eth(ipv4(17, udp(data(rng, 40), sport=53, dport=33000)), 0x0800))
    add("ipv4-tcp-syn", eth(ipv4(6, tcp(b"", flags=0x02)), 0x0800))
    add("ipv4-tcp-1514", eth(ipv4(6, tcp(data(rng, 1460))), 0x0800))
    add("ipv4-tcp-1000", eth(ipv4(6, tcp(data(rng, 946), sport=1023, dport=443)), 0x0800))
    add("ipv4-icmp-echo", eth(ipv4(1, icmp_echo(data(rng, 56))), 0x0800))
    add("ipv4-icmp-echo-1514", eth(ipv4(1, icmp_echo(data(rng, 1472))), 0x0800))
    add("ipv4-icmp-unreach", eth(ipv4(1, bytes([3, 1, 0, 0, 0, 0, 0, 0]) + data(rng, 28)), 0x0800))
    add("ipv4-opts-udp", eth(ipv4(17, udp(data(rng, 150)), opts=bytes([1, 1, 1, 0, 0x44, 4, 5, 0])), 0x0800))
    add("ipv4-frag", eth(ipv4(17, udp(data(rng, 560)), frag=0x2000), 0x0800))
    add("ipv4-ttl1", eth(ipv4(17, udp(data(rng, 28)), ttl=1), 0x0800))
    add("ipv4-ttl255-tcp", eth(ipv4(6, tcp(data(rng, 200), sport=22, dport=50000), ttl=255), 0x0800))
    add("ipv6-udp", eth(ipv6(17, udp(data(rng, 38), src=IP6_B, dst=IP6_A, v6=True)), 0x86DD))
    add("ipv6-tcp-1514", eth(ipv6(6, tcp(data(rng, 1440), v6=True)), 0x86DD))
    add("ipv6-icmp6-echo", eth(ipv6(58, icmp6_echo(data(rng, 56))), 0x86DD))
    ext = bytes([43, 0]) + data(rng, 6) + bytes([17, 1]) + bytes(14)  # hop-by-hop, routing
    add("ipv6-ext-udp", eth(ipv6(0, ext + udp(data(rng, 230), sport=40001, v6=True)), 0x86DD))
    add("ipv6-frag", eth(ipv6(44, bytes([17, 0, 0, 1, 0, 0, 0, 5]) + data(rng, 300)), 0x86DD))
    add("ipv6-hlim1", eth(ipv6(17, udp(data(rng, 20), v6=True), hlim=1), 0x86DD))
    add("ipv6-udp-odd-port", eth(ipv6(17, udp(data(rng, 700), sport=40003, v6=True)), 0x86DD))
    add("ipv6-tcp-syn", eth(ipv6(6, tcp(b"", sport=1025, flags=0x02, v6=True)), 0x86DD))
    add("ipv6-icmp6-ns", eth(ipv6(58, bytes([135, 0, 0, 0]) + bytes(4) + IP6_A, hlim=255), 0x86DD))
    ext3 = bytes([60, 0]) + bytes(6) + bytes([43, 1]) + bytes(14) + bytes([6, 0, 0, 0]) + bytes(4)
    add("ipv6-ext3-tcp", eth(ipv6(0, ext3 + tcp(data(rng, 100), sport=40005, v6=True)), 0x86DD))
    add("ipv6-dstopt-icmp6", eth(ipv6(60, bytes([58, 0]) + bytes(6) + icmp6_echo(data(rng, 400))), 0x86DD))
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, SRC, IP_B, bytes(6), IP_A)
    add("arp-request", eth(arp, 0x0806, dst=b"\xff" * 6))
    add("vlan-ipv4-udp", eth(struct.pack("!HH", 100, 0x0800) + ipv4(17, udp(data(rng, 52))), 0x8100))
    add("lldp", eth(data(rng, 46), 0x88CC, dst=mac("01:80:c2:00:00:0e")))
    add("mcast-src", eth(ipv4(17, udp(data(rng, 30))), 0x0800, src=mac("03:00:00:00:00:01")))
    add("ipv4-udp-bcast", eth(ipv4(17, udp(data(rng, 300))), 0x0800, dst=b"\xff" * 6))
    # malformed
    add("bad-ihl3", eth(ipv4(17, udp(data(rng, 30)), ihl=3), 0x0800))
    add("bad-ihl15", eth(ipv4(17, udp(data(rng, 30)), ihl=15), 0x0800))
    add("bad-ver6-in-ipv4", eth(ipv4(17, udp(data(rng, 30)), ver=6), 0x0800))
    add("bad-totlen-lt-ihl", eth(ipv4(17, udp(data(rng, 30)), tot=12), 0x0800))
    add("bad-csum", eth(ipv4(6, tcp(data(rng, 100)), ok=False), 0x0800))
    add("garbage-ipv4-type", eth(data(rng, 200), 0x0800))
    add("ipv4-in-wrong-type", eth(ipv4(17, udp(data(rng, 30))), 0x1234))
    add("bad-ver4-in-ipv6", eth(ipv6(17, udp(data(rng, 30), v6=True), ver=4), 0x86DD))
    add("ipv6-ext-ff", eth(ipv6(60, bytes([0xFF, 0]) + data(rng, 40)), 0x86DD))
    add("tcp-doff15", eth(ipv4(6, tcp(b"", doff=15)[:20]), 0x0800))
    add("zeros-60", bytes(60))
    add("ones-64", b"\xff" * 64)
    add("garbage-600", data(rng, 600))
    # truncated: the headers claim more than the frame holds
    add("trunc-ipv4-totlen1500", eth(ipv4(17, udp(data(rng, 26)), tot=1500), 0x0800))
    add("trunc-ipv4-totlen200", eth(ipv4(6, tcp(data(rng, 54)), tot=200), 0x0800))
    add("trunc-ipv6-plen1400", eth(ipv6(17, udp(data(rng, 38), v6=True), plen=1400), 0x86DD))
    add("trunc-udp-len1000", eth(ipv4(17, udp(data(rng, 30), length=1000)), 0x0800))
    add("trunc-ipv4-hdr", eth(ipv4(17, b"")[:12], 0x0800))
    add("trunc-ipv6-ext", eth(ipv6(0, bytes([17, 40]) + data(rng, 30)), 0x86DD))
    add("trunc-tcp-hdr", eth(ipv4(6, tcp(b"")[:10]), 0x0800), 70)
    F += edge_frames(rng)
    for i in range(8):
        size = rng.choice([60, rng.randrange(60, 200), rng.randrange(200, 1515), 1514])
        F.append(("random%d" % i, data(rng, size)))
    return F


def directives(src_path):
    out = []
    if src_path and os.path.exists(src_path):
        for line in open(src_path):
            m = re.match(r"\s*//\s*xdp-diff:\s*(\w+)\s*(.*)", line)
            if m:
                out.append((m.group(1), m.group(2).split()))
    return out


def program_frames(name, src_path):
    frames = common_frames()
    rng = random.Random("xdp-diff:" + name)
    for kind, args in directives(src_path):
        if kind == "random":
            for i in range(int(args[0])):
                frames.append(("extra-random%d" % i, data(rng, rng.randrange(60, 1515))))
        elif kind == "frame":
            frames.append(("extra-frame%d" % len(frames), pad(bytes.fromhex("".join(args)))))
        elif kind == "patch":
            off, hx = int(args[0], 0), bytes.fromhex("".join(args[1:]))
            for n, f in frames[:8]:
                if off + len(hx) <= len(f):
                    frames.append((n + "+patch@%d" % off, f[:off] + hx + f[off + len(hx):]))
        else:
            raise SystemExit(f"{src_path}: unknown directive xdp-diff: {kind}")
    for n, f in frames:
        assert MIN_WIRE <= len(f) <= 1514, (name, n, len(f))
    return frames


# ---------------------------------------------------------------- bpf()

libc = ctypes.CDLL(None, use_errno=True)
NR_BPF = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
BPF_OBJ_GET, BPF_PROG_TEST_RUN = 7, 10


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(bytes(attr), 128)
    r = libc.syscall(NR_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r, buf.raw


class HostProg:
    """The non-offloaded copy: bpftool loads and pins it, BPF_PROG_TEST_RUN runs it."""

    def __init__(self, obj, name):
        self.pin = f"/sys/fs/bpf/xdp_diff_{name}"
        if os.path.exists(self.pin):
            os.unlink(self.pin)
        p = subprocess.run(["bpftool", "prog", "load", obj, self.pin, "type", "xdp"],
                           capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError("bpftool prog load failed: " + (p.stderr or p.stdout).strip()[-2000:])
        path = ctypes.create_string_buffer(self.pin.encode())
        self.fd, _ = bpf(BPF_OBJ_GET, struct.pack("<QII", ctypes.addressof(path), 0, 0))
        self.out = ctypes.create_string_buffer(8192)

    def run(self, frame):
        inb = ctypes.create_string_buffer(frame, len(frame))
        attr = struct.pack("<IIIIQQII", self.fd, 0, len(frame), len(self.out),
                           ctypes.addressof(inb), ctypes.addressof(self.out), 1, 0)
        _, raw = bpf(BPF_PROG_TEST_RUN, attr)
        retval, _, size_out = struct.unpack_from("<III", raw, 4)
        return retval, self.out.raw[:size_out]

    def close(self):
        os.close(self.fd)
        os.unlink(self.pin)


# ---------------------------------------------------------------- the card

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 3
SOL_PACKET, PACKET_AUXDATA = 263, 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
SIOCETHTOOL = 0x8946
ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS = 0x37, 0x1B, 0x1D
ETH_SS_STATS = 1
COUNTERS = ["bpf_pass_pkts", "bpf_app1_pkts", "bpf_app2_pkts", "bpf_app3_pkts"]
COUNTER_VERDICT = {"bpf_pass_pkts": "PASS", "bpf_app1_pkts": "DROP",
                   "bpf_app2_pkts": "TX", "bpf_app3_pkts": "ABORTED"}


def in_netns(ns, fn):
    """Run fn() with the calling thread in network namespace ns."""
    here = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        return fn()
    finally:
        libc.setns(here, CLONE_NEWNET)
        os.close(here)
        os.close(there)


def packet_socket(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((dev, ETH_P_ALL))
    s.setblocking(False)
    return s


def recv_all(s):
    """Frames received (not sent) by socket s, VLAN tags put back in place."""
    out = []
    while True:
        try:
            msg, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
        except BlockingIOError:
            return out
        if addr[2] == PACKET_OUTGOING:
            continue
        for level, typ, val in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(val) >= 20:
                status, _, _, _, _, tci, tpid = struct.unpack_from("<IIIHHHH", val)
                if status & TP_STATUS_VLAN_VALID:
                    tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                    msg = msg[:12] + struct.pack("!HH", tpid, tci) + msg[12:]
        out.append(msg)


class Ethtool:
    def __init__(self, dev):
        self.dev = dev
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        info = self._ioctl(struct.pack("<IIQI", ETHTOOL_GSSET_INFO, 0, 1 << ETH_SS_STATS, 0))
        self.n = struct.unpack_from("<I", info, 16)[0]
        names = self._ioctl(struct.pack("<III", ETHTOOL_GSTRINGS, ETH_SS_STATS, self.n) + bytes(32 * self.n))
        self.names = [names[12 + 32 * i:12 + 32 * (i + 1)].split(b"\0")[0].decode() for i in range(self.n)]
        missing = [c for c in COUNTERS if c not in self.names]
        if missing:
            raise RuntimeError(f"ethtool -S {dev} has no {', '.join(missing)}")
        self.idx = [self.names.index(c) for c in COUNTERS]

    def _ioctl(self, req):
        buf = ctypes.create_string_buffer(req, len(req))
        ifr = struct.pack("16sQ8x", self.dev.encode(), ctypes.addressof(buf))
        fcntl.ioctl(self.sock.fileno(), SIOCETHTOOL, ifr)
        return buf.raw

    def bpf_counters(self):
        raw = self._ioctl(struct.pack("<II", ETHTOOL_GSTATS, self.n) + bytes(8 * self.n))
        vals = struct.unpack_from(f"<{self.n}Q", raw, 8)
        return [vals[i] for i in self.idx]


def offload_load(ns, dev, obj):
    p = subprocess.run(["ip", "-n", ns, "-force", "link", "set", "dev", dev, "xdpoffload", "obj", obj,
                        "sec", "xdp"], capture_output=True, text=True)
    return p.returncode, (p.stderr + p.stdout).strip()


def offload_unload(ns, dev):
    subprocess.run(["ip", "-n", ns, "link", "set", "dev", dev, "xdpoffload", "off"], capture_output=True)


class Card:
    def __init__(self, ns_a, dev_a, ns_b, dev_b):
        self.ns_a, self.dev_a = ns_a, dev_a
        self.sa = in_netns(ns_a, lambda: packet_socket(dev_a))
        self.sb = in_netns(ns_b, lambda: packet_socket(dev_b))
        # Frames leave port 1 through scapy's layer-2 socket (the frames
        # themselves are built byte by byte above: scapy would repair the
        # malformed ones).
        import scapy.arch  # noqa: F401 (sets conf.L2socket; scapy.all costs seconds)
        from scapy.config import conf

        self.tx = in_netns(ns_b, lambda: conf.L2socket(iface=dev_b))
        self.ethtool = in_netns(ns_a, lambda: Ethtool(dev_a))
        self.stray = 0  # frames that arrived when none was expected

    def run(self, frame, timeout):
        """Send frame from B; return (verdict, frame or None, note)."""
        self.stray += len(recv_all(self.sa)) + len(recv_all(self.sb))
        c0 = self.ethtool.bpf_counters()
        self.tx.send(frame)
        deadline = time.monotonic() + timeout
        got_a, got_b, verdict = [], [], None
        while True:
            r, _, _ = select.select([self.sa, self.sb], [], [], 0.002)
            if self.sa in r:
                got_a += recv_all(self.sa)
            if self.sb in r:
                got_b += recv_all(self.sb)
            if verdict is None:
                d = [b - a for a, b in zip(c0, self.ethtool.bpf_counters())]
                moved = [COUNTER_VERDICT[c] for c, n in zip(COUNTERS, d) if n]
                if len(moved) > 1 or sum(d) > 1:
                    return "MULTI", None, "counters moved: " + " ".join(
                        f"{c}+{n}" for c, n in zip(COUNTERS, d) if n)
                if moved:
                    verdict = moved[0]
            if verdict in ("DROP", "ABORTED"):
                break
            if verdict == "PASS" and got_a or verdict == "TX" and got_b:
                break
            if time.monotonic() > deadline:
                break
        note = ""
        if got_a and verdict != "PASS" or got_b and verdict != "TX":
            note = f"unexpected frames: {len(got_a)} on port 0's netdev, {len(got_b)} back on port 1"
        if verdict is None:
            return "NONE", None, "no counter moved within %.1f s; %s" % (timeout, note)
        if verdict == "PASS":
            return verdict, got_a[0] if got_a else None, note or (
                "" if got_a else "no frame reached port 0's netdev within %.1f s" % timeout)
        if verdict == "TX":
            return verdict, got_b[0] if got_b else None, note or (
                "" if got_b else "no frame came back to port 1 within %.1f s" % timeout)
        return verdict, None, note


# ---------------------------------------------------------------- comparison


def expected_verdict(retval):
    """What the card must do for a reference return value (>= 4: abort)."""
    return XDP.get(retval, "ABORTED")


def ref_class(retval):
    return XDP.get(retval, "other")


def frames_equal(verdict, want, got):
    if got is None:
        return False
    if got == want:
        return True
    # a frame shorter than the Ethernet minimum that crossed the wire may
    # arrive padded with zeros
    return (verdict == "TX" and len(want) < MIN_WIRE and len(got) == MIN_WIRE
            and got[:len(want)] == want and not any(got[len(want):]))


def hexdiff(want, got, width=16):
    lines = []
    n = max(len(want), len(got))
    for off in range(0, n, width):
        w, g = want[off:off + width], got[off:off + width]
        if w == g:
            continue
        mark = "".join("^^ " if off + i >= len(want) or off + i >= len(got) or want[off + i] != got[off + i]
                       else "   " for i in range(max(len(w), len(g))))
        lines.append(f"    {off:04x} want {w.hex(' '):<{3 * width}} got {g.hex(' ')}")
        lines.append(f"    {'':4} {'':4} {'':<{3 * width}}     {mark.rstrip()}")
        if len(lines) >= 24:
            lines.append("    ...")
            break
    return "\n".join(lines)


# ---------------------------------------------------------------- coverage

OPS_ALU = {0x00: "add", 0x10: "sub", 0x20: "mul", 0x30: "div", 0x40: "or", 0x50: "and",
           0x60: "lsh", 0x70: "rsh", 0x80: "neg", 0x90: "mod", 0xA0: "xor", 0xB0: "mov",
           0xC0: "arsh", 0xD0: "end"}
OPS_JMP = {0x00: "ja", 0x10: "jeq", 0x20: "jgt", 0x30: "jge", 0x40: "jset", 0x50: "jne",
           0x60: "jsgt", 0x70: "jsge", 0x80: "call", 0x90: "exit", 0xA0: "jlt", 0xB0: "jle",
           0xC0: "jslt", 0xD0: "jsle"}
SIZES = {0x00: "w", 0x08: "h", 0x10: "b", 0x18: "dw"}


def elf_sections(path):
    b = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3A)
    secs = [struct.unpack_from("<IIQQQQIIQQ", b, shoff + i * shentsize) for i in range(shnum)]
    stro = secs[shstrndx][4]
    out = {}
    for s in secs:
        name = b[stro + s[0]:b.index(b"\0", stro + s[0])].decode()
        out[name] = b[s[4]:s[4] + s[5]]
    return out


def insn_names(path):
    """Names of the BPF instructions in the object's code (xdp section and subprograms)."""
    secs = elf_sections(path)
    code = secs.get("xdp", b"") + secs.get(".text", b"")
    names = set()
    i = 0
    while i + 8 <= len(code):
        op, regs, off, imm = struct.unpack_from("<BBhi", code, i)
        i += 8
        cls = op & 7
        if cls in (4, 7):  # ALU, ALU64
            base = OPS_ALU.get(op & 0xF0, "?%02x" % op)
            if base == "end":
                names.add("end%s%d" % ("be" if op & 8 else "le", imm))
                continue
            bits = "64" if cls == 7 else "32"
            src = "" if base == "neg" else ("_x" if op & 8 else "_k")
            names.add(f"{base}{bits}{src}")
        elif cls in (5, 6):  # JMP, JMP32
            base = OPS_JMP.get(op & 0xF0, "?%02x" % op)
            if base == "call":
                names.add(f"call{imm}" if regs >> 4 == 0 else "call_subprog")
            elif base in ("exit", "ja"):
                names.add(base)
            else:
                names.add(f"{base}{'32' if cls == 6 else '64'}{'_x' if op & 8 else '_k'}")
        elif cls == 0:  # LD
            names.add("ld_imm64" if op == 0x18 else "ld?%02x" % op)
            if op == 0x18:
                i += 8
        elif cls == 1:
            names.add("ldx_" + SIZES[op & 0x18])
        elif cls == 2:
            names.add("st_" + SIZES[op & 0x18])
        elif cls == 3:
            names.add("stx_" + SIZES[op & 0x18] + ("" if op & 0xE0 == 0x60 else "_atomic"))
    return names


def required_insns():
    req = set()
    for bits in ("32", "64"):
        for op in ("add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "xor", "mov", "arsh"):
            req |= {f"{op}{bits}_k", f"{op}{bits}_x"}
        req.add(f"neg{bits}")
        for j in ("jeq", "jne", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle", "jset"):
            req |= {f"{j}{bits}_k", f"{j}{bits}_x"}
    req |= {"endbe16", "endbe32", "endbe64", "ja", "exit", "ld_imm64", "call44", "call65",
            "call_subprog"}
    # (no "st_*": the nfp JIT of Linux 6.12 cannot translate BPF_ST at all)
    for sz in ("b", "h", "w", "dw"):
        req |= {"ldx_" + sz, "stx_" + sz}
    return req


def coverage(objs):
    used = {}
    for o in objs:
        for n in insn_names(o):
            used.setdefault(n, []).append(os.path.basename(o)[:-2])
    return used, sorted(required_insns() - set(used))


# ---------------------------------------------------------------- run


def histogram(items):
    h = {}
    for i in items:
        h[i] = h.get(i, 0) + 1
    order = ["PASS", "TX", "DROP", "ABORTED", "other", "NONE", "MULTI"]
    return {k: h[k] for k in sorted(h, key=lambda k: order.index(k) if k in order else 99)}


def fmt_hist(h):
    return " ".join(f"{k} {v}" for k, v in h.items())


def run(args):
    os.makedirs(args.out, exist_ok=True)
    objs = sorted(os.path.join(args.progs, f) for f in os.listdir(args.progs) if f.endswith(".o"))
    if args.only:
        keep = set(args.only.split(","))
        objs = [o for o in objs if os.path.basename(o)[:-2] in keep]
    card = None if args.ref_only else Card(args.ns_a, args.dev_a, args.ns_b, args.dev_b)
    used, missing = coverage(objs)
    results, mismatch_log = [], []
    t_all = time.monotonic()
    print(f"xdp-diff: {len(objs)} programs" + (" (reference half only)" if args.ref_only else ""), flush=True)
    for obj in objs:
        name = os.path.basename(obj)[:-2]
        frames = program_frames(name, obj[:-2] + ".c")
        res = {"name": name, "packets": len(frames), "matches": 0, "mismatches": 0,
               "reference": {}, "offload": {}, "error": None}
        results.append(res)
        # reference
        t0 = time.monotonic()
        try:
            host = HostProg(obj, name)
            try:
                t1 = time.monotonic()
                ref = [host.run(f) for _, f in frames]
                res["reference_run_ms"] = round((time.monotonic() - t1) * 1000, 1)
            finally:
                host.close()
        except (RuntimeError, OSError) as e:
            res["error"] = f"reference: {e}"
            print(f"{name}: {res['error']}", flush=True)
            continue
        res["reference_ms"] = round((time.monotonic() - t0) * 1000)
        res["reference"] = histogram(ref_class(r) for r, _ in ref)
        # offload (with --ref-only too: the load proves that the nfp
        # verifier and JIT accept the program)
        rc, msg = offload_load(args.ns_a, args.dev_a, obj)
        if rc != 0:
            offload_unload(args.ns_a, args.dev_a)
            # the interesting lines: the verifier's last words, [nfp] ones, ip's error
            keep = [l for l in msg.splitlines() if l.strip() and not l.startswith("libbpf: -- ")]
            res["error"] = "offload load failed: " + " | ".join(keep[-4:])
            print(f"{name}: {res['error']}", flush=True)
            continue
        if not card:
            offload_unload(args.ns_a, args.dev_a)
            print(f"{name}: {len(frames)} frames, reference {fmt_hist(res['reference'])} "
                  f"in {res['reference_ms']} ms ({res['reference_run_ms']} ms of test runs); "
                  "offload load ok", flush=True)
            continue
        t0 = time.monotonic()
        card.stray = 0
        got_v = []
        for i, ((fname, f), (retval, want)) in enumerate(zip(frames, ref)):
            v, g, note = card.run(f, args.timeout)
            got_v.append(v)
            ev = expected_verdict(retval)
            ok = v == ev and (v not in ("PASS", "TX") or frames_equal(v, want, g))
            if ok:
                res["matches"] += 1
                continue
            res["mismatches"] += 1
            lines = [f"{name} frame {i} ({fname}, {len(f)} bytes): expected {ev} (retval {retval})"
                     f"{' %d bytes' % len(want) if ev in ('PASS', 'TX') else ''}, got {v}"
                     f"{' %d bytes' % len(g) if g is not None else ''}{' - ' + note if note else ''}"]
            if v == ev and g is not None:
                lines.append(hexdiff(want, g))
            if v != ev and ev in ("PASS", "TX"):
                lines.append("    input  " + f[:64].hex(" ") + (" ..." if len(f) > 64 else ""))
            mismatch_log.append("\n".join(lines))
            if res["mismatches"] <= args.show:
                print(mismatch_log[-1], flush=True)
        offload_unload(args.ns_a, args.dev_a)
        res["offload"] = histogram(got_v)
        res["offload_s"] = round(time.monotonic() - t0, 1)
        res["stray_frames"] = card.stray
        print(f"{name}: {res['matches']}/{len(frames)} match, {res['offload_s']} s"
              + (f", {card.stray} stray frames" if card.stray else ""), flush=True)

    # table
    print()
    hdr = (f"{'program':<12} {'frames':>6} {'match':>5} {'mismatch':>8} {'ref ms':>6} {'card s':>6}  "
           f"{'reference (CPU) verdicts':<41} card verdicts")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        if r["error"]:
            print(f"{r['name']:<12} {r['packets']:>6} {'-':>5} {'-':>8}  ERROR {r['error'][:100]}")
            continue
        m = "-" if args.ref_only else str(r["matches"])
        mm = "-" if args.ref_only else str(r["mismatches"])
        print(f"{r['name']:<12} {r['packets']:>6} {m:>5} {mm:>8} {r['reference_ms']:>6} "
              f"{r.get('offload_s', '-'):>6}  {fmt_hist(r['reference']):<41} {fmt_hist(r['offload'])}")
    total = sum(r["packets"] for r in results)
    bad = sum(r["mismatches"] for r in results)
    errors = [r["name"] for r in results if r["error"]]
    print(f"\n{len(results)} programs, {total} frames, {bad} mismatches, {len(errors)} errors, "
          f"{time.monotonic() - t_all:.0f} s")
    print(f"instruction coverage: {len(used)} kinds used; missing: {' '.join(missing) or 'none'}")
    summary = {"programs": results, "frames": total, "mismatches": bad, "errors": errors,
               "ref_only": args.ref_only, "coverage": {k: sorted(v) for k, v in sorted(used.items())},
               "coverage_missing": missing, "seconds": round(time.monotonic() - t_all)}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "mismatches.txt"), "w") as f:
        f.write("\n\n".join(mismatch_log) + ("\n" if mismatch_log else ""))
    return 1 if bad or errors or missing else 0


def cmd_frames(args):
    name = os.path.basename(args.src).rsplit(".", 1)[0]
    for i, (n, f) in enumerate(program_frames(name, args.src)):
        print(f"{i:3} {len(f):5} {n:<24} {f.hex() if args.hex else f[:24].hex()}")


def cmd_coverage(args):
    objs = sorted(os.path.join(args.progs, f) for f in os.listdir(args.progs) if f.endswith(".o"))
    used, missing = coverage(objs)
    for k in sorted(used):
        print(f"{k:<14} {len(used[k]):3}  {' '.join(used[k][:6])}{' ...' if len(used[k]) > 6 else ''}")
    print("missing:", " ".join(missing) or "none")
    return 1 if missing else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--progs", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--only")
    r.add_argument("--ref-only", action="store_true")
    r.add_argument("--ns-a", default="a")
    r.add_argument("--dev-a")
    r.add_argument("--ns-b", default="b")
    r.add_argument("--dev-b")
    r.add_argument("--timeout", type=float, default=30.0)
    r.add_argument("--show", type=int, default=3, help="mismatches printed per program")
    f = sub.add_parser("frames")
    f.add_argument("src")
    f.add_argument("--hex", action="store_true")
    c = sub.add_parser("coverage")
    c.add_argument("--progs", required=True)
    args = p.parse_args()
    if args.cmd == "run":
        if not args.dev_a or not args.ref_only and not args.dev_b:
            p.error("run needs --dev-a (and --dev-b unless --ref-only)")
        return run(args)
    return {"frames": cmd_frames, "coverage": cmd_coverage}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
