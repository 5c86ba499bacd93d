/* Point-in-time recovery, PostgreSQL 12 and later. The production data
 * directory is moved aside, never deleted; recovery settings go into
 * postgresql.auto.conf between markers (removed again once archiving is
 * restored) with recovery.signal, never recovery.conf; archive_mode is off
 * while recovering so the restored cluster cannot write into the production
 * archive; recovery pauses at the target so tables can be checked before
 * promotion, which is awaited on pg_is_in_recovery(). */
#include "config.h"

#include "recovery/pitr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/manifest.h"
#include "ops/walsetup.h"
#include "platform/platform.h"
#include "recovery/audit.h"
#include "recovery/lock.h"
#include "source/pg.h"
#include "storage/layout.h"
#include "storage/storage.h"

#define BLOCK_BEGIN "# BEGIN pgrescue recovery"
#define BLOCK_END "# END pgrescue recovery"
#define EXTRACT_MARK ".pgrescue-extracting"
/* A remote store's base.tar, in the run's directory from preflight (checked)
 * until extract-base has read it. */
#define STAGED_BASE "base.tar"
#define PROMOTE_WAIT_SEC 120
#define ARCHIVE_WAIT_SEC 120

void pgr_pitr_opts_default(struct pgr_pitr_opts *o)
{
	memset(o, 0, sizeof *o);
	o->target.inclusive = true;
	o->replicas_now = -1;
}

/* ------------------------------------------------------------ helpers */

static const char *param(const struct pgr_run *r, const char *key)
{
	const char *v = pgr_kv_get(&pgr_run_plan(r)->params, key);
	return v ? v : "";
}

static const struct pgr_env *env_of(const struct pgr_run *r)
{
	return &pgr_run_plan(r)->env;
}

static const char *server_user(const struct pgr_env *env)
{
	return env->run_as && *env->run_as ? env->run_as : "postgres";
}

/* Give a file we (root) made to the server's user. */
static bool give_to_server(const struct pgr_env *env, const char *path, struct pgr_error *err)
{
	if (geteuid() != 0)
		return true;
	uid_t uid;
	gid_t gid;
	if (!pgr_user_ids(server_user(env), &uid, &gid))
		return pgr_error_set(err, PGR_ERR_CONFIG, "unknown user \"%s\" (run_as)", server_user(env));
	return pgr_chown_tree(path, uid, gid, false, err);
}

static PGconn *connect_to(const struct pgr_env *env, const char *db, int timeout, struct pgr_error *err)
{
	return pgr_pg_connect(env->dsn, db, timeout, err);
}

