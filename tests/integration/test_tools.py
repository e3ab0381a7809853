"""The administrator's tools (issue 12): --version, the default
configuration, --print-config (secrets masked, every key documented in
mentord.conf(5)), --check-config --online against real servers (a good
account, a refused password, a missing mailbox, a closed port, a
certificate from a CA that is not configured), runtime errors without a
repeated host prefix, and the bash completion against mentorctl(8)."""

import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from mentord_env import SOURCE_DIR, Checker, Env  # noqa: E402
from smtpsink import SmtpSink  # noqa: E402

SMTP_USER = "sender"
SMTP_PASSWORD = "smtp-Pa55-word"


def run(args, **kwargs):
    p = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
    Env.check_sanitizers(p)
    return p


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_secret(path, value):
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)


class Tools:
    """A configuration with password files (relative paths), against a
    Dovecot with TLS and an SMTP sink that requires AUTH."""

    def __init__(self, env, sink):
        self.env = env
        self.sink = sink
        self.dir = env.dir
        self.conf = os.path.join(self.dir, "tools.conf")
        self.imap_pw = os.path.join(self.dir, "imap.password")
        self.smtp_pw = os.path.join(self.dir, "smtp.password")
        write_secret(self.imap_pw, env.dovecot.password)
        write_secret(self.smtp_pw, SMTP_PASSWORD)

    def write(self, imap_url=None, smtp_url=None, imap_extra="", smtp_extra="", top=""):
        dc = self.env.dovecot
        with open(self.conf, "w") as f:
            f.write("""# test_tools
database = "tools.db"
templates = "%(templates)s"
%(top)s
imap {
	url = "%(imap_url)s"
	tls = off
	user = "%(user)s"
	password_file = "imap.password"
	timeout = 10
%(imap_extra)s
}
smtp {
	url = "%(smtp_url)s"
	tls = off
	user = "%(smtp_user)s"
	password_file = "smtp.password"
	from = "CDSS Mentoring <mentoring@example.org>"
	timeout = 10
%(smtp_extra)s
}
coordinator {
	address = {"coordinator@example.org"}
}
include("programs/cdss.conf")
""" % dict(templates=os.path.join(SOURCE_DIR, "templates"),
           imap_url=imap_url or "imap://127.0.0.1:%d" % dc.port,
           smtp_url=smtp_url or "smtp://127.0.0.1:%d" % self.sink.port,
           user=dc.user, smtp_user=SMTP_USER, imap_extra=imap_extra, smtp_extra=smtp_extra,
           top=top))

    def online(self):
        return run([self.env.mentord, "-c", self.conf, "--check-config", "--online"])


def check_version(t, env):
    for binary in (env.mentord, env.mentorctl):
        p = run([binary, "--version"])
        t.check(p.returncode == 0 and re.fullmatch(r"mentord \d+\.\d+\.\d+\n", p.stdout),
                "%s --version prints \"mentord VERSION\"" % os.path.basename(binary),
                (p.returncode, p.stdout, p.stderr))


def check_default_config(t, env):
    """Without -c: the compiled-in default, and its absence is not blamed
    on -c."""
    p = run([env.mentord, "--help"])
    m = re.search(r"default (/\S+)\)", p.stdout)
    t.check(m is not None, "mentord --help names the default configuration", p.stdout)
    default = m.group(1) if m else "/nonexistent"
    for binary, args in ((env.mentord, ["--check-config"]), (env.mentorctl, ["status"])):
        p = run([binary] + args)
        name = os.path.basename(binary)
        if os.path.exists(default):
            t.check("cannot read the default configuration" not in p.stderr,
                    "%s reads the default %s" % (name, default), p.stderr)
        else:
            t.check(p.returncode == 2 and "cannot read the default configuration %s" % default
                    in p.stderr and "given with -c" not in p.stderr
                    and "give another file with -c FILE" in p.stderr,
                    "%s without -c and without %s says so, not \"check the path given "
                    "with -c\"" % (name, default), p.stderr)
    p = run([env.mentord, "-c", "/nonexistent/mentord.conf", "--check-config"])
    t.check(p.returncode == 2 and "given with -c" in p.stderr,
            "a missing file given with -c is blamed on -c", p.stderr)


