/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "model/catalog.h"

bool pgr_catalog_build(struct pgr_store *st, struct pgr_catalog *cat, struct pgr_error *err)
{
	return false;
}

bool pgr_catalog_from_listing(const struct pgr_object_list *objects, const char *const *manifest_labels, const char *const *manifest_json, size_t n_manifests, struct pgr_catalog *cat, struct pgr_error *err)
{
	return false;
}

void pgr_catalog_free(struct pgr_catalog *cat)
{
}

const struct pgr_dump * pgr_catalog_newest_dump(const struct pgr_catalog *cat)
{
	return NULL;
}

const struct pgr_base * pgr_catalog_newest_base(const struct pgr_catalog *cat)
{
	return NULL;
}

void pgr_catalog_window(const struct pgr_catalog *cat, struct pgr_window *w)
{
}

void pgr_window_free(struct pgr_window *w)
{
}

