"""The trust model, attacked as an attacker and a coordinator on holiday would,
through mentord on real servers (Dovecot, an SMTP server, --once --now).

Each section is one finding of the trust issue:
  storm        two coordinators' header-less auto-replies do not start a storm
  forged-coord a forged coordinator changes nothing and receives nothing
  echo         an auto-responder's echo of the digest runs no command
  forged-part  a forged participant changes nothing; no email to a stranger's
               "supervisor" before the applicant proves their address
  forged-dsn   a DSN tied to nothing marks nobody; a tied one does
  caps         every answer counts against the daily cap
  supervisor   a supervisor is a person: a bounce marks them, one notice
  oversize     a 150 MB message is never fetched whole, the sender told once
  unstorable   a message that cannot be stored is set aside, the rest go on
  config       secrets never printed; tls = off only on loopback
  durable      the WAL is synced before a flag and before an email is sent
  commands     participants' withdraw and help; a supervisor list is a problem
"""

import email.utils
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import (AUTHSERV, COORDINATOR, PROGRAM_ADDRESS, Checker, Env,  # noqa: E402
                         body_of, recipients)

ANA, BOB, SAM = "ana@example.org", "bob@example.org", "sam@example.org"
EVE = "eve@evil.example"
COORD_B = "second.coordinator@example.org"

ANA_FORM = """Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: sam@example.org
Developmental needs: Communication, Conflict Management
Availability: Tuesday mornings
Why do you want to join: To learn to handle conflict.
"""

BOB_FORM = """Name: Bob Lee
Email: bob@example.org
Division: Adult Programs
Years as manager: 20
Strengths: Communication, Conflict Management
Capacity: 2
"""

SECTIONS = []


def section(fn):
    SECTIONS.append(fn)
    return fn


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs
            if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def snapshot(env):
    """What a forged message must not change."""
    return (env.sql("SELECT id, status, division, supervisor_email, answers FROM applications "
                    "ORDER BY id"),
            env.sql("SELECT id, status FROM matches ORDER BY id"),
            env.sql("SELECT count(*) FROM meetings"),
            env.sql("SELECT email, undeliverable FROM people ORDER BY email"))


def partnership(env, t, now_day="2026-11-02"):
    """Ana (mentee) and Bob (mentor) in a partnership, set up the proven
    way: Ana answers the questionnaire, the coordinator answers the digest.
    Returns {address: introduction copy}."""
    env.deliver(ANA, "join", "I would like to join.", name="Ana Ruiz")
    env.run(now_day + "T09:00")
    q = only(env.new_mail(), ANA, kind="questionnaire")
    env.reply(ANA, q[0], ANA_FORM, name="Ana Ruiz")
    env.run(now_day + "T09:30")
    mail = env.new_mail()
    digest = only(mail, COORDINATOR, kind="digest")
    env.reply(COORDINATOR, digest[0], BOB_FORM)
    env.run(now_day + "T10:00")
    env.new_mail()
    app = dict(env.sql("SELECT p.email, a.id FROM applications a JOIN people p "
                       "ON p.id = a.person_id"))
    env.reply(COORDINATOR, digest[0], "accept %d\nmatch %d with %d" % (app[ANA], app[ANA], app[BOB]))
    env.run(now_day + "T10:30")
    mail = env.new_mail()
    intros = {r: m for m in only(mail, kind="introduction") for r in recipients(m)}
    t.check(ANA in intros and BOB in intros, "set-up: Ana and Bob are partners", summary(mail))
    return intros


# ---------------------------------------------------------------------------

