/* The per-environment lock: flock(2) on <state dir>/locks/<env>.lock. The
 * kernel drops it when the holding process dies, so a killed runner never
 * leaves a stale lock; the JSON inside only says who holds it. */
#include "config.h"

#include "recovery/lock.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

static char *lock_path(const char *env)
{
	char *state = pgr_state_dir();
	/* Names are validated by the config parser; still keep '/' out of paths. */
	char *safe = xstrdup(env && *env ? env : "default");
	for (char *p = safe; *p; p++)
		if (*p == '/' || *p == ' ' || *p == '(' || *p == ')')
			*p = '_';
	char *path = xasprintf("%s/locks/%s.lock", state, safe);
	free(state);
	free(safe);
	return path;
}

static const char *user_name(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "?";
}

static bool write_holder(int fd, const struct pgr_lock_holder *h, struct pgr_error *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "user", h->user);
	cJSON_AddStringToObject(o, "host", h->host);
	cJSON_AddNumberToObject(o, "pid", (double)h->pid);
	cJSON_AddNumberToObject(o, "since", (double)h->since);
	cJSON_AddStringToObject(o, "incident", h->incident);
	cJSON_AddStringToObject(o, "run", h->run);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	size_t len = strlen(text);
	bool ok = ftruncate(fd, 0) == 0 && pwrite(fd, text, len, 0) == (ssize_t)len && pwrite(fd, "\n", 1, len) == 1;
	free(text);
	if (!ok)
		return pgr_error_errno(err, errno, "cannot write the lock file");
	fsync(fd);
	return true;
}

static void copy_field(char *dst, size_t n, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	snprintf(dst, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static bool read_holder(int fd, struct pgr_lock_holder *h)
{
	char buf[2048];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	cJSON *o = cJSON_Parse(buf);
	if (!o)
		return false;
	memset(h, 0, sizeof *h);
	copy_field(h->user, sizeof h->user, o, "user");
	copy_field(h->host, sizeof h->host, o, "host");
	copy_field(h->incident, sizeof h->incident, o, "incident");
	copy_field(h->run, sizeof h->run, o, "run");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "pid");
	h->pid = cJSON_IsNumber(v) ? (pid_t)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(o, "since");
	h->since = cJSON_IsNumber(v) ? (time_t)v->valuedouble : 0;
	cJSON_Delete(o);
	return true;
}

static void describe_holder(struct pgr_error *err, const char *env, const struct pgr_lock_holder *h, bool known)
{
	if (!known) {
		pgr_error_set(err, PGR_ERR_CONFLICT, "environment \"%s\" is locked by another pgrescue process", env);
		pgr_error_hint(err, "Wait for it to finish, or see `pgrescue runs`.");
		return;
	}
	char since[32];
	pgr_time_format_utc(h->since, since, sizeof since);
	pgr_error_set(err, PGR_ERR_CONFLICT,
	              "environment \"%s\" is locked: %s@%s (pid %d) has been running a plan since %s for incident %s",
	              env, h->user, h->host, (int)h->pid, since, *h->incident ? h->incident : "(none given)");
	if (*h->run)
		pgr_error_hint(err,
		               "Only one plan runs against a database at a time. Follow it with `pgrescue runs attach "
		               "%s`, or talk to %s.",
		               h->run, h->user);
	else
		pgr_error_hint(err, "Only one plan runs against a database at a time; talk to %s.", h->user);
}

bool pgr_lock_acquire(struct pgr_lock *l, const char *env, const char *incident, const char *run, struct pgr_error *err)
{
	l->fd = -1;
	l->path = lock_path(env);
	char *dir = xstrdup(l->path);
	*strrchr(dir, '/') = '\0';
	bool ok = pgr_mkdir_p(dir, 0700, err);
	free(dir);
	if (!ok)
		return false;
	int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot open the lock file \"%s\"", l->path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		struct pgr_lock_holder h;
		bool known = read_holder(fd, &h);
		close(fd);
		if (e == EWOULDBLOCK) {
			describe_holder(err, env, &h, known);
			return false;
		}
		return pgr_error_errno(err, e, "cannot lock \"%s\"", l->path);
	}
	struct pgr_lock_holder h = {0};
	snprintf(h.user, sizeof h.user, "%s", user_name());
	if (gethostname(h.host, sizeof h.host - 1) != 0)
		snprintf(h.host, sizeof h.host, "?");
	h.pid = getpid();
	h.since = pgr_now();
	snprintf(h.incident, sizeof h.incident, "%s", incident ? incident : "");
	snprintf(h.run, sizeof h.run, "%s", run ? run : "");
	if (!write_holder(fd, &h, err)) {
		close(fd);
		return false;
	}
	l->fd = fd;
	return true;
}

bool pgr_lock_set_pid(struct pgr_lock *l, pid_t pid, struct pgr_error *err)
{
	struct pgr_lock_holder h;
	if (l->fd < 0 || !read_holder(l->fd, &h))
		return pgr_error_set(err, PGR_ERR_INTERNAL, "the lock is not held");
	h.pid = pid;
	return write_holder(l->fd, &h, err);
}

bool pgr_lock_set_run(struct pgr_lock *l, const char *run, struct pgr_error *err)
{
	struct pgr_lock_holder h;
	if (l->fd < 0 || !read_holder(l->fd, &h))
		return pgr_error_set(err, PGR_ERR_INTERNAL, "the lock is not held");
	snprintf(h.run, sizeof h.run, "%s", run ? run : "");
	return write_holder(l->fd, &h, err);
}

bool pgr_lock_holder(const char *env, struct pgr_lock_holder *h)
{
	char *path = lock_path(env);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return false;
	bool held = false;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		held = read_holder(fd, h);
	else
		flock(fd, LOCK_UN);
	close(fd);
	return held;
}

void pgr_lock_release(struct pgr_lock *l)
{
	if (l->fd >= 0) {
		flock(l->fd, LOCK_UN);
		close(l->fd);
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

void pgr_lock_adopt(struct pgr_lock *l, int fd, const char *env)
{
	l->fd = fd;
	l->path = lock_path(env);
}

void pgr_lock_forget(struct pgr_lock *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}
