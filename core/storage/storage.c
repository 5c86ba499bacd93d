/* The store front door: pick a backend from the URL's scheme, then hand every
 * call to its ops. Paging and object lists live here so that each backend
 * only has to answer one page at a time. */
#include "config.h"

#include "storage/storage.h"
#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

/* One row per backend; s3/gs/az add a row (and a file), not an if. */
static const struct pgr_store_ops *const backends[] = {
        &pgr_store_file_ops,
        &pgr_store_s3_ops,
        &pgr_store_gs_ops,
        &pgr_store_azure_ops,
};

#define ACCEPTED_FORMS "file:///absolute/path or a bare /absolute/path"

/* Scheme of url into buf ("" for a bare path); false when url has none. */
static bool url_scheme(const char *url, char *buf, size_t n)
{
	const char *sep = strstr(url, "://");
	if (!sep)
		return false;
	for (const char *p = url; p < sep; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (p > url && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
		if (!ok)
			return false;
	}
	size_t len = (size_t)(sep - url);
	if (len == 0 || len >= n)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = url[i];
		buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[len] = '\0';
	return true;
}

static void store_opts_free(struct pgr_store_opts *o)
{
	free((char *)o->s3_endpoint);
	free((char *)o->s3_region);
	free((char *)o->s3_url_style);
	free((char *)o->s3_sse);
	free((char *)o->s3_storage_class);
	free((char *)o->s3_profile);
	free((char *)o->azure_endpoint);
	free((char *)o->ca_file);
	free((char *)o->credentials_file);
	memset(o, 0, sizeof *o);
}

struct pgr_store *pgr_store_open_opts(const char *url, const struct pgr_store_opts *opts, struct pgr_error *err)
{
	if (!url || !*url) {
		pgr_error_set(err, PGR_ERR_CONFIG, "no backup store given (the store URL is empty)");
		pgr_error_hint(err, "Set store = %s in the environment's section, or pass --store URL.",
		               ACCEPTED_FORMS);
		return NULL;
	}
	char scheme[32];
	const struct pgr_store_ops *ops = NULL;
	if (url[0] == '/') {
		ops = &pgr_store_file_ops;
	} else if (!url_scheme(url, scheme, sizeof scheme)) {
		pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\" is neither a URL nor an absolute path", url);
		pgr_error_hint(err,
		               "A local store is written %s; a relative path would depend on the directory "
		               "pgrescue (or PostgreSQL's archive_command) happens to run in.",
		               ACCEPTED_FORMS);
		return NULL;
	} else {
		for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
			if (!strcmp(backends[i]->scheme, scheme))
				ops = backends[i];
		if (!ops) {
			pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": unknown store scheme \"%s://\"", url, scheme);
			pgr_error_hint(err,
			               "Accepted forms: %s, s3://bucket/prefix, gs://bucket/prefix, "
			               "az://account/container/prefix.",
			               ACCEPTED_FORMS);
			return NULL;
		}
	}
	/* A cloud store's URL names where, never who: it is shown in messages,
	 * plans, the audit log and the console's header. A secret pasted into it
	 * (user:secret@, a SAS token's ?sig=) is refused without being echoed. */
	if (ops != &pgr_store_file_ops) {
		const char *auth = strstr(url, "://") + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', alen);
		size_t upto = strcspn(url, "?#");
		if (at || url[upto]) {
			struct strbuf shown = STRBUF_INIT;
			sb_printf(&shown, "%.*s", (int)(auth - url), url);
			const char *rest = auth;
			if (at) {
				sb_append(&shown, "***");
				rest = at;
			}
			sb_printf(&shown, "%.*s%s", (int)(url + upto - rest), rest,
			          !url[upto]                 ? ""
			                  : url[upto] == '?' ? "?..."
			                                     : "#...");
			pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": a store URL carries %s", shown.buf,
			              at ? "no credentials (user:secret@)" : "no query string or fragment");
			pgr_error_hint(
			        err,
			        "The URL is shown in messages, plans, the audit log and on screen, so secrets never "
			        "go in it: use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a ~/.aws profile for "
			        "s3:// and gs://, AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_SAS_TOKEN for "
			        "az://, or store_credentials_file for the server's archive_command.");
			sb_free(&shown);
			return NULL;
		}
	}
	struct pgr_store *st = xcalloc(1, sizeof *st);
	st->ops = ops;
	st->url = xstrdup(url);
	if (opts) {
		const char **src[] = {(const char **)&opts->s3_endpoint,      (const char **)&opts->s3_region,
		                      (const char **)&opts->s3_url_style,     (const char **)&opts->s3_sse,
		                      (const char **)&opts->s3_storage_class, (const char **)&opts->s3_profile,
		                      (const char **)&opts->azure_endpoint,   (const char **)&opts->ca_file,
		                      (const char **)&opts->credentials_file};
		const char **dst[] = {&st->opts.s3_endpoint,    &st->opts.s3_region,        &st->opts.s3_url_style,
		                      &st->opts.s3_sse,         &st->opts.s3_storage_class, &st->opts.s3_profile,
		                      &st->opts.azure_endpoint, &st->opts.ca_file,          &st->opts.credentials_file};
		for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
			*dst[i] = *src[i] && **src[i] ? xstrdup(*src[i]) : NULL;
		st->opts.timeout_sec = opts->timeout_sec > 0 ? opts->timeout_sec : 0;
		st->opts.no_sync = opts->no_sync;
	}
	/* A CA file that cannot be read would fail every request with curl's
	 * "error setting certificate file"; say which key and why, once. */
	const char *ca = st->opts.ca_file;
	bool ok = true;
	if (ca && ops != &pgr_store_file_ops && (ca[0] != '/' || access(ca, R_OK) != 0)) {
		int e = errno;
		if (ca[0] != '/')
			pgr_error_set(err, PGR_ERR_CONFIG, "ca_file \"%s\" is not an absolute path", ca);
		else
			pgr_error_errno(err, e, "ca_file \"%s\" cannot be read", ca);
		if (err)
			err->kind = PGR_ERR_CONFIG;
		pgr_error_hint(err,
		               "ca_file names a PEM file of the CA certificates that signed the store's "
		               "certificate, by its absolute path, readable by whoever runs pgrescue (for "
		               "archive_command and restore_command, the server's user).");
		ok = false;
	}
	if (!ok || !ops->open(st, url, err)) {
		store_opts_free(&st->opts);
		free(st->url);
		free(st);
		return NULL;
	}
	return st;
}

