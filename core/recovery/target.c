/* Point-in-time recovery targets: what the engineer typed (a time must carry
 * its zone), said back in UTC, the database's zone and local time, checked
 * against the recoverable window and turned into recovery_target_* settings.
 * Named zones are read from the tz database files here, never by changing TZ:
 * other threads (the collector, libpq) read the environment meanwhile. */
#include "config.h"

#include "recovery/target.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "storage/layout.h"

#define DAYSECS INT64_C(86400)

/* ------------------------------------------------------------ calendar */

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t year_of(int64_t secs)
{
	int64_t z = floor_div(secs, DAYSECS) + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	return yoe + era * 400 + (m <= 2);
}

/* ------------------------------------------------------------ zones */

struct ttype {
	int32_t off; /* seconds east of UTC */
	bool dst;
	char abbr[16];
};

/* One end of a POSIX TZ daylight-saving rule. */
struct rule_date {
	char kind; /* 'J': Julian day 1..365 without Feb 29; 'D': day 0..365; 'M': month.week.weekday */
	int n, m, w, d;
	int32_t secs; /* local time of day of the change */
};

struct posix_tz {
	struct ttype std, dst;
	bool has_dst;
	struct rule_date start, end;
};

struct zone {
	bool local; /* this process's own zone, through localtime_r */
	int64_t *trans;
	unsigned char *tidx;
	size_t ntrans;
	struct ttype types[256];
	size_t ntypes;
	bool has_tz; /* the footer rule, for times after the last transition */
	struct posix_tz tz;
};

static void zone_free(struct zone *z)
{
	free(z->trans);
	free(z->tidx);
	z->trans = NULL;
	z->tidx = NULL;
	z->ntrans = 0;
}

static const char *tz_name(const char *p, char *out, size_t n)
{
	size_t k = 0;
	if (*p == '<') {
		p++;
		while (*p && *p != '>') {
			if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-')
				return NULL;
			if (k + 1 < n)
				out[k++] = *p;
			p++;
		}
		if (*p != '>')
			return NULL;
		p++;
	} else {
		while (isalpha((unsigned char)*p)) {
			if (k + 1 < n)
				out[k++] = *p;
			p++;
		}
	}
	out[k] = '\0';
	return k >= 3 ? p : NULL;
}

/* [+-]h[hh][:mm[:ss]] as seconds. */
static const char *tz_hms(const char *p, int32_t *secs, int max_hours)
{
	int sign = 1;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return NULL;
	int h = 0, m = 0, s = 0, nd = 0;
	while (isdigit((unsigned char)*p) && nd < 3) {
		h = h * 10 + (*p++ - '0');
		nd++;
	}
	if (h > max_hours)
		return NULL;
	for (int part = 0; part < 2 && *p == ':'; part++) {
		p++;
		if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
			return NULL;
		int v = (p[0] - '0') * 10 + (p[1] - '0');
		if (v > 59)
			return NULL;
		if (part == 0)
			m = v;
		else
			s = v;
		p += 2;
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *tz_date(const char *p, struct rule_date *r)
{
	memset(r, 0, sizeof(*r));
	char *end;
	if (*p == 'M') {
		r->kind = 'M';
		r->m = (int)strtol(p + 1, &end, 10);
		if (end == p + 1 || *end != '.' || r->m < 1 || r->m > 12)
			return NULL;
		p = end + 1;
		r->w = (int)strtol(p, &end, 10);
		if (end == p || *end != '.' || r->w < 1 || r->w > 5)
			return NULL;
		p = end + 1;
		r->d = (int)strtol(p, &end, 10);
		if (end == p || r->d < 0 || r->d > 6)
			return NULL;
		p = end;
	} else if (*p == 'J') {
		r->kind = 'J';
		r->n = (int)strtol(p + 1, &end, 10);
		if (end == p + 1 || r->n < 1 || r->n > 365)
			return NULL;
		p = end;
	} else if (isdigit((unsigned char)*p)) {
		r->kind = 'D';
		r->n = (int)strtol(p, &end, 10);
		if (r->n > 365)
			return NULL;
		p = end;
	} else {
		return NULL;
	}
	r->secs = 2 * 3600;
	if (*p == '/')
		p = tz_hms(p + 1, &r->secs, 167);
	return p;
}

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" or "<+03>-3". */
static bool tz_parse(const char *s, struct posix_tz *tz)
{
	memset(tz, 0, sizeof(*tz));
	int32_t v;
	const char *p = tz_name(s, tz->std.abbr, sizeof(tz->std.abbr));
	if (!p || !(p = tz_hms(p, &v, 24)))
		return false;
	tz->std.off = -v; /* POSIX counts west of Greenwich as positive */
	if (!*p)
		return true;
	if (!(p = tz_name(p, tz->dst.abbr, sizeof(tz->dst.abbr))))
		return false;
	tz->has_dst = true;
	tz->dst.dst = true;
	tz->dst.off = tz->std.off + 3600;
	if (*p && *p != ',') {
		if (!(p = tz_hms(p, &v, 24)))
			return false;
		tz->dst.off = -v;
	}
	if (!*p) { /* no rule: the POSIX default, as the C library does */
		tz->start = (struct rule_date){'M', 0, 3, 2, 0, 7200};
		tz->end = (struct rule_date){'M', 0, 11, 1, 0, 7200};
		return true;
	}
	if (*p != ',' || !(p = tz_date(p + 1, &tz->start)) || *p != ',' || !(p = tz_date(p + 1, &tz->end)))
		return false;
	return *p == '\0';
}

/* Local midnight (as seconds since the epoch, read as UTC) of a rule's day. */
static int64_t rule_day(int64_t y, const struct rule_date *r)
{
	int64_t jan1 = days_from_civil(y, 1, 1);
	switch (r->kind) {
	case 'J': return (jan1 + r->n - 1 + (is_leap(y) && r->n >= 60)) * DAYSECS;
	case 'D': return (jan1 + r->n) * DAYSECS;
	default: break;
	}
	int64_t first = days_from_civil(y, r->m, 1);
	int dow = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	int day = 1 + ((r->d - dow) % 7 + 7) % 7 + 7 * (r->w - 1);
	while (day > month_days(y, r->m))
		day -= 7;
	return (first + day - 1) * DAYSECS;
}

static struct ttype tz_at(const struct posix_tz *tz, int64_t t)
{
	if (!tz->has_dst)
		return tz->std;
	int64_t y = year_of(t + tz->std.off);
	int64_t start = rule_day(y, &tz->start) + tz->start.secs - tz->std.off;
	int64_t end = rule_day(y, &tz->end) + tz->end.secs - tz->dst.off;
	bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
	return dst ? tz->dst : tz->std;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* A TZif file (RFC 8536), version 1 to 4: the 64-bit block when there is one,
 * and its footer rule for the times after the last transition. */
static bool tzif_parse(const unsigned char *buf, size_t len, struct zone *z)
{
	if (len < 44 || memcmp(buf, "TZif", 4) != 0)
		return false;
	bool v2 = buf[4] >= '2';
	size_t off = 0, tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		if (off + 44 > len || memcmp(buf + off, "TZif", 4) != 0)
			return false;
		const unsigned char *h = buf + off;
		size_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), timecnt = be32(h + 32),
		       typecnt = be32(h + 36), charcnt = be32(h + 40);
		if (timecnt > 100000 || typecnt > 256 || charcnt > 1024 || leap > 10000 || isut > 256 || isstd > 256)
			return false;
		size_t data = timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
		if (off + 44 + data > len)
			return false;
		if (pass == 0 && v2) {
			off += 44 + data;
			tsize = 8;
			continue;
		}
		/* Leap-second zones ("right/...") count seconds differently: refused. */
		if (typecnt < 1 || leap > 0)
			return false;
		const unsigned char *p = h + 44;
		z->trans = xcalloc(timecnt + 1, sizeof(*z->trans));
		z->tidx = xcalloc(timecnt + 1, 1);
		z->ntrans = timecnt;
		for (size_t i = 0; i < timecnt; i++)
			z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		p += timecnt * tsize;
		for (size_t i = 0; i < timecnt; i++) {
			if (p[i] >= typecnt)
				return false;
			z->tidx[i] = p[i];
		}
		p += timecnt;
		const unsigned char *chars = p + typecnt * 6;
		z->ntypes = typecnt;
		for (size_t i = 0; i < typecnt; i++) {
			const unsigned char *tt = p + i * 6;
			z->types[i].off = (int32_t)be32(tt);
			z->types[i].dst = tt[4] != 0;
			size_t ai = tt[5], k = 0;
			if (ai >= charcnt)
				return false;
			while (ai + k < charcnt && chars[ai + k] && k + 1 < sizeof(z->types[i].abbr)) {
				z->types[i].abbr[k] = (char)chars[ai + k];
				k++;
			}
			z->types[i].abbr[k] = '\0';
		}
		off += 44 + data;
		break;
	}
	if (v2 && off < len && buf[off] == '\n') {
		const unsigned char *nl = memchr(buf + off + 1, '\n', len - off - 1);
		if (nl && nl > buf + off + 1 && (size_t)(nl - buf - off - 1) < 128) {
			char rule[128];
			size_t n = (size_t)(nl - buf - off - 1);
			memcpy(rule, buf + off + 1, n);
			rule[n] = '\0';
			z->has_tz = tz_parse(rule, &z->tz);
		}
	}
	return true;
}

/* A zone name that can only name a file under the zone directory. */
static bool zone_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 200 || name[0] == '/' || name[0] == '.' || strstr(name, "..") || strstr(name, "//"))
		return false;
	bool letter = false;
	for (const char *p = name; *p; p++) {
		if (isalpha((unsigned char)*p))
			letter = true;
		else if (!isdigit((unsigned char)*p) && !strchr("/_+-.", *p))
			return false;
	}
	return letter;
}

