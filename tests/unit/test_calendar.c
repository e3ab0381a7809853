/* Unit tests for calendar: invitations read back line by line (unfolded),
 * replies in the shapes Gmail, Outlook and Apple Calendar send, malformed
 * replies refused, and answers in words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"
#include "util.h"

/* --- helpers ----------------------------------------------------------- */

/* Checks the iCalendar framing of ics (CRLF line ends, no line over 75
 * octets, folds never inside a UTF-8 sequence) and returns the unfolded
 * lines, LF-separated.  Owned. */
static char *
unfold(const char *ics)
{
	struct strbuf out = {0};
	const char *p = ics;

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");
		assert_non_null(eol);
		assert_true(eol - p <= 75);
		for (const char *q = p; q < eol; q++)
			assert_true(*q != '\r' && *q != '\n');
		if (*p == ' ') {
			/* A continuation: never starts with a UTF-8 continuation byte. */
			assert_true(((unsigned char)p[1] & 0xc0) != 0x80);
			assert_true(out.len > 0);
			strbuf_truncate(&out, out.len - 1); /* the LF of the line before */
			strbuf_add(&out, p + 1, (size_t)(eol - p - 1));
		} else {
			strbuf_add(&out, p, (size_t)(eol - p));
		}
		strbuf_addc(&out, '\n');
		p = eol + 2;
	}
	assert_true(utf8_valid(strbuf_str(&out), out.len));
	return strbuf_detach(&out);
}

/* True when the unfolded text has exactly this line. */
static bool
has_line(const char *lines, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = lines; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		if ((size_t)(eol - p) == n && memcmp(p, line, n) == 0)
			return true;
		p = eol + 1;
	}
	return false;
}

/* The first unfolded line starting with prefix, or NULL.  Owned. */
static char *
line_starting(const char *lines, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = lines; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		if (strncmp(p, prefix, n) == 0)
			return xstrndup(p, (size_t)(eol - p));
		p = eol + 1;
	}
	return NULL;
}

static size_t
count_lines_starting(const char *lines, const char *prefix)
{
	size_t n = strlen(prefix), count = 0;
	for (const char *p = lines; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		if (strncmp(p, prefix, n) == 0)
			count++;
		p = eol + 1;
	}
	return count;
}

static const struct calendar_attendee attendees[] = {
    {"jose@example.org", "José \"Pepe\" Núñez"},
    {"zoe@example.org", "Zoë Ørsted"},
};

/* Session 1: 2026-12-01 09:00-11:00 in Sacramento (PST, UTC-8). */
static struct calendar_event
session(void)
{
	struct calendar_event ev = {
	    .uid = "session-1.cohort-3@mentoring.example.org",
	    .sequence = 0,
	    .dtstamp = 1795000000, /* 2026-11-18T11:06:40Z */
	    .start = 1796144400,   /* 2026-12-01T17:00:00Z */
	    .end = 1796151600,     /* 2026-12-01T19:00:00Z */
	    .tzid = "America/Los_Angeles",
	    .summary = "Sesión 1: Leading change, together; a long title that must be folded "
	               "über the 75-octet limit",
	    .location = "Room 101; 1430 N Street, Sacramento",
	    .description = "Bring the reading.\r\nQuestions: reply to this email.",
	    .organizer_addr = "mentoring+t42@mentoring.example.org",
	    .organizer_name = "DOL SES CDP",
	    .attendees = attendees,
	    .nattendees = 2,
	};
	return ev;
}

static char *
build_ok(enum calendar_method method, const struct calendar_event *ev)
{
	char *ics = NULL;
	size_t len = 0;
	const char *error = NULL;
	if (calendar_build(method, ev, &ics, &len, &error) < 0)
		fail_msg("calendar_build: %s", error);
	assert_int_equal(strlen(ics), len);
	char *lines = unfold(ics);
	free(ics);
	return lines;
}

/* --- building ----------------------------------------------------------- */

