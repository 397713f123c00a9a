#!/usr/bin/env bash
# The README's "Your first notification", run as written: the shell blocks marked
# `<!-- walkthrough -->` are extracted and run in order from the repository root, in one bash,
# against the local stack and the built binary, with `serve notifications sync` standing in for
# `make run` (its own ports and a database of its own, so nothing else on the stack is disturbed).
# Also checks what `decode-async token` refuses.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${DECODE_ASYNC_BIN:-$REPO/.build/debug/decode-async}
PY=$REPO/.venv/bin/python
WORK=$(mktemp -d)
pid=
ALICE_ID=665f1c2e9b1d4a00123456aa

fail() {
	echo "test_walkthrough: FAIL: $*" >&2
	[ -f "$WORK/serve.log" ] && sed 's/^/  serve: /' "$WORK/serve.log" | tail -40 >&2
	exit 1
}
ok() { echo "test_walkthrough: ok: $*"; }
[ -x "$BIN" ] || fail "$BIN is not built (swift build)"
[ "$BIN" = "$REPO/.build/debug/decode-async" ] || fail "the README's steps use .build/debug/decode-async; unset DECODE_ASYNC_BIN"

# A database of our own: `scripts/stack env` keeps an MONGO_DB_NAME already set.
export MONGO_DB_NAME="decode_walkthrough_$RANDOM$RANDOM"
eval "$("$REPO/scripts/stack" env)"
free_port() { "$PY" "$REPO/Tests/support/ports.py"; }
export NOTIFICATION_PORT NEO4JDB_SYNC_PORT
NOTIFICATION_PORT=$(free_port)
NEO4JDB_SYNC_PORT=$(free_port)

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	"$PY" - "$MONGO_DB_NAME" "$ALICE_ID" <<'PY' || true
import os, sys, pymongo
from neo4j import GraphDatabase
pymongo.MongoClient(os.environ["MONGO_URI"]).drop_database(sys.argv[1])
with GraphDatabase.driver(os.environ["NEO4J_URI"], auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])) as d:
    with d.session() as s:
        s.run("MATCH (n) WHERE (n:User OR n:UserSyncState) AND n.user_id = $id DETACH DELETE n", id=sys.argv[2]).consume()
PY
	rm -rf "$WORK"
}
trap cleanup EXIT

# `token` refuses what it cannot sign honestly.
set +e
(cd "$WORK" && env -u JWT_ACCESS_TOKEN_SECRET "$BIN" token 665f1c2e9b1d4a0012345678 >"$WORK/t.out" 2>"$WORK/t.err")
status=$?
set -e
[ "$status" -eq 78 ] || fail "token without a secret: exit $status, expected 78"
[ "$(wc -l <"$WORK/t.err")" -eq 1 ] && grep -q '^decode-async: configuration: JWT_ACCESS_TOKEN_SECRET is missing' "$WORK/t.err" ||
	fail "token without a secret: $(cat "$WORK/t.err")"
[ ! -s "$WORK/t.out" ] || fail "token without a secret printed $(cat "$WORK/t.out")"
for bad in "alice" "665f1c2e9b1d4a001234567" "665f1c2e9b1d4a0012345678 --ttl 0" "665f1c2e9b1d4a0012345678 --ttl 31d" "665f1c2e9b1d4a0012345678 --ttl 1y"; do
	set +e
	# shellcheck disable=SC2086 # the cases are word lists
	(cd "$WORK" && "$BIN" token $bad >"$WORK/t.out" 2>"$WORK/t.err")
	status=$?
	set -e
	[ "$status" -eq 64 ] || fail "token $bad: exit $status, expected 64 (usage): $(cat "$WORK/t.err")"
done
ok "token refuses no secret (exit 78, one line naming JWT_ACCESS_TOKEN_SECRET), a bad user id and a bad --ttl (exit 64)"

# Terminal 1 of the README (`make run`), with our own ports and database.
(cd "$WORK" && exec env NOTIFICATION_HOST=127.0.0.1 NEO4JDB_SYNC_HOST=127.0.0.1 "$BIN" serve notifications sync \
	>"$WORK/serve.log" 2>&1) &
pid=$!
for _ in $(seq 1 150); do
	curl -fsS "http://127.0.0.1:$NOTIFICATION_PORT/ready" >/dev/null 2>&1 &&
		curl -fsS "http://127.0.0.1:$NEO4JDB_SYNC_PORT/ready" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || fail "serve exited"
	sleep 0.2
done
curl -fsS "http://127.0.0.1:$NOTIFICATION_PORT/ready" >/dev/null || fail "notifications not ready"

# Terminal 2: the marked blocks, as written.
awk '/^<!-- walkthrough -->$/ { marked = 1; next }
	marked && /^```sh$/ { inside = 1; next }
	inside && /^```$/ { inside = 0; marked = 0; print ""; next }
	inside { print }' "$REPO/README.md" >"$WORK/walkthrough.sh"
[ "$(grep -c 'decode-async emit' "$WORK/walkthrough.sh")" -eq 2 ] || fail "README blocks not found: $(cat "$WORK/walkthrough.sh")"
set +e
(cd "$REPO" && timeout 180 bash -euo pipefail "$WORK/walkthrough.sh" >"$WORK/out" 2>"$WORK/err")
status=$?
set -e
[ "$status" -eq 0 ] || fail "the README's steps exited $status:
$(sed 's/^/  out: /' "$WORK/out")
$(sed 's/^/  err: /' "$WORK/err")"

"$PY" - "$WORK/out" <<'PY' || fail "unexpected output: $(cat "$WORK/out")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
received = [json.loads(l.split(" ", 1)[1]) for l in lines if l.startswith("notification_received ")]
assert len(received) == 1, lines
event = received[0]
assert event["event"] == "notification_received" and event["userId"] == "665f1c2e9b1d4a0012345678", event
data = event["data"]
assert (data["type"], data["title"], data["message"]) == ("new_follow", "You have a new follower", "alice just followed you"), data
envelopes = [json.loads(l) for l in lines if l.startswith("{")]
listing, marked, count = envelopes
assert listing["statusCode"] == 200 and listing["data"]["meta"]["total"] == 1, listing
assert listing["data"]["notifications"][0]["_id"] == data["id"], listing
assert marked["message"] == "Notification marked as read successfully" and marked["data"]["read"] is True, marked
assert count["data"] == {"count": 0}, count
assert any(l.startswith("published ") and "to neo4j_sync_queue" in l for l in lines), lines
assert lines[-1] == "MongoDB and the graph agree", lines
PY
ok "the README walkthrough: token, socket, emit, notification_received, inbox, mark read, sync check"
