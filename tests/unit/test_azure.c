/* Unit tests for the az:// backend without a service: the Shared Key string
 * to sign for recorded requests, written out by hand from the documented
 * layout, and its signature checked against one computed by another
 * implementation (Python's hmac/hashlib/base64, see the comments); List Blobs
 * answers as azurite and the service send them; error documents; connection
 * strings; dates; what opening a store says about bad URLs and missing or
 * mismatched credentials; and, against a loopback server with canned
 * answers, the requests it sends (paths, queries, opaque markers, headers)
 * and how it reads error answers. The real service (azurite) is in
 * tests/integration/azure.sh. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <locale.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/storage.h"

/* The backend's test seams (core/storage/storage_azure.c). */
char *pgr_az_string_to_sign(const char *method, uint64_t content_length, const char *content_md5,
                            const char *content_type, const char *const *hnames, const char *const *hvals, size_t nh,
                            const char *account, const char *path, const char *const *qnames, const char *const *qvals,
                            size_t nq);
char *pgr_az_sign(const unsigned char *key, size_t keylen, const char *string_to_sign);
bool pgr_az_parse_list(const char *xml, size_t len, const char *strip_prefix, struct pgr_object_list *out,
                       char **next_marker, struct pgr_error *err);
bool pgr_az_parse_error(const char *xml, size_t len, char **code, char **message);
bool pgr_az_parse_conn_string(const char *cs, char **account, char **key, char **sas, char **endpoint,
                              struct pgr_error *err);
void pgr_az_rfc1123(time_t t, char buf[32]);
bool pgr_az_parse_rfc1123(const char *s, time_t *out);

#define DEV_KEY_B64 "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/* The emulator's documented development key, decoded by hand-independent
 * means: base64 -d <<<"$DEV_KEY_B64" | xxd -i. */
static const unsigned char dev_key[64] = {
        0x11, 0xbc, 0xbc, 0xbd, 0xd3, 0x34, 0xdb, 0x13, 0x4e, 0x72, 0xa1, 0x65, 0xa9, 0x4c, 0x09, 0x3c,
        0xb9, 0x66, 0x12, 0xd9, 0x42, 0x0d, 0x72, 0x75, 0x39, 0x4c, 0xc5, 0x4f, 0x9d, 0x2e, 0x49, 0x16,
        0x7a, 0x20, 0x5b, 0x2e, 0x16, 0xad, 0x94, 0x54, 0x4a, 0xc2, 0xcf, 0x82, 0x3a, 0xb6, 0xaf, 0xca,
        0xd5, 0x26, 0x45, 0x3d, 0x33, 0xad, 0xaf, 0xf2, 0x81, 0x1c, 0x17, 0xa4, 0xb2, 0x81, 0x8c, 0x1b,
};

/* ---------------------------------------------------------------- signing */

/* Put Block of 1 MiB to azurite's path-style endpoint: header names in odd
 * case with padding (lowercased and trimmed when signed), query parameters
 * out of order (sorted when signed), the resource "/account" + the URL path
 * (which already holds the account on a path-style endpoint). */
static void test_sign_put_block(void **state)
{
	(void)state;
	const char *hn[] = {"X-MS-Version", "x-ms-date", "X-Ms-Blob-Type", "User-Agent"};
	const char *hv[] = {"2021-08-06", "Tue, 24 Nov 2026 05:45:01 GMT", "  BlockBlob ", "pgrescue"};
	const char *qn[] = {"comp", "blockid"};
	const char *qv[] = {"block", "cGdyZXNjdWUtMDAwMDAwMDE="};
	char *sts = pgr_az_string_to_sign(
	        "PUT", 1048576, "1B2M2Y8AsgTpgAmY7PhCfg==", "application/octet-stream", hn, hv, 4, "devstoreaccount1",
	        "/devstoreaccount1/backups/prod/wal-archive/000000010000000000000001", qn, qv, 2);
	const char *want = "PUT\n"
	                   "\n" /* Content-Encoding */
	                   "\n" /* Content-Language */
	                   "1048576\n"
	                   "1B2M2Y8AsgTpgAmY7PhCfg==\n"
	                   "application/octet-stream\n"
	                   "\n" /* Date */
	                   "\n" /* If-Modified-Since */
	                   "\n" /* If-Match */
	                   "\n" /* If-None-Match */
	                   "\n" /* If-Unmodified-Since */
	                   "\n" /* Range */
	                   "x-ms-blob-type:BlockBlob\n"
	                   "x-ms-date:Tue, 24 Nov 2026 05:45:01 GMT\n"
	                   "x-ms-version:2021-08-06\n"
	                   "/devstoreaccount1/devstoreaccount1/backups/prod/wal-archive/000000010000000000000001\n"
	                   "blockid:cGdyZXNjdWUtMDAwMDAwMDE=\n"
	                   "comp:block";
	assert_string_equal(sts, want);
	/* python3 -c 'import base64,hmac,hashlib,sys; k=base64.b64decode(KEY);
	 *   print(base64.b64encode(hmac.new(k, WANT.encode(), hashlib.sha256).digest()).decode())' */
	char *sig = pgr_az_sign(dev_key, sizeof dev_key, sts);
	assert_string_equal(sig, "RdcIIo7UsT7QinsHMENMfG76po9qaeqVHfJynoMgW2s=");
	free(sig);
	free(sts);
}

