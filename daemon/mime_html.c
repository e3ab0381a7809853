/*
 * mime_html: HTML -> readable text with libxml2's forgiving HTML parser,
 * streamed: its push parser (htmlParseChunk, 4 KiB at a time) calls back at
 * each start tag, end tag and text, and the text is written as they come.
 * No tree is built: a tree of 1 MiB of HTML held some 20 MiB.  The events
 * are the ones libxml2's tree builder receives, so the text is the one a
 * walk of its tree gave.
 *
 * Quoted parts of a thread (blockquote, Gmail's gmail_quote, Yahoo's
 * yahoo_quoted, and everything after Outlook's reply header) come out as
 * "> " lines, so the reply extractor can drop them as it does in plain text.
 */
#include "mime.h"

#include "dynlib.h"
#include "log.h"

#include <libxml/HTMLparser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct html_out {
	struct strbuf sb;
	size_t pending;     /* line breaks wanted before the next text */
	size_t trailing_nl; /* line breaks at the end of sb since the last text */
	size_t col;         /* bytes on the current line */
	bool space;         /* a collapsed space is due before the next text */
	size_t quote;       /* blockquote depth */
	bool quote_rest;    /* an Outlook reply header was seen: all the rest is quoted */
	size_t pre;         /* inside <pre> */
};

static size_t
quote_depth(const struct html_out *o)
{
	return o->quote + (o->quote_rest ? 1 : 0);
}

static void
out_newline(struct html_out *o)
{
	strbuf_addc(&o->sb, '\n');
	o->col = 0;
	o->trailing_nl++;
	o->space = false;
}

static void
out_break(struct html_out *o, size_t n)
{
	if (n > o->pending)
		o->pending = n;
}

/* Writes the line breaks asked for (none at the very start). */
static void
out_flush(struct html_out *o)
{
	if (o->sb.len > 0) {
		while (o->trailing_nl < o->pending)
			out_newline(o);
	}
	o->pending = 0;
}

/* Starts a line if needed and writes len bytes of already-final text. */
static void
out_raw(struct html_out *o, const char *s, size_t len)
{
	size_t q;

	out_flush(o);
	if (o->col == 0) {
		for (q = quote_depth(o); q > 0; q--)
			strbuf_addc(&o->sb, '>');
		if (quote_depth(o) > 0)
			strbuf_addc(&o->sb, ' ');
		o->space = false;
	} else if (o->space) {
		strbuf_addc(&o->sb, ' ');
	}
	o->space = false;
	strbuf_add(&o->sb, s, len);
	o->col += len;
	o->trailing_nl = 0;
}

/* Length of the whitespace character at s[0..n) (NBSP counts: Outlook
 * fills "empty" paragraphs with it), or 0.  n > 0. */
static size_t
html_space(const char *s, size_t n)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
		return 1;
	if (n > 1 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
		return 2;
	return 0;
}

/* Text with whitespace runs collapsed (or kept, inside <pre>).  libxml2
 * hands a text over in pieces (at entities, at its buffer's size), never
 * within a character; the pieces give the same output as the whole text
 * would, since all state between them is in o. */
static void
out_text(struct html_out *o, const char *s, size_t len)
{
	size_t i = 0, start, n;

	while (i < len) {
		if (s[i] == '\0') {
			i++;
			continue;
		}
		if (o->pre > 0 && s[i] == '\n') {
			out_flush(o);
			out_newline(o);
			i++;
			continue;
		}
		n = html_space(s + i, len - i);
		if (n > 0) {
			if (o->pre > 0 && s[i] != '\r')
				out_raw(o, " ", 1);
			else if (o->col > 0)
				o->space = true;
			i += n;
			continue;
		}
		start = i;
		while (i < len && s[i] != '\0' && html_space(s + i, len - i) == 0)
			i++;
		out_raw(o, s + start, i - start);
	}
}

/* libxml2, loaded for the first HTML-only message and kept for the rest of
 * the process (a cycle, or mentorctl): include/dynlib.h says why.  The
 * pointer types are the header's own. */
static struct {
	__typeof__(htmlCreatePushParserCtxt) *htmlCreatePushParserCtxt;
	__typeof__(htmlCtxtUseOptions) *htmlCtxtUseOptions;
	__typeof__(htmlParseChunk) *htmlParseChunk;
	__typeof__(htmlFreeParserCtxt) *htmlFreeParserCtxt;
	__typeof__(xmlInitParser) *xmlInitParser;
	__typeof__(xmlCleanupParser) *xmlCleanupParser;
} lx;

