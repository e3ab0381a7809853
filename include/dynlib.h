/*
 * dynlib: a shared library loaded when it is first needed, and unloaded
 * when it is no longer, so an idle daemon does not carry it.
 *
 * libcurl (with libssh2, OpenSSL's libcrypto, Kerberos, LDAP, nghttp2...)
 * is only needed while mail is being sent, and libxml2 (with ICU and
 * libstdc++) only while an HTML-only message is converted.  Linked at start
 * they make up a third of the daemon's resident memory while it waits for
 * mail.  The same approach as systemd's dlopen()ed optional libraries: the
 * headers are used at build time, the symbols are looked up at run time.
 *
 * A struct dynlib is a static object of the module that uses the library
 * (smtp, mime_html): the module calls dynlib_acquire() before use and
 * dynlib_release() after; the library is unloaded when the count returns to
 * zero.  Not thread-safe: mentord's modules run in one thread.
 */
#ifndef MENTORD_DYNLIB_H
#define MENTORD_DYNLIB_H

#include <stddef.h>

/* One symbol to resolve: *slot gets its address.  slot points at a function
 * pointer of the right type (POSIX guarantees that dlsym's void * converts
 * to a function pointer). */
struct dynlib_sym {
	const char *name;
	void **slot;
};

struct dynlib {
	const char *const *sonames; /* tried in order; NULL-terminated */
	const struct dynlib_sym *syms;
	size_t nsyms;
	/* Called after loading (e.g. the library's global init): 0 or -1. */
	int (*init)(const char **error_r);
	/* Called before unloading (the library's global cleanup); may be NULL. */
	void (*fini)(void);
	/* Libraries it brings in that keep process-wide allocations they have
	 * no way to free (pixman's implementation table, ICU's caches): parts
	 * of their file names ("libpixman-1.so"), NULL-terminated; or NULL.
	 * Once loaded they stay (RTLD_NODELETE), so unloading the library
	 * leaks nothing and loading it again reuses them. */
	const char *const *pinned;

	/* State, zero at start. */
	void *handle;
	unsigned refs;
};

/* Loads the library on the first acquire and resolves every symbol.  Fails
 * with the dlerror() text of the last name tried, or the missing symbol. */
int dynlib_acquire(struct dynlib *lib, const char **error_r);

/* Drops one reference; unloads at zero.  No-op when not acquired. */
void dynlib_release(struct dynlib *lib);

#endif
