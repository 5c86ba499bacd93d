/* The platform front door: pick the backend named by the environment's
 * `platform` key. Adding Kubernetes adds a row here and a file, nothing in
 * the callers. */
#include "config.h"

#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

static const struct pgr_platform_ops *const backends[] = {
        &pgr_platform_local_ops,
};

/* Platforms we know about but have not built yet. */
static const char *const planned[] = {"kubernetes"};

struct pgr_platform *pgr_platform_open(const struct pgr_env *env, struct pgr_error *err)
{
	const char *name = env && env->platform && *env->platform ? env->platform : "local";
	const char *env_name = env && env->name ? env->name : "(unnamed)";
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
		if (strcmp(backends[i]->name, name) != 0)
			continue;
		struct pgr_platform *p = xcalloc(1, sizeof *p);
		p->ops = backends[i];
		p->env = env;
		return p;
	}
	for (size_t i = 0; i < sizeof planned / sizeof planned[0]; i++) {
		if (strcmp(planned[i], name) == 0) {
			pgr_error_set(err, PGR_ERR_CONFIG, "platform \"%s\" of environment \"%s\" is not supported yet",
			              name, env_name);
			pgr_error_hint(err,
			               "Use platform = local with app_scale = command and app_scale_get_command / "
			               "app_scale_set_command (e.g. kubectl scale ...) until it lands.");
			return NULL;
		}
	}
	pgr_error_set(err, PGR_ERR_CONFIG, "unknown platform \"%s\" in environment \"%s\"", name, env_name);
	pgr_error_hint(err, "Supported: platform = local.");
	return NULL;
}

void pgr_platform_close(struct pgr_platform *p)
{
	if (!p)
		return;
	if (p->ops && p->ops->close)
		p->ops->close(p);
	free(p);
}
