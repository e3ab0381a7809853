/*
 * reply: the new text of a reply.
 *
 * The text is split into lines once; every line is then looked at a
 * constant number of times with a bounded look-around (an attribution is
 * judged over at most MAX_ATTR_LINES lines of at most MAX_MARKER_LINE
 * bytes, a header block over OUTLOOK_LOOKAHEAD lines), so the whole is
 * linear in the input.  No regular expressions.
 *
 * Phrases are compared after a case fold that covers ASCII, Latin-1 and
 * Cyrillic (fold()), so that "Пересылаемое сообщение" matches as
 * "пересылаемое сообщение" does; the phrase lists below are written folded.
 */
#include "reply.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

enum line_kind {
	LINE_EMPTY = 0, /* only white space or invisible characters */
	LINE_TEXT,      /* something the sender (probably) wrote */
	LINE_QUOTE,     /* quoted: ">", "|" or a Supercite "JD>" prefix */
	LINE_ATTR,      /* part of an attribution ("On ... wrote:"): dropped */
};

struct line {
	const char *s; /* borrowed from the input, without the line end */
	size_t len;
	enum line_kind kind;
	/* A quote marker other than '>' ("|", "JD>"): where it starts and its
	 * length, so that the output can write it as '>'; qlen 0 otherwise.
	 * cite: a Supercite prefix ("Bob>") not yet confirmed by a neighbour. */
	size_t qoff;
	unsigned char qlen;
	bool cite;
};

/* Attributions and header blocks are short; longer lines are never
 * examined for them, which also bounds the work per line. */
#define MAX_MARKER_LINE 400
#define MAX_ATTR_LINES 5
#define MAX_ATTR_BYTES 1000
#define MAX_ATTR_WORDS 40
#define OUTLOOK_LOOKAHEAD 6
#define MAX_SIG_LINES 15
#define MAX_MOBILE_SIG_LINES 2
#define MAX_FOOTER_LINES 6
#define MAX_FOOTER_BYTES 200
#define MAX_CITE_NAME 8

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of an invisible character at s, else 0: the no-break space, the
 * zero-width space/joiners and direction marks, the word joiner, a BOM, and
 * U+1427 "ᐧ", which Gmail's tracking extensions leave on a line of its
 * own. */
static size_t
invisible_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len >= 2 && u[0] == 0xc2 && u[1] == 0xa0)
		return 2;
	if (len < 3)
		return 0;
	if (u[0] == 0xe2 && u[1] == 0x80 && u[2] >= 0x8b && u[2] <= 0x8f)
		return 3;
	if ((u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0xa0) ||
	    (u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf) ||
	    (u[0] == 0xe1 && u[1] == 0x90 && u[2] == 0xa7))
		return 3;
	return 0;
}

/* Length of an invisible character ending at s[len - 1], else 0. */
static size_t
invisible_before(const char *s, size_t len)
{
	if (len >= 2 && invisible_at(s + len - 2, 2) == 2)
		return 2;
	if (len >= 3 && invisible_at(s + len - 3, 3) == 3)
		return 3;
	return 0;
}

/* Trims ASCII white space and invisible characters from both ends. */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0) {
		size_t nb = invisible_at(*s, *len);
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
		size_t nb = invisible_before(*s, *len);
		if (nb > 0)
			*len -= nb;
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

/* Lower-cases s[0..len) into out, which has room for len bytes: ASCII,
 * Latin-1 letters (U+00C0..U+00DE) and Cyrillic capitals (U+0400..U+042F).
 * Each keeps its length in UTF-8, so offsets in out are offsets in s. */
static void
fold(const char *s, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i],
		              d = i + 1 < len ? (unsigned char)s[i + 1] : 0;

		if (c >= 'A' && c <= 'Z') {
			out[i] = (char)(c + 32);
		} else if (c == 0xc3 && d >= 0x80 && d <= 0x9e && d != 0x97) {
			out[i] = (char)c;
			out[++i] = (char)(d + 0x20);
		} else if (c == 0xd0 && d >= 0x80 && d <= 0xaf) {
			/* U+0410..041F +0x20 stays in D0; U+0420..042F and
			 * U+0400..040F move to D1 */
			out[i] = (char)(d >= 0x90 && d <= 0x9f ? 0xd0 : 0xd1);
			out[++i] = (char)(d >= 0x90 && d <= 0x9f ? d + 0x20
			                  : d >= 0xa0            ? d - 0x20
			                                         : d + 0x10);
		} else {
			out[i] = (char)c;
		}
	}
}

static bool
span_eq(const char *s, size_t len, const struct str_lit *lit)
{
	return lit->len == len && memcmp(s, lit->s, len) == 0;
}

/* Whether folded s[0..len) is one of the (folded) phrases. */
static bool
span_in_list(const char *s, size_t len, const struct str_lit *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (span_eq(s, len, &list[i]))
			return true;
	}
	return false;
}

static bool
span_starts(const char *s, size_t len, const struct str_lit *lit)
{
	return len >= lit->len && memcmp(s, lit->s, lit->len) == 0;
}

static bool
span_ends(const char *s, size_t len, const struct str_lit *lit)
{
	return len >= lit->len && memcmp(s + len - lit->len, lit->s, lit->len) == 0;
}

static bool
span_contains(const char *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; nl > 0 && i + nl <= len; i++) {
		if (s[i] == needle[0] && memcmp(s + i, needle, nl) == 0)
			return true;
	}
	return false;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
has_digit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (is_digit(s[i]))
			return true;
	}
	return false;
}

/* Ends (after trimming) with sentence punctuation. */
static bool
ends_sentence(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len;

	trim(&s, &len);
	return len > 0 && (s[len - 1] == '.' || s[len - 1] == '!' || s[len - 1] == '?');
}

/* ---- quote markers ---- */

/* Sets l->kind, and the marker of '|' and Supercite quotes.  Cases: blank
 * (white space and invisible characters only); '>' at any depth; '|'
 * followed by a space, '>', '|' or nothing, unless the line is a table row
 * (several '|' and one at the end); "C>", "JD>", "Bob>": a name of up to
 * MAX_CITE_NAME letters and digits right before '>', then a space or
 * nothing.  '|' and names count only when a neighbouring line has the same
 * prefix (resolve_cites), so that "Note> ..." in running text, a "|" in
 * ASCII art or "MI>>$I" in uuencoded data is not a quote. */
