/* Full restore (runbook "Full Database Restore", done right): the plan built
 * from the catalog, its preflight, and the steps the runner executes. The
 * dump goes into a fresh database with pg_restore -j N; production is only
 * touched by one transaction that swaps the names after every table's row
 * count matched the dump's manifest, and the replaced database is kept. */
#include "config.h"

#include "recovery/restore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/manifest.h"
#include "platform/platform.h"
#include "source/pg.h"
#include "storage/layout.h"
#include "storage/storage.h"

#define CONNECT_TIMEOUT 15
#define NAME_MAX_BYTES 63 /* NAMEDATALEN - 1 */
#define MAX_JOBS_DEFAULT 8
/* pg_restore of a large database takes hours; a hung one must still end. */
#define RESTORE_TIMEOUT_DEFAULT (24 * 3600)
#define TOC_TIMEOUT 600
#define TERMINATE_WAIT_SEC 30
#define ORPHAN_WAIT_SEC 15
#define HEALTH_WAIT_SEC 60
#define SWAP_TRIES 5
#define COUNT_BATCH 200
/* Free space on the server's data file system, as multiples of the dump's
 * size: a custom archive is compressed, tables and indexes are larger. */
#define SPACE_WARN_FACTOR 3
#define SPACE_REFUSE_FACTOR 2
#define MARK_PREFIX "pgrescue restore run "
#define LOCAL_DUMP_NAME "dump.pgdump"

/* ------------------------------------------------------------ small helpers */

static bool ident_plain(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return true;
}

/* An identifier for SQL text, quoted only when it needs to be (plans stay
 * readable: ALTER DATABASE clipper_db RENAME TO ...). */
static char *qident(const char *s)
{
	if (ident_plain(s))
		return xstrdup(s);
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_append(&sb, "\"\"");
		else
			sb_append_len(&sb, p, 1);
	}
	sb_append(&sb, "\"");
	return sb_steal(&sb);
}

/* A string literal (standard_conforming_strings is on since 9.1). */
static char *qliteral(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	bool backslash = strchr(s, '\\') != NULL;
	sb_append(&sb, backslash ? "E'" : "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_append(&sb, "''");
		else if (*p == '\\')
			sb_append(&sb, "\\\\");
		else
			sb_append_len(&sb, p, 1);
	}
	sb_append(&sb, "'");
	return sb_steal(&sb);
}

/* db + suffix in at most 63 bytes, cutting db on a UTF-8 boundary. */
static char *name_with(const char *db, const char *suffix)
{
	size_t sl = strlen(suffix), dl = strlen(db);
	if (dl + sl > NAME_MAX_BYTES) {
		dl = sl < NAME_MAX_BYTES ? NAME_MAX_BYTES - sl : 0;
		while (dl > 0 && ((unsigned char)db[dl] & 0xC0) == 0x80)
			dl--;
	}
	return xasprintf("%.*s%s", (int)dl, db, suffix);
}

static const char *base_name(const char *key)
{
	const char *s = strrchr(key, '/');
	return s ? s + 1 : key;
}

static const char *bindir(const struct pgr_env *env)
{
	return env->pg_bindir && *env->pg_bindir ? env->pg_bindir : PG_BINDIR_DEFAULT;
}

static bool app_none(const struct pgr_env *env)
{
	return env->app_scale && !strcmp(env->app_scale, "none");
}

static bool app_builtin(const struct pgr_env *env)
{
	if (env->app_scale && *env->app_scale)
		return !strcmp(env->app_scale, "builtin");
	return env->sandbox_dir && *env->sandbox_dir;
}

static int env_seconds(const char *name, int def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	long n = strtol(v, &end, 10);
	return (*end || n <= 0 || n > 7 * 86400) ? def : (int)n;
}

/* A conninfo value, quoted when it must be. */
static void conninfo_append(struct strbuf *sb, const char *key, const char *val)
{
	if (sb->len)
		sb_append(sb, " ");
	sb_printf(sb, "%s=", key);
	bool plain = *val != '\0';
	for (const char *p = val; *p; p++)
		if (isspace((unsigned char)*p) || *p == '\'' || *p == '\\')
			plain = false;
	if (plain) {
		sb_append(sb, val);
		return;
	}
	sb_append(sb, "'");
	for (const char *p = val; *p; p++) {
		if (*p == '\'' || *p == '\\')
			sb_append(sb, "\\");
		sb_append_len(sb, p, 1);
	}
	sb_append(sb, "'");
}

/* The environment's conninfo (key=value or URI) as key=value with dbname
 * replaced: what pg_restore -d gets. There is no password in it: the config
 * refuses one. */
static char *conninfo_for(const char *dsn, const char *db)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &errmsg);
	struct strbuf sb = STRBUF_INIT;
	if (!opts) {
		PQfreemem(errmsg);
		conninfo_append(&sb, "dbname", db);
		return sb_steal(&sb);
	}
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || !*o->val || !strcmp(o->keyword, "dbname") || !strcmp(o->keyword, "password"))
			continue;
		conninfo_append(&sb, o->keyword, o->val);
	}
	PQconninfoFree(opts);
	conninfo_append(&sb, "dbname", db);
	return sb_steal(&sb);
}

/* The file a file:// store keeps a key in (text for the plan; no I/O). */
static char *store_file_path(const char *url, const char *key)
{
	if (!url)
		return NULL;
	const char *path = !strncmp(url, "file://", 7) ? url + 7 : url;
	if (path[0] != '/')
		return NULL;
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, path, key);
}

static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > MAX_JOBS_DEFAULT ? MAX_JOBS_DEFAULT : (int)n;
}

/* ------------------------------------------------------------ plan params */

struct names {
	const struct pgr_plan *p;
	const struct pgr_env *env;
	const char *db, *fresh, *replaced, *dump_key, *manifest_key, *label;
	uint64_t dump_size;
	int jobs;
	bool app;
};

static bool names_load(const struct pgr_plan *p, struct names *n, struct pgr_error *err)
{
	memset(n, 0, sizeof *n);
	n->p = p;
	n->env = &p->env;
	n->db = pgr_kv_get(&p->params, "database");
	n->fresh = pgr_kv_get(&p->params, "fresh_db");
	n->replaced = pgr_kv_get(&p->params, "replaced_db");
	n->dump_key = pgr_kv_get(&p->params, "dump");
	n->manifest_key = pgr_kv_get(&p->params, "manifest");
	n->label = pgr_kv_get(&p->params, "dump_label");
	const char *size = pgr_kv_get(&p->params, "dump_size");
	const char *jobs = pgr_kv_get(&p->params, "jobs");
	const char *app = pgr_kv_get(&p->params, "app");
	if (!n->db || !n->fresh || !n->replaced || !n->dump_key || !size || !jobs)
		return pgr_error_set(err, PGR_ERR_INTERNAL,
		                     "the restore plan lacks its parameters (database, fresh_db, replaced_db, dump)"),
		       pgr_error_hint(err, "Build the plan again with `pgrescue restore`."), false;
	n->dump_size = strtoull(size, NULL, 10);
	n->jobs = atoi(jobs);
	if (n->jobs < 1)
		n->jobs = 1;
	n->app = !app || strcmp(app, "none") != 0;
	if (n->manifest_key && !*n->manifest_key)
		n->manifest_key = NULL;
	return true;
}

static char *restore_argv_text(const struct names *n, const char *dump_path)
{
	char *prog = xasprintf("%s/pg_restore", bindir(n->env));
	char jobs[16];
	snprintf(jobs, sizeof jobs, "%d", n->jobs);
	char *ci = conninfo_for(n->env->dsn, n->fresh);
	const char *argv[] = {prog, "-j", jobs, "--exit-on-error", "-v", "-d", ci, dump_path, NULL};
	char *s = pgr_argv_join(argv);
	free(ci);
	free(prog);
	return s;
}

/* ------------------------------------------------------------ picking the dump */

static void newest_hint(const struct pgr_catalog *cat, struct pgr_error *err, const char *lead)
{
	struct strbuf sb = STRBUF_INIT;
	int shown = 0;
	time_t now = pgr_now();
	for (size_t i = cat->n_dumps; i > 0 && shown < 3; i--) {
		const struct pgr_dump *d = &cat->dumps[i - 1];
		if (!d->good)
			continue;
		char label[32], size[32], age[32];
		pgr_label_format(d->time, label, sizeof label);
		pgr_size_format(d->size, size, sizeof size);
		pgr_duration_format(now > d->time ? (int64_t)(now - d->time) : 0, age, sizeof age);
		sb_printf(&sb, "%s%s (%s, %s, %s ago)", shown ? ", " : "", label, base_name(d->key), size, age);
		shown++;
	}
	if (shown)
		pgr_error_hint(err, "%s%s. Give --backup a label, a file name or latest.", lead, sb_str(&sb));
	else
		pgr_error_hint(err, "The store has no complete dump: take one with `pgrescue backup`.");
	sb_free(&sb);
}

static bool dump_matches(const struct pgr_dump *d, const char *id)
{
	if (!strcmp(d->key, id) || !strcmp(base_name(d->key), id))
		return true;
	if (!strncmp(id, PGR_PREFIX_DUMPS, strlen(PGR_PREFIX_DUMPS)))
		return false;
	time_t t;
	if (!pgr_dump_key_parse(d->key, &t))
		return false;
	char label[32];
	pgr_label_format(t, label, sizeof label);
	return !strcmp(label, id);
}

static const struct pgr_dump *pick_dump(const struct pgr_env *env, const struct pgr_catalog *cat, const char *id,
                                        struct pgr_error *err)
{
	const char *store = env->store ? env->store : "(no store)";
	if (!id || !*id || !strcmp(id, "latest")) {
		const struct pgr_dump *d = pgr_catalog_newest_dump(cat);
		if (d)
			return d;
		if (cat->n_dumps == 0) {
			pgr_error_set(err, PGR_ERR_NOTFOUND, "no dump to restore: the store %s has nothing under %s",
			              store, PGR_PREFIX_DUMPS);
			pgr_error_hint(err,
			               "Take one with `pgrescue --env %s backup`, or check store = in [env %s] "
			               "(dumps are %spostgres-backup-YYYYMMDD-HHMMSS.sql.gz).",
			               env->name ? env->name : "NAME", env->name ? env->name : "NAME",
			               PGR_PREFIX_DUMPS);
		} else {
			pgr_error_set(err, PGR_ERR_NOTFOUND, "none of the %zu dumps in the store %s is complete",
			              cat->n_dumps, store);
			pgr_error_hint(
			        err,
			        "Their manifests under %s do not say \"complete\" (failed runs). Take a new "
			        "dump with `pgrescue backup`, or name one with --backup if you know it is whole.",
			        PGR_PREFIX_DUMP_MANIFESTS);
		}
		return NULL;
	}
	for (size_t i = cat->n_dumps; i > 0; i--) {
		const struct pgr_dump *d = &cat->dumps[i - 1];
		if (!dump_matches(d, id))
			continue;
		if (!d->good) {
			pgr_error_set(err, PGR_ERR_CONFLICT, "dump %s is not complete: %s", d->key,
			              d->size == 0 ? "it is empty" : "its manifest does not say \"complete\"");
			newest_hint(cat, err, "Complete dumps, newest first: ");
			return NULL;
		}
		return d;
	}
	pgr_error_set(err, PGR_ERR_NOTFOUND, "no dump \"%s\" in the store %s", id, store);
	newest_hint(cat, err, "The newest dumps: ");
	return NULL;
}

/* The newest good dump other than d whose name says pg_dump archive, for hints. */
static const struct pgr_dump *other_archive(const struct pgr_catalog *cat, const struct pgr_dump *d)
{
	for (size_t i = cat->n_dumps; i > 0; i--) {
		const struct pgr_dump *o = &cat->dumps[i - 1];
		if (o != d && o->good && !strncmp(base_name(o->key), "postgres-backup-", 16))
			return o;
	}
	return NULL;
}

