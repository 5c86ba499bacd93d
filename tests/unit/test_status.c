/* status verdicts: every rule at, below and above its threshold, and with its facts missing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/manifest.h"
#include "ops/status.h"
#include "settings.h"
#include "storage/layout.h"

#define NOW ((time_t)1767364200) /* 2026-01-02T14:30:00Z */
#define SEG (1024 * 1024)

struct fixture {
	struct pgr_env env;
	struct pgr_status s;
};

/* A store with one dump and one base backup, `age` seconds old, and WAL from
 * the base's start through `nseg` segments (skipping segment `gap` if > 0). */
static void make_store(struct pgr_status *s, int64_t age, int nseg, int gap, bool with_base)
{
	struct pgr_object_list objs = {0};
	char *dump = pgr_dump_key(NOW - age);
	pgr_object_list_add(&objs, dump, 1000, NOW - age);
	free(dump);
	char label[32];
	pgr_label_format(NOW - age, label, sizeof label);
	char *json = NULL;
	if (with_base) {
		char *k = xasprintf("base/%s/base.tar", label);
		pgr_object_list_add(&objs, k, 5000, NOW - age);
		free(k);
		k = xasprintf("base/%s/backup_manifest", label);
		pgr_object_list_add(&objs, k, 100, NOW - age);
		free(k);
		k = xasprintf("base/%s/pgrescue.json", label);
		pgr_object_list_add(&objs, k, 100, NOW - age);
		free(k);
		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_BASE);
		m.label = xstrdup(label);
		m.status = xstrdup("complete");
		m.database = xstrdup("clipper_db");
		m.start_time = NOW - age - 10;
		m.stop_time = NOW - age;
		m.timeline = 1;
		m.wal_segment_size = SEG;
		m.start_lsn = 2ULL * SEG + 40;
		m.stop_lsn = 2ULL * SEG + 400;
		char w[32];
		pgr_walname_format(1, 2, SEG, w);
		m.start_wal = xstrdup(w);
		m.stop_wal = xstrdup(w);
		pgr_manifest_add_file(&m, "base.tar", 5000,
		                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		json = pgr_manifest_to_json(&m);
		pgr_manifest_free(&m);
	}
	for (int i = 0; i < nseg; i++) {
		if (gap > 0 && i == gap)
			continue;
		char w[32], *k;
		pgr_walname_format(1, 2 + (uint64_t)i, SEG, w);
		k = xasprintf("wal-archive/%s", w);
		pgr_object_list_add(&objs, k, SEG, NOW - age + 60 * i);
		free(k);
	}
	const char *labels[] = {label};
	const char *jsons[] = {json};
	struct pgr_error err = {0};
	assert_true(pgr_catalog_from_listing(&objs, labels, jsons, with_base ? 1 : 0, &s->catalog, &err));
	s->have_catalog = true;
	s->store_reachable = true;
	pgr_catalog_window(&s->catalog, &s->window);
	pgr_object_list_free(&objs);
	free(json);
}

/* A healthy primary with nothing waiting to be archived. */
static void healthy_db(struct pgr_status *s)
{
	s->db_reachable = true;
	strcpy(s->server_version, "15.18");
	strcpy(s->db_timezone, "UTC");
	s->arch.known = true;
	strcpy(s->arch.archive_mode, "on");
	s->arch.archived_count = 10;
	strcpy(s->arch.last_archived_wal, "000000010000000000000009");
	s->arch.last_archived_time = NOW - 3600; /* idle for an hour: not lag */
	s->arch.pending = 0;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	pgr_env_defaults(&f->env);
	f->env.name = xstrdup("test");
	f->env.retention_base = f->env.retention_wal;
	pgr_status_init(&f->s);
	f->s.now = NOW;
	strcpy(f->s.env_name, "test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pgr_status_free(&f->s);
	pgr_env_free(&f->env);
	free(f);
	return 0;
}

static const struct pgr_check *check(const struct pgr_status *s, const char *name)
{
	for (int i = 0; i < s->n_checks; i++)
		if (!strcmp(s->checks[i].name, name))
			return &s->checks[i];
	static struct pgr_check none;
	fail_msg("no check named %s", name);
	return &none;
}

static void test_all_ok(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	make_store(&f->s, 3600, 8, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	for (int i = 0; i < f->s.n_checks; i++)
		if (f->s.checks[i].level != PGR_OK)
			fail_msg("%s: %s", f->s.checks[i].name, f->s.checks[i].summary);
	assert_int_equal(f->s.overall, PGR_OK);
	assert_non_null(strstr(check(&f->s, "wal.archiving")->summary, "lag 0s"));
	char *json = pgr_status_to_json(&f->s);
	assert_non_null(strstr(json, "\"overall\":\t\"OK\""));
	free(json);
}

static void backup_age_case(void **state, int64_t age, enum pgr_level want)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	make_store(&f->s, age, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "backup.dump")->level, want);
	assert_int_equal(check(&f->s, "backup.base")->level, want);
	assert_non_null(strstr(check(&f->s, "backup.dump")->rule, "backup_max_age 1d 0h"));
}

