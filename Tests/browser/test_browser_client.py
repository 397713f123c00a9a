"""Browser tests: the official Socket.IO JavaScript client (4.8.1, the one the frontend runs) in
Debian's chromium, driven by Playwright, against the built `decode-async serve notifications`.

The page is served from another origin (its own port) and loads the client extracted by
`scripts/stack install` from the PyPI wheel nicegui==3.18.0. Each test has its own browser context.
Protocol facts are checked by what the client saw and in what order (the `upgrade` before the first
ping, the first frame of a WebSocket-only session), never by how long something took; the only
clocks are bounds on waiting, well below the 25 s ping interval that a stalled upgrade waits for.

Usage: test_browser_client.py [BIN]   (environment from `scripts/stack env`)
Prints "test_browser: ok: ..." per test and a closing "N passed, N failed"; exits 1 on any failure.
"""
import base64
import functools
import hashlib
import hmac
import http.server
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pika
import pymongo
import websocket
from playwright.sync_api import sync_playwright

import harness
from harness import check, free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build/debug/decode-async")
RABBITMQ_URI = os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")
MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017")
REDIS_URI = os.environ.get("REDIS_URI", "redis://127.0.0.1:6379")
CLIENT_JS = os.environ.get("SOCKETIO_CLIENT_JS", os.path.join(REPO, ".stack/browser/socket.io.min.js"))
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
SECRET = "browser-test-secret"
# Bounds on waiting: far below the ping interval (25 s) that a stalled upgrade would wait for.
WAIT_MS = 10_000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><script src="/socket.io.min.js"></script></head><body><script>
window.log = [];
window.holdUpgrade = false;
window.holdProbe = false;
let heldProbe = null;
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  // A tab that goes away mid-upgrade: the client's `upgrade` packet is held back.
  if (window.holdUpgrade && data === "5") { note("upgrade_held"); return; }
  // The probe held until the session is idle, so that it finds a parked poll with nothing to send.
  if (window.holdProbe && data === "2probe") { note("probe_held"); heldProbe = () => realSend.call(this, data); return; }
  return realSend.call(this, data);
};
window.releaseProbe = function () { window.holdProbe = false; note("probe_released"); heldProbe(); };
function note(name, arg) {
  const engine = window.socket && window.socket.io.engine;
  window.log.push({name: name, arg: arg === undefined ? null : arg,
                   transport: engine && engine.transport ? engine.transport.name : null});
}
function watchEngine(engine) {
  engine.on("upgrading", (t) => note("upgrading", t.name));
  engine.on("upgrade", (t) => note("upgrade", t.name));
  engine.on("upgradeError", (e) => note("upgradeError", String(e)));
  engine.on("packet", (p) => { if (p.type === "ping" || p.type === "noop") note(p.type); });
}
window.start = function (url, token, transports) {
  const options = {auth: {token: token}};
  if (transports) options.transports = transports;
  const socket = io(url, options);
  window.socket = socket;
  watchEngine(socket.io.engine);
  socket.io.on("open", () => { if (socket.io.engine !== window.watched) { window.watched = socket.io.engine; } });
  socket.io.on("reconnect_attempt", () => note("reconnect_attempt"));
  socket.on("connect", () => note("connect"));
  socket.on("connect_error", (e) => note("connect_error", String(e)));
  socket.on("disconnect", (reason) => note("disconnect", reason));
  socket.on("user_connected", (p) => note("user_connected", p));
  socket.on("error", (p) => note("error", p));
  socket.on("notification_read", (p) => note("notification_read", p));
  socket.on("notification_received", (p, ack) => {
    note("notification_received", p);
    if (typeof ack === "function") ack({received: true});
  });
};
window.reconnect = function () {
  window.socket.connect();
  watchEngine(window.socket.io.engine);
};
window.markRead = function (id) {
  return new Promise((resolve) => {
    window.socket.emit("mark_notification_read", {notificationId: id}, (...args) => resolve(args));
  });
};
window.rest = async function (url, token) {
  const answer = await fetch(url, {headers: {Authorization: "Bearer " + token}});
  return {status: answer.status, body: await answer.json()};
};
</script></body></html>
"""

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(user_id, secret=SECRET):
    """An HS256 access token as the auth service mints it."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"user_id": user_id, "iss": "decode-auth-service", "aud": "decode-frontend",
              "iat": int(time.time()), "exp": int(time.time()) + 3600}
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), ("%s.%s" % (header, payload)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (header, payload, b64url(signature))


def new_user():
    return "%024x" % random.randrange(1 << 96)


def redis_exists(key):
    """EXISTS over RESP (the gateway's own "is online" check, COMPAT.md 3.5)."""
    host_port = REDIS_URI.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    with socket.create_connection((host, int(port or 6379)), timeout=5) as connection:
        connection.sendall(("*2\r\n$6\r\nEXISTS\r\n$%d\r\n%s\r\n" % (len(key), key)).encode())
        answer = connection.recv(64)
    return answer.startswith(b":1")


def wait_until(predicate, what, seconds=WAIT_MS / 1000):
    harness.wait_until(predicate, what, seconds)


class Service:
    """`decode-async serve notifications` on a free port, with its own database."""

    def __init__(self, work):
        self.port = free_port()
        self.database = "decode_browser_%d" % random.randrange(1 << 30)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RABBITMQ_URI": RABBITMQ_URI,
            "MONGO_URI": MONGO_URI,
            "MONGO_DB_NAME": self.database,
            "REDIS_URI": REDIS_URI,
            "NOTIFICATION_HOST": "127.0.0.1",
            "NOTIFICATION_PORT": str(self.port),
            "JWT_ACCESS_TOKEN_SECRET": SECRET,
            "LOG_LEVEL": os.environ.get("BROWSER_LOG_LEVEL", "warning"),
            "DD_SERVICE": "decode-browser-test",
        }
        self.served = harness.Served(BIN, ["serve", "notifications"], env, os.path.join(work, "serve.log"), REPO)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.served.start([self.port], 60)

    def stop(self):
        self.served.stop()

    def tail(self):
        return self.served.tail(30)