/* Load a zone by its tz database name ($TZDIR, else /usr/share/zoneinfo). */
static bool zone_load(const char *name, struct zone *z)
{
	memset(z, 0, sizeof(*z));
	if (!zone_name_ok(name))
		return false;
	const char *dir = getenv("TZDIR");
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return false;
	size_t cap = 1 << 20, len = 0;
	unsigned char *buf = xmalloc(cap);
	size_t got;
	while (len < cap && (got = fread(buf + len, 1, cap - len, f)) > 0)
		len += got;
	bool bad = ferror(f) != 0;
	fclose(f);
	bool ok = !bad && tzif_parse(buf, len, z);
	free(buf);
	if (!ok)
		zone_free(z);
	return ok;
}

static struct ttype zone_at(const struct zone *z, int64_t t)
{
	struct ttype r = {0};
	if (z->local) {
		time_t tt = (time_t)t;
		struct tm tm;
		if (localtime_r(&tt, &tm)) {
			r.off = (int32_t)tm.tm_gmtoff;
			r.dst = tm.tm_isdst > 0;
			snprintf(r.abbr, sizeof(r.abbr), "%s", tm.tm_zone ? tm.tm_zone : "");
		}
		return r;
	}
	if (z->ntrans == 0)
		return z->has_tz ? tz_at(&z->tz, t) : z->types[0];
	if (t < z->trans[0])
		return z->types[0];
	if (t >= z->trans[z->ntrans - 1])
		return z->has_tz ? tz_at(&z->tz, t) : z->types[z->tidx[z->ntrans - 1]];
	size_t lo = 0, hi = z->ntrans - 1; /* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->types[z->tidx[lo]];
}

/* The instants whose wall-clock time in z is `wall` (seconds since the epoch
 * read as UTC): none in a gap when clocks jump forward, two in the hour that
 * repeats when they go back. Returns how many (at most 2, earliest first). */
static int zone_resolve(const struct zone *z, int64_t wall, int64_t out[2])
{
	int32_t offs[32];
	int noffs = 0;
	for (int k = -9; k <= 9; k++) {
		int32_t o = zone_at(z, wall + k * 3 * 3600).off;
		bool seen = false;
		for (int i = 0; i < noffs && !seen; i++)
			seen = offs[i] == o;
		if (!seen && noffs < 32)
			offs[noffs++] = o;
	}
	int64_t c[32];
	int nc = 0;
	for (int i = 0; i < noffs; i++)
		if (zone_at(z, wall - offs[i]).off == offs[i])
			c[nc++] = wall - offs[i];
	for (int a = 1; a < nc; a++)
		for (int b = a; b > 0 && c[b - 1] > c[b]; b--) {
			int64_t x = c[b];
			c[b] = c[b - 1];
			c[b - 1] = x;
		}
	if (nc == 0)
		return 0;
	out[0] = c[0];
	if (nc == 1)
		return 1;
	out[1] = c[nc - 1];
	return 2;
}

/* The name of this machine's zone: $TZ, else what /etc/localtime links to;
 * "" when neither says. */
static void local_zone_name(char *buf, size_t n)
{
	buf[0] = '\0';
	const char *tz = getenv("TZ");
	char link[512];
	if (tz && *tz) {
		if (*tz == ':')
			tz++;
	} else {
		ssize_t k = readlink("/etc/localtime", link, sizeof(link) - 1);
		if (k <= 0)
			return;
		link[k] = '\0';
		tz = link;
	}
	const char *zi = strstr(tz, "zoneinfo/");
	const char *name = zi ? zi + strlen("zoneinfo/") : tz;
	size_t k = strlen(name);
	if (k >= n)
		k = n - 1;
	memcpy(buf, name, k);
	buf[k] = '\0';
}

/* ------------------------------------------------------------ formatting */

static void fmt_offset(int32_t off, char *buf, size_t n)
{
	char sign = off < 0 ? '-' : '+';
	int32_t a = off < 0 ? -off : off;
	if (a % 60)
		snprintf(buf, n, "%c%02d:%02d:%02d", sign, (int)(a / 3600), (int)(a / 60 % 60), (int)(a % 60));
	else
		snprintf(buf, n, "%c%02d:%02d", sign, (int)(a / 3600), (int)(a / 60 % 60));
}

/* ".5", ".123456" or "" for the microseconds, without trailing zeros. */
static void fmt_frac(int usec, char *buf, size_t n)
{
	buf[0] = '\0';
	if (usec <= 0)
		return;
	char tmp[8];
	snprintf(tmp, sizeof(tmp), "%06d", usec % 1000000);
	size_t k = strlen(tmp);
	while (k > 1 && tmp[k - 1] == '0')
		tmp[--k] = '\0';
	snprintf(buf, n, ".%s", tmp);
}

/* "2026-11-24 03:12:00.5" for seconds since the epoch read as UTC. */
static void fmt_wall(int64_t secs, int usec, char *buf, size_t n)
{
	time_t tt = (time_t)secs;
	struct tm tm;
	char frac[16];
	gmtime_r(&tt, &tm);
	fmt_frac(usec, frac, sizeof(frac));
	snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, frac);
}

