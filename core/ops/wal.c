/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/wal.h"

enum pgr_wal_result pgr_wal_push(struct pgr_store *st, const char *path, struct pgr_error *err)
{
	return (enum pgr_wal_result)0;
}

enum pgr_wal_result pgr_wal_fetch(struct pgr_store *st, const char *name, const char *dest, struct pgr_error *err)
{
	return (enum pgr_wal_result)0;
}

