/* The sandbox's built-in application: each replica is a real process
 * (`pgrescue sandbox app-replica DSN`) inserting a clip every second, with a
 * pid file <dir>/app/replica-N.pid and a log beside it. Scaling starts and
 * stops those processes, so a restore's "scale 3 -> 0 -> 3" is real here. */
#include "config.h"

#include "platform/platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "source/pg.h"

#define MAX_REPLICAS 64
#define STOP_WAIT_SEC 15
#define LOCK_WAIT_SEC 60

struct replica {
	int index;
	pid_t pid;
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Is pid one of our replicas, alive? Reaps it first when it is our own child
 * (a replica started by this process and since stopped is a zombie until then). */
static bool replica_alive(pid_t pid)
{
	if (pid <= 1)
		return false;
	(void)waitpid(pid, NULL, WNOHANG);
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	char *text = NULL;
	if (pgr_read_file(path, &text, NULL, NULL)) {
		const char *rp = strrchr(text, ')');
		bool zombie = rp && (rp[1] == ' ') && (rp[2] == 'Z' || rp[2] == 'X');
		free(text);
		if (zombie)
			return false;
	}
	/* A pid file outliving its process may name a recycled pid: check that it
	 * is still an app replica before counting (or signalling) it. */
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	size_t len = 0;
	text = NULL;
	if (!pgr_read_file(path, &text, &len, NULL))
		return true; /* no /proc: trust kill(0) */
	bool ours = false;
	for (size_t off = 0; off < len; off += strlen(text + off) + 1)
		if (strcmp(text + off, "app-replica") == 0)
			ours = true;
	free(text);
	return ours;
}

static char *pid_path(const char *appdir, int index)
{
	return xasprintf("%s/replica-%d.pid", appdir, index);
}

/* Live replicas under appdir, sorted by index; stale pid files are removed. */
static bool list_replicas(const char *appdir, struct replica *out, int *n, struct pgr_error *err)
{
	*n = 0;
	DIR *d = opendir(appdir);
	if (!d) {
		if (errno == ENOENT)
			return true;
		return pgr_error_errno(err, errno, "cannot open the app directory \"%s\"", appdir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		int index = 0, used = 0;
		if (sscanf(de->d_name, "replica-%d.pid%n", &index, &used) != 1 || de->d_name[used] != '\0' ||
		    index <= 0)
			continue;
		char *path = xasprintf("%s/%s", appdir, de->d_name);
		char *text = NULL;
		long pid = 0;
		if (pgr_read_file(path, &text, NULL, NULL)) {
			pid = strtol(text, NULL, 10);
			free(text);
		}
		if (pid > 1 && replica_alive((pid_t)pid) && *n < MAX_REPLICAS) {
			out[*n].index = index;
			out[*n].pid = (pid_t)pid;
			(*n)++;
		} else {
			unlink(path);
		}
		free(path);
	}
	closedir(d);
	/* Insertion sort: a handful of entries. */
	for (int i = 1; i < *n; i++)
		for (int j = i; j > 0 && out[j - 1].index > out[j].index; j--) {
			struct replica t = out[j];
			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return true;
}

bool pgr_app_builtin_replicas(const char *dir, int *replicas, struct pgr_error *err)
{
	char *appdir = xasprintf("%s/app", dir);
	struct replica r[MAX_REPLICAS];
	int n = 0;
	bool ok = list_replicas(appdir, r, &n, err);
	free(appdir);
	if (ok)
		*replicas = n;
	return ok;
}

/* One scaler at a time per app directory. */
static int lock_app(const char *appdir, struct pgr_error *err)
{
	char *path = xasprintf("%s/scale.lock", appdir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot open the lock file \"%s\"", path);
		free(path);
		return -1;
	}
	double deadline = pgr_monotonic() + LOCK_WAIT_SEC;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			pgr_error_errno(err, errno, "cannot lock \"%s\"", path);
			close(fd);
			free(path);
			return -1;
		}
		if (pgr_monotonic() > deadline) {
			pgr_error_set(err, PGR_ERR_CONFLICT, "another pgrescue is scaling the app (\"%s\" is locked)",
			              path);
			pgr_error_hint(err, "Wait for it to finish, then try again.");
			close(fd);
			free(path);
			return -1;
		}
		sleep_ms(100);
	}
	free(path);
	return fd;
}

static char *log_tail(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	if (!pgr_read_file(path, &text, &len, NULL))
		return xstrdup("");
	size_t keep = 1500;
	char *tail = xstrdup(len > keep ? text + len - keep : text);
	free(text);
	return tail;
}

