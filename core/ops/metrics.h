/* The runbook's backup metrics in Prometheus text format: written to a file
 * (atomically) and pushed to a Pushgateway (PUT /metrics/job/<job>). */
#ifndef PGR_METRICS_H
#define PGR_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

struct pgr_metric {
	const char *name;
	const char *help;
	double value;
};

/* Text exposition format, ending with a newline (Pushgateway requires it). */
char *pgr_metrics_format(const struct pgr_metric *m, int n);
bool pgr_metrics_write_file(const char *path, const struct pgr_metric *m, int n, struct pgr_error *err);
/* PUT to <gateway>/metrics/job/<job>, with a timeout. */
bool pgr_metrics_push(const char *gateway, const char *job, const struct pgr_metric *m, int n, int timeout_sec,
                      struct pgr_error *err);

#endif
