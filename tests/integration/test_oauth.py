"""OAuth 2.0 (Microsoft 365 / Gmail style) against real servers on loopback:
the token server of tests/harness/oauthserver.py (HTTPS, short-lived access
tokens, rotating refresh tokens), Dovecot with its oauth2 passdb checking
every token against that server's introspection endpoint, and an SMTP
server that accepts only AUTH XOAUTH2 / OAUTHBEARER with a token the same
endpoint says is active.  No password reaches either server.

- sign-in with the device flow (mentorctl oauth login): the URL and code are
  printed, nothing secret is, the refresh token is stored (mode 600);
  before it mentord reads nothing and says what to do;
- a full cycle (ingest, answer, send) on OAuth alone, XOAUTH2 and
  OAUTHBEARER, the browser flow (PKCE) by loopback redirect and by pasting,
  and app-only access (client credentials);
- a server that refuses a token it knows was revoked: renewed once and
  tried again, at IMAP and at SMTP, in the same run;
- access tokens of a few seconds in a running daemon: renewed before they
  expire (no server ever sees an expired one), the IDLE session cut and
  re-established with a fresh token, nothing lost;
- the refresh token revoked: the coordinator is told once (by email while
  the last access token still works), mail waits, renewals back off, and
  after a new sign-in everything that waited is handled once;
- no token or secret in any log or output."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from dovecot import Dovecot  # noqa: E402
from mentord_env import (COORDINATOR, PROGRAM_ADDRESS, SOURCE_DIR, Checker, Env,  # noqa: E402
                         recipients)
from oauthserver import OAuthServer  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402
from testca import make_certs  # noqa: E402

CLIENT_ID = "mentord-test"
CLIENT_SECRET = "client-secret-for-tests-only"


class OAuthEnv(Env):
    """Env with TLS everywhere, the token server, Dovecot's oauth2 passdb and
    an SMTP server that wants a token."""

    def __init__(self, name, lifetime=3600, imap_auth="xoauth2", smtp_auth="xoauth2",
                 flow="device", rate=0, smtp_idle=60, dovecot_settings=()):
        super().__init__(name)
        tls = os.path.join(self.dir, "dovecot", "tls")
        self.ca, cert, key = make_certs(tls)
        self.oauth = OAuthServer(cert, key, user="mentor", client_id=CLIENT_ID,
                                 client_secret=CLIENT_SECRET, lifetime=lifetime)
        self.oauth.start()
        self.dovecot = Dovecot(os.path.join(self.dir, "dovecot"), tls=True,
                               settings=list(dovecot_settings),
                               oauth2={"introspection_url": self.oauth.introspect_url,
                                       "ca_file": self.ca})
        self.sink = SmtpSink(os.path.join(self.dir, "smtp"), tls=(cert, key),
                             oauth=(self.oauth.introspect_url, self.ca),
                             idle_timeout=smtp_idle)
        self.imap_auth = imap_auth
        self.smtp_auth = smtp_auth
        self.flow = flow
        self.rate = rate
        self.state = os.path.join(self.dir, "state")
        os.makedirs(self.state, exist_ok=True)
        self.token_file = os.path.join(self.state, "oauth-token.json")
        self.secret_file = os.path.join(self.dir, "oauth.secret")
        with open(os.open(self.secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(CLIENT_SECRET + "\n")

    def stop(self):
        try:
            super().stop()
        finally:
            self.oauth.stop()

    def write_conf(self, imap_port=None):
        extra = {"device": 'device_url = "%s"' % self.oauth.device_url,
                 "browser": 'authorize_url = "%s"' % self.oauth.authorize_url,
                 "client_credentials": ""}[self.flow]
        with open(self.conf, "w") as f:
            f.write("""# written by tests/integration/test_oauth.py
