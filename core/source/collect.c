/* The collector (see collect.h). One background thread runs refresh cycles:
 * the database through non-blocking libpq and Prometheus through one curl
 * multi handle share a single poll loop; the store, whose interface blocks,
 * is listed by a detached worker thread per refresh that the loop waits on
 * through a pipe, up to the source timeout. Nothing here ever joins or waits
 * on a thread that may be stuck in a blocking call: a late store worker keeps
 * its own reference to its job and frees it when it returns; a collector
 * thread that does not leave within a second of stop() is detached and frees
 * the collector itself. */
#include "config.h"

#include "source/collect.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <math.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "ops/metrics.h"
#include "source/prom.h"
#include "source/waldump.h"
#include "storage/storage.h"

#define HTTP_BODY_MAX (4u << 20) /* a bigger answer is not one of ours */
#define COMMIT_CACHE 8 /* segments whose last commit time is remembered */
#define COMMIT_LOOKBACK 4 /* segments scanned back when the newest has no commit */
#define STOP_WAIT_MS 900

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* First line of a (libpq, curl) message, without its trailing newline. */
static void copy_line(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && src[i] != '\n' && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* snprintf into a fixed field, where truncation is expected and fine. */
static void set_msg(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* "5 s", "1.5 s": the timeout as a person reads it. */
static const char *timeout_text(const struct pgr_collector *c, char *buf, size_t n);

static void set_nonblock_cloexec(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

static bool make_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return false;
	set_nonblock_cloexec(fds[0]);
	set_nonblock_cloexec(fds[1]);
	return true;
}

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof buf) > 0) {
	}
}

static void poke(int fd)
{
	ssize_t r = write(fd, "x", 1);
	(void)r; /* a full pipe already says "something is ready" */
}

/* ------------------------------------------------------------ shared catalog */

/* A catalog and its window, shared by every snapshot that shows it, so a
 * store that did not change (or did not answer) costs no copy per refresh. */
struct cat_holder {
	int refs;
	struct pgr_catalog cat;
	struct pgr_window win;
	time_t last_commit;
};

static struct cat_holder *holder_ref(struct cat_holder *h)
{
	if (h)
		__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
	return h;
}

static void holder_release(struct cat_holder *h)
{
	if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	pgr_window_free(&h->win);
	pgr_catalog_free(&h->cat);
	free(h);
}

/* ------------------------------------------------------------ store worker */

struct commit_entry {
	char name[32];
	time_t commit; /* 0: the segment holds no commit or abort */
};

struct store_job {
	pthread_mutex_t mu;
	int refs; /* the collector and the worker */
	int notify[2]; /* the worker writes one byte when done */
	bool done;
	double started_mono, finished_mono;
	time_t started_at;
	/* inputs, owned copies */
	char *store_url, *pg_bindir, *metrics_file;
	struct pgr_env env; /* the store's s3_ and azure_ keys */
	int timeout_ms;
	bool want_store;
	struct commit_entry cache[COMMIT_CACHE];
	/* outputs */
	bool store_ok;
	char store_error[256];
	struct cat_holder *holder;
	bool have_fs;
	double fs_used, fs_total;
	bool file_ok;
	char file_error[256];
	bool file_known[PGR_PM_N];
	double file_value[PGR_PM_N];
};

static void job_release(struct store_job *j)
{
	pthread_mutex_lock(&j->mu);
	bool last = --j->refs == 0;
	pthread_mutex_unlock(&j->mu);
	if (!last)
		return;
	holder_release(j->holder);
	close(j->notify[0]);
	close(j->notify[1]);
	free(j->store_url);
	free(j->pg_bindir);
	free(j->metrics_file);
	pgr_env_free(&j->env);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/* The time of the last COMMIT or ABORT record in pg_waldump's output (run with
 * TZ=UTC): lines like "rmgr: Transaction ... desc: COMMIT 2026-01-02
 * 14:30:00.123456 UTC; ..." or "desc: COMMIT_PREPARED 740: 2026-...". */
static time_t waldump_last_commit(const char *out)
{
	time_t last = 0;
	for (const char *line = out; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl ? nl + 1 : NULL;
		if (!strstr(buf, "rmgr: Transaction"))
			continue;
		char *desc = strstr(buf, "desc: ");
		if (!desc)
			continue;
		desc += 6;
		if (strncmp(desc, "COMMIT", 6) != 0 && strncmp(desc, "ABORT", 5) != 0)
			continue;
		time_t t;
		if (pgr_waldump_commit_time(desc, &t, NULL) && t > last)
			last = t;
	}
	return last;
}

static struct commit_entry *cache_find(struct store_job *j, const char *name)
{
	for (int i = 0; i < COMMIT_CACHE; i++)
		if (j->cache[i].name[0] && !strcmp(j->cache[i].name, name))
			return &j->cache[i];
	return NULL;
}

static void cache_put(struct store_job *j, const char *name, time_t commit)
{
	/* Evict the oldest entry: slot 0; newer entries move down. */
	memmove(&j->cache[0], &j->cache[1], sizeof j->cache[0] * (COMMIT_CACHE - 1));
	struct commit_entry *e = &j->cache[COMMIT_CACHE - 1];
	copy_str(e->name, sizeof e->name, name);
	e->commit = commit;
}

/* Fetch one archived segment to a temp directory (named as the segment, as
 * pg_waldump wants) and read its last commit. False when it could not be read. */
static bool segment_commit(struct store_job *j, struct pgr_store *st, const char *name, double deadline, time_t *commit)
{
	struct commit_entry *e = cache_find(j, name);
	if (e) {
		*commit = e->commit;
		return true;
	}
	int left = (int)(deadline - pgr_monotonic());
	if (left < 1)
		return false;
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/pgrescue-wal-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return false;
	char *path = xasprintf("%s/%s", dir, name);
	char *key = xasprintf("%s%s", PGR_PREFIX_WAL, name);
	struct pgr_error err = {0};
	bool ok = false;
	if (pgr_store_get(st, key, path, NULL, NULL, &err)) {
		char *prog = pgr_waldump_path(j->pg_bindir);
		const char *argv[] = {prog, "--rmgr=Transaction", path, NULL};
		struct pgr_proc_spec spec = {.argv = argv, .env = pgr_waldump_env, .stdin_fd = -1};
		struct pgr_proc_result res = {0};
		/* pg_waldump ends with an error at the segment's end (the next record is
		 * in a segment it does not have): what it printed before still counts. */
		/* The child inherits this thread's signal mask (see blocked_signals): give
		 * it the default one, so its timeout's SIGTERM works. */
		sigset_t none, old;
		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, &old);
		bool ran = pgr_proc_run(&spec, left, &res, &err);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (ran && !res.timed_out) {
			*commit = waldump_last_commit(sb_str(&res.out));
			cache_put(j, name, *commit);
			ok = true;
		} else {
			pgr_debug("pg_waldump over %s: %s", name, res.timed_out ? "timed out" : err.msg);
		}
		pgr_proc_result_free(&res);
		free(prog);
	} else {
		pgr_debug("cannot fetch %s for pg_waldump: %s", key, err.msg);
	}
	pgr_rm_rf(dir, NULL);
	free(path);
	free(key);
	return ok;
}

