/* health verdicts: every alert rule at, below and above its threshold and with
 * its metric missing; STALE sources; Prometheus agreement and disagreement;
 * panel levels and the overall ordering; a failed backup shown as failed. */
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
#include "model/health.h"
#include "ops/manifest.h"
#include "settings.h"
#include "storage/layout.h"

#define NOW ((time_t)1767364200) /* 2026-01-02T14:30:00Z */
#define SEG (1024 * 1024)
#define HOUR 3600
#define DAY 86400

struct fixture {
	struct pgr_env env;
	struct pgr_facts f;
	struct pgr_health h;
};

static void source_ok(struct pgr_source_state *s)
{
	s->configured = true;
	s->ok = true;
	s->read_at = NOW;
	s->last_ok = NOW;
}

/* A source that answered `ago` seconds ago but not in this refresh. */
static void source_stale(struct pgr_source_state *s, int64_t ago, const char *why)
{
	s->configured = true;
	s->ok = false;
	s->read_at = NOW;
	s->last_ok = NOW - ago;
	snprintf(s->error, sizeof s->error, "%s", why);
}

static void source_down(struct pgr_source_state *s, const char *why)
{
	s->configured = true;
	s->ok = false;
	s->read_at = NOW;
	s->last_ok = 0;
	snprintf(s->error, sizeof s->error, "%s", why);
}

static void set_num(struct pgr_num *n, double v, const char *source)
{
	n->known = true;
	n->value = v;
	n->read_at = NOW;
	snprintf(n->source, sizeof n->source, "%s", source);
}

static char *dump_manifest(time_t t, const char *status)
{
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_DUMP);
	char label[32];
	pgr_label_format(t, label, sizeof label);
	m.label = xstrdup(label);
	m.status = xstrdup(status);
	m.database = xstrdup("clipper_db");
	m.start_time = t;
	m.stop_time = t + 5;
	m.timeline = 1;
	m.wal_segment_size = SEG;
	char *json = pgr_manifest_to_json(&m);
	pgr_manifest_free(&m);
	return json;
}

/* A store listing: a good dump and (optionally) a base backup `age` seconds
 * old (age < 0: neither), WAL from the base's start through `nseg` segments
 * (skipping `gap` if > 0), and a failed dump `failed_age` seconds old (0: none). */
static void make_store(struct pgr_facts *f, int64_t age, int nseg, int gap, bool with_base, int64_t failed_age)
{
	struct pgr_object_list objs = {0};
	const char *names[4] = {0};
	char *jsons[4] = {0};
	char *keys[4] = {0};
	size_t n_man = 0;
	char label[32] = "";
	if (age >= 0) {
		char *dump = pgr_dump_key(NOW - age);
		pgr_object_list_add(&objs, dump, 1000, NOW - age);
		free(dump);
		pgr_label_format(NOW - age, label, sizeof label);
	}
	if (age >= 0 && with_base) {
		char *k = xasprintf("base/%s/base.tar", label);
		pgr_object_list_add(&objs, k, 5000, NOW - age);
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
		names[n_man] = label;
		jsons[n_man++] = pgr_manifest_to_json(&m);
		pgr_manifest_free(&m);
	}
	for (int i = 0; age >= 0 && i < nseg; i++) {
		if (gap > 0 && i == gap)
			continue;
		char w[32], *k;
		pgr_walname_format(1, 2 + (uint64_t)i, SEG, w);
		k = xasprintf("wal-archive/%s", w);
		pgr_object_list_add(&objs, k, SEG, NOW - age + 60 * i);
		free(k);
	}
	if (failed_age > 0) {
		char *dump = pgr_dump_key(NOW - failed_age);
		pgr_object_list_add(&objs, dump, 10, NOW - failed_age);
		char *mk = pgr_dump_manifest_key(dump);
		pgr_object_list_add(&objs, mk, 100, NOW - failed_age);
		keys[n_man] = mk;
		names[n_man] = mk;
		jsons[n_man++] = dump_manifest(NOW - failed_age, "failed");
		free(dump);
	}
	struct pgr_error err = {0};
	assert_true(pgr_catalog_from_listing(&objs, names, (const char *const *)jsons, n_man, &f->catalog, &err));
	f->have_catalog = true;
	source_ok(&f->store);
	pgr_catalog_window(&f->catalog, &f->window);
	pgr_object_list_free(&objs);
	for (size_t i = 0; i < n_man; i++) {
		free(jsons[i]);
		free(keys[i]);
	}
}

/* A healthy primary with nothing waiting to be archived. */
static void healthy_db(struct pgr_facts *f)
{
	source_ok(&f->db);
	strcpy(f->server_version, "15.18");
	strcpy(f->db_timezone, "UTC");
	f->arch.known = true;
	strcpy(f->arch.archive_mode, "on");
	f->arch.archived_count = 10;
	strcpy(f->arch.last_archived_wal, "000000010000000000000009");
	f->arch.last_archived_time = NOW - HOUR; /* idle for an hour: not lag */
	f->arch.pending = 0;
}