struct pgr_store *pgr_store_open(const char *url, struct pgr_error *err)
{
	return pgr_store_open_opts(url, NULL, err);
}

struct pgr_store *pgr_store_open_env(const struct pgr_env *env, struct pgr_error *err)
{
	struct pgr_store_opts o = {
	        .s3_endpoint = env->s3_endpoint,
	        .s3_region = env->s3_region,
	        .s3_url_style = env->s3_url_style,
	        .s3_sse = env->s3_sse,
	        .s3_storage_class = env->s3_storage_class,
	        .s3_profile = env->s3_profile,
	        .azure_endpoint = env->azure_endpoint,
	        .ca_file = env->ca_file,
	        .credentials_file = env->store_credentials_file,
	        .timeout_sec = env->store_timeout > 0 && env->store_timeout < INT_MAX ? (int)env->store_timeout : 0,
	};
	return pgr_store_open_opts(env->store, &o, err);
}

void pgr_store_close(struct pgr_store *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st);
	store_opts_free(&st->opts);
	free(st->url);
	free(st);
}

/* Pages for the all-keys listing. Object stores cap a page themselves (S3
 * at 1000) and say there is more; the file backend rereads its directory for
 * every page, so fewer, larger pages are much cheaper there. */
#define LIST_PAGE_SIZE 10000
#define LIST_ALL_PAGE_SIZE ((size_t)1 << 24)