char *pgr_pitr_self_exe(const struct pgr_env *env)
{
	if (env->sandbox_dir && *env->sandbox_dir) {
		char *path = xasprintf("%s/bin/pgrescue", env->sandbox_dir);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	const char *self = pgr_self_exe();
	return self ? xstrdup(self) : NULL;
}

char *pgr_pitr_db_timezone(const struct pgr_env *env)
{
	struct pgr_error err = {0};
	PGconn *c = connect_to(env, NULL, 3, &err);
	if (!c)
		return NULL;
	char *tz = NULL;
	if (!pgr_pg_value(c, "SHOW TimeZone", &tz, &err))
		tz = NULL;
	PQfinish(c);
	return tz;
}

static char *db_name(const struct pgr_env *env)
{
	char *d = pgr_pg_dsn_dbname(env->dsn);
	return d ? d : xstrdup("postgres");
}

/* Exact row counts of every user table: "schema.table<TAB>rows" lines. */
static bool count_tables(PGconn *c, struct strbuf *out, struct pgr_error *err)
{
	PGresult *res = NULL;
	if (!pgr_pg_exec(c,
	                 "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	                 "WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema') "
	                 "AND n.nspname NOT LIKE 'pg_toast%' AND NOT c.relispartition ORDER BY 1, 2",
	                 &res, err))
		return false;
	bool ok = true;
	for (int i = 0; ok && i < PQntuples(res); i++) {
		const char *schema = PQgetvalue(res, i, 0), *table = PQgetvalue(res, i, 1);
		char *qs = pgr_pg_quote_ident(c, schema), *qt = pgr_pg_quote_ident(c, table);
		char *sql = xasprintf("SELECT count(*) FROM %s.%s", qs, qt);
		char *v = NULL;
		ok = pgr_pg_value(c, sql, &v, err);
		if (ok)
			sb_printf(out, "%s.%s\t%s\n", schema, table, v ? v : "0");
		free(v);
		free(sql);
		free(qs);
		free(qt);
	}
	PQclear(res);
	return ok;
}

int64_t pgr_pitr_count_of(const char *lines, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = lines; p && *p;) {
		if (!strncmp(p, name, n) && p[n] == '\t')
			return strtoll(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static char *read_log_since(const char *path, long offset)
{
	char *text = NULL;
	size_t len = 0;
	if (!path || !pgr_read_file(path, &text, &len, NULL))
		return xstrdup("");
	if (offset < 0 || (size_t)offset > len)
		offset = 0;
	char *out = xstrdup(text + offset);
	free(text);
	return out;
}

static char *tail_of(const char *text, size_t keep)
{
	size_t len = strlen(text);
	return xstrdup(len > keep ? text + len - keep : text);
}

static bool db_running(struct pgr_run *r, bool *running, struct pgr_error *err)
{
	struct pgr_platform *pf = pgr_run_platform(r, err);
	return pf && pf->ops->db_running(pf, running, err);
}

/* ------------------------------------------------------------ the plan */

static const struct pgr_base *find_base(const struct pgr_catalog *cat, const char *label, struct pgr_error *err)
{
	for (size_t i = 0; i < cat->n_bases; i++)
		if (!strcmp(cat->bases[i].label, label)) {
			if (!cat->bases[i].complete) {
				pgr_error_set(err, PGR_ERR_USAGE, "base backup \"%s\" is not complete", label);
				pgr_error_hint(err,
				               "Its pgrescue.json is missing or says it failed; pick another one.");
				return NULL;
			}
			return &cat->bases[i];
		}
	pgr_error_set(err, PGR_ERR_NOTFOUND, "no base backup \"%s\" in the store", label);
	const struct pgr_base *nb = pgr_catalog_newest_base(cat);
	if (nb)
		pgr_error_hint(err, "Base backups are named by their UTC start time; the newest is %s.", nb->label);
	else
		pgr_error_hint(err, "The store has no complete base backup: run `pgrescue backup`.");
	return NULL;
}

/* restore_command as a postgresql.conf literal: through the server's config
 * (which names store_credentials_file) for a cloud store, else --store. */
static char *restore_command(const struct pgr_env *env, const char *exe)
{
	char *sh = pgr_walsetup_command(env, exe, false);
	struct strbuf lit = STRBUF_INIT;
	sb_append_conf_literal(&lit, sh, false);
	free(sh);
	return sb_steal(&lit);
}

bool pgr_pitr_plan(const struct pgr_env *env, const struct pgr_catalog *cat, const struct pgr_pitr_opts *o,
                   struct pgr_plan *p, struct pgr_error *err)
{
	if (!env->data_dir || !*env->data_dir) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "environment \"%s\" has no data_dir: point-in-time recovery needs it", env->name);
		pgr_error_hint(err, "Set data_dir to the server's data directory in its [env] section.");
		return false;
	}
	if (!env->store || !*env->store) {
		pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\" has no store", env->name);
		return false;
	}
	/* restore_command runs as the server's user, without our variables: a
	 * cloud store needs the credentials file it will read. */
	if (pgr_walsetup_cloud(env) && (!env->store_credentials_file || !*env->store_credentials_file))
		return pgr_walsetup_check_credentials(env, err);
	struct pgr_window w = {0};
	pgr_catalog_window(cat, &w);
	bool ok = true;
	if (!w.exists) {
		ok = pgr_error_set(err, PGR_ERR_NOTFOUND, "no recoverable window in %s: %s", env->store,
		                   w.why_not ? w.why_not : "no base backup with continuous WAL");
		pgr_error_hint(err,
		               "Point-in-time recovery needs a base backup and the WAL after it: `pgrescue status` "
		               "shows what is missing. A logical dump can still be restored with `pgrescue restore`.");
	}
	const struct pgr_base *b = NULL;
	if (ok && o->target.kind == PGR_TARGET_TIME && !o->base) {
		/* Placed on what each base backup's WAL reaches: a gap, or a time inside a
		 * base backup's own run, is refused with the reason; an older base backup
		 * whose WAL reaches the time serves it even past a later hole. */
		struct pgr_assessment a;
		pgr_target_assess(&o->target, cat, 0, 0, &a);
		if (!a.ok) {
			char *d = pgr_target_describe(&o->target);
			pgr_error_set(err, PGR_ERR_USAGE, "target %s %s", d, a.verdict + a.subject_len);
			if (a.hint[0])
				pgr_error_hint(err, "%s", a.hint);
			free(d);
			ok = false;
		} else {
			b = a.base;
			if (a.timeline != w.timeline || a.from < w.earliest) {
				w.timeline = a.timeline;
				w.earliest = a.from;
				w.latest = a.to;
			}
		}
	} else {
		if (ok && !pgr_target_check_window(&o->target, cat, &w, err))
			ok = false;
		if (ok)
			b = o->base ? find_base(cat, o->base, err) : pgr_target_pick_base(&o->target, cat, &w, err);
	}
	if (!b) {
		pgr_window_free(&w);
		return false;
	}
	if (o->target.kind == PGR_TARGET_TIME && b->manifest.stop_time >= o->target.time) {
		pgr_error_set(err, PGR_ERR_USAGE, "base backup %s ends after the target, so it cannot reach it",
		              b->label);
		pgr_error_hint(err, "Leave out --backup to pick the newest base backup that ends before the target.");
		pgr_window_free(&w);
		return false;
	}
	pgr_plan_init(p, "pitr", env);
	p->incident = o->incident ? xstrdup(o->incident) : NULL;
	p->reason = o->reason ? xstrdup(o->reason) : NULL;
	char *target = pgr_target_describe(&o->target);
	char *settings = pgr_target_settings(&o->target);
	char *db = db_name(env);
	char now[32];
	pgr_label_format(pgr_now(), now, sizeof now);
	char *aside = xasprintf("%s.pitr-%s", env->data_dir, now);
	const char *exe = o->self_exe ? o->self_exe : pgr_self_exe();
	char *rcmd = restore_command(env, exe);
	char *server_cfg = pgr_walsetup_cloud(env) ? pgr_walsetup_config_path(env) : NULL;
	char *tarkey = xasprintf("%sbase.tar", b->prefix);
	char stop_t[32], from[32], to[32];
	pgr_time_format_utc(b->manifest.stop_time, stop_t, sizeof stop_t);
	pgr_time_format_utc(w.earliest, from, sizeof from);
	pgr_time_format_utc(w.latest, to, sizeof to);

	p->summary = xasprintf("Recover %s on %s to %s from base backup %s", db, env->name, target, b->label);
	struct pgr_kvlist *pp = &p->params;
	pgr_kv_set(pp, "target", target);
	pgr_kv_setf(pp, "target_kind", "%d", (int)o->target.kind);
	pgr_kv_setf(pp, "target_time", "%lld", (long long)o->target.time);
	pgr_kv_setf(pp, "target_usec", "%d", o->target.usec);
	pgr_kv_setf(pp, "target_lsn", "%" PRIu64, o->target.lsn);
	pgr_kv_set(pp, "base", b->label);
	pgr_kv_set(pp, "base_tar", tarkey);
	const struct pgr_manifest_file *tf = pgr_manifest_file(&b->manifest, tarkey);
	if (tf && pgr_is_sha256_hex(tf->sha256)) {
		pgr_kv_set(pp, "base_tar_sha256", tf->sha256);
		pgr_kv_setf(pp, "base_tar_bytes", "%" PRIu64, tf->size);
	}
	char *mkey = xasprintf("%s%s", b->prefix, PGR_BASE_MANIFEST);
	pgr_kv_set(pp, "base_manifest", mkey);
	free(mkey);
	pgr_kv_setf(pp, "base_size", "%" PRIu64, b->size);
	pgr_kv_setf(pp, "base_stop_time", "%lld", (long long)b->manifest.stop_time);
	pgr_kv_setf(pp, "base_start_lsn", "%" PRIu64, b->manifest.start_lsn);
	pgr_kv_set(pp, "base_start_wal", b->manifest.start_wal ? b->manifest.start_wal : "");
	pgr_kv_set(pp, "base_server_version", b->manifest.server_version ? b->manifest.server_version : "");
	pgr_kv_setf(pp, "timeline", "%u", w.timeline);
	pgr_kv_set(pp, "data_dir", env->data_dir);
	pgr_kv_set(pp, "aside", aside);
	pgr_kv_set(pp, "database", db);
	pgr_kv_set(pp, "exe", exe);
	if (server_cfg)
		pgr_kv_set(pp, "server_config", server_cfg);
	pgr_kv_setf(pp, "pause", "%d", o->pause ? 1 : 0);
	/* The counts recorded before the incident: the base backup's manifest. */
	struct strbuf counts = STRBUF_INIT;
	for (size_t i = 0; i < b->manifest.n_tables; i++)
		sb_printf(&counts, "%s.%s\t%" PRId64 "\n", b->manifest.tables[i].schema, b->manifest.tables[i].table,
		          b->manifest.tables[i].rows);
	pgr_kv_set(pp, "counts_backup", sb_str(&counts));
	sb_free(&counts);

	struct strbuf block = STRBUF_INIT;
	sb_printf(&block, "%s (run %%RUN%%): removed when archiving is restored\n", BLOCK_BEGIN);
	sb_printf(&block, "restore_command = %s\n", rcmd);
	sb_append(&block, settings);
	if (settings[0] && settings[strlen(settings) - 1] != '\n')
		sb_append(&block, "\n");
	sb_printf(&block, "recovery_target_timeline = '%u'\n", w.timeline);
	sb_append(&block, "recovery_target_action = 'pause'\n");
	sb_append(&block, "archive_mode = 'off'\n");
	sb_printf(&block, "%s\n", BLOCK_END);
	pgr_kv_set(pp, "recovery_block", sb_str(&block));

	int rn = o->replicas_now;
	char rn_text[32];
	if (rn >= 0)
		snprintf(rn_text, sizeof rn_text, "%d", rn);
	else
		snprintf(rn_text, sizeof rn_text, "the recorded count");
	pgr_kv_setf(pp, "confirm",
	            "stop the database server of %s, move its data directory %s aside to %s (kept, never "
	            "deleted), restore base backup %s and replay WAL to %s, then promote it; the app goes "
	            "%s -> 0 -> %s replicas",
	            env->name, env->data_dir, aside, b->label, target, rn >= 0 ? rn_text : "its count", rn_text);

	struct strbuf notes = STRBUF_INIT;
	sb_printf(&notes, "Target: %s\n", target);
	if (o->target.kind == PGR_TARGET_TIME) {
		char *echo = pgr_target_time_echo(&o->target, o->db_zone);
		sb_append(&notes, echo);
		if (echo[0] && echo[strlen(echo) - 1] != '\n')
			sb_append(&notes, "\n");
		free(echo);
	}
	sb_printf(&notes, "Window (timeline %u): %s .. %s\n", w.timeline, from, to);
	sb_printf(&notes, "Base backup: %s, ended %s%s\n", b->label, stop_t,
	          o->base ? " (chosen with --backup)" : " (the newest that ends before the target)");
	sb_printf(&notes, "The current data directory is kept at %s until you remove it.\n", aside);
	if (server_cfg)
		sb_printf(&notes,
		          "restore_command reads the store's options from %s and its credentials from %s as %s; "
		          "no secret goes into postgresql.auto.conf.\n",
		          server_cfg, env->store_credentials_file, pgr_walsetup_server_user(env));
	if (o->pause)
		sb_append(&notes,
		          "--pause: recovery stops at the target, read-only; `pgrescue runs resume` promotes.\n");
	p->notes = sb_steal(&notes);

	struct pgr_platform tmp = {.ops = &pgr_platform_local_ops, .env = env};
	char *stop_cmd = pgr_platform_local_ops.describe_db(&tmp, "stop");
	char *start_cmd = pgr_platform_local_ops.describe_db(&tmp, "start-nowait");
	char *down = pgr_platform_local_ops.describe_scale(&tmp, 0);
	char *up = rn >= 0 ? pgr_platform_local_ops.describe_scale(&tmp, rn)
	                   : xstrdup("scale the application back to the recorded count");
	char *s;

	s = xasprintf("check %s exists and is a data directory, %s is free, base backup %s (%s) and its first WAL "
	              "segment %s are in the store, restore_command's program runs; %s",
	              env->data_dir, aside, b->label, tarkey, b->manifest.start_wal ? b->manifest.start_wal : "?",
	              tf && pgr_is_sha256_hex(tf->sha256)
	                      ? "base.tar has the SHA-256 its manifest recorded (a remote store's copy is "
	                        "downloaded into the run's directory to check it, and extracted from there)"
	                      : "base.tar cannot be checked: its manifest records no SHA-256");
	if (server_cfg) {
		char *more = xasprintf(
		        "%s; store_credentials_file %s is 0600 and owned by %s; write the server's config "
		        "%s ([env %s]: the store's options, no secrets); %s lists the store with them: "
		        "runuser -u %s -- %s --config %s --env %s store-check",
		        s, env->store_credentials_file, pgr_walsetup_server_user(env), server_cfg, env->name,
		        pgr_walsetup_server_user(env), pgr_walsetup_server_user(env), exe, server_cfg, env->name);
		free(s);
		s = more;
	}
	pgr_plan_add_step(p, "preflight", "Check the data directory, the base backup and the archive", s, NULL, false);
	free(s);
	pgr_plan_add_step(p, "record-state", "Record the app's replicas and the tables' row counts now",
	                  "app replicas; SELECT count(*) of every table (if the server answers)", NULL, false);
	pgr_plan_add_step(p, "scale-down", "Scale the app to 0 replicas", down,
	                  "scale the app back to the recorded count", true);
	pgr_plan_add_step(p, "stop-db", "Stop the database server", stop_cmd, "start the server again", true);
	s = xasprintf("mv %s %s", env->data_dir, aside);
	char *u = xasprintf("mv %s %s (after stopping the server)", aside, env->data_dir);
	pgr_plan_add_step(p, "move-aside", "Move the data directory aside (kept, never deleted)", s, u, true);
	free(s);
	free(u);
	s = xasprintf("mkdir -m 700 %s; tar -xf - -C %s < %s  (as %s)", env->data_dir, env->data_dir, tarkey,
	              server_user(env));
	pgr_plan_add_step(p, "extract-base", "Extract the base backup", s, NULL, false);
	free(s);
	struct strbuf cfg = STRBUF_INIT;
	sb_printf(&cfg, "append to %s/postgresql.auto.conf:\n", env->data_dir);
	const char *bl = sb_str(&block);
	const char *run_at = strstr(bl, "%RUN%");
	if (run_at)
		sb_printf(&cfg, "%.*s<run id>%s", (int)(run_at - bl), bl, run_at + 5);
	else
		sb_append(&cfg, bl);
	sb_printf(&cfg, "touch %s/recovery.signal", env->data_dir);
	pgr_plan_add_step(p, "configure-recovery", "Write the recovery settings and recovery.signal", sb_str(&cfg),
	                  NULL, false);
	sb_free(&cfg);
	sb_free(&block);
	pgr_plan_add_step(p, "start-recovery", "Start the server in recovery", start_cmd, NULL, false);
	s = xasprintf("SELECT pg_last_wal_replay_lsn(), pg_last_xact_replay_timestamp(), "
	              "pg_get_wal_replay_pause_state()  (until paused at %s)",
	              target);
	pgr_plan_add_step(p, "replay", "Replay WAL to the target", s, NULL, false);
	free(s);
	struct pgr_step *pr = pgr_plan_add_step(
	        p, "promote", "Promote: end recovery on a new timeline",
	        "SELECT pg_promote(true, 60); then SELECT pg_is_in_recovery() until false", NULL, true);
	pr->gate = o->pause;
	s = xasprintf("SELECT count(*) of every table in %s, next to the counts of base backup %s", db, b->label);
	pgr_plan_add_step(p, "verify", "Verify tables and row counts", s, NULL, false);
	free(s);
	s = xasprintf("remove the recovery block from postgresql.auto.conf; mark the new timeline's WAL ready; "
	              "restart the server; SELECT pg_switch_wal(); wait for pg_stat_archiver");
	pgr_plan_add_step(p, "restore-archiving", "Restore WAL archiving on the new timeline", s, NULL, false);
	free(s);
	pgr_plan_add_step(p, "scale-up", "Scale the app back to the recorded count", up, NULL, false);

	free(stop_cmd);
	free(start_cmd);
	free(down);
	free(up);
	free(target);
	free(settings);
	free(db);
	free(aside);
	free(rcmd);
	free(server_cfg);
	free(tarkey);
	pgr_window_free(&w);
	return true;
}

