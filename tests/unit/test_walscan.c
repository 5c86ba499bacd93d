/* The pg_waldump text parser of the event finder, on lines recorded from
 * PostgreSQL 15's pg_waldump (TZ=UTC): DROP TABLE, TRUNCATE, VACUUM FULL
 * (a rewrite, not a drop), a mass DELETE and a mass UPDATE counted per
 * transaction (subtransactions merged, aborted ones forgotten), a small
 * DELETE that is not an event, a CREATE TABLE that is not a truncate, and the
 * commit time with its microseconds. */
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

#include "base/xalloc.h"
#include "recovery/walscan.h"

#define DROP_A                                                                                                         \
	"rmgr: Transaction len (rec/tot):    469/   469, tx:        725, lsn: 0/00662AC0, prev 0/00662A88, desc: "     \
	"COMMIT 2026-11-24 06:36:11.760091 UTC; rels: base/5/16384; dropped stats: 2/5/16384; inval msgs: catcache "   \
	"80 "                                                                                                          \
	"catcache 79 snapshot 2608 relcache 16384 snapshot 2608"
#define TRUNC_CREATE                                                                                                   \
	"rmgr: Storage     len (rec/tot):     42/    42, tx:        726, lsn: 0/00662D10, prev 0/00662CC8, desc: "     \
	"CREATE base/5/16396"
#define TRUNC_CATALOG                                                                                                  \
	"rmgr: Heap        len (rec/tot):    123/   123, tx:        726, lsn: 0/00662D40, prev 0/00662D10, desc: "     \
	"UPDATE off 3 xmax 726 flags 0x60 ; new off 6 xmax 0, blkref #0: rel 1663/5/1259 blk 0"
#define TRUNC_COMMIT                                                                                                   \
	"rmgr: Transaction len (rec/tot):    114/   114, tx:        726, lsn: 0/00662E80, prev 0/00662E40, desc: "     \
	"COMMIT 2026-11-24 06:36:11.778032 UTC; rels: base/5/16387; inval msgs: catcache 55 catcache 54 relcache "     \
	"16387"
#define VF_CREATE                                                                                                      \
	"rmgr: Storage     len (rec/tot):     42/    42, tx:        728, lsn: 0/0067E650, prev 0/0067E620, desc: "     \
	"CREATE base/5/16397"
#define VF_COMMIT                                                                                                      \
	"rmgr: Transaction len (rec/tot):    965/   965, tx:        728, lsn: 0/00685EA8, prev 0/00685E70, desc: "     \
	"COMMIT 2026-11-24 06:36:11.832971 UTC; rels: base/5/16393; dropped stats: 2/5/16397; inval msgs: catcache "   \
	"80 "                                                                                                          \
	"relcache 16397 relcache 16393 snapshot 2608"

static struct pgr_event_list run(const char *const *lines, size_t n, int64_t min_rows)
{
	struct pgr_waldump_parser *p = pgr_waldump_parser_new(1, min_rows);
	for (size_t i = 0; i < n; i++)
		pgr_waldump_parser_line(p, lines[i], strlen(lines[i]));
	struct pgr_event_list out = {0};
	pgr_waldump_parser_take(p, &out);
	pgr_waldump_parser_free(p);
	return out;
}

static void feed_rows(struct pgr_waldump_parser *p, unsigned xid, const char *what, int n, unsigned node)
{
	for (int i = 0; i < n; i++) {
		char line[400];
		int len = snprintf(
		        line, sizeof line,
		        "rmgr: Heap        len (rec/tot):     54/    54, tx: %10u, lsn: 0/%08X, prev 0/00000000, "
		        "desc: %s off %d flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/16385/%u blk %d",
		        xid, 0x700000 + i * 0x40, what, i % 200 + 1, node, i / 200);
		pgr_waldump_parser_line(p, line, (size_t)len);
	}
}

static void test_drop(void **state)
{
	(void)state;
	const char *lines[] = {DROP_A};
	struct pgr_event_list l = run(lines, 1, 1000);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].kind, PGR_EVENT_DROP);
	assert_string_equal(l.v[0].id, "1-0/662AC0");
	assert_int_equal(l.v[0].xid, 725);
	assert_int_equal(l.v[0].lsn, 0x662AC0);
	assert_int_equal(l.v[0].db_oid, 5);
	assert_int_equal(l.v[0].n_rels, 1);
	assert_int_equal(l.v[0].rels[0].node, 16384);
	assert_int_equal(l.v[0].usec, 760091);
	struct tm tm;
	gmtime_r(&l.v[0].time, &tm);
	assert_int_equal(tm.tm_hour, 6);
	assert_int_equal(tm.tm_min, 36);
	assert_int_equal(tm.tm_sec, 11);
	assert_int_equal(tm.tm_year, 126);
	assert_true(pgr_event_is_loss(l.v[0].kind));
	pgr_event_list_free(&l);
}

static void test_truncate_and_rewrite(void **state)
{
	(void)state;
	const char *lines[] = {TRUNC_CREATE, TRUNC_CATALOG, TRUNC_COMMIT, VF_CREATE, VF_COMMIT};
	struct pgr_event_list l = run(lines, 5, 1000);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].kind, PGR_EVENT_TRUNCATE);
	assert_int_equal(l.v[0].xid, 726);
	assert_int_equal(l.v[0].n_rels, 1);
	assert_int_equal(l.v[0].rels[0].node, 16396); /* the new file: the catalog names its relation */
	assert_int_equal(l.v[1].kind, PGR_EVENT_REWRITE);
	assert_int_equal(l.v[1].xid, 728);
	assert_false(pgr_event_is_loss(l.v[1].kind));
	pgr_event_list_free(&l);
}