database = "%(db)s"
templates = "%(templates)s"
timezone = "America/Los_Angeles"
imap {
	url = "imap://127.0.0.1:%(imap_port)d"
	ca_file = "%(ca)s"
	user = "mentor"
	auth = %(imap_auth)s
	mailbox = "INBOX"
	poll_interval = 5
	timeout = 10
}
smtp {
	url = "smtp://127.0.0.1:%(smtp_port)d"
	ca_file = "%(ca)s"
	user = "mentor"
	auth = %(smtp_auth)s
	from = "CDSS Mentoring <%(program)s>"
	rate_per_minute = %(rate)d
	timeout = 10
}
oauth {
	provider = generic
	flow = %(flow)s
	client_id = "%(client_id)s"
	client_secret_file = "%(secret)s"
	scope = "mail offline_access"
	token_url = "%(token_url)s"
	%(extra)s
	token_file = "%(token_file)s"
	ca_file = "%(ca)s"
	timeout = 10
}
coordinator {
	address = {"%(coordinator)s"}
}
include("programs/cdss.conf")
""" % dict(db=self.db, templates=os.path.join(SOURCE_DIR, "templates"),
                imap_port=imap_port or self.dovecot.port, ca=self.ca, imap_auth=self.imap_auth,
                smtp_port=self.sink.port, smtp_auth=self.smtp_auth, program=PROGRAM_ADDRESS,
                rate=self.rate, flow=self.flow, client_id=CLIENT_ID, secret=self.secret_file,
                token_url=self.oauth.token_url, extra=extra, token_file=self.token_file,
                coordinator=COORDINATOR))

    # ---- sign-in ----

    def login_device(self, t, approve=True):
        """mentorctl oauth login with the device flow; the test plays the
        person who opens the page and enters the code."""
        p = subprocess.Popen([self.mentorctl, "-c", self.conf, "oauth", "login"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        out = []
        code = None
        deadline = time.monotonic() + 30
        for line in p.stdout:
            out.append(line)
            m = re.match(r"^\s+([0-9A-F]{4}-[0-9A-F]{4})\s*$", line)
            if m:
                code = m.group(1)
            if "Waiting" in line:
                break
            if time.monotonic() > deadline:
                break
        if code is not None:
            # Let it poll at least once before the person signs in: wait
            # for the poll itself, not a fixed time (under ASan on a busy
            # machine the first poll can come later than 1.5 s).
            until = time.monotonic() + 20
            while (self.oauth.counts().get("device_pending", 0) < 1 and
                   time.monotonic() < until):
                time.sleep(0.1)
            (self.oauth.approve if approve else self.oauth.deny)(code)
        rest, err = p.communicate(timeout=60)
        text = "".join(out) + rest
        self.check_sanitizers(subprocess.CompletedProcess([], 0, "", err))
        return p.returncode, text, err, code

    def secrets_seen(self, text):
        """Tokens or the client secret found in text."""
        found = []
        with self.oauth._lock:
            issued = list(self.oauth._access) + list(self.oauth._refresh)
        for tok in issued:
            if tok in text or tok[:40] in text:
                found.append(tok[:8] + "...")
        if CLIENT_SECRET in text:
            found.append("client secret")
        return found


def answered(env, addr):
    return [m for m in env.sent() if addr in recipients(m)]


def flags(env):
    return [f for _, f, _ in env.dovecot.list("INBOX")]


def wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def file_mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def token_file(env):
    with open(env.token_file) as f:
        return json.load(f)


def dovecot_log(env):
    try:
        with open(env.dovecot.log_file, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def device_cycle(t):
    """Device sign-in, then a full cycle on XOAUTH2 at IMAP and SMTP; a
    revoked access token refused by each server is renewed and retried."""
    with OAuthEnv("oauth-device") as env:
        p = env.ctl("oauth", "status", expect=None)
        t.check(p.returncode == 1 and "run mentorctl oauth login" in p.stdout,
                "before any sign-in, oauth status says to run mentorctl oauth login",
                p.stdout + p.stderr)
        mid = env.deliver("ana@example.org", "joining", "I would like to join.")
        p = env.run("2026-11-02T10:00", expect=None)
        t.check(p.returncode == 1 and "mentorctl oauth login" in p.stderr,
                "without a refresh token mentord exits 1 and says to run mentorctl oauth "
                "login", p.stderr[-1500:])
        t.check(env.sql("SELECT count(*) FROM messages")[0][0] == 0 and
                not any("\\Seen" in f for f in flags(env)) and env.sent() == [],
                "nothing is read, flagged or sent without a token",
                (flags(env), len(env.sent())))

        rc, out, err, code = env.login_device(t)
        t.check(rc == 0 and code is not None, "mentorctl oauth login (device) succeeds once "
                "the code is entered", out + err)
        t.check(env.oauth.device_url.split("/device")[0] in out and "/activate" in out,
                "it printed the verification address and the code", out)
        t.check(env.oauth.counts().get("device_pending", 0) >= 1,
                "it polled while the person had not signed in yet", env.oauth.counts())
        t.check(file_mode(env.token_file) == 0o600, "the token file is mode 600",
                oct(file_mode(env.token_file)))
        t.check(bool(token_file(env).get("refresh_token")), "the refresh token is stored")
        t.check(env.secrets_seen(out + err) == [], "no token or secret is printed",
                env.secrets_seen(out + err))
        p = env.ctl("oauth", "status", expect=None)
        t.check(p.returncode == 0 and "refresh token: stored" in p.stdout and
                "access token: valid until" in p.stdout,
                "oauth status reports a stored refresh token and a valid access token",
                p.stdout)
        t.check(env.secrets_seen(p.stdout + p.stderr) == [], "oauth status shows no token")

        p = env.run("2026-11-02T10:05", "-v", expect=None)
        t.check(p.returncode == 0, "with a token the cycle succeeds", p.stderr[-2000:])
        t.check(env.sql("SELECT count(*) FROM messages WHERE message_id = ?", mid)[0][0] == 1,
                "the message read over IMAP with XOAUTH2 is stored")
        t.check(len(answered(env, "ana@example.org")) == 1,
                "the answer is sent over SMTP with XOAUTH2",
                [recipients(m) for m in env.sent()])
        t.check(all("\\Seen" in f for f in flags(env)), "the message is flagged on the server",
                flags(env))
        t.check(env.sink.failures().get("auth xoauth2 ok", 0) >= 1,
                "the SMTP server accepted the token", env.sink.failures())
        t.check("oauth2" in dovecot_log(env) or "xoauth2" in dovecot_log(env).lower(),
                "Dovecot logged the OAuth login", dovecot_log(env)[-800:])
        t.check(env.secrets_seen(p.stderr) == [], "the verbose log holds no token",
                env.secrets_seen(p.stderr))

        # The provider revokes the access token; Dovecot is first to ask.
        grants = env.oauth.counts().get("refresh", 0)
        env.oauth.reject_next(1, who="imap")
        env.deliver("ben@example.org", "joining", "Me too.")
        p = env.run("2026-11-02T10:10", expect=None)
        t.check(p.returncode == 0 and len(answered(env, "ben@example.org")) == 1,
                "IMAP refused the token: mentord renewed it, logged in and answered in "
                "the same run", p.stderr[-2000:])
        t.check(env.oauth.counts().get("rejected") == 1 and
                env.oauth.counts().get("refresh", 0) == grants + 1,
                "exactly one renewal followed the refusal", env.oauth.counts())
        t.check("trying once more" in p.stderr, "the refusal and the retry are logged",
                p.stderr[-1500:])
        # Now the SMTP server is the one that knows, while three emails go
        # out at once over parallel connections with that token.
        grants = env.oauth.counts().get("refresh", 0)
        env.oauth.reject_next(1, who="smtp")
        trio = ["cy%d@example.org" % i for i in range(3)]
        for who in trio:
            env.deliver(who, "joining", "And me.")
        p = env.run("2026-11-02T10:15", expect=None)
        t.check(p.returncode == 0 and all(len(answered(env, w)) == 1 for w in trio),
                "SMTP refused the token: renewed, sent again, each delivered once",
                p.stderr[-2000:])
        refused = env.sink.failures().get("auth xoauth2 refused", 0)
        t.check(env.oauth.counts().get("refresh", 0) == grants + 1 and 1 <= refused <= 3,
                "the sends refused with the revoked token share one renewal (%d refused)"
                % refused, (env.oauth.counts(), env.sink.failures()))
        t.check(env.oauth.counts().get("reuse", 0) == 0,
                "no rotated refresh token was ever used twice", env.oauth.counts())
        t.check(env.sql("SELECT count(*) FROM outbox WHERE status != 'sent'")[0][0] == 0,
                "nothing is left in the outbox")


def browser_cycle(t):
    """OAUTHBEARER at IMAP and SMTP, sign-in with the browser flow (PKCE),
    once through the loopback redirect and once by pasting the address."""
    with OAuthEnv("oauth-browser", imap_auth="oauthbearer", smtp_auth="oauthbearer",
                  flow="browser") as env:
        def login(paste):
            # Without pasting, no terminal at all: the answer must come to
            # the loopback listener.
            p = subprocess.Popen([env.mentorctl, "-c", env.conf, "oauth", "login"],
                                 stdin=subprocess.PIPE if paste else subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            url = None
            out = []
            for line in p.stdout:
                out.append(line)
                s = line.strip()
                if s.startswith(env.oauth.authorize_url):
                    url = s
                if "press Enter" in line:
                    break
            location = None
            if url:
                # The person's browser: the provider answers with a redirect.
                class NoRedirect(urllib.request.HTTPRedirectHandler):
                    def redirect_request(self, *a, **k):
                        return None
                import ssl
                ctx = ssl.create_default_context(cafile=env.ca)
                opener = urllib.request.build_opener(
                    NoRedirect, urllib.request.HTTPSHandler(context=ctx))
                try:
                    opener.open(url, timeout=10)
                except urllib.error.HTTPError as e:
                    location = e.headers.get("Location")
            if location and paste:
                # A stale or forged answer first: its state is not ours.
                p.stdin.write("http://127.0.0.1:1/?code=forged&state=not-ours\n")
                p.stdin.write(location + "\n")
                p.stdin.flush()
            elif location:
                with urllib.request.urlopen(location, timeout=10) as r:
                    r.read()
            rest, err = p.communicate(timeout=60)
            return p.returncode, "".join(out) + rest, err, url, location

        rc, out, err, url, location = login(paste=False)
        t.check(url is not None and "code_challenge_method=S256" in url and "state=" in url,
                "the authorization address asks for PKCE S256 and carries a state", out)
        t.check(rc == 0 and env.oauth.counts().get("code") == 1,
                "the loopback redirect completes the browser sign-in", out + err)
        t.check(env.secrets_seen(out + err) == [], "nothing secret printed")
        rc, out, err, url, location = login(paste=True)
        t.check(rc == 0 and env.oauth.counts().get("code") == 2,
                "pasting the address the browser could not open works too", out + err)
        t.check("not for this sign-in" in out and
                env.oauth.counts().get("invalid_grant", 0) == 0,
                "an answer with another state is ignored, not sent to the provider", out)
        env.deliver("dee@example.org", "joining", "Hello.")
        p = env.run("2026-11-02T10:00", expect=None)
        t.check(p.returncode == 0 and len(answered(env, "dee@example.org")) == 1,
                "a full cycle with OAUTHBEARER at IMAP and SMTP", p.stderr[-2000:])
        t.check(env.sink.failures().get("auth oauthbearer ok", 0) >= 1,
                "the SMTP server saw OAUTHBEARER", env.sink.failures())
        # OAUTHBEARER's error path: a refused token gets a challenge the
        # client must answer before the NO.
        env.oauth.reject_next(1, who="imap")
        env.deliver("eve@example.org", "joining", "Hi.")
        p = env.run("2026-11-02T10:05", expect=None)
        t.check(p.returncode == 0 and len(answered(env, "eve@example.org")) == 1,
                "a refused OAUTHBEARER login is renewed and retried", p.stderr[-2000:])


def client_credentials_cycle(t):
    """App-only access: no person, no refresh token; every access token comes
    from the client's own credentials."""
    with OAuthEnv("oauth-app", lifetime=4, flow="client_credentials") as env:
        p = env.ctl("oauth", "login", expect=None)
        t.check(p.returncode == 0 and "access token stored" in p.stdout.lower() and
                env.oauth.counts().get("client_credentials") == 1,
                "mentorctl oauth login checks the client by fetching a token",
                p.stdout + p.stderr)
        p = env.ctl("oauth", "status", expect=None)
        t.check(p.returncode == 0 and "refresh token" not in p.stdout,
                "oauth status: healthy without any refresh token", p.stdout)
        env.deliver("ivy@example.org", "joining", "Hello.")
        p = env.run("2026-11-02T10:00", expect=None)
        t.check(p.returncode == 0 and len(answered(env, "ivy@example.org")) == 1,
                "a full cycle on client credentials", p.stderr[-2000:])
        time.sleep(4.5)  # the token has expired
        before = env.oauth.counts().get("client_credentials", 0)
        env.deliver("jo@example.org", "joining", "Hello.")
        p = env.run("2026-11-02T10:05", expect=None)
        t.check(p.returncode == 0 and len(answered(env, "jo@example.org")) == 1 and
                env.oauth.counts().get("client_credentials", 0) > before,
                "an expired app token is replaced by a new client-credentials grant",
                (p.stderr[-1500:], env.oauth.counts()))
        t.check(env.oauth.counts().get("introspect_inactive", 0) == 0,
                "no server was shown an expired token", env.oauth.counts())


