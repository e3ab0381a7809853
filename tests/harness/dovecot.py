#!/usr/bin/python3
"""A throw-away Dovecot 2.3 IMAP server on loopback, for tests and demos.

As a module:

    sys.path.insert(0, "tests/harness")
    from dovecot import Dovecot
    with Dovecot(tmpdir, tls=True) as dc:
        uid = dc.append("INBOX", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        print(dc.port, dc.tls_port, dc.user, dc.password, dc.ca_file)
        dc.list("INBOX")   # [(uid, [flags], bytes)]

As a command (every command prints one JSON line on stdout):

    dovecot.py start DIR [--tls]    {"port", "tls_port", "pid", "user", "password", "ca_file", ...}
    dovecot.py stop DIR
    dovecot.py restart DIR          same ports, same mail
    dovecot.py append DIR MAILBOX FILE            {"uid": N}
    dovecot.py list DIR MAILBOX     [{"uid", "flags", "size", "data_b64"}, ...]
    dovecot.py mailboxes DIR        ["INBOX", ...]
    dovecot.py recreate DIR MAILBOX [--keep]      {"uidvalidity": N}
    dovecot.py info DIR             the saved state

Dovecot runs as root with its login and internal processes as dovenull and
dovecot, and mail owned by the dovecot user (Dovecot refuses to run logins
as root).  The state (ports, password, paths) is kept in DIR/harness.json so
that a later command in another process finds the server.  When Dovecot is
missing or will not start this raises HarnessError: a test using it fails,
it never skips.
"""

import argparse
import base64
import grp
import imaplib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testca import CertError, make_certs  # noqa: E402