/* ------------------------------------------------------------ the plan */

void pgr_restore_opts_default(struct pgr_restore_opts *o)
{
	memset(o, 0, sizeof *o);
	o->replicas_now = -1;
}

static char *scale_text(const struct pgr_env *env, int n, const char *when_unknown)
{
	if (app_none(env))
		return xstrdup("nothing: app_scale = none (pgrescue does not stop or start the application)");
	struct pgr_error e = {0};
	struct pgr_platform *pf = pgr_platform_open(env, &e);
	char *s = NULL;
	if (pf && pf->ops->describe_scale && n >= 0)
		s = pf->ops->describe_scale(pf, n);
	else if (pf && pf->ops->describe_scale)
		s = pf->ops->describe_scale(pf, 0);
	pgr_platform_close(pf);
	if (!s)
		s = xasprintf("scale the application to %d replicas", n);
	if (n < 0 && when_unknown) {
		/* "scale ... to 0 replicas" would be misleading: say what count it will be. */
		char *t = xasprintf("%s (%s)", s, when_unknown);
		free(s);
		return t;
	}
	return s;
}

bool pgr_restore_plan(const struct pgr_env *env, const struct pgr_catalog *cat, const struct pgr_restore_opts *o,
                      struct pgr_plan *p, struct pgr_error *err)
{
	struct pgr_restore_opts def;
	if (!o) {
		pgr_restore_opts_default(&def);
		o = &def;
	}
	const struct pgr_dump *d = pick_dump(env, cat, o->backup, err);
	if (!d)
		return false;
	char *db = pgr_pg_dsn_dbname(env->dsn);
	if (!db) {
		pgr_error_set(err, PGR_ERR_CONFIG, "the dsn of environment \"%s\" names no database to restore",
		              env->name ? env->name : "(unnamed)");
		pgr_error_hint(err,
		               "Add dbname=... to dsn in [env %s] (e.g. dbname=clipper_db), so the plan says "
		               "exactly which database it replaces.",
		               env->name ? env->name : "NAME");
		return false;
	}
	if (!strcmp(db, "postgres") || !strcmp(db, "template0") || !strcmp(db, "template1")) {
		pgr_error_set(err, PGR_ERR_USAGE, "the environment's database is \"%s\", a maintenance database", db);
		pgr_error_hint(err, "A restore replaces an application database; set dbname in the dsn to it.");
		free(db);
		return false;
	}
	if (o->jobs < 0 || o->jobs > 64) {
		pgr_error_set(err, PGR_ERR_USAGE, "--jobs %d is out of range (1 to 64)", o->jobs);
		free(db);
		return false;
	}
	int jobs = o->jobs > 0 ? o->jobs : default_jobs();

	char label[32], now_label[32], suffix[64];
	pgr_label_format(d->time, label, sizeof label);
	time_t now = pgr_now();
	pgr_label_format(now, now_label, sizeof now_label);
	snprintf(suffix, sizeof suffix, "_restore_%s", label);
	for (char *c = suffix; *c; c++)
		if (*c == '-')
			*c = '_';
	char *fresh = name_with(db, suffix);
	snprintf(suffix, sizeof suffix, "_replaced_%s", now_label);
	for (char *c = suffix; *c; c++)
		if (*c == '-')
			*c = '_';
	char *replaced = name_with(db, suffix);
	char *mkey = d->has_manifest ? pgr_dump_manifest_key(d->key) : NULL;
	char dtime[32], size[32], age[32];
	pgr_time_format_utc(d->time, dtime, sizeof dtime);
	pgr_size_format(d->size, size, sizeof size);
	pgr_duration_format(now > d->time ? (int64_t)(now - d->time) : 0, age, sizeof age);

	pgr_plan_init(p, "restore", env);
	p->summary = xasprintf("Restore %s from %s", db, base_name(d->key));
	if (o->incident && *o->incident)
		p->incident = xstrdup(o->incident);
	if (o->reason && *o->reason)
		p->reason = xstrdup(o->reason);
	pgr_kv_set(&p->params, "dump", d->key);
	pgr_kv_set(&p->params, "dump_label", label);
	pgr_kv_setf(&p->params, "dump_size", "%" PRIu64, d->size);
	pgr_kv_set(&p->params, "dump_time", dtime);
	pgr_kv_set(&p->params, "manifest", mkey ? mkey : "");
	pgr_kv_set(&p->params, "database", db);
	pgr_kv_set(&p->params, "fresh_db", fresh);
	pgr_kv_set(&p->params, "replaced_db", replaced);
	pgr_kv_setf(&p->params, "jobs", "%d", jobs);
	pgr_kv_set(&p->params, "app", app_none(env) ? "none" : "platform");
	pgr_kv_setf(&p->params, "replicas_at_plan", "%d", o->replicas_now);
	/* What the confirmation prompt restates ("This will ..."). */
	pgr_kv_setf(&p->params, "confirm",
	            "%s, restore %s (%s) into a new database and put it in service as %s on environment \"%s\"; "
	            "the current %s is kept as %s",
	            app_none(env) ? "leave the application running" : "stop the application", base_name(d->key), dtime,
	            db, env->name ? env->name : "?", db, replaced);
	const struct pgr_dump *alt = other_archive(cat, d);
	if (alt)
		pgr_kv_set(&p->params, "other_dump", alt->key);

	char *qdb = qident(db), *qfresh = qident(fresh), *qrep = qident(replaced);
	char *file = store_file_path(env->store, d->key);
	char *dump_path = file ? xstrdup(file) : xasprintf("<run dir>/%s", LOCAL_DUMP_NAME);
	char need[32];
	pgr_size_format(d->size * SPACE_WARN_FACTOR, need, sizeof need);
	struct names n;
	names_load(p, &n, NULL);
	char *cmd, *undo;
	struct pgr_step *s;

	/* 1 */
	cmd = xasprintf("check %s in %s: present, readable, a pg_dump custom archive (PGDMP, pg_restore -l)\n"
	                "connect to the maintenance database postgres; the role may create databases\n"
	                "check database %s exists, %s and %s are free (or %s is a leftover of pgrescue)\n"
	                "check free space where %s lives: about %s (%d x the dump) when the server is local\n"
	                "read the application's replicas",
	                d->key, env->store ? env->store : "(no store)", qdb, qfresh, qrep, qfresh, qdb, need,
	                SPACE_WARN_FACTOR);
	pgr_plan_add_step(p, "preflight", "Preflight: dump, connection, databases, disk space", cmd, NULL, false);
	free(cmd);

	/* 2 */
	if (app_none(env))
		cmd = xstrdup("nothing: app_scale = none");
	else if (env->app_scale && !strcmp(env->app_scale, "command") && env->app_scale_get_command)
		cmd = xasprintf("%s", env->app_scale_get_command);
	else if (app_builtin(env))
		cmd = xasprintf("count the sandbox app's live replicas (pid files under %s/app)",
		                env->sandbox_dir ? env->sandbox_dir : "<sandbox_dir>");
	else
		cmd = xstrdup("read the application's replica count (app_scale is not set: preflight will refuse)");
	char *title = o->replicas_now >= 0 ? xasprintf("Record the app's replicas (now %d)", o->replicas_now)
	                                   : xstrdup("Record the app's replicas");
	pgr_plan_add_step(p, "record-replicas", title, cmd, NULL, false);
	free(title);
	free(cmd);

	/* 3 */
	cmd = scale_text(env, 0, NULL);
	char *back = scale_text(env, o->replicas_now, "the count recorded in step 2");
	undo = xasprintf("%s", back);
	s = pgr_plan_add_step(p, "scale-down", "Scale the app to 0 replicas", cmd, undo, true);
	pgr_kv_set(&s->params, "replicas", "0");
	free(cmd);
	free(undo);

	/* 4 */
	char *mark = xasprintf(MARK_PREFIX "<run id>: %s into %s", base_name(d->key), db);
	char *qmark = qliteral(mark);
	cmd = xasprintf("CREATE DATABASE %s TEMPLATE template0 OWNER <owner of %s> ENCODING, LOCALE and TABLESPACE "
	                "as %s;\n"
	                "copy %s's connection limit, grants (GRANT ... ON DATABASE) and settings (ALTER "
	                "DATABASE/ROLE ... SET);\n"
	                "COMMENT ON DATABASE %s IS %s;",
	                qfresh, qdb, qdb, qdb, qfresh, qmark);
	undo = xasprintf("DROP DATABASE %s;", qfresh);
	pgr_plan_add_step(p, "create-db", "Create the empty database the dump goes into", cmd, undo, false);
	free(cmd);
	free(mark);
	free(qmark);

	/* 5 */
	char *argv_text = restore_argv_text(&n, dump_path);
	if (file)
		cmd = xasprintf("%s\n(read in place from the store; a resumed run first stops an earlier pg_restore, "
		                "drops %s and creates it again)",
		                argv_text, qfresh);
	else
		cmd = xasprintf("download %s from %s to <run dir>/%s\n%s\n(a resumed run first stops an earlier "
		                "pg_restore, drops %s and creates it again)",
		                d->key, env->store ? env->store : "(no store)", LOCAL_DUMP_NAME, argv_text, qfresh);
	pgr_plan_add_step(p, "pg-restore", "Restore the dump into the fresh database", cmd, undo, false);
	free(argv_text);
	free(cmd);
	free(undo);

	/* 6 */
	if (mkey)
		cmd = xasprintf("SELECT count(*) FROM ONLY <each table> in %s;\ncompare with the exact counts in %s "
		                "(clips and users first); any difference stops the restore before the swap",
		                qfresh, mkey);
	else
		cmd = xasprintf("SELECT count(*) FROM ONLY <each table> in %s;\nthe dump has no pgrescue manifest: "
		                "the counts are reported, there is nothing to compare them to",
		                qfresh);
	pgr_plan_add_step(p, "verify-counts", "Verify every table's row count against the dump", cmd, NULL, false);
	free(cmd);

	/* 7 */
	{
		/* The IN list holds literals, not identifiers. */
		char *l1 = qliteral(db), *l2 = qliteral(fresh);
		cmd = xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS false;\n"
		                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (%s, %s);\n"
		                "BEGIN;\n"
		                "ALTER DATABASE %s RENAME TO %s;\n"
		                "ALTER DATABASE %s RENAME TO %s;\n"
		                "ALTER DATABASE %s ALLOW_CONNECTIONS true;\n"
		                "COMMENT ON DATABASE %s IS <the comment %s had>;\n"
		                "COMMIT;\n"
		                "(if the swap fails, ALTER DATABASE %s ALLOW_CONNECTIONS true: nothing changed)",
		                qdb, l1, l2, qdb, qrep, qfresh, qdb, qrep, qdb, qrep, qdb);
		free(l1);
		free(l2);
	}
	undo = xasprintf("with the app at 0 replicas: BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME "
	                 "TO %s; COMMIT;",
	                 qdb, qfresh, qrep, qdb);
	s = pgr_plan_add_step(p, "swap", "Swap the names: the restored database goes into service", cmd, undo, true);
	free(cmd);
	free(undo);

	/* 8 */
	cmd = scale_text(env, o->replicas_now, "the count recorded in step 2");
	undo = scale_text(env, 0, NULL);
	s = pgr_plan_add_step(p, "scale-up", "Scale the app back to the recorded count", cmd, undo, false);
	pgr_kv_set(&s->params, "replicas", "recorded");
	free(cmd);
	free(undo);

	/* 9 */
	cmd = xasprintf("connect to %s; count its tables (as verified in step 6)%s%s", qdb,
	                app_none(env) ? "" : "; the app has the recorded replicas",
	                app_builtin(env) ? "; a new clip appears within 60 s" : "");
	pgr_plan_add_step(p, "health-check", "Health check: database, tables, app", cmd, NULL, false);
	free(cmd);

	struct strbuf notes = STRBUF_INIT;
	sb_printf(&notes, "Dump: %s, taken %s (%s ago), %s; %s.\n", d->key, dtime, age, size,
	          mkey ? "row counts from its manifest" : "no pgrescue manifest: row counts cannot be compared");
	sb_printf(&notes, "Production database %s stays untouched until step 7; it is then kept as %s.\n", qdb, qrep);
	sb_printf(&notes, "When satisfied with the restore: DROP DATABASE %s;\n", qrep);
	sb_printf(&notes, "pg_restore runs with %d parallel job%s (--jobs).", jobs, jobs == 1 ? "" : "s");
	if (app_none(env))
		sb_printf(&notes, "\napp_scale = none: stop the application's writers yourself before the swap.");
	p->notes = sb_steal(&notes);

	free(back);
	free(dump_path);
	free(file);
	free(qdb);
	free(qfresh);
	free(qrep);
	free(mkey);
	free(fresh);
	free(replaced);
	free(db);
	return true;
}

