/* Metrics: the exact text a Pushgateway and a textfile collector receive,
 * the trailing newline, the values of a failed run, the atomic file, and a
 * push to a dead address failing with its URL named (quickly). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "ops/metrics.h"

static void format_exact(void **state)
{
	(void)state;
	struct pgr_metric m[] = {
	        {"postgres_backup_success", "1 if the last backup run succeeded", 1},
	        {"postgres_backup_timestamp", "Unix time", 1767319262},
	        {"pgrescue_backup_duration_seconds", "Line one\nback\\slash", 12.25},
	        {"x_ratio", NULL, 0.1},
	        {"big", "", 5000000000000.0},
	};
	char *text = pgr_metrics_format(m, 5);
	assert_string_equal(text,
	                    "# HELP postgres_backup_success 1 if the last backup run succeeded\n"
	                    "# TYPE postgres_backup_success gauge\n"
	                    "postgres_backup_success 1\n"
	                    "# HELP postgres_backup_timestamp Unix time\n"
	                    "# TYPE postgres_backup_timestamp gauge\n"
	                    "postgres_backup_timestamp 1767319262\n"
	                    "# HELP pgrescue_backup_duration_seconds Line one\\nback\\\\slash\n"
	                    "# TYPE pgrescue_backup_duration_seconds gauge\n"
	                    "pgrescue_backup_duration_seconds 12.25\n"
	                    "# TYPE x_ratio gauge\n"
	                    "x_ratio 0.1\n"
	                    "# TYPE big gauge\n"
	                    "big 5000000000000\n");
	free(text);
	/* Nothing to say is still a valid (empty) body. */
	text = pgr_metrics_format(m, 0);
	assert_string_equal(text, "");
	free(text);
}

static void trailing_newline(void **state)
{
	(void)state;
	struct pgr_metric m = {"postgres_backup_size_bytes", "Size", 123456789};
	char *text = pgr_metrics_format(&m, 1);
	size_t n = strlen(text);
	assert_true(n > 0);
	/* The Pushgateway answers 400 to a body without a final newline. */
	assert_int_equal(text[n - 1], '\n');
	assert_int_not_equal(text[n - 2], '\n');
	free(text);
}

static double value_of(const struct pgr_metric *m, const char *name)
{
	for (int i = 0; i < PGR_BACKUP_METRICS_N; i++)
		if (!strcmp(m[i].name, name))
			return m[i].value;
	fail_msg("no metric %s", name);
	return -1;
}

static void backup_success_values(void **state)
{
	(void)state;
	struct pgr_backup_metrics in = {.success = true,
	                                .attempt_end = 1767319262,
	                                .duration_seconds = 62.5,
	                                .dump_size = 1000,
	                                .base_size = 5000,
	                                .last_success = 1767232800,
	                                .last_dump_size = 900,
	                                .last_base_size = 4000};
	struct pgr_metric m[PGR_BACKUP_METRICS_N];
	pgr_metrics_backup(&in, m);
	assert_true(value_of(m, "postgres_backup_success") == 1);
	assert_true(value_of(m, "postgres_backup_timestamp") == 1767319262);
	assert_true(value_of(m, "postgres_backup_size_bytes") == 1000);
	assert_true(value_of(m, "pgrescue_backup_base_size_bytes") == 5000);
	assert_true(value_of(m, "pgrescue_backup_duration_seconds") == 62.5);
	assert_true(value_of(m, "pgrescue_backup_last_attempt_timestamp") == 1767319262);
	for (int i = 0; i < PGR_BACKUP_METRICS_N; i++)
		assert_true(m[i].help && *m[i].help);
}

