"""Baseline for `decode-async-bench socketio`: the same workload with python-socketio on both ends.

A python-socketio AsyncServer (ASGI on uvicorn) and N python-socketio AsyncClients (WebSocket) in
one process, as the Swift bench runs server and clients in one process: connect N clients, each
joins its user room; emit to every room R times; report connect rate, memory per connection and
emit-to-receipt latency in the same format as the Swift bench.

With `--serve`, only the server: it checks the access tokens the clients of
scripts/socketio_hold_clients.py send (HS256 with BENCH_TOKEN_SECRET, as decode-async does), joins
each to its user room, emits `user_connected`, prints `port N` and serves until its standard input
closes; `decode-async-bench socketio --memory` measures its resident memory with the clients held
by other processes.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import python_gateway
import socketio
from python_gateway import NAMESPACE


def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def line(name, count, elapsed, latencies=None):
    text = "python-socketio  " + name.ljust(26) + "%10.0f msg/s" % (count / elapsed if elapsed > 0 else 0)
    if latencies:
        ordered = sorted(latencies)
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
        text += "   p50 %7.3f ms   p99 %7.3f ms" % (p50 / 1e6, p99 / 1e6)
    print(text, flush=True)


async def main(clients, rounds):
    gateway = await python_gateway.start(lambda auth: auth.get("user"))
    server, url = gateway.server, gateway.url

    latencies = []
    expected = clients * rounds
    done = asyncio.Event()
    users = ["u%06d" % index for index in range(clients)]
    sockets = []

    async def start(user):
        client = socketio.AsyncClient(reconnection=False)
        ready = asyncio.Event()

        @client.on("user_connected", namespace=NAMESPACE)
        async def on_connected(payload):
            ready.set()

        @client.on("bench", namespace=NAMESPACE)
        async def on_bench(payload):
            latencies.append(time.perf_counter_ns() - payload["t"])
            if len(latencies) >= expected:
                done.set()

        await client.connect(url, namespaces=[NAMESPACE], auth={"user": user}, transports=["websocket"])
        await ready.wait()
        sockets.append(client)

    before = resident_bytes()
    start_time = time.perf_counter()
    for index in range(0, clients, 200):
        await asyncio.gather(*(start(user) for user in users[index : index + 200]))
    line("socket.io connect", clients, time.perf_counter() - start_time)
    print(
        "python-socketio  memory per connection        %8.1f KiB (server and client in one process)"
        % ((resident_bytes() - before) / clients / 1024),
        flush=True,
    )

    emit_start = time.perf_counter()
    for _ in range(rounds):
        for user in users:
            await server.emit("bench", {"t": time.perf_counter_ns()}, room="user_" + user, namespace=NAMESPACE)
    await asyncio.wait_for(done.wait(), timeout=300)
    line("emit to room → receipt", expected, time.perf_counter() - emit_start, latencies)

    await asyncio.gather(*(client.disconnect() for client in sockets), return_exceptions=True)
    await gateway.stop()


def verified_user(token, secret):
    """The `user_id` of a valid HS256 access token, else None."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(secret.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), expected):
            return None
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims.get("exp", 0) <= time.time() or claims.get("iss") != "decode-auth-service":
            return None
        if claims.get("aud") != "decode-frontend":
            return None
        user = claims.get("user_id")
        return user if isinstance(user, str) else None
    except (ValueError, TypeError):
        return None


async def serve():
    secret = os.environ["BENCH_TOKEN_SECRET"]
    gateway = await python_gateway.start(lambda auth: verified_user(auth.get("token") or "", secret))
    print("port %d" % gateway.port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await gateway.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="only the server, for held clients (see above)")
    arguments = parser.parse_args()
    if arguments.serve:
        import signal

        signal.pthread_sigmask(signal.SIG_SETMASK, [])  # a parent may have blocked them
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
        asyncio.run(serve())
    else:
        asyncio.run(main(arguments.clients, arguments.rounds))
