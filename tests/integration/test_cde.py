"""CDE Peer Coaching (seed 000), the second program, run from configuration.

conf/programs/cde.conf with templates/cde/ over the shared templates, on
real servers (Dovecot, an SMTP server), with --now stepping from January
to September 2027 in Los Angeles:

  applications with experience level and interests -> each applicant's
  manager and Division Director agree by reply (reminders, a timeout, the
  coordinator told) -> teams of 3-5 proposed in the digest (similar level,
  shared interests, mixed divisions), edited and published by the
  coordinator's reply -> each month from February the month's competency
  cluster and readings to each team, the facilitator of the month (turns
  in the introduction's order) told -> meetings reported -> an evaluation
  from each member after each meeting, reminders to who has not sent it ->
  the final evaluation -> the certificate of completion as a PDF, signed
  by the department head named in the configuration, and the coordinator
  told; who did not complete listed, and why.

Bad input, each answered and nothing lost: an application without a
Division Director; a move that would make a team of 6, one that leaves a
team of 2, a publish with a team of 2; a Director who never answers; an
evaluation for a meeting that did not happen; a meeting report from
someone in no team; a manager who says no.  Evaluation content reaches
nobody (the coordinator's follow-up has only counts); nothing is sent
twice.

Then: CDSS and CDE in one daemon, each address its own program; and a
team of 3 that loses a member, gains one approved late (moved into the
formed team) and is ended by the coordinator."""

import datetime
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

CDE_CONF = os.path.join(SOURCE_DIR, "conf/programs/cde.conf")
PC = "peercoaching@example.org"

# name, division, level, interests: two natural teams by level (managers,
# staff) with shared interests, each from four divisions.
PEOPLE = [
    ("alma", "Alma Reyes", "Curriculum", "Manager", "Communication, Team Leadership"),
    ("ben", "Ben Cho", "Assessment", "Manager", "Communication, Change Leadership"),
    ("cara", "Cara Diaz", "Finance", "Manager", "Team Leadership, Decision Making"),
    ("dev", "Dev Patel", "Nutrition", "Manager", "Communication, Team Leadership"),
    ("eli", "Eli Moss", "Curriculum", "Staff", "Analytical Thinking, Customer Focus"),
    ("fay", "Fay Lin", "Assessment", "Staff", "Analytical Thinking, Planning and Organizing"),
    ("gus", "Gus Ortiz", "Finance", "Staff", "Customer Focus, Planning and Organizing"),
    ("hana", "Hana Kim", "Nutrition", "Staff", "Customer Focus, Analytical Thinking"),
]
SECRET = "our-director-is-difficult"


def addr(who):
    return "%s@example.org" % who


def mgr(who):
    return "%s.mgr@example.org" % who


def director(division):
    return "director.%s@example.org" % division.lower()


def application(key, name, division, level, interests, with_director=True):
    text = ("Name: %s\nDivision: %s\nClassification: Staff Services Analyst\n"
            "Experience level: %s\nInterests: %s\nManager email: %s\n"
            % (name, division, level, interests, mgr(key)))
    if with_director:
        text += "Division Director email: %s\n" % director(division)
    text += "Project: a tracking system for school construction projects\n"
    return text


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def summary(msgs):
    return "\n".join("%s -> %s [%s]" % (m["parsed"]["Subject"], ",".join(recipients(m)),
                                        m["parsed"]["X-Mentord"]) for m in msgs)


def to_all(msgs):
    return sorted(r for m in msgs for r in recipients(m))


def pid(env, who):
    rows = env.sql("SELECT a.id FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.program = 'cde'", addr(who))
    return rows[0][0] if rows else None


def status(env, who):
    rows = env.sql("SELECT a.status FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.program = 'cde'", addr(who))
    return rows[0][0] if rows else None


def teams(env, st):
    """{group id: [member keys in order]} of the teams with status st."""
    out = {}
    for gid, email in env.sql(
            "SELECT g.id, p.email FROM groups g JOIN group_members m ON m.group_id = g.id "
            "JOIN participations a ON a.id = m.participation_id "
            "JOIN people p ON p.id = a.person_id WHERE g.program = 'cde' AND g.status = ? "
            "ORDER BY g.id, m.position, m.rowid", st):
        out.setdefault(gid, []).append(email.split("@")[0])
    return out


def text_of(msg):
    """The text part of a message with attachments."""
    for part in msg["parsed"].walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    return ""


def pdf_of(msg):
    for part in msg["parsed"].walk():
        if part.get_content_type() == "application/pdf":
            return part.get_filename(), part.get_payload(decode=True)
    return None, None