static void healthy_restore(struct pgr_facts *f)
{
	set_num(&f->restore_success, 1, "file");
	set_num(&f->restore_timestamp, (double)(NOW - 3 * DAY), "file");
	set_num(&f->restore_duration, 900, "file");
	set_num(&f->restore_clip_count, 1200, "file");
	set_num(&f->restore_user_count, 40, "file");
}

static void add_snapshot(struct pgr_facts *f, const char *name, int64_t age, bool ready, const char *error)
{
	f->snapshots = xrealloc(f->snapshots, (size_t)(f->n_snapshots + 1) * sizeof *f->snapshots);
	struct pgr_snapshot_fact *s = &f->snapshots[f->n_snapshots++];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->created = NOW - age;
	s->ready = ready;
	snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

static void prom_firing(struct pgr_facts *f, const char *name)
{
	f->prom_firing = xrealloc(f->prom_firing, (size_t)(f->n_prom_firing + 1) * sizeof *f->prom_firing);
	snprintf(f->prom_firing[f->n_prom_firing++], sizeof f->prom_firing[0], "%s", name);
}

/* Everything healthy: a recent backup, idle archiving, a recent restore test,
 * half-full storage and a recent ready snapshot. */
static void healthy(struct pgr_facts *f)
{
	healthy_db(f);
	make_store(f, HOUR, 8, 0, true, 0);
	healthy_restore(f);
	set_num(&f->storage_used, 50e9, "file");
	set_num(&f->storage_total, 100e9, "file");
	f->snapshots_supported = true;
	source_ok(&f->platform);
	add_snapshot(f, "postgres-snapshot-20260102-030000", 11 * HOUR, true, NULL);
}

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	pgr_env_defaults(&fx->env);
	fx->env.name = xstrdup("test");
	pgr_facts_init(&fx->f);
	fx->f.now = NOW;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	pgr_facts_free(&fx->f);
	pgr_env_free(&fx->env);
	free(fx);
	return 0;
}

static const struct pgr_verdict *eval(struct fixture *fx, enum pgr_alert_id id)
{
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	return &fx->h.v[id];
}

#define assert_contains(hay, needle)                                                                                   \
	do {                                                                                                           \
		if (!strstr((hay), (needle)))                                                                          \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                                   \
	} while (0)

#define assert_level(v, want)                                                                                          \
	do {                                                                                                           \
		if ((v)->level != (want))                                                                              \
			fail_msg("%s: %s, want %s (%s | %s)", pgr_alert_name((v)->id), pgr_vlevel_name((v)->level),    \
			         pgr_vlevel_name(want), (v)->summary, (v)->rule);                                      \
	} while (0)

/* ------------------------------------------------------------ names */

static void test_names(void **state)
{
	(void)state;
	/* Exactly the `alert:` names of clipper-backup-alerts.yml. */
	static const char *want[PGR_N_ALERTS] = {
	        "BackupJobFailed",      "BackupJobNotRunning",    "WALArchivingLag",    "WALArchivingFailed",
	        "RestoreTestFailed",    "RestoreTestNotRun",      "RestoreRTOExceeded", "BackupStorageLow",
	        "VolumeSnapshotFailed", "NoRecentVolumeSnapshot",
	};
	for (int i = 0; i < PGR_N_ALERTS; i++)
		assert_string_equal(pgr_alert_name((enum pgr_alert_id)i), want[i]);
	assert_string_equal(pgr_vlevel_name(PGR_V_OK), "OK");
	assert_string_equal(pgr_vlevel_name(PGR_V_WARN), "WARN");
	assert_string_equal(pgr_vlevel_name(PGR_V_FAIL), "FAIL");
	assert_string_equal(pgr_vlevel_name(PGR_V_UNKNOWN), "UNKNOWN");
	assert_string_equal(pgr_vlevel_name(PGR_V_STALE), "STALE");
	assert_string_equal(pgr_vlevel_name(PGR_V_NA), "N/A");
}

static void test_all_ok(void **state)
{
	struct fixture *fx = *state;
	healthy(&fx->f);
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		assert_level(&fx->h.v[i], PGR_V_OK);
		assert_int_equal(fx->h.v[i].id, i);
		assert_true(fx->h.v[i].summary[0] && fx->h.v[i].rule[0]);
		assert_false(fx->h.v[i].prom_known); /* no Prometheus configured */
	}
	assert_string_equal(fx->h.v[PGR_A_BACKUP_FAILED].severity, "critical");
	assert_string_equal(fx->h.v[PGR_A_WAL_LAG].severity, "warning");
	assert_int_equal(fx->h.overall, PGR_V_OK);
	assert_int_equal(fx->h.backups, PGR_V_OK);
	assert_int_equal(fx->h.wal, PGR_V_OK);
	assert_int_equal(fx->h.snapshots, PGR_V_OK);
	assert_int_equal(fx->h.restore_tests, PGR_V_OK);
	assert_int_equal(fx->h.window, PGR_V_OK);
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "last successful backup 1h 00m ago (limit 1d 0h)");
	assert_contains(fx->h.v[PGR_A_WAL_LAG].summary, "lag 0s");
}

