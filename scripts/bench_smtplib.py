"""Baseline for `decode-async-bench email`: Python's smtplib sending the same kind of mail
(multipart/alternative, text + HTML of similar size) straight to the same SMTP server, over
--pool connections in threads, no queue in between. Prints the same line format as BenchReport.

usage: bench_smtplib.py --messages N --pool K   (SMTP_HOST, SMTP_PORT from the environment)
"""

import argparse
import os
import threading
import time
from email.message import EmailMessage
import smtplib


def make_message(index):
    message = EmailMessage()
    message["From"] = "noreply@decode.local"
    message["To"] = f"bench{index}@example.org"
    message["Subject"] = "Verify Your Email - Create Your Decode Account"
    text = "Welcome to Decode!\n\nHi there,\n\n" + f"{index:06x}\n\nThis code will expire in 5 minutes.\n" * 3
    message.set_content(text)
    message.add_alternative("<html><body>" + "<p>Welcome to Decode!</p>" * 60 + "</body></html>", subtype="html")
    return message


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--pool", type=int, default=5)
    args = parser.parse_args()
    host = os.environ.get("SMTP_HOST", "127.0.0.1")
    port = int(os.environ.get("SMTP_PORT", "2525"))
    latencies = []
    lock = threading.Lock()
    next_index = [0]

    def worker():
        with smtplib.SMTP(host, port) as client:
            client.ehlo()
            while True:
                with lock:
                    index = next_index[0]
                    if index >= args.messages:
                        return
                    next_index[0] += 1
                started = time.perf_counter()
                client.send_message(make_message(index))
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.pool)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000
    name = f"email, pool {args.pool}".ljust(26)
    print(f"smtplib       {name}{args.messages / elapsed:10.0f} msg/s   p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")


if __name__ == "__main__":
    main()