static void fmt_utc(time_t t, int usec, char *buf, size_t n)
{
	char w[48];
	fmt_wall(t, usec, w, sizeof(w));
	snprintf(buf, n, "%s UTC", w);
}

/* "CET +01:00", or just "+04:00" where the zone's abbreviation is numeric. */
static void fmt_zone_of(const struct ttype *tt, char *buf, size_t n)
{
	char o[16];
	fmt_offset(tt->off, o, sizeof(o));
	if (tt->abbr[0] && tt->abbr[0] != '+' && tt->abbr[0] != '-')
		snprintf(buf, n, "%s %s", tt->abbr, o);
	else
		snprintf(buf, n, "%s", o);
}

/* ------------------------------------------------------------ parsing */

static bool ndigits(const char *s, int n, int *out)
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

static const char *const month_names[] = {"January", "February", "March",     "April",   "May",      "June",
                                          "July",    "August",   "September", "October", "November", "December"};

static bool time_syntax_error(const char *s, struct pgr_error *err)
{
	pgr_error_set(err, PGR_ERR_USAGE, "invalid recovery target time \"%s\"", s);
	pgr_error_hint(err,
	               "Write it with its zone: 2026-11-24 03:12:00+01:00, 2026-11-24T03:12:00Z or "
	               "2026-11-24 03:12:00 Europe/Berlin.");
	return false;
}

/* Names of zones that mean UTC. */
static bool is_utc_name(const char *z)
{
	static const char *const names[] = {"UTC", "GMT", "UCT", "Zulu", "Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Zulu"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(z, names[i]) == 0)
			return true;
	return false;
}

/* "CET", "EST", "CEST", "PST8PDT": abbreviations say different things to
 * different people (CET is a zone with summer time in the tz database). */
static bool looks_like_abbreviation(const char *z)
{
	if (strchr(z, '/'))
		return false;
	for (const char *p = z; *p; p++)
		if (islower((unsigned char)*p))
			return false;
	return true;
}

