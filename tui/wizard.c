/* The recovery wizards walked from the dashboard: who asks and why, the dump
 * or the target, the exact plan with its checks, the environment's name
 * typed, then the run step by step. Plans are built and checked by core in
 * a worker thread so the screen never freezes; the run is a detached runner
 * this console starts and watches, and which goes on when it closes. Also
 * the banner offering to resume an unfinished run and the audit screen's
 * records. No libpq or libcurl here: only core's functions. */
#include "config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curses.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"
#include "platform/platform.h"
#include "recovery/audit.h"
#include "recovery/inspect.h"
#include "recovery/pitr.h"
#include "recovery/plan.h"
#include "recovery/restore.h"
#include "recovery/runner.h"
#include "recovery/speed.h"
#include "recovery/target.h"
#include "recovery/walscan.h"
#include "storage/storage.h"
#include "paused.h"
#include "picker.h"
#include "wizard.h"

#define BOLD ((int)A_BOLD)
#define POLL_SECONDS 0.25
#define RUNS_SCAN_SECONDS 5.0
#define RUNNER_START_SECONDS 15.0

static int A(enum pgr_role r)
{
	return pgr_theme_attr(r);
}

/* ------------------------------------------------------------ text fields */

struct field {
	char s[256];
};

static void field_set(struct field *f, const char *s)
{
	snprintf(f->s, sizeof f->s, "%s", s ? s : "");
}

/* Drop the last character (a whole UTF-8 sequence). */
static void field_backspace(struct field *f)
{
	size_t n = strlen(f->s);
	while (n > 0 && ((unsigned char)f->s[n - 1] & 0xC0) == 0x80)
		n--;
	if (n > 0)
		n--;
	f->s[n] = 0;
}

static void field_word_back(struct field *f)
{
	size_t n = strlen(f->s);
	while (n > 0 && f->s[n - 1] == ' ')
		n--;
	while (n > 0 && f->s[n - 1] != ' ')
		n--;
	f->s[n] = 0;
}

static bool field_key(struct field *f, int ch)
{
	if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		field_backspace(f);
		return true;
	}
	if (ch == 21) { /* C-u */
		f->s[0] = 0;
		return true;
	}
	if (ch == 23) { /* C-w */
		field_word_back(f);
		return true;
	}
	if ((ch >= 0x20 && ch < 0x7f) || (ch >= 0x80 && ch <= 0xff)) {
		size_t n = strlen(f->s);
		if (n + 1 < sizeof f->s) {
			f->s[n] = (char)ch;
			f->s[n + 1] = 0;
		}
		return true;
	}
	return false;
}

/* Trimmed copy, NULL when empty. */
static char *field_value(const struct field *f)
{
	const char *p = f->s;
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	return n ? xstrndup(p, n) : NULL;
}

/* ------------------------------------------------------------ the worker */

enum job_stage { JOB_PLANNING, JOB_CHECKING, JOB_DONE };

/* Builds the plan from a fresh listing of the store, as the command line
 * does, then runs its preflight checks; both read the network and disks. */
struct job {
	pthread_t th;
	pthread_mutex_t mu;
	enum job_stage stage; /* under mu */
	char *text; /* the plan text, published with stage CHECKING */
	bool plan_ok, check_ok; /* valid at DONE */
	struct pgr_error err; /* valid at DONE */
	struct pgr_plan plan; /* the worker's until DONE */

	bool pitr;
	struct pgr_env env;
	char *backup; /* restore: the dump key */
	struct pgr_target target;
	bool pause;
	char *self_exe, *snap_zone;
	char *incident, *reason;
	char *event_note; /* the event recovered to just before, for the plan's notes */
	time_t event_time; /* its commit time: the base backup is picked by it */
	struct job *next; /* in the list of abandoned jobs */
};

static struct job *abandoned;

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

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct pgr_error err = {0};
	struct pgr_catalog cat;
	bool ok = false;
	struct pgr_store *st = j->env.store && *j->env.store ? pgr_store_open_env(&j->env, &err) : NULL;
	if (!j->env.store || !*j->env.store) {
		pgr_error_set(&err, PGR_ERR_CONFIG, "environment \"%s\" has no store", j->env.name);
		pgr_error_hint(&err, "Set store = file:///... in its [env] section.");
	}
	if (st && pgr_catalog_build(st, &cat, &err)) {
		int rn = replicas_now(&j->env);
		if (j->pitr) {
			char *zone = pgr_pitr_db_timezone(&j->env);
			struct pgr_pitr_opts po;
			pgr_pitr_opts_default(&po);
			po.target = j->target;
			po.pause = j->pause;
			po.replicas_now = rn;
			po.self_exe = j->self_exe;
			po.db_zone = zone ? zone : j->snap_zone;
			po.incident = j->incident;
			po.reason = j->reason;
			if (j->event_time) {
				/* The newest base backup that ends before the event, not the window's oldest. */
				struct pgr_target at = {
				        .kind = PGR_TARGET_TIME, .time = j->event_time - 1, .inclusive = true};
				struct pgr_assessment as;
				pgr_target_assess(&at, &cat, 0, 0, &as);
				if (as.ok)
					po.base = as.base->label;
			}
			ok = pgr_pitr_plan(&j->env, &cat, &po, &j->plan, &err);
			if (ok && j->event_note) {
				char *notes = xasprintf("%s%s", j->plan.notes ? j->plan.notes : "", j->event_note);
				free(j->plan.notes);
				j->plan.notes = notes;
			}
			free(zone);
		} else {
			struct pgr_restore_opts ro;
			pgr_restore_opts_default(&ro);
			ro.backup = j->backup;
			ro.replicas_now = rn;
			ro.incident = j->incident;
			ro.reason = j->reason;
			ok = pgr_restore_plan(&j->env, &cat, &ro, &j->plan, &err);
		}
		pgr_catalog_free(&cat);
	}
	if (st)
		pgr_store_close(st);
	char *text = ok ? pgr_plan_text(&j->plan) : NULL;
	pthread_mutex_lock(&j->mu);
	j->text = text;
	j->plan_ok = ok;
	if (!ok) {
		j->err = err;
		j->stage = JOB_DONE;
	} else {
		j->stage = JOB_CHECKING;
	}
	pthread_mutex_unlock(&j->mu);
	if (!ok)
		return NULL;
	struct pgr_error cerr = {0};
	bool checked = j->pitr ? pgr_pitr_preflight(&j->plan, &cerr) : pgr_restore_preflight(&j->plan, &cerr);
	pthread_mutex_lock(&j->mu);
	j->check_ok = checked;
	j->err = cerr;
	j->stage = JOB_DONE;
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static enum job_stage job_stage(struct job *j)
{
	pthread_mutex_lock(&j->mu);
	enum job_stage s = j->stage;
	pthread_mutex_unlock(&j->mu);
	return s;
}

static void job_free(struct job *j)
{
	pthread_join(j->th, NULL);
	pthread_mutex_destroy(&j->mu);
	if (j->plan_ok)
		pgr_plan_free(&j->plan);
	free(j->text);
	pgr_env_free(&j->env);
	free(j->backup);
	free(j->self_exe);
	free(j->snap_zone);
	free(j->incident);
	free(j->reason);
	free(j->event_note);
	free(j);
}

/* The wizard no longer wants it: it finishes on its own and is reaped. */
static void job_abandon(struct job *j)
{
	if (!j)
		return;
	j->next = abandoned;
	abandoned = j;
}

static void jobs_reap(bool wait)
{
	struct job **pp = &abandoned;
	while (*pp) {
		struct job *j = *pp;
		if (wait || job_stage(j) == JOB_DONE) {
			*pp = j->next;
			job_free(j);
		} else {
			pp = &j->next;
		}
	}
}

/* ------------------------------------------------------------ the wizard */

enum wz_screen { WZ_INCIDENT, WZ_DUMP, WZ_TARGET, WZ_REVIEW, WZ_CONFIRM, WZ_RUN };

enum check_state { CHECK_PLANNING, CHECK_CHECKING, CHECK_PASSED, CHECK_REFUSED };

struct dump_row {
	char *key;
	const char *name; /* into key */
	time_t time;
	uint64_t size;
	bool good;
};

/* Indices match enum pgr_target_kind; "event" (just before a destructive
 * event found in the WAL) becomes an xid target, exclusive. */
static const char *const kind_names[] = {"time", "xid", "lsn", "name", "immediate", "event"};
#define N_KINDS 6
#define KIND_EVENT 5

struct pgr_wizard {
	bool pitr;
	bool steps; /* opened as a wizard (not only to show or resume a run) */
	enum wz_screen screen;
	int focus; /* incident: 0 id, 1 reason; target: 0 kind, 1 value, 2 inclusive, 3 at target */
	struct field incident, reason, target, answer;
	int tkind; /* index into kind_names */
	bool exclusive, pause;

	struct dump_row *dumps;
	int n_dumps, dsel, dtop;
	uint64_t dumps_seq; /* the snapshot they came from */
	bool dump_moved; /* the engineer chose: a new listing keeps the choice */
	char *want; /* :restore LABEL */

	struct job *job;
	/* The picker: the cursor on the window bars, the event scan and list. */
	bool picker; /* opened on its own (w / :window): shows and copies; a console that may change things goes on
	                into the wizard */
	bool picked; /* came from the picker: the incident step goes straight to the review */
	double replay_bps; /* measured on this machine, 0 unknown */
	size_t speed_runs;
	struct pgr_evscan *scan;
	int esel, etop;
	char scan_note[200];

	/* A PITR run paused at its target: the inspection, a query, moving the target. */
	struct pgr_gate_task *gt;
	char *gate_title, *gate_text;
	bool gate_failed;
	bool gate_auto; /* the counts were fetched once for this wait */
	bool retarget; /* the target step moves the run in view's target */

	enum check_state check;
	char *text; /* the plan text */
	struct pgr_plan plan;
	bool have_plan;
	struct pgr_error err; /* why the plan was refused */
	int review_top;
	char *command; /* the equivalent command line, for the audit log */

	/* The confirmation: for a new plan, or to resume a run. */
	bool resume;
	enum wz_screen confirm_back; /* where cancelling a resume returns (WZ_RUN), else the wizard closes */

	/* The run. */
	char *run_dir;
	pid_t runner; /* the runner this console started (0: attached to one already running) */
	double run_t0, last_poll;
	bool starting; /* the runner has not reported yet */
	struct pgr_run_info info;
	bool have_info;
	char run_error[600];
	int run_top;
	bool follow; /* keep the running step in view */
	enum pgr_run_status last_status;
};

static const char *kind_word(const struct pgr_wizard *w)
{
	return w->pitr ? "point-in-time recovery" : "restore";
}

static const char *plan_kind(const struct pgr_wizard *w)
{
	return w->pitr ? "pitr" : "restore";
}

static const char *env_name(const struct pgr_console *c)
{
	return c->env->name ? c->env->name : "?";
}

static const char *key_of(enum pgr_action a)
{
	const struct pgr_key *k = pgr_keymap_for(a);
	return k ? k->keyname : "?";
}

/* The name of one particular key of the table (Left rather than S-Tab). */
static const char *key_code(int code, enum pgr_action fallback)
{
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE; k++)
		if (k->key == code)
			return k->keyname;
	return key_of(fallback);
}

static void audit(struct pgr_console *c, const char *kind, const char *incident, const char *reason, const char *phase,
                  const char *command, const char *detail)
{
	struct pgr_error err = {0};
	if (!pgr_audit_decision(c->env, kind, incident, reason, phase, command, detail, &err))
		pgr_console_say(c, PGR_ROLE_FAIL, "cannot write the audit log: %s", err.msg);
}

static void free_dumps(struct pgr_wizard *w)
{
	for (int i = 0; i < w->n_dumps; i++)
		free(w->dumps[i].key);
	free(w->dumps);
	w->dumps = NULL;
	w->n_dumps = 0;
}

static void drop_plan(struct pgr_wizard *w)
{
	job_abandon(w->job);
	w->job = NULL;
	if (w->have_plan)
		pgr_plan_free(&w->plan);
	w->have_plan = false;
	free(w->text);
	w->text = NULL;
	free(w->command);
	w->command = NULL;
	pgr_error_clear(&w->err);
	w->review_top = 0;
}

static void wizard_free(struct pgr_wizard *w)
{
	if (!w)
		return;
	drop_plan(w);
	free_dumps(w);
	free(w->want);
	free(w->run_dir);
	if (w->have_info)
		pgr_run_info_free(&w->info);
	pgr_evscan_free(w->scan);
	pgr_gate_task_free(w->gt);
	free(w->gate_title);
	free(w->gate_text);
	free(w);
}

void pgr_wiz_close(struct pgr_console *c)
{
	wizard_free(c->wiz);
	c->wiz = NULL;
}

bool pgr_wiz_running_run(const struct pgr_console *c, char *buf, size_t n)
{
	const struct pgr_wizard *w = c->wiz;
	if (!w || w->screen != WZ_RUN || !w->have_info || w->info.status != PGR_RUN_RUNNING)
		return false;
	snprintf(buf, n, "%s", w->info.id);
	return true;
}

