/* The catalog: what the store holds, understood. Dumps, base backups (with
 * their pgrescue manifests), WAL segments per timeline, and the recoverable
 * window built from base backups plus continuous WAL. Built from a listing;
 * knows no transport beyond the storage interface. */
#ifndef PGR_CATALOG_H
#define PGR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"
#include "ops/manifest.h"
#include "storage/layout.h"
#include "storage/storage.h"

struct pgr_dump {
	char *key;
	time_t time; /* from the name (UTC); mtime if the name has none */
	uint64_t size;
	bool has_manifest;
	bool good; /* manifest says complete, or (no manifest) a deployment-written dump */
};

struct pgr_base {
	char *label;
	char *prefix; /* "base/<label>/" */
	bool complete; /* pgrescue.json present and status complete */
	struct pgr_manifest manifest; /* valid when complete */
	uint64_t size;
	char *keys_first_wal; /* start segment name (copy of manifest.start_wal) */
};

struct pgr_walseg {
	char *name;
	struct pgr_walname wn;
	uint64_t size;
	time_t mtime;
};

struct pgr_window {
	bool exists;
	uint32_t timeline;
	time_t earliest; /* stop time of the oldest base backup with continuous WAL to the end */
	time_t latest; /* time the last continuously archived segment was written */
	char *earliest_base; /* label of that base backup */
	char *last_wal; /* last segment of the continuous run */
	char *gap_after; /* first missing segment after a kept base, NULL when none */
	char *why_not; /* when !exists: the reason, for a verdict */
};

struct pgr_catalog {
	struct pgr_dump *dumps; /* sorted oldest first */
	size_t n_dumps;
	struct pgr_base *bases; /* sorted oldest first */
	size_t n_bases;
	struct pgr_walseg *wal; /* sorted by name */
	size_t n_wal;
	uint64_t wal_seg_size; /* from manifests, default 16 MiB */
	uint64_t total_bytes;
};

/* List the store and read the base manifests. */
bool pgr_catalog_build(struct pgr_store *st, struct pgr_catalog *cat, struct pgr_error *err);
/* Build from already-listed objects; manifests given as parallel arrays of
 * (base label, JSON text). For unit tests and the dashboard's caches. */
bool pgr_catalog_from_listing(const struct pgr_object_list *objects, const char *const *manifest_labels,
                              const char *const *manifest_json, size_t n_manifests, struct pgr_catalog *cat,
                              struct pgr_error *err);
void pgr_catalog_free(struct pgr_catalog *cat);
/* Newest good dump / complete base; NULL if none. */
const struct pgr_dump *pgr_catalog_newest_dump(const struct pgr_catalog *cat);
const struct pgr_base *pgr_catalog_newest_base(const struct pgr_catalog *cat);
/* The recoverable window on the newest timeline (following timeline switches). */
void pgr_catalog_window(const struct pgr_catalog *cat, struct pgr_window *w);
/* One window per timeline with archived WAL, oldest timeline first: on each,
 * the earliest and latest restorable point reached from a base backup (an
 * older timeline's window ends where its archived WAL ends, also past the
 * point where a newer timeline branched off). *out is to be freed with
 * pgr_windows_free. Returns the count; entries with !exists say why_not. */
size_t pgr_catalog_windows(const struct pgr_catalog *cat, struct pgr_window **out);
void pgr_windows_free(struct pgr_window *v, size_t n);

/* What each complete base backup can reach: from its stop time (when it is
 * consistent) along the WAL archived without a hole from its start segment,
 * across timeline switches. A time is recoverable when a span holds it; the
 * spans of older base backups may end at a hole before the newest WAL. */
struct pgr_span {
	const struct pgr_base *base; /* into the catalog */
	time_t from; /* the base's stop time */
	time_t to; /* when the last segment of the run was archived */
	uint32_t start_tli, tli; /* timeline of the base's start segment, and the one the run ends on */
	uint64_t start_segno, end_segno;
	char *last_wal; /* last segment of the run */
	char *missing; /* first missing segment when later WAL exists, else NULL */
};
/* Spans of every usable base backup, oldest base first; free with pgr_spans_free. */
size_t pgr_catalog_spans(const struct pgr_catalog *cat, struct pgr_span **out);
void pgr_spans_free(struct pgr_span *v, size_t n);
void pgr_window_free(struct pgr_window *w);

#endif