static void
test_request(void **state)
{
	(void)state;
	struct calendar_event ev = session();
	char *l = build_ok(CALENDAR_REQUEST, &ev);

	assert_true(strncmp(l, "BEGIN:VCALENDAR\n", 16) == 0);
	assert_true(has_line(l, "VERSION:2.0"));
	assert_true(has_line(l, "METHOD:REQUEST"));
	assert_true(has_line(l, "CALSCALE:GREGORIAN"));
	char *prodid = line_starting(l, "PRODID:");
	assert_non_null(prodid);
	assert_non_null(strstr(prodid, "mentord"));
	free(prodid);
	assert_int_equal(count_lines_starting(l, "BEGIN:VEVENT"), 1);
	assert_true(has_line(l, "UID:session-1.cohort-3@mentoring.example.org"));
	assert_true(has_line(l, "SEQUENCE:0"));
	assert_true(has_line(l, "DTSTAMP:20261118T110640Z"));
	/* Local wall time with the IANA name, and its VTIMEZONE. */
	assert_true(has_line(l, "DTSTART;TZID=America/Los_Angeles:20261201T090000"));
	assert_true(has_line(l, "DTEND;TZID=America/Los_Angeles:20261201T110000"));
	assert_int_equal(count_lines_starting(l, "BEGIN:VTIMEZONE"), 1);
	assert_true(has_line(l, "TZID:America/Los_Angeles"));
	assert_true(has_line(l, "BEGIN:STANDARD"));
	assert_true(has_line(l, "TZOFFSETTO:-0800"));
	/* The VTIMEZONE comes before the event that uses it. */
	assert_true(strstr(l, "BEGIN:VTIMEZONE") < strstr(l, "BEGIN:VEVENT"));
	/* TEXT values escaped; the description's line break as \n. */
	assert_true(has_line(l, "SUMMARY:Sesión 1: Leading change\\, together\\; a long title "
	                        "that must be folded über the 75-octet limit"));
	assert_true(has_line(l, "LOCATION:Room 101\\; 1430 N Street\\, Sacramento"));
	assert_true(
	    has_line(l, "DESCRIPTION:Bring the reading.\\nQuestions: reply to this email."));
	assert_true(
	    has_line(l, "ORGANIZER;CN=DOL SES CDP:mailto:mentoring+t42@mentoring.example.org"));
	/* Every attendee asked to answer; a double quote cannot be in a
	 * parameter value, so the name loses it. */
	assert_int_equal(count_lines_starting(l, "ATTENDEE"), 2);
	char *jose = line_starting(l, "ATTENDEE");
	assert_non_null(strstr(jose, ";PARTSTAT=NEEDS-ACTION"));
	assert_non_null(strstr(jose, ";RSVP=TRUE"));
	assert_non_null(strstr(jose, ";ROLE=REQ-PARTICIPANT"));
	assert_non_null(strstr(jose, ";CN=José 'Pepe' Núñez"));
	assert_non_null(strstr(jose, ":mailto:jose@example.org"));
	free(jose);
	assert_non_null(strstr(l, "CN=Zoë Ørsted:mailto:zoe@example.org\n"));
	assert_true(has_line(l, "STATUS:CONFIRMED"));
	assert_true(has_line(l, "END:VCALENDAR"));
	free(l);

	/* In summer the same zone is PDT (UTC-7): 16:00Z is 09:00 local. */
	ev.start = 1783008000; /* 2026-07-02T16:00:00Z */
	ev.end = ev.start + 3600;
	l = build_ok(CALENDAR_REQUEST, &ev);
	assert_true(has_line(l, "DTSTART;TZID=America/Los_Angeles:20260702T090000"));
	assert_true(has_line(l, "DTEND;TZID=America/Los_Angeles:20260702T100000"));
	assert_true(has_line(l, "TZOFFSETTO:-0700"));
	free(l);

	/* No zone: UTC times and no VTIMEZONE. */
	ev = session();
	ev.tzid = NULL;
	l = build_ok(CALENDAR_REQUEST, &ev);
	assert_true(has_line(l, "DTSTART:20261201T170000Z"));
	assert_true(has_line(l, "DTEND:20261201T190000Z"));
	assert_null(strstr(l, "VTIMEZONE"));
	assert_null(strstr(l, "TZID"));
	free(l);
}

