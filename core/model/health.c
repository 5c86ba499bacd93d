/* Health (see health.h): the runbook's ten alert rules evaluated natively from
 * facts, so the dashboard can say why a panel is red even while Prometheus is
 * down. WAL rules follow `pgrescue status` exactly, so the two never disagree. */
#include "config.h"

#include "model/health.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"

/* The runbook's fixed thresholds (the configurable ones come from pgr_env). */
#define ARCHIVE_FAILURE_WINDOW 300 /* rate(failed_count[5m]) > 0, as status.c */
#define RESTORE_TEST_MAX_AGE 2678400 /* 31 days */
#define STORAGE_LOW_RATIO 0.85
#define SNAPSHOT_MAX_AGE 172800 /* 48 h */

struct alert_def {
	const char *name;
	const char *severity;
	const char *prom_for; /* the rule's `for:`: Prometheus fires only after this long */
};

static const struct alert_def alerts[PGR_N_ALERTS] = {
        [PGR_A_BACKUP_FAILED] = {"BackupJobFailed", "critical", "1h"},
        [PGR_A_BACKUP_NOT_RUNNING] = {"BackupJobNotRunning", "critical", "2h"},
        [PGR_A_WAL_LAG] = {"WALArchivingLag", "warning", "15m"},
        [PGR_A_WAL_FAILED] = {"WALArchivingFailed", "critical", "10m"},
        [PGR_A_RESTORE_FAILED] = {"RestoreTestFailed", "critical", "5m"},
        [PGR_A_RESTORE_NOT_RUN] = {"RestoreTestNotRun", "warning", "1h"},
        [PGR_A_RTO_EXCEEDED] = {"RestoreRTOExceeded", "warning", "5m"},
        [PGR_A_STORAGE_LOW] = {"BackupStorageLow", "warning", "30m"},
        [PGR_A_SNAPSHOT_FAILED] = {"VolumeSnapshotFailed", "warning", "15m"},
        [PGR_A_NO_RECENT_SNAPSHOT] = {"NoRecentVolumeSnapshot", "warning", "1h"},
};

const char *pgr_vlevel_name(enum pgr_vlevel l)
{
	switch (l) {
	case PGR_V_OK: return "OK";
	case PGR_V_WARN: return "WARN";
	case PGR_V_FAIL: return "FAIL";
	case PGR_V_STALE: return "STALE";
	case PGR_V_NA: return "N/A";
	case PGR_V_UNKNOWN:
	default: return "UNKNOWN";
	}
}

const char *pgr_alert_name(enum pgr_alert_id id)
{
	if ((int)id < 0 || id >= PGR_N_ALERTS)
		return "unknown alert";
	return alerts[id].name;
}

void pgr_facts_init(struct pgr_facts *f)
{
	memset(f, 0, sizeof *f);
	/* 0 would claim "nothing waiting to be archived"; unknown until read. */
	f->arch.pending = -1;
}

void pgr_facts_free(struct pgr_facts *f)
{
	if (!f)
		return;
	pgr_window_free(&f->window);
	pgr_catalog_free(&f->catalog);
	free(f->snapshots);
	free(f->prom_firing);
	pgr_facts_init(f);
}

/* ------------------------------------------------------------ text helpers */

static void summary(struct pgr_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summary(struct pgr_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->summary, sizeof v->summary, fmt, ap);
	va_end(ap);
}

static void rule(struct pgr_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rule(struct pgr_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->rule, sizeof v->rule, fmt, ap);
	va_end(ap);
}

static void append(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *dst, size_t n, const char *fmt, ...)
{
	size_t len = strlen(dst);
	if (len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + len, n - len, fmt, ap);
	va_end(ap);
}

static void fmt_dur(int64_t s, char *buf, size_t n)
{
	pgr_duration_format(s, buf, n);
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	pgr_time_format_utc(t, buf, n);
}

/* ------------------------------------------------------------ sources */

static bool src_stale(const struct pgr_source_state *s)
{
	return !s->ok && s->last_ok > 0;
}

static bool src_down(const struct pgr_source_state *s)
{
	return !s->ok && s->last_ok <= 0;
}

/* The source state a number was read from; NULL for sources read in this
 * refresh without a state of their own (the metrics file). */
static const struct pgr_source_state *num_source(const struct pgr_facts *f, const struct pgr_num *n, const char **name)
{
	static const struct {
		const char *tag;
		size_t off;
	} map[] = {
	        {"db", offsetof(struct pgr_facts, db)},
	        {"store", offsetof(struct pgr_facts, store)},
	        {"prometheus", offsetof(struct pgr_facts, prom)},
	        {"platform", offsetof(struct pgr_facts, platform)},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(n->source, map[i].tag)) {
			if (name)
				*name = map[i].tag;
			return (const struct pgr_source_state *)((const char *)f + map[i].off);
		}
	return NULL;
}