static void
classify_line(struct line *l)
{
	const char *s = l->s;
	size_t len = l->len, i = 0, j, pipes = 0, end;

	l->kind = LINE_TEXT;
	l->qlen = 0;
	l->qoff = 0;
	l->cite = false;
	while (i < len) {
		size_t nb = invisible_at(s + i, len - i);
		if (nb > 0)
			i += nb;
		else if (is_space((unsigned char)s[i]))
			i++;
		else
			break;
	}
	if (i == len) {
		l->kind = LINE_EMPTY;
		return;
	}
	if (s[i] == '>') {
		l->kind = LINE_QUOTE;
		return;
	}
	if (s[i] == '|' &&
	    (i + 1 == len || s[i + 1] == ' ' || s[i + 1] == '>' || s[i + 1] == '|')) {
		end = len;
		while (end > i && is_space((unsigned char)s[end - 1]))
			end--;
		for (j = i; j < end && pipes < 3; j++)
			pipes += s[j] == '|';
		if (pipes >= 3 || (pipes >= 2 && s[end - 1] == '|'))
			return; /* a table row */
		l->qoff = i;
		l->qlen = 1;
		l->cite = true;
		return;
	}
	if (!is_alpha(s[i]))
		return;
	for (j = i; j < len && j - i < MAX_CITE_NAME && (is_alpha(s[j]) || is_digit(s[j])); j++)
		;
	if (j >= len || s[j] != '>' || (j + 1 < len && s[j + 1] != ' '))
		return;
	l->qoff = i;
	l->qlen = (unsigned char)(j - i + 1);
	l->cite = true;
}

static bool
same_cite(const struct line *a, const struct line *b)
{
	return (a->cite || (a->kind == LINE_QUOTE && a->qlen > 0)) && a->qlen == b->qlen &&
	       memcmp(a->s + a->qoff, b->s + b->qoff, a->qlen) == 0;
}

/* A Supercite name or '|' prefix counts when the line above or below has
 * it too, or, for a line on its own between answers, when it is one of the
 * first few prefixes confirmed that way elsewhere in the message. */
