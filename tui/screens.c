/* Screens: what the dashboard and its detail views show, read from the
 * collector's newest snapshot. Every state is written as a word (OK, WARN,
 * FAIL, UNKNOWN, STALE, N/A) beside its colour; an unreachable source is
 * shown with its error and when it last answered. No I/O here. */
#include "config.h"

#include <ctype.h>
#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "console.h"
#include "wizard.h"

/* Attributes as int, the type of pgr_theme_attr(). */
#define BOLD ((int)A_BOLD)
#define UNDERLINE ((int)A_UNDERLINE)
#define DIM ((int)A_DIM)
#include "model/catalog.h"
#include "storage/layout.h"

static const char *const panel_titles[PGR_N_PANELS] = {"Backups", "WAL archiving", "Restore tests",
                                                       "Alerts",  "Snapshots",     "Recoverable window"};

const char *pgr_panel_title(enum pgr_panel p)
{
	return p < PGR_N_PANELS ? panel_titles[p] : "?";
}

enum pgr_role pgr_level_role(enum pgr_vlevel l)
{
	switch (l) {
	case PGR_V_OK: return PGR_ROLE_OK;
	case PGR_V_WARN: return PGR_ROLE_WARN;
	case PGR_V_FAIL: return PGR_ROLE_FAIL;
	case PGR_V_UNKNOWN: return PGR_ROLE_UNKNOWN;
	case PGR_V_STALE: return PGR_ROLE_STALE;
	case PGR_V_NA:
	default: return PGR_ROLE_MUTED;
	}
}

static int A(enum pgr_role r)
{
	return pgr_theme_attr(r);
}

/* ---------------------------------------------------------------- formatting */

static void fmt_ago(time_t now, time_t t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "never");
		return;
	}
	char d[32];
	int64_t secs = (int64_t)(now - t);
	if (secs < 0)
		secs = 0;
	pgr_duration_format(secs, d, sizeof d);
	snprintf(buf, n, "%s ago", d);
}

/* "2026-01-02 10:15:10Z" */
static void fmt_time(time_t t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "-");
		return;
	}
	pgr_time_format_utc(t, buf, n);
	char *T = strchr(buf, 'T');
	if (T)
		*T = ' ';
}

static void fmt_size(uint64_t b, char *buf, size_t n)
{
	pgr_size_format(b, buf, n);
}

static void fmt_dur(double secs, char *buf, size_t n)
{
	pgr_duration_format((int64_t)(secs + 0.5), buf, n);
}

/* The time part of a dump key: "database/postgres-backup-20260102-101500.sql.gz" -> "20260102-101500". */
static void dump_label(const struct pgr_dump *d, char *buf, size_t n)
{
	const char *base = strrchr(d->key, '/');
	base = base ? base + 1 : d->key;
	const char *dash = strstr(base, "-backup-");
	if (dash && strlen(dash + 8) >= 15) {
		snprintf(buf, n, "%.15s", dash + 8);
		return;
	}
	snprintf(buf, n, "%s", base);
}

static bool contains_ci(const char *hay, const char *needle)
{
	if (!needle || !*needle)
		return true;
	size_t nl = strlen(needle);
	for (const char *p = hay; *p; p++) {
		size_t i = 0;
		while (i < nl && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == nl)
			return true;
	}
	return false;
}

/* The current WAL lag: the collector's newest sample, else (as `status`)
 * the age of the oldest segment waiting, else of the last archived one. */
static bool wal_lag(const struct pgr_snapshot *s, double *lag)
{
	const struct pgr_facts *f = &s->facts;
	if (s->n_lag > 0 && s->lag_seconds[s->n_lag - 1] >= 0) {
		*lag = s->lag_seconds[s->n_lag - 1];
		return true;
	}
	if (!f->db.ok || !f->arch.known)
		return false;
	const struct pgr_archiver_facts *a = &f->arch;
	if (a->pending >= 0)
		*lag = a->pending > 0 && a->oldest_pending > 0 ? (double)(f->now - a->oldest_pending) : 0;
	else
		*lag = a->last_archived_time > 0 ? (double)(f->now - a->last_archived_time) : 0;
	if (*lag < 0)
		*lag = 0;
	return true;
}

/* The latest restorable point: the last archived commit where known, else the
 * time the last continuous segment was written. */
static time_t window_latest(const struct pgr_facts *f, bool *from_commit)
{
	*from_commit = f->last_archived_commit > 0;
	time_t t = f->last_archived_commit > 0 ? f->last_archived_commit : f->window.latest;
	/* A segment closed in the base backup's last second has an older mtime. */
	if (f->window.exists && t < f->window.earliest)
		t = f->window.earliest;
	return t;
}

/* Bucket the last hour of lag samples into w columns (max per column, -1 unknown). */
static int lag_buckets(const struct pgr_snapshot *s, int w, double *out, double *max)
{
	*max = 0;
	if (w <= 0)
		return 0;
	time_t now = s->facts.now, from = now - 3600;
	for (int i = 0; i < w; i++)
		out[i] = -2; /* no sample */
	for (int i = 0; i < s->n_lag; i++) {
		if (s->lag_time[i] < from)
			continue;
		int col = (int)((double)(s->lag_time[i] - from) / 3600.0 * w);
		if (col >= w)
			col = w - 1;
		if (col < 0)
			col = 0;
		double v = s->lag_seconds[i];
		if (v > out[col])
			out[col] = v;
		if (v > *max)
			*max = v;
	}
	/* Columns before the first sample stay empty; unknown samples show as such. */
	int first = 0;
	while (first < w && out[first] == -2)
		first++;
	int n = 0;
	for (int i = first; i < w; i++) {
		double v = out[i];
		if (v == -2) /* no sample in this column: the step continues */
			v = n > 0 ? out[n - 1] : -1;
		out[n] = v;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- rows of lists */

struct row {
	char *text;
	enum pgr_role role;
	int word_len; /* the first word_len bytes are a state word drawn in word_role */
	enum pgr_role word_role;
	bool heading;
	char copy[200];
	char *more; /* lines shown under the list for the selected row */
};

struct rows {
	struct row *v;
	int n, cap;
};

static struct row *rows_add(struct rows *r, enum pgr_role role, const char *copy, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static struct row *rows_add(struct rows *r, enum pgr_role role, const char *copy, const char *fmt, ...)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, (size_t)r->cap * sizeof *r->v);
	}
	struct row *w = &r->v[r->n++];
	memset(w, 0, sizeof *w);
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	w->text = xstrdup(buf);
	w->role = role;
	if (copy)
		snprintf(w->copy, sizeof w->copy, "%s", copy);
	return w;
}

static void rows_heading(struct rows *r, const char *text)
{
	struct row *w = rows_add(r, PGR_ROLE_TITLE, NULL, "%s", text);
	w->heading = true;
}