#define LX_SYM(f)                                                                                  \
	{                                                                                          \
#f, (void **)&lx.f                                                                 \
	}
static const struct dynlib_sym lx_syms[] = {
    LX_SYM(htmlCreatePushParserCtxt), LX_SYM(htmlCtxtUseOptions), LX_SYM(htmlParseChunk),
    LX_SYM(htmlFreeParserCtxt),       LX_SYM(xmlInitParser),      LX_SYM(xmlCleanupParser),
};
#undef LX_SYM

static int
lx_init(const char **error_r)
{
	(void)error_r;
	lx.xmlInitParser();
	return 0;
}

static void
lx_fini(void)
{
	lx.xmlCleanupParser();
}

static const char *const lx_sonames[] = {"libxml2.so.2", NULL};
static struct dynlib libxml2 = {lx_sonames, lx_syms, N_ELEMENTS(lx_syms), lx_init, lx_fini, NULL,
                                NULL,       0};
static bool libxml2_failed; /* said once: the package is missing */

/* What an open element does when it ends, decided when it starts (a quote
 * block is known by its attributes, which the end tag does not carry). */
enum html_leave {
	LEAVE_INLINE, /* nothing: a, b, span, td... */
	LEAVE_BLOCK,  /* one line break */
	LEAVE_PARA,   /* a blank line: p, h1-h6 */
	LEAVE_PRE,    /* a line break; whitespace collapses again */
	LEAVE_QUOTE,  /* a line break; one "> " level less */
	LEAVE_SKIP,   /* skipped (script, style, head) or inside one */
	LEAVE_ROOT,   /* the top element: see sax_start */
};

/* Bytes fed to libxml2 at a time, read in place from the caller's buffer
 * but for a held tail (HTML_HOLD).  libxml2 2.9's HTML push parser keeps
 * every byte it is given (it never discards what it has parsed): about the
 * size of the HTML, which mime caps at MIME_TEXT_MAX, against some twenty
 * times that for a tree. */
#define HTML_CHUNK 4096
/* libxml2 2.9's push parser, in recovery mode, takes a chunk that ends
 * inside the end tag of a script or style ("...</sty") for text inside it
 * that does not end it, and then the rest of the document too.  A chunk
 * therefore never ends less than this many bytes after a '<' ("</script"
 * is 8): that tail is held back and fed with the next bytes. */
#define HTML_HOLD 16

struct mime_html {
	struct html_out o;
	htmlParserCtxtPtr ctxt; /* owned; NULL without libxml2 */
	struct strbuf fallback; /* without libxml2: the HTML itself */
	unsigned char *open;    /* owned: an enum html_leave per open element */
	size_t nopen, open_cap;
	size_t skip;              /* open elements inside a skipped one */
	bool doc_child;           /* the document has a child (element, comment, doctype) */
	bool root_first;          /* and the first is the top element */
	bool root_seen;           /* the top element has started */
	bool doctype;             /* a DOCTYPE was read */
	bool done;                /* nothing more can be part of the text */
	bool full;                /* MIME_TEXT_MAX bytes written: the rest is not read */
	char held[HTML_HOLD + 1]; /* the tail held back from the last chunk, and a '\n' */
	size_t nheld;             /* <= HTML_HOLD */
	char last;                /* the last byte fed */
	char chunk[HTML_CHUNK];   /* held bytes and the next ones, fed together */
};

static bool
str_in(const char *name, const char *const *names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (str_ieq(name, names[i]))
			return true;
	}
	return false;
}

static bool
is_heading_or_p(const char *name)
{
	return str_ieq(name, "p") || (name[0] == 'h' && name[1] >= '1' && name[1] <= '6');
}

/* The first value of attribute attr in libxml2's NULL-terminated
 * name/value list (names are lower case in HTML), or NULL. */
static const char *
attr_get(const xmlChar **attrs, const char *attr)
{
	size_t i;

	if (attrs == NULL)
		return NULL;
	for (i = 0; attrs[i] != NULL; i += 2) {
		if (strcmp((const char *)attrs[i], attr) == 0)
			return attrs[i + 1] != NULL ? (const char *)attrs[i + 1] : "";
	}
	return NULL;
}

