/* The parts of inspecting a paused recovery that need no server: which
 * queries the engineer may run there (reads yes; writes, promotion, replay
 * control and SQL-from-text no, even when hidden behind quotes, comments or
 * schema names), and the text table a query's answer prints as. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "recovery/inspect.h"

static void allowed(const char *sql)
{
	struct pgr_error err = {0};
	if (!pgr_inspect_sql_allowed(sql, &err))
		fail_msg("refused \"%s\": %s", sql, err.msg);
}

static void refused(const char *sql, const char *why)
{
	struct pgr_error err = {0};
	if (pgr_inspect_sql_allowed(sql, &err))
		fail_msg("allowed \"%s\"", sql);
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	if (!strstr(err.msg, why))
		fail_msg("\"%s\": the error \"%s\" does not say \"%s\"", sql, err.msg, why);
	assert_true(err.hint[0] != '\0');
}

static void test_reads_are_allowed(void **state)
{
	(void)state;
	allowed("SELECT count(*) FROM users");
	allowed("  select * from clips where id > 3;");
	allowed("-- the users\nSELECT 1");
	allowed("/* nested /* comment */ */ SELECT 1");
	allowed("(SELECT 1) UNION (SELECT 2)");
	allowed("WITH x AS (SELECT 1 AS n) SELECT n FROM x");
	allowed("TABLE users");
	allowed("VALUES (1), (2)");
	/* Names of denied functions as data or as column names are fine. */
	allowed("SELECT * FROM notes WHERE body LIKE '%pg_promote()%'");
	allowed("SELECT 'it''s set_config(' AS s");
	allowed("SELECT E'\\' pg_promote(' AS s");
	allowed("SELECT $$ pg_wal_replay_resume() $$, $tag$ set_config( $tag$");
	allowed("SELECT lo_total, nextval_seen FROM stats");
	allowed("SELECT pg_last_wal_replay_lsn(), pg_is_in_recovery()");
}

static void test_changes_are_refused(void **state)
{
	(void)state;
	refused("DELETE FROM users", "DELETE is not one");
	refused("update users set name = 'x'", "UPDATE is not one");
	refused("INSERT INTO users VALUES (1)", "INSERT is not one");
	refused("TRUNCATE users", "TRUNCATE is not one");
	refused("COPY users TO PROGRAM 'rm -rf /'", "COPY is not one");
	refused("SET ROLE postgres", "SET is not one");
	refused("DO $$ BEGIN PERFORM pg_promote(); END $$", "DO is not one");
	refused("  -- hidden\n CALL p()", "CALL is not one");
	refused("", "empty");
	refused("'select'", "only a query");
	/* Server-changing functions, however they are written. */
	refused("SELECT pg_promote()", "pg_promote()");
	refused("SELECT pg_catalog.pg_promote(true, 60)", "pg_promote()");
	refused("SELECT \"pg_promote\" ()", "pg_promote()");
	refused("SELECT PG_WAL_REPLAY_RESUME /* c */ ()", "pg_wal_replay_resume()");
	refused("SELECT set_config('role', 'postgres', true)", "set_config()");
	refused("SELECT query_to_xml('select pg_' || 'promote()', true, true, '')", "query_to_xml()");
	refused("SELECT lo_export(1, '/tmp/x')", "lo_export()");
	refused("SELECT dblink_exec('dbname=x', 'drop table t')", "dblink_exec()");
	refused("SELECT pg_terminate_backend(123)", "pg_terminate_backend()");
	refused("SELECT nextval('s')", "nextval()");
	refused("SELECT E'\\'', pg_promote(), ''", "pg_promote()");
	refused("SELECT U&\"\\0070g_promote\"()", "U&");
}

static void test_table_text(void **state)
{
	(void)state;
	struct pgr_qtable t = {0};
	t.n_cols = 2;
	t.cols = xcalloc(2, sizeof *t.cols);
	t.cols[0] = xstrdup("name");
	t.cols[1] = xstrdup("n");
	t.n_rows = 3;
	t.cells = xcalloc(6, sizeof *t.cells);
	t.cells[0] = xstrdup("users");
	t.cells[1] = xstrdup("12");
	t.cells[2] = xstrdup("clips");
	t.cells[3] = xstrdup("1500");
	t.cells[4] = xstrdup("two\nlines");
	t.cells[5] = NULL;
	t.truncated = true;
	assert_null(pgr_qtable_cell(&t, 2, 1));
	assert_string_equal(pgr_qtable_cell(&t, 1, 0), "clips");
	char *text = pgr_qtable_text(&t);
	assert_non_null(strstr(text, "    name    |  n\n"));
	assert_non_null(strstr(text, "------------+------\n"));
	assert_non_null(strstr(text, " users      |   12\n"));
	assert_non_null(strstr(text, " clips      | 1500\n"));
	assert_non_null(strstr(text, " two\\nlines |     \n"));
	assert_non_null(strstr(text, "(3 rows)\n"));
	assert_non_null(strstr(text, "only the first 3 rows"));
	free(text);
	char *json = pgr_inspect_json(NULL, &t);
	assert_non_null(strstr(json, "\"columns\":"));
	assert_non_null(strstr(json, "null"));
	assert_non_null(strstr(json, "\"truncated\":\ttrue"));
	free(json);
	pgr_qtable_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reads_are_allowed),
	        cmocka_unit_test(test_changes_are_refused),
	        cmocka_unit_test(test_table_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
