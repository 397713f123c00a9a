"""An unmodified python-socketio client playing a Decode frontend against our gateway.

Usage: socketio_peer.py URL TOKEN TRANSPORTS SCENARIO TOKEN_IN STAY_SECONDS
  TRANSPORTS  default (long-polling, then upgrade) or websocket
  SCENARIO    session: connect, answer the server's `notification_received` with an ack, call
              `mark_notification_read` and `echo` (after staying connected across ping intervals),
              disconnect.
              refused: connect with a bad token and record what the server does.
              collect:N: receive N notification_received events (acking each), then stay.
              read:ID: send mark_notification_read for ID, then stay.
  TOKEN_IN    auth (the CONNECT auth payload) or header (Authorization: Bearer)
  STAY        seconds to stay connected before the last call (several ping intervals)
       socketio_peer.py oversized URL BYTES
              sends one WebSocket message of BYTES bytes and reports the close code.
Prints one JSON object: what happened, for the Swift test to check.
"""
import json
import sys
import threading
import time

import socketio

NAMESPACE = "/notifications"


def oversized(url, size):
    """Raw Engine.IO over WebSocket: one message larger than maxPayload; report the close code."""
    import websocket

    ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", timeout=10)
    opened = ws.recv()
    ws.send("4" + "a" * int(size))
    report = {"open": opened[:1]}
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                report["close_code"] = int.from_bytes(data[:2], "big")
                break
    except Exception as error:  # the server may drop the connection right after its close frame
        report.setdefault("error", type(error).__name__)
    print(json.dumps(report))


def main():
    if sys.argv[1] == "oversized":
        oversized(sys.argv[2], sys.argv[3])
        return
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

    def recorder(name):
        def record(payload):
            report["events"].append({"event": name, "payload": payload})

        return record

    for name in ("user_connected", "error", "notification_read", "unread_count_changed"):
        sio.on(name, recorder(name), namespace=NAMESPACE)

    @sio.on("notification_received", namespace=NAMESPACE)
    def on_notification(payload):
        report["events"].append({"event": "notification_received", "payload": payload})
        received.set()
        return {"received": True}

    # The server's DISCONNECT packet, seen even when it arrives before connect() returned (the
    # client then skips its "disconnect" handler: a race inside python-socketio itself).
    handle_disconnect = sio._handle_disconnect

    def record_disconnect(namespace, *args):
        refused.set()
        return handle_disconnect(namespace, *args)

    sio._handle_disconnect = record_disconnect

    kwargs = {"namespaces": [NAMESPACE], "wait_timeout": 30}
    if use_header:
        kwargs["headers"] = {"Authorization": "Bearer " + token}
    else:
        kwargs["auth"] = {"token": token}
    if transports == "websocket":
        kwargs["transports"] = ["websocket"]
    sio.connect(url, **kwargs)

    if scenario.startswith("collect:"):
        # Collect N notification_received events (acking each), then stay STAY seconds to see
        # whether any arrives twice.
        wanted = int(scenario.split(":")[1])
        deadline = time.time() + 40
        while time.time() < deadline and len([e for e in report["events"] if e["event"] == "notification_received"]) < wanted:
            time.sleep(0.05)
        time.sleep(float(stay))
    elif scenario.startswith("read:"):
        # Mark a notification read over the socket; record the answer events.
        report["ack"] = sio.call(
            "mark_notification_read", {"notificationId": scenario.split(":", 1)[1]}, namespace=NAMESPACE, timeout=30
        )
        time.sleep(float(stay))
    elif scenario == "refused":
        # The server, not this client, must end the namespace connection.
        report["server_disconnected"] = refused.wait(30)
    elif scenario == "session":
        if not received.wait(40):
            report["timeout"] = "no notification_received"
        report["mark_read_reply"] = sio.call(
            "mark_notification_read", {"notificationId": "665f1c2e9b1d4a00000000aa"}, namespace=NAMESPACE, timeout=30
        )
        # Stay across several ping intervals; the connection must survive them.
        time.sleep(float(stay))
        report["echo_reply"] = sio.call("echo", {"still": "here"}, namespace=NAMESPACE, timeout=30)
        report["transport"] = sio.transport()
    report["connected_at_end"] = sio.connected
    sio.disconnect()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
