"""mentorctl import people FILE.csv (issue 12, "Import and export"): a
roster from a spreadsheet.  Checked in the database (people,
participations, contacts, a form's answer corrected), in the audit trail,
and in the mail: an import sends nothing, and the people imported then take
part in a normal cycle (matched, introduced, a meeting reported).  A file
with bad rows imports nothing and names FILE:LINE for each; an unknown
column is refused; --dry-run and a second import change nothing; a failure
half-way leaves nothing half-imported."""

import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import SOURCE_DIR, Checker, Env, recipients  # noqa: E402

ANA, BOB, CARL, DORA = ("ana@example.org", "bob@example.org", "carl@example.org",
                        "dora@example.org")
SAM, RITA = "sam@example.org", "rita@example.org"

ANA_FORM = """Name: Ana Ruiz
Division: Children and Family Services
Classification: Staff Services Manager I
Years as manager: 3
Supervisor email: sam@example.org
Developmental needs: Communication, Conflict Management
Availability: Tuesday mornings
Why do you want to join: I lead a new team and want to learn.
"""

# As a spreadsheet saves it: a byte order mark, CRLF, a quoted name with a
# comma, a doubled quote, a line break inside quotes, the form's own keys
# as headers in another case, competencies in lower case separated by
# semicolons, a blank row, a row of empty cells, an empty column at the end.
ROSTER = ("\ufeffEmail,Name,Role,Years as manager,division,Developmental needs,"
          "Supervisor,capacity,Availability,\r\n"
          "carl@example.org,\"Diaz, Carl\",mentee,2,Adult Programs,"
          "\"communication; decision making\",rita@example.org,,\"Mondays,\r\nafter 2pm\"\r\n"
          "BOB@example.org,\"Bob \"\"Bobby\"\" Lee\",Mentor,15,Children and Family Services,"
          "\"Communication, Decision Making, Developing Others\",,2,\r\n"
          "\r\n"
          "dora@example.org,Dora Kim,mentor,9,Finance,planning and organizing,,,\r\n"
          ",,,,,,,,\r\n"
          "rita@example.org,Rita Moreno,supervisor,,,,,,\r\n"
          "ana@example.org,Ana Ruiz,mentee,,Adult Programs,,,,\r\n")

# One good row (line 2) and a problem on each other line.
BAD = ("email,name,role,level,supervisor,program,\n"
       "zoe@example.org,Zoe,mentee,1,,\n"                       # 2 fine
       "not-an-address,X,mentee,,,\n"                           # 3
       "yan@example.org,Yan,mentro,,,\n"                        # 4
       "xia@example.org,Xia,mentee,75,,\n"                      # 5 level 0-60
       "wu@example.org,Wu,mentee,,wu@example.org,\n"            # 6 own supervisor
       "zoe@example.org,Zoe again,mentor,,,\n"                  # 7 duplicate
       "ana@example.org,Ana,mentor,,,\n"                        # 8 already a mentee
       "val@example.org,Val,supervisor,4,,\n"                   # 9 value for a contact
       "uma@example.org,Uma,mentee,,,nosuch\n"                  # 10 no such program
       "tom@example.org,,,,,\n"                                 # 11 no role
       "sue@example.org,Sue,mentee,1,,cdss,,Smith\n"            # 12 a field too many
       "ron@example.org,Ron,mentee,1,,cdss,x\n")                # 13 untitled column


