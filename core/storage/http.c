/* One HTTP request for the cloud backends, over libcurl: each attempt on a
 * fresh easy handle that shares a connection cache with the others, retries
 * with exponential backoff and jitter on what a later attempt may fix, bodies
 * streamed from and to files, downloads landing under "<file>.part" until
 * complete. Nothing here ever prints or stores a credential. */
#include "config.h"

#include "storage/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"

#define DEFAULT_CONNECT_TIMEOUT 10
#define DEFAULT_LOW_SPEED_SEC 30
#define LOW_SPEED_BYTES 1024
#define DEFAULT_ATTEMPTS 5
#define BACKOFF_BASE_MS 250
#define BACKOFF_CAP_MS 8000
#define RETRY_AFTER_CAP_SEC 30
/* An error answer while downloading to a file is kept in memory for its
 * message; anything beyond this is not an error document worth reading. */
#define ERROR_BODY_CAP (1u << 20)
#define RECV_BUFFER (512 * 1024)
#define WRITEBACK_CHUNK ((uint64_t)8 << 20)

/* ---------------------------------------------------------------- curl setup */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
	(void)h;
	(void)access;
	(void)ctx;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
	(void)h;
	(void)ctx;
	pthread_mutex_unlock(&share_locks[data]);
}

/* Once per process: curl's global state, and one connection and DNS cache
 * shared by every request so a listing of many pages reuses its TLS session. */
static void http_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	share = curl_share_init();
	if (!share)
		return;
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

/* ---------------------------------------------------------------- small helpers */

void pgr_http_resp_init(struct pgr_http_resp *r)
{
	memset(r, 0, sizeof *r);
	sb_init(&r->body);
	sb_init(&r->headers);
}

void pgr_http_resp_free(struct pgr_http_resp *r)
{
	if (!r)
		return;
	sb_free(&r->body);
	sb_free(&r->headers);
}

bool pgr_http_retryable(long status)
{
	/* 501 Not Implemented and 505 will answer the same next time. */
	return (status >= 500 && status != 501 && status != 505) || status == 429 || status == 408;
}

char *pgr_http_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
		if (plain) {
			char ch = (char)c;
			sb_append_len(&sb, &ch, 1);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
			sb_append_len(&sb, enc, 3);
		}
	}
	return sb_steal(&sb);
}

