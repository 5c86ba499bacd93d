/* Names in the store and what a file really is. The deployment names its
 * custom-format dumps .sql.gz, so a file is judged by its first bytes, never
 * by its extension. WAL names follow PostgreSQL's own spelling. */
#include "config.h"

#include "storage/layout.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xalloc.h"

#define DEFAULT_WAL_SEG_SIZE (16u * 1024 * 1024)
#define TAR_MAGIC_OFFSET 257

static bool has_at(const unsigned char *h, size_t n, size_t off, const char *magic)
{
	size_t m = strlen(magic);
	return n >= off + m && memcmp(h + off, magic, m) == 0;
}

/* pg_dump's plain output opens with "--\n-- PostgreSQL database dump" (or
 * "cluster dump" for pg_dumpall); allow a BOM and CRLF line ends. */
static bool looks_like_sql_dump(const unsigned char *h, size_t n)
{
	size_t i = 0;
	if (has_at(h, n, 0, "\xEF\xBB\xBF"))
		i = 3;
	if (!has_at(h, n, i, "--"))
		return false;
	static const char needle[] = "-- PostgreSQL database";
	size_t m = sizeof needle - 1;
	for (size_t j = i; j + m <= n && j < i + 64; j++)
		if (!memcmp(h + j, needle, m))
			return true;
	return false;
}

enum pgr_filekind pgr_file_kind(const void *head, size_t n)
{
	const unsigned char *h = head;
	if (n == 0 || !h)
		return PGR_FILE_EMPTY;
	if (has_at(h, n, 0, "PGDMP"))
		return PGR_FILE_PGDUMP_CUSTOM;
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return PGR_FILE_GZIP;
	if (has_at(h, n, TAR_MAGIC_OFFSET, "ustar"))
		return PGR_FILE_TAR;
	if (looks_like_sql_dump(h, n))
		return PGR_FILE_PLAIN_SQL;
	return PGR_FILE_UNKNOWN;
}

const char *pgr_filekind_describe(enum pgr_filekind k)
{
	switch (k) {
	case PGR_FILE_PGDUMP_CUSTOM:
		return "a pg_dump custom-format archive (PGDMP), whatever its name says: restore it with "
		       "pg_restore, not gunzip or psql";
	case PGR_FILE_GZIP:
		return "a gzip-compressed file, not a pg_dump custom-format archive: it is probably `pg_dump | gzip` "
		       "plain SQL; restore it with gunzip | psql, not pg_restore";
	case PGR_FILE_TAR:
		return "a tar archive, not a custom-format dump: a base backup (extract it into an empty data "
		       "directory) or pg_dump -Ft output (pg_restore -Ft)";
	case PGR_FILE_PLAIN_SQL:
		return "a plain-text SQL dump (pg_dump without -Fc): restore it with psql -f, not pg_restore";
	case PGR_FILE_EMPTY:
		return "an empty file (0 bytes): the job that wrote it failed before writing anything; there is "
		       "nothing to restore";
	case PGR_FILE_UNKNOWN:
	default:
		return "not a recognised backup (no PGDMP, gzip or tar signature): it may be truncated, encrypted "
		       "or not a backup at all";
	}
}

/* ---------------------------------------------------------------- dumps */

char *pgr_dump_key(time_t t)
{
	char label[32];
	pgr_label_format(t, label, sizeof label);
	return xasprintf(PGR_PREFIX_DUMPS "postgres-backup-%s.sql.gz", label);
}

