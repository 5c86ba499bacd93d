/* The recovery commands: `restore`, `pitr` and `runs`. They build a plan in
 * core, print it, check it, ask for the environment's name to be typed, and
 * hand it to a detached runner they then follow; `runs` lists, shows,
 * follows, resumes and cancels runs. Every refusal and cancellation is
 * audited like an action. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "commands.h"
#include "model/catalog.h"
#include "platform/platform.h"
#include "recovery/audit.h"
#include "recovery/inspect.h"
#include "recovery/lock.h"
#include "recovery/pitr.h"
#include "recovery/plan.h"
#include "recovery/restore.h"
#include "recovery/runner.h"
#include "recovery/target.h"
#include "recovery/walscan.h"
#include "storage/storage.h"

struct run_opts {
	bool dry_run;
	bool yes;
	bool detach;
	const char *incident;
	const char *reason;
};

/* ------------------------------------------------------------ audit */

static void audit_decision(const struct pgr_env *env, const char *plan, const char *incident, const char *reason,
                           const char *phase, const char *command, const char *detail)
{
	struct pgr_error err = {0};
	if (!pgr_audit_decision(env, plan, incident, reason, phase, command, detail, &err))
		fprintf(stderr, "pgrescue: WARNING: cannot write the audit log: %s\n", err.msg);
}

static char *command_line(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "pgrescue");
	for (int i = 0; i < argc; i++)
		sb_printf(&sb, " %s", argv[i]);
	return sb_steal(&sb);
}

static int refuse(const struct pgr_env *env, const char *plan, const struct run_opts *o, const char *cmdline,
                  const struct pgr_error *err, int code)
{
	audit_decision(env, plan, o->incident, o->reason, "refused", cmdline, err->msg);
	return fail_with(err, code);
}

/* ------------------------------------------------------------ prompts */

static bool interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

