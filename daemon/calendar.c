/*
 * calendar: iTIP invitations and replies with libical; see include/calendar.h.
 *
 * libical is loaded through dynlib for each call (or once around a batch,
 * calendar_acquire), so the idle daemon does not map it.  Every libical call
 * goes through the table ic below.
 *
 * What libical does for us: TEXT escaping (, ; \ and newlines), folding at
 * 75 octets on UTF-8 boundaries, parameter quoting, the VTIMEZONE of an
 * IANA zone from the system's tzdata (and its truncation to the event's
 * span in the form Outlook reads), and parsing.  What is ours: validating
 * what we put in (addresses, UIDs, zone names) and what we take out of a
 * reply.
 */
#include "calendar.h"

#include "compose.h"
#include "dynlib.h"
#include "util.h"

#include <libical/ical.h>

#include <stdlib.h>
#include <string.h>

static struct {
	__typeof__(icalcomponent_new) *icalcomponent_new;
	__typeof__(icalcomponent_new_clone) *icalcomponent_new_clone;
	__typeof__(icalcomponent_free) *icalcomponent_free;
	__typeof__(icalcomponent_add_component) *icalcomponent_add_component;
	__typeof__(icalcomponent_add_property) *icalcomponent_add_property;
	__typeof__(icalcomponent_as_ical_string_r) *icalcomponent_as_ical_string_r;
	__typeof__(icalcomponent_isa) *icalcomponent_isa;
	__typeof__(icalcomponent_count_components) *icalcomponent_count_components;
	__typeof__(icalcomponent_count_properties) *icalcomponent_count_properties;
	__typeof__(icalcomponent_get_first_component) *icalcomponent_get_first_component;
	__typeof__(icalcomponent_get_next_component) *icalcomponent_get_next_component;
	__typeof__(icalcomponent_get_first_property) *icalcomponent_get_first_property;
	__typeof__(icalcomponent_get_next_property) *icalcomponent_get_next_property;
	__typeof__(icalproperty_new_attendee) *icalproperty_new_attendee;
	__typeof__(icalproperty_new_calscale) *icalproperty_new_calscale;
	__typeof__(icalproperty_new_description) *icalproperty_new_description;
	__typeof__(icalproperty_new_dtend) *icalproperty_new_dtend;
	__typeof__(icalproperty_new_dtstamp) *icalproperty_new_dtstamp;
	__typeof__(icalproperty_new_dtstart) *icalproperty_new_dtstart;
	__typeof__(icalproperty_new_location) *icalproperty_new_location;
	__typeof__(icalproperty_new_method) *icalproperty_new_method;
	__typeof__(icalproperty_new_organizer) *icalproperty_new_organizer;
	__typeof__(icalproperty_new_prodid) *icalproperty_new_prodid;
	__typeof__(icalproperty_new_sequence) *icalproperty_new_sequence;
	__typeof__(icalproperty_new_status) *icalproperty_new_status;
	__typeof__(icalproperty_new_summary) *icalproperty_new_summary;
	__typeof__(icalproperty_new_transp) *icalproperty_new_transp;
	__typeof__(icalproperty_new_uid) *icalproperty_new_uid;
	__typeof__(icalproperty_new_version) *icalproperty_new_version;
	__typeof__(icalproperty_add_parameter) *icalproperty_add_parameter;
	__typeof__(icalproperty_set_tzid) *icalproperty_set_tzid;
	__typeof__(icalproperty_get_attendee) *icalproperty_get_attendee;
	__typeof__(icalproperty_get_comment) *icalproperty_get_comment;
	__typeof__(icalproperty_get_dtstamp) *icalproperty_get_dtstamp;
	__typeof__(icalproperty_get_method) *icalproperty_get_method;
	__typeof__(icalproperty_get_sequence) *icalproperty_get_sequence;
	__typeof__(icalproperty_get_uid) *icalproperty_get_uid;
	__typeof__(icalproperty_get_value_as_string) *icalproperty_get_value_as_string;
	__typeof__(icalproperty_get_first_parameter) *icalproperty_get_first_parameter;
	__typeof__(icalproperty_get_parameter_as_string) *icalproperty_get_parameter_as_string;
	__typeof__(icalparameter_new_cn) *icalparameter_new_cn;
	__typeof__(icalparameter_new_cutype) *icalparameter_new_cutype;
	__typeof__(icalparameter_new_partstat) *icalparameter_new_partstat;
	__typeof__(icalparameter_new_role) *icalparameter_new_role;
	__typeof__(icalparameter_new_rsvp) *icalparameter_new_rsvp;
	__typeof__(icalparameter_new_tzid) *icalparameter_new_tzid;
	__typeof__(icalparameter_get_partstat) *icalparameter_get_partstat;
	__typeof__(icalparser_parse_string) *icalparser_parse_string;
	__typeof__(icaltime_from_timet_with_zone) *icaltime_from_timet_with_zone;
	__typeof__(icaltime_as_timet) *icaltime_as_timet;
	__typeof__(icaltime_is_null_time) *icaltime_is_null_time;
	__typeof__(icaltimezone_get_builtin_timezone) *icaltimezone_get_builtin_timezone;
	__typeof__(icaltimezone_get_utc_timezone) *icaltimezone_get_utc_timezone;
	__typeof__(icaltimezone_get_component) *icaltimezone_get_component;
	__typeof__(icaltimezone_truncate_vtimezone) *icaltimezone_truncate_vtimezone;
	__typeof__(icaltimezone_free_builtin_timezones) *icaltimezone_free_builtin_timezones;
	__typeof__(icalmemory_free_buffer) *icalmemory_free_buffer;
	__typeof__(icalmemory_free_ring) *icalmemory_free_ring;
	__typeof__(icalerror_set_errors_are_fatal) *icalerror_set_errors_are_fatal;
} ic;

