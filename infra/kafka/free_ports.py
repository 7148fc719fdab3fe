"""Print COUNT distinct free TCP ports on 127.0.0.1 (default 2), space-separated.

Picked at random below the kernel's ephemeral range, so that outgoing connections cannot grab
them between picking and a broker binding them; SO_REUSEADDR like the JVM, so TIME_WAIT
leftovers of a previous run do not count as busy. Used by start.sh and start-cluster.sh.
"""

import random
import socket
import sys
from pathlib import Path

count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
lo_eph = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
hi = max(lo_eph - 1, 20100)
socks, ports = [], []
while len(ports) < count:
    port = random.randint(20000, hi)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        continue
    socks.append(sock)  # keep bound until all are chosen, so they differ
    ports.append(port)
print(*ports)
