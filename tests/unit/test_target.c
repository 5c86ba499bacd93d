/* PITR target unit tests: every target form and every refusal (a time without
 * a zone above all), daylight-saving time in named zones (from the tz
 * database files and from their footer rules alone), the recovery settings
 * each target becomes, and targets checked against a catalog's window with
 * the base backup picked for them. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "recovery/target.h"

#define MiB ((uint64_t)1024 * 1024)
#define HOUR ((time_t)3600)
#define DAY ((time_t)86400)

/* 2026-11-24T03:12:00Z */
static const time_t T_NOV = 1795489920;
/* 2026-03-01T00:00:00Z */
static const time_t T0 = 1772323200;

/* ------------------------------------------------------------ helpers */

static char *saved_tz;

/* This process's zone, for the hint and the local line. */
static void set_local_zone(const char *tz)
{
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
}

static int save_tz(void **state)
{
	(void)state;
	const char *tz = getenv("TZ");
	saved_tz = tz ? xstrdup(tz) : NULL;
	return 0;
}

static int restore_tz(void **state)
{
	(void)state;
	set_local_zone(saved_tz);
	free(saved_tz);
	saved_tz = NULL;
	return 0;
}

static struct pgr_target parse_ok(const char *kind, const char *value)
{
	struct pgr_target t;
	struct pgr_error err = {0};
	if (!pgr_target_parse(kind, value, &t, &err))
		fail_msg("parse --%s \"%s\": %s HINT: %s", kind, value ? value : "(null)", err.msg, err.hint);
	return t;
}