/* One page after the other, each asking for everything after the last key. */
static bool list_serial(struct pgr_store *st, const char *prefix, const char *from, size_t page_size,
                        struct pgr_object_list *out, struct pgr_error *err)
{
	bool more = true;
	char *after = from ? xstrdup(from) : NULL;
	while (more) {
		size_t before = out->n;
		more = false;
		if (!st->ops->list_page(st, prefix, after, page_size, out, &more, err)) {
			free(after);
			return false;
		}
		if (out->n == before) {
			if (more) {
				/* A backend that promises more but gives nothing would loop forever. */
				free(after);
				return pgr_error_set(
				        err, PGR_ERR_INTERNAL,
				        "listing store \"%s\" under \"%s\": an empty page claimed more follow", st->url,
				        prefix ? prefix : "");
			}
			break;
		}
		free(after);
		after = xstrdup(out->items[out->n - 1].key);
	}
	free(after);
	return true;
}

/* ---------------------------------------------------------------- parallel listing
 *
 * An object store answers a listing one page (S3: 1,000 keys) per request,
 * each from a given key on, and most of a page's time is the server's. Once
 * the first page shows more follow, workers list disjoint key ranges side by
 * side: (lo, hi], from start-after = lo until a key past hi. Range bounds are
 * guessed by extrapolating the keys as numbers written in the digits (bytes)
 * the first page uses: WAL names, dates and counters grow regularly, so a
 * range of RANGE_PAGES pages' worth of key space holds about that many pages.
 * A guess only decides how the work is cut, never what is listed:
 *  - a worker takes the next range from the frontier (everything at or below
 *    it is some worker's), so ranges never overlap and leave no gap;
 *  - a page that runs past the frontier (a gap in the keys: a new timeline)
 *    already holds the keys after it, so its worker claims them as a new
 *    range instead of others probing the empty space in between;
 *  - the page that ends the listing ends the frontier.
 * The ranges are put back together in key order; the result is checked to be
 * strictly ascending, and listed again one page at a time if it is not. */

#define RANGE_PAGES 4
#define MAX_WIDTH 64
#define MAX_WORKERS 16

struct range {
	char *lo; /* keys after this */
	struct pgr_object_list keys;
};

struct plist {
	struct pgr_store *st;
	const char *prefix;
	size_t plen;
	size_t page; /* keys per request */
	pthread_mutex_t mu;
	/* Key arithmetic: byte -> digit (the largest alphabet byte at or below it). */
	unsigned char alpha[256];
	unsigned digit[256];
	unsigned base;
	size_t width;
	unsigned span[MAX_WIDTH]; /* key space one full page covers */
	double span_keys; /* keys in that space */
	char *frontier; /* NULL: every key is some worker's */
	struct range **ranges;
	size_t nranges, cap;
	bool failed;
	struct pgr_error err;
	/* for the debug log: requests, and keys read that another range had */
	unsigned long requests, wasted;
};

static void to_digits(const struct plist *p, const char *key, unsigned *d)
{
	size_t len = strlen(key);
	for (size_t i = 0; i < p->width; i++) {
		size_t at = p->plen + i;
		d[i] = at < len ? p->digit[(unsigned char)key[at]] : 0;
	}
}

static char *from_digits(const struct plist *p, const unsigned *d)
{
	char *s = xmalloc(p->plen + p->width + 1);
	memcpy(s, p->prefix, p->plen);
	for (size_t i = 0; i < p->width; i++)
		s[p->plen + i] = (char)p->alpha[d[i]];
	s[p->plen + p->width] = '\0';
	return s;
}

/* a -= b; false if b > a. */
static bool digits_sub(const struct plist *p, unsigned *a, const unsigned *b)
{
	int borrow = 0;
	for (size_t i = p->width; i-- > 0;) {
		long v = (long)a[i] - (long)b[i] - borrow;
		borrow = v < 0;
		a[i] = (unsigned)(v < 0 ? v + (long)p->base : v);
	}
	return !borrow;
}