def intake(t, env):
    """Applications, approvals, the Director who never answers."""
    p = env.run("2027-01-04T09:00", "--check-config")
    t.check("configuration OK (1 program)" in p.stdout + p.stderr,
            "conf/programs/cde.conf is valid", p.stdout + p.stderr)

    # -- Monday 4 January: applications ------------------------------------
    for key, name, division, level, interests in PEOPLE:
        env.deliver(addr(key), "Peer coaching application",
                    application(key, name, division, level, interests), to=PC,
                    authenticated=True, name=name)
    env.deliver(addr("kim"), "application", application(
        "kim", "Kim Tran", "Legal", "Lead", "Communication, Ethics and Integrity"), to=PC,
        authenticated=True)
    env.deliver(addr("ivan"), "application", application(
        "ivan", "Ivan Roe", "Curriculum", "Lead", "Communication", with_director=False),
        to=PC, authenticated=True)
    env.deliver(addr("jo"), "question", "Hello, how do I join the peer coaching teams?", to=PC)
    env.run("2027-01-04T10:00")
    mail = env.new_mail()
    acks = only(mail, subject="received", kind="ack")
    t.check(to_all(acks) == sorted([addr(p[0]) for p in PEOPLE] + [addr("kim")]),
            "each of the 9 applicants gets one acknowledgement", summary(mail))
    if acks:
        b = body_of(acks[0])
        t.check("CDE Peer Coaching Program" in acks[0]["parsed"]["Subject"]
                and "manager and your Division Director are now asked" in b,
                "the acknowledgement is the program's own text (templates/cde/)", b)
    reqs = only(mail, kind="approval-request")
    want = sorted([mgr(p[0]) for p in PEOPLE] + [director(p[2]) for p in PEOPLE]
                  + [mgr("kim"), director("Legal")])
    t.check(to_all(reqs) == want,
            "each applicant's manager and Division Director are asked to agree, one email "
            "each (a Director of two applicants gets two)", summary(reqs))
    t.check(reqs and not any(w in body_of(m) for m in reqs
                             for w in ("Team Leadership", "Analytical Thinking", "Customer Focus",
                                       "school construction")),
            "the approvers are not shown the applicant's interests or project")
    t.check(env.sql("SELECT count(*) FROM participations WHERE program = 'cde' "
                    "AND status = 'approving'")[0][0] == 9, "9 applications wait for approvals")
    bad = only(mail, addr("ivan"))
    t.check(len(bad) == 1 and "Division Director email" in body_of(bad[0])
            and pid(env, "ivan") is None,
            "an application without a Division Director is answered with the problem, "
            "nothing recorded", summary(mail))
    q = only(mail, addr("jo"))
    t.check(len(q) == 1 and "Experience level" in body_of(q[0])
            and "take turns leading" in body_of(q[0]),
            "a question gets the program's own application form", summary(mail))
    t.check(only(mail, COORDINATOR) == [], "no digest: nothing waits for the coordinator yet",
            summary(mail))
    by_rcpt = {}
    for m in reqs:
        by_rcpt.setdefault(recipients(m)[0], []).append(m)

    # -- Tuesday 5 January: everyone agrees, except Hana's Director and Kim's
    # manager, who refuses ----------------------------------------------------
    env.reply(mgr("kim"), by_rcpt[mgr("kim")][0], "No, not this year: we are short-staffed.")
    for key, name, division, level, interests in PEOPLE:
        env.reply(mgr(key), by_rcpt[mgr(key)][0], "Yes, agreed.")
    for key, name, division, level, interests in PEOPLE:
        if key == "hana":
            continue
        for m in by_rcpt[director(division)]:
            if name in body_of(m):
                env.reply(director(division), m, "yes")
    env.run("2027-01-05T10:00")
    mail = env.new_mail()
    accepted = sorted(p[0] for p in PEOPLE if p[0] != "hana")
    t.check(sorted(k for k in accepted if status(env, k) == "accepted") == accepted
            and status(env, "hana") == "approving",
            "with both agreements the seven are accepted; Hana still waits for her Director",
            [(p[0], status(env, p[0])) for p in PEOPLE])
    res = [m for m in only(mail, kind="approval-result") if "approved" in
           m["parsed"]["Subject"] and "not approved" not in m["parsed"]["Subject"]]
    t.check(to_all(res) == sorted(addr(k) for k in accepted),
            "each accepted applicant is told once", summary(mail))
    t.check(len(only(mail, kind="approval-thanks")) == 16,
            "each of the 16 answers is acknowledged", summary(mail))
    kim = only(mail, addr("kim"))
    t.check(status(env, "kim") == "declined" and len(kim) == 1
            and "was not approved" in kim[0]["parsed"]["Subject"],
            "Kim's manager says no: her application is declined and she is told", summary(mail))
    refused = only(mail, COORDINATOR, kind="approval-refused")
    t.check(len(refused) == 1 and "Kim Tran" in body_of(refused[0])
            and "short-staffed" not in body_of(refused[0]),
            "the coordinator is told, without the manager's words", summary(mail))
    return mail


