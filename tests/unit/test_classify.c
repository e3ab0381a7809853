/*
 * classify_message on inline raw messages parsed by mime_parse.
 */
#include "classify.h"
#include "mime.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Parses raw and classifies it; *b_r is filled for bounces. */
static enum message_class
classify_raw(const char *raw, struct bounce_info *b_r)
{
	struct mime_message *msg = NULL;
	const char *error = NULL;
	enum message_class cls;

	assert_int_equal(mime_parse(raw, strlen(raw), NULL, &msg, &error), 0);
	cls = classify_message(msg, b_r);
	mime_message_free(&msg);
	return cls;
}

#define PLAIN_HEAD "From: Ann <ann@example.org>\nTo: mentoring@example.com\nSubject: Re: hello\n"

static const char dsn_511[] =
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
    "To: mentoring@example.com\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "I'm sorry to have to inform you that your message could not be delivered.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822; Bob@Example.NET\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected\n"
    "--B--\n";

static const char dsn_422[] =
    "From: MAILER-DAEMON@mx.example.net\n"
    "To: mentoring@example.com\n"
    "Subject: Delivery Status Notification (Delay)\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
    "\n"
    "--B\n"
    "Content-Type: text/plain\n"
    "\n"
    "Delivery is delayed.\n"
    "--B\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.net\n"
    "\n"
    "Final-Recipient: rfc822;carol@example.net\n"
    "Action: delayed\n"
    "Status: 4.2.2\n"
    "--B--\n";

static void
test_dsn_permanent(void **state)
{
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(dsn_511, &b), CLASS_BOUNCE);
	assert_true(b.permanent);
	assert_string_equal(b.status, "5.1.1");
	assert_int_equal(b.recipients.n, 1);
	assert_string_equal(b.recipients.v[0], "bob@example.net");
	assert_non_null(b.diagnostic);
	bounce_info_free(&b);
}

/* A delay notice (Action: delayed, 4.x.x) is not a bounce: the message is
 * still being tried.  It is automatic mail, and bounce_r is left empty. */
static void
test_dsn_delayed(void **state)
{
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(dsn_422, &b), CLASS_AUTO_REPLY);
	assert_null(b.status);
	assert_int_equal(b.recipients.n, 0);
	/* bounce_r may be NULL. */
	assert_int_equal(classify_raw(dsn_422, NULL), CLASS_AUTO_REPLY);
}

/* A delivery-status block with only a Diagnostic-Code names nobody; its
 * text leaked until fuzz_mime found it (LeakSanitizer fails this test in
 * the sanitizer build). */
