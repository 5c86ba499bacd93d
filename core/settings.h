/* Configuration: an INI file with one [env NAME] section per environment,
 * parsed with libinih. Names the platform, database, store, retention and
 * thresholds of each environment. No passwords: libpq's PG* variables,
 * .pgpass and service files supply them. */
#ifndef PGR_SETTINGS_H
#define PGR_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define PGR_MAX_ENVS 32

struct pgr_env {
	char *name;
	int line; /* line of the [env NAME] header */
	char *platform; /* "local" (default), later "kubernetes" */
	char *dsn; /* libpq conninfo or "service=NAME" */
	char *store; /* file:///path, later s3:// gs:// az:// */
	char *pg_bindir; /* where pg_dump etc. live; default from pg_config */
	char *run_as; /* run PostgreSQL server programs as this user when root (default postgres) */
	char *data_dir; /* local platform: the server's data directory (PITR, stop/start) */

	/* Retention, seconds. */
	int64_t retention_dumps; /* 30d */
	int64_t retention_base; /* 7d: base backups kept to cover the WAL window */
	int64_t retention_wal; /* 7d */
	int64_t retention_snapshots; /* 14d */

	/* Thresholds, seconds. */
	int64_t backup_max_age; /* 24h */
	int64_t wal_lag_warn; /* 5m */
	int64_t wal_lag_critical; /* 15m */
	int64_t rto_target; /* 30m */
	int64_t rto_max; /* 60m */

	/* Local platform: how the application is scaled. "builtin" (the sandbox
	 * app) or "command" with the two commands below ({replicas} is replaced). */
	char *app_scale;
	char *app_scale_get_command;
	char *app_scale_set_command;
	char *app_name;

	/* Metrics from `backup`: a file in Prometheus text format, and a Pushgateway. */
	char *metrics_file;
	char *pushgateway; /* http://host:9091 */
	char *prometheus; /* http://host:9090, read by the dashboard */

	/* Cloud stores. Credentials never go here: they come from the standard
	 * variables (AWS_ACCESS_KEY_ID..., ~/.aws/credentials, AZURE_STORAGE_*). */
	char *s3_endpoint; /* http(s)://host:port for MinIO, Ceph, R2, GCS (default: AWS, or $AWS_ENDPOINT_URL) */
	char *s3_region; /* default $AWS_REGION, else us-east-1 */
	char *s3_url_style; /* "virtual" (default) or "path" */
	char *s3_sse; /* server-side encryption, e.g. AES256 (the deployment's) */
	char *s3_storage_class; /* e.g. STANDARD_IA */
	char *s3_profile; /* ~/.aws/credentials profile (default $AWS_PROFILE, else default) */
	char *azure_endpoint; /* blob endpoint (default from the connection string, else
	                         https://ACCOUNT.blob.core.windows.net) */
	char *ca_file; /* CA bundle for TLS to the store (default: the system's) */
	/* A file holding the store's credentials, for pgrescue and for the database
	 * server's archive_command/restore_command (which run as run_as without the
	 * engineer's variables): AWS shared-credentials format for s3:// and gs://
	 * (the s3_profile section, else [default]), an Azure connection string for
	 * az://. Absolute path; 0600, owned by the server's user. When set it wins
	 * over the AWS_*, GOOGLE_* and AZURE_STORAGE_* variables. */
	char *store_credentials_file;
	int64_t store_timeout; /* seconds a store request may take to connect, or stall
	                          mid-transfer, before it is retried (0: 10 s and 30 s) */

	/* The audit log (default <state dir>/audit.log) and an optional HMAC key
	 * file (not readable by others) that turns the hash chain into HMACs. */
	char *audit_log;
	char *audit_key_file;

	bool readonly;
	char *theme;
	char *sandbox_dir; /* set for the environment `sandbox up` made */
};

struct pgr_config {
	char *path; /* the file that was read ("" when none) */
	char *default_env; /* `default = NAME` at the top */
	struct pgr_env envs[PGR_MAX_ENVS];
	int n_envs;
};

/* The config file to read: --config, else $PGRESCUE_CONFIG, else
 * $XDG_CONFIG_HOME/pgrescue/config.ini (~/.config/...). Newly allocated. */
char *pgr_config_default_path(const char *cli_path);
/* Read and validate a config file. A missing file at the default path is an
 * empty config (no error); a missing file named explicitly is an error.
 * Errors name file:line and the key. Warns (stderr) if readable by others. */
bool pgr_config_load(const char *path, bool must_exist, struct pgr_config *cfg, struct pgr_error *err);
/* Parse from memory (unit tests, fuzzing); `name` is used in messages. */
bool pgr_config_parse_string(const char *text, const char *name, struct pgr_config *cfg, struct pgr_error *err);
void pgr_config_free(struct pgr_config *cfg);
/* Pick the environment: `name` if given, else `default`, else the only one. */
const struct pgr_env *pgr_config_select(const struct pgr_config *cfg, const char *name, struct pgr_error *err);
/* Defaults for an environment not from a file (e.g. --dsn/--store on the command line).
 * Every string of an environment is owned by it: pgr_env_free releases them. */
void pgr_env_defaults(struct pgr_env *env);
/* Deep copy (dst is overwritten, not freed first). */
void pgr_env_copy(struct pgr_env *dst, const struct pgr_env *src);
void pgr_env_free(struct pgr_env *env);
/* The environment as an [env NAME] INI section, every key written out, so
 * that pgr_config_parse_string gives the same environment back (plans carry
 * their environment this way). Newly allocated. */
char *pgr_env_to_ini(const struct pgr_env *env);
/* Replace one string field, freeing the old value. */
void pgr_env_set(char **field, const char *value);
/* Add or replace one [env NAME] section in the file at path, keeping every
 * other section and comment untouched; creates the file (0600) and its
 * directory when missing. keys/values are parallel, n entries. */
bool pgr_config_upsert_env(const char *path, const char *name, const char *const *keys, const char *const *values,
                           int n, struct pgr_error *err);
/* Remove the [env NAME] section (and `default = NAME` if it points there). */
bool pgr_config_remove_env(const char *path, const char *name, struct pgr_error *err);

#endif
