"""A CDSS mentoring partnership run end to end by email, on real servers.

Dovecot (IMAP) and an SMTP server run on loopback; participants' mail is
APPENDed as a mail client would deliver it; mentord runs one cycle at a time
with --now, stepping through November and December 2026 (time zone
America/Los_Angeles).  Every step is run twice, and time is stepped back
once, to prove that nothing is ever sent twice."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, Checker, Env, body_of, recipients  # noqa: E402

ANA, BOB, SAM = "ana@example.org", "bob@example.org", "sam@example.org"
CARLA, DAN, EVE = "carla@example.org", "dan@example.org", "eve@example.org"
NOBODY = "nobody@example.org"  # Eve's supervisor: the SMTP server answers 550

ANA_FORM = """Here is my questionnaire.

Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: Sam Boss <sam@example.org>
Developmental needs: Communication, Conflict Management, Decision Making
Availability: Tuesday and Thursday mornings
Why do you want to join: I lead a new team and want to learn how
experienced managers handle conflict.

Thanks,
Ana
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

CARLA_FORM = """Name: Carla Diaz
Division: Community Care Licensing
Classification: Manager
Years as manager: lots
Developmental needs: Communication, Juggling
Availability: any
Why: I was told to apply.
"""

BOB_MENTOR_FORM = """Please register this mentor.

Name: Bob Lee
Email: bob@example.org
Division: Adult Programs
Status: retired manager
Years as manager: 20
Strengths: Communication, Decision Making, Developing Others
Capacity: 2
"""