static void backup_failure_values(void **state)
{
	(void)state;
	/* A failure pushes success 0 and keeps the last success's timestamp, so
	 * BackupJobFailed ((time() - postgres_backup_timestamp) > 86400) fires. */
	struct pgr_backup_metrics in = {.success = false,
	                                .attempt_end = 1767405662,
	                                .duration_seconds = 0.5,
	                                .dump_size = 77,
	                                .base_size = 0,
	                                .last_success = 1767319262,
	                                .last_dump_size = 1000,
	                                .last_base_size = 5000};
	struct pgr_metric m[PGR_BACKUP_METRICS_N];
	pgr_metrics_backup(&in, m);
	char *text = pgr_metrics_format(m, PGR_BACKUP_METRICS_N);
	assert_non_null(strstr(text, "\npostgres_backup_success 0\n"));
	assert_non_null(strstr(text, "\npostgres_backup_timestamp 1767319262\n"));
	assert_non_null(strstr(text, "\npostgres_backup_size_bytes 1000\n"));
	assert_non_null(strstr(text, "\npgrescue_backup_base_size_bytes 5000\n"));
	assert_non_null(strstr(text, "\npgrescue_backup_duration_seconds 0.5\n"));
	assert_non_null(strstr(text, "\npgrescue_backup_last_attempt_timestamp 1767405662\n"));
	assert_non_null(strstr(text, "# TYPE postgres_backup_success gauge\n"));

	/* Read back, as the next run does. */
	double v = 0;
	assert_true(pgr_metrics_parse_value(text, "postgres_backup_timestamp", &v));
	assert_true(v == 1767319262);
	assert_true(pgr_metrics_parse_value(text, "postgres_backup_success", &v));
	assert_true(v == 0);
	assert_false(pgr_metrics_parse_value(text, "postgres_backup", &v));
	assert_false(pgr_metrics_parse_value("# HELP postgres_backup_timestamp x\n", "postgres_backup_timestamp", &v));
	free(text);

	/* Never succeeded and nothing known: 0, which keeps the alert firing. */
	struct pgr_backup_metrics never = {.success = false, .attempt_end = 1767405662};
	pgr_metrics_backup(&never, m);
	assert_true(value_of(m, "postgres_backup_timestamp") == 0);
	assert_true(value_of(m, "postgres_backup_success") == 0);
}

static void parse_value_forms(void **state)
{
	(void)state;
	const char *text = "a_total{job=\"x\"} 5\na 7\nab 9\nc NaN\nd +Inf\ne 1.5e3\n";
	double v = 0;
	assert_true(pgr_metrics_parse_value(text, "a", &v));
	assert_true(v == 7);
	assert_true(pgr_metrics_parse_value(text, "ab", &v));
	assert_true(v == 9);
	assert_true(pgr_metrics_parse_value(text, "c", &v));
	assert_true(v != v);
	assert_true(pgr_metrics_parse_value(text, "d", &v));
	assert_true(v > 1e300);
	assert_true(pgr_metrics_parse_value(text, "e", &v));
	assert_true(v == 1500);
	assert_false(pgr_metrics_parse_value(text, "a_total", &v));
}

static void write_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/pgr-test-metrics-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/sub/backup.prom", dir);
	struct pgr_metric m[] = {{"postgres_backup_success", "ok", 1}, {"postgres_backup_timestamp", "t", 42}};
	struct pgr_error err = {0};
	assert_true(pgr_metrics_write_file(path, m, 2, &err));
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(path, &data, &len, &err));
	char *want = pgr_metrics_format(m, 2);
	assert_string_equal(data, want);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	free(want);
	free(data);
	/* A directory where the file should be: an error naming the path. */
	char *blocked = xasprintf("%s/sub/backup.prom/x", dir);
	assert_false(pgr_metrics_write_file(blocked, m, 2, &err));
	assert_non_null(strstr(err.msg, "backup.prom"));
	free(blocked);
	assert_true(pgr_rm_rf(dir, &err));
	free(path);
}

static void push_errors(void **state)
{
	(void)state;
	struct pgr_metric m = {"postgres_backup_success", "ok", 1};
	struct pgr_error err = {0};
	/* Port 1 on loopback: refused at once. The password never reaches the message. */
	assert_false(pgr_metrics_push("http://user:secret@127.0.0.1:1/", "postgres_backup", &m, 1, 3, &err));
	assert_non_null(strstr(err.msg, "127.0.0.1:1/metrics/job/postgres_backup"));
	assert_null(strstr(err.msg, "secret"));
	assert_true(err.hint[0] != '\0');
	assert_false(pgr_metrics_push("pushgateway:9091", "postgres_backup", &m, 1, 3, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "pushgateway:9091"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(format_exact),          cmocka_unit_test(trailing_newline),
	        cmocka_unit_test(backup_success_values), cmocka_unit_test(backup_failure_values),
	        cmocka_unit_test(parse_value_forms),     cmocka_unit_test(write_file),
	        cmocka_unit_test(push_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