static void
resolve_cites(struct line *lines, size_t n)
{
	const struct line *known[4];
	size_t nknown = 0;

	for (size_t i = 0; i < n; i++) {
		if (!lines[i].cite)
			continue;
		if ((i > 0 && same_cite(&lines[i - 1], &lines[i])) ||
		    (i + 1 < n && same_cite(&lines[i + 1], &lines[i]))) {
			bool seen = false;
			lines[i].kind = LINE_QUOTE;
			for (size_t k = 0; k < nknown && !seen; k++)
				seen = same_cite(known[k], &lines[i]);
			if (!seen && nknown < N_ELEMENTS(known))
				known[nknown++] = &lines[i];
		}
	}
	for (size_t i = 0; i < n && nknown > 0; i++) {
		if (!lines[i].cite || lines[i].kind == LINE_QUOTE)
			continue;
		for (size_t k = 0; k < nknown; k++) {
			if (same_cite(known[k], &lines[i]))
				lines[i].kind = LINE_QUOTE;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (lines[i].kind != LINE_QUOTE)
			lines[i].qlen = 0;
		lines[i].cite = false;
	}
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

/* ---- "Original Message" and forwarded-message markers ---- */

/* Phrases that open the quoted original when framed by dashes, as in
 * "-----Original Message-----" or "---------- Forwarded message ---------"
 * (Gmail, Outlook, Thunderbird, Zoho's "=====" in their languages). */
static const struct str_lit framed_markers[] = {
    STR_LIT("original message"),
    STR_LIT("original message follows"),
    STR_LIT("forwarded message"),
    STR_LIT("forwarded message follows"),
    STR_LIT("ursprüngliche nachricht"),
    STR_LIT("ursprungliche nachricht"),
    STR_LIT("originalnachricht"),
    STR_LIT("weitergeleitete nachricht"),
    STR_LIT("message d'origine"),
    STR_LIT("message d’origine"),
    STR_LIT("message original"),
    STR_LIT("message transféré"),
    STR_LIT("mensaje original"),
    STR_LIT("mensaje reenviado"),
    STR_LIT("messaggio originale"),
    STR_LIT("messaggio inoltrato"),
    STR_LIT("mensagem original"),
    STR_LIT("mensagem encaminhada"),
    STR_LIT("oorspronkelijk bericht"),
    STR_LIT("origineel bericht"),
    STR_LIT("doorgestuurd bericht"),
    STR_LIT("opprinnelig melding"),
    STR_LIT("videresendt melding"),
    STR_LIT("oprindelig meddelelse"),
    STR_LIT("videresendt meddelelse"),
    STR_LIT("ursprungligt meddelande"),
    STR_LIT("vidarebefordrat meddelande"),
    STR_LIT("alkuperäinen viesti"),
    STR_LIT("välitetty viesti"),
    STR_LIT("wiadomość oryginalna"),
    STR_LIT("oryginalna wiadomość"),
    STR_LIT("przekazana wiadomość"),
    STR_LIT("původní zpráva"),
    STR_LIT("přeposlaná zpráva"),
    STR_LIT("исходное сообщение"),
    STR_LIT("пересылаемое сообщение"),
    STR_LIT("пересланное сообщение"),
    STR_LIT("оригінальне повідомлення"),
    STR_LIT("вихідне повідомлення"),
    STR_LIT("пересланий лист"),
    STR_LIT("переслане повідомлення"),
    STR_LIT("原始邮件"),
    STR_LIT("原始郵件"),
    STR_LIT("转发的邮件"),
    STR_LIT("轉寄的郵件"),
    STR_LIT("転送されたメッセージ"),
    STR_LIT("元のメッセージ"),
};

/* Whole lines that open the quoted original on their own. */
static const struct str_lit plain_markers[] = {
    STR_LIT("begin forwarded message:"),
    STR_LIT("anfang der weitergeleiteten nachricht:"),
    STR_LIT("début du message réexpédié :"),
    STR_LIT("début du message réexpédié:"),
    STR_LIT("début du message transféré :"),
    STR_LIT("début du message transféré:"),
    STR_LIT("inicio del mensaje reenviado:"),
    STR_LIT("início da mensagem reencaminhada:"),
    STR_LIT("inizio messaggio inoltrato:"),
    STR_LIT("begin doorgestuurd bericht:"),
    STR_LIT("videresendt melding:"),
    STR_LIT("vidarebefordrat brev:"),
    STR_LIT("начало переадресованного сообщения:"),
    STR_LIT("початок пересланого листа:"),
    STR_LIT("以下是转发的邮件："),
    STR_LIT("转发的邮件："),
    STR_LIT("previous replies"),    /* Discourse's notification footer */
    STR_LIT("vorherige antworten"), /* its German version */
};

/* Cases: "-----Original Message-----" and its translations framed by
 * dashes/underscores/equals (also "----- Forwarded by NAME on DATE -----",
 * Lotus Notes); "Begin forwarded message:" and translations; Discourse's
 * "*Previous Replies*"; any "... reply above this line ..." marker. */
static bool
is_original_marker(const struct line *l)
{
	char buf[MAX_MARKER_LINE];
	const char *s = l->s;
	size_t len = l->len, before;

	if (l->kind != LINE_TEXT || len > MAX_MARKER_LINE)
		return false;
	trim(&s, &len);
	fold(s, len, buf);
	s = buf;
	if (span_contains(s, len, "reply above this line") ||
	    span_contains(s, len, "write above this line"))
		return true;
	before = len;
	trim_chars(&s, &len, "-_=*# ");
	if (span_in_list(s, len, plain_markers, N_ELEMENTS(plain_markers)))
		return true;
	if (before - len < 4)
		return false;
	if (span_in_list(s, len, framed_markers, N_ELEMENTS(framed_markers)))
		return true;
	return len > 13 && memcmp(s, "forwarded by ", 13) == 0;
}

/* ---- Outlook's header block ---- */

enum header_key { KEY_NONE = 0, KEY_FROM, KEY_OTHER };

static const struct str_lit from_keys[] = {
    STR_LIT("from"),      STR_LIT("von"),       STR_LIT("de"),     STR_LIT("da"),
    STR_LIT("van"),       STR_LIT("från"),      STR_LIT("fra"),    STR_LIT("od"),
    STR_LIT("от"),        STR_LIT("від"),       STR_LIT("מאת"),    STR_LIT("expéditeur"),
    STR_LIT("lähettäjä"), STR_LIT("寄件者"),    STR_LIT("发件人"), STR_LIT("發件人"),
    STR_LIT("差出人"),    STR_LIT("보낸 사람"),
};

static const struct str_lit other_keys[] = {
    STR_LIT("sent"),
    STR_LIT("date"),
    STR_LIT("to"),
    STR_LIT("cc"),
    STR_LIT("bcc"),
    STR_LIT("subject"),
    STR_LIT("reply-to"),
    STR_LIT("sent by"),
    STR_LIT("gesendet"),
    STR_LIT("datum"),
    STR_LIT("an"),
    STR_LIT("betreff"),
    STR_LIT("kopie"),
    STR_LIT("envoyé"),
    STR_LIT("envoyé le"),
    STR_LIT("date d'envoi"),
    STR_LIT("à"),
    STR_LIT("objet"),
    STR_LIT("enviado"),
    STR_LIT("enviado el"),
    STR_LIT("para"),
    STR_LIT("asunto"),
    STR_LIT("fecha"),
    STR_LIT("inviato"),
    STR_LIT("data"),
    STR_LIT("a"),
    STR_LIT("oggetto"),
    STR_LIT("enviada em"),
    STR_LIT("assunto"),
    STR_LIT("verzonden"),
    STR_LIT("aan"),
    STR_LIT("onderwerp"),
    STR_LIT("sendt"),
    STR_LIT("til"),
    STR_LIT("emne"),
    STR_LIT("kopi"),
    STR_LIT("skickat"),
    STR_LIT("till"),
    STR_LIT("ämne"),
    STR_LIT("lähetetty"),
    STR_LIT("vastaanottaja"),
    STR_LIT("aihe"),
    STR_LIT("wysłano"),
    STR_LIT("do"),
    STR_LIT("temat"),
    STR_LIT("отправлено"),
    STR_LIT("кому"),
    STR_LIT("тема"),
    STR_LIT("дата"),
    STR_LIT("копия"),
    STR_LIT("надіслано"),
    STR_LIT("копія"),
    STR_LIT("נשלח"),
    STR_LIT("אל"),
    STR_LIT("נושא"),
    STR_LIT("日付"),
    STR_LIT("宛先"),
    STR_LIT("件名"),
    STR_LIT("送信日時"),
    STR_LIT("发送时间"),
    STR_LIT("收件人"),
    STR_LIT("主题"),
    STR_LIT("日期"),
    STR_LIT("抄送"),
    STR_LIT("寄件日期"),
    STR_LIT("收件者"),
    STR_LIT("主旨"),
    STR_LIT("副本"),
    STR_LIT("cc:"),
};

/* The key of a "Key: value" header line as Outlook writes it in a reply,
 * possibly in bold markup ("*From:* ...") or with a space before the colon
 * ("De : ..."). */
static enum header_key
header_key_of(const struct line *l)
{
	char buf[64];
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
	fold(s, klen, buf);
	if (span_in_list(buf, klen, from_keys, N_ELEMENTS(from_keys)))
		return KEY_FROM;
	if (span_in_list(buf, klen, other_keys, N_ELEMENTS(other_keys)))
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

/* ---- attributions ---- */

/* Words that open an attribution (folded, at the start of its first line). */
static const struct str_lit attr_openers[] = {
    STR_LIT("on "),     STR_LIT("am "),   STR_LIT("le "),      STR_LIT("el "),
    STR_LIT("il "),     STR_LIT("em "),   STR_LIT("op "),      STR_LIT("den "),
    STR_LIT("w dniu "), STR_LIT("dnia "), STR_LIT("dne "),     STR_LIT("в "),
    STR_LIT("στις "),   STR_LIT("在"),    STR_LIT("quoting "), STR_LIT("zitat von "),
};

/* Verbs that end an attribution, before its colon (folded). */
static const struct str_lit attr_verbs[] = {
    STR_LIT("wrote"),
    STR_LIT("writes"),
    STR_LIT("wrote the following"),
    STR_LIT("a écrit"),
    STR_LIT("a ecrit"),
    STR_LIT("escribió"),
    STR_LIT("escribio"),
    STR_LIT("ha escrito"),
    STR_LIT("ha scritto"),
    STR_LIT("scrisse"),
    STR_LIT("escreveu"),
    STR_LIT("skrev"),
    STR_LIT("skrev følgende"),
    STR_LIT("schrieb"),
    STR_LIT("hat geschrieben"),
    STR_LIT("schreef"),
    STR_LIT("geschreven"),
    STR_LIT("heeft geschreven"),
    STR_LIT("napisał"),
    STR_LIT("napisał(a)"),
    STR_LIT("napisała"),
    STR_LIT("napsal"),
    STR_LIT("napsal(a)"),
    STR_LIT("napsala"),
    STR_LIT("написал"),
    STR_LIT("написал(а)"),
    STR_LIT("написала"),
    STR_LIT("пишет"),
    STR_LIT("пише"),
    STR_LIT("написав"),
    STR_LIT("написав(ла)"),
    STR_LIT("kirjoitti"),
    STR_LIT("írta"),
    STR_LIT("yazdı"),
    STR_LIT("έγραψε"),
    STR_LIT("כתב"),
    STR_LIT("כתב/ה"),
    STR_LIT("כתבה"),
    STR_LIT("写道"),
    STR_LIT("寫道"),
    STR_LIT("さんは書きました"),
    STR_LIT("のメッセージ"),
};

/* Verbs that German, Dutch and the Scandinavian languages put before the
 * name ("Am ... schrieb Hans <h@x>:"), and that Android clients put before
 * the date ("Hans <h@x> schrieb am Mo., 2. Apr. 2012, 18:26:", "... wrote
 * on ..."). */
static const struct str_lit attr_mid_verbs[] = {
    STR_LIT(" schrieb "),  STR_LIT(" schreef "),    STR_LIT(" skrev "),
    STR_LIT(" wrote on "), STR_LIT(" a écrit le "), STR_LIT(" escribió el "),
};

/* Month names and abbreviations (folded, without their dots) of the
 * languages above: with a day number they date an attribution that has no
 * year and no time. */
static const struct str_lit months[] = {
    STR_LIT("jan"),     STR_LIT("feb"),      STR_LIT("mar"),      STR_LIT("apr"),
    STR_LIT("may"),     STR_LIT("jun"),      STR_LIT("jul"),      STR_LIT("aug"),
    STR_LIT("sep"),     STR_LIT("sept"),     STR_LIT("oct"),      STR_LIT("nov"),
    STR_LIT("dec"),     STR_LIT("jän"),      STR_LIT("mär"),      STR_LIT("mai"),
    STR_LIT("okt"),     STR_LIT("dez"),      STR_LIT("janv"),     STR_LIT("févr"),
    STR_LIT("avr"),     STR_LIT("juin"),     STR_LIT("juil"),     STR_LIT("août"),
    STR_LIT("déc"),     STR_LIT("ene"),      STR_LIT("abr"),      STR_LIT("dic"),
    STR_LIT("giu"),     STR_LIT("lug"),      STR_LIT("ott"),      STR_LIT("fev"),
    STR_LIT("mrt"),     STR_LIT("mei"),      STR_LIT("maj"),      STR_LIT("sty"),
    STR_LIT("lut"),     STR_LIT("kwi"),      STR_LIT("cze"),      STR_LIT("wrz"),
    STR_LIT("paź"),     STR_LIT("gru"),      STR_LIT("янв"),      STR_LIT("фев"),
    STR_LIT("февр"),    STR_LIT("мар"),      STR_LIT("апр"),      STR_LIT("мая"),
    STR_LIT("май"),     STR_LIT("июн"),      STR_LIT("июня"),     STR_LIT("июл"),
    STR_LIT("июля"),    STR_LIT("авг"),      STR_LIT("сен"),      STR_LIT("сент"),
    STR_LIT("окт"),     STR_LIT("ноя"),      STR_LIT("нояб"),     STR_LIT("дек"),
    STR_LIT("січ"),     STR_LIT("лют"),      STR_LIT("бер"),      STR_LIT("квіт"),
    STR_LIT("трав"),    STR_LIT("черв"),     STR_LIT("лип"),      STR_LIT("серп"),
    STR_LIT("вер"),     STR_LIT("жовт"),     STR_LIT("лист"),     STR_LIT("груд"),
    STR_LIT("january"), STR_LIT("february"), STR_LIT("march"),    STR_LIT("april"),
    STR_LIT("june"),    STR_LIT("july"),     STR_LIT("august"),   STR_LIT("september"),
    STR_LIT("october"), STR_LIT("november"), STR_LIT("december"),
};

/* Byte length of the UTF-8 letter (ASCII, or any multibyte character) at
 * s[i], or 0 for anything else. */
static size_t
letter_at(const char *s, size_t len, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	size_t n = 1;

	if (is_alpha((char)c))
		return 1;
	if (c < 0xc0)
		return 0;
	while (i + n < len && n < 4 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* Whether folded s has date evidence.  Cases, by runs of digit groups
 * joined by one separator:
 *   - one group: a year 19xx/20xx; a day number (1-2 digits) next to a
 *     month name or abbreviation ("2 avr.", "Apr 2", "2. апр.");
 *   - two groups: a time "18:26", "18.26", "6h26";
 *   - three groups: a date "02.04.2012", "4/2/12", "2012-04-02", or a time
 *     "18:26:00";
 *   - four or more: an IP address or a version, never a date; nor is a
 *     status such as "5.1.1" (its last group is one digit). */
static bool
has_date(const char *s, size_t len)
{
	size_t tok = 0, day_tok = SIZE_MAX - 1, month_tok = SIZE_MAX - 8;

	for (size_t i = 0; i < len;) {
		size_t g[3] = {0, 0, 0}, ng = 0, j = i, w;
		char sep = 0;

		if (!is_digit(s[i])) {
			size_t k = i;
			while (k < len && (w = letter_at(s, len, k)) > 0)
				k += w;
			if (k == i) {
				i++;
				continue;
			}
			if (k - i <= 9 && span_in_list(s + i, k - i, months, N_ELEMENTS(months)))
				month_tok = tok;
			if (month_tok == tok && day_tok + 1 == tok)
				return true;
			tok++;
			i = k;
			continue;
		}
		for (;;) {
			size_t a = j;
			while (j < len && is_digit(s[j]))
				j++;
			if (ng < 3)
				g[ng] = j - a;
			ng++;
			if (j + 1 < len && is_digit(s[j + 1]) && (sep == 0 || s[j] == sep) &&
			    (s[j] == ':' || s[j] == '.' || s[j] == '/' || s[j] == '-' ||
			     s[j] == 'h')) {
				sep = s[j];
				j++;
				continue;
			}
			break;
		}
		if (ng == 1 && g[0] == 4 &&
		    (memcmp(s + i, "19", 2) == 0 || memcmp(s + i, "20", 2) == 0))
			return true;
		if (ng == 2 && g[0] <= 2 && g[1] == 2 && sep != '/' && sep != '-')
			return true;
		if (ng == 3 && sep == ':' && g[0] <= 2 && g[1] == 2 && g[2] == 2)
			return true;
		if (ng == 3 && sep != ':' && sep != 'h' && g[1] <= 2 &&
		    ((g[0] <= 2 && (g[2] == 2 || g[2] == 4)) || (g[0] == 4 && g[2] <= 2)))
			return true;
		if (ng == 1 && g[0] <= 2) {
			day_tok = tok;
			if (month_tok + 1 == tok)
				return true;
		}
		tok++;
		i = j;
	}
	return false;
}

enum attr_verdict {
	ATTR_NO = 0,
	ATTR_WEAK,   /* an attribution before a quote (or at the end), not enough to cut */
	ATTR_STRONG, /* dated: it also opens an unquoted original */
};

/* Whether folded s[0..len) ends with one of attr_verbs, as a word. */
static bool
ends_with_verb(const char *t, size_t tl)
{
	for (size_t i = 0; i < N_ELEMENTS(attr_verbs); i++) {
		const struct str_lit *v = &attr_verbs[i];
		/* a whole word: ASCII verbs need a space (or "(", ">") before */
		if (span_ends(t, tl, v) && (tl == v->len || (unsigned char)v->s[0] >= 0x80 ||
		                            in_chars(t[tl - v->len - 1], " )>\"'")))
			return true;
	}
	return false;
}

static bool
has_mid_verb(const char *t, size_t tl)
{
	for (size_t i = 0; i < N_ELEMENTS(attr_mid_verbs); i++) {
		if (span_contains(t, tl, attr_mid_verbs[i].s))
			return true;
	}
	return false;
}

/* Judges folded s[0..len) as a whole attribution (its lines joined by
 * spaces).  Cases:
 *   1. Zoho's "---- On ... wrote ----": framed by dashes, ends with a verb;
 *   2. "... wrote:" and its translations, verb last (before the colon);
 *   3. "... schrieb Name <addr>:": a verb before a short name or address;
 *   4. Gmail's forms without a verb: "2012-04-02 18:26 GMT+02:00 Name
 *      <addr>:", "пн, 2 апр. 2012 г. в 18:26, Name <addr>:": an address
 *      last, with a date.
 * A verb alone is WEAK; a verb or a final address with a date is STRONG. */
static enum attr_verdict
judge_attribution(const char *s, size_t len)
{
	size_t words = 1, at = 0;
	bool framed = false, verb = false, addr = false;
	const char *t = s;
	size_t tl = len;

	trim(&t, &tl);
	if (tl >= 3 && memcmp(t + tl - 3, "\xef\xbc\x9a", 3) == 0) {
		tl -= 3;
	} else if (tl >= 1 && t[tl - 1] == ':') {
		tl--;
	} else if (tl >= 4 && (t[0] == '-' || t[0] == '=') &&
	           (t[tl - 1] == '-' || t[tl - 1] == '=')) {
		size_t before = tl;
		trim_chars(&t, &tl, "-= ");
		framed = before - tl >= 4;
		if (!framed)
			return ATTR_NO;
	} else {
		return ATTR_NO;
	}
	trim(&t, &tl);
	if (tl == 0)
		return ATTR_NO;
	for (size_t i = 0; i < tl; i++) {
		if (t[i] == ' ')
			words++;
		if (t[i] == '@')
			at++;
	}
	if (words > MAX_ATTR_WORDS)
		return ATTR_NO;
	verb = ends_with_verb(t, tl);
	for (size_t i = 0; i < N_ELEMENTS(attr_mid_verbs) && !verb; i++) {
		const struct str_lit *v = &attr_mid_verbs[i];
		for (size_t k = 0; k + v->len <= tl; k++) {
			size_t rest_words = 1;
			if (t[k] != ' ' || memcmp(t + k, v->s, v->len) != 0)
				continue;
			for (size_t m = k + v->len; m < tl; m++)
				rest_words += t[m] == ' ';
			/* "schrieb Hans Müller <h@x.de>", "skrev Ola", "schrieb
			 * am Mo., 2. Apr. 2012, 18:26" */
			if (rest_words <= 10 &&
			    (t[tl - 1] == '>' || t[tl - 1] == ')' ||
			     memchr(t + k, '@', tl - k) != NULL || !has_digit(t + k, tl - k) ||
			     has_date(t + k, tl - k)))
				verb = true;
			break;
		}
	}
	if (at > 0) {
		/* the last word holds the address: "<a@b>", "a@b", "[mailto:a@b]" */
		size_t k = tl;
		while (k > 0 && t[k - 1] != ' ')
			k--;
		addr = memchr(t + k, '@', tl - k) != NULL || t[tl - 1] == '>' || t[tl - 1] == ']' ||
		       t[tl - 1] == ')';
	}
	if (framed)
		return verb ? ATTR_STRONG : ATTR_NO;
	if ((verb || addr) && has_date(t, tl))
		return ATTR_STRONG;
	return verb ? ATTR_WEAK : ATTR_NO;
}

/* Whether line l may end an attribution: a colon (also full-width) at the
 * end, or Zoho's closing dashes. */
static bool
may_end_attribution(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len;

	if (l->kind != LINE_TEXT || len > MAX_MARKER_LINE)
		return false;
	trim(&s, &len);
	if (len == 0)
		return false;
	if (s[len - 1] == ':' || (len >= 3 && memcmp(s + len - 3, "\xef\xbc\x9a", 3) == 0))
		return true;
	/* Zoho's "---- On ... wrote ----", also wrapped */
	return len >= 2 && (s[len - 1] == '-' || s[len - 1] == '=') && s[len - 2] == s[len - 1];
}

static bool
starts_attribution(const struct line *l)
{
	char buf[16];
	const char *s = l->s;
	size_t len = l->len;

	trim(&s, &len);
	if (len > sizeof(buf))
		len = sizeof(buf);
	fold(s, len, buf);
	for (size_t i = 0; i < N_ELEMENTS(attr_openers); i++) {
		if (span_starts(buf, len, &attr_openers[i]))
			return true;
	}
	return false;
}

/* An opening line counts when it carries a date or an address: "On the
 * other hand" above "Megan <m@x.org> wrote:" does not open it. */
static bool
dated_or_addressed(const struct line *l)
{
	char buf[MAX_MARKER_LINE];
	const char *s = l->s;
	size_t len = l->len;

	if (len > MAX_MARKER_LINE)
		return false;
	trim(&s, &len);
	fold(s, len, buf);
	return memchr(buf, '@', len) != NULL || has_date(buf, len);
}

/* Judges lines[k..j] joined by spaces (folded). */
static enum attr_verdict
judge_lines(const struct line *lines, size_t k, size_t j)
{
	char buf[MAX_ATTR_BYTES];
	size_t pos = 0;

	for (size_t i = k; i <= j; i++) {
		const char *s = lines[i].s;
		size_t len = lines[i].len;

		trim(&s, &len);
		if (pos + len + 1 > sizeof(buf))
			return ATTR_NO;
		if (pos > 0)
			buf[pos++] = ' ';
		fold(s, len, buf + pos);
		pos += len;
	}
	return judge_attribution(buf, pos);
}

/* Whether a line above a judged attribution continues it: it dates it
 * ("tir. 3. mar. 2020 kl. 10:00 skrev") or names the sender in a few words
 * ("Ola Nordmann"), and ends no sentence. */
static bool
continues_attribution(const struct line *l, bool *dated_r)
{
	char buf[MAX_MARKER_LINE];
	const char *s = l->s;
	size_t len = l->len, words = 1;

	*dated_r = false;
	if (l->kind != LINE_TEXT || len > MAX_MARKER_LINE || ends_sentence(l))
		return false;
	trim(&s, &len);
	fold(s, len, buf);
	if (has_date(buf, len) || memchr(buf, '@', len) != NULL) {
		*dated_r = true;
		return true;
	}
	for (size_t i = 0; i < len; i++)
		words += buf[i] == ' ';
	return words <= 4;
}

/* Whether line j (which may_end_attribution) can end an attribution at
 * all: a verb or an address last, Zoho's frame, or a verb that puts the
 * name after it, on this line and the one above (a verb may be split over
 * them: "... a" / "écrit :").  A cheap test that spares find_attribution
 * the lines that merely end with a colon. */
static bool
attribution_tail(const struct line *lines, size_t j)
{
	char buf[2 * MAX_MARKER_LINE + 3];
	const char *s;
	size_t len, pos = 1, k;

	buf[0] = ' ';
	for (size_t i = j > 0 ? j - 1 : j; i <= j; i++) {
		if (i < j && (lines[i].kind != LINE_TEXT || lines[i].len > MAX_MARKER_LINE))
			continue;
		s = lines[i].s;
		len = lines[i].len;
		trim(&s, &len);
		fold(s, len, buf + pos);
		pos += len;
		buf[pos++] = ' ';
	}
	s = buf + 1;
	len = pos - 2;
	if (len >= 3 && memcmp(s + len - 3, "\xef\xbc\x9a", 3) == 0)
		len -= 3;
	else if (len >= 1 && s[len - 1] == ':')
		len--;
	else
		return true; /* framed by dashes: judged in full */
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0)
		return false;
	if (ends_with_verb(s, len) || s[len - 1] == '>' || s[len - 1] == ']' || s[len - 1] == ')' ||
	    has_mid_verb(buf, pos))
		return true;
	for (k = len; k > 0 && s[k - 1] != ' ';)
		k--;
	return memchr(s + k, '@', len - k) != NULL;
}

/* The last words of the verbs of several words ("a écrit"), which a
 * client may wrap onto a line of their own. */
static const struct str_lit verb_tails[] = {
    STR_LIT("écrit"),       STR_LIT("ecrit"),      STR_LIT("scritto"),  STR_LIT("escrito"),
    STR_LIT("geschrieben"), STR_LIT("geschreven"), STR_LIT("følgende"), STR_LIT("following"),
};

/* Whether line l opens in the middle of an attribution: with "<", "(",
 * "[", a quote mark or "mailto:", an address, or its verb ("wrote:",
 * "écrit :", "написал(а):"). */
static bool
starts_midway(const struct line *l)
{
	char buf[MAX_MARKER_LINE];
	const char *s = l->s;
	size_t len = l->len, w = 0;

	trim(&s, &len);
	if (len == 0 || len > MAX_MARKER_LINE)
		return false;
	if (in_chars(s[0], "<([\"'"))
		return true;
	fold(s, len, buf);
	while (w < len && buf[w] != ' ')
		w++;
	if (memchr(buf, '@', w) != NULL || (len >= 7 && memcmp(buf, "mailto:", 7) == 0))
		return true;
	/* the colon, also full-width (EF BC 9A) */
	if (w >= 3 && memcmp(buf + w - 3, "\xef\xbc\x9a", 3) == 0)
		w -= 3;
	else if (w >= 1 && buf[w - 1] == ':')
		w--;
	return ends_with_verb(buf, w) || span_in_list(buf, w, verb_tails, N_ELEMENTS(verb_tails));
}

/* Whether line l ends with a clause that goes on: ',' or '<'. */
static bool
ends_clause(const struct line *l)
{
	const char *s = l->s;
	size_t len = l->len;

	trim(&s, &len);
	return len > 0 && (s[len - 1] == ',' || s[len - 1] == '<');
}

/* Index of the next non-empty line at or after i, or n. */
static size_t
next_nonempty(const struct line *lines, size_t n, size_t i)
{
	while (i < n && lines[i].kind == LINE_EMPTY)
		i++;
	return i;
}

/* The attribution that ends at line j, as [*k_r, j], and its verdict.
 * Cases: an opening word ("On", "Am", "Le", ...) within MAX_ATTR_LINES
 * lines above (not past a line that ends a sentence) starts it; without
 * one, the shortest block that judges as an attribution, extended up over
 * the lines that continue it as far as one that dates it (Gmail's forms
 * that open with the weekday: "man. 2. apr. 2012 kl. 18:26 skrev Ola
 * Nordmann <" / "ola@example.no>:"). */
static enum attr_verdict
find_attribution(const struct line *lines, size_t j, size_t *k_r)
{
	size_t lo = j, k;
	enum attr_verdict v = ATTR_NO;

	while (lo > 0 && j - lo + 1 < MAX_ATTR_LINES && lines[lo - 1].kind == LINE_TEXT &&
	       lines[lo - 1].len <= MAX_MARKER_LINE)
		lo--;
	for (k = j + 1; k-- > lo;) {
		if (k < j && ends_sentence(&lines[k]))
			break;
		if (starts_attribution(&lines[k]) && dated_or_addressed(&lines[k])) {
			*k_r = k;
			return judge_lines(lines, k, j);
		}
	}
	for (k = j + 1; k-- > lo;) {
		if (k < j && ends_sentence(&lines[k]))
			return ATTR_NO;
		v = judge_lines(lines, k, j);
		if (v != ATTR_NO)
			break;
	}
	if (v == ATTR_NO)
		return ATTR_NO;
	*k_r = k;
	if (v == ATTR_STRONG || k == lo ||
	    !(starts_midway(&lines[k]) || ends_clause(&lines[k - 1])))
		return v; /* complete: "Ana wrote:" under "met 2026-11-20 2h" */
	{
		size_t far = k;
		bool dated;
		for (size_t i = k; i-- > lo;) {
			if (!continues_attribution(&lines[i], &dated))
				break;
			if (dated)
				far = i;
		}
		if (far < k)
			v = judge_lines(lines, far, j) == ATTR_STRONG ? ATTR_STRONG : v;
		*k_r = far;
	}
	return v;
}

/* ---- signatures and client footers ---- */

/* Openings of the footers that mail clients add ("Sent from my iPhone"),
 * folded; a footer is one of these and a few words. */
static const struct str_lit footer_prefixes[] = {
    STR_LIT("sent from "),
    STR_LIT("sent with "),
    STR_LIT("sent via "),
    STR_LIT("sent using "),
    STR_LIT("sent on "),
    STR_LIT("sent through "),
    STR_LIT("sent wirelessly "),
    STR_LIT("typed on "),
    STR_LIT("written on "),
    STR_LIT("get outlook for "),
    STR_LIT("envoyé de "),
    STR_LIT("envoyé depuis "),
    STR_LIT("envoyé à partir de "),
    STR_LIT("envoyé avec "),
    STR_LIT("envoyé via "),
    STR_LIT("envoye de "),
    STR_LIT("obtenir outlook pour "),
    STR_LIT("télécharger outlook pour "),
    STR_LIT("gesendet von "),
    STR_LIT("gesendet vom "),
    STR_LIT("gesendet mit "),
    STR_LIT("verzonden vanaf "),
    STR_LIT("verzonden met "),
    STR_LIT("verzonden vanuit "),
    STR_LIT("verzonden van "),
    STR_LIT("verstuurd vanaf "),
    STR_LIT("verstuurd met "),
    STR_LIT("verstuurd vanuit "),
    STR_LIT("sendt fra "),
    STR_LIT("sendt med "),
    STR_LIT("sendt från "),
    STR_LIT("hent outlook for "),
    STR_LIT("skickat från "),
    STR_LIT("hämta outlook för "),
    STR_LIT("enviado desde "),
    STR_LIT("enviado do "),
    STR_LIT("enviado con "),
    STR_LIT("enviado de "),
    STR_LIT("obtener outlook para "),
    STR_LIT("inviato da "),
    STR_LIT("inviato con "),
    STR_LIT("scarica outlook per "),
    STR_LIT("wysłane z "),
    STR_LIT("wysłano z "),
    STR_LIT("отправлено с "),
    STR_LIT("отправлено из "),
    STR_LIT("надіслано з "),
    STR_LIT("发自"),
    STR_LIT("發自"),
    STR_LIT("来自"),
    STR_LIT("來自"),
    STR_LIT("寄自"),
};

/* Footers written the other way round: an opening and the word that must
 * end them ("Von meinem iPhone gesendet", "从我的iPhone发送",
 * "Outlook für iOS beziehen"). */
static const struct {
	struct str_lit prefix, suffix;
} footer_pairs[] = {
    {STR_LIT("von meinem "), STR_LIT(" gesendet")},
    {STR_LIT("vom "), STR_LIT(" gesendet")},
    {STR_LIT("diese nachricht wurde von "), STR_LIT(" gesendet")},
    {STR_LIT("outlook für "), STR_LIT(" beziehen")},
    {STR_LIT("outlook für "), STR_LIT(" herunterladen")},
    {STR_LIT("outlook voor "), STR_LIT(" downloaden")},
    {STR_LIT("从"), STR_LIT("发送")},
    {STR_LIT("從"), STR_LIT("發送")},
    {STR_LIT(""), STR_LIT("から送信")},
};

/* Clauses that may follow a footer: an apology for brevity or typos, or
 * the device or network ("Samsung Galaxy smartphone", "on the Rogers
 * network"). */
static const char *const apology_words[] = {
    "excuse",      "brevity",    "typo",    "sorry",    "apolog",   "pardon",     "short",
    "entschuldig", "tippfehler", "kürze",   "excusez",  "fautes",   "brièveté",   "disculp",
    "errores",     "scusate",    "beknopt", "typefout", "unnskyld", "skrivefeil",
};
static const char *const device_words[] = {
    "phone",   "mobile",     "device",   "tablet",  "samsung", "galaxy",   "iphone", "ipad",
    "android", "blackberry", "network",  "verizon", "at&t",    "t-mobile", "sprint", "rogers",
    "bell",    "telus",      "vodafone", "orange",  "app",     "handheld",
};

static bool
contains_any(const char *s, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (span_contains(s, len, list[i]))
			return true;
	}
	return false;
}

static size_t
count_words(const char *s, size_t len)
{
	size_t words = 0;
	bool in = false;

	for (size_t i = 0; i < len; i++) {
		bool sp = s[i] == ' ';
		if (!sp && !in)
			words++;
		in = !sp;
	}
	return words;
}

/* Whether folded clause s[0..len) is a client footer: a known opening and
 * at most eight words. */
static bool
is_footer_clause(const char *s, size_t len)
{
	for (size_t i = 0; i < N_ELEMENTS(footer_prefixes); i++) {
		const struct str_lit *p = &footer_prefixes[i];
		if (len > p->len && span_starts(s, len, p))
			return count_words(s + p->len, len - p->len) <= 8;
	}
	for (size_t i = 0; i < N_ELEMENTS(footer_pairs); i++) {
		const struct str_lit *p = &footer_pairs[i].prefix, *x = &footer_pairs[i].suffix;
		if (len > p->len + x->len && span_starts(s, len, p) && span_ends(s, len, x))
			return count_words(s, len) <= 10;
	}
	return false;
}

/* A clause that may sit next to a footer. */
static bool
is_footer_companion(const char *s, size_t len)
{
	static const char *const stop[] = {" is ", " was ", " are ", " easier", " than ", " then "};
	char padded[MAX_FOOTER_BYTES + 2];
	size_t words = count_words(s, len);

	if (len == 0)
		return true;
	if (len > 4 && (memcmp(s, "http", 4) == 0 || memcmp(s, "www.", 4) == 0))
		return words == 1;
	if (words <= 8 && contains_any(s, len, apology_words, N_ELEMENTS(apology_words)))
		return true;
	if (span_contains(s, len, "get the app") || span_contains(s, len, "download the app"))
		return true;
	padded[0] = ' ';
	memcpy(padded + 1, s, len);
	padded[len + 1] = ' ';
	return words <= 6 && contains_any(s, len, device_words, N_ELEMENTS(device_words)) &&
	       !contains_any(padded, len + 2, stop, N_ELEMENTS(stop));
}

/* Removes links in angle brackets or parentheses ("Get Outlook for
 * iOS<https://aka.ms/o0ukef>", "Sent from Mail<https://...> for Windows")
 * from s, in place; returns the new length. */
static size_t
drop_links(char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '<' || s[i] == '(') && i + 5 < len &&
		    memcmp(s + i + 1, "http", 4) == 0) {
			char close = s[i] == '<' ? '>' : ')';
			size_t j = i + 1;
			while (j < len && s[j] != close && s[j] != ' ')
				j++;
			if (j < len && s[j] == close) {
				i = j;
				continue;
			}
		}
		s[w++] = s[i];
	}
	return w;
}

