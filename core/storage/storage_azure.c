/* The az:// backend: Azure Blob Storage (and azurite) over the shared HTTP
 * layer. az://ACCOUNT/CONTAINER/PREFIX; credentials and the blob endpoint
 * come from the conventional environment variables (a connection string, or
 * account + key or SAS token), the store's azure_endpoint option overriding
 * the endpoint. Requests are signed with Shared Key (HMAC-SHA256 of the
 * canonical request, OpenSSL) or carry a SAS token in their query string.
 *
 * Atomicity: a small file is one Put Blob, which the service makes visible
 * only when the whole body has arrived; a large one is staged as uncommitted
 * blocks (invisible) and appears at once with Put Block List. Downloads land
 * in a temp name beside the target and are renamed in only when complete and
 * their MD5 (when the service keeps one) matches.
 *
 * Secrets (the account key, the SAS token) live only in this file's state:
 * error messages name URLs without their query string. */
#include "config.h"

#include "storage/digest.h"
#include "storage/http.h"
#include "storage/storage.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#define AZ_API_VERSION "2021-08-06"
#define AZ_DEFAULT_SUFFIX "core.windows.net"
/* The storage emulator's documented, public development account. */
#define AZ_DEV_ACCOUNT "devstoreaccount1"
#define AZ_DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define AZ_DEV_ENDPOINT "http://127.0.0.1:10000/" AZ_DEV_ACCOUNT
#define AZ_LIST_MAX 5000 /* the service's own cap on a List Blobs page */
#define AZ_BLOCK_SIZE ((size_t)16 << 20)
#define AZ_MAX_BLOCKS 50000
#define AZ_MAX_BLOCK_SIZE ((size_t)4000 << 20)
#define AZ_MIN_TEST_BLOCK ((size_t)64 << 10)
/* Blob metadata naming the SHA-256 (hex) of what pgrescue stored; checked on
 * download. Metadata names must be C# identifiers, hence the underscore. */
#define AZ_META_SHA256 "pgrescue_sha256"
#define AZ_META_XXH128 "pgrescue_xxh128"
#define AZ_MAX_HEADERS 16
#define AZ_MAX_QUERY 8

struct az_store {
	char *account;
	char *container;
	char *prefix; /* "" or ending in '/' */
	char *endpoint; /* scheme://host[:port][/path], no trailing '/' */
	char *endpoint_path; /* the endpoint's path ("" or "/devstoreaccount1") */
	unsigned char key[128]; /* decoded account key */
	size_t keylen;
	char *sas; /* SAS token without a leading '?' */
	const char *cred_source; /* where the credentials came from, for hints */
	size_t block_size; /* upload block size; also the largest single Put Blob */
	size_t list_max; /* maxresults cap */
	/* The marker after the last page listed, so the next page (which the
	 * caller asks for by its last key) continues without rescanning. */
	char *list_prefix;
	char *list_last;
	char *list_marker;
};

/* One request before signing: raw (unencoded) query parameters and headers. */
struct az_call {
	const char *method;
	const char *blob; /* full blob name (with the store's prefix), NULL for container calls */
	const char *qname[AZ_MAX_QUERY];
	const char *qval[AZ_MAX_QUERY];
	size_t nq;
	const char *hname[AZ_MAX_HEADERS];
	const char *hval[AZ_MAX_HEADERS];
	size_t nh;
	uint64_t content_length; /* signed as "" when 0 */
	const char *content_type;
	const char *content_md5;
};

/* ------------------------------------------------------------ test seams */

/* Not static so that tests/unit/test_azure.c can check them on recorded
 * inputs; nothing else calls them. */
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

/* ------------------------------------------------------------ small helpers */

static struct az_store *az_of(struct pgr_store *st)
{
	return st->backend;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static char *b64_encode(const unsigned char *data, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/* Standard base64 (with padding) into out; false when s is not base64. */
static bool b64_decode(const char *s, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(s);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(isalnum((unsigned char)c) || c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return false;
	}
	int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0)
		return false;
	size_t pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	*outlen = (size_t)r - pad;
	return true;
}

static char *md5_b64(const void *data, size_t n)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_Digest(data, n, d, &dl, EVP_md5(), NULL);
	return b64_encode(d, dl);
}

static const char *const wdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* "Tue, 24 Nov 2026 05:45:01 GMT", independent of the locale. */
void pgr_az_rfc1123(time_t t, char buf[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday % 7], tm.tm_mday,
	         months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool pgr_az_parse_rfc1123(const char *s, time_t *out)
{
	char wd[4], mon[4];
	int day, year, h, m, sec;
	if (!s || sscanf(s, "%3s %d %3s %d %d:%d:%d", wd, &day, mon, &year, &h, &m, &sec) != 7) {
		/* "Tue, 24 ..." has the comma glued to the weekday. */
		if (!s || sscanf(s, "%3s, %d %3s %d %d:%d:%d", wd, &day, mon, &year, &h, &m, &sec) != 7)
			return false;
	}
	int mi = -1;
	for (int i = 0; i < 12; i++)
		if (!strcasecmp(mon, months[i]))
			mi = i;
	if (mi < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || m > 59 || sec > 60)
		return false;
	struct tm tm = {0};
	tm.tm_mday = day;
	tm.tm_mon = mi;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return true;
}

static char *lowercase(const char *s)
{
	char *r = xstrdup(s);
	for (char *p = r; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static char *trim_dup(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return xstrndup(s, n);
}

/* ------------------------------------------------------------ signing */

struct kv {
	char *k;
	const char *v;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/* The Shared Key string to sign (service version 2015-02-21 and later):
 * the verb, eleven standard headers (Content-Length empty when zero), the
 * x-ms-* headers lowercased and sorted, then "/account/path" and each query
 * parameter lowercased and sorted as "\nname:value" (values unencoded). */
char *pgr_az_string_to_sign(const char *method, uint64_t content_length, const char *content_md5,
                            const char *content_type, const char *const *hnames, const char *const *hvals, size_t nh,
                            const char *account, const char *path, const char *const *qnames, const char *const *qvals,
                            size_t nq)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "%s\n", method);
	sb_append(&sb, "\n\n"); /* Content-Encoding, Content-Language */
	if (content_length)
		sb_printf(&sb, "%llu", (unsigned long long)content_length);
	sb_printf(&sb, "\n%s\n%s\n", content_md5 ? content_md5 : "", content_type ? content_type : "");
	/* Date (x-ms-date is used instead), If-Modified-Since, If-Match,
	 * If-None-Match, If-Unmodified-Since, Range (x-ms-range instead). */
	sb_append(&sb, "\n\n\n\n\n\n");

	struct kv *h = xcalloc(nh ? nh : 1, sizeof *h);
	size_t n = 0;
	for (size_t i = 0; i < nh; i++) {
		char *lk = lowercase(hnames[i]);
		if (strncmp(lk, "x-ms-", 5) != 0) {
			free(lk);
			continue;
		}
		h[n].k = lk;
		h[n].v = hvals[i];
		n++;
	}
	qsort(h, n, sizeof *h, kv_cmp);
	for (size_t i = 0; i < n; i++) {
		char *v = trim_dup(h[i].v);
		sb_printf(&sb, "%s:%s\n", h[i].k, v);
		free(v);
		free(h[i].k);
	}
	free(h);

	sb_printf(&sb, "/%s%s", account, path && *path ? path : "/");
	struct kv *q = xcalloc(nq ? nq : 1, sizeof *q);
	for (size_t i = 0; i < nq; i++) {
		q[i].k = lowercase(qnames[i]);
		q[i].v = qvals[i];
	}
	qsort(q, nq, sizeof *q, kv_cmp);
	for (size_t i = 0; i < nq; i++) {
		sb_printf(&sb, "\n%s:%s", q[i].k, q[i].v);
		free(q[i].k);
	}
	free(q);
	return sb_steal(&sb);
}

/* base64(HMAC-SHA256(key, string_to_sign)). */
char *pgr_az_sign(const unsigned char *key, size_t keylen, const char *string_to_sign)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)string_to_sign, strlen(string_to_sign), mac,
	          &maclen))
		return NULL;
	char *r = b64_encode(mac, maclen);
	OPENSSL_cleanse(mac, sizeof mac);
	return r;
}

