"""A CDSS database made by the release before the program engine (ede8178,
schema version 2) carried over by today's mentord with nothing lost.

tests/fixtures/cdss-v2.sql is that release's database after a CDSS class
ran from November to mid-December 2026 (tests/fixtures/make-cdss-v2.py says
what it holds and how it was made); cdss-v2.mentorctl.txt is what that
release's mentorctl showed of it.  The dump is loaded into a fresh
database, today's mentord runs on it with the CDSS configuration on real
servers, and the test checks that every application, match, meeting,
evaluation, email and message is still there under the engine's names and
ids, that mail already sent is not sent again, that replies to the old
release's emails still reach their thread, and that mentorctl shows the
same program."""

import email
import email.policy
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

FIXTURE = os.path.join(SOURCE_DIR, "tests/fixtures/cdss-v2.sql")
SHOWN = os.path.join(SOURCE_DIR, "tests/fixtures/cdss-v2.mentorctl.txt")
# The old release's hmac_secret: its emails' reply tokens are signed with it.
SECRET = "cdss-v2-fixture-secret-0123456789"
ANA, BOB, IVY, EVE, FAY, CY = ("ana@example.org", "bob@example.org", "ivy@example.org",
                               "eve@example.org", "fay@example.org", "cy@example.org")


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def old_shown():
    """The old mentorctl's outputs, by command."""
    shown, name = {}, None
    with open(SHOWN) as f:
        for line in f:
            if line.startswith("== "):
                name = line[3:].strip()
                shown[name] = ""
            elif name is not None:
                shown[name] += line
    return shown


def table(text):
    """A mentorctl table as rows of words (the header dropped)."""
    return [line.split() for line in text.splitlines()[1:] if line.strip()]


def status_counts(text):
    """mentorctl status as {what: number}, whatever the wording around it."""
    counts = {}
    for line in text.splitlines():
        head, _, rest = line.strip().partition(":")
        for part in rest.split(","):
            words = part.split()
            if words and words[-1].isdigit():  # "applied 1"
                counts[" ".join([head] + words[:-1])] = int(words[-1])
            elif words and words[0].isdigit():  # "2 held"
                counts[" ".join([head] + words[1:])] = int(words[0])
    return counts


def old_email(env, outbox_id):
    """An email the old release sent, as the participant's mail client has
    it (what env.reply answers): the bytes it kept in the outbox."""
    data = env.sql("SELECT data FROM outbox WHERE id = ?", outbox_id)[0][0]
    return {"parsed": email.message_from_bytes(bytes(data), policy=email.policy.default)}


def expected_key(key):
    """The key the engine gives an old release's email (store.c 2 -> 3)."""
    for old, new in (("meeting-reminder:match=", "step=reminder:group="),
                     ("cadence-followup:program=", "step=followup:program="),
                     ("digest:program=", "step=digest:program="),
                     ("introduction:match=", "introduction:group="),
                     ("mentor-welcome:application=", "welcome:participation=")):
        if key.startswith(old):
            return new + key[len(old):]
    return key


