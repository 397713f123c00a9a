#!/usr/bin/env bash
# Runs the built `decode-async` binary as `make run` does and checks what an operator sees:
# every service's /health, /ready and /metrics answer on its port, a bad setting stops start-up
# with one line naming it, SIGTERM ends the process cleanly, and a service failing at start-up ends
# it too, with the reason at error level and a non-zero status.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${DECODE_ASYNC_BIN:-$REPO/.build/debug/decode-async}
WORK=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$WORK"' EXIT
pid=

fail() {
	echo "test_serve: FAIL: $*" >&2
	[ -f "$WORK/serve.log" ] && sed 's/^/  serve: /' "$WORK/serve.log" >&2
	exit 1
}
ok() { echo "test_serve: ok: $*"; }

[ -x "$BIN" ] || fail "$BIN is not built (swift build)"
free_port() { python3 "$REPO/Tests/support/ports.py"; }

# A malformed value stops start-up: exit 78, one line naming variable, value and expectation.
set +e
(cd "$WORK" && env -i PATH="$PATH" SMTP_PORT=70000 "$BIN" serve email >"$WORK/bad.out" 2>"$WORK/bad.err")
status=$?
set -e
[ "$status" -eq 78 ] || fail "bad SMTP_PORT: exit status $status, expected 78"
grep -qx 'decode-async: configuration: SMTP_PORT="70000" is invalid: expected a port number from 1 to 65535' "$WORK/bad.err" ||
	fail "bad SMTP_PORT: unexpected message: $(cat "$WORK/bad.err")"
ok "malformed SMTP_PORT stops start-up with exit 78 and names the variable"

# The email worker needs a sender: SMTP_FROM, or SMTP_USER.
set +e
(cd "$WORK" && env -i PATH="$PATH" "$BIN" serve email >"$WORK/nosender.out" 2>"$WORK/nosender.err")
status=$?
set -e
[ "$status" -eq 78 ] || fail "no sender: exit status $status, expected 78"
grep -q 'no sender: set SMTP_FROM' "$WORK/nosender.err" || fail "no sender: unexpected message: $(cat "$WORK/nosender.err")"
ok "serve email without SMTP_FROM or SMTP_USER stops start-up with exit 78"

# The console needs its token: `serve console` without CONSOLE_TOKEN stops start-up naming it.
set +e
(cd "$WORK" && env -i PATH="$PATH" "$BIN" serve console >"$WORK/noconsole.out" 2>"$WORK/noconsole.err")
status=$?
set -e
[ "$status" -eq 78 ] || fail "serve console without CONSOLE_TOKEN: exit status $status, expected 78"
grep -q '^decode-async: configuration: CONSOLE_TOKEN is missing' "$WORK/noconsole.err" ||
	fail "serve console without CONSOLE_TOKEN: unexpected message: $(cat "$WORK/noconsole.err")"
ok "serve console without CONSOLE_TOKEN stops start-up with exit 78 and names it"

# A guessable console token stops start-up too, without the token in the message.
set +e
(cd "$WORK" && env -i PATH="$PATH" CONSOLE_TOKEN=short-secret-15 timeout 60 "$BIN" serve console >"$WORK/shorttoken.out" \
	2>"$WORK/shorttoken.err")
status=$?
set -e
[ "$status" -eq 78 ] || fail "serve console with a 15-character CONSOLE_TOKEN: exit status $status, expected 78"
grep -q '^decode-async: configuration: CONSOLE_TOKEN="\*\*\*" is invalid: expected at least 16 characters' \
	"$WORK/shorttoken.err" || fail "short CONSOLE_TOKEN: unexpected message: $(cat "$WORK/shorttoken.err")"
if grep -q 'short-secret-15' "$WORK/shorttoken.err" "$WORK/shorttoken.out"; then fail "the short token was printed"; fi
ok "serve console with a CONSOLE_TOKEN under 16 characters stops start-up with exit 78 and masks it"

