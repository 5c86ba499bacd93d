/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "storage/layout.h"

enum pgr_filekind pgr_file_kind(const void *head, size_t n)
{
	return (enum pgr_filekind)0;
}

const char * pgr_filekind_describe(enum pgr_filekind k)
{
	return NULL;
}

char * pgr_dump_key(time_t t)
{
	return NULL;
}

bool pgr_dump_key_parse(const char *key, time_t *t)
{
	return false;
}

char * pgr_dump_manifest_key(const char *dump_key)
{
	return NULL;
}

bool pgr_walname_parse(const char *name, struct pgr_walname *out)
{
	return false;
}

uint64_t pgr_wal_segno(uint32_t log, uint32_t seg, uint64_t seg_size)
{
	return 0;
}

void pgr_walname_format(uint32_t tli, uint64_t segno, uint64_t seg_size, char *buf)
{
}

bool pgr_lsn_parse(const char *s, uint64_t *lsn)
{
	return false;
}

void pgr_lsn_format(uint64_t lsn, char *buf, size_t n)
{
}

