"""Browser tests of the operations console: the built `decode-async serve notifications email sync
console` in Debian's chromium, driven by Playwright, against the real stack.

The three flows consume the real queues (notification_queue, email_queue, neo4j_sync_queue) with
a database of this run's own (MONGO_DB_NAME=decode_console_<random>). Other sessions share the
broker, so everything this test creates carries its own message ids and it only deletes, replays
and purges what it made: the purge runs on a queue of its own (console_test_<random>, shown through
CONSOLE_QUEUES), which is deleted at the end.

Dead letters are produced as in production: an invalid message published to each main queue is
dead-lettered by the flow's consumer with its reason. The letter that can succeed on replay is a
valid create_notification put in notification_queue.dlq as the consumer writes a letter whose
retries ran out (the pika peer's shape); replayed from the page, it is stored in MongoDB.

Screenshots of the page (desktop and phone widths) are saved under .stack/screenshots/.

Usage: test_console.py [BIN]   (environment from `scripts/stack env`)
Prints "test_console: ok: ..." per test and a closing "N passed, N failed"; exits 1 on any failure.
Run one test with BROWSER_TESTS=name[,name].
"""
import http.server
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import urllib.error
import urllib.request

import bson
import datetime
import pika
import pymongo
from playwright.sync_api import sync_playwright

import harness
from harness import check, free_port

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, ".build/debug/decode-async")
RABBITMQ_URI = os.environ.get("RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672")
MONGO_URI = os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017")
REDIS_URI = os.environ.get("REDIS_URI", "redis://127.0.0.1:6379")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
SCREENSHOTS = os.path.join(REPO, ".stack", "screenshots")
RUN = "%08x" % random.randrange(1 << 32)
TOKEN = secrets.token_hex(16)
# A name the browser resolves to the console's address, as a DNS rebinding attack would make it.
REBOUND_HOST = "console-rebound.test"
TEST_QUEUE = "console_test_" + RUN
FLOW_QUEUES = ["notification_queue", "email_queue", "neo4j_sync_queue"]
# Bounds on waiting (the page refreshes every 2 s; a consumer dead-letters at once).
WAIT_MS = 20_000

def wait_until(predicate, what, seconds=WAIT_MS / 1000):
    harness.wait_until(predicate, what, seconds)


# ---------------------------------------------------------------- the broker, independently (pika)


def channel_do(work):
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URI))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        return work(channel)
    finally:
        connection.close()


def publish(queue, pattern, data, message_id):
    """A NestJS event to a main queue, as ClientProxy.emit sends it, with a message id of ours."""
    body = json.dumps({"pattern": pattern, "data": data}).encode()
    channel_do(lambda channel: channel.basic_publish(
        "", queue, body, pika.BasicProperties(message_id=message_id, delivery_mode=2)))


def put_dead_letter(queue, message_id, pattern, data, reason):
    """A letter in QUEUE.dlq shaped as the consumer writes one whose retries ran out."""
    headers = {
        "x-retry-count": 3, "x-last-error": reason, "x-death-reason": "retries_exhausted",
        "x-original-pattern": pattern, "x-original-queue": queue,
        "x-first-failure-at": "2026-12-07T10:00:00.000Z", "x-dead-lettered-at": "2026-12-07T10:00:21.000Z",
    }
    body = json.dumps({"pattern": pattern, "data": data}).encode()

    def work(channel):
        channel.queue_declare(queue=queue, durable=True)
        channel.queue_declare(queue=queue + ".dlq", durable=True)
        channel.basic_publish("", queue + ".dlq", body,
                              pika.BasicProperties(message_id=message_id, delivery_mode=2, headers=headers))
    channel_do(work)


def dlq_depth(queue):
    return channel_do(lambda channel: channel.queue_declare(queue=queue + ".dlq", passive=True).method.message_count)


def delete_queues(*queues):
    def work(channel):
        for queue in queues:
            channel.queue_delete(queue=queue)
    try:
        channel_do(work)
    except Exception:  # noqa: BLE001 - clean-up only
        pass


