#!/usr/bin/python3
"""The LAUSD survey at its size: 38,000 employees (conf/programs/lausd.conf).

Run as root (Dovecot), after building (build/ or MENTORD_BENCH_BUILD):
    sudo tests/bench/survey_bench.py [--n 38000] [--keep]
or through tests/bench/run.sh --only survey.  Not part of ctest.

Measures, each against a baseline taken in the same run:
  import   mentorctl roster import of an N-row CSV (every row checked, then
           registered) against the sqlite3 CLI's own `.import --csv` of the
           same file into a fresh database (no checks at all: the floor);
  fan-out  mentord --once on the survey's start day queueing N survey
           emails (fanout_chunk 500, SMTP on a closed port: queueing only);
  ingest   mentord --once reading N replies (each to its reader's token
           address, the form filled in) and recording N answers, against
           one IMAP session UID FETCHing every BODY.PEEK[] (bench.py's floor);
  export   mentorctl export answers --form survey (the results CSV);
peak RSS of each from GNU time (%M); goal <= 32 MiB."""

import argparse
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
from bench import Dovecot, SOURCE_DIR, free_port, imap_floor, tail, write_maildir  # noqa: E402
from bench import run_measured as run_wall  # noqa: E402

NOW_START = "2027-01-11T10:00-08:00"
NOW_ANSWERS = "2027-01-12T10:00-08:00"
PROGRAM = "supportsurvey@example.org"


def run_measured(cmd, stdout=None, stderr=None):
    """(exit code, wall seconds, peak RSS in KiB).  The peak RSS is GNU
    time's (wait4 of a child it forked itself): a child forked by this
    Python process would count Python's own pages, which Linux carries
    across execve into ru_maxrss."""
    out = os.path.join(tempfile.gettempdir(), "survey-bench-time.%d" % os.getpid())
    rc, wall, _ = run_wall(["/usr/bin/time", "-f", "%M", "-o", out] + cmd, stdout=stdout,
                           stderr=stderr)
    with open(out) as f:
        rss = int(f.read().split()[-1])
    os.unlink(out)
    return rc, wall, rss


def conf_for(work, db, dc, smtp_port):
    os.makedirs(os.path.join(work, "programs"), exist_ok=True)
    shutil.copy(os.path.join(SOURCE_DIR, "conf/programs/lausd.conf"),
                os.path.join(work, "programs/lausd.conf"))
    path = os.path.join(work, "mentord.conf")
    with open(path, "w") as f:
        f.write("""# written by tests/bench/survey_bench.py
database = "%s"
templates = "%s"
timezone = "America/Los_Angeles"
fanout_chunk = 500
imap {
	url = "imap://127.0.0.1:%d"
	tls = off
	user = "%s"
	password = "%s"
	idle = false
	timeout = 30
}
smtp {
	url = "smtp://127.0.0.1:%d"
	tls = off
	from = "Survey <%s>"
	timeout = 5
}
coordinator {
	address = {"coordinator@example.org"}
}
include("programs/lausd.conf")
""" % (db, os.path.join(SOURCE_DIR, "templates"), dc.port, dc.user, dc.password, smtp_port,
       PROGRAM))
    return path


