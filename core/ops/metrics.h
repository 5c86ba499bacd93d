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

/* The backup job's gauges: the runbook's three plus pgrescue's own. */
#define PGR_BACKUP_METRICS_N 6
struct pgr_backup_metrics {
	bool success;
	time_t attempt_end; /* when this run ended */
	double duration_seconds; /* of this run */
	uint64_t dump_size, base_size; /* this run's, used when it succeeded */
	time_t last_success; /* end of the last successful run before this one (0: unknown) */
	uint64_t last_dump_size, last_base_size; /* that run's sizes */
};
/* Fill out[PGR_BACKUP_METRICS_N]. A failed run reports success 0 while the
 * timestamp and sizes stay those of the last success, so the alert on
 * time() - postgres_backup_timestamp keeps counting. */
void pgr_metrics_backup(const struct pgr_backup_metrics *in, struct pgr_metric *out);
/* The value of the unlabelled sample `name` in a text-format document. */
bool pgr_metrics_parse_value(const char *text, const char *name, double *value);

#endif