#define IC_SYM(f)                                                                                  \
	{                                                                                          \
#f, (void **)&ic.f                                                                 \
	}
static const struct dynlib_sym ic_syms[] = {
    IC_SYM(icalcomponent_new),
    IC_SYM(icalcomponent_new_clone),
    IC_SYM(icalcomponent_free),
    IC_SYM(icalcomponent_add_component),
    IC_SYM(icalcomponent_add_property),
    IC_SYM(icalcomponent_as_ical_string_r),
    IC_SYM(icalcomponent_isa),
    IC_SYM(icalcomponent_count_components),
    IC_SYM(icalcomponent_count_properties),
    IC_SYM(icalcomponent_get_first_component),
    IC_SYM(icalcomponent_get_next_component),
    IC_SYM(icalcomponent_get_first_property),
    IC_SYM(icalcomponent_get_next_property),
    IC_SYM(icalproperty_new_attendee),
    IC_SYM(icalproperty_new_calscale),
    IC_SYM(icalproperty_new_description),
    IC_SYM(icalproperty_new_dtend),
    IC_SYM(icalproperty_new_dtstamp),
    IC_SYM(icalproperty_new_dtstart),
    IC_SYM(icalproperty_new_location),
    IC_SYM(icalproperty_new_method),
    IC_SYM(icalproperty_new_organizer),
    IC_SYM(icalproperty_new_prodid),
    IC_SYM(icalproperty_new_sequence),
    IC_SYM(icalproperty_new_status),
    IC_SYM(icalproperty_new_summary),
    IC_SYM(icalproperty_new_transp),
    IC_SYM(icalproperty_new_uid),
    IC_SYM(icalproperty_new_version),
    IC_SYM(icalproperty_add_parameter),
    IC_SYM(icalproperty_set_tzid),
    IC_SYM(icalproperty_get_attendee),
    IC_SYM(icalproperty_get_comment),
    IC_SYM(icalproperty_get_dtstamp),
    IC_SYM(icalproperty_get_method),
    IC_SYM(icalproperty_get_sequence),
    IC_SYM(icalproperty_get_uid),
    IC_SYM(icalproperty_get_value_as_string),
    IC_SYM(icalproperty_get_first_parameter),
    IC_SYM(icalproperty_get_parameter_as_string),
    IC_SYM(icalparameter_new_cn),
    IC_SYM(icalparameter_new_cutype),
    IC_SYM(icalparameter_new_partstat),
    IC_SYM(icalparameter_new_role),
    IC_SYM(icalparameter_new_rsvp),
    IC_SYM(icalparameter_new_tzid),
    IC_SYM(icalparameter_get_partstat),
    IC_SYM(icalparser_parse_string),
    IC_SYM(icaltime_from_timet_with_zone),
    IC_SYM(icaltime_as_timet),
    IC_SYM(icaltime_is_null_time),
    IC_SYM(icaltimezone_get_builtin_timezone),
    IC_SYM(icaltimezone_get_utc_timezone),
    IC_SYM(icaltimezone_get_component),
    IC_SYM(icaltimezone_truncate_vtimezone),
    IC_SYM(icaltimezone_free_builtin_timezones),
    IC_SYM(icalmemory_free_buffer),
    IC_SYM(icalmemory_free_ring),
    IC_SYM(icalerror_set_errors_are_fatal),
};
#undef IC_SYM

static int
ic_init(const char **error_r)
{
	(void)error_r;
	/* A library built with ICAL_ERRORS_ARE_FATAL aborts on bad input;
	 * mail is bad input. */
	ic.icalerror_set_errors_are_fatal(0);
	return 0;
}

static void
ic_fini(void)
{
	/* The zones loaded from tzdata and the ring of temporary strings are
	 * process-wide caches: gone with the library. */
	ic.icaltimezone_free_builtin_timezones();
	ic.icalmemory_free_ring();
}

static const char *const ic_sonames[] = {"libical.so.3", NULL};
/* libical's recurrence code runs on ICU calendars (a VTIMEZONE's rules are
 * recurrences), and ICU keeps caches it only frees in u_cleanup(), whose
 * name carries ICU's version: ICU stays loaded instead.  libxml2 loads the
 * same ICU for HTML mail anyway. */
static const char *const ic_pinned[] = {"libicuuc.so", "libicui18n.so", "libicudata.so", NULL};
static struct dynlib libical = {
    ic_sonames, ic_syms, N_ELEMENTS(ic_syms), ic_init, ic_fini, ic_pinned, NULL, 0};

int
calendar_acquire(const char **error_r)
{
	return dynlib_acquire(&libical, error_r);
}

void
calendar_release(void)
{
	dynlib_release(&libical);
}