def snapshot(env):
    con = sqlite3.connect(env.db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


class Ctl:
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


def write(env, name, text, newline=None):
    path = os.path.join(env.dir, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def app(env, email, role):
    rows = env.sql("SELECT a.id, a.status, a.level, a.division, a.topics, a.availability, "
                   "a.capacity, (SELECT s.email FROM people s WHERE s.id = a.supervisor_id), "
                   "p.name FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.role = ? AND a.kind = 'participant'", email, role)
    return rows[0] if rows else None


def check_refused(t, env, ctl):
    """An unknown column, a file with bad rows, a file that is not CSV:
    exit 2, FILE:LINE for each problem, nothing changed."""
    before = snapshot(env)
    path = write(env, "columns.csv", "email,name,role,Classification\nq@example.org,Q,mentee,x\n")
    p = ctl("import", "people", path, expect=2)
    t.check(p.stderr.startswith(path + ":1: unknown column \"Classification\"")
            and "the columns are email, name, role, program" in p.stderr
            and "\"Years as manager\"" in p.stderr and p.stdout == "",
            "an unknown column: exit 2, naming it and the columns accepted", p.stderr)
    path = write(env, "nocol.csv", "email,role\nq@example.org,mentee\n")
    p = ctl("import", "people", path, expect=2)
    t.check("no \"name\" column" in p.stderr, "a missing column is named", p.stderr)

    path = write(env, "bad.csv", BAD)
    p = ctl("import", "people", path, expect=2)
    lines = p.stderr.strip().splitlines()
    where = sorted(set(int(m.group(1)) for m in
                       (re.match(re.escape(path) + r":(\d+): ", ln) for ln in lines) if m))
    t.check(where == list(range(3, 14)),
            "each bad row is named FILE:LINE, the good one is not", p.stderr)
    expect = {3: "is not an email address", 4: "no role \"mentro\" (roles: mentee, mentor",
              5: "not between 0 and 60", 6: "their own supervisor",
              7: "is on line 2 too", 8: "already a mentee in cdss",
              9: "a supervisor is a contact", 10: "no program \"nosuch\"", 11: "no role",
              12: "8 fields, and the header names 7 columns",
              13: "\"x\" in column 7, which has no title"}
    for line, what in sorted(expect.items()):
        t.check(any(ln.startswith("%s:%d: " % (path, line)) and what in ln for ln in lines),
                "line %d: %s" % (line, what), p.stderr)
    t.check(lines[-1].endswith("nothing imported: correct the file and import it again")
            and p.stdout == "", "the last line says nothing was imported", lines[-1:])

    path = write(env, "quote.csv", "email,name,role\nq@example.org,\"Q,mentee\n")
    p = ctl("import", "people", path, expect=2)
    t.check(p.stderr.startswith(path + ":2: a quoted field is never closed"),
            "a file that is not CSV: FILE:LINE", p.stderr)
    path = write(env, "semi.csv", "email;name;role\nq@example.org;Q;mentee\n")
    p = ctl("import", "people", path, expect=2)
    t.check("separated by semicolons" in p.stderr, "a file saved with semicolons is explained",
            p.stderr)
    p = ctl("import", "people", expect=2)
    t.check("usage: mentorctl import people FILE.csv" in p.stderr,
            "import without a file: the usage", p.stderr)
    p = ctl("import", "people", os.path.join(env.dir, "missing.csv"), expect=2)
    t.check("missing.csv" in p.stderr, "a file that cannot be read", p.stderr)
    t.check(snapshot(env) == before, "no refused import changed anything in the database")


def main():
    t = Checker()
    with Env("import", authserv="mx.test.example") as env:
        ctl = Ctl(env, "2026-11-02T09:00")
        # Ana applied by email before the roster came.
        env.deliver(ANA, "application", ANA_FORM, authenticated=True)
        env.run("2026-11-02T08:00")
        mail = env.new_mail()
        t.check(any(ANA in recipients(m) for m in mail), "Ana's application was acknowledged")
        ana_answer = env.sql("SELECT answer_id FROM participations WHERE role = 'mentee'")[0][0]

        check_refused(t, env, ctl)

        roster = write(env, "roster.csv", ROSTER)
        outbox = env.sql("SELECT count(*) FROM outbox")[0][0]
        before = snapshot(env)
        p = ctl("import", "people", roster, "--dry-run")
        t.check(snapshot(env) == before, "--dry-run changes nothing in the database")
        t.check(p.stdout.splitlines()[-1]
                == "would import 5 people: 2 mentees, 2 mentors, 1 supervisor (4 new, 1 "
                "changed); nothing changed (--dry-run)",
                "--dry-run says what the import would do", p.stdout)

        p = ctl("import", "people", roster)
        out = p.stdout.splitlines()
        t.check(out[-1] == "imported 5 people: 2 mentees, 2 mentors, 1 supervisor "
                "(4 new, 1 changed)", "the summary line", p.stdout)
        t.check(any(ln.startswith(roster + ":2: carl@example.org: new mentee, accepted")
                    for ln in out)
                and any(ln.startswith(roster + ":9: ana@example.org: mentee #") and "changed"
                        in ln and "Adult Programs" in ln for ln in out),
                "a line for each person new or changed, with FILE:LINE", p.stdout)

        carl, bob, dora = app(env, CARL, "mentee"), app(env, BOB, "mentor"), app(env, DORA,
                                                                                   "mentor")
        t.check(carl is not None and carl[1:] == (
            "accepted", 2, "Adult Programs", "Communication, Decision Making",
            "Mondays, after 2pm", 1, RITA, "Diaz, Carl"),
            "a mentee: accepted, with what the form binds read as the form reads it", carl)
        t.check(bob is not None and bob[1:] == (
            "active", 15, "Children and Family Services",
            "Communication, Decision Making, Developing Others", None, 2, None, "Bob \"Bobby\" Lee"),
            "a mentor: active, with capacity; the address in lower case", bob)
        t.check(dora is not None and dora[1:] == (
            "active", 9, "Finance", "Planning and Organizing", None, 1, None, "Dora Kim"),
            "a mentor without capacity: the role's (1)", dora)
        ana = app(env, ANA, "mentee")
        t.check(ana is not None and ana[1] == "applied" and ana[3] == "Adult Programs"
                and ana[4] == "Communication, Conflict Management"
                and env.sql("SELECT value FROM answer_values WHERE answer_id = ? AND field = "
                            "'Division'", ana_answer) == [("Adult Programs",)],
                "someone there already keeps their status; the value given replaces theirs, "
                "in their form's answer too", ana)
        t.check(env.sql("SELECT p.name, a.kind, a.role FROM participations a JOIN people p "
                        "ON p.id = a.person_id WHERE p.email = ?", RITA)
                == [("Rita Moreno", "contact", "supervisor")],
                "the supervisor is a contact of the program, with the name given")
        audit = env.sql("SELECT who, action, object, field, old, new FROM audit "
                        "WHERE action = 'import' ORDER BY id")
        t.check(len(audit) == 5 and all(a[0] == "mentorctl (alice)" for a in audit)
                and sum(1 for a in audit if a[3] is None) == 4
                and ("Division", "Children and Family Services", "Adult Programs")
                in [a[3:] for a in audit]
                and any(a[5].startswith("rita@example.org: supervisor in cdss") for a in audit),
                "an audit row for each person registered and each value changed", audit)
        t.check(env.sql("SELECT count(*) FROM outbox")[0][0] == outbox,
                "the import queued no email")
        env.run("2026-11-02T10:00")
        imported = {CARL, BOB, RITA, ANA}
        mail = env.new_mail()
        t.check(not any(imported & set(recipients(m)) for m in mail),
                "nobody imported is emailed at the next cycle",
                [(m["parsed"]["Subject"], recipients(m)) for m in mail])

        before = snapshot(env)
        p = ctl("import", "people", roster)
        t.check(p.stdout.splitlines() == [
            roster + ":9: ana@example.org: mentee #%d stays applied: an import changes no "
            "status (see mentorctl applications)" % ana[0],
            "imported 0 people; 5 already there, unchanged"]
                and snapshot(env) == before,
                "the same file again changes nothing (no audit row either)", p.stdout)

        # A failure half-way: nothing half-imported.
        con = sqlite3.connect(env.db)
        con.execute("CREATE TRIGGER fail_import BEFORE INSERT ON people WHEN "
                    "NEW.email = 'yves@example.org' BEGIN SELECT RAISE(ABORT, 'disk on fire'); "
                    "END")
        con.commit()
        con.close()
        half = write(env, "half.csv", "email,name,role\nxavier@example.org,Xavier,mentee\n"
                     "yves@example.org,Yves,mentor\n")
        before = snapshot(env)
        p = ctl("import", "people", half, expect=1)
        t.check("disk on fire" in p.stderr and half + ":3:" in p.stderr
                and "nothing imported" in p.stderr and snapshot(env) == before,
                "a failure on the last row: exit 1, and the rows before it are not imported",
                p.stderr)
        env.sql("DROP TRIGGER fail_import")

        # The people imported take part: matched, introduced, a meeting.
        ctl.now = "2026-11-03T09:00"
        p = ctl("match", CARL, BOB)
        env.run("2026-11-03T09:01")
        mail = env.new_mail()
        intro = [m for m in mail if "meet your mentor" in m["parsed"]["Subject"].lower()]
        t.check(sorted(r for m in intro for r in recipients(m)) == [BOB, CARL],
                "the imported mentee and mentor are matched and both introduced",
                [(m["parsed"]["Subject"], recipients(m)) for m in mail])
        t.check(not any(RITA in recipients(m) for m in mail),
                "the supervisor is told nothing of the partnership")
        if intro:
            env.reply(CARL, [m for m in intro if CARL in recipients(m)][0], "met 2026-11-05 90m")
            env.run("2026-11-06T09:00")
            t.check(env.sql("SELECT date, minutes FROM events WHERE kind = 'meeting'")
                    == [("2026-11-05", 90)], "the imported mentee reports a meeting")

    check_programs(t)
    t.finish()


def check_programs(t):
    """Two programs: a file without a program column needs --program; a
    roster of CDE members."""
    programs = [os.path.join(SOURCE_DIR, "conf/programs/cdss.conf"),
                os.path.join(SOURCE_DIR, "conf/programs/cde.conf")]
    with Env("import-programs", programs=programs) as env:
        ctl = Ctl(env, "2026-11-02T09:00")
        path = write(env, "cde.csv", "email,name,role,division\n"
                     "kim@example.org,Kim Lo,member,Finance\n"
                     "lee@example.org,Lee Ng,member,Audits\n")
        p = ctl("import", "people", path, expect=2)
        t.check("give --program P, or a program column" in p.stderr,
                "two programs and no program column: --program is asked for", p.stderr)
        p = ctl("import", "people", path, "--program", "cde")
        t.check(p.stdout.splitlines()[-1] == "imported 2 people: 2 members (2 new, 0 changed)"
                and env.sql("SELECT program, role, status, division FROM participations "
                            "ORDER BY id") == [("cde", "member", "accepted", "Finance"),
                                               ("cde", "member", "accepted", "Audits")],
                "--program cde: members accepted, waiting for a team", p.stdout)
        path = write(env, "both.csv", "program,email,name,role\n"
                     "cdss,kim@example.org,Kim Lo,mentor\n")
        ctl("import", "people", path)
        t.check(app(env, "kim@example.org", "mentor")[1] == "active",
                "the program column names a row's program")
        path = write(env, "sam.csv", "E-mail,name,role,program\n"
                     "sam@example.org,Sam Boss,Supervisor,cdss\n"
                     "sam@example.org,Sam Boss,mentor,cdss\n")
        ctl("import", "people", path)
        t.check(env.sql("SELECT a.role, a.kind FROM participations a JOIN people p ON "
                        "p.id = a.person_id WHERE p.email = ? ORDER BY a.id", SAM)
                == [("supervisor", "contact"), ("mentor", "participant")],
                "a supervisor who mentors: a contact and a mentor, from two rows")


if __name__ == "__main__":
    main()
