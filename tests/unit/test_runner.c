/* Runner, plan and lock tests with a plan of harmless steps (files in a
 * temp dir): a run to the end, a failure and its resume, a runner killed
 * with SIGKILL in the middle and resumed without repeating finished steps,
 * a gate, the lock refusing a second runner, and plan JSON round trips. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "recovery/audit.h"
#include "recovery/lock.h"
#include "recovery/plan.h"
#include "recovery/runner.h"

static char g_tmp[256];

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", g_tmp, name);
}

static void append_line(const char *name, const char *line)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	fprintf(f, "%s\n", line);
	fclose(f);
	free(p);
}

static int count_lines(const char *name)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "r");
	free(p);
	if (!f)
		return 0;
	int n = 0, c;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static bool exists(const char *name)
{
	char *p = tmp_path(name);
	bool e = pgr_path_exists(p);
	free(p);
	return e;
}

/* Each test starts without the files earlier ones left. */
static void clean(void)
{
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count", "b.fail", "b.hang"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		char *p = tmp_path(junk[i]);
		unlink(p);
		free(p);
	}
}

/* ------------------------------------------------------------ steps */

static bool a_done(struct pgr_run *r, const struct pgr_step *s, bool *done, struct pgr_error *err)
{
	(void)r, (void)s, (void)err;
	*done = exists("a.out");
	return true;
}

static bool a_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	append_line("a.count", "ran");
	append_line("a.out", pgr_kv_get(&s->params, "word"));
	return pgr_run_set_fact(r, "a", "yes", err);
}

static bool b_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)s;
	append_line("b.count", "ran");
	if (exists("b.fail")) {
		pgr_error_set(err, PGR_ERR_TOOL, "step b cannot go on: b.fail exists");
		pgr_error_hint(err, "Remove b.fail.");
		return false;
	}
	if (exists("b.hang")) {
		/* First attempt: note it, then hang until killed. */
		if (!pgr_run_fact(r, "b.tried")) {
			if (!pgr_run_set_fact(r, "b.tried", "1", err))
				return false;
			for (;;)
				pause();
		}
	}
	pgr_run_report(r, "fact a is %s", pgr_run_fact(r, "a") ? pgr_run_fact(r, "a") : "(missing)");
	return true;
}

static bool c_act(struct pgr_run *r, const struct pgr_step *s, struct pgr_error *err)
{
	(void)r, (void)s, (void)err;
	append_line("c.count", "ran");
	return true;
}

static const struct pgr_step_impl test_steps[] = {
        {"a", a_done, a_act, NULL},
        {"b", NULL, b_act, NULL},
        {"c", NULL, c_act, NULL},
        {NULL, NULL, NULL, NULL},
};

static void make_plan(struct pgr_plan *p, bool gate_c)
{
	struct pgr_env env;
	pgr_env_defaults(&env);
	env.name = xstrdup("unit");
	char *audit = tmp_path("audit.log");
	pgr_env_set(&env.audit_log, audit);
	free(audit);
	pgr_env_set(&env.dsn, "host=/nonexistent dbname=unit");
	char *store = xasprintf("file://%s/store", g_tmp);
	pgr_env_set(&env.store, store);
	free(store);
	pgr_plan_init(p, "test", &env);
	pgr_env_free(&env);
	p->summary = xstrdup("a harmless plan");
	p->incident = xstrdup("INC-7");
	p->reason = xstrdup("unit test");
	struct pgr_step *a = pgr_plan_add_step(p, "a", "Write a word", "echo word > a.out", "rm a.out", true);
	pgr_kv_set(&a->params, "word", "hello");
	pgr_plan_add_step(p, "b", "Check b", "test ! -e b.fail", NULL, false);
	struct pgr_step *c = pgr_plan_add_step(p, "c", "Finish", "touch c", NULL, false);
	c->gate = gate_c;
}

