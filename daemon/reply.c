/*
 * reply: the new text of a reply.
 *
 * The text is split into lines once; every line is then looked at a
 * constant number of times with a bounded look-ahead (at most 6 following
 * lines, and only their first bytes), so the whole is linear in the input.
 * No regular expressions.
 */
#include "reply.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

enum line_kind {
	LINE_EMPTY = 0, /* only white space */
	LINE_TEXT,      /* something the sender (probably) wrote */
	LINE_QUOTE,     /* starts with ">" */
	LINE_ATTR,      /* part of an "On ... wrote:" attribution before a quote */
};

struct line {
	const char *s; /* borrowed from the input, without the line end */
	size_t len;
	enum line_kind kind;
};

/* Attributions and header blocks are short; longer lines are never
 * examined for them, which also bounds the work per line. */
#define MAX_MARKER_LINE 400
#define OUTLOOK_LOOKAHEAD 6
#define MAX_SIG_LINES 15
#define MAX_MOBILE_SIG_LINES 2
#define MAX_FOOTER_LINES 6

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of a UTF-8 no-break space (C2 A0) at s, else 0. */
static size_t
nbsp_at(const char *s, size_t len)
{
	if (len >= 2 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
		return 2;
	return 0;
}

/* Trims ASCII white space and no-break spaces from both ends. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0) {
		size_t nb = nbsp_at(*s, *len);
		if (nb > 0) {
			*s += nb;
			*len -= nb;
		} else if (is_space((unsigned char)**s)) {
			(*s)++;
			(*len)--;
		} else {
			break;
		}
	}
	while (*len > 0) {
		if (*len >= 2 && (unsigned char)(*s)[*len - 2] == 0xc2 &&
		    (unsigned char)(*s)[*len - 1] == 0xa0)
			*len -= 2;
		else if (is_space((unsigned char)(*s)[*len - 1]))
			(*len)--;
		else
			break;
	}
}

/* Whether c is one of chars (never for '\0'); inline rather than strchr
 * because it runs for the ends of most lines. */
static bool
in_chars(char c, const char *chars)
{
	for (; *chars != '\0'; chars++) {
		if (*chars == c)
			return true;
	}
	return false;
}

/* Trims the given ASCII characters from both ends. */
static void
trim_chars(const char **s, size_t *len, const char *chars)
{
	while (*len > 0 && in_chars(**s, chars)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && in_chars((*s)[*len - 1], chars))
		(*len)--;
}

static bool
span_iends(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);
	return len >= sl && mem_ieq(s + len - sl, suffix, sl);
}

/* Whether s[0..len) is one of the words, ignoring ASCII case. */
static bool
span_in_list(const char *s, size_t len, const struct str_lit *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].len == len &&
		    (len == 0 || ascii_lower(s[0]) == ascii_lower(list[i].s[0])) &&
		    mem_ieq(s, list[i].s, len))
			return true;
	}
	return false;
}

static bool
has_digit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			return true;
	}
	return false;
}

static enum line_kind
line_kind_of(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t nb = nbsp_at(s + i, len - i);
		if (nb > 0)
			i += nb;
		else if (is_space((unsigned char)s[i]))
			i++;
		else
			break;
	}
	if (i == len)
		return LINE_EMPTY;
	return s[i] == '>' ? LINE_QUOTE : LINE_TEXT;
}

/* A line made only of separator characters, such as Outlook's
 * "________________________________" or " -----------". */
static bool
is_separator(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len;

	trim(&s, &len);
	if (len < 2)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (strchr("-_=*~ ", s[i]) == NULL)
			return false;
	}
	return true;
}

/* Phrases that open the quoted original when framed by dashes, as in
 * "-----Original Message-----" or "---------- Forwarded message ---------". */
