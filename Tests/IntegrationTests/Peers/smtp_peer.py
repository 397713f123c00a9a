"""An SMTP server (aiosmtpd) for the email integration tests, on a free port of its own.

  smtp_peer.py MODE STATE_DIR [--port N] [--failures N] [--pipelining]

MODE:
  plain     accepts everything, no TLS, no AUTH
  secure    STARTTLS required (self-signed certificate made at start) and AUTH required
            (user "mailer", password "s3cret-pw"; PLAIN and LOGIN)
  flaky     answers the first --failures DATA commands with 451 4.3.0, then accepts
  reject    answers every RCPT with 550 5.1.1
  implicit  TLS from the first byte (self-signed certificate), no AUTH

--pipelining announces PIPELINING (aiosmtpd reads commands in order from its stream, so
pipelined MAIL/RCPT/DATA are answered in order, as RFC 2920 asks).

Writes STATE_DIR/port when listening and STATE_DIR/cert.pem in secure mode. Every accepted
message becomes STATE_DIR/mail/NNNN.json, parsed with Python's email package (an independent
MIME reader): envelope, headers, decoded subject, text and HTML parts. Stops on SIGTERM.
"""

import argparse
import email
import email.policy
import errno
import json
import os
import signal
import ssl
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from ports import free_port  # noqa: E402

USER = b"mailer"
PASSWORD = b"s3cret-pw"


class Handler:
    def __init__(self, state_dir, mode, failures, pipelining=False):
        self.mail_dir = os.path.join(state_dir, "mail")
        os.makedirs(self.mail_dir, exist_ok=True)
        self.mode = mode
        self.pipelining = pipelining
        self.failures = failures
        self.lock = threading.Lock()
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject":
            return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.mode == "flaky" and self.failures > 0:
                self.failures -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self.count += 1
            number = self.count
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_subtype()] = part.get_content()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "client_port": session.peer[1] if session.peer else None,
            "authenticated": bool(session.authenticated),
            "subject": str(message["subject"]),
            "from": str(message["from"]),
            "to": str(message["to"]),
            "date": str(message["date"]),
            "message_id": str(message["message-id"]),
            "content_type": message.get_content_type(),
            "email_type": str(message.get("x-decode-email-type", "")),
            "text": parts.get("plain"),
            "html": parts.get("html"),
            "longest_line": max((len(line) for line in raw.split(b"\r\n")), default=0),
            "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
        }
        tmp = os.path.join(self.mail_dir, f".{number:04d}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.mail_dir, f"{number:04d}.json"))
        return "250 2.0.0 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER and auth_data.password == PASSWORD
    return AuthResult(success=ok, handled=False)


def make_certificate(state_dir):
    cert = os.path.join(state_dir, "cert.pem")
    key = os.path.join(state_dir, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def start_controller(handler, fixed_port, options):
    """Listens on `fixed_port`, or on a free port of its own; another test can take a picked port
    before aiosmtpd binds it, so a picked port that turns out taken is replaced (up to 20 times)."""
    attempts = 1 if fixed_port else 20
    for attempt in range(attempts):
        port = fixed_port or free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="localhost", **options)
        try:
            controller.start()
            return controller, port
        except OSError as error:
            if error.errno != errno.EADDRINUSE or attempt == attempts - 1:
                raise


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["plain", "secure", "flaky", "reject", "implicit"])
    parser.add_argument("state_dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--failures", type=int, default=1)
    parser.add_argument("--pipelining", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    handler = Handler(args.state_dir, args.mode, args.failures, args.pipelining)
    options = {}
    if args.mode == "secure":
        options = dict(tls_context=make_certificate(args.state_dir), require_starttls=True, auth_required=True,
                       auth_require_tls=True, authenticator=authenticator)
    elif args.mode == "implicit":
        options = dict(ssl_context=make_certificate(args.state_dir))
    controller, port = start_controller(handler, args.port, options)
    with open(os.path.join(args.state_dir, ".port"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(args.state_dir, ".port"), os.path.join(args.state_dir, "port"))
    stop = threading.Event()
    # The test process may block SIGTERM, and spawned processes inherit the mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
