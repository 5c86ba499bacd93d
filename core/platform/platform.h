/* Where the application and the database run, and how to change them:
 * scale the app, stop and start the server. One file per platform:
 * platform_local.c now, platform_kubernetes.c later. */
#ifndef PGR_PLATFORM_H
#define PGR_PLATFORM_H

#include <stdbool.h>

#include "base/error.h"
#include "settings.h"

struct pgr_platform;

struct pgr_platform_ops {
	const char *name;
	bool (*app_replicas)(struct pgr_platform *p, int *replicas, struct pgr_error *err);
	/* Scale the application and wait until it has exactly n replicas. */
	bool (*app_scale)(struct pgr_platform *p, int n, struct pgr_error *err);
	bool (*db_running)(struct pgr_platform *p, bool *running, struct pgr_error *err);
	bool (*db_start)(struct pgr_platform *p, struct pgr_error *err);
	bool (*db_stop)(struct pgr_platform *p, struct pgr_error *err);
	/* Start without waiting for connections: a server in archive recovery
	 * accepts none until consistent, and the caller follows replay itself. */
	bool (*db_start_nowait)(struct pgr_platform *p, struct pgr_error *err);
	/* Where the server's log goes (newly allocated), for recovery messages. */
	char *(*db_log_path)(struct pgr_platform *p);
	/* The exact command behind db_start/db_stop/db_start_nowait ("start",
	 * "stop", "start-nowait"), for plans and the audit log. Newly allocated. */
	char *(*describe_db)(struct pgr_platform *p, const char *action);
	/* A human description of a scale command, for plans and --dry-run. */
	char *(*describe_scale)(struct pgr_platform *p, int n);
	void (*close)(struct pgr_platform *p);
};

struct pgr_platform {
	const struct pgr_platform_ops *ops;
	const struct pgr_env *env;
	void *state;
};

struct pgr_platform *pgr_platform_open(const struct pgr_env *env, struct pgr_error *err);
void pgr_platform_close(struct pgr_platform *p);

extern const struct pgr_platform_ops pgr_platform_local_ops;

/* The built-in application of the sandbox: replicas are processes with pid
 * files under <dir>/app; each inserts a clip every second through dsn. */
bool pgr_app_builtin_replicas(const char *dir, int *replicas, struct pgr_error *err);
bool pgr_app_builtin_scale(const char *dir, const char *self_exe, const char *dsn, int n, struct pgr_error *err);
/* The body of one replica (`pgrescue sandbox app-replica`); returns on SIGTERM. */
int pgr_app_builtin_replica_main(const char *dsn, int interval_ms);

#endif