/* ------------------------------------------------------------ preflight */

static bool check_data_dir(const char *dir, struct pgr_error *err)
{
	char *pv = xasprintf("%s/PG_VERSION", dir);
	bool ok = pgr_path_exists(pv);
	free(pv);
	if (!ok) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not a PostgreSQL data directory (no PG_VERSION)", dir);
		pgr_error_hint(err, "Check data_dir in the environment's [env] section.");
	}
	return ok;
}

static bool preflight_checks(const struct pgr_plan *p, struct pgr_store *st, bool data_dir_moved, struct pgr_error *err)
{
	const char *data = pgr_kv_get(&p->params, "data_dir");
	const char *aside = pgr_kv_get(&p->params, "aside");
	if (!data_dir_moved) {
		if (!check_data_dir(data, err))
			return false;
		if (pgr_path_exists(aside)) {
			pgr_error_set(err, PGR_ERR_CONFLICT,
			              "the directory to move the data directory aside to, \"%s\", "
			              "already exists",
			              aside);
			pgr_error_hint(err,
			               "Nothing was changed. Move or remove it, or wait a second and plan again "
			               "(the name carries the time).");
			return false;
		}
	}
	struct pgr_object obj;
	const char *tar = pgr_kv_get(&p->params, "base_tar");
	if (!pgr_store_stat(st, tar, &obj, err)) {
		pgr_error_prefix(err, "base backup %s", pgr_kv_get(&p->params, "base"));
		return false;
	}
	free(obj.key);
	const char *first = pgr_kv_get(&p->params, "base_start_wal");
	if (first && *first) {
		char *key = xasprintf("%s%s", PGR_PREFIX_WAL, first);
		bool ok = pgr_store_stat(st, key, &obj, err);
		free(key);
		if (!ok) {
			pgr_error_set(err, PGR_ERR_NOTFOUND,
			              "WAL segment %s, the first one base backup %s needs, is not in the archive",
			              first, pgr_kv_get(&p->params, "base"));
			pgr_error_hint(err,
			               "Without it the base backup cannot be made consistent; pick another one with "
			               "--backup.");
			return false;
		}
		free(obj.key);
	}
	/* The data directory's file system must hold the extracted backup. */
	uint64_t free_bytes = 0, need = strtoull(pgr_kv_get(&p->params, "base_size"), NULL, 10);
	char *parent = xstrdup(data);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	if (pgr_fs_free_bytes(parent, &free_bytes) && free_bytes < need + need / 10) {
		char a[32], b[32];
		pgr_size_format(need, a, sizeof a);
		pgr_size_format(free_bytes, b, sizeof b);
		pgr_error_set(err, PGR_ERR_IO, "not enough space next to %s: the base backup needs %s, %s is free",
		              data, a, b);
		pgr_error_hint(err, "The old data directory is kept, so both must fit. Free space first.");
		free(parent);
		return false;
	}
	free(parent);
	const char *exe = pgr_kv_get(&p->params, "exe");
	if (exe && access(exe, X_OK) != 0) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "restore_command's program \"%s\" is not executable", exe);
		return false;
	}
	/* restore_command runs as the server's user, who may not reach it. */
	if (exe && !pgr_walsetup_check_exe(&p->env, exe, err))
		return false;
	/* A cloud store: the credentials file restore_command will read. */
	if (pgr_walsetup_cloud(&p->env) && !pgr_walsetup_check_credentials(&p->env, err))
		return false;
	return true;
}

/* The runner's part: write the server's config, then let the server's user
 * list the store with it, so that restore_command cannot fail for want of
 * credentials after the data directory has been moved aside. */
static bool preflight_server_side(struct pgr_run *r, struct pgr_error *err)
{
	const struct pgr_env *env = env_of(r);
	if (!pgr_kv_get(&pgr_run_plan(r)->params, "server_config"))
		return true;
	if (!pgr_walsetup_write_config(env, err) || !pgr_walsetup_check_as_server(env, param(r, "exe"), err))
		return false;
	pgr_run_report(r, "%s lists %s with %s (through %s)", pgr_walsetup_server_user(env), env->store,
	               env->store_credentials_file, param(r, "server_config"));
	return true;
}

bool pgr_pitr_preflight(const struct pgr_plan *p, struct pgr_error *err)
{
	struct pgr_store *st = pgr_store_open_env(&p->env, err);
	if (!st)
		return false;
	bool ok = preflight_checks(p, st, false, err);
	pgr_store_close(st);
	return ok;
}

/* Where extract-base reads base.tar: the store's own file, or the copy
 * downloaded into the run's directory. Newly allocated. */
static char *base_local(struct pgr_run *r, struct pgr_store *st, bool *remote)
{
	char *local = pgr_store_local_path(st, param(r, "base_tar"));
	*remote = local == NULL;
	return local ? local : xasprintf("%s/%s", pgr_run_dir(r), STAGED_BASE);
}

/* base.tar against the SHA-256 its manifest recorded, from preflight, before
 * the app is scaled down or the server stopped: a damaged base backup is
 * found while nothing has changed. A remote store's copy is downloaded into
 * the run's directory (once: a copy of the right size from an earlier
 * attempt is whole, downloads land atomically) and extract-base reads it
 * there; extract-base (EXTRACTING) only fetches and checks again what is no
 * longer there. */
static bool stage_base(struct pgr_run *r, struct pgr_store *st, bool moved, bool extracting, struct pgr_error *err)
{
	const char *want = param(r, "base_tar_sha256");
	const char *key = param(r, "base_tar");
	bool remote = false;
	char *local = base_local(r, st, &remote);
	if (!*want) {
		bool ok = true;
		if (!extracting)
			pgr_run_log(r,
			            "base backup %s: its manifest records no SHA-256 for base.tar; it is not checked",
			            param(r, "base"));
		else if (remote) {
			struct pgr_run_download d = {r, key, strtoull(param(r, "base_size"), NULL, 10), 0.0};
			ok = pgr_store_get(st, key, local, pgr_run_download_progress, &d, err);
		}
		free(local);
		return ok;
	}
	uint64_t bytes = strtoull(param(r, "base_tar_bytes"), NULL, 10);
	bool ok = true;
	struct stat sb;
	bool there = !remote || (stat(local, &sb) == 0 && (uint64_t)sb.st_size == bytes);
	if (extracting && there && pgr_run_fact(r, "base_checked")) {
		free(local); /* checked by preflight */
		return true;
	}
	if (remote) {
		if (there) {
			pgr_run_log(r, "using %s downloaded earlier: %s", key, local);
		} else {
			pgr_run_log(r, "downloading %s to %s to check it before anything changes", key, local);
			struct pgr_run_download d = {r, key, bytes, 0.9};
			ok = pgr_store_get(st, key, local, pgr_run_download_progress, &d, err);
			if (!ok)
				pgr_error_prefix(err, "cannot download base backup %s", param(r, "base"));
		}
	}
	struct pgr_manifest_file f = {.name = (char *)key, .size = bytes};
	snprintf(f.sha256, sizeof f.sha256, "%s", want);
	char got[65];
	if (ok) {
		pgr_run_progress(r, remote ? 0.9 : 0.0, true, "checking %s against its manifest's SHA-256", key);
		ok = pgr_manifest_file_check(&f, local, "base backup", param(r, "base_manifest"), got, err);
		if (!ok && err && err->kind == PGR_ERR_STORE) {
			if (moved)
				pgr_error_hint(
				        err,
				        "The data directory stays aside at %s. The copy in the store changed after "
				        "the backup was taken, or the download was damaged: resume to download it "
				        "again, or cancel the run and move the data directory back.",
				        param(r, "aside"));
			else
				pgr_error_hint(
				        err,
				        "Nothing was changed: the app and the server run as before. The copy in the "
				        "store changed after the backup was taken, or the download was damaged: "
				        "resume to download it again, or plan with another base backup (--backup).");
			if (remote)
				unlink(local);
		}
	}
	if (ok) {
		pgr_run_report(r, "base.tar of %s matches the SHA-256 its manifest recorded (%s)", param(r, "base"),
		               got);
		ok = pgr_run_set_fact(r, "base_checked", got, err);
	}
	free(local);
	return ok;
}

static bool preflight_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_store *st = pgr_run_store(r, err);
	/* On a resumed run the directory may already be aside (a later step failed). */
	bool moved = pgr_run_fact(r, "moved") != NULL;
	return st && preflight_checks(pgr_run_plan(r), st, moved, err) && preflight_server_side(r, err) &&
	        stage_base(r, st, moved, false, err);
}

/* ------------------------------------------------------------ state, app */

static bool record_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	int n = 0;
	if (!pf->ops->app_replicas(pf, &n, err))
		return false;
	char buf[16];
	snprintf(buf, sizeof buf, "%d", n);
	if (!pgr_run_set_fact(r, "replicas", buf, err))
		return false;
	pgr_run_report(r, "app replicas: %d", n);
	struct pgr_error cerr = {0};
	PGconn *c = connect_to(env_of(r), param(r, "database"), 5, &cerr);
	if (!c) {
		pgr_run_report(r, "row counts now: not available (%s)", cerr.msg);
		return true;
	}
	struct strbuf counts = STRBUF_INIT;
	if (count_tables(c, &counts, &cerr))
		pgr_run_set_fact(r, "counts_now", sb_str(&counts), NULL);
	else
		pgr_run_report(r, "row counts now: not available (%s)", cerr.msg);
	sb_free(&counts);
	PQfinish(c);
	return true;
}

static bool record_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	*done = pgr_run_fact(r, "replicas") != NULL;
	return true;
}

static int recorded_replicas(struct pgr_run *r)
{
	const char *v = pgr_run_fact(r, "replicas");
	return v ? atoi(v) : -1;
}

static bool scale_done(struct pgr_run *r, int want, bool *done, struct pgr_error *err)
{
	struct pgr_platform *pf = pgr_run_platform(r, err);
	int n = -1;
	if (!pf || !pf->ops->app_replicas(pf, &n, err))
		return false;
	*done = n == want;
	return true;
}

static bool scale_down_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	return scale_done(r, 0, done, err);
}

static bool scale_down_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_platform *pf = pgr_run_platform(r, err);
	return pf && pf->ops->app_scale(pf, 0, err);
}

static bool scale_up_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	int want = recorded_replicas(r);
	if (want < 0)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "the app's replica count was not recorded");
	return scale_done(r, want, done, err);
}