char *pgr_http_header(const struct pgr_http_resp *r, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = sb_str(&r->headers);
	while (*p) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		if ((size_t)(end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = end;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			return xstrndup(v, (size_t)(ve - v));
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

/* Query parameters that carry a signature or a credential (S3 presigned URLs,
 * Azure SAS tokens): their values never reach a message. */
static bool secret_param(const char *name, size_t len)
{
	static const char *const names[] = {"sig",
	                                    "signature",
	                                    "x-amz-signature",
	                                    "x-amz-credential",
	                                    "x-amz-security-token",
	                                    "awsaccesskeyid",
	                                    "x-goog-signature",
	                                    "x-goog-credential",
	                                    "token",
	                                    "password"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

char *pgr_http_redact_url(const char *url)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	if (!url)
		return sb_steal(&sb);
	const char *p = url;
	/* user:password@ in the authority */
	const char *sep = strstr(p, "://");
	if (sep) {
		const char *auth = sep + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', alen);
		if (at) {
			sb_append_len(&sb, p, (size_t)(auth - p));
			sb_append(&sb, "***@");
			p = at + 1;
		}
	}
	const char *q = strchr(p, '?');
	if (!q) {
		sb_append(&sb, p);
		return sb_steal(&sb);
	}
	sb_append_len(&sb, p, (size_t)(q - p) + 1);
	p = q + 1;
	while (*p) {
		size_t len = strcspn(p, "&#");
		const char *eq = memchr(p, '=', len);
		if (eq && secret_param(p, (size_t)(eq - p))) {
			sb_append_len(&sb, p, (size_t)(eq - p) + 1);
			sb_append(&sb, "REDACTED");
		} else {
			sb_append_len(&sb, p, len);
		}
		p += len;
		if (*p == '#') {
			sb_append(&sb, p);
			break;
		}
		if (*p == '&') {
			sb_append(&sb, "&");
			p++;
		}
	}
	return sb_steal(&sb);
}

/* ---------------------------------------------------------------- one attempt */

struct attempt {
	const struct pgr_http_req *req;
	struct pgr_http_resp *resp;
	CURL *h;
	/* request body */
	int body_fd;
	uint64_t body_len, body_pos;
	/* response body to a file */
	char *part; /* "<out_file>.part" */
	int out_fd;
	bool to_file; /* decided at the first body byte: 2xx and out_file */
	bool decided;
	int write_errno;
	bool cancelled;
	uint64_t flushed; /* bytes of the part file handed to writeback */
	struct feeder *feed; /* on_data's thread, when there is one */
};

/* ---------------------------------------------------------------- on_data beside the download
 * The caller's on_data (a digest of what is downloaded) runs in its own
 * thread, so hashing and receiving overlap instead of taking turns: a 1 GiB
 * download's MD5 costs as long as the transfer itself on one core. The
 * writes copy what they write into a ring in memory that the thread hashes
 * from: reading the part file back instead cost a second copy through the
 * kernel and contended with the writes on the same file (about 0.5 s of
 * system time per GiB). A digest faster than the copy (XXH128, SHA-256 with
 * the CPU's SHA instructions) runs inline in the writes; the caller says
 * which (data_beside). */

#define FEED_CHUNK (1u << 20)
#define FEED_RING (16u << 20) /* a multiple of FEED_CHUNK */

struct feeder {
	const struct pgr_http_req *req;
	char *ring;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond; /* the reader waits for data */
	pthread_cond_t space; /* the writer waits for room */
	uint64_t avail; /* bytes copied in so far */
	uint64_t used; /* bytes the reader has hashed (room is FEED_RING - (avail - used)) */
	uint64_t wake_at; /* while the reader waits: wake it once avail reaches this */
	bool waiting, writer_waiting, done, stop;
};

static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	uint64_t pos = 0;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		/* Wait for a whole chunk (or the end): waking for every write the
		 * network delivers costs more than the hashing. */
		while (f->avail - pos < FEED_CHUNK && !f->done && !f->stop) {
			f->wake_at = pos + FEED_CHUNK;
			f->waiting = true;
			pthread_cond_wait(&f->cond, &f->mu);
		}
		f->waiting = false;
		uint64_t avail = f->avail;
		bool finished = f->stop || (f->done && pos == avail);
		pthread_mutex_unlock(&f->mu);
		if (finished)
			break;
		while (pos < avail) {
			/* Up to the end of a chunk, which never crosses the ring's end. */
			size_t off = (size_t)(pos % FEED_RING);
			size_t want = FEED_CHUNK - off % FEED_CHUNK;
			if (avail - pos < want)
				want = (size_t)(avail - pos);
			f->req->on_data(f->req->data_ctx, f->ring + off, want);
			pos += want;
			pthread_mutex_lock(&f->mu);
			f->used = pos;
			if (f->writer_waiting)
				pthread_cond_signal(&f->space);
			pthread_mutex_unlock(&f->mu);
		}
	}
	/* OpenSSL's per-thread state (a digest's), released before the join. */
	OPENSSL_thread_stop();
	return NULL;
}

/* Start the thread that feeds on_data (false: it could not start, and
 * on_data is then called inline from the writes). */
static bool feeder_start(struct attempt *a)
{
	struct feeder *f = xcalloc(1, sizeof *f);
	f->req = a->req;
	f->ring = malloc(FEED_RING);
	if (!f->ring) {
		free(f);
		return false;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cond, NULL);
	pthread_cond_init(&f->space, NULL);
	if (pthread_create(&f->thread, NULL, feeder_main, f) != 0) {
		pthread_cond_destroy(&f->space);
		pthread_cond_destroy(&f->cond);
		pthread_mutex_destroy(&f->mu);
		free(f->ring);
		free(f);
		return false;
	}
	a->feed = f;
	return true;
}

/* Copy what was just written into the ring, waiting for room when the
 * digest is behind (one writer: the region it fills is not being read). */
static void feeder_push(struct feeder *f, const char *data, size_t len)
{
	while (len > 0) {
		pthread_mutex_lock(&f->mu);
		while (f->avail - f->used == FEED_RING) {
			f->writer_waiting = true;
			pthread_cond_wait(&f->space, &f->mu);
		}
		f->writer_waiting = false;
		uint64_t room = FEED_RING - (f->avail - f->used);
		uint64_t head = f->avail;
		pthread_mutex_unlock(&f->mu);
		size_t off = (size_t)(head % FEED_RING);
		size_t n = FEED_RING - off;
		if (n > room)
			n = (size_t)room;
		if (n > len)
			n = len;
		memcpy(f->ring + off, data, n);
		data += n;
		len -= n;
		pthread_mutex_lock(&f->mu);
		f->avail += n;
		if (f->waiting && f->avail >= f->wake_at)
			pthread_cond_signal(&f->cond);
		pthread_mutex_unlock(&f->mu);
	}
}

/* Wait until on_data has seen every byte written (finish) or stop it at
 * once. */
static void feeder_end(struct attempt *a, bool finish)
{
	struct feeder *f = a->feed;
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	if (finish)
		f->done = true;
	else
		f->stop = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_cond_destroy(&f->space);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f->ring);
	free(f);
	a->feed = NULL;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct attempt *a = ctx;
	size_t len = size * n;
	/* A new status line (after 100 Continue or a redirect) starts a new set. */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		sb_reset(&a->resp->headers);
	sb_append_len(&a->resp->headers, data, len);
	return len;
}

static bool open_part(struct attempt *a)
{
	a->out_fd = open(a->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (a->out_fd < 0) {
		a->write_errno = errno;
		return false;
	}
	if (a->req->on_data) {
		/* A new start: on_data begins again, and reads this file. */
		feeder_end(a, false);
		a->req->on_data(a->req->data_ctx, NULL, 0);
		if (!a->req->data_beside || a->req->data_beside(a->req->data_ctx))
			feeder_start(a);
	}
	return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct attempt *a = ctx;
	size_t len = size * n;
	if (!a->decided) {
		long status = 0;
		curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, &status);
		a->to_file = a->part && status >= 200 && status < 300;
		a->decided = true;
		if (a->to_file && !open_part(a))
			return 0;
	}
	a->resp->bytes += len;
	if (!a->to_file) {
		if (!a->part || a->resp->body.len < ERROR_BODY_CAP)
			sb_append_len(&a->resp->body, data, len);
		return len;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(a->out_fd, data + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			a->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	/* Start writeback as the data comes, so the fsync before the rename
	 * has little left to do: the download is durable at nearly no cost. */
	uint64_t written = a->resp->bytes;
	if (!a->req->no_sync && written - a->flushed >= WRITEBACK_CHUNK) {
		sync_file_range(a->out_fd, (off_t)a->flushed, (off_t)(written - a->flushed), SYNC_FILE_RANGE_WRITE);
		a->flushed = written;
	}
	if (a->feed)
		feeder_push(a->feed, data, len);
	else if (a->req->on_data)
		a->req->on_data(a->req->data_ctx, data, len);
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
	struct attempt *a = ctx;
	size_t want = size * n;
	if (a->body_pos >= a->body_len)
		return 0;
	if (want > a->body_len - a->body_pos)
		want = (size_t)(a->body_len - a->body_pos);
	if (a->body_fd < 0) {
		memcpy(buf, (const char *)a->req->body + a->body_pos, want);
		a->body_pos += want;
		return want;
	}
	for (;;) {
		ssize_t r = pread(a->body_fd, buf, want, (off_t)(a->req->body_offset + a->body_pos));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The file shrank under us or cannot be read: fail, do not pad. */
			a->write_errno = r < 0 ? errno : EIO;
			return CURL_READFUNC_ABORT;
		}
		a->body_pos += (uint64_t)r;
		return (size_t)r;
	}
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct attempt *a = ctx;
	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > a->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	a->body_pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct attempt *a = ctx;
	if (!a->req->progress)
		return 0;
	bool up = a->body_len > 0;
	uint64_t done = (uint64_t)(up ? ulnow : dlnow);
	uint64_t total = (uint64_t)(up ? ultotal : dltotal);
	if (!a->req->progress(a->req->pctx, done, total)) {
		a->cancelled = true;
		return 1;
	}
	return 0;
}

/* curl's trace, with whatever could authenticate a request elided. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ctx)
{
	(void)h;
	(void)ctx;
	const char *tag;
	switch (type) {
	case CURLINFO_TEXT: tag = "* "; break;
	case CURLINFO_HEADER_IN: tag = "< "; break;
	case CURLINFO_HEADER_OUT: tag = "> "; break;
	default: return 0;
	}
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		while (len && (p[len - 1] == '\r'))
			len--;
		static const char *const secret_headers[] = {
		        "authorization:", "x-amz-security-token:", "proxy-authorization:", "cookie:"};
		bool secret = false;
		for (size_t i = 0; i < sizeof secret_headers / sizeof secret_headers[0]; i++) {
			size_t sl = strlen(secret_headers[i]);
			if (len >= sl && strncasecmp(p, secret_headers[i], sl) == 0) {
				fprintf(stderr, "pgrescue: http: %s%.*s (elided)\n", tag, (int)sl, p);
				secret = true;
			}
		}
		if (!secret && len) {
			char *line = xstrndup(p, len);
			/* Request lines carry the URL: SAS tokens live in its query. */
			char *safe = pgr_http_redact_url(line);
			fprintf(stderr, "pgrescue: http: %s%s\n", tag, safe);
			free(safe);
			free(line);
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return 0;
}

/* Transport failures a later attempt may not hit. */
static bool curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_WEIRD_SERVER_REPLY: return true;
	default: return false;
	}
}