def man_keys():
    """Keys documented in mentord.conf(5): `.TP` then `.B key`, and the
    sections with a heading of their own (`.SH IMAP SECTION`)."""
    with open(os.path.join(SOURCE_DIR, "daemon/man/mentord.conf.5")) as f:
        text = f.read()
    keys = set(re.findall(r"^\.TP\n\.B ([a-z_]+)\s*$", text, re.M))
    keys |= {s.lower() for s in re.findall(r"^\.SH ([A-Z_]+) SECTIONS?$", text, re.M)}
    return keys


def check_print_config(t, tools):
    env = tools.env
    tools.write(top='hmac_secret = "0123456789abcdef0123-hmac"')
    p = run([env.mentord, "-c", tools.conf, "--print-config"])
    out = p.stdout
    t.check(p.returncode == 0 and out.startswith("# The effective configuration of"),
            "--print-config exits 0 and prints the configuration", p.stderr)
    for secret in (env.dovecot.password, SMTP_PASSWORD, "0123456789abcdef0123-hmac"):
        t.check(secret not in out and secret not in p.stderr,
                "--print-config never prints a secret (%s...)" % secret[:4])
    t.check('hmac_secret = "********"' in out, "the inline hmac secret is masked", out[:400])
    t.check('password_file = "%s"' % tools.imap_pw in out
            and 'password_file = "%s"' % tools.smtp_pw in out,
            "password files are printed as resolved paths", out)
    t.check('database = "%s/tools.db"' % tools.dir in out,
            "a relative database path is resolved from the file's directory", out[:600])
    t.check('\tmailbox = "INBOX"' in out and "\tpoll_interval = 60" in out
            and "\tidle = true" in out and "max_auto_replies_per_day = 5" in out
            and 'work_hours = "08-18"' in out and "\t# processed_mailbox is not set" in out,
            "defaults are filled in", out)
    t.check('program "cdss" {' in out and 'field "Years as manager" {' in out,
            "the included program is expanded", out[-400:])

    # Every key printed is documented in mentord.conf(5).
    printed = set(re.findall(r"^\s*(?:# )?([a-z_]+)(?: = | is not set| \"[^\"]*\" \{| \{)",
                             out, re.M))
    printed.discard("include")
    missing = sorted(printed - man_keys())
    t.check(len(printed) > 40 and not missing,
            "every key --print-config prints has an entry in mentord.conf(5) (%d keys)"
            % len(printed), "missing: %s" % missing)

    # The output is a configuration: masked passwords load, and the same
    # program comes out (the masked hmac secret is too short to be one).
    again = os.path.join(tools.dir, "printed.conf")
    with open(again, "w") as f:
        f.write(out.replace('hmac_secret = "********"\n', ""))
    p = run([env.mentord, "-c", again, "--check-config"])
    t.check(p.returncode == 0, "the printed configuration passes --check-config", p.stderr)

    # A file with problems: exit 2, the problems, and what could be read.
    tools.write(top='work_hours = "late"')
    p = run([env.mentord, "-c", tools.conf, "--print-config"])
    t.check(p.returncode == 2 and "work_hours" in p.stderr and 'work_hours = "late"' in p.stdout,
            "--print-config of a file with problems exits 2 with them", p.stderr)