static bool parse_time(const char *s, struct pgr_target *t, struct pgr_error *err)
{
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	const char *wall_start = p;
	int y, mo, d, h, mi, se = 0, usec = 0;
	if (!ndigits(p, 4, &y) || p[4] != '-' || !ndigits(p + 5, 2, &mo) || p[7] != '-' || !ndigits(p + 8, 2, &d) ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !ndigits(p + 11, 2, &h) || p[13] != ':' ||
	    !ndigits(p + 14, 2, &mi))
		return time_syntax_error(s, err);
	p += 16;
	if (*p == ':') {
		if (!ndigits(p + 1, 2, &se))
			return time_syntax_error(s, err);
		p += 3;
		if (*p == '.') {
			p++;
			int nd = 0;
			while (isdigit((unsigned char)*p)) {
				if (nd < 6)
					usec = usec * 10 + (*p - '0');
				nd++;
				p++;
			}
			if (nd == 0)
				return time_syntax_error(s, err);
			if (nd > 6) {
				pgr_error_set(err, PGR_ERR_USAGE,
				              "recovery target time \"%s\" has more than six decimals", s);
				pgr_error_hint(err,
				               "PostgreSQL keeps times to the microsecond: give at most six digits "
				               "after the seconds.");
				return false;
			}
			for (int k = nd; k < 6; k++)
				usec *= 10;
		}
	}
	size_t wall_len = (size_t)(p - wall_start);

	if (mo < 1 || mo > 12) {
		pgr_error_set(err, PGR_ERR_USAGE,
		              "recovery target time \"%s\" is not a valid date: there is no month %d", s, mo);
		return false;
	}
	if (d < 1 || d > month_days(y, mo)) {
		pgr_error_set(err, PGR_ERR_USAGE, "recovery target time \"%s\" is not a valid date: %s %d has %d days",
		              s, month_names[mo - 1], y, month_days(y, mo));
		return false;
	}
	if (h > 23 || mi > 59 || se > 59) {
		pgr_error_set(err, PGR_ERR_USAGE,
		              "recovery target time \"%s\" is not a valid time of day: %02d:%02d:%02d is out of range",
		              s, h, mi, se);
		pgr_error_hint(err, "Hours run from 00 to 23, minutes and seconds from 00 to 59.");
		return false;
	}
	if (y < 1970) {
		pgr_error_set(err, PGR_ERR_USAGE, "recovery target time \"%s\" is before 1970", s);
		return false;
	}
	int64_t wall = days_from_civil(y, mo, d) * DAYSECS + h * 3600 + mi * 60 + se;

	const char *q = p;
	while (isspace((unsigned char)*q))
		q++;
	const char *zend = q + strlen(q);
	while (zend > q && isspace((unsigned char)zend[-1]))
		zend--;
	size_t zlen = (size_t)(zend - q);

	if (zlen == 0) {
		/* The same wall-clock time in this machine's zone, as a suggestion. */
		struct zone local = {.local = true};
		int64_t c[2];
		int32_t off = zone_resolve(&local, wall, c) > 0 ? zone_at(&local, c[0]).off : zone_at(&local, wall).off;
		char o[16], zname[256];
		fmt_offset(off, o, sizeof(o));
		local_zone_name(zname, sizeof(zname));
		if (!zname[0])
			snprintf(zname, sizeof(zname), "%s", zone_at(&local, wall - off).abbr);
		pgr_error_set(err, PGR_ERR_USAGE,
		              "recovery target time \"%s\" has no time zone: a recovery target time needs one", s);
		pgr_error_detail(err,
		                 "PostgreSQL would read it in the server's TimeZone setting, which need not be "
		                 "yours, this machine's or UTC; pgrescue never guesses a zone.");
		pgr_error_hint(err, "Did you mean \"%.*s%s\" (this machine's zone, %s) or \"%.*sZ\"?", (int)wall_len,
		               wall_start, o, zname, (int)wall_len, wall_start);
		return false;
	}

	int64_t utc;
	char zone[256];
	if (zlen >= sizeof(zone))
		return time_syntax_error(s, err);
	memcpy(zone, q, zlen);
	zone[zlen] = '\0';

	if (zlen == 1 && (zone[0] == 'Z' || zone[0] == 'z')) {
		utc = wall;
	} else if (zone[0] == '+' || zone[0] == '-') {
		int sign = zone[0] == '-' ? -1 : 1, oh, om = 0;
		const char *z = zone + 1;
		bool ok = ndigits(z, 2, &oh);
		z += 2;
		if (ok && *z == ':') {
			ok = ndigits(z + 1, 2, &om);
			z += 3;
		} else if (ok && isdigit((unsigned char)*z)) {
			ok = ndigits(z, 2, &om);
			z += 2;
		}
		if (!ok || *z != '\0') {
			pgr_error_set(err, PGR_ERR_USAGE, "invalid zone offset \"%s\" in recovery target time \"%s\"",
			              zone, s);
			pgr_error_hint(err, "Offsets look like +01:00, +0100, -05 or +05:30.");
			return false;
		}
		if (oh > 15 || om > 59) {
			pgr_error_set(err, PGR_ERR_USAGE,
			              "zone offset \"%s\" in recovery target time \"%s\" is out of range", zone, s);
			pgr_error_hint(err, "Offsets run from -15:59 to +15:59.");
			return false;
		}
		utc = wall - sign * (oh * 3600 + om * 60);
	} else if (is_utc_name(zone)) {
		utc = wall;
	} else if (p == q) {
		return time_syntax_error(s, err); /* a name glued to the seconds */
	} else if (zone_name_ok(zone) && looks_like_abbreviation(zone)) {
		pgr_error_set(err, PGR_ERR_USAGE,
		              "time zone abbreviation \"%s\" in recovery target time \"%s\" is ambiguous", zone, s);
		pgr_error_hint(err,
		               "Write the offset it stands for, as in \"%.*s+HH:MM\", or a zone name such as "
		               "Europe/Berlin or America/New_York.",
		               (int)wall_len, wall_start);
		return false;
	} else {
		struct zone z;
		if (!zone_load(zone, &z)) {
			pgr_error_set(err, PGR_ERR_USAGE, "unknown time zone \"%s\" in recovery target time \"%s\"",
			              zone, s);
			pgr_error_hint(err,
			               "Zones are tz database names such as Europe/Berlin or America/New_York (see "
			               "%s), or give an offset such as +01:00.",
			               getenv("TZDIR") && *getenv("TZDIR") ? getenv("TZDIR") : "/usr/share/zoneinfo");
			return false;
		}
		int64_t c[2];
		int n = zone_resolve(&z, wall, c);
		if (n == 1) {
			utc = c[0];
		} else if (n == 0) {
			struct ttype before = zone_at(&z, wall - DAYSECS), after = zone_at(&z, wall + DAYSECS);
			char ob[16], oa[16];
			fmt_offset(before.off, ob, sizeof(ob));
			fmt_offset(after.off, oa, sizeof(oa));
			pgr_error_set(err, PGR_ERR_USAGE,
			              "recovery target time \"%s\" does not exist: clocks in %s skip it when %s (%s) "
			              "changes to %s (%s)",
			              s, zone, before.abbr, ob, after.abbr, oa);
			pgr_error_hint(err, "Give the offset you mean: \"%.*s%s\" or \"%.*s%s\".", (int)wall_len,
			               wall_start, ob, (int)wall_len, wall_start, oa);
			zone_free(&z);
			return false;
		} else {
			struct ttype first = zone_at(&z, c[0]), second = zone_at(&z, c[1]);
			char o1[16], o2[16];
			fmt_offset(first.off, o1, sizeof(o1));
			fmt_offset(second.off, o2, sizeof(o2));
			pgr_error_set(
			        err, PGR_ERR_USAGE,
			        "recovery target time \"%s\" is ambiguous: it happens twice in %s, first in %s (%s), "
			        "then in %s (%s)",
			        s, zone, first.abbr, o1, second.abbr, o2);
			pgr_error_hint(err,
			               "Give the offset you mean: \"%.*s%s\" (the first) or \"%.*s%s\" (the second).",
			               (int)wall_len, wall_start, o1, (int)wall_len, wall_start, o2);
			zone_free(&z);
			return false;
		}
		zone_free(&z);
	}
	t->time = (time_t)utc;
	t->usec = usec;
	return true;
}

static bool parse_xid(const char *s, struct pgr_target *t, struct pgr_error *err)
{
	const char *p = s;
	uint64_t v = 0;
	bool overflow = false;
	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned dgt = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			overflow = true;
		v = v * 10 + dgt;
	}
	if (*p != '\0')
		goto bad;
	if (overflow) {
		pgr_error_set(err, PGR_ERR_USAGE, "transaction ID \"%s\" is too large", s);
		pgr_error_hint(err, "Transaction IDs fit in 64 bits (an epoch-extended ID from txid_current()) or 32.");
		return false;
	}
	if ((uint32_t)v < 3) {
		pgr_error_set(err, PGR_ERR_USAGE, "\"%s\" is not a normal transaction ID", s);
		pgr_error_hint(err, "IDs 0, 1 and 2 are reserved by PostgreSQL; ordinary transactions start at 3.");
		return false;
	}
	t->xid = v;
	return true;
bad:
	pgr_error_set(err, PGR_ERR_USAGE, "invalid transaction ID \"%s\"", s);
	pgr_error_hint(err,
	               "A transaction ID is a decimal number such as 1234, as txid_current() or pg_waldump shows it.");
	return false;
}

static bool parse_lsn(const char *s, struct pgr_target *t, struct pgr_error *err)
{
	uint64_t lsn;
	if (!pgr_lsn_parse(s, &lsn)) {
		pgr_error_set(err, PGR_ERR_USAGE, "invalid LSN \"%s\"", s);
		pgr_error_hint(err,
		               "An LSN is two hexadecimal numbers separated by a slash, such as 0/16B3D48, as "
		               "pg_current_wal_lsn() or pg_waldump shows it.");
		return false;
	}
	if (lsn == 0) {
		pgr_error_set(err, PGR_ERR_USAGE, "LSN \"%s\" is the invalid LSN 0/0", s);
		return false;
	}
	t->lsn = lsn;
	return true;
}

static bool parse_name(const char *s, struct pgr_target *t, struct pgr_error *err)
{
	size_t n = strlen(s);
	if (n >= sizeof(t->name)) {
		pgr_error_set(err, PGR_ERR_USAGE, "restore point name \"%s\" is %zu bytes long", s, n);
		pgr_error_hint(err, "PostgreSQL restore point names are at most %zu bytes.", sizeof(t->name) - 1);
		return false;
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '"') {
			pgr_error_set(err, PGR_ERR_USAGE, "restore point name \"%s\" contains a %s", s,
			              c == '\'' || c == '"' ? "quote" : "control character");
			pgr_error_hint(err,
			               "Give the name as pg_create_restore_point() was called with, without quotes.");
			return false;
		}
	}
	memcpy(t->name, s, n + 1);
	return true;
}