static const char *method_of(const struct pgr_http_req *req)
{
	return req->method && *req->method ? req->method : "GET";
}

/* Configure h for one attempt of req. */
static bool setup(struct attempt *a, struct curl_slist **hdrs, char *errbuf, struct pgr_error *err)
{
	const struct pgr_http_req *req = a->req;
	CURL *h = a->h;
	const char *method = method_of(req);
	bool head = !strcmp(method, "HEAD");
	bool has_body = req->body || req->body_file;

	if (share)
		curl_easy_setopt(h, CURLOPT_SHARE, share);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pgrescue/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
	                 (long)(req->connect_timeout_sec > 0 ? req->connect_timeout_sec : DEFAULT_CONNECT_TIMEOUT));
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
	                 (long)(req->low_speed_sec > 0 ? req->low_speed_sec : DEFAULT_LOW_SPEED_SEC));
	if (req->timeout_sec > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)req->timeout_sec);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file && *req->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)RECV_BUFFER);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

	if (req->aws_sigv4) {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->username ? req->username : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->password ? req->password : "");
	}

	for (const char *const *p = req->headers; p && *p; p++)
		*hdrs = curl_slist_append(*hdrs, *p);

	a->body_fd = -1;
	a->body_pos = 0;
	a->body_len = 0;
	if (req->body_file) {
		a->body_fd = open(req->body_file, O_RDONLY | O_CLOEXEC);
		if (a->body_fd < 0)
			return pgr_error_errno(err, errno, "cannot read \"%s\" to send it", req->body_file);
		struct stat sb;
		if (fstat(a->body_fd, &sb) < 0)
			return pgr_error_errno(err, errno, "cannot read \"%s\" to send it", req->body_file);
		uint64_t size = (uint64_t)sb.st_size;
		if (req->body_offset > size)
			return pgr_error_set(err, PGR_ERR_IO, "\"%s\" is shorter (%llu bytes) than the part to send",
			                     req->body_file, (unsigned long long)size);
		a->body_len = req->body_file_len ? req->body_file_len : size - req->body_offset;
		if (req->body_offset + a->body_len > size)
			return pgr_error_set(err, PGR_ERR_IO, "\"%s\" is shorter (%llu bytes) than the part to send",
			                     req->body_file, (unsigned long long)size);
	} else if (req->body) {
		a->body_len = req->body_len;
	}

	if (head) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (has_body || !strcmp(method, "PUT")) {
		/* Uploads stream through the read callback with their size known, so
		 * curl sends Content-Length, never chunks. (No "Transfer-Encoding:"
		 * to be sure: curl's SigV4 would sign that empty header.) */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)a->body_len);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, a);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, a);
		if (strcmp(method, "PUT") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (*hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);

	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
	if (req->verbose) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	}
	return true;
}

