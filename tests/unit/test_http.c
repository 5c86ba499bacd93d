/* Unit tests for the shared HTTP layer: a loopback server thread plays
 * recorded answers (errors, throttling, a connection cut mid-body, silence)
 * and records what the client sent, so retries, streaming to files, SigV4
 * and redaction are checked on the wire without a cloud service. */
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
#include "base/xalloc.h"
#include "storage/http.h"

/* ---------------------------------------------------------------- the server */

enum act { ANSWER, CUT, SILENT };

struct script {
	enum act act;
	const char *head; /* status line and headers, without the blank line */
	const char *body;
	size_t body_len; /* bytes of body actually sent (CUT: fewer than promised) */
};

#define MAX_REQ 16

struct server {
	int lfd;
	int port;
	pthread_t th;
	const struct script *script;
	int nscript;
	int served;
	char *requests[MAX_REQ]; /* head of each request received */
	struct strbuf bodies[MAX_REQ];
};

static bool read_request(int fd, struct server *s, int idx)
{
	struct strbuf in = STRBUF_INIT;
	char buf[65536];
	char *end = NULL;
	while (!end) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0) {
			sb_free(&in);
			return false;
		}
		sb_append_len(&in, buf, (size_t)r);
		end = strstr(in.buf, "\r\n\r\n");
	}
	size_t head_len = (size_t)(end - in.buf) + 4;
	s->requests[idx] = xstrndup(in.buf, head_len);
	size_t want = 0;
	const char *cl = strcasestr(s->requests[idx], "\r\nContent-Length:");
	if (cl)
		want = strtoul(cl + 17, NULL, 10);
	if (strcasestr(s->requests[idx], "Expect: 100-continue")) {
		const char *cont = "HTTP/1.1 100 Continue\r\n\r\n";
		if (write(fd, cont, strlen(cont)) < 0)
			return false;
	}
	sb_init(&s->bodies[idx]);
	sb_append_len(&s->bodies[idx], in.buf + head_len, in.len - head_len);
	while (s->bodies[idx].len < want) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		sb_append_len(&s->bodies[idx], buf, (size_t)r);
	}
	sb_free(&in);
	return true;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	while (s->served < s->nscript) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			break;
		int idx = s->served;
		const struct script *sc = &s->script[idx];
		if (!read_request(fd, s, idx)) {
			close(fd);
			continue;
		}
		s->served++;
		if (sc->act == SILENT) {
			/* Hold the line, say nothing; the client must give up by itself. */
			char b[256];
			while (read(fd, b, sizeof b) > 0)
				;
			close(fd);
			continue;
		}
		struct strbuf out = STRBUF_INIT;
		sb_append(&out, sc->head);
		sb_append(&out, "\r\nConnection: close\r\n\r\n");
		/* The client may hang up first; that is its business. */
		bool sent = write(fd, out.buf, out.len) == (ssize_t)out.len;
		if (sent && sc->body && sc->body_len)
			sent = write(fd, sc->body, sc->body_len) == (ssize_t)sc->body_len;
		(void)sent;
		sb_free(&out);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, const struct script *script, int n)
{
	memset(s, 0, sizeof *s);
	s->script = script;
	s->nscript = n;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	int one = 1;
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(listen(s->lfd, 8), 0);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	close(s->lfd);
	pthread_join(s->th, NULL);
	for (int i = 0; i < MAX_REQ; i++) {
		free(s->requests[i]);
		sb_free(&s->bodies[i]);
	}
}

static char *url_of(struct server *s, const char *path)
{
	return xasprintf("http://127.0.0.1:%d%s", s->port, path);
}

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/pgrescue-test-http.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void rmtree(char *dir)
{
	pgr_rm_rf(dir, NULL);
	free(dir);
}

/* ---------------------------------------------------------------- tests */

static void test_encode(void **state)
{
	(void)state;
	char *e = pgr_http_encode("wal-archive/0000 0001+x~y_z.gz?&=", false);
	assert_string_equal(e, "wal-archive%2F0000%200001%2Bx~y_z.gz%3F%26%3D");
	free(e);
	e = pgr_http_encode("a/b c/\xc3\xa9", true);
	assert_string_equal(e, "a/b%20c/%C3%A9");
	free(e);
	e = pgr_http_encode("", true);
	assert_string_equal(e, "");
	free(e);
	assert_true(pgr_http_retryable(500));
	assert_true(pgr_http_retryable(503));
	assert_true(pgr_http_retryable(429));
	assert_true(pgr_http_retryable(408));
	assert_false(pgr_http_retryable(403));
	assert_false(pgr_http_retryable(501));
	assert_false(pgr_http_retryable(404));
	assert_false(pgr_http_retryable(200));
}

