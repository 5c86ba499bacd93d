/* The destructive-event finder: pg_waldump (from the environment's bindir)
 * over archived WAL fetched through the storage layer into a cache (a file
 * store is read in place), its text read as a stream, and the transactions
 * that lost data turned into events: DROP TABLE, TRUNCATE, DELETE or UPDATE
 * of many rows. Rewrites that keep the data (VACUUM FULL, CLUSTER, ALTER
 * TABLE rewrites) are labelled as such. Relation names come from the live
 * server's catalog, else from the pg_class of a base backup taken before the
 * event. An event id is "<timeline>-<commit LSN>" (".N" for the Nth event of
 * one commit); recovering to just before it is recovery_target_xid = its xid,
 * recovery_target_inclusive = off. */
#ifndef PGR_WALSCAN_H
#define PGR_WALSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "model/catalog.h"
#include "settings.h"
#include "source/waldump.h"
#include "storage/storage.h"

enum pgr_event_kind {
	PGR_EVENT_DROP,
	PGR_EVENT_TRUNCATE,
	PGR_EVENT_MASS_DELETE,
	PGR_EVENT_MASS_UPDATE,
	PGR_EVENT_REWRITE, /* not data loss */
};

struct pgr_event_rel {
	uint32_t node; /* relfilenode (or, for a dropped relation, its oid) */
	char *name; /* "public.a"; or "relfilenode 16384 (not in the live catalog)" */
	char *source; /* where the name came from: "live", "base backup <label>", NULL */
	char relkind; /* 'r', 'i', 't', ... 0 unknown */
	int64_t rows; /* rows deleted/updated; for drop/truncate the count at the base backup, -1 unknown */
};

struct pgr_event {
	char id[64];
	enum pgr_event_kind kind;
	uint32_t timeline;
	time_t time; /* commit time, UTC */
	int usec;
	uint64_t xid;
	uint64_t lsn; /* of the COMMIT record */
	uint32_t db_oid;
	char *db_name; /* NULL when unknown */
	struct pgr_event_rel *rels;
	size_t n_rels;
	int64_t rows; /* total rows affected, -1 unknown */
};

struct pgr_event_list {
	struct pgr_event *v;
	size_t n;
};

void pgr_event_list_free(struct pgr_event_list *l);
const char *pgr_event_kind_name(enum pgr_event_kind k); /* "drop", "truncate", "mass delete", ... */
bool pgr_event_is_loss(enum pgr_event_kind k);

/* ---- the pg_waldump text parser (pure; unit tested on recorded lines) */
struct pgr_waldump_parser;
/* min_rows: a DELETE/UPDATE transaction counts from this many rows. */
struct pgr_waldump_parser *pgr_waldump_parser_new(uint32_t timeline, int64_t min_rows);
/* One output line (without its newline). Returns the LSN of the record, 1 for
 * a record of a resource manager never looked into (not parsed), 0 when the
 * line is not a record. */
uint64_t pgr_waldump_parser_line(struct pgr_waldump_parser *p, const char *line, size_t len);
/* Move the events found so far (unresolved: rels named by relfilenode, kinds
 * DROP/TRUNCATE/REWRITE still to be confirmed by the catalog) into out. */
void pgr_waldump_parser_take(struct pgr_waldump_parser *p, struct pgr_event_list *out);
void pgr_waldump_parser_free(struct pgr_waldump_parser *p);

/* ---- the scan */
typedef void (*pgr_walscan_progress_fn)(void *ctx, size_t done, size_t total, const char *segment);

struct pgr_walscan_opts {
	time_t since, until; /* commit times, inclusive; until 0: no end */
	int64_t min_rows; /* default 1000 */
	pgr_walscan_progress_fn progress;
	void *progress_ctx;
	volatile int *cancel; /* set non-zero to stop (the scan ends with PGR_ERR_USAGE "cancelled") */
	bool no_resolve; /* leave relation names unresolved (tests, benchmarks) */
	const char *cache_dir; /* NULL: <state dir>/walcache */
};

struct pgr_walscan_stats {
	size_t segments;
	uint64_t bytes;
	double seconds;
};

void pgr_walscan_opts_default(struct pgr_walscan_opts *o);
/* Scan the archived WAL of every timeline in [since, until] and resolve the
 * events' relations. Sorted by commit time. */
bool pgr_walscan_events(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                        const struct pgr_walscan_opts *o, struct pgr_event_list *out, struct pgr_walscan_stats *stats,
                        struct pgr_error *err);
/* Find the event with this id (its commit record): xid and time, for
 * --before-event. The relations are resolved too. */
bool pgr_walscan_event_by_id(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                             const char *id, struct pgr_event *out, struct pgr_error *err);
void pgr_event_free(struct pgr_event *e);
/* Event as one JSON object / as one text line (newly allocated). */
char *pgr_event_json(const struct pgr_event *e);
char *pgr_event_line(const struct pgr_event *e);

#endif
