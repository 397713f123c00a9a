"""An independent AMQP peer (pika) for interop tests: it behaves like a NestJS producer/consumer.

  pika_peer.py publish-nest QUEUE PATTERN DATA_JSON   publish as NestJS ClientProxy.emit does
  pika_peer.py get QUEUE                              basic.get one message, print it as JSON
  pika_peer.py publish-dead QUEUE MESSAGE_ID REASON   put a dead letter into QUEUE.dlq, as our consumer does
  pika_peer.py delete QUEUE...                        delete queues
"""

import json
import os
import sys

import pika


def connect():
    uri = os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")
    return pika.BlockingConnection(pika.URLParameters(uri))


def publish_nest(queue, pattern, data_json):
    connection = connect()
    channel = connection.channel()
    # NestJS producers assert their queue with exactly {durable: true} when they connect.
    channel.queue_declare(queue=queue, durable=True)
    body = json.dumps({"pattern": pattern, "data": json.loads(data_json)}, separators=(",", ":"))
    # ClientProxy.emit: no properties at all (transient, no content type, no message id).
    channel.basic_publish(exchange="", routing_key=queue, body=body.encode("utf-8"))
    connection.close()


def get(queue):
    connection = connect()
    channel = connection.channel()
    method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
    if method is None:
        print(json.dumps(None))
    else:
        text = body.decode("utf-8")
        print(
            json.dumps(
                {
                    "body": text,
                    "keys": list(json.loads(text).keys()),
                    "delivery_mode": properties.delivery_mode,
                    "content_type": properties.content_type,
                    "message_id": properties.message_id,
                    "timestamp": properties.timestamp,
                    "headers": properties.headers,
                }
            )
        )
    connection.close()


def publish_dead(queue, message_id, reason):
    connection = connect()
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True)
    channel.queue_declare(queue=queue + ".dlq", durable=True)
    headers = {
        "x-retry-count": 3,
        "x-last-error": reason,
        "x-death-reason": "retries_exhausted",
        "x-original-pattern": "email_request",
        "x-original-queue": queue,
        "x-first-failure-at": "2026-11-29T10:00:00.000Z",
        "x-dead-lettered-at": "2026-11-29T10:00:21.000Z",
        "x-trace": "keep-me",
    }
    body = json.dumps({"pattern": "email_request", "data": {"type": "welcome-message", "data": {"email": "a@b.io"}}})
    properties = pika.BasicProperties(message_id=message_id, delivery_mode=2, headers=headers)
    channel.basic_publish(exchange="", routing_key=queue + ".dlq", body=body.encode("utf-8"), properties=properties)
    connection.close()


def delete(queues):
    connection = connect()
    channel = connection.channel()
    for queue in queues:
        channel.queue_delete(queue=queue)
    connection.close()


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "publish-nest":
        publish_nest(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "get":
        get(sys.argv[2])
    elif command == "publish-dead":
        publish_dead(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "delete":
        delete(sys.argv[2:])
    else:
        sys.exit(f"unknown command {command}")
