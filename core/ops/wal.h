/* archive_command and restore_command over the storage interface.
 * wal-push: atomic, idempotent for an identical segment, refuses to overwrite
 * a different one (non-zero exit, so PostgreSQL keeps the segment and retries).
 * wal-fetch: a missing file is an ordinary answer (exit 1), not an error. */
#ifndef PGR_WAL_H
#define PGR_WAL_H

#include <stdbool.h>

#include "base/error.h"
#include "storage/storage.h"

enum pgr_wal_result {
	PGR_WAL_OK = 0,
	PGR_WAL_ALREADY, /* identical copy already archived */
	PGR_WAL_MISSING, /* wal-fetch: not in the archive */
	PGR_WAL_CONFLICT, /* wal-push: a different file is archived under that name */
	PGR_WAL_ERROR,
};

enum pgr_wal_result pgr_wal_push(struct pgr_store *st, const char *path, struct pgr_error *err);
enum pgr_wal_result pgr_wal_fetch(struct pgr_store *st, const char *name, const char *dest, struct pgr_error *err);

#endif