/* "Sent from my iPhone" and its relatives in many languages and clients.
 * Cases: the line (bold or italic markup removed) is split into clauses at
 * ',', ';', '!', '?', ". " and " - "; a link ("<https://...>", "(http...)")
 * glued to the end is dropped; exactly one clause is a footer
 * (is_footer_clause) and the others are apologies, devices or links.  So
 * "Sent from my Android device with K-9 Mail. Please excuse my brevity."
 * is one, and "Sent from my desk, is much easier then my mobile phone." is
 * not. */
static bool
is_mobile_signature(const struct line *l)
{
	char buf[MAX_FOOTER_BYTES];
	const char *s = l->s;
	size_t len = l->len, start = 0, footers = 0;

	if (l->kind != LINE_TEXT || len > MAX_FOOTER_BYTES)
		return false;
	trim(&s, &len);
	trim_chars(&s, &len, "*_");
	fold(s, len, buf);
	len = drop_links(buf, len);
	while (len > 0 && buf[len - 1] == ' ')
		len--;
	for (size_t i = 0; i <= len; i++) {
		bool cut = i == len || buf[i] == ',' || buf[i] == ';' || buf[i] == '!' ||
		           buf[i] == '?' || (buf[i] == '.' && (i + 1 == len || buf[i + 1] == ' '));
		size_t skip = 1;
		const char *c;
		size_t cl;

		if (!cut && i + 2 < len && buf[i] == ' ' && buf[i + 1] == '-' &&
		    buf[i + 2] == ' ') {
			cut = true;
			skip = 3;
		}
		if (!cut)
			continue;
		c = buf + start;
		cl = i - start;
		while (cl > 0 && *c == ' ') {
			c++;
			cl--;
		}
		while (cl > 0 && c[cl - 1] == ' ')
			cl--;
		if (is_footer_clause(c, cl))
			footers++;
		else if (!is_footer_companion(c, cl))
			return false;
		start = i + skip;
		i += skip - 1;
	}
	return footers == 1;
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
	    !is_alpha(l->s[1]))
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
		classify_line(&lines[n]);
		n++;
		pos = nl != NULL ? end + 1 : len;
	}
	resolve_cites(lines, n);
	*lines_r = lines;
	return n;
}

