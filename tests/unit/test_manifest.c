/* Manifest JSON: a full round trip, and one test per kind of malformed field,
 * checking that the error names the field and the source. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/xalloc.h"
#include "ops/manifest.h"

#define SHA_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_B "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void fill_base(struct pgr_manifest *m)
{
	pgr_manifest_init(m, PGR_BACKUP_BASE);
	m->label = xstrdup("20260102-020000");
	m->database = xstrdup("clipper_db");
	m->server_version = xstrdup("15.6 (Debian 15.6-0+deb12u1)");
	m->system_identifier = xstrdup("7321234567890123456");
	m->pgrescue_version = xstrdup("0.1.0");
	m->status = xstrdup("complete");
	m->start_time = 1767319200; /* 2026-01-02T02:00:00Z */
	m->stop_time = 1767319262;
	m->start_lsn = 0x000000010A000028ULL;
	m->stop_lsn = 0x000000010B0001F8ULL;
	m->rows_lsn = 0x0000000109FFF000ULL;
	m->timeline = 3;
	m->wal_segment_size = 16777216;
	m->start_wal = xstrdup("00000003000000010000000A");
	m->stop_wal = xstrdup("00000003000000010000000B");
	pgr_manifest_add_file(m, "base/20260102-020000/base.tar", 5000000000000000ULL, SHA_A);
	pgr_manifest_add_file(m, "base/20260102-020000/backup_manifest", 184467, SHA_B);
	pgr_manifest_add_table(m, "public", "users", 1000);
	pgr_manifest_add_table(m, "public", "clips", 5000);
	pgr_manifest_add_table(m, "Odd \"Schema\"", "naïve table", 0);
}

static void round_trip(void **state)
{
	(void)state;
	struct pgr_manifest a, b;
	fill_base(&a);
	char *json = pgr_manifest_to_json(&a);
	assert_non_null(json);
	assert_int_equal(json[strlen(json) - 1], '\n');
	/* Humans read these: LSNs and times in their usual notation. */
	assert_non_null(strstr(json, "\"start_lsn\":\t\"1/A000028\""));
	assert_non_null(strstr(json, "\"stop_lsn\":\t\"1/B0001F8\""));
	assert_non_null(strstr(json, "\"start_time\":\t\"2026-01-02T02:00:00Z\""));
	assert_non_null(strstr(json, "\"start_time_unix\":\t1767319200"));
	assert_non_null(strstr(json, "5000000000000000"));

	struct pgr_error err = {0};
	assert_true(pgr_manifest_from_json(json, "test.json", &b, &err));
	assert_int_equal(b.format_version, 1);
	assert_int_equal(b.kind, PGR_BACKUP_BASE);
	assert_string_equal(b.label, a.label);
	assert_string_equal(b.database, a.database);
	assert_string_equal(b.server_version, a.server_version);
	assert_string_equal(b.system_identifier, a.system_identifier);
	assert_string_equal(b.pgrescue_version, a.pgrescue_version);
	assert_string_equal(b.status, "complete");
	assert_int_equal(b.start_time, a.start_time);
	assert_int_equal(b.stop_time, a.stop_time);
	assert_true(b.start_lsn == a.start_lsn);
	assert_true(b.stop_lsn == a.stop_lsn);
	assert_true(b.rows_lsn == a.rows_lsn);
	assert_int_equal(b.timeline, 3);
	assert_int_equal(b.wal_segment_size, 16777216);
	assert_string_equal(b.start_wal, a.start_wal);
	assert_string_equal(b.stop_wal, a.stop_wal);
	assert_int_equal(b.n_files, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(b.files[i].name, a.files[i].name);
		assert_true(b.files[i].size == a.files[i].size);
		assert_string_equal(b.files[i].sha256, a.files[i].sha256);
	}
	assert_int_equal(b.n_tables, 3);
	assert_int_equal(pgr_manifest_rows(&b, "public", "users"), 1000);
	assert_int_equal(pgr_manifest_rows(&b, "public", "clips"), 5000);
	assert_int_equal(pgr_manifest_rows(&b, "Odd \"Schema\"", "naïve table"), 0);
	assert_int_equal(pgr_manifest_rows(&b, "public", "missing"), -1);

	/* Writing again gives the same text. */
	char *json2 = pgr_manifest_to_json(&b);
	assert_string_equal(json, json2);
	free(json2);
	free(json);
	pgr_manifest_free(&a);
	pgr_manifest_free(&b);
}