static void
test_update_and_cancel(void **state)
{
	(void)state;
	struct calendar_event ev = session();

	/* An update: the same UID, a higher SEQUENCE, the new time; the
	 * attendees are asked again. */
	ev.sequence = 1;
	ev.start += 3600;
	ev.end += 3600;
	ev.dtstamp += 86400;
	char *l = build_ok(CALENDAR_REQUEST, &ev);
	assert_true(has_line(l, "METHOD:REQUEST"));
	assert_true(has_line(l, "UID:session-1.cohort-3@mentoring.example.org"));
	assert_true(has_line(l, "SEQUENCE:1"));
	assert_true(has_line(l, "DTSTAMP:20261119T110640Z"));
	assert_true(has_line(l, "DTSTART;TZID=America/Los_Angeles:20261201T100000"));
	assert_non_null(strstr(l, "PARTSTAT=NEEDS-ACTION"));
	free(l);

	/* The cancellation. */
	ev.sequence = 2;
	l = build_ok(CALENDAR_CANCEL, &ev);
	assert_true(has_line(l, "METHOD:CANCEL"));
	assert_true(has_line(l, "STATUS:CANCELLED"));
	assert_true(has_line(l, "SEQUENCE:2"));
	assert_true(has_line(l, "UID:session-1.cohort-3@mentoring.example.org"));
	assert_int_equal(count_lines_starting(l, "ATTENDEE"), 2);
	assert_null(strstr(l, "RSVP=TRUE"));
	assert_null(strstr(l, "STATUS:CONFIRMED"));
	free(l);
}

static void
test_build_refused(void **state)
{
	(void)state;
	struct calendar_attendee bad_att[] = {{"not an address", NULL}};
	struct {
		const char *field;
		const char *says;
	} cases[] = {
	    {"uid", "UID"},
	    {"uid-space", "UID"},
	    {"end", "ends before"},
	    {"summary", "summary"},
	    {"organizer", "organizer"},
	    {"attendees", "no attendee"},
	    {"attendee", "attendee"},
	    {"tz-unknown", "unknown time zone"},
	    {"tz-path", "time zone name"},
	    {"description", "description"},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct calendar_event ev = session();
		const char *f = cases[i].field;
		if (strcmp(f, "uid") == 0)
			ev.uid = NULL;
		else if (strcmp(f, "uid-space") == 0)
			ev.uid = "a b@c";
		else if (strcmp(f, "end") == 0)
			ev.end = ev.start;
		else if (strcmp(f, "summary") == 0)
			ev.summary = "";
		else if (strcmp(f, "organizer") == 0)
			ev.organizer_addr = "x\r\nATTENDEE:mailto:evil@x";
		else if (strcmp(f, "attendees") == 0)
			ev.nattendees = 0;
		else if (strcmp(f, "attendee") == 0) {
			ev.attendees = bad_att;
			ev.nattendees = 1;
		} else if (strcmp(f, "tz-unknown") == 0)
			ev.tzid = "Mars/Olympus_Mons";
		else if (strcmp(f, "tz-path") == 0)
			ev.tzid = "../../../etc/passwd";
		else if (strcmp(f, "description") == 0)
			ev.description = "bad \xff UTF-8";
		char *ics = NULL;
		size_t len;
		const char *error = NULL;
		assert_int_equal(calendar_build(CALENDAR_REQUEST, &ev, &ics, &len, &error), -1);
		assert_null(ics);
		if (error == NULL || strstr(error, cases[i].says) == NULL)
			fail_msg("%s: error \"%s\", want \"%s\"", f, error, cases[i].says);
	}

	/* Control characters in texts cannot start a property of their own. */
	struct calendar_event ev = session();
	ev.summary = "Session\r\nATTENDEE:mailto:evil@example.org";
	ev.location = "Room\nORGANIZER:mailto:evil@example.org";
	struct calendar_attendee sneaky[] = {{"a@example.org", "A\r\nATTENDEE:mailto:evil@x"}};
	ev.attendees = sneaky;
	ev.nattendees = 1;
	char *l = build_ok(CALENDAR_REQUEST, &ev);
	assert_int_equal(count_lines_starting(l, "ATTENDEE"), 1);
	assert_int_equal(count_lines_starting(l, "ORGANIZER"), 1);
	assert_null(strstr(l, "\nATTENDEE:mailto:evil"));
	free(l);
}

