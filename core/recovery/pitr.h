/* Point-in-time recovery for PostgreSQL 12 and later: scale the app to 0,
 * stop the server, move the data directory aside (never delete it), extract
 * the newest base backup that ends before the target, write the recovery
 * settings into postgresql.auto.conf (restore_command through `pgrescue
 * wal-fetch`, recovery_target_*, archive_mode off) and recovery.signal,
 * start, follow replay, promote (waiting on pg_is_in_recovery()), verify the
 * tables against the counts recorded before the incident, restore archiving
 * on the new timeline, scale the app back up. */
#ifndef PGR_PITR_H
#define PGR_PITR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "model/catalog.h"
#include "recovery/plan.h"
#include "recovery/runner.h"
#include "recovery/target.h"
#include "settings.h"

struct pgr_pitr_opts {
	struct pgr_target target;
	bool pause; /* stop paused at the target (read-only); `runs resume` promotes */
	const char *base; /* base backup label to use instead of the automatic pick (NULL) */
	int replicas_now; /* for the text (-1: unknown) */
	const char *self_exe; /* the pgrescue restore_command runs (NULL: this one) */
	const char *config_path; /* for restore_command's --config (NULL: none, --store given instead) */
	const char *db_zone; /* the database's TimeZone, to echo a time target in (NULL: leave out) */
	const char *incident;
	const char *reason;
};

void pgr_pitr_opts_default(struct pgr_pitr_opts *o);
/* The database's TimeZone setting (for echoing a target), or NULL when the
 * server cannot be asked within a few seconds. Newly allocated. */
char *pgr_pitr_db_timezone(const struct pgr_env *env);
/* The pgrescue the server's user runs as restore_command (opts.self_exe):
 * the sandbox's own copy, which that user can execute, else this program.
 * Newly allocated. */
char *pgr_pitr_self_exe(const struct pgr_env *env);
/* Build the plan from the catalog (no I/O): checks the target against the
 * window and picks the base backup; errors say why with a HINT. */
bool pgr_pitr_plan(const struct pgr_env *env, const struct pgr_catalog *cat, const struct pgr_pitr_opts *o,
                   struct pgr_plan *p, struct pgr_error *err);
/* The checks of the plan's first (preflight) step, run by the command line
 * and the wizard before asking for confirmation, so a plan that cannot work
 * is refused before anyone types the environment's name. Read-only. */
bool pgr_pitr_preflight(const struct pgr_plan *p, struct pgr_error *err);
extern const struct pgr_step_impl pgr_pitr_steps[]; /* terminated by an entry with id NULL */
/* The count for schema.table in the runs' "name<TAB>rows" lines (the base
 * backup's counts, those before recovery), -1 if absent. */
int64_t pgr_pitr_count_of(const char *lines, const char *name);

/* ------------------------------------------------------------ paused: move the target later
 * A run planned with --pause waits at its promote gate with the server in
 * recovery, paused at the target, read-only (recovery/inspect.h looks at it).
 * Its target can move later without starting over: the run's plan gets the
 * new target (params, the recovery block's recovery_target_* lines, the
 * steps' text), the steps configure-recovery, start-recovery and replay are
 * reopened (pgr_run_reopen), and a runner rewrites the block in
 * postgresql.auto.conf, stops the paused server (pg_ctl stop -m fast: a
 * restartpoint) and starts it again, so replay continues from the last
 * restartpoint to the new target and the run stops at its gate again. The
 * base backup is not extracted again; no directory moves. */

/* Where replay stopped. */
struct pgr_pitr_stop {
	bool live; /* read from the server just now; false: from the run's journal (server down) */
	bool in_recovery; /* live: pg_is_in_recovery() */
	char pause[32]; /* live: pg_get_wal_replay_pause_state(): "paused", "pause requested", "not paused" */
	uint64_t lsn; /* pg_last_wal_replay_lsn(); 0 unknown */
	double xact_time; /* pg_last_xact_replay_timestamp() as epoch seconds; 0 none replayed or unknown */
};
/* Read it from the run's server (its plan's dsn, 3 s), else from the facts the
 * run's replay step recorded when it paused (stop_lsn, stop_xact_time). facts
 * may be NULL. Fails, with a hint, only when neither is there. */
bool pgr_pitr_read_stop(const struct pgr_plan *p, const struct pgr_kvlist *facts, struct pgr_pitr_stop *st,
                        struct pgr_error *err);
/* One line: "LSN 0/3000148, last transaction 2026-11-24 03:12:00.123 UTC (in recovery, paused)". */
void pgr_pitr_stop_describe(const struct pgr_pitr_stop *st, char *buf, size_t n);

/* What a retarget found: the target now and the new one (pgr_target_describe
 * text), where replay stopped, and a note worth showing before confirming
 * ("" when none; for an xid or a restore point, which cannot be checked
 * against the stop point). Free with pgr_retarget_check_free (safe on a zeroed one). */
struct pgr_retarget_check {
	char *from;
	char *to;
	struct pgr_pitr_stop stop;
	char note[600];
};
void pgr_retarget_check_free(struct pgr_retarget_check *c);

/* Read-only: may run_dir's run replay on to t? Refused (false, err with the
 * reason and a HINT, nothing changed) when the run is not a pitr run waiting
 * at its promote gate; the server was promoted or is not paused; the target
 * is the one it has; immediate; a time not later than the last replayed
 * transaction; an LSN not later than the replay LSN; a time past what the
 * WAL after the run's base backup reaches (a missing segment is named), or
 * another target outside the catalog's window (pgr_target_check_window).
 * An xid or a restore point is accepted with c->note saying it cannot be
 * checked. cat: the store's catalog now. For the console to show as the
 * engineer types (connects to the server: run it off the UI thread). */
bool pgr_pitr_retarget_check(const char *run_dir, const struct pgr_catalog *cat, const struct pgr_target *t,
                             struct pgr_retarget_check *c, struct pgr_error *err);
/* Do it: take the environment's lock, check as above (a refusal is audited
 * as "refused" and changes nothing), audit the intent (old and new target),
 * reopen the three steps, rewrite plan.json, journal {"event":"retarget",
 * "from","to","stopped_at"}, audit the outcome, and hand the lock to a
 * detached runner (*pid) that restarts the server and replays on; follow it
 * like any run (it ends waiting at the promote gate again). command: what
 * the engineer ran, for the audit record (NULL: none). If the runner cannot
 * be started the target is moved all the same and `pgrescue runs resume`
 * continues (err says so). */
bool pgr_pitr_retarget(const char *run_dir, const struct pgr_catalog *cat, const struct pgr_target *t,
                       const char *command, struct pgr_retarget_check *c, pid_t *pid, struct pgr_error *err);

#endif