/* The last archived commit: the newest segment of the window's run, or (when
 * that one has none, e.g. after archive_timeout on an idle server) the few
 * before it. Only segments adjacent in the run count: a later commit cannot
 * hide in a segment that was not scanned. */
static time_t last_archived_commit(struct store_job *j, struct pgr_store *st, const struct pgr_catalog *cat,
                                   const struct pgr_window *w, double deadline)
{
	if (!w->exists || !w->last_wal)
		return 0;
	size_t idx = cat->n_wal;
	for (size_t i = 0; i < cat->n_wal; i++)
		if (!strcmp(cat->wal[i].name, w->last_wal))
			idx = i;
	if (idx == cat->n_wal)
		return 0;
	const struct pgr_walseg *prev = NULL;
	int scanned = 0;
	for (size_t i = idx + 1; i-- > 0 && scanned < COMMIT_LOOKBACK;) {
		const struct pgr_walseg *s = &cat->wal[i];
		if (s->wn.kind != PGR_WAL_SEGMENT)
			continue;
		if (prev && (s->wn.tli != prev->wn.tli || s->wn.segno + 1 != prev->wn.segno))
			break;
		time_t t = 0;
		if (!segment_commit(j, st, s->name, deadline, &t))
			return 0;
		if (t > 0)
			return t;
		prev = s;
		scanned++;
	}
	return 0;
}

static void read_metrics_file(struct store_job *j)
{
	char *text = NULL;
	size_t len = 0;
	struct pgr_error err = {0};
	if (!pgr_read_file(j->metrics_file, &text, &len, &err)) {
		copy_str(j->file_error, sizeof j->file_error, err.msg);
		return;
	}
	j->file_ok = true;
	for (int m = 0; m < PGR_PM_N; m++)
		j->file_known[m] =
		        pgr_metrics_parse_value(text, pgr_prom_metric_name((enum pgr_prom_metric)m), &j->file_value[m]);
	free(text);
}

static void *store_worker(void *arg)
{
	struct store_job *j = arg;
	double deadline = j->started_mono + j->timeout_ms / 1000.0;
	if (j->metrics_file)
		read_metrics_file(j);
	if (j->want_store) {
		struct pgr_error err = {0};
		struct pgr_store *st = pgr_store_open_env(&j->env, &err);
		if (st) {
			struct cat_holder *h = xcalloc(1, sizeof *h);
			h->refs = 1;
			if (pgr_catalog_build(st, &h->cat, &err)) {
				pgr_catalog_window(&h->cat, &h->win);
				h->last_commit = last_archived_commit(j, st, &h->cat, &h->win, deadline);
				j->holder = h;
				j->store_ok = true;
			} else {
				copy_str(j->store_error, sizeof j->store_error, err.msg);
				free(h);
			}
			pgr_store_close(st);
		} else {
			copy_str(j->store_error, sizeof j->store_error, err.msg);
		}
		/* Capacity of a local store's file system, as a kubelet reports a volume's. */
		struct statvfs sv;
		if (j->store_ok && !strncmp(j->store_url, "file://", 7) && statvfs(j->store_url + 7, &sv) == 0 &&
		    sv.f_blocks > 0) {
			j->have_fs = true;
			j->fs_total = (double)sv.f_blocks * (double)sv.f_frsize;
			j->fs_used = (double)(sv.f_blocks - sv.f_bfree) * (double)sv.f_frsize;
		}
	}
	/* This thread is detached and may still be on its way out when the
	 * process ends: OpenSSL's state for it (TLS, digests) is freed now. */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&j->mu);
	j->done = true;
	j->finished_mono = pgr_monotonic();
	poke(j->notify[1]);
	pthread_mutex_unlock(&j->mu);
	job_release(j);
	return NULL;
}

/* ------------------------------------------------------------ the collector */

enum http_kind { HTTP_ALERTS = PGR_PM_N };

struct http_req {
	CURL *easy;
	int kind; /* a metric, or HTTP_ALERTS */
	struct strbuf body;
	bool too_big;
	bool done;
	char errbuf[CURL_ERROR_SIZE];
};

enum db_phase { DB_IDLE = 0, DB_CONNECTING, DB_QUERY, DB_DONE };

struct pgr_collector {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int wake[2]; /* to the collector thread */
	int notify[2]; /* to the UI: a new snapshot */
	/* under mu */
	bool stopping, exited, abandoned, paused, refresh_requested;
	int interval_ms;
	struct pgr_snapshot *current;
	uint64_t seq;

	/* the collector thread's own */
	struct pgr_env env;
	int timeout_ms;
	int store_timeout_ms;
	bool readonly;
	CURLM *multi;
	PGconn *conn;
	bool conn_setup; /* session settings sent on this connection */
	struct pgr_source_state db, store, prom, platform;
	/* database facts of the last answer */
	char server_version[32], db_timezone[64];
	bool in_recovery;
	uint64_t current_lsn;
	struct pgr_archiver_facts arch;
	/* store */
	struct store_job *job; /* the running or last job */
	struct cat_holder *holder; /* the last good catalog */
	struct commit_entry cache[COMMIT_CACHE];
	bool have_fs;
	double fs_used, fs_total;
	time_t fs_read_at;
	bool file_known[PGR_PM_N];
	double file_value[PGR_PM_N];
	time_t file_read_at;
	double store_next_mono; /* a slow store is listed less often than every refresh */
	/* Prometheus, this refresh */
	bool prom_known[PGR_PM_N];
	double prom_value[PGR_PM_N];
	bool prom_alerts_ok;
	char (*prom_firing)[64];
	int n_prom_firing;
	/* lag history ring */
	int lag_head, lag_n;
	time_t lag_time[PGR_LAG_HISTORY];
	double lag_seconds[PGR_LAG_HISTORY];
};