/* List Blobs on a real account endpoint (no path in the endpoint): an empty
 * Content-Length (GET, no body), query values unencoded (the marker's '!'
 * and the prefix's '/'), names sorted. */
static void test_sign_list(void **state)
{
	(void)state;
	const char *hn[] = {"x-ms-date", "x-ms-version"};
	const char *hv[] = {"Tue, 24 Nov 2026 05:45:01 GMT", "2021-08-06"};
	const char *qn[] = {"restype", "comp", "prefix", "marker", "maxresults"};
	const char *qv[] = {"container", "list", "prod/wal-archive/",
	                    "2!96!MDAwMDQ2IXByb2Qvd2FsLWFyY2hpdmUvMDAwMDAwMDEwMDAwMDAwMDAwMDAwMDAyITAwMDAyOCE5OTk5LTEy"
	                    "LTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--",
	                    "5000"};
	char *sts = pgr_az_string_to_sign("GET", 0, NULL, NULL, hn, hv, 2, "clipperbackups", "/postgres", qn, qv, 5);
	const char *want =
	        "GET\n\n\n\n\n\n\n\n\n\n\n\n"
	        "x-ms-date:Tue, 24 Nov 2026 05:45:01 GMT\n"
	        "x-ms-version:2021-08-06\n"
	        "/clipperbackups/postgres\n"
	        "comp:list\n"
	        "marker:2!96!MDAwMDQ2IXByb2Qvd2FsLWFyY2hpdmUvMDAwMDAwMDEwMDAwMDAwMDAwMDAwMDAyITAwMDAyOCE5OTk5LT"
	        "EyLTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--\n"
	        "maxresults:5000\n"
	        "prefix:prod/wal-archive/\n"
	        "restype:container";
	assert_string_equal(sts, want);
	char *sig = pgr_az_sign(dev_key, sizeof dev_key, sts);
	assert_string_equal(sig, "nulT++BtJdPySIot6E8E2KOxsse2z6bcfmVU8iOpbWM=");
	free(sig);
	/* One changed byte anywhere changes the signature. */
	char *sts2 = xstrdup(sts);
	sts2[strlen(sts2) - 1] = 'X';
	char *sig2 = pgr_az_sign(dev_key, sizeof dev_key, sts2);
	assert_string_not_equal(sig2, "nulT++BtJdPySIot6E8E2KOxsse2z6bcfmVU8iOpbWM=");
	free(sig2);
	free(sts2);
	free(sts);
}

/* ---------------------------------------------------------------- listing */