static void
mark_attr(struct line *lines, size_t k, size_t j)
{
	for (size_t i = k; i <= j; i++)
		lines[i].kind = LINE_ATTR;
}

/* Marks attributions (as LINE_ATTR) and returns the index where the quoted
 * original starts without quoting, or n.
 *
 * Cases, in one pass over the lines:
 *   1. "-----Original Message-----", forwarded-message markers and their
 *      header block, Discourse's "Previous Replies", "reply above this
 *      line": cut here.
 *   2. An Outlook header block (From: followed by Sent:/To:/Subject:...,
 *      localised): cut here.
 *   3. An attribution ending at line j (find_attribution: wrapped over up
 *      to five lines, in many languages, with or without a verb):
 *      a. followed by a quote, or by nothing: its lines are dropped;
 *      b. followed by unquoted text, dated (ATTR_STRONG), with text of the
 *         writer above it: the unquoted original starts here, cut;
 *      c. the same at the very top (nothing written above it): only the
 *         attribution is dropped, what follows is the reply. */
static size_t
find_cut(struct line *lines, size_t n)
{
	size_t first_text = SIZE_MAX;

	for (size_t j = 0; j < n; j++) {
		enum attr_verdict v;
		size_t k = j, next;

		if (lines[j].kind != LINE_TEXT)
			continue;
		if (first_text == SIZE_MAX)
			first_text = j;
		if (is_original_marker(&lines[j]) || is_outlook_block(lines, n, j))
			return j;
		if (!may_end_attribution(&lines[j]) || !attribution_tail(lines, j))
			continue;
		v = find_attribution(lines, j, &k);
		if (v == ATTR_NO)
			continue;
		next = next_nonempty(lines, n, j + 1);
		if (next == n || lines[next].kind == LINE_QUOTE) {
			mark_attr(lines, k, j);
		} else if (v == ATTR_STRONG) {
			if (first_text < k)
				return k;
			mark_attr(lines, k, j);
		} else {
			continue;
		}
		if (first_text >= k)
			first_text = SIZE_MAX;
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
		    (rest <= MAX_MOBILE_SIG_LINES && is_mobile_signature(&lines[i])) ||
		    (is_list_footer(&lines[i]) && rest <= MAX_FOOTER_LINES) ||
		    (is_dash_name(lines, i) && rest == 0)) {
			found = i;
			break;
		}
	}
	free(after);
	return found;
}

