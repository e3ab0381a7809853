"""A mentord under test: Dovecot, an SMTP sink and a configuration, all on
loopback in a temporary directory, and helpers to play participants.

Used by the integration tests and by the README demo (tests/demo.py)."""

import email
import email.policy
import email.utils
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dovecot import Dovecot  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

SOURCE_DIR = os.environ.get("MENTORD_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
PROGRAM_ADDRESS = "mentoring@example.org"
COORDINATOR = "coordinator@example.org"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                   "WARNING: ThreadSanitizer")


def find_binary(name):
    path = os.environ.get(name.upper())
    if path:
        return path
    for cand in ("build/" + name, "build/daemon/" + name):
        full = os.path.join(SOURCE_DIR, cand)
        if os.path.exists(full):
            return full
    raise RuntimeError("%s not found: set %s or build into %s/build" % (name, name.upper(), SOURCE_DIR))


AUTHSERV = "mx.test.example"


class Env:
    """authserv: when set, the configuration trusts Authentication-Results
    headers from that authserv-id, and deliver(..., authenticated=True)
    writes one saying DMARC passed, as a receiving server would.

    programs: the program files the configuration includes, in order
    (default: conf/programs/cdss.conf); templates: the templates directory
    (default: the source tree's)."""

    def __init__(self, name="test", smtp_options=None, conf_extra="", imap_extra="",
                 dovecot_tls=False, keep=False, dovecot_settings=(), authserv=None,
                 coordinators=(COORDINATOR,), programs=None, templates=None):
        self.programs = list(programs or [os.path.join(SOURCE_DIR, "conf/programs/cdss.conf")])
        self.templates = templates or os.path.join(SOURCE_DIR, "templates")
        self.authserv = authserv
        self.coordinators = list(coordinators)
        if authserv:
            conf_extra = 'trusted_authserv_id = {"%s"}\n%s' % (authserv, conf_extra)
        self.dir = tempfile.mkdtemp(prefix="mentord-%s-" % name, dir="/tmp")
        self.mentord = find_binary("mentord")
        self.mentorctl = find_binary("mentorctl")
        self.dovecot = Dovecot(os.path.join(self.dir, "dovecot"), tls=dovecot_tls,
                               settings=dovecot_settings)
        self.sink = SmtpSink(os.path.join(self.dir, "smtp"), **(smtp_options or {}))
        self.conf_extra = conf_extra
        self.imap_extra = imap_extra
        self.conf = os.path.join(self.dir, "mentord.conf")
        self.db = os.path.join(self.dir, "mentord.db")
        self.seen = 0
        self.keep = keep
        self.counter = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        os.makedirs(os.path.join(self.dir, "programs"), exist_ok=True)
        for path in self.programs:
            shutil.copy(path, os.path.join(self.dir, "programs", os.path.basename(path)))
        self.dovecot.start()
        self.sink.start()
        self.write_conf()

    def write_conf(self, imap_port=None):
        port = imap_port or self.dovecot.port
        with open(self.conf, "w") as f:
            f.write("""# written by tests/harness/mentord_env.py
database = "%(db)s"
templates = "%(templates)s"
timezone = "America/Los_Angeles"
max_auto_replies_per_day = 5
%(extra)s
imap {
	url = "imap://127.0.0.1:%(imap_port)d"
	tls = off
	user = "%(user)s"
	password = "%(password)s"
	mailbox = "INBOX"
	poll_interval = 5
	timeout = 10
%(imap_extra)s
}
smtp {
	url = "smtp://127.0.0.1:%(smtp_port)d"
	tls = off
	from = "CDSS Mentoring <%(program)s>"
	timeout = 10
}
coordinator {
	address = {%(coordinators)s}
}
%(includes)s
""" % dict(db=self.db, templates=self.templates, imap_port=port,
                user=self.dovecot.user, password=self.dovecot.password, smtp_port=self.sink.port,
                program=PROGRAM_ADDRESS,
                coordinators=", ".join('"%s"' % c for c in self.coordinators),
                extra=self.conf_extra,
                imap_extra=self.imap_extra,
                includes="\n".join('include("programs/%s")' % os.path.basename(p)
                                    for p in self.programs)))

    def stop(self):
        try:
            self.sink.stop()
        finally:
            self.dovecot.stop()
        if not self.keep and os.environ.get("MENTORD_KEEP_TEST_DIRS") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- participants ----

    def deliver(self, sender, subject, body, to=PROGRAM_ADDRESS, in_reply_to=None,
                headers=None, name=None, charset="utf-8", mailbox="INBOX",
                authenticated=False):
        """APPENDs a message (to INBOX, or mailbox) as a participant's mail
        client would send it; returns its Message-ID (without <>).  With
        authenticated, the trusted receiving server's Authentication-Results
        header says DMARC passed for the sender's domain."""
        self.counter += 1
        mid = "test-%d-%d@client.example" % (os.getpid(), self.counter)
        lines = []
        if authenticated:
            if not self.authserv:
                raise RuntimeError("authenticated delivery needs Env(authserv=...)")
            lines.append("Authentication-Results: %s; dkim=pass header.d=%s; "
                         "dmarc=pass (p=reject) header.from=%s"
                         % (self.authserv, sender.split("@")[1], sender.split("@")[1]))
        lines += [
            "From: %s" % email.utils.formataddr((name or "", sender)),
            "To: %s" % to,
            "Subject: %s" % subject,
            "Date: %s" % email.utils.formatdate(localtime=False),
            "Message-ID: <%s>" % mid,
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=%s" % charset,
            "Content-Transfer-Encoding: 8bit",
        ]
        if in_reply_to:
            lines.append("In-Reply-To: <%s>" % in_reply_to)
            lines.append("References: <%s>" % in_reply_to)
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        raw = ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode(charset)
        self.dovecot.append(mailbox, raw)
        return mid

    def deliver_raw(self, raw):
        self.dovecot.append("INBOX", raw)

    def reply(self, sender, original, body, name=None):
        """A reply to an email mentord sent (a sink message dict), quoting it,
        sent to its Reply-To (the signed token address) as mail clients do."""
        parsed = original["parsed"]
        # A multipart email (an invitation, a certificate) is quoted by its text.
        text = (parsed.get_body(preferencelist=("plain",)) or parsed).get_content()
        quoted = "\n".join("> " + l for l in text.splitlines())
        text = "%s\n\nOn Mon, 2 Nov 2026 at 09:00, CDSS Mentoring <%s> wrote:\n%s\n" % (
            body, PROGRAM_ADDRESS, quoted)
        subject = parsed["Subject"]
        if not subject.lower().startswith("re:"):
            subject = "Re: " + subject
        to = email.utils.parseaddr(parsed["Reply-To"] or "")[1] or PROGRAM_ADDRESS
        return self.deliver(sender, subject, text, in_reply_to=parsed["Message-ID"].strip("<>"),
                            name=name, to=to)

    def confirm(self, mails, who, answer="yes"):
        """Replies `answer` to the request to confirm that mentord sent to
        who among mails; returns the request (None when there is none)."""
        for m in mails:
            if who in recipients(m) and m["parsed"]["X-Mentord"] == "confirm":
                self.reply(who, m, answer)
                return m
        return None

    def bounce_for(self, sent, status="5.1.1", to_verp=True, mid=None):
        """A DSN for an email mentord sent (a sink message dict), as the
        receiving MTA would write it: to the email's envelope sender (the
        signed VERP address) when to_verp, quoting its headers."""
        rcpt = recipients(sent)[0]
        self.counter += 1
        headers = "".join("%s: %s\r\n" % (k, v) for k, v in sent["parsed"].items()
                          if k.lower() in ("from", "to", "subject", "message-id", "date"))
        raw = ("From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
               "To: %s\r\n"
               "Subject: Undelivered Mail Returned to Sender\r\n"
               "Message-ID: <%s>\r\n"
               "Auto-Submitted: auto-replied\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
               "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
               "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
               "Reporting-MTA: dns; mx.example.org\r\n\r\n"
               "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n"
               "Diagnostic-Code: smtp; 550 %s user unknown\r\n"
               "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n%s"
               "--B--\r\n" % (sent["mail_from"] if to_verp else PROGRAM_ADDRESS,
                                mid or "bounce-%d-%d@mx.example.org" % (os.getpid(), self.counter),
                                rcpt, status, status, headers))
        self.dovecot.append("INBOX", raw.encode())

    # ---- mentord ----

    def run(self, now, *args, expect=0, env=None):
        cmd = [self.mentord, "-c", self.conf, "--once", "--now", now] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, **(env or {})))
        self.check_sanitizers(p)
        if expect is not None and p.returncode != expect:
            raise AssertionError("mentord --now %s exited %d, expected %d\nstderr:\n%s" % (
                now, p.returncode, expect, p.stderr))
        return p

    def ctl(self, *args, expect=0):
        p = subprocess.run([self.mentorctl, "-c", self.conf] + list(args), capture_output=True,
                           text=True, timeout=60)
        self.check_sanitizers(p)
        if expect is not None and p.returncode != expect:
            raise AssertionError("mentorctl %s exited %d\n%s" % (args, p.returncode, p.stderr))
        return p

    @staticmethod
    def check_sanitizers(p):
        for mark in SANITIZER_MARKS:
            if mark in (p.stderr or ""):
                raise AssertionError("sanitizer report:\n%s" % p.stderr)

    # ---- what was sent ----

    def sent(self):
        return self.sink.messages()

    def new_mail(self):
        """Messages the SMTP server accepted since the last call."""
        msgs = self.sink.messages()
        fresh = msgs[self.seen:]
        self.seen = len(msgs)
        return fresh

    def sql(self, query, *params):
        con = sqlite3.connect(self.db, timeout=30)
        try:
            rows = con.execute(query, params).fetchall()
            con.commit()
            return rows
        finally:
            con.close()


def body_of(msg):
    """The decoded text body of a sink message."""
    return msg["parsed"].get_content()


def recipients(msg):
    return sorted(a.lower() for a in msg["rcpt_tos"])


class Checker:
    """Counts assertions and prints the closing line ctest logs show."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok    %s" % what)
        else:
            self.failed += 1
            print("FAIL  %s%s" % (what, ("\n      " + str(detail).replace("\n", "\n      ")) if detail else ""))
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