bool pgr_target_parse(const char *kind_opt, const char *value, struct pgr_target *t, struct pgr_error *err)
{
	static const struct {
		const char *opt;
		enum pgr_target_kind kind;
		const char *example;
	} kinds[] = {
	        {"time", PGR_TARGET_TIME, "2026-11-24 03:12:00+01:00"},
	        {"xid", PGR_TARGET_XID, "1234"},
	        {"lsn", PGR_TARGET_LSN, "0/16B3D48"},
	        {"name", PGR_TARGET_NAME, "before-migration"},
	        {"immediate", PGR_TARGET_IMMEDIATE, NULL},
	};
	memset(t, 0, sizeof(*t));
	t->inclusive = true;
	size_t k = 0, nk = sizeof(kinds) / sizeof(kinds[0]);
	while (k < nk && (!kind_opt || strcmp(kind_opt, kinds[k].opt) != 0))
		k++;
	if (k == nk) {
		pgr_error_set(err, PGR_ERR_USAGE, "unknown recovery target kind \"%s\"", kind_opt ? kind_opt : "");
		pgr_error_hint(err, "Give one of --time, --xid, --lsn, --name or --immediate.");
		return false;
	}
	t->kind = kinds[k].kind;
	if (t->kind == PGR_TARGET_IMMEDIATE) {
		if (value && *value) {
			pgr_error_set(err, PGR_ERR_USAGE, "--immediate takes no value (got \"%s\")", value);
			pgr_error_hint(err, "--immediate stops as soon as the base backup is consistent.");
			return false;
		}
		return true;
	}
	if (!value || !*value) {
		pgr_error_set(err, PGR_ERR_USAGE, "--%s needs a value", kinds[k].opt);
		pgr_error_hint(err, "For example --%s '%s'.", kinds[k].opt, kinds[k].example);
		return false;
	}
	switch (t->kind) {
	case PGR_TARGET_TIME: return parse_time(value, t, err);
	case PGR_TARGET_XID: return parse_xid(value, t, err);
	case PGR_TARGET_LSN: return parse_lsn(value, t, err);
	case PGR_TARGET_NAME: return parse_name(value, t, err);
	case PGR_TARGET_IMMEDIATE: break;
	}
	return true;
}

/* ------------------------------------------------------------ text */

/* A postgresql.conf string literal: quotes doubled, backslashes escaped
 * (the configuration file reader treats a backslash as an escape). */
static void conf_quote(struct strbuf *sb, const char *s)
{
	sb_append(sb, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_append(sb, "''");
		else if (*p == '\\')
			sb_append(sb, "\\\\");
		else
			sb_append_len(sb, p, 1);
	}
	sb_append(sb, "'");
}

static void conf_line(struct strbuf *sb, const char *key, const char *value)
{
	sb_printf(sb, "%s = ", key);
	conf_quote(sb, value);
	sb_append(sb, "\n");
}

char *pgr_target_settings(const struct pgr_target *t)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[64];
	switch (t->kind) {
	case PGR_TARGET_TIME: {
		time_t tt = t->time;
		struct tm tm;
		gmtime_r(&tt, &tm);
		char frac[16] = "";
		if (t->usec > 0)
			snprintf(frac, sizeof(frac), ".%06d", t->usec % 1000000);
		snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d%s+00", tm.tm_year + 1900, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		conf_line(&sb, "recovery_target_time", buf);
		break;
	}
	case PGR_TARGET_XID:
		snprintf(buf, sizeof(buf), "%" PRIu64, t->xid);
		conf_line(&sb, "recovery_target_xid", buf);
		break;
	case PGR_TARGET_LSN:
		pgr_lsn_format(t->lsn, buf, sizeof(buf));
		conf_line(&sb, "recovery_target_lsn", buf);
		break;
	case PGR_TARGET_NAME: conf_line(&sb, "recovery_target_name", t->name); break;
	case PGR_TARGET_IMMEDIATE: conf_line(&sb, "recovery_target", "immediate"); break;
	}
	/* PostgreSQL applies recovery_target_inclusive to time, xid and LSN only. */
	if (!t->inclusive && t->kind != PGR_TARGET_IMMEDIATE && t->kind != PGR_TARGET_NAME)
		conf_line(&sb, "recovery_target_inclusive", "false");
	return sb_steal(&sb);
}

char *pgr_target_describe(const struct pgr_target *t)
{
	const char *incl = t->inclusive ? "inclusive" : "exclusive";
	char buf[64];
	switch (t->kind) {
	case PGR_TARGET_TIME: fmt_utc(t->time, t->usec, buf, sizeof(buf)); return xasprintf("time %s (%s)", buf, incl);
	case PGR_TARGET_XID: return xasprintf("xid %" PRIu64 " (%s)", t->xid, incl);
	case PGR_TARGET_LSN: pgr_lsn_format(t->lsn, buf, sizeof(buf)); return xasprintf("lsn %s (%s)", buf, incl);
	case PGR_TARGET_NAME: return xasprintf("restore point \"%s\"", t->name);
	case PGR_TARGET_IMMEDIATE:
		return xstrdup("immediate (the end of the base backup, the earliest consistent point)");
	}
	return xstrdup("?");
}

static void echo_line(struct strbuf *sb, const char *label, const struct zone *z, const struct pgr_target *t,
                      const char *name)
{
	struct ttype tt = zone_at(z, t->time);
	char w[48], zs[48];
	fmt_wall((int64_t)t->time + tt.off, t->usec, w, sizeof(w));
	fmt_zone_of(&tt, zs, sizeof(zs));
	sb_printf(sb, "%-11s%s %s", label, w, zs);
	if (name && *name)
		sb_printf(sb, " (%s)", name);
	sb_append(sb, "\n");
}

char *pgr_target_time_echo(const struct pgr_target *t, const char *db_zone)
{
	if (t->kind != PGR_TARGET_TIME)
		return xstrdup("");
	struct strbuf sb = STRBUF_INIT;
	char w[64];
	fmt_utc(t->time, t->usec, w, sizeof(w));
	sb_printf(&sb, "%-11s%s\n", "UTC", w);
	if (db_zone && *db_zone) {
		struct zone z;
		if (zone_load(db_zone, &z)) {
			echo_line(&sb, "database", &z, t, db_zone);
			zone_free(&z);
		} else {
			memset(&z, 0, sizeof(z));
			if (tz_parse(db_zone, &z.tz)) { /* PostgreSQL also takes POSIX zone strings */
				z.has_tz = true;
				echo_line(&sb, "database", &z, t, db_zone);
			} else {
				sb_printf(&sb, "%-11s(zone \"%s\" is not known on this machine)\n", "database",
				          db_zone);
			}
		}
	}
	struct zone local = {.local = true};
	char zname[256], label[300];
	local_zone_name(zname, sizeof(zname));
	snprintf(label, sizeof(label), zname[0] ? "this machine, %s" : "this machine", zname);
	echo_line(&sb, "local", &local, t, label);
	return sb_steal(&sb);
}