void pgr_wiz_shutdown(struct pgr_console *c)
{
	pgr_wiz_close(c);
	jobs_reap(true);
	pgr_audit_screen_free(c);
}

/* A :pitr argument: "xid 1234", "lsn 0/3000060", "name before_drop",
 * "immediate", "--time T", or a time. */
/* ------------------------------------------------------------ the picker */

static bool parse_target(const struct pgr_wizard *w, struct pgr_target *t, struct pgr_error *err);

static bool scan_finished(const struct pgr_wizard *w)
{
	if (!w->scan)
		return false;
	size_t d, t;
	bool fin;
	pgr_evscan_progress(w->scan, &d, &t, &fin);
	return fin;
}

static size_t n_events(const struct pgr_wizard *w)
{
	return scan_finished(w) && pgr_evscan_ok(w->scan) ? pgr_evscan_events(w->scan)->n : 0;
}

/* The event in the list's row i (newest first). */
static const struct pgr_event *event_at(const struct pgr_wizard *w, int i)
{
	size_t n = n_events(w);
	if (i < 0 || (size_t)i >= n)
		return NULL;
	return &pgr_evscan_events(w->scan)->v[n - 1 - (size_t)i];
}

/* Where the event scan starts: the first point any base backup reaches. */
static time_t scan_since(const struct pgr_console *c)
{
	if (!c->snap || !c->snap->facts.have_catalog)
		return 0;
	struct pgr_span *sp = NULL;
	size_t n = pgr_catalog_spans(&c->snap->facts.catalog, &sp);
	time_t since = 0;
	for (size_t i = 0; i < n; i++)
		if (!since || sp[i].from < since)
			since = sp[i].from;
	pgr_spans_free(sp, n);
	return since;
}

static void start_scan(struct pgr_console *c, struct pgr_wizard *w)
{
	if (w->scan)
		return;
	time_t since = scan_since(c);
	if (!since) {
		snprintf(w->scan_note, sizeof w->scan_note,
		         "no base backup reaches any WAL yet: nothing to scan (the store's listing may still be "
		         "coming)");
		return;
	}
	w->scan_note[0] = 0;
	w->esel = w->etop = 0;
	w->scan = pgr_evscan_start(c->env, since, 0);
}

/* The recoverable stretch's ends, for Home and End. */
static bool window_ends(const struct pgr_console *c, time_t *first, time_t *last)
{
	if (!c->snap || !c->snap->facts.have_catalog)
		return false;
	struct pgr_span *sp = NULL;
	size_t n = pgr_catalog_spans(&c->snap->facts.catalog, &sp);
	*first = *last = 0;
	for (size_t i = 0; i < n; i++) {
		if (!*first || sp[i].from < *first)
			*first = sp[i].from;
		if (sp[i].to > *last)
			*last = sp[i].to;
	}
	pgr_spans_free(sp, n);
	time_t lc = c->snap->facts.last_archived_commit;
	if (lc && lc < *last && lc > *first)
		*last = lc;
	return n > 0;
}

/* Left/Right a minute, Shift a hour, PgUp/PgDn a day, Home/End the ends:
 * the cursor moves from the time typed (or the window's end) and the field
 * shows where it is, in UTC with its zone. */
static bool cursor_key(struct pgr_console *c, struct pgr_wizard *w, int ch)
{
	long delta = 0;
	bool to_first = false, to_last = false;
	switch (ch) {
	case KEY_LEFT: delta = -60; break;
	case KEY_RIGHT: delta = 60; break;
	case KEY_SLEFT: delta = -3600; break;
	case KEY_SRIGHT: delta = 3600; break;
	case KEY_PPAGE: delta = -86400; break;
	case KEY_NPAGE: delta = 86400; break;
	case KEY_HOME: to_first = true; break;
	case KEY_END: to_last = true; break;
	default: return false;
	}
	time_t first = 0, last = 0;
	bool have = window_ends(c, &first, &last);
	struct pgr_target t;
	struct pgr_error err = {0};
	time_t at;
	if (to_first || to_last) {
		if (!have) {
			pgr_console_say(c, PGR_ROLE_WARN, "no recoverable window to move to (yet)");
			return true;
		}
		/* Just after the base backup's end; the last recoverable second. */
		at = to_first ? first + 1 : last;
	} else if (parse_target(w, &t, &err)) {
		at = t.time + delta;
	} else {
		at = (have ? last : time(NULL)) / 60 * 60 + (delta < 0 ? 0 : 0);
	}
	struct tm tm;
	gmtime_r(&at, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
	field_set(&w->target, buf);
	return true;
}

static void target_from_arg(struct pgr_wizard *w, const char *arg)
{
	const char *p = arg;
	while (*p == '-')
		p++;
	for (int k = 0; k < N_KINDS; k++) {
		size_t n = strlen(kind_names[k]);
		if (!strncasecmp(p, kind_names[k], n) && (p[n] == ' ' || p[n] == '=' || p[n] == 0)) {
			w->tkind = k;
			p += n;
			while (*p == ' ' || *p == '=')
				p++;
			field_set(&w->target, k == PGR_TARGET_IMMEDIATE ? "" : p);
			return;
		}
	}
	w->tkind = PGR_TARGET_TIME;
	field_set(&w->target, arg);
}

void pgr_wiz_open(struct pgr_console *c, bool pitr, const char *arg)
{
	if (c->wiz) {
		pgr_console_say(c, PGR_ROLE_WARN, "a wizard is open: finish it, or leave it with %s",
		                key_of(PGR_ACT_CLOSE));
		return;
	}
	struct pgr_wizard *w = xcalloc(1, sizeof *w);
	w->pitr = pitr;
	w->steps = true;
	w->screen = WZ_INCIDENT;
	w->tkind = PGR_TARGET_TIME;
	w->focus = 0;
	w->follow = true;
	if (arg && *arg) {
		if (pitr)
			target_from_arg(w, arg);
		else
			w->want = xstrdup(arg);
	}
	if (pitr)
		pgr_replay_speed(env_name(c), &w->replay_bps, &w->speed_runs);
	c->wiz = w;
	c->help = false;
	c->audit = false;
	/* A fresh listing of the store for the dump list and the window. */
	if (c->coll)
		pgr_collector_refresh_now(c->coll);
}

void pgr_wiz_open_picker(struct pgr_console *c, const char *arg)
{
	if (c->wiz) {
		pgr_console_say(c, PGR_ROLE_WARN, "a wizard is open: finish it, or leave it with %s",
		                key_of(PGR_ACT_CLOSE));
		return;
	}
	pgr_wiz_open(c, true, arg);
	struct pgr_wizard *w = c->wiz;
	w->picker = true;
	w->screen = WZ_TARGET;
	w->focus = 1;
}

/* ------------------------------------------------------------ dumps */

static void load_dumps(struct pgr_console *c, struct pgr_wizard *w)
{
	if (!c->snap || !c->snap->facts.have_catalog || c->snap->seq == w->dumps_seq)
		return;
	const struct pgr_catalog *cat = &c->snap->facts.catalog;
	char *keep = NULL;
	if (w->dump_moved && w->dsel < w->n_dumps)
		keep = xstrdup(w->dumps[w->dsel].key);
	free_dumps(w);
	w->dumps_seq = c->snap->seq;
	w->dumps = xcalloc(cat->n_dumps + 1, sizeof *w->dumps);
	const struct pgr_dump *newest = pgr_catalog_newest_dump(cat);
	int sel = -1;
	for (size_t i = cat->n_dumps; i > 0; i--) {
		const struct pgr_dump *d = &cat->dumps[i - 1];
		struct dump_row *r = &w->dumps[w->n_dumps];
		r->key = xstrdup(d->key);
		r->name = strrchr(r->key, '/') ? strrchr(r->key, '/') + 1 : r->key;
		r->time = d->time;
		r->size = d->size;
		r->good = d->good;
		if (keep && !strcmp(keep, d->key))
			sel = w->n_dumps;
		else if (!keep && w->want && (strstr(r->name, w->want) || !strcmp(r->key, w->want)) && sel < 0)
			sel = w->n_dumps;
		else if (!keep && !w->want && d == newest)
			sel = w->n_dumps;
		w->n_dumps++;
	}
	if (sel < 0 && w->want && w->n_dumps > 0)
		pgr_console_say(c, PGR_ROLE_WARN, "no dump \"%s\" in the store: the newest is selected", w->want);
	if (sel < 0)
		for (int i = 0; i < w->n_dumps && sel < 0; i++)
			if (w->dumps[i].good)
				sel = i;
	w->dsel = sel < 0 ? 0 : sel;
	free(keep);
}

/* ------------------------------------------------------------ plan and checks */

static char *shell_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_append(&sb, "'\\''");
		else
			sb_printf(&sb, "%c", *p);
	}
	sb_append(&sb, "'");
	return sb_steal(&sb);
}

/* The command line doing what the wizard does: what the audit log records. */
static char *equivalent_command(const struct pgr_console *c, const struct pgr_wizard *w)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "pgrescue --env %s %s", env_name(c), plan_kind(w));
	if (!w->pitr) {
		if (w->dsel < w->n_dumps)
			sb_printf(&sb, " --backup %s", w->dumps[w->dsel].name);
	} else {
		char *v = field_value(&w->target);
		const struct pgr_event *e = w->tkind == KIND_EVENT ? event_at(w, w->esel) : NULL;
		if (w->tkind == KIND_EVENT) {
			sb_printf(&sb, " --before-event %s", e ? e->id : "?");
		} else if (w->tkind == PGR_TARGET_IMMEDIATE) {
			sb_append(&sb, " --immediate");
		} else {
			char *q = shell_quote(v ? v : "");
			sb_printf(&sb, " --%s %s", kind_names[w->tkind], q);
			free(q);
		}
		free(v);
		if (w->exclusive && w->tkind != KIND_EVENT)
			sb_append(&sb, " --exclusive");
		if (w->pause)
			sb_append(&sb, " --pause");
	}
	sb_append(&sb, " (console wizard)");
	return sb_steal(&sb);
}

/* Parse the target as typed; false with err set. */
static bool parse_target(const struct pgr_wizard *w, struct pgr_target *t, struct pgr_error *err)
{
	if (w->tkind == KIND_EVENT) {
		const struct pgr_event *e = event_at(w, w->esel);
		if (!e) {
			if (!w->scan)
				pgr_error_set(err, PGR_ERR_USAGE, "no event picked: the scan of the WAL has not run");
			else if (!scan_finished(w))
				pgr_error_set(err, PGR_ERR_USAGE,
				              "no event picked yet: the scan of the WAL is still running");
			else if (!pgr_evscan_ok(w->scan))
				pgr_error_set(err, PGR_ERR_USAGE, "no event picked: the scan failed");
			else
				pgr_error_set(err, PGR_ERR_USAGE, "no destructive event found in the archived WAL");
			return false;
		}
		char xs[32];
		snprintf(xs, sizeof xs, "%llu", (unsigned long long)e->xid);
		if (!pgr_target_parse("xid", xs, t, err))
			return false;
		t->inclusive = false; /* just before it: its commit is left out */
		return true;
	}
	char *v = field_value(&w->target);
	bool ok;
	if (w->tkind == PGR_TARGET_IMMEDIATE) {
		ok = pgr_target_parse("immediate", NULL, t, err);
	} else if (!v) {
		ok = pgr_error_set(err, PGR_ERR_USAGE, "type the %s to recover to", kind_names[w->tkind]);
	} else {
		ok = pgr_target_parse(kind_names[w->tkind], v, t, err);
	}
	free(v);
	if (ok)
		t->inclusive = !w->exclusive;
	return ok;
}

static void start_job(struct pgr_console *c, struct pgr_wizard *w)
{
	drop_plan(w);
	struct job *j = xcalloc(1, sizeof *j);
	pthread_mutex_init(&j->mu, NULL);
	j->pitr = w->pitr;
	pgr_env_copy(&j->env, c->env);
	j->incident = field_value(&w->incident);
	j->reason = field_value(&w->reason);
	if (w->pitr) {
		struct pgr_error err = {0};
		parse_target(w, &j->target, &err); /* checked before */
		j->pause = w->pause;
		const struct pgr_event *e = w->tkind == KIND_EVENT ? event_at(w, w->esel) : NULL;
		if (e) {
			char *line = pgr_event_line(e);
			char t[40];
			pgr_time_format_utc(e->time, t, sizeof t);
			j->event_note =
			        xasprintf("Target: just before event %s, committed %s (xid %llu, excluded):\n  %s\n",
			                  e->id, t, (unsigned long long)e->xid, line);
			j->event_time = e->time;
			free(line);
		}
		j->self_exe = pgr_pitr_self_exe(c->env);
		if (c->snap && c->snap->facts.db_timezone[0])
			j->snap_zone = xstrdup(c->snap->facts.db_timezone);
	} else {
		j->backup = w->dsel < w->n_dumps ? xstrdup(w->dumps[w->dsel].key) : NULL;
	}
	w->command = equivalent_command(c, w);
	w->check = CHECK_PLANNING;
	if (pthread_create(&j->th, NULL, job_main, j) != 0) {
		pthread_mutex_destroy(&j->mu);
		pgr_env_free(&j->env);
		free(j->incident);
		free(j->reason);
		free(j->self_exe);
		free(j->snap_zone);
		free(j->backup);
		free(j);
		w->check = CHECK_REFUSED;
		pgr_error_set(&w->err, PGR_ERR_INTERNAL, "cannot start a thread to prepare the plan");
		return;
	}
	w->job = j;
}

