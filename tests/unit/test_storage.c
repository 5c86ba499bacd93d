/* Unit tests for the store (file:// backend), the layout names and WAL
 * push/fetch, all in a temporary directory. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "ops/wal.h"
#include "storage/layout.h"
#include "storage/storage.h"

struct fixture {
	char *dir; /* scratch directory */
	char *root; /* the store's root inside it */
	char *url;
	struct pgr_store *st;
};

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;
	struct pgr_error err = {0};
	if (!pgr_read_file(path, &data, len, &err))
		fail_msg("cannot read %s: %s", path, err.msg);
	return data;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	char tmpl[] = "/tmp/pgrescue-test-storage.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	f->dir = xstrdup(tmpl);
	f->root = xasprintf("%s/store", f->dir);
	f->url = xasprintf("file://%s", f->root);
	struct pgr_error err = {0};
	f->st = pgr_store_open(f->url, &err);
	if (!f->st)
		fail_msg("open %s: %s", f->url, err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pgr_store_close(f->st);
	pgr_rm_rf(f->dir, NULL);
	free(f->dir);
	free(f->root);
	free(f->url);
	free(f);
	return 0;
}

/* A local file with contents, in the scratch directory. */
static char *local(struct fixture *f, const char *name, const char *contents)
{
	char *p = xasprintf("%s/%s", f->dir, name);
	if (contents)
		write_str(p, contents);
	return p;
}

static void put_str(struct fixture *f, const char *key, const char *contents)
{
	char *p = local(f, "put-src", contents);
	struct pgr_error err = {0};
	if (!pgr_store_put(f->st, key, p, false, NULL, NULL, &err))
		fail_msg("put %s: %s", key, err.msg);
	free(p);
}

/* Create a file under the root directly (fast, for listing tests). */
static void touch_key(struct fixture *f, const char *key)
{
	char *p = xasprintf("%s/%s", f->root, key);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	assert_true(pgr_mkdir_p(p, 0755, NULL));
	*slash = '/';
	write_str(p, key);
	free(p);
}

/* ---------------------------------------------------------------- open */

static void expect_open_error(const char *url, const char *msg_part, bool want_hint)
{
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open(url, &err);
	if (st)
		fail_msg("opening \"%s\" should fail", url);
	if (!strstr(err.msg, msg_part))
		fail_msg("opening \"%s\": message \"%s\" lacks \"%s\"", url, err.msg, msg_part);
	if (want_hint && !err.hint[0])
		fail_msg("opening \"%s\": no hint", url);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	expect_open_error("", "empty", true);
	expect_open_error(NULL, "empty", true);
	expect_open_error("backups/store", "backups/store", true);
	expect_open_error("file://relative/dir", "absolute", true);
	expect_open_error("s3://Bad_Bucket/prefix", "s3://Bad_Bucket/prefix", true);
	expect_open_error("s3://Bad_Bucket/prefix", "not a valid bucket name", true);
	expect_open_error("gs:///prefix", "expected gs://bucket", true);
	expect_open_error("az://acct", "no account and container", true);
	expect_open_error("ftp://host/x", "unknown store scheme", true);
	/* A secret pasted into the URL is refused and never echoed. */
	expect_open_error("s3://AKIDEXAMPLE:hunter2secret@bucket/p",
	                  "\"s3://***@bucket/p\": a store URL carries no credentials", true);
	expect_open_error("az://acct/c/p?sv=2021&sig=hunter2secret",
	                  "\"az://acct/c/p?...\": a store URL carries no query", true);
	expect_open_error("gs://bucket/p#x", "\"gs://bucket/p#...\"", true);
	{
		struct pgr_error e = {0};
		assert_null(pgr_store_open("az://acct/c/p?sig=hunter2secret", &e));
		assert_null(strstr(e.msg, "hunter2"));
		assert_null(strstr(e.hint, "hunter2"));
		assert_non_null(strstr(e.hint, "AZURE_STORAGE_SAS_TOKEN"));
		assert_null(pgr_store_open("s3://AKIDEXAMPLE:hunter2secret@bucket/p", &e));
		assert_null(strstr(e.msg, "hunter2"));
		assert_null(strstr(e.msg, "AKIDEXAMPLE"));
	}
	/* In a local path, '@' and '?' are just characters. */
	char *odd = xasprintf("file://%s/a@b?c", f->dir);
	struct pgr_error oe = {0};
	struct pgr_store *ost = pgr_store_open(odd, &oe);
	assert_non_null(ost);
	pgr_store_close(ost);
	free(odd);

	struct pgr_error err = {0};
	assert_null(pgr_store_open("ftp://host/x", &err));
	assert_non_null(strstr(err.hint, "file:///"));

	char *deep = xasprintf("file://%s/no-such-parent/store", f->dir);
	expect_open_error(deep, "no-such-parent", true);
	free(deep);

	char *plain = local(f, "a-file", "x");
	expect_open_error(plain, "not a directory", true);
	free(plain);
}

static void test_open_forms(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	/* A bare absolute path, with a trailing slash. */
	char *bare = xasprintf("%s/", f->root);
	struct pgr_store *st = pgr_store_open(bare, &err);
	assert_non_null(st);
	assert_string_equal(st->ops->scheme, "file");
	pgr_store_close(st);
	free(bare);
	/* A missing root whose parent exists is created. */
	char *fresh = xasprintf("file://%s/fresh", f->dir);
	st = pgr_store_open(fresh, &err);
	assert_non_null(st);
	pgr_store_close(st);
	char *fresh_path = xasprintf("%s/fresh", f->dir);
	assert_true(pgr_is_dir(fresh_path));
	free(fresh_path);
	free(fresh);
}

