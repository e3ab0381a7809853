"""The LAUSD classified employee survey (seed 002), a survey run from configuration.

conf/programs/lausd.conf with templates/lausd/ over the shared templates,
on real servers (Dovecot, an SMTP server), with --now stepping through
January 2027 in Los Angeles:

  the HR roster is imported (mentorctl roster import), every row checked
  first -> on the start every employee receives the survey, each email with
  its reader's own reply token -> a reply is recorded once, as the
  reader's; a second reply replaces the first -> "Focus group: yes" puts
  the writer on the coordinators' volunteer list -> who has not answered is
  reminded, until the deadline, never after -> the coordinators' digest
  carries the response rate and the number of volunteers, and so does
  mentorctl status -> the results and the volunteers come out as CSV.

Bad input: a roster with a duplicate address and broken rows (every problem
with its line, nothing imported); an answer after the deadline (kept and
answered with the deadline, not counted: the late answer is not recorded as
a response); a stranger's answer without a token (held for the
coordinator, not counted); an answer with a problem (told what to fix).

Scale and crashes: with fanout_chunk = 50, a roster of 600 is queued in
chunks, each its own commit: another connection gets the write lock in the
middle of the fan-out; mentord is killed (SIGKILL) in the middle and run
again: every employee receives the survey exactly once."""

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

LAUSD_CONF = os.path.join(SOURCE_DIR, "conf/programs/lausd.conf")
PROGRAM = "supportsurvey@example.org"
ANN, BOB, CY, DEE, EVE = ("ann@lausd.example", "bob@lausd.example", "cy@lausd.example",
                          "dee@lausd.example", "eve@lausd.example")
ZED = "zed@elsewhere.example"
ROSTER = [(ANN, "Ann Lee", "Food Services"), (BOB, "Bob Ray", "Transportation"),
          (CY, "Cy Tran", "Maintenance"), (DEE, "Dee Moss", "Payroll"),
          (EVE, "Eve Park", "Library Services")]