def approvals_timeout(t, env):
    """Hana's Director never answers: two reminders, then the coordinator."""
    hana = pid(env, "hana")
    seen = []
    for now in ("2027-01-08T10:00", "2027-01-11T10:00", "2027-01-12T10:00",
                "2027-01-14T10:00", "2027-01-15T10:00"):
        env.run(now)
        seen += env.new_mail()
    rem = only(seen, kind="approval-reminder")
    t.check(to_all(rem) == [director("Nutrition")] * 2,
            "Hana's Director is reminded twice (days 5 and 10), once each; nobody else "
            "(not Kim's Director: her application was decided)", summary(seen))
    t.check(env.sql("SELECT a.status FROM approvals a JOIN participations p ON "
                    "p.id = a.participation_id WHERE a.approver = 'director' AND p.id = ?",
                    pid(env, "kim")) == [("settled",)],
            "Kim's Director's request is settled, not left waiting")
    env.run("2027-01-19T10:00")
    mail = env.new_mail()
    exp = only(mail, COORDINATOR, kind="approval-expired")
    t.check(len(exp) == 1 and "Hana Kim" in body_of(exp[0])
            and director("Nutrition") in body_of(exp[0])
            and "accept %d" % hana in body_of(exp[0]),
            "after 15 days the coordinator is told, with the Director's address and how to "
            "decide", summary(mail))
    t.check(env.sql("SELECT status FROM approvals WHERE participation_id = ? "
                    "AND approver = 'director'", hana) == [("expired",)]
            and status(env, "hana") == "approving",
            "the approval is expired; the application waits, nothing lost")
    env.run("2027-01-20T10:00")
    env.run("2027-01-25T10:00")
    t.check(only(env.new_mail(), director("Nutrition")) == [], "the Director is asked no more")
    if exp:
        env.reply(COORDINATOR, exp[0], "decline %d no answer from the Division Director" % hana)
    env.run("2027-01-25T11:00")
    mail = env.new_mail()
    t.check(status(env, "hana") == "declined" and len(only(mail, addr("hana"))) == 1,
            "the coordinator declines by reply; Hana is told",
            summary(mail) + "\n" + "\n".join(body_of(m) for m in mail))


def forming(t, env, digest):
    """The proposal, edits that would make a team of 6 or 2, publish."""
    prop = teams(env, "proposed")
    sizes = sorted(len(v) for v in prop.values())
    t.check(sizes == [3, 4], "seven accepted make two proposed teams, of 3 and 4", prop)
    levels = {k: p[3] for p in PEOPLE for k in [p[0]]}
    divisions = {p[0]: p[2] for p in PEOPLE}
    t.check(all(len({levels[m] for m in ms}) == 1 for ms in prop.values()),
            "each team is of one experience level", prop)
    t.check(all(len({divisions[m] for m in ms}) == len(ms) for ms in prop.values()),
            "each team's members come from different divisions", prop)
    d = body_of(digest)
    t.check("Proposed teams" in d and all(re.search(r"Team %d \(%d\)" % (g, len(ms)), d)
                                          for g, ms in prop.items())
            and "why:" in d and not re.search(r"^\s*match \d", d, re.M),
            "the digest shows the proposal, each team with its reason", d)
    small = [g for g, ms in prop.items() if len(ms) == 3][0]
    big = [g for g, ms in prop.items() if len(ms) == 4][0]
    a, b = prop[small][0], prop[small][1]
    env.reply(COORDINATOR, digest, "move %d to team %d\nmove %d to team %d\npublish\n"
              % (pid(env, a), big, pid(env, b), big))
    env.run("2027-01-06T10:00")
    mail = env.new_mail()
    res = only(mail, COORDINATOR, kind="command-results")
    r = body_of(res[0]) if res else ""
    t.check("moved to team %d (5 members now)" % big in r
            and "team %d has 2 member(s) now, fewer than 3" % small in r,
            "a move to a team of 5 is done, and the team it leaves with 2 is pointed out", r)
    t.check("not done: team %d has 5 members, the most" % big in r,
            "a move that would make a team of 6 is refused, saying why", r)
    t.check("publish: not done: team %d has 2 member(s)" % small in r
            and "No team was formed" in r,
            "publish with a team of 2 forms no team", r)
    now = teams(env, "proposed")
    t.check(sorted(len(v) for v in now.values()) == [2, 5] and teams(env, "active") == {}
            and only(mail, kind="introduction") == [],
            "the database holds the edited proposal (5 and 2), nobody introduced",
            summary(mail))
    env.reply(COORDINATOR, res[0], "move %d to team %d\npublish\n" % (pid(env, a), small))
    env.run("2027-01-06T11:00")
    mail = env.new_mail()
    act = teams(env, "active")
    t.check(sorted(len(v) for v in act.values()) == [3, 4]
            and all(status(env, k) == "matched" for ms in act.values() for k in ms),
            "the second reply moves Alma back and publishes: two teams, 3 and 4, formed",
            act)
    intro = only(mail, kind="introduction")
    t.check(to_all(intro) == sorted(addr(k) for ms in act.values() for k in ms),
            "each member is introduced to their team, one email each", summary(mail))
    for g, ms in act.items():
        m = only(intro, addr(ms[0]))
        if m:
            b = body_of(m[0])
            names = [p[1] for p in PEOPLE if p[0] in ms]
            t.check(all(n in b for n in names) and "in this order" in b
                    and "Fostering a Team Environment" in b,
                    "team %d's introduction names its members, the facilitating order and "
                    "the first cluster" % g, b)
    return act


