/* The s3:// and gs:// backends: Amazon S3 and anything speaking its API
 * (MinIO, Ceph, R2, Swift's s3api), and Google Cloud Storage through its
 * S3-compatible XML API with HMAC keys. Requests are signed by libcurl
 * (SigV4); this file builds canonical URLs, reads the XML answers with
 * libxml2 and turns service errors into messages a person can act on. */
#include "config.h"

#include "storage/storage.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/digest.h"
#include "storage/http.h"

#define S3_MAX_KEYS 1000
/* Key ranges listed side by side (pgr_store_list): a page costs the server
 * far more than it costs us, and it serves several at once. */
#define S3_LIST_WORKERS 4
/* Uploads above this go in parts; a single PUT is capped at 5 GiB anyway. */
#define MULTIPART_THRESHOLD ((uint64_t)64 << 20)
#define PART_SIZE_MIN ((uint64_t)16 << 20)
#define PART_SIZE_MAX ((uint64_t)64 << 20)
#define MAX_PARTS 10000
/* The digests pgrescue records with each object it stores (user metadata;
 * S3 sends them back as x-amz-meta-pgrescue-... on GET and HEAD). */
#define S3_META_SHA256 "pgrescue-sha256"
#define S3_META_XXH128 "pgrescue-xxh128"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define GCS_ENDPOINT "https://storage.googleapis.com"

struct s3_store {
	bool gcs;
	char *bucket;
	char *prefix; /* "" or "some/prefix/" */
	char *endpoint; /* scheme://host[:port], no trailing slash */
	char *ep_scheme; /* "https" */
	char *ep_host; /* host[:port] */
	bool path_style;
	char *region;
	char *sigv4; /* "aws:amz:REGION:s3" */
	char *access_key;
	char *secret_key;
	char *session_token;
	char *cred_source; /* where the keys came from, for hints */
	char *sse;
	char *storage_class;
	char *ca_file;
	int timeout_sec; /* store_timeout (0: the HTTP layer's defaults) */
};

static struct s3_store *s3_of(struct pgr_store *st)
{
	return st->backend;
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* ---------------------------------------------------------------- credentials */

struct profile_read {
	const char *want; /* section name */
	char *key, *secret, *token, *region;
	char *file; /* the credentials file read, for hints */
};

static int profile_line(void *ctx, const char *section, const char *name, const char *value)
{
	struct profile_read *p = ctx;
	if (strcmp(section, p->want) != 0)
		return 1;
	char **dst = NULL;
	if (!strcasecmp(name, "aws_access_key_id"))
		dst = &p->key;
	else if (!strcasecmp(name, "aws_secret_access_key"))
		dst = &p->secret;
	else if (!strcasecmp(name, "aws_session_token"))
		dst = &p->token;
	else if (!strcasecmp(name, "region"))
		dst = &p->region;
	if (dst) {
		free(*dst);
		*dst = xstrdup(value);
	}
	return 1;
}

static char *aws_file(const char *env, const char *name)
{
	const char *v = env_nonempty(env);
	if (v)
		return xstrdup(v);
	const char *home = env_nonempty("HOME");
	if (!home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : NULL;
	}
	return home ? xasprintf("%s/.aws/%s", home, name) : NULL;
}

/* Keys from the credentials file's [profile] section; region from the config
 * file's [profile NAME] (or [default]). */
static void read_profile(const char *profile, struct profile_read *out)
{
	char *cred = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	memset(out, 0, sizeof *out);
	out->want = profile;
	if (cred && access(cred, R_OK) == 0)
		ini_parse(cred, profile_line, out);
	out->file = cred;
	char *conf = aws_file("AWS_CONFIG_FILE", "config");
	if (conf && access(conf, R_OK) == 0) {
		char *section = strcmp(profile, "default") ? xasprintf("profile %s", profile) : xstrdup("default");
		struct profile_read c = {.want = section};
		ini_parse(conf, profile_line, &c);
		if (!out->key && c.key) {
			free(out->file);
			out->file = xstrdup(conf);
			out->key = c.key;
			c.key = NULL;
			free(out->secret);
			out->secret = c.secret;
			c.secret = NULL;
			free(out->token);
			out->token = c.token;
			c.token = NULL;
		}
		out->region = c.region;
		c.region = NULL;
		free(c.key);
		free(c.secret);
		free(c.token);
		free(section);
	}
	free(conf);
}

static void profile_free(struct profile_read *p)
{
	free(p->key);
	free(p->secret);
	free(p->token);
	free(p->region);
	free(p->file);
}

/* store_credentials_file: the s3_profile section (else [default]) of a file in
 * the AWS shared-credentials format. It is what the database server's
 * archive_command and restore_command read too, so it wins over variables. */
static bool load_credentials_file(struct pgr_store *st, struct s3_store *s, char **profile_region,
                                  struct pgr_error *err)
{
	const char *file = st->opts.credentials_file;
	const char *profile = st->opts.s3_profile ? st->opts.s3_profile : "default";
	char *text = NULL;
	if (!pgr_store_credentials_read(file, &text, err)) {
		pgr_error_prefix(err, "store \"%s\"", st->url);
		return false;
	}
	struct profile_read p = {.want = profile};
	int line = ini_parse_string(text, profile_line, &p);
	pgr_store_credentials_free(text);
	if (line == 0 && p.key && *p.key && p.secret && *p.secret) {
		s->access_key = xstrdup(p.key);
		s->secret_key = xstrdup(p.secret);
		s->session_token = p.token && *p.token ? xstrdup(p.token) : NULL;
		s->cred_source = xasprintf("the [%s] section of %s", profile, file);
		*profile_region = p.region;
		p.region = NULL;
	} else if (line != 0) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store \"%s\": the credentials file %s has a syntax error on line %d", st->url, file,
		              line);
		pgr_error_hint(err,
		               "It uses the AWS shared-credentials format: a [%s] line, then aws_access_key_id = "
		               "... and aws_secret_access_key = ... lines.",
		               profile);
	} else {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store \"%s\": the credentials file %s has no aws_access_key_id and "
		              "aws_secret_access_key in a [%s] section",
		              st->url, file, profile);
		pgr_error_hint(err,
		               "Write a [%s] section (the s3_profile key picks another) with aws_access_key_id and "
		               "aws_secret_access_key%s.",
		               profile, s->gcs ? " (for gs://, the HMAC key's access ID and secret)" : "");
	}
	if (p.secret)
		memset(p.secret, 0, strlen(p.secret));
	profile_free(&p);
	return s->access_key != NULL;
}