def check_online(t, tools):
    env, sink = tools.env, tools.sink
    dc = env.dovecot

    tools.write(imap_extra='\tprocessed_mailbox = "Done"')
    dc.append("Done", b"Subject: x\r\n\r\nx\r\n")
    sessions = len(sink.sessions())
    p = tools.online()
    t.check(p.returncode == 0, "--check-config --online passes with good accounts", p.stderr)
    t.check("IMAP 127.0.0.1:%d: connected (no TLS), logged in as %s" % (dc.port, dc.user)
            in p.stdout and 'mailbox "INBOX" selected' in p.stdout
            and 'processed_mailbox "Done" selected (1 message)' in p.stdout,
            "it reports the IMAP login and both mailboxes", p.stdout)
    t.check("SMTP 127.0.0.1:%d: connected (no TLS), logged in as %s; nothing sent"
            % (sink.port, SMTP_USER) in p.stdout, "it reports the SMTP login", p.stdout)
    t.check(len(sink.sessions()) == sessions + 1 and not sink.messages(),
            "the SMTP check is one session and sends nothing",
            (len(sink.sessions()) - sessions, len(sink.messages())))

    # Offline, the same file is only parsed: a closed port passes.
    closed = free_port()
    tools.write(smtp_url="smtp://127.0.0.1:%d" % closed)
    p = run([env.mentord, "-c", tools.conf, "--check-config"])
    t.check(p.returncode == 0, "offline, a closed SMTP port is not noticed", p.stderr)
    p = tools.online()
    t.check(p.returncode == 1 and "cannot connect to SMTP server 127.0.0.1:%d" % closed
            in p.stderr and "check the host and port in the smtp url" in p.stderr,
            "online, a closed SMTP port fails with what to check", p.stderr)
    t.check("logged in as %s" % dc.user in p.stdout,
            "the IMAP check still runs and passes", p.stdout)

    # Wrong passwords: the messages name the password files.
    write_secret(tools.imap_pw, "wrong")
    write_secret(tools.smtp_pw, "wrong")
    tools.write()
    p = tools.online()
    t.check(p.returncode == 1 and ("LOGIN as %s refused by the server" % dc.user) in p.stderr
            and ("the password in %s (password_file in the imap section)" % tools.imap_pw)
            in p.stderr, "a refused IMAP LOGIN names the imap password_file", p.stderr)
    t.check(("refused AUTH as %s" % SMTP_USER) in p.stderr
            and ("the password in %s (password_file in the smtp section)" % tools.smtp_pw)
            in p.stderr, "a refused SMTP AUTH names the smtp password_file", p.stderr)
    t.check(env.dovecot.password not in p.stderr + p.stdout and "wrong" not in p.stderr,
            "no password is printed", p.stderr)

    # The daemon's own log: the host is named once.
    p = run([env.mentord, "-c", tools.conf, "--once", "--now", "2026-11-02T09:00"])
    prefix = "IMAP 127.0.0.1:%d:" % dc.port
    lines = [line for line in p.stderr.splitlines() if "LOGIN" in line]
    t.check(p.returncode == 1 and lines and all(line.count(prefix) == 1 for line in lines)
            and tools.imap_pw in lines[0],
            "mentord --once logs a refused LOGIN with the host once and the password_file",
            p.stderr)
    write_secret(tools.imap_pw, dc.password)
    # A send refused at AUTH: the log names the smtp password_file, and the
    # email waits for a retry.
    env.deliver("newcomer@example.org", "Joining", "Hello, I would like to join.")
    p = run([env.mentord, "-c", tools.conf, "--once", "--now", "2026-11-02T09:00"])
    t.check("refused AUTH as %s" % SMTP_USER in p.stderr
            and "the password in %s (password_file in the smtp section)" % tools.smtp_pw
            in p.stderr and "will retry" in p.stderr and not sink.messages(),
            "a send refused at AUTH is retried later and names the smtp password_file",
            p.stderr)
    write_secret(tools.smtp_pw, SMTP_PASSWORD)

    # Missing mailboxes: the message names the key to fix.
    tools.write(imap_extra='\tmailbox = "Applications"')
    p = tools.online()
    t.check(p.returncode == 1 and "SELECT Applications" in p.stderr
            and 'create the folder "Applications" on the server, or set mailbox in the imap '
            'section' in p.stderr, "a missing mailbox says to create it or fix mailbox",
            p.stderr)
    tools.write(imap_extra='\tprocessed_mailbox = "Archive"')
    p = tools.online()
    t.check(p.returncode == 1 and 'set processed_mailbox in the imap section' in p.stderr
            and 'mailbox "INBOX" selected' in p.stdout,
            "a missing processed mailbox names processed_mailbox", (p.stdout, p.stderr))


