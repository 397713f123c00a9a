"""Fault tests against the built binary and the local stack, counting every message.

Each flow in turn (notifications, email, graph sync) is killed with SIGKILL while NestJS-style
messages flow, and restarted; then every message's effect is counted.

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
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import pika
import pymongo
from neo4j import GraphDatabase

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "Tests", "support"))
from ports import free_port  # noqa: E402

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


def queue_depths(channel, names):
    return {name: channel.queue_declare(name, passive=True).method.message_count for name in names}


class Service:
    """One `serve <flow>` process, restarted after each kill."""

    PORT_VARIABLES = {"notifications": "NOTIFICATION", "email": "EMAIL_WORKER", "sync": "NEO4JDB_SYNC"}

    def __init__(self, database, work, flow="notifications", extra=None):
        self.flow = flow
        self.port = free_port()
        self.log = os.path.join(work, "serve-%s.log" % flow)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RABBITMQ_URI": RABBITMQ_URI,
            "MONGO_URI": MONGO_URI,
            "MONGO_DB_NAME": database,
            "REDIS_URI": REDIS_URI,
            self.PORT_VARIABLES[flow] + "_HOST": "127.0.0.1",
            self.PORT_VARIABLES[flow] + "_PORT": str(self.port),
            "JWT_ACCESS_TOKEN_SECRET": "fault-test-secret",
            "LOG_LEVEL": os.environ.get("FAULT_LOG_LEVEL", "warning"),
            "DD_SERVICE": "decode-fault-test",
        }
        self.env.update(extra or {})
        self.process = None

    def start(self):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [BIN, "serve", self.flow], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                fail("serve %s exited with %s at start-up" % (self.flow, self.process.returncode), self.log)
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/ready" % self.port, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        fail("serve %s was not ready within 60 s" % self.flow, self.log)

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
                fail("serve %s did not stop within 40 s of SIGTERM" % self.flow, self.log)


def publish_nestjs(queue, pattern, payloads, done):
    """Publishes one NestJS `emit` per payload, no properties at all, at a steady pace."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = connection.channel()
    channel.confirm_delivery()
    for index, data in enumerate(payloads):
        channel.basic_publish("", queue, json.dumps({"pattern": pattern, "data": data}).encode())
        if index % 50 == 49:
            time.sleep(0.02)
    connection.close()
    done.set()


def kill_while_flowing(service, progress, total, label):
    """Kills the service with SIGKILL KILLS times, each after more work is done, and restarts it."""
    for kill in range(KILLS):
        target = (kill + 1) * total // (KILLS + 2)
        deadline = time.time() + 120
        while progress() < target and time.time() < deadline:
            time.sleep(0.02)
        done = progress()
        service.kill()
        print("test_faults: killed serve %s with SIGKILL at %d %s" % (service.flow, done, label), flush=True)
        service.start()


def fresh_queue(channel, queue):
    """Empties the main queue; returns the dead-letter queue's depth now (letters are counted from there)."""
    channel.queue_declare(queue, durable=True)
    channel.queue_purge(queue)
    channel.queue_declare(queue + ".dlq", durable=True)
    return queue_depths(channel, [queue + ".dlq"])[queue + ".dlq"]


def kill_nine_keeps_one_document_per_message(work):
    database = "decode_fault_%d" % random.randrange(1 << 30)
    mongo = pymongo.MongoClient(MONGO_URI)
    collection = mongo[database]["notifications"]
    broker = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = broker.channel()
    letters_before = fresh_queue(channel, QUEUE)
    service = Service(database, work)
    try:
        service.start()
        run = "%08x" % random.randrange(1 << 32)
        titles = ["fault %s %d" % (run, index) for index in range(MESSAGES)]
        users = ["%024x" % random.randrange(1 << 96) for _ in range(10)]
        payloads = [{"user_id": users[index % len(users)], "type": "fault", "title": title, "message": "m"}
                    for index, title in enumerate(titles)]
        published = threading.Event()
        threading.Thread(
            target=publish_nestjs, args=(QUEUE, "create_notification", payloads, published), daemon=True).start()
        kill_while_flowing(service, lambda: collection.count_documents({}), MESSAGES, "stored")
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
        depths[QUEUE + ".dlq"] -= letters_before
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


