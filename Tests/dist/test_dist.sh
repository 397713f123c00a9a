#!/usr/bin/env bash
# Checks the release tarball of `make dist` as a deployment would use it: unpacked into an empty
# directory, the binary needs no Swift toolchain library (the runtime and Foundation are linked
# statically; libmongoc and the C libraries come from the system), finds its resources beside
# itself (the build directory is moved away while it runs, so nothing can come from there), and
# `serve` reaches /ready for every service against the local stack, then stops cleanly on SIGTERM.
#
# Usage: Tests/dist/test_dist.sh dist/decode-async-<version>-linux-<arch>.tar.gz
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TARBALL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
WORK=$(mktemp -d)
pid=
hidden=
restore() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -n "$hidden" ] && mv "$hidden" "$REPO/.build-dist"
	rm -rf "$WORK"
}
trap restore EXIT

fail() {
	echo "test_dist: FAIL: $*" >&2
	[ -f "$WORK/serve.log" ] && tail -n 40 "$WORK/serve.log" | sed 's/^/  serve: /' >&2
	exit 1
}
ok() { echo "test_dist: ok: $*"; }

[ -f "$TARBALL" ] || fail "$TARBALL does not exist (make dist)"
tar -xzf "$TARBALL" -C "$WORK"
root="$WORK/$(basename "$TARBALL" .tar.gz)"
BIN="$root/decode-async"
[ -x "$BIN" ] || fail "no executable decode-async at the top of the tarball"
for bundle in decode-async_EmailWorker.resources/Templates decode-async_NotificationService.resources/openapi.json \
	decode-async_Console.resources \
	decode-async@.service decode-async.env.example; do
	[ -e "$root/$bundle" ] || fail "the tarball lacks $bundle"
done

# Linked: no Swift toolchain library, libmongoc from the system, nothing missing.
ldd "$BIN" >"$WORK/ldd.txt"
if grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|not found' "$WORK/ldd.txt"; then
	fail "the binary needs libraries a bare Debian with libmongoc does not have"
fi
grep -q 'libmongoc-1.0.so' "$WORK/ldd.txt" || fail "the binary does not link libmongoc: $(cat "$WORK/ldd.txt")"
ok "linked statically against the Swift runtime; needs only libmongoc and C libraries ($(wc -l <"$WORK/ldd.txt") entries)"

# Nothing may come from the build directory while the unpacked copy runs.
if [ -d "$REPO/.build-dist" ]; then
	hidden="$REPO/.build-dist.hidden-$$"
	mv "$REPO/.build-dist" "$hidden"
fi

# The templates, from the bundle beside the binary.
(cd "$WORK" && env -i PATH=/usr/bin:/bin "$BIN" email preview welcome-message --text >"$WORK/preview.txt") ||
	fail "email preview failed"
[ -s "$WORK/preview.txt" ] || fail "email preview printed nothing"
ok "email preview renders a bundled template from beside the binary"

free_port() { python3 "$REPO/Tests/support/ports.py"; }
notification_port=$(free_port)
email_port=$(free_port)
sync_port=$(free_port)
console_port=$(free_port)
eval "$("$REPO/scripts/stack" env)"
(cd "$WORK" && exec env -i PATH=/usr/bin:/bin HOME="$WORK" \
	RABBITMQ_URI="$RABBITMQ_URI" REDIS_URI="$REDIS_URI" MONGO_URI="$MONGO_URI" MONGO_DB_NAME="decode_dist_$$" \
	NEO4J_URI="$NEO4J_URI" NEO4J_USER="$NEO4J_USER" NEO4J_PASSWORD="$NEO4J_PASSWORD" \
	SMTP_HOST="$SMTP_HOST" SMTP_PORT="$SMTP_PORT" SMTP_REQUIRE_TLS=false SMTP_FROM="$SMTP_FROM" \
	JWT_ACCESS_TOKEN_SECRET="$JWT_ACCESS_TOKEN_SECRET" \
	NOTIFICATION_HOST=127.0.0.1 NOTIFICATION_PORT="$notification_port" EMAIL_WORKER_HOST=127.0.0.1 \
	EMAIL_WORKER_PORT="$email_port" NEO4JDB_SYNC_HOST=127.0.0.1 NEO4JDB_SYNC_PORT="$sync_port" \
	CONSOLE_TOKEN=dist-test-console-token CONSOLE_PORT="$console_port" \
	"$BIN" serve >"$WORK/serve.log" 2>&1) &
pid=$!

for port in "$notification_port" "$email_port" "$sync_port" "$console_port"; do
	ready=
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || fail "serve exited before it was ready"
		if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then
			ready=1
			break
		fi
		sleep 0.2
	done
	[ -n "$ready" ] || fail "/ready on port $port did not answer 200 within 60 s: $(curl -sS "http://127.0.0.1:$port/ready" || true)"
done
ok "serve: /ready answers 200 for notifications, email, sync and the console"

curl -fsS "http://127.0.0.1:$notification_port/api/docs/openapi.json" >"$WORK/openapi.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d.get("openapi") and d.get("paths") else 1)' \
	"$WORK/openapi.json" || fail "the OpenAPI document is not the bundled one: $(head -c 200 "$WORK/openapi.json")"
ok "the OpenAPI document comes from the bundle beside the binary"

curl -fsS "http://127.0.0.1:$console_port/login" >"$WORK/login.html"
grep -q 'name="token"' "$WORK/login.html" || fail "the console's sign-in page is not the bundled one: $(head -c 200 "$WORK/login.html")"
curl -fsS "http://127.0.0.1:$console_port/static/console.css" >/dev/null || fail "the console's stylesheet is missing"
ok "the console's page comes from the bundle beside the binary"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "SIGTERM: exit status $status"
ok "SIGTERM stops it cleanly"
python3 -c 'import pymongo, sys; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])' "$MONGO_URI" "decode_dist_$$" \
	2>/dev/null || "$REPO/.venv/bin/python" -c 'import pymongo, sys; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])' \
	"$MONGO_URI" "decode_dist_$$"