static char *ask(const char *question)
{
	fprintf(stderr, "%s", question);
	fflush(stderr);
	char buf[512];
	if (!fgets(buf, sizeof buf, stdin))
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* ------------------------------------------------------------ following a run */

static volatile sig_atomic_t g_detach;
static void on_int(int sig)
{
	(void)sig;
	g_detach = 1;
}

static void print_report(const char *report)
{
	if (!report || !*report)
		return;
	const char *p = report;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("       %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* Follow a run until it ends (or Ctrl-C detaches). Exit code: 0 done or
 * waiting at a gate, 1 failed/cancelled/interrupted. */
static int follow(const char *run_dir, pid_t runner)
{
	struct sigaction sa = {0}, old_int;
	sa.sa_handler = on_int;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	g_detach = 0;
	bool tty = isatty(STDOUT_FILENO);
	enum pgr_step_state *seen = NULL;
	size_t n_seen = 0;
	char *last_msg = NULL;
	double last_msg_t = 0;
	int code = EXIT_FAIL;
	struct pgr_error err = {0};
	/* Wait for the runner to show up (it writes state.json first thing). */
	double t_start = pgr_monotonic();
	for (;;) {
		struct pgr_run_info info;
		if (!pgr_run_info_load(run_dir, &info, &err)) {
			code = fail_with(&err, EXIT_FAIL);
			break;
		}
		/* Until the runner we started has reported, what state.json says is its predecessor's. */
		bool starting = runner > 0 && info.state_pid != runner && pgr_monotonic() - t_start < 15;
		if (starting && !g_detach) {
			pgr_run_info_free(&info);
			usleep(100 * 1000);
			continue;
		}
		if (!seen) {
			n_seen = info.n_steps;
			seen = xcalloc(n_seen + 1, sizeof *seen);
			printf("Run %s (%s on %s)\n", info.id, info.kind, info.env);
		}
		for (size_t i = 0; i < info.n_steps && i < n_seen; i++) {
			enum pgr_step_state st = info.steps[i].state;
			if (st == seen[i])
				continue;
			if (tty && last_msg)
				printf("\r\033[K");
			if (st == PGR_STEP_RUNNING)
				printf("[%zu/%zu] %s ...\n", i + 1, info.n_steps, info.steps[i].title);
			else if (st != PGR_STEP_PENDING) {
				printf("[%zu/%zu] %s: %s (%.1f s)\n", i + 1, info.n_steps, info.steps[i].title,
				       pgr_step_state_name(st), info.steps[i].seconds);
				print_report(info.steps[i].report);
			}
			seen[i] = st;
		}
		if (info.status == PGR_RUN_RUNNING && info.message && *info.message) {
			double now = pgr_monotonic();
			if (tty) {
				char pct[16] = "";
				if (info.fraction >= 0)
					snprintf(pct, sizeof pct, "%3.0f%% ", info.fraction * 100);
				printf("\r\033[K      %s%.100s", pct, info.message);
			} else if ((!last_msg || strcmp(last_msg, info.message) != 0) && now - last_msg_t >= 2) {
				printf("       %s\n", info.message);
				last_msg_t = now;
			}
			free(last_msg);
			last_msg = xstrdup(info.message);
		}
		fflush(stdout);
		if (info.status != PGR_RUN_RUNNING && !starting) {
			if (tty && last_msg)
				printf("\r\033[K");
			switch (info.status) {
			case PGR_RUN_DONE:
				printf("Run %s finished.\n", info.id);
				code = EXIT_OK;
				break;
			case PGR_RUN_WAITING:
				printf("Run %s is waiting%s%s.\nContinue with: pgrescue runs resume %s\n", info.id,
				       info.message ? ": " : "", info.message ? info.message : "", info.id);
				if (!strcmp(info.kind, "pitr") && info.current < info.n_steps &&
				    !strcmp(info.steps[info.current].id, "promote"))
					printf("Look first:    pgrescue runs inspect %s [--sql QUERY]\n"
					       "Replay on to a later target: pgrescue runs retarget %s --time T\n",
					       info.id, info.id);
				code = EXIT_OK;
				break;
			case PGR_RUN_FAILED:
				fprintf(stderr, "pgrescue: ERROR: run %s failed at step %zu (%s): %s\n", info.id,
				        info.current + 1,
				        info.current < info.n_steps ? info.steps[info.current].id : "?",
				        info.error ? info.error : "see its log");
				if (info.detail)
					fprintf(stderr, "DETAIL: %s\n", info.detail);
				if (info.hint)
					fprintf(stderr, "HINT: %s\n", info.hint);
				fprintf(stderr,
				        "HINT: Nothing after that step ran. Its log: %s/runner.log; retry with "
				        "`pgrescue "
				        "runs resume %s` once the cause is fixed.\n",
				        info.dir, info.id);
				break;
			case PGR_RUN_CANCELLED:
				fprintf(stderr,
				        "pgrescue: run %s was cancelled before step %zu; resume it with `pgrescue "
				        "runs resume %s`.\n",
				        info.id, info.current + 1, info.id);
				break;
			default:
				fprintf(stderr,
				        "pgrescue: ERROR: the runner of %s stopped during step %zu (%s)\n"
				        "HINT: Resume it with `pgrescue runs resume %s`; steps already done are "
				        "checked, not repeated.\n",
				        info.id, info.current + 1,
				        info.current < info.n_steps ? info.steps[info.current].id : "?", info.id);
				break;
			}
			pgr_run_info_free(&info);
			break;
		}
		pgr_run_info_free(&info);
		if (g_detach) {
			if (tty)
				printf("\r\033[K");
			printf("Detached. The run goes on; follow it with `pgrescue runs attach %s`.\n",
			       strrchr(run_dir, '/') ? strrchr(run_dir, '/') + 1 : run_dir);
			code = EXIT_OK;
			break;
		}
		usleep(50 * 1000);
	}
	free(seen);
	free(last_msg);
	sigaction(SIGINT, &old_int, NULL);
	return code;
}

/* ------------------------------------------------------------ starting a run */

static bool confirm(const struct globals *g, const struct pgr_env *env, const struct pgr_plan *p,
                    const struct run_opts *o, const char *cmdline, int *code)
{
	if (!pgr_plan_destructive(p))
		return true;
	struct pgr_error err = {0};
	if (o->yes) {
		if (!g->env_name) {
			pgr_error_set(&err, PGR_ERR_USAGE,
			              "--yes needs --env NAME: name the environment you mean to change");
			pgr_error_hint(&err, "pgrescue --env %s %s ... --yes", env->name, p->kind);
			*code = refuse(env, p->kind, o, cmdline, &err, EXIT_USAGE);
			return false;
		}
		return true;
	}
	if (!interactive()) {
		pgr_error_set(&err, PGR_ERR_USAGE,
		              "%s changes environment \"%s\" and needs a confirmation, but there is no terminal to "
		              "ask on",
		              p->kind, env->name);
		pgr_error_hint(&err, "Run it on a terminal, or pass --yes together with --env %s.", env->name);
		*code = refuse(env, p->kind, o, cmdline, &err, EXIT_USAGE);
		return false;
	}
	const char *what = pgr_kv_get(&p->params, "confirm");
	fprintf(stderr, "\nThis will %s.\n", what ? what : p->summary ? p->summary : p->kind);
	char *q = xasprintf("Type the environment's name (%s) to run it; anything else cancels: ", env->name);
	char *answer = ask(q);
	free(q);
	bool ok = answer && !strcmp(answer, env->name);
	free(answer);
	if (!ok) {
		fprintf(stderr, "Cancelled: nothing was changed.\n");
		audit_decision(env, p->kind, o->incident, o->reason, "cancelled", cmdline,
		               "the environment's name was not typed");
		*code = EXIT_FAIL;
	}
	return ok;
}

/* Lock, create the run, hand it to a detached runner, follow it. */
static int start_run(const struct pgr_env *env, struct pgr_plan *p, const struct run_opts *o, const char *cmdline)
{
	struct pgr_error err = {0};
	char *dir = NULL;
	pid_t pid = 0;
	if (!pgr_run_start(p, &dir, &pid, &err)) {
		free(dir);
		return err.kind == PGR_ERR_CONFLICT ? refuse(env, p->kind, o, cmdline, &err, EXIT_FAIL)
		                                    : fail_with(&err, EXIT_FAIL);
	}
	int code = EXIT_OK;
	if (o->detach)
		printf("Run %s started (runner pid %d).\nFollow it with: pgrescue runs attach %s\n", p->run_id,
		       (int)pid, p->run_id);
	else
		code = follow(dir, pid);
	free(dir);
	return code;
}

static bool ask_incident(struct run_opts *o, char **inc_buf, char **reason_buf)
{
	if (o->incident && o->reason)
		return true;
	if (!interactive() || o->dry_run)
		return true;
	if (!o->incident) {
		*inc_buf = ask("Incident id (e.g. INC-1234; Enter for none): ");
		if (!*inc_buf)
			return false;
		if (**inc_buf)
			o->incident = *inc_buf;
	}
	if (!o->reason) {
		*reason_buf = ask("Reason (one line, for the audit log): ");
		if (!*reason_buf)
			return false;
		if (**reason_buf)
			o->reason = *reason_buf;
	}
	return true;
}

/* Common options; returns 1 when argv[*i] was one, 0 when not, -1 on error. */
static int common_opt(int argc, char **argv, int *i, struct run_opts *o)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--dry-run"))
		return o->dry_run = true, 1;
	if (!strcmp(a, "--yes") || !strcmp(a, "-y"))
		return o->yes = true, 1;
	if (!strcmp(a, "--detach"))
		return o->detach = true, 1;
	if (!strcmp(a, "--incident") || !strcmp(a, "--reason")) {
		if (*i + 1 >= argc) {
			usage_error("%s needs a value", a);
			return -1;
		}
		if (!strcmp(a, "--incident"))
			o->incident = argv[++*i];
		else
			o->reason = argv[++*i];
		return 1;
	}
	if (!strncmp(a, "--incident=", 11))
		return o->incident = a + 11, 1;
	if (!strncmp(a, "--reason=", 9))
		return o->reason = a + 9, 1;
	return 0;
}

/* Everything after the plan is built: print, preflight, confirm, run. */
static int plan_and_run(const struct globals *g, const struct pgr_env *env, struct pgr_plan *p, struct run_opts *o,
                        const char *cmdline, bool (*preflight)(const struct pgr_plan *, struct pgr_error *))
{
	pgr_plan_print(p, stdout);
	fflush(stdout);
	if (o->dry_run) {
		printf("\n--dry-run: nothing was changed.\n");
		return EXIT_OK;
	}
	struct pgr_error err = {0};
	printf("\nChecking before anything changes ...\n");
	fflush(stdout);
	if (!preflight(p, &err))
		return refuse(env, p->kind, o, cmdline, &err, EXIT_FAIL);
	printf("Checks passed.\n");
	fflush(stdout);
	int code = EXIT_OK;
	if (!confirm(g, env, p, o, cmdline, &code))
		return code;
	return start_run(env, p, o, cmdline);
}

struct loaded {
	struct pgr_config cfg;
	struct pgr_env env;
	const struct pgr_env *e;
	struct pgr_store *store;
	struct pgr_catalog cat;
	bool have_cat;
};

static void loaded_free(struct loaded *l)
{
	if (l->have_cat)
		pgr_catalog_free(&l->cat);
	if (l->store)
		pgr_store_close(l->store);
	pgr_env_free(&l->env);
	pgr_config_free(&l->cfg);
}

static bool load_catalog(const struct globals *g, struct loaded *l, const char *plan, const struct run_opts *o,
                         const char *cmdline, int *code)
{
	struct pgr_error err = {0};
	memset(l, 0, sizeof *l);
	if (!load_env(g, &l->cfg, &l->env, &l->e, true, &err)) {
		*code = fail_with(&err, EXIT_USAGE);
		return false;
	}
	if (l->e->readonly) {
		pgr_error_set(&err, PGR_ERR_USAGE, "environment \"%s\" is read-only: %s would change it", l->e->name,
		              plan);
		pgr_error_hint(&err, "readonly = true in its [env] section makes it a watch-only environment.");
		*code = refuse(l->e, plan, o, cmdline, &err, EXIT_USAGE);
		return false;
	}
	if (!l->e->store || !*l->e->store) {
		pgr_error_set(&err, PGR_ERR_CONFIG, "environment \"%s\" has no store", l->e->name);
		pgr_error_hint(&err, "Set store = file:///... in its [env] section, or pass --store.");
		*code = fail_with(&err, EXIT_USAGE);
		return false;
	}
	/* A run of this environment that stopped half-way is the first thing to know. */
	struct pgr_run_info *runs = NULL;
	size_t n_runs = 0;
	if (pgr_runs_list(l->e->name, &runs, &n_runs, NULL))
		for (size_t i = 0; i < n_runs; i++)
			if (runs[i].status == PGR_RUN_INTERRUPTED || runs[i].status == PGR_RUN_WAITING) {
				fprintf(stderr,
				        "pgrescue: NOTE: run %s (%s) on %s is %s at step %zu of %zu (%s); `pgrescue "
				        "runs resume "
				        "%s` continues it.\n",
				        runs[i].id, runs[i].kind, runs[i].env, pgr_run_status_name(runs[i].status),
				        runs[i].current + 1, runs[i].n_steps,
				        runs[i].current < runs[i].n_steps ? runs[i].steps[runs[i].current].title : "-",
				        runs[i].id);
				break;
			}
	pgr_runs_free(runs, n_runs);
	l->store = pgr_store_open_env(l->e, &err);
	if (!l->store || !pgr_catalog_build(l->store, &l->cat, &err)) {
		*code = fail_with(&err, EXIT_FAIL);
		return false;
	}
	l->have_cat = true;
	return true;
}

static int replicas_now(const struct pgr_env *env)
{
	struct pgr_error err = {0};
	struct pgr_platform *pf = pgr_platform_open(env, &err);
	int n = -1;
	if (pf) {
		if (!pf->ops->app_replicas(pf, &n, &err))
			n = -1;
		pgr_platform_close(pf);
	}
	return n;
}

int cmd_restore(const struct globals *g, int argc, char **argv)
{
	struct run_opts o = {0};
	struct pgr_restore_opts ro;
	pgr_restore_opts_default(&ro);
	for (int i = 1; i < argc; i++) {
		int c = common_opt(argc, argv, &i, &o);
		if (c < 0)
			return EXIT_USAGE;
		if (c)
			continue;
		if ((!strcmp(argv[i], "--backup") || !strcmp(argv[i], "--jobs") || !strcmp(argv[i], "-j")) &&
		    i + 1 >= argc)
			return usage_error("%s needs a value", argv[i]);
		if (!strcmp(argv[i], "--backup"))
			ro.backup = argv[++i];
		else if (!strncmp(argv[i], "--backup=", 9))
			ro.backup = argv[i] + 9;
		else if (!strcmp(argv[i], "--jobs") || !strcmp(argv[i], "-j")) {
			char *end;
			long j = strtol(argv[++i], &end, 10);
			if (*end || j < 1 || j > 64)
				return usage_error("--jobs takes a number from 1 to 64, not \"%s\"", argv[i]);
			ro.jobs = (int)j;
		} else
			return usage_error("unknown option \"%s\" for restore", argv[i]);
	}
	char *cmdline = command_line(argc, argv);
	struct loaded l;
	int code = EXIT_OK;
	char *inc = NULL, *why = NULL;
	if (!load_catalog(g, &l, "restore", &o, cmdline, &code)) {
		loaded_free(&l);
		free(cmdline);
		return code;
	}
	if (!ask_incident(&o, &inc, &why)) {
		code = EXIT_FAIL;
		goto out;
	}
	ro.incident = o.incident;
	ro.reason = o.reason;
	ro.replicas_now = replicas_now(l.e);
	struct pgr_plan p;
	struct pgr_error err = {0};
	if (!pgr_restore_plan(l.e, &l.cat, &ro, &p, &err)) {
		code = refuse(l.e, "restore", &o, cmdline, &err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
		goto out;
	}
	code = plan_and_run(g, l.e, &p, &o, cmdline, pgr_restore_preflight);
	pgr_plan_free(&p);
out:
	free(inc);
	free(why);
	loaded_free(&l);
	free(cmdline);
	return code;
}

/* --time T, --xid X, --lsn L, --name N (also --KIND=VALUE) at argv[*i]: 1 and
 * the kind and value when it is one, 0 when not, -1 after a usage error. */
static int target_opt(int argc, char **argv, int *i, const char **kind, const char **value, int *n_targets)
{
	static const char *const kinds[] = {"time", "xid", "lsn", "name"};
	const char *a = argv[*i];
	for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		char opt[16], opteq[16];
		snprintf(opt, sizeof opt, "--%s", kinds[k]);
		snprintf(opteq, sizeof opteq, "--%s=", kinds[k]);
		if (!strcmp(a, opt)) {
			if (*i + 1 >= argc) {
				usage_error("%s needs a value", a);
				return -1;
			}
			*kind = kinds[k], *value = argv[++*i], (*n_targets)++;
			return 1;
		}
		if (!strncmp(a, opteq, strlen(opteq))) {
			*kind = kinds[k], *value = a + strlen(opteq), (*n_targets)++;
			return 1;
		}
	}
	return 0;
}

int cmd_pitr(const struct globals *g, int argc, char **argv)
{
	struct run_opts o = {0};
	struct pgr_pitr_opts po;
	pgr_pitr_opts_default(&po);
	const char *kind = NULL, *value = NULL;
	int n_targets = 0;
	bool exclusive = false;
	const char *event_id = NULL;
	const char *exe_opt = NULL; /* --exe: the pgrescue restore_command runs */
	for (int i = 1; i < argc; i++) {
		int c = common_opt(argc, argv, &i, &o);
		if (c < 0)
			return EXIT_USAGE;
		if (c)
			continue;
		int t = target_opt(argc, argv, &i, &kind, &value, &n_targets);
		if (t < 0)
			return EXIT_USAGE;
		if (t)
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "--immediate"))
			kind = "immediate", value = NULL, n_targets++;
		else if (!strcmp(a, "--before-event") || !strncmp(a, "--before-event=", 15)) {
			if (a[14] == '=')
				event_id = a + 15;
			else if (i + 1 >= argc)
				return usage_error("--before-event needs an event id (see `pgrescue events`)");
			else
				event_id = argv[++i];
			kind = "event", n_targets++;
		} else if (!strcmp(a, "--exclusive"))
			exclusive = true;
		else if (!strcmp(a, "--pause"))
			po.pause = true;
		else if (!strcmp(a, "--backup")) {
			if (i + 1 >= argc)
				return usage_error("--backup needs a base backup label");
			po.base = argv[++i];
		} else if (!strncmp(a, "--backup=", 9))
			po.base = a + 9;
		else if (!strcmp(a, "--exe")) {
			if (i + 1 >= argc)
				return usage_error("--exe needs the path of the pgrescue the server's user runs");
			exe_opt = argv[++i];
		} else
			return usage_error("unknown option \"%s\" for pitr", a);
	}
	if (n_targets != 1)
		return usage_error(
		        "pitr needs exactly one target: --time T, --xid X, --lsn L, --name N, --immediate or "
		        "--before-event ID");
	struct pgr_error err = {0};
	if (!event_id && !pgr_target_parse(kind, value, &po.target, &err))
		return fail_with(&err, EXIT_USAGE);
	po.target.inclusive = !exclusive;
	struct pgr_event ev = {0};
	char *cmdline = command_line(argc, argv);
	struct loaded l;
	int code = EXIT_OK;
	char *inc = NULL, *why = NULL, *zone = NULL, *exe = NULL;
	if (!load_catalog(g, &l, "pitr", &o, cmdline, &code)) {
		loaded_free(&l);
		free(cmdline);
		return code;
	}
	if (!ask_incident(&o, &inc, &why)) {
		code = EXIT_FAIL;
		goto out;
	}
	if (event_id) {
		/* Just before the event: its xid, not inclusive (exact, unlike a time). */
		if (!pgr_walscan_event_by_id(l.e, l.store, &l.cat, event_id, &ev, &err)) {
			code = refuse(l.e, "pitr", &o, cmdline, &err,
			              err.kind == PGR_ERR_USAGE || err.kind == PGR_ERR_NOTFOUND ? EXIT_USAGE
			                                                                        : EXIT_FAIL);
			goto out;
		}
		char xs[32];
		snprintf(xs, sizeof xs, "%llu", (unsigned long long)ev.xid);
		if (!pgr_target_parse("xid", xs, &po.target, &err)) {
			code = fail_with(&err, EXIT_FAIL);
			goto out;
		}
		po.target.inclusive = false;
	}
	po.incident = o.incident;
	po.reason = o.reason;
	po.replicas_now = replicas_now(l.e);
	exe = exe_opt ? xstrdup(exe_opt) : pgr_pitr_self_exe(l.e);
	po.self_exe = exe;
	zone = pgr_pitr_db_timezone(l.e);
	po.db_zone = zone;
	struct pgr_plan p;
	if (!pgr_pitr_plan(l.e, &l.cat, &po, &p, &err)) {
		code = refuse(l.e, "pitr", &o, cmdline, &err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
		goto out;
	}
	if (event_id) {
		char *line = pgr_event_line(&ev);
		char t[40];
		pgr_time_format_utc(ev.time, t, sizeof t);
		char *notes = xasprintf("%sTarget: just before event %s, committed %s (xid %llu, excluded):\n  %s\n",
		                        p.notes ? p.notes : "", ev.id, t, (unsigned long long)ev.xid, line);
		free(p.notes);
		p.notes = notes;
		free(line);
	}
	code = plan_and_run(g, l.e, &p, &o, cmdline, pgr_pitr_preflight);
	pgr_plan_free(&p);
out:
	pgr_event_free(&ev);
	free(exe);
	free(zone);
	free(inc);
	free(why);
	loaded_free(&l);
	free(cmdline);
	return code;
}

/* ------------------------------------------------------------ runs */

static void fmt_age(time_t t, char *buf, size_t n)
{
	if (!t) {
		snprintf(buf, n, "-");
		return;
	}
	pgr_time_format_utc(t, buf, n);
}

static int runs_list(const struct globals *g)
{
	struct pgr_run_info *v;
	size_t n;
	struct pgr_error err = {0};
	if (!pgr_runs_list(g->env_name, &v, &n, &err))
		return fail_with(&err, EXIT_FAIL);
	if (n == 0) {
		printf("No runs%s%s.\n", g->env_name ? " for environment " : "", g->env_name ? g->env_name : "");
		return EXIT_OK;
	}
	printf("%-44s %-8s %-12s %-11s %-22s %s\n", "RUN", "KIND", "ENV", "STATUS", "STARTED (UTC)", "STEP");
	for (size_t i = 0; i < n; i++) {
		char t[32];
		fmt_age(v[i].started, t, sizeof t);
		const char *step = v[i].current < v[i].n_steps ? v[i].steps[v[i].current].id : "-";
		printf("%-44s %-8s %-12s %-11s %-22s %zu/%zu %s\n", v[i].id, v[i].kind, v[i].env,
		       pgr_run_status_name(v[i].status), t,
		       v[i].current < v[i].n_steps ? v[i].current + 1 : v[i].n_steps, v[i].n_steps, step);
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].status == PGR_RUN_INTERRUPTED || v[i].status == PGR_RUN_WAITING) {
			printf("\nRun %s is %s at step %zu: continue it with `pgrescue runs resume %s`.\n", v[i].id,
			       pgr_run_status_name(v[i].status), v[i].current + 1, v[i].id);
			break;
		}
	pgr_runs_free(v, n);
	return EXIT_OK;
}