/* A row that starts with a verdict's level word. */
static struct row *rows_level(struct rows *r, enum pgr_vlevel l, const char *copy, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static struct row *rows_level(struct rows *r, enum pgr_vlevel l, const char *copy, const char *fmt, ...)
{
	char buf[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	struct row *w = rows_add(r, PGR_ROLE_NORMAL, copy, "%-7s %s", pgr_vlevel_name(l), buf);
	w->word_len = (int)strlen(pgr_vlevel_name(l));
	w->word_role = pgr_level_role(l);
	return w;
}

static void rows_free(struct rows *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->v[i].text);
		free(r->v[i].more);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

static void draw_row(const struct row *w, int y, int x, int maxw, bool selected)
{
	if (selected) {
		int sattr = A(PGR_ROLE_SELECTION);
		pgr_w_blank(y, x - 2, maxw + 2, sattr);
		pgr_w_put(y, x - 2, 1, sattr | BOLD, ">");
		pgr_w_put(y, x, maxw, sattr, w->text);
		return;
	}
	if (w->heading) {
		pgr_w_put(y, x - 1, maxw + 1, A(PGR_ROLE_TITLE) | BOLD, w->text);
		return;
	}
	int used = 0;
	if (w->word_len > 0) {
		char word[32];
		snprintf(word, sizeof word, "%.*s", w->word_len < 31 ? w->word_len : 31, w->text);
		used = pgr_w_put(y, x, maxw, A(w->word_role) | BOLD, word);
	}
	pgr_w_put(y, x + used, maxw - used, A(w->role), w->text + (w->word_len > 0 ? w->word_len : 0));
}

/* A scrollable, filterable list with a selection inside a box. */
static void draw_list(struct pgr_console *c, struct rows *rs, const char *head, int y, int x, int h, int w,
                      const char *title, const char *word, enum pgr_role wrole)
{
	int *vis = xcalloc((size_t)rs->n + 1, sizeof *vis);
	int nvis = 0;
	bool has_more = false;
	for (int i = 0; i < rs->n; i++) {
		if (rs->v[i].heading || contains_ci(rs->v[i].text, c->filter))
			vis[nvis++] = i;
		has_more |= rs->v[i].more != NULL;
	}
	/* Headings followed by nothing are dropped when filtering. */
	if (c->filter[0]) {
		int k = 0;
		for (int i = 0; i < nvis; i++)
			if (!rs->v[vis[i]].heading || (i + 1 < nvis && !rs->v[vis[i + 1]].heading))
				vis[k++] = vis[i];
		nvis = k;
	}
	c->n_rows = nvis;
	if (c->sel >= nvis)
		c->sel = nvis - 1;
	if (c->sel < 0)
		c->sel = 0;
	/* The selection rests on a row, never on a heading. */
	for (int tries = 0; nvis > 0 && tries < 2 && rs->v[vis[c->sel]].heading; tries++) {
		int s = c->sel;
		while (s < nvis && rs->v[vis[s]].heading)
			s++;
		if (s >= nvis) {
			s = c->sel;
			while (s > 0 && rs->v[vis[s]].heading)
				s--;
		}
		c->sel = s;
	}

	char t[480];
	if (c->filter[0])
		snprintf(t, sizeof t, "%s  (filter: %s)", title, c->filter);
	else
		snprintf(t, sizeof t, "%s", title);
	pgr_w_box(y, x, h, w, t, word, wrole, true, c->unicode);
	int pane = has_more ? 6 : 0;
	int ly = y + 1, lh = h - 2 - pane;
	if (head) {
		pgr_w_put(ly, x + 3, w - 4, A(PGR_ROLE_TITLE) | UNDERLINE, head);
		ly++;
		lh--;
	}
	if (lh < 1)
		lh = 1;
	c->page = lh;
	if (c->sel < c->top)
		c->top = c->sel;
	if (c->sel >= c->top + lh)
		c->top = c->sel - lh + 1;
	if (c->top > nvis - lh)
		c->top = nvis - lh;
	if (c->top < 0)
		c->top = 0;
	c->sel_copy[0] = 0;
	if (nvis == 0)
		pgr_w_put(ly, x + 3, w - 4, A(PGR_ROLE_MUTED),
		          c->filter[0] ? "(nothing matches the filter)" : "(none)");
	for (int i = 0; i < lh && c->top + i < nvis; i++) {
		const struct row *r = &rs->v[vis[c->top + i]];
		bool selected = c->top + i == c->sel && !r->heading;
		draw_row(r, ly + i, x + 3, w - 5, selected);
	}
	if (nvis > lh) {
		char pos[48];
		snprintf(pos, sizeof pos, " %d-%d of %d ", c->top + 1, c->top + lh < nvis ? c->top + lh : nvis, nvis);
		pgr_w_put(y + h - 1, x + w - 2 - pgr_w_width(pos), pgr_w_width(pos), A(PGR_ROLE_MUTED), pos);
	}
	if (nvis > 0) {
		const struct row *r = &rs->v[vis[c->sel]];
		snprintf(c->sel_copy, sizeof c->sel_copy, "%s", r->copy);
		if (has_more) {
			int py = y + h - 1 - pane;
			for (int i = 1; i < w - 1; i++)
				pgr_w_put(py, x + i, 1, A(PGR_ROLE_BORDER), c->unicode ? "\u2500" : "-");
			int line = 0;
			const char *p = r->more ? r->more : "";
			while (*p && line < pane - 1) {
				const char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);
				char *one = xstrndup(p, len);
				pgr_w_put(py + 1 + line, x + 3, w - 5, A(PGR_ROLE_NORMAL), one);
				free(one);
				line++;
				p += len + (nl ? 1 : 0);
			}
		}
	}
	free(vis);
}

/* ---------------------------------------------------------------- detail views */

static const char *num_str(const struct pgr_num *n, char *buf, size_t len)
{
	if (!n->known)
		snprintf(buf, len, "missing");
	else
		snprintf(buf, len, "%.15g", n->value);
	return buf;
}

static void detail_backups(struct pgr_console *c, struct rows *rs, char *head, size_t headlen)
{
	const struct pgr_facts *f = &c->snap->facts;
	if (f->store.configured && !f->store.ok) {
		char ago[48];
		fmt_ago(f->now, f->store.last_ok, ago, sizeof ago);
		rows_add(rs, PGR_ROLE_FAIL, NULL, "store unreachable: %s (last answered %s)", f->store.error, ago);
	}
	if (!f->have_catalog) {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "no catalog of the store yet");
		head[0] = 0;
		return;
	}
	const struct pgr_catalog *cat = &f->catalog;
	struct pgr_w_table t = {9,
	                        {"Kind", "Label", "Time (UTC)", "Age", "Size", "Took", "LSN range", "State", "Rows"},
	                        {0, 24, 20, 0, 0, 0, 23, 0, 0},
	                        {false, false, false, true, true, true, false, false, true},
	                        {0}};
	size_t total = cat->n_dumps + cat->n_bases;
	char ***cells = xcalloc(total + 1, sizeof *cells);
	char **copies = xcalloc(total + 1, sizeof *copies);
	char **mores = xcalloc(total + 1, sizeof *mores);
	bool *bad = xcalloc(total + 1, sizeof *bad);
	/* Newest first, dumps and base backups interleaved by time. */
	size_t di = cat->n_dumps, bi = cat->n_bases, k = 0;
	pgr_w_table_fit(&t, NULL);
	while (di > 0 || bi > 0) {
		const struct pgr_dump *d = di > 0 ? &cat->dumps[di - 1] : NULL;
		const struct pgr_base *b = bi > 0 ? &cat->bases[bi - 1] : NULL;
		time_t bt = 0;
		if (b) {
			if (!pgr_label_parse(b->label, &bt))
				bt = b->complete ? b->manifest.start_time : 0;
		}
		bool take_dump = d && (!b || d->time >= bt);
		if (!take_dump && !b)
			break; /* cannot happen: the loop runs while either list has entries */
		char **cl = xcalloc(9, sizeof *cl);
		char buf[128], a[48], s[32];
		struct strbuf more = STRBUF_INIT;
		if (take_dump) {
			dump_label(d, buf, sizeof buf);
			cl[0] = xstrdup("dump");
			cl[1] = xstrdup(buf);
			fmt_time(d->time, buf, sizeof buf);
			cl[2] = xstrdup(buf);
			fmt_ago(f->now, d->time, a, sizeof a);
			cl[3] = xstrndup(a, strlen(a) > 4 ? strlen(a) - 4 : strlen(a));
			fmt_size(d->size, s, sizeof s);
			cl[4] = xstrdup(s);
			cl[5] = xstrdup("-");
			cl[6] = xstrdup("-");
			cl[7] = xstrdup(d->good ? "good" : "FAILED");
			cl[8] = xstrdup(d->has_manifest ? "manifest" : "-");
			copies[k] = xstrdup(d->key);
			sb_printf(&more, "%s\n", d->key);
			sb_printf(&more, "%s, %s, %s\n",
			          d->good ? "a good dump" : "a FAILED dump (kept for the record)", s,
			          d->has_manifest ? "with a pgrescue manifest (pgrescue/dumps/)"
			                          : "no pgrescue manifest (written by the deployment's job)");
			bad[k] = !d->good;
			di--;
		} else {
			const struct pgr_manifest *m = &b->manifest;
			cl[0] = xstrdup("base");
			cl[1] = xstrdup(b->label);
			fmt_time(b->complete ? m->stop_time : bt, buf, sizeof buf);
			cl[2] = xstrdup(buf);
			fmt_ago(f->now, b->complete ? m->stop_time : bt, a, sizeof a);
			cl[3] = xstrndup(a, strlen(a) > 4 ? strlen(a) - 4 : strlen(a));
			fmt_size(b->size, s, sizeof s);
			cl[4] = xstrdup(s);
			if (b->complete && m->stop_time >= m->start_time && m->start_time > 0) {
				fmt_dur((double)(m->stop_time - m->start_time), buf, sizeof buf);
				cl[5] = xstrdup(buf);
			} else {
				cl[5] = xstrdup("-");
			}
			if (b->complete) {
				char l1[32], l2[32];
				pgr_lsn_format(m->start_lsn, l1, sizeof l1);
				pgr_lsn_format(m->stop_lsn, l2, sizeof l2);
				snprintf(buf, sizeof buf, "%s-%s", l1, l2);
				cl[6] = xstrdup(buf);
				int64_t rows = 0;
				for (size_t i = 0; i < m->n_tables; i++)
					rows += m->tables[i].rows;
				snprintf(buf, sizeof buf, "%" PRId64, rows);
				cl[8] = xstrdup(m->n_tables ? buf : "-");
				sb_printf(&more, "base/%s  timeline %u  WAL %s .. %s  LSN %s .. %s\n", b->label,
				          m->timeline, m->start_wal ? m->start_wal : "?",
				          m->stop_wal ? m->stop_wal : "?", l1, l2);
				sb_printf(&more, "database %s, PostgreSQL %s, %zu files, status %s\n",
				          m->database ? m->database : "?", m->server_version ? m->server_version : "?",
				          m->n_files, m->status ? m->status : "?");
				if (m->n_tables) {
					sb_append(&more, "rows:");
					for (size_t i = 0; i < m->n_tables; i++)
						sb_printf(&more, " %s.%s %" PRId64 "%s", m->tables[i].schema,
						          m->tables[i].table, m->tables[i].rows,
						          i + 1 < m->n_tables ? "," : "");
					sb_append(&more, "\n");
				}
			} else {
				cl[6] = xstrdup("-");
				cl[8] = xstrdup("-");
				sb_printf(&more, "base/%s has no complete %s: in progress, interrupted or failed\n",
				          b->label, PGR_BASE_MANIFEST);
			}
			cl[7] = xstrdup(b->complete ? (m->status ? m->status : "complete") : "INCOMPLETE");
			copies[k] = xstrdup(b->label);
			bad[k] = !b->complete;
			bi--;
		}
		mores[k] = sb_steal(&more);
		cells[k] = cl;
		pgr_w_table_fit(&t, (const char *const *)cl);
		k++;
	}
	char *h = pgr_w_table_line(&t, NULL);
	snprintf(head, headlen, "%s", h);
	free(h);
	for (size_t i = 0; i < k; i++) {
		char *line = pgr_w_table_line(&t, (const char *const *)cells[i]);
		struct row *r = rows_add(rs, bad[i] ? PGR_ROLE_FAIL : PGR_ROLE_NORMAL, copies[i], "%s", line);
		r->more = mores[i];
		mores[i] = NULL;
		free(line);
		for (int j = 0; j < 9; j++)
			free(cells[i][j]);
		free(cells[i]);
		free(copies[i]);
	}
	if (k == 0)
		rows_add(rs, PGR_ROLE_FAIL, NULL, "the store holds no dump and no base backup");
	free(cells);
	free(copies);
	free(mores);
	free(bad);
}