STATE_FILE = "harness.json"
DEFAULT_USER = "mentor"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def _children(pid):
    """PIDs whose parent is pid (Dovecot's master forks every service)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(name))
    return out


class HarnessError(Exception):
    """Dovecot is missing, misconfigured or would not start or stop."""


def _run(args, **kwargs):
    """Runs a command given as an argument list (never a shell)."""
    try:
        return subprocess.run(args, check=True, capture_output=True, **kwargs)
    except FileNotFoundError as e:
        raise HarnessError("%s: not installed (%s)" % (args[0], e)) from e
    except subprocess.CalledProcessError as e:
        raise HarnessError(
            "%s failed (exit %d): %s"
            % (" ".join(args), e.returncode, e.stderr.decode(errors="replace").strip())
        ) from e


def dovecot_version():
    """Returns the Dovecot version string; raises HarnessError if missing."""
    out = _run(["dovecot", "--version"]).stdout.decode().strip()
    if not out.startswith("2.3"):
        # 2.4 changed the configuration syntax this harness writes.
        raise HarnessError("Dovecot 2.3 is needed, found %r" % out)
    return out


def _free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _pid_alive(pid):
    if pid <= 0:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            # A zombie still answers kill(pid, 0) but is gone.
            state = f.read().rsplit(")", 1)[1].split()[0]
            return state != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _make_traversable(path):
    """The dovecot user must reach DIR/mail: every ancestor needs o+x.
    Private temporary directories of ours (mkdtemp makes them 0700) are
    opened for search (not listing); anything else is reported."""
    path = os.path.abspath(path)
    tmp = os.path.realpath(tempfile.gettempdir())
    while True:
        st = os.stat(path)
        if not st.st_mode & 0o001:
            if os.path.realpath(path).startswith(tmp + "/") and st.st_uid == os.geteuid():
                os.chmod(path, (st.st_mode & 0o7777) | 0o001)
            else:
                raise HarnessError(
                    "%s is not searchable by the dovecot user (mode %o); "
                    "use a directory under /tmp" % (path, st.st_mode & 0o7777))
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


class Dovecot:
    """One Dovecot instance whose files live in directory.

    Attributes after start(): port (plain IMAP, STARTTLS offered when tls),
    tls_port (implicit TLS, 0 without tls), pid, user, password, ca_file
    (None without tls), directory, log_file.
    """

    def __init__(self, directory=None, tls=False, user=DEFAULT_USER, password=None,
                 settings=(), oauth2=None):
        if directory is None:
            directory = tempfile.mkdtemp(prefix="mentord-dovecot-", dir="/tmp")
            self._own_directory = True
        else:
            self._own_directory = False
        self.directory = os.path.abspath(directory)
        self.tls = tls
        self.user = user
        self.password = password or secrets.token_hex(12)
        self.port = 0
        self.tls_port = 0
        self.pid = 0
        self.base_dir = None
        self.ca_file = None
        self.conf_file = os.path.join(self.directory, "dovecot.conf")
        self.log_file = os.path.join(self.directory, "dovecot.log")
        self.mail_dir = os.path.join(self.directory, "mail")
        # Extra dovecot.conf lines, e.g. "imap_idle_notify_interval = 1 secs".
        self.settings = list(settings)
        # {"introspection_url": URL, "ca_file": PEM}: AUTHENTICATE XOAUTH2
        # and OAUTHBEARER too, the token checked with Dovecot's oauth2
        # passdb against that RFC 7662 introspection endpoint (the password
        # still works for PLAIN and LOGIN, which the harness itself uses).
        self.oauth2 = oauth2

    # ---- persistence, so the CLI works across processes ----

    def _state_path(self):
        return os.path.join(self.directory, STATE_FILE)

    def info(self):
        return {
            "port": self.port,
            "tls_port": self.tls_port,
            "pid": self.pid,
            "user": self.user,
            "password": self.password,
            "ca_file": self.ca_file,
            "tls": self.tls,
            "base_dir": self.base_dir,
            "directory": self.directory,
            "conf_file": self.conf_file,
            "log_file": self.log_file,
        }

    def _save(self):
        path = self._state_path()
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.info(), f)
        os.replace(path + ".tmp", path)

    @classmethod
    def load(cls, directory):
        path = os.path.join(os.path.abspath(directory), STATE_FILE)
        try:
            with open(path) as f:
                st = json.load(f)
        except FileNotFoundError as e:
            raise HarnessError("%s: no Dovecot was started there" % directory) from e
        dc = cls(directory, tls=st["tls"], user=st["user"], password=st["password"])
        dc.port = st["port"]
        dc.tls_port = st["tls_port"]
        dc.pid = st["pid"]
        dc.ca_file = st["ca_file"]
        dc.base_dir = st["base_dir"]
        return dc

    # ---- set-up ----

    def _make_certs(self):
        try:
            ca_pem, pem, key = make_certs(os.path.join(self.directory, "tls"))
        except CertError as e:
            raise HarnessError(str(e)) from e
        self.ca_file = ca_pem
        return pem, key

    def _write_config(self):
        dc_user = pwd.getpwnam("dovecot")
        dc_group = grp.getgrgid(dc_user.pw_gid)
        try:
            pwd.getpwnam("dovenull")
        except KeyError as e:
            raise HarnessError("the dovenull user is missing (install dovecot-core)") from e

        os.makedirs(self.mail_dir, exist_ok=True)
        os.chown(self.mail_dir, dc_user.pw_uid, dc_user.pw_gid)
        os.chmod(self.mail_dir, 0o700)
        _make_traversable(self.directory)

        passwd = os.path.join(self.directory, "passwd")
        home = os.path.join(self.mail_dir, self.user)
        with open(passwd, "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n"
                    % (self.user, self.password, dc_user.pw_uid, dc_user.pw_gid, home))
        os.chown(passwd, dc_user.pw_uid, dc_user.pw_gid)
        os.chmod(passwd, 0o600)

        if self.base_dir is None:
            # Unix socket paths must stay under ~100 characters.
            self.base_dir = tempfile.mkdtemp(prefix="dc", dir="/tmp")
        os.makedirs(self.base_dir, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        if not self.port:
            self.port = _free_port()
        if self.tls and not self.tls_port:
            self.tls_port = _free_port()

        lines = [
            "# generated by tests/harness/dovecot.py",
            "protocols = imap",
            "listen = 127.0.0.1",
            "base_dir = %s" % self.base_dir,
            "state_dir = %s/state" % self.base_dir,
            "instance_name = %s" % os.path.basename(self.base_dir),
            "default_internal_user = dovecot",
            "default_login_user = dovenull",
            "first_valid_uid = 1",
            "first_valid_gid = 1",
            "log_path = %s" % self.log_file,
            "info_log_path = %s" % self.log_file,
            "auth_verbose = yes",
            "auth_mechanisms = plain login%s" % (" xoauth2 oauthbearer" if self.oauth2 else ""),
            "disable_plaintext_auth = no",
            "mail_location = maildir:%s/%%u" % self.mail_dir,
            "mail_max_userip_connections = 100",
            "mail_fsync = never",
            "passdb {",
            "  driver = passwd-file",
            "  args = scheme=PLAIN %s" % passwd,
        ] + (["  mechanisms = plain login"] if self.oauth2 else []) + [
            "}",
        ] + self._oauth2_passdb() + [
            "userdb {",
            "  driver = passwd-file",
            "  args = %s" % passwd,
            "}",
            "namespace inbox {",
            "  inbox = yes",
            "  separator = /",
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            "    port = %d" % self.port,
            "  }",
            "  inet_listener imaps {",
            "    address = 127.0.0.1",
            "    port = %d" % self.tls_port,
            "    ssl = yes",
            "  }",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
        ]
        if self.tls:
            cert, key = self._make_certs()
            lines += ["ssl = yes", "ssl_cert = <%s" % cert, "ssl_key = <%s" % key]
            if os.path.exists("/usr/share/dovecot/dh.pem"):
                lines.append("ssl_dh = </usr/share/dovecot/dh.pem")
        else:
            lines.append("ssl = no")
        lines += self.settings
        with open(self.conf_file, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _oauth2_passdb(self):
        if not self.oauth2:
            return []
        ext = os.path.join(self.directory, "dovecot-oauth2.conf.ext")
        with open(ext, "w") as f:
            f.write("introspection_mode = post\n"
                    "introspection_url = %s\n"
                    "force_introspection = yes\n"
                    "username_attribute = username\n"
                    "active_attribute = active\n"
                    "active_value = true\n"
                    "tls_ca_cert_file = %s\n"
                    % (self.oauth2["introspection_url"], self.oauth2["ca_file"]))
        os.chmod(ext, 0o644)
        return [
            "passdb {",
            "  driver = oauth2",
            "  mechanisms = xoauth2 oauthbearer",
            "  args = %s" % ext,
            "}",
        ]

    def _log_tail(self, n=20):
        try:
            with open(self.log_file, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except FileNotFoundError:
            return "(no log)"

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    greeting = s.recv(200)
                    if greeting.startswith(b"* OK"):
                        return
                    last = greeting
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise HarnessError("Dovecot on 127.0.0.1:%d not ready after %.0f s (%s); log:\n%s"
                           % (self.port, START_TIMEOUT, last, self._log_tail()))

    def _read_pid(self):
        path = os.path.join(self.base_dir, "master.pid")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    return int(f.read().strip())
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        raise HarnessError("Dovecot wrote no %s; log:\n%s" % (path, self._log_tail()))

    # ---- life cycle ----

    def start(self):
        """Starts Dovecot (daemonized); returns self."""
        dovecot_version()
        if os.geteuid() != 0:
            raise HarnessError("the Dovecot harness must run as root (it drops to dovecot/dovenull)")
        os.makedirs(self.directory, exist_ok=True)
        self._write_config()
        try:
            os.unlink(os.path.join(self.base_dir, "master.pid"))
        except FileNotFoundError:
            pass
        # The daemonized master must not inherit our stdout: a caller
        # reading it until EOF would wait for as long as Dovecot runs.
        out_path = os.path.join(self.directory, "dovecot.stderr")
        with open(out_path, "wb") as out:
            r = subprocess.run(["dovecot", "-c", self.conf_file], stdin=subprocess.DEVNULL,
                               stdout=out, stderr=out, check=False)
        if r.returncode != 0:
            with open(out_path, errors="replace") as f:
                raise HarnessError("dovecot -c %s failed (exit %d): %s\n%s"
                                   % (self.conf_file, r.returncode, f.read().strip(),
                                      self._log_tail()))
        self.pid = self._read_pid()
        self._save()
        self._wait_ready()
        return self

    def stop(self):
        """Stops Dovecot and waits until its master and every process it
        started (imap sessions included) are gone, so that a restart()
        really drops the clients' connections."""
        if self.pid and _pid_alive(self.pid):
            procs = [self.pid] + _children(self.pid)
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + STOP_TIMEOUT
            while _pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            # Dovecot's own shutdown kills the clients, but without waiting;
            # finish the job so no session outlives the server.
            for sig in (signal.SIGTERM, signal.SIGKILL):
                alive = [p for p in procs if _pid_alive(p)]
                for p in alive:
                    try:
                        os.kill(p, sig)
                    except ProcessLookupError:
                        pass
                deadline = time.monotonic() + 3
                while any(_pid_alive(p) for p in alive) and time.monotonic() < deadline:
                    time.sleep(0.05)
        self.pid = 0
        if os.path.exists(self.directory):
            self._save()

    def restart(self):
        """Stops and starts again on the same ports with the same mail."""
        self.stop()
        return self.start()

    def cleanup(self):
        """Stops Dovecot and removes the short base_dir (and the data
        directory when this object created it)."""
        self.stop()
        if self.base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # ---- mail ----

    def imap(self):
        """A logged-in imaplib connection on the plain port (caller logs out)."""
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn

    @staticmethod
    def _check(typ, data, what):
        if typ != "OK":
            raise HarnessError("%s: %s %r" % (what, typ, data))
        return data

    @staticmethod
    def _quote(mailbox):
        return '"%s"' % mailbox.replace("\\", "\\\\").replace('"', '\\"')

    def _ensure_mailbox(self, conn, mailbox):
        if mailbox.upper() != "INBOX" and mailbox not in self._mailboxes(conn):
            self._check(*conn.create(self._quote(mailbox)), "CREATE %s" % mailbox)

    def _mailboxes(self, conn):
        data = self._check(*conn.list('""', "*"), "LIST")
        names = []
        for line in data:
            if line is None:
                continue
            if isinstance(line, tuple):  # a literal name
                names.append(line[1].decode())
                continue
            m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.*)$', line)
            if m:
                name = m.group(1).decode()
                if name.startswith('"'):
                    name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                names.append(name)
        return names

    def mailboxes(self):
        conn = self.imap()
        try:
            return self._mailboxes(conn)
        finally:
            conn.logout()

    def append(self, mailbox, data, flags=""):
        """Appends data (bytes) to mailbox, creating it if missing; returns
        the new UID."""
        if isinstance(data, str):
            data = data.encode()
        conn = self.imap()
        try:
            self._ensure_mailbox(conn, mailbox)
            typ, resp = conn.append(self._quote(mailbox), flags or None, None, data)
            self._check(typ, resp, "APPEND %s" % mailbox)
            m = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
            return int(m.group(1)) if m else 0
        finally:
            conn.logout()

    def append_many(self, mailbox, messages):
        """Appends every message (bytes) over one connection; returns the
        new UIDs."""
        conn = self.imap()
        uids = []
        try:
            self._ensure_mailbox(conn, mailbox)
            for data in messages:
                typ, resp = conn.append(self._quote(mailbox), None, None, data)
                self._check(typ, resp, "APPEND %s" % mailbox)
                m = re.search(rb"APPENDUID \d+ (\d+)", resp[0] or b"")
                uids.append(int(m.group(1)) if m else 0)
            return uids
        finally:
            conn.logout()

    def list(self, mailbox):
        """Returns [(uid, [flags], bytes)] for every message, ascending."""
        conn = self.imap()
        try:
            typ, data = conn.select(self._quote(mailbox), readonly=True)
            self._check(typ, data, "SELECT %s" % mailbox)
            if int(data[0]) == 0:
                return []
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            self._check(typ, data, "UID FETCH %s" % mailbox)
            out = []
            i = 0
            while i < len(data):
                item = data[i]
                if isinstance(item, tuple):
                    meta = item[0]
                    body = item[1]
                    # FLAGS may follow the literal, in the next element.
                    if i + 1 < len(data) and isinstance(data[i + 1], bytes):
                        meta += data[i + 1]
                        i += 1
                    uid = int(re.search(rb"UID (\d+)", meta).group(1))
                    fm = re.search(rb"FLAGS \(([^)]*)\)", meta)
                    flags = fm.group(1).decode().split() if fm else []
                    out.append((uid, flags, body))
                i += 1
            out.sort()
            return out
        finally:
            conn.logout()

    def delete_mailbox(self, mailbox):
        conn = self.imap()
        try:
            self._check(*conn.delete(self._quote(mailbox)), "DELETE %s" % mailbox)
        finally:
            conn.logout()

    def uidvalidity(self, mailbox):
        conn = self.imap()
        try:
            typ, data = conn.status(self._quote(mailbox), "(UIDVALIDITY)")
            self._check(typ, data, "STATUS %s" % mailbox)
            return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
        finally:
            conn.logout()

    def recreate(self, mailbox, keep_messages=False):
        """Gives mailbox a new UIDVALIDITY, as a server migration or a
        deleted and recreated mailbox would.  keep_messages: the same
        messages stay (under new UIDs); else the mailbox ends up empty.
        Returns the new UIDVALIDITY."""
        old = self.uidvalidity(mailbox)
        msgs = self.list(mailbox) if keep_messages else []
        if mailbox.upper() == "INBOX":
            # INBOX cannot be deleted over IMAP; empty it and bump the
            # UIDVALIDITY with doveadm.
            conn = self.imap()
            try:
                self._check(*conn.select("INBOX"), "SELECT INBOX")
                typ, data = conn.uid("SEARCH", None, "ALL")
                uids = data[0].split() if data and data[0] else []
                if uids:
                    conn.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", "(\\Deleted)")
                    conn.expunge()
            finally:
                conn.logout()
            _run(["doveadm", "-c", self.conf_file, "mailbox", "update", "-u", self.user,
                  "--uid-validity", str(max(old + 1, int(time.time()))), "INBOX"])
        else:
            self.delete_mailbox(mailbox)
            conn = self.imap()
            try:
                self._check(*conn.create(self._quote(mailbox)), "CREATE %s" % mailbox)
            finally:
                conn.logout()
        for _uid, flags, body in msgs:
            kept = " ".join(f for f in flags if f != "\\Recent")
            self.append(mailbox, body, "(%s)" % kept if kept else "")
        new = self.uidvalidity(mailbox)
        if new == old:
            raise HarnessError("UIDVALIDITY of %s did not change (%d)" % (mailbox, old))
        return new


