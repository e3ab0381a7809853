/* match: see include/match.h. */
#include "match.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the greedy suggestion of today's digest ---------------------------- */

void
match_split_list(const char *s, struct strvec *out)
{
	char *copy, *save = NULL;

	if (s == NULL)
		return;
	copy = xstrdup(s);
	for (char *t = strtok_r(copy, ",;\n", &save); t != NULL;
	     t = strtok_r(NULL, ",;\n", &save)) {
		str_trim(t);
		if (*t != '\0')
			strvec_push(out, t);
	}
	free(copy);
}

int
match_score(const char *needs, const char *strengths, char **shared_r)
{
	struct strvec a = {0}, b = {0}, shared = {0};
	int score;

	match_split_list(needs, &a);
	match_split_list(strengths, &b);
	for (size_t i = 0; i < a.n; i++)
		if (strvec_contains_ci(&b, a.v[i]) && !strvec_contains_ci(&shared, a.v[i]))
			strvec_push(&shared, a.v[i]);
	score = (int)shared.n;
	if (shared_r != NULL)
		*shared_r = strvec_join(&shared, ", ");
	strvec_free(&a);
	strvec_free(&b);
	strvec_free(&shared);
	return score;
}

void
match_suggest(const struct match_candidate *mentees, size_t nmentees,
              const struct match_candidate *mentors, size_t nmentors,
              struct match_suggestion **out_r, size_t *n_r)
{
	struct match_suggestion *out = NULL;
	long *left = xcalloc(nmentors == 0 ? 1 : nmentors, sizeof(*left));
	size_t n = 0, cap = 0;

	for (size_t j = 0; j < nmentors; j++)
		left[j] = mentors[j].free_slots;
	for (size_t i = 0; i < nmentees; i++) {
		size_t best = nmentors;
		int best_score = -1;

		for (size_t j = 0; j < nmentors; j++) {
			int s;

			if (left[j] <= 0)
				continue;
			s = match_score(mentees[i].competencies, mentors[j].competencies, NULL);
			if (s > best_score || (s == best_score && left[j] > left[best])) {
				best = j;
				best_score = s;
			}
		}
		if (best == nmentors)
			break; /* no mentor has a free place */
		left[best]--;
		out = xgrow(out, &cap, n + 1, sizeof(*out));
		out[n].mentee_id = mentees[i].id;
		out[n].mentor_id = mentors[best].id;
		out[n].score = match_score(mentees[i].competencies, mentors[best].competencies,
		                           &out[n].shared);
		n++;
	}
	free(left);
	*out_r = out;
	*n_r = n;
}

void
match_suggestions_free(struct match_suggestion **list, size_t n)
{
	if (*list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((*list)[i].shared);
	free(*list);
	*list = NULL;
}

/* ---- the assignment solver ---------------------------------------------- */

/* A large array (a cost matrix), on transparent huge pages where the
 * system offers them: on some virtual machines the first-touch page faults
 * of a 4 KiB-paged 24 MB matrix cost 100 ms, as much as solving it.  The
 * caller frees it with free(). */
static void *
alloc_large(size_t bytes)
{
#ifdef MADV_HUGEPAGE
	void *p = NULL;

	if (bytes >= ((size_t)4 << 20) && posix_memalign(&p, (size_t)2 << 20, bytes) == 0) {
		(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure changes nothing */
		return p;
	}
#endif
	return xmalloc(bytes);
}

/*
 * The solver works on n rows and m groups of columns.  A group is a run of
 * identical adjacent columns (a mentor's places) and takes up to cap[g]
 * rows; every row is assigned in the end (there are at least n places, see
 * match_assign).  Reduced costs are c[i][g] - v[g]; the row potentials are
 * implicit.  Dual feasibility: c[i][g] - v[g] >= u[i] everywhere, with
 * equality where row i is in group g, so every row of a group has the same
 * reduced cost there.  When there are more places than rows, a group left
 * with room must keep v = 0 (the LP's v[g] <= 0 for a column constraint
 * that may stay slack): that start sets v = 0, and the augmentation only
 * changes the potentials of full (scanned) groups, so it holds throughout.
 */
struct lap {
	const int64_t *c;    /* row i, group g at c[i * stride + g] */
	size_t n, m, stride; /* rows, groups */
	size_t *cap, *cnt;   /* m: places, and rows in each group */
	size_t *first;       /* m: where a group's rows start in rows[] */
	size_t *rows;        /* the rows of each group, cnt[g] from first[g] */
	size_t *pos;         /* n: where a row is in rows[] */
	int64_t *v;          /* m */
	size_t *rowsol;      /* n: the group of each row, or MATCH_NONE */
	size_t *free_rows;   /* rows still to assign */
	size_t nfree;
};

static void
lap_put(struct lap *l, size_t i, size_t g)
{
	l->pos[i] = l->first[g] + l->cnt[g]++;
	l->rows[l->pos[i]] = i;
	l->rowsol[i] = g;
}

static void
lap_take(struct lap *l, size_t i)
{
	size_t g = l->rowsol[i], last = l->first[g] + --l->cnt[g];

	l->rows[l->pos[i]] = l->rows[last];
	l->pos[l->rows[last]] = l->pos[i];
	l->rowsol[i] = MATCH_NONE;
}

/* The start.  With exactly n places the potentials are free: row then
 * column reduction, v = each group's least cost less the row's least cost
 * (so a constant added to a row, such as a tie-break, does not spread
 * across the potentials).  With more places, v = 0.  Then each row in turn
 * takes the group of its least reduced cost if that has room (one with room
 * first among equals), which keeps the duals feasible (the row's potential
 * is that least reduced cost).
 * Rows left over wait for the augmentation. */
static void
lap_start(struct lap *l, bool exact)
{
	size_t n = l->n, m = l->m;
	int64_t *v = l->v;

	l->nfree = 0;
	for (size_t g = 0; g < m; g++)
		v[g] = exact ? INT64_MAX : 0;
	for (size_t i = 0; exact && i < n; i++) {
		const int64_t *ci = l->c + i * l->stride;
		int64_t u = ci[0];

		for (size_t g = 1; g < m; g++)
			u = ci[g] < u ? ci[g] : u;
		for (size_t g = 0; g < m; g++)
			v[g] = ci[g] - u < v[g] ? ci[g] - u : v[g];
	}
	for (size_t i = 0; i < n; i++) {
		const int64_t *ci = l->c + i * l->stride;
		int64_t best = ci[0] - v[0];
		size_t gmin = 0;

		bool room = l->cnt[0] < l->cap[0];

		for (size_t g = 1; g < m; g++) {
			int64_t h = ci[g] - v[g];

			if (h < best || (h == best && !room && l->cnt[g] < l->cap[g])) {
				best = h;
				gmin = g;
				room = l->cnt[g] < l->cap[g];
			}
		}
		if (room) {
			lap_put(l, i, gmin);
		} else {
			l->rowsol[i] = MATCH_NONE;
			l->free_rows[l->nfree++] = i;
		}
	}
}

/* Shortest augmenting paths (Dijkstra on reduced costs) from each free
 * row, as in Jonker and Volgenant's augmentation.  collist holds the
 * groups: [0, low) are scanned, [low, up) are at the current minimum
 * distance, [up, m) the rest.  A group with room at the minimum ends the
 * search.  Scanning a full group relaxes through each of its rows, all at
 * the group's distance (their assigned cells are tight).  Then the scanned
 * groups' potentials move by their distance below the end's, and the path
 * is flipped: each row on it moves to the next group, the free row joins. */
static void
lap_augment(struct lap *l)
{
	size_t m = l->m, stride = l->stride;
	const int64_t *c = l->c;
	int64_t *v = l->v, *d = xmalloc(m * sizeof(*d));
	size_t *pred = xmalloc(m * sizeof(*pred)), *collist = xmalloc(m * sizeof(*collist));
	const size_t *cap = l->cap, *cnt = l->cnt;

	for (size_t f = 0; f < l->nfree; f++) {
		size_t freerow = l->free_rows[f], low = 0, up = 0, last = 0, end = MATCH_NONE;
		const int64_t *cf = c + freerow * stride;
		int64_t min = 0;

		for (size_t g = 0; g < m; g++) {
			d[g] = cf[g] - v[g];
			pred[g] = freerow;
			collist[g] = g;
		}
		while (end == MATCH_NONE) {
			if (up == low) {
				/* The groups at the new minimum distance. */
				last = low;
				min = d[collist[up++]];
				for (size_t k = up; k < m; k++) {
					size_t g = collist[k];
					int64_t h = d[g];

					if (h <= min) {
						if (h < min) {
							up = low;
							min = h;
						}
						collist[k] = collist[up];
						collist[up++] = g;
					}
				}
				for (size_t k = low; k < up; k++)
					if (cnt[collist[k]] < cap[collist[k]]) {
						end = collist[k];
						break;
					}
			}
			if (end != MATCH_NONE)
				break;
			/* Scan the next group at the minimum. */
			{
				size_t g1 = collist[low++];

				for (size_t r = 0; r < cnt[g1] && end == MATCH_NONE; r++) {
					size_t i = l->rows[l->first[g1] + r];
					const int64_t *ci = c + i * stride;
					int64_t h = ci[g1] - v[g1] - min;

					for (size_t k = up; k < m; k++) {
						size_t g = collist[k];
						int64_t v2 = ci[g] - v[g] - h;

						if (v2 < d[g]) {
							pred[g] = i;
							d[g] = v2;
							if (v2 == min) {
								if (cnt[g] < cap[g]) {
									end = g;
									break;
								}
								collist[k] = collist[up];
								collist[up++] = g;
							}
						}
					}
				}
			}
		}
		for (size_t k = 0; k < last; k++) {
			size_t g = collist[k];

			v[g] += d[g] - min;
		}
		for (;;) {
			size_t i = pred[end], from = l->rowsol[i];

			if (from != MATCH_NONE)
				lap_take(l, i);
			lap_put(l, i, end);
			if (i == freerow)
				break;
			end = from;
		}
	}
	l->nfree = 0;
	free(d);
	free(pred);
	free(collist);
}

int
match_assign(const int64_t *cost, size_t rows, size_t cols, int64_t forbidden, size_t *row_col_r,
             int64_t *total_r, const char **error_r)
{
	/* Cases:
	 * 1. an empty matrix, or every cell forbidden: nothing assigned;
	 * 2. runs of identical adjacent columns become one group with that
	 *    many places (a mentor's places: the search then scans a mentor
	 *    once, not once per place);
	 * 3. more rows than columns: a last group, "unassigned", with
	 *    rows - cols places, so every row has a place;
	 * 4. a forbidden cell, and the unassigned group, cost F, more than
	 *    any assignment using one such cell fewer could cost: with n rows,
	 *    R = max - min of the allowed costs, an assignment with f of them
	 *    costs at most (n - f) * max + f * F, one with f + 1 at least
	 *    (n - f - 1) * min + (f + 1) * F, so F = n * R + min + 1 makes the
	 *    solver use as few as it can; rows on them are left unassigned;
	 * 5. with no forbidden cell, no repeated column and rows <= cols, the
	 *    caller's matrix is used as it is; otherwise a compact copy.
	 * Within a group, its rows take its columns in row order. */
	struct lap l = {0};
	int64_t *work = NULL, min = INT64_MAX, max = INT64_MIN, limit, big = 0, total = 0;
	bool any_forbidden = false, *same = NULL;
	size_t ncells, ngroups = 0, places = 0, *group_col = NULL;

	for (size_t i = 0; i < rows; i++)
		row_col_r[i] = MATCH_NONE;
	if (total_r != NULL)
		*total_r = 0;
	if (rows == 0 || cols == 0)
		return 0;
	if (cols > SIZE_MAX / sizeof(int64_t) / (rows + 1)) {
		*error_r = errorf("a %zu x %zu cost matrix is too large", rows, cols);
		return -1;
	}
	ncells = rows * cols;
	for (size_t x = 0; x < ncells; x++) {
		int64_t h = cost[x];

		if (h == forbidden) {
			any_forbidden = true;
			continue;
		}
		if (h < min)
			min = h;
		if (h > max)
			max = h;
	}
	if (min > max)
		return 0; /* every cell forbidden */

	/* Potentials stay within about n times the cost range; a quarter of
	 * int64 per row leaves room for every sum the solver forms. */
	limit = INT64_MAX / 4 / (int64_t)(rows + 2);
	if (min < -limit || max > limit) {
		*error_r = errorf("costs up to %lld are too large for a %zu x %zu assignment",
		                  (long long)(max > -min ? max : min), rows, cols);
		return -1;
	}
	if (any_forbidden || rows > cols) {
		int64_t range = max - min, room = limit - min - 1;

		if (room < 0 || (range > 0 && (int64_t)rows > room / range)) {
			*error_r =
			    errorf("costs from %lld to %lld are too far apart for a %zu x %zu "
			           "assignment where some rows may stay unassigned",
			           (long long)min, (long long)max, rows, cols);
			return -1;
		}
		big = (int64_t)rows * range + min + 1;
	}

	/* The groups: same[j] says column j repeats column j - 1. */
	same = xmalloc(cols * sizeof(*same));
	same[0] = false;
	for (size_t j = 1; j < cols; j++)
		same[j] = true;
	for (size_t i = 0; i < rows; i++) {
		const int64_t *ci = cost + i * cols;
		bool any = false;

		for (size_t j = 1; j < cols; j++) {
			same[j] = same[j] && ci[j] == ci[j - 1];
			any = any || same[j];
		}
		if (!any)
			break;
	}
	group_col = xmalloc((cols + 2) * sizeof(*group_col));
	l.cap = xcalloc(cols + 2, sizeof(*l.cap));
	for (size_t j = 0; j < cols; j++) {
		if (!same[j])
			group_col[ngroups++] = j;
		l.cap[ngroups - 1]++;
	}
	places = cols;
	if (rows > cols) {
		group_col[ngroups] = cols; /* the unassigned group */
		l.cap[ngroups++] = rows - cols;
		places = rows;
	}
	l.n = rows;
	l.m = ngroups;
	if (!any_forbidden && rows <= cols && ngroups == cols) {
		l.c = cost;
		l.stride = cols;
	} else {
		work = alloc_large(rows * ngroups * sizeof(*work));
		for (size_t i = 0; i < rows; i++)
			for (size_t g = 0; g < ngroups; g++) {
				int64_t h =
				    group_col[g] < cols ? cost[i * cols + group_col[g]] : forbidden;

				work[i * ngroups + g] = h == forbidden ? big : h;
			}
		l.c = work;
		l.stride = ngroups;
	}
	l.cnt = xcalloc(ngroups, sizeof(*l.cnt));
	l.first = xmalloc(ngroups * sizeof(*l.first));
	for (size_t g = 0, at = 0; g < ngroups; g++) {
		l.first[g] = at;
		at += l.cap[g];
	}
	l.rows = xmalloc(places * sizeof(*l.rows));
	l.pos = xmalloc(rows * sizeof(*l.pos));
	l.v = xmalloc(ngroups * sizeof(*l.v));
	l.rowsol = xmalloc(rows * sizeof(*l.rowsol));
	l.free_rows = xmalloc(rows * sizeof(*l.free_rows));
	lap_start(&l, places == rows);
	lap_augment(&l);

	/* Each group's rows, in row order, take its columns in order. */
	memset(l.cnt, 0, ngroups * sizeof(*l.cnt));
	for (size_t i = 0; i < rows; i++) {
		size_t g = l.rowsol[i], col = group_col[g];

		if (col >= cols || cost[i * cols + col] == forbidden)
			continue; /* the unassigned group, or a forbidden pair */
		col += l.cnt[g]++;
		row_col_r[i] = col;
		total += cost[i * cols + col];
	}
	if (total_r != NULL)
		*total_r = total;
	free(same);
	free(group_col);
	free(work);
	free(l.cap);
	free(l.cnt);
	free(l.first);
	free(l.rows);
	free(l.pos);
	free(l.v);
	free(l.rowsol);
	free(l.free_rows);
	return 0;
}

/* ---- names, sets and features ------------------------------------------- */

/* Interned names: each distinct name (ASCII case and surrounding spaces
 * ignored) gets a small integer, so that sets are bitsets and equality is
 * an integer comparison. */
struct names {
	char **key; /* owned, folded */
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1, 0 empty */
	size_t nslot; /* a power of 2 */
};

static size_t
fold_name(const char *s, struct strbuf *out)
{
	size_t len;

	strbuf_truncate(out, 0);
	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	                   s[len - 1] == '\n'))
		len--;
	for (size_t i = 0; i < len; i++)
		strbuf_addc(out, ascii_lower(s[i]));
	return len;
}

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Where the folded name f is, or the empty slot where it would go. */
static size_t
names_slot(const struct names *t, const char *f)
{
	size_t x = hash_name(f) & (t->nslot - 1);

	while (t->slot[x] != 0 && strcmp(t->key[t->slot[x] - 1], f) != 0)
		x = (x + 1) & (t->nslot - 1);
	return x;
}

