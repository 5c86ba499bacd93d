/* `pgrescue sandbox up|down|status`: the embedded default environment. A
 * real PostgreSQL cluster archiving through `pgrescue wal-push` into a
 * file:// store, clipper_db with users and clips, the built-in app's replicas
 * and a first backup, registered as [env sandbox]. Every step checks what is
 * already there first, so `up` is idempotent and finishes an interrupted run. */
#include "config.h"

#include "ops/sandbox.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/backup.h"
#include "platform/platform.h"
#include "settings.h"
#include "source/pg.h"
#include "storage/layout.h"
#include "storage/storage.h"

/* pgr_read_file for files that may legitimately be missing. */
static bool read_quiet(const char *path, char **data, size_t *len)
{
	struct pgr_error ignored = {0};
	return pgr_read_file(path, data, len, &ignored);
}

#define ENV_NAME "sandbox"
#define FALLBACK_DIR "/var/lib/pgrescue/sandbox"
#define FIRST_PORT 5433
#define PORT_TRIES 2000
#define INITDB_TIMEOUT_SEC 300

/* Everything about one sandbox, derived from its directory. */
struct sandbox {
	char *dir, *data, *run, *store_dir, *app, *bin, *log, *json, *archive_ini, *conf, *marker, *lockf;
	char *store_url;
	char *dsn;
	char *pg_bindir;
	char *exe; /* what archive_command runs */
	char *created;
	const char *server_user; /* NULL: ourselves (not root) */
	uid_t uid;
	gid_t gid;
	int port;
	bool root;
};

void pgr_sandbox_opts_default(struct pgr_sandbox_opts *o)
{
	memset(o, 0, sizeof *o);
	o->users = 5000;
	o->clips = 40000;
	o->replicas = 3;
}

/* ---------------------------------------------------------------- where */

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

static char *state_home(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	if (x && x[0] == '/')
		return xstrdup(x);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : "/tmp";
	}
	return xasprintf("%s/.local/state", home);
}

/* Could uid reach path once it exists? Judged from its nearest existing
 * ancestor: the directories we create below it are world-searchable. */
static bool reachable_once_made(const char *path, uid_t uid, gid_t gid)
{
	char *p = xstrdup(path);
	while (!pgr_path_exists(p) && strcmp(p, "/") != 0) {
		char *parent = xstrdup(dirname(p));
		free(p);
		p = parent;
	}
	bool ok = pgr_path_reachable_by(p, uid, gid);
	free(p);
	return ok;
}

/* The default directory, and whether the root fallback replaced it. */
static char *default_dir(bool *fell_back, char **wanted)
{
	char *base = state_home();
	char *d = xasprintf("%s/pgrescue/sandbox", base);
	free(base);
	*fell_back = false;
	uid_t uid;
	gid_t gid;
	if (geteuid() == 0 && pgr_user_ids("postgres", &uid, &gid) && !reachable_once_made(d, uid, gid)) {
		*fell_back = true;
		if (wanted)
			*wanted = d;
		else
			free(d);
		return xstrdup(FALLBACK_DIR);
	}
	return d;
}

char *pgr_sandbox_dir(const char *override)
{
	if (override && *override)
		return absolute(override);
	bool fell_back;
	return default_dir(&fell_back, NULL);
}

static void sandbox_free(struct sandbox *s)
{
	char **fields[] = {&s->dir,       &s->data, &s->run,         &s->store_dir, &s->app,    &s->bin,
	                   &s->log,       &s->json, &s->archive_ini, &s->conf,      &s->marker, &s->lockf,
	                   &s->store_url, &s->dsn,  &s->pg_bindir,   &s->exe,       &s->created};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

static void sandbox_paths(struct sandbox *s, const char *dir, const char *pg_bindir)
{
	memset(s, 0, sizeof *s);
	s->dir = xstrdup(dir);
	size_t n = strlen(s->dir);
	while (n > 1 && s->dir[n - 1] == '/')
		s->dir[--n] = '\0';
	s->data = xasprintf("%s/data", s->dir);
	s->run = xasprintf("%s/run", s->dir);
	s->store_dir = xasprintf("%s/store", s->dir);
	s->app = xasprintf("%s/app", s->dir);
	s->bin = xasprintf("%s/bin", s->dir);
	s->log = xasprintf("%s/server.log", s->dir);
	s->json = xasprintf("%s/sandbox.json", s->dir);
	s->archive_ini = xasprintf("%s/archive.ini", s->dir);
	s->conf = xasprintf("%s/data/pgrescue-sandbox.conf", s->dir);
	s->marker = xasprintf("%s/.initdb-complete", s->dir);
	s->lockf = xasprintf("%s/.lock", s->dir);
	s->store_url = xasprintf("file://%s", s->store_dir);
	s->pg_bindir = xstrdup(pg_bindir && *pg_bindir ? pg_bindir : PG_BINDIR_DEFAULT);
	s->root = geteuid() == 0;
	s->uid = geteuid();
	s->gid = getegid();
}

static bool sandbox_user(struct sandbox *s, struct pgr_error *err)
{
	if (!s->root)
		return true;
	s->server_user = "postgres";
	if (!pgr_user_ids(s->server_user, &s->uid, &s->gid)) {
		pgr_error_set(err, PGR_ERR_TOOL,
		              "running as root, but there is no \"postgres\" user to run the server");
		pgr_error_hint(err,
		               "Install PostgreSQL's server package (postgresql-15), which creates it, or run "
		               "the sandbox as a normal user.");
		return false;
	}
	return true;
}

static void set_dsn(struct sandbox *s)
{
	free(s->dsn);
	s->dsn = xasprintf("host=%s port=%d dbname=clipper_db user=postgres", s->run, s->port);
}

/* ---------------------------------------------------------------- sandbox.json */

static bool read_state(struct sandbox *s)
{
	char *text = NULL;
	if (!read_quiet(s->json, &text, NULL))
		return false;
	cJSON *doc = cJSON_Parse(text);
	free(text);
	if (!doc)
		return false;
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(doc, "port");
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(doc, "created");
	if (cJSON_IsNumber(port) && port->valueint > 0 && port->valueint < 65536)
		s->port = port->valueint;
	if (cJSON_IsString(created)) {
		free(s->created);
		s->created = xstrdup(created->valuestring);
	}
	cJSON_Delete(doc);
	return s->port > 0;
}

static bool write_state(const struct sandbox *s, struct pgr_error *err)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "version", 1);
	cJSON_AddNumberToObject(doc, "port", s->port);
	cJSON_AddStringToObject(doc, "dir", s->dir);
	cJSON_AddStringToObject(doc, "data_dir", s->data);
	cJSON_AddStringToObject(doc, "socket_dir", s->run);
	cJSON_AddStringToObject(doc, "store", s->store_url);
	cJSON_AddStringToObject(doc, "dsn", s->dsn);
	cJSON_AddStringToObject(doc, "pg_bindir", s->pg_bindir);
	cJSON_AddStringToObject(doc, "server_user", s->server_user ? s->server_user : "");
	cJSON_AddStringToObject(doc, "archive_exe", s->exe ? s->exe : "");
	cJSON_AddStringToObject(doc, "created", s->created ? s->created : "");
	char *text = cJSON_Print(doc);
	cJSON_Delete(doc);
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, text);
	sb_append(&sb, "\n");
	cJSON_free(text);
	bool ok = pgr_write_file_atomic(s->json, sb.buf, sb.len, 0644, err);
	sb_free(&sb);
	return ok;
}