/* ------------------------------------------------------------ XML */

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

static char *text_of(xmlNode *n)
{
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	if (!t)
		return NULL;
	char *r = xstrdup((const char *)t);
	xmlFree(t);
	return r;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static xmlDoc *parse_xml(const char *xml, size_t len)
{
	if (!xml || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	/* libxml2 must be initialised once before threads use it. */
	pthread_once(&xml_once, xml_init);
	return xmlReadMemory(xml, (int)len, "azure.xml", NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* One List Blobs answer: every Blob's name (with strip_prefix removed),
 * Content-Length and Last-Modified, and the NextMarker (NULL when last). */
bool pgr_az_parse_list(const char *xml, size_t len, const char *strip_prefix, struct pgr_object_list *out,
                       char **next_marker, struct pgr_error *err)
{
	*next_marker = NULL;
	xmlDoc *doc = parse_xml(xml, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "EnumerationResults") != 0) {
		if (doc)
			xmlFreeDoc(doc);
		return pgr_error_set(err, PGR_ERR_STORE, "the List Blobs answer is not an EnumerationResults document");
	}
	size_t plen = strip_prefix ? strlen(strip_prefix) : 0;
	xmlNode *blobs = child(root, "Blobs");
	for (xmlNode *b = blobs ? blobs->children : NULL; b; b = b->next) {
		if (b->type != XML_ELEMENT_NODE || strcmp((const char *)b->name, "Blob") != 0)
			continue;
		xmlNode *name_node = child(b, "Name");
		char *name = text_of(name_node);
		if (!name)
			continue;
		xmlChar *enc = name_node ? xmlGetProp(name_node, (const xmlChar *)"Encoded") : NULL;
		bool encoded = enc && !strcmp((const char *)enc, "true");
		if (enc)
			xmlFree(enc);
		/* Names with characters XML cannot carry come percent-encoded; ours never do. */
		if (encoded || strncmp(name, strip_prefix ? strip_prefix : "", plen) != 0 || !name[plen]) {
			free(name);
			continue;
		}
		xmlNode *props = child(b, "Properties");
		char *cl = text_of(child(props, "Content-Length"));
		char *lm = text_of(child(props, "Last-Modified"));
		uint64_t size = cl ? strtoull(cl, NULL, 10) : 0;
		time_t mtime = 0;
		if (lm)
			pgr_az_parse_rfc1123(lm, &mtime);
		pgr_object_list_add(out, name + plen, size, mtime);
		free(cl);
		free(lm);
		free(name);
	}
	char *nm = text_of(child(root, "NextMarker"));
	if (nm && *nm)
		*next_marker = nm;
	else
		free(nm);
	xmlFreeDoc(doc);
	return true;
}

/* <Error><Code>..</Code><Message>..</Message></Error>; the message's first line. */
bool pgr_az_parse_error(const char *xml, size_t len, char **code, char **message)
{
	*code = *message = NULL;
	xmlDoc *doc = parse_xml(xml, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || strcmp((const char *)root->name, "Error") != 0) {
		if (doc)
			xmlFreeDoc(doc);
		return false;
	}
	*code = text_of(child(root, "Code"));
	char *m = text_of(child(root, "Message"));
	if (m) {
		m[strcspn(m, "\r\n")] = '\0';
		*message = m;
	}
	xmlFreeDoc(doc);
	return *code || *message;
}

/* ------------------------------------------------------------ credentials */

/* AZURE_STORAGE_CONNECTION_STRING: "Key=Value;..." (values may hold '='). */
bool pgr_az_parse_conn_string(const char *cs, char **account, char **key, char **sas, char **endpoint,
                              struct pgr_error *err)
{
	*account = *key = *sas = *endpoint = NULL;
	char *proto = NULL, *suffix = NULL;
	bool dev = false;
	char *copy = xstrdup(cs);
	char *save = NULL;
	for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(part, '=');
		char *name = trim_dup(part);
		if (!eq) {
			bool blank = !*name;
			free(name);
			if (blank)
				continue;
			free(proto);
			free(suffix);
			free(*account);
			free_secret(*key);
			free_secret(*sas);
			free(*endpoint);
			*account = *key = *sas = *endpoint = NULL;
			OPENSSL_cleanse(copy, strlen(copy));
			free(copy);
			pgr_error_set(
			        err, PGR_ERR_CONFIG,
			        "AZURE_STORAGE_CONNECTION_STRING has a part without '=' (expected Name=Value;...)");
			pgr_error_hint(err,
			               "Copy the connection string again from the storage account's \"Access keys\" "
			               "page (or use AccountName=...;AccountKey=...;BlobEndpoint=...).");
			return false;
		}
		name[strcspn(name, "=")] = '\0';
		char *val = trim_dup(eq + 1);
		char **dst = NULL;
		if (!strcasecmp(name, "AccountName"))
			dst = account;
		else if (!strcasecmp(name, "AccountKey"))
			dst = key;
		else if (!strcasecmp(name, "SharedAccessSignature"))
			dst = sas;
		else if (!strcasecmp(name, "BlobEndpoint"))
			dst = endpoint;
		else if (!strcasecmp(name, "DefaultEndpointsProtocol"))
			dst = &proto;
		else if (!strcasecmp(name, "EndpointSuffix"))
			dst = &suffix;
		else if (!strcasecmp(name, "UseDevelopmentStorage"))
			dev = !strcasecmp(val, "true");
		if (dst) {
			if (dst == key || dst == sas)
				free_secret(*dst);
			else
				free(*dst);
			*dst = val;
		} else {
			free_secret(val);
		}
		free(name);
	}
	OPENSSL_cleanse(copy, strlen(copy));
	free(copy);
	if (dev) {
		if (!*account)
			*account = xstrdup(AZ_DEV_ACCOUNT);
		if (!*key && !*sas)
			*key = xstrdup(AZ_DEV_KEY);
		if (!*endpoint)
			*endpoint = xstrdup(AZ_DEV_ENDPOINT);
	}
	if (!*endpoint && *account)
		*endpoint = xasprintf("%s://%s.blob.%s", proto ? proto : "https", *account,
		                      suffix ? suffix : AZ_DEFAULT_SUFFIX);
	free(proto);
	free(suffix);
	return true;
}

/* ------------------------------------------------------------ open/close */

static void az_free(struct az_store *az)
{
	if (!az)
		return;
	free(az->account);
	free(az->container);
	free(az->prefix);
	free(az->endpoint);
	free(az->endpoint_path);
	OPENSSL_cleanse(az->key, sizeof az->key);
	free_secret(az->sas);
	free(az->list_prefix);
	free(az->list_last);
	free(az->list_marker);
	free(az);
}

static bool name_ok(const char *s, bool container)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || (container && c == '-')))
			return false;
	}
	return true;
}

