/*
 * clock: the one source of "now", so that `--now` can step a program through
 * months.  Calendar arithmetic uses the process time zone, which mentord sets
 * from the `timezone` configuration key (TZ) at start-up.
 */
#ifndef MENTORD_CLOCK_H
#define MENTORD_CLOCK_H

#include <stdbool.h>
#include <time.h>

/* With a fake time set, clock_now() returns it (advanced by the real time
 * elapsed since it was set, so a long --once cycle still sees time move). */
void clock_set_fake(time_t t);
time_t clock_now(void);

/* Sets TZ; returns -1 when the zone is unknown to the system. */
int clock_set_timezone(const char *tz, const char **error_r);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" or with a space instead of T,
 * in local time; an optional trailing "Z" or "+HH:MM" gives an explicit
 * offset.  Returns -1 on bad input. */
int clock_parse(const char *s, time_t *t_r);
/* Parses "YYYY-MM-DD" into a local date; returns -1 when invalid. */
int clock_parse_date(const char *s, int *year_r, int *month_r, int *day_r);

/* Local calendar helpers. */
void clock_local(time_t t, struct tm *tm_r);
/* "YYYY-MM" of t, into buf of at least 8 bytes. */
void clock_month_key(time_t t, char buf[static 8]);
/* "YYYY-MM-DD" of t, into buf of at least 11 bytes. */
void clock_date_key(time_t t, char buf[static 11]);
/* ISO 8601 with offset, into buf of at least 26 bytes. */
void clock_iso8601(time_t t, char buf[static 26]);
/* The instant local midnight starts the given day (mday may overflow). */
time_t clock_local_midnight(int year, int month, int mday);
int clock_days_in_month(int year, int month);

#endif
