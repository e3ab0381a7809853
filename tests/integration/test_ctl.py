"""mentorctl, the coordinator's and administrator's tool (issue 12), against
a program run on real servers: strict arguments (an unknown option or
argument is an error, exit 2, with the command's usage), the listings
(outbox, messages, report) and their --json, and each correction: outbox
retry, resend, message dismiss, person set, application edit, mentor add,
match, meeting add and end.  Each is checked in the database, in the mail
the SMTP server received, and in the audit trail."""

import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import Checker, Env, body_of, recipients  # noqa: E402

ANA, BOB, SAM = "ana@example.org", "bob@example.org", "sam@example.org"
EVE, NOBODY = "eve@example.org", "nobody@example.org"
ANA_NEW = "ana.ruiz@example.org"

ANA_FORM = """Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: Sam Boss <sam@example.org>
Developmental needs: Communication, Conflict Management, Decision Making
Availability: Tuesday and Thursday mornings
Why do you want to join: I lead a new team and want to learn.
"""

EVE_FORM = """Name: Eve Park
Division: Adult Programs
Classification: Staff Services Manager II
Years as manager: 6
Supervisor email: nobody@example.org
Developmental needs: Change Leadership, Developing Others
Availability: Fridays
Why do you want to join: To grow as a leader.
"""


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def only(msgs, rcpt, subject=None):
    return [m for m in msgs if rcpt in recipients(m)
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


class Ctl:
    """mentorctl as a person at the keyboard (USER alice, via sudo)."""

    def __init__(self, env, now):
        self.env = env
        self.now = now

    def __call__(self, *args, expect=0):
        p = subprocess.run([self.env.mentorctl, "-c", self.env.conf, "--now", self.now]
                           + list(args), capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, SUDO_USER="alice", USER="root"))
        Env.check_sanitizers(p)
        if expect is not None and p.returncode != expect:
            raise AssertionError("mentorctl %s exited %d, expected %d\n%s%s"
                                 % (args, p.returncode, expect, p.stdout, p.stderr))
        return p


def check_strict(t, env, ctl):
    """Unknown options and arguments: exit 2, one line with the usage;
    nothing changes."""
    before = env.sql("SELECT count(*) FROM audit")[0][0]
    cases = [
        (("messages", "--failed"), "unknown option --failed", "usage: mentorctl messages"),
        (("report", "--program", "nosuch"), 'no program "nosuch"', "usage: mentorctl report"),
        (("report", "--since", "2026-13"), "--since takes a month", "usage: mentorctl report"),
        (("report", "--since"), "--since needs a value", "usage: mentorctl report"),
        (("report", "--csv", "--json"), "not both", "usage: mentorctl report"),
        (("report", "extra"), 'unexpected argument "extra"', "usage: mentorctl report"),
        (("status", "now"), 'unexpected argument "now"', "usage: mentorctl status"),
        (("people", "--json", "x"), 'unexpected argument "x"', "usage: mentorctl people"),
        (("outbox", "--failed", "--sent"), "one of", "usage: mentorctl outbox"),
        (("outbox", "retry"), "needs the email's ID", "usage: mentorctl outbox retry"),
        (("outbox", "retry", "x1"), "not an email's ID", "usage: mentorctl outbox retry"),
        (("replay",), "needs a message ID", "usage: mentorctl replay"),
        (("mentor", "add", "not-an-address"), "not an email address", "usage: mentorctl mentor"),
        (("mentor", "add", "x@example.org", "--capacity", "two"), "--capacity is a whole",
         "usage: mentorctl mentor add"),
        (("mentor", "remove"), "unknown", "usage: mentorctl mentor add"),
        (("person", "set", ANA, "colour=blue"), 'no key "colour"', "usage: mentorctl person"),
        (("person", "set", ANA, "deliverable=maybe"), "yes or no", "usage: mentorctl person"),
        (("application", "edit", "1", "salary=3"), 'no field "salary"',
         "usage: mentorctl application edit"),
        (("application", "edit", "1", "capacity=0"), "above 0", "usage: mentorctl application"),
        (("meeting", "add", "1", "2026-11-40", "90"), "met", "usage: mentorctl meeting add"),
        (("meeting", "add", "1", "2027-01-05", "90"), "future", "usage: mentorctl meeting add"),
        (("end",), "needs a partnership", "usage: mentorctl end"),
        (("frobnicate",), 'unknown command "frobnicate"', "mentorctl --help"),
    ]
    for args, what, usage in cases:
        p = ctl(*args, expect=None)
        lines = p.stderr.strip().splitlines()
        t.check(p.returncode == 2 and len(lines) == 1 and what in lines[0] and usage in lines[0]
                and p.stdout == "",
                "mentorctl %s: exit 2, one line saying %r with the usage" % (" ".join(args), what),
                (p.returncode, p.stdout, p.stderr))
    p = subprocess.run([env.mentorctl, "-x", "status"], capture_output=True, text=True)
    t.check(p.returncode == 2 and "-x is not an option" in p.stderr,
            "an unknown option before the command: exit 2", p.stderr)
    t.check(env.sql("SELECT count(*) FROM audit")[0][0] == before,
            "no refused command changed anything")