/* ------------------------------------------------------------ backups */

static void backup_store_case(void **state, int64_t age, enum pgr_vlevel want, const char *rel)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	make_store(&fx->f, age, 3, 0, true, 0);
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, want);
	char buf[96];
	snprintf(buf, sizeof buf, "time() - backup_timestamp = %lld s %s 86400 s", (long long)age, rel);
	assert_contains(v->rule, buf);
	assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_OK);
	assert_int_equal(fx->h.backups, want);
}

static void test_backup_below(void **state)
{
	backup_store_case(state, DAY - 1, PGR_V_OK, "<=");
}
static void test_backup_at(void **state)
{
	backup_store_case(state, DAY, PGR_V_OK, "<=");
}
static void test_backup_above(void **state)
{
	struct fixture *fx = *state;
	backup_store_case(state, DAY + 2 * HOUR + 3 * 60, PGR_V_FAIL, ">");
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "last successful backup 1d 2h ago (limit 1d 0h)");
	assert_int_equal(fx->h.overall, PGR_V_FAIL);
}

static void test_backup_metric_thresholds(void **state)
{
	/* No store configured: the metric alone decides, at, below and above. */
	struct fixture *fx = *state;
	static const struct {
		int64_t age;
		enum pgr_vlevel want;
	} cases[] = {{DAY - 1, PGR_V_OK}, {DAY, PGR_V_OK}, {DAY + 1, PGR_V_FAIL}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		set_num(&fx->f.backup_timestamp, (double)(NOW - cases[i].age), "prometheus");
		set_num(&fx->f.backup_success, 1, "prometheus");
		source_ok(&fx->f.prom);
		const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
		assert_level(v, cases[i].want);
		assert_contains(v->rule, "postgres_backup_timestamp from prometheus");
		assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_OK);
	}
}

static void test_backup_newest_source_wins(void **state)
{
	struct fixture *fx = *state;
	/* The store is three days old but the job reports a success an hour ago. */
	make_store(&fx->f, 3 * DAY, 3, 0, true, 0);
	set_num(&fx->f.backup_timestamp, (double)(NOW - HOUR), "file");
	assert_level(eval(fx, PGR_A_BACKUP_FAILED), PGR_V_OK);
	/* And the other way round: a stale metric, a fresh store. */
	set_num(&fx->f.backup_timestamp, (double)(NOW - 5 * DAY), "file");
	pgr_catalog_free(&fx->f.catalog);
	pgr_window_free(&fx->f.window);
	make_store(&fx->f, 2 * HOUR, 3, 0, true, 0);
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_OK);
	assert_contains(v->summary, "2h 00m ago");
}

static void test_backup_missing(void **state)
{
	/* Store reachable and empty, no metric: the job has never run. */
	struct fixture *fx = *state;
	make_store(&fx->f, -1, 0, 0, false, 0);
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_FAIL);
	assert_contains(fx->h.v[PGR_A_BACKUP_NOT_RUNNING].summary, "no backup has ever been recorded");
	assert_level(&fx->h.v[PGR_A_BACKUP_FAILED], PGR_V_FAIL);
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "no successful backup on record");
	assert_int_equal(fx->h.backups, PGR_V_FAIL);
	assert_int_equal(fx->h.window, PGR_V_FAIL);
}

static void test_backup_store_unreachable(void **state)
{
	struct fixture *fx = *state;
	source_down(&fx->f.store, "cannot open store file:///nope: No such file or directory");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	/* No metric either: nobody can tell, which is not the same as FAIL. */
	assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_BACKUP_FAILED], PGR_V_UNKNOWN);
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "store unreachable: cannot open store file:///nope");
	assert_int_equal(fx->h.window, PGR_V_UNKNOWN);
	assert_int_equal(fx->h.backups, PGR_V_UNKNOWN);
	/* The store measures capacity but holds no restore-test results. */
	assert_level(&fx->h.v[PGR_A_STORAGE_LOW], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_RESTORE_NOT_RUN], PGR_V_WARN);
	/* With a metric the rule is judged from it, and says the store is away. */
	set_num(&fx->f.backup_timestamp, (double)(NOW - 2 * DAY), "file");
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "(store unreachable)");
	assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_OK);
}

static void test_backup_failed_shown_as_failed(void **state)
{
	struct fixture *fx = *state;
	/* The job reports failure; the last success is recent: WARN, not silence. */
	set_num(&fx->f.backup_success, 0, "prometheus");
	set_num(&fx->f.backup_timestamp, (double)(NOW - 3 * HOUR), "prometheus");
	source_ok(&fx->f.prom);
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_WARN);
	assert_contains(v->summary, "last attempt FAILED");
	assert_contains(v->summary, "last successful backup 3h 00m ago");
	assert_contains(v->rule, "postgres_backup_success = 0");
	assert_false(v->disagree); /* a warning is not the critical alert firing */
	/* The last success is too old: FAIL, still saying the attempt failed. */
	set_num(&fx->f.backup_timestamp, (double)(NOW - DAY - 3 * 60), "prometheus");
	v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "last successful backup 1d 0h ago (limit 1d 0h); last attempt FAILED");
	/* Never succeeded: the job runs (not "not running"), and fails. */
	set_num(&fx->f.backup_timestamp, 0, "prometheus");
	v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "last attempt FAILED");
	assert_contains(v->summary, "no successful backup on record");
	assert_level(&fx->h.v[PGR_A_BACKUP_NOT_RUNNING], PGR_V_OK);
	assert_contains(fx->h.v[PGR_A_BACKUP_NOT_RUNNING].summary, "never succeeded");
}