const char *
calendar_partstat_name(enum calendar_partstat partstat)
{
	switch (partstat) {
	case CALENDAR_ACCEPTED:
		return "accepted";
	case CALENDAR_DECLINED:
		return "declined";
	case CALENDAR_TENTATIVE:
		return "tentative";
	case CALENDAR_PARTSTAT_NONE:
		break;
	}
	return "none";
}

/* --- building ----------------------------------------------------------- */

#define UID_MAX_BYTES 255
#define TEXT_MAX_BYTES 900
#define DESCRIPTION_MAX_BYTES 16000

/* Printable ASCII without spaces, 1..UID_MAX_BYTES: what we can look up
 * again when the answer comes back. */
static bool
calendar_valid_uid(const char *uid)
{
	size_t n = uid != NULL ? strlen(uid) : 0;

	if (n == 0 || n > UID_MAX_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uid[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/* An IANA zone name ("America/Los_Angeles", "Etc/GMT+8"): libical reads
 * the file of that name under the zoneinfo directory, so nothing that could
 * leave it ("..", a leading "/"). */
static bool
calendar_valid_tzid(const char *tzid)
{
	size_t n = strlen(tzid);

	if (n == 0 || n > 64 || tzid[0] == '/' || strstr(tzid, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = tzid[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' || c == '+';
		if (!ok)
			return false;
	}
	return true;
}

static bool
calendar_is_utc(const char *tzid)
{
	return tzid == NULL || *tzid == '\0' || strcmp(tzid, "UTC") == 0;
}

/* A one-line text (summary, location, a name): control characters out,
 * valid UTF-8, at most max bytes.  For a CN parameter value, also no double
 * quote, which RFC 5545 3.1 does not allow inside one.  Caller owns. */
static char *
calendar_clean_line(const char *s, size_t max, bool param)
{
	char *out = compose_sanitize_header(s, max);

	if (param) {
		for (char *p = out; *p != '\0'; p++) {
			if (*p == '"')
				*p = '\'';
		}
	}
	return out;
}

/* A multi-line text (description): LF kept, CR dropped, other control
 * characters made spaces; invalid UTF-8 refused (NULL).  Caller owns. */
static char *
calendar_clean_text(const char *s)
{
	size_t n = strlen(s);
	char *out;
	size_t o = 0;

	if (n > DESCRIPTION_MAX_BYTES || !utf8_valid(s, n))
		return NULL;
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			continue;
		out[o++] = (c < 0x20 && c != '\n') || c == 0x7f ? ' ' : (char)c;
	}
	out[o] = '\0';
	return out;
}

/* "mailto:" addr, for ORGANIZER and ATTENDEE.  Caller owns. */
static char *
calendar_mailto(const char *addr)
{
	return xasprintf("mailto:%s", addr);
}

/* CN=name on p, when there is a name left after cleaning. */
static void
calendar_add_cn(icalproperty *p, const char *name)
{
	char *cn;

	if (name == NULL)
		return;
	cn = calendar_clean_line(name, 200, true);
	if (*cn != '\0')
		ic.icalproperty_add_parameter(p, ic.icalparameter_new_cn(cn));
	free(cn);
}

/* DTSTART or DTEND of t: local time with TZID in zone, or UTC. */
static icalproperty *
calendar_time_prop(bool end, time_t t, icaltimezone *zone, const char *tzid)
{
	icaltimezone *utc = ic.icaltimezone_get_utc_timezone();
	struct icaltimetype tt = ic.icaltime_from_timet_with_zone(t, 0, zone != NULL ? zone : utc);
	icalproperty *p;

	if (zone != NULL)
		tt.zone = NULL; /* the digits of local time; TZID says whose */
	p = end ? ic.icalproperty_new_dtend(tt) : ic.icalproperty_new_dtstart(tt);
	if (zone != NULL)
		ic.icalproperty_add_parameter(p, ic.icalparameter_new_tzid(tzid));
	return p;
}

/* The VTIMEZONE of zone, named tzid (libical's own TZIDs carry a prefix
 * that other clients do not know), cut to [start, end]: with ms_compatible
 * the rules stay RRULEs from their first year, which is the shape Outlook
 * turns into a Windows time zone.  Caller owns. */
static icalcomponent *
calendar_vtimezone(icaltimezone *zone, const char *tzid, time_t start, time_t end)
{
	icaltimezone *utc = ic.icaltimezone_get_utc_timezone();
	icalcomponent *vtz = ic.icalcomponent_new_clone(ic.icaltimezone_get_component(zone));
	icalproperty *p;

	ic.icaltimezone_truncate_vtimezone(vtz, ic.icaltime_from_timet_with_zone(start, 0, utc),
	                                   ic.icaltime_from_timet_with_zone(end, 0, utc), 1);
	p = ic.icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	if (p != NULL)
		ic.icalproperty_set_tzid(p, tzid);
	return vtz;
}

/* Checks what the caller gave; 0 or -1. */
static int
calendar_check_event(const struct calendar_event *ev, const char **error_r)
{
	if (!calendar_valid_uid(ev->uid)) {
		*error_r =
		    errorf("invalid calendar UID \"%.100s\"", ev->uid != NULL ? ev->uid : "(none)");
		return -1;
	}
	if (ev->sequence > INT32_MAX) {
		*error_r = errorf("calendar SEQUENCE %u is too large", ev->sequence);
		return -1;
	}
	if (ev->end <= ev->start) {
		*error_r = errorf("calendar event %s ends before it starts", ev->uid);
		return -1;
	}
	if (ev->summary == NULL || *ev->summary == '\0') {
		*error_r = errorf("calendar event %s has no summary", ev->uid);
		return -1;
	}
	if (!compose_valid_addr(ev->organizer_addr)) {
		*error_r = errorf("invalid organizer address \"%.100s\"",
		                  ev->organizer_addr != NULL ? ev->organizer_addr : "(none)");
		return -1;
	}
	if (ev->nattendees == 0 || ev->attendees == NULL) {
		*error_r = errorf("calendar event %s has no attendee", ev->uid);
		return -1;
	}
	for (size_t i = 0; i < ev->nattendees; i++) {
		if (!compose_valid_addr(ev->attendees[i].addr)) {
			*error_r = errorf("invalid attendee address \"%.100s\"",
			                  ev->attendees[i].addr != NULL ? ev->attendees[i].addr
			                                                : "(none)");
			return -1;
		}
	}
	if (!calendar_is_utc(ev->tzid) && !calendar_valid_tzid(ev->tzid)) {
		*error_r = errorf("invalid time zone name \"%.100s\"", ev->tzid);
		return -1;
	}
	return 0;
}

/*
 * Cases:
 *   - REQUEST: STATUS:CONFIRMED, each attendee NEEDS-ACTION with RSVP=TRUE
 *     (an update is a REQUEST with a higher sequence: the attendees answer
 *     again, as RFC 5546 3.2.2.1 has it for a changed time);
 *   - CANCEL: STATUS:CANCELLED, the same attendees (those the cancellation
 *     is for), no RSVP asked;
 *   - tzid a zone: TZID times and a VTIMEZONE; UTC: "Z" times, none;
 *   - a zone libical cannot load (not in tzdata): refused.
 */
int
calendar_build(enum calendar_method method, const struct calendar_event *ev, char **ics_r,
               size_t *len_r, const char **error_r)
{
	icalcomponent *cal = NULL, *vevent;
	icalproperty *org, *att;
	icaltimezone *zone = NULL, *utc;
	char *text = NULL, *ical = NULL, *addr;
	bool acquired = false;
	int ret = -1;

	if (calendar_check_event(ev, error_r) < 0)
		goto out;
	if (calendar_acquire(error_r) < 0)
		goto out;
	acquired = true;
	utc = ic.icaltimezone_get_utc_timezone();
	if (!calendar_is_utc(ev->tzid)) {
		zone = ic.icaltimezone_get_builtin_timezone(ev->tzid);
		if (zone == NULL) {
			*error_r = errorf("unknown time zone \"%s\" (not in the system's tzdata)",
			                  ev->tzid);
			goto out;
		}
	}

	cal = ic.icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	ic.icalcomponent_add_property(
	    cal, ic.icalproperty_new_prodid("-//mentord//mentord " MENTORD_VERSION "//EN"));
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_version("2.0"));
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_calscale("GREGORIAN"));
	ic.icalcomponent_add_property(cal, ic.icalproperty_new_method(method == CALENDAR_CANCEL
	                                                                  ? ICAL_METHOD_CANCEL
	                                                                  : ICAL_METHOD_REQUEST));
	if (zone != NULL)
		ic.icalcomponent_add_component(
		    cal, calendar_vtimezone(zone, ev->tzid, ev->start, ev->end));

	vevent = ic.icalcomponent_new(ICAL_VEVENT_COMPONENT);
	ic.icalcomponent_add_component(cal, vevent);
	ic.icalcomponent_add_property(vevent, ic.icalproperty_new_uid(ev->uid));
	ic.icalcomponent_add_property(vevent, ic.icalproperty_new_sequence((int)ev->sequence));
	ic.icalcomponent_add_property(
	    vevent,
	    ic.icalproperty_new_dtstamp(ic.icaltime_from_timet_with_zone(ev->dtstamp, 0, utc)));
	ic.icalcomponent_add_property(vevent, calendar_time_prop(false, ev->start, zone, ev->tzid));
	ic.icalcomponent_add_property(vevent, calendar_time_prop(true, ev->end, zone, ev->tzid));

	text = calendar_clean_line(ev->summary, TEXT_MAX_BYTES, false);
	ic.icalcomponent_add_property(vevent, ic.icalproperty_new_summary(text));
	free(text);
	text = NULL;
	if (ev->location != NULL && *ev->location != '\0') {
		text = calendar_clean_line(ev->location, TEXT_MAX_BYTES, false);
		ic.icalcomponent_add_property(vevent, ic.icalproperty_new_location(text));
		free(text);
		text = NULL;
	}
	if (ev->description != NULL && *ev->description != '\0') {
		text = calendar_clean_text(ev->description);
		if (text == NULL) {
			*error_r = errorf("the description of calendar event %s is not UTF-8 text "
			                  "of at most %d bytes",
			                  ev->uid, DESCRIPTION_MAX_BYTES);
			goto out;
		}
		ic.icalcomponent_add_property(vevent, ic.icalproperty_new_description(text));
		free(text);
		text = NULL;
	}

	addr = calendar_mailto(ev->organizer_addr);
	org = ic.icalproperty_new_organizer(addr);
	free(addr);
	calendar_add_cn(org, ev->organizer_name);
	ic.icalcomponent_add_property(vevent, org);

	for (size_t i = 0; i < ev->nattendees; i++) {
		addr = calendar_mailto(ev->attendees[i].addr);
		att = ic.icalproperty_new_attendee(addr);
		free(addr);
		ic.icalproperty_add_parameter(att,
		                              ic.icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
		ic.icalproperty_add_parameter(att,
		                              ic.icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		if (method == CALENDAR_REQUEST) {
			ic.icalproperty_add_parameter(
			    att, ic.icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
			ic.icalproperty_add_parameter(att,
			                              ic.icalparameter_new_rsvp(ICAL_RSVP_TRUE));
		}
		calendar_add_cn(att, ev->attendees[i].name);
		ic.icalcomponent_add_property(vevent, att);
	}
	ic.icalcomponent_add_property(
	    vevent, ic.icalproperty_new_status(method == CALENDAR_CANCEL ? ICAL_STATUS_CANCELLED
	                                                                 : ICAL_STATUS_CONFIRMED));
	ic.icalcomponent_add_property(vevent, ic.icalproperty_new_transp(ICAL_TRANSP_OPAQUE));

	ical = ic.icalcomponent_as_ical_string_r(cal);
	if (ical == NULL) {
		*error_r = errorf("libical could not write calendar event %s", ev->uid);
		goto out;
	}
	*len_r = strlen(ical);
	*ics_r = xstrndup(ical, *len_r);
	ret = 0;
out:
	if (ical != NULL)
		ic.icalmemory_free_buffer(ical);
	if (cal != NULL)
		ic.icalcomponent_free(cal);
	free(text);
	if (acquired)
		calendar_release();
	return ret;
}

/* --- parsing a REPLY ---------------------------------------------------- */

void
calendar_reply_free(struct calendar_reply **reply)
{
	if (*reply == NULL)
		return;
	free((*reply)->uid);
	free((*reply)->attendee);
	free((*reply)->comment);
	free(*reply);
	*reply = NULL;
}

/* Components nest 3 deep in a reply (VCALENDAR, VTIMEZONE, STANDARD, and
 * a VALARM in a VEVENT); more is not a reply, and the check below recurses. */
#define CALENDAR_MAX_DEPTH 8

/* Refuses comp when libical left an X-LIC-ERROR in it or below (a line it
 * could not parse and dropped) or components nest past CALENDAR_MAX_DEPTH;
 * 0 or -1. */
static int
calendar_check_tree(icalcomponent *comp, unsigned depth, const char **error_r)
{
	icalproperty *p = ic.icalcomponent_get_first_property(comp, ICAL_XLICERROR_PROPERTY);

	if (p != NULL) {
		const char *why = ic.icalproperty_get_value_as_string(p);
		char *clean = compose_sanitize_header(why != NULL ? why : "", 200);
		*error_r = errorf("malformed iCalendar: %s", clean);
		free(clean);
		return -1;
	}
	if (depth >= CALENDAR_MAX_DEPTH) {
		*error_r = errorf("malformed iCalendar: components nested more than %d deep",
		                  CALENDAR_MAX_DEPTH);
		return -1;
	}
	for (icalcomponent *c = ic.icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT);
	     c != NULL; c = ic.icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT)) {
		if (calendar_check_tree(c, depth + 1, error_r) < 0)
			return -1;
	}
	return 0;
}

/* The addr-spec of an ATTENDEE: its mailto: value, or (Apple's urn:uuid:
 * attendees) its EMAIL parameter; NULL when neither is a valid address.
 * Caller owns. */
static char *
calendar_attendee_addr(icalproperty *p)
{
	const char *v = ic.icalproperty_get_attendee(p);
	char *addr;

	if (v != NULL && str_istarts(v, "mailto:")) {
		addr = xstrdup(v + 7);
		str_trim(addr);
		if (compose_valid_addr(addr))
			return addr;
		free(addr);
	}
	v = ic.icalproperty_get_parameter_as_string(p, "EMAIL");
	if (v != NULL && compose_valid_addr(v))
		return xstrdup(v);
	return NULL;
}

/* Whether every SEQUENCE line of the raw text has an integer value:
 * libical reads "SEQUENCE:one" as 0 without a word (atoi), and the sequence
 * decides which invitation a reply answers.  Folded lines are unfolded. */
static bool
calendar_raw_sequences_ok(const char *text)
{
	for (const char *p = text; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		if (str_istarts(p, "SEQUENCE") && (p[8] == ':' || p[8] == ';')) {
			const char *v = strchr(p, ':');
			size_t digits = 0;
			bool ok = true;
			for (const char *q = v + 1; *q != '\0'; q++) {
				if (*q == '\r' && q[1] == '\n')
					continue;
				if (*q == '\n') {
					if (q[1] == ' ' || q[1] == '\t') {
						q++; /* a fold */
						continue;
					}
					break;
				}
				if (*q >= '0' && *q <= '9' && digits < 10)
					digits++;
				else if (!(*q == '-' && digits == 0 && q == v + 1))
					ok = false;
			}
			if (!ok || digits == 0)
				return false;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return true;
}

/*
 * Cases (each refusal names the problem):
 *   - too long, NUL bytes, or not iCalendar at all;
 *   - several VCALENDARs (libical wraps them in an XROOT);
 *   - anything libical had to drop (X-LIC-ERROR), anywhere in the object,
 *     a SEQUENCE that is not an integer (which libical reads as 0), or
 *     components nested deeper than any reply;
 *   - METHOD missing, repeated or not REPLY;
 *   - not exactly one VEVENT; a RECURRENCE-ID;
 *   - UID missing, repeated or unusable; SEQUENCE repeated or negative;
 *   - not exactly one ATTENDEE; its address unusable;
 *   - PARTSTAT missing or not ACCEPTED, DECLINED, TENTATIVE (NEEDS-ACTION,
 *     DELEGATED, or an x-value).
 * COMMENT is kept when it is valid UTF-8, dropped otherwise; DTSTAMP is
 * optional.
 */
int
calendar_parse_reply(const char *data, size_t len, struct calendar_reply **reply_r,
                     const char **error_r)
{
	struct calendar_reply *reply = NULL;
	icalcomponent *root = NULL, *vevent;
	icalproperty *p;
	icalparameter *param;
	char *text = NULL;
	bool acquired = false;
	int ret = -1, n;

	*reply_r = NULL;
	if (len > CALENDAR_MAX_BYTES) {
		*error_r = errorf("calendar reply too large (%zu bytes, at most %d)", len,
		                  CALENDAR_MAX_BYTES);
		goto out;
	}
	if (memchr(data, '\0', len) != NULL) {
		*error_r = errorf("calendar reply contains a NUL byte");
		goto out;
	}
	text = xstrndup(data, len);
	if (calendar_acquire(error_r) < 0)
		goto out;
	acquired = true;

	root = ic.icalparser_parse_string(text);
	if (root == NULL) {
		*error_r = errorf("not an iCalendar object (or one cut short)");
		goto out;
	}
	if (ic.icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
		*error_r = ic.icalcomponent_isa(root) == ICAL_XROOT_COMPONENT
		               ? errorf("more than one VCALENDAR in a calendar reply")
		               : errorf("not a VCALENDAR");
		goto out;
	}
	if (!calendar_raw_sequences_ok(text)) {
		*error_r = errorf("malformed iCalendar: a SEQUENCE that is not an integer");
		goto out;
	}
	if (calendar_check_tree(root, 0, error_r) < 0)
		goto out;

	n = ic.icalcomponent_count_properties(root, ICAL_METHOD_PROPERTY);
	p = ic.icalcomponent_get_first_property(root, ICAL_METHOD_PROPERTY);
	if (n != 1 || p == NULL) {
		*error_r = errorf(n == 0 ? "calendar reply without METHOD"
		                         : "calendar reply with more than one METHOD");
		goto out;
	}
	if (ic.icalproperty_get_method(p) != ICAL_METHOD_REPLY) {
		const char *m = ic.icalproperty_get_value_as_string(p);
		char *clean = compose_sanitize_header(m != NULL ? m : "", 40);
		*error_r = errorf("calendar METHOD is %s, not REPLY", clean);
		free(clean);
		goto out;
	}

	n = ic.icalcomponent_count_components(root, ICAL_VEVENT_COMPONENT);
	if (n != 1) {
		*error_r = errorf(n == 0 ? "calendar reply without VEVENT"
		                         : "calendar reply with more than one VEVENT");
		goto out;
	}
	vevent = ic.icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
	if (ic.icalcomponent_count_properties(vevent, ICAL_RECURRENCEID_PROPERTY) > 0) {
		*error_r = errorf("calendar reply for one occurrence (RECURRENCE-ID) of a "
		                  "recurring event");
		goto out;
	}

	reply = xcalloc(1, sizeof(*reply));
	n = ic.icalcomponent_count_properties(vevent, ICAL_UID_PROPERTY);
	p = ic.icalcomponent_get_first_property(vevent, ICAL_UID_PROPERTY);
	if (n != 1 || p == NULL) {
		*error_r = errorf(n == 0 ? "calendar reply without UID"
		                         : "calendar reply with more than one UID");
		goto out;
	}
	if (!calendar_valid_uid(ic.icalproperty_get_uid(p))) {
		*error_r = errorf("calendar reply with an unusable UID");
		goto out;
	}
	reply->uid = xstrdup(ic.icalproperty_get_uid(p));

	n = ic.icalcomponent_count_properties(vevent, ICAL_SEQUENCE_PROPERTY);
	if (n > 1) {
		*error_r = errorf("calendar reply with more than one SEQUENCE");
		goto out;
	}
	p = ic.icalcomponent_get_first_property(vevent, ICAL_SEQUENCE_PROPERTY);
	if (p != NULL) {
		int seq = ic.icalproperty_get_sequence(p);
		if (seq < 0) {
			*error_r = errorf("calendar reply with a negative SEQUENCE");
			goto out;
		}
		reply->sequence = (unsigned)seq;
	}

	p = ic.icalcomponent_get_first_property(vevent, ICAL_DTSTAMP_PROPERTY);
	if (p != NULL) {
		struct icaltimetype dt = ic.icalproperty_get_dtstamp(p);
		if (!ic.icaltime_is_null_time(dt))
			reply->dtstamp = ic.icaltime_as_timet(dt);
	}

	n = ic.icalcomponent_count_properties(vevent, ICAL_ATTENDEE_PROPERTY);
	if (n != 1) {
		*error_r = errorf(n == 0 ? "calendar reply without ATTENDEE"
		                         : "calendar reply with more than one ATTENDEE");
		goto out;
	}
	p = ic.icalcomponent_get_first_property(vevent, ICAL_ATTENDEE_PROPERTY);
	reply->attendee = calendar_attendee_addr(p);
	if (reply->attendee == NULL) {
		*error_r = errorf("calendar reply whose ATTENDEE is not an email address");
		goto out;
	}
	param = ic.icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	if (param == NULL) {
		*error_r = errorf("calendar reply without PARTSTAT");
		goto out;
	}
	switch (ic.icalparameter_get_partstat(param)) {
	case ICAL_PARTSTAT_ACCEPTED:
		reply->partstat = CALENDAR_ACCEPTED;
		break;
	case ICAL_PARTSTAT_DECLINED:
		reply->partstat = CALENDAR_DECLINED;
		break;
	case ICAL_PARTSTAT_TENTATIVE:
		reply->partstat = CALENDAR_TENTATIVE;
		break;
	default:
		*error_r = errorf("calendar reply with a PARTSTAT other than ACCEPTED, "
		                  "DECLINED or TENTATIVE");
		goto out;
	}

	p = ic.icalcomponent_get_first_property(vevent, ICAL_COMMENT_PROPERTY);
	if (p != NULL) {
		const char *c = ic.icalproperty_get_comment(p);
		if (c != NULL && *c != '\0' && utf8_valid(c, strlen(c)))
			reply->comment = xstrdup(c);
	}

	*reply_r = reply;
	reply = NULL;
	ret = 0;
out:
	calendar_reply_free(&reply);
	if (root != NULL)
		ic.icalcomponent_free(root);
	free(text);
	if (acquired)
		calendar_release();
	return ret;
}

/* --- an answer in words ----------------------------------------------- */

#define RSVP_SCAN_BYTES 2000
#define RSVP_LINES 3
#define RSVP_LINE_WORDS 64
#define RSVP_WORD_BYTES 24

/* A phrase, its words separated by single spaces, and what it says.
 * CALENDAR_PARTSTAT_NONE marks phrases that only take their words out of
 * the reading ("no problem" is not a "no"). */
struct rsvp_phrase {
	const char *words;
	enum calendar_partstat says;
};

/* Longest first where one phrase starts another: the first that matches at
 * a position wins. */
static const struct rsvp_phrase rsvp_phrases[] = {
    /* Declines and doubts that contain an accepting word. */
    {"i will not be able to attend", CALENDAR_DECLINED},
    {"i won't be able to attend", CALENDAR_DECLINED},
    {"i will not be attending", CALENDAR_DECLINED},
    {"i won't be attending", CALENDAR_DECLINED},
    {"i am not attending", CALENDAR_DECLINED},
    {"i'm not attending", CALENDAR_DECLINED},
    {"not be able to attend", CALENDAR_DECLINED},
    {"unable to attend", CALENDAR_DECLINED},
    {"not able to attend", CALENDAR_DECLINED},
    {"can not attend", CALENDAR_DECLINED},
    {"cannot attend", CALENDAR_DECLINED},
    {"can't attend", CALENDAR_DECLINED},
    {"cant attend", CALENDAR_DECLINED},
    {"will not attend", CALENDAR_DECLINED},
    {"won't attend", CALENDAR_DECLINED},
    {"not attending", CALENDAR_DECLINED},
    {"will not be there", CALENDAR_DECLINED},
    {"won't be there", CALENDAR_DECLINED},
    {"can't make it", CALENDAR_DECLINED},
    {"cannot make it", CALENDAR_DECLINED},
    {"can not make it", CALENDAR_DECLINED},
    {"won't make it", CALENDAR_DECLINED},
    {"will not make it", CALENDAR_DECLINED},
    {"not sure", CALENDAR_TENTATIVE},
    {"might attend", CALENDAR_TENTATIVE},
    {"may attend", CALENDAR_TENTATIVE},
    {"might be there", CALENDAR_TENTATIVE},
    {"might make it", CALENDAR_TENTATIVE},
    {"no problem", CALENDAR_PARTSTAT_NONE},
    {"no worries", CALENDAR_PARTSTAT_NONE},
    {"thank you", CALENDAR_PARTSTAT_NONE},
    /* Accepts. */
    {"i will attend", CALENDAR_ACCEPTED},
    {"i'll attend", CALENDAR_ACCEPTED},
    {"i will be there", CALENDAR_ACCEPTED},
    {"i'll be there", CALENDAR_ACCEPTED},
    {"will be there", CALENDAR_ACCEPTED},
    {"will attend", CALENDAR_ACCEPTED},
    {"count me in", CALENDAR_ACCEPTED},
    {"see you there", CALENDAR_ACCEPTED},
    {"i accept", CALENDAR_ACCEPTED},
    {"i am attending", CALENDAR_ACCEPTED},
    {"i'm attending", CALENDAR_ACCEPTED},
    {"attending", CALENDAR_ACCEPTED},
    {"accept", CALENDAR_ACCEPTED},
    {"accepted", CALENDAR_ACCEPTED},
    {"accepting", CALENDAR_ACCEPTED},
    {"confirm", CALENDAR_ACCEPTED},
    {"confirmed", CALENDAR_ACCEPTED},
    {"yes", CALENDAR_ACCEPTED},
    {"yep", CALENDAR_ACCEPTED},
    {"yeah", CALENDAR_ACCEPTED},
    {"sure", CALENDAR_ACCEPTED},
    /* Declines. */
    {"decline", CALENDAR_DECLINED},
    {"declined", CALENDAR_DECLINED},
    {"declining", CALENDAR_DECLINED},
    {"regrets", CALENDAR_DECLINED},
    {"no", CALENDAR_DECLINED},
    {"nope", CALENDAR_DECLINED},
    /* Doubts. */
    {"maybe", CALENDAR_TENTATIVE},
    {"perhaps", CALENDAR_TENTATIVE},
    {"possibly", CALENDAR_TENTATIVE},
    {"tentative", CALENDAR_TENTATIVE},
    {"tentatively", CALENDAR_TENTATIVE},
};

/* A line's words: lowercase ASCII letters, digits and apostrophes (the
 * typographic one, U+2019, made ASCII); anything else separates words.
 * Bytes of other letters are kept, so "sí" or "Núñez" stay one word that
 * matches nothing.  Words longer than RSVP_WORD_BYTES are cut: no phrase
 * word is that long, so a cut word matches nothing either. */
struct rsvp_line {
	char words[RSVP_LINE_WORDS][RSVP_WORD_BYTES + 1];
	size_t n;
};

static void
rsvp_split(const char *s, size_t len, struct rsvp_line *line)
{
	size_t i = 0, wl = 0;

	line->n = 0;
	while (i <= len && line->n < RSVP_LINE_WORDS) {
		unsigned char c = i < len ? (unsigned char)s[i] : ' ';
		char add = 0;
		size_t step = 1;

		if (c >= 'A' && c <= 'Z')
			add = (char)(c - 'A' + 'a');
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'')
			add = (char)c;
		else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
		         (unsigned char)s[i + 2] == 0x99) {
			add = '\'';
			step = 3;
		} else if (c == 0xe2 && i + 2 < len &&
		           ((unsigned char)s[i + 1] == 0x80 || (unsigned char)s[i + 1] == 0x81)) {
			step = 3; /* general punctuation (dashes, quotes, ...): a separator */
		} else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0) {
			step = 2; /* no-break space */
		} else if (c >= 0x80) {
			add = (char)c;
		}
		if (add != 0) {
			if (wl < RSVP_WORD_BYTES)
				line->words[line->n][wl++] = add;
		} else if (wl > 0) {
			line->words[line->n][wl] = '\0';
			line->n++;
			wl = 0;
		}
		i += step;
	}
}

/* Whether the phrase's words are line->words[at...]; *nwords_r gets how
 * many. */
static bool
rsvp_match(const struct rsvp_line *line, size_t at, const char *phrase, size_t *nwords_r)
{
	const char *p = phrase;
	size_t k = 0;

	while (*p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t wl = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (at + k >= line->n || strlen(line->words[at + k]) != wl ||
		    memcmp(line->words[at + k], p, wl) != 0)
			return false;
		k++;
		p += wl;
		if (*p == ' ')
			p++;
	}
	*nwords_r = k;
	return true;
}

/* What one line says: a partstat, NONE when nothing, or -1 when it says
 * two different things. */
static int
rsvp_line_says(const struct rsvp_line *line)
{
	int says = CALENDAR_PARTSTAT_NONE;

	for (size_t at = 0; at < line->n;) {
		size_t used = 1;
		for (size_t k = 0; k < N_ELEMENTS(rsvp_phrases); k++) {
			size_t nw;
			if (rsvp_match(line, at, rsvp_phrases[k].words, &nw)) {
				enum calendar_partstat s = rsvp_phrases[k].says;
				used = nw;
				if (s != CALENDAR_PARTSTAT_NONE) {
					if (says != CALENDAR_PARTSTAT_NONE && says != (int)s)
						return -1;
					says = (int)s;
				}
				break;
			}
		}
		at += used;
	}
	return says;
}

/*
 * Cases:
 *   - empty text, or only blank lines: NONE;
 *   - the first line that says something decides, among the first
 *     RSVP_LINES non-empty lines ("Hi Ana," says nothing and is passed);
 *   - that line says two different things ("yes, no"): NONE;
 *   - quoted lines ("> ...") are skipped, in case the caller did not trim.
 */
enum calendar_partstat
calendar_rsvp_text(const char *text, size_t len)
{
	struct rsvp_line line;
	size_t i = 0, seen = 0;

	if (text == NULL)
		return CALENDAR_PARTSTAT_NONE;
	if (len > RSVP_SCAN_BYTES)
		len = RSVP_SCAN_BYTES;
	while (i < len && seen < RSVP_LINES) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t j = i;
		int says;

		while (j < end && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'))
			j++;
		if (j < end && text[j] != '>') {
			rsvp_split(text + j, end - j, &line);
			if (line.n > 0) {
				seen++;
				says = rsvp_line_says(&line);
				if (says < 0)
					return CALENDAR_PARTSTAT_NONE;
				if (says != CALENDAR_PARTSTAT_NONE)
					return (enum calendar_partstat)says;
			}
		}
		i = end + 1;
	}
	return CALENDAR_PARTSTAT_NONE;
}