static struct pgr_error parse_bad(const char *kind, const char *value)
{
	struct pgr_target t;
	struct pgr_error err = {0};
	if (pgr_target_parse(kind, value, &t, &err))
		fail_msg("parse --%s \"%s\" was accepted", kind, value ? value : "(null)");
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	assert_true(err.msg[0] != '\0');
	return err;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void assert_time(const char *value, time_t want, int usec)
{
	struct pgr_target t = parse_ok("time", value);
	assert_int_equal(t.kind, PGR_TARGET_TIME);
	if (t.time != want)
		fail_msg("\"%s\" gave %lld, not %lld (off by %lld s)", value, (long long)t.time, (long long)want,
		         (long long)(t.time - want));
	assert_int_equal(t.usec, usec);
	assert_true(t.inclusive);
}

/* ------------------------------------------------------------ parsing */

static void time_forms(void **state)
{
	(void)state;
	assert_time("2026-11-24 03:12:00+00", T_NOV, 0);
	assert_time("2026-11-24T03:12:00Z", T_NOV, 0);
	assert_time("2026-11-24t03:12:00z", T_NOV, 0);
	assert_time("2026-11-24 03:12:00 UTC", T_NOV, 0);
	assert_time("2026-11-24 03:12:00 Etc/UTC", T_NOV, 0);
	assert_time("  2026-11-24 03:12Z  ", T_NOV, 0);
	assert_time("2026-11-24 04:12:00+01:00", T_NOV, 0);
	assert_time("2026-11-24 04:12:00+0100", T_NOV, 0);
	assert_time("2026-11-24 04:12:00 +01:00", T_NOV, 0);
	assert_time("2026-11-23 22:12:00-05", T_NOV, 0);
	assert_time("2026-11-24 08:42:00+05:30", T_NOV, 0);
	assert_time("2026-11-24 03:12:00.123456Z", T_NOV, 123456);
	assert_time("2026-11-24 03:12:00.5+00", T_NOV, 500000);
	assert_time("2026-11-24 04:12:00.000001+01", T_NOV, 1);
	/* Named zones: winter, summer, both hemispheres. */
	assert_time("2026-11-24 04:12:00 Europe/Berlin", T_NOV, 0);
	assert_time("2026-11-24 12:12:00 Asia/Tokyo", T_NOV, 0);
	assert_time("2026-11-23 22:12:00 America/New_York", T_NOV, 0);
	assert_time("2026-11-24 14:12:00.25 Australia/Sydney", T_NOV, 250000); /* AEDT, +11 */
	assert_time("2026-07-01 14:00:00 Europe/Berlin", 1782907200, 0); /* CEST: 12:00Z */
	assert_time("2026-07-01 08:00:00 America/New_York", 1782907200, 0); /* EDT */
	assert_time("2026-07-01 22:00:00 Australia/Sydney", 1782907200, 0); /* AEST, +10 */
	assert_time("2026-07-01 07:00:00 Etc/GMT+5", 1782907200, 0); /* POSIX sign: UTC-5 */
	/* Past the last transition in the file: the footer rule decides. */
	assert_time("2045-07-01 14:00:00 Europe/Berlin", 2382523200, 0);
	assert_time("2045-12-01 13:00:00 Europe/Berlin", 2395742400, 0);
}

/* Europe/Berlin in 2026: summer time from 01:00Z on 29 March (02:00 CET ->
 * 03:00 CEST) to 01:00Z on 25 October (03:00 CEST -> 02:00 CET). */
static void time_dst(void **state)
{
	(void)state;
	const time_t spring = 1774746000; /* 2026-03-29T01:00:00Z */
	const time_t autumn = 1792890000; /* 2026-10-25T01:00:00Z */
	assert_time("2026-03-29 01:59:59 Europe/Berlin", spring - 1, 0);
	assert_time("2026-03-29 03:00:00 Europe/Berlin", spring, 0);
	assert_time("2026-10-25 01:59:59 Europe/Berlin", autumn - 3600 - 1, 0);
	assert_time("2026-10-25 03:00:00 Europe/Berlin", autumn + 3600, 0);

	struct pgr_error err = parse_bad("time", "2026-03-29 02:30:00 Europe/Berlin");
	assert_contains(err.msg, "\"2026-03-29 02:30:00 Europe/Berlin\" does not exist");
	assert_contains(err.msg, "CET (+01:00)");
	assert_contains(err.msg, "CEST (+02:00)");
	assert_contains(err.hint, "\"2026-03-29 02:30:00+01:00\"");
	assert_contains(err.hint, "\"2026-03-29 02:30:00+02:00\"");

	err = parse_bad("time", "2026-10-25 02:30:00 Europe/Berlin");
	assert_contains(err.msg, "is ambiguous");
	assert_contains(err.hint, "\"2026-10-25 02:30:00+02:00\" (the first)");
	assert_contains(err.hint, "\"2026-10-25 02:30:00+01:00\" (the second)");
	/* The offsets the hint gives are accepted and are an hour apart. */
	assert_time("2026-10-25 02:30:00+02:00", autumn - 1800, 0);
	assert_time("2026-10-25 02:30:00+01:00", autumn + 1800, 0);

	/* America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT. */
	err = parse_bad("time", "2026-03-08 02:15:00 America/New_York");
	assert_contains(err.msg, "EST (-05:00)");
	assert_contains(err.msg, "EDT (-04:00)");
}

/* A TZif file of version 2 with no transitions at all, only a footer rule, as
 * zic -b slim writes them for zones whose rules have not changed. */
static void write_slim(const char *dir, const char *name, int32_t std_off, const char *abbr, const char *rule)
{
	unsigned char buf[256];
	size_t n = 0;
	/* Version 1 header, no data. */
	memcpy(buf, "TZif2", 5);
	memset(buf + 5, 0, 39);
	n = 44;
	/* Version 2 header: typecnt 1, charcnt strlen(abbr)+1. */
	memcpy(buf + n, "TZif2", 5);
	memset(buf + n + 5, 0, 39);
	buf[n + 39] = 1;
	buf[n + 43] = (unsigned char)(strlen(abbr) + 1);
	n += 44;
	uint32_t u = (uint32_t)std_off;
	buf[n++] = (unsigned char)(u >> 24);
	buf[n++] = (unsigned char)(u >> 16);
	buf[n++] = (unsigned char)(u >> 8);
	buf[n++] = (unsigned char)u;
	buf[n++] = 0;
	buf[n++] = 0;
	memcpy(buf + n, abbr, strlen(abbr) + 1);
	n += strlen(abbr) + 1;
	n += (size_t)snprintf((char *)buf + n, sizeof(buf) - n, "\n%s\n", rule);
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(path);
}

static void time_footer_only_zone(void **state)
{
	(void)state;
	char dir[] = "/tmp/pgr-test-tzXXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub = xasprintf("%s/Test", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_slim(dir, "Test/North", 3600, "CET", "CET-1CEST,M3.5.0,M10.5.0/3");
	write_slim(dir, "Test/South", 36000, "AEST", "AEST-10AEDT,M10.1.0,M4.1.0/3");
	const char *old = getenv("TZDIR");
	char *saved = old ? xstrdup(old) : NULL;
	setenv("TZDIR", dir, 1);

	assert_time("2026-07-01 14:00:00 Test/North", 1782907200, 0);
	assert_time("2026-11-24 04:12:00 Test/North", T_NOV, 0);
	assert_time("2026-03-29 03:00:00 Test/North", 1774746000, 0);
	struct pgr_error err = parse_bad("time", "2026-03-29 02:30:00 Test/North");
	assert_contains(err.msg, "does not exist");
	err = parse_bad("time", "2026-10-25 02:30:00 Test/North");
	assert_contains(err.msg, "ambiguous");
	/* Southern hemisphere: summer time spans the new year. */
	assert_time("2026-07-01 22:00:00 Test/South", 1782907200, 0);
	assert_time("2026-11-24 14:12:00 Test/South", T_NOV, 0);
	err = parse_bad("time", "2026-04-05 02:30:00 Test/South");
	assert_contains(err.msg, "AEDT (+11:00)");
	/* Europe/Berlin is not under this TZDIR. */
	err = parse_bad("time", "2026-11-24 04:12:00 Europe/Berlin");
	assert_contains(err.msg, "unknown time zone \"Europe/Berlin\"");
	assert_contains(err.hint, dir);

	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	char *f1 = xasprintf("%s/Test/North", dir), *f2 = xasprintf("%s/Test/South", dir);
	unlink(f1);
	unlink(f2);
	rmdir(sub);
	rmdir(dir);
	free(f1);
	free(f2);
	free(sub);
}

static void time_without_zone(void **state)
{
	(void)state;
	set_local_zone("Europe/Berlin");
	struct pgr_error err = parse_bad("time", "2026-11-24 03:12:00");
	assert_contains(err.msg, "\"2026-11-24 03:12:00\"");
	assert_contains(err.msg, "no time zone");
	assert_contains(err.msg, "needs one");
	assert_string_equal(err.hint,
	                    "Did you mean \"2026-11-24 03:12:00+01:00\" (this machine's zone, "
	                    "Europe/Berlin) or \"2026-11-24 03:12:00Z\"?");
	/* In summer the local offset differs; the text as typed is kept. */
	err = parse_bad("time", "2026-07-01T14:00:00.5");
	assert_string_equal(err.hint,
	                    "Did you mean \"2026-07-01T14:00:00.5+02:00\" (this machine's zone, "
	                    "Europe/Berlin) or \"2026-07-01T14:00:00.5Z\"?");
	set_local_zone("America/New_York");
	err = parse_bad("time", "2026-11-24 03:12");
	assert_string_equal(err.hint,
	                    "Did you mean \"2026-11-24 03:12-05:00\" (this machine's zone, "
	                    "America/New_York) or \"2026-11-24 03:12Z\"?");
	set_local_zone(":Asia/Kolkata");
	err = parse_bad("time", "2026-11-24 03:12:00  ");
	assert_contains(err.hint, "\"2026-11-24 03:12:00+05:30\" (this machine's zone, Asia/Kolkata)");
}

static void time_refusals(void **state)
{
	(void)state;
	struct pgr_error err = parse_bad("time", "2026-02-30 10:00:00Z");
	assert_contains(err.msg, "\"2026-02-30 10:00:00Z\" is not a valid date");
	assert_contains(err.msg, "February 2026 has 28 days");
	parse_ok("time", "2028-02-29 10:00:00Z");
	err = parse_bad("time", "2026-11-24 25:00:00Z");
	assert_contains(err.msg, "not a valid time of day");
	parse_bad("time", "2026-11-24 23:60:00Z");
	parse_bad("time", "2026-11-24 23:59:60Z");
	parse_bad("time", "2026-13-01 00:00:00Z");
	parse_bad("time", "2026-00-10 00:00:00Z");
	parse_bad("time", "2026-11-00 00:00:00Z");
	err = parse_bad("time", "yesterday at noon");
	assert_contains(err.msg, "\"yesterday at noon\"");
	assert_contains(err.hint, "Europe/Berlin");
	parse_bad("time", "2026-11-24");
	parse_bad("time", "2026-11-24 03:12:00.Z");
	err = parse_bad("time", "2026-11-24 03:12:00.1234567Z");
	assert_contains(err.msg, "six decimals");
	err = parse_bad("time", "2026-11-24 03:12:00+16:00");
	assert_contains(err.msg, "out of range");
	err = parse_bad("time", "2026-11-24 03:12:00+1");
	assert_contains(err.msg, "invalid zone offset \"+1\"");
	parse_bad("time", "2026-11-24 03:12:00+01:00 junk");
	parse_bad("time", "2026-11-24 03:12:00+01:0");
	err = parse_bad("time", "2026-11-24 03:12:00 Mars/Olympus_Mons");
	assert_contains(err.msg, "unknown time zone \"Mars/Olympus_Mons\"");
	assert_contains(err.hint, "Europe/Berlin");
	err = parse_bad("time", "2026-11-24 03:12:00 CEST");
	assert_contains(err.msg, "abbreviation \"CEST\"");
	assert_contains(err.hint, "\"2026-11-24 03:12:00+HH:MM\"");
	parse_bad("time", "2026-11-24 03:12:00 CET"); /* a zone file, but read as an abbreviation */
	parse_bad("time", "2026-11-24 03:12:00 EST5EDT");
	err = parse_bad("time", "2026-11-24 03:12:00 ../../../etc/passwd");
	assert_contains(err.msg, "unknown time zone");
	parse_bad("time", "2026-11-24 03:12:00 /etc/localtime");
	parse_bad("time", "2026-11-24 03:12:00 Europe"); /* a directory */
	parse_bad("time", "2026-11-24 03:12:00 right/Europe/Berlin"); /* counts leap seconds */
	parse_bad("time", "2026-11-24 03:12:00Europe/Berlin");
	parse_bad("time", "1969-12-31 23:59:59Z");
	err = parse_bad("time", "");
	assert_contains(err.msg, "--time needs a value");
	parse_bad("time", NULL);
}

static void xid_lsn_name_immediate(void **state)
{
	(void)state;
	struct pgr_target t = parse_ok("xid", "1234");
	assert_int_equal(t.kind, PGR_TARGET_XID);
	assert_int_equal(t.xid, 1234);
	assert_true(t.inclusive);
	t = parse_ok("xid", "3");
	assert_int_equal(t.xid, 3);
	t = parse_ok("xid", "18446744073709551615");
	assert_int_equal(t.xid, UINT64_MAX);
	t = parse_ok("xid", "4294968530"); /* epoch 1, xid 1234 */
	assert_int_equal(t.xid, 4294968530ULL);
	struct pgr_error err = parse_bad("xid", "18446744073709551616");
	assert_contains(err.msg, "too large");
	err = parse_bad("xid", "2");
	assert_contains(err.msg, "not a normal transaction ID");
	parse_bad("xid", "0");
	parse_bad("xid", "4294967296"); /* epoch 1, xid 0 */
	err = parse_bad("xid", "-5");
	assert_contains(err.msg, "invalid transaction ID \"-5\"");
	parse_bad("xid", "+5");
	parse_bad("xid", "12a");
	parse_bad("xid", " 12");
	parse_bad("xid", "0x10");
	parse_bad("xid", "");

	t = parse_ok("lsn", "0/16B3D48");
	assert_int_equal(t.kind, PGR_TARGET_LSN);
	assert_int_equal(t.lsn, 0x16B3D48);
	t = parse_ok("lsn", "1A/ff000028");
	assert_int_equal(t.lsn, 0x1AFF000028ULL);
	err = parse_bad("lsn", "16B3D48");
	assert_contains(err.msg, "invalid LSN \"16B3D48\"");
	assert_contains(err.hint, "0/16B3D48");
	parse_bad("lsn", "0/0");
	parse_bad("lsn", "0/G");
	parse_bad("lsn", "/16B3D48");
	parse_bad("lsn", "0/123456789");

	t = parse_ok("name", "before-drop");
	assert_int_equal(t.kind, PGR_TARGET_NAME);
	assert_string_equal(t.name, "before-drop");
	char name[80];
	memset(name, 'n', sizeof(name));
	name[63] = '\0';
	t = parse_ok("name", name);
	assert_string_equal(t.name, name);
	name[63] = 'n';
	name[64] = '\0';
	err = parse_bad("name", name);
	assert_contains(err.msg, "64 bytes");
	err = parse_bad("name", "it's");
	assert_contains(err.msg, "quote");
	parse_bad("name", "say \"hi\"");
	err = parse_bad("name", "a\nb");
	assert_contains(err.msg, "control character");
	parse_bad("name", "tab\there");
	parse_bad("name", "");
	t = parse_ok("name", "back\\slash ok");
	assert_string_equal(t.name, "back\\slash ok");

	t = parse_ok("immediate", NULL);
	assert_int_equal(t.kind, PGR_TARGET_IMMEDIATE);
	t = parse_ok("immediate", "");
	assert_int_equal(t.kind, PGR_TARGET_IMMEDIATE);
	err = parse_bad("immediate", "now");
	assert_contains(err.msg, "--immediate takes no value");

	err = parse_bad("timestamp", "2026-11-24 03:12:00Z");
	assert_contains(err.msg, "unknown recovery target kind \"timestamp\"");
	assert_contains(err.hint, "--time, --xid, --lsn, --name or --immediate");
	parse_bad(NULL, "x");
	parse_bad("TIME", "2026-11-24 03:12:00Z");
}

/* ------------------------------------------------------------ text */

static void assert_settings(const struct pgr_target *t, const char *want)
{
	char *s = pgr_target_settings(t);
	assert_string_equal(s, want);
	free(s);
}

static void assert_describe(const struct pgr_target *t, const char *want)
{
	char *s = pgr_target_describe(t);
	assert_string_equal(s, want);
	free(s);
}

static void settings_and_describe(void **state)
{
	(void)state;
	struct pgr_target t = parse_ok("time", "2026-11-24 04:12:00 Europe/Berlin");
	assert_settings(&t, "recovery_target_time = '2026-11-24 03:12:00+00'\n");
	assert_describe(&t, "time 2026-11-24 03:12:00 UTC (inclusive)");
	t = parse_ok("time", "2026-11-24 04:12:00.123456+01:00");
	t.inclusive = false;
	assert_settings(&t,
	                "recovery_target_time = '2026-11-24 03:12:00.123456+00'\n"
	                "recovery_target_inclusive = 'false'\n");
	assert_describe(&t, "time 2026-11-24 03:12:00.123456 UTC (exclusive)");
	t = parse_ok("time", "2026-11-24 03:12:00.5Z");
	assert_settings(&t, "recovery_target_time = '2026-11-24 03:12:00.500000+00'\n");
	assert_describe(&t, "time 2026-11-24 03:12:00.5 UTC (inclusive)");

	t = parse_ok("xid", "1234");
	assert_settings(&t, "recovery_target_xid = '1234'\n");
	assert_describe(&t, "xid 1234 (inclusive)");
	t.inclusive = false;
	assert_settings(&t, "recovery_target_xid = '1234'\nrecovery_target_inclusive = 'false'\n");
	assert_describe(&t, "xid 1234 (exclusive)");

	t = parse_ok("lsn", "0/16b3d48");
	assert_settings(&t, "recovery_target_lsn = '0/16B3D48'\n");
	assert_describe(&t, "lsn 0/16B3D48 (inclusive)");
	t.inclusive = false;
	assert_settings(&t, "recovery_target_lsn = '0/16B3D48'\nrecovery_target_inclusive = 'false'\n");

	t = parse_ok("name", "before-drop");
	assert_settings(&t, "recovery_target_name = 'before-drop'\n");
	assert_describe(&t, "restore point \"before-drop\"");
	/* recovery_target_inclusive does not apply to a restore point. */
	t.inclusive = false;
	assert_settings(&t, "recovery_target_name = 'before-drop'\n");
	t = parse_ok("name", "C:\\dir");
	assert_settings(&t, "recovery_target_name = 'C:\\\\dir'\n");

	t = parse_ok("immediate", NULL);
	assert_settings(&t, "recovery_target = 'immediate'\n");
	t.inclusive = false;
	assert_settings(&t, "recovery_target = 'immediate'\n");
	assert_describe(&t, "immediate (the end of the base backup, the earliest consistent point)");
}

static void time_echo(void **state)
{
	(void)state;
	set_local_zone("America/New_York");
	struct pgr_target t = parse_ok("time", "2026-11-24 04:12:00 Europe/Berlin");
	char *s = pgr_target_time_echo(&t, "Europe/Berlin");
	assert_string_equal(s,
	                    "UTC        2026-11-24 03:12:00 UTC\n"
	                    "database   2026-11-24 04:12:00 CET +01:00 (Europe/Berlin)\n"
	                    "local      2026-11-23 22:12:00 EST -05:00 (this machine, America/New_York)\n");
	free(s);

	/* Summer, fractions, a zone with a numeric abbreviation, no database zone. */
	set_local_zone("Europe/Berlin");
	t = parse_ok("time", "2026-07-01 12:00:00.25Z");
	s = pgr_target_time_echo(&t, NULL);
	assert_string_equal(s,
	                    "UTC        2026-07-01 12:00:00.25 UTC\n"
	                    "local      2026-07-01 14:00:00.25 CEST +02:00 (this machine, Europe/Berlin)\n");
	free(s);
	s = pgr_target_time_echo(&t, "Asia/Dubai");
	assert_contains(s, "database   2026-07-01 16:00:00.25 +04:00 (Asia/Dubai)\n");
	free(s);
	s = pgr_target_time_echo(&t, "<-03>3");
	assert_contains(s, "database   2026-07-01 09:00:00.25 -03:00 (<-03>3)\n");
	free(s);
	s = pgr_target_time_echo(&t, "EST5EDT");
	assert_contains(s, "database   2026-07-01 08:00:00.25 EDT -04:00 (EST5EDT)\n");
	free(s);
	s = pgr_target_time_echo(&t, "Nowhere/Atlantis");
	assert_contains(s, "database   (zone \"Nowhere/Atlantis\" is not known on this machine)\n");
	free(s);

	t = parse_ok("xid", "1234");
	s = pgr_target_time_echo(&t, "UTC");
	assert_string_equal(s, "");
	free(s);
}

/* ------------------------------------------------------------ catalog fixture */

struct fx {
	struct pgr_object_list objs;
	char *labels[32];
	char *json[32];
	size_t n;
};

static char *segname(uint32_t tli, uint64_t segno)
{
	uint64_t per = ((uint64_t)1 << 32) / (16 * MiB);
	return xasprintf("%08X%08X%08X", tli, (unsigned)(segno / per), (unsigned)(segno % per));
}

/* Segments from..to on tli, one an hour from t. */
static void fx_segs(struct fx *f, uint32_t tli, uint64_t from, uint64_t to, time_t t)
{
	for (uint64_t s = from; s <= to; s++) {
		char *n = segname(tli, s);
		char *key = xasprintf("wal-archive/%s", n);
		pgr_object_list_add(&f->objs, key, 16 * MiB, t + (time_t)(s - from) * HOUR);
		free(key);
		free(n);
	}
}

/* A complete base backup taken at t, stopping a minute later, needing
 * segments start..stop on tli. Returns its label (owned by the fixture). */
static const char *fx_base(struct fx *f, time_t t, uint32_t tli, uint64_t start, uint64_t stop)
{
	char label[32];
	pgr_label_format(t, label, sizeof(label));
	const char *files[] = {"base.tar", "backup_manifest", "pgrescue.json"};
	for (size_t i = 0; i < 3; i++) {
		char *k = xasprintf("base/%s/%s", label, files[i]);
		pgr_object_list_add(&f->objs, k, 1000, t + 60);
		free(k);
	}
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_BASE);
	m.format_version = 1;
	m.label = xstrdup(label);
	m.status = xstrdup("complete");
	m.database = xstrdup("clipper_db");
	m.start_time = t;
	m.stop_time = t + 60;
	m.timeline = tli;
	m.wal_segment_size = 16 * MiB;
	m.start_lsn = start * 16 * MiB + 0x28;
	m.stop_lsn = stop * 16 * MiB + 0x100;
	m.start_wal = segname(tli, start);
	m.stop_wal = segname(tli, stop);
	f->labels[f->n] = xstrdup(label);
	f->json[f->n] = pgr_manifest_to_json(&m);
	f->n++;
	pgr_manifest_free(&m);
	return f->labels[f->n - 1];
}

