"""Mail handling against a real Dovecot, through the real mentord:

- Dovecot stopped in the middle of a UID FETCH (cut exactly there by a
  relay), then started again: nothing lost, nothing doubled;
- the mailbox deleted and recreated with the same messages (a new
  UIDVALIDITY): nothing doubled, and they are not fetched again every cycle;
- a message that breaks the parser is quarantined while the next one is
  processed;
- an auto-reply and a bounce get no answer;
- Dovecot serving TLS with a certificate from a test CA: refused without
  ca_file, accepted with it (STARTTLS and imaps)."""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from imapcut import ImapCut  # noqa: E402
from mentord_env import (COORDINATOR, PROGRAM_ADDRESS, SOURCE_DIR, Checker, Env,  # noqa: E402
                         recipients)


def answered(env, addr):
    return [m for m in env.sent() if addr in recipients(m)]


def flags_of(env, mailbox="INBOX"):
    return [f for _, f, _ in env.dovecot.list(mailbox)]


def stored(env, mid):
    return env.sql("SELECT count(*) FROM messages WHERE message_id = ?", mid)[0][0]


def ingest_batch():
    """INGEST_BATCH_MAX and INGEST_BATCH_BYTES from include/ingest.h."""
    with open(os.path.join(SOURCE_DIR, "include", "ingest.h")) as f:
        text = f.read()
    count = int(re.search(r"#define\s+INGEST_BATCH_MAX\s+(\d+)", text).group(1))
    m = re.search(r"#define\s+INGEST_BATCH_BYTES\s+\((\d+)u?\s*\*\s*(\d+)\s*\*\s*(\d+)\)", text)
    size = int(m.group(1)) * int(m.group(2)) * int(m.group(3))
    return count, size


def mid_fetch(t):
    # mentord fetches in batches (one UID FETCH of the sizes, one of the
    # bodies) and commits a batch at once.  Messages sized so that three
    # make a batch: the cut comes in the middle of the second batch's
    # bodies, after the first batch was committed.
    count, limit = ingest_batch()
    if count < 3:
        raise AssertionError("INGEST_BATCH_MAX %d: this test needs batches of 3" % count)
    pad = limit // 3 - 4096
    with Env("mbox-cut") as env:
        people = ["p%d@example.org" % i for i in range(6)]
        mids = [env.deliver(p, "hello", "How do I join? " + "x" * pad) for p in people]
        cut = ImapCut(env.dovecot.port, at_fetch=4, on_cut=env.dovecot.stop).start()
        try:
            env.write_conf(imap_port=cut.port)
            p = env.run("2026-11-10T09:00", expect=None)
            t.check(cut.cut_done, "Dovecot was stopped in the middle of the second batch's "
                    "UID FETCH")
            t.check(p.returncode == 1 and "connection lost" in p.stderr,
                    "mentord reports the lost connection and exits 1",
                    (p.returncode, p.stderr[-800:]))
            t.check([stored(env, m) for m in mids] == [1, 1, 1, 0, 0, 0],
                    "the first batch, committed before the cut, is stored; the rest not",
                    [stored(env, m) for m in mids])
            t.check(len(env.sent()) == 3, "the three stored ones are answered",
                    len(env.sent()))
            env.dovecot.start()
            t.check(sum("\\Seen" in f for f in flags_of(env)) == 0,
                    "nothing flagged: the connection was gone before the flags went out",
                    flags_of(env))
            p = env.run("2026-11-10T09:05", expect=None)
            t.check(p.returncode == 0, "with Dovecot back the next run succeeds", p.stderr[-800:])
            t.check([stored(env, m) for m in mids] == [1] * 6, "every message stored exactly once",
                    [stored(env, m) for m in mids])
            t.check(all(len(answered(env, a)) == 1 for a in people),
                    "every sender answered exactly once",
                    [len(answered(env, a)) for a in people])
            t.check(all("\\Seen" in f for f in flags_of(env)), "every message flagged \\Seen")
            m = re.search(r"ingest: (\d+) fetched, (\d+) stored, (\d+) duplicates", p.stderr)
            t.check(m is not None and m.groups() == ("3", "3", "3"),
                    "the committed ones are flagged without being fetched again",
                    p.stderr[-800:])
        finally:
            cut.stop()