static char *create_run(bool gate_c)
{
	struct pgr_plan p;
	make_plan(&p, gate_c);
	char *dir = NULL;
	struct pgr_error err = {0};
	assert_true(pgr_run_create(&p, &dir, &err));
	assert_non_null(p.run_id);
	pgr_plan_free(&p);
	return dir;
}

static int setup(void **state)
{
	(void)state;
	snprintf(g_tmp, sizeof g_tmp, "/tmp/pgr-runner-XXXXXX");
	assert_non_null(mkdtemp(g_tmp));
	setenv("PGRESCUE_STATE_DIR", g_tmp, 1);
	pgr_step_impls_register("test", test_steps);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pgr_rm_rf(g_tmp, NULL);
	return 0;
}

static void load(const char *dir, struct pgr_run_info *info)
{
	struct pgr_error err = {0};
	assert_true(pgr_run_info_load(dir, info, &err));
}

/* ------------------------------------------------------------ tests */

static void test_plan_json_round_trip(void **state)
{
	(void)state;
	struct pgr_plan p, q;
	make_plan(&p, true);
	pgr_kv_set(&p.params, "target", "time 2026-11-24 03:12:00 UTC");
	char *json = pgr_plan_to_json(&p);
	struct pgr_error err = {0};
	assert_true(pgr_plan_from_json(json, "plan.json", &q, &err));
	assert_string_equal(q.kind, "test");
	assert_string_equal(q.env.name, "unit");
	assert_string_equal(q.env.audit_log, p.env.audit_log);
	assert_int_equal(q.env.retention_wal, p.env.retention_wal);
	assert_string_equal(q.incident, "INC-7");
	assert_int_equal(q.n_steps, 3);
	assert_string_equal(q.steps[0].command, "echo word > a.out");
	assert_string_equal(q.steps[0].undo, "rm a.out");
	assert_true(q.steps[0].destructive);
	assert_true(q.steps[2].gate);
	assert_string_equal(pgr_kv_get(&q.steps[0].params, "word"), "hello");
	assert_string_equal(pgr_kv_get(&q.params, "target"), "time 2026-11-24 03:12:00 UTC");
	char *text = pgr_plan_text(&q);
	assert_non_null(strstr(text, "1. Write a word  [destructive]"));
	assert_non_null(strstr(text, "$ echo word > a.out"));
	assert_non_null(strstr(text, "undo: rm a.out"));
	assert_non_null(strstr(text, "INC-7: unit test"));
	free(text);
	pgr_plan_free(&q);
	free(json);
	assert_false(pgr_plan_from_json("{\"format_version\":9}", "x.json", &q, &err));
	assert_non_null(strstr(err.msg, "x.json"));
	pgr_plan_free(&p);
}

static void test_run_to_the_end(void **state)
{
	(void)state;
	clean();
	char *dir = create_run(false);
	bool waiting = true;
	struct pgr_error err = {0};
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	assert_false(waiting);
	struct pgr_run_info info;
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_DONE);
	assert_int_equal(info.steps[0].state, PGR_STEP_DONE);
	assert_int_equal(info.steps[2].state, PGR_STEP_DONE);
	assert_non_null(strstr(info.steps[1].report, "fact a is yes"));
	assert_string_equal(info.incident, "INC-7");
	pgr_run_info_free(&info);
	assert_int_equal(count_lines("a.count"), 1);
	/* Every step has an intent and an outcome record, chained. */
	struct pgr_audit a;
	char *log = tmp_path("audit.log");
	assert_true(pgr_audit_open(&a, log, NULL, &err));
	struct pgr_audit_verdict v;
	assert_true(pgr_audit_verify(&a, &v, &err));
	assert_true(v.ok);
	char **lines;
	size_t n;
	struct pgr_audit_filter f = {0};
	assert_true(pgr_audit_read(&a, &f, &lines, &n, &err));
	int intents = 0, outcomes = 0;
	for (size_t i = 0; i < n; i++) {
		intents += strstr(lines[i], "\"phase\":\"intent\"") != NULL;
		outcomes += strstr(lines[i], "\"phase\":\"outcome\"") != NULL;
		free(lines[i]);
	}
	free(lines);
	assert_int_equal(intents, 3);
	assert_int_equal(outcomes, 3);
	pgr_audit_close(&a);
	free(log);
	/* Running it again repeats nothing. */
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	assert_int_equal(count_lines("a.count"), 1);
	free(dir);
	char *p = tmp_path("a.out");
	unlink(p);
	free(p);
	p = tmp_path("a.count");
	unlink(p);
	free(p);
}