/* ---------------------------------------------------------------- small helpers */

static void say(const struct pgr_sandbox_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct pgr_sandbox_opts *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("pgrescue: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Make a directory with an exact mode, owned by the server's user when asked. */
static bool make_dir(const struct sandbox *s, const char *path, mode_t mode, bool server_owned, struct pgr_error *err)
{
	if (!pgr_mkdir_p(path, mode, err))
		return false;
	if (chmod(path, mode) < 0)
		return pgr_error_errno(err, errno, "cannot set permissions of \"%s\"", path);
	if (s->root && server_owned && !pgr_chown_tree(path, s->uid, s->gid, false, err))
		return false;
	return true;
}

/* A file the server's user may append to (pg_ctl -l runs as that user). */
static bool make_server_file(const struct sandbox *s, const char *path, struct pgr_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot create \"%s\"", path);
	close(fd);
	if (s->root && !pgr_chown_tree(path, s->uid, s->gid, false, err))
		return false;
	return true;
}

static bool write_server_file(const struct sandbox *s, const char *path, const char *text, mode_t mode,
                              struct pgr_error *err)
{
	if (!pgr_write_file_atomic(path, text, strlen(text), mode, err))
		return false;
	if (s->root && !pgr_chown_tree(path, s->uid, s->gid, false, err))
		return false;
	return true;
}

/* Can uid/gid execute path? */
static bool executable_by(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	char *copy = xstrdup(path);
	bool reach = pgr_path_reachable_by(dirname(copy), uid, gid);
	free(copy);
	if (!reach)
		return false;
	if (uid == 0)
		return st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH);
	if (st.st_uid == uid)
		return st.st_mode & S_IXUSR;
	if (st.st_gid == gid)
		return st.st_mode & S_IXGRP;
	return st.st_mode & S_IXOTH;
}

static bool copy_file(const char *from, const char *to, mode_t mode, struct pgr_error *err)
{
	char *data = NULL;
	size_t len = 0;
	if (!pgr_read_file(from, &data, &len, err))
		return false;
	bool ok = pgr_write_file_atomic(to, data, len, mode, err);
	free(data);
	if (ok && chmod(to, mode) < 0)
		ok = pgr_error_errno(err, errno, "cannot set permissions of \"%s\"", to);
	return ok;
}

static char *archive_command(const struct sandbox *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append_shell_quoted(&sb, s->exe);
	sb_append(&sb, " --config ");
	sb_append_shell_quoted(&sb, s->archive_ini);
	sb_append(&sb, " --store ");
	sb_append_shell_quoted(&sb, s->store_url);
	/* Marker for the percent pass below: %p must stay a placeholder. */
	sb_append(&sb, " wal-push \x01");
	struct strbuf conf = STRBUF_INIT;
	sb_append_conf_literal(&conf, sb_str(&sb), true);
	sb_free(&sb);
	char *text = sb_steal(&conf);
	char *mark = strchr(text, '\x01');
	char *out = xasprintf("%.*s%%p%s", (int)(mark - text), text, mark + 1);
	free(text);
	return out;
}

/* ---------------------------------------------------------------- port */

static bool tcp_port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

/* The socket lives in <dir>/run, so any port works; still avoid ports some
 * other server listens on, so that "port 5433" in a summary is not ambiguous. */
static int pick_port(const struct sandbox *s)
{
	for (int p = FIRST_PORT; p < FIRST_PORT + PORT_TRIES; p++) {
		char *sock = xasprintf("%s/.s.PGSQL.%d", s->run, p);
		bool taken = pgr_path_exists(sock);
		free(sock);
		if (!taken && tcp_port_free(p))
			return p;
	}
	return FIRST_PORT;
}

/* ---------------------------------------------------------------- server */

static void sandbox_env(const struct sandbox *s, struct pgr_env *env)
{
	pgr_env_defaults(env);
	pgr_env_set(&env->name, ENV_NAME);
	pgr_env_set(&env->platform, "local");
	pgr_env_set(&env->dsn, s->dsn);
	pgr_env_set(&env->store, s->store_url);
	pgr_env_set(&env->pg_bindir, s->pg_bindir);
	pgr_env_set(&env->data_dir, s->data);
	pgr_env_set(&env->run_as, s->server_user ? s->server_user : "postgres");
	pgr_env_set(&env->app_scale, "builtin");
	pgr_env_set(&env->sandbox_dir, s->dir);
	char *metrics = xasprintf("%s/metrics.prom", s->dir);
	pgr_env_set(&env->metrics_file, metrics);
	free(metrics);
}