@section
def storm(t):
    """Two coordinators whose out-of-office replies carry no header that says
    so (no Auto-Submitted, no Precedence), and that quote the email they
    answer unquoted: a day of cycles sends them a handful of emails."""
    with Env("trust-storm", coordinators=(COORDINATOR, COORD_B)) as env:
        env.deliver(ANA, "join", "I would like to join.")
        env.run("2026-11-02T09:00")
        q = only(env.new_mail(), ANA, kind="questionnaire")
        env.reply(ANA, q[0], ANA_FORM)
        got = {COORDINATOR: 0, COORD_B: 0}
        for hour in range(9, 18):
            for minute in ("00", "20", "40"):
                env.run("2026-11-02T%02d:%s" % (hour, minute))
                for m in env.new_mail():
                    for c in got:
                        if c in recipients(m):
                            got[c] += 1
                            # The robot answers every email at once: to the
                            # Reply-To half the time, to From the other half,
                            # echoing the text with no quoting.
                            body = "I am out of the office until Monday.\n\n" + body_of(m)
                            if got[c] % 2:
                                env.reply(c, m, body)
                            else:
                                env.deliver(c, "Automatic reply: " + m["parsed"]["Subject"],
                                            body, in_reply_to=m["parsed"]["Message-ID"].strip("<>"))
        total = got[COORDINATOR] + got[COORD_B]
        t.check(total <= 6, "27 cycles of auto-replies: at most a handful of emails to the "
                "two coordinators in the day (%d)" % total, got)
        rows = env.sql("SELECT count(*) FROM outbox")[0][0]
        t.check(rows <= 12, "the outbox stays small (%d rows)" % rows)
        auto = [m["parsed"]["Auto-Submitted"] for m in env.sent()]
        t.check(auto and all(a in ("auto-generated", "auto-replied") for a in auto),
                "every email mentord sent is marked Auto-Submitted", auto)
        t.check(all(m["parsed"]["X-Auto-Response-Suppress"] == "All" for m in env.sent()),
                "and asks Exchange not to answer it")
        ignored = env.sql("SELECT count(*) FROM messages WHERE from_addr IN (?, ?) AND status = "
                          "'ignored'", COORDINATOR, COORD_B)[0][0]
        t.check(ignored >= 1, "the auto-replies are recorded as ignored (%d)" % ignored)
        # With headers, nothing is answered at all.
        env.deliver(COORDINATOR, "Out of Office", "accept 1\n", headers={"Auto-Submitted": "auto-replied"})
        env.deliver(COORDINATOR, "Re: x", "digest\n", headers={"Precedence": "bulk"})
        env.deliver(COORDINATOR, "Re: y", "digest\n", headers={"X-Auto-Response-Suppress": "OOF, AutoReply"})
        env.run("2026-11-03T09:00")
        mail = env.new_mail()
        t.check(only(mail, COORDINATOR, kind="command-results") == []
                and only(mail, COORDINATOR, kind="confirm") == [],
                "mail marked Auto-Submitted, Precedence or X-Auto-Response-Suppress gets no answer",
                summary(mail))