/* Close (and on success sync and rename) the downloaded part. */
static bool finish_file(struct attempt *a, bool keep, struct pgr_error *err)
{
	bool ok = true;
	if (keep && a->out_fd < 0 && !open_part(a))
		ok = pgr_error_errno(err, a->write_errno, "cannot create \"%s\"", a->part);
	if (a->out_fd >= 0) {
		/* The sync goes on while on_data's thread hashes the last bytes. */
		if (keep && ok && !a->req->no_sync && fsync(a->out_fd) < 0)
			ok = pgr_error_errno(err, errno, "cannot sync \"%s\"", a->part);
		if (close(a->out_fd) < 0 && keep && ok)
			ok = pgr_error_errno(err, errno, "cannot write \"%s\"", a->part);
		a->out_fd = -1;
	}
	feeder_end(a, keep && ok);
	if (keep && ok) {
		if (rename(a->part, a->req->out_file) < 0)
			ok = pgr_error_errno(err, errno, "cannot rename \"%s\" to \"%s\"", a->part, a->req->out_file);
		else if (!a->req->no_sync)
			ok = pgr_fsync_parent(a->req->out_file, err);
	}
	if (!keep || !ok)
		unlink(a->part);
	return ok;
}

enum outcome { OUT_ANSWER, OUT_RETRY, OUT_FAIL };