# ---------------------------------------------------------------- the service and a foreign site


class Service:
    """`decode-async serve notifications email sync console`, every port free, its own database."""

    def __init__(self, work):
        self.ports = {name: free_port() for name in ("notification", "email", "sync", "console")}
        self.database = "decode_console_" + RUN
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "RABBITMQ_URI": RABBITMQ_URI,
            "MONGO_URI": MONGO_URI,
            "MONGO_DB_NAME": self.database,
            "REDIS_URI": REDIS_URI,
            "NEO4J_URI": os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"),
            "NEO4J_USER": os.environ.get("NEO4J_USER", "root"),
            "NEO4J_PASSWORD": os.environ.get("NEO4J_PASSWORD", "decode-async-dev"),
            "SMTP_HOST": os.environ.get("SMTP_HOST", "127.0.0.1"),
            "SMTP_PORT": os.environ.get("SMTP_PORT", "2525"),
            "SMTP_REQUIRE_TLS": "false",
            "SMTP_FROM": "noreply@decode.local",
            "JWT_ACCESS_TOKEN_SECRET": "console-test-secret",
            "NOTIFICATION_HOST": "127.0.0.1", "NOTIFICATION_PORT": str(self.ports["notification"]),
            "EMAIL_WORKER_HOST": "127.0.0.1", "EMAIL_WORKER_PORT": str(self.ports["email"]),
            "NEO4JDB_SYNC_HOST": "127.0.0.1", "NEO4JDB_SYNC_PORT": str(self.ports["sync"]),
            "CONSOLE_PORT": str(self.ports["console"]),
            "CONSOLE_TOKEN": TOKEN,
            "CONSOLE_QUEUES": ",".join(FLOW_QUEUES + [TEST_QUEUE]),
            "LOG_LEVEL": os.environ.get("BROWSER_LOG_LEVEL", "info"),
            "DD_SERVICE": "decode-console-test",
        }
        if os.environ.get("RABBITMQ_MANAGEMENT_URI"):
            env["RABBITMQ_MANAGEMENT_URI"] = os.environ["RABBITMQ_MANAGEMENT_URI"]
        self.served = harness.Served(BIN, ["serve", "notifications", "email", "sync", "console"], env,
                                     os.path.join(work, "serve.log"), REPO)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.ports["console"]

    def start(self):
        self.served.start([self.ports[name] for name in ("notification", "email", "sync", "console")], 90)

    def stop(self):
        self.served.stop()

    def tail(self):
        return self.served.tail(40)

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or text) of one request to the console."""
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


class ForeignSite:
    """An empty page on another origin: where a cross-site request would come from."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                page = b"<!doctype html><title>elsewhere</title><p>another site</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


# ---------------------------------------------------------------- helpers on the page


def sign_in(ctx, page, token=TOKEN):
    page.goto(ctx.service.base + "/login")
    page.fill("#token", token)
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    return navigation.value