def snapshot(env):
    """Every row of every table, to prove that nothing changed."""
    con = sqlite3.connect(env.db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def check_preview(t):
    """preview --until: the emails the next month of cycles sends, worked out
    without sending or changing anything; then the cycles run and send
    exactly those."""
    with Env("ctl-preview", authserv="mx.test.example") as env:
        ctl = Ctl(env, "2026-11-02T09:00")
        p = ctl("mentor", "add", BOB, "Bob", "Lee", "--strengths", "Communication")
        bob = int(re.search(r"mentor #(\d+)", p.stdout).group(1))
        env.deliver(ANA, "application", ANA_FORM, authenticated=True)
        env.run("2026-11-02T10:00")
        ana = env.sql("SELECT id FROM participations WHERE role = 'mentee'")[0][0]
        ctl.now = "2026-11-03T09:00"
        ctl("match", str(ana), str(bob))
        env.run("2026-11-03T09:01")  # mentorctl took its time: now is later
        env.new_mail()

        ctl.now = "2026-11-03T10:00"
        before = snapshot(env)
        p = ctl("preview", "--until", "2026-12-05T09:00", "--json")
        preview = json.loads(p.stdout)
        t.check(snapshot(env) == before and env.new_mail() == [],
                "preview changes nothing in the database and sends nothing")
        text = ctl("preview", "--until", "2026-12-05T09:00").stdout
        t.check(text.startswith("WHEN") and len(text.splitlines()) == len(preview) + 1,
                "preview prints one line per email", text)
        t.check(len(preview) >= 3 and all(r["when"] and r["to"] and r["subject"] and r["key"]
                                          and "[ref:" not in r["subject"] for r in preview),
                "preview gives when, to whom, the subject and why (the key) of each email",
                preview)

        # The cycles the daemon runs: today, then each morning.
        env.run("2026-11-03T10:00")
        day = datetime.date(2026, 11, 4)
        while day <= datetime.date(2026, 12, 5):
            env.run("%sT09:00" % day.isoformat())
            day += datetime.timedelta(days=1)
        sent = env.sql("SELECT key, recipients, subject, created_at FROM outbox "
                       "WHERE created_at >= strftime('%s', '2026-11-03T18:00:00') "
                       "ORDER BY id")
        real = sorted((k, r, re.sub(r" \[ref:\d+\]$", "", s)) for k, r, s, _ in sent)
        predicted = sorted((r["key"], r["to"], r["subject"]) for r in preview)
        t.check(real == predicted and len(env.new_mail()) == len(real),
                "the cycles send exactly the emails preview listed (%d)" % len(real),
                "predicted only: %s\nsent only: %s"
                % ([x for x in predicted if x not in real], [x for x in real if x not in predicted]))
        t.check(ctl("preview", "--until", "2026-11-01", expect=2).returncode == 2
                and ctl("preview", expect=2).returncode == 2,
                "preview of the past, or without --until, is refused")


def check_bounce(t):
    """The issue's case: an address bounces, an email to it is kept unsent,
    the coordinator corrects the address, and the email reaches it."""
    with Env("ctl-bounce", authserv="mx.test.example") as env:
        ctl = Ctl(env, "2026-11-02T09:00")
        p = ctl("mentor", "add", BOB, "Bob", "Lee", "--strengths", "Communication")
        bob = int(re.search(r"mentor #(\d+)", p.stdout).group(1))
        env.deliver(ANA, "application", ANA_FORM, authenticated=True)
        env.run("2026-11-02T10:00")
        ack = only(env.new_mail(), ANA, "received")
        ana = env.sql("SELECT id FROM participations WHERE role = 'mentee'")[0][0]
        env.bounce_for(ack[0])
        env.run("2026-11-02T11:00")
        env.new_mail()
        t.check(env.sql("SELECT undeliverable FROM people WHERE email = ?", ANA)[0][0] == 1,
                "the bounce marks Ana's address undeliverable")

        ctl.now = "2026-11-03T09:00"
        ctl("match", str(ana), str(bob))
        env.run("2026-11-03T09:01")  # mentorctl took its time: now is later
        mail = env.new_mail()
        intro = env.sql("SELECT id, key, status, last_error FROM outbox WHERE recipients = ? "
                        "AND kind = 'introduction'", ANA)
        t.check(len(only(mail, BOB, "meet your mentor")) == 1 and not only(mail, ANA)
                and len(intro) == 1 and intro[0][2] == "failed"
                and "bounced" in intro[0][3],
                "Bob is introduced; Ana's introduction is kept failed, not sent",
                (summary(mail), intro))
        iid, ikey = intro[0][0], intro[0][1]
        listed = json.loads(ctl("outbox", "--failed", "--to", ANA, "--json").stdout)
        t.check([(r["id"], r["key"]) for r in listed] == [(iid, ikey)]
                and "bounced" in listed[0]["last_error"],
                "outbox --failed --to lists it with why", listed)
        p = ctl("outbox", "retry", str(iid), expect=1)
        t.check("bounced" in p.stderr and "person set" in p.stderr and "resend " + ikey
                in p.stderr, "retry to the address that bounced is refused, saying what to do",
                p.stderr)
        p = ctl("resend", ikey, expect=1)
        t.check("bounced" in p.stderr, "so is resend before the address is corrected", p.stderr)

        ctl("person", "set", ANA, "email=" + ANA_NEW, "deliverable=yes")
        t.check(env.sql("SELECT email, undeliverable, undeliverable_reason FROM people "
                        "WHERE email = ?", ANA_NEW) == [(ANA_NEW, 0, None)],
                "person set corrects the address and makes it deliverable")
        p = ctl("outbox", "retry", str(iid), expect=1)
        t.check("is now %s" % ANA_NEW in p.stderr and "resend" in p.stderr,
                "retry to the old address is refused, pointing at resend", p.stderr)
        ctl("resend", ikey)
        env.run("2026-11-03T10:00")
        mail = env.new_mail()
        t.check(len(mail) == 1 and recipients(mail[0]) == [ANA_NEW]
                and "meet your mentor" in mail[0]["parsed"]["Subject"].lower()
                and BOB in body_of(mail[0]),
                "resend delivers the introduction to the corrected address", summary(mail))
        t.check(env.sql("SELECT status FROM outbox WHERE key = ?", ikey + "|resend=1")
                == [("sent",)], "the copy is marked sent")
        ctl("meeting", "add", str(env.sql("SELECT id FROM groups")[0][0]), "2026-11-02", "1h")
        ctl("end", str(env.sql("SELECT id FROM groups")[0][0]))
        env.run("2026-11-03T11:00")
        mail = env.new_mail()
        t.check(sorted(r for m in mail for r in recipients(m)) == sorted([ANA_NEW, BOB]),
                "both partners are told the partnership ended, Ana at her new address",
                summary(mail))


def main():
    t = Checker()
    with Env("ctl", smtp_options={"fail_rcpt": {NOBODY: 550}},
             authserv="mx.test.example") as env:
        ctl = Ctl(env, "2026-11-02T09:00")
        # -- 2 November: a mentor registered with mentorctl; two applications --
        p = ctl("mentor", "add", BOB, "Bob", "Lee", "--strengths",
                "Communication, Decision Making", "--capacity", "2")
        bob = int(re.search(r"mentor #(\d+)", p.stdout).group(1))
        env.deliver(ANA, "application", ANA_FORM, authenticated=True)
        env.deliver(EVE, "my application", EVE_FORM, authenticated=True)
        env.deliver_raw(b"\x00\x01garbage\xff\xfe without any header\r\n\r\n\x00more")
        env.run("2026-11-02T10:00")
        mail = env.new_mail()
        t.check(env.sql("PRAGMA user_version")[0][0] == 4
                and env.sql("SELECT count(*) FROM audit WHERE action = 'mentor add'")[0][0] == 1,
                "the schema is version 4 with the audit table; mentor add is audited")
        ana = env.sql("SELECT a.id FROM participations a JOIN people p ON p.id = a.person_id "
                      "WHERE p.email = ? AND a.role = 'mentee'", ANA)[0][0]
        t.check(len(only(mail, ANA, "received")) == 1 and len(only(mail, SAM)) == 1,
                "Ana's application is acknowledged and her supervisor told", summary(mail))

        check_strict(t, env, ctl)

        # -- mentor add again: only the capacity changes --------------------
        before = env.sql("SELECT topics, division, status, answer_id FROM participations "
                         "WHERE id = ?", bob)[0]
        ctl("mentor", "add", BOB, "--capacity", "3")
        after = env.sql("SELECT topics, division, status, answer_id, capacity FROM "
                        "participations WHERE id = ?", bob)[0]
        t.check(after[:4] == before and after[4] == 3
                and before[0] == "Communication, Decision Making",
                "mentor add with a new capacity keeps the mentor's strengths", (before, after))

        # -- the outbox: listing, --failed, --to, --json ------------------------
        p = ctl("outbox", "--failed")
        t.check(NOBODY in p.stdout and "550" in p.stdout and "last error" in p.stdout
                and ANA not in p.stdout,
                "outbox --failed lists the refused email with its recipient and error", p.stdout)
        rows = json.loads(ctl("outbox", "--json").stdout)
        db = env.sql("SELECT id, key, recipients, status, attempts, last_error FROM outbox "
                     "ORDER BY id DESC")
        t.check([(r["id"], r["key"], r["recipients"], r["status"], r["attempts"],
                  r["last_error"]) for r in rows] == [tuple(d) for d in db],
                "outbox --json holds each email's id, key, recipients, status, attempts and "
                "last error, as the database does", (rows[:2], db[:2]))
        to_ana = json.loads(ctl("outbox", "--to", ANA.upper(), "--json").stdout)
        t.check(to_ana and all(r["recipients"] == ANA for r in to_ana)
                and len(to_ana) == env.sql("SELECT count(*) FROM outbox WHERE recipients = ?",
                                           ANA)[0][0],
                "outbox --to lists the emails to that address only", to_ana)

        # -- outbox retry: the address works again --------------------------
        failed = env.sql("SELECT id, key FROM outbox WHERE status = 'failed'")
        t.check(len(failed) == 1, "one email failed (550)", failed)
        fid, fkey = failed[0]
        p = ctl("outbox", "retry", str(ana), expect=1)
        t.check("not failed" in p.stderr or "no email" in p.stderr,
                "retrying an email that did not fail is refused", p.stderr)
        del env.sink.fail_rcpt[NOBODY]
        ctl("outbox", "retry", str(fid))
        t.check(env.sql("SELECT status, attempts FROM outbox WHERE id = ?", fid)[0]
                == ("queued", 0), "outbox retry queues the failed email again")
        env.run("2026-11-02T10:30")
        mail = env.new_mail()
        t.check(len(mail) == 1 and recipients(mail[0]) == [NOBODY]
                and env.sql("SELECT status FROM outbox WHERE id = ?", fid)[0][0] == "sent",
                "the next cycle sends it, once", summary(mail))
        ctl("outbox", "retry", str(fid), expect=1)

        # -- person set and resend: Ana's address corrected -------------------
        ack = env.sql("SELECT key, message_id, subject FROM outbox WHERE recipients = ? "
                      "AND kind = 'ack'", ANA)
        t.check(len(ack) == 1, "Ana's acknowledgment is in the outbox", ack)
        ack_key, ack_mid, ack_subject = ack[0]
        ctl("person", "set", ANA, "email=" + ANA_NEW.upper(), "name=Ana M. Ruiz")
        t.check(env.sql("SELECT email, name FROM people WHERE email = ?", ANA_NEW)
                == [(ANA_NEW, "Ana M. Ruiz")],
                "person set changes the address (lower-cased) and the name")
        p = ctl("person", "set", ANA_NEW, "email=" + SAM, expect=1)
        t.check("person #" in p.stderr and env.sql("SELECT count(*) FROM people WHERE email = ?",
                                                   ANA_NEW)[0][0] == 1,
                "an address another person has is refused, nothing changed", p.stderr)
        p = ctl("resend", ack_key)
        new = env.sql("SELECT key, recipients, status, message_id, subject FROM outbox "
                      "WHERE key LIKE ?", ack_key + "|resend=%")
        t.check(len(new) == 1 and new[0][0] == ack_key + "|resend=1" and new[0][1] == ANA_NEW
                and new[0][2] == "queued" and new[0][3] != ack_mid and new[0][4] == ack_subject,
                "resend queues a copy under a new key, to the corrected address, with a new "
                "Message-ID", (new, p.stdout))
        env.run("2026-11-02T11:00")
        mail = env.new_mail()
        t.check(len(mail) == 1 and recipients(mail[0]) == [ANA_NEW]
                and mail[0]["parsed"]["Subject"] == ack_subject
                and mail[0]["parsed"]["To"] == ANA_NEW
                and mail[0]["parsed"]["Message-ID"].strip("<>") == new[0][3],
                "the copy reaches the corrected address with its own Message-ID", summary(mail))
        if mail:
            t.check("Ana" in body_of(mail[0]), "the copy is the acknowledgment", body_of(mail[0]))
        ctl("resend", ack_key)
        t.check(env.sql("SELECT count(*) FROM outbox WHERE key = ?", ack_key + "|resend=2")[0][0]
                == 1, "a second resend takes the next key")
        p = ctl("resend", "no-such-key", expect=1)
        t.check("no email has the key" in p.stderr, "resend of an unknown key is refused",
                p.stderr)
        env.run("2026-11-02T11:05")
        env.new_mail()

        # -- application edit: only the named fields ----------------------------
        cols = "division, topics, availability, level, capacity, status, answer_id, supervisor_id"
        before = env.sql("SELECT %s FROM participations WHERE id = ?" % cols, ana)[0]
        ctl("application", "edit", str(ana), "division=Adult Programs", "level=4")
        after = env.sql("SELECT %s FROM participations WHERE id = ?" % cols, ana)[0]
        t.check(after[0] == "Adult Programs" and after[3] == 4 and after[1:3] == before[1:3]
                and after[4:] == before[4:],
                "application edit changes the fields named and nothing else", (before, after))
        answer = env.sql("SELECT answer_id FROM participations WHERE id = ?", ana)[0][0]
        t.check(dict(env.sql("SELECT field, value FROM answer_values WHERE answer_id = ? AND "
                             "field IN ('Division', 'Years as manager')", answer))
                == {"Division": "Adult Programs", "Years as manager": "4"},
                "... in her form's answers too")
        ctl("application", "edit", str(ana), "Classification=Staff Services Manager II")
        t.check(env.sql("SELECT value FROM answer_values WHERE answer_id = ? AND "
                        "field = 'Classification'", answer) == [("Staff Services Manager II",)]
                and env.sql("SELECT %s FROM participations WHERE id = ?" % cols, ana)[0] == after,
                "a field of the form that binds nothing changes only the answer")
        for args, says in ((("Years as manager=lots",), "Years as manager"),
                           (("needs=Juggling",), "Juggling"),
                           (("division=Adult Programs", "salary=3"), 'no field "salary"'),
                           (("email=x@example.org",), "person set")):
            p = ctl("application", "edit", str(ana), *args, expect=2)
            t.check(says in p.stderr and len(p.stderr.strip().splitlines()) == 1,
                    "application edit %s: refused as the form reads it" % " ".join(args),
                    p.stderr)
        t.check(env.sql("SELECT %s FROM participations WHERE id = ?" % cols, ana)[0] == after,
                "a refused edit changes nothing, not even the fields before it")
        ctl("application", "edit", str(bob), "strengths=Communication, Coaching")
        t.check(env.sql("SELECT topics, capacity FROM participations WHERE id = ?", bob)
                == [("Communication, Coaching", 3)],
                "a mentor registered by command (no form) has the column set as given")
        ctl("application", "edit", "9999", "division=x", expect=1)

        # -- held messages: listed with why, dismissed ----------------------------
        held = env.sql("SELECT id, reason FROM messages WHERE status = 'held'")
        t.check(len(held) == 1 and held[0][1], "the garbled message is held, with a reason",
                held)
        hid = held[0][0]
        p = ctl("messages", "--held")
        t.check(re.search(r"^%d\s.*held" % hid, p.stdout, re.M) and held[0][1] in p.stdout,
                "messages --held lists it with why it was held", p.stdout)
        listed = json.loads(ctl("messages", "--held", "--json").stdout)
        t.check([(m["id"], m["status"], m["reason"]) for m in listed] == [(hid, "held", held[0][1])],
                "messages --held --json gives the same", listed)
        everything = json.loads(ctl("messages", "--all", "--json").stdout)
        t.check(len(everything) == env.sql("SELECT count(*) FROM messages")[0][0],
                "messages --all lists every message", len(everything))
        ctl("message", "dismiss", str(hid), "spam,", "nothing", "to", "do")
        t.check(env.sql("SELECT status, reason FROM messages WHERE id = ?", hid)[0]
                == ("dismissed", "dismissed with mentorctl: spam, nothing to do"),
                "message dismiss sets it aside with the note")
        t.check(str(hid) not in ctl("messages", "--held").stdout,
                "it is no longer listed as held")
        ctl("message", "dismiss", str(hid), expect=1)

        # -- match, meeting add, end: what the coordinator's commands do --------
        ctl.now = "2026-11-03T09:00"
        p = ctl("match", str(ana), "with", str(bob))
        group = env.sql("SELECT id, status FROM groups WHERE kind = 'pair'")
        t.check(len(group) == 1 and group[0][1] == "active" and "partnership #%d" % group[0][0]
                in p.stdout, "match makes the partnership", (group, p.stdout))
        gid = group[0][0] if group else 0
        env.run("2026-11-03T09:01")  # mentorctl took its time: now is later
        mail = env.new_mail()
        t.check(len(only(mail, ANA_NEW, "meet your mentor")) == 1
                and len(only(mail, BOB, "meet your mentor")) == 1,
                "both partners are introduced", summary(mail))
        p = ctl("match", str(ana), str(bob), expect=1)
        t.check("already has" in p.stderr, "a second match of the mentee is refused", p.stderr)

        people = json.loads(ctl("people", "--json").stdout)
        t.check(sorted((r["id"], r["email"], r["name"], r["deliverable"]) for r in people)
                == sorted((i, e, n, not u) for i, e, n, u in
                          env.sql("SELECT id, email, name, undeliverable FROM people")),
                "people --json is the people table", people)
        apps = {r["id"]: r for r in json.loads(ctl("applications", "--json").stdout)}
        t.check(apps[ana]["status"] == "matched" and apps[ana]["division"] == "Adult Programs"
                and apps[ana]["level"] == 4 and apps[ana]["supervisor"] == SAM
                and apps[bob]["capacity"] == 3 and apps[bob]["topics"]
                == "Communication, Coaching",
                "applications --json gives each application's status and what it said",
                apps)
        groups = json.loads(ctl("matches", "--json").stdout)
        t.check([(g["id"], g["status"], g["members"], g["meetings_this_month"]) for g in groups]
                == [(gid, "active", "Ana M. Ruiz with Bob Lee", 0)],
                "matches --json gives the partnership", groups)

        p = ctl("meeting", "add", str(gid), "2026-11-02", "90")
        t.check(env.sql("SELECT date, minutes, kind FROM events WHERE group_id = ?", gid)
                == [("2026-11-02", 90, "meeting")] and "Recorded" in p.stdout,
                "meeting add records the meeting", p.stdout)
        ctl("meeting", "add", str(gid), "yesterday", "1h30")
        t.check(env.sql("SELECT count(*) FROM events WHERE group_id = ?", gid)[0][0] == 1,
                "the same date is recorded once (as two reports of it are)")
        t.check(re.search(r"^%d\s.*active.*\s1$" % gid, ctl("matches").stdout, re.M),
                "matches counts it this month")
        ctl("meeting", "add", "9999", "2026-11-02", "90", expect=1)

        p = ctl("end", str(gid), "Ana", "moved", "away")
        t.check(env.sql("SELECT status, end_reason FROM groups WHERE id = ?", gid)
                == [("ended", "Ana moved away")], "end ends the partnership", p.stdout)
        t.check(env.sql("SELECT status FROM participations WHERE id = ?", ana)[0][0] == "accepted",
                "the mentee can be matched again")
        env.run("2026-11-03T10:00")
        mail = env.new_mail()
        ended_ana, ended_bob = only(mail, ANA_NEW), only(mail, BOB)
        t.check(len(ended_ana) == 1 and len(ended_bob) == 1 and len(mail) == 2,
                "both partners are told the partnership ended", summary(mail))
        if ended_ana and ended_bob:
            t.check("moved away" in body_of(ended_ana[0]) and "moved away" in body_of(ended_bob[0]),
                    "each is told why", body_of(ended_bob[0]))
        ctl("end", str(gid), expect=1)

        # -- report: a table, CSV, JSON, --program, --since -------------------
        ctl.now = "2026-12-10T09:00"
        text = ctl("report").stdout
        t.check(text.startswith("PROGRAM") and "," not in text.splitlines()[1],
                "report without --csv is a table", text)
        csv = ctl("report", "--csv").stdout.splitlines()
        t.check(csv[0] == "program,partnership,mentee,mentor,status,month,meetings,minutes,"
                "required" and csv[1].startswith("cdss,%d," % gid) and ",2026-11,1,90," in csv[1],
                "report --csv counts the meeting", csv)
        rep = json.loads(ctl("report", "--json", "--program", "cdss").stdout)
        t.check([(r["month"], r["meetings"], r["minutes"]) for r in rep] == [("2026-11", 1, 90)],
                "report --json (the partnership ended in November)", rep)
        t.check(json.loads(ctl("report", "--json", "--since", "2026-12").stdout) == [],
                "report --since leaves earlier months out")

        st = json.loads(ctl("status", "--json").stdout)
        out = dict(env.sql("SELECT status, count(*) FROM outbox GROUP BY status"))
        cdss = st["programs"][0]
        t.check(cdss["name"] == "cdss" and cdss["roles"]["mentee"].get("accepted") == 1
                and cdss["roles"]["mentor"].get("active") == 1 and cdss["active_groups"] == 0
                and all(st["outbox"][k] == out.get(k, 0) for k in ("queued", "sent", "failed"))
                and st["messages"] == {"quarantined": 0, "held": 0, "pending": 0},
                "status --json counts what the database holds", (st, out))

        # -- the audit trail --------------------------------------------------
        trail = json.loads(ctl("audit", "--json").stdout)
        acts = [(a["action"], a["object"], a["field"], a["old"], a["new"]) for a in trail]
        t.check(all(a["who"] == "mentorctl (alice)" and a["at"] for a in trail),
                "each audit row says who (the sudo user) and when", trail[:2])
        pid = env.sql("SELECT id FROM people WHERE email = ?", ANA_NEW)[0][0]
        expected = [
            ("person set", "person %d" % pid, "email", ANA, ANA_NEW),
            ("person set", "person %d" % pid, "name", "Ana Ruiz", "Ana M. Ruiz"),
            ("application edit", "participation %d" % ana, "Division",
             "Children and Family Services", "Adult Programs"),
            ("application edit", "participation %d" % ana, "Years as manager", "3", "4"),
            ("application edit", "participation %d" % ana, "Classification",
             "Staff Services Manager I", "Staff Services Manager II"),
            ("application edit", "participation %d" % bob, "topics",
             "Communication, Decision Making", "Communication, Coaching"),
            ("outbox retry", "outbox %d" % fid, "status", "failed", "queued"),
            ("message dismiss", "message %d" % hid, "status", "held", "dismissed"),
            ("end", "group %d" % gid, "status", "active", "ended"),
        ]
        missing = [e for e in expected if e not in acts]
        t.check(not missing, "the audit trail has the old and new value of each change",
                (missing, acts))
        t.check(any(a[0] == "resend" and a[2] == "recipients" and a[3] == ANA and a[4] == ANA_NEW
                    for a in acts)
                and any(a[0] == "match" for a in acts)
                and any(a[0] == "meeting add" for a in acts),
                "resend, match and meeting add are audited", acts)
    check_preview(t)
    check_bounce(t)
    t.finish()


if __name__ == "__main__":
    main()