/* ------------------------------------------------------------ where messages go */

/* Steps log into the run; the preflight before confirmation warns on stderr. */
struct sink {
	struct pgr_run *r;
};

static void say(const struct sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct sink *k, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (k && k->r)
		pgr_run_log(k->r, "%s", line);
	else
		pgr_info("%s", line);
}

static void warn(const struct sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const struct sink *k, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (k && k->r) {
		pgr_run_log(k->r, "WARNING: %s", line);
		pgr_run_report(k->r, "WARNING: %s", line);
	} else {
		pgr_warn("%s", line);
	}
}

/* ------------------------------------------------------------ database helpers */

static PGconn *maint_connect(const struct pgr_env *env, struct pgr_error *err)
{
	struct pgr_error e = {0};
	PGconn *c = pgr_pg_connect(env->dsn, "postgres", CONNECT_TIMEOUT, &e);
	if (!c && strstr(e.detail, "does not exist")) {
		struct pgr_error e2 = {0};
		c = pgr_pg_connect(env->dsn, "template1", CONNECT_TIMEOUT, &e2);
	}
	if (!c) {
		pgr_error_prefix(&e, "cannot connect to the maintenance database postgres");
		if (err)
			*err = e;
		return NULL;
	}
	/* DROP and CREATE DATABASE of a big database take long; a lock must not hang us. */
	(void)pgr_pg_exec(c, "SET statement_timeout = 0", NULL, NULL);
	(void)pgr_pg_exec(c, "SET lock_timeout = '60s'", NULL, NULL);
	return c;
}

static bool db_exists(PGconn *c, const char *name, bool *exists, struct pgr_error *err)
{
	const char *params[] = {name};
	PGresult *r = NULL;
	if (!pgr_pg_execp(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, &r, err))
		return false;
	*exists = PQntuples(r) > 0;
	PQclear(r);
	return true;
}

/* The database's comment; NULL when it has none or does not exist. */
static bool db_comment(PGconn *c, const char *name, char **out, struct pgr_error *err)
{
	const char *params[] = {name};
	PGresult *r = NULL;
	*out = NULL;
	if (!pgr_pg_execp(c, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", 1,
	                  params, &r, err))
		return false;
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*out = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

static char *mark_for(const struct names *n)
{
	const char *run = n->p->run_id ? n->p->run_id : "(none)";
	return xasprintf(MARK_PREFIX "%s: %s into %s", run, base_name(n->dump_key), n->db);
}

static bool exec_logged(const struct sink *k, PGconn *c, const char *sql, struct pgr_error *err)
{
	say(k, "SQL: %s", sql);
	return pgr_pg_exec(c, sql, NULL, err);
}

/* Terminate every other session on db and wait until they are gone. */
static bool terminate_backends(const struct sink *k, PGconn *c, const char *db, struct pgr_error *err)
{
	const char *params[] = {db};
	double deadline = pgr_monotonic() + TERMINATE_WAIT_SEC;
	for (int round = 0;; round++) {
		PGresult *r = NULL;
		if (!pgr_pg_execp(c,
		                  "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)), count(*) FROM "
		                  "pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
		                  1, params, &r, err))
			return false;
		long killed = atol(PQgetvalue(r, 0, 0)), left = atol(PQgetvalue(r, 0, 1));
		PQclear(r);
		if (left == 0)
			return true;
		if (round == 0)
			say(k, "terminating %ld session%s on %s", killed, killed == 1 ? "" : "s", db);
		if (pgr_monotonic() > deadline)
			break;
		usleep(200000);
	}
	pgr_error_set(err, PGR_ERR_DB, "sessions on database \"%s\" did not end within %d s", db, TERMINATE_WAIT_SEC);
	pgr_error_hint(err,
	               "Look at pg_stat_activity for %s: a session that ignores pg_terminate_backend() "
	               "(e.g. stuck in I/O) must end before the restore can go on; then resume the run.",
	               db);
	return false;
}

/* Drop a database (ours: the fresh one) even while something still writes into it. */
static bool drop_database(const struct sink *k, PGconn *c, const char *name, struct pgr_error *err)
{
	char *q = qident(name);
	char *sql = xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS false", q);
	bool ok = exec_logged(k, c, sql, err);
	free(sql);
	if (ok)
		ok = terminate_backends(k, c, name, err);
	if (ok) {
		sql = xasprintf(PQserverVersion(c) >= 130000 ? "DROP DATABASE IF EXISTS %s WITH (FORCE)"
		                                             : "DROP DATABASE IF EXISTS %s",
		                q);
		ok = exec_logged(k, c, sql, err);
		free(sql);
	}
	if (!ok)
		pgr_error_prefix(err, "cannot drop database \"%s\"", name);
	free(q);
	return ok;
}

/* GUCs whose values are lists stored already quoted (pg_dump keeps the same list). */
static bool guc_list_quote(const char *name)
{
	static const char *const names[] = {"search_path",
	                                    "temp_tablespaces",
	                                    "session_preload_libraries",
	                                    "local_preload_libraries",
	                                    "shared_preload_libraries",
	                                    "unix_socket_directories",
	                                    NULL};
	for (size_t i = 0; names[i]; i++)
		if (!strcasecmp(names[i], name))
			return true;
	return false;
}

static bool guc_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* "name=value" from pg_db_role_setting as "SET name = value". */
static char *set_clause(PGconn *c, const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq || !guc_name_ok(entry, (size_t)(eq - entry)))
		return NULL;
	char *name = xstrndup(entry, (size_t)(eq - entry));
	char *out;
	if (guc_list_quote(name)) {
		out = xasprintf("SET %s = %s", name, eq[1] ? eq + 1 : "''");
	} else {
		char *lit = PQescapeLiteral(c, eq + 1, strlen(eq + 1));
		out = lit ? xasprintf("SET %s = %s", name, lit) : NULL;
		PQfreemem(lit);
	}
	free(name);
	return out;
}

/* CREATE DATABASE fresh like the production database, copy what pg_restore
 * without --create does not bring (grants, settings), then mark it as this
 * run's: the mark is written last, so its presence means "complete". */