/* Lines [start, end) joined by '\n', without attributions (and the blank
 * lines that follow one where the output already has a break), and with
 * '|' and Supercite quote markers written as '>' so that readers of the
 * result (forms, commands) see one quoting style.  One allocation: the
 * result is never longer than the input.  *changed_r says whether a line
 * was dropped or rewritten.
 *
 * Trailing white space of the last line is kept on purpose, as before:
 * the strbuf version meant to trim it, but its strbuf_truncate() got the
 * already-lowered length and so never cut anything, and results must not
 * change here (tracked separately). */
static char *
join_lines(const struct line *lines, size_t start, size_t end, bool *changed_r)
{
	size_t total = 0, pos = 0;
	bool after_attr = false, broken = true;
	char *out;

	for (size_t i = start; i < end; i++)
		total += lines[i].len + 1;
	out = xmalloc(total + 1);
	*changed_r = false;
	for (size_t i = start; i < end; i++) {
		const struct line *l = &lines[i];

		if (l->kind == LINE_ATTR || (after_attr && l->kind == LINE_EMPTY && broken)) {
			after_attr = l->kind == LINE_ATTR || after_attr;
			*changed_r = true;
			continue;
		}
		after_attr = false;
		if (pos > 0)
			out[pos++] = '\n';
		if (l->kind == LINE_QUOTE && l->qlen > 0) {
			memcpy(out + pos, l->s, l->qoff);
			pos += l->qoff;
			out[pos++] = '>';
			memcpy(out + pos, l->s + l->qoff + l->qlen, l->len - l->qoff - l->qlen);
			pos += l->len - l->qoff - l->qlen;
			*changed_r = true;
		} else {
			memcpy(out + pos, l->s, l->len);
			pos += l->len;
		}
		broken = l->kind == LINE_EMPTY;
	}
	/* attributions dropped at the end leave a blank line behind */
	while (pos > 0 && out[pos - 1] == '\n')
		pos--;
	out[pos] = '\0';
	return out;
}

