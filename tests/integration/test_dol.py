"""DOL SES Candidate Development Program (seed 003): a cohort of dated sessions.

conf/programs/dol.conf with templates/dol/ over the shared templates, on
real servers (Dovecot, an SMTP server), with --now stepping from October
2027 to November 2027 in Washington, D.C. (America/New_York):

  the cohort is enrolled from a roster (mentorctl import people) -> each
  participant receives one calendar invitation per session (RFC 5545 /
  iMIP: a text/calendar METHOD:REQUEST alternative and an .ics copy, the
  ORGANIZER their own signed reply address, the time in the program's
  zone), nobody else does, and nothing twice -> answers by reply in words
  ("Yes, I will attend", "I cannot attend") and by a calendar's
  METHOD:REPLY are recorded -> a session moved in the configuration is
  sent again as an update (SEQUENCE 1), a cancelled one as a CANCEL ->
  after a session the coordinator records attendance (mentorctl session
  attend, or "attended SESSION ADDRESS..." / "absent ..." by email) -> who is below the attendance rule is in the digest, in
  `mentorctl status`, and `report --csv` speaks in sessions and attendance.

Bad input: an answer from a stranger (replying to someone else's
invitation) is held and records nothing; attendance for an unknown
session, for someone not in the cohort, or for a session not yet held is
refused and records nothing; configuration the engine cannot use (a time
that is no span, session_attendance without sessions) is refused with
file:line."""

import email
import email.policy
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, recipients  # noqa: E402

DOL_CONF = os.path.join(SOURCE_DIR, "conf/programs/dol.conf")
PROGRAM = "sescdp@example.org"
ANA, BOB, CY, DEE = "ana@dol.example", "bob@dol.example", "cy@dol.example", "dee@dol.example"
ZED = "zed@elsewhere.example"
SUPERVISORS = ["sup.ana@dol.example", "sup.bob@dol.example", "sup.cy@dol.example",
               "sup.dee@dol.example"]
ROSTER = """email,name,role,Agency,Supervisor email
ana@dol.example,Ana Ruiz,participant,OSHA,sup.ana@dol.example
bob@dol.example,Bob Lee,participant,ETA,sup.bob@dol.example
cy@dol.example,Cy Tran,participant,BLS,sup.cy@dol.example
dee@dol.example,Dee Park,participant,WHD,sup.dee@dol.example
"""
NSESSIONS = 8


def only(msgs, rcpt=None, subject=None, kind=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())
            and (kind is None or m["parsed"]["X-Mentord"] == kind)]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def text_of(msg):
    part = msg["parsed"].get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def calendar_of(msg):
    """(the text/calendar alternative's method parameter, its text, the
    attached .ics text) of an invitation."""
    method = ics = attached = None
    for part in msg["parsed"].walk():
        ct = part.get_content_type()
        if ct == "text/calendar" and ics is None:
            method = part.get_param("method")
            ics = part.get_content()
        elif ct == "application/ics":
            attached = part.get_content()
            if isinstance(attached, bytes):
                attached = attached.decode()
    return method, ics, attached