/* The id of s; MATCH_NONE for an empty or unknown name. */
static size_t
names_find(const struct names *t, const char *s)
{
	struct strbuf f = {0};
	size_t id = MATCH_NONE, x;

	if (fold_name(s, &f) > 0 && t->nslot > 0) {
		x = names_slot(t, f.buf);
		if (t->slot[x] != 0)
			id = t->slot[x] - 1;
	}
	strbuf_free(&f);
	return id;
}

/* The id of s, added if new; MATCH_NONE for an empty name. */
static size_t
names_add(struct names *t, const char *s)
{
	struct strbuf f = {0};
	size_t id = MATCH_NONE, x;

	if (fold_name(s, &f) == 0)
		goto out;
	if ((t->n + 1) * 2 > t->nslot) {
		t->nslot = t->nslot == 0 ? 64 : t->nslot * 2;
		free(t->slot);
		t->slot = xcalloc(t->nslot, sizeof(*t->slot));
		for (size_t k = 0; k < t->n; k++)
			t->slot[names_slot(t, t->key[k])] = k + 1;
	}
	x = names_slot(t, f.buf);
	if (t->slot[x] != 0) {
		id = t->slot[x] - 1;
		goto out;
	}
	t->key = xgrow(t->key, &t->cap, t->n + 1, sizeof(*t->key));
	t->key[t->n] = strbuf_detach(&f);
	t->slot[x] = t->n + 1;
	id = t->n++;
out:
	strbuf_free(&f);
	return id;
}

static void
names_free(struct names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->key[i]);
	free(t->key);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static size_t
bits_words(size_t nbits)
{
	return nbits == 0 ? 1 : (nbits + 63) / 64;
}

static bool
bit_test(const uint64_t *w, size_t b)
{
	return (w[b / 64] >> (b % 64)) & 1;
}

static void
bit_set(uint64_t *w, size_t b)
{
	w[b / 64] |= (uint64_t)1 << (b % 64);
}

/* Bits set in x, without the library call a compiler makes for
 * __builtin_popcountll when the target has no popcount instruction. */
static size_t
popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (size_t)((x * 0x0101010101010101ULL) >> 56);
}

static size_t
bits_common(const uint64_t *a, const uint64_t *b, size_t words)
{
	size_t n = 0;

	for (size_t i = 0; i < words; i++)
		n += popcount64(a[i] & b[i]);
	return n;
}

/* What the rules compare, for one list of people. */
struct features {
	size_t n;
	uint64_t *topics;                      /* owned; n x topic words */
	uint64_t *avail;                       /* owned; n x availability words */
	bool *has_avail;                       /* owned */
	size_t *division, *supervisor, *email; /* owned; ids, or MATCH_NONE */
	size_t ntopics;                        /* distinct topics of this person, max */
};

/* The namespaces shared by the lists compared with each other. */
struct spaces {
	struct names topics, avail, divisions, addresses;
};

static void
features_intern(struct spaces *sp, const struct match_person *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < p[i].ntopics; k++)
			names_add(&sp->topics, p[i].topics[k]);
		for (size_t k = 0; k < p[i].navailability; k++)
			names_add(&sp->avail, p[i].availability[k]);
		names_add(&sp->divisions, p[i].division);
		names_add(&sp->addresses, p[i].supervisor);
		names_add(&sp->addresses, p[i].email);
	}
}