static void test_redact(void **state)
{
	(void)state;
	char *r = pgr_http_redact_url("https://acct.blob.core.windows.net/c/k?sv=2021&sig=abc%2Fdef&se=x");
	assert_string_equal(r, "https://acct.blob.core.windows.net/c/k?sv=2021&sig=REDACTED&se=x");
	free(r);
	r = pgr_http_redact_url("https://user:secret@host/b?X-Amz-Signature=ff&X-Amz-Credential=AK%2F1&list-type=2");
	assert_null(strstr(r, "secret"));
	assert_null(strstr(r, "ff&"));
	assert_string_equal(r, "https://***@host/b?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&list-type=2");
	free(r);
	r = pgr_http_redact_url("http://127.0.0.1:8080/bucket/key");
	assert_string_equal(r, "http://127.0.0.1:8080/bucket/key");
	free(r);
}

static void test_get_memory_and_headers(void **state)
{
	(void)state;
	static const struct script sc[] = {
	        {ANSWER, "HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 5\r\nx-amz-request-id:  r1 ", "hello", 5},
	};
	struct server s;
	server_start(&s, sc, 1);
	char *url = url_of(&s, "/b/k?list-type=2");
	struct pgr_http_req req = {.url = url};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 1);
	assert_string_equal(sb_str(&resp.body), "hello");
	char *etag = pgr_http_header(&resp, "etag");
	assert_string_equal(etag, "\"abc\"");
	free(etag);
	char *rid = pgr_http_header(&resp, "X-Amz-Request-Id");
	assert_string_equal(rid, "r1");
	free(rid);
	assert_null(pgr_http_header(&resp, "x-missing"));
	assert_non_null(strstr(s.requests[0], "GET /b/k?list-type=2 "));
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
}

static void test_retry_on_5xx_and_429(void **state)
{
	(void)state;
	static const struct script sc[] = {
	        {ANSWER, "HTTP/1.1 503 Slow Down\r\nContent-Length: 4", "busy", 4},
	        {ANSWER, "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0", NULL, 0},
	        {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 2", "ok", 2},
	};
	struct server s;
	server_start(&s, sc, 3);
	char *url = url_of(&s, "/b/k");
	struct pgr_http_req req = {.url = url, .max_attempts = 4};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 3);
	assert_string_equal(sb_str(&resp.body), "ok");
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
}

static void test_no_retry_on_4xx(void **state)
{
	(void)state;
	static const char xml[] = "<Error><Code>SignatureDoesNotMatch</Code></Error>";
	static const struct script sc[] = {
	        {ANSWER, "HTTP/1.1 403 Forbidden\r\nContent-Length: 50", xml, 50},
	        {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 2", "no", 2},
	};
	struct server s;
	server_start(&s, sc, 2);
	char *dir = tmpdir();
	char *out = xasprintf("%s/obj", dir);
	char *part = xasprintf("%s/obj.part", dir);
	char *url = url_of(&s, "/b/k");
	struct pgr_http_req req = {.url = url, .out_file = out};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.status, 403);
	assert_int_equal(resp.attempts, 1);
	/* The error document is kept for its message, not written as the object. */
	assert_string_equal(sb_str(&resp.body), xml);
	assert_false(pgr_path_exists(out));
	assert_false(pgr_path_exists(part));
	/* Unblock the server's second accept. */
	pgr_http_resp_free(&resp);
	pgr_http_resp_init(&resp);
	req.out_file = NULL;
	assert_true(pgr_http_do(&req, &resp, &err));
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
	free(out);
	free(part);
	rmtree(dir);
}

static bool count_progress(void *ctx, uint64_t done, uint64_t total)
{
	uint64_t *last = ctx;
	(void)total;
	*last = done;
	return true;
}

/* What on_data saw: a byte count and an FNV-1a hash, started over on NULL. */
struct seen {
	uint64_t bytes, hash;
	int resets;
};