/* a += b * k; false on overflow (past the largest key of this width). */
static bool digits_add(const struct plist *p, unsigned *a, const unsigned *b, unsigned k)
{
	unsigned long carry = 0;
	for (size_t i = p->width; i-- > 0;) {
		unsigned long v = a[i] + (unsigned long)b[i] * k + carry;
		a[i] = (unsigned)(v % p->base);
		carry = v / p->base;
	}
	return carry == 0;
}

static double digits_value(const struct plist *p, const unsigned *d)
{
	double v = 0;
	for (size_t i = 0; i < p->width; i++)
		v = v * p->base + d[i];
	return v;
}

/* The digits and width from the first page; false when its keys give no
 * usable arithmetic (then the listing goes on one page at a time). */
static bool plist_learn_alphabet(struct plist *p, const struct pgr_object_list *l, size_t from)
{
	bool seen[256] = {false};
	size_t width = 0;
	for (size_t i = from; i < l->n; i++) {
		const char *k = l->items[i].key;
		size_t len = strlen(k);
		if (len < p->plen || strncmp(k, p->prefix, p->plen) != 0)
			return false;
		for (size_t j = p->plen; j < len; j++)
			seen[(unsigned char)k[j]] = true;
		if (len - p->plen > width)
			width = len - p->plen;
	}
	p->base = 0;
	unsigned below = 0;
	for (unsigned c = 0; c < 256; c++) {
		if (seen[c]) {
			p->alpha[p->base] = (unsigned char)c;
			below = p->base++;
		}
		p->digit[c] = below; /* bytes before the first one map to 0 */
	}
	p->width = width < MAX_WIDTH ? width : MAX_WIDTH;
	return p->base >= 2 && p->width > 0;
}

/* A full page: the key space it covered (called with mu held). */
static void plist_learn_span(struct plist *p, const struct pgr_object_list *l, size_t from)
{
	if (l->n < from + 2)
		return;
	unsigned a[MAX_WIDTH], b[MAX_WIDTH];
	to_digits(p, l->items[l->n - 1].key, a);
	to_digits(p, l->items[from].key, b);
	if (!digits_sub(p, a, b) || digits_value(p, a) <= 0)
		return;
	memcpy(p->span, a, sizeof a);
	p->span_keys = (double)(l->n - from - 1);
}

/* The upper bound of a range starting after lo: RANGE_PAGES pages' worth of
 * key space on; NULL (no bound) past the arithmetic's reach (mu held). */
static char *plist_bound(const struct plist *p, const char *lo)
{
	unsigned d[MAX_WIDTH];
	to_digits(p, lo, d);
	if (!digits_add(p, d, p->span, RANGE_PAGES))
		return NULL;
	char *hi = from_digits(p, d);
	if (strcmp(hi, lo) <= 0) { /* bytes outside the alphabet: no safe guess */
		free(hi);
		return NULL;
	}
	return hi;
}

/* How many keys to ask for from cur to reach hi without reading far past it
 * (mu held): the page's cost is mostly per key. */
static size_t plist_want(const struct plist *p, const char *cur, const char *hi)
{
	if (!hi || p->span_keys <= 0)
		return p->page;
	unsigned a[MAX_WIDTH], b[MAX_WIDTH];
	to_digits(p, hi, a);
	to_digits(p, cur, b);
	if (!digits_sub(p, a, b))
		return p->page;
	double est = digits_value(p, a) / digits_value(p, p->span) * p->span_keys;
	double want = est * 1.25 + 16;
	return want >= (double)p->page ? p->page : (size_t)want;
}

static struct range *plist_new_range(struct plist *p, const char *lo)
{
	struct range *r = xcalloc(1, sizeof *r);
	r->lo = xstrdup(lo);
	if (p->nranges == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->ranges = xrealloc(p->ranges, p->cap * sizeof *p->ranges);
	}
	p->ranges[p->nranges++] = r;
	return r;
}