/* Milliseconds to wait before the next attempt: full jitter over an
 * exponentially growing window, or what the server asked for (Retry-After). */
static long backoff_ms(int attempt, const struct pgr_http_resp *resp)
{
	static unsigned int seed;
	if (!seed) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (unsigned int)(ts.tv_nsec ^ (ts.tv_sec << 16) ^ getpid());
	}
	long window = BACKOFF_BASE_MS << (attempt - 1 < 10 ? attempt - 1 : 10);
	if (window > BACKOFF_CAP_MS)
		window = BACKOFF_CAP_MS;
	long ms = window / 2 + (long)(rand_r(&seed) % (unsigned int)(window / 2 + 1));
	char *ra = resp ? pgr_http_header(resp, "Retry-After") : NULL;
	if (ra) {
		char *end;
		long sec = strtol(ra, &end, 10);
		if (end != ra && *end == '\0' && sec >= 0) {
			if (sec > RETRY_AFTER_CAP_SEC)
				sec = RETRY_AFTER_CAP_SEC;
			if (sec * 1000 > ms)
				ms = sec * 1000;
		}
		free(ra);
	}
	return ms;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static enum outcome attempt_once(const struct pgr_http_req *req, struct pgr_http_resp *resp, char **why,
                                 struct pgr_error *err)
{
	struct attempt a = {.req = req, .resp = resp, .body_fd = -1, .out_fd = -1};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	sb_reset(&resp->body);
	sb_reset(&resp->headers);
	resp->status = 0;
	resp->bytes = 0;
	*why = NULL;

	a.h = curl_easy_init();
	if (!a.h)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "cannot start an HTTP request (curl_easy_init failed)"),
		       OUT_FAIL;
	if (req->out_file)
		a.part = xasprintf("%s.part", req->out_file);
	enum outcome out = OUT_FAIL;
	if (!setup(&a, &hdrs, errbuf, err))
		goto done;

	CURLcode rc = curl_easy_perform(a.h);
	curl_easy_getinfo(a.h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc == CURLE_OK) {
		bool ok2xx = resp->status >= 200 && resp->status < 300;
		if (a.part && !finish_file(&a, ok2xx, err)) {
			out = OUT_FAIL;
			goto done;
		}
		out = pgr_http_retryable(resp->status) ? OUT_RETRY : OUT_ANSWER;
		if (out == OUT_RETRY)
			*why = xasprintf("HTTP %ld", resp->status);
		goto done;
	}
	if (a.part)
		finish_file(&a, false, NULL);
	if (a.cancelled || rc == CURLE_ABORTED_BY_CALLBACK) {
		pgr_error_set(err, PGR_ERR_STORE, "cancelled");
		goto done;
	}
	if (a.write_errno && (rc == CURLE_WRITE_ERROR || rc == CURLE_READ_ERROR || rc == CURLE_ABORTED_BY_CALLBACK)) {
		if (rc == CURLE_READ_ERROR)
			pgr_error_errno(err, a.write_errno, "cannot read \"%s\" while sending it", req->body_file);
		else
			pgr_error_errno(err, a.write_errno, "cannot write \"%s\"", a.part ? a.part : "(memory)");
		goto done;
	}
	*why = xstrdup(errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (curl_retryable(rc)) {
		out = OUT_RETRY;
		resp->status = 0;
		goto done;
	}
	pgr_error_set(err, PGR_ERR_STORE, "%s", *why);
	if (rc == CURLE_SSL_CACERT_BADFILE && req->ca_file && *req->ca_file)
		pgr_error_hint(err,
		               "ca_file = %s holds no CA certificate in PEM form that TLS could load; give the "
		               "file of PEM certificates (-----BEGIN CERTIFICATE-----) of the CA that signed the "
		               "store's certificate.",
		               req->ca_file);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION && strstr(*why, "host name"))
		pgr_error_hint(err,
		               "The certificate is valid but not issued for the host in the URL. Use the name the "
		               "certificate lists (in the endpoint: s3_endpoint, azure_endpoint, BlobEndpoint, "
		               "AWS_ENDPOINT_URL), or have it reissued with this host in its subjectAltName; "
		               "host names are always checked.");
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
		pgr_error_hint(err,
		               "The server's TLS certificate could not be verified. For a private CA, set "
		               "ca_file = /path/to/ca.pem in the environment's section (certificates are always "
		               "verified).");
	resp->status = 0;