static bool server_tool(const struct sandbox *s, const char *const *argv, int timeout, const char *what,
                        struct pgr_error *err)
{
	struct pgr_proc_spec spec = {.argv = argv, .run_as = s->server_user, .cwd = "/", .stdin_fd = -1};
	struct pgr_proc_result res;
	bool ok = pgr_proc_run(&spec, timeout, &res, err) && pgr_proc_ok(&res, what, err);
	pgr_proc_result_free(&res);
	return ok;
}

/* The postmaster's pid from postmaster.pid when that process is alive. */
static pid_t live_postmaster(const struct sandbox *s)
{
	char *path = xasprintf("%s/postmaster.pid", s->data);
	char *text = NULL;
	bool have = read_quiet(path, &text, NULL);
	free(path);
	if (!have)
		return 0;
	long pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return 0;
	return (pid_t)pid;
}

static bool data_usable(const struct sandbox *s)
{
	char *ver = xasprintf("%s/PG_VERSION", s->data);
	char *ctl = xasprintf("%s/global/pg_control", s->data);
	char *conf = xasprintf("%s/postgresql.conf", s->data);
	bool ok = pgr_path_exists(s->marker) && pgr_path_exists(ver) && pgr_path_exists(ctl) && pgr_path_exists(conf);
	free(ver);
	free(ctl);
	free(conf);
	return ok;
}

/* A fresh cluster. The store goes too: it belonged to the old cluster, and
 * the new one's WAL would collide with the old segment names. */
/* Processes still working in a half-built data directory: an interrupted
 * initdb (it runs in its own process group, so Ctrl-C on `up` spares it) and
 * its bootstrap backends, which chdir into the directory. */
static int strays(const char *data, const char *bindir, pid_t *pids, int max)
{
	char real[PATH_MAX], bin[PATH_MAX];
	if (!realpath(data, real) || !realpath(bindir, bin))
		return 0;
	size_t binlen = strlen(bin);
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		char *end = NULL;
		long pid = strtol(de->d_name, &end, 10);
		if (pid <= 1 || *end || pid == (long)getpid())
			continue;
		char link[64], cwd[PATH_MAX], exe[PATH_MAX];
		/* Only PostgreSQL's own programs: never a shell that happens to sit there. */
		snprintf(link, sizeof link, "/proc/%ld/exe", pid);
		ssize_t len = readlink(link, exe, sizeof exe - 1);
		if (len <= 0)
			continue;
		exe[len] = '\0';
		if (strncmp(exe, bin, binlen) != 0 || exe[binlen] != '/')
			continue;
		snprintf(link, sizeof link, "/proc/%ld/cwd", pid);
		len = readlink(link, cwd, sizeof cwd - 1);
		bool hit = false;
		if (len > 0) {
			cwd[len] = '\0';
			hit = !strcmp(cwd, real);
		}
		snprintf(link, sizeof link, "/proc/%ld/cmdline", pid);
		char *args = NULL;
		size_t alen = 0;
		if (!hit && read_quiet(link, &args, &alen)) {
			for (size_t off = 0; off < alen && !hit; off += strlen(args + off) + 1)
				hit = !strcmp(args + off, data) || !strcmp(args + off, real);
		}
		free(args);
		if (hit)
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

static void stop_strays(const struct sandbox *s)
{
	pid_t pids[64];
	for (int round = 0; round < 100; round++) {
		int n = strays(s->data, s->pg_bindir, pids, 64);
		if (n == 0)
			return;
		for (int i = 0; i < n; i++)
			kill(pids[i], round < 20 ? SIGTERM : SIGKILL);
		usleep(100000);
	}
}

static bool build_cluster(const struct sandbox *s, const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	unlink(s->marker);
	pid_t pm = live_postmaster(s);
	if (pm > 0) {
		kill(pm, SIGQUIT);
		for (int i = 0; i < 100 && live_postmaster(s) > 0; i++)
			usleep(100000);
	}
	if (pgr_path_exists(s->data)) {
		say(o, "the data directory %s is incomplete (an interrupted run?): rebuilding it", s->data);
		stop_strays(s);
	}
	if (!pgr_rm_rf(s->data, err) || !pgr_rm_rf(s->store_dir, err))
		return false;
	if (!make_dir(s, s->data, 0700, true, err) || !make_dir(s, s->store_dir, 0750, true, err))
		return false;
	say(o, "creating a PostgreSQL cluster in %s", s->data);
	char *initdb = xasprintf("%s/initdb", s->pg_bindir);
	/* Trust on the socket only: the socket directory is private, and TCP is
	 * off (listen_addresses = ''); host lines demand a password nobody has. */
	const char *argv[] = {initdb,
	                      "-D",
	                      s->data,
	                      "-U",
	                      "postgres",
	                      "--auth-local=trust",
	                      "--auth-host=scram-sha-256",
	                      "-E",
	                      "UTF8",
	                      "--locale=C",
	                      "--wal-segsize=1",
	                      "--no-instructions",
	                      NULL};
	bool ok = server_tool(s, argv, INITDB_TIMEOUT_SEC, "initdb", err);
	free(initdb);
	if (!ok) {
		pgr_error_hint(err, "Is PostgreSQL 15 installed in %s? Run \"pgrescue sandbox up\" again once fixed.",
		               s->pg_bindir);
		return false;
	}
	/* postgresql.conf pulls in our own file, rewritten on every `up`. */
	char *pgconf = xasprintf("%s/postgresql.conf", s->data);
	char *text = NULL;
	size_t len = 0;
	ok = pgr_read_file(pgconf, &text, &len, err);
	if (ok) {
		struct strbuf sb = STRBUF_INIT;
		sb_append_len(&sb, text, len);
		sb_append(&sb,
		          "\n# Added by pgrescue sandbox up: the sandbox's own settings.\n"
		          "include_if_exists = 'pgrescue-sandbox.conf'\n");
		ok = write_server_file(s, pgconf, sb.buf, 0600, err);
		sb_free(&sb);
		free(text);
	}
	free(pgconf);
	if (!ok)
		return false;
	return pgr_write_file_atomic(s->marker, "", 0, 0644, err);
}

/* Write pgrescue-sandbox.conf; *changed says whether it differs from before. */
static bool write_settings(const struct sandbox *s, bool *changed, struct pgr_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb,
	          "# Written by `pgrescue sandbox up` on every run: edit at your own risk.\n"
	          "listen_addresses = ''\n"
	          "unix_socket_directories = ");
	sb_append_conf_literal(&sb, s->run, false);
	sb_printf(&sb, "\nunix_socket_permissions = 0700\nport = %d\n", s->port);
	char *cmd = archive_command(s);
	sb_printf(&sb,
	          "wal_level = replica\n"
	          "archive_mode = on\n"
	          "archive_command = %s\n"
	          "archive_timeout = 60\n"
	          "max_wal_senders = 5\n"
	          "max_connections = 50\n"
	          "shared_buffers = 32MB\n"
	          "log_line_prefix = '%%m [%%p] '\n",
	          cmd);
	free(cmd);
	char *old = NULL;
	*changed = true;
	if (read_quiet(s->conf, &old, NULL)) {
		*changed = strcmp(old, sb_str(&sb)) != 0;
		free(old);
	}
	bool ok = !*changed || write_server_file(s, s->conf, sb_str(&sb), 0600, err);
	sb_free(&sb);
	return ok;
}

