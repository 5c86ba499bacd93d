/* `pgrescue backup`, the daily job: a logical dump whose exact per-table row
 * counts come from the dump's own snapshot, a physical base backup whose WAL
 * is checked to be in the archive, pgrescue manifests for both, retention,
 * and metrics for every run (failures too). Large files are streamed into
 * the store's staging directory, hashed while they are written, and renamed
 * into place. The dump and the base backup are independent (one reads an
 * exported snapshot, the other copies files), so they run side by side, each
 * on its own connection: the job takes about as long as the longer of the
 * two raw tools, not their sum. */
#include "config.h"

#include "ops/backup.h"

#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "ops/manifest.h"
#include "ops/metrics.h"
#include "ops/retention.h"
#include "ops/walsetup.h"
#include "source/pg.h"
#include "storage/layout.h"
#include "storage/storage.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNECT_TIMEOUT 15
/* Children get hours, not minutes: a large database takes long, but a hung
 * pg_dump must not block the next night's run. */
#define CHILD_TIMEOUT_DEFAULT (6 * 3600)
/* How long archiving may keep failing, or the store lack the base backup's
 * last segment, before the base backup is given up. */
#define ARCHIVE_WAIT_DEFAULT 120
#define PROGRESS_EVERY 10.0
#define COPY_BUF (1024 * 1024)
#define COUNT_BATCH 200
/* How long pg_dump, and the row counts beside it, wait for a table's lock:
 * a lock held by a long migration fails the backup in minutes, not hours. */
#define LOCK_WAIT "15min"
#define METRICS_JOB "postgres_backup"
#define METRICS_PUSH_TIMEOUT 10

enum counts_state {
	COUNTS_PENDING, /* the dump is still counting */
	COUNTS_READY, /* counts/counts_lsn are final */
	COUNTS_NONE, /* no dump, or it failed before counting: the base counts on its own */
};

struct job {
	const struct pgr_env *env;
	const struct pgr_backup_opts *opts;
	struct pgr_store *st;
	const char *bindir;
	int child_timeout;
	int archive_wait;
	char label[32];
	char *workdir; /* our own directory under the staging dir, removed at the end */
	char *own_tmp; /* a temporary staging dir we made (no store staging dir) */
	PGconn *conn; /* the preflight's; then the dump's (or the base's when it runs alone) */

	/* Facts from the preflight. */
	char *server_version;
	char *sysid;
	char *dbname;
	uint64_t seg_size;
	bool in_recovery;
	char *archive_mode;
	char *archive_command; /* NULL when hidden from this role */
	char *archive_library;

	/* Row counts (tables only) and the LSN of the snapshot they were taken in:
	 * published by the dump as soon as they are known, read by the base
	 * backup for its manifest. Written once, under mu, before counts_state
	 * leaves COUNTS_PENDING. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum counts_state counts_state;
	struct pgr_manifest counts;
	uint64_t counts_lsn;
};

/* Slots of the children and connections the signal handler stops: one per
 * part, since the dump and the base backup run at the same time. */
enum { SLOT_DUMP, SLOT_BASE, N_SLOTS };

/* One part of the job (the dump or the base backup) as it runs beside the
 * other: libpq connections and store handles are not shared between
 * threads, so each part has its own. */
struct side {
	struct job *j;
	PGconn *conn;
	struct pgr_store *st;
	int slot;
};

/* SIGTERM (a CronJob's deadline), SIGINT, SIGHUP: stop every running child
 * and query, then fail the run normally, so the staging files go and the
 * metrics still say success 0. The handler may run on any thread: it only
 * reads these lock-free atomics. */
static atomic_int g_child_pid[N_SLOTS];
static atomic_int g_interrupted;
static _Atomic(PGcancel *) g_cancel[N_SLOTS];

static void on_signal(int sig)
{
	int saved = errno;
	atomic_store(&g_interrupted, sig);
	for (int i = 0; i < N_SLOTS; i++) {
		pid_t pid = (pid_t)atomic_load(&g_child_pid[i]);
		if (pid > 0)
			kill(-pid, SIGTERM);
		PGcancel *c = atomic_load(&g_cancel[i]);
		if (c) {
			char buf[256];
			PQcancel(c, buf, sizeof buf); /* documented as safe in a signal handler */
		}
	}
	errno = saved;
}

/* Make a started child known to the handler. A signal that came just before
 * stops it here; one that comes after finds it in the table. */
static void child_started(int slot, pid_t pid)
{
	atomic_store(&g_child_pid[slot], (int)pid);
	if (atomic_load(&g_interrupted))
		kill(-pid, SIGTERM);
}

static void child_ended(int slot)
{
	atomic_store(&g_child_pid[slot], 0);
}

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP};
#define N_HANDLED ((int)(sizeof handled_signals / sizeof handled_signals[0]))

static void signals_install(struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	atomic_store(&g_interrupted, 0);
	for (int i = 0; i < N_SLOTS; i++) {
		atomic_store(&g_child_pid[i], 0);
		atomic_store(&g_cancel[i], NULL);
	}
	for (int i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &sa, &old[i]);
}

static void signals_restore(const struct sigaction *old)
{
	for (int i = 0; i < N_HANDLED; i++)
		sigaction(handled_signals[i], &old[i], NULL);
	for (int i = 0; i < N_SLOTS; i++) {
		PGcancel *c = atomic_exchange(&g_cancel[i], NULL);
		if (c)
			PQfreeCancel(c);
	}
}

static bool interrupted(struct pgr_error *err)
{
	int sig = atomic_load(&g_interrupted);
	if (!sig)
		return false;
	/* strsignal() is not thread-safe; the names that can occur are few. */
	const char *name = sig == SIGTERM ? "Terminated" : sig == SIGINT ? "Interrupt" : sig == SIGHUP ? "Hangup" : "?";
	pgr_error_set(err, PGR_ERR_TOOL, "interrupted by signal %d (%s)", sig, name);
	return true;
}

