/* Catalog unit tests: catalogs built from listings and manifest texts, the
 * recoverable window (continuous WAL, holes, missing base WAL, timelines) and
 * which dump and base backup count as the newest good one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"

#define MiB ((uint64_t)1024 * 1024)
#define HOUR ((time_t)3600)
#define DAY ((time_t)86400)

/* 2026-03-01T00:00:00Z */
static const time_t T0 = 1772323200;

/* ------------------------------------------------------------ fixture */

struct fx {
	struct pgr_object_list objs;
	char *names[64];
	char *json[64];
	size_t n;
	uint64_t seg_size;
};

static void fx_init(struct fx *f, uint64_t seg_size)
{
	memset(f, 0, sizeof(*f));
	f->seg_size = seg_size;
}

static void fx_free(struct fx *f)
{
	pgr_object_list_free(&f->objs);
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->json[i]);
	}
}

/* A WAL segment name, written out here rather than with the code under test. */
static char *segname(uint32_t tli, uint64_t segno, uint64_t seg_size)
{
	uint64_t per = ((uint64_t)1 << 32) / seg_size;
	return xasprintf("%08X%08X%08X", tli, (unsigned)(segno / per), (unsigned)(segno % per));
}

static void fx_seg(struct fx *f, uint32_t tli, uint64_t segno, time_t mtime)
{
	char *n = segname(tli, segno, f->seg_size);
	char *key = xasprintf("wal-archive/%s", n);
	pgr_object_list_add(&f->objs, key, f->seg_size, mtime);
	free(key);
	free(n);
}

/* Segments from..to, one an hour starting at t. */
static void fx_segs(struct fx *f, uint32_t tli, uint64_t from, uint64_t to, time_t t)
{
	for (uint64_t s = from; s <= to; s++)
		fx_seg(f, tli, s, t + (time_t)(s - from) * HOUR);
}

static void fx_obj(struct fx *f, const char *key, uint64_t size, time_t mtime)
{
	pgr_object_list_add(&f->objs, key, size, mtime);
}

static char *label_of(time_t t)
{
	char buf[32];
	pgr_label_format(t, buf, sizeof(buf));
	return xstrdup(buf);
}

/* A base backup taken at t (stop one minute later) needing start..stop on tli.
 * status NULL: no pgrescue.json at all (in progress, or died before writing it). */
static char *fx_base(struct fx *f, time_t t, const char *status, uint32_t tli, uint64_t start, uint64_t stop)
{
	char *label = label_of(t);
	char *k = xasprintf("base/%s/base.tar", label);
	fx_obj(f, k, 5000, t + 60);
	free(k);
	if (!status)
		return label;
	k = xasprintf("base/%s/backup_manifest", label);
	fx_obj(f, k, 300, t + 60);
	free(k);
	k = xasprintf("base/%s/pgrescue.json", label);
	fx_obj(f, k, 200, t + 61);

	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_BASE);
	m.format_version = 1;
	m.label = xstrdup(label);
	m.status = xstrdup(status);
	m.database = xstrdup("clipper_db");
	m.start_time = t;
	m.stop_time = t + 60;
	m.timeline = tli;
	m.wal_segment_size = f->seg_size;
	m.start_lsn = start * f->seg_size + 0x28;
	m.stop_lsn = stop * f->seg_size + 0x100;
	m.start_wal = segname(tli, start, f->seg_size);
	m.stop_wal = segname(tli, stop, f->seg_size);
	f->names[f->n] = k;
	f->json[f->n] = pgr_manifest_to_json(&m);
	f->n++;
	pgr_manifest_free(&m);
	return label;
}

/* A dump taken at t. status NULL: written by the deployment's job (no manifest). */
static char *fx_dump(struct fx *f, const char *prefix, time_t t, uint64_t size, const char *status)
{
	char *label = label_of(t);
	char *key = xasprintf("database/%s-backup-%s.sql.gz", prefix, label);
	fx_obj(f, key, size, t + 120);
	if (status) {
		char *mk = xasprintf("pgrescue/dumps/%s-backup-%s.sql.gz.json", prefix, label);
		fx_obj(f, mk, 100, t + 121);
		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_DUMP);
		m.format_version = 1;
		m.label = xstrdup(label);
		m.status = xstrdup(status);
		m.database = xstrdup("clipper_db");
		m.start_time = t;
		m.stop_time = t + 100;
		m.wal_segment_size = f->seg_size;
		f->names[f->n] = mk;
		f->json[f->n] = pgr_manifest_to_json(&m);
		f->n++;
		pgr_manifest_free(&m);
	}
	free(label);
	return key;
}

