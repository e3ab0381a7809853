"""The README demo: a program run on a local Dovecot and SMTP server, with
time stepped by --now, printing every email exchanged.

  tests/demo.py          a CDSS mentoring partnership, two months
  tests/demo.py cde      a CDE Peer Coaching team, six months: applications
                         agreed by managers and Division Directors, a team
                         proposed and published, a competency cluster a
                         month with a facilitator in turn, evaluations after
                         each meeting, the final evaluation and the
                         certificate of completion (a PDF)
  tests/demo.py dol      DOL SES CDP: a cohort's sessions as calendar
                         invitations, answers, attendance, the digest
  tests/demo.py dol180   DOL SES CDP: the 180 assessment, pre and post, by
                         the participant and their supervisor, a reminder,
                         a stranger's answer held, the report with its CSV
  tests/demo.py calpers  CalPERS Informal Mentoring, three months: opt-in
                         by email (one confirmed by reply), the monthly
                         digest of the others' offers and asks, a quarterly
                         story request, and stop
  tests/demo.py lausd    the LAUSD survey, January 2027: the roster
                         imported (a broken one refused first), the survey
                         to each employee, answers by reply (one
                         corrected), a reminder, a late answer, the digest's
                         response rate, the results and volunteers as CSV"""

import os
import sys
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Env, recipients  # noqa: E402

ANA, BOB = "ana@example.org", "bob@example.org"


def show_in(sender, subject, body):
    print("\n>>> %s writes: %s" % (sender, subject))
    print(textwrap.indent(body.strip(), "    | "))


def text_of(m):
    """The text of an email, and the names of its attachments."""
    text, files = "", []
    for part in m["parsed"].walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            text = part.get_content()
        elif part.get_filename():
            files.append("[attached: %s, %s, %d bytes]" % (
                part.get_filename(), part.get_content_type(),
                len(part.get_payload(decode=True) or b"")))
    return "\n".join([text.strip()] + files)


def show_out(env, when):
    mail = env.new_mail()
    print("\n=== mentord --once --now %s: %d email(s) sent" % (when, len(mail)))
    for m in mail:
        print("\n<<< to %s: %s" % (", ".join(recipients(m)), m["parsed"]["Subject"]))
        print(textwrap.indent(text_of(m), "    | "))
    return mail


def step(env, when):
    env.run(when)
    return show_out(env, when)


def say(env, sender, subject, body, reply_to=None):
    show_in(sender, subject, body)
    if reply_to is not None:
        env.reply(sender, reply_to, body)
    else:
        env.deliver(sender, subject, body)


