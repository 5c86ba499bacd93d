/* The runner: a detached process that executes a plan's steps in order,
 * journaling every transition (fsync'd) so a resumed runner knows where the
 * last one stopped, auditing each step before and after it acts, and
 * publishing what it is doing in state.json for consoles to follow. */
#include "config.h"

#include "recovery/runner.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "platform/platform.h"
#include "recovery/audit.h"
#include "recovery/pitr.h"
#include "recovery/restore.h"
#include "storage/storage.h"

#define MAX_REPORT (16 * 1024)

struct pgr_run {
	char *dir;
	struct pgr_plan plan;
	struct pgr_kvlist facts;
	int journal_fd;
	int log_fd;
	struct pgr_platform *platform;
	struct pgr_store *store;
	struct pgr_audit audit;
	bool audit_open;
	/* The step running now. */
	size_t current;
	double step_started;
	double last_progress;
	double fraction;
	char *message;
	struct strbuf report;
	const char *status;
	char *error, *hint;
};

static volatile sig_atomic_t g_cancel;

static void on_stop_signal(int sig)
{
	(void)sig;
	g_cancel = 1;
}

/* ------------------------------------------------------------ tables */

static struct {
	const char *kind;
	const struct pgr_step_impl *impls;
} g_extra[4];

void pgr_step_impls_register(const char *kind, const struct pgr_step_impl *impls)
{
	for (size_t i = 0; i < sizeof g_extra / sizeof g_extra[0]; i++)
		if (!g_extra[i].kind || !strcmp(g_extra[i].kind, kind)) {
			g_extra[i].kind = kind;
			g_extra[i].impls = impls;
			return;
		}
}

const struct pgr_step_impl *pgr_step_impls(const char *kind)
{
	if (!kind)
		return NULL;
	if (!strcmp(kind, "restore"))
		return pgr_restore_steps;
	if (!strcmp(kind, "pitr"))
		return pgr_pitr_steps;
	for (size_t i = 0; i < sizeof g_extra / sizeof g_extra[0]; i++)
		if (g_extra[i].kind && !strcmp(g_extra[i].kind, kind))
			return g_extra[i].impls;
	return NULL;
}

