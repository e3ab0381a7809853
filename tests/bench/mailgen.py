"""Realistic mentoring-program mail for the benchmarks.

generate(n, seed) yields n raw messages (bytes, CRLF line ends) in the mix
a program mailbox sees: applications (plain, quoted-printable, base64, HTML
alternatives, some with a CV attached), mentor registrations, meeting
reports and evaluations written as replies with the quoted original,
questions in HTML only, and a few out-of-office replies and bounces.  The
same seed gives the same mailbox."""

import base64
import quopri
import random

DOMAINS = ["cdss.ca.gov", "dhcs.ca.gov", "dss.example.gov", "state.example.org"]
FIRST = ["Ana", "José", "Mei", "Bob", "Carla", "Dan", "Eve", "Farid", "Grace", "Hiro",
         "Inés", "Jamal", "Kirsten", "Luis", "Marta", "Nkechi", "Olga", "Pradeep", "Quinn",
         "Renée", "Sam", "Tomás", "Uma", "Viktor", "Wen", "Yara", "Zoë"]
LAST = ["Ruiz", "Núñez", "Chen", "Lee", "Diaz", "Okafor", "Park", "Haddad", "Kim", "Sato",
        "García", "Brown", "Olsen", "Pérez", "Kowalski", "Adeyemi", "Ivanova", "Shah",
        "Murphy", "Dubois", "Nguyen", "Silva", "Patel", "Novak", "Wang", "Haddad", "Müller"]
DIVISIONS = ["Children and Family Services", "Adult Programs", "Community Care Licensing",
             "CalFresh and Nutrition", "Disability Determination", "Information Systems"]
CLASSES = ["Staff Services Manager I", "Staff Services Manager II", "Program Manager",
           "Information Technology Manager I", "Supervising Program Technician"]
COMPETENCIES = ["Communication", "Interpersonal Skills", "Team Leadership",
                "Conflict Management", "Decision Making", "Change Leadership",
                "Developing Others", "Strategic Thinking", "Customer Focus",
                "Results Orientation"]
AVAIL = ["Tuesday and Thursday mornings", "Fridays after 2pm", "Mondays, any time",
         "Wednesday lunch", "most afternoons except Friday"]
WHY = ["I lead a new team and want to learn how experienced managers handle conflict.",
       "I was promoted last spring and would like a sounding board outside my unit.",
       "My supervisor suggested it; I want to get better at delegating and at giving "
       "feedback that people can act on.",
       "I manage a team spread over three offices and want to build trust remotely."]