static int runs_show(const char *dir)
{
	struct pgr_run_info info;
	struct pgr_error err = {0};
	if (!pgr_run_info_load(dir, &info, &err))
		return fail_with(&err, EXIT_FAIL);
	char t[32];
	fmt_age(info.started, t, sizeof t);
	printf("Run %s\n  %s\n  environment %s, incident %s%s%s\n  started %s, %s%s%s\n\n", info.id,
	       info.summary ? info.summary : info.kind, info.env, info.incident ? info.incident : "(none)",
	       info.reason ? ": " : "", info.reason ? info.reason : "", t, pgr_run_status_name(info.status),
	       info.pid ? ", runner pid " : "", "");
	if (info.pid)
		printf("  runner pid %d\n\n", (int)info.pid);
	for (size_t i = 0; i < info.n_steps; i++) {
		printf("%2zu. %-9s %s", i + 1, pgr_step_state_name(info.steps[i].state), info.steps[i].title);
		if (info.steps[i].seconds > 0)
			printf(" (%.1f s)", info.steps[i].seconds);
		printf("\n");
		print_report(info.steps[i].report);
	}
	if (info.error)
		printf("\nERROR: %s\n", info.error);
	if (info.hint)
		printf("HINT: %s\n", info.hint);
	printf("\nLog: %s/runner.log\n", info.dir);
	pgr_run_info_free(&info);
	return EXIT_OK;
}

