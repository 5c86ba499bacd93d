/* Point-in-time recovery targets: parsing (a time must carry its zone),
 * description in UTC, the database's zone and local time, validation against
 * the recoverable window, and the recovery_target_* settings they become. */
#ifndef PGR_TARGET_H
#define PGR_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "model/catalog.h"

enum pgr_target_kind {
	PGR_TARGET_TIME,
	PGR_TARGET_XID,
	PGR_TARGET_LSN,
	PGR_TARGET_NAME,
	PGR_TARGET_IMMEDIATE,
};

struct pgr_target {
	enum pgr_target_kind kind;
	time_t time; /* TIME: seconds, UTC */
	int usec; /* TIME: microseconds part */
	uint64_t xid; /* XID */
	uint64_t lsn; /* LSN */
	char name[64]; /* NAME: restore point name */
	bool inclusive; /* default true; --exclusive clears it */
};

/* Parse one target. kind_opt is the option it came with: "time", "xid",
 * "lsn", "name" or "immediate" (value NULL). A time without an explicit zone
 * (Z, +HH:MM, or a zone name such as Europe/Berlin) is refused, with a hint
 * showing the same time with the local zone's offset. */
bool pgr_target_parse(const char *kind_opt, const char *value, struct pgr_target *t, struct pgr_error *err);

/* The settings for postgresql.auto.conf, as "key = 'value'" lines (newline
 * separated, without recovery_target_action); newly allocated. */
char *pgr_target_settings(const struct pgr_target *t);
/* One line: "time 2026-11-24 03:12:00.5 UTC (inclusive)", "xid 1234 (exclusive)". */
char *pgr_target_describe(const struct pgr_target *t);
/* For a time target: the same instant in UTC, in db_zone (an IANA name such as
 * "Europe/Berlin"; NULL to leave out) and in the local zone, one per line,
 * each labelled. Newly allocated. */
char *pgr_target_time_echo(const struct pgr_target *t, const char *db_zone);

/* Is the target inside the window? Time: earliest <= t <= latest. LSN: at or
 * after the earliest base backup's stop LSN and before the end of the last
 * archived segment. xid, name: cannot be checked here (true). immediate:
 * true when the window exists. On failure err says why and, for a time,
 * gives the window in UTC as a HINT. */
bool pgr_target_check_window(const struct pgr_target *t, const struct pgr_catalog *cat, const struct pgr_window *w,
                             struct pgr_error *err);
/* The base backup to start from: for time, the newest complete base backup
 * on the window's timeline (or an ancestor) whose stop_time is before the
 * target; for LSN, whose stop_lsn <= target; for xid/name/immediate, the
 * window's earliest base (time/lsn unknown), or the newest for immediate.
 * NULL with err set when none qualifies. */
const struct pgr_base *pgr_target_pick_base(const struct pgr_target *t, const struct pgr_catalog *cat,
                                            const struct pgr_window *w, struct pgr_error *err);

/* Where a target falls, for the picker (as the cursor moves) and the plan:
 * recoverable or not and why, the base backup and timeline recovery would
 * use, the WAL to replay and how long that takes at a measured speed, and a
 * warning worth reading before confirming. A time is placed on the spans of
 * pgr_catalog_spans: refused in a WAL gap, inside a base backup's own run
 * when no older base reaches it, before the first or after the last span;
 * warned when inside a newer base's run (an older base is used) or after
 * the last archived commit. Other kinds use the window's checks. */
struct pgr_assessment {
	bool ok;
	char verdict[1024]; /* why not, or where it falls */
	char hint[1024];
	const struct pgr_base *base; /* into the catalog, when ok */
	uint32_t timeline; /* recovery_target_timeline */
	time_t from, to; /* the stretch of WAL the base reaches */
	uint64_t replay_bytes; /* WAL from the base's start to about the target; 0 unknown */
	double replay_secs; /* at replay_bps; negative when unknown */
	char warning[600]; /* "" when none */
	size_t subject_len; /* verdict begins with the target's time in UTC and a space: its length, else 0 */
};
/* last_commit: the last archived commit time (0 unknown); replay_bps: the
 * measured replay speed in bytes per second (0 unknown). */
void pgr_target_assess(const struct pgr_target *t, const struct pgr_catalog *cat, time_t last_commit, double replay_bps,
                       struct pgr_assessment *a);

#endif
