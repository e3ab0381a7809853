"""A CDSS class run through its whole year, on real servers.

conf/programs/cdss.conf runs from 2026-11-01 to 2027-07-30 and asks for
what the CDSS seed asks: a group meeting announced to every partner each
quarter, evaluations requested at the mid-point (start + 50%) and 14 days
before the end with reminders to who has not answered, the partnerships
ended at the end date, and graduating mentees offered the mentor role for
the next class.  Dovecot (IMAP) and an SMTP server run on loopback;
participants' mail is APPENDed as their mail client would deliver it;
mentord runs one cycle at a time with --now (America/Los_Angeles),
stepping across the year: each quarter's first day, the mid-point and its
reminder days, end - 14 days and its reminder days, the end, and two
months after it.  Every cycle is run twice: the second sends nothing.

The class applies and is matched in October, before the start: mentees
Ana (with Bob) and Cid (with Dora); Eli is matched with Dora, who takes
two, on 3 November, and withdraws in December; Fay is put in the waiting
pool and never matched.  The fourth quarter of 2026 began before the class
did: its group meeting is announced at the start to the partners formed by
then.  Only Ana, Bob, Cid and Dora are partners after December, and only
they hear of group meetings and evaluations.  After the end, Ana answers
the offer and becomes a mentor, and Dora's late final evaluation is still
recorded."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, Checker, Env, body_of, recipients  # noqa: E402

ANA, CID, ELI, FAY = "ana@example.org", "cid@example.org", "eli@example.org", "fay@example.org"
BOB, DORA = "bob@example.org", "dora@example.org"
SAM, TESS = "sam@example.org", "tess@example.org"  # supervisors
PARTNERS = sorted([ANA, BOB, CID, DORA])

GROUP_MEETING = "this quarter's group meeting"
MID = "your Partnership evaluation (mid)"
FINAL = "your Partnership evaluation (final)"
ENDED = "the program has ended"


def application(name, division, years, supervisor, needs):
    return ("Name: %s\nDivision: %s\nClassification: Staff Services Manager I\n"
            "Years as manager: %d\nSupervisor email: %s\nDevelopmental needs: %s\n"
            "Availability: Tuesday mornings\nWhy do you want to join: To grow as a leader.\n"
            % (name, division, years, supervisor, needs))


def mentor_form(name, address, division, capacity):
    return ("Please register this mentor.\n\nName: %s\nEmail: %s\nDivision: %s\n"
            "Status: retired manager\nYears as manager: 20\n"
            "Strengths: Communication, Decision Making, Developing Others\nCapacity: %d\n"
            % (name, address, division, capacity))


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def to_whom(msgs, subject=None):
    """Every recipient of msgs (with subject), sorted, repeats kept: a
    person twice in the list got two emails."""
    return sorted(r for m in only(msgs, subject=subject) for r in recipients(m))


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def pid(env, address, role):
    rows = env.sql("SELECT a.id FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.role = ?", address, role)
    return rows[0][0] if rows else None


def status(env, address, role):
    rows = env.sql("SELECT a.status FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.role = ?", address, role)
    return rows[0][0] if rows else None


def answered(env, rnd):
    return sorted(e for (e,) in env.sql(
        "SELECT p.email FROM answers a JOIN people p ON p.id = a.respondent_id "
        "WHERE a.program = 'cdss' AND a.form = 'evaluation' AND a.round = ?", rnd))


def requested(env, step):
    """Who the outbox holds step's request for (reminders apart), as sent."""
    return sorted(r for (r,) in env.sql(
        "SELECT recipients FROM outbox WHERE key LIKE ? AND key NOT LIKE '%:reminder=%' "
        "AND status = 'sent'", "step=%s:person=%%" % step))