static void progress(const struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const struct job *j, const char *fmt, ...)
{
	if (j->opts->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	long n = strtol(v, &end, 10);
	return (*end || n <= 0 || n > 7 * 86400) ? def : (int)n;
}

/* The tail of a child's stderr, captured in a temporary file. */
static char *read_tail(FILE *f)
{
	if (!f)
		return xstrdup("");
	/* The child wrote through the descriptor: ask it, not the FILE, for the size. */
	struct stat sb;
	long size = fstat(fileno(f), &sb) == 0 ? (long)sb.st_size : 0;
	long from = size > 1800 ? size - 1800 : 0;
	char *buf = xcalloc(1, 1801);
	if (fseek(f, from, SEEK_SET) == 0) {
		size_t n = fread(buf, 1, 1800, f);
		buf[n] = '\0';
	}
	size_t n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return buf;
}

/* Child environment: a bounded connect, a name in pg_stat_activity. */
static void child_env(const char **envv, const char *appname, const char *dbname, char *dbbuf, size_t dbbuf_n)
{
	int k = 0;
	envv[k++] = appname;
	if (!getenv("PGCONNECT_TIMEOUT"))
		envv[k++] = "PGCONNECT_TIMEOUT=15";
	if (dbname) {
		snprintf(dbbuf, dbbuf_n, "PGDATABASE=%s", dbname);
		envv[k++] = dbbuf;
	}
	envv[k] = NULL;
}

static bool tool_failed(const char *what, const struct pgr_proc_result *r, const char *stderr_text, int timeout,
                        struct pgr_error *err)
{
	if (r->timed_out)
		pgr_error_set(err, PGR_ERR_TOOL, "%s did not finish within %d s and was stopped", what, timeout);
	else if (r->exit_code < 0)
		pgr_error_set(err, PGR_ERR_TOOL, "%s was killed by signal %d", what, r->term_signal);
	else
		pgr_error_set(err, PGR_ERR_TOOL, "%s failed (exit code %d)", what, r->exit_code);
	if (stderr_text && *stderr_text)
		pgr_error_detail(err, "%s", stderr_text);
	if (r->timed_out)
		pgr_error_hint(err, "Set PGRESCUE_BACKUP_TIMEOUT (seconds, default %d) if the database needs longer.",
		               CHILD_TIMEOUT_DEFAULT);
	else if (stderr_text && strstr(stderr_text, "pg_hba.conf"))
		pgr_error_hint(err,
		               "Allow this user to connect in pg_hba.conf (pg_basebackup needs a \"replication\" "
		               "entry) and reload PostgreSQL.");
	else if (stderr_text && (strstr(stderr_text, "REPLICATION") || strstr(stderr_text, "replication role")))
		pgr_error_hint(err, "The backup user needs the REPLICATION attribute: ALTER ROLE name REPLICATION;");
	else if (stderr_text && strstr(stderr_text, "max_wal_senders"))
		pgr_error_hint(err, "Raise max_wal_senders on the server (a restart is needed).");
	else if (stderr_text && strstr(stderr_text, "server version mismatch"))
		pgr_error_hint(err,
		               "Point pg_bindir in the config at client programs of the server's major version "
		               "or newer.");
	return false;
}

/* ------------------------------------------------------------------ preflight */

static bool preflight(struct job *j, struct pgr_error *err)
{
	j->conn = pgr_pg_connect(j->env->dsn, NULL, CONNECT_TIMEOUT, err);
	if (!j->conn) {
		if (!strstr(err->msg, "connect"))
			pgr_error_prefix(err, "cannot connect to the database");
		if (!err->hint[0])
			pgr_error_hint(err, "Is PostgreSQL running, and does dsn in the config point at it?");
		return false;
	}
	PGresult *r = NULL;
	const char *sql =
	        "SELECT current_setting('server_version'), current_database(), pg_is_in_recovery(),"
	        " (SELECT setting::bigint * CASE unit WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192"
	        "   WHEN 'MB' THEN 1048576 ELSE 1 END FROM pg_settings WHERE name = 'wal_segment_size'),"
	        " current_setting('archive_mode'),"
	        " (SELECT setting FROM pg_settings WHERE name = 'archive_command'),"
	        " (SELECT setting FROM pg_settings WHERE name = 'archive_library')";
	if (!pgr_pg_exec(j->conn, sql, &r, err)) {
		pgr_error_prefix(err, "cannot read the server's settings");
		return false;
	}
	j->server_version = xstrdup(PQgetvalue(r, 0, 0));
	j->dbname = xstrdup(PQgetvalue(r, 0, 1));
	j->in_recovery = PQgetvalue(r, 0, 2)[0] == 't';
	j->seg_size = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
	j->archive_mode = xstrdup(PQgetvalue(r, 0, 4));
	if (!PQgetisnull(r, 0, 5))
		j->archive_command = xstrdup(PQgetvalue(r, 0, 5));
	if (!PQgetisnull(r, 0, 6))
		j->archive_library = xstrdup(PQgetvalue(r, 0, 6));
	PQclear(r);
	if (j->seg_size == 0)
		j->seg_size = 16 * 1024 * 1024;
	/* pg_control_system() may be closed to this role; the identifier is a nicety. */
	struct pgr_error e2 = {0};
	if (!pgr_pg_value(j->conn, "SELECT system_identifier::text FROM pg_control_system()", &j->sysid, &e2))
		pgr_debug("system identifier unavailable: %s", e2.msg);
	return true;
}

/* ------------------------------------------------------------------ row counts */

/* Exact count(*) of every user table, in the current transaction's snapshot.
 * ONLY: each table's own rows, so inheritance children are not counted twice.
 * The counts run beside pg_dump and pg_basebackup, off their critical path:
 * JIT compilation and parallel workers would only take CPU from them. A
 * table locked by a migration stops them no longer than it stops pg_dump
 * (the base backup waits for these counts). */
static bool count_rows(PGconn *conn, struct pgr_manifest *out, struct pgr_error *err)
{
	if (!pgr_pg_exec(conn, "SET LOCAL jit = off", NULL, err) ||
	    !pgr_pg_exec(conn, "SET LOCAL max_parallel_workers_per_gather = 0", NULL, err) ||
	    !pgr_pg_exec(conn, "SET LOCAL lock_timeout = '" LOCK_WAIT "'", NULL, err)) {
		pgr_error_prefix(err, "cannot prepare the row counts");
		return false;
	}
	PGresult *list = NULL;
	const char *sql = "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	                  " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	                  " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
	                  " ORDER BY 1, 2";
	if (!pgr_pg_exec(conn, sql, &list, err)) {
		pgr_error_prefix(err, "cannot list the tables to count");
		return false;
	}
	int n = PQntuples(list);
	bool ok = true;
	for (int first = 0; ok && first < n; first += COUNT_BATCH) {
		int last = first + COUNT_BATCH < n ? first + COUNT_BATCH : n;
		struct strbuf q = STRBUF_INIT;
		sb_append(&q, "SELECT ");
		for (int i = first; i < last; i++) {
			const char *s = PQgetvalue(list, i, 0), *t = PQgetvalue(list, i, 1);
			char *qs = PQescapeIdentifier(conn, s, strlen(s));
			char *qt = PQescapeIdentifier(conn, t, strlen(t));
			sb_printf(&q, "%s(SELECT count(*) FROM ONLY %s.%s)", i > first ? ", " : "", qs ? qs : "",
			          qt ? qt : "");
			PQfreemem(qs);
			PQfreemem(qt);
		}
		PGresult *r = NULL;
		ok = pgr_pg_exec(conn, sb_str(&q), &r, err);
		sb_free(&q);
		if (!ok) {
			pgr_error_prefix(err, "cannot count the rows of %d tables", last - first);
			break;
		}
		for (int i = first; i < last; i++)
			pgr_manifest_add_table(out, PQgetvalue(list, i, 0), PQgetvalue(list, i, 1),
			                       strtoll(PQgetvalue(r, 0, i - first), NULL, 10));
		PQclear(r);
	}
	PQclear(list);
	return ok;
}

static void copy_tables(struct pgr_manifest *to, const struct pgr_manifest *from)
{
	for (size_t i = 0; i < from->n_tables; i++)
		pgr_manifest_add_table(to, from->tables[i].schema, from->tables[i].table, from->tables[i].rows);
}

/* The dump hands its counts to the base backup the moment it has them (from
 * == NULL: it will have none). Only the first call counts. */
static void publish_counts(struct job *j, const struct pgr_manifest *from, uint64_t lsn)
{
	pthread_mutex_lock(&j->mu);
	if (j->counts_state == COUNTS_PENDING) {
		if (from) {
			copy_tables(&j->counts, from);
			j->counts_lsn = lsn;
			j->counts_state = COUNTS_READY;
		} else {
			j->counts_state = COUNTS_NONE;
		}
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
}

static enum counts_state counts_now(struct job *j)
{
	pthread_mutex_lock(&j->mu);
	enum counts_state s = j->counts_state;
	pthread_mutex_unlock(&j->mu);
	return s;
}

/* Wait until the dump has counted or given up. The dump always publishes
 * before it returns, and its own steps are bounded; a signal ends the wait. */
static enum counts_state wait_counts(struct job *j)
{
	pthread_mutex_lock(&j->mu);
	while (j->counts_state == COUNTS_PENDING && !atomic_load(&g_interrupted)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	enum counts_state s = j->counts_state;
	pthread_mutex_unlock(&j->mu);
	return s;
}

static int64_t total_rows(const struct pgr_manifest *m)
{
	int64_t s = 0;
	for (size_t i = 0; i < m->n_tables; i++)
		s += m->tables[i].rows;
	return s;
}

static const char *lsn_function(const struct job *j)
{
	return j->in_recovery ? "pg_last_wal_replay_lsn()" : "pg_current_wal_lsn()";
}

static void fill_common(const struct job *j, struct pgr_manifest *m)
{
	m->label = xstrdup(j->label);
	m->database = xstrdup(j->dbname);
	m->server_version = xstrdup(j->server_version);
	m->system_identifier = j->sysid ? xstrdup(j->sysid) : NULL;
	m->pgrescue_version = xstrdup(PACKAGE_VERSION);
	m->wal_segment_size = j->seg_size;
}

/* Write a manifest and put it under key. */
static bool put_manifest(struct side *s, const struct pgr_manifest *m, const char *key, struct pgr_error *err)
{
	char *json = pgr_manifest_to_json(m);
	char *path = xasprintf("%s/manifest-%d.json", s->j->workdir, m->kind);
	bool ok = pgr_write_file_atomic(path, json, strlen(json), 0640, err) &&
	        pgr_store_put(s->st, key, path, true, NULL, NULL, err);
	if (!ok)
		pgr_error_prefix(err, "cannot store the manifest %s", key);
	unlink(path);
	free(path);
	free(json);
	return ok;
}

/* ------------------------------------------------------------------ dump */

/* Copies pg_dump's stdout into the staging file, hashing as it goes. */
struct copier {
	int in_fd, out_fd;
	const char *out_path;
	double deadline;
	const struct job *job;
	uint64_t bytes;
	char sha256[65];
	unsigned char head[8];
	size_t head_len;
	int write_errno;
	bool timed_out;
};

static void *copier_main(void *arg)
{
	struct copier *c = arg;
	char *buf = xmalloc(COPY_BUF);
	struct pgr_sha256 *h = pgr_sha256_new();
	double next_report = pgr_monotonic() + PROGRESS_EVERY;
	for (;;) {
		double left = c->deadline - pgr_monotonic();
		if (left <= 0) {
			c->timed_out = true;
			break;
		}
		struct pollfd p = {.fd = c->in_fd, .events = POLLIN};
		int pr = poll(&p, 1, left < 1.0 ? (int)(left * 1000) + 1 : 1000);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0)
			continue;
		ssize_t n = read(c->in_fd, buf, COPY_BUF);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break;
		if (c->head_len < sizeof c->head) {
			size_t take = sizeof c->head - c->head_len;
			if (take > (size_t)n)
				take = (size_t)n;
			memcpy(c->head + c->head_len, buf, take);
			c->head_len += take;
		}
		pgr_sha256_update(h, buf, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(c->out_fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				c->write_errno = errno;
				break;
			}
			off += w;
		}
		if (c->write_errno)
			break;
		c->bytes += (uint64_t)n;
		if (pgr_monotonic() >= next_report) {
			char sz[32];
			pgr_size_format(c->bytes, sz, sizeof sz);
			progress(c->job, "dump: %s written", sz);
			next_report += PROGRESS_EVERY;
		}
	}
	/* Closing the read end makes a child we stopped reading from fail fast. */
	close(c->in_fd);
	c->in_fd = -1;
	if (!c->write_errno && !c->timed_out && fsync(c->out_fd) < 0 && errno != EINVAL)
		c->write_errno = errno;
	pgr_sha256_final(h, c->sha256);
	free(buf);
	return NULL;
}

/* A temporary file for a child's stderr, not inherited by the other part's
 * children (they are started from another thread meanwhile). */
static FILE *stderr_file(void)
{
	FILE *f = tmpfile();
	if (f)
		(void)fcntl(fileno(f), F_SETFD, FD_CLOEXEC);
	return f;
}

/* Run pg_dump on the exported snapshot while counting rows in it (taken at
 * lsn). On success the file is complete and hashed in c; the counts go to
 * tables, and to the base backup as soon as they are known. */
static bool dump_into(struct side *sd, const char *snapshot, uint64_t lsn, const char *path, struct copier *c,
                      struct pgr_manifest *tables, struct pgr_error *err)
{
	struct job *j = sd->j;
	char *bin = xasprintf("%s/pg_dump", j->bindir);
	char *snaparg = xasprintf("--snapshot=%s", snapshot);
	const char *argv[] = {bin, "-Fc", "-w", "--lock-wait-timeout=" LOCK_WAIT, snaparg, "-d", j->env->dsn, NULL};
	const char *envv[4];
	char dbbuf[512];
	child_env(envv, "PGAPPNAME=pgrescue-backup", j->dbname, dbbuf, sizeof dbbuf);

	bool ok = false;
	FILE *errf = stderr_file();
	int out_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (out_fd < 0 || !errf) {
		pgr_error_errno(err, errno, "cannot create \"%s\"", out_fd < 0 ? path : "a temporary file");
		goto out;
	}
	if (interrupted(err))
		goto out;
	struct pgr_proc_spec spec = {.argv = argv,
	                             .env = envv,
	                             .stdin_fd = -1,
	                             .out = PGR_IO_PIPE,
	                             .err = PGR_IO_FD,
	                             .err_fd = fileno(errf)};
	struct pgr_proc proc;
	if (!pgr_proc_start(&spec, &proc, err))
		goto out;
	child_started(sd->slot, proc.pid);
#ifdef F_SETPIPE_SZ
	/* Fewer, larger reads; the limit may refuse it, which is fine. */
	(void)fcntl(proc.out_fd, F_SETPIPE_SZ, COPY_BUF);
#endif
	double t_end = pgr_monotonic() + j->child_timeout;
	c->in_fd = proc.out_fd;
	c->out_fd = out_fd;
	c->out_path = path;
	c->deadline = t_end;
	c->job = j;
	proc.out_fd = -1; /* the copier owns it now */
	pthread_t th;
	bool counted = true;
	struct pgr_error cerr = {0};
	if (pthread_create(&th, NULL, copier_main, c) != 0) {
		close(c->in_fd);
		c->in_fd = -1;
		counted = false;
		pgr_error_set(&cerr, PGR_ERR_INTERNAL, "cannot start a thread to copy pg_dump's output");
	} else {
		/* pg_dump reads the same snapshot meanwhile: the counts match the dump exactly. */
		counted = count_rows(sd->conn, tables, &cerr);
		if (counted)
			publish_counts(j, tables, lsn);
		else
			kill(-proc.pid, SIGTERM); /* the run has failed: do not wait for the whole dump */
		pthread_join(th, NULL);
	}
	double left = t_end - pgr_monotonic();
	struct pgr_proc_result res = {.out = STRBUF_INIT, .err = STRBUF_INIT};
	pgr_proc_finish(&proc, left < 1 ? 1 : (int)left, &res, err);
	child_ended(sd->slot);
	if (c->timed_out)
		res.timed_out = true;
	char *tail = read_tail(errf);
	if (res.exit_code != 0 || res.timed_out) {
		tool_failed("pg_dump", &res, tail, j->child_timeout, err);
	} else if (c->write_errno) {
		pgr_error_errno(err, c->write_errno, "cannot write the dump to \"%s\"", path);
		pgr_error_hint(err, "Is there enough free space in the store's file system?");
	} else if (!counted) {
		*err = cerr;
	} else if (c->bytes < 5 || memcmp(c->head, "PGDMP", 5) != 0) {
		pgr_error_set(err, PGR_ERR_TOOL, "pg_dump's output (%" PRIu64 " bytes) does not start with PGDMP",
		              c->bytes);
		pgr_error_detail(err, "%s", tail);
	} else {
		ok = true;
	}
	free(tail);
	pgr_proc_result_free(&res);
out:
	if (out_fd >= 0)
		close(out_fd);
	if (errf)
		fclose(errf);
	free(snaparg);
	free(bin);
	return ok;
}

static bool run_dump(struct side *sd, struct pgr_backup_result *res, struct pgr_error *err)
{
	struct job *j = sd->j;
	time_t start = pgr_now();
	double t0 = pgr_monotonic();
	/* The name carries the job's label, like the base backup's prefix. */
	time_t lt = 0;
	pgr_label_parse(j->label, &lt);
	char *key = pgr_dump_key(lt);
	char *mkey = pgr_dump_manifest_key(key);
	char *path = xasprintf("%s/dump.partial", j->workdir);
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_DUMP);
	struct copier c = {.in_fd = -1, .out_fd = -1};
	bool ok = false, in_tx = false, put_dump = false;
	struct pgr_object o;

	if (pgr_store_stat(sd->st, key, &o, err)) {
		free(o.key);
		pgr_error_set(err, PGR_ERR_CONFLICT, "%s already exists in the store", key);
		pgr_error_hint(err, "Another backup ran in the same second; run again.");
		goto out;
	} else if (err->kind != PGR_ERR_NOTFOUND) {
		goto out;
	}
	pgr_error_clear(err);

	char sto[64];
	snprintf(sto, sizeof sto, "SET LOCAL statement_timeout = '%ds'", j->child_timeout);
	/* The snapshot stays exported while this transaction is open, that is
	 * until pg_dump has finished: it must connect and import it first. */
	if (!pgr_pg_exec(sd->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, err))
		goto out;
	in_tx = true;
	/* We sit idle in this transaction while pg_dump works: the server must not end it. */
	if (!pgr_pg_exec(sd->conn, "SET LOCAL idle_in_transaction_session_timeout = 0", NULL, err) ||
	    !pgr_pg_exec(sd->conn, sto, NULL, err))
		goto out;
	char *q = xasprintf("SELECT pg_export_snapshot(), %s::text", lsn_function(j));
	PGresult *r = NULL;
	bool got = pgr_pg_exec(sd->conn, q, &r, err);
	free(q);
	if (!got) {
		pgr_error_prefix(err, "cannot export a snapshot for pg_dump");
		goto out;
	}
	char *snapshot = xstrdup(PQgetvalue(r, 0, 0));
	uint64_t lsn = 0;
	if (!PQgetisnull(r, 0, 1))
		pgr_lsn_parse(PQgetvalue(r, 0, 1), &lsn);
	PQclear(r);
	progress(j, "dump: pg_dump of database \"%s\" started", j->dbname);
	ok = dump_into(sd, snapshot, lsn, path, &c, &m, err);
	free(snapshot);
	if (!ok)
		goto out;
	ok = false;
	in_tx = false;
	if (!pgr_pg_exec(sd->conn, "COMMIT", NULL, err))
		goto out;
	char lsnbuf[32];
	pgr_lsn_format(lsn, lsnbuf, sizeof lsnbuf);
	progress(j, "rows: %zu tables, %" PRId64 " rows at LSN %s", m.n_tables, total_rows(&m), lsnbuf);

	if (!pgr_store_put(sd->st, key, path, true, NULL, NULL, err)) {
		pgr_error_prefix(err, "cannot store the dump as %s", key);
		goto out;
	}
	put_dump = true;
	fill_common(j, &m);
	m.status = xstrdup("complete");
	m.start_time = start;
	m.stop_time = pgr_now();
	m.start_lsn = m.stop_lsn = m.rows_lsn = lsn;
	pgr_manifest_add_file(&m, key, c.bytes, c.sha256);
	if (!put_manifest(sd, &m, mkey, err))
		goto out;
	ok = true;
	res->dump_key = xstrdup(key);
	res->dump_size = c.bytes;
	char sz[32];
	pgr_size_format(c.bytes, sz, sizeof sz);
	progress(j, "dump: done, %s in %.0f s (%s)", sz, pgr_monotonic() - t0, key);
out:
	/* Whatever happened, the base backup must not wait for counts any longer. */
	publish_counts(j, NULL, 0);
	if (in_tx) {
		struct pgr_error e2 = {0};
		pgr_pg_exec(sd->conn, "ROLLBACK", NULL, &e2);
	}
	if (!ok && put_dump) {
		/* Never leave a dump without its manifest: the catalog would count it as good. */
		struct pgr_error e2 = {0};
		if (!pgr_store_delete(sd->st, key, &e2))
			pgr_warn("could not remove %s after the failure: %s", key, e2.msg);
	}
	unlink(path);
	pgr_manifest_free(&m);
	free(path);
	free(mkey);
	free(key);
	return ok;
}

/* ------------------------------------------------------------------ base backup */

/* Hashes base.tar while pg_basebackup is still writing it: the file only
 * grows (the tar writer streams; it also writes to stdout), so reading
 * behind the writer sees every byte once. A thread follows the writer at
 * idle priority; once the writer has exited, the thread hands its place
 * over and run_base hashes the rest itself, at its normal priority. */
#define FOLLOW_CHUNK (256 * 1024) /* small: a handover waits for one chunk at most */
#define FOLLOW_NAP 20000 /* us, when the reader has caught up with the writer */
struct follower {
	char *path;
	atomic_bool done; /* the writer has exited: EOF is final */
	atomic_bool handover; /* the thread stops at its next chunk */
	bool finished; /* reached the final end (or an error) */
	const struct job *job;
	int fd;
	struct pgr_sha256 *h;
	char *buf;
	double next_report;
	uint64_t bytes;
	char sha256[65];
	bool opened;
	int read_errno;
};

static void follower_init(struct follower *f, char *path, const struct job *j)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	f->job = j;
	f->fd = -1;
	f->h = pgr_sha256_new();
	f->buf = xmalloc(FOLLOW_CHUNK);
	f->next_report = pgr_monotonic() + PROGRESS_EVERY;
	atomic_init(&f->done, false);
	atomic_init(&f->handover, false);
}

