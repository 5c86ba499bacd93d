/* The window bars and the event scan of the PITR target picker. The bars
 * are drawn from the catalog the collector already read (no I/O); the scan
 * reads WAL through core's walscan in a thread. No libpq or libcurl here. */
#include "config.h"

#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "console.h"
#include "picker.h"
#include "storage/storage.h"
#include "theme.h"

#define BOLD ((int)A_BOLD)

static int A(enum pgr_role r)
{
	return pgr_theme_attr(r);
}

/* ------------------------------------------------------------ the bars */

bool pgr_picker_axis(const struct pgr_catalog *cat, time_t now, time_t *from, time_t *to)
{
	time_t first = 0;
	for (size_t i = 0; i < cat->n_bases; i++) {
		const struct pgr_base *b = &cat->bases[i];
		if (b->complete && b->manifest.start_time && (!first || b->manifest.start_time < first))
			first = b->manifest.start_time;
	}
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT && cat->wal[i].mtime &&
		    (!first || cat->wal[i].mtime < first))
			first = cat->wal[i].mtime;
	if (!first)
		return false;
	time_t last = now;
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].mtime > last)
			last = cat->wal[i].mtime;
	if (last <= first)
		last = first + 60;
	time_t margin = (last - first) / 40;
	*from = first - (margin ? margin : 1);
	*to = last;
	return true;
}

enum cell { C_NONE, C_WAL, C_OK, C_GAP };

struct bar {
	int w;
	time_t from, to;
};

static int col_of(const struct bar *b, time_t t)
{
	if (t <= b->from)
		return 0;
	if (t >= b->to)
		return b->w - 1;
	return (int)((double)(t - b->from) * (b->w - 1) / (double)(b->to - b->from) + 0.5);
}

static time_t time_of(const struct bar *b, int col)
{
	return b->from + (time_t)((double)col * (double)(b->to - b->from) / (b->w - 1));
}

static void mark(enum cell *row, const struct bar *b, time_t t0, time_t t1, enum cell c)
{
	int a = col_of(b, t0), z = col_of(b, t1);
	for (int i = a; i <= z && i < b->w; i++)
		if (row[i] < c || c == C_GAP)
			row[i] = c;
}

/* Seconds matter on an axis shorter than a few hours. */
static void fmt_axis(time_t t, bool secs, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, secs ? "%m-%d %H:%M:%S" : "%m-%d %H:%M", &tm);
}

