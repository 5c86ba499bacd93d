/* `pgrescue status` (see status.h): facts from the database and the store,
 * then verdicts from the runbook's thresholds. Collection never fails as a
 * whole; an unreachable source becomes a fact with its error. */
#include "config.h"

#include "ops/status.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "source/pg.h"
#include "storage/storage.h"

#define DB_TIMEOUT_SEC 5
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
	if (s->have_catalog) {
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

static int64_t to_i64(const char *v)
{
	return v && *v ? strtoll(v, NULL, 10) : 0;
}

static void collect_db(const struct pgr_env *env, struct pgr_status *s)
{
	struct pgr_error err = {0};
	PGconn *conn = pgr_pg_connect(env->dsn, NULL, DB_TIMEOUT_SEC, &err);
	if (!conn) {
		/* The message names the (redacted) DSN; the detail is libpq's reason. */
		snprintf(s->db_error, sizeof s->db_error, "%.200s%s%.300s", err.msg, err.detail[0] ? ": " : "",
		         err.detail);
		size_t n = strlen(s->db_error);
		while (n > 0 && (s->db_error[n - 1] == '\n' || s->db_error[n - 1] == ' '))
			s->db_error[--n] = '\0';
		return;
	}
	s->db_reachable = true;
	PGresult *r = NULL;
	pgr_pg_exec(conn, "SET statement_timeout = '5s'", NULL, &err);
	if (pgr_pg_exec(conn,
	                "SELECT current_setting('server_version'), current_setting('TimeZone'), pg_is_in_recovery(), "
	                "current_setting('archive_mode')",
	                &r, &err) &&
	    PQntuples(r) == 1) {
		copy_str(s->server_version, sizeof s->server_version, PQgetvalue(r, 0, 0));
		copy_str(s->db_timezone, sizeof s->db_timezone, PQgetvalue(r, 0, 1));
		s->in_recovery = PQgetvalue(r, 0, 2)[0] == 't';
		copy_str(s->arch.archive_mode, sizeof s->arch.archive_mode, PQgetvalue(r, 0, 3));
	}
	PQclear(r);
	r = NULL;
	if (pgr_pg_exec(conn,
	                "SELECT archived_count, last_archived_wal, extract(epoch FROM last_archived_time)::bigint, "
	                "failed_count, last_failed_wal, extract(epoch FROM last_failed_time)::bigint, "
	                "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END "
	                "FROM pg_stat_archiver",
	                &r, &err) &&
	    PQntuples(r) == 1) {
		s->arch.known = true;
		s->arch.archived_count = to_i64(PQgetvalue(r, 0, 0));
		copy_str(s->arch.last_archived_wal, sizeof s->arch.last_archived_wal, PQgetvalue(r, 0, 1));
		s->arch.last_archived_time = (time_t)to_i64(PQgetvalue(r, 0, 2));
		s->arch.failed_count = to_i64(PQgetvalue(r, 0, 3));
		copy_str(s->arch.last_failed_wal, sizeof s->arch.last_failed_wal, PQgetvalue(r, 0, 4));
		s->arch.last_failed_time = (time_t)to_i64(PQgetvalue(r, 0, 5));
		copy_str(s->arch.current_wal, sizeof s->arch.current_wal, PQgetvalue(r, 0, 6));
	}
	PQclear(r);
	r = NULL;
	/* Segments waiting for archive_command: the honest measure of lag. Needs
	 * superuser or pg_monitor; without it lag falls back to last_archived_time. */
	s->arch.pending = -1;
	if (pgr_pg_exec(conn,
	                "SELECT count(*), extract(epoch FROM min(modification))::bigint "
	                "FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'",
	                &r, &err) &&
	    PQntuples(r) == 1) {
		s->arch.pending = to_i64(PQgetvalue(r, 0, 0));
		s->arch.oldest_pending = (time_t)to_i64(PQgetvalue(r, 0, 1));
	} else {
		pgr_debug("cannot list archive_status: %s", err.msg);
	}
	PQclear(r);
	PQfinish(conn);
}

static void collect_store(const struct pgr_env *env, struct pgr_status *s)
{
	struct pgr_error err = {0};
	if (!env->store || !*env->store) {
		copy_str(s->store_error, sizeof s->store_error, "no store configured");
		return;
	}
	struct pgr_store *st = pgr_store_open(env->store, &err);
	if (!st) {
		copy_str(s->store_error, sizeof s->store_error, err.msg);
		return;
	}
	if (pgr_catalog_build(st, &s->catalog, &err)) {
		s->store_reachable = true;
		s->have_catalog = true;
		pgr_catalog_window(&s->catalog, &s->window);
	} else {
		copy_str(s->store_error, sizeof s->store_error, err.msg);
	}
	pgr_store_close(st);
}

void pgr_status_collect(const struct pgr_env *env, struct pgr_status *s)
{
	s->now = pgr_now();
	copy_str(s->env_name, sizeof s->env_name, env->name);
	collect_db(env, s);
	collect_store(env, s);
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

void pgr_status_print(const struct pgr_status *s, FILE *out)
{
	char now[32];
	pgr_time_format_utc(s->now, now, sizeof now);
	fprintf(out, "pgrescue status: environment %s at %s\n", s->env_name, now);
	fprintf(out, "overall: %s\n\n", pgr_level_name(s->overall));
	for (int i = 0; i < s->n_checks; i++)
		fprintf(out, "  %-7s %-14s %s\n", pgr_level_name(s->checks[i].level), s->checks[i].name,
		        s->checks[i].summary);
	bool any = false;
	for (int i = 0; i < s->n_checks; i++) {
		if (s->checks[i].level == PGR_OK)
			continue;
		if (!any)
			fprintf(out, "\nwhy:\n");
		any = true;
		fprintf(out, "  %-14s %s\n", s->checks[i].name, s->checks[i].rule);
	}
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
	char *text = cJSON_Print(root);
	cJSON_Delete(root);
	char *out = xstrdup(text);
	cJSON_free(text);
	return out;
}
