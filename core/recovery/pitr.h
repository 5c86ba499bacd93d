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

#endif
