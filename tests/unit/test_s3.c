/* Unit tests for the s3:// backend through its own seam, HTTP: a loopback
 * server plays recorded S3 answers (ListObjectsV2 pages, error documents,
 * multipart steps) and records the requests, so the canonical query strings,
 * the headers, the paging by continuation token, the error messages and
 * hints, the integrity checks and the multipart abort are checked without a
 * service. (tests/integration/s3.sh runs it all against a real Swift.) */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/storage.h"

/* ---------------------------------------------------------------- the server */

struct answer {
	const char *head; /* status line and headers */
	const char *body;
};

#define MAX_REQ 16

struct server {
	int lfd, port;
	pthread_t th;
	const struct answer *answers;
	int n, served;
	char *req[MAX_REQ];
	size_t body_len[MAX_REQ];
};

static void *serve(void *arg)
{
	struct server *s = arg;
	while (s->served < s->n) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			break;
		struct strbuf in = STRBUF_INIT;
		char *buf = xmalloc(1 << 20);
		char *end = NULL;
		while (!end) {
			ssize_t r = read(fd, buf, 1 << 20);
			if (r <= 0)
				break;
			sb_append_len(&in, buf, (size_t)r);
			end = strstr(in.buf, "\r\n\r\n");
		}
		if (!end) {
			free(buf);
			sb_free(&in);
			close(fd);
			continue;
		}
		int i = s->served++;
		size_t head_len = (size_t)(end - in.buf) + 4;
		s->req[i] = xstrndup(in.buf, head_len);
		const char *cl = strcasestr(s->req[i], "\r\nContent-Length:");
		size_t want = cl ? strtoul(cl + 17, NULL, 10) : 0;
		size_t have = in.len - head_len;
		if (want && strcasestr(s->req[i], "Expect: 100-continue")) {
			const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
			if (write(fd, cont, strlen(cont)) < 0)
				have = want;
		}
		while (have < want) {
			ssize_t r = read(fd, buf, 1 << 20);
			if (r <= 0)
				break;
			have += (size_t)r;
		}
		s->body_len[i] = have;
		const struct answer *a = &s->answers[i];
		const char *body = a->body ? a->body : "";
		struct strbuf out = STRBUF_INIT;
		sb_printf(&out, "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", a->head, strlen(body),
		          body);
		bool sent = write(fd, out.buf, out.len) == (ssize_t)out.len;
		(void)sent;
		sb_free(&out);
		sb_free(&in);
		free(buf);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, const struct answer *answers, int n)
{
	memset(s, 0, sizeof *s);
	s->answers = answers;
	s->n = n;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	getsockname(s->lfd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	close(s->lfd);
	pthread_join(s->th, NULL);
	for (int i = 0; i < MAX_REQ; i++)
		free(s->req[i]);
}

/* The request line of request i ("GET /bkt/... HTTP/1.1"). */
static char *request_line(struct server *s, int i)
{
	assert_non_null(s->req[i]);
	return xstrndup(s->req[i], strcspn(s->req[i], "\r"));
}

static struct pgr_store *open_store(struct server *s, const char *url, const char *sse, const char *sc,
                                    struct pgr_error *err)
{
	char *ep = xasprintf("http://127.0.0.1:%d", s->port);
	struct pgr_store_opts o = {
	        .s3_endpoint = ep, .s3_region = "eu-central-1", .s3_sse = sse, .s3_storage_class = sc};
	struct pgr_store *st = pgr_store_open_opts(url, &o, err);
	free(ep);
	return st;
}

static int setup(void **state)
{
	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	return 0;
}

/* ---------------------------------------------------------------- tests */

static void test_open(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	struct pgr_store_opts o = {.s3_url_style = "sideways"};
	assert_null(pgr_store_open_opts("s3://bkt/x", &o, &err));
	assert_non_null(strstr(err.msg, "s3_url_style"));
	assert_null(pgr_store_open("s3://UPPER/x", &err));
	assert_non_null(strstr(err.msg, "not a valid bucket name"));
	assert_null(pgr_store_open("s3:///x", &err));
	assert_non_null(strstr(err.hint, "s3://my-backups"));

	unsetenv("AWS_ACCESS_KEY_ID");
	assert_null(pgr_store_open("s3://bkt/x", &err));
	assert_non_null(strstr(err.msg, "no credentials"));
	assert_non_null(strstr(err.hint, "AWS_ACCESS_KEY_ID"));
	assert_null(pgr_store_open("gs://bkt/x", &err));
	assert_non_null(strstr(err.hint, "GOOGLE_ACCESS_KEY_ID"));
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
}

/* A profile from the credentials file wins when s3_profile names it. */
static void test_profile(void **state)
{
	(void)state;
	const struct answer a[] = {
	        {"HTTP/1.1 200 OK", "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"}};
	struct server s;
	server_start(&s, a, 1);
	struct pgr_error err = {0};
	char dir[] = "/tmp/pgrescue-test-s3.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *cred = xasprintf("%s/credentials", dir);
	const char *text = "[default]\naws_access_key_id = D\naws_secret_access_key = d\n"
	                   "[backup]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = p\n";
	assert_true(pgr_write_file_atomic(cred, text, strlen(text), 0600, &err));
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	char *ep = xasprintf("http://127.0.0.1:%d", s.port);
	struct pgr_store_opts po = {.s3_profile = "backup", .s3_endpoint = ep};
	struct pgr_store *st = pgr_store_open_opts("s3://bkt/x", &po, &err);
	assert_non_null(st);
	struct pgr_object_list l = {0};
	bool more;
	assert_true(pgr_store_list_page(st, "", NULL, 10, &l, &more, &err));
	assert_int_equal(l.n, 0);
	assert_non_null(strstr(s.req[0], "Credential=PROFILEKEY/"));
	pgr_store_close(st);
	server_stop(&s);
	pgr_rm_rf(dir, NULL);
	free(cred);
	free(ep);
}

/* store_credentials_file: its [default] section wins over the variables (the
 * server's archive_command has none); a file others may read is refused. */
static void test_credentials_file(void **state)
{
	(void)state;
	const struct answer a[] = {
	        {"HTTP/1.1 200 OK", "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"}};
	struct server s;
	server_start(&s, a, 1);
	struct pgr_error err = {0};
	char dir[] = "/tmp/pgrescue-test-s3.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *cred = xasprintf("%s/store.credentials", dir);
	const char *text = "# test\n[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f-secret\n";
	assert_true(pgr_write_file_atomic(cred, text, strlen(text), 0644, &err));
	assert_int_equal(chmod(cred, 0644), 0);
	char *ep = xasprintf("http://127.0.0.1:%d", s.port);
	struct pgr_store_opts po = {.s3_endpoint = ep, .credentials_file = cred};
	assert_null(pgr_store_open_opts("s3://bkt/x", &po, &err));
	assert_non_null(strstr(err.msg, cred));
	assert_non_null(strstr(err.msg, "mode 0644"));
	assert_non_null(strstr(err.hint, "chmod 600"));
	assert_int_equal(chmod(cred, 0600), 0);
	struct pgr_store *st = pgr_store_open_opts("s3://bkt/x", &po, &err);
	assert_non_null(st);
	struct pgr_object_list l = {0};
	bool more;
	assert_true(pgr_store_list_page(st, "", NULL, 10, &l, &more, &err));
	assert_non_null(strstr(s.req[0], "Credential=FILEKEY/"));
	pgr_store_close(st);
	/* No section for the profile asked for: the error names file and section, never a secret. */
	po.s3_profile = "backup";
	assert_null(pgr_store_open_opts("s3://bkt/x", &po, &err));
	assert_non_null(strstr(err.msg, "[backup]"));
	assert_non_null(strstr(err.msg, cred));
	assert_null(strstr(err.msg, "f-secret"));
	server_stop(&s);
	pgr_rm_rf(dir, NULL);
	free(cred);
	free(ep);
}

static const char page1[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bkt</Name>"
        "<Prefix>pfx/wal-archive/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/1=+&amp;x</NextContinuationToken>"
        "<Contents><Key>pfx/wal-archive/000000010000000000000001</Key>"
        "<LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>\"e\"</ETag><Size>16777216</Size></Contents>"
        "<Contents><Key>pfx/wal-archive/000000010000000000000002</Key>"
        "<LastModified>2026-01-02T03:04:06.000Z</LastModified><Size>16777216</Size></Contents>"
        "</ListBucketResult>";
static const char page2[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                            "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                            "<IsTruncated>false</IsTruncated>"
                            "<Contents><Key>pfx/wal-archive/00000002.history</Key>"
                            "<LastModified>2026-01-02T03:04:07Z</LastModified><Size>42</Size></Contents>"
                            "</ListBucketResult>";

static void test_list_pages(void **state)
{
	(void)state;
	const struct answer a[] = {
	        {"HTTP/1.1 200 OK\r\nContent-Type: application/xml", page1},
	        {"HTTP/1.1 200 OK\r\nContent-Type: application/xml", page2},
	};
	struct server s;
	server_start(&s, a, 2);
	struct pgr_error err = {0};
	struct pgr_store *st = open_store(&s, "s3://bkt//pfx/", NULL, NULL, &err);
	assert_non_null(st);
	struct pgr_object_list l = {0};
	assert_true(pgr_store_list(st, "wal-archive/", &l, &err));
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].key, "wal-archive/000000010000000000000001");
	assert_int_equal(l.items[0].size, 16777216);
	assert_int_equal(l.items[0].mtime, 1767323045);
	assert_string_equal(l.items[2].key, "wal-archive/00000002.history");
	assert_int_equal(l.items[2].size, 42);
	/* Canonical queries: names sorted, values percent-encoded. The first
	 * page (1,000 keys, before any listing side by side) is filled up by its
	 * continuation token when the service answers a short page. */
	char *r0 = request_line(&s, 0), *r1 = request_line(&s, 1);
	assert_string_equal(r0, "GET /bkt/?list-type=2&max-keys=1000&prefix=pfx%2Fwal-archive%2F HTTP/1.1");
	assert_string_equal(r1,
	                    "GET /bkt/?continuation-token=tok%2F1%3D%2B%26x&list-type=2&max-keys=998"
	                    "&prefix=pfx%2Fwal-archive%2F HTTP/1.1");
	/* Signed by curl: SigV4 for the configured region, the payload hash sent. */
	assert_non_null(strstr(s.req[0], "Credential=AKIDEXAMPLE/"));
	assert_non_null(strstr(s.req[0], "/eu-central-1/s3/aws4_request"));
	assert_non_null(strstr(s.req[0], "x-amz-content-sha256: e3b0c442"));
	assert_null(strstr(s.req[0], "wJalrXUtnFEMI-secret"));
	free(r0);
	free(r1);
	pgr_object_list_free(&l);
	pgr_store_close(st);
	server_stop(&s);
}

static void test_list_start_after_and_page_size(void **state)
{
	(void)state;
	const struct answer a[] = {{"HTTP/1.1 200 OK", page1}};
	struct server s;
	server_start(&s, a, 1);
	struct pgr_error err = {0};
	struct pgr_store *st = open_store(&s, "s3://bkt/pfx", NULL, NULL, &err);
	struct pgr_object_list l = {0};
	bool more = false;
	assert_true(
	        pgr_store_list_page(st, "wal-archive/", "wal-archive/0000000100000000000000FF", 2, &l, &more, &err));
	assert_true(more);
	assert_int_equal(l.n, 2);
	char *r0 = request_line(&s, 0);
	assert_string_equal(r0,
	                    "GET /bkt/?list-type=2&max-keys=2&prefix=pfx%2Fwal-archive%2F"
	                    "&start-after=pfx%2Fwal-archive%2F0000000100000000000000FF HTTP/1.1");
	free(r0);
	pgr_object_list_free(&l);
	pgr_store_close(st);
	server_stop(&s);
}

static void test_errors(void **state)
{
	(void)state;
	const struct answer a[] = {
	        {"HTTP/1.1 403 Forbidden\r\nx-amz-request-id: RID1",
	         "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
	         "calculated does not match</Message></Error>"},
	        {"HTTP/1.1 404 Not Found",
	         "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"},
	        {"HTTP/1.1 400 Bad Request",
	         "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region 'eu-central-1' is wrong; "
	         "expecting 'us-west-2'</Message><Region>us-west-2</Region></Error>"},
	        {"HTTP/1.1 404 Not Found", "<Error><Code>NoSuchKey</Code><Message>nope</Message></Error>"},
	        {"HTTP/1.1 404 Not Found", NULL},
	};
	struct server s;
	server_start(&s, a, 5);
	struct pgr_error err = {0};
	struct pgr_store *st = open_store(&s, "s3://bkt/pfx", NULL, NULL, &err);
	struct pgr_object_list l = {0};
	bool more;
	char *url = xasprintf("GET http://127.0.0.1:%d/bkt/?list-type=2", s.port);

	assert_false(pgr_store_list_page(st, "", NULL, 0, &l, &more, &err));
	assert_int_equal(err.kind, PGR_ERR_STORE);
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.msg, "HTTP 403 Forbidden: SignatureDoesNotMatch: The request signature"));
	assert_non_null(strstr(err.detail, "RID1"));
	assert_non_null(strstr(err.hint, "clock"));
	assert_non_null(strstr(err.hint, "AKIDEXAMPLE"));
	assert_null(strstr(err.hint, "wJalrXUtnFEMI-secret"));

	assert_false(pgr_store_list_page(st, "", NULL, 0, &l, &more, &err));
	assert_non_null(strstr(err.msg, "404 Not Found: NoSuchBucket"));
	assert_non_null(strstr(err.hint, "bucket name \"bkt\""));
	assert_non_null(strstr(err.hint, "region"));

	assert_false(pgr_store_list_page(st, "", NULL, 0, &l, &more, &err));
	assert_non_null(strstr(err.hint, "s3_region = us-west-2"));

	char tmp[] = "/tmp/pgrescue-test-s3.XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char *dest = xasprintf("%s/seg", tmp);
	assert_false(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_false(pgr_path_exists(dest));
	struct pgr_object o;
	assert_false(pgr_store_stat(st, "wal-archive/x", &o, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	pgr_rm_rf(tmp, NULL);
	free(dest);
	free(url);
	pgr_store_close(st);
	server_stop(&s);
}

static void test_put_single_and_get_checks(void **state)
{
	(void)state;
	/* "hello": MD5 5d41402abc4b2a76b9719d911017c592 (base64 XUFAKrxLKna5cZ2REBfFkg==) */
	const struct answer a[] = {
	        {"HTTP/1.1 200 OK\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"", NULL},
	        {"HTTP/1.1 200 OK\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"\r\nX-Len: 5", NULL},
	        {"HTTP/1.1 200 OK\r\nETag: \"00000000000000000000000000000000\"", NULL},
	        {"HTTP/1.1 200 OK\r\nETag: \"00000000000000000000000000000000\"", "hello"},
	        {"HTTP/1.1 200 OK\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"", "hello"},
	        /* pgrescue's own SHA-256 in the metadata is checked before the ETag */
	        {"HTTP/1.1 200 OK\r\nETag: \"5d41402abc4b2a76b9719d911017c592\"\r\nx-amz-meta-pgrescue-sha256: "
	         "1111111111111111111111111111111111111111111111111111111111111111",
	         "hello"},
	        {"HTTP/1.1 200 OK\r\nETag: \"00000000000000000000000000000000\"\r\nX-Amz-Meta-Pgrescue-Sha256: "
	         "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
	         "hello"},
	        /* and its XXH128 before the SHA-256 */
	        {"HTTP/1.1 200 OK\r\nx-amz-meta-pgrescue-sha256: "
	         "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\r\n"
	         "x-amz-meta-pgrescue-xxh128: 22222222222222222222222222222222",
	         "hello"},
	        {"HTTP/1.1 200 OK\r\nx-amz-meta-pgrescue-sha256: "
	         "1111111111111111111111111111111111111111111111111111111111111111\r\n"
	         "x-amz-meta-pgrescue-xxh128: b5e9c1ad071b3e7fc779cfaa5e523818",
	         "hello"},
	};
	struct server s;
	server_start(&s, a, 9);
	struct pgr_error err = {0};
	struct pgr_store *st = open_store(&s, "s3://bkt/pfx", "AES256", "STANDARD_IA", &err);
	char tmp[] = "/tmp/pgrescue-test-s3.XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char *src = xasprintf("%s/src", tmp);
	assert_true(pgr_write_file_atomic(src, "hello", 5, 0600, &err));

	/* The HEAD after the PUT answers without Content-Length: 0 bytes, a mismatch. */
	assert_false(pgr_store_put(st, "database/d.sql.gz", src, false, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "expected 5"));
	assert_non_null(strstr(s.req[0], "PUT /bkt/pfx/database/d.sql.gz HTTP/1.1"));
	assert_non_null(strstr(s.req[0], "Content-MD5: XUFAKrxLKna5cZ2REBfFkg=="));
	assert_non_null(strstr(s.req[0], "x-amz-server-side-encryption: AES256"));
	assert_non_null(strstr(s.req[0], "x-amz-storage-class: STANDARD_IA"));
	assert_non_null(strstr(s.req[0], "x-amz-content-sha256: UNSIGNED-PAYLOAD"));
	/* SHA-256 of "hello", recorded with the object */
	assert_non_null(
	        strstr(s.req[0],
	               "x-amz-meta-pgrescue-sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
	/* and its XXH128 (xxhsum -H2) */
	assert_non_null(strstr(s.req[0], "x-amz-meta-pgrescue-xxh128: b5e9c1ad071b3e7fc779cfaa5e523818"));
	assert_int_equal(s.body_len[0], 5);
	assert_non_null(strstr(s.req[1], "HEAD /bkt/pfx/database/d.sql.gz"));

	/* An ETag that is not the MD5 of what was sent. */
	assert_false(pgr_store_put(st, "database/d.sql.gz", src, false, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "not the MD5"));

	/* A download whose content does not match its ETag is refused, no file. */
	char *dest = xasprintf("%s/got", tmp);
	assert_false(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_non_null(strstr(err.msg,
	                       "the data's MD5 is 5d41402abc4b2a76b9719d911017c592, the service's ETag is "
	                       "00000000000000000000000000000000"));
	assert_non_null(strstr(err.hint, "damaged"));
	assert_false(pgr_path_exists(dest));
	assert_true(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(dest, &data, &len, &err));
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	free(data);
	/* The recorded SHA-256 differs though the ETag matches: refused. */
	unlink(dest);
	assert_false(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_non_null(
	        strstr(err.msg,
	               "the data's SHA-256 is 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, the "
	               "one recorded when it was "
	               "stored (metadata pgrescue-sha256) is 1111"));
	assert_false(pgr_path_exists(dest));
	/* ... and trusted over an ETag that is not the MD5 (it would be for a
	 * multipart upload): the header's name in any case. */
	assert_true(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_true(pgr_read_file(dest, &data, &len, &err));
	assert_memory_equal(data, "hello", 5);
	free(data);
	/* The XXH128 decides when both are there. */
	unlink(dest);
	assert_false(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_non_null(strstr(err.msg,
	                       "the data's XXH128 is b5e9c1ad071b3e7fc779cfaa5e523818, the one recorded when it "
	                       "was stored (metadata pgrescue-xxh128) is 2222"));
	assert_false(pgr_path_exists(dest));
	assert_true(pgr_store_get(st, "wal-archive/x", dest, NULL, NULL, &err));
	assert_true(pgr_read_file(dest, &data, &len, &err));
	assert_memory_equal(data, "hello", 5);
	free(data);
	pgr_rm_rf(tmp, NULL);
	free(src);
	free(dest);
	pgr_store_close(st);
	server_stop(&s);
}

static void test_multipart_aborted(void **state)
{
	(void)state;
	const struct answer a[] = {
	        {"HTTP/1.1 200 OK",
	         "<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>pfx/base/L/base.tar</Key>"
	         "<UploadId>up/1+x</UploadId></InitiateMultipartUploadResult>"},
	        {"HTTP/1.1 200 OK\r\nETag: \"p1\"", NULL},
	        {"HTTP/1.1 403 Forbidden", "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"},
	        {"HTTP/1.1 204 No Content", NULL},
	};
	struct server s;
	server_start(&s, a, 4);
	struct pgr_error err = {0};
	struct pgr_store *st = open_store(&s, "s3://bkt/pfx", NULL, NULL, &err);
	char tmp[] = "/tmp/pgrescue-test-s3.XXXXXX";
	assert_non_null(mkdtemp(tmp));
	char *src = xasprintf("%s/big", tmp);
	int fd = open(src, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)70 << 20), 0); /* sparse: 70 MiB of zeros */
	close(fd);
	assert_false(pgr_store_put(st, "base/L/base.tar", src, true, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "AccessDenied"));
	char *r0 = request_line(&s, 0), *r1 = request_line(&s, 1), *r2 = request_line(&s, 2), *r3 = request_line(&s, 3);
	assert_string_equal(r0, "POST /bkt/pfx/base/L/base.tar?uploads= HTTP/1.1");
	assert_string_equal(r1, "PUT /bkt/pfx/base/L/base.tar?partNumber=1&uploadId=up%2F1%2Bx HTTP/1.1");
	assert_int_equal(s.body_len[1], 16 << 20);
	assert_string_equal(r2, "PUT /bkt/pfx/base/L/base.tar?partNumber=2&uploadId=up%2F1%2Bx HTTP/1.1");
	/* The failed upload is aborted, so nothing half-made lingers. */
	assert_string_equal(r3, "DELETE /bkt/pfx/base/L/base.tar?uploadId=up%2F1%2Bx HTTP/1.1");
	/* consume: a failed upload keeps the local file. */
	assert_true(pgr_path_exists(src));
	free(r0);
	free(r1);
	free(r2);
	free(r3);
	pgr_rm_rf(tmp, NULL);
	free(src);
	pgr_store_close(st);
	server_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup(test_open, setup),
	        cmocka_unit_test_setup(test_profile, setup),
	        cmocka_unit_test_setup(test_list_pages, setup),
	        cmocka_unit_test_setup(test_list_start_after_and_page_size, setup),
	        cmocka_unit_test_setup(test_credentials_file, setup),
	        cmocka_unit_test_setup(test_errors, setup),
	        cmocka_unit_test_setup(test_put_single_and_get_checks, setup),
	        cmocka_unit_test_setup(test_multipart_aborted, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