def months(t, env, act):
    """February to July: topics, facilitators, meetings, evaluations."""
    gids = sorted(act)
    t1, t2 = gids[0], gids[1]
    # -- January: the program has not started --------------------------------
    env.run("2027-01-20T10:00")
    env.run("2027-01-26T10:00")
    mail = env.new_mail()
    t.check(only(mail, subject="time to meet") + only(mail, subject="meeting this month") == []
            and only(mail, kind="month") == [],
            "before the start (1 February) no topic and no meeting reminder", summary(mail))

    # -- Monday 1 February: the first month ----------------------------------
    env.run("2027-02-01T09:00")
    mail = env.new_mail()
    topic = only(mail, kind="month")
    t.check(to_all(topic) == sorted(addr(k) for g in gids for k in act[g]),
            "each member gets the month's cluster, one email each", summary(mail))
    if topic:
        b = body_of(topic[0])
        t.check("Fostering a Team Environment" in topic[0]["parsed"]["Subject"]
                and "February 2027" in topic[0]["parsed"]["Subject"]
                and "Binder section 1" in b, "with the cluster and its readings", b)
    fac = only(mail, kind="facilitator")
    t.check(to_all(fac) == sorted([addr(act[t1][0]), addr(act[t2][0])]),
            "the first member of each team is told they facilitate February", summary(mail))
    for m in only(topic, addr(act[t1][1])):
        name0 = [p[1] for p in PEOPLE if p[0] == act[t1][0]][0]
        t.check("%s facilitates" % name0 in body_of(m),
                "the team's mail names the facilitator", body_of(m))
    t.check(only(mail, COORDINATOR, subject="team meetings in") == [],
            "no follow-up of January, before the start", summary(mail))
    topics_t1 = {recipients(m)[0]: m for m in topic}

    # -- a meeting report from someone in no team -----------------------------
    env.deliver(addr("hana"), "met", "met 2027-02-10 2h", to=PC, authenticated=True)
    # -- team 1 meets; team 2 does not ----------------------------------------
    env.reply(addr(act[t1][0]), topics_t1[addr(act[t1][0])], "met 2027-02-16 2h")
    env.run("2027-02-17T10:00")
    mail = env.new_mail()
    hm = only(mail, addr("hana"))
    t.check(len(hm) == 1 and "not in an active partnership or team" in body_of(hm[0])
            and env.sql("SELECT count(*) FROM events WHERE date = '2027-02-10'")[0][0] == 0
            and env.sql("SELECT status FROM messages WHERE subject = 'met'") == [("held",)],
            "a meeting report from someone in no team is answered and held, nothing "
            "recorded", summary(mail))
    ev = env.sql("SELECT id, group_id, date, minutes FROM events WHERE program = 'cde'")
    t.check([e[1:] for e in ev] == [(t1, "2027-02-16", 120)],
            "team %d's meeting is recorded (2 hours)" % t1, ev)
    evreq = only(mail, kind="evaluation")
    t.check(to_all(evreq) == sorted(addr(k) for k in act[t1]),
            "each member of the team that met is asked for the evaluation", summary(mail))
    if evreq:
        b = body_of(evreq[0])
        t.check("Reading done" in b and "Team participation" in b and "Discussion" in b,
                "the request carries the blank evaluation form", b)
    reqs = {recipients(m)[0]: m for m in evreq}

    # -- evaluations: one with a date of no meeting, one out of range --------
    m0, m1, m2 = act[t1][0], act[t1][1], act[t1][2]
    env.reply(addr(m0), reqs[addr(m0)], "Attended: yes\nReading done: all\nDiscussion: 5\n"
              "Team participation: 4\nComments: %s" % SECRET)
    env.reply(addr(m1), reqs[addr(m1)], "Meeting date: 2027-02-09\nAttended: yes\n"
              "Reading done: some\nDiscussion: 4\nTeam participation: 4\n")
    env.run("2027-02-18T10:00")
    mail = env.new_mail()
    ok = only(mail, addr(m0))
    t.check(len(ok) == 1 and "Recorded: your Meeting evaluation of the team meeting on "
            "2027-02-16" in body_of(ok[0]), "an evaluation is recorded for its meeting",
            summary(mail))
    nb = only(mail, addr(m1))
    t.check(len(nb) == 1 and "no reported meeting of your team on 2027-02-09" in body_of(nb[0]),
            "an evaluation for a meeting that did not happen is refused, saying why",
            summary(mail))
    t.check(env.sql("SELECT count(*) FROM answers WHERE form = 'evaluation'")[0][0] == 1,
            "one evaluation recorded")
    # team 2 writes an evaluation though no meeting was reported
    env.deliver(addr(act[t2][0]), "evaluation", "Attended: yes\nReading done: all\n"
                "Discussion: 3\nTeam participation: 3\n", to=PC, authenticated=True)
    env.run("2027-02-19T10:00")
    mail = env.new_mail()
    t2m = only(mail, addr(act[t2][0]))
    t.check(len(t2m) == 1 and "no reported meeting of your team" in body_of(t2m[0]).lower()
            and env.sql("SELECT count(*) FROM answers WHERE form = 'evaluation'")[0][0] == 1,
            "an evaluation from a team that has not met is refused, nothing recorded",
            summary(mail))

    # -- reminders to who has not sent it ------------------------------------
    env.run("2027-02-22T10:00")
    mail = env.new_mail()
    rem = only(mail, subject="reminder: your Meeting evaluation")
    t.check(to_all(rem) == sorted(addr(k) for k in act[t1][1:]),
            "after 4 days the members who have not sent it are reminded, once each",
            summary(mail))
    rm = only(mail, kind="reminder")
    t.check(to_all(rm) == [] or set(to_all(rm)) == {addr(k) for k in act[t2]},
            "the meeting reminder (on the 20th) goes only to the team that has not met",
            summary(mail))
    for k in act[t1][1:]:
        env.reply(addr(k), reqs[addr(k)], "Attended: yes\nReading done: all\nDiscussion: 4\n"
                  "Team participation: 5\n")
    env.run("2027-02-23T10:00")
    env.new_mail()
    env.run("2027-02-26T10:00")
    mail = env.new_mail()
    t.check(only(mail, subject="reminder: your Meeting evaluation") == [],
            "who answered is reminded no more", summary(mail))
    t.check(env.sql("SELECT count(*) FROM answers WHERE form = 'evaluation'")[0][0]
            == len(act[t1]), "each member's evaluation of February is in")
    return t1, t2