static bool scale_up_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	int want = recorded_replicas(r);
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf || want < 0 || !pf->ops->app_scale(pf, want, err))
		return false;
	pgr_run_report(r, "app replicas: %d, as recorded before the recovery", want);
	pgr_run_report(r,
	               "Take a new base backup soon (`pgrescue backup`): the window on the new timeline starts "
	               "with it.");
	pgr_run_report(r, "The old data directory is kept at %s; remove it when you no longer need it.",
	               param(r, "aside"));
	return true;
}

/* ------------------------------------------------------------ server, files */

static bool stop_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	if (pgr_run_fact(r, "moved")) {
		*done = true;
		return true;
	}
	bool running = true;
	if (!db_running(r, &running, err))
		return false;
	*done = !running;
	return true;
}

static bool stop_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_platform *pf = pgr_run_platform(r, err);
	return pf && pf->ops->db_stop(pf, err);
}

static bool aside_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	char *pv = xasprintf("%s/PG_VERSION", param(r, "aside"));
	*done = pgr_path_exists(pv);
	free(pv);
	return true;
}

static bool aside_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	const char *data = param(r, "data_dir"), *aside = param(r, "aside");
	if (pgr_path_exists(aside))
		return pgr_error_set(err, PGR_ERR_CONFLICT,
		                     "\"%s\" already exists: will not move the data directory there", aside);
	if (rename(data, aside) != 0)
		return pgr_error_errno(err, errno, "cannot move \"%s\" to \"%s\"", data, aside);
	pgr_fsync_parent(aside, NULL);
	pgr_run_report(r, "the data directory is now %s", aside);
	return pgr_run_set_fact(r, "moved", aside, err);
}

static bool extract_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	const char *data = param(r, "data_dir");
	char *mark = xasprintf("%s/%s", data, EXTRACT_MARK);
	char *pv = xasprintf("%s/PG_VERSION", data);
	*done = pgr_run_fact(r, "extracted") && pgr_path_exists(pv) && !pgr_path_exists(mark);
	free(mark);
	free(pv);
	return true;
}

/* Read position of the child's stdin: how far tar has read the archive. */
static uint64_t child_stdin_pos(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/0", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[128];
	uint64_t pos = 0;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "pos:", 4)) {
			pos = strtoull(line + 4, NULL, 10);
			break;
		}
	fclose(f);
	return pos;
}

static bool extract_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	const struct pgr_env *env = env_of(r);
	const char *data = param(r, "data_dir");
	char *mark = xasprintf("%s/%s", data, EXTRACT_MARK);
	bool ok = true;
	if (pgr_path_exists(data)) {
		/* Ours from an interrupted attempt (the marker says so), or someone else's. */
		if (pgr_path_exists(mark)) {
			pgr_run_log(r, "removing the partial extraction in %s from an interrupted attempt", data);
			ok = pgr_rm_rf(data, err);
		} else {
			ok = pgr_error_set(
			        err, PGR_ERR_CONFLICT,
			        "\"%s\" is occupied: something was put there after the data directory was moved "
			        "aside",
			        data);
			pgr_error_hint(err, "Nothing in it was touched. Move it away, then `pgrescue runs resume`.");
		}
	}
	if (ok && mkdir(data, 0700) != 0)
		ok = pgr_error_errno(err, errno, "cannot create \"%s\"", data);
	if (ok)
		ok = give_to_server(env, data, err);
	if (ok) {
		int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
		ok = fd >= 0 || pgr_error_errno(err, errno, "cannot write in \"%s\"", data);
	}
	struct pgr_store *st = ok ? pgr_run_store(r, err) : NULL;
	char *local = NULL, *fetched = NULL;
	if (st) {
		bool remote = false;
		local = base_local(r, st, &remote);
		if (remote)
			fetched = xstrdup(local);
		ok = stage_base(r, st, true, true, err);
	} else {
		ok = false;
	}
	int in = -1;
	if (ok && (in = open(local, O_RDONLY | O_CLOEXEC)) < 0)
		ok = pgr_error_errno(err, errno, "cannot read \"%s\"", local);
	if (ok) {
		struct stat sb;
		uint64_t total = fstat(in, &sb) == 0 ? (uint64_t)sb.st_size : 0;
		const char *argv[] = {"tar", "-xf", "-", "-C", data, NULL};
		struct pgr_proc_spec spec = {.argv = argv,
		                             .run_as = server_user(env),
		                             .cwd = "/",
		                             .stdin_fd = in,
		                             .out = PGR_IO_FD,
		                             .out_fd = pgr_run_log_fd(r),
		                             .err = PGR_IO_PIPE};
		struct pgr_proc proc;
		ok = pgr_proc_start(&spec, &proc, err);
		if (ok) {
			/* Progress while tar reads: poll its stdin position, then collect it. */
			pid_t pid = proc.pid;
			struct pgr_proc_result res = {0};
			sb_init(&res.out);
			sb_init(&res.err);
			for (;;) {
				uint64_t pos = child_stdin_pos(pid);
				char a[32], b[32];
				pgr_size_format(pos, a, sizeof a);
				pgr_size_format(total, b, sizeof b);
				pgr_run_progress(r, total ? (double)pos / (double)total : -1, false,
				                 "extracting: %s of %s", a, b);
				if (kill(pid, 0) != 0 || pos >= total)
					break;
				usleep(20 * 1000);
				char st_path[64];
				snprintf(st_path, sizeof st_path, "/proc/%d/stat", (int)pid);
				char *stat_text = NULL;
				if (pgr_read_file(st_path, &stat_text, NULL, NULL)) {
					char *rp = strrchr(stat_text, ')');
					bool zombie = rp && rp[1] == ' ' && rp[2] == 'Z';
					free(stat_text);
					if (zombie)
						break;
				} else {
					break;
				}
			}
			ok = pgr_proc_finish(&proc, 0, &res, err) && pgr_proc_ok(&res, "tar -xf (base backup)", err);
			pgr_proc_result_free(&res);
		}
		close(in);
	}
	if (fetched) {
		unlink(fetched);
		free(fetched);
	}
	free(local);
	if (ok) {
		/* pg_wal travels empty with -X none; make sure its layout is there. */
		char *wal = xasprintf("%s/pg_wal/archive_status", data);
		if (!pgr_is_dir(wal)) {
			char *w0 = xasprintf("%s/pg_wal", data);
			mkdir(w0, 0700);
			give_to_server(env, w0, NULL);
			free(w0);
			mkdir(wal, 0700);
			give_to_server(env, wal, NULL);
		}
		free(wal);
		char *pv = xasprintf("%s/PG_VERSION", data);
		if (!pgr_path_exists(pv))
			ok = pgr_error_set(err, PGR_ERR_TOOL,
			                   "base backup %s did not give a data directory (no PG_VERSION)",
			                   param(r, "base"));
		free(pv);
	}
	if (ok && unlink(mark) != 0)
		ok = pgr_error_errno(err, errno, "cannot remove \"%s\"", mark);
	free(mark);
	if (ok) {
		pgr_run_report(r, "base backup %s extracted into %s", param(r, "base"), data);
		ok = pgr_run_set_fact(r, "extracted", param(r, "base"), err);
	}
	return ok;
}

static char *auto_conf_path(struct pgr_run *r)
{
	return xasprintf("%s/postgresql.auto.conf", param(r, "data_dir"));
}

static char *block_for_run(struct pgr_run *r)
{
	const char *tmpl = param(r, "recovery_block");
	const char *at = strstr(tmpl, "%RUN%");
	if (!at)
		return xstrdup(tmpl);
	return xasprintf("%.*s%s%s", (int)(at - tmpl), tmpl, pgr_run_plan(r)->run_id, at + 5);
}

/* The text without our block (between the markers), newly allocated. */
static char *without_block(const char *text)
{
	const char *b = strstr(text, BLOCK_BEGIN);
	if (!b)
		return xstrdup(text);
	const char *e = strstr(b, BLOCK_END);
	if (!e)
		return xstrndup(text, (size_t)(b - text));
	e += strlen(BLOCK_END);
	if (*e == '\n')
		e++;
	return xasprintf("%.*s%s", (int)(b - text), text, e);
}

static bool write_server_file(struct pgr_run *r, const char *path, const char *text, struct pgr_error *err)
{
	return pgr_write_file_atomic(path, text, strlen(text), 0600, err) && give_to_server(env_of(r), path, err);
}

static bool configure_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	char *conf = auto_conf_path(r);
	char *sig = xasprintf("%s/recovery.signal", param(r, "data_dir"));
	char *text = NULL;
	*done = false;
	if (pgr_read_file(conf, &text, NULL, NULL) && pgr_path_exists(sig)) {
		/* The block must be this plan's as it is now: a retarget changes it. */
		char *want = block_for_run(r);
		const char *at = strstr(text, BLOCK_BEGIN);
		*done = at && !strncmp(at, want, strlen(want));
		free(want);
	}
	free(text);
	free(conf);
	free(sig);
	return true;
}

static bool configure_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	const char *data = param(r, "data_dir");
	char *conf = auto_conf_path(r);
	char *old = NULL;
	if (!pgr_read_file(conf, &old, NULL, NULL))
		old = xstrdup(
		        "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n");
	char *base = without_block(old);
	char *block = block_for_run(r);
	char *text = xasprintf("%s%s%s", base, base[0] && base[strlen(base) - 1] != '\n' ? "\n" : "", block);
	bool ok = write_server_file(r, conf, text, err);
	free(text);
	free(block);
	free(base);
	free(old);
	free(conf);
	/* PostgreSQL 12+: a signal file, never recovery.conf; no standby.signal. */
	char *standby = xasprintf("%s/standby.signal", data);
	unlink(standby);
	free(standby);
	char *rc = xasprintf("%s/recovery.conf", data);
	if (ok && pgr_path_exists(rc))
		ok = pgr_error_set(err, PGR_ERR_CONFLICT,
		                   "the base backup holds a recovery.conf, which PostgreSQL 12 and "
		                   "later refuse to start with");
	free(rc);
	char *sig = xasprintf("%s/recovery.signal", data);
	if (ok)
		ok = write_server_file(r, sig, "", err);
	free(sig);
	if (ok)
		pgr_run_report(r,
		               "recovery settings in postgresql.auto.conf; recovery.signal created; archive_mode off");
	return ok;
}

