/* The local platform: PostgreSQL is a data directory on this machine driven
 * with pg_ctl (as the server's user when we are root), and the application is
 * either the sandbox's built-in app or whatever two configured commands say
 * (app_scale_get_command / app_scale_set_command), run from an argv, never
 * through a shell. */
#include "config.h"

#include "platform/platform.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

#define GET_TIMEOUT_SEC 60
#define SET_TIMEOUT_SEC 300
#define SETTLE_TIMEOUT_SEC 300
#define PGCTL_WAIT_SEC 120

enum scale_kind { SCALE_BUILTIN, SCALE_COMMAND };

static const char *env_name(const struct pgr_env *env)
{
	return env->name ? env->name : "(unnamed)";
}

static const char *bindir(const struct pgr_env *env)
{
	return env->pg_bindir && *env->pg_bindir ? env->pg_bindir : PG_BINDIR_DEFAULT;
}

static const char *server_user(const struct pgr_env *env)
{
	return env->run_as && *env->run_as ? env->run_as : "postgres";
}

static bool get_scale_kind(const struct pgr_env *env, enum scale_kind *kind, struct pgr_error *err)
{
	const char *s = env->app_scale;
	if (s && !strcmp(s, "none"))
		s = NULL;
	if (!s && env->sandbox_dir && *env->sandbox_dir)
		s = "builtin";
	if (s && !strcmp(s, "builtin")) {
		if (!env->sandbox_dir || !*env->sandbox_dir) {
			pgr_error_set(err, PGR_ERR_CONFIG,
			              "environment \"%s\" has app_scale = builtin but no sandbox_dir", env_name(env));
			pgr_error_hint(err,
			               "The built-in app exists only in the sandbox: run \"pgrescue sandbox up\", or "
			               "set app_scale = command with app_scale_get_command and app_scale_set_command.");
			return false;
		}
		*kind = SCALE_BUILTIN;
		return true;
	}
	if (s && !strcmp(s, "command")) {
		*kind = SCALE_COMMAND;
		return true;
	}
	if (!s || !*s) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "environment \"%s\" does not say how to scale its application (app_scale = none)",
		              env_name(env));
	} else {
		pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\": unknown app_scale \"%s\"", env_name(env), s);
	}
	pgr_error_hint(err,
	               "Set app_scale = command with app_scale_get_command (prints the replica count) and "
	               "app_scale_set_command (with {replicas}), or app_scale = builtin for the sandbox.");
	return false;
}

static void free_words(char **w)
{
	for (size_t i = 0; w && w[i]; i++)
		free(w[i]);
	free(w);
}

/* Split a command on whitespace into an argv; "{replicas}" inside a word is
 * replaced by n when n >= 0. No quoting, no shell. */
static char **split_words(const char *cmd, int n)
{
	size_t cap = 8, k = 0;
	char **w = xcalloc(cap, sizeof *w);
	const char *p = cmd;
	char num[16];
	snprintf(num, sizeof num, "%d", n);
	while (*p) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		struct strbuf sb = STRBUF_INIT;
		const char *q = start;
		while (q < p) {
			if (n >= 0 && (size_t)(p - q) >= 10 && !strncmp(q, "{replicas}", 10)) {
				sb_append(&sb, num);
				q += 10;
			} else {
				sb_append_len(&sb, q, 1);
				q++;
			}
		}
		if (k + 2 > cap) {
			cap *= 2;
			w = xrealloc(w, cap * sizeof *w);
		}
		w[k++] = sb_steal(&sb);
		w[k] = NULL;
	}
	return w;
}

static bool run_command(const char *key, const char *cmd, int n, int timeout, struct strbuf *out, struct pgr_error *err)
{
	char **words = split_words(cmd, n);
	if (!words[0]) {
		free_words(words);
		pgr_error_set(err, PGR_ERR_CONFIG, "%s is empty", key);
		return false;
	}
	struct pgr_proc_spec spec = {.argv = (const char *const *)words, .stdin_fd = -1};
	struct pgr_proc_result res;
	char what[256];
	snprintf(what, sizeof what, "%s (%s)", key, words[0]);
	bool ok = pgr_proc_run(&spec, timeout, &res, err) && pgr_proc_ok(&res, what, err);
	if (ok && out)
		sb_append(out, sb_str(&res.out));
	if (!ok)
		pgr_error_hint(err, "The command was: %s", cmd);
	pgr_proc_result_free(&res);
	free_words(words);
	return ok;
}