static void
features_build(struct spaces *sp, const struct match_person *p, size_t n, struct features *f)
{
	size_t tw = bits_words(sp->topics.n), aw = bits_words(sp->avail.n);

	f->n = n;
	f->topics = xcalloc(n * tw + 1, sizeof(*f->topics));
	f->avail = xcalloc(n * aw + 1, sizeof(*f->avail));
	f->has_avail = xcalloc(n + 1, sizeof(*f->has_avail));
	f->division = xmalloc((n + 1) * sizeof(*f->division));
	f->supervisor = xmalloc((n + 1) * sizeof(*f->supervisor));
	f->email = xmalloc((n + 1) * sizeof(*f->email));
	f->ntopics = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t *t = f->topics + i * tw, *a = f->avail + i * aw;
		size_t count;

		for (size_t k = 0; k < p[i].ntopics; k++) {
			size_t id = names_find(&sp->topics, p[i].topics[k]);

			if (id != MATCH_NONE)
				bit_set(t, id);
		}
		for (size_t k = 0; k < p[i].navailability; k++) {
			size_t id = names_find(&sp->avail, p[i].availability[k]);

			if (id != MATCH_NONE) {
				bit_set(a, id);
				f->has_avail[i] = true;
			}
		}
		count = bits_common(t, t, tw);
		if (count > f->ntopics)
			f->ntopics = count;
		f->division[i] = names_find(&sp->divisions, p[i].division);
		f->supervisor[i] = names_find(&sp->addresses, p[i].supervisor);
		f->email[i] = names_find(&sp->addresses, p[i].email);
	}
}

static void
features_free(struct features *f)
{
	free(f->topics);
	free(f->avail);
	free(f->has_avail);
	free(f->division);
	free(f->supervisor);
	free(f->email);
	memset(f, 0, sizeof(*f));
}

static void
spaces_free(struct spaces *sp)
{
	names_free(&sp->topics);
	names_free(&sp->avail);
	names_free(&sp->divisions);
	names_free(&sp->addresses);
}

/* Appends s without surrounding spaces. */
static void
add_trimmed(struct strbuf *sb, const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
	                   s[len - 1] == '\n'))
		len--;
	strbuf_add(sb, s, len);
}

/* Appends the names of list[0..n) whose id is set in `in` (each once, in
 * the list's order and spelling), ", " separated; returns how many. */
static size_t
add_names_in(struct strbuf *sb, const struct names *space, const char *const *list, size_t n,
             const uint64_t *in, size_t max)
{
	uint64_t *seen = xcalloc(bits_words(space->n), sizeof(*seen));
	size_t count = 0;

	for (size_t k = 0; k < n; k++) {
		size_t id = names_find(space, list[k]);

		if (id == MATCH_NONE || !bit_test(in, id) || bit_test(seen, id))
			continue;
		bit_set(seen, id);
		if (count < max) {
			if (count > 0)
				strbuf_adds(sb, ", ");
			add_trimmed(sb, list[k]);
		}
		count++;
	}
	if (count > max)
		strbuf_addf(sb, " and %zu more", count - max);
	free(seen);
	return count;
}

static int
compare_id_order(const void *a, const void *b, const struct match_person *p)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (p[x].id != p[y].id)
		return p[x].id < p[y].id ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* qsort has no context argument: the list being sorted is passed here. */
static _Thread_local const struct match_person *sort_people;

static int
compare_by_id(const void *a, const void *b)
{
	return compare_id_order(a, b, sort_people);
}

/* Fills order[0..n) with the indexes of p in id order; -1 on a duplicate
 * id. */
static int
order_by_id(const struct match_person *p, size_t n, size_t *order, const char *what,
            const char **error_r)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_people = p;
	qsort(order, n, sizeof(*order), compare_by_id);
	sort_people = NULL;
	for (size_t i = 1; i < n; i++)
		if (p[order[i]].id == p[order[i - 1]].id) {
			*error_r =
			    errorf("two %s have the id %lld", what, (long long)p[order[i]].id);
			return -1;
		}
	return 0;
}

static int
compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static const char *
units(const char *plural, const char *singular, long n)
{
	if (n == 1 || n == -1)
		return singular != NULL ? singular : "level";
	return plural != NULL ? plural : "levels";
}

/* ---- pairs -------------------------------------------------------------- */

/* Why a pair is refused (bits). */
enum refusal {
	REFUSE_SHARED = 1 << 0,
	REFUSE_LEVEL = 1 << 1,
	REFUSE_DIVISION = 1 << 2,
	REFUSE_SUPERVISED = 1 << 3, /* the mentor is the mentee's supervisor */
	REFUSE_SAME_SUPERVISOR = 1 << 4,
	REFUSE_AVAILABILITY = 1 << 5,
	REFUSE_BEFORE = 1 << 6, /* paired before (rules.avoid) */
};
#define NREFUSALS 7

/* Weights are capped so that every score and cost is far from overflow. */
#define MAX_WEIGHT 1000000L
/* Cells of the cost matrix at most (8 bytes each). */
#define MAX_CELLS ((size_t)64 * 1024 * 1024)

struct pair_ctx {
	const struct match_person *mentees, *mentors;
	size_t nmentees, nmentors;
	const struct match_rules *rules;
	struct spaces sp;
	struct features fe, fo; /* mentees, mentors */
	size_t tw, aw;
};

static void
pair_ctx_init(struct pair_ctx *c, const struct match_person *mentees, size_t nmentees,
              const struct match_person *mentors, size_t nmentors, const struct match_rules *rules)
{
	memset(c, 0, sizeof(*c));
	c->mentees = mentees;
	c->mentors = mentors;
	c->nmentees = nmentees;
	c->nmentors = nmentors;
	c->rules = rules;
	features_intern(&c->sp, mentees, nmentees);
	features_intern(&c->sp, mentors, nmentors);
	features_build(&c->sp, mentees, nmentees, &c->fe);
	features_build(&c->sp, mentors, nmentors, &c->fo);
	c->tw = bits_words(c->sp.topics.n);
	c->aw = bits_words(c->sp.avail.n);
}

static void
pair_ctx_free(struct pair_ctx *c)
{
	features_free(&c->fe);
	features_free(&c->fo);
	spaces_free(&c->sp);
}

/* The score of mentee i with mentor j (indexes into the inputs), and in
 * *refused_r the rules that refuse the pair (0 if none). */
static int64_t
pair_eval(const struct pair_ctx *c, size_t i, size_t j, unsigned *refused_r)
{
	const struct match_rules *r = c->rules;
	const struct match_person *e = &c->mentees[i], *o = &c->mentors[j];
	unsigned refused = 0;
	int64_t score = 0;

	if (r->shared_mode != MATCH_OFF) {
		size_t shared =
		    bits_common(c->fe.topics + i * c->tw, c->fo.topics + j * c->tw, c->tw);

		score += r->weight_shared * (int64_t)shared;
		if (shared == 0 && r->shared_mode == MATCH_REQUIRE)
			refused |= REFUSE_SHARED;
	}
	if (r->level_mode != MATCH_OFF && e->level != MATCH_LEVEL_UNKNOWN &&
	    o->level != MATCH_LEVEL_UNKNOWN) {
		if (o->level - e->level >= r->level_gap)
			score += r->weight_level;
		else if (r->level_mode == MATCH_REQUIRE)
			refused |= REFUSE_LEVEL;
	}
	if (r->division_mode != MATCH_OFF && c->fe.division[i] != MATCH_NONE &&
	    c->fo.division[j] != MATCH_NONE) {
		if (c->fe.division[i] != c->fo.division[j])
			score += r->weight_division;
		else if (r->division_mode == MATCH_REQUIRE)
			refused |= REFUSE_DIVISION;
	}
	if (r->supervisor_mode != MATCH_OFF) {
		size_t sup = c->fe.supervisor[i];

		if (sup != MATCH_NONE && sup == c->fo.email[j])
			refused |= REFUSE_SUPERVISED;
		if (sup != MATCH_NONE && c->fo.supervisor[j] != MATCH_NONE) {
			if (sup != c->fo.supervisor[j])
				score += r->weight_supervisor;
			else if (r->supervisor_mode == MATCH_REQUIRE)
				refused |= REFUSE_SAME_SUPERVISOR;
		}
	}
	if (r->availability_mode != MATCH_OFF && c->fe.has_avail[i] && c->fo.has_avail[j]) {
		if (bits_common(c->fe.avail + i * c->aw, c->fo.avail + j * c->aw, c->aw) > 0)
			score += r->weight_availability;
		else if (r->availability_mode == MATCH_REQUIRE)
			refused |= REFUSE_AVAILABILITY;
	}
	for (size_t k = 0; k < r->navoid; k++)
		if (r->avoid[k].a == e->id && r->avoid[k].b == o->id)
			refused |= REFUSE_BEFORE;
	*refused_r = refused;
	return score;
}

/* "shares Communication, Change Leadership; 8 years more experience;
 * different division; both free Tuesday morning" */