static bool load_credentials(struct pgr_store *st, struct s3_store *s, char **profile_region, struct pgr_error *err)
{
	if (st->opts.credentials_file)
		return load_credentials_file(st, s, profile_region, err);
	const char *cfg_profile = st->opts.s3_profile;
	const char *profile = cfg_profile ? cfg_profile : env_nonempty("AWS_PROFILE");
	if (!profile)
		profile = "default";
	struct profile_read p;
	read_profile(profile, &p);
	*profile_region = p.region;
	p.region = NULL;

	/* An explicitly configured profile wins; otherwise the variables, as the
	 * AWS tools do. */
	const char *ek = NULL, *es = NULL, *et = NULL, *src = NULL;
	if (s->gcs && env_nonempty("GOOGLE_ACCESS_KEY_ID") && env_nonempty("GOOGLE_SECRET_ACCESS_KEY")) {
		ek = env_nonempty("GOOGLE_ACCESS_KEY_ID");
		es = env_nonempty("GOOGLE_SECRET_ACCESS_KEY");
		src = "GOOGLE_ACCESS_KEY_ID / GOOGLE_SECRET_ACCESS_KEY";
	} else if (env_nonempty("AWS_ACCESS_KEY_ID") && env_nonempty("AWS_SECRET_ACCESS_KEY")) {
		ek = env_nonempty("AWS_ACCESS_KEY_ID");
		es = env_nonempty("AWS_SECRET_ACCESS_KEY");
		et = env_nonempty("AWS_SESSION_TOKEN");
		src = "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY";
	}
	if (p.key && p.secret && (cfg_profile || !ek)) {
		s->access_key = xstrdup(p.key);
		s->secret_key = xstrdup(p.secret);
		s->session_token = p.token ? xstrdup(p.token) : NULL;
		s->cred_source = xasprintf("the [%s] profile of %s", profile, p.file ? p.file : "~/.aws/credentials");
	} else if (ek) {
		s->access_key = xstrdup(ek);
		s->secret_key = xstrdup(es);
		s->session_token = et ? xstrdup(et) : NULL;
		s->cred_source = xstrdup(src);
	}
	profile_free(&p);
	if (s->access_key)
		return true;
	pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": no credentials found", st->url);
	if (cfg_profile)
		pgr_error_hint(err,
		               "s3_profile = %s names a profile with no aws_access_key_id / aws_secret_access_key "
		               "in ~/.aws/credentials (or $AWS_SHARED_CREDENTIALS_FILE) of the user pgrescue "
		               "runs as.",
		               cfg_profile);
	else
		pgr_error_hint(err,
		               "Set %sAWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
		               "temporary keys), or a profile in ~/.aws/credentials (AWS_PROFILE or s3_profile). "
		               "PostgreSQL's archive_command runs as the server's user and needs them too.",
		               s->gcs ? "GOOGLE_ACCESS_KEY_ID and GOOGLE_SECRET_ACCESS_KEY (HMAC keys), or " : "");
	return false;
}

/* ---------------------------------------------------------------- open/close */

static void s3_free(struct s3_store *s)
{
	if (!s)
		return;
	free(s->bucket);
	free(s->prefix);
	free(s->endpoint);
	free(s->ep_scheme);
	free(s->ep_host);
	free(s->region);
	free(s->sigv4);
	free(s->access_key);
	if (s->secret_key) {
		memset(s->secret_key, 0, strlen(s->secret_key));
		free(s->secret_key);
	}
	free(s->session_token);
	free(s->cred_source);
	free(s->sse);
	free(s->storage_class);
	free(s->ca_file);
	free(s);
}

static bool host_is_address(const char *host)
{
	/* host[:port]: an IPv4 address, an IPv6 literal, or localhost cannot
	 * take a bucket name in front of it. */
	if (host[0] == '[')
		return true;
	size_t n = strcspn(host, ":");
	if ((n == 9 && !strncasecmp(host, "localhost", 9)))
		return true;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			return false;
	return true;
}

static bool parse_endpoint(struct pgr_store *st, struct s3_store *s, const char *ep, const char *from,
                           struct pgr_error *err)
{
	const char *sep = strstr(ep, "://");
	const char *host = sep ? sep + 3 : ep;
	if (sep && strncasecmp(ep, "http://", 7) != 0 && strncasecmp(ep, "https://", 8) != 0)
		return pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": endpoint \"%s\" (from %s) is not http(s)",
		                     st->url, ep, from);
	size_t hlen = strcspn(host, "/?#");
	if (hlen == 0)
		return pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": endpoint \"%s\" (from %s) names no host",
		                     st->url, ep, from);
	if (memchr(host, '@', hlen))
		return pgr_error_set(err, PGR_ERR_CONFIG,
		                     "store \"%s\": the endpoint (from %s) must not carry credentials", st->url, from);
	s->ep_scheme = sep ? xstrndup(ep, (size_t)(sep - ep)) : xstrdup("https");
	for (char *c = s->ep_scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	s->ep_host = xstrndup(host, hlen);
	s->endpoint = xasprintf("%s://%s", s->ep_scheme, s->ep_host);
	return true;
}

const char *pgr_s3_env_option(const char *store_url, const char *key, const char **var)
{
	bool gcs = !strncmp(store_url, "gs://", 5);
	if (!gcs && strncmp(store_url, "s3://", 5) != 0)
		return NULL;
	static const struct {
		const char *key;
		bool gcs;
		const char *var;
	} order[] = {
	        {"s3_endpoint", false, "AWS_ENDPOINT_URL_S3"},  {"s3_endpoint", false, "AWS_ENDPOINT_URL"},
	        {"s3_endpoint", true, "STORAGE_EMULATOR_HOST"}, {"s3_region", false, "AWS_REGION"},
	        {"s3_region", false, "AWS_DEFAULT_REGION"},
	};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *v;
		if (order[i].gcs == gcs && !strcmp(order[i].key, key) && (v = env_nonempty(order[i].var))) {
			*var = order[i].var;
			return v;
		}
	}
	return NULL;
}

