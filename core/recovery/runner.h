/* The runner: executes a plan in a detached process, with a journal on disk
 * (<run dir>/journal.jsonl, fsync'd), so that a closed terminal, a dropped
 * SSH session or a killed runner loses nothing: `pgrescue runs resume`
 * continues at the step that did not finish, and each step checks its
 * postcondition first, so running it twice is safe. The runner alone writes
 * the audit log's intent and outcome records for steps.
 *
 * A run directory: <state dir>/runs/<run id>/
 *   plan.json      the plan, as reviewed
 *   journal.jsonl  step events and facts ({"t","step","event",...})
 *   state.json     what the runner is doing now (rewritten atomically)
 *   runner.log     the runner's output and its children's stderr */
#ifndef PGR_RUNNER_H
#define PGR_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "base/error.h"
#include "recovery/lock.h"
#include "recovery/plan.h"

struct pgr_run;
struct pgr_platform;
struct pgr_store;

/* What a step does. Functions get the run (for facts, progress, the store
 * and the platform) and the step (for its params). */
struct pgr_step_impl {
	const char *id;
	/* Postcondition: is the step's effect already there? NULL: never assumed. */
	bool (*done)(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err);
	bool (*act)(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err);
	/* Checked after act; NULL when act's success is the check. */
	bool (*verify)(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err);
};

/* ------------------------------------------------------------ in a step */

const struct pgr_plan *pgr_run_plan(const struct pgr_run *r);
const char *pgr_run_dir(const struct pgr_run *r);
/* Opened on first use, closed when the run ends. */
struct pgr_platform *pgr_run_platform(struct pgr_run *r, struct pgr_error *err);
struct pgr_store *pgr_run_store(struct pgr_run *r, struct pgr_error *err);
/* Facts a step records for later steps (and for a resumed runner): the
 * recorded replica count, the name the old database was given. Journaled
 * and fsync'd before returning. */
const char *pgr_run_fact(const struct pgr_run *r, const char *key);
bool pgr_run_set_fact(struct pgr_run *r, const char *key, const char *value, struct pgr_error *err);
/* Progress of the current step: fraction 0..1 (negative: unknown) and a line
 * of text ("replay 0/3A000000, 03:10:42 UTC, 62%, about 40 s left").
 * Written to state.json at most every 200 ms unless force. */