# Secrets never reach `config` output.
(cd "$WORK" && env -i PATH="$PATH" NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USER=root NEO4J_PASSWORD=graph-secret-1 \
	JWT_ACCESS_TOKEN_SECRET=jwt-secret-2 MONGO_URI=mongodb://u:mongo-secret-3@127.0.0.1/decode "$BIN" config >"$WORK/config.out")
grep -q 'NEO4J_PASSWORD *= \*\*\*' "$WORK/config.out" || fail "config does not mask NEO4J_PASSWORD"
grep -q 'MONGO_URI *= mongodb://u:\*\*\*@127.0.0.1' "$WORK/config.out" || fail "config does not mask the URI password"
if grep -q -E 'graph-secret-1|jwt-secret-2|mongo-secret-3' "$WORK/config.out"; then fail "config printed a secret"; fi
ok "config masks secrets"

# Every service on its own port.
notification_port=$(free_port)
email_port=$(free_port)
sync_port=$(free_port)
# Nothing listens there: the email worker runs, and its /ready says the SMTP server is down.
smtp_port=$(free_port)
(cd "$WORK" && exec env -i PATH="$PATH" NOTIFICATION_PORT="$notification_port" EMAIL_WORKER_PORT="$email_port" \
	NEO4JDB_SYNC_PORT="$sync_port" NOTIFICATION_HOST=127.0.0.1 EMAIL_WORKER_HOST=127.0.0.1 NEO4JDB_SYNC_HOST=127.0.0.1 \
	RABBITMQ_URI="${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}" MONGO_URI=mongodb://127.0.0.1:27017 MONGO_DB_NAME=decode NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USER=root NEO4J_PASSWORD=x \
	SMTP_HOST=127.0.0.1 SMTP_PORT="$smtp_port" SMTP_REQUIRE_TLS=false SMTP_FROM=noreply@decode.test \
	DD_SERVICE=decode-test "$BIN" serve >"$WORK/serve.log" 2>&1) &
pid=$!

for port in "$notification_port" "$email_port" "$sync_port"; do
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
		kill -0 "$pid" 2>/dev/null || fail "decode-async serve exited early"
		sleep 0.1
	done
done
# Wait (bounded) until the RabbitMQ connection is up.
for _ in $(seq 1 100); do
	curl -sS "http://127.0.0.1:$notification_port/ready" | grep -q '"name":"rabbitmq","status":"up"' && break
	sleep 0.1
done

check_service() {
	local name=$1 port=$2 flow=$3 body code
	body=$(curl -fsS "http://127.0.0.1:$port/health") || fail "$name /health did not answer 200"
	grep -q "\"service\":\"$name\"" <<<"$body" || fail "$name /health: $body"
	grep -q '"status":"ok"' <<<"$body" || fail "$name /health: $body"
	if [ "$flow" = built ]; then
		# Bounded wait: the consumer registers once the broker connection is up.
		for _ in $(seq 1 100); do
			code=$(curl -sS -o "$WORK/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/ready")
			[ "$code" = 200 ] && break
			sleep 0.1
		done
		[ "$code" = 200 ] || fail "$name /ready answered $code: $(cat "$WORK/ready.json")"
	elif [ "$flow" = smtp-down ]; then
		code=$(curl -sS -o "$WORK/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/ready")
		[ "$code" = 503 ] || fail "$name /ready answered $code, expected 503"
		# The flow exists; the SMTP server it verifies does not answer.
		grep -q '"name":"smtp","status":"down"' "$WORK/ready.json" || fail "$name /ready: $(cat "$WORK/ready.json")"
	elif [ "$flow" = neo4j-down ]; then
		# The sync flow exists; its Neo4j check is real and fails here (NEO4J_PASSWORD=x).
		code=$(curl -sS -o "$WORK/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/ready")
		[ "$code" = 503 ] || fail "$name /ready answered $code, expected 503 with a wrong Neo4j password"
		grep -q '"name":"neo4j","status":"down"' "$WORK/ready.json" || fail "$name /ready: $(cat "$WORK/ready.json")"
	else
		fail "$name: no readiness expectation for flow '$flow'"
	fi
	# The broker check is real: up here, because the stack's RabbitMQ runs.
	grep -q '"name":"rabbitmq","status":"up"' "$WORK/ready.json" || fail "$name /ready: rabbitmq not up: $(cat "$WORK/ready.json")"
	if [ "$name" != email-worker ]; then
		grep -q '"name":"mongodb","status":"up"' "$WORK/ready.json" || fail "$name /ready: mongodb not up: $(cat "$WORK/ready.json")"
	fi
	body=$(curl -fsS "http://127.0.0.1:$port/metrics") || fail "$name /metrics did not answer 200"
	grep -q "metrics_service_initialized{service=\"decode-test\",env=\"production\",component=\"$name\"} 1" <<<"$body" ||
		fail "$name /metrics lacks metrics_service_initialized: $body"
	ok "$name on $port: /health 200, /ready ($flow flow), /metrics"
}
check_service notification "$notification_port" built
check_service email-worker "$email_port" smtp-down
check_service neo4jdb-sync "$sync_port" neo4j-down

# The notification service: every dependency checked, Socket.IO handshake, REST envelope, NestJS 404.
for check in rabbitmq mongodb redis socket.io consumer; do
	grep -q "\"name\":\"$check\",\"status\":\"up\"" <<<"$(curl -sS "http://127.0.0.1:$notification_port/ready")" ||
		fail "notification /ready lacks $check up"
done
handshake=$(curl -fsS "http://127.0.0.1:$notification_port/socket.io/?EIO=4&transport=polling") ||
	fail "no Engine.IO handshake"
grep -q '^0{"sid":' <<<"$handshake" || fail "Engine.IO handshake: $handshake"
grep -q '"pingInterval":25000' <<<"$handshake" || fail "Engine.IO handshake: $handshake"
code=$(curl -sS -o "$WORK/inbox.json" -w '%{http_code}' "http://127.0.0.1:$notification_port/notifications")
[ "$code" = 401 ] || fail "GET /notifications without a token answered $code"
grep -q '"error":"MISSING_TOKEN"' "$WORK/inbox.json" || fail "GET /notifications: $(cat "$WORK/inbox.json")"
code=$(curl -sS -o "$WORK/unknown.json" -w '%{http_code}' "http://127.0.0.1:$notification_port/nope")
[ "$code" = 404 ] || fail "unknown path answered $code"
grep -q '"message":"Cannot GET /nope"' "$WORK/unknown.json" || fail "unknown path: $(cat "$WORK/unknown.json")"
ok "notification: socket.io handshake, REST 401 envelope, NestJS 404"

kill -TERM "$pid"
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then fail "decode-async serve did not stop within 10 s of SIGTERM"; fi
set +e
wait "$pid"
status=$?
set -e
pid=
[ "$status" -eq 0 ] || fail "decode-async serve exited with $status after SIGTERM"
ok "SIGTERM shuts down cleanly"

# A service that fails at start-up ends the process by itself, says why at error level and exits
# non-zero (it used to hang, deaf to SIGTERM). The default topology declares email_queue.retry.1 with
# x-message-ttl 1000 (made sure of here, as `serve email` with defaults declares it); with
# EMAIL_RETRY_BASE_DELAY_MS=250 the consumer asks for 250 and the broker refuses the queue.declare
# with 406 PRECONDITION_FAILED, which no retry can fix.
"$REPO/.venv/bin/python" - "${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}" <<'PYTHON' ||
import sys, pika
connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
connection.channel().queue_declare("email_queue.retry.1", durable=True, arguments={
    "x-message-ttl": 1000, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "email_queue"})
connection.close()
PYTHON
	fail "could not make sure email_queue.retry.1 exists with the default x-message-ttl 1000"
conflict_port=$(free_port)
(cd "$WORK" && exec env -i PATH="$PATH" EMAIL_WORKER_PORT="$conflict_port" EMAIL_WORKER_HOST=127.0.0.1 \
	RABBITMQ_URI="${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}" SMTP_HOST=127.0.0.1 SMTP_PORT="$smtp_port" \
	SMTP_REQUIRE_TLS=false SMTP_FROM=noreply@decode.test EMAIL_RETRY_BASE_DELAY_MS=250 \
	"$BIN" serve email >"$WORK/serve.log" 2>&1) &
pid=$!
# Bounded wait for the process to end on its own; not a measure of how fast it does.
for _ in $(seq 1 300); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid" 2>/dev/null || true
	fail "serve email with a conflicting email_queue.retry.1 was still running 30 s after start-up failed"
fi
set +e
wait "$pid"
status=$?
set -e
pid=
[ "$status" -ne 0 ] || fail "serve email with a conflicting email_queue.retry.1 exited with status 0"
grep ' level=error ' "$WORK/serve.log" | grep 'email_queue\.retry\.1' | grep -q 'x-message-ttl' ||
	fail "no error line naming email_queue.retry.1 and x-message-ttl"
ok "a queue.declare refused with 406 stops serve: error logged, exit status $status"
