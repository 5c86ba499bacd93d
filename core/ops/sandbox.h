/* The embedded sandbox: a real PostgreSQL cluster archiving through
 * `pgrescue wal-push` into a file:// store laid out like the production bucket,
 * clipper_db with users and clips, an "app" whose replicas are real processes,
 * and a first backup. Registered as [env sandbox] in the user's config. */
#ifndef PGR_SANDBOX_H
#define PGR_SANDBOX_H

#include <stdbool.h>

#include "base/error.h"

struct pgr_sandbox_opts {
	const char *dir; /* NULL: $XDG_STATE_HOME/pgrescue/sandbox */
	const char *config_path; /* the user's config file to register [env sandbox] in */
	const char *pg_bindir; /* NULL: build default */
	int port; /* 0: pick a free one */
	int users; /* rows in users (default 5,000) */
	int clips; /* rows in clips (default 40,000) */
	int replicas; /* app replicas to start (default 3) */
	bool quiet;
};

void pgr_sandbox_opts_default(struct pgr_sandbox_opts *o);
/* Resolve the sandbox directory (where state lives). Newly allocated. */
char *pgr_sandbox_dir(const char *override);
bool pgr_sandbox_up(const struct pgr_sandbox_opts *o, struct pgr_error *err);
bool pgr_sandbox_down(const struct pgr_sandbox_opts *o, struct pgr_error *err);
/* Prints a short report; false when not set up. */
bool pgr_sandbox_status(const struct pgr_sandbox_opts *o, struct pgr_error *err);

#endif
