/* Diagnostics to stderr, with levels, and redaction of secrets before
 * anything reaches a log line, an audit record or the screen. */
#ifndef PGR_LOG_H
#define PGR_LOG_H

#include <stdbool.h>

enum pgr_loglevel { PGR_LOG_ERROR = 0, PGR_LOG_WARN, PGR_LOG_INFO, PGR_LOG_DEBUG };

void pgr_log_set_level(enum pgr_loglevel level);
enum pgr_loglevel pgr_log_level(void);
void pgr_log(enum pgr_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pgr_warn(...) pgr_log(PGR_LOG_WARN, __VA_ARGS__)
#define pgr_info(...) pgr_log(PGR_LOG_INFO, __VA_ARGS__)
#define pgr_debug(...) pgr_log(PGR_LOG_DEBUG, __VA_ARGS__)

/* A copy of a libpq connection string with any password replaced by "********"
 * (key=value form and postgresql:// URIs). Free with free(). */
char *pgr_redact_conninfo(const char *conninfo);

#endif
