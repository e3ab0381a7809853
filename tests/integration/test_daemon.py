"""mentord as a daemon: it answers mail that arrives while it waits (IDLE),
lets the server's IDLE keepalives pass without leaving IDLE, reloads its
configuration on SIGHUP, and exits 0 on SIGTERM."""

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
    # Dovecot says "* OK Still here" every second instead of every 2 minutes.
    with Env("daemon", dovecot_settings=["imap_idle_notify_interval = 1 secs"]) as env:
        log = open(os.path.join(env.dir, "mentord.log"), "w+")
        # Working hours do not matter for answers; --now keeps the test
        # independent of today's date.
        proc = subprocess.Popen([env.mentord, "-c", env.conf, "--now", "2026-11-02T09:00",
                                 "--verbose"],
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
            # Quiet for a while: the keepalives arrive and change nothing.
            log.flush()
            before = open(log.name).read()
            time.sleep(3.5)
            during = open(log.name).read()[len(before):]
            keepalives = during.count("IDLE keepalive from the server")
            t.check(keepalives >= 2, "the server's IDLE keepalives reach it (%d in 3.5 s)"
                    % keepalives, during[-1500:])
            t.check("ingest:" not in during and "IDLE:" not in during
                    and "reconnect" not in during,
                    "a keepalive starts no cycle and no reconnection", during[-1500:])
            start = time.monotonic()
            env.deliver("ida@example.org", "hello", "And me.")
            got = wait_mail(env, 2)
            t.check(got and recipients(env.sent()[1]) == ["ida@example.org"],
                    "mail after the keepalives is answered (%.1f s)"
                    % (time.monotonic() - start))
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            env.deliver("hal@example.org", "hello", "Me too.")
            t.check(wait_mail(env, 3), "it keeps working after SIGHUP")
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
            t.check(env.sql("SELECT count(*) FROM messages")[0][0] == 3,
                    "the three messages are stored")
    t.finish()


if __name__ == "__main__":
    main()