static void test_backup_failed_in_store(void **state)
{
	/* A failed dump newer than the last good one: shown with its time, and it
	 * does not reset the age of the last success. */
	struct fixture *fx = *state;
	make_store(&fx->f, 30 * HOUR, 3, 0, true, HOUR);
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "last successful backup 1d 6h ago");
	char at[32], want[64];
	pgr_time_format_utc(NOW - HOUR, at, sizeof at);
	snprintf(want, sizeof want, "last attempt FAILED at %s", at);
	assert_contains(v->summary, want);
	/* Recent success, newer failed attempt: WARN and the failure named. */
	pgr_catalog_free(&fx->f.catalog);
	pgr_window_free(&fx->f.window);
	make_store(&fx->f, 5 * HOUR, 3, 0, true, HOUR);
	v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_WARN);
	assert_contains(v->summary, want);
	assert_int_equal(fx->h.backups, PGR_V_WARN);
}

static void test_backup_collector_style(void **state)
{
	/* The collector also turns the store into metrics (source "store"): the
	 * verdict still names the dump, and the failed newest dump, once. */
	struct fixture *fx = *state;
	make_store(&fx->f, 5 * HOUR, 3, 0, false, HOUR);
	set_num(&fx->f.backup_timestamp, (double)(NOW - 5 * HOUR), "store");
	set_num(&fx->f.backup_success, 0, "store");
	const struct pgr_verdict *v = eval(fx, PGR_A_BACKUP_FAILED);
	assert_level(v, PGR_V_WARN);
	assert_contains(v->summary, "last attempt FAILED at ");
	assert_contains(v->rule, "(dump database/postgres-backup-");
	/* The store stops answering: the metric it gave is as old as the listing. */
	source_stale(&fx->f.store, 4, "timed out after 5 s (still listing after 9 s)");
	assert_level(eval(fx, PGR_A_BACKUP_FAILED), PGR_V_STALE);
}

/* ------------------------------------------------------------ WAL */

static void lag_case(void **state, int64_t lag, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	fx->f.arch.pending = 3;
	fx->f.arch.oldest_pending = NOW - lag;
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_LAG);
	assert_level(v, want);
	assert_int_equal(fx->h.wal, want);
	assert_contains(v->summary, "3 segments waiting");
	char buf[64];
	snprintf(buf, sizeof buf, "= %lld s", (long long)lag);
	assert_contains(v->rule, buf);
}

static void test_lag_below_warn(void **state)
{
	lag_case(state, 5 * 60 - 1, PGR_V_OK);
}
static void test_lag_at_warn(void **state)
{
	lag_case(state, 5 * 60, PGR_V_WARN);
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_WAL_LAG].rule, "= 300 s >= 300 s wal_lag_warn");
}
static void test_lag_below_crit(void **state)
{
	lag_case(state, 15 * 60 - 1, PGR_V_WARN);
}
static void test_lag_at_crit(void **state)
{
	lag_case(state, 15 * 60, PGR_V_FAIL);
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_WAL_LAG].summary, "RPO at risk");
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_WAL_LAG].rule, "= 900 s >= 900 s wal_lag_critical");
}
static void test_lag_above_crit(void **state)
{
	lag_case(state, 15 * 60 + 1, PGR_V_FAIL);
}

static void test_lag_without_pending_facts(void **state)
{
	/* No permission to list archive_status: the last archived time, as status does. */
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	fx->f.arch.pending = -1;
	fx->f.arch.last_archived_time = NOW - 20 * 60;
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_LAG);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->rule, "time() - last_archived_time = 1200 s");
	fx->f.arch.last_archived_time = NOW - 6 * 60;
	assert_level(eval(fx, PGR_A_WAL_LAG), PGR_V_WARN);
}

static void test_wal_db_unreachable(void **state)
{
	struct fixture *fx = *state;
	source_down(&fx->f.db, "cannot connect to the database (host=/x): No such file or directory");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_WAL_LAG], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_WAL_FAILED], PGR_V_UNKNOWN);
	assert_contains(fx->h.v[PGR_A_WAL_LAG].summary, "database unreachable: cannot connect");
	assert_int_equal(fx->h.wal, PGR_V_UNKNOWN);
	/* Reachable but pg_stat_archiver unreadable: still unknown, said so. */
	healthy_db(&fx->f);
	fx->f.arch.known = false;
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_LAG);
	assert_level(v, PGR_V_UNKNOWN);
	assert_contains(v->summary, "pg_stat_archiver");
}