static const struct str_lit framed_markers[] = {
    STR_LIT("original message"),        STR_LIT("original message follows"),
    STR_LIT("ursprüngliche nachricht"), STR_LIT("ursprungliche nachricht"),
    STR_LIT("message d'origine"),       STR_LIT("message d’origine"),
    STR_LIT("mensaje original"),        STR_LIT("messaggio originale"),
    STR_LIT("mensagem original"),       STR_LIT("oorspronkelijk bericht"),
    STR_LIT("origineel bericht"),       STR_LIT("ursprungligt meddelande"),
    STR_LIT("wiadomość oryginalna"),    STR_LIT("исходное сообщение"),
    STR_LIT("forwarded message"),       STR_LIT("weitergeleitete nachricht"),
    STR_LIT("message transféré"),       STR_LIT("mensaje reenviado"),
    STR_LIT("messaggio inoltrato"),     STR_LIT("mensagem encaminhada"),
    STR_LIT("doorgestuurd bericht"),    STR_LIT("vidarebefordrat meddelande"),
    STR_LIT("пересылаемое сообщение"),
};

/* Whole lines that open the quoted original on their own. */
static const struct str_lit plain_markers[] = {
    STR_LIT("begin forwarded message:"),
    STR_LIT("anfang der weitergeleiteten nachricht:"),
    STR_LIT("début du message réexpédié :"),
    STR_LIT("début du message transféré :"),
    STR_LIT("inicio del mensaje reenviado:"),
    STR_LIT("início da mensagem reencaminhada:"),
    STR_LIT("previous replies"),    /* Discourse's notification footer */
    STR_LIT("vorherige antworten"), /* its German version */
};

/* Cases: "-----Original Message-----" and its translations framed by
 * dashes/underscores/equals; "Begin forwarded message:" and translations;
 * Discourse's "*Previous Replies*"; any "... reply above this line ..."
 * marker. */
static bool
is_original_marker(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len, before;

	if (len > MAX_MARKER_LINE)
		return false;
	trim(&s, &len);
	if (mem_icontains(s, len, "reply above this line") ||
	    mem_icontains(s, len, "write above this line"))
		return true;
	before = len;
	trim_chars(&s, &len, "-_=*# ");
	if (span_in_list(s, len, plain_markers, N_ELEMENTS(plain_markers)))
		return true;
	return before - len >= 4 &&
	       span_in_list(s, len, framed_markers, N_ELEMENTS(framed_markers));
}

enum header_key { KEY_NONE = 0, KEY_FROM, KEY_OTHER };

static const struct str_lit from_keys[] = {
    STR_LIT("from"),
    STR_LIT("von"),
    STR_LIT("de"),
    STR_LIT("da"),
    STR_LIT("van"),
    STR_LIT("från"),
    STR_LIT("fra"),
    STR_LIT("od"),
    STR_LIT("от"),
    STR_LIT("מאת"),
    STR_LIT("expéditeur"),
    STR_LIT("寄件者"),
    STR_LIT("发件人"),
    STR_LIT("發件人"),
    STR_LIT("差出人"),
    /* Case folding is ASCII only: Cyrillic keys as clients capitalise them. */
    STR_LIT("От"),
};

static const struct str_lit other_keys[] = {
    STR_LIT("sent"),       STR_LIT("date"),         STR_LIT("to"),       STR_LIT("cc"),
    STR_LIT("subject"),    STR_LIT("reply-to"),     STR_LIT("sent by"),  STR_LIT("gesendet"),
    STR_LIT("datum"),      STR_LIT("an"),           STR_LIT("betreff"),  STR_LIT("envoyé"),
    STR_LIT("envoyé le"),  STR_LIT("date d'envoi"), STR_LIT("à"),        STR_LIT("objet"),
    STR_LIT("enviado"),    STR_LIT("enviado el"),   STR_LIT("para"),     STR_LIT("asunto"),
    STR_LIT("fecha"),      STR_LIT("inviato"),      STR_LIT("data"),     STR_LIT("a"),
    STR_LIT("oggetto"),    STR_LIT("enviada em"),   STR_LIT("assunto"),  STR_LIT("verzonden"),
    STR_LIT("aan"),        STR_LIT("onderwerp"),    STR_LIT("skickat"),  STR_LIT("till"),
    STR_LIT("ämne"),       STR_LIT("wysłano"),      STR_LIT("do"),       STR_LIT("temat"),
    STR_LIT("отправлено"), STR_LIT("кому"),         STR_LIT("тема"),     STR_LIT("дата"),
    STR_LIT("נשלח"),       STR_LIT("אל"),           STR_LIT("נושא"),     STR_LIT("日付"),
    STR_LIT("宛先"),       STR_LIT("件名"),         STR_LIT("送信日時"), STR_LIT("发送时间"),
    STR_LIT("收件人"),     STR_LIT("主题"),         STR_LIT("日期"),     STR_LIT("寄件日期"),
    STR_LIT("收件者"),     STR_LIT("主旨"),         STR_LIT("cc:"),      STR_LIT("kopie"),
    STR_LIT("Отправлено"), STR_LIT("Кому"),         STR_LIT("Тема"),     STR_LIT("Дата"),
    STR_LIT("Копия"),
};

