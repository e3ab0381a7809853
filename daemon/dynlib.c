/*
 * dynlib: see include/dynlib.h.
 *
 * Cases dynlib_acquire handles:
 *   - already loaded: one more reference;
 *   - no soname loads (the package is missing): the error names the library
 *     and what the loader said;
 *   - a symbol is missing (an older library than the headers): unloaded
 *     again, the error names the symbol;
 *   - init fails: unloaded again, its error is returned;
 *   - on the first load, the dependencies named in lib->pinned are kept
 *     loaded for good (see dynlib.h); one that is not found is skipped.
 * dlopen() uses RTLD_LOCAL, so the library's symbols cannot collide with
 * another's, and RTLD_NOW, so a missing dependency shows at load time rather
 * than as a crash in the middle of a send.
 */
#define _GNU_SOURCE /* dlinfo, RTLD_NODELETE, RTLD_NOLOAD */
#include "dynlib.h"

#include "util.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

/* Keeps every loaded object whose path contains one of names loaded for
 * the rest of the process.  The loaded objects are found through the link
 * map of handle (a list of all of them), so no version number need be
 * known: "libicuuc.so" finds libicuuc.so.72. */
static void
dynlib_pin(void *handle, const char *const *names)
{
	struct link_map *lm = NULL;

	if (names == NULL || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL)
		return;
	while (lm->l_prev != NULL)
		lm = lm->l_prev;
	for (; lm != NULL; lm = lm->l_next) {
		for (const char *const *n = names; *n != NULL; n++) {
			if (lm->l_name == NULL || strstr(lm->l_name, *n) == NULL)
				continue;
			/* Not closed: the extra reference and NODELETE keep it. */
			(void)dlopen(lm->l_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
		}
	}
}

int
dynlib_acquire(struct dynlib *lib, const char **error_r)
{
	const char *why = "no name to load";
	void *handle = NULL;

	if (lib->refs > 0) {
		lib->refs++;
		return 0;
	}
	for (const char *const *name = lib->sonames; *name != NULL && handle == NULL; name++) {
		handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL)
			why = dlerror();
	}
	if (handle == NULL) {
		*error_r = errorf("cannot load %s: %s", lib->sonames[0], why);
		return -1;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		void *p = dlsym(handle, lib->syms[i].name);

		if (p == NULL) {
			*error_r = errorf("cannot load %s: no symbol %s", lib->sonames[0],
			                  lib->syms[i].name);
			dlclose(handle);
			return -1;
		}
		*lib->syms[i].slot = p;
	}
	if (lib->init != NULL && lib->init(error_r) < 0) {
		dlclose(handle);
		return -1;
	}
	dynlib_pin(handle, lib->pinned);
	lib->handle = handle;
	lib->refs = 1;
	return 0;
}

void
dynlib_release(struct dynlib *lib)
{
	if (lib->refs == 0 || --lib->refs > 0)
		return;
	if (lib->fini != NULL)
		lib->fini();
	dlclose(lib->handle);
	lib->handle = NULL;
}