static void test_archive_mode_off(void **state)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	strcpy(fx->f.arch.archive_mode, "off");
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_LAG);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "archive_mode is off");
}

static void wal_failed_case(void **state, int64_t ago, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	fx->f.arch.failed_count = 4;
	strcpy(fx->f.arch.last_failed_wal, "00000001000000000000000A");
	fx->f.arch.last_failed_time = NOW - ago;
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_FAILED);
	assert_level(v, want);
	assert_contains(v->summary, "00000001000000000000000A");
	assert_int_equal(fx->h.wal, want);
}

static void test_wal_failed_recent(void **state)
{
	wal_failed_case(state, 30, PGR_V_FAIL);
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_WAL_FAILED].summary, "archiving is failing");
}
static void test_wal_failed_at_window(void **state)
{
	wal_failed_case(state, 300, PGR_V_FAIL);
}
static void test_wal_failed_above_window(void **state)
{
	wal_failed_case(state, 301, PGR_V_OK);
}

static void test_wal_failed_recovered(void **state)
{
	/* An old failure followed by a success is history, not an alert. */
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	fx->f.arch.failed_count = 4;
	fx->f.arch.last_failed_time = NOW - 120;
	fx->f.arch.last_archived_time = NOW - 60;
	const struct pgr_verdict *v = eval(fx, PGR_A_WAL_FAILED);
	assert_level(v, PGR_V_OK);
	assert_contains(v->summary, "archived since");
	/* No failure ever. */
	fx->f.arch.failed_count = 0;
	fx->f.arch.last_failed_time = 0;
	assert_level(eval(fx, PGR_A_WAL_FAILED), PGR_V_OK);
}

/* ------------------------------------------------------------ restore tests */

static void test_restore_failed(void **state)
{
	struct fixture *fx = *state;
	healthy_restore(&fx->f);
	assert_level(eval(fx, PGR_A_RESTORE_FAILED), PGR_V_OK);
	assert_contains(fx->h.v[PGR_A_RESTORE_FAILED].summary, "1200 clips, 40 users");
	set_num(&fx->f.restore_success, 0, "file");
	const struct pgr_verdict *v = eval(fx, PGR_A_RESTORE_FAILED);
	assert_level(v, PGR_V_FAIL);
	assert_contains(v->summary, "last restore test FAILED at ");
	assert_int_equal(fx->h.restore_tests, PGR_V_FAIL);
	assert_int_equal(fx->h.overall, PGR_V_FAIL);
}

static void test_restore_metrics_missing(void **state)
{
	/* No restore test ever: "never run" is the warning; nothing has failed. */
	struct fixture *fx = *state;
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_RESTORE_FAILED], PGR_V_NA);
	assert_contains(fx->h.v[PGR_A_RESTORE_FAILED].summary, "no restore test recorded");
	assert_level(&fx->h.v[PGR_A_RESTORE_NOT_RUN], PGR_V_WARN);
	assert_contains(fx->h.v[PGR_A_RESTORE_NOT_RUN].summary, "never run");
	assert_level(&fx->h.v[PGR_A_RTO_EXCEEDED], PGR_V_NA);
	assert_int_equal(fx->h.restore_tests, PGR_V_WARN);
	/* The source that would have told us is down: unknown, with its error. */
	source_down(&fx->f.prom, "Prometheus http://127.0.0.1:9/api/v1/query: connection refused");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_RESTORE_FAILED], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_RESTORE_NOT_RUN], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_RTO_EXCEEDED], PGR_V_UNKNOWN);
	assert_contains(fx->h.v[PGR_A_RESTORE_FAILED].summary, "connection refused");
	assert_int_equal(fx->h.restore_tests, PGR_V_UNKNOWN);
}

static void not_run_case(void **state, int64_t age, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	healthy_restore(&fx->f);
	set_num(&fx->f.restore_timestamp, (double)(NOW - age), "file");
	const struct pgr_verdict *v = eval(fx, PGR_A_RESTORE_NOT_RUN);
	assert_level(v, want);
	char buf[64];
	snprintf(buf, sizeof buf, "= %lld s %s 2678400 s", (long long)age, want == PGR_V_OK ? "<=" : ">");
	assert_contains(v->rule, buf);
}

static void test_restore_not_run_below(void **state)
{
	not_run_case(state, 31 * DAY - 1, PGR_V_OK);
}
static void test_restore_not_run_at(void **state)
{
	not_run_case(state, 31 * DAY, PGR_V_OK);
}
static void test_restore_not_run_above(void **state)
{
	not_run_case(state, 31 * DAY + 1, PGR_V_WARN);
	assert_int_equal(((struct fixture *)*state)->h.restore_tests, PGR_V_WARN);
}

static void rto_case(void **state, double secs, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	healthy_restore(&fx->f);
	set_num(&fx->f.restore_duration, secs, "file");
	const struct pgr_verdict *v = eval(fx, PGR_A_RTO_EXCEEDED);
	assert_level(v, want);
	char buf[48];
	snprintf(buf, sizeof buf, "%lld s rto_max", (long long)fx->env.rto_max);
	assert_contains(v->rule, buf);
}