class Year:
    """Runs mentord at each --now twice and keeps what each run sent."""

    def __init__(self, env, t):
        self.env, self.t = env, t
        self.log = []  # (now, messages)

    def step(self, now):
        self.env.run(now)
        mail = self.env.new_mail()
        self.env.run(now)
        again = self.env.new_mail()
        self.t.check(again == [], "%s: the same cycle run again sends nothing" % now, summary(again))
        self.log.append((now, mail))
        return mail

    def since(self, index):
        return [m for _, mail in self.log[index:] for m in mail]


def quarter(t, year, q, now, next_day):
    """The quarter's first day: the group meeting announced to every
    partner, once."""
    mail = year.step(now)
    gm = only(mail, subject=GROUP_MEETING)
    t.check(to_whom(gm) == PARTNERS and all(len(recipients(m)) == 1 for m in gm),
            "%s: the group meeting is announced to every partner (mentees and mentors), one "
            "email each, not to Eli (withdrew) nor Fay (never matched)" % q, summary(mail))
    if gm:
        t.check("all partners" in body_of(gm[0]) and "group" in body_of(gm[0]),
                "%s: the announcement explains the group meeting" % q, body_of(gm[0]))
    mail = year.step(next_day)
    t.check(only(mail, subject=GROUP_MEETING) == [], "%s: announced once, not again the next day"
            % q, summary(mail))


def mid_point(t, env, year):
    """start + 50% = 2027-03-16: the mid-point evaluation requested from
    each partner; Ana answers at once, Cid after the first reminder."""
    year.mid_mark = len(year.log)
    t.check(only(year.since(0), subject=MID) == [], "no mid-point evaluation before the mid-point")
    mail = year.step("2027-03-16T09:00")
    req = only(mail, subject=MID)
    t.check(to_whom(req) == PARTNERS,
            "on the mid-point's day each partner is asked for the evaluation, once; not Eli nor "
            "Fay", summary(mail))
    t.check(requested(env, "mid-evaluation") == PARTNERS,
            "the outbox records the four mid-point requests as sent",
            env.sql("SELECT key, recipients, status FROM outbox WHERE key LIKE "
                    "'step=mid-evaluation%'"))
    reqs = {recipients(m)[0]: m for m in req}
    if ANA in reqs:
        t.check("Overall, the partnership was useful" in body_of(reqs[ANA])
                and "reminder" not in reqs[ANA]["parsed"]["Subject"].lower(),
                "the request holds the blank evaluation form", body_of(reqs[ANA]))
        env.reply(ANA, reqs[ANA], "Overall, the partnership was useful: 4\n"
                  "My mentor listened: 5\nComments: Bob is patient with me.\n")
    mail = year.step("2027-03-18T10:00")
    t.check(len(only(mail, ANA, "evaluation")) == 1
            and "Recorded" in body_of(only(mail, ANA, "evaluation")[0]),
            "Ana's mid-point evaluation is recorded and she is told", summary(mail))
    t.check(answered(env, "mid") == [ANA], "the answers table holds Ana's mid evaluation",
            env.sql("SELECT form, round, respondent_id FROM answers"))
    mail = year.step("2027-03-23T09:00")
    t.check(to_whom(mail, "reminder: " + MID) == sorted([BOB, CID, DORA])
            and to_whom(mail, MID) == sorted([BOB, CID, DORA]),
            "a week on, who has not answered is reminded once (Bob, Cid, Dora), not Ana",
            summary(mail))
    if CID in reqs:
        env.reply(CID, reqs[CID], "Overall: 5\nComments: very useful\n")
    year.step("2027-03-24T10:00")
    t.check(answered(env, "mid") == sorted([ANA, CID]), "Cid's mid evaluation is recorded too")
    mail = year.step("2027-03-30T09:00")
    t.check(to_whom(mail, MID) == sorted([BOB, DORA]),
            "two weeks on, only Bob and Dora (who have not answered) are reminded", summary(mail))