static long file_size(const char *path)
{
	struct stat sb;
	return path && stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

static char *log_path(struct pgr_run *r)
{
	struct pgr_platform *pf = pgr_run_platform(r, NULL);
	return pf && pf->ops->db_log_path ? pf->ops->db_log_path(pf) : NULL;
}

static bool start_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	bool running = false;
	if (!db_running(r, &running, err))
		return false;
	/* Started by this run for the target the plan has now (a retarget moves it). */
	const char *started_for = pgr_run_fact(r, "recovery_started_for");
	*done = running && pgr_run_fact(r, "log_offset") && started_for && !strcmp(started_for, param(r, "target"));
	return true;
}

static bool start_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	bool running = false;
	if (!pf->ops->db_running(pf, &running, err))
		return false;
	if (running && pgr_run_fact(r, "log_offset")) {
		/* This run started it, for another target (retargeted): it is in
		 * recovery, paused, read-only. A fast stop writes a restartpoint;
		 * replay continues from there with the new settings, nothing is
		 * extracted again. */
		const char *was = pgr_run_fact(r, "recovery_started_for");
		pgr_run_progress(r, -1, true, "stopping the server paused at %s", was ? was : "the old target");
		if (!pf->ops->db_stop(pf, err)) {
			pgr_error_prefix(err, "stopping the server in recovery to restart it for %s",
			                 param(r, "target"));
			return false;
		}
		pgr_run_report(r, "server in recovery stopped (it was paused at %s)", was ? was : "the old target");
	}
	char *logp = log_path(r);
	char off[32];
	snprintf(off, sizeof off, "%ld", file_size(logp));
	free(logp);
	if (!pgr_run_set_fact(r, "log_offset", off, err) ||
	    !pgr_run_set_fact(r, "recovery_started_for", param(r, "target"), err))
		return false;
	if (!pf->ops->db_start_nowait)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "platform %s cannot start a server in recovery",
		                     pf->ops->name);
	return pf->ops->db_start_nowait(pf, err);
}

/* ------------------------------------------------------------ replay */

struct replay_state {
	bool in_recovery;
	uint64_t lsn;
	double ts; /* epoch of the last replayed transaction, 0 if none */
	char pause[32];
};

static bool query_replay(PGconn *c, struct replay_state *st, struct pgr_error *err)
{
	PGresult *res = NULL;
	if (!pgr_pg_exec(c,
	                 "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), "
	                 "extract(epoch FROM pg_last_xact_replay_timestamp()), "
	                 "CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() ELSE 'not paused' END",
	                 &res, err))
		return false;
	st->in_recovery = !strcmp(PQgetvalue(res, 0, 0), "t");
	st->lsn = 0;
	if (!PQgetisnull(res, 0, 1))
		pgr_lsn_parse(PQgetvalue(res, 0, 1), &st->lsn);
	st->ts = PQgetisnull(res, 0, 2) ? 0 : atof(PQgetvalue(res, 0, 2));
	snprintf(st->pause, sizeof st->pause, "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	return true;
}

static bool replay_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	*done = false;
	struct pgr_error cerr = {0};
	PGconn *c = connect_to(env_of(r), "postgres", 3, &cerr);
	if (!c)
		return true;
	struct replay_state st;
	char *logp = log_path(r);
	char *log = read_log_since(logp, atol(pgr_run_fact(r, "log_offset") ? pgr_run_fact(r, "log_offset") : "0"));
	if (query_replay(c, &st, &cerr))
		*done = !st.in_recovery ||
		        (!strcmp(st.pause, "paused") && strstr(log, "pausing at the end of recovery") != NULL);
	free(log);
	free(logp);
	PQfinish(c);
	return true;
}

static bool explain_stopped_server(struct pgr_run *r, const char *log, struct pgr_error *err)
{
	char *tail = tail_of(log, 1500);
	if (strstr(log, "recovery ended before configured recovery target was reached")) {
		pgr_error_set(err, PGR_ERR_NOTFOUND,
		              "recovery ended before the target was reached: the archived WAL ends before %s",
		              param(r, "target"));
		pgr_error_detail(err, "%s", tail);
		pgr_error_hint(err,
		               "The target lies after the last archived WAL (archiving lagging, or a time in the "
		               "future?). The production data directory is untouched at %s. Plan again with a target "
		               "inside the window (`pgrescue status`).",
		               param(r, "aside"));
	} else if (strstr(log, "could not locate required checkpoint record") || strstr(log, "pgrescue: ERROR")) {
		const char *why = strstr(log, "pgrescue: ERROR");
		const char *eol = why ? strchr(why, '\n') : NULL;
		pgr_error_set(err, PGR_ERR_TOOL, "the server could not fetch WAL through restore_command%s%.*s",
		              why ? ": " : "", why ? (int)(eol ? eol - why : (long)strlen(why)) : 0, why ? why : "");
		pgr_error_detail(err, "%s", tail);
		pgr_error_hint(err,
		               "restore_command runs `%s wal-fetch` as the server's user: it must be able to run it "
		               "and read the store. The production data directory is untouched at %s.",
		               param(r, "exe"), param(r, "aside"));
	} else if (strstr(log, "recovery_target_name") || strstr(log, "restore point")) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "the server stopped during recovery to %s", param(r, "target"));
		pgr_error_detail(err, "%s", tail);
		pgr_error_hint(err, "Is the restore point's name right? It must exist in the WAL after base backup %s.",
		               param(r, "base"));
	} else {
		pgr_error_set(err, PGR_ERR_TOOL, "the server stopped during recovery");
		pgr_error_detail(err, "%s", tail);
		pgr_error_hint(err, "Its log has the reason. The production data directory is untouched at %s.",
		               param(r, "aside"));
	}
	free(tail);
	return false;
}

static bool replay_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	char *logp = log_path(r);
	long offset = atol(pgr_run_fact(r, "log_offset") ? pgr_run_fact(r, "log_offset") : "0");
	int kind = atoi(param(r, "target_kind"));
	double target_t = atof(param(r, "target_time"));
	double base_t = atof(param(r, "base_stop_time"));
	uint64_t target_lsn = strtoull(param(r, "target_lsn"), NULL, 10);
	uint64_t base_lsn = strtoull(param(r, "base_start_lsn"), NULL, 10);
	PGconn *c = NULL;
	double t0 = pgr_monotonic(), last_check = 0, down_since = 0;
	double rate_t0 = 0, rate_f0 = 0;
	bool ok = false, finished = false;
	while (!finished) {
		if (pgr_run_cancelled(r)) {
			pgr_error_set(err, PGR_ERR_TOOL, "cancelled while replaying");
			pgr_error_hint(err,
			               "The server is still in recovery; `pgrescue runs resume` follows it again.");
			break;
		}
		double now = pgr_monotonic();
		if (!c && now - last_check >= 1.0) {
			last_check = now;
			bool running = true;
			struct pgr_error rerr = {0};
			if (db_running(r, &running, &rerr) && !running) {
				/* Just after `pg_ctl -W start` there may be no postmaster.pid yet:
				 * stopped means the log says so, or no server for a while. */
				char *log = read_log_since(logp, offset);
				bool down = strstr(log, "database system is shut down") ||
				        strstr(log, "shutting down due to startup process failure");
				if (!down_since)
					down_since = now;
				if (down || now - down_since > 15) {
					explain_stopped_server(r, log, err);
					free(log);
					break;
				}
				free(log);
				usleep(300 * 1000);
				continue;
			}
			down_since = 0;
			c = connect_to(env_of(r), "postgres", 3, &rerr);
			if (!c) {
				pgr_run_progress(r, -1, false,
				                 "replaying WAL from base backup %s: not yet consistent (%.0f s)",
				                 param(r, "base"), now - t0);
				usleep(300 * 1000);
				continue;
			}
		}
		if (!c) {
			usleep(200 * 1000);
			continue;
		}
		struct replay_state st;
		struct pgr_error qerr = {0};
		if (!query_replay(c, &st, &qerr)) {
			PQfinish(c);
			c = NULL;
			continue;
		}
		char lsn[32], when[40] = "-";
		pgr_lsn_format(st.lsn, lsn, sizeof lsn);
		if (st.ts > 0)
			pgr_time_format_utc((time_t)st.ts, when, sizeof when);
		if (!st.in_recovery) {
			pgr_run_report(r, "the server left recovery by itself at %s", lsn);
			pgr_run_set_fact(r, "promoted", "1", NULL);
			ok = finished = true;
			break;
		}
		if (!strcmp(st.pause, "paused") || !strcmp(st.pause, "pause requested")) {
			char *log = read_log_since(logp, offset);
			bool at_end = strstr(log, "pausing at the end of recovery") != NULL;
			if (at_end) {
				const char *stop = strstr(log, "recovery stopping");
				if (stop) {
					const char *eol = strchr(stop, '\n');
					pgr_run_report(r, "%.*s", (int)(eol ? eol - stop : (long)strlen(stop)), stop);
				}
				pgr_run_report(r, "replay paused at the target: LSN %s, last transaction %s", lsn,
				               when);
				pgr_run_set_fact(r, "stop_lsn", lsn, NULL);
				char ts[32];
				snprintf(ts, sizeof ts, "%.6f", st.ts);
				pgr_run_set_fact(r, "stop_xact_time", ts, NULL);
				pgr_run_set_fact(r, "stopped_for", param(r, "target"), NULL);
				ok = finished = true;
			} else if (!strcmp(st.pause, "paused")) {
				pgr_error_set(err, PGR_ERR_TOOL, "recovery is paused at %s (%s), before the target %s",
				              lsn, when, param(r, "target"));
				pgr_error_hint(
				        err,
				        "Someone paused replay (SELECT pg_wal_replay_pause()). Resume it with SELECT "
				        "pg_wal_replay_resume(); then `pgrescue runs resume %s`.",
				        pgr_run_plan(r)->run_id);
				finished = true;
			}
			free(log);
			if (finished)
				break;
		}
		/* Progress: by time for a time target, by LSN for an LSN target. */
		double frac = -1;
		if (kind == PGR_TARGET_TIME && target_t > base_t && st.ts > 0)
			frac = (st.ts - base_t) / (target_t - base_t);
		else if (kind == PGR_TARGET_LSN && target_lsn > base_lsn && st.lsn > base_lsn)
			frac = (double)(st.lsn - base_lsn) / (double)(target_lsn - base_lsn);
		if (frac > 1)
			frac = 1;
		char eta[48] = "";
		if (frac > 0) {
			if (rate_t0 == 0) {
				rate_t0 = now;
				rate_f0 = frac;
			} else if (frac > rate_f0 && now - rate_t0 > 1) {
				double left = (1 - frac) * (now - rate_t0) / (frac - rate_f0);
				snprintf(eta, sizeof eta, ", about %.0f s left", left + 0.5);
			}
		}
		pgr_run_progress(r, frac, false, "replayed to %s, last transaction %s%s%s", lsn, when,
		                 frac >= 0 ? "" : " (no estimate for this kind of target)", eta);
		usleep(250 * 1000);
	}
	if (c)
		PQfinish(c);
	free(logp);
	return ok;
}

