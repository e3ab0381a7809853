#!/usr/bin/python3
"""smtpsink: a real SMTP server (aiosmtpd) that keeps what it receives.

Used by the integration tests, the C unit test of the smtp module and the
README demo.  Run it with Debian's /usr/bin/python3 (python3-aiosmtpd).

Every accepted message becomes DIR/mail/NNNNNN.eml (the DATA bytes) with a
sidecar DIR/mail/NNNNNN.json {"mail_from", "rcpt_tos", "peer", "session"};
the sidecar is renamed into place first, then the .eml, so a visible .eml
always has its sidecar.  DIR/sessions.log gets one line per connection:
"SESSION HOST:PORT ISO-TIME".

Failure modes, for tests:
  --fail-rcpt ADDR=CODE   RCPT TO:<ADDR> is answered CODE (550, 451, 421...)
  --fail-first N=CODE     the first N DATA transactions are answered CODE
  --fail-connect N        the first N connections are greeted with 421 and
                          closed (a server refusing service)
  --fail-mail N=CODE      the first N MAIL FROM commands are answered CODE
  --drop-data N           in the first N DATA transactions the server reads
                          part of the message, then drops the connection
                          without answering (a server vanishing mid-session)
A 421 answer closes the connection, as a server shutting down would.
CODE may be a bare code ("451") or a whole reply ("451 4.3.0 Try later").
From Python the modes can also be changed while the server runs, with
set_failures(); failures() counts what was refused or dropped.

CLI:
  smtpsink.py DIR [options]         foreground; prints {"port":..,"pid":..}
  smtpsink.py start DIR [options]   daemonizes, prints the JSON line, returns
  smtpsink.py stop DIR              stops the daemon started on DIR
Options: --port N (default: a free port), --tls CERT KEY (offer STARTTLS),
  --auth USER=PASS (require AUTH PLAIN/LOGIN), --idle-timeout SECS (drop
  idle connections, default 60), --oauth URL CA (require AUTH XOAUTH2 or
  OAUTHBEARER with an access token that the RFC 7662 introspection endpoint
  URL, trusted through CA, says is active, after STARTTLS; PLAIN and LOGIN
  are then not offered).

Python:
  from smtpsink import SmtpSink
  sink = SmtpSink(dir, fail_rcpt={"bad@x": 550}).start()
  ... sink.port ... sink.wait_for(3) / sink.messages() ... sink.stop()
"""

import argparse
import asyncio
import base64
import binascii
import datetime
import email
import email.policy
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oauthserver import introspect  # noqa: E402

try:
    from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword
except ImportError as exc:  # never skip: a missing server is a failure
    sys.stderr.write(
        "smtpsink: cannot import aiosmtpd (%s); install python3-aiosmtpd and run "
        "with /usr/bin/python3\n" % exc
    )
    raise

import logging  # noqa: E402


class _QuietDeprecation(logging.Filter):
    """aiosmtpd 1.4 warns on every successful AUTH that a field it sets
    itself is deprecated; that says nothing about the test."""

    def filter(self, record):
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_QuietDeprecation())

DEFAULT_TEXT = {
    "2": "2.0.0 OK",
    "4": "4.3.0 Try again later",
    "5": "5.1.1 Rejected",
}


def reply_for(code):
    """'451' or 451 → '451 4.3.0 Try again later'; full replies pass through."""
    code = str(code).strip()
    if len(code) == 3 and code.isdigit():
        if code == "421":
            return "421 4.3.2 Service shutting down, closing connection"
        return "%s %s" % (code, DEFAULT_TEXT.get(code[0], "Error"))
    if len(code) < 3 or not code[:3].isdigit():
        raise ValueError("not an SMTP reply: %r" % code)
    return code


def _parse_fail_rcpt(items):
    out = {}
    for item in items or []:
        addr, sep, code = item.rpartition("=")
        if not sep or not addr:
            raise ValueError("--fail-rcpt wants ADDR=CODE, not %r" % item)
        out[addr.lower()] = reply_for(code)
    return out