def prop(ics, name):
    """The unfolded value of the first property name (without parameters)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", ics or "")
    # The event's, not the VTIMEZONE's (which has a DTSTART of its own).
    unfolded = unfolded[unfolded.find("BEGIN:VEVENT"):]
    for line in unfolded.splitlines():
        key = line.split(":", 1)[0]
        if key.split(";", 1)[0].upper() == name:
            return line
    return ""


def rsvps(env, who):
    return env.sql("SELECT a.round, a.summary FROM answers a JOIN people p "
                   "ON p.id = a.respondent_id WHERE a.form = 'rsvp' AND p.email = ? "
                   "ORDER BY a.id", who)


def calendar_reply(sender, to, uid, partstat, in_reply_to):
    """The METHOD:REPLY a calendar client sends to the ORGANIZER."""
    ics = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp.//Calendar//EN",
        "METHOD:REPLY", "BEGIN:VEVENT", "UID:%s" % uid, "SEQUENCE:0",
        "DTSTAMP:20271020T150000Z", "DTSTART:20271104T140000Z",
        "ORGANIZER:mailto:%s" % to,
        "ATTENDEE;PARTSTAT=%s;CN=Cy Tran:mailto:%s" % (partstat, sender),
        "END:VEVENT", "END:VCALENDAR", ""])
    return ("From: Cy Tran <%s>\r\nTo: %s\r\nSubject: Accepted: Program launch\r\n"
            "Message-ID: <cal-reply-%d@dol.example>\r\nIn-Reply-To: <%s>\r\n"
            "Date: Wed, 20 Oct 2027 15:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n"
            "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "Cy Tran has responded to your invitation.\r\n"
            "--ALT\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n%s"
            "--ALT--\r\n" % (sender, to, os.getpid(), in_reply_to, ics)).encode()


def main():
    t = Checker()
    with Env("dol", programs=[DOL_CONF], authserv="mx.test.example") as env:
        p = env.run("2027-10-18T10:00-04:00", "--check-config")
        t.check("configuration OK" in p.stdout + p.stderr, "dol.conf is valid",
                p.stdout + p.stderr)

        # -- Monday 18 October: the cohort from the roster ------------------
        roster = os.path.join(env.dir, "roster.csv")
        with open(roster, "w") as f:
            f.write(ROSTER)
        env.ctl("import", "people", roster, "--program", "dol")
        env.run("2027-10-18T10:00-04:00")
        mail = env.new_mail()
        invites = only(mail, kind="session-invitation")
        per = {who: only(invites, who) for who in (ANA, BOB, CY, DEE)}
        t.check(all(len(v) == NSESSIONS for v in per.values())
                and all(len(recipients(m)) == 1 for m in invites),
                "each participant receives one invitation per session, one email each",
                summary(mail))
        t.check(not any(only(mail, s) for s in SUPERVISORS),
                "supervisors receive no invitation", summary(mail))
        kick = only(per[ANA], subject="Program launch")
        method, ics, attached = calendar_of(kick[0]) if kick else (None, "", "")
        t.check(method == "REQUEST" and "METHOD:REQUEST" in (ics or "")
                and attached is not None and "BEGIN:VEVENT" in attached,
                "the invitation is iMIP: a text/calendar METHOD:REQUEST part and an .ics copy",
                ics)
        reply_to = kick[0]["parsed"]["Reply-To"] if kick else ""
        t.check("SEQUENCE:0" in prop(ics, "SEQUENCE")
                and "TZID=America/New_York:20271104T090000" in prop(ics, "DTSTART")
                and "20271104T120000" in prop(ics, "DTEND")
                and "BEGIN:VTIMEZONE" in (ics or ""),
                "the time is the program's (New York), with its VTIMEZONE, sequence 0",
                prop(ics, "DTSTART"))
        t.check("mailto:%s" % email.utils.parseaddr(reply_to)[1]
                in prop(ics, "ORGANIZER").lower()
                and "+t" in prop(ics, "ORGANIZER")
                and ("mailto:%s" % ANA) in prop(ics, "ATTENDEE").lower()
                and "RSVP=TRUE" in prop(ics, "ATTENDEE"),
                "the ORGANIZER is the signed reply address, the ATTENDEE the participant",
                prop(ics, "ORGANIZER") + "\n" + prop(ics, "ATTENDEE"))
        uid = prop(ics, "UID").split(":", 1)[-1]
        body = text_of(kick[0]) if kick else ""
        t.check("Thursday 4 November 2027" in body and "09:00-12:00" in body
                and "Frances Perkins Building" in body and "Attendance is required" in body,
                "the email says when and where, and that attendance is required", body)
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-generated" for m in invites),
                "invitations are Auto-Submitted: auto-generated")
        env.run("2027-10-18T14:00-04:00")
        t.check(only(env.new_mail(), kind="session-invitation") == [],
                "a second run sends no invitation again")

        # -- answers: in words, by calendar; a stranger -----------------------
        env.reply(ANA, kick[0], "Yes, I will attend.")
        bob_kick = only(per[BOB], subject="Program launch")[0]
        env.reply(BOB, bob_kick, "I cannot attend, I am travelling that week.")
        cy_kick = only(per[CY], subject="Program launch")[0]
        cy_organizer = email.utils.parseaddr(cy_kick["parsed"]["Reply-To"])[1]
        _, cy_ics, _ = calendar_of(cy_kick)
        env.deliver_raw(calendar_reply(CY, cy_organizer,
                                       prop(cy_ics, "UID").split(":", 1)[-1], "ACCEPTED",
                                       cy_kick["parsed"]["Message-ID"].strip("<>")))
        # Zed answers Dee's invitation (forwarded to him), from his own address.
        dee_kick = only(per[DEE], subject="Program launch")[0]
        env.deliver(ZED, "Re: " + dee_kick["parsed"]["Subject"], "Yes, I will attend",
                    in_reply_to=dee_kick["parsed"]["Message-ID"].strip("<>"))
        env.run("2027-10-20T10:00-04:00")
        mail = env.new_mail()
        t.check(rsvps(env, ANA) == [("kickoff", "accepted")]
                and len(only(mail, ANA, "your answer is recorded")) == 1,
                "\"Yes, I will attend\" by reply is recorded as accepted, and acknowledged",
                summary(mail))
        bob_ack = only(mail, BOB, "your answer is recorded")
        t.check(rsvps(env, BOB) == [("kickoff", "declined")] and len(bob_ack) == 1
                and "coordinators will contact you" in text_of(bob_ack[0]),
                "\"I cannot attend\" is recorded as declined; attendance is required",
                summary(mail))
        t.check(rsvps(env, CY) == [("kickoff", "accepted")],
                "a calendar's METHOD:REPLY (PARTSTAT=ACCEPTED) is recorded", rsvps(env, CY))
        zed = env.sql("SELECT status FROM messages WHERE from_addr = ?", ZED)
        t.check(rsvps(env, ZED) == [] and rsvps(env, DEE) == [] and zed == [("held",)]
                and only(mail, ZED) == [],
                "an answer from a stranger records nothing and is held for the coordinator",
                "%s %s" % (zed, summary(mail)))

        # -- the kickoff moves to the afternoon; the budget workshop is off --
        conf = os.path.join(env.dir, "programs", "dol.conf")
        good = open(conf).read()
        changed = good.replace('date = "2027-11-04"\n\t\ttime = "09:00-12:00"',
                               'date = "2027-11-04"\n\t\ttime = "13:00-16:00"')
        changed = changed.replace('date = "2028-03-16"\n\t\ttime = "09:00-12:00"',
                                  'date = "2028-03-16"\n\t\ttime = "09:00-12:00"\n'
                                  '\t\tcancelled = true')
        with open(conf, "w") as f:
            f.write(changed)
        env.run("2027-10-21T10:00-04:00")
        mail = env.new_mail()
        updates = only(mail, subject="changed: Program launch")
        _, uics, _ = calendar_of(updates[0]) if updates else (None, "", None)
        t.check(sorted(r for m in updates for r in recipients(m)) == [ANA, BOB, CY, DEE]
                and "SEQUENCE:1" in prop(uics, "SEQUENCE")
                and prop(uics, "UID").endswith(uid) and uid
                and "T130000" in prop(uics, "DTSTART"),
                "a moved session is sent again as an update: same UID, SEQUENCE 1",
                summary(mail) + "\n" + prop(uics, "SEQUENCE"))
        cancels = only(mail, kind="session-cancelled")
        cmethod, cics, _ = calendar_of(cancels[0]) if cancels else (None, "", None)
        t.check(sorted(r for m in cancels for r in recipients(m)) == [ANA, BOB, CY, DEE]
                and cmethod == "CANCEL" and "STATUS:CANCELLED" in (cics or "")
                and "Budget" in cancels[0]["parsed"]["Subject"],
                "a cancelled session sends a METHOD:CANCEL to everyone invited",
                summary(mail))
        t.check(len([m for m in mail if m["parsed"]["X-Mentord"] != "digest"]) == 8,
                "nothing else is sent to participants", summary(mail))
        env.run("2027-10-21T15:00-04:00")
        t.check(env.new_mail() == [], "and nothing twice")

        # -- attendance -------------------------------------------------------
        p = env.ctl("--now", "2027-11-03T10:00", "session", "attend", "kickoff", ANA,
                    expect=1)
        t.check("has not begun" in p.stderr, "attendance before the session is refused",
                p.stderr)
        p = env.ctl("--now", "2027-11-04T17:00", "session", "attend", "no-such-session", ANA,
                    expect=1)
        t.check("no session \"no-such-session\"" in p.stderr,
                "attendance for an unknown session is refused", p.stderr)
        p = env.ctl("--now", "2027-11-04T17:00", "session", "attend", "kickoff", ANA, ZED,
                    expect=1)
        t.check(ZED in p.stderr and env.sql("SELECT COUNT(*) FROM attendance") == [(0,)],
                "attendance for someone not in the cohort is refused, nothing recorded",
                p.stderr)
        p = env.ctl("--now", "2027-11-04T17:00", "session", "attend", "kickoff", ANA, BOB, CY)
        p2 = env.ctl("--now", "2027-11-04T17:00", "session", "attend", "kickoff", DEE,
                     "--absent")
        att = env.sql("SELECT p.email, a.status FROM attendance a JOIN people p "
                      "ON p.id = a.person_id ORDER BY p.email")
        t.check(att == [(ANA, "present"), (BOB, "present"), (CY, "present"),
                        (DEE, "absent")],
                "the coordinator records who attended", att)
        t.check(env.sql("SELECT COUNT(*) FROM audit WHERE action = 'session attend'")
                == [(4,)], "each attendance is in the audit trail")

        # -- the digest: Dee is below the rule --------------------------------
        env.run("2027-11-05T10:00-04:00")
        mail = env.new_mail()
        dig = only(mail, subject="digest")
        d = text_of(dig[0]) if dig else ""
        t.check(len(dig) == 1 and "Below the attendance rule" in d
                and "Dee Park <dee@dol.example>: attended 0 of 1 sessions" in d
                and "Ana Ruiz <ana" not in d.split("Below the attendance rule")[-1],
                "the digest lists who is below the attendance rule, and only them", d)
        p = env.ctl("--now", "2027-11-05T10:00", "status")
        t.check("sessions: 8 (1 held, 6 to come, 1 cancelled)" in p.stdout
                and "below the attendance rule (100%): 1" in p.stdout
                and "Dee Park" in p.stdout,
                "mentorctl status speaks in sessions and attendance", p.stdout)
        p = env.ctl("--now", "2027-11-05T10:00", "report", "--csv", "--program", "dol")
        lines = p.stdout.splitlines()
        # The last column is where the participant's mentoring stands (the
        # mentor pairs open at the mid-point: test_dol_midpoint).
        t.check(lines and lines[0] == "program,session,title,date,time,participant,email,"
                "answer,attendance,mentoring"
                and "dol,kickoff,Program launch and Management Overview,2027-11-04,"
                "13:00-16:00,Bob Lee,bob@dol.example,declined,present,no mentor" in lines
                and "dol,kickoff,Program launch and Management Overview,2027-11-04,"
                "13:00-16:00,Dee Park,dee@dol.example,no answer,absent,no mentor" in lines
                and any(",workshop-budget," in l and ",cancelled," in l for l in lines)
                and len(lines) == 1 + 4 * NSESSIONS,
                "report --csv: one row per session and participant, answer and attendance",
                p.stdout[:600])
        p = env.ctl("session", "list")
        t.check("kickoff" in p.stdout and "accepted 2, declined 1" in p.stdout
                and "present 3, absent 1" in p.stdout and "(cancelled)" in p.stdout,
                "mentorctl session list counts answers and attendance", p.stdout)
        t.check(env.sql("SELECT COUNT(*) FROM outbox GROUP BY key HAVING COUNT(*) > 1") == [],
                "no outbox key twice")

        # -- attendance by email: the coordinator's commands -----------------
        env.deliver(COORDINATOR, "register", "absent kickoff bob@dol.example\n"
                    "attended no-such-session ana@dol.example\n"
                    "attended kickoff %s\n" % ZED, to=PROGRAM, authenticated=True)
        env.deliver(ANA, "register", "attended kickoff dee@dol.example\n", to=PROGRAM,
                    authenticated=True)
        env.run("2027-11-08T10:00-05:00")
        mail = env.new_mail()
        res = only(mail, COORDINATOR, kind="command-results")
        r = text_of(res[0]) if res else ""
        att = dict(env.sql("SELECT p.email, a.status FROM attendance a JOIN people p "
                           "ON p.id = a.person_id"))
        t.check(att.get(BOB) == "absent" and "bob@dol.example recorded absent" in r,
                "\"absent kickoff ADDRESS\" by email records it, and the coordinator is told",
                r or summary(mail))
        t.check("no session \"no-such-session\"" in r and ZED in r and "not recorded" in r
                and len(att) == 4,
                "an unknown session or someone not in the cohort is refused by email too", r)
        t.check(att.get(DEE) == "absent" and len(only(mail, ANA, kind="command-refused")) == 1,
                "a participant cannot record attendance (refused, nothing changes)",
                summary(mail))

        # -- configuration: what the engine cannot use is refused ------------
        for broken, expect in (
                (good.replace('time = "09:00-12:00"', 'time = "9 to 12"', 1),
                 "is not a span of the day"),
                (good.replace('date = "2027-11-04"', 'date = "4 Nov"', 1), "is not a date"),
                (re.sub(r"\tsession [a-z0-9-]+ \{.*?\n\t\}\n", "", good, flags=re.S),
                 "session_attendance needs sessions")):
            with open(conf, "w") as f:
                f.write(broken)
            p = env.run("2027-11-05T10:00-04:00", "--check-config", expect=2)
            t.check(expect in p.stderr and "dol.conf:" in p.stderr,
                    "refused with file:line: %s" % expect, p.stderr)
        with open(conf, "w") as f:
            f.write(changed)
    t.finish()


if __name__ == "__main__":
    main()
