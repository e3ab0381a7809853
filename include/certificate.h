/*
 * certificate: a one-page "Certificate of Completion" as a PDF, in memory
 * (cairo's PDF surface).  Pure: values in, bytes out; no files.
 *
 * US Letter, landscape.  Centred, top to bottom: the organisation line
 * (optional), the title, "This certifies that", the participant's name,
 * "has successfully completed", the program, "on <Month D, YYYY>", and a
 * signature line over the department head's name and title.  A name or
 * program too wide for the page is set smaller (down to a floor, below
 * which rendering fails rather than print something unreadable).  Text is
 * UTF-8 and set in DejaVu Serif (fonts-dejavu-core): Latin with any
 * accents, Greek, Cyrillic.  cairo's simple text API does no shaping or
 * font fallback, so a character the font lacks (CJK, for one) fails the
 * rendering with an error instead of printing a box; right-to-left scripts
 * are not supported.
 *
 * The output is the same bytes for the same input: the PDF's CreationDate
 * and ModDate are set from `created` (cairo 1.16 writes them without the
 * "D:" prefix, which readers accept), and cairo names its font subsets
 * from their content.
 *
 * cairo (and fontconfig, FreeType, X11 libraries with it) is loaded for the
 * call and unloaded after (include/dynlib.h says why).
 */
#ifndef MENTORD_CERTIFICATE_H
#define MENTORD_CERTIFICATE_H

#include <stddef.h>
#include <time.h>

/* Every pointer is borrowed for the duration of the call.  Strings are
 * UTF-8 (invalid bytes print as '?'; control characters as spaces). */
struct certificate {
	const char *participant;  /* required */
	const char *program;      /* required: the program's title */
	int year, month, day;     /* required: the completion date */
	const char *signer_name;  /* required: the department head */
	const char *signer_title; /* required: e.g. "Deputy Director, Human Resources" */
	const char *organisation; /* may be NULL: a line above the title */
	time_t created;           /* the PDF's creation date: clock_now() */
};

/* Renders c.  Fails (nothing allocated) on a missing field, an invalid
 * date, text that does not fit even at the smallest size, a character the
 * font cannot draw, or when cairo cannot be loaded.  The caller owns *pdf_r
 * (len_r bytes, starting "%PDF-"). */
int certificate_render(const struct certificate *c, unsigned char **pdf_r, size_t *len_r,
                       const char **error_r);

#endif