static void fx_build(struct fx *f, struct pgr_catalog *cat)
{
	struct pgr_error err = {0};
	if (!pgr_catalog_from_listing(&f->objs, (const char *const *)f->labels, (const char *const *)f->json, f->n, cat,
	                              &err))
		fail_msg("pgr_catalog_from_listing: %s", err.msg);
}

static void fx_free(struct fx *f)
{
	pgr_object_list_free(&f->objs);
	for (size_t i = 0; i < f->n; i++) {
		free(f->labels[i]);
		free(f->json[i]);
	}
}

static struct pgr_target time_target(time_t t)
{
	struct pgr_target tg;
	memset(&tg, 0, sizeof(tg));
	tg.kind = PGR_TARGET_TIME;
	tg.time = t;
	tg.inclusive = true;
	return tg;
}

static struct pgr_target lsn_target(uint64_t lsn)
{
	struct pgr_target tg;
	memset(&tg, 0, sizeof(tg));
	tg.kind = PGR_TARGET_LSN;
	tg.lsn = lsn;
	tg.inclusive = true;
	return tg;
}

static void assert_pick(const struct pgr_target *t, const struct pgr_catalog *cat, const struct pgr_window *w,
                        const char *label)
{
	struct pgr_error err = {0};
	if (!pgr_target_check_window(t, cat, w, &err))
		fail_msg("check_window refused: %s HINT: %s", err.msg, err.hint);
	const struct pgr_base *b = pgr_target_pick_base(t, cat, w, &err);
	if (!b)
		fail_msg("pick_base: %s HINT: %s", err.msg, err.hint);
	assert_string_equal(b->label, label);
}