static bool create_fresh(const struct sink *k, PGconn *c, const struct names *n, struct pgr_error *err)
{
	int ver = PQserverVersion(c);
	const char *prov = ver >= 170000 ? "d.datlocprovider::text, d.datlocale"
	        : ver >= 150000          ? "d.datlocprovider::text, d.daticulocale"
	                                 : "'c'::text, NULL::text";
	char *sql = xasprintf("SELECT d.oid, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, "
	                      "d.datctype, t.spcname, d.datconnlimit, d.datacl IS NOT NULL, %s "
	                      "FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1",
	                      prov);
	const char *params[] = {n->db};
	PGresult *r = NULL;
	bool ok = pgr_pg_execp(c, sql, 1, params, &r, err);
	free(sql);
	if (!ok)
		return false;
	if (PQntuples(r) == 0) {
		PQclear(r);
		pgr_error_set(err, PGR_ERR_NOTFOUND, "database \"%s\" does not exist on the server", n->db);
		pgr_error_hint(err, "The restore replaces an existing database: check dbname in the dsn.");
		return false;
	}
	char *oid = xstrdup(PQgetvalue(r, 0, 0));
	char *owner = qident(PQgetvalue(r, 0, 1));
	char *enc = qliteral(PQgetvalue(r, 0, 2));
	char *coll = qliteral(PQgetvalue(r, 0, 3));
	char *ctype = qliteral(PQgetvalue(r, 0, 4));
	char *spc = qident(PQgetvalue(r, 0, 5));
	int connlimit = atoi(PQgetvalue(r, 0, 6));
	bool has_acl = PQgetvalue(r, 0, 7)[0] == 't';
	char provider = PQgetvalue(r, 0, 8)[0];
	char *icu = PQgetisnull(r, 0, 9) ? NULL : qliteral(PQgetvalue(r, 0, 9));
	PQclear(r);

	char *qf = qident(n->fresh);
	struct strbuf cs = STRBUF_INIT;
	sb_printf(&cs, "CREATE DATABASE %s TEMPLATE template0 OWNER %s ENCODING %s LC_COLLATE %s LC_CTYPE %s", qf,
	          owner, enc, coll, ctype);
	if (provider == 'i' && icu)
		sb_printf(&cs, " LOCALE_PROVIDER icu ICU_LOCALE %s", icu);
	else if (provider == 'b' && icu)
		sb_printf(&cs, " LOCALE_PROVIDER builtin BUILTIN_LOCALE %s", icu);
	sb_printf(&cs, " TABLESPACE %s CONNECTION LIMIT %d", spc, connlimit);
	ok = exec_logged(k, c, sb_str(&cs), err);
	sb_free(&cs);

	if (ok && has_acl) {
		sql = xasprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", qf);
		ok = exec_logged(k, c, sql, err);
		free(sql);
		PGresult *g = NULL;
		const char *p1[] = {n->db};
		if (ok)
			ok = pgr_pg_execp(
			        c,
			        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid("
			        "a.grantee)) END, a.privilege_type, a.is_grantable FROM pg_database d, "
			        "aclexplode(d.datacl) a WHERE d.datname = $1 AND a.grantee <> d.datdba",
			        1, p1, &g, err);
		for (int i = 0; ok && i < PQntuples(g); i++) {
			sql = xasprintf("GRANT %s ON DATABASE %s TO %s%s", PQgetvalue(g, i, 1), qf, PQgetvalue(g, i, 0),
			                PQgetvalue(g, i, 2)[0] == 't' ? " WITH GRANT OPTION" : "");
			ok = exec_logged(k, c, sql, err);
			free(sql);
		}
		PQclear(g);
	}
	if (ok) {
		PGresult *st = NULL;
		const char *p1[] = {oid};
		ok = pgr_pg_execp(
		        c,
		        "SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE quote_ident(pg_get_userbyid(s.setrole)) "
		        "END, unnest(s.setconfig) FROM pg_db_role_setting s WHERE s.setdatabase = $1::oid",
		        1, p1, &st, err);
		for (int i = 0; ok && i < PQntuples(st); i++) {
			char *clause = set_clause(c, PQgetvalue(st, i, 1));
			if (!clause) {
				warn(k, "database setting \"%s\" of %s not copied (unexpected form)",
				     PQgetvalue(st, i, 1), n->db);
				continue;
			}
			if (PQgetisnull(st, i, 0))
				sql = xasprintf("ALTER DATABASE %s %s", qf, clause);
			else
				sql = xasprintf("ALTER ROLE %s IN DATABASE %s %s", PQgetvalue(st, i, 0), qf, clause);
			ok = exec_logged(k, c, sql, err);
			free(sql);
			free(clause);
		}
		PQclear(st);
	}
	if (ok) {
		char *mark = mark_for(n);
		char *lit = qliteral(mark);
		sql = xasprintf("COMMENT ON DATABASE %s IS %s", qf, lit);
		ok = exec_logged(k, c, sql, err);
		free(sql);
		free(lit);
		free(mark);
	}
	if (!ok)
		pgr_error_prefix(err, "cannot create database \"%s\"", n->fresh);
	free(qf);
	free(oid);
	free(owner);
	free(enc);
	free(coll);
	free(ctype);
	free(spc);
	free(icu);
	return ok;
}

/* The swap has happened: production exists, the replaced database exists,
 * the fresh name is gone. */
static bool swapped(PGconn *c, const struct names *n, bool *yes, struct pgr_error *err)
{
	bool prod = false, rep = false, fresh = false;
	if (!db_exists(c, n->db, &prod, err) || !db_exists(c, n->replaced, &rep, err) ||
	    !db_exists(c, n->fresh, &fresh, err))
		return false;
	*yes = prod && rep && !fresh;
	return true;
}

/* ------------------------------------------------------------ preflight */

/* The dump's local path, if the store keeps it on this machine. */
static char *dump_local_path(struct pgr_store *st, const char *key)
{
	char *p = pgr_store_local_path(st, key);
	if (p && access(p, R_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

/* pg_restore -l: the archive's table of contents. Proves the file is a
 * whole archive this pg_restore can read; *items counts its entries. */
static bool read_toc(const struct pgr_env *env, const char *path, int *items, char **listing, struct pgr_error *err)
{
	char *prog = xasprintf("%s/pg_restore", bindir(env));
	const char *argv[] = {prog, "-l", path, NULL};
	struct pgr_proc_spec spec = {.argv = argv, .stdin_fd = -1};
	struct pgr_proc_result res;
	bool ok = pgr_proc_run(&spec, TOC_TIMEOUT, &res, err);
	if (ok && !(res.exit_code == 0 && !res.timed_out)) {
		ok = false;
		pgr_error_set(err, PGR_ERR_TOOL, "pg_restore cannot read the table of contents of %s", path);
		pgr_error_detail(err, "%s", sb_str(&res.err));
		if (strstr(sb_str(&res.err), "unsupported version"))
			pgr_error_hint(err,
			               "The dump was made by a newer pg_dump: point pg_bindir at that major version's "
			               "client programs.");
		else
			pgr_error_hint(err, "The file may be truncated or damaged: pick another dump with --backup.");
	}
	if (ok && items) {
		int count = 0;
		const char *s = sb_str(&res.out);
		while (*s) {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);
			if (len > 0 && s[0] != ';')
				count++;
			s += len + (nl ? 1 : 0);
		}
		*items = count;
	}
	if (ok && listing)
		*listing = xstrdup(sb_str(&res.out));
	pgr_proc_result_free(&res);
	free(prog);
	return ok;
}

static bool check_dump(const struct sink *k, struct pgr_store *st, const struct names *n, struct pgr_error *err)
{
	struct pgr_object o = {0};
	if (!pgr_store_stat(st, n->dump_key, &o, err)) {
		if (err->kind == PGR_ERR_NOTFOUND) {
			pgr_error_set(err, PGR_ERR_NOTFOUND, "dump %s is no longer in the store %s", n->dump_key,
			              st->url);
			pgr_error_hint(err, "Retention may have removed it since the plan was made: plan again.");
		}
		return false;
	}
	free(o.key);
	unsigned char head[512];
	size_t got = 0;
	if (!pgr_store_get_head(st, n->dump_key, head, sizeof head, &got, err)) {
		pgr_error_prefix(err, "cannot read dump %s", n->dump_key);
		return false;
	}
	enum pgr_filekind kind = pgr_file_kind(head, got);
	if (kind != PGR_FILE_PGDUMP_CUSTOM) {
		const char *other = pgr_kv_get(&n->p->params, "other_dump");
		if (kind == PGR_FILE_GZIP)
			pgr_error_set(err, PGR_ERR_CONFLICT,
			              "%s is a gzip-compressed plain SQL file, not a pg_dump archive", n->dump_key);
		else
			pgr_error_set(err, PGR_ERR_CONFLICT, "%s is not a pg_dump archive", n->dump_key);
		pgr_error_detail(err, "It is %s.", pgr_filekind_describe(kind));
		if (other)
			pgr_error_hint(err,
			               "pg_restore cannot read it. Restore a pg_dump archive instead: --backup %s; or "
			               "load this file by hand into a new database (gunzip -c FILE | psql -d NEWDB).",
			               base_name(other));
		else
			pgr_error_hint(
			        err,
			        "pg_restore cannot read it; load it by hand into a new database (gunzip -c FILE | "
			        "psql -d NEWDB) or take a dump with `pgrescue backup`.");
		return false;
	}
	char *path = dump_local_path(st, n->dump_key);
	if (path) {
		if (!read_toc(n->env, path, NULL, NULL, err)) {
			free(path);
			return false;
		}
		say(k, "dump %s: a readable pg_dump archive (%s)", n->dump_key, path);
		free(path);
	} else {
		say(k, "dump %s: starts with PGDMP; it is read in full when downloaded", n->dump_key);
	}
	return true;
}

/* Where the fresh database's files will live: a local directory, or NULL. */
static char *server_data_path(PGconn *c, const struct names *n)
{
	const char *params[] = {n->db};
	PGresult *r = NULL;
	char *out = NULL;
	struct pgr_error e = {0};
	if (pgr_pg_execp(c,
	                 "SELECT pg_tablespace_location(d.dattablespace), (SELECT setting FROM pg_settings WHERE "
	                 "name = 'data_directory') FROM pg_database d WHERE d.datname = $1",
	                 1, params, &r, &e)) {
		if (PQntuples(r) > 0) {
			const char *loc = PQgetvalue(r, 0, 0);
			if (*loc)
				out = xstrdup(loc);
			else if (!PQgetisnull(r, 0, 1) && *PQgetvalue(r, 0, 1))
				out = xstrdup(PQgetvalue(r, 0, 1));
		}
		PQclear(r);
	}
	if (!out && n->env->data_dir && *n->env->data_dir)
		out = xstrdup(n->env->data_dir);
	/* Only a server on this machine shares our view of its paths. */
	const char *host = PQhost(c);
	bool local_host = !host || !*host || host[0] == '/' || !strcmp(host, "localhost") ||
	        !strcmp(host, "127.0.0.1") || !strcmp(host, "::1");
	if (out && (!local_host || !pgr_is_dir(out))) {
		free(out);
		out = NULL;
	}
	return out;
}

static bool check_space(const struct sink *k, PGconn *c, const struct names *n, struct pgr_error *err)
{
	char *dir = server_data_path(c, n);
	if (!dir) {
		warn(k, "free space for %s not checked: the server's data directory is not on this machine", n->fresh);
		return true;
	}
	uint64_t free_bytes = 0;
	if (!pgr_fs_free_bytes(dir, &free_bytes)) {
		warn(k, "free space on %s could not be read", dir);
		free(dir);
		return true;
	}
	char fs[32], ds[32], need[32];
	pgr_size_format(free_bytes, fs, sizeof fs);
	pgr_size_format(n->dump_size, ds, sizeof ds);
	pgr_size_format(n->dump_size * SPACE_WARN_FACTOR, need, sizeof need);
	bool ok = true;
	if (free_bytes < n->dump_size * SPACE_REFUSE_FACTOR) {
		/* A full disk under a running primary stops production too: refuse. */
		pgr_error_set(err, PGR_ERR_IO,
		              "not enough free space for the restore: %s free on %s, a %s dump needs about %s", fs, dir,
		              ds, need);
		pgr_error_detail(err,
		                 "The restored copy is built beside %s, which is kept; a custom archive is compressed, "
		                 "its tables and indexes take about %d times its size. Refused below %d times, so "
		                 "the restore cannot fill the server's disk.",
		                 n->db, SPACE_WARN_FACTOR, SPACE_REFUSE_FACTOR);
		struct strbuf old = STRBUF_INIT;
		char *pattern = xasprintf("%s_replaced_%%", n->db);
		const char *params[] = {pattern};
		PGresult *r = NULL;
		struct pgr_error e = {0};
		if (pgr_pg_execp(c,
		                 "SELECT datname, pg_size_pretty(pg_database_size(oid)) FROM pg_database WHERE datname "
		                 "LIKE $1 ORDER BY 1",
		                 1, params, &r, &e)) {
			for (int i = 0; i < PQntuples(r); i++)
				sb_printf(&old, "%s%s (%s)", i ? ", " : "", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
			PQclear(r);
		}
		free(pattern);
		if (old.len)
			pgr_error_hint(err,
			               "Free space on %s. Databases kept by earlier restores: %s: DROP DATABASE "
			               "them when no longer needed.",
			               dir, sb_str(&old));
		else
			pgr_error_hint(err, "Free space on %s, then run the restore again.", dir);
		sb_free(&old);
		ok = false;
	} else if (free_bytes < n->dump_size * SPACE_WARN_FACTOR) {
		warn(k, "free space is tight: %s free on %s, a %s dump may need about %s", fs, dir, ds, need);
	} else {
		say(k, "free space: %s on %s (about %s needed)", fs, dir, need);
	}
	free(dir);
	return ok;
}

static bool check_databases(const struct sink *k, PGconn *c, const struct names *n, struct pgr_error *err)
{
	PGresult *r = NULL;
	if (!pgr_pg_exec(c, "SELECT rolsuper OR rolcreatedb, current_user FROM pg_roles WHERE rolname = current_user",
	                 &r, err))
		return false;
	bool may = PQntuples(r) > 0 && PQgetvalue(r, 0, 0)[0] == 't';
	char *user = PQntuples(r) > 0 ? xstrdup(PQgetvalue(r, 0, 1)) : xstrdup("?");
	PQclear(r);
	if (!may) {
		pgr_error_set(err, PGR_ERR_DB, "role \"%s\" may not create databases, which the restore needs", user);
		pgr_error_hint(err,
		               "Connect as a superuser or a role with CREATEDB that owns %s (ALTER ROLE %s CREATEDB;).",
		               n->db, user);
		free(user);
		return false;
	}
	free(user);
	bool exists = false;
	if (!db_exists(c, n->db, &exists, err))
		return false;
	if (!exists) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "database \"%s\" does not exist on the server", n->db);
		pgr_error_hint(err,
		               "The restore replaces an existing database. If it was dropped, create it empty with "
		               "its owner (CREATE DATABASE %s OWNER ...;) and run the restore again.",
		               n->db);
		return false;
	}
	if (!db_exists(c, n->replaced, &exists, err))
		return false;
	if (exists) {
		pgr_error_set(err, PGR_ERR_CONFLICT,
		              "database \"%s\", the name the replaced database would get, exists", n->replaced);
		pgr_error_hint(err, "Another restore ran in the same second: plan the restore again.");
		return false;
	}
	char *comment = NULL;
	if (!db_exists(c, n->fresh, &exists, err) || (exists && !db_comment(c, n->fresh, &comment, err)))
		return false;
	if (exists && (!comment || strncmp(comment, MARK_PREFIX, strlen(MARK_PREFIX)) != 0)) {
		pgr_error_set(err, PGR_ERR_CONFLICT, "database \"%s\" exists and was not made by a pgrescue restore",
		              n->fresh);
		pgr_error_hint(
		        err,
		        "The restore builds its copy under that name: drop or rename it (ALTER DATABASE %s RENAME "
		        "TO ...;) if nobody needs it, then run the restore again.",
		        n->fresh);
		free(comment);
		return false;
	}
	if (exists) {
		char *mark = mark_for(n);
		if (strcmp(comment, mark) != 0)
			warn(k, "database %s is left from an earlier restore (%s); it will be dropped and made again",
			     n->fresh, comment);
		free(mark);
	}
	free(comment);
	return true;
}

static bool check_app(const struct sink *k, struct pgr_platform *pf, const struct names *n, struct pgr_error *err)
{
	if (!n->app) {
		warn(k, "app_scale = none: the application is not stopped; stop its writers before the swap");
		return true;
	}
	int replicas = -1;
	if (!pf->ops->app_replicas(pf, &replicas, err)) {
		pgr_error_prefix(err, "cannot read the application's replicas");
		if (!err->hint[0] || strstr(err->msg, "app_scale"))
			pgr_error_hint(
			        err,
			        "Configure app_scale (builtin, or command with app_scale_get_command and "
			        "app_scale_set_command), or set app_scale = none to restore without stopping it.");
		return false;
	}
	say(k, "the application has %d replica%s", replicas, replicas == 1 ? "" : "s");
	return true;
}

static bool preflight_checks(const struct sink *k, const struct names *n, struct pgr_store *st, struct pgr_platform *pf,
                             struct pgr_error *err)
{
	char *prog = xasprintf("%s/pg_restore", bindir(n->env));
	if (access(prog, X_OK) != 0) {
		pgr_error_errno(err, errno, "cannot run %s", prog);
		err->kind = PGR_ERR_TOOL;
		pgr_error_hint(err,
		               "Install PostgreSQL's client programs of the server's major version, or set "
		               "pg_bindir in the config.");
		free(prog);
		return false;
	}
	free(prog);
	if (!check_dump(k, st, n, err))
		return false;
	PGconn *c = maint_connect(n->env, err);
	if (!c)
		return false;
	bool ok = check_databases(k, c, n, err) && check_space(k, c, n, err);
	PQfinish(c);
	return ok && check_app(k, pf, n, err);
}

bool pgr_restore_preflight(const struct pgr_plan *p, struct pgr_error *err)
{
	struct names n;
	if (!names_load(p, &n, err))
		return false;
	struct pgr_store *st = pgr_store_open_env(&p->env, err);
	if (!st)
		return false;
	struct pgr_platform *pf = n.app ? pgr_platform_open(&p->env, err) : NULL;
	bool ok = (pf || !n.app) && preflight_checks(NULL, &n, st, pf, err);
	pgr_platform_close(pf);
	pgr_store_close(st);
	return ok;
}

/* ------------------------------------------------------------ steps */

static bool step_names(struct pgr_run *r, struct names *n, struct pgr_error *err)
{
	return names_load(pgr_run_plan(r), n, err);
}

static bool st_preflight_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	struct pgr_store *st = pgr_run_store(r, err);
	if (!st)
		return false;
	struct pgr_platform *pf = NULL;
	if (n.app && !(pf = pgr_run_platform(r, err)))
		return false;
	struct sink k = {r};
	return preflight_checks(&k, &n, st, pf, err);
}

/* 2: record-replicas */

static bool st_record_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	*done = pgr_run_fact(r, "replicas") != NULL;
	return true;
}