/* --- parsing replies ---------------------------------------------------- */

static struct calendar_reply *
parse_ok(const char *ics)
{
	struct calendar_reply *r = NULL;
	const char *error = NULL;
	if (calendar_parse_reply(ics, strlen(ics), &r, &error) < 0)
		fail_msg("calendar_parse_reply: %s", error);
	assert_non_null(r);
	return r;
}

/* A reply as Google Calendar writes one. */
static const char gmail_reply[] =
    "BEGIN:VCALENDAR\r\n"
    "PRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
    "VERSION:2.0\r\n"
    "CALSCALE:GREGORIAN\r\n"
    "METHOD:REPLY\r\n"
    "BEGIN:VEVENT\r\n"
    "DTSTART:20261201T170000Z\r\n"
    "DTEND:20261201T190000Z\r\n"
    "DTSTAMP:20261120T081500Z\r\n"
    "ORGANIZER;CN=DOL SES CDP:mailto:mentoring+t42@mentoring.example.org\r\n"
    "UID:session-1.cohort-3@mentoring.example.org\r\n"
    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Jos\r\n"
    " é Núñez;X-NUM-GUESTS=0:mailto:jose@example.org\r\n"
    "CREATED:20261118T110640Z\r\n"
    "LAST-MODIFIED:20261120T081500Z\r\n"
    "LOCATION:Room 101\\; 1430 N Street\\, Sacramento\r\n"
    "SEQUENCE:1\r\n"
    "STATUS:CONFIRMED\r\n"
    "SUMMARY:Sesión 1\r\n"
    "TRANSP:OPAQUE\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

/* A reply as Outlook / Exchange writes one: Windows zone names, MAILTO in
 * capitals, the attendee's note in COMMENT, LF line ends after a relay. */
static const char outlook_reply[] =
    "BEGIN:VCALENDAR\n"
    "METHOD:REPLY\n"
    "PRODID:Microsoft Exchange Server 2010\n"
    "VERSION:2.0\n"
    "BEGIN:VTIMEZONE\n"
    "TZID:Pacific Standard Time\n"
    "BEGIN:STANDARD\n"
    "DTSTART:16010101T020000\n"
    "TZOFFSETFROM:-0700\n"
    "TZOFFSETTO:-0800\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\n"
    "END:STANDARD\n"
    "BEGIN:DAYLIGHT\n"
    "DTSTART:16010101T020000\n"
    "TZOFFSETFROM:-0800\n"
    "TZOFFSETTO:-0700\n"
    "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\n"
    "END:DAYLIGHT\n"
    "END:VTIMEZONE\n"
    "BEGIN:VEVENT\n"
    "ATTENDEE;PARTSTAT=DECLINED;CN=Zoë Ørsted:MAILTO:Zoe@Example.org\n"
    "COMMENT;LANGUAGE=en-US:Sorry\\, I am on leave that week.\\n\n"
    "SUMMARY;LANGUAGE=en-US:Declined: Sesión 1\n"
    "DTSTART;TZID=Pacific Standard Time:20261201T090000\n"
    "DTEND;TZID=Pacific Standard Time:20261201T110000\n"
    "UID:session-1.cohort-3@mentoring.example.org\n"
    "CLASS:PUBLIC\n"
    "PRIORITY:5\n"
    "DTSTAMP:20261120T173012Z\n"
    "TRANSP:OPAQUE\n"
    "STATUS:CONFIRMED\n"
    "SEQUENCE:0\n"
    "LOCATION;LANGUAGE=en-US:Room 101\n"
    "X-MICROSOFT-CDO-APPT-SEQUENCE:0\n"
    "X-MICROSOFT-CDO-OWNERAPPTID:-1\n"
    "X-MICROSOFT-CDO-BUSYSTATUS:FREE\n"
    "END:VEVENT\n"
    "END:VCALENDAR\n";

/* A reply as Apple Calendar may write one: the attendee as a urn:uuid with
 * the address in EMAIL. */
