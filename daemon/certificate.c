/*
 * certificate: the PDF certificate of completion; see include/certificate.h.
 *
 * cairo is loaded through dynlib for each rendering: certificates are a
 * few a program, and cairo brings fontconfig, FreeType and the X11 client
 * libraries with it, which an idle daemon should not map.  Every cairo call
 * goes through the table cr_lib below.
 */
#include "certificate.h"

#include "compose.h"
#include "dynlib.h"
#include "util.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	__typeof__(cairo_pdf_surface_create_for_stream) *cairo_pdf_surface_create_for_stream;
	__typeof__(cairo_pdf_surface_set_metadata) *cairo_pdf_surface_set_metadata;
	__typeof__(cairo_surface_status) *cairo_surface_status;
	__typeof__(cairo_surface_finish) *cairo_surface_finish;
	__typeof__(cairo_surface_destroy) *cairo_surface_destroy;
	__typeof__(cairo_create) *cairo_create;
	__typeof__(cairo_destroy) *cairo_destroy;
	__typeof__(cairo_status) *cairo_status;
	__typeof__(cairo_status_to_string) *cairo_status_to_string;
	__typeof__(cairo_select_font_face) *cairo_select_font_face;
	__typeof__(cairo_set_font_size) *cairo_set_font_size;
	__typeof__(cairo_text_extents) *cairo_text_extents;
	__typeof__(cairo_get_scaled_font) *cairo_get_scaled_font;
	__typeof__(cairo_scaled_font_text_to_glyphs) *cairo_scaled_font_text_to_glyphs;
	__typeof__(cairo_glyph_free) *cairo_glyph_free;
	__typeof__(cairo_show_text) *cairo_show_text;
	__typeof__(cairo_move_to) *cairo_move_to;
	__typeof__(cairo_line_to) *cairo_line_to;
	__typeof__(cairo_rectangle) *cairo_rectangle;
	__typeof__(cairo_set_line_width) *cairo_set_line_width;
	__typeof__(cairo_set_source_rgb) *cairo_set_source_rgb;
	__typeof__(cairo_stroke) *cairo_stroke;
	__typeof__(cairo_debug_reset_static_data) *cairo_debug_reset_static_data;
	/* fontconfig's, found through cairo's handle (dlsym searches the
	 * libraries it depends on): its caches go with cairo. */
	void (*FcFini)(void);
} cr_lib;

#define CR_SYM(f)                                                                                  \
	{                                                                                          \
#f, (void **)&cr_lib.f                                                             \
	}
static const struct dynlib_sym cr_syms[] = {
    CR_SYM(cairo_pdf_surface_create_for_stream),
    CR_SYM(cairo_pdf_surface_set_metadata),
    CR_SYM(cairo_surface_status),
    CR_SYM(cairo_surface_finish),
    CR_SYM(cairo_surface_destroy),
    CR_SYM(cairo_create),
    CR_SYM(cairo_destroy),
    CR_SYM(cairo_status),
    CR_SYM(cairo_status_to_string),
    CR_SYM(cairo_select_font_face),
    CR_SYM(cairo_set_font_size),
    CR_SYM(cairo_text_extents),
    CR_SYM(cairo_get_scaled_font),
    CR_SYM(cairo_scaled_font_text_to_glyphs),
    CR_SYM(cairo_glyph_free),
    CR_SYM(cairo_show_text),
    CR_SYM(cairo_move_to),
    CR_SYM(cairo_line_to),
    CR_SYM(cairo_rectangle),
    CR_SYM(cairo_set_line_width),
    CR_SYM(cairo_set_source_rgb),
    CR_SYM(cairo_stroke),
    CR_SYM(cairo_debug_reset_static_data),
    CR_SYM(FcFini),
};
#undef CR_SYM

static void
cr_fini(void)
{
	/* cairo's font caches hold fontconfig patterns: cairo first. */
	cr_lib.cairo_debug_reset_static_data();
	cr_lib.FcFini();
}

static const char *const cr_sonames[] = {"libcairo.so.2", NULL};
/* pixman allocates its table of implementations when it is loaded and has
 * no call to free it: it stays loaded (about 0.7 MB of code, no fonts). */
static const char *const cr_pinned[] = {"libpixman-1.so", NULL};
static struct dynlib libcairo = {cr_sonames, cr_syms, N_ELEMENTS(cr_syms), NULL, cr_fini, cr_pinned,
                                 NULL,       0};

/* US Letter, landscape, in points. */
#define PAGE_W 792.0
#define PAGE_H 612.0
#define TEXT_W (PAGE_W - 2 * 96.0) /* the widest a line may be */
#define MIN_SIZE 9.0               /* below this a line is unreadable */
#define FIELD_MAX_BYTES 400
#define PDF_MAX_BYTES (4 * 1024 * 1024)
#define FONT "DejaVu Serif"

/* The PDF as cairo writes it. */
struct pdf_sink {
	struct strbuf sb;
	bool overflow;
};

