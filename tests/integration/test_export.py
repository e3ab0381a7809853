"""Issue 12: the reports count evaluations, mentorctl export, and the
weekly health summary to the coordinators, on real servers.

A CDSS class (conf/programs/cdss.conf, ending 2027-01-30 so that the
mid-point evaluation is requested on 2026-12-16) with two partnerships:
Ana and Bob meet twice a month and both send the mid-point evaluation (with
confidential comments); Cat and Dan never meet nor answer.  The program has
a step with effect = "health" every Monday.  mentord runs each morning
from 2 November to 31 December, and again each Monday afternoon.

Checked: one health email a week to the coordinator (not two on a second
run the same week), its counts (active, on track, needing a check-in,
evaluations due, failed and held mail) and its CSV attachment's rows;
mentorctl report's evaluation counts; each mentorctl export parsed with the
csv module and compared with the database; the applications export has the
fields the join form lets the coordinator see and no other; no evaluation
comment or meeting note in any export, report or health email; a health
step misconfigured is refused with file:line."""

import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

ANA, BOB, CAT, DAN = ("ana@example.org", "bob@example.org", "cat@example.org",
                      "dan@example.org")
WHY = "I lead a new team and want to learn confidential-why-text."
SECRET_EVAL = "my-partner-is-always-late-secret-eval"
SECRET_BOB = "bob-private-comment-secret-eval"
SECRET_NOTE = "we-discussed-my-difficult-director-secret-note"
SECRETS = (SECRET_EVAL, SECRET_BOB, SECRET_NOTE, WHY)

# A bounce tied to no email mentord sent: held for the coordinator.
STRAY_BOUNCE = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
                b"To: mentoring@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
                b"Message-ID: <stray-bounce-1@mx.example.org>\r\n"
                b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: text/plain\r\n\r\n"
                b"Your message to someone@elsewhere.example could not be delivered.\r\n")

HEALTH_STEP = """
	# The coordinators' weekly health summary, with the report attached.
	step health {
		every = "week"
		day = 1
		to = "coordinators"
		effect = "health"
	}
}
"""


def form(name, supervisor):
    return ("Name: %s\nDivision: Children and Family Services\n"
            "Classification: Staff Services Manager I\nYears as manager: 3\n"
            "Supervisor email: %s\nDevelopmental needs: Communication, Decision Making\n"
            "Availability: Tuesday mornings\nWhy do you want to join: %s\n"
            % (name, supervisor, WHY))


def program_conf(path, extra_step=HEALTH_STEP):
    """cdss.conf with an earlier end, the health step, and the questionnaire's
    motivation kept from the coordinator (visible_to = nobody)."""
    with open(os.path.join(SOURCE_DIR, "conf/programs/cdss.conf")) as f:
        text = f.read()
    text = text.replace('end = "2027-07-30"', 'end = "2027-01-30"')
    text = text.replace('			aliases = {"Why"}\n',
                        '			aliases = {"Why"}\n			visible_to = {"nobody"}\n', 1)
    assert 'visible_to = {"nobody"}' in text and '"2027-01-30"' in text
    text = text.rstrip()
    assert text.endswith("}")
    text = text[:-1] + extra_step
    with open(path, "w") as f:
        f.write(text)


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def all_text(msg):
    """Every part of a message, decoded."""
    out = []
    for part in msg["parsed"].walk():
        if part.is_multipart():
            continue
        c = part.get_content()
        out.append(c.decode("utf-8", "replace") if isinstance(c, bytes) else c)
    return "\n".join(out)


def csv_attachment(msg):
    atts = [p for p in msg["parsed"].iter_attachments()]
    if len(atts) != 1 or atts[0].get_content_type() != "text/csv":
        return None, None
    c = atts[0].get_content()
    if isinstance(c, bytes):
        c = c.decode("utf-8")
    return atts[0].get_filename(), list(csv.DictReader(io.StringIO(c)))