static void test_rto_below(void **state)
{
	rto_case(state, 3599, PGR_V_OK);
}
static void test_rto_at(void **state)
{
	rto_case(state, 3600, PGR_V_OK);
}
static void test_rto_above(void **state)
{
	rto_case(state, 3601, PGR_V_WARN);
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_RTO_EXCEEDED].summary, "last restore took 1h 00m");
}
static void test_rto_from_env(void **state)
{
	struct fixture *fx = *state;
	fx->env.rto_max = 600;
	rto_case(state, 900, PGR_V_WARN);
}

/* ------------------------------------------------------------ storage */

static void storage_case(void **state, double used, double total, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	set_num(&fx->f.storage_used, used, "prometheus");
	set_num(&fx->f.storage_total, total, "prometheus");
	source_ok(&fx->f.prom);
	assert_level(eval(fx, PGR_A_STORAGE_LOW), want);
}

static void test_storage_below(void **state)
{
	storage_case(state, 84, 100, PGR_V_OK);
}
static void test_storage_at(void **state)
{
	storage_case(state, 85, 100, PGR_V_OK);
}
static void test_storage_above(void **state)
{
	storage_case(state, 86, 100, PGR_V_WARN);
	assert_contains(((struct fixture *)*state)->h.v[PGR_A_STORAGE_LOW].summary, "86% full");
}
static void test_storage_missing(void **state)
{
	struct fixture *fx = *state;
	const struct pgr_verdict *v = eval(fx, PGR_A_STORAGE_LOW);
	assert_level(v, PGR_V_NA);
	assert_contains(v->summary, "not reported");
	storage_case(state, 10, 0, PGR_V_NA); /* a zero capacity is no capacity */
	fx->f.storage_total.known = false;
	source_down(&fx->f.prom, "timeout");
	assert_level(eval(fx, PGR_A_STORAGE_LOW), PGR_V_UNKNOWN);
}

/* ------------------------------------------------------------ snapshots */

static void test_snapshots_unsupported(void **state)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	make_store(&fx->f, HOUR, 3, 0, true, 0);
	healthy_restore(&fx->f);
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_SNAPSHOT_FAILED], PGR_V_NA);
	assert_level(&fx->h.v[PGR_A_NO_RECENT_SNAPSHOT], PGR_V_NA);
	assert_contains(fx->h.v[PGR_A_SNAPSHOT_FAILED].summary, "local platform has no volume snapshots");
	assert_int_equal(fx->h.snapshots, PGR_V_NA);
	assert_int_equal(fx->h.overall, PGR_V_OK); /* N/A is ignored */
}

static void test_snapshot_not_ready(void **state)
{
	struct fixture *fx = *state;
	fx->f.snapshots_supported = true;
	source_ok(&fx->f.platform);
	add_snapshot(&fx->f, "postgres-snapshot-20260101-030000", DAY + 11 * HOUR, true, NULL);
	assert_level(eval(fx, PGR_A_SNAPSHOT_FAILED), PGR_V_OK);
	add_snapshot(&fx->f, "postgres-snapshot-20260102-030000", 11 * HOUR, false, "CSI driver: quota exceeded");
	const struct pgr_verdict *v = eval(fx, PGR_A_SNAPSHOT_FAILED);
	assert_level(v, PGR_V_WARN);
	assert_contains(v->summary, "postgres-snapshot-20260102-030000 not ready");
	assert_contains(v->summary, "quota exceeded");
	assert_int_equal(fx->h.snapshots, PGR_V_WARN);
}

static void snapshot_age_case(void **state, int64_t age, enum pgr_vlevel want)
{
	struct fixture *fx = *state;
	fx->f.snapshots_supported = true;
	source_ok(&fx->f.platform);
	add_snapshot(&fx->f, "postgres-snapshot-old", age + 5 * DAY, true, NULL);
	add_snapshot(&fx->f, "postgres-snapshot-new", age, true, NULL);
	const struct pgr_verdict *v = eval(fx, PGR_A_NO_RECENT_SNAPSHOT);
	assert_level(v, want);
	assert_contains(v->summary, "postgres-snapshot-new");
}

static void test_snapshot_recent_below(void **state)
{
	snapshot_age_case(state, 48 * HOUR - 1, PGR_V_OK);
}
static void test_snapshot_recent_at(void **state)
{
	snapshot_age_case(state, 48 * HOUR, PGR_V_OK);
}
static void test_snapshot_recent_above(void **state)
{
	snapshot_age_case(state, 48 * HOUR + 1, PGR_V_WARN);
}

