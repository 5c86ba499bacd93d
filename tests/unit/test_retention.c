/* Retention unit tests: decisions over catalogs built from listings, asserted
 * as exact lists of keys, and apply() against an in-memory store that records
 * the order of deletions and can fail on a chosen key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "ops/retention.h"

#define MiB ((uint64_t)1024 * 1024)
#define HOUR ((time_t)3600)
#define DAY ((time_t)86400)

/* 2026-03-01T00:00:00Z; "now" is 60 days later. */
static const time_t T0 = 1772323200;
static const time_t NOW = 1772323200 + 60 * 86400;

/* ------------------------------------------------------------ fixture */

struct fx {
	struct pgr_object_list objs;
	char *names[64];
	char *json[64];
	size_t n;
	char *keep[128]; /* strings to free at the end */
	size_t n_keep;
};

static const char *fx_str(struct fx *f, char *s)
{
	f->keep[f->n_keep++] = s;
	return s;
}

static void fx_free(struct fx *f)
{
	pgr_object_list_free(&f->objs);
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->json[i]);
	}
	for (size_t i = 0; i < f->n_keep; i++)
		free(f->keep[i]);
}

static char *segname(uint32_t tli, uint64_t segno)
{
	return xasprintf("%08X%08X%08X", tli, (unsigned)(segno / 256), (unsigned)(segno % 256));
}

/* "wal-archive/<segment>" */
static const char *fx_seg(struct fx *f, uint32_t tli, uint64_t segno, time_t mtime)
{
	char *n = segname(tli, segno);
	char *key = xasprintf("wal-archive/%s", n);
	free(n);
	pgr_object_list_add(&f->objs, key, 16 * MiB, mtime);
	return fx_str(f, key);
}

static const char *fx_obj(struct fx *f, const char *key, uint64_t size, time_t mtime)
{
	pgr_object_list_add(&f->objs, key, size, mtime);
	return fx_str(f, xstrdup(key));
}

/* A base backup that stopped at `stop` needing segment seg..seg on tli.
 * status NULL: no pgrescue.json. Returns its prefix "base/<label>/". */
static const char *fx_base(struct fx *f, time_t stop, const char *status, uint32_t tli, uint64_t seg)
{
	char label[32];
	pgr_label_format(stop - 60, label, sizeof(label));
	char *k = xasprintf("base/%s/base.tar", label);
	pgr_object_list_add(&f->objs, k, 5000, stop);
	free(k);
	if (status) {
		k = xasprintf("base/%s/pgrescue.json", label);
		pgr_object_list_add(&f->objs, k, 200, stop + 1);
		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_BASE);
		m.format_version = 1;
		m.label = xstrdup(label);
		m.status = xstrdup(status);
		m.start_time = stop - 60;
		m.stop_time = stop;
		m.timeline = tli;
		m.wal_segment_size = 16 * MiB;
		m.start_lsn = seg * 16 * MiB + 0x28;
		m.stop_lsn = seg * 16 * MiB + 0x100;
		m.start_wal = segname(tli, seg);
		m.stop_wal = segname(tli, seg);
		f->names[f->n] = k;
		f->json[f->n] = pgr_manifest_to_json(&m);
		f->n++;
		pgr_manifest_free(&m);
	}
	return fx_str(f, xasprintf("base/%s/", label));
}

/* A dump taken at t; status NULL: the deployment's own (no manifest).
 * *manifest_key (when wanted) gets "pgrescue/dumps/<name>.json". */
static const char *fx_dump(struct fx *f, time_t t, const char *status, const char **manifest_key)
{
	char label[32];
	pgr_label_format(t, label, sizeof(label));
	char *key = xasprintf("database/postgres-backup-%s.sql.gz", label);
	pgr_object_list_add(&f->objs, key, 1000, t + 120);
	if (status) {
		char *mk = xasprintf("pgrescue/dumps/postgres-backup-%s.sql.gz.json", label);
		pgr_object_list_add(&f->objs, mk, 100, t + 121);
		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_DUMP);
		m.format_version = 1;
		m.label = xstrdup(label);
		m.status = xstrdup(status);
		m.start_time = t;
		m.stop_time = t + 100;
		f->names[f->n] = xstrdup(mk);
		f->json[f->n] = pgr_manifest_to_json(&m);
		f->n++;
		pgr_manifest_free(&m);
		if (manifest_key)
			*manifest_key = fx_str(f, mk);
		else
			free(mk);
	}
	return fx_str(f, key);
}