/* Move item i of from to the end of to (the key changes hands, no copy). */
static void list_move(struct pgr_object_list *to, struct pgr_object_list *from, size_t i)
{
	if (to->n == to->cap) {
		to->cap = to->cap ? to->cap * 2 : 1024;
		to->items = xrealloc(to->items, to->cap * sizeof *to->items);
	}
	to->items[to->n++] = from->items[i];
	from->items[i].key = NULL;
}

/* List one range, (cur, hi], and whatever its last page can claim beyond. */
static void plist_run(struct plist *p, struct range *r, char *cur, char *hi)
{
	struct pgr_store *st = p->st;
	size_t floor = 0; /* grows while the guess of what is left falls short */
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t want = p->failed ? 0 : plist_want(p, cur, hi);
		pthread_mutex_unlock(&p->mu);
		if (!want)
			break;
		if (want < floor)
			want = floor < p->page ? floor : p->page;
		struct pgr_object_list pg = {0};
		bool more = false;
		struct pgr_error e = {0};
		if (!st->ops->list_page(st, p->prefix, cur, want, &pg, &more, &e)) {
			pthread_mutex_lock(&p->mu);
			if (!p->failed) {
				p->failed = true;
				p->err = e;
			}
			pthread_mutex_unlock(&p->mu);
			pgr_object_list_free(&pg);
			break;
		}
		if (more && pg.n >= p->page) {
			pthread_mutex_lock(&p->mu);
			plist_learn_span(p, &pg, 0);
			pthread_mutex_unlock(&p->mu);
		}
		/* The key strings stay where they are when the items move. */
		const char *last = pg.n ? pg.items[pg.n - 1].key : NULL;
		size_t i = 0;
		for (; i < pg.n && (!hi || strcmp(pg.items[i].key, hi) <= 0); i++)
			list_move(&r->keys, &pg, i);
		bool past = i < pg.n;
		pthread_mutex_lock(&p->mu);
		p->requests++;
		pthread_mutex_unlock(&p->mu);
		if (more && !pg.n) {
			pthread_mutex_lock(&p->mu);
			if (!p->failed) {
				p->failed = true;
				pgr_error_set(&p->err, PGR_ERR_INTERNAL,
				              "listing store \"%s\" under \"%s\": an empty page claimed more follow",
				              st->url, p->prefix);
			}
			pthread_mutex_unlock(&p->mu);
			pgr_object_list_free(&pg);
			break;
		}
		if (more && !past) {
			/* Still inside the range: ask for more next time if the guess was short. */
			floor = pg.n >= want ? 2 * want : 0;
			free(cur);
			cur = xstrdup(last);
			pgr_object_list_free(&pg);
			continue;
		}
		/* The range is done: the page reached past hi, or the listing ended.
		 * It holds every key in (cur, last]; those past the frontier are
		 * nobody's yet, and there are none past last if !more. */
		pthread_mutex_lock(&p->mu);
		bool go_on = false;
		if (p->frontier && last && strcmp(last, p->frontier) > 0) {
			struct range *r2 = plist_new_range(p, p->frontier);
			for (size_t j = i; j < pg.n; j++)
				if (pg.items[j].key && strcmp(pg.items[j].key, r2->lo) > 0)
					list_move(&r2->keys, &pg, j);
			free(p->frontier);
			p->frontier = NULL;
			free(hi);
			hi = NULL;
			if (more) {
				hi = plist_bound(p, last);
				p->frontier = hi ? xstrdup(hi) : NULL;
				free(cur);
				cur = xstrdup(last);
				r = r2;
				go_on = true;
			}
		} else if (!more) {
			free(p->frontier);
			p->frontier = NULL;
		}
		for (size_t j = i; j < pg.n; j++)
			p->wasted += pg.items[j].key != NULL;
		pthread_mutex_unlock(&p->mu);
		pgr_object_list_free(&pg);
		if (!go_on)
			break;
	}
	free(cur);
	free(hi);
}