static const struct pgr_step_impl *find_impl(const struct pgr_step_impl *t, const char *id)
{
	for (; t && t->id; t++)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

const char *pgr_step_state_name(enum pgr_step_state s)
{
	static const char *const names[] = {"pending", "running", "done", "skipped", "failed", "waiting"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

const char *pgr_run_status_name(enum pgr_run_status s)
{
	static const char *const names[] = {"running", "done", "failed", "waiting", "interrupted", "cancelled"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ------------------------------------------------------------ paths */

char *pgr_runs_dir(void)
{
	char *state = pgr_state_dir();
	char *d = xasprintf("%s/runs", state);
	free(state);
	return d;
}

static char *run_file(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void iso_now(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n, "%.20s.%03dZ", base, (int)(ts.tv_nsec / 1000000L) % 1000);
}

/* ------------------------------------------------------------ journal */

static bool journal_write(int fd, cJSON *ev, struct pgr_error *err)
{
	char ts[40];
	iso_now(ts, sizeof ts);
	cJSON_AddStringToObject(ev, "t", ts);
	cJSON_AddNumberToObject(ev, "epoch", (double)time(NULL));
	char *text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	size_t len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	free(text);
	if (!ok)
		return pgr_error_errno(err, errno, "cannot write the run's journal");
	return true;
}

static bool journal_event(struct pgr_run *r, const char *step, const char *event, const char *k1, const char *v1,
                          struct pgr_error *err)
{
	cJSON *ev = cJSON_CreateObject();
	if (step)
		cJSON_AddStringToObject(ev, "step", step);
	cJSON_AddStringToObject(ev, "event", event);
	if (k1 && v1)
		cJSON_AddStringToObject(ev, k1, v1);
	return journal_write(r->journal_fd, ev, err);
}

/* What a journal says, folded: per-step state and times, facts, gates. */
struct journal_view {
	enum pgr_step_state *state;
	double *started, *ended;
	char **report;
	bool *gate_open;
	struct pgr_kvlist facts;
	char *last_error, *last_detail, *last_hint;
	time_t created;
	bool cancelled;
	bool reopened; /* a step was reopened after the last runner started */
	char *reopen_why;
};

static long step_index(const struct pgr_plan *p, const char *id)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (!strcmp(p->steps[i].id, id))
			return (long)i;
	return -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void view_free(struct journal_view *v, size_t n)
{
	free(v->state);
	free(v->started);
	free(v->ended);
	for (size_t i = 0; v->report && i < n; i++)
		free(v->report[i]);
	free(v->report);
	free(v->gate_open);
	pgr_kv_free(&v->facts);
	free(v->last_error);
	free(v->last_detail);
	free(v->last_hint);
	free(v->reopen_why);
	memset(v, 0, sizeof *v);
}

static bool journal_load(const char *dir, const struct pgr_plan *p, struct journal_view *v, struct pgr_error *err)
{
	memset(v, 0, sizeof *v);
	size_t n = p->n_steps;
	v->state = xcalloc(n + 1, sizeof *v->state);
	v->started = xcalloc(n + 1, sizeof *v->started);
	v->ended = xcalloc(n + 1, sizeof *v->ended);
	v->report = xcalloc(n + 1, sizeof *v->report);
	v->gate_open = xcalloc(n + 1, sizeof *v->gate_open);
	char *path = run_file(dir, "journal.jsonl");
	char *text = NULL;
	bool ok = pgr_read_file(path, &text, NULL, err);
	free(path);
	if (!ok)
		return false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *ev = cJSON_Parse(line);
		if (!ev)
			continue; /* a torn last line from a crash mid-write */
		const char *event = jstr(ev, "event");
		const char *step = jstr(ev, "step");
		const cJSON *ep = cJSON_GetObjectItemCaseSensitive(ev, "epoch");
		double t = cJSON_IsNumber(ep) ? ep->valuedouble : 0;
		long i = step ? step_index(p, step) : -1;
		if (!event) {
			cJSON_Delete(ev);
			continue;
		}
		if (!strcmp(event, "created"))
			v->created = (time_t)t;
		else if (!strcmp(event, "fact") && jstr(ev, "key"))
			pgr_kv_set(&v->facts, jstr(ev, "key"), jstr(ev, "value") ? jstr(ev, "value") : "");
		else if (!strcmp(event, "cancelled"))
			v->cancelled = true;
		else if (!strcmp(event, "resumed") || !strcmp(event, "runner-start"))
			v->reopened = false;
		else if (i >= 0 && !strcmp(event, "reopen")) {
			/* Pending again: the next runner checks its postcondition and runs it. */
			v->state[i] = PGR_STEP_PENDING;
			v->started[i] = v->ended[i] = 0;
			/* A later gate no longer waits: the steps before it run first. */
			for (size_t j = (size_t)i + 1; j < n; j++)
				if (v->state[j] == PGR_STEP_WAITING)
					v->state[j] = PGR_STEP_PENDING;
			free(v->report[i]);
			v->report[i] = NULL;
			v->gate_open[i] = false;
			v->reopened = true;
			v->cancelled = false;
			free(v->reopen_why);
			v->reopen_why = jstr(ev, "why") ? xstrdup(jstr(ev, "why")) : NULL;
		} else if (i >= 0) {
			if (!strcmp(event, "start")) {
				v->state[i] = PGR_STEP_RUNNING;
				v->started[i] = t;
				v->ended[i] = 0;
				v->cancelled = false;
			} else if (!strcmp(event, "done") || !strcmp(event, "skipped") || !strcmp(event, "failed")) {
				v->state[i] = !strcmp(event, "done") ? PGR_STEP_DONE
				        : !strcmp(event, "skipped")  ? PGR_STEP_SKIPPED
				                                     : PGR_STEP_FAILED;
				v->ended[i] = t;
				free(v->report[i]);
				v->report[i] = jstr(ev, "report") ? xstrdup(jstr(ev, "report")) : NULL;
				if (v->state[i] == PGR_STEP_FAILED) {
					free(v->last_error);
					free(v->last_detail);
					free(v->last_hint);
					v->last_error = jstr(ev, "error") ? xstrdup(jstr(ev, "error")) : NULL;
					v->last_detail = jstr(ev, "detail") ? xstrdup(jstr(ev, "detail")) : NULL;
					v->last_hint = jstr(ev, "hint") ? xstrdup(jstr(ev, "hint")) : NULL;
				}
			} else if (!strcmp(event, "waiting")) {
				v->state[i] = PGR_STEP_WAITING;
			} else if (!strcmp(event, "gate-open")) {
				v->gate_open[i] = true;
			}
		}
		cJSON_Delete(ev);
	}
	free(text);
	return true;
}

/* ------------------------------------------------------------ state.json */

static void state_write(struct pgr_run *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "run", r->plan.run_id ? r->plan.run_id : "");
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddStringToObject(o, "status", r->status ? r->status : "running");
	cJSON_AddNumberToObject(o, "step_index", (double)r->current);
	if (r->current < r->plan.n_steps)
		cJSON_AddStringToObject(o, "step", r->plan.steps[r->current].id);
	cJSON_AddNumberToObject(o, "fraction", r->fraction);
	cJSON_AddStringToObject(o, "message", r->message ? r->message : "");
	cJSON_AddNumberToObject(o, "updated", (double)time(NULL));
	if (r->error)
		cJSON_AddStringToObject(o, "error", r->error);
	if (r->hint)
		cJSON_AddStringToObject(o, "hint", r->hint);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *path = run_file(r->dir, "state.json");
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		size_t len = strlen(text);
		bool ok = write(fd, text, len) == (ssize_t)len;
		close(fd);
		if (ok)
			rename(tmp, path);
		else
			unlink(tmp);
	}
	free(tmp);
	free(path);
	free(text);
}

/* ------------------------------------------------------------ in a step */

const struct pgr_plan *pgr_run_plan(const struct pgr_run *r)
{
	return &r->plan;
}

const char *pgr_run_dir(const struct pgr_run *r)
{
	return r->dir;
}

struct pgr_platform *pgr_run_platform(struct pgr_run *r, struct pgr_error *err)
{
	if (!r->platform)
		r->platform = pgr_platform_open(&r->plan.env, err);
	return r->platform;
}

struct pgr_store *pgr_run_store(struct pgr_run *r, struct pgr_error *err)
{
	if (!r->store) {
		if (!r->plan.env.store || !*r->plan.env.store) {
			pgr_error_set(err, PGR_ERR_CONFIG, "environment \"%s\" has no store", r->plan.env.name);
			pgr_error_hint(err, "Set store = file:///... in its [env] section, or pass --store.");
			return NULL;
		}
		r->store = pgr_store_open_env(&r->plan.env, err);
	}
	return r->store;
}

const char *pgr_run_fact(const struct pgr_run *r, const char *key)
{
	return pgr_kv_get(&r->facts, key);
}

bool pgr_run_set_fact(struct pgr_run *r, const char *key, const char *value, struct pgr_error *err)
{
	cJSON *ev = cJSON_CreateObject();
	if (r->current < r->plan.n_steps)
		cJSON_AddStringToObject(ev, "step", r->plan.steps[r->current].id);
	cJSON_AddStringToObject(ev, "event", "fact");
	cJSON_AddStringToObject(ev, "key", key);
	cJSON_AddStringToObject(ev, "value", value ? value : "");
	if (!journal_write(r->journal_fd, ev, err))
		return false;
	pgr_kv_set(&r->facts, key, value);
	return true;
}

void pgr_run_progress(struct pgr_run *r, double fraction, bool force, const char *fmt, ...)
{
	double now = pgr_monotonic();
	if (!force && now - r->last_progress < 0.2)
		return;
	r->last_progress = now;
	r->fraction = fraction;
	free(r->message);
	r->message = NULL;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		if (vasprintf(&r->message, fmt, ap) < 0)
			r->message = NULL;
		va_end(ap);
	}
	state_write(r);
}

bool pgr_run_download_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct pgr_run_download *d = ctx;
	if (!total)
		total = d->total;
	char a[32], b[32];
	pgr_size_format(done, a, sizeof a);
	pgr_size_format(total, b, sizeof b);
	pgr_run_progress(d->r, total ? d->scale * (double)done / (double)total : -1, false, "downloading %s: %s of %s",
	                 d->what, a, b);
	return !pgr_run_cancelled(d->r);
}