/* Take what the worker has published; true when something changed. */
static bool job_harvest(struct pgr_console *c, struct pgr_wizard *w)
{
	struct job *j = w->job;
	if (!j)
		return false;
	bool changed = false;
	pthread_mutex_lock(&j->mu);
	enum job_stage st = j->stage;
	if (st >= JOB_CHECKING && !w->text && j->text) {
		w->text = xstrdup(j->text);
		w->check = CHECK_CHECKING;
		changed = true;
	}
	pthread_mutex_unlock(&j->mu);
	if (st != JOB_DONE)
		return changed;
	pthread_join(j->th, NULL);
	pthread_mutex_destroy(&j->mu);
	w->job = NULL;
	if (j->plan_ok) {
		w->plan = j->plan; /* moved */
		w->have_plan = true;
		j->plan_ok = false;
	}
	if (j->plan_ok || w->have_plan) {
		if (j->check_ok) {
			w->check = CHECK_PASSED;
		} else {
			w->check = CHECK_REFUSED;
			w->err = j->err;
		}
	} else {
		w->check = CHECK_REFUSED;
		w->err = j->err;
	}
	if (w->check == CHECK_REFUSED) {
		char *inc = field_value(&w->incident), *why = field_value(&w->reason);
		audit(c, plan_kind(w), inc, why, "refused", w->command, w->err.msg);
		free(inc);
		free(why);
	}
	free(j->text);
	pgr_env_free(&j->env);
	free(j->backup);
	free(j->self_exe);
	free(j->snap_zone);
	free(j->incident);
	free(j->reason);
	free(j->event_note);
	free(j);
	return true;
}

/* ------------------------------------------------------------ the run */

static void open_run_view(struct pgr_console *c, struct pgr_wizard *w, const char *dir, pid_t runner)
{
	if (dir != w->run_dir) {
		free(w->run_dir);
		w->run_dir = xstrdup(dir);
	}
	w->runner = runner;
	w->run_t0 = pgr_monotonic();
	w->last_poll = 0;
	w->starting = runner > 0;
	w->screen = WZ_RUN;
	w->follow = true;
	w->run_top = 0;
	w->run_error[0] = 0;
	w->last_status = PGR_RUN_RUNNING;
	c->banner[0] = 0; /* this run is on the screen now */
}

/* ------------------------------------------------------------ paused at the target */

/* The run in view is a PITR waiting at its promote gate (paused, read-only). */
static bool at_pitr_gate(const struct pgr_wizard *w)
{
	if (!w->have_info || w->info.status != PGR_RUN_WAITING || !w->info.kind || strcmp(w->info.kind, "pitr") != 0)
		return false;
	size_t i = w->info.current;
	return i < w->info.n_steps && !strcmp(w->info.steps[i].id, "promote");
}

static void gate_start(struct pgr_console *c, struct pgr_wizard *w, enum pgr_gate_task_kind kind, const char *sql,
                       const struct pgr_target *t, const char *command)
{
	if (w->gt) {
		pgr_console_say(c, PGR_ROLE_MUTED, "still busy with the paused server: wait a moment");
		return;
	}
	free(w->gate_title);
	w->gate_title = kind == PGR_GT_INSPECT ? xstrdup("Row counts at the target")
	        : kind == PGR_GT_QUERY         ? xasprintf("Query: %s", sql)
	                                       : xstrdup("Moving the target");
	free(w->gate_text);
	w->gate_text = NULL;
	w->gate_failed = false;
	w->gt = pgr_gate_task_start(kind, c->env, w->run_dir, sql, t, command);
}

bool pgr_wiz_sql(struct pgr_console *c, const char *sql)
{
	struct pgr_wizard *w = c->wiz;
	if (!w || w->screen != WZ_RUN || !at_pitr_gate(w))
		return false;
	struct pgr_error err = {0};
	if (!pgr_inspect_sql_allowed(sql, &err)) {
		pgr_console_say(c, PGR_ROLE_FAIL, "%s%s%s", err.msg, err.hint[0] ? "  HINT: " : "", err.hint);
		return true;
	}
	gate_start(c, w, PGR_GT_QUERY, sql, NULL, NULL);
	return true;
}

/* A finished task: its text under the run, or the run view again after a retarget. */
static bool gate_harvest(struct pgr_console *c, struct pgr_wizard *w)
{
	if (!w->gt || !pgr_gate_task_done(w->gt))
		return false;
	struct pgr_gate_task *g = w->gt;
	w->gt = NULL;
	const struct pgr_error *e = pgr_gate_task_error(g);
	if (pgr_gate_task_kind(g) == PGR_GT_RETARGET) {
		if (pgr_gate_task_ok(g)) {
			pgr_console_say(c, PGR_ROLE_WARN, "%s; the server restarts and replays on (runner pid %d)",
			                pgr_gate_task_text(g) ? pgr_gate_task_text(g) : "target moved",
			                (int)pgr_gate_task_pid(g));
			free(w->gate_text);
			w->gate_text = NULL;
			free(w->gate_title);
			w->gate_title = NULL;
			w->gate_auto = false; /* counts again at the new stop */
			open_run_view(c, w, w->run_dir, pgr_gate_task_pid(g));
		} else {
			pgr_console_say(c, PGR_ROLE_FAIL, "target not moved: %s%s%s", e->msg,
			                e->hint[0] ? "  HINT: " : "", e->hint);
			free(w->gate_title);
			w->gate_title = xstrdup("Moving the target: refused");
			free(w->gate_text);
			w->gate_text = xasprintf("%s%s%s", e->msg, e->hint[0] ? "\nHINT: " : "", e->hint);
			w->gate_failed = true;
		}
	} else if (pgr_gate_task_ok(g)) {
		free(w->gate_text);
		w->gate_text = xstrdup(pgr_gate_task_text(g) ? pgr_gate_task_text(g) : "");
	} else {
		free(w->gate_text);
		w->gate_text = xasprintf("%s%s%s", e->msg, e->hint[0] ? "\nHINT: " : "", e->hint);
		w->gate_failed = true;
	}
	pgr_gate_task_free(g);
	return true;
}

static void start_run(struct pgr_console *c, struct pgr_wizard *w)
{
	char *dir = NULL;
	pid_t pid = 0;
	struct pgr_error err = {0};
	if (!pgr_run_start(&w->plan, &dir, &pid, &err)) {
		free(dir);
		char *inc = field_value(&w->incident), *why = field_value(&w->reason);
		if (err.kind == PGR_ERR_CONFLICT)
			audit(c, plan_kind(w), inc, why, "refused", w->command, err.msg);
		free(inc);
		free(why);
		w->err = err;
		w->check = CHECK_REFUSED;
		w->screen = WZ_REVIEW;
		pgr_console_say(c, PGR_ROLE_FAIL, "%s not started: %s", kind_word(w), err.msg);
		return;
	}
	pgr_console_say(c, PGR_ROLE_WARN, "run %s started (runner pid %d); it goes on if the console closes",
	                w->plan.run_id ? w->plan.run_id : "?", (int)pid);
	drop_plan(w);
	open_run_view(c, w, dir, pid);
	free(dir);
}

static bool poll_run(struct pgr_console *c, struct pgr_wizard *w)
{
	double now = pgr_monotonic();
	if (now - w->last_poll < POLL_SECONDS)
		return false;
	w->last_poll = now;
	struct pgr_run_info info;
	struct pgr_error err = {0};
	if (!pgr_run_info_load(w->run_dir, &info, &err)) {
		snprintf(w->run_error, sizeof w->run_error, "%.500s", err.msg);
		return true;
	}
	w->run_error[0] = 0;
	/* Until the runner we started reports, state.json is its predecessor's. */
	if (w->runner > 0 && info.state_pid != w->runner && now - w->run_t0 < RUNNER_START_SECONDS) {
		pgr_run_info_free(&info);
		w->starting = true;
		return true;
	}
	w->starting = false;
	if (w->have_info)
		pgr_run_info_free(&w->info);
	w->info = info;
	w->have_info = true;
	if (info.status == PGR_RUN_RUNNING)
		w->gate_auto = false;
	else if (at_pitr_gate(w) && !w->gate_auto && !w->gt) {
		/* Paused at the target: the counts at once, as the first thing to look at. */
		w->gate_auto = true;
		gate_start(c, w, PGR_GT_INSPECT, NULL, NULL, NULL);
	}
	if (info.status != w->last_status) {
		w->last_status = info.status;
		if (info.status != PGR_RUN_RUNNING) {
			if (c->coll)
				pgr_collector_refresh_now(c->coll);
			switch (info.status) {
			case PGR_RUN_DONE: pgr_console_say(c, PGR_ROLE_OK, "run %s finished", info.id); break;
			case PGR_RUN_WAITING:
				pgr_console_say(c, PGR_ROLE_WARN, "run %s is waiting: %s continues it", info.id,
				                key_of(PGR_ACT_RESUME));
				break;
			default:
				pgr_console_say(c, PGR_ROLE_FAIL, "run %s %s at step %zu", info.id,
				                pgr_run_status_name(info.status), info.current + 1);
				break;
			}
		}
	}
	return true;
}

/* ------------------------------------------------------------ resume */

static bool load_plan(const char *dir, struct pgr_plan *p, struct pgr_error *err)
{
	char *pj = xasprintf("%s/plan.json", dir);
	char *text = NULL;
	bool ok = pgr_read_file(pj, &text, NULL, err) && pgr_plan_from_json(text, pj, p, err);
	free(text);
	free(pj);
	return ok;
}

void pgr_wiz_resume(struct pgr_console *c)
{
	struct pgr_wizard *w = c->wiz;
	const char *dir = NULL;
	if (w && w->screen == WZ_RUN)
		dir = w->run_dir;
	else if (w) {
		pgr_console_say(c, PGR_ROLE_WARN, "a wizard is open: finish it, or leave it with %s",
		                key_of(PGR_ACT_CLOSE));
		return;
	} else {
		pgr_runs_scan(c, true);
		if (c->banner[0])
			dir = c->banner_dir;
	}
	if (!dir) {
		pgr_console_say(c, PGR_ROLE_MUTED, "no unfinished run of environment %s to resume", env_name(c));
		return;
	}
	char *d = xstrdup(dir);
	struct pgr_run_info info;
	struct pgr_error err = {0};
	if (!pgr_run_info_load(d, &info, &err)) {
		pgr_console_say(c, PGR_ROLE_FAIL, "%s", err.msg);
		free(d);
		return;
	}
	if (!w) {
		w = xcalloc(1, sizeof *w);
		w->pitr = info.kind && !strcmp(info.kind, "pitr");
		w->follow = true;
		c->wiz = w;
		c->help = false;
		c->audit = false;
	}
	if (info.status == PGR_RUN_RUNNING || info.status == PGR_RUN_DONE) {
		if (w->screen != WZ_RUN || strcmp(w->run_dir ? w->run_dir : "", d))
			open_run_view(c, w, d, 0);
		else if (info.status == PGR_RUN_RUNNING)
			pgr_console_say(c, PGR_ROLE_MUTED, "run %s is running: nothing to resume", info.id);
		if (info.status == PGR_RUN_DONE)
			pgr_console_say(c, PGR_ROLE_OK, "run %s has finished: nothing to resume", info.id);
		pgr_run_info_free(&info);
		free(d);
		return;
	}
	drop_plan(w);
	if (!load_plan(d, &w->plan, &err)) {
		pgr_console_say(c, PGR_ROLE_FAIL, "%s", err.msg);
		pgr_run_info_free(&info);
		free(d);
		if (w->screen != WZ_RUN)
			pgr_wiz_close(c);
		return;
	}
	w->have_plan = true;
	w->pitr = w->plan.kind && !strcmp(w->plan.kind, "pitr");
	field_set(&w->incident, w->plan.incident);
	field_set(&w->reason, w->plan.reason);
	w->command = xasprintf("pgrescue --env %s runs resume %s (console)", env_name(c), info.id);
	free(w->run_dir);
	w->run_dir = d;
	w->resume = true;
	w->confirm_back = w->screen == WZ_RUN ? WZ_RUN : WZ_INCIDENT;
	w->screen = WZ_CONFIRM;
	w->answer.s[0] = 0;
	if (w->have_info)
		pgr_run_info_free(&w->info);
	w->info = info;
	w->have_info = true;
}

