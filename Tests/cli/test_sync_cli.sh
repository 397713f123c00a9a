#!/usr/bin/env bash
# The sync commands and `serve sync` against the local stack, as an operator runs them: a user in
# MongoDB is written with `sync users`, a planted difference is found by `sync check` and repaired
# by `sync check --fix` through the running `serve sync`, and a NestJS-style create on
# neo4j_sync_queue becomes a node. The graph is read back with the Python neo4j driver.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${DECODE_ASYNC_BIN:-$REPO/.build/debug/decode-async}
PY=${DECODE_ASYNC_PYTHON:-$REPO/.venv/bin/python}
WORK=$(mktemp -d)
pid=
DB="decode_sync_cli_$RANDOM$RANDOM"
export MONGO_URI=${MONGO_URI:-mongodb://127.0.0.1:27017} MONGO_DB_NAME=$DB
export NEO4J_URI=${NEO4J_URI:-bolt://127.0.0.1:7687} NEO4J_USER=${NEO4J_USER:-root}
export NEO4J_PASSWORD=${NEO4J_PASSWORD:-decode-async-dev}
export RABBITMQ_URI=${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672}

ids=()
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	"$PY" - "$DB" "${ids[@]}" <<'PY' || true
import os, sys, pymongo
from neo4j import GraphDatabase
pymongo.MongoClient(os.environ["MONGO_URI"]).drop_database(sys.argv[1])
ids = sys.argv[2:]
with GraphDatabase.driver(os.environ["NEO4J_URI"], auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])) as d:
    with d.session() as s:
        s.run("UNWIND $ids AS id MATCH (n) WHERE (n:User OR n:UserSyncState) AND n.user_id = id DETACH DELETE n", ids=ids).consume()
PY
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "test_sync_cli: FAIL: $*" >&2
	[ -f "$WORK/serve.log" ] && sed 's/^/  serve: /' "$WORK/serve.log" >&2
	exit 1
}
ok() { echo "test_sync_cli: ok: $*"; }
[ -x "$BIN" ] || fail "$BIN is not built (swift build)"

new_id() { "$PY" -c 'import bson; print(bson.ObjectId())'; }
mongo() { "$PY" -c "import os, pymongo, bson, datetime; db = pymongo.MongoClient(os.environ['MONGO_URI'])[os.environ['MONGO_DB_NAME']]; $1"; }
node() {
	"$PY" - "$1" <<'PY'
import json, os, sys
from neo4j import GraphDatabase
with GraphDatabase.driver(os.environ["NEO4J_URI"], auth=(os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])) as d:
    with d.session() as s:
        nodes = [dict(r["u"].items()) for r in s.run("MATCH (u:User {user_id: $id}) RETURN u", id=sys.argv[1])]
print(json.dumps(nodes, sort_keys=True))
PY
}

user=$(new_id)
ids+=("$user")
mongo "db.users.insert_one({'_id': bson.ObjectId('$user'), 'username': 'cli-user', 'display_name': 'CLI User', 'role': 'user', 'avatar_ipfs_hash': 'bafk', 'email': 'cli@example.com', 'password_hashed': 'x', 'updatedAt': datetime.datetime(2025, 1, 1)})"

(cd "$WORK" && "$BIN" sync users --id "$user" >"$WORK/users.out" 2>"$WORK/users.err") || fail "sync users: $(cat "$WORK/users.out" "$WORK/users.err")"
grep -q 'synced 1 of 1 users: 1 created' "$WORK/users.out" || fail "sync users: $(cat "$WORK/users.out")"
nodes=$(node "$user")
[ "$nodes" = '[{"avatar_ipfs_hash": "bafk", "display_name": "CLI User", "followers_number": 0.0, "following_number": 0.0, "role": "user", "user_id": "'"$user"'", "username": "cli-user"}]' ] ||
	fail "sync users wrote $nodes"
ok "sync users --id writes exactly the seven properties"

(cd "$WORK" && "$BIN" sync check >"$WORK/check.out" 2>/dev/null) || fail "sync check found differences: $(cat "$WORK/check.out")"
grep -q 'MongoDB and the graph agree' "$WORK/check.out" || fail "sync check: $(cat "$WORK/check.out")"
mongo "db.users.update_one({'_id': bson.ObjectId('$user')}, {'\$set': {'role': 'moderator'}})"
set +e
(cd "$WORK" && "$BIN" sync check >"$WORK/check.out" 2>/dev/null)
status=$?
set -e
[ "$status" -eq 1 ] || fail "sync check exited $status with a planted difference"
grep -q "^$user: role mongo=\"moderator\" graph=\"user\"$" "$WORK/check.out" || fail "sync check: $(cat "$WORK/check.out")"
ok "sync check reports a planted difference and exits 1"

port=$("$PY" "$REPO/Tests/support/ports.py")
(cd "$WORK" && exec env NEO4JDB_SYNC_PORT="$port" NEO4JDB_SYNC_HOST=127.0.0.1 SYNC_ADMIN_TOKEN=admin-secret-4 SYNC_VALIDATE=true \
	"$BIN" serve sync >"$WORK/serve.log" 2>&1) &