static bool start_replica(const char *appdir, int index, const char *exe, const char *dsn, struct pgr_error *err)
{
	char *logp = xasprintf("%s/replica-%d.log", appdir, index);
	int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		pgr_error_errno(err, errno, "cannot open the replica log \"%s\"", logp);
		free(logp);
		return false;
	}
	const char *argv[] = {exe, "sandbox", "app-replica", dsn, NULL};
	struct pgr_proc_spec spec = {
	        .argv = argv,
	        .cwd = "/",
	        .stdin_fd = -1,
	        .out = PGR_IO_FD,
	        .out_fd = logfd,
	        .err = PGR_IO_FD,
	        .err_fd = logfd,
	        .detach = true,
	};
	struct pgr_proc proc;
	bool ok = pgr_proc_start(&spec, &proc, err);
	close(logfd);
	free(logp);
	if (!ok) {
		pgr_error_prefix(err, "starting app replica %d", index);
		return false;
	}
	char *pidp = pid_path(appdir, index);
	char buf[32];
	int len = snprintf(buf, sizeof buf, "%ld\n", (long)proc.pid);
	ok = pgr_write_file_atomic(pidp, buf, (size_t)len, 0644, err);
	free(pidp);
	if (!ok)
		kill(proc.pid, SIGTERM);
	return ok;
}

/* SIGTERM the given replicas and wait for them to go; SIGKILL stragglers. */
static bool stop_replicas(const char *appdir, const struct replica *r, int n, struct pgr_error *err)
{
	for (int i = 0; i < n; i++)
		kill(r[i].pid, SIGTERM);
	double deadline = pgr_monotonic() + STOP_WAIT_SEC;
	bool killed = false;
	for (;;) {
		int alive = 0;
		for (int i = 0; i < n; i++)
			if (replica_alive(r[i].pid))
				alive++;
		if (alive == 0)
			break;
		if (pgr_monotonic() > deadline) {
			if (killed)
				return pgr_error_set(err, PGR_ERR_TOOL,
				                     "%d app replica(s) under \"%s\" did not stop, even after SIGKILL",
				                     alive, appdir);
			for (int i = 0; i < n; i++)
				if (replica_alive(r[i].pid))
					kill(r[i].pid, SIGKILL);
			killed = true;
			deadline = pgr_monotonic() + 5;
		}
		sleep_ms(50);
	}
	for (int i = 0; i < n; i++) {
		char *pidp = pid_path(appdir, r[i].index);
		unlink(pidp);
		free(pidp);
	}
	return true;
}

bool pgr_app_builtin_scale(const char *dir, const char *self_exe, const char *dsn, int n, struct pgr_error *err)
{
	if (n < 0 || n > MAX_REPLICAS)
		return pgr_error_set(err, PGR_ERR_USAGE, "cannot scale the app to %d replicas (0 to %d)", n,
		                     MAX_REPLICAS);
	char *appdir = xasprintf("%s/app", dir);
	if (!pgr_mkdir_p(appdir, 0755, err)) {
		free(appdir);
		return false;
	}
	int lockfd = lock_app(appdir, err);
	if (lockfd < 0) {
		free(appdir);
		return false;
	}
	struct replica r[MAX_REPLICAS];
	int have = 0;
	bool ok = list_replicas(appdir, r, &have, err);
	if (ok && have > n)
		ok = stop_replicas(appdir, r + n, have - n, err);
	if (ok && have < n) {
		if (!dsn || !*dsn)
			ok = pgr_error_set(err, PGR_ERR_CONFIG,
			                   "cannot start app replicas: no database connection string");
		int new_index[MAX_REPLICAS];
		long new_off[MAX_REPLICAS];
		int n_new = 0;
		for (int index = 1, started = 0; ok && started < n - have; index++) {
			bool used = false;
			for (int i = 0; i < have; i++)
				if (r[i].index == index)
					used = true;
			if (used)
				continue;
			char *logp = xasprintf("%s/replica-%d.log", appdir, index);
			struct stat lsb;
			new_off[n_new] = stat(logp, &lsb) == 0 ? (long)lsb.st_size : 0;
			new_index[n_new++] = index;
			free(logp);
			ok = start_replica(appdir, index, self_exe ? self_exe : pgr_self_exe(), dsn, err);
			started++;
		}
		if (ok) {
			/* A replica that cannot even start (bad arguments, missing
			 * libraries) dies at once: wait until each says "started"
			 * (it is past both), at most 300 ms. */
			for (int waited = 0; waited < 300; waited += 10) {
				int ready = 0;
				for (int i = 0; i < n_new; i++) {
					char *logp = xasprintf("%s/replica-%d.log", appdir, new_index[i]);
					char *text = NULL;
					size_t len = 0;
					if (pgr_read_file(logp, &text, &len, NULL) && (size_t)new_off[i] <= len &&
					    strstr(text + new_off[i], "]: started"))
						ready++;
					free(text);
					free(logp);
				}
				if (ready == n_new)
					break;
				sleep_ms(10);
			}
			int now = 0;
			ok = list_replicas(appdir, r, &now, err);
			if (ok && now != n) {
				pgr_error_set(err, PGR_ERR_TOOL,
				              "the app has %d replica(s) instead of %d after starting them", now, n);
				char *logp = xasprintf("%s/replica-1.log", appdir);
				char *tail = log_tail(logp);
				pgr_error_detail(err, "%s", tail);
				pgr_error_hint(err, "See the replica logs in %s.", appdir);
				free(tail);
				free(logp);
				ok = false;
			}
		}
	}
	close(lockfd);
	free(appdir);
	return ok;
}