static const char apple_reply[] =
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Apple Inc.//macOS 15.1//EN\r\n"
    "METHOD:REPLY\r\n"
    "BEGIN:VEVENT\r\n"
    "ATTENDEE;CN=Ana Ruiz;CUTYPE=INDIVIDUAL;EMAIL=ana.ruiz@example.org;PARTSTAT=TE\r\n"
    " NTATIVE:urn:uuid:7B3A9C1E-2F4D-4E8A-9B6C-1D2E3F4A5B6C\r\n"
    "DTSTAMP:20261121T090000Z\r\n"
    "ORGANIZER;CN=DOL SES CDP:mailto:mentoring+t42@mentoring.example.org\r\n"
    "SEQUENCE:3\r\n"
    "UID:session-1.cohort-3@mentoring.example.org\r\n"
    "DTSTART:20261201T170000Z\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n";

static void
test_parse_replies(void **state)
{
	(void)state;
	struct calendar_reply *r = parse_ok(gmail_reply);
	assert_string_equal(r->uid, "session-1.cohort-3@mentoring.example.org");
	assert_int_equal(r->sequence, 1);
	assert_int_equal(r->dtstamp, 1795162500); /* 2026-11-20T08:15:00Z */
	assert_string_equal(r->attendee, "jose@example.org");
	assert_int_equal(r->partstat, CALENDAR_ACCEPTED);
	assert_null(r->comment);
	calendar_reply_free(&r);
	assert_null(r);

	r = parse_ok(outlook_reply);
	assert_string_equal(r->uid, "session-1.cohort-3@mentoring.example.org");
	assert_int_equal(r->sequence, 0);
	assert_string_equal(r->attendee, "Zoe@Example.org");
	assert_int_equal(r->partstat, CALENDAR_DECLINED);
	assert_string_equal(r->comment, "Sorry, I am on leave that week.\n");
	calendar_reply_free(&r);

	r = parse_ok(apple_reply);
	assert_string_equal(r->attendee, "ana.ruiz@example.org");
	assert_int_equal(r->partstat, CALENDAR_TENTATIVE);
	assert_int_equal(r->sequence, 3);
	calendar_reply_free(&r);
	calendar_reply_free(&r); /* NULL: nothing */

	assert_string_equal(calendar_partstat_name(CALENDAR_ACCEPTED), "accepted");
	assert_string_equal(calendar_partstat_name(CALENDAR_DECLINED), "declined");
	assert_string_equal(calendar_partstat_name(CALENDAR_TENTATIVE), "tentative");
	assert_string_equal(calendar_partstat_name(CALENDAR_PARTSTAT_NONE), "none");
}

/* What an attendee's client does with our invitation: METHOD:REPLY, its
 * own PARTSTAT, only its own ATTENDEE line. */
static void
test_reply_to_our_invitation(void **state)
{
	(void)state;
	struct calendar_event ev = session();
	ev.sequence = 4;
	char *ics = NULL;
	size_t len;
	const char *error = NULL;
	assert_int_equal(calendar_build(CALENDAR_REQUEST, &ev, &ics, &len, &error), 0);

	struct strbuf reply = {0};
	for (const char *p = ics; *p != '\0';) {
		const char *eol = strstr(p, "\r\n") + 2;
		/* Drop the second attendee (its folded line and continuation). */
		if (strncmp(p, "ATTENDEE", 8) == 0 && strstr(p, "zoe@") != NULL &&
		    strstr(p, "zoe@") < strstr(eol, "\r\n") + 2) {
			const char *q = eol;
			while (*q == ' ')
				q = strstr(q, "\r\n") + 2;
			p = q;
			continue;
		}
		strbuf_add(&reply, p, (size_t)(eol - p));
		p = eol;
	}
	char *text = strbuf_detach(&reply);
	/* METHOD and PARTSTAT changed in place. */
	char *m = strstr(text, "METHOD:REQUEST");
	assert_non_null(m);
	memcpy(m, "METHOD:REPLY\r\n", 14);
	memmove(m + 14, m + 16, strlen(m + 16) + 1);
	char *ps = strstr(text, "PARTSTAT=NEEDS-ACTION");
	assert_non_null(ps);
	const char *acc = "PARTSTAT=ACCEPTED";
	memcpy(ps, acc, strlen(acc));
	memmove(ps + strlen(acc), ps + strlen("PARTSTAT=NEEDS-ACTION"),
	        strlen(ps + strlen("PARTSTAT=NEEDS-ACTION")) + 1);

	struct calendar_reply *r = parse_ok(text);
	assert_string_equal(r->uid, ev.uid);
	assert_int_equal(r->sequence, 4);
	assert_string_equal(r->attendee, "jose@example.org");
	assert_int_equal(r->partstat, CALENDAR_ACCEPTED);
	assert_int_equal(r->dtstamp, ev.dtstamp);
	calendar_reply_free(&r);
	free(text);
	free(ics);
}