static bool s3_open(struct pgr_store *st, const char *url, struct pgr_error *err)
{
	struct s3_store *s = xcalloc(1, sizeof *s);
	s->gcs = !strncasecmp(url, "gs://", 5);
	const char *rest = strstr(url, "://") + 3;
	size_t blen = strcspn(rest, "/?#");
	if (blen == 0 || strpbrk(rest, "?#")) {
		pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": expected %s://bucket[/prefix]", url,
		              s->gcs ? "gs" : "s3");
		pgr_error_hint(err, "For example %s://my-backups/clipper (the prefix is optional).",
		               s->gcs ? "gs" : "s3");
		s3_free(s);
		return false;
	}
	s->bucket = xstrndup(rest, blen);
	for (const char *c = s->bucket; *c; c++) {
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' || *c == '.' ||
		      *c == '_')) {
			pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": \"%s\" is not a valid bucket name", url,
			              s->bucket);
			pgr_error_hint(err, "Bucket names are lower-case letters, digits, '-', '.' (and '_' on GCS).");
			s3_free(s);
			return false;
		}
	}
	/* The prefix, without leading, trailing or doubled slashes. */
	struct strbuf pfx = STRBUF_INIT;
	sb_append(&pfx, "");
	const char *p = rest + blen;
	while (*p) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if (n) {
			sb_append_len(&pfx, p, n);
			sb_append(&pfx, "/");
		}
		p += n;
	}
	s->prefix = sb_steal(&pfx);

	/* Endpoint: the config key, then the conventional variables, then the service. */
	const char *ep = st->opts.s3_endpoint, *from = "s3_endpoint";
	if (!ep)
		ep = pgr_s3_env_option(url, "s3_endpoint", &from);
	char *profile_region = NULL;
	if (!load_credentials(st, s, &profile_region, err)) {
		free(profile_region);
		s3_free(s);
		return false;
	}
	const char *region = st->opts.s3_region, *rvar;
	if (!region)
		region = pgr_s3_env_option(url, "s3_region", &rvar);
	if (!region && !s->gcs)
		region = profile_region;
	if (!region)
		region = s->gcs ? "auto" : "us-east-1";
	s->region = xstrdup(region);
	free(profile_region);
	for (const char *c = s->region; *c; c++) {
		if (!(isalnum((unsigned char)*c) || *c == '-')) {
			pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": \"%s\" is not a region name", url, s->region);
			s3_free(s);
			return false;
		}
	}
	s->sigv4 = xasprintf("aws:amz:%s:s3", s->region);

	char *def_ep = NULL;
	if (!ep) {
		def_ep = s->gcs
		        ? xstrdup(GCS_ENDPOINT)
		        : (!strcmp(s->region, "us-east-1") ? xstrdup("https://s3.amazonaws.com")
		                                           : xasprintf("https://s3.%s.amazonaws.com", s->region));
		ep = def_ep;
		from = "the default";
	}
	bool ok = parse_endpoint(st, s, ep, from, err);
	free(def_ep);
	if (!ok) {
		s3_free(s);
		return false;
	}

	const char *style = st->opts.s3_url_style;
	if (style && !strcasecmp(style, "path")) {
		s->path_style = true;
	} else if (style && !strcasecmp(style, "virtual")) {
		s->path_style = false;
	} else if (style) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store \"%s\": s3_url_style = %s is neither \"virtual\" nor \"path\"", url, style);
		s3_free(s);
		return false;
	} else {
		/* Virtual hosts unless the endpoint is an address, or a dotted
		 * bucket name would break the TLS certificate's wildcard. */
		s->path_style =
		        host_is_address(s->ep_host) || (strchr(s->bucket, '.') && !strcmp(s->ep_scheme, "https"));
	}
	s->sse = st->opts.s3_sse ? xstrdup(st->opts.s3_sse) : NULL;
	s->storage_class = st->opts.s3_storage_class ? xstrdup(st->opts.s3_storage_class) : NULL;
	s->ca_file = st->opts.ca_file ? xstrdup(st->opts.ca_file) : NULL;
	s->timeout_sec = st->opts.timeout_sec;
	xmlInitParser();
	st->backend = s;
	return true;
}

static void s3_close(struct pgr_store *st)
{
	s3_free(s3_of(st));
	st->backend = NULL;
}

/* ---------------------------------------------------------------- requests */

struct qparam {
	const char *name;
	const char *value; /* NULL: a bare name ("?uploads") */
};

static int qparam_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qparam *)a)->name, ((const struct qparam *)b)->name);
}

/* The URL of key (NULL: the bucket) with a canonical query: names sorted,
 * names and values percent-encoded, as SigV4 wants and curl 7.88 does not do. */
static char *s3_url(struct s3_store *s, const char *key, struct qparam *q, size_t nq)
{
	struct strbuf sb = STRBUF_INIT;
	if (s->path_style)
		sb_printf(&sb, "%s/%s/", s->endpoint, s->bucket);
	else
		sb_printf(&sb, "%s://%s.%s/", s->ep_scheme, s->bucket, s->ep_host);
	if (key) {
		char *full = xasprintf("%s%s", s->prefix, key);
		char *enc = pgr_http_encode(full, true);
		sb_append(&sb, enc);
		free(enc);
		free(full);
	}
	if (nq) {
		qsort(q, nq, sizeof *q, qparam_cmp);
		for (size_t i = 0; i < nq; i++) {
			sb_append(&sb, i ? "&" : "?");
			char *n = pgr_http_encode(q[i].name, false);
			sb_append(&sb, n);
			free(n);
			sb_append(&sb, "=");
			if (q[i].value) {
				char *v = pgr_http_encode(q[i].value, false);
				sb_append(&sb, v);
				free(v);
			}
		}
	}
	return sb_steal(&sb);
}

struct s3_call {
	const char *method;
	const char *key; /* NULL: the bucket */
	struct qparam q[6];
	size_t nq;
	const char *extra[8]; /* more "Name: value" headers */
	size_t nextra;
	/* body */
	const void *body;
	size_t body_len;
	const char *body_file;
	uint64_t body_offset, body_file_len;
	const char *out_file;
	bool no_sync;
	pgr_progress_fn progress;
	void *pctx;
	struct pgr_dl_check *check; /* a download's digest check */
	int max_attempts;
};

static void sha256_hex(const void *data, size_t len, char hex[65])
{
	struct pgr_sha256 *h = pgr_sha256_new();
	pgr_sha256_update(h, data, len);
	pgr_sha256_final(h, hex);
}