static bool num_stale(const struct pgr_facts *f, const struct pgr_num *n)
{
	const struct pgr_source_state *s = num_source(f, n, NULL);
	return n->known && s && !s->ok;
}

/* A verdict whose facts come from a source that did not answer this time
 * keeps what those facts said, and says they are old. */
static void mark_stale(struct pgr_verdict *v, const char *src, const struct pgr_source_state *s, time_t now)
{
	char ago[32], was[sizeof v->rule];
	snprintf(was, sizeof was, "%s", v->rule);
	rule(v, "stale, was %s: %s", pgr_vlevel_name(v->level), was);
	if (s->last_ok > 0) {
		fmt_dur((int64_t)(now - s->last_ok), ago, sizeof ago);
		append(v->summary, sizeof v->summary, "; %s last answered %s ago", src, ago);
	} else {
		append(v->summary, sizeof v->summary, "; %s not answering", src);
	}
	if (s->error[0])
		append(v->summary, sizeof v->summary, ": %.60s", s->error);
	v->level = PGR_V_STALE;
}

static void unreachable(struct pgr_verdict *v, const char *what, const struct pgr_source_state *s)
{
	v->level = PGR_V_UNKNOWN;
	if (!s->configured)
		summary(v, "no %s configured", what);
	else
		summary(v, "%s unreachable: %.150s", what, s->error[0] ? s->error : "no answer");
}

/* A metric-only rule with its metric missing: UNKNOWN when a source that could
 * have supplied it did not answer, otherwise there is nothing to judge.
 * Restore-test results come from the metrics file or Prometheus; capacity
 * also from the store (its filesystem). */
static const char *metrics_source_down(const struct pgr_facts *f, bool store_too)
{
	if (f->prom.configured && !f->prom.ok)
		return "Prometheus";
	if (store_too && f->store.configured && !f->store.ok)
		return "store";
	return NULL;
}

/* ------------------------------------------------------------ backups */

struct backup_view {
	bool have; /* a successful backup time is known */
	time_t last; /* newest successful backup, any source */
	char last_what[112];
	bool last_stale; /* that time came from a source that did not answer now */
	bool have_fresh;
	time_t last_fresh; /* newest from sources that answered now */
	bool attempted; /* evidence that a backup job has ever run */
	bool failed; /* the last attempt failed */
	time_t failed_at; /* 0: unknown */
	char failed_what[112];
	bool store_stale, store_down;
};

static void consider(struct backup_view *b, time_t t, bool stale, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void consider(struct backup_view *b, time_t t, bool stale, const char *fmt, ...)
{
	if (t <= 0)
		return;
	if (!b->have || t > b->last) {
		b->have = true;
		b->last = t;
		b->last_stale = stale;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->last_what, sizeof b->last_what, fmt, ap);
		va_end(ap);
	}
	if (!stale && (!b->have_fresh || t > b->last_fresh)) {
		b->have_fresh = true;
		b->last_fresh = t;
	}
}

static void backup_view(const struct pgr_facts *f, struct backup_view *b)
{
	memset(b, 0, sizeof *b);
	b->store_stale = f->have_catalog && !f->store.ok;
	b->store_down = !f->have_catalog && f->store.configured && !f->store.ok;

	const struct pgr_num *ts = &f->backup_timestamp, *ok = &f->backup_success;
	if (ts->known || ok->known)
		b->attempted = true;

	if (f->have_catalog) {
		const struct pgr_catalog *c = &f->catalog;
		if (c->n_dumps > 0 || c->n_bases > 0)
			b->attempted = true;
		const struct pgr_dump *d = pgr_catalog_newest_dump(c);
		const struct pgr_base *base = pgr_catalog_newest_base(c);
		if (d)
			consider(b, d->time, b->store_stale, "dump %s", d->key);
		if (base)
			consider(b, base->manifest.stop_time, b->store_stale, "base backup %s", base->prefix);
		/* A failed attempt newer than every success is a fact, not an absence. */
		if (c->n_dumps > 0 && !c->dumps[c->n_dumps - 1].good) {
			const struct pgr_dump *x = &c->dumps[c->n_dumps - 1];
			if (!d || x->time > d->time) {
				b->failed = true;
				b->failed_at = x->time;
				snprintf(b->failed_what, sizeof b->failed_what, "dump %s", x->key);
			}
		}
		if (c->n_bases > 0) {
			const struct pgr_base *x = &c->bases[c->n_bases - 1];
			time_t t = x->manifest.stop_time > 0 ? x->manifest.stop_time : x->manifest.start_time;
			if (t <= 0 && !pgr_label_parse(x->label, &t))
				t = 0;
			if (!x->complete && x->manifest.status && !strcmp(x->manifest.status, "failed") &&
			    (!base || t > base->manifest.stop_time) && (!b->failed || t > b->failed_at)) {
				b->failed = true;
				b->failed_at = t;
				snprintf(b->failed_what, sizeof b->failed_what, "base backup %s", x->prefix);
			}
		}
	}
	/* After the store: a metric names the backup only when it is newer. */
	if (ts->known)
		consider(b, (time_t)ts->value, num_stale(f, ts), "postgres_backup_timestamp from %s",
		         ts->source[0] ? ts->source : "metrics");
	if (ok->known && ok->value == 0 && !b->failed) {
		b->failed = true;
		snprintf(b->failed_what, sizeof b->failed_what, "postgres_backup_success 0 from %s",
		         ok->source[0] ? ok->source : "metrics");
	}
}