/* ------------------------------------------------------------ promote */

static bool promote_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	PGconn *c = connect_to(env_of(r), "postgres", 5, err);
	if (!c)
		return false;
	char *v = NULL;
	bool ok = pgr_pg_value(c, "SELECT pg_is_in_recovery()", &v, err);
	*done = ok && v && !strcmp(v, "f");
	free(v);
	PQfinish(c);
	return ok;
}

static bool promote_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	PGconn *c = connect_to(env_of(r), "postgres", 5, err);
	if (!c)
		return false;
	char *v = NULL;
	bool ok = pgr_pg_value(c, "SELECT pg_promote(true, 60)", &v, err);
	free(v);
	v = NULL;
	/* pg_promote's answer is not the end of it: wait until the server says so. */
	double t0 = pgr_monotonic();
	bool promoted = false;
	while (ok && pgr_monotonic() - t0 < PROMOTE_WAIT_SEC) {
		if (!pgr_pg_value(c, "SELECT pg_is_in_recovery()", &v, err)) {
			ok = false;
			break;
		}
		promoted = v && !strcmp(v, "f");
		free(v);
		v = NULL;
		if (promoted)
			break;
		pgr_run_progress(r, -1, false, "waiting for pg_is_in_recovery() to turn false (%.0f s)",
		                 pgr_monotonic() - t0);
		usleep(200 * 1000);
	}
	if (ok && !promoted) {
		ok = pgr_error_set(err, PGR_ERR_TOOL, "the server is still in recovery %d s after pg_promote()",
		                   PROMOTE_WAIT_SEC);
		pgr_error_hint(err, "Check the server's log; `pgrescue runs resume` checks again.");
	}
	if (ok) {
		char *cur = NULL;
		if (pgr_pg_value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())", &cur, NULL) && cur &&
		    strlen(cur) == 24) {
			char hex[9];
			snprintf(hex, sizeof hex, "%.8s", cur);
			pgr_run_report(r, "promoted: the server writes again, on timeline %lu", strtoul(hex, NULL, 16));
		}
		free(cur);
	}
	PQfinish(c);
	return ok;
}

/* ------------------------------------------------------------ verify */

static bool verify_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	PGconn *c = connect_to(env_of(r), param(r, "database"), 10, err);
	if (!c)
		return false;
	struct strbuf now = STRBUF_INIT;
	bool ok = count_tables(c, &now, err);
	PQfinish(c);
	if (!ok) {
		sb_free(&now);
		return false;
	}
	const char *backup = param(r, "counts_backup");
	const char *before = pgr_run_fact(r, "counts_now");
	pgr_run_report(r, "%-28s %14s %16s %15s", "table", "backup", "before recovery", "after recovery");
	/* clips and users first, then the rest in name order. */
	const char *first[] = {"public.clips", "public.users"};
	struct strbuf missing = STRBUF_INIT;
	for (int pass = 0; pass < 2; pass++) {
		for (const char *p = sb_str(&now); *p;) {
			const char *tab = strchr(p, '\t');
			const char *nl = strchr(p, '\n');
			if (!tab || !nl)
				break;
			char *name = xstrndup(p, (size_t)(tab - p));
			bool is_first = !strcmp(name, first[0]) || !strcmp(name, first[1]);
			if ((pass == 0) == is_first) {
				int64_t after = strtoll(tab + 1, NULL, 10);
				int64_t b = pgr_pitr_count_of(backup, name),
				        n = before ? pgr_pitr_count_of(before, name) : -1;
				char bb[24] = "-", nb[24] = "-";
				if (b >= 0)
					snprintf(bb, sizeof bb, "%" PRId64, b);
				if (n >= 0)
					snprintf(nb, sizeof nb, "%" PRId64, n);
				else if (before)
					snprintf(nb, sizeof nb, "(missing)");
				pgr_run_report(r, "%-28s %14s %16s %15" PRId64, name, bb, nb, after);
			}
			free(name);
			p = nl + 1;
		}
	}
	/* Every table the backup knew must be back. */
	for (const char *p = backup; p && *p;) {
		const char *tab = strchr(p, '\t');
		const char *nl = strchr(p, '\n');
		if (!tab || !nl)
			break;
		char *name = xstrndup(p, (size_t)(tab - p));
		if (pgr_pitr_count_of(sb_str(&now), name) < 0)
			sb_printf(&missing, "%s%s", missing.len ? ", " : "", name);
		free(name);
		p = nl + 1;
	}
	if (missing.len) {
		ok = pgr_error_set(err, PGR_ERR_TOOL, "tables missing after recovery: %s", sb_str(&missing));
		pgr_error_hint(err,
		               "They existed in base backup %s. Was the target before they were dropped? The app "
		               "stays at 0 replicas; check, then plan again or resume.",
		               param(r, "base"));
	}
	sb_free(&missing);
	sb_free(&now);
	return ok;
}

/* ------------------------------------------------------------ archiving */

static bool archiving_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)s;
	(void)err;
	*done = false;
	char *conf = auto_conf_path(r);
	char *text = NULL;
	bool has_block = pgr_read_file(conf, &text, NULL, NULL) && strstr(text, BLOCK_BEGIN);
	free(text);
	free(conf);
	if (has_block)
		return true;
	struct pgr_error cerr = {0};
	PGconn *c = connect_to(env_of(r), "postgres", 5, &cerr);
	if (!c)
		return true;
	char *mode = NULL;
	if (pgr_pg_value(c, "SHOW archive_mode", &mode, &cerr) && mode && strcmp(mode, "off") != 0)
		*done = pgr_run_fact(r, "archived_history") != NULL;
	free(mode);
	PQfinish(c);
	return true;
}

/* Mark the new timeline's finished WAL files (and its history file) ready:
 * with archive_mode off at promotion the server made no .ready for them. */
static bool mark_ready(struct pgr_run *r, const char *tli_hex, const char *current_seg, struct pgr_error *err)
{
	const char *data = param(r, "data_dir");
	char *wal = xasprintf("%s/pg_wal", data);
	DIR *d = opendir(wal);
	if (!d) {
		pgr_error_errno(err, errno, "cannot read \"%s\"", wal);
		free(wal);
		return false;
	}
	struct dirent *de;
	int marked = 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		bool history = strlen(n) == 16 && !strcmp(n + 8, ".history") && !strncmp(n, tli_hex, 8);
		bool segment = strlen(n) == 24 && strspn(n, "0123456789ABCDEF") == 24 && !strncmp(n, tli_hex, 8) &&
		        strcmp(n, current_seg) < 0;
		if (!history && !segment)
			continue;
		char *done = xasprintf("%s/archive_status/%s.done", wal, n);
		char *ready = xasprintf("%s/archive_status/%s.ready", wal, n);
		if (!pgr_path_exists(done) && !pgr_path_exists(ready)) {
			int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
			if (fd >= 0) {
				close(fd);
				give_to_server(env_of(r), ready, NULL);
				marked++;
			}
		}
		free(done);
		free(ready);
	}
	closedir(d);
	free(wal);
	pgr_run_report(r, "%d WAL file%s of the new timeline marked for archiving", marked, marked == 1 ? "" : "s");
	return true;
}

static bool archiving_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	struct pgr_platform *pf = pgr_run_platform(r, err);
	if (!pf)
		return false;
	PGconn *c = connect_to(env_of(r), "postgres", 5, err);
	if (!c)
		return false;
	char *tl = NULL, *cur = NULL;
	/* The current WAL file names the new timeline at once; pg_control only after a checkpoint. */
	bool ok = pgr_pg_value(c, "SELECT pg_walfile_name(pg_current_wal_lsn())", &cur, err);
	PQfinish(c);
	c = NULL;
	char tli_hex[16] = "";
	if (ok && cur && strlen(cur) == 24) {
		snprintf(tli_hex, sizeof tli_hex, "%.8s", cur);
		tl = xasprintf("%lu", strtoul(tli_hex, NULL, 16));
		ok = mark_ready(r, tli_hex, cur, err);
	}
	free(cur);
	/* Remove the recovery block: archive_mode comes back with the restart. */
	char *conf = auto_conf_path(r);
	char *text = NULL;
	if (ok && pgr_read_file(conf, &text, NULL, err)) {
		char *rest = without_block(text);
		ok = write_server_file(r, conf, rest, err);
		free(rest);
	} else {
		ok = false;
	}
	free(text);
	free(conf);
	if (ok)
		ok = pf->ops->db_stop(pf, err) && pf->ops->db_start(pf, err);
	if (ok)
		c = connect_to(env_of(r), "postgres", 10, err);
	ok = ok && c;
	char *mode = NULL, *seg = NULL;
	if (ok && pgr_pg_value(c, "SHOW archive_mode", &mode, err) && mode && !strcmp(mode, "off"))
		ok = pgr_error_set(err, PGR_ERR_CONFIG, "archive_mode is still off after the restart");
	else if (ok && !mode)
		ok = false;
	if (ok)
		ok = pgr_pg_value(c, "SELECT pg_walfile_name(pg_switch_wal())", &seg, err);
	/* Wait until the archiver has the segment we just closed. */
	double t0 = pgr_monotonic();
	bool archived = false;
	while (ok && seg && pgr_monotonic() - t0 < ARCHIVE_WAIT_SEC) {
		char *last = NULL;
		if (!pgr_pg_value(c, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver", &last, err)) {
			ok = false;
			break;
		}
		archived = last && strlen(last) == 24 && strcmp(last, seg) >= 0;
		free(last);
		if (archived)
			break;
		pgr_run_progress(r, -1, false, "waiting for the archiver to archive %s (%.0f s)", seg,
		                 pgr_monotonic() - t0);
		usleep(250 * 1000);
	}
	if (ok && !archived) {
		char *failed = NULL;
		pgr_pg_value(c, "SELECT coalesce(last_failed_wal, '(none)') FROM pg_stat_archiver", &failed, NULL);
		ok = pgr_error_set(err, PGR_ERR_TOOL,
		                   "WAL archiving does not work on the new timeline: %s was not archived "
		                   "within %d s",
		                   seg, ARCHIVE_WAIT_SEC);
		pgr_error_hint(err, "Last failed WAL file: %s. Check archive_command and the server's log.",
		               failed ? failed : "?");
		free(failed);
	}
	if (ok && tli_hex[0]) {
		struct pgr_store *st = pgr_run_store(r, err);
		char *key = xasprintf("%s%s.history", PGR_PREFIX_WAL, tli_hex);
		struct pgr_object obj;
		if (st && pgr_store_stat(st, key, &obj, err)) {
			free(obj.key);
			pgr_run_report(r, "archiving works on timeline %d: %s archived, %s.history in the store",
			               atoi(tl), seg, tli_hex);
			ok = pgr_run_set_fact(r, "archived_history", key, err);
		} else {
			ok = false;
			pgr_error_prefix(err, "the new timeline's history file");
		}
		free(key);
	}
	free(seg);
	free(mode);
	free(tl);
	if (c)
		PQfinish(c);
	return ok;
}

