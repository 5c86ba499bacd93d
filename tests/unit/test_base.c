/* The base layer: errors, strings, time and durations, redaction, child processes, files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

static void test_error_print(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	assert_false(pgr_error_set(&err, PGR_ERR_STORE, "cannot read \"%s\"", "database/x"));
	pgr_error_detail(&err, "permission denied\n");
	pgr_error_hint(&err, "Check the store's owner.");
	pgr_error_prefix(&err, "backup");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	pgr_error_print(f, &err);
	fclose(f);
	assert_string_equal(buf,
	                    "pgrescue: ERROR: backup: cannot read \"database/x\"\n"
	                    "DETAIL: permission denied\n"
	                    "HINT: Check the store's owner.\n");
	free(buf);
}

static void test_strbuf(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	assert_string_equal(sb_str(&sb), "");
	for (int i = 0; i < 1000; i++)
		sb_printf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	sb_reset(&sb);
	sb_append(&sb, "abc");
	char *s = sb_steal(&sb);
	assert_string_equal(s, "abc");
	free(s);
	assert_int_equal(sb.len, 0);
}

static void test_time_parse(void **state)
{
	(void)state;
	time_t t;
	struct pgr_error err = {0};
	assert_true(pgr_time_parse("2026-01-02T14:30:00Z", &t, &err));
	assert_int_equal(t, 1767364200);
	assert_true(pgr_time_parse("2026-01-02 15:30:00+01:00", &t, &err));
	assert_int_equal(t, 1767364200);
	assert_true(pgr_time_parse("2026-01-02 09:30:00-0500", &t, &err));
	assert_int_equal(t, 1767364200);
	assert_true(pgr_time_parse("2026-01-02 14:30:00 UTC", &t, &err));
	assert_int_equal(t, 1767364200);
	assert_true(pgr_time_parse("2026-01-02T14:30:00.123456Z", &t, &err));
	assert_int_equal(t, 1767364200);
	/* a time without a zone is refused with a hint, never guessed */
	assert_false(pgr_time_parse("2026-01-02 14:30:00", &t, &err));
	assert_non_null(strstr(err.msg, "no time zone"));
	assert_non_null(strstr(err.hint, "never guesses"));
	assert_false(pgr_time_parse("2026-02-30 14:30:00Z", &t, &err));
	assert_false(pgr_time_parse("yesterday", &t, &err));
	assert_false(pgr_time_parse("2026-01-02 14:30:00 CET", &t, &err));
	char buf[32];
	pgr_time_format_utc(1767364200, buf, sizeof buf);
	assert_string_equal(buf, "2026-01-02T14:30:00Z");
	pgr_label_format(1767364200, buf, sizeof buf);
	assert_string_equal(buf, "20260102-143000");
	assert_true(pgr_label_parse("20260102-143000", &t));
	assert_int_equal(t, 1767364200);
	assert_false(pgr_label_parse("20261302-143000", &t));
	assert_false(pgr_label_parse("2026010-1430000", &t));
}

static void test_now_pinned(void **state)
{
	(void)state;
	setenv("PGRESCUE_NOW", "2030-05-06T07:08:09Z", 1);
	char buf[32];
	pgr_time_format_utc(pgr_now(), buf, sizeof buf);
	assert_string_equal(buf, "2030-05-06T07:08:09Z");
	unsetenv("PGRESCUE_NOW");
	assert_true(pgr_now() > 1700000000);
}

static void test_durations(void **state)
{
	(void)state;
	int64_t s;
	struct pgr_error err = {0};
	assert_true(pgr_duration_parse("30d", &s, &err));
	assert_int_equal(s, 30 * 86400);
	assert_true(pgr_duration_parse("1h30m", &s, &err));
	assert_int_equal(s, 5400);
	assert_true(pgr_duration_parse("90", &s, &err));
	assert_int_equal(s, 90);
	assert_false(pgr_duration_parse("7 days", &s, &err));
	assert_false(pgr_duration_parse("", &s, &err));
	assert_false(pgr_duration_parse("-5m", &s, &err));
	char buf[32];
	pgr_duration_format(3 * 86400 + 4 * 3600, buf, sizeof buf);
	assert_string_equal(buf, "3d 4h");
	pgr_duration_format(2 * 3600 + 5 * 60, buf, sizeof buf);
	assert_string_equal(buf, "2h 05m");
	pgr_duration_format(12, buf, sizeof buf);
	assert_string_equal(buf, "12s");
	pgr_size_format(1234567, buf, sizeof buf);
	assert_string_equal(buf, "1.2 MB");
	pgr_size_format(17, buf, sizeof buf);
	assert_string_equal(buf, "17 B");
}