/* The archiver's own config, so archive_command never depends on whichever
 * config the user has (which may hold several environments, or be unreadable
 * by the server's user). */
static bool write_archive_ini(const struct sandbox *s, struct pgr_error *err)
{
	char *text = xasprintf("# Written by `pgrescue sandbox up` for the sandbox's archive_command.\n"
	                       "[env sandbox]\n"
	                       "platform = local\n"
	                       "dsn = %s\n"
	                       "store = %s\n"
	                       "pg_bindir = %s\n",
	                       s->dsn, s->store_url, s->pg_bindir);
	bool ok = write_server_file(s, s->archive_ini, text, 0600, err);
	free(text);
	return ok;
}

/* The program archive_command runs: ourselves, or a copy in <dir>/bin when
 * the server's user cannot execute the original (e.g. a build under /root). */
static bool choose_exe(struct sandbox *s, struct pgr_error *err)
{
	const char *self = pgr_self_exe();
	free(s->exe);
	s->exe = NULL;
	if (!s->root || executable_by(self, s->uid, s->gid)) {
		s->exe = xstrdup(self);
		return true;
	}
	if (!make_dir(s, s->bin, 0755, false, err))
		return false;
	s->exe = xasprintf("%s/pgrescue", s->bin);
	return copy_file(self, s->exe, 0755, err);
}

/* ---------------------------------------------------------------- data */

static bool exec_all(PGconn *conn, const char *const *stmts, struct pgr_error *err)
{
	for (size_t i = 0; stmts[i]; i++)
		if (!pgr_pg_exec(conn, stmts[i], NULL, err))
			return false;
	return true;
}

static bool value_is(PGconn *conn, const char *sql, const char *want, bool *is, struct pgr_error *err)
{
	char *v = NULL;
	if (!pgr_pg_value(conn, sql, &v, err))
		return false;
	*is = v && !strcmp(v, want);
	free(v);
	return true;
}

#define WORDS_ADJ "'Insane','Clean','Unreal','Lucky','Wild','Perfect','Silly','Epic','Quick','Cursed','Smooth'"
#define WORDS_MOMENT                                                                                                   \
	"'1v4 clutch','headshot','speedrun skip','no-scope','comeback','boss fight','ace','trick shot','fail',"        \
	"'last-second save','wall jump'"
#define WORDS_GAME                                                                                                     \
	"'Valorant','Rocket League','Elden Ring','Minecraft','CS2','Apex Legends','Overwatch 2','Celeste',"            \
	"'Hollow Knight','Hades','Tetris'"
#define WORDS_FIRST                                                                                                    \
	"'Ada','Ben','Chloe','Dev','Elif','Femi','Greta','Hiro','Ines','Jonas','Kira','Luca','Maya','Nils','Omar',"    \
	"'Priya','Quinn','Rosa','Sven','Tara'"
#define WORDS_LAST                                                                                                     \
	"'Okafor','Larsen','Nakamura','Silva','Novak','Byrne','Haddad','Kowalski','Moreau','Rossi','Schmidt',"         \
	"'Tanaka','Varga','Walsh','Yilmaz','Zhang','Ahmed','Berg','Costa','Dubois'"