/* The key of a "Key: value" header line as Outlook writes it in a reply,
 * possibly in bold markup ("*From:* ...") or with a space before the colon
 * ("De : ..."). */
static enum header_key
header_key_of(const struct line *l)
{
	const char *s = l->s, *colon;
	size_t len = l->len, klen;

	if (l->kind != LINE_TEXT)
		return KEY_NONE;
	trim(&s, &len);
	trim_chars(&s, &len, "*");
	if (len > 64)
		len = 64; /* keys are short; this bounds the work */
	colon = memchr(s, ':', len);
	if (colon == NULL) {
		/* The full-width colon of CJK clients. */
		for (size_t i = 0; i + 3 <= len && colon == NULL; i++) {
			if (s[i] == '\xef' && memcmp(s + i, "\xef\xbc\x9a", 3) == 0)
				colon = s + i;
		}
	}
	if (colon == NULL)
		return KEY_NONE;
	klen = (size_t)(colon - s);
	trim(&s, &klen);
	trim_chars(&s, &klen, "* ");
	if (klen == 0)
		return KEY_NONE;
	if (span_in_list(s, klen, from_keys, N_ELEMENTS(from_keys)))
		return KEY_FROM;
	if (span_in_list(s, klen, other_keys, N_ELEMENTS(other_keys)))
		return KEY_OTHER;
	return KEY_NONE;
}

/* "From: / Sent: / To: / Subject:" and translations: a From line followed
 * closely by at least two other header lines. */
static bool
is_outlook_block(const struct line *lines, size_t n, size_t i)
{
	size_t others = 0;

	if (header_key_of(&lines[i]) != KEY_FROM)
		return false;
	for (size_t j = i + 1; j < n && j <= i + OUTLOOK_LOOKAHEAD; j++) {
		if (header_key_of(&lines[j]) == KEY_OTHER)
			others++;
	}
	return others >= 2;
}

/* Words that open an attribution; the space is part of the word. */
static const char *const attr_starts[] = {
    "On ", "Am ", "Le ", "El ", "Il ", "Em ", "Op ", "Den ", "W dniu ", "Dnia ", "在",
};

/* Words that end one, before the colon. */
static const char *const attr_ends[] = {
    "wrote",        "writes",
    "a écrit",      "escribió",
    "escribio",     "ha scritto",
    "escreveu",     "skrev",
    "napisał",      "napisał(a)",
    "napisała",     "написал",
    "написал(а)",   "написала",
    "כתב",          "כתב/ה",
    "כתבה",         "写道",
    "寫道",         "schrieb",
    "schreef",      "さんは書きました",
    "のメッセージ",
};

enum attr_form {
	ATTR_NO = 0,
	ATTR_KEYWORD, /* ends with "wrote:" or a translation */
	ATTR_ADDRESS, /* ends with "<addr>:" (Gmail in many languages) */
};

static bool
starts_attribution(const struct line *l)
{
	for (size_t i = 0; i < N_ELEMENTS(attr_starts); i++) {
		if (l->len >= strlen(attr_starts[i]) &&
		    memcmp(l->s, attr_starts[i], strlen(attr_starts[i])) == 0)
			return true;
	}
	return false;
}

