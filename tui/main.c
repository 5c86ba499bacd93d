/* pgrescue's entry point: argv -> command, and the only place that decides
 * exit codes. Commands are thin: they load the configuration, pick the
 * environment and call core/. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "commands.h"
#include "keymap.h"
#include "ops/backup.h"
#include "ops/sandbox.h"
#include "ops/status.h"
#include "ops/wal.h"
#include "recovery/audit.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "platform/platform.h"
#include "settings.h"
#include "storage/storage.h"
#include "ui.h"

static void usage(FILE *out)
{
	fputs("pgrescue: incident-response console for PostgreSQL backup and recovery\n"
	      "\n"
	      "Usage: pgrescue [--config FILE] [--env NAME] [COMMAND [ARGS]]\n"
	      "\n"
	      "Commands:\n"
	      "  (none)                 the console (dashboard) on a terminal; `status` otherwise\n"
	      "  monitor                the console as a read-only status monitor (wallboards)\n"
	      "  status [--json]        one-shot health; exit 0 ok, 1 warning, 2 critical, 3 unknown\n"
	      "  backup [--no-dump] [--no-base] [--no-retention]\n"
	      "                         logical dump + physical base backup, manifests, retention, metrics\n"
	      "  wal-push PATH          archive_command: archive one WAL file (%p)\n"
	      "  wal-fetch NAME PATH    restore_command: fetch WAL file NAME (%f) to PATH (%p)\n"
	      "  wal-setup [--exe PATH] the server's side of a cloud store: writes the config its\n"
	      "                         archive_command and restore_command read, checks\n"
	      "                         store_credentials_file as the server's user, prints both commands\n"
	      "  store-check            list the store once (exit 0 when it answers)\n"
	      "  sandbox up|down|status the embedded demo environment (PostgreSQL, store, app)\n"
	      "  restore [--backup ID|latest] [--jobs N] [--dry-run] [--yes] [--incident ID --reason TEXT]\n"
	      "                         full restore of a dump into a fresh database, verified, then swapped in\n"
	      "  pitr (--time T | --xid X | --lsn L | --name N | --immediate) [--exclusive] [--pause]\n"
	      "       [--backup LABEL] [--dry-run] [--yes] [--incident ID --reason TEXT]\n"
	      "                         point-in-time recovery (a time needs its zone: 2026-11-24 03:12:00+01)\n"
	      "  runs [list | show ID | attach ID | resume ID | cancel ID]\n"
	      "                         recovery runs: they go on without the terminal; ID may be `last`\n"
	      "  runs inspect ID [--sql QUERY] [--limit N] [--timeout S] [--json]\n"
	      "                         a paused pitr (--pause): row counts, or a read-only query of yours\n"
	      "  runs retarget ID (--time T | --xid X | --lsn L | --name N) [--exclusive] [--yes]\n"
	      "                         a paused pitr replays on to a later target, without starting over\n"
	      "  window [--json]        the recoverable window per timeline; events --since T [--until T]\n"
	      "         [--min-rows N] [--json]: DROP/TRUNCATE/mass DELETE found in the archived WAL\n"
	      "  audit verify|show [--run ID] [--last N] [--json]\n"
	      "                         the audit log: check its hash chain, or list what happened\n"
	      "\n"
	      "restore and pitr print their plan, check it, and ask for the environment's name to be\n"
	      "typed; without a terminal they refuse unless given --yes together with --env NAME.\n"
	      "\n"
	      "Global options:\n"
	      "  --config FILE          configuration file (default $PGRESCUE_CONFIG, then\n"
	      "                         $XDG_CONFIG_HOME/pgrescue/config.ini)\n"
	      "  --env NAME             the [env NAME] section to use\n"
	      "  --store URL            backup store URL, overriding the environment's (file:///...)\n"
	      "  --dsn CONNINFO         database connection, overriding the environment's\n"
	      "  --theme NAME           console theme: default, light, mono, high-contrast,\n"
	      "                         deuteranopia, tritanopia, or one in $XDG_CONFIG_HOME/pgrescue/themes\n"
	      "  --no-color             no colour in the console (as NO_COLOR=1)\n"
	      "  --interval SECONDS     console refresh interval (default 2; + and - change it)\n"
	      "  --help-keys            the console's keys, one per line (key, label, help, dangerous)\n"
	      "  -v, --verbose          more diagnostics on stderr (repeat for debug)\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n",
	      out);
}

int fail_with(const struct pgr_error *err, int code)
{
	pgr_error_print(stderr, err);
	return code;
}

int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pgrescue: ERROR: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nHINT: Run \"pgrescue --help\" for the commands and options.\n");
	return EXIT_USAGE;
}

/* Load the config and select the environment. With --store (and no config
 * file) an ad-hoc environment is made, so archive_command needs no config. */