static void log_line(int fd, const char *prefix, const char *text)
{
	char ts[40];
	iso_now(ts, sizeof ts);
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "%s %s%s\n", ts, prefix, text);
	if (write(fd, sb_str(&sb), strlen(sb_str(&sb))) < 0) {
		/* the log is best effort; the journal is what counts */
	}
	sb_free(&sb);
}

void pgr_run_log(struct pgr_run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (text) {
		char *safe = pgr_redact_conninfo(text);
		log_line(r->log_fd, "", safe);
		free(safe);
	}
	free(text);
}

void pgr_run_report(struct pgr_run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (text && strlen(sb_str(&r->report)) < MAX_REPORT) {
		sb_append(&r->report, text);
		sb_append(&r->report, "\n");
		log_line(r->log_fd, "  ", text);
	}
	free(text);
}

bool pgr_run_cancelled(const struct pgr_run *r)
{
	(void)r;
	return g_cancel != 0;
}

int pgr_run_log_fd(const struct pgr_run *r)
{
	return r->log_fd;
}

/* ------------------------------------------------------------ creating */

static bool load_plan(const char *dir, struct pgr_plan *p, struct pgr_error *err)
{
	char *path = run_file(dir, "plan.json");
	char *text = NULL;
	bool ok = pgr_read_file(path, &text, NULL, err);
	if (ok)
		ok = pgr_plan_from_json(text, path, p, err);
	free(text);
	free(path);
	return ok;
}

bool pgr_run_create(struct pgr_plan *p, char **run_dir, struct pgr_error *err)
{
	char *runs = pgr_runs_dir();
	bool ok = pgr_mkdir_p(runs, 0700, err);
	char label[32];
	pgr_label_format(pgr_now(), label, sizeof label);
	char *dir = NULL;
	for (int i = 0; ok && i < 100; i++) {
		char *id = i == 0 ? xasprintf("%s-%s-%s", label, p->kind, p->env.name ? p->env.name : "env")
		                  : xasprintf("%s-%s-%s.%d", label, p->kind, p->env.name ? p->env.name : "env", i);
		for (char *c = id; *c; c++)
			if (*c == '/' || *c == ' ' || *c == '(' || *c == ')')
				*c = '_';
		dir = xasprintf("%s/%s", runs, id);
		if (mkdir(dir, 0700) == 0) {
			free(p->run_id);
			p->run_id = id;
			break;
		}
		int e = errno;
		free(id);
		free(dir);
		dir = NULL;
		if (e != EEXIST)
			ok = pgr_error_errno(err, e, "cannot create a run directory under \"%s\"", runs);
	}
	free(runs);
	if (ok && !dir)
		ok = pgr_error_set(err, PGR_ERR_IO, "cannot create a run directory: too many runs this second");
	if (!ok) {
		free(dir);
		return false;
	}
	char *json = pgr_plan_to_json(p);
	char *path = run_file(dir, "plan.json");
	ok = pgr_write_file_atomic(path, json, strlen(json), 0600, err);
	free(json);
	free(path);
	if (ok) {
		path = run_file(dir, "journal.jsonl");
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		free(path);
		if (fd < 0)
			ok = pgr_error_errno(err, errno, "cannot create the journal in \"%s\"", dir);
		else {
			cJSON *ev = cJSON_CreateObject();
			cJSON_AddStringToObject(ev, "event", "created");
			ok = journal_write(fd, ev, err);
			close(fd);
		}
	}
	if (!ok) {
		free(dir);
		return false;
	}
	*run_dir = dir;
	return true;
}

