"""Fault tests against the built binary and the local stack, counting every message.

kill -9 during NestJS-style traffic: `decode-async serve notifications` consumes `notification_queue`
while N `create_notification` emits arrive the way NestJS `ClientProxy.emit` sends them (no
`message_id`, no properties); the process is killed with SIGKILL K times while they flow and
started again each time. Afterwards every message has exactly one document (none lost, none
twice), nothing is dead-lettered and nothing is left in the queue.

Usage: test_faults.py [BIN]   (environment from `scripts/stack env`; FAULT_MESSAGES, FAULT_KILLS)
Prints "test_faults: ok: ..." lines and a closing "N passed, 0 failed"; exits 1 on the first failure.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pika
import pymongo

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build/debug/decode-async")
RABBITMQ_URI = os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")
MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017")
REDIS_URI = os.environ.get("REDIS_URI", "redis://127.0.0.1:6379")
QUEUE = "notification_queue"
MESSAGES = int(os.environ.get("FAULT_MESSAGES", "3000"))
KILLS = int(os.environ.get("FAULT_KILLS", "3"))
passed = 0


def fail(message, log=None):
    print("test_faults: FAIL: " + message, file=sys.stderr, flush=True)
    if log and os.path.exists(log):
        with open(log, errors="replace") as handle:
            for line in handle.readlines()[-40:]:
                print("  serve: " + line.rstrip(), file=sys.stderr)
    print("%d passed, 1 failed" % passed, flush=True)
    sys.exit(1)


def ok(message):
    global passed
    passed += 1
    print("test_faults: ok: " + message, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def queue_depths(channel, names):
    return {name: channel.queue_declare(name, passive=True).method.message_count for name in names}


class Service:
    """One `serve notifications` process, restarted after each kill."""

    def __init__(self, database, work):
        self.port = free_port()
        self.log = os.path.join(work, "serve.log")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RABBITMQ_URI": RABBITMQ_URI,
            "MONGO_URI": MONGO_URI,
            "MONGO_DB_NAME": database,
            "REDIS_URI": REDIS_URI,
            "NOTIFICATION_HOST": "127.0.0.1",
            "NOTIFICATION_PORT": str(self.port),
            "JWT_ACCESS_TOKEN_SECRET": "fault-test-secret",
            "LOG_LEVEL": "warning",
            "DD_SERVICE": "decode-fault-test",
        }
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [BIN, "serve", "notifications"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                fail("serve notifications exited with %s at start-up" % self.process.returncode, self.log)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/ready" % self.port, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        fail("serve notifications was not ready within 60 s", self.log)

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                fail("serve notifications did not stop within 40 s of SIGTERM", self.log)


def publish_nestjs(titles, users, done):
    """Publishes one NestJS `emit` per title, no properties at all, at a steady pace."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = connection.channel()
    channel.confirm_delivery()
    for index, title in enumerate(titles):
        body = {"pattern": "create_notification",
                "data": {"user_id": users[index % len(users)], "type": "fault", "title": title, "message": "m"}}
        channel.basic_publish("", QUEUE, json.dumps(body).encode())
        if index % 50 == 49:
            time.sleep(0.02)
    connection.close()
    done.set()


def kill_nine_keeps_one_document_per_message(work):
    database = "decode_fault_%d" % random.randrange(1 << 30)
    mongo = pymongo.MongoClient(MONGO_URI)
    collection = mongo[database]["notifications"]
    broker = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = broker.channel()
    channel.queue_declare(QUEUE, durable=True)
    channel.queue_purge(QUEUE)
    service = Service(database, work)
    try:
        service.start()
        run = "%08x" % random.randrange(1 << 32)
        titles = ["fault %s %d" % (run, index) for index in range(MESSAGES)]
        users = ["%024x" % random.randrange(1 << 96) for _ in range(10)]
        published = threading.Event()
        publisher = threading.Thread(target=publish_nestjs, args=(titles, users, published), daemon=True)
        publisher.start()
        for kill in range(KILLS):
            # Kill while messages flow: after some more are stored, never at an idle moment.
            target = (kill + 1) * MESSAGES // (KILLS + 2)
            deadline = time.time() + 120
            while collection.count_documents({}) < target and time.time() < deadline:
                time.sleep(0.02)
            stored = collection.count_documents({})
            service.kill()
            print("test_faults: killed serve notifications with SIGKILL at %d stored" % stored, flush=True)
            service.start()
        published.wait(300)
        deadline = time.time() + 180
        while time.time() < deadline:
            depths = queue_depths(channel, [QUEUE])
            if depths[QUEUE] == 0 and collection.count_documents({}) >= MESSAGES:
                break
            time.sleep(0.2)
        # Stopping the consumer returns anything unacknowledged to the queue: count it there.
        service.stop()
        depths = queue_depths(channel, [QUEUE, QUEUE + ".dlq"])
        counts = {}
        for document in collection.find({}, {"title": 1}):
            counts[document["title"]] = counts.get(document["title"], 0) + 1
        missing = [title for title in titles if title not in counts]
        doubled = [title for title, count in counts.items() if count > 1]
        print("test_faults: %d messages, %d kills: %d documents, %d missing, %d doubled, queue %d, dlq %d"
              % (MESSAGES, KILLS, sum(counts.values()), len(missing), len(doubled), depths[QUEUE],
                 depths[QUEUE + ".dlq"]), flush=True)
        if missing:
            fail("%d messages have no document (first: %s)" % (len(missing), missing[0]), service.log)
        if doubled:
            fail("%d messages have more than one document (first: %s)" % (len(doubled), doubled[0]), service.log)
        if depths[QUEUE] != 0 or depths[QUEUE + ".dlq"] != 0:
            fail("left in the queues: %s" % depths, service.log)
        ok("kill -9 %d times during %d NestJS emits (no message_id): one document per message, queues empty"
           % (KILLS, MESSAGES))
    finally:
        service.stop()
        mongo.drop_database(database)
        broker.close()


def main():
    if not os.access(BIN, os.X_OK):
        fail("%s is not built (swift build)" % BIN)
    with tempfile.TemporaryDirectory() as work:
        kill_nine_keeps_one_document_per_message(work)
    print("%d passed, 0 failed" % passed, flush=True)


if __name__ == "__main__":
    main()