/* Do one call; the URL used is returned (for messages) in *url_out. */
static bool s3_do(struct s3_store *s, struct s3_call *c, struct pgr_http_resp *resp, char **url_out,
                  struct pgr_error *err)
{
	char *url = s3_url(s, c->key, c->q, c->nq);
	const char *hdrs[16];
	size_t n = 0;
	char *sha_hdr = NULL, *tok_hdr = NULL;
	if (c->body_file) {
		/* Streamed: hashing a large file first would read it twice. */
		sha_hdr = xstrdup("x-amz-content-sha256: UNSIGNED-PAYLOAD");
	} else if (c->body && c->body_len) {
		char hex[65];
		sha256_hex(c->body, c->body_len, hex);
		sha_hdr = xasprintf("x-amz-content-sha256: %s", hex);
	} else {
		sha_hdr = xstrdup("x-amz-content-sha256: " EMPTY_SHA256);
	}
	hdrs[n++] = sha_hdr;
	if (s->session_token) {
		tok_hdr = xasprintf("x-amz-security-token: %s", s->session_token);
		hdrs[n++] = tok_hdr;
	}
	for (size_t i = 0; i < c->nextra && n < 15; i++)
		hdrs[n++] = c->extra[i];
	hdrs[n] = NULL;
	struct pgr_http_req req = {
	        .method = c->method,
	        .url = url,
	        .headers = hdrs,
	        .aws_sigv4 = s->sigv4,
	        .username = s->access_key,
	        .password = s->secret_key,
	        .body = c->body,
	        .body_len = c->body_len,
	        .body_file = c->body_file,
	        .body_offset = c->body_offset,
	        .body_file_len = c->body_file_len,
	        .out_file = c->out_file,
	        .no_sync = c->no_sync,
	        .progress = c->progress,
	        .pctx = c->pctx,
	        .max_attempts = c->max_attempts,
	        .ca_file = s->ca_file,
	        .connect_timeout_sec = s->timeout_sec,
	        .low_speed_sec = s->timeout_sec,
	        .verbose = pgr_log_level() >= PGR_LOG_DEBUG,
	};
	if (c->check)
		pgr_dl_check_attach(c->check, &req);
	bool ok = pgr_http_do(&req, resp, err);
	free(sha_hdr);
	free(tok_hdr);
	if (url_out)
		*url_out = url;
	else
		free(url);
	return ok;
}

/* ---------------------------------------------------------------- XML */

static bool name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (name_is(c, name))
			return c;
	return NULL;
}