bool pgr_run_spawn(const char *run_dir, struct pgr_lock *lock, pid_t *pid, struct pgr_error *err)
{
	char *logp = run_file(run_dir, "runner.log");
	int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		pgr_error_errno(err, errno, "cannot open \"%s\"", logp);
		free(logp);
		return false;
	}
	free(logp);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		close(logfd);
		return pgr_error_errno(err, errno, "cannot start the runner");
	}
	const char *exe = pgr_self_exe();
	char fdnum[16];
	snprintf(fdnum, sizeof fdnum, "%d", lock->fd);
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		close(logfd);
		close(pfd[0]);
		close(pfd[1]);
		return pgr_error_errno(err, errno, "cannot start the runner");
	}
	if (child == 0) {
		/* Intermediate: a new session, then fork again so the runner is
		 * nobody's child and no terminal's. */
		setsid();
		signal(SIGHUP, SIG_IGN);
		pid_t gc = fork();
		if (gc != 0) {
			if (gc > 0 && write(pfd[1], &gc, sizeof gc) != (ssize_t)sizeof gc)
				_exit(1);
			_exit(gc > 0 ? 0 : 1);
		}
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		/* The lock passes to the runner through exec. */
		int flags = fcntl(lock->fd, F_GETFD);
		if (flags >= 0)
			fcntl(lock->fd, F_SETFD, flags & ~FD_CLOEXEC);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(exe, exe, "runs", "exec", "--lock-fd", fdnum, run_dir, (char *)NULL);
		dprintf(STDERR_FILENO, "pgrescue: cannot execute %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	close(logfd);
	int status = 0;
	waitpid(child, &status, 0);
	pid_t gc = 0;
	ssize_t n = read(pfd[0], &gc, sizeof gc);
	close(pfd[0]);
	if (n != (ssize_t)sizeof gc || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "the runner did not start");
	if (pid)
		*pid = gc;
	return true;
}

bool pgr_run_start(struct pgr_plan *p, char **run_dir, pid_t *pid, struct pgr_error *err)
{
	struct pgr_lock lock;
	*run_dir = NULL;
	if (!pgr_lock_acquire(&lock, p->env.name, p->incident, NULL, err)) {
		pgr_lock_release(&lock);
		return false;
	}
	if (!pgr_run_create(p, run_dir, err)) {
		pgr_lock_release(&lock);
		return false;
	}
	pgr_lock_set_run(&lock, p->run_id, NULL);
	if (!pgr_run_spawn(*run_dir, &lock, pid, err)) {
		pgr_lock_release(&lock);
		return false;
	}
	pgr_lock_forget(&lock);
	return true;
}

bool pgr_run_restart(const char *run_dir, pid_t *pid, struct pgr_error *err)
{
	struct pgr_run_info info;
	if (!pgr_run_info_load(run_dir, &info, err))
		return false;
	bool ok = true;
	if (info.status == PGR_RUN_RUNNING || info.status == PGR_RUN_DONE) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s is %s: nothing to resume", info.id,
		                   pgr_run_status_name(info.status));
	} else if (info.status == PGR_RUN_WAITING) {
		ok = pgr_run_open_gate(run_dir, err);
	}
	struct pgr_lock lock;
	if (ok && !pgr_lock_acquire(&lock, info.env, info.incident, info.id, err)) {
		pgr_lock_release(&lock);
		ok = false;
	} else if (ok) {
		if (!pgr_run_spawn(run_dir, &lock, pid, err)) {
			pgr_lock_release(&lock);
			ok = false;
		} else {
			pgr_lock_forget(&lock);
		}
	}
	pgr_run_info_free(&info);
	return ok;
}

/* ------------------------------------------------------------ executing */

static void audit_step(struct pgr_run *r, const struct pgr_step *s, const char *phase, const char *outcome,
                       const char *detail, int64_t ms)
{
	if (!r->audit_open)
		return;
	struct pgr_audit_event ev = {
	        .env = r->plan.env.name,
	        .incident = r->plan.incident,
	        .reason = r->plan.reason,
	        .run = r->plan.run_id,
	        .plan = r->plan.kind,
	        .step = s ? s->id : NULL,
	        .phase = phase,
	        .command = s ? s->command : r->plan.summary,
	        .outcome = outcome,
	        .detail = detail,
	        .duration_ms = ms,
	};
	struct pgr_error aerr = {0};
	if (!pgr_audit_append(&r->audit, &ev, &aerr))
		pgr_run_log(r, "WARNING: audit log: %s", aerr.msg);
}

static void set_status(struct pgr_run *r, const char *status)
{
	r->status = status;
	state_write(r);
}

static void fail_text(const struct pgr_error *e, char **msg, char **hint)
{
	free(*msg);
	free(*hint);
	*msg = xstrdup(e->msg[0] ? e->msg : "failed");
	*hint = e->hint[0] ? xstrdup(e->hint) : NULL;
}

static bool step_failed(struct pgr_run *r, const struct pgr_step *s, const struct pgr_error *e, double t0)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "step", s->id);
	cJSON_AddStringToObject(ev, "event", "failed");
	cJSON_AddStringToObject(ev, "error", e->msg);
	if (e->detail[0])
		cJSON_AddStringToObject(ev, "detail", e->detail);
	if (e->hint[0])
		cJSON_AddStringToObject(ev, "hint", e->hint);
	if (sb_str(&r->report)[0])
		cJSON_AddStringToObject(ev, "report", sb_str(&r->report));
	journal_write(r->journal_fd, ev, NULL);
	fail_text(e, &r->error, &r->hint);
	struct strbuf d = STRBUF_INIT;
	sb_append(&d, e->msg);
	if (e->detail[0])
		sb_printf(&d, "\nDETAIL: %s", e->detail);
	audit_step(r, s, "outcome", "failed", sb_str(&d), (int64_t)((pgr_monotonic() - t0) * 1000));
	sb_free(&d);
	pgr_run_log(r, "step %s FAILED: %s%s%s", s->id, e->msg, e->hint[0] ? "\nHINT: " : "", e->hint);
	set_status(r, "failed");
	return false;
}