static void *plist_worker(void *arg)
{
	struct plist *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->failed || !p->frontier) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		struct range *r = plist_new_range(p, p->frontier);
		char *cur = xstrdup(p->frontier);
		char *hi = plist_bound(p, p->frontier);
		free(p->frontier);
		p->frontier = hi ? xstrdup(hi) : NULL;
		pthread_mutex_unlock(&p->mu);
		plist_run(p, r, cur, hi);
	}
	/* OpenSSL's per-thread state (TLS errors libcurl's connections queued,
	 * digests'), which it would not free for this thread otherwise. */
	OPENSSL_thread_stop();
	return NULL;
}

static int range_cmp(const void *a, const void *b)
{
	return strcmp((*(struct range *const *)a)->lo, (*(struct range *const *)b)->lo);
}

static unsigned list_workers(const struct pgr_store *st)
{
	unsigned n = st->ops->list_workers;
	const char *e = getenv("PGRESCUE_LIST_WORKERS");
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (*end == '\0' && v >= 1)
			n = (unsigned)v;
	}
	return n > MAX_WORKERS ? MAX_WORKERS : n;
}

bool pgr_store_list(struct pgr_store *st, const char *prefix, struct pgr_object_list *out, struct pgr_error *err)
{
	unsigned workers = list_workers(st);
	size_t page = st->ops->list_page_keys;
	if (workers < 2 || !page)
		/* Ask for everything at once: object-store backends cap a page at what
		 * their service returns, and the file backend then walks the tree once
		 * instead of once per page (100,000 WAL segments: 11 walks -> 1). */
		return list_serial(st, prefix, NULL, LIST_ALL_PAGE_SIZE, out, err);
	if (!prefix)
		prefix = "";
	size_t base = out->n;
	bool more = false;
	if (!st->ops->list_page(st, prefix, NULL, page, out, &more, err))
		return false;
	if (!more)
		return true;
	if (out->n == base)
		return pgr_error_set(err, PGR_ERR_INTERNAL,
		                     "listing store \"%s\" under \"%s\": an empty page claimed more follow", st->url,
		                     prefix);
	struct plist p = {.st = st, .prefix = prefix, .plen = strlen(prefix), .page = page};
	if (!plist_learn_alphabet(&p, out, base))
		return list_serial(st, prefix, out->items[out->n - 1].key, page, out, err);
	plist_learn_span(&p, out, base);
	p.frontier = xstrdup(out->items[out->n - 1].key);
	pthread_mutex_init(&p.mu, NULL);
	pthread_t tids[MAX_WORKERS];
	unsigned started = 0;
	for (unsigned i = 0; i < workers; i++) {
		if (pthread_create(&tids[started], NULL, plist_worker, &p) == 0)
			started++;
	}
	if (!started)
		plist_worker(&p);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(p.frontier);
	qsort(p.ranges, p.nranges, sizeof *p.ranges, range_cmp);
	bool ok = !p.failed;
	if (!ok && err)
		*err = p.err;
	size_t first = out->n;
	for (size_t i = 0; i < p.nranges; i++) {
		struct range *r = p.ranges[i];
		for (size_t j = 0; ok && j < r->keys.n; j++)
			list_move(out, &r->keys, j);
		pgr_object_list_free(&r->keys);
		free(r->lo);
		free(r);
	}
	free(p.ranges);
	if (!ok)
		return false;
	pgr_debug("listed %zu keys under \"%s\" in %s: 1 + %lu requests by %u workers, %zu ranges, %lu keys read twice",
	          out->n - base, prefix, st->url, p.requests, started, p.nranges, p.wasted);
	/* Each range ascends and they do not overlap, so this holds; should it
	 * ever not, list again the slow way rather than return a wrong order. */
	for (size_t i = base + 1; i < out->n; i++) {
		if (strcmp(out->items[i - 1].key, out->items[i].key) >= 0) {
			pgr_warn("listing %s under \"%s\": the ranges listed side by side do not join up at \"%s\"; "
			         "listing again one page at a time",
			         st->url, prefix, out->items[i].key);
			for (size_t j = first; j < out->n; j++)
				free(out->items[j].key);
			out->n = first;
			return list_serial(st, prefix, out->n > base ? out->items[out->n - 1].key : NULL, page, out,
			                   err);
		}
	}
	return true;
}