static void failed_text(const struct backup_view *b, char *buf, size_t n)
{
	char at[32];
	if (b->failed_at > 0) {
		fmt_time(b->failed_at, at, sizeof at);
		snprintf(buf, n, "last attempt FAILED at %s (%.90s)", at, b->failed_what);
	} else {
		snprintf(buf, n, "last attempt FAILED (%.90s)", b->failed_what);
	}
}

static void eval_backup_failed(const struct pgr_facts *f, const struct pgr_env *env, const struct backup_view *b,
                               struct pgr_verdict *v)
{
	char max[32], age[32], failed[160] = "";
	fmt_dur(env->backup_max_age, max, sizeof max);
	if (b->failed)
		failed_text(b, failed, sizeof failed);

	if (!b->have) {
		if (b->store_down && !b->attempted) {
			unreachable(v, "store", &f->store);
			append(v->summary, sizeof v->summary, "; no postgres_backup_timestamp either");
			rule(v, "BackupJobFailed: needs postgres_backup_timestamp or a listable store");
			return;
		}
		v->level = PGR_V_FAIL;
		if (b->failed)
			summary(v, "%s; no successful backup on record", failed);
		else
			summary(v, "no successful backup on record");
		rule(v,
		     "BackupJobFailed: no successful backup time (metric or store), age unbounded > %" PRId64
		     " s backup_max_age",
		     env->backup_max_age);
		if (b->store_stale)
			mark_stale(v, "store", &f->store, f->now);
		return;
	}

	int64_t a = (int64_t)(f->now - b->last);
	fmt_dur(a, age, sizeof age);
	bool too_old = a > env->backup_max_age;
	v->level = too_old ? PGR_V_FAIL : b->failed ? PGR_V_WARN : PGR_V_OK;
	if (b->failed && !too_old)
		summary(v, "%s; last successful backup %s ago (limit %s)", failed, age, max);
	else if (b->failed)
		summary(v, "last successful backup %s ago (limit %s); %s", age, max, failed);
	else
		summary(v, "last successful backup %s ago (limit %s): %s", age, max, b->last_what);
	rule(v, "BackupJobFailed: time() - backup_timestamp = %" PRId64 " s %s %" PRId64 " s (%s)%s", a,
	     too_old ? ">" : "<=", env->backup_max_age, b->last_what,
	     f->backup_success.known && f->backup_success.value == 0 ? "; postgres_backup_success = 0" : "");
	if (b->store_down)
		append(v->summary, sizeof v->summary, " (store unreachable)");

	/* Fresh facts alone proving it recent settle it: old ones only add backups. */
	if (b->have_fresh && (int64_t)(f->now - b->last_fresh) <= env->backup_max_age && !b->failed)
		return;
	if (b->last_stale || b->store_stale) {
		const struct pgr_num *ts = &f->backup_timestamp;
		const char *name = "store";
		const struct pgr_source_state *s = &f->store;
		if (!b->store_stale && num_stale(f, ts))
			s = num_source(f, ts, &name);
		mark_stale(v, name, s, f->now);
	}
}

