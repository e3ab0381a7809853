"""Bad input gets a clear answer and loses nothing: configuration errors,
an unreachable IMAP server, an SMTP server answering 4xx, and replay of a
stored message."""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import COORDINATOR, SOURCE_DIR, Checker, Env, recipients  # noqa: E402

FRANK = "frank@example.org"


def main():
    t = Checker()
    with Env("bad", smtp_options={"fail_first": (2, 451)}) as env:
        # A bad configuration: exit 2 and FILE:LINE.
        good = open(env.conf).read()
        with open(env.conf, "w") as f:
            f.write(good.replace('mailbox = "INBOX"', 'mailbox = "INBOX"\n\tmailbx = "typo"'))
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"], capture_output=True,
                           text=True)
        env.check_sanitizers(p)
        line = good[:good.index('mailbox = "INBOX"')].count("\n") + 2
        t.check(p.returncode == 2, "--check-config exits 2 on a bad file", p.returncode)
        t.check(("%s:%d:" % (env.conf, line)) in p.stderr and "mailbx" in p.stderr,
                "the error names the file, the line and the key", p.stderr)
        p = subprocess.run([env.mentord, "-c", env.conf, "--once", "--now", "2026-11-02T09:00"],
                           capture_output=True, text=True)
        t.check(p.returncode == 2, "mentord refuses to run with a bad configuration", p.returncode)
        with open(env.conf, "w") as f:
            f.write(good)
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"], capture_output=True,
                           text=True)
        t.check(p.returncode == 0, "--check-config accepts the fixed file", p.stderr)
        # Confidentiality by construction: a supervisor template that uses
        # the self-assessment is refused before anything is sent.
        tdir = os.path.join(env.dir, "templates")
        shutil.copytree(os.path.join(SOURCE_DIR, "templates"), tdir)
        with open(os.path.join(tdir, "supervisor-notice.txt"), "a") as f:
            f.write("Their needs: {{needs}}\n")
        with open(env.conf, "w") as f:
            f.write(good.replace(os.path.join(SOURCE_DIR, "templates"), tdir))
        p = subprocess.run([env.mentord, "-c", env.conf, "--check-config"], capture_output=True,
                           text=True)
        t.check(p.returncode == 2 and "needs" in p.stderr and "supervisor" in p.stderr,
                "a supervisor template using a confidential value is refused", p.stderr)
        with open(env.conf, "w") as f:
            f.write(good)
        p = subprocess.run([env.mentord, "--bogus"], capture_output=True, text=True)
        t.check(p.returncode == 2, "an unknown option exits 2")
        p = subprocess.run([env.mentord, "-c", env.conf, "--once", "--now", "not-a-time"],
                           capture_output=True, text=True)
        t.check(p.returncode == 2 and "--now" in p.stderr, "a bad --now exits 2 with the reason")

        # An IMAP server that does not answer: exit 1, a clear error, and the
        # outbox and scheduler still run.
        env.write_conf(imap_port=1)
        p = env.run("2026-11-02T09:00", expect=None)
        t.check(p.returncode == 1, "unreachable IMAP server: exit 1", p.returncode)
        t.check("127.0.0.1:1" in p.stderr, "the error names the server", p.stderr)
        env.write_conf()

        # SMTP answers 451 twice: the email is retried with backoff, then sent once.
        env.deliver(FRANK, "hello", "I want to join")
        env.run("2026-11-02T09:00")
        t.check(env.new_mail() == [], "nothing delivered while the server answers 451")
        row = env.sql("SELECT status, attempts, next_attempt_at, last_error FROM outbox")
        t.check(len(row) == 1 and row[0][0] == "queued" and row[0][1] == 1 and "451" in (row[0][3] or ""),
                "the email stays queued with the 451 recorded", row)
        env.run("2026-11-02T09:00")
        t.check(env.sql("SELECT attempts FROM outbox")[0][0] == 1,
                "no retry before the backoff has passed")
        env.run("2026-11-02T09:05")
        env.run("2026-11-02T09:30")
        mail = env.new_mail()
        t.check(len(mail) == 1 and recipients(mail[0]) == [FRANK],
                "after the backoff the email is delivered once", len(mail))
        t.check(env.sql("SELECT status, attempts FROM outbox")[0] == ("sent", 3),
                "the outbox records three attempts and sent")

        # A coordinator's message without a command gets no answer at all (an
        # out-of-office reply must not start a conversation); "help" gets the
        # list of commands.
        mid = env.deliver(COORDINATOR, "hi", "please frobnicate everything")
        env.run("2026-11-02T10:00")
        mail = [m for m in env.new_mail() if COORDINATOR in recipients(m)
                and "done" in m["parsed"]["Subject"]]
        st = env.sql("SELECT status FROM messages WHERE message_id = ?", mid)
        t.check(mail == [] and st == [("ignored",)],
                "a coordinator's message with no command is not answered", (st, len(mail)))
        env.deliver(COORDINATOR, "help?", "help")
        env.run("2026-11-02T10:05")
        mail = [m for m in env.new_mail() if COORDINATOR in recipients(m) and "done" in m["parsed"]["Subject"]]
        t.check(len(mail) == 1 and "match ID with ID" in mail[0]["parsed"].get_content(),
                "help from the coordinator is answered with the list of commands")

        # The same message delivered twice (a client that sent it again, a
        # server that duplicated it): stored once, answered once.
        raw = (b"From: ida@example.org\r\nTo: mentoring@example.org\r\n"
               b"Subject: join\r\nMessage-ID: <dup-1@client.example>\r\n\r\nHello\r\n")
        env.deliver_raw(raw)
        env.deliver_raw(raw.replace(b"Hello", b"Hello again"))
        env.deliver_raw(raw)
        env.run("2026-11-02T10:30")
        mail = [m for m in env.new_mail() if "ida@example.org" in recipients(m)]
        t.check(len(mail) == 1, "a duplicated message is answered once", len(mail))
        t.check(env.sql("SELECT count(*) FROM messages WHERE message_id = 'dup-1@client.example'")[0][0] == 1,
                "a duplicated message is stored once")
        flags = [f for _, f, _ in env.dovecot.list("INBOX")]
        t.check(all("\\Seen" in f for f in flags), "every message is flagged \\Seen after its commit", flags)

        # A message is replayed after it was quarantined.
        rows = env.sql("SELECT id FROM messages ORDER BY id")
        env.sql("UPDATE messages SET status = 'quarantined', reason = 'test' WHERE id = ?", rows[0][0])
        q = env.ctl("messages", "--quarantined").stdout
        t.check(re.search(r"^%d\s" % rows[0][0], q, re.M) is not None,
                "mentorctl messages --quarantined lists it", q)
        env.ctl("replay", str(rows[0][0]))
        st = env.sql("SELECT status FROM messages WHERE id = ?", rows[0][0])[0][0]
        t.check(st == "answered", "replay applies it again", st)
        t.check(env.sql("SELECT count(*) FROM outbox WHERE kind = 'questionnaire' "
                        "AND recipients = ?", FRANK)[0][0] == 1,
                "replay does not queue the same answer twice")
    t.finish()


if __name__ == "__main__":
    main()
