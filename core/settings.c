/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "settings.h"

char * pgr_config_default_path(const char *cli_path)
{
	return NULL;
}

bool pgr_config_load(const char *path, bool must_exist, struct pgr_config *cfg, struct pgr_error *err)
{
	return false;
}

bool pgr_config_parse_string(const char *text, const char *name, struct pgr_config *cfg, struct pgr_error *err)
{
	return false;
}

void pgr_config_free(struct pgr_config *cfg)
{
}

const struct pgr_env * pgr_config_select(const struct pgr_config *cfg, const char *name, struct pgr_error *err)
{
	return NULL;
}

void pgr_env_defaults(struct pgr_env *env)
{
}

bool pgr_config_upsert_env(const char *path, const char *name, const char *const *keys, const char *const *values, int n, struct pgr_error *err)
{
	return false;
}

bool pgr_config_remove_env(const char *path, const char *name, struct pgr_error *err)
{
	return false;
}

