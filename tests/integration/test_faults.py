"""Faults, through the real mentord against real servers:

- Dovecot stopped and restarted while mentord (the daemon) ingests a
  backlog, and while it waits in IDLE: nothing lost, nothing doubled, it
  reconnects by itself;
- the SMTP server answering 421 at the greeting, 421 after MAIL FROM, 451
  after DATA, 550 at RCPT, vanishing mid-DATA, and not listening at all: 4xx
  and network errors are retried with backoff, 5xx is failed and reported
  to the coordinator, nothing is sent twice;
- SQLite locked by a second process: mentord waits, says so in its log,
  and when the lock outlives its patience gives up the cycle without
  losing or flagging anything, then catches up;
- the disk full while storing: the message is not flagged on the server,
  and the daemon recovers by itself when space returns;
- the systemd watchdog: READY=1, then WATCHDOG=1 at less than the
  interval, while idle and while draining a backlog."""

import base64
import datetime
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from dovecot import _children  # noqa: E402
from mentord_env import COORDINATOR, Checker, Env, recipients  # noqa: E402

PYTHON = "/usr/bin/python3"


class Daemon:
    """mentord running as a daemon with its log in a file."""

    def __init__(self, env, now, name="mentord", extra_env=None, wrapper=None):
        self.env = env
        self.log_path = os.path.join(env.dir, name + ".log")
        self.log = open(self.log_path, "ab")
        cmd = [env.mentord, "-c", env.conf, "--now", now]
        if wrapper:
            cmd = wrapper + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(extra_env or {})))

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.env.check_sanitizers(subprocess.CompletedProcess([], 0, "", self.text()))
        return self.proc.returncode