static int runs_resume(const struct globals *g, const char *dir, struct run_opts *o, const char *cmdline)
{
	struct pgr_error err = {0};
	struct pgr_run_info info;
	if (!pgr_run_info_load(dir, &info, &err))
		return fail_with(&err, EXIT_FAIL);
	struct pgr_plan p;
	char *pj = xasprintf("%s/plan.json", dir);
	char *text = NULL;
	bool ok = pgr_read_file(pj, &text, NULL, &err) && pgr_plan_from_json(text, pj, &p, &err);
	free(text);
	free(pj);
	if (!ok) {
		pgr_run_info_free(&info);
		return fail_with(&err, EXIT_FAIL);
	}
	int code = EXIT_OK;
	o->incident = p.incident;
	o->reason = p.reason;
	if (info.status == PGR_RUN_RUNNING) {
		printf("Run %s is running (runner pid %d); following it.\n", info.id, (int)info.pid);
		code = follow(dir, 0);
	} else if (info.status == PGR_RUN_DONE) {
		printf("Run %s has finished: nothing to resume.\n", info.id);
	} else {
		/* The plan was confirmed once; a resumed destructive plan is confirmed again. */
		bool destructive_left = false;
		for (size_t i = info.current; i < p.n_steps; i++)
			destructive_left |= p.steps[i].destructive;
		printf("Run %s: %s at step %zu of %zu (%s).\n", info.id, pgr_run_status_name(info.status),
		       info.current + 1, info.n_steps,
		       info.current < info.n_steps ? info.steps[info.current].title : "-");
		if (info.status == PGR_RUN_WAITING) {
			/* A gate (promote after --pause) is a decision: confirmed like a destructive step. */
			for (size_t i = info.current; i < p.n_steps; i++)
				p.steps[i].destructive = true;
			destructive_left = true;
		}
		if (destructive_left && !confirm(g, &p.env, &p, o, cmdline, &code)) {
			pgr_plan_free(&p);
			pgr_run_info_free(&info);
			return code;
		}
		pid_t pid = 0;
		if (!pgr_run_restart(dir, &pid, &err))
			code = err.kind == PGR_ERR_CONFLICT ? refuse(&p.env, p.kind, o, cmdline, &err, EXIT_FAIL)
			                                    : fail_with(&err, EXIT_FAIL);
		else
			code = o->detach ? EXIT_OK : follow(dir, pid);
	}
	pgr_plan_free(&p);
	pgr_run_info_free(&info);
	return code;
}