static bool load_clipper(PGconn *conn, const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	char *users = xasprintf(
	        "INSERT INTO users (username, email, display_name, bio, is_verified, created_at, last_login_at) "
	        "SELECT lower(f) || '_' || lower(l) || g, lower(f) || '.' || lower(l) || g || '@' || d, f || ' ' || l, "
	        "       CASE WHEN random() < 0.3 THEN 'Clips of ' || (ARRAY[" WORDS_GAME
	        "])[1 + floor(random() * 11)::int] END, "
	        "       random() < 0.05, c, CASE WHEN random() < 0.1 THEN NULL ELSE c + (now() - c) * random() END "
	        "FROM (SELECT g, (ARRAY[" WORDS_FIRST "])[1 + floor(random() * 20)::int] AS f, "
	        "             (ARRAY[" WORDS_LAST "])[1 + floor(random() * 20)::int] AS l, "
	        "             (ARRAY['example.com','mail.example.org','clipper.test'])[1 + g %% 3] AS d, "
	        "             now() - interval '730 days' * random() AS c "
	        "      FROM generate_series(1, %d) g) s",
	        o->users);
	char *clips = xasprintf(
	        "INSERT INTO clips (user_id, title, slug, game, duration_seconds, views, likes, created_at) "
	        "SELECT u.id, t, lower(regexp_replace(t, '[^A-Za-z0-9]+', '-', 'g')) || '-' || to_hex(g), gm, "
	        "       5 + floor(random() * 56)::int, v, floor(v * random() * 0.1)::int, "
	        "       u.created_at + (now() - u.created_at) * random() "
	        "FROM (SELECT g, uid, gm, adj || ' ' || mo || ' in ' || gm AS t, v "
	        "      FROM (SELECT g, 1 + floor(random() * %d)::bigint AS uid, "
	        "                   (ARRAY[" WORDS_GAME "])[1 + floor(random() * 11)::int] AS gm, "
	        "                   (ARRAY[" WORDS_ADJ "])[1 + floor(random() * 11)::int] AS adj, "
	        "                   (ARRAY[" WORDS_MOMENT "])[1 + floor(random() * 11)::int] AS mo, "
	        "                   floor(exp(random() * 12))::bigint AS v "
	        "            FROM generate_series(1, %d) g) a) b "
	        "JOIN users u ON u.id = b.uid ORDER BY g",
	        o->users > 0 ? o->users : 1, o->clips);
	const char *stmts[] = {
	        "BEGIN",
	        "SET LOCAL client_min_messages = warning",
	        "SELECT setseed(0.42)",
	        "DROP TABLE IF EXISTS clips, users",
	        "CREATE TABLE users ("
	        " id bigserial PRIMARY KEY,"
	        " username text NOT NULL UNIQUE,"
	        " email text NOT NULL UNIQUE,"
	        " display_name text NOT NULL,"
	        " bio text,"
	        " is_verified boolean NOT NULL DEFAULT false,"
	        " created_at timestamptz NOT NULL DEFAULT now(),"
	        " last_login_at timestamptz)",
	        "CREATE TABLE clips ("
	        " id bigserial PRIMARY KEY,"
	        " user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	        " title text NOT NULL,"
	        " slug text NOT NULL UNIQUE,"
	        " game text,"
	        " duration_seconds integer NOT NULL CHECK (duration_seconds > 0),"
	        " views bigint NOT NULL DEFAULT 0,"
	        " likes integer NOT NULL DEFAULT 0,"
	        " created_at timestamptz NOT NULL DEFAULT now())",
	        users,
	        clips,
	        "CREATE INDEX users_created_at_idx ON users (created_at)",
	        "CREATE INDEX clips_user_id_idx ON clips (user_id)",
	        "CREATE INDEX clips_created_at_idx ON clips (created_at DESC)",
	        "CREATE INDEX clips_game_idx ON clips (game)",
	        "ALTER TABLE users OWNER TO clipper",
	        "ALTER TABLE clips OWNER TO clipper",
	        "COMMIT",
	        "ANALYZE users",
	        "ANALYZE clips",
	        NULL,
	};
	bool ok = exec_all(conn, stmts, err);
	if (!ok)
		(void)pgr_pg_exec(conn, "ROLLBACK", NULL, NULL);
	free(users);
	free(clips);
	return ok;
}

/* Role, database and tables, each only when missing. The load is one
 * transaction, so an interrupted run leaves no half-filled tables. */
static bool ensure_data(const struct sandbox *s, const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	PGconn *conn = pgr_pg_connect(s->dsn, "postgres", 10, err);
	if (!conn)
		return false;
	bool exists = false;
	bool ok = value_is(conn, "SELECT count(*) FROM pg_roles WHERE rolname = 'clipper'", "1", &exists, err);
	if (ok && !exists)
		ok = pgr_pg_exec(conn, "CREATE ROLE clipper LOGIN", NULL, err);
	if (ok)
		ok = value_is(conn, "SELECT count(*) FROM pg_database WHERE datname = 'clipper_db'", "1", &exists, err);
	if (ok && !exists)
		ok = pgr_pg_exec(conn, "CREATE DATABASE clipper_db OWNER clipper", NULL, err);
	PQfinish(conn);
	if (!ok)
		return false;
	conn = pgr_pg_connect(s->dsn, NULL, 10, err);
	if (!conn)
		return false;
	ok = value_is(conn,
	              "SELECT to_regclass('public.users') IS NOT NULL AND to_regclass('public.clips') IS NOT NULL", "t",
	              &exists, err);
	if (ok && !exists) {
		say(o, "loading clipper_db: %d users, %d clips", o->users, o->clips);
		ok = load_clipper(conn, o, err);
	}
	PQfinish(conn);
	if (!ok)
		pgr_error_prefix(err, "loading clipper_db");
	return ok;
}

static bool count_rows(const struct sandbox *s, char **users, char **clips)
{
	struct pgr_error err = {0};
	PGconn *conn = pgr_pg_connect(s->dsn, NULL, 5, &err);
	if (!conn)
		return false;
	bool ok = pgr_pg_value(conn, "SELECT count(*) FROM users", users, &err) &&
	        pgr_pg_value(conn, "SELECT count(*) FROM clips", clips, &err);
	PQfinish(conn);
	return ok;
}

/* ---------------------------------------------------------------- store */

struct store_counts {
	int dumps, bases, wal;
	char newest_base[32];
	char newest_dump[128];
};