/* ------------------------------------------------------------ the window */

/* Segments 1..40 archived an hour apart from T0; base backups at T0+2h
 * (segments 3-4) and T0+20h (21-22); a deployment dump the day before and a
 * failed one. Window: 2026-03-01 02:01:00 .. 2026-03-02 15:00:00 UTC. */
static void window_time(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 40, T0);
	const char *b1 = fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	const char *b2 = fx_base(&f, T0 + 20 * HOUR, 1, 21, 22);
	pgr_object_list_add(&f.objs, "database/postgres-backup-20260228-000000.sql.gz", 5000, T0 - DAY + 100);
	pgr_object_list_add(&f.objs, "database/postgres-backup-20260301-010000.sql.gz", 0, T0 + HOUR + 100);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	assert_true(w.exists);
	assert_int_equal(w.earliest, T0 + 2 * HOUR + 60);
	assert_int_equal(w.latest, T0 + 39 * HOUR);

	/* Inside: the newest base that ended before the target. */
	struct pgr_target t = time_target(T0 + 10 * HOUR);
	assert_pick(&t, &cat, &w, b1);
	t = time_target(T0 + 21 * HOUR);
	assert_pick(&t, &cat, &w, b2);
	t = time_target(T0 + 20 * HOUR + 61);
	assert_pick(&t, &cat, &w, b2);
	t = time_target(T0 + 20 * HOUR + 60); /* the second b2 ended in: not strictly after it */
	assert_pick(&t, &cat, &w, b1);
	t = time_target(w.latest);
	assert_pick(&t, &cat, &w, b2);
	t = time_target(w.earliest + 1);
	assert_pick(&t, &cat, &w, b1);

	/* Before: the window and the dump from before the target. */
	struct pgr_error err = {0};
	t = time_target(T0 + HOUR + 30 * 60);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	assert_string_equal(err.msg,
	                    "target time 2026-03-01 01:30:00 UTC (inclusive) is before the recoverable window");
	assert_contains(err.hint,
	                "from 2026-03-01 02:01:00 UTC (end of base backup 20260301-020000) to "
	                "2026-03-02 15:00:00 UTC");
	assert_contains(err.hint, "database/postgres-backup-20260228-000000.sql.gz (taken 2026-02-28 00:00:00 UTC)");
	assert_contains(err.hint, "pgrescue restore --backup postgres-backup-20260228-000000.sql.gz");
	assert_null(pgr_target_pick_base(&t, &cat, &w, &err));
	assert_contains(err.msg, "no base backup ends before target time 2026-03-01 01:30:00 UTC");
	assert_contains(err.hint, "20260301-020000, ended at 2026-03-01 02:01:00 UTC");

	/* Before every dump too. */
	t = time_target(T0 - 2 * DAY);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	assert_contains(err.hint, "No logical dump predates it either.");

	/* After: where the archive ends, and the question whether it lags. */
	t = time_target(w.latest);
	t.usec = 1;
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	t = time_target(T0 + 40 * HOUR);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	assert_string_equal(err.msg,
	                    "target time 2026-03-02 16:00:00 UTC (inclusive) is after the end of the "
	                    "recoverable window");
	assert_contains(err.hint, "to 2026-03-02 15:00:00 UTC");
	assert_contains(err.hint,
	                "The WAL archive ends at 2026-03-02 15:00:00 UTC: is archiving lagging? See "
	                "`pgrescue status`.");

	/* xid and name replay from the start of the window; immediate from its newest base. */
	struct pgr_target x = parse_ok("xid", "1234");
	assert_pick(&x, &cat, &w, b1);
	x = parse_ok("name", "before-drop");
	assert_pick(&x, &cat, &w, b1);
	x = parse_ok("immediate", NULL);
	assert_pick(&x, &cat, &w, b2);
	x.inclusive = false;
	assert_false(pgr_target_check_window(&x, &cat, &w, &err));
	assert_contains(err.msg, "--exclusive");
	x = parse_ok("name", "before-drop");
	x.inclusive = false;
	assert_false(pgr_target_check_window(&x, &cat, &w, &err));
	assert_contains(err.msg, "--exclusive does not apply to a restore point");

	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