/* `runs inspect`: where the paused recovery stands, its row counts, or a query of the engineer's. */
static int runs_inspect(const struct globals *g, int argc, char **argv)
{
	const char *id = NULL, *sql = NULL;
	bool json = g->json;
	struct pgr_inspect_limits lim = {0};
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "--sql") || !strcmp(a, "--limit") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--sql"))
				sql = v;
			else {
				char *end;
				long n = strtol(v, &end, 10);
				if (*end || n < 1 || n > (!strcmp(a, "--limit") ? PGR_INSPECT_ROWS_CAP : 3600))
					return usage_error("%s takes a number from 1 to %d, not \"%s\"", a,
					                   !strcmp(a, "--limit") ? PGR_INSPECT_ROWS_CAP : 3600, v);
				if (!strcmp(a, "--limit"))
					lim.max_rows = (int)n;
				else
					lim.timeout_sec = (int)n;
			}
		} else if (!strncmp(a, "--sql=", 6))
			sql = a + 6;
		else if (a[0] == '-' && a[1])
			return usage_error("unknown option \"%s\" for runs inspect", a);
		else if (id)
			return usage_error("runs inspect takes one run id");
		else
			id = a;
	}
	struct pgr_error err = {0};
	char *dir = pgr_run_find(id ? id : "last", &err);
	if (!dir)
		return fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
	int code = EXIT_OK;
	if (sql) {
		struct pgr_qtable q;
		if (!pgr_inspect_query(dir, sql, &lim, &q, &err)) {
			code = fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
		} else {
			char *text = json ? pgr_inspect_json(NULL, &q) : pgr_qtable_text(&q);
			printf("%s%s", text, json ? "\n" : "");
			free(text);
			pgr_qtable_free(&q);
		}
		free(dir);
		return code;
	}
	struct pgr_inspect in;
	if (!pgr_inspect_run(dir, &lim, &in, &err)) {
		free(dir);
		return fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
	}
	if (json) {
		char *text = pgr_inspect_json(&in, NULL);
		printf("%s\n", text);
		free(text);
	} else {
		char where[256];
		pgr_pitr_stop_describe(&in.stop, where, sizeof where);
		printf("Run %s: %s\n", in.run_id,
		       in.at_gate ? "paused at its target, waiting at the promote gate" : in.status);
		printf("  target:       %s\n  base backup:  %s\n  replay:       %s\n\n", in.target, in.base, where);
		printf("Row counts in %s:\n", in.database);
		char *text = pgr_qtable_text(&in.counts);
		printf("%s", text);
		free(text);
		if (in.notes && *in.notes)
			printf("\n%s", in.notes);
		if (in.at_gate)
			printf("\nA query of your own (read-only): pgrescue runs inspect %s --sql \"SELECT ...\"\n"
			       "Promote:                         pgrescue runs resume %s\n"
			       "Replay on to a later target:     pgrescue runs retarget %s --time T\n",
			       in.run_id, in.run_id, in.run_id);
	}
	pgr_inspect_free(&in);
	free(dir);
	return code;
}

