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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	}
	if (!ops->open(st, url, err)) {
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

bool pgr_store_list(struct pgr_store *st, const char *prefix, struct pgr_object_list *out, struct pgr_error *err)
{
	bool more = true;
	char *after = NULL;
	while (more) {
		size_t before = out->n;
		more = false;
		/* Ask for everything at once: object-store backends cap a page at what
		 * their service returns, and the file backend then walks the tree once
		 * instead of once per page (100,000 WAL segments: 11 walks -> 1). */
		if (!st->ops->list_page(st, prefix, after, LIST_ALL_PAGE_SIZE, out, &more, err)) {
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
