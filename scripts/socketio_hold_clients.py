"""Holds N idle Socket.IO clients on WebSocket against a server, in processes of their own.

For `decode-async-bench socketio --memory`: the server's resident memory is measured with its
clients outside its process. Each client opens `/socket.io/?EIO=4&transport=websocket`, connects to
`/notifications` with an access token (HS256, the claims `decode-async token` signs; the secret
comes from the environment variable BENCH_TOKEN_SECRET and is never printed), waits for
`user_connected`, then only answers the server's pings. The clients are spread over `--processes`
asyncio processes; once all are connected the script prints `held N` and holds them until its
standard input closes (or SIGTERM), then exits.

    BENCH_TOKEN_SECRET=... python scripts/socketio_hold_clients.py --url http://127.0.0.1:4005 \
        --clients 10000 --processes 4
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import resource
import secrets
import signal
import sys
import time
import uuid

import aiohttp

NAMESPACE = "/notifications"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret, user_id, lifetime=3600):
    """An access token as AccessTokenSigner signs it."""
    now = int(time.time())
    header = b64url(b'{"alg":"HS256","typ":"JWT"}')
    claims = {
        "user_id": user_id,
        "session_token": str(uuid.uuid4()).upper(),
        "iat": now,
        "exp": now + lifetime,
        "iss": "decode-auth-service",
        "aud": "decode-frontend",
    }
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), (header + "." + payload).encode(), hashlib.sha256).digest()
    return header + "." + payload + "." + b64url(signature)


async def hold_one(session, url, secret, connected, stop):
    """One client: open, CONNECT with a token, wait for user_connected, then answer pings."""
    try:
        await talk(session, url, secret, connected, stop)
    except Exception as error:
        if not connected.done():
            connected.set_exception(error)
        return
    if not connected.done():
        connected.set_exception(RuntimeError("closed before user_connected"))


async def talk(session, url, secret, connected, stop):
    user = secrets.token_hex(12)
    auth = json.dumps({"token": token(secret, user)}, separators=(",", ":"))
    async with session.ws_connect(url, autoping=True, max_msg_size=1 << 20) as ws:
        opened = await ws.receive()
        if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
            raise RuntimeError("no Engine.IO open packet")
        await ws.send_str("40" + NAMESPACE + "," + auth)
        ready = False
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text = message.data
            if text == "2":
                await ws.send_str("3")
            elif not ready and text.startswith("42" + NAMESPACE + ',["user_connected"'):
                ready = True
                connected.set_result(True)
            elif text.startswith("41"):
                break
            if stop.is_set():
                break


async def hold(url, clients, secret, batch, report):
    """Connects `clients` clients, `batch` at a time; `report(count)` once all are connected; holds."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    connector = aiohttp.TCPConnector(limit=0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        for start in range(0, clients, batch):
            waits = []
            for _ in range(min(batch, clients - start)):
                connected = loop.create_future()
                tasks.append(asyncio.create_task(hold_one(session, ws_url, secret, connected, stop)))
                waits.append(connected)
            await asyncio.gather(*waits)
        report(clients)
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def worker(url, clients, secret, batch, pipe):
    signal.pthread_sigmask(signal.SIG_SETMASK, [])  # a parent may have blocked them (SIGTERM ends us)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(hold(url, clients, secret, batch, lambda count: pipe.send(("held", count))))
    except Exception as error:  # the parent reports it; no token or message body in it
        pipe.send(("failed", type(error).__name__ + ": " + str(error)[:200]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the server's base URL, http://host:port")
    parser.add_argument("--clients", type=int, default=10000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100, help="connections opened at once per process")
    arguments = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    secret = os.environ.get("BENCH_TOKEN_SECRET")
    if not secret:
        sys.exit("socketio_hold_clients: BENCH_TOKEN_SECRET is not set")
    processes = max(1, arguments.processes)
    shares = [arguments.clients // processes + (1 if index < arguments.clients % processes else 0)
              for index in range(processes)]
    context = multiprocessing.get_context("fork")
    children = []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=worker, args=(arguments.url, share, secret, arguments.batch, sender))
        child.start()
        children.append((child, receiver))
    held = 0
    for child, receiver in children:
        kind, value = receiver.recv()
        if kind != "held":
            print("failed " + value, flush=True)
            for other, _ in children:
                other.terminate()
            sys.exit(1)
        held += value
    print("held %d" % held, flush=True)
    sys.stdin.read()  # until the caller closes our standard input
    for child, _ in children:
        child.terminate()
    for child, _ in children:
        child.join(timeout=30)


if __name__ == "__main__":
    main()