static bool count_store(const char *url, struct store_counts *c, struct pgr_error *err)
{
	memset(c, 0, sizeof *c);
	struct pgr_store *st = pgr_store_open(url, err);
	if (!st)
		return false;
	struct pgr_object_list l = {0};
	bool ok = pgr_store_list(st, PGR_PREFIX_DUMPS, &l, err);
	for (size_t i = 0; ok && i < l.n; i++) {
		time_t t;
		if (pgr_dump_key_parse(l.items[i].key, &t)) {
			c->dumps++;
			const char *name = l.items[i].key + strlen(PGR_PREFIX_DUMPS);
			if (strcmp(name, c->newest_dump) > 0)
				snprintf(c->newest_dump, sizeof c->newest_dump, "%s", name);
		}
	}
	pgr_object_list_free(&l);
	memset(&l, 0, sizeof l);
	if (ok)
		ok = pgr_store_list(st, PGR_PREFIX_BASE, &l, err);
	for (size_t i = 0; ok && i < l.n; i++) {
		/* base/<label>/pgrescue.json: written last, so it marks a complete backup. */
		const char *rest = l.items[i].key + strlen(PGR_PREFIX_BASE);
		const char *slash = strchr(rest, '/');
		if (!slash || strcmp(slash + 1, PGR_BASE_MANIFEST) != 0)
			continue;
		c->bases++;
		char label[32];
		snprintf(label, sizeof label, "%.*s", (int)(slash - rest), rest);
		if (strcmp(label, c->newest_base) > 0)
			snprintf(c->newest_base, sizeof c->newest_base, "%s", label);
	}
	pgr_object_list_free(&l);
	memset(&l, 0, sizeof l);
	if (ok)
		ok = pgr_store_list(st, PGR_PREFIX_WAL, &l, err);
	for (size_t i = 0; ok && i < l.n; i++) {
		struct pgr_walname w;
		if (pgr_walname_parse(l.items[i].key + strlen(PGR_PREFIX_WAL), &w) && w.kind == PGR_WAL_SEGMENT)
			c->wal++;
	}
	pgr_object_list_free(&l);
	pgr_store_close(st);
	return ok;
}

/* ---------------------------------------------------------------- locking */

static int lock_dir(const struct sandbox *s, struct pgr_error *err)
{
	int fd = open(s->lockf, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot open \"%s\"", s->lockf);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		pgr_error_set(err, PGR_ERR_CONFLICT, "another \"pgrescue sandbox\" command is working on %s", s->dir);
		pgr_error_hint(err, "Wait for it to finish, then try again.");
		return -1;
	}
	return fd;
}

/* ---------------------------------------------------------------- summary */

static void print_summary(const struct sandbox *s, const char *config_path, bool running, int replicas, bool quiet)
{
	if (quiet)
		return;
	char *users = NULL, *clips = NULL;
	bool rows = running && count_rows(s, &users, &clips);
	struct store_counts c;
	struct pgr_error err = {0};
	bool counted = count_store(s->store_url, &c, &err);
	printf("Sandbox ready in %s\n", s->dir);
	printf("  database  %s (%s)\n", s->dsn, running ? "running" : "stopped");
	if (rows)
		printf("  data      %s users, %s clips\n", users, clips);
	if (counted)
		printf("  store     %s (%d dump%s, %d base backup%s, %d WAL segment%s)\n", s->store_url, c.dumps,
		       c.dumps == 1 ? "" : "s", c.bases, c.bases == 1 ? "" : "s", c.wal, c.wal == 1 ? "" : "s");
	else
		printf("  store     %s (cannot list: %s)\n", s->store_url, err.msg);
	printf("  app       %d replica%s (logs in %s)\n", replicas, replicas == 1 ? "" : "s", s->app);
	if (counted && c.bases > 0)
		printf("  backup    newest base backup %s%s%s\n", c.newest_base, c.newest_dump[0] ? ", dump " : "",
		       c.newest_dump);
	else
		printf("  backup    none yet\n");
	printf("  config    [env %s] in %s\n", ENV_NAME, config_path);
	printf("Next: pgrescue --env %s status\n", ENV_NAME);
	free(users);
	free(clips);
}

/* ---------------------------------------------------------------- up */

static bool register_env(const struct sandbox *s, const char *config_path, struct pgr_error *err)
{
	char *metrics = xasprintf("%s/metrics.prom", s->dir);
	const char *keys[12], *values[12];
	int n = 0;
	keys[n] = "platform", values[n++] = "local";
	keys[n] = "dsn", values[n++] = s->dsn;
	keys[n] = "store", values[n++] = s->store_url;
	keys[n] = "pg_bindir", values[n++] = s->pg_bindir;
	keys[n] = "data_dir", values[n++] = s->data;
	if (s->server_user)
		keys[n] = "run_as", values[n++] = s->server_user;
	keys[n] = "app_scale", values[n++] = "builtin";
	keys[n] = "sandbox_dir", values[n++] = s->dir;
	keys[n] = "metrics_file", values[n++] = metrics;
	bool ok = pgr_config_upsert_env(config_path, ENV_NAME, keys, values, n, err);
	free(metrics);
	if (!ok)
		pgr_error_prefix(err, "registering [env %s] in %s", ENV_NAME, config_path);
	return ok;
}

static bool first_backup(const struct sandbox *s, const struct pgr_env *env, const struct pgr_sandbox_opts *o,
                         struct pgr_error *err)
{
	struct store_counts c;
	if (!count_store(s->store_url, &c, err))
		return false;
	if (c.bases > 0)
		return true;
	say(o, "taking the first backup (dump and base backup) into %s", s->store_url);
	struct pgr_backup_opts bo;
	pgr_backup_opts_default(&bo);
	bo.quiet = o->quiet;
	struct pgr_backup_result res = {0};
	bool ok = pgr_backup_run(env, &bo, &res, err);
	pgr_backup_result_free(&res);
	if (!ok)
		pgr_error_prefix(err, "the sandbox's first backup");
	return ok;
}

