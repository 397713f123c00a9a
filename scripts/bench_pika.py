"""The AMQP benchmark of `decode-async-bench amqp`, made with Python pika on the same broker, so the
two print comparable figures side by side (same message count, size, queue options, prefetch).

  .venv/bin/python scripts/bench_pika.py [--messages N] [--size BYTES]
"""

import argparse
import os
import threading
import time
import uuid

import pika


def report(name, count, elapsed, latencies=None):
    line = "pika          " + name.ljust(26) + "%10.0f msg/s" % (count / elapsed if elapsed > 0 else 0)
    if latencies:
        ordered = sorted(latencies)
        p50 = ordered[len(ordered) // 2]
        p99 = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]
        line += "   p50 %7.3f ms   p99 %7.3f ms" % (p50 * 1000, p99 * 1000)
    print(line, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    uri = os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")
    queue = "bench.pika." + uuid.uuid4().hex[:8]
    body = b"x" * args.size
    persistent = pika.BasicProperties(delivery_mode=2)

    connection = pika.BlockingConnection(pika.URLParameters(uri))
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    channel.confirm_delivery()

    latencies = []
    start = time.perf_counter()
    for _ in range(args.messages):
        sent = time.perf_counter()
        channel.basic_publish(exchange="", routing_key=queue, body=body, properties=persistent)
        latencies.append(time.perf_counter() - sent)
    report("publish, confirm each", args.messages, time.perf_counter() - start, latencies)

    consumer = connection.channel()
    consumer.basic_qos(prefetch_count=100)
    consumed = 0
    start = time.perf_counter()
    for method, _, _ in consumer.consume(queue):
        consumer.basic_ack(method.delivery_tag)
        consumed += 1
        if consumed == args.messages:
            break
    consumer.cancel()
    report("consume and ack", consumed, time.perf_counter() - start)

    # Publish-to-consume latency: a consumer thread with its own connection.
    samples = min(args.messages, 2000)
    received = threading.Semaphore(0)

    def consume():
        own = pika.BlockingConnection(pika.URLParameters(uri))
        own_channel = own.channel()
        own_channel.basic_qos(prefetch_count=100)
        count = 0
        for method, _, _ in own_channel.consume(queue):
            own_channel.basic_ack(method.delivery_tag)
            received.release()
            count += 1
            if count == samples:
                break
        own_channel.cancel()
        own.close()

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.2)
    latencies = []
    start = time.perf_counter()
    for _ in range(samples):
        sent = time.perf_counter()
        channel.basic_publish(exchange="", routing_key=queue, body=body, properties=persistent)
        received.acquire()
        latencies.append(time.perf_counter() - sent)
    report("publish to consume", samples, time.perf_counter() - start, latencies)
    thread.join()
    channel.queue_delete(queue=queue)
    connection.close()


if __name__ == "__main__":
    main()