/* Recorded from azurite 3.34.0 (maxresults=2): its NextMarker is a name. */
static const char azurite_page[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><EnumerationResults "
        "ServiceEndpoint=\"http://127.0.0.1:31813/devstoreaccount1\" "
        "ContainerName=\"backups\"><Prefix>prod/wal-archive/</Prefix><Marker/><MaxResults>2</MaxResults><Blobs><Blob>"
        "<Name>prod/wal-archive/00000001000000000000000000</Name><Properties><Creation-Time>Tue, 24 Nov 2026 "
        "05:55:55 GMT</Creation-Time><Last-Modified>Tue, 24 Nov 2026 05:55:55 "
        "GMT</Last-Modified><Etag>0x21FE3E66A85D1C0</Etag><Content-Length>2</Content-Length><Content-Type>"
        "application/octet-stream</Content-Type><Content-MD5>iXMWkpF2Rk68mtCF8x5yhA==</Content-MD5><BlobType>"
        "BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
        "<ServerEncrypted>true</ServerEncrypted><AccessTier>Hot</AccessTier><AccessTierInferred>true</"
        "AccessTierInferred><AccessTierChangeTime>Tue, 24 Nov 2026 05:55:55 GMT</AccessTierChangeTime></"
        "Properties></Blob><Blob><Name>prod/wal-archive/00000001000000000000000001</Name><Properties>"
        "<Creation-Time>Tue, 24 Nov 2026 05:55:55 GMT</Creation-Time><Last-Modified>Tue, 24 Nov 2026 05:55:56 "
        "GMT</Last-Modified><Etag>0x22305B3AC09EFE0</Etag><Content-Length>16777216</Content-Length>"
        "<Content-Type>application/octet-stream</Content-Type><Content-MD5>sCYyTGkEsqnLS4jW1hyB0Q==</Content-MD5>"
        "<BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker>prod/wal-archive/"
        "00000001000000000000000001</NextMarker></EnumerationResults>";

/* The service's shape: an opaque marker, pretty-printed, an Encoded name
 * (never one of ours: skipped), and the last page's empty NextMarker. */
static const char service_page[] =
        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        "<EnumerationResults ServiceEndpoint=\"https://clipperbackups.blob.core.windows.net/\" "
        "ContainerName=\"postgres\">\n"
        "  <Prefix>database/</Prefix>\n"
        "  <Marker>2!96!MDAwMDQ2IQ--</Marker>\n"
        "  <MaxResults>5000</MaxResults>\n"
        "  <Blobs>\n"
        "    <Blob>\n"
        "      <Name>database/postgres-backup-20260102-020000.sql.gz</Name>\n"
        "      <Properties>\n"
        "        <Last-Modified>Fri, 02 Jan 2026 02:03:04 GMT</Last-Modified>\n"
        "        <Content-Length>123456789012</Content-Length>\n"
        "      </Properties>\n"
        "    </Blob>\n"
        "    <Blob>\n"
        "      <Name Encoded=\"true\">database%EF%BF%BFodd</Name>\n"
        "      <Properties><Content-Length>1</Content-Length></Properties>\n"
        "    </Blob>\n"
        "    <Blob>\n"
        "      <Name>database/a &amp; b.sql.gz</Name>\n"
        "      <Properties><Content-Length>0</Content-Length></Properties>\n"
        "    </Blob>\n"
        "  </Blobs>\n"
        "  <NextMarker />\n"
        "</EnumerationResults>\n";

static void test_parse_list(void **state)
{
	(void)state;
	struct pgr_object_list l = {0};
	char *next = NULL;
	struct pgr_error err = {0};
	assert_true(pgr_az_parse_list(azurite_page, strlen(azurite_page), "prod/", &l, &next, &err));
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "wal-archive/00000001000000000000000000");
	assert_int_equal(l.items[0].size, 2);
	assert_string_equal(l.items[1].key, "wal-archive/00000001000000000000000001");
	assert_int_equal(l.items[1].size, 16777216);
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 5, .tm_min = 55, .tm_sec = 56};
	assert_int_equal(l.items[1].mtime, timegm(&tm));
	assert_string_equal(next, "prod/wal-archive/00000001000000000000000001");
	free(next);
	pgr_object_list_free(&l);

	assert_true(pgr_az_parse_list(service_page, strlen(service_page), "", &l, &next, &err));
	assert_null(next);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "database/postgres-backup-20260102-020000.sql.gz");
	assert_true(l.items[0].size == 123456789012ULL);
	struct tm tm2 = {.tm_year = 126, .tm_mon = 0, .tm_mday = 2, .tm_hour = 2, .tm_min = 3, .tm_sec = 4};
	assert_int_equal(l.items[0].mtime, timegm(&tm2));
	assert_string_equal(l.items[1].key, "database/a & b.sql.gz");
	pgr_object_list_free(&l);

	/* An empty container. */
	const char *empty = "<?xml version=\"1.0\"?><EnumerationResults><Blobs/><NextMarker/></EnumerationResults>";
	assert_true(pgr_az_parse_list(empty, strlen(empty), "prod/", &l, &next, &err));
	assert_int_equal(l.n, 0);
	assert_null(next);

	/* What is not a listing is an error, not an empty list. */
	const char *html = "<html><body>Gateway Timeout</body></html>";
	assert_false(pgr_az_parse_list(html, strlen(html), "", &l, &next, &err));
	assert_int_equal(err.kind, PGR_ERR_STORE);
	assert_non_null(strstr(err.msg, "EnumerationResults"));
	assert_false(pgr_az_parse_list("garbage", 7, "", &l, &next, &err));
	assert_false(pgr_az_parse_list("", 0, "", &l, &next, &err));
	assert_int_equal(l.n, 0);
}