/* ------------------------------------------------------------ retarget */

static void fmt_epoch(double t, char *buf, size_t n)
{
	if (t <= 0) {
		snprintf(buf, n, "none");
		return;
	}
	time_t secs = (time_t)t;
	int ms = (int)((t - (double)secs) * 1000 + 0.5);
	if (ms > 999)
		ms = 999;
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, n, "%s.%03d UTC", base, ms);
}

void pgr_pitr_stop_describe(const struct pgr_pitr_stop *st, char *buf, size_t n)
{
	char lsn[32] = "unknown", when[48];
	if (st->lsn)
		pgr_lsn_format(st->lsn, lsn, sizeof lsn);
	fmt_epoch(st->xact_time, when, sizeof when);
	const char *state = !st->live          ? " (as the run recorded it; the server does not answer)"
	        : !st->in_recovery             ? " (promoted)"
	        : !strcmp(st->pause, "paused") ? " (in recovery, paused)"
	                                       : " (in recovery, replaying)";
	snprintf(buf, n, "LSN %s, last transaction %s%s", lsn, when, state);
}

static bool is_pitr_run(const struct pgr_plan *p, struct pgr_error *err)
{
	if (p->kind && !strcmp(p->kind, "pitr"))
		return true;
	pgr_error_set(err, PGR_ERR_USAGE, "run %s is a %s run, not a point-in-time recovery",
	              p->run_id ? p->run_id : "?", p->kind ? p->kind : "?");
	pgr_error_hint(err, "`pgrescue runs` lists the runs; pick a pitr one.");
	return false;
}

bool pgr_pitr_read_stop(const struct pgr_plan *p, const struct pgr_kvlist *facts, struct pgr_pitr_stop *st,
                        struct pgr_error *err)
{
	memset(st, 0, sizeof *st);
	struct pgr_error cerr = {0};
	PGconn *c = connect_to(&p->env, "postgres", 3, &cerr);
	if (c) {
		struct replay_state rs;
		if (query_replay(c, &rs, &cerr)) {
			st->live = true;
			st->in_recovery = rs.in_recovery;
			st->lsn = rs.lsn;
			st->xact_time = rs.ts;
			snprintf(st->pause, sizeof st->pause, "%s", rs.pause);
		}
		PQfinish(c);
	}
	if (st->live)
		return true;
	/* Down (or not answering): what the run's replay step recorded when it paused. */
	const char *lsn = facts ? pgr_kv_get(facts, "stop_lsn") : NULL;
	const char *ts = facts ? pgr_kv_get(facts, "stop_xact_time") : NULL;
	if (lsn && pgr_lsn_parse(lsn, &st->lsn)) {
		st->xact_time = ts ? atof(ts) : 0;
		st->in_recovery = true;
		return true;
	}
	pgr_error_set(err, PGR_ERR_DB, "cannot tell where replay of run %s stopped: %s", p->run_id ? p->run_id : "?",
	              cerr.msg[0] ? cerr.msg : "the server does not answer");
	if (cerr.detail[0])
		pgr_error_detail(err, "%s", cerr.detail);
	pgr_error_hint(err, "Is the recovering server up? `pgrescue runs show %s` shows the run's steps.",
	               p->run_id ? p->run_id : "ID");
	return false;
}

/* The recovery block template with its recovery_target_* lines (not
 * _timeline, not _action) replaced by settings. Newly allocated. */
static char *block_with_target(const char *block, const char *settings)
{
	struct strbuf out = STRBUF_INIT;
	bool placed = false;
	for (const char *l = block; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l + 1) : strlen(l);
		bool target_line = !strncmp(l, "recovery_target", 15) &&
		        strncmp(l, "recovery_target_timeline", 24) != 0 &&
		        strncmp(l, "recovery_target_action", 22) != 0;
		bool before_timeline =
		        !strncmp(l, "recovery_target_timeline", 24) || !strncmp(l, BLOCK_END, strlen(BLOCK_END));
		if ((target_line || before_timeline) && !placed) {
			sb_append(&out, settings);
			if (settings[0] && settings[strlen(settings) - 1] != '\n')
				sb_append(&out, "\n");
			placed = true;
		}
		if (!target_line)
			sb_printf(&out, "%.*s", (int)len, l);
		l += len;
	}
	return sb_steal(&out);
}

static char *replace_all(const char *s, const char *from, const char *to)
{
	if (!s)
		return NULL;
	struct strbuf out = STRBUF_INIT;
	size_t fl = strlen(from);
	for (const char *p = s; *p;) {
		const char *at = fl ? strstr(p, from) : NULL;
		if (!at) {
			sb_append(&out, p);
			break;
		}
		sb_printf(&out, "%.*s%s", (int)(at - p), p, to);
		p = at + fl;
	}
	return sb_steal(&out);
}

static void replace_in(char **field, const char *from, const char *to)
{
	if (!*field)
		return;
	char *n = replace_all(*field, from, to);
	free(*field);
	*field = n;
}

/* The span of WAL the run's base backup reaches, when the catalog knows it. */
static bool base_reach(const struct pgr_catalog *cat, const char *label, time_t *to, char *missing, size_t n)
{
	struct pgr_span *spans = NULL;
	size_t ns = pgr_catalog_spans(cat, &spans);
	bool found = false;
	for (size_t i = 0; i < ns; i++)
		if (spans[i].base && !strcmp(spans[i].base->label, label)) {
			*to = spans[i].to;
			snprintf(missing, n, "%s", spans[i].missing ? spans[i].missing : "");
			found = true;
		}
	pgr_spans_free(spans, ns);
	return found;
}

/* Everything but the run's status: can the run replay on to t? */
static bool check_target(const struct pgr_plan *p, const struct pgr_pitr_stop *st, const struct pgr_catalog *cat,
                         const struct pgr_target *t, struct pgr_retarget_check *c, struct pgr_error *err)
{
	const char *run = p->run_id ? p->run_id : "?";
	char where[256];
	pgr_pitr_stop_describe(st, where, sizeof where);
	char *to = pgr_target_describe(t);
	const char *from = pgr_kv_get(&p->params, "target");
	bool ok = true;
	const char *again = "Replay only moves forward from where it stopped. To recover to an earlier point, plan a "
	                    "new run (`pgrescue pitr`), which extracts the base backup again.";
	if (st->live && !st->in_recovery) {
		ok = pgr_error_set(err, PGR_ERR_CONFLICT,
		                   "the server of run %s is no longer in recovery: it was promoted", run);
		pgr_error_hint(err, "A promoted server cannot replay on; plan a new run with `pgrescue pitr`.");
	} else if (st->live && strcmp(st->pause, "paused") != 0) {
		ok = pgr_error_set(err, PGR_ERR_CONFLICT,
		                   "the server of run %s is not paused at its target (replay is %s)", run, st->pause);
		pgr_error_hint(err, "Wait until it pauses at the target (`pgrescue runs attach %s`).", run);
	} else if (from && !strcmp(from, to)) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s already recovers to %s", run, to);
		pgr_error_hint(err, "Give a later target, or promote with `pgrescue runs resume %s`.", run);
	} else if (t->kind == PGR_TARGET_IMMEDIATE) {
		ok = pgr_error_set(err, PGR_ERR_USAGE,
		                   "target %s is the first consistent point, not later than where replay stopped: %s",
		                   to, where);
		pgr_error_hint(err, "%s", again);
	} else if (t->kind == PGR_TARGET_TIME) {
		double tt = (double)t->time + t->usec / 1e6;
		if (st->xact_time > 0 && tt <= st->xact_time) {
			ok = pgr_error_set(err, PGR_ERR_USAGE, "target %s is not later than where replay stopped: %s",
			                   to, where);
			pgr_error_hint(err, "%s", again);
		} else if (st->xact_time <= 0) {
			snprintf(
			        c->note, sizeof c->note,
			        "No transaction was replayed yet, so the time cannot be compared; PostgreSQL refuses a "
			        "stop point before the one it reached.");
		}
	} else if (t->kind == PGR_TARGET_LSN) {
		if (st->lsn && t->lsn <= st->lsn) {
			ok = pgr_error_set(err, PGR_ERR_USAGE, "target %s is not later than where replay stopped: %s",
			                   to, where);
			pgr_error_hint(err, "%s", again);
		}
	} else {
		snprintf(
		        c->note, sizeof c->note,
		        "An %s cannot be checked against where replay stopped (%s) before replay reaches it: one that "
		        "lies before that point is never reached again, replay then runs to the end of the archive and "
		        "the run fails; plan a new run then.",
		        t->kind == PGR_TARGET_XID ? "xid" : "restore point", where);
	}
	/* Inside what the run's base backup can reach with the archived WAL? */
	if (ok) {
		const char *label = pgr_kv_get(&p->params, "base");
		time_t reach = 0;
		char missing[64] = "";
		if (t->kind == PGR_TARGET_TIME && label && base_reach(cat, label, &reach, missing, sizeof missing)) {
			if (t->time > reach) {
				char r[40];
				pgr_time_format_utc(reach, r, sizeof r);
				ok = pgr_error_set(
				        err, PGR_ERR_USAGE,
				        "target %s is outside the recoverable window: the WAL after base backup %s "
				        "reaches %s%s%s",
				        to, label, r, missing[0] ? ", then segment " : "", missing[0] ? missing : "");
				if (missing[0])
					pgr_error_hint(err, "%s is missing from the archive; replay cannot pass it.",
					               missing);
				else
					pgr_error_hint(err,
					               "The archive ends there (`pgrescue window` shows it). Give a "
					               "time before.");
			}
		} else {
			struct pgr_window w = {0};
			pgr_catalog_window(cat, &w);
			struct pgr_error werr = {0};
			if (!w.exists) {
				ok = pgr_error_set(err, PGR_ERR_NOTFOUND, "no recoverable window in the store: %s",
				                   w.why_not ? w.why_not : "no base backup with continuous WAL");
			} else if (!pgr_target_check_window(t, cat, &w, &werr)) {
				ok = pgr_error_set(err, werr.kind ? werr.kind : PGR_ERR_USAGE,
				                   "target %s is outside the recoverable window: %s", to, werr.msg);
				if (werr.hint[0])
					pgr_error_hint(err, "%s", werr.hint);
			}
			pgr_window_free(&w);
		}
	}
	if (ok) {
		c->from = xstrdup(from ? from : "?");
		c->to = to;
		c->stop = *st;
	} else {
		free(to);
	}
	return ok;
}