static void fx_build(struct fx *f, struct pgr_catalog *cat)
{
	struct pgr_error err = {0};
	bool ok = pgr_catalog_from_listing(&f->objs, (const char *const *)f->names, (const char *const *)f->json, f->n,
	                                   cat, &err);
	if (!ok)
		fail_msg("pgr_catalog_from_listing: %s", err.msg);
}

static void assert_segname(const char *got, uint32_t tli, uint64_t segno, uint64_t seg_size)
{
	char *want = segname(tli, segno, seg_size);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
}

static time_t seg_mtime(const struct pgr_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->n_wal; i++)
		if (!strcmp(cat->wal[i].name, name))
			return cat->wal[i].mtime;
	fail_msg("segment %s not in the catalog", name);
	return 0;
}

/* ------------------------------------------------------------ tests */

static void window_continuous(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	/* Segment s is written at T0 + (s-1)h. */
	fx_segs(&f, 1, 1, 40, T0);
	char *b1 = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
	char *b2 = fx_base(&f, T0 + 20 * HOUR, "complete", 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.n_bases, 2);
	assert_int_equal(cat.n_wal, 40);
	assert_int_equal(cat.wal_seg_size, 16 * MiB);
	assert_string_equal(cat.bases[0].label, b1);
	assert_string_equal(cat.bases[0].prefix, "base/20260301-020000/");
	assert_int_equal(cat.bases[0].size, 5500);
	assert_true(cat.bases[0].complete);
	assert_segname(cat.bases[0].keys_first_wal, 1, 3, 16 * MiB);

	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_null(w.why_not);
	assert_int_equal(w.timeline, 1);
	assert_string_equal(w.earliest_base, b1);
	assert_int_equal(w.earliest, T0 + 2 * HOUR + 60);
	assert_segname(w.last_wal, 1, 40, 16 * MiB);
	assert_int_equal(w.latest, T0 + 39 * HOUR);
	assert_null(w.gap_after);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

static void window_gap(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 29, T0);
	fx_segs(&f, 1, 31, 40, T0 + 30 * HOUR); /* segment 30 never arrived */
	char *b1 = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
	char *b2 = fx_base(&f, T0 + 20 * HOUR, "complete", 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_string_equal(w.earliest_base, b1);
	assert_segname(w.last_wal, 1, 29, 16 * MiB);
	assert_segname(w.gap_after, 1, 30, 16 * MiB);
	/* latest stops before the hole, not at the newest segment archived. */
	assert_int_equal(w.latest, T0 + 28 * HOUR);
	assert_int_equal(w.latest, seg_mtime(&cat, w.last_wal));
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

/* A hole between two base backups: the window starts at the newer one. */
static void window_gap_between_bases(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 9, T0);
	fx_segs(&f, 1, 11, 40, T0 + 10 * HOUR);
	char *b1 = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
	char *b2 = fx_base(&f, T0 + 20 * HOUR, "complete", 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_string_equal(w.earliest_base, b2);
	assert_int_equal(w.earliest, T0 + 20 * HOUR + 60);
	assert_segname(w.last_wal, 1, 40, 16 * MiB);
	assert_null(w.gap_after);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

static void window_no_base(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 10, T0);
	char *d = fx_dump(&f, "postgres", T0, 1000, NULL);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.n_bases, 0);
	assert_int_equal(cat.n_dumps, 1);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_false(w.exists);
	assert_non_null(w.why_not);
	assert_non_null(strstr(w.why_not, "no base backup"));
	assert_null(w.last_wal);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(d);
	fx_free(&f);
}

static void window_no_complete_base(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 10, T0);
	char *b1 = fx_base(&f, T0 + HOUR, NULL, 1, 0, 0);
	char *b2 = fx_base(&f, T0 + 2 * HOUR, "failed", 1, 3, 4);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.n_bases, 2);
	assert_false(cat.bases[0].complete);
	assert_false(cat.bases[1].complete);
	assert_null(pgr_catalog_newest_base(&cat));
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_false(w.exists);
	assert_non_null(strstr(w.why_not, "no complete base backup"));
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

static void window_base_wal_missing(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 3, T0);
	fx_segs(&f, 1, 5, 10, T0 + 5 * HOUR);
	char *b = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 5); /* needs 4, which is missing */
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_false(w.exists);
	assert_non_null(w.why_not);
	assert_non_null(strstr(w.why_not, b));
	char *miss = segname(1, 4, 16 * MiB);
	assert_non_null(strstr(w.why_not, miss));
	free(miss);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b);
	fx_free(&f);
}

/* The newest base lost its own WAL: an older one still gives a window, which
 * ends at the hole. */