def only(msgs, rcpt=None, subject=None):
    out = []
    for m in msgs:
        if rcpt is not None and rcpt not in recipients(m):
            continue
        if subject is not None and subject.lower() not in m["parsed"]["Subject"].lower():
            continue
        out.append(m)
    return out


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def main():
    t = Checker()
    # The department's receiving server (mx.test.example) authenticates
    # mail: the coordinator and Eve write new emails, which a passing DMARC
    # check proves theirs (test_trust covers mail without that proof).
    with Env("program", smtp_options={"fail_rcpt": {NOBODY: 550}},
             authserv="mx.test.example") as env:
        # -- 2 November, 09:00: a first message from someone unknown --------
        env.deliver(ANA, "Mentoring program", "Hello, I would like to join the mentoring program.",
                    name="Ana Ruiz")
        env.run("2026-11-02T09:00")
        mail = env.new_mail()
        q = only(mail, ANA, "questionnaire")
        t.check(len(mail) == 1 and len(q) == 1, "unknown sender receives the questionnaire", summary(mail))
        if q:
            body = body_of(q[0])
            t.check("Developmental needs (" in body and "Supervisor email (" in body
                    and "Conflict Management" in body, "questionnaire lists the fields and competencies")
            t.check(q[0]["parsed"]["Message-ID"] is not None, "questionnaire has a Message-ID")
        env.run("2026-11-02T09:00")
        t.check(env.new_mail() == [], "a repeated cycle sends nothing")

        # -- 2 November, 10:00: forms come back --------------------------------
        env.reply(ANA, q[0], ANA_FORM, name="Ana Ruiz")
        env.deliver(COORDINATOR, "New mentor", BOB_MENTOR_FORM, authenticated=True)
        env.deliver(CARLA, "application", CARLA_FORM)
        env.deliver(EVE, "my application", EVE_FORM, authenticated=True)
        env.deliver(DAN, "Re: digest", "accept 1\n")
        env.deliver_raw(b"\x00\x01garbage\xff\xfe without any header\r\n\r\n\x00more")
        env.run("2026-11-02T10:00")
        mail = env.new_mail()
        ack = only(mail, ANA, "received")
        t.check(len(ack) == 1, "applicant gets one acknowledgment", summary(mail))
        app_id = int(re.search(r"#(\d+)", ack[0]["parsed"]["Subject"]).group(1)) if ack else 0
        notice = only(mail, SAM)
        t.check(len(notice) == 1 and "Ana Ruiz" in body_of(notice[0]),
                "supervisor is told that their employee applied", summary(mail))
        if notice:
            nb = body_of(notice[0])
            t.check(not any(w in nb for w in ("Conflict Management", "Decision Making", "conflict.")),
                    "supervisor notice holds none of the self-assessment", nb)
        welcome = only(mail, BOB, "mentor")
        t.check(len(welcome) == 1, "mentor registered by the coordinator is welcomed", summary(mail))
        results = only(mail, COORDINATOR, "done")
        t.check(any("Bob Lee" in body_of(m) and "registered" in body_of(m) for m in results),
                "coordinator is told the mentor is registered", summary(mail))
        problems = only(mail, CARLA)
        t.check(len(problems) == 1, "an incomplete form gets one reply", summary(mail))
        if problems:
            pb = body_of(problems[0])
            t.check("Supervisor email" in pb and "Years as manager" in pb and "Juggling" in pb,
                    "the reply names each problem", pb)
            t.check("Carla Diaz" in pb, "the reply shows what was understood", pb)
        refused = only(mail, DAN)
        t.check(len(refused) == 1 and "coordinator" in body_of(refused[0]).lower(),
                "a command from a non-coordinator is refused with an explanation", summary(mail))
        digest = only(mail, COORDINATOR, "digest")
        t.check(len(digest) == 1, "coordinator receives a digest", summary(mail))
        mentor_id = env.sql("SELECT a.id FROM applications a JOIN people p ON p.id = a.person_id "
                            "WHERE p.email = ? AND role = 'mentor'", BOB)[0][0]
        if digest:
            db = body_of(digest[0])
            t.check("Ana Ruiz" in db and "Eve Park" in db, "digest lists pending applications", db)
            t.check("match %d with %d" % (app_id, mentor_id) in db, "digest suggests Ana with Bob", db)
            t.check("garbage" in db or "no sender" in db, "digest shows the message held", db)
            t.check(digest[0]["parsed"]["Auto-Submitted"] == "auto-generated",
                    "digest carries Auto-Submitted")
        t.check(env.sql("SELECT count(*) FROM applications WHERE role = 'mentee'")[0][0] == 2,
                "database holds two valid applications (Ana, Eve), not Carla's")
        t.check(env.sql("SELECT count(*) FROM messages")[0][0] == 7, "every message is kept")
        t.check(env.sql("SELECT count(*) FROM messages WHERE status = 'held'")[0][0] == 1,
                "the garbled message is held for the coordinator")
        raw = env.sql("SELECT r.raw FROM message_raw r JOIN messages m ON m.id = r.id "
                      "WHERE m.from_addr = ?", CARLA)
        t.check(raw and b"Juggling" in raw[0][0], "raw bytes of the message are stored")
        env.run("2026-11-02T10:00")
        env.run("2026-11-02T11:00")
        t.check(env.new_mail() == [], "repeated cycles send nothing twice")
        failed = env.sql("SELECT key, smtp_code FROM outbox WHERE status = 'failed'")
        t.check(len(failed) == 1 and failed[0][1] == 550,
                "the email refused with 550 is marked failed", failed)

        # -- 3 November: the coordinator answers the digest --------------------
        env.reply(COORDINATOR, digest[0], "accept %d\nmatch %d with %d\nplease frobnicate 3\n"
                  % (app_id, app_id, mentor_id))
        env.run("2026-11-03T09:00")
        mail = env.new_mail()
        accepted = only(mail, ANA, "class")
        t.check(len(accepted) == 1, "the mentee is told she is accepted", summary(mail))
        intro = only(mail, ANA, "meet your mentor")
        intro_bob = only(mail, BOB, "meet your mentor")
        t.check(len(intro) == 1 and len(intro_bob) == 1 and recipients(intro[0]) == [ANA]
                and recipients(intro_bob[0]) == [BOB],
                "the introduction goes to mentee and mentor, each in their own copy",
                summary(mail))
        if intro_bob:
            t.check(ANA in body_of(intro_bob[0]) and BOB in body_of(intro[0]),
                    "each copy gives the partner's address", body_of(intro_bob[0]))
        if intro:
            ib = body_of(intro[0])
            t.check("Conflict Management" in ib and "met 2026-11-20 2h" in ib,
                    "introduction gives the needs and how to report meetings", ib)
        res = only(mail, COORDINATOR, "done")
        t.check(len(res) == 1 and "partnership #" in body_of(res[0]),
                "the coordinator gets the results of the commands", summary(mail))
        digest2 = only(mail, COORDINATOR, "digest")
        t.check(len(digest2) == 1 and "550" in body_of(digest2[0]),
                "the next digest reports the email that failed", summary(mail))
        t.check(env.sql("SELECT count(*) FROM matches WHERE status = 'active'")[0][0] == 1,
                "database holds one active partnership")
        env.run("2026-11-03T09:00")
        t.check(env.new_mail() == [], "re-running the commands' cycle changes nothing")

        # -- 10 November: both partners report the same meeting ---------------
        env.reply(ANA, intro[0], "met 2026-11-09 2h")
        env.reply(BOB, intro_bob[0], "We met yesterday.\nmet 2026-11-09 2h")
        env.run("2026-11-10T12:00")
        mail = env.new_mail()
        t.check(len(only(mail, ANA, "meeting report")) == 1 and len(only(mail, BOB, "meeting report")) == 1,
                "each reporter gets a confirmation", summary(mail))
        t.check(env.sql("SELECT count(*), sum(minutes) FROM meetings")[0] == (1, 120),
                "the same meeting reported twice counts once")

        # -- 16 November (Monday): mid-month reminder --------------------------
        env.run("2026-11-14T10:00")  # a Saturday: not in working hours
        t.check(env.new_mail() == [], "nothing is sent on a weekend")
        env.run("2026-11-16T09:00")
        mail = env.new_mail()
        rem = only(mail, ANA, "time to meet")
        t.check(len(rem) == 1 and len(only(mail, BOB, "time to meet")) == 1
                and len(only(mail, ANA)) == 1 and len(only(mail, BOB)) == 1,
                "partnership below cadence gets one mid-month reminder, a copy to each partner",
                summary(mail))
        if rem:
            t.check("November 2026" in body_of(rem[0]) and "1 meeting" in body_of(rem[0]),
                    "reminder says the month and the count", body_of(rem[0]))
            t.check(rem[0]["parsed"]["Auto-Submitted"] == "auto-generated", "reminder is Auto-Submitted")
        env.run("2026-11-16T09:00")
        env.run("2026-11-20T11:00")
        mail = env.new_mail()
        t.check(only(mail, ANA) == [], "the reminder is not sent twice in the month", summary(mail))

        # -- 1 December: month-end follow-up ----------------------------------
        env.run("2026-12-01T09:00")
        mail = env.new_mail()
        fu = only(mail, COORDINATOR, "partnerships in November")
        t.check(len(fu) == 1, "coordinator gets one month-end follow-up", summary(mail))
        if fu:
            t.check("Ana Ruiz" in body_of(fu[0]) and "1 of 2" in body_of(fu[0]),
                    "follow-up lists the partnership below cadence", body_of(fu[0]))
            t.check("Conflict" not in body_of(fu[0]), "follow-up shows cadence, not content")
        env.run("2026-12-01T09:00")
        env.run("2026-11-16T09:30")  # time stepped back
        env.run("2026-12-01T15:00")
        t.check(env.new_mail() == [], "stepping time back and forth sends nothing twice")

        # -- December: the partnership keeps the cadence -----------------------
        env.reply(ANA, intro[0], "met 2026-12-02 2h")
        env.run("2026-12-03T09:00")
        env.reply(BOB, intro_bob[0], "met 2026-12-07 1.5h")
        env.run("2026-12-08T09:00")
        env.new_mail()
        env.run("2026-12-15T09:00")
        mail = env.new_mail()
        t.check(only(mail, ANA, "time to meet") == [], "no reminder when the cadence is met", summary(mail))
        env.run("2027-01-04T09:00")
        mail = env.new_mail()
        fu = only(mail, COORDINATOR, "partnerships in December")
        t.check(len(fu) == 1 and "Every partnership met the cadence" in body_of(fu[0]),
                "December's follow-up says every partnership met the cadence", summary(mail))

        # -- January: evaluations, counted once, their answers never mailed -----
        secret = "Bob helped me prepare a hard conversation with my director."
        env.reply(ANA, intro[0], "Overall, the partnership was useful: [x] 4 - agree\n"
                  "My mentor listened: 5\nComments: %s" % secret)
        env.reply(BOB, intro_bob[0], "Overall: 9\nComments: fine")
        env.deliver("stranger9@example.org", "evaluation", "Overall: 3\nComments: who am I?")
        env.run("2027-01-05T10:00")
        mail = env.new_mail()
        ev = only(mail, ANA, "evaluation")
        t.check(len(ev) == 1 and "Recorded: your evaluation" in body_of(ev[0])
                and "Bob Lee" in body_of(ev[0]),
                "Ana's evaluation is recorded and she is told so", summary(mail))
        bad = only(mail, BOB, "evaluation")
        t.check(len(bad) == 1 and "not recorded" in body_of(bad[0])
                and "Overall" in body_of(bad[0]),
                "an evaluation with a scale out of range is answered with the problem",
                body_of(bad[0]) if bad else summary(mail))
        odd = only(mail, "stranger9@example.org")
        t.check(len(odd) == 1 and "not in an active partnership" in body_of(odd[0]),
                "an evaluation from outside any partnership is held, its sender told why",
                summary(mail))
        t.check(not any("hard conversation" in body_of(m) for m in env.sent()),
                "no email mentord sent contains an evaluation's comments")
        t.check(env.sql("SELECT count(*) FROM evaluations")[0][0] == 1,
                "one evaluation stored")
        row = env.sql("SELECT id FROM messages WHERE reason LIKE 'evaluation for partnership%'")
        env.ctl("replay", str(row[0][0]))
        t.check(env.sql("SELECT count(*) FROM evaluations")[0][0] == 1 and env.new_mail() == [],
                "a replayed evaluation is neither counted nor answered twice")

        # -- nothing, ever, twice ---------------------------------------------
        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        ids = [m["parsed"]["Message-ID"] for m in env.sent()]
        t.check(len(ids) == len(set(ids)), "the SMTP server never received the same email twice")
        status = env.ctl("status").stdout
        t.check("active partnerships: 1" in status, "mentorctl status shows the partnership", status)
        matches = env.ctl("matches").stdout
        t.check("Ana Ruiz" in matches and "Bob Lee" in matches, "mentorctl matches lists the pair", matches)
        people = env.ctl("people").stdout
        t.check(ANA in people and BOB in people, "mentorctl people lists participants", people)
    t.finish()


if __name__ == "__main__":
    main()