/* Hash from where the follower is. As the thread (catching_up false) it stops
 * when asked to hand over; catching up, it reads to the final end. */
static void follow(struct follower *f, bool catching_up)
{
	for (;;) {
		if (!catching_up && atomic_load(&f->handover))
			return;
		/* Read the flag first: once it is set the writer has exited, so EOF is final. */
		bool fin = atomic_load(&f->done);
		if (f->fd < 0) {
			f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
			if (f->fd < 0) {
				if (errno != ENOENT) {
					f->read_errno = errno;
					break;
				}
				if (fin)
					break;
				usleep(FOLLOW_NAP);
				continue;
			}
			f->opened = true;
		}
		ssize_t n = read(f->fd, f->buf, FOLLOW_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			f->read_errno = errno;
			break;
		}
		if (n == 0) {
			if (fin)
				break;
			usleep(FOLLOW_NAP);
			continue;
		}
		pgr_sha256_update(f->h, f->buf, (size_t)n);
		f->bytes += (uint64_t)n;
		if (pgr_monotonic() >= f->next_report) {
			char sz[32];
			pgr_size_format(f->bytes, sz, sizeof sz);
			progress(f->job, "base: %s written", sz);
			f->next_report += PROGRESS_EVERY;
		}
	}
	f->finished = true;
}

