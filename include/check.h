/*
 * check: what `mentord --check-config --online` adds to the offline checks
 * (config_load, the templates): it logs in to the IMAP server and selects
 * the mailbox mentord reads and the processed mailbox when one is set, and
 * connects, secures and authenticates to the SMTP server (smtp_check),
 * sending nothing and changing nothing on either server.
 *
 * Each step that works is reported on out; each failure on err, saying what
 * failed and how to fix it (a refused LOGIN names password_file, a missing
 * mailbox the key that names it, a TLS failure ca_file).  Both servers are
 * checked even when the first fails.
 */
#ifndef MENTORD_CHECK_H
#define MENTORD_CHECK_H

#include "config.h"

#include <stdio.h>

/* Returns 0 when both servers passed, -1 otherwise. */
int check_online(const struct config *config, FILE *out, FILE *err);

#endif
