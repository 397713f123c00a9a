"""The MongoDB benchmark of `decode-async-bench mongo`, made with pymongo on the same server, so the two
print comparable figures side by side (same documents, same concurrency, CPU time per operation).

  .venv/bin/python scripts/bench_pymongo.py [--documents N] [--concurrency N]
"""

import argparse
import datetime
import os
import resource
import threading
import time
import uuid

import pymongo
from bson import ObjectId


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(name, operations, body):
    cpu = cpu_seconds()
    start = time.perf_counter()
    body()
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    print("pymongo       %s%9.0f ops/s   cpu %7.1f µs/op" % (name.ljust(30), operations / elapsed, cpu / operations * 1e6), flush=True)


def document(index):
    return {
        "user_id": ObjectId(), "type": "new_follow", "title": "You have a new follower",
        "message": "user %d just followed you" % index, "delivered": False, "read": False,
        "createdAt": datetime.datetime.now(datetime.timezone.utc), "__v": 0,
    }


def in_threads(count, concurrency, work):
    threads = [threading.Thread(target=work, args=(task,)) for task in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    client = pymongo.MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017"), maxPoolSize=args.concurrency)
    collection = client["decode_async_bench"]["bench_py_" + uuid.uuid4().hex[:8]]
    count, concurrency = args.documents, args.concurrency
    ids = [None] * count

    def insert(task):
        for index in range(task, count, concurrency):
            ids[index] = collection.insert_one(document(index)).inserted_id

    measure("insertOne, %d threads" % concurrency, count, lambda: in_threads(count, concurrency, insert))

    def insert_many():
        for start in range(0, count, 100):
            collection.insert_many([document(i) for i in range(start, min(start + 100, count))], ordered=False)

    measure("insertMany, batches of 100", count, insert_many)

    def find(task):
        for index in range(task, count, concurrency):
            collection.find_one({"_id": ids[index]})

    measure("findOne by _id, %d threads" % concurrency, count, lambda: in_threads(count, concurrency, find))
    collection.drop()
    client.close()


if __name__ == "__main__":
    main()
