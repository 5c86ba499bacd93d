/* The store layout shared with the deployment's jobs, and what a file is:
 *   database/postgres-backup-YYYYMMDD-HHMMSS.sql.gz   pg_dump -Fc (PGDMP), UTC name
 *   database/clipper-backup-YYYYMMDD-HHMMSS.sql.gz    older true gzip dumps
 *   wal-archive/<segment>[.history|.backup|.partial]  flat
 *   base/<label>/base.tar, backup_manifest, pgrescue.json
 *   pgrescue/dumps/<dump file name>.json              pgrescue's manifest of a dump */
#ifndef PGR_LAYOUT_H
#define PGR_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PGR_PREFIX_DUMPS "database/"
#define PGR_PREFIX_WAL "wal-archive/"
#define PGR_PREFIX_BASE "base/"
#define PGR_PREFIX_DUMP_MANIFESTS "pgrescue/dumps/"
#define PGR_BASE_MANIFEST "pgrescue.json"

enum pgr_filekind {
	PGR_FILE_UNKNOWN = 0,
	PGR_FILE_PGDUMP_CUSTOM, /* "PGDMP" */
	PGR_FILE_GZIP, /* 1f 8b: a gzip'd plain SQL dump, not restorable with pg_restore */
	PGR_FILE_TAR,
	PGR_FILE_PLAIN_SQL, /* "--\n-- PostgreSQL database dump" */
	PGR_FILE_EMPTY,
};

/* Identify a file from its first bytes (at least 512 for tar). */
enum pgr_filekind pgr_file_kind(const void *head, size_t n);
const char *pgr_filekind_describe(enum pgr_filekind k);

/* "database/postgres-backup-20260102-020000.sql.gz" from a time. Newly allocated. */
char *pgr_dump_key(time_t t);
/* Parse a key under database/: accepts postgres-backup-* and clipper-backup-*
 * names; *t is the UTC time in the name. */
bool pgr_dump_key_parse(const char *key, time_t *t);
char *pgr_dump_manifest_key(const char *dump_key);

/* WAL file names. */
struct pgr_walname {
	uint32_t tli;
	uint64_t segno; /* log * segs_per_xlogid + seg: needs the segment size */
	uint32_t log, seg;
	enum { PGR_WAL_SEGMENT, PGR_WAL_HISTORY, PGR_WAL_BACKUP, PGR_WAL_PARTIAL } kind;
};
bool pgr_walname_parse(const char *name, struct pgr_walname *out);
/* segno within timeline from log/seg, for a segment size in bytes. */
uint64_t pgr_wal_segno(uint32_t log, uint32_t seg, uint64_t seg_size);
/* "00000001000000000000002A" for tli, segno, seg size. buf >= 25. */
void pgr_walname_format(uint32_t tli, uint64_t segno, uint64_t seg_size, char *buf);
/* Parse "0/16B3D48" as an LSN. */
bool pgr_lsn_parse(const char *s, uint64_t *lsn);
void pgr_lsn_format(uint64_t lsn, char *buf, size_t n);

#endif
