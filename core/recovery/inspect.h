/* Looking at a paused recovery before deciding: a point-in-time recovery run
 * planned with --pause waits at its promote gate with the server in
 * recovery, read-only, paused at the target. Here the engineer sees where
 * replay stopped and every table's row count next to the counts the base
 * backup recorded and those taken before the recovery started, and runs a
 * query of their own, strictly read-only. Then `runs resume` promotes, or
 * `runs retarget` (recovery/pitr.h) moves the target later. */
#ifndef PGR_INSPECT_H
#define PGR_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "recovery/pitr.h"

/* A query's answer as text. */
struct pgr_qtable {
	size_t n_cols, n_rows;
	char **cols; /* n_cols names */
	char **cells; /* n_rows * n_cols, row by row; NULL for SQL NULL */
	bool truncated; /* more rows than the limit: the rest were left off */
};
void pgr_qtable_free(struct pgr_qtable *t);
/* NULL for SQL NULL (and out of range). */
const char *pgr_qtable_cell(const struct pgr_qtable *t, size_t row, size_t col);
/* psql-like aligned text: header, rule, rows (numbers right-aligned, NULL
 * shown as empty), then "(N rows)" and, when truncated, "(only the first N
 * rows: raise --limit)". Newly allocated. */
char *pgr_qtable_text(const struct pgr_qtable *t);

#define PGR_INSPECT_MAX_ROWS 100
#define PGR_INSPECT_TIMEOUT_SEC 30
#define PGR_INSPECT_ROWS_CAP 10000

struct pgr_inspect_limits {
	int max_rows; /* rows kept of the engineer's query (0: PGR_INSPECT_MAX_ROWS; capped at PGR_INSPECT_ROWS_CAP) */
	int timeout_sec; /* statement_timeout of each statement (0: PGR_INSPECT_TIMEOUT_SEC) */
};

/* Where the run stands and the row counts. */
struct pgr_inspect {
	char *run_id;
	char *database; /* the plan's database, where tables are counted */
	char *target; /* the run's target (pgr_target_describe text) */
	char *base; /* base backup label */
	char *status; /* the run's status: "waiting", ... */
	bool at_gate; /* waiting at its promote gate */
	struct pgr_pitr_stop stop; /* live */
	/* Columns: table, base backup, before recovery, now. A table in one list
	 * but not another has NULL there; a count that failed (timeout) is
	 * NULL too and named in notes. Tables in name order. */
	struct pgr_qtable counts;
	char *notes; /* lines worth reading ("" when none) */
};
void pgr_inspect_free(struct pgr_inspect *in);

/* Read the run (plan, journal facts) and its server: where replay stopped
 * and the row counts, in a READ ONLY transaction with statement_timeout.
 * Refused when run_dir is not a pitr run, or its server does not answer or
 * is no longer in recovery (promoted: query it as usual). Blocks on the
 * server (timeouts apply): off the UI thread. lim may be NULL. */
bool pgr_inspect_run(const char *run_dir, const struct pgr_inspect_limits *lim, struct pgr_inspect *out,
                     struct pgr_error *err);

/* Is sql one read-only query pgrescue will run on a paused server? One
 * statement starting with SELECT, WITH, TABLE or VALUES (after comments and
 * parentheses), naming none of the functions that change the server's
 * state or run SQL from text (pg_promote, pg_wal_replay_resume, set_config,
 * query_to_xml, lo_export, dblink, ...; names in string literals do not
 * count), without U& escapes. No I/O; err says why and what to do. */
bool pgr_inspect_sql_allowed(const char *sql, struct pgr_error *err);

/* Run the engineer's query on the run's server, in its database, strictly
 * read-only: refused unless pgr_inspect_sql_allowed and the server is in
 * recovery; then BEGIN READ ONLY, SET LOCAL statement_timeout, SET LOCAL ROLE
 * pg_read_all_data where the server has it (so functions that need more
 * than reading are denied by the server itself), DECLARE a cursor for the
 * query (one statement, no data-modifying WITH), FETCH max_rows + 1,
 * ROLLBACK. Errors carry the server's words as DETAIL and a HINT by SQLSTATE
 * (read-only, permission, timeout, syntax). Each query is audited (step
 * "inspect", the SQL, outcome ok with the row count, refused or failed). */
bool pgr_inspect_query(const char *run_dir, const char *sql, const struct pgr_inspect_limits *lim,
                       struct pgr_qtable *out, struct pgr_error *err);

/* {"run","database","target","base","status","at_gate","stop":{"live","in_recovery",
 * "pause","lsn","last_xact_time"},"counts":{columns,rows,truncated},"notes",
 * "query":{columns,rows,truncated}} (query when q is not NULL; in may be NULL
 * to give only "query"). Numbers stay strings as the server gave them; NULL
 * is null. Newly allocated. */
char *pgr_inspect_json(const struct pgr_inspect *in, const struct pgr_qtable *q);

#endif