static void test_failure_then_resume(void **state)
{
	(void)state;
	clean();
	append_line("b.fail", "x");
	char *dir = create_run(false);
	bool waiting = false;
	struct pgr_error err = {0};
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_non_null(strstr(err.msg, "b.fail exists"));
	struct pgr_run_info info;
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_FAILED);
	assert_int_equal(info.current, 1);
	assert_string_equal(info.error, "step b cannot go on: b.fail exists");
	assert_string_equal(info.hint, "Remove b.fail.");
	assert_int_equal(info.steps[2].state, PGR_STEP_PENDING);
	pgr_run_info_free(&info);
	assert_int_equal(count_lines("c.count"), 0);
	char *p = tmp_path("b.fail");
	unlink(p);
	free(p);
	/* a.out from the first attempt: a's postcondition holds, so a is skipped. */
	pgr_error_clear(&err);
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_DONE);
	pgr_run_info_free(&info);
	assert_int_equal(count_lines("a.count"), 1);
	assert_int_equal(count_lines("c.count"), 1);
	free(dir);
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count"};
	for (size_t i = 0; i < 4; i++) {
		p = tmp_path(junk[i]);
		unlink(p);
		free(p);
	}
}

static void test_sigkill_then_resume(void **state)
{
	(void)state;
	clean();
	append_line("b.hang", "x");
	char *dir = create_run(false);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool waiting;
		struct pgr_error err = {0};
		pgr_run_exec(dir, -1, &waiting, &err);
		_exit(0);
	}
	/* Wait until b has noted its first attempt, then kill the runner. */
	struct pgr_run_info info;
	bool hanging = false;
	for (int i = 0; i < 500 && !hanging; i++) {
		usleep(20 * 1000);
		load(dir, &info);
		hanging = info.current == 1 && info.status == PGR_RUN_RUNNING && count_lines("b.count") == 1;
		pgr_run_info_free(&info);
	}
	assert_true(hanging);
	usleep(100 * 1000); /* the fact is journaled before b hangs */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_INTERRUPTED);
	assert_int_equal(info.current, 1);
	assert_int_equal(info.pid, 0);
	pgr_run_info_free(&info);
	/* The kernel dropped the lock with the runner: a new one starts. */
	bool waiting = false;
	struct pgr_error err = {0};
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_DONE);
	pgr_run_info_free(&info);
	assert_int_equal(count_lines("a.count"), 1); /* a was not repeated */
	assert_int_equal(count_lines("b.count"), 2);
	assert_int_equal(count_lines("c.count"), 1);
	free(dir);
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count", "b.hang"};
	for (size_t i = 0; i < 5; i++) {
		char *p = tmp_path(junk[i]);
		unlink(p);
		free(p);
	}
}

static void test_gate(void **state)
{
	(void)state;
	clean();
	char *dir = create_run(true);
	bool waiting = false;
	struct pgr_error err = {0};
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_true(waiting);
	struct pgr_run_info info;
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_WAITING);
	assert_int_equal(info.current, 2);
	pgr_run_info_free(&info);
	assert_int_equal(count_lines("c.count"), 0);
	/* Resuming without opening the gate stops there again. */
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_true(waiting);
	assert_true(pgr_run_open_gate(dir, &err));
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	assert_int_equal(count_lines("c.count"), 1);
	free(dir);
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count"};
	for (size_t i = 0; i < 4; i++) {
		char *p = tmp_path(junk[i]);
		unlink(p);
		free(p);
	}
}