def ctl(env, now, *args, expect=0):
    p = subprocess.run([env.mentorctl, "-c", env.conf, "--now", now] + list(args),
                       capture_output=True, text=True, timeout=60)
    Env.check_sanitizers(p)
    if p.returncode != expect:
        raise AssertionError("mentorctl %s exited %d\n%s%s" % (args, p.returncode, p.stdout,
                                                               p.stderr))
    return p


def export(env, now, what, *args):
    p = ctl(env, now, "export", what, *args)
    return p.stdout, list(csv.DictReader(io.StringIO(p.stdout)))


def check_refused(t):
    """effect = "health" needs a weekly step to the coordinators."""
    with Env("export-bad") as env:
        bad = os.path.join(env.dir, "bad.conf")
        program_conf(bad, HEALTH_STEP.replace('"week"', '"month"'))
        shutil.copy(bad, os.path.join(env.dir, "programs", "cdss.conf"))
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"],
                           capture_output=True, text=True, timeout=60)
        t.check(p.returncode == 2 and re.search(r"cdss\.conf:\d+: step health: effect = "
                                                r"\"health\"", p.stderr),
                "a health step that is not weekly is refused with file:line", p.stderr)
        program_conf(bad, HEALTH_STEP.replace('effect = "health"', 'effect = "healthy"'))
        shutil.copy(bad, os.path.join(env.dir, "programs", "cdss.conf"))
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"],
                           capture_output=True, text=True, timeout=60)
        t.check(p.returncode == 2 and re.search(r"cdss\.conf:\d+:.*\"healthy\" is unknown",
                                                p.stderr),
                "an unknown effect is refused with file:line", p.stderr)