def _main(argv):
    ap = argparse.ArgumentParser(description="throw-away Dovecot for mentord tests")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start")
    p.add_argument("dir")
    p.add_argument("--tls", action="store_true")
    for name in ("stop", "restart", "mailboxes", "info"):
        sub.add_parser(name).add_argument("dir")
    p = sub.add_parser("append")
    p.add_argument("dir")
    p.add_argument("mailbox")
    p.add_argument("file", help="message file, or - for stdin")
    p = sub.add_parser("list")
    p.add_argument("dir")
    p.add_argument("mailbox")
    p = sub.add_parser("recreate")
    p.add_argument("dir")
    p.add_argument("mailbox")
    p.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    if args.cmd == "start":
        os.makedirs(args.dir, exist_ok=True)
        dc = Dovecot(args.dir, tls=args.tls)
        out = dc.start().info()
    else:
        dc = Dovecot.load(args.dir)
        if args.cmd == "stop":
            dc.stop()
            if dc.base_dir:
                shutil.rmtree(dc.base_dir, ignore_errors=True)
            out = {"stopped": True}
        elif args.cmd == "restart":
            out = dc.restart().info()
        elif args.cmd == "info":
            out = dc.info()
        elif args.cmd == "mailboxes":
            out = dc.mailboxes()
        elif args.cmd == "append":
            if args.file == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(args.file, "rb") as f:
                    data = f.read()
            out = {"uid": dc.append(args.mailbox, data)}
        elif args.cmd == "list":
            out = [{"uid": uid, "flags": flags, "size": len(body),
                    "data_b64": base64.b64encode(body).decode()}
                   for uid, flags, body in dc.list(args.mailbox)]
        elif args.cmd == "recreate":
            out = {"uidvalidity": dc.recreate(args.mailbox, args.keep)}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_main(sys.argv[1:]))
    except (HarnessError, imaplib.IMAP4.error, OSError) as e:
        print("dovecot.py: %s" % e, file=sys.stderr)
        sys.exit(1)
