#!/usr/bin/env bash
# The operator commands against the local RabbitMQ, checked with an independent client (pika):
# `emit` publishes a NestJS envelope (persistent, confirmed); `dlq list|show|replay|purge` operate
# dead letters shaped as the queue consumer writes them.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${DECODE_ASYNC_BIN:-$REPO/.build/debug/decode-async}
PY=$REPO/.venv/bin/python
PEER=$REPO/Tests/IntegrationTests/Peers/pika_peer.py
QUEUE="cli.test.$$.$RANDOM"
eval "$("$REPO/scripts/stack" env)"
trap '"$PY" "$PEER" delete "$QUEUE" "$QUEUE.dlq" >/dev/null 2>&1 || true' EXIT

fail() {
	echo "test_amqp_cli: FAIL: $*" >&2
	exit 1
}
ok() { echo "test_amqp_cli: ok: $*"; }
# refused STATUS PATTERN CMD...: CMD exits with STATUS (not a crash, not any failure) and says PATTERN
# on standard output or error. Reads standard input, for commands that ask.
refused() {
	local want=$1 pattern=$2 out status
	shift 2
	set +e
	out=$("$@" 2>&1)
	status=$?
	set -e
	[ "$status" -eq "$want" ] || fail "$*: exit status $status, expected $want: $out"
	grep -q -- "$pattern" <<<"$out" || fail "$*: no '$pattern' in: $out"
}
field() { "$PY" -c 'import json,sys; v=json.load(sys.stdin); print(json.dumps(v[sys.argv[1]]) if v else "null")' "$1"; }

# emit: --data inline, @file and stdin.
"$BIN" emit create_notification --queue "$QUEUE" --message-id cli-1 \
	--data '{"user_id":"665f1c2e9b1d4a0012345678","type":"new_follow","title":"t","message":"m"}' >/dev/null
message=$("$PY" "$PEER" get "$QUEUE")
[ "$(field keys <<<"$message")" = '["pattern", "data"]' ] || fail "emit: keys $(field keys <<<"$message")"
[ "$(field delivery_mode <<<"$message")" = 2 ] || fail "emit: not persistent"
[ "$(field message_id <<<"$message")" = '"cli-1"' ] || fail "emit: message_id"
printf '{"n":1}' >"$REPO/.stack/emit-data.json"
"$BIN" emit from_file --queue "$QUEUE" --data "@$REPO/.stack/emit-data.json" >/dev/null
rm -f "$REPO/.stack/emit-data.json"
expected='"{\"pattern\":\"from_file\",\"data\":{\"n\":1}}"'
[ "$(field body <<<"$("$PY" "$PEER" get "$QUEUE")")" = "$expected" ] || fail "emit @file"
echo '[1,2]' | "$BIN" emit from_stdin --queue "$QUEUE" --data - >/dev/null
grep -q 'from_stdin' <<<"$("$PY" "$PEER" get "$QUEUE")" || fail "emit from stdin"
# ArgumentParser's ValidationError: EX_USAGE (64), "Error: --data: ...".
refused 64 'Error: --data: ' "$BIN" emit bad --queue "$QUEUE" --data '{not json'
[ "$("$PY" "$PEER" get "$QUEUE")" = null ] || fail "emit published invalid JSON"
ok "emit publishes NestJS envelopes (inline, @file, stdin) and refuses invalid JSON"

# dlq: two dead letters written as the consumer writes them.
"$PY" "$PEER" publish-dead "$QUEUE" dead-1 "SMTP 451 try again later"
"$PY" "$PEER" publish-dead "$QUEUE" dead-2 "550 mailbox unavailable"
listing=$("$BIN" dlq list "$QUEUE")
grep -q 'dead-1 .*email_request .*retries_exhausted .*3 .*SMTP 451 try again later' <<<"$listing" || fail "dlq list: $listing"
grep -q 'dead-2' <<<"$listing" || fail "dlq list misses dead-2"
listing=$("$BIN" dlq list "$QUEUE")
grep -q dead-1 <<<"$listing" || fail "dlq list consumed the letters: $listing"
ok "dlq list shows reason and history without consuming"

shown=$("$BIN" dlq show "$QUEUE" dead-2)
grep -q '^reason: *550 mailbox unavailable' <<<"$shown" || fail "dlq show: $shown"
grep -q 'welcome-message' <<<"$shown" || fail "dlq show has no body"
ok "dlq show prints history, headers and body"

out=$("$BIN" dlq replay "$QUEUE" --message-id dead-1)
grep -q 'replayed 1 message' <<<"$out" || fail "dlq replay --message-id: $out"
replayed=$("$PY" "$PEER" get "$QUEUE")
[ "$(field message_id <<<"$replayed")" = '"dead-1"' ] || fail "replayed message not in $QUEUE"
[ "$(field headers <<<"$replayed")" = '{"x-trace": "keep-me", "x-replay-count": 1}' ] ||
	fail "replay headers (history removed, ours kept, replay counted): $(field headers <<<"$replayed")"
listing=$("$BIN" dlq list "$QUEUE")
grep -q dead-2 <<<"$listing" || fail "dead-2 left the DLQ: $listing"
ok "dlq replay moves one letter back with its history and retry count removed"

"$PY" "$PEER" publish-dead "$QUEUE" dead-3 "to be deleted"
out=$("$BIN" dlq delete "$QUEUE" --message-id dead-3)
grep -q 'deleted 1 message' <<<"$out" || fail "dlq delete: $out"
listing=$("$BIN" dlq list "$QUEUE")
grep -q dead-3 <<<"$listing" && fail "dlq delete left dead-3: $listing"
grep -q dead-2 <<<"$listing" || fail "dlq delete took dead-2 too: $listing"
refused 1 'deleted 0 message' "$BIN" dlq delete "$QUEUE" --message-id no-such-letter
ok "dlq delete removes only the named letter, and says when it found none"

refused 1 'not confirmed; nothing deleted' "$BIN" dlq purge "$QUEUE" <<<wrong
listing=$("$BIN" dlq list "$QUEUE")
grep -q dead-2 <<<"$listing" || fail "unconfirmed purge deleted letters: $listing"
out=$("$BIN" dlq purge "$QUEUE" --yes)
grep -q 'purged 1 message' <<<"$out" || fail "dlq purge --yes: $out"
listing=$("$BIN" dlq list "$QUEUE")
grep -q 'is empty' <<<"$listing" || fail "DLQ not empty after purge: $listing"
refused 1 "$QUEUE.never.dlq does not exist" "$BIN" dlq list "$QUEUE.never"
ok "dlq purge asks for confirmation, then empties the DLQ"