def daemon_expiry(t):
    """Access tokens of 8 seconds in a running daemon."""
    with OAuthEnv("oauth-expiry", lifetime=8, rate=20, smtp_idle=2,
                  dovecot_settings=["imap_idle_notify_interval = 2 secs"]) as env:
        rc, out, err, code = env.login_device(t)
        t.check(rc == 0, "signed in", out + err)
        log = open(os.path.join(env.dir, "mentord.log"), "w+")
        proc = subprocess.Popen([env.mentord, "-c", env.conf, "--now", "2026-11-02T09:00",
                                 "--verbose"], stdout=log, stderr=subprocess.STDOUT)
        people = []
        try:
            time.sleep(1.5)
            # Mail in waves across several token lifetimes; sending is paced
            # at 3 s and the SMTP server drops idle connections after 2 s,
            # so sends log in again and again as tokens come and go.  The
            # first wave takes longer to send than a token lives: its token
            # must be renewed in the middle of the sending.
            for wave, size in enumerate((6, 3, 3)):
                before = env.oauth.counts().get("refresh", 0)
                for i in range(size):
                    who = "w%d-%d@example.org" % (wave, i)
                    people.append(who)
                    env.deliver(who, "joining", "Please let me join.")
                # A send that fails for another reason (a loaded machine)
                # is retried by the outbox a minute later: still answered.
                log.flush()
                t.check(wait_for(lambda: all(answered(env, p) for p in people), 150),
                        "wave %d answered" % wave,
                        ([recipients(m) for m in env.sent()],
                         [line for line in open(log.name).read().splitlines()
                          if "warning" in line or "error" in line][-20:]))
                if wave == 0:
                    t.check(env.oauth.counts().get("refresh", 0) > before,
                            "the token was renewed while the wave was being sent",
                            env.oauth.counts())
                time.sleep(5)
            # The IDLE session outlives its token; the server cuts it.
            kicked = subprocess.run(["doveadm", "-c", env.dovecot.conf_file, "kick", "mentor"],
                                    capture_output=True, text=True)
            t.check(kicked.returncode == 0 and "mentor" in kicked.stdout,
                    "doveadm kick ends the IDLE session", kicked.stdout + kicked.stderr)
            time.sleep(9)  # past the lifetime of every token issued so far
            env.deliver("late@example.org", "joining", "Am I too late?")
            people.append("late@example.org")
            t.check(wait_for(lambda: answered(env, "late@example.org"), 40),
                    "after the session was cut and its token expired, new mail is still "
                    "read and answered")
            time.sleep(1)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            text = log.read()
        env.check_sanitizers(subprocess.CompletedProcess([], 0, "", text))
        counts = env.oauth.counts()
        t.check(all(len(answered(env, p)) == 1 for p in people),
                "every one of the %d senders answered exactly once" % len(people),
                [recipients(m) for m in env.sent()])
        t.check(env.sql("SELECT count(*) FROM messages")[0][0] == len(people),
                "every message stored once")
        t.check(counts.get("refresh", 0) >= 3, "tokens were renewed while it ran (%d)"
                % counts.get("refresh", 0), counts)
        t.check(counts.get("introspect_inactive", 0) == 0 and
                env.sink.failures().get("auth xoauth2 refused", 0) == 0,
                "no server ever saw an expired token: renewed before expiry",
                (counts, env.sink.failures()))
        t.check(counts.get("reuse", 0) == 0 and counts.get("invalid_grant", 0) == 0,
                "each rotated refresh token was used once", counts)
        t.check("IDLE" in text and "reconnecting" in text,
                "the daemon saw its IDLE session end and logged in again", text[-3000:])
        t.check(env.secrets_seen(text) == [], "the daemon's verbose log holds no token",
                env.secrets_seen(text))