static char *
pair_reason(const struct pair_ctx *c, size_t i, size_t j)
{
	const struct match_rules *r = c->rules;
	const struct match_person *e = &c->mentees[i], *o = &c->mentors[j];
	struct strbuf sb = {0};
	const struct names *topics = &c->sp.topics, *avail = &c->sp.avail;

	if (r->shared_mode != MATCH_OFF) {
		uint64_t *common = xcalloc(c->tw, sizeof(*common));
		const uint64_t *a = c->fe.topics + i * c->tw, *b = c->fo.topics + j * c->tw;

		for (size_t w = 0; w < c->tw; w++)
			common[w] = a[w] & b[w];
		strbuf_adds(&sb, "shares ");
		if (add_names_in(&sb, topics, e->topics, e->ntopics, common, 6) == 0) {
			strbuf_truncate(&sb, 0);
			strbuf_adds(&sb, "no need in common");
		}
		free(common);
	}
	if (r->level_mode != MATCH_OFF) {
		if (sb.len > 0)
			strbuf_adds(&sb, "; ");
		if (e->level == MATCH_LEVEL_UNKNOWN || o->level == MATCH_LEVEL_UNKNOWN) {
			strbuf_adds(&sb, "experience not given");
		} else {
			long gap = o->level - e->level;

			if (gap == 0)
				strbuf_adds(&sb, "same experience");
			else
				strbuf_addf(&sb, "%ld %s %s experience", gap > 0 ? gap : -gap,
				            units(r->level_units, r->level_unit, gap),
				            gap > 0 ? "more" : "less");
		}
	}
	if (r->division_mode != MATCH_OFF) {
		if (sb.len > 0)
			strbuf_adds(&sb, "; ");
		if (c->fe.division[i] == MATCH_NONE || c->fo.division[j] == MATCH_NONE)
			strbuf_adds(&sb, "division not given");
		else if (c->fe.division[i] != c->fo.division[j])
			strbuf_adds(&sb, "different division");
		else
			strbuf_adds(&sb, "same division");
	}
	if (r->supervisor_mode != MATCH_OFF && c->fe.supervisor[i] != MATCH_NONE &&
	    c->fe.supervisor[i] == c->fo.supervisor[j]) {
		if (sb.len > 0)
			strbuf_adds(&sb, "; ");
		strbuf_adds(&sb, "same supervisor");
	}
	if (r->availability_mode != MATCH_OFF) {
		if (sb.len > 0)
			strbuf_adds(&sb, "; ");
		if (!c->fe.has_avail[i] || !c->fo.has_avail[j]) {
			strbuf_adds(&sb, "availability not given");
		} else {
			uint64_t *common = xcalloc(c->aw, sizeof(*common));
			const uint64_t *a = c->fe.avail + i * c->aw, *b = c->fo.avail + j * c->aw;
			size_t mark = sb.len;

			for (size_t w = 0; w < c->aw; w++)
				common[w] = a[w] & b[w];
			strbuf_adds(&sb, "both free ");
			if (add_names_in(&sb, avail, e->availability, e->navailability, common,
			                 4) == 0) {
				strbuf_truncate(&sb, mark);
				strbuf_adds(&sb, "no common free time");
			}
			free(common);
		}
	}
	if (sb.len == 0)
		strbuf_adds(&sb, "no criteria set");
	return strbuf_detach(&sb);
}

/* "3 in the same division, 1 their supervisor": how many of the other side
 * each refusal excluded. */
static void
add_refusal_counts(struct strbuf *sb, const size_t counts[NREFUSALS], const struct match_rules *r,
                   bool mentee_view)
{
	bool first = true;

	for (int k = 0; k < NREFUSALS; k++) {
		if (counts[k] == 0)
			continue;
		strbuf_addf(sb, "%s%zu ", first ? "" : ", ", counts[k]);
		first = false;
		switch (1 << k) {
		case REFUSE_SHARED:
			strbuf_adds(sb, mentee_view ? "with none of their needs as a strength"
			                            : "with no need among their strengths");
			break;
		case REFUSE_LEVEL:
			strbuf_addf(sb, "without a %ld-%s experience gap", r->level_gap,
			            units(r->level_units, r->level_unit, 1));
			break;
		case REFUSE_DIVISION:
			strbuf_adds(sb, "in the same division");
			break;
		case REFUSE_SUPERVISED:
			strbuf_adds(sb, mentee_view ? "their supervisor" : "supervised by them");
			break;
		case REFUSE_SAME_SUPERVISOR:
			strbuf_adds(sb, "with the same supervisor");
			break;
		case REFUSE_AVAILABILITY:
			strbuf_adds(sb, "with no common free time");
			break;
		case REFUSE_BEFORE:
			strbuf_adds(sb,
			            mentee_view ? "their mentor before" : "their mentee before");
			break;
		}
	}
}

/* Appends up to 5 ids, "4, 7, 9, 12, 15 and 3 more". */
static void
add_ids(struct strbuf *sb, const int64_t *ids, size_t n)
{
	for (size_t k = 0; k < n && k < 5; k++)
		strbuf_addf(sb, "%s%lld", k == 0 ? "" : ", ", (long long)ids[k]);
	if (n > 5)
		strbuf_addf(sb, " and %zu more", n - 5);
}

/* Why mentee i has no mentor.  Cases:
 * 1. no mentor has a free place;
 * 2. every mentor with a place is refused by the rules: one rule alone gets
 *    its own sentence ("no mentor outside Finance has a free place"),
 *    several are counted;
 * 3. some mentors fit, and the optimal pairing gave their places to others. */
static char *
mentee_reason(const struct pair_ctx *c, size_t i)
{
	const struct match_rules *r = c->rules;
	struct strbuf sb = {0};
	size_t counts[NREFUSALS] = {0}, with_place = 0, nfit = 0, fitcap = 0;
	unsigned all = 0;
	int64_t *fit = NULL;

	for (size_t j = 0; j < c->nmentors; j++) {
		unsigned refused;

		if (c->mentors[j].capacity <= 0)
			continue;
		with_place++;
		pair_eval(c, i, j, &refused);
		if (refused == 0) {
			fit = xgrow(fit, &fitcap, nfit + 1, sizeof(*fit));
			fit[nfit++] = c->mentors[j].id;
			continue;
		}
		all |= refused;
		for (int k = 0; k < NREFUSALS; k++)
			counts[k] += (refused >> k) & 1;
	}
	if (with_place == 0) {
		strbuf_adds(&sb, "no mentor has a free place");
	} else if (nfit > 0) {
		qsort(fit, nfit, sizeof(*fit), compare_int64);
		strbuf_adds(&sb, nfit == 1 ? "the mentor who fits (" : "the mentors who fit (");
		add_ids(&sb, fit, nfit);
		strbuf_adds(&sb, nfit == 1 ? ") is" : ") are");
		strbuf_adds(&sb, " taken by other mentees in the best overall pairing");
	} else if (all == REFUSE_DIVISION) {
		strbuf_adds(&sb, "no mentor outside ");
		add_trimmed(&sb, c->mentees[i].division);
		strbuf_adds(&sb, " has a free place");
	} else if (all == REFUSE_LEVEL) {
		strbuf_addf(&sb, "no mentor with a free place has at least %ld %s more experience",
		            r->level_gap, units(r->level_units, r->level_unit, r->level_gap));
	} else if (all == REFUSE_SHARED) {
		strbuf_adds(&sb,
		            "no mentor with a free place has any of their needs as a strength");
	} else if (all == REFUSE_AVAILABILITY) {
		strbuf_adds(&sb, "no mentor with a free place shares a free time with them");
	} else if (all == REFUSE_SAME_SUPERVISOR) {
		strbuf_adds(&sb, "every mentor with a free place has the same supervisor as them");
	} else if (all == REFUSE_SUPERVISED && with_place == 1) {
		strbuf_adds(&sb, "the only mentor with a free place is their supervisor");
	} else {
		strbuf_addf(&sb, "none of the %zu mentor%s with a free place fits: ", with_place,
		            with_place == 1 ? "" : "s");
		add_refusal_counts(&sb, counts, r, true);
	}
	free(fit);
	return strbuf_detach(&sb);
}

/* Why mentor j, with a free place, has no mentee: no mentee at all; every
 * mentee refused (counted); or those who fit are better paired elsewhere. */
static char *
mentor_reason(const struct pair_ctx *c, size_t j)
{
	struct strbuf sb = {0};
	size_t counts[NREFUSALS] = {0}, nfit = 0, fitcap = 0;
	unsigned all = 0;
	int64_t *fit = NULL;

	for (size_t i = 0; i < c->nmentees; i++) {
		unsigned refused;

		pair_eval(c, i, j, &refused);
		if (refused == 0) {
			fit = xgrow(fit, &fitcap, nfit + 1, sizeof(*fit));
			fit[nfit++] = c->mentees[i].id;
			continue;
		}
		all |= refused;
		for (int k = 0; k < NREFUSALS; k++)
			counts[k] += (refused >> k) & 1;
	}
	if (c->nmentees == 0) {
		strbuf_adds(&sb, "no mentee to pair");
	} else if (nfit > 0) {
		qsort(fit, nfit, sizeof(*fit), compare_int64);
		strbuf_adds(&sb, nfit == 1 ? "the mentee who fits (" : "the mentees who fit (");
		add_ids(&sb, fit, nfit);
		strbuf_adds(&sb, nfit == 1 ? ") is" : ") are");
		strbuf_adds(&sb, " paired with other mentors in the best overall pairing");
	} else if (all == REFUSE_DIVISION) {
		strbuf_adds(&sb, "no mentee outside ");
		add_trimmed(&sb, c->mentors[j].division);
		strbuf_adds(&sb, " is waiting");
	} else {
		strbuf_addf(&sb, "none of the %zu mentee%s fits: ", c->nmentees,
		            c->nmentees == 1 ? "" : "s");
		add_refusal_counts(&sb, counts, c->rules, false);
	}
	free(fit);
	return strbuf_detach(&sb);
}

static int
check_weight(const char *name, long w, const char **error_r)
{
	if (w < 0 || w > MAX_WEIGHT) {
		*error_r = errorf("%s is %ld; weights go from 0 to %ld", name, w, MAX_WEIGHT);
		return -1;
	}
	return 0;
}

static int
check_rules(const struct match_rules *r, const char **error_r)
{
	if (check_weight("the shared-need weight", r->weight_shared, error_r) < 0 ||
	    check_weight("the level weight", r->weight_level, error_r) < 0 ||
	    check_weight("the division weight", r->weight_division, error_r) < 0 ||
	    check_weight("the supervisor weight", r->weight_supervisor, error_r) < 0 ||
	    check_weight("the availability weight", r->weight_availability, error_r) < 0)
		return -1;
	return 0;
}

/* Builds the matrix and, when ctx_r is not NULL, leaves the evaluation
 * context there for the caller (who frees it with pair_ctx_free). */
static int
pair_matrix(const struct match_person *mentees, size_t nmentees, const struct match_person *mentors,
            size_t nmentors, const struct match_rules *rules, struct match_matrix **matrix_r,
            struct pair_ctx *ctx_r, const char **error_r)
{
	struct match_matrix *mx = NULL;
	struct pair_ctx ctx;
	size_t *oe = xmalloc((nmentees + 1) * sizeof(*oe));
	size_t *oo = xmalloc((nmentors + 1) * sizeof(*oo));
	size_t *colbase = xmalloc((nmentors + 1) * sizeof(*colbase));
	size_t cols = 0, k;
	uint64_t max_score = 0, scale, per_pair, limit;
	bool have_ctx = false;
	int ret = -1;

