/* pg_waldump as pgrescue runs it. See waldump.h. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"
#include "source/waldump.h"

const char *const pgr_waldump_env[] = {"TZ=UTC", "LC_ALL=C", NULL};

char *pgr_waldump_path(const char *pg_bindir)
{
	return xasprintf("%s/pg_waldump", pg_bindir && *pg_bindir ? pg_bindir : ".");
}

bool pgr_waldump_commit_time(const char *desc, time_t *t, int *usec)
{
	/* "COMMIT 2026-11-24 06:36:11.760091 UTC" or "COMMIT_PREPARED 740: 2026-..." */
	const char *p = desc;
	for (; *p && *p != ';'; p++) {
		if (p[0] < '0' || p[0] > '9')
			continue;
		size_t n = 0;
		while (n < 19 && p[n])
			n++;
		if (n < 19)
			return false;
		if (p[4] == '-' && p[7] == '-' && p[10] == ' ' && p[13] == ':' && p[16] == ':')
			break;
	}
	if (!*p || *p == ';')
		return false;
	int Y, M, D, h, m, s;
	if (sscanf(p, "%4d-%2d-%2d %2d:%2d:%2d", &Y, &M, &D, &h, &m, &s) != 6)
		return false;
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = s};
	*t = timegm(&tm);
	int us = 0;
	if (p[19] == '.') {
		const char *q = p + 20;
		int digits = 0;
		while (*q >= '0' && *q <= '9' && digits < 6) {
			us = us * 10 + (*q - '0');
			q++;
			digits++;
		}
		while (digits++ < 6)
			us *= 10;
	}
	if (usec)
		*usec = us;
	return true;
}