def weekday_on_or_after(day):
    d = datetime.date.fromisoformat(day)
    while d.weekday() >= 5:
        d += datetime.timedelta(days=1)
    return d.isoformat()


EVAL = "Attended: %s\nReading done: all\nDiscussion: 4\nTeam participation: 5\nComments: %s\n"
FINAL = ("Overall, the program was useful: 5\nMy team worked well together: 4\n"
         "What should change: %s\n")
CLUSTERS = ["Fostering a Team Environment", "Creating Organizational Transformation",
            "Maximizing Performance Results", "Building Trust and Accountability",
            "Promoting a High Performance Culture", "Building Coalitions"]


def later_months(t, env, act, t1, t2):
    """March to July: turns, meetings, evaluations (Cara misses two
    meetings); the follow-up of February names the team that did not meet."""
    name = {p[0]: p[1] for p in PEOPLE}
    cara = act[t1][2]
    for i, month in enumerate(("2027-03", "2027-04", "2027-05", "2027-06", "2027-07"), start=1):
        day1 = weekday_on_or_after(month + "-01")
        env.run(day1 + "T09:00")
        mail = env.new_mail()
        topic = only(mail, kind="month")
        t.check(to_all(topic) == sorted(addr(k) for g in (t1, t2) for k in act[g])
                and all(CLUSTERS[i] in m["parsed"]["Subject"] for m in topic),
                "%s: each member gets cluster %d, %s" % (month, i + 1, CLUSTERS[i]),
                summary(mail))
        fac = only(mail, kind="facilitator")
        want = sorted(addr(act[g][i % len(act[g])]) for g in (t1, t2))
        t.check(to_all(fac) == want,
                "%s: the facilitator is each team's member number %d in turn (%s)"
                % (month, i + 1, ", ".join(want)), summary(fac))
        if i == 1:
            fu = only(mail, COORDINATOR, subject="team meetings in February")
            b = body_of(fu[0]) if fu else ""
            t.check(len(fu) == 1 and "#%d " % t2 in b and "#%d " % t1 not in b
                    and name[act[t2][0]] in b,
                    "the follow-up of February names the team with no meeting, not the "
                    "other", summary(mail) + "\n" + b)
            t.check("#%d: 4 of 4 Meeting evaluation(s) in for 1 meeting(s)" % t1 in b
                    and SECRET not in b,
                    "and the count of team %d's evaluations of February" % t1, b)
        if i == 3:
            fu = only(mail, COORDINATOR, subject="team meetings in April")
            b = body_of(fu[0]) if fu else ""
            t.check("#%d: 4 of 4 Meeting evaluation(s) in for 1 meeting(s); 1 absence(s)"
                    % t1 in b, "the April follow-up counts Cara's absence", b)
        by = {recipients(m)[0]: m for m in topic}
        date = {g: "%s-%02d" % (month, 9 + g % 5) for g in (t1, t2)}
        # A facilitator reports; in April team 1 uses the meeting form.
        for g in (t1, t2):
            f = act[g][i % len(act[g])]
            if g == t1 and month == "2027-04":
                env.reply(addr(f), by[addr(f)], "Meeting date: %s\nDuration: 2 hours\n"
                          "Notes: %s\n" % (date[g], SECRET + "-notes"))
            else:
                env.reply(addr(f), by[addr(f)], "met %s 2h" % date[g])
        # and another member of team 2 reports the same meeting again
        env.reply(addr(act[t2][(i + 1) % 3]), by[addr(act[t2][(i + 1) % 3])],
                  "met %s 2h" % date[t2])
        run = weekday_on_or_after(month + "-14")
        env.run(run + "T10:00")
        mail = env.new_mail()
        evreq = only(mail, kind="evaluation")
        t.check(to_all(evreq) == sorted(addr(k) for g in (t1, t2) for k in act[g]),
                "%s: the meetings are recorded once each; every member is asked for the "
                "evaluation" % month, summary(mail))
        for m in evreq:
            who = recipients(m)[0].split("@")[0]
            absent = who == cara and month in ("2027-04", "2027-05")
            env.reply(addr(who), m, EVAL % ("no" if absent else "yes", SECRET))
        env.run(weekday_on_or_after(month + "-16") + "T10:00")
        mail = env.new_mail()
        t.check(len(only(mail, kind="evaluation-recorded")) == 7,
                "%s: each evaluation is recorded and its writer thanked" % month,
                summary(mail))
        if month == "2027-07":
            continue  # completion() goes on from the 19th
        env.run(weekday_on_or_after(month + "-20") + "T10:00")
        mail = env.new_mail()
        t.check(only(mail, kind="reminder") == [] and only(mail, kind="evaluation") == [],
                "%s: no meeting reminder and no evaluation reminder (all met, all answered)"
                % month, summary(mail))
    ev = env.sql("SELECT group_id, count(*) FROM events WHERE program = 'cde' GROUP BY group_id")
    t.check(sorted(ev) == sorted([(t1, 6), (t2, 5)]),
            "the database holds 6 meetings of team %d and 5 of team %d" % (t1, t2), ev)
    t.check(env.sql("SELECT count(*) FROM attendance WHERE status = 'absent'")[0][0] == 2,
            "Cara's two absences are recorded from her evaluations")
    bad = env.sql("SELECT a.id FROM answers a LEFT JOIN events e ON e.id = a.event_id "
                  "WHERE a.form = 'evaluation' AND (e.id IS NULL OR e.group_id != a.group_id "
                  "OR a.respondent_id NOT IN (SELECT p.person_id FROM group_members m JOIN "
                  "participations p ON p.id = m.participation_id WHERE m.group_id = e.group_id))")
    t.check(bad == [] and env.sql("SELECT count(*) FROM answers WHERE form = 'evaluation'")[0][0]
            == 4 * 6 + 3 * 5, "the database holds 39 evaluations, each tied to a meeting of "
            "its writer's team", bad)
    rows = env.sql("SELECT e.group_id, e.date, e.topic, p.email FROM events e "
                   "LEFT JOIN people p ON p.id = e.facilitator_id WHERE e.program = 'cde' "
                   "ORDER BY e.group_id, e.date")
    want = []
    for g in (t1, t2):
        for i in range(6):
            if g == t2 and i == 0:
                continue  # team 2 did not meet in February
            want.append((g, CLUSTERS[i], addr(act[g][i % len(act[g])])))
    t.check([(r[0], r[2], r[3]) for r in rows] == want,
            "each meeting is recorded with the month's cluster and the facilitator whose "
            "turn it was", rows)