/* Whether line l can be the last line of an attribution.  German and Dutch
 * put the name after the verb ("Am ... schrieb Hans <h@x>:"), so those
 * verbs are also accepted inside the line. */
static enum attr_form
attribution_end(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len;

	if (l->kind != LINE_TEXT || len > MAX_MARKER_LINE)
		return ATTR_NO;
	trim(&s, &len);
	if (len >= 3 && memcmp(s + len - 3, "\xef\xbc\x9a", 3) == 0)
		len -= 3;
	else if (len >= 1 && s[len - 1] == ':')
		len--;
	else
		return ATTR_NO;
	trim(&s, &len);
	for (size_t i = 0; i < N_ELEMENTS(attr_ends); i++) {
		if (span_iends(s, len, attr_ends[i]))
			return ATTR_KEYWORD;
	}
	if (mem_icontains(s, len, " schrieb ") || mem_icontains(s, len, " schreef "))
		return ATTR_KEYWORD;
	if (len > 0 && s[len - 1] == '>')
		return ATTR_ADDRESS;
	return ATTR_NO;
}

/* A line that continues a wrapped attribution without its opening word:
 * it carries an address or a date. */
static bool
looks_like_attribution_part(const struct line *l)
{
	if (l->kind != LINE_TEXT || l->len > MAX_MARKER_LINE)
		return false;
	return memchr(l->s, '@', l->len) != NULL || has_digit(l->s, l->len);
}

/* Index of the next non-empty line at or after i, or n. */
static size_t
next_nonempty(const struct line *lines, size_t n, size_t i)
{
	while (i < n && lines[i].kind == LINE_EMPTY)
		i++;
	return i;
}

/* "Sent from my iPhone" and its relatives; "Sent from my desk, is much
 * easier..." is a sentence, not a signature, so the device name must be a
 * few words without punctuation. */
static bool
is_mobile_signature(const struct line *l)
{
	static const struct str_lit fixed[] = {
	    STR_LIT("sent from mail for windows"), STR_LIT("sent from outlook"),
	    STR_LIT("sent from yahoo mail"),       STR_LIT("sent from my ipad"),
	    STR_LIT("sent from my iphone"),        STR_LIT("von meinem iphone gesendet"),
	    STR_LIT("von meinem ipad gesendet"),   STR_LIT("envoyé de mon iphone"),
	    STR_LIT("envoyé de mon ipad"),
	};
	static const struct str_lit prefixes[] = {
	    STR_LIT("sent from my "),     STR_LIT("get outlook for "),
	    STR_LIT("von meinem "),       STR_LIT("envoyé de mon "),
	    STR_LIT("enviado desde mi "), STR_LIT("enviado do meu "),
	    STR_LIT("inviato da "),       STR_LIT("verzonden vanaf mijn "),
	    STR_LIT("skickat från min "), STR_LIT("wysłane z "),
	};
	const char *s = l->s;
	size_t len = l->len;

	if (l->kind != LINE_TEXT || len > 80)
		return false;
	trim(&s, &len);
	trim_chars(&s, &len, "*_");
	if (span_in_list(s, len, fixed, N_ELEMENTS(fixed)))
		return true;
	for (size_t i = 0; i < N_ELEMENTS(prefixes); i++) {
		size_t pl = prefixes[i].len, words = 1;
		if (len < pl || !mem_ieq(s, prefixes[i].s, pl))
			continue;
		for (size_t j = pl; j < len; j++) {
			if (s[j] == ',' || s[j] == ';' || s[j] == '!' || s[j] == '?')
				return false;
			if (s[j] == '.' && j + 1 < len)
				return false;
			if (s[j] == ' ')
				words++;
		}
		return len > pl && words <= 5;
	}
	return false;
}

static bool
is_dash_signature(const struct line *l)
{
	/* "-- " is the standard delimiter; "--" is what it becomes when
	 * clients strip trailing space. */
	return (l->len == 3 && memcmp(l->s, "-- ", 3) == 0) ||
	       (l->len == 2 && memcmp(l->s, "--", 2) == 0);
}

