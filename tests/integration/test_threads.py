"""Whose message is it?  Reply tokens, threads, forged senders and bounces,
through mentord on real servers.

Every email goes to one person and carries a token signed for them in its
Reply-To.  A reply changes state only if its token verifies; a new email, or
a reply without a token, is only a claim, which the claimed address must
confirm by reply.  A forged or altered message is held for the coordinator
and gets no answer (no backscatter).  A permanent bounce tied to an email
mentord sent marks the address undeliverable and tells the coordinator
once."""

import email.utils
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, PROGRAM_ADDRESS, Checker, Env, body_of, recipients  # noqa: E402

ANA, BOB, MAL = "ana@example.org", "bob@example.org", "mallory@example.net"
ANA_HOME = "ana.ruiz@home.example"

ANA_FORM = """Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: sam@example.org
Developmental needs: Communication, Conflict Management
Availability: Tuesday mornings
Why do you want to join: To learn to handle conflict.
"""

BOB_MENTOR_FORM = """Name: Bob Lee
Email: bob@example.org
Division: Adult Programs
Years as manager: 20
Strengths: Communication, Conflict Management
Capacity: 2
"""

SECRET = "test-only-secret-5d1f0c2b8e7a4b6c9d0e1f2a3b4c5d6e"


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs
            if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def reply_to(msg):
    return email.utils.parseaddr(msg["parsed"]["Reply-To"] or "")[1]


def message_id(msg):
    return msg["parsed"]["Message-ID"].strip("<>")


def meetings(env):
    return env.sql("SELECT count(*) FROM meetings")[0][0]


def status_of(env, mid):
    rows = env.sql("SELECT status, reason FROM messages WHERE message_id = ?", mid)
    return rows[0] if rows else (None, None)