static bool st_record_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	if (!n.app)
		return pgr_run_set_fact(r, "replicas", "none", err);
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	int replicas = -1;
	if (!pf->ops->app_replicas(pf, &replicas, err))
		return false;
	const char *at_plan = pgr_kv_get(&n.p->params, "replicas_at_plan");
	int planned = at_plan ? atoi(at_plan) : -1;
	if (replicas == 0 && planned > 0) {
		/* Stopped between the review and the run (by hand?): bring back what ran. */
		pgr_run_log(r, "the app has 0 replicas now but had %d when the plan was made: recording %d", planned,
		            planned);
		replicas = planned;
	}
	char v[16];
	snprintf(v, sizeof v, "%d", replicas);
	pgr_run_report(r, "the application had %d replica%s", replicas, replicas == 1 ? "" : "s");
	if (replicas == 0)
		pgr_run_report(r, "WARNING: so it stays at 0 after the restore: scale it up yourself when %s is ready",
		               n.db);
	return pgr_run_set_fact(r, "replicas", v, err);
}

/* 3 and 8: scaling */

static bool recorded_replicas(struct pgr_run *r, int *n, struct pgr_error *err)
{
	const char *v = pgr_run_fact(r, "replicas");
	if (!v)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "the run has no recorded replica count"),
		       pgr_error_hint(err, "Step record-replicas must run first; resume the run from it."), false;
	*n = !strcmp(v, "none") ? -1 : atoi(v);
	return true;
}

static bool replicas_are(struct pgr_run *r, int want, bool *yes, int *have, struct pgr_error *err)
{
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	if (!pf->ops->app_replicas(pf, have, err))
		return false;
	*yes = *have == want;
	return true;
}

static bool scale_to(struct pgr_run *r, int want, struct pgr_error *err)
{
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	pgr_run_progress(r, -1, true, "scaling the app to %d replica%s", want, want == 1 ? "" : "s");
	double t0 = pgr_monotonic();
	if (!pf->ops->app_scale(pf, want, err))
		return false;
	pgr_run_log(r, "the app has %d replica%s (%.1f s)", want, want == 1 ? "" : "s", pgr_monotonic() - t0);
	return true;
}

static bool check_replicas(struct pgr_run *r, int want, struct pgr_error *err)
{
	bool yes = false;
	int have = -1;
	if (!replicas_are(r, want, &yes, &have, err))
		return false;
	if (!yes)
		return pgr_error_set(err, PGR_ERR_TOOL, "the application has %d replicas, not %d", have, want), false;
	return true;
}

static bool st_down_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	int rec;
	if (!recorded_replicas(r, &rec, err))
		return false;
	if (rec < 0) {
		*done = true;
		return true;
	}
	int have;
	return replicas_are(r, 0, done, &have, err);
}

static bool st_down_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	return scale_to(r, 0, err);
}

static bool st_down_verify(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	return check_replicas(r, 0, err);
}

static bool st_up_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	int rec;
	if (!recorded_replicas(r, &rec, err))
		return false;
	if (rec < 0) {
		*done = true;
		return true;
	}
	int have;
	return replicas_are(r, rec, done, &have, err);
}

static bool st_up_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	int rec;
	return recorded_replicas(r, &rec, err) && (rec < 0 || scale_to(r, rec, err));
}

static bool st_up_verify(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	int rec;
	return recorded_replicas(r, &rec, err) && (rec < 0 || check_replicas(r, rec, err));
}

/* 4: create-db */

static bool fresh_is_ours(PGconn *c, const struct names *n, bool *ours, bool *exists, struct pgr_error *err)
{
	char *comment = NULL;
	*ours = false;
	if (!db_exists(c, n->fresh, exists, err) || (*exists && !db_comment(c, n->fresh, &comment, err)))
		return false;
	if (*exists && comment) {
		char *mark = mark_for(n);
		*ours = !strcmp(comment, mark);
		free(mark);
	}
	free(comment);
	return true;
}

static bool st_create_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ours = false, exists = false, sw = false;
	bool ok = swapped(c, &n, &sw, err) && (sw || fresh_is_ours(c, &n, &ours, &exists, err));
	PQfinish(c);
	*done = ok && (sw || ours);
	return ok;
}

static bool st_create_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	struct sink k = {r};
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ours = false, exists = false;
	bool ok = fresh_is_ours(c, &n, &ours, &exists, err);
	if (ok && exists) {
		/* Not marked as this run's: a half-made one of this run, or a
		 * leftover of an earlier restore (the preflight checked it is one). */
		char *comment = NULL;
		ok = db_comment(c, n.fresh, &comment, err);
		bool pgrescue = comment && !strncmp(comment, MARK_PREFIX, strlen(MARK_PREFIX));
		if (ok && !pgrescue && !pgr_run_fact(r, "create_started")) {
			ok = pgr_error_set(err, PGR_ERR_CONFLICT,
			                   "database \"%s\" exists and was not made by a pgrescue restore", n.fresh);
			pgr_error_hint(err, "Drop or rename it if nobody needs it, then resume the run.");
		}
		free(comment);
		if (ok)
			ok = drop_database(&k, c, n.fresh, err);
	}
	if (ok)
		ok = pgr_run_set_fact(r, "create_started", "1", err) && create_fresh(&k, c, &n, err);
	PQfinish(c);
	return ok;
}

/* 5: pg-restore */

static bool st_restore_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	*done = false;
	if (!pgr_run_fact(r, "restored"))
		return true;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ours = false, exists = false, sw = false;
	bool ok = swapped(c, &n, &sw, err) && (sw || fresh_is_ours(c, &n, &ours, &exists, err));
	PQfinish(c);
	*done = ok && (sw || ours);
	return ok;
}

/* Is pid a pg_restore process? (A pid recorded before a crash may be reused.) */
static bool is_pg_restore(pid_t pid)
{
	if (pid <= 1 || kill(pid, 0) != 0)
		return false;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	char *text = NULL;
	size_t len = 0;
	if (!pgr_read_file(path, &text, &len, NULL))
		return false;
	bool yes = len > 0 && !strcmp(base_name(text), "pg_restore");
	free(text);
	return yes;
}

/* A runner killed during pg_restore leaves it running on its own, still
 * writing into the fresh database: stop it (and its workers) first. */
static void stop_orphan(struct pgr_run *r)
{
	const char *v = pgr_run_fact(r, "pg_restore_pid");
	pid_t pid = v ? (pid_t)atol(v) : 0;
	if (!is_pg_restore(pid))
		return;
	pgr_run_log(r, "an earlier pg_restore (pid %ld) is still running: stopping it", (long)pid);
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	double deadline = pgr_monotonic() + ORPHAN_WAIT_SEC;
	while (is_pg_restore(pid) && pgr_monotonic() < deadline)
		usleep(100000);
	if (is_pg_restore(pid)) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
}

static bool load_manifest(struct pgr_run *r, const struct names *n, struct pgr_manifest *m, bool *have,
                          struct pgr_error *err);

/* The dump against the SHA-256 its backup's manifest recorded (dumps other
 * tools wrote have no manifest: nothing to check). A mismatch fails before
 * pg_restore reads anything; a downloaded copy is removed so that a retry
 * fetches it again. */
static bool check_dump_sha(struct pgr_run *r, const struct names *n, const char *path, bool downloaded,
                           struct pgr_error *err)
{
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_DUMP);
	bool have = false;
	if (!load_manifest(r, n, &m, &have, err)) {
		pgr_error_prefix(err, "cannot read the dump's manifest");
		pgr_manifest_free(&m);
		return false;
	}
	if (!have) {
		pgr_manifest_free(&m);
		return true;
	}
	const struct pgr_manifest_file *f = pgr_manifest_file(&m, n->dump_key);
	bool ok = true;
	if (f && f->sha256[0]) {
		char hex[65];
		ok = pgr_manifest_file_check(f, path, "dump", n->manifest_key, hex, err);
		if (!ok && err && err->kind == PGR_ERR_STORE) {
			pgr_error_hint(err,
			               "The copy in the store changed after the backup was taken, or the download "
			               "was damaged. Nothing was restored from it. Try the restore again (it "
			               "downloads the dump again), or pick another backup: pgrescue backups list.");
			if (downloaded)
				unlink(path);
		} else if (ok) {
			pgr_run_log(r, "the dump matches the SHA-256 its manifest recorded (%s)", hex);
		}
	}
	pgr_manifest_free(&m);
	return ok;
}