static const char *ms_text(int ms, char *buf, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(buf, n, "%d s", ms / 1000);
	else
		snprintf(buf, n, "%.1f s", ms / 1000.0);
	return buf;
}

static const char *timeout_text(const struct pgr_collector *c, char *buf, size_t n)
{
	return ms_text(c->timeout_ms, buf, n);
}

/* ------------------------------------------------------------ snapshots */

struct snap_impl {
	struct pgr_snapshot pub; /* first: a pgr_snapshot * is a snap_impl * */
	struct cat_holder *holder;
};

void pgr_snapshot_release(struct pgr_snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	struct snap_impl *si = (struct snap_impl *)s;
	/* The catalog and window are the holder's, lent to the facts. */
	memset(&s->facts.catalog, 0, sizeof s->facts.catalog);
	memset(&s->facts.window, 0, sizeof s->facts.window);
	s->facts.have_catalog = false;
	pgr_facts_free(&s->facts);
	holder_release(si->holder);
	free(si);
}

struct pgr_snapshot *pgr_collector_snapshot(struct pgr_collector *c)
{
	pthread_mutex_lock(&c->mu);
	struct pgr_snapshot *s = c->current;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&c->mu);
	return s;
}

int pgr_collector_fd(struct pgr_collector *c)
{
	return c->notify[0];
}

void pgr_collector_ack(struct pgr_collector *c)
{
	drain(c->notify[0]);
}

void pgr_collector_set_interval(struct pgr_collector *c, int interval_ms)
{
	pthread_mutex_lock(&c->mu);
	c->interval_ms = interval_ms < 100 ? 100 : interval_ms;
	pthread_mutex_unlock(&c->mu);
	poke(c->wake[1]);
}

void pgr_collector_pause(struct pgr_collector *c, bool paused)
{
	pthread_mutex_lock(&c->mu);
	c->paused = paused;
	pthread_mutex_unlock(&c->mu);
	poke(c->wake[1]);
}

void pgr_collector_refresh_now(struct pgr_collector *c)
{
	pthread_mutex_lock(&c->mu);
	c->refresh_requested = true;
	pthread_mutex_unlock(&c->mu);
	poke(c->wake[1]);
}

static bool stopping(struct pgr_collector *c)
{
	pthread_mutex_lock(&c->mu);
	bool s = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* ------------------------------------------------------------ database */

struct db_run {
	enum db_phase phase;
	bool fresh; /* connected in this refresh */
	bool reconnected; /* a reused connection broke and was replaced once */
	int query; /* index into the statements */
	bool flushing;
	PostgresPollingStatusType polling; /* PQconnectPoll's last answer */
	bool ok;
	char error[256];
	double done_mono;
	/* facts gathered in this refresh, published only when complete */
	char server_version[32], db_timezone[64];
	bool in_recovery;
	uint64_t current_lsn;
	struct pgr_archiver_facts arch;
};

enum { Q_SETUP = 0, Q_INFO, Q_ARCHIVER, Q_STATUSDIR, Q_N };

static const char *const q_info =
        "SELECT current_setting('server_version'), current_setting('TimeZone'), pg_is_in_recovery(), "
        "current_setting('archive_mode'), "
        "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text";
static const char *const q_archiver =
        "SELECT archived_count, last_archived_wal, extract(epoch FROM last_archived_time)::bigint, "
        "failed_count, last_failed_wal, extract(epoch FROM last_failed_time)::bigint, "
        "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END "
        "FROM pg_stat_archiver";
/* Segments waiting for archive_command: the honest measure of lag. Needs
 * superuser or pg_monitor; without it lag falls back to last_archived_time. */
static const char *const q_statusdir = "SELECT count(*), extract(epoch FROM min(modification))::bigint "
                                       "FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'";

static int64_t to_i64(const char *v)
{
	return v && *v ? strtoll(v, NULL, 10) : 0;
}

/* "<what> (<dsn without password>): <libpq's first line>" */
static void db_fail(struct pgr_collector *c, struct db_run *r, const char *what, const char *why)
{
	char *safe = pgr_redact_conninfo(c->env.dsn ? c->env.dsn : "");
	char line[200] = "";
	copy_line(line, sizeof line, why);
	set_msg(r->error, sizeof r->error, "%s (%s): %s", what, safe, line);
	free(safe);
	r->ok = false;
	r->phase = DB_DONE;
	r->done_mono = pgr_monotonic();
	if (c->conn) {
		PQfinish(c->conn);
		c->conn = NULL;
	}
}

static void db_connect(struct pgr_collector *c, struct db_run *r)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {c->env.dsn ? c->env.dsn : "", "pgrescue", NULL};
	c->conn = PQconnectStartParams(keys, vals, 1);
	c->conn_setup = false;
	r->fresh = true;
	if (!c->conn) {
		db_fail(c, r, "cannot connect to the database", "out of memory");
		return;
	}
	if (PQstatus(c->conn) == CONNECTION_BAD) {
		db_fail(c, r, "cannot connect to the database", PQerrorMessage(c->conn));
		return;
	}
	r->phase = DB_CONNECTING;
	r->polling = PGRES_POLLING_WRITING; /* as libpq documents for the first round */
}

static void db_send(struct pgr_collector *c, struct db_run *r)
{
	const char *sql;
	char setup[200];
	switch (r->query) {
	case Q_SETUP:
		snprintf(setup, sizeof setup, "SET statement_timeout = %d%s", c->timeout_ms,
		         c->readonly ? "; SET default_transaction_read_only = on" : "");
		sql = setup;
		break;
	case Q_INFO: sql = q_info; break;
	case Q_ARCHIVER: sql = q_archiver; break;
	default: sql = q_statusdir; break;
	}
	if (!PQsendQuery(c->conn, sql)) {
		db_fail(c, r, "lost the database connection", PQerrorMessage(c->conn));
		return;
	}
	r->flushing = true;
}