bool pgr_store_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                         struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	bool dummy;
	if (!more)
		more = &dummy;
	*more = false;
	if (page_size == 0)
		page_size = LIST_PAGE_SIZE;
	return st->ops->list_page(st, prefix, after, page_size, out, more, err);
}

bool pgr_store_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	return st->ops->stat(st, key, out, err);
}

bool pgr_store_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
                   struct pgr_error *err)
{
	return st->ops->get(st, key, local_path, progress, pctx, err);
}

bool pgr_store_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err)
{
	return st->ops->get_head(st, key, buf, n, got, err);
}

bool pgr_store_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                   pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	return st->ops->put(st, key, local_path, consume, progress, pctx, err);
}

bool pgr_store_delete(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	return st->ops->del(st, key, err);
}

const char *pgr_store_staging_dir(struct pgr_store *st)
{
	return st->ops->staging_dir ? st->ops->staging_dir(st) : NULL;
}

void pgr_object_list_free(struct pgr_object_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].key);
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

void pgr_object_list_add(struct pgr_object_list *l, const char *key, uint64_t size, time_t mtime)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].size = size;
	l->items[l->n].mtime = mtime;
	l->n++;
}

char *pgr_store_local_path(struct pgr_store *st, const char *key)
{
	return st->ops->local_path ? st->ops->local_path(st, key) : NULL;
}

/* ------------------------------------------------------------ credentials file */

#define CREDENTIALS_MAX (64 * 1024)

static const char *user_name(uid_t uid, char *buf, size_t n)
{
	struct passwd *pw = getpwuid(uid);
	if (pw)
		snprintf(buf, n, "%s", pw->pw_name);
	else
		snprintf(buf, n, "uid %d", (int)uid);
	return buf;
}

bool pgr_store_credentials_read(const char *path, char **text, struct pgr_error *err)
{
	*text = NULL;
	char me[64], owner[64];
	user_name(geteuid(), me, sizeof me);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot read the store credentials file \"%s\" as user %s", path, me);
		if (e == ENOENT)
			err->kind = PGR_ERR_NOTFOUND;
		pgr_error_hint(err,
		               "store_credentials_file must name a file (mode 0600) owned by the user that runs "
		               "pgrescue and the database server's archive_command and restore_command (run_as); "
		               "`pgrescue wal-setup` checks it.");
		return false;
	}
	struct stat sb;
	bool ok = fstat(fd, &sb) == 0;
	if (!ok)
		pgr_error_errno(err, errno, "cannot stat the store credentials file \"%s\"", path);
	if (ok && !S_ISREG(sb.st_mode)) {
		ok = pgr_error_set(err, PGR_ERR_CONFIG, "the store credentials file \"%s\" is not a regular file",
		                   path);
	} else if (ok && (sb.st_mode & 077)) {
		ok = pgr_error_set(err, PGR_ERR_CONFIG,
		                   "the store credentials file \"%s\" may be read or written by others (mode %04o)",
		                   path, (unsigned)(sb.st_mode & 07777));
		pgr_error_hint(err, "It holds secrets: chmod 600 %s (owned by %s).", path,
		               user_name(sb.st_uid, owner, sizeof owner));
	} else if (ok && sb.st_size > CREDENTIALS_MAX) {
		ok = pgr_error_set(err, PGR_ERR_CONFIG, "the store credentials file \"%s\" is larger than %d KiB", path,
		                   CREDENTIALS_MAX / 1024);
	}
	if (ok) {
		char *buf = xmalloc((size_t)sb.st_size + 1);
		size_t got = 0;
		while (got < (size_t)sb.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = '\0';
		if (got != (size_t)sb.st_size) {
			ok = pgr_error_errno(err, errno, "cannot read the store credentials file \"%s\"", path);
			OPENSSL_cleanse(buf, got);
			free(buf);
		} else {
			*text = buf;
		}
	}
	close(fd);
	return ok;
}

void pgr_store_credentials_free(char *text)
{
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
}
