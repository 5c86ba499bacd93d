/* Full-restore plans built from catalogs: which dump is picked (latest, by
 * label, file name or key), the errors for unknown, incomplete and missing
 * dumps, the step order, and the exact names and commands the plan prints. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "ops/manifest.h"
#include "recovery/plan.h"
#include "recovery/restore.h"
#include "settings.h"

/* ------------------------------------------------------------ fixture */

struct fx {
	struct pgr_object_list objs;
	char *names[16];
	char *json[16];
	size_t n;
	struct pgr_catalog cat;
	struct pgr_env env;
};

/* A dump named for label; status NULL: written by the deployment (no manifest). */
static void fx_dump(struct fx *f, const char *prefix, const char *label, uint64_t size, const char *status)
{
	char *key = xasprintf("database/%s-backup-%s.sql.gz", prefix, label);
	pgr_object_list_add(&f->objs, key, size, 0);
	if (status) {
		char *mk = xasprintf("pgrescue/dumps/%s-backup-%s.sql.gz.json", prefix, label);
		pgr_object_list_add(&f->objs, mk, 300, 0);
		struct pgr_manifest m;
		pgr_manifest_init(&m, PGR_BACKUP_DUMP);
		m.label = xstrdup(label);
		m.database = xstrdup("clipper_db");
		m.status = xstrdup(status);
		pgr_manifest_add_file(&m, key, size,
		                      "0000000000000000000000000000000000000000000000000000000000000000");
		pgr_manifest_add_table(&m, "public", "clips", 40000);
		pgr_manifest_add_table(&m, "public", "users", 5000);
		f->names[f->n] = mk;
		f->json[f->n] = pgr_manifest_to_json(&m);
		f->n++;
		pgr_manifest_free(&m);
	}
	free(key);
}

static void fx_build(struct fx *f)
{
	assert_true(pgr_catalog_from_listing(&f->objs, (const char *const *)f->names, (const char *const *)f->json,
	                                     f->n, &f->cat, NULL));
}

static int setup(void **state)
{
	/* The replaced database's name carries "now". */
	setenv("PGRESCUE_NOW", "2026-03-05T10:11:12Z", 1);
	struct fx *f = xcalloc(1, sizeof *f);
	pgr_env_defaults(&f->env);
	pgr_env_set(&f->env.name, "prod");
	pgr_env_set(&f->env.dsn, "host=/run/postgresql port=5432 dbname=clipper_db user=clipper");
	pgr_env_set(&f->env.store, "file:///srv/backups/");
	pgr_env_set(&f->env.pg_bindir, "/usr/lib/postgresql/15/bin");
	pgr_env_set(&f->env.app_scale, "command");
	pgr_env_set(&f->env.app_scale_get_command, "kubectl get deploy/clipper-backend -o jsonpath={.spec.replicas}");
	pgr_env_set(&f->env.app_scale_set_command, "kubectl scale deploy/clipper-backend --replicas={replicas}");
	fx_dump(f, "clipper", "20260228-020000", 800, NULL);
	fx_dump(f, "postgres", "20260301-020000", 1000, "complete");
	fx_dump(f, "postgres", "20260302-020000", 1100, "complete");
	fx_dump(f, "postgres", "20260303-020000", 900, "failed");
	fx_build(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	pgr_catalog_free(&f->cat);
	pgr_object_list_free(&f->objs);
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->json[i]);
	}
	pgr_env_free(&f->env);
	free(f);
	return 0;
}

static bool plan_for(struct fx *f, const char *backup, int jobs, struct pgr_plan *p, struct pgr_error *err)
{
	struct pgr_restore_opts o;
	pgr_restore_opts_default(&o);
	o.backup = backup;
	o.jobs = jobs;
	o.replicas_now = 3;
	o.incident = "INC-42";
	o.reason = "bad migration";
	memset(err, 0, sizeof *err);
	return pgr_restore_plan(&f->env, &f->cat, &o, p, err);
}

