"""mentord as a daemon: it answers mail that arrives while it waits (IDLE),
reloads its configuration on SIGHUP, and exits 0 on SIGTERM."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import Checker, Env, recipients  # noqa: E402


def wait_mail(env, n, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(env.sent()) >= n:
            return True
        time.sleep(0.1)
    return False


def main():
    t = Checker()
    with Env("daemon") as env:
        log = open(os.path.join(env.dir, "mentord.log"), "w+")
        # Working hours do not matter for answers; --now keeps the test
        # independent of today's date.
        proc = subprocess.Popen([env.mentord, "-c", env.conf, "--now", "2026-11-02T09:00"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            time.sleep(1.5)
            t.check(proc.poll() is None, "the daemon keeps running")
            start = time.monotonic()
            env.deliver("gina@example.org", "hello", "I would like to join.")
            got = wait_mail(env, 1)
            took = time.monotonic() - start
            t.check(got and recipients(env.sent()[0]) == ["gina@example.org"],
                    "mail that arrives while it waits is answered (%.1f s)" % took)
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            env.deliver("hal@example.org", "hello", "Me too.")
            t.check(wait_mail(env, 2), "it keeps working after SIGHUP")
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                rc = None
            t.check(rc == 0, "SIGTERM ends it with exit 0", rc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.seek(0)
            text = log.read()
            t.check("configuration reloaded" in text, "SIGHUP reloads the configuration", text[-2000:])
            env.check_sanitizers(subprocess.CompletedProcess([], 0, "", text))
            t.check(env.sql("SELECT count(*) FROM messages")[0][0] == 2, "both messages are stored")
    t.finish()


if __name__ == "__main__":
    main()
