/* Time helpers (see timeutil.h). */
#include "config.h"

#include "base/timeutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

time_t pgr_now(void)
{
	const char *pin = getenv("PGRESCUE_NOW");
	if (pin && *pin) {
		time_t t;
		if (pgr_time_parse(pin, &t, NULL))
			return t;
	}
	return time(NULL);
}

void pgr_time_format_utc(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void pgr_label_format(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y%m%d-%H%M%S", &tm);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool valid_tm(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
		return false;
	if (d > mdays[mo - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(mo == 2 && d == 29 && !leap);
}

static time_t utc_mktime(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

bool pgr_label_parse(const char *s, time_t *out)
{
	int y, mo, d, h, mi, se;
	if (strlen(s) < 15 || s[8] != '-')
		return false;
	if (!digits(s, 4, &y) || !digits(s + 4, 2, &mo) || !digits(s + 6, 2, &d) || !digits(s + 9, 2, &h) ||
	    !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &se))
		return false;
	if (!valid_tm(y, mo, d, h, mi, se))
		return false;
	*out = utc_mktime(y, mo, d, h, mi, se);
	return true;
}

bool pgr_time_parse(const char *s, time_t *out, struct pgr_error *err)
{
	int y, mo, d, h, mi, se = 0;
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (strlen(p) < 16 || !digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !digits(p + 11, 2, &h) ||
	    p[13] != ':' || !digits(p + 14, 2, &mi)) {
		pgr_error_set(err, PGR_ERR_USAGE, "invalid time \"%s\"", s);
		pgr_error_hint(err, "Write it as 2026-01-02T14:30:00Z or 2026-01-02 14:30:00+01:00.");
		return false;
	}
	p += 16;
	if (*p == ':') {
		if (!digits(p + 1, 2, &se)) {
			pgr_error_set(err, PGR_ERR_USAGE, "invalid seconds in time \"%s\"", s);
			return false;
		}
		p += 3;
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (!valid_tm(y, mo, d, h, mi, se)) {
		pgr_error_set(err, PGR_ERR_USAGE, "time \"%s\" is not a valid calendar time", s);
		return false;
	}
	while (*p == ' ')
		p++;
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (strncmp(p, "UTC", 3) == 0 || strncmp(p, "utc", 3) == 0) {
		p += 3;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, oh, om = 0;
		p++;
		if (!digits(p, 2, &oh)) {
			pgr_error_set(err, PGR_ERR_USAGE, "invalid zone offset in time \"%s\"", s);
			pgr_error_hint(err, "Offsets look like +01:00, -0500 or +02.");
			return false;
		}
		p += 2;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p)) {
			if (!digits(p, 2, &om)) {
				pgr_error_set(err, PGR_ERR_USAGE, "invalid zone offset in time \"%s\"", s);
				return false;
			}
			p += 2;
		}
		if (oh > 15 || om > 59) {
			pgr_error_set(err, PGR_ERR_USAGE, "zone offset out of range in time \"%s\"", s);
			return false;
		}
		offset = sign * (oh * 3600L + om * 60L);
	} else if (*p == '\0') {
		pgr_error_set(err, PGR_ERR_USAGE, "time \"%s\" has no time zone", s);
		pgr_error_hint(err,
		               "Add a zone: %s UTC, %sZ or an offset such as +01:00. "
		               "pgrescue never guesses a zone.",
		               s, s);
		return false;
	} else {
		pgr_error_set(err, PGR_ERR_USAGE, "unrecognised time zone in \"%s\"", s);
		pgr_error_hint(err, "Use Z, UTC or a numeric offset such as +01:00.");
		return false;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '\0') {
		pgr_error_set(err, PGR_ERR_USAGE, "unexpected text after time in \"%s\"", s);
		return false;
	}
	*out = utc_mktime(y, mo, d, h, mi, se) - offset;
	return true;
}

bool pgr_duration_parse(const char *s, int64_t *seconds, struct pgr_error *err)
{
	const char *p = s;
	int64_t total = 0;
	bool any = false;
	while (isspace((unsigned char)*p))
		p++;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		char *end;
		long long v = strtoll(p, &end, 10);
		if (v < 0 || v > 100LL * 365 * 86400)
			goto bad;
		p = end;
		int64_t unit;
		switch (*p) {
		case 'd':
			unit = 86400;
			p++;
			break;
		case 'h':
			unit = 3600;
			p++;
			break;
		case 'm':
			unit = 60;
			p++;
			break;
		case 's':
			unit = 1;
			p++;
			break;
		case '\0': unit = 1; break;
		default: goto bad;
		}
		total += (int64_t)v * unit;
		any = true;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (!any)
		goto bad;
	*seconds = total;
	return true;
bad:
	pgr_error_set(err, PGR_ERR_USAGE, "invalid duration \"%s\"", s);
	pgr_error_hint(err, "Durations look like 30d, 24h, 15m, 90s or 1h30m.");
	return false;
}

void pgr_duration_format(int64_t secs, char *buf, size_t n)
{
	const char *sign = "";
	if (secs < 0) {
		sign = "-";
		secs = -secs;
	}
	int64_t d = secs / 86400, h = (secs % 86400) / 3600, m = (secs % 3600) / 60, s = secs % 60;
	if (d > 0)
		snprintf(buf, n, "%s%" PRId64 "d %" PRId64 "h", sign, d, h);
	else if (h > 0)
		snprintf(buf, n, "%s%" PRId64 "h %02" PRId64 "m", sign, h, m);
	else if (m > 0)
		snprintf(buf, n, "%s%" PRId64 "m %02" PRId64 "s", sign, m, s);
	else
		snprintf(buf, n, "%s%" PRId64 "s", sign, s);
}

void pgr_size_format(uint64_t bytes, char *buf, size_t n)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000.0 && u < 5) {
		v /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, n, "%.1f %s", v, units[u]);
}

double pgr_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