/* Text of a child element, newly allocated, or NULL. */
static char *child_text(const xmlNode *n, const char *name)
{
	const xmlNode *c = child(n, name);
	if (!c)
		return NULL;
	xmlChar *t = xmlNodeGetContent(c);
	char *r = xstrdup(t ? (const char *)t : "");
	xmlFree(t);
	return r;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static xmlDoc *parse_xml(const struct strbuf *body)
{
	if (!body->len || body->len > (size_t)INT32_MAX)
		return NULL;
	/* Listings parse from several threads: libxml2 is set up once before. */
	pthread_once(&xml_once, xml_init);
	return xmlReadMemory(body->buf, (int)body->len, "s3.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The <Error> document of an answer: Code, Message, Region (any may be NULL). */
struct s3_err {
	char *code, *message, *region, *endpoint;
};

static void s3_err_parse(const struct pgr_http_resp *resp, struct s3_err *e)
{
	memset(e, 0, sizeof *e);
	xmlDoc *doc = parse_xml(&resp->body);
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root && name_is(root, "Error")) {
		e->code = child_text(root, "Code");
		e->message = child_text(root, "Message");
		e->region = child_text(root, "Region");
		e->endpoint = child_text(root, "Endpoint");
	}
	if (doc)
		xmlFreeDoc(doc);
	if (!e->region)
		e->region = pgr_http_header(resp, "x-amz-bucket-region");
}

static void s3_err_free(struct s3_err *e)
{
	free(e->code);
	free(e->message);
	free(e->region);
	free(e->endpoint);
}

static const char *status_text(long status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* A failed answer as an error: what was asked, the status, the service's own
 * code and message, and what a person can do about it. */
static bool s3_fail(struct pgr_store *st, const char *what, const char *method, const char *url,
                    const struct pgr_http_resp *resp, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	struct s3_err e;
	s3_err_parse(resp, &e);
	char *safe = pgr_http_redact_url(url);
	const char *code = e.code;
	/* HEAD answers have no body: name the likely code from the status. */
	if (!code && resp->status == 404 && !strcmp(method, "HEAD"))
		code = "NotFound";
	char attempts[48] = "";
	if (resp->attempts > 1)
		snprintf(attempts, sizeof attempts, " (after %d attempts)", resp->attempts);
	pgr_error_set(err, PGR_ERR_STORE, "%s: %s %s: HTTP %ld %s%s%s%s%s%s", what, method, safe, resp->status,
	              status_text(resp->status), code ? ": " : "", code ? code : "", e.message ? ": " : "",
	              e.message ? e.message : "", attempts);
	char *rid = pgr_http_header(resp, "x-amz-request-id");
	if (rid)
		pgr_error_detail(err, "request id %s", rid);
	free(rid);
	const char *c = code ? code : "";
	if (!strcmp(c, "SignatureDoesNotMatch") || !strcmp(c, "InvalidAccessKeyId") ||
	    !strcmp(c, "RequestTimeTooSkewed") || (resp->status == 403 && !e.code && !strcmp(method, "HEAD"))) {
		pgr_error_hint(err,
		               "The request was refused as not signed by a known key. Check the access key \"%s\" and "
		               "its secret (from %s), and this machine's clock: signatures more than 15 minutes "
		               "off are refused.",
		               s->access_key, s->cred_source);
	} else if (!strcmp(c, "NoSuchBucket")) {
		pgr_error_hint(err,
		               "Check the bucket name \"%s\" in the store URL, the endpoint %s and the region "
		               "\"%s\" (s3_region, AWS_REGION).",
		               s->bucket, s->endpoint, s->region);
	} else if (!strcmp(c, "AuthorizationHeaderMalformed") || !strcmp(c, "PermanentRedirect") ||
	           resp->status == 301) {
		if (e.region)
			pgr_error_hint(err, "The bucket \"%s\" lives in region \"%s\": set s3_region = %s.", s->bucket,
			               e.region, e.region);
		else
			pgr_error_hint(err,
			               "The bucket \"%s\" is served from another region or endpoint%s%s: set s3_region "
			               "(or s3_endpoint) accordingly.",
			               s->bucket, e.endpoint ? " " : "", e.endpoint ? e.endpoint : "");
	} else if (!strcmp(c, "AccessDenied") || resp->status == 403) {
		pgr_error_hint(err,
		               "The key \"%s\" (from %s) is valid but may not do this on bucket \"%s\": check its "
		               "policy (s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject, multipart "
		               "uploads)%s.",
		               s->access_key, s->cred_source, s->bucket,
		               s->sse ? ", and that it may use the configured server-side encryption" : "");
	} else if (!strcmp(c, "NotImplemented") && s->sse) {
		pgr_error_hint(err,
		               "This service may not support server-side encryption as asked (s3_sse = %s); remove "
		               "s3_sse, or enable encryption at rest on the service.",
		               s->sse);
	} else if (!strcmp(c, "InvalidStorageClass")) {
		pgr_error_hint(err, "s3_storage_class = %s is not accepted by this service.",
		               s->storage_class ? s->storage_class : "?");
	} else if (pgr_http_retryable(resp->status)) {
		pgr_error_hint(err,
		               "The service kept failing or throttling; try again later, or check its status page.");
	}
	s3_err_free(&e);
	free(safe);
	return false;
}

static bool is_2xx(long status)
{
	return status >= 200 && status < 300;
}

/* ---------------------------------------------------------------- keys */

static bool check_key(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	bool ok = key && *key && key[0] != '/' && strlen(key) < 900;
	for (const char *p = key; ok && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ok = false;
	if (ok)
		return true;
	pgr_error_set(err, PGR_ERR_USAGE, "invalid object key \"%s\" for store \"%s\"", key ? key : "(null)", st->url);
	pgr_error_hint(err, "Keys are relative names such as \"wal-archive/000000010000000000000001\".");
	return false;
}

static bool not_found(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not in the store %s", key, st->url);
	return false;
}

static time_t parse_iso8601(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec;
	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

/* ---------------------------------------------------------------- list */

static bool s3_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                         struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	*more = false;
	if (!prefix)
		prefix = "";
	if (!page_size)
		page_size = S3_MAX_KEYS;
	char *full_prefix = xasprintf("%s%s", s->prefix, prefix);
	char *start_after = after && *after ? xasprintf("%s%s", s->prefix, after) : NULL;
	size_t plen = strlen(s->prefix);
	char *token = NULL;
	size_t taken = 0;
	bool ok = true;
	while (ok) {
		size_t want = page_size - taken < S3_MAX_KEYS ? page_size - taken : S3_MAX_KEYS;
		char maxkeys[24];
		snprintf(maxkeys, sizeof maxkeys, "%zu", want);
		struct s3_call c = {.method = "GET"};
		c.q[c.nq++] = (struct qparam){"list-type", "2"};
		c.q[c.nq++] = (struct qparam){"max-keys", maxkeys};
		if (*full_prefix)
			c.q[c.nq++] = (struct qparam){"prefix", full_prefix};
		if (token)
			c.q[c.nq++] = (struct qparam){"continuation-token", token};
		else if (start_after)
			c.q[c.nq++] = (struct qparam){"start-after", start_after};
		struct pgr_http_resp resp;
		pgr_http_resp_init(&resp);
		char *url = NULL;
		ok = s3_do(s, &c, &resp, &url, err);
		if (ok && !is_2xx(resp.status)) {
			char *what = xasprintf("listing store \"%s\" under \"%s\"", st->url, prefix);
			ok = s3_fail(st, what, "GET", url, &resp, err);
			free(what);
		} else if (!ok) {
			pgr_error_prefix(err, "listing store \"%s\"", st->url);
		}
		free(url);
		xmlDoc *doc = ok ? parse_xml(&resp.body) : NULL;
		const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		if (ok && (!root || !name_is(root, "ListBucketResult"))) {
			ok = pgr_error_set(err, PGR_ERR_STORE,
			                   "listing store \"%s\": the answer is not a ListBucketResult document",
			                   st->url);
			pgr_error_detail(err, "%.200s", sb_str(&resp.body));
		}
		bool truncated = false;
		free(token);
		token = NULL;
		if (ok) {
			for (const xmlNode *n = root->children; n; n = n->next) {
				if (!name_is(n, "Contents"))
					continue;
				char *key = child_text(n, "Key");
				char *size = child_text(n, "Size");
				char *lm = child_text(n, "LastModified");
				if (key && !strncmp(key, s->prefix, plen) && key[plen]) {
					pgr_object_list_add(out, key + plen, size ? strtoull(size, NULL, 10) : 0,
					                    parse_iso8601(lm));
					taken++;
				}
				free(key);
				free(size);
				free(lm);
			}
			char *tr = child_text(root, "IsTruncated");
			truncated = tr && !strcmp(tr, "true");
			free(tr);
			token = truncated ? child_text(root, "NextContinuationToken") : NULL;
			if (truncated && (!token || !*token)) {
				ok = pgr_error_set(
				        err, PGR_ERR_STORE,
				        "listing store \"%s\": the service says more keys follow but gives no "
				        "continuation token (does it support ListObjectsV2?)",
				        st->url);
			}
		}
		if (doc)
			xmlFreeDoc(doc);
		pgr_http_resp_free(&resp);
		if (!ok || !truncated)
			break;
		if (taken >= page_size) {
			*more = true;
			break;
		}
	}
	free(token);
	free(full_prefix);
	free(start_after);
	return ok;
}

/* ---------------------------------------------------------------- stat, get */

static bool s3_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	if (out)
		out->key = NULL;
	if (!check_key(st, key, err))
		return false;
	struct s3_call c = {.method = "HEAD", .key = key};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *url = NULL;
	bool ok = s3_do(s, &c, &resp, &url, err);
	if (ok && resp.status == 404) {
		ok = not_found(st, key, err);
	} else if (ok && !is_2xx(resp.status)) {
		char *what = xasprintf("looking up \"%s\" in store \"%s\"", key, st->url);
		ok = s3_fail(st, what, "HEAD", url, &resp, err);
		free(what);
	} else if (ok && out) {
		char *cl = pgr_http_header(&resp, "Content-Length");
		char *lm = pgr_http_header(&resp, "Last-Modified");
		out->size = cl ? strtoull(cl, NULL, 10) : 0;
		out->mtime = lm ? curl_getdate(lm, NULL) : 0;
		if (out->mtime < 0)
			out->mtime = 0;
		free(cl);
		free(lm);
	}
	pgr_http_resp_free(&resp);
	free(url);
	return ok;
}

/* Whether an answer's ETag cannot be an MD5: objects encrypted with KMS or
 * a customer key (AES256, S3's own keys, keeps it one). */
static bool etag_opaque(const struct pgr_http_resp *resp)
{
	char *sse = pgr_http_header(resp, "x-amz-server-side-encryption");
	char *ssec = pgr_http_header(resp, "x-amz-server-side-encryption-customer-algorithm");
	bool opaque = (sse && strcasecmp(sse, "AES256") != 0) || ssec;
	free(sse);
	free(ssec);
	return opaque;
}

/* An ETag that is the MD5 of the content: 32 hex digits, quoted. */
static bool etag_md5(const char *etag, char hex[33])
{
	if (!etag)
		return false;
	const char *p = etag;
	if (*p == '"')
		p++;
	size_t n = strspn(p, "0123456789abcdefABCDEF");
	if (n != 32 || (p[n] != '"' && p[n] != '\0'))
		return false;
	for (size_t i = 0; i < 32; i++)
		hex[i] = (char)tolower((unsigned char)p[i]);
	hex[32] = '\0';
	return true;
}

/* What a download is checked against, chosen when the answer's headers are
 * in: the XXH128 pgrescue recorded in the object's metadata when it stored
 * it, else the SHA-256 it recorded (objects stored before the XXH128 was),
 * else an ETag that is the content's MD5 (single-part uploads without KMS:
 * objects the deployment's jobs wrote), else nothing (the caller's manifest
 * still is). Computed as the download streams. */
static void s3_dl_choose(const struct pgr_http_resp *resp, struct pgr_dl_want *want)
{
	char *xxh = pgr_http_header(resp, "x-amz-meta-" S3_META_XXH128);
	char *sha = pgr_http_header(resp, "x-amz-meta-" S3_META_SHA256);
	char *etag = pgr_http_header(resp, "ETag");
	char hex[33];
	if (pgr_is_xxh128_hex(xxh))
		pgr_dl_want_set(want, PGR_DL_XXH128, xxh, NULL, "metadata " S3_META_XXH128);
	else if (sha && pgr_is_sha256_hex(sha))
		pgr_dl_want_set(want, PGR_DL_SHA256, sha, NULL, "metadata " S3_META_SHA256);
	else if (!etag_opaque(resp) && etag_md5(etag, hex))
		pgr_dl_want_set(want, PGR_DL_MD5, hex, NULL, "ETag");
	free(xxh);
	free(sha);
	free(etag);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static bool s3_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
                   struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	if (!check_key(st, key, err))
		return false;
	char *dir = dir_of(local_path);
	if (!pgr_is_dir(dir)) {
		pgr_error_set(err, PGR_ERR_IO, "cannot download \"%s\" to \"%s\": directory \"%s\" does not exist", key,
		              local_path, dir);
		free(dir);
		return false;
	}
	free(dir);
	/* Lands beside the final name, checked, then renamed in. */
	char *tmp = xasprintf("%s.pgrescue-dl", local_path);
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_dl_check check;
	pgr_dl_check_init(&check, &resp, s3_dl_choose);
	struct s3_call c = {.method = "GET",
	                    .key = key,
	                    .out_file = tmp,
	                    .no_sync = st->opts.no_sync,
	                    .progress = progress,
	                    .pctx = pctx,
	                    .check = &check};
	char *url = NULL;
	bool ok = s3_do(s, &c, &resp, &url, err);
	if (!ok) {
		pgr_error_prefix(err, "downloading \"%s\" from store \"%s\"", key, st->url);
	} else if (resp.status == 404) {
		struct s3_err e;
		s3_err_parse(&resp, &e);
		if (e.code && strcmp(e.code, "NoSuchKey") != 0) {
			char *what = xasprintf("downloading \"%s\" from store \"%s\"", key, st->url);
			ok = s3_fail(st, what, "GET", url, &resp, err);
			free(what);
		} else {
			ok = not_found(st, key, err);
		}
		s3_err_free(&e);
	} else if (!is_2xx(resp.status)) {
		char *what = xasprintf("downloading \"%s\" from store \"%s\"", key, st->url);
		ok = s3_fail(st, what, "GET", url, &resp, err);
		free(what);
	}
	if (ok) {
		char *cl = pgr_http_header(&resp, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) != resp.bytes)
			ok = pgr_error_set(
			        err, PGR_ERR_STORE,
			        "downloading \"%s\" from store \"%s\": got %llu bytes, the service announced %s", key,
			        st->url, (unsigned long long)resp.bytes, cl);
		free(cl);
	}
	if (ok) {
		char *what = xasprintf("downloading \"%s\" from store \"%s\"", key, st->url);
		ok = pgr_dl_check_end(&check, what, err);
		free(what);
	}
	if (ok && rename(tmp, local_path) < 0)
		ok = pgr_error_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, local_path);
	if (ok && !st->opts.no_sync)
		ok = pgr_fsync_parent(local_path, err);
	if (!ok)
		unlink(tmp);
	pgr_dl_check_free(&check);
	pgr_http_resp_free(&resp);
	free(url);
	free(tmp);
	return ok;
}

static bool s3_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	*got = 0;
	if (!check_key(st, key, err))
		return false;
	if (n == 0)
		return true;
	char range[64];
	snprintf(range, sizeof range, "Range: bytes=0-%zu", n - 1);
	struct s3_call c = {.method = "GET", .key = key};
	c.extra[c.nextra++] = range;
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *url = NULL;
	bool ok = s3_do(s, &c, &resp, &url, err);
	if (!ok) {
		pgr_error_prefix(err, "reading \"%s\" in store \"%s\"", key, st->url);
	} else if (resp.status == 404) {
		ok = not_found(st, key, err);
	} else if (resp.status == 416) {
		*got = 0; /* an empty object */
	} else if (!is_2xx(resp.status)) {
		char *what = xasprintf("reading \"%s\" in store \"%s\"", key, st->url);
		ok = s3_fail(st, what, "GET", url, &resp, err);
		free(what);
	} else {
		size_t have = resp.body.len < n ? resp.body.len : n;
		memcpy(buf, resp.body.buf, have);
		*got = have;
	}
	pgr_http_resp_free(&resp);
	free(url);
	return ok;
}

