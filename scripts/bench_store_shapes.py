"""What each command shape of the notification flow costs the store (SecantusDB), per document.

For every shape: a fresh collection with the flow's indexes (or only `_id`, where the line says so)
holding --documents documents of the flow's shape for --users users, then the shape applied to each
of them, and the CPU time the store process spent on it (/proc/<pid>/stat, per document and per
command), with the plan the store's own `explain` reports for its filter. Never fails on timing.

  .venv/bin/python scripts/bench_store_shapes.py [--documents N] [--users N] [--batch N] [--store-pid PID]
"""

import argparse
import datetime
import hashlib
import os
import sys
import time
import uuid

import pymongo
from bson import ObjectId

sys.path.insert(0, os.path.dirname(__file__))
from bench_notifications_python import find_store_pid, store_cpu_seconds  # noqa: E402

# The flow's indexes (NotificationStore.ensureIndexes), `_id` aside.
FLOW_INDEXES = [
    pymongo.IndexModel([("user_id", 1), ("createdAt", -1)], name="user_id_1_createdAt_-1"),
    pymongo.IndexModel([("user_id", 1), ("read", 1)], name="user_id_1_read_1"),
    pymongo.IndexModel(
        [("user_id", 1), ("delivered", 1), ("createdAt", 1)], name="user_id_1_delivered_1_createdAt_1"
    ),
    pymongo.IndexModel(
        [("message_id", 1)],
        name="message_id_unique",
        unique=True,
        partialFilterExpression={"message_id": {"$exists": True}},
    ),
]


def document(user, index, now, hashed=True):
    doc = {
        "_id": ObjectId(),
        "user_id": user,
        "type": "new_follow",
        "title": "You have a new follower",
        "message": "user %d just followed you" % index,
        "delivered": False,
        "delivered_at": None,
        "read": False,
        "read_at": None,
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }
    if hashed:
        doc["message_hash"] = hashlib.sha256(b"%d" % index).hexdigest()
    return doc