static bool bad_url(const char *url, const char *why, struct pgr_error *err)
{
	pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": %s", url, why);
	pgr_error_hint(err,
	               "An Azure store is written az://ACCOUNT/CONTAINER[/PREFIX], for example "
	               "az://clipperbackups/postgres or az://devstoreaccount1/backups/prod (azurite).");
	return false;
}

static bool env_int(const char *name, size_t min, size_t max, size_t *out)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return false;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (*end || n < min || n > max)
		return false;
	*out = (size_t)n;
	return true;
}

/* The connection string in store_credentials_file: its first line that is
 * neither blank nor a comment; an AZURE_STORAGE_CONNECTION_STRING= prefix and
 * quotes are allowed, so one file can also serve as a systemd EnvironmentFile. */
static bool az_credentials_file(struct pgr_store *st, char **cs, struct pgr_error *err)
{
	*cs = NULL;
	char *text = NULL;
	if (!pgr_store_credentials_read(st->opts.credentials_file, &text, err)) {
		pgr_error_prefix(err, "store \"%s\"", st->url);
		return false;
	}
	size_t len = strlen(text); /* the loop below cuts lines: wipe all of it after */
	for (char *line = text; line && *line;) {
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n && line[0] != '#' && line[0] != ';') {
			static const char prefix[] = "AZURE_STORAGE_CONNECTION_STRING=";
			if (!strncmp(line, "export ", 7))
				line += 7;
			if (!strncmp(line, prefix, sizeof prefix - 1))
				line += sizeof prefix - 1;
			n = strlen(line);
			if (n >= 2 && (line[0] == '"' || line[0] == '\'') && line[n - 1] == line[0]) {
				line[n - 1] = '\0';
				line++;
			}
			*cs = xstrdup(line);
			break;
		}
		line = eol ? eol + 1 : NULL;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (*cs && **cs)
		return true;
	free(*cs);
	*cs = NULL;
	pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": the credentials file %s holds no connection string", st->url,
	              st->opts.credentials_file);
	pgr_error_hint(err,
	               "Put the storage account's connection string in it, on one line: "
	               "AccountName=...;AccountKey=...[;BlobEndpoint=...].");
	return false;
}

static bool az_open(struct pgr_store *st, const char *url, struct pgr_error *err)
{
	const char *rest = url + strlen("az://");
	const char *slash = strchr(rest, '/');
	if (!slash || slash == rest)
		return bad_url(url, "no account and container in the URL", err);
	char *account = xstrndup(rest, (size_t)(slash - rest));
	const char *cont = slash + 1;
	const char *slash2 = strchr(cont, '/');
	char *container = slash2 ? xstrndup(cont, (size_t)(slash2 - cont)) : xstrdup(cont);
	const char *pfx = slash2 ? slash2 + 1 : "";
	struct az_store *az = xcalloc(1, sizeof *az);
	st->backend = az;
	az->account = account;
	az->container = container;
	size_t pl = strlen(pfx);
	while (pl && pfx[pl - 1] == '/')
		pl--;
	az->prefix = pl ? xasprintf("%.*s/", (int)pl, pfx) : xstrdup("");
	if (!name_ok(account, false) || strlen(account) < 3 || strlen(account) > 24)
		goto fail_url_account;
	if (!name_ok(container, true) || strlen(container) < 3 || strlen(container) > 63 || container[0] == '-')
		goto fail_url_container;
	if (strstr(az->prefix, "//") || az->prefix[0] == '/')
		goto fail_url_prefix;

	/* Credentials: the connection string first, then account + key / SAS. */
	char *cs_account = NULL, *cs_key = NULL, *cs_sas = NULL, *cs_endpoint = NULL;
	const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
	if (st->opts.credentials_file) {
		/* store_credentials_file, which the server's archive_command and
		 * restore_command read too: it wins over the variables. */
		char *file_cs = NULL;
		if (!az_credentials_file(st, &file_cs, err))
			goto fail;
		bool parsed = pgr_az_parse_conn_string(file_cs, &cs_account, &cs_key, &cs_sas, &cs_endpoint, err);
		free_secret(file_cs);
		if (!parsed) {
			pgr_error_prefix(err, "%s", st->opts.credentials_file);
			goto fail;
		}
		az->cred_source = st->opts.credentials_file;
	} else if (cs && *cs) {
		if (!pgr_az_parse_conn_string(cs, &cs_account, &cs_key, &cs_sas, &cs_endpoint, err))
			goto fail;
		az->cred_source = "AZURE_STORAGE_CONNECTION_STRING";
	} else {
		const char *ea = getenv("AZURE_STORAGE_ACCOUNT");
		const char *ek = getenv("AZURE_STORAGE_KEY");
		const char *es = getenv("AZURE_STORAGE_SAS_TOKEN");
		cs_account = ea && *ea ? xstrdup(ea) : NULL;
		cs_key = ek && *ek ? xstrdup(ek) : NULL;
		cs_sas = es && *es ? xstrdup(es) : NULL;
		az->cred_source = cs_key ? "AZURE_STORAGE_KEY" : "AZURE_STORAGE_SAS_TOKEN";
		if (cs_account)
			cs_endpoint = xasprintf("https://%s.blob." AZ_DEFAULT_SUFFIX, cs_account);
	}
	bool ok = true;
	if (cs_account && strcmp(cs_account, account) != 0) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store \"%s\" is in the storage account \"%s\", but the credentials are for \"%s\"", url,
		              account, cs_account);
		pgr_error_hint(err,
		               "Use the connection string (or AZURE_STORAGE_ACCOUNT and key) of account \"%s\", "
		               "or correct the account in the store URL.",
		               account);
		ok = false;
	} else if (!cs_key && !cs_sas && st->opts.credentials_file) {
		pgr_error_set(err, PGR_ERR_CONFIG,
		              "store \"%s\": the credentials file %s has no AccountKey or SharedAccessSignature", url,
		              st->opts.credentials_file);
		pgr_error_hint(err,
		               "Put the storage account's connection string in it, on one line: "
		               "AccountName=...;AccountKey=...[;BlobEndpoint=...], or SharedAccessSignature=... "
		               "for a SAS.");
		ok = false;
	} else if (!cs_key && !cs_sas) {
		pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": no credentials for the Azure storage account \"%s\"",
		              url, account);
		pgr_error_hint(err,
		               "Set AZURE_STORAGE_CONNECTION_STRING (AccountName=...;AccountKey=...;BlobEndpoint=... "
		               "for azurite), or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or "
		               "AZURE_STORAGE_SAS_TOKEN, in the environment pgrescue (and PostgreSQL's "
		               "archive_command) runs in.");
		ok = false;
	} else if (cs_key && !b64_decode(cs_key, az->key, sizeof az->key, &az->keylen)) {
		pgr_error_set(err, PGR_ERR_CONFIG, "the account key for \"%s\" (from %s) is not valid base64", account,
		              az->cred_source);
		pgr_error_hint(err,
		               "Copy key1 or key2 again from the storage account's \"Access keys\" page: it is "
		               "88 characters ending in \"==\".");
		ok = false;
	}
	if (ok) {
		if (cs_sas && !cs_key) {
			const char *s = cs_sas[0] == '?' ? cs_sas + 1 : cs_sas;
			az->sas = xstrdup(s);
		}
		const char *ep = st->opts.azure_endpoint ? st->opts.azure_endpoint : cs_endpoint;
		if (!ep)
			az->endpoint = xasprintf("https://%s.blob." AZ_DEFAULT_SUFFIX, account);
		else
			az->endpoint = xstrdup(ep);
		size_t el = strlen(az->endpoint);
		while (el && az->endpoint[el - 1] == '/')
			az->endpoint[--el] = '\0';
		const char *hs = strstr(az->endpoint, "://");
		if (!hs || (strncmp(az->endpoint, "http://", 7) && strncmp(az->endpoint, "https://", 8))) {
			pgr_error_set(err, PGR_ERR_CONFIG, "the Azure blob endpoint \"%s\" is not an http(s):// URL",
			              az->endpoint);
			pgr_error_hint(err,
			               "Set azure_endpoint (or BlobEndpoint in the connection string) to e.g. "
			               "https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:10000/ACCOUNT.");
			ok = false;
		} else {
			const char *p = strchr(hs + 3, '/');
			az->endpoint_path = xstrdup(p ? p : "");
		}
	}
	free(cs_account);
	free_secret(cs_key);
	free_secret(cs_sas);
	free(cs_endpoint);
	if (!ok)
		goto fail;

	az->block_size = AZ_BLOCK_SIZE;
	az->list_max = AZ_LIST_MAX;
	/* Test knobs: small blocks and pages exercise the same paths with small data. */
	env_int("PGRESCUE_AZURE_BLOCK_SIZE", AZ_MIN_TEST_BLOCK, AZ_MAX_BLOCK_SIZE, &az->block_size);
	env_int("PGRESCUE_AZURE_LIST_MAX", 1, AZ_LIST_MAX, &az->list_max);
	return true;