NOTES = ["We talked about the reorganisation and how to explain it to the team.",
         "Practised a difficult conversation; agreed on a plan for the next one-on-one.",
         "Reviewed the budget request together and discussed how to present it.",
         "Went through the 360 feedback and chose two things to work on this month."]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0

    def person(self):
        r = self.r
        first, last = r.choice(FIRST), r.choice(LAST)
        self.n += 1
        local = "%s.%s%d" % (first.lower(), last.lower(), self.n)
        local = local.encode("ascii", "ignore").decode() or "user%d" % self.n
        for a, b in (("é", "e"), ("ú", "u"), ("ñ", "n"), ("í", "i"), ("ë", "e"), ("ö", "o"),
                     ("ü", "u"), ("á", "a")):
            local = local.replace(a, b)
        return "%s %s" % (first, last), "%s@%s" % (local, r.choice(DOMAINS))

    def headers(self, name, addr, subject, extra=()):
        r = self.r
        self.n += 1
        day = 1 + self.n % 28
        ip = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
        dom = addr.split("@")[1]
        h = [
            "Return-Path: <%s>" % addr,
            "Received: from mx.%s (mx.%s [%s])\r\n\tby mail.example.org (Postfix) with ESMTPS id "
            "4Q%08X\r\n\tfor <mentoring@example.org>; Mon, %d Nov 2026 09:%02d:%02d -0800"
            % (dom, dom, ip, r.getrandbits(32), day, r.randrange(60), r.randrange(60)),
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=sel1;\r\n\th=from:to:"
            "subject:date:message-id; bh=%s;\r\n\tb=%s" % (
                dom, base64.b64encode(r.randbytes(32)).decode(),
                base64.b64encode(r.randbytes(128)).decode()),
            "From: %s <%s>" % (self.encode_phrase(name), addr),
            "To: CDSS Mentoring <mentoring@example.org>",
            "Subject: %s" % self.encode_phrase(subject),
            "Date: Mon, %d Nov 2026 09:%02d:%02d -0800" % (day, r.randrange(60), r.randrange(60)),
            "Message-ID: <%d.%08x@%s>" % (self.n, r.getrandbits(32), dom),
            "MIME-Version: 1.0",
        ]
        h.extend(extra)
        return h

    @staticmethod
    def encode_phrase(s):
        if all(ord(c) < 128 for c in s):
            return s
        return "=?utf-8?b?%s?=" % base64.b64encode(s.encode()).decode()

    # ---- bodies ----

    def application_text(self, name, supervisor):
        r = self.r
        needs = ", ".join(r.sample(COMPETENCIES, r.randint(1, 4)))
        return ("Hello,\n\nHere is my questionnaire.\n\n"
                "Name: %s\nDivision: %s\nClassification: %s\nYears as manager: %d\n"
                "Supervisor email: %s\nDevelopmental needs: %s\nAvailability: %s\n"
                "Why do you want to join: %s\n\nThank you,\n%s\n-- \n%s\n%s\n"
                % (name, r.choice(DIVISIONS), r.choice(CLASSES), r.randint(0, 25), supervisor,
                   needs, r.choice(AVAIL), r.choice(WHY), name.split()[0], name,
                   r.choice(DIVISIONS)))

    def quoted(self, text):
        return "\n".join("> " + line for line in text.splitlines())

    def original(self):
        return ("Dear participant,\n\nThis is a reminder that partnerships meet at least "
                "twice a month.\nReply to this email with: met YYYY-MM-DD 1h\n\n"
                "CDSS Mentoring Partnership Program\n")

    def html_of(self, text):
        paras = "".join("<p>%s</p>" % p.replace("\n", "<br>\r\n")
                        for p in text.split("\n\n"))
        return ("<html><head><meta charset=\"utf-8\"><style>p{margin:0}</style></head>"
                "<body><div dir=\"ltr\">%s</div></body></html>" % paras)

    # ---- parts ----

    @staticmethod
    def crlf(s):
        return s.replace("\r\n", "\n").replace("\n", "\r\n")

    def single(self, headers, text, cte):
        data = text.encode()
        if cte == "quoted-printable":
            body = quopri.encodestring(data).decode()
        elif cte == "base64":
            body = base64.encodebytes(data).decode()
        else:
            body = text
        headers = headers + ["Content-Type: text/plain; charset=utf-8",
                             "Content-Transfer-Encoding: %s" % cte]
        return self.crlf("\r\n".join(headers) + "\r\n\r\n" + body)

    def alternative(self, headers, text, boundary):
        qp_text = quopri.encodestring(text.encode()).decode()
        qp_html = quopri.encodestring(self.html_of(text).encode()).decode()
        return self.crlf(
            "\r\n".join(headers + ['Content-Type: multipart/alternative; boundary="%s"'
                                   % boundary])
            + "\r\n\r\n--%s\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: quoted-printable\n\n%s\n"
              "--%s\nContent-Type: text/html; charset=utf-8\n"
              "Content-Transfer-Encoding: quoted-printable\n\n%s\n--%s--\n"
            % (boundary, qp_text, boundary, qp_html, boundary))

    def html_only(self, headers, text):
        html = base64.encodebytes(self.html_of(text).encode()).decode()
        return self.crlf("\r\n".join(headers + ["Content-Type: text/html; charset=utf-8",
                                                "Content-Transfer-Encoding: base64"])
                         + "\r\n\r\n" + html)

    def with_attachment(self, headers, text, boundary):
        r = self.r
        size = r.randint(20000, 90000)
        pdf = b"%PDF-1.4\n" + r.randbytes(size)
        return self.crlf(
            "\r\n".join(headers + ['Content-Type: multipart/mixed; boundary="%s"' % boundary])
            + "\r\n\r\n--%s\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: 8bit\n\n%s\n"
              "--%s\nContent-Type: application/pdf; name=\"CV.pdf\"\n"
              "Content-Disposition: attachment; filename=\"CV.pdf\"\n"
              "Content-Transfer-Encoding: base64\n\n%s--%s--\n"
            % (boundary, text, boundary, base64.encodebytes(pdf).decode(), boundary))

    # ---- kinds ----

    def message(self):
        r = self.r
        name, addr = self.person()
        kind = r.choices(
            ["app_plain", "app_qp", "app_b64", "app_alt", "app_cv", "mentor", "met_reply",
             "meeting_form", "evaluation", "question_html", "ooo", "ooo_noheader", "bounce"],
            [20, 8, 4, 6, 3, 3, 20, 8, 8, 8, 5, 2, 5])[0]
        boundary = "==b%016x" % r.getrandbits(64)
        sup = "%s.supervisor@%s" % (addr.split("@")[0], addr.split("@")[1])
        if kind.startswith("app_"):
            text = self.application_text(name, sup)
            h = self.headers(name, addr, r.choice(["Mentoring application", "my application",
                                                   "Re: Mentee questionnaire"]))
            if kind == "app_plain":
                return self.single(h, text, "8bit")
            if kind == "app_qp":
                return self.single(h, text, "quoted-printable")
            if kind == "app_b64":
                return self.single(h, text, "base64")
            if kind == "app_alt":
                return self.alternative(h, text, boundary)
            return self.with_attachment(h, text, boundary)
        if kind == "mentor":
            text = ("Please register me as a mentor.\n\nName: %s\nEmail: %s\nDivision: %s\n"
                    "Status: %s\nYears as manager: %d\nStrengths: %s\nCapacity: %d\n"
                    % (name, addr, r.choice(DIVISIONS),
                       r.choice(["current manager", "retired manager"]), r.randint(5, 30),
                       ", ".join(r.sample(COMPETENCIES, 3)), r.randint(1, 3)))
            return self.single(self.headers(name, addr, "Mentor registration"), text,
                               "quoted-printable")
        parent = "<outbox.%d.%08x@example.org>" % (r.randrange(100000), r.getrandbits(32))
        reply_h = ["In-Reply-To: %s" % parent, "References: %s" % parent]
        if kind == "met_reply":
            text = ("met 2026-10-%02d %s\n\n%s\n\nOn Thu, 15 Oct 2026 at 09:00, CDSS Mentoring "
                    "<mentoring@example.org> wrote:\n%s\n"
                    % (r.randint(1, 28), r.choice(["1h", "90m", "2 hours", "1.5 hours"]),
                       r.choice(NOTES), self.quoted(self.original())))
            h = self.headers(name, addr, "Re: Meeting reminder", reply_h)
            return self.alternative(h, text, boundary) if r.random() < 0.4 else \
                self.single(h, text, "quoted-printable")
        if kind == "meeting_form":
            text = ("Meeting date: 2026-10-%02d\nDuration: %d hours\nNotes: %s\n\n%s\n"
                    % (r.randint(1, 28), r.randint(1, 3), r.choice(NOTES),
                       self.quoted(self.original())))
            return self.single(self.headers(name, addr, "Re: Meeting report", reply_h), text,
                               "8bit")
        if kind == "evaluation":
            text = ("Overall, the partnership was useful: [x] 4 - agree\n"
                    "My mentor listened: [x] 5\nComments: %s\n\n-----Original Message-----\n"
                    "From: CDSS Mentoring <mentoring@example.org>\nSent: Monday, November 2, "
                    "2026 9:00 AM\nSubject: Mid-point evaluation\n\n%s\n"
                    % (r.choice(NOTES), self.original()))
            return self.alternative(self.headers(name, addr, "RE: Mid-point evaluation",
                                                 reply_h), text, boundary)
        if kind == "question_html":
            text = ("Hi,\n\nCan my mentor and I meet by video instead of in person? "
                    "And do lunch meetings count?\n\nBest,\n%s" % name)
            return self.html_only(self.headers(name, addr, "Question about meetings",
                                               reply_h), text)
        if kind in ("ooo", "ooo_noheader"):
            extra = reply_h + (["Auto-Submitted: auto-replied", "X-Autoreply: yes"]
                               if kind == "ooo" else [])
            text = ("I am out of the office until November 30 with limited access to email. "
                    "For urgent matters contact my assistant.\n")
            return self.single(self.headers(name, addr, "Automatic reply: Meeting reminder",
                                            extra), text, "quoted-printable")
        # A delivery status notification for an address mentord wrote to.
        h = self.headers("Mail Delivery System", "MAILER-DAEMON@%s" % addr.split("@")[1],
                         "Undelivered Mail Returned to Sender",
                         ["Auto-Submitted: auto-replied"])
        h = [x for x in h if not x.startswith("MIME-Version")] + ["MIME-Version: 1.0"]
        return self.crlf(
            "\r\n".join(h + ['Content-Type: multipart/report; report-type=delivery-status; '
                             'boundary="%s"' % boundary])
            + "\r\n\r\n--%s\nContent-Type: text/plain\n\nI'm sorry to have to inform you that "
              "your message could not be delivered to <%s>.\n\n--%s\n"
              "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.%s\n\n"
              "Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n"
              "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--%s\n"
              "Content-Type: text/rfc822-headers\n\nFrom: CDSS Mentoring <mentoring@example.org>"
              "\nTo: %s\nSubject: Meeting reminder\nMessage-ID: %s\n\n--%s--\n"
            % (boundary, addr, boundary, addr.split("@")[1], addr, boundary, addr, parent,
               boundary))


def generate(n, seed=4):
    g = Gen(seed)
    for _ in range(n):
        yield g.message().encode()