/* ---------------------------------------------------------------- put */

struct upload_headers {
	char *sse, *sc, *sha, *xxh;
	const char *list[6];
	size_t n;
};

/* The headers that go with a new object: encryption, storage class, and the
 * SHA-256 of the whole content, which downloads are checked against. */
static void upload_headers(struct s3_store *s, struct upload_headers *h, const char *sha, const char *xxh)
{
	memset(h, 0, sizeof *h);
	h->sha = xasprintf("x-amz-meta-" S3_META_SHA256 ": %s", sha);
	h->list[h->n++] = h->sha;
	h->xxh = xasprintf("x-amz-meta-" S3_META_XXH128 ": %s", xxh);
	h->list[h->n++] = h->xxh;
	if (s->sse) {
		h->sse = xasprintf("x-amz-server-side-encryption: %s", s->sse);
		h->list[h->n++] = h->sse;
	}
	if (s->storage_class) {
		h->sc = xasprintf("x-amz-storage-class: %s", s->storage_class);
		h->list[h->n++] = h->sc;
	}
	h->list[h->n++] = "Content-Type: application/octet-stream";
}

static void upload_headers_free(struct upload_headers *h)
{
	free(h->sse);
	free(h->sc);
	free(h->sha);
	free(h->xxh);
}

/* Progress over a whole multipart upload from each part's own. */
struct part_progress {
	pgr_progress_fn fn;
	void *ctx;
	uint64_t base, total;
};