static void verdict_rows(struct rows *rs, const struct pgr_health *h, enum pgr_alert_id id)
{
	const struct pgr_verdict *v = &h->v[id];
	struct row *r = rows_level(rs, v->level, pgr_alert_name(id), "%-22s %s", pgr_alert_name(id), v->summary);
	struct strbuf m = STRBUF_INIT;
	sb_printf(&m, "%s (%s when it fires): %s\n", pgr_alert_name(id), v->severity ? v->severity : "?",
	          pgr_vlevel_name(v->level));
	sb_printf(&m, "why: %s\n", v->rule[0] ? v->rule : "(no rule recorded)");
	sb_printf(&m, "%s\n", v->summary);
	if (!v->prom_known)
		sb_append(&m, "Prometheus: not asked (not configured or not answering)\n");
	else
		sb_printf(&m, "Prometheus: %s%s\n", v->prom_firing ? "firing" : "not firing",
		          v->disagree ? "  (DISAGREES with pgrescue's own verdict)" : "");
	r->more = sb_steal(&m);
}

/* WHERE (may be NULL): which one, e.g. the store's URL, so that the engineer
 * sees what the console reads (--store may override the environment's). */
static void source_row(struct rows *rs, const char *name, const char *where, const struct pgr_source_state *s,
                       time_t now)
{
	char ago[48];
	const char *sep = where && *where ? "  " : "";
	if (!where)
		where = "";
	if (!s->configured) {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "%-10s not configured", name);
		return;
	}
	fmt_ago(now, s->last_ok, ago, sizeof ago);
	if (s->ok)
		rows_add(rs, PGR_ROLE_NORMAL, where[0] ? where : NULL, "%-10s answered in %.0f ms%s%s", name,
		         s->latency_ms, sep, where);
	else
		rows_add(rs, PGR_ROLE_FAIL, s->error, "%-10s UNREACHABLE: %s (last answered %s)%s%s", name, s->error,
		         ago, sep, where);
}

static void detail_wal(struct pgr_console *c, struct rows *rs)
{
	const struct pgr_snapshot *s = c->snap;
	const struct pgr_facts *f = &s->facts;
	const struct pgr_archiver_facts *a = &f->arch;
	char b1[64], b2[64];
	rows_heading(rs, "Archiver (pg_stat_archiver)");
	if (!f->db.ok) {
		fmt_ago(f->now, f->db.last_ok, b1, sizeof b1);
		rows_add(rs, PGR_ROLE_FAIL, f->db.error, "database unreachable: %s (last answered %s)", f->db.error,
		         b1);
	}
	if (a->known) {
		rows_add(rs, PGR_ROLE_NORMAL, a->archive_mode, "archive_mode          %s", a->archive_mode);
		rows_add(rs, PGR_ROLE_NORMAL, NULL, "archived_count        %" PRId64, a->archived_count);
		fmt_ago(f->now, a->last_archived_time, b1, sizeof b1);
		fmt_time(a->last_archived_time, b2, sizeof b2);
		rows_add(rs, PGR_ROLE_NORMAL, a->last_archived_wal, "last archived         %s  at %s (%s)",
		         a->last_archived_wal[0] ? a->last_archived_wal : "(none)", b2, b1);
		rows_add(rs, a->failed_count > 0 ? PGR_ROLE_WARN : PGR_ROLE_NORMAL, NULL,
		         "failed_count          %" PRId64, a->failed_count);
		fmt_ago(f->now, a->last_failed_time, b1, sizeof b1);
		fmt_time(a->last_failed_time, b2, sizeof b2);
		rows_add(rs, PGR_ROLE_NORMAL, a->last_failed_wal, "last failed           %s  at %s (%s)",
		         a->last_failed_wal[0] ? a->last_failed_wal : "(none)", b2, b1);
		rows_add(rs, PGR_ROLE_NORMAL, a->current_wal, "current segment       %s",
		         a->current_wal[0] ? a->current_wal : "-");
		if (a->pending >= 0) {
			fmt_ago(f->now, a->oldest_pending, b1, sizeof b1);
			rows_add(rs, a->pending > 0 ? PGR_ROLE_WARN : PGR_ROLE_NORMAL, NULL,
			         "waiting (.ready)      %" PRId64 " segment%s%s%s", a->pending,
			         a->pending == 1 ? "" : "s", a->pending > 0 ? ", oldest written " : "",
			         a->pending > 0 ? b1 : "");
		} else {
			rows_add(rs, PGR_ROLE_MUTED, NULL, "waiting (.ready)      unknown (needs pg_monitor)");
		}
	} else {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "pg_stat_archiver has not been read");
	}
	if (f->current_lsn) {
		pgr_lsn_format(f->current_lsn, b1, sizeof b1);
		rows_add(rs, PGR_ROLE_NORMAL, b1, "current LSN           %s", b1);
	}
	double lag;
	if (wal_lag(s, &lag)) {
		fmt_dur(lag, b1, sizeof b1);
		rows_add(rs, PGR_ROLE_NORMAL, NULL, "lag                   %s", b1);
	}
	if (f->server_version[0])
		rows_add(rs, PGR_ROLE_NORMAL, NULL, "server                PostgreSQL %s, %s, time zone %s",
		         f->server_version, f->in_recovery ? "in recovery (standby)" : "primary",
		         f->db_timezone[0] ? f->db_timezone : "?");

	rows_heading(rs, "Lag over the last hour (newest at the right)");
	double buckets[120], max;
	int n = lag_buckets(s, 60, buckets, &max);
	if (n == 0) {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "no samples yet");
	} else {
		struct strbuf sp = STRBUF_INIT;
		static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
		                                     "\u2585", "\u2586", "\u2587", "\u2588"};
		static const char ascii[] = "_.-:=+*#";
		for (int i = 0; i < n; i++) {
			int lv = buckets[i] < 0 ? -1 : max > 0 ? (int)(buckets[i] / max * 7.0 + 0.5) : 0;
			if (lv > 7)
				lv = 7;
			if (lv < 0)
				sb_append(&sp, c->unicode ? "\u00b7" : " ");
			else if (c->unicode)
				sb_append(&sp, blocks[lv]);
			else
				sb_append_len(&sp, &ascii[lv], 1);
		}
		fmt_dur(max, b1, sizeof b1);
		rows_add(rs, PGR_ROLE_OK, NULL, "%s  max %s", sb_str(&sp), b1);
		sb_free(&sp);
	}

	rows_heading(rs, "Store (wal-archive/)");
	if (f->have_catalog) {
		const struct pgr_catalog *cat = &f->catalog;
		fmt_size(cat->wal_seg_size, b1, sizeof b1);
		rows_add(rs, PGR_ROLE_NORMAL, NULL, "segments in store     %zu (segment size %s)", cat->n_wal, b1);
		if (cat->n_wal > 0) {
			const struct pgr_walseg *w = &cat->wal[cat->n_wal - 1];
			fmt_ago(f->now, w->mtime, b2, sizeof b2);
			rows_add(rs, PGR_ROLE_NORMAL, w->name, "newest in store       %s (written %s)", w->name, b2);
		}
		if (f->window.gap_after)
			rows_add(rs, PGR_ROLE_FAIL, f->window.gap_after, "gap                   %s is missing",
			         f->window.gap_after);
	} else {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "no catalog of the store yet");
	}
	rows_heading(rs, "Verdicts");
	verdict_rows(rs, &s->health, PGR_A_WAL_LAG);
	verdict_rows(rs, &s->health, PGR_A_WAL_FAILED);
}

/* Verdicts ordered worst first (FAIL, WARN, STALE, UNKNOWN, OK, N/A), stable. */
static int level_rank(enum pgr_vlevel l)
{
	switch (l) {
	case PGR_V_FAIL: return 0;
	case PGR_V_WARN: return 1;
	case PGR_V_STALE: return 2;
	case PGR_V_UNKNOWN: return 3;
	case PGR_V_OK: return 4;
	default: return 5;
	}
}