def signed_in_page(ctx, **options):
    context = ctx.browser.new_context(**options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = sign_in(ctx, page)
    check(response.status == 200, "sign-in did not lead to the page: HTTP %s" % response.status)
    page.wait_for_selector("#queue-table tbody tr", timeout=WAIT_MS)
    page.errors = errors
    return context, page


def letter(page, queue, message_id):
    return page.locator('article.dlq[data-queue="%s"] li.letter[data-id="%s"]' % (queue, message_id))


# ---------------------------------------------------------------- the tests


def sign_in_sets_a_strict_http_only_session(ctx):
    context, page = signed_in_page(ctx)
    try:
        cookies = [c for c in context.cookies() if c["name"] == "console_session"]
        check(len(cookies) == 1, "no session cookie: %s" % context.cookies())
        check(cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict", "cookie flags: %s" % cookies[0])
        check(TOKEN not in cookies[0]["value"], "the session cookie carries the token")
        check(page.evaluate("document.cookie") == "", "the session cookie is readable by scripts")
        rows = page.locator("#queue-table tbody tr")
        names = [rows.nth(i).get_attribute("data-queue") for i in range(rows.count())]
        check(names == FLOW_QUEUES + [TEST_QUEUE], "queue rows: %s" % names)
        # The page updates itself: the overview's timestamp moves without a reload.
        first = page.get_attribute("body", "data-updated")
        page.wait_for_function("(first) => document.body.dataset.updated && document.body.dataset.updated !== first",
                               arg=first, timeout=WAIT_MS)
        check(not page.errors, "page errors: %s" % page.errors)
    finally:
        context.close()


def a_wrong_token_is_refused(ctx):
    context = ctx.browser.new_context()
    try:
        page = context.new_page()
        response = sign_in(ctx, page, token="not-" + TOKEN)
        check(response.status == 401, "wrong token: HTTP %s" % response.status)
        check(page.locator("#token").count() == 1, "the form is not shown again")
        check("not the console token" in page.locator("p.error").text_content(), "no error message")
        check(not [c for c in context.cookies() if c["name"] == "console_session"], "a session was set")
        status, _ = ctx.service.request("GET", "/api/overview", headers={"Authorization": "Bearer wrong"})
        check(status == 401, "API with a wrong bearer token: HTTP %s" % status)
        status, overview = ctx.service.request("GET", "/api/overview", headers={"Authorization": "Bearer " + TOKEN})
        check(status == 200 and [q["queue"] for q in overview["queues"]] == FLOW_QUEUES + [TEST_QUEUE],
              "API with the bearer token: HTTP %s %s" % (status, overview))
        page.screenshot(path=os.path.join(SCREENSHOTS, "console-login.png"))
    finally:
        context.close()


def each_flows_dead_letter_shows_with_its_reason(ctx):
    ids = ctx.ids
    publish("notification_queue", "create_notification",
            {"user_id": "not-an-object-id", "type": "console-test", "title": "t", "message": "m"}, ids["notification"])
    publish("email_queue", "email_request",
            {"type": "no-such-email-type-" + RUN, "data": {"email": "someone@decode.test"}}, ids["email"])
    publish("neo4j_sync_queue", "update_user_request", {"_id": "not-an-object-id-" + RUN}, ids["sync"])
    context, page = signed_in_page(ctx)
    try:
        expected = {"notification_queue": (ids["notification"], "create_notification", "invalid create_notification"),
                    "email_queue": (ids["email"], "email_request", "Unknown email type request: no-such-email-type-" + RUN),
                    "neo4j_sync_queue": (ids["sync"], "update_user_request", "invalid user document")}
        for queue, (message_id, pattern, reason) in expected.items():
            item = letter(page, queue, message_id)
            item.wait_for(timeout=WAIT_MS)
            check(item.locator(".pattern").text_content() == pattern, "%s: pattern %r" % (queue, item.locator(".pattern").text_content()))
            shown = item.locator(".reason").text_content()
            check(reason in shown, "%s: reason %r does not say %r" % (queue, shown, reason))
            check(item.locator(".id").text_content() == message_id, "%s: message id not shown" % queue)
            check(item.locator("pre.body").text_content().startswith("{"), "%s: body not shown" % queue)
        # The chart of each flow counts its dead letter: this run's consumers wrote the counts to
        # Redis (every 10 s), the console read them back.
        def charted():
            status, overview = ctx.service.request("GET", "/api/overview", headers={"Authorization": "Bearer " + TOKEN})
            dead = {series["queue"]: sum(series["dead_lettered"]) for series in overview.get("throughput", [])}
            return status == 200 and all(dead.get(queue, 0) >= 1 for queue in FLOW_QUEUES)
        wait_until(charted, "a dead-lettered count in each flow's throughput chart", seconds=30)
        page.wait_for_function("""() => {
            const caption = document.querySelector('.chart-box[data-queue="email_queue"] figcaption');
            return caption && /, [1-9][0-9]* dead-lettered/.test(caption.textContent);
        }""", timeout=WAIT_MS)
        # The depth column counts them.
        depth = page.locator('#queue-table tr[data-queue="notification_queue"] .dlq-depth').text_content()
        check(depth.isdigit() and int(depth) >= 1, "notification_queue DLQ depth %r" % depth)
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.wait_for_timeout(300)  # one layout after the resize, for the picture only
        page.screenshot(path=os.path.join(SCREENSHOTS, "console.png"))
        check(not page.errors, "page errors: %s" % page.errors)
    finally:
        context.close()


def a_script_body_is_shown_as_text(ctx):
    script = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"
    message_id = "console-script-" + RUN
    ctx.cleanup_ids.append(("notification_queue", message_id))
    publish("notification_queue", "create_notification",
            {"user_id": "not-an-object-id", "type": "console-test", "title": script, "message": "m"}, message_id)
    context, page = signed_in_page(ctx)
    try:
        item = letter(page, "notification_queue", message_id)
        item.wait_for(timeout=WAIT_MS)
        body = item.locator("pre.body")
        check("<script>window.__pwned = 1</script>" in body.text_content(), "the body is not shown as written: %r"
              % body.text_content())
        check(body.locator("script, img").count() == 0, "the body became elements")
        check(page.evaluate("window.__pwned") is None, "the body's script ran")
    finally:
        context.close()


def replaying_a_letter_that_can_now_succeed_stores_it(ctx):
    user_id = "%024x" % random.randrange(1 << 96)
    title = "console replay " + RUN
    message_id = "console-replay-" + RUN
    ctx.cleanup_ids.append(("notification_queue", message_id))
    put_dead_letter("notification_queue", message_id, "create_notification",
                    {"user_id": user_id, "type": "console-test", "title": title, "message": "replayed"},
                    "MongoDB unavailable (test)")
    context, page = signed_in_page(ctx)
    try:
        item = letter(page, "notification_queue", message_id)
        item.wait_for(timeout=WAIT_MS)
        check(item.locator(".reason").text_content() == "MongoDB unavailable (test)", "reason not shown")
        item.locator("button.replay").click()
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('replayed 1 ')",
                               timeout=WAIT_MS)
        item.wait_for(state="detached", timeout=WAIT_MS)

        # The notification service stored it (another session's consumer of the shared queue may
        # have taken it: then it is in that consumer's database, which is looked at too).
        def stored():
            for name in ctx.mongo.list_database_names():
                if ctx.mongo[name]["notifications"].find_one({"title": title}):
                    ctx.stored_in = name
                    return True
            return False
        wait_until(stored, "the replayed notification in MongoDB")
        document = ctx.mongo[ctx.stored_in]["notifications"].find_one({"title": title})
        check(str(document["user_id"]) == user_id, "stored for user %s, not %s" % (document["user_id"], user_id))
    finally:
        context.close()


def deleting_a_letter_removes_only_it(ctx):
    keep, drop = "console-keep-" + RUN, "console-drop-" + RUN
    for message_id in (keep, drop):
        put_dead_letter(TEST_QUEUE, message_id, "email_request", {"type": "welcome-message"}, "test letter " + message_id)
    context, page = signed_in_page(ctx)
    try:
        letter(page, TEST_QUEUE, drop).wait_for(timeout=WAIT_MS)
        letter(page, TEST_QUEUE, drop).locator("button.delete").click()
        letter(page, TEST_QUEUE, drop).wait_for(state="detached", timeout=WAIT_MS)
        check(letter(page, TEST_QUEUE, keep).count() == 1, "the other letter went too")
        check(dlq_depth(TEST_QUEUE) == 1, "DLQ depth after delete: %s" % dlq_depth(TEST_QUEUE))
    finally:
        context.close()


def replay_all_moves_every_letter_back(ctx):
    for index in range(2):
        put_dead_letter(TEST_QUEUE, "console-all-%d-%s" % (index, RUN), "email_request", {"n": index}, "to replay")
    context, page = signed_in_page(ctx)
    try:
        letter(page, TEST_QUEUE, "console-all-1-" + RUN).wait_for(timeout=WAIT_MS)
        before = dlq_depth(TEST_QUEUE)
        waiting = channel_do(lambda channel: channel.queue_declare(queue=TEST_QUEUE, passive=True).method.message_count)
        page.locator('article.dlq[data-queue="%s"] button.replay-all' % TEST_QUEUE).click()
        page.wait_for_function("(n) => document.getElementById('status').textContent.startsWith('replayed ' + n + ' ')",
                               arg=before, timeout=WAIT_MS)
        check(dlq_depth(TEST_QUEUE) == 0, "letters left after Replay all: %s" % dlq_depth(TEST_QUEUE))
        after = channel_do(lambda channel: channel.queue_declare(queue=TEST_QUEUE, passive=True).method.message_count)
        check(after == waiting + before, "%s waiting in %s, expected %s" % (after, TEST_QUEUE, waiting + before))
        channel_do(lambda channel: channel.queue_purge(queue=TEST_QUEUE))
    finally:
        context.close()


def purge_asks_first_then_empties_the_queue(ctx):
    for index in range(3):
        put_dead_letter(TEST_QUEUE, "console-purge-%d-%s" % (index, RUN), "email_request", {"n": index}, "to purge")
    context, page = signed_in_page(ctx)
    try:
        panel = page.locator('article.dlq[data-queue="%s"]' % TEST_QUEUE)
        letter(page, TEST_QUEUE, "console-purge-2-" + RUN).wait_for(timeout=WAIT_MS)
        before = dlq_depth(TEST_QUEUE)
        check(before >= 3, "depth before purge: %s" % before)
        panel.locator("button.purge").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible", timeout=WAIT_MS)
        check(TEST_QUEUE + ".dlq" in page.locator("#confirm-text").text_content(), "the dialog does not name the queue")
        page.click("#confirm-cancel")
        page.wait_for_function("() => document.getElementById('status').textContent.includes('cancelled')",
                               timeout=WAIT_MS)
        check(dlq_depth(TEST_QUEUE) == before, "cancelled purge deleted letters")
        panel.locator("button.purge").click()
        dialog.wait_for(state="visible", timeout=WAIT_MS)
        page.click("#confirm-ok")
        page.wait_for_function("(n) => document.getElementById('status').textContent.startsWith('purged ' + n + ' ')",
                               arg=before, timeout=WAIT_MS)
        check(dlq_depth(TEST_QUEUE) == 0, "DLQ not empty after purge")
        panel.locator("li.empty").wait_for(timeout=WAIT_MS)
    finally:
        context.close()


def a_cross_origin_post_is_refused(ctx):
    put_dead_letter(TEST_QUEUE, "console-csrf-" + RUN, "email_request", {"n": 1}, "must survive")
    context, page = signed_in_page(ctx)
    try:
        # A form on another site posts to the console (the classic cross-site request): 403.
        page.goto(ctx.foreign.url)
        with page.expect_navigation() as navigation:
            page.evaluate("""(target) => {
                const form = document.createElement("form");
                form.method = "POST";
                form.action = target;
                const field = document.createElement("input");
                field.name = "confirm";
                field.value = "x";
                form.appendChild(field);
                document.body.appendChild(form);
                form.submit();
            }""", ctx.service.base + "/api/queues/%s/dead-letters/purge" % TEST_QUEUE)
        check(navigation.value.status == 403, "cross-site form POST: HTTP %s" % navigation.value.status)
        # A script on another site, with the session's cookie asked for: 403 as well.
        page.goto(ctx.foreign.url)
        with page.expect_response(lambda r: r.url.endswith("/dead-letters/purge")) as response:
            page.evaluate("""(target) => fetch(target, {method: "POST", credentials: "include", mode: "no-cors",
                body: JSON.stringify({confirm: "%s"})}).catch(() => null)""" % TEST_QUEUE,
                          ctx.service.base + "/api/queues/%s/dead-letters/purge" % TEST_QUEUE)
        check(response.value.status == 403, "cross-site fetch POST: HTTP %s" % response.value.status)
        # Even with the token, a foreign Origin is refused; the same request from the console's own
        # origin passes.
        headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
        status, _ = ctx.service.request("POST", "/api/queues/%s/dead-letters/replay" % TEST_QUEUE, {"all": True},
                                        dict(headers, Origin="http://evil.example"))
        check(status == 403, "bearer POST with a foreign Origin: HTTP %s" % status)
        check(dlq_depth(TEST_QUEUE) == 1, "a refused request changed the DLQ")
        # DNS rebinding: a page on a name that resolves to the console's address (here by the
        # browser's resolver rule) sends that name as Host, and gets 421 without reaching a route.
        rebound = "http://%s:%d" % (REBOUND_HOST, ctx.service.ports["console"])
        check(page.goto(rebound + "/").status == 421, "a rebound name's page was answered")
        check(page.goto(rebound + "/api/overview").status == 421, "a rebound name's API call was answered")
        status, _ = ctx.service.request("GET", "/api/overview",
                                        headers={"Authorization": "Bearer " + TOKEN, "Host": REBOUND_HOST})
        check(status == 421, "bearer request for another Host: HTTP %s" % status)
        # A body over 1 MB is refused as too large (413), not as a failed server (502).
        status, _ = ctx.service.request("POST", "/api/queues/%s/dead-letters/delete" % TEST_QUEUE,
                                        b" " * ((1 << 20) + 1), dict(headers, Origin=ctx.service.base))
        check(status == 413, "a body over 1 MB: HTTP %s" % status)
        status, answer = ctx.service.request("POST", "/api/queues/%s/dead-letters/delete" % TEST_QUEUE,
                                             {"ids": ["console-csrf-" + RUN]}, dict(headers, Origin=ctx.service.base))
        check(status == 200 and answer == {"deleted": 1}, "same-origin delete: HTTP %s %s" % (status, answer))
    finally:
        context.close()


def run_check_records_the_result(ctx):
    context, page = signed_in_page(ctx)
    try:
        page.wait_for_function("() => !document.getElementById('run-check').disabled", timeout=WAIT_MS)
        page.click("#run-check")
        # The run's database has no users: the check agrees, and says it ran from the console.
        page.wait_for_function("() => /\\(console\\): 0 users, MongoDB and the graph agree/"
                               ".test(document.getElementById('graph-summary').textContent)", timeout=WAIT_MS)
        status, overview = ctx.service.request("GET", "/api/overview", headers={"Authorization": "Bearer " + TOKEN})
        last = overview["graph"]["last_check"]
        check(status == 200 and last["ran_by"] == "console" and last["differing"] == 0, "last check: %s" % last)
        record = ctx.mongo[ctx.service.database]["sync_checks"].find_one({"_id": "last"})
        check(record is not None and record["ran_by"] == "console", "no record in MongoDB: %s" % record)
    finally:
        context.close()


def fix_repairs_a_user_missing_from_the_graph(ctx):
    user_id = bson.ObjectId()
    ctx.mongo[ctx.service.database]["users"].insert_one({
        "_id": user_id, "username": "console-" + RUN, "display_name": "Console Test", "role": "user",
        "avatar_ipfs_hash": "bafk", "email": "console@example.com", "password_hashed": "x",
        "updatedAt": datetime.datetime(2026, 1, 1)})
    context, page = signed_in_page(ctx)
    summary = "document.getElementById('graph-summary').textContent"
    try:
        page.wait_for_function("() => !document.getElementById('run-check').disabled", timeout=WAIT_MS)
        page.click("#run-check")
        page.wait_for_function("() => /\\(console\\): 1 users, 1 differ$/.test(%s)" % summary, timeout=WAIT_MS)
        differences = page.locator("#graph-differences li").all_text_contents()
        check(differences == ["%s: no :User node" % user_id], "differences shown: %s" % differences)
        page.wait_for_function("() => !document.getElementById('run-fix').disabled", timeout=WAIT_MS)
        page.click("#run-fix")
        page.wait_for_function("() => /fix emitted 1 update_user_request/.test(%s)" % summary, timeout=WAIT_MS)

        # The running sync applies the repair; the next check agrees.
        def agrees():
            status, result = ctx.service.request("POST", "/api/graph/check", {},
                                                 {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
            return status == 200 and result["differing"] == 0
        wait_until(agrees, "the graph check to agree after Fix")
    finally:
        context.close()


def the_page_is_legible_on_a_phone(ctx):
    context, page = signed_in_page(ctx, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page.locator("article.dlq").first.wait_for(timeout=WAIT_MS)
        width = page.evaluate("document.documentElement.scrollWidth")
        check(width <= 390, "the page is %s px wide on a 390 px screen" % width)
        page.screenshot(path=os.path.join(SCREENSHOTS, "console-phone.png"), full_page=True)
    finally:
        context.close()


TESTS = [
    sign_in_sets_a_strict_http_only_session,
    a_wrong_token_is_refused,
    run_check_records_the_result,
    each_flows_dead_letter_shows_with_its_reason,
    a_script_body_is_shown_as_text,
    replaying_a_letter_that_can_now_succeed_stores_it,
    deleting_a_letter_removes_only_it,
    replay_all_moves_every_letter_back,
    purge_asks_first_then_empties_the_queue,
    a_cross_origin_post_is_refused,
    fix_repairs_a_user_missing_from_the_graph,
    the_page_is_legible_on_a_phone,
]


class Context:
    def __init__(self, browser, service, foreign):
        self.browser = browser
        self.service = service
        self.foreign = foreign
        self.mongo = pymongo.MongoClient(MONGO_URI)
        self.ids = {flow: "console-%s-%s" % (flow, RUN) for flow in ("notification", "email", "sync")}
        self.cleanup_ids = [("notification_queue", self.ids["notification"]), ("email_queue", self.ids["email"]),
                            ("neo4j_sync_queue", self.ids["sync"])]
        self.stored_in = None

    def clean_up(self):
        """Deletes this run's letters from the shared DLQs, its queue, its documents."""
        headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"}
        for queue in FLOW_QUEUES:
            ids = [message_id for q, message_id in self.cleanup_ids if q == queue]
            if ids and self.service.served.running:
                self.service.request("POST", "/api/queues/%s/dead-letters/delete" % queue, {"ids": ids}, headers)
        delete_queues(TEST_QUEUE, TEST_QUEUE + ".dlq")
        if self.stored_in:
            self.mongo[self.stored_in]["notifications"].delete_many({"title": "console replay " + RUN})
        self.mongo.drop_database(self.service.database)


def main():
    report = harness.Report("test_console")
    if report.missing([(BIN, "the decode-async binary (swift build)"),
                       (CHROMIUM, "Debian's chromium (scripts/stack install)")]):
        return report.summary()
    os.makedirs(SCREENSHOTS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="decode-console-")
    service = Service(work)
    foreign = ForeignSite()
    context = None
    try:
        channel_do(lambda channel: (channel.queue_declare(queue=TEST_QUEUE, durable=True),
                                    channel.queue_declare(queue=TEST_QUEUE + ".dlq", durable=True)))
        service.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--host-resolver-rules=MAP %s 127.0.0.1" % REBOUND_HOST])
            context = Context(browser, service, foreign)
            report.run(TESTS, context)
            browser.close()
    except Exception as error:  # noqa: BLE001
        report.fail("set-up: %s" % error, error)
    finally:
        if context:
            try:
                context.clean_up()
            except Exception as error:  # noqa: BLE001
                print("test_console: clean-up: %s" % error, file=sys.stderr)
        else:
            delete_queues(TEST_QUEUE, TEST_QUEUE + ".dlq")
        service.stop()
        foreign.stop()
        if report.failed:
            print(service.tail(), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    return report.summary()


if __name__ == "__main__":
    sys.exit(main())
