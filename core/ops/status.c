/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/status.h"

const char * pgr_level_name(enum pgr_level l)
{
	return NULL;
}

void pgr_status_init(struct pgr_status *s)
{
}

void pgr_status_free(struct pgr_status *s)
{
}

void pgr_status_collect(const struct pgr_env *env, struct pgr_status *s)
{
}

void pgr_status_evaluate(const struct pgr_env *env, struct pgr_status *s)
{
}

void pgr_status_print(const struct pgr_status *s, FILE *out)
{
}

char * pgr_status_to_json(const struct pgr_status *s)
{
	return NULL;
}