def cdss():
    with Env("demo") as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        say(env, ANA, "Mentoring", "Hello, I would like to join the mentoring program.")
        q = step(env, "2026-11-02T09:00")[0]
        say(env, ANA, "Re: questionnaire", "Name: Ana Ruiz\nDivision: Children and Family Services\n"
            "Classification: Staff Services Manager I\nYears as manager: 3\n"
            "Supervisor email: sam@example.org\nDevelopmental needs: Communication, Conflict Management\n"
            "Availability: Tuesday mornings\nWhy do you want to join: I lead a new team.\n", q)
        say(env, COORDINATOR, "New mentor", "Name: Bob Lee\nEmail: bob@example.org\n"
            "Division: Adult Programs\nStatus: retired manager\nYears as manager: 20\n"
            "Strengths: Communication, Conflict Management, Developing Others\nCapacity: 2\n")
        mail = step(env, "2026-11-02T10:00")
        digest = [m for m in mail if m["parsed"]["X-Mentord"] == "digest"][0]
        # A new email proves nothing about its sender: the coordinator is
        # asked to confirm, by a reply, which carries a signed token.
        confirm = [m for m in mail if m["parsed"]["X-Mentord"] == "confirm"][0]
        say(env, COORDINATOR, "Re: please confirm", "yes", confirm)
        step(env, "2026-11-02T10:30")
        app = env.sql("SELECT id FROM applications WHERE role = 'mentee'")[0][0]
        mentor = env.sql("SELECT id FROM applications WHERE role = 'mentor'")[0][0]
        say(env, COORDINATOR, "Re: digest", "accept %d\nmatch %d with %d\n" % (app, app, mentor), digest)
        mail = step(env, "2026-11-03T09:00")
        intro = [m for m in mail if "meet your mentor" in m["parsed"]["Subject"] and ANA in recipients(m)][0]
        intro_bob = [m for m in mail if "meet your mentor" in m["parsed"]["Subject"] and BOB in recipients(m)][0]
        say(env, ANA, "Re: introduction", "met 2026-11-09 2h", intro)
        say(env, BOB, "Re: introduction", "met 2026-11-09 2h", intro_bob)
        step(env, "2026-11-10T12:00")
        step(env, "2026-11-16T09:00")
        step(env, "2026-12-01T09:00")
        say(env, ANA, "Re: introduction", "met 2026-12-02 2h", intro)
        step(env, "2026-12-03T09:00")
        say(env, BOB, "Re: introduction", "met 2026-12-09 90m", intro_bob)
        step(env, "2026-12-10T09:00")
        step(env, "2026-12-15T09:00")
        step(env, "2027-01-04T09:00")
        say(env, ANA, "Re: introduction", "Overall, the partnership was useful: 5\n"
            "My mentor listened: 5\nComments: Bob helped me plan my first team meeting.", intro)
        step(env, "2027-01-05T09:00")
        print("\n=== mentorctl status")
        print(env.ctl("status").stdout)
        print("=== mentorctl report --csv")
        print(env.ctl("report", "--csv").stdout)


# ---- CDE Peer Coaching -----------------------------------------------------

PC = "peercoaching@example.org"
CDE_PEOPLE = [
    ("alma", "Alma Reyes", "Curriculum", "Communication, Team Leadership"),
    ("ben", "Ben Cho", "Assessment", "Communication, Change Leadership"),
    ("cara", "Cara Diaz", "Finance", "Team Leadership, Decision Making"),
    ("dev", "Dev Patel", "Nutrition", "Communication, Conflict Management"),
]