done:
	feeder_end(&a, false);
	if (a.body_fd >= 0)
		close(a.body_fd);
	if (a.out_fd >= 0)
		close(a.out_fd);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(a.h);
	free(a.part);
	return out;
}

bool pgr_http_do(const struct pgr_http_req *req, struct pgr_http_resp *resp, struct pgr_error *err)
{
	pthread_once(&init_once, http_init);
	int max = req->max_attempts > 0 ? req->max_attempts : DEFAULT_ATTEMPTS;
	int connect_s = req->connect_timeout_sec > 0 ? req->connect_timeout_sec : DEFAULT_CONNECT_TIMEOUT;
	int stall_s = req->low_speed_sec > 0 ? req->low_speed_sec : DEFAULT_LOW_SPEED_SEC;
	char *safe_url = pgr_http_redact_url(req->url);
	const char *method = method_of(req);
	bool ok = false;
	resp->attempts = 0;
	for (int i = 1; i <= max; i++) {
		char *why = NULL;
		struct pgr_error aerr = {0};
		resp->attempts = i;
		enum outcome o = attempt_once(req, resp, &why, &aerr);
		if (o == OUT_ANSWER || (o == OUT_RETRY && resp->status && i == max)) {
			/* An HTTP answer, even a final 5xx: the caller reads its error document. */
			ok = true;
			free(why);
			break;
		}
		if (o == OUT_FAIL) {
			if (err) {
				*err = aerr;
				pgr_error_prefix(err, "%s %s", method, safe_url);
			}
			free(why);
			break;
		}
		if (i == max) {
			pgr_error_set(err, PGR_ERR_STORE, "%s %s: %s (gave up after %d attempts)", method, safe_url,
			              why ? why : "no answer", i);
			if (why && (strstr(why, "imed out") || strstr(why, "imeout") || strstr(why, "too slow")))
				pgr_error_hint(
				        err,
				        "The store did not answer in time (%d s to connect, %d s without data; "
				        "store_timeout in the environment's section sets both). Check the store's "
				        "endpoint (s3_endpoint, AWS_ENDPOINT_URL, the account's BlobEndpoint), that "
				        "this machine can reach it, and any proxy settings.",
				        connect_s, stall_s);
			else if (why && (strstr(why, "onnect") || strstr(why, "resolve")))
				pgr_error_hint(err,
				               "Check the store's endpoint (s3_endpoint, AWS_ENDPOINT_URL, "
				               "the account's BlobEndpoint), that this machine can reach it, and any "
				               "proxy settings.");
			free(why);
			break;
		}
		long ms = backoff_ms(i, resp->status ? resp : NULL);
		if (req->verbose)
			fprintf(stderr, "pgrescue: http: %s %s: %s; retrying in %ld ms (attempt %d of %d)\n", method,
			        safe_url, why ? why : "failed", ms, i + 1, max);
		free(why);
		sleep_ms(ms);
	}
	free(safe_url);
	return ok;
}