/* ------------------------------------------------------------ the window */

static long base_index(const struct pgr_catalog *cat, const char *label)
{
	for (size_t i = 0; label && i < cat->n_bases; i++)
		if (!strcmp(cat->bases[i].label, label))
			return (long)i;
	return -1;
}

static int cmp_wal_name(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct pgr_walseg *)elem)->name);
}

/* Is every segment from the base backup's start to its stop archived? */
static bool base_wal_archived(const struct pgr_catalog *cat, const struct pgr_base *b)
{
	struct pgr_walname s, e;
	if (!b->manifest.start_wal || !b->manifest.stop_wal || !pgr_walname_parse(b->manifest.start_wal, &s) ||
	    !pgr_walname_parse(b->manifest.stop_wal, &e) || s.tli != e.tli)
		return false;
	uint64_t seg = cat->wal_seg_size ? cat->wal_seg_size : 16 * 1024 * 1024;
	uint64_t from = pgr_wal_segno(s.log, s.seg, seg), to = pgr_wal_segno(e.log, e.seg, seg);
	if (to < from || to - from > 1000000)
		return false;
	for (uint64_t g = from; g <= to; g++) {
		char name[32];
		pgr_walname_format(s.tli, g, seg, name);
		if (!bsearch(name, cat->wal, cat->n_wal, sizeof(*cat->wal), cmp_wal_name))
			return false;
	}
	return true;
}

/* A base backup a recovery on the window's timeline can start from. */
static bool base_candidate(const struct pgr_catalog *cat, const struct pgr_window *w, const struct pgr_base *b)
{
	return b->complete && b->manifest.timeline <= w->timeline && base_wal_archived(cat, b);
}

/* First LSN after the last archived segment of the window. */
static bool window_end_lsn(const struct pgr_catalog *cat, const struct pgr_window *w, uint64_t *end)
{
	struct pgr_walname wn;
	if (!w->last_wal || !pgr_walname_parse(w->last_wal, &wn))
		return false;
	uint64_t seg = cat->wal_seg_size ? cat->wal_seg_size : 16 * 1024 * 1024;
	*end = (pgr_wal_segno(wn.log, wn.seg, seg) + 1) * seg;
	return true;
}

static void hint_window(struct strbuf *sb, const struct pgr_catalog *cat, const struct pgr_window *w, bool lsn)
{
	char a[64], b[64];
	if (lsn) {
		long ei = base_index(cat, w->earliest_base);
		uint64_t end;
		pgr_lsn_format(ei >= 0 ? cat->bases[ei].manifest.stop_lsn : 0, a, sizeof(a));
		if (!window_end_lsn(cat, w, &end))
			end = 0;
		pgr_lsn_format(end, b, sizeof(b));
		sb_printf(sb,
		          "The recoverable window on timeline %u runs from LSN %s (end of base backup %s) to just "
		          "before %s (end of WAL segment %s).",
		          w->timeline, a, w->earliest_base, b, w->last_wal ? w->last_wal : "?");
	} else {
		fmt_utc(w->earliest, 0, a, sizeof(a));
		fmt_utc(w->latest, 0, b, sizeof(b));
		sb_printf(sb,
		          "The recoverable window on timeline %u runs from %s (end of base backup %s) to %s (WAL "
		          "segment %s).",
		          w->timeline, a, w->earliest_base, b, w->last_wal ? w->last_wal : "?");
	}
}

/* The newest good logical dump taken at or before `before`. */
static const struct pgr_dump *dump_before(const struct pgr_catalog *cat, time_t before)
{
	for (size_t i = cat->n_dumps; i > 0; i--)
		if (cat->dumps[i - 1].good && cat->dumps[i - 1].time <= before)
			return &cat->dumps[i - 1];
	return NULL;
}

static void hint_dump(struct strbuf *sb, const struct pgr_catalog *cat, time_t before)
{
	const struct pgr_dump *d = dump_before(cat, before);
	if (!d) {
		sb_append(sb, " No logical dump predates it either.");
		return;
	}
	char when[64];
	fmt_utc(d->time, 0, when, sizeof(when));
	const char *base = strrchr(d->key, '/');
	base = base ? base + 1 : d->key;
	sb_printf(sb,
	          " WAL from that far back is not kept, but the logical dump %s (taken %s) is: a full restore "
	          "(pgrescue restore --backup %s) brings the database back as it was then, without anything "
	          "written after.",
	          d->key, when, base);
}

static void hint_end(struct strbuf *sb, const struct pgr_window *w)
{
	char when[64];
	fmt_utc(w->latest, 0, when, sizeof(when));
	if (w->gap_after)
		sb_printf(sb, " The WAL archive has a hole: segment %s is missing, so replay cannot go past %s (%s).",
		          w->gap_after, w->last_wal ? w->last_wal : "?", when);
	else
		sb_printf(sb, " The WAL archive ends at %s: is archiving lagging? See `pgrescue status`.", when);
}

static bool no_window(const struct pgr_target *t, const struct pgr_catalog *cat, const struct pgr_window *w,
                      struct pgr_error *err)
{
	char *d = pgr_target_describe(t);
	pgr_error_set(err, PGR_ERR_USAGE, "no recoverable window for target %s: %s", d,
	              w && w->why_not ? w->why_not : "no base backup with continuous WAL");
	free(d);
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb,
	          "Point-in-time recovery needs a complete base backup and the WAL after it; see `pgrescue status`.");
	const struct pgr_dump *nd = pgr_catalog_newest_dump(cat);
	if (nd) {
		const char *base = strrchr(nd->key, '/');
		sb_printf(&sb, " A full restore of the logical dump %s is possible (pgrescue restore --backup %s).",
		          nd->key, base ? base + 1 : nd->key);
	}
	pgr_error_hint(err, "%s", sb_str(&sb));
	sb_free(&sb);
	return false;
}

bool pgr_target_check_window(const struct pgr_target *t, const struct pgr_catalog *cat, const struct pgr_window *w,
                             struct pgr_error *err)
{
	if (!t->inclusive && (t->kind == PGR_TARGET_NAME || t->kind == PGR_TARGET_IMMEDIATE)) {
		pgr_error_set(err, PGR_ERR_USAGE, "--exclusive does not apply to %s",
		              t->kind == PGR_TARGET_NAME ? "a restore point" : "--immediate");
		pgr_error_hint(err,
		               "PostgreSQL stops exactly at a restore point or at the end of the backup; "
		               "--exclusive applies to --time, --xid and --lsn.");
		return false;
	}
	if (t->kind == PGR_TARGET_XID || t->kind == PGR_TARGET_NAME)
		return true; /* where they fall is known only by replaying */
	if (!w || !w->exists)
		return no_window(t, cat, w, err);
	if (t->kind == PGR_TARGET_IMMEDIATE)
		return true;

