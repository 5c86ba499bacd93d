/* pgrescue's own manifest of a backup: what was taken, when, between which
 * LSNs, the SHA-256 of every file, and the exact row count of every user
 * table (so a restore can be verified later). Stored as JSON. */
#ifndef PGR_MANIFEST_H
#define PGR_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

enum pgr_backup_kind { PGR_BACKUP_DUMP, PGR_BACKUP_BASE };

struct pgr_manifest_file {
	char *name; /* key relative to the store root */
	uint64_t size;
	char sha256[65];
};

struct pgr_table_count {
	char *schema;
	char *table;
	int64_t rows;
};

struct pgr_manifest {
	int format_version; /* 1 */
	enum pgr_backup_kind kind;
	char *label; /* YYYYMMDD-HHMMSS, UTC */
	char *database; /* dumped database; for base backups the DSN's database */
	char *server_version;
	char *system_identifier;
	char *pgrescue_version;
	char *status; /* "complete" or "failed" */
	time_t start_time, stop_time;
	uint64_t start_lsn, stop_lsn; /* base: from pg_basebackup; dump: the snapshot's LSN */
	uint64_t rows_lsn; /* WAL position of the snapshot the table counts were taken in (0: unknown) */
	uint32_t timeline;
	uint64_t wal_segment_size;
	char *start_wal; /* first WAL segment a base backup needs */
	char *stop_wal; /* last */
	struct pgr_manifest_file *files;
	size_t n_files;
	struct pgr_table_count *tables;
	size_t n_tables;
};

void pgr_manifest_init(struct pgr_manifest *m, enum pgr_backup_kind kind);
void pgr_manifest_free(struct pgr_manifest *m);
void pgr_manifest_add_file(struct pgr_manifest *m, const char *name, uint64_t size, const char *sha256);
void pgr_manifest_add_table(struct pgr_manifest *m, const char *schema, const char *table, int64_t rows);
/* JSON text, newly allocated. */
char *pgr_manifest_to_json(const struct pgr_manifest *m);
/* Parse; errors name `source` and what is wrong. */
bool pgr_manifest_from_json(const char *text, const char *source, struct pgr_manifest *m, struct pgr_error *err);
/* Row count of schema.table; -1 when the manifest does not list it. */
int64_t pgr_manifest_rows(const struct pgr_manifest *m, const char *schema, const char *table);
/* The entry for NAME (a key relative to the store root); NULL if none. */
const struct pgr_manifest_file *pgr_manifest_file(const struct pgr_manifest *m, const char *name);
/* Whether the file at PATH is what F records: its size and SHA-256 (an
 * entry without a SHA-256 passes); false with "the WHAT F->name is damaged:
 * ... but its manifest MANIFEST_KEY recorded ..." (the caller adds the HINT)
 * or a read error. The SHA-256 read goes to GOT. */
bool pgr_manifest_file_check(const struct pgr_manifest_file *f, const char *path, const char *what,
                             const char *manifest_key, char got[65], struct pgr_error *err);

#endif
