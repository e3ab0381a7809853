/*
 * smtp_floor: libcurl alone sending n messages of a given size over k
 * reused connections with the multi interface, the way daemon/smtp.c does,
 * with nothing recorded and nothing composed.  The benchmark runs it next
 * to smtp-source and mentord, so the table shows how much of mentord's send
 * time is libcurl's own (its SMTP client sends MAIL, RCPT, DATA and the
 * final dot each in its own round trip, without PIPELINING).
 *
 *   smtp_floor URL N CONNECTIONS SIZE
 *
 * Prints the seconds taken; exits 1 on any failed send.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNECTIONS 16

struct reader {
	const char *data;
	size_t len, pos;
};

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct reader *r = userdata;
	size_t n = r->len - r->pos;

	if (n > size * nitems)
		n = size * nitems;
	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	return n;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct reader readers[MAX_CONNECTIONS];
	CURL *easy[MAX_CONNECTIONS];
	bool busy[MAX_CONNECTIONS] = {false};
	struct curl_slist *rcpt;
	CURLM *multi;
	char *msg;
	long n, k, size, started = 0, done = 0;
	double t0;
	int ret = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: smtp_floor URL N CONNECTIONS SIZE\n");
		return 2;
	}
	n = atol(argv[2]);
	k = atol(argv[3]);
	size = atol(argv[4]);
	if (n < 1 || k < 1 || k > MAX_CONNECTIONS || size < 64) {
		fprintf(stderr, "smtp_floor: bad arguments\n");
		return 2;
	}
	/* A header, then 70-character lines. */
	msg = malloc((size_t)size);
	if (msg == NULL)
		return 1;
	memset(msg, 'a', (size_t)size);
	for (long i = 72; i + 1 < size; i += 72) {
		msg[i] = '\r';
		msg[i + 1] = '\n';
	}
	memcpy(msg, "Subject: floor\r\n\r\n", 18);
	msg[size - 2] = '\r';
	msg[size - 1] = '\n';

	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	rcpt = curl_slist_append(NULL, "<sink@example.org>");
	for (long i = 0; i < k; i++)
		easy[i] = curl_easy_init();
	t0 = now_s();
	while (done < n) {
		CURLMsg *cm;
		int running, left;
		bool finished = false;

		for (long i = 0; i < k && started < n; i++) {
			if (busy[i])
				continue;
			readers[i] = (struct reader){msg, (size_t)size, 0};
			curl_easy_setopt(easy[i], CURLOPT_URL, argv[1]);
			curl_easy_setopt(easy[i], CURLOPT_MAIL_FROM, "<bench@example.org>");
			curl_easy_setopt(easy[i], CURLOPT_MAIL_RCPT, rcpt);
			curl_easy_setopt(easy[i], CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(easy[i], CURLOPT_READFUNCTION, read_cb);
			curl_easy_setopt(easy[i], CURLOPT_READDATA, &readers[i]);
			curl_easy_setopt(easy[i], CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
			curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (void *)&busy[i]);
			curl_multi_add_handle(multi, easy[i]);
			busy[i] = true;
			started++;
		}
		curl_multi_perform(multi, &running);
		while ((cm = curl_multi_info_read(multi, &left)) != NULL) {
			bool *slot;

			if (cm->msg != CURLMSG_DONE)
				continue;
			if (cm->data.result != CURLE_OK) {
				fprintf(stderr, "smtp_floor: %s\n",
				        curl_easy_strerror(cm->data.result));
				goto out;
			}
			curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
			curl_multi_remove_handle(multi, cm->easy_handle);
			*slot = false;
			done++;
			finished = true;
		}
		if (!finished)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	printf("%.3f\n", now_s() - t0);
	ret = 0;
out:
	for (long i = 0; i < k; i++)
		curl_easy_cleanup(easy[i]);
	curl_multi_cleanup(multi);
	curl_slist_free_all(rcpt);
	curl_global_cleanup();
	free(msg);
	return ret;
}