	char *d = pgr_target_describe(t);
	struct strbuf sb = STRBUF_INIT;
	bool ok = true;
	if (t->kind == PGR_TARGET_TIME) {
		if (t->time < w->earliest) {
			pgr_error_set(err, PGR_ERR_USAGE, "target %s is before the recoverable window", d);
			hint_window(&sb, cat, w, false);
			hint_dump(&sb, cat, t->time);
			ok = false;
		} else if (t->time > w->latest || (t->time == w->latest && t->usec > 0)) {
			pgr_error_set(err, PGR_ERR_USAGE, "target %s is after the end of the recoverable window", d);
			hint_window(&sb, cat, w, false);
			hint_end(&sb, w);
			ok = false;
		}
	} else { /* LSN */
		long ei = base_index(cat, w->earliest_base);
		uint64_t start = ei >= 0 ? cat->bases[ei].manifest.stop_lsn : 0, end = 0;
		bool have_end = window_end_lsn(cat, w, &end);
		if (t->lsn < start) {
			pgr_error_set(err, PGR_ERR_USAGE, "target %s is before the recoverable window", d);
			hint_window(&sb, cat, w, true);
			hint_dump(&sb, cat, w->earliest);
			ok = false;
		} else if (have_end && t->lsn >= end) {
			pgr_error_set(err, PGR_ERR_USAGE, "target %s is after the end of the recoverable window", d);
			hint_window(&sb, cat, w, true);
			hint_end(&sb, w);
			ok = false;
		}
	}
	if (!ok)
		pgr_error_hint(err, "%s", sb_str(&sb));
	sb_free(&sb);
	free(d);
	return ok;
}

const struct pgr_base *pgr_target_pick_base(const struct pgr_target *t, const struct pgr_catalog *cat,
                                            const struct pgr_window *w, struct pgr_error *err)
{
	if (!w || !w->exists) {
		no_window(t, cat, w, err);
		return NULL;
	}
	long ei = base_index(cat, w->earliest_base);
	if (ei < 0) {
		pgr_error_set(err, PGR_ERR_INTERNAL, "the window's base backup %s is not in the catalog",
		              w->earliest_base ? w->earliest_base : "(none)");
		return NULL;
	}
	if (t->kind == PGR_TARGET_XID || t->kind == PGR_TARGET_NAME)
		return &cat->bases[ei]; /* replay from the start of the window: the target lies anywhere in it */

	for (size_t i = cat->n_bases; i > (size_t)ei; i--) {
		const struct pgr_base *b = &cat->bases[i - 1];
		if (!base_candidate(cat, w, b))
			continue;
		if (t->kind == PGR_TARGET_IMMEDIATE)
			return b;
		/* stop_time is in whole seconds: strictly before, so the backup is
		 * consistent before the target. */
		if (t->kind == PGR_TARGET_TIME && b->manifest.stop_time < t->time)
			return b;
		if (t->kind == PGR_TARGET_LSN && b->manifest.stop_lsn <= t->lsn)
			return b;
	}

	char *d = pgr_target_describe(t);
	const struct pgr_base *oldest = &cat->bases[ei];
	char when[64], lsn[32];
	fmt_utc(oldest->manifest.stop_time, 0, when, sizeof(when));
	pgr_lsn_format(oldest->manifest.stop_lsn, lsn, sizeof(lsn));
	if (t->kind == PGR_TARGET_IMMEDIATE)
		pgr_error_set(err, PGR_ERR_NOTFOUND, "no base backup on timeline %u to recover from", w->timeline);
	else
		pgr_error_set(err, PGR_ERR_USAGE, "no base backup ends before target %s", d);
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "The oldest usable base backup, %s, ended at %s (LSN %s). ", oldest->label, when, lsn);
	hint_window(&sb, cat, w, t->kind == PGR_TARGET_LSN);
	pgr_error_hint(err, "%s", sb_str(&sb));
	sb_free(&sb);
	free(d);
	return NULL;
}

/* ------------------------------------------------------------ assessment */

/* The lowest segment number at or after the span's start whose archive time
 * is at or after t: about where replay meets the target. */
static uint64_t segno_at_time(const struct pgr_catalog *cat, const struct pgr_span *sp, time_t t)
{
	uint64_t best = sp->end_segno;
	for (size_t i = 0; i < cat->n_wal; i++) {
		const struct pgr_walseg *s = &cat->wal[i];
		if (s->wn.kind != PGR_WAL_SEGMENT || s->wn.tli < sp->start_tli || s->wn.tli > sp->tli ||
		    s->wn.segno < sp->start_segno || s->wn.segno > sp->end_segno)
			continue;
		if (s->mtime >= t && s->wn.segno < best)
			best = s->wn.segno;
	}
	return best;
}

/* The base backup whose own run (start to stop) holds t, newest first. */
static const struct pgr_base *base_running_at(const struct pgr_catalog *cat, time_t t)
{
	for (size_t i = cat->n_bases; i > 0; i--) {
		const struct pgr_base *b = &cat->bases[i - 1];
		if (b->complete && b->manifest.start_time && b->manifest.start_time <= t && t < b->manifest.stop_time)
			return b;
	}
	return NULL;
}

static void set_verdict(struct pgr_assessment *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_verdict(struct pgr_assessment *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->verdict, sizeof a->verdict, fmt, ap);
	va_end(ap);
}