/* The dump as a local file pg_restore can read (-j needs to seek), checked. */
static char *dump_file(struct pgr_run *r, const struct names *n, struct pgr_error *err)
{
	struct pgr_store *st = pgr_run_store(r, err);
	if (!st)
		return NULL;
	char *path = dump_local_path(st, n->dump_key);
	if (path) {
		if (check_dump_sha(r, n, path, false, err))
			return path;
		free(path);
		return NULL;
	}
	path = xasprintf("%s/%s", pgr_run_dir(r), LOCAL_DUMP_NAME);
	struct stat sb;
	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size == n->dump_size) {
		/* Downloads land atomically: a file of the right size is whole. */
		pgr_run_log(r, "using the dump downloaded earlier: %s", path);
	} else {
		pgr_run_log(r, "downloading %s to %s", n->dump_key, path);
		struct pgr_run_download d = {r, "the dump", n->dump_size, 0.1};
		if (!pgr_store_get(st, n->dump_key, path, pgr_run_download_progress, &d, err)) {
			pgr_error_prefix(err, "cannot download %s", n->dump_key);
			free(path);
			return NULL;
		}
	}
	if (check_dump_sha(r, n, path, true, err))
		return path;
	free(path);
	return NULL;
}

/* Progress from pg_restore -v: each TOC entry is "processing item" once,
 * except inside the parallel loop, where workers report "finished item". */
struct rprog {
	int total, done;
	bool parallel_loop;
	char last[256];
};

static void rprog_line(struct rprog *p, const char *line)
{
	const char *m = !strncmp(line, "pg_restore: ", 12) ? line + 12 : line;
	const char *what = NULL;
	if (!strncmp(m, "entering main parallel loop", 27)) {
		p->parallel_loop = true;
	} else if (!strncmp(m, "finished main parallel loop", 27)) {
		p->parallel_loop = false;
	} else if (p->parallel_loop && !strncmp(m, "finished item ", 14)) {
		p->done++;
		what = m + 14;
	} else if (!p->parallel_loop && !strncmp(m, "processing item ", 16)) {
		p->done++;
		what = m + 16;
	}
	if (what) {
		/* "3370 TABLE DATA clips": the entry without its number. */
		const char *sp = strchr(what, ' ');
		snprintf(p->last, sizeof p->last, "%s", sp ? sp + 1 : what);
	}
}

/* Row counts taken while pg_restore still builds indexes: a table's rows
 * are final once its TABLE DATA item has finished, so its count(*) runs on a
 * connection of its own meanwhile, and verify-counts finds it done. The
 * counts become the fact "counts" ("schema<TAB>table<TAB>rows" lines) only
 * when pg_restore succeeded. */
struct tocdata {
	int id;
	char *schema, *table;
};

struct early {
	struct tocdata *toc; /* TABLE DATA entries of the archive */
	size_t n_toc;
	PGconn *conn; /* NULL: not connected yet, or given up */
	bool failed; /* stop trying: verify-counts counts everything */
	bool busy;
	size_t *queue; /* indexes into toc */
	size_t n_queue, head;
	size_t current;
	struct strbuf counts;
	size_t n_counted;
};

static void early_parse(struct early *e, const char *listing)
{
	const char *s = listing ? listing : "";
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *line = xstrndup(s, len);
		s += len + (nl ? 1 : 0);
		const char *td = strstr(line, " TABLE DATA ");
		if (line[0] == ';' || !td) {
			free(line);
			continue;
		}
		/* "3370; 0 16402 TABLE DATA public clips clipper": a name with a space
		 * would be ambiguous; such tables are left to verify-counts. */
		char *words[3] = {NULL, NULL, NULL};
		int nw = 0;
		char *rest = xstrdup(td + 12), *save = NULL;
		for (char *w = strtok_r(rest, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (nw < 3)
				words[nw] = w;
			nw++;
		}
		if (nw == 2 || nw == 3) {
			e->toc = xrealloc(e->toc, (e->n_toc + 1) * sizeof *e->toc);
			e->toc[e->n_toc].id = atoi(line);
			e->toc[e->n_toc].schema = xstrdup(words[0]);
			e->toc[e->n_toc].table = xstrdup(words[1]);
			e->n_toc++;
		}
		free(rest);
		free(line);
	}
	e->queue = xcalloc(e->n_toc + 1, sizeof *e->queue);
}

static void early_free(struct early *e)
{
	for (size_t i = 0; i < e->n_toc; i++) {
		free(e->toc[i].schema);
		free(e->toc[i].table);
	}
	free(e->toc);
	free(e->queue);
	if (e->conn)
		PQfinish(e->conn);
	sb_free(&e->counts);
}

static void early_give_up(struct pgr_run *r, struct early *e, const char *why)
{
	if (!e->failed)
		pgr_run_log(r, "counting during the restore stopped (%s): verify-counts counts the rest", why);
	e->failed = true;
	if (e->conn)
		PQfinish(e->conn);
	e->conn = NULL;
	e->busy = false;
}

/* Start the next queued count when the connection is idle. */
static void early_kick(struct pgr_run *r, struct early *e, const struct names *n)
{
	if (e->failed || e->busy || e->head >= e->n_queue)
		return;
	if (!e->conn) {
		struct pgr_error ce = {0};
		e->conn = pgr_pg_connect(n->env->dsn, n->fresh, CONNECT_TIMEOUT, &ce);
		if (!e->conn) {
			early_give_up(r, e, ce.msg);
			return;
		}
		/* On this machine, the counting backend takes only CPU that
		 * pg_restore's workers leave: verifying must not slow restoring. */
		const char *host = PQhost(e->conn);
		if (!host || !*host || host[0] == '/' || !strcmp(host, "localhost"))
			(void)setpriority(PRIO_PROCESS, (id_t)PQbackendPID(e->conn), 19);
	}
	const struct tocdata *t = &e->toc[e->queue[e->head]];
	char *qs = pgr_pg_quote_ident(e->conn, t->schema), *qt = pgr_pg_quote_ident(e->conn, t->table);
	char *sql = xasprintf("SELECT count(*) FROM ONLY %s.%s", qs, qt);
	free(qs);
	free(qt);
	if (PQsendQuery(e->conn, sql)) {
		e->busy = true;
		e->current = e->queue[e->head++];
	} else {
		early_give_up(r, e, PQerrorMessage(e->conn));
	}
	free(sql);
}

/* "finished item 3370 TABLE DATA clips": that table's rows are all in. */
static void early_line(struct early *e, const char *line)
{
	const char *m = !strncmp(line, "pg_restore: ", 12) ? line + 12 : line;
	if (e->failed || strncmp(m, "finished item ", 14) != 0 || !strstr(m, " TABLE DATA "))
		return;
	int id = atoi(m + 14);
	for (size_t i = 0; i < e->n_toc; i++)
		if (e->toc[i].id == id) {
			e->queue[e->n_queue++] = i;
			return;
		}
}

/* Take the running count's result if it is there (block: wait for it). */
static void early_collect(struct pgr_run *r, struct early *e, bool block)
{
	if (!e->busy || !e->conn)
		return;
	if (!block) {
		if (!PQconsumeInput(e->conn)) {
			early_give_up(r, e, PQerrorMessage(e->conn));
			return;
		}
		if (PQisBusy(e->conn))
			return;
	}
	PGresult *res;
	bool got = false;
	while ((res = PQgetResult(e->conn))) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
			const struct tocdata *t = &e->toc[e->current];
			sb_printf(&e->counts, "%s\t%s\t%s\n", t->schema, t->table, PQgetvalue(res, 0, 0));
			e->n_counted++;
			got = true;
		}
		PQclear(res);
	}
	e->busy = false;
	if (!got)
		early_give_up(r, e, e->conn ? PQerrorMessage(e->conn) : "no result");
}

static bool run_pg_restore(struct pgr_run *r, const struct names *n, const char *path, int items, const char *listing,
                           struct pgr_error *err)
{
	struct early early = {0};
	early_parse(&early, listing);
	/* No counting beside pg_restore: on a busy machine it took CPU from the
	 * restore itself; verify-counts reads the server's insert counters. */
	early.failed = true;
	char *prog = xasprintf("%s/pg_restore", bindir(n->env));
	char jobs[16];
	snprintf(jobs, sizeof jobs, "%d", n->jobs);
	char *ci = conninfo_for(n->env->dsn, n->fresh);
	const char *argv[] = {prog, "-j", jobs, "--exit-on-error", "-v", "-d", ci, path, NULL};
	const char *envv[] = {"PGAPPNAME=pgrescue-restore", getenv("PGCONNECT_TIMEOUT") ? NULL : "PGCONNECT_TIMEOUT=15",
	                      NULL};
	struct pgr_proc_spec spec = {.argv = argv, .env = envv, .stdin_fd = -1, .out = PGR_IO_NULL, .err = PGR_IO_PIPE};
	char *cmd = pgr_argv_join(argv);
	pgr_run_log(r, "running: %s", cmd);
	free(cmd);
	int timeout = env_seconds("PGRESCUE_RESTORE_TIMEOUT", RESTORE_TIMEOUT_DEFAULT);
	struct pgr_proc proc;
	bool ok = pgr_proc_start(&spec, &proc, err);
	if (!ok)
		goto out;
	char pidbuf[24];
	snprintf(pidbuf, sizeof pidbuf, "%ld", (long)proc.pid);
	struct pgr_error ferr = {0};
	if (!pgr_run_set_fact(r, "pg_restore_pid", pidbuf, &ferr))
		pgr_run_log(r, "could not journal pg_restore's pid: %s", ferr.msg);

	int logfd = pgr_run_log_fd(r);
	struct rprog pr = {.total = items > 0 ? items : 0};
	struct strbuf pending = STRBUF_INIT, tail = STRBUF_INIT;
	double t0 = pgr_monotonic(), deadline = t0 + timeout;
	bool cancelled = false, timed_out = false;
	char buf[16384];
	while (proc.err_fd >= 0) {
		if (!cancelled && pgr_run_cancelled(r)) {
			cancelled = true;
			kill(-proc.pid, SIGTERM);
		}
		if (!timed_out && pgr_monotonic() > deadline) {
			timed_out = true;
			kill(-proc.pid, SIGTERM);
		}
		early_kick(r, &early, n);
		struct pollfd pfd[2] = {{.fd = proc.err_fd, .events = POLLIN}, {.fd = -1}};
		if (early.busy && early.conn)
			pfd[1] = (struct pollfd){.fd = PQsocket(early.conn), .events = POLLIN};
		int pn = poll(pfd, 2, 200);
		if (pn < 0 && errno != EINTR)
			break;
		if (pn > 0 && pfd[1].revents)
			early_collect(r, &early, false);
		if (pn <= 0 || !pfd[0].revents)
			continue;
		ssize_t got = read(proc.err_fd, buf, sizeof buf);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			close(proc.err_fd);
			proc.err_fd = -1;
			break;
		}
		if (logfd >= 0) {
			for (ssize_t off = 0; off < got;) {
				ssize_t w = write(logfd, buf + off, (size_t)(got - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				off += w;
			}
		}
		sb_append_len(&tail, buf, (size_t)got);
		if (tail.len > 4096) {
			size_t cut = tail.len - 2048;
			memmove(tail.buf, tail.buf + cut, tail.len - cut + 1);
			tail.len -= cut;
		}
		sb_append_len(&pending, buf, (size_t)got);
		char *start = pending.buf, *nl;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			rprog_line(&pr, start);
			early_line(&early, start);
			start = nl + 1;
		}
		size_t rest = strlen(start);
		memmove(pending.buf, start, rest + 1);
		pending.len = rest;
		double frac = pr.total > 0 ? (double)pr.done / pr.total : -1;
		if (frac > 0.99)
			frac = 0.99;
		if (pr.total > 0)
			pgr_run_progress(r, frac, false, "pg_restore -j %d: %d of %d items, %s", n->jobs, pr.done,
			                 pr.total, pr.last);
		else
			pgr_run_progress(r, -1, false, "pg_restore -j %d: %d items, %s", n->jobs, pr.done, pr.last);
	}
	sb_free(&pending);
	struct pgr_proc_result res = {.out = STRBUF_INIT, .err = STRBUF_INIT};
	pgr_proc_finish(&proc, timed_out ? 5 : 60, &res, err);
	if (res.exit_code == 0 && !cancelled && !timed_out) {
		pgr_run_progress(r, 1.0, true, "pg_restore -j %d: done, %d items in %.0f s", n->jobs, pr.done,
		                 pgr_monotonic() - t0);
		/* The counts still running or queued: verify-counts would do them anyway. */
		while (!early.failed && (early.busy || early.head < early.n_queue)) {
			early_collect(r, &early, true);
			early_kick(r, &early, n);
		}
		if (early.n_counted > 0) {
			struct pgr_error fe = {0};
			if (!pgr_run_set_fact(r, "counts", sb_str(&early.counts), &fe))
				pgr_run_log(r, "could not journal the row counts: %s", fe.msg);
		}
	} else {
		ok = false;
		if (cancelled)
			pgr_error_set(err, PGR_ERR_TOOL, "pg_restore was stopped: the run was cancelled");
		else if (timed_out)
			pgr_error_set(err, PGR_ERR_TOOL, "pg_restore did not finish within %d s and was stopped",
			              timeout);
		else if (res.exit_code < 0)
			pgr_error_set(err, PGR_ERR_TOOL, "pg_restore was killed by signal %d", res.term_signal);
		else
			pgr_error_set(err, PGR_ERR_TOOL, "pg_restore failed (exit code %d)", res.exit_code);
		/* The errors, not the -v chatter. */
		struct strbuf det = STRBUF_INIT;
		const char *s = sb_str(&tail);
		while (*s) {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);
			if (memmem(s, len, "error", 5) || memmem(s, len, "ERROR", 5) || memmem(s, len, "FATAL", 5) ||
			    memmem(s, len, "DETAIL", 6) || memmem(s, len, "Command was", 11))
				sb_printf(&det, "%.*s\n", (int)len, s);
			s += len + (nl ? 1 : 0);
		}
		pgr_error_detail(err, "%s", det.len ? sb_str(&det) : sb_str(&tail));
		sb_free(&det);
		pgr_error_hint(err,
		               "%s is left as it is for a look; the production database is untouched. Resuming the "
		               "run drops it and restores again. The whole output is in %s/runner.log.",
		               n->fresh, pgr_run_dir(r));
	}
	sb_free(&tail);
	pgr_proc_result_free(&res);