static void *follower_main(void *arg)
{
	struct follower *f = arg;
	/* While pg_basebackup runs, hash only on CPU time nobody else wants:
	 * pg_basebackup and the walsender are the critical path, and the hash
	 * catches up while they wait on I/O. (An unprivileged thread cannot
	 * leave SCHED_IDLE again, hence the handover rather than a boost.) */
	struct sched_param idle = {0};
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	follow(f, false);
	return NULL;
}

/* Closes the file and frees the hash state; sha256 is final. */
static void follower_close(struct follower *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->h)
		pgr_sha256_final(f->h, f->sha256);
	f->h = NULL;
	free(f->buf);
	f->buf = NULL;
}

/* After the writer has exited: take over from the thread, hash the rest.
 * Returns how many bytes were left when the thread handed over. */
static uint64_t follower_finish(struct follower *f, pthread_t th, bool following)
{
	atomic_store(&f->done, true);
	atomic_store(&f->handover, true);
	if (following)
		pthread_join(th, NULL);
	uint64_t at = f->bytes;
	if (!f->finished)
		follow(f, true);
	follower_close(f);
	return f->bytes - at;
}

static bool parse_wal_ranges(const char *path, uint64_t *start, uint64_t *stop, uint32_t *start_tli, uint32_t *stop_tli,
                             struct pgr_error *err)
{
	char *text = NULL;
	size_t len = 0;
	if (!pgr_read_file(path, &text, &len, err))
		return false;
	cJSON *o = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *ranges = o ? cJSON_GetObjectItemCaseSensitive(o, "WAL-Ranges") : NULL;
	bool ok = cJSON_IsArray(ranges) && cJSON_GetArraySize(ranges) > 0;
	int i = 0;
	const cJSON *rg;
	cJSON_ArrayForEach(rg, ranges)
	{
		const cJSON *tli = cJSON_GetObjectItemCaseSensitive(rg, "Timeline");
		const cJSON *sl = cJSON_GetObjectItemCaseSensitive(rg, "Start-LSN");
		const cJSON *el = cJSON_GetObjectItemCaseSensitive(rg, "End-LSN");
		uint64_t a, b;
		if (!cJSON_IsNumber(tli) || !cJSON_IsString(sl) || !cJSON_IsString(el) ||
		    !pgr_lsn_parse(sl->valuestring, &a) || !pgr_lsn_parse(el->valuestring, &b)) {
			ok = false;
			break;
		}
		/* Ranges are listed oldest first; a promotion during the backup makes two. */
		if (i == 0) {
			*start = a;
			*start_tli = (uint32_t)tli->valuedouble;
		}
		*stop = b;
		*stop_tli = (uint32_t)tli->valuedouble;
		i++;
	}
	cJSON_Delete(o);
	if (!ok)
		return pgr_error_set(err, PGR_ERR_TOOL, "cannot read the WAL range from \"%s\"", path),
		       pgr_error_hint(err, "pg_basebackup wrote no usable backup manifest; is it version 13 or newer?"),
		       false;
	return true;
}