static bool sandbox_up_locked(struct sandbox *s, const struct pgr_sandbox_opts *o, const char *config_path,
                              struct pgr_error *err)
{
	bool fresh = !read_state(s);
	if (!s->created) {
		char now[32];
		pgr_time_format_utc(pgr_now(), now, sizeof now);
		s->created = xstrdup(now);
	}
	if (o->port > 0)
		s->port = o->port;
	/* Layout first: the socket directory must exist to pick a port. */
	if (!make_dir(s, s->run, 0700, true, err) || !make_dir(s, s->store_dir, 0750, true, err) ||
	    !make_dir(s, s->app, 0755, false, err) || !make_server_file(s, s->log, err))
		return false;
	if (s->port <= 0)
		s->port = pick_port(s);
	set_dsn(s);
	struct sockaddr_un sun;
	char *sock = xasprintf("%s/.s.PGSQL.%d", s->run, s->port);
	bool too_long = strlen(sock) >= sizeof sun.sun_path;
	free(sock);
	if (too_long) {
		pgr_error_set(err, PGR_ERR_USAGE, "the sandbox directory \"%s\" is too long for a Unix socket path",
		              s->dir);
		pgr_error_hint(err, "Use a shorter directory: pgrescue sandbox up --dir=/short/path");
		return false;
	}
	if (!choose_exe(s, err) || !write_state(s, err) || !write_archive_ini(s, err))
		return false;
	if (!data_usable(s) && !build_cluster(s, o, err))
		return false;
	bool changed = false;
	if (!write_settings(s, &changed, err))
		return false;

	struct pgr_env env;
	sandbox_env(s, &env);
	struct pgr_platform *p = pgr_platform_open(&env, err);
	bool ok = p != NULL;
	bool running = false;
	if (ok)
		ok = p->ops->db_running(p, &running, err);
	if (ok && !running) {
		say(o, "starting PostgreSQL on port %d (socket in %s)", s->port, s->run);
		ok = p->ops->db_start(p, err);
	} else if (ok && changed) {
		/* Settings we rewrote (e.g. archive_command) take effect on reload. */
		PGconn *conn = pgr_pg_connect(s->dsn, "postgres", 10, err);
		ok = conn && pgr_pg_exec(conn, "SELECT pg_reload_conf()", NULL, err);
		if (conn)
			PQfinish(conn);
	}
	if (ok)
		ok = ensure_data(s, o, err);
	if (ok)
		ok = register_env(s, config_path, err);
	int replicas = 0;
	if (ok)
		ok = p->ops->app_replicas(p, &replicas, err);
	if (ok && replicas < o->replicas) {
		ok = p->ops->app_scale(p, o->replicas, err);
		if (ok)
			replicas = o->replicas;
	}
	if (ok)
		ok = first_backup(s, &env, o, err);
	if (ok) {
		if (fresh)
			say(o, "sandbox created");
		print_summary(s, config_path, true, replicas, o->quiet);
	}
	pgr_platform_close(p);
	pgr_env_free(&env);
	return ok;
}

bool pgr_sandbox_up(const struct pgr_sandbox_opts *o_in, struct pgr_error *err)
{
	struct pgr_sandbox_opts o = *o_in;
	if (o.users <= 0)
		o.users = 5000;
	if (o.clips <= 0)
		o.clips = 40000;
	if (o.replicas < 0)
		o.replicas = 3;
	char *dir = NULL;
	char *wanted = NULL;
	bool fell_back = false;
	if (o.dir && *o.dir)
		dir = absolute(o.dir);
	else
		dir = default_dir(&fell_back, &wanted);
	struct sandbox s;
	sandbox_paths(&s, dir, o.pg_bindir);
	free(dir);
	char *config_path = o.config_path ? xstrdup(o.config_path) : pgr_config_default_path(NULL);
	bool ok = sandbox_user(&s, err);
	if (ok && s.root && o.dir && *o.dir && !reachable_once_made(s.dir, s.uid, s.gid)) {
		pgr_error_set(err, PGR_ERR_USAGE, "the user \"%s\" cannot reach \"%s\"", s.server_user, s.dir);
		pgr_error_hint(err, "The server runs as %s: choose a directory it can reach, e.g. --dir=%s",
		               s.server_user, FALLBACK_DIR);
		ok = false;
	}
	if (ok && fell_back && !pgr_path_exists(s.json) && !o.quiet)
		fprintf(stderr, "pgrescue: note: the postgres user cannot reach %s; the sandbox lives in %s instead\n",
		        wanted ? wanted : "the default directory", s.dir);
	free(wanted);
	mode_t old_mask = umask(022);
	if (ok)
		ok = make_dir(&s, s.dir, s.root ? 0755 : 0700, false, err);
	int lockfd = ok ? lock_dir(&s, err) : -1;
	if (ok && lockfd < 0)
		ok = false;
	if (ok)
		ok = sandbox_up_locked(&s, &o, config_path, err);
	if (lockfd >= 0)
		close(lockfd);
	umask(old_mask);
	if (!ok && !pgr_error_isset(err))
		pgr_error_set(err, PGR_ERR_INTERNAL, "sandbox up failed");
	if (!ok && !err->hint[0])
		pgr_error_hint(err,
		               "Fix the cause and run \"pgrescue sandbox up\" again: it resumes where it stopped.");
	sandbox_free(&s);
	free(config_path);
	return ok;
}

/* ---------------------------------------------------------------- down */

/* Only ever delete a directory that is recognisably a sandbox. */
static bool looks_like_sandbox(const struct sandbox *s)
{
	if (pgr_path_exists(s->json) || pgr_path_exists(s->lockf))
		return true;
	static const char *const known[] = {
	        "data", "run", "store", "app", "bin", "server.log", "archive.ini", ".initdb-complete", "metrics.prom"};
	DIR *d = opendir(s->dir);
	if (!d)
		return false;
	bool ok = true;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		bool k = false;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			if (!strcmp(de->d_name, known[i]))
				k = true;
		if (!k)
			ok = false;
	}
	closedir(d);
	return ok;
}

