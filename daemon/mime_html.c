/*
 * mime_html: HTML -> readable text with libxml2's forgiving HTML parser.
 *
 * Quoted parts of a thread (blockquote, Gmail's gmail_quote, Yahoo's
 * yahoo_quoted, and everything after Outlook's reply header) come out as
 * "> " lines, so the reply extractor can drop them as it does in plain text.
 */
#include "mime.h"

#include "dynlib.h"
#include "log.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <limits.h>
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

/* Length of the whitespace character at s (NBSP counts: Outlook fills
 * "empty" paragraphs with it), or 0. */
static size_t
html_space(const char *s)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
		return 1;
	if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
		return 2;
	return 0;
}

/* Text with whitespace runs collapsed (or kept, inside <pre>). */
static void
out_text(struct html_out *o, const char *s)
{
	size_t i = 0, start, n;

	while (s[i] != '\0') {
		if (o->pre > 0 && s[i] == '\n') {
			out_flush(o);
			out_newline(o);
			i++;
			continue;
		}
		n = html_space(s + i);
		if (n > 0) {
			if (o->pre > 0 && s[i] != '\r')
				out_raw(o, " ", 1);
			else if (o->col > 0)
				o->space = true;
			i += n;
			continue;
		}
		start = i;
		while (s[i] != '\0' && html_space(s + i) == 0)
			i++;
		out_raw(o, s + start, i - start);
	}
}

/* libxml2, loaded for the first HTML-only message and kept for the rest of
 * the process (a cycle, or mentorctl): include/dynlib.h says why.  The
 * pointer types are the header's own. */
static struct {
	__typeof__(htmlReadMemory) *htmlReadMemory;
	__typeof__(xmlDocGetRootElement) *xmlDocGetRootElement;
	__typeof__(xmlGetProp) *xmlGetProp;
	__typeof__(xmlFreeDoc) *xmlFreeDoc;
	__typeof__(xmlInitParser) *xmlInitParser;
	__typeof__(xmlCleanupParser) *xmlCleanupParser;
	/* xmlFree is a variable holding libxml2's free function. */
	xmlFreeFunc *xmlFree_var;
} lx;

#define LX_SYM(f)                                                                                  \
	{                                                                                          \
#f, (void **)&lx.f                                                                 \
	}
static const struct dynlib_sym lx_syms[] = {
    LX_SYM(htmlReadMemory),
    LX_SYM(xmlDocGetRootElement),
    LX_SYM(xmlGetProp),
    LX_SYM(xmlFreeDoc),
    LX_SYM(xmlInitParser),
    LX_SYM(xmlCleanupParser),
    {"xmlFree", (void **)&lx.xmlFree_var},
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

static bool
name_is(const xmlNode *n, const char *name)
{
	return n->name != NULL && str_ieq((const char *)n->name, name);
}

static bool
name_in(const xmlNode *n, const char *const *names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (name_is(n, names[i]))
			return true;
	}
	return false;
}

/* True if attribute attr of n contains needle (ASCII case-insensitive,
 * spaces ignored). */
static bool
attr_contains(xmlNode *n, const char *attr, const char *needle)
{
	xmlChar *v = lx.xmlGetProp(n, (const xmlChar *)attr);
	struct strbuf sb = {0};
	bool found;
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\n')
			strbuf_addc(&sb, (char)v[i]);
	}
	(*lx.xmlFree_var)(v);
	strbuf_add(&sb, "", 0);
	str_lower(sb.buf);
	found = strstr(sb.buf, needle) != NULL;
	strbuf_free(&sb);
	return found;
}

static bool
is_quote_block(xmlNode *n)
{
	if (name_is(n, "blockquote"))
		return true;
	if (!name_is(n, "div"))
		return false;
	return attr_contains(n, "class", "gmail_quote") ||
	       attr_contains(n, "class", "yahoo_quoted");
}

static bool
starts_quote_rest(xmlNode *n)
{
	if (name_is(n, "div") && (attr_contains(n, "id", "divrplyfwdmsg") ||
	                          attr_contains(n, "style", "border-top:solid#e1e1e1") ||
	                          attr_contains(n, "style", "border-top:solid#b5c4df")))
		return true;
	return name_is(n, "hr") && attr_contains(n, "id", "stopspelling");
}