/* `runs retarget`: a paused recovery replays on to a later target, without starting over. */
static int runs_retarget(const struct globals *g, int argc, char **argv)
{
	struct run_opts o = {0};
	const char *id = NULL, *kind = NULL, *value = NULL;
	int n_targets = 0;
	bool exclusive = false;
	for (int i = 2; i < argc; i++) {
		int c = common_opt(argc, argv, &i, &o);
		if (c < 0)
			return EXIT_USAGE;
		if (c)
			continue;
		int t = target_opt(argc, argv, &i, &kind, &value, &n_targets);
		if (t < 0)
			return EXIT_USAGE;
		if (t)
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "--exclusive"))
			exclusive = true;
		else if (a[0] == '-' && a[1])
			return usage_error("unknown option \"%s\" for runs retarget", a);
		else if (id)
			return usage_error("runs retarget takes one run id");
		else
			id = a;
	}
	if (n_targets != 1)
		return usage_error(
		        "runs retarget needs exactly one new target: --time T, --xid X, --lsn L or --name N");
	if (o.dry_run)
		return usage_error(
		        "runs retarget has no --dry-run: without --yes it shows what it does and asks first");
	struct pgr_error err = {0};
	struct pgr_target t;
	if (!pgr_target_parse(kind, value, &t, &err))
		return fail_with(&err, EXIT_USAGE);
	t.inclusive = !exclusive;
	char *dir = pgr_run_find(id ? id : "last", &err);
	if (!dir)
		return fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
	struct pgr_plan p;
	if (!pgr_run_load_plan(dir, &p, &err)) {
		free(dir);
		return fail_with(&err, EXIT_FAIL);
	}
	o.incident = p.incident;
	o.reason = p.reason;
	char *cmdline = command_line(argc, argv);
	int code = EXIT_OK;
	struct pgr_store *st = pgr_store_open_env(&p.env, &err);
	struct pgr_catalog cat;
	bool have_cat = st && pgr_catalog_build(st, &cat, &err);
	struct pgr_retarget_check chk = {0};
	if (!have_cat) {
		code = fail_with(&err, EXIT_FAIL);
		goto out;
	}
	if (!pgr_pitr_retarget_check(dir, &cat, &t, &chk, &err)) {
		code = refuse(&p.env, "pitr", &o, cmdline, &err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
		goto out;
	}
	char where[256];
	pgr_pitr_stop_describe(&chk.stop, where, sizeof where);
	printf("Run %s: move the target later and replay on\n  from:    %s\n  to:      %s\n  stopped: %s\n", p.run_id,
	       chk.from, chk.to, where);
	if (t.kind == PGR_TARGET_TIME) {
		char *zone = pgr_pitr_db_timezone(&p.env);
		char *echo = pgr_target_time_echo(&t, zone);
		printf("%s%s", echo, echo[0] && echo[strlen(echo) - 1] != '\n' ? "\n" : "");
		free(echo);
		free(zone);
	}
	if (chk.note[0])
		printf("NOTE: %s\n", chk.note);
	printf("The base backup is not extracted again: the paused server restarts and replay continues from its "
	       "last restartpoint; the run then waits at its promote gate again.\n");
	fflush(stdout);
	/* A change to the environment's recovering server: confirmed like a plan. */
	char *what = xasprintf("stop the recovering server of %s (paused at %s, read-only) and replay on to %s; the "
	                       "run then waits at its promote gate again",
	                       p.env.name, chk.from, chk.to);
	pgr_kv_set(&p.params, "confirm", what);
	free(what);
	for (size_t i = 0; i < p.n_steps; i++)
		p.steps[i].destructive = !strcmp(p.steps[i].id, "start-recovery");
	if (!confirm(g, &p.env, &p, &o, cmdline, &code))
		goto out;
	pgr_retarget_check_free(&chk);
	pid_t pid = 0;
	if (!pgr_pitr_retarget(dir, &cat, &t, cmdline, &chk, &pid, &err)) {
		code = fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
		goto out;
	}
	printf("Target moved to %s; replaying on.\n", chk.to);
	fflush(stdout);
	code = o.detach ? EXIT_OK : follow(dir, pid);
out:
	pgr_retarget_check_free(&chk);
	if (have_cat)
		pgr_catalog_free(&cat);
	if (st)
		pgr_store_close(st);
	pgr_plan_free(&p);
	free(cmdline);
	free(dir);
	return code;
}