fail_url_account:
	bad_url(url, "the account name must be 3-24 lowercase letters and digits", err);
	goto fail;
fail_url_container:
	bad_url(url, "the container name must be 3-63 lowercase letters, digits and '-'", err);
	goto fail;
fail_url_prefix:
	bad_url(url, "the prefix has an empty path component", err);
fail:
	az_free(az);
	st->backend = NULL;
	return false;
}

static void az_close(struct pgr_store *st)
{
	az_free(az_of(st));
	st->backend = NULL;
}

/* ------------------------------------------------------------ requests */

static void call_query(struct az_call *c, const char *name, const char *val)
{
	if (c->nq < AZ_MAX_QUERY) {
		c->qname[c->nq] = name;
		c->qval[c->nq] = val;
		c->nq++;
	}
}

static void call_header(struct az_call *c, const char *name, const char *val)
{
	if (c->nh < AZ_MAX_HEADERS) {
		c->hname[c->nh] = name;
		c->hval[c->nh] = val;
		c->nh++;
	}
}

/* The URL path after the endpoint: "/container[/encoded blob]". */
static char *call_path(struct az_store *az, const struct az_call *c)
{
	if (!c->blob)
		return xasprintf("/%s", az->container);
	char *enc = pgr_http_encode(c->blob, true);
	char *p = xasprintf("/%s/%s", az->container, enc);
	free(enc);
	return p;
}

/* What errors show: the endpoint and path, never the query string. */
static char *call_display_url(struct az_store *az, const struct az_call *c)
{
	char *path = call_path(az, c);
	char *u = xasprintf("%s%s", az->endpoint, path);
	free(path);
	return u;
}

/* A transport error from the HTTP layer names the URL it was given, which
 * holds the SAS token when there is one: put the display URL in its place. */
static void scrub(struct pgr_error *err, const char *secret_url, const char *display)
{
	if (!err)
		return;
	char *fields[] = {err->msg, err->detail, err->hint};
	size_t caps[] = {sizeof err->msg, sizeof err->detail, sizeof err->hint};
	/* The HTTP layer names it redacted (signature values masked): the rest of
	 * the query (the SAS token's other fields) goes too. */
	char *redacted = pgr_http_redact_url(secret_url);
	for (size_t i = 0; i < 3; i++) {
		const char *forms[] = {secret_url, redacted};
		for (size_t f = 0; f < 2; f++) {
			char *hit = strstr(fields[i], forms[f]);
			if (!hit)
				continue;
			struct strbuf sb = STRBUF_INIT;
			sb_append_len(&sb, fields[i], (size_t)(hit - fields[i]));
			sb_append(&sb, display);
			sb_append(&sb, hit + strlen(forms[f]));
			snprintf(fields[i], caps[i], "%s", sb_str(&sb));
			sb_free(&sb);
		}
	}
	free(redacted);
	/* Anything else that looks like a signature goes too. */
	for (size_t i = 0; i < 3; i++) {
		char *sig = strstr(fields[i], "sig=");
		while (sig) {
			for (char *p = sig + 4; *p && *p != '&' && *p != ' ' && *p != '"'; p++)
				*p = '*';
			sig = strstr(sig + 4, "sig=");
		}
	}
}

struct az_ctx {
	struct pgr_store *st;
	struct az_store *az;
	char date[32];
	char *url;
	char *display;
	char **lines; /* "Name: value" headers */
	size_t nlines;
	char *auth;
};

static void ctx_free(struct az_ctx *x)
{
	free(x->url);
	free(x->display);
	for (size_t i = 0; i < x->nlines; i++)
		if (x->lines[i] != x->auth)
			free(x->lines[i]);
	free(x->lines);
	free_secret(x->auth);
	memset(x, 0, sizeof *x);
}