def daemon_revoked(t):
    """The refresh token is revoked while the daemon runs."""
    with OAuthEnv("oauth-revoked", lifetime=16,
                  dovecot_settings=["imap_idle_notify_interval = 2 secs"]) as env:
        rc, out, err, code = env.login_device(t)
        t.check(rc == 0, "signed in", out + err)
        log = open(os.path.join(env.dir, "mentord.log"), "w+")
        proc = subprocess.Popen([env.mentord, "-c", env.conf, "--now", "2026-11-02T09:00",
                                 "--verbose"], stdout=log, stderr=subprocess.STDOUT)

        def notices():
            return [m for m in env.sent() if COORDINATOR in recipients(m) and
                    "cannot sign in" in str(m["parsed"]["Subject"])]
        try:
            time.sleep(1.5)
            env.deliver("fay@example.org", "joining", "Hello.")
            t.check(wait_for(lambda: answered(env, "fay@example.org"), 20),
                    "answered while the sign-in is good")
            env.oauth.revoke_refresh_tokens()
            # The daemon renews a quarter of the lifetime before expiry, fails,
            # and still has a working access token to send the notice with.
            t.check(wait_for(lambda: notices(), 30),
                    "the coordinator is told by email that the sign-in stopped working",
                    [str(m["parsed"]["Subject"]) for m in env.sent()])
            time.sleep(6)  # the access token has expired now
            env.deliver("gus@example.org", "joining", "Hello?")
            time.sleep(3)
            t.check(answered(env, "gus@example.org") == [],
                    "without a token the new message waits")
            # The next renewal comes after the 30 s backoff, and fails again.
            t.check(wait_for(lambda: env.oauth.counts().get("invalid_grant", 0) >= 2, 45),
                    "renewal is retried after the backoff", env.oauth.counts())
            time.sleep(2)
            t.check(len(notices()) == 1, "the coordinator is told only once",
                    len(notices()))
            attempts = env.oauth.counts().get("invalid_grant", 0)
            t.check(attempts == 2, "no renewal attempt between backoffs (%d)" % attempts)
            # Someone signs in again; new mail wakes the daemon.
            rc, out, err, code = env.login_device(t)
            t.check(rc == 0, "a new sign-in is stored", out + err)
            env.deliver("hal@example.org", "joining", "Hi.")
            t.check(wait_for(lambda: answered(env, "gus@example.org") and
                             answered(env, "hal@example.org"), 40),
                    "after the new sign-in the mail that waited and the new one are "
                    "answered", [recipients(m) for m in env.sent()])
            time.sleep(1)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.seek(0)
            text = log.read()
        env.check_sanitizers(subprocess.CompletedProcess([], 0, "", text))
        t.check("invalid_grant" in text and "told by email" in text,
                "the log says what failed and that the coordinator was told", text[-3000:])
        t.check(proc.returncode == 0, "the daemon never exited on its own")
        body = notices()[0]["parsed"].get_content() if notices() else ""
        t.check("mentorctl oauth login" in body and "invalid_grant" in body,
                "the notice says what failed and what to run", body)
        for who in ("fay@example.org", "gus@example.org", "hal@example.org"):
            t.check(len(answered(env, who)) == 1, "%s answered exactly once" % who)
        t.check(env.secrets_seen(text + body) == [], "no token in the log or the notice",
                env.secrets_seen(text + body))


def main():
    t = Checker()
    device_cycle(t)
    browser_cycle(t)
    client_credentials_cycle(t)
    daemon_expiry(t)
    daemon_revoked(t)
    t.finish()


if __name__ == "__main__":
    main()
