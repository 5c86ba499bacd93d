/* The console: the dashboard and its views, driven by the collector's
 * snapshots and the key table. Never calls libpq or libcurl. */
#ifndef PGR_UI_H
#define PGR_UI_H

#include <stdbool.h>

#include "settings.h"

struct pgr_tui_opts {
	bool monitor; /* read-only status monitor: no dangerous action exists */
	const char *theme; /* NULL: the environment's, else "default" */
	bool no_color;
	int interval_ms; /* refresh, default 2000 */
	const char *config_path;
	/* --store and --dsn as given: what the console starts (b: backup) gets them too, so it works
	 * on the store and database the console shows, not the environment's configured ones. */
	const char *store_url;
	const char *dsn;
};

/* Run until the user quits; returns the exit code. */
int pgr_tui_run(const struct pgr_env *env, const struct pgr_tui_opts *opts);

#endif