/* Build the URL and the signed headers of a call into x. */
static void prepare(struct az_store *az, struct az_call *c, struct az_ctx *x)
{
	pgr_az_rfc1123(time(NULL), x->date);
	call_header(c, "x-ms-date", x->date);
	call_header(c, "x-ms-version", AZ_API_VERSION);

	char *path = call_path(az, c);
	struct strbuf u = STRBUF_INIT;
	sb_printf(&u, "%s%s", az->endpoint, path);
	for (size_t i = 0; i < c->nq; i++) {
		char *v = pgr_http_encode(c->qval[i], false);
		sb_printf(&u, "%c%s=%s", i ? '&' : '?', c->qname[i], v);
		free(v);
	}
	x->display = call_display_url(az, c);
	if (az->sas)
		sb_printf(&u, "%c%s", c->nq ? '&' : '?', az->sas);
	x->url = sb_steal(&u);

	x->lines = xcalloc(c->nh + 4, sizeof *x->lines);
	for (size_t i = 0; i < c->nh; i++)
		x->lines[x->nlines++] = xasprintf("%s: %s", c->hname[i], c->hval[i]);
	if (c->content_type)
		x->lines[x->nlines++] = xasprintf("Content-Type: %s", c->content_type);
	if (c->content_md5)
		x->lines[x->nlines++] = xasprintf("Content-MD5: %s", c->content_md5);
	if (az->keylen) {
		char *full_path = xasprintf("%s%s", az->endpoint_path, path);
		char *sts =
		        pgr_az_string_to_sign(c->method, c->content_length, c->content_md5, c->content_type, c->hname,
		                              c->hval, c->nh, az->account, full_path, c->qname, c->qval, c->nq);
		char *sig = pgr_az_sign(az->key, az->keylen, sts);
		x->auth = xasprintf("Authorization: SharedKey %s:%s", az->account, sig ? sig : "");
		x->lines[x->nlines++] = x->auth;
		free(sig);
		free(sts);
		free(full_path);
	}
	x->lines[x->nlines] = NULL;
	free(path);
}

/* The error for a non-2xx answer: the URL, the status, the service's code and
 * message, and what a person can do. */
static bool http_fail(struct pgr_store *st, const char *what, const char *display, struct pgr_http_resp *resp,
                      const char *body, size_t body_len, struct pgr_error *err)
{
	struct az_store *az = az_of(st);
	char *code = pgr_http_header(resp, "x-ms-error-code");
	char *xcode = NULL, *msg = NULL;
	pgr_az_parse_error(body, body_len, &xcode, &msg);
	if (!code && xcode) {
		code = xcode;
		xcode = NULL;
	}
	free(xcode);
	enum pgr_errkind kind = PGR_ERR_STORE;
	/* Only the service's own word means the blob is absent: a 404 without
	 * an Azure error code comes from something else at that address. */
	if (resp->status == 404 && code && !strcmp(code, "BlobNotFound"))
		kind = PGR_ERR_NOTFOUND;
	/* The code before the URL: it is what a narrow screen should still show. */
	pgr_error_set(err, kind, "%s: HTTP %ld%s%s from %s%s%s", what, resp->status, code ? " " : "", code ? code : "",
	              display, msg ? ": " : "", msg ? msg : "");
	if (resp->attempts > 1)
		pgr_error_detail(err, "%d attempts were made.", resp->attempts);
	const char *c = code ? code : "";
	if (resp->status == 403) {
		if (az->sas)
			pgr_error_hint(err,
			               "Check the SAS token (%s): its signature, its permissions (read, write, delete, "
			               "list), its expiry (se=) and start (st=), and this machine's clock.",
			               az->cred_source);
		else
			pgr_error_hint(err,
			               "Check the account key of \"%s\" (%s) and this machine's clock: Azure refuses "
			               "requests signed more than 15 minutes off its own time.",
			               az->account, az->cred_source);
	} else if (!strcmp(c, "ContainerNotFound")) {
		pgr_error_hint(err,
		               "Check the container name \"%s\" in the store URL az://%s/%s/...; the container "
		               "must exist (az storage container create --name %s).",
		               az->container, az->account, az->container, az->container);
	} else if (!strcmp(c, "InvalidHeaderValue") || !strcmp(c, "InvalidQueryParameterValue")) {
		pgr_error_hint(err,
		               "The endpoint %s may not support API version " AZ_API_VERSION
		               " (start azurite with --skipApiVersionCheck, or use a newer azurite).",
		               az->endpoint);
	} else if (!strcmp(c, "Md5Mismatch")) {
		pgr_error_hint(err, "The data changed on the way; run the command again.");
	} else if (resp->status >= 500 || resp->status == 429) {
		pgr_error_hint(err, "The storage service is failing or throttling; it was retried. Try again later.");
	} else if (!code) {
		pgr_error_hint(err,
		               "The answer carries no Azure error code: check that %s is an Azure blob endpoint "
		               "(azure_endpoint, or BlobEndpoint in AZURE_STORAGE_CONNECTION_STRING) and that no "
		               "proxy stands in between.",
		               az->endpoint);
	}
	free(code);
	free(msg);
	return false;
}

/* Run one call. body/out_file as in pgr_http_req. On a non-2xx answer, fails
 * with the service's error unless the status is in allow (0-terminated). */
struct az_io {
	const void *body;
	size_t body_len;
	const char *body_file;
	uint64_t body_offset;
	uint64_t body_file_len;
	const char *out_file;
	pgr_progress_fn progress;
	void *pctx;
	int timeout_sec;
};

static bool az_do(struct pgr_store *st, struct az_call *c, const struct az_io *io, const char *what, const long *allow,
                  struct pgr_http_resp *resp, struct pgr_error *err)
{
	struct az_store *az = az_of(st);
	struct az_ctx x = {0};
	prepare(az, c, &x);
	struct pgr_http_req req = {0};
	req.method = c->method;
	req.url = x.url;
	req.headers = (const char *const *)x.lines;
	if (io) {
		req.body = io->body;
		req.body_len = io->body_len;
		req.body_file = io->body_file;
		req.body_offset = io->body_offset;
		req.body_file_len = io->body_file_len;
		req.out_file = io->out_file;
		req.progress = io->progress;
		req.pctx = io->pctx;
		req.timeout_sec = io->timeout_sec;
	}
	req.ca_file = st->opts.ca_file;
	req.connect_timeout_sec = req.low_speed_sec = st->opts.timeout_sec;
	if (!pgr_http_do(&req, resp, err)) {
		scrub(err, x.url, x.display);
		pgr_error_prefix(err, "%s", what);
		if (err && !err->hint[0])
			pgr_error_hint(err,
			               "Check that the blob endpoint %s is right and reachable from this machine "
			               "(azure_endpoint, or BlobEndpoint in AZURE_STORAGE_CONNECTION_STRING).",
			               az->endpoint);
		ctx_free(&x);
		return false;
	}
	bool ok = resp->status >= 200 && resp->status < 300;
	for (const long *a = allow; !ok && a && *a; a++)
		if (resp->status == *a)
			ok = true;
	if (!ok)
		http_fail(st, what, x.display, resp, resp->body.buf, resp->body.len, err);
	ctx_free(&x);
	return ok;
}