static void dump_round_trip_and_many_tables(void **state)
{
	(void)state;
	struct pgr_manifest a, b;
	pgr_manifest_init(&a, PGR_BACKUP_DUMP);
	a.label = xstrdup("20260102-020000");
	a.status = xstrdup("complete");
	a.start_time = a.stop_time = 1767319200;
	pgr_manifest_add_file(&a, "database/postgres-backup-20260102-020000.sql.gz", 0, SHA_A);
	for (int i = 0; i < 1000; i++) {
		char name[32];
		snprintf(name, sizeof name, "t%04d", i);
		pgr_manifest_add_table(&a, "public", name, i * 1000003LL);
	}
	char *json = pgr_manifest_to_json(&a);
	/* Unknown LSNs and segments are null, not "0/0". */
	assert_non_null(strstr(json, "\"start_lsn\":\tnull"));
	assert_non_null(strstr(json, "\"start_wal\":\tnull"));
	struct pgr_error err = {0};
	assert_true(pgr_manifest_from_json(json, "dump.json", &b, &err));
	assert_int_equal(b.kind, PGR_BACKUP_DUMP);
	assert_null(b.database);
	assert_null(b.start_wal);
	assert_true(b.start_lsn == 0);
	assert_int_equal(b.n_tables, 1000);
	assert_int_equal(pgr_manifest_rows(&b, "public", "t0999"), 999 * 1000003LL);
	free(json);
	pgr_manifest_free(&a);
	pgr_manifest_free(&b);
}

/* Replace the first occurrence of `from` in the manifest's JSON by `to`, parse,
 * and expect an error mentioning each of the needles. */