/* The reused connection broke (the server restarted between refreshes): one
 * fresh attempt in this refresh, so a restart shows as a blip of nothing. */
static bool db_retry(struct pgr_collector *c, struct db_run *r)
{
	if (r->fresh || r->reconnected)
		return false;
	r->reconnected = true;
	PQfinish(c->conn);
	c->conn = NULL;
	db_connect(c, r);
	return true;
}

static void db_result(struct pgr_collector *c, struct db_run *r, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	bool rows = st == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		if (r->query == Q_STATUSDIR) {
			pgr_debug("cannot list archive_status: %s", PQresultErrorMessage(res));
		} else if (r->query == Q_SETUP) {
			pgr_debug("session settings refused: %s", PQresultErrorMessage(res));
		} else {
			/* Facts this query would give stay unknown; the database answered. */
			pgr_debug("query failed: %s", PQresultErrorMessage(res));
		}
		return;
	}
	if (!rows)
		return;
	switch (r->query) {
	case Q_INFO:
		copy_str(r->server_version, sizeof r->server_version, PQgetvalue(res, 0, 0));
		copy_str(r->db_timezone, sizeof r->db_timezone, PQgetvalue(res, 0, 1));
		r->in_recovery = PQgetvalue(res, 0, 2)[0] == 't';
		copy_str(r->arch.archive_mode, sizeof r->arch.archive_mode, PQgetvalue(res, 0, 3));
		if (!PQgetisnull(res, 0, 4))
			pgr_lsn_parse(PQgetvalue(res, 0, 4), &r->current_lsn);
		break;
	case Q_ARCHIVER:
		r->arch.known = true;
		r->arch.archived_count = to_i64(PQgetvalue(res, 0, 0));
		copy_str(r->arch.last_archived_wal, sizeof r->arch.last_archived_wal, PQgetvalue(res, 0, 1));
		r->arch.last_archived_time = (time_t)to_i64(PQgetvalue(res, 0, 2));
		r->arch.failed_count = to_i64(PQgetvalue(res, 0, 3));
		copy_str(r->arch.last_failed_wal, sizeof r->arch.last_failed_wal, PQgetvalue(res, 0, 4));
		r->arch.last_failed_time = (time_t)to_i64(PQgetvalue(res, 0, 5));
		copy_str(r->arch.current_wal, sizeof r->arch.current_wal, PQgetvalue(res, 0, 6));
		break;
	case Q_STATUSDIR:
		r->arch.pending = to_i64(PQgetvalue(res, 0, 0));
		r->arch.oldest_pending = (time_t)to_i64(PQgetvalue(res, 0, 1));
		break;
	default: break;
	}
}

static void db_next_query(struct pgr_collector *c, struct db_run *r)
{
	if (r->query == Q_SETUP)
		c->conn_setup = true;
	r->query++;
	if (r->query >= Q_N) {
		r->ok = true;
		r->phase = DB_DONE;
		r->done_mono = pgr_monotonic();
		return;
	}
	db_send(c, r);
}

/* Advance as far as possible without blocking. */
static void db_step(struct pgr_collector *c, struct db_run *r)
{
	for (int guard = 0; guard < 64 && (r->phase == DB_CONNECTING || r->phase == DB_QUERY); guard++) {
		if (r->phase == DB_CONNECTING) {
			PostgresPollingStatusType ps = PQconnectPoll(c->conn);
			if (ps == PGRES_POLLING_FAILED) {
				db_fail(c, r, "cannot connect to the database", PQerrorMessage(c->conn));
				return;
			}
			r->polling = ps;
			if (ps != PGRES_POLLING_OK)
				return; /* wait for the socket */
			PQsetnonblocking(c->conn, 1);
			r->phase = DB_QUERY;
			r->query = Q_SETUP;
			db_send(c, r);
			continue;
		}
		if (r->flushing) {
			int f = PQflush(c->conn);
			if (f < 0) {
				if (!db_retry(c, r))
					db_fail(c, r, "lost the database connection", PQerrorMessage(c->conn));
				continue;
			}
			r->flushing = f == 1;
			if (r->flushing)
				return;
		}
		if (!PQconsumeInput(c->conn)) {
			if (!db_retry(c, r))
				db_fail(c, r, "lost the database connection", PQerrorMessage(c->conn));
			continue;
		}
		bool finished = false;
		while (!PQisBusy(c->conn)) {
			PGresult *res = PQgetResult(c->conn);
			if (!res) {
				finished = true;
				break;
			}
			db_result(c, r, res);
			PQclear(res);
		}
		if (PQstatus(c->conn) == CONNECTION_BAD) {
			if (!db_retry(c, r))
				db_fail(c, r, "lost the database connection", PQerrorMessage(c->conn));
			continue;
		}
		if (!finished)
			return;
		db_next_query(c, r);
	}
}

static void db_begin(struct pgr_collector *c, struct db_run *r)
{
	memset(r, 0, sizeof *r);
	r->arch.pending = -1;
	if (!c->env.dsn || !*c->env.dsn) {
		copy_str(r->error, sizeof r->error, "no dsn configured");
		r->phase = DB_DONE;
		return;
	}
	if (c->conn && PQstatus(c->conn) != CONNECTION_OK) {
		PQfinish(c->conn);
		c->conn = NULL;
	}
	if (!c->conn) {
		db_connect(c, r);
		db_step(c, r);
		return;
	}
	r->phase = DB_QUERY;
	r->query = c->conn_setup ? Q_INFO : Q_SETUP;
	db_send(c, r);
	db_step(c, r);
}

/* poll() events the database wants, 0 when it waits on nothing. */
static short db_events(struct pgr_collector *c, struct db_run *r, int *fd)
{
	*fd = c->conn ? PQsocket(c->conn) : -1;
	if (*fd < 0)
		return 0;
	if (r->phase == DB_CONNECTING)
		return r->polling == PGRES_POLLING_READING ? CURL_WAIT_POLLIN : CURL_WAIT_POLLOUT;
	if (r->phase == DB_QUERY)
		return (short)(CURL_WAIT_POLLIN | (r->flushing ? CURL_WAIT_POLLOUT : 0));
	return 0;
}

