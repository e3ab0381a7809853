/*
 * lcurl: libcurl, loaded when it is first needed and unloaded when the last
 * user lets it go (include/dynlib.h says why), shared by the modules that
 * speak it: smtp (sending) and oauth (the token endpoint over HTTPS).  One
 * table of entry points, one reference count: a cycle that refreshes a
 * token and then sends loads the library once.
 *
 * Only smtp and oauth include this header.  Every libcurl call goes through
 * lc.* (the type checking macros of curl.h are for direct calls, so they are
 * off); the table is valid between lcurl_acquire() and the matching
 * lcurl_release().
 */
#ifndef MENTORD_LCURL_H
#define MENTORD_LCURL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

/* The pointer types are the header's own. */
struct lcurl {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_global_cleanup) *global_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_easy_escape) *easy_escape;
	__typeof__(curl_free) *free;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_setopt) *multi_setopt;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_perform) *multi_perform;
	__typeof__(curl_multi_poll) *multi_poll;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
	__typeof__(curl_multi_strerror) *multi_strerror;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_set) *url_set;
};

/* Filled by the first lcurl_acquire; borrowed by every user. */
extern struct lcurl lc;

/* Loads libcurl (and runs curl_global_init) on the first call; every
 * successful call needs one lcurl_release. */
int lcurl_acquire(const char **error_r);
/* Drops one reference; the last one unloads the library. */
void lcurl_release(void);

#endif