static bool wal_archived(struct side *sd, const char *seg, bool *present, struct pgr_error *err)
{
	char *key = xasprintf("%s%s", PGR_PREFIX_WAL, seg);
	struct pgr_object o = {0};
	bool ok = pgr_store_stat(sd->st, key, &o, err);
	*present = ok;
	free(o.key);
	free(key);
	if (!ok && err->kind == PGR_ERR_NOTFOUND) {
		pgr_error_clear(err);
		return true;
	}
	return ok;
}

/* The archive_command to suggest: a cloud store's needs the server's own
 * credentials, which `wal-setup` sets up and prints the line for. */
static char *archive_example(const struct job *j)
{
	if (pgr_walsetup_cloud(j->env))
		return xasprintf("the line `pgrescue --env %s wal-setup` prints (it runs as the server's user, with "
		                 "store_credentials_file)",
		                 j->env->name ? j->env->name : "NAME");
	return xasprintf("'pgrescue --store %s wal-push %%p'", j->st->url);
}

/* Every segment from start to stop must be in the store before the base
 * backup counts: without them it cannot be restored. */
static bool wait_for_archive(struct side *sd, uint32_t start_tli, uint64_t start_lsn, uint32_t stop_tli,
                             uint64_t stop_lsn, struct pgr_error *err)
{
	struct job *j = sd->j;
	uint64_t first = start_lsn / j->seg_size;
	uint64_t last = stop_lsn > 0 ? (stop_lsn - 1) / j->seg_size : 0;
	if (last < first)
		last = first;
	double started = pgr_monotonic(), deadline = started + j->archive_wait;
	bool switched = false;
	uint64_t next = first;
	char seg[32];
	for (;;) {
		bool present = true;
		while (next <= last) {
			/* Between the ends, only a short range is checked one by one. */
			if (start_tli != stop_tli || last - first > 256) {
				if (next != first && next != last) {
					next = last;
					continue;
				}
			}
			pgr_walname_format(next == first ? start_tli : stop_tli, next, j->seg_size, seg);
			if (!wal_archived(sd, seg, &present, err))
				return false;
			if (!present)
				break;
			next++;
		}
		if (present)
			return true;
		if (interrupted(err))
			return false;
		if (pgr_monotonic() >= deadline)
			break;
		if (!switched && !j->in_recovery && pgr_monotonic() - started > 5) {
			/* Still missing after a while: maybe nothing is being written. Push the segment out. */
			struct pgr_error e2 = {0};
			if (!pgr_pg_exec(sd->conn, "SELECT pg_switch_wal()", NULL, &e2))
				pgr_debug("pg_switch_wal() failed: %s", e2.msg);
			switched = true;
		}
		usleep(500000);
	}
	pgr_error_set(err, PGR_ERR_STORE,
	              "WAL segment %s, which the base backup needs, did not reach the store's %s within %d s", seg,
	              PGR_PREFIX_WAL, j->archive_wait);
	pgr_error_detail(err, "store: %s; archive_command: %s", j->st->url,
	                 j->archive_command ? j->archive_command : "(not visible to this role)");
	char *ex = archive_example(j);
	pgr_error_hint(err,
	               "archive_command must push every segment to this store, e.g. archive_command = %s; check "
	               "pg_stat_archiver and the server log for archiving errors.",
	               ex);
	free(ex);
	return false;
}

/* pg_basebackup -X none ends by waiting for its last segment to be archived,
 * without limit. Watch the archiver meanwhile: if it keeps failing for
 * archive_wait seconds, stop waiting and say why. Returns false (err set)
 * when the archive is stuck; the child is then still to be stopped. */
static bool watch_basebackup(struct side *sd, const struct pgr_proc *proc, double t_end, struct pgr_error *err)
{
	struct job *j = sd->j;
	double failing_since = 0, next_check = 0;
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		/* WNOWAIT: look without reaping; pgr_proc_finish reaps. */
		if (waitid(P_PID, (id_t)proc->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != 0)
			return true;
		double now = pgr_monotonic();
		if (now >= t_end)
			return true;
		if (now >= next_check) {
			next_check = now + 2;
			PGresult *r = NULL;
			struct pgr_error e2 = {0};
			if (pgr_pg_exec(
			            sd->conn,
			            "SELECT coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, ''),"
			            " last_failed_time IS NOT NULL AND last_failed_time > coalesce(last_archived_time, "
			            "'-infinity') FROM pg_stat_archiver",
			            &r, &e2)) {
				bool failing = PQntuples(r) == 1 && PQgetvalue(r, 0, 2)[0] == 't';
				if (!failing) {
					failing_since = 0;
				} else if (failing_since == 0) {
					failing_since = now;
				} else if (now - failing_since >= j->archive_wait) {
					pgr_error_set(err, PGR_ERR_CONFIG,
					              "WAL archiving is failing (segment %s, last failure at %s): "
					              "the base backup cannot complete",
					              PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
					pgr_error_detail(err,
					                 "pg_basebackup waits for its last WAL segment to be archived; "
					                 "archive_command kept failing for %d s. archive_command: %s",
					                 j->archive_wait,
					                 j->archive_command ? j->archive_command
					                                    : "(not visible to this role)");
					pgr_error_hint(
					        err,
					        "Read the server log for the archive_command's error and fix it; "
					        "`pgrescue status` shows the archiver's state.");
					PQclear(r);
					return false;
				}
				PQclear(r);
			}
		}
		/* Its exit is the base backup's critical path: notice it soon. */
		usleep(50000);
	}
}

static bool archiving_ready(struct side *sd, struct pgr_error *err)
{
	struct job *j = sd->j;
	const char *mode = j->archive_mode ? j->archive_mode : "";
	if (!strcmp(mode, "off") || (j->in_recovery && strcmp(mode, "always") != 0)) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "cannot take a base backup: WAL archiving is off on the server (archive_mode = %s%s)",
		              mode, j->in_recovery ? " on a standby" : "");
		pgr_error_detail(err,
		                 "A base backup taken without WAL (-X none) can only be restored with the WAL "
		                 "archived during and after it.");
		char *ex = archive_example(j);
		pgr_error_hint(err,
		               "Set archive_mode = %s and archive_command = %s, then restart PostgreSQL; or run "
		               "`pgrescue backup --no-base` for the logical dump alone.",
		               j->in_recovery ? "always" : "on", ex);
		free(ex);
		return false;
	}
	bool cmd_empty = j->archive_command && (!*j->archive_command || !strcmp(j->archive_command, "(disabled)"));
	bool lib_empty = !j->archive_library || !*j->archive_library;
	if (cmd_empty && lib_empty) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "cannot take a base backup: archive_mode is on but archive_command is empty, so no WAL "
		              "is archived");
		char *ex = archive_example(j);
		pgr_error_hint(err, "Set archive_command = %s and reload PostgreSQL.", ex);
		free(ex);
		return false;
	}
	/* A failing archiver would stall pg_basebackup's end; watch_basebackup
	 * gives it archive_wait seconds to recover. Warn now. */
	PGresult *r = NULL;
	struct pgr_error e2 = {0};
	if (pgr_pg_exec(
	            sd->conn,
	            "SELECT coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, '') FROM pg_stat_archiver"
	            " WHERE last_failed_time > coalesce(last_archived_time, '-infinity')",
	            &r, &e2)) {
		if (PQntuples(r) == 1)
			pgr_warn("WAL archiving is failing (segment %s at %s); the base backup waits up to %d s for it",
			         PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), j->archive_wait);
		PQclear(r);
	}
	return true;
}

struct staged {
	char *name;
	char *path;
	uint64_t size;
	char sha256[65];
};