/* ------------------------------------------------------------ Prometheus */

static size_t on_http_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_req *h = ctx;
	size_t len = size * nmemb;
	if (h->body.len + len > HTTP_BODY_MAX) {
		h->too_big = true;
		return 0;
	}
	sb_append_len(&h->body, data, len);
	return len;
}

static struct http_req *http_add(struct pgr_collector *c, int kind, const char *url)
{
	struct http_req *h = xcalloc(1, sizeof *h);
	h->kind = kind;
	h->easy = curl_easy_init();
	if (!h->easy) {
		free(h);
		return NULL;
	}
	CURL *e = h->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, h);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_http_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pgrescue/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		free(h);
		return NULL;
	}
	return h;
}

static const char *http_what(int kind)
{
	return kind == HTTP_ALERTS ? "/api/v1/alerts" : pgr_prom_metric_query((enum pgr_prom_metric)kind);
}

/* One answer: values into the collector, the first failure into *error. */
static void http_finish(struct pgr_collector *c, struct http_req *h, CURLcode rc, char *error, size_t n,
                        const char *shown)
{
	h->done = true;
	char tbuf[16];
	struct pgr_error err = {0};
	bool ok = false;
	long code = 0;
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		if (h->too_big)
			pgr_error_set(&err, PGR_ERR_TOOL, "Prometheus %s: the answer to %s is larger than %u MiB",
			              shown, http_what(h->kind), HTTP_BODY_MAX >> 20);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			pgr_error_set(&err, PGR_ERR_TOOL, "Prometheus %s: no answer within %s (%s)", shown,
			              timeout_text(c, tbuf, sizeof tbuf),
			              h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		else
			pgr_error_set(&err, PGR_ERR_TOOL, "Prometheus %s: %s", shown,
			              h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	} else if (h->kind == HTTP_ALERTS) {
		char(*names)[64] = NULL;
		int cnt = 0;
		ok = pgr_prom_parse_alerts(h->body.buf, h->body.len, &names, &cnt, &err);
		if (ok) {
			free(c->prom_firing);
			c->prom_firing = names;
			c->n_prom_firing = cnt;
			c->prom_alerts_ok = true;
		}
	} else {
		bool found;
		double v, t;
		ok = pgr_prom_parse_query(h->body.buf, h->body.len, http_what(h->kind), &found, &v, &t, NULL, &err);
		if (ok && found && isfinite(v)) {
			c->prom_known[h->kind] = true;
			c->prom_value[h->kind] = v;
		}
	}
	if (!ok && !error[0]) {
		if (rc != CURLE_OK)
			copy_str(error, n, err.msg);
		else if (code != 200 && !strstr(err.msg, "with an error ("))
			/* Not an API answer: the HTTP status says more than the body. */
			set_msg(error, n, "Prometheus %s answered HTTP %ld to %s", shown, code, http_what(h->kind));
		else
			set_msg(error, n, "Prometheus %s: %s", shown, err.msg);
	}
}

static void http_drop(struct pgr_collector *c, struct http_req *h)
{
	curl_multi_remove_handle(c->multi, h->easy);
	curl_easy_cleanup(h->easy);
	sb_free(&h->body);
	free(h);
}

/* ------------------------------------------------------------ a refresh */

static void state_begin(struct pgr_source_state *s, bool configured, time_t now)
{
	s->configured = configured;
	s->ok = false;
	s->read_at = now;
	s->latency_ms = 0;
	s->error[0] = '\0';
}

static void state_ok(struct pgr_source_state *s, double latency_ms)
{
	s->ok = true;
	s->last_ok = s->read_at;
	s->latency_ms = latency_ms;
	s->error[0] = '\0';
}

/* Take a finished store job's results. */
static void store_harvest(struct pgr_collector *c, struct store_job *j)
{
	double latency = (j->finished_mono - j->started_mono) * 1000.0;
	memcpy(c->cache, j->cache, sizeof c->cache);
	if (j->metrics_file) {
		if (j->file_ok) {
			memcpy(c->file_known, j->file_known, sizeof c->file_known);
			memcpy(c->file_value, j->file_value, sizeof c->file_value);
			c->file_read_at = j->started_at;
		} else {
			memset(c->file_known, 0, sizeof c->file_known);
			pgr_debug("metrics file: %s", j->file_error);
		}
	}
	if (!j->want_store)
		return;
	c->store.read_at = j->started_at;
	if (j->store_ok) {
		holder_release(c->holder);
		c->holder = holder_ref(j->holder);
		c->have_fs = j->have_fs;
		c->fs_used = j->fs_used;
		c->fs_total = j->fs_total;
		c->fs_read_at = j->started_at;
		state_ok(&c->store, latency);
		/* A store that takes long to list is listed less often: at most 5% of the time. */
		double secs = latency / 1000.0;
		c->store_next_mono = secs > 0.05 ? j->finished_mono + (secs * 20 < 60 ? secs * 20 : 60) : 0;
	} else {
		c->store.ok = false;
		c->store.latency_ms = latency;
		copy_str(c->store.error, sizeof c->store.error, j->store_error);
		c->store_next_mono = 0;
	}
}

static struct store_job *store_start(struct pgr_collector *c, bool want_store)
{
	struct store_job *j = xcalloc(1, sizeof *j);
	if (!make_pipe(j->notify)) {
		free(j);
		return NULL;
	}
	pthread_mutex_init(&j->mu, NULL);
	j->refs = 2;
	j->started_mono = pgr_monotonic();
	j->started_at = pgr_now();
	j->store_url = want_store ? xstrdup(c->env.store) : NULL;
	pgr_env_copy(&j->env, &c->env);
	j->pg_bindir = c->env.pg_bindir ? xstrdup(c->env.pg_bindir) : NULL;
	j->metrics_file = c->env.metrics_file && *c->env.metrics_file ? xstrdup(c->env.metrics_file) : NULL;
	j->timeout_ms = c->store_timeout_ms;
	j->want_store = want_store;
	memcpy(j->cache, c->cache, sizeof j->cache);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, store_worker, j) != 0) {
		pthread_attr_destroy(&attr);
		j->refs = 1;
		job_release(j);
		return NULL;
	}
	pthread_attr_destroy(&attr);
	return j;
}