static void eval_backup_not_running(const struct pgr_facts *f, const struct backup_view *b, struct pgr_verdict *v)
{
	char at[32], failed[160];
	rule(v, "BackupJobNotRunning: absent(postgres_backup_timestamp) and no backup in the store");
	if (b->have) {
		fmt_time(b->last, at, sizeof at);
		v->level = PGR_V_OK;
		summary(v, "backups are recorded; last success %s (%s)", at, b->last_what);
		append(v->rule, sizeof v->rule, ": false");
		return;
	}
	if (b->attempted) {
		/* The job runs; that none succeeded is BackupJobFailed's to say. */
		v->level = PGR_V_OK;
		if (b->failed) {
			failed_text(b, failed, sizeof failed);
			summary(v, "the backup job runs but has never succeeded: %s", failed);
		} else {
			summary(v, "the backup job has run but no successful backup is recorded");
		}
		append(v->rule, sizeof v->rule, ": false (a run is recorded)");
		return;
	}
	if (b->store_down) {
		unreachable(v, "store", &f->store);
		append(v->summary, sizeof v->summary, "; no postgres_backup_timestamp either");
		return;
	}
	v->level = PGR_V_FAIL;
	if (f->store.configured || f->have_catalog)
		summary(v,
		        "no backup has ever been recorded: no postgres_backup_timestamp and no dump or base "
		        "backup in the store");
	else
		summary(v, "no backup has ever been recorded: no postgres_backup_timestamp and no store configured");
	append(v->rule, sizeof v->rule, ": true");
	if (b->store_stale)
		mark_stale(v, "store", &f->store, f->now);
}

/* ------------------------------------------------------------ WAL */

/* The database's part of both WAL rules; false when they cannot be judged. */
static bool wal_precheck(const struct pgr_facts *f, struct pgr_verdict *v)
{
	if (src_down(&f->db)) {
		unreachable(v, "database", &f->db);
		rule(v, "%s: needs pg_stat_archiver from the database", alerts[v->id].name);
		return false;
	}
	if (!f->arch.known) {
		v->level = PGR_V_UNKNOWN;
		summary(v, "pg_stat_archiver could not be read");
		rule(v, "%s: needs SELECT on pg_stat_archiver", alerts[v->id].name);
		return false;
	}
	return true;
}

static void eval_wal_lag(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_verdict *v)
{
	if (!wal_precheck(f, v))
		return;
	const struct pgr_archiver_facts *a = &f->arch;
	char lag_s[32], warn_s[32], crit_s[32], ago[32];
	fmt_dur(env->wal_lag_warn, warn_s, sizeof warn_s);
	fmt_dur(env->wal_lag_critical, crit_s, sizeof crit_s);
	if (strcmp(a->archive_mode, "on") != 0 && strcmp(a->archive_mode, "always") != 0) {
		v->level = PGR_V_FAIL;
		summary(v, "archive_mode is %s: no WAL is archived, point-in-time recovery is impossible",
		        a->archive_mode[0] ? a->archive_mode : "unknown");
		rule(v, "WALArchivingLag: archive_mode must be on");
	} else {
		/* As status.c: the oldest segment still waiting; with nothing waiting
		 * the archive is current however long ago the last switch was. */
		int64_t lag;
		const char *how;
		if (a->pending >= 0) {
			lag = a->pending > 0 && a->oldest_pending > 0 ? (int64_t)(f->now - a->oldest_pending) : 0;
			how = a->pending > 0 ? "time() - oldest .ready mtime" : "no .ready segment: lag";
		} else {
			lag = a->last_archived_time > 0 ? (int64_t)(f->now - a->last_archived_time) : 0;
			how = "time() - last_archived_time";
		}
		if (lag < 0)
			lag = 0;
		fmt_dur(lag, lag_s, sizeof lag_s);
		if (a->last_archived_time > 0)
			fmt_dur((int64_t)(f->now - a->last_archived_time), ago, sizeof ago);
		v->level = lag >= env->wal_lag_critical ? PGR_V_FAIL : lag >= env->wal_lag_warn ? PGR_V_WARN : PGR_V_OK;
		const char *last = a->last_archived_wal[0] ? a->last_archived_wal : "(none)";
		if (a->pending >= 0)
			summary(v, "lag %s, %" PRId64 " segment%s waiting; last archived %s %s%s", lag_s, a->pending,
			        a->pending == 1 ? "" : "s", last, a->last_archived_time > 0 ? ago : "never",
			        a->last_archived_time > 0 ? " ago" : "");
		else
			summary(v, "lag %s (since last archived %s)", lag_s, last);
		if (v->level == PGR_V_FAIL)
			append(v->summary, sizeof v->summary, "; RPO at risk (critical at %s)", crit_s);
		else if (v->level == PGR_V_WARN)
			append(v->summary, sizeof v->summary, " (warn at %s)", warn_s);
		if (v->level == PGR_V_FAIL)
			rule(v, "WALArchivingLag: %s = %" PRId64 " s >= %" PRId64 " s wal_lag_critical", how, lag,
			     env->wal_lag_critical);
		else if (v->level == PGR_V_WARN)
			rule(v,
			     "WALArchivingLag: %s = %" PRId64 " s >= %" PRId64 " s wal_lag_warn (critical at %" PRId64
			     " s)",
			     how, lag, env->wal_lag_warn, env->wal_lag_critical);
		else
			rule(v, "WALArchivingLag: %s = %" PRId64 " s < %" PRId64 " s wal_lag_warn", how, lag,
			     env->wal_lag_warn);
	}
	if (src_stale(&f->db))
		mark_stale(v, "database", &f->db, f->now);
}

