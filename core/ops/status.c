/* `pgrescue status` (see status.h): facts from the database and the store,
 * then verdicts from the runbook's thresholds. Collection never fails as a
 * whole; an unreachable source becomes a fact with its error. */
#include "config.h"

#include "ops/status.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "source/collect.h"
#include "source/prom.h"

#define DB_TIMEOUT_SEC 5
/* The store's listing may take longer: a bucket of 100,000 keys and more
 * takes seconds to list, and its requests have their own timeouts
 * (store_timeout), so this only bounds the whole. */
#define STORE_WAIT_SEC 60
/* WALArchivingFailed fires on failures within this many seconds (rate over 5m). */
#define ARCHIVE_FAILURE_WINDOW 300

const char *pgr_level_name(enum pgr_level l)
{
	switch (l) {
	case PGR_OK: return "OK";
	case PGR_WARN: return "WARN";
	case PGR_CRIT: return "FAIL";
	case PGR_UNKNOWN:
	default: return "UNKNOWN";
	}
}

void pgr_status_init(struct pgr_status *s)
{
	memset(s, 0, sizeof *s);
}

void pgr_status_free(struct pgr_status *s)
{
	if (s->snap) {
		pgr_snapshot_release(s->snap); /* the catalog and window were the snapshot's */
	} else if (s->have_catalog) {
		pgr_window_free(&s->window);
		pgr_catalog_free(&s->catalog);
	}
	memset(s, 0, sizeof *s);
}

