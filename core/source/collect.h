/* The collector: refreshes facts from every source concurrently in a
 * background thread, libpq asynchronously (PQconnectStart/PQsendQuery), HTTP
 * through one curl multi handle, the store's listing in its own worker, each
 * with a timeout. A slow or dead source never delays the others; it is marked
 * unreachable with its error and recovers when it answers again. The UI takes
 * immutable snapshots and never blocks on I/O. */
#ifndef PGR_COLLECT_H
#define PGR_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "model/health.h"
#include "settings.h"

#define PGR_LAG_HISTORY 1800 /* samples kept for the WAL lag sparkline (an hour at 2 s) */

struct pgr_snapshot {
	int refs;
	uint64_t seq; /* increases with every completed refresh */
	double started_mono, finished_mono;
	struct pgr_facts facts;
	struct pgr_health health;
	/* WAL lag history, oldest first: (time, lag seconds, -1 when unknown) */
	int n_lag;
	time_t lag_time[PGR_LAG_HISTORY];
	double lag_seconds[PGR_LAG_HISTORY];
};

struct pgr_collector_opts {
	int interval_ms; /* 2000 by default */
	int source_timeout_ms; /* per source and refresh, 5000 by default */
	bool readonly; /* database session default_transaction_read_only = on */
	/* How long a refresh waits for the store's listing (its requests have
	 * their own timeouts, store_timeout); 0: source_timeout_ms. A listing
	 * still running then goes on, and a later refresh takes its result. */
	int store_timeout_ms;
};

struct pgr_collector;

/* The environment is copied. Starts the worker; the first refresh begins at once. */
struct pgr_collector *pgr_collector_start(const struct pgr_env *env, const struct pgr_collector_opts *opts,
                                          struct pgr_error *err);
/* The newest complete snapshot (NULL before the first refresh ends); take a
 * reference, release it when done. Never blocks. */
struct pgr_snapshot *pgr_collector_snapshot(struct pgr_collector *c);
void pgr_snapshot_release(struct pgr_snapshot *s);
/* A descriptor that becomes readable when a new snapshot is ready; read it
 * empty with pgr_collector_ack(). For the UI's poll loop. */
int pgr_collector_fd(struct pgr_collector *c);
void pgr_collector_ack(struct pgr_collector *c);
void pgr_collector_set_interval(struct pgr_collector *c, int interval_ms);
void pgr_collector_pause(struct pgr_collector *c, bool paused);
void pgr_collector_refresh_now(struct pgr_collector *c);
void pgr_collector_stop(struct pgr_collector *c);

#endif
