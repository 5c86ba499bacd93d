/* `pgrescue wal-setup` and `pgrescue store-check`: the database server's
 * side of a store. wal-setup writes the small config that archive_command
 * and restore_command read (no secrets: it names store_credentials_file),
 * checks that file, proves the server's user can list the store with it, and
 * prints the two commands to set. store-check is that proof, run as the
 * server's user. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "commands.h"
#include "ops/walsetup.h"
#include "recovery/pitr.h"
#include "recovery/audit.h"
#include "storage/layout.h"
#include "storage/storage.h"

int cmd_store_check(const struct globals *g, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage_error("store-check takes no arguments");
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_USAGE);
	}
	int code = EXIT_OK;
	struct pgr_store *st = pgr_store_open_env(e, &err);
	struct pgr_object_list l = {0};
	bool more = false;
	if (!st || !pgr_store_list_page(st, PGR_PREFIX_WAL, NULL, 1, &l, &more, &err)) {
		code = fail_with(&err, EXIT_FAIL);
	} else {
		struct passwd *pw = getpwuid(geteuid());
		printf("store %s: listed %s as %s (%s)\n", e->store, PGR_PREFIX_WAL, pw ? pw->pw_name : "this user",
		       l.n ? "WAL archived there" : "empty");
	}
	pgr_object_list_free(&l);
	pgr_store_close(st);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}

static void print_setting(const char *name, const char *shell)
{
	struct strbuf lit = STRBUF_INIT;
	sb_append_conf_literal(&lit, shell, false);
	printf("%s = %s\n", name, sb_str(&lit));
	sb_free(&lit);
}

int cmd_wal_setup(const struct globals *g, int argc, char **argv)
{
	const char *exe_opt = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--exe") && i + 1 < argc)
			exe_opt = argv[++i];
		else if (!strncmp(argv[i], "--exe=", 6))
			exe_opt = argv[i] + 6;
		else
			return usage_error("unknown option \"%s\" for wal-setup (it takes --exe PATH)", argv[i]);
	}
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_USAGE);
	}
	char *exe = exe_opt ? xstrdup(exe_opt) : pgr_pitr_self_exe(e);
	const char *user = pgr_walsetup_server_user(e);
	int code = EXIT_OK;
	if (!e->store || !*e->store) {
		pgr_error_set(&err, PGR_ERR_CONFIG, "environment \"%s\" has no store", e->name);
		code = fail_with(&err, EXIT_USAGE);
	} else if (pgr_walsetup_cloud(e)) {
		char *path = pgr_walsetup_config_path(e);
		if (!pgr_walsetup_check_credentials(e, &err)) {
			code = fail_with(&err, err.kind == PGR_ERR_CONFIG ? EXIT_USAGE : EXIT_FAIL);
		} else if (!pgr_walsetup_write_config(e, &err)) {
			code = fail_with(&err, EXIT_FAIL);
		} else {
			/* It changes what the server's archive_command and restore_command read. */
			char *detail = xasprintf("wrote %s ([env %s], no secret)", path, e->name);
			struct pgr_error aerr = {0};
			if (!pgr_audit_decision(e, "wal-setup", NULL, NULL, "done", "pgrescue wal-setup", detail,
			                        &aerr))
				fprintf(stderr, "pgrescue: WARNING: audit log: %s\n", aerr.msg);
			free(detail);
			printf("credentials    %s (0600, owned by %s)\n", e->store_credentials_file,
			       geteuid() == 0 ? user : "you");
			printf("server config  %s: [env %s] with the store's options, no secrets\n", path, e->name);
			char *carried = pgr_walsetup_carried(e);
			for (char *line = carried, *nl; line && *line; line = nl + 1) {
				nl = strchr(line, '\n');
				printf("  from yours   %.*s\n", (int)(nl - line), line);
			}
			free(carried);
			if (!pgr_walsetup_check_as_server(e, exe, &err)) {
				code = fail_with(&err, EXIT_FAIL);
			} else {
				printf("checked        %s lists %s with them\n", geteuid() == 0 ? user : "you",
				       e->store);
			}
		}
		free(path);
	}
	if (code == EXIT_OK) {
		char *push = pgr_walsetup_command(e, exe, true);
		char *fetch = pgr_walsetup_command(e, exe, false);
		printf("\nIn postgresql.conf (or ALTER SYSTEM SET), then reload:\n");
		print_setting("archive_command", push);
		printf("\nrestore_command, which `pgrescue pitr` writes itself:\n");
		print_setting("restore_command", fetch);
		free(push);
		free(fetch);
	}
	free(exe);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}