static void
test_dsn_diagnostic_only_block(void **state)
{
	static const char raw[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "To: mentoring@example.com\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
	    "\n"
	    "--B\n"
	    "Content-Type: message/delivery-status\n"
	    "\n"
	    "Reporting-MTA: dns; mx.example.net\n"
	    "\n"
	    "Diagnostic-Code: smtp; 552 5.2.2 Over quota\n"
	    "\n"
	    "Final-Recipient: rfc822; dan@example.net\n"
	    "Action: failed\n"
	    "Status: 5.2.2\n"
	    "--B--\n";
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_string_equal(b.status, "5.2.2");
	assert_true(strvec_contains_ci(&b.recipients, "dan@example.net"));
	bounce_info_free(&b);
}

static void
test_postfix_plain_bounce(void **state)
{
	struct bounce_info b = {0};
	const char *raw = "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
	                  "To: mentoring@example.com\n"
	                  "Subject: Undelivered Mail Returned to Sender\n"
	                  "\n"
	                  "This is the mail system at host mx.example.net.\n"
	                  "\n"
	                  "I'm sorry to have to inform you that your message could not\n"
	                  "be delivered to one or more recipients.\n"
	                  "\n"
	                  "<dave@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n";

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_true(b.permanent);
	assert_int_equal(b.recipients.n, 1);
	assert_string_equal(b.recipients.v[0], "dave@example.org");
	bounce_info_free(&b);
}

static void
test_qmail_bounce(void **state)
{
	struct bounce_info b = {0};
	const char *raw = "From: MAILER-DAEMON@mx4.example.jp\n"
	                  "To: mentoring@example.com\n"
	                  "Subject: failure notice\n"
	                  "\n"
	                  "Hi. This is the qmail-send program at mx4.example.jp.\n"
	                  "I'm afraid I wasn't able to deliver your message.\n"
	                  "\n"
	                  "<erin@example.ne.jp>:\n"
	                  "Sorry, no mailbox here by that name. (#5.1.1)\n"
	                  "\n"
	                  "--- Below this line is a copy of the message.\n"
	                  "\n"
	                  "To: other@example.com\n";

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_true(b.permanent);
	assert_string_equal(b.status, "5.1.1");
	assert_int_equal(b.recipients.n, 1);
	assert_string_equal(b.recipients.v[0], "erin@example.ne.jp");
	bounce_info_free(&b);
}

/* SendGrid writes "Action: expired" (not in RFC 3464) for a message it gave
 * up on: a failure, not a successful delivery (sisimai lhost-sendgrid-03). */
static void
test_dsn_action_expired(void **state)
{
	static const char raw[] =
	    "From: MAILER-DAEMON@mx.example.net\n"
	    "To: mentoring@example.com\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
	    "\n"
	    "--B\n"
	    "Content-Type: message/delivery-status\n"
	    "\n"
	    "Final-Recipient: rfc822; fay@example.org\n"
	    "Action: expired\n"
	    "Status: \n"
	    "--B--\n";
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_true(b.permanent);
	assert_true(strvec_contains_ci(&b.recipients, "fay@example.org"));
	bounce_info_free(&b);
}

/* Exim 3: "mail failed, returning to sender" with its "|--- Failed
 * addresses follow: ---|" blocks (sisimai rfc3464-37). */
static void
test_exim3_bounce(void **state)
{
	static const char raw[] =
	    "From: Mail Delivery System <MAILER-DAEMON@example.net>\n"
	    "To: mentoring@example.com\n"
	    "Subject: Mail failed, returning to sender\n"
	    "\n"
	    "|------------------------- Failed addresses follow: ---------------------|\n"
	    " gus@nowhere.example.com ... unknown host\n"
	    "|------------------------- Message text follows: ------------------------|\n"
	    "To: other@example.com\n";
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_int_equal(b.recipients.n, 1);
	assert_string_equal(b.recipients.v[0], "gus@nowhere.example.com");
	bounce_info_free(&b);
}

/* The failed address only in the copy after "Original Message:" (Verizon,
 * sisimai lhost-verizon-01). */
static void
test_original_message_marker(void **state)
{
	static const char raw[] = "From: sysadmin@mms.example.com\n"
	                          "To: mentoring@example.com\n"
	                          "Subject: Undeliverable Message\n"
	                          "\n"
	                          "Message could not be delivered to mobile.\n"
	                          "Error: No valid recipients for this MM\n"
	                          "\n"
	                          "Original Message:\n"
	                          "From: Mentoring <mentoring@example.com>\n"
	                          "To: 5550100@mms.example.com\n";
	struct bounce_info b = {0};

	(void)state;
	assert_int_equal(classify_raw(raw, &b), CLASS_BOUNCE);
	assert_int_equal(b.recipients.n, 1);
	assert_string_equal(b.recipients.v[0], "5550100@mms.example.com");
	bounce_info_free(&b);
}

/* A delivery report from a mail system whose parts cannot be told apart
 * (the boundary parameter is cut) and that reports only deliveries is not
 * a bounce (sisimai rfc3464-28); the same fields from a person are an
 * ordinary message. */
static void
test_text_dsn_delivered(void **state)
{
	static const char raw[] =
	    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
	    "To: mentoring@example.com\n"
	    "Subject: Mail Delivery Status Report\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"2222CCCC0022.2\n"
	    "\n"
	    "This is the mail system at host mx.example.net.\n"
	    "Your message was successfully delivered to the destination(s)\n"
	    "listed below. If the message was delivered to mailbox you will\n"
	    "receive no further notifications. Otherwise you may still receive\n"
	    "notifications of mail delivery errors from other systems.\n"
	    "\n"
	    "Final-Recipient: rfc822; hal@example.org\n"
	    "Action: deliverable\n"
	    "Status: 2.1.5\n";

	(void)state;
	assert_int_equal(classify_raw(raw, NULL), CLASS_AUTO_REPLY);
	assert_int_equal(classify_raw(PLAIN_HEAD "\nNotes from today.\nAction: delivered the "
	                                         "plan\nStatus: 2 of 3 done\n",
	                              NULL),
	                 CLASS_MESSAGE);
}

static void
test_auto_submitted(void **state)
{
	(void)state;
	assert_int_equal(classify_raw(PLAIN_HEAD "Auto-Submitted: auto-replied\n\nAway.\n", NULL),
	                 CLASS_AUTO_REPLY);
	assert_int_equal(classify_raw(PLAIN_HEAD "Auto-Submitted: no\n\nHello.\n", NULL),
	                 CLASS_MESSAGE);
}

static void
test_xars_alone_is_message(void **state)
{
	(void)state;
	assert_int_equal(classify_raw(PLAIN_HEAD
	                              "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\n\n"
	                              "Hello.\n",
	                              NULL),
	                 CLASS_MESSAGE);
	assert_int_equal(classify_raw(PLAIN_HEAD "\nHello, a normal reply.\n", NULL),
	                 CLASS_MESSAGE);
}

static void
test_precedence_and_lists(void **state)
{
	(void)state;
	assert_int_equal(classify_raw(PLAIN_HEAD "Precedence: bulk\n\nNews.\n", NULL),
	                 CLASS_AUTO_REPLY);
	assert_int_equal(classify_raw(PLAIN_HEAD "List-Id: <list.example.org>\n\nPost.\n", NULL),
	                 CLASS_AUTO_REPLY);
}

static void
test_own_mail(void **state)
{
	(void)state;
	assert_int_equal(classify_raw(PLAIN_HEAD "X-Mentord: reminder\n\nReminder.\n", NULL),
	                 CLASS_AUTO_REPLY);
}

static void
test_vacation_subjects(void **state)
{
	static const char *const subjects[] = {
	    "Out of Office: Re: hello",
	    "Abwesenheitsnotiz: Treffen",
	    "Réponse automatique : Réunion",
	    "Automatic reply: meeting",
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(subjects); i++) {
		char *raw = xasprintf("From: ann@example.org\nTo: m@example.com\nSubject: %s\n\n"
		                      "I am away until Monday.\n",
		                      subjects[i]);
		assert_int_equal(classify_raw(raw, NULL), CLASS_AUTO_REPLY);
		free(raw);
	}
}

static void
test_feedback_report(void **state)
{
	const char *raw =
	    "From: abuse@isp.example\nTo: m@example.com\nSubject: complaint\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report; boundary=B\n"
	    "\n--B\nContent-Type: text/plain\n\nA complaint.\n"
	    "--B\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\n"
	    "--B--\n";

	(void)state;
	assert_int_equal(classify_raw(raw, NULL), CLASS_AUTO_REPLY);
}

static void
test_failure_words_from_a_person(void **state)
{
	(void)state;
	/* Without a bounce subject or a mail-system sender the text is not
	 * searched for failure phrases: people write them too. */
	assert_int_equal(classify_raw(PLAIN_HEAD "\nThe old address does not exist any more, "
	                                         "mail was undeliverable; user unknown.\n",
	                              NULL),
	                 CLASS_MESSAGE);
}

static void
test_soft_phrase_bounce(void **state)
{
	struct bounce_info b;

	(void)state;
	/* A bounce subject from a person's address, only a temporary failure
	 * phrase and no status: a bounce, and 4.0.0 from the soft phrase. */
	assert_int_equal(classify_raw("From: relay@example.org\nTo: mentoring@example.com\n"
	                              "Subject: Undelivered Mail\n\n"
	                              "carol@example.net: mailbox full.\n",
	                              &b),
	                 CLASS_BOUNCE);
	assert_non_null(b.status);
	assert_string_equal(b.status, "4.0.0");
	assert_false(b.permanent);
	bounce_info_free(&b);
	/* The same relay saying it will retry: a delay, not a bounce. */
	assert_int_equal(classify_raw("From: relay@example.org\nTo: mentoring@example.com\n"
	                              "Subject: Delivery delayed\n\n"
	                              "Your message is delayed, it will be retried later.\n",
	                              &b),
	                 CLASS_MESSAGE);
}

static void
test_header_names_any_case(void **state)
{
	(void)state;
	assert_int_equal(classify_raw(PLAIN_HEAD "list-id: <list.example.org>\n\nPost.\n", NULL),
	                 CLASS_AUTO_REPLY);
	assert_int_equal(classify_raw(PLAIN_HEAD "PRECEDENCE: Junk\n\nNews.\n", NULL),
	                 CLASS_AUTO_REPLY);
	/* The first Auto-Submitted field counts. */
	assert_int_equal(classify_raw(PLAIN_HEAD
	                              "Auto-Submitted: no\nauto-submitted: auto-replied\n\nHi.\n",
	                              NULL),
	                 CLASS_MESSAGE);
}

/* ---- the data-driven cases of tests/unit/data/bounces ---- */

/* Whether the comma-separated list names exactly the addresses of sv. */
static bool
same_set(const char *list, const struct strvec *sv)
{
	size_t n = 0;
	char *copy = xstrdup(list), *save = NULL;
	bool ok = true;

	for (char *a = strtok_r(copy, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
		n++;
		ok = ok && strvec_contains_ci(sv, a);
	}
	free(copy);
	return ok && n == sv->n;
}

/* One row of expect.tsv: file, kind, status, permanent, recipients, never
 * recipients ("-" for not checked).  Returns the failures. */
static int
run_bounce_row(const char *dir, char **cols)
{
	struct mime_message *msg = NULL;
	struct bounce_info b = {0};
	const char *error = NULL;
	char *path = xasprintf("%s/%s", dir, cols[0]), *data = NULL;
	size_t len = 0;
	int failures = 0;
	enum message_class cls;

	assert_int_equal(read_file(path, 1 << 20, &data, &len, &error), 0);
	assert_int_equal(mime_parse(data, len, NULL, &msg, &error), 0);
	cls = classify_message(msg, &b);
	if (strcmp(classify_name(cls), cols[1]) != 0) {
		print_error("%s: kind %s, want %s\n", cols[0], classify_name(cls), cols[1]);
		failures++;
	} else if (cls == CLASS_BOUNCE) {
		if (strcmp(cols[2], "-") != 0 &&
		    (b.status == NULL || strcmp(b.status, cols[2]) != 0)) {
			print_error("%s: status %s, want %s\n", cols[0],
			            b.status != NULL ? b.status : "(none)", cols[2]);
			failures++;
		}
		if (strcmp(cols[3], "-") != 0 && b.permanent != (cols[3][0] == '1')) {
			print_error("%s: permanent %d, want %s\n", cols[0], b.permanent, cols[3]);
			failures++;
		}
		if (strcmp(cols[4], "-") != 0 && !same_set(cols[4], &b.recipients)) {
			char *got = strvec_join(&b.recipients, ",");
			print_error("%s: recipients %s, want %s\n", cols[0], got, cols[4]);
			free(got);
			failures++;
		}
		if (strcmp(cols[5], "-") != 0) {
			char *copy = xstrdup(cols[5]), *save = NULL;
			for (char *a = strtok_r(copy, ",", &save); a != NULL;
			     a = strtok_r(NULL, ",", &save)) {
				if (strvec_contains_ci(&b.recipients, a)) {
					print_error("%s: %s taken for a failed recipient\n",
					            cols[0], a);
					failures++;
				}
			}
			free(copy);
		}
	}
	bounce_info_free(&b);
	mime_message_free(&msg);
	free(data);
	free(path);
	return failures > 0 ? 1 : 0;
}

/* Every row of tests/unit/data/bounces/expect.tsv; a "# " line names the
 * class of the rows that follow, and the counts are printed per class. */
static void
test_bounce_classes(void **state)
{
	const char *src = getenv("MENTORD_SOURCE_DIR");
	char *dir, *path, *data = NULL;
	const char *error = NULL;
	char cls_name[120] = "";
	size_t len = 0, total = 0, in_class = 0;
	int failures = 0, class_failures = 0;

	(void)state;
	assert_non_null(src);
	dir = xasprintf("%s/tests/unit/data/bounces", src);
	path = xasprintf("%s/expect.tsv", dir);
	assert_int_equal(read_file(path, 1 << 20, &data, &len, &error), 0);
	for (char *line = data, *next; line != NULL && *line != '\0'; line = next) {
		char *cols[6];
		size_t ncols = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strncmp(line, "# ", 2) == 0 && strncmp(line, "# file", 6) != 0) {
			if (in_class > 0)
				print_message("bounces/%s: %zu cases, %d failed\n", cls_name,
				              in_class, class_failures);
			snprintf(cls_name, sizeof(cls_name), "%s", line + 2);
			in_class = 0;
			class_failures = 0;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (char *p = line; ncols < 6; ncols++) {
			cols[ncols] = p;
			p = strchr(p, '\t');
			if (p == NULL) {
				ncols++;
				break;
			}
			*p++ = '\0';
		}
		assert_int_equal(ncols, 6);
		{
			int f = run_bounce_row(dir, cols);
			class_failures += f;
			failures += f;
		}
		in_class++;
		total++;
	}
	if (in_class > 0)
		print_message("bounces/%s: %zu cases, %d failed\n", cls_name, in_class,
		              class_failures);
	free(data);
	free(path);
	free(dir);
	print_message("bounces: %zu cases, %d failed\n", total, failures);
	assert_true(total > 0);
	assert_int_equal(failures, 0);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(classify_name(CLASS_MESSAGE), "message");
	assert_string_equal(classify_name(CLASS_BOUNCE), "bounce");
	assert_string_equal(classify_name(CLASS_AUTO_REPLY), "auto_reply");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dsn_permanent),
	    cmocka_unit_test(test_dsn_delayed),
	    cmocka_unit_test(test_dsn_diagnostic_only_block),
	    cmocka_unit_test(test_postfix_plain_bounce),
	    cmocka_unit_test(test_qmail_bounce),
	    cmocka_unit_test(test_dsn_action_expired),
	    cmocka_unit_test(test_exim3_bounce),
	    cmocka_unit_test(test_original_message_marker),
	    cmocka_unit_test(test_text_dsn_delivered),
	    cmocka_unit_test(test_auto_submitted),
	    cmocka_unit_test(test_xars_alone_is_message),
	    cmocka_unit_test(test_precedence_and_lists),
	    cmocka_unit_test(test_own_mail),
	    cmocka_unit_test(test_vacation_subjects),
	    cmocka_unit_test(test_feedback_report),
	    cmocka_unit_test(test_failure_words_from_a_person),
	    cmocka_unit_test(test_soft_phrase_bounce),
	    cmocka_unit_test(test_header_names_any_case),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_bounce_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