/* Replaces the first occurrence of from in base by to.  Owned. */
static char *
replace(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	assert_non_null(at);
	struct strbuf sb = {0};
	strbuf_add(&sb, base, (size_t)(at - base));
	strbuf_adds(&sb, to);
	strbuf_adds(&sb, at + strlen(from));
	return strbuf_detach(&sb);
}

static void
test_malformed_replies(void **state)
{
	(void)state;
	const char *att =
	    "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Jos\r\n"
	    " é Núñez;X-NUM-GUESTS=0:mailto:jose@example.org\r\n";
	struct {
		const char *from, *to; /* an edit of gmail_reply; from NULL: to is the input */
		const char *says;
	} cases[] = {
	    {NULL, "", "not an iCalendar object"},
	    {NULL, "Yes, I will attend.\r\n", "not an iCalendar object"},
	    {NULL, "BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "not a VCALENDAR"},
	    {"METHOD:REPLY", "METHOD:REQUEST", "not REPLY"},
	    {"METHOD:REPLY", "METHOD:COUNTER", "not REPLY"},
	    {"METHOD:REPLY\r\n", "", "without METHOD"},
	    {"METHOD:REPLY\r\n", "METHOD:REPLY\r\nMETHOD:REPLY\r\n", "more than one METHOD"},
	    {"UID:session-1.cohort-3@mentoring.example.org\r\n", "", "without UID"},
	    {"UID:session-1.cohort-3@mentoring.example.org", "UID:has space", "unusable UID"},
	    {"SEQUENCE:1", "SEQUENCE:-4", "negative SEQUENCE"},
	    {"SEQUENCE:1", "SEQUENCE:one", "malformed iCalendar"},
	    {"DTSTAMP:20261120T081500Z", "DTSTAMP:yesterday", "malformed iCalendar"},
	    {att, "", "without ATTENDEE"},
	    {"PARTSTAT=ACCEPTED;", "", "without PARTSTAT"},
	    {"PARTSTAT=ACCEPTED", "PARTSTAT=NEEDS-ACTION", "PARTSTAT other than"},
	    {"PARTSTAT=ACCEPTED", "PARTSTAT=DELEGATED", "PARTSTAT other than"},
	    {"PARTSTAT=ACCEPTED", "PARTSTAT=X-MAYBE", "PARTSTAT other than"},
	    {"mailto:jose@example.org", "mailto:jose", "not an email address"},
	    {"mailto:jose@example.org", "urn:uuid:1234", "not an email address"},
	    {"mailto:jose@example.org", "mailto:jose@example.org\r\nBcc: x", "malformed iCalendar"},
	    {"END:VEVENT\r\n", "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:b@x\r\nEND:VEVENT\r\n",
	     "more than one VEVENT"},
	    {"BEGIN:VEVENT\r\n", "BEGIN:VTODO\r\n", "without VEVENT"},
	    {"UID:session", "RECURRENCE-ID:20261201T170000Z\r\nUID:session", "RECURRENCE-ID"},
	    {"END:VCALENDAR\r\n",
	     "END:VCALENDAR\r\nBEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n"
	     "END:VCALENDAR\r\n",
	     "more than one VCALENDAR"},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		char *input;
		if (cases[i].from == NULL)
			input = xstrdup(cases[i].to);
		else
			input = replace(gmail_reply, cases[i].from, cases[i].to);
		if (strcmp(cases[i].from != NULL ? cases[i].from : "", att) == 0) {
			/* A second attendee instead of none, too. */
			char *two = replace(gmail_reply, att,
			                    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org\r\n"
			                    "ATTENDEE;PARTSTAT=DECLINED:mailto:b@example.org\r\n");
			struct calendar_reply *r = NULL;
			const char *error = NULL;
			assert_int_equal(calendar_parse_reply(two, strlen(two), &r, &error), -1);
			assert_non_null(strstr(error, "more than one ATTENDEE"));
			free(two);
		}
		struct calendar_reply *r = (struct calendar_reply *)1;
		const char *error = NULL;
		int ret = calendar_parse_reply(input, strlen(input), &r, &error);
		if (ret != -1)
			fail_msg("case %zu accepted", i);
		assert_null(r);
		if (error == NULL || strstr(error, cases[i].says) == NULL)
			fail_msg("case %zu: error \"%s\", want \"%s\"", i, error, cases[i].says);
		free(input);
	}

	/* A NUL byte, and too many bytes. */
	struct calendar_reply *r = NULL;
	const char *error = NULL;
	assert_int_equal(calendar_parse_reply(gmail_reply, sizeof(gmail_reply), &r, &error), -1);
	assert_non_null(strstr(error, "NUL"));
	char *big = xmalloc(CALENDAR_MAX_BYTES + 2);
	memset(big, 'A', CALENDAR_MAX_BYTES + 1);
	big[CALENDAR_MAX_BYTES + 1] = '\0';
	assert_int_equal(calendar_parse_reply(big, CALENDAR_MAX_BYTES + 1, &r, &error), -1);
	assert_non_null(strstr(error, "too large"));
	free(big);
	/* Components nested past any reply's depth. */
	struct strbuf deep = {0};
	strbuf_adds(&deep, "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n");
	for (int i = 0; i < 5000; i++)
		strbuf_adds(&deep, "BEGIN:X-A\r\n");
	for (int i = 0; i < 5000; i++)
		strbuf_adds(&deep, "END:X-A\r\n");
	strbuf_adds(&deep, "END:VCALENDAR\r\n");
	assert_int_equal(calendar_parse_reply(deep.buf, deep.len, &r, &error), -1);
	assert_non_null(strstr(error, "nested"));
	strbuf_free(&deep);
	/* Only len bytes are read: a reply cut short is refused. */
	assert_int_equal(calendar_parse_reply(gmail_reply, 60, &r, &error), -1);
	assert_null(r);
}

/* --- answers in words ---------------------------------------------------- */

static void
test_rsvp_text(void **state)
{
	(void)state;
	struct {
		const char *text;
		enum calendar_partstat want;
	} cases[] = {
	    {"yes", CALENDAR_ACCEPTED},
	    {"Yes!", CALENDAR_ACCEPTED},
	    {"YES, I will attend.\n\nThanks, José", CALENDAR_ACCEPTED},
	    {"Accept", CALENDAR_ACCEPTED},
	    {"I will attend", CALENDAR_ACCEPTED},
	    {"I’ll be there.", CALENDAR_ACCEPTED},
	    {"Hi Ana,\n\nCount me in!\n", CALENDAR_ACCEPTED},
	    {"  \n\n  sure  \n", CALENDAR_ACCEPTED},
	    {"No problem, I'll attend.", CALENDAR_ACCEPTED},
	    {"Thank you, I will be there", CALENDAR_ACCEPTED},
	    {"no", CALENDAR_DECLINED},
	    {"No.", CALENDAR_DECLINED},
	    {"decline", CALENDAR_DECLINED},
	    {"Sorry, I can't attend this one.", CALENDAR_DECLINED},
	    {"I cannot attend", CALENDAR_DECLINED},
	    {"I will not attend", CALENDAR_DECLINED},
	    {"I won’t be able to attend, I am on leave", CALENDAR_DECLINED},
	    {"Unfortunately I'm not attending.", CALENDAR_DECLINED},
	    {"maybe", CALENDAR_TENTATIVE},
	    {"Maybe\xe2\x80\x94"
	     "depends on my schedule",
	     CALENDAR_TENTATIVE},
	    {"Tentatively yes... not sure", CALENDAR_PARTSTAT_NONE}, /* two answers */
	    {"I'm not sure yet", CALENDAR_TENTATIVE},
	    {"I might attend", CALENDAR_TENTATIVE},
	    {"yes no", CALENDAR_PARTSTAT_NONE},
	    {"Yes. No wait, maybe.", CALENDAR_PARTSTAT_NONE},
	    {"", CALENDAR_PARTSTAT_NONE},
	    {"\n\n\n", CALENDAR_PARTSTAT_NONE},
	    {"What time does it start?", CALENDAR_PARTSTAT_NONE},
	    {"Hi,\nthanks for organising.\nWhere is room 101?\nYes I will come.",
	     CALENDAR_PARTSTAT_NONE},                      /* past the first 3 lines */
	    {"> yes\n> on Monday\nno", CALENDAR_DECLINED}, /* quotes are not the answer */
	    {"yesterday", CALENDAR_PARTSTAT_NONE},
	    {"Nobody told me", CALENDAR_PARTSTAT_NONE},
	    {"Sí", CALENDAR_PARTSTAT_NONE}, /* English only */
	    {"attending", CALENDAR_ACCEPTED},
	    {"Not attending", CALENDAR_DECLINED},
	};
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		enum calendar_partstat got =
		    calendar_rsvp_text(cases[i].text, strlen(cases[i].text));
		if (got != cases[i].want)
			fail_msg("\"%s\": %s, want %s", cases[i].text, calendar_partstat_name(got),
			         calendar_partstat_name(cases[i].want));
	}
	assert_int_equal(calendar_rsvp_text(NULL, 0), CALENDAR_PARTSTAT_NONE);
	/* Only len bytes count. */
	assert_int_equal(calendar_rsvp_text("no way", 2), CALENDAR_DECLINED);
	assert_int_equal(calendar_rsvp_text("yes", 0), CALENDAR_PARTSTAT_NONE);

	/* A long line of words, and a long run without spaces, are fine. */
	struct strbuf sb = {0};
	for (int i = 0; i < 500; i++)
		strbuf_adds(&sb, "word ");
	strbuf_adds(&sb, "yes");
	assert_int_equal(calendar_rsvp_text(sb.buf, sb.len), CALENDAR_PARTSTAT_NONE);
	strbuf_truncate(&sb, 0);
	for (int i = 0; i < 5000; i++)
		strbuf_addc(&sb, 'y');
	assert_int_equal(calendar_rsvp_text(sb.buf, sb.len), CALENDAR_PARTSTAT_NONE);
	strbuf_free(&sb);
}