static void copy_str(char *dst, size_t n, const char *src)
{
	/* Truncating copy; not snprintf, whose truncation warnings are noise here. */
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* One refresh of the collector, the same collection the dashboard runs. */
void pgr_status_collect(const struct pgr_env *env, struct pgr_status *s)
{
	s->now = pgr_now();
	copy_str(s->env_name, sizeof s->env_name, env->name);
	s->arch.pending = -1;
	struct pgr_error err = {0};
	/* status only reads: its session is read-only whatever the environment says. */
	struct pgr_collector_opts opts = {.interval_ms = 3600 * 1000,
	                                  .source_timeout_ms = DB_TIMEOUT_SEC * 1000,
	                                  .store_timeout_ms = STORE_WAIT_SEC * 1000,
	                                  .readonly = true};
	struct pgr_collector *c = pgr_collector_start(env, &opts, &err);
	if (!c) {
		copy_str(s->db_error, sizeof s->db_error, err.msg);
		copy_str(s->store_error, sizeof s->store_error, err.msg);
		return;
	}
	/* Every source has its own timeout; the bound here only guards against a bug. */
	double until = pgr_monotonic() + STORE_WAIT_SEC + DB_TIMEOUT_SEC * 2 + 2;
	struct pgr_snapshot *snap = NULL;
	while (!(snap = pgr_collector_snapshot(c))) {
		int left = (int)((until - pgr_monotonic()) * 1000.0);
		if (left <= 0)
			break;
		struct pollfd p = {.fd = pgr_collector_fd(c), .events = POLLIN};
		poll(&p, 1, left);
		pgr_collector_ack(c);
	}
	pgr_collector_stop(c);
	if (!snap) {
		snprintf(s->db_error, sizeof s->db_error, "no answer from the collector within %d s",
		         STORE_WAIT_SEC + DB_TIMEOUT_SEC * 2 + 2);
		copy_str(s->store_error, sizeof s->store_error, s->db_error);
		return;
	}
	s->snap = snap;
	const struct pgr_facts *f = &snap->facts;
	s->now = f->now;
	s->db_reachable = f->db.ok;
	if (f->db.ok) {
		copy_str(s->server_version, sizeof s->server_version, f->server_version);
		copy_str(s->db_timezone, sizeof s->db_timezone, f->db_timezone);
		s->in_recovery = f->in_recovery;
		s->arch = f->arch;
	} else {
		copy_str(s->db_error, sizeof s->db_error, f->db.error[0] ? f->db.error : "no answer");
	}
	s->store_reachable = f->store.ok;
	if (!f->store.ok)
		copy_str(s->store_error, sizeof s->store_error, f->store.error[0] ? f->store.error : "no answer");
	if (f->have_catalog && f->store.ok) {
		/* Borrowed from the snapshot: pgr_status_free releases it instead. */
		s->have_catalog = true;
		s->catalog = f->catalog;
		s->window = f->window;
	}
}

static struct pgr_check *add_check(struct pgr_status *s, const char *name, enum pgr_level level)
{
	if (s->n_checks >= (int)(sizeof s->checks / sizeof s->checks[0]))
		return &s->checks[s->n_checks - 1];
	struct pgr_check *c = &s->checks[s->n_checks++];
	memset(c, 0, sizeof *c);
	copy_str(c->name, sizeof c->name, name);
	c->level = level;
	return c;
}

static void summary(struct pgr_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summary(struct pgr_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->summary, sizeof c->summary, fmt, ap);
	va_end(ap);
}

static void rule(struct pgr_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rule(struct pgr_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->rule, sizeof c->rule, fmt, ap);
	va_end(ap);
}

static void eval_db(struct pgr_status *s)
{
	struct pgr_check *c = add_check(s, "database", PGR_OK);
	if (!s->db_reachable) {
		c->level = PGR_UNKNOWN;
		summary(c, "unreachable: %.200s", s->db_error);
		rule(c, "the database must answer within %d s", DB_TIMEOUT_SEC);
		return;
	}
	if (s->in_recovery) {
		c->level = PGR_WARN;
		summary(c, "PostgreSQL %s is in recovery (a standby, or a restore in progress)", s->server_version);
		rule(c, "pg_is_in_recovery() = true");
		return;
	}
	summary(c, "PostgreSQL %s, primary, time zone %s", s->server_version, s->db_timezone);
	rule(c, "connected; pg_is_in_recovery() = false");
}

static void eval_backups(const struct pgr_env *env, struct pgr_status *s)
{
	char age[32], max[32], size[32];
	pgr_duration_format(env->backup_max_age, max, sizeof max);
	if (!s->store_reachable) {
		struct pgr_check *c = add_check(s, "store", PGR_UNKNOWN);
		summary(c, "unreachable: %.200s", s->store_error);
		rule(c, "the backup store must be listable");
		return;
	}
	const struct pgr_dump *d = pgr_catalog_newest_dump(&s->catalog);
	struct pgr_check *c = add_check(s, "backup.dump", PGR_OK);
	if (!d) {
		c->level = PGR_CRIT;
		summary(c, "no good logical dump in the store");
		rule(c, "BackupJobNotRunning: a dump under database/ must exist");
	} else {
		int64_t a = (int64_t)(s->now - d->time);
		pgr_duration_format(a, age, sizeof age);
		pgr_size_format(d->size, size, sizeof size);
		c->level = a > env->backup_max_age ? PGR_CRIT : PGR_OK;
		summary(c, "newest dump %s old, %s (%s)", age, size, d->key);
		rule(c, "BackupJobFailed: age %s %s backup_max_age %s", age, a > env->backup_max_age ? ">" : "<=", max);
	}
	/* A failed attempt newer than the newest good one is a fact worth showing. */
	if (s->catalog.n_dumps > 0 && !s->catalog.dumps[s->catalog.n_dumps - 1].good && c->level == PGR_OK) {
		c->level = PGR_WARN;
		summary(c, "newest dump %s is marked failed; last good one is %s old",
		        s->catalog.dumps[s->catalog.n_dumps - 1].key, age);
	}

	const struct pgr_base *b = pgr_catalog_newest_base(&s->catalog);
	c = add_check(s, "backup.base", PGR_OK);
	if (!b) {
		c->level = PGR_CRIT;
		summary(c, "no complete base backup: point-in-time recovery is impossible");
		rule(c, "PITR needs a physical base backup under base/ (a logical dump cannot replay WAL)");
	} else {
		int64_t a = (int64_t)(s->now - b->manifest.stop_time);
		pgr_duration_format(a, age, sizeof age);
		pgr_size_format(b->size, size, sizeof size);
		c->level = a > env->backup_max_age ? PGR_CRIT : PGR_OK;
		summary(c, "newest base backup %s old, %s (base/%s)", age, size, b->label);
		rule(c, "age %s %s backup_max_age %s", age, a > env->backup_max_age ? ">" : "<=", max);
	}
}

static void eval_archiving(const struct pgr_env *env, struct pgr_status *s)
{
	if (!s->db_reachable)
		return; /* the database check already says UNKNOWN */
	struct pgr_check *c = add_check(s, "wal.archiving", PGR_OK);
	const struct pgr_archiver_facts *a = &s->arch;
	char lag_s[32], warn_s[32], crit_s[32], ago[32];
	pgr_duration_format(env->wal_lag_warn, warn_s, sizeof warn_s);
	pgr_duration_format(env->wal_lag_critical, crit_s, sizeof crit_s);
	if (!a->known) {
		c->level = PGR_UNKNOWN;
		summary(c, "pg_stat_archiver could not be read");
		rule(c, "needs SELECT on pg_stat_archiver");
		return;
	}
	if (strcmp(a->archive_mode, "on") != 0 && strcmp(a->archive_mode, "always") != 0) {
		c->level = PGR_CRIT;
		summary(c, "archive_mode is %s: no WAL is archived, point-in-time recovery is impossible",
		        a->archive_mode[0] ? a->archive_mode : "unknown");
		rule(c, "archive_mode must be on");
		return;
	}
	bool failing = a->last_failed_time > 0 && a->last_failed_time >= a->last_archived_time &&
	        s->now - a->last_failed_time <= ARCHIVE_FAILURE_WINDOW;
	if (failing) {
		pgr_duration_format((int64_t)(s->now - a->last_failed_time), ago, sizeof ago);
		c->level = PGR_CRIT;
		summary(c, "archiving is failing: segment %s failed %s ago (%" PRId64 " failures in total)",
		        a->last_failed_wal, ago, a->failed_count);
		rule(c, "WALArchivingFailed: last failure within %d s and after the last success",
		     ARCHIVE_FAILURE_WINDOW);
		return;
	}
	/* Lag: how old is the oldest segment still waiting. With nothing waiting the
	 * archive is current, however long ago the last switch was. */
	int64_t lag;
	if (a->pending >= 0)
		lag = a->pending > 0 && a->oldest_pending > 0 ? (int64_t)(s->now - a->oldest_pending) : 0;
	else
		lag = a->last_archived_time > 0 ? (int64_t)(s->now - a->last_archived_time) : 0;
	if (lag < 0)
		lag = 0;
	pgr_duration_format(lag, lag_s, sizeof lag_s);
	if (a->last_archived_time > 0)
		pgr_duration_format((int64_t)(s->now - a->last_archived_time), ago, sizeof ago);
	else
		copy_str(ago, sizeof ago, "never");
	c->level = lag >= env->wal_lag_critical ? PGR_CRIT : lag >= env->wal_lag_warn ? PGR_WARN : PGR_OK;
	if (a->pending >= 0)
		summary(c, "lag %s, %" PRId64 " segment%s waiting; last archived %s %s%s", lag_s, a->pending,
		        a->pending == 1 ? "" : "s", a->last_archived_wal[0] ? a->last_archived_wal : "(none)", ago,
		        a->last_archived_time > 0 ? " ago" : "");
	else
		summary(c, "lag %s (since last archived %s)", lag_s,
		        a->last_archived_wal[0] ? a->last_archived_wal : "(none)");
	rule(c, "WALArchivingLag: lag %s; warn at %s, critical at %s", lag_s, warn_s, crit_s);
}

static void eval_window(struct pgr_status *s)
{
	if (!s->store_reachable)
		return;
	struct pgr_check *c = add_check(s, "window", PGR_OK);
	char from[32], to[32];
	if (!s->window.exists) {
		c->level = PGR_CRIT;
		summary(c, "no recoverable window: %.200s", s->window.why_not ? s->window.why_not : "unknown reason");
		rule(c, "a complete base backup with continuous WAL after it must exist");
		return;
	}
	pgr_time_format_utc(s->window.earliest, from, sizeof from);
	pgr_time_format_utc(s->window.latest, to, sizeof to);
	summary(c, "timeline %u, %s .. %s (from base %s)", s->window.timeline, from, to,
	        s->window.earliest_base ? s->window.earliest_base : "?");
	rule(c, "base backups plus continuous WAL");
	if (s->window.gap_after) {
		c->level = PGR_WARN;
		summary(c, "timeline %u, %s .. %s; WAL gap at %s: later segments are unreachable", s->window.timeline,
		        from, to, s->window.gap_after);
	}
}

void pgr_status_evaluate(const struct pgr_env *env, struct pgr_status *s)
{
	s->n_checks = 0;
	eval_db(s);
	eval_backups(env, s);
	eval_archiving(env, s);
	eval_window(s);
	/* Critical beats unknown beats warning: an unreachable source must not hide
	 * a known failure, and must not pass for OK. */
	bool crit = false, unknown = false, warn = false;
	for (int i = 0; i < s->n_checks; i++) {
		crit |= s->checks[i].level == PGR_CRIT;
		unknown |= s->checks[i].level == PGR_UNKNOWN;
		warn |= s->checks[i].level == PGR_WARN;
	}
	s->overall = crit ? PGR_CRIT : unknown ? PGR_UNKNOWN : warn ? PGR_WARN : PGR_OK;
}

static const char *nz(const char *s)
{
	return s ? s : "?";
}

/* The ten alert verdicts, with Prometheus's view beside them where it answered. */
static void print_alerts(const struct pgr_status *s, FILE *out)
{
	const struct pgr_facts *f = &s->snap->facts;
	const struct pgr_health *h = &s->snap->health;
	fprintf(out, "\nalerts (the runbook's rules, evaluated by pgrescue%s):\n",
	        !f->prom.configured  ? ""
	                : f->prom.ok ? "; Prometheus's firing alerts beside them"
	                             : "");
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		const struct pgr_verdict *v = &h->v[i];
		/* The summary already says where Prometheus sees it otherwise. */
		fprintf(out, "  %-7s %-23s %s\n", nz(pgr_vlevel_name(v->level)),
		        nz(pgr_alert_name((enum pgr_alert_id)i)), v->summary);
	}
	if (f->prom.configured && !f->prom.ok)
		fprintf(out, "  prometheus unreachable: %s\n", f->prom.error);
}

