/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/manifest.h"

void pgr_manifest_init(struct pgr_manifest *m, enum pgr_backup_kind kind)
{
}

void pgr_manifest_free(struct pgr_manifest *m)
{
}

void pgr_manifest_add_file(struct pgr_manifest *m, const char *name, uint64_t size, const char *sha256)
{
}

void pgr_manifest_add_table(struct pgr_manifest *m, const char *schema, const char *table, int64_t rows)
{
}

char * pgr_manifest_to_json(const struct pgr_manifest *m)
{
	return NULL;
}

bool pgr_manifest_from_json(const char *text, const char *source, struct pgr_manifest *m, struct pgr_error *err)
{
	return false;
}

int64_t pgr_manifest_rows(const struct pgr_manifest *m, const char *schema, const char *table)
{
	return 0;
}

