"""Baseline for `decode-async-bench notifications`: the same workload through a plain Python consumer.

What the NestJS original does, written plainly: consume `create_notification` from a queue
(aio-pika, each delivery handled in its own task, at most --prefetch at once), store each
notification with one `insert_one` (pymongo's AsyncMongoClient, into a collection with only the
`_id` index, as the original's), acknowledge it, and emit `notification_received` to the user's
room of a python-socketio AsyncServer (ASGI on uvicorn). Its own python-socketio clients, one user
each, in the same process, as the Swift bench runs server and clients in one process.

The publisher is NestJS `ClientProxy.emit`: the bare `{"pattern","data"}` body with no properties.
Modes, as the Swift bench:
  burst   N emits published at once for M connected users: rate, publish → receipt p50/p99
  rate    R emits/s for S seconds to random users among C clients: received/sent, p50/p99
Each also prints the CPU time the MongoDB server process spent (/proc/<pid>/stat), per 1,000.
Lines have the Swift bench's layout, prefixed `plain python`. Never fails on timing.
"""
import argparse
import asyncio
import datetime
import json
import os
import random
import resource
import time
import uuid

import aio_pika
import python_gateway
import socketio
from bson import ObjectId
from pymongo import AsyncMongoClient

from python_gateway import NAMESPACE
PATTERN = "create_notification"
EVENT = "notification_received"


def line(name, detail):
    print("plain python  " + name.ljust(30) + detail, flush=True)


def percentiles(latencies):
    if not latencies:
        return ""
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
    return "   p50 %9.3f ms   p99 %9.3f ms" % (p50 / 1e6, p99 / 1e6)


def command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def find_store_pid(given):
    """The given pid; else .stack/secantusdb.pid; else the first process naming secantusd-py."""
    if given:
        return given
    try:
        with open(".stack/secantusdb.pid") as handle:
            pid = int(handle.read().strip())
        if "secantusd" in command_line(pid):
            return pid
    except (OSError, ValueError):
        pass
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid() and "secantusd-py" in command_line(int(entry)):
            return int(entry)
    return None


def store_cpu_seconds(pid):
    """utime + stime of the process over CLK_TCK, or None once it is gone."""
    if pid is None:
        return None
    try:
        with open("/proc/%d/stat" % pid) as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 1 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CPU:
    """Store and own CPU from start(), with the idle rates measured just before."""

    def __init__(self, store_pid):
        self.store_pid = store_pid

    async def start(self, idle):
        # At most 20 s until the store has spent under 30 ms/s for a second, as the Swift bench.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            before = store_cpu_seconds(self.store_pid)
            await asyncio.sleep(1)
            after = store_cpu_seconds(self.store_pid)
            if None in (before, after) or after - before < 0.03:
                break
        store_before, own_before = store_cpu_seconds(self.store_pid), own_cpu_seconds()
        await asyncio.sleep(idle)
        self.store_start, self.own_start = store_cpu_seconds(self.store_pid), own_cpu_seconds()
        self.store_idle = (
            (self.store_start - store_before) / idle if None not in (store_before, self.store_start) else None
        )
        self.own_idle = (self.own_start - own_before) / idle

    async def settled_store_cpu(self):
        """Store CPU at the first half second in which it spent under 15 ms (at most 20 s on), as
        the Swift bench: work the consumer left after the last receipt is counted too."""
        deadline = time.monotonic() + 20
        while True:
            before = store_cpu_seconds(self.store_pid)
            await asyncio.sleep(0.5)
            after = store_cpu_seconds(self.store_pid)
            if None in (before, after) or after - before < 0.015 or time.monotonic() > deadline:
                return before

    async def print_store(self, count):
        now = await self.settled_store_cpu()
        if now is None or self.store_start is None:
            line("store cpu per 1,000", "     n/a (no SecantusDB process found)")
            return
        seconds = now - self.store_start
        line(
            "store cpu per 1,000",
            "%8.0f ms   (%.2f s in all; pid %d; %.0f ms/s idle before the run)"
            % (seconds / max(count, 1) * 1e6, seconds, self.store_pid, (self.store_idle or 0) * 1000),
        )

    def print_own(self, count, elapsed, users):
        seconds = max(0.0, own_cpu_seconds() - self.own_start - self.own_idle * elapsed)
        line(
            "own cpu per 1,000",
            "%8.0f ms   (consumer, server and %d clients in one process, idle cost taken off)"
            % (seconds / max(count, 1) * 1e6, users),
        )


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


class Receipts:
    def __init__(self):
        self.latencies = []
        self.last = None

    def record(self, payload):
        title = ((payload or {}).get("data") or {}).get("title", "")
        if title.startswith("bench "):
            self.last = time.perf_counter_ns()
            self.latencies.append(self.last - int(title[len("bench ") :]))

    async def wait(self, expected, quiet):
        """Until `expected` arrived or none arrived for `quiet` seconds."""
        wait_start = time.perf_counter_ns()
        while len(self.latencies) < expected:
            if time.perf_counter_ns() - max(self.last or wait_start, wait_start) > quiet * 1e9:
                break
            await asyncio.sleep(0.005)