@section
def forged_coordinator(t):
    with Env("trust-coord", authserv=AUTHSERV) as env:
        intros = partnership(env, t)
        app = dict(env.sql("SELECT p.email, a.id FROM applications a JOIN people p "
                           "ON p.id = a.person_id"))
        match_id = env.sql("SELECT id FROM matches")[0][0]
        before = snapshot(env)
        # A brand-new message "from" the coordinator, with every command.
        env.deliver(COORDINATOR, "commands",
                    "end %d\npool %d\nmentor %s Eve Evil\naccept %d\n" % (
                        match_id, app[ANA], EVE, app[ANA]))
        # The same through an untrusted server's Authentication-Results, and a
        # forged trusted one below the receiving server's own failing one.
        env.deliver(COORDINATOR, "commands", "end %d\n" % match_id,
                    headers={"Authentication-Results":
                             "mx.evil.example; dmarc=pass header.from=example.org"})
        env.deliver_raw((
            "Authentication-Results: %s; dmarc=fail header.from=example.org\r\n"
            "Received: from evil (evil [192.0.2.66])\r\n"
            "Authentication-Results: %s; dmarc=pass header.from=example.org\r\n"
            "From: %s\r\nTo: %s\r\nSubject: commands\r\nMessage-ID: <forged-ar@evil.example>\r\n"
            "\r\nend %d\r\n" % (AUTHSERV, AUTHSERV, COORDINATOR, PROGRAM_ADDRESS, match_id)).encode())
        # A reply naming the digest by In-Reply-To, without the token.
        digest = only(env.sent(), COORDINATOR, kind="digest")[0]
        env.deliver(COORDINATOR, "Re: digest", "mentor %s Eve Evil\n" % EVE,
                    in_reply_to=digest["parsed"]["Message-ID"].strip("<>"))
        env.run("2026-11-03T09:00")
        mail = env.new_mail()
        t.check(snapshot(env) == before, "forged coordinator commands change nothing")
        t.check(only(mail, EVE) == [], "the forger receives nothing", summary(mail))
        t.check(all(recipients(m) == [COORDINATOR] for m in mail)
                and len(only(mail, COORDINATOR, kind="confirm")) == 4,
                "only the real coordinator hears of it: one request to confirm each",
                summary(mail))
        pending = env.sql("SELECT count(*) FROM messages WHERE status = 'pending'")[0][0]
        t.check(pending == 4, "the four messages wait for confirmation", pending)
        # The forger now asks to match Eve: she is no mentor, so nothing of
        # Ana's reaches her.
        env.deliver(COORDINATOR, "match", "match %d with %d\n" % (app[ANA], app[ANA] + 100))
        env.run("2026-11-03T10:00")
        t.check(not any(EVE in recipients(m) for m in env.sent()),
                "no mentee's address or needs ever reach the forger")
        # The genuine coordinator, one reply away: "no" to one, "yes" to another.
        reqs = only(env.sent(), COORDINATOR, kind="confirm")
        first = [r for r in reqs if "end %d" % match_id in body_of(r) and "pool" in body_of(r)][0]
        t.check("end %d" % match_id in body_of(first) and "accept %d" % app[ANA] in body_of(first),
                "the request quotes the commands it would run", body_of(first))
        env.reply(COORDINATOR, first, "no")
        env.run("2026-11-03T11:00")
        mail = env.new_mail()
        t.check(snapshot(env) == before and len(only(mail, COORDINATOR, "cancelled")) == 1,
                "\"no\" cancels the request", summary(mail))
        # A genuine new email, authenticated by the trusted server, applies at once.
        env.deliver(COORDINATOR, "digest please", "digest\n", authenticated=True)
        env.run("2026-11-03T12:00")
        mail = env.new_mail()
        t.check(len(only(mail, COORDINATOR, kind="digest")) == 1,
                "a coordinator's email that DMARC authenticated is applied without asking",
                summary(mail))
        # The forger used up today's answers to unproven mail (5): the
        # coordinator's own new email tomorrow is asked about again.
        env.deliver(COORDINATOR, "end it", "end %d\n" % match_id)
        env.run("2026-11-04T09:00")
        req = only(env.new_mail(), COORDINATOR, kind="confirm")
        env.reply(COORDINATOR, req[0], "Yes, please.")
        env.run("2026-11-04T10:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT status FROM matches")[0][0] == "ended"
                and len(only(mail, COORDINATOR, kind="command-results")) == 1,
                "a genuine coordinator who writes a new email is one reply away from done",
                summary(mail))
        env.reply(COORDINATOR, req[0], "yes")
        env.run("2026-11-04T11:00")
        mail = env.new_mail()
        t.check(only(mail, COORDINATOR, kind="command-results") == [],
                "confirming twice does nothing twice", summary(mail))


@section
def echo(t):
    with Env("trust-echo") as env:
        env.deliver(ANA, "join", "I would like to join.")
        env.run("2026-11-02T09:00")
        q = only(env.new_mail(), ANA, kind="questionnaire")
        env.reply(ANA, q[0], ANA_FORM)
        env.run("2026-11-02T09:30")
        digest = only(env.new_mail(), COORDINATOR, kind="digest")[0]
        env.reply(COORDINATOR, digest, BOB_FORM)
        env.run("2026-11-02T10:00")
        env.new_mail()
        env.run("2026-11-03T09:00")
        digest = only(env.new_mail(), COORDINATOR, kind="digest")
        t.check(digest and re.search(r"match \d+ with \d+", body_of(digest[0])),
                "the digest suggests a match", summary(digest))
        # An auto-responder echoes the whole digest, unquoted, to its token.
        text = "Thank you for your email. I will reply when I am back.\n\n" + body_of(digest[0])
        env.reply(COORDINATOR, digest[0], text)
        env.run("2026-11-03T10:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT count(*) FROM matches")[0][0] == 0,
                "an echoed digest runs none of its suggested commands")
        t.check(only(mail, COORDINATOR, kind="command-results") == [],
                "and gets no answer", summary(mail))
        # The coordinator copying the one suggested line still works.
        line = re.search(r"match \d+ with \d+", body_of(digest[0])).group(0)
        env.reply(COORDINATOR, digest[0], "Looks good.\n" + line)
        env.run("2026-11-03T11:00")
        t.check(env.sql("SELECT count(*) FROM matches")[0][0] == 1,
                "a suggested line copied by the coordinator runs")