/* A mailing list footer opens with a line of underscores (Mailman). */
static bool
is_list_footer(const struct line *l)
{
	size_t underscores = 0;

	for (size_t i = 0; i < l->len; i++) {
		if (l->s[i] == '_')
			underscores++;
		else if (!is_space((unsigned char)l->s[i]))
			return false;
	}
	return underscores >= 10;
}

/* "-Abhishek Kona": a dash and a name, alone, after a blank line. */
static bool
is_dash_name(const struct line *lines, size_t i)
{
	const struct line *l = &lines[i];
	size_t words = 1;

	if (l->kind != LINE_TEXT || l->len < 3 || l->len > 32 || l->s[0] != '-' ||
	    !((l->s[1] >= 'A' && l->s[1] <= 'Z') || (l->s[1] >= 'a' && l->s[1] <= 'z')))
		return false;
	if (i == 0 || lines[i - 1].kind != LINE_EMPTY)
		return false;
	for (size_t j = 1; j < l->len; j++) {
		if (l->s[j] == ' ')
			words++;
	}
	return words <= 3;
}

static size_t
split_lines(const char *text, size_t len, struct line **lines_r)
{
	struct line *lines = NULL;
	size_t n = 0, cap = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t llen = end - pos;

		if (llen > 0 && text[pos + llen - 1] == '\r')
			llen--;
		lines = xgrow(lines, &cap, n + 1, sizeof(*lines));
		lines[n].s = text + pos;
		lines[n].len = llen;
		lines[n].kind = line_kind_of(text + pos, llen);
		n++;
		pos = nl != NULL ? end + 1 : len;
	}
	*lines_r = lines;
	return n;
}

/* Marks attributions (as LINE_ATTR) and returns the index where the quoted
 * original starts without ">" quoting, or n.
 *
 * Cases, in one pass over the lines:
 *   1. "-----Original Message-----", forwarded-message markers, Discourse's
 *      "Previous Replies" and "reply above this line": cut here.
 *   2. An Outlook header block (From: followed by Sent:/To:/Subject:...,
 *      localised): cut here.
 *   3. An attribution ending at line j ("On ... wrote:", wrapped over up to
 *      three lines; "... <addr>:" of Gmail): when a ">" quote follows, its
 *      lines become LINE_ATTR and belong to that quote; when unquoted text
 *      follows and it opens with a known word and has a date, cut there.
 */
static size_t
find_cut(struct line *lines, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		enum attr_form form;
		size_t k, next;
		bool opened = false, digits = false;

		if (lines[j].kind != LINE_TEXT)
			continue;
		if (is_original_marker(&lines[j]) || is_outlook_block(lines, n, j))
			return j;
		form = attribution_end(&lines[j]);
		if (form == ATTR_NO)
			continue;

		/* Walk up to the opening line of a wrapped attribution. */
		k = j;
		for (size_t back = 0; back <= 2 && back <= j; back++) {
			const struct line *l = &lines[j - back];
			if (l->kind != LINE_TEXT)
				break;
			if (starts_attribution(l)) {
				k = j - back;
				opened = true;
				break;
			}
		}
		if (!opened) {
			while (k > 0 && j - k < 2 && looks_like_attribution_part(&lines[k - 1]))
				k--;
		}
		for (size_t i = k; i <= j; i++)
			digits = digits || has_digit(lines[i].s, lines[i].len);

		next = next_nonempty(lines, n, j + 1);
		if (next == n || lines[next].kind == LINE_QUOTE) {
			if (form == ATTR_ADDRESS && !digits)
				continue;
			for (size_t i = k; i <= j; i++)
				lines[i].kind = LINE_ATTR;
		} else if (opened && digits && form == ATTR_KEYWORD) {
			return k;
		}
	}
	return n;
}

/* Returns the first line of a signature that runs to end (only a few
 * unquoted lines after its marker), or end. */