static void confirm_answered(struct pgr_console *c, struct pgr_wizard *w, bool escaped)
{
	bool ok = !escaped && !strcmp(w->answer.s, env_name(c));
	w->answer.s[0] = 0; /* nothing is remembered */
	if (w->retarget) {
		w->retarget = false;
		struct pgr_target t;
		struct pgr_error err = {0};
		char *cmd = NULL;
		if (parse_target(w, &t, &err)) {
			char *v = field_value(&w->target);
			char *q = shell_quote(v ? v : "");
			cmd = xasprintf("pgrescue --env %s runs retarget %s --%s %s%s (console)", env_name(c),
			                w->have_info ? w->info.id : "?", kind_names[w->tkind], q,
			                t.inclusive ? "" : " --exclusive");
			free(q);
			free(v);
		}
		if (!ok || !cmd) {
			audit(c, "pitr", w->have_info ? w->info.incident : NULL, w->have_info ? w->info.reason : NULL,
			      "cancelled", cmd ? cmd : "runs retarget (console)",
			      escaped ? "moving the target cancelled at the confirmation (Esc)"
			              : "the environment's name was not typed");
			pgr_console_say(c, PGR_ROLE_MUTED,
			                "Cancelled: the target was not moved; the run still waits at it.");
			open_run_view(c, w, w->run_dir, 0);
			free(cmd);
			return;
		}
		open_run_view(c, w, w->run_dir, 0);
		gate_start(c, w, PGR_GT_RETARGET, NULL, &t, cmd);
		free(cmd);
		return;
	}
	char *inc = field_value(&w->incident), *why = field_value(&w->reason);
	if (!ok) {
		audit(c, w->have_plan ? w->plan.kind : plan_kind(w), inc, why, "cancelled", w->command,
		      escaped ? "cancelled at the confirmation (Esc)" : "the environment's name was not typed");
		free(inc);
		free(why);
		if (w->resume) {
			w->resume = false;
			drop_plan(w);
			pgr_console_say(c, PGR_ROLE_MUTED, "Cancelled: the run was not resumed; nothing was changed.");
			if (w->confirm_back == WZ_RUN)
				open_run_view(c, w, w->run_dir, 0);
			else
				pgr_wiz_close(c);
			return;
		}
		pgr_console_say(c, PGR_ROLE_WARN, "Cancelled: nothing was changed (the %s was not started).",
		                kind_word(w));
		pgr_wiz_close(c);
		return;
	}
	free(inc);
	free(why);
	if (!w->resume) {
		start_run(c, w);
		return;
	}
	pid_t pid = 0;
	struct pgr_error err = {0};
	w->resume = false;
	char *dir = xstrdup(w->run_dir);
	if (!pgr_run_restart(dir, &pid, &err)) {
		if (err.kind == PGR_ERR_CONFLICT)
			audit(c, w->plan.kind, w->plan.incident, w->plan.reason, "refused", w->command, err.msg);
		pgr_console_say(c, PGR_ROLE_FAIL, "not resumed: %s%s%s", err.msg, err.hint[0] ? " HINT: " : "",
		                err.hint);
		pid = 0;
	} else {
		pgr_console_say(c, PGR_ROLE_WARN, "run resumed (runner pid %d); it goes on if the console closes",
		                (int)pid);
	}
	drop_plan(w);
	open_run_view(c, w, dir, pid);
	free(dir);
}

/* ------------------------------------------------------------ keys */

static struct field *text_field(struct pgr_wizard *w)
{
	switch (w->screen) {
	case WZ_INCIDENT: return w->focus == 0 ? &w->incident : &w->reason;
	case WZ_TARGET: return w->tkind == PGR_TARGET_IMMEDIATE || w->tkind == KIND_EVENT ? NULL : &w->target;
	case WZ_CONFIRM: return &w->answer;
	default: return NULL;
	}
}

bool pgr_wiz_text_key(struct pgr_console *c, int ch)
{
	struct pgr_wizard *w = c->wiz;
	if (!w || c->help)
		return false;
	if (w->screen == WZ_TARGET && w->tkind == PGR_TARGET_TIME && w->focus == 1 && cursor_key(c, w, ch))
		return true;
	struct field *f = text_field(w);
	if (!f)
		return false;
	if (!field_key(f, ch))
		return false;
	if (w->screen == WZ_TARGET)
		w->focus = 1; /* typing goes to the target, whichever row was selected */
	return true;
}

static void go_review(struct pgr_console *c, struct pgr_wizard *w)
{
	w->screen = WZ_REVIEW;
	start_job(c, w);
}

static void back(struct pgr_console *c, struct pgr_wizard *w)
{
	switch (w->screen) {
	case WZ_INCIDENT:
		pgr_console_say(c, PGR_ROLE_MUTED, "%s wizard closed; nothing was changed", kind_word(w));
		pgr_wiz_close(c);
		break;
	case WZ_DUMP:
	case WZ_TARGET:
		if (w->screen == WZ_TARGET && w->scan && !scan_finished(w)) {
			pgr_evscan_cancel(w->scan);
			pgr_console_say(
			        c, PGR_ROLE_MUTED,
			        "event scan cancelled; the segments read are cached, so the next scan is quicker");
			break;
		}
		if (w->retarget) {
			w->retarget = false;
			pgr_console_say(c, PGR_ROLE_MUTED, "the target was not moved; the run still waits at it");
			open_run_view(c, w, w->run_dir, 0);
			break;
		}
		if (w->picker) {
			pgr_console_say(c, PGR_ROLE_MUTED, "target picker closed; nothing was changed");
			pgr_wiz_close(c);
			break;
		}
		w->screen = WZ_INCIDENT;
		w->focus = 1;
		break;
	case WZ_REVIEW:
		drop_plan(w);
		w->screen = w->pitr ? WZ_TARGET : WZ_DUMP;
		w->focus = 1;
		break;
	case WZ_CONFIRM: confirm_answered(c, w, true); break;
	case WZ_RUN: {
		const char *id = w->have_info ? w->info.id : "";
		if (!w->have_info || w->starting || w->info.status == PGR_RUN_RUNNING)
			pgr_console_say(c, PGR_ROLE_MUTED,
			                "left the view of run %s; it goes on (%s shows it again, or `pgrescue runs "
			                "attach %s`)",
			                id, key_of(PGR_ACT_RESUME), id);
		else
			pgr_console_say(c, PGR_ROLE_MUTED, "left the view of run %s (%s)", id,
			                pgr_run_status_name(w->info.status));
		pgr_wiz_close(c);
		pgr_runs_scan(c, true);
		break;
	}
	}
}

static void accept(struct pgr_console *c, struct pgr_wizard *w)
{
	switch (w->screen) {
	case WZ_INCIDENT:
		if (w->focus == 0) {
			w->focus = 1;
			break;
		}
		if (w->picked) {
			go_review(c, w); /* the target was picked first */
			break;
		}
		w->screen = w->pitr ? WZ_TARGET : WZ_DUMP;
		w->focus = 1;
		if (!w->pitr)
			load_dumps(c, w); /* keys typed ahead meet the list, not an empty screen */
		break;
	case WZ_DUMP:
		load_dumps(c, w);
		if (w->n_dumps == 0) {
			pgr_console_say(c, PGR_ROLE_WARN, "no dump to pick (yet): the store's listing is %s",
			                c->snap && c->snap->facts.have_catalog ? "empty" : "not read yet");
			break;
		}
		if (!w->dumps[w->dsel].good) {
			pgr_console_say(c, PGR_ROLE_WARN, "%s is a FAILED dump: pick a good one",
			                w->dumps[w->dsel].name);
			break;
		}
		go_review(c, w);
		break;
	case WZ_TARGET: {
		struct pgr_target t;
		struct pgr_error err = {0};
		if (!parse_target(w, &t, &err)) {
			pgr_console_say(c, PGR_ROLE_FAIL, "%s", err.msg);
			break;
		}
		if (w->retarget) {
			w->screen = WZ_CONFIRM;
			w->resume = false;
			w->answer.s[0] = 0;
			break;
		}
		if (w->picker) {
			/* On its own the picker changes nothing: it hands the target over. */
			char *cmd = equivalent_command(c, w);
			char *end = strstr(cmd, " (console wizard)");
			if (end)
				*end = 0;
			snprintf(c->sel_copy, sizeof c->sel_copy, "%s", cmd);
			if (c->monitor) {
				pgr_console_say(c, PGR_ROLE_OK, "read-only monitor: target picked: %s (y copies it)",
				                cmd);
			} else {
				w->picker = false;
				w->picked = true;
				w->screen = WZ_INCIDENT;
				w->focus = 0;
				pgr_console_say(c, PGR_ROLE_OK, "target picked: %s; now who asks and why (optional)",
				                cmd);
			}
			free(cmd);
			break;
		}
		go_review(c, w);
		break;
	}
	case WZ_REVIEW:
		if (w->check == CHECK_PASSED) {
			w->screen = WZ_CONFIRM;
			w->resume = false;
			w->answer.s[0] = 0;
		} else if (w->check == CHECK_REFUSED) {
			pgr_console_say(c, PGR_ROLE_FAIL, "the plan was refused (see why above); %s goes back",
			                key_of(PGR_ACT_CLOSE));
		} else {
			pgr_console_say(c, PGR_ROLE_MUTED,
			                "still checking: the confirmation comes when the checks pass");
		}
		break;
	case WZ_CONFIRM: confirm_answered(c, w, false); break;
	case WZ_RUN: break;
	}
}

static void option(struct pgr_console *c, struct pgr_wizard *w, int d)
{
	if (w->screen != WZ_TARGET)
		return;
	switch (w->focus) {
	case 0:
		w->tkind = (w->tkind + N_KINDS + d) % N_KINDS;
		if (w->tkind == KIND_EVENT)
			start_scan(c, w);
		break;
	case 2:
		if (w->tkind == KIND_EVENT)
			pgr_console_say(c, PGR_ROLE_MUTED, "before an event the target is always exclusive");
		else
			w->exclusive = !w->exclusive;
		break;
	case 3: w->pause = !w->pause; break;
	default: break;
	}
}

bool pgr_wiz_action(struct pgr_console *c, enum pgr_action a)
{
	struct pgr_wizard *w = c->wiz;
	if (!w)
		return false;
	switch (a) {
	case PGR_ACT_QUIT:
	case PGR_ACT_CLOSE:
	case PGR_ACT_LEAVE:
		if (a == PGR_ACT_LEAVE && w->screen != WZ_RUN)
			return false;
		back(c, w);
		return true;
	case PGR_ACT_OPEN: accept(c, w); return true;
	case PGR_ACT_UP:
	case PGR_ACT_DOWN: {
		int d = a == PGR_ACT_UP ? -1 : 1;
		switch (w->screen) {
		case WZ_INCIDENT: w->focus = w->focus + d < 0 ? 0 : w->focus + d > 1 ? 1 : w->focus + d; break;
		case WZ_DUMP:
			load_dumps(c, w);
			w->dsel += d;
			if (w->dsel >= w->n_dumps)
				w->dsel = w->n_dumps - 1;
			if (w->dsel < 0)
				w->dsel = 0;
			w->dump_moved = true;
			break;
		case WZ_TARGET:
			if (w->tkind == KIND_EVENT && w->focus == 1) {
				/* Up and Down walk the event list; past its ends, the rows around it. */
				int n = (int)n_events(w);
				if (w->esel + d >= 0 && w->esel + d < n) {
					w->esel += d;
					break;
				}
			}
			w->focus = w->focus + d < 0 ? 0 : w->focus + d > 3 ? 3 : w->focus + d;
			break;
		case WZ_REVIEW: w->review_top += d; break;
		case WZ_RUN:
			w->run_top += d;
			w->follow = false;
			break;
		case WZ_CONFIRM: break;
		}
		return true;
	}
	case PGR_ACT_NEXT_PANEL:
	case PGR_ACT_PREV_PANEL: option(c, w, a == PGR_ACT_NEXT_PANEL ? 1 : -1); return true;
	case PGR_ACT_RESTORE:
	case PGR_ACT_PITR:
	case PGR_ACT_BACKUP:
	case PGR_ACT_AUDIT:
	case PGR_ACT_FILTER:
		if (w->screen == WZ_RUN)
			pgr_console_say(c, PGR_ROLE_MUTED, "leave the run view first (%s); the run goes on",
			                key_of(PGR_ACT_LEAVE));
		else
			pgr_console_say(c, PGR_ROLE_WARN, "a wizard is open: finish it, or leave it with %s",
			                key_of(PGR_ACT_CLOSE));
		return true;
	case PGR_ACT_INSPECT:
		if (w->screen == WZ_RUN && at_pitr_gate(w))
			gate_start(c, w, PGR_GT_INSPECT, NULL, NULL, NULL);
		else
			pgr_console_say(c, PGR_ROLE_MUTED,
			                "i inspects a recovery paused at its target; this run is not");
		return true;
	case PGR_ACT_RETARGET:
		if (w->screen == WZ_RUN && at_pitr_gate(w)) {
			w->retarget = true;
			w->pitr = true;
			w->screen = WZ_TARGET;
			w->tkind = PGR_TARGET_TIME;
			w->focus = 1;
			w->exclusive = false;
			field_set(&w->target, "");
		} else {
			pgr_console_say(c, PGR_ROLE_MUTED,
			                "t moves the target of a recovery paused at it; this run is not");
		}
		return true;
	case PGR_ACT_COPY:
		if (w->screen == WZ_RUN && w->have_info) {
			snprintf(c->sel_copy, sizeof c->sel_copy, "%s", w->info.id);
			return false; /* the dispatcher copies it */
		}
		return true;
	default: return false;
	}
}

