"""Crash safety: mentord killed with SIGKILL at random instants while it
drains a backlog and sends the answers, restarted each time.

A program with matched pairs is set up first; then a backlog arrives at
once: applications from distinct senders (each acknowledged, with the
supervisor told), meeting reports from both partners of every pair and an
evaluation from every mentee (each confirmed), and first messages from
strangers (each sent the questionnaire).  mentord runs as a daemon (IDLE) and is killed at random
delays chosen so the kills spread over the ingest and the sending; after
the last kill it runs until the mailbox is drained and the outbox empty.

Afterwards: every message stored exactly once and flagged, every effect
(application, meeting, evaluation) applied exactly once, every outbox email delivered, and the emails the SMTP
server received more than once counted and printed.  The only duplicate
SMTP allows is an email whose 250 arrived but whose "sent" mark was lost to
the kill: it goes out again once on restart.  Anything else fails.

Sizes: by default (ctest) 15 kills on a backlog of 68 messages; with
--full, or MENTORD_CRASH_KILLS=N >= 50, 100 (or N) kills on a backlog of
1,050.
MENTORD_CRASH_SEED=N replays a run."""

import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import AUTHSERV, COORDINATOR, SOURCE_DIR, Checker, Env, recipients  # noqa: E402

NOW_SETUP = "2026-11-09T09:00"  # a Monday
NOW_BACKLOG = "2026-11-10T10:00"
# Log lines that show a cycle at work: a message applied, an email sent.
FIRST_WORK = (b"mentord: info: message ", b"mentord: info: sent ")


def form(name, supervisor):
    return ("Name: %s\nDivision: Adult Programs\nClassification: Staff Services Manager I\n"
            "Years as manager: 4\nSupervisor email: %s\n"
            "Developmental needs: Communication, Decision Making\n"
            "Availability: Tuesday mornings\nWhy do you want to join: to grow.\n"
            % (name, supervisor))


def smtp_connections():
    """SMTP_CONNECTIONS from include/smtp.h (1 when there is none)."""
    try:
        with open(os.path.join(SOURCE_DIR, "include", "smtp.h")) as f:
            m = re.search(r"#define\s+SMTP_CONNECTIONS\s+(\d+)", f.read())
        return int(m.group(1)) if m else 1
    except OSError:
        return 1


def unseen(env):
    conn = env.dovecot.imap()
    try:
        typ, data = conn.select("INBOX", readonly=True)
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        return len(data[0].split()) if data and data[0] else 0
    finally:
        conn.logout()


def progress(env):
    """(messages stored, emails marked sent, emails not yet sent)."""
    stored = env.sql("SELECT count(*) FROM messages")[0][0]
    sent = env.sql("SELECT count(*) FROM outbox WHERE status = 'sent'")[0][0]
    pending = env.sql("SELECT count(*) FROM outbox WHERE status = 'queued'")[0][0]
    return stored, sent, pending