def answer(familiarity, volunteer, used="", helps=""):
    s = "Familiarity: %s\n" % familiarity
    if used:
        s += "Supports used: %s\n" % used
    if helps:
        s += "What would help: %s\n" % helps
    if volunteer:
        s += "Focus group: %s\n" % volunteer
    return s


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        f.write("email,name,role,division\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def answers_of(env, email):
    return env.sql("SELECT v.value FROM answers a JOIN people p ON p.id = a.respondent_id "
                   "JOIN answer_values v ON v.answer_id = a.id WHERE p.email = ? "
                   "AND a.form = 'survey' AND v.field = 'Focus group'", email)


def survey_program(t):
    with Env("lausd", programs=[LAUSD_CONF], coordinators=(COORDINATOR,)) as env:
        p = env.run("2027-01-08T10:00-08:00", "--check-config")
        t.check("configuration OK" in p.stdout + p.stderr, "lausd.conf is valid",
                p.stdout + p.stderr)

        # -- the roster: a broken one first --------------------------------
        bad = os.path.join(env.dir, "bad.csv")
        write_csv(bad, [(ANN, "Ann Lee", "employee", "Food Services"),
                        (BOB, "Bob Ray", "employee", "Transportation"),
                        ("ANN@lausd.example", "Ann Again", "employee", "Payroll"),
                        ("", "No Address", "employee", "Payroll"),
                        (CY, "Cy Tran", "teacher", "Maintenance")])
        p = env.ctl("roster", "import", bad, "--program", "lausd", expect=2)
        t.check("bad.csv:4:" in p.stderr and "line 2 too" in p.stderr
                and "bad.csv:5:" in p.stderr and "bad.csv:6:" in p.stderr
                and "nothing imported" in p.stderr,
                "a duplicate address and broken rows are each reported with their line",
                p.stderr)
        t.check(env.sql("SELECT COUNT(*) FROM people")[0][0] == 0
                and env.sql("SELECT COUNT(*) FROM participations")[0][0] == 0,
                "nothing of a broken roster is imported")

        good = os.path.join(env.dir, "roster.csv")
        write_csv(good, [(e, n, "employee", d) for e, n, d in ROSTER])
        p = env.ctl("roster", "import", good, "--program", "lausd")
        t.check("imported 5 people" in p.stdout
                and env.sql("SELECT COUNT(*) FROM participations WHERE program = 'lausd' "
                            "AND status = 'active'")[0][0] == 5,
                "the roster is imported: 5 employees taking part", p.stdout + p.stderr)
        write_csv(good, [(e, "Robert Ray" if e == BOB else n, "employee", d)
                         for e, n, d in ROSTER])
        p = env.ctl("roster", "import", good, "--program", "lausd")
        t.check("changed" in p.stdout and "Robert Ray" in p.stdout
                and env.sql("SELECT name FROM people WHERE email = ?", BOB) == [("Robert Ray",)]
                and env.sql("SELECT COUNT(*) FROM people")[0][0] == 5,
                "importing the roster again updates it (nobody twice)", p.stdout)

        # -- Monday 11 January: the survey goes out ------------------------
        env.run("2027-01-11T10:00-08:00")
        mail = env.new_mail()
        surveys = only(mail, subject="how supported")
        t.check(sorted(r for m in surveys for r in recipients(m)) == sorted(e for e, _, _ in ROSTER)
                and all(len(recipients(m)) == 1 for m in surveys),
                "every employee on the roster receives the survey, one email each",
                summary(mail))
        tokens = set(m["parsed"]["Reply-To"] for m in surveys)
        t.check(len(tokens) == 5 and all("+" in tok for tok in tokens),
                "each email carries its reader's own reply token", "\n".join(tokens))
        b = body_of(surveys[0]).replace("\r\n", "\n") if surveys else ""
        t.check("Focus group (" in b and "Familiarity (" in b and "January 29, 2027" in b
                and "\n\nBefore the District" in b,
                "the survey is the form, with its deadline", b)
        env.run("2027-01-11T15:00-08:00")
        t.check(only(env.new_mail(), subject="how supported") == [],
                "a second run the same day sends nothing again")

        def survey_to(who):
            return only(surveys, who)[0]

        # -- answers by reply; a stranger; a form with a problem -----------
        env.reply(ANN, survey_to(ANN), answer("4", "no", "training", "a mentor"))
        env.reply(BOB, survey_to(BOB), answer("2", "no", "", "career ladder"))
        env.reply(CY, survey_to(CY), answer("3", "", "none", "more time"))
        env.deliver(ZED, "survey", answer("5", "yes"), to=PROGRAM)
        env.run("2027-01-12T10:00-08:00")
        mail = env.new_mail()
        rec = only(mail, ANN, "your answer") + only(mail, BOB, "your answer")
        t.check(len(rec) == 2 and all("Recorded" in body_of(m) for m in rec),
                "answers by reply are recorded and acknowledged", summary(mail))
        t.check(env.sql("SELECT COUNT(*) FROM answers WHERE form = 'survey'")[0][0] == 2,
                "two answers recorded, each once")
        c = only(mail, CY)
        t.check(len(c) == 1 and "Focus group" in body_of(c[0]) and answers_of(env, CY) == [],
                "an answer with a problem is not recorded; the writer is told what to fix",
                body_of(c[0]) if c else summary(mail))
        z = only(mail, ZED)
        held = env.sql("SELECT status, reason FROM messages WHERE from_addr = ?", ZED)
        t.check(len(z) == 1 and "not one of them" in body_of(z[0]) and answers_of(env, ZED) == []
                and held and held[0][0] == "held",
                "a stranger's answer without a token is explained, held, not counted",
                (body_of(z[0]) if z else summary(mail)) + str(held))
        dig = only(mail, COORDINATOR, "digest")
        d = body_of(dig[0]) if dig else ""
        t.check("2 of 5 answered (40.0%)" in d and "Focus group: 0 yes" in d,
                "the digest has the response rate and the number of volunteers", d)
        t.check(ZED in d, "the stranger's answer is in the digest, held", d)

        # -- Ann changes her mind: a second reply replaces the first -------
        env.reply(ANN, survey_to(ANN), answer("5", "yes", "training", "a mentor"))
        env.run("2027-01-13T10:00-08:00")
        mail = env.new_mail()
        a = only(mail, ANN, "your answer")
        t.check(len(a) == 1 and "replaces" in body_of(a[0]),
                "a second reply is recorded as replacing the first",
                body_of(a[0]) if a else summary(mail))
        t.check(answers_of(env, ANN) == [("yes",)]
                and env.sql("SELECT COUNT(*) FROM answers a JOIN people p ON p.id = "
                            "a.respondent_id WHERE p.email = ?", ANN)[0][0] == 1,
                "the later answer replaces the earlier, once", str(answers_of(env, ANN)))
        d = body_of(only(mail, COORDINATOR, "digest")[0]) if only(mail, COORDINATOR, "digest") else ""
        t.check("2 of 5 answered (40.0%)" in d and "Focus group: 1 yes" in d,
                "the correction counts once; the volunteer is counted", d)
        p = env.ctl("status")
        t.check("2 of 5 answered (40.0%)" in p.stdout and "Focus group: 1 yes" in p.stdout,
                "mentorctl status has the response rate", p.stdout)

        # -- Monday 18 January: reminders to who has not answered ----------
        env.run("2027-01-18T10:00-08:00")
        mail = env.new_mail()
        rem = only(mail, subject="reminder")
        t.check(sorted(r for m in rem for r in recipients(m)) == sorted([CY, DEE, EVE]),
                "who has not answered is reminded, not who has", summary(mail))
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-generated" for m in rem),
                "reminders are Auto-Submitted: auto-generated")
        env.run("2027-01-18T15:00-08:00")
        t.check(only(env.new_mail(), subject="reminder") == [], "and not twice the same day")
        env.reply(DEE, only(rem, DEE)[0], answer("1", "yes", "", "knowing what exists"))
        env.run("2027-01-19T10:00-08:00")
        env.new_mail()
        env.run("2027-01-25T10:00-08:00")
        mail = env.new_mail()
        rem = only(mail, subject="reminder")
        t.check(sorted(r for m in rem for r in recipients(m)) == sorted([CY, EVE]),
                "the second reminder goes to who still has not answered", summary(mail))

        # -- after the deadline --------------------------------------------
        env.run("2027-02-01T10:00-08:00")
        mail = env.new_mail()
        t.check(only(mail, subject="reminder") == [] and only(mail, subject="how supported") == [],
                "no reminder after the deadline", summary(mail))
        dig = only(mail, COORDINATOR, "digest")
        t.check(not dig, "no survey digest once the survey closed (and nothing waits)",
                summary(mail))
        env.reply(EVE, survey_to(EVE), answer("4", "yes"))
        env.run("2027-02-02T10:00-08:00")
        mail = env.new_mail()
        e = only(mail, EVE)
        t.check(len(e) == 1 and "closed on January 29, 2027" in body_of(e[0])
                and "not counted" in body_of(e[0]) and answers_of(env, EVE) == [],
                "an answer after the deadline is answered with the deadline, not recorded",
                body_of(e[0]) if e else summary(mail))
        t.check(env.sql("SELECT COUNT(*) FROM messages WHERE from_addr = ? AND status = "
                        "'answered'", EVE)[0][0] == 1,
                "the late answer is kept")

        # -- results and volunteers as CSV ---------------------------------
        p = env.ctl("export", "answers", "--form", "survey")
        rows = list(csv.DictReader(p.stdout.splitlines()))
        t.check(sorted(r["email"] for r in rows) == sorted([ANN, BOB, DEE])
                and rows[0].keys() >= {"Familiarity", "Focus group", "What would help"},
                "the results CSV: one row per answer, every field", p.stdout)
        p = env.ctl("export", "answers", "--form", "survey", "--where", "Focus group=yes")
        rows = list(csv.DictReader(p.stdout.splitlines()))
        t.check(sorted(r["email"] for r in rows) == sorted([ANN, DEE])
                and all(r["name"] for r in rows),
                "the volunteer list: who said yes (the corrected answer counts)", p.stdout)
        p = env.ctl("export", "answers", "--form", "survey", "--where", "Shoe size=9",
                    expect=2)
        t.check("Focus group" in p.stderr, "a --where on no field is refused, naming one",
                p.stderr)
        t.check(env.sql("SELECT COUNT(*) FROM outbox GROUP BY key HAVING COUNT(*) > 1") == [],
                "no outbox key twice")

        # -- configuration: what the engine cannot do is refused -----------
        conf = os.path.join(env.dir, "programs", "lausd.conf")
        good_conf = open(conf).read()
        for broken, expect in (
                (good_conf.replace('closes = "2027-01-29"', 'closes = "next friday"'),
                 'closes = "next friday"'),
                (good_conf.replace('closes = "2027-01-29"', 'closes = "2027-01-29"\n\t\tshoes = 3'),
                 "shoes"),):
            with open(conf, "w") as f:
                f.write(broken)
            p = env.run("2027-02-02T10:00-08:00", "--check-config", expect=2)
            t.check(expect in p.stderr and "lausd.conf:" in p.stderr,
                    "refused with file:line: %s" % expect, p.stderr)
        with open(conf, "w") as f:
            f.write(good_conf)
        with open(env.conf) as f:
            main_conf = f.read()
        with open(env.conf, "w") as f:
            f.write("fanout_chunk = 0\n" + main_conf)
        p = env.run("2027-02-02T10:00-08:00", "--check-config", expect=2)
        t.check("fanout_chunk" in p.stderr and "mentord.conf:1" in p.stderr,
                "fanout_chunk = 0 is refused with file:line", p.stderr)
        with open(env.conf, "w") as f:
            f.write(main_conf)