static bool unregister_env(const struct sandbox *s, const char *config_path, struct pgr_error *err)
{
	struct pgr_config cfg = {0};
	struct pgr_error lerr = {0};
	if (pgr_config_load(config_path, false, &cfg, &lerr)) {
		bool other = false;
		for (int i = 0; i < cfg.n_envs; i++)
			if (!strcmp(cfg.envs[i].name, ENV_NAME) && cfg.envs[i].sandbox_dir &&
			    strcmp(cfg.envs[i].sandbox_dir, s->dir) != 0)
				other = true;
		pgr_config_free(&cfg);
		/* [env sandbox] names another sandbox directory: not ours to remove. */
		if (other)
			return true;
	} else {
		pgr_config_free(&cfg);
	}
	if (!pgr_config_remove_env(config_path, ENV_NAME, err)) {
		pgr_error_prefix(err, "removing [env %s] from %s", ENV_NAME, config_path);
		return false;
	}
	return true;
}

bool pgr_sandbox_down(const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	char *dir = pgr_sandbox_dir(o->dir);
	struct sandbox s;
	sandbox_paths(&s, dir, o->pg_bindir);
	free(dir);
	char *config_path = o->config_path ? xstrdup(o->config_path) : pgr_config_default_path(NULL);
	bool ok = true;
	if (!pgr_is_dir(s.dir)) {
		ok = unregister_env(&s, config_path, err);
		if (ok && !o->quiet)
			printf("No sandbox at %s: nothing to do.\n", s.dir);
		sandbox_free(&s);
		free(config_path);
		return ok;
	}
	if (!looks_like_sandbox(&s)) {
		pgr_error_set(err, PGR_ERR_USAGE, "\"%s\" does not look like a pgrescue sandbox; not removing it",
		              s.dir);
		pgr_error_hint(err, "A sandbox directory holds sandbox.json; check --dir.");
		sandbox_free(&s);
		free(config_path);
		return false;
	}
	read_state(&s);
	set_dsn(&s);
	/* The server's user is whoever owns the data directory. */
	struct stat st;
	const char *user = NULL;
	struct passwd *pw = NULL;
	if (stat(s.data, &st) == 0 && s.root && st.st_uid != 0 && (pw = getpwuid(st.st_uid)))
		user = pw->pw_name;
	char *user_copy = user ? xstrdup(user) : NULL;
	s.server_user = user_copy;
	int lockfd = lock_dir(&s, err);
	if (lockfd < 0)
		ok = false;
	struct pgr_env env;
	sandbox_env(&s, &env);
	struct pgr_platform *p = ok ? pgr_platform_open(&env, err) : NULL;
	if (ok && !p)
		ok = false;
	/* The app first, so that nothing writes while the server goes down. */
	if (ok)
		ok = p->ops->app_scale(p, 0, err);
	char *pgver = xasprintf("%s/PG_VERSION", s.data);
	if (ok && pgr_path_exists(pgver))
		ok = p->ops->db_stop(p, err);
	free(pgver);
	pgr_platform_close(p);
	pgr_env_free(&env);
	if (ok && live_postmaster(&s) > 0) {
		/* pg_ctl could not even see it (e.g. a broken data directory): the
		 * last resort, so that no server runs on a deleted directory. */
		pid_t pm = live_postmaster(&s);
		kill(pm, SIGQUIT);
		for (int i = 0; i < 100 && live_postmaster(&s) > 0; i++)
			usleep(100000);
		if (live_postmaster(&s) > 0) {
			kill(pm, SIGKILL);
			usleep(200000);
		}
	}
	if (ok)
		ok = pgr_rm_rf(s.dir, err);
	if (lockfd >= 0)
		close(lockfd);
	if (ok)
		ok = unregister_env(&s, config_path, err);
	if (ok && !o->quiet)
		printf("Sandbox removed: %s (server stopped, app stopped, [env %s] removed from %s)\n", s.dir, ENV_NAME,
		       config_path);
	s.server_user = NULL;
	free(user_copy);
	sandbox_free(&s);
	free(config_path);
	return ok;
}

/* ---------------------------------------------------------------- status */

bool pgr_sandbox_status(const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	char *dir = pgr_sandbox_dir(o->dir);
	struct sandbox s;
	sandbox_paths(&s, dir, o->pg_bindir);
	free(dir);
	if (!pgr_is_dir(s.dir) || !read_state(&s)) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "no sandbox is set up at %s", s.dir);
		pgr_error_hint(err, "Run \"pgrescue sandbox up\" to create it.");
		sandbox_free(&s);
		return false;
	}
	set_dsn(&s);
	pid_t pm = data_usable(&s) ? live_postmaster(&s) : 0;
	int replicas = 0;
	struct pgr_error aerr = {0};
	bool have_replicas = pgr_app_builtin_replicas(s.dir, &replicas, &aerr);
	struct store_counts c;
	struct pgr_error serr = {0};
	bool counted = count_store(s.store_url, &c, &serr);
	if (!o->quiet) {
		printf("sandbox   %s (created %s)\n", s.dir, s.created && *s.created ? s.created : "unknown");
		if (pm > 0)
			printf("server    running (pid %ld), port %d, socket in %s\n", (long)pm, s.port, s.run);
		else
			printf("server    stopped, port %d%s\n", s.port,
			       data_usable(&s) ? "" : " (data directory incomplete: run pgrescue sandbox up)");
		printf("dsn       %s\n", s.dsn);
		if (have_replicas)
			printf("app       %d replica%s\n", replicas, replicas == 1 ? "" : "s");
		else
			printf("app       unknown: %s\n", aerr.msg);
		if (counted)
			printf("store     %s: %d dump%s, %d base backup%s, %d WAL segment%s\n", s.store_url, c.dumps,
			       c.dumps == 1 ? "" : "s", c.bases, c.bases == 1 ? "" : "s", c.wal, c.wal == 1 ? "" : "s");
		else
			printf("store     %s: cannot list (%s)\n", s.store_url, serr.msg);
		if (counted && c.bases > 0)
			printf("backup    newest base backup %s\n", c.newest_base);
	}
	sandbox_free(&s);
	return true;
}