static void
node_enter(struct html_out *o, xmlNode *n)
{
	static const char *const blocks[] = {
	    "p",      "div",    "tr",      "h1",       "h2",     "h3",     "h4",    "h5",
	    "h6",     "ul",     "ol",      "dl",       "dt",     "dd",     "table", "address",
	    "center", "form",   "section", "article",  "header", "footer", "nav",   "aside",
	    "main",   "figure", "pre",     "fieldset", "tbody",  "thead",  "tfoot", "caption",
	};

	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			out_text(o, (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (starts_quote_rest(n)) {
		out_break(o, 1);
		o->quote_rest = true;
	}
	if (is_quote_block(n)) {
		out_break(o, 1);
		o->quote++;
	} else if (name_is(n, "br")) {
		out_flush(o);
		out_newline(o);
	} else if (name_is(n, "li")) {
		out_break(o, 1);
		out_raw(o, "- ", 2);
	} else if (name_is(n, "hr")) {
		out_break(o, 1);
	} else if (name_is(n, "p") || (n->name != NULL && n->name[0] == 'h' && n->name[1] >= '1' &&
	                               n->name[1] <= '6')) {
		out_break(o, 2);
	} else if (name_is(n, "td") || name_is(n, "th")) {
		if (o->col > 0)
			o->space = true;
	} else if (name_in(n, blocks, N_ELEMENTS(blocks))) {
		out_break(o, 1);
	}
	if (name_is(n, "pre"))
		o->pre++;
}

static void
node_leave(struct html_out *o, xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (is_quote_block(n)) {
		out_break(o, 1);
		if (o->quote > 0)
			o->quote--;
	} else if (name_is(n, "p") || (n->name != NULL && n->name[0] == 'h' && n->name[1] >= '1' &&
	                               n->name[1] <= '6')) {
		out_break(o, 2);
	} else if (name_is(n, "pre")) {
		out_break(o, 1);
		if (o->pre > 0)
			o->pre--;
	} else if (!name_is(n, "td") && !name_is(n, "th") && !name_is(n, "a") &&
	           !name_is(n, "span") && !name_is(n, "b") && !name_is(n, "i") &&
	           !name_is(n, "font") && !name_is(n, "strong") && !name_is(n, "em") &&
	           !name_is(n, "u") && !name_is(n, "br") && !name_is(n, "img")) {
		out_break(o, 1);
	}
}

static bool
skipped(const xmlNode *n)
{
	static const char *const skip[] = {"script",   "style",    "head", "title",
	                                   "noscript", "template", "xml",  "object"};

	return n->type == XML_ELEMENT_NODE && name_in(n, skip, N_ELEMENTS(skip));
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

/*
 * Cases: empty or unparsable input gives ""; the tree is walked without
 * recursion (deep nesting cannot exhaust the stack); skipped elements
 * (script, style, head) are not entered; block elements ask for line breaks
 * that only materialise before further text, so runs of empty blocks do not
 * pile up blank lines.
 */
char *
mime_html_to_text(const char *html, size_t len)
{
	struct html_out o = {0};
	htmlDocPtr doc;
	xmlNode *root, *n;
	char *raw, *result;

	if (html == NULL || len == 0 || len > INT_MAX)
		return xstrdup("");
	if (libxml2.refs == 0) {
		const char *error;

		if (dynlib_acquire(&libxml2, &error) < 0) {
			/* Without libxml2 the coordinator at least sees the
			 * HTML rather than nothing. */
			if (!libxml2_failed)
				log_error("HTML mail is kept as HTML: %s", error);
			libxml2_failed = true;
			return mime_to_utf8(html, len, NULL);
		}
	}
	doc = lx.htmlReadMemory(html, (int)len, NULL, "UTF-8",
	                        HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                            HTML_PARSE_NONET);
	if (doc == NULL)
		return xstrdup("");
	root = lx.xmlDocGetRootElement(doc);
	n = root;
	while (n != NULL) {
		bool skip = skipped(n);

		if (!skip)
			node_enter(&o, n);
		if (!skip && n->children != NULL && n->type == XML_ELEMENT_NODE) {
			n = n->children;
			continue;
		}
		while (n != NULL) {
			if (!skipped(n))
				node_leave(&o, n);
			if (n == root) {
				n = NULL;
				break;
			}
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
		}
	}
	lx.xmlFreeDoc(doc);
	strbuf_add(&o.sb, "", 0);
	raw = strbuf_detach(&o.sb);
	result = text_tidy(raw);
	free(raw);
	if (!utf8_valid(result, strlen(result))) {
		raw = result;
		result = mime_to_utf8(raw, strlen(raw), NULL);
		free(raw);
	}
	return result;
}