static bool run_step(struct pgr_run *r, const struct pgr_step_impl *impls, size_t i, struct journal_view *v,
                     bool *waiting, struct pgr_error *err)
{
	const struct pgr_step *s = &r->plan.steps[i];
	r->current = i;
	sb_reset(&r->report);
	r->fraction = -1;
	free(r->message);
	r->message = NULL;
	if (s->gate && !v->gate_open[i]) {
		journal_event(r, s->id, "waiting", NULL, NULL, NULL);
		pgr_run_log(r, "step %s waits: resume with `pgrescue runs resume %s`", s->id, r->plan.run_id);
		pgr_run_progress(r, -1, true, "waiting: `pgrescue runs resume %s` continues with: %s", r->plan.run_id,
		                 s->title);
		set_status(r, "waiting");
		*waiting = true;
		return false;
	}
	const struct pgr_step_impl *impl = find_impl(impls, s->id);
	double t0 = pgr_monotonic();
	if (!impl) {
		pgr_error_set(err, PGR_ERR_INTERNAL, "this pgrescue has no step \"%s\" for %s plans", s->id,
		              r->plan.kind);
		pgr_error_hint(err, "The plan was made by another version of pgrescue; start a new plan.");
		return step_failed(r, s, err, t0);
	}
	if (!journal_event(r, s->id, "start", NULL, NULL, err))
		return false;
	audit_step(r, s, "intent", NULL, NULL, -1);
	pgr_run_log(r, "step %zu/%zu %s: %s", i + 1, r->plan.n_steps, s->id, s->title);
	set_status(r, "running");
	bool already = false;
	if (impl->done && !impl->done(r, s, &already, err))
		return step_failed(r, s, err, t0);
	if (already) {
		cJSON *ev = cJSON_CreateObject();
		cJSON_AddStringToObject(ev, "step", s->id);
		cJSON_AddStringToObject(ev, "event", "skipped");
		if (sb_str(&r->report)[0])
			cJSON_AddStringToObject(ev, "report", sb_str(&r->report));
		if (!journal_write(r->journal_fd, ev, err))
			return false;
		audit_step(r, s, "outcome", "skipped", "already done (postcondition holds)",
		           (int64_t)((pgr_monotonic() - t0) * 1000));
		pgr_run_log(r, "step %s: already done", s->id);
		return true;
	}
	if (!impl->act(r, s, err) || (impl->verify && !impl->verify(r, s, err)))
		return step_failed(r, s, err, t0);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "step", s->id);
	cJSON_AddStringToObject(ev, "event", "done");
	if (sb_str(&r->report)[0])
		cJSON_AddStringToObject(ev, "report", sb_str(&r->report));
	if (!journal_write(r->journal_fd, ev, err))
		return false;
	audit_step(r, s, "outcome", "ok", sb_str(&r->report)[0] ? sb_str(&r->report) : NULL,
	           (int64_t)((pgr_monotonic() - t0) * 1000));
	pgr_run_log(r, "step %s: done in %.1f s", s->id, pgr_monotonic() - t0);
	return true;
}

static void run_close(struct pgr_run *r)
{
	if (r->platform)
		pgr_platform_close(r->platform);
	if (r->store)
		pgr_store_close(r->store);
	if (r->audit_open)
		pgr_audit_close(&r->audit);
	if (r->journal_fd >= 0)
		close(r->journal_fd);
	if (r->log_fd >= 0)
		close(r->log_fd);
	pgr_plan_free(&r->plan);
	pgr_kv_free(&r->facts);
	sb_free(&r->report);
	free(r->message);
	free(r->error);
	free(r->hint);
	free(r->dir);
}

bool pgr_run_exec(const char *run_dir, int lock_fd, bool *waiting, struct pgr_error *err)
{
	*waiting = false;
	struct pgr_run r = {0};
	r.journal_fd = r.log_fd = -1;
	r.dir = xstrdup(run_dir);
	r.fraction = -1;
	sb_init(&r.report);
	struct pgr_lock lock = {.fd = -1};
	bool ok = load_plan(run_dir, &r.plan, err);
	struct journal_view v = {0};
	if (ok)
		ok = journal_load(run_dir, &r.plan, &v, err);
	if (ok) {
		if (lock_fd >= 0) {
			/* Inherited across exec on purpose; no child of ours (pg_restore, a
			 * server started by pg_ctl) may keep it, or the lock outlives us. */
			int flags = fcntl(lock_fd, F_GETFD);
			if (flags >= 0)
				fcntl(lock_fd, F_SETFD, flags | FD_CLOEXEC);
			pgr_lock_adopt(&lock, lock_fd, r.plan.env.name);
		} else
			ok = pgr_lock_acquire(&lock, r.plan.env.name, r.plan.incident, r.plan.run_id, err);
	}
	if (ok) {
		struct pgr_error lerr = {0};
		pgr_lock_set_pid(&lock, getpid(), &lerr);
		pgr_lock_set_run(&lock, r.plan.run_id, &lerr);
		char *p = run_file(run_dir, "journal.jsonl");
		r.journal_fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
		free(p);
		p = run_file(run_dir, "runner.log");
		r.log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		free(p);
		if (r.journal_fd < 0 || r.log_fd < 0)
			ok = pgr_error_errno(err, errno, "cannot open the run's journal or log in \"%s\"", run_dir);
	}
	if (!ok) {
		view_free(&v, r.plan.n_steps);
		pgr_lock_release(&lock);
		run_close(&r);
		return false;
	}
	for (size_t i = 0; i < v.facts.n; i++)
		pgr_kv_set(&r.facts, v.facts.items[i].key, v.facts.items[i].value);
	struct pgr_error aerr = {0};
	r.audit_open = pgr_audit_open(&r.audit, r.plan.env.audit_log, r.plan.env.audit_key_file, &aerr);
	if (!r.audit_open) {
		/* Nothing acts without its audit record. */
		pgr_error_set(err, aerr.kind ? aerr.kind : PGR_ERR_IO, "cannot open the audit log: %s", aerr.msg);
		if (aerr.hint[0])
			pgr_error_hint(err, "%s", aerr.hint);
		fail_text(err, &r.error, &r.hint);
		set_status(&r, "failed");
		view_free(&v, r.plan.n_steps);
		pgr_lock_release(&lock);
		run_close(&r);
		return false;
	}
	g_cancel = 0;
	struct sigaction sa = {0};
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);

	bool resumed = false;
	for (size_t i = 0; i < r.plan.n_steps; i++)
		if (v.state[i] != PGR_STEP_PENDING)
			resumed = true;
	journal_event(&r, NULL, resumed ? "resumed" : "runner-start", NULL, NULL, NULL);
	audit_step(&r, NULL, resumed ? "run-resume" : "run-start", NULL, NULL, -1);
	pgr_run_log(&r, "runner %d %s run %s: %s", (int)getpid(), resumed ? "resumes" : "starts", r.plan.run_id,
	            r.plan.summary ? r.plan.summary : r.plan.kind);

	const struct pgr_step_impl *impls = pgr_step_impls(r.plan.kind);
	ok = true;
	size_t i = 0;
	for (; i < r.plan.n_steps && ok; i++) {
		if (v.state[i] == PGR_STEP_DONE || v.state[i] == PGR_STEP_SKIPPED)
			continue;
		if (g_cancel)
			break;
		ok = run_step(&r, impls, i, &v, waiting, err);
	}
	if (ok && g_cancel && i < r.plan.n_steps) {
		journal_event(&r, NULL, "cancelled", NULL, NULL, NULL);
		audit_step(&r, NULL, "cancelled", "cancelled", "stopped on request before the next step", -1);
		pgr_error_set(err, PGR_ERR_NONE, "cancelled");
		r.current = i;
		set_status(&r, "cancelled");
		ok = false;
	} else if (ok) {
		r.current = r.plan.n_steps;
		r.fraction = 1;
		free(r.message);
		r.message = xstrdup("finished");
		set_status(&r, "done");
		journal_event(&r, NULL, "finished", NULL, NULL, NULL);
		audit_step(&r, NULL, "run-end", "ok", NULL, -1);
		pgr_run_log(&r, "run %s finished", r.plan.run_id);
	} else if (!*waiting) {
		audit_step(&r, NULL, "run-end", "failed", r.error, -1);
		if (!pgr_error_isset(err) && r.error)
			pgr_error_set(err, PGR_ERR_TOOL, "%s", r.error);
	}
	view_free(&v, r.plan.n_steps);
	pgr_lock_release(&lock);
	run_close(&r);
	return ok;
}