/* The run must be a pitr run, stopped at its promote gate, no runner alive. */
static bool check_run(const char *run_dir, struct pgr_plan *p, struct pgr_kvlist *facts, struct pgr_error *err)
{
	memset(facts, 0, sizeof *facts);
	if (!pgr_run_load_plan(run_dir, p, err))
		return false;
	struct pgr_run_info info;
	bool ok = is_pitr_run(p, err) && pgr_run_info_load(run_dir, &info, err);
	if (!ok) {
		pgr_plan_free(p);
		return false;
	}
	bool at_gate = info.status == PGR_RUN_WAITING && info.current < info.n_steps &&
	        !strcmp(info.steps[info.current].id, "promote");
	if (!at_gate) {
		ok = pgr_error_set(err, PGR_ERR_USAGE,
		                   "run %s is not waiting at its promote gate (it is %s, at step %s): only a paused "
		                   "recovery can move its target",
		                   info.id, pgr_run_status_name(info.status),
		                   info.current < info.n_steps ? info.steps[info.current].id : "-");
		if (info.status == PGR_RUN_RUNNING)
			pgr_error_hint(err, "Wait until it pauses at the target (`pgrescue runs attach %s`).", info.id);
		else
			pgr_error_hint(
			        err, "Plan a run with `pgrescue pitr ... --pause` to stop at the target and move it.");
	}
	pgr_run_info_free(&info);
	if (ok)
		ok = pgr_run_load_facts(run_dir, facts, err);
	if (!ok)
		pgr_plan_free(p);
	return ok;
}

bool pgr_pitr_retarget_check(const char *run_dir, const struct pgr_catalog *cat, const struct pgr_target *t,
                             struct pgr_retarget_check *c, struct pgr_error *err)
{
	memset(c, 0, sizeof *c);
	struct pgr_plan p;
	struct pgr_kvlist facts;
	if (!check_run(run_dir, &p, &facts, err))
		return false;
	struct pgr_pitr_stop st;
	bool ok = pgr_pitr_read_stop(&p, &facts, &st, err) && check_target(&p, &st, cat, t, c, err);
	pgr_kv_free(&facts);
	pgr_plan_free(&p);
	return ok;
}

void pgr_retarget_check_free(struct pgr_retarget_check *c)
{
	free(c->from);
	free(c->to);
	memset(c, 0, sizeof *c);
}

static void retarget_audit(const struct pgr_plan *p, const char *phase, const char *outcome, const char *command,
                           const char *detail)
{
	struct pgr_audit a;
	struct pgr_error aerr = {0};
	if (!pgr_audit_open(&a, p->env.audit_log, p->env.audit_key_file, &aerr))
		return;
	struct pgr_audit_event ev = {
	        .env = p->env.name,
	        .incident = p->incident,
	        .reason = p->reason,
	        .run = p->run_id,
	        .plan = p->kind,
	        .step = "retarget",
	        .phase = phase,
	        .command = command,
	        .outcome = outcome,
	        .detail = detail,
	        .duration_ms = -1,
	};
	pgr_audit_append(&a, &ev, &aerr);
	pgr_audit_close(&a);
}

/* The plan with its target moved: params, the recovery block, and the text
 * of the summary and of the steps that run again. */
static void plan_retarget(struct pgr_plan *p, const struct pgr_target *t, const char *from, const char *to)
{
	char *settings = pgr_target_settings(t);
	const char *old_block = pgr_kv_get(&p->params, "recovery_block");
	char *block = block_with_target(old_block ? old_block : "", settings);
	/* The configure step shows the block with "<run id>" for %RUN%. */
	char *old_shown = replace_all(old_block ? old_block : "", "%RUN%", "<run id>");
	char *new_shown = replace_all(block, "%RUN%", "<run id>");
	for (size_t i = 0; i < p->n_steps; i++) {
		struct pgr_step *s = &p->steps[i];
		if (!strcmp(s->id, "configure-recovery"))
			replace_in(&s->command, old_shown, new_shown);
		else if (!strcmp(s->id, "replay"))
			replace_in(&s->command, from, to);
		else if (!strcmp(s->id, "start-recovery")) {
			struct pgr_platform tmp = {.ops = &pgr_platform_local_ops, .env = &p->env};
			char *stop = pgr_platform_local_ops.describe_db(&tmp, "stop");
			char *start = pgr_platform_local_ops.describe_db(&tmp, "start-nowait");
			free(s->command);
			s->command =
			        xasprintf("%s  (the server paused at the old target; fast: a restartpoint, kept)\n%s",
			                  stop, start);
			free(stop);
			free(start);
		}
	}
	pgr_kv_set(&p->params, "recovery_block", block);
	pgr_kv_set(&p->params, "target", to);
	pgr_kv_setf(&p->params, "target_kind", "%d", (int)t->kind);
	pgr_kv_setf(&p->params, "target_time", "%lld", (long long)t->time);
	pgr_kv_setf(&p->params, "target_usec", "%d", t->usec);
	pgr_kv_setf(&p->params, "target_lsn", "%" PRIu64, t->lsn);
	const char *confirm = pgr_kv_get(&p->params, "confirm");
	if (confirm) {
		char *c = replace_all(confirm, from, to);
		pgr_kv_set(&p->params, "confirm", c);
		free(c);
	}
	replace_in(&p->summary, from, to);
	char now[40];
	pgr_time_format_utc(pgr_now(), now, sizeof now);
	char *notes = xasprintf("%sRetargeted %s: from %s to %s; replay continues from the last restartpoint, the base "
	                        "backup is not extracted again.\n",
	                        p->notes ? p->notes : "", now, from, to);
	free(p->notes);
	p->notes = notes;
	free(new_shown);
	free(old_shown);
	free(block);
	free(settings);
}

bool pgr_pitr_retarget(const char *run_dir, const struct pgr_catalog *cat, const struct pgr_target *t,
                       const char *command, struct pgr_retarget_check *c, pid_t *pid, struct pgr_error *err)
{
	memset(c, 0, sizeof *c);
	if (pid)
		*pid = 0;
	struct pgr_plan p;
	struct pgr_kvlist facts;
	if (!check_run(run_dir, &p, &facts, err))
		return false;
	/* Under the environment's lock: no runner, no other plan, while we change the run. */
	struct pgr_lock lock;
	if (!pgr_lock_acquire(&lock, p.env.name, p.incident, p.run_id, err)) {
		pgr_lock_release(&lock);
		pgr_kv_free(&facts);
		pgr_plan_free(&p);
		return false;
	}
	char *desc = pgr_target_describe(t);
	char *cmd = xasprintf("%s%sretarget run %s to %s", command ? command : "", command ? ": " : "", p.run_id, desc);
	free(desc);
	struct pgr_pitr_stop st;
	bool ok = pgr_pitr_read_stop(&p, &facts, &st, err) && check_target(&p, &st, cat, t, c, err);
	if (!ok) {
		struct strbuf d = STRBUF_INIT;
		sb_append(&d, err->msg);
		if (err->hint[0])
			sb_printf(&d, "\nHINT: %s", err->hint);
		retarget_audit(&p, "refused", "refused", cmd, sb_str(&d));
		sb_free(&d);
	}
	char *why = ok ? xasprintf("target moved from %s to %s", c->from, c->to) : NULL;
	if (ok)
		retarget_audit(&p, "intent", NULL, cmd, why);
	/* Reopened first: a crash before the plan changes leaves steps that
	 * find their postconditions hold and a run back at its gate. */
	static const char *const again[] = {"configure-recovery", "start-recovery", "replay"};
	for (size_t i = 0; ok && i < sizeof again / sizeof again[0]; i++)
		ok = pgr_run_reopen(run_dir, again[i], why, err);
	if (ok) {
		plan_retarget(&p, t, c->from, c->to);
		ok = pgr_run_update_plan(run_dir, &p, why, err);
	}
	if (ok) {
		char lsn[32] = "";
		if (st.lsn)
			pgr_lsn_format(st.lsn, lsn, sizeof lsn);
		const char *kv[] = {"from", c->from, "to", c->to, "stopped_at", lsn, NULL};
		ok = pgr_run_journal_event(run_dir, NULL, "retarget", kv, err);
	}
	if (why) {
		if (ok)
			retarget_audit(&p, "outcome", "ok", cmd, why);
		else
			retarget_audit(&p, "outcome", "failed", cmd, err->msg);
	}
	if (ok && !pgr_run_spawn(run_dir, &lock, pid, err)) {
		pgr_error_hint(err, "The target is moved; `pgrescue runs resume %s` replays on to it.", p.run_id);
		ok = false;
	} else if (ok) {
		pgr_lock_forget(&lock);
	}
	pgr_lock_release(&lock);
	free(why);
	free(cmd);
	pgr_kv_free(&facts);
	pgr_plan_free(&p);
	return ok;
}

const struct pgr_step_impl pgr_pitr_steps[] = {
        {"preflight", NULL, preflight_act, NULL},
        {"record-state", record_done, record_act, NULL},
        {"scale-down", scale_down_done, scale_down_act, NULL},
        {"stop-db", stop_done, stop_act, NULL},
        {"move-aside", aside_done, aside_act, NULL},
        {"extract-base", extract_done, extract_act, NULL},
        {"configure-recovery", configure_done, configure_act, NULL},
        {"start-recovery", start_done, start_act, NULL},
        {"replay", replay_done, replay_act, NULL},
        {"promote", promote_done, promote_act, NULL},
        {"verify", NULL, verify_act, NULL},
        {"restore-archiving", archiving_done, archiving_act, NULL},
        {"scale-up", scale_up_done, scale_up_act, NULL},
        {NULL, NULL, NULL, NULL},
};