def wait_for(cond, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def count(env, query, *params):
    if not os.path.exists(env.db):
        return 0  # not created yet (connecting would create an empty file)
    try:
        return env.sql(query, *params)[0][0]
    except sqlite3.OperationalError:
        return 0  # the schema is not there yet


def stop_dovecot_now(env):
    """Stops Dovecot, its IMAP sessions first and at once (SIGKILL), so the
    connection is cut at this instant rather than when the master gets to
    it; returns the number of messages stored at that instant."""
    for pid in _children(env.dovecot.pid):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "imap":
                    os.kill(pid, signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError):
            pass
    stored = count(env, "SELECT count(*) FROM messages")
    env.dovecot.stop()
    return stored


def unseen(env):
    return sum("\\Seen" not in f for _, f, _ in env.dovecot.list("INBOX"))


def sent_ids(env):
    return [m["parsed"]["Message-ID"] for m in env.sent()]


def sigterm_backlog(t):
    """SIGTERM in the middle of a backlog: the monitor passes it to the
    cycle, which stops after the current message (its batch half parsed
    ahead), commits and flags what it did, and the daemon exits 0 at once;
    the next run does the rest, nothing twice."""
    with Env("faults-term") as env:
        total = 400
        mids = [env.deliver("t%03d@example.org" % i, "hello", "How do I join?")
                for i in range(total)]
        d = Daemon(env, "2026-11-10T10:00")
        try:
            d.wait_log("started", 15)
            wait_for(lambda: count(env, "SELECT count(*) FROM messages") >= 3, 30, 0.002)
            d.proc.send_signal(signal.SIGTERM)
            start = time.monotonic()
            try:
                rc = d.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - start
        finally:
            rc_stop = d.stop()
        stored = count(env, "SELECT count(*) FROM messages")
        t.check(rc == 0 and rc_stop == 0 and took < 10,
                "SIGTERM during the backlog ends the daemon with exit 0 (%.1f s)" % took, rc)
        t.check(0 < stored < total, "it stopped in the middle (%d of %d stored)"
                % (stored, total))
        t.check(unseen(env) == total - stored,
                "what it stored is flagged, the rest is not (%d unseen)" % unseen(env))
        t.check(cycle_children(d.proc.pid) == [], "no cycle process is left behind")
        # The next run comes later, as it would: the daemon's clock ran on
        # from 10:00 while it started (a second or more under ASan), and
        # what it queued is due from its own "now"; a run at 10:00 again
        # would find those answers not yet due and leave them queued.
        env.run("2026-11-10T10:01")
        stored_by = dict(env.sql("SELECT message_id, count(*) FROM messages GROUP BY message_id"))
        t.check(all(stored_by.get(m) == 1 for m in mids) and unseen(env) == 0,
                "the next run stores the rest, every message once")
        per = {}
        for m in env.sent():
            for r in recipients(m):
                per[r] = per.get(r, 0) + 1
        wrong = {r: n for r, n in per.items() if n != 1}
        missing = total - len(per)
        t.check(missing == 0 and not wrong,
                "every sender answered exactly once",
                "%d not answered, outbox %s; answered more than once: %s"
                % (missing, env.sql("SELECT status, count(*) FROM outbox GROUP BY status"),
                   wrong))


def cycle_children(pid):
    """PIDs of the processes whose parent is pid."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def cycle_crash(t):
    """The daemon runs each cycle in a child process: one that dies in the
    middle of a backlog (killed here, as the OOM killer or a bug on some
    message would) is logged, the daemon lives on, and the next cycle, after
    a backoff, finishes the work: nothing lost, nothing done twice."""
    with Env("faults-cycle") as env:
        total = 300
        mids = [env.deliver("c%03d@example.org" % i, "hello", "How do I join?")
                for i in range(total)]
        d = Daemon(env, "2026-11-10T10:00")
        try:
            d.wait_log("started", 15)
            wait_for(lambda: count(env, "SELECT count(*) FROM messages") >= 3, 30, 0.002)
            kids = cycle_children(d.proc.pid)
            for k in kids:
                os.kill(k, signal.SIGKILL)
            at_kill = count(env, "SELECT count(*) FROM messages")
            t.check(len(kids) == 1 and at_kill < total,
                    "the cycle process is killed in the middle of the backlog (%d of %d stored)"
                    % (at_kill, total), kids)
            ok = wait_for(lambda: count(env, "SELECT count(*) FROM messages") == total
                          and len(env.sent()) >= total and unseen(env) == 0, 60, 0.3)
            text = d.text()
            t.check("the cycle process was killed by signal 9" in text,
                    "the dead cycle is logged", text[-1500:])
            t.check(d.proc.poll() is None, "the daemon lives on")
            t.check(ok, "the next cycle drains the mailbox", text[-1500:])
            stored = dict(env.sql("SELECT message_id, count(*) FROM messages GROUP BY message_id"))
            t.check(all(stored.get(m) == 1 for m in mids), "every message stored exactly once")
        finally:
            rc = d.stop()
        t.check(rc == 0, "the daemon exits 0 on SIGTERM", rc)
        ids = sent_ids(env)
        per = {}
        for m in env.sent():
            for r in recipients(m):
                per[r] = per.get(r, 0) + 1
        # The email in flight when the cycle died may have reached the server
        # without its mark being committed (SMTP's at-least-once window):
        # at most one per connection.
        doubled = {r: n for r, n in per.items() if n > 1}
        t.check(len(per) == total and len(doubled) <= 4 and all(n == 2 for n in doubled.values()),
                "every sender answered, at most the emails in flight twice (%d emails, %d twice)"
                % (len(ids), len(doubled)), doubled)


# ---------------------------------------------------------------------------

def dovecot_restarts(t):
    with Env("faults-imap") as env:
        # Several batches (INGEST_BATCH_MAX, include/ingest.h): messages
        # appear 64 at a time, at each commit, and the server must go away
        # while some are still to come.
        total = 400
        mids = [env.deliver("p%03d@example.org" % i, "hello", "How do I join?")
                for i in range(total)]
        d = Daemon(env, "2026-11-10T10:00")
        try:
            d.wait_log("started", 15)
            # Let it store a few, then take the server away mid-ingest.
            wait_for(lambda: count(env, "SELECT count(*) FROM messages") >= 3, 30, 0.002)
            at_stop = stop_dovecot_now(env)
            time.sleep(1.5)
            env.dovecot.start()
            t.check(0 < at_stop < total,
                    "Dovecot stopped in the middle of the ingest (%d of %d stored)" % (at_stop, total))
            ok = wait_for(lambda: count(env, "SELECT count(*) FROM messages") == total
                          and len(env.sent()) >= total and unseen(env) == 0, 60, 0.3)
            t.check(ok, "after the restart mentord reconnects by itself and drains the mailbox",
                    d.text()[-2000:])
            text = d.text()
            t.check("IMAP 127.0.0.1:%d" % env.dovecot.port in text and "connection" in text,
                    "the lost connection is logged with the server's address", text[-2000:])
            stored = dict(env.sql("SELECT message_id, count(*) FROM messages GROUP BY message_id"))
            t.check(all(stored.get(m) == 1 for m in mids), "every message stored exactly once")
            answers = {}
            for m in env.sent():
                for r in recipients(m):
                    answers[r] = answers.get(r, 0) + 1
            t.check(len(answers) == total and all(n == 1 for n in answers.values()),
                    "every sender answered exactly once",
                    {r: n for r, n in answers.items() if n != 1})

            # Now it waits in IDLE: take the server away again.
            time.sleep(1.0)
            before = len(d.text())
            stop_dovecot_now(env)
            time.sleep(1.5)
            env.dovecot.start()
            start = time.monotonic()
            late = env.deliver("late@example.org", "hello", "Is there still room?")
            ok = wait_for(lambda: any("late@example.org" in recipients(m) for m in env.sent()),
                          45, 0.2)
            took = time.monotonic() - start
            text = d.text()[before:]
            t.check("IDLE" in text or "IMAP" in text, "the IDLE that broke is logged", text[-1500:])
            t.check(ok, "after a restart during IDLE, new mail is answered (%.1f s)" % took,
                    text[-2000:])
            t.check(count(env, "SELECT count(*) FROM messages WHERE message_id = ?", late) == 1,
                    "the new message stored once")
        finally:
            rc = d.stop()
        t.check(rc == 0, "the daemon exits 0 on SIGTERM", rc)
        ids = sent_ids(env)
        t.check(len(ids) == len(set(ids)) == total + 1, "nothing sent twice (%d emails)" % len(ids))


# ---------------------------------------------------------------------------

def smtp_faults(t):
    bad = "nowhere@example.org"
    with Env("faults-smtp", smtp_options={"fail_rcpt": {bad: 550}}) as env:
        sink = env.sink
        day = "2026-11-10T"

        def outbox_row(addr):
            rows = env.sql("SELECT status, attempts, smtp_code, last_error, next_attempt_at "
                           "FROM outbox WHERE recipients = ?", addr)
            return rows[0] if len(rows) == 1 else rows

        def retried_then_sent(label, addr, mode, code_word, minute):
            """One email meets the failure, stays queued, is not retried
            before its backoff, then goes out once."""
            sink.set_failures(**mode)
            env.deliver(addr, "hello", "How do I join?")
            p = env.run("%s10:%02d" % (day, minute), expect=None)
            row = outbox_row(addr)
            t.check(row and row[0] == "queued" and row[1] == 1 and code_word in (row[3] or ""),
                    "%s: the email stays queued, the error recorded" % label, (row, p.stderr[-800:]))
            t.check("will retry" in p.stderr, "%s: the retry is logged" % label, p.stderr[-800:])
            t.check(not any(addr in recipients(m) for m in env.sent()),
                    "%s: nothing delivered meanwhile" % label)
            env.run("%s10:%02d" % (day, minute))  # within the backoff
            t.check(outbox_row(addr)[1] == 1, "%s: not retried before the backoff (next try "
                    "after %s s)" % (label, row[4] - unix_minute(minute) if row else "?"))
            env.run("%s10:%02d" % (day, minute + 3))
            got = [m for m in env.sent() if addr in recipients(m)]
            row = outbox_row(addr)
            t.check(len(got) == 1 and row[0] == "sent" and row[1] == 2,
                    "%s: after the backoff it is sent, once" % label, (len(got), row))

        def unix_minute(minute):
            return int(datetime.datetime(2026, 11, 10, 10, minute, tzinfo=ZoneInfo(
                "America/Los_Angeles")).timestamp())

        env.deliver("first@example.org", "hello", "How do I join?")
        env.run(day + "09:00")
        t.check(len(env.sent()) == 1, "a healthy server gets the first answer")

        retried_then_sent("421 at the greeting", "a421@example.org", {"fail_connect": 1},
                          "421", 0)
        retried_then_sent("421 after MAIL FROM", "m421@example.org", {"fail_mail": (1, 421)},
                          "421", 10)
        retried_then_sent("451 after DATA", "d451@example.org", {"fail_first": (1, 451)},
                          "451", 20)
        retried_then_sent("the server vanishing mid-DATA", "drop@example.org",
                          {"drop_data": 1}, "", 30)
        played = sink.failures()
        t.check(played.get("connect 421") == 1 and played.get("mail 421") == 1 and
                played.get("data 451") == 1 and played.get("drop_data") == 1,
                "the SMTP server played each failure once", played)

        # The server not there at all: connection refused, retried later.
        port = sink.port
        sink.stop()
        env.deliver("down@example.org", "hello", "How do I join?")
        p = env.run(day + "11:00", expect=None)
        row = outbox_row("down@example.org")
        t.check(row and row[0] == "queued" and row[1] == 1,
                "SMTP server down: the email stays queued", (row, p.stderr[-600:]))
        sink.port = port
        sink.start()
        env.run(day + "11:05")
        t.check(outbox_row("down@example.org")[0] == "sent", "when it is back, the email goes out")

        # 550: failed at once, not retried, reported to the coordinator.
        env.deliver(bad, "hello", "How do I join?")
        p = env.run(day + "12:00", expect=None)
        row = outbox_row(bad)
        t.check(row and row[0] == "failed" and row[2] == 550 and row[1] == 1,
                "550: the email is marked failed at once", row)
        t.check("failed" in p.stderr and bad in p.stderr, "550: the failure is logged",
                p.stderr[-600:])
        env.run(day + "15:00")
        t.check(outbox_row(bad)[1] == 1, "550: never retried")
        env.run("2026-11-11T09:00")
        digests = [m for m in env.sent() if COORDINATOR in recipients(m)
                   and "digest" in m["parsed"]["Subject"].lower()]
        t.check(any(bad in m["parsed"].get_content() and "550" in m["parsed"].get_content()
                    for m in digests), "550: the coordinator's digest reports it",
                [m["parsed"]["Subject"] for m in digests])
        ids = sent_ids(env)
        t.check(len(ids) == len(set(ids)), "nothing reached the SMTP server twice (%d emails)"
                % len(ids))
        unsent = env.sql("SELECT key, status FROM outbox WHERE status NOT IN ('sent', 'failed')")
        t.check(unsent == [], "nothing left behind in the outbox", unsent)


# ---------------------------------------------------------------------------

HOLD = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


def hold_lock(db, seconds):
    p = subprocess.Popen([PYTHON, "-c", HOLD, db, str(seconds)], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "locked":
        raise AssertionError("could not lock %s" % db)
    return p


def sqlite_busy(t):
    with Env("faults-sqlite") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")

        # A short lock: mentord waits and carries on.
        env.deliver("short@example.org", "hello", "How do I join?")
        holder = hold_lock(env.db, 3)
        start = time.monotonic()
        p = env.run("2026-11-10T09:10", expect=None)
        took = time.monotonic() - start
        holder.wait()
        t.check(p.returncode == 0 and took >= 2.5,
                "a lock held 3 s: mentord waits for it (%.1f s) and succeeds" % took,
                (p.returncode, p.stderr[-800:]))
        t.check("locked by another process" in p.stderr,
                "the wait is logged clearly", p.stderr[-800:])
        t.check(count(env, "SELECT count(*) FROM messages") == 2
                and any("short@example.org" in recipients(m) for m in env.sent()),
                "the message is stored and answered")

        # A lock that outlives the busy timeout: the cycle gives up, nothing
        # is lost or flagged, the next run catches up.
        mid = env.deliver("long@example.org", "hello", "How do I join?")
        holder = hold_lock(env.db, 14)
        p = env.run("2026-11-10T09:20", expect=None)
        still_locked = holder.poll() is None
        holder.wait()
        t.check(p.returncode == 1 and still_locked,
                "a lock held past the busy timeout: the run gives up with exit 1",
                (p.returncode, p.stderr[-800:]))
        t.check("database is locked" in p.stderr and "locked by another process" in p.stderr
                and "unflagged" in p.stderr,
                "the log says the database is locked and the message stays unflagged",
                p.stderr[-1000:])
        flags = [f for _, f, _ in env.dovecot.list("INBOX")]
        t.check("\\Seen" not in flags[-1], "the message is not flagged on the server", flags)
        t.check(count(env, "SELECT count(*) FROM messages WHERE message_id = ?", mid) == 0
                and not any("long@example.org" in recipients(m) for m in env.sent()),
                "nothing was stored or sent meanwhile")
        env.run("2026-11-10T09:30")
        t.check(count(env, "SELECT count(*) FROM messages WHERE message_id = ?", mid) == 1
                and len([m for m in env.sent() if "long@example.org" in recipients(m)]) == 1,
                "once the lock is gone the message is stored and answered once")
        t.check(unseen(env) == 0, "and flagged on the server")


# ---------------------------------------------------------------------------

def big_message(sender, n):
    """An application with a 600 kB attachment: storing it needs room."""
    blob = (("%04d " % n) * 150000)[:600000]
    b64 = base64.encodebytes(blob.encode()).decode().replace("\n", "\r\n")
    return ("From: %s\r\nTo: mentoring@example.org\r\nSubject: hello\r\n"
            "Message-ID: <big-%d@client.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\nHow do I join? My CV is attached.\r\n--b\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=cv.bin\r\n\r\n%s--b--\r\n"
            % (sender, n, b64)).encode()


def fill(path):
    """Writes path until the file system is full; returns bytes written."""
    n = 0
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                n += f.write(chunk)
            except OSError:
                break
        # Byte by byte for the last partial block.
        while True:
            try:
                if f.write(b"\0") != 1:
                    break
                n += 1
            except OSError:
                break
    return n


def disk_full(t):
    env = Env("faults-disk")
    state = os.path.join(env.dir, "state")
    os.makedirs(state)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", state],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print("mount tmpfs failed (%s); using RLIMIT_FSIZE instead" % mounted.stderr.strip())
        shutil.rmtree(state)
        env.stop()
        return disk_full_rlimit(t)
    try:
        env.db = os.path.join(state, "mentord.db")
        env.start()
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")
        d = Daemon(env, "2026-11-10T10:00")
        try:
            t.check(wait_for(lambda: "started" in d.text(), 15), "the daemon starts")
            time.sleep(1.0)
            filler = os.path.join(state, "filler")
            fill(filler)
            # Leave a little room: the database opens and reads, but a
            # 600 kB message does not fit.
            with open(filler, "r+b") as f:
                f.truncate(os.path.getsize(filler) - 128 * 1024)
            before = len(d.text())
            env.deliver_raw(big_message("big@example.org", 1))
            ok = wait_for(lambda: "disk is full" in d.text()[before:], 30, 0.1)
            text = d.text()[before:]
            t.check(ok and "unflagged" in text,
                    "disk full while storing: the log says so and that the message stays unflagged",
                    text[-1500:])
            t.check(unseen(env) == 1, "the message is not flagged on the server")
            t.check(count(env, "SELECT count(*) FROM messages") == 1
                    and not any("big@example.org" in recipients(m) for m in env.sent()),
                    "nothing stored or sent for it")
            time.sleep(3)
            t.check(d.proc.poll() is None, "the daemon keeps running")
            os.unlink(filler)
            start = time.monotonic()
            ok = wait_for(lambda: any("big@example.org" in recipients(m) for m in env.sent()),
                          60, 0.2)
            t.check(ok, "when space returns it recovers by itself (%.1f s)"
                    % (time.monotonic() - start), d.text()[-1500:])
            t.check(count(env, "SELECT count(*) FROM messages WHERE message_id = "
                               "'big-1@client.example'") == 1 and unseen(env) == 0,
                    "the message is stored once and flagged")
        finally:
            rc = d.stop()
        t.check(rc == 0, "the daemon exits 0", rc)
        ids = sent_ids(env)
        t.check(len(ids) == len(set(ids)) == 2, "each answer sent once", ids)
    finally:
        env.stop()
        subprocess.run(["umount", "-l", state], capture_output=True)


def disk_full_rlimit(t):
    """Without mount: writes beyond RLIMIT_FSIZE fail (EFBIG) as on a full disk."""
    with Env("faults-disk") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")
        env.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        limit = max(os.path.getsize(env.db), 64 * 1024) + 64 * 1024

        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        env.deliver_raw(big_message("big@example.org", 1))
        p = subprocess.run([env.mentord, "-c", env.conf, "--once", "--now", "2026-11-10T10:00"],
                           capture_output=True, text=True, preexec_fn=limited)
        env.check_sanitizers(p)
        t.check(p.returncode == 1 and "database" in p.stderr and "unflagged" in p.stderr,
                "writes failing while storing: exit 1 and a clear log line",
                (p.returncode, p.stderr[-1000:]))
        t.check(unseen(env) == 1, "the message is not flagged on the server")
        env.run("2026-11-10T10:05")
        t.check(count(env, "SELECT count(*) FROM messages WHERE message_id = "
                           "'big-1@client.example'") == 1 and unseen(env) == 0,
                "with room again it is stored once and flagged")


# ---------------------------------------------------------------------------

def watchdog(t):
    with Env("faults-wd") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")
        # A long poll interval: only the watchdog bounds the waits.
        with open(env.conf) as f:
            conf = f.read()
        with open(env.conf, "w") as f:
            f.write(conf.replace("poll_interval = 5", "poll_interval = 600"))
        path = os.path.join(env.dir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        usec = 2000000
        # A backlog waiting when it starts, long to ingest (automatic
        # replies get no answer, so this is ingest alone).  Batched ingest
        # drains thousands of small messages a second, and APPENDing enough
        # of them to take seconds would take minutes: each carries an
        # attachment instead, which mentord decodes and stores.
        backlog = 2000
        attachment = base64.encodebytes(os.urandom(24 * 1024)).decode().replace("\n", "\r\n")
        env.dovecot.append_many("INBOX", [(
            "From: ooo%03d@example.org\r\nTo: mentoring@example.org\r\n"
            "Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n"
            "Message-ID: <ooo-%d@client.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            "Content-Type: text/plain\r\n\r\nI am away until Monday.\r\n--b\r\n"
            "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            "Content-Disposition: attachment; filename=card%d.bin\r\n\r\n%s--b--\r\n"
            % (i, i, i, attachment)).encode() for i in range(backlog)])
        events = []
        stop = threading.Event()

        def collect():
            # In a thread, so each datagram is stamped when it arrives.
            while not stop.is_set():
                try:
                    data = sock.recv(4096).decode()
                except socket.timeout:
                    continue
                for line in data.split("\n"):
                    if line:
                        events.append((time.monotonic(), line))

        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        # WATCHDOG_PID must be mentord's own: the shell execs it.
        d = Daemon(env, "2026-11-10T10:00", extra_env={
            "NOTIFY_SOCKET": path, "WATCHDOG_USEC": str(usec)},
            wrapper=["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh"])
        try:
            wait_for(lambda: count(env, "SELECT count(*) FROM messages") >= backlog + 1, 120, 0.05)
            ingest_end = time.monotonic()
            time.sleep(5)  # idle
        finally:
            rc = d.stop()
            stop.set()
            reader.join()
            sock.close()
        ready = [ts for ts, e in events if e == "READY=1"]
        mark = ready[0] if ready else ingest_end
        names = [e for _, e in events]
        t.check("READY=1" in names, "READY=1 is sent", names[:5])
        pings = [ts for ts, e in events if e == "WATCHDOG=1"]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        idle = [ts for ts in pings if ts > ingest_end]
        t.check(len(idle) >= 3, "WATCHDOG=1 arrives regularly while idle (%d pings in 5 s)"
                % len(idle))
        worst = max(gaps) if gaps else 99
        t.check(worst < usec / 1e6,
                "never longer than WATCHDOG_USEC (%.1f s) between pings: worst %.2f s"
                % (usec / 1e6, worst), gaps)
        during = [ts for ts in pings if mark <= ts <= ingest_end]
        # mentord pings at the first tick (a message, a batch) after a
        # quarter interval has passed: a long ingest must show at least one
        # ping per half interval, not just the one at the start of the
        # cycle.  (Counting one per quarter fails by one when every message
        # is slow, as under ASan on a busy machine.)
        t.check(ingest_end - mark > 1.0 and
                len(during) >= int((ingest_end - mark) / (usec / 2e6)) - 1,
                "pings continue while a %d-message backlog is ingested (%.1f s, %d pings)"
                % (backlog, ingest_end - mark, len(during)))
        t.check(count(env, "SELECT count(*) FROM outbox") == 1,
                "automatic replies got no answer")
        t.check(rc == 0, "exit 0", rc)


def watchdog_send(t):
    """A rate-limited outbox sending a backlog feeds the watchdog too: once
    per email (outbox_flush's tick), not only between cycles."""
    with Env("faults-wds") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")
        with open(env.conf) as f:
            conf = f.read()
        with open(env.conf, "w") as f:
            f.write(conf.replace("poll_interval = 5", "poll_interval = 600")
                    .replace("\ttimeout = 10\n}\ncoordinator",
                             "\ttimeout = 10\n\trate_per_minute = 60\n}\ncoordinator"))
        for i in range(8):
            env.deliver("r%d@example.org" % i, "hello", "How do I join?")
        path = os.path.join(env.dir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.2)
        pings = []
        stop = threading.Event()

        def collect():
            while not stop.is_set():
                try:
                    if b"WATCHDOG=1" in sock.recv(4096):
                        pings.append(time.monotonic())
                except socket.timeout:
                    pass

        reader = threading.Thread(target=collect, daemon=True)
        reader.start()
        d = Daemon(env, "2026-11-10T10:00", extra_env={
            "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"})
        try:
            wait_for(lambda: len(env.sent()) >= 9, 60, 0.2)
            time.sleep(2)
        finally:
            d.stop()
            stop.set()
            reader.join()
            sock.close()
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        worst = max(gaps) if gaps else 99
        t.check(worst < 2.0, "sending 8 emails at 60 a minute: worst gap between pings "
                "%.1f s (WATCHDOG_USEC 2 s)" % worst, gaps)


def main():
    t = Checker()
    only = sys.argv[1:]
    for name, fn in (("dovecot", dovecot_restarts), ("smtp", smtp_faults),
                     ("sqlite", sqlite_busy), ("disk", disk_full), ("watchdog", watchdog),
                     ("disk-rlimit", disk_full_rlimit), ("watchdog-send", watchdog_send), ("cycle", cycle_crash),
                     ("sigterm", sigterm_backlog)):
        # disk-rlimit is disk's fallback where mount is refused: run it
        # alone, on request.
        if (only and name not in only) or (not only and name == "disk-rlimit"):
            continue
        start = time.monotonic()
        print("-- %s" % name)
        fn(t)
        print("-- %s: %.1f s" % (name, time.monotonic() - start))
    t.finish()


if __name__ == "__main__":
    main()