def main():
    t = Checker()
    check_refused(t)
    # Cat's supervisor's address does not exist: the notice to her fails.
    with Env("export", authserv="mx.test.example",
             smtp_options={"fail_rcpt": {"sue@example.org": 550}}) as env:
        program_conf(os.path.join(env.dir, "programs", "cdss.conf"))
        now = "2026-11-02T09:00"
        for who, first, last in ((BOB, "Bob", "Lee"), (DAN, "Dan", "Ng")):
            ctl(env, now, "mentor", "add", who, first, last, "--strengths", "Communication")
        env.deliver(ANA, "application", form("Ana Ruiz", "sam@example.org"), authenticated=True)
        env.deliver(CAT, "application", form("Cat Wu", "sue@example.org"), authenticated=True)
        env.run("2026-11-02T10:00")
        apps = dict(env.sql("SELECT p.email, a.id FROM participations a JOIN people p "
                            "ON p.id = a.person_id WHERE a.program = 'cdss'"))
        ctl(env, "2026-11-03T09:00", "match", str(apps[ANA]), str(apps[BOB]))
        ctl(env, "2026-11-03T09:00", "match", str(apps[CAT]), str(apps[DAN]))
        env.run("2026-11-03T09:01")
        groups = dict(env.sql("SELECT p.email, gm.group_id FROM group_members gm JOIN "
                              "participations a ON a.id = gm.participation_id JOIN people p "
                              "ON p.id = a.person_id"))
        g1, g2 = groups[ANA], groups[CAT]
        intro = only(env.sent(), ANA, "mentor")
        t.check(g1 != g2 and groups[BOB] == g1 and groups[DAN] == g2 and intro,
                "two partnerships: Ana with Bob, Cat with Dan", summary(env.sent()))

        day = datetime.date(2026, 11, 4)
        asked = {}
        while day <= datetime.date(2026, 12, 31):
            iso = day.isoformat()
            # Ana and Bob meet twice a month; one report by email with notes.
            if iso in ("2026-11-10", "2026-12-03"):
                ctl(env, iso + "T08:00", "meeting", "add", str(g1), iso, "60")
            if iso == "2026-11-21":
                env.reply(ANA, intro[0], "Meeting date: 2026-11-20\nDuration: 1 hour\n"
                          "Notes: %s\n" % SECRET_NOTE)
            if iso == "2026-12-10":
                env.deliver_raw(STRAY_BOUNCE)
            if iso == "2026-12-09":
                ctl(env, iso + "T08:00", "meeting", "add", str(g1), "2026-12-08", "45")
            if iso == "2026-12-17":
                for who, secret in ((ANA, SECRET_EVAL), (BOB, SECRET_BOB)):
                    env.reply(who, asked[who], "Overall, the partnership was useful: 4\n"
                              "Comments: %s\n" % secret)
            env.run(iso + "T09:00")
            if iso == "2026-12-16":
                for who in (ANA, BOB, CAT, DAN):
                    reqs = only(env.sent(), who, "evaluation (mid)")
                    asked[who] = reqs[0] if reqs else None
                t.check(all(asked.values()), "on 2026-12-16 each partner is asked for the "
                        "mid-point evaluation", summary(env.sent()[-8:]))
            if day.weekday() == 0:
                env.run(iso + "T15:00")  # a second cycle the same Monday
            day += datetime.timedelta(days=1)
        sent = env.sent()

        # -- the weekly health email --------------------------------------
        health = only(sent, kind="health")
        def week_of(m):
            return re.sub(r" \[ref:\d+\]$", "", m["parsed"]["Subject"]).split("week ")[-1]
        weeks = sorted(week_of(m) for m in health)
        mondays = [datetime.date(2026, 11, 2) + datetime.timedelta(weeks=k) for k in range(9)]
        want = ["%d-W%02d" % d.isocalendar()[:2] for d in mondays]
        t.check(weeks == want and all(recipients(m) == [COORDINATOR] for m in health),
                "one health email a week to the coordinator, W45 to W53 (%d), none twice on a "
                "second run the same Monday" % len(want), summary(health))
        keys = sorted(k for (k,) in env.sql("SELECT key FROM outbox WHERE kind = 'health'"))
        t.check(keys == sorted("health:program=cdss:week=%s" % w for w in want),
                "each is keyed health:program=cdss:week=YYYY-Www", keys)
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-generated" for m in health),
                "each is Auto-Submitted: auto-generated")
        by_week = {week_of(m): m for m in health}
        dec21 = by_week.get("2026-W52")
        text = body_of_plain(dec21) if dec21 else ""

        def count(label):
            m = re.search(r"^%s:\s+(\d+)" % label, text, re.M)
            return int(m.group(1)) if m else None
        got = [count(x) for x in ("Active groups", "On track this month", "Need a check-in",
                                  "Evaluations due", "Failed emails", "Held messages")]
        held = env.sql("SELECT count(*) FROM messages WHERE status IN ('held', 'quarantined') "
                       "AND (program = 'cdss' OR program IS NULL)")[0][0]
        failed = env.sql("SELECT recipients FROM outbox WHERE status = 'failed'")
        t.check(held >= 1 and failed == [("sue@example.org",)],
                "(the stray bounce is held, the notice to Cat's supervisor failed)",
                (held, failed))
        t.check(got == [2, 1, 1, 2, 1, held],
                "week 52: 2 active, 1 on track (Ana and Bob met twice in December), 1 to check "
                "in with (Cat and Dan), 2 evaluations due, 1 failed email, %d held" % held,
                text)
        t.check(re.search(r"#%d Cat Wu with Dan Ng: no meeting reported in 2026-11; "
                          r"2 evaluation\(s\) outstanding" % g2, text)
                and "#%d " % g1 not in text,
                "it names the partnership to check in with, and why", text)
        name, rows = csv_attachment(dec21) if dec21 else (None, None)
        t.check(name == "cdss-report-2026-W52.csv" and rows is not None,
                "the report is attached as text/csv", name)
        rows = rows or []
        dec = {int(r["partnership"]): r for r in rows if r["month"] == "2026-12"}
        t.check(sorted(dec) == sorted([g1, g2]) and len(rows) == 4,
                "the attachment has a row per partnership and month (Nov, Dec)", rows)
        if len(dec) == 2:
            a, c = dec[g1], dec[g2]
            t.check((a["meetings"], a["evaluations_requested"], a["evaluations_received"],
                     a["evaluations_outstanding"]) == ("2", "2", "2", "0")
                    and a["evaluations"] == "evaluation mid: 2 of 2 received",
                    "Ana and Bob's December row: 2 meetings, 2 evaluations asked and received",
                    a)
            t.check((c["meetings"], c["evaluations_requested"], c["evaluations_received"],
                     c["evaluations_outstanding"]) == ("0", "2", "0", "2"),
                    "Cat and Dan's December row: no meeting, 2 evaluations outstanding", c)
        w49 = by_week.get("2026-W49")
        t.check(w49 is not None and "Evaluations due:          0" in body_of_plain(w49),
                "before the mid-point no evaluation is due", w49 and body_of_plain(w49))
        leaks = [(m["parsed"]["Subject"], s) for m in sent for s in SECRETS
                 if s in all_text(m) and COORDINATOR in recipients(m)]
        t.check(leaks == [], "no evaluation comment, meeting note or hidden answer reaches the "
                "coordinator in any email", leaks)

        # -- mentorctl report counts evaluations ---------------------------
        now = "2026-12-31T12:00"
        rep = json.loads(ctl(env, now, "report", "--json").stdout)
        dj = {r["partnership"]: r for r in rep if r["month"] == "2026-12"}
        t.check(dj.get(g1, {}).get("evaluations_received") == 2
                and dj.get(g2, {}).get("evaluations_outstanding") == 2
                and dj.get(g2, {}).get("evaluations") == "evaluation mid: 0 of 2 received",
                "report --json counts evaluations per partnership and month", dj)
        plain = ctl(env, now, "report", "--csv").stdout.splitlines()
        t.check(plain[0] == "program,partnership,mentee,mentor,status,month,meetings,minutes,"
                "required", "report --csv keeps the columns of earlier releases", plain[0])
        out = ctl(env, now, "report", "--csv", "--evaluations").stdout
        rc = list(csv.DictReader(io.StringIO(out)))
        t.check([(r["partnership"], r["month"], r["evaluations_requested"],
                  r["evaluations_received"], r["evaluations_outstanding"]) for r in rc]
                == [(str(g1), "2026-11", "0", "0", "0"), (str(g1), "2026-12", "2", "2", "0"),
                    (str(g2), "2026-11", "0", "0", "0"), (str(g2), "2026-12", "2", "0", "2")],
                "report --csv --evaluations: requested, received, outstanding", out)
        text = ctl(env, now, "report").stdout
        t.check("EVAL ASKED" in text.splitlines()[0], "the report table shows them", text)

        # -- exports -------------------------------------------------------
        raw_all = ""
        raw, apps_csv = export(env, now, "applications")
        raw_all += raw
        db = env.sql("SELECT a.id, a.program, a.role, a.status, p.email, a.availability "
                     "FROM participations a JOIN people p ON p.id = a.person_id "
                     "WHERE a.kind = 'participant' ORDER BY a.id")
        t.check([(int(r["id"]), r["program"], r["role"], r["status"], r["email"])
                 for r in apps_csv] == [d[:5] for d in db],
                "export applications: one row per participation, as the database has it",
                (apps_csv, db))
        ana = [r for r in apps_csv if r["email"] == ANA]
        t.check(ana and ana[0].get("Availability") == "Tuesday mornings"
                and ana[0].get("Developmental needs") == "Communication, Decision Making"
                and [r["Strengths"] for r in apps_csv if r["email"] == BOB] == ["Communication"]
                and "Why do you want to join" not in ana[0],
                "the fields the form shows the coordinator are columns; the one it keeps "
                "from the coordinator (visible_to = nobody) is not", ana)
        raw, people = export(env, now, "people", "--program", "cdss")
        raw_all += raw
        dbp = env.sql("SELECT DISTINCT p.id, p.email FROM people p JOIN participations a "
                      "ON a.person_id = p.id WHERE a.program = 'cdss' AND a.kind = 'participant' "
                      "ORDER BY p.id")
        t.check([(int(r["id"]), r["email"]) for r in people] == dbp
                and all(r["deliverable"] == "yes" for r in people)
                and [r["roles"] for r in people if r["email"] == ANA] == ["cdss mentee (matched)"],
                "export people --program cdss: those who hold a role in it, with their roles",
                (people, dbp))
        raw, grows = export(env, now, "groups")
        raw_all += raw
        dbg = env.sql("SELECT g.id, g.status, (SELECT count(*) FROM events e WHERE "
                      "e.group_id = g.id AND e.kind = 'meeting') FROM groups g ORDER BY g.id")
        t.check([(int(r["id"]), r["status"], int(r["meetings"])) for r in grows] == dbg
                and [r["emails"] for r in grows] == ["%s; %s" % (ANA, BOB),
                                                     "%s; %s" % (CAT, DAN)],
                "export groups: each partnership, members and meetings as in the database",
                (grows, dbg))
        raw, evs = export(env, now, "evaluations")
        raw_all += raw
        dbe = env.sql("SELECT p.email, (SELECT count(*) FROM answers a WHERE a.respondent_id = "
                      "p.id AND a.form = 'evaluation' AND a.round = 'mid') FROM people p "
                      "WHERE p.email IN (?, ?, ?, ?) ORDER BY p.email", ANA, BOB, CAT, DAN)
        t.check(sorted((r["email"], r["form"], r["round"], r["requested"], r["received"],
                        r["outstanding"]) for r in evs)
                == sorted((e, "evaluation", "mid", "1", str(n), str(1 - n)) for e, n in dbe)
                and len(dbe) == 4 and sum(n for _, n in dbe) == 2,
                "export evaluations: per member, form and round, requested and received as "
                "the outbox and answers tables have them", (evs, dbe))
        t.check({r["group"] for r in evs} == {str(g1), str(g2)}
                and list(evs[0].keys()) == ["program", "group", "person", "email", "name",
                                            "form", "round", "requested", "received",
                                            "outstanding"],
                "counts only: no column for an answer", list(evs[0].keys()) if evs else evs)
        js = json.loads(ctl(env, now, "export", "evaluations", "--json").stdout)
        t.check(len(js) == 4 and all(isinstance(r["requested"], int) for r in js),
                "export --json gives the same rows, numbers as numbers", js)
        raw_all += json.dumps(js) + ctl(env, now, "report", "--json").stdout + out
        t.check(not any(s in raw_all for s in SECRETS),
                "no evaluation comment, meeting note or hidden answer in any export or report",
                [s for s in SECRETS if s in raw_all])
        t.check(env.sql("SELECT count(*) FROM answer_values WHERE value LIKE '%secret-eval%'")
                [0][0] == 2, "(the comments are in the database: they were left out, not lost)")
        p = ctl(env, now, "export", "secrets", expect=2)
        t.check("usage: mentorctl export" in p.stderr and "applications, people" in p.stderr,
                "an unknown export is refused with the usage", p.stderr)
        ctl(env, now, "export", expect=2)
        ctl(env, now, "export", "people", "--program", "nosuch", expect=2)
        quoted = [r for r in apps_csv if "," in r.get("Developmental needs", "")]
        t.check(quoted and '"Communication, Decision Making"' in export(env, now,
                                                                          "applications")[0],
                "a value with a comma is quoted (RFC 4180)")
    t.finish()


def body_of_plain(msg):
    if msg["parsed"].is_multipart():
        return msg["parsed"].get_body(("plain",)).get_content()
    return body_of(msg)


if __name__ == "__main__":
    main()
