/* Retention: what may be deleted, as a pure decision over the catalog, then
 * applied. Never the newest good dump; never the newest good base backup; never
 * a base backup that the kept WAL window needs as its starting point; never WAL
 * that a kept base backup needs. */
#ifndef PGR_RETENTION_H
#define PGR_RETENTION_H

#include <stdbool.h>
#include <time.h>

#include "base/error.h"
#include "model/catalog.h"
#include "settings.h"

struct pgr_retention_item {
	char *key; /* object key, or a prefix ending in '/' for a whole base backup */
	char *reason;
};

struct pgr_retention_plan {
	struct pgr_retention_item *items;
	size_t n, cap;
	size_t kept_dumps, kept_bases, kept_wal;
};

void pgr_retention_decide(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now,
                          struct pgr_retention_plan *plan);
bool pgr_retention_apply(struct pgr_store *st, const struct pgr_retention_plan *plan, int *deleted,
                         struct pgr_error *err);
void pgr_retention_plan_free(struct pgr_retention_plan *plan);

#endif
