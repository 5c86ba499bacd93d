/* One lock per environment, so two engineers cannot run plans against one
 * database at once. An flock(2) on <state dir>/locks/<env>.lock, released by
 * the kernel when its holder dies, with who/when/why written inside so the
 * second engineer is told who holds it. */
#ifndef PGR_LOCK_H
#define PGR_LOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "base/error.h"

struct pgr_lock_holder {
	char user[64];
	char host[128];
	pid_t pid;
	time_t since;
	char incident[128];
	char run[128];
};

struct pgr_lock {
	int fd; /* -1 when not held */
	char *path;
};

/* Take the environment's lock without waiting. When another process holds
 * it, fails with PGR_ERR_CONFLICT naming the holder (user, host, since,
 * incident, run) in the message. */
bool pgr_lock_acquire(struct pgr_lock *l, const char *env, const char *incident, const char *run,
                      struct pgr_error *err);
/* After fork: record the new holder pid (the runner) in the lock file. */
bool pgr_lock_set_pid(struct pgr_lock *l, pid_t pid, struct pgr_error *err);
/* The run id is known only after the run directory exists. */
bool pgr_lock_set_run(struct pgr_lock *l, const char *run, struct pgr_error *err);
/* Wrap an inherited descriptor (the runner's) that already holds the lock. */
void pgr_lock_adopt(struct pgr_lock *l, int fd, const char *env);
/* Who holds it now; false when nobody does. */
bool pgr_lock_holder(const char *env, struct pgr_lock_holder *h);
void pgr_lock_release(struct pgr_lock *l);
/* Close our descriptor without unlocking: the runner we handed it to keeps
 * the lock (flock belongs to the shared open file). */
void pgr_lock_forget(struct pgr_lock *l);

#endif
