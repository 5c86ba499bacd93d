/* The paused run's tasks, each in its own thread. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "paused.h"
#include "recovery/inspect.h"
#include "recovery/pitr.h"
#include "storage/storage.h"

struct pgr_gate_task {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	enum pgr_gate_task_kind kind;
	struct pgr_env env;
	char *run_dir, *sql, *command;
	struct pgr_target target;
	/* under mu until done */
	bool done, ok;
	char *text;
	struct pgr_error err;
	pid_t pid;
};

static char *inspect_text(const struct pgr_inspect *in)
{
	struct strbuf sb = STRBUF_INIT;
	char stop[300];
	pgr_pitr_stop_describe(&in->stop, stop, sizeof stop);
	sb_printf(&sb, "Replay stopped at %s\n", stop);
	sb_printf(&sb, "Target %s, from base backup %s; row counts in %s:\n", in->target ? in->target : "?",
	          in->base ? in->base : "?", in->database ? in->database : "?");
	char *t = pgr_qtable_text(&in->counts);
	sb_append(&sb, t);
	free(t);
	if (in->notes && *in->notes)
		sb_printf(&sb, "%s%s", sb_str(&sb)[strlen(sb_str(&sb)) - 1] == '\n' ? "" : "\n", in->notes);
	return sb_steal(&sb);
}

static void *task_main(void *arg)
{
	struct pgr_gate_task *g = arg;
	struct pgr_error err = {0};
	char *text = NULL;
	bool ok = false;
	pid_t pid = 0;
	switch (g->kind) {
	case PGR_GT_INSPECT: {
		struct pgr_inspect in;
		memset(&in, 0, sizeof in);
		ok = pgr_inspect_run(g->run_dir, NULL, &in, &err);
		if (ok)
			text = inspect_text(&in);
		pgr_inspect_free(&in);
		break;
	}
	case PGR_GT_QUERY: {
		struct pgr_qtable q;
		memset(&q, 0, sizeof q);
		ok = pgr_inspect_query(g->run_dir, g->sql, NULL, &q, &err);
		if (ok)
			text = pgr_qtable_text(&q);
		pgr_qtable_free(&q);
		break;
	}
	case PGR_GT_RETARGET: {
		struct pgr_store *st = pgr_store_open_env(&g->env, &err);
		if (!st)
			break;
		struct pgr_catalog cat;
		if (pgr_catalog_build(st, &cat, &err)) {
			struct pgr_retarget_check chk;
			memset(&chk, 0, sizeof chk);
			ok = pgr_pitr_retarget(g->run_dir, &cat, &g->target, g->command, &chk, &pid, &err);
			if (chk.from && chk.to)
				text = xasprintf("target moved from %s to %s%s%s", chk.from, chk.to,
				                 chk.note[0] ? "; " : "", chk.note);
			pgr_retarget_check_free(&chk);
			pgr_catalog_free(&cat);
		}
		pgr_store_close(st);
		break;
	}
	}
	pthread_mutex_lock(&g->mu);
	g->ok = ok;
	g->text = text;
	g->err = err;
	g->pid = pid;
	g->done = true;
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct pgr_gate_task *pgr_gate_task_start(enum pgr_gate_task_kind kind, const struct pgr_env *env, const char *run_dir,
                                          const char *sql, const struct pgr_target *t, const char *command)
{
	struct pgr_gate_task *g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->mu, NULL);
	g->kind = kind;
	pgr_env_copy(&g->env, env);
	g->run_dir = xstrdup(run_dir);
	g->sql = sql ? xstrdup(sql) : NULL;
	g->command = command ? xstrdup(command) : NULL;
	if (t)
		g->target = *t;
	if (pthread_create(&g->th, NULL, task_main, g) == 0) {
		g->started = true;
	} else {
		g->done = true;
		pgr_error_set(&g->err, PGR_ERR_INTERNAL, "cannot start a thread for the paused run's task");
	}
	return g;
}

enum pgr_gate_task_kind pgr_gate_task_kind(const struct pgr_gate_task *g)
{
	return g->kind;
}

bool pgr_gate_task_done(struct pgr_gate_task *g)
{
	pthread_mutex_lock(&g->mu);
	bool d = g->done;
	pthread_mutex_unlock(&g->mu);
	return d;
}

bool pgr_gate_task_ok(const struct pgr_gate_task *g)
{
	return g->ok;
}

const char *pgr_gate_task_text(const struct pgr_gate_task *g)
{
	return g->text;
}

const struct pgr_error *pgr_gate_task_error(const struct pgr_gate_task *g)
{
	return &g->err;
}

pid_t pgr_gate_task_pid(const struct pgr_gate_task *g)
{
	return g->pid;
}

void pgr_gate_task_free(struct pgr_gate_task *g)
{
	if (!g)
		return;
	if (g->started)
		pthread_join(g->th, NULL);
	pthread_mutex_destroy(&g->mu);
	pgr_env_free(&g->env);
	free(g->run_dir);
	free(g->sql);
	free(g->command);
	free(g->text);
	free(g);
}