/* True if attribute attr contains needle (ASCII case-insensitive, spaces
 * ignored). */
static bool
attr_contains(const xmlChar **attrs, const char *attr, const char *needle)
{
	const char *v = attr_get(attrs, attr);
	struct strbuf sb = {0};
	bool found;
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\n')
			strbuf_addc(&sb, v[i]);
	}
	strbuf_add(&sb, "", 0);
	str_lower(sb.buf);
	found = strstr(sb.buf, needle) != NULL;
	strbuf_free(&sb);
	return found;
}

static bool
is_quote_block(const char *name, const xmlChar **attrs)
{
	if (str_ieq(name, "blockquote"))
		return true;
	if (!str_ieq(name, "div"))
		return false;
	return attr_contains(attrs, "class", "gmail_quote") ||
	       attr_contains(attrs, "class", "yahoo_quoted");
}

static bool
starts_quote_rest(const char *name, const xmlChar **attrs)
{
	if (str_ieq(name, "div") && (attr_contains(attrs, "id", "divrplyfwdmsg") ||
	                             attr_contains(attrs, "style", "border-top:solid#e1e1e1") ||
	                             attr_contains(attrs, "style", "border-top:solid#b5c4df")))
		return true;
	return str_ieq(name, "hr") && attr_contains(attrs, "id", "stopspelling");
}

static bool
skipped(const char *name)
{
	static const char *const skip[] = {"script",   "style",    "head", "title",
	                                   "noscript", "template", "xml",  "object"};

	return str_in(name, skip, N_ELEMENTS(skip));
}

/* An element starts: the breaks it asks for, and what its end will do. */
static enum html_leave
element_enter(struct html_out *o, const char *name, const xmlChar **attrs)
{
	static const char *const blocks[] = {
	    "p",      "div",    "tr",      "h1",       "h2",     "h3",     "h4",    "h5",
	    "h6",     "ul",     "ol",      "dl",       "dt",     "dd",     "table", "address",
	    "center", "form",   "section", "article",  "header", "footer", "nav",   "aside",
	    "main",   "figure", "pre",     "fieldset", "tbody",  "thead",  "tfoot", "caption",
	};
	static const char *const inline_ends[] = {"td",   "th",     "a",  "span", "b",  "i",
	                                          "font", "strong", "em", "u",    "br", "img"};
	bool quote = is_quote_block(name, attrs);

	if (starts_quote_rest(name, attrs)) {
		out_break(o, 1);
		o->quote_rest = true;
	}
	if (quote) {
		out_break(o, 1);
		o->quote++;
	} else if (str_ieq(name, "br")) {
		out_flush(o);
		out_newline(o);
	} else if (str_ieq(name, "li")) {
		out_break(o, 1);
		out_raw(o, "- ", 2);
	} else if (str_ieq(name, "hr")) {
		out_break(o, 1);
	} else if (is_heading_or_p(name)) {
		out_break(o, 2);
	} else if (str_ieq(name, "td") || str_ieq(name, "th")) {
		if (o->col > 0)
			o->space = true;
	} else if (str_in(name, blocks, N_ELEMENTS(blocks))) {
		out_break(o, 1);
	}
	if (str_ieq(name, "pre"))
		o->pre++;

	if (quote)
		return LEAVE_QUOTE;
	if (is_heading_or_p(name))
		return LEAVE_PARA;
	if (str_ieq(name, "pre"))
		return LEAVE_PRE;
	if (str_in(name, inline_ends, N_ELEMENTS(inline_ends)))
		return LEAVE_INLINE;
	return LEAVE_BLOCK;
}

static void
element_leave(struct html_out *o, enum html_leave how)
{
	switch (how) {
	case LEAVE_QUOTE:
		out_break(o, 1);
		if (o->quote > 0)
			o->quote--;
		break;
	case LEAVE_PARA:
		out_break(o, 2);
		break;
	case LEAVE_PRE:
		out_break(o, 1);
		if (o->pre > 0)
			o->pre--;
		break;
	case LEAVE_BLOCK:
		out_break(o, 1);
		break;
	case LEAVE_INLINE:
	case LEAVE_SKIP:
	case LEAVE_ROOT:
		break;
	}
}