/* Whether a library whose file name contains name is mapped. */
static bool
mapped(const char *name)
{
	char *maps = NULL;
	size_t len;
	const char *error = NULL;
	if (read_file("/proc/self/maps", 16 << 20, &maps, &len, &error) < 0)
		fail_msg("%s", error);
	bool found = strstr(maps, name) != NULL;
	free(maps);
	return found;
}

/* libical is mapped only during a call, or between calendar_acquire and
 * calendar_release, which hold it across calls. */
static void
test_acquire(void **state)
{
	(void)state;
	const char *error = NULL;
	assert_false(mapped("libical"));
	struct calendar_reply *one = parse_ok(gmail_reply);
	calendar_reply_free(&one);
	assert_false(mapped("libical"));
	assert_int_equal(calendar_acquire(&error), 0);
	assert_true(mapped("libical"));
	for (int i = 0; i < 3; i++) {
		struct calendar_event ev = session();
		ev.sequence = (unsigned)i;
		char *l = build_ok(CALENDAR_REQUEST, &ev);
		free(l);
		struct calendar_reply *r = parse_ok(gmail_reply);
		calendar_reply_free(&r);
		assert_true(mapped("libical"));
	}
	calendar_release();
	assert_false(mapped("libical"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_update_and_cancel),
	    cmocka_unit_test(test_build_refused),
	    cmocka_unit_test(test_parse_replies),
	    cmocka_unit_test(test_reply_to_our_invitation),
	    cmocka_unit_test(test_malformed_replies),
	    cmocka_unit_test(test_rsvp_text),
	    cmocka_unit_test(test_acquire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
