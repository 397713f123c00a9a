"""A free TCP port on 127.0.0.1 for a server that a test starts.

Asking the kernel for port 0 and closing the probe leaves a window before the server binds, and the
port it hands out comes from the ephemeral range, which every outgoing connection on the machine
draws from too: a client's local end can take the port in that window, and the server then fails
with "address already in use". So the port is picked below the ephemeral range, where outgoing
connections never land, checked free, and a caller that binds it itself still retries on
EADDRINUSE (two tests may pick the same one).

Run as a script it prints one port, for the shell tests."""

import random
import socket

# The stack's servers and ThrowawayRedis (26400-26999) stay clear of this.
LOW, HIGH = 28000, 32000


def ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    high = min(HIGH, ephemeral_low() - 1)
    for _ in range(200):
        port = random.randint(LOW, high)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between %d and %d" % (LOW, high))


if __name__ == "__main__":
    print(free_port())