static void window_lsn(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 40, T0);
	const char *b1 = fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	const char *b2 = fx_base(&f, T0 + 20 * HOUR, 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);

	/* From b1's stop LSN (0/4000100) to the end of segment 40 (0/29000000). */
	struct pgr_target t = lsn_target(4 * 16 * MiB + 0x100);
	assert_pick(&t, &cat, &w, b1);
	t = lsn_target(22 * 16 * MiB + 0xFF);
	assert_pick(&t, &cat, &w, b1);
	t = lsn_target(22 * 16 * MiB + 0x100);
	assert_pick(&t, &cat, &w, b2);
	t = lsn_target(41 * 16 * MiB - 1);
	assert_pick(&t, &cat, &w, b2);

	struct pgr_error err = {0};
	t = lsn_target(4 * 16 * MiB + 0xFF);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	assert_string_equal(err.msg, "target lsn 0/40000FF (inclusive) is before the recoverable window");
	assert_contains(err.hint, "from LSN 0/4000100 (end of base backup 20260301-020000) to just before 0/29000000");
	assert_null(pgr_target_pick_base(&t, &cat, &w, &err));
	t = lsn_target(41 * 16 * MiB);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	assert_contains(err.msg, "after the end of the recoverable window");
	assert_contains(err.hint, "is archiving lagging?");

	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* A hole in the archive ends the window: the hint names the missing segment. */