static bool job_done(struct store_job *j)
{
	pthread_mutex_lock(&j->mu);
	bool d = j->done;
	pthread_mutex_unlock(&j->mu);
	return d;
}

static double lag_of(const struct pgr_collector *c, time_t now)
{
	if (!c->db.ok || !c->arch.known)
		return -1;
	const struct pgr_archiver_facts *a = &c->arch;
	double lag;
	if (a->pending >= 0)
		lag = a->pending > 0 && a->oldest_pending > 0 ? (double)(now - a->oldest_pending) : 0;
	else if (a->last_archived_time > 0)
		lag = (double)(now - a->last_archived_time);
	else
		return -1;
	return lag < 0 ? 0 : lag; /* clocks a little apart */
}

static void set_num(struct pgr_num *n, double v, time_t at, const char *source)
{
	n->known = true;
	n->value = v;
	n->read_at = at;
	copy_str(n->source, sizeof n->source, source);
}

static struct pgr_num *metric_field(struct pgr_facts *f, int m)
{
	switch (m) {
	case PGR_PM_BACKUP_SUCCESS: return &f->backup_success;
	case PGR_PM_BACKUP_TIMESTAMP: return &f->backup_timestamp;
	case PGR_PM_BACKUP_SIZE: return &f->backup_size;
	case PGR_PM_RESTORE_SUCCESS: return &f->restore_success;
	case PGR_PM_RESTORE_TIMESTAMP: return &f->restore_timestamp;
	case PGR_PM_RESTORE_DURATION: return &f->restore_duration;
	case PGR_PM_RESTORE_CLIP_COUNT: return &f->restore_clip_count;
	case PGR_PM_RESTORE_USER_COUNT: return &f->restore_user_count;
	case PGR_PM_STORAGE_USED: return &f->storage_used;
	default: return &f->storage_total;
	}
}

static void publish(struct pgr_collector *c, double started, time_t now)
{
	struct snap_impl *si = xcalloc(1, sizeof *si);
	struct pgr_snapshot *s = &si->pub;
	s->refs = 1;
	s->started_mono = started;
	s->finished_mono = pgr_monotonic();
	struct pgr_facts *f = &s->facts;
	pgr_facts_init(f);
	f->now = now;
	f->db = c->db;
	f->store = c->store;
	f->prom = c->prom;
	f->platform = c->platform;
	copy_str(f->server_version, sizeof f->server_version, c->server_version);
	copy_str(f->db_timezone, sizeof f->db_timezone, c->db_timezone);
	f->in_recovery = c->in_recovery;
	f->current_lsn = c->current_lsn;
	f->arch = c->arch;
	if (c->holder) {
		si->holder = holder_ref(c->holder);
		f->have_catalog = true;
		f->catalog = c->holder->cat; /* lent: see pgr_snapshot_release */
		f->window = c->holder->win;
		f->last_archived_commit = c->holder->last_commit;
	}

	/* Metrics: the store's own facts, then the metrics file, then Prometheus
	 * (what the runbook's alerts see) where it has the series. */
	if (c->holder) {
		const struct pgr_catalog *cat = &c->holder->cat;
		const struct pgr_dump *good = pgr_catalog_newest_dump(cat);
		time_t at = c->store.last_ok;
		if (good) {
			set_num(&f->backup_timestamp, (double)good->time, at, "store");
			set_num(&f->backup_size, (double)good->size, at, "store");
		}
		if (cat->n_dumps > 0)
			set_num(&f->backup_success, cat->dumps[cat->n_dumps - 1].good ? 1 : 0, at, "store");
	}
	if (c->have_fs) {
		set_num(&f->storage_used, c->fs_used, c->fs_read_at, "store");
		set_num(&f->storage_total, c->fs_total, c->fs_read_at, "store");
	}
	for (int m = 0; m < PGR_PM_N; m++)
		if (c->file_known[m])
			set_num(metric_field(f, m), c->file_value[m], c->file_read_at, "file");
	for (int m = 0; m < PGR_PM_N; m++)
		if (c->prom_known[m])
			set_num(metric_field(f, m), c->prom_value[m], c->prom.read_at, "prometheus");
	f->snapshots_supported = false; /* the local platform has no volume snapshots */
	if (c->prom_alerts_ok) {
		f->n_prom_firing = c->n_prom_firing;
		f->prom_firing = xcalloc(c->n_prom_firing > 0 ? (size_t)c->n_prom_firing : 1, sizeof *f->prom_firing);
		if (c->n_prom_firing > 0)
			memcpy(f->prom_firing, c->prom_firing, sizeof *f->prom_firing * (size_t)c->n_prom_firing);
	}
	pgr_health_evaluate(f, &c->env, &s->health);

	/* Lag history: a bounded ring, copied oldest first. */
	c->lag_time[c->lag_head] = now;
	c->lag_seconds[c->lag_head] = lag_of(c, now);
	c->lag_head = (c->lag_head + 1) % PGR_LAG_HISTORY;
	if (c->lag_n < PGR_LAG_HISTORY)
		c->lag_n++;
	int first = (c->lag_head - c->lag_n + PGR_LAG_HISTORY) % PGR_LAG_HISTORY;
	for (int i = 0; i < c->lag_n; i++) {
		int k = (first + i) % PGR_LAG_HISTORY;
		s->lag_time[i] = c->lag_time[k];
		s->lag_seconds[i] = c->lag_seconds[k];
	}
	s->n_lag = c->lag_n;

	pthread_mutex_lock(&c->mu);
	s->seq = ++c->seq;
	struct pgr_snapshot *old = c->current;
	c->current = s;
	pthread_mutex_unlock(&c->mu);
	pgr_snapshot_release(old);
	poke(c->notify[1]);
}

