/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "platform/platform.h"

struct pgr_platform * pgr_platform_open(const struct pgr_env *env, struct pgr_error *err)
{
	return NULL;
}

void pgr_platform_close(struct pgr_platform *p)
{
}

bool pgr_app_builtin_replicas(const char *dir, int *replicas, struct pgr_error *err)
{
	return false;
}

bool pgr_app_builtin_scale(const char *dir, const char *self_exe, const char *dsn, int n, struct pgr_error *err)
{
	return false;
}

int pgr_app_builtin_replica_main(const char *dsn, int interval_ms)
{
	return 0;
}