static void eval_wal_failed(const struct pgr_facts *f, struct pgr_verdict *v)
{
	if (!wal_precheck(f, v))
		return;
	const struct pgr_archiver_facts *a = &f->arch;
	char ago[32];
	bool failing = a->last_failed_time > 0 && a->last_failed_time >= a->last_archived_time &&
	        f->now - a->last_failed_time <= ARCHIVE_FAILURE_WINDOW;
	if (a->last_failed_time > 0)
		fmt_dur((int64_t)(f->now - a->last_failed_time), ago, sizeof ago);
	if (failing) {
		v->level = PGR_V_FAIL;
		summary(v,
		        "archiving is failing: segment %s failed %s ago (%" PRId64 " failures in total); PITR at risk",
		        a->last_failed_wal[0] ? a->last_failed_wal : "?", ago, a->failed_count);
		rule(v, "WALArchivingFailed: last failure %" PRId64 " s ago <= %d s and not before the last success",
		     (int64_t)(f->now - a->last_failed_time), ARCHIVE_FAILURE_WINDOW);
	} else if (a->last_failed_time > 0) {
		v->level = PGR_V_OK;
		bool after = a->last_archived_time > a->last_failed_time;
		summary(v, "no failure in the last %d min; last failure %s%s%s ago%s", ARCHIVE_FAILURE_WINDOW / 60,
		        a->last_failed_wal, a->last_failed_wal[0] ? " " : "", ago, after ? ", archived since" : "");
		rule(v, "WALArchivingFailed: last failure %" PRId64 " s ago, %s",
		     (int64_t)(f->now - a->last_failed_time), after ? "followed by a success" : "older than 300 s");
	} else {
		v->level = PGR_V_OK;
		summary(v, "no archive failures (%" PRId64 " segments archived)", a->archived_count);
		rule(v, "WALArchivingFailed: pg_stat_archiver.failed_count has no failure time");
	}
	if (src_stale(&f->db))
		mark_stale(v, "database", &f->db, f->now);
}

/* ------------------------------------------------------------ metric rules */

/* Shared handling of a metric's staleness for the rules that read only metrics. */
static void metric_stale(const struct pgr_facts *f, const struct pgr_num *n, struct pgr_verdict *v)
{
	const char *name = NULL;
	const struct pgr_source_state *s = num_source(f, n, &name);
	if (n->known && s && !s->ok)
		mark_stale(v, name, s, f->now);
}

static bool metric_missing(const struct pgr_facts *f, struct pgr_verdict *v, enum pgr_vlevel if_answered,
                           bool store_too)
{
	const char *down = metrics_source_down(f, store_too);
	if (down) {
		const struct pgr_source_state *s = !strcmp(down, "Prometheus") ? &f->prom : &f->store;
		v->level = PGR_V_UNKNOWN;
		summary(v, "no restore test result: %s unreachable: %.120s", down,
		        s->error[0] ? s->error : "no answer");
		return true;
	}
	v->level = if_answered;
	return false;
}