int cmd_runs(const struct globals *g, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "list";
	if (!strcmp(sub, "exec")) {
		/* Internal: the detached runner. */
		int lock_fd = -1;
		const char *dir = NULL;
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--lock-fd") && i + 1 < argc)
				lock_fd = atoi(argv[++i]);
			else
				dir = argv[i];
		}
		if (!dir)
			return usage_error("runs exec needs a run directory");
		struct pgr_error err = {0};
		bool waiting = false;
		if (pgr_run_exec(dir, lock_fd, &waiting, &err) || waiting)
			return EXIT_OK;
		if (err.kind == PGR_ERR_NONE)
			return EXIT_FAIL; /* cancelled */
		return fail_with(&err, EXIT_FAIL);
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return runs_list(g);
	if (!strcmp(sub, "inspect"))
		return runs_inspect(g, argc, argv);
	if (!strcmp(sub, "retarget"))
		return runs_retarget(g, argc, argv);
	struct run_opts o = {0};
	const char *id = NULL;
	for (int i = 2; i < argc; i++) {
		int c = common_opt(argc, argv, &i, &o);
		if (c < 0)
			return EXIT_USAGE;
		if (c)
			continue;
		if (id)
			return usage_error("runs %s takes one run id", sub);
		id = argv[i];
	}
	if (strcmp(sub, "show") && strcmp(sub, "attach") && strcmp(sub, "resume") && strcmp(sub, "cancel"))
		return usage_error(
		        "unknown runs command \"%s\" (list, show, attach, resume, cancel, inspect, retarget)", sub);
	struct pgr_error err = {0};
	char *dir = pgr_run_find(id ? id : "last", &err);
	if (!dir)
		return fail_with(&err, err.kind == PGR_ERR_USAGE ? EXIT_USAGE : EXIT_FAIL);
	int code;
	if (!strcmp(sub, "show"))
		code = runs_show(dir);
	else if (!strcmp(sub, "attach"))
		code = follow(dir, 0);
	else if (!strcmp(sub, "cancel")) {
		code = pgr_run_cancel(dir, &err) ? EXIT_OK : fail_with(&err, EXIT_FAIL);
		if (code == EXIT_OK)
			printf("Asked the runner to stop after its current step.\n");
	} else {
		char *cmdline = command_line(argc, argv);
		code = runs_resume(g, dir, &o, cmdline);
		free(cmdline);
	}
	free(dir);
	return code;
}
