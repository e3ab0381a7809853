/*
 * lcurl: see include/lcurl.h.  The table used to live in smtp.c; oauth
 * needs the same library, and two tables would load it twice.
 */
#include "lcurl.h"

#include "dynlib.h"
#include "util.h"

struct lcurl lc;

#define LC_SYM(f)                                                                                  \
	{                                                                                          \
		"curl_" #f, (void **)&lc.f                                                         \
	}
static const struct dynlib_sym lc_syms[] = {
    LC_SYM(global_init),      LC_SYM(global_cleanup),
    LC_SYM(easy_init),        LC_SYM(easy_setopt),
    LC_SYM(easy_getinfo),     LC_SYM(easy_perform),
    LC_SYM(easy_cleanup),     LC_SYM(easy_strerror),
    LC_SYM(easy_escape),      LC_SYM(free),
    LC_SYM(multi_init),       LC_SYM(multi_setopt),
    LC_SYM(multi_add_handle), LC_SYM(multi_remove_handle),
    LC_SYM(multi_perform),    LC_SYM(multi_poll),
    LC_SYM(multi_info_read),  LC_SYM(multi_cleanup),
    LC_SYM(multi_strerror),   LC_SYM(slist_append),
    LC_SYM(slist_free_all),   LC_SYM(url),
    LC_SYM(url_cleanup),      LC_SYM(url_get),
    LC_SYM(url_set),
};
#undef LC_SYM

static int
lc_init(const char **error_r)
{
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*error_r = errorf("cannot initialise libcurl");
		return -1;
	}
	return 0;
}

static void
lc_fini(void)
{
	lc.global_cleanup();
}

/* The flavour Debian's libcurl4-gnutls-dev builds against first. */
static const char *const lc_sonames[] = {"libcurl-gnutls.so.4", "libcurl.so.4", NULL};
static struct dynlib libcurl = {lc_sonames, lc_syms, N_ELEMENTS(lc_syms), lc_init, lc_fini, NULL,
                                NULL,       0};

int
lcurl_acquire(const char **error_r)
{
	return dynlib_acquire(&libcurl, error_r);
}

void
lcurl_release(void)
{
	dynlib_release(&libcurl);
}
