/* The Prometheus HTTP API, as pure functions: the URLs to ask (instant queries,
 * firing alerts) and the answers parsed from text. No transport here: the
 * collector fetches through its curl multi loop, tests feed recorded answers.
 * A series Prometheus does not have is "not found", never zero. */
#ifndef PGR_PROM_H
#define PGR_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* The runbook's metrics pgrescue reads from Prometheus. */
enum pgr_prom_metric {
	PGR_PM_BACKUP_SUCCESS = 0,
	PGR_PM_BACKUP_TIMESTAMP,
	PGR_PM_BACKUP_SIZE,
	PGR_PM_RESTORE_SUCCESS,
	PGR_PM_RESTORE_TIMESTAMP,
	PGR_PM_RESTORE_DURATION,
	PGR_PM_RESTORE_CLIP_COUNT,
	PGR_PM_RESTORE_USER_COUNT,
	PGR_PM_STORAGE_USED,
	PGR_PM_STORAGE_TOTAL,
	PGR_PM_N
};
/* "postgres_backup_success" ... the metric's name as the deployment pushes it. */
const char *pgr_prom_metric_name(enum pgr_prom_metric m);
/* The PromQL asked for a metric: an aggregation over its series, so several
 * pushers (jobs, instances) give one answer: min() of a success flag (one
 * failure counts), max() of the others. */
const char *pgr_prom_metric_query(enum pgr_prom_metric m);

/* <base>/api/v1/query?query=<percent-encoded promql>; base may end in '/' and
 * carry a path prefix. Newly allocated. */
char *pgr_prom_query_url(const char *base, const char *promql);
/* <base>/api/v1/alerts. Newly allocated. */
char *pgr_prom_alerts_url(const char *base);
/* Percent-encode everything but RFC 3986 unreserved characters. Newly allocated. */
char *pgr_prom_urlencode(const char *s);
/* A URL with any user:password@ replaced by "***@", for messages. Newly allocated. */
char *pgr_prom_redact_url(const char *url);

/* An instant query's answer (resultType vector or scalar). *found is false when
 * the vector is empty (the series is missing); otherwise *value is the first
 * sample's value (a string in the answer: "NaN" and "+Inf" parse as such) and
 * *sample_time its time. *n_series (may be NULL) receives the vector's length.
 * False with a clear error for error answers (errorType: error) and for text
 * that is not a Prometheus answer. `what` names the query in messages. */
bool pgr_prom_parse_query(const char *text, size_t len, const char *what, bool *found, double *value,
                          double *sample_time, int *n_series, struct pgr_error *err);

/* /api/v1/alerts: the distinct names of alerts in state "firing" ("pending"
 * ones have not fired yet). *names is xmalloc'd (free() it), *n its length. */
bool pgr_prom_parse_alerts(const char *text, size_t len, char (**names)[64], int *n, struct pgr_error *err);

#endif