static void test_snapshot_none_or_unreachable(void **state)
{
	struct fixture *fx = *state;
	fx->f.snapshots_supported = true;
	source_ok(&fx->f.platform);
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_NO_RECENT_SNAPSHOT], PGR_V_WARN);
	assert_contains(fx->h.v[PGR_A_NO_RECENT_SNAPSHOT].summary, "no volume snapshot exists");
	assert_level(&fx->h.v[PGR_A_SNAPSHOT_FAILED], PGR_V_OK);
	source_down(&fx->f.platform, "Kubernetes API https://10.0.0.1: 403 Forbidden");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_NO_RECENT_SNAPSHOT], PGR_V_UNKNOWN);
	assert_level(&fx->h.v[PGR_A_SNAPSHOT_FAILED], PGR_V_UNKNOWN);
	assert_contains(fx->h.v[PGR_A_SNAPSHOT_FAILED].summary, "403 Forbidden");
}

/* ------------------------------------------------------------ STALE */

static void test_stale_db(void **state)
{
	/* The database answered 30 s ago, not now: the old lag is kept, marked STALE. */
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	fx->f.arch.pending = 1;
	fx->f.arch.oldest_pending = NOW - 6 * 60;
	source_stale(&fx->f.db, 30, "server closed the connection unexpectedly");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	const struct pgr_verdict *v = &fx->h.v[PGR_A_WAL_LAG];
	assert_level(v, PGR_V_STALE);
	assert_contains(v->summary, "lag 6m 00s");
	assert_contains(v->summary, "database last answered 30s ago: server closed the connection");
	assert_contains(v->rule, "stale, was WARN: WALArchivingLag");
	assert_level(&fx->h.v[PGR_A_WAL_FAILED], PGR_V_STALE);
	assert_int_equal(fx->h.wal, PGR_V_STALE);
}

static void test_stale_store(void **state)
{
	struct fixture *fx = *state;
	make_store(&fx->f, 2 * HOUR, 3, 0, true, 0);
	source_stale(&fx->f.store, 10, "listing timed out after 5 s");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_level(&fx->h.v[PGR_A_BACKUP_FAILED], PGR_V_STALE);
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "last successful backup 2h 00m ago");
	assert_contains(fx->h.v[PGR_A_BACKUP_FAILED].summary, "store last answered 10s ago");
	assert_int_equal(fx->h.window, PGR_V_STALE);
	/* A fresh metric proving a recent success settles it: old facts only add backups. */
	set_num(&fx->f.backup_timestamp, (double)(NOW - 3 * HOUR), "file");
	assert_level(eval(fx, PGR_A_BACKUP_FAILED), PGR_V_OK);
}

static void test_stale_metric(void **state)
{
	struct fixture *fx = *state;
	set_num(&fx->f.restore_success, 0, "prometheus");
	source_stale(&fx->f.prom, 60, "connection refused");
	const struct pgr_verdict *v = eval(fx, PGR_A_RESTORE_FAILED);
	assert_level(v, PGR_V_STALE);
	assert_contains(v->rule, "was FAIL");
	assert_contains(v->summary, "prometheus last answered 1m 00s ago");
	assert_false(v->prom_known); /* Prometheus did not answer /api/v1/alerts now */
}

/* ------------------------------------------------------------ Prometheus */

static void test_prom_agreement(void **state)
{
	struct fixture *fx = *state;
	healthy(&fx->f);
	source_ok(&fx->f.prom);
	fx->f.arch.pending = 2;
	fx->f.arch.oldest_pending = NOW - 20 * 60;
	prom_firing(&fx->f, "WALArchivingLag");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		assert_true(fx->h.v[i].prom_known);
		assert_false(fx->h.v[i].disagree);
		assert_int_equal(fx->h.v[i].prom_firing, i == PGR_A_WAL_LAG);
	}
	assert_level(&fx->h.v[PGR_A_WAL_LAG], PGR_V_FAIL);
	assert_null(strstr(fx->h.v[PGR_A_BACKUP_FAILED].summary, "Prometheus"));
}

static void test_prom_disagreement(void **state)
{
	struct fixture *fx = *state;
	healthy(&fx->f);
	source_ok(&fx->f.prom);
	/* Prometheus fires what pgrescue's facts say is fine. */
	prom_firing(&fx->f, "BackupJobFailed");
	/* pgrescue fires what Prometheus does not (yet: its rule has for: 10m). */
	fx->f.arch.last_failed_time = NOW - 20;
	strcpy(fx->f.arch.last_failed_wal, "00000001000000000000000A");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	const struct pgr_verdict *b = &fx->h.v[PGR_A_BACKUP_FAILED];
	assert_level(b, PGR_V_OK);
	assert_true(b->prom_firing);
	assert_true(b->disagree);
	assert_contains(b->summary, "[Prometheus: FIRING]");
	const struct pgr_verdict *w = &fx->h.v[PGR_A_WAL_FAILED];
	assert_level(w, PGR_V_FAIL);
	assert_false(w->prom_firing);
	assert_true(w->disagree);
	assert_contains(w->summary, "[Prometheus: not firing]");
	assert_contains(w->rule, "for: 10m");
	assert_false(fx->h.v[PGR_A_WAL_LAG].disagree);
}