def new_uidvalidity(t):
    with Env("mbox-uv") as env:
        # The program reads its own folder, which an administrator deletes
        # and recreates (a migration, a restore from backup).
        with open(env.conf) as f:
            conf = f.read()
        with open(env.conf, "w") as f:
            f.write(conf.replace('mailbox = "INBOX"', 'mailbox = "Mentoring"'))
        people = ["q%d@example.org" % i for i in range(5)]
        mids = [env.deliver(p, "hello", "How do I join?", mailbox="Mentoring") for p in people]
        env.run("2026-11-10T09:00")
        t.check(len(env.sent()) == 5, "five messages answered")
        old = env.dovecot.uidvalidity("Mentoring")
        new = env.dovecot.recreate("Mentoring", keep_messages=True)
        t.check(new != old, "the folder was recreated with a new UIDVALIDITY (%d -> %d)" % (old, new))
        late = env.deliver("late@example.org", "hello", "Me too.", mailbox="Mentoring")
        p = env.run("2026-11-10T09:10")
        t.check("UIDVALIDITY changed" in p.stderr, "the change is logged", p.stderr[-800:])
        t.check(all(stored(env, m) == 1 for m in mids + [late]),
                "every message stored once; none doubled by the new UIDs")
        t.check(env.sql("SELECT count(*) FROM messages")[0][0] == 6, "no extra rows")
        t.check(all(len(answered(env, a)) == 1 for a in people + ["late@example.org"]),
                "nobody answered twice; the new message answered once")
        t.check(all("\\Seen" in f for f in flags_of(env, "Mentoring")),
                "every message flagged \\Seen")
        p = env.run("2026-11-10T09:20")
        m = re.search(r"ingest: (\d+) fetched", p.stderr)
        t.check(m is None or m.group(1) == "0",
                "the next cycle fetches nothing again (the checkpoint moved past the copies)",
                p.stderr[-800:])


def nested(depth):
    head = ("From: poison@example.org\r\nTo: %s\r\nSubject: nested\r\n"
            "Message-ID: <poison@client.example>\r\nMIME-Version: 1.0\r\n" % PROGRAM_ADDRESS)
    body = ""
    for i in range(depth):
        body += "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n" % (i, i)
    body += "Content-Type: text/plain\r\n\r\nHello from the bottom.\r\n"
    for i in reversed(range(depth)):
        body += "--b%d--\r\n" % i
    return (head + body).encode()


DSN = """From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: {program}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain

This is the mail system at host mx.example.org.
I'm sorry to have to inform you that your message could not be delivered.

<gone@example.org>: host mx.example.org said: 550 5.1.1 User unknown

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; gone@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--dsn
Content-Type: text/rfc822-headers

From: {program}
To: gone@example.org
Subject: Mentoring questionnaire

--dsn--
"""


APPLICATION = """Name: Gus Gone
Division: Adult Programs
Classification: Staff Services Manager I
Years as manager: 4
Supervisor email: boss@example.org
Developmental needs: Communication, Decision Making
Availability: Tuesday mornings
Why do you want to join: to grow.
"""