static int staged_cmp(const void *a, const void *b)
{
	const struct staged *x = a, *y = b;
	/* base.tar first, then tablespaces, backup_manifest last. */
	int rx = !strcmp(x->name, "base.tar") ? 0 : !strcmp(x->name, "backup_manifest") ? 2 : 1;
	int ry = !strcmp(y->name, "base.tar") ? 0 : !strcmp(y->name, "backup_manifest") ? 2 : 1;
	return rx != ry ? rx - ry : strcmp(x->name, y->name);
}

/* Exact counts in a snapshot of our own, for a base backup taken without the
 * dump's: on the side's connection, in a transaction that ends here. */
static bool count_own(struct side *sd, struct pgr_manifest *out, uint64_t *lsn, struct pgr_error *err)
{
	struct job *j = sd->j;
	char *q = xasprintf("SELECT %s::text", lsn_function(j));
	char *sto = xasprintf("SET LOCAL statement_timeout = '%ds'", j->child_timeout);
	char *lsntext = NULL;
	bool ok = pgr_pg_exec(sd->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, err) &&
	        pgr_pg_exec(sd->conn, sto, NULL, err) && pgr_pg_value(sd->conn, q, &lsntext, err) &&
	        count_rows(sd->conn, out, err);
	free(sto);
	free(q);
	if (lsntext)
		pgr_lsn_parse(lsntext, lsn);
	free(lsntext);
	struct pgr_error e2 = {0};
	pgr_pg_exec(sd->conn, ok ? "COMMIT" : "ROLLBACK", NULL, &e2);
	return ok;
}

