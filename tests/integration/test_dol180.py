"""DOL SES Candidate Development Program (seed 003): the 180 assessment.

conf/programs/dol.conf on real servers (Dovecot, an SMTP server), with --now
stepping from October 2027 to July 2028 in Washington, D.C.:

  the cohort is enrolled from a roster whose Supervisor email binds each
  participant's supervisor -> on the program's start the pre round goes to
  each participant (about themselves) and to each supervisor (one email per
  participant supervised, naming them), nothing twice -> answers by reply
  are recorded as the respondent's about that participant -> reminders go
  only to whoever of the two has not answered -> the post round 30 days
  before the end -> once both post answers of a participant are in, the
  report (self against supervisor, pre against post, per competency; a CSV
  attached) goes to exactly the participant, their supervisor and the
  coordinator, with the right figures, and never twice.

Bad input: a 180 answer from a stranger, a participant's new email (even
authenticated) instead of a reply, a forged From without the reply token,
and a reply by someone who is no longer the participant's supervisor are
not recorded: each is held for the coordinator and explained.  A
configuration whose assessment field is not visible_to the supervisor is
refused with file:line."""

import csv
import email.utils
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, recipients  # noqa: E402

DOL_CONF = os.path.join(SOURCE_DIR, "conf/programs/dol.conf")
PROGRAM = "sescdp@example.org"
ANA, BOB, CY, DEE = "ana@dol.example", "bob@dol.example", "cy@dol.example", "dee@dol.example"
SUP_ANA, SUP_BOB, SUP_CD = "sup.ana@dol.example", "sup.bob@dol.example", "sup.cd@dol.example"
SUP_DEE2, SUP_CY2 = "sup.dee2@dol.example", "sup.cy2@dol.example"
ZED = "zed@elsewhere.example"
ROSTER = """email,name,role,Agency,Supervisor email
ana@dol.example,Ana Ruiz,participant,OSHA,sup.ana@dol.example
bob@dol.example,Bob Lee,participant,ETA,sup.bob@dol.example
cy@dol.example,Cy Tran,participant,BLS,sup.cd@dol.example
dee@dol.example,Dee Park,participant,WHD,sup.cd@dol.example
"""
FIELDS = ["Strategic thinking", "Leading change", "Developing others", "Communication"]


def form(values, comment=None):
    text = "\n".join("%s: %d" % (k, v) for k, v in zip(FIELDS, values))
    if comment:
        text += "\nComment: %s" % comment
    return text + "\n"


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def summary(msgs):
    return "\n".join("%s -> %s [%s]" % (m["parsed"]["Subject"], ",".join(recipients(m)),
                                        m["parsed"]["X-Mentord"]) for m in msgs)


def text_of(msg):
    part = msg["parsed"].get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def attachment(msg):
    for part in msg["parsed"].walk():
        if part.get_content_type() == "text/csv":
            data = part.get_content()
            return part.get_filename(), data.decode() if isinstance(data, bytes) else data
    return None, None


def assessment_mail(msgs):
    return [m for m in msgs if (m["parsed"]["X-Mentord"] or "").startswith("assessment")]


def answers(env):
    """(respondent, subject, round) of every 180 answer recorded."""
    return sorted(env.sql(
        "SELECT r.email, s.email, a.round FROM answers a JOIN people r ON r.id = "
        "a.respondent_id JOIN people s ON s.id = a.subject_id WHERE a.form = 'assessment'"))