static bool part_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct part_progress *p = ctx;
	(void)total;
	return p->fn ? p->fn(p->ctx, p->base + done, p->total) : true;
}

static bool put_single(struct pgr_store *st, const char *key, const char *local, uint64_t size,
                       pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	unsigned char raw[16];
	char hex[33], b64[25], sha[65], xxh[33];
	struct pgr_obj_digest *h = pgr_obj_digest_new();
	bool read_ok = pgr_digest_file(local, 0, size, raw, h, err);
	pgr_obj_digest_final(h, sha, xxh);
	if (!read_ok)
		return false;
	pgr_md5_hex(raw, hex);
	pgr_md5_b64(raw, b64);
	char *md5h = xasprintf("Content-MD5: %s", b64);
	struct upload_headers uh;
	upload_headers(s, &uh, sha, xxh);
	struct s3_call c = {.method = "PUT",
	                    .key = key,
	                    .body_file = local,
	                    .body_offset = 0,
	                    .body_file_len = size,
	                    .progress = progress,
	                    .pctx = pctx};
	if (size == 0) {
		c.body_file = NULL; /* an empty body, signed as such */
	}
	for (size_t i = 0; i < uh.n; i++)
		c.extra[c.nextra++] = uh.list[i];
	c.extra[c.nextra++] = md5h;
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *url = NULL;
	bool ok = s3_do(s, &c, &resp, &url, err);
	if (!ok) {
		pgr_error_prefix(err, "storing \"%s\" in store \"%s\"", key, st->url);
	} else if (!is_2xx(resp.status)) {
		char *what = xasprintf("storing \"%s\" in store \"%s\"", key, st->url);
		ok = s3_fail(st, what, "PUT", url, &resp, err);
		free(what);
	} else {
		char *etag = pgr_http_header(&resp, "ETag");
		char got[33];
		if (!etag_opaque(&resp) && etag_md5(etag, got) && strcmp(got, hex) != 0)
			ok = pgr_error_set(err, PGR_ERR_STORE,
			                   "storing \"%s\" in store \"%s\": the service's ETag %s is not the MD5 %s of "
			                   "what was sent",
			                   key, st->url, got, hex);
		free(etag);
	}
	pgr_http_resp_free(&resp);
	free(url);
	free(md5h);
	upload_headers_free(&uh);
	return ok;
}

static void abort_multipart(struct pgr_store *st, const char *key, const char *upload_id)
{
	struct s3_call c = {.method = "DELETE", .key = key, .max_attempts = 3};
	c.q[c.nq++] = (struct qparam){"uploadId", upload_id};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	struct pgr_error ignored = {0};
	if (!s3_do(s3_of(st), &c, &resp, NULL, &ignored) || !is_2xx(resp.status))
		pgr_warn("could not abort the unfinished multipart upload of \"%s\" in store %s (upload id %s); a "
		         "lifecycle rule for incomplete multipart uploads will clean it up",
		         key, st->url, upload_id);
	pgr_http_resp_free(&resp);
}