static bool run_base(struct side *sd, struct pgr_backup_result *res, struct pgr_error *err)
{
	struct job *j = sd->j;
	double t0 = pgr_monotonic();
	time_t start = pgr_now();
	char *prefix = xasprintf("%s%s/", PGR_PREFIX_BASE, j->label);
	char *dir = xasprintf("%s/base-%s", j->workdir, j->label);
	char *bin = xasprintf("%s/pg_basebackup", j->bindir);
	char *lab = xasprintf("pgrescue-%s", j->label);
	struct follower f;
	follower_init(&f, xasprintf("%s/base.tar", dir), j);
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_BASE);
	struct pgr_manifest fresh;
	pgr_manifest_init(&fresh, PGR_BACKUP_BASE);
	struct staged *files = NULL;
	size_t n_files = 0, n_put = 0;
	FILE *errf = NULL;
	bool ok = false;

	if (!archiving_ready(sd, err))
		goto out;
	/* Two runs in the same second would share a label. */
	const char *probe[] = {"base.tar", PGR_BASE_MANIFEST};
	for (size_t i = 0; i < 2; i++) {
		char *key = xasprintf("%s%s", prefix, probe[i]);
		struct pgr_object o = {0};
		bool exists = pgr_store_stat(sd->st, key, &o, err);
		free(o.key);
		free(key);
		if (exists) {
			pgr_error_set(err, PGR_ERR_CONFLICT, "%s already exists in the store", prefix);
			pgr_error_hint(err, "Another backup ran in the same second; run again.");
			goto out;
		}
		if (err->kind != PGR_ERR_NOTFOUND)
			goto out;
		pgr_error_clear(err);
	}
	if (!pgr_mkdir_p(dir, 0700, err))
		goto out;
	errf = stderr_file();
	if (!errf) {
		pgr_error_errno(err, errno, "cannot create a temporary file for pg_basebackup's messages");
		goto out;
	}
	if (interrupted(err))
		goto out;
	const char *argv[] = {bin,    "-D", dir,  "-Ft", "-X", "none",      "-c",
	                      "fast", "-w", "-l", lab,   "-d", j->env->dsn, NULL};
	const char *envv[4];
	char dbbuf[8];
	child_env(envv, "PGAPPNAME=pgrescue-basebackup", NULL, dbbuf, sizeof dbbuf);
	struct pgr_proc_spec spec = {.argv = argv,
	                             .env = envv,
	                             .stdin_fd = -1,
	                             .out = PGR_IO_NULL,
	                             .err = PGR_IO_FD,
	                             .err_fd = fileno(errf)};
	struct pgr_proc proc;
	progress(j, "base: pg_basebackup started");
	if (!pgr_proc_start(&spec, &proc, err))
		goto out;
	child_started(sd->slot, proc.pid);
	double t_end = pgr_monotonic() + j->child_timeout;
	pthread_t th;
	bool following = pthread_create(&th, NULL, follower_main, &f) == 0;

	/* The rows come from the dump's snapshot when the dump counts them.
	 * Without a dump (--no-dump, or one that failed before counting), count
	 * now, in a snapshot of our own, while pg_basebackup works. */
	bool counted = true, own_counts = false;
	struct pgr_error cerr = {0};
	uint64_t fresh_lsn = 0;
	if (counts_now(j) == COUNTS_NONE) {
		own_counts = true;
		counted = count_own(sd, &fresh, &fresh_lsn, &cerr);
	}

	struct pgr_error stuck = {0};
	bool archive_ok = watch_basebackup(sd, &proc, t_end, &stuck);
	if (!archive_ok)
		kill(-proc.pid, SIGTERM);
	double left = t_end - pgr_monotonic();
	struct pgr_proc_result pres = {.out = STRBUF_INIT, .err = STRBUF_INIT};
	pgr_proc_finish(&proc, !archive_ok ? 10 : left < 1 ? 1 : (int)left, &pres, err);
	child_ended(sd->slot);
	/* What is left of base.tar is now the critical path: hash it here, at
	 * the normal priority, not only when the CPU would otherwise be idle. */
	double t_exit = pgr_monotonic();
	uint64_t left_over = follower_finish(&f, th, following);
	pgr_debug("base: %" PRIu64 " MB of base.tar left to hash when pg_basebackup exited, done %.2f s later",
	          left_over >> 20, pgr_monotonic() - t_exit);
	char *tail = read_tail(errf);
	bool child_ok = archive_ok && pres.exit_code == 0 && !pres.timed_out;
	if (!archive_ok)
		*err = stuck;
	else if (!child_ok)
		tool_failed("pg_basebackup", &pres, tail, j->child_timeout, err);
	free(tail);
	pgr_proc_result_free(&pres);
	if (!child_ok)
		goto out;
	if (!counted) {
		*err = cerr;
		goto out;
	}
	time_t stop = pgr_now();

	uint64_t start_lsn = 0, stop_lsn = 0;
	uint32_t start_tli = 0, stop_tli = 0;
	char *bm = xasprintf("%s/backup_manifest", dir);
	bool have_ranges = parse_wal_ranges(bm, &start_lsn, &stop_lsn, &start_tli, &stop_tli, err);
	free(bm);
	if (!have_ranges)
		goto out;
	char start_wal[32], stop_wal[32];
	pgr_walname_format(start_tli, start_lsn / j->seg_size, j->seg_size, start_wal);
	pgr_walname_format(stop_tli, stop_lsn > 0 ? (stop_lsn - 1) / j->seg_size : 0, j->seg_size, stop_wal);
	pgr_debug("base: pg_basebackup finished after %.2f s", pgr_monotonic() - t0);
	if (!wait_for_archive(sd, start_tli, start_lsn, stop_tli, stop_lsn, err))
		goto out;
	pgr_debug("base: WAL up to %s archived after %.2f s", stop_wal, pgr_monotonic() - t0);

	/* The dump counts while pg_dump runs and is usually done by now; it may
	 * still be at it, or have given up (then we count on our own). */
	if (!own_counts && wait_counts(j) != COUNTS_READY) {
		if (interrupted(err))
			goto out;
		own_counts = true;
		if (!count_own(sd, &fresh, &fresh_lsn, err))
			goto out;
	}
	if (own_counts) {
		char lsnbuf[32];
		pgr_lsn_format(fresh_lsn, lsnbuf, sizeof lsnbuf);
		progress(j, "rows: %zu tables, %" PRId64 " rows at LSN %s", fresh.n_tables, total_rows(&fresh), lsnbuf);
	}

	/* Hash what the follower could not (small files, tablespaces). */
	DIR *d = opendir(dir);
	if (!d) {
		pgr_error_errno(err, errno, "cannot read \"%s\"", dir);
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		files = xrealloc(files, (n_files + 1) * sizeof *files);
		struct staged *s = &files[n_files++];
		memset(s, 0, sizeof *s);
		s->name = xstrdup(de->d_name);
		s->path = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	qsort(files, n_files, sizeof *files, staged_cmp);
	bool have_tar = false;
	for (size_t i = 0; i < n_files; i++) {
		struct staged *s = &files[i];
		struct stat sb;
		if (!strcmp(s->name, "base.tar") && stat(s->path, &sb) == 0 && f.opened && !f.read_errno &&
		    (uint64_t)sb.st_size == f.bytes) {
			s->size = f.bytes;
			memcpy(s->sha256, f.sha256, sizeof s->sha256);
		} else if (!pgr_sha256_file(s->path, s->sha256, &s->size, err)) {
			goto out;
		}
		if (!strcmp(s->name, "base.tar"))
			have_tar = true;
	}
	if (!have_tar) {
		pgr_error_set(err, PGR_ERR_TOOL, "pg_basebackup finished but wrote no base.tar into \"%s\"", dir);
		goto out;
	}

	pgr_debug("base: files hashed after %.2f s", pgr_monotonic() - t0);
	uint64_t total = 0;
	for (size_t i = 0; i < n_files; i++) {
		char *key = xasprintf("%s%s", prefix, files[i].name);
		bool put = pgr_store_put(sd->st, key, files[i].path, true, NULL, NULL, err);
		if (!put)
			pgr_error_prefix(err, "cannot store %s", key);
		else
			pgr_manifest_add_file(&m, key, files[i].size, files[i].sha256);
		free(key);
		if (!put)
			goto out;
		n_put++;
		total += files[i].size;
	}

	pgr_debug("base: files stored after %.2f s", pgr_monotonic() - t0);
	fill_common(j, &m);
	m.status = xstrdup("complete");
	m.start_time = start;
	m.stop_time = stop;
	m.start_lsn = start_lsn;
	m.stop_lsn = stop_lsn;
	m.timeline = stop_tli;
	m.start_wal = xstrdup(start_wal);
	m.stop_wal = xstrdup(stop_wal);
	m.rows_lsn = own_counts ? fresh_lsn : j->counts_lsn;
	copy_tables(&m, own_counts ? &fresh : &j->counts);
	char *mkey = xasprintf("%s%s", prefix, PGR_BASE_MANIFEST);
	ok = put_manifest(sd, &m, mkey, err);
	free(mkey);
	if (!ok)
		goto out;
	res->base_prefix = xstrdup(prefix);
	res->base_size = total;
	char sz[32], a[32], b[32];
	pgr_size_format(total, sz, sizeof sz);
	pgr_lsn_format(start_lsn, a, sizeof a);
	pgr_lsn_format(stop_lsn, b, sizeof b);
	progress(j, "base: done, %s in %.0f s (%s, WAL %s..%s, LSN %s..%s)", sz, pgr_monotonic() - t0, prefix,
	         start_wal, stop_wal, a, b);
out:
	if (!ok) {
		/* Nothing of a failed base backup stays under its final names. */
		for (size_t i = 0; i < n_put; i++) {
			char *key = xasprintf("%s%s", prefix, files[i].name);
			struct pgr_error e2 = {0};
			if (!pgr_store_delete(sd->st, key, &e2))
				pgr_warn("could not remove %s after the failure: %s", key, e2.msg);
			free(key);
		}
	}
	for (size_t i = 0; i < n_files; i++) {
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
	if (errf)
		fclose(errf);
	struct pgr_error e3 = {0};
	pgr_rm_rf(dir, &e3);
	pgr_manifest_free(&m);
	pgr_manifest_free(&fresh);
	follower_close(&f); /* when we left before pg_basebackup ran */
	free(f.path);
	free(lab);
	free(bin);
	free(dir);
	free(prefix);
	return ok;
}

/* The base backup beside the dump: its own connection, store handle and slot
 * in the signal handler's table. */
struct base_thread {
	pthread_t th;
	struct side side;
	struct pgr_backup_result *res; /* only base_prefix and base_size are written here */
	struct pgr_error err;
	bool ok;
};

static void *base_thread_main(void *arg)
{
	struct base_thread *bt = arg;
	struct side *sd = &bt->side;
	struct job *j = sd->j;
	struct pgr_error *err = &bt->err;
	bt->ok = false;
	sd->conn = pgr_pg_connect(j->env->dsn, NULL, CONNECT_TIMEOUT, err);
	if (!sd->conn) {
		if (!strstr(err->msg, "connect"))
			pgr_error_prefix(err, "cannot connect to the database");
	} else {
		atomic_store(&g_cancel[SLOT_BASE], PQgetCancel(sd->conn));
		sd->st = pgr_store_open_env(j->env, err);
		if (sd->st)
			bt->ok = run_base(sd, bt->res, err);
	}
	if (!bt->ok)
		pgr_error_prefix(err, "base backup");
	if (sd->st)
		pgr_store_close(sd->st);
	if (sd->conn)
		PQfinish(sd->conn);
	sd->st = NULL;
	sd->conn = NULL;
	return NULL;
}

/* ------------------------------------------------------------------ retention, metrics */

static void run_retention(struct job *j, struct pgr_backup_result *res)
{
	struct pgr_catalog cat;
	memset(&cat, 0, sizeof cat);
	struct pgr_error e = {0};
	if (!pgr_catalog_build(j->st, &cat, &e)) {
		pgr_warn("retention skipped: %s", e.msg);
		return;
	}
	struct pgr_retention_plan plan;
	memset(&plan, 0, sizeof plan);
	pgr_retention_decide(&cat, j->env, pgr_now(), &plan);
	for (size_t i = 0; i < plan.n; i++)
		fprintf(stderr, "retention: delete %s (%s)\n", plan.items[i].key,
		        plan.items[i].reason ? plan.items[i].reason : "expired");
	int deleted = 0;
	if (plan.n > 0 && !pgr_retention_apply(j->st, &plan, &deleted, &e)) {
		pgr_warn("retention stopped after %d deletions: %s", deleted, e.msg);
		if (e.hint[0])
			pgr_warn("HINT: %s", e.hint);
	}
	res->deleted = deleted;
	pgr_retention_plan_free(&plan);
	pgr_catalog_free(&cat);
}

/* The last success, for a failed run: the previous metrics file, else the store. */
static void last_success(const struct job *j, struct pgr_backup_metrics *bm)
{
	const char *path = j->env->metrics_file;
	if (path && *path) {
		char *text = NULL;
		size_t len = 0;
		struct pgr_error e = {0};
		double ts = 0, v = 0;
		if (pgr_read_file(path, &text, &len, &e) &&
		    pgr_metrics_parse_value(text, "postgres_backup_timestamp", &ts)) {
			bm->last_success = (time_t)ts;
			if (pgr_metrics_parse_value(text, "postgres_backup_size_bytes", &v))
				bm->last_dump_size = (uint64_t)v;
			if (pgr_metrics_parse_value(text, "pgrescue_backup_base_size_bytes", &v))
				bm->last_base_size = (uint64_t)v;
			free(text);
			return;
		}
		free(text);
	}
	if (!j->st)
		return;
	struct pgr_catalog cat;
	memset(&cat, 0, sizeof cat);
	struct pgr_error e = {0};
	if (!pgr_catalog_build(j->st, &cat, &e))
		return;
	const struct pgr_dump *d = pgr_catalog_newest_dump(&cat);
	const struct pgr_base *b = pgr_catalog_newest_base(&cat);
	if (d) {
		bm->last_success = d->time;
		bm->last_dump_size = d->size;
	}
	if (b) {
		if (b->manifest.stop_time > bm->last_success)
			bm->last_success = b->manifest.stop_time;
		bm->last_base_size = b->size;
	}
	pgr_catalog_free(&cat);
}

static void report_metrics(const struct job *j, const struct pgr_backup_result *res)
{
	const char *file = j->env->metrics_file, *gw = j->env->pushgateway;
	bool want_file = file && *file, want_push = gw && *gw;
	if (!want_file && !want_push)
		return;
	struct pgr_backup_metrics bm = {.success = res->ok,
	                                .attempt_end = pgr_now(),
	                                .duration_seconds = (double)(int64_t)(res->seconds * 1000 + 0.5) / 1000,
	                                .dump_size = res->dump_size,
	                                .base_size = res->base_size};
	/* A part skipped by --no-dump/--no-base keeps reporting its last size. */
	if (!res->ok || !j->opts->dump || !j->opts->base)
		last_success(j, &bm);
	if (res->ok && !j->opts->dump)
		bm.dump_size = bm.last_dump_size;
	if (res->ok && !j->opts->base)
		bm.base_size = bm.last_base_size;
	struct pgr_metric m[PGR_BACKUP_METRICS_N];
	pgr_metrics_backup(&bm, m);
	struct pgr_error e = {0};
	if (want_file && !pgr_metrics_write_file(file, m, PGR_BACKUP_METRICS_N, &e)) {
		pgr_warn("metrics not written: %s", e.msg);
		pgr_error_clear(&e);
	}
	if (want_push && !pgr_metrics_push(gw, METRICS_JOB, m, PGR_BACKUP_METRICS_N, METRICS_PUSH_TIMEOUT, &e)) {
		pgr_warn("metrics not pushed: %s", e.msg);
		if (e.detail[0])
			pgr_warn("DETAIL: %s", e.detail);
	}
}

/* ------------------------------------------------------------------ the job */

void pgr_backup_opts_default(struct pgr_backup_opts *o)
{
	o->dump = true;
	o->base = true;
	o->retention = true;
	o->quiet = false;
}

static bool setup_workdir(struct job *j, struct pgr_error *err)
{
	const char *staging = pgr_store_staging_dir(j->st);
	if (!staging) {
		const char *tmp = getenv("TMPDIR");
		char *templ = xasprintf("%s/pgrescue-backup-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(templ)) {
			pgr_error_errno(err, errno, "cannot create a temporary directory \"%s\"", templ);
			free(templ);
			return false;
		}
		j->own_tmp = templ;
		staging = templ;
	}
	j->workdir = xasprintf("%s/backup-%s.%ld", staging, j->label, (long)getpid());
	if (!pgr_mkdir_p(j->workdir, 0700, err))
		return false;
	return true;
}

bool pgr_backup_run(const struct pgr_env *env, const struct pgr_backup_opts *opts, struct pgr_backup_result *res,
                    struct pgr_error *err)
{
	memset(res, 0, sizeof *res);
	double t0 = pgr_monotonic();
	struct job jb;
	memset(&jb, 0, sizeof jb);
	struct job *j = &jb;
	j->env = env;
	j->opts = opts;
	j->bindir = env->pg_bindir && *env->pg_bindir ? env->pg_bindir : PG_BINDIR_DEFAULT;
	j->child_timeout = env_int("PGRESCUE_BACKUP_TIMEOUT", CHILD_TIMEOUT_DEFAULT);
	j->archive_wait = env_int("PGRESCUE_ARCHIVE_WAIT", ARCHIVE_WAIT_DEFAULT);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->counts_state = COUNTS_NONE;
	pgr_manifest_init(&j->counts, PGR_BACKUP_DUMP);
	pgr_label_format(pgr_now(), j->label, sizeof j->label);
	_Static_assert(sizeof res->label == sizeof j->label, "label sizes");
	memcpy(res->label, j->label, sizeof res->label);

	bool ok = false;
	struct sigaction old_sig[N_HANDLED];
	signals_install(old_sig);
	if (!env->dsn || !*env->dsn) {
		pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\" has no dsn: nothing to back up",
		              env->name ? env->name : "");
		pgr_error_hint(err, "Set dsn = \"host=... dbname=...\" in the config, or pass --dsn.");
		goto done;
	}
	if (pgr_pg_dsn_has_password(env->dsn)) {
		pgr_error_set(err, PGR_ERR_CONFIG, "the dsn of environment \"%s\" contains a password",
		              env->name ? env->name : "");
		pgr_error_hint(err,
		               "Remove it: passwords reach pg_dump and pg_basebackup through PGPASSWORD, "
		               "~/.pgpass or a service file, never through the command line.");
		goto done;
	}
	if (!env->store || !*env->store) {
		pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\" has no store to write the backup to",
		              env->name ? env->name : "");
		pgr_error_hint(err, "Set store = file:///path (or pass --store).");
		goto done;
	}
	j->st = pgr_store_open_env(env, err);
	if (!j->st)
		goto done;
	if (!setup_workdir(j, err))
		goto done;
	if (!preflight(j, err))
		goto done;
	atomic_store(&g_cancel[SLOT_DUMP], PQgetCancel(j->conn));
	progress(j, "backup %s of \"%s\" (PostgreSQL %s) to %s", j->label, j->dbname, j->server_version, j->st->url);

	/* The dump and the base backup run side by side: the base backup in a
	 * thread of its own, the dump here. Each part that completes is kept
	 * (a complete dump is a good backup even if the base backup failed, and
	 * the other way round); the run fails if either part does. */
	struct pgr_error dump_err = {0}, base_err = {0};
	bool dump_ok = true, base_ok = true;
	j->counts_state = opts->dump ? COUNTS_PENDING : COUNTS_NONE;
	struct side dump_side = {.j = j, .conn = j->conn, .st = j->st, .slot = SLOT_DUMP};
	struct base_thread bt = {.side = {.j = j, .slot = SLOT_BASE}, .res = res};
	bool base_aside = false;
	if (opts->dump && opts->base)
		base_aside = pthread_create(&bt.th, NULL, base_thread_main, &bt) == 0;
	if (opts->dump) {
		dump_ok = run_dump(&dump_side, res, &dump_err);
		if (!dump_ok)
			pgr_error_prefix(&dump_err, "dump of database \"%s\"", j->dbname);
	}
	if (base_aside) {
		pthread_join(bt.th, NULL);
		base_ok = bt.ok;
		base_err = bt.err;
	} else if (opts->base && interrupted(&base_err)) {
		base_ok = false;
	} else if (opts->base) {
		/* Alone (--no-dump, or no thread to be had): on the main connection. */
		struct side base_side = {.j = j, .conn = j->conn, .st = j->st, .slot = SLOT_BASE};
		base_ok = run_base(&base_side, res, &base_err);
		if (!base_ok)
			pgr_error_prefix(&base_err, "base backup");
	}
	if (!dump_ok && !base_ok) {
		/* Both failed: say why the dump did now, return the base backup's
		 * error. After a signal both merely say so: one message is enough. */
		if (!g_interrupted)
			pgr_error_print(stderr, &dump_err);
		*err = base_err;
	} else if (!dump_ok) {
		*err = dump_err;
	} else if (!base_ok) {
		*err = base_err;
	}
	ok = dump_ok && base_ok;
	if (ok && opts->retention)
		run_retention(j, res);