static void test_backup_below(void **state)
{
	backup_age_case(state, 86400 - 1, PGR_OK);
}
static void test_backup_at(void **state)
{
	backup_age_case(state, 86400, PGR_OK);
}
static void test_backup_above(void **state)
{
	backup_age_case(state, 86400 + 1, PGR_CRIT);
	assert_int_equal(((struct fixture *)*state)->s.overall, PGR_CRIT);
}

static void test_no_base(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	make_store(&f->s, 60, 3, 0, false);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "backup.base")->level, PGR_CRIT);
	assert_non_null(strstr(check(&f->s, "backup.base")->summary, "point-in-time recovery is impossible"));
	assert_int_equal(check(&f->s, "window")->level, PGR_CRIT);
	assert_int_equal(f->s.overall, PGR_CRIT);
}

static void lag_case(void **state, int64_t lag, enum pgr_level want)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	f->s.arch.pending = 3;
	f->s.arch.oldest_pending = NOW - lag;
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "wal.archiving")->level, want);
	assert_int_equal(f->s.overall, want);
}

static void test_lag_below_warn(void **state)
{
	lag_case(state, 5 * 60 - 1, PGR_OK);
}
static void test_lag_at_warn(void **state)
{
	lag_case(state, 5 * 60, PGR_WARN);
}
static void test_lag_below_crit(void **state)
{
	lag_case(state, 15 * 60 - 1, PGR_WARN);
}
static void test_lag_at_crit(void **state)
{
	lag_case(state, 15 * 60, PGR_CRIT);
}

static void test_lag_without_pending_facts(void **state)
{
	/* No permission to list archive_status: fall back to the last archived time. */
	struct fixture *f = *state;
	healthy_db(&f->s);
	f->s.arch.pending = -1;
	f->s.arch.last_archived_time = NOW - 20 * 60;
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "wal.archiving")->level, PGR_CRIT);
}

static void test_archiving_failing(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	f->s.arch.failed_count = 4;
	strcpy(f->s.arch.last_failed_wal, "00000001000000000000000A");
	f->s.arch.last_failed_time = NOW - 30;
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	const struct pgr_check *c = check(&f->s, "wal.archiving");
	assert_int_equal(c->level, PGR_CRIT);
	assert_non_null(strstr(c->summary, "00000001000000000000000A"));
	assert_non_null(strstr(c->rule, "WALArchivingFailed"));
}

static void test_archiving_recovered(void **state)
{
	/* An old failure followed by successes is history, not an alert. */
	struct fixture *f = *state;
	healthy_db(&f->s);
	f->s.arch.failed_count = 4;
	f->s.arch.last_failed_time = NOW - 120;
	f->s.arch.last_archived_time = NOW - 60;
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "wal.archiving")->level, PGR_OK);
}

static void test_archive_mode_off(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	strcpy(f->s.arch.archive_mode, "off");
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "wal.archiving")->level, PGR_CRIT);
	assert_non_null(strstr(check(&f->s, "wal.archiving")->summary, "archive_mode is off"));
}

static void test_db_unreachable(void **state)
{
	struct fixture *f = *state;
	strcpy(f->s.db_error, "cannot connect to the database (host=/x): No such file or directory");
	make_store(&f->s, 60, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "database")->level, PGR_UNKNOWN);
	assert_non_null(strstr(check(&f->s, "database")->summary, "unreachable"));
	assert_int_equal(f->s.overall, PGR_UNKNOWN);
	/* a critical fact still wins over an unknown one */
	pgr_status_free(&f->s);
	pgr_status_init(&f->s);
	f->s.now = NOW;
	make_store(&f->s, 3 * 86400, 3, 0, true);
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(f->s.overall, PGR_CRIT);
}

static void test_store_unreachable(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	strcpy(f->s.store_error, "cannot open store file:///nope");
	pgr_status_evaluate(&f->env, &f->s);
	assert_int_equal(check(&f->s, "store")->level, PGR_UNKNOWN);
	assert_int_equal(f->s.overall, PGR_UNKNOWN);
}

static void test_window_gap(void **state)
{
	struct fixture *f = *state;
	healthy_db(&f->s);
	make_store(&f->s, 3600, 8, 4, true);
	pgr_status_evaluate(&f->env, &f->s);
	const struct pgr_check *c = check(&f->s, "window");
	assert_int_equal(c->level, PGR_WARN);
	assert_non_null(strstr(c->summary, "gap"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_all_ok),
	        T(test_backup_below),
	        T(test_backup_at),
	        T(test_backup_above),
	        T(test_no_base),
	        T(test_lag_below_warn),
	        T(test_lag_at_warn),
	        T(test_lag_below_crit),
	        T(test_lag_at_crit),
	        T(test_lag_without_pending_facts),
	        T(test_archiving_failing),
	        T(test_archiving_recovered),
	        T(test_archive_mode_off),
	        T(test_db_unreachable),
	        T(test_store_unreachable),
	        T(test_window_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