static void test_prom_down(void **state)
{
	struct fixture *fx = *state;
	healthy(&fx->f);
	source_down(&fx->f.prom, "connection refused");
	prom_firing(&fx->f, "BackupJobFailed"); /* left over: must not be believed */
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		assert_false(fx->h.v[i].prom_known);
		assert_false(fx->h.v[i].prom_firing);
		assert_false(fx->h.v[i].disagree);
	}
	/* pgrescue's own verdicts stand without Prometheus. */
	assert_level(&fx->h.v[PGR_A_BACKUP_FAILED], PGR_V_OK);
	assert_level(&fx->h.v[PGR_A_WAL_LAG], PGR_V_OK);
}

/* ------------------------------------------------------------ panels, overall */

static void test_window_panel(void **state)
{
	struct fixture *fx = *state;
	healthy_db(&fx->f);
	make_store(&fx->f, HOUR, 8, 4, true, 0); /* WAL gap after the base */
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.window, PGR_V_WARN);
	assert_int_equal(fx->h.overall, PGR_V_WARN); /* restore never run is WARN too */
	pgr_catalog_free(&fx->f.catalog);
	pgr_window_free(&fx->f.window);
	make_store(&fx->f, HOUR, 3, 0, false, 0); /* dumps only: no PITR window */
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.window, PGR_V_FAIL);
	assert_int_equal(fx->h.overall, PGR_V_FAIL);
	assert_level(&fx->h.v[PGR_A_BACKUP_FAILED], PGR_V_OK); /* the dump is recent */
}

static void test_overall_ordering(void **state)
{
	struct fixture *fx = *state;
	healthy(&fx->f);
	fx->f.snapshots_supported = false; /* N/A verdicts are ignored */
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.overall, PGR_V_OK);
	/* WARN */
	set_num(&fx->f.restore_timestamp, (double)(NOW - 40 * DAY), "file");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.restore_tests, PGR_V_WARN);
	assert_int_equal(fx->h.overall, PGR_V_WARN);
	/* STALE beats WARN */
	source_stale(&fx->f.store, 10, "timeout");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.backups, PGR_V_STALE);
	assert_int_equal(fx->h.overall, PGR_V_STALE);
	/* UNKNOWN beats STALE */
	source_down(&fx->f.db, "connection refused");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.wal, PGR_V_UNKNOWN);
	assert_int_equal(fx->h.overall, PGR_V_UNKNOWN);
	/* FAIL beats everything */
	set_num(&fx->f.restore_success, 0, "file");
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.restore_tests, PGR_V_FAIL);
	assert_int_equal(fx->h.overall, PGR_V_FAIL);
}

static void test_facts_free(void **state)
{
	/* Everything the facts own is released (ASan reports leaks), and they can be reused. */
	struct fixture *fx = *state;
	healthy(&fx->f);
	prom_firing(&fx->f, "BackupJobFailed");
	pgr_facts_free(&fx->f);
	assert_false(fx->f.have_catalog);
	assert_null(fx->f.snapshots);
	assert_null(fx->f.prom_firing);
	assert_int_equal(fx->f.arch.pending, -1);
	fx->f.now = NOW;
	healthy(&fx->f);
	pgr_health_evaluate(&fx->f, &fx->env, &fx->h);
	assert_int_equal(fx->h.overall, PGR_V_OK);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	        T(test_names),
	        T(test_all_ok),
	        T(test_backup_below),
	        T(test_backup_at),
	        T(test_backup_above),
	        T(test_backup_metric_thresholds),
	        T(test_backup_newest_source_wins),
	        T(test_backup_missing),
	        T(test_backup_store_unreachable),
	        T(test_backup_failed_shown_as_failed),
	        T(test_backup_failed_in_store),
	        T(test_backup_collector_style),
	        T(test_lag_below_warn),
	        T(test_lag_at_warn),
	        T(test_lag_below_crit),
	        T(test_lag_at_crit),
	        T(test_lag_above_crit),
	        T(test_lag_without_pending_facts),
	        T(test_wal_db_unreachable),
	        T(test_archive_mode_off),
	        T(test_wal_failed_recent),
	        T(test_wal_failed_at_window),
	        T(test_wal_failed_above_window),
	        T(test_wal_failed_recovered),
	        T(test_restore_failed),
	        T(test_restore_metrics_missing),
	        T(test_restore_not_run_below),
	        T(test_restore_not_run_at),
	        T(test_restore_not_run_above),
	        T(test_rto_below),
	        T(test_rto_at),
	        T(test_rto_above),
	        T(test_rto_from_env),
	        T(test_storage_below),
	        T(test_storage_at),
	        T(test_storage_above),
	        T(test_storage_missing),
	        T(test_snapshots_unsupported),
	        T(test_snapshot_not_ready),
	        T(test_snapshot_recent_below),
	        T(test_snapshot_recent_at),
	        T(test_snapshot_recent_above),
	        T(test_snapshot_none_or_unreachable),
	        T(test_stale_db),
	        T(test_stale_store),
	        T(test_stale_metric),
	        T(test_prom_agreement),
	        T(test_prom_disagreement),
	        T(test_prom_down),
	        T(test_window_panel),
	        T(test_overall_ordering),
	        T(test_facts_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
