/* The audit log: a chain that verifies, each kind of tampering found at the
 * right line, HMAC keys, concurrent appenders, and secrets kept out. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "recovery/audit.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/pgr-test-audit.XXXXXX";
	char *d = mkdtemp(tmpl);
	if (!d)
		return -1;
	tmpdir = xstrdup(d);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pgr_rm_rf(tmpdir, NULL);
	free(tmpdir);
	tmpdir = NULL;
	return 0;
}

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void append_one(struct pgr_audit *a, int i, const char *env, const char *run)
{
	char cmd[128], detail[64];
	snprintf(cmd, sizeof cmd, "pg_restore -j 4 -d clipper_db_new /store/dump-%d.sql.gz", i);
	snprintf(detail, sizeof detail, "record %d", i);
	struct pgr_audit_event ev = {
	        .env = env,
	        .incident = "INC-42",
	        .reason = "accidental DROP TABLE clips",
	        .run = run,
	        .plan = "restore",
	        .step = i % 2 ? "restore" : "scale-down",
	        .phase = i % 2 ? "outcome" : "intent",
	        .command = cmd,
	        .outcome = i % 2 ? "ok" : NULL,
	        .detail = detail,
	        .duration_ms = i % 2 ? 1234 : -1,
	};
	struct pgr_error err = {0};
	bool ok = pgr_audit_append(a, &ev, &err);
	if (!ok)
		pgr_error_print(stderr, &err);
	assert_true(ok);
}

/* A log of n records at name; a is left open on it. */
static void make_log(struct pgr_audit *a, const char *name, const char *key_file, int n)
{
	char *p = tpath(name);
	struct pgr_error err = {0};
	assert_true(pgr_audit_open(a, p, key_file, &err));
	free(p);
	for (int i = 1; i <= n; i++)
		append_one(a, i, i % 3 ? "prod" : "staging", i <= n / 2 ? "run-a" : "run-b");
}

/* The log's lines, each with its newline. */
struct lines {
	char **l;
	size_t n;
};

static void lines_read(const char *path, struct lines *ls)
{
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(path, &data, &len, NULL));
	ls->l = NULL;
	ls->n = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - data) + 1 : len;
		ls->l = xrealloc(ls->l, (ls->n + 1) * sizeof *ls->l);
		ls->l[ls->n++] = xstrndup(data + i, e - i);
		i = e;
	}
	free(data);
}

static void lines_write(const char *path, const struct lines *ls)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < ls->n; i++)
		fputs(ls->l[i], f);
	fclose(f);
}

static void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
}

static struct pgr_audit_verdict verify(const struct pgr_audit *a)
{
	struct pgr_audit_verdict v;
	struct pgr_error err = {0};
	bool ok = pgr_audit_verify(a, &v, &err);
	if (!ok)
		pgr_error_print(stderr, &err);
	assert_true(ok);
	return v;
}

static void expect_bad(const struct pgr_audit *a, size_t line, const char *words)
{
	struct pgr_audit_verdict v = verify(a);
	if (v.ok || v.first_bad_line != line || !strstr(v.problem, words))
		fprintf(stderr, "# expected line %zu (\"%s\"), got ok=%d line %zu: %s\n", line, words, v.ok,
		        v.first_bad_line, v.problem);
	assert_false(v.ok);
	assert_int_equal(v.first_bad_line, line);
	char want[32];
	snprintf(want, sizeof want, "line %zu: ", line);
	assert_true(strncmp(v.problem, want, strlen(want)) == 0);
	assert_non_null(strstr(v.problem, words));
}

