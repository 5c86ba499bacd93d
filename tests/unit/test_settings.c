/* Configuration: parsing, validation with file:line, selection, editing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "settings.h"

static const char *GOOD = "default = prod\n"
                          "; comment\n"
                          "[env prod]\n"
                          "platform = local\n"
                          "dsn = host=db.internal dbname=clipper_db user=clipper\n"
                          "store = file:///var/backups/pgrescue\n"
                          "retention_dumps = 14d\n"
                          "wal_lag_warn = 2m\n"
                          "wal_lag_critical = 10m\n"
                          "store_timeout = 5s\n"
                          "readonly = yes\n"
                          "\n"
                          "[env staging]\n"
                          "dsn = service=staging\n"
                          "store = /srv/backups\n";

static void test_parse_good(void **state)
{
	(void)state;
	struct pgr_config cfg;
	struct pgr_error err = {0};
	assert_true(pgr_config_parse_string(GOOD, "good.ini", &cfg, &err));
	assert_int_equal(cfg.n_envs, 2);
	const struct pgr_env *e = pgr_config_select(&cfg, NULL, &err);
	assert_non_null(e);
	assert_string_equal(e->name, "prod");
	assert_int_equal(e->line, 3);
	assert_string_equal(e->dsn, "host=db.internal dbname=clipper_db user=clipper");
	assert_int_equal(e->retention_dumps, 14 * 86400);
	assert_int_equal(e->retention_wal, 7 * 86400); /* default */
	assert_int_equal(e->retention_base, 7 * 86400); /* follows WAL retention */
	assert_int_equal(e->wal_lag_warn, 120);
	assert_int_equal(e->wal_lag_critical, 600);
	assert_int_equal(e->backup_max_age, 86400);
	assert_int_equal(e->store_timeout, 5);
	assert_true(e->readonly);
	e = pgr_config_select(&cfg, "staging", &err);
	assert_non_null(e);
	assert_int_equal(e->store_timeout, 0); /* the HTTP layer's defaults */
	assert_string_equal(e->platform, "local");
	assert_false(e->readonly);
	pgr_config_free(&cfg);
}

/* Each bad input names the line and the key. */
static void expect_error(const char *text, const char *needle1, const char *needle2)
{
	struct pgr_config cfg;
	struct pgr_error err = {0};
	assert_false(pgr_config_parse_string(text, "bad.ini", &cfg, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFIG);
	if (!strstr(err.msg, needle1) || (needle2 && !strstr(err.msg, needle2)))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, needle1, needle2 ? needle2 : "");
}

static void test_bad_configs(void **state)
{
	(void)state;
	expect_error("[env a]\ndsn = x\nstore = file:///s\nretention_wal = 7 days\n", "bad.ini:4:", "retention_wal");
	expect_error("[env a]\ndsn = x\nstore = file:///s\ncolour = red\n", "bad.ini:4:", "unknown key \"colour\"");
	expect_error("[env a]\ndsn = host=x password=hunter2\nstore = file:///s\n", "bad.ini:2:", "password");
	expect_error("[env a]\ndsn = x\nstore = file:///s\nplatform = docker\n", "bad.ini:4:", "platform");
	expect_error("[env a]\nstore = file:///s\n", "bad.ini:1:", "\"dsn\"");
	expect_error("[env a]\ndsn = x\n", "bad.ini:1:", "\"store\"");
	expect_error("[env a]\ndsn = x\nstore = backups\n", "bad.ini:3:", "store");
	expect_error("[prod]\ndsn = x\n", "bad.ini:2:", "[prod]");
	expect_error("[env a]\nthis is not a key value line\n", "bad.ini:2:", "syntax");
	expect_error("[env a]\ndsn = x\nstore = file:///s\nreadonly = maybe\n", "bad.ini:4:", "readonly");
	expect_error("default = nope\n[env a]\ndsn = x\nstore = file:///s\n", "default = nope", NULL);
	expect_error("[env a]\ndsn = x\nstore = file:///s\nwal_lag_warn = 1h\n", "wal_lag_warn", NULL);
	/* the password must not be echoed back */
	struct pgr_config cfg;
	struct pgr_error err = {0};
	assert_false(
	        pgr_config_parse_string("[env a]\ndsn = password=hunter2 host=x\nstore = /s\n", "p.ini", &cfg, &err));
	assert_null(strstr(err.msg, "hunter2"));
	assert_null(strstr(err.hint, "hunter2"));
}

static void test_long_line(void **state)
{
	(void)state;
	char *text = xasprintf("[env a]\ndsn = host=/%0250d\nstore = /s\n", 0);
	expect_error(text, "bad.ini:2:", "characters");
	free(text);
}