bool load_env(const struct globals *g, struct pgr_config *cfg, struct pgr_env *adhoc, const struct pgr_env **env_out,
              bool need_env, struct pgr_error *err)
{
	char *path = pgr_config_default_path(g->config_path);
	bool explicit_path = g->config_path || getenv("PGRESCUE_CONFIG");
	bool ok = pgr_config_load(path, explicit_path, cfg, err);
	free(path);
	if (!ok)
		return false;
	const struct pgr_env *env = NULL;
	if (cfg->n_envs > 0 || g->env_name || !(g->store_url || g->dsn)) {
		env = pgr_config_select(cfg, g->env_name, err);
		if (!env && (need_env || cfg->n_envs > 0 || g->env_name))
			return false;
	}
	pgr_error_clear(err);
	if (env)
		pgr_env_copy(adhoc, env);
	else
		pgr_env_defaults(adhoc);
	if (g->store_url)
		pgr_env_set(&adhoc->store, g->store_url);
	if (g->dsn)
		pgr_env_set(&adhoc->dsn, g->dsn);
	if (!adhoc->name)
		adhoc->name = xstrdup("(command line)");
	*env_out = adhoc;
	return true;
}

static int cmd_status(const struct globals *g, int argc, char **argv)
{
	bool json = g->json;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return usage_error("unknown option \"%s\" for status", argv[i]);
	}
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		int code = err.kind == PGR_ERR_CONFIG || err.kind == PGR_ERR_USAGE ? EXIT_USAGE : 3;
		pgr_error_print(stderr, &err);
		pgr_config_free(&cfg);
		return code;
	}
	struct pgr_status s;
	pgr_status_init(&s);
	pgr_status_collect(e, &s);
	pgr_status_evaluate(e, &s);
	if (json) {
		char *doc = pgr_status_to_json(&s);
		puts(doc);
		free(doc);
	} else {
		pgr_status_print(&s, stdout);
	}
	int code = (int)s.overall;
	pgr_status_free(&s);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}

static int cmd_backup(const struct globals *g, int argc, char **argv)
{
	struct pgr_backup_opts o;
	pgr_backup_opts_default(&o);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-dump"))
			o.dump = false;
		else if (!strcmp(argv[i], "--no-base"))
			o.base = false;
		else if (!strcmp(argv[i], "--no-retention"))
			o.retention = false;
		else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q"))
			o.quiet = true;
		else
			return usage_error("unknown option \"%s\" for backup", argv[i]);
	}
	if (!o.dump && !o.base)
		return usage_error("nothing to do: both --no-dump and --no-base given");
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_USAGE);
	}
	/* A backup is an action like any other: audited before and after. A log
	 * that cannot be written does not stop the nightly backup; it is said. */
	struct pgr_audit audit;
	struct pgr_error aerr = {0};
	bool audited = pgr_audit_open(&audit, e->audit_log, e->audit_key_file, &aerr);
	if (!audited)
		fprintf(stderr, "pgrescue: WARNING: the backup is not audited: %s\n", aerr.msg);
	struct strbuf cmd = STRBUF_INIT;
	sb_append(&cmd, "pgrescue backup");
	for (int i = 1; i < argc; i++)
		sb_printf(&cmd, " %s", argv[i]);
	struct pgr_audit_event ev = {
	        .env = e->name, .plan = "backup", .phase = "intent", .command = sb_str(&cmd), .duration_ms = -1};
	if (audited && !pgr_audit_append(&audit, &ev, &aerr))
		fprintf(stderr, "pgrescue: WARNING: audit log: %s\n", aerr.msg);
	double t0 = pgr_monotonic();
	struct pgr_backup_result res = {0};
	bool ok = pgr_backup_run(e, &o, &res, &err);
	if (audited) {
		char detail[256];
		snprintf(detail, sizeof detail, "label %s", res.label[0] ? res.label : "-");
		ev.phase = "outcome";
		ev.outcome = ok ? "ok" : "failed";
		ev.detail = ok ? detail : err.msg;
		ev.duration_ms = (int64_t)((pgr_monotonic() - t0) * 1000);
		if (!pgr_audit_append(&audit, &ev, &aerr))
			fprintf(stderr, "pgrescue: WARNING: audit log: %s\n", aerr.msg);
		pgr_audit_close(&audit);
	}
	sb_free(&cmd);
	int code = EXIT_OK;
	if (!ok)
		code = fail_with(&err, EXIT_FAIL);
	pgr_backup_result_free(&res);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}

