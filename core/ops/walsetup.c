/* The server's side of a store (see walsetup.h): the config archive_command
 * and restore_command read, the checks of the credentials file they use,
 * and the proof that the server's user can list the store with them. */
#include "config.h"

#include "ops/walsetup.h"

#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/storage.h"

#define SERVER_CONFIG_NAME "pgrescue-server.ini"
#define CHECK_TIMEOUT_SEC 60

bool pgr_walsetup_cloud(const struct pgr_env *env)
{
	const char *s = env->store;
	return s && *s && s[0] != '/' && strncmp(s, "file://", 7) != 0;
}

const char *pgr_walsetup_server_user(const struct pgr_env *env)
{
	return env->run_as && *env->run_as ? env->run_as : "postgres";
}

char *pgr_walsetup_config_path(const struct pgr_env *env)
{
	if (!env->store_credentials_file || !*env->store_credentials_file)
		return NULL;
	char *copy = xstrdup(env->store_credentials_file);
	char *path = xasprintf("%s/" SERVER_CONFIG_NAME, dirname(copy));
	free(copy);
	return path;
}

/* The uid/gid the server's programs run as: the server's user when we are
 * root, else ourselves (nothing switches users then). */
static bool server_ids(const struct pgr_env *env, uid_t *uid, gid_t *gid, struct pgr_error *err)
{
	if (geteuid() != 0) {
		*uid = geteuid();
		*gid = getegid();
		return true;
	}
	if (pgr_user_ids(pgr_walsetup_server_user(env), uid, gid))
		return true;
	pgr_error_set(err, PGR_ERR_CONFIG, "[env %s] run_as: unknown user \"%s\"", env->name,
	              pgr_walsetup_server_user(env));
	pgr_error_hint(err, "run_as names the user the database server runs as (postgres by default).");
	return false;
}

static const char *who(const struct pgr_env *env)
{
	static char me[64];
	if (geteuid() == 0)
		return pgr_walsetup_server_user(env);
	struct passwd *pw = getpwuid(geteuid());
	snprintf(me, sizeof me, "%s", pw ? pw->pw_name : "this user");
	return me;
}

/* The keys a store's variables can stand in for, and the config's values. */
static const char *const carried_keys[] = {"s3_endpoint", "s3_region"};

static const char *config_value(const struct pgr_env *env, const char *key)
{
	return !strcmp(key, "s3_endpoint") ? env->s3_endpoint : env->s3_region;
}

/* KEY's value for the server: the config's, else what this process's
 * variables give it (*var names the variable; NULL when from the config). */
static const char *for_server(const struct pgr_env *env, const char *key, const char **var)
{
	const char *v = config_value(env, key);
	*var = NULL;
	if (v && *v)
		return v;
	return env->store ? pgr_s3_env_option(env->store, key, var) : NULL;
}

char *pgr_walsetup_carried(const struct pgr_env *env)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sizeof carried_keys / sizeof carried_keys[0]; i++) {
		const char *var, *v = for_server(env, carried_keys[i], &var);
		if (v && var)
			sb_printf(&sb, "%s = %s (from %s)\n", carried_keys[i], v, var);
	}
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