static void seen_data(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;
	if (!data) {
		s->bytes = 0;
		s->hash = 1469598103934665603ull;
		s->resets++;
		return;
	}
	for (size_t i = 0; i < len; i++)
		s->hash = (s->hash ^ ((const unsigned char *)data)[i]) * 1099511628211ull;
	s->bytes += len;
}

static void test_download_cut_then_complete(void **state)
{
	(void)state;
	static char big[200000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	static struct script sc[2];
	sc[0] = (struct script){ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 200000", big, 70000};
	sc[1] = (struct script){ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 200000", big, sizeof big};
	struct server s;
	server_start(&s, sc, 2);
	char *dir = tmpdir();
	char *out = xasprintf("%s/obj", dir);
	char *part = xasprintf("%s/obj.part", dir);
	char *url = url_of(&s, "/b/big");
	uint64_t last = 0;
	struct seen seen = {0};
	struct pgr_http_req req = {.url = url,
	                           .out_file = out,
	                           .progress = count_progress,
	                           .pctx = &last,
	                           .on_data = seen_data,
	                           .data_ctx = &seen};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 2);
	/* on_data saw the second attempt's bytes, all of them, once. */
	struct seen want = {0};
	seen_data(&want, NULL, 0);
	seen_data(&want, big, sizeof big);
	assert_int_equal(seen.resets, 2);
	assert_int_equal(seen.bytes, sizeof big);
	assert_true(seen.hash == want.hash);
	assert_int_equal(resp.bytes, sizeof big);
	assert_int_equal(last, sizeof big);
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(out, &data, &len, &err));
	assert_int_equal(len, sizeof big);
	assert_memory_equal(data, big, sizeof big);
	free(data);
	assert_false(pgr_path_exists(part));
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
	free(out);
	free(part);
	rmtree(dir);
}

/* A digest slower than the network, beside it: the writes get ahead by
 * more than the ring holds and must wait; the object (larger than the ring,
 * not a whole number of chunks) is cut once and started over. Every byte of
 * the second attempt reaches on_data once, in order. */
static void slow_seen_data(void *ctx, const void *data, size_t len)
{
	if (data)
		usleep(3000); /* per call (at most 1 MiB): 40 MiB take well over the transfer */
	seen_data(ctx, data, len);
}

static void test_download_beside_slow_digest(void **state)
{
	(void)state;
	size_t n = ((size_t)40 << 20) + 12345;
	char *big = xmalloc(n);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		big[i] = (char)x;
	}
	char head[96];
	snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu", n);
	struct script sc[2] = {{ANSWER, head, big, n / 2}, {ANSWER, head, big, n}};
	struct server s;
	server_start(&s, sc, 2);
	char *dir = tmpdir();
	char *out = xasprintf("%s/obj", dir);
	char *url = url_of(&s, "/b/big");
	struct seen seen = {0};
	struct pgr_http_req req = {
	        .url = url, .out_file = out, .no_sync = true, .on_data = slow_seen_data, .data_ctx = &seen};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.attempts, 2);
	struct seen want = {0};
	seen_data(&want, NULL, 0);
	seen_data(&want, big, n);
	assert_int_equal(seen.resets, 2);
	assert_int_equal(seen.bytes, n);
	assert_true(seen.hash == want.hash);
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(out, &data, &len, &err));
	assert_int_equal(len, n);
	assert_memory_equal(data, big, n);
	free(data);
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
	free(out);
	free(big);
	rmtree(dir);
}

static void test_download_always_cut(void **state)
{
	(void)state;
	static const struct script sc[] = {
	        {CUT, "HTTP/1.1 200 OK\r\nContent-Length: 1000", "0123456789", 10},
	        {CUT, "HTTP/1.1 200 OK\r\nContent-Length: 1000", "0123456789", 10},
	};
	struct server s;
	server_start(&s, sc, 2);
	char *dir = tmpdir();
	char *out = xasprintf("%s/obj", dir);
	char *part = xasprintf("%s/obj.part", dir);
	char *url = url_of(&s, "/b/k");
	struct pgr_http_req req = {.url = url, .out_file = out, .max_attempts = 2};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_false(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.attempts, 2);
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.msg, "2 attempts"));
	assert_false(pgr_path_exists(out));
	assert_false(pgr_path_exists(part));
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
	free(out);
	free(part);
	rmtree(dir);
}