int pgr_picker_draw_bars(const struct pgr_facts *f, bool has_cursor, time_t cursor, int y, int x, int width,
                         int max_rows, bool unicode)
{
	const struct pgr_catalog *cat = &f->catalog;
	time_t now = f->now ? f->now : time(NULL);
	struct bar b;
	if (max_rows < 3 || !pgr_picker_axis(cat, now, &b.from, &b.to)) {
		pgr_w_put(y, x, width, A(PGR_ROLE_MUTED), "Recoverable window: nothing archived to draw yet");
		return 1;
	}
	const int label_w = 7;
	b.w = width - label_w - 1;
	if (b.w < 20) {
		pgr_w_put(y, x, width, A(PGR_ROLE_WARN), "Recoverable window: the terminal is too narrow for the bars");
		return 1;
	}
	/* Timelines with archived segments, oldest first (cat->wal is sorted by name). */
	uint32_t tlis[16];
	int nt = 0;
	for (size_t i = 0; i < cat->n_wal && nt < 16; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT && (nt == 0 || tlis[nt - 1] != cat->wal[i].wn.tli))
			tlis[nt++] = cat->wal[i].wn.tli;
	int rows_for_bars = max_rows - 3;
	if (nt > rows_for_bars) {
		/* The newest timelines matter most. */
		memmove(tlis, tlis + (nt - rows_for_bars), (size_t)rows_for_bars * sizeof tlis[0]);
		nt = rows_for_bars;
	}
	struct pgr_span *sp = NULL;
	size_t ns = pgr_catalog_spans(cat, &sp);
	int yy = y;
	pgr_w_printf(yy++, x, width, A(PGR_ROLE_MUTED),
	             "%s recoverable  %s WAL without a base backup  %s missing WAL  "
	             "B base backup  %s target",
	             unicode ? "\u2501" : "=", unicode ? "\u2500" : "-", unicode ? "\u2573" : "x",
	             unicode ? "\u25b2" : "^");
	enum cell *row = xcalloc((size_t)b.w, sizeof *row);
	for (int k = 0; k < nt; k++) {
		uint32_t tli = tlis[k];
		memset(row, 0, (size_t)b.w * sizeof *row);
		const struct pgr_walseg *prev = NULL;
		for (size_t i = 0; i < cat->n_wal; i++) {
			const struct pgr_walseg *s = &cat->wal[i];
			if (s->wn.kind != PGR_WAL_SEGMENT || s->wn.tli != tli)
				continue;
			if (!prev)
				mark(row, &b, s->mtime, s->mtime, C_WAL);
			else if (s->wn.segno == prev->wn.segno + 1)
				mark(row, &b, prev->mtime, s->mtime, C_WAL);
			else
				mark(row, &b, prev->mtime + 1, s->mtime - 1, C_GAP);
			prev = s;
		}
		/* Recoverable: archived columns a span reaches on this timeline. */
		for (int c = 0; c < b.w; c++) {
			if (row[c] != C_WAL)
				continue;
			time_t t0 = time_of(&b, c), t1 = c + 1 < b.w ? time_of(&b, c + 1) : b.to;
			for (size_t s = 0; s < ns; s++)
				if (sp[s].start_tli <= tli && tli <= sp[s].tli && sp[s].from <= t1 && t0 <= sp[s].to) {
					row[c] = C_OK;
					break;
				}
		}
		pgr_w_printf(yy, x, label_w, A(PGR_ROLE_NORMAL) | BOLD, "TL %u", tli);
		for (int c = 0; c < b.w; c++) {
			const char *ch = " ";
			int attr = A(PGR_ROLE_MUTED);
			switch (row[c]) {
			case C_NONE: ch = unicode ? "\u00b7" : "."; break;
			case C_WAL: ch = unicode ? "\u2500" : "-"; break;
			case C_OK:
				ch = unicode ? "\u2501" : "=";
				attr = A(PGR_ROLE_OK) | BOLD;
				break;
			case C_GAP:
				ch = unicode ? "\u2573" : "x";
				attr = A(PGR_ROLE_FAIL) | BOLD;
				break;
			}
			pgr_w_put(yy, x + label_w + c, 1, attr, ch);
		}
		for (size_t i = 0; i < cat->n_bases; i++) {
			const struct pgr_base *bb = &cat->bases[i];
			if (bb->complete && bb->manifest.timeline == tli && bb->manifest.stop_time >= b.from)
				pgr_w_put(yy, x + label_w + col_of(&b, bb->manifest.stop_time), 1,
				          A(PGR_ROLE_HEADER) | BOLD, "B");
		}
		yy++;
	}
	free(row);
	pgr_spans_free(sp, ns);

	/* The cursor row, then the axis: the first time and now. */
	pgr_w_blank(yy, x, width, A(PGR_ROLE_NORMAL));
	if (has_cursor) {
		int c = col_of(&b, cursor);
		const char *arrow = unicode ? "\u25b2" : "^";
		if (cursor < b.from)
			arrow = "<";
		else if (cursor > b.to)
			arrow = ">";
		pgr_w_put(yy, x + label_w + c, 1, A(PGR_ROLE_SELECTION) | BOLD, arrow);
		char t[40], lab[64];
		fmt_axis(cursor, b.to - b.from < 4 * 3600, t, sizeof t);
		snprintf(lab, sizeof lab, " %s UTC", t);
		int lx = label_w + c + 1;
		if (lx + (int)strlen(lab) > width)
			lx = label_w + c - (int)strlen(lab);
		if (lx < label_w)
			lx = label_w;
		pgr_w_put(yy, x + lx, width - lx, A(PGR_ROLE_SELECTION), lab);
	}
	yy++;
	char t0[40], t1[40], right[64];
	fmt_axis(b.from, b.to - b.from < 4 * 3600, t0, sizeof t0);
	fmt_axis(b.to, b.to - b.from < 4 * 3600, t1, sizeof t1);
	snprintf(right, sizeof right, "%s UTC (now)|", t1);
	pgr_w_printf(yy, x + label_w, b.w, A(PGR_ROLE_MUTED), "|%s UTC", t0);
	int rw = (int)strlen(right);
	if (rw < b.w - 20)
		pgr_w_put(yy, x + label_w + b.w - rw, rw, A(PGR_ROLE_MUTED), right);
	yy++;
	return yy - y;
}