static int ordered_alerts(const struct pgr_health *h, int *ids)
{
	int n = 0;
	for (int rank = 0; rank <= 5; rank++)
		for (int i = 0; i < PGR_N_ALERTS; i++)
			if (level_rank(h->v[i].level) == rank)
				ids[n++] = i;
	return n;
}

static void detail_alerts(struct pgr_console *c, struct rows *rs)
{
	const struct pgr_snapshot *s = c->snap;
	int ids[PGR_N_ALERTS];
	int n = ordered_alerts(&s->health, ids);
	rows_heading(rs, "The runbook's alerts, evaluated by pgrescue (worst first); the rule is shown below");
	for (int i = 0; i < n; i++)
		verdict_rows(rs, &s->health, (enum pgr_alert_id)ids[i]);
	rows_heading(rs, "Sources");
	const struct pgr_facts *f = &s->facts;
	source_row(rs, "database", NULL, &f->db, f->now);
	source_row(rs, "store", c->env->store, &f->store, f->now);
	source_row(rs, "prometheus", NULL, &f->prom, f->now);
	source_row(rs, "platform", c->env->platform, &f->platform, f->now);
	if (f->prom.configured && f->prom.ok) {
		rows_heading(rs, "Firing in Prometheus");
		if (f->n_prom_firing == 0)
			rows_add(rs, PGR_ROLE_NORMAL, NULL, "(none)");
		for (int i = 0; i < f->n_prom_firing; i++)
			rows_add(rs, PGR_ROLE_WARN, f->prom_firing[i], "%s", f->prom_firing[i]);
	}
}

static void num_row(struct rows *rs, const char *label, const struct pgr_num *n, time_t now)
{
	char v[64], ago[48];
	num_str(n, v, sizeof v);
	fmt_ago(now, n->read_at, ago, sizeof ago);
	if (n->known)
		rows_add(rs, PGR_ROLE_NORMAL, v, "%-34s %-14s from %s, read %s", label, v, n->source, ago);
	else
		rows_add(rs, PGR_ROLE_MUTED, NULL, "%-34s missing", label);
}

static void detail_restore(struct pgr_console *c, struct rows *rs)
{
	const struct pgr_snapshot *s = c->snap;
	const struct pgr_facts *f = &s->facts;
	rows_heading(rs, "Restore test metrics");
	num_row(rs, "postgres_restore_test_success", &f->restore_success, f->now);
	num_row(rs, "postgres_restore_test_timestamp", &f->restore_timestamp, f->now);
	num_row(rs, "postgres_restore_test_duration_seconds", &f->restore_duration, f->now);
	num_row(rs, "restored clips", &f->restore_clip_count, f->now);
	num_row(rs, "restored users", &f->restore_user_count, f->now);
	rows_heading(rs, "Verdicts");
	verdict_rows(rs, &s->health, PGR_A_RESTORE_FAILED);
	verdict_rows(rs, &s->health, PGR_A_RESTORE_NOT_RUN);
	verdict_rows(rs, &s->health, PGR_A_RTO_EXCEEDED);
	rows_heading(rs, "Backup metrics");
	num_row(rs, "postgres_backup_success", &f->backup_success, f->now);
	num_row(rs, "postgres_backup_timestamp", &f->backup_timestamp, f->now);
	num_row(rs, "postgres_backup_size_bytes", &f->backup_size, f->now);
	num_row(rs, "backup_storage_used_bytes", &f->storage_used, f->now);
	num_row(rs, "backup_storage_total_bytes", &f->storage_total, f->now);
	verdict_rows(rs, &s->health, PGR_A_STORAGE_LOW);
}

static void detail_snapshots(struct pgr_console *c, struct rows *rs)
{
	const struct pgr_snapshot *s = c->snap;
	const struct pgr_facts *f = &s->facts;
	if (!f->snapshots_supported) {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "N/A: the %s platform has no volume snapshots",
		         c->env->platform ? c->env->platform : "local");
		rows_add(rs, PGR_ROLE_MUTED, NULL,
		         "(the base backups and archived WAL are this environment's recovery)");
	} else if (f->n_snapshots == 0) {
		rows_add(rs, PGR_ROLE_WARN, NULL, "no volume snapshots");
	}
	char t[64], a[48];
	for (int i = f->n_snapshots - 1; i >= 0; i--) {
		const struct pgr_snapshot_fact *sf = &f->snapshots[i];
		fmt_time(sf->created, t, sizeof t);
		fmt_ago(f->now, sf->created, a, sizeof a);
		rows_add(rs, sf->ready ? PGR_ROLE_NORMAL : PGR_ROLE_FAIL, sf->name, "%-40s %s (%s)  %s%s%s", sf->name,
		         t, a, sf->ready ? "ready" : "NOT READY", sf->error[0] ? ": " : "", sf->error);
	}
	rows_heading(rs, "Verdicts");
	verdict_rows(rs, &s->health, PGR_A_SNAPSHOT_FAILED);
	verdict_rows(rs, &s->health, PGR_A_NO_RECENT_SNAPSHOT);
}

static void detail_window(struct pgr_console *c, struct rows *rs)
{
	const struct pgr_facts *f = &c->snap->facts;
	const struct pgr_window *w = &f->window;
	char t1[64], t2[64], a[48];
	if (!f->have_catalog) {
		rows_add(rs, PGR_ROLE_MUTED, NULL, "no catalog of the store yet");
		return;
	}
	if (!w->exists) {
		rows_add(rs, PGR_ROLE_FAIL, NULL, "NO RECOVERABLE WINDOW: %s",
		         w->why_not ? w->why_not : "unknown reason");
		return;
	}
	bool from_commit;
	time_t latest = window_latest(f, &from_commit);
	fmt_time(w->earliest, t1, sizeof t1);
	rows_add(rs, PGR_ROLE_NORMAL, t1, "earliest        %s (stop of base backup %s)", t1,
	         w->earliest_base ? w->earliest_base : "?");
	fmt_time(latest, t2, sizeof t2);
	fmt_ago(f->now, latest, a, sizeof a);
	rows_add(rs, PGR_ROLE_NORMAL, t2, "latest          %s (%s; %s)", t2, a,
	         from_commit ? "the last archived commit" : "when the last continuous segment was written");
	rows_add(rs, PGR_ROLE_NORMAL, NULL, "timeline        %u", w->timeline);
	if (w->last_wal)
		rows_add(rs, PGR_ROLE_NORMAL, w->last_wal, "last segment    %s (end of the continuous run)",
		         w->last_wal);
	if (w->gap_after)
		rows_add(rs, PGR_ROLE_FAIL, w->gap_after,
		         "GAP             %s is missing: later archived WAL cannot be replayed", w->gap_after);
	const struct pgr_catalog *cat = &f->catalog;
	/* Every timeline's own window: after a PITR the old timeline stays
	 * restorable to its end (recovery_target_timeline). */
	struct pgr_window *wins = NULL;
	size_t nw = pgr_catalog_windows(cat, &wins);
	rows_heading(rs, "Window per timeline");
	for (size_t i = 0; i < nw; i++) {
		if (!wins[i].exists) {
			rows_add(rs, PGR_ROLE_MUTED, NULL, "timeline %-4u none: %s", wins[i].timeline,
			         wins[i].why_not ? wins[i].why_not : "no base backup reaches it");
			continue;
		}
		fmt_time(wins[i].earliest, t1, sizeof t1);
		fmt_time(wins[i].latest, t2, sizeof t2);
		rows_add(rs, wins[i].gap_after ? PGR_ROLE_WARN : PGR_ROLE_NORMAL, wins[i].last_wal,
		         "timeline %-4u %s .. %s  last %s%s", wins[i].timeline, t1, t2,
		         wins[i].last_wal ? wins[i].last_wal : "?", wins[i].gap_after ? "  GAP" : "");
	}
	pgr_windows_free(wins, nw);
	rows_heading(rs, "Base backups in the store");
	for (size_t i = cat->n_bases; i > 0; i--) {
		const struct pgr_base *b = &cat->bases[i - 1];
		bool in = b->complete && b->manifest.stop_time >= w->earliest;
		fmt_time(b->complete ? b->manifest.stop_time : 0, t1, sizeof t1);
		rows_add(rs, b->complete ? PGR_ROLE_NORMAL : PGR_ROLE_FAIL, b->label, "%s  stop %s  %s", b->label, t1,
		         !b->complete ? "INCOMPLETE"
		                 : in ? "in the window"
		                      : "before the window (its WAL is not continuous)");
	}
}

static void draw_detail(struct pgr_console *c, int y, int h)
{
	struct rows rs = {0};
	char head[512] = "";
	const struct pgr_health *hl = c->snap ? &c->snap->health : NULL;
	enum pgr_vlevel lv = PGR_V_UNKNOWN;
	char title[160];
	snprintf(title, sizeof title, "%s", pgr_panel_title(c->panel));
	if (!c->snap) {
		rows_add(&rs, PGR_ROLE_MUTED, NULL, "waiting for the first refresh");
	} else {
		switch (c->panel) {
		case PGR_PANEL_BACKUPS:
			detail_backups(c, &rs, head, sizeof head);
			lv = hl->backups;
			snprintf(title, sizeof title, "Backups: all %zu dumps and %zu base backups, newest first",
			         c->snap->facts.catalog.n_dumps, c->snap->facts.catalog.n_bases);
			break;
		case PGR_PANEL_WAL:
			detail_wal(c, &rs);
			lv = hl->wal;
			break;
		case PGR_PANEL_RESTORE:
			detail_restore(c, &rs);
			lv = hl->restore_tests;
			break;
		case PGR_PANEL_ALERTS:
			detail_alerts(c, &rs);
			lv = hl->overall;
			break;
		case PGR_PANEL_SNAPSHOTS:
			detail_snapshots(c, &rs);
			lv = hl->snapshots;
			break;
		case PGR_PANEL_WINDOW:
		default:
			detail_window(c, &rs);
			lv = hl->window;
			break;
		}
	}
	draw_list(c, &rs, head[0] ? head : NULL, y, 0, h, COLS, title, pgr_vlevel_name(lv), pgr_level_role(lv));
	rows_free(&rs);
}