static size_t
find_signature(const struct line *lines, size_t start, size_t end)
{
	size_t *after; /* after[i]: unquoted text lines in (i, end) */
	size_t found = end;

	if (end <= start)
		return end;
	after = xcalloc(end - start + 1, sizeof(*after));
	for (size_t i = end; i > start; i--) {
		size_t idx = i - 1 - start;
		after[idx] = after[idx + 1] + (i < end && lines[i].kind == LINE_TEXT ? 1 : 0);
	}
	for (size_t i = start; i < end; i++) {
		size_t rest = after[i - start];
		if (lines[i].kind != LINE_TEXT)
			continue;
		if ((is_dash_signature(&lines[i]) && rest <= MAX_SIG_LINES) ||
		    (is_mobile_signature(&lines[i]) && rest <= MAX_MOBILE_SIG_LINES) ||
		    (is_list_footer(&lines[i]) && rest <= MAX_FOOTER_LINES) ||
		    (is_dash_name(lines, i) && rest == 0)) {
			found = i;
			break;
		}
	}
	free(after);
	return found;
}

/* The lines joined by '\n'.  One allocation of the exact size: a strbuf
 * call per line was a visible cost.
 *
 * Trailing white space of the last line is kept on purpose, as before:
 * the strbuf version meant to trim it, but its strbuf_truncate() got the
 * already-lowered length and so never cut anything, and results must not
 * change here (tracked separately). */
static char *
join_lines(const struct line *lines, size_t start, size_t end)
{
	size_t total = 0, pos = 0;
	char *out;

	for (size_t i = start; i < end; i++)
		total += lines[i].len + 1;
	out = xmalloc(total + 1);
	for (size_t i = start; i < end; i++) {
		memcpy(out + pos, lines[i].s, lines[i].len);
		pos += lines[i].len;
		if (i + 1 < end)
			out[pos++] = '\n';
	}
	out[pos] = '\0';
	return out;
}

/* Cases:
 *   - quoted original below the reply (top posting): cut at the earliest
 *     marker, attribution or trailing ">" block, then drop the signature;
 *   - reply below one quoted block (bottom posting): drop the leading
 *     attribution and quote;
 *   - replies between several quoted blocks (inline): keep the quotes that
 *     are followed by new text, drop only the trailing ones;
 *   - nothing left, or nothing but quotes: return the text (fail open). */
char *
reply_extract(const char *text, size_t len, bool *trimmed_r)
{
	struct line *lines = NULL;
	size_t n, first_text = SIZE_MAX, last_text = SIZE_MAX, first_line, last_line;
	size_t start, end;
	bool inline_quotes = false;
	char *result;

	if (trimmed_r != NULL)
		*trimmed_r = false;
	n = split_lines(text, len, &lines);
	first_line = next_nonempty(lines, n, 0);
	last_line = n;
	while (last_line > first_line && lines[last_line - 1].kind == LINE_EMPTY)
		last_line--;

	end = find_cut(lines, n);
	/* Twice: a signature can sit above a quote that sits above a list
	 * footer, and only the first pass's cut exposes it. */
	for (int pass = 0; pass < 2; pass++) {
		end = find_signature(lines, 0, end);
		/* Separators and blank lines just above a cut belong to it. */
		while (end > 0 &&
		       (lines[end - 1].kind == LINE_EMPTY || is_separator(&lines[end - 1])))
			end--;
		first_text = SIZE_MAX;
		for (size_t i = 0; i < end; i++) {
			if (lines[i].kind != LINE_TEXT)
				continue;
			if (first_text == SIZE_MAX)
				first_text = i;
			last_text = i;
		}
		if (first_text == SIZE_MAX)
			break;
		end = last_text + 1;
	}
	if (first_text == SIZE_MAX) {
		/* Fail open: everything looked quoted. */
		start = first_line;
		end = last_line;
		goto out;
	}
	for (size_t i = first_text; i < end; i++) {
		if (lines[i].kind == LINE_QUOTE)
			inline_quotes = true;
	}
	start = inline_quotes ? first_line : first_text;

out:
	if (start >= end) {
		start = first_line;
		end = last_line;
	}
	result = join_lines(lines, start, end);
	if (trimmed_r != NULL)
		*trimmed_r = start != first_line || end != last_line;
	free(lines);
	return result;
}
