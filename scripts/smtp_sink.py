#!/usr/bin/env python3
"""SMTP sink for the local stack (started by scripts/stack).

Listens with aiosmtpd and writes every accepted message to MAIL_DIR/<n>.eml
(n zero-padded, increasing across restarts). The file is the message as
received, preceded by X-Envelope-From / X-Envelope-To headers carrying the
SMTP envelope. Files appear atomically (written to a dot-file, then renamed).

usage: smtp_sink.py HOST PORT MAIL_DIR
"""

import os
import re
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class MaildirSink:
    def __init__(self, mail_dir):
        self.mail_dir = mail_dir
        self.lock = threading.Lock()
        os.makedirs(mail_dir, exist_ok=True)
        numbers = [int(m.group(1)) for name in os.listdir(mail_dir)
                   if (m := re.fullmatch(r"(\d+)\.eml", name))]
        self.counter = max(numbers, default=0)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        header = (f"X-Envelope-From: {envelope.mail_from}\r\n"
                  f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        with self.lock:
            self.counter += 1
            name = f"{self.counter:06d}.eml"
        tmp = os.path.join(self.mail_dir, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(header + content)
        os.rename(tmp, os.path.join(self.mail_dir, name))
        print(f"smtp_sink: {name} from <{envelope.mail_from}> to "
              f"{envelope.rcpt_tos} ({len(content)} bytes)", flush=True)
        return "250 Message accepted for delivery"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    host, port, mail_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller = Controller(MaildirSink(mail_dir), hostname=host, port=port)
    controller.start()
    print(f"smtp_sink: listening on {host}:{port}, writing to {mail_dir}", flush=True)
    stop.wait()
    controller.stop()
    print("smtp_sink: stopped", flush=True)


if __name__ == "__main__":
    main()