bool pgr_wiz_tick(struct pgr_console *c)
{
	bool changed = false;
	jobs_reap(false);
	struct pgr_wizard *w = c->wiz;
	if (!w)
		return false;
	if (w->screen == WZ_DUMP)
		load_dumps(c, w);
	if (w->scan) {
		size_t d, t;
		bool fin;
		pgr_evscan_progress(w->scan, &d, &t, &fin);
		char note[200];
		if (!fin)
			snprintf(note, sizeof note, "scanning %zu of %zu segments", d, t);
		else if (!pgr_evscan_ok(w->scan))
			snprintf(note, sizeof note, "failed");
		else
			snprintf(note, sizeof note, "done");
		if (strcmp(note, w->scan_note) != 0) {
			if (fin && !strcmp(note, "done")) {
				/* The newest loss first: the usual pick. */
				w->esel = 0;
				const struct pgr_event *e;
				for (int i = 0; (e = event_at(w, i)) != NULL; i++)
					if (pgr_event_is_loss(e->kind)) {
						w->esel = i;
						break;
					}
			}
			snprintf(w->scan_note, sizeof w->scan_note, "%s", note);
			changed = true;
		}
	}
	if (w->job)
		changed |= job_harvest(c, w);
	if (w->gt)
		changed |= gate_harvest(c, w);
	if (c->wiz == w && w->screen == WZ_RUN && w->run_dir)
		changed |= poll_run(c, w);
	return changed;
}

int pgr_wiz_wait_ms(const struct pgr_console *c)
{
	if (c->wiz &&
	    (c->wiz->job || c->wiz->gt || c->wiz->screen == WZ_RUN || (c->wiz->scan && !scan_finished(c->wiz))))
		return (int)(POLL_SECONDS * 1000);
	if (abandoned)
		return 500;
	return -1;
}

/* ------------------------------------------------------------ runs banner */

void pgr_runs_scan(struct pgr_console *c, bool force)
{
	double now = pgr_monotonic();
	if (!force && c->banner_mono > 0 && now - c->banner_mono < RUNS_SCAN_SECONDS)
		return;
	c->banner_mono = now;
	c->banner[0] = 0;
	c->banner_dir[0] = 0;
	if (!c->env->name)
		return;
	struct pgr_run_info *v = NULL;
	size_t n = 0;
	struct pgr_error err = {0};
	if (!pgr_runs_list(c->env->name, &v, &n, &err) || n == 0) {
		pgr_runs_free(v, n);
		return;
	}
	const struct pgr_run_info *r = &v[0]; /* newest: an older unfinished run was given up */
	if (c->wiz && c->wiz->screen == WZ_RUN && c->wiz->run_dir && !strcmp(c->wiz->run_dir, r->dir)) {
		pgr_runs_free(v, n);
		return;
	}
	const char *step = r->current < r->n_steps ? r->steps[r->current].title : "";
	const char *U = key_of(PGR_ACT_RESUME);
	/* What to do comes before the step's title, which a narrow screen cuts. */
	char todo[128];
	if (c->monitor)
		snprintf(todo, sizeof todo, "%s",
		         r->status == PGR_RUN_RUNNING ? "`pgrescue runs attach` follows it"
		                                      : "resume it from a read-write console");
	else
		snprintf(todo, sizeof todo, "%s %s", U,
		         r->status == PGR_RUN_RUNNING           ? "shows it"
		                 : r->status == PGR_RUN_WAITING ? "continues it"
		                                                : "resumes it");
	switch (r->status) {
	case PGR_RUN_RUNNING:
		snprintf(c->banner, sizeof c->banner, "Run %s (%s) is running, step %zu of %zu: %s (%s)", r->id,
		         r->kind, r->current + 1, r->n_steps, todo, step);
		break;
	case PGR_RUN_INTERRUPTED:
		snprintf(c->banner, sizeof c->banner, "Run %s (%s) was interrupted at step %zu of %zu: %s (%s)", r->id,
		         r->kind, r->current + 1, r->n_steps, todo, step);
		break;
	case PGR_RUN_WAITING:
		snprintf(c->banner, sizeof c->banner, "Run %s (%s) is waiting at step %zu of %zu: %s (%s)", r->id,
		         r->kind, r->current + 1, r->n_steps, todo, step);
		break;
	case PGR_RUN_FAILED:
	case PGR_RUN_CANCELLED:
		/* The environment may be half way (the app scaled down): it stays in sight. */
		snprintf(c->banner, sizeof c->banner,
		         "Run %s (%s) %s at step %zu of %zu: %s once the cause is fixed (%s)", r->id, r->kind,
		         r->status == PGR_RUN_FAILED ? "FAILED" : "was cancelled", r->current + 1, r->n_steps, todo,
		         step);
		break;
	default: break;
	}
	if (c->banner[0]) {
		snprintf(c->banner_dir, sizeof c->banner_dir, "%s", r->dir);
		c->banner_status = r->status;
	}
	pgr_runs_free(v, n);
}

/* ------------------------------------------------------------ drawing */

struct line {
	char *text;
	int attr;
	int indent; /* continuation lines of a wrapped line start here */
};

struct lines {
	struct line *v;
	int n, cap;
};

static void lines_add(struct lines *l, int attr, int indent, const char *text)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
	}
	l->v[l->n++] = (struct line){xstrdup(text), attr, indent};
}

static void lines_free(struct lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Add text (possibly several lines) wrapped to width columns; a wrapped
 * line continues under its own indentation plus four. */
static void lines_wrap(struct lines *l, int attr, const char *text, int width)
{
	if (width < 20)
		width = 20;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *one = xstrndup(p, len);
		int ind = 0;
		while (one[ind] == ' ')
			ind++;
		int cont = ind + 4 < width / 2 ? ind + 4 : 4;
		const char *q = one;
		bool first = true;
		while (first || *q) {
			int room = first ? width : width - cont;
			size_t qlen = strlen(q);
			size_t take = qlen;
			if (pgr_w_width(q) > room) {
				/* Cut at the last space that fits, else at the width (never inside UTF-8). */
				size_t cut = 0, cols = 0, last_space = 0;
				while (q[cut] && (int)cols < room) {
					if (q[cut] == ' ')
						last_space = cut;
					cut++;
					while (((unsigned char)q[cut] & 0xC0) == 0x80)
						cut++;
					cols++;
				}
				take = last_space > (size_t)room / 2 ? last_space : cut;
			}
			char *part = xstrndup(q, take);
			if (first) {
				lines_add(l, attr, 0, part);
			} else {
				char *pad = xasprintf("%*s%s", cont, "", part);
				lines_add(l, attr, cont, pad);
				free(pad);
			}
			free(part);
			q += take;
			while (*q == ' ' && !first)
				q++;
			if (!first || take < qlen)
				while (*q == ' ')
					q++;
			first = false;
		}
		free(one);
		p += len + (nl ? 1 : 0);
	}
}

/* The steps of the wizard, the current one marked. */
static void breadcrumb(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int maxw)
{
	const char *names[] = {"Incident", w->pitr ? "Target" : "Dump", "Review", "Confirm", "Run"};
	int cur;
	switch (w->screen) {
	case WZ_INCIDENT: cur = 0; break;
	case WZ_DUMP:
	case WZ_TARGET: cur = 1; break;
	case WZ_REVIEW: cur = 2; break;
	case WZ_CONFIRM: cur = 3; break;
	default: cur = 4; break;
	}
	if (w->resume || !w->steps)
		return; /* a resumed or attached run: no wizard steps behind it */
	int used = 0;
	for (int i = 0; i < 5 && used < maxw; i++) {
		char seg[48];
		snprintf(seg, sizeof seg, i == cur ? "[%d %s]" : " %d %s ", i + 1, names[i]);
		int attr = i == cur ? A(PGR_ROLE_SELECTION) | BOLD : A(i < cur ? PGR_ROLE_NORMAL : PGR_ROLE_MUTED);
		used += pgr_w_put(y, x + used, maxw - used, attr, seg);
		if (i < 4)
			used += pgr_w_put(y, x + used, maxw - used, A(PGR_ROLE_MUTED), c->unicode ? " \u203a " : " > ");
	}
}

static void draw_field(int y, int x, int w, const struct field *f, bool focused, const char *placeholder)
{
	int attr = focused ? A(PGR_ROLE_SELECTION) : A(PGR_ROLE_NORMAL) | (int)A_UNDERLINE;
	pgr_w_blank(y, x, w, attr);
	const char *s = f->s;
	int sw = pgr_w_width(s);
	/* Keep the end (where typing happens) in view. */
	while (sw > w - 2 && *s) {
		s++;
		while (((unsigned char)*s & 0xC0) == 0x80)
			s++;
		sw = pgr_w_width(s);
	}
	int used = pgr_w_put(y, x, w, attr, s);
	if (!*f->s && placeholder && !focused)
		pgr_w_put(y, x, w, A(PGR_ROLE_MUTED), placeholder);
	if (focused)
		pgr_w_put(y, x + used, 1, attr | (int)A_REVERSE, " ");
}

static void label(int y, int x, bool focused, const char *text)
{
	if (focused)
		pgr_w_put(y, x - 2, 1, A(PGR_ROLE_SELECTION) | BOLD, ">");
	pgr_w_put(y, x, 14, A(PGR_ROLE_TITLE) | (focused ? BOLD : 0), text);
}

static void draw_incident(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int width)
{
	pgr_w_printf(y, x, width, A(PGR_ROLE_NORMAL), "%s on environment %s, database %s.",
	             w->pitr ? "Point-in-time recovery" : "Full restore", env_name(c), c->dbname);
	pgr_w_put(y + 1, x, width, A(PGR_ROLE_MUTED), "Who asks, and why: both go into the audit log with every step.");
	int fw = width - 16 > 60 ? 60 : width - 16;
	label(y + 3, x + 2, w->focus == 0, "Incident id");
	draw_field(y + 3, x + 16, fw, &w->incident, w->focus == 0, "e.g. INC-1234");
	label(y + 5, x + 2, w->focus == 1, "Reason");
	draw_field(y + 5, x + 16, fw, &w->reason, w->focus == 1, "one line");
	pgr_w_put(y + 7, x, width, A(PGR_ROLE_MUTED), "A field left empty is recorded as none.");
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	pgr_time_format_utc(t, buf, n);
	char *T = strchr(buf, 'T');
	if (T)
		*T = ' ';
}

static void draw_dumps(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int width, int h)
{
	pgr_w_printf(y, x, width, A(PGR_ROLE_NORMAL),
	             "Pick the dump to restore into %s (the newest is selected):", c->dbname);
	if (w->n_dumps == 0) {
		pgr_w_put(y + 2, x + 2, width - 2, A(PGR_ROLE_MUTED),
		          c->snap && c->snap->facts.have_catalog ? "(the store holds no dump)"
		                                                 : "(waiting for the store's listing...)");
		return;
	}
	char head[200];
	snprintf(head, sizeof head, "%-20s  %-10s  %9s  %-6s  %s", "Time (UTC)", "Age", "Size", "State", "Dump");
	pgr_w_put(y + 2, x + 2, width - 2, A(PGR_ROLE_TITLE) | (int)A_UNDERLINE, head);
	int rows = h - 3;
	if (rows < 1)
		rows = 1;
	if (w->dsel < w->dtop)
		w->dtop = w->dsel;
	if (w->dsel >= w->dtop + rows)
		w->dtop = w->dsel - rows + 1;
	time_t now = pgr_now();
	for (int i = 0; i < rows && w->dtop + i < w->n_dumps; i++) {
		const struct dump_row *r = &w->dumps[w->dtop + i];
		char t[40], age[40], size[32], line[400];
		fmt_time(r->time, t, sizeof t);
		pgr_duration_format(now > r->time ? (int64_t)(now - r->time) : 0, age, sizeof age);
		pgr_size_format(r->size, size, sizeof size);
		snprintf(line, sizeof line, "%-20.20s  %-10s  %9s  %-6s  %s", t, age, size, r->good ? "good" : "FAILED",
		         r->name);
		bool sel = w->dtop + i == w->dsel;
		int attr = sel ? A(PGR_ROLE_SELECTION) : A(r->good ? PGR_ROLE_NORMAL : PGR_ROLE_FAIL);
		if (sel) {
			pgr_w_blank(y + 3 + i, x, width, attr);
			pgr_w_put(y + 3 + i, x, 1, attr | BOLD, ">");
		}
		pgr_w_put(y + 3 + i, x + 2, width - 2, attr, line);
	}
	if (w->n_dumps > rows)
		pgr_w_printf(y + 2 + rows + 1 > y + h ? y + h : y + 2 + rows + 1, x + width - 20, 20, A(PGR_ROLE_MUTED),
		             "%d of %d", w->dsel + 1, w->n_dumps);
}