static void expect_bad(const char *from, const char *to, const char *needle1, const char *needle2)
{
	struct pgr_manifest a, b;
	fill_base(&a);
	char *json = pgr_manifest_to_json(&a);
	pgr_manifest_free(&a);
	char *at = strstr(json, from);
	if (!at)
		fail_msg("test bug: \"%s\" not in the manifest", from);
	char *edited = xasprintf("%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
	struct pgr_error err = {0};
	bool ok = pgr_manifest_from_json(edited, "s3://bucket/base/x/pgrescue.json", &b, &err);
	if (ok)
		fail_msg("accepted a manifest with %s replaced by %s", from, to);
	if (!strstr(err.msg, "s3://bucket/base/x/pgrescue.json"))
		fail_msg("error does not name the source: %s", err.msg);
	if (needle1 && !strstr(err.msg, needle1))
		fail_msg("error does not mention \"%s\": %s", needle1, err.msg);
	if (needle2 && !strstr(err.msg, needle2))
		fail_msg("error does not mention \"%s\": %s", needle2, err.msg);
	/* Nothing half-filled is left behind. */
	assert_null(b.label);
	assert_null(b.files);
	assert_int_equal(b.n_tables, 0);
	free(edited);
	free(json);
}

static void bad_fields(void **state)
{
	(void)state;
	expect_bad("\"format_version\":\t1", "\"format_version\":\t\"1\"", "\"format_version\"", "must be a number");
	expect_bad("\"format_version\":\t1", "\"format_version\":\t1.5", "\"format_version\"", "whole number");
	expect_bad("\"format_version\":\t1", "\"format_version\":\t7", "format_version 7", NULL);
	expect_bad("\"format_version\":\t1,", "", "\"format_version\"", "missing");
	expect_bad("\"kind\":\t\"base\"", "\"kind\":\t\"snapshot\"", "\"kind\"", "snapshot");
	expect_bad("\"kind\":\t\"base\"", "\"kind\":\t2", "\"kind\"", "must be a string");
	expect_bad("\"label\":\t\"20260102-020000\"", "\"label\":\t\"yesterday\"", "\"label\"", "yesterday");
	expect_bad("\"label\":\t\"20260102-020000\"", "\"label\":\tnull", "\"label\"", "missing");
	expect_bad("\"status\":\t\"complete\"", "\"status\":\t\"done\"", "\"status\"", "done");
	expect_bad("\"database\":\t\"clipper_db\"", "\"database\":\t42", "\"database\"", "must be a string");
	expect_bad("\"server_version\":\t\"15.6 (Debian 15.6-0+deb12u1)\"", "\"server_version\":\t[\"15.6\"]",
	           "\"server_version\"", "an array");
	expect_bad("\"system_identifier\":\t\"7321234567890123456\"", "\"system_identifier\":\t7321234567890123456",
	           "\"system_identifier\"", "must be a string");
	expect_bad("\"start_time\":\t\"2026-01-02T02:00:00Z\"", "\"start_time\":\t\"2026-01-02 02:00:00\"",
	           "\"start_time\"", "RFC 3339");
	expect_bad("\"start_time\":\t\"2026-01-02T02:00:00Z\"", "\"start_time\":\t\"2026-01-02T03:00:00Z\"",
	           "\"start_time\"", "disagrees");
	expect_bad("\"stop_time_unix\":\t1767319262", "\"stop_time_unix\":\t-5", "\"stop_time_unix\"", "out of range");
	expect_bad("\"start_lsn\":\t\"1/A000028\"", "\"start_lsn\":\t\"1-A000028\"", "\"start_lsn\"", "1-A000028");
	expect_bad("\"stop_lsn\":\t\"1/B0001F8\"", "\"stop_lsn\":\t\"123456789/0\"", "\"stop_lsn\"", NULL);
	expect_bad("\"stop_lsn\":\t\"1/B0001F8\"", "\"stop_lsn\":\t\"0/1\"", "\"stop_lsn\"", "before start_lsn");
	expect_bad("\"rows_lsn\":\t\"1/9FFF000\"", "\"rows_lsn\":\t16", "\"rows_lsn\"", "must be a string");
	expect_bad("\"timeline\":\t3", "\"timeline\":\t\"3\"", "\"timeline\"", "must be a number");
	expect_bad("\"timeline\":\t3", "\"timeline\":\t0", "\"timeline\"", "complete base");
	expect_bad("\"wal_segment_size\":\t16777216", "\"wal_segment_size\":\t1000000", "\"wal_segment_size\"",
	           "power of two");
	expect_bad("\"start_wal\":\t\"00000003000000010000000A\"", "\"start_wal\":\t\"0000000300000001000000\"",
	           "\"start_wal\"", "24 hex digits");
	expect_bad("\"stop_wal\":\t\"00000003000000010000000B\"", "\"stop_wal\":\tnull", "\"stop_wal\"",
	           "complete base");
	expect_bad("\"files\":\t[", "\"files\":\t{\"x\": 1}, \"old_files\":\t[", "\"files\"", "must be an array");
	expect_bad("\"name\":\t\"base/20260102-020000/base.tar\"", "\"name\":\t\"\"", "\"files[0].name\"", "empty");
	expect_bad("\"size\":\t184467", "\"size\":\t-1", "\"files[1].size\"", "out of range");
	expect_bad("\"size\":\t184467", "\"size\":\t\"184467\"", "\"files[1].size\"", "must be a number");
	expect_bad(SHA_B, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "\"files[1].sha256\"",
	           "64 lowercase hex");
	expect_bad(SHA_A, "abc", "\"files[0].sha256\"", "abc");
	expect_bad("\"schema\":\t\"public\"", "\"schema\":\tfalse", "\"tables[0].schema\"", "a boolean");
	expect_bad("\"table\":\t\"clips\"", "\"tablename\":\t\"clips\"", "\"tables[1].table\"", "missing");
	expect_bad("\"rows\":\t5000", "\"rows\":\t50.5", "\"tables[1].rows\"", "whole number");
	expect_bad("\"rows\":\t5000", "\"rows\":\t-3", "\"tables[1].rows\"", "out of range");
	expect_bad("\"tables\":\t[", "\"tables\":\t[7, ", "\"tables[0]\"", "must be an object");
}

static void not_json(void **state)
{
	(void)state;
	struct pgr_manifest m;
	struct pgr_error err = {0};
	assert_false(pgr_manifest_from_json("{\"format_version\": 1, \"kind\": ", "cut.json", &m, &err));
	assert_non_null(strstr(err.msg, "cut.json"));
	assert_non_null(strstr(err.msg, "not valid JSON"));
	assert_true(err.hint[0] != '\0');
	assert_false(pgr_manifest_from_json("[1, 2]", "array.json", &m, &err));
	assert_non_null(strstr(err.msg, "array.json"));
	assert_non_null(strstr(err.msg, "must be an object"));
	assert_false(pgr_manifest_from_json("{} trailing", "trail.json", &m, &err));
	assert_false(pgr_manifest_from_json(NULL, "null.json", &m, &err));
	assert_non_null(strstr(err.msg, "null.json"));
}

static void minimal_and_failed(void **state)
{
	(void)state;
	/* A failed base backup needs no WAL range; only the unix time is enough. */
	const char *text =
	        "{\"format_version\":1,\"kind\":\"base\",\"label\":\"20260102-020000\",\"status\":\"failed\","
	        "\"start_time_unix\":1767319200,\"stop_time\":\"2026-01-02T02:01:00Z\",\"future\":{}}";
	struct pgr_manifest m;
	struct pgr_error err = {0};
	assert_true(pgr_manifest_from_json(text, "min.json", &m, &err));
	assert_string_equal(m.status, "failed");
	assert_int_equal(m.start_time, 1767319200);
	assert_int_equal(m.stop_time, 1767319260);
	assert_int_equal(m.n_files, 0);
	pgr_manifest_free(&m);
	/* Neither form of a time: named. */
	const char *no_time = "{\"format_version\":1,\"kind\":\"dump\",\"label\":\"20260102-020000\","
	                      "\"status\":\"complete\",\"start_time_unix\":1767319200}";
	assert_false(pgr_manifest_from_json(no_time, "notime.json", &m, &err));
	assert_non_null(strstr(err.msg, "\"stop_time\""));
	assert_non_null(strstr(err.msg, "missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(round_trip),         cmocka_unit_test(dump_round_trip_and_many_tables),
	        cmocka_unit_test(bad_fields),         cmocka_unit_test(not_json),
	        cmocka_unit_test(minimal_and_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
