/* The database server's side of a store: archive_command and restore_command
 * run as the server's user (run_as), without the engineer's config or
 * variables. For a cloud store they read a small config of their own, written
 * next to store_credentials_file, which names that file: secrets stay in one
 * 0600 file and never in a command line, postgresql.auto.conf or a plan. */
#ifndef PGR_WALSETUP_H
#define PGR_WALSETUP_H

#include <stdbool.h>

#include "base/error.h"
#include "settings.h"

/* True when the store is not on this machine's file system (s3://, gs://,
 * az://): the server's user then needs credentials of its own. */
bool pgr_walsetup_cloud(const struct pgr_env *env);
/* The user archive_command and restore_command run as (run_as, else postgres). */
const char *pgr_walsetup_server_user(const struct pgr_env *env);
/* The server's config: pgrescue-server.ini in store_credentials_file's
 * directory; NULL without store_credentials_file. Newly allocated. */
char *pgr_walsetup_config_path(const struct pgr_env *env);
/* Write (or replace) the environment's section in the server's config: the
 * store and its non-secret options, and store_credentials_file. 0600, owned
 * by the server's user. */
bool pgr_walsetup_write_config(const struct pgr_env *env, struct pgr_error *err);
/* What that config takes from this process's variables because the
 * environment's section leaves it unset (the server's processes do not
 * have AWS_ENDPOINT_URL, AWS_REGION...): "s3_endpoint = URL (from
 * AWS_ENDPOINT_URL)" lines, or NULL. Newly allocated. */
char *pgr_walsetup_carried(const struct pgr_env *env);
/* store_credentials_file as the server will meet it: a regular file, mode
 * 0600, owned by the server's user (by us when not root), in a directory that
 * user can reach. Errors name the file, the user and the fix. */
bool pgr_walsetup_check_credentials(const struct pgr_env *env, struct pgr_error *err);
/* Run `EXE --config SERVER_CONFIG --env NAME store-check` as the server's
 * user, with the credential variables blanked so that only the file counts
 * (a timeout bounds it). Proves the server's user can list the store. */
bool pgr_walsetup_check_as_server(const struct pgr_env *env, const char *exe, struct pgr_error *err);
/* Can the server's user run exe (`exe --version`, as that user when we are
 * root)? archive_command and restore_command run it as that user, so a
 * program in a directory only we may enter fails there. Read-only. */
bool pgr_walsetup_check_exe(const struct pgr_env *env, const char *exe, struct pgr_error *err);
/* The shell text of archive_command (push) or restore_command for this
 * environment, with %p (and %f) left as placeholders and literal '%' in paths
 * doubled; not yet a postgresql.conf literal. Cloud stores go through the
 * server's config, file stores through --config /dev/null --store URL.
 * Newly allocated. */
char *pgr_walsetup_command(const struct pgr_env *env, const char *exe, bool push);

#endif
