"""An independent AMQP peer (pika) for interop tests: it behaves like a NestJS producer/consumer.

  pika_peer.py publish-nest QUEUE PATTERN DATA_JSON   publish as NestJS ClientProxy.emit does
  pika_peer.py get QUEUE                              basic.get one message, print it as JSON
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


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "publish-nest":
        publish_nest(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "get":
        get(sys.argv[2])
    else:
        sys.exit(f"unknown command {command}")