def completion(t, env, act, t1, t2):
    """The final evaluation, certificates, who did not complete."""
    name = {p[0]: p[1] for p in PEOPLE}
    cara, gus = act[t1][2], act[t2][2]
    env.run("2027-07-16T10:00")
    t.check(only(env.new_mail(), kind="final-evaluation") == [], "not before end - 14 days")
    env.run("2027-07-19T10:00")
    mail = env.new_mail()
    req = only(mail, kind="final-evaluation")
    members = sorted(addr(k) for g in (t1, t2) for k in act[g])
    t.check(to_all(req) == members and "Final evaluation" in req[0]["parsed"]["Subject"],
            "on the first working day from end - 14 days each member is asked for the final "
            "evaluation", summary(mail))
    t.check(only(mail, kind="certificate") == [], "no certificate before the final evaluation")
    for m in req:
        who = recipients(m)[0].split("@")[0]
        if who != gus:
            env.reply(addr(who), m, FINAL % SECRET)
    env.run("2027-07-20T10:00")
    mail = env.new_mail()
    t.check(only(mail, kind="reminder") == [], "July: no meeting reminder on the 20th (all met)",
            summary(mail))
    certs = only(mail, kind="certificate")
    done = sorted(addr(k) for k in (act[t1][0], act[t1][1], act[t1][3], act[t2][0], act[t2][1]))
    t.check(to_all(certs) == done,
            "the certificate goes to each member whose final evaluation is in and who "
            "attended 80% (not Cara, 4 of 6; not Gus, no final evaluation)", summary(mail))
    if certs:
        fn, pdf = pdf_of(certs[0])
        t.check(fn == "certificate-of-completion.pdf" and pdf is not None
                and pdf.startswith(b"%PDF") and len(pdf) > 1000,
                "as a PDF attachment", (fn, len(pdf or b"")))
        if shutil.which("pdftotext") and pdf:
            txt = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout
            who = name[recipients(certs[0])[0].split("@")[0]]
            t.check(b"Tom Torlakson" in txt and who.encode() in txt
                    and b"CDE Peer Coaching Program" in txt,
                    "the PDF names the member, the program and the signer", txt)
        b = text_of(certs[0])
        t.check("Tom Torlakson" in b and "State Superintendent of Public Instruction" in b,
                "signed by the department head named in the configuration", b)
    note = only(mail, COORDINATOR, kind="completion")
    t.check(len(note) == 5 and all("has completed" in m["parsed"]["Subject"] for m in note),
            "the coordinator is told of each completion", summary(mail))
    t.check(sorted(k for g in (t1, t2) for k in act[g] if status(env, k) == "completed")
            == sorted(d.split("@")[0] for d in done), "the five are completed in the database")
    env.run("2027-07-21T10:00")
    env.run("2027-07-26T10:00")
    mail = env.new_mail()
    rem = only(mail, kind="final-evaluation")
    t.check(to_all(rem) == [addr(gus)] and only(mail, kind="certificate") == [],
            "Gus is reminded of the final evaluation; no certificate twice", summary(mail))
    env.run("2027-08-02T10:00")
    mail = env.new_mail()
    fu = only(mail, COORDINATOR, subject="team meetings in July")
    b = body_of(fu[0]) if fu else ""
    t.check(len(fu) == 1 and "Every team met" in b,
            "the follow-up of July: every team met", summary(mail))
    t.check("#%d: 4 of 4 Meeting evaluation(s) in for 1 meeting(s)" % t1 in b
            and "#%d: 3 of 3" % t2 in b and SECRET not in b,
            "with the count of evaluations per team, not what they say", b)
    env.run("2027-08-16T10:00")
    mail = env.new_mail()
    summ = only(mail, COORDINATOR, kind="completion")
    b = body_of(summ[0]) if summ else ""
    t.check(len(summ) == 1 and name[cara] in b and "attendance" in b and name[gus] in b
            and "final evaluation has not come in" in b,
            "when the time to complete ends the coordinator gets who did not, and why",
            summary(mail) + "\n" + b)
    t.check(env.sql("SELECT DISTINCT status FROM groups WHERE program = 'cde' AND "
                    "status IN ('active', 'completed')") == [("completed",)],
            "the teams are completed")
    for now in ("2027-08-20T10:00", "2027-09-01T10:00", "2027-09-20T10:00"):
        env.run(now)
    mail = env.new_mail()
    t.check(mail == [], "after the end nothing more is sent", summary(mail))


