/* Time: UTC labels used in object names, RFC 3339 with explicit zones,
 * and human durations ("24h", "7d", "1h30m"). */
#ifndef PGR_TIMEUTIL_H
#define PGR_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

/* The current time. Tests may pin it with PGRESCUE_NOW=<RFC 3339 time>. */
time_t pgr_now(void);

/* "2026-01-02T14:30:00Z" (buf at least 32 bytes). */
void pgr_time_format_utc(time_t t, char *buf, size_t n);
/* "20260102-143000" (buf at least 16 bytes), the timestamp in store object names. */
void pgr_label_format(time_t t, char *buf, size_t n);
/* Parse exactly "YYYYMMDD-HHMMSS" (UTC). */
bool pgr_label_parse(const char *s, time_t *out);
/* Parse "YYYY-MM-DD[T ]HH:MM:SS[.frac](Z|+HH[:MM]|-HH[:MM]| UTC)". A time without
 * a zone is refused with a hint: each tool assumes a different one. */
bool pgr_time_parse(const char *s, time_t *out, struct pgr_error *err);
/* "30d", "24h", "15m", "90s", "1h30m", or a bare number of seconds. */
bool pgr_duration_parse(const char *s, int64_t *seconds, struct pgr_error *err);
/* "3d 4h", "2h 05m", "4m 10s", "12s". */
void pgr_duration_format(int64_t seconds, char *buf, size_t n);
/* "1.2 GB", "340 kB", "17 B" (decimal units). */
void pgr_size_format(uint64_t bytes, char *buf, size_t n);
/* Monotonic seconds, for measuring durations. */
double pgr_monotonic(void);

#endif
