/* `pgrescue status`: one-shot health of an environment. Facts are collected
 * (database, store), then evaluated against the thresholds into checks with
 * levels; the worst level is the exit code (0 ok, 1 warning, 2 critical,
 * 3 unknown). Evaluation is pure so every rule is unit-testable. */
#ifndef PGR_STATUS_H
#define PGR_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "model/catalog.h"
#include "settings.h"

struct pgr_snapshot; /* source/collect.h */

enum pgr_level { PGR_OK = 0, PGR_WARN = 1, PGR_CRIT = 2, PGR_UNKNOWN = 3 };
const char *pgr_level_name(enum pgr_level l); /* "OK", "WARN", "FAIL", "UNKNOWN" */

struct pgr_check {
	char name[48]; /* "backup.dump", "wal.archiving", "window" ... */
	enum pgr_level level;
	char summary[256]; /* one line a person reads */
	char rule[160]; /* the rule and values that produced the level */
};

struct pgr_archiver_facts {
	bool known;
	char archive_mode[16];
	int64_t archived_count, failed_count;
	char last_archived_wal[64], last_failed_wal[64];
	time_t last_archived_time, last_failed_time; /* 0 when never */
	char current_wal[32];
	int64_t pending; /* .ready files waiting */
	time_t oldest_pending; /* modification time of the oldest .ready, 0 if none */
};

struct pgr_status {
	time_t now;
	char env_name[64];
	/* database */
	bool db_reachable;
	char db_error[512];
	char server_version[32];
	char db_timezone[64];
	bool in_recovery;
	struct pgr_archiver_facts arch;
	/* store */
	bool store_reachable;
	char store_error[512];
	bool have_catalog;
	struct pgr_catalog catalog;
	struct pgr_window window;
	/* verdicts */
	struct pgr_check checks[16];
	int n_checks;
	enum pgr_level overall;
	/* The collector's snapshot the facts came from (NULL when filled by hand):
	 * it owns the catalog and window above, and carries the metrics, the
	 * sources' states and the ten alert verdicts shown beside the checks. */
	struct pgr_snapshot *snap;
};

void pgr_status_init(struct pgr_status *s);
void pgr_status_free(struct pgr_status *s);
/* Gather facts through one refresh of the collector (the dashboard's own
 * collection); never fails as a whole: an unreachable source is a fact. */
void pgr_status_collect(const struct pgr_env *env, struct pgr_status *s);
/* Turn facts into checks and the overall level. */
void pgr_status_evaluate(const struct pgr_env *env, struct pgr_status *s);
void pgr_status_print(const struct pgr_status *s, FILE *out);
char *pgr_status_to_json(const struct pgr_status *s);

#endif
