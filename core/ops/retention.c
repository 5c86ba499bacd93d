/* Retention: a pure decision over the catalog (what to delete and why, in
 * words a person can check), then applied object by object. Whatever else
 * happens, the newest good dump, the newest complete base backup, the base
 * backup the kept WAL window starts from, and the WAL those need survive. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/retention.h"

#define INCOMPLETE_BASE_GRACE ((int64_t)86400)

static void plan_add(struct pgr_retention_plan *plan, char *key, char *reason)
{
	if (plan->n == plan->cap) {
		plan->cap = plan->cap ? plan->cap * 2 : 16;
		plan->items = xrealloc(plan->items, plan->cap * sizeof(*plan->items));
	}
	plan->items[plan->n].key = key;
	plan->items[plan->n].reason = reason;
	plan->n++;
}

/* A configured period the way it was probably written: "30d", "36h", "90m". */
static void fmt_period(int64_t s, char *buf, size_t n)
{
	if (s > 0 && s % 86400 == 0)
		snprintf(buf, n, "%" PRId64 "d", s / 86400);
	else if (s > 0 && s % 3600 == 0)
		snprintf(buf, n, "%" PRId64 "h", s / 3600);
	else if (s > 0 && s % 60 == 0)
		snprintf(buf, n, "%" PRId64 "m", s / 60);
	else
		pgr_duration_format(s, buf, n);
}

/* An actual age: whole days once it is days old, finer below. */
static void fmt_age(int64_t s, char *buf, size_t n)
{
	if (s >= 2 * 86400)
		snprintf(buf, n, "%" PRId64 "d", s / 86400);
	else
		pgr_duration_format(s, buf, n);
}

/* When a base backup became usable: its stop time, else the time in its label.
 * False when unknown (then it is never deleted for its age). */
static bool base_time(const struct pgr_base *b, time_t *t)
{
	if (b->complete && b->manifest.stop_time > 0) {
		*t = b->manifest.stop_time;
		return true;
	}
	return pgr_label_parse(b->label, t);
}

struct walpos {
	uint32_t tli;
	uint64_t segno;
};

static int cmp_pos(struct walpos a, struct walpos b)
{
	if (a.tli != b.tli)
		return a.tli < b.tli ? -1 : 1;
	if (a.segno != b.segno)
		return a.segno < b.segno ? -1 : 1;
	return 0;
}

static bool start_pos(const struct pgr_catalog *cat, const struct pgr_base *b, struct walpos *p)
{
	struct pgr_walname wn;
	if (!b->manifest.start_wal || !pgr_walname_parse(b->manifest.start_wal, &wn) || wn.kind != PGR_WAL_SEGMENT)
		return false;
	p->tli = wn.tli;
	p->segno = pgr_wal_segno(wn.log, wn.seg, cat->wal_seg_size);
	return true;
}

static void decide_dumps(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now,
                         struct pgr_retention_plan *plan)
{
	const struct pgr_dump *keep = pgr_catalog_newest_dump(cat);
	char per[32], age[32];
	fmt_period(env->retention_dumps, per, sizeof(per));
	for (size_t i = 0; i < cat->n_dumps; i++) {
		const struct pgr_dump *d = &cat->dumps[i];
		int64_t a = (int64_t)(now - d->time);
		if (d == keep || env->retention_dumps <= 0 || a <= env->retention_dumps) {
			plan->kept_dumps++;
			continue;
		}
		fmt_age(a, age, sizeof(age));
		plan_add(plan, xstrdup(d->key),
		         xasprintf("%s older than %s (%s)", d->good ? "dump" : "failed dump", per, age));
		/* The dump goes first: a failed dump that lost only its manifest would look good. */
		if (d->has_manifest)
			plan_add(plan, pgr_dump_manifest_key(d->key),
			         xasprintf("manifest of the deleted dump %s", d->key));
	}
}

/* Decide the base backups; kept[i] tells which survive. */
static void decide_bases(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now, bool *kept,
                         struct pgr_retention_plan *plan)
{
	int64_t keep_for = env->retention_base > 0 ? env->retention_base : env->retention_wal;
	const struct pgr_base *newest = pgr_catalog_newest_base(cat);

	/* The window start (now - retention_wal) is only reachable from a base
	 * backup that was consistent by then: the newest such one is kept. */
	const struct pgr_base *anchor = NULL;
	if (env->retention_wal > 0) {
		for (size_t i = 0; i < cat->n_bases; i++) {
			const struct pgr_base *b = &cat->bases[i];
			time_t t;
			if (b->complete && base_time(b, &t) && t <= now - env->retention_wal)
				anchor = b;
		}
	}

	char per[32], age[32];
	fmt_period(keep_for, per, sizeof(per));
	for (size_t i = 0; i < cat->n_bases; i++) {
		const struct pgr_base *b = &cat->bases[i];
		time_t t;
		kept[i] = true;
		if (!base_time(b, &t))
			continue;
		int64_t a = (int64_t)(now - t);
		fmt_age(a, age, sizeof(age));
		if (!b->complete) {
			/* Younger ones may still be running. A manifest that exists but
			 * could not be read (status neither absent nor "failed") may be a
			 * newer pgrescue's: that is for a person to judge, never deleted. */
			bool unreadable = b->manifest.status && strcmp(b->manifest.status, "failed") != 0;
			if (a > INCOMPLETE_BASE_GRACE && !unreadable) {
				kept[i] = false;
				plan_add(plan, xstrdup(b->prefix),
				         xasprintf("incomplete base backup (no complete %s) older than 1d (%s): a "
				                   "failed or abandoned run",
				                   PGR_BASE_MANIFEST, age));
			}
			continue;
		}
		if (b == newest || b == anchor || keep_for <= 0 || a <= keep_for)
			continue;
		kept[i] = false;
		plan_add(plan, xstrdup(b->prefix), xasprintf("base backup older than %s (%s)", per, age));
	}
	for (size_t i = 0; i < cat->n_bases; i++)
		if (kept[i])
			plan->kept_bases++;
}

