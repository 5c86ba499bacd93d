/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "storage/storage.h"

struct pgr_store * pgr_store_open(const char *url, struct pgr_error *err)
{
	return NULL;
}

void pgr_store_close(struct pgr_store *st)
{
}

bool pgr_store_list(struct pgr_store *st, const char *prefix, struct pgr_object_list *out, struct pgr_error *err)
{
	return false;
}

bool pgr_store_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size, struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	return false;
}

bool pgr_store_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	return false;
}

bool pgr_store_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	return false;
}

bool pgr_store_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got, struct pgr_error *err)
{
	return false;
}

bool pgr_store_put(struct pgr_store *st, const char *key, const char *local_path, bool consume, pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	return false;
}

bool pgr_store_delete(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	return false;
}

const char * pgr_store_staging_dir(struct pgr_store *st)
{
	return NULL;
}

void pgr_object_list_free(struct pgr_object_list *l)
{
}

void pgr_object_list_add(struct pgr_object_list *l, const char *key, uint64_t size, time_t mtime)
{
}

