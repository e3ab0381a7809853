"""DOL SES Candidate Development Program (seed 003): the mentoring component.

conf/programs/dol.conf with templates/dol/ over the shared templates, on
real servers (Dovecot, an SMTP server), with --now stepping from October
2027 to the end of July 2028 in Washington, D.C. (America/New_York).  The
program has two kinds of group at once: its action-learning teams (the
unit) and, from the mid-point, a mentor pair for each participant
(pairs = "mentoring", group mentoring { opens = "start + 50%" }):

  the cohort (roster) and mentors (roster, and one by the mentor form)
  -> teams published -> before the mid-point no pair is proposed, and
  a "match" is refused -> at the mid-point the digest suggests a pair per
  participant (development goals against the mentor's experience), the
  coordinator accepts by reply -> an introduction goes to exactly the
  two of each pair -> each partner gets the check-in, a reminder a week
  later unless they answered -> a participant asks for a rematch with a
  reason (proven by the reply's token): the pair ends, the reason is
  recorded (group, audit), the coordinators are told, the next proposal
  is another mentor; a forged From ("rematch" claiming to be Bob) changes
  nothing; the coordinator's rematch by mentorctl too -> the mentor's
  close-out note, the participant's final assessment with reminders ->
  completion recorded (the pair completed; mentorctl status, report
  --csv) -> at the end the coordinators hear who did not complete -> a
  rerun sends nothing twice.

Configuration the engine cannot use (opens on a team, pairs naming a
team, a step's group naming no kind) is refused with file:line."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, recipients  # noqa: E402

DOL_CONF = os.path.join(SOURCE_DIR, "conf/programs/dol.conf")
PROGRAM = "sescdp@example.org"
ANA, BOB, CY, DEE = "ana@dol.example", "bob@dol.example", "cy@dol.example", "dee@dol.example"
MEG, NED, OLA = "meg@dol.example", "ned@dol.example", "ola@dol.example"
ZED = "zed@elsewhere.example"
PARTICIPANTS = [ANA, BOB, CY, DEE]
MENTORS = [MEG, NED, OLA]
SUPERVISORS = ["sup.ana@dol.example", "sup.bob@dol.example", "sup.cy@dol.example",
               "sup.dee@dol.example"]
# Ana's goals are Meg's experience exactly: the best pair, until Ana asks
# for another mentor.
ROSTER = """email,name,role,Agency,Supervisor email,topics,capacity
ana@dol.example,Ana Ruiz,participant,OSHA,sup.ana@dol.example,Change Leadership; Communication,
bob@dol.example,Bob Lee,participant,ETA,sup.bob@dol.example,Decision Making,
cy@dol.example,Cy Tran,participant,BLS,sup.cy@dol.example,Team Leadership,
dee@dol.example,Dee Park,participant,WHD,sup.dee@dol.example,Forward Thinking,
meg@dol.example,Meg Ortiz,mentor,EBSA,,Change Leadership; Communication,2
ned@dol.example,Ned Cho,mentor,OSHA,,Decision Making; Analytical Thinking,1
"""
OLA_FORM = """Name: Ola Berg
Email: ola@dol.example
Agency: MSHA
Years as executive: 12
Experience: Team Leadership, Forward Thinking, Communication
Capacity: 2
"""


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def summary(msgs):
    return "\n".join("%s [%s] -> %s" % (m["parsed"]["Subject"], m["parsed"]["X-Mentord"],
                                         ",".join(recipients(m))) for m in msgs)


def text_of(msg):
    part = msg["parsed"].get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def not_sessions(msgs):
    return [m for m in msgs if m["parsed"]["X-Mentord"] not in ("session-invitation",
                                                                 "session-cancelled")]


def pid(env, who, role):
    rows = env.sql("SELECT a.id FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.role = ? AND a.program = 'dol'", who, role)
    return rows[0][0] if rows else 0


def pairs(env, status="active"):
    """{participant email: mentor email} of the mentor pairs with status."""
    rows = env.sql("SELECT g.id, m.role, p.email FROM groups g "
                   "JOIN group_members m ON m.group_id = g.id "
                   "JOIN participations a ON a.id = m.participation_id "
                   "JOIN people p ON p.id = a.person_id "
                   "WHERE g.kind = 'mentoring' AND g.status = ? ORDER BY g.id", status)
    by = {}
    for gid, role, who in rows:
        by.setdefault(gid, {})[role] = who
    return {v.get("participant"): v.get("mentor") for v in by.values()}


def pair_id(env, participant, status="active"):
    rows = env.sql("SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.id "
                   "JOIN participations a ON a.id = m.participation_id "
                   "JOIN people p ON p.id = a.person_id "
                   "WHERE g.kind = 'mentoring' AND g.status = ? AND p.email = ?",
                   status, participant)
    return rows[0][0] if rows else 0


def mentor_intros(msgs):
    return only(msgs, subject="meet your mentor")


def by_subject(msgs):
    """The sorted recipients of each distinct email (a copy is sent to each
    recipient, its subject marked with the copy's [ref:N]), in order."""
    subj = {}
    for m in msgs:
        key = re.sub(r"\s*\[ref:\d+\]", "", m["parsed"]["Subject"])
        subj.setdefault(key, set()).update(recipients(m))
    return sorted(tuple(sorted(v)) for v in subj.values())


def suggestions(digest_text):
    """[(first id, second id)] of the digest's "match A with B" lines."""
    return [(int(a), int(b)) for a, b in re.findall(r"^\s*match (\d+) with (\d+)",
                                                    digest_text, re.M)]


def main():
    t = Checker()
    with Env("dol_midpoint", programs=[DOL_CONF], authserv="mx.test.example",
             keep=os.environ.get("KEEP") == "1") as env:
        p = env.run("2027-10-18T10:00-04:00", "--check-config")
        t.check("configuration OK" in p.stdout + p.stderr, "dol.conf is valid",
                p.stdout + p.stderr)

        # -- October 2027: the cohort, the mentors, the teams -----------------
        roster = os.path.join(env.dir, "roster.csv")
        with open(roster, "w") as f:
            f.write(ROSTER)
        env.ctl("import", "people", roster, "--program", "dol")
        env.deliver(OLA, "mentor registration", OLA_FORM, to=PROGRAM)
        env.run("2027-10-18T10:00-04:00")
        first = not_sessions(env.new_mail())
        confirm = only(first, OLA, kind="confirm")
        t.check(len(confirm) == 1, "Ola's registration by email waits for her confirmation")
        env.reply(OLA, confirm[0], "yes")
        env.run("2027-10-18T11:00-04:00")
        mail = first + not_sessions(env.new_mail())
        status = dict(env.sql("SELECT p.email, a.status FROM participations a JOIN people p "
                              "ON p.id = a.person_id WHERE a.role IN ('participant', "
                              "'mentor')"))
        t.check(all(status.get(w) == "accepted" for w in PARTICIPANTS)
                and all(status.get(w) == "active" for w in MENTORS),
                "participants are accepted, mentors (roster and form) available", status)
        t.check(mentor_intros(mail) == [], "no pair is made at enrolment", summary(mail))
        invited = {r for m in only(env.sink.messages(), kind="session-invitation")
                   for r in recipients(m)}
        t.check(invited == set(PARTICIPANTS),
                "session invitations go to the cohort, not to the mentors", invited)
        dig = only(mail, COORDINATOR, "digest")
        t.check(len(dig) == 1 and "Proposed action-learning teams" in text_of(dig[0])
                and "Suggested mentor pairs" not in text_of(dig[0]),
                "the digest proposes the team, and no mentor pair", summary(mail))
        env.reply(COORDINATOR, dig[0], "publish")
        env.run("2027-10-19T10:00-04:00")
        mail = not_sessions(env.new_mail())
        t.check(env.sql("SELECT COUNT(*) FROM groups WHERE kind = 'team' AND "
                        "status = 'active'") == [(1,)]
                and sorted(r for m in only(mail, subject="meet your team")
                           for r in recipients(m)) == PARTICIPANTS,
                "the team is formed", summary(mail))

        # -- 15 March 2028, the day before the mid-point -----------------------
        env.run("2028-03-15T10:00-04:00")
        mail = not_sessions(env.new_mail())
        t.check(mentor_intros(mail) == []
                and all("Suggested mentor pairs" not in text_of(m)
                        for m in only(mail, COORDINATOR, "digest")),
                "before the mid-point no pair is proposed", summary(mail))
        p = env.ctl("--now", "2028-03-15T10:00-04:00", "match", ANA, MEG, "--program", "dol",
                    expect=1)
        t.check("pairs open on 2028-03-16" in p.stderr and pairs(env) == {},
                "mentorctl match before the mid-point is refused, nothing made", p.stderr)
        env.deliver(COORDINATOR, "match", "match %d with %d\n"
                    % (pid(env, BOB, "participant"), pid(env, NED, "mentor")),
                    to=PROGRAM, authenticated=True)
        env.run("2028-03-15T11:00-04:00")
        mail = not_sessions(env.new_mail())
        res = only(mail, COORDINATOR, kind="command-results")
        t.check(res and "pairs open on 2028-03-16" in text_of(res[0]) and pairs(env) == {},
                "a coordinator's match by email before the mid-point is refused",
                summary(mail))
        p = env.ctl("--now", "2028-03-15T10:00-04:00", "status")
        t.check("mentor pairs, from 2028-03-16: 0 active" in p.stdout
                and "4 in a team without a mentor" in p.stdout
                and "active teams: 1" in p.stdout,
                "mentorctl status speaks of teams and mentor pairs", p.stdout)

        # -- 16 March 2028: the mid-point --------------------------------------
        env.run("2028-03-16T10:00-04:00")
        mail = not_sessions(env.new_mail())
        dig = only(mail, COORDINATOR, "digest")
        d = text_of(dig[0]) if dig else ""
        sugg = suggestions(d)
        ids = {pid(env, w, "participant"): w for w in PARTICIPANTS}
        mids = {pid(env, w, "mentor"): w for w in MENTORS}
        proposed = {ids.get(a): mids.get(b) for a, b in sugg}
        t.check(len(dig) == 1 and "Suggested mentor pairs" in d
                and set(proposed) == set(PARTICIPANTS) and proposed.get(ANA) == MEG
                and proposed.get(BOB) == NED,
                "at the mid-point the digest suggests a mentor for each participant, "
                "on goals against experience", d)
        t.check(mentor_intros(mail) == [], "a suggestion makes no pair yet",
                summary(mail))
        env.reply(COORDINATOR, dig[0], "\n".join("match %d with %d" % s for s in sugg))
        env.run("2028-03-16T11:00-04:00")
        mail = not_sessions(env.new_mail())
        intros = mentor_intros(mail)
        t.check(pairs(env) == proposed and by_subject(intros)
                == sorted(tuple(sorted([a, b])) for a, b in proposed.items()),
                "accepting makes the pairs: one introduction to exactly the two of each",
                summary(mail))
        ana_intro = only(intros, ANA)
        body = text_of(ana_intro[0]) if ana_intro else ""
        t.check("Participant: Ana Ruiz <ana@dol.example>, OSHA" in body
                and "Mentor: Meg Ortiz <meg@dol.example>, EBSA" in body
                and "Change Leadership" in body and "rematch" in body,
                "the introduction names both, the goals, and how to ask for a rematch", body)
        t.check(not any(only(mail, s) for s in SUPERVISORS),
                "supervisors receive nothing of the pairs", summary(mail))
        checkins = only(mail, subject="Mentoring check-in")
        partners = sorted(PARTICIPANTS + list(pairs(env).values()))
        t.check(sorted(r for m in checkins for r in recipients(m)) == partners
                and all(len(recipients(m)) == 1 for m in checkins),
                "each partner gets the mid-point check-in once the pair is formed",
                summary(mail))
        t.check(env.sql("SELECT COUNT(*) FROM groups WHERE kind = 'team' AND "
                        "status = 'active'") == [(1,)]
                and env.sql("SELECT status FROM participations a JOIN people p ON "
                            "p.id = a.person_id WHERE p.email = ? AND a.role = "
                            "'participant'", ANA) == [("matched",)],
                "the participants stay in their team")
        env.run("2028-03-16T15:00-04:00")
        t.check(not_sessions(env.new_mail()) == [], "a rerun sends nothing again")

        # -- the check-in: Ana answers, the others are reminded ---------------
        ana_ci = only(checkins, ANA)[0]
        env.reply(ANA, ana_ci, "The pair is working: 2\nMeetings so far: 1\n"
                  "Check-in comments: our goals do not line up\n")
        env.run("2028-03-17T10:00-04:00")
        mail = not_sessions(env.new_mail())
        t.check(env.sql("SELECT COUNT(*) FROM answers a JOIN people p ON "
                        "p.id = a.respondent_id WHERE a.form = 'checkin' AND p.email = ?",
                        ANA) == [(1,)],
                "Ana's check-in is recorded", summary(mail))
        env.run("2028-03-23T12:00-04:00")
        mail = not_sessions(env.new_mail())
        rem = only(mail, subject="reminder: your Mentoring check-in")
        t.check(sorted(r for m in rem for r in recipients(m))
                == [r for r in partners if r != ANA],
                "a week later who has not answered is reminded, Ana is not", summary(mail))

        # -- a rematch: Ana by reply (proven), "Bob" forged, Zed a stranger -----
        ana_pair = pair_id(env, ANA)
        env.reply(ANA, ana_intro[0], "rematch my goals need budget experience, not "
                  "change leadership")
        env.deliver(BOB, "rematch", "rematch I do not like my mentor\n", to=PROGRAM)
        env.deliver(ZED, "rematch", "rematch please\n", to=PROGRAM)
        env.run("2028-03-24T10:00-04:00")
        mail = not_sessions(env.new_mail())
        ended = env.sql("SELECT status, end_reason FROM groups WHERE id = ?", ana_pair)
        t.check(ended == [("ended", "rematch: my goals need budget experience, not change "
                           "leadership")] and ANA not in pairs(env),
                "Ana's rematch ends her pair with the reason recorded", ended)
        aud = env.sql("SELECT who, new FROM audit WHERE action = 'rematch' AND object = ?",
                      "group %d" % ana_pair)
        t.check(aud == [("participant %s" % ANA, "my goals need budget experience, not "
                         "change leadership")],
                "the rematch is in the audit trail, with who asked and why", aud)
        note = only(mail, COORDINATOR, kind="rematch")
        t.check(len(note) == 1 and "budget experience" in text_of(note[0]),
                "the coordinators are told, with the reason", summary(mail))
        told = only(mail, kind="group-ended")
        t.check(by_subject(told) == [(ANA, MEG)]
                and not any("budget" in text_of(m) for m in told)
                and len(only(mail, ANA, kind="rematch-recorded")) == 1,
                "both partners are told the pair ended (the reason stays with the "
                "coordinators); Ana is answered", summary(mail))
        t.check(pair_id(env, BOB) != 0 and only(mail, BOB, kind="confirm") != []
                and env.sql("SELECT status FROM messages WHERE from_addr = ? AND subject = "
                            "'rematch'", BOB) == [("pending",)],
                "a rematch from a From that proves nothing ends nothing: the real Bob "
                "is asked to confirm", summary(mail))
        t.check(env.sql("SELECT status FROM messages WHERE from_addr = ?", ZED)
                == [("answered",)] and len(only(mail, ZED)) == 1 and len(pairs(env)) == 3,
                "a rematch from someone in no pair is answered, nothing changes",
                env.sql("SELECT status, reason FROM messages WHERE from_addr = ?", ZED))

        # -- the coordinator's rematch by email: the pair named, a reason ------
        bob_pair = pair_id(env, BOB)
        env.deliver(COORDINATOR, "rematch", "rematch %d\nrematch 9999 no fit\n" % bob_pair,
                    to=PROGRAM, authenticated=True)
        env.run("2028-03-24T10:30-04:00")
        mail = not_sessions(env.new_mail())
        res = only(mail, COORDINATOR, kind="command-results")
        r = text_of(res[0]) if res else ""
        t.check("rematch needs a reason" in r and "no active partnership #9999" in r
                and pair_id(env, BOB) == bob_pair and only(mail, kind="group-ended") == [],
                "a coordinator's rematch without a reason, or of no pair, changes nothing",
                r or summary(mail))

        # -- the coordinator's rematch by mentorctl ----------------------------
        cy_pair = pair_id(env, CY)
        cy_old = pairs(env)[CY]
        p = env.ctl("--now", "2028-03-24T11:00-04:00", "rematch", str(cy_pair), expect=2)
        t.check("reason" in p.stderr and pair_id(env, CY) == cy_pair,
                "mentorctl rematch without a reason is refused", p.stderr)
        p = env.ctl("--now", "2028-03-24T11:00-04:00", "rematch", str(cy_pair),
                    "schedules", "never", "fit")
        t.check("ended for a rematch" in p.stdout and pair_id(env, CY) == 0
                and env.sql("SELECT end_reason FROM groups WHERE id = ?", cy_pair)
                == [("rematch: schedules never fit",)],
                "mentorctl rematch ends Cy's pair with its reason", p.stdout)

        # -- the new proposal avoids the previous mentor -----------------------
        env.run("2028-03-27T10:00-04:00")
        mail = not_sessions(env.new_mail())
        dig = only(mail, COORDINATOR, "digest")
        d = text_of(dig[0]) if dig else ""
        sugg = {ids.get(a): mids.get(b) for a, b in suggestions(d)}
        t.check(set(sugg) == {ANA, CY} and sugg.get(ANA) not in (None, MEG)
                and sugg.get(CY) not in (None, cy_old),
                "the next digest proposes another mentor, never the previous one",
                d + "\n" + repr(sugg))
        t.check(by_subject(only(mail, kind="group-ended")) == [tuple(sorted([CY, cy_old]))],
                "Cy and the mentor are told their pair ended", summary(mail))
        env.ctl("--now", "2028-03-27T11:00-04:00", "match", ANA, sugg.get(ANA) or MEG,
                "--program", "dol")
        for a, b in suggestions(d):
            if ids.get(a) == CY:
                env.reply(COORDINATOR, dig[0], "match %d with %d" % (a, b))
        env.run("2028-03-27T12:00-04:00")
        mail = not_sessions(env.new_mail())
        intros = mentor_intros(mail)
        t.check(pairs(env).get(ANA) == sugg.get(ANA) and pairs(env).get(CY) == sugg.get(CY)
                and by_subject(intros)
                == sorted([tuple(sorted([ANA, sugg[ANA]])), tuple(sorted([CY, sugg[CY]]))]),
                "the new pairs are made and introduced to exactly their two",
                summary(mail))
        new_ci = only(mail, subject="Mentoring check-in")
        t.check(sorted(r for m in new_ci for r in recipients(m))
                == sorted([ANA, sugg[ANA], CY, sugg[CY]]),
                "a new pair gets its own check-in", summary(mail))
        p = env.ctl("--now", "2028-03-27T12:00-04:00", "status")
        t.check("4 active, 0 completed, 2 ended (2 by rematch); 0 in a team without"
                in p.stdout, "mentorctl status counts the rematches", p.stdout)

        # -- close-out: 10 July 2028, three weeks before the end ---------------
        env.new_mail()
        env.run("2028-07-10T10:00-04:00")
        mail = not_sessions(env.new_mail())
        notes = only(mail, subject="Mentor close-out note")
        finals = only(mail, subject="Mentoring final assessment")
        active_mentors = set(pairs(env).values())
        t.check(sorted(r for m in notes for r in recipients(m)) == sorted(active_mentors)
                and sorted(r for m in finals for r in recipients(m)) == sorted(PARTICIPANTS),
                "each mentor is asked for the close-out note, each participant for the "
                "final assessment", summary(mail))
        meg_note = only(notes, MEG) or only(notes, list(active_mentors)[0])
        env.reply(recipients(meg_note[0])[0], meg_note[0],
                  "Close-out note: worked on the budget cycle; next: a detail\n"
                  "Goals progressed: 4\n")
        for who in (ANA, BOB):
            env.reply(who, only(finals, who)[0], "Development goals met: 4\n"
                      "The mentor was a good fit: yes\nAssessment comments: thank you\n")
        env.run("2028-07-11T10:00-04:00")
        mail = not_sessions(env.new_mail())
        done = only(mail, kind="completion")
        t.check(sorted(r for m in done for r in recipients(m) if r != COORDINATOR)
                == [ANA, BOB]
                and len(only(done, COORDINATOR)) == 2
                and not any(m["parsed"].get_content_type() == "multipart/mixed"
                            for m in done),
                "the final assessment records completion: the participant and the "
                "coordinators are told (no certificate)", summary(mail))
        t.check(pairs(env, "completed") == {ANA: sugg[ANA], BOB: NED}
                and env.sql("SELECT COUNT(*) FROM answers WHERE form = 'closeout'")
                == [(1,)],
                "completion is recorded on the pair; the close-out note is recorded",
                pairs(env, "completed"))
        t.check(env.sql("SELECT status FROM participations a JOIN people p ON "
                        "p.id = a.person_id WHERE p.email = ? AND a.role = 'participant'",
                        ANA) == [("matched",)],
                "the participant goes on in their team and sessions")
        p = env.ctl("--now", "2028-07-11T10:00-04:00", "status")
        t.check("2 active, 2 completed, 2 ended" in p.stdout,
                "mentorctl status shows completion", p.stdout)
        p = env.ctl("--now", "2028-07-11T10:00-04:00", "report", "--csv", "--program", "dol")
        lines = p.stdout.splitlines()
        t.check(lines and lines[0].endswith(",attendance,mentoring")
                and any(",ana@dol.example," in l and l.endswith(",completed") for l in lines)
                and any(",cy@dol.example," in l and l.endswith(",paired") for l in lines)
                and not any(MEG in l for l in lines),
                "report --csv says where each participant's mentoring stands",
                p.stdout[:400])
        env.run("2028-07-17T10:00-04:00")
        mail = not_sessions(env.new_mail())
        rem = only(mail, subject="reminder: your Mentoring final assessment")
        rem_notes = only(mail, subject="reminder: your Mentor close-out note")
        t.check(sorted(r for m in rem for r in recipients(m)) == [CY, DEE]
                and sorted(r for m in rem_notes for r in recipients(m))
                == sorted(active_mentors - {recipients(meg_note[0])[0]}),
                "reminders go to who has not answered, mentors of completed pairs included",
                summary(mail))
        env.run("2028-07-17T15:00-04:00")
        t.check(not_sessions(env.new_mail()) == [], "a rerun sends nothing twice")

        # -- the end: who did not complete -------------------------------------
        env.run("2028-07-31T10:00-04:00")
        mail = not_sessions(env.new_mail())
        closing = [m for m in only(mail, COORDINATOR, kind="completion")
                   if "Cy Tran" in text_of(m)]
        t.check(len(closing) == 1 and "Dee Park" in text_of(closing[0])
                and "Ana Ruiz" not in text_of(closing[0]),
                "at the end the coordinators hear who did not complete", summary(mail))
        t.check(pairs(env) == {} and len(pairs(env, "completed")) == 2,
                "the pairs left are ended; the completed stay completed")
        env.run("2028-07-31T15:00-04:00")
        t.check(not_sessions(env.new_mail()) == [], "and nothing twice")
        t.check(env.sql("SELECT COUNT(*) FROM outbox GROUP BY key HAVING COUNT(*) > 1") == [],
                "no outbox key twice")

        # -- configuration the engine cannot use -------------------------------
        conf = os.path.join(env.dir, "programs", "dol.conf")
        good = open(conf).read()
        for broken, expect in (
                (good.replace('\t\tmatch_division = "prefer"\n\t}',
                              '\t\tmatch_division = "prefer"\n\t\topens = "start + 50%"\n\t}',
                              1), "only pairs open later"),
                (good.replace('pairs = "mentoring"', 'pairs = "team"'), "names no pair"),
                (good.replace('opens = "start + 50%"', 'opens = "halfway"'),
                 "opens = \"halfway\""),
                (good.replace('group = "mentoring"\n\t\trequest = "checkin"',
                              'group = "cohort"\n\t\trequest = "checkin"'),
                 "group = \"cohort\" is neither"),
                (good.replace('role = "mentor"\n\t\trequest = "closeout"',
                              'role = "supervisor"\n\t\trequest = "closeout"'),
                 "is not a member role of group mentoring")):
            with open(conf, "w") as f:
                f.write(broken)
            p = env.run("2028-07-31T10:00-04:00", "--check-config", expect=2)
            t.check(expect in p.stderr and "dol.conf:" in p.stderr,
                    "refused with file:line: %s" % expect, p.stderr)
        with open(conf, "w") as f:
            f.write(good)
    t.finish()


if __name__ == "__main__":
    main()