def main():
    t = Checker()
    with Env("threads", conf_extra='hmac_secret = "%s"' % SECRET) as env:
        # -- a partnership: Bob registered, Ana applies, accepted and matched --
        # New emails prove nothing: each sender is asked to confirm by reply.
        env.deliver(COORDINATOR, "New mentor", BOB_MENTOR_FORM)
        env.deliver(ANA, "application", ANA_FORM, name="Ana Ruiz")
        env.run("2026-11-02T10:00")
        mail = env.new_mail()
        t.check(len(mail) == 2 and env.confirm(mail, COORDINATOR) and env.confirm(mail, ANA),
                "the coordinator and Ana are each asked to confirm", summary(mail))
        t.check(env.sql("SELECT count(*) FROM applications")[0][0] == 0,
                "nothing is registered before the confirmations")
        env.run("2026-11-02T10:30")
        mail = env.new_mail()
        ack = only(mail, ANA, "received")
        t.check(len(ack) == 1, "Ana's application is acknowledged", summary(mail))
        token_addr = reply_to(ack[0]) if ack else ""
        t.check(re.fullmatch(r"mentoring\+[a-z0-9]+@example\.org", token_addr) is not None,
                "the acknowledgment's Reply-To carries a token", token_addr)
        t.check(ack and re.search(r"\[ref:\d+\]$", ack[0]["parsed"]["Subject"]) is not None,
                "the subject carries the thread tag", ack and ack[0]["parsed"]["Subject"])
        app_id = env.sql("SELECT a.id FROM applications a JOIN people p ON p.id = a.person_id "
                         "WHERE p.email = ?", ANA)[0][0]
        mentor_id = env.sql("SELECT a.id FROM applications a JOIN people p ON p.id = a.person_id "
                            "WHERE p.email = ?", BOB)[0][0]
        env.deliver(COORDINATOR, "commands", "accept %d\nmatch %d with %d\n" % (app_id, app_id, mentor_id))
        env.run("2026-11-03T09:00")
        mail = env.new_mail()
        req = env.confirm(mail, COORDINATOR)
        t.check(req is not None and "match %d with %d" % (app_id, mentor_id) in body_of(req),
                "the coordinator's new email is quoted back for confirmation", summary(mail))
        env.run("2026-11-03T09:30")
        mail = env.new_mail()
        intro = only(mail, ANA, "meet your mentor")
        intro_bob = only(mail, BOB, "meet your mentor")
        t.check(len(intro) == 1 and len(intro_bob) == 1 and recipients(intro[0]) == [ANA],
                "the pair is introduced, each by an email of their own", summary(mail))
        t.check(reply_to(intro[0]) != reply_to(intro_bob[0]),
                "each copy carries its own recipient's token")
        accepted = only(mail, ANA, "in the class")
        t.check(len(accepted) == 1, "Ana is told she is accepted", summary(mail))
        t.check(env.sql("SELECT count(*) FROM matches WHERE status = 'active'")[0][0] == 1,
                "one active partnership")

        # -- a token that verifies: Ana answers from her home address ----------
        # The "accepted" email went to Ana alone, so its token names her: the
        # report counts as hers, and the answer goes to her registered address.
        mid = env.deliver(ANA_HOME, "Re: accepted", "met 2026-11-05 1h\n", to=reply_to(accepted[0]))
        env.run("2026-11-05T12:00")
        mail = env.new_mail()
        t.check(meetings(env) == 1, "a report under a verified token is recorded", status_of(env, mid))
        rec = only(mail, subject="meeting report")
        t.check(len(rec) == 1 and recipients(rec[0]) == [ANA],
                "the answer goes to Ana's registered address, not the From", summary(mail))

        # -- a token altered by a forger: held, unanswered ----------------------
        good = reply_to(accepted[0])
        local, domain = good.split("@")
        bad = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
        mid = env.deliver(ANA, "Re: accepted", "met 2026-11-06 1h\n", to=bad)
        env.run("2026-11-06T12:00")
        mail = env.new_mail()
        st = status_of(env, mid)
        t.check(meetings(env) == 1, "an altered token changes nothing", st)
        t.check(st[0] == "held" and "token" in (st[1] or ""), "the message is held with its reason", st)
        t.check(only(mail, ANA) == [] and only(mail, ANA_HOME) == [],
                "no answer goes out for an altered token", summary(mail))

        # -- a forged From answering someone else's thread ----------------------
        # Mallory claims to be Bob and answers the email sent to Ana alone.
        mid = env.deliver(BOB, "Re: your application", "met 2026-11-09 2h\n",
                          in_reply_to=message_id(ack[0]))
        env.run("2026-11-09T12:00")
        mail = env.new_mail()
        st = status_of(env, mid)
        t.check(meetings(env) == 1, "a reply from someone the thread was not sent to changes nothing", st)
        t.check(st[0] == "held" and ANA in (st[1] or ""), "it is held, naming whom the thread went to", st)
        t.check(only(mail, BOB) == [], "no answer to the claimed sender", summary(mail))

        # -- a forged coordinator answering a participant's thread --------------
        match_id = env.sql("SELECT id FROM matches")[0][0]
        mid = env.deliver(COORDINATOR, "Re: accepted", "end %d\n" % match_id,
                          in_reply_to=message_id(accepted[0]))
        env.run("2026-11-09T13:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT status FROM matches")[0][0] == "active",
                "a forged coordinator command in someone else's thread ends nothing",
                status_of(env, mid))
        t.check(only(mail, COORDINATOR, "done") == [], "and no command results are sent", summary(mail))

        # -- only the subject tag: the thread is found by it ----------------------
        tag = re.search(r"\[ref:\d+\]", accepted[0]["parsed"]["Subject"]).group(0)
        mid = env.deliver(MAL, "Re: news " + tag, "met 2026-11-10 1h\n")
        env.run("2026-11-10T12:00")
        mail = env.new_mail()
        st = status_of(env, mid)
        t.check(st[0] == "held" and only(mail, MAL) == [],
                "a stranger using a thread's subject tag is held and not answered", (st, summary(mail)))
        mid = env.deliver(ANA, "Re: accepted " + tag, "met 2026-11-10 1h\n")
        env.run("2026-11-10T13:00")
        mail = env.new_mail()
        st = status_of(env, mid)
        t.check(meetings(env) == 1 and st[0] == "pending",
                "Ana's reply found by its subject tag alone (no token) waits for her to confirm",
                st)
        t.check(env.confirm(mail, ANA) is not None, "she is asked to confirm", summary(mail))
        env.run("2026-11-10T13:30")
        mail = env.new_mail()
        t.check(meetings(env) == 2 and status_of(env, mid)[0] == "applied",
                "confirmed, the report is recorded", status_of(env, mid))

        # -- a plain reply from the right person still works --------------------
        env.reply(BOB, intro_bob[0], "met 2026-11-12 1h")
        env.run("2026-11-12T12:00")
        mail = env.new_mail()
        t.check(meetings(env) == 3, "Bob's reply to the introduction is recorded", summary(mail))

        # -- a permanent bounce for Bob: the coordinator is told, once ----------
        def bounce(n):
            env.bounce_for(intro_bob[0])
        bounce(1)
        env.run("2026-11-13T12:00")
        mail = env.new_mail()
        notice = only(mail, COORDINATOR, "cannot be delivered")
        t.check(len(notice) == 1 and BOB in body_of(notice[0]) and "5.1.1" in body_of(notice[0]),
                "a permanent bounce is reported to the coordinator", summary(mail))
        t.check(only(mail, "mailer-daemon@mx.example.org") == [] and only(mail, BOB) == [],
                "the bounce is not answered", summary(mail))
        t.check(env.sql("SELECT undeliverable FROM people WHERE email = ?", BOB)[0][0] == 1,
                "Bob's address is marked undeliverable")
        bounce(2)
        env.run("2026-11-13T13:00")
        mail = env.new_mail()
        t.check(only(mail, COORDINATOR, "cannot be delivered") == [],
                "a second bounce for the same address is not reported again", summary(mail))

        # -- loop protection: answers to one address a day are capped -----------
        for i in range(8):
            env.deliver(MAL, "hello %d" % i, "Is this the mentoring program?\n")
        env.run("2026-11-16T12:00")
        mail = env.new_mail()
        t.check(len(only(mail, MAL)) == 1 and len(only(mail, MAL, "questionnaire")) == 1,
                "eight questions from a stranger get one questionnaire a day", summary(mail))
        for i in range(8):
            env.deliver(MAL, "form %d" % i, "Name: Mal\nYears as manager: lots\n")
        env.run("2026-11-16T13:00")
        mail = env.new_mail()
        t.check(len(only(mail, MAL)) == 4,
                "an address gets at most max_auto_replies_per_day (5) answers a day",
                summary(mail))
        t.check(env.sql("SELECT count(*) FROM messages WHERE from_addr = ?", MAL)[0][0] == 17,
                "every one of its messages is still stored")

        # -- mail to an undeliverable address is not sent ------------------------
        env.run("2026-12-16T12:00")
        mail = env.new_mail()
        rem = only(mail, subject="time to meet")
        t.check(len(rem) == 1 and recipients(rem[0]) == [ANA],
                "December's reminder goes to Ana only, not to Bob's dead address", summary(mail))
        env.reply(BOB, intro_bob[0], "met 2026-12-17 1h\n")
        env.run("2026-12-17T12:00")
        t.check(env.sql("SELECT undeliverable FROM people WHERE email = ?", BOB)[0][0] == 0,
                "Bob writing again from his address makes it deliverable again")

        # -- the cadence report counts what was recorded, nothing held -----------
        csv = env.ctl("report", "--csv").stdout.splitlines()
        nov = [r for r in csv if ",2026-11," in r]
        t.check(csv[0].startswith("program,partnership,mentee,mentor") and len(nov) == 1
                and nov[0].endswith(",2026-11,3,180,2"),
                "report --csv: 3 meetings, 180 minutes in November (forged reports not counted)",
                "\n".join(csv))

        ids = [m["parsed"]["Message-ID"] for m in env.sent()]
        t.check(len(ids) == len(set(ids)), "nothing was sent twice")
    t.finish()


if __name__ == "__main__":
    main()
