/* Plans as data: ordered steps, each with its parameters, the exact commands
 * it will run (for --dry-run, the review screen and the audit log) and how to
 * undo it. A plan is JSON on disk (the run's plan.json), so the detached
 * runner executes exactly what the engineer reviewed. What each step does
 * lives in a step table (struct pgr_step_impl, runner.h) keyed by its id. */
#ifndef PGR_PLAN_H
#define PGR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "settings.h"

struct pgr_kv {
	char *key;
	char *value;
};

struct pgr_kvlist {
	struct pgr_kv *items;
	size_t n, cap;
};

/* NULL when absent. */
const char *pgr_kv_get(const struct pgr_kvlist *l, const char *key);
/* Add or replace (copies both). */
void pgr_kv_set(struct pgr_kvlist *l, const char *key, const char *value);
void pgr_kv_setf(struct pgr_kvlist *l, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void pgr_kv_free(struct pgr_kvlist *l);

struct pgr_step {
	char *id; /* "scale-down": stable, unique in the plan, names the implementation */
	char *title; /* one line: "Scale the app to 0 replicas" */
	char *command; /* exactly what it runs: commands, SQL, paths, API calls (may be multi-line) */
	char *undo; /* how to undo it, for people; NULL when there is none */
	bool destructive; /* needs the typed confirmation */
	bool gate; /* the runner stops before it until `pgrescue runs resume` */
	struct pgr_kvlist params;
};

struct pgr_plan {
	char *kind; /* "restore", "pitr" */
	char *run_id; /* set when the run is created */
	char *summary; /* one line: "Restore clipper_db from postgres-backup-20261124-020000" */
	char *incident;
	char *reason;
	struct pgr_env env; /* the environment, copied: the runner needs no config file */
	struct pgr_kvlist params; /* plan-wide: dump key, target, base label, names ... */
	struct pgr_step *steps;
	size_t n_steps;
	char *notes; /* extra lines for the review screen (warnings, decisions made); may be NULL */
};

void pgr_plan_init(struct pgr_plan *p, const char *kind, const struct pgr_env *env);
void pgr_plan_free(struct pgr_plan *p);
/* Append a step; returns it so params can be added. Strings are copied. */
struct pgr_step *pgr_plan_add_step(struct pgr_plan *p, const char *id, const char *title, const char *command,
                                   const char *undo, bool destructive);
const struct pgr_step *pgr_plan_step(const struct pgr_plan *p, const char *id);
bool pgr_plan_destructive(const struct pgr_plan *p);

char *pgr_plan_to_json(const struct pgr_plan *p);
bool pgr_plan_from_json(const char *text, const char *source, struct pgr_plan *p, struct pgr_error *err);
/* The plan as it will run: header (environment, incident, summary), then
 * numbered steps with their commands and undo. */
void pgr_plan_print(const struct pgr_plan *p, FILE *out);
/* The same text, newly allocated (for screens). */
char *pgr_plan_text(const struct pgr_plan *p);

#endif