static int cmd_wal(const struct globals *g, int argc, char **argv, bool push)
{
	if (push && argc != 2)
		return usage_error("wal-push takes one argument: the WAL file's path (%%p)");
	if (!push && argc != 3)
		return usage_error(
		        "wal-fetch takes two arguments: the WAL file's name (%%f) and where to put it (%%p)");
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_USAGE);
	}
	if (!e->store || !*e->store) {
		pgr_env_free(&env);
		pgr_config_free(&cfg);
		pgr_error_set(&err, PGR_ERR_CONFIG, "environment \"%s\" has no store", e->name);
		pgr_error_hint(&err, "Set store = file:///path in its [env] section, or pass --store URL.");
		return fail_with(&err, EXIT_USAGE);
	}
	struct pgr_store *st = pgr_store_open_env(e, &err);
	if (!st) {
		pgr_env_free(&env);
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_FAIL);
	}
	/* restore_command's file is a copy PostgreSQL syncs itself when it keeps
	 * it: waiting for the disk on every segment only slows replay. */
	if (!push)
		st->opts.no_sync = true;
	enum pgr_wal_result r = push ? pgr_wal_push(st, argv[1], &err) : pgr_wal_fetch(st, argv[1], argv[2], &err);
	pgr_store_close(st);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	switch (r) {
	case PGR_WAL_OK: return EXIT_OK;
	case PGR_WAL_ALREADY: pgr_info("%s is already archived with identical contents", argv[1]); return EXIT_OK;
	case PGR_WAL_MISSING:
		/* An ordinary answer to restore_command: the file is not archived. */
		if (pgr_log_level() >= PGR_LOG_INFO)
			pgr_error_print(stderr, &err);
		return EXIT_FAIL;
	case PGR_WAL_CONFLICT:
	case PGR_WAL_ERROR:
	default: return fail_with(&err, EXIT_FAIL);
	}
}

static int cmd_sandbox(const struct globals *g, int argc, char **argv)
{
	if (argc < 2)
		return usage_error("sandbox needs a subcommand: up, down or status");
	struct pgr_sandbox_opts o;
	pgr_sandbox_opts_default(&o);
	char *cfgpath = pgr_config_default_path(g->config_path);
	o.config_path = cfgpath;
	struct pgr_error err = {0};
	int code = EXIT_OK;
	const char *sub = argv[1];
	if (!strcmp(sub, "app-replica")) {
		/* Internal: one replica of the sandbox's built-in app. */
		free(cfgpath);
		if (argc != 3)
			return usage_error("sandbox app-replica takes the database connection string");
		return pgr_app_builtin_replica_main(argv[2], 1000);
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
			o.quiet = true;
		} else if (!strncmp(argv[i], "--dir=", 6)) {
			o.dir = argv[i] + 6;
		} else {
			free(cfgpath);
			return usage_error("unknown option \"%s\" for sandbox", argv[i]);
		}
	}
	bool ok;
	if (!strcmp(sub, "up"))
		ok = pgr_sandbox_up(&o, &err);
	else if (!strcmp(sub, "down"))
		ok = pgr_sandbox_down(&o, &err);
	else if (!strcmp(sub, "status"))
		ok = pgr_sandbox_status(&o, &err);
	else {
		free(cfgpath);
		return usage_error("unknown sandbox subcommand \"%s\" (up, down or status)", sub);
	}
	if (!ok)
		code = fail_with(&err, EXIT_FAIL);
	free(cfgpath);
	return code;
}

/* The key table as plain text, for scripts, screen readers and tests. */
static void print_keys(void)
{
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE; k++)
		printf("%s\t%s\t%s\t%s\n", k->keyname, k->label, k->help, k->dangerous ? "dangerous" : "-");
}

static bool parse_interval(const char *s, int *ms)
{
	char *end = NULL;
	double v = strtod(s, &end);
	if (!end || end == s || *end || !(v >= 0.5 && v <= 3600))
		return false;
	*ms = (int)(v * 1000.0 + 0.5);
	return true;
}