def kill_nine_sends_each_email_once(work):
    """The email worker under the same kill -9: every request to a distinct address is mailed."""
    emails = int(os.environ.get("FAULT_EMAILS", "600"))
    queue = "email_queue"
    state = os.path.join(work, "smtp")
    os.makedirs(state)
    peer = subprocess.Popen(
        [sys.executable, os.path.join(REPO, "Tests/IntegrationTests/Peers/smtp_peer.py"), "plain", state],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    broker = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = broker.channel()
    letters_before = fresh_queue(channel, queue)
    service = None
    try:
        deadline = time.time() + 30
        while not os.path.exists(os.path.join(state, "port")) and time.time() < deadline:
            time.sleep(0.05)
        with open(os.path.join(state, "port")) as handle:
            smtp_port = handle.read().strip()
        mail_dir = os.path.join(state, "mail")
        run = "%08x" % random.randrange(1 << 32)
        addresses = ["fault-%s-%d@decode.test" % (run, index) for index in range(emails)]
        service = Service("decode_fault_email", work, flow="email", extra={
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_REQUIRE_TLS": "false",
            "SMTP_FROM": "noreply@decode.test", "EMAIL_CLAIM_TTL": "8"})
        service.start()

        def mailed():
            counts = {}
            for name in os.listdir(mail_dir) if os.path.isdir(mail_dir) else []:
                try:
                    with open(os.path.join(mail_dir, name)) as handle:
                        recipients = json.load(handle)["rcpt_tos"]
                except (OSError, ValueError):
                    continue  # being written
                for address in recipients:
                    counts[address] = counts.get(address, 0) + 1
            return counts

        def sent():
            return len(mailed())

        payloads = [{"type": "create-account", "data": {"email": address, "otpCode": "3f9a1c"}}
                    for address in addresses]
        published = threading.Event()
        threading.Thread(target=publish_nestjs, args=(queue, "email_request", payloads, published),
                         daemon=True).start()
        kill_while_flowing(service, sent, emails, "sent")
        published.wait(300)
        # Deferred requests wait in the retry queues until the dead worker's claims expire.
        waiting = [queue] + [queue + ".retry.%d" % attempt for attempt in (1, 2, 3)]
        deadline = time.time() + 240
        while time.time() < deadline:
            depths = queue_depths(channel, waiting + [queue + ".dlq"])
            if all(depths[name] == 0 for name in waiting) and (
                    sent() >= emails or depths[queue + ".dlq"] > letters_before):
                break
            time.sleep(0.2)
        service.stop()
        depths = queue_depths(channel, waiting + [queue + ".dlq"])
        depths[queue + ".dlq"] -= letters_before
        counts = mailed()
        missing = [address for address in addresses if address not in counts]
        doubled = [address for address, count in counts.items() if count > 1]
        print("test_faults: %d email requests, %d kills: %d mails, %d missing, %d sent twice, queue %d, dlq %d"
              % (emails, KILLS, sum(counts.values()), len(missing), len(doubled), depths[queue],
                 depths[queue + ".dlq"]), flush=True)
        if missing:
            fail("%d requests were never mailed (first: %s; dlq %d)" % (len(missing), missing[0],
                                                                       depths[queue + ".dlq"]), service.log)
        if any(depths.values()):
            fail("left in the queues: %s" % depths, service.log)
        ok("kill -9 %d times during %d NestJS email requests: every address mailed, %d twice (a kill between "
           "the server's 250 and the ledger's mark)" % (KILLS, emails, len(doubled)))
    finally:
        if service:
            service.stop()
        peer.terminate()
        peer.wait()
        broker.close()


def kill_nine_keeps_one_node_per_user(work):
    """The graph sync under the same kill -9: every created user has exactly one node."""
    users_count = int(os.environ.get("FAULT_USERS", "1500"))
    queue = "neo4j_sync_queue"
    broker = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    channel = broker.channel()
    letters_before = fresh_queue(channel, queue)
    auth = (os.environ.get("NEO4J_USER", "root"), os.environ.get("NEO4J_PASSWORD", "decode-async-dev"))
    neo4j_uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    ids = ["%024x" % random.randrange(1 << 96) for _ in range(users_count)]
    driver = GraphDatabase.driver(neo4j_uri, auth=auth)
    service = Service("decode_fault_sync", work, flow="sync", extra={
        "NEO4J_URI": neo4j_uri, "NEO4J_USER": auth[0], "NEO4J_PASSWORD": auth[1]})

    def nodes():
        with driver.session() as session:
            return session.run("MATCH (u:User) WHERE u.user_id IN $ids RETURN count(u) AS n", ids=ids).single()["n"]

    try:
        service.start()
        payloads = [{"_id": user, "username": "fault-%d" % index, "display_name": "Fault %d" % index,
                     "role": "user", "avatar_ipfs_hash": "bafk", "email": "f%d@decode.test" % index}
                    for index, user in enumerate(ids)]
        published = threading.Event()
        threading.Thread(target=publish_nestjs, args=(queue, "create_user_request", payloads, published),
                         daemon=True).start()
        kill_while_flowing(service, nodes, users_count, "nodes")
        published.wait(300)
        deadline = time.time() + 180
        while time.time() < deadline:
            if queue_depths(channel, [queue])[queue] == 0 and nodes() >= users_count:
                break
            time.sleep(0.2)
        service.stop()
        depths = queue_depths(channel, [queue, queue + ".dlq"])
        depths[queue + ".dlq"] -= letters_before
        with driver.session() as session:
            counts = {record["id"]: record["n"] for record in session.run(
                "MATCH (u:User) WHERE u.user_id IN $ids RETURN u.user_id AS id, count(u) AS n", ids=ids)}
        missing = [user for user in ids if user not in counts]
        doubled = [user for user, count in counts.items() if count > 1]
        print("test_faults: %d create_user_request, %d kills: %d nodes, %d missing, %d doubled, queue %d, dlq %d"
              % (users_count, KILLS, sum(counts.values()), len(missing), len(doubled), depths[queue],
                 depths[queue + ".dlq"]), flush=True)
        if missing or doubled:
            fail("%d users without a node, %d with more than one" % (len(missing), len(doubled)), service.log)
        if depths[queue] != 0 or depths[queue + ".dlq"] != 0:
            fail("left in the queues: %s" % depths, service.log)
        ok("kill -9 %d times during %d NestJS create_user_request: one node per user, queues empty"
           % (KILLS, users_count))
    finally:
        service.stop()
        with driver.session() as session:
            session.run("UNWIND $ids AS id MATCH (n) WHERE (n:User OR n:UserSyncState) AND n.user_id = id "
                        "DETACH DELETE n", ids=ids).consume()
        driver.close()
        broker.close()


def main():
    if not os.access(BIN, os.X_OK):
        fail("%s is not built (swift build)" % BIN)
    with tempfile.TemporaryDirectory() as work:
        kill_nine_keeps_one_document_per_message(work)
        kill_nine_sends_each_email_once(work)
        kill_nine_keeps_one_node_per_user(work)
    print("%d passed, 0 failed" % passed, flush=True)


if __name__ == "__main__":
    main()