static void draw_options(int y, int x, int width, const char *const *opts, int n, int sel)
{
	int used = 0;
	for (int i = 0; i < n && used < width; i++) {
		char seg[64];
		snprintf(seg, sizeof seg, i == sel ? "[%s]" : " %s ", opts[i]);
		used += pgr_w_put(y, x + used, width - used, i == sel ? A(PGR_ROLE_NORMAL) | BOLD : A(PGR_ROLE_MUTED),
		                  seg);
		used += pgr_w_put(y, x + used, width - used, 0, " ");
	}
}

static const char *const kind_example[] = {
        "a time with its zone: 2026-11-24 05:28:50Z, ...+01:00 or ... Europe/Berlin",
        "a transaction id, e.g. 7431",
        "an LSN, e.g. 0/3A000060",
        "a restore point made with pg_create_restore_point()",
        "no value: the end of the newest base backup",
        "just before a DROP, TRUNCATE or mass DELETE found in the archived WAL (list below)",
};

static void fmt_bytes(uint64_t b, char *buf, size_t n)
{
	if (b >= (uint64_t)1 << 30)
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1u << 30));
	else if (b >= (uint64_t)1 << 20)
		snprintf(buf, n, "%.0f MiB", (double)b / (double)(1u << 20));
	else
		snprintf(buf, n, "%.0f KiB", (double)b / 1024.0);
}

static void fmt_secs(double s, char *buf, size_t n)
{
	if (s < 90)
		snprintf(buf, n, "%.0f s", s < 1 ? 1 : s);
	else if (s < 5400)
		snprintf(buf, n, "%.0f min", s / 60);
	else
		snprintf(buf, n, "%.1f h", s / 3600);
}

static void add_error(struct lines *l, const char *msg, const char *hint, int width)
{
	lines_wrap(l, A(PGR_ROLE_FAIL) | BOLD, msg, width);
	if (hint && hint[0]) {
		char *h = xasprintf("HINT: %s", hint);
		lines_wrap(l, A(PGR_ROLE_WARN), h, width);
		free(h);
	}
}

/* Where the time under the cursor falls: the verdict and why, the base
 * backup, the WAL to replay and how long, and warnings. */
static void assess_lines(struct pgr_console *c, struct pgr_wizard *w, const struct pgr_target *t, struct lines *l,
                         int width)
{
	const struct pgr_facts *f = c->snap ? &c->snap->facts : NULL;
	if (t->kind == PGR_TARGET_TIME) {
		const char *zone = f && f->db_timezone[0] ? f->db_timezone : NULL;
		char *echo = pgr_target_time_echo(t, zone);
		lines_wrap(l, A(PGR_ROLE_NORMAL), echo, width);
		free(echo);
	} else {
		char *d = pgr_target_describe(t);
		lines_wrap(l, A(PGR_ROLE_NORMAL), d, width);
		free(d);
	}
	if (!f || !f->have_catalog) {
		lines_add(l, A(PGR_ROLE_MUTED), 0, "checked against the window once the store's listing arrives");
		return;
	}
	struct pgr_assessment a;
	pgr_target_assess(t, &f->catalog, f->last_archived_commit, w->replay_bps, &a);
	if (!a.ok) {
		char *m = xasprintf("NOT RECOVERABLE: %s", a.verdict);
		add_error(l, m, a.hint, width);
		free(m);
		return;
	}
	lines_wrap(l, A(PGR_ROLE_OK) | BOLD, a.verdict, width);
	char stop[40];
	fmt_time(a.base->manifest.stop_time, stop, sizeof stop);
	char *b = xasprintf("base backup %s (ended %s), then WAL on timeline %u", a.base->label, stop, a.timeline);
	lines_wrap(l, A(PGR_ROLE_NORMAL), b, width);
	free(b);
	if (a.replay_bytes) {
		char by[32], est[160] = "";
		fmt_bytes(a.replay_bytes, by, sizeof by);
		if (a.replay_secs >= 0) {
			char secs[32], rate[32];
			fmt_secs(a.replay_secs, secs, sizeof secs);
			fmt_bytes((uint64_t)w->replay_bps, rate, sizeof rate);
			snprintf(est, sizeof est, ": about %s at %s/s, measured over %zu recover%s here", secs, rate,
			         w->speed_runs, w->speed_runs == 1 ? "y" : "ies");
		} else {
			snprintf(est, sizeof est,
			         " (no replay speed measured yet: no point-in-time recovery has run here)");
		}
		char *m = xasprintf("WAL to replay: about %s%s", by, est);
		lines_wrap(l, A(PGR_ROLE_NORMAL), m, width);
		free(m);
	}
	if (a.warning[0]) {
		char *m = xasprintf("WARNING: %s", a.warning);
		lines_wrap(l, A(PGR_ROLE_WARN) | BOLD, m, width);
		free(m);
	}
}

/* The events found in the WAL, newest first, the picked one marked. */
static void event_lines(struct pgr_console *c, struct pgr_wizard *w, struct lines *l, int width, int rows)
{
	(void)c;
	if (!w->scan) {
		lines_wrap(l, A(PGR_ROLE_WARN), w->scan_note[0] ? w->scan_note : "no scan", width);
		return;
	}
	size_t done, total;
	bool fin;
	pgr_evscan_progress(w->scan, &done, &total, &fin);
	if (!fin) {
		char *m = xasprintf("Scanning the archived WAL for DROP, TRUNCATE and mass DELETE/UPDATE: %zu of %zu "
		                    "segments  (%s cancels)",
		                    done, total, key_of(PGR_ACT_CLOSE));
		lines_wrap(l, A(PGR_ROLE_NORMAL), m, width);
		free(m);
		return;
	}
	if (!pgr_evscan_ok(w->scan)) {
		const struct pgr_error *e = pgr_evscan_error(w->scan);
		char *m = xasprintf("event scan: %s", e->msg);
		add_error(l, m, e->hint, width);
		free(m);
		return;
	}
	int n = (int)n_events(w);
	if (n == 0) {
		lines_add(l, A(PGR_ROLE_OK), 0, "no destructive event in the archived WAL");
		return;
	}
	char *h = xasprintf("%d event%s in the archived WAL, newest first (%s/%s pick):", n, n == 1 ? "" : "s",
	                    key_of(PGR_ACT_UP), key_of(PGR_ACT_DOWN));
	lines_add(l, A(PGR_ROLE_MUTED), 0, h);
	free(h);
	int list_rows = rows - 3;
	if (list_rows < 1)
		list_rows = 1;
	if (w->esel < w->etop)
		w->etop = w->esel;
	if (w->esel >= w->etop + list_rows)
		w->etop = w->esel - list_rows + 1;
	for (int i = w->etop; i < n && i < w->etop + list_rows; i++) {
		const struct pgr_event *e = event_at(w, i);
		if (!e)
			break;
		char t[40];
		fmt_time(e->time, t, sizeof t);
		struct strbuf sb = STRBUF_INIT;
		sb_printf(&sb, "%s %s  %-11s %s  ", i == w->esel ? ">" : " ", t, pgr_event_kind_name(e->kind),
		          e->db_name ? e->db_name : "?");
		for (size_t r = 0; r < e->n_rels; r++)
			sb_printf(&sb, "%s%s", r ? ", " : "", e->rels[r].name ? e->rels[r].name : "?");
		if (e->rows >= 0)
			sb_printf(&sb, "  %lld rows", (long long)e->rows);
		sb_printf(&sb, "  xid %llu", (unsigned long long)e->xid);
		if (e->kind == PGR_EVENT_REWRITE)
			sb_append(&sb, "  (rewrite, no data lost)");
		int attr = i == w->esel && w->focus == 1 ? A(PGR_ROLE_SELECTION) | BOLD
		        : pgr_event_is_loss(e->kind)     ? A(PGR_ROLE_NORMAL)
		                                         : A(PGR_ROLE_MUTED);
		lines_add(l, attr, 0, sb_str(&sb));
		sb_free(&sb);
	}
	const struct pgr_event *e = event_at(w, w->esel);
	if (e) {
		char t[40];
		pgr_time_format_utc(e->time, t, sizeof t);
		char *m =
		        xasprintf("Recover to just before it: recovery_target_xid = %llu, exclusive (its commit at %s "
		                  "is left out)",
		                  (unsigned long long)e->xid, t);
		lines_wrap(l, A(PGR_ROLE_OK) | BOLD, m, width);
		free(m);
	}
}

static void draw_target(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int width, int h)
{
	int yy = y;
	const struct pgr_facts *f = c->snap ? &c->snap->facts : NULL;
	struct pgr_target t;
	struct pgr_error err = {0};
	char *v = field_value(&w->target);
	bool empty = !v && w->tkind != PGR_TARGET_IMMEDIATE && w->tkind != KIND_EVENT;
	free(v);
	bool parsed = !empty && parse_target(w, &t, &err);
	if (w->retarget && w->have_info)
		pgr_w_printf(yy++, x, width, A(PGR_ROLE_WARN) | BOLD,
		             "Run %s is paused at its target. A later target: replay goes on from where it stopped.",
		             w->info.id);
	if (!f || !f->have_catalog) {
		pgr_w_put(yy++, x, width, A(PGR_ROLE_MUTED), "Recoverable window: waiting for the store's listing...");
	} else {
		if (!f->window.exists) {
			pgr_w_printf(yy++, x, width, A(PGR_ROLE_FAIL) | BOLD, "NO RECOVERABLE WINDOW: %s",
			             f->window.why_not ? f->window.why_not : "unknown");
		} else {
			char a[40], b[40];
			fmt_time(f->window.earliest, a, sizeof a);
			fmt_time(f->window.latest, b, sizeof b);
			pgr_w_printf(yy++, x, width, A(PGR_ROLE_NORMAL), "Recoverable window (timeline %u): %s .. %s%s",
			             f->window.timeline, a, b,
			             f->window.gap_after ? "  (WAL after it has a hole)" : "");
		}
		bool cur = parsed && t.kind == PGR_TARGET_TIME;
		int max = h >= 28 ? 7 : h >= 22 ? 5 : 4;
		yy += pgr_picker_draw_bars(f, cur, cur ? t.time : 0, yy, x, width, max, c->unicode);
	}
	int ox = x + 12, ow = width - 12;
	label(yy, x + 1, w->focus == 0, "Kind");
	draw_options(yy, ox, ow, kind_names, N_KINDS, w->tkind);
	yy++;
	label(yy, x + 1, w->focus == 1, w->tkind == KIND_EVENT ? "Event" : "Target");
	if (w->tkind == PGR_TARGET_IMMEDIATE)
		pgr_w_put(yy, ox, ow, A(PGR_ROLE_MUTED), kind_example[PGR_TARGET_IMMEDIATE]);
	else if (w->tkind == KIND_EVENT)
		pgr_w_put(yy, ox, ow, A(PGR_ROLE_MUTED), kind_example[KIND_EVENT]);
	else
		draw_field(yy, ox, ow > 50 ? 50 : ow, &w->target, w->focus == 1, NULL);
	yy++;
	if (w->tkind != PGR_TARGET_IMMEDIATE && w->tkind != KIND_EVENT)
		pgr_w_put(yy++, ox, ow, A(PGR_ROLE_MUTED), kind_example[w->tkind]);
	static const char *const incl[] = {"inclusive", "exclusive"};
	label(yy, x + 1, w->focus == 2, "Include");
	draw_options(yy, ox, ow, incl, 2, w->exclusive || w->tkind == KIND_EVENT ? 1 : 0);
	yy++;
	static const char *const at[] = {"promote", "pause"};
	label(yy, x + 1, w->focus == 3, "At target");
	draw_options(yy, ox, ow, at, 2, w->pause ? 1 : 0);
	pgr_w_put(yy, ox + 24, ow - 24, A(PGR_ROLE_MUTED),
	          w->pause ? "stop read-only at the target to inspect; U promotes or moves it later"
	                   : "open for writes at the target");
	yy += 2;

	struct lines l = {0};
	int rows = y + h - yy;
	if (w->tkind == KIND_EVENT) {
		event_lines(c, w, &l, width - 2, rows);
	} else if (empty) {
		if (w->tkind == PGR_TARGET_TIME)
			lines_add(&l, A(PGR_ROLE_MUTED), 0,
			          "type a time with its zone, or move the cursor with the arrows (End: the latest "
			          "point)");
	} else if (!parsed) {
		add_error(&l, err.msg, err.hint, width - 2);
	} else {
		assess_lines(c, w, &t, &l, width - 2);
	}
	for (int i = 0; i < l.n && yy + i < y + h; i++)
		pgr_w_put(yy + i, x + 2, width - 2, l.v[i].attr, l.v[i].text);
	lines_free(&l);
}