def fanout_crash(t):
    """600 employees, chunks of 50: a write gets in during the fan-out;
    killed in the middle, run again: everyone receives it exactly once."""
    n = 600
    with Env("lausd-fanout", programs=[LAUSD_CONF], conf_extra="fanout_chunk = 50\n") as env:
        roster = os.path.join(env.dir, "roster.csv")
        write_csv(roster, [("e%04d@lausd.example" % i, "Employee %d" % i, "employee", "Payroll")
                           for i in range(n)])
        env.ctl("roster", "import", roster, "--program", "lausd")
        cmd = [env.mentord, "-c", env.conf, "--once", "--now", "2027-01-11T10:00-08:00"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        con = sqlite3.connect(env.db, timeout=10)
        queued, wrote, deadline = 0, False, time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            queued = con.execute("SELECT COUNT(*) FROM outbox WHERE key LIKE "
                                 "'step=survey:%'").fetchone()[0]
            if 0 < queued < n:
                # The write lock is free between chunks: a write of
                # another process (ingest, mentorctl) gets in now.
                try:
                    con.execute("BEGIN IMMEDIATE")
                    got = con.execute("SELECT COUNT(*) FROM outbox WHERE key LIKE "
                                      "'step=survey:%'").fetchone()[0]
                    con.execute("ROLLBACK")
                    wrote = got < n
                except sqlite3.OperationalError:
                    pass
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait()
        queued = con.execute("SELECT COUNT(*) FROM outbox WHERE key LIKE "
                             "'step=survey:%'").fetchone()[0]
        sent = con.execute("SELECT COUNT(*) FROM outbox WHERE status = 'sent'").fetchone()[0]
        con.close()
        t.check(proc.returncode == -signal.SIGKILL and 0 < queued < n and sent == 0,
                "mentord killed in the middle of the fan-out (%d of %d queued, committed "
                "in chunks, none sent yet)" % (queued, n),
                "rc %s, %d sent" % (proc.returncode, sent))
        t.check(wrote, "another connection got the write lock in the middle of the fan-out")
        t.check(queued % 50 == 0, "what was committed is whole chunks of 50", str(queued))
        env.run("2027-01-11T10:30-08:00")
        mail = env.new_mail()
        got = {}
        for m in mail:
            if "how supported" in m["parsed"]["Subject"]:
                for r in recipients(m):
                    got[r] = got.get(r, 0) + 1
        t.check(len(got) == n, "run again: no employee is missed (%d of %d)" % (len(got), n))
        t.check(all(v == 1 for v in got.values()),
                "and no employee receives the survey twice",
                str([k for k, v in got.items() if v > 1][:5]))
        t.check(env.sql("SELECT COUNT(*) FROM outbox WHERE key LIKE 'step=survey:%' "
                        "AND status = 'sent'")[0][0] == n, "every survey email is sent")


def main():
    t = Checker()
    survey_program(t)
    fanout_crash(t)
    t.finish()


if __name__ == "__main__":
    main()