/* Cases:
 *   - quoted original below the reply (top posting): cut at the earliest
 *     marker, attribution or trailing quote block, then drop the signature;
 *   - reply below a quote (bottom posting) or between quotes (inline): the
 *     quotes above new text stay as context, the trailing ones go, and the
 *     attributions go everywhere; for forms, a quote block above the reply
 *     goes too unless the writer answers between quotes;
 *   - nothing but quotes (and attributions): the writer added nothing, the
 *     result is empty; for forms, the text (a form filled in inside the
 *     quote);
 *   - nothing left otherwise (only a marker, a signature): return the text
 *     (fail open). */
char *
reply_extract_with(const char *text, size_t len, enum reply_mode mode, bool *trimmed_r)
{
	struct line *lines = NULL;
	size_t n, first_text = SIZE_MAX, last_text = SIZE_MAX, first_line, last_line;
	size_t start, end, ntext = 0, nquote = 0;
	bool changed = false, fail_open = false;
	char *result;

	if (trimmed_r != NULL)
		*trimmed_r = false;
	n = split_lines(text, len, &lines);
	first_line = next_nonempty(lines, n, 0);
	last_line = n;
	while (last_line > first_line && lines[last_line - 1].kind == LINE_EMPTY)
		last_line--;

	end = find_cut(lines, n);
	for (size_t i = 0; i < end; i++) {
		ntext += lines[i].kind == LINE_TEXT;
		nquote += lines[i].kind == LINE_QUOTE;
	}
	if (ntext == 0 && nquote > 0 && mode == REPLY_WITH_CONTEXT) {
		/* only quotes: nothing new */
		result = xstrdup("");
		if (trimmed_r != NULL)
			*trimmed_r = first_line < last_line;
		free(lines);
		return result;
	}
	/* Twice: a signature can sit above a quote that sits above a list
	 * footer, and only the first pass's cut exposes it. */
	for (int pass = 0; pass < 2 && ntext > 0; pass++) {
		end = find_signature(lines, 0, end);
		/* Separators and blank lines just above a cut belong to it. */
		while (end > 0 &&
		       (lines[end - 1].kind == LINE_EMPTY || lines[end - 1].kind == LINE_ATTR ||
		        is_separator(&lines[end - 1])))
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
	start = first_line;
	if (first_text == SIZE_MAX) {
		fail_open = true;
	} else if (mode == REPLY_FOR_FORMS) {
		bool inline_quotes = false;
		for (size_t i = first_text; i < end; i++)
			inline_quotes = inline_quotes || lines[i].kind == LINE_QUOTE;
		if (!inline_quotes)
			start = first_text;
	}
	if (fail_open || start >= end) {
		/* Fail open: everything was a marker, a signature or (for
		 * forms) a quote. */
		start = first_line;
		end = last_line;
		for (size_t i = start; i < end; i++) {
			if (lines[i].kind == LINE_ATTR)
				lines[i].kind = LINE_TEXT;
			lines[i].qlen = 0;
		}
	}
	result = join_lines(lines, start, end, &changed);
	if (trimmed_r != NULL)
		*trimmed_r = changed || start != first_line || end != last_line;
	free(lines);
	return result;
}

char *
reply_extract(const char *text, size_t len, bool *trimmed_r)
{
	return reply_extract_with(text, len, REPLY_WITH_CONTEXT, trimmed_r);
}