def replies(db, n):
    """A reply to each survey email, to its Reply-To (the reader's token),
    as a mail client writes it."""
    con = sqlite3.connect(db)
    queued = con.execute("SELECT count(*) FROM outbox WHERE key LIKE 'step=survey:%'").fetchone()[0]
    if queued != n:
        raise bench.BenchError("%d survey emails queued, expected %d" % (queued, n))
    rows = con.execute("SELECT o.recipients, o.data FROM outbox o WHERE o.key LIKE "
                       "'step=survey:%' ORDER BY o.id")
    for i, (rcpt, data) in enumerate(rows):
        head = bytes(data).split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
        reply_to = re.search(r"^Reply-To: .*?<?([^<>\s]+@[^<>\s]+)>?\s*$", head, re.M | re.I)
        mid = re.search(r"^Message-ID: (<[^>]+>)", head, re.M | re.I)
        subject = re.search(r"^Subject: (.*)$", head, re.M | re.I)
        body = ("Familiarity: %d\r\nSupports used: training\r\nWhat would help: a mentor\r\n"
                "Focus group: %s\r\n\r\nOn Mon, Jan 11, 2027, Survey wrote:\r\n> Dear employee\r\n"
                % (1 + i % 5, "yes" if i % 7 == 0 else "no"))
        yield ("From: %s\r\nTo: %s\r\nSubject: Re: %s\r\nDate: Tue, 12 Jan 2027 09:00:00 -0800\r\n"
               "Message-ID: <reply-%d@lausd.example>\r\nIn-Reply-To: %s\r\nReferences: %s\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
               % (rcpt, reply_to.group(1), subject.group(1).strip(), i, mid.group(1),
                  mid.group(1), body)).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=38000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    n = args.n
    build = os.environ.get("MENTORD_BENCH_BUILD", os.path.join(SOURCE_DIR, "build"))
    mentord, mentorctl = os.path.join(build, "mentord"), os.path.join(build, "mentorctl")
    work = tempfile.mkdtemp(prefix="mentord-survey-bench-", dir="/tmp")
    os.chmod(work, 0o755)
    dc = Dovecot(os.path.join(work, "dovecot"))
    dc.start()
    res = {}
    try:
        db = os.path.join(work, "survey.db")
        conf = conf_for(work, db, dc, free_port())
        roster = os.path.join(work, "roster.csv")
        with open(roster, "w") as f:
            f.write("email,name,role,division\n")
            for i in range(n):
                f.write("employee%05d@lausd.example,Employee %d,employee,Division %d\n"
                        % (i, i, i % 40))
        # import: the floor is SQLite's own CSV import, no checks
        floors = []
        for k in range(2):
            fdb = os.path.join(work, "floor%d.db" % k)
            rc, wall, _ = run_measured(["sqlite3", fdb, ".import --csv %s roster" % roster])
            if rc != 0:
                raise bench.BenchError("sqlite3 .import exited %d" % rc)
            floors.append(wall)
        res["import_floor"] = min(floors)
        err = os.path.join(work, "import.log")
        rc, wall, rss = run_measured([mentorctl, "-c", conf, "roster", "import", roster,
                                      "--program", "lausd"], stderr=err)
        if rc != 0:
            raise bench.BenchError("roster import exited %d:\n%s" % (rc, tail(err)))
        res["import"], res["import_rss"] = wall, rss
        print("import: mentorctl %.2f s (%d KiB), sqlite3 .import %.3f s"
              % (wall, rss, res["import_floor"]), flush=True)
        # fan-out: queueing only (SMTP refused)
        err = os.path.join(work, "fanout.log")
        rc, wall, rss = run_measured([mentord, "-c", conf, "--once", "--now", NOW_START],
                                     stderr=err)
        queued = sqlite3.connect(db).execute(
            "SELECT count(*) FROM outbox WHERE key LIKE 'step=survey:%'").fetchone()[0]
        if queued != n:
            raise bench.BenchError("fan-out queued %d of %d (rc %d):\n%s"
                                   % (queued, n, rc, tail(err)))
        res["fanout"], res["fanout_rss"] = wall, rss
        print("fan-out: %d queued in %.2f s (%d KiB)" % (queued, wall, rss), flush=True)
        # ingest of the replies
        count, total = write_maildir(dc, replies(db, n))
        imap_floor(dc)
        floors = []
        for _ in range(2):
            t0 = time.monotonic()
            got, _ = imap_floor(dc)
            floors.append(time.monotonic() - t0)
        res["ingest_floor"] = min(floors)
        err = os.path.join(work, "ingest.log")
        rc, wall, rss = run_measured([mentord, "-c", conf, "--once", "--now", NOW_ANSWERS],
                                     stderr=err)
        answered = sqlite3.connect(db).execute(
            "SELECT count(*) FROM answers WHERE form = 'survey'").fetchone()[0]
        if answered != n:
            raise bench.BenchError("ingest recorded %d of %d answers (rc %d):\n%s"
                                   % (answered, n, rc, tail(err)))
        res["ingest"], res["ingest_rss"] = wall, rss
        print("ingest: %d answers in %.2f s (%d KiB), floor %.2f s (%d messages, %d bytes)"
              % (answered, wall, rss, res["ingest_floor"], count, total), flush=True)
        # the results CSV
        out = os.path.join(work, "results.csv")
        rc, wall, rss = run_measured([mentorctl, "-c", conf, "export", "answers", "--form",
                                      "survey"], stdout=out)
        with open(out) as f:
            rows = sum(1 for _ in f) - 1
        if rc != 0 or rows != n:
            raise bench.BenchError("export answers: rc %d, %d rows" % (rc, rows))
        res["export"], res["export_rss"] = wall, rss
        print("export: %d rows in %.2f s (%d KiB)" % (rows, wall, rss), flush=True)
        mib = 32 * 1024
        print("\n| survey (%d) | mentord | baseline | ratio | peak RSS |" % n)
        print("|---|---|---|---|---|")
        print("| roster import | %.2f s | sqlite3 .import %.3f s | %.1fx | %.1f MiB |"
              % (res["import"], res["import_floor"], res["import"] / res["import_floor"],
                 res["import_rss"] / 1024))
        print("| fan-out queued | %.2f s | - | - | %.1f MiB |"
              % (res["fanout"], res["fanout_rss"] / 1024))
        print("| ingest answers | %.2f s | IMAP fetch floor %.2f s | %.1fx | %.1f MiB |"
              % (res["ingest"], res["ingest_floor"], res["ingest"] / res["ingest_floor"],
                 res["ingest_rss"] / 1024))
        print("| results CSV | %.2f s | - | - | %.1f MiB |"
              % (res["export"], res["export_rss"] / 1024))
        worst = max(res[k] for k in ("import_rss", "fanout_rss", "ingest_rss", "export_rss"))
        print("peak RSS %.1f MiB: %s (goal <= 32 MiB)"
              % (worst / 1024, "met" if worst <= mib else "NOT met"))
    finally:
        dc.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work)


if __name__ == "__main__":
    main()