static void test_parse_error(void **state)
{
	(void)state;
	const char *xml =
	        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
	        "<Message>Server failed to authenticate the request. Make sure the value of Authorization "
	        "header is formed correctly including the signature.\nRequestId:6b3c0d1e-0000\n"
	        "Time:2026-11-24T05:45:01.0000000Z</Message><AuthenticationErrorDetail>The MAC signature "
	        "found in the HTTP request 'x' is not the same as any computed signature."
	        "</AuthenticationErrorDetail></Error>";
	char *code, *msg;
	assert_true(pgr_az_parse_error(xml, strlen(xml), &code, &msg));
	assert_string_equal(code, "AuthenticationFailed");
	/* The first line only: no request id or time in our messages. */
	assert_string_equal(msg,
	                    "Server failed to authenticate the request. Make sure the value of Authorization "
	                    "header is formed correctly including the signature.");
	free(code);
	free(msg);
	assert_false(pgr_az_parse_error("", 0, &code, &msg));
	assert_null(code);
	assert_false(pgr_az_parse_error("<a/>", 4, &code, &msg));
	assert_null(msg);
}

/* ---------------------------------------------------------------- credentials */

static void test_conn_string(void **state)
{
	(void)state;
	char *acct, *key, *sas, *ep;
	struct pgr_error err = {0};
	/* As azurite's documentation writes it (spaces and a trailing ';' included). */
	assert_true(pgr_az_parse_conn_string("DefaultEndpointsProtocol=http; AccountName=devstoreaccount1;"
	                                     "AccountKey=" DEV_KEY_B64 ";BlobEndpoint=http://127.0.0.1:10000/"
	                                     "devstoreaccount1;",
	                                     &acct, &key, &sas, &ep, &err));
	assert_string_equal(acct, "devstoreaccount1");
	assert_string_equal(key, DEV_KEY_B64); /* '=' inside a value is kept */
	assert_null(sas);
	assert_string_equal(ep, "http://127.0.0.1:10000/devstoreaccount1");
	free(acct), free(key), free(ep);

	/* The portal's form: the endpoint is built from the suffix. */
	assert_true(pgr_az_parse_conn_string(
	        "DefaultEndpointsProtocol=https;AccountName=clipperbackups;AccountKey=" DEV_KEY_B64
	        ";EndpointSuffix=core.chinacloudapi.cn",
	        &acct, &key, &sas, &ep, &err));
	assert_string_equal(ep, "https://clipperbackups.blob.core.chinacloudapi.cn");
	free(acct), free(key), free(ep);

	/* A SAS connection string has no account name; names are case-insensitive. */
	assert_true(pgr_az_parse_conn_string("blobendpoint=https://x.blob.core.windows.net/;"
	                                     "SharedAccessSignature=sv=2021-08-06&ss=b&sig=abc%3D",
	                                     &acct, &key, &sas, &ep, &err));
	assert_null(acct);
	assert_null(key);
	assert_string_equal(sas, "sv=2021-08-06&ss=b&sig=abc%3D");
	assert_string_equal(ep, "https://x.blob.core.windows.net/");
	free(sas), free(ep);

	assert_true(pgr_az_parse_conn_string("UseDevelopmentStorage=true", &acct, &key, &sas, &ep, &err));
	assert_string_equal(acct, "devstoreaccount1");
	assert_string_equal(key, DEV_KEY_B64);
	assert_string_equal(ep, "http://127.0.0.1:10000/devstoreaccount1");
	free(acct), free(key), free(ep);

	/* A broken one says what is wrong without echoing it (it holds a key). */
	assert_false(pgr_az_parse_conn_string("AccountName=a;garbage;AccountKey=" DEV_KEY_B64, &acct, &key, &sas, &ep,
	                                      &err));
	assert_int_equal(err.kind, PGR_ERR_CONFIG);
	assert_null(strstr(err.msg, "Eby8"));
	assert_null(key);
}