	if (check_rules(rules, error_r) < 0 ||
	    order_by_id(mentees, nmentees, oe, "mentees", error_r) < 0 ||
	    order_by_id(mentors, nmentors, oo, "mentors", error_r) < 0)
		goto out;
	for (size_t q = 0; q < nmentors; q++) {
		long cap = mentors[oo[q]].capacity;

		if (cap < 0) {
			*error_r = errorf("mentor %lld has a capacity of %ld",
			                  (long long)mentors[oo[q]].id, cap);
			goto out;
		}
		colbase[q] = cols;
		if ((size_t)cap > MAX_CELLS - cols) {
			*error_r = errorf("mentors offer more than %zu places", MAX_CELLS);
			goto out;
		}
		cols += (size_t)cap;
	}
	if (cols > 0 && nmentees > MAX_CELLS / cols) {
		*error_r = errorf("%zu mentees and %zu mentor places are too many to pair at once "
		                  "(at most %zu pairs)",
		                  nmentees, cols, MAX_CELLS);
		goto out;
	}
	pair_ctx_init(&ctx, mentees, nmentees, mentors, nmentors, rules);
	have_ctx = true;

	/* The scale B and the room the solver needs (see match_assign). */
	if (rules->shared_mode != MATCH_OFF)
		max_score += (uint64_t)rules->weight_shared * ctx.fe.ntopics;
	if (rules->level_mode != MATCH_OFF)
		max_score += (uint64_t)rules->weight_level;
	if (rules->division_mode != MATCH_OFF)
		max_score += (uint64_t)rules->weight_division;
	if (rules->supervisor_mode != MATCH_OFF)
		max_score += (uint64_t)rules->weight_supervisor;
	if (rules->availability_mode != MATCH_OFF)
		max_score += (uint64_t)rules->weight_availability;
	/* At most k pairs, each adding a tie-break below nmentees + nmentors;
	 * match_assign needs nmentees * (cost range) + 1 within its limit. */
	k = nmentees < cols ? nmentees : cols;
	scale = (uint64_t)k * (nmentees + nmentors) + 1;
	limit = (uint64_t)(INT64_MAX / 4 / (int64_t)(nmentees + 2)) / (nmentees + 1);
	per_pair = limit / scale;
	if (per_pair < 2 || max_score > per_pair - 2 ||
	    max_score * scale + nmentees + nmentors + 1 > limit) {
		*error_r = errorf("%zu mentees and %zu mentors with scores up to %llu are too many "
		                  "for exact matching",
		                  nmentees, nmentors, (unsigned long long)max_score);
		goto out;
	}

	mx = xcalloc(1, sizeof(*mx));
	mx->rows = nmentees;
	mx->cols = cols;
	mx->forbidden = INT64_MAX;
	mx->scale = (int64_t)scale;
	mx->cost = alloc_large((nmentees * cols + 1) * sizeof(*mx->cost));
	mx->row_mentee = xmalloc((nmentees + 1) * sizeof(*mx->row_mentee));
	mx->col_mentor = xmalloc((cols + 1) * sizeof(*mx->col_mentor));
	for (size_t q = 0; q < nmentors; q++)
		for (long s = 0; s < mentors[oo[q]].capacity; s++)
			mx->col_mentor[colbase[q] + (size_t)s] = oo[q];
	for (size_t r = 0; r < nmentees; r++) {
		int64_t *row = mx->cost + r * cols;

		mx->row_mentee[r] = oe[r];
		for (size_t q = 0; q < nmentors; q++) {
			long cap = mentors[oo[q]].capacity;
			unsigned refused;
			int64_t score, cell;

			if (cap == 0)
				continue;
			score = pair_eval(&ctx, oe[r], oo[q], &refused);
			cell = refused != 0 ? INT64_MAX
			                    : -score * (int64_t)scale + (int64_t)r + (int64_t)q;
			for (long s = 0; s < cap; s++)
				row[colbase[q] + (size_t)s] = cell;
		}
	}
	*matrix_r = mx;
	mx = NULL;
	if (ctx_r != NULL) {
		*ctx_r = ctx;
		have_ctx = false;
	}
	ret = 0;
out:
	if (have_ctx)
		pair_ctx_free(&ctx);
	match_matrix_free(&mx);
	free(oe);
	free(oo);
	free(colbase);
	return ret;
}

int
match_pair_matrix(const struct match_person *mentees, size_t nmentees,
                  const struct match_person *mentors, size_t nmentors,
                  const struct match_rules *rules, struct match_matrix **matrix_r,
                  const char **error_r)
{
	return pair_matrix(mentees, nmentees, mentors, nmentors, rules, matrix_r, NULL, error_r);
}

void
match_matrix_free(struct match_matrix **matrix)
{
	if (*matrix == NULL)
		return;
	free((*matrix)->cost);
	free((*matrix)->row_mentee);
	free((*matrix)->col_mentor);
	free(*matrix);
	*matrix = NULL;
}

static void
add_unmatched(struct match_result *res, size_t *cap, enum match_role role, size_t index, int64_t id,
              char *reason)
{
	struct match_unmatched *u;

	res->unmatched = xgrow(res->unmatched, cap, res->nunmatched + 1, sizeof(*res->unmatched));
	u = &res->unmatched[res->nunmatched++];
	u->role = role;
	u->index = index;
	u->id = id;
	u->reason = reason;
}

int
match_pairs(const struct match_person *mentees, size_t nmentees, const struct match_person *mentors,
            size_t nmentors, const struct match_rules *rules, struct match_result **result_r,
            const char **error_r)
{
	struct match_matrix *mx = NULL;
	struct match_result *res = NULL;
	struct pair_ctx ctx;
	size_t *row_col = NULL, *used = NULL, *oo = NULL, ucap = 0;
	bool have_ctx = false;
	int ret = -1;

	if (pair_matrix(mentees, nmentees, mentors, nmentors, rules, &mx, &ctx, error_r) < 0)
		goto out;
	have_ctx = true;
	row_col = xmalloc((mx->rows + 1) * sizeof(*row_col));
	if (match_assign(mx->cost, mx->rows, mx->cols, mx->forbidden, row_col, NULL, error_r) < 0)
		goto out;

	res = xcalloc(1, sizeof(*res));
	res->pairs = xcalloc(mx->rows + 1, sizeof(*res->pairs));
	used = xcalloc(nmentors + 1, sizeof(*used));
	for (size_t r = 0; r < mx->rows; r++) {
		struct match_pair *p;
		unsigned refused;

		if (row_col[r] == MATCH_NONE)
			continue;
		p = &res->pairs[res->npairs++];
		p->mentee = mx->row_mentee[r];
		p->mentor = mx->col_mentor[row_col[r]];
		p->mentee_id = mentees[p->mentee].id;
		p->mentor_id = mentors[p->mentor].id;
		p->score = pair_eval(&ctx, p->mentee, p->mentor, &refused);
		p->reason = pair_reason(&ctx, p->mentee, p->mentor);
		res->total_score += p->score;
		used[p->mentor]++;
	}
	for (size_t r = 0; r < mx->rows; r++)
		if (row_col[r] == MATCH_NONE)
			add_unmatched(res, &ucap, MATCH_ROLE_MENTEE, mx->row_mentee[r],
			              mentees[mx->row_mentee[r]].id,
			              mentee_reason(&ctx, mx->row_mentee[r]));
	oo = xmalloc((nmentors + 1) * sizeof(*oo));
	if (order_by_id(mentors, nmentors, oo, "mentors", error_r) < 0)
		goto out;
	for (size_t q = 0; q < nmentors; q++)
		if (mentors[oo[q]].capacity > 0 && used[oo[q]] == 0)
			add_unmatched(res, &ucap, MATCH_ROLE_MENTOR, oo[q], mentors[oo[q]].id,
			              mentor_reason(&ctx, oo[q]));
	*result_r = res;
	res = NULL;
	ret = 0;
out:
	if (have_ctx)
		pair_ctx_free(&ctx);
	match_result_free(&res);
	match_matrix_free(&mx);
	free(row_col);
	free(used);
	free(oo);
	return ret;
}

void
match_result_free(struct match_result **result)
{
	struct match_result *res = *result;

	if (res == NULL)
		return;
	for (size_t i = 0; i < res->npairs; i++)
		free(res->pairs[i].reason);
	for (size_t i = 0; i < res->nunmatched; i++)
		free(res->unmatched[i].reason);
	free(res->pairs);
	free(res->unmatched);
	free(res);
	*result = NULL;
}

/* ---- teams -------------------------------------------------------------- */

#define MAX_TEAM_SIZE 100
#define MAX_LEVEL_DIFF 1000000L
#define MAX_PAIR_SCORE 1000000000000LL
/* Team indexes on each side of a person's team tried by the local search
 * (teams are built in level order, so neighbours have similar levels). */
#define TEAM_WINDOW 12
/* Unplaced people, in level order, the construction considers for a seat. */
#define CANDIDATE_WINDOW 48
#define MAX_PASSES 100

/* A set of unordered pairs of people (indexes < 2^32), open addressing. */
struct pairset {
	uint64_t *slot; /* key + 1, 0 empty */
	size_t nslot;   /* a power of 2 */
};

static uint64_t
pair_key(size_t a, size_t b)
{
	return a < b ? ((uint64_t)a << 32 | b) : ((uint64_t)b << 32 | a);
}

static size_t
pairset_pos(const struct pairset *s, uint64_t key)
{
	uint64_t h = key * 0x9E3779B97F4A7C15ULL;
	size_t x = (size_t)(h >> 17) & (s->nslot - 1);

	while (s->slot[x] != 0 && s->slot[x] != key + 1)
		x = (x + 1) & (s->nslot - 1);
	return x;
}

static bool
pairset_has(const struct pairset *s, size_t a, size_t b)
{
	return s->nslot > 0 && s->slot[pairset_pos(s, pair_key(a, b))] != 0;
}

