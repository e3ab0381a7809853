"""CalPERS Informal Mentoring (seed 004), an opt-in program run from configuration.

conf/programs/calpers.conf with templates/calpers/ over the shared
templates, on real servers (Dovecot, an SMTP server), with --now stepping
from March to June 2027 in Los Angeles:

  anyone opts in by email (no selection, no matching), saying what they can
  mentor on and what they are looking for help with -> accepted at once
  when the sender is proven, after a confirming reply when not -> on the
  first of each month each participant receives the offers and asks of
  the others (never their own entry, never a field not declared
  visible_to "participants") -> a participant who replies "stop" receives
  nothing the next month and is no longer listed; "start" undoes it ->
  every quarter a request for an informal mentoring story; the milestone
  events (the kick-off forums to who opted in early, the roadshows,
  Mentoring Week, the Career & Education Fair) announced once each.

Bad input: an opt-in without a name gets one reply naming the problem and
nothing is recorded; a "stop" with a forged From changes nothing (the real
owner of the address is asked to confirm, and does not); an email that is
no form gets the opt-in form.  Nothing is sent twice on a second run in
the same period."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import SOURCE_DIR, Checker, Env, body_of, recipients  # noqa: E402

CALPERS_CONF = os.path.join(SOURCE_DIR, "conf/programs/calpers.conf")
PROGRAM = "informalmentoring@example.org"
ANA, BOB, CY = "ana@example.org", "bob@example.org", "cy@example.org"
DEE, EVE, FAY = "dee@example.org", "eve@example.org", "fay@example.org"


def optin(name, division, offer, ask, other=""):
    s = ""
    if name:
        s += "Name: %s\n" % name
    s += "Division: %s\n" % division
    if offer:
        s += "I can mentor on: %s\n" % offer
    if ask:
        s += "I am looking for help with: %s\n" % ask
    if other:
        s += "Anything else: %s\n" % other
    return s


ANA_FORM = optin("Ana Ruiz", "Investment Office", "Excel pivot tables\nPublic speaking",
                 "Project management", "SECRET-NOTE-ANA please do not share")
BOB_FORM = optin("Bob Lee", "Actuarial Office", "Actuarial basics, SQL", "")
CY_FORM = optin("Cy Tran", "Customer Services", "", "Writing board memos")
DEE_FORM = optin("", "Legal Office", "Contract law", "")
FAY_FORM = optin("Fay Ong", "Fiscal Services", "", "Budget drills")


def only(msgs, rcpt=None, subject=None):
    return [m for m in msgs if (rcpt is None or rcpt in recipients(m))
            and (subject is None or subject.lower() in m["parsed"]["Subject"].lower())]


def summary(msgs):
    return "\n".join("%s -> %s" % (m["parsed"]["Subject"], ",".join(recipients(m))) for m in msgs)


def status(env, email):
    rows = env.sql("SELECT a.status FROM participations a JOIN people p ON p.id = a.person_id "
                   "WHERE p.email = ? AND a.program = 'calpers' AND a.role = 'participant'",
                   email)
    return rows[0][0] if rows else None


def main():
    t = Checker()
    with Env("calpers", programs=[CALPERS_CONF], authserv="mx.test.example") as env:
        p = env.run("2027-03-08T10:00-08:00", "--check-config")
        t.check("configuration OK" in p.stdout + p.stderr, "calpers.conf is valid",
                p.stdout + p.stderr)

        # -- before the start: an early opt-in hears of the kick-off -----
        env.deliver(FAY, "opt in", FAY_FORM, to=PROGRAM, authenticated=True)
        env.run("2027-02-26T10:00-08:00")
        t.check(status(env, FAY) == "active", "an opt-in before the start is taken")
        env.new_mail()
        env.run("2027-03-01T10:00-08:00")
        mail = env.new_mail()
        kick = only(mail, subject="kick-off forums")
        t.check([recipients(m) for m in kick] == [[FAY]]
                and "Thursday 4 and Friday 5 March" in body_of(kick[0]) and "Fay Ong" in body_of(kick[0]),
                "on the first day the kick-off forums are announced to who opted in",
                summary(mail))
        env.run("2027-03-02T10:00-08:00")
        t.check(only(env.new_mail(), subject="kick-off") == [], "and only once")
        env.reply(FAY, kick[0], "stop")
        env.run("2027-03-02T11:00-08:00")
        t.check(status(env, FAY) == "paused", "Fay stops (and receives nothing after)",
                summary(env.new_mail()))

        # -- Monday 8 March: opt-ins --------------------------------------
        env.deliver(ANA, "opt in", ANA_FORM, to=PROGRAM, authenticated=True)
        env.deliver(BOB, "opt in", BOB_FORM, to=PROGRAM, authenticated=True)
        env.deliver(CY, "opt in", CY_FORM, to=PROGRAM)
        env.deliver(DEE, "opt in", DEE_FORM, to=PROGRAM, authenticated=True)
        env.deliver(EVE, "mentoring?", "Hello, how do I take part in informal mentoring?",
                    to=PROGRAM)
        env.run("2027-03-08T10:00-08:00")
        mail = env.new_mail()
        acks = only(mail, ANA, "you are in") + only(mail, BOB, "you are in")
        t.check(len(acks) == 2 and status(env, ANA) == "active" and status(env, BOB) == "active",
                "proven opt-ins are taken at once (no selection) and acknowledged",
                summary(mail))
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-replied" for m in mail),
                "every answer is Auto-Submitted: auto-replied", summary(mail))
        cyc = only(mail, CY)
        t.check(len(cyc) == 1 and cyc[0]["parsed"]["X-Mentord"] == "confirm"
                and status(env, CY) is None,
                "an unproven opt-in waits for a confirming reply", summary(mail))
        dee = only(mail, DEE)
        t.check(len(dee) == 1 and "Name" in body_of(dee[0]) and status(env, DEE) is None,
                "an opt-in without a name gets one reply naming the problem, nothing recorded",
                body_of(dee[0]) if dee else summary(mail))
        eve = only(mail, EVE)
        t.check(len(eve) == 1 and "I can mentor on" in body_of(eve[0])
                and "I am looking for help with" in body_of(eve[0]),
                "someone unknown gets the opt-in form", summary(mail))

        # -- the same day: Cy confirms; a forged stop in Ana's name --------
        env.confirm(mail, CY)
        env.deliver(ANA, "stop", "stop\n", to=PROGRAM)
        env.run("2027-03-08T11:00-08:00")
        mail = env.new_mail()
        t.check(status(env, CY) == "active" and len(only(mail, CY, "you are in")) == 1,
                "Cy's confirming reply applies the opt-in", summary(mail))
        forged = only(mail, ANA)
        t.check(status(env, ANA) == "active" and len(forged) == 1
                and forged[0]["parsed"]["X-Mentord"] == "confirm",
                "a stop with a forged From changes nothing; the address is asked to confirm",
                summary(mail))

        # -- 1 April: the first monthly digest -----------------------------
        env.run("2027-04-01T10:00-07:00")
        mail = env.new_mail()
        offers = only(mail, subject="offers and asks")
        t.check(sorted(r for m in offers for r in recipients(m)) == [ANA, BOB, CY]
                and all(len(recipients(m)) == 1 for m in offers),
                "each participant gets the digest, one email each", summary(mail))
        t.check(all(m["parsed"]["Auto-Submitted"] == "auto-generated" for m in offers),
                "the digest is Auto-Submitted: auto-generated")
        a = body_of(only(offers, ANA)[0]) if only(offers, ANA) else ""
        b = body_of(only(offers, BOB)[0]) if only(offers, BOB) else ""
        t.check("Bob Lee <bob@example.org>" in a and "Actuarial basics, SQL" in a
                and "Cy Tran <cy@example.org>" in a and "Writing board memos" in a
                and "Ana Ruiz" not in a.split("Dear", 1)[-1].split("\n", 1)[-1],
                "Ana's digest lists the others' offers and asks, not her own", a)
        t.check("Excel pivot tables" in b and "Public speaking" in b
                and "Project management" in b and "Investment Office" in b
                and "SECRET-NOTE-ANA" not in b and "Anything else" not in b
                and "Dee" not in b and "Contract law" not in b,
                "only fields visible to participants, and only of who opted in", b)
        t.check(not only(mail, DEE) and not only(mail, EVE),
                "who did not opt in receives no digest", summary(mail))
        env.run("2027-04-01T14:00-07:00")
        t.check(only(env.new_mail(), subject="offers and asks") == [],
                "a second run the same month sends nothing again")

        # -- Bob replies stop to his digest ---------------------------------
        env.reply(BOB, only(offers, BOB)[0], "stop")
        env.run("2027-04-02T10:00-07:00")
        mail = env.new_mail()
        st = only(mail, BOB, "stopped")
        t.check(status(env, BOB) == "paused" and len(st) == 1,
                "stop in a reply to the digest is applied and acknowledged", summary(mail))

        # -- 5 April: the roadshows are announced --------------------------
        env.run("2027-04-05T10:00-07:00")
        mail = env.new_mail()
        road = only(mail, subject="roadshows")
        t.check(sorted(r for m in road for r in recipients(m)) == [ANA, CY] and len(mail) == 2,
                "the roadshows are announced to participants, not to who sent stop, "
                "and the kick-off is not sent to who opted in after it", summary(mail))

        # -- 15 April: the quarter's story request -------------------------
        env.run("2027-04-15T10:00-07:00")
        mail = env.new_mail()
        stories = only(mail, subject="story")
        t.check(sorted(r for m in stories for r in recipients(m)) == [ANA, CY],
                "the quarterly story request goes to participants, not to who sent stop",
                summary(mail))

        # -- 19 April: Mentoring Week is announced -------------------------
        env.run("2027-04-19T10:00-07:00")
        mail = env.new_mail()
        week = only(mail, subject="Mentoring Week")
        t.check(sorted(r for m in week for r in recipients(m)) == [ANA, CY] and len(mail) == 2,
                "the milestone (Mentoring Week) is announced to participants, not after stop",
                summary(mail))

        # -- 3 May: the next digest ----------------------------------------
        env.run("2027-05-03T10:00-07:00")
        mail = env.new_mail()
        offers = only(mail, subject="offers and asks")
        t.check(only(mail, BOB) == [], "after stop, Bob receives nothing the next month",
                summary(mail))
        a = body_of(only(offers, ANA)[0]) if only(offers, ANA) else ""
        t.check(len(offers) == 2 and "Cy Tran" in a and "Bob Lee" not in a,
                "and he is no longer listed for the others", summary(mail) + "\n" + a)

        # -- Bob starts again ----------------------------------------------
        env.reply(BOB, st[0], "start")
        env.run("2027-05-04T10:00-07:00")
        mail = env.new_mail()
        t.check(status(env, BOB) == "active" and len(only(mail, BOB, "starts again")) == 1,
                "start undoes stop", summary(mail))
        env.run("2027-06-01T10:00-07:00")
        mail = env.new_mail()
        offers = only(mail, subject="offers and asks")
        a = body_of(only(offers, ANA)[0]) if only(offers, ANA) else ""
        t.check(len(offers) == 3 and "Bob Lee" in a,
                "the next month Bob receives the digest and is listed again", summary(mail))
        t.check(env.sql("SELECT COUNT(*) FROM outbox GROUP BY key HAVING COUNT(*) > 1") == [],
                "no outbox key twice")

        # -- Cy changes her ask; Eve (not taking part) sends stop ----------
        env.reply(CY, only(offers, CY)[0],
                  optin("Cy Tran", "Customer Services", "", "Negotiation"))
        env.reply(EVE, eve[0], "stop")
        env.run("2027-06-02T10:00-07:00")
        mail = env.new_mail()
        t.check(len(only(mail, CY, "updated")) == 1, "the opt-in form sent again updates it",
                summary(mail))
        e = only(mail, EVE)
        t.check(len(e) == 1 and "stop and start" in e[0]["parsed"]["Subject"]
                and "no periodic mail" in body_of(e[0]) and status(env, EVE) is None,
                "stop from someone not taking part is explained, nothing changes",
                body_of(e[0]) if e else summary(mail))
        env.run("2027-07-01T10:00-07:00")
        mail = env.new_mail()
        a = body_of(only(mail, ANA, "offers and asks")[0]) if only(mail, ANA, "offers") else ""
        t.check("Negotiation" in a and "Writing board memos" not in a,
                "the next digest shows what was updated", a)

        # -- configuration: what the engine cannot do is refused ------------
        conf = os.path.join(env.dir, "programs", "calpers.conf")
        good = open(conf).read()
        for broken, expect in (
                (good.replace('shows = "optin"', 'shows = "story"'),
                 "no join form of program calpers with a field visible_to"),
                (good.replace('visible_to = {"coordinator", "participants"}',
                              'visible_to = {"everyone"}', 1),
                 'visible_to "everyone" is unknown'),
                (good.replace('to = "participants"\n\t\tshows', 'to = "coordinators"\n\t\tshows'),
                 "use to = \"participants\"")):
            with open(conf, "w") as f:
                f.write(broken)
            p = env.run("2027-07-01T10:00-07:00", "--check-config", expect=2)
            t.check(expect in p.stderr and "calpers.conf:" in p.stderr,
                    "refused with file:line: %s" % expect, p.stderr)
        with open(conf, "w") as f:
            f.write(good)
    t.finish()


if __name__ == "__main__":
    main()