void pgr_run_progress(struct pgr_run *r, double fraction, bool force, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* A pgr_progress_fn for a download inside a step: "downloading WHAT: X of
 * Y" as the first SCALE (0..1) of the step's progress; false (stop) once the
 * run is cancelled. TOTAL stands in when the store does not know it. */
struct pgr_run_download {
	struct pgr_run *r;
	const char *what;
	uint64_t total;
	double scale;
};
bool pgr_run_download_progress(void *ctx, uint64_t done, uint64_t total);
/* A line in runner.log (and, for steps, shown by `runs attach`). */
void pgr_run_log(struct pgr_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report lines kept with the step's outcome (e.g. the row-count table). */
void pgr_run_report(struct pgr_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True once SIGTERM/SIGINT asked the runner to stop; long steps poll it. */
bool pgr_run_cancelled(const struct pgr_run *r);
/* The file descriptor children's stderr should go to (runner.log). */
int pgr_run_log_fd(const struct pgr_run *r);

/* ------------------------------------------------------------ runs */

/* <state dir>/runs. Newly allocated. */
char *pgr_runs_dir(void);

/* Create the run directory for a plan (sets p->run_id), write plan.json and
 * the journal's first line. The caller holds the environment's lock. */
bool pgr_run_create(struct pgr_plan *p, char **run_dir, struct pgr_error *err);
/* Start the detached runner (`<self_exe> runs exec --lock-fd N DIR`, setsid,
 * output to runner.log), handing it the lock. */
bool pgr_run_spawn(const char *run_dir, struct pgr_lock *lock, pid_t *pid, struct pgr_error *err);
/* All of starting a plan: take the environment's lock (a conflict names its
 * holder), create the run, hand both to a detached runner. *run_dir and
 * *pid say where to follow it. */
bool pgr_run_start(struct pgr_plan *p, char **run_dir, pid_t *pid, struct pgr_error *err);
/* The same for a run that stopped (interrupted, failed, cancelled or at a
 * gate, which it passes): lock, runner. */
bool pgr_run_restart(const char *run_dir, pid_t *pid, struct pgr_error *err);
/* The runner's body (in the detached process): run the plan's steps from
 * the first unfinished one. lock_fd is the inherited lock (-1: take it).
 * impls: the step tables for the plan's kind. Returns true when every step
 * finished; a gate or a failure returns false with err set (a gate sets
 * err->kind PGR_ERR_NONE and *waiting). */
bool pgr_run_exec(const char *run_dir, int lock_fd, bool *waiting, struct pgr_error *err);

enum pgr_step_state {
	PGR_STEP_PENDING,
	PGR_STEP_RUNNING,
	PGR_STEP_DONE,
	PGR_STEP_SKIPPED, /* its postcondition held already */
	PGR_STEP_FAILED,
	PGR_STEP_WAITING, /* a gate: waits for `runs resume` */
};
const char *pgr_step_state_name(enum pgr_step_state s);

enum pgr_run_status {
	PGR_RUN_RUNNING,
	PGR_RUN_DONE,
	PGR_RUN_FAILED,
	PGR_RUN_WAITING, /* stopped at a gate */
	PGR_RUN_INTERRUPTED, /* runner gone with a step unfinished: resumable */
	PGR_RUN_CANCELLED,
};
const char *pgr_run_status_name(enum pgr_run_status s);

struct pgr_run_step_info {
	char *id;
	char *title;
	enum pgr_step_state state;
	double seconds; /* time the step took (or has taken) */
	char *report; /* lines from pgr_run_report, NULL if none */
};

/* A run as read from its directory (no process of its own needed). */
struct pgr_run_info {
	char *id;
	char *dir;
	char *kind;
	char *env;
	char *summary;
	char *incident;
	char *reason;
	enum pgr_run_status status;
	pid_t pid; /* the runner, 0 if none alive */
	time_t started, updated;
	size_t current; /* index of the step running, failed or next */
	double fraction; /* progress of the current step, negative when unknown */
	char *message; /* its progress line */
	char *error; /* failure message, detail and hint */
	char *detail;
	char *hint;
	pid_t state_pid; /* the pid in state.json, alive or not: tells one runner's report from the next's */
	struct pgr_run_step_info *steps;
	size_t n_steps;
};

bool pgr_run_info_load(const char *run_dir, struct pgr_run_info *info, struct pgr_error *err);
void pgr_run_info_free(struct pgr_run_info *info);
/* Every run (env NULL: all environments), newest first. */
bool pgr_runs_list(const char *env, struct pgr_run_info **out, size_t *n, struct pgr_error *err);
void pgr_runs_free(struct pgr_run_info *v, size_t n);
/* Find a run by id or unique id prefix; "last" is the newest. Newly allocated dir. */
char *pgr_run_find(const char *id, struct pgr_error *err);
/* Let a run waiting at a gate pass it when it is resumed (journaled). */
bool pgr_run_open_gate(const char *run_dir, struct pgr_error *err);
/* Ask a live runner to stop (SIGTERM); it stops at the next safe point. */
bool pgr_run_cancel(const char *run_dir, struct pgr_error *err);

/* ------------------------------------------------------------ a stopped run, from outside */

/* The run's plan.json (as reviewed, or as last changed by pgr_run_update_plan). */
bool pgr_run_load_plan(const char *run_dir, struct pgr_plan *p, struct pgr_error *err);
/* The facts its steps recorded (replica count, row counts, stop LSN ...);
 * *facts is filled (free with pgr_kv_free), empty when none. */
bool pgr_run_load_facts(const char *run_dir, struct pgr_kvlist *facts, struct pgr_error *err);
/* Append one event to the run's journal (fsync'd): {"step"?, "event", kv...}.
 * kv: NULL, or pairs of key and value ending with NULL. Events the runner
 * does not know are kept for people (e.g. "retarget" with "from" and "to"). */
bool pgr_run_journal_event(const char *run_dir, const char *step, const char *event, const char *const *kv,
                           struct pgr_error *err);
/* Reopen a step: the journal gets {"step":ID,"event":"reopen","why":WHY},
 * after which the step is pending again (its report dropped, a gate on it
 * closed again), so the next runner (`runs resume`, pgr_run_restart,
 * pgr_run_spawn) checks its postcondition and, when that does not hold, runs
 * it again; steps after it that were not done follow as usual, and a gate
 * stops the runner again. Until a runner starts, the run reads as
 * PGR_RUN_INTERRUPTED with a message naming the step and why. Refused with
 * PGR_ERR_CONFLICT while a runner is alive, PGR_ERR_USAGE for a finished run
 * or a step the plan does not have. Whoever calls it should hold the
 * environment's lock so that no runner starts meanwhile. */
bool pgr_run_reopen(const char *run_dir, const char *step_id, const char *why, struct pgr_error *err);
/* Replace the run's plan.json with p (same kind, run id and step ids in the
 * same order: the journal is kept per step), atomically, and journal
 * {"event":"plan-changed","why":WHY}. Refused while a runner is alive. */
bool pgr_run_update_plan(const char *run_dir, const struct pgr_plan *p, const char *why, struct pgr_error *err);

/* The step tables, by plan kind. */
const struct pgr_step_impl *pgr_step_impls(const char *kind);
/* Add a step table for another kind (tests use this for a plan of harmless steps). */
void pgr_step_impls_register(const char *kind, const struct pgr_step_impl *impls);

#endif