def main():
    t = Checker()
    with open(FIXTURE) as f:
        dump = f.read()
    old = sqlite3.connect(":memory:")
    old.executescript(dump)
    t.check(old.execute("PRAGMA user_version").fetchone()[0] == 2,
            "the fixture is a schema version 2 database")
    apps = old.execute("SELECT id, program, person_id, role, status, division, classification, "
                       "years_manager, supervisor_email, competencies, availability, motivation, "
                       "capacity, answers, created_at, decided_at, note FROM applications "
                       "ORDER BY id").fetchall()
    matches = old.execute("SELECT id, program, mentee_app, mentor_app, status, created_at, "
                          "ended_at, end_reason FROM matches ORDER BY id").fetchall()
    meetings = old.execute("SELECT id, match_id, date, minutes, reported_by, message_row, "
                           "created_at FROM meetings ORDER BY id").fetchall()
    evaluations = old.execute("SELECT match_id, person_id, message_row, answers, created_at "
                              "FROM evaluations ORDER BY id").fetchall()
    outbox = old.execute("SELECT id, key, kind, recipients, person_id, thread_type, thread_ref, "
                         "message_id, status, sent_at FROM outbox ORDER BY id").fetchall()
    messages = old.execute("SELECT id, message_id, from_addr, status, reason, raw FROM messages "
                           "ORDER BY id").fetchall()
    people = old.execute("SELECT id, email, name FROM people ORDER BY id").fetchall()
    old.close()
    t.check(len(apps) == 9 and len(matches) == 3 and len(meetings) == 3 and len(evaluations) == 1
            and {a[4] for a in apps} >= {"applied", "accepted", "pool", "declined", "matched",
                                         "active"}
            and any(a[3] == "mentor" and a[12] == 2 for a in apps)
            and {m[4] for m in matches} == {"active", "ended"}
            and any(k.startswith("meeting-reminder:match=") for k in (o[1] for o in outbox))
            and any(m[3] == "held" for m in messages),
            "the fixture holds what the test is about (statuses, capacity 2, an ended match, "
            "reminders, held messages)")

    with Env("migrate", conf_extra='hmac_secret = "%s"\n' % SECRET) as env:
        con = sqlite3.connect(env.db)
        con.executescript(dump)
        con.close()

        # -- 15 December, 10:00: the first cycle of today's mentord -----------
        # The old release sent December's reminders, November's follow-up
        # and today's digest this morning: none may go again.
        p = env.run("2026-12-15T10:00")
        t.check("migrated to version 3" in p.stderr, "mentord migrates the database", p.stderr)
        t.check("migrated to version 4" in p.stderr
                and env.sql("PRAGMA user_version")[0][0] == 4
                and env.sql("SELECT count(*) FROM audit")[0][0] == 0,
                "the schema is version 4 (3 -> 4: an empty audit table)", p.stderr)
        mail = env.new_mail()
        t.check(mail == [], "a reminder, follow-up or digest the old release sent is not sent "
                "again", summary(mail))

        # -- applications are participations ---------------------------------
        for (aid, program, person, role, status, division, classification, years, sup,
             topics, avail, motivation, capacity, answers, created, decided, note) in apps:
            row = env.sql("SELECT program, person_id, role, kind, status, division, level, "
                          "topics, availability, capacity, created_at, decided_at, note, "
                          "(SELECT email FROM people WHERE id = supervisor_id), answer_id "
                          "FROM participations WHERE id = ?", aid)
            want_status = "active" if role == "mentor" and status in ("accepted", "matched") \
                else status
            want = (program, person, role, "participant", want_status, division, years, topics,
                    avail, capacity or 0, created, decided, note,
                    sup.lower() if sup else None)
            t.check(row and row[0][:14] == want,
                    "application #%d is participation #%d (%s, %s)" % (aid, aid, role, want_status),
                    "%s\nwanted %s" % (row, want))
            if not row:
                continue
            values = dict(env.sql("SELECT field, value FROM answer_values WHERE answer_id = ?",
                                  row[0][14]))
            form = env.sql("SELECT form, summary, respondent_id FROM answers WHERE id = ?",
                           row[0][14])
            t.check(form and form[0] == ("mentor" if role == "mentor" else "application", answers,
                                         person)
                    and values.get("Classification") == classification
                    and values.get("Why do you want to join") == motivation,
                    "application #%d keeps its form (classification, motivation, answers)" % aid,
                    "%s %s" % (form, values))
        sups = env.sql("SELECT p.email FROM participations a JOIN people p ON p.id = a.person_id "
                       "WHERE a.role = 'supervisor' AND a.kind = 'contact' AND a.status = 'active'")
        t.check(sorted(s[0] for s in sups) == sorted({a[8].lower() for a in apps if a[8]}),
                "every supervisor is a person with a supervisor contact role, once", sups)
        t.check(env.sql("SELECT id, email, name FROM people WHERE id <= ? ORDER BY id",
                        people[-1][0]) == people, "every person keeps their id, address and name")

        # -- matches are groups ----------------------------------------------
        for mid, program, mentee, mentor, status, created, ended, reason in matches:
            g = env.sql("SELECT program, kind, status, created_at, ended_at, end_reason "
                        "FROM groups WHERE id = ?", mid)
            members = env.sql("SELECT participation_id, role FROM group_members "
                              "WHERE group_id = ? ORDER BY position", mid)
            t.check(g == [(program, "pair", status, created, ended, reason)]
                    and members == [(mentee, "mentee"), (mentor, "mentor")],
                    "match #%d is pair #%d (%s) with the same mentee and mentor" % (mid, mid, status),
                    "%s %s" % (g, members))
        t.check(env.sql("SELECT count(*) FROM groups")[0][0] == len(matches), "no other group")

        # -- meetings are events; the evaluation an answer ---------------------
        events = env.sql("SELECT id, group_id, date, minutes, reported_by, message_row, created_at "
                         "FROM events WHERE kind = 'meeting' ORDER BY id")
        t.check(events == meetings, "every meeting is a meeting event (ids, partnership, date, "
                "minutes, reporter)", events)
        ans = env.sql("SELECT group_id, respondent_id, message_row, summary, created_at FROM answers "
                      "WHERE form = 'evaluation' ORDER BY id")
        t.check(ans == evaluations, "the evaluation is an answer to form evaluation, about its "
                "partnership, with its text", ans)

        # -- the outbox and the messages -------------------------------------
        rows = env.sql("SELECT id, key, kind, recipients, person_id, thread_type, thread_ref, "
                       "message_id, status, sent_at FROM outbox WHERE id <= ? ORDER BY id",
                       outbox[-1][0])
        want = [(o[0], expected_key(o[1])) + o[2:5]
                + ("group" if o[5] == "match" else o[5],) + o[6:] for o in outbox]
        t.check(rows == want, "every email sent keeps its row, Message-ID and status; scheduled "
                "ones carry the engine's keys",
                "\n".join("%s\n  wanted %s" % (r, w) for r, w in zip(rows, want) if r != w))
        kept = env.sql("SELECT m.id, m.message_id, m.from_addr, m.status, m.reason, r.raw "
                       "FROM messages m JOIN message_raw r ON r.id = m.id WHERE m.id <= ? "
                       "ORDER BY m.id", messages[-1][0])
        t.check(kept == messages, "every message keeps its result and raw bytes (held ones held)",
                [k[:5] for k in kept])

        # -- mentorctl shows the same program --------------------------------
        shown = old_shown()
        now = ["--now", "2026-12-15T12:00"]
        report = env.ctl(*now, "report", "--csv").stdout
        t.check(report == shown["report"], "report --csv is the old release's, row for row",
                "%s\nold:\n%s" % (report, shown["report"]))
        listed = table(env.ctl(*now, "applications").stdout)
        t.check(listed == table(shown["applications"]),
                "mentorctl applications lists the same people, ids, roles and statuses", listed)
        # ID PROGRAM KIND STATUS MEMBERS ("A with B") MEETINGS, where the
        # old release had ID PROGRAM STATUS MENTEE MENTOR MEETINGS.
        m_new = [[r[0], r[1], r[3], " ".join(w for w in r[4:-1] if w != "with")]
                 for r in table(env.ctl(*now, "matches").stdout)]
        m_old = [[r[0], r[1], r[2], " ".join(r[3:-1])] for r in table(shown["matches"])]
        t.check(m_new == m_old, "mentorctl matches lists the same partnerships",
                "%s\n%s" % (m_new, m_old))
        st_new = status_counts(env.ctl(*now, "status").stdout)
        st_old = status_counts(shown["status"])
        same = ["mentees applied", "mentees accepted", "mentees matched", "mentees pool",
                "mentees declined", "active partnerships", "outbox sent", "outbox queued",
                "outbox failed", "messages held", "messages quarantined"]
        t.check(all(k in st_old and st_new.get(k) == st_old[k] for k in same)
                and st_new.get("mentors active") == st_old.get("mentors"),
                "mentorctl status counts the same mentees, mentors, partnerships, emails and "
                "messages", "%s\n%s" % (st_new, st_old))

        # -- 16 December: the program goes on ----------------------------------
        env.run("2026-12-16T09:00")
        mail = env.new_mail()
        digest = only(mail, COORDINATOR, "digest")
        t.check(len(mail) == 1 and len(digest) == 1 and "Fay Wong" in body_of(digest[0]),
                "the next day's digest goes (Fay's application still waits), and nothing else",
                summary(mail))
        env.run("2026-12-16T11:00")
        t.check(env.new_mail() == [], "and only once")

        # -- replies to the old release's emails --------------------------------
        # Ana answers the "you are in the class" email of 3 November: its
        # token names her, so the reply is hers and changes things at once.
        accepted = env.sql("SELECT id FROM outbox WHERE key = 'accepted:application=1'")[0][0]
        env.reply(ANA, old_email(env, accepted), "met 2026-12-14 1h")
        # Bob answers the introduction, which the old release sent to both
        # partners under one token: the thread is known, his address must
        # confirm (README "Whose message is it").
        intro = env.sql("SELECT id FROM outbox WHERE key = 'introduction:group=1'")[0][0]
        env.reply(BOB, old_email(env, intro), "met 2026-12-10 2h")
        # The coordinator answers the old digest of the 15th.
        old_digest = env.sql("SELECT id FROM outbox WHERE key = "
                             "'step=digest:program=cdss:date=2026-12-15'")[0][0]
        env.reply(COORDINATOR, old_email(env, old_digest), "accept 5\nmatch 4 with 9\n")
        env.run("2026-12-16T12:00")
        mail = env.new_mail()
        rec = only(mail, ANA, "meeting report")
        t.check(len(rec) == 1, "Ana's reply to an old email is recorded and confirmed to her",
                summary(mail))
        t.check(env.sql("SELECT group_id, minutes FROM events WHERE date = '2026-12-14'")
                == [(1, 60)], "the meeting is recorded on the migrated partnership #1")
        asked_bob = env.confirm(mail, BOB)
        asked_coord = env.confirm(mail, COORDINATOR)
        t.check(asked_bob is not None and asked_coord is not None,
                "replies to an old email sent to several are confirmed by their sender first",
                summary(mail))
        env.run("2026-12-16T13:00")
        mail = env.new_mail()
        t.check(env.sql("SELECT group_id, minutes FROM events WHERE date = '2026-12-10'")
                == [(1, 120)],
                "Bob's meeting is recorded on the partnership the old introduction names (#1, "
                "not his other one, #2)", env.sql("SELECT * FROM events"))
        t.check(len(only(mail, BOB, "meeting report")) == 1, "and Bob is told", summary(mail))
        t.check(env.sql("SELECT status FROM participations WHERE id = 5") == [("accepted",)],
                "the coordinator's reply to the old digest accepts application #5")
        new_group = env.sql("SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.id "
                            "WHERE m.participation_id = 4 AND g.status = 'active'")
        t.check(len(new_group) == 1 and new_group[0][0] > len(matches)
                and env.sql("SELECT participation_id FROM group_members WHERE group_id = ? "
                            "ORDER BY position", new_group[0][0]) == [(4,), (9,)],
                "and matches Eve with Cy in a new partnership after the old ones", new_group)
        t.check(len(only(mail, EVE, "meet your mentor")) == 1
                and len(only(mail, CY, "meet your mentor")) == 1
                and len(only(mail, FAY, "class")) == 1,
                "Fay is told she is accepted; Eve and Cy are introduced", summary(mail))

        # -- January: the engine's follow-up of December -----------------------
        env.run("2027-01-04T09:00")
        mail = env.new_mail()
        fu = only(mail, COORDINATOR, "partnerships in December")
        t.check(len(fu) == 1 and "Ivy Chen" in body_of(fu[0]) and "Ana Ruiz" not in body_of(fu[0]),
                "December's follow-up lists the migrated partnership below cadence (Ivy's), not "
                "Ana's (2 meetings)", body_of(fu[0]) if fu else summary(mail))
        env.run("2027-01-04T10:00")
        t.check(only(env.new_mail(), COORDINATOR, "partnerships in") == [], "once")

        keys = env.sql("SELECT key, count(*) FROM outbox GROUP BY key HAVING count(*) > 1")
        t.check(keys == [], "no idempotency key twice in the outbox", keys)
        ids = [m["parsed"]["Message-ID"] for m in env.sent()]
        t.check(len(ids) == len(set(ids)), "the SMTP server never received the same email twice")
        held = env.ctl("messages", "--held").stdout
        t.check(re.search(r"token does not verify", held) is not None
                and "no sender" in held, "the old held messages are still listed as held", held)
    t.finish()


if __name__ == "__main__":
    main()