/* Trailing spaces off every line, at most two blank lines in a row, no
 * blank lines at either end. */
static char *
text_tidy(const char *s)
{
	struct strbuf out = {0};
	size_t blank = 0, n;
	const char *p = s, *nl;
	bool any = false;

	strbuf_add(&out, "", 0);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0) {
			blank++;
		} else {
			if (any) {
				strbuf_addc(&out, '\n');
				for (; blank > 0; blank--) {
					if (blank <= 2)
						strbuf_addc(&out, '\n');
				}
			}
			blank = 0;
			strbuf_add(&out, p, n);
			any = true;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return strbuf_detach(&out);
}

/* Once MIME_TEXT_MAX bytes are written, every later event is ignored and
 * mime_html_feed stops feeding the parser. */
static void
check_full(struct mime_html *h)
{
	if (h->o.sb.len >= MIME_TEXT_MAX)
		h->full = true;
}

static bool
reading(const struct mime_html *h)
{
	return !h->full && !h->done;
}

/*
 * The text is what the converter this replaces found walking, from
 * xmlDocGetRootElement, the tree libxml2's tree builder (xmlSAX2*) makes of
 * these events; the cases of that builder that show in the text:
 *  - an element's name is its local name (see element_name);
 *  - text while no element is open is dropped;
 *  - the first element is the top element (libxml2 makes it <html>); its
 *    end was the last step of the walk, so it does nothing;
 *  - an element starting after the top element has ended (content after
 *    </html>) is put under the document's first child: if that is the top
 *    element (no DOCTYPE, comment or processing instruction came before
 *    it, and no DOCTYPE since, which libxml2 puts first), it is read as the
 *    top element's last child; otherwise it is outside the tree, and so is
 *    everything after it.
 */
/* The name the tree builder gives an element: xmlSplitQName's local part,
 * after the first ':' ("o:p", Outlook's, is a "p"), unless the name starts
 * or ends with it. */
static const char *
element_name(const char *qname)
{
	const char *colon = strchr(qname, ':');

	if (colon == NULL || colon == qname || colon[1] == '\0')
		return qname;
	return colon + 1;
}

static void
sax_start(void *ud, const xmlChar *xname, const xmlChar **attrs)
{
	struct mime_html *h = ud;
	const char *name;
	enum html_leave how;
	bool root = false;

	if (!reading(h) || xname == NULL)
		return;
	name = element_name((const char *)xname);
	if (h->nopen == 0) {
		if (!h->root_seen) {
			root = true;
			h->root_seen = true;
			h->root_first = !h->doc_child;
			h->doc_child = true;
		} else if (!h->root_first || h->doctype) {
			h->done = true;
			return;
		}
	}
	if (h->skip > 0 || skipped(name)) {
		h->skip++;
		how = LEAVE_SKIP;
	} else {
		how = element_enter(&h->o, name, attrs);
		if (root)
			how = LEAVE_ROOT;
	}
	if (h->nopen == h->open_cap) {
		h->open_cap = h->open_cap > 0 ? h->open_cap * 2 : 64;
		h->open = xrealloc(h->open, h->open_cap);
	}
	h->open[h->nopen++] = (unsigned char)how;
	check_full(h);
}

static void
sax_end(void *ud, const xmlChar *name)
{
	struct mime_html *h = ud;
	enum html_leave how;

	(void)name;
	if (!reading(h) || h->nopen == 0)
		return;
	how = (enum html_leave)h->open[--h->nopen];
	if (how == LEAVE_SKIP)
		h->skip--;
	else
		element_leave(&h->o, how);
	check_full(h);
}

static void
sax_text(void *ud, const xmlChar *text, int len)
{
	struct mime_html *h = ud;

	if (!reading(h) || h->nopen == 0 || h->skip > 0 || len <= 0)
		return;
	out_text(&h->o, (const char *)text, (size_t)len);
	check_full(h);
}

/* A comment or processing instruction outside every element is a child of
 * the document. */
static void
sax_comment(void *ud, const xmlChar *value)
{
	struct mime_html *h = ud;

	(void)value;
	if (h->nopen == 0)
		h->doc_child = true;
}

static void
sax_pi(void *ud, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	sax_comment(ud, NULL);
}

/* A DOCTYPE, wherever it is: libxml2 puts the first one first in the
 * document. */