async def main(args):
    store_pid = find_store_pid(args.store_pid)
    suffix = uuid.uuid4().hex[:8]
    queue_name = "bench.notifications.python." + suffix
    mongo = AsyncMongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017"), directConnection=True)
    database = mongo["decode_bench_python_" + suffix]
    notifications = database["notifications"]

    gateway = await python_gateway.start(lambda auth: auth.get("user"))
    server, url = gateway.server, gateway.url

    # The consumer: one insert_one per message, ack once written, then the push.
    amqp = await aio_pika.connect(os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"))
    consume_channel = await amqp.channel()
    await consume_channel.set_qos(prefetch_count=args.prefetch)
    queue = await consume_channel.declare_queue(queue_name, durable=True)

    async def on_message(message):
        body = json.loads(message.body)
        if body.get("pattern") != PATTERN:
            await message.reject()
            return
        data = body["data"]
        now = datetime.datetime.now(datetime.timezone.utc)
        document = {
            "user_id": ObjectId(data["user_id"]),
            "type": data["type"],
            "title": data["title"],
            "message": data["message"],
            "delivered": False,
            "delivered_at": None,
            "read": False,
            "read_at": None,
            "createdAt": now,
            "updatedAt": now,
            "__v": 0,
        }
        result = await notifications.insert_one(document)
        await message.ack()
        payload = {
            "event": EVENT,
            "data": {
                "id": str(result.inserted_id),
                "user_id": data["user_id"],
                "type": data["type"],
                "title": data["title"],
                "message": data["message"],
                "delivered": False,
                "delivered_at": None,
                "read": False,
                "read_at": None,
                "createdAt": iso(now),
                "updatedAt": iso(now),
            },
            "timestamp": iso(now),
            "userId": data["user_id"],
        }
        await server.emit(EVENT, payload, room="user_" + data["user_id"], namespace=NAMESPACE)

    consumer_tag = await queue.consume(on_message)

    receipts = Receipts()
    sockets = []

    async def start(user):
        client = socketio.AsyncClient(reconnection=False)
        ready = asyncio.Event()

        @client.on("user_connected", namespace=NAMESPACE)
        async def on_connected(payload):
            ready.set()

        @client.on(EVENT, namespace=NAMESPACE)
        async def on_notification(payload):
            receipts.record(payload)

        await client.connect(url, namespaces=[NAMESPACE], auth={"user": user}, transports=["websocket"])
        await ready.wait()
        sockets.append(client)

    users = [str(ObjectId()) for _ in range(args.users if args.mode == "burst" else args.clients)]
    for index in range(0, len(users), 200):
        await asyncio.gather(*(start(user) for user in users[index : index + 200]))

    publish_connection = await aio_pika.connect(os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672"))
    publish_channel = await publish_connection.channel()

    async def emit(user):
        # NestJS ClientProxy.emit: {"pattern","data"} with no properties.
        title = "bench %d" % time.perf_counter_ns()
        body = json.dumps({"pattern": PATTERN, "data": {"user_id": user, "type": "bench", "title": title, "message": "m"}})
        await publish_channel.default_exchange.publish(aio_pika.Message(body.encode()), routing_key=queue_name)

    cpu = CPU(store_pid)
    await cpu.start(2.0)
    started = time.perf_counter_ns()
    if args.mode == "burst":
        total = args.notifications
        await asyncio.gather(*(emit(users[index % len(users)]) for index in range(total)))
        await receipts.wait(total, quiet=30)
        elapsed = ((receipts.last or time.perf_counter_ns()) - started) / 1e9
        received = len(receipts.latencies)
        line(
            "%d emits → receipt" % total,
            "%8.0f msg/s" % (received / elapsed if elapsed > 0 else 0)
            + percentiles(receipts.latencies)
            + "   received %d of %d, %d users" % (received, total, len(users)),
        )
        await cpu.print_store(total)
        cpu.print_own(total, elapsed, len(users))
    else:
        total = args.rate * args.seconds
        interval = 1e9 / args.rate
        publishes = []
        for index in range(total):
            delay = (started + index * interval - time.perf_counter_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            publishes.append(asyncio.create_task(emit(random.choice(users))))
        await asyncio.gather(*publishes)
        await receipts.wait(total, quiet=10)
        line(
            "%d/s × %d s, %d sockets" % (args.rate, args.seconds, len(users)),
            "received %5d of %5d" % (len(receipts.latencies), total) + percentiles(receipts.latencies),
        )
        await cpu.print_store(total)

    await asyncio.gather(*(client.disconnect() for client in sockets), return_exceptions=True)
    await queue.cancel(consumer_tag)
    await queue.delete(if_unused=False, if_empty=False)
    await publish_connection.close()
    await amqp.close()
    await mongo.drop_database(database.name)
    await mongo.close()
    await gateway.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["burst", "rate"], default="burst")
    parser.add_argument("--notifications", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--prefetch", type=int, default=250)
    parser.add_argument("--store-pid", type=int)
    asyncio.run(main(parser.parse_args()))