def poison_and_automatic(t):
    with Env("mbox-poison") as env:
        # gone@ applies; later mail to that address bounces.
        env.deliver("gone@example.org", "application", APPLICATION)
        env.run("2026-11-10T09:00")
        asked = [m for m in env.new_mail() if "gone@example.org" in recipients(m)]
        env.deliver_raw(nested(40))
        after = env.deliver("next@example.org", "hello", "How do I join?")
        env.deliver("away@example.org", "Out of Office: hello",
                    "I am out of the office until Monday.",
                    headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"})
        # The DSN comes back to the signed return path of the email sent.
        env.bounce_for(asked[0], mid="dsn-1@mx.example.org")
        p = env.run("2026-11-10T09:10", expect=None)
        t.check(p.returncode == 0, "the run succeeds despite the poison message", p.stderr[-800:])
        q = env.sql("SELECT status, reason FROM messages WHERE message_id = 'poison@client.example'")
        t.check(q and q[0][0] == "quarantined" and "nested" in (q[0][1] or ""),
                "the message that breaks the parser is quarantined with its reason", q)
        listed = env.ctl("messages", "--quarantined").stdout
        t.check("poison@example.org" in listed or "nested" in listed,
                "mentorctl messages --quarantined lists it", listed)
        mail = env.new_mail()
        t.check(stored(env, after) == 1 and len([m for m in mail if "next@example.org" in recipients(m)]) == 1,
                "the message after it is processed and answered")
        t.check(not [m for m in mail if "poison@example.org" in recipients(m)],
                "the poison message gets no answer")
        t.check(not [m for m in mail if "away@example.org" in recipients(m)],
                "the auto-reply gets no answer")
        t.check(not [m for m in mail if "mailer-daemon" in ",".join(recipients(m))],
                "the bounce gets no answer")
        others = [m for m in mail if recipients(m) not in (["next@example.org"], [COORDINATOR])]
        t.check(others == [], "nothing but that answer (and the coordinator's digest) was sent",
                [(m["parsed"]["Subject"], recipients(m)) for m in others])
        kinds = dict(env.sql("SELECT message_id, kind || '/' || status FROM messages"))
        t.check(kinds.get("dsn-1@mx.example.org", "").startswith("bounce"),
                "the bounce is recognised as one", kinds)
        und = env.sql("SELECT undeliverable FROM people WHERE email = 'gone@example.org'")
        t.check(und == [(1,)], "the bounced address is marked undeliverable", und)
        t.check(all("\\Seen" in f for f in flags_of(env)), "every message flagged, poison included")


def tls(t):
    # Keepalives every second: the daemon below reads them through TLS.
    with Env("mbox-tls", dovecot_tls=True,
             dovecot_settings=["imap_idle_notify_interval = 1 secs"]) as env:
        with open(env.conf) as f:
            plain = f.read()
        imap_block = plain[plain.index("imap {"):plain.index("smtp {")]

        def use(url, ca_file=None):
            block = imap_block.replace("\ttls = off\n", "")
            block = re.sub(r'url = "[^"]*"', 'url = "%s"' % url, block)
            if ca_file:
                block = block.replace("imap {", 'imap {\n\tca_file = "%s"' % ca_file)
            with open(env.conf, "w") as f:
                f.write(plain.replace(imap_block, block))

        mid = env.deliver("tls@example.org", "hello", "How do I join?")
        use("imap://127.0.0.1:%d" % env.dovecot.port)
        p = env.run("2026-11-10T09:00", expect=None)
        t.check(p.returncode == 1 and "certificate" in p.stderr.lower(),
                "STARTTLS with a certificate from an unknown CA is refused without ca_file",
                (p.returncode, p.stderr[-600:]))
        t.check(stored(env, mid) == 0 if os.path.exists(env.db) else True,
                "nothing was read from the refused server")
        use("imaps://127.0.0.1:%d" % env.dovecot.tls_port)
        p = env.run("2026-11-10T09:01", expect=None)
        t.check(p.returncode == 1 and "certificate" in p.stderr.lower(),
                "imaps with that certificate is refused too", (p.returncode, p.stderr[-600:]))
        use("imap://127.0.0.1:%d" % env.dovecot.port, env.dovecot.ca_file)
        p = env.run("2026-11-10T09:02", expect=None)
        t.check(p.returncode == 0 and stored(env, mid) == 1,
                "with ca_file naming the test CA, STARTTLS is accepted and the mail read",
                (p.returncode, p.stderr[-600:]))
        mid2 = env.deliver("tls2@example.org", "hello", "How do I join?")
        use("imaps://127.0.0.1:%d" % env.dovecot.tls_port, env.dovecot.ca_file)
        p = env.run("2026-11-10T09:03", expect=None)
        t.check(p.returncode == 0 and stored(env, mid2) == 1,
                "and so is imaps", (p.returncode, p.stderr[-600:]))
        t.check(len(answered(env, "tls@example.org")) == 1 and
                len(answered(env, "tls2@example.org")) == 1, "both answered once")

        # The daemon over imaps: its monitor waits in IDLE through TLS, lets
        # the keepalives pass, and its cycle (another TLS session) answers.
        log_path = os.path.join(env.dir, "daemon.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([env.mentord, "-c", env.conf, "--now", "2026-11-10T09:04",
                                     "--verbose"], stdout=log, stderr=subprocess.STDOUT)
            try:
                time.sleep(3.5)
                with open(log_path) as f:
                    text = f.read()
                t.check(text.count("IDLE keepalive from the server") >= 2 and
                        "reconnect" not in text,
                        "through TLS the IDLE keepalives are read and IDLE goes on",
                        text[-1500:])
                mid3 = env.deliver("tls3@example.org", "hello", "How do I join?")
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and not answered(env, "tls3@example.org"):
                    time.sleep(0.1)
                t.check(stored(env, mid3) == 1 and len(answered(env, "tls3@example.org")) == 1,
                        "mail arriving during a TLS IDLE is answered")
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    rc = proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = proc.wait()
        with open(log_path) as f:
            text = f.read()
        env.check_sanitizers(subprocess.CompletedProcess([], 0, "", text))
        t.check(rc == 0, "the daemon exits 0 on SIGTERM", rc)


def processed_mailbox(t):
    """With processed_mailbox set, each message is moved there after its
    commit; a message whose move was lost is moved on the next run without
    being applied again."""
    with Env("mbox-move", imap_extra='\tprocessed_mailbox = "Processed"') as env:
        env.dovecot.append("Processed", b"From: x@example.org\r\nSubject: old\r\n\r\nold\r\n")
        mids = [env.deliver("mv%d@example.org" % i, "hello", "How do I join?") for i in range(3)]
        env.run("2026-11-10T09:00")
        t.check(env.dovecot.list("INBOX") == [], "the inbox is empty after the run")
        t.check(len(env.dovecot.list("Processed")) == 4, "the three messages are in Processed")
        t.check(all(stored(env, m) == 1 for m in mids), "each is stored once")
        t.check(all(len(answered(env, "mv%d@example.org" % i)) == 1 for i in range(3)),
                "each sender is answered once")
        # A copy put back into the inbox (as if the MOVE had been lost after
        # the commit) is moved again, not applied again.
        raw = [m for m in env.dovecot.list("Processed") if b"mv0@example.org" in m[2]][0][2]
        env.deliver_raw(raw)
        env.run("2026-11-10T09:05")
        t.check(env.dovecot.list("INBOX") == [] and stored(env, mids[0]) == 1
                and len(answered(env, "mv0@example.org")) == 1,
                "a message back in the inbox is moved again without a second answer")


def main():
    t = Checker()
    only = sys.argv[1:]
    for name, fn in (("cut", mid_fetch), ("uidvalidity", new_uidvalidity),
                     ("poison", poison_and_automatic), ("tls", tls),
                     ("move", processed_mailbox)):
        if only and name not in only:
            continue
        print("-- %s" % name)
        fn(t)
    t.finish()


if __name__ == "__main__":
    main()