static void window_hole(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 29, T0);
	fx_segs(&f, 1, 31, 40, T0 + 30 * HOUR);
	fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	struct pgr_error err = {0};
	struct pgr_target t = time_target(T0 + 35 * HOUR);
	assert_false(pgr_target_check_window(&t, &cat, &w, &err));
	char *hole = segname(1, 30);
	assert_contains(err.hint, hole);
	assert_contains(err.hint, "hole");
	free(hole);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* Timeline 2 branched off timeline 1 at segment 10; a base backup on
 * timeline 2 is no start for a recovery along timeline 1. */
static void window_timelines(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 12, T0);
	pgr_object_list_add(&f.objs, "wal-archive/00000002.history", 42, T0 + 9 * HOUR);
	fx_segs(&f, 2, 10, 15, T0 + 9 * HOUR);
	const char *b1 = fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	const char *b2 = fx_base(&f, T0 + 9 * HOUR + 600, 2, 10, 10);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_window *v = NULL;
	size_t n = pgr_catalog_windows(&cat, &v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].timeline, 1);
	assert_true(v[0].exists);
	struct pgr_target t = time_target(T0 + 11 * HOUR);
	assert_pick(&t, &cat, &v[0], b1);
	assert_pick(&t, &cat, &v[1], b2);
	/* No window at all: only xid and name pass the check, nothing picks a base. */
	struct pgr_window none;
	memset(&none, 0, sizeof(none));
	none.why_not = xstrdup("no base backup in the store");
	struct pgr_error err = {0};
	assert_false(pgr_target_check_window(&t, &cat, &none, &err));
	assert_contains(err.msg, "no recoverable window for target time");
	assert_contains(err.msg, "no base backup in the store");
	struct pgr_target x = parse_ok("xid", "1234");
	assert_true(pgr_target_check_window(&x, &cat, &none, &err));
	assert_null(pgr_target_pick_base(&x, &cat, &none, &err));
	x = parse_ok("immediate", NULL);
	assert_false(pgr_target_check_window(&x, &cat, &none, &err));
	pgr_window_free(&none);
	pgr_windows_free(v, n);
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* ------------------------------------------------------------ assessment */

