/* Full restore (runbook "Full Database Restore", done right): preflight,
 * record the app's replicas, scale to 0, pg_restore -j N into a fresh
 * database, verify every table's row count against the dump's manifest,
 * swap names in one transaction (the replaced database is kept, renamed with
 * the time), scale back to the recorded count, health check. */
#ifndef PGR_RESTORE_H
#define PGR_RESTORE_H

#include <stdbool.h>

#include "base/error.h"
#include "model/catalog.h"
#include "recovery/plan.h"
#include "recovery/runner.h"
#include "settings.h"

struct pgr_restore_opts {
	const char *backup; /* a dump key, its file name, its label (YYYYMMDD-HHMMSS), "latest" or NULL (latest) */
	int jobs; /* pg_restore -j; 0: the number of CPUs, at most 8 */
	int replicas_now; /* the app's replicas when planning, for the text (-1: unknown) */
	const char *incident;
	const char *reason;
};

void pgr_restore_opts_default(struct pgr_restore_opts *o);
/* Build the plan from the catalog (no I/O). Errors: unknown backup id (with
 * the newest ones as a hint), no dump at all, a dump that is not complete. */
bool pgr_restore_plan(const struct pgr_env *env, const struct pgr_catalog *cat, const struct pgr_restore_opts *o,
                      struct pgr_plan *p, struct pgr_error *err);
/* The checks of the plan's first (preflight) step, run by the command line
 * and the wizard before asking for confirmation, so a plan that cannot work
 * is refused before anyone types the environment's name. Read-only. */
bool pgr_restore_preflight(const struct pgr_plan *p, struct pgr_error *err);
extern const struct pgr_step_impl pgr_restore_steps[]; /* terminated by an entry with id NULL */

#endif