class PageServer:
    """The test page on another origin (its own port), with the official client beside it."""

    def __init__(self, work):
        root = os.path.join(work, "site")
        os.makedirs(root)
        with open(os.path.join(root, "index.html"), "w") as page:
            page.write(PAGE)
        shutil.copy(CLIENT_JS, os.path.join(root, "socket.io.min.js"))

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/index.html" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


class Tab:
    """One browser context and page, with what its console and sockets showed."""

    def __init__(self, browser, page_url, service):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.service = service
        self.console_errors = []
        self.websockets = []
        self.first_frames = {}
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("response", lambda r: r.status >= 400 and self.console_errors.append(
            "%s %s -> %d" % (r.request.method, r.url, r.status)))
        self.page.on("websocket", self._websocket)
        self.page.goto(page_url)

    def _websocket(self, ws):
        self.websockets.append(ws.url)
        ws.on("framereceived", lambda payload: self.first_frames.setdefault(ws.url, payload))

    def start(self, user_token, transports=None):
        self.page.evaluate("([u, t, tr]) => start(u, t, tr)", [self.service.base + "/notifications", user_token,
                                                               transports])

    def log(self):
        return self.page.evaluate("window.log")

    def names(self):
        return [entry["name"] for entry in self.log()]

    def wait_for(self, js_predicate, what):
        try:
            self.page.wait_for_function(js_predicate, timeout=WAIT_MS)
        except Exception:
            raise AssertionError("timed out waiting for %s; page log: %s" % (what, json.dumps(self.log())[:2000]))

    def wait_for_event(self, name, count=1):
        self.wait_for("() => window.log.filter(e => e.name === %s).length >= %d" % (json.dumps(name), count),
                      "%d x %s" % (count, name))

    def events(self, name):
        return [entry for entry in self.log() if entry["name"] == name]

    def close(self):
        self.context.close()