/* Base A at T0+2h (segments 3-4) with WAL 1..19 hourly; segment 20 missing;
 * WAL 21..40; base B at T0+25h (segments 26-27). A time between A's last
 * segment and B's end is in a gap; one inside B's run (T0+25h..+25h1m) only
 * B could serve is refused; one A reaches past the hole is recovered from A. */
static void assess_gap_and_base_run(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 19, T0);
	fx_segs(&f, 1, 21, 40, T0 + 20 * HOUR);
	const char *a = fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	const char *b = fx_base(&f, T0 + 25 * HOUR, 1, 26, 27);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_assessment as;

	/* Reached from A, before the hole: A, about 10 segments to replay, 1 MiB/s. */
	struct pgr_target t = time_target(T0 + 12 * HOUR + 30 * 60);
	pgr_target_assess(&t, &cat, 0, 1024 * 1024, &as);
	assert_true(as.ok);
	assert_string_equal(as.base->label, a);
	assert_int_equal(as.timeline, 1);
	assert_int_equal(as.replay_bytes, (uint64_t)(14 - 3 + 1) * 16 * MiB);
	assert_true(as.replay_secs > 190 && as.replay_secs < 194);
	assert_contains(as.verdict, "inside the recoverable window of timeline 1");
	assert_string_equal(as.warning, "");

	/* In the gap: after A's WAL ends (segment 19, T0+18h) and before B ends. */
	t = time_target(T0 + 22 * HOUR);
	pgr_target_assess(&t, &cat, 0, 0, &as);
	assert_false(as.ok);
	char *hole = segname(1, 20);
	assert_contains(as.verdict, "WAL gap");
	assert_contains(as.verdict, hole);
	assert_contains(as.verdict, b);
	free(hole);
	assert_contains(as.hint, "or later");

	/* Inside B's own run, with no older base reaching it. */
	t = time_target(T0 + 25 * HOUR + 30);
	pgr_target_assess(&t, &cat, 0, 0, &as);
	assert_false(as.ok);
	assert_contains(as.verdict, "inside base backup");
	assert_contains(as.verdict, b);
	assert_contains(as.verdict, "own run");
	assert_contains(as.hint, "2026-03-02 01:01:00");

	/* After B: B is used; after the last archived commit a warning. */
	t = time_target(T0 + 30 * HOUR);
	pgr_target_assess(&t, &cat, T0 + 29 * HOUR, 0, &as);
	assert_true(as.ok);
	assert_string_equal(as.base->label, b);
	assert_true(as.replay_secs < 0);
	assert_contains(as.warning, "after the last archived commit");

	/* Before everything; after everything. */
	t = time_target(T0 + HOUR);
	pgr_target_assess(&t, &cat, 0, 0, &as);
	assert_false(as.ok);
	assert_contains(as.verdict, "before the recoverable window");
	t = time_target(T0 + 50 * HOUR);
	pgr_target_assess(&t, &cat, 0, 0, &as);
	assert_false(as.ok);
	assert_contains(as.verdict, "after the end of the recoverable window");
	pgr_catalog_free(&cat);
	fx_free(&f);
}

