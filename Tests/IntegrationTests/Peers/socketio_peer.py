"""An unmodified python-socketio client playing a Decode frontend against our gateway.

Usage: socketio_peer.py URL TOKEN TRANSPORTS SCENARIO TOKEN_IN STAY_SECONDS
  TRANSPORTS  default (long-polling, then upgrade) or websocket
  SCENARIO    session: connect, answer the server's `notification_received` with an ack, call
              `mark_notification_read` and `echo` (after staying connected across ping intervals),
              disconnect.
              refused: connect with a bad token and record what the server does.
  TOKEN_IN    auth (the CONNECT auth payload) or header (Authorization: Bearer)
  STAY        seconds to stay connected before the last call (several ping intervals)
Prints one JSON object: what happened, for the Swift test to check.
"""
import json
import sys
import threading
import time

import socketio

NAMESPACE = "/notifications"


def main():
    url, token, transports, scenario, token_in, stay = sys.argv[1:7]
    use_header = token_in == "header"
    sio = socketio.Client(reconnection=False)
    report = {"events": [], "connected": False, "disconnected": False}
    received = threading.Event()
    refused = threading.Event()

    @sio.on("connect", namespace=NAMESPACE)
    def on_connect():
        report["connected"] = True

    @sio.on("disconnect", namespace=NAMESPACE)
    def on_disconnect(*args):
        report["disconnected"] = True
        refused.set()

    @sio.on("user_connected", namespace=NAMESPACE)
    def on_user_connected(payload):
        report["events"].append({"event": "user_connected", "payload": payload})

    @sio.on("error", namespace=NAMESPACE)
    def on_error(payload):
        report["events"].append({"event": "error", "payload": payload})

    @sio.on("notification_received", namespace=NAMESPACE)
    def on_notification(payload):
        report["events"].append({"event": "notification_received", "payload": payload})
        received.set()
        return {"received": True}

    kwargs = {"namespaces": [NAMESPACE], "wait_timeout": 10}
    if use_header:
        kwargs["headers"] = {"Authorization": "Bearer " + token}
    else:
        kwargs["auth"] = {"token": token}
    if transports == "websocket":
        kwargs["transports"] = ["websocket"]
    sio.connect(url, **kwargs)

    if scenario == "refused":
        refused.wait(10)
    elif scenario == "session":
        if not received.wait(20):
            report["timeout"] = "no notification_received"
        report["mark_read_reply"] = sio.call(
            "mark_notification_read", {"notificationId": "665f1c2e9b1d4a00000000aa"}, namespace=NAMESPACE, timeout=10
        )
        # Stay across several ping intervals; the connection must survive them.
        time.sleep(float(stay))
        report["echo_reply"] = sio.call("echo", {"still": "here"}, namespace=NAMESPACE, timeout=10)
        report["transport"] = sio.transport()
    report["connected_at_end"] = sio.connected
    sio.disconnect()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
