/* One HTTP request for the cloud backends (S3, GCS through S3, Azure Blob),
 * over libcurl: connect and transfer timeouts, retries with exponential
 * backoff and jitter on 5xx, 429/throttling and timeouts (never on other
 * 4xx), streaming to or from files with progress, TLS verified (a CA file
 * may be given), AWS SigV4 by libcurl itself. Credentials are passed in
 * fields that never reach a log or an error message. */
#ifndef PGR_HTTP_H
#define PGR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "storage/storage.h"

struct pgr_http_req {
	const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
	const char *url; /* full URL; the query string already canonical (sorted, encoded) */
	const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
	/* AWS SigV4 through CURLOPT_AWS_SIGV4 ("aws:amz:REGION:s3"), with the key
	 * pair in CURLOPT_USERNAME / CURLOPT_PASSWORD (an access key may hold ':'). */
	const char *aws_sigv4;
	const char *username;
	const char *password;
	/* Request body: memory, or a region of a file (len 0: to its end). */
	const void *body;
	size_t body_len;
	const char *body_file;
	uint64_t body_offset;
	uint64_t body_file_len;
	/* Response body: streamed to out_file (written to "<out_file>.part", renamed
	 * only when complete and the status is 2xx), else kept in resp->body. */
	const char *out_file;
	/* out_file is a copy the caller can fetch again (wal-fetch: PostgreSQL
	 * syncs what it keeps): complete under its name only after the rename,
	 * but not synced to disk. */
	bool no_sync;
	/* Optional: each chunk written to out_file, so the caller can hash while
	 * it streams; data NULL when an attempt starts the file over (the
	 * answer's headers are in resp by then). */
	void (*on_data)(void *ctx, const void *data, size_t len);
	/* Optional, asked after each start: true to run on_data in a thread
	 * beside the download, fed from a ring in memory the writes copy into (a
	 * digest slower than the network, such as MD5), false to call it from
	 * the writes (a fast one, or none). NULL: beside. */
	bool (*data_beside)(void *ctx);
	void *data_ctx;
	pgr_progress_fn progress;
	void *pctx;
	int connect_timeout_sec; /* 0: 10 */
	int low_speed_sec; /* abort when under 1 kB/s this long; 0: 30 */
	int timeout_sec; /* whole transfer; 0: none (big objects), low_speed guards it */
	int max_attempts; /* 0: 5 */
	const char *ca_file; /* NULL: the system's */
	bool verbose; /* curl's trace to stderr with credentials elided */
};

struct pgr_http_resp {
	long status; /* 0 when no answer */
	struct strbuf body; /* unless out_file */
	struct strbuf headers; /* raw response headers of the last attempt */
	uint64_t bytes; /* body bytes received */
	int attempts;
};

void pgr_http_resp_init(struct pgr_http_resp *r);
void pgr_http_resp_free(struct pgr_http_resp *r);
/* Do the request, retrying what is worth retrying. True when an HTTP answer
 * came (any status: the caller interprets 4xx); false on transport failure
 * after the last attempt, with err naming the URL (credentials never). */
bool pgr_http_do(const struct pgr_http_req *req, struct pgr_http_resp *resp, struct pgr_error *err);
/* A response header's value (case-insensitive name), newly allocated, or NULL. */
char *pgr_http_header(const struct pgr_http_resp *r, const char *name);
/* RFC 3986 percent-encoding; keep_slash leaves '/' as is (object keys in paths). */
char *pgr_http_encode(const char *s, bool keep_slash);
/* Whether a status is retried: 5xx (but 501, 505), 429, 408. */
bool pgr_http_retryable(long status);
/* A URL fit for messages: user:password@ and the values of signature and
 * token query parameters (SAS sig=, X-Amz-Signature...) replaced. Newly allocated. */
char *pgr_http_redact_url(const char *url);

#endif