static void draw_review(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int width, int h)
{
	(void)c;
	struct lines st = {0};
	switch (w->check) {
	case CHECK_PLANNING:
		lines_add(&st, A(PGR_ROLE_MUTED), 0,
		          "Preparing the plan: listing the store, counting the app's replicas ...");
		break;
	case CHECK_CHECKING:
		lines_add(&st, A(PGR_ROLE_WARN), 0,
		          "Checking before anything changes (lock, backup, disk, connection) ...");
		break;
	case CHECK_PASSED: {
		char *s = xasprintf("Checks passed. %s: confirm (you type the environment's name)   %s: back",
		                    key_of(PGR_ACT_OPEN), key_of(PGR_ACT_CLOSE));
		lines_add(&st, A(PGR_ROLE_OK) | BOLD, 0, s);
		free(s);
		break;
	}
	case CHECK_REFUSED: {
		char *s = xasprintf("REFUSED: %s", w->err.msg);
		lines_wrap(&st, A(PGR_ROLE_FAIL) | BOLD, s, width);
		free(s);
		if (w->err.detail[0]) {
			s = xasprintf("DETAIL: %s", w->err.detail);
			lines_wrap(&st, A(PGR_ROLE_NORMAL), s, width);
			free(s);
		}
		if (w->err.hint[0]) {
			s = xasprintf("HINT: %s", w->err.hint);
			lines_wrap(&st, A(PGR_ROLE_WARN), s, width);
			free(s);
		}
		s = xasprintf("Nothing was changed. %s: back", key_of(PGR_ACT_CLOSE));
		lines_add(&st, A(PGR_ROLE_MUTED), 0, s);
		free(s);
		break;
	}
	}
	int yy = y;
	for (int i = 0; i < st.n && yy < y + h - 2; i++)
		pgr_w_put(yy++, x, width, st.v[i].attr, st.v[i].text);
	lines_free(&st);
	yy++;
	if (!w->text)
		return;
	struct lines l = {0};
	lines_wrap(&l, A(PGR_ROLE_NORMAL), w->text, width);
	int rows = y + h - yy;
	if (rows < 1)
		return;
	if (w->review_top > l.n - rows)
		w->review_top = l.n - rows;
	if (w->review_top < 0)
		w->review_top = 0;
	for (int i = 0; i < rows && w->review_top + i < l.n; i++) {
		const char *t = l.v[w->review_top + i].text;
		int attr = A(PGR_ROLE_NORMAL);
		if (!strncmp(t, "Plan:", 5) || !strcmp(t, "Steps:"))
			attr = A(PGR_ROLE_TITLE) | BOLD;
		else if (strstr(t, "[destructive]"))
			attr = A(PGR_ROLE_DANGER) | BOLD;
		pgr_w_put(yy + i, x, width, attr, t);
	}
	if (l.n > rows)
		pgr_w_printf(y + h, x + width - 24, 24, A(PGR_ROLE_MUTED), " lines %d-%d of %d ", w->review_top + 1,
		             w->review_top + rows < l.n ? w->review_top + rows : l.n, l.n);
	lines_free(&l);
}

static void draw_confirm(struct pgr_console *c, struct pgr_wizard *w)
{
	int dw = COLS - 8 > 96 ? 96 : COLS - 8;
	struct lines l = {0};
	const char *what = w->have_plan ? pgr_kv_get(&w->plan.params, "confirm") : NULL;
	if (!what && w->have_plan)
		what = w->plan.summary;
	char *s;
	if (w->retarget) {
		struct pgr_target t;
		struct pgr_error err = {0};
		char *d = parse_target(w, &t, &err) ? pgr_target_describe(&t) : xstrdup("?");
		s = xasprintf(
		        "Move the target of run %s to %s: the paused server is stopped and started again and "
		        "replays on from where it stopped. The base backup is not extracted again and no directory "
		        "moves.",
		        w->have_info ? w->info.id : "?", d);
		lines_wrap(&l, A(PGR_ROLE_DANGER) | BOLD, s, dw - 4);
		free(s);
		free(d);
	} else if (w->resume && w->have_info) {
		const char *step = w->info.current < w->info.n_steps ? w->info.steps[w->info.current].title : "?";
		s = xasprintf("Resume run %s (%s) at step %zu of %zu: %s.", w->info.id,
		              pgr_run_status_name(w->info.status), w->info.current + 1, w->info.n_steps, step);
		lines_wrap(&l, A(PGR_ROLE_DANGER) | BOLD, s, dw - 4);
		free(s);
		s = xasprintf("The plan: %s.", what ? what : "?");
		lines_wrap(&l, A(PGR_ROLE_NORMAL), s, dw - 4);
		free(s);
	} else {
		s = xasprintf("This will %s.", what ? what : "run the plan");
		lines_wrap(&l, A(PGR_ROLE_DANGER) | BOLD, s, dw - 4);
		free(s);
	}
	lines_add(&l, 0, 0, "");
	s = xasprintf("Type the environment's name (%s) and Enter to run it.", env_name(c));
	lines_add(&l, A(PGR_ROLE_NORMAL) | BOLD, 0, s);
	free(s);
	lines_add(&l, A(PGR_ROLE_MUTED), 0, "Anything else, or Esc, cancels. Nothing typed here is remembered.");
	int h = l.n + 6;
	if (h > LINES - 4)
		h = LINES - 4;
	int y0 = (LINES - h) / 2, x0 = (COLS - dw) / 2;
	char title[160];
	snprintf(title, sizeof title, "Confirm %s on %s",
	         w->retarget         ? "moving the target"
	                 : w->resume ? "resume"
	                             : kind_word(w),
	         env_name(c));
	pgr_w_box(y0, x0, h, dw, title, "default: cancel", PGR_ROLE_DANGER, false, c->unicode);
	for (int i = 1; i < h - 1; i++)
		pgr_w_blank(y0 + i, x0 + 1, dw - 2, A(PGR_ROLE_NORMAL));
	for (int i = 0; i < l.n && i < h - 5; i++)
		pgr_w_put(y0 + 2 + i, x0 + 2, dw - 4, l.v[i].attr, l.v[i].text);
	int fy = y0 + h - 3;
	pgr_w_put(fy, x0 + 2, 2, A(PGR_ROLE_TITLE) | BOLD, ">");
	draw_field(fy, x0 + 4, dw - 8 > 40 ? 40 : dw - 8, &w->answer, true, NULL);
	lines_free(&l);
}

static const char *marker(enum pgr_step_state s)
{
	switch (s) {
	case PGR_STEP_DONE: return "[x]";
	case PGR_STEP_RUNNING: return "[>]";
	case PGR_STEP_SKIPPED: return "[-]";
	case PGR_STEP_FAILED: return "[!]";
	case PGR_STEP_WAITING: return "[=]";
	case PGR_STEP_PENDING:
	default: return "[ ]";
	}
}

static enum pgr_role state_role(enum pgr_step_state s)
{
	switch (s) {
	case PGR_STEP_DONE: return PGR_ROLE_OK;
	case PGR_STEP_RUNNING: return PGR_ROLE_WARN;
	case PGR_STEP_FAILED: return PGR_ROLE_FAIL;
	case PGR_STEP_WAITING: return PGR_ROLE_WARN;
	case PGR_STEP_SKIPPED:
	case PGR_STEP_PENDING:
	default: return PGR_ROLE_MUTED;
	}
}

static enum pgr_role status_role(enum pgr_run_status s)
{
	switch (s) {
	case PGR_RUN_DONE: return PGR_ROLE_OK;
	case PGR_RUN_RUNNING:
	case PGR_RUN_WAITING: return PGR_ROLE_WARN;
	default: return PGR_ROLE_FAIL;
	}
}

static void draw_run(struct pgr_console *c, struct pgr_wizard *w, int y, int x, int width, int h)
{
	if (w->run_error[0] && !w->have_info) {
		pgr_w_printf(y, x, width, A(PGR_ROLE_FAIL) | BOLD, "cannot read the run: %s", w->run_error);
		return;
	}
	if (!w->have_info) {
		pgr_w_put(y, x, width, A(PGR_ROLE_MUTED), "starting the runner ...");
		return;
	}
	const struct pgr_run_info *in = &w->info;
	char t[40];
	fmt_time(in->started, t, sizeof t);
	pgr_w_printf(y, x, width, A(PGR_ROLE_NORMAL) | BOLD, "%s", in->summary ? in->summary : in->kind);
	pgr_w_printf(y + 1, x, width, A(PGR_ROLE_MUTED), "run %s, started %s, incident %s%s%s%s", in->id, t,
	             in->incident ? in->incident : "(none)", in->reason ? ": " : "", in->reason ? in->reason : "",
	             w->starting ? "  (the runner is starting ...)" : "");
	/* One line per step, the running one with its bar and message, reports under their step. */
	struct lines l = {0};
	int cur_line = 0;
	int bar_line = -1;
	for (size_t i = 0; i < in->n_steps; i++) {
		const struct pgr_run_step_info *s = &in->steps[i];
		char secs[32] = "";
		if (s->seconds > 0 || s->state == PGR_STEP_DONE || s->state == PGR_STEP_FAILED) {
			if (s->seconds < 60)
				snprintf(secs, sizeof secs, "%.1f s", s->seconds);
			else
				pgr_duration_format((int64_t)(s->seconds + 0.5), secs, sizeof secs);
		}
		char *row = xasprintf("%s %-8s %2zu. %s%s%s", marker(s->state), pgr_step_state_name(s->state), i + 1,
		                      s->title, secs[0] ? "  " : "", secs);
		if (i == in->current)
			cur_line = l.n;
		lines_add(&l, A(state_role(s->state)) | (s->state == PGR_STEP_RUNNING ? BOLD : 0), 0, row);
		free(row);
		if (s->state == PGR_STEP_RUNNING && in->status == PGR_RUN_RUNNING) {
			bool has_msg = in->message && *in->message;
			if (in->fraction >= 0) {
				bar_line = l.n;
				lines_add(&l, 0, 0, ""); /* the bar is drawn here */
			} else if (!has_msg) {
				char *m =
				        xasprintf("%*s%s", 17, "", "working (this step does not measure its progress)");
				lines_add(&l, A(PGR_ROLE_MUTED), 0, m);
				free(m);
			}
			if (has_msg) {
				char *m = xasprintf("%*s%s", 17, "", in->message);
				lines_wrap(&l, A(PGR_ROLE_NORMAL), m, width);
				free(m);
			}
		}
		if (s->report && *s->report) {
			const char *p = s->report;
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);
				char *one = xasprintf("%*s%.*s", 17, "", (int)n, p);
				lines_wrap(&l, A(PGR_ROLE_NORMAL), one, width);
				free(one);
				p += n + (nl ? 1 : 0);
			}
		}
	}
	/* The result. */
	lines_add(&l, 0, 0, "");
	int result_line = l.n;
	char *s = NULL;
	switch (in->status) {
	case PGR_RUN_RUNNING:
		s = xasprintf("running step %zu of %zu", in->current + 1, in->n_steps);
		lines_add(&l, A(PGR_ROLE_WARN), 0, s);
		break;
	case PGR_RUN_DONE:
		s = xasprintf("Result: finished. Every step is done; run %s.", in->id);
		lines_add(&l, A(PGR_ROLE_OK) | BOLD, 0, s);
		break;
	case PGR_RUN_WAITING:
		s = xasprintf("Result: waiting at step %zu%s%s. %s continues it (you type the environment's name).",
		              in->current + 1, in->message ? ": " : "", in->message ? in->message : "",
		              key_of(PGR_ACT_RESUME));
		lines_wrap(&l, A(PGR_ROLE_WARN) | BOLD, s, width);
		if (at_pitr_gate(w)) {
			free(s);
			s = xasprintf("Paused at the target, read-only: %s row counts, :sql QUERY a query of your own, "
			              "%s move "
			              "the target later (replay goes on, nothing is redone), %s promote.",
			              key_of(PGR_ACT_INSPECT), key_of(PGR_ACT_RETARGET), key_of(PGR_ACT_RESUME));
			lines_wrap(&l, A(PGR_ROLE_NORMAL), s, width);
		}
		break;
	default: {
		const char *step = in->current < in->n_steps ? in->steps[in->current].title : "?";
		s = xasprintf("Result: %s at step %zu (%s)%s%s",
		              in->status == PGR_RUN_FAILED              ? "FAILED"
		                      : in->status == PGR_RUN_CANCELLED ? "CANCELLED"
		                                                        : "INTERRUPTED",
		              in->current + 1, step, in->error ? ": " : "", in->error ? in->error : "");
		lines_wrap(&l, A(PGR_ROLE_FAIL) | BOLD, s, width);
		free(s);
		if (in->detail) {
			s = xasprintf("DETAIL: %s", in->detail);
			lines_wrap(&l, A(PGR_ROLE_NORMAL), s, width);
			free(s);
		}
		if (in->hint) {
			s = xasprintf("HINT: %s", in->hint);
			lines_wrap(&l, A(PGR_ROLE_WARN), s, width);
			free(s);
		}
		s = xasprintf("Nothing after that step ran. Its log: %s/runner.log. %s resumes at that step once the "
		              "cause is fixed.",
		              in->dir, key_of(PGR_ACT_RESUME));
		lines_wrap(&l, A(PGR_ROLE_NORMAL), s, width);
		break;
	}
	}
	free(s);
	if (w->gate_title && (at_pitr_gate(w) || w->gt)) {
		lines_add(&l, 0, 0, "");
		s = xasprintf("%s%s", w->gate_title, w->gt ? " ..." : ":");
		lines_wrap(&l, A(PGR_ROLE_HEADER) | BOLD, s, width);
		free(s);
		const char *p = w->gate_text ? w->gate_text : "";
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			char *one = xasprintf("  %.*s", (int)n, p);
			lines_add(&l, w->gate_failed ? A(PGR_ROLE_FAIL) : A(PGR_ROLE_NORMAL), 0, one);
			free(one);
			p += n + (nl ? 1 : 0);
		}
	}
	int top = y + 3, rows = h - 3;
	if (rows < 1) {
		lines_free(&l);
		return;
	}
	if (w->follow) {
		/* The running step and the result both in view when they fit. */
		w->run_top = 0;
		if (l.n > rows) {
			int want = in->status == PGR_RUN_RUNNING ? cur_line - 2 : l.n - rows;
			if (in->status == PGR_RUN_RUNNING && result_line - want >= rows)
				want = cur_line - 2;
			w->run_top = want;
		}
	}
	if (w->run_top > l.n - rows)
		w->run_top = l.n - rows;
	if (w->run_top < 0)
		w->run_top = 0;
	for (int i = 0; i < rows && w->run_top + i < l.n; i++) {
		int li = w->run_top + i;
		if (li == bar_line) {
			int bw = width - 17 - 8 > 50 ? 50 : width - 17 - 8;
			double f = in->fraction > 1 ? 1 : in->fraction;
			pgr_w_meter(top + i, x + 17, bw, f, c->unicode, A(PGR_ROLE_OK), A(PGR_ROLE_MUTED));
			pgr_w_printf(top + i, x + 17 + bw + 1, 7, A(PGR_ROLE_NORMAL) | BOLD, "%3.0f%%", f * 100);
			continue;
		}
		const char *text = l.v[li].text;
		int attr = l.v[li].attr;
		/* A step line: the marker and state word in the state's role, the title plain. */
		if (text[0] == '[' && strlen(text) > 13 && text[3] == ' ') {
			int used = pgr_w_put(top + i, x, 13, attr | BOLD, text);
			pgr_w_put(top + i, x + used, width - used,
			          attr == A(PGR_ROLE_MUTED) ? attr : A(PGR_ROLE_NORMAL) | (attr & BOLD), text + 13);
		} else {
			pgr_w_put(top + i, x, width, attr, text);
		}
	}
	if (l.n > rows)
		pgr_w_printf(y + h, x + width - 24, 24, A(PGR_ROLE_MUTED), " lines %d-%d of %d ", w->run_top + 1,
		             w->run_top + rows < l.n ? w->run_top + rows : l.n, l.n);
	lines_free(&l);
}