static void window_newest_base_unusable(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 20, T0);
	fx_segs(&f, 1, 22, 30, T0 + 22 * HOUR);
	char *b1 = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
	char *b2 = fx_base(&f, T0 + 20 * HOUR, "complete", 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_string_equal(w.earliest_base, b1);
	assert_segname(w.last_wal, 1, 20, 16 * MiB);
	assert_segname(w.gap_after, 1, 21, 16 * MiB);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

/* After a point-in-time recovery: timeline 1 was archived up to segment 12,
 * timeline 2 branched off at segment 10. Each timeline has its own window:
 * timeline 1's ends at 12 (restorable with recovery_target_timeline = 1),
 * timeline 2's at 15; neither is a gap. */
static void windows_per_timeline(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 12, T0);
	fx_obj(&f, "wal-archive/00000002.history", 42, T0 + 13 * HOUR);
	fx_segs(&f, 2, 10, 15, T0 + 13 * HOUR);
	char *b = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window *v = NULL;
	size_t n = pgr_catalog_windows(&cat, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].timeline, 1);
	assert_true(v[0].exists);
	assert_string_equal(v[0].earliest_base, b);
	assert_segname(v[0].last_wal, 1, 12, 16 * MiB);
	assert_null(v[0].gap_after);
	assert_int_equal(v[1].timeline, 2);
	assert_true(v[1].exists);
	assert_string_equal(v[1].earliest_base, b);
	assert_segname(v[1].last_wal, 2, 15, 16 * MiB);
	assert_null(v[1].gap_after);
	/* The main window follows the switch to the newest timeline. */
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_int_equal(w.timeline, 2);
	assert_segname(w.last_wal, 2, 15, 16 * MiB);
	pgr_window_free(&w);
	pgr_windows_free(v, n);
	pgr_catalog_free(&cat);
	free(b);
	fx_free(&f);
}

/* A promote: timeline 2 starts (with its .history) where timeline 1's last
 * whole segment ends; the old timeline's last segment is only a .partial. */
static void window_timeline_switch(void **state)
{
	(void)state;
	for (int with_history = 0; with_history <= 1; with_history++) {
		struct fx f;
		fx_init(&f, 16 * MiB);
		fx_segs(&f, 1, 1, 9, T0);
		fx_obj(&f, "wal-archive/00000001000000000000000A.partial", 16 * MiB, T0 + 9 * HOUR);
		if (with_history)
			fx_obj(&f, "wal-archive/00000002.history", 42, T0 + 9 * HOUR);
		fx_segs(&f, 2, 10, 15, T0 + 10 * HOUR);
		char *b = fx_base(&f, T0 + 2 * HOUR, "complete", 1, 3, 4);
		struct pgr_catalog cat;
		fx_build(&f, &cat);
		struct pgr_window w;
		pgr_catalog_window(&cat, &w);
		assert_true(w.exists);
		assert_string_equal(w.earliest_base, b);
		if (with_history) {
			assert_int_equal(w.timeline, 2);
			assert_segname(w.last_wal, 2, 15, 16 * MiB);
			assert_null(w.gap_after);
		} else {
			/* Without the history file the switch cannot be trusted. */
			assert_int_equal(w.timeline, 1);
			assert_segname(w.last_wal, 1, 9, 16 * MiB);
		}
		pgr_window_free(&w);
		pgr_catalog_free(&cat);
		free(b);
		fx_free(&f);
	}
}

/* 1 MiB segments (initdb --wal-segsize=1): the size comes from the manifest
 * and continuity crosses the log-file boundary (seg FFF -> next log, seg 0). */
static void window_small_segments(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, MiB);
	fx_segs(&f, 1, 4090, 4100, T0);
	char *b = fx_base(&f, T0 + HOUR, "complete", 1, 4091, 4091);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.wal_seg_size, MiB);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_string_equal(w.last_wal, "000000010000000100000004");
	assert_null(w.gap_after);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	free(b);
	fx_free(&f);
}