@section
def forged_participant(t):
    with Env("trust-part") as env:
        intros = partnership(env, t)
        before = snapshot(env)
        forged = ANA_FORM.replace("Children and Family Services", "Forged Division").replace(
            "sam@example.org", "victim@example.net")
        env.deliver(ANA, "update", forged)
        env.deliver(ANA, "meeting", "met 2026-11-05 2h\n")
        env.run("2026-11-05T09:00")
        mail = env.new_mail()
        t.check(snapshot(env) == before, "a forged form and report from Ana change nothing")
        t.check(only(mail, "victim@example.net") == [],
                "the 'supervisor' a forger names receives nothing", summary(mail))
        t.check(len(mail) == 2 and all(recipients(m) == [ANA] for m in mail),
                "only Ana, at her registered address, is asked to confirm", summary(mail))
        # A stranger's application naming a victim as supervisor: nothing
        # reaches the victim until the applicant proves their address.
        env.deliver("mallory@example.net", "application",
                    ANA_FORM.replace("Ana Ruiz", "Buy cheap pills at evil.example")
                    .replace("sam@example.org", "victim@example.net"))
        env.run("2026-11-05T10:00")
        mail = env.new_mail()
        t.check(only(mail, "victim@example.net") == [] and len(only(mail, "mallory@example.net")) == 1,
                "a stranger's application emails only the stranger (asking to confirm)",
                summary(mail))
        env.confirm(mail, "mallory@example.net")
        env.run("2026-11-05T11:00")
        notice = only(env.new_mail(), "victim@example.net")
        t.check(len(notice) == 1 and "pills" not in notice[0]["parsed"]["Subject"],
                "once proven, the supervisor is told, and the applicant's text is not in the "
                "subject", summary(notice))


@section
def forged_dsn(t):
    with Env("trust-dsn") as env:
        intros = partnership(env, t)
        # A DSN that references nothing mentord sent, naming both partners.
        env.deliver_raw((
            "From: MAILER-DAEMON@mx.evil.example\r\nTo: %s\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <fake-dsn@evil.example>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
            "--B\r\nContent-Type: text/plain\r\n\r\nUndeliverable.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n"
            "--B--\r\n" % (PROGRAM_ADDRESS, ANA, BOB)).encode())
        # One sent to a forged VERP address.
        env.bounce_for(intros[ANA])
        env.deliver_raw(("From: MAILER-DAEMON@mx.evil.example\r\nTo: mentoring+b1p1kaaaaaaaaaaaaaaaa@example.org\r\n"
                         "Subject: Undelivered\r\nMessage-ID: <fake-dsn-2@evil.example>\r\n"
                         "MIME-Version: 1.0\r\n"
                         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n"
                         "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
                         "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: 5.1.1\r\n"
                         "--B--\r\n" % BOB).encode())
        env.run("2026-11-16T09:00")
        mail = env.new_mail()
        digest = only(mail, COORDINATOR, kind="digest")
        dead = env.sql("SELECT email FROM people WHERE undeliverable = 1")
        t.check(dead == [(ANA,)], "only the DSN sent to the signed return path of Ana's copy marks "
                "anyone: Ana; the forged ones mark nobody", dead)
        rems = only(mail, kind="reminder")
        t.check(recipients(rems[0]) == [BOB] if len(rems) == 1 else False,
                "Bob's reminder still goes out", summary(mail))
        held = dict(env.sql("SELECT message_id, reason FROM messages WHERE status = 'held' "
                            "AND kind = 'bounce'"))
        t.check("not tied" in held.get("fake-dsn@evil.example", "")
                and "not tied" in held.get("fake-dsn-2@evil.example", ""),
                "the untied bounces are held for the coordinator", held)
        t.check(digest and body_of(digest[0]).count("not tied") == 2,
                "and listed in the digest", summary(digest))


