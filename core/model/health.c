/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "model/health.h"

const char *pgr_vlevel_name(enum pgr_vlevel l)
{
	return NULL;
}

const char *pgr_alert_name(enum pgr_alert_id id)
{
	return NULL;
}

void pgr_facts_init(struct pgr_facts *f)
{
}

void pgr_facts_free(struct pgr_facts *f)
{
}

void pgr_health_evaluate(const struct pgr_facts *f, const struct pgr_env *env, struct pgr_health *h)
{
}