static void fx_build(struct fx *f, struct pgr_catalog *cat)
{
	struct pgr_error err = {0};
	if (!pgr_catalog_from_listing(&f->objs, (const char *const *)f->names, (const char *const *)f->json, f->n, cat,
	                              &err))
		fail_msg("pgr_catalog_from_listing: %s", err.msg);
}

static struct pgr_env env_days(int dumps, int base, int wal)
{
	struct pgr_env e;
	memset(&e, 0, sizeof(e));
	e.retention_dumps = (int64_t)dumps * DAY;
	e.retention_base = (int64_t)base * DAY;
	e.retention_wal = (int64_t)wal * DAY;
	return e;
}

/* The plan's keys, in order, must be exactly `want`. */
static void assert_keys(const struct pgr_retention_plan *p, const char *const *want, size_t n)
{
	bool same = p->n == n;
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(p->items[i].key, want[i]);
	if (same)
		return;
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "plan has %zu items:\n", p->n);
	for (size_t i = 0; i < p->n; i++)
		sb_printf(&sb, "  %s  (%s)\n", p->items[i].key, p->items[i].reason);
	sb_printf(&sb, "expected %zu:\n", n);
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "  %s\n", want[i]);
	print_error("%s", sb_str(&sb));
	sb_free(&sb);
	fail();
}

static const char *reason_of(const struct pgr_retention_plan *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].key, key))
			return p->items[i].reason;
	fail_msg("%s is not in the plan", key);
	return NULL;
}

/* ------------------------------------------------------------ dumps */