static int count_in_journal(const char *dir, const char *needle)
{
	char *path = xasprintf("%s/journal.jsonl", dir);
	char *text = NULL;
	assert_true(pgr_read_file(path, &text, NULL, NULL));
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	free(text);
	free(path);
	return n;
}

/* A run waiting at its gate gets a step reopened (as `runs retarget` does
 * with start-recovery and replay): the next runner runs that step and the
 * ones after it again, not the ones before, and stops at the gate again. */
static void test_reopen(void **state)
{
	(void)state;
	clean();
	char *dir = create_run(true);
	bool waiting = false;
	struct pgr_error err = {0};
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_true(waiting);
	assert_int_equal(count_lines("b.count"), 1);

	/* Refused: a step the plan does not have; nothing is journaled. */
	assert_false(pgr_run_reopen(dir, "zz", "no such step", &err));
	assert_int_equal(err.kind, PGR_ERR_USAGE);
	assert_non_null(strstr(err.msg, "\"zz\""));
	assert_non_null(strstr(err.hint, "runs show"));
	assert_int_equal(count_in_journal(dir, "\"event\":\"reopen\""), 0);

	pgr_error_clear(&err);
	assert_true(pgr_run_reopen(dir, "b", "target moved", &err));
	struct pgr_run_info info;
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_INTERRUPTED);
	assert_int_equal(info.current, 1);
	assert_int_equal(info.steps[0].state, PGR_STEP_DONE);
	assert_int_equal(info.steps[1].state, PGR_STEP_PENDING);
	assert_int_equal(info.steps[2].state, PGR_STEP_PENDING); /* its gate waits again only when reached */
	assert_null(info.steps[1].report);
	assert_non_null(strstr(info.message, "reopened at step b: target moved"));
	pgr_run_info_free(&info);

	/* The plan can change its parameters, not its steps. */
	struct pgr_plan p;
	assert_true(pgr_run_load_plan(dir, &p, &err));
	pgr_kv_set(&p.params, "target", "later");
	assert_true(pgr_run_update_plan(dir, &p, "target moved", &err));
	struct pgr_plan q;
	assert_true(pgr_run_load_plan(dir, &q, &err));
	assert_string_equal(pgr_kv_get(&q.params, "target"), "later");
	pgr_plan_free(&q);
	free(p.steps[2].id);
	p.steps[2].id = xstrdup("d");
	assert_false(pgr_run_update_plan(dir, &p, "renamed", &err));
	assert_non_null(strstr(err.msg, "same kind, id and steps"));
	pgr_plan_free(&p);
	assert_int_equal(count_in_journal(dir, "\"event\":\"plan-changed\""), 1);

	/* Facts survive the reopen. */
	struct pgr_kvlist facts;
	assert_true(pgr_run_load_facts(dir, &facts, &err));
	assert_string_equal(pgr_kv_get(&facts, "a"), "yes");
	pgr_kv_free(&facts);

	/* The next runner: a is not repeated, b is, and the gate holds again. */
	pgr_error_clear(&err);
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_true(waiting);
	assert_int_equal(count_lines("a.count"), 1);
	assert_int_equal(count_lines("b.count"), 2);
	assert_int_equal(count_lines("c.count"), 0);
	load(dir, &info);
	assert_int_equal(info.status, PGR_RUN_WAITING);
	assert_int_equal(info.current, 2);
	assert_int_equal(info.steps[1].state, PGR_STEP_DONE);
	pgr_run_info_free(&info);
	assert_int_equal(count_in_journal(dir, "\"event\":\"reopen\",\"why\":\"target moved\""), 1);

	/* Opened, it finishes; a finished run cannot be reopened. */
	assert_true(pgr_run_open_gate(dir, &err));
	assert_true(pgr_run_exec(dir, -1, &waiting, &err));
	assert_int_equal(count_lines("c.count"), 1);
	assert_false(pgr_run_reopen(dir, "b", "too late", &err));
	assert_non_null(strstr(err.msg, "has finished"));
	free(dir);
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count"};
	for (size_t i = 0; i < 4; i++) {
		char *path = tmp_path(junk[i]);
		unlink(path);
		free(path);
	}
}

