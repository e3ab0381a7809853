#!/usr/bin/python3
"""Every file of the shared real-world corpus through `mentorctl parse`.

1. Robustness (any failure fails the test): each file parses within 10 s,
   exit status 0, one valid JSON object on stdout in valid UTF-8, and no
   sanitizer report on stderr.
2. Expectations (the test fails below 95 %): what the upstream projects'
   own tests expect, mapped onto our JSON (see SOURCES.md in the corpus and
   tests/corpus/MISSES.md for the misses we accept and why).

Writes every miss to tests/corpus/MISSES.md under the current directory
(ctest runs it in the build directory).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

MENTORCTL = os.environ["MENTORCTL"]
CORPUS = os.environ["MENTORD_CORPUS"]
THRESHOLD = 0.95
TIMEOUT = 10
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")

results = {}  # path -> parsed JSON (only for files that parsed)
robustness = []  # failures of part 1
held = 0
misses = []  # (source, file, what, expected, got)


def run_parse(path):
    try:
        p = subprocess.run([MENTORCTL, "parse", path], capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return path, None, "timeout (hang) after %d s" % TIMEOUT
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            return path, None, "sanitizer: " + err.strip().splitlines()[0][:200]
    if p.returncode != 0:
        return path, None, "exit status %d: %s" % (p.returncode, err.strip()[:200])
    try:
        out = p.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        return path, None, "stdout is not UTF-8: %s" % e
    try:
        obj = json.loads(out)
    except ValueError as e:
        return path, None, "invalid JSON: %s" % e
    if not isinstance(obj, dict):
        return path, None, "JSON is not an object"
    for key in ("text", "reply"):
        if not isinstance(obj.get(key), str):
            return path, None, "%s is not a string" % key
    if "error" not in obj:
        for key in ("kind", "from", "subject", "to", "defects"):
            if key not in obj:
                return path, None, "missing key %s" % key
    return path, obj, None


def expect(source, name, what, ok, expected=None, got=None):
    global held
    if ok:
        held += 1
    else:
        misses.append((source, name, what, expected, got))


def rel(path):
    return os.path.relpath(path, CORPUS)


def loose(s):
    """Whitespace-insensitive, ignoring Markdown emphasis."""
    return re.sub(r"[\s*]", "", s or "")


def collapse(s):
    return re.sub(r"\s+", " ", s or "").strip()


def wrapped(tmpdir, name, body, content_type="text/plain; charset=utf-8"):
    """A body-only fixture wrapped in a minimal message, parsed."""
    path = os.path.join(tmpdir, name.replace("/", "_") + ".eml")
    with open(path, "wb") as f:
        f.write(b"From: a@b.example\nSubject: x\nMIME-Version: 1.0\n")
        f.write(b"Content-Type: " + content_type.encode() + b"\n\n")
        f.write(body)
    _, obj, err = run_parse(path)
    if err:
        robustness.append((path, err))
    return obj


def check_email_reply_parser(tmpdir):
    base = os.path.join(CORPUS, "email_reply_parser")
    exp = json.load(open(os.path.join(base, "expectations.json")))
    for name, e in sorted(exp.items()):
        if not isinstance(e, dict) or "parse_reply" not in e:
            continue
        body = open(os.path.join(base, "test", "emails", name + ".txt"), "rb").read()
        obj = wrapped(tmpdir, "erp_" + name, body)
        got = obj["reply"] if obj else None
        expect("email_reply_parser", name, "parse_reply", got == e["parse_reply"].rstrip(),
               e["parse_reply"], got)


def check_talon(tmpdir):
    base = os.path.join(CORPUS, "talon")
    exp = json.load(open(os.path.join(base, "expected.json")))
    for name, e in sorted(exp["standard_replies"].items()):
        obj = results.get(os.path.join(base, "tests", "fixtures", name))
        got = obj["reply"] if obj else None
        want = e["expected_reply_text"].strip()
        expect("talon", name, "reply text", got is not None and got.strip() == want, want, got)
    for name, e in sorted(exp["html_replies"].items()):
        body = open(os.path.join(base, "tests", "fixtures", name), "rb").read()
        obj = wrapped(tmpdir, "talon_" + name, body, "text/html; charset=utf-8")
        got = obj["reply"] if obj else None
        want = e["expected_reply_plain_text"]
        expect("talon", name, "html reply (whitespace removed)",
               got is not None and re.sub(r"\s", "", got) == re.sub(r"\s", "", want), want, got)
    obj = results.get(os.path.join(base, "tests", "fixtures", "reply-quotations-share-block.eml"))
    got = obj["reply"] if obj else None
    expect("talon", "reply-quotations-share-block.eml", "reply non-empty without 'From'",
           bool(got) and "From" not in got, "no 'From'", got)


def sisimai_rows():
    rows = {}
    with open(os.path.join(CORPUS, "sisimai", "expected.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            rows.setdefault(cols[0], []).append(cols)
    return rows


def check_sisimai():
    base = os.path.join(CORPUS, "sisimai")
    rows = sisimai_rows()
    not_bounce_reasons = {"vacation", "delivered", "feedback"}
    bsd_kind = {}
    for f, rs in sorted(rows.items()):
        name = os.path.basename(f)
        obj = results.get(os.path.join(base, f))
        if obj is None:
            expect("sisimai", f, "parsed", False, "parsed", "no result")
            continue
        reasons = {r[6] for r in rs}
        kind = obj.get("kind")
        if reasons & not_bounce_reasons:
            # Vacation (RFC 3834), successful-delivery DSNs and ARF
            # complaints are automatic mail, not failed addresses.
            bsd_kind[name] = "auto_reply"
            expect("sisimai", f, "kind", kind == "auto_reply", "auto_reply", kind)
            continue
        bsd_kind[name] = "bounce"
        expect("sisimai", f, "kind", kind == "bounce", "bounce", kind)
        if kind != "bounce":
            continue
        b = obj.get("bounce", {})
        expect("sisimai", f, "recipients", len(b.get("recipients", [])) > 0, ">= 1 recipient",
               b.get("recipients"))
        if any(r[7] == "1" for r in rs):
            expect("sisimai", f, "permanent (hardbounce)", b.get("permanent") is True, True,
                   b.get("permanent"))
        statuses = [r[4] for r in rs if r[4]]
        if statuses and all(s.startswith("4") for s in statuses):
            expect("sisimai", f, "not permanent (4.x.x)", b.get("permanent") is False, False,
                   b.get("permanent"))
        elif statuses and all(s.startswith("5") for s in statuses):
            expect("sisimai", f, "permanent (5.x.x)", b.get("permanent") is True, True,
                   b.get("permanent"))
    for sub in ("dos", "mac"):
        d = os.path.join(base, "set-of-emails", "maildir", sub)
        for name in sorted(os.listdir(d)):
            obj = results.get(os.path.join(d, name))
            if obj is None:
                continue
            want = bsd_kind.get(name, "auto_reply" if name.startswith(("arf", "rfc3834"))
                                else "bounce")
            kind = obj.get("kind")
            expect("sisimai", "%s/%s" % (sub, name), "kind", kind == want, want, kind)
            if want == "bounce" and kind == "bounce":
                r = obj["bounce"].get("recipients", [])
                expect("sisimai", "%s/%s" % (sub, name), "recipients", len(r) > 0,
                       ">= 1 recipient", r)
    d = os.path.join(base, "set-of-emails", "maildir", "not")
    for name in sorted(os.listdir(d)):
        obj = results.get(os.path.join(d, name))
        kind = obj.get("kind") if obj else None
        expect("sisimai", "not/" + name, "not a bounce", obj is not None and kind != "bounce",
               "not bounce", kind)


def check_mikel():
    base = os.path.join(CORPUS, "mikel-mail", "spec", "fixtures", "emails")
    rep = os.path.join(base, "multipart_report_emails")

    def bounce_of(name):
        obj = results.get(os.path.join(rep, name))
        return (obj or {}).get("kind"), (obj or {}).get("bounce", {})

    kind, b = bounce_of("report_422.eml")
    expect("mikel-mail", "report_422.eml", "delayed: bounce, not permanent, 4.2.2",
           kind == "bounce" and b.get("permanent") is False and b.get("status") == "4.2.2"
           and "fraser@oooooooo.com.au" in b.get("recipients", []), "4.2.2 delayed", b)
    kind, b = bounce_of("report_530.eml")
    expect("mikel-mail", "report_530.eml", "failed: permanent 5.3.0",
           kind == "bounce" and b.get("permanent") is True and b.get("status") == "5.3.0"
           and "edwin@zzzzzzz.com" in b.get("recipients", []), "5.3.0 failed", b)
    for name in ("multi_address_bounce1.eml", "multi_address_bounce2.eml"):
        kind, b = bounce_of(name)
        expect("mikel-mail", name, "bounce with several recipients",
               kind == "bounce" and len(b.get("recipients", [])) >= 2, ">= 2 recipients", b)
    kind, b = bounce_of("multipart_report_multiple_status.eml")
    expect("mikel-mail", "multipart_report_multiple_status.eml", "bounce", kind == "bounce",
           "bounce", kind)
    d = os.path.join(base, "error_emails")
    for name in sorted(os.listdir(d)):
        obj = results.get(os.path.join(d, name))
        kind = (obj or {}).get("kind")
        expect("mikel-mail", "error_emails/" + name, "not a bounce",
               obj is not None and kind != "bounce", "not bounce", kind)


def check_discourse():
    base = os.path.join(CORPUS, "discourse-subset")
    exp = json.load(open(os.path.join(base, "expected.json")))
    em = os.path.join(base, "spec", "fixtures", "emails")
    kinds = {
        "auto_generated_precedence.eml": "auto_reply",
        "auto_generated_header.eml": "auto_reply",
        "auto_generated_allowlisted.eml": "auto_reply",
        "auto_generated_unblocked.eml": "auto_reply",
        "quirks_exchange_xars.eml": "message",
        # Deliberate deviation (MISSES.md): mentord never answers a list.
        "mailinglist.eml": "auto_reply",
        "bounced_email.eml": "bounce",
        "bounced_email_multiple_status_codes.eml": "bounce",
        "hard_bounce_via_verp.eml": "bounce",
        "hard_bounce_via_verp_2.eml": "bounce",
        "verp_bounce_different_final_recipient.eml": "bounce",
    }
    for name, want in sorted(kinds.items()):
        obj = results.get(os.path.join(em, name)) or {}
        expect("discourse", name, "kind", obj.get("kind") == want, want, obj.get("kind"))
    for name, status, perm in (("hard_bounce_via_verp.eml", "5.1.1", True),
                               ("hard_bounce_via_verp_2.eml", "5.1.1", True),
                               ("verp_bounce_different_final_recipient.eml", "4.1.1", False)):
        b = (results.get(os.path.join(em, name)) or {}).get("bounce", {})
        expect("discourse", name, "status/permanent",
               b.get("status") == status and b.get("permanent") is perm, (status, perm),
               (b.get("status"), b.get("permanent")))
    obj = results.get(os.path.join(em, "bounced_email.eml")) or {}
    expect("discourse", "bounced_email.eml", "recipient",
           "linux-admin@b-s-c.co.jp" in obj.get("bounce", {}).get("recipients", []),
           "linux-admin@b-s-c.co.jp", obj.get("bounce"))
    for name, e in sorted(exp["reply_text"].items()):
        want = e.get("raw", e.get("raw_prefer_text", e.get("raw_trimmed")))
        if name == "gmail_html_reply.eml":
            want = "This is a **GMAIL** reply ;)"
        obj = results.get(os.path.join(em, name)) or {}
        got = obj.get("reply")
        expect("discourse", name, "reply text (loose)", loose(got) == loose(want), want, got)


def check_zbateson():
    base = os.path.join(CORPUS, "zbateson-mail-mime-parser")
    exp = json.load(open(os.path.join(base, "expected.json")))
    em = os.path.join(base, "tests", "_data", "emails")
    for name, tests in sorted(exp["files"].items()):
        obj = results.get(os.path.join(em, name))
        if obj is None:
            continue
        for t in tests:
            e = t.get("expect") or {}
            if "Subject" in e:
                expect("zbateson", name, "subject", obj.get("subject") == e["Subject"],
                       e["Subject"], obj.get("subject"))
            if isinstance(e.get("From"), dict) and e["From"].get("email"):
                want = e["From"]["email"].lower()
                expect("zbateson", name, "from", obj.get("from") == want, want, obj.get("from"))
                if e["From"].get("name"):
                    expect("zbateson", name, "from_name", obj.get("from_name") == e["From"]["name"],
                           e["From"]["name"], obj.get("from_name"))
            if isinstance(e.get("To"), dict) and e["To"].get("email"):
                want = e["To"]["email"].lower()
                expect("zbateson", name, "to", want in (obj.get("to") or []), want, obj.get("to"))
            if isinstance(e.get("text"), str):
                p = os.path.join(em, "files", e["text"])
                if os.path.exists(p):
                    want = open(p, "rb").read().decode("iso-8859-1")
                    expect("zbateson", name, "text (whitespace collapsed)",
                           collapse(obj.get("text")) == collapse(want), e["text"],
                           (obj.get("text") or "")[:200])


def check_mime4j():
    """Single-part text messages: our text is the decoded body."""
    base = os.path.join(CORPUS, "james-mime4j")
    for root, _, files in os.walk(base):
        for f in sorted(files):
            if not f.endswith("_decoded.xml"):
                continue
            xml = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
            bodies = re.findall(r'<text-body name="([^"]+)"', xml)
            if len(bodies) != 1 or "<multipart" in xml or "<binary-body" in xml:
                continue
            msg = os.path.join(root, f[:-len("_decoded.xml")] + ".msg")
            obj = results.get(msg)
            txt = os.path.join(root, bodies[0])
            if obj is None or not os.path.exists(txt) or obj.get("html"):
                continue
            raw = open(txt, "rb").read()
            try:
                want = raw.decode("utf-8")
            except UnicodeDecodeError:
                want = raw.decode("iso-8859-1")
            expect("mime4j", rel(msg), "decoded text (whitespace collapsed)",
                   collapse(obj.get("text")) == collapse(want), want[:200],
                   (obj.get("text") or "")[:200])


def write_misses(total):
    out = os.path.join(os.getcwd(), "tests", "corpus")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "MISSES.md"), "w", encoding="utf-8") as f:
        f.write("# Corpus misses (generated by test_corpus.py)\n\n")
        f.write("%d expectations, %d held, %d missed\n\n" % (total, held, len(misses)))
        for source, name, what, want, got in misses:
            f.write("- %s `%s`: %s; expected %s; got %s\n" % (
                source, name, what, json.dumps(want, ensure_ascii=False)[:300],
                json.dumps(got, ensure_ascii=False)[:300]))
    return os.path.join(out, "MISSES.md")


def main():
    files = []
    for root, _, names in os.walk(CORPUS):
        for n in names:
            files.append(os.path.join(root, n))
    files.sort()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for path, obj, err in pool.map(run_parse, files):
            if err:
                robustness.append((path, err))
            else:
                results[path] = obj
    with tempfile.TemporaryDirectory() as tmpdir:
        check_email_reply_parser(tmpdir)
        check_talon(tmpdir)
    check_sisimai()
    check_mikel()
    check_discourse()
    check_zbateson()
    check_mime4j()

    total = held + len(misses)
    where = write_misses(total)
    pct = 100.0 * held / total if total else 0.0
    print("corpus: %d files parsed, %d robustness failures" % (len(files), len(robustness)))
    for path, err in robustness:
        print("  ROBUSTNESS %s: %s" % (rel(path), err))
    print("corpus: %d expectations, %d held (%.1f%%); misses in %s" % (total, held, pct, where))
    if robustness or total == 0 or held < THRESHOLD * total:
        sys.exit(1)


if __name__ == "__main__":
    main()