def with_cdss(t):
    """CDSS and CDE in one daemon: each address reaches its program, each
    with its own forms and texts."""
    cdss = os.path.join(SOURCE_DIR, "conf/programs/cdss.conf")
    with Env("cde2", programs=[cdss, CDE_CONF], authserv="mx.test.example") as env:
        env.deliver(addr("alma"), "application", application(*PEOPLE[0][:2], PEOPLE[0][2],
                                                              PEOPLE[0][3], PEOPLE[0][4]),
                    to=PC, authenticated=True)
        env.deliver(addr("zoe"), "question", "How do I join?", to=PC)
        env.deliver(addr("yan"), "question", "How do I join?")  # to mentoring@
        env.run("2027-01-04T10:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT program, role, status FROM participations "
                        "WHERE role NOT IN ('supervisor', 'director')")
                == [("cde", "member", "approving")],
                "with CDSS first, an application to peercoaching@ is CDE's",
                env.sql("SELECT program, role, status FROM participations"))
        z, y = only(mail, addr("zoe")), only(mail, addr("yan"))
        t.check(len(z) == 1 and "Experience level" in body_of(z[0])
                and len(y) == 1 and "Developmental needs" in body_of(y[0])
                and "Experience level" not in body_of(y[0]),
                "each address answers with its own program's form", summary(mail))