static bool prom_url_ok(const char *url)
{
	return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

/* One refresh: every source concurrently, each up to the timeout. False when
 * stop() interrupted it. */
static bool refresh(struct pgr_collector *c, bool forced)
{
	char tbuf[16];
	double t0 = pgr_monotonic();
	time_t now = pgr_now();
	double deadline = t0 + c->timeout_ms / 1000.0;

	/* Store: a late job from an earlier refresh may have finished since. */
	bool harvested = false;
	if (c->job && job_done(c->job)) {
		store_harvest(c, c->job);
		job_release(c->job);
		c->job = NULL;
		harvested = true;
	}
	bool store_configured = c->env.store && *c->env.store;
	bool want_metrics_file = c->env.metrics_file && *c->env.metrics_file;
	bool store_due = store_configured && (forced || t0 >= c->store_next_mono) && !harvested;
	struct store_job *job = NULL;
	if (!c->job && (store_due || want_metrics_file)) {
		if (store_due)
			state_begin(&c->store, true, now);
		job = c->job = store_start(c, store_due);
		if (!job && store_due)
			copy_str(c->store.error, sizeof c->store.error, "cannot start the store worker thread");
	} else if (c->job) {
		/* Still listing since an earlier refresh: the old catalog stays, marked. */
		c->store.ok = false;
		set_msg(c->store.error, sizeof c->store.error, "timed out after %s (still listing after %.0f s)",
		        ms_text(c->store_timeout_ms, tbuf, sizeof tbuf), t0 - c->job->started_mono);
	}
	if (!store_configured) {
		state_begin(&c->store, false, now);
		copy_str(c->store.error, sizeof c->store.error, "no store configured");
	}

	/* Database. */
	struct db_run dbr;
	state_begin(&c->db, c->env.dsn && *c->env.dsn, now);
	db_begin(c, &dbr);

	/* Prometheus: all queries at once. */
	bool prom_configured = c->env.prometheus && *c->env.prometheus;
	state_begin(&c->prom, prom_configured, now);
	memset(c->prom_known, 0, sizeof c->prom_known);
	c->prom_alerts_ok = false;
	struct http_req *reqs[PGR_PM_N + 1] = {0};
	int n_reqs = 0;
	char *shown = prom_configured ? pgr_prom_redact_url(c->env.prometheus) : NULL;
	char prom_error[256] = "";
	double prom_done = 0;
	if (prom_configured && !prom_url_ok(c->env.prometheus)) {
		set_msg(prom_error, sizeof prom_error, "prometheus \"%.200s\" is not an http:// or https:// URL",
		        shown);
	} else if (prom_configured) {
		for (int k = 0; k <= PGR_PM_N; k++) {
			char *url = k == HTTP_ALERTS
			        ? pgr_prom_alerts_url(c->env.prometheus)
			        : pgr_prom_query_url(c->env.prometheus, pgr_prom_metric_query((enum pgr_prom_metric)k));
			struct http_req *h = http_add(c, k, url);
			free(url);
			if (h)
				reqs[n_reqs++] = h;
			else if (!prom_error[0])
				copy_str(prom_error, sizeof prom_error, "cannot start an HTTP request (libcurl)");
		}
	}
	int running = 0;
	if (n_reqs)
		curl_multi_perform(c->multi, &running);

	bool interrupted = false;
	/* curl enforces its own timeout; a little grace lets its message through. */
	double hard_deadline = deadline + 0.25;
	/* The store's listing may be given longer than the other sources. */
	double store_deadline = t0 + c->store_timeout_ms / 1000.0 + 0.25;
	if (store_deadline < hard_deadline)
		store_deadline = hard_deadline;
	for (;;) {
		/* Collect finished transfers. */
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(c->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct http_req *h = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
			if (h)
				http_finish(c, h, msg->data.result, prom_error, sizeof prom_error, shown);
		}
		bool http_busy = false;
		for (int i = 0; i < n_reqs; i++)
			http_busy |= !reqs[i]->done;
		if (n_reqs && !http_busy && !prom_done)
			prom_done = pgr_monotonic();
		bool db_busy = dbr.phase == DB_CONNECTING || dbr.phase == DB_QUERY;
		bool store_busy = job && !job_done(job);
		if (!http_busy && !db_busy && !store_busy)
			break;
		double t = pgr_monotonic();
		if ((db_busy && t >= deadline) || t >= hard_deadline) {
			/* Past the others' time, only the store's listing is waited for. */
			bool store_waits = store_busy && t < store_deadline;
			if (db_busy) {
				char what[64];
				snprintf(what, sizeof what, "no answer within %s (%s)",
				         timeout_text(c, tbuf, sizeof tbuf),
				         dbr.phase == DB_CONNECTING ? "connecting" : "running queries");
				db_fail(c, &dbr, "database", what);
				continue;
			}
			if (!store_waits)
				break;
		}
		struct curl_waitfd fds[3];
		int nfd = 0;
		fds[nfd++] = (struct curl_waitfd){.fd = c->wake[0], .events = CURL_WAIT_POLLIN};
		int dbfd = -1;
		short ev = db_busy ? db_events(c, &dbr, &dbfd) : 0;
		int db_slot = -1;
		if (ev) {
			db_slot = nfd;
			fds[nfd++] = (struct curl_waitfd){.fd = dbfd, .events = ev};
		}
		if (store_busy)
			fds[nfd++] = (struct curl_waitfd){.fd = job->notify[0], .events = CURL_WAIT_POLLIN};
		double limit = (db_busy ? deadline : t < hard_deadline ? hard_deadline : store_deadline) - t;
		int wait_ms = (int)(limit * 1000.0) + 1;
		if (wait_ms > 1000)
			wait_ms = 1000;
		curl_multi_poll(c->multi, fds, (unsigned)nfd, wait_ms, NULL);
		if (fds[0].revents) {
			drain(c->wake[0]);
			if (stopping(c)) {
				interrupted = true;
				break;
			}
		}
		if (db_busy && (db_slot < 0 || fds[db_slot].revents))
			db_step(c, &dbr);
		if (n_reqs)
			curl_multi_perform(c->multi, &running);
	}

	/* Prometheus: what did not finish did not answer. */
	for (int i = 0; i < n_reqs; i++) {
		if (!reqs[i]->done && !prom_error[0])
			set_msg(prom_error, sizeof prom_error, "Prometheus %s: no answer to %s within %s", shown,
			        http_what(reqs[i]->kind), timeout_text(c, tbuf, sizeof tbuf));
		http_drop(c, reqs[i]);
	}
	if (prom_configured) {
		if (!prom_error[0] && n_reqs) {
			state_ok(&c->prom, ((prom_done ? prom_done : pgr_monotonic()) - t0) * 1000.0);
		} else {
			copy_str(c->prom.error, sizeof c->prom.error, prom_error);
			c->prom.latency_ms = (pgr_monotonic() - t0) * 1000.0;
		}
	}
	free(shown);

	/* Database: a completed run replaces the facts; a failed one keeps the
	 * last answer's facts, marked by db.ok = false. */
	if (dbr.phase == DB_CONNECTING || dbr.phase == DB_QUERY)
		db_fail(c, &dbr, "database", "interrupted");
	if (dbr.ok) {
		state_ok(&c->db, (dbr.done_mono - t0) * 1000.0);
		copy_str(c->server_version, sizeof c->server_version, dbr.server_version);
		copy_str(c->db_timezone, sizeof c->db_timezone, dbr.db_timezone);
		c->in_recovery = dbr.in_recovery;
		c->current_lsn = dbr.current_lsn;
		c->arch = dbr.arch;
	} else if (c->db.configured) {
		copy_str(c->db.error, sizeof c->db.error, dbr.error);
		c->db.latency_ms = (pgr_monotonic() - t0) * 1000.0;
	} else {
		copy_str(c->db.error, sizeof c->db.error, dbr.error);
	}

	/* Store: done in time, or left running and marked. */
	if (job) {
		if (job_done(job)) {
			store_harvest(c, job);
			job_release(job);
			c->job = NULL;
		} else if (job->want_store) {
			c->store.ok = false;
			set_msg(c->store.error, sizeof c->store.error, "timed out after %s",
			        ms_text(c->store_timeout_ms, tbuf, sizeof tbuf));
			c->store.latency_ms = (pgr_monotonic() - t0) * 1000.0;
		}
	}
	if (interrupted)
		return false;
	publish(c, t0, now);
	return true;
}

/* ------------------------------------------------------------ the thread */

static void collector_free(struct pgr_collector *c)
{
	pgr_snapshot_release(c->current);
	holder_release(c->holder);
	free(c->prom_firing);
	pgr_env_free(&c->env);
	close(c->wake[0]);
	close(c->wake[1]);
	close(c->notify[0]);
	close(c->notify[1]);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static void *collector_main(void *arg)
{
	struct pgr_collector *c = arg;
	double last_start = -1e9;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		bool stop = c->stopping, paused = c->paused, forced = c->refresh_requested;
		int interval = c->interval_ms;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		double now = pgr_monotonic();
		double due = last_start + interval / 1000.0;
		if (forced || (!paused && now >= due)) {
			pthread_mutex_lock(&c->mu);
			c->refresh_requested = false;
			pthread_mutex_unlock(&c->mu);
			last_start = now;
			if (!refresh(c, forced))
				break;
			continue;
		}
		int wait_ms = paused ? -1 : (int)((due - now) * 1000.0) + 1;
		struct pollfd p = {.fd = c->wake[0], .events = POLLIN};
		if (poll(&p, 1, wait_ms) > 0)
			drain(c->wake[0]);
	}
	/* Leave: nothing here blocks. A store job still running keeps its own reference. */
	if (c->job)
		job_release(c->job);
	c->job = NULL;
	if (c->conn)
		PQfinish(c->conn);
	c->conn = NULL;
	curl_multi_cleanup(c->multi);
	c->multi = NULL;

	pthread_mutex_lock(&c->mu);
	c->exited = true;
	bool abandoned = c->abandoned;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mu);
	if (abandoned)
		collector_free(c); /* curl's global state stays: another thread may use it */
	return NULL;
}