bool pgr_dump_key_parse(const char *key, time_t *t)
{
	static const char *const stems[] = {"postgres-backup-", "clipper-backup-"};
	static const char *const suffixes[] = {".sql.gz", ".sql", ".dump", ".gz", ".tar", ""};
	if (!key)
		return false;
	const char *name = key;
	size_t plen = strlen(PGR_PREFIX_DUMPS);
	if (!strncmp(name, PGR_PREFIX_DUMPS, plen))
		name += plen;
	if (strchr(name, '/'))
		return false;
	const char *label = NULL;
	for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
		if (!strncmp(name, stems[i], strlen(stems[i])))
			label = name + strlen(stems[i]);
	if (!label || strlen(label) < 15)
		return false;
	/* pgr_label_parse reads exactly 15 characters; what follows must be a
	 * known extension, so "...sql.gz.tmp" and friends are not dumps. */
	const char *rest = label + 15;
	bool suffix_ok = false;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (!strcmp(rest, suffixes[i]))
			suffix_ok = true;
	if (!suffix_ok)
		return false;
	char stamp[16];
	memcpy(stamp, label, 15);
	stamp[15] = '\0';
	time_t v;
	if (!pgr_label_parse(stamp, &v))
		return false;
	if (t)
		*t = v;
	return true;
}

char *pgr_dump_manifest_key(const char *dump_key)
{
	const char *slash = strrchr(dump_key, '/');
	const char *name = slash ? slash + 1 : dump_key;
	return xasprintf(PGR_PREFIX_DUMP_MANIFESTS "%s.json", name);
}

/* ---------------------------------------------------------------- WAL */

/* PostgreSQL writes WAL names in upper-case hex, and so do we. */
static bool hex_upper(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return true;
}

bool pgr_walname_parse(const char *name, struct pgr_walname *out)
{
	if (!name)
		return false;
	struct pgr_walname w = {0};
	size_t len = strlen(name);
	/* 00000002.history */
	if (len == 16 && !strcmp(name + 8, ".history")) {
		if (!hex_upper(name, 8, &w.tli) || w.tli == 0)
			return false;
		w.kind = PGR_WAL_HISTORY;
		if (out)
			*out = w;
		return true;
	}
	if (len < 24 || !hex_upper(name, 8, &w.tli) || !hex_upper(name + 8, 8, &w.log) ||
	    !hex_upper(name + 16, 8, &w.seg) || w.tli == 0)
		return false;
	const char *rest = name + 24;
	uint32_t offset;
	if (!*rest)
		w.kind = PGR_WAL_SEGMENT;
	else if (!strcmp(rest, ".partial"))
		w.kind = PGR_WAL_PARTIAL;
	else if (strlen(rest) == 16 && rest[0] == '.' && hex_upper(rest + 1, 8, &offset) &&
	         !strcmp(rest + 9, ".backup"))
		w.kind = PGR_WAL_BACKUP;
	else
		return false;
	/* segno needs the segment size, which a name does not carry: the
	 * caller computes it with pgr_wal_segno(log, seg, size). */
	w.segno = 0;
	if (out)
		*out = w;
	return true;
}

static uint64_t segs_per_log(uint64_t seg_size)
{
	if (seg_size == 0)
		seg_size = DEFAULT_WAL_SEG_SIZE;
	uint64_t n = UINT64_C(0x100000000) / seg_size;
	return n ? n : 1;
}

uint64_t pgr_wal_segno(uint32_t log, uint32_t seg, uint64_t seg_size)
{
	return (uint64_t)log * segs_per_log(seg_size) + seg;
}

void pgr_walname_format(uint32_t tli, uint64_t segno, uint64_t seg_size, char *buf)
{
	uint64_t per = segs_per_log(seg_size);
	snprintf(buf, 25, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, tli, (uint32_t)(segno / per),
	         (uint32_t)(segno % per));
}

static bool hex_any(const char *s, size_t n, uint32_t *out)
{
	if (n == 0 || n > 8)
		return false;
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return true;
}

bool pgr_lsn_parse(const char *s, uint64_t *lsn)
{
	if (!s)
		return false;
	const char *slash = strchr(s, '/');
	if (!slash)
		return false;
	uint32_t hi, lo;
	if (!hex_any(s, (size_t)(slash - s), &hi) || !hex_any(slash + 1, strlen(slash + 1), &lo))
		return false;
	if (lsn)
		*lsn = ((uint64_t)hi << 32) | lo;
	return true;
}

void pgr_lsn_format(uint64_t lsn, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}