static void test_select(void **state)
{
	(void)state;
	struct pgr_config cfg;
	struct pgr_error err = {0};
	assert_true(pgr_config_parse_string("[env a]\ndsn = x\nstore = /s\n[env b]\ndsn = y\nstore = /t\n", "two.ini",
	                                    &cfg, &err));
	assert_null(pgr_config_select(&cfg, NULL, &err));
	assert_non_null(strstr(err.msg, "several environments"));
	assert_non_null(strstr(err.hint, "--env"));
	assert_null(pgr_config_select(&cfg, "c", &err));
	assert_non_null(strstr(err.msg, "no environment named \"c\""));
	assert_non_null(strstr(err.hint, "a, b"));
	pgr_config_free(&cfg);
	assert_true(pgr_config_parse_string("", "empty.ini", &cfg, &err));
	assert_null(pgr_config_select(&cfg, NULL, &err));
	assert_non_null(strstr(err.hint, "sandbox up"));
	pgr_config_free(&cfg);
}

static void test_upsert_keeps_others(void **state)
{
	(void)state;
	char dir[] = "/tmp/pgr-settings-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xasprintf("%s/sub/config.ini", dir);
	struct pgr_error err = {0};
	const char *keys[] = {"platform", "dsn", "store"};
	const char *v1[] = {"local", "host=/a port=1 dbname=x", "file:///a"};
	const char *v2[] = {"local", "host=/b port=2 dbname=x", "file:///b"};
	assert_true(pgr_config_upsert_env(path, "sandbox", keys, v1, 3, &err));
	/* a user's own section with a comment, written by hand after ours */
	char *text = NULL;
	assert_true(pgr_read_file(path, &text, NULL, &err));
	char *more = xasprintf("%s\n[env prod]\n; my comment\ndsn = service=prod\nstore = file:///prod\n", text);
	free(text);
	assert_true(pgr_write_file_atomic(path, more, strlen(more), 0600, &err));
	free(more);
	assert_true(pgr_config_upsert_env(path, "sandbox", keys, v2, 3, &err));
	struct pgr_config cfg;
	assert_true(pgr_config_load(path, true, &cfg, &err));
	assert_int_equal(cfg.n_envs, 2);
	const struct pgr_env *sb = pgr_config_select(&cfg, "sandbox", &err);
	assert_string_equal(sb->dsn, "host=/b port=2 dbname=x");
	const struct pgr_env *prod = pgr_config_select(&cfg, "prod", &err);
	assert_string_equal(prod->dsn, "service=prod");
	pgr_config_free(&cfg);
	assert_true(pgr_read_file(path, &text, NULL, &err));
	assert_non_null(strstr(text, "; my comment"));
	free(text);
	assert_true(pgr_config_remove_env(path, "sandbox", &err));
	assert_true(pgr_config_load(path, true, &cfg, &err));
	assert_int_equal(cfg.n_envs, 1);
	assert_string_equal(cfg.envs[0].name, "prod");
	pgr_config_free(&cfg);
	/* a value that would break the file is refused and the file is unchanged */
	const char *bad[] = {"local", "host=/x\n[env evil]", "file:///x"};
	assert_false(pgr_config_upsert_env(path, "sandbox", keys, bad, 3, &err));
	assert_true(pgr_config_load(path, true, &cfg, &err));
	assert_int_equal(cfg.n_envs, 1);
	pgr_config_free(&cfg);
	/* a missing file named explicitly is an error; at the default path it is empty */
	char *missing = xasprintf("%s/none.ini", dir);
	assert_false(pgr_config_load(missing, true, &cfg, &err));
	assert_non_null(strstr(err.msg, "none.ini"));
	assert_true(pgr_config_load(missing, false, &cfg, &err));
	assert_int_equal(cfg.n_envs, 0);
	pgr_config_free(&cfg);
	free(missing);
	assert_true(pgr_rm_rf(dir, &err));
	free(path);
}

static void test_default_path(void **state)
{
	(void)state;
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	unsetenv("PGRESCUE_CONFIG");
	char *p = pgr_config_default_path(NULL);
	assert_string_equal(p, "/xdg/pgrescue/config.ini");
	free(p);
	setenv("PGRESCUE_CONFIG", "/etc/pgr.ini", 1);
	p = pgr_config_default_path(NULL);
	assert_string_equal(p, "/etc/pgr.ini");
	free(p);
	p = pgr_config_default_path("/cli.ini");
	assert_string_equal(p, "/cli.ini");
	free(p);
	unsetenv("PGRESCUE_CONFIG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_good),          cmocka_unit_test(test_bad_configs),
	        cmocka_unit_test(test_long_line),           cmocka_unit_test(test_select),
	        cmocka_unit_test(test_upsert_keeps_others), cmocka_unit_test(test_default_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