/* ------------------------------------------------------------ reading runs */

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

bool pgr_run_info_load(const char *run_dir, struct pgr_run_info *info, struct pgr_error *err)
{
	memset(info, 0, sizeof *info);
	struct pgr_plan p;
	if (!load_plan(run_dir, &p, err))
		return false;
	struct journal_view v;
	if (!journal_load(run_dir, &p, &v, err)) {
		view_free(&v, p.n_steps);
		pgr_plan_free(&p);
		return false;
	}
	info->dir = xstrdup(run_dir);
	const char *slash = strrchr(run_dir, '/');
	info->id = xstrdup(p.run_id ? p.run_id : slash ? slash + 1 : run_dir);
	info->kind = xstrdup(p.kind);
	info->env = xstrdup(p.env.name ? p.env.name : "");
	info->summary = p.summary ? xstrdup(p.summary) : NULL;
	info->incident = p.incident ? xstrdup(p.incident) : NULL;
	info->reason = p.reason ? xstrdup(p.reason) : NULL;
	info->started = v.created;
	info->fraction = -1;
	info->n_steps = p.n_steps;
	info->steps = xcalloc(p.n_steps + 1, sizeof *info->steps);
	double now = (double)time(NULL);
	for (size_t i = 0; i < p.n_steps; i++) {
		struct pgr_run_step_info *si = &info->steps[i];
		si->id = xstrdup(p.steps[i].id);
		si->title = xstrdup(p.steps[i].title);
		si->state = v.state[i];
		if (v.started[i] > 0)
			si->seconds = (v.ended[i] > 0 ? v.ended[i] : now) - v.started[i];
		si->report = v.report[i] ? xstrdup(v.report[i]) : NULL;
	}
	/* What the runner last said. */
	char *sp = run_file(run_dir, "state.json");
	char *stext = NULL;
	cJSON *st = NULL;
	if (pgr_read_file(sp, &stext, NULL, NULL))
		st = cJSON_Parse(stext);
	free(stext);
	free(sp);
	const char *status = st ? jstr(st, "status") : NULL;
	pid_t pid = 0;
	if (st) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(st, "pid");
		pid = cJSON_IsNumber(n) ? (pid_t)n->valuedouble : 0;
		n = cJSON_GetObjectItemCaseSensitive(st, "fraction");
		info->fraction = cJSON_IsNumber(n) ? n->valuedouble : -1;
		n = cJSON_GetObjectItemCaseSensitive(st, "updated");
		info->updated = cJSON_IsNumber(n) ? (time_t)n->valuedouble : 0;
		if (jstr(st, "message"))
			info->message = xstrdup(jstr(st, "message"));
	}
	struct pgr_lock_holder h;
	bool holder = pgr_lock_holder(p.env.name, &h) && h.pid == pid && !strcmp(h.run, info->id);
	bool alive = holder && pid_alive(pid);
	info->pid = alive ? pid : 0;
	info->state_pid = pid;
	/* The step to show: the first one not finished. */
	size_t cur = p.n_steps;
	for (size_t i = 0; i < p.n_steps; i++)
		if (v.state[i] != PGR_STEP_DONE && v.state[i] != PGR_STEP_SKIPPED) {
			cur = i;
			break;
		}
	info->current = cur;
	if (cur == p.n_steps)
		info->status = PGR_RUN_DONE;
	else if (alive)
		info->status = status && !strcmp(status, "waiting") ? PGR_RUN_WAITING : PGR_RUN_RUNNING;
	else if (v.reopened)
		info->status = PGR_RUN_INTERRUPTED; /* reopened: the next runner takes it from there */
	else if (v.state[cur] == PGR_STEP_FAILED)
		info->status = PGR_RUN_FAILED;
	else if (v.state[cur] == PGR_STEP_WAITING || (status && !strcmp(status, "waiting")))
		info->status = PGR_RUN_WAITING;
	else if (v.cancelled || (status && !strcmp(status, "cancelled")))
		info->status = PGR_RUN_CANCELLED;
	else if (!st && v.state[cur] == PGR_STEP_PENDING && cur == 0)
		info->status = PGR_RUN_INTERRUPTED; /* created, runner never started */
	else
		info->status = PGR_RUN_INTERRUPTED;
	/* A runner killed mid-step leaves it "running" in the journal. */
	if (!alive && cur < p.n_steps && info->steps[cur].state == PGR_STEP_RUNNING) {
		info->steps[cur].state = PGR_STEP_PENDING;
		info->steps[cur].seconds = 0;
	}
	if (info->status == PGR_RUN_FAILED) {
		info->error = v.last_error ? xstrdup(v.last_error) : NULL;
		info->detail = v.last_detail ? xstrdup(v.last_detail) : NULL;
		info->hint = v.last_hint ? xstrdup(v.last_hint) : NULL;
	} else if (st && info->status != PGR_RUN_DONE && jstr(st, "error")) {
		info->error = xstrdup(jstr(st, "error"));
		info->hint = jstr(st, "hint") ? xstrdup(jstr(st, "hint")) : NULL;
	}
	if (info->status == PGR_RUN_INTERRUPTED && v.reopened) {
		free(info->message);
		info->message = xasprintf("reopened at step %s%s%s: `pgrescue runs resume %s` continues",
		                          cur < p.n_steps ? p.steps[cur].id : "-", v.reopen_why ? ": " : "",
		                          v.reopen_why ? v.reopen_why : "", info->id);
		free(info->error);
		free(info->hint);
		info->error = info->hint = NULL;
	}
	if (!info->started && st)
		info->started = info->updated;
	cJSON_Delete(st);
	view_free(&v, p.n_steps);
	pgr_plan_free(&p);
	return true;
}