struct team_ctx {
	const struct match_person *people;
	const struct match_team_rules *rules;
	size_t n;
	struct spaces sp;
	struct features f;
	size_t tw;
	long *level; /* clamped; MATCH_LEVEL_UNKNOWN kept */
	bool *has_prev;
	struct pairset prev;
	int64_t repeat; /* the penalty of a repeated pair: more than any gain */
	/* the teams */
	size_t nteams, smax;
	size_t *mem;     /* nteams x smax */
	size_t *size;    /* nteams */
	size_t *team_of; /* n: a team or MATCH_NONE */
	int64_t *inner;  /* n: the sum of pair scores with the team mates */
};

static long
level_diff(const struct team_ctx *c, size_t a, size_t b)
{
	long d;

	if (c->level[a] == MATCH_LEVEL_UNKNOWN || c->level[b] == MATCH_LEVEL_UNKNOWN)
		return 1;
	d = c->level[a] - c->level[b];
	d = d < 0 ? -d : d;
	return d > MAX_LEVEL_DIFF ? MAX_LEVEL_DIFF : d;
}

/* The quality of a and b in one team (see match.h), without the penalty. */
static int64_t
tpair_quality(const struct team_ctx *c, size_t a, size_t b)
{
	const struct match_team_rules *r = c->rules;
	int64_t s = r->weight_interest *
	            (int64_t)bits_common(c->f.topics + a * c->tw, c->f.topics + b * c->tw, c->tw);

	s -= r->weight_level * (int64_t)level_diff(c, a, b);
	if (c->f.division[a] != MATCH_NONE && c->f.division[a] == c->f.division[b])
		s -= r->weight_division;
	return s;
}

static bool
repeated(const struct team_ctx *c, size_t a, size_t b)
{
	return c->has_prev[a] && c->has_prev[b] && pairset_has(&c->prev, a, b);
}

static int64_t
tpair(const struct team_ctx *c, size_t a, size_t b)
{
	int64_t s = tpair_quality(c, a, b);

	if (repeated(c, a, b))
		s -= c->repeat;
	return s;
}

/* The sum of tpair(x, m) over the members m of team t other than x. */
static int64_t
with_team(const struct team_ctx *c, size_t x, size_t t)
{
	const size_t *m = c->mem + t * c->smax;
	int64_t s = 0;

	for (size_t k = 0; k < c->size[t]; k++)
		if (m[k] != x)
			s += tpair(c, x, m[k]);
	return s;
}

static void
team_add(struct team_ctx *c, size_t t, size_t x)
{
	c->mem[t * c->smax + c->size[t]++] = x;
	c->team_of[x] = t;
}

static void
team_remove(struct team_ctx *c, size_t t, size_t x)
{
	size_t *m = c->mem + t * c->smax;

	for (size_t k = 0; k < c->size[t]; k++)
		if (m[k] == x) {
			m[k] = m[--c->size[t]];
			break;
		}
	c->team_of[x] = MATCH_NONE;
}

static void
team_refresh(struct team_ctx *c, size_t t)
{
	const size_t *m = c->mem + t * c->smax;

	for (size_t k = 0; k < c->size[t]; k++)
		c->inner[m[k]] = with_team(c, m[k], t);
}

static bool
oversize(const struct team_ctx *c, size_t size)
{
	return size > c->rules->size_preferred_max;
}

/* May one member go from a team of sa to a team of sb? */
static bool
move_fits(const struct team_ctx *c, size_t sa, size_t sb)
{
	return sa - 1 >= c->rules->size_min && sb + 1 <= c->rules->size_max &&
	       oversize(c, sa - 1) + oversize(c, sb + 1) <= oversize(c, sa) + oversize(c, sb);
}

/* One pass of the local search: for each person in `order`, the best
 * strictly improving move to, or swap with someone in, a team within
 * TEAM_WINDOW of theirs.  Returns whether anything changed. */
static bool
improve_pass(struct team_ctx *c, const size_t *order, size_t n)
{
	bool changed = false;

	for (size_t p = 0; p < n; p++) {
		size_t x = order[p], a = c->team_of[x], best_t = MATCH_NONE, best_y = MATCH_NONE;
		size_t lo, hi;
		int64_t sxa, best = 0;

		if (a == MATCH_NONE)
			continue;
		sxa = c->inner[x];
		lo = a > TEAM_WINDOW ? a - TEAM_WINDOW : 0;
		hi = a + TEAM_WINDOW + 1 < c->nteams ? a + TEAM_WINDOW + 1 : c->nteams;
		for (size_t b = lo; b < hi; b++) {
			const size_t *mb = c->mem + b * c->smax;
			int64_t sxb;

			if (b == a || c->size[b] == 0)
				continue;
			sxb = with_team(c, x, b);
			if (move_fits(c, c->size[a], c->size[b]) && sxb - sxa > best) {
				best = sxb - sxa;
				best_t = b;
				best_y = MATCH_NONE;
			}
			for (size_t k = 0; k < c->size[b]; k++) {
				size_t y = mb[k];
				int64_t pxy = tpair(c, x, y);
				int64_t sya = with_team(c, y, a) - pxy;
				int64_t gain = (sya + sxb - pxy) - (sxa + c->inner[y]);

				if (gain > best) {
					best = gain;
					best_t = b;
					best_y = y;
				}
			}
		}
		if (best_t == MATCH_NONE)
			continue;
		team_remove(c, a, x);
		if (best_y != MATCH_NONE) {
			team_remove(c, best_t, best_y);
			team_add(c, a, best_y);
		}
		team_add(c, best_t, x);
		team_refresh(c, a);
		team_refresh(c, best_t);
		changed = true;
	}
	return changed;
}

/* Has x been in a team with a member of t? */
static bool
conflicts(const struct team_ctx *c, size_t x, size_t t)
{
	const size_t *m = c->mem + t * c->smax;

	if (!c->has_prev[x])
		return false;
	for (size_t k = 0; k < c->size[t]; k++)
		if (m[k] != x && repeated(c, x, m[k]))
			return true;
	return false;
}

/* A team with room and no one x was teamed with before, for x: the best
 * fit among those that stay within the preferred size, else among the
 * rest; MATCH_NONE if there is none. */
static size_t
team_for(const struct team_ctx *c, size_t x, size_t except)
{
	size_t best = MATCH_NONE;
	int64_t best_score = 0;
	bool best_over = true;

	for (size_t t = 0; t < c->nteams; t++) {
		int64_t s;
		bool over;

		if (t == except || c->size[t] == 0 || c->size[t] >= c->rules->size_max ||
		    conflicts(c, x, t))
			continue;
		s = with_team(c, x, t);
		over = oversize(c, c->size[t] + 1);
		if (best == MATCH_NONE || (best_over && !over) ||
		    (best_over == over && s > best_score)) {
			best = t;
			best_score = s;
			best_over = over;
		}
	}
	return best;
}

struct unplaced_list {
	struct match_unmatched *v;
	size_t n, cap;
};

static void
unplace(struct unplaced_list *u, const struct team_ctx *c, size_t x, char *reason)
{
	u->v = xgrow(u->v, &u->cap, u->n + 1, sizeof(*u->v));
	u->v[u->n].role = MATCH_ROLE_MEMBER;
	u->v[u->n].index = x;
	u->v[u->n].id = c->people[x].id;
	u->v[u->n].reason = reason;
	u->n++;
}

/* After the search, a team that still holds a pair from `previous` loses
 * the member with the most such pairs (the later applicant on a tie), who
 * moves to another team with room if one has no one they were teamed with,
 * else swaps with someone in any team where neither meets anyone again; a
 * team that falls below size_min is dissolved the same way.  Who finds no
 * team is left out. */
/* Has x been in a team with a member of t other than y? */
static bool
conflicts_but(const struct team_ctx *c, size_t x, size_t t, size_t y)
{
	const size_t *m = c->mem + t * c->smax;

	if (!c->has_prev[x])
		return false;
	for (size_t k = 0; k < c->size[t]; k++)
		if (m[k] != x && m[k] != y && repeated(c, x, m[k]))
			return true;
	return false;
}

/* For x, taken out of team t: someone y in another team u who can take
 * x's seat in t while x takes theirs in u, neither meeting anyone again;
 * the best such swap for the two teams' quality.  Returns false if none. */
static bool
swap_for(const struct team_ctx *c, size_t x, size_t t, size_t *u_r, size_t *y_r)
{
	int64_t best = 0;
	bool found = false;

	for (size_t u = 0; u < c->nteams; u++) {
		const size_t *m = c->mem + u * c->smax;

		if (u == t || c->size[u] == 0)
			continue;
		for (size_t k = 0; k < c->size[u]; k++) {
			size_t y = m[k];
			int64_t gain;

			if (conflicts_but(c, x, u, y) || conflicts(c, y, t))
				continue;
			gain =
			    with_team(c, x, u) - tpair(c, x, y) + with_team(c, y, t) - c->inner[y];
			if (!found || gain > best) {
				found = true;
				best = gain;
				*u_r = u;
				*y_r = y;
			}
		}
	}
	return found;
}

static char *
no_team_reason(const struct team_ctx *c, size_t except)
{
	bool other = false;

	for (size_t t = 0; t < c->nteams; t++) {
		if (t == except || c->size[t] == 0)
			continue;
		other = true;
		if (c->size[t] < c->rules->size_max)
			return xstrdup("every team with room has someone they were in a team "
			               "with before");
	}
	return xstrdup(other ? "every other team is full" : "there is no other team to join");
}

