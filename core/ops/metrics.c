/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/metrics.h"

char * pgr_metrics_format(const struct pgr_metric *m, int n)
{
	return NULL;
}

bool pgr_metrics_write_file(const char *path, const struct pgr_metric *m, int n, struct pgr_error *err)
{
	return false;
}

bool pgr_metrics_push(const char *gateway, const char *job, const struct pgr_metric *m, int n, int timeout_sec, struct pgr_error *err)
{
	return false;
}

