/* `pgrescue audit verify|show`: the audit log from the command line. Needs
 * no configuration: without one the log is the default one in the state
 * directory, so an auditor can check a copy anywhere with --config. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "commands.h"
#include "recovery/audit.h"
#include "settings.h"

static int audit_verify(const struct pgr_audit *a)
{
	struct pgr_audit_verdict v;
	struct pgr_error err = {0};
	if (!pgr_audit_verify(a, &v, &err))
		return fail_with(&err, EXIT_FAIL);
	if (v.ok) {
		printf("audit log %s: %zu records, chain intact\n", a->path, v.records);
		return EXIT_OK;
	}
	pgr_error_set(&err, PGR_ERR_CONFLICT, "audit log %s has been tampered with: %s", a->path, v.problem);
	if (v.first_bad_line > 1)
		pgr_error_hint(
		        &err,
		        "Lines 1 to %zu are intact. Keep this file as evidence and compare it with a copy kept "
		        "elsewhere (a backup, a log shipper). If audit_key_file was changed, verify with the key "
		        "the log was written with.",
		        v.first_bad_line - 1);
	else
		pgr_error_hint(&err,
		               "Keep this file as evidence and compare it with a copy kept elsewhere (a backup, a "
		               "log shipper). If audit_key_file was changed, verify with the key the log was "
		               "written with.");
	return fail_with(&err, EXIT_FAIL);
}

static bool parse_count(const char *s, size_t *out)
{
	char *end = NULL;
	unsigned long long n = strtoull(s, &end, 10);
	if (!*s || *s == '-' || !end || *end || n == 0)
		return false;
	*out = (size_t)n;
	return true;
}

/* Options of `audit show`: --run ID, --last N, --json. */
static int show_options(int argc, char **argv, struct pgr_audit_filter *f, bool *json)
{
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = NULL;
		if (!strcmp(arg, "--json")) {
			*json = true;
			continue;
		}
		if (!strcmp(arg, "--run") || !strcmp(arg, "--last")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", arg);
			val = argv[++i];
		} else if (!strncmp(arg, "--run=", 6) || !strncmp(arg, "--last=", 7)) {
			val = strchr(arg, '=') + 1;
		} else {
			return usage_error("unknown option \"%s\" for audit show", arg);
		}
		if (!strncmp(arg, "--run", 5)) {
			if (!*val)
				return usage_error("--run needs a run id");
			f->run = val;
		} else if (!parse_count(val, &f->last)) {
			return usage_error("--last takes a number of records (1 or more), not \"%s\"", val);
		}
	}
	return EXIT_OK;
}

static int audit_show(const struct pgr_audit *a, const struct pgr_audit_filter *f, bool json)
{
	struct pgr_error err = {0};
	if (!json) {
		if (!pgr_audit_show(a, f, stdout, &err))
			return fail_with(&err, EXIT_FAIL);
		return EXIT_OK;
	}
	char **lines = NULL;
	size_t n = 0;
	if (!pgr_audit_read(a, f, &lines, &n, &err))
		return fail_with(&err, EXIT_FAIL);
	for (size_t i = 0; i < n; i++) {
		puts(lines[i]);
		free(lines[i]);
	}
	free(lines);
	return EXIT_OK;
}

static bool same_setting(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Several environments and no --env: when they all write one audit log
 * (the default, or the same audit_log and key), there is nothing to choose. */
static const struct pgr_env *shared_log_env(const struct pgr_config *cfg)
{
	if (cfg->n_envs < 2)
		return NULL;
	for (int i = 1; i < cfg->n_envs; i++)
		if (!same_setting(cfg->envs[i].audit_log, cfg->envs[0].audit_log) ||
		    !same_setting(cfg->envs[i].audit_key_file, cfg->envs[0].audit_key_file))
			return NULL;
	return &cfg->envs[0];
}

int cmd_audit(const struct globals *g, int argc, char **argv)
{
	if (argc < 2)
		return usage_error("audit needs a subcommand: verify or show");
	const char *sub = argv[1];
	bool verify = !strcmp(sub, "verify");
	if (!verify && strcmp(sub, "show") != 0)
		return usage_error("unknown audit subcommand \"%s\" (verify or show)", sub);
	struct pgr_audit_filter f = {0};
	bool json = g->json;
	if (verify && argc > 2)
		return usage_error("unknown argument \"%s\" for audit verify", argv[2]);
	if (!verify) {
		int code = show_options(argc, argv, &f, &json);
		if (code != EXIT_OK)
			return code;
	}

	/* No environment is needed: with none, the default log. */
	struct pgr_config cfg = {0};
	struct pgr_env env;
	const struct pgr_env *e = NULL;
	struct pgr_error err = {0};
	if (!load_env(g, &cfg, &env, &e, false, &err)) {
		e = g->env_name ? NULL : shared_log_env(&cfg);
		if (!e) {
			pgr_config_free(&cfg);
			return fail_with(&err, EXIT_USAGE);
		}
		pgr_error_clear(&err);
		pgr_env_copy(&env, e);
		e = &env;
	}
	struct pgr_audit a;
	int code;
	if (!pgr_audit_open(&a, e->audit_log, e->audit_key_file, &err)) {
		code = fail_with(&err, EXIT_USAGE);
	} else {
		f.env = g->env_name;
		code = verify ? audit_verify(&a) : audit_show(&a, &f, json);
		pgr_audit_close(&a);
	}
	pgr_env_free(&env);
	pgr_config_free(&cfg);
	return code;
}