done:
	if (!ok && g_interrupted && !strstr(err->msg, "interrupted by signal")) {
		char was[PGR_ERR_MSG_MAX];
		snprintf(was, sizeof was, "%s", err->msg);
		interrupted(err);
		pgr_error_detail(err, "%s", was);
	}
	if (g_interrupted)
		pgr_error_hint(err,
		               "The backup was stopped from outside (a CronJob's activeDeadlineSeconds, or a person); "
		               "whatever was still running was discarded.");
	signals_restore(old_sig);
	res->ok = ok;
	res->seconds = pgr_monotonic() - t0;
	if (!ok && !opts->quiet)
		fprintf(stderr, "backup %s failed after %.0f s\n", j->label, res->seconds);
	else if (ok)
		progress(j, "backup %s complete in %.0f s", j->label, res->seconds);
	report_metrics(j, res);
	if (j->conn)
		PQfinish(j->conn);
	struct pgr_error e = {0};
	if (j->workdir && !pgr_rm_rf(j->workdir, &e))
		pgr_warn("could not remove the staging directory: %s", e.msg);
	if (j->own_tmp && !pgr_rm_rf(j->own_tmp, &e))
		pgr_warn("could not remove the temporary directory: %s", e.msg);
	free(j->workdir);
	free(j->own_tmp);
	if (j->st)
		pgr_store_close(j->st);
	free(j->server_version);
	free(j->sysid);
	free(j->dbname);
	free(j->archive_mode);
	free(j->archive_command);
	free(j->archive_library);
	pgr_manifest_free(&j->counts);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	return ok;
}

void pgr_backup_result_free(struct pgr_backup_result *res)
{
	free(res->dump_key);
	free(res->base_prefix);
	res->dump_key = res->base_prefix = NULL;
}