out:
	early_free(&early);
	free(ci);
	free(prog);
	return ok;
}

static bool st_restore_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	struct sink k = {r};
	bool again = pgr_run_fact(r, "pg_restore_started") != NULL;
	if (again)
		stop_orphan(r);
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ours = false, exists = false;
	bool ok = fresh_is_ours(c, &n, &ours, &exists, err);
	if (ok && exists && (again || !ours)) {
		pgr_run_log(r, "%s holds an interrupted attempt: dropping it and restoring again", n.fresh);
		ok = drop_database(&k, c, n.fresh, err);
		exists = false;
	}
	if (ok && !exists)
		ok = pgr_run_set_fact(r, "create_started", "1", err) && create_fresh(&k, c, &n, err);
	PQfinish(c);
	if (!ok)
		return false;
	char *path = dump_file(r, &n, err);
	if (!path)
		return false;
	int items = 0;
	char *listing = NULL;
	ok = read_toc(n.env, path, &items, &listing, err);
	if (ok)
		ok = pgr_run_set_fact(r, "pg_restore_started", "1", err);
	if (ok)
		ok = run_pg_restore(r, &n, path, items, listing, err);
	free(listing);
	if (ok)
		ok = pgr_run_set_fact(r, "restored", n.fresh, err);
	free(path);
	return ok;
}

/* 6: verify-counts */

struct tcount {
	char *schema, *table;
	int64_t rows;
	int64_t expect; /* -1: not in the manifest */
};

static int tcount_rank(const struct tcount *t)
{
	/* clips and users first: the tables people ask about. */
	if (!strcmp(t->table, "clips"))
		return 0;
	if (!strcmp(t->table, "users"))
		return 1;
	return 2;
}

static int cmp_tcount(const void *a, const void *b)
{
	const struct tcount *x = a, *y = b;
	int rx = tcount_rank(x), ry = tcount_rank(y);
	if (rx != ry)
		return rx - ry;
	int c = strcmp(x->schema, y->schema);
	return c ? c : strcmp(x->table, y->table);
}

/* A count from the fact "counts" (taken during pg_restore); -1 if none. */
static int64_t known_count(const char *known, const char *schema, const char *table)
{
	size_t ls = strlen(schema), lt = strlen(table);
	for (const char *p = known; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (!strncmp(p, schema, ls) && p[ls] == '\t' && !strncmp(p + ls + 1, table, lt) &&
		    p[ls + 1 + lt] == '\t')
			return strtoll(p + ls + lt + 2, NULL, 10);
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

/* Exact row count of every user table, as the backup counted them (ONLY:
 * inheritance children are not counted twice). Tables pg-restore counted
 * already (known) are not scanned again. */
static bool count_tables(PGconn *c, const char *known, struct tcount **out, size_t *n_out, size_t *n_known,
                         struct pgr_error *err)
{
	PGresult *list = NULL;
	if (!pgr_pg_exec(c,
	                 "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	                 " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	                 " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
	                 " ORDER BY 1, 2",
	                 &list, err))
		return false;
	int nt = PQntuples(list);
	struct tcount *v = xcalloc((size_t)nt + 1, sizeof *v);
	int *todo = xcalloc((size_t)nt + 1, sizeof *todo);
	int n_todo = 0;
	*n_known = 0;
	for (int i = 0; i < nt; i++) {
		v[i].schema = xstrdup(PQgetvalue(list, i, 0));
		v[i].table = xstrdup(PQgetvalue(list, i, 1));
		v[i].expect = -1;
		v[i].rows = known_count(known, v[i].schema, v[i].table);
		if (v[i].rows < 0)
			todo[n_todo++] = i;
		else
			(*n_known)++;
	}
	PQclear(list);
	bool ok = true;
	for (int first = 0; ok && first < n_todo; first += COUNT_BATCH) {
		int last = first + COUNT_BATCH < n_todo ? first + COUNT_BATCH : n_todo;
		struct strbuf q = STRBUF_INIT;
		sb_append(&q, "SELECT ");
		for (int j = first; j < last; j++) {
			char *qs = pgr_pg_quote_ident(c, v[todo[j]].schema);
			char *qt = pgr_pg_quote_ident(c, v[todo[j]].table);
			sb_printf(&q, "%s(SELECT count(*) FROM ONLY %s.%s)", j > first ? ", " : "", qs, qt);
			free(qs);
			free(qt);
		}
		PGresult *r = NULL;
		ok = pgr_pg_exec(c, sb_str(&q), &r, err);
		sb_free(&q);
		for (int j = first; ok && j < last; j++)
			v[todo[j]].rows = strtoll(PQgetvalue(r, 0, j - first), NULL, 10);
		PQclear(r);
	}
	free(todo);
	if (!ok) {
		for (int i = 0; i < nt; i++) {
			free(v[i].schema);
			free(v[i].table);
		}
		free(v);
		return false;
	}
	*out = v;
	*n_out = (size_t)nt;
	return true;
}

static void tcounts_free(struct tcount *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].schema);
		free(v[i].table);
	}
	free(v);
}

/* The dump's manifest; *have false when the store has none. */
static bool load_manifest(struct pgr_run *r, const struct names *n, struct pgr_manifest *m, bool *have,
                          struct pgr_error *err)
{
	*have = false;
	if (!n->manifest_key)
		return true;
	struct pgr_store *st = pgr_run_store(r, err);
	if (!st)
		return false;
	char *path = xasprintf("%s/dump-manifest.json", pgr_run_dir(r));
	bool ok = pgr_store_get(st, n->manifest_key, path, NULL, NULL, err);
	if (!ok && err->kind == PGR_ERR_NOTFOUND) {
		pgr_error_clear(err);
		free(path);
		return true;
	}
	char *text = NULL;
	if (ok)
		ok = pgr_read_file(path, &text, NULL, err);
	if (ok)
		ok = pgr_manifest_from_json(text, n->manifest_key, m, err);
	free(text);
	free(path);
	*have = ok;
	return ok;
}

static bool st_verify_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	/* Counting is read-only and cheap next to the restore: count again,
	 * unless the fresh database is already in service under the old name. */
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ok = swapped(c, &n, done, err);
	PQfinish(c);
	*done = ok && *done && pgr_run_fact(r, "tables") != NULL;
	return ok;
}