/* ---------------------------------------------------------------- one replica */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Sleep in small slices so that SIGTERM ends the replica promptly. */
static void nap(int ms)
{
	while (ms > 0 && !stop_requested) {
		int slice = ms < 100 ? ms : 100;
		sleep_ms(slice);
		ms -= slice;
	}
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char when[32];
	pgr_time_format_utc(time(NULL), when, sizeof when);
	fprintf(stderr, "%s replica[%ld]: ", when, (long)getpid());
	char line[PGR_ERR_MSG_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One line per event: libpq's messages span several. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	fprintf(stderr, "%s\n", line);
}

static const char *const adjectives[] = {"Insane", "Clean", "Unreal", "Lucky",  "Wild",  "Perfect",
                                         "Silly",  "Epic",  "Quick",  "Cursed", "Smooth"};
static const char *const moments[] = {"1v4 clutch", "headshot",         "speedrun skip", "no-scope",
                                      "comeback",   "boss fight",       "ace",           "trick shot",
                                      "fail",       "last-second save", "wall jump"};
static const char *const games[] = {"Valorant",      "Rocket League", "Elden Ring",  "Minecraft",
                                    "CS2",           "Apex Legends",  "Overwatch 2", "Celeste",
                                    "Hollow Knight", "Hades",         "Tetris"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void make_slug(const char *title, unsigned *seed, char *out, size_t n)
{
	size_t k = 0;
	bool dash = false;
	for (const char *p = title; *p && k + 12 < n; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[k++] = c;
			dash = false;
		} else if (c >= 'A' && c <= 'Z') {
			out[k++] = (char)(c - 'A' + 'a');
			dash = false;
		} else if (!dash && k > 0) {
			out[k++] = '-';
			dash = true;
		}
	}
	if (k > 0 && out[k - 1] != '-')
		out[k++] = '-';
	snprintf(out + k, n - k, "%04x%04x", (unsigned)rand_r(seed) & 0xffff, (unsigned)rand_r(seed) & 0xffff);
}

int pgr_app_builtin_replica_main(const char *dsn, int interval_ms)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (interval_ms <= 0)
		interval_ms = 1000;

	unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	PGconn *conn = NULL;
	int backoff = 1;
	long inserted = 0;
	char last_error[PGR_ERR_MSG_MAX] = "";
	say("started");
	static const char *const sql =
	        "INSERT INTO clips (user_id, title, slug, game, duration_seconds) "
	        "SELECT u.id, $1, $2, $3, $4::int FROM users u "
	        "WHERE u.id >= (SELECT floor(random() * max(id))::bigint FROM users) ORDER BY u.id LIMIT 1";
	while (!stop_requested) {
		struct pgr_error err = {0};
		if (!conn) {
			conn = pgr_pg_connect(dsn, NULL, 5, &err);
			if (!conn) {
				/* Say it once per outage, not once per attempt. */
				if (strcmp(last_error, err.msg) != 0) {
					say("database unavailable, retrying with backoff: %s", err.msg);
					snprintf(last_error, sizeof last_error, "%s", err.msg);
				}
				nap(backoff * 1000);
				backoff = backoff >= 16 ? 30 : backoff * 2;
				continue;
			}
			say("connected");
			backoff = 1;
			last_error[0] = '\0';
			/* A stuck server must not hold a replica past its SIGTERM for long. */
			(void)pgr_pg_exec(conn, "SET statement_timeout = '10s'", NULL, NULL);
			(void)pgr_pg_exec(conn, "SET application_name = 'clipper-backend'", NULL, NULL);
		}
		const char *game = games[(unsigned)rand_r(&seed) % COUNT(games)];
		char title[160], slug[200], dur[16];
		snprintf(title, sizeof title, "%s %s in %s", adjectives[(unsigned)rand_r(&seed) % COUNT(adjectives)],
		         moments[(unsigned)rand_r(&seed) % COUNT(moments)], game);
		make_slug(title, &seed, slug, sizeof slug);
		snprintf(dur, sizeof dur, "%d", 5 + rand_r(&seed) % 56);
		const char *params[] = {title, slug, game, dur};
		if (pgr_pg_execp(conn, sql, 4, params, NULL, &err)) {
			inserted++;
			last_error[0] = '\0';
		} else if (PQstatus(conn) != CONNECTION_OK) {
			say("lost the connection: %s", err.msg);
			snprintf(last_error, sizeof last_error, "%s", err.msg);
			PQfinish(conn);
			conn = NULL;
			continue;
		} else if (strcmp(last_error, err.msg) != 0) {
			/* E.g. read-only while the database recovers: keep trying. */
			say("insert failed: %s", err.msg);
			snprintf(last_error, sizeof last_error, "%s", err.msg);
		}
		nap(interval_ms);
	}
	say("stopping on signal after inserting %ld clip(s)", inserted);
	if (conn)
		PQfinish(conn);
	return 0;
}