static void eval_restore_failed(const struct pgr_facts *f, struct pgr_verdict *v)
{
	const struct pgr_num *s = &f->restore_success;
	rule(v, "RestoreTestFailed: postgres_restore_test_success == 0");
	if (!s->known) {
		/* Nothing has failed; that no test ever ran is RestoreTestNotRun's WARN. */
		if (!metric_missing(f, v, PGR_V_NA, false))
			summary(v, "no restore test recorded (see RestoreTestNotRun)");
		append(v->rule, sizeof v->rule, ": metric missing");
		return;
	}
	char at[32] = "";
	if (f->restore_timestamp.known && f->restore_timestamp.value > 0)
		fmt_time((time_t)f->restore_timestamp.value, at, sizeof at);
	if (s->value == 0) {
		v->level = PGR_V_FAIL;
		summary(v, "last restore test FAILED%s%s: backup integrity may be compromised", at[0] ? " at " : "",
		        at);
	} else {
		v->level = PGR_V_OK;
		summary(v, "last restore test succeeded%s%s", at[0] ? " at " : "", at);
	}
	if (f->restore_clip_count.known && f->restore_user_count.known)
		append(v->summary, sizeof v->summary, " (%.0f clips, %.0f users restored)", f->restore_clip_count.value,
		       f->restore_user_count.value);
	append(v->rule, sizeof v->rule, ": value %g from %s", s->value, s->source[0] ? s->source : "metrics");
	metric_stale(f, s, v);
}

static void eval_restore_not_run(const struct pgr_facts *f, struct pgr_verdict *v)
{
	const struct pgr_num *t = &f->restore_timestamp;
	rule(v, "RestoreTestNotRun: time() - postgres_restore_test_timestamp > %d s", RESTORE_TEST_MAX_AGE);
	if (!t->known || t->value <= 0) {
		if (!metric_missing(f, v, PGR_V_WARN, false))
			summary(v, "restore test never run: no restore test recorded (monthly testing is required)");
		append(v->rule, sizeof v->rule, ": metric missing");
		metric_stale(f, t, v);
		return;
	}
	int64_t a = (int64_t)(f->now - (time_t)t->value);
	char age[32], at[32];
	fmt_dur(a, age, sizeof age);
	fmt_time((time_t)t->value, at, sizeof at);
	bool over = a > RESTORE_TEST_MAX_AGE;
	v->level = over ? PGR_V_WARN : PGR_V_OK;
	summary(v, "last restore test %s ago, at %s (limit 31d)", age, at);
	rule(v, "RestoreTestNotRun: time() - postgres_restore_test_timestamp = %" PRId64 " s %s %d s", a,
	     over ? ">" : "<=", RESTORE_TEST_MAX_AGE);
	metric_stale(f, t, v);
}

static void eval_rto(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_verdict *v)
{
	const struct pgr_num *d = &f->restore_duration;
	char max[32], took[32], target[32];
	fmt_dur(env->rto_max, max, sizeof max);
	rule(v, "RestoreRTOExceeded: postgres_restore_test_duration_seconds > %" PRId64 " s rto_max", env->rto_max);
	if (!d->known) {
		if (!metric_missing(f, v, PGR_V_NA, false))
			summary(v, "no restore test duration recorded");
		append(v->rule, sizeof v->rule, ": metric missing");
		return;
	}
	int64_t s = (int64_t)d->value;
	fmt_dur(s, took, sizeof took);
	fmt_dur(env->rto_target, target, sizeof target);
	bool over = d->value > (double)env->rto_max;
	v->level = over ? PGR_V_WARN : PGR_V_OK;
	summary(v, "last restore took %s (target %s, limit %s)%s", took, target, max,
	        over ? ": the RTO may not be achievable" : "");
	rule(v, "RestoreRTOExceeded: postgres_restore_test_duration_seconds = %.0f s %s %" PRId64 " s rto_max",
	     d->value, over ? ">" : "<=", env->rto_max);
	metric_stale(f, d, v);
}

static void eval_storage(const struct pgr_facts *f, struct pgr_verdict *v)
{
	const struct pgr_num *u = &f->storage_used, *t = &f->storage_total;
	rule(v, "BackupStorageLow: backup_storage_used_bytes / backup_storage_total_bytes > %.2f", STORAGE_LOW_RATIO);
	if (!u->known || !t->known || t->value <= 0) {
		if (!metric_missing(f, v, PGR_V_NA, true))
			summary(v,
			        "backup storage capacity is not reported (backup_storage_used_bytes, "
			        "backup_storage_total_bytes)");
		else
			summary(v, "backup storage capacity unknown: %s unreachable", metrics_source_down(f, true));
		append(v->rule, sizeof v->rule, ": metric missing");
		return;
	}
	double ratio = u->value / t->value;
	char used[32], total[32];
	pgr_size_format(u->value > 0 ? (uint64_t)u->value : 0, used, sizeof used);
	pgr_size_format((uint64_t)t->value, total, sizeof total);
	bool low = ratio > STORAGE_LOW_RATIO;
	v->level = low ? PGR_V_WARN : PGR_V_OK;
	summary(v, "backup storage %.0f%% full (%s of %s; limit %.0f%%)%s", ratio * 100, used, total,
	        STORAGE_LOW_RATIO * 100, low ? ": increase capacity or adjust retention" : "");
	rule(v, "BackupStorageLow: %.0f / %.0f = %.4f %s %.2f", u->value, t->value, ratio,
	     low ? ">" : "<=", STORAGE_LOW_RATIO);
	if (num_stale(f, u))
		metric_stale(f, u, v);
	else
		metric_stale(f, t, v);
}

