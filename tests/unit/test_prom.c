/* Prometheus HTTP API answers, recorded by hand in the shapes the API
 * documents: sample values are strings, a missing series is an empty vector
 * (unknown, not zero), error answers carry errorType and error, and only
 * "firing" alerts count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "source/prom.h"

static bool query(const char *json, bool *found, double *value, double *t, int *n, struct pgr_error *err)
{
	return pgr_prom_parse_query(json, strlen(json), "postgres_backup_timestamp", found, value, t, n, err);
}

static void test_urls(void **state)
{
	(void)state;
	char *u = pgr_prom_query_url("http://127.0.0.1:9090/", "max(postgres_backup_timestamp{job=\"x y\"})");
	assert_string_equal(u,
	                    "http://127.0.0.1:9090/api/v1/query?query=max%28postgres_backup_timestamp%7Bjob%3D%22x%"
	                    "20y%22%7D%29");
	free(u);
	u = pgr_prom_query_url("http://prom.example/prometheus", "up");
	assert_string_equal(u, "http://prom.example/prometheus/api/v1/query?query=up");
	free(u);
	u = pgr_prom_alerts_url("http://127.0.0.1:9090//");
	assert_string_equal(u, "http://127.0.0.1:9090/api/v1/alerts");
	free(u);
	u = pgr_prom_urlencode("a+b/c~d_e.f-g");
	assert_string_equal(u, "a%2Bb%2Fc~d_e.f-g");
	free(u);
	u = pgr_prom_redact_url("https://ops:s3cret@prom.example:9090/api");
	assert_string_equal(u, "https://***@prom.example:9090/api");
	free(u);
	u = pgr_prom_redact_url("http://127.0.0.1:9090/a@b");
	assert_string_equal(u, "http://127.0.0.1:9090/a@b");
	free(u);
	assert_string_equal(pgr_prom_metric_name(PGR_PM_RESTORE_USER_COUNT), "postgres_restore_test_user_count");
	assert_string_equal(pgr_prom_metric_query(PGR_PM_BACKUP_SUCCESS), "min(postgres_backup_success)");
	assert_string_equal(pgr_prom_metric_query(PGR_PM_STORAGE_TOTAL), "max(backup_storage_total_bytes)");
}

static void test_vector_value_is_a_string(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	bool found;
	double v, t;
	int n;
	assert_true(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                  "\"value\":[1767364200.25,\"1767350000\"]}]}}",
	                  &found, &v, &t, &n, &err));
	assert_true(found);
	assert_int_equal(n, 1);
	assert_true(v == 1767350000.0);
	assert_true(t == 1767364200.25);

	/* Exponent notation and labels, as Prometheus prints large gauges. */
	assert_true(
	        query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"job\":"
	              "\"postgres_backup\"},\"value\":[1767364200,\"1.2345e+09\"]},{\"metric\":{\"job\":\"other\"},"
	              "\"value\":[1767364200,\"7\"]}]}}",
	              &found, &v, &t, &n, &err));
	assert_true(found);
	assert_int_equal(n, 2);
	assert_true(v == 1234500000.0);

	/* Special values are spelled as strings too. */
	assert_true(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                  "\"value\":[1,\"NaN\"]}]}}",
	                  &found, &v, &t, &n, &err));
	assert_true(found);
	assert_true(isnan(v));
	assert_true(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                  "\"value\":[1,\"+Inf\"]}]}}",
	                  &found, &v, &t, &n, &err));
	assert_true(isinf(v) && v > 0);

	/* A scalar answer (e.g. a query of a literal). */
	assert_true(query("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1767364200,\"0\"]}}",
	                  &found, &v, &t, &n, &err));
	assert_true(found);
	assert_true(v == 0.0);
}

static void test_missing_series_is_unknown(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	bool found = true;
	double v = 5, t;
	int n = 9;
	assert_true(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", &found, &v, &t,
	                  &n, &err));
	assert_false(found);
	assert_int_equal(n, 0);
	assert_true(isnan(v)); /* never a zero that looks like a value */
}

static void test_error_answer(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	bool found;
	double v, t;
	assert_false(
	        query("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": "
	              "1:5: parse error: unexpected end of input\"}",
	              &found, &v, &t, NULL, &err));
	assert_false(found);
	assert_non_null(strstr(err.msg, "postgres_backup_timestamp"));
	assert_non_null(strstr(err.msg, "(bad_data)"));
	assert_non_null(strstr(err.msg, "parse error: unexpected end of input"));

	/* Timeouts and overload come the same way (503/422 with a JSON body). */
	assert_false(query("{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out in expression "
	                   "evaluation\"}",
	                   &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "(timeout): query timed out"));
}