static void test_create_table_is_nothing(void **state)
{
	(void)state;
	const char *lines[] = {
	        "rmgr: Storage     len (rec/tot):     42/    42, tx:        800, lsn: 0/01000028, prev 0/01000000, "
	        "desc: CREATE base/5/16500",
	        "rmgr: Transaction len (rec/tot):     66/    66, tx:        800, lsn: 0/01000100, prev 0/01000028, "
	        "desc: COMMIT 2026-11-24 07:00:00.5 UTC; inval msgs: catcache 80",
	        "rmgr: Transaction len (rec/tot):     34/    34, tx:        801, lsn: 0/01000200, prev 0/01000100, "
	        "desc: COMMIT 2026-11-24 07:00:01 UTC"};
	struct pgr_event_list l = run(lines, 3, 1000);
	assert_int_equal(l.n, 0);
	pgr_event_list_free(&l);
}

static void commit(struct pgr_waldump_parser *p, unsigned xid, uint32_t lsn, const char *extra)
{
	char line[400];
	int n = snprintf(line, sizeof line,
	                 "rmgr: Transaction len (rec/tot):     34/    34, tx: %10u, lsn: 0/%08X, prev 0/00000000, "
	                 "desc: COMMIT 2026-11-24 07:10:00.000123 UTC%s",
	                 xid, lsn, extra);
	pgr_waldump_parser_line(p, line, (size_t)n);
}

static void test_mass_rows(void **state)
{
	(void)state;
	struct pgr_waldump_parser *p = pgr_waldump_parser_new(2, 1000);
	feed_rows(p, 900, "DELETE", 5000, 16390); /* mass delete */
	feed_rows(p, 901, "DELETE", 10, 16391); /* small: not an event */
	feed_rows(p, 902, "HOT_UPDATE", 700, 16392); /* 700 + 600 in a subtransaction */
	feed_rows(p, 903, "UPDATE", 600, 16392);
	feed_rows(p, 904, "DELETE", 3000, 16393); /* aborted */
	feed_rows(p, 905, "DELETE", 100, 1259); /* catalog rows never count */
	commit(p, 900, 0x800000, "");
	commit(p, 901, 0x800100, "");
	commit(p, 902, 0x800200, "; subxacts: 903");
	pgr_waldump_parser_line(
	        p,
	        "rmgr: Transaction len (rec/tot):     34/    34, tx:        904, lsn: 0/00800300, "
	        "prev 0/00000000, desc: ABORT 2026-11-24 07:10:01.000000 UTC",
	        strlen("rmgr: Transaction len (rec/tot):     34/    34, tx:        904, lsn: 0/00800300, "
	               "prev 0/00000000, desc: ABORT 2026-11-24 07:10:01.000000 UTC"));
	commit(p, 904, 0x800400, ""); /* a later commit of the same xid number sees nothing */
	commit(p, 905, 0x800500, "");
	struct pgr_event_list l = {0};
	pgr_waldump_parser_take(p, &l);
	pgr_waldump_parser_free(p);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].kind, PGR_EVENT_MASS_DELETE);
	assert_int_equal(l.v[0].rows, 5000);
	assert_int_equal(l.v[0].db_oid, 16385);
	assert_int_equal(l.v[0].rels[0].node, 16390);
	assert_string_equal(l.v[0].id, "2-0/800000");
	assert_int_equal(l.v[1].kind, PGR_EVENT_MASS_UPDATE);
	assert_int_equal(l.v[1].rows, 1300);
	assert_int_equal(l.v[1].xid, 902);
	assert_int_equal(l.v[1].usec, 123);
	char *j = pgr_event_json(&l.v[0]);
	assert_non_null(strstr(j, "\"kind\":\"mass delete\""));
	assert_non_null(strstr(j, "\"recovery_target_xid\":900,\"recovery_target_inclusive\":false"));
	free(j);
	pgr_event_list_free(&l);
}

static void test_lines_that_are_not_records(void **state)
{
	(void)state;
	struct pgr_waldump_parser *p = pgr_waldump_parser_new(1, 1);
	const char *junk[] = {"", "pg_waldump: error: error in WAL record at 0/687778: invalid record length",
	                      "rmgr: Heap        len (rec/tot): 54/54, tx: 5, lsn: zz"};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(pgr_waldump_parser_line(p, junk[i], strlen(junk[i])), 0);
	/* A record of a resource manager the finder never looks into is not parsed. */
	const char *btree = "rmgr: Btree       len (rec/tot):     64/    64, tx:        729, lsn: 0/00687600, prev "
	                    "0/00687510, desc: INSERT_LEAF off 10, blkref #0: rel 1663/5/16391 blk 1";
	assert_int_equal(pgr_waldump_parser_line(p, btree, strlen(btree)), 1);
	assert_int_equal(pgr_waldump_parser_line(p, DROP_A, strlen(DROP_A)), 0x662AC0);
	pgr_waldump_parser_free(p);
	time_t t;
	int us;
	assert_true(
	        pgr_waldump_commit_time("COMMIT_PREPARED 740: 2026-01-02 14:30:00.25 UTC; rels: base/5/1", &t, &us));
	assert_int_equal(us, 250000);
	assert_int_equal(t, 1767364200);
	assert_false(pgr_waldump_commit_time("COMMIT; rels: base/5/1", &t, &us));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_drop),
	        cmocka_unit_test(test_truncate_and_rewrite),
	        cmocka_unit_test(test_create_table_is_nothing),
	        cmocka_unit_test(test_mass_rows),
	        cmocka_unit_test(test_lines_that_are_not_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