static void keeps_newest_good_dump_when_all_old(void **state)
{
	(void)state;
	struct fx f = {0};
	const char *mk;
	const char *d1 = fx_dump(&f, NOW - 40 * DAY, NULL, NULL);
	const char *d2 = fx_dump(&f, NOW - 35 * DAY, "complete", &mk);
	const char *d3 = fx_dump(&f, NOW - 31 * DAY, NULL, NULL);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	/* The dump goes before its manifest. */
	const char *want[] = {d1, d2, mk};
	assert_keys(&p, want, 3);
	assert_int_equal(p.kept_dumps, 1);
	(void)d3;
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

static void deletes_old_dumps(void **state)
{
	(void)state;
	struct fx f = {0};
	const char *old = fx_dump(&f, NOW - 45 * DAY, NULL, NULL);
	fx_dump(&f, NOW - 10 * DAY, "complete", NULL);
	fx_dump(&f, NOW - DAY, "complete", NULL);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {old};
	assert_keys(&p, want, 1);
	assert_string_equal(reason_of(&p, old), "dump older than 30d (45d)");
	assert_int_equal(p.kept_dumps, 2);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* A failed dump never protects anything: the newest GOOD one is kept. */
static void failed_dump_does_not_count_as_newest(void **state)
{
	(void)state;
	struct fx f = {0};
	const char *mk;
	const char *good = fx_dump(&f, NOW - 40 * DAY, "complete", NULL);
	const char *failed = fx_dump(&f, NOW - 35 * DAY, "failed", &mk);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {failed, mk};
	assert_keys(&p, want, 2);
	assert_string_equal(reason_of(&p, failed), "failed dump older than 30d (35d)");
	assert_int_equal(p.kept_dumps, 1);
	(void)good;
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* ------------------------------------------------------------ bases and WAL */

/* Segment k (1..44) is written at NOW - 11d + k*6h; base backups stop when
 * segments 4 (-10d), 8 (-9d), 12 (-8d), 20 (-6d) and 40 (-1d) are written. */
static time_t seg_time(int k)
{
	return NOW - 11 * DAY + k * 6 * HOUR;
}

struct daily {
	struct fx f;
	const char *seg[45];
	const char *base4, *base8, *base12, *base20, *base40;
	const char *backup4, *backup12;
};

static void daily_setup(struct daily *d)
{
	memset(d, 0, sizeof(*d));
	for (int k = 1; k <= 44; k++)
		d->seg[k] = fx_seg(&d->f, 1, (uint64_t)k, seg_time(k));
	d->backup4 = fx_obj(&d->f, "wal-archive/000000010000000000000004.00000028.backup", 300, seg_time(4) + 600);
	d->backup12 = fx_obj(&d->f, "wal-archive/00000001000000000000000C.00000028.backup", 300, seg_time(12) + 600);
	d->base4 = fx_base(&d->f, seg_time(4), "complete", 1, 4);
	d->base8 = fx_base(&d->f, seg_time(8), "complete", 1, 8);
	d->base12 = fx_base(&d->f, seg_time(12), "complete", 1, 12);
	d->base20 = fx_base(&d->f, seg_time(20), "complete", 1, 20);
	d->base40 = fx_base(&d->f, seg_time(40), "complete", 1, 40);
}

/* Bases older than 7d go, except the one the 7-day window starts from (-8d);
 * WAL older than 7d before that base's start goes, its .backup file with it. */
static void base_window_needs_survives(void **state)
{
	(void)state;
	struct daily d;
	daily_setup(&d);
	struct pgr_catalog cat;
	fx_build(&d.f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {d.base4,  d.base8,  d.seg[1], d.seg[2], d.seg[3], d.seg[4],  d.backup4,
	                      d.seg[5], d.seg[6], d.seg[7], d.seg[8], d.seg[9], d.seg[10], d.seg[11]};
	assert_keys(&p, want, sizeof(want) / sizeof(want[0]));
	assert_string_equal(reason_of(&p, d.base4), "base backup older than 7d (10d)");
	assert_non_null(strstr(reason_of(&p, d.seg[1]), "WAL older than 7d"));
	assert_int_equal(p.kept_bases, 3);
	assert_int_equal(p.kept_wal, 44 - 11 + 1);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&d.f);
}

/* A shorter base retention still keeps the window's starting base. */
static void short_base_retention_keeps_anchor(void **state)
{
	(void)state;
	struct daily d;
	daily_setup(&d);
	struct pgr_catalog cat;
	fx_build(&d.f, &cat);
	struct pgr_env env = env_days(30, 2, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {d.base4,  d.base8,  d.base20, d.seg[1], d.seg[2], d.seg[3],  d.seg[4], d.backup4,
	                      d.seg[5], d.seg[6], d.seg[7], d.seg[8], d.seg[9], d.seg[10], d.seg[11]};
	assert_keys(&p, want, sizeof(want) / sizeof(want[0]));
	assert_int_equal(p.kept_bases, 2);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&d.f);
}

/* WAL older than its own retention survives while a kept base needs it. */
static void wal_needed_by_kept_base_survives(void **state)
{
	(void)state;
	struct daily d;
	daily_setup(&d);
	struct pgr_catalog cat;
	fx_build(&d.f, &cat);
	struct pgr_env env = env_days(30, 30, 1);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {d.seg[1], d.seg[2], d.seg[3]};
	assert_keys(&p, want, 3);
	assert_int_equal(p.kept_bases, 5);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&d.f);
}

/* After a promote to timeline 2 the old timeline's WAL goes once old; the
 * .history file never does. */
static void history_never_deleted(void **state)
{
	(void)state;
	struct fx f = {0};
	const char *t1[11];
	for (int k = 1; k <= 10; k++)
		t1[k] = fx_seg(&f, 1, (uint64_t)k, NOW - 20 * DAY + k * HOUR);
	fx_obj(&f, "wal-archive/00000001000000000000000B.partial", 16 * MiB, NOW - 20 * DAY + 11 * HOUR);
	fx_obj(&f, "wal-archive/00000002.history", 50, NOW - 20 * DAY + 11 * HOUR);
	const char *t2[21];
	for (int k = 10; k <= 20; k++)
		t2[k] = fx_seg(&f, 2, (uint64_t)k, NOW - (20 - k) * DAY - HOUR);
	fx_base(&f, NOW - 5 * DAY - HOUR, "complete", 2, 15);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {t1[1],
	                      t1[2],
	                      t1[3],
	                      t1[4],
	                      t1[5],
	                      t1[6],
	                      t1[7],
	                      t1[8],
	                      t1[9],
	                      t1[10],
	                      "wal-archive/00000001000000000000000B.partial",
	                      t2[10],
	                      t2[11],
	                      t2[12],
	                      t2[13]};
	assert_keys(&p, want, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < p.n; i++)
		assert_null(strstr(p.items[i].key, ".history"));
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

static void incomplete_old_base_removed(void **state)
{
	(void)state;
	struct fx f = {0};
	for (int k = 1; k <= 10; k++)
		fx_seg(&f, 1, (uint64_t)k, NOW - 4 * DAY + k * 6 * HOUR);
	const char *dead = fx_base(&f, NOW - 3 * DAY, NULL, 1, 0);
	const char *failed = fx_base(&f, NOW - 2 * DAY, "failed", 1, 5);
	const char *running = fx_base(&f, NOW - 2 * HOUR, NULL, 1, 0);
	const char *good = fx_base(&f, NOW - DAY, "complete", 1, 8);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	const char *want[] = {dead, failed};
	assert_keys(&p, want, 2);
	assert_non_null(strstr(reason_of(&p, dead), "incomplete base backup"));
	assert_int_equal(p.kept_bases, 2);
	(void)running;
	(void)good;
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* A pgrescue.json that cannot be read (damaged, or a newer pgrescue's format)
 * is not a failed run's leftover: it stays for a person to judge. */
static void unreadable_base_manifest_kept(void **state)
{
	(void)state;
	struct fx f = {0};
	for (int k = 1; k <= 10; k++)
		fx_seg(&f, 1, (uint64_t)k, NOW - 4 * DAY + k * 6 * HOUR);
	const char *odd = fx_base(&f, NOW - 3 * DAY, "complete", 1, 2);
	free(f.json[0]);
	f.json[0] = xstrdup("{\"format_version\": 99, \"kind\": \"base\"}");
	fx_base(&f, NOW - DAY, "complete", 1, 8);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_false(cat.bases[0].complete);
	struct pgr_env env = env_days(30, 0, 1);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	for (size_t i = 0; i < p.n; i++)
		assert_string_not_equal(p.items[i].key, odd);
	assert_int_equal(p.kept_bases, 2);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

static void nothing_deleted_when_young(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_dump(&f, NOW - 2 * DAY, "complete", NULL);
	fx_dump(&f, NOW - DAY, NULL, NULL);
	for (int k = 1; k <= 8; k++)
		fx_seg(&f, 1, (uint64_t)k, NOW - 2 * DAY + k * 6 * HOUR);
	fx_base(&f, NOW - 2 * DAY + 6 * HOUR, "complete", 1, 1);
	fx_base(&f, NOW - DAY, "complete", 1, 4);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	assert_keys(&p, NULL, 0);
	assert_int_equal(p.kept_dumps, 2);
	assert_int_equal(p.kept_bases, 2);
	assert_int_equal(p.kept_wal, 8);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* With no complete base backup nobody can tell which WAL is useless. */
static void no_complete_base_keeps_all_wal(void **state)
{
	(void)state;
	struct fx f = {0};
	for (int k = 1; k <= 8; k++)
		fx_seg(&f, 1, (uint64_t)k, NOW - 30 * DAY + k * HOUR);
	fx_base(&f, NOW - 3 * HOUR, NULL, 1, 0);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_env env = env_days(30, 0, 7);
	struct pgr_retention_plan p;
	pgr_retention_decide(&cat, &env, NOW, &p);
	assert_keys(&p, NULL, 0);
	assert_int_equal(p.kept_wal, 8);
	pgr_retention_plan_free(&p);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* ------------------------------------------------------------ apply */

/* An in-memory store: sorted keys, a log of deletions, one key that fails. */
struct memstore {
	char *keys[32];
	size_t n;
	char *log[32];
	size_t n_log;
	const char *fail_key;
};

static bool mem_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                          struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	(void)err;
	struct memstore *m = st->backend;
	*more = false;
	size_t got = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (strncmp(m->keys[i], prefix, strlen(prefix)) != 0 || (after && strcmp(m->keys[i], after) <= 0))
			continue;
		if (got == page_size) {
			*more = true;
			break;
		}
		pgr_object_list_add(out, m->keys[i], 1, T0);
		got++;
	}
	return true;
}

static bool mem_del(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	struct memstore *m = st->backend;
	if (m->fail_key && !strcmp(key, m->fail_key))
		return pgr_error_set(err, PGR_ERR_STORE, "deleting %s: permission denied", key);
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->keys[i], key)) {
			m->log[m->n_log++] = m->keys[i];
			memmove(&m->keys[i], &m->keys[i + 1], (m->n - i - 1) * sizeof(m->keys[0]));
			m->n--;
			return true;
		}
	return pgr_error_set(err, PGR_ERR_NOTFOUND, "%s: not found", key);
}

static const struct pgr_store_ops mem_ops = {
        .scheme = "mem",
        .list_page = mem_list_page,
        .del = mem_del,
};

static void mem_init(struct memstore *m, struct pgr_store *st)
{
	static const char *const keys[] = {
	        "base/20260301-020000/backup_manifest",
	        "base/20260301-020000/base.tar",
	        "base/20260301-020000/pgrescue.json",
	        "base/20260302-020000/base.tar",
	        "database/postgres-backup-20260301-020000.sql.gz",
	        "wal-archive/000000010000000000000001",
	};
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		m->keys[m->n++] = xstrdup(keys[i]);
	static char url[] = "mem://test";
	memset(st, 0, sizeof(*st));
	st->ops = &mem_ops;
	st->url = url;
	st->backend = m;
}

static void mem_free(struct memstore *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	for (size_t i = 0; i < m->n_log; i++)
		free(m->log[i]);
}

static void plan_of(struct pgr_retention_plan *p, const char *const *keys, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->items = xcalloc(n + 1, sizeof(*p->items));
	p->n = p->cap = n;
	for (size_t i = 0; i < n; i++) {
		p->items[i].key = xstrdup(keys[i]);
		p->items[i].reason = xstrdup("test");
	}
}

static void apply_deletes_manifest_first(void **state)
{
	(void)state;
	struct memstore m;
	struct pgr_store st;
	mem_init(&m, &st);
	static const char *const keys[] = {"database/postgres-backup-20260301-020000.sql.gz", "base/20260301-020000/",
	                                   "wal-archive/000000010000000000000001",
	                                   "wal-archive/000000010000000000000002" /* already gone: fine */};
	struct pgr_retention_plan p;
	plan_of(&p, keys, 4);
	struct pgr_error err = {0};
	int deleted = -1;
	assert_true(pgr_retention_apply(&st, &p, &deleted, &err));
	assert_int_equal(deleted, 5);
	assert_int_equal(m.n_log, 5);
	assert_string_equal(m.log[0], "database/postgres-backup-20260301-020000.sql.gz");
	assert_string_equal(m.log[1], "base/20260301-020000/pgrescue.json");
	assert_string_equal(m.log[2], "base/20260301-020000/backup_manifest");
	assert_string_equal(m.log[3], "base/20260301-020000/base.tar");
	assert_string_equal(m.log[4], "wal-archive/000000010000000000000001");
	/* The other base backup is untouched. */
	assert_int_equal(m.n, 1);
	assert_string_equal(m.keys[0], "base/20260302-020000/base.tar");
	pgr_retention_plan_free(&p);
	mem_free(&m);
}

static void apply_stops_at_first_error(void **state)
{
	(void)state;
	struct memstore m;
	struct pgr_store st;
	mem_init(&m, &st);
	m.fail_key = "base/20260301-020000/backup_manifest";
	static const char *const keys[] = {"database/postgres-backup-20260301-020000.sql.gz", "base/20260301-020000/",
	                                   "wal-archive/000000010000000000000001"};
	struct pgr_retention_plan p;
	plan_of(&p, keys, 3);
	struct pgr_error err = {0};
	int deleted = -1;
	assert_false(pgr_retention_apply(&st, &p, &deleted, &err));
	assert_int_equal(deleted, 2);
	assert_non_null(strstr(err.msg, "base/20260301-020000/"));
	assert_non_null(strstr(err.msg, "permission denied"));
	assert_true(err.hint[0] != '\0');
	/* Nothing after the failure was touched. */
	assert_int_equal(m.n_log, 2);
	assert_string_equal(m.log[1], "base/20260301-020000/pgrescue.json");
	pgr_retention_plan_free(&p);
	mem_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(keeps_newest_good_dump_when_all_old),
	        cmocka_unit_test(deletes_old_dumps),
	        cmocka_unit_test(failed_dump_does_not_count_as_newest),
	        cmocka_unit_test(base_window_needs_survives),
	        cmocka_unit_test(short_base_retention_keeps_anchor),
	        cmocka_unit_test(wal_needed_by_kept_base_survives),
	        cmocka_unit_test(history_never_deleted),
	        cmocka_unit_test(incomplete_old_base_removed),
	        cmocka_unit_test(unreadable_base_manifest_kept),
	        cmocka_unit_test(nothing_deleted_when_young),
	        cmocka_unit_test(no_complete_base_keeps_all_wal),
	        cmocka_unit_test(apply_deletes_manifest_first),
	        cmocka_unit_test(apply_stops_at_first_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