static bool command_replicas(const struct pgr_env *env, int *replicas, struct pgr_error *err)
{
	if (!env->app_scale_get_command || !*env->app_scale_get_command) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "environment \"%s\" has app_scale = command but no app_scale_get_command", env_name(env));
		pgr_error_hint(err,
		               "Set app_scale_get_command to a command that prints the number of replicas, e.g. "
		               "kubectl get deploy/clipper-backend -o jsonpath={.spec.replicas}");
		return false;
	}
	struct strbuf out = STRBUF_INIT;
	if (!run_command("app_scale_get_command", env->app_scale_get_command, -1, GET_TIMEOUT_SEC, &out, err)) {
		sb_free(&out);
		return false;
	}
	while (out.len > 0 && isspace((unsigned char)out.buf[out.len - 1]))
		out.buf[--out.len] = '\0';
	const char *s = sb_str(&out);
	while (isspace((unsigned char)*s))
		s++;
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	bool digits = end != s && isdigit((unsigned char)*s);
	while (end && isspace((unsigned char)*end))
		end++;
	if (!digits || errno || !end || *end || v < 0 || v > 100000) {
		pgr_error_set(err, PGR_ERR_TOOL, "app_scale_get_command printed \"%.80s\", not a number of replicas",
		              s);
		pgr_error_hint(err, "It must print one integer, e.g. 3. The command was: %s",
		               env->app_scale_get_command);
		sb_free(&out);
		return false;
	}
	sb_free(&out);
	*replicas = (int)v;
	return true;
}

static bool local_app_replicas(struct pgr_platform *p, int *replicas, struct pgr_error *err)
{
	enum scale_kind kind;
	if (!get_scale_kind(p->env, &kind, err))
		return false;
	if (kind == SCALE_BUILTIN)
		return pgr_app_builtin_replicas(p->env->sandbox_dir, replicas, err);
	return command_replicas(p->env, replicas, err);
}

static bool local_app_scale(struct pgr_platform *p, int n, struct pgr_error *err)
{
	const struct pgr_env *env = p->env;
	enum scale_kind kind;
	if (!get_scale_kind(env, &kind, err))
		return false;
	if (kind == SCALE_BUILTIN)
		return pgr_app_builtin_scale(env->sandbox_dir, pgr_self_exe(), env->dsn, n, err);
	if (!env->app_scale_set_command || !*env->app_scale_set_command) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "environment \"%s\" has app_scale = command but no app_scale_set_command", env_name(env));
		pgr_error_hint(err,
		               "Set app_scale_set_command, e.g. kubectl scale deploy/clipper-backend "
		               "--replicas={replicas}");
		return false;
	}
	if (!run_command("app_scale_set_command", env->app_scale_set_command, n, SET_TIMEOUT_SEC, NULL, err))
		return false;
	if (!env->app_scale_get_command || !*env->app_scale_get_command)
		return true; /* nothing to wait on: the set command's success is all we know */
	double deadline = pgr_monotonic() + SETTLE_TIMEOUT_SEC;
	int have = -1;
	for (;;) {
		if (!command_replicas(env, &have, err))
			return false;
		if (have == n)
			return true;
		if (pgr_monotonic() > deadline)
			break;
		struct timespec ts = {2, 0};
		nanosleep(&ts, NULL);
	}
	pgr_error_set(err, PGR_ERR_TOOL, "the application still has %d replicas, not %d, %d s after scaling it", have,
	              n, SETTLE_TIMEOUT_SEC);
	pgr_error_hint(err, "Check the application's platform; the command was: %s", env->app_scale_set_command);
	return false;
}

static bool need_data_dir(const struct pgr_env *env, struct pgr_error *err)
{
	if (env->data_dir && *env->data_dir)
		return true;
	pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\" has no data_dir", env_name(env));
	pgr_error_hint(err, "Set data_dir to the server's data directory to let pgrescue stop and start it.");
	return false;
}

