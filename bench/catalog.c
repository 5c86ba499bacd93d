/* Benchmark driver for bench/catalog.sh (not installed, not part of make check).
 *
 *   catalog_bench populate DIR [DUMPS BASES WAL]
 *       lay out a file:// store in DIR the way pgrescue and the deployment's
 *       jobs write it: DUMPS pg_dump files (PGDMP head, sparse) each with its
 *       pgrescue/dumps/<name>.json, BASES base backups (sparse base.tar, a
 *       PostgreSQL backup_manifest, pgrescue.json from pgr_manifest_to_json)
 *       and WAL consecutive 16 MiB segments (sparse) on timeline 1, plus the
 *       .backup file each base backup leaves in the archive. Times run back
 *       from now: one segment a minute, backups spread over the same span.
 *   catalog_bench build URL
 *       pgr_catalog_build + pgr_catalog_window once, in this process; prints
 *       their times, the peak resident size (getrusage ru_maxrss) and what
 *       the catalog found.
 *   catalog_bench list URL
 *       only the listing pgr_catalog_build starts with (every key under the
 *       four prefixes, pgr_store_list): where the build's time goes.
 *   catalog_bench raw COMMAND
 *       run COMMAND with /bin/sh (stdout to /dev/null); prints its wall time
 *       and the peak resident size of its largest process (wait4 rusage).
 * Output is one line of key=value words for the script to read. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "ops/manifest.h"
#include "storage/layout.h"
#include "storage/storage.h"

#define MiB ((uint64_t)1024 * 1024)
#define SEG_SIZE (16 * MiB)
#define SEG_EVERY 60 /* seconds between archived segments */

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const struct pgr_error *err)
{
	if (err && err->msg[0])
		fprintf(stderr, "catalog_bench: %s: %s\n", what, err->msg);
	else
		fprintf(stderr, "catalog_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A file of apparent size `size` holding `head` at its start (the rest a
 * hole), with its modification time set to t. */
static void make_file(const char *path, const void *head, size_t head_len, uint64_t size, time_t t)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path, NULL);
	if (head_len && write(fd, head, head_len) != (ssize_t)head_len)
		die(path, NULL);
	if (size > head_len && ftruncate(fd, (off_t)size) < 0)
		die(path, NULL);
	struct timespec ts[2] = {{t, 0}, {t, 0}};
	if (futimens(fd, ts) < 0)
		die(path, NULL);
	close(fd);
}

static void mkdir_or_die(const char *path)
{
	struct pgr_error err = {0};
	if (!pgr_mkdir_p(path, 0755, &err))
		die(path, &err);
}

/* 64 hex digits that look like a SHA-256 and differ per (a, b). */
static void fake_sha(uint64_t a, uint64_t b, char hex[65])
{
	uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
	for (int i = 0; i < 4; i++) {
		x ^= x >> 31;
		x *= 0xBF58476D1CE4E5B9ull;
		x ^= x >> 29;
		snprintf(hex + 16 * i, 17, "%016" PRIx64, x);
	}
}

/* clipper_db's tables and the deployment's usual neighbours, with row counts
 * that grow with the backup's age. */
