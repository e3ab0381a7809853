/* clock: see include/clock.h. */
#include "clock.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool clock_fake;
static time_t clock_fake_base;
static struct timespec clock_fake_set_at;

void
clock_set_fake(time_t t)
{
	clock_fake = true;
	clock_fake_base = t;
	clock_gettime(CLOCK_MONOTONIC, &clock_fake_set_at);
}

time_t
clock_now(void)
{
	struct timespec now;

	if (!clock_fake)
		return time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return clock_fake_base + (now.tv_sec - clock_fake_set_at.tv_sec);
}

int
clock_set_timezone(const char *tz, const char **error_r)
{
	char path[512];
	FILE *f;

	if (tz == NULL || *tz == '\0' || strcmp(tz, "UTC") == 0) {
		setenv("TZ", "UTC", 1);
		tzset();
		return 0;
	}
	/* glibc silently falls back to UTC for an unknown zone; check first. */
	if (strstr(tz, "..") != NULL || tz[0] == '/') {
		*error_r = errorf("unknown time zone \"%s\"", tz);
		return -1;
	}
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	f = fopen(path, "r");
	if (f == NULL) {
		*error_r = errorf("unknown time zone \"%s\" (no %s; install tzdata or use a "
		                  "name such as America/Los_Angeles)",
		                  tz, path);
		return -1;
	}
	fclose(f);
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

static bool
parse_digits(const char **p, int n, int *v_r)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v_r = v;
	return true;
}

int
clock_parse_date(const char *s, int *year_r, int *month_r, int *day_r)
{
	const char *p = s;
	int y, m, d;

	if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &m) || *p++ != '-' ||
	    !parse_digits(&p, 2, &d))
		return -1;
	if (*p != '\0' && *p != 'T' && *p != ' ')
		return -1;
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > clock_days_in_month(y, m))
		return -1;
	*year_r = y;
	*month_r = m;
	*day_r = d;
	return 0;
}

int
clock_parse(const char *s, time_t *t_r)
{
	const char *p = s + 10;
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign;
	struct tm tm;
	time_t t;

	if (strlen(s) < 10 || clock_parse_date(s, &y, &mo, &d) < 0)
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (!parse_digits(&p, 2, &sec))
				return -1;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (*p == '\0') {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else if (*p == 'Z' && p[1] == '\0') {
		t = timegm(&tm);
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (!parse_digits(&p, 2, &oh) || *p++ != ':' || !parse_digits(&p, 2, &om))
			return -1;
		t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (t == (time_t)-1)
		return -1;
	*t_r = t;
	return 0;
}

void
clock_local(time_t t, struct tm *tm_r)
{
	localtime_r(&t, tm_r);
}

void
clock_month_key(time_t t, char buf[static 8])
{
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(buf, 8, "%Y-%m", &tm) == 0)
		buf[0] = '\0';
}

void
clock_date_key(time_t t, char buf[static 11])
{
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(buf, 11, "%Y-%m-%d", &tm) == 0)
		buf[0] = '\0';
}

void
clock_iso8601(time_t t, char buf[static 26])
{
	struct tm tm;
	char zone[8];

	/* strftime's %z is "+HHMM"; ISO 8601 extended format wants "+HH:MM". */
	localtime_r(&t, &tm);
	if (strftime(buf, 26, "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) != 5) {
		buf[0] = '\0';
		return;
	}
	buf[19] = zone[0];
	buf[20] = zone[1];
	buf[21] = zone[2];
	buf[22] = ':';
	buf[23] = zone[3];
	buf[24] = zone[4];
	buf[25] = '\0';
}

time_t
clock_local_midnight(int year, int month, int mday)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = mday;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int
clock_days_in_month(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12)
		return 0;
	return month == 2 && leap ? 29 : days[month - 1];
}
