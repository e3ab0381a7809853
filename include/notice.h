/*
 * notice: the mail a program sends, in one place: the variables every
 * template may use (the program's title, address, coordinator), and
 * queueing an email of the program through the outbox (every template is
 * looked up in templates/PROGRAM/ first).  Used by workflow (answers,
 * decisions), groups (introductions, endings) and due (scheduled mail).
 */
#ifndef MENTORD_NOTICE_H
#define MENTORD_NOTICE_H

#include "config.h"
#include "outbox.h"
#include "store.h"
#include "template.h"

/* program_title, program_address, coordinator_address, meetings_per_month
 * (of the program's unit); the caller owns the result. */
struct template_vars *notice_vars(const struct config *config,
                                  const struct config_program *program);

/* Queues an email of program to the addresses in to, under key (outbox
 * idempotency).  q_r may be NULL. */
int notice_queue(const struct config *config, struct store *store,
                 const struct config_program *program, time_t now, const char *key,
                 const char *kind, const struct strvec *to, const char *thread_type,
                 int64_t thread_ref, const char *template_name, const struct template_vars *vars,
                 enum template_audience audience, enum outbox_nature nature,
                 const char *in_reply_to, struct outbox_queued *q_r, const char **error_r);
/* notice_queue to one address, as a notice. */
int notice_queue_one(const struct config *config, struct store *store,
                     const struct config_program *program, time_t now, const char *key,
                     const char *kind, const char *addr, const char *thread_type,
                     int64_t thread_ref, const char *template_name,
                     const struct template_vars *vars, enum template_audience audience,
                     const char **error_r);

/* The name to show for someone: their name, else their address. */
const char *notice_name(const char *name, const char *email);

/* "YYYY-MM" -> "November 2026" in buf. */
void notice_month_title(const char *month, char *buf, size_t size);

/* The program's start and end as local midnights (0 when not set), in
 * the current time zone. */
void notice_program_span(const struct config_program *program, time_t *start_r, time_t *end_r);

#endif
