/*
 * calendar: calendar invitations (iTIP, RFC 5546, over iMIP, RFC 6047) for
 * program sessions, and the attendees' answers.  Pure: bytes in, values out.
 *
 * Invitations are built and replies parsed with libical, which is loaded on
 * first use and unloaded after (include/dynlib.h says why); a caller that
 * handles many in a row (a cohort's invitations) can hold it loaded with
 * calendar_acquire()/calendar_release() around the batch.
 *
 * Times: an event's start and end are instants (time_t).  With a tzid (an
 * IANA name from configuration, "America/Los_Angeles") DTSTART/DTEND are
 * written as local times with TZID=<that name>, and a VTIMEZONE built from
 * the system time zone database, cut to the event's dates the way Outlook
 * expects (one STANDARD and one DAYLIGHT rule), goes with them: Google and
 * Apple recognise the IANA name, Outlook reads the VTIMEZONE.  With no tzid
 * (or "UTC") the times are UTC ("...Z") and there is no VTIMEZONE.
 *
 * An invitation goes out as a text/calendar alternative of the message body
 * (see compose.h, struct compose_attachment.inline_calendar_method).  The
 * attendee's calendar answers with METHOD:REPLY to the ORGANIZER address;
 * a person who answers in words instead ("yes", "I will attend") is read by
 * calendar_rsvp_text().
 */
#ifndef MENTORD_CALENDAR_H
#define MENTORD_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum calendar_method {
	CALENDAR_REQUEST, /* a new invitation, or an update (a higher sequence) */
	CALENDAR_CANCEL,  /* the session is cancelled: STATUS:CANCELLED */
};

/* An attendee's answer.  CALENDAR_PARTSTAT_NONE: no answer could be read. */
enum calendar_partstat {
	CALENDAR_PARTSTAT_NONE = 0,
	CALENDAR_ACCEPTED,
	CALENDAR_DECLINED,
	CALENDAR_TENTATIVE,
};

struct calendar_attendee {
	const char *addr; /* borrowed; required: an addr-spec */
	const char *name; /* borrowed; UTF-8, may be NULL */
};

/* Every pointer is borrowed for the duration of the call. */
struct calendar_event {
	/* Required; the same for the invitation, its updates and its
	 * cancellation: e.g. "session-12.program-3@example.org".  Printable
	 * ASCII, at most 255 bytes. */
	const char *uid;
	/* 0 in the first REQUEST; each update and the CANCEL use a higher
	 * number than any sent before (RFC 5546 2.1.4): clients ignore a
	 * message whose sequence is not higher than the one they hold. */
	unsigned sequence;
	time_t dtstamp;          /* when this version was made: clock_now() */
	time_t start, end;       /* end > start */
	const char *tzid;        /* IANA zone name; NULL or "UTC": UTC times */
	const char *summary;     /* UTF-8, required */
	const char *location;    /* UTF-8, may be NULL */
	const char *description; /* UTF-8, may be NULL; LF line ends */
	/* Required: where calendar clients send the REPLY (they ignore
	 * Reply-To).  The signed token address (mentoring+TOKEN@...) makes the
	 * REPLY carry its thread and proof, as a reply by mail does. */
	const char *organizer_addr;
	const char *organizer_name;                /* UTF-8, may be NULL */
	const struct calendar_attendee *attendees; /* at least one */
	size_t nattendees;
};

/*
 * The iCalendar object (CRLF line ends, folded at 75 octets, NUL-terminated)
 * of method for ev: VCALENDAR with PRODID, VERSION:2.0, CALSCALE:GREGORIAN,
 * METHOD, the VTIMEZONE when ev->tzid names a zone, and one VEVENT with
 * UID, SEQUENCE, DTSTAMP, DTSTART, DTEND, SUMMARY, LOCATION, DESCRIPTION,
 * ORGANIZER, STATUS (CONFIRMED or CANCELLED), TRANSP:OPAQUE and one
 * ATTENDEE per attendee (ROLE=REQ-PARTICIPANT, PARTSTAT=NEEDS-ACTION,
 * RSVP=TRUE).  Names and texts are sanitised (control characters, and
 * double quotes in names, which a parameter value cannot carry).  Fails on a
 * missing or invalid field, an unknown zone, or when libical cannot be
 * loaded.  The caller owns *ics_r.
 */
int calendar_build(enum calendar_method method, const struct calendar_event *ev, char **ics_r,
                   size_t *len_r, const char **error_r);

/* An attendee's METHOD:REPLY. */
struct calendar_reply {
	char *uid;         /* owned */
	unsigned sequence; /* the SEQUENCE answered (0 when absent, RFC 5545 3.8.7.4) */
	time_t dtstamp;    /* 0 when absent; orders two replies of one sequence */
	char *attendee;    /* owned: the addr-spec, as written (not lowercased) */
	enum calendar_partstat partstat; /* never CALENDAR_PARTSTAT_NONE */
	char *comment;                   /* owned; the attendee's note (COMMENT), or NULL */
};

/*
 * Parses the text/calendar bytes data[0..len) of an answer.  Refused with
 * an error that says why: not iCalendar (or cut short), a line libical
 * could not parse (X-LIC-ERROR), a SEQUENCE that is not an integer,
 * components nested deeper than a reply's, more than one VCALENDAR, METHOD other than REPLY, no or
 * several VEVENTs, a RECURRENCE-ID (mentord sends no recurring events), no
 * UID or an unusable one, a negative SEQUENCE, no or several ATTENDEEs, an
 * attendee that is not a mailto: address (nor has an EMAIL parameter), a
 * PARTSTAT other than ACCEPTED, DECLINED or TENTATIVE, a NUL byte, or more
 * than CALENDAR_MAX_BYTES.  The caller owns *reply_r (calendar_reply_free).
 */
#define CALENDAR_MAX_BYTES (256 * 1024)
int calendar_parse_reply(const char *data, size_t len, struct calendar_reply **reply_r,
                         const char **error_r);
void calendar_reply_free(struct calendar_reply **reply);

/*
 * The answer in a person's own words, from text[0..len) (the new text of a
 * reply, quotes already removed; any bytes).  The first lines that say
 * something decide: "yes", "accept", "I will attend", "count me in" ->
 * ACCEPTED; "no", "decline", "I can't attend", "will not be there" ->
 * DECLINED; "maybe", "tentative", "not sure" -> TENTATIVE.  Negations are
 * read as phrases ("not sure" is not "sure", "cannot attend" is not
 * "attend").  A line that says two things ("yes ... no") or nothing known
 * gives CALENDAR_PARTSTAT_NONE, and so does text whose first 3 non-empty
 * lines say nothing: the caller then asks.  English only.  Linear in len;
 * looks at most at the first 2,000 bytes.
 */
enum calendar_partstat calendar_rsvp_text(const char *text, size_t len);

/* "accepted", "declined", "tentative" or "none": static strings. */
const char *calendar_partstat_name(enum calendar_partstat partstat);

/* Holds libical loaded across many calls (each call otherwise loads and
 * unloads it).  Pair every successful acquire with one release. */
int calendar_acquire(const char **error_r);
void calendar_release(void);

#endif