static void
repair_repeats(struct team_ctx *c, struct unplaced_list *u)
{

	for (size_t t = 0; t < c->nteams; t++) {
		for (;;) {
			const size_t *m = c->mem + t * c->smax;
			size_t worst = MATCH_NONE, worst_n = 0, dest, other;

			for (size_t k = 0; k < c->size[t]; k++) {
				size_t nrep = 0;

				for (size_t l = 0; l < c->size[t]; l++)
					nrep += l != k && repeated(c, m[k], m[l]);
				if (nrep > worst_n ||
				    (nrep == worst_n && nrep > 0 && m[k] > worst)) {
					worst = m[k];
					worst_n = nrep;
				}
			}
			if (worst == MATCH_NONE)
				break;
			team_remove(c, t, worst);
			dest = team_for(c, worst, t);
			if (dest == MATCH_NONE && swap_for(c, worst, t, &dest, &other)) {
				team_remove(c, dest, other);
				team_add(c, dest, worst);
				team_add(c, t, other);
				team_refresh(c, dest);
				team_refresh(c, t);
			} else if (dest == MATCH_NONE) {
				unplace(u, c, worst, no_team_reason(c, t));
			} else {
				team_add(c, dest, worst);
				team_refresh(c, dest);
			}
		}
		if (c->size[t] > 0 && c->size[t] < c->rules->size_min) {
			while (c->size[t] > 0) {
				size_t x = c->mem[t * c->smax], dest;

				team_remove(c, t, x);
				dest = team_for(c, x, t);
				if (dest == MATCH_NONE) {
					char *why = no_team_reason(c, t);

					unplace(
					    u, c, x,
					    xasprintf("their team fell below %zu after taking out "
					              "repeated pairings, and %s",
					              c->rules->size_min, why));
					free(why);
				} else {
					team_add(c, dest, x);
					team_refresh(c, dest);
				}
			}
		}
		team_refresh(c, t);
	}
}

/* "levels 3-5; shares Coaching (all 4), Data Analysis (2); all from
 * different divisions" */
static char *
team_reason(const struct team_ctx *c, const size_t *m, size_t size)
{
	const struct match_team_rules *r = c->rules;
	struct strbuf sb = {0};
	size_t unknown = 0, known = 0, ndiv = 0, biggest = 0, biggest_at = 0, nshared = 0;
	size_t *count = xcalloc(c->sp.topics.n + 1, sizeof(*count));
	size_t *divcount = xcalloc(size, sizeof(*divcount)), *divs = xcalloc(size, sizeof(*divs));
	size_t *shared = xcalloc(c->sp.topics.n + 1, sizeof(*shared));
	const char **spelling = xcalloc(c->sp.topics.n + 1, sizeof(*spelling));
	long lo = 0, hi = 0;

	/* Experience. */
	for (size_t k = 0; k < size; k++) {
		long l = c->level[m[k]];

		if (l == MATCH_LEVEL_UNKNOWN) {
			unknown++;
			continue;
		}
		if (known == 0 || l < lo)
			lo = known == 0 ? l : lo < l ? lo : l;
		if (known == 0 || l > hi)
			hi = l;
		known++;
	}
	if (known == 0)
		strbuf_adds(&sb, "experience not given");
	else if (r->level_units == NULL && lo == hi)
		strbuf_addf(&sb, "all at level %ld", lo);
	else if (r->level_units == NULL)
		strbuf_addf(&sb, "levels %ld-%ld", lo, hi);
	else if (lo == hi)
		strbuf_addf(&sb, "%ld %s of experience each", lo,
		            units(r->level_units, r->level_unit, lo));
	else
		strbuf_addf(&sb, "%ld-%ld %s of experience", lo, hi, r->level_units);
	if (known > 0 && unknown > 0)
		strbuf_addf(&sb, " (not given for %zu)", unknown);

	/* Interests held by two or more, most shared first, then in the order
	 * the members name them. */
	for (size_t k = 0; k < size; k++) {
		const struct match_person *p = &c->people[m[k]];
		uint64_t *seen = xcalloc(c->tw, sizeof(*seen));

		for (size_t t = 0; t < p->ntopics; t++) {
			size_t id = names_find(&c->sp.topics, p->topics[t]);

			if (id == MATCH_NONE || bit_test(seen, id))
				continue;
			bit_set(seen, id);
			if (count[id]++ == 0)
				spelling[id] = p->topics[t];
			if (count[id] == 2)
				shared[nshared++] = id;
		}
		free(seen);
	}
	for (size_t a = 1; a < nshared; a++)
		for (size_t b = a; b > 0 && count[shared[b]] > count[shared[b - 1]]; b--) {
			size_t tmp = shared[b];

			shared[b] = shared[b - 1];
			shared[b - 1] = tmp;
		}
	if (nshared == 0) {
		strbuf_adds(&sb, "; no shared interest");
	} else {
		strbuf_adds(&sb, "; shares ");
		for (size_t a = 0; a < nshared && a < 4; a++) {
			if (a > 0)
				strbuf_adds(&sb, ", ");
			add_trimmed(&sb, spelling[shared[a]]);
			if (count[shared[a]] == size)
				strbuf_addf(&sb, " (all %zu)", size);
			else
				strbuf_addf(&sb, " (%zu)", count[shared[a]]);
		}
		if (nshared > 4)
			strbuf_addf(&sb, " and %zu more", nshared - 4);
	}

	/* Divisions. */
	unknown = 0;
	for (size_t k = 0; k < size; k++) {
		size_t d = c->f.division[m[k]], at = 0;

		if (d == MATCH_NONE) {
			unknown++;
			continue;
		}
		while (at < ndiv && divs[at] != d)
			at++;
		if (at == ndiv)
			divs[ndiv++] = d;
		if (++divcount[at] > biggest) {
			biggest = divcount[at];
			biggest_at = m[k];
		}
	}
	if (ndiv > 0 && ndiv + unknown == size && biggest == 1)
		strbuf_adds(&sb, "; all from different divisions");
	else if (ndiv > 0)
		strbuf_addf(&sb, "; %zu division%s", ndiv, ndiv == 1 ? "" : "s");
	if (ndiv > 0 && biggest > 1) {
		strbuf_addf(&sb, " (%zu from ", biggest);
		add_trimmed(&sb, c->people[biggest_at].division);
		strbuf_adds(&sb, ")");
	}
	if (unknown > 0)
		strbuf_addf(&sb, "; division not given for %zu", unknown);
	free(count);
	free(divcount);
	free(divs);
	free(shared);
	free(spelling);
	return strbuf_detach(&sb);
}

static int
check_team_rules(const struct match_team_rules *r, const char **error_r)
{
	if (r->size_min < 1 || r->size_min > r->size_preferred_max ||
	    r->size_preferred_max > r->size_max || r->size_max > MAX_TEAM_SIZE) {
		*error_r =
		    errorf("team sizes %zu (smallest), %zu (preferred largest), %zu (largest) "
		           "must be ordered, from 1 to %d",
		           r->size_min, r->size_preferred_max, r->size_max, MAX_TEAM_SIZE);
		return -1;
	}
	if (check_weight("the interest weight", r->weight_interest, error_r) < 0 ||
	    check_weight("the level weight", r->weight_level, error_r) < 0 ||
	    check_weight("the division weight", r->weight_division, error_r) < 0)
		return -1;
	return 0;
}

/* How many people go into how many teams: the largest count nn <= n that
 * splits into teams of size_min..size_max, and the fewest teams with no
 * team above size_preferred_max (else as many as possible). */
static void
team_split(const struct match_team_rules *r, size_t n, size_t *nn_r, size_t *t_r)
{
	for (size_t nn = n; nn > 0; nn--) {
		size_t t_lo = (nn + r->size_max - 1) / r->size_max, t_hi = nn / r->size_min;
		size_t t = (nn + r->size_preferred_max - 1) / r->size_preferred_max;

		if (t_lo > t_hi)
			continue;
		*nn_r = nn;
		*t_r = t > t_hi ? t_hi : t;
		return;
	}
	*nn_r = 0;
	*t_r = 0;
}

/* qsort context: the levels of the people sorted by level. */
static _Thread_local const long *sort_levels;