def withdrawal(t):
    """A member leaves a team of 3: the team goes on with 2, the others and
    the coordinator are told.  A member approved late joins the formed team
    by the coordinator's "move"; later the coordinator ends the team by
    reply and its members wait for the next teams."""
    four = PEOPLE[:4]
    late = four[3][0]
    with Env("cde3", programs=[CDE_CONF], authserv="mx.test.example") as env:
        for key, name, division, level, interests in four:
            env.deliver(addr(key), "application",
                        application(key, name, division, level, interests), to=PC,
                        authenticated=True, name=name)
        env.run("2027-01-04T10:00")
        held = None
        for m in only(env.new_mail(), kind="approval-request"):
            if recipients(m)[0] == director(four[3][2]) and four[3][1] in body_of(m):
                held = m  # Dev's Director answers later
            else:
                env.reply(recipients(m)[0], m, "yes")
        env.run("2027-01-05T10:00")
        digest = only(env.new_mail(), COORDINATOR, kind="digest")
        env.reply(COORDINATOR, digest[0], "publish")
        env.run("2027-01-05T11:00")
        intro = {recipients(m)[0]: m for m in only(env.new_mail(), kind="introduction")}
        team = list(teams(env, "active"))
        t.check(len(team) == 1 and len(intro) == 3 and status(env, late) == "approving",
                "a team of three is formed; Dev still waits for his Director", intro)
        cara = addr(four[2][0])
        env.reply(cara, intro[cara], "withdraw I am moving to another department")
        env.run("2027-01-06T10:00")
        mail = env.new_mail()
        told = only(mail, subject="a member has left your team")
        t.check(to_all(told) == sorted(addr(k[0]) for k in four[:2])
                and "goes on" in body_of(told[0]),
                "the two others are told their team goes on", summary(mail))
        note = only(mail, COORDINATOR, kind="withdrawal")
        b = body_of(note[0]) if note else ""
        t.check("team #%d has 2 members now, fewer than 3" % team[0] in b
                and "end %d" % team[0] in b,
                "the coordinator is told the team has 2 members and how to end it",
                summary(mail) + "\n" + b)
        t.check(teams(env, "active") == {team[0]: [k[0] for k in four[:2]]}
                and status(env, four[2][0]) == "withdrawn",
                "the database: the team goes on with two, Cara withdrawn")

        # -- Dev's Director agrees at last; the coordinator adds him ----------
        env.reply(director(four[3][2]), held, "yes")
        env.run("2027-01-07T10:00")
        mail = env.new_mail()
        digest = only(mail, COORDINATOR, kind="digest")
        d = body_of(digest[0]) if digest else ""
        t.check(status(env, late) == "accepted" and "not in a team yet: #%d" % pid(env, late) in d,
                "Dev, accepted late, is listed as not in a team", summary(mail) + "\n" + d)
        env.reply(COORDINATOR, digest[0], "move %d to team %d" % (pid(env, late), team[0]))
        env.run("2027-01-07T11:00")
        mail = env.new_mail()
        res = only(mail, COORDINATOR, kind="command-results")
        t.check(res and "moved to team %d (3 members now)" % team[0] in body_of(res[0])
                and "introduced" in body_of(res[0]),
                "moved into the formed team", summary(mail))
        again = only(mail, kind="introduction")
        t.check(to_all(again) == sorted(addr(k) for k in ("alma", "ben", late))
                and all(four[3][1] in body_of(m) for m in again),
                "each member is introduced to the team as it now is, Dev included",
                summary(mail))
        t.check(teams(env, "active") == {team[0]: ["alma", "ben", late]}
                and status(env, late) == "matched", "the database: a team of three again")

        env.reply(COORDINATOR, note[0], "end %d the members asked to join other teams" % team[0])
        env.run("2027-01-08T10:00")
        mail = env.new_mail()
        ended = only(mail, subject="team #%d has ended" % team[0])
        t.check(to_all(ended) == sorted(addr(k) for k in ("alma", "ben", late))
                and teams(env, "active") == {}
                and [status(env, k) for k in ("alma", "ben", late)] == ["accepted"] * 3,
                "ended by reply: its members are told and wait for the next teams",
                summary(mail))


def main():
    t = Checker()
    with Env("cde", programs=[CDE_CONF], authserv="mx.test.example") as env:
        mail = intake(t, env)
        env.run("2027-01-05T11:00")
        mail += env.new_mail()
        digest = only(mail, COORDINATOR, kind="digest")
        t.check(len(digest) == 1, "the digest goes to the coordinator", summary(mail))
        approvals_timeout_first = digest[0] if digest else None
        act = forming(t, env, approvals_timeout_first)
        approvals_timeout(t, env)
        t1, t2 = months(t, env, act)
        later_months(t, env, act, t1, t2)
        completion(t, env, act, t1, t2)
        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        t.check(not any(SECRET in text_of(m) for m in env.sent()),
                "what a member writes in an evaluation is mailed to nobody")
    with_cdss(t)
    withdrawal(t)
    t.finish()


if __name__ == "__main__":
    main()
