/* The command line's shared parts: global options, loading the environment,
 * error exits. main.c parses argv and dispatches; the recovery commands
 * (restore, pitr, runs) and audit live in their own files. */
#ifndef PGR_COMMANDS_H
#define PGR_COMMANDS_H

#include <stdbool.h>

#include "base/error.h"
#include "settings.h"

/* Exit codes. status has its own: 0 ok, 1 warning, 2 critical, 3 unknown. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct globals {
	const char *config_path; /* --config */
	const char *env_name; /* --env */
	const char *store_url; /* --store: overrides (or replaces) the environment's store */
	const char *dsn; /* --dsn */
	bool json;
	const char *theme; /* --theme */
	bool no_color; /* --no-color */
	int interval_ms; /* --interval SECONDS; 0: the default */
};

int fail_with(const struct pgr_error *err, int code);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Load the config and select the environment into *adhoc (which the caller
 * frees with pgr_env_free); --store/--dsn override it. */
bool load_env(const struct globals *g, struct pgr_config *cfg, struct pgr_env *adhoc, const struct pgr_env **env_out,
              bool need_env, struct pgr_error *err);

/* Recovery commands (cmd_recovery.c). argv[0] is the command name. */
int cmd_restore(const struct globals *g, int argc, char **argv);
int cmd_pitr(const struct globals *g, int argc, char **argv);
int cmd_runs(const struct globals *g, int argc, char **argv);
/* `pgrescue audit verify|show` (cmd_audit.c). */
int cmd_audit(const struct globals *g, int argc, char **argv);
/* `pgrescue window` and `pgrescue events` (cmd_events.c). */
int cmd_window(const struct globals *g, int argc, char **argv);
int cmd_events(const struct globals *g, int argc, char **argv);
/* `pgrescue wal-setup` and `pgrescue store-check` (cmd_walsetup.c). */
int cmd_wal_setup(const struct globals *g, int argc, char **argv);
int cmd_store_check(const struct globals *g, int argc, char **argv);

#endif