def main():
    t = Checker()
    with Env("dol180", programs=[DOL_CONF], authserv="mx.test.example") as env:
        p = env.run("2027-10-25T10:00-04:00", "--check-config")
        t.check("configuration OK" in p.stdout + p.stderr, "dol.conf is valid",
                p.stdout + p.stderr)
        roster = os.path.join(env.dir, "roster.csv")
        with open(roster, "w") as f:
            f.write(ROSTER)
        env.ctl("import", "people", roster, "--program", "dol")
        env.run("2027-10-25T10:00-04:00")
        t.check(assessment_mail(env.new_mail()) == [],
                "before the program's start no assessment is requested")

        # -- Monday 1 November: the pre round --------------------------------
        env.run("2027-11-01T10:00-04:00")
        mail = assessment_mail(env.new_mail())
        selfreq = only(mail, kind="assessment-pre")
        supreq = only(mail, kind="assessment-pre-supervisor")
        t.check(sorted(r for m in selfreq for r in recipients(m)) == [ANA, BOB, CY, DEE]
                and all(len(recipients(m)) == 1 for m in mail),
                "the pre request goes to each participant, one email each", summary(mail))
        t.check(sorted(r for m in supreq for r in recipients(m))
                == [SUP_ANA, SUP_BOB, SUP_CD, SUP_CD] and len(mail) == 8,
                "and to each supervisor, once per participant supervised; nobody else",
                summary(mail))
        cd = {("Cy" if "Cy Tran" in m["parsed"]["Subject"] else "Dee"): m
              for m in only(supreq, SUP_CD)}
        body = text_of(cd.get("Cy", supreq[0]))
        t.check(set(cd) == {"Cy", "Dee"} and "first-level supervisor of Cy Tran" in body
                and all(k in body for k in FIELDS) and "(pre)" in
                cd["Cy"]["parsed"]["Subject"],
                "a supervisor's request names the participant, the round and the "
                "competencies", body)
        abody = text_of(only(selfreq, ANA)[0])
        t.check("rate yourself" in abody and all(k in abody for k in FIELDS)
                and "supervisor of" not in abody,
                "a participant's request asks about themselves", abody)
        env.run("2027-11-01T15:00-04:00")
        t.check(assessment_mail(env.new_mail()) == [], "a second run requests nothing again")

        # -- answers by reply; what is not recorded ---------------------------
        env.reply(ANA, only(selfreq, ANA)[0], form([2, 3, 2, 3]))
        env.reply(SUP_ANA, only(supreq, SUP_ANA)[0], form([3, 3, 2, 4], "A solid start."))
        env.reply(BOB, only(selfreq, BOB)[0], form([4, 4, 4, 4]))
        env.reply(CY, only(selfreq, CY)[0], form([3, 3, 3, 3]))
        env.reply(SUP_CD, cd["Cy"], form([2, 2, 3, 3]))
        # A stranger, from their own address, no token.
        env.deliver(ZED, "180 assessment", form([5, 5, 5, 5]), to=PROGRAM)
        # Cy (a participant, authenticated) sends an assessment of Dee as a new email.
        env.deliver(CY, "180 assessment of Dee Park", form([1, 1, 1, 1]), to=PROGRAM,
                    authenticated=True)
        # A forged From: Bob's supervisor's address, answering the request by its
        # Message-ID, without the reply token.
        bob_sup = only(supreq, SUP_BOB)[0]
        env.deliver(SUP_BOB, "Re: " + bob_sup["parsed"]["Subject"], form([1, 1, 1, 1]),
                    to=PROGRAM, in_reply_to=bob_sup["parsed"]["Message-ID"].strip("<>"))
        env.run("2027-11-02T10:00-04:00")
        mail = env.new_mail()
        t.check(answers(env) == sorted([(ANA, ANA, "pre"), (SUP_ANA, ANA, "pre"),
                                        (BOB, BOB, "pre"), (CY, CY, "pre"),
                                        (SUP_CD, CY, "pre")]),
                "replies are recorded as the respondent's, about that participant, pre",
                answers(env))
        ack = only(mail, SUP_CD, kind="evaluation-recorded")
        t.check(len(ack) == 1 and "of Cy Tran (pre)" in text_of(ack[0]),
                "the supervisor is thanked for their assessment of Cy Tran",
                summary(mail))
        t.check(len(ack) == 1 and "shown in the assessment's report" in text_of(ack[0])
                and "never sent to your supervisor" not in text_of(ack[0]),
                "and told who will see it (no promise that it stays from the supervisor)",
                text_of(ack[0]) if ack else "")
        held = sorted(env.sql("SELECT from_addr FROM messages WHERE status = 'held'"))
        t.check(held == sorted([(ZED,), (CY,), (SUP_BOB,)]),
                "a stranger's, a participant's new email and a forged From are held",
                held)
        t.check(not any(s == DEE or r in (ZED,) for r, s, _ in answers(env))
                and not any(r == SUP_BOB for r, _, _ in answers(env)),
                "none of them is recorded", answers(env))
        zed = only(mail, ZED)
        t.check(len(zed) == 1 and "not recorded" in text_of(zed[0])
                and "reply" in text_of(zed[0]),
                "the stranger is told it was not recorded and why", summary(mail))
        t.check(len(only(mail, CY, kind="evaluation-problem")) == 1,
                "so is the participant who sent a new email", summary(mail))

        # -- reminders: only to whoever has not answered ----------------------
        env.run("2027-11-09T10:00-05:00")
        mail = assessment_mail(env.new_mail())
        t.check(sorted(r for m in mail for r in recipients(m)) == [DEE, SUP_BOB, SUP_CD]
                and all("reminder" in m["parsed"]["Subject"] for m in mail),
                "reminders go only to the missing respondents (Bob's supervisor, Dee, "
                "Dee's supervisor)", summary(mail))
        cd_rem = only(mail, SUP_CD)
        t.check(len(cd_rem) == 1 and "Dee Park" in cd_rem[0]["parsed"]["Subject"],
                "Cy's supervisor is reminded about Dee only", summary(mail))
        env.run("2027-11-09T15:00-05:00")
        t.check(assessment_mail(env.new_mail()) == [], "no reminder twice")

        # -- Dee's supervisor changes: the old one's reply is not recorded -----
        dee = env.sql("SELECT pa.id FROM participations pa JOIN people p ON p.id = "
                      "pa.person_id WHERE p.email = ? AND pa.program = 'dol'", DEE)[0][0]
        env.ctl("application", "edit", str(dee), "supervisor=%s" % SUP_DEE2)
        env.reply(SUP_CD, cd["Dee"], form([4, 4, 4, 4]))
        env.run("2027-11-10T10:00-05:00")
        mail = env.new_mail()
        t.check(not any(s == DEE for _, s, _ in answers(env))
                and len(only(mail, SUP_CD, kind="evaluation-problem")) == 1
                and "not the supervisor recorded" in text_of(only(mail, SUP_CD)[0]),
                "a reply by whoever is no longer Dee's supervisor is held and explained",
                summary(mail))
        new = only(mail, SUP_DEE2, kind="assessment-pre-supervisor")
        t.check(len(new) == 1 and "Dee Park" in new[0]["parsed"]["Subject"],
                "Dee's new supervisor is asked", summary(mail))
        t.check(env.sql("SELECT COUNT(*) FROM messages WHERE status = 'held'") == [(4,)],
                "the four answers not recorded wait for the coordinator")

        # -- Cy's supervisor changes after the pre round ----------------------
        cy = env.sql("SELECT pa.id FROM participations pa JOIN people p ON p.id = "
                     "pa.person_id WHERE p.email = ? AND pa.program = 'dol'", CY)[0][0]
        env.ctl("application", "edit", str(cy), "supervisor=%s" % SUP_CY2)

        # -- the post round, 30 days before the end (Saturday 1 July: Monday) -
        env.run("2028-07-01T10:00-04:00")
        t.check(assessment_mail(env.new_mail()) == [], "no request on a weekend")
        env.run("2028-07-03T10:00-04:00")
        mail = assessment_mail(env.new_mail())
        post = only(mail, kind="assessment-post")
        postsup = only(mail, kind="assessment-post-supervisor")
        t.check(sorted(r for m in post for r in recipients(m)) == [ANA, BOB, CY, DEE]
                and sorted(r for m in postsup for r in recipients(m))
                == [SUP_ANA, SUP_BOB, SUP_CY2, SUP_DEE2]
                and len(mail) == 8 and all("(post)" in m["parsed"]["Subject"] for m in mail),
                "the post round goes to each participant and their supervisor",
                summary(mail))
        env.reply(ANA, only(post, ANA)[0], form([4, 4, 3, 4], "I grew a lot."))
        env.reply(BOB, only(post, BOB)[0], form([5, 5, 5, 5]))
        env.reply(CY, only(post, CY)[0], form([4, 3, 4, 3]))
        env.reply(SUP_CY2, only(postsup, SUP_CY2)[0], form([3, 4, 4, 4]))
        env.run("2028-07-04T10:00-04:00")
        reports = only(env.new_mail(), kind="assessment-report")
        t.check(sorted(r for m in reports for r in recipients(m))
                == sorted([CY, SUP_CY2, COORDINATOR])
                and all("Cy Tran" in m["parsed"]["Subject"] for m in reports),
                "Cy's report goes to Cy, his supervisor now and the coordinator (not the "
                "supervisor before)", summary(reports))
        rows = list(csv.reader(io.StringIO(attachment(reports[0])[1] if reports else "")))
        t.check(["Leading change", "3", "3", "2", "4"] in rows,
                "its pre figures are the earlier supervisor's, the post the new one's",
                rows)
        t.check(not only(reports, ANA) and not only(reports, SUP_ANA),
                "no report while the supervisor's post answer is missing (Ana)")
        env.reply(SUP_ANA, only(postsup, SUP_ANA)[0], form([4, 5, 4, 4]))
        env.run("2028-07-05T10:00-04:00")
        mail = env.new_mail()
        reports = only(mail, kind="assessment-report")
        t.check(sorted(r for m in reports for r in recipients(m))
                == sorted([ANA, SUP_ANA, COORDINATOR])
                and all("Ana Ruiz" in m["parsed"]["Subject"] for m in reports)
                and all(len(recipients(m)) == 1 for m in reports),
                "the report goes to exactly Ana, her supervisor and the coordinator",
                summary(mail))
        rep = only(reports, SUP_ANA)
        body = text_of(rep[0]) if rep else ""
        name, data = attachment(rep[0]) if rep else (None, None)
        rows = list(csv.reader(io.StringIO(data or "")))
        t.check(rows[:1] == [["field", "self_pre", "self_post", "supervisor_pre",
                              "supervisor_post"]]
                and ["Strategic thinking", "2", "4", "3", "4"] in rows
                and ["Leading change", "3", "4", "3", "5"] in rows
                and ["Developing others", "2", "3", "2", "4"] in rows
                and ["Communication", "3", "4", "4", "4"] in rows
                and ["Comment", "", "I grew a lot.", "A solid start.", ""] in rows
                and name and name.endswith(".csv"),
                "the CSV has self and supervisor, pre and post, per competency", data)
        line = [l for l in body.splitlines() if l.startswith("Leading change")]
        t.check(bool(rep) and "Ana Ruiz" in rep[0]["parsed"]["Subject"]
                and bool(line) and line[0].split()[2:] == ["3", "4", "3", "5"]
                and "Self pre" in body and "Supervisor post" in body
                and "I grew a lot." in body,
                "the email shows the same figures as a table", body)
        t.check(all(attachment(m)[1] == data for m in reports),
                "each copy carries the same figures", summary(reports))
        env.run("2028-07-06T10:00-04:00")
        t.check(only(env.new_mail(), kind="assessment-report") == [],
                "nothing is sent twice on a rerun")
        t.check(env.sql("SELECT COUNT(*) FROM outbox GROUP BY key HAVING COUNT(*) > 1") == [],
                "no outbox key twice")

        # -- the coordinator's export of the 180 figures ----------------------
        p = env.ctl("export", "answers", "--form", "assessment", "--program", "dol")
        rows = list(csv.reader(io.StringIO(p.stdout)))
        t.check(rows[:1] == [["participant", "name", "supervisor", "field", "self_pre",
                              "self_post", "supervisor_pre", "supervisor_post"]]
                and [ANA, "Ana Ruiz", SUP_ANA, "Leading change", "3", "4", "3", "5"] in rows
                and [BOB, "Bob Lee", SUP_BOB, "Leading change", "4", "5", "", ""] in rows
                and [DEE, "Dee Park", SUP_DEE2, "Communication", "", "", "", ""] in rows
                and [CY, "Cy Tran", SUP_CY2, "Leading change", "3", "3", "2", "4"] in rows
                and len(rows) == 1 + 4 * 5,
                "export answers --form assessment: every participant's figures, per "
                "competency", p.stdout[:800])

        # -- configuration: a field kept from the supervisor is refused -------
        conf = os.path.join(env.dir, "programs", "dol.conf")
        good = open(conf).read()
        start = good.index("form assessment")
        bad = good[:start] + good[start:].replace('visible_to = {"coordinator", "supervisor"}',
                                                  'visible_to = {"coordinator"}', 1)
        with open(conf, "w") as f:
            f.write(bad)
        p = env.run("2028-07-06T10:00-04:00", "--check-config", expect=2)
        line_no = bad[:bad.index('visible_to = {"coordinator"}\n', start)].count("\n") + 1
        t.check("dol.conf:%d:" % line_no in p.stderr and "Strategic thinking" in p.stderr
                and "visible_to" in p.stderr,
                "a compared field not visible_to the supervisor is refused with file:line",
                p.stderr)
        with open(conf, "w") as f:
            f.write(good.replace('\tto = "supervisor"', '\tto = "coordinators"', 1))
        p = env.run("2028-07-06T10:00-04:00", "--check-config", expect=2)
        t.check("dol.conf:" in p.stderr and "about each participant" in p.stderr,
                "a request about participants sent to the coordinators is refused",
                p.stderr)
        with open(conf, "w") as f:
            f.write(good)
    t.finish()


if __name__ == "__main__":
    main()