bool pgr_walsetup_write_config(const struct pgr_env *env, struct pgr_error *err)
{
	char *path = pgr_walsetup_config_path(env);
	if (!path)
		return pgr_error_set(err, PGR_ERR_CONFIG, "[env %s] has no store_credentials_file", env->name);
	uid_t uid;
	gid_t gid;
	if (!server_ids(env, &uid, &gid, err)) {
		free(path);
		return false;
	}
	/* The store and what opens it (and the dsn a section must have: never a
	 * password, the config refuses those); nothing else. */
	const char *names[] = {"dsn",
	                       "store",
	                       "s3_endpoint",
	                       "s3_region",
	                       "s3_url_style",
	                       "s3_sse",
	                       "s3_storage_class",
	                       "s3_profile",
	                       "azure_endpoint",
	                       "ca_file",
	                       "store_credentials_file"};
	const char *var;
	const char *vals[] = {env->dsn,
	                      env->store,
	                      for_server(env, "s3_endpoint", &var),
	                      for_server(env, "s3_region", &var),
	                      env->s3_url_style,
	                      env->s3_sse,
	                      env->s3_storage_class,
	                      env->s3_profile,
	                      env->azure_endpoint,
	                      env->ca_file,
	                      env->store_credentials_file};
	const char *keys[16], *values[16];
	int n = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (vals[i] && *vals[i]) {
			keys[n] = names[i];
			values[n++] = vals[i];
		}
	bool ok = pgr_config_upsert_env(path, env->name, keys, values, n, err);
	if (ok && chmod(path, 0600) != 0)
		ok = pgr_error_errno(err, errno, "cannot set the mode of \"%s\"", path);
	if (ok && geteuid() == 0)
		ok = pgr_chown_tree(path, uid, gid, false, err);
	if (!ok)
		pgr_error_prefix(err, "writing the server's config %s", path);
	free(path);
	return ok;
}

bool pgr_walsetup_check_credentials(const struct pgr_env *env, struct pgr_error *err)
{
	const char *file = env->store_credentials_file;
	const char *user = who(env);
	if (!file || !*file) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "[env %s] has no store_credentials_file: the database server's user %s has no "
		              "credentials for %s",
		              env->name, user, env->store);
		pgr_error_hint(err,
		               "archive_command and restore_command run as %s, without your AWS_*/AZURE_* "
		               "variables. Put the store's credentials in a file (AWS shared-credentials format for "
		               "s3:// and gs://, a connection string for az://), chmod 600, chown %s, and name it "
		               "with store_credentials_file in [env %s]; `pgrescue --env %s wal-setup` checks it.",
		               user, user, env->name, env->name);
		return false;
	}
	uid_t uid;
	gid_t gid;
	if (!server_ids(env, &uid, &gid, err))
		return false;
	struct stat sb;
	if (stat(file, &sb) != 0) {
		pgr_error_errno(err, errno, "store_credentials_file \"%s\" of [env %s]", file, env->name);
		pgr_error_hint(err,
		               "Create it (mode 0600, owned by %s): AWS shared-credentials format for s3:// and "
		               "gs://, the connection string for az://.",
		               user);
		return false;
	}
	if (!S_ISREG(sb.st_mode))
		return pgr_error_set(err, PGR_ERR_CONFIG, "store_credentials_file \"%s\" is not a regular file", file);
	if (sb.st_mode & 077) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store_credentials_file \"%s\" may be read or written by others (mode %04o)", file,
		              (unsigned)(sb.st_mode & 07777));
		pgr_error_hint(err, "It holds secrets: chmod 600 %s", file);
		return false;
	}
	if (sb.st_uid != uid) {
		struct passwd *pw = getpwuid(sb.st_uid);
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store_credentials_file \"%s\" is owned by %s, but archive_command and "
		              "restore_command run as %s",
		              file, pw ? pw->pw_name : "another user", user);
		pgr_error_hint(err, "chown %s %s (mode 0600: only %s%s reads it).", user, file, user,
		               geteuid() == 0 ? " and root" : "");
		return false;
	}
	char *copy = xstrdup(file);
	const char *dir = dirname(copy);
	bool reach = pgr_path_reachable_by(dir, uid, gid);
	if (!reach) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "the user %s cannot reach the directory \"%s\" of store_credentials_file", user, dir);
		pgr_error_hint(err, "Every directory above it must be searchable (x) by %s.", user);
	}
	free(copy);
	return reach;
}