/* ---------------------------------------------------------------- objects */

static bool count_progress(void *ctx, uint64_t done, uint64_t total)
{
	uint64_t *last = ctx;
	assert_true(done <= total);
	*last = done;
	return true;
}

static bool cancel_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	(void)total;
	return done == 0;
}

static size_t count_entries(const char *dir)
{
	size_t n = 0;
	char *cmd = xasprintf("ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	free(cmd);
	return n;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	const char *key = "database/postgres-backup-20260102-020000.sql.gz";
	char *src = local(f, "src", "PGDMP pretend dump contents");
	uint64_t last = 0;
	assert_true(pgr_store_put(f->st, key, src, false, count_progress, &last, &err));
	assert_int_equal(last, 27);
	/* copy, not consume: the source stays */
	assert_true(pgr_path_exists(src));

	struct pgr_object obj;
	assert_true(pgr_store_stat(f->st, key, &obj, &err));
	assert_int_equal(obj.size, 27);
	assert_true(obj.mtime > 0);

	char *dst = local(f, "dst", NULL);
	last = 0;
	assert_true(pgr_store_get(f->st, key, dst, count_progress, &last, &err));
	assert_int_equal(last, 27);
	size_t len;
	char *got = slurp(dst, &len);
	assert_string_equal(got, "PGDMP pretend dump contents");
	free(got);
	struct stat sb;
	assert_int_equal(stat(dst, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	char head[16];
	size_t n = 0;
	assert_true(pgr_store_get_head(f->st, key, head, 5, &n, &err));
	assert_int_equal(n, 5);
	assert_memory_equal(head, "PGDMP", 5);
	assert_true(pgr_store_get_head(f->st, key, head, sizeof head, &n, &err));
	assert_int_equal(n, 16);
	assert_int_equal(pgr_file_kind(head, n), PGR_FILE_PGDUMP_CUSTOM);

	/* The file on disk has the store's modes. */
	char *onfile = xasprintf("%s/%s", f->root, key);
	assert_int_equal(stat(onfile, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	char *dbdir = xasprintf("%s/database", f->root);
	assert_int_equal(stat(dbdir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0750);

	/* Overwrite with put replaces atomically. */
	put_str(f, key, "PGDMP v2");
	assert_true(pgr_store_stat(f->st, key, &obj, &err));
	assert_int_equal(obj.size, 8);
	/* No temp files left behind anywhere. */
	assert_int_equal(count_entries(dbdir), 1);

	assert_true(pgr_store_delete(f->st, key, &err));
	assert_false(pgr_store_stat(f->st, key, &obj, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, key));
	/* The emptied directory went with it; the root stayed. */
	assert_false(pgr_path_exists(dbdir));
	assert_true(pgr_is_dir(f->root));
	/* Deleting again is fine (object-store semantics). */
	assert_true(pgr_store_delete(f->st, key, &err));

	/* get/get_head of a missing key: NOTFOUND, nothing created. */
	char *dst2 = local(f, "dst2", NULL);
	assert_false(pgr_store_get(f->st, key, dst2, NULL, NULL, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_false(pgr_path_exists(dst2));
	assert_false(pgr_store_get_head(f->st, key, head, 5, &n, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);

	free(dst2);
	free(dbdir);
	free(onfile);
	free(dst);
	free(src);
}

static void test_delete_prunes(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	put_str(f, "base/20260101-000000/base.tar", "x");
	put_str(f, "base/20260101-000000/deep/er/file", "y");
	put_str(f, "base/20260102-000000/base.tar", "z");
	assert_true(pgr_store_delete(f->st, "base/20260101-000000/deep/er/file", &err));
	char *p = xasprintf("%s/base/20260101-000000", f->root);
	assert_true(pgr_is_dir(p)); /* still holds base.tar */
	char *deep = xasprintf("%s/deep", p);
	assert_false(pgr_path_exists(deep));
	assert_true(pgr_store_delete(f->st, "base/20260101-000000/base.tar", &err));
	assert_false(pgr_path_exists(p));
	char *base = xasprintf("%s/base", f->root);
	assert_true(pgr_is_dir(base)); /* the other label is still there */
	assert_true(pgr_store_delete(f->st, "base/20260102-000000/base.tar", &err));
	assert_false(pgr_path_exists(base));
	assert_true(pgr_is_dir(f->root));
	/* A directory is not an object. */
	put_str(f, "dir/x", "1");
	assert_false(pgr_store_delete(f->st, "dir", &err));
	free(base);
	free(deep);
	free(p);
}

static void test_bad_keys(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	const char *bad[] = {"",
	                     "/etc/passwd",
	                     "../escape",
	                     "a/../../b",
	                     "a//b",
	                     "a/./b",
	                     "trailing/",
	                     ".pgrescue-staging/x",
	                     "wal-archive/.pgrescue-tmp.x"};
	char *src = local(f, "src", "data");
	struct pgr_object obj;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (pgr_store_put(f->st, bad[i], src, false, NULL, NULL, &err))
			fail_msg("put accepted key \"%s\"", bad[i]);
		assert_false(pgr_store_stat(f->st, bad[i], &obj, &err));
		assert_int_equal(err.kind, PGR_ERR_USAGE);
	}
	free(src);
}

static void test_put_verifies_size(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	/* /proc files claim size 0 but have contents: what is read does not
	 * match what was promised, and the put must refuse it. */
	assert_false(pgr_store_put(f->st, "odd/status", "/proc/self/status", false, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "size mismatch"));
	struct pgr_object obj;
	assert_false(pgr_store_stat(f->st, "odd/status", &obj, &err));
	char *dir = xasprintf("%s/odd", f->root);
	assert_int_equal(count_entries(dir), 0); /* temp file removed */
	free(dir);
	/* A missing source names itself. */
	assert_false(pgr_store_put(f->st, "x", "/nonexistent/source", false, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/source"));
}

static void test_put_consume(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	const char *staging = pgr_store_staging_dir(f->st);
	assert_non_null(staging);
	assert_true(pgr_is_dir(staging));
	assert_non_null(strstr(staging, f->root));
	char *src = xasprintf("%s/big.tar", staging);
	write_str(src, "tar tar tar");
	assert_true(pgr_store_put(f->st, "base/L/base.tar", src, true, NULL, NULL, &err));
	assert_false(pgr_path_exists(src));
	char *dst = local(f, "back", NULL);
	assert_true(pgr_store_get(f->st, "base/L/base.tar", dst, NULL, NULL, &err));
	size_t len;
	char *got = slurp(dst, &len);
	assert_string_equal(got, "tar tar tar");
	free(got);
	/* From another file system (when there is one): copied, source gone. */
	char shm[] = "/dev/shm/pgrescue-test.XXXXXX";
	if (mkdtemp(shm)) {
		char *other = xasprintf("%s/x", shm);
		write_str(other, "from elsewhere");
		assert_true(pgr_store_put(f->st, "elsewhere", other, true, NULL, NULL, &err));
		assert_false(pgr_path_exists(other));
		struct pgr_object obj;
		assert_true(pgr_store_stat(f->st, "elsewhere", &obj, &err));
		assert_int_equal(obj.size, 14);
		pgr_rm_rf(shm, NULL);
		free(other);
	}
	free(dst);
	free(src);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	char *big = local(f, "big", NULL);
	char *buf = xcalloc(1, 3 << 20);
	write_file(big, buf, 3 << 20);
	free(buf);
	assert_true(pgr_store_put(f->st, "big", big, false, NULL, NULL, &err));
	char *sub = xasprintf("%s/dl", f->dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	char *dst = xasprintf("%s/big", sub);
	assert_false(pgr_store_get(f->st, "big", dst, cancel_progress, NULL, &err));
	assert_non_null(strstr(err.msg, "cancel"));
	assert_int_equal(count_entries(sub), 0);
	/* put can be cancelled too, leaving nothing under the key. */
	assert_false(pgr_store_put(f->st, "big2", big, false, cancel_progress, NULL, &err));
	struct pgr_object obj;
	assert_false(pgr_store_stat(f->st, "big2", &obj, &err));
	/* A destination directory that does not exist is named. */
	char *nodir = xasprintf("%s/nodir/file", f->dir);
	assert_false(pgr_store_get(f->st, "big", nodir, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "nodir"));
	free(nodir);
	free(dst);
	free(sub);
	free(big);
}

static void test_ownership(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	if (geteuid() != 0)
		return; /* chown needs root; nothing to check otherwise */
	/* A store owned by someone else (as the sandbox's belongs to postgres). */
	assert_int_equal(chown(f->root, 65534, 65534), 0);
	struct pgr_store *st = pgr_store_open(f->url, &err);
	assert_non_null(st);
	char *src = local(f, "src", "owned");
	assert_true(pgr_store_put(st, "wal-archive/000000010000000000000001", src, false, NULL, NULL, &err));
	struct stat sb;
	char *p = xasprintf("%s/wal-archive/000000010000000000000001", f->root);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(sb.st_gid, 65534);
	assert_int_equal(sb.st_mode & 0777, 0640);
	char *d = xasprintf("%s/wal-archive", f->root);
	assert_int_equal(stat(d, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(sb.st_mode & 0777, 0750);
	const char *staging = pgr_store_staging_dir(st);
	assert_non_null(staging);
	assert_int_equal(stat(staging, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	/* consume: the moved file changes hands too */
	char *mv = xasprintf("%s/moved", staging);
	write_str(mv, "m");
	assert_true(pgr_store_put(st, "moved", mv, true, NULL, NULL, &err));
	char *mp = xasprintf("%s/moved", f->root);
	assert_int_equal(stat(mp, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(sb.st_mode & 0777, 0640);
	pgr_store_close(st);
	free(mp);
	free(mv);
	free(d);
	free(p);
	free(src);
}

/* ---------------------------------------------------------------- listing */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_paging(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	enum { N = 2500 };
	const char *tricky[] = {"m-a", "m.a", "m/a", "m/b/c", "m0", "ma", "z"};
	size_t nt = sizeof tricky / sizeof tricky[0];
	size_t total = N + nt;
	char **want = xcalloc(total, sizeof *want);
	for (size_t i = 0; i < N; i++) {
		/* spread over directories, some nested */
		want[i] = i % 3 == 0 ? xasprintf("wal-archive/%024zX", i)
		                     : xasprintf("base/d%02zu/sub%zu/k%05zu", i % 17, i % 2, i);
		touch_key(f, want[i]);
	}
	for (size_t i = 0; i < nt; i++) {
		want[N + i] = xstrdup(tricky[i]);
		touch_key(f, tricky[i]);
	}
	qsort(want, total, sizeof *want, cmp_str);

	struct pgr_object_list all = {0};
	char *after = NULL;
	bool more = true;
	int pages = 0;
	while (more) {
		size_t before = all.n;
		assert_true(pgr_store_list_page(f->st, "", after, 1000, &all, &more, &err));
		assert_true(all.n - before <= 1000);
		pages++;
		free(after);
		after = all.n ? xstrdup(all.items[all.n - 1].key) : NULL;
		assert_true(pages < 10);
	}
	free(after);
	assert_int_equal(pages, 3);
	assert_int_equal(all.n, total);
	for (size_t i = 0; i < total; i++) {
		if (strcmp(all.items[i].key, want[i]) != 0)
			fail_msg("item %zu: got %s, want %s", i, all.items[i].key, want[i]);
		assert_int_equal(all.items[i].size, strlen(want[i]));
	}
	pgr_object_list_free(&all);

	/* The all-pages wrapper gives the same. */
	assert_true(pgr_store_list(f->st, NULL, &all, &err));
	assert_int_equal(all.n, total);
	for (size_t i = 0; i < total; i++)
		assert_string_equal(all.items[i].key, want[i]);
	pgr_object_list_free(&all);

	/* Starting after a key that is not in the store. */
	assert_true(pgr_store_list_page(f->st, "", "m/a0", 3, &all, &more, &err));
	assert_int_equal(all.n, 3);
	assert_string_equal(all.items[0].key, "m/b/c");
	assert_string_equal(all.items[1].key, "m0");
	assert_string_equal(all.items[2].key, "ma");
	assert_true(more);
	pgr_object_list_free(&all);
	/* The last page says there is no more, even when it is exactly full. */
	assert_true(pgr_store_list_page(f->st, "", want[total - 3], 5, &all, &more, &err));
	assert_int_equal(all.n, 2);
	assert_string_equal(all.items[1].key, "z");
	assert_false(more);
	pgr_object_list_free(&all);
	assert_true(pgr_store_list_page(f->st, "", want[total - 3], 2, &all, &more, &err));
	assert_int_equal(all.n, 2);
	assert_false(more);
	pgr_object_list_free(&all);
	assert_true(pgr_store_list_page(f->st, "", "z", 2, &all, &more, &err));
	assert_int_equal(all.n, 0);
	assert_false(more);

	for (size_t i = 0; i < total; i++)
		free(want[i]);
	free(want);
}

/* Big flat directories: more keys than one page of the all-keys wrapper,
 * and empty directories sorting before every file (a page that finds
 * nothing in the first entries it sorted must go on to the rest). */
static void test_paging_large(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	enum { NFILES = 10050, NEMPTY = 1500 };
	char *dir = xasprintf("%s/wal-archive", f->root);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (int i = 0; i < NFILES; i++) {
		char *p = xasprintf("%s/%024X", dir, 0x10000 + i);
		write_str(p, "");
		free(p);
	}
	char *holes = xasprintf("%s/holes", f->root);
	assert_int_equal(mkdir(holes, 0755), 0);
	for (int i = 0; i < NEMPTY; i++) {
		char *p = xasprintf("%s/a%05d", holes, i);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
		p = xasprintf("%s/b%05d", holes, i);
		write_str(p, "x");
		free(p);
	}

	struct pgr_object_list l = {0};
	assert_true(pgr_store_list(f->st, "wal-archive/", &l, &err));
	assert_int_equal(l.n, NFILES);
	for (size_t i = 0; i < l.n; i++) {
		char want[64];
		snprintf(want, sizeof want, "wal-archive/%024X", 0x10000 + (unsigned)i);
		assert_string_equal(l.items[i].key, want);
	}
	pgr_object_list_free(&l);

	/* Small pages over the same directory pick the first keys of many. */
	bool more = true;
	char *after = NULL;
	int pages = 0;
	while (more) {
		assert_true(pgr_store_list_page(f->st, "wal-archive/", after, 1000, &l, &more, &err));
		free(after);
		after = l.n ? xstrdup(l.items[l.n - 1].key) : NULL;
		pages++;
	}
	assert_int_equal(pages, 11);
	assert_int_equal(l.n, NFILES);
	for (size_t i = 0; i < l.n; i++) {
		char want[64];
		snprintf(want, sizeof want, "wal-archive/%024X", 0x10000 + (unsigned)i);
		assert_string_equal(l.items[i].key, want);
	}
	pgr_object_list_free(&l);

	more = true;
	free(after);
	after = NULL;
	while (more) {
		assert_true(pgr_store_list_page(f->st, "holes/", after, 1000, &l, &more, &err));
		free(after);
		after = l.n ? xstrdup(l.items[l.n - 1].key) : NULL;
	}
	free(after);
	assert_int_equal(l.n, NEMPTY);
	for (size_t i = 0; i < l.n; i++) {
		char want[64];
		snprintf(want, sizeof want, "holes/b%05zu", i);
		assert_string_equal(l.items[i].key, want);
	}
	pgr_object_list_free(&l);
	free(holes);
	free(dir);
}

static void test_prefix(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	touch_key(f, "database/postgres-backup-20260101-020000.sql.gz");
	touch_key(f, "database/postgres-backup-20260102-020000.sql.gz");
	touch_key(f, "database/clipper-backup-20250101-020000.sql.gz");
	touch_key(f, "databasex/other");
	touch_key(f, "wal-archive/000000010000000000000001");
	struct pgr_object_list l = {0};
	assert_true(pgr_store_list(f->st, "database/postgres-backup-", &l, &err));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "database/postgres-backup-20260101-020000.sql.gz");
	assert_string_equal(l.items[1].key, "database/postgres-backup-20260102-020000.sql.gz");
	pgr_object_list_free(&l);
	assert_true(pgr_store_list(f->st, "database/", &l, &err));
	assert_int_equal(l.n, 3);
	pgr_object_list_free(&l);
	assert_true(pgr_store_list(f->st, "data", &l, &err));
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[3].key, "databasex/other");
	pgr_object_list_free(&l);
	assert_true(pgr_store_list(f->st, "nothing-here/", &l, &err));
	assert_int_equal(l.n, 0);
	assert_true(pgr_store_list(f->st, "database/postgres-backup-2026010", &l, &err));
	assert_int_equal(l.n, 2);
	pgr_object_list_free(&l);
	assert_false(pgr_store_list(f->st, "../", &l, &err));
}

static void test_hidden_never_listed(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	put_str(f, "wal-archive/000000010000000000000001", "seg");
	const char *staging = pgr_store_staging_dir(f->st);
	assert_non_null(staging);
	char *s = xasprintf("%s/pending-dump", staging);
	write_str(s, "half a dump");
	char *t = xasprintf("%s/wal-archive/.pgrescue-tmp.000000010000000000000002.abc123", f->root);
	write_str(t, "half a segment");
	struct pgr_object_list l = {0};
	assert_true(pgr_store_list(f->st, "", &l, &err));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].key, "wal-archive/000000010000000000000001");
	pgr_object_list_free(&l);
	assert_true(pgr_store_list(f->st, ".pgrescue", &l, &err));
	assert_int_equal(l.n, 0);
	free(t);
	free(s);
}

/* ---------------------------------------------------------------- layout */

static void test_file_kinds(void **state)
{
	(void)state;
	unsigned char tar[1024] = {0};
	memcpy(tar, "base/PG_VERSION", 15);
	memcpy(tar + 257, "ustar", 5);
	const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00};
	assert_int_equal(pgr_file_kind("PGDMP\x01\x0f", 7), PGR_FILE_PGDUMP_CUSTOM);
	assert_int_equal(pgr_file_kind(gz, sizeof gz), PGR_FILE_GZIP);
	assert_int_equal(pgr_file_kind(tar, sizeof tar), PGR_FILE_TAR);
	const char *sql = "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n";
	assert_int_equal(pgr_file_kind(sql, strlen(sql)), PGR_FILE_PLAIN_SQL);
	const char *sqlall = "--\r\n-- PostgreSQL database cluster dump\r\n--\r\n";
	assert_int_equal(pgr_file_kind(sqlall, strlen(sqlall)), PGR_FILE_PLAIN_SQL);
	assert_int_equal(pgr_file_kind("", 0), PGR_FILE_EMPTY);
	assert_int_equal(pgr_file_kind("hello world", 11), PGR_FILE_UNKNOWN);
	assert_int_equal(pgr_file_kind("PGD", 3), PGR_FILE_UNKNOWN);
	assert_int_equal(pgr_file_kind("-- my notes", 11), PGR_FILE_UNKNOWN);

	const char *d = pgr_filekind_describe(PGR_FILE_GZIP);
	assert_non_null(strstr(d, "gzip"));
	assert_non_null(strstr(d, "gunzip | psql"));
	assert_non_null(strstr(d, "not pg_restore"));
	assert_non_null(strstr(pgr_filekind_describe(PGR_FILE_PGDUMP_CUSTOM), "pg_restore"));
	assert_non_null(strstr(pgr_filekind_describe(PGR_FILE_PLAIN_SQL), "psql"));
	assert_non_null(strstr(pgr_filekind_describe(PGR_FILE_EMPTY), "empty"));
	assert_non_null(strstr(pgr_filekind_describe(PGR_FILE_TAR), "tar"));
	assert_non_null(pgr_filekind_describe(PGR_FILE_UNKNOWN));
}

static void test_dump_keys(void **state)
{
	(void)state;
	time_t t = 1767319200; /* 2026-01-02 02:00:00 UTC */
	char *k = pgr_dump_key(t);
	assert_string_equal(k, "database/postgres-backup-20260102-020000.sql.gz");
	time_t back = 0;
	assert_true(pgr_dump_key_parse(k, &back));
	assert_int_equal(back, t);
	char *m = pgr_dump_manifest_key(k);
	assert_string_equal(m, "pgrescue/dumps/postgres-backup-20260102-020000.sql.gz.json");
	free(m);
	free(k);
	assert_true(pgr_dump_key_parse("database/clipper-backup-20240229-235959.sql.gz", &back));
	assert_int_equal(back, 1709251199);
	assert_true(pgr_dump_key_parse("postgres-backup-20260102-020000.sql.gz", &back));
	const char *bad[] = {
	        "database/postgres-backup-20260230-020000.sql.gz", /* 30 February */
	        "database/postgres-backup-20250229-020000.sql.gz", /* not a leap year */
	        "database/postgres-backup-20261301-020000.sql.gz", /* month 13 */
	        "database/postgres-backup-20260100-020000.sql.gz", /* day 0 */
	        "database/postgres-backup-20260102-250000.sql.gz", /* hour 25 */
	        "database/postgres-backup-20260102-026100.sql.gz", /* minute 61 */
	        "database/postgres-backup-2026012-020000.sql.gz", /* short date */
	        "database/postgres-backup-20260102_020000.sql.gz",
	        "database/postgres-backup-20260102-020000.sql.gz.tmp",
	        "database/old/postgres-backup-20260102-020000.sql.gz",
	        "database/mysql-backup-20260102-020000.sql.gz",
	        "database/postgres-backup-",
	        "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pgr_dump_key_parse(bad[i], &back))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(pgr_dump_key_parse(NULL, &back));
}

static void test_walnames(void **state)
{
	(void)state;
	struct pgr_walname w;
	assert_true(pgr_walname_parse("00000001000000000000002A", &w));
	assert_int_equal(w.kind, PGR_WAL_SEGMENT);
	assert_int_equal(w.tli, 1);
	assert_int_equal(w.log, 0);
	assert_int_equal(w.seg, 0x2A);
	assert_true(pgr_walname_parse("00000002.history", &w));
	assert_int_equal(w.kind, PGR_WAL_HISTORY);
	assert_int_equal(w.tli, 2);
	assert_true(pgr_walname_parse("000000010000000000000028.00000028.backup", &w));
	assert_int_equal(w.kind, PGR_WAL_BACKUP);
	assert_int_equal(w.seg, 0x28);
	assert_true(pgr_walname_parse("0000000300000001000000FF.partial", &w));
	assert_int_equal(w.kind, PGR_WAL_PARTIAL);
	assert_int_equal(w.tli, 3);
	assert_int_equal(w.log, 1);
	assert_int_equal(w.seg, 0xFF);
	const char *bad[] = {"",
	                     "00000001000000000000002a", /* PostgreSQL writes upper case */
	                     "00000001000000000000002",
	                     "00000001000000000000002A0",
	                     "00000000000000000000002A", /* timeline 0 */
	                     "00000001000000000000002A.tmp",
	                     "000000010000000000000028.0000028.backup",
	                     "0000002.history",
	                     "00000002.History",
	                     "notwal.txt",
	                     "RECOVERYXLOG"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pgr_walname_parse(bad[i], &w))
			fail_msg("accepted \"%s\"", bad[i]);

	/* segno <-> name, for 1 MiB (tests) and 16 MiB (default) segments. */
	const uint64_t sizes[] = {1u << 20, 16u << 20, 64u << 20};
	for (size_t s = 0; s < 3; s++) {
		uint64_t per = (UINT64_C(1) << 32) / sizes[s];
		const uint64_t segnos[] = {1, per - 1, per, per + 5, 10 * per + 3};
		for (size_t i = 0; i < 5; i++) {
			char buf[25];
			pgr_walname_format(7, segnos[i], sizes[s], buf);
			assert_int_equal(strlen(buf), 24);
			assert_true(pgr_walname_parse(buf, &w));
			assert_int_equal(w.tli, 7);
			assert_int_equal(pgr_wal_segno(w.log, w.seg, sizes[s]), segnos[i]);
		}
	}
	char buf[25];
	pgr_walname_format(1, 4096, 1u << 20, buf);
	assert_string_equal(buf, "000000010000000100000000");
	pgr_walname_format(1, 256, 16u << 20, buf);
	assert_string_equal(buf, "000000010000000100000000");
	pgr_walname_format(2, 0x2A, 16u << 20, buf);
	assert_string_equal(buf, "00000002000000000000002A");
	assert_int_equal(pgr_wal_segno(1, 0, 1u << 20), 4096);
}

static void test_lsn(void **state)
{
	(void)state;
	uint64_t l;
	assert_true(pgr_lsn_parse("0/16B3D48", &l));
	assert_int_equal(l, 0x16B3D48);
	assert_true(pgr_lsn_parse("1/0", &l));
	assert_int_equal(l, UINT64_C(1) << 32);
	assert_true(pgr_lsn_parse("FFFFFFFF/FFFFFFFF", &l));
	assert_int_equal(l, UINT64_MAX);
	assert_true(pgr_lsn_parse("16/b374d848", &l));
	char buf[32];
	pgr_lsn_format(l, buf, sizeof buf);
	assert_string_equal(buf, "16/B374D848");
	pgr_lsn_format(0, buf, sizeof buf);
	assert_string_equal(buf, "0/0");
	const char *bad[] = {"", "0", "/1", "1/", "G/0", "123456789/0", "0/123456789", " 0/1", "0/1 ", "0//1", "-1/0"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (pgr_lsn_parse(bad[i], &l))
			fail_msg("accepted LSN \"%s\"", bad[i]);
}

/* ---------------------------------------------------------------- WAL */

static void test_wal_push(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	const char *name = "000000010000000000000003";
	char *pgwal = xasprintf("%s/pg_wal", f->dir);
	assert_int_equal(mkdir(pgwal, 0755), 0);
	char *seg = xasprintf("%s/%s", pgwal, name);
	write_str(seg, "segment three contents");
	assert_int_equal(pgr_wal_push(f->st, seg, &err), PGR_WAL_OK);
	assert_true(pgr_path_exists(seg)); /* PostgreSQL's file is left alone */
	char *archived = xasprintf("%s/wal-archive/%s", f->root, name);
	size_t len;
	char *got = slurp(archived, &len);
	assert_string_equal(got, "segment three contents");
	free(got);

	/* Again, identical: fine, so PostgreSQL moves on. */
	assert_int_equal(pgr_wal_push(f->st, seg, &err), PGR_WAL_ALREADY);

	/* A different file under the same name: refused, archive untouched. */
	char *other = xasprintf("%s/other", f->dir);
	assert_int_equal(mkdir(other, 0755), 0);
	char *imposter = xasprintf("%s/%s", other, name);
	write_str(imposter, "segment three CONTENTS"); /* same size, other bytes */
	memset(&err, 0, sizeof err);
	assert_int_equal(pgr_wal_push(f->st, imposter, &err), PGR_WAL_CONFLICT);
	assert_int_equal(err.kind, PGR_ERR_CONFLICT);
	assert_non_null(strstr(err.msg, name));
	assert_non_null(strstr(err.msg, "refus"));
	assert_non_null(strstr(err.detail, "22 bytes"));
	assert_non_null(strstr(err.hint, "nother cluster"));
	write_str(imposter, "shorter");
	assert_int_equal(pgr_wal_push(f->st, imposter, &err), PGR_WAL_CONFLICT);
	assert_non_null(strstr(err.detail, "7 bytes"));
	assert_non_null(strstr(err.detail, "22 bytes"));
	got = slurp(archived, &len);
	assert_string_equal(got, "segment three contents");
	free(got);

	/* Not a WAL name: refused with the name in the message. */
	char *notwal = xasprintf("%s/postgresql.conf", f->dir);
	write_str(notwal, "x");
	assert_int_equal(pgr_wal_push(f->st, notwal, &err), PGR_WAL_ERROR);
	assert_non_null(strstr(err.msg, "postgresql.conf"));
	assert_true(err.hint[0] != '\0');
	/* A WAL name whose file does not exist. */
	char *ghost = xasprintf("%s/000000010000000000000009", pgwal);
	assert_int_equal(pgr_wal_push(f->st, ghost, &err), PGR_WAL_ERROR);
	assert_non_null(strstr(err.msg, "000000010000000000000009"));

	/* History and backup files are archived too. */
	char *hist = xasprintf("%s/00000002.history", pgwal);
	write_str(hist, "1\t0/3000000\tno recovery target specified\n");
	assert_int_equal(pgr_wal_push(f->st, hist, &err), PGR_WAL_OK);
	char *bk = xasprintf("%s/000000010000000000000003.00000028.backup", pgwal);
	write_str(bk, "START WAL LOCATION: 0/3000028\n");
	assert_int_equal(pgr_wal_push(f->st, bk, &err), PGR_WAL_OK);
	struct pgr_object_list l = {0};
	assert_true(pgr_store_list(f->st, "wal-archive/", &l, &err));
	assert_int_equal(l.n, 3);
	pgr_object_list_free(&l);

	free(bk);
	free(hist);
	free(ghost);
	free(notwal);
	free(imposter);
	free(other);
	free(archived);
	free(seg);
	free(pgwal);
}

static void test_wal_fetch(void **state)
{
	struct fixture *f = *state;
	struct pgr_error err = {0};
	char *dest = xasprintf("%s/RECOVERYXLOG", f->dir);
	memset(&err, 0, sizeof err);
	assert_int_equal(pgr_wal_fetch(f->st, "000000010000000000000007", dest, &err), PGR_WAL_MISSING);
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "000000010000000000000007"));
	assert_non_null(strstr(err.msg, "not in the archive"));
	assert_false(pgr_path_exists(dest));

	put_str(f, "wal-archive/000000010000000000000007", "seven");
	assert_int_equal(pgr_wal_fetch(f->st, "000000010000000000000007", dest, &err), PGR_WAL_OK);
	size_t len;
	char *got = slurp(dest, &len);
	assert_string_equal(got, "seven");
	free(got);
	/* Fetching over an existing file replaces it. */
	put_str(f, "wal-archive/00000002.history", "history");
	assert_int_equal(pgr_wal_fetch(f->st, "00000002.history", dest, &err), PGR_WAL_OK);
	got = slurp(dest, &len);
	assert_string_equal(got, "history");
	free(got);

	assert_int_equal(pgr_wal_fetch(f->st, "../../etc/passwd", dest, &err), PGR_WAL_ERROR);
	assert_int_equal(pgr_wal_fetch(f->st, "passwd", dest, &err), PGR_WAL_ERROR);
	assert_non_null(strstr(err.msg, "passwd"));
	free(dest);
}

/* ---------------------------------------------------------------- parallel listing
 * A fake object store in memory: sorted keys, at most 1,000 per request,
 * pages from any start-after key, safe to call from several threads. The
 * parallel listing must give exactly what one page after the other gives. */

struct fake_keys {
	char **keys;
	size_t n, cap;
	int fail_at; /* the request number that fails (0: none) */
	int requests;
	pthread_mutex_t mu;
};

static struct fake_keys fake;

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fake_add(const char *key)
{
	if (fake.n == fake.cap) {
		fake.cap = fake.cap ? fake.cap * 2 : 1024;
		fake.keys = xrealloc(fake.keys, fake.cap * sizeof *fake.keys);
	}
	fake.keys[fake.n++] = xstrdup(key);
}

static void fake_sort(void)
{
	qsort(fake.keys, fake.n, sizeof *fake.keys, str_cmp);
	size_t w = 0; /* a set: no duplicates */
	for (size_t i = 0; i < fake.n; i++) {
		if (w && !strcmp(fake.keys[w - 1], fake.keys[i]))
			free(fake.keys[i]);
		else
			fake.keys[w++] = fake.keys[i];
	}
	fake.n = w;
}

static void fake_clear(void)
{
	for (size_t i = 0; i < fake.n; i++)
		free(fake.keys[i]);
	free(fake.keys);
	fake.keys = NULL;
	fake.n = fake.cap = 0;
	fake.fail_at = 0;
	fake.requests = 0;
}

static bool fake_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                           struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	(void)st;
	*more = false;
	pthread_mutex_lock(&fake.mu);
	int req = ++fake.requests;
	pthread_mutex_unlock(&fake.mu);
	if (fake.fail_at && req == fake.fail_at)
		return pgr_error_set(err, PGR_ERR_STORE, "listing fake://: HTTP 503 SlowDown");
	size_t plen = strlen(prefix);
	size_t max = page_size < 1000 ? page_size : 1000;
	/* first key > after (binary search), then those with the prefix */
	size_t lo = 0, hi = fake.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (after && strcmp(fake.keys[mid], after) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t taken = 0;
	for (size_t i = lo; i < fake.n; i++) {
		if (strncmp(fake.keys[i], prefix, plen) != 0) {
			if (strcmp(fake.keys[i], prefix) > 0)
				break;
			continue;
		}
		if (taken == max) {
			*more = true;
			break;
		}
		pgr_object_list_add(out, fake.keys[i], i, 0);
		taken++;
	}
	return true;
}

static const struct pgr_store_ops fake_ops = {
        .scheme = "fake",
        .list_page = fake_list_page,
        .list_workers = 4,
        .list_page_keys = 1000,
};

/* pgr_store_list against the keys under prefix, in order, both ways. */
static void check_listing(const char *prefix, const char *what)
{
	struct pgr_store st = {.ops = &fake_ops, .url = (char *)"fake://"};
	size_t plen = strlen(prefix);
	size_t want = 0;
	for (size_t i = 0; i < fake.n; i++)
		want += !strncmp(fake.keys[i], prefix, plen);
	const char *modes[] = {"1", "2", "4", "16"};
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		setenv("PGRESCUE_LIST_WORKERS", modes[m], 1);
		struct pgr_object_list l = {0};
		struct pgr_error err = {0};
		/* something already in the list stays in front */
		pgr_object_list_add(&l, "already-there", 0, 0);
		if (!pgr_store_list(&st, prefix, &l, &err))
			fail_msg("%s, %s workers: %s", what, modes[m], err.msg);
		if (l.n != want + 1)
			fail_msg("%s, %s workers: %zu keys, want %zu", what, modes[m], l.n - 1, want);
		assert_string_equal(l.items[0].key, "already-there");
		size_t k = 1;
		for (size_t i = 0; i < fake.n; i++) {
			if (strncmp(fake.keys[i], prefix, plen) != 0)
				continue;
			if (strcmp(l.items[k].key, fake.keys[i]) != 0)
				fail_msg("%s, %s workers: key %zu is \"%s\", want \"%s\"", what, modes[m], k - 1,
				         l.items[k].key, fake.keys[i]);
			k++;
		}
		pgr_object_list_free(&l);
	}
	unsetenv("PGRESCUE_LIST_WORKERS");
}

static void test_parallel_listing(void **state)
{
	(void)state;
	pthread_mutex_init(&fake.mu, NULL);
	if (getenv("TEST_LIST_DEBUG"))
		pgr_log_set_level(PGR_LOG_DEBUG);
	char key[128];
	/* A counter in hex, as bench/s3.sh names its keys. */
	for (unsigned i = 1; i <= 25000; i++) {
		snprintf(key, sizeof key, "wal-archive/00000001%016X", i);
		fake_add(key);
	}
	fake_add("base/x/base.tar");
	fake_add("database/postgres-backup-20261124-010000.sql.gz");
	fake_sort();
	check_listing("wal-archive/", "a hex counter");
	check_listing("", "everything");
	check_listing("base/", "a short prefix");
	check_listing("nothing/", "an empty prefix");
	fake_clear();

	/* WAL: three timelines (gaps far larger than a range's guess), 16 MB
	 * segments (00-FF), history, partial and backup files. */
	for (unsigned tl = 1; tl <= 5; tl += 2)
		for (unsigned log = 0; log < 24; log++)
			for (unsigned seg = 0; seg < 256; seg++) {
				snprintf(key, sizeof key, "wal-archive/%08X%08X%08X", tl, log + tl * 7, seg);
				fake_add(key);
				if (seg == 77 && log == 5) {
					snprintf(key, sizeof key, "wal-archive/%08X%08X%08X.00000028.backup", tl,
					         log + tl * 7, seg);
					fake_add(key);
				}
			}
	fake_add("wal-archive/00000003.history");
	fake_add("wal-archive/00000005.history");
	fake_add("wal-archive/00000003000000250000000A.partial");
	fake_sort();
	check_listing("wal-archive/", "WAL over timelines");
	fake_clear();

	/* Random names: lengths, bytes the first page never showed, clusters. */
	unsigned seed = 12345;
	for (unsigned i = 0; i < 9000; i++) {
		size_t len = 1 + rand_r(&seed) % 30;
		size_t at = (size_t)snprintf(key, sizeof key, "r/");
		int cluster = rand_r(&seed) % 4;
		for (size_t j = 0; j < len; j++) {
			int c = cluster == 0 ? '0' + rand_r(&seed) % 2 : 0x21 + rand_r(&seed) % 0x5e;
			if (cluster == 3 && j == 0)
				c = 0xc3; /* UTF-8 lead byte */
			key[at++] = (char)c;
		}
		key[at] = '\0';
		fake_add(key);
	}
	fake_sort();
	check_listing("r/", "random names");
	fake_clear();

	/* Exactly one page, one key more, and a sparse run then a dense one. */
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "p/%06u", i * 7);
		fake_add(key);
	}
	fake_sort();
	check_listing("p/", "one full page");
	fake_add("p/999999");
	fake_sort();
	check_listing("p/", "a page and one key");
	for (unsigned i = 0; i < 6000; i++) {
		snprintf(key, sizeof key, "p/9%09u", i);
		fake_add(key);
	}
	fake_sort();
	check_listing("p/", "sparse then dense");

	/* A failing request fails the listing with its error. */
	struct pgr_store st = {.ops = &fake_ops, .url = (char *)"fake://"};
	for (int at = 1; at <= 4; at++) {
		fake.fail_at = at;
		fake.requests = 0;
		struct pgr_object_list l = {0};
		struct pgr_error err = {0};
		assert_false(pgr_store_list(&st, "p/", &l, &err));
		assert_non_null(strstr(err.msg, "503 SlowDown"));
		pgr_object_list_free(&l);
	}
	fake_clear();
	pthread_mutex_destroy(&fake.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_open_forms, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_delete_prunes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_put_verifies_size, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_put_consume, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_ownership, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_paging_large, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_hidden_never_listed, setup, teardown),
	        cmocka_unit_test(test_parallel_listing),
	        cmocka_unit_test(test_file_kinds),
	        cmocka_unit_test(test_dump_keys),
	        cmocka_unit_test(test_walnames),
	        cmocka_unit_test(test_lsn),
	        cmocka_unit_test_setup_teardown(test_wal_push, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_wal_fetch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
