/* Health: facts from every source, each stamped with when it was read and why
 * it failed, turned into verdicts by the runbook's ten alert rules evaluated
 * natively (thresholds from the environment), so the dashboard works when
 * Prometheus is down. Where Prometheus is configured its firing alerts are set
 * beside each verdict and a disagreement is flagged. Pure: no I/O here. */
#ifndef PGR_HEALTH_H
#define PGR_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "model/catalog.h"
#include "ops/status.h"
#include "settings.h"

enum pgr_vlevel { PGR_V_OK = 0, PGR_V_WARN, PGR_V_FAIL, PGR_V_UNKNOWN, PGR_V_STALE, PGR_V_NA };
const char *pgr_vlevel_name(enum pgr_vlevel l); /* "OK" "WARN" "FAIL" "UNKNOWN" "STALE" "N/A" */

/* One source's state for this refresh. */
struct pgr_source_state {
	bool configured;
	bool ok; /* answered in this refresh */
	time_t read_at; /* when this refresh asked */
	time_t last_ok; /* last time it answered (0: never) */
	double latency_ms;
	char error[256]; /* why it failed (no secrets) */
};

/* A number that may be missing. */
struct pgr_num {
	bool known;
	double value;
	time_t read_at;
	char source[16]; /* "store", "db", "prometheus", "file" */
};

struct pgr_snapshot_fact {
	char name[128];
	time_t created;
	bool ready;
	char error[160];
};

enum pgr_alert_id {
	PGR_A_BACKUP_FAILED = 0, /* BackupJobFailed: age of last successful backup > backup_max_age */
	PGR_A_BACKUP_NOT_RUNNING, /* BackupJobNotRunning: no backup ever recorded */
	PGR_A_WAL_LAG, /* WALArchivingLag: lag >= warn / critical */
	PGR_A_WAL_FAILED, /* WALArchivingFailed: failures in the last 5 min, after last success */
	PGR_A_RESTORE_FAILED, /* RestoreTestFailed: last restore test success == 0 */
	PGR_A_RESTORE_NOT_RUN, /* RestoreTestNotRun: no restore test in 31 days */
	PGR_A_RTO_EXCEEDED, /* RestoreRTOExceeded: last restore test duration > rto_max */
	PGR_A_STORAGE_LOW, /* BackupStorageLow: used/total > 0.85 */
	PGR_A_SNAPSHOT_FAILED, /* VolumeSnapshotFailed: a snapshot not ready */
	PGR_A_NO_RECENT_SNAPSHOT, /* NoRecentVolumeSnapshot: newest snapshot older than 48 h */
	PGR_N_ALERTS
};
const char *pgr_alert_name(enum pgr_alert_id id); /* "BackupJobFailed" ... exactly as in the rules file */

struct pgr_facts {
	time_t now;
	struct pgr_source_state db, store, prom, platform;

	/* database (status.h's facts, shared with `pgrescue status`) */
	char server_version[32];
	char db_timezone[64];
	bool in_recovery;
	uint64_t current_lsn;
	struct pgr_archiver_facts arch;

	/* store */
	bool have_catalog;
	struct pgr_catalog catalog; /* owned by the facts */
	struct pgr_window window;
	time_t last_archived_commit; /* from pg_waldump over the last archived segment; 0 unknown */

	/* metrics (from the store, the metrics file or Prometheus; source says which) */
	struct pgr_num backup_success, backup_timestamp, backup_size;
	struct pgr_num restore_success, restore_timestamp, restore_duration;
	struct pgr_num restore_clip_count, restore_user_count;
	struct pgr_num storage_used, storage_total;

	/* volume snapshots (platforms that have them) */
	bool snapshots_supported;
	struct pgr_snapshot_fact *snapshots;
	int n_snapshots;

	/* Prometheus: alerts firing there, by name */
	char (*prom_firing)[64];
	int n_prom_firing;
};

struct pgr_verdict {
	enum pgr_alert_id id;
	enum pgr_vlevel level;
	const char *severity; /* "critical" or "warning": the level when it fires */
	char summary[200]; /* one line a person reads */
	char rule[200]; /* the rule and the values that produced the level */
	bool prom_known; /* Prometheus answered /api/v1/alerts */
	bool prom_firing;
	bool disagree; /* pgrescue and Prometheus disagree */
};

struct pgr_health {
	struct pgr_verdict v[PGR_N_ALERTS];
	enum pgr_vlevel overall;
	/* panel verdicts for the dashboard */
	enum pgr_vlevel backups, wal, snapshots, restore_tests, window;
};

void pgr_facts_init(struct pgr_facts *f);
void pgr_facts_free(struct pgr_facts *f);
void pgr_health_evaluate(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_health *h);

#endif