def check_online_tls(t, tools, tls_sink):
    """A server whose certificate comes from a private CA: refused until
    ca_file names that CA."""
    env = tools.env
    dc = env.dovecot
    smtp_url = "smtp://127.0.0.1:%d" % tls_sink.port
    imaps = "imaps://127.0.0.1:%d" % dc.tls_port
    tools.write(imap_url=imaps, smtp_url=smtp_url)
    text = open(tools.conf).read().replace("\ttls = off\n", "")
    with open(tools.conf, "w") as f:
        f.write(text)
    p = tools.online()
    t.check(p.returncode == 1 and "TLS: server certificate refused" in p.stderr
            and "set ca_file in the imap section" in p.stderr,
            "an IMAP certificate from an unknown CA points at ca_file", p.stderr)
    t.check("TLS with SMTP server 127.0.0.1:%d failed" % tls_sink.port in p.stderr
            and "set ca_file in the smtp section" in p.stderr,
            "an SMTP certificate from an unknown CA points at ca_file", p.stderr)
    tools.write(imap_url=imaps, smtp_url=smtp_url,
                imap_extra='\tca_file = "%s"' % dc.ca_file,
                smtp_extra='\tca_file = "%s"' % dc.ca_file)
    text = open(tools.conf).read().replace("\ttls = off\n", "")
    with open(tools.conf, "w") as f:
        f.write(text)
    p = tools.online()
    t.check(p.returncode == 0 and "connected (TLS), logged in as %s" % dc.user in p.stdout
            and "connected (STARTTLS), logged in as %s" % SMTP_USER in p.stdout,
            "with ca_file both logins pass over TLS", (p.stdout, p.stderr))


def check_completion(t, env):
    """The bash completion offers exactly the commands mentorctl(8)
    documents, and each is in mentorctl's usage."""
    comp = os.path.join(SOURCE_DIR, "daemon/completion/mentorctl")
    script = ('source "%s"\n'
              'COMP_WORDS=(mentorctl ""); COMP_CWORD=1; _mentorctl; echo "${COMPREPLY[*]}"\n'
              'COMP_WORDS=(mentorctl mentor add -); COMP_CWORD=3; _mentorctl; '
              'echo "${COMPREPLY[*]}"\n'
              'COMP_WORDS=(mentorctl -c "%s" mentor add a@b --program ""); COMP_CWORD=7; '
              '_mentorctl; echo "${COMPREPLY[*]}"\n' % (comp, env.conf))
    p = run(["bash", "-c", script])
    lines = p.stdout.splitlines()
    offered = set(lines[0].split()) if lines else set()
    with open(os.path.join(SOURCE_DIR, "daemon/man/mentorctl.8")) as f:
        man = f.read()
    section = man.split(".SH COMMANDS", 1)[1].split(".SH ", 1)[0]
    documented = set(re.findall(r"^\.TP\n(?:\.BR? |\.BI |\\fB)\"?([a-z]+)", section, re.M))
    usage = run([env.mentorctl, "--help"]).stdout
    t.check(p.returncode == 0 and offered == documented and len(offered) >= 10,
            "completion offers the commands mentorctl(8) documents",
            (sorted(offered), sorted(documented), p.stderr))
    t.check(all(c in usage for c in offered), "each is in mentorctl --help", usage)
    t.check(len(lines) > 2 and lines[1].split() == ["--strengths", "--capacity", "--program"]
            and lines[2] == "cdss", "options and program names are completed", lines)


def main():
    t = Checker()
    with Env("tools", dovecot_tls=True) as env:
        sink = SmtpSink(os.path.join(env.dir, "smtp-auth"), auth=(SMTP_USER, SMTP_PASSWORD))
        tls_dir = os.path.join(env.dovecot.directory, "tls")
        tls_sink = SmtpSink(os.path.join(env.dir, "smtp-tls"), auth=(SMTP_USER, SMTP_PASSWORD),
                            tls=(os.path.join(tls_dir, "server.pem"),
                                 os.path.join(tls_dir, "server.key")))
        sink.start()
        tls_sink.start()
        try:
            tools = Tools(env, sink)
            check_version(t, env)
            check_default_config(t, env)
            check_print_config(t, tools)
            check_online(t, tools)
            check_online_tls(t, tools, tls_sink)
            check_completion(t, env)
        finally:
            sink.stop()
            tls_sink.stop()
    t.finish()


if __name__ == "__main__":
    main()