static void assess_time(const struct pgr_target *t, const struct pgr_catalog *cat, time_t last_commit,
                        struct pgr_assessment *a)
{
	struct pgr_span *sp = NULL;
	size_t n = pgr_catalog_spans(cat, &sp);
	char when[64], a1[64], a2[64];
	fmt_utc(t->time, t->usec, when, sizeof when);
	struct strbuf hint = STRBUF_INIT;
	if (n == 0) {
		struct pgr_window w;
		pgr_catalog_window(cat, &w);
		set_verdict(a, "no recoverable window: %s", w.why_not ? w.why_not : "no usable base backup");
		snprintf(a->hint, sizeof a->hint, "`pgrescue window` shows what the store holds.");
		pgr_window_free(&w);
		pgr_spans_free(sp, n);
		return;
	}
	/* The newest timeline any span reaches: prefer spans ending there, then the newest base. */
	uint32_t top = 0;
	for (size_t i = 0; i < n; i++)
		if (sp[i].tli > top)
			top = sp[i].tli;
	long use = -1;
	for (size_t pass = 0; pass < 2 && use < 0; pass++)
		for (size_t i = n; i > 0 && use < 0; i--) {
			const struct pgr_span *s = &sp[i - 1];
			if (pass == 0 && s->tli != top)
				continue;
			if (s->from < t->time && (t->time < s->to || (t->time == s->to && t->usec == 0)))
				use = (long)(i - 1);
		}
	const struct pgr_base *running = base_running_at(cat, t->time);
	if (use >= 0) {
		const struct pgr_span *s = &sp[use];
		a->ok = true;
		a->base = s->base;
		a->timeline = s->tli;
		a->from = s->from;
		a->to = s->to;
		uint64_t seg = segno_at_time(cat, s, t->time);
		uint64_t segsz = cat->wal_seg_size ? cat->wal_seg_size : 16u << 20;
		a->replay_bytes = (seg >= s->start_segno ? seg - s->start_segno + 1 : 1) * segsz;
		fmt_utc(s->from, 0, a1, sizeof a1);
		fmt_utc(s->to, 0, a2, sizeof a2);
		set_verdict(a, "inside the recoverable window of timeline %u (%s .. %s)", s->tli, a1, a2);
		if (running && running != s->base) {
			char st[64], en[64];
			fmt_utc(running->manifest.start_time, 0, st, sizeof st);
			fmt_utc(running->manifest.stop_time, 0, en, sizeof en);
			snprintf(
			        a->warning, sizeof a->warning,
			        "the target falls inside base backup %s's own run (%s .. %s), which is consistent only "
			        "from its end: the older base backup %s is used, with more WAL to replay",
			        running->label, st, en, s->base->label);
		} else if (last_commit > 0 && s->tli == top && t->time > last_commit) {
			char lc[64];
			fmt_utc(last_commit, 0, lc, sizeof lc);
			snprintf(a->warning, sizeof a->warning,
			         "the target is after the last archived commit (%s): replay would reach the end of the "
			         "archived WAL before the target and the recovery would stop there with an error; pick "
			         "%s or earlier",
			         lc, lc);
		}
		pgr_spans_free(sp, n);
		return;
	}
	/* Not recoverable: say why. */
	time_t first = sp[0].from, last = sp[0].to;
	const struct pgr_span *lastsp = &sp[0];
	for (size_t i = 0; i < n; i++) {
		if (sp[i].from < first)
			first = sp[i].from;
		if (sp[i].to >= last) {
			last = sp[i].to;
			lastsp = &sp[i];
		}
	}
	struct pgr_window w;
	pgr_catalog_window(cat, &w);
	if (w.exists)
		hint_window(&hint, cat, &w, false);
	pgr_window_free(&w);
	if (t->time > last || (t->time == last && t->usec > 0)) {
		fmt_utc(last, 0, a1, sizeof a1);
		if (lastsp->missing) {
			set_verdict(a,
			            "%s is after the end of the recoverable window: WAL segment %s is missing, so "
			            "replay cannot go past %s (%s)",
			            when, lastsp->missing, lastsp->last_wal, a1);
			sb_printf(
			        &hint,
			        " Pick %s or earlier; WAL archived after the hole needs a base backup taken after it.",
			        a1);
		} else {
			set_verdict(a,
			            "%s is after the end of the recoverable window: the archived WAL ends with segment "
			            "%s, archived %s",
			            when, lastsp->last_wal, a1);
			sb_printf(&hint,
			          " Pick %s or earlier; is archiving lagging? `pgrescue status` shows the archiver.",
			          a1);
		}
		snprintf(a->hint, sizeof a->hint, "%s", sb_str(&hint));
	} else if (running) {
		char st[64], en[64];
		fmt_utc(running->manifest.start_time, 0, st, sizeof st);
		fmt_utc(running->manifest.stop_time, 0, en, sizeof en);
		set_verdict(a,
		            "%s falls inside base backup %s's own run (%s .. %s): a base backup is consistent only "
		            "from its end, and no older base backup's WAL reaches this time",
		            when, running->label, st, en);
		sb_reset(&hint);
		sb_printf(&hint, "Pick %s or later (the end of %s).", en, running->label);
		hint_dump(&hint, cat, t->time);
		snprintf(a->hint, sizeof a->hint, "%s", sb_str(&hint));
	} else if (t->time <= first) {
		fmt_utc(first, 0, a1, sizeof a1);
		set_verdict(a,
		            "%s is before the recoverable window: the earliest recoverable point is %s (when base "
		            "backup %s ended)",
		            when, a1, sp[0].base->label);
		sb_printf(&hint, " Pick a time after %s.", a1);
		hint_dump(&hint, cat, t->time);
		snprintf(a->hint, sizeof a->hint, "%s", sb_str(&hint));
	} else {
		/* Between spans: the WAL before ends at a hole, the next base is later. */
		const struct pgr_span *before = NULL, *after = NULL;
		for (size_t i = 0; i < n; i++) {
			if (sp[i].to < t->time && (!before || sp[i].to > before->to))
				before = &sp[i];
			if (sp[i].from >= t->time && (!after || sp[i].from < after->from))
				after = &sp[i];
		}
		fmt_utc(before ? before->to : first, 0, a1, sizeof a1);
		fmt_utc(after ? after->from : last, 0, a2, sizeof a2);
		set_verdict(a,
		            "%s is in a WAL gap: WAL segment %s is missing, so replay from base backup %s stops at "
		            "%s, and the next base backup%s%s is consistent only from %s",
		            when, before && before->missing ? before->missing : "?", before ? before->base->label : "?",
		            a1, after ? " " : "", after ? after->base->label : "", a2);
		sb_reset(&hint);
		sb_printf(&hint, "Pick %s or earlier, or %s or later.", a1, a2);
		snprintf(a->hint, sizeof a->hint, "%s", sb_str(&hint));
	}
	if (!strncmp(a->verdict, when, strlen(when)) && a->verdict[strlen(when)] == ' ')
		a->subject_len = strlen(when) + 1;
	sb_free(&hint);
	pgr_spans_free(sp, n);
}

void pgr_target_assess(const struct pgr_target *t, const struct pgr_catalog *cat, time_t last_commit, double replay_bps,
                       struct pgr_assessment *a)
{
	memset(a, 0, sizeof *a);
	a->replay_secs = -1;
	if (t->kind == PGR_TARGET_TIME) {
		assess_time(t, cat, last_commit, a);
	} else {
		struct pgr_window w;
		pgr_catalog_window(cat, &w);
		struct pgr_error err = {0};
		const struct pgr_base *b = NULL;
		if (pgr_target_check_window(t, cat, &w, &err))
			b = pgr_target_pick_base(t, cat, &w, &err);
		if (b) {
			a->ok = true;
			a->base = b;
			a->timeline = w.timeline;
			a->from = w.earliest;
			a->to = w.latest;
			if (t->kind == PGR_TARGET_LSN && t->lsn > b->manifest.start_lsn)
				a->replay_bytes = t->lsn - b->manifest.start_lsn;
			else if (t->kind == PGR_TARGET_IMMEDIATE && b->manifest.stop_lsn > b->manifest.start_lsn)
				a->replay_bytes = b->manifest.stop_lsn - b->manifest.start_lsn;
			set_verdict(a, "%s",
			            t->kind == PGR_TARGET_XID || t->kind == PGR_TARGET_NAME
			                    ? "cannot be placed before replay: recovery starts from the window's "
			                      "oldest base "
			                      "backup and stops where it meets the target"
			                    : "inside the recoverable window");
		} else {
			set_verdict(a, "%s", err.msg);
			snprintf(a->hint, sizeof a->hint, "%s", err.hint);
		}
		pgr_window_free(&w);
	}
	if (a->ok && a->replay_bytes && replay_bps > 0)
		a->replay_secs = (double)a->replay_bytes / replay_bps;
}