static bool st_verify_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_DUMP);
	bool have = false;
	if (!load_manifest(r, &n, &m, &have, err)) {
		pgr_error_prefix(err, "cannot read the dump's manifest");
		pgr_manifest_free(&m);
		return false;
	}
	pgr_run_progress(r, -1, true, "counting the rows of every table in %s", n.fresh);
	PGconn *c = pgr_pg_connect(n.env->dsn, n.fresh, CONNECT_TIMEOUT, err);
	if (!c) {
		pgr_manifest_free(&m);
		return false;
	}
	(void)pgr_pg_exec(c, "SET statement_timeout = 0", NULL, NULL);
	struct tcount *v = NULL;
	size_t nv = 0, n_known = 0;
	/* The server counted every row pg_restore's COPY inserted into this fresh
	 * database (pg_stat_user_tables.n_tup_ins, flushed when its sessions
	 * ended): where that equals the manifest and nothing was updated or
	 * deleted since, the table holds exactly those rows and is not scanned
	 * again; any other table gets its count(*). */
	struct strbuf known = STRBUF_INIT;
	const char *early_counts = pgr_run_fact(r, "counts");
	if (early_counts)
		sb_append(&known, early_counts);
	size_t from_stats = 0;
	PGresult *st = NULL;
	struct pgr_error se = {0};
	if (have &&
	    pgr_pg_exec(c,
	                "SELECT schemaname, relname, n_tup_ins FROM pg_stat_user_tables"
	                " WHERE n_tup_upd = 0 AND n_tup_del = 0 AND n_tup_hot_upd = 0",
	                &st, &se)) {
		for (int i = 0; i < PQntuples(st); i++) {
			const char *schema = PQgetvalue(st, i, 0), *table = PQgetvalue(st, i, 1);
			int64_t ins = strtoll(PQgetvalue(st, i, 2), NULL, 10);
			if (ins > 0 && ins == pgr_manifest_rows(&m, schema, table) &&
			    known_count(sb_str(&known), schema, table) < 0) {
				sb_printf(&known, "%s\t%s\t%" PRId64 "\n", schema, table, ins);
				from_stats++;
			}
		}
		PQclear(st);
	}
	bool ok = count_tables(c, sb_str(&known), &v, &nv, &n_known, err);
	sb_free(&known);
	if (ok && n_known)
		pgr_run_log(
		        r,
		        "%zu of %zu tables: rows as inserted by pg_restore (%zu from the server's counters), the rest "
		        "counted",
		        n_known, nv, from_stats);
	char *clips_max = NULL;
	if (ok) {
		/* The newest clip's id: the health check waits for a newer one. */
		struct pgr_error e = {0};
		if (!pgr_pg_value(c, "SELECT max(id)::text FROM clips", &clips_max, &e))
			pgr_run_log(r, "no clips.id to watch for new clips: %s", e.msg);
	}
	PQfinish(c);
	if (!ok) {
		pgr_manifest_free(&m);
		return false;
	}
	qsort(v, nv, sizeof *v, cmp_tcount);
	size_t bad = 0, extra = 0;
	int64_t total = 0;
	struct strbuf first_bad = STRBUF_INIT;
	int w = 5;
	for (size_t i = 0; i < nv; i++) {
		int len = (int)(strlen(v[i].schema) + 1 + strlen(v[i].table));
		if (len > w)
			w = len;
		total += v[i].rows;
		if (have) {
			v[i].expect = pgr_manifest_rows(&m, v[i].schema, v[i].table);
			if (v[i].expect < 0)
				extra++;
			else if (v[i].expect != v[i].rows && bad++ == 0)
				sb_printf(&first_bad, "%s.%s has %" PRId64 " rows, the dump %" PRId64, v[i].schema,
				          v[i].table, v[i].rows, v[i].expect);
		}
	}
	/* Tables the dump had that the restore lacks. */
	size_t missing = 0;
	for (size_t j = 0; have && j < m.n_tables; j++) {
		bool found = false;
		for (size_t i = 0; i < nv && !found; i++)
			found = !strcmp(v[i].schema, m.tables[j].schema) && !strcmp(v[i].table, m.tables[j].table);
		if (!found && missing++ == 0 && bad == 0)
			sb_printf(&first_bad, "%s.%s (%" PRId64 " rows in the dump) is missing", m.tables[j].schema,
			          m.tables[j].table, m.tables[j].rows);
	}
	if (have)
		pgr_run_report(r, "%-*s %12s %12s", w, "table", "restored", "dump");
	else
		pgr_run_report(r, "%-*s %12s", w, "table", "restored");
	for (size_t i = 0; i < nv; i++) {
		char name[512];
		snprintf(name, sizeof name, "%s.%s", v[i].schema, v[i].table);
		if (!have)
			pgr_run_report(r, "%-*s %12" PRId64, w, name, v[i].rows);
		else if (v[i].expect < 0)
			pgr_run_report(r, "%-*s %12" PRId64 " %12s  not in the dump's manifest", w, name, v[i].rows,
			               "-");
		else
			pgr_run_report(r, "%-*s %12" PRId64 " %12" PRId64 "  %s", w, name, v[i].rows, v[i].expect,
			               v[i].rows == v[i].expect ? "ok" : "DIFFERS");
	}
	for (size_t j = 0; have && j < m.n_tables; j++) {
		bool found = false;
		for (size_t i = 0; i < nv && !found; i++)
			found = !strcmp(v[i].schema, m.tables[j].schema) && !strcmp(v[i].table, m.tables[j].table);
		if (!found)
			pgr_run_report(r, "%s.%-*s %12s %12" PRId64 "  MISSING", m.tables[j].schema,
			               (int)(w - strlen(m.tables[j].schema) - 1), m.tables[j].table, "-",
			               m.tables[j].rows);
	}
	if (!have)
		pgr_run_report(r, "%s",
		               n.manifest_key ? "the dump's manifest is gone from the store: nothing to compare to"
		                              : "the dump has no pgrescue manifest: nothing to compare to");
	ok = true;
	if (bad || missing) {
		ok = pgr_error_set(err, PGR_ERR_CONFLICT, "%zu table%s of %s differ from the dump's manifest: %s",
		                   bad + missing, bad + missing == 1 ? "" : "s", n.fresh, sb_str(&first_bad));
		pgr_error_detail(err, "The manifest %s holds the exact counts taken in the dump's own snapshot.",
		                 n.manifest_key);
		const struct pgr_step *down = pgr_plan_step(n.p, "scale-down");
		const char *rec = pgr_run_fact(r, "replicas");
		pgr_error_hint(err,
		               "Nothing was swapped: %s is untouched and the app is still at 0 replicas (it had %s; to "
		               "serve from %s again: %s). Look at %s, or restore another dump with --backup; the "
		               "step's report lists every table.",
		               n.db, rec ? rec : "?", n.db, down && down->undo ? down->undo : "scale it back", n.fresh);
	} else {
		char v1[32];
		snprintf(v1, sizeof v1, "%zu", nv);
		ok = pgr_run_set_fact(r, "tables", v1, err);
		if (ok && clips_max)
			ok = pgr_run_set_fact(r, "clips_max_id", clips_max, err);
		if (ok)
			pgr_run_log(r, "%zu tables, %" PRId64 " rows%s", nv, total,
			            have ? ", every count equal to the dump's manifest" : "");
		if (extra)
			pgr_run_report(r, "%zu table%s not in the manifest (not compared)", extra,
			               extra == 1 ? "" : "s");
	}
	sb_free(&first_bad);
	free(clips_max);
	tcounts_free(v, nv);
	pgr_manifest_free(&m);
	return ok;
}

/* 7: swap */

static bool st_swap_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ok = swapped(c, &n, done, err);
	PQfinish(c);
	if (ok && *done && !pgr_run_fact(r, "replaced_db"))
		ok = pgr_run_set_fact(r, "replaced_db", n.replaced, err);
	return ok;
}

static bool swap_once(const struct sink *k, PGconn *c, const struct names *n, const char *comment,
                      struct pgr_error *err)
{
	char *qdb = qident(n->db), *qf = qident(n->fresh), *qr = qident(n->replaced);
	char *lit = comment ? qliteral(comment) : xstrdup("NULL");
	char *stmts[] = {
	        xstrdup("BEGIN"),
	        xasprintf("ALTER DATABASE %s RENAME TO %s", qdb, qr),
	        xasprintf("ALTER DATABASE %s RENAME TO %s", qf, qdb),
	        xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS true", qr),
	        xasprintf("COMMENT ON DATABASE %s IS %s", qdb, lit),
	        xstrdup("COMMIT"),
	};
	bool ok = true;
	for (size_t i = 0; ok && i < sizeof stmts / sizeof stmts[0]; i++)
		ok = exec_logged(k, c, stmts[i], err);
	if (!ok)
		(void)pgr_pg_exec(c, "ROLLBACK", NULL, NULL);
	for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
		free(stmts[i]);
	free(lit);
	free(qdb);
	free(qf);
	free(qr);
	return ok;
}

static bool st_swap_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	struct sink k = {r};
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool ours = false, exists = false;
	bool ok = fresh_is_ours(c, &n, &ours, &exists, err);
	if (ok && !ours) {
		ok = pgr_error_set(err, PGR_ERR_CONFLICT, "database \"%s\" %s", n.fresh,
		                   exists ? "is not the one this run restored" : "does not exist");
		pgr_error_hint(err, "Nothing was swapped. Resume the run from pg-restore, or plan the restore again.");
	}
	char *comment = NULL;
	if (ok)
		ok = db_comment(c, n.db, &comment, err);
	char *qdb = qident(n.db);
	bool closed = false;
	if (ok) {
		/* Nobody may connect between the terminations and the renames. */
		char *sql = xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS false", qdb);
		ok = closed = exec_logged(&k, c, sql, err);
		free(sql);
	}
	for (int attempt = 1; ok; attempt++) {
		ok = terminate_backends(&k, c, n.db, err) && terminate_backends(&k, c, n.fresh, err);
		if (!ok)
			break;
		ok = swap_once(&k, c, &n, comment, err);
		if (ok || attempt >= SWAP_TRIES || !strstr(err->msg, "being accessed by other users"))
			break;
		pgr_run_log(r, "a session appeared again (%s): retrying", err->msg);
		ok = true;
		usleep(500000);
	}
	if (!ok && closed) {
		/* Leave production as it was: accepting connections. */
		char *sql = xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS true", qdb);
		struct pgr_error e2 = {0};
		if (!exec_logged(&k, c, sql, &e2))
			pgr_run_log(r, "could not reopen %s to connections: %s", n.db, e2.msg);
		free(sql);
		if (!err->hint[0])
			pgr_error_hint(err, "Nothing was swapped: %s is unchanged. Resume the run to try again.", n.db);
	}
	free(qdb);
	free(comment);
	PQfinish(c);
	if (ok) {
		pgr_run_report(r, "%s is now the restored database; the one it replaced is kept as %s", n.db,
		               n.replaced);
		ok = pgr_run_set_fact(r, "replaced_db", n.replaced, err);
	}
	return ok;
}

static bool st_swap_verify(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	PGconn *c = maint_connect(n.env, err);
	if (!c)
		return false;
	bool yes = false;
	bool ok = swapped(c, &n, &yes, err);
	PQfinish(c);
	if (ok && !yes)
		ok = pgr_error_set(err, PGR_ERR_DB,
		                   "after the swap, expected %s and %s to exist and %s to be gone, and they are not",
		                   n.db, n.replaced, n.fresh);
	return ok;
}

/* 9: health-check */

static bool st_health_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct names n;
	if (!step_names(r, &n, err))
		return false;
	PGconn *c = pgr_pg_connect(n.env->dsn, n.db, CONNECT_TIMEOUT, err);
	if (!c) {
		pgr_error_prefix(err, "health check");
		return false;
	}
	char *tables = NULL;
	bool ok = pgr_pg_value(c,
	                       "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	                       " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	                       " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
	                       &tables, err);
	const char *want_tables = pgr_run_fact(r, "tables");
	if (ok && want_tables && tables && strcmp(want_tables, tables) != 0) {
		ok = pgr_error_set(err, PGR_ERR_DB, "%s has %s tables, the restored copy had %s", n.db, tables,
		                   want_tables);
		pgr_error_hint(err, "Is %s the restored database? Compare with %s.", n.db, n.replaced);
	}
	if (ok)
		pgr_run_report(r, "%s answers: %s tables", n.db, tables ? tables : "?");
	free(tables);

	int rec = -1;
	if (ok)
		ok = recorded_replicas(r, &rec, err);
	if (ok && rec >= 0) {
		ok = check_replicas(r, rec, err);
		if (ok)
			pgr_run_report(r, "the application runs with %d replica%s, as recorded", rec,
			               rec == 1 ? "" : "s");
	}
	const char *base = pgr_run_fact(r, "clips_max_id");
	if (ok && rec > 0 && app_builtin(n.env) && base) {
		/* The app is writing: a clip newer than the dump's newest appears. */
		const char *params[] = {base};
		double t0 = pgr_monotonic(), deadline = t0 + HEALTH_WAIT_SEC;
		bool seen = false;
		pgr_run_progress(r, -1, true, "waiting for the app to write a clip (up to %d s)", HEALTH_WAIT_SEC);
		while (ok && !seen) {
			PGresult *q = NULL;
			ok = pgr_pg_execp(c, "SELECT count(*) FROM clips WHERE id > $1::bigint", 1, params, &q, err);
			seen = ok && atol(PQgetvalue(q, 0, 0)) > 0;
			if (ok)
				PQclear(q);
			if (seen || !ok || pgr_monotonic() > deadline || pgr_run_cancelled(r))
				break;
			usleep(250000);
		}
		if (ok && !seen) {
			ok = pgr_error_set(err, PGR_ERR_TOOL, "the app wrote no clip into %s within %d s of scaling up",
			                   n.db, HEALTH_WAIT_SEC);
			pgr_error_hint(err, "Read the replicas' logs: %s/app/replica-*.log.",
			               n.env->sandbox_dir ? n.env->sandbox_dir : "<sandbox dir>");
		} else if (ok) {
			pgr_run_report(r, "the app writes again: a new clip appeared after %.1f s",
			               pgr_monotonic() - t0);
		}
	}
	PQfinish(c);
	if (ok) {
		char *q = qident(n.replaced);
		pgr_run_report(r,
		               "The replaced database is kept as %s. When satisfied with the restore, drop it: "
		               "DROP DATABASE %s;",
		               n.replaced, q);
		free(q);
	}
	return ok;
}

const struct pgr_step_impl pgr_restore_steps[] = {
        {"preflight", NULL, st_preflight_act, NULL},
        {"record-replicas", st_record_done, st_record_act, NULL},
        {"scale-down", st_down_done, st_down_act, st_down_verify},
        {"create-db", st_create_done, st_create_act, NULL},
        {"pg-restore", st_restore_done, st_restore_act, NULL},
        {"verify-counts", st_verify_done, st_verify_act, NULL},
        {"swap", st_swap_done, st_swap_act, st_swap_verify},
        {"scale-up", st_up_done, st_up_act, st_up_verify},
        {"health-check", NULL, st_health_act, NULL},
        {NULL, NULL, NULL, NULL},
};