/* The console: the dashboard, or (monitor) the read-only status monitor. */
static int cmd_console(const struct globals *g, bool monitor, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("unknown argument \"%s\" for %s", argv[1], argv[0]);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return usage_error("the console needs a terminal on stdin and stdout; for plain text use `pgrescue "
		                   "status` (or `status --json`)");
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, true, &err)) {
		pgr_config_free(&cfg);
		return fail_with(&err, EXIT_USAGE);
	}
	struct pgr_tui_opts o = {0};
	o.monitor = monitor || e->readonly;
	o.theme = g->theme;
	o.no_color = g->no_color;
	o.interval_ms = g->interval_ms > 0 ? g->interval_ms : 2000;
	o.config_path = g->config_path;
	o.store_url = g->store_url;
	o.dsn = g->dsn;
	int code = pgr_tui_run(e, &o);
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}

int main(int argc, char **argv)
{
	struct globals g = {0};
	int verbose = 0;
	static const struct option longopts[] = {
	        {"config", required_argument, NULL, 'c'}, {"env", required_argument, NULL, 'e'},
	        {"store", required_argument, NULL, 's'},  {"dsn", required_argument, NULL, 'd'},
	        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},      {"json", no_argument, NULL, 'j'},
	        {"theme", required_argument, NULL, 't'},  {"no-color", no_argument, NULL, 'n'},
	        {"no-colour", no_argument, NULL, 'n'},    {"interval", required_argument, NULL, 'i'},
	        {"help-keys", no_argument, NULL, 'k'},    {NULL, 0, NULL, 0},
	};
	int c;
	/* '+': stop at the first non-option, which is the command. */
	while ((c = getopt_long(argc, argv, "+c:e:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': g.config_path = optarg; break;
		case 'e': g.env_name = optarg; break;
		case 's': g.store_url = optarg; break;
		case 'd': g.dsn = optarg; break;
		case 'j': g.json = true; break;
		case 't': g.theme = optarg; break;
		case 'n': g.no_color = true; break;
		case 'i':
			if (!parse_interval(optarg, &g.interval_ms))
				return usage_error("--interval takes seconds between 0.5 and 3600, not \"%s\"", optarg);
			break;
		case 'k': print_keys(); return EXIT_OK;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("pgrescue %s\n", PACKAGE_VERSION); return EXIT_OK;
		default:
			fputs("HINT: Run \"pgrescue --help\" for the commands and options.\n", stderr);
			return EXIT_USAGE;
		}
	}
	pgr_log_set_level(verbose >= 2 ? PGR_LOG_DEBUG : verbose == 1 ? PGR_LOG_INFO : PGR_LOG_WARN);
	int n = argc - optind;
	char **args = argv + optind;
	if (n == 0) {
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			char *none[] = {(char *)"console", NULL};
			return cmd_console(&g, false, 1, none);
		}
		char *none[] = {(char *)"status", NULL};
		return cmd_status(&g, 1, none);
	}
	const char *cmd = args[0];
	if (!strcmp(cmd, "status"))
		return cmd_status(&g, n, args);
	if (!strcmp(cmd, "backup"))
		return cmd_backup(&g, n, args);
	if (!strcmp(cmd, "wal-push"))
		return cmd_wal(&g, n, args, true);
	if (!strcmp(cmd, "wal-fetch"))
		return cmd_wal(&g, n, args, false);
	if (!strcmp(cmd, "wal-setup"))
		return cmd_wal_setup(&g, n, args);
	if (!strcmp(cmd, "store-check"))
		return cmd_store_check(&g, n, args);
	if (!strcmp(cmd, "sandbox"))
		return cmd_sandbox(&g, n, args);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(&g, n, args);
	if (!strcmp(cmd, "pitr"))
		return cmd_pitr(&g, n, args);
	if (!strcmp(cmd, "runs"))
		return cmd_runs(&g, n, args);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(&g, n, args);
	if (!strcmp(cmd, "window") || !strcmp(cmd, "events"))
		return (!strcmp(cmd, "window") ? cmd_window : cmd_events)(&g, n, args);
	if (!strcmp(cmd, "monitor"))
		return cmd_console(&g, true, n, args);
	if (!strcmp(cmd, "help"))
		return usage(stdout), EXIT_OK;
	return usage_error("unknown command \"%s\"", cmd);
}
