/*
 * check: the online configuration check.  See include/check.h.
 */
#include "check.h"

#include "imap.h"
#include "smtp.h"

#include <stdlib.h>
#include <string.h>

/* "host:port", with an IPv6 address in brackets; the caller owns it. */
static char *
check_where(const char *host, int port)
{
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%d", host, port);
	return xasprintf("%s:%d", host, port);
}

static const char *
check_tls_mode(bool implicit_tls, bool tls)
{
	return implicit_tls ? "TLS" : tls ? "STARTTLS" : "no TLS";
}

/* Cases: the connection or the login fails (imap.c says how to fix it);
 * a mailbox cannot be selected (named with the key that sets it); all
 * works. */
static int
check_imap(const struct config *config, FILE *out, FILE *err)
{
	const struct config_imap *c = &config->imap;
	const struct {
		const char *key, *name;
	} boxes[] = {{"mailbox", c->mailbox}, {"processed_mailbox", c->processed_mailbox}};
	struct imap_session *sess = NULL;
	char *where = check_where(c->host, c->port);
	const char *error = NULL;
	int ret = -1;

	if (imap_connect(c, &sess, &error) != IMAP_OK) {
		fprintf(err, "%s\n", error);
		goto out;
	}
	fprintf(out, "IMAP %s: connected (%s), logged in as %s\n", where,
	        check_tls_mode(c->implicit_tls, c->tls), c->user);
	for (size_t i = 0; i < N_ELEMENTS(boxes); i++) {
		struct imap_mailbox_info info;
		int rc;

		if (boxes[i].name == NULL)
			continue;
		rc = imap_select(sess, boxes[i].name, &info, &error);
		if (rc == IMAP_ERR_BOX) {
			fprintf(err,
			        "%s; create the folder \"%s\" on the server, or set %s in the imap "
			        "section to a folder that exists\n",
			        error, boxes[i].name, boxes[i].key);
			goto out;
		}
		if (rc != IMAP_OK) {
			fprintf(err, "%s\n", error);
			goto out;
		}
		fprintf(out, "IMAP %s: %s \"%s\" selected (%u message%s)\n", where, boxes[i].key,
		        boxes[i].name, (unsigned)info.exists, info.exists == 1 ? "" : "s");
	}
	ret = 0;
out:
	imap_close(&sess);
	free(where);
	return ret;
}

static int
check_smtp(const struct config *config, FILE *out, FILE *err)
{
	const struct config_smtp *c = &config->smtp;
	const char *error = NULL, *host = strstr(c->url, "://");
	char *where;

	if (smtp_check(c, &error) < 0) {
		fprintf(err, "%s\n", error);
		return -1;
	}
	/* config normalised the url to scheme://host:port[/path]. */
	host = host != NULL ? host + 3 : c->url;
	where = xstrndup(host, strcspn(host, "/"));
	fprintf(out, "SMTP %s: connected (%s), %s%s; nothing sent\n", where,
	        check_tls_mode(strncmp(c->url, "smtps:", 6) == 0, c->tls),
	        c->user != NULL ? "logged in as " : "no AUTH configured",
	        c->user != NULL ? c->user : "");
	free(where);
	return 0;
}

int
check_online(const struct config *config, FILE *out, FILE *err)
{
	int imap = check_imap(config, out, err);
	int smtp = check_smtp(config, out, err);

	return imap == 0 && smtp == 0 ? 0 : -1;
}