@section
def caps(t):
    with Env("trust-caps") as env:
        env.deliver(ANA, "join", "hello")
        env.run("2026-11-02T09:00")
        q = only(env.new_mail(), ANA, kind="questionnaire")
        for i in range(10):
            env.reply(ANA, q[0], ANA_FORM.replace("Tuesday", "Tuesday %d" % i))
        env.run("2026-11-02T10:00")
        mail = env.new_mail()
        to_ana = only(mail, ANA)
        t.check(len(to_ana) == 5,
                "ten applications in a day get max_auto_replies_per_day (5) answers",
                summary(mail))
        t.check(len(only(mail, SAM)) == 1, "the supervisor is told once", summary(mail))
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-replied" for m in to_ana),
                "answers are auto-replied")
        dropped = env.sql("SELECT count(*) FROM outbox WHERE status = 'dropped'")[0][0]
        t.check(dropped == 5, "the rest are kept unsent (dropped), not lost (%d)" % dropped)
        t.check(env.sql("SELECT count(*) FROM messages WHERE from_addr = ?", ANA)[0][0] == 11,
                "every message is stored")


@section
def supervisor(t):
    with Env("trust-sup") as env:
        env.deliver(ANA, "join", "hello")
        env.run("2026-11-02T09:00")
        q = only(env.new_mail(), ANA, kind="questionnaire")
        env.reply(ANA, q[0], ANA_FORM)
        env.run("2026-11-02T10:00")
        notice = only(env.new_mail(), SAM, kind="supervisor-notice")
        t.check(len(notice) == 1, "the supervisor is told", notice)
        roles = env.sql("SELECT role, program FROM participations p JOIN people x "
                        "ON x.id = p.person_id WHERE x.email = ?", SAM)
        t.check(roles == [("supervisor", "cdss")], "the supervisor is a person with a role", roles)
        env.bounce_for(notice[0])
        env.bounce_for(notice[0])
        env.run("2026-11-02T11:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT undeliverable FROM people WHERE email = ?", SAM) == [(1,)],
                "a permanent bounce marks the supervisor undeliverable")
        n = only(mail, COORDINATOR, kind="bounce-notice")
        t.check(len(n) == 1 and SAM in body_of(n[0]) and "supervisor (cdss)" in body_of(n[0]),
                "the coordinator gets one notice naming the role", summary(mail))


def wait4_rss(cmd):
    """Runs cmd; returns (exit status, stderr, peak RSS in KiB of that process).
    GNU time measures it: a child forked from this (large) Python process
    would count the parent's pages in its own ru_maxrss until its exec."""
    p = subprocess.run(["/usr/bin/time", "-f", "peak-rss-kib %M"] + cmd, capture_output=True,
                       text=True)
    m = re.search(r"^peak-rss-kib (\d+)$", p.stderr, re.M)
    if m is None:
        raise AssertionError("GNU time (package time) printed no peak: %s" % p.stderr[-400:])
    return p.returncode, p.stderr, int(m.group(1))