static void set(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void clear_env(void)
{
	set("AZURE_STORAGE_CONNECTION_STRING", NULL);
	set("AZURE_STORAGE_ACCOUNT", NULL);
	set("AZURE_STORAGE_KEY", NULL);
	set("AZURE_STORAGE_SAS_TOKEN", NULL);
}

static void expect_open_error(const char *url, const char *part, enum pgr_errkind kind)
{
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open(url, &err);
	if (st)
		fail_msg("opening %s should fail", url);
	if (!strstr(err.msg, part))
		fail_msg("opening %s: \"%s\" lacks \"%s\"", url, err.msg, part);
	assert_int_equal(err.kind, kind);
	assert_true(err.hint[0] != '\0');
	assert_null(strstr(err.msg, "Eby8"));
	assert_null(strstr(err.hint, "Eby8"));
}

static void test_open(void **state)
{
	(void)state;
	clear_env();
	expect_open_error("az://acct", "no account and container", PGR_ERR_CONFIG);
	expect_open_error("az:///container", "no account and container", PGR_ERR_CONFIG);
	expect_open_error("az://Acct/backups", "account name", PGR_ERR_CONFIG);
	expect_open_error("az://acct/Backups_1", "container name", PGR_ERR_CONFIG);
	expect_open_error("az://acct/backups/a//b", "empty path component", PGR_ERR_CONFIG);
	expect_open_error("az://acct/backups", "no credentials for the Azure storage account \"acct\"", PGR_ERR_CONFIG);

	set("AZURE_STORAGE_CONNECTION_STRING", "AccountName=other;AccountKey=" DEV_KEY_B64);
	expect_open_error("az://acct/backups", "the credentials are for \"other\"", PGR_ERR_CONFIG);
	set("AZURE_STORAGE_CONNECTION_STRING", "AccountName=acct;AccountKey=not*base64");
	expect_open_error("az://acct/backups", "not valid base64", PGR_ERR_CONFIG);
	set("AZURE_STORAGE_CONNECTION_STRING", "AccountName=acct;AccountKey=" DEV_KEY_B64 ";BlobEndpoint=ftp://x");
	expect_open_error("az://acct/backups", "not an http(s):// URL", PGR_ERR_CONFIG);

	/* Good ones open without a request. */
	set("AZURE_STORAGE_CONNECTION_STRING",
	    "AccountName=devstoreaccount1;AccountKey=" DEV_KEY_B64 ";BlobEndpoint=http://127.0.0.1:1/devstoreaccount1");
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open("az://devstoreaccount1/backups/prod/", &err);
	assert_non_null(st);
	assert_null(pgr_store_staging_dir(st));
	assert_null(pgr_store_local_path(st, "database/x"));
	/* Bad keys are refused before any request. */
	assert_false(pgr_store_stat(st, "/abs", NULL, &err));
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	assert_false(pgr_store_delete(st, "a//b", &err));
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	pgr_store_close(st);

	clear_env();
	set("AZURE_STORAGE_ACCOUNT", "acct");
	set("AZURE_STORAGE_SAS_TOKEN", "?sv=2021-08-06&sig=secret");
	st = pgr_store_open("az://acct/backups", &err);
	assert_non_null(st);
	pgr_store_close(st);
	set("AZURE_STORAGE_ACCOUNT", "other");
	expect_open_error("az://acct/backups", "the credentials are for \"other\"", PGR_ERR_CONFIG);

	/* The store's azure_endpoint option wins over the default endpoint. */
	set("AZURE_STORAGE_ACCOUNT", "acct");
	struct pgr_store_opts o = {.azure_endpoint = "gopher://wrong"};
	assert_null(pgr_store_open_opts("az://acct/backups", &o, &err));
	assert_non_null(strstr(err.msg, "gopher://wrong"));
	clear_env();
}

/* ---------------------------------------------------------------- on the wire */

/* A loopback server that answers each connection with the next canned
 * answer and keeps the request heads, so the requests the backend builds
 * (paths, queries, markers, headers) and how it reads answers (error codes,
 * markers) are checked without a service. */
struct canned {
	const char *head; /* status line and headers */
	const char *body;
};

#define MAX_CANNED 8

struct wire {
	int lfd, port, n, served;
	const struct canned *answers;
	char *req[MAX_CANNED];
	pthread_t th;
};

static void *wire_serve(void *arg)
{
	struct wire *w = arg;
	while (w->served < w->n) {
		int fd = accept(w->lfd, NULL, NULL);
		if (fd < 0)
			break;
		struct strbuf in = STRBUF_INIT;
		char buf[4096];
		while (!in.buf || !strstr(in.buf, "\r\n\r\n")) {
			ssize_t r = read(fd, buf, sizeof buf);
			if (r <= 0)
				break;
			sb_append_len(&in, buf, (size_t)r);
		}
		const struct canned *c = &w->answers[w->served];
		w->req[w->served++] = sb_steal(&in);
		struct strbuf out = STRBUF_INIT;
		size_t blen = c->body ? strlen(c->body) : 0;
		sb_printf(&out, "%s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", c->head, blen,
		          c->body ? c->body : "");
		bool sent = write(fd, out.buf, out.len) == (ssize_t)out.len;
		(void)sent;
		sb_free(&out);
		close(fd);
	}
	return NULL;
}

static void wire_start(struct wire *w, const struct canned *answers, int n)
{
	memset(w, 0, sizeof *w);
	w->answers = answers;
	w->n = n;
	w->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(w->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(w->lfd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(w->lfd, (struct sockaddr *)&a, &al), 0);
	w->port = ntohs(a.sin_port);
	assert_int_equal(listen(w->lfd, 8), 0);
	assert_int_equal(pthread_create(&w->th, NULL, wire_serve, w), 0);
}

static void wire_stop(struct wire *w)
{
	shutdown(w->lfd, SHUT_RDWR);
	close(w->lfd);
	pthread_join(w->th, NULL);
	for (int i = 0; i < MAX_CANNED; i++)
		free(w->req[i]);
}

static struct pgr_store *wire_store(struct wire *w)
{
	char *cs = xasprintf("AccountName=devstoreaccount1;AccountKey=" DEV_KEY_B64
	                     ";BlobEndpoint=http://127.0.0.1:%d/devstoreaccount1",
	                     w->port);
	setenv("AZURE_STORAGE_CONNECTION_STRING", cs, 1);
	free(cs);
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open("az://devstoreaccount1/backups/prod", &err);
	if (!st)
		fail_msg("open: %s", err.msg);
	return st;
}

#define PAGE(blobs, next)                                                                                              \
	"<?xml version=\"1.0\"?><EnumerationResults><Blobs>" blobs "</Blobs><NextMarker>" next                         \
	"</NextMarker></EnumerationResults>"
#define BLOB(name) "<Blob><Name>prod/" name "</Name><Properties><Content-Length>3</Content-Length></Properties></Blob>"

static void test_list_on_the_wire(void **state)
{
	(void)state;
	static const struct canned answers[] = {
	        {"HTTP/1.1 200 OK", PAGE(BLOB("wal-archive/A") BLOB("wal-archive/B"), "2!8!b3BhcXVl")},
	        {"HTTP/1.1 200 OK", PAGE(BLOB("wal-archive/C"), "")},
	        {"HTTP/1.1 200 OK", PAGE(BLOB("wal-archive/A") BLOB("wal-archive/B"), "2!8!b3BhcXVl")},
	};
	struct wire w;
	wire_start(&w, answers, 3);
	struct pgr_store *st = wire_store(&w);
	struct pgr_object_list l = {0};
	struct pgr_error err = {0};
	bool more = false;

	assert_true(pgr_store_list_page(st, "wal-archive/", NULL, 2, &l, &more, &err));
	assert_true(more);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].key, "wal-archive/A");
	assert_int_equal(l.items[0].size, 3);
	assert_non_null(strstr(w.req[0],
	                       "GET /devstoreaccount1/backups?restype=container&comp=list&"
	                       "prefix=prod%2Fwal-archive%2F&maxresults=2 HTTP/1.1\r\n"));
	assert_non_null(strstr(w.req[0], "\r\nAuthorization: SharedKey devstoreaccount1:"));
	assert_non_null(strstr(w.req[0], "\r\nx-ms-version: 2021-08-06\r\n"));
	assert_non_null(strstr(w.req[0], "\r\nx-ms-date: "));

	/* The next page, asked for by the last key, follows the opaque marker. */
	assert_true(pgr_store_list_page(st, "wal-archive/", "wal-archive/B", 2, &l, &more, &err));
	assert_false(more);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[2].key, "wal-archive/C");
	assert_non_null(strstr(w.req[1], "&marker=2%218%21b3BhcXVl&"));

	/* Any other starting point: from the start, skipping up to it. */
	pgr_object_list_free(&l);
	assert_true(pgr_store_list_page(st, "wal-archive/", "wal-archive/A", 2, &l, &more, &err));
	assert_null(strstr(w.req[2], "marker="));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].key, "wal-archive/B");
	assert_true(more);
	pgr_object_list_free(&l);
	pgr_store_close(st);
	wire_stop(&w);
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
}