static void
sax_doctype(void *ud, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	struct mime_html *h = ud;

	(void)name;
	(void)external_id;
	(void)system_id;
	h->doctype = true;
	h->doc_child = true;
}

/* Where the parser is in its input, counting what it has discarded. */
static unsigned long
parse_offset(const htmlParserCtxt *ctxt)
{
	const xmlParserInput *in = ctxt->input;

	if (in == NULL || in->cur == NULL || in->base == NULL)
		return 0;
	return in->consumed + (unsigned long)(in->cur - in->base);
}

/*
 * Runs the parser over a chunk, or (chunk NULL) over what it holds.
 * libxml2 2.9's push parser, unlike its whole-document parser
 * (htmlReadMemory), takes the moment no element is open after an end tag
 * -- a stray </p> or </div> before the first tag, or </html> -- for the end
 * of the document: it moves to its epilogue state and stops at the next
 * text or tag (XML_PARSER_EOF, the input it stopped at still buffered),
 * where the whole-document parser ignores a stray tag and reads on.  While
 * more can be part of the text, the state is put back to content and the
 * parser resumes, for as long as it makes progress.  A parser libxml2
 * halted (disableSAX) is not resumed: its input is gone.
 */
static void
parse_run(struct mime_html *h, const char *chunk, int size, int terminate)
{
	htmlParserCtxtPtr ctxt = h->ctxt;
	unsigned long at;

	for (;;) {
		if (!reading(h) || ctxt->disableSAX != 0)
			return;
		if (ctxt->instate == XML_PARSER_EOF || ctxt->instate == XML_PARSER_EPILOG)
			ctxt->instate = XML_PARSER_CONTENT;
		at = parse_offset(ctxt);
		/* The result is the first error seen (any stray tag sets it,
		 * and it stays): not whether parsing goes on. */
		(void)lx.htmlParseChunk(ctxt, chunk, size, terminate);
		if (chunk == NULL && parse_offset(ctxt) == at)
			return;
		chunk = NULL;
		size = 0;
		if (ctxt->instate != XML_PARSER_EOF && ctxt->instate != XML_PARSER_EPILOG)
			return;
		if (ctxt->input == NULL || ctxt->input->cur == NULL ||
		    ctxt->input->cur >= ctxt->input->end)
			return;
	}
}

struct mime_html *
mime_html_new(void)
{
	struct mime_html *h = xcalloc(1, sizeof(*h));
	htmlSAXHandler sax;
	const char *error;

	if (libxml2.refs == 0 && dynlib_acquire(&libxml2, &error) < 0) {
		/* Without libxml2 the coordinator at least sees the HTML
		 * rather than nothing. */
		if (!libxml2_failed)
			log_error("HTML mail is kept as HTML: %s", error);
		libxml2_failed = true;
		return h;
	}
	memset(&sax, 0, sizeof(sax));
	sax.startElement = sax_start;
	sax.endElement = sax_end;
	sax.characters = sax_text;
	sax.comment = sax_comment;
	sax.processingInstruction = sax_pi;
	sax.internalSubset = sax_doctype;
	/* Blanks: the tree builder keeps them as text (keepBlanks); script
	 * and style content comes as CDATA, inside skipped elements. */
	sax.ignorableWhitespace = sax_text;
	sax.cdataBlock = sax_text;
	/* NULL only when libxml2 is out of memory: then, as without it,
	 * the HTML is kept as it is. */
	h->ctxt = lx.htmlCreatePushParserCtxt(&sax, h, NULL, 0, NULL, XML_CHAR_ENCODING_UTF8);
	if (h->ctxt == NULL)
		return h;
	/* The text is UTF-8 already: a <meta charset> must not convert it
	 * again (htmlReadMemory's encoding argument did the same). */
	(void)lx.htmlCtxtUseOptions(h->ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	                                         HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
	                                         HTML_PARSE_IGNORE_ENC);
	return h;
}

/* The length of chunk[0..n) to feed now: all of it, but for a character
 * cut at the end (libxml2 reads blanks after the top element ends without
 * waiting for more, and a partial UTF-8 sequence makes it read the rest as
 * ISO-8859-1), and for a '<' too close to the end (see HTML_HOLD). */