/* A newer base backup running at the target, with an older one reaching it:
 * recoverable from the older one, with a warning naming both. */
static void assess_inside_newer_base(void **state)
{
	(void)state;
	struct fx f = {0};
	fx_segs(&f, 1, 1, 40, T0);
	const char *a = fx_base(&f, T0 + 2 * HOUR, 1, 3, 4);
	const char *b = fx_base(&f, T0 + 20 * HOUR, 1, 21, 22);
	struct pgr_catalog cat;
	fx_build(&f, &cat);
	struct pgr_assessment as;
	struct pgr_target t = time_target(T0 + 20 * HOUR + 30);
	pgr_target_assess(&t, &cat, 0, 0, &as);
	assert_true(as.ok);
	assert_string_equal(as.base->label, a);
	assert_contains(as.warning, b);
	assert_contains(as.warning, "own run");
	/* An LSN target: bytes from the base's start, exact. */
	struct pgr_target l = lsn_target(30 * 16 * MiB);
	pgr_target_assess(&l, &cat, 0, 16 * MiB, &as);
	assert_true(as.ok);
	assert_string_equal(as.base->label, b);
	assert_int_equal(as.replay_bytes, 30 * 16 * MiB - (21 * 16 * MiB + 0x28));
	pgr_catalog_free(&cat);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(time_forms),
	        cmocka_unit_test(time_dst),
	        cmocka_unit_test(time_footer_only_zone),
	        cmocka_unit_test_setup_teardown(time_without_zone, save_tz, restore_tz),
	        cmocka_unit_test(time_refusals),
	        cmocka_unit_test(xid_lsn_name_immediate),
	        cmocka_unit_test(settings_and_describe),
	        cmocka_unit_test_setup_teardown(time_echo, save_tz, restore_tz),
	        cmocka_unit_test(window_time),
	        cmocka_unit_test(window_lsn),
	        cmocka_unit_test(window_hole),
	        cmocka_unit_test(window_timelines),
	        cmocka_unit_test(assess_gap_and_base_run),
	        cmocka_unit_test(assess_inside_newer_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