class Bench:
    def __init__(self, args):
        self.args = args
        self.pid = find_store_pid(args.store_pid)
        self.client = pymongo.MongoClient(
            os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017"), directConnection=True
        )
        self.database = self.client["decode_bench_shapes_" + uuid.uuid4().hex[:8]]
        self.users = [ObjectId() for _ in range(args.users)]

    def collection(self, indexes=True, fill=True, hashed=True):
        collection = self.database["n_" + uuid.uuid4().hex[:8]]
        collection.insert_one({"_id": "probe"})
        collection.delete_one({"_id": "probe"})
        if indexes:
            collection.create_indexes(FLOW_INDEXES)
        docs = []
        if fill:
            now = datetime.datetime.now(datetime.timezone.utc)
            docs = [
                document(self.users[i % len(self.users)], i, now, hashed) for i in range(self.args.documents)
            ]
            for start in range(0, len(docs), 500):
                collection.insert_many(docs[start : start + 500], ordered=False)
        return collection, docs

    def measure(self, name, documents, commands, body, plan=""):
        settle = time.monotonic() + 5
        while time.monotonic() < settle:  # until the store is idle (its own background work)
            before = store_cpu_seconds(self.pid)
            time.sleep(0.2)
            if before is None or store_cpu_seconds(self.pid) - before < 0.005:
                break
        cpu = store_cpu_seconds(self.pid)
        start = time.perf_counter()
        body()
        elapsed = time.perf_counter() - start
        spent = None if cpu is None else store_cpu_seconds(self.pid) - cpu
        per_doc = "n/a" if spent is None else "%7.3f ms" % (spent / documents * 1e3)
        per_cmd = "n/a" if spent is None else "%8.2f ms" % (spent / commands * 1e3)
        print(
            "%-64s store cpu/doc %s  /command %s  %7.0f docs/s  %s"
            % (name, per_doc, per_cmd, documents / elapsed, plan),
            flush=True,
        )

    def plan(self, collection, filter_, sort=None):
        """The store's winning plan for `filter_`: its stage and index, if it reports one."""
        try:
            cursor = collection.find(filter_)
            if sort:
                cursor = cursor.sort(sort)
            winning = cursor.explain().get("queryPlanner", {}).get("winningPlan", {})
        except pymongo.errors.PyMongoError as error:
            return "explain: %s" % type(error).__name__
        stages = []
        while winning:
            stages.append(winning.get("stage", "?") + ("(%s)" % winning["indexName"] if "indexName" in winning else ""))
            winning = winning.get("inputStage") or {}
        return "plan " + ">".join(stages)

    def run(self):
        n, batch = self.args.documents, self.args.batch
        now = datetime.datetime.now(datetime.timezone.utc)

        def chunks(docs):
            return [docs[i : i + batch] for i in range(0, len(docs), batch)]

        print("-- inserts (%d documents, %d users)" % (n, len(self.users)))
        for indexes, label in ((False, "_id only"), (True, "flow indexes")):
            collection, _ = self.collection(indexes=indexes, fill=False)
            docs = [document(self.users[i % len(self.users)], i, now, indexes) for i in range(n)]
            self.measure("insert_one each, %s" % label, n, n, lambda: [collection.insert_one(d) for d in docs])
            collection, _ = self.collection(indexes=indexes, fill=False)
            docs = [document(self.users[i % len(self.users)], i, now, indexes) for i in range(n)]
            self.measure(
                "insertMany of %d, %s" % (batch, label),
                n,
                len(chunks(docs)),
                lambda: [collection.insert_many(c, ordered=False) for c in chunks(docs)],
            )

        print("-- recording deliveries: set delivered, delivered_at, updatedAt, acknowledged_at, unset message_hash")
        stamp = {"delivered": True, "delivered_at": now, "updatedAt": now, "acknowledged_at": now}
        update = {"$set": stamp, "$unset": {"message_hash": ""}}
        shapes = [
            ("updateMany {_id: {$in}, delivered: false}", lambda ids: {"_id": {"$in": ids}, "delivered": False}),
            ("updateMany {_id: {$in}, delivered: {$eq: false}}", lambda ids: {"_id": {"$in": ids}, "delivered": {"$eq": False}}),
            ("updateMany {_id: {$in}}", lambda ids: {"_id": {"$in": ids}}),
            (
                "updateMany {$and: [{_id: {$in}}, {delivered: false}]}",
                lambda ids: {"$and": [{"_id": {"$in": ids}}, {"delivered": False}]},
            ),
        ]
        for label, shape in shapes:
            collection, docs = self.collection()
            ids = [d["_id"] for d in docs]
            self.measure(
                label + ", batches of %d" % batch,
                n,
                len(chunks(ids)),
                lambda: [collection.update_many(shape(c), update) for c in chunks(ids)],
                self.plan(collection, shape(ids[:batch])),
            )
        for label, shape in (
            ("update cmd, one {q: {_id: X}} per doc", lambda i: {"_id": i}),
            ("update cmd, one {q: {_id: X, delivered: false}} per doc", lambda i: {"_id": i, "delivered": False}),
        ):
            collection, docs = self.collection()
            ids = [d["_id"] for d in docs]
            self.measure(
                label + ", %d per command" % batch,
                n,
                len(chunks(ids)),
                lambda: [
                    collection.bulk_write([pymongo.UpdateOne(shape(i), update) for i in c], ordered=False)
                    for c in chunks(ids)
                ],
                self.plan(collection, shape(ids[0])),
            )
        collection, docs = self.collection()
        ids = [d["_id"] for d in docs]
        self.measure(
            "findAndModify {_id: X, delivered: false} each",
            n,
            n,
            lambda: [collection.find_one_and_update({"_id": i, "delivered": False}, update) for i in ids],
        )
        collection, docs = self.collection(indexes=False)
        ids = [d["_id"] for d in docs]
        self.measure(
            "updateMany {_id: {$in}, delivered: false}, _id index only",
            n,
            len(chunks(ids)),
            lambda: [collection.update_many({"_id": {"$in": c}, "delivered": False}, update) for c in chunks(ids)],
        )

        print("-- the other writes of the flow, each alone")
        collection, docs = self.collection()
        ids = [d["_id"] for d in docs]
        self.measure(
            "ack alone: updateMany {_id: {$in}, acknowledged_at: null}",
            n,
            len(chunks(ids)),
            lambda: [
                collection.update_many({"_id": {"$in": c}, "acknowledged_at": None}, {"$set": {"acknowledged_at": now}})
                for c in chunks(ids)
            ],
        )
        collection, docs = self.collection()
        ids = [d["_id"] for d in docs]
        self.measure(
            "hash alone: updateMany {_id: {$in}, message_hash: {$exists}}",
            n,
            len(chunks(ids)),
            lambda: [
                collection.update_many(
                    {"_id": {"$in": c}, "message_hash": {"$exists": True}}, {"$unset": {"message_hash": ""}}
                )
                for c in chunks(ids)
            ],
        )
        collection, docs = self.collection()
        ids = [d["_id"] for d in docs]
        self.measure(
            "no-op: updateMany {_id: {$in}, delivered: true} (nothing matches)",
            n,
            len(chunks(ids)),
            lambda: [collection.update_many({"_id": {"$in": c}, "delivered": True}, update) for c in chunks(ids)],
        )

        print("-- reads (each user holds %d unread documents)" % (n // len(self.users)))
        collection, docs = self.collection()
        rounds = 5
        unread = {"user_id": self.users[0], "read": False}
        calls = rounds * len(self.users)
        self.measure(
            "unread count: aggregate $match {user_id, read: false} $group",
            calls * (n // len(self.users)),
            calls,
            lambda: [
                collection.count_documents({"user_id": u, "read": False}) for _ in range(rounds) for u in self.users
            ],
            self.plan(collection, unread),
        )
        self.measure(
            "unread count: count command {user_id, read: false}",
            calls * (n // len(self.users)),
            calls,
            lambda: [
                self.database.command("count", collection.name, query={"user_id": u, "read": False})
                for _ in range(rounds)
                for u in self.users
            ],
        )
        self.measure(
            "unread count: count command with hint user_id_1_read_1",
            calls * (n // len(self.users)),
            calls,
            lambda: [
                self.database.command(
                    "count", collection.name, query={"user_id": u, "read": False}, hint="user_id_1_read_1"
                )
                for _ in range(rounds)
                for u in self.users
            ],
        )
        self.measure(
            "unread counts of all users: one aggregate $in + $group",
            calls * (n // len(self.users)),
            rounds,
            lambda: [
                list(
                    collection.aggregate(
                        [
                            {"$match": {"user_id": {"$in": self.users}, "read": False}},
                            {"$group": {"_id": "$user_id", "n": {"$sum": 1}}},
                        ]
                    )
                )
                for _ in range(rounds)
            ],
            self.plan(collection, {"user_id": {"$in": self.users}, "read": False}),
        )
        since = now - datetime.timedelta(hours=1)
        match = {"user_id": self.users[0], "createdAt": {"$gte": since}, "message_hash": docs[0]["message_hash"]}
        self.measure(
            "redelivery match {user_id, createdAt $gte, message_hash}",
            len(self.users),
            len(self.users),
            lambda: [
                list(
                    collection.find(
                        {"user_id": u, "createdAt": {"$gte": since}, "message_hash": docs[0]["message_hash"]}
                    )
                    .sort([("createdAt", 1), ("_id", 1)])
                    .limit(50)
                )
                for u in self.users
            ],
            self.plan(collection, match, [("createdAt", 1), ("_id", 1)]),
        )
        self.measure(
            "replay read {user_id, delivered: false} sort createdAt limit 50",
            len(self.users),
            len(self.users),
            lambda: [
                list(
                    collection.find({"user_id": u, "delivered": False}).sort([("createdAt", 1), ("_id", 1)]).limit(50)
                )
                for u in self.users
            ],
            self.plan(collection, {"user_id": self.users[0], "delivered": False}, [("createdAt", 1), ("_id", 1)]),
        )
        self.client.drop_database(self.database.name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--store-pid", type=int)
    Bench(parser.parse_args()).run()


if __name__ == "__main__":
    main()