static void test_connect_refused(void **state)
{
	(void)state;
	/* A port nobody listens on: bind, learn it, close. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &al);
	close(fd);
	char *url = xasprintf("http://127.0.0.1:%d/b/k", ntohs(a.sin_port));
	struct pgr_http_req req = {.url = url, .max_attempts = 2};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_false(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.attempts, 2);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(err.msg, url));
	assert_non_null(strstr(err.hint, "endpoint"));
	pgr_http_resp_free(&resp);
	free(url);
}

static void test_silent_server_times_out(void **state)
{
	(void)state;
	static const struct script sc[] = {{SILENT, NULL, NULL, 0}};
	struct server s;
	server_start(&s, sc, 1);
	char *url = url_of(&s, "/b/k");
	struct pgr_http_req req = {.url = url, .max_attempts = 1, .low_speed_sec = 1};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_false(pgr_http_do(&req, &resp, &err));
	assert_non_null(strstr(err.msg, url));
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
}

static void test_put_file_region_sigv4(void **state)
{
	(void)state;
	static const struct script sc[] = {
	        {ANSWER, "HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0", NULL, 0},
	        {ANSWER, "HTTP/1.1 200 OK\r\nContent-Length: 0", NULL, 0},
	};
	struct server s;
	server_start(&s, sc, 2);
	char *dir = tmpdir();
	char *src = xasprintf("%s/src", dir);
	char data[3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7);
	struct pgr_error err = {0};
	assert_true(pgr_write_file_atomic(src, data, sizeof data, 0600, &err));
	char *url = url_of(&s, "/b/part?partNumber=2&uploadId=u");
	const char *hdrs[] = {"x-amz-content-sha256: UNSIGNED-PAYLOAD", NULL};
	struct pgr_http_req req = {.method = "PUT",
	                           .url = url,
	                           .headers = hdrs,
	                           .aws_sigv4 = "aws:amz:us-east-1:s3",
	                           .username = "test:tester",
	                           .password = "s3cr3t-value",
	                           .body_file = src,
	                           .body_offset = 1000,
	                           .body_file_len = 1500};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	assert_true(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.status, 200);
	assert_int_equal(s.bodies[0].len, 1500);
	assert_memory_equal(s.bodies[0].buf, data + 1000, 1500);
	/* curl signed it with the access key as given (colon and all); the
	 * secret itself never travels. */
	assert_non_null(strstr(s.requests[0], "Authorization: AWS4-HMAC-SHA256 Credential=test:tester/"));
	assert_non_null(strstr(s.requests[0], "/us-east-1/s3/aws4_request"));
	assert_null(strstr(s.requests[0], "s3cr3t-value"));
	assert_null(strcasestr(s.requests[0], "Transfer-Encoding"));

	/* A memory body with POST. */
	pgr_http_resp_free(&resp);
	pgr_http_resp_init(&resp);
	struct pgr_http_req post = {.method = "POST", .url = url, .body = "<x/>", .body_len = 4};
	assert_true(pgr_http_do(&post, &resp, &err));
	assert_non_null(strstr(s.requests[1], "POST /b/part?"));
	assert_int_equal(s.bodies[1].len, 4);
	assert_memory_equal(s.bodies[1].buf, "<x/>", 4);
	server_stop(&s);
	pgr_http_resp_free(&resp);
	free(url);
	free(src);
	rmtree(dir);
}

static void test_missing_body_file(void **state)
{
	(void)state;
	struct pgr_http_req req = {.method = "PUT", .url = "http://127.0.0.1:1/b/k", .body_file = "/nonexistent/x"};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error err = {0};
	assert_false(pgr_http_do(&req, &resp, &err));
	assert_int_equal(resp.attempts, 1);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	pgr_http_resp_free(&resp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_encode),
	        cmocka_unit_test(test_redact),
	        cmocka_unit_test(test_get_memory_and_headers),
	        cmocka_unit_test(test_retry_on_5xx_and_429),
	        cmocka_unit_test(test_no_retry_on_4xx),
	        cmocka_unit_test(test_download_cut_then_complete),
	        cmocka_unit_test(test_download_beside_slow_digest),
	        cmocka_unit_test(test_download_always_cut),
	        cmocka_unit_test(test_connect_refused),
	        cmocka_unit_test(test_silent_server_times_out),
	        cmocka_unit_test(test_put_file_region_sigv4),
	        cmocka_unit_test(test_missing_body_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