bool pgr_walsetup_check_as_server(const struct pgr_env *env, const char *exe, struct pgr_error *err)
{
	char *cfg = pgr_walsetup_config_path(env);
	if (!cfg)
		return pgr_walsetup_check_credentials(env, err);
	const char *argv[] = {exe, "--config", cfg, "--env", env->name, "store-check", NULL};
	/* Only the file may count: the server does not have our variables. */
	static const char *const blank[] = {"AWS_ACCESS_KEY_ID=",
	                                    "AWS_SECRET_ACCESS_KEY=",
	                                    "AWS_SESSION_TOKEN=",
	                                    "AWS_PROFILE=",
	                                    "AWS_SHARED_CREDENTIALS_FILE=",
	                                    "AWS_CONFIG_FILE=",
	                                    "GOOGLE_ACCESS_KEY_ID=",
	                                    "GOOGLE_SECRET_ACCESS_KEY=",
	                                    "AZURE_STORAGE_CONNECTION_STRING=",
	                                    "AZURE_STORAGE_ACCOUNT=",
	                                    "AZURE_STORAGE_KEY=",
	                                    "AZURE_STORAGE_SAS_TOKEN=",
	                                    "PGRESCUE_CONFIG=",
	                                    NULL};
	struct pgr_proc_spec spec = {
	        .argv = argv, .run_as = pgr_walsetup_server_user(env), .cwd = "/", .env = blank, .stdin_fd = -1};
	struct pgr_proc_result res = {0};
	bool ok = pgr_proc_run(&spec, CHECK_TIMEOUT_SEC, &res, err);
	if (ok && (res.exit_code != 0 || res.timed_out)) {
		const char *e = sb_str(&res.err);
		pgr_error_set(err, PGR_ERR_STORE, "the database server's user %s cannot list %s with %s%s", who(env),
		              env->store, env->store_credentials_file, res.timed_out ? " (timed out)" : "");
		pgr_error_detail(err, "%s", e[0] ? e : "(no output)");
		pgr_error_hint(err,
		               "restore_command and archive_command would fail the same way. Check the file's keys and "
		               "the store's options in [env %s]; as root, `runuser -u %s -- %s --config %s --env %s "
		               "store-check` repeats the check.",
		               env->name, who(env), exe, cfg, env->name);
		ok = false;
	}
	pgr_proc_result_free(&res);
	free(cfg);
	return ok;
}

bool pgr_walsetup_check_exe(const struct pgr_env *env, const char *exe, struct pgr_error *err)
{
	const char *argv[] = {exe, "--version", NULL};
	struct pgr_proc_spec spec = {.argv = argv, .run_as = pgr_walsetup_server_user(env), .cwd = "/", .stdin_fd = -1};
	struct pgr_proc_result res = {0};
	struct pgr_error perr = {0};
	bool ok = pgr_proc_run(&spec, CHECK_TIMEOUT_SEC, &res, &perr) && res.exit_code == 0 && !res.timed_out;
	if (!ok) {
		pgr_error_set(err, PGR_ERR_CONFIG, "the database server's user %s cannot run %s", who(env), exe);
		pgr_error_detail(err, "%s", perr.msg[0] ? perr.msg : sb_str(&res.err));
		pgr_error_hint(
		        err,
		        "PostgreSQL runs archive_command and restore_command as %s: install pgrescue where that user "
		        "can execute it (e.g. /usr/local/bin) and name it with --exe PATH.",
		        who(env));
	}
	pgr_proc_result_free(&res);
	return ok;
}

char *pgr_walsetup_command(const struct pgr_env *env, const char *exe, bool push)
{
	struct strbuf sh = STRBUF_INIT;
	sb_append_shell_quoted(&sh, exe);
	char *cfg = pgr_walsetup_cloud(env) ? pgr_walsetup_config_path(env) : NULL;
	if (cfg) {
		sb_append(&sh, " --config ");
		sb_append_shell_quoted(&sh, cfg);
		sb_append(&sh, " --env ");
		sb_append_shell_quoted(&sh, env->name);
	} else {
		/* No config: the server's user may not read the engineer's, and the store is all it needs. */
		sb_append(&sh, " --config /dev/null --store ");
		sb_append_shell_quoted(&sh, env->store);
	}
	free(cfg);
	/* Literal '%' in paths doubled; %p and %f stay placeholders. */
	struct strbuf out = STRBUF_INIT;
	for (const char *c = sb_str(&sh); *c; c++)
		sb_append(&out, *c == '%' ? "%%" : (char[]){*c, 0});
	sb_append(&out, push ? " wal-push %p" : " wal-fetch %f %p");
	sb_free(&sh);
	return sb_steal(&out);
}
