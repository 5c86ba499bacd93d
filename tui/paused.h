/* A paused point-in-time recovery, from the console: work on the run's
 * server done in a thread of its own (the screen never waits): the row
 * counts at the target next to the base backup's and those before the
 * recovery, a read-only query of the engineer's own, and moving the target
 * later (core's pgr_pitr_retarget, which locks, audits and starts the
 * runner that restarts the server and replays on). No libpq here. */
#ifndef PGR_PAUSED_H
#define PGR_PAUSED_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "recovery/target.h"
#include "settings.h"

enum pgr_gate_task_kind { PGR_GT_INSPECT, PGR_GT_QUERY, PGR_GT_RETARGET };

struct pgr_gate_task;
/* sql: for QUERY; t and command (the audit record's command line): for RETARGET. */
struct pgr_gate_task *pgr_gate_task_start(enum pgr_gate_task_kind kind, const struct pgr_env *env, const char *run_dir,
                                          const char *sql, const struct pgr_target *t, const char *command);
enum pgr_gate_task_kind pgr_gate_task_kind(const struct pgr_gate_task *g);
bool pgr_gate_task_done(struct pgr_gate_task *g);
/* Once done: whether it worked, the text to show (INSPECT: where replay
 * stopped and the counts table; QUERY: the answer as a table; RETARGET: from
 * and to), the error, and for RETARGET the runner started. */
bool pgr_gate_task_ok(const struct pgr_gate_task *g);
const char *pgr_gate_task_text(const struct pgr_gate_task *g);
const struct pgr_error *pgr_gate_task_error(const struct pgr_gate_task *g);
pid_t pgr_gate_task_pid(const struct pgr_gate_task *g);
/* Wait for it (connections have timeouts) and free. */
void pgr_gate_task_free(struct pgr_gate_task *g);

#endif