pid=$!
for _ in $(seq 1 200); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ] && break
	kill -0 "$pid" 2>/dev/null || fail "serve sync exited early"
	sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" = 200 ] || fail "serve sync never became ready: $(curl -s "http://127.0.0.1:$port/ready")"
ok "serve sync is ready (rabbitmq, mongodb, neo4j, consumer)"

# The HTTP endpoints: admin token required; GET /sync/check sees the planted difference.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/sync/check")
[ "$code" = 401 ] || fail "GET /sync/check without a token answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' -X POST "http://127.0.0.1:$port/sync/users/$user")
[ "$code" = 401 ] || fail "POST /sync/users/:id with a wrong token answered $code"
auth='Authorization: Bearer admin-secret-4'
body=$(curl -fsS -H "$auth" "http://127.0.0.1:$port/sync/check") || fail "GET /sync/check failed"
grep -q '"fields":{"role":{"graph":"user","mongo":"moderator"}},"missing_node":false,"user_id":"'"$user"'"' <<<"$body" ||
	fail "GET /sync/check: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -X POST "http://127.0.0.1:$port/sync/users/not-an-id")
[ "$code" = 400 ] || fail "POST /sync/users/not-an-id answered $code"
ok "the /sync endpoints need the admin token; GET /sync/check lists the difference"

(cd "$WORK" && "$BIN" sync check --fix >"$WORK/fix.out" 2>/dev/null) || fail "sync check --fix: $(cat "$WORK/fix.out")"
grep -q 'emitted 1 update_user_request' "$WORK/fix.out" || fail "sync check --fix: $(cat "$WORK/fix.out")"
for _ in $(seq 1 100); do
	node "$user" | grep -q '"role": "moderator"' && break
	sleep 0.1
done
node "$user" | grep -q '"role": "moderator"' || fail "the repair was not applied: $(node "$user")"
ok "sync check --fix emits a repair that serve sync applies"

mongo "db.users.update_one({'_id': bson.ObjectId('$user')}, {'\$set': {'display_name': 'Via HTTP'}})"
body=$(curl -fsS -H "$auth" -X POST "http://127.0.0.1:$port/sync/users/$user") || fail "POST /sync/users/:id failed"
grep -q '"outcome":"updated"' <<<"$body" || fail "POST /sync/users/:id: $body"
grep -q '"display_name":"Via HTTP"' <<<"$body" || fail "POST /sync/users/:id: $body"
grep -q '"followers_number":0' <<<"$body" || fail "POST /sync/users/:id: $body"
node "$user" | grep -q '"display_name": "Via HTTP"' || fail "POST /sync/users/:id did not write: $(node "$user")"
body=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' -X POST -d '{"ids":["'"$user"'"]}' "http://127.0.0.1:$port/sync/users") ||
	fail "POST /sync/users failed"
grep -q '"read":1' <<<"$body" || fail "POST /sync/users: $body"
ok "POST /sync/users/:id applies the MongoDB user at once and answers with the node"

created=$(new_id)
ids+=("$created")
"$PY" "$REPO/Tests/IntegrationTests/Peers/pika_peer.py" publish-nest neo4j_sync_queue create_user_request \
	'{"_id":"'"$created"'","username":"from-nest","display_name":"from-nest","role":"user","avatar_ipfs_hash":"bafk","email":"n@example.com","password_hashed":"$2b$10$x"}'
for _ in $(seq 1 100); do
	node "$created" | grep -q '"username": "from-nest"' && break
	sleep 0.1
done
node "$created" | grep -q '"username": "from-nest"' || fail "a NestJS create on neo4j_sync_queue did not become a node"
node "$created" | grep -q email && fail "email reached the node"
# SYNC_VALIDATE reads the node back after the commit and counts the outcome: wait for that count
# (the last thing the handler records), then nothing may have differed or failed to read.
# (Metrics are read into a variable first: `curl | grep -q` fails under pipefail when grep stops early.)
for _ in $(seq 1 100); do
	metrics=$(curl -s "http://127.0.0.1:$port/metrics")
	grep -q 'sync_validation_ok{.*operation="createUser"' <<<"$metrics" && break
	sleep 0.1
done
grep -q 'sync_validation_ok{.*operation="createUser"' <<<"$metrics" || fail "no sync.validation.ok: $(grep sync_ <<<"$metrics")"
grep -q 'sync_user_created{.*status="success"' <<<"$metrics" || fail "no sync.user.created metric"
if grep -q 'sync_validation_\(mismatch\|failed\)' <<<"$metrics"; then
	fail "validation found a mismatch or failed to read: $(grep sync_validation <<<"$metrics")"
fi
ok "a NestJS create_user_request on neo4j_sync_queue becomes a node; sync.user.created and sync.validation.ok counted"

kill -TERM "$pid"
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "serve sync did not stop within 10 s of SIGTERM"
set +e
wait "$pid"
status=$?
set -e
pid=
[ "$status" -eq 0 ] || fail "serve sync exited with $status after SIGTERM"
ok "SIGTERM stops serve sync cleanly"
