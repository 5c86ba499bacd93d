/* The backup store: one interface, one file per backend. file:// now;
 * s3://, gs:// and az:// slot in as storage_s3.c / storage_azure.c.
 * Keys are relative to the store's root ("database/postgres-backup-...").
 * Writes are atomic: nothing is visible under a final key until complete. */
#ifndef PGR_STORAGE_H
#define PGR_STORAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/error.h"

struct pgr_object {
	char *key;
	uint64_t size;
	time_t mtime;
};

struct pgr_object_list {
	struct pgr_object *items;
	size_t n, cap;
};

/* Progress: bytes done of total (total 0 when unknown). Return false to cancel. */
typedef bool (*pgr_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct pgr_store;

struct pgr_store_ops {
	const char *scheme; /* "file" */
	bool (*open)(struct pgr_store *st, const char *url, struct pgr_error *err);
	void (*close)(struct pgr_store *st);
	/* One page of keys under prefix, sorted by key, starting after `after`
	 * (NULL: from the start). *more is set when another page follows. */
	bool (*list_page)(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
	                  struct pgr_object_list *out, bool *more, struct pgr_error *err);
	/* err->kind == PGR_ERR_NOTFOUND when absent. */
	bool (*stat)(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err);
	/* Stream an object to a local file (written atomically). */
	bool (*get)(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
	            struct pgr_error *err);
	/* First n bytes of an object (magic detection). *got may be < n. */
	bool (*get_head)(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got,
	                 struct pgr_error *err);
	/* Upload a local file under key; size verified after. If consume is true the
	 * backend may move the local file instead of copying it. */
	bool (*put)(struct pgr_store *st, const char *key, const char *local_path, bool consume,
	            pgr_progress_fn progress, void *pctx, struct pgr_error *err);
	bool (*del)(struct pgr_store *st, const char *key, struct pgr_error *err);
	/* A local directory on the same file system as the store where large
	 * files may be staged, so put(consume) is a rename; NULL if none. */
	const char *(*staging_dir)(struct pgr_store *st);
	/* The object's path on this machine when the backend is a local file
	 * system (readers such as pg_restore -j then need no copy); NULL if none.
	 * Newly allocated. */
	char *(*local_path)(struct pgr_store *st, const char *key);
	/* pgr_store_list may run this many list_page calls at once, on key
	 * ranges (list_page must then be thread-safe and honour any `after`
	 * without rescanning); 0 or 1: one page after the other. */
	unsigned list_workers;
	/* The service's own page (S3: 1,000 keys): what one list_page call of
	 * that size costs one request for. */
	size_t list_page_keys;
};

/* What a backend may take from the environment besides the URL (all may be NULL). */
struct pgr_store_opts {
	const char *s3_endpoint;
	const char *s3_region;
	const char *s3_url_style;
	const char *s3_sse;
	const char *s3_storage_class;
	const char *s3_profile;
	const char *azure_endpoint;
	const char *ca_file;
	const char *credentials_file; /* store_credentials_file: wins over the variables */
	/* Downloads are copies that can be fetched again (wal-fetch, whose file
	 * PostgreSQL syncs itself when it keeps it): renamed in when complete and
	 * checked, but not fsync'd. */
	bool no_sync;
	/* store_timeout: seconds each request may take to connect, and may
	 * stall mid-transfer, before it is retried; 0: the defaults (10 s, 30 s). */
	int timeout_sec;
};

struct pgr_store {
	const struct pgr_store_ops *ops;
	struct pgr_store_opts opts; /* copies, owned by the store; set before ops->open */
	char *url; /* as given (no secrets in it) */
	void *backend; /* the backend's own state */
};

/* Open a store from its URL; unknown schemes get a clear error and hint. */
struct pgr_store *pgr_store_open(const char *url, struct pgr_error *err);
/* The same with backend options (opts may be NULL). */
struct pgr_store *pgr_store_open_opts(const char *url, const struct pgr_store_opts *opts, struct pgr_error *err);
struct pgr_env;
/* The environment's store, with its s3_*, azure_* and ca_file keys. */
struct pgr_store *pgr_store_open_env(const struct pgr_env *env, struct pgr_error *err);
void pgr_store_close(struct pgr_store *st);

/* Every key under prefix (all pages), sorted. A backend with list_workers
 * lists key ranges side by side once the first page shows there is more
 * (PGRESCUE_LIST_WORKERS=N overrides how many; 1: one page at a time); the
 * result is the same keys in the same order either way. */
bool pgr_store_list(struct pgr_store *st, const char *prefix, struct pgr_object_list *out, struct pgr_error *err);
bool pgr_store_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                         struct pgr_object_list *out, bool *more, struct pgr_error *err);
bool pgr_store_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err);
bool pgr_store_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx,
                   struct pgr_error *err);
bool pgr_store_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err);
bool pgr_store_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                   pgr_progress_fn progress, void *pctx, struct pgr_error *err);
bool pgr_store_delete(struct pgr_store *st, const char *key, struct pgr_error *err);
const char *pgr_store_staging_dir(struct pgr_store *st);
/* Local path of an existing object, or NULL (remote backend, absent, bad key). */
char *pgr_store_local_path(struct pgr_store *st, const char *key);

/* For an s3:// or gs:// STORE_URL whose config leaves KEY ("s3_endpoint",
 * "s3_region") unset: the value the conventional variables give it
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION;
 * STORAGE_EMULATOR_HOST for gs://), and the variable's name in *var; NULL
 * when none is set or the store is another kind. */
const char *pgr_s3_env_option(const char *store_url, const char *key, const char **var);

/* The text of a store credentials file (store_credentials_file), read only if
 * it is a regular file no one but its owner may read or write (0600): errors
 * name the file and the user, never its contents. Free with
 * pgr_store_credentials_free, which wipes it. */
bool pgr_store_credentials_read(const char *path, char **text, struct pgr_error *err);
void pgr_store_credentials_free(char *text);

void pgr_object_list_free(struct pgr_object_list *l);
/* Append a copy of key (list building by backends). */
void pgr_object_list_add(struct pgr_object_list *l, const char *key, uint64_t size, time_t mtime);

/* Backends. */
extern const struct pgr_store_ops pgr_store_file_ops;
extern const struct pgr_store_ops pgr_store_s3_ops; /* s3:// */
extern const struct pgr_store_ops pgr_store_gs_ops; /* gs://, S3's code against GCS's XML API */
extern const struct pgr_store_ops pgr_store_azure_ops;

#endif