void pgr_status_print(const struct pgr_status *s, FILE *out)
{
	char now[32];
	pgr_time_format_utc(s->now, now, sizeof now);
	fprintf(out, "pgrescue status: environment %s at %s\n", s->env_name, now);
	fprintf(out, "overall: %s\n\n", pgr_level_name(s->overall));
	for (int i = 0; i < s->n_checks; i++)
		fprintf(out, "  %-7s %-14s %s\n", pgr_level_name(s->checks[i].level), s->checks[i].name,
		        s->checks[i].summary);
	if (s->have_catalog) {
		struct pgr_window *wins = NULL;
		size_t nw = pgr_catalog_windows(&s->catalog, &wins);
		if (nw > 1) {
			fprintf(out, "\nwindow per timeline:\n");
			for (size_t i = 0; i < nw; i++) {
				char from[32], to[32];
				if (!wins[i].exists) {
					fprintf(out, "  timeline %-4u none: %s\n", wins[i].timeline,
					        wins[i].why_not ? wins[i].why_not : "no base backup reaches it");
					continue;
				}
				pgr_time_format_utc(wins[i].earliest, from, sizeof from);
				pgr_time_format_utc(wins[i].latest, to, sizeof to);
				fprintf(out, "  timeline %-4u %s .. %s (base %s, last WAL %s)%s\n", wins[i].timeline,
				        from, to, wins[i].earliest_base ? wins[i].earliest_base : "?",
				        wins[i].last_wal ? wins[i].last_wal : "?", wins[i].gap_after ? ", gap" : "");
			}
		}
		pgr_windows_free(wins, nw);
	}
	bool any = false;
	for (int i = 0; i < s->n_checks; i++) {
		if (s->checks[i].level == PGR_OK)
			continue;
		if (!any)
			fprintf(out, "\nwhy:\n");
		any = true;
		fprintf(out, "  %-14s %s\n", s->checks[i].name, s->checks[i].rule);
	}
	if (s->snap)
		print_alerts(s, out);
}