static int
compare_level(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	long lx = sort_levels[x], ly = sort_levels[y];

	if ((lx == MATCH_LEVEL_UNKNOWN) != (ly == MATCH_LEVEL_UNKNOWN))
		return lx == MATCH_LEVEL_UNKNOWN ? 1 : -1;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int
compare_team(const void *a, const void *b)
{
	const struct match_team *x = a, *y = b;

	return x->members[0] < y->members[0] ? -1 : x->members[0] > y->members[0];
}

static int
compare_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int
compare_unmatched(const void *a, const void *b)
{
	const struct match_unmatched *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The people of `previous` as indexes; pairs naming someone not in this
 * round are ignored. */
static void
team_previous(struct team_ctx *c, const size_t *by_id)
{
	const struct match_team_rules *r = c->rules;
	size_t need = 64;

	while (need < 2 * r->nprevious + 2)
		need *= 2;
	c->prev.nslot = need;
	c->prev.slot = xcalloc(need, sizeof(*c->prev.slot));
	for (size_t k = 0; k < r->nprevious; k++) {
		size_t ab[2];
		int64_t id[2] = {r->previous[k].a, r->previous[k].b};
		bool found = true;

		for (int s = 0; s < 2; s++) {
			size_t lo = 0, hi = c->n;

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (c->people[by_id[mid]].id < id[s])
					lo = mid + 1;
				else
					hi = mid;
			}
			found = found && lo < c->n && c->people[by_id[lo]].id == id[s];
			ab[s] = found ? by_id[lo] : 0;
		}
		if (!found || ab[0] == ab[1])
			continue;
		c->prev.slot[pairset_pos(&c->prev, pair_key(ab[0], ab[1]))] =
		    pair_key(ab[0], ab[1]) + 1;
		c->has_prev[ab[0]] = c->has_prev[ab[1]] = true;
	}
}

/* Fills the teams, largest first, from the people in level order: each team
 * starts with the first person left and takes, seat by seat, whoever of the
 * next CANDIDATE_WINDOW people left adds the most to it. */
static void
team_build(struct team_ctx *c, const size_t *order, size_t nn, const size_t *sizes)
{
	size_t *next = xmalloc((nn + 1) * sizeof(*next)),
	       *prevp = xmalloc((nn + 1) * sizeof(*prevp));
	size_t head = 0;

	/* A doubly linked list over order[], nn the end mark. */
	for (size_t p = 0; p < nn; p++) {
		next[p] = p + 1;
		prevp[p] = p == 0 ? nn : p - 1;
	}
	for (size_t t = 0; t < c->nteams; t++) {
		for (size_t seat = 0; seat < sizes[t] && head != nn; seat++) {
			size_t best = head, seen = 0;
			int64_t best_score = INT64_MIN;

			if (seat > 0)
				for (size_t p = head; p != nn && seen < CANDIDATE_WINDOW;
				     p = next[p], seen++) {
					int64_t s = with_team(c, order[p], t);

					if (s > best_score) {
						best_score = s;
						best = p;
					}
				}
			team_add(c, t, order[best]);
			if (prevp[best] != nn)
				next[prevp[best]] = next[best];
			else
				head = next[best];
			if (next[best] != nn)
				prevp[next[best]] = prevp[best];
		}
	}
	free(next);
	free(prevp);
}

/* Pairs from `previous` inside teams, and the teams' quality. */
static void
team_totals(const struct team_ctx *c, size_t *repeats_r, int64_t *score_r)
{
	*repeats_r = 0;
	*score_r = 0;
	for (size_t t = 0; t < c->nteams; t++) {
		const size_t *m = c->mem + t * c->smax;

		for (size_t a = 0; a < c->size[t]; a++)
			for (size_t b = a + 1; b < c->size[t]; b++) {
				*repeats_r += repeated(c, m[a], m[b]);
				*score_r += tpair_quality(c, m[a], m[b]);
			}
	}
}

/* A deterministic generator for the restarts (xorshift64*): the teams
 * depend on the input alone. */
static uint64_t
next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

/* qsort context: the keys of a jittered order. */
static _Thread_local const uint64_t *sort_keys;

static int
compare_key(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (sort_keys[x] != sort_keys[y])
		return sort_keys[x] < sort_keys[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Builds the teams (team_build) and improves them (improve_pass) until no
 * move or swap helps.  If pairs from `previous` remain, starts again from
 * orders jittered more and more (each person moves up to a few places in
 * the level order, then anywhere), keeping the teams with the fewest such
 * pairs, then the best quality: small, tight cases are often solvable
 * from another start.  The attempts shrink with the number of people. */
static void
team_search(struct team_ctx *c, size_t *order, size_t nn, const size_t *sizes)
{
	size_t *best_mem = NULL, *best_size = NULL, best_repeats = 0;
	size_t *level_order = xmalloc(nn * sizeof(*level_order));
	uint64_t *keys = xmalloc(nn * sizeof(*keys)), rng = 0x9E3779B97F4A7C15ULL ^ nn;
	size_t attempts = 20000 / (nn + 1);
	int64_t best_score = 0;

	attempts = attempts < 2 ? 2 : attempts > 100 ? 100 : attempts;
	for (size_t i = 0; i < nn; i++)
		level_order[i] = i;
	sort_levels = c->level;
	qsort(level_order, nn, sizeof(*level_order), compare_level);
	sort_levels = NULL;
	for (size_t attempt = 0; attempt < attempts; attempt++) {
		bool changed = true;
		size_t repeats;
		int64_t score;

		if (attempt == 0) {
			memcpy(order, level_order, nn * sizeof(*order));
		} else {
			uint64_t spread = 4 * (uint64_t)attempt * attempt;

			for (size_t p = 0; p < nn; p++)
				keys[level_order[p]] =
				    p * 64 + next_random(&rng) % (spread * 64 + 1);
			memcpy(order, level_order, nn * sizeof(*order));
			sort_keys = keys;
			qsort(order, nn, sizeof(*order), compare_key);
			sort_keys = NULL;
		}
		for (size_t t = 0; t < c->nteams; t++)
			c->size[t] = 0;
		team_build(c, order, nn, sizes);
		for (size_t t = 0; t < c->nteams; t++)
			team_refresh(c, t);
		for (int pass = 0; pass < MAX_PASSES && changed; pass++)
			changed = improve_pass(c, order, nn);
		team_totals(c, &repeats, &score);
		if (attempt == 0 || repeats < best_repeats ||
		    (repeats == best_repeats && score > best_score)) {
			if (best_mem == NULL) {
				best_mem = xmalloc(c->nteams * c->smax * sizeof(*best_mem));
				best_size = xmalloc(c->nteams * sizeof(*best_size));
			}
			memcpy(best_mem, c->mem, c->nteams * c->smax * sizeof(*best_mem));
			memcpy(best_size, c->size, c->nteams * sizeof(*best_size));
			best_repeats = repeats;
			best_score = score;
		}
		if (best_repeats == 0)
			break;
	}
	if (best_mem != NULL) {
		memcpy(c->mem, best_mem, c->nteams * c->smax * sizeof(*best_mem));
		memcpy(c->size, best_size, c->nteams * sizeof(*best_size));
		for (size_t t = 0; t < c->nteams; t++) {
			for (size_t k = 0; k < c->size[t]; k++)
				c->team_of[c->mem[t * c->smax + k]] = t;
			team_refresh(c, t);
		}
	}
	free(best_mem);
	free(best_size);
	free(level_order);
	free(keys);
}

int
match_teams(const struct match_person *people, size_t n, const struct match_team_rules *rules,
            struct match_teams **result_r, const char **error_r)
{
	struct team_ctx c;
	struct match_teams *res = NULL;
	struct unplaced_list u = {0};
	size_t *by_id = xmalloc((n + 1) * sizeof(*by_id)), *order = NULL, *sizes = NULL;
	size_t nn, nt;
	long lo = 0, hi = 0;
	bool any_level = false;
	int64_t maxpair;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	if (check_team_rules(rules, error_r) < 0 ||
	    order_by_id(people, n, by_id, "applicants", error_r) < 0)
		goto out;
	if (n >= ((size_t)1 << 32)) {
		*error_r = errorf("%zu applicants are too many", n);
		goto out;
	}
	c.people = people;
	c.rules = rules;
	c.n = n;
	features_intern(&c.sp, people, n);
	features_build(&c.sp, people, n, &c.f);
	c.tw = bits_words(c.sp.topics.n);
	c.level = xmalloc((n + 1) * sizeof(*c.level));
	c.has_prev = xcalloc(n + 1, sizeof(*c.has_prev));
	c.team_of = xmalloc((n + 1) * sizeof(*c.team_of));
	c.inner = xcalloc(n + 1, sizeof(*c.inner));
	for (size_t i = 0; i < n; i++) {
		long l = people[i].level;

		c.team_of[i] = MATCH_NONE;
		if (l != MATCH_LEVEL_UNKNOWN) {
			l = l < -MAX_LEVEL_DIFF  ? -MAX_LEVEL_DIFF
			    : l > MAX_LEVEL_DIFF ? MAX_LEVEL_DIFF
			                         : l;
			lo = !any_level || l < lo ? l : lo;
			hi = !any_level || l > hi ? l : hi;
			any_level = true;
		}
		c.level[i] = l;
	}
	team_previous(&c, by_id);
	maxpair = rules->weight_interest * (int64_t)c.f.ntopics +
	          rules->weight_level * (int64_t)(hi - lo > 1 ? hi - lo : 1) +
	          rules->weight_division;
	if (maxpair > MAX_PAIR_SCORE) {
		*error_r = errorf("weights that high make pair scores too large");
		goto out;
	}
	/* A swap changes fewer than 4 * size_max pair scores. */
	c.repeat = 4 * (int64_t)rules->size_max * maxpair + 1;

	res = xcalloc(1, sizeof(*res));
	team_split(rules, n, &nn, &nt);
	for (size_t i = nn; i < n; i++)
		unplace(&u, &c, i,
		        nn == 0 ? xasprintf("only %zu applicant%s; a team needs at least %zu", n,
		                            n == 1 ? "" : "s", rules->size_min)
		                : xasprintf("%zu applicants cannot all be split into teams of "
		                            "%zu-%zu; the last to apply wait for the next round",
		                            n, rules->size_min, rules->size_max));
	if (nt > 0) {
		c.nteams = nt;
		c.smax = rules->size_max;
		c.mem = xmalloc(nt * c.smax * sizeof(*c.mem));
		c.size = xcalloc(nt, sizeof(*c.size));
		sizes = xmalloc(nt * sizeof(*sizes));
		for (size_t t = 0; t < nt; t++)
			sizes[t] = nn / nt + (t < nn % nt);
		order = xmalloc(nn * sizeof(*order));
		team_search(&c, order, nn, sizes);
		repair_repeats(&c, &u);
	}

	res->teams = xcalloc(nt + 1, sizeof(*res->teams));
	for (size_t t = 0; t < nt; t++) {
		struct match_team *team;
		const size_t *m = c.mem + t * c.smax;

		if (c.size[t] == 0)
			continue;
		team = &res->teams[res->nteams++];
		team->nmembers = c.size[t];
		team->members = xmalloc(c.size[t] * sizeof(*team->members));
		memcpy(team->members, m, c.size[t] * sizeof(*team->members));
		qsort(team->members, team->nmembers, sizeof(*team->members), compare_size);
		for (size_t a = 0; a < c.size[t]; a++)
			for (size_t b = a + 1; b < c.size[t]; b++)
				team->score += tpair_quality(&c, m[a], m[b]);
		team->reason = team_reason(&c, team->members, team->nmembers);
		res->score += team->score;
	}
	qsort(res->teams, res->nteams, sizeof(*res->teams), compare_team);
	if (u.n > 0)
		qsort(u.v, u.n, sizeof(*u.v), compare_unmatched);
	res->unplaced = u.v;
	res->nunplaced = u.n;
	u.v = NULL;
	u.n = 0;
	*result_r = res;
	res = NULL;
	ret = 0;
out:
	for (size_t i = 0; i < u.n; i++)
		free(u.v[i].reason);
	free(u.v);
	match_teams_free(&res);
	features_free(&c.f);
	spaces_free(&c.sp);
	free(c.level);
	free(c.has_prev);
	free(c.prev.slot);
	free(c.mem);
	free(c.size);
	free(c.team_of);
	free(c.inner);
	free(by_id);
	free(order);
	free(sizes);
	return ret;
}

void
match_teams_free(struct match_teams **result)
{
	struct match_teams *res = *result;

	if (res == NULL)
		return;
	for (size_t t = 0; t < res->nteams; t++) {
		free(res->teams[t].members);
		free(res->teams[t].reason);
	}
	for (size_t i = 0; i < res->nunplaced; i++)
		free(res->unplaced[i].reason);
	free(res->teams);
	free(res->unplaced);
	free(res);
	*result = NULL;
}