/* ------------------------------------------------------------ the scan */

struct pgr_evscan {
	pthread_t th;
	pthread_mutex_t mu;
	struct pgr_env env;
	time_t since;
	int64_t min_rows;
	volatile int cancel;
	/* under mu */
	size_t done, total;
	bool finished, ok;
	struct pgr_error err;
	struct pgr_event_list events;
};

static void on_progress(void *ctx, size_t done, size_t total, const char *segment)
{
	(void)segment;
	struct pgr_evscan *s = ctx;
	pthread_mutex_lock(&s->mu);
	s->done = done;
	s->total = total;
	pthread_mutex_unlock(&s->mu);
}

static void *scan_main(void *arg)
{
	struct pgr_evscan *s = arg;
	struct pgr_error err = {0};
	struct pgr_event_list ev = {0};
	bool ok = false;
	struct pgr_store *st = pgr_store_open_env(&s->env, &err);
	if (st) {
		struct pgr_catalog cat;
		if (pgr_catalog_build(st, &cat, &err)) {
			struct pgr_walscan_opts o;
			pgr_walscan_opts_default(&o);
			o.since = s->since;
			if (s->min_rows > 0)
				o.min_rows = s->min_rows;
			o.progress = on_progress;
			o.progress_ctx = s;
			o.cancel = &s->cancel;
			struct pgr_walscan_stats stats;
			ok = pgr_walscan_events(&s->env, st, &cat, &o, &ev, &stats, &err);
			pgr_catalog_free(&cat);
		}
		pgr_store_close(st);
	}
	pthread_mutex_lock(&s->mu);
	s->ok = ok;
	s->err = err;
	s->events = ev;
	s->finished = true;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct pgr_evscan *pgr_evscan_start(const struct pgr_env *env, time_t since, int64_t min_rows)
{
	struct pgr_evscan *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	pgr_env_copy(&s->env, env);
	s->since = since;
	s->min_rows = min_rows;
	if (pthread_create(&s->th, NULL, scan_main, s) != 0) {
		s->finished = true;
		pgr_error_set(&s->err, PGR_ERR_INTERNAL, "cannot start a thread for the event scan");
		s->th = pthread_self(); /* marks "no thread" below */
	}
	return s;
}

void pgr_evscan_progress(struct pgr_evscan *s, size_t *done, size_t *total, bool *finished)
{
	pthread_mutex_lock(&s->mu);
	*done = s->done;
	*total = s->total;
	*finished = s->finished;
	pthread_mutex_unlock(&s->mu);
}

void pgr_evscan_cancel(struct pgr_evscan *s)
{
	if (s)
		s->cancel = 1;
}

const struct pgr_event_list *pgr_evscan_events(const struct pgr_evscan *s)
{
	return &s->events;
}

const struct pgr_error *pgr_evscan_error(const struct pgr_evscan *s)
{
	return &s->err;
}

bool pgr_evscan_ok(const struct pgr_evscan *s)
{
	return s->ok;
}

void pgr_evscan_free(struct pgr_evscan *s)
{
	if (!s)
		return;
	s->cancel = 1;
	if (!pthread_equal(s->th, pthread_self()))
		pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
	pgr_event_list_free(&s->events);
	pgr_env_free(&s->env);
	free(s);
}