def sanitized(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out


@section
def oversize(t):
    with Env("trust-big") as env:
        size = 150 * 1024 * 1024
        head = ("From: Big Sender <big@example.org>\r\nTo: %s\r\nSubject: my CV\r\n"
                "Message-ID: <big-150@client.example>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain\r\n\r\n" % PROGRAM_ADDRESS).encode()
        line = b"x" * 998 + b"\r\n"
        # Written to a file and APPENDed by another process: a child forked
        # from a process holding 150 MB would count it in its own peak RSS.
        path = os.path.join(env.dir, "big.eml")
        with open(path, "wb") as f:
            f.write(head)
            for _ in range(size // len(line) // 1000):
                f.write(line * 1000)
        subprocess.run(["/usr/bin/python3", "-c",
                        "import imaplib, sys\n"
                        "c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]), timeout=120)\n"
                        "c.login(sys.argv[2], sys.argv[3])\n"
                        "typ, resp = c.append('INBOX', None, None, open(sys.argv[4], 'rb').read())\n"
                        "assert typ == 'OK', resp\n"
                        "c.logout()\n",
                        str(env.dovecot.port), env.dovecot.user, env.dovecot.password, path],
                       check=True, timeout=300)
        size = os.path.getsize(path)
        os.unlink(path)
        env.deliver("small@example.org", "hello", "How do I join?")
        db_before = os.path.getsize(env.db) if os.path.exists(env.db) else 0
        rc, err, rss = wait4_rss([env.mentord, "-c", env.conf, "--once", "--now",
                                  "2026-11-02T09:00"])
        env.check_sanitizers(subprocess.CompletedProcess([], rc, "", err))
        limit = 200 * 1024 if sanitized(env.mentord) else 32 * 1024
        t.check(rc == 0 and rss <= limit,
                "a 150 MB message is never fetched whole: peak RSS %.1f MiB (limit %d MiB%s)"
                % (rss / 1024, limit // 1024, ", ASan build" if limit > 32 * 1024 else ""),
                err[-600:])
        grown = sum(os.path.getsize(p) for p in (env.db, env.db + "-wal") if os.path.exists(p))
        t.check(grown - db_before < 2 * 1024 * 1024,
                "the database grows by less than 2 MB (%d bytes)" % (grown - db_before))
        row = env.sql("SELECT status, reason, size, truncated, length(r.raw) FROM messages m "
                      "JOIN message_raw r ON r.id = m.id "
                      "WHERE message_id = 'big-150@client.example'")
        t.check(row and row[0][0] == "quarantined" and row[0][2] >= size and row[0][3] == 1
                and row[0][4] < 65536 and "max_message_size" in row[0][1],
                "it is quarantined with its headers and size", row)
        mail = env.new_mail()
        told = only(mail, "big@example.org")
        t.check(len(told) == 1 and "too large" in told[0]["parsed"]["Subject"],
                "the sender is told", summary(mail))
        t.check(len(only(mail, "small@example.org")) == 1, "the next message is answered")
        flags = [f for _, f, _ in env.dovecot.list("INBOX")]
        t.check(all("\\Seen" in f for f in flags), "both are marked processed", flags)
        env.run("2026-11-02T10:00")
        env.run("2026-11-03T10:00")
        t.check(only(env.new_mail(), "big@example.org") == [], "the sender is told once")
        digest = [m for m in env.sent() if m["parsed"]["X-Mentord"] == "digest"]
        t.check(any("max_message_size" in body_of(d) for d in digest),
                "the coordinator sees it in the digest")


@section
def large_text(t):
    """A message just under max_message_size is read, but only the first
    MiB of its text (4 MiB of HTML) is decoded: what a person writes to
    mentord fits in that, and the whole message is kept in the store."""
    cases = [("text/plain; charset=utf-8", "quoted-printable",
              "How do I join?\r\n" + "A long pasted log line =C3=A9t=C3=A9 and more.\r\n" * 200000),
             ("text/html; charset=utf-8", "8bit",
              "<html><body><p>How do I join?</p>\r\n"
              + "<p>A long <b>pasted</b> table cell, &eacute;t&eacute;.</p>\r\n" * 170000
              + "</body></html>\r\n")]
    for i, (ctype, cte, body) in enumerate(cases):
        with Env("trust-large-%d" % i) as env:
            raw = ("From: Long Writer <long@example.org>\r\nTo: %s\r\nSubject: question\r\n"
                   "Message-ID: <long-%d@client.example>\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n%s"
                   % (PROGRAM_ADDRESS, i, ctype, cte, body)).encode()
            t.check(8 * 1024 * 1024 < len(raw) < 10 * 1024 * 1024,
                    "the %s message is just under the limit (%d bytes)" % (ctype, len(raw)))
            env.deliver_raw(raw)
            rc, err, rss = wait4_rss([env.mentord, "-c", env.conf, "--once", "--now",
                                      "2026-11-02T09:00"])
            env.check_sanitizers(subprocess.CompletedProcess([], rc, "", err))
            limit = 200 * 1024 if sanitized(env.mentord) else 32 * 1024
            t.check(rc == 0 and rss <= limit,
                    "a %.1f MB %s message: peak RSS %.1f MiB (limit %d MiB)"
                    % (len(raw) / 1e6, ctype.split(";")[0], rss / 1024, limit // 1024),
                    err[-600:])
            row = env.sql("SELECT m.status, length(r.raw) FROM messages m "
                          "JOIN message_raw r ON r.id = m.id "
                          "WHERE message_id = 'long-%d@client.example'" % i)
            t.check(row and row[0][0] in ("processed", "answered") and row[0][1] == len(raw),
                    "it is processed and kept whole in the store", row)
            told = only(env.new_mail(), "long@example.org")
            t.check(len(told) == 1, "its writer gets one answer", summary(told))


@section
def unstorable(t):
    """Writes beyond RLIMIT_FSIZE fail (EFBIG), as on a nearly full disk: a
    4 MB message never fits, small ones do."""
    with Env("trust-unstorable") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        env.run("2026-11-10T09:00")
        env.new_mail()
        env.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        limit = 2 * 1024 * 1024

        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        body = "Name: Big\n" + ("A CV line that goes on and on. " * 40 + "\n") * 3300
        env.deliver("big@example.org", "application", body)
        results = []
        for i in range(4):
            env.deliver("small%d@example.org" % i, "hello", "How do I join?")
            p = subprocess.run([env.mentord, "-c", env.conf, "--once", "--now",
                                "2026-11-10T1%d:00" % i], capture_output=True, text=True,
                               preexec_fn=limited)
            env.check_sanitizers(p)
            results.append(p)
        small = env.sql("SELECT count(*) FROM messages WHERE from_addr LIKE 'small%'")[0][0]
        t.check(small == 4, "the messages after it are stored in every run (%d)" % small,
                results[0].stderr[-800:])
        t.check("unflagged" in results[0].stderr and results[0].returncode == 1,
                "the run says it stays unflagged, and exits 1", results[0].stderr[-800:])
        row = env.sql("SELECT status, reason, truncated FROM messages WHERE from_addr = "
                      "'big@example.org'")
        t.check(row and row[0][0] == "quarantined" and row[0][2] == 1 and "set aside" in row[0][1],
                "after 3 failures it is quarantined by reference (its header, UID, size)", row)
        flags = [f for _, f, _ in env.dovecot.list("INBOX")]
        t.check(all("\\Seen" in f for f in flags), "and marked, so the mailbox goes on", flags)
        t.check(results[3].returncode == 0, "the last run succeeds", results[3].stderr[-600:])
        env.run("2026-11-11T09:00")
        digest = only(env.new_mail(), COORDINATOR, kind="digest")
        t.check(digest and "set aside" in body_of(digest[0]), "the coordinator sees it",
                summary(digest))


@section
def config(t):
    with Env("trust-config") as env:
        secret = "hunter2-secret-9f8e7d6c5b4a39281706"
        path = os.path.join(env.dir, "token.secret")
        with open(path, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
        with open(env.conf, "a") as f:
            f.write('include("token.secret")\n')
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"], capture_output=True,
                           text=True)
        t.check(p.returncode == 2 and "token.secret:1" in p.stderr and secret not in p.stderr,
                "including a secret file is refused without printing the secret", p.stderr)
        env.write_conf()
        text = open(env.conf).read().replace("127.0.0.1", "mail.example.org", 1)
        with open(env.conf, "w") as f:
            f.write(text)
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"], capture_output=True,
                           text=True)
        t.check(p.returncode == 2 and "tls = off" in p.stderr and "mail.example.org" in p.stderr
                and "127.0.0.1" in p.stderr,
                "tls = off with a remote host is refused, saying why", p.stderr)
        env.write_conf()
        # No secret configured: made on the first start, private, stable.
        env.run("2026-11-02T09:00")
        gen = os.path.join(os.path.dirname(env.db), "hmac.secret")
        t.check(os.path.exists(gen) and os.stat(gen).st_mode & 0o077 == 0,
                "the reply-token secret is generated in the state directory, mode 600")
        first = open(gen).read()
        env.run("2026-11-02T09:05")
        t.check(open(gen).read() == first and len(first.strip()) >= 32,
                "and kept across starts")
        p = env.run("2026-11-02T09:10", "--verbose")
        t.check(first.strip() not in p.stderr, "and never logged")


def strace_available():
    return shutil.which("strace") is not None


def ptrace_env():
    """The environment for a process run under ptrace (strace): LeakSanitizer
    stops the process with ptrace to scan it, which fails when a tracer is
    attached, so an ASan build would report a failure that is not a leak.
    Leak checking is turned off for that run only; every other ASan check
    stays, added to whatever ASAN_OPTIONS already says."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")


@section
def durable(t):
    """The order of system calls: the WAL is synced after the commit and
    before the UID STORE that flags the message, and before the SMTP
    transaction that sends the answer."""
    if not strace_available():
        t.check(False, "strace is installed (tests/install-deps.sh installs it)")
        return
    with Env("trust-durable") as env:
        env.deliver("first@example.org", "hello", "How do I join?")
        trace = os.path.join(env.dir, "strace.out")
        p = subprocess.run(["strace", "-f", "-qq", "-o", trace, "-s", "80", "-e",
                            "trace=fsync,fdatasync,write,sendto,sendmsg,openat",
                            env.mentord, "-c", env.conf, "--once", "--now", "2026-11-02T09:00"],
                           capture_output=True, text=True, env=ptrace_env())
        env.check_sanitizers(p)
        t.check(p.returncode == 0, "mentord runs under strace", p.stderr[-600:])
        lines = open(trace).read().splitlines()
        wal_fds = set()
        events = []
        for ln in lines:
            m = re.search(r'openat\(.*"([^"]*-wal)".*= (\d+)$', ln)
            if m:
                wal_fds.add(m.group(2))
            m = re.search(r"\b(fsync|fdatasync)\((\d+)\)", ln)
            if m and m.group(2) in wal_fds:
                events.append("sync")
            if re.search(r"UID STORE|UID MOVE", ln):
                events.append("flag")
            if "MAIL FROM" in ln:
                events.append("send")
        t.check("flag" in events and "sync" in events[:events.index("flag")],
                "the WAL is synced before the message is flagged", events)
        t.check("send" in events and "sync" in events[:events.index("send")],
                "and before the answer is sent", events)


@section
def commands(t):
    with Env("trust-cmd") as env:
        intros = partnership(env, t)
        env.reply(ANA, intros[ANA], "help")
        env.run("2026-11-03T09:00")
        mail = env.new_mail()
        h = only(mail, ANA)
        t.check(len(h) == 1 and "withdraw" in body_of(h[0]) and "met 2026-11-20" in body_of(h[0]),
                "help from a participant lists the participant's commands", summary(mail))
        t.check(env.sql("SELECT count(*) FROM meetings")[0][0] == 0, "help records no meeting")
        env.reply(BOB, intros[BOB], "withdraw new job")
        env.run("2026-11-03T10:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT count(*) FROM meetings")[0][0] == 0,
                "withdraw is not taken for a meeting report")
        t.check(env.sql("SELECT status, end_reason FROM matches")[0][0] == "ended",
                "withdraw ends the partnership", env.sql("SELECT status, end_reason FROM matches"))
        t.check(env.sql("SELECT a.status FROM applications a JOIN people p ON p.id = a.person_id "
                        "WHERE p.email = ?", BOB) == [("withdrawn",)], "Bob is withdrawn")
        t.check(env.sql("SELECT a.status FROM applications a JOIN people p ON p.id = a.person_id "
                        "WHERE p.email = ?", ANA) == [("accepted",)], "Ana can be matched again")
        t.check(len(only(mail, ANA, kind="partner-withdrew")) == 1, "the partner is told", summary(mail))
        t.check(len(only(mail, COORDINATOR, kind="withdrawal")) == 1
                and "new job" in body_of(only(mail, COORDINATOR, kind="withdrawal")[0]),
                "the coordinator is told, with the reason", summary(mail))
        t.check(len(only(mail, BOB, kind="withdrawn")) == 1, "Bob is told", summary(mail))
        # A supervisor field with several addresses.
        env.deliver("carla@example.org", "join", "hello")
        env.run("2026-11-03T11:00")
        q = only(env.new_mail(), "carla@example.org", kind="questionnaire")
        env.reply("carla@example.org", q[0],
                  ANA_FORM.replace("Ana Ruiz", "Carla").replace("sam@example.org",
                                                                 "a@example.org, b@example.org"))
        env.run("2026-11-03T12:00")
        mail = env.new_mail()
        p = only(mail, "carla@example.org")
        t.check(len(p) == 1 and "Supervisor email" in body_of(p[0]) and "one address" in body_of(p[0]),
                "a supervisor list is a form problem, named in the answer", summary(mail))
        t.check(only(mail, "a@example.org") == [] and only(mail, "b@example.org") == [],
                "neither address is written to")


def main():
    t = Checker()
    wanted = sys.argv[1:]
    for fn in SECTIONS:
        if wanted and fn.__name__ not in wanted:
            continue
        print("-- %s" % fn.__name__)
        fn(t)
    t.finish()


if __name__ == "__main__":
    main()