void pgr_run_info_free(struct pgr_run_info *info)
{
	free(info->id);
	free(info->dir);
	free(info->kind);
	free(info->env);
	free(info->summary);
	free(info->incident);
	free(info->reason);
	free(info->message);
	free(info->error);
	free(info->detail);
	free(info->hint);
	for (size_t i = 0; i < info->n_steps; i++) {
		free(info->steps[i].id);
		free(info->steps[i].title);
		free(info->steps[i].report);
	}
	free(info->steps);
	memset(info, 0, sizeof *info);
}

static int by_newest(const void *a, const void *b)
{
	const struct pgr_run_info *x = a, *y = b;
	if (x->started != y->started)
		return x->started < y->started ? 1 : -1;
	return strcmp(y->id, x->id);
}

bool pgr_runs_list(const char *env, struct pgr_run_info **out, size_t *n, struct pgr_error *err)
{
	*out = NULL;
	*n = 0;
	char *runs = pgr_runs_dir();
	DIR *d = opendir(runs);
	if (!d) {
		bool ok = errno == ENOENT;
		if (!ok)
			pgr_error_errno(err, errno, "cannot read \"%s\"", runs);
		free(runs);
		return ok;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *dir = xasprintf("%s/%s", runs, de->d_name);
		struct pgr_run_info info;
		if (pgr_run_info_load(dir, &info, NULL)) {
			if (env && strcmp(info.env, env) != 0) {
				pgr_run_info_free(&info);
			} else {
				if (*n == cap) {
					cap = cap ? cap * 2 : 8;
					*out = xrealloc(*out, cap * sizeof **out);
				}
				(*out)[(*n)++] = info;
			}
		}
		free(dir);
	}
	closedir(d);
	free(runs);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, by_newest);
	return true;
}

void pgr_runs_free(struct pgr_run_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pgr_run_info_free(&v[i]);
	free(v);
}

char *pgr_run_find(const char *id, struct pgr_error *err)
{
	struct pgr_run_info *v;
	size_t n;
	if (!pgr_runs_list(NULL, &v, &n, err))
		return NULL;
	char *found = NULL;
	size_t matches = 0;
	if (n > 0 && (!id || !strcmp(id, "last"))) {
		found = xstrdup(v[0].dir);
		matches = 1;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(v[i].id, id)) {
				free(found);
				found = xstrdup(v[i].dir);
				matches = 1;
				break;
			}
			if (!strncmp(v[i].id, id, strlen(id))) {
				if (!found)
					found = xstrdup(v[i].dir);
				matches++;
			}
		}
	}
	if (matches != 1) {
		free(found);
		found = NULL;
		if (matches > 1) {
			pgr_error_set(err, PGR_ERR_USAGE, "run \"%s\" is ambiguous: %zu runs start with it", id,
			              matches);
			pgr_error_hint(err, "Give more of the id; `pgrescue runs` lists them.");
		} else {
			pgr_error_set(err, PGR_ERR_NOTFOUND, "no run \"%s\"", id ? id : "last");
			if (n > 0)
				pgr_error_hint(err, "The newest run is %s; `pgrescue runs` lists them all.", v[0].id);
			else
				pgr_error_hint(err, "No plan has run yet on this machine (runs live in %s).",
				               "the state directory");
		}
	}
	pgr_runs_free(v, n);
	return found;
}