/* ------------------------------------------------------------ snapshots */

static bool snapshot_precheck(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_verdict *v)
{
	if (!f->snapshots_supported) {
		v->level = PGR_V_NA;
		summary(v, "the %s platform has no volume snapshots", env && env->platform ? env->platform : "local");
		rule(v, "%s: only where the platform has volume snapshots", alerts[v->id].name);
		return false;
	}
	if (src_down(&f->platform)) {
		unreachable(v, "platform", &f->platform);
		rule(v, "%s: needs the platform's volume snapshots", alerts[v->id].name);
		return false;
	}
	return true;
}

static void eval_snapshot_failed(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_verdict *v)
{
	if (!snapshot_precheck(f, env, v))
		return;
	int bad = 0;
	const struct pgr_snapshot_fact *first = NULL;
	for (int i = 0; i < f->n_snapshots; i++)
		if (!f->snapshots[i].ready) {
			/* The newest failure is the one to show. */
			if (!first || f->snapshots[i].created > first->created)
				first = &f->snapshots[i];
			bad++;
		}
	rule(v, "VolumeSnapshotFailed: a snapshot with readyToUse false");
	if (!first) {
		v->level = PGR_V_OK;
		if (f->n_snapshots == 0)
			summary(v, "no volume snapshot to check");
		else
			summary(v, "%d volume snapshot%s, all ready", f->n_snapshots, f->n_snapshots == 1 ? "" : "s");
		append(v->rule, sizeof v->rule, ": none of %d", f->n_snapshots);
	} else {
		char ago[32];
		fmt_dur((int64_t)(f->now - first->created), ago, sizeof ago);
		v->level = PGR_V_WARN;
		summary(v, "snapshot %.80s not ready (created %s ago)%s%.60s", first->name, ago,
		        first->error[0] ? ": " : "", first->error);
		if (bad > 1)
			append(v->summary, sizeof v->summary, "; %d more not ready", bad - 1);
		append(v->rule, sizeof v->rule, ": %d of %d", bad, f->n_snapshots);
	}
	if (src_stale(&f->platform))
		mark_stale(v, "platform", &f->platform, f->now);
}

static void eval_no_recent_snapshot(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_verdict *v)
{
	if (!snapshot_precheck(f, env, v))
		return;
	const struct pgr_snapshot_fact *newest = NULL;
	for (int i = 0; i < f->n_snapshots; i++)
		if (!newest || f->snapshots[i].created > newest->created)
			newest = &f->snapshots[i];
	if (!newest) {
		v->level = PGR_V_WARN;
		summary(v, "no volume snapshot exists");
		rule(v, "NoRecentVolumeSnapshot: no snapshot created (limit %d s)", SNAPSHOT_MAX_AGE);
	} else {
		int64_t a = (int64_t)(f->now - newest->created);
		char age[32];
		fmt_dur(a, age, sizeof age);
		bool old = a > SNAPSHOT_MAX_AGE;
		v->level = old ? PGR_V_WARN : PGR_V_OK;
		summary(v, "newest volume snapshot %.80s is %s old (limit 2d 0h)%s", newest->name, age,
		        newest->ready ? "" : ", not ready");
		rule(v, "NoRecentVolumeSnapshot: time() - max(created) = %" PRId64 " s %s %d s", a,
		     old ? ">" : "<=", SNAPSHOT_MAX_AGE);
	}
	if (src_stale(&f->platform))
		mark_stale(v, "platform", &f->platform, f->now);
}

/* ------------------------------------------------------------ Prometheus */

static bool prom_fires(const struct pgr_facts *f, const char *name)
{
	for (int i = 0; f->prom_firing && i < f->n_prom_firing; i++)
		if (!strncmp(f->prom_firing[i], name, sizeof f->prom_firing[i]))
			return true;
	return false;
}

/* Whether pgrescue's verdict amounts to the alert firing, at its severity. */
static bool we_fire(const struct pgr_verdict *v)
{
	if (!strcmp(v->severity, "critical"))
		return v->level == PGR_V_FAIL;
	return v->level == PGR_V_WARN || v->level == PGR_V_FAIL;
}