static void test_redact(void **state)
{
	(void)state;
	char *r = pgr_redact_conninfo("host=db password=s3cret user=x");
	assert_string_equal(r, "host=db password=******** user=x");
	free(r);
	r = pgr_redact_conninfo("host=db password = 'it\\'s secret' user=x");
	assert_null(strstr(r, "secret"));
	free(r);
	r = pgr_redact_conninfo("postgresql://app:s3cret@db:5432/clipper_db?sslmode=require");
	assert_string_equal(r, "postgresql://app:********@db:5432/clipper_db?sslmode=require");
	free(r);
	r = pgr_redact_conninfo("postgresql://db/x?password=s3cret&sslmode=require");
	assert_null(strstr(r, "s3cret"));
	free(r);
}

static void test_proc(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	struct pgr_proc_result res;
	const char *echo[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
	struct pgr_proc_spec spec = {.argv = echo, .stdin_fd = -1};
	assert_true(pgr_proc_run(&spec, 10, &res, &err));
	assert_int_equal(res.exit_code, 3);
	assert_string_equal(sb_str(&res.out), "out\n");
	assert_false(pgr_proc_ok(&res, "the script", &err));
	assert_non_null(strstr(err.msg, "the script failed (exit code 3)"));
	assert_non_null(strstr(err.detail, "err"));
	pgr_proc_result_free(&res);

	const char *sleeper[] = {"/bin/sleep", "30", NULL};
	spec.argv = sleeper;
	assert_true(pgr_proc_run(&spec, 1, &res, &err));
	assert_true(res.timed_out);
	assert_false(pgr_proc_ok(&res, "sleep", &err));
	assert_non_null(strstr(err.msg, "timed out"));
	pgr_proc_result_free(&res);

	const char *missing[] = {"/nonexistent/initdb", NULL};
	spec.argv = missing;
	assert_false(pgr_proc_run(&spec, 1, &res, &err));
	assert_non_null(strstr(err.msg, "cannot run /nonexistent/initdb"));
	assert_non_null(strstr(err.hint, "postgresql-15"));
	pgr_proc_result_free(&res);

	const char *args[] = {"pg_dump", "-d", "host=/x dbname=y", "it's", NULL};
	char *joined = pgr_argv_join(args);
	assert_string_equal(joined, "pg_dump -d 'host=/x dbname=y' 'it'\\''s'");
	free(joined);
}

static void test_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/pgr-base-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct pgr_error err = {0};
	char *deep = xasprintf("%s/a/b/c", dir);
	assert_true(pgr_mkdir_p(deep, 0755, &err));
	char *file = xasprintf("%s/f.txt", deep);
	assert_true(pgr_write_file_atomic(file, "abc", 3, 0600, &err));
	char hex[65];
	uint64_t size = 0;
	assert_true(pgr_sha256_file(file, hex, &size, &err));
	assert_int_equal(size, 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	char *data;
	size_t len;
	assert_true(pgr_read_file(file, &data, &len, &err));
	assert_int_equal(len, 3);
	assert_string_equal(data, "abc");
	free(data);
	assert_false(pgr_read_file("/nonexistent/file", &data, &len, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_true(pgr_path_reachable_by(file, 0, 0));
	assert_true(pgr_rm_rf(dir, &err));
	assert_false(pgr_path_exists(dir));
	assert_true(pgr_rm_rf(dir, &err)); /* missing is fine */
	free(deep);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_error_print), cmocka_unit_test(test_strbuf),    cmocka_unit_test(test_time_parse),
	        cmocka_unit_test(test_now_pinned),  cmocka_unit_test(test_durations), cmocka_unit_test(test_redact),
	        cmocka_unit_test(test_proc),        cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