static bool check_key(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	bool ok = key && *key && key[0] != '/' && !strstr(key, "//") && key[strlen(key) - 1] != '/';
	for (const char *p = key; ok && *p; p++)
		if ((unsigned char)*p < 0x20)
			ok = false;
	if (ok)
		return true;
	pgr_error_set(err, PGR_ERR_USAGE, "invalid object key \"%s\" for store \"%s\"", key ? key : "(null)", st->url);
	pgr_error_hint(err,
	               "Keys are relative paths such as \"wal-archive/000000010000000000000001\": no leading, "
	               "trailing or doubled '/'.");
	return false;
}

static char *blob_name(struct az_store *az, const char *key)
{
	return xasprintf("%s%s", az->prefix, key);
}

/* ------------------------------------------------------------ listing */

static void list_cache_set(struct az_store *az, const char *prefix, const char *last, const char *marker)
{
	free(az->list_prefix);
	free(az->list_last);
	free(az->list_marker);
	az->list_prefix = az->list_last = az->list_marker = NULL;
	if (!marker || !last)
		return;
	az->list_prefix = xstrdup(prefix);
	az->list_last = xstrdup(last);
	az->list_marker = xstrdup(marker);
}

static bool az_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                         struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	struct az_store *az = az_of(st);
	*more = false;
	if (!prefix)
		prefix = "";
	if (after && !*after)
		after = NULL;
	char *full_prefix = xasprintf("%s%s", az->prefix, prefix);
	char *marker = NULL;
	/* The service pages by opaque markers; the caller by the last key seen.
	 * The marker of the page that ended with `after` continues it; any other
	 * `after` means reading from the start and skipping up to it. */
	bool skipping = false;
	if (after) {
		if (az->list_last && !strcmp(az->list_last, after) && !strcmp(az->list_prefix, prefix))
			marker = xstrdup(az->list_marker);
		else
			skipping = true;
	}
	size_t max = page_size && page_size < az->list_max ? page_size : az->list_max;
	char maxbuf[24];
	snprintf(maxbuf, sizeof maxbuf, "%zu", max);
	bool ok = true;
	for (;;) {
		struct az_call c = {.method = "GET"};
		call_query(&c, "restype", "container");
		call_query(&c, "comp", "list");
		call_query(&c, "prefix", full_prefix);
		if (marker)
			call_query(&c, "marker", marker);
		call_query(&c, "maxresults", maxbuf);
		struct pgr_http_resp resp;
		pgr_http_resp_init(&resp);
		char *what = xasprintf("listing \"%s\" in store %s", prefix, st->url);
		ok = az_do(st, &c, NULL, what, NULL, &resp, err);
		free(what);
		char *next = NULL;
		size_t before = out->n;
		if (ok) {
			ok = pgr_az_parse_list(resp.body.buf, resp.body.len, az->prefix, out, &next, err);
			if (!ok)
				pgr_error_prefix(err, "listing \"%s\" in store %s", prefix, st->url);
		}
		pgr_http_resp_free(&resp);
		if (!ok) {
			free(next);
			break;
		}
		if (skipping) {
			/* Drop what sorts at or before `after`. */
			size_t w = before;
			for (size_t i = before; i < out->n; i++) {
				if (strcmp(out->items[i].key, after) > 0)
					out->items[w++] = out->items[i];
				else
					free(out->items[i].key);
			}
			out->n = w;
		}
		free(marker);
		marker = next;
		if (out->n > before || !marker)
			break;
	}
	if (ok) {
		*more = marker != NULL;
		list_cache_set(az, prefix, out->n ? out->items[out->n - 1].key : NULL, marker);
	}
	free(marker);
	free(full_prefix);
	return ok;
}

/* ------------------------------------------------------------ objects */

static bool az_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	if (out)
		out->key = NULL;
	if (!check_key(st, key, err))
		return false;
	char *name = blob_name(az_of(st), key);
	struct az_call c = {.method = "HEAD", .blob = name};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *what = xasprintf("looking up \"%s\" in store %s", key, st->url);
	bool ok = az_do(st, &c, NULL, what, NULL, &resp, err);
	if (!ok && err && err->kind == PGR_ERR_NOTFOUND)
		pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not in the store %s", key, st->url);
	if (ok && out) {
		char *cl = pgr_http_header(&resp, "Content-Length");
		char *lm = pgr_http_header(&resp, "Last-Modified");
		out->size = cl ? strtoull(cl, NULL, 10) : 0;
		out->mtime = 0;
		if (lm)
			pgr_az_parse_rfc1123(lm, &out->mtime);
		free(cl);
		free(lm);
	}
	pgr_http_resp_free(&resp);
	free(what);
	free(name);
	return ok;
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

/* What a download is checked against, chosen when the answer's headers are
 * in: the XXH128 pgrescue recorded in the blob's metadata when it stored it
 * (end to end, and nearly free), else the SHA-256 it recorded (blobs stored
 * before the XXH128 was), else the service's Content-MD5, else nothing (the
 * caller's manifest still is). */
static void az_dl_choose(const struct pgr_http_resp *resp, struct pgr_dl_want *want)
{
	char *xxh = pgr_http_header(resp, "x-ms-meta-" AZ_META_XXH128);
	char *sha = pgr_http_header(resp, "x-ms-meta-" AZ_META_SHA256);
	char *md5 = pgr_http_header(resp, "Content-MD5");
	unsigned char raw[18]; /* 24 base64 digits decode into 18 bytes, 2 of them padding */
	size_t n = 0;
	if (pgr_is_xxh128_hex(xxh)) {
		pgr_dl_want_set(want, PGR_DL_XXH128, xxh, NULL, "metadata " AZ_META_XXH128);
	} else if (sha && pgr_is_sha256_hex(sha)) {
		pgr_dl_want_set(want, PGR_DL_SHA256, sha, NULL, "metadata " AZ_META_SHA256);
	} else if (md5 && b64_decode(md5, raw, sizeof raw, &n) && n == 16) {
		char hex[33];
		pgr_md5_hex(raw, hex);
		pgr_dl_want_set(want, PGR_DL_MD5, hex, md5, "Content-MD5");
	}
	free(xxh);
	free(sha);
	free(md5);
}