static void compare_prom(const struct pgr_facts *f, struct pgr_verdict *v)
{
	if (!f->prom.configured || !f->prom.ok)
		return;
	const struct alert_def *d = &alerts[v->id];
	v->prom_known = true;
	v->prom_firing = prom_fires(f, d->name);
	bool definite = v->level == PGR_V_OK || v->level == PGR_V_WARN || v->level == PGR_V_FAIL;
	bool ours = we_fire(v);
	v->disagree = definite && ours != v->prom_firing;
	if (v->disagree && ours) {
		append(v->summary, sizeof v->summary, " [Prometheus: not firing]");
		append(v->rule, sizeof v->rule, "; Prometheus fires only after for: %s, from its own metrics",
		       d->prom_for);
	} else if (v->disagree) {
		append(v->summary, sizeof v->summary, " [Prometheus: FIRING]");
		append(v->rule, sizeof v->rule, "; Prometheus fires it from its own metrics (for: %s)", d->prom_for);
	} else if (v->prom_firing && !ours) {
		/* Not a disagreement (pgrescue cannot judge), but not to be hidden. */
		append(v->summary, sizeof v->summary, " [Prometheus: FIRING]");
	}
}

/* ------------------------------------------------------------ panels */

static int rank(enum pgr_vlevel l)
{
	switch (l) {
	case PGR_V_FAIL: return 5;
	case PGR_V_UNKNOWN: return 4;
	case PGR_V_STALE: return 3;
	case PGR_V_WARN: return 2;
	case PGR_V_OK: return 1;
	case PGR_V_NA:
	default: return 0;
	}
}

static enum pgr_vlevel worst(enum pgr_vlevel a, enum pgr_vlevel b)
{
	return rank(b) > rank(a) ? b : a;
}

static enum pgr_vlevel window_level(const struct pgr_facts *f)
{
	if (!f->have_catalog)
		return PGR_V_UNKNOWN;
	if (!f->store.ok)
		return PGR_V_STALE;
	if (!f->window.exists)
		return PGR_V_FAIL;
	return f->window.gap_after ? PGR_V_WARN : PGR_V_OK;
}

void pgr_health_evaluate(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_health *h)
{
	memset(h, 0, sizeof *h);
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		h->v[i].id = (enum pgr_alert_id)i;
		h->v[i].severity = alerts[i].severity;
		h->v[i].level = PGR_V_UNKNOWN;
	}
	struct backup_view b;
	backup_view(f, &b);
	eval_backup_failed(f, env, &b, &h->v[PGR_A_BACKUP_FAILED]);
	eval_backup_not_running(f, &b, &h->v[PGR_A_BACKUP_NOT_RUNNING]);
	eval_wal_lag(f, env, &h->v[PGR_A_WAL_LAG]);
	eval_wal_failed(f, &h->v[PGR_A_WAL_FAILED]);
	eval_restore_failed(f, &h->v[PGR_A_RESTORE_FAILED]);
	eval_restore_not_run(f, &h->v[PGR_A_RESTORE_NOT_RUN]);
	eval_rto(f, env, &h->v[PGR_A_RTO_EXCEEDED]);
	eval_storage(f, &h->v[PGR_A_STORAGE_LOW]);
	eval_snapshot_failed(f, env, &h->v[PGR_A_SNAPSHOT_FAILED]);
	eval_no_recent_snapshot(f, env, &h->v[PGR_A_NO_RECENT_SNAPSHOT]);
	for (int i = 0; i < PGR_N_ALERTS; i++)
		compare_prom(f, &h->v[i]);

	const struct pgr_verdict *v = h->v;
	h->backups = worst(v[PGR_A_BACKUP_FAILED].level, v[PGR_A_BACKUP_NOT_RUNNING].level);
	h->wal = worst(v[PGR_A_WAL_LAG].level, v[PGR_A_WAL_FAILED].level);
	h->snapshots = worst(v[PGR_A_SNAPSHOT_FAILED].level, v[PGR_A_NO_RECENT_SNAPSHOT].level);
	h->restore_tests = worst(worst(v[PGR_A_RESTORE_FAILED].level, v[PGR_A_RESTORE_NOT_RUN].level),
	                         v[PGR_A_RTO_EXCEEDED].level);
	h->window = window_level(f);
	/* Critical beats unknown beats stale beats warning: an unreachable source
	 * must not hide a known failure, and must not pass for OK. */
	h->overall = h->window;
	for (int i = 0; i < PGR_N_ALERTS; i++)
		h->overall = worst(h->overall, v[i].level);
}