static void test_errors_on_the_wire(void **state)
{
	(void)state;
	static const struct canned answers[] = {
	        {"HTTP/1.1 404 The specified blob does not exist.\r\nx-ms-error-code: BlobNotFound", NULL},
	        {"HTTP/1.1 404 Not Found", NULL},
	        {"HTTP/1.1 403 Server failed to authenticate the request.\r\nx-ms-error-code: AuthenticationFailed",
	         "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to "
	         "authenticate the request.\nRequestId:1</Message></Error>"},
	        {"HTTP/1.1 404 The specified container does not exist.\r\nx-ms-error-code: ContainerNotFound", NULL},
	};
	struct wire w;
	wire_start(&w, answers, 4);
	struct pgr_store *st = wire_store(&w);
	struct pgr_error err = {0};
	struct pgr_object o;

	/* Absent, in the service's own words: NOTFOUND (wal-fetch's "not archived"). */
	assert_false(pgr_store_stat(st, "wal-archive/X", &o, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "\"wal-archive/X\" is not in the store az://devstoreaccount1/backups/prod"));
	assert_non_null(strstr(w.req[0], "HEAD /devstoreaccount1/backups/prod/wal-archive/X HTTP/1.1"));

	/* A 404 from something that is not the service is a store error. */
	assert_false(pgr_store_stat(st, "wal-archive/X", &o, &err));
	assert_int_equal(err.kind, PGR_ERR_STORE);
	assert_non_null(strstr(err.hint, "no Azure error code"));

	char buf[8];
	size_t got = 0;
	assert_false(pgr_store_get_head(st, "database/d", buf, sizeof buf, &got, &err));
	assert_int_equal(err.kind, PGR_ERR_STORE);
	assert_non_null(strstr(err.msg, "HTTP 403 AuthenticationFailed from http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/devstoreaccount1/backups/prod/database/d: Server failed to authenticate"));
	assert_null(strstr(err.msg, "RequestId"));
	assert_non_null(strstr(err.hint, "account key"));
	assert_non_null(strstr(w.req[2], "\r\nx-ms-range: bytes=0-7\r\n"));

	assert_false(pgr_store_delete(st, "wal-archive/X", &err));
	assert_non_null(strstr(err.hint, "container name \"backups\""));
	pgr_store_close(st);
	wire_stop(&w);
	unsetenv("AZURE_STORAGE_CONNECTION_STRING");
}