bool pgr_run_open_gate(const char *run_dir, struct pgr_error *err)
{
	struct pgr_run_info info;
	if (!pgr_run_info_load(run_dir, &info, err))
		return false;
	bool ok = true;
	if (info.status != PGR_RUN_WAITING || info.current >= info.n_steps) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s is not waiting at a gate (it is %s)", info.id,
		                   pgr_run_status_name(info.status));
	} else {
		char *path = run_file(run_dir, "journal.jsonl");
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		free(path);
		if (fd < 0) {
			ok = pgr_error_errno(err, errno, "cannot open the journal of run %s", info.id);
		} else {
			cJSON *ev = cJSON_CreateObject();
			cJSON_AddStringToObject(ev, "step", info.steps[info.current].id);
			cJSON_AddStringToObject(ev, "event", "gate-open");
			ok = journal_write(fd, ev, err);
			close(fd);
		}
	}
	pgr_run_info_free(&info);
	return ok;
}

bool pgr_run_cancel(const char *run_dir, struct pgr_error *err)
{
	struct pgr_run_info info;
	if (!pgr_run_info_load(run_dir, &info, err))
		return false;
	bool ok = true;
	if (info.pid <= 0)
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s has no runner to stop (it is %s)", info.id,
		                   pgr_run_status_name(info.status));
	else if (kill(info.pid, SIGTERM) != 0)
		ok = pgr_error_errno(err, errno, "cannot signal the runner %d", (int)info.pid);
	pgr_run_info_free(&info);
	return ok;
}

/* ------------------------------------------------------------ changing a stopped run */

bool pgr_run_load_plan(const char *run_dir, struct pgr_plan *p, struct pgr_error *err)
{
	return load_plan(run_dir, p, err);
}

bool pgr_run_load_facts(const char *run_dir, struct pgr_kvlist *facts, struct pgr_error *err)
{
	memset(facts, 0, sizeof *facts);
	struct pgr_plan p;
	if (!load_plan(run_dir, &p, err))
		return false;
	struct journal_view v;
	bool ok = journal_load(run_dir, &p, &v, err);
	if (ok) {
		*facts = v.facts;
		memset(&v.facts, 0, sizeof v.facts);
	}
	view_free(&v, p.n_steps);
	pgr_plan_free(&p);
	return ok;
}

bool pgr_run_journal_event(const char *run_dir, const char *step, const char *event, const char *const *kv,
                           struct pgr_error *err)
{
	char *path = run_file(run_dir, "journal.jsonl");
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot open the journal \"%s\"", path);
		free(path);
		return false;
	}
	free(path);
	cJSON *ev = cJSON_CreateObject();
	if (step)
		cJSON_AddStringToObject(ev, "step", step);
	cJSON_AddStringToObject(ev, "event", event);
	for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
		cJSON_AddStringToObject(ev, kv[i], kv[i + 1]);
	bool ok = journal_write(fd, ev, err);
	close(fd);
	return ok;
}

/* No runner may be working on the run while it is changed under it. */
static bool check_no_runner(const char *run_dir, const char *what, struct pgr_run_info *info, struct pgr_error *err)
{
	if (!pgr_run_info_load(run_dir, info, err))
		return false;
	if (info->pid > 0) {
		pgr_error_set(err, PGR_ERR_CONFLICT, "run %s has a live runner (pid %d): cannot %s", info->id,
		              (int)info->pid, what);
		pgr_error_hint(err, "Wait until it stops at its gate or finishes, or `pgrescue runs cancel %s` first.",
		               info->id);
		pgr_run_info_free(info);
		return false;
	}
	return true;
}

bool pgr_run_reopen(const char *run_dir, const char *step_id, const char *why, struct pgr_error *err)
{
	struct pgr_run_info info;
	if (!check_no_runner(run_dir, "reopen a step", &info, err))
		return false;
	bool ok = true;
	size_t i = 0;
	while (i < info.n_steps && strcmp(info.steps[i].id, step_id) != 0)
		i++;
	if (i == info.n_steps) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s has no step \"%s\" to reopen", info.id, step_id);
		pgr_error_hint(err, "`pgrescue runs show %s` lists its steps.", info.id);
	} else if (info.status == PGR_RUN_DONE) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "run %s has finished: its steps cannot be reopened", info.id);
		pgr_error_hint(err, "Plan a new run instead.");
	} else {
		const char *kv[] = {"why", why, NULL};
		ok = pgr_run_journal_event(run_dir, step_id, "reopen", why ? kv : NULL, err);
	}
	pgr_run_info_free(&info);
	return ok;
}

bool pgr_run_update_plan(const char *run_dir, const struct pgr_plan *p, const char *why, struct pgr_error *err)
{
	struct pgr_run_info info;
	if (!check_no_runner(run_dir, "change its plan", &info, err))
		return false;
	struct pgr_plan old;
	bool ok = load_plan(run_dir, &old, err);
	if (ok) {
		bool same = old.n_steps == p->n_steps && !strcmp(old.kind, p->kind) && p->run_id && old.run_id &&
		        !strcmp(old.run_id, p->run_id);
		for (size_t i = 0; same && i < p->n_steps; i++)
			same = !strcmp(old.steps[i].id, p->steps[i].id);
		if (!same) {
			ok = pgr_error_set(err, PGR_ERR_INTERNAL,
			                   "the changed plan of run %s does not have the same kind, id and steps",
			                   info.id);
			pgr_error_hint(err, "A run's journal is kept per step: plan a new run instead.");
		}
		pgr_plan_free(&old);
	}
	if (ok) {
		char *json = pgr_plan_to_json(p);
		char *path = run_file(run_dir, "plan.json");
		ok = pgr_write_file_atomic(path, json, strlen(json), 0600, err);
		free(path);
		free(json);
	}
	if (ok) {
		const char *kv[] = {"why", why, NULL};
		ok = pgr_run_journal_event(run_dir, NULL, "plan-changed", why ? kv : NULL, err);
	}
	pgr_run_info_free(&info);
	return ok;
}