static bool az_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
                   struct pgr_error *err)
{
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
	/* The HTTP layer writes <tmp>.part and renames it to <tmp> when complete;
	 * only a checked <tmp> becomes local_path. */
	char *tmp = xasprintf("%s.pgrescue-dl.%ld", local_path, (long)getpid());
	char *part = xasprintf("%s.part", tmp);
	char *name = blob_name(az_of(st), key);
	struct az_call c = {.method = "GET", .blob = name};
	struct az_io io = {.out_file = tmp, .progress = progress, .pctx = pctx};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *what = xasprintf("downloading \"%s\" from store %s", key, st->url);
	struct az_ctx x = {0};
	struct pgr_dl_check check;
	pgr_dl_check_init(&check, &resp, az_dl_choose);
	bool ok;
	{
		/* As az_do, but an error body may have gone to the file. */
		struct az_store *az = az_of(st);
		prepare(az, &c, &x);
		struct pgr_http_req req = {0};
		req.method = c.method;
		req.url = x.url;
		req.headers = (const char *const *)x.lines;
		req.out_file = io.out_file;
		req.no_sync = st->opts.no_sync;
		pgr_dl_check_attach(&check, &req);
		req.progress = progress;
		req.pctx = pctx;
		req.ca_file = st->opts.ca_file;
		req.connect_timeout_sec = req.low_speed_sec = st->opts.timeout_sec;
		ok = pgr_http_do(&req, &resp, err);
		if (!ok) {
			scrub(err, x.url, x.display);
			pgr_error_prefix(err, "%s", what);
		} else if (resp.status < 200 || resp.status >= 300) {
			char *body = NULL;
			size_t blen = 0;
			if (resp.body.len) {
				body = xstrndup(resp.body.buf, resp.body.len);
				blen = resp.body.len;
			} else if (!pgr_read_file(part, &body, &blen, NULL) &&
			           !pgr_read_file(tmp, &body, &blen, NULL)) {
				body = NULL;
				blen = 0;
			}
			http_fail(st, what, x.display, &resp, body, blen, err);
			free(body);
			ok = false;
			if (err && err->kind == PGR_ERR_NOTFOUND)
				pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not in the store %s", key, st->url);
		}
	}
	if (ok) {
		struct stat sb;
		char *cl = pgr_http_header(&resp, "Content-Length");
		if (stat(tmp, &sb) < 0)
			ok = pgr_error_errno(err, errno, "%s: the download \"%s\" is missing", what, tmp);
		else if (cl && strtoull(cl, NULL, 10) != (uint64_t)sb.st_size)
			ok = pgr_error_set(err, PGR_ERR_STORE, "%s: got %llu bytes, the service announced %s", what,
			                   (unsigned long long)sb.st_size, cl);
		else
			ok = pgr_dl_check_end(&check, what, err);
		free(cl);
	}
	if (ok) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0600) < 0 || (!st->opts.no_sync && fsync(fd) < 0))
			ok = pgr_error_errno(err, errno, "cannot sync \"%s\"", tmp);
		if (fd >= 0)
			close(fd);
	}
	if (ok && rename(tmp, local_path) < 0)
		ok = pgr_error_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, local_path);
	if (ok && !st->opts.no_sync)
		ok = pgr_fsync_parent(local_path, err);
	if (!ok) {
		unlink(tmp);
		unlink(part);
	}
	ctx_free(&x);
	pgr_http_resp_free(&resp);
	pgr_dl_check_free(&check);
	free(what);
	free(name);
	free(part);
	free(tmp);
	return ok;
}

static bool az_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err)
{
	*got = 0;
	if (!check_key(st, key, err))
		return false;
	if (n == 0)
		return az_stat(st, key, NULL, err);
	char *name = blob_name(az_of(st), key);
	char range[64];
	snprintf(range, sizeof range, "bytes=0-%zu", n - 1);
	struct az_call c = {.method = "GET", .blob = name};
	call_header(&c, "x-ms-range", range);
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *what = xasprintf("reading the start of \"%s\" in store %s", key, st->url);
	/* 416: the blob is empty. */
	static const long allow[] = {416, 0};
	bool ok = az_do(st, &c, NULL, what, allow, &resp, err);
	if (!ok && err && err->kind == PGR_ERR_NOTFOUND)
		pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not in the store %s", key, st->url);
	if (ok && resp.status != 416) {
		size_t m = resp.body.len < n ? resp.body.len : n;
		memcpy(buf, resp.body.buf, m);
		*got = m;
	}
	pgr_http_resp_free(&resp);
	free(what);
	free(name);
	return ok;
}

/* Progress of one block within the whole file. */
struct block_progress {
	pgr_progress_fn fn;
	void *ctx;
	uint64_t base;
	uint64_t total;
};

static bool block_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct block_progress *bp = ctx;
	(void)total;
	return bp->fn(bp->ctx, bp->base + done, bp->total);
}

static bool put_single(struct pgr_store *st, const char *key, const char *name, const char *local_path, uint64_t size,
                       pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	unsigned char raw[16];
	char md5[25], sha[65], xxh[33];
	struct pgr_obj_digest *h = pgr_obj_digest_new();
	bool read_ok = pgr_digest_file(local_path, 0, size, raw, h, err);
	pgr_obj_digest_final(h, sha, xxh);
	if (!read_ok)
		return false;
	pgr_md5_b64(raw, md5);
	struct az_call c = {.method = "PUT", .blob = name};
	call_header(&c, "x-ms-blob-type", "BlockBlob");
	call_header(&c, "x-ms-meta-" AZ_META_SHA256, sha);
	call_header(&c, "x-ms-meta-" AZ_META_XXH128, xxh);
	c.content_type = "application/octet-stream";
	c.content_md5 = md5;
	c.content_length = size;
	static const char empty[1] = "";
	struct az_io io = {.progress = progress, .pctx = pctx};
	if (size) {
		io.body_file = local_path;
		io.body_file_len = size;
	} else {
		io.body = empty;
		io.body_len = 0;
	}
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *what = xasprintf("storing \"%s\" as \"%s\" in store %s", local_path, key, st->url);
	bool ok = az_do(st, &c, &io, what, NULL, &resp, err);
	pgr_http_resp_free(&resp);
	free(what);
	return ok;
}

