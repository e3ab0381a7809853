"""A third program, made up for this test, run from configuration alone.

tests/fixtures/programs/buddy.conf is a buddy onboarding program that no C
code knows of: newcomers join with an arrival form (accepted at once), HR
registers buddies, pairs check in once a month (reminded on the 20th), a
settling-in survey is requested a month in with reminders until it is
answered or 15 days have passed, and at the end the pairs are completed and
newcomers are asked to become buddies.  Its texts are its own
(tests/fixtures/templates/buddy/, over the shared templates).  It runs on
real servers (Dovecot, an SMTP server) with --now stepping from January to
May 2027 in its own time zone (Europe/Berlin).

Then CDSS and the buddy program run in one daemon: mail to each address
goes to its program, each program's digest goes to its own coordinators
in working hours of its own time zone, and a coordinator of one program
cannot command the other."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

FIXTURES = os.path.join(SOURCE_DIR, "tests/fixtures")
BUDDY_CONF = os.path.join(FIXTURES, "programs/buddy.conf")
CDSS_CONF = os.path.join(SOURCE_DIR, "conf/programs/cdss.conf")
BUDDIES = "buddies@example.org"
HR = "hr@example.org"
NIA, OMAR, PIA, QUINN = "nia@example.org", "omar@example.org", "pia@example.org", "quinn@example.org"
BEN, CLEO = "ben@example.org", "cleo@example.org"
MARA, OLI = "mara@example.org", "oli@example.org"
ANA, BOB = "ana@example.org", "bob@example.org"


def arrival(name, team, manager, curious):
    return "Name: %s\nTeam: %s\nManager: %s\nCurious about: %s\n" % (name, team, manager, curious)


NIA_FORM = arrival("Nia Roy", "Payments", MARA, "Tools, Team culture")
OMAR_FORM = arrival("Omar Haddad", "Search", OLI, "Customers")
PIA_FORM = arrival("Pia Lund", "Payments", MARA, "Tools, Processes")
BEN_FORM = ("Please register Ben as a buddy.\n\nName: Ben Ortiz\nEmail: ben@example.org\n"
            "Team: Platform\nCan help with: Tools, Processes\nNewcomers at once: 2\n")
ANA_FORM = """Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: sam@example.org
Developmental needs: Communication, Decision Making
Availability: Tuesday mornings
Why do you want to join: To learn from experienced managers.
"""
BOB_FORM = """Name: Bob Lee
Email: bob@example.org
Division: Adult Programs
Years as manager: 20
Strengths: Communication, Decision Making
Capacity: 2
"""


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def templates_dir():
    """The shared templates with the buddy program's own over them, as an
    installation would have them (templates/buddy/)."""
    base = tempfile.mkdtemp(prefix="mentord-templates-", dir="/tmp")
    shutil.copytree(os.path.join(SOURCE_DIR, "templates"), os.path.join(base, "t"))
    shutil.copytree(os.path.join(FIXTURES, "templates/buddy"), os.path.join(base, "t/buddy"))
    return base


def pid(env, email, role):
    rows = env.sql("SELECT a.id FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.role = ?", email, role)
    return rows[0][0] if rows else None


def buddy_alone(t, tpl):
    with Env("engine", programs=[BUDDY_CONF], templates=tpl, authserv="mx.test.example") as env:
        p = env.run("2027-01-04T10:00+01:00", "--check-config")
        t.check("configuration OK (1 program)" in p.stdout + p.stderr,
                "the made-up program's configuration is valid", p.stdout + p.stderr)

        # -- Monday 4 January, 10:00 in Berlin: arrivals and buddies ---------
        env.deliver(NIA, "joining", NIA_FORM, to=BUDDIES, authenticated=True, name="Nia Roy")
        env.deliver(OMAR, "joining", OMAR_FORM, to=BUDDIES, authenticated=True)
        env.deliver(PIA, "hello", "Hello, I start on Monday. How does the buddy thing work?",
                    to=BUDDIES)
        env.deliver(QUINN, "joining", "Name: Quinn Adler\nTeam: Search\nCurious about: Golf\n",
                    to=BUDDIES, authenticated=True)
        env.deliver(HR, "new buddy", BEN_FORM, to=BUDDIES, authenticated=True)
        env.deliver(HR, "another buddy", "mentor cleo@example.org Cleo Wu\n", to=BUDDIES,
                    authenticated=True)
        env.run("2027-01-04T10:00+01:00")
        mail = env.new_mail()
        nia, omar = pid(env, NIA, "newcomer"), pid(env, OMAR, "newcomer")
        ben, cleo = pid(env, BEN, "buddy"), pid(env, CLEO, "buddy")
        acks = only(mail, NIA, "welcome aboard") + only(mail, OMAR, "welcome aboard")
        t.check(len(acks) == 2 and "Buddy Onboarding" in acks[0]["parsed"]["Subject"]
                and "newcomer #%d" % nia in acks[0]["parsed"]["Subject"],
                "each newcomer is welcomed with the program's own text", summary(mail))
        t.check(env.sql("SELECT status FROM participations WHERE id IN (?, ?)", nia, omar)
                == [("accepted",), ("accepted",)], "newcomers are accepted at once (decided_by auto)")
        mgr = only(mail, MARA) + only(mail, OLI)
        t.check(len(mgr) == 2 and "Nia Roy joined" in mgr[0]["parsed"]["Subject"]
                and not any("Team culture" in body_of(m) or "Customers" in body_of(m)
                            for m in mgr),
                "each manager is told, without what the newcomer is curious about", summary(mail))
        q = only(mail, PIA, "arrival form")
        t.check(len(q) == 1 and "Curious about" in body_of(q[0]) and "Team culture" in body_of(q[0]),
                "someone unknown gets the program's blank arrival form", summary(mail))
        bad = only(mail, QUINN)
        t.check(len(bad) == 1 and "Manager" in body_of(bad[0]) and "Golf" in body_of(bad[0])
                and pid(env, QUINN, "newcomer") is None,
                "an arrival form with problems is answered with each one, nothing recorded",
                body_of(bad[0]) if bad else summary(mail))
        t.check(len(only(mail, BEN, "welcome, buddy")) == 1 and cleo is not None
                and env.sql("SELECT status, capacity FROM participations WHERE id = ?", ben)
                == [("active", 2)],
                "HR registers buddies by form (capacity 2) and by command", summary(mail))
        digest = only(mail, HR, "digest")
        t.check(len(digest) == 1 and recipients(digest[0]) == [HR], "HR gets the digest", summary(mail))
        if digest:
            d = body_of(digest[0])
            t.check("Newcomers waiting for a buddy" in d and "Nia Roy" in d and "Omar Haddad" in d
                    and "match %d with %d" % (nia, ben) in d and "strengths: Tools, Processes" in d,
                    "the digest lists the waiting newcomers, the buddies and suggested pairs", d)
        t.check(only(mail, COORDINATOR) == [], "the global coordinator hears nothing of it")

        # -- 11:00: Pia answers the form; HR pairs --------------------------
        env.reply(PIA, q[0], PIA_FORM)
        env.reply(HR, digest[0], "match %d with %d\nmatch %d with %d\n" % (nia, ben, omar, cleo))
        env.run("2027-01-04T11:00+01:00")
        mail = env.new_mail()
        pia = pid(env, PIA, "newcomer")
        t.check(pia is not None and len(only(mail, PIA, "welcome aboard")) == 1,
                "Pia's reply to the form makes her a newcomer", summary(mail))
        intro_nia = only(mail, NIA, "meet your buddy")
        intro_ben = only(mail, BEN, "meet your buddy")
        t.check(len(intro_nia) == 1 and len(intro_ben) == 1 and recipients(intro_ben[0]) == [BEN]
                and len(only(mail, OMAR, "meet your buddy")) == 1
                and len(only(mail, CLEO, "meet your buddy")) == 1,
                "each pair is introduced, one copy each, with the program's introduction",
                summary(mail))
        if intro_ben:
            b = body_of(intro_ben[0])
            t.check("Nia Roy, meet your buddy Ben Ortiz" in intro_ben[0]["parsed"]["Subject"]
                    and "curious about: Tools, Team culture" in b and "Newcomer: Nia Roy" in b,
                    "the introduction names the roles and shows what the form lets the pair see", b)
        t.check(env.sql("SELECT count(*) FROM groups WHERE program = 'buddy' AND kind = 'pair' "
                        "AND status = 'active'")[0][0] == 2, "two active pairs")

        # -- Tuesday 5 January: Pia waits, Ben has a place -------------------
        env.run("2027-01-05T10:00+01:00")
        mail = env.new_mail()
        digest = only(mail, HR, "digest")
        t.check(len(digest) == 1 and "match %d with %d" % (pia, ben) in body_of(digest[0])
                and "Omar" not in body_of(digest[0]),
                "the next digest suggests Pia with Ben, who has a place left", summary(mail))
        env.reply(HR, digest[0], "match %d with %d\n" % (pia, ben))
        env.run("2027-01-05T11:00+01:00")
        env.new_mail()
        env.run("2027-01-06T10:00+01:00")
        mail = env.new_mail()
        t.check(mail == [], "no digest when nobody waits (every buddy is full)", summary(mail))

        # -- check-ins -------------------------------------------------------
        env.reply(NIA, intro_nia[0], "Check-in date: 2027-01-11\nLength: 45 minutes\n"
                  "Talked about: how the deploy pipeline scares me")
        env.reply(BEN, intro_ben[0], "met 2027-01-13 1h")
        env.run("2027-01-14T10:00+01:00")
        mail = env.new_mail()
        t.check(len(only(mail, NIA, "meeting report")) == 1 and len(only(mail, BEN, "meeting report")) == 1,
                "a check-in by the form and one by \"met\" are each confirmed", summary(mail))
        nia_pair = env.sql("SELECT group_id FROM group_members WHERE participation_id = ?", nia)[0][0]
        ev = env.sql("SELECT group_id, date, minutes FROM events ORDER BY date")
        t.check(ev[:1] == [(nia_pair, "2027-01-11", 45)],
                "the check-in form is recorded as a meeting of Nia's pair (date, 45 minutes)", ev)
        t.check(ev[1:] == [(nia_pair, "2027-01-13", 60)],
                "Ben, buddy of two, answered the introduction to Nia's pair: his check-in is "
                "that pair's", ev)
        t.check(not any("deploy pipeline" in body_of(m) for m in env.sent()),
                "what was talked about is mailed to nobody")

        env.run("2027-01-20T10:00+01:00")
        mail = env.new_mail()
        rem = only(mail, subject="this month's check-in")
        t.check(sorted(r for m in rem for r in recipients(m)) == [BEN, CLEO, OMAR, PIA],
                "on the 20th the pairs with no check-in (Omar's, Pia's) are reminded, one copy "
                "each; Nia's pair is not", summary(mail))
        if rem:
            t.check("Omar Haddad and Cleo Wu" in body_of(rem[0]) and "January 2027" in body_of(rem[0]),
                    "the reminder uses the program's text and role names", body_of(rem[0]))
        env.run("2027-01-20T15:00+01:00")
        t.check(env.new_mail() == [], "and only once")

        env.run("2027-02-01T10:00+01:00")
        mail = env.new_mail()
        fu = only(mail, HR, "partnerships in January")
        t.check(len(fu) == 1 and "Omar Haddad with Cleo Wu: 0 of 1" in body_of(fu[0])
                and "Nia" not in body_of(fu[0]),
                "HR's follow-up of January lists the pair below the cadence", summary(mail))

        # -- the settling-in survey, a month in ----------------------------
        env.run("2027-02-02T10:00+01:00")
        t.check(only(env.new_mail(), subject="survey") == [], "not before start + 30 days")
        env.run("2027-02-03T10:00+01:00")
        mail = env.new_mail()
        req = only(mail, subject="Settling-in survey")
        t.check(sorted(r for m in req for r in recipients(m)) == [NIA, OMAR, PIA],
                "the survey is requested from each newcomer, not from the buddies", summary(mail))
        reqs = {recipients(m)[0]: m for m in req}
        if NIA in reqs:
            t.check("I feel at home in my team" in body_of(reqs[NIA]), "with the blank form")
            env.reply(NIA, reqs[NIA], "I feel at home in my team: 4\nMy buddy helped: 5\n"
                      "What would help: a map of the building")
        if OMAR in reqs:
            env.reply(OMAR, reqs[OMAR], "At home: 9\nBuddy helped: 3")
        env.run("2027-02-04T10:00+01:00")
        mail = env.new_mail()
        t.check(len(only(mail, NIA, "evaluation")) == 1
                and "Recorded: your Settling-in survey" in body_of(only(mail, NIA, "evaluation")[0]),
                "Nia's answer is recorded and she is told", summary(mail))
        t.check(len(only(mail, OMAR)) == 1 and "not recorded" in body_of(only(mail, OMAR)[0]),
                "Omar's answer with a scale out of range is answered, not recorded", summary(mail))
        t.check(env.sql("SELECT a.form, a.round, p.email, a.group_id FROM answers a "
                        "JOIN people p ON p.id = a.respondent_id WHERE a.form = 'survey'")
                == [("survey", "", NIA, None)], "one survey answer, Nia's, about the program")
        env.run("2027-02-08T10:00+01:00")
        mail = env.new_mail()
        rem = only(mail, subject="reminder: your Settling-in survey")
        t.check(sorted(r for m in rem for r in recipients(m)) == [OMAR, PIA],
                "after 5 days who has not answered is reminded (Omar, Pia), not Nia", summary(mail))
        if OMAR in reqs:
            env.reply(OMAR, reqs[OMAR], "At home: 3\nBuddy helped: 4\nWhat would help: more coffee")
        env.run("2027-02-15T10:00+01:00")
        mail = env.new_mail()
        rem = only(mail, subject="reminder: your Settling-in survey")
        t.check(sorted(r for m in rem for r in recipients(m)) == [PIA],
                "Omar, who answered, is reminded no more; Pia is", summary(mail))
        env.run("2027-02-18T10:00+01:00")
        t.check(sorted(r for m in only(env.new_mail(), subject="reminder: your Settling-in")
                       for r in recipients(m)) == [PIA], "a third reminder at day 15")
        env.run("2027-02-19T10:00+01:00")
        env.run("2027-02-25T10:00+01:00")
        t.check(only(env.new_mail(), subject="survey") == [], "and none after until (15 days)")
        t.check(sorted(env.sql("SELECT p.email FROM answers a JOIN people p "
                               "ON p.id = a.respondent_id WHERE a.form = 'survey'")) == [(NIA,), (OMAR,)],
                "two survey answers (Nia's, Omar's)")
        t.check(not any(w in body_of(m) for m in env.sent()
                        for w in ("map of the building", "more coffee")),
                "survey answers are mailed to nobody")

        # -- the months go by ----------------------------------------------------
        for now in ("2027-03-01T10:00+01:00", "2027-03-22T10:00+01:00", "2027-04-01T10:00+02:00",
                    "2027-04-20T10:00+02:00"):
            env.run(now)
        env.new_mail()

        # -- Friday 30 April: the end --------------------------------------------
        env.run("2027-04-30T10:00+02:00")
        mail = env.new_mail()
        ends = only(mail, subject="buddy months are over")
        t.check(sorted(r for m in ends for r in recipients(m)) == sorted([NIA, OMAR, PIA, BEN, CLEO]),
                "at the end each member of the pairs is told, once (Ben was in two)", summary(mail))
        offer = only(ends, NIA)
        t.check(offer and "Would you be a buddy" in body_of(offer[0])
                and "Can help with" in body_of(offer[0])
                and not any("Would you be" in body_of(m) for m in only(ends, BEN) + only(ends, CLEO)),
                "newcomers are asked to be buddies, with the buddy form; buddies are not",
                body_of(offer[0]) if offer else "")
        t.check(env.sql("SELECT DISTINCT status FROM groups WHERE program = 'buddy'") == [("completed",)]
                and env.sql("SELECT DISTINCT status FROM participations WHERE program = 'buddy' AND "
                            "role = 'newcomer'") == [("completed",)],
                "the pairs and the newcomers are completed")
        env.run("2027-04-30T14:00+02:00")
        t.check(env.new_mail() == [], "the end is told once")
        if offer:
            env.reply(NIA, offer[0], "Happy to!\n\nName: Nia Roy\nEmail: nia@example.org\n"
                      "Team: Payments\nCan help with: Tools, Team culture\nNewcomers at once: 1\n")
        env.run("2027-05-03T10:00+02:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT status FROM participations WHERE id = ?", pid(env, NIA, "buddy"))
                == [("active",)] and len(only(mail, NIA, "welcome aboard, buddy")) == 1,
                "Nia, answering with the buddy form, is a buddy for the next newcomers",
                summary(mail))
        for now in ("2027-05-20T10:00+02:00", "2027-06-01T10:00+02:00"):
            env.run(now)
        mail = env.new_mail()
        t.check(mail == [], "after the end nothing is scheduled (no reminder, no follow-up)",
                summary(mail))

        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        steps = {k.split(":")[0] for (k,) in env.sql("SELECT key FROM outbox WHERE key LIKE 'step=%'")}
        t.check(steps == {"step=digest", "step=checkin-reminder", "step=followup", "step=survey",
                          "step=close"}, "every step of the program ran, under its own name", steps)


def two_programs(t, tpl):
    with Env("engine2", programs=[CDSS_CONF, BUDDY_CONF], templates=tpl,
             authserv="mx.test.example") as env:
        # -- Tuesday 5 January, 10:00 in Berlin (01:00 in Los Angeles) --------
        env.deliver(ANA, "application", ANA_FORM, authenticated=True)  # to mentoring@
        env.deliver(NIA, "joining", NIA_FORM, to=BUDDIES, authenticated=True)
        env.deliver(COORDINATOR, "mentor", BOB_FORM, authenticated=True)
        env.deliver(HR, "buddy", BEN_FORM, to=BUDDIES, authenticated=True)
        env.run("2027-01-05T10:00+01:00")
        mail = env.new_mail()
        ana, nia = pid(env, ANA, "mentee"), pid(env, NIA, "newcomer")
        bob, ben = pid(env, BOB, "mentor"), pid(env, BEN, "buddy")
        t.check(env.sql("SELECT program FROM participations WHERE id IN (?, ?, ?, ?) ORDER BY id",
                        ana, nia, bob, ben) == [("cdss",), ("buddy",), ("cdss",), ("buddy",)]
                if None not in (ana, nia, bob, ben) else False,
                "mail to each address goes to its program (mentoring@: CDSS, buddies@: buddy)")
        t.check(len(only(mail, ANA, "CDSS Mentoring Partnership Program")) == 1
                and len(only(mail, NIA, "Buddy Onboarding: welcome aboard")) == 1,
                "each applicant hears from their program", summary(mail))
        t.check(len(only(mail, COORDINATOR, "done")) == 1 and len(only(mail, HR, "done")) == 1,
                "each coordinator gets the results of their own registration", summary(mail))
        digests = only(mail, subject="digest")
        t.check(len(digests) == 1 and recipients(digests[0]) == [HR]
                and "Buddy Onboarding" in digests[0]["parsed"]["Subject"],
                "at 10:00 in Berlin only the buddy program's digest goes, to HR (01:00 in "
                "Los Angeles is outside CDSS's working hours)", summary(mail))
        if digests:
            t.check("Nia Roy" in body_of(digests[0]) and "Ana Ruiz" not in body_of(digests[0]),
                    "the buddy digest speaks of the buddy program only", body_of(digests[0]))
        buddy_digest = digests[0] if digests else None

        # -- 09:00 in Los Angeles (18:00 in Berlin) ------------------------------
        env.run("2027-01-05T09:00")
        mail = env.new_mail()
        digests = only(mail, subject="digest")
        t.check(len(digests) == 1 and recipients(digests[0]) == [COORDINATOR]
                and "CDSS" in digests[0]["parsed"]["Subject"],
                "at 09:00 in Los Angeles the CDSS digest goes, to its coordinator; the buddy "
                "program's is not sent again", summary(mail))
        cdss_digest = digests[0] if digests else None
        if cdss_digest:
            b = body_of(cdss_digest)
            t.check("Ana Ruiz" in b and "match %d with %d" % (ana, bob) in b and "Nia" not in b
                    and "Ben" not in b, "the CDSS digest speaks of CDSS only", b)

        # -- each coordinator commands their own program only ------------------
        env.deliver(COORDINATOR, "pairs", "match %d with %d\n" % (nia, ben), to=BUDDIES,
                    authenticated=True)
        env.deliver(HR, "decisions", "accept %d\n" % ana, authenticated=True)  # to mentoring@
        env.reply(COORDINATOR, cdss_digest, "match %d with %d\n" % (nia, ben))
        env.run("2027-01-05T09:30")
        mail = env.new_mail()
        refused = only(mail, COORDINATOR, "not accepted") + only(mail, HR, "not accepted")
        t.check(len(refused) == 2 and all("coordinator" in body_of(m).lower() for m in refused),
                "a command to the other program's address is refused, with an explanation, to "
                "each", summary(mail))
        res = only(mail, COORDINATOR, "done")
        t.check(len(res) == 1 and "there is no application #%d" % nia in body_of(res[0]),
                "naming the other program's people in one's own program changes nothing",
                body_of(res[0]) if res else summary(mail))
        t.check(env.sql("SELECT status FROM participations WHERE id IN (?, ?) ORDER BY id", ana, nia)
                == [("applied",), ("accepted",)] and env.sql("SELECT count(*) FROM groups")[0][0] == 0,
                "nothing changed in either program")

        # -- and each coordinator can command their own ----------------------------
        env.reply(HR, buddy_digest, "match %d with %d\n" % (nia, ben))
        env.reply(COORDINATOR, cdss_digest, "accept %d\nmatch %d with %d\n" % (ana, ana, bob))
        env.run("2027-01-05T10:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT program, kind FROM groups ORDER BY id") == [("buddy", "pair"), ("cdss", "pair")],
                "each coordinator pairs in their own program", env.sql("SELECT * FROM groups"))
        t.check(len(only(mail, NIA, "meet your buddy")) == 1 and len(only(mail, ANA, "meet your mentor")) == 1,
                "each pair is introduced with its program's text", summary(mail))
        # The next morning in each time zone: nothing waits in either.
        env.run("2027-01-06T10:00+01:00")
        env.run("2027-01-06T09:00")
        mail = env.new_mail()
        t.check(only(mail, subject="digest") == [],
                "the next morning, in each program's time zone, nothing waits: no digest",
                summary(mail))
        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        t.check(all(re.match(r"step=[a-z-]+:program=(cdss|buddy)", k)
                    for (k,) in env.sql("SELECT key FROM outbox WHERE key LIKE 'step=digest%'")),
                "digest keys name their program")


def main():
    t = Checker()
    tpl = templates_dir()
    try:
        buddy_alone(t, os.path.join(tpl, "t"))
        two_programs(t, os.path.join(tpl, "t"))
    finally:
        shutil.rmtree(tpl, ignore_errors=True)
    t.finish()


if __name__ == "__main__":
    main()