def _parse_fail_first(item):
    if item is None:
        return None
    n, sep, code = item.partition("=")
    if not sep or not n.isdigit():
        raise ValueError("--fail-first wants N=CODE, not %r" % item)
    return int(n), reply_for(code)


class _Handler:
    """aiosmtpd hooks; everything runs on the sink's event loop thread."""

    def __init__(self, sink):
        self.sink = sink

    def _maybe_close(self, server, status):
        if status.startswith("421"):
            # The reply is pushed after the hook returns; close once it is out.
            server.loop.call_later(0.05, server.transport.close)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        status = self.sink._take_failure("mail")
        if status is not None:
            self.sink._count("mail %s" % status[:3])
            self._maybe_close(server, status)
            return status
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        status = self.sink.fail_rcpt.get(address.lower())
        if status is not None:
            self._maybe_close(server, status)
            return status
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        status = self.sink._take_data_failure()
        if status is not None:
            self.sink._count("data %s" % status[:3])
            self._maybe_close(server, status)
            return status
        num = self.sink._store(server, session, envelope)
        return "250 2.0.0 OK queued as %06d" % num


class _SinkSMTP(SMTP):
    """Numbers each connection once (STARTTLS calls connection_made again)."""

    def __init__(self, sink, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sink = sink
        self.sink_id = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if self.sink_id is None:
            self.sink_id = self.sink._new_session(transport.get_extra_info("peername"))

    async def smtp_DATA(self, arg):
        if self.envelope.rcpt_tos and not arg and self.sink._take_failure("drop_data"):
            # Answer 354, take a first piece of the message, then vanish
            # without a reply, as a crashing server or a cut network would.
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            try:
                await asyncio.wait_for(self._reader.read(64), 5)
            except (asyncio.TimeoutError, ConnectionError):
                pass
            self.sink._count("drop_data")
            self.transport.abort()
            # Let connection_lost run before the command loop reads on.
            await asyncio.sleep(0.05)
            return
        await super().smtp_DATA(arg)


class _OAuthSMTP(_SinkSMTP):
    """A real access token (Microsoft's run to 1,500 characters and more)
    makes the AUTH response line longer than aiosmtpd's 1001-byte line
    limit; RFC 4954 allows 12,288 octets there."""

    line_length_limit = 12288


def _bearer_of(fields):
    """The token of an "auth=Bearer TOKEN" field among fields, or None."""
    for f in fields:
        if f[:5].lower() == b"auth=":
            scheme, _, token = f[5:].partition(b" ")
            if scheme.lower() == b"bearer" and token:
                return token.decode("ascii", "replace")
    return None


class _OAuthHandler(_Handler):
    """_Handler with the SASL mechanisms of Microsoft 365 and Gmail:
    XOAUTH2 (user=U^Aauth=Bearer T^A^A) and OAUTHBEARER (RFC 7628).  A
    token is good when the introspection endpoint says it is active for the
    user who logs in; a refused one gets the error challenge (334 and base64
    JSON), which the client must answer, then 535, as Gmail does."""

    def __init__(self, sink, introspect_url, ca_file):
        super().__init__(sink)
        self.introspect_url = introspect_url
        self.ca_file = ca_file

    async def _response(self, server, args):
        if len(args) == 1:
            blob = await server.challenge_auth("")
            return None if blob is MISSING else blob
        try:
            return base64.b64decode(args[1].encode(), validate=True)
        except (ValueError, binascii.Error):
            await server.push("501 5.5.2 Can't decode base64")
            return None

    async def _check(self, server, mech, user, token):
        active = None
        if user and token:
            loop = asyncio.get_running_loop()
            try:
                active = await loop.run_in_executor(
                    None, introspect, self.introspect_url, self.ca_file, token)
            except Exception as exc:  # the endpoint is down: a 454, retry later
                self.sink._count("auth %s unavailable" % mech)
                sys.stderr.write("smtpsink: introspection failed: %s\n" % exc)
                return AuthResult(success=False, handled=False,
                                  message="454 4.7.0 Temporary authentication failure")
        if active is not None and active == user:
            self.sink._count("auth %s ok" % mech)
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        self.sink._count("auth %s refused" % mech)
        reply = await server.challenge_auth(json.dumps(
            {"status": "invalid_token", "schemes": "bearer", "scope": "mail"}))
        if reply is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and token not accepted")

    async def auth_XOAUTH2(self, server, args):
        blob = await self._response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        fields = blob.split(b"\x01")
        user = next((f[5:].decode("utf-8", "replace") for f in fields
                     if f[:5].lower() == b"user="), None)
        return await self._check(server, "xoauth2", user, _bearer_of(fields))

    async def auth_OAUTHBEARER(self, server, args):
        blob = await self._response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        gs2, _, rest = blob.partition(b"\x01")
        user = None
        for part in gs2.split(b","):
            if part.startswith(b"a="):
                user = part[2:].replace(b"=2C", b",").replace(b"=3D", b"=").decode(
                    "utf-8", "replace")
        return await self._check(server, "oauthbearer", user, _bearer_of(rest.split(b"\x01")))


class _RefuseProtocol(asyncio.Protocol):
    """A connection the server refuses: a 421 greeting, then close."""

    def __init__(self, sink):
        self.sink = sink

    def connection_made(self, transport):
        self.sink._new_session(transport.get_extra_info("peername"))
        self.sink._count("connect 421")
        transport.write(b"421 4.3.2 smtpsink.test Service not available, closing connection\r\n")
        transport.close()


class SmtpSink:
    """A threaded SMTP server on 127.0.0.1 that keeps mail in directory."""

    def __init__(
        self,
        directory,
        port=0,
        fail_rcpt=None,
        fail_first=None,
        tls=None,
        auth=None,
        host="127.0.0.1",
        idle_timeout=60,
        fail_connect=0,
        fail_mail=None,
        drop_data=0,
        oauth=None,
    ):
        """fail_rcpt: {addr: code}; fail_first: (n, code); tls: (cert, key);
        auth: (user, password); idle_timeout: seconds before an idle
        connection is dropped; fail_connect: n connections greeted with 421;
        fail_mail: (n, code) for MAIL FROM; drop_data: n DATA transactions
        cut off mid-message; oauth: (introspection_url, ca_file) to require
        AUTH XOAUTH2 or OAUTHBEARER instead of a password (needs tls)."""
        self.dir = os.path.abspath(directory)
        self.maildir = os.path.join(self.dir, "mail")
        self.host = host
        self.port = port
        self.fail_rcpt = {a.lower(): reply_for(c) for a, c in (fail_rcpt or {}).items()}
        self.fail_first = None
        if fail_first is not None:
            self.fail_first = [int(fail_first[0]), reply_for(fail_first[1])]
        self.tls = tls
        self.auth = auth
        self.oauth = oauth
        self.idle_timeout = idle_timeout
        self._modes = {}
        self._counts = {}
        self._loop = None
        self._server = None
        self._thread = None
        self._lock = threading.Lock()
        self.set_failures(fail_connect=fail_connect, fail_mail=fail_mail, drop_data=drop_data)
        self._next_msg = 1
        self._next_session = 1
        os.makedirs(self.maildir, exist_ok=True)
        self._scan_existing()

    # -- numbering ----------------------------------------------------

    def _scan_existing(self):
        nums = [int(f[:6]) for f in os.listdir(self.maildir) if f[:6].isdigit()]
        self._next_msg = max(nums, default=0) + 1
        try:
            with open(os.path.join(self.dir, "sessions.log")) as f:
                ids = [int(line.split()[0]) for line in f if line.split()]
            self._next_session = max(ids, default=0) + 1
        except FileNotFoundError:
            pass

    def _new_session(self, peer):
        with self._lock:
            sid = self._next_session
            self._next_session += 1
            with open(os.path.join(self.dir, "sessions.log"), "a") as f:
                f.write(
                    "%d %s:%s %s\n"
                    % (sid, peer[0], peer[1], datetime.datetime.now().isoformat())
                )
        return sid

    def set_failures(self, fail_connect=None, fail_mail=None, drop_data=None, fail_first=None):
        """Changes failure modes while the server runs (None: unchanged):
        fail_connect n, fail_mail (n, code), drop_data n, fail_first (n, code)."""
        with self._lock:
            if fail_connect is not None:
                self._modes["connect"] = [int(fail_connect), None]
            if fail_mail is not None:
                self._modes["mail"] = [int(fail_mail[0]), reply_for(fail_mail[1])]
            if drop_data is not None:
                self._modes["drop_data"] = [int(drop_data), True]
            if fail_first is not None:
                self.fail_first = [int(fail_first[0]), reply_for(fail_first[1])]

    def _take_failure(self, mode):
        """The failure to play for this event, or None."""
        with self._lock:
            m = self._modes.get(mode)
            if m is not None and m[0] > 0:
                m[0] -= 1
                return m[1] if m[1] is not None else True
        return None

    def _count(self, what):
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + 1

    def failures(self):
        """{what: count} of failures played so far ("connect 421",
        "mail 421", "data 451", "drop_data", ...)."""
        with self._lock:
            return dict(self._counts)

    def _take_data_failure(self):
        with self._lock:
            if self.fail_first is not None and self.fail_first[0] > 0:
                self.fail_first[0] -= 1
                return self.fail_first[1]
        return None

    def _store(self, server, session, envelope):
        with self._lock:
            num = self._next_msg
            self._next_msg += 1
        data = envelope.original_content
        if data is None:
            data = envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        peer = session.peer
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": "%s:%s" % (peer[0], peer[1]) if peer else None,
            "session": server.sink_id,
        }
        base = os.path.join(self.maildir, "%06d" % num)
        self._write_atomic(base + ".json", json.dumps(meta).encode())
        self._write_atomic(base + ".eml", data)
        return num

    @staticmethod
    def _write_atomic(path, data):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)

    # -- server -------------------------------------------------------

    def _factory(self):
        kwargs = {"loop": self._loop, "hostname": "smtpsink.test", "timeout": self.idle_timeout}
        if self.tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.tls[0], self.tls[1])
            kwargs["tls_context"] = ctx
        if self.auth is not None:
            want_user, want_pass = self.auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (
                    isinstance(auth_data, LoginPassword)
                    and auth_data.login.decode() == want_user
                    and auth_data.password.decode() == want_pass
                )
                # handled=False: aiosmtpd then answers 535 itself.
                return AuthResult(success=ok, handled=False)

            kwargs["authenticator"] = authenticator
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = self.tls is not None
        handler = _Handler(self)
        if self.oauth is not None:
            handler = _OAuthHandler(self, self.oauth[0], self.oauth[1])
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = True
            kwargs["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        if self._take_failure("connect"):
            return _RefuseProtocol(self)
        if self.oauth is not None:
            return _OAuthSMTP(self, handler, **kwargs)
        return _SinkSMTP(self, handler, **kwargs)

    def _run(self, ready, errors):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                self._loop.create_server(self._factory, host=self.host, port=self.port)
            )
        except Exception as exc:  # reported to start()
            errors.append(exc)
            ready.set()
            self._loop.close()
            return
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(
                    asyncio.gather(*pending, return_exceptions=True)
                )
            self._loop.close()

    def start(self):
        ready = threading.Event()
        errors = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, errors), name="smtpsink", daemon=True
        )
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        if not ready.is_set():
            raise RuntimeError("smtpsink did not start")
        return self

    def stop(self):
        if self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- reading what arrived -----------------------------------------

    def messages(self):
        """Every kept message in order: dicts with mail_from, rcpt_tos,
        data (bytes), parsed (EmailMessage, policy.default), session, path."""
        return read_messages(self.dir)

    def wait_for(self, count, timeout=10.0):
        """Waits until at least count messages arrived; returns messages()."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= count or time.monotonic() >= deadline:
                return msgs
            time.sleep(0.05)

    def sessions(self):
        return read_sessions(self.dir)


def read_messages(directory):
    maildir = os.path.join(directory, "mail")
    out = []
    if not os.path.isdir(maildir):
        return out
    for name in sorted(os.listdir(maildir)):
        if not name.endswith(".eml"):
            continue
        path = os.path.join(maildir, name)
        with open(path, "rb") as f:
            data = f.read()
        with open(path[:-4] + ".json") as f:
            meta = json.load(f)
        meta["data"] = data
        meta["parsed"] = email.message_from_bytes(data, policy=email.policy.default)
        meta["path"] = path
        out.append(meta)
    return out


def read_sessions(directory):
    try:
        with open(os.path.join(directory, "sessions.log")) as f:
            return [line.split() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def _add_server_options(p):
    p.add_argument("dir")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fail-rcpt", action="append", default=[], metavar="ADDR=CODE")
    p.add_argument("--fail-first", metavar="N=CODE")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER=PASS")
    p.add_argument("--idle-timeout", type=float, default=60, metavar="SECS")
    p.add_argument("--fail-connect", type=int, default=0, metavar="N")
    p.add_argument("--fail-mail", metavar="N=CODE")
    p.add_argument("--drop-data", type=int, default=0, metavar="N")
    p.add_argument("--oauth", nargs=2, metavar=("INTROSPECTION_URL", "CA"))
    p.add_argument("--detach-stdout", action="store_true", help=argparse.SUPPRESS)


def _sink_from_args(args):
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition("=")
        if not sep:
            raise ValueError("--auth wants USER=PASS")
        auth = (user, password)
    return SmtpSink(
        args.dir,
        port=args.port,
        fail_rcpt=_parse_fail_rcpt(args.fail_rcpt),
        fail_first=_parse_fail_first(args.fail_first),
        tls=tuple(args.tls) if args.tls else None,
        auth=auth,
        idle_timeout=args.idle_timeout,
        fail_connect=args.fail_connect,
        fail_mail=_parse_fail_first(args.fail_mail),
        drop_data=args.drop_data,
        oauth=tuple(args.oauth) if args.oauth else None,
    )


def _pidfile(directory):
    return os.path.join(os.path.abspath(directory), "smtpsink.pid")


def _serve(args):
    sink = _sink_from_args(args).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    info = {"port": sink.port, "pid": os.getpid()}
    with open(_pidfile(args.dir) + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(_pidfile(args.dir) + ".tmp", _pidfile(args.dir))
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    if args.detach_stdout:
        # The starter has read the line and exits; nobody reads this pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    while not stop.wait(1.0):
        pass
    sink.stop()
    try:
        os.unlink(_pidfile(args.dir))
    except FileNotFoundError:
        pass
    return 0


def _start(argv):
    """Runs the server in a new session with its own pipe, relays the JSON
    line and returns; the server's stderr goes to DIR/smtpsink.log."""
    p = argparse.ArgumentParser(prog="smtpsink.py start")
    _add_server_options(p)
    args = p.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    log = open(os.path.join(args.dir, "smtpsink.log"), "ab")
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)] + argv + ["--detach-stdout"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    log.close()
    line = proc.stdout.readline()
    proc.stdout.close()
    if not line:
        proc.wait()
        with open(os.path.join(args.dir, "smtpsink.log"), "rb") as f:
            sys.stderr.write(f.read().decode(errors="replace"))
        sys.stderr.write("smtpsink: server failed to start (exit %s)\n" % proc.returncode)
        return 1
    sys.stdout.write(line.decode())
    sys.stdout.flush()
    return 0


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _stop(argv):
    p = argparse.ArgumentParser(prog="smtpsink.py stop")
    p.add_argument("dir")
    args = p.parse_args(argv)
    try:
        with open(_pidfile(args.dir)) as f:
            pid = int(f.read().strip())
    except FileNotFoundError:
        sys.stderr.write("smtpsink: no server running in %s\n" % args.dir)
        return 1
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    try:
        os.unlink(_pidfile(args.dir))
    except FileNotFoundError:
        pass
    return 0


def main(argv):
    if argv and argv[0] == "start":
        return _start(argv[1:])
    if argv and argv[0] == "stop":
        return _stop(argv[1:])
    p = argparse.ArgumentParser(prog="smtpsink.py", description=__doc__.split("\n")[0])
    _add_server_options(p)
    return _serve(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