static void add_time(cJSON *o, const char *key, time_t t)
{
	if (t <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char buf[32];
	pgr_time_format_utc(t, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_source(cJSON *parent, const char *name, const struct pgr_source_state *st)
{
	cJSON *o = cJSON_AddObjectToObject(parent, name);
	cJSON_AddBoolToObject(o, "configured", st->configured);
	cJSON_AddBoolToObject(o, "reachable", st->ok);
	add_time(o, "read_at", st->read_at);
	add_time(o, "last_ok", st->last_ok);
	cJSON_AddNumberToObject(o, "latency_ms", (double)(int64_t)(st->latency_ms * 10) / 10);
	if (st->error[0])
		cJSON_AddStringToObject(o, "error", st->error);
}

static void add_metric(cJSON *parent, const char *name, const struct pgr_num *n)
{
	if (!n->known) {
		cJSON_AddNullToObject(parent, name); /* missing is unknown, never zero */
		return;
	}
	cJSON *o = cJSON_AddObjectToObject(parent, name);
	cJSON_AddNumberToObject(o, "value", n->value);
	cJSON_AddStringToObject(o, "source", n->source);
	add_time(o, "read_at", n->read_at);
}

/* What only the collector knows: sources, metrics, Prometheus's alerts, verdicts. */
static void add_collected(cJSON *root, const struct pgr_snapshot *snap)
{
	const struct pgr_facts *f = &snap->facts;
	cJSON *src = cJSON_AddObjectToObject(root, "sources");
	add_source(src, "database", &f->db);
	add_source(src, "store", &f->store);
	add_source(src, "prometheus", &f->prom);
	add_source(src, "platform", &f->platform);

	cJSON *m = cJSON_AddObjectToObject(root, "metrics");
	const struct pgr_num *nums[PGR_PM_N] = {
	        [PGR_PM_BACKUP_SUCCESS] = &f->backup_success,
	        [PGR_PM_BACKUP_TIMESTAMP] = &f->backup_timestamp,
	        [PGR_PM_BACKUP_SIZE] = &f->backup_size,
	        [PGR_PM_RESTORE_SUCCESS] = &f->restore_success,
	        [PGR_PM_RESTORE_TIMESTAMP] = &f->restore_timestamp,
	        [PGR_PM_RESTORE_DURATION] = &f->restore_duration,
	        [PGR_PM_RESTORE_CLIP_COUNT] = &f->restore_clip_count,
	        [PGR_PM_RESTORE_USER_COUNT] = &f->restore_user_count,
	        [PGR_PM_STORAGE_USED] = &f->storage_used,
	        [PGR_PM_STORAGE_TOTAL] = &f->storage_total,
	};
	for (int i = 0; i < PGR_PM_N; i++)
		add_metric(m, pgr_prom_metric_name((enum pgr_prom_metric)i), nums[i]);

	if (f->prom.configured && f->prom_firing) {
		cJSON *firing = cJSON_AddArrayToObject(root, "prometheus_firing");
		for (int i = 0; i < f->n_prom_firing; i++)
			cJSON_AddItemToArray(firing, cJSON_CreateString(f->prom_firing[i]));
	}

	cJSON *alerts = cJSON_AddArrayToObject(root, "alerts");
	for (int i = 0; i < PGR_N_ALERTS; i++) {
		const struct pgr_verdict *v = &snap->health.v[i];
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "name", nz(pgr_alert_name((enum pgr_alert_id)i)));
		cJSON_AddStringToObject(a, "level", nz(pgr_vlevel_name(v->level)));
		cJSON_AddStringToObject(a, "severity", nz(v->severity));
		cJSON_AddStringToObject(a, "summary", v->summary);
		cJSON_AddStringToObject(a, "rule", v->rule);
		if (v->prom_known)
			cJSON_AddBoolToObject(a, "prometheus_firing", v->prom_firing);
		else
			cJSON_AddNullToObject(a, "prometheus_firing");
		cJSON_AddBoolToObject(a, "disagree", v->disagree);
		cJSON_AddItemToArray(alerts, a);
	}
}

char *pgr_status_to_json(const struct pgr_status *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "environment", s->env_name);
	add_time(root, "time", s->now);
	cJSON_AddStringToObject(root, "overall", pgr_level_name(s->overall));
	cJSON_AddNumberToObject(root, "exit_code", (double)s->overall);

	cJSON *db = cJSON_AddObjectToObject(root, "database");
	cJSON_AddBoolToObject(db, "reachable", s->db_reachable);
	if (s->db_reachable) {
		cJSON_AddStringToObject(db, "server_version", s->server_version);
		cJSON_AddStringToObject(db, "time_zone", s->db_timezone);
		cJSON_AddBoolToObject(db, "in_recovery", s->in_recovery);
		if (s->snap && s->snap->facts.current_lsn) {
			char lsn[32];
			pgr_lsn_format(s->snap->facts.current_lsn, lsn, sizeof lsn);
			cJSON_AddStringToObject(db, "current_lsn", lsn);
		}
	} else {
		cJSON_AddStringToObject(db, "error", s->db_error);
	}
	if (s->db_reachable && s->arch.known) {
		cJSON *a = cJSON_AddObjectToObject(root, "archiver");
		cJSON_AddStringToObject(a, "archive_mode", s->arch.archive_mode);
		cJSON_AddNumberToObject(a, "archived_count", (double)s->arch.archived_count);
		cJSON_AddStringToObject(a, "last_archived_wal", s->arch.last_archived_wal);
		add_time(a, "last_archived_time", s->arch.last_archived_time);
		cJSON_AddNumberToObject(a, "failed_count", (double)s->arch.failed_count);
		cJSON_AddStringToObject(a, "last_failed_wal", s->arch.last_failed_wal);
		add_time(a, "last_failed_time", s->arch.last_failed_time);
		cJSON_AddStringToObject(a, "current_wal", s->arch.current_wal);
		if (s->arch.pending >= 0) {
			cJSON_AddNumberToObject(a, "pending_segments", (double)s->arch.pending);
			add_time(a, "oldest_pending_time", s->arch.oldest_pending);
		}
	}
	cJSON *st = cJSON_AddObjectToObject(root, "store");
	cJSON_AddBoolToObject(st, "reachable", s->store_reachable);
	if (!s->store_reachable)
		cJSON_AddStringToObject(st, "error", s->store_error);
	if (s->have_catalog) {
		cJSON_AddNumberToObject(st, "dumps", (double)s->catalog.n_dumps);
		cJSON_AddNumberToObject(st, "base_backups", (double)s->catalog.n_bases);
		cJSON_AddNumberToObject(st, "wal_files", (double)s->catalog.n_wal);
		cJSON_AddNumberToObject(st, "total_bytes", (double)s->catalog.total_bytes);
		const struct pgr_dump *d = pgr_catalog_newest_dump(&s->catalog);
		if (d) {
			cJSON *o = cJSON_AddObjectToObject(root, "newest_dump");
			cJSON_AddStringToObject(o, "key", d->key);
			add_time(o, "time", d->time);
			cJSON_AddNumberToObject(o, "age_seconds", (double)(s->now - d->time));
			cJSON_AddNumberToObject(o, "size_bytes", (double)d->size);
		}
		const struct pgr_base *b = pgr_catalog_newest_base(&s->catalog);
		if (b) {
			char lsn[32];
			cJSON *o = cJSON_AddObjectToObject(root, "newest_base");
			cJSON_AddStringToObject(o, "label", b->label);
			add_time(o, "start_time", b->manifest.start_time);
			add_time(o, "stop_time", b->manifest.stop_time);
			cJSON_AddNumberToObject(o, "age_seconds", (double)(s->now - b->manifest.stop_time));
			cJSON_AddNumberToObject(o, "size_bytes", (double)b->size);
			pgr_lsn_format(b->manifest.start_lsn, lsn, sizeof lsn);
			cJSON_AddStringToObject(o, "start_lsn", lsn);
			pgr_lsn_format(b->manifest.stop_lsn, lsn, sizeof lsn);
			cJSON_AddStringToObject(o, "stop_lsn", lsn);
			cJSON_AddNumberToObject(o, "timeline", b->manifest.timeline);
		}
		cJSON *w = cJSON_AddObjectToObject(root, "window");
		cJSON_AddBoolToObject(w, "exists", s->window.exists);
		if (s->window.exists) {
			cJSON_AddNumberToObject(w, "timeline", s->window.timeline);
			add_time(w, "earliest", s->window.earliest);
			add_time(w, "latest", s->window.latest);
			if (s->window.earliest_base)
				cJSON_AddStringToObject(w, "earliest_base", s->window.earliest_base);
			if (s->window.last_wal)
				cJSON_AddStringToObject(w, "last_wal", s->window.last_wal);
			if (s->window.gap_after)
				cJSON_AddStringToObject(w, "gap_after", s->window.gap_after);
		} else if (s->window.why_not) {
			cJSON_AddStringToObject(w, "why_not", s->window.why_not);
		}
		if (s->snap)
			add_time(w, "last_archived_commit", s->snap->facts.last_archived_commit);
		/* One window per timeline: after a point-in-time recovery the old
		 * timeline stays restorable (recovery_target_timeline) to its own end. */
		struct pgr_window *wins = NULL;
		size_t nw = pgr_catalog_windows(&s->catalog, &wins);
		cJSON *arr = cJSON_AddArrayToObject(root, "windows");
		for (size_t i = 0; i < nw; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "timeline", wins[i].timeline);
			cJSON_AddBoolToObject(o, "exists", wins[i].exists);
			if (wins[i].exists) {
				add_time(o, "earliest", wins[i].earliest);
				add_time(o, "latest", wins[i].latest);
				cJSON_AddStringToObject(o, "earliest_base",
				                        wins[i].earliest_base ? wins[i].earliest_base : "");
				cJSON_AddStringToObject(o, "last_wal", wins[i].last_wal ? wins[i].last_wal : "");
				if (wins[i].gap_after)
					cJSON_AddStringToObject(o, "gap_after", wins[i].gap_after);
			} else if (wins[i].why_not) {
				cJSON_AddStringToObject(o, "why_not", wins[i].why_not);
			}
			cJSON_AddItemToArray(arr, o);
		}
		pgr_windows_free(wins, nw);
	}
	cJSON *checks = cJSON_AddArrayToObject(root, "checks");
	for (int i = 0; i < s->n_checks; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", s->checks[i].name);
		cJSON_AddStringToObject(c, "level", pgr_level_name(s->checks[i].level));
		cJSON_AddStringToObject(c, "summary", s->checks[i].summary);
		cJSON_AddStringToObject(c, "rule", s->checks[i].rule);
		cJSON_AddItemToArray(checks, c);
	}
	if (s->snap)
		add_collected(root, s->snap);
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	char *out = xstrdup(text);
	cJSON_free(text);
	return out;
}