/* ---------------------------------------------------------------- dates */

static void test_dates(void **state)
{
	(void)state;
	/* Day and month names are English whatever the locale. */
	setlocale(LC_ALL, "C.UTF-8");
	char buf[32];
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 5, .tm_min = 45, .tm_sec = 1};
	time_t t = timegm(&tm);
	pgr_az_rfc1123(t, buf);
	assert_string_equal(buf, "Tue, 24 Nov 2026 05:45:01 GMT");
	time_t back = 0;
	assert_true(pgr_az_parse_rfc1123(buf, &back));
	assert_int_equal(back, t);
	pgr_az_rfc1123(0, buf);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	assert_false(pgr_az_parse_rfc1123("yesterday", &back));
	assert_false(pgr_az_parse_rfc1123("Tue, 24 Foo 2026 05:45:01 GMT", &back));
	assert_false(pgr_az_parse_rfc1123(NULL, &back));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sign_put_block),
	        cmocka_unit_test(test_sign_list),
	        cmocka_unit_test(test_parse_list),
	        cmocka_unit_test(test_parse_error),
	        cmocka_unit_test(test_conn_string),
	        cmocka_unit_test(test_open),
	        cmocka_unit_test(test_dates),
	        cmocka_unit_test(test_list_on_the_wire),
	        cmocka_unit_test(test_errors_on_the_wire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