/* While a runner works on the run, nobody changes it under it. */
static void test_reopen_refused_while_running(void **state)
{
	(void)state;
	clean();
	append_line("b.hang", "x");
	char *dir = create_run(false);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool waiting;
		struct pgr_error err = {0};
		pgr_run_exec(dir, -1, &waiting, &err);
		_exit(0);
	}
	struct pgr_run_info info;
	bool hanging = false;
	for (int i = 0; i < 500 && !hanging; i++) {
		usleep(20 * 1000);
		load(dir, &info);
		hanging = info.current == 1 && info.status == PGR_RUN_RUNNING && info.pid == pid;
		pgr_run_info_free(&info);
	}
	assert_true(hanging);
	struct pgr_error err = {0};
	assert_false(pgr_run_reopen(dir, "a", "while running", &err));
	assert_int_equal(err.kind, PGR_ERR_CONFLICT);
	assert_non_null(strstr(err.msg, "live runner"));
	assert_non_null(strstr(err.hint, "runs cancel"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(dir);
	const char *junk[] = {"a.out", "a.count", "b.count", "c.count", "b.hang"};
	for (size_t i = 0; i < 5; i++) {
		char *path = tmp_path(junk[i]);
		unlink(path);
		free(path);
	}
}

static void test_lock_names_its_holder(void **state)
{
	(void)state;
	struct pgr_lock l1, l2;
	struct pgr_error err = {0};
	assert_true(pgr_lock_acquire(&l1, "unit", "INC-42", "run-x", &err));
	struct pgr_lock_holder h;
	assert_true(pgr_lock_holder("unit", &h));
	assert_string_equal(h.incident, "INC-42");
	assert_int_equal(h.pid, getpid());
	/* A second taker (another open file) is refused and told who holds it. */
	assert_false(pgr_lock_acquire(&l2, "unit", "INC-43", NULL, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFLICT);
	assert_non_null(strstr(err.msg, "INC-42"));
	assert_non_null(strstr(err.msg, "since"));
	assert_non_null(strstr(err.hint, "run-x"));
	pgr_lock_release(&l2);
	char *dir = create_run(false);
	bool waiting;
	pgr_error_clear(&err);
	assert_false(pgr_run_exec(dir, -1, &waiting, &err));
	assert_int_equal(err.kind, PGR_ERR_CONFLICT);
	pgr_lock_release(&l1);
	assert_false(pgr_lock_holder("unit", &h));
	free(dir);
}

static void test_find_runs(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	char *last = pgr_run_find("last", &err);
	assert_non_null(last);
	char *none = pgr_run_find("no-such-run", &err);
	assert_null(none);
	assert_int_equal(err.kind, PGR_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "no-such-run"));
	struct pgr_run_info *v;
	size_t n;
	assert_true(pgr_runs_list("unit", &v, &n, &err));
	assert_true(n >= 4);
	assert_string_equal(v[0].dir, last);
	pgr_runs_free(v, n);
	assert_true(pgr_runs_list("other", &v, &n, &err));
	assert_int_equal(n, 0);
	pgr_runs_free(v, n);
	free(last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_plan_json_round_trip),
	        cmocka_unit_test(test_run_to_the_end),
	        cmocka_unit_test(test_failure_then_resume),
	        cmocka_unit_test(test_sigkill_then_resume),
	        cmocka_unit_test(test_gate),
	        cmocka_unit_test(test_reopen),
	        cmocka_unit_test(test_reopen_refused_while_running),
	        cmocka_unit_test(test_lock_names_its_holder),
	        cmocka_unit_test(test_find_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