static void decide_wal(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now, const bool *kept,
                       struct pgr_retention_plan *plan)
{
	/* The earliest WAL position any kept complete base backup needs. */
	bool have = false;
	struct walpos need = {0, 0};
	const char *need_label = NULL, *need_wal = NULL;
	for (size_t i = 0; i < cat->n_bases; i++) {
		const struct pgr_base *b = &cat->bases[i];
		struct walpos p;
		if (!kept[i] || !b->complete || !start_pos(cat, b, &p))
			continue;
		if (!have || cmp_pos(p, need) < 0) {
			need = p;
			need_label = b->label;
			need_wal = b->manifest.start_wal;
		}
		have = true;
	}
	if (!have || env->retention_wal <= 0) {
		/* Without a base backup to replay onto nobody can tell which WAL is
		 * useless: keep it all. */
		plan->kept_wal += cat->n_wal;
		return;
	}

	char per[32], age[32];
	fmt_period(env->retention_wal, per, sizeof(per));
	for (size_t i = 0; i < cat->n_wal; i++) {
		const struct pgr_walseg *w = &cat->wal[i];
		if (w->wn.kind == PGR_WAL_HISTORY) {
			plan->kept_wal++;
			continue;
		}
		struct walpos p = {w->wn.tli, w->wn.segno};
		time_t mtime = w->mtime;
		if (w->wn.kind == PGR_WAL_BACKUP) {
			/* A backup history file follows its segment. */
			for (size_t j = 0; j < cat->n_wal; j++)
				if (cat->wal[j].wn.kind == PGR_WAL_SEGMENT && cat->wal[j].wn.tli == p.tli &&
				    cat->wal[j].wn.segno == p.segno)
					mtime = cat->wal[j].mtime;
		}
		int64_t a = (int64_t)(now - mtime);
		if (a <= env->retention_wal || cmp_pos(p, need) >= 0) {
			plan->kept_wal++;
			continue;
		}
		fmt_age(a, age, sizeof(age));
		plan_add(plan, xasprintf("%s%s", PGR_PREFIX_WAL, w->name),
		         xasprintf("WAL older than %s (%s) and before %s, where the oldest kept base backup %s "
		                   "starts",
		                   per, age, need_wal, need_label));
	}
}

void pgr_retention_decide(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now,
                          struct pgr_retention_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	decide_dumps(cat, env, now, plan);
	bool *kept = xcalloc(cat->n_bases + 1, sizeof(*kept));
	decide_bases(cat, env, now, kept, plan);
	decide_wal(cat, env, now, kept, plan);
	free(kept);
}

static bool delete_one(struct pgr_store *st, const char *key, int *count, struct pgr_error *err)
{
	if (!pgr_store_delete(st, key, err)) {
		if (err && err->kind == PGR_ERR_NOTFOUND) {
			/* Already gone (an earlier run stopped half-way): that is the goal. */
			pgr_error_clear(err);
			return true;
		}
		return false;
	}
	(*count)++;
	return true;
}

static bool delete_prefix(struct pgr_store *st, const char *prefix, int *count, struct pgr_error *err)
{
	struct pgr_object_list l = {0};
	if (!pgr_store_list(st, prefix, &l, err)) {
		pgr_object_list_free(&l);
		return false;
	}
	/* The manifest first: a half-deleted base backup must never look complete. */
	char *manifest = xasprintf("%s%s", prefix, PGR_BASE_MANIFEST);
	bool ok = true;
	for (size_t i = 0; ok && i < l.n; i++)
		if (!strcmp(l.items[i].key, manifest))
			ok = delete_one(st, manifest, count, err);
	for (size_t i = 0; ok && i < l.n; i++)
		if (strcmp(l.items[i].key, manifest) != 0)
			ok = delete_one(st, l.items[i].key, count, err);
	free(manifest);
	pgr_object_list_free(&l);
	return ok;
}

bool pgr_retention_apply(struct pgr_store *st, const struct pgr_retention_plan *plan, int *deleted,
                         struct pgr_error *err)
{
	int count = 0;
	for (size_t i = 0; i < plan->n; i++) {
		const char *key = plan->items[i].key;
		size_t len = strlen(key);
		bool ok = len > 0 && key[len - 1] == '/' ? delete_prefix(st, key, &count, err)
		                                         : delete_one(st, key, &count, err);
		if (!ok) {
			pgr_error_prefix(err, "retention stopped at %s after deleting %d object%s", key, count,
			                 count == 1 ? "" : "s");
			if (err && !err->hint[0])
				pgr_error_hint(err,
				               "Nothing past %s was deleted. Retention resumes where it stopped on "
				               "the next backup once the store accepts deletions.",
				               key);
			if (deleted)
				*deleted = count;
			return false;
		}
	}
	if (deleted)
		*deleted = count;
	return true;
}

void pgr_retention_plan_free(struct pgr_retention_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->items[i].key);
		free(plan->items[i].reason);
	}
	free(plan->items);
	memset(plan, 0, sizeof(*plan));
}