static bool pg_ctl(const struct pgr_env *env, const char *const *args, int timeout, struct pgr_proc_result *res,
                   struct pgr_error *err)
{
	const char *argv[16];
	size_t k = 0;
	char *prog = xasprintf("%s/pg_ctl", bindir(env));
	argv[k++] = prog;
	argv[k++] = "-D";
	argv[k++] = env->data_dir;
	for (size_t i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	struct pgr_proc_spec spec = {.argv = argv, .run_as = server_user(env), .cwd = "/", .stdin_fd = -1};
	bool ok = pgr_proc_run(&spec, timeout, res, err);
	free(prog);
	return ok;
}

static bool local_db_running(struct pgr_platform *p, bool *running, struct pgr_error *err)
{
	const struct pgr_env *env = p->env;
	if (!need_data_dir(env, err))
		return false;
	const char *args[] = {"status", NULL};
	struct pgr_proc_result res;
	if (!pg_ctl(env, args, 30, &res, err))
		return false;
	bool ok = true;
	if (res.exit_code == 0 && !res.timed_out) {
		*running = true;
	} else if (res.exit_code == 3) {
		*running = false;
	} else if (res.exit_code == 4) {
		ok = pgr_error_set(err, PGR_ERR_NOTFOUND, "no usable PostgreSQL data directory at \"%s\"",
		                   env->data_dir);
		pgr_error_detail(err, "%s", sb_str(&res.err));
		pgr_error_hint(err, "Check data_dir in [env %s].", env_name(env));
	} else {
		ok = pgr_proc_ok(&res, "pg_ctl status", err);
	}
	pgr_proc_result_free(&res);
	return ok;
}

/* Where pg_ctl sends the server's output: the sandbox's server.log, else a
 * file in the data directory (the server's user can always write there). */
static char *server_log_path(const struct pgr_env *env)
{
	if (env->sandbox_dir && *env->sandbox_dir)
		return xasprintf("%s/server.log", env->sandbox_dir);
	return xasprintf("%s/pgrescue-server.log", env->data_dir);
}

static void prepare_log(const struct pgr_env *env, const char *path)
{
	if (geteuid() != 0 || pgr_path_exists(path))
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	close(fd);
	uid_t uid;
	gid_t gid;
	if (pgr_user_ids(server_user(env), &uid, &gid))
		(void)pgr_chown_tree(path, uid, gid, false, NULL);
}

static char *file_tail(const char *path, size_t keep)
{
	char *text = NULL;
	size_t len = 0;
	if (!pgr_read_file(path, &text, &len, NULL))
		return xstrdup("");
	char *tail = xstrdup(len > keep ? text + len - keep : text);
	free(text);
	return tail;
}

static bool local_db_start(struct pgr_platform *p, struct pgr_error *err)
{
	const struct pgr_env *env = p->env;
	bool running = false;
	if (!local_db_running(p, &running, err))
		return false;
	if (running)
		return true;
	char *logp = server_log_path(env);
	prepare_log(env, logp);
	char waitsec[16];
	snprintf(waitsec, sizeof waitsec, "%d", PGCTL_WAIT_SEC);
	const char *args[] = {"-l", logp, "-w", "-t", waitsec, "start", NULL};
	struct pgr_proc_result res;
	bool ok = pg_ctl(env, args, PGCTL_WAIT_SEC + 30, &res, err);
	if (ok && !pgr_proc_ok(&res, "pg_ctl start", err)) {
		char *tail = file_tail(logp, 1200);
		pgr_error_set(err, PGR_ERR_TOOL, "cannot start the PostgreSQL server of \"%s\"", env->data_dir);
		pgr_error_detail(err, "%s%s", sb_str(&res.err), tail);
		pgr_error_hint(err, "The server's log is %s.", logp);
		free(tail);
		ok = false;
	}
	pgr_proc_result_free(&res);
	free(logp);
	return ok;
}

static bool local_db_start_nowait(struct pgr_platform *p, struct pgr_error *err)
{
	const struct pgr_env *env = p->env;
	bool running = false;
	if (!local_db_running(p, &running, err))
		return false;
	if (running)
		return true;
	char *logp = server_log_path(env);
	prepare_log(env, logp);
	const char *args[] = {"-l", logp, "-W", "start", NULL};
	struct pgr_proc_result res;
	bool ok = pg_ctl(env, args, 60, &res, err);
	if (ok && !pgr_proc_ok(&res, "pg_ctl start", err)) {
		pgr_error_hint(err, "The server's log is %s.", logp);
		ok = false;
	}
	pgr_proc_result_free(&res);
	free(logp);
	return ok;
}

static char *local_db_log_path(struct pgr_platform *p)
{
	return server_log_path(p->env);
}

static char *local_describe_db(struct pgr_platform *p, const char *action)
{
	const struct pgr_env *env = p->env;
	char *logp = server_log_path(env);
	char *s;
	if (!strcmp(action, "stop"))
		s = xasprintf("%s/pg_ctl -D %s -m fast -w -t %d stop", bindir(env), env->data_dir ? env->data_dir : "?",
		              PGCTL_WAIT_SEC / 2);
	else if (!strcmp(action, "start-nowait"))
		s = xasprintf("%s/pg_ctl -D %s -l %s -W start", bindir(env), env->data_dir ? env->data_dir : "?", logp);
	else
		s = xasprintf("%s/pg_ctl -D %s -l %s -w -t %d start", bindir(env), env->data_dir ? env->data_dir : "?",
		              logp, PGCTL_WAIT_SEC);
	free(logp);
	if (geteuid() == 0) {
		char *t = xasprintf("%s  (as %s)", s, server_user(env));
		free(s);
		s = t;
	}
	return s;
}

static bool stop_mode(const struct pgr_env *env, const char *mode, struct pgr_error *err)
{
	char waitsec[16];
	snprintf(waitsec, sizeof waitsec, "%d", PGCTL_WAIT_SEC / 2);
	const char *args[] = {"-m", mode, "-w", "-t", waitsec, "stop", NULL};
	struct pgr_proc_result res;
	if (!pg_ctl(env, args, PGCTL_WAIT_SEC / 2 + 30, &res, err))
		return false;
	char what[64];
	snprintf(what, sizeof what, "pg_ctl stop -m %s", mode);
	bool ok = pgr_proc_ok(&res, what, err);
	pgr_proc_result_free(&res);
	return ok;
}

static bool local_db_stop(struct pgr_platform *p, struct pgr_error *err)
{
	const struct pgr_env *env = p->env;
	bool running = false;
	if (!local_db_running(p, &running, err))
		return false;
	if (!running)
		return true;
	if (stop_mode(env, "fast", err))
		return true;
	/* Fast waits for nothing but may still be slow (a huge checkpoint);
	 * immediate needs crash recovery at the next start, which is safe. */
	if (local_db_running(p, &running, err) && !running)
		return true;
	if (stop_mode(env, "immediate", err))
		return true;
	if (local_db_running(p, &running, NULL) && !running)
		return true;
	pgr_error_prefix(err, "cannot stop the PostgreSQL server of \"%s\"", env->data_dir);
	return false;
}

static char *local_describe_scale(struct pgr_platform *p, int n)
{
	const struct pgr_env *env = p->env;
	enum scale_kind kind;
	if (!get_scale_kind(env, &kind, NULL))
		return xasprintf("scale the application to %d replicas (not configured: set app_scale)", n);
	if (kind == SCALE_BUILTIN)
		return xasprintf("scale the sandbox app to %d replica%s (processes under %s/app)", n, n == 1 ? "" : "s",
		                 env->sandbox_dir);
	if (!env->app_scale_set_command || !*env->app_scale_set_command)
		return xasprintf("scale the application to %d replicas (app_scale_set_command is not set)", n);
	char **words = split_words(env->app_scale_set_command, n);
	char *joined = pgr_argv_join((const char *const *)words);
	free_words(words);
	char *s = xasprintf("scale the application to %d replica%s: %s", n, n == 1 ? "" : "s", joined);
	free(joined);
	return s;
}

static void local_close(struct pgr_platform *p)
{
	(void)p;
}

const struct pgr_platform_ops pgr_platform_local_ops = {
        .name = "local",
        .app_replicas = local_app_replicas,
        .app_scale = local_app_scale,
        .db_running = local_db_running,
        .db_start = local_db_start,
        .db_stop = local_db_stop,
        .db_start_nowait = local_db_start_nowait,
        .db_log_path = local_db_log_path,
        .describe_db = local_describe_db,
        .describe_scale = local_describe_scale,
        .close = local_close,
};