def main():
    full = "--full" in sys.argv
    kills = int(os.environ.get("MENTORD_CRASH_KILLS", "100" if full else "15"))
    big = full or kills >= 50
    # The full run's backlog is big enough that ingest takes a good part
    # of the work, so many of the kills land in the middle of it.
    pairs = 50 if big else 8
    n_apps = 400 if big else 30
    n_hello = (1000 if big else 60) - n_apps - 2 * pairs
    seed = int(os.environ.get("MENTORD_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
    rng = random.Random(seed)
    print("crash test: %d kills, backlog %d applications + %d meeting reports + %d "
          "evaluations + %d first messages, seed %d"
          % (kills, n_apps, 2 * pairs, pairs, n_hello, seed))
    t = Checker()
    started = time.monotonic()
    # New emails (applications, the coordinator's commands) come through a
    # receiving server that authenticates them, so they apply at once.
    with Env("crash", authserv=AUTHSERV) as env:
        # ---- set-up, no kills: mentors, mentees, partnerships ----
        mentees = ["mentee%02d@example.org" % i for i in range(pairs)]
        mentors = ["mentor%02d@example.org" % i for i in range(pairs)]
        for i, m in enumerate(mentees):
            env.deliver(m, "application", form("Mentee %02d" % i, "boss%02d@example.org" % i),
                        authenticated=True)
        env.deliver(COORDINATOR, "mentors", "".join(
            "mentor %s Mentor %02d\n" % (m, i) for i, m in enumerate(mentors)),
            authenticated=True)
        env.run(NOW_SETUP)
        app = dict(env.sql("SELECT p.email, a.id FROM applications a JOIN people p "
                           "ON p.id = a.person_id"))
        t.check(all(m in app for m in mentees + mentors), "set-up: every mentee and mentor registered",
                sorted(app))
        env.deliver(COORDINATOR, "decisions", "".join(
            "accept %d\nmatch %d with %d\n" % (app[a], app[a], app[b])
            for a, b in zip(mentees, mentors)), authenticated=True)
        env.run("2026-11-09T09:30")
        intros = {}
        for msg in env.sent():
            if "meet your mentor" in msg["parsed"]["Subject"].lower():
                for r in recipients(msg):
                    intros[r] = msg
        t.check(len(env.sql("SELECT id FROM matches WHERE status = 'active'")) == pairs
                and all(m in intros for m in mentees),
                "set-up: %d partnerships, each introduced" % pairs)
        setup_messages = env.sql("SELECT count(*) FROM messages")[0][0]
        setup_sent = len(env.sent())

        # ---- the backlog ----
        backlog = []
        for i in range(n_apps):
            backlog.append(env.deliver("applicant%03d@example.org" % i, "application",
                                       form("Applicant %03d" % i, "super%03d@example.org" % i),
                                       authenticated=True))
        for a, b in zip(mentees, mentors):
            backlog.append(env.reply(a, intros[a], "met 2026-11-03 2h"))
            backlog.append(env.reply(b, intros[b], "We met again.\nmet 2026-11-05 90m"))
            backlog.append(env.reply(a, intros[a], "Overall, the partnership was useful: 4\n"
                                     "Comments: my mentor listens well."))
        for i in range(n_hello):
            backlog.append(env.deliver("stranger%03d@example.org" % i, "hello",
                                       "I heard about the mentoring program; how do I join?"))
        rng.shuffle(backlog)  # order does not matter to the checks below
        expected_messages = setup_messages + len(backlog)
        # Each application: acknowledgment + supervisor notice; each meeting
        # report and each evaluation: a confirmation; each stranger: the
        # questionnaire.
        expected_emails = 2 * n_apps + 3 * pairs + n_hello

        # ---- kill, restart, kill ... ----
        log_path = os.path.join(env.dir, "mentord.log")
        log = open(log_path, "ab")
        cmd = [env.mentord, "-c", env.conf, "--now", NOW_BACKLOG]
        work_total = len(backlog) + expected_emails
        uptime = 0.0
        phases = {"start-up": 0, "no progress": 0, "ingest": 0, "sending": 0, "idle": 0}
        crash_start = time.monotonic()
        startup = 0.05
        for k in range(kills):
            stored, sent, _pending = progress(env)
            done = (stored - setup_messages) + (sent - setup_sent)
            left = max(work_total - done, 1)
            # Most kills land after start-up, spread over what is left to
            # do: a run's share of the work at the rate seen so far, drawn at
            # random up to twice that.  Some land during start-up (store
            # recovery, IMAP login).
            rate = done / uptime if uptime > 0.3 and done > 0 else 1000.0
            share = left / rate / (kills - k)
            during_startup = rng.random() < 0.15
            delay = rng.uniform(0.0, startup if during_startup else min(2 * share, 5.0))
            offset = os.path.getsize(log_path)
            log.write(b"---- run %d ----\n" % (k + 1))
            log.flush()
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            t0 = time.monotonic()
            if not during_startup:
                # Start-up lasts until the cycle process has work in hand
                # (its first message or email), not only until the daemon
                # says "started": the cycle still opens the database and
                # logs in to IMAP.  A run with nothing left to do waits a
                # second at most.
                cap = 30.0
                while proc.poll() is None and time.monotonic() - t0 < cap:
                    with open(log_path, "rb") as f:
                        f.seek(offset)
                        text = f.read()
                    if b" started (" in text:
                        cap = min(cap, time.monotonic() - t0 + 1.0)
                        if any(w in text for w in FIRST_WORK):
                            break
                    time.sleep(0.002)
                startup = 0.8 * startup + 0.2 * (time.monotonic() - t0)
            t1 = time.monotonic()
            time.sleep(delay)
            if proc.poll() is not None:
                t.check(False, "mentord still running when killed (run %d)" % (k + 1),
                        "exit %s" % proc.returncode)
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if not during_startup:
                uptime += time.monotonic() - t1
            stored2, sent2, pending2 = progress(env)
            if during_startup:
                phases["start-up"] += 1
            elif stored2 == stored and sent2 == sent:
                phases["idle" if stored2 >= expected_messages and not pending2 else "no progress"] += 1
            elif sent2 == sent:
                phases["ingest"] += 1
            else:
                phases["sending"] += 1
        crash_time = time.monotonic() - crash_start
        print("kills: %d (%s), %.1f s" % (kills, ", ".join("%s %d" % kv for kv in phases.items()),
                                            crash_time))

        # ---- the last run, until drained ----
        last_killed_session = max((int(x[0]) for x in env.sink.sessions()), default=0)
        log.write(b"---- final run ----\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        drained = False
        while time.monotonic() < deadline and proc.poll() is None:
            stored, sent, pending = progress(env)
            if stored >= expected_messages and pending == 0 and unseen(env) == 0:
                drained = True
                break
            time.sleep(0.3)
        time.sleep(0.5)  # the sink writes the last message's files
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        log.close()
        with open(log_path, errors="replace") as f:
            text = f.read()
        env.check_sanitizers(subprocess.CompletedProcess([], 0, "", text))
        t.check(drained, "after the kills, mentord drains the mailbox and the outbox",
                "progress %s of %d messages; log tail:\n%s" % (progress(env), expected_messages,
                                                              text[-3000:]))
        t.check(rc == 0, "the last run ends with exit 0 on SIGTERM", rc)

        # ---- messages: stored once, flagged ----
        rows = env.sql("SELECT message_id, count(*) FROM messages GROUP BY message_id")
        counts = {mid: n for mid, n in rows}
        missing = [m for m in backlog if counts.get(m, 0) == 0]
        doubled = [m for m in backlog if counts.get(m, 0) > 1]
        t.check(not missing and not doubled,
                "every message stored exactly once (%d)" % len(backlog),
                "missing %s doubled %s" % (missing[:5], doubled[:5]))
        t.check(env.sql("SELECT count(*) FROM messages")[0][0] == expected_messages,
                "no other row in messages")
        flags = [f for _, f, _ in env.dovecot.list("INBOX")]
        t.check(len(flags) == expected_messages and all("\\Seen" in f for f in flags),
                "every message flagged \\Seen on the server",
                "%d messages, %d unseen" % (len(flags), sum("\\Seen" not in f for f in flags)))
        bad = env.sql("SELECT id, status, reason FROM messages WHERE status = 'quarantined'")
        t.check(bad == [], "no message quarantined", bad)

        # ---- effects: once each ----
        apps = env.sql("SELECT p.email, count(*) FROM applications a JOIN people p "
                       "ON p.id = a.person_id WHERE p.email LIKE 'applicant%' GROUP BY p.email")
        t.check(len(apps) == n_apps and all(n == 1 for _, n in apps),
                "every application stored once (%d)" % n_apps, apps[:5])
        meetings = env.sql("SELECT count(*), coalesce(sum(minutes), 0) FROM meetings")[0]
        t.check(meetings == (2 * pairs, pairs * 210),
                "every meeting counted once (%d meetings, %d minutes)" % (2 * pairs, pairs * 210),
                meetings)
        evaluations = env.sql("SELECT match_id, count(*) FROM evaluations GROUP BY match_id")
        t.check(len(evaluations) == pairs and all(n == 1 for _, n in evaluations),
                "every evaluation recorded once (%d)" % pairs, evaluations[:5])
        kinds = dict(env.sql("SELECT kind, count(*) FROM outbox WHERE created_at >= "
                             "(SELECT min(received_at) FROM messages WHERE message_id = ?) "
                             "GROUP BY kind", backlog[0]))
        print("emails queued for the backlog by kind: %s" % kinds)
        dup_keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(dup_keys == [], "no idempotency key twice in the outbox", dup_keys)
        not_sent = env.sql("SELECT key, status, last_error FROM outbox WHERE status != 'sent'")
        t.check(not_sent == [], "every email in the outbox is marked sent", not_sent[:5])

        # ---- what the SMTP server saw ----
        sent_rows = env.sql("SELECT message_id, key, recipients FROM outbox")
        by_mid = {"<%s>" % mid if not mid.startswith("<") else mid: (key, rc)
                  for mid, key, rc in sent_rows}
        seen = {}
        for msg in env.sent():
            mid = msg["parsed"]["Message-ID"]
            seen[mid] = seen.get(mid, 0) + 1
        undelivered = [v[0] for m, v in by_mid.items() if m not in seen]
        t.check(undelivered == [], "every outbox email reached the SMTP server", undelivered[:5])
        stray = [m for m in seen if m not in by_mid]
        t.check(stray == [], "the SMTP server got nothing that is not in the outbox", stray[:5])
        backlog_answers = [m for m in env.sent()[setup_sent:]]
        per_rcpt = {}
        for msg in backlog_answers:
            for r in recipients(msg):
                if r.startswith("applicant") or r.startswith("stranger") or r.startswith("super"):
                    per_rcpt.setdefault(r, set()).add(msg["parsed"]["Message-ID"])
        t.check(all(len(v) == 1 for v in per_rcpt.values()) and
                len(per_rcpt) == 2 * n_apps + n_hello,
                "each applicant, supervisor and stranger got exactly one distinct email",
                [(r, len(v)) for r, v in per_rcpt.items() if len(v) != 1][:5])
        dups = {m: n for m, n in seen.items() if n > 1}
        print("SMTP duplicates: %d emails received more than once (%d extra copies), "
              "by Message-ID" % (len(dups), sum(n - 1 for n in dups.values())))
        for m, n in sorted(dups.items()):
            print("  %s x%d  %s to %s" % (m, n, by_mid.get(m, ("?", "?"))[0],
                                          by_mid.get(m, ("?", "?"))[1]))
        # The one duplicate SMTP allows: the server committed the email and
        # answered 250, and mentord was killed before its "sent" mark was
        # committed (waiting for the 250, or just after it).  Such a copy is
        # necessarily the last email of its SMTP session (mentord died
        # there), in a session of a killed run.  A copy followed by more
        # email in the same session, or sent by the last run (never killed),
        # would be a mark lost by mentord itself: a bug.
        msgs = env.sent()
        last_of_session = {}
        for i, msg in enumerate(msgs):
            last_of_session[msg["session"]] = i
        unexplained = []
        for i, msg in enumerate(msgs):
            mid = msg["parsed"]["Message-ID"]
            later = [j for j in range(i + 1, len(msgs)) if msgs[j]["parsed"]["Message-ID"] == mid]
            if later and (last_of_session[msg["session"]] != i
                          or msg["session"] > last_killed_session):
                unexplained.append((mid, msg["session"]))
        t.check(unexplained == [],
                "every duplicate is the last email of a session cut by a kill", unexplained)
        # The outbox sends over up to SMTP_CONNECTIONS connections at once,
        # so a kill cuts up to that many emails in flight.
        inflight = smtp_connections()
        extra = sum(n - 1 for n in dups.values())
        t.check(extra <= kills * inflight,
                "at most one extra copy per connection in flight per kill (%d extra copies, "
                "%d kills, %d connections)" % (extra, kills, inflight), dups)
        t.check(os.path.getsize(log_path) > 0 and "started" in text, "the runs logged")
    print("crash test: %d kills, %d emails duplicated at the SMTP server (%d extra copies), "
          "%.1f s in all" % (kills, len(dups), extra, time.monotonic() - started))
    t.finish()


if __name__ == "__main__":
    main()