/* The key line: what the keys do on this screen, named from the key table. */
static void key_line(struct pgr_console *c, struct pgr_wizard *w, int y)
{
	char buf[400];
	const char *enter = key_of(PGR_ACT_OPEN), *esc = key_of(PGR_ACT_CLOSE), *up = key_of(PGR_ACT_UP),
	           *down = key_of(PGR_ACT_DOWN), *help = key_of(PGR_ACT_HELP);
	const char *h = key_code(KEY_F(1), PGR_ACT_HELP); /* ? is typed text in the fields */
	(void)help;
	switch (w->screen) {
	case WZ_INCIDENT:
		snprintf(buf, sizeof buf, "%s next  %s/%s field  %s close  %s help", enter, up, down, esc, h);
		break;
	case WZ_DUMP:
		snprintf(buf, sizeof buf, "%s/%s pick  %s review the plan  %s back  %s help", up, down, enter, esc, h);
		break;
	case WZ_TARGET:
		if (w->tkind == PGR_TARGET_TIME && w->focus == 1)
			snprintf(buf, sizeof buf,
			         "type a time, or move: Left/Right min  S-Left/Right hour  PgUp/PgDn day  Home/End  %s "
			         "%s  "
			         "%s %s",
			         enter, w->picker ? "pick" : "review", esc, w->picker ? "close" : "back");
		else
			snprintf(buf, sizeof buf, "%s/%s %s  %s/%s option  %s %s  %s %s  %s help", up, down,
			         w->tkind == KIND_EVENT && w->focus == 1 ? "event" : "row",
			         key_code(KEY_LEFT, PGR_ACT_PREV_PANEL), key_code(KEY_RIGHT, PGR_ACT_NEXT_PANEL), enter,
			         w->picker ? "pick" : "review", esc, w->picker ? "close" : "back", h);
		break;
	case WZ_REVIEW:
		if (w->check == CHECK_REFUSED)
			snprintf(buf, sizeof buf, "%s back  %s help", esc, h);
		else
			snprintf(buf, sizeof buf, "%s/%s scroll  %s confirm  %s back  %s help", up, down, enter, esc,
			         h);
		break;
	case WZ_CONFIRM: snprintf(buf, sizeof buf, "type %s  %s run it  %s cancel", env_name(c), enter, esc); break;
	case WZ_RUN: {
		bool running = !w->have_info || w->starting || w->info.status == PGR_RUN_RUNNING;
		bool resumable = w->have_info && !running && w->info.status != PGR_RUN_DONE;
		char res[64] = "";
		if (at_pitr_gate(w))
			snprintf(res, sizeof res, "  %s counts  :sql query  %s move target  %s promote",
			         key_of(PGR_ACT_INSPECT), key_of(PGR_ACT_RETARGET), key_of(PGR_ACT_RESUME));
		else if (resumable)
			snprintf(res, sizeof res, "  %s resume", key_of(PGR_ACT_RESUME));
		snprintf(buf, sizeof buf, "%s: leave%s   %s/%s scroll%s  %s help", key_of(PGR_ACT_LEAVE),
		         running ? "; the run goes on" : "", up, down, res, h);
		break;
	}
	}
	pgr_w_blank(y, 0, COLS, A(PGR_ROLE_NORMAL));
	pgr_w_put(y, 1, COLS - 2, A(PGR_ROLE_HEADER) | BOLD, buf);
}

void pgr_wiz_draw(struct pgr_console *c, int top, int bottom)
{
	struct pgr_wizard *w = c->wiz;
	if (!w)
		return;
	int h = bottom - top;
	char title[200];
	const char *word = NULL;
	enum pgr_role wrole = PGR_ROLE_MUTED;
	if (w->screen == WZ_RUN || w->resume) {
		snprintf(title, sizeof title, "Run of %s on %s", w->pitr ? "point-in-time recovery" : "restore",
		         env_name(c));
		if (w->have_info) {
			word = w->starting ? "starting" : pgr_run_status_name(w->info.status);
			wrole = w->starting ? PGR_ROLE_WARN : status_role(w->info.status);
		}
	} else {
		if (w->retarget)
			snprintf(title, sizeof title, "Move a paused recovery's target on %s", env_name(c));
		else if (w->picker)
			snprintf(title, sizeof title, "PITR target picker on %s", env_name(c));
		else
			snprintf(title, sizeof title, "%s wizard on %s", w->pitr ? "Point-in-time recovery" : "Restore",
			         env_name(c));
		word = w->picker && c->monitor ? "read-only" : "nothing changed yet";
	}
	pgr_w_box(top, 0, h, COLS, title, word, wrole, true, c->unicode);
	int x = 3, width = COLS - 6;
	breadcrumb(c, w, top + 1, x, width);
	int y = top + 3, ih = h - 4;
	switch (w->screen) {
	case WZ_INCIDENT: draw_incident(c, w, y, x, width); break;
	case WZ_DUMP: draw_dumps(c, w, y, x, width, ih); break;
	case WZ_TARGET: draw_target(c, w, y, x, width, ih); break;
	case WZ_REVIEW: draw_review(c, w, y, x, width, ih); break;
	case WZ_CONFIRM:
		if (w->resume)
			draw_run(c, w, top + 1, x, width, h - 2);
		else
			draw_review(c, w, y, x, width, ih);
		draw_confirm(c, w);
		break;
	case WZ_RUN: draw_run(c, w, top + 1, x, width, h - 2); break;
	}
	key_line(c, w, LINES - 1);
}

/* ------------------------------------------------------------ the audit screen */

static char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (cJSON_IsString(v) && v->valuestring)
		return xstrdup(v->valuestring);
	return NULL;
}

static long long jnum(const cJSON *o, const char *k, long long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : dflt;
}

void pgr_audit_screen_free(struct pgr_console *c)
{
	for (int i = 0; i < c->n_audit; i++) {
		struct pgr_audit_row *r = &c->audit_rows[i];
		free(r->time);
		free(r->user);
		free(r->env);
		free(r->incident);
		free(r->reason);
		free(r->run);
		free(r->plan);
		free(r->step);
		free(r->phase);
		free(r->outcome);
		free(r->command);
		free(r->detail);
	}
	free(c->audit_rows);
	c->audit_rows = NULL;
	c->n_audit = 0;
}

void pgr_audit_screen_load(struct pgr_console *c)
{
	pgr_audit_screen_free(c);
	c->audit_ok = false;
	c->audit_path[0] = 0;
	struct pgr_audit a;
	struct pgr_error err = {0};
	if (!pgr_audit_open(&a, c->env->audit_log, c->env->audit_key_file, &err)) {
		snprintf(c->audit_verdict, sizeof c->audit_verdict, "cannot open the audit log: %.500s", err.msg);
		return;
	}
	snprintf(c->audit_path, sizeof c->audit_path, "%s", a.path);
	struct pgr_audit_verdict v;
	if (!pgr_audit_verify(&a, &v, &err)) {
		if (err.kind == PGR_ERR_NOTFOUND || access(a.path, F_OK) != 0) {
			snprintf(c->audit_verdict, sizeof c->audit_verdict,
			         "no audit log yet (%s): nothing was done here", a.path);
			c->audit_ok = true;
		} else {
			snprintf(c->audit_verdict, sizeof c->audit_verdict, "cannot read the audit log: %.500s",
			         err.msg);
		}
		pgr_audit_close(&a);
		return;
	}
	if (v.ok)
		snprintf(c->audit_verdict, sizeof c->audit_verdict, "chain intact, %zu records", v.records);
	else
		snprintf(c->audit_verdict, sizeof c->audit_verdict, "TAMPERED: %.512s", v.problem);
	c->audit_ok = v.ok;
	struct pgr_audit_filter f = {0};
	f.env = c->env->name;
	char **lines = NULL;
	size_t n = 0;
	if (!pgr_audit_read(&a, &f, &lines, &n, &err)) {
		snprintf(c->audit_verdict + strlen(c->audit_verdict),
		         sizeof c->audit_verdict - strlen(c->audit_verdict), "; cannot list it: %.300s", err.msg);
		c->audit_ok = false;
		pgr_audit_close(&a);
		return;
	}
	c->audit_rows = xcalloc(n + 1, sizeof *c->audit_rows);
	for (size_t i = n; i > 0; i--) { /* newest first */
		cJSON *o = cJSON_Parse(lines[i - 1]);
		struct pgr_audit_row *r = &c->audit_rows[c->n_audit++];
		if (!o) {
			r->detail = xstrdup("(a line that is not JSON)");
			r->seq = -1;
			continue;
		}
		r->time = jstr(o, "time");
		r->user = jstr(o, "user");
		char *sudo = jstr(o, "sudo_user");
		if (sudo && r->user) {
			char *u = xasprintf("%s (sudo %s)", sudo, r->user);
			free(r->user);
			r->user = u;
		}
		free(sudo);
		r->env = jstr(o, "env");
		r->incident = jstr(o, "incident");
		r->reason = jstr(o, "reason");
		r->run = jstr(o, "run");
		r->plan = jstr(o, "plan");
		r->step = jstr(o, "step");
		r->phase = jstr(o, "phase");
		r->outcome = jstr(o, "outcome");
		r->command = jstr(o, "command");
		r->detail = jstr(o, "detail");
		r->seq = jnum(o, "seq", -1);
		r->duration_ms = jnum(o, "duration_ms", -1);
		cJSON_Delete(o);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	pgr_audit_close(&a);
}