static cairo_status_t
certificate_write(void *closure, const unsigned char *data, unsigned int length)
{
	struct pdf_sink *sink = closure;

	if (sink->sb.len + length > PDF_MAX_BYTES) {
		sink->overflow = true;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	strbuf_add(&sink->sb, data, length);
	return CAIRO_STATUS_SUCCESS;
}

/* One centred line of text. */
struct line {
	const char *text; /* valid UTF-8 */
	double size;      /* wanted size; smaller if it does not fit */
	cairo_font_slant_t slant;
	cairo_font_weight_t weight;
	double baseline;  /* from the top of the page */
	const char *what; /* for errors: "the participant's name" */
};

/* Whether the current font has a glyph for every character of text;
 * FreeType maps a missing one to glyph 0 (.notdef). */
static int
certificate_check_glyphs(cairo_t *cr, const struct line *l, const char **error_r)
{
	cairo_glyph_t *glyphs = NULL;
	int n = 0;
	int ret = 0;

	if (cr_lib.cairo_scaled_font_text_to_glyphs(cr_lib.cairo_get_scaled_font(cr), 0, 0, l->text,
	                                            -1, &glyphs, &n, NULL, NULL,
	                                            NULL) != CAIRO_STATUS_SUCCESS) {
		*error_r = errorf("cannot set %s in type", l->what);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (glyphs[i].index == 0) {
			*error_r = errorf("%s has characters the certificate font (%s) cannot "
			                  "draw: \"%.100s\"",
			                  l->what, FONT, l->text);
			ret = -1;
			break;
		}
	}
	cr_lib.cairo_glyph_free(glyphs);
	return ret;
}

/*
 * Sets l centred on its baseline.  Cases:
 *   - fits at l->size: as is;
 *   - too wide: the size that makes it TEXT_W wide (advance scales with the
 *     size), when that is at least MIN_SIZE;
 *   - narrower still needed: refused;
 *   - a character the font lacks: refused (see certificate_check_glyphs).
 */
static int
certificate_line(cairo_t *cr, const struct line *l, const char **error_r)
{
	cairo_text_extents_t ext;
	double size = l->size;

	cr_lib.cairo_select_font_face(cr, FONT, l->slant, l->weight);
	cr_lib.cairo_set_font_size(cr, size);
	cr_lib.cairo_text_extents(cr, l->text, &ext);
	if (ext.x_advance > TEXT_W) {
		size = l->size * TEXT_W / ext.x_advance;
		if (size < MIN_SIZE) {
			*error_r = errorf("%s is too long for the certificate (%zu bytes)", l->what,
			                  strlen(l->text));
			return -1;
		}
		cr_lib.cairo_set_font_size(cr, size);
		cr_lib.cairo_text_extents(cr, l->text, &ext);
	}
	if (certificate_check_glyphs(cr, l, error_r) < 0)
		return -1;
	cr_lib.cairo_move_to(cr, (PAGE_W - ext.x_advance) / 2, l->baseline);
	cr_lib.cairo_show_text(cr, l->text);
	return 0;
}

/* "December 1, 2026" into buf; -1 for a date that does not exist. */
static int
certificate_date(int year, int month, int day, char *buf, size_t size)
{
	static const char *const months[] = {"January",   "February", "March",    "April",
	                                     "May",       "June",     "July",     "August",
	                                     "September", "October",  "November", "December"};
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 ||
	    day > mdays[month - 1] || (month == 2 && day == 29 && !leap))
		return -1;
	snprintf(buf, size, "%s %d, %d", months[month - 1], day, year);
	return 0;
}