/* ---------------------------------------------------------------- the audit screen */

static enum pgr_role audit_role(const char *word)
{
	if (!strcmp(word, "ok"))
		return PGR_ROLE_OK;
	if (!strcmp(word, "failed") || !strcmp(word, "refused"))
		return PGR_ROLE_FAIL;
	if (!strcmp(word, "cancelled"))
		return PGR_ROLE_WARN;
	return PGR_ROLE_MUTED;
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Every record of this environment, newest first: the outcome (or the
 * phase) as a word, when, who, the incident, the plan and step, the
 * command; the selected record in full under the list. */
static void draw_audit(struct pgr_console *c, int y, int h)
{
	struct rows rs = {0};
	struct pgr_w_table t = {7,
	                        {"Outcome", "Time (UTC)", "User", "Incident", "Plan", "Step", "Command / detail"},
	                        {9, 19, 16, 16, 8, 14, 0},
	                        {false, false, false, false, false, false, false},
	                        {0}};
	pgr_w_table_fit(&t, NULL);
	char(*cells)[7][160] = xcalloc((size_t)c->n_audit + 1, sizeof *cells);
	for (int i = 0; i < c->n_audit; i++) {
		const struct pgr_audit_row *r = &c->audit_rows[i];
		const char *word = r->outcome ? r->outcome : dash(r->phase);
		char when[40] = "-";
		if (r->time) {
			snprintf(when, sizeof when, "%.19s", r->time);
			char *T = strchr(when, 'T');
			if (T)
				*T = ' ';
		}
		snprintf(cells[i][0], sizeof cells[i][0], "%s", word);
		snprintf(cells[i][1], sizeof cells[i][1], "%s", when);
		snprintf(cells[i][2], sizeof cells[i][2], "%s", dash(r->user));
		snprintf(cells[i][3], sizeof cells[i][3], "%s", dash(r->incident));
		snprintf(cells[i][4], sizeof cells[i][4], "%s", dash(r->plan));
		snprintf(cells[i][5], sizeof cells[i][5], "%s", r->step ? r->step : dash(r->phase));
		snprintf(cells[i][6], sizeof cells[i][6], "%s%s%s", r->command ? r->command : "",
		         r->command && r->detail ? " | " : "", r->detail ? r->detail : "");
		const char *row[7];
		for (int k = 0; k < 7; k++)
			row[k] = cells[i][k];
		pgr_w_table_fit(&t, row);
	}
	char *head = pgr_w_table_line(&t, NULL);
	for (int i = 0; i < c->n_audit; i++) {
		const struct pgr_audit_row *r = &c->audit_rows[i];
		const char *row[7];
		for (int k = 0; k < 7; k++)
			row[k] = cells[i][k];
		char *line = pgr_w_table_line(&t, row);
		char seq[32];
		snprintf(seq, sizeof seq, "%lld", r->seq);
		struct row *w = rows_add(&rs, PGR_ROLE_NORMAL, seq, "%s", line);
		free(line);
		w->word_len = (int)strlen(cells[i][0]);
		w->word_role = audit_role(cells[i][0]);
		struct strbuf more = STRBUF_INIT;
		sb_printf(&more, "#%lld %s  %s  env %s  run %s  step %s  %s%s%s", r->seq, dash(r->time), dash(r->user),
		          dash(r->env), dash(r->run), dash(r->step), dash(r->phase), r->outcome ? " -> " : "",
		          r->outcome ? r->outcome : "");
		if (r->duration_ms >= 0)
			sb_printf(&more, "  (%lld ms)", r->duration_ms);
		sb_printf(&more, "\nincident %s: %s\n", dash(r->incident), dash(r->reason));
		if (r->command)
			sb_printf(&more, "command: %s\n", r->command);
		if (r->detail)
			sb_printf(&more, "detail: %s\n", r->detail);
		w->more = sb_steal(&more);
	}
	free(cells);
	char title[900];
	snprintf(title, sizeof title, "Audit log of %s, newest first: %s", c->env->name ? c->env->name : "?",
	         c->audit_verdict);
	draw_list(c, &rs, c->n_audit ? head : NULL, y, 0, h, COLS, title, c->audit_ok ? "OK" : "FAIL",
	          c->audit_ok ? PGR_ROLE_OK : PGR_ROLE_FAIL);
	if (!c->audit_ok)
		pgr_w_printf(y + 1, 3, COLS - 6, A(PGR_ROLE_FAIL) | BOLD, "%s", c->audit_verdict);
	free(head);
	rows_free(&rs);
}

/* ---------------------------------------------------------------- dashboard panels */

struct rect {
	int y, x, h, w;
};

/* Line i inside a panel (clipped to it). */
static void pline(const struct rect *r, int i, int attr, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void pline(const struct rect *r, int i, int attr, const char *fmt, ...)
{
	if (i < 0 || i >= r->h - 2)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pgr_w_put(r->y + 1 + i, r->x + 2, r->w - 3, attr, buf);
}

/* "store unreachable: ..." and when it last answered; returns lines used. */
static int source_down(const struct rect *r, int i, const char *what, const struct pgr_source_state *s, time_t now)
{
	char ago[48];
	fmt_ago(now, s->last_ok, ago, sizeof ago);
	pline(r, i, A(PGR_ROLE_FAIL) | BOLD, "%s unreachable: %s", what, s->error[0] ? s->error : "no answer");
	pline(r, i + 1, A(PGR_ROLE_MUTED), "last answered %s; retrying every refresh", ago);
	return 2;
}

/* "dump  20260102-101500 3m 10s ago, 1.5 MB"; without the label where it does not fit (the list has it). */
static void backup_line(const struct rect *r, int i, const char *kind, const char *label, const char *age,
                        const char *size)
{
	char line[200];
	snprintf(line, sizeof line, "%s  %-15s %s, %s", kind, label, age, size);
	if (pgr_w_width(line) > r->w - 3)
		snprintf(line, sizeof line, "newest %s  %s  %s", kind, age, size);
	pline(r, i, A(PGR_ROLE_NORMAL), "%s", line);
}

static void panel_backups(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_facts *f = &c->snap->facts;
	int i = 0;
	char age[48], size[32], lab[64];
	if (f->store.configured && !f->store.ok)
		i += source_down(r, i, "store", &f->store, f->now);
	if (!f->store.configured && !f->have_catalog) {
		pline(r, i, A(PGR_ROLE_UNKNOWN), "no store configured for this environment");
		return;
	}
	if (!f->have_catalog) {
		pline(r, i, A(PGR_ROLE_MUTED), "no catalog of the store yet");
		return;
	}
	const struct pgr_catalog *cat = &f->catalog;
	const struct pgr_dump *d = pgr_catalog_newest_dump(cat);
	const struct pgr_base *b = pgr_catalog_newest_base(cat);
	if (d) {
		fmt_ago(f->now, d->time, age, sizeof age);
		fmt_size(d->size, size, sizeof size);
		dump_label(d, lab, sizeof lab);
		backup_line(r, i++, "dump", lab, age, size);
	} else {
		pline(r, i++, A(PGR_ROLE_FAIL) | BOLD, "dump  NONE: no good dump in the store");
	}
	if (b) {
		fmt_ago(f->now, b->manifest.stop_time, age, sizeof age);
		fmt_size(b->size, size, sizeof size);
		backup_line(r, i++, "base", b->label, age, size);
	} else {
		pline(r, i++, A(PGR_ROLE_FAIL) | BOLD, "base  NONE: no complete base backup");
	}
	/* A failure newer than the newest good one is shown, never hidden. */
	if (cat->n_dumps > 0 && !cat->dumps[cat->n_dumps - 1].good) {
		dump_label(&cat->dumps[cat->n_dumps - 1], lab, sizeof lab);
		pline(r, i++, A(PGR_ROLE_FAIL) | BOLD, "FAILED dump %s (newest attempt)", lab);
	}
	if (cat->n_bases > 0 && !cat->bases[cat->n_bases - 1].complete)
		pline(r, i++, A(PGR_ROLE_WARN) | BOLD, "INCOMPLETE base %s (newest attempt)",
		      cat->bases[cat->n_bases - 1].label);
	if (i >= r->h - 2)
		return;
	pline(r, i++, A(PGR_ROLE_MUTED), "%zu dump%s, %zu base backup%s, %zu WAL files", cat->n_dumps,
	      cat->n_dumps == 1 ? "" : "s", cat->n_bases, cat->n_bases == 1 ? "" : "s", cat->n_wal);
	/* Space where the store lives, as BackupStorageLow sees it (when there is room for it). */
	if (i < r->h - 3 && f->storage_used.known && f->storage_total.known && f->storage_total.value > 0) {
		double frac = f->storage_used.value / f->storage_total.value;
		char tot[32], tail[64];
		fmt_size((uint64_t)f->storage_total.value, tot, sizeof tot);
		snprintf(tail, sizeof tail, " %.0f%% of %s used", frac * 100.0, tot);
		int mw = r->w - 3 - 6 - pgr_w_width(tail);
		if (mw > 20)
			mw = 20;
		if (mw >= 5) {
			int y = r->y + 1 + i;
			pgr_w_put(y, r->x + 2, 6, A(PGR_ROLE_MUTED), "space ");
			pgr_w_meter(y, r->x + 8, mw, frac, c->unicode, A(frac > 0.85 ? PGR_ROLE_WARN : PGR_ROLE_OK),
			            A(PGR_ROLE_MUTED));
			pgr_w_put(y, r->x + 8 + mw, r->w - 9 - mw, A(frac > 0.85 ? PGR_ROLE_WARN : PGR_ROLE_MUTED),
			          tail);
			i++;
		}
	}
	/* The short list: newest first, filtered by `/`. */
	size_t di = cat->n_dumps, bi = cat->n_bases;
	while (i < r->h - 2 && (di > 0 || bi > 0)) {
		const struct pgr_dump *dd = di > 0 ? &cat->dumps[di - 1] : NULL;
		const struct pgr_base *bb = bi > 0 ? &cat->bases[bi - 1] : NULL;
		time_t bt = 0;
		if (bb && !pgr_label_parse(bb->label, &bt))
			bt = bb->manifest.start_time;
		char line[200];
		bool bad;
		if (dd && (!bb || dd->time >= bt)) {
			dump_label(dd, lab, sizeof lab);
			fmt_size(dd->size, size, sizeof size);
			snprintf(line, sizeof line, "%s dump %7s %s", lab, size, dd->good ? "good" : "FAILED");
			bad = !dd->good;
			di--;
		} else if (bb) {
			fmt_size(bb->size, size, sizeof size);
			snprintf(line, sizeof line, "%s base %7s %s", bb->label, size,
			         bb->complete ? "complete" : "INCOMPLETE");
			bad = !bb->complete;
			bi--;
		} else {
			break;
		}
		if (!contains_ci(line, c->filter))
			continue;
		pline(r, i++, A(bad ? PGR_ROLE_FAIL : PGR_ROLE_NORMAL), "%s", line);
	}
}

static void panel_wal(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_snapshot *s = c->snap;
	const struct pgr_facts *f = &s->facts;
	const struct pgr_archiver_facts *a = &f->arch;
	int i = 0;
	char b1[64], b2[64];
	bool down = f->db.configured && !f->db.ok;
	if (down)
		i += source_down(r, i, "database", &f->db, f->now);
	int attr = A(down ? PGR_ROLE_MUTED : PGR_ROLE_NORMAL);
	double lag;
	if (!down && wal_lag(s, &lag)) {
		fmt_dur(lag, b1, sizeof b1);
		if (a->known && a->pending >= 0)
			pline(r, i++, attr, "lag       %s (%" PRId64 " segment%s waiting)", b1, a->pending,
			      a->pending == 1 ? "" : "s");
		else
			pline(r, i++, attr, "lag       %s", b1);
	} else if (!down) {
		pline(r, i++, A(PGR_ROLE_UNKNOWN), "lag       unknown");
	}
	if (a->known) {
		fmt_ago(f->now, a->last_archived_time, b1, sizeof b1);
		const char *seg = a->last_archived_wal[0] ? a->last_archived_wal : "(none)";
		if (r->w - 3 >= 10 + pgr_w_width(b1) + 2 + 24) {
			pline(r, i++, attr, "archived  %s  %s", b1, seg);
		} else { /* narrow: the age and the segment on lines of their own */
			pline(r, i++, attr, "archived  %s", b1);
			if (i < r->h - 3)
				pline(r, i++, attr, "segment   %s", seg);
		}
		bool failing = a->last_failed_time > 0 && a->last_failed_time >= a->last_archived_time;
		fmt_ago(f->now, a->last_failed_time, b2, sizeof b2);
		if (a->failed_count == 0)
			pline(r, i++, attr, "failures  0");
		else
			pline(r, i++, down ? attr : A(failing ? PGR_ROLE_FAIL : PGR_ROLE_NORMAL) | (failing ? BOLD : 0),
			      "failures  %" PRId64 "%s, last %s %s", a->failed_count, failing ? " FAILING" : "",
			      a->last_failed_wal, b2);
	} else if (!down) {
		pline(r, i++, A(PGR_ROLE_MUTED), "pg_stat_archiver not read yet");
	}
	if (i < r->h - 3 && f->current_lsn) {
		pgr_lsn_format(f->current_lsn, b1, sizeof b1);
		pline(r, i++, attr, "current   %s %s", b1, a->current_wal);
	}
	if (i < r->h - 2) {
		/* The sparkline: an hour of lag, right-aligned, newest at the right. */
		const char *lbl = "lag 1h    ";
		int lw = (int)strlen(lbl);
		int sw = r->w - 3 - lw - 10;
		double buckets[512], max;
		if (sw > 512)
			sw = 512;
		int n = lag_buckets(s, sw, buckets, &max);
		pline(r, i, A(PGR_ROLE_MUTED), "%s", lbl);
		if (n == 0) {
			pgr_w_put(r->y + 1 + i, r->x + 2 + lw, sw, A(PGR_ROLE_MUTED), "no samples yet");
		} else {
			pgr_w_sparkline(r->y + 1 + i, r->x + 2 + lw, sw, buckets, n, max, c->unicode, A(PGR_ROLE_OK));
			fmt_dur(max, b1, sizeof b1);
			pgr_w_printf(r->y + 1 + i, r->x + 2 + lw + sw + 1, 9, A(PGR_ROLE_MUTED), "max %s", b1);
		}
	}
}

static void panel_restore(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_facts *f = &c->snap->facts;
	char a[48], d[32];
	if (!f->restore_timestamp.known && !f->restore_success.known) {
		pline(r, 0, A(PGR_ROLE_UNKNOWN), "no restore test recorded");
		return;
	}
	fmt_ago(f->now, (time_t)f->restore_timestamp.value, a, sizeof a);
	bool passed = f->restore_success.known && f->restore_success.value != 0;
	if (f->restore_duration.known)
		fmt_dur(f->restore_duration.value, d, sizeof d);
	else
		snprintf(d, sizeof d, "?");
	pline(r, 0, A(passed ? PGR_ROLE_NORMAL : PGR_ROLE_FAIL) | (passed ? 0 : BOLD), "last test %s: %s, took %s",
	      f->restore_timestamp.known ? a : "(time unknown)",
	      !f->restore_success.known ? "result unknown"
	              : passed          ? "passed"
	                                : "FAILED",
	      d);
	if (f->restore_clip_count.known || f->restore_user_count.known)
		pline(r, 1, A(PGR_ROLE_MUTED), "restored %.0f users, %.0f clips", f->restore_user_count.value,
		      f->restore_clip_count.value);
}

/* Greedy word wrap into at most max lines of width columns; returns the lines used. */
static int wrap(const char *text, int width, char lines[][200], int max)
{
	int n = 0;
	const char *p = text;
	if (width < 8)
		return 0;
	while (*p && n < max) {
		while (*p == ' ')
			p++;
		size_t len = strlen(p);
		size_t take = len;
		if ((int)len > width) {
			take = (size_t)width;
			while (take > 0 && p[take] != ' ')
				take--;
			if (take == 0)
				take = (size_t)width;
		}
		if (take >= 200)
			take = 199;
		memcpy(lines[n], p, take);
		lines[n][take] = 0;
		n++;
		p += take;
	}
	return n; /* what did not fit is dropped: the Alerts view has all of it */
}

static void panel_alerts(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_health *h = &c->snap->health;
	const struct pgr_facts *f = &c->snap->facts;
	int ids[PGR_N_ALERTS], keep[PGR_N_ALERTS];
	int n = ordered_alerts(h, ids), nk = 0;
	int room = r->h - 2 - (f->prom.configured ? 1 : 0);
	for (int k = 0; k < n; k++) {
		const struct pgr_verdict *v = &h->v[ids[k]];
		if (contains_ci(pgr_alert_name(v->id), c->filter) || contains_ci(v->summary, c->filter) ||
		    contains_ci(pgr_vlevel_name(v->level), c->filter))
			keep[nk++] = ids[k];
	}
	/* Lines to spare go to the firing verdicts' summaries, word-wrapped under
	 * their names: why the panel is red, without opening it. */
	int spare = room - nk;
	int x0 = r->x + 2, tw = r->w - 4;
	int i = 0;
	for (int k = 0; k < nk && i < room; k++) {
		const struct pgr_verdict *v = &h->v[keep[k]];
		int y = r->y + 1 + i;
		pgr_w_printf(y, x0, 8, A(pgr_level_role(v->level)) | BOLD, "%-7s", pgr_vlevel_name(v->level));
		char text[400];
		snprintf(text, sizeof text, "%s%s", v->disagree ? "[Prometheus disagrees] " : "", v->summary);
		int role = A(v->disagree ? PGR_ROLE_WARN : PGR_ROLE_NORMAL);
		bool firing = v->level == PGR_V_FAIL || v->level == PGR_V_WARN || v->disagree;
		char lines[8][200];
		int nl = firing ? wrap(text, tw - 8, lines, 8) : 0;
		if (nl > spare)
			nl = spare; /* as much as fits; the Alerts view has all of it */
		if (nl > 8)
			nl = 8;
		if (firing && nl > 0 && i + nl < room) {
			pgr_w_put(y, x0 + 8, tw - 8, A(PGR_ROLE_NORMAL) | BOLD, pgr_alert_name(v->id));
			for (int l = 0; l < nl; l++)
				pgr_w_put(y + 1 + l, x0 + 8, tw - 8, role, lines[l]);
			i += 1 + nl;
			spare -= nl;
			continue;
		}
		pgr_w_printf(y, x0 + 8, tw - 8, A(PGR_ROLE_NORMAL), "%-22s ", pgr_alert_name(v->id));
		pgr_w_put(y, x0 + 8 + 23, tw - 8 - 23, role, text);
		i++;
	}
	if (f->prom.configured) {
		int firing = 0, dis = 0;
		for (int k = 0; k < PGR_N_ALERTS; k++) {
			firing += h->v[k].prom_firing;
			dis += h->v[k].disagree;
		}
		if (!f->prom.ok)
			pline(r, r->h - 3, A(PGR_ROLE_STALE), "Prometheus unreachable: %s", f->prom.error);
		else
			pline(r, r->h - 3, A(dis ? PGR_ROLE_WARN : PGR_ROLE_MUTED),
			      "Prometheus: %d firing, %d disagreement%s", firing, dis, dis == 1 ? "" : "s");
	}
}

static void panel_snapshots(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_facts *f = &c->snap->facts;
	if (!f->snapshots_supported) {
		pline(r, 0, A(PGR_ROLE_MUTED), "N/A: the %s platform has no volume snapshots",
		      c->env->platform ? c->env->platform : "local");
		return;
	}
	if (f->platform.configured && !f->platform.ok) {
		source_down(r, 0, "platform", &f->platform, f->now);
		return;
	}
	if (f->n_snapshots == 0) {
		pline(r, 0, A(PGR_ROLE_WARN), "no volume snapshots");
		return;
	}
	char a[48];
	int i = 0;
	for (int k = f->n_snapshots - 1; k >= 0 && i < r->h - 2; k--, i++) {
		const struct pgr_snapshot_fact *s = &f->snapshots[k];
		fmt_ago(f->now, s->created, a, sizeof a);
		pline(r, i, A(s->ready ? PGR_ROLE_NORMAL : PGR_ROLE_FAIL), "%s %s %s", s->ready ? "ready" : "NOT READY",
		      a, s->name);
	}
}

static void panel_window(struct pgr_console *c, const struct rect *r)
{
	const struct pgr_facts *f = &c->snap->facts;
	const struct pgr_window *w = &f->window;
	if (!f->have_catalog) {
		pline(r, 0, A(PGR_ROLE_MUTED), "no catalog of the store yet");
		return;
	}
	if (!w->exists) {
		pline(r, 0, A(PGR_ROLE_FAIL) | BOLD, "NO RECOVERABLE WINDOW: %s", w->why_not ? w->why_not : "unknown");
		pline(r, 1, A(PGR_ROLE_MUTED), "point-in-time recovery is impossible until a base backup has its WAL");
		return;
	}
	bool from_commit;
	time_t latest = window_latest(f, &from_commit);
	time_t now = f->now > latest ? f->now : latest;
	time_t t0 = w->earliest;
	time_t newest_wal = 0;
	for (size_t i = 0; i < f->catalog.n_wal; i++)
		if (f->catalog.wal[i].mtime > newest_wal)
			newest_wal = f->catalog.wal[i].mtime;
	int bw = r->w - 4;
	double span = (double)(now - t0);
	if (span < 1)
		span = 1;
	int y = r->y + 1, x = r->x + 2;
	for (int col = 0; col < bw; col++) {
		time_t t = t0 + (time_t)(span * (col + 1) / bw);
		const char *g;
		int attr;
		if (col == bw - 1) {
			g = c->unicode ? "\u2502" : "|";
			attr = A(PGR_ROLE_HEADER) | BOLD; /* now */
		} else if (t <= latest || col == 0) {
			g = c->unicode ? "\u2588" : "#";
			attr = A(PGR_ROLE_OK);
		} else if (w->gap_after && t <= newest_wal) {
			bool first = t0 + (time_t)(span * col / bw) <= latest;
			g = first ? (c->unicode ? "\u2573" : "X") : (c->unicode ? "\u2592" : "x");
			attr = A(PGR_ROLE_FAIL) | (first ? BOLD : 0);
		} else {
			g = c->unicode ? "\u2591" : ".";
			attr = A(PGR_ROLE_MUTED);
		}
		pgr_w_put(y, x + col, 1, attr, g);
	}
	char t1[64], t2[64], a[48], left[4][200], right[4][200];
	fmt_time(t0, t1, sizeof t1);
	fmt_time(latest, t2, sizeof t2);
	fmt_ago(f->now, latest, a, sizeof a);
	const char *gap = w->gap_after;
	const char *h1 = strchr(t1, ' ') ? strchr(t1, ' ') + 1 : t1, *h2 = strchr(t2, ' ') ? strchr(t2, ' ') + 1 : t2;
	/* From the fullest labels to the shortest: the first pair that fits. */
	snprintf(left[0], sizeof left[0], "earliest %s (base %s)", t1, w->earliest_base ? w->earliest_base : "?");
	snprintf(left[1], sizeof left[1], "from %s", t1);
	snprintf(left[2], sizeof left[2], "from %s", t1);
	snprintf(left[3], sizeof left[3], "from %s", h1);
	if (gap) {
		snprintf(right[0], sizeof right[0], "latest %s (%s)  GAP at %s  now", t2, a, gap);
		snprintf(right[1], sizeof right[1], "latest %s (%s)  GAP at %s  now", t2, a, gap);
		snprintf(right[2], sizeof right[2], "to %s  GAP at %s  now", t2, gap);
		snprintf(right[3], sizeof right[3], "to %s  GAP at %s  now", h2, gap);
	} else {
		snprintf(right[0], sizeof right[0], "latest %s (%s)  now", t2, a);
		snprintf(right[1], sizeof right[1], "latest %s (%s)  now", t2, a);
		snprintf(right[2], sizeof right[2], "to %s (%s)  now", t2, a);
		snprintf(right[3], sizeof right[3], "to %s  now", h2);
	}
	int k = 0;
	while (k < 3 && pgr_w_width(left[k]) + pgr_w_width(right[k]) + 2 > bw)
		k++;
	int rw = pgr_w_width(right[k]);
	pgr_w_put(y + 1, x, bw - rw - 2, A(PGR_ROLE_NORMAL), left[k]);
	pgr_w_put(y + 1, x + (rw < bw ? bw - rw : 0), bw, A(gap ? PGR_ROLE_FAIL : PGR_ROLE_NORMAL), right[k]);
}

static void dashboard(struct pgr_console *c, int top, int bottom)
{
	/* Window bar: 4 rows at the bottom; two columns above it. */
	int wh = 4;
	int ah = bottom - top - wh;
	int lw = COLS / 2;
	struct rect r[PGR_N_PANELS];
	int rest = ah - 4;
	int bh = rest / 2; /* WAL gets the odd row: its sparkline must fit at 80x24 */
	r[PGR_PANEL_BACKUPS] = (struct rect){top, 0, bh, lw};
	r[PGR_PANEL_WAL] = (struct rect){top + bh, 0, rest - bh, lw};
	r[PGR_PANEL_RESTORE] = (struct rect){top + rest, 0, 4, lw};
	/* Snapshots needs one line where the platform has none; Alerts takes the rest. */
	bool snaps = c->snap && c->snap->facts.snapshots_supported;
	int alh = snaps ? (ah - 3 < 13 ? ah - 3 : 13) : ah - 3;
	r[PGR_PANEL_ALERTS] = (struct rect){top, lw, alh, COLS - lw};
	r[PGR_PANEL_SNAPSHOTS] = (struct rect){top + alh, lw, ah - alh, COLS - lw};
	r[PGR_PANEL_WINDOW] = (struct rect){top + ah, 0, wh, COLS};

	for (int p = 0; p < PGR_N_PANELS; p++) {
		enum pgr_vlevel lv = PGR_V_UNKNOWN;
		if (c->snap) {
			const struct pgr_health *h = &c->snap->health;
			switch (p) {
			case PGR_PANEL_BACKUPS: lv = h->backups; break;
			case PGR_PANEL_WAL: lv = h->wal; break;
			case PGR_PANEL_RESTORE: lv = h->restore_tests; break;
			case PGR_PANEL_ALERTS: lv = h->overall; break;
			case PGR_PANEL_SNAPSHOTS: lv = h->snapshots; break;
			default: lv = h->window; break;
			}
		}
		char title[320];
		if (c->filter[0] && (p == PGR_PANEL_BACKUPS || p == PGR_PANEL_ALERTS))
			snprintf(title, sizeof title, "%s /%s", pgr_panel_title((enum pgr_panel)p), c->filter);
		else
			snprintf(title, sizeof title, "%s", pgr_panel_title((enum pgr_panel)p));
		pgr_w_box(r[p].y, r[p].x, r[p].h, r[p].w, title, pgr_vlevel_name(lv), pgr_level_role(lv),
		          c->panel == (enum pgr_panel)p, c->unicode);
		if (!c->snap) {
			pline(&r[p], 0, A(PGR_ROLE_MUTED), "waiting for the first refresh...");
			continue;
		}
		switch (p) {
		case PGR_PANEL_BACKUPS: panel_backups(c, &r[p]); break;
		case PGR_PANEL_WAL: panel_wal(c, &r[p]); break;
		case PGR_PANEL_RESTORE: panel_restore(c, &r[p]); break;
		case PGR_PANEL_ALERTS: panel_alerts(c, &r[p]); break;
		case PGR_PANEL_SNAPSHOTS: panel_snapshots(c, &r[p]); break;
		default: panel_window(c, &r[p]); break;
		}
	}
	/* What `y` copies from the dashboard: the selected panel's key value. */
	c->sel_copy[0] = 0;
	if (!c->snap)
		return;
	const struct pgr_facts *f = &c->snap->facts;
	switch (c->panel) {
	case PGR_PANEL_BACKUPS:
		if (f->have_catalog) {
			const struct pgr_base *b = pgr_catalog_newest_base(&f->catalog);
			const struct pgr_dump *d = pgr_catalog_newest_dump(&f->catalog);
			snprintf(c->sel_copy, sizeof c->sel_copy, "%s", b ? b->label : d ? d->key : "");
		}
		break;
	case PGR_PANEL_WAL:
		if (f->current_lsn)
			pgr_lsn_format(f->current_lsn, c->sel_copy, sizeof c->sel_copy);
		else
			snprintf(c->sel_copy, sizeof c->sel_copy, "%s", f->arch.last_archived_wal);
		break;
	case PGR_PANEL_WINDOW:
		if (f->window.exists) {
			bool fc;
			pgr_time_format_utc(window_latest(f, &fc), c->sel_copy, sizeof c->sel_copy);
		}
		break;
	case PGR_PANEL_SNAPSHOTS:
		if (f->n_snapshots > 0)
			snprintf(c->sel_copy, sizeof c->sel_copy, "%s", f->snapshots[f->n_snapshots - 1].name);
		break;
	default: break;
	}
}

/* ---------------------------------------------------------------- header, message, frame */

static void header(struct pgr_console *c, double now_mono)
{
	int y = 0, x = 0, hattr = A(PGR_ROLE_HEADER);
	pgr_w_blank(y, 0, COLS, hattr);
	struct seg {
		char text[200];
		int attr;
	} segs[12];
	int n = 0;
#define SEG(a, ...)                                                                                                    \
	do {                                                                                                           \
		snprintf(segs[n].text, sizeof segs[n].text, __VA_ARGS__);                                              \
		segs[n].attr = (a);                                                                                    \
		n++;                                                                                                   \
	} while (0)
	SEG(hattr | BOLD, "pgrescue");
	if (c->monitor)
		SEG(A(PGR_ROLE_READONLY) | BOLD, "READ-ONLY");
	else
		SEG(hattr | BOLD, "RW");
	/* STALE: a configured source did not answer, or no refresh came in time. */
	char stale[160] = "";
	if (c->snap) {
		const struct pgr_facts *f = &c->snap->facts;
		const struct {
			const char *name;
			const struct pgr_source_state *s;
		} src[] = {{"database", &f->db},
		           {"store", &f->store},
		           {"prometheus", &f->prom},
		           {"platform", &f->platform}};
		for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
			if (src[i].s->configured && !src[i].s->ok) {
				size_t len = strlen(stale);
				snprintf(stale + len, sizeof stale - len, "%s%s", len ? ", " : "", src[i].name);
			}
		double late = now_mono - c->snap_mono;
		double allowed = 2.0 * c->interval_ms / 1000.0 + 10.0;
		if (!c->paused && late > allowed && !stale[0])
			snprintf(stale, sizeof stale, "no refresh for %.0f s", late);
	}
	if (stale[0])
		SEG(A(PGR_ROLE_STALE) | BOLD, "STALE: %s", stale);
	if (c->paused)
		SEG(A(PGR_ROLE_WARN) | BOLD, "PAUSED");
	SEG(hattr, "env %s", c->env->name ? c->env->name : "?");
	SEG(hattr, "db %s", c->dbname);
	if (c->snap) {
		char a[48];
		fmt_ago(pgr_now(), c->snap->facts.now, a, sizeof a);
		SEG(hattr, "updated %s", a);
	} else {
		SEG(hattr, "waiting for the first refresh");
	}
	if (c->interval_ms % 1000)
		SEG(hattr, "every %.1fs", c->interval_ms / 1000.0);
	else
		SEG(hattr, "every %ds", c->interval_ms / 1000);
	SEG(hattr, "%s", c->env->platform ? c->env->platform : "local");
#undef SEG
	int i = 0;
	for (; i < n; i++) {
		int w = pgr_w_width(segs[i].text);
		if (x + w > COLS)
			break;
		x += pgr_w_put(y, x, COLS - x, segs[i].attr, segs[i].text);
		x += 2;
	}
	/* Last, in what room is left: the store the console reads, which --store
	 * may have set to another than the environment's. A long URL keeps its
	 * scheme and its tail (bucket or container, and the prefix). */
	const char *store = c->env->store;
	if (i == n && store && *store && COLS - x >= 16) {
		char s[200];
		int room = COLS - x - 6, len = (int)strlen(store); /* "store " */
		if (len <= room) {
			snprintf(s, sizeof s, "store %s", store);
		} else {
			/* The scheme, then as much of the tail (container or bucket, prefix) as fits. */
			const char *sep = strstr(store, "://");
			int head = sep ? (int)(sep - store) + 3 : 0;
			if (head > (room - 3) / 2)
				head = (room - 3) / 2;
			int tail = room - 3 - head;
			while (head > 0 && ((unsigned char)store[head] & 0xC0) == 0x80)
				head--; /* not inside a UTF-8 character */
			while (tail > 0 && ((unsigned char)store[len - tail] & 0xC0) == 0x80)
				tail--;
			snprintf(s, sizeof s, "store %.*s...%s", head, store, store + len - tail);
		}
		pgr_w_put(y, x, COLS - x, hattr, s);
	}
}

void pgr_screen_draw(struct pgr_console *c)
{
	double now_mono = pgr_monotonic();
	erase();
	if (COLS < PGR_MIN_COLS || LINES < PGR_MIN_ROWS) {
		char m1[120], m2[80];
		snprintf(m1, sizeof m1, "terminal too small (need %dx%d, have %dx%d)", PGR_MIN_COLS, PGR_MIN_ROWS, COLS,
		         LINES);
		snprintf(m2, sizeof m2, "enlarge the window, or press q to quit");
		int y = LINES / 2 - 1;
		int w1 = pgr_w_width(m1), w2 = pgr_w_width(m2);
		pgr_w_put(y, w1 < COLS ? (COLS - w1) / 2 : 0, COLS, A(PGR_ROLE_WARN) | BOLD, m1);
		pgr_w_put(y + 1, w2 < COLS ? (COLS - w2) / 2 : 0, COLS, A(PGR_ROLE_MUTED), m2);
		c->sel_copy[0] = 0;
		return;
	}
	header(c, now_mono);
	int top = 1, bottom = LINES - 2; /* rows [top, bottom) for panels; message, footer */
	if (c->wiz)
		pgr_wiz_draw(c, top, bottom);
	else if (c->audit)
		draw_audit(c, top, bottom - top);
	else if (c->detail)
		draw_detail(c, top, bottom - top);
	else
		dashboard(c, top, bottom);

	/* The message row; when it is free, the banner of an unfinished run. */
	if (c->msg[0])
		pgr_w_put(LINES - 2, 1, COLS - 2, A(c->msg_role) | BOLD, c->msg);
	else if (c->banner[0] && !c->wiz)
		pgr_w_put(LINES - 2, 1, COLS - 2,
		          A(c->banner_status == PGR_RUN_RUNNING ? PGR_ROLE_WARN : PGR_ROLE_DANGER) | BOLD, c->banner);
	if (!c->wiz)
		pgr_w_footer(LINES - 1, COLS, c->monitor, c->monitor ? "read-only monitor" : NULL);

	if (c->confirm != PGR_ACT_NONE) {
		char l1[300], l2[300], l3[600];
		snprintf(l1, sizeof l1, "Start a backup of environment %s (database %s) now?", c->env->name, c->dbname);
		snprintf(l2, sizeof l2,
		         "It runs `pgrescue backup` in the background: a dump, a base backup, retention.");
		snprintf(l3, sizeof l3, "Into the store %s",
		         c->env->store && *c->env->store ? c->env->store : "(none)");
		const char *lines[] = {l1, l2, l3, "", "y: start the backup      any other key: cancel"};
		pgr_w_dialog("Backup", lines, 5, PGR_ROLE_DANGER, c->unicode);
	}
	if (c->help)
		pgr_w_help(c);
}