def publish(user_id, title):
    """`create_notification` as NestJS `ClientProxy.emit` sends it: no properties at all."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        body = {"pattern": "create_notification",
                "data": {"user_id": user_id, "type": "browser", "title": title, "message": "m " + title}}
        channel.basic_publish("", "notification_queue", json.dumps(body).encode())
    finally:
        connection.close()


# ---------------------------------------------------------------- the tests


def websocket_only_session_advertises_no_upgrade(ctx):
    tab = ctx.tab()
    user = new_user()
    tab.start(token(user), ["websocket"])
    tab.wait_for_event("user_connected")
    check(len(tab.websockets) == 1, "a WebSocket-only client opened %d WebSockets: %s" % (len(tab.websockets),
                                                                                          tab.websockets))
    first = tab.first_frames.get(tab.websockets[0], "")
    check(first.startswith("0"), "first frame is not the open packet: %r" % first)
    check(json.loads(first[1:])["upgrades"] == [], "WebSocket session advertises upgrades: %s" % first)
    check("upgradeError" not in tab.names(), "upgrade error: %s" % tab.log())
    connected = tab.events("user_connected")[0]["arg"]
    check(connected["data"]["userId"] == user and connected["event"] == "user_connected", "user_connected %s" % connected)
    check(tab.events("user_connected")[0]["transport"] == "websocket", "transport is not websocket")
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def polling_session_upgrades_before_the_first_ping(ctx):
    tab = ctx.tab()
    user = new_user()
    tab.page.evaluate("window.holdProbe = true")
    tab.start(token(user))
    tab.wait_for_event("user_connected")
    tab.wait_for_event("probe_held")
    # Nothing left to send: the client's next poll parks (a pause for that, not an assertion).
    tab.page.wait_for_timeout(500)
    tab.page.evaluate("releaseProbe()")
    # Without the probe's noop the parked poll is released only by the ping at pingInterval.
    tab.wait_for("() => window.log.some(e => e.name === 'upgrade' || e.name === 'ping')", "upgrade or ping")
    names = tab.names()
    check("upgrade" in names and ("ping" not in names or names.index("upgrade") < names.index("ping")),
          "the upgrade waited for a ping: %s" % names)
    # The poll the client waits on while it pauses polling ends with a noop, between the probe answer
    # and `upgrade` (the parked poll's noop may arrive before `3probe`: another connection).
    check("upgrading" in names and names.index("probe_released") < names.index("upgrading")
          and "noop" in names[names.index("upgrading"):names.index("upgrade")], "order: %s" % names)
    check([url for url in tab.websockets if "sid=" in url] == tab.websockets and len(tab.websockets) == 1,
          "probe sockets: %s" % tab.websockets)
    # A notification published after connect arrives on the WebSocket.
    publish(user, "after upgrade")
    tab.wait_for_event("notification_received")
    check(tab.events("notification_received")[0]["transport"] == "websocket", "notification not on the WebSocket")
    check("upgradeError" not in names, "upgrade error: %s" % names)
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def forged_token_is_refused_once(ctx):
    tab = ctx.tab()
    for transports in (None, ["websocket"]):
        tab.page.reload()
        tab.start(token(new_user(), secret="not-the-secret"), transports)
        tab.wait_for_event("disconnect")
        errors = tab.events("error")
        check(errors and errors[0]["arg"]["error"]["code"] == "INVALID_TOKEN", "error event: %s" % tab.log())
        check(tab.events("disconnect")[0]["arg"] == "io server disconnect", "disconnect: %s" % tab.log())
        # Over a second, nothing tries again (a reconnect loop would show attempts or a new connect).
        tab.page.wait_for_timeout(1500)
        check("reconnect_attempt" not in tab.names() and len(tab.events("error")) == 1,
              "reconnect loop: %s" % tab.names())
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def notification_contract_and_mark_read(ctx):
    tab = ctx.tab()
    user = new_user()
    tab.start(token(user))
    tab.wait_for_event("user_connected")
    publish(user, "contract")
    tab.wait_for_event("notification_received")
    payload = tab.events("notification_received")[0]["arg"]
    check(payload["event"] == "notification_received" and payload["userId"] == user, "envelope: %s" % payload)
    check(set(payload) == {"event", "data", "timestamp", "userId"}, "envelope keys: %s" % sorted(payload))
    data = payload["data"]
    fields = {"id", "user_id", "type", "title", "message", "delivered", "delivered_at", "read", "read_at",
              "createdAt", "updatedAt"}
    check(fields <= set(data), "missing fields: %s" % (fields - set(data)))
    check(data["delivered"] is False and data["delivered_at"] is None and data["read"] is False,
          "state before delivery: %s" % data)
    check(data["user_id"] == user and data["title"] == "contract", "data: %s" % data)
    ack = tab.page.evaluate("(id) => markRead(id)", data["id"])
    check(ack == [{"success": True}], "mark_notification_read ack: %s" % ack)
    tab.wait_for_event("notification_read")
    read = tab.events("notification_read")[0]["arg"]
    check(read["event"] == "mark_notification_read" and read["data"] == {"notificationId": data["id"]},
          "notification_read: %s" % read)
    stored = ctx.mongo[ctx.service.database]["notifications"].find_one({"title": "contract"})
    check(stored is not None and stored.get("read") is True, "not read in MongoDB: %s" % stored)
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def cross_origin_rest_with_preflight(ctx):
    tab = ctx.tab()
    user = new_user()
    publish(user, "rest")
    database = ctx.mongo[ctx.service.database]["notifications"]
    wait_until(lambda: database.count_documents({"title": "rest"}) > 0, "the notification stored")
    answer = tab.page.evaluate("([u, t]) => rest(u, t)", [ctx.service.base + "/notifications?page=0&limit=10",
                                                          token(user)])
    check(answer["status"] == 200, "GET /notifications from another origin: %s" % answer)
    check("rest" in json.dumps(answer["body"]), "list body: %s" % answer["body"])
    # The preflight the browser sent, as seen from outside.
    request = urllib.request.Request(ctx.service.base + "/notifications", method="OPTIONS", headers={
        "Origin": ctx.page_origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    with urllib.request.urlopen(request, timeout=5) as preflight:
        allowed = preflight.headers.get("Access-Control-Allow-Origin")
        headers = (preflight.headers.get("Access-Control-Allow-Headers") or "").lower()
    check(allowed in (ctx.page_origin, "*") and "authorization" in headers, "preflight: %s %s" % (allowed, headers))
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def reconnect_replays_the_backlog_once_oldest_first(ctx):
    tab = ctx.tab()
    user = new_user()
    tab.start(token(user))
    # Connected (the server's connect path done) and upgraded, before going offline.
    tab.wait_for_event("user_connected")
    tab.wait_for_event("upgrade")
    tab.page.evaluate("window.socket.disconnect()")
    tab.wait_for_event("disconnect")
    # Offline at once: presence must not outlive the socket, or these would go to a dead socket.
    wait_until(lambda: not redis_exists("user_sockets:" + user), "presence removed after disconnect")
    titles = ["backlog %d" % index for index in range(3)]
    database = ctx.mongo[ctx.service.database]["notifications"]
    for title in titles:
        publish(user, title)
        wait_until(lambda: database.count_documents({"title": title}) == 1, "%s stored" % title)
    check(database.count_documents({"delivered": True, "title": {"$in": titles}}) == 0,
          "backlog marked delivered while offline")
    tab.page.evaluate("reconnect()")
    tab.wait_for_event("notification_received", 3)
    tab.page.wait_for_timeout(1000)
    received = [entry["arg"]["data"]["title"] for entry in tab.events("notification_received")]
    check(received == titles, "backlog: %s" % received)
    check(tab.names().count("user_connected") == 2, "user_connected count: %s" % tab.names())
    check(not tab.console_errors, "console errors: %s" % tab.console_errors)
    tab.close()


def tab_closed_mid_upgrade_leaves_no_presence(ctx):
    tab = ctx.tab()
    user = new_user()
    # Connected over polling first, then the probe; the client's `upgrade` packet never leaves.
    tab.page.evaluate("window.holdProbe = true; window.holdUpgrade = true")
    tab.start(token(user))
    tab.wait_for_event("user_connected")
    tab.wait_for_event("probe_held")
    key = "user_sockets:" + user
    wait_until(lambda: redis_exists(key), "presence written")
    tab.page.evaluate("releaseProbe()")
    # `3probe` arrived: the client pauses polling for the probe socket. Close the tab now.
    tab.wait_for_event("upgrading")
    tab.close()
    # The probe socket is the session's only transport now: closing it ends the session at once,
    # not at the ping timeout (45 s) or the next presence refresh.
    wait_until(lambda: not redis_exists(key), "presence removed after the tab closed")


def polling_tab_closed_leaves_no_presence(ctx):
    tab = ctx.tab()
    user = new_user()
    # Polling only: the tab's one transport is its parked poll.
    tab.start(token(user), ["polling"])
    tab.wait_for_event("user_connected")
    key = "user_sockets:" + user
    wait_until(lambda: redis_exists(key), "presence written")
    tab.close()
    # The aborted poll ends the session at once, not at the ping timeout (45 s) or the next refresh.
    wait_until(lambda: not redis_exists(key), "presence removed after the polling tab closed")


def probe_corners_over_raw_sockets(ctx):
    ws_base = "ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket" % ctx.service.port
    # A probe for an unknown session: 400 "Session ID unknown".
    try:
        websocket.create_connection(ws_base + "&sid=unknown", timeout=5)
        raise AssertionError("a probe for an unknown session was upgraded")
    except websocket.WebSocketBadStatusException as error:
        check(error.status_code == 400, "unknown sid: %s" % error.status_code)
    # A WebSocket-only session cannot be probed.
    first = websocket.create_connection(ws_base, timeout=5)
    open_packet = json.loads(first.recv()[1:])
    check(open_packet["upgrades"] == [], "upgrades: %s" % open_packet)
    try:
        websocket.create_connection(ws_base + "&sid=" + open_packet["sid"], timeout=5)
        raise AssertionError("a WebSocket session accepted a probe socket")
    except websocket.WebSocketBadStatusException as error:
        check(error.status_code == 400, "probe of a WebSocket session: %s" % error.status_code)
    first.close()
    # A polling session: one probe socket, a second one refused, the first still answers.
    poll = ctx.service.base + "/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(poll, timeout=5) as answer:
        handshake = json.loads(answer.read().decode()[1:])
    check(handshake["upgrades"] == ["websocket"], "polling upgrades: %s" % handshake)
    probe = websocket.create_connection(ws_base + "&sid=" + handshake["sid"], timeout=5)
    try:
        websocket.create_connection(ws_base + "&sid=" + handshake["sid"], timeout=5)
        raise AssertionError("a second probe socket was accepted")
    except websocket.WebSocketBadStatusException as error:
        check(error.status_code == 400, "second probe: %s" % error.status_code)
    probe.send("2probe")
    check(probe.recv() == "3probe", "probe answer")
    probe.send("5")
    probe.send("1")
    probe.close()
    # A poll that reaches the server just after the client's own `close`: the close packet, not a 400
    # (socket.io-client polls again before it handles what the last poll brought).
    with urllib.request.urlopen(poll, timeout=5) as answer:
        ended = json.loads(answer.read().decode()[1:])["sid"]
    request = urllib.request.Request(poll + "&sid=" + ended, data=b"1", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        check(answer.read() == b"ok", "close POST answer")
    with urllib.request.urlopen(poll + "&sid=" + ended, timeout=5) as answer:
        check(answer.status == 200 and answer.read() == b"1", "a poll after the close")
    # A client that closes mid-upgrade drops its probe socket (the probe was answered, so that ends
    # the session) and posts `close` at once: the POST is answered ok, the poll with `close`.
    with urllib.request.urlopen(poll, timeout=5) as answer:
        ended = json.loads(answer.read().decode()[1:])["sid"]
    probe = websocket.create_connection(ws_base + "&sid=" + ended, timeout=5)
    probe.send("2probe")
    check(probe.recv() == "3probe", "probe answer")
    probe.close()
    # While the session lives, a poll is answered `noop` (the client is pausing); once it ended, `close`.
    wait_until(lambda: fetch(poll + "&sid=" + ended) == b"1", "a poll hears the session ended with its probe socket")
    request = urllib.request.Request(poll + "&sid=" + ended, data=b"1", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        check(answer.read() == b"ok", "close POST after the probe socket closed")
    # Anything but `close` for an ended session is still refused.
    try:
        urllib.request.urlopen(urllib.request.Request(poll + "&sid=" + ended, data=b"4hello", method="POST"), timeout=5)
        raise AssertionError("a message for an ended session was accepted")
    except urllib.error.HTTPError as error:
        check(error.code == 400, "message for an ended session: %s" % error.code)


def fetch(url):
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.read()


TESTS = [
    websocket_only_session_advertises_no_upgrade,
    polling_session_upgrades_before_the_first_ping,
    forged_token_is_refused_once,
    notification_contract_and_mark_read,
    cross_origin_rest_with_preflight,
    reconnect_replays_the_backlog_once_oldest_first,
    tab_closed_mid_upgrade_leaves_no_presence,
    polling_tab_closed_leaves_no_presence,
    probe_corners_over_raw_sockets,
]


class Context:
    def __init__(self, browser, pages, service):
        self.browser = browser
        self.pages = pages
        self.service = service
        self.page_origin = pages.url.rsplit("/", 1)[0]
        self.mongo = pymongo.MongoClient(MONGO_URI)

    def tab(self):
        return Tab(self.browser, self.pages.url, self.service)


def main():
    report = harness.Report("test_browser")
    if report.missing([(BIN, "the decode-async binary (swift build)"),
                       (CLIENT_JS, "the Socket.IO client (scripts/stack install)"),
                       (CHROMIUM, "Debian's chromium (scripts/stack install)")]):
        return report.summary()
    work = tempfile.mkdtemp(prefix="decode-browser-")
    service = Service(work)
    pages = PageServer(work)
    try:
        service.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            context = Context(browser, pages, service)
            report.run(TESTS, context)
            browser.close()
            context.mongo.drop_database(service.database)
    except Exception as error:  # noqa: BLE001
        report.fail("set-up: %s" % error, error)
    finally:
        service.stop()
        pages.stop()
        if report.failed:
            print(service.tail(), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