static const char *step_cmd(const struct pgr_plan *p, const char *id)
{
	const struct pgr_step *s = pgr_plan_step(p, id);
	assert_non_null(s);
	assert_non_null(s->command);
	return s->command;
}

#define assert_contains(hay, needle)                                                                                   \
	do {                                                                                                           \
		const char *h_ = (hay);                                                                                \
		if (!h_ || !strstr(h_, (needle)))                                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", (needle));                      \
	} while (0)

/* ------------------------------------------------------------ tests */

static void latest_is_newest_complete(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	assert_true(plan_for(f, NULL, 3, &p, &err));
	/* 0303 failed: the newest complete one is 0302. */
	assert_string_equal(pgr_kv_get(&p.params, "dump"), "database/postgres-backup-20260302-020000.sql.gz");
	assert_string_equal(pgr_kv_get(&p.params, "database"), "clipper_db");
	assert_string_equal(pgr_kv_get(&p.params, "fresh_db"), "clipper_db_restore_20260302_020000");
	assert_string_equal(pgr_kv_get(&p.params, "replaced_db"), "clipper_db_replaced_20260305_101112");
	assert_string_equal(pgr_kv_get(&p.params, "manifest"),
	                    "pgrescue/dumps/postgres-backup-20260302-020000.sql.gz.json");
	assert_string_equal(p.kind, "restore");
	assert_string_equal(p.incident, "INC-42");
	assert_string_equal(p.reason, "bad migration");
	assert_contains(p.summary, "clipper_db");
	assert_contains(p.summary, "postgres-backup-20260302-020000.sql.gz");
	assert_contains(p.notes, "DROP DATABASE clipper_db_replaced_20260305_101112");
	pgr_plan_free(&p);

	assert_true(plan_for(f, "latest", 3, &p, &err));
	assert_string_equal(pgr_kv_get(&p.params, "dump"), "database/postgres-backup-20260302-020000.sql.gz");
	pgr_plan_free(&p);
}

static void by_label_name_and_key(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {"20260301-020000", "postgres-backup-20260301-020000.sql.gz",
	                     "database/postgres-backup-20260301-020000.sql.gz"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		struct pgr_plan p;
		struct pgr_error err;
		assert_true(plan_for(f, ids[i], 2, &p, &err));
		assert_string_equal(pgr_kv_get(&p.params, "dump"), "database/postgres-backup-20260301-020000.sql.gz");
		assert_string_equal(pgr_kv_get(&p.params, "fresh_db"), "clipper_db_restore_20260301_020000");
		pgr_plan_free(&p);
	}
	/* A deployment-written dump has no manifest: nothing to compare counts to. */
	struct pgr_plan p;
	struct pgr_error err;
	assert_true(plan_for(f, "clipper-backup-20260228-020000.sql.gz", 2, &p, &err));
	assert_string_equal(pgr_kv_get(&p.params, "manifest"), "");
	assert_contains(step_cmd(&p, "verify-counts"), "nothing to compare");
	pgr_plan_free(&p);
}

static void unknown_id(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	assert_false(plan_for(f, "20250101-000000", 2, &p, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_contains(err.msg, "20250101-000000");
	assert_contains(err.msg, "file:///srv/backups/");
	/* The hint names the newest complete dumps, newest first. */
	assert_contains(err.hint, "20260302-020000");
	assert_contains(err.hint, "20260301-020000");
	assert_true(strstr(err.hint, "20260302-020000") < strstr(err.hint, "20260301-020000"));
	assert_null(strstr(err.hint, "20260303-020000"));
}

static void incomplete_dump(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	assert_false(plan_for(f, "20260303-020000", 2, &p, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFLICT);
	assert_contains(err.msg, "postgres-backup-20260303-020000.sql.gz");
	assert_contains(err.msg, "not complete");
	assert_contains(err.hint, "20260302-020000");
}

static void no_dumps(void **state)
{
	struct fx *f = *state;
	struct pgr_object_list none = {0};
	struct pgr_catalog empty;
	assert_true(pgr_catalog_from_listing(&none, NULL, NULL, 0, &empty, NULL));
	struct pgr_restore_opts o;
	pgr_restore_opts_default(&o);
	struct pgr_plan p;
	struct pgr_error err = {0};
	assert_false(pgr_restore_plan(&f->env, &empty, &o, &p, &err));
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_contains(err.msg, "no dump");
	assert_contains(err.hint, "pgrescue --env prod backup");
	pgr_catalog_free(&empty);
}

static void steps_in_order(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	assert_true(plan_for(f, NULL, 3, &p, &err));
	const char *want[] = {"preflight", "record-replicas", "scale-down",  "create-db", "pg-restore", "verify-counts",
	                      "swap",      "scale-up",        "health-check"};
	assert_int_equal(p.n_steps, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < p.n_steps; i++) {
		assert_string_equal(p.steps[i].id, want[i]);
		assert_non_null(p.steps[i].title);
		assert_non_null(p.steps[i].command);
	}
	/* Every step has an implementation, in the same order. */
	for (size_t i = 0; i < p.n_steps; i++) {
		assert_non_null(pgr_restore_steps[i].id);
		assert_string_equal(pgr_restore_steps[i].id, want[i]);
		assert_non_null(pgr_restore_steps[i].act);
	}
	assert_null(pgr_restore_steps[p.n_steps].id);
	/* Stopping the app and the swap need the typed confirmation. */
	assert_true(pgr_plan_step(&p, "scale-down")->destructive);
	assert_true(pgr_plan_step(&p, "swap")->destructive);
	assert_false(pgr_plan_step(&p, "pg-restore")->destructive);
	assert_true(pgr_plan_destructive(&p));
	pgr_plan_free(&p);
}

static void exact_commands(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	assert_true(plan_for(f, NULL, 3, &p, &err));
	const char *r = step_cmd(&p, "pg-restore");
	assert_contains(r, "/usr/lib/postgresql/15/bin/pg_restore -j 3 --exit-on-error");
	assert_contains(r, "dbname=clipper_db_restore_20260302_020000");
	assert_contains(r, "host=/run/postgresql");
	/* A file store's dump is read in place. */
	assert_contains(r, " /srv/backups/database/postgres-backup-20260302-020000.sql.gz");
	assert_null(strstr(r, "dbname=clipper_db "));
	assert_contains(step_cmd(&p, "create-db"),
	                "CREATE DATABASE clipper_db_restore_20260302_020000 TEMPLATE template0 OWNER <owner of "
	                "clipper_db>");
	const char *sw = step_cmd(&p, "swap");
	assert_contains(sw, "ALTER DATABASE clipper_db ALLOW_CONNECTIONS false;");
	assert_contains(sw,
	                "BEGIN;\nALTER DATABASE clipper_db RENAME TO clipper_db_replaced_20260305_101112;\n"
	                "ALTER DATABASE clipper_db_restore_20260302_020000 RENAME TO clipper_db;");
	assert_contains(sw, "COMMIT;");
	assert_contains(pgr_plan_step(&p, "swap")->undo, "RENAME TO clipper_db_restore_20260302_020000");
	assert_contains(step_cmd(&p, "scale-down"), "kubectl scale deploy/clipper-backend --replicas=0");
	assert_contains(pgr_plan_step(&p, "scale-down")->undo, "--replicas=3");
	assert_contains(step_cmd(&p, "scale-up"), "kubectl scale deploy/clipper-backend --replicas=3");
	assert_contains(step_cmd(&p, "record-replicas"), "kubectl get deploy/clipper-backend");
	assert_contains(step_cmd(&p, "verify-counts"), "pgrescue/dumps/postgres-backup-20260302-020000.sql.gz.json");
	assert_contains(pgr_kv_get(&p.params, "confirm"), "clipper_db_replaced_20260305_101112");

	/* The text printed for review holds the same commands. */
	char *text = pgr_plan_text(&p);
	assert_contains(text, "pg_restore -j 3 --exit-on-error");
	assert_contains(text, "ALTER DATABASE clipper_db_restore_20260302_020000 RENAME TO clipper_db;");
	free(text);

	/* The runner executes the plan it reads back from plan.json. */
	char *json = pgr_plan_to_json(&p);
	struct pgr_plan back;
	assert_true(pgr_plan_from_json(json, "plan.json", &back, &err));
	assert_int_equal(back.n_steps, p.n_steps);
	assert_string_equal(step_cmd(&back, "pg-restore"), r);
	assert_string_equal(pgr_kv_get(&back.params, "fresh_db"), "clipper_db_restore_20260302_020000");
	pgr_plan_free(&back);
	free(json);
	pgr_plan_free(&p);

	/* --jobs 0: the CPUs, at most 8. */
	assert_true(plan_for(f, NULL, 0, &p, &err));
	int jobs = atoi(pgr_kv_get(&p.params, "jobs"));
	assert_true(jobs >= 1 && jobs <= 8);
	pgr_plan_free(&p);
}

static void names_fit(void **state)
{
	struct fx *f = *state;
	char db[61];
	memset(db, 'a', 60);
	db[60] = '\0';
	char *dsn = xasprintf("host=/tmp dbname=%s", db);
	pgr_env_set(&f->env.dsn, dsn);
	free(dsn);
	struct pgr_plan p;
	struct pgr_error err;
	assert_true(plan_for(f, NULL, 2, &p, &err));
	const char *fresh = pgr_kv_get(&p.params, "fresh_db"), *rep = pgr_kv_get(&p.params, "replaced_db");
	assert_true(strlen(fresh) <= 63);
	assert_true(strlen(rep) <= 63);
	assert_contains(fresh, "_restore_20260302_020000");
	assert_contains(rep, "_replaced_20260305_101112");
	assert_true(strncmp(fresh, "aaaa", 4) == 0);
	pgr_plan_free(&p);
}

static void dsn_forms(void **state)
{
	struct fx *f = *state;
	struct pgr_plan p;
	struct pgr_error err;
	/* A URI becomes key=value with the fresh database. */
	pgr_env_set(&f->env.dsn, "postgresql://clipper@db.example:5433/clipper_db?sslmode=require");
	assert_true(plan_for(f, NULL, 4, &p, &err));
	const char *r = step_cmd(&p, "pg-restore");
	assert_contains(r, "host=db.example");
	assert_contains(r, "port=5433");
	assert_contains(r, "sslmode=require");
	assert_contains(r, "dbname=clipper_db_restore_20260302_020000");
	pgr_plan_free(&p);

	/* No database in the dsn: refuse to guess which one to replace. */
	pgr_env_set(&f->env.dsn, "host=/tmp user=clipper");
	assert_false(plan_for(f, NULL, 2, &p, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFIG);
	assert_contains(err.msg, "names no database");
	assert_contains(err.hint, "dbname=");

	/* Nor the maintenance database. */
	pgr_env_set(&f->env.dsn, "host=/tmp dbname=postgres");
	assert_false(plan_for(f, NULL, 2, &p, &err));
	assert_contains(err.msg, "maintenance database");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(latest_is_newest_complete, setup, teardown),
	        cmocka_unit_test_setup_teardown(by_label_name_and_key, setup, teardown),
	        cmocka_unit_test_setup_teardown(unknown_id, setup, teardown),
	        cmocka_unit_test_setup_teardown(incomplete_dump, setup, teardown),
	        cmocka_unit_test_setup_teardown(no_dumps, setup, teardown),
	        cmocka_unit_test_setup_teardown(steps_in_order, setup, teardown),
	        cmocka_unit_test_setup_teardown(exact_commands, setup, teardown),
	        cmocka_unit_test_setup_teardown(names_fit, setup, teardown),
	        cmocka_unit_test_setup_teardown(dsn_forms, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
