#!/usr/bin/env python3
"""Flood the card through whatever netdevs it has right now, across driver
reloads: frames leave port 1's netdev for port 0's MAC (so the card DMAs
them into port 0's RX ring) as fast as the socket takes them. When the
netdevs vanish (rmmod) the flooder waits for the next ones (modprobe),
brings them up and goes on.

  flood.py COUNT_FILE STOP_FILE
      runs until STOP_FILE exists; writes the number of frames sent so far
      to COUNT_FILE every 256 frames, then prints "sent N netdevs G" (G:
      how many generations of netdevs it flooded).
"""
import os
import socket
import subprocess
import sys
import time


def port_netdev(n):
    for d in os.listdir("/sys/class/net"):
        try:
            with open(f"/sys/class/net/{d}/phys_port_name") as f:
                if f.read().strip() == f"p{n}":
                    return d
        except OSError:
            pass
    return None


def mac(dev):
    with open(f"/sys/class/net/{dev}/address") as f:
        return bytes.fromhex(f.read().strip().replace(":", ""))


def carrier(dev):
    try:
        with open(f"/sys/class/net/{dev}/carrier") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def ifindex(dev):
    with open(f"/sys/class/net/{dev}/ifindex") as f:
        return int(f.read())


def main():
    count_file, stop_file = sys.argv[1], sys.argv[2]
    sent = generations = 0
    last = None  # ifindexes of the generation flooded last
    while not os.path.exists(stop_file):
        a, b = port_netdev(0), port_netdev(1)
        if a is None or b is None:
            time.sleep(0.05)  # polling for the next netdevs, not a wait for a result
            continue
        try:
            pair = (ifindex(a), ifindex(b))
            for d in (a, b):
                subprocess.run(["ip", "link", "set", d, "up"], check=True, capture_output=True)
            while not carrier(b) and os.path.exists(f"/sys/class/net/{b}"):
                time.sleep(0.05)  # polling for carrier
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((b, 0))
            hdr = mac(a) + mac(b) + b"\x88\xb5"
        except (OSError, subprocess.CalledProcessError):
            continue
        if pair != last:  # re-attaching to the same netdevs is no new generation
            generations += 1
            last = pair
        try:
            while not os.path.exists(stop_file):
                for _ in range(256):
                    s.send(hdr + b"nfp-emu flood %010d" % sent + bytes(32))
                    sent += 1
                with open(count_file + ".tmp", "w") as f:
                    f.write(f"{sent}\n")
                os.replace(count_file + ".tmp", count_file)
        except OSError:
            pass  # the netdev went away (or down): find the next one
        finally:
            s.close()
    print(f"sent {sent} netdevs {generations}")


if __name__ == "__main__":
    sys.exit(main())
