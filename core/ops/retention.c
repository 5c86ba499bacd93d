/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/retention.h"

void pgr_retention_decide(const struct pgr_catalog *cat, const struct pgr_env *env, time_t now, struct pgr_retention_plan *plan)
{
}

bool pgr_retention_apply(struct pgr_store *st, const struct pgr_retention_plan *plan, int *deleted, struct pgr_error *err)
{
	return false;
}

void pgr_retention_plan_free(struct pgr_retention_plan *plan)
{
}