static size_t
feed_len(const char *chunk, size_t n)
{
	const unsigned char *u = (const unsigned char *)chunk;
	size_t i, lead, need;

	for (i = n; i > 0 && n - i < HTML_HOLD; i--) {
		if (u[i - 1] == '<')
			return i - 1;
	}
	for (lead = n; lead > 0 && n - lead < 4 && (u[lead - 1] & 0xc0) == 0x80; lead--)
		;
	if (lead == 0 || n - lead >= 4)
		return n;
	lead--;
	need = u[lead] >= 0xf0 ? 4 : u[lead] >= 0xe0 ? 3 : u[lead] >= 0xc0 ? 2 : 1;
	return n - lead < need ? lead : n;
}

bool
mime_html_feed(struct mime_html *h, const char *html, size_t len)
{
	const char *chunk;
	size_t n, total, now;

	if (h->ctxt == NULL) {
		n = MIME_TEXT_MAX - h->fallback.len;
		strbuf_add(&h->fallback, html, len < n ? len : n);
		h->full = h->fallback.len >= MIME_TEXT_MAX;
		return !h->full;
	}
	if (len > 0)
		h->last = html[len - 1];
	while (len > 0 && reading(h)) {
		if (h->nheld > 0) {
			n = len < HTML_CHUNK - h->nheld ? len : HTML_CHUNK - h->nheld;
			memcpy(h->chunk, h->held, h->nheld);
			memcpy(h->chunk + h->nheld, html, n);
			chunk = h->chunk;
			total = h->nheld + n;
		} else {
			n = len < HTML_CHUNK ? len : HTML_CHUNK;
			chunk = html;
			total = n;
		}
		html += n;
		len -= n;
		now = feed_len(chunk, total);
		h->nheld = total - now;
		memcpy(h->held, chunk + now, h->nheld);
		if (now > 0)
			parse_run(h, chunk, (int)now, 0);
	}
	return reading(h);
}

/* The length of the text in s[0..len) cut to at most max bytes: at the
 * last line end that fits, else at a character boundary. */
static size_t
text_cut(const char *s, size_t len, size_t max)
{
	size_t cut = max;

	if (len <= max)
		return len;
	while (cut > 0 && s[cut - 1] != '\n')
		cut--;
	if (cut > 0)
		return cut;
	cut = max;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

char *
mime_html_finish(struct mime_html **hp)
{
	struct mime_html *h = *hp;
	char *raw, *result;

	if (h == NULL)
		return xstrdup("");
	*hp = NULL;
	if (h->ctxt == NULL) {
		result = mime_to_utf8(h->fallback.buf != NULL ? h->fallback.buf : "",
		                      h->fallback.len, NULL);
		strbuf_free(&h->fallback);
		free(h);
		return result;
	}
	/* At the end the held tail is whole: as the whole-document parser
	 * does, what ends there ends the document.  The push parser drops a
	 * last '&' or '<' that the other reads as text: a line end after it
	 * (whitespace at the end writes nothing) makes it text. */
	if (h->last == '&' || h->last == '<')
		h->held[h->nheld++] = '\n';
	parse_run(h, h->nheld > 0 ? h->held : NULL, (int)h->nheld, 1);
	lx.htmlFreeParserCtxt(h->ctxt);
	strbuf_truncate(&h->o.sb, text_cut(h->o.sb.buf, h->o.sb.len, MIME_TEXT_MAX));
	strbuf_add(&h->o.sb, "", 0);
	raw = strbuf_detach(&h->o.sb);
	free(h->open);
	free(h);
	result = text_tidy(raw);
	free(raw);
	if (!utf8_valid(result, strlen(result))) {
		raw = result;
		result = mime_to_utf8(raw, strlen(raw), NULL);
		free(raw);
	}
	return result;
}

void
mime_html_free(struct mime_html **hp)
{
	struct mime_html *h = *hp;

	if (h == NULL)
		return;
	*hp = NULL;
	if (h->ctxt != NULL)
		lx.htmlFreeParserCtxt(h->ctxt);
	strbuf_free(&h->fallback);
	strbuf_free(&h->o.sb);
	free(h->open);
	free(h);
}

char *
mime_html_to_text(const char *html, size_t len)
{
	struct mime_html *h;

	if (html == NULL || len == 0)
		return xstrdup("");
	h = mime_html_new();
	(void)mime_html_feed(h, html, len);
	return mime_html_finish(&h);
}