static void add_tables(struct pgr_manifest *m, int64_t growth)
{
	static const struct {
		const char *table;
		int64_t rows;
	} t[] = {{"users", 5000},           {"clips", 40000},          {"clip_views", 900000}, {"comments", 120000},
	         {"likes", 300000},         {"follows", 45000},        {"tags", 800},          {"clip_tags", 95000},
	         {"sessions", 22000},       {"notifications", 260000}, {"reports", 350},       {"audit_log", 410000},
	         {"schema_migrations", 64}, {"feature_flags", 40}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		pgr_manifest_add_table(m, "public", t[i].table, t[i].rows + growth * (int64_t)(i + 1));
}

static void common_fields(struct pgr_manifest *m, const char *label)
{
	m->label = xstrdup(label);
	m->database = xstrdup("clipper_db");
	m->server_version = xstrdup("15.14");
	m->system_identifier = xstrdup("7431862095432112337");
	m->pgrescue_version = xstrdup(PACKAGE_VERSION);
	m->status = xstrdup("complete");
	m->wal_segment_size = SEG_SIZE;
	m->timeline = 1;
}

static void label_of(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y%m%d-%H%M%S", &tm);
}

static void write_text(const char *path, const char *text, time_t t)
{
	make_file(path, text, strlen(text), 0, t);
}

/* PostgreSQL's own backup_manifest, in its format, for a base of a few files. */
static char *pg_backup_manifest(uint64_t start_lsn, uint64_t stop_lsn, uint64_t n)
{
	char s[32], e[32], sha[65];
	pgr_lsn_format(start_lsn, s, sizeof s);
	pgr_lsn_format(stop_lsn, e, sizeof e);
	size_t cap = 64 * 1024, len = 0;
	char *buf = xmalloc(cap);
	len += (size_t)snprintf(buf + len, cap - len, "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
	static const char *const files[] = {"backup_label",      "PG_VERSION",       "postgresql.conf", "pg_hba.conf",
	                                    "global/pg_control", "global/1262",      "base/1/1259",     "base/1/1249",
	                                    "base/16384/16385",  "base/16384/16390", "base/16384/16397"};
	size_t nf = sizeof files / sizeof files[0];
	for (size_t i = 0; i < nf; i++) {
		fake_sha(n, i, sha);
		len += (size_t)snprintf(
		        buf + len, cap - len,
		        "{ \"Path\": \"%s\", \"Size\": %zu, \"Last-Modified\": \"2026-03-01 02:00:00 GMT\", "
		        "\"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"%.8s\" }%s\n",
		        files[i], (size_t)(8192 * (i + 1)), sha, i + 1 < nf ? "," : "");
	}
	fake_sha(n, 999, sha);
	snprintf(buf + len, cap - len,
	         "],\n\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"%s\", \"End-LSN\": \"%s\" }\n],\n"
	         "\"Manifest-Checksum\": \"%s\"}\n",
	         s, e, sha);
	return buf;
}

static int populate(const char *root, long n_dumps, long n_bases, long n_wal)
{
	char path[4096], name[64];
	const time_t end = pgr_now() - 30;
	const time_t start = end - (time_t)n_wal * SEG_EVERY;
	const time_t span = end - start;

	snprintf(path, sizeof path, "%s/%s", root, PGR_PREFIX_WAL);
	mkdir_or_die(path);
	snprintf(path, sizeof path, "%s/%s", root, PGR_PREFIX_DUMPS);
	mkdir_or_die(path);
	snprintf(path, sizeof path, "%s/%s", root, PGR_PREFIX_DUMP_MANIFESTS);
	mkdir_or_die(path);
	snprintf(path, sizeof path, "%s/%s", root, PGR_PREFIX_BASE);
	mkdir_or_die(path);

	/* WAL: segments 1 .. n_wal, segment k closed at start + k minutes. */
	for (long k = 1; k <= n_wal; k++) {
		pgr_walname_format(1, (uint64_t)k, SEG_SIZE, name);
		snprintf(path, sizeof path, "%s/%s%s", root, PGR_PREFIX_WAL, name);
		make_file(path, "\x10\xd1\x06\x00", 4, SEG_SIZE, start + (time_t)k * SEG_EVERY);
	}

	/* Dumps, evenly over the span, each with pgrescue's manifest. */
	for (long i = 0; i < n_dumps; i++) {
		time_t t = start + (time_t)((double)span * (i + 0.5) / (double)n_dumps);
		char *key = pgr_dump_key(t);
		char *mkey = pgr_dump_manifest_key(key);
		uint64_t size = 40 * MiB + (uint64_t)i * 37 * 1024;
		snprintf(path, sizeof path, "%s/%s", root, key);
		make_file(path, "PGDMP\x01\x0f\x00\x04\x08\x01\x01\x01", 13, size, t + 95);

		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_DUMP);
		char label[32], sha[65];
		label_of(t, label, sizeof label);
		common_fields(&m, label);
		m.start_time = t;
		m.stop_time = t + 95;
		long seg = 1 + (long)((t - start) / SEG_EVERY);
		m.start_lsn = m.stop_lsn = m.rows_lsn = (uint64_t)seg * SEG_SIZE + 0x1F28;
		fake_sha((uint64_t)i, 1, sha);
		pgr_manifest_add_file(&m, key, size, sha);
		add_tables(&m, i);
		char *json = pgr_manifest_to_json(&m);
		snprintf(path, sizeof path, "%s/%s", root, mkey);
		write_text(path, json, t + 96);
		free(json);
		pgr_manifest_free(&m);
		free(mkey);
		free(key);
	}

	/* Base backups, evenly over the WAL: base i starts in segment s_i. */
	for (long i = 0; i < n_bases; i++) {
		long s_i = 10 + (long)((double)(n_wal - 20) * i / (double)n_bases);
		time_t t0 = start + (time_t)s_i * SEG_EVERY - 45;
		time_t t1 = t0 + 40;
		uint64_t start_lsn = (uint64_t)s_i * SEG_SIZE + 0x28;
		uint64_t stop_lsn = (uint64_t)(s_i + 1) * SEG_SIZE + 0x100;
		char label[32], start_wal[32], stop_wal[32], sha[65];
		label_of(t0, label, sizeof label);
		pgr_walname_format(1, (uint64_t)s_i, SEG_SIZE, start_wal);
		pgr_walname_format(1, (uint64_t)s_i + 1, SEG_SIZE, stop_wal);

		snprintf(path, sizeof path, "%s/%s%s", root, PGR_PREFIX_BASE, label);
		mkdir_or_die(path);
		uint64_t tar_size = 320 * MiB + (uint64_t)i * 512 * 1024;
		char tarhead[512] = "backup_label";
		memcpy(tarhead + 257, "ustar", 6);
		snprintf(path, sizeof path, "%s/%s%s/base.tar", root, PGR_PREFIX_BASE, label);
		make_file(path, tarhead, sizeof tarhead, tar_size, t1);
		char *pgm = pg_backup_manifest(start_lsn, stop_lsn, (uint64_t)i);
		snprintf(path, sizeof path, "%s/%s%s/backup_manifest", root, PGR_PREFIX_BASE, label);
		write_text(path, pgm, t1);

		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_BASE);
		common_fields(&m, label);
		m.start_time = t0;
		m.stop_time = t1;
		m.start_lsn = start_lsn;
		m.stop_lsn = stop_lsn;
		m.rows_lsn = start_lsn - 0x28 + 0x5A0;
		m.start_wal = xstrdup(start_wal);
		m.stop_wal = xstrdup(stop_wal);
		char key[256];
		snprintf(key, sizeof key, "%s%s/base.tar", PGR_PREFIX_BASE, label);
		fake_sha((uint64_t)i, 2, sha);
		pgr_manifest_add_file(&m, key, tar_size, sha);
		snprintf(key, sizeof key, "%s%s/backup_manifest", PGR_PREFIX_BASE, label);
		fake_sha((uint64_t)i, 3, sha);
		pgr_manifest_add_file(&m, key, strlen(pgm), sha);
		add_tables(&m, i * 5);
		char *json = pgr_manifest_to_json(&m);
		snprintf(path, sizeof path, "%s/%s%s/%s", root, PGR_PREFIX_BASE, label, PGR_BASE_MANIFEST);
		write_text(path, json, t1 + 1);
		free(json);
		free(pgm);
		pgr_manifest_free(&m);

		/* The .backup history file the server archives at the end of a base backup. */
		snprintf(path, sizeof path, "%s/%s%s.%08" PRIX64 ".backup", root, PGR_PREFIX_WAL, start_wal,
		         start_lsn % SEG_SIZE);
		char hist[512];
		char sl[32], el[32];
		pgr_lsn_format(start_lsn, sl, sizeof sl);
		pgr_lsn_format(stop_lsn, el, sizeof el);
		snprintf(hist, sizeof hist,
		         "START WAL LOCATION: %s (file %s)\nSTOP WAL LOCATION: %s (file %s)\n"
		         "CHECKPOINT LOCATION: %s\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"
		         "LABEL: pgrescue %s\nSTART TIMELINE: 1\nSTOP TIMELINE: 1\n",
		         sl, start_wal, el, stop_wal, sl, label);
		write_text(path, hist, t1);
	}
	printf("populated dumps=%ld bases=%ld wal=%ld\n", n_dumps, n_bases, n_wal);
	return 0;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int build(const char *url)
{
	struct pgr_error err = {0};
	double t0 = mono_ms();
	struct pgr_store *st = pgr_store_open(url, &err);
	if (!st)
		die(url, &err);
	struct pgr_catalog cat;
	double t1 = mono_ms();
	if (!pgr_catalog_build(st, &cat, &err))
		die("pgr_catalog_build", &err);
	double t2 = mono_ms();
	struct pgr_window w;
	pgr_catalog_window(&cat, &w);
	double t3 = mono_ms();
	long rss = maxrss_kb();
	size_t good = 0;
	for (size_t i = 0; i < cat.n_dumps; i++)
		good += cat.dumps[i].good;
	size_t complete = 0;
	for (size_t i = 0; i < cat.n_bases; i++)
		complete += cat.bases[i].complete;
	printf("open_ms=%.2f build_ms=%.2f window_ms=%.2f total_ms=%.2f maxrss_kb=%ld dumps=%zu good=%zu bases=%zu "
	       "complete=%zu wal=%zu window=%s earliest_base=%s last_wal=%s gap=%s\n",
	       t1 - t0, t2 - t1, t3 - t2, t3 - t1, rss, cat.n_dumps, good, cat.n_bases, complete, cat.n_wal,
	       w.exists ? "yes" : "no", w.earliest_base ? w.earliest_base : "-", w.last_wal ? w.last_wal : "-",
	       w.gap_after ? w.gap_after : "-");
	if (!w.exists && w.why_not)
		fprintf(stderr, "catalog_bench: no window: %s\n", w.why_not);
	pgr_window_free(&w);
	pgr_catalog_free(&cat);
	pgr_store_close(st);
	return 0;
}

static int list(const char *url)
{
	static const char *const prefixes[] = {PGR_PREFIX_DUMPS, PGR_PREFIX_BASE, PGR_PREFIX_WAL,
	                                       PGR_PREFIX_DUMP_MANIFESTS};
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open(url, &err);
	if (!st)
		die(url, &err);
	double t0 = mono_ms();
	size_t n = 0;
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		struct pgr_object_list l = {0};
		if (!pgr_store_list(st, prefixes[i], &l, &err))
			die("pgr_store_list", &err);
		n += l.n;
		pgr_object_list_free(&l);
	}
	double t1 = mono_ms();
	printf("list_ms=%.2f keys=%zu maxrss_kb=%ld\n", t1 - t0, n, maxrss_kb());
	pgr_store_close(st);
	return 0;
}

static int raw(const char *cmd)
{
	fflush(stdout);
	double t0 = mono_ms();
	pid_t pid = fork();
	if (pid < 0)
		die("fork", NULL);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4", NULL);
	double t1 = mono_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "catalog_bench: \"%s\" failed\n", cmd);
		return 1;
	}
	printf("total_ms=%.2f maxrss_kb=%ld\n", t1 - t0, ru.ru_maxrss);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "populate")) {
		long d = argc > 3 ? atol(argv[3]) : 1000;
		long b = argc > 4 ? atol(argv[4]) : 200;
		long w = argc > 5 ? atol(argv[5]) : 100000;
		if (d < 0 || b < 0 || w < 40) {
			fprintf(stderr, "catalog_bench: populate needs DUMPS >= 0, BASES >= 0, WAL >= 40\n");
			return 2;
		}
		return populate(argv[2], d, b, w);
	}
	if (argc == 3 && !strcmp(argv[1], "build"))
		return build(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "list"))
		return list(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "raw"))
		return raw(argv[2]);
	fprintf(stderr, "usage: catalog_bench populate DIR [DUMPS BASES WAL] | build URL | list URL | raw COMMAND\n");
	return 2;
}