static void newest_dump_and_base(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	char *d1 = fx_dump(&f, "postgres", T0, 1000, "complete");
	char *d2 = fx_dump(&f, "postgres", T0 + DAY, 1000, NULL);
	char *d3 = fx_dump(&f, "postgres", T0 + 2 * DAY, 1000, "failed");
	char *d4 = fx_dump(&f, "postgres", T0 + 3 * DAY, 0, NULL); /* empty: the job died */
	char *d0 = fx_dump(&f, "clipper", T0 - DAY, 500, NULL);
	fx_obj(&f, "database/notes.txt", 10, T0); /* not a dump */
	char *b1 = fx_base(&f, T0, "complete", 1, 3, 4);
	char *b2 = fx_base(&f, T0 + DAY, "failed", 1, 10, 11);
	char *b3 = fx_base(&f, T0 + 2 * DAY, NULL, 1, 0, 0);
	fx_segs(&f, 1, 1, 12, T0);
	struct pgr_catalog cat;
	fx_build(&f, &cat);

	assert_int_equal(cat.n_dumps, 5);
	assert_string_equal(cat.dumps[0].key, d0); /* oldest first, time from the name */
	assert_int_equal(cat.dumps[0].time, T0 - DAY);
	assert_true(cat.dumps[0].good);
	assert_true(cat.dumps[1].good && cat.dumps[1].has_manifest);
	assert_true(cat.dumps[2].good && !cat.dumps[2].has_manifest);
	assert_string_equal(cat.dumps[3].key, d3);
	assert_true(cat.dumps[3].has_manifest); /* shown as failed, not absent */
	assert_false(cat.dumps[3].good);
	assert_false(cat.dumps[4].good);
	const struct pgr_dump *nd = pgr_catalog_newest_dump(&cat);
	assert_non_null(nd);
	assert_string_equal(nd->key, d2);

	assert_int_equal(cat.n_bases, 3);
	assert_string_equal(cat.bases[1].label, b2);
	assert_false(cat.bases[1].complete);
	assert_false(cat.bases[2].complete);
	const struct pgr_base *nb = pgr_catalog_newest_base(&cat);
	assert_non_null(nb);
	assert_string_equal(nb->label, b1);
	assert_string_equal(nb->manifest.status, "complete");

	uint64_t total = 0;
	for (size_t i = 0; i < f.objs.n; i++)
		total += f.objs.items[i].size;
	assert_int_equal(cat.total_bytes, total);

	pgr_catalog_free(&cat);
	free(d0);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	free(b1);
	free(b2);
	free(b3);
	fx_free(&f);
}

/* An unreadable manifest makes its backup not good, and nothing else fails. */
static void unreadable_manifest(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 16 * MiB);
	fx_segs(&f, 1, 1, 5, T0);
	char *b1 = fx_base(&f, T0, "complete", 1, 2, 2);
	char *b2 = fx_base(&f, T0 + HOUR, "complete", 1, 3, 3);
	free(f.json[1]);
	f.json[1] = xstrdup("{\"status\": \"compl");
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.n_bases, 2);
	assert_true(cat.bases[0].complete);
	assert_false(cat.bases[1].complete);
	assert_string_equal(cat.bases[1].manifest.status, "unreadable");
	assert_string_equal(pgr_catalog_newest_base(&cat)->label, b1);
	pgr_catalog_free(&cat);
	free(b1);
	free(b2);
	fx_free(&f);
}

/* No manifest anywhere: the segment size is the size archived segments share. */
static void seg_size_from_segments(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, MiB);
	fx_segs(&f, 1, 4094, 4097, T0);
	fx_obj(&f, "wal-archive/000000010000000000000FFF.00000028.backup", 300, T0);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	assert_int_equal(cat.wal_seg_size, MiB);
	assert_int_equal(cat.n_wal, 5);
	/* Sorted by name; segment numbers count across the log-file boundary. */
	assert_string_equal(cat.wal[0].name, "000000010000000000000FFE");
	assert_int_equal(cat.wal[0].wn.segno, 4094);
	assert_int_equal(cat.wal[4].wn.segno, 4097);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

static void empty_store(void **state)
{
	(void)state;
	struct pgr_object_list none = {0};
	struct pgr_catalog cat;
	struct pgr_error err = {0};
	assert_true(pgr_catalog_from_listing(&none, NULL, NULL, 0, &cat, &err));
	assert_int_equal(cat.n_dumps + cat.n_bases + cat.n_wal, 0);
	assert_int_equal(cat.wal_seg_size, 16 * MiB);
	assert_null(pgr_catalog_newest_dump(&cat));
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_false(w.exists);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(window_continuous),           cmocka_unit_test(window_gap),
	        cmocka_unit_test(window_gap_between_bases),    cmocka_unit_test(window_no_base),
	        cmocka_unit_test(window_no_complete_base),     cmocka_unit_test(window_base_wal_missing),
	        cmocka_unit_test(window_newest_base_unusable), cmocka_unit_test(window_timeline_switch),
	        cmocka_unit_test(windows_per_timeline),        cmocka_unit_test(window_small_segments),
	        cmocka_unit_test(newest_dump_and_base),        cmocka_unit_test(unreadable_manifest),
	        cmocka_unit_test(seg_size_from_segments),      cmocka_unit_test(empty_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