static void test_good_chain(void **state)
{
	(void)state;
	struct pgr_audit a;
	make_log(&a, "deep/er/audit.log", NULL, 120);
	struct pgr_audit_verdict v = verify(&a);
	assert_true(v.ok);
	assert_int_equal(v.records, 120);
	assert_int_equal(v.first_bad_line, 0);

	struct stat st;
	assert_int_equal(stat(a.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *dir = tpath("deep/er");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);

	/* Every record carries the fields, in order, the hash last. */
	struct lines ls;
	lines_read(a.path, &ls);
	assert_int_equal(ls.n, 120);
	assert_non_null(strstr(ls.l[0], "{\"seq\":1,\"time\":\""));
	assert_non_null(
	        strstr(ls.l[0], "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\""));
	const char *fields[] = {"\"user\":",          "\"sudo_user\":",          "\"host\":",
	                        "\"pid\":",           "\"env\":\"prod\"",        "\"incident\":\"INC-42\"",
	                        "\"reason\":",        "\"run\":\"run-a\"",       "\"plan\":\"restore\"",
	                        "\"step\":",          "\"phase\":\"outcome\"",   "\"command\":\"pg_restore",
	                        "\"outcome\":\"ok\"", "\"detail\":\"record 1\"", "\"duration_ms\":1234"};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		assert_non_null(strstr(ls.l[0], fields[i]));
	assert_non_null(strstr(ls.l[1], "\"outcome\":null"));
	assert_non_null(strstr(ls.l[1], "\"duration_ms\":null"));
	/* time: UTC RFC 3339 with milliseconds */
	const char *t = strstr(ls.l[0], "\"time\":\"") + 8;
	assert_int_equal(strlen(t) > 24, 1);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	size_t n = strlen(ls.l[119]);
	assert_true(n > 76 && !strncmp(ls.l[119] + n - 76, ",\"hash\":\"", 9) && !strcmp(ls.l[119] + n - 3, "\"}\n"));
	lines_free(&ls);

	/* The head file holds the last seq and hash. */
	char *hp = xasprintf("%s.head", a.path);
	char *head = NULL;
	assert_true(pgr_read_file(hp, &head, NULL, NULL));
	assert_true(!strncmp(head, "120 ", 4) && strlen(head) == 4 + 64 + 1);
	free(head);
	free(hp);
	pgr_audit_close(&a);
}

/* Tamper with a copy of a 60-record log and expect verify to name line. */
typedef void (*tamper_fn)(struct lines *ls);

static void check_tamper(tamper_fn fn, size_t line, const char *words)
{
	struct pgr_audit a;
	make_log(&a, "t/audit.log", NULL, 60);
	struct lines ls;
	lines_read(a.path, &ls);
	fn(&ls);
	lines_write(a.path, &ls);
	lines_free(&ls);
	expect_bad(&a, line, words);
	pgr_audit_close(&a);
	char *d = tpath("t");
	pgr_rm_rf(d, NULL);
	free(d);
}

static void edit_line_37(struct lines *ls)
{
	char *p = strstr(ls->l[36], "record 37");
	assert_non_null(p);
	memcpy(p, "record 99", 9);
}

static void delete_line_25(struct lines *ls)
{
	free(ls->l[24]);
	memmove(ls->l + 24, ls->l + 25, (ls->n - 25) * sizeof *ls->l);
	ls->n--;
}

static void delete_lines_3_to_5(struct lines *ls)
{
	for (int k = 0; k < 3; k++) {
		free(ls->l[2]);
		memmove(ls->l + 2, ls->l + 3, (ls->n - 3) * sizeof *ls->l);
		ls->n--;
	}
}

static void insert_copy_of_10_after_20(struct lines *ls)
{
	ls->l = xrealloc(ls->l, (ls->n + 1) * sizeof *ls->l);
	memmove(ls->l + 21, ls->l + 20, (ls->n - 20) * sizeof *ls->l);
	ls->l[20] = xstrdup(ls->l[9]);
	ls->n++;
}

static void duplicate_line_44(struct lines *ls)
{
	ls->l = xrealloc(ls->l, (ls->n + 1) * sizeof *ls->l);
	memmove(ls->l + 44, ls->l + 43, (ls->n - 43) * sizeof *ls->l);
	ls->l[44] = xstrdup(ls->l[43]);
	ls->n++;
}

static void swap_30_31(struct lines *ls)
{
	char *t = ls->l[29];
	ls->l[29] = ls->l[30];
	ls->l[30] = t;
}

static void move_first_to_end(struct lines *ls)
{
	char *t = ls->l[0];
	memmove(ls->l, ls->l + 1, (ls->n - 1) * sizeof *ls->l);
	ls->l[ls->n - 1] = t;
}

static void cut_last_three(struct lines *ls)
{
	for (int k = 0; k < 3; k++)
		free(ls->l[--ls->n]);
}

static void cut_last_in_half(struct lines *ls)
{
	char *l = ls->l[ls->n - 1];
	l[strlen(l) / 2] = '\0';
}

static void garbage_line_12(struct lines *ls)
{
	free(ls->l[11]);
	ls->l[11] = xstrdup("this is not json\n");
}

static void empty_line_8(struct lines *ls)
{
	free(ls->l[7]);
	ls->l[7] = xstrdup("\n");
}

static void hash_removed_line_5(struct lines *ls)
{
	char *p = strstr(ls->l[4], ",\"hash\":");
	strcpy(p, "}\n");
}

static void test_tamper_edit(void **state)
{
	(void)state;
	check_tamper(edit_line_37, 37, "hash does not match its content (edited?)");
}

static void test_tamper_delete(void **state)
{
	(void)state;
	check_tamper(delete_line_25, 25, "record 25 is missing");
	check_tamper(delete_lines_3_to_5, 3, "records 3 to 5 are missing");
}

static void test_tamper_insert(void **state)
{
	(void)state;
	check_tamper(insert_copy_of_10_after_20, 21, "a copy of line 10");
	check_tamper(duplicate_line_44, 45, "a copy of line 44");
}

static void test_tamper_reorder(void **state)
{
	(void)state;
	check_tamper(swap_30_31, 30, "reordered");
	check_tamper(move_first_to_end, 1, "reordered");
}

static void test_tamper_cut_end(void **state)
{
	(void)state;
	check_tamper(cut_last_three, 58, "cut off the end");
	check_tamper(cut_last_in_half, 60, "cut off in the middle");
}

static void test_tamper_not_json(void **state)
{
	(void)state;
	check_tamper(garbage_line_12, 12, "not a JSON record");
	check_tamper(empty_line_8, 8, "empty line");
	check_tamper(hash_removed_line_5, 5, "does not end in a \"hash\"");
}

/* Appending after lines were cut off must not hide the cut. */
static void test_cut_then_append(void **state)
{
	(void)state;
	struct pgr_audit a;
	make_log(&a, "cut/audit.log", NULL, 10);
	struct lines ls;
	lines_read(a.path, &ls);
	cut_last_three(&ls);
	lines_write(a.path, &ls);
	lines_free(&ls);
	append_one(&a, 11, "prod", "run-c");
	expect_bad(&a, 8, "records 8 to 10 are missing");
	pgr_audit_close(&a);
}

/* A crash after the log's fsync but before the head's leaves the head one
 * behind: that is not tampering, and the next append carries on. */
static void test_head_one_behind(void **state)
{
	(void)state;
	struct pgr_audit a;
	make_log(&a, "crash/audit.log", NULL, 5);
	char *hp = xasprintf("%s.head", a.path);
	char *head5 = NULL;
	assert_true(pgr_read_file(hp, &head5, NULL, NULL));
	struct lines ls;
	lines_read(a.path, &ls);
	const char *h4 = strstr(ls.l[3], ",\"hash\":\"") + 9;
	char head4[80];
	snprintf(head4, sizeof head4, "4 %.64s\n", h4);
	lines_free(&ls);
	assert_true(pgr_write_file_atomic(hp, head4, strlen(head4), 0600, NULL));
	struct pgr_audit_verdict v = verify(&a);
	assert_true(v.ok);
	append_one(&a, 6, "prod", "run-c");
	v = verify(&a);
	assert_true(v.ok);
	assert_int_equal(v.records, 6);

	/* A head whose hash is not the log's is reported. */
	char *wrong = xasprintf("6 %s", strchr(head5, ' ') + 1);
	assert_true(pgr_write_file_atomic(hp, wrong, strlen(wrong), 0600, NULL));
	free(wrong);
	expect_bad(&a, 6, "is not the one in");
	unlink(hp);
	expect_bad(&a, 7, "head file");
	free(head5);
	free(hp);
	pgr_audit_close(&a);
}

static void test_missing_log(void **state)
{
	(void)state;
	char *p = tpath("nothing/audit.log");
	struct pgr_audit a;
	struct pgr_error err = {0};
	assert_true(pgr_audit_open(&a, p, NULL, &err));
	struct pgr_audit_verdict v;
	assert_false(pgr_audit_verify(&a, &v, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, p));
	assert_true(err.hint[0] != '\0');
	char **lines = NULL;
	size_t n = 0;
	pgr_error_clear(&err);
	assert_false(pgr_audit_read(&a, NULL, &lines, &n, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	pgr_audit_close(&a);
	free(p);

	/* NULL path: the state directory. */
	setenv("PGRESCUE_STATE_DIR", tmpdir, 1);
	assert_true(pgr_audit_open(&a, NULL, "", &err));
	char *want = tpath("audit.log");
	assert_string_equal(a.path, want);
	free(want);
	pgr_audit_close(&a);
	unsetenv("PGRESCUE_STATE_DIR");
}

static char *write_key(const char *name, const char *key, mode_t mode)
{
	char *p = tpath(name);
	assert_true(pgr_write_file_atomic(p, key, strlen(key), 0600, NULL));
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static void test_hmac(void **state)
{
	(void)state;
	char *key = write_key("key", "correct horse battery staple\n", 0600);
	char *other = write_key("other.key", "a different key", 0400);
	struct pgr_audit a;
	make_log(&a, "hmac/audit.log", key, 20);
	struct pgr_audit_verdict v = verify(&a);
	assert_true(v.ok);
	assert_int_equal(v.records, 20);
	char *log = xstrdup(a.path);
	pgr_audit_close(&a);

	struct pgr_error err = {0};
	assert_true(pgr_audit_open(&a, log, other, &err));
	expect_bad(&a, 1, "different HMAC key");
	pgr_audit_close(&a);

	assert_true(pgr_audit_open(&a, log, NULL, &err));
	expect_bad(&a, 1, "written with an HMAC key");
	pgr_audit_close(&a);

	/* The same key with or without a trailing newline. */
	char *bare = write_key("bare.key", "correct horse battery staple", 0600);
	assert_true(pgr_audit_open(&a, log, bare, &err));
	v = verify(&a);
	assert_true(v.ok);
	pgr_audit_close(&a);

	/* A key readable by others is refused, with the fix. */
	char *loose = write_key("loose.key", "secret", 0644);
	assert_false(pgr_audit_open(&a, log, loose, &err));
	assert_non_null(strstr(err.msg, loose));
	assert_non_null(strstr(err.msg, "group or others"));
	assert_non_null(strstr(err.hint, "chmod 600"));
	assert_null(a.path);
	pgr_audit_close(&a);

	char *missing = tpath("no-such.key");
	assert_false(pgr_audit_open(&a, log, missing, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));

	char *empty = write_key("empty.key", "\n", 0600);
	assert_false(pgr_audit_open(&a, log, empty, &err));
	assert_non_null(strstr(err.msg, "empty"));

	/* An edit in HMAC mode is an edit. */
	assert_true(pgr_audit_open(&a, log, key, &err));
	struct lines ls;
	lines_read(log, &ls);
	char *p = strstr(ls.l[6], "record 7");
	memcpy(p, "record 8", 8);
	lines_write(log, &ls);
	lines_free(&ls);
	expect_bad(&a, 7, "edited");
	pgr_audit_close(&a);

	free(key);
	free(other);
	free(bare);
	free(loose);
	free(missing);
	free(empty);
	free(log);
}

#define CHILDREN 4
#define PER_CHILD 50

static void test_concurrent(void **state)
{
	(void)state;
	char *log = tpath("conc/audit.log");
	pid_t kids[CHILDREN];
	for (int c = 0; c < CHILDREN; c++) {
		kids[c] = fork();
		assert_true(kids[c] >= 0);
		if (kids[c] == 0) {
			struct pgr_audit a;
			struct pgr_error err = {0};
			if (!pgr_audit_open(&a, log, NULL, &err))
				_exit(2);
			for (int i = 0; i < PER_CHILD; i++) {
				char detail[64];
				snprintf(detail, sizeof detail, "child %d record %d", c, i);
				struct pgr_audit_event ev = {
				        .env = "prod", .phase = "intent", .detail = detail, .duration_ms = -1};
				if (!pgr_audit_append(&a, &ev, &err)) {
					pgr_error_print(stderr, &err);
					_exit(1);
				}
			}
			pgr_audit_close(&a);
			_exit(0);
		}
	}
	for (int c = 0; c < CHILDREN; c++) {
		int st = 0;
		assert_int_equal(waitpid(kids[c], &st, 0), kids[c]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct pgr_audit a;
	struct pgr_error err = {0};
	assert_true(pgr_audit_open(&a, log, NULL, &err));
	struct pgr_audit_verdict v = verify(&a);
	if (!v.ok)
		fprintf(stderr, "# %s\n", v.problem);
	assert_true(v.ok);
	assert_int_equal(v.records, CHILDREN * PER_CHILD);
	/* No record lost: each child's every record is there once. */
	struct lines ls;
	lines_read(log, &ls);
	for (int c = 0; c < CHILDREN; c++) {
		for (int i = 0; i < PER_CHILD; i++) {
			char want[64];
			snprintf(want, sizeof want, "\"child %d record %d\"", c, i);
			int found = 0;
			for (size_t k = 0; k < ls.n; k++)
				found += strstr(ls.l[k], want) != NULL;
			assert_int_equal(found, 1);
		}
	}
	lines_free(&ls);
	pgr_audit_close(&a);
	free(log);
}

static void test_secrets_redacted(void **state)
{
	(void)state;
	char *log = tpath("secret/audit.log");
	struct pgr_audit a;
	struct pgr_error err = {0};
	assert_true(pgr_audit_open(&a, log, NULL, &err));
	const char *commands[] = {
	        "pg_restore -d 'host=db user=app password=hunter2 dbname=clipper_db' dump.sql.gz",
	        "psql \"host=db password=hunter2\" -c 'select 1'",
	        "PGPASSWORD=hunter2 pg_dump -Fc clipper_db",
	        "pg_dump --dbname=postgresql://app:hunter2@db:5432/clipper_db",
	        "curl https://user:hunter2@store.example/bucket?x=1",
	        "psql 'postgres://app@db/clipper_db?sslmode=require&password=hunter2'",
	        "connect host=db Password='hunter 2'",
	};
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		struct pgr_audit_event ev = {.env = "prod",
		                             .phase = "intent",
		                             .command = commands[i],
		                             .detail = commands[i],
		                             .reason = "password=hunter2",
		                             .duration_ms = -1};
		assert_true(pgr_audit_append(&a, &ev, &err));
	}
	char *data = NULL;
	assert_true(pgr_read_file(log, &data, NULL, NULL));
	assert_null(strstr(data, "hunter"));
	assert_non_null(strstr(data, "password=********"));
	assert_non_null(strstr(data, "PGPASSWORD=********"));
	assert_non_null(strstr(data, "postgresql://app:********@db:5432/clipper_db"));
	assert_non_null(strstr(data, "dbname=clipper_db"));
	free(data);
	struct pgr_audit_verdict v = verify(&a);
	assert_true(v.ok);
	pgr_audit_close(&a);
	free(log);
}

static char *show(const struct pgr_audit *a, const struct pgr_audit_filter *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct pgr_error err = {0};
	assert_true(pgr_audit_show(a, f, out, &err));
	fclose(out);
	return buf;
}

static void test_show_and_read(void **state)
{
	(void)state;
	struct pgr_audit a;
	make_log(&a, "show/audit.log", NULL, 12);
	setenv("COLUMNS", "120", 1);
	char *text = show(&a, NULL);
	unsetenv("COLUMNS");
	assert_non_null(strstr(text, "TIME (UTC)"));
	assert_non_null(strstr(text, "INC-42"));
	assert_non_null(strstr(text, "scale-down"));
	/* a long command is cut in the middle; the detail stays whole */
	assert_non_null(strstr(text, "pg_restore"));
	assert_non_null(strstr(text, " ... "));
	assert_non_null(strstr(text, ".sql.gz -- record 12\n"));
	/* time without the T and the milliseconds */
	assert_non_null(strstr(text, ":"));
	assert_null(strstr(text, "Z  "));
	size_t rows = 0;
	for (char *p = text; (p = strchr(p, '\n')); p++) {
		rows++;
	}
	assert_int_equal(rows, 13);
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		assert_true((size_t)(nl - line) <= 120);
		line = nl + 1;
	}
	free(text);

	struct pgr_audit_filter f = {.env = "staging"};
	char **lines = NULL;
	size_t n = 0;
	struct pgr_error err = {0};
	assert_true(pgr_audit_read(&a, &f, &lines, &n, &err));
	assert_int_equal(n, 4); /* records 3, 6, 9, 12 */
	for (size_t i = 0; i < n; i++) {
		assert_non_null(strstr(lines[i], "\"env\":\"staging\""));
		free(lines[i]);
	}
	free(lines);

	f = (struct pgr_audit_filter){.run = "run-b", .last = 2};
	assert_true(pgr_audit_read(&a, &f, &lines, &n, &err));
	assert_int_equal(n, 2);
	assert_non_null(strstr(lines[0], "\"detail\":\"record 11\""));
	assert_non_null(strstr(lines[1], "\"detail\":\"record 12\""));
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);

	f = (struct pgr_audit_filter){.env = "nowhere"};
	text = show(&a, &f);
	assert_non_null(strstr(text, "no audit records match"));
	free(text);
	pgr_audit_close(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_edit, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_insert, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_reorder, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_cut_end, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tamper_not_json, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cut_then_append, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_head_one_behind, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_missing_log, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hmac, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_secrets_redacted, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_show_and_read, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