def pick(mail, who=None, kind=None):
    return [m for m in mail if (who is None or who in recipients(m))
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def cde():
    """Four peers, one team, February to July 2027."""
    conf = os.path.join(SOURCE_DIR, "conf/programs/cde.conf")
    with Env("demo-cde", programs=[conf], authserv="mx.test.example") as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        print("Program: %s (templates/cde/ over templates/)" % conf)
        for key, name, division, interests in CDE_PEOPLE:
            body = ("Name: %s\nDivision: %s\nExperience level: Supervisor\nInterests: %s\n"
                    "Manager email: %s.mgr@example.org\n"
                    "Division Director email: director.%s@example.org\n"
                    "Project: one tracking number for school construction projects\n"
                    % (name, division, interests, key, division.lower()))
            show_in(key + "@example.org", "Peer coaching application", body)
            # The receiving server vouches for the sender (DMARC pass).
            env.deliver(key + "@example.org", "Peer coaching application", body, to=PC,
                        authenticated=True, name=name)
        mail = step(env, "2027-01-11T09:00")
        for m in pick(mail, kind="approval-request"):
            say(env, recipients(m)[0], "Re: " + m["parsed"]["Subject"], "Yes, agreed.", m)
        mail = step(env, "2027-01-12T09:00")
        digest = pick(mail, COORDINATOR, "digest")[0]
        say(env, COORDINATOR, "Re: digest", "publish", digest)
        step(env, "2027-01-12T10:00")
        cara = "cara@example.org"
        for n, month in enumerate(("2027-02", "2027-03", "2027-04", "2027-05", "2027-06",
                                   "2027-07")):
            day1 = {"2027-05": "2027-05-03"}.get(month, month + "-01")
            mail = step(env, day1 + "T09:00")
            fac = pick(mail, kind="facilitator")
            for m in fac:
                say(env, recipients(m)[0], "Re: " + m["parsed"]["Subject"],
                    "met %s-10 2h" % month, m)
            mail = step(env, month + "-11T09:00" if month not in ("2027-04", "2027-07")
                         else month + "-12T09:00")
            for m in pick(mail, kind="evaluation"):
                who = recipients(m)[0]
                if who == cara and month == "2027-03":
                    continue  # Cara forgets; she is reminded
                say(env, who, "Re: " + m["parsed"]["Subject"],
                    "Attended: yes\nReading done: all\nDiscussion: 4\n"
                    "Team participation: 5\nComments: a good discussion", m)
            step(env, month + "-15T09:00" if month != "2027-05" else month + "-14T09:00")
            if month == "2027-03":
                mail = step(env, "2027-03-16T09:00")
                for m in pick(mail, cara, "evaluation"):
                    say(env, cara, "Re: " + m["parsed"]["Subject"],
                        "Attended: yes\nReading done: some\nDiscussion: 4\n"
                        "Team participation: 4\n", m)
                step(env, "2027-03-17T09:00")
        mail = step(env, "2027-07-19T09:00")
        for m in pick(mail, kind="final-evaluation"):
            say(env, recipients(m)[0], "Re: " + m["parsed"]["Subject"],
                "Overall, the program was useful: 5\nMy team worked well together: 5\n"
                "What should change: more time for the projects", m)
        step(env, "2027-07-20T09:00")
        step(env, "2027-08-02T09:00")
        step(env, "2027-08-16T09:00")
        print("\n=== mentorctl status")
        print(env.ctl("status").stdout)
        print("=== mentorctl report --csv")
        print(env.ctl("report", "--csv").stdout)


def calpers():
    """Three colleagues opt in to informal mentoring, March to May 2027."""
    conf = os.path.join(SOURCE_DIR, "conf/programs/calpers.conf")
    im = "informalmentoring@example.org"
    with Env("demo-calpers", programs=[conf], authserv="mx.test.example") as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        print("Program: %s (templates/calpers/ over templates/)" % conf)
        forms = {}
        for who in (ANA, BOB):
            show_in(who, "Informal mentoring", "Hello, how do I take part?")
            env.deliver(who, "Informal mentoring", "Hello, how do I take part?", to=im)
        for m in step(env, "2027-03-08T09:00"):
            forms[recipients(m)[0]] = m
        say(env, ANA, "Re: how to opt in", "Name: Ana Ruiz\nDivision: Investment Office\n"
            "I can mentor on: Excel pivot tables; public speaking\n"
            "I am looking for help with: project management\n"
            "Anything else: I work Tuesdays from home\n", forms[ANA])
        say(env, BOB, "Re: how to opt in", "Name: Bob Lee\nDivision: Actuarial Office\n"
            "I can mentor on: actuarial basics, SQL\n", forms[BOB])
        cy = "cy@example.org"
        body = "Name: Cy Tran\nDivision: Customer Services\nI am looking for help with: writing board memos\n"
        show_in(cy, "opt in (a new email: the From proves nothing)", body)
        env.deliver(cy, "opt in", body, to=im)
        mail = step(env, "2027-03-08T10:00")
        for m in pick(mail, cy, "confirm"):
            say(env, cy, "Re: " + m["parsed"]["Subject"], "yes", m)
        step(env, "2027-03-08T11:00")
        mail = step(env, "2027-04-01T09:00")
        for m in pick(mail, BOB):
            say(env, BOB, "Re: " + m["parsed"]["Subject"], "stop", m)
        step(env, "2027-04-01T10:00")
        mail = step(env, "2027-04-15T09:00")
        for m in pick(mail, ANA):
            say(env, ANA, "Re: " + m["parsed"]["Subject"],
                "Story: Cy showed me how our customers read our letters.\nMay we share it: yes", m)
        step(env, "2027-04-15T10:00")
        step(env, "2027-05-03T09:00")
        print("\n=== mentorctl status")
        print(env.ctl("status").stdout)


def lausd():
    """Four employees and a survey, January 2027."""
    conf = os.path.join(SOURCE_DIR, "conf/programs/lausd.conf")
    people = [("ann@lausd.example", "Ann Lee", "Food Services"),
              ("bob@lausd.example", "Bob Ray", "Transportation"),
              ("cy@lausd.example", "Cy Tran", "Maintenance"),
              ("dee@lausd.example", "Dee Moss", "Payroll")]
    with Env("demo-lausd", programs=[conf]) as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        print("Program: %s (templates/lausd/ over templates/)" % conf)
        bad = os.path.join(env.dir, "bad.csv")
        with open(bad, "w") as f:
            f.write("email,name,role,division\nann@lausd.example,Ann Lee,employee,Food Services\n"
                    "ANN@lausd.example,Ann Again,employee,Payroll\n,No Address,employee,x\n")
        roster = os.path.join(env.dir, "employees.csv")
        with open(roster, "w") as f:
            f.write("email,name,role,division\n")
            for e, n, d in people:
                f.write("%s,%s,employee,%s\n" % (e, n, d))
        for path in (bad, roster):
            print("\n=== mentorctl roster import %s --program lausd" % os.path.basename(path))
            p = env.ctl("roster", "import", path, "--program", "lausd", expect=None)
            print((p.stdout + p.stderr).rstrip())
        surveys = {recipients(m)[0]: m for m in step(env, "2027-01-11T10:00")}
        form = ("Familiarity: %s\nSupports used: %s\nWhat would help: %s\nFocus group: %s\n")
        say(env, "ann@lausd.example", "Re: survey", form % (4, "training", "a mentor", "no"),
            surveys["ann@lausd.example"])
        say(env, "bob@lausd.example", "Re: survey", form % (2, "none", "a career ladder", "yes"),
            surveys["bob@lausd.example"])
        step(env, "2027-01-12T10:00")
        say(env, "ann@lausd.example", "Re: survey (changed my mind)",
            form % (4, "training", "a mentor", "yes"), surveys["ann@lausd.example"])
        step(env, "2027-01-13T10:00")
        step(env, "2027-01-18T10:00")
        say(env, "dee@lausd.example", "Re: survey (late)", form % (3, "none", "time", "no"),
            surveys["dee@lausd.example"])
        step(env, "2027-02-01T10:00")
        print("\n=== mentorctl status")
        print(env.ctl("status").stdout)
        print("=== mentorctl export answers --form survey")
        print(env.ctl("export", "answers", "--form", "survey").stdout)
        print("=== mentorctl export answers --form survey --where \"Focus group=yes\"")
        print(env.ctl("export", "answers", "--form", "survey", "--where", "Focus group=yes").stdout)


def dol():
    """A cohort of four executives and its sessions, October to November 2027."""
    conf = os.path.join(SOURCE_DIR, "conf/programs/dol.conf")
    people = (("ana@dol.example", "Ana Ruiz", "OSHA"), ("bob@dol.example", "Bob Lee", "ETA"),
              ("cy@dol.example", "Cy Tran", "BLS"), ("dee@dol.example", "Dee Park", "WHD"))
    with Env("demo-dol", programs=[conf], authserv="mx.test.example") as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        print("Program: %s (templates/dol/ over templates/)" % conf)
        roster = os.path.join(env.dir, "roster.csv")
        with open(roster, "w") as f:
            f.write("email,name,role,Agency,Supervisor email\n")
            for addr, name, agency in people:
                f.write("%s,%s,participant,%s,sup.%s\n" % (addr, name, agency, addr))
        print("\n=== mentorctl import people roster.csv --program dol")
        print(env.ctl("import", "people", roster, "--program", "dol").stdout)
        mail = step(env, "2027-10-18T10:00")
        kick = [m for m in mail if "Program launch" in m["parsed"]["Subject"]]
        for m in kick:
            who = recipients(m)[0]
            if who == "ana@dol.example":
                say(env, who, "Re: " + m["parsed"]["Subject"], "Yes, I will attend.", m)
            elif who == "bob@dol.example":
                say(env, who, "Re: " + m["parsed"]["Subject"], "I cannot attend, sorry.", m)
        step(env, "2027-10-20T10:00")
        for args in (("session", "attend", "kickoff", "ana@dol.example", "bob@dol.example",
                      "cy@dol.example"),
                     ("session", "attend", "kickoff", "dee@dol.example", "--absent")):
            print("\n=== mentorctl --now 2027-11-04T17:00 %s" % " ".join(args))
            print(env.ctl("--now", "2027-11-04T17:00", *args).stdout)
        step(env, "2027-11-05T10:00")
        print("\n=== mentorctl status")
        print(env.ctl("--now", "2027-11-05T10:00", "status").stdout)
        print("=== mentorctl session list")
        print(env.ctl("session", "list").stdout)
        print("=== mentorctl report --csv --program dol (first lines)")
        print("\n".join(env.ctl("report", "--csv", "--program", "dol").stdout.splitlines()[:6]))


def dol180():
    """The DOL 180 assessment of one participant, November 2027 to July 2028."""
    conf = os.path.join(SOURCE_DIR, "conf/programs/dol.conf")
    ana, sup = "ana@dol.example", "sup.ana@dol.example"
    fields = ("Strategic thinking", "Leading change", "Developing others", "Communication")

    def form(values, comment=""):
        return "".join("%s: %d\n" % kv for kv in zip(fields, values)) + (
            "Comment: %s\n" % comment if comment else "")

    def request(mail, who, kind):
        return [m for m in mail if who in recipients(m) and m["parsed"]["X-Mentord"] == kind][0]

    with Env("demo-dol180", programs=[conf], authserv="mx.test.example") as env:
        print("Dovecot on 127.0.0.1:%d, SMTP server on 127.0.0.1:%d, work dir %s"
              % (env.dovecot.port, env.sink.port, env.dir))
        roster = os.path.join(env.dir, "roster.csv")
        with open(roster, "w") as f:
            f.write("email,name,role,Agency,Supervisor email\n"
                    "%s,Ana Ruiz,participant,OSHA,%s\n" % (ana, sup))
        print("\n=== mentorctl import people roster.csv --program dol")
        print(env.ctl("import", "people", roster, "--program", "dol").stdout)
        env.run("2027-10-25T10:00")
        env.new_mail()  # the session invitations (tests/demo.sh dol shows them)
        mail = step(env, "2027-11-01T10:00")
        say(env, ana, "Re: 180 assessment", form((2, 3, 2, 3)),
            request(mail, ana, "assessment-pre"))
        say(env, "zed@elsewhere.example", "180 assessment of Ana", form((5, 5, 5, 5)))
        step(env, "2027-11-02T10:00")
        mail = step(env, "2027-11-09T10:00")
        say(env, sup, "Re: 180 assessment", form((3, 3, 2, 4), "A solid start."),
            request(mail, sup, "assessment-pre-supervisor"))
        step(env, "2027-11-10T10:00")
        mail = [m for m in step(env, "2028-07-03T10:00")
                if m["parsed"]["X-Mentord"].startswith("assessment")]
        say(env, ana, "Re: 180 assessment", form((4, 4, 3, 4), "I grew a lot."),
            request(mail, ana, "assessment-post"))
        say(env, sup, "Re: 180 assessment", form((4, 5, 4, 4)),
            request(mail, sup, "assessment-post-supervisor"))
        step(env, "2028-07-05T10:00")
        print("\n=== mentorctl export answers --form assessment --program dol")
        print(env.ctl("export", "answers", "--form", "assessment", "--program", "dol").stdout)


def main(argv):
    program = argv[1] if len(argv) > 1 else "cdss"
    if program == "cdss":
        cdss()
    elif program == "cde":
        cde()
    elif program == "calpers":
        calpers()
    elif program == "lausd":
        lausd()
    elif program == "dol":
        dol()
    elif program == "dol180":
        dol180()
    else:
        sys.stderr.write("usage: tests/demo.sh [cdss|cde|calpers|lausd|dol|dol180]\n")
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