struct pgr_collector *pgr_collector_start(const struct pgr_env *env, const struct pgr_collector_opts *opts,
                                          struct pgr_error *err)
{
	struct pgr_collector *c = xcalloc(1, sizeof *c);
	if (!make_pipe(c->wake)) {
		free(c);
		pgr_error_errno(err, errno, "cannot create the collector's wake-up pipe");
		return NULL;
	}
	if (!make_pipe(c->notify)) {
		int e = errno;
		close(c->wake[0]);
		close(c->wake[1]);
		free(c);
		pgr_error_errno(err, e, "cannot create the collector's notification pipe");
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	pgr_env_copy(&c->env, env);
	c->interval_ms = opts && opts->interval_ms > 0 ? opts->interval_ms : 2000;
	if (c->interval_ms < 100)
		c->interval_ms = 100;
	c->timeout_ms = opts && opts->source_timeout_ms > 0 ? opts->source_timeout_ms : 5000;
	c->store_timeout_ms = opts && opts->store_timeout_ms > 0 ? opts->store_timeout_ms : c->timeout_ms;
	c->readonly = (opts && opts->readonly) || env->readonly;
	c->arch.pending = -1;
	state_begin(&c->platform, false, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->multi = curl_multi_init();
	if (!c->multi) {
		curl_global_cleanup();
		collector_free(c);
		pgr_error_set(err, PGR_ERR_INTERNAL, "cannot initialise libcurl for the collector");
		return NULL;
	}
	/* At most a few connections to Prometheus, reused across refreshes. */
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 4L);
	/* Signals (SIGWINCH, SIGINT, ...) belong to the thread that owns the
	 * terminal: the collector and its workers block them. */
	sigset_t all, old;
	sigfillset(&all);
	int sync_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
	for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
		sigdelset(&all, sync_signals[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&c->thread, NULL, collector_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		curl_multi_cleanup(c->multi);
		curl_global_cleanup();
		collector_free(c);
		pgr_error_errno(err, rc, "cannot start the collector thread");
		return NULL;
	}
	return c;
}

void pgr_collector_stop(struct pgr_collector *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_mutex_unlock(&c->mu);
	poke(c->wake[1]);

	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)STOP_WAIT_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&c->mu);
	while (!c->exited) {
		if (pthread_cond_timedwait(&c->cond, &c->mu, &until) == ETIMEDOUT)
			break;
	}
	bool exited = c->exited;
	if (!exited)
		c->abandoned = true; /* the thread frees the collector when it returns */
	pthread_mutex_unlock(&c->mu);
	if (!exited) {
		pgr_warn("the collector did not stop within %d ms (a source is stuck in a blocking call); leaving it",
		         STOP_WAIT_MS);
		pthread_detach(c->thread);
		return;
	}
	pthread_join(c->thread, NULL);
	collector_free(c);
	curl_global_cleanup();
}
