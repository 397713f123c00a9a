#!/usr/bin/env bash
# Brings the local stack up (scripts/stack up), checks that every server answers its own protocol
# through the venv's clients, and that a second `up` leaves every process alone.
# The stack is left running: other tests use it.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK=$REPO/scripts/stack
PY=$REPO/.venv/bin/python
SERVERS=(rabbitmq redis secantusdb arcadedb smtp)
TOKEN="stack-test-$$-$(date +%s)-$RANDOM"

fail() {
	echo "test_stack: FAIL: $*" >&2
	exit 1
}
ok() { echo "test_stack: ok: $*"; }

# Prints "name pid" for every server; fails unless `scripts/stack status` reports all of them up.
pids_from_status() {
	local status line name state pid
	if ! status=$("$STACK" status); then
		printf '%s\n' "$status" >&2
		fail "scripts/stack status: not every server is up"
	fi
	for name in "${SERVERS[@]}"; do
		line=$(grep -E "^${name}[[:space:]]" <<<"$status") || fail "scripts/stack status printed no line for $name"
		state=$(awk '{print $3}' <<<"$line")
		pid=$(awk '{print $4}' <<<"$line")
		[[ $state == up ]] || fail "$name is not up: $line"
		[[ $pid =~ ^pid=[0-9]+$ ]] || fail "$name is up but not started by scripts/stack: $line"
		echo "$name ${pid#pid=}"
	done
}

"$STACK" up || fail "scripts/stack up exited with $?"
before=$(pids_from_status)
ok "status: all up ($(paste -sd " " - <<<"$before"))"

eval "$("$STACK" env)"
: "${RABBITMQ_URI:?} ${REDIS_URI:?} ${MONGO_URI:?} ${MONGO_DB_NAME:?} ${NEO4J_URI:?} ${NEO4J_USER:?}"
: "${NEO4J_PASSWORD:?} ${SMTP_HOST:?} ${SMTP_PORT:?}"
export RABBITMQ_URI MONGO_URI MONGO_DB_NAME NEO4J_URI NEO4J_USER NEO4J_PASSWORD SMTP_HOST SMTP_PORT TOKEN

# RabbitMQ: AMQP 0-9-1 as guest from 127.0.0.1, temporary queue round trip.
"$PY" - <<'EOF' || fail "rabbitmq: AMQP round trip on $RABBITMQ_URI"
import os, pika
conn = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URI"]))
ch = conn.channel()
q = ch.queue_declare(queue="", exclusive=True).method.queue
ch.basic_publish(exchange="", routing_key=q, body=os.environ["TOKEN"].encode())
body = None
for _ in range(50):
    method, _props, body = ch.basic_get(q, auto_ack=True)
    if method:
        break
    conn.sleep(0.1)
assert body == os.environ["TOKEN"].encode(), body
ch.queue_delete(q)
conn.close()
EOF
ok "rabbitmq: declared, used and deleted a temporary queue via $RABBITMQ_URI"

# Redis: SET/GET/DEL with redis-cli.
redis_host_port=${REDIS_URI#redis://}
rcli=(redis-cli -h "${redis_host_port%:*}" -p "${redis_host_port##*:}")
[[ $("${rcli[@]}" SET "$TOKEN" value EX 60) == OK ]] || fail "redis: SET on $REDIS_URI"
[[ $("${rcli[@]}" GET "$TOKEN") == value ]] || fail "redis: GET on $REDIS_URI"
"${rcli[@]}" DEL "$TOKEN" >/dev/null
ok "redis: SET/GET/DEL via $REDIS_URI"

# SecantusDB: pymongo insert, find, delete; configureFailPoint must be enabled.
"$PY" - <<'EOF' || fail "secantusdb: pymongo round trip on $MONGO_URI"
import os, pymongo
client = pymongo.MongoClient(os.environ["MONGO_URI"], serverSelectionTimeoutMS=5000)
coll = client[os.environ["MONGO_DB_NAME"]]["stack_test"]
coll.insert_one({"_id": os.environ["TOKEN"], "n": 1})
doc = coll.find_one({"_id": os.environ["TOKEN"]})
assert doc == {"_id": os.environ["TOKEN"], "n": 1}, doc
assert coll.delete_one({"_id": os.environ["TOKEN"]}).deleted_count == 1
reply = client.admin.command("configureFailPoint", "failCommand", mode="off")
assert reply["ok"] == 1, reply
client.close()
EOF
ok "secantusdb: insert/find/delete and configureFailPoint via $MONGO_URI"

# ArcadeDB: the official neo4j driver over Bolt.
"$PY" - <<'EOF' || fail "arcadedb: neo4j driver RETURN 1 on $NEO4J_URI"
import os
from neo4j import GraphDatabase
with GraphDatabase.driver(os.environ["NEO4J_URI"],
                          auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])) as driver:
    driver.verify_connectivity()
    records, _, _ = driver.execute_query("RETURN 1 AS x", database_="neo4j")
    assert records[0]["x"] == 1, records
EOF
ok "arcadedb: RETURN 1 via $NEO4J_URI (Bolt, neo4j driver)"

# SMTP: smtplib sends a mail; the sink writes it to .stack/mail/<n>.eml.
"$PY" - <<'EOF' || fail "smtp: sending to $SMTP_HOST:$SMTP_PORT"
import os, smtplib
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "stack-test@decode.local"
msg["To"] = "someone@decode.local"
msg["Subject"] = os.environ["TOKEN"]
msg.set_content("scripts/stack test mail\n")
with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"]), timeout=10) as smtp:
    smtp.send_message(msg)
EOF
mail_file=""
for _ in $(seq 50); do
	mail_file=$(grep -lF "Subject: $TOKEN" "$REPO"/.stack/mail/*.eml 2>/dev/null | head -n 1) || true
	[[ -n $mail_file ]] && break
	sleep 0.1
done
[[ -n $mail_file ]] || fail "smtp: the mail sent to $SMTP_HOST:$SMTP_PORT did not arrive in .stack/mail"
grep -q '^X-Envelope-To: someone@decode.local' "$mail_file" || fail "smtp: $mail_file lacks the envelope header"
ok "smtp: mail delivered to ${mail_file#"$REPO"/}"

# The Socket.IO client peer (websocket + polling transports) is importable.
"$PY" -c 'import socketio, websocket, requests; socketio.Client()' || fail "venv: python-socketio client is not usable"
ok "venv: python-socketio client with websocket-client and requests"

# The browser tests' parts: Debian's chromium, Playwright (no browser of its own), the official client.
[[ -x /usr/bin/chromium ]] || fail "chromium: /usr/bin/chromium is not installed"
"$PY" -c 'import playwright.sync_api' || fail "venv: playwright is not importable"
head -c 200 "$REPO/.stack/browser/socket.io.min.js" | grep -q 'Socket.IO v4.8.1' ||
	fail "browser client: .stack/browser/socket.io.min.js is not Socket.IO v4.8.1"
ok "browser tests: chromium, playwright and the Socket.IO 4.8.1 client"

# A second `up` must leave every server alone.
"$STACK" up >/dev/null || fail "second scripts/stack up exited with $?"
after=$(pids_from_status)
if [[ $before != "$after" ]]; then
	fail "pids changed on the second up: before [$(tr '\n' ' ' <<<"$before")] after [$(tr '\n' ' ' <<<"$after")]"
fi
ok "second up: no pid changed"
echo "test_stack: PASS"
