"""What the browser suites share: checks and waits, the served `decode-async` process, and the run
of a suite's tests with its report (`BROWSER_TESTS=name,name` runs a subset)."""

import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from ports import free_port  # noqa: E402,F401  (the suites take it from here)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_until(predicate, what, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class Served:
    """The built binary run with `arguments` and `env` (output to `log`), ready once every one of
    `ready_ports` answers `/ready` with 200; stopped with SIGTERM as an operator stops it."""

    def __init__(self, binary, arguments, env, log, cwd):
        self.command = [binary] + arguments
        self.env = env
        self.log = log
        self.cwd = cwd
        self.process = None

    def start(self, ready_ports, seconds):
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.cwd)
        deadline = time.time() + seconds
        for port in ready_ports:
            while not self._ready(port):
                if self.process.poll() is not None:
                    raise RuntimeError("%s exited with %s" % (" ".join(self.command[1:]), self.process.returncode))
                if time.time() > deadline:
                    raise RuntimeError("port %d was not ready within %d s" % (port, seconds))
                time.sleep(0.2)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @staticmethod
    def _ready(port):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/ready" % port, timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stop(self):
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def tail(self, lines=40):
        if os.path.exists(self.log):
            with open(self.log, errors="replace") as handle:
                return "".join("  serve: " + line for line in handle.readlines()[-lines:])
        return ""


class Report:
    """Counts and prints one suite's outcomes as `<name>: ok: ...` and `<name>: FAIL: ...`."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, message):
        self.passed += 1
        print("%s: ok: %s" % (self.name, message), flush=True)

    def fail(self, message, error=None):
        self.failed += 1
        print("%s: FAIL: %s" % (self.name, message), file=sys.stderr, flush=True)
        if error is not None and not isinstance(error, AssertionError):
            traceback.print_exc()

    def missing(self, files):
        """Fails the suite when one of `files` ((path, what) pairs) does not exist; True if so."""
        for path, what in files:
            if not os.path.exists(path):
                self.fail("%s is missing: %s" % (what, path))
                return True
        return False

    def run(self, tests, context):
        """Runs every test (or those named in `BROWSER_TESTS`); a failure is reported, the run goes on."""
        only = os.environ.get("BROWSER_TESTS")
        for test in tests:
            if only and test.__name__ not in only.split(","):
                continue
            try:
                test(context)
                self.ok(test.__name__.replace("_", " "))
            except Exception as error:  # noqa: BLE001 - every failure is reported, the run goes on
                self.fail("%s: %s" % (test.__name__, error), error)

    def summary(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0