/* ISO 8601 UTC, as cairo_pdf_surface_set_metadata takes dates. */
static void
certificate_iso8601(time_t t, char buf[static 32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool
certificate_missing(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * Cases:
 *   - a required field missing or blank once cleaned, a date that does not
 *     exist: refused before cairo is loaded;
 *   - a line that does not fit or cannot be drawn: refused;
 *   - cairo failing (no memory, the PDF past PDF_MAX_BYTES): its status is
 *     the error;
 *   - otherwise the PDF's bytes.
 */
int
certificate_render(const struct certificate *c, unsigned char **pdf_r, size_t *len_r,
                   const char **error_r)
{
	struct pdf_sink sink = {{0}, false};
	cairo_surface_t *surface = NULL;
	cairo_t *cr = NULL;
	char *participant = NULL, *program = NULL, *signer = NULL, *title = NULL, *org = NULL;
	char *doc_title = NULL, *creator = NULL;
	char date[64], on_date[80], created[32];
	cairo_status_t st;
	bool acquired = false;
	int ret = -1;

	if (certificate_missing(c->participant) || certificate_missing(c->program) ||
	    certificate_missing(c->signer_name) || certificate_missing(c->signer_title)) {
		*error_r = errorf("a certificate needs the participant, the program and the "
		                  "signer's name and title");
		goto out;
	}
	if (certificate_date(c->year, c->month, c->day, date, sizeof(date)) < 0) {
		*error_r =
		    errorf("invalid completion date %04d-%02d-%02d", c->year, c->month, c->day);
		goto out;
	}
	/* One line each: control characters (a newline too) become spaces,
	 * invalid UTF-8 '?', which cairo needs. */
	participant = compose_sanitize_header(c->participant, FIELD_MAX_BYTES);
	program = compose_sanitize_header(c->program, FIELD_MAX_BYTES);
	signer = compose_sanitize_header(c->signer_name, FIELD_MAX_BYTES);
	title = compose_sanitize_header(c->signer_title, FIELD_MAX_BYTES);
	if (!certificate_missing(c->organisation))
		org = compose_sanitize_header(c->organisation, FIELD_MAX_BYTES);
	if (*participant == '\0' || *program == '\0' || *signer == '\0' || *title == '\0') {
		*error_r = errorf("a certificate field is blank");
		goto out;
	}
	snprintf(on_date, sizeof(on_date), "on %s", date);

	if (dynlib_acquire(&libcairo, error_r) < 0)
		goto out;
	acquired = true;
	surface =
	    cr_lib.cairo_pdf_surface_create_for_stream(certificate_write, &sink, PAGE_W, PAGE_H);
	st = cr_lib.cairo_surface_status(surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		*error_r = errorf("cairo: %s", cr_lib.cairo_status_to_string(st));
		goto out;
	}
	certificate_iso8601(c->created, created);
	doc_title = xasprintf("Certificate of Completion: %s", participant);
	creator = xasprintf("mentord %s", MENTORD_VERSION);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, doc_title);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, program);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR,
	                                      org != NULL ? org : signer);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, creator);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created);
	cr_lib.cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, created);

	cr = cr_lib.cairo_create(surface);
	/* A double frame in dark blue. */
	cr_lib.cairo_set_source_rgb(cr, 0.11, 0.22, 0.40);
	cr_lib.cairo_set_line_width(cr, 3.0);
	cr_lib.cairo_rectangle(cr, 24, 24, PAGE_W - 48, PAGE_H - 48);
	cr_lib.cairo_stroke(cr);
	cr_lib.cairo_set_line_width(cr, 1.0);
	cr_lib.cairo_rectangle(cr, 32, 32, PAGE_W - 64, PAGE_H - 64);
	cr_lib.cairo_stroke(cr);

	const struct line lines[] = {
	    {org, 15, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL, 96,
	     "the organisation line"},
	    {"Certificate of Completion", 40, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD, 160,
	     "the title"},
	    {"This certifies that", 16, CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL, 218,
	     "a caption"},
	    {participant, 36, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD, 276,
	     "the participant's name"},
	    {"has successfully completed", 16, CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL,
	     326, "a caption"},
	    {program, 24, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD, 370, "the program"},
	    {on_date, 16, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL, 412, "the date"},
	    {signer, 14, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL, 512,
	     "the signer's name"},
	    {title, 12, CAIRO_FONT_SLANT_ITALIC, CAIRO_FONT_WEIGHT_NORMAL, 532,
	     "the signer's title"},
	};
	for (size_t i = 0; i < N_ELEMENTS(lines); i++) {
		if (lines[i].text == NULL)
			continue;
		if (i == 3 || i == 7) {
			/* Dark text for what is written on the certificate; a rule
			 * under the name and the signature line above the signer. */
			cr_lib.cairo_set_source_rgb(cr, 0.11, 0.22, 0.40);
			cr_lib.cairo_set_line_width(cr, 0.75);
			double y = i == 3 ? 290 : 494, half = i == 3 ? 220 : 140;
			cr_lib.cairo_move_to(cr, PAGE_W / 2 - half, y);
			cr_lib.cairo_line_to(cr, PAGE_W / 2 + half, y);
			cr_lib.cairo_stroke(cr);
		}
		cr_lib.cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
		if (certificate_line(cr, &lines[i], error_r) < 0)
			goto out;
	}

	st = cr_lib.cairo_status(cr);
	if (st == CAIRO_STATUS_SUCCESS) {
		cr_lib.cairo_destroy(cr);
		cr = NULL;
		cr_lib.cairo_surface_finish(surface);
		st = cr_lib.cairo_surface_status(surface);
	}
	if (st != CAIRO_STATUS_SUCCESS || sink.overflow) {
		*error_r = sink.overflow
		               ? errorf("the certificate is larger than %d bytes", PDF_MAX_BYTES)
		               : errorf("cairo: %s", cr_lib.cairo_status_to_string(st));
		goto out;
	}
	*len_r = sink.sb.len;
	*pdf_r = (unsigned char *)strbuf_detach(&sink.sb);
	ret = 0;
out:
	if (cr != NULL)
		cr_lib.cairo_destroy(cr);
	if (surface != NULL)
		cr_lib.cairo_surface_destroy(surface);
	if (acquired)
		dynlib_release(&libcairo);
	strbuf_free(&sink.sb);
	free(participant);
	free(program);
	free(signer);
	free(title);
	free(org);
	free(doc_title);
	free(creator);
	return ret;
}
