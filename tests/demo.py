"""The README demo: a CDSS mentoring partnership run for two months on a
local Dovecot and SMTP server, with time stepped by --now, printing every
email exchanged."""

import os
import sys
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness"))
from mentord_env import COORDINATOR, Env, body_of, recipients  # noqa: E402

ANA, BOB = "ana@example.org", "bob@example.org"


def show_in(sender, subject, body):
    print("\n>>> %s writes: %s" % (sender, subject))
    print(textwrap.indent(body.strip(), "    | "))


def show_out(env, when):
    mail = env.new_mail()
    print("\n=== mentord --once --now %s: %d email(s) sent" % (when, len(mail)))
    for m in mail:
        print("\n<<< to %s: %s" % (", ".join(recipients(m)), m["parsed"]["Subject"]))
        print(textwrap.indent(body_of(m).strip(), "    | "))
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


def main():
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


if __name__ == "__main__":
    main()