static bool put_blocks(struct pgr_store *st, const char *key, const char *name, const char *local_path, uint64_t size,
                       pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	struct az_store *az = az_of(st);
	size_t bs = az->block_size;
	while ((size + bs - 1) / bs > AZ_MAX_BLOCKS && bs < AZ_MAX_BLOCK_SIZE)
		bs *= 2;
	size_t nblocks = (size_t)((size + bs - 1) / bs);
	if (nblocks > AZ_MAX_BLOCKS)
		return pgr_error_set(err, PGR_ERR_STORE, "\"%s\" (%llu bytes) is too large for one Azure block blob",
		                     local_path, (unsigned long long)size);
	int fd = open(local_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot read \"%s\" to store it as \"%s\"", local_path, key);
	/* Block ids: one upload's own random tag and the block's number, all the
	 * same length as the service requires; an interrupted upload's blocks stay
	 * uncommitted (invisible) until the service discards them. */
	unsigned char rnd[6];
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		for (size_t i = 0; i < sizeof rnd; i++)
			rnd[i] = (unsigned char)(rand() & 0xff);
	char tag[13];
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(tag + 2 * i, 3, "%02x", rnd[i]);
	char **ids = xcalloc(nblocks ? nblocks : 1, sizeof *ids);
	char *buf = xmalloc(bs);
	EVP_MD_CTX *whole = EVP_MD_CTX_new();
	EVP_DigestInit_ex(whole, EVP_md5(), NULL);
	struct pgr_obj_digest *whole_obj = pgr_obj_digest_new();
	char *what = xasprintf("storing \"%s\" as \"%s\" in store %s", local_path, key, st->url);
	bool ok = true;
	uint64_t off = 0;
	for (size_t b = 0; ok && b < nblocks; b++) {
		size_t want = (size_t)(size - off < bs ? size - off : bs);
		size_t have = 0;
		while (have < want) {
			ssize_t r = pread(fd, buf + have, want - have, (off_t)(off + have));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				ok = r < 0 ? pgr_error_errno(err, errno, "cannot read \"%s\"", local_path)
				           : pgr_error_set(err, PGR_ERR_IO, "\"%s\" shrank while it was being stored",
				                           local_path);
				break;
			}
			have += (size_t)r;
		}
		if (!ok)
			break;
		EVP_DigestUpdate(whole, buf, want);
		pgr_obj_digest_update(whole_obj, buf, want);
		char raw[40];
		snprintf(raw, sizeof raw, "pgrescue-%s-%08zu", tag, b);
		ids[b] = b64_encode((const unsigned char *)raw, strlen(raw));
		char *md5 = md5_b64(buf, want);
		struct az_call c = {.method = "PUT", .blob = name};
		call_query(&c, "comp", "block");
		call_query(&c, "blockid", ids[b]);
		c.content_type = "application/octet-stream";
		c.content_md5 = md5;
		c.content_length = want;
		struct block_progress bp = {progress, pctx, off, size};
		struct az_io io = {.body = buf, .body_len = want};
		if (progress) {
			io.progress = block_progress_cb;
			io.pctx = &bp;
		}
		struct pgr_http_resp resp;
		pgr_http_resp_init(&resp);
		ok = az_do(st, &c, &io, what, NULL, &resp, err);
		if (!ok)
			pgr_error_detail(err, "Block %zu of %zu (bytes %llu-%llu); nothing was committed under \"%s\".",
			                 b + 1, nblocks, (unsigned long long)off, (unsigned long long)(off + want - 1),
			                 key);
		pgr_http_resp_free(&resp);
		free(md5);
		off += want;
	}
	close(fd);
	free(buf);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(whole, d, &dl);
	EVP_MD_CTX_free(whole);
	char sha[65], xxh[33];
	pgr_obj_digest_final(whole_obj, sha, xxh);
	if (ok) {
		/* The commit: the blob appears, whole, only now. */
		struct strbuf x = STRBUF_INIT;
		sb_append(&x, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
		for (size_t b = 0; b < nblocks; b++)
			sb_printf(&x, "<Latest>%s</Latest>", ids[b]);
		sb_append(&x, "</BlockList>");
		char *whole_md5 = b64_encode(d, dl);
		char *body_md5 = md5_b64(x.buf, x.len);
		struct az_call c = {.method = "PUT", .blob = name};
		call_query(&c, "comp", "blocklist");
		call_header(&c, "x-ms-blob-content-md5", whole_md5);
		call_header(&c, "x-ms-blob-content-type", "application/octet-stream");
		call_header(&c, "x-ms-meta-" AZ_META_SHA256, sha);
		call_header(&c, "x-ms-meta-" AZ_META_XXH128, xxh);
		c.content_type = "application/xml";
		c.content_md5 = body_md5;
		c.content_length = x.len;
		struct az_io io = {.body = x.buf, .body_len = x.len};
		struct pgr_http_resp resp;
		pgr_http_resp_init(&resp);
		ok = az_do(st, &c, &io, what, NULL, &resp, err);
		pgr_http_resp_free(&resp);
		free(whole_md5);
		free(body_md5);
		sb_free(&x);
	}
	for (size_t b = 0; b < nblocks; b++)
		free(ids[b]);
	free(ids);
	free(what);
	return ok;
}

static bool az_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                   pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	struct az_store *az = az_of(st);
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
	char *name = blob_name(az, key);
	bool ok = size <= az->block_size ? put_single(st, key, name, local_path, size, progress, pctx, err)
	                                 : put_blocks(st, key, name, local_path, size, progress, pctx, err);
	if (ok) {
		/* The size check: what the service holds is what the file held, and
		 * the file did not change while it was read. */
		struct stat now;
		struct pgr_object o;
		if (stat(local_path, &now) < 0 || (uint64_t)now.st_size != size || now.st_mtime != sb.st_mtime) {
			ok = pgr_error_set(err, PGR_ERR_STORE, "\"%s\" changed while it was being stored as \"%s\"",
			                   local_path, key);
		} else if (!az_stat(st, key, &o, err)) {
			pgr_error_prefix(err, "checking \"%s\" after storing it", key);
			ok = false;
		} else if (o.size != size) {
			ok = pgr_error_set(
			        err, PGR_ERR_STORE,
			        "size mismatch storing \"%s\" as \"%s\": %llu bytes sent, the store holds %llu",
			        local_path, key, (unsigned long long)size, (unsigned long long)o.size);
		}
	}
	if (ok && progress)
		progress(pctx, size, size);
	if (ok && consume)
		unlink(local_path);
	free(name);
	return ok;
}

static bool az_del(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	if (!check_key(st, key, err))
		return false;
	char *name = blob_name(az_of(st), key);
	struct az_call c = {.method = "DELETE", .blob = name};
	struct pgr_http_resp resp;
	pgr_http_resp_init(&resp);
	char *what = xasprintf("deleting \"%s\" from store %s", key, st->url);
	/* Deleting what is already gone succeeds, as with the file backend. */
	bool ok = az_do(st, &c, NULL, what, NULL, &resp, err);
	if (!ok && resp.status == 404 && err && err->kind == PGR_ERR_NOTFOUND) {
		pgr_error_clear(err);
		ok = true;
	}
	pgr_http_resp_free(&resp);
	free(what);
	free(name);
	return ok;
}

/* OpenSSL keeps per-thread state (its error queue, allocated by the digest and
 * HMAC calls) that it frees only when the thread exits. The store is also
 * used from short-lived worker threads (the collector's listing) that may
 * still be on their way out when the process ends, when that state would
 * count as leaked: every operation releases it before returning. */
static bool op_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                         struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	bool ok = az_list_page(st, prefix, after, page_size, out, more, err);
	OPENSSL_thread_stop();
	return ok;
}

static bool op_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	bool ok = az_stat(st, key, out, err);
	OPENSSL_thread_stop();
	return ok;
}

static bool op_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
                   struct pgr_error *err)
{
	bool ok = az_get(st, key, local_path, progress, pctx, err);
	OPENSSL_thread_stop();
	return ok;
}

static bool op_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err)
{
	bool ok = az_get_head(st, key, buf, n, got, err);
	OPENSSL_thread_stop();
	return ok;
}

static bool op_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                   pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	bool ok = az_put(st, key, local_path, consume, progress, pctx, err);
	OPENSSL_thread_stop();
	return ok;
}

static bool op_del(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	bool ok = az_del(st, key, err);
	OPENSSL_thread_stop();
	return ok;
}

const struct pgr_store_ops pgr_store_azure_ops = {
        .scheme = "az",
        .open = az_open,
        .close = az_close,
        .list_page = op_list_page,
        .stat = op_stat,
        .get = op_get,
        .get_head = op_get_head,
        .put = op_put,
        .del = op_del,
        .staging_dir = NULL,
        .local_path = NULL,
};