static bool put_multipart(struct pgr_store *st, const char *key, const char *local, uint64_t size,
                          pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	struct s3_store *s = s3_of(st);
	uint64_t part = PART_SIZE_MIN;
	while ((size + part - 1) / part > MAX_PARTS && part < ((uint64_t)5 << 30))
		part *= 2;
	if (part < PART_SIZE_MAX && size / part > 64)
		part = PART_SIZE_MAX; /* fewer, larger parts for big files */
	uint64_t nparts = (size + part - 1) / part;
	char *what = xasprintf("storing \"%s\" in store \"%s\"", key, st->url);

	/* 0. one read for each part's MD5 (the service checks it) and the whole
	 * file's SHA-256, which goes in the metadata given at the start */
	unsigned char(*md5s)[16] = xcalloc(nparts, sizeof *md5s);
	struct pgr_obj_digest *h = pgr_obj_digest_new();
	bool read_ok = true;
	for (uint64_t i = 0; read_ok && i < nparts; i++) {
		uint64_t off = i * part;
		read_ok = pgr_digest_file(local, off, size - off < part ? size - off : part, md5s[i], h, err);
	}
	char sha[65], xxh[33];
	pgr_obj_digest_final(h, sha, xxh);
	if (!read_ok) {
		free(md5s);
		free(what);
		return false;
	}

	/* 1. start */
	struct upload_headers uh;
	upload_headers(s, &uh, sha, xxh);
	struct s3_call c = {.method = "POST", .key = key};
	c.q[c.nq++] = (struct qparam){"uploads", ""};
	for (size_t i = 0; i < uh.n; i++)
		c.extra[c.nextra++] = uh.list[i];
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *url = NULL;
	char *upload_id = NULL;
	bool ok = s3_do(s, &c, &resp, &url, err);
	if (!ok) {
		pgr_error_prefix(err, "%s", what);
	} else if (!is_2xx(resp.status)) {
		ok = s3_fail(st, what, "POST", url, &resp, err);
	} else {
		xmlDoc *doc = parse_xml(&resp.body);
		const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
		upload_id = root ? child_text(root, "UploadId") : NULL;
		if (doc)
			xmlFreeDoc(doc);
		if (!upload_id || !*upload_id)
			ok = pgr_error_set(err, PGR_ERR_STORE,
			                   "%s: the service started no multipart upload (no UploadId)", what);
	}
	free(url);
	url = NULL;
	upload_headers_free(&uh);

	/* 2. parts, each with its MD5 checked by the service */
	struct strbuf done = STRBUF_INIT;
	sb_append(&done, "<CompleteMultipartUpload>");
	for (uint64_t i = 0; ok && i < nparts; i++) {
		uint64_t off = i * part;
		uint64_t len = size - off < part ? size - off : part;
		char hex[33], b64[25];
		pgr_md5_hex(md5s[i], hex);
		pgr_md5_b64(md5s[i], b64);
		char num[24];
		snprintf(num, sizeof num, "%llu", (unsigned long long)(i + 1));
		char *md5h = xasprintf("Content-MD5: %s", b64);
		struct part_progress pp = {progress, pctx, off, size};
		struct s3_call pc = {.method = "PUT",
		                     .key = key,
		                     .body_file = local,
		                     .body_offset = off,
		                     .body_file_len = len,
		                     .progress = part_progress_cb,
		                     .pctx = &pp};
		pc.q[pc.nq++] = (struct qparam){"partNumber", num};
		pc.q[pc.nq++] = (struct qparam){"uploadId", upload_id};
		pc.extra[pc.nextra++] = md5h;
		pgr_http_resp_free(&resp);
		pgr_http_resp_init(&resp);
		ok = s3_do(s, &pc, &resp, &url, err);
		if (!ok) {
			pgr_error_prefix(err, "%s (part %s of %llu)", what, num, (unsigned long long)nparts);
		} else if (!is_2xx(resp.status)) {
			ok = s3_fail(st, what, "PUT", url, &resp, err);
		} else {
			char *etag = pgr_http_header(&resp, "ETag");
			char got[33];
			if (!etag)
				ok = pgr_error_set(err, PGR_ERR_STORE, "%s: part %s came back without an ETag", what,
				                   num);
			else if (!etag_opaque(&resp) && etag_md5(etag, got) && strcmp(got, hex) != 0)
				ok = pgr_error_set(err, PGR_ERR_STORE, "%s: part %s's ETag %s is not the MD5 %s sent",
				                   what, num, got, hex);
			if (ok)
				sb_printf(&done, "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", num, etag);
			free(etag);
		}
		free(md5h);
		free(url);
		url = NULL;
	}
	sb_append(&done, "</CompleteMultipartUpload>");

	/* 3. complete: only now does the object appear under its key */
	if (ok) {
		struct s3_call cc = {.method = "POST", .key = key, .body = done.buf, .body_len = done.len};
		cc.q[cc.nq++] = (struct qparam){"uploadId", upload_id};
		cc.extra[cc.nextra++] = "Content-Type: application/xml";
		pgr_http_resp_free(&resp);
		pgr_http_resp_init(&resp);
		ok = s3_do(s, &cc, &resp, &url, err);
		if (!ok) {
			pgr_error_prefix(err, "%s (completing the upload)", what);
		} else if (!is_2xx(resp.status)) {
			ok = s3_fail(st, what, "POST", url, &resp, err);
		} else {
			/* A 200 whose body is an <Error>: the service failed late. */
			xmlDoc *doc = parse_xml(&resp.body);
			const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
			if (root && name_is(root, "Error")) {
				resp.status = 500;
				ok = s3_fail(st, what, "POST", url, &resp, err);
			}
			if (doc)
				xmlFreeDoc(doc);
		}
		free(url);
		url = NULL;
	}
	if (!ok && upload_id)
		abort_multipart(st, key, upload_id);
	sb_free(&done);
	pgr_http_resp_free(&resp);
	free(upload_id);
	free(md5s);
	free(what);
	return ok;
}

static bool s3_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                   pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	if (!check_key(st, key, err))
		return false;
	struct stat sb;
	if (stat(local_path, &sb) < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot read \"%s\" to store it as \"%s\"", local_path, key);
		if (e == ENOENT)
			err->kind = PGR_ERR_NOTFOUND;
		return false;
	}
	if (!S_ISREG(sb.st_mode))
		return pgr_error_set(err, PGR_ERR_IO, "\"%s\" is not a regular file; cannot store it as \"%s\"",
		                     local_path, key);
	uint64_t size = (uint64_t)sb.st_size;
	bool ok = size > MULTIPART_THRESHOLD ? put_multipart(st, key, local_path, size, progress, pctx, err)
	                                     : put_single(st, key, local_path, size, progress, pctx, err);
	if (!ok)
		return false;
	/* The size check: what the service holds is what the file held. */
	struct pgr_object o;
	if (!s3_stat(st, key, &o, err)) {
		pgr_error_prefix(err, "checking \"%s\" after storing it", key);
		return false;
	}
	struct stat now;
	if (stat(local_path, &now) == 0 && (uint64_t)now.st_size != size)
		return pgr_error_set(err, PGR_ERR_STORE, "\"%s\" changed size while it was being stored as \"%s\"",
		                     local_path, key);
	if (o.size != size)
		return pgr_error_set(err, PGR_ERR_STORE,
		                     "\"%s\" has %llu bytes in store %s after storing, expected %llu", key,
		                     (unsigned long long)o.size, st->url, (unsigned long long)size);
	if (progress && size == 0)
		progress(pctx, 0, 0);
	if (consume)
		unlink(local_path);
	return true;
}

static bool s3_del(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	if (!check_key(st, key, err))
		return false;
	struct s3_call c = {.method = "DELETE", .key = key};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *url = NULL;
	bool ok = s3_do(s3_of(st), &c, &resp, &url, err);
	if (!ok) {
		pgr_error_prefix(err, "deleting \"%s\" from store \"%s\"", key, st->url);
	} else if (!is_2xx(resp.status) && (resp.status != 404 || strstr(sb_str(&resp.body), "NoSuchBucket"))) {
		/* Deleting what is already gone succeeds: an interrupted retention
		 * run can simply run again. */
		char *what = xasprintf("deleting \"%s\" from store \"%s\"", key, st->url);
		ok = s3_fail(st, what, "DELETE", url, &resp, err);
		free(what);
	}
	pgr_http_resp_free(&resp);
	free(url);
	return ok;
}

const struct pgr_store_ops pgr_store_s3_ops = {
        .scheme = "s3",
        .open = s3_open,
        .close = s3_close,
        .list_page = s3_list_page,
        .stat = s3_stat,
        .get = s3_get,
        .get_head = s3_get_head,
        .put = s3_put,
        .del = s3_del,
        .list_workers = S3_LIST_WORKERS,
        .list_page_keys = S3_MAX_KEYS,
};

const struct pgr_store_ops pgr_store_gs_ops = {
        .scheme = "gs",
        .open = s3_open,
        .close = s3_close,
        .list_page = s3_list_page,
        .stat = s3_stat,
        .get = s3_get,
        .get_head = s3_get_head,
        .put = s3_put,
        .del = s3_del,
        .list_workers = S3_LIST_WORKERS,
        .list_page_keys = S3_MAX_KEYS,
};
