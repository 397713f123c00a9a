#!/usr/bin/env bash
# `decode-async email preview` renders locally; `email send-test` sends through the configured SMTP
# server, here an aiosmtpd server of the test's own (Tests/IntegrationTests/Peers/smtp_peer.py),
# which parses what arrived with Python's email package.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${DECODE_ASYNC_BIN:-$REPO/.build/debug/decode-async}
PY=$REPO/.venv/bin/python
WORK=$(mktemp -d)
peer=
cleanup() {
	[ -n "$peer" ] && kill "$peer" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "test_email_cli: FAIL: $*" >&2
	exit 1
}
ok() { echo "test_email_cli: ok: $*"; }
[ -x "$BIN" ] || fail "$BIN is not built (swift build)"

out=$("$BIN" email preview create-account --data '{"email":"a@b.io","otpCode":"3f9a1c"}')
grep -q '^Subject: Verify Your Email - Create Your Decode Account$' <<<"$out" || fail "preview: $out"
grep -q '^3f9a1c$' <<<"$out" || fail "preview lacks the code on its own line"
ok "preview prints subject and both parts"

html=$("$BIN" email preview new-email-change-verify --data "{\"email\":\"o'brien&co@b.io\",\"otpCode\":\"ab12cd\"}" --html)
grep -q '<strong>o&#39;brien&amp;co@b.io</strong>' <<<"$html" || fail "preview --html does not escape: $html"
text=$("$BIN" email preview welcome-message --text)
grep -q "account is now active" <<<"$text" || fail "preview --text: $text"
if grep -q '<' <<<"$text"; then fail "the text part holds markup"; fi
ok "preview --html escapes, --text is plain"

# EMAIL_TEMPLATES_DIR: preview renders the operator's wording, as the worker would.
cp -r "$REPO/Sources/EmailWorker/Templates" "$WORK/templates"
echo 'Your Decode account is ready, {{email}}' >"$WORK/templates/welcome-message/subject.mustache"
out=$(EMAIL_TEMPLATES_DIR="$WORK/templates" "$BIN" email preview welcome-message --data '{"email":"a@b.io"}')
grep -q '^Subject: Your Decode account is ready, a@b.io$' <<<"$out" || fail "preview ignores EMAIL_TEMPLATES_DIR: $out"
ok "preview renders the templates of EMAIL_TEMPLATES_DIR"

# A refusal is ArgumentParser's EX_USAGE (64) with its reason, not any failure (a crash is 132+).
set +e
"$BIN" email preview create-account --data '{"email":"a@b.io","otpCode":"<script>"}' >/dev/null 2>"$WORK/err"
status=$?
"$BIN" email preview newsletter >/dev/null 2>"$WORK/err2"
status2=$?
set -e
[ "$status" -eq 64 ] && grep -q "dead-letter this request: create-account: data.otpCode is not a short code" "$WORK/err" ||
	fail "preview of an invalid request: status $status, $(cat "$WORK/err")"
[ "$status2" -eq 64 ] && grep -q "'newsletter' is invalid" "$WORK/err2" ||
	fail "preview of an unknown type: status $status2, $(cat "$WORK/err2")"
ok "preview refuses what the worker would dead-letter"

"$PY" "$REPO/Tests/IntegrationTests/Peers/smtp_peer.py" plain "$WORK/peer" >"$WORK/peer.log" 2>&1 &
peer=$!
for _ in $(seq 1 100); do [ -f "$WORK/peer/port" ] && break; sleep 0.1; done
[ -f "$WORK/peer/port" ] || fail "smtp_peer did not start: $(cat "$WORK/peer.log")"
out=$(cd "$WORK" && env -i PATH="$PATH" SMTP_HOST=127.0.0.1 SMTP_PORT="$(cat "$WORK/peer/port")" SMTP_REQUIRE_TLS=false \
	SMTP_FROM="Decode <noreply@decode.test>" "$BIN" email send-test me@example.org --type fingerprint-verify)
grep -q '^sent fingerprint-verify to me@example.org via 127.0.0.1:[0-9]*: 250 2.0.0' <<<"$out" || fail "send-test: $out"
mail=$(cat "$WORK"/peer/mail/0001.json)
"$PY" - "$mail" <<'PYTHON' || fail "send-test mail: $mail"
import json, sys
mail = json.loads(sys.argv[1])
assert mail["rcpt_tos"] == ["me@example.org"], mail
assert mail["subject"] == "New Device Login - Verify Your Identity", mail
assert mail["from"] == "Decode <noreply@decode.test>", mail
assert "https://decode.com/change-password" in mail["text"] and "change-password" in mail["html"], mail
PYTHON
ok "send-test delivers one mail through the configured server"

set +e
(cd "$WORK" && env -i PATH="$PATH" SMTP_HOST=127.0.0.1 SMTP_PORT="$(cat "$WORK/peer/port")" SMTP_FROM=noreply@decode.test \
	"$BIN" email send-test me@example.org >"$WORK/out" 2>"$WORK/err")
status=$?
set -e
[ "$status" -eq 1 ] && grep -q "decode-async email send-test: .*tlsRequired" "$WORK/err" || fail "send-test without STARTTLS: status $status, $(cat "$WORK/err")"
ok "send-test with the default SMTP_REQUIRE_TLS=true refuses a server without STARTTLS"