static void test_malformed(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	bool found;
	double v, t;
	assert_false(query("<html><body>502 Bad Gateway</body></html>", &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "is not JSON"));
	assert_non_null(strstr(err.detail, "502 Bad Gateway"));
	assert_non_null(strstr(err.hint, "Prometheus server"));

	assert_false(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                   "\"value\":[1,\"1\"",
	                   &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "is not JSON"));

	assert_false(query("{\"hello\":1}", &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "not a Prometheus API answer"));

	/* A value that is a number rather than a string is not what the API sends. */
	assert_false(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                   "\"value\":[1,1]}]}}",
	                   &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "[<time>, \"<value>\"]"));
	assert_false(query("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
	                   "\"value\":[1,\"twelve\"]}]}}",
	                   &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "\"twelve\" that is not a number"));
	assert_false(query("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", &found, &v,
	                   &t, NULL, &err));
	assert_non_null(strstr(err.msg, "matrix, not an instant vector"));
	assert_false(query("{\"status\":\"success\"}", &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "no \"data\""));
	assert_false(pgr_prom_parse_query("", 0, "x", &found, &v, &t, NULL, &err));
	assert_non_null(strstr(err.msg, "is not JSON"));
}

static const char alerts_json[] =
        "{\"status\":\"success\",\"data\":{\"alerts\":["
        "{\"labels\":{\"alertname\":\"BackupJobFailed\",\"severity\":\"critical\",\"category\":\"backup\"},"
        "\"annotations\":{\"summary\":\"PostgreSQL backup has not succeeded in 24 hours\"},"
        "\"state\":\"firing\",\"activeAt\":\"2026-01-02T14:00:00.5Z\",\"value\":\"9.1e+04\"},"
        "{\"labels\":{\"alertname\":\"WALArchivingLag\",\"severity\":\"warning\"},\"annotations\":{},"
        "\"state\":\"pending\",\"activeAt\":\"2026-01-02T14:20:00Z\",\"value\":\"1.2e+03\"},"
        "{\"labels\":{\"alertname\":\"BackupJobFailed\",\"instance\":\"b\"},\"annotations\":{},"
        "\"state\":\"firing\",\"activeAt\":\"2026-01-02T14:00:00Z\",\"value\":\"9e+04\"},"
        "{\"labels\":{\"alertname\":\"BackupStorageLow\"},\"annotations\":{},"
        "\"state\":\"firing\",\"activeAt\":\"2026-01-02T14:00:00Z\",\"value\":\"0.9\"}"
        "]}}";

static void test_alerts_firing_not_pending(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	char(*names)[64] = NULL;
	int n = -1;
	assert_true(pgr_prom_parse_alerts(alerts_json, strlen(alerts_json), &names, &n, &err));
	assert_int_equal(n, 2); /* BackupJobFailed once, BackupStorageLow; the pending lag alert is not firing */
	assert_string_equal(names[0], "BackupJobFailed");
	assert_string_equal(names[1], "BackupStorageLow");
	free(names);

	const char none[] = "{\"status\":\"success\",\"data\":{\"alerts\":[]}}";
	assert_true(pgr_prom_parse_alerts(none, strlen(none), &names, &n, &err));
	assert_int_equal(n, 0);
	free(names);
}

static void test_alerts_bad(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	char(*names)[64] = NULL;
	int n;
	const char noname[] = "{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{},\"state\":\"firing\"}]}}";
	assert_false(pgr_prom_parse_alerts(noname, strlen(noname), &names, &n, &err));
	assert_null(names);
	assert_non_null(strstr(err.msg, "labels.alertname"));
	const char nolist[] = "{\"status\":\"success\",\"data\":{}}";
	assert_false(pgr_prom_parse_alerts(nolist, strlen(nolist), &names, &n, &err));
	assert_non_null(strstr(err.msg, "no \"alerts\" list"));
	const char broken[] = "{\"status\":\"succ";
	assert_false(pgr_prom_parse_alerts(broken, strlen(broken), &names, &n, &err));
	assert_non_null(strstr(err.msg, "/api/v1/alerts is not JSON"));
	const char unavailable[] = "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"rule manager not "
	                           "ready\"}";
	assert_false(pgr_prom_parse_alerts(unavailable, strlen(unavailable), &names, &n, &err));
	assert_non_null(strstr(err.msg, "(unavailable): rule manager not ready"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_urls),
	        cmocka_unit_test(test_vector_value_is_a_string),
	        cmocka_unit_test(test_missing_series_is_unknown),
	        cmocka_unit_test(test_error_answer),
	        cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_alerts_firing_not_pending),
	        cmocka_unit_test(test_alerts_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