def mid_reminders(t, env, year):
    """The mid-point's reminders to day 28, and none after."""
    rem = {}
    for now in ("2027-04-06T09:00", "2027-04-13T09:00"):
        rem[now] = to_whom(year.step(now), MID)
    t.check(all(r == sorted([BOB, DORA]) for r in rem.values()),
            "three and four weeks on, again only Bob and Dora", rem)
    for now in ("2027-04-14T09:00", "2027-04-20T09:00", "2027-05-03T09:00"):
        year.step(now)
    t.check(to_whom(year.since(year.mid_mark), "reminder: " + MID)
            == sorted([BOB, CID, DORA] + [BOB, DORA] * 3),
            "four reminders in all to Bob and Dora, one to Cid, none to Ana, none after day 28",
            summary(only(year.since(year.mid_mark), subject=MID)))
    t.check(env.sql("SELECT count(*) FROM outbox WHERE key LIKE "
                    "'step=mid-evaluation:person=%:reminder=%' AND status = 'sent'")[0][0] == 9,
            "the outbox holds the nine reminders as sent, each under its own key")


def main():
    t = Checker()
    with Env("cdssyear", authserv="mx.test.example") as env:
        year = Year(env, t)

        # -- Monday 26 October 2026, before the start: the class applies ------
        env.deliver(ANA, "application", application("Ana Ruiz", "Children and Family Services",
                                                    3, SAM, "Communication, Decision Making"),
                    authenticated=True)
        env.deliver(CID, "application", application("Cid Moreno", "Adult Programs", 2, TESS,
                                                    "Developing Others"), authenticated=True)
        env.deliver(ELI, "application", application("Eli Stone", "Community Care Licensing", 4,
                                                    TESS, "Communication"), authenticated=True)
        env.deliver(FAY, "application", application("Fay Wong", "Adult Programs", 1, SAM,
                                                    "Decision Making"), authenticated=True)
        env.deliver(COORDINATOR, "mentor", mentor_form("Bob Lee", BOB, "Disability Determination", 1),
                    authenticated=True)
        env.deliver(COORDINATOR, "mentor", mentor_form("Dora Diaz", DORA, "Legal", 2),
                    authenticated=True)
        mail = year.step("2026-10-26T09:00")
        ana, cid, eli, fay = (pid(env, a, "mentee") for a in (ANA, CID, ELI, FAY))
        bob, dora = pid(env, BOB, "mentor"), pid(env, DORA, "mentor")
        t.check(None not in (ana, cid, eli, fay, bob, dora),
                "four mentee applications and two mentors are recorded",
                env.sql("SELECT id, role, status FROM participations"))
        digest = only(mail, COORDINATOR, "digest")
        t.check(len(digest) == 1, "the coordinator gets the digest", summary(mail))

        # -- 27 October: the coordinator accepts, pools Fay, matches two pairs --
        env.reply(COORDINATOR, digest[0], "accept %d\naccept %d\naccept %d\npool %d\n"
                  "match %d with %d\nmatch %d with %d\n" % (ana, cid, eli, fay, ana, bob, cid, dora))
        mail = year.step("2026-10-27T10:00")
        intro = {a: only(mail, a, "meet your mentor") for a in (ANA, BOB, CID, DORA)}
        t.check(all(len(intro[a]) == 1 for a in (ANA, BOB, CID, DORA)),
                "each pair is introduced, one copy to each partner", summary(mail))
        t.check(env.sql("SELECT count(*) FROM groups WHERE program = 'cdss' AND status = 'active'")
                [0][0] == 2 and status(env, FAY, "mentee") == "pool"
                and status(env, ELI, "mentee") == "accepted",
                "two active partnerships; Eli waits for a mentor, Fay in the pool",
                env.sql("SELECT id, status FROM participations"))
        mail = year.step("2026-10-30T10:00")
        t.check(only(mail, subject=GROUP_MEETING) == [] and only(mail, subject="time to meet") == [],
                "nothing of the program's steps is sent before its start", summary(mail))

        # -- Monday 2 November: the class starts in the fourth quarter -----------
        mail = year.step("2026-11-02T09:00")
        gm = only(mail, subject=GROUP_MEETING)
        t.check(to_whom(gm) == PARTNERS and all(len(recipients(m)) == 1 for m in gm),
                "2026-Q4: on the first working day of the class (the quarter began before it), "
                "the group meeting is announced to every partner formed by the start, one email "
                "each; not to Eli (not matched yet) nor Fay (in the pool)", summary(mail))

        # -- 3 November: Eli is matched with Dora, who takes a second mentee ----
        env.deliver(COORDINATOR, "match", "match %d with %d\n" % (eli, dora), authenticated=True)
        mail = year.step("2026-11-03T10:00")
        intro[ELI] = only(mail, ELI, "meet your mentor")
        dora_eli = only(mail, DORA, "meet your mentor")
        t.check(len(intro[ELI]) == 1 and len(dora_eli) == 1,
                "Eli and Dora are introduced", summary(mail))
        t.check(only(mail, subject=GROUP_MEETING) == [],
                "2026-Q4: the quarter's announcement is not sent again (Dora has it), nor to Eli, "
                "who joined after it", summary(mail))
        dora_cid = intro[DORA]

        # -- November: meetings reported by "met" and by the meeting form ------
        env.reply(ANA, intro[ANA][0], "met 2026-11-05 45m")
        env.reply(CID, intro[CID][0], "Here is our report.\n\nMeeting date: 2026-11-06\n"
                  "Duration: 2 hours\nNotes: we talked about my difficult director\n")
        if dora_cid:
            env.reply(DORA, dora_cid[0], "met 2026-11-12 1h")
        mail = year.step("2026-11-13T10:00")
        t.check(sorted(r for m in only(mail, subject="meeting report") for r in recipients(m))
                == sorted([ANA, CID, DORA]),
                "each meeting report, by \"met\" or by the program's meeting form, is confirmed",
                summary(mail))
        t.check(not any("not read" in body_of(m) or "could not" in body_of(m) for m in mail),
                "no report is answered with \"we could not read your message\"", summary(mail))
        ev = env.sql("SELECT p.email, e.date, e.minutes FROM events e JOIN group_members g "
                     "ON g.group_id = e.group_id AND g.role = 'mentee' JOIN participations a "
                     "ON a.id = g.participation_id JOIN people p ON p.id = a.person_id "
                     "WHERE e.kind = 'meeting' ORDER BY e.date")
        t.check(ev == [(ANA, "2026-11-05", 45), (CID, "2026-11-06", 120), (CID, "2026-11-12", 60)],
                "the meetings are recorded on their partnerships with their lengths", ev)
        t.check(not any("difficult director" in body_of(m) for m in env.sent()),
                "meeting notes are mailed to nobody")

        year.step("2026-11-16T10:00")
        year.step("2026-12-01T10:00")

        # -- 10 December: Eli withdraws ----------------------------------------
        env.reply(ELI, intro[ELI][0], "withdraw new job")
        mail = year.step("2026-12-10T10:00")
        t.check(status(env, ELI, "mentee") == "withdrawn"
                and env.sql("SELECT g.status FROM groups g JOIN group_members m ON m.group_id = g.id "
                            "WHERE m.participation_id = ?", eli) == [("ended",)],
                "Eli is withdrawn and his partnership with Dora ended",
                env.sql("SELECT g.id, g.status FROM groups g"))
        t.check(len(only(mail, DORA, "left the program")) == 1, "Dora is told", summary(mail))
        t.check(status(env, DORA, "mentor") == "active" and status(env, CID, "mentee") == "matched",
                "Dora's partnership with Cid goes on",
                env.sql("SELECT id, role, status FROM participations"))
        t.check(to_whom(year.since(0), GROUP_MEETING) == PARTNERS,
                "2026-Q4: one announcement each to the four partners, none to Eli, before or "
                "after he withdrew", summary(only(year.since(0), subject=GROUP_MEETING)))

        # -- each quarter's first day; the mid-point between -------------------
        quarter(t, year, "2027-Q1", "2027-01-01T09:00", "2027-01-04T09:00")
        for now in ("2027-02-01T09:00", "2027-02-15T09:00", "2027-03-01T09:00",
                    "2027-03-15T09:00"):
            year.step(now)
        mid_point(t, env, year)
        quarter(t, year, "2027-Q2", "2027-04-01T09:00", "2027-04-02T09:00")
        mid_reminders(t, env, year)
        for now in ("2027-05-17T09:00", "2027-06-01T09:00", "2027-06-15T09:00"):
            year.step(now)
        quarter(t, year, "2027-Q3", "2027-07-01T09:00", "2027-07-02T09:00")

        # -- the final evaluation: end - 14 days = 2027-07-16 -----------------
        mark = len(year.log)
        year.step("2027-07-15T09:00")
        t.check(only(year.since(mark), subject=FINAL) == [], "no final evaluation before its day")
        mail = year.step("2027-07-16T09:00")
        req = only(mail, subject=FINAL)
        t.check(to_whom(req) == PARTNERS,
                "14 days before the end each partner is asked for the final evaluation",
                summary(mail))
        t.check(requested(env, "final-evaluation") == PARTNERS,
                "the outbox records the four final requests as sent")
        reqs = {recipients(m)[0]: m for m in req}
        if BOB in reqs:
            env.reply(BOB, reqs[BOB], "Overall, the partnership was useful: 5\n"
                      "My partner listened: 4\nComments: Ana grew a lot.\n")
        year.step("2027-07-19T10:00")
        t.check(answered(env, "final") == [BOB], "Bob's final evaluation is recorded")
        mail = year.step("2027-07-21T09:00")
        t.check(to_whom(mail, FINAL) == sorted([ANA, CID, DORA]),
                "five days on, who has not answered is reminded (not Bob)", summary(mail))
        mail = year.step("2027-07-26T09:00")
        t.check(to_whom(mail, FINAL) == sorted([ANA, CID, DORA]),
                "ten days on, again", summary(mail))

        # -- Friday 30 July 2027: the end ------------------------------------
        mail = year.step("2027-07-30T09:00")
        ends = only(mail, subject=ENDED)
        t.check(to_whom(ends) == PARTNERS,
                "at the end each partner is told the program has ended, once; not Eli nor Fay",
                summary(mail))
        offers = [m for m in ends if "Would you be a mentor" in body_of(m)]
        t.check(to_whom(offers) == sorted([ANA, CID]),
                "the graduating mentees (Ana, Cid) are offered the mentor role; the mentors are "
                "not", summary(offers))
        if offers:
            t.check("Strengths" in body_of(offers[0]) and "Capacity" in body_of(offers[0]),
                    "the offer holds the mentor registration form", body_of(offers[0]))
        t.check(env.sql("SELECT status, count(*) FROM groups WHERE program = 'cdss' "
                        "GROUP BY status ORDER BY status") == [("completed", 2), ("ended", 1)],
                "the two partnerships still active are completed (Eli's stays ended)",
                env.sql("SELECT id, status, end_reason FROM groups"))
        t.check(sorted(env.sql("SELECT p.email, a.role, a.status FROM participations a JOIN "
                               "people p ON p.id = a.person_id WHERE a.program = 'cdss' AND "
                               "a.kind = 'participant'"))
                == sorted([(ANA, "mentee", "completed"), (CID, "mentee", "completed"),
                           (BOB, "mentor", "completed"), (DORA, "mentor", "completed"),
                           (ELI, "mentee", "withdrawn"), (FAY, "mentee", "pool")]),
                "the partners are completed; Eli stays withdrawn, Fay in the pool",
                env.sql("SELECT person_id, role, status FROM participations"))

        # -- after the end ------------------------------------------------------
        mark = len(year.log)
        offer_ana = only(offers, ANA)
        if DORA in reqs:
            # A final evaluation requested before the end, answered after it.
            env.reply(DORA, reqs[DORA], "Overall: 4\nComments: a good year\n")
        if offer_ana:
            env.reply(ANA, offer_ana[0], "Yes, gladly!\n\nName: Ana Ruiz\nEmail: ana@example.org\n"
                      "Division: Children and Family Services\nStatus: current manager\n"
                      "Years as manager: 4\nStrengths: Communication, Decision Making\n"
                      "Capacity: 1\n")
        mail = year.step("2027-08-02T10:00")
        t.check(answered(env, "final") == sorted([BOB, DORA])
                and len(only(mail, DORA, "evaluation")) == 1
                and "Recorded" in body_of(only(mail, DORA, "evaluation")[0]),
                "Dora's final evaluation, sent after the end in answer to its request, is "
                "recorded", summary(mail))
        ack = only(mail, ANA, "received")
        t.check(status(env, ANA, "mentor") == "active" and len(ack) == 1
                and "You are registered as mentor #%s" % pid(env, ANA, "mentor") in body_of(ack[0])
                and "coordinator reviews" not in body_of(ack[0]),
                "Ana, answering the offer with the mentor form, is a mentor for the next class",
                summary(mail) + "\n" + repr(env.sql("SELECT person_id, role, status FROM "
                                                    "participations")))
        for now in ("2027-08-05T09:00", "2027-08-16T09:00", "2027-09-01T09:00",
                    "2027-10-01T09:00", "2027-10-04T09:00"):
            year.step(now)
        after = year.since(mark)
        participants_after = [m for m in after if any(r in (ANA, BOB, CID, DORA, ELI, FAY)
                                                      for r in recipients(m))]
        t.check(sorted((recipients(m)[0], m["parsed"]["Subject"].split(": ", 1)[1].split(" [")[0])
                       for m in participants_after)
                == [(ANA, "application #%s received" % pid(env, ANA, "mentor")),
                    (DORA, "evaluation")],
                "after the end participants hear only the answers to what they sent (Ana's "
                "registration, Dora's evaluation): no reminder, no evaluation request, no group "
                "meeting", summary(participants_after))
        t.check(only(after, subject=GROUP_MEETING) == [] and only(after, subject="time to meet") == []
                and only(after, subject="reminder:") == [],
                "no group meeting past the end (2027-Q4), no meeting or evaluation reminder",
                summary(after))
        t.check(only(after, COORDINATOR, "partnerships in") == [],
                "no cadence follow-up for the months after the end", summary(after))

        # -- over the whole year --------------------------------------------------
        everything = year.since(0)
        for subject in (GROUP_MEETING, ENDED):
            sent = to_whom(everything, subject)
            t.check(all(sent.count(a) == {GROUP_MEETING: 4, ENDED: 1}[subject] for a in PARTNERS)
                    and not any(a in sent for a in (ELI, FAY)),
                    "over the year each partner got \"%s\" %s" % (
                        subject, "four times (2026-Q4 to 2027-Q3)" if subject == GROUP_MEETING else "once"),
                    sent)
        t.check(not any(re.search(r"patient with me|very useful|Ana grew|a good year", body_of(m))
                        for m in env.sent()),
                "no evaluation comment is mailed to anyone")
        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        ids = [m["parsed"]["Message-ID"] for m in env.sent()]
        t.check(len(ids) == len(set(ids)), "the SMTP server never received the same email twice")
        steps = {k.split(":")[0] for (k,) in env.sql("SELECT key FROM outbox WHERE key LIKE 'step=%'")}
        t.check({"step=group-meeting", "step=mid-evaluation", "step=final-evaluation",
                 "step=close"} <= steps, "the year's steps ran under their own names", steps)
    t.finish()


if __name__ == "__main__":
    main()
