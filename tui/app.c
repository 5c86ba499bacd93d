/* The console's loop: poll() on the terminal and the collector's descriptor,
 * so a new snapshot redraws at once and a key answers at once; nothing here
 * waits on a database, a store or the network. Every key and every `:`
 * command goes through one dispatcher, and its first line is the read-only
 * gate: in the monitor a dangerous action does not exist. */
#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fsutil.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "cmdline.h"
#include "console.h"
#include "source/collect.h"
#include "source/pg.h"
#include "wizard.h"

#define MESSAGE_SECONDS 10.0

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void pgr_console_say(struct pgr_console *c, enum pgr_role role, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	c->msg_role = role;
	c->msg_mono = pgr_monotonic();
}
#define say pgr_console_say

/* $XDG_STATE_HOME/pgrescue (created), for the console's log and backup logs. */
static char *state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *dir;
	if (x && *x)
		dir = xasprintf("%s/pgrescue", x);
	else
		dir = xasprintf("%s/.local/state/pgrescue", home && *home ? home : "/tmp");
	struct pgr_error err = {0};
	if (!pgr_mkdir_p(dir, 0700, &err)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* ---------------------------------------------------------------- the gate */

static bool action_dangerous(enum pgr_action a)
{
	const struct pgr_key *k = pgr_keymap_for(a);
	return k && k->dangerous;
}

static const char *action_word(enum pgr_action a)
{
	switch (a) {
	case PGR_ACT_BACKUP: return "backup";
	case PGR_ACT_RESTORE: return "restore";
	case PGR_ACT_PITR: return "point-in-time recovery";
	case PGR_ACT_RESUME: return "resuming a run";
	case PGR_ACT_RETARGET: return "moving a recovery's target";
	default: {
		const struct pgr_key *k = pgr_keymap_for(a);
		return k ? k->label : "this action";
	}
	}
}

/* ---------------------------------------------------------------- actions */

static const int intervals_ms[] = {500, 1000, 2000, 5000, 10000, 30000, 60000};
#define N_INTERVALS ((int)(sizeof intervals_ms / sizeof intervals_ms[0]))

static void change_interval(struct pgr_console *c, struct pgr_collector *coll, int dir)
{
	int at = 0;
	for (int i = 0; i < N_INTERVALS; i++)
		if (intervals_ms[i] <= c->interval_ms)
			at = i;
	if (dir > 0 && intervals_ms[at] < c->interval_ms)
		at++; /* a custom --interval: the next step up is the one above it */
	at += dir;
	if (at < 0)
		at = 0;
	if (at >= N_INTERVALS)
		at = N_INTERVALS - 1;
	c->interval_ms = intervals_ms[at];
	pgr_collector_set_interval(coll, c->interval_ms);
	if (c->interval_ms % 1000)
		say(c, PGR_ROLE_NORMAL, "refresh every %.1f s", c->interval_ms / 1000.0);
	else
		say(c, PGR_ROLE_NORMAL, "refresh every %d s", c->interval_ms / 1000);
}

static void base64(const char *in, char *out, size_t outlen)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), o = 0;
	for (size_t i = 0; i < n && o + 5 < outlen; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = 0;
}

/* OSC 52 to the terminal (tmux and most terminal emulators put it on the
 * clipboard), and remembered to be printed on exit. */
static void copy_value(struct pgr_console *c)
{
	if (!c->sel_copy[0]) {
		say(c, PGR_ROLE_MUTED, "nothing to copy here (select a backup, the WAL panel or the window)");
		return;
	}
	char b64[400], seq[440];
	base64(c->sel_copy, b64, sizeof b64);
	int n = snprintf(seq, sizeof seq, "\033]52;c;%s\a", b64);
	if (n > 0 && (size_t)n < sizeof seq) {
		ssize_t w = write(STDOUT_FILENO, seq, (size_t)n);
		(void)w;
	}
	if (c->n_copied < (int)(sizeof c->copied / sizeof c->copied[0]))
		snprintf(c->copied[c->n_copied++], sizeof c->copied[0], "%s", c->sel_copy);
	say(c, PGR_ROLE_OK, "copied %s (OSC 52; printed again on exit)", c->sel_copy);
}

static void start_backup(struct pgr_console *c, const struct pgr_tui_opts *opts)
{
	if (c->backup_pid > 0) {
		say(c, PGR_ROLE_WARN, "backup: one is already running (pid %d), log %s", (int)c->backup_pid,
		    c->backup_log);
		return;
	}
	if (!c->env->name || !strcmp(c->env->name, "(command line)")) {
		say(c, PGR_ROLE_WARN,
		    "backup: this environment comes from --dsn/--store; run `pgrescue backup` with them in a shell");
		return;
	}
	const char *exe = pgr_self_exe();
	char *dir = state_dir();
	if (!exe || !dir) {
		free(dir);
		say(c, PGR_ROLE_FAIL, "backup: cannot find this program or a state directory for its log");
		return;
	}
	char label[32];
	pgr_label_format(pgr_now(), label, sizeof label);
	snprintf(c->backup_log, sizeof c->backup_log, "%s/console-backup-%s.log", dir, label);
	free(dir);
	int fd = open(c->backup_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		say(c, PGR_ROLE_FAIL, "backup: cannot open its log %s: %s", c->backup_log, strerror(errno));
		return;
	}
	const char *argv[14];
	int n = 0;
	argv[n++] = exe;
	if (opts->config_path) {
		argv[n++] = "--config";
		argv[n++] = opts->config_path;
	}
	if (opts->store_url) {
		argv[n++] = "--store";
		argv[n++] = opts->store_url;
	}
	if (opts->dsn) {
		argv[n++] = "--dsn";
		argv[n++] = opts->dsn;
	}
	argv[n++] = "--env";
	argv[n++] = c->env->name;
	argv[n++] = "backup";
	argv[n++] = NULL;
	struct pgr_proc_spec spec = {0};
	spec.argv = argv;
	spec.stdin_fd = -1;
	spec.out = PGR_IO_FD;
	spec.out_fd = fd;
	spec.err = PGR_IO_FD;
	spec.err_fd = fd;
	spec.detach = true; /* it finishes even if the console is closed */
	struct pgr_proc p;
	struct pgr_error err = {0};
	bool ok = pgr_proc_start(&spec, &p, &err);
	close(fd);
	if (!ok) {
		say(c, PGR_ROLE_FAIL, "backup: %s", err.msg);
		return;
	}
	c->backup_pid = p.pid;
	say(c, PGR_ROLE_WARN, "backup running (pid %d); log %s", (int)p.pid, c->backup_log);
}

static void reap_backup(struct pgr_console *c, struct pgr_collector *coll)
{
	if (c->backup_pid <= 0)
		return;
	int st;
	pid_t r = waitpid(c->backup_pid, &st, WNOHANG);
	if (r == 0)
		return;
	if (r < 0 && errno == EINTR)
		return;
	c->backup_pid = 0;
	if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		say(c, PGR_ROLE_OK, "backup finished OK (log %s)", c->backup_log);
	else if (r > 0 && WIFEXITED(st))
		say(c, PGR_ROLE_FAIL, "backup FAILED with exit code %d: see %s", WEXITSTATUS(st), c->backup_log);
	else
		say(c, PGR_ROLE_FAIL, "backup ended abnormally: see %s", c->backup_log);
	pgr_collector_refresh_now(coll);
}

struct loop {
	struct pgr_console *c;
	struct pgr_collector *coll;
	const struct pgr_tui_opts *opts;
	struct pgr_theme *theme;
	bool quit;
};

static void open_detail(struct pgr_console *c)
{
	c->detail = true;
	c->sel = c->top = 0;
}

static void open_audit(struct pgr_console *c)
{
	pgr_audit_screen_load(c);
	c->audit = true;
	c->help = false;
	c->sel = c->top = 0;
}

/* The one dispatcher. Keys (through the key table) and `:` commands both
 * come here; arg is a `:` command's argument (NULL for keys). */
static void dispatch(struct loop *L, enum pgr_action a, bool dangerous_hint, const char *arg)
{
	struct pgr_console *c = L->c;
	/* The read-only gate: nothing below it runs for a dangerous action in the monitor. */
	if ((action_dangerous(a) || dangerous_hint) && c->monitor) {
		say(c, PGR_ROLE_READONLY, "read-only monitor: %s is not available", action_word(a));
		return;
	}
	/* A wizard or a run's view takes the keys it has a meaning for. */
	if (c->wiz && !c->help && pgr_wiz_action(c, a))
		return;
	switch (a) {
	case PGR_ACT_QUIT:
		if (c->help)
			c->help = false;
		else if (c->audit)
			c->audit = false;
		else if (c->detail)
			c->detail = false;
		else
			L->quit = true;
		break;
	case PGR_ACT_HELP:
		c->help = !c->help;
		c->help_top = 0;
		break;
	case PGR_ACT_CLOSE:
		if (c->help)
			c->help = false;
		else if (c->audit)
			c->audit = false;
		else if (c->detail)
			c->detail = false;
		else if (c->filter[0]) {
			c->filter[0] = 0;
			say(c, PGR_ROLE_MUTED, "filter cleared");
		} else
			c->msg[0] = 0;
		break;
	case PGR_ACT_UP:
	case PGR_ACT_DOWN: {
		int d = a == PGR_ACT_UP ? -1 : 1;
		if (c->help)
			c->help_top += d;
		else if (c->detail || c->audit)
			c->sel += d;
		else
			c->panel = (enum pgr_panel)((c->panel + PGR_N_PANELS + d) % PGR_N_PANELS);
		break;
	}
	case PGR_ACT_NEXT_PANEL:
	case PGR_ACT_PREV_PANEL: {
		if (c->audit)
			break;
		int d = a == PGR_ACT_NEXT_PANEL ? 1 : -1;
		c->panel = (enum pgr_panel)((c->panel + PGR_N_PANELS + d) % PGR_N_PANELS);
		c->sel = c->top = 0;
		break;
	}
	case PGR_ACT_OPEN:
		if (!c->detail && !c->audit)
			open_detail(c);
		break;
	case PGR_ACT_REFRESH:
		pgr_collector_refresh_now(L->coll);
		pgr_runs_scan(c, true);
		if (c->audit) {
			pgr_audit_screen_load(c);
			say(c, PGR_ROLE_MUTED, "audit log read again");
		} else {
			say(c, PGR_ROLE_MUTED, "refreshing now");
		}
		break;
	case PGR_ACT_FASTER: change_interval(c, L->coll, -1); break;
	case PGR_ACT_SLOWER: change_interval(c, L->coll, 1); break;
	case PGR_ACT_PAUSE:
		c->paused = !c->paused;
		pgr_collector_pause(L->coll, c->paused);
		say(c, c->paused ? PGR_ROLE_WARN : PGR_ROLE_MUTED, "%s",
		    c->paused ? "refresh paused (p resumes, r refreshes once)" : "refresh resumed");
		break;
	case PGR_ACT_COMMAND:
		c->help = false;
		pgr_cmdline_open(PGR_CMDLINE_COMMAND, LINES - 2, 0, COLS, NULL);
		break;
	case PGR_ACT_FILTER:
		c->help = false;
		snprintf(c->filter_before, sizeof c->filter_before, "%s", c->filter);
		pgr_cmdline_open(PGR_CMDLINE_FILTER, LINES - 2, 0, COLS, c->filter[0] ? c->filter : NULL);
		break;
	case PGR_ACT_COPY: copy_value(c); break;
	case PGR_ACT_BACKUP:
		if (c->backup_pid > 0)
			start_backup(c, L->opts); /* says it is already running */
		else
			c->confirm = PGR_ACT_BACKUP;
		break;
	case PGR_ACT_RESTORE:
	case PGR_ACT_PITR:
		c->detail = false;
		pgr_wiz_open(c, a == PGR_ACT_PITR, arg);
		break;
	case PGR_ACT_RESUME: pgr_wiz_resume(c); break;
	case PGR_ACT_AUDIT: open_audit(c); break;
	case PGR_ACT_PICKER: pgr_wiz_open_picker(c, arg); break;
	case PGR_ACT_SQL:
		if (!c->wiz || !pgr_wiz_sql(c, arg))
			say(c, PGR_ROLE_MUTED, ":sql runs on a paused recovery's server: open its run view first (U)");
		break;
	case PGR_ACT_INSPECT:
		say(c, PGR_ROLE_MUTED, "i inspects a paused recovery: open its run view first (U)");
		break;
	case PGR_ACT_RETARGET:
		say(c, PGR_ROLE_MUTED, "t moves a paused recovery's target: open its run view first (U)");
		break;
	case PGR_ACT_LEAVE: say(c, PGR_ROLE_MUTED, "d leaves a run's view; there is none open"); break;
	case PGR_ACT_NONE:
	case PGR_N_ACTIONS:
	default: break;
	}
}

static void load_theme(struct loop *L, const char *name, bool live)
{
	struct pgr_console *c = L->c;
	struct pgr_error err = {0};
	struct pgr_theme t;
	if (!pgr_theme_load(name, &t, &err)) {
		if (live) {
			say(c, PGR_ROLE_FAIL, "theme %s: %s%s%s", name, err.msg, err.hint[0] ? " HINT: " : "",
			    err.hint);
			return; /* keep the theme in use */
		}
		pgr_theme_default(&t);
		say(c, PGR_ROLE_FAIL, "%s; using the default theme", err.msg);
	}
	*L->theme = t;
	snprintf(c->theme_name, sizeof c->theme_name, "%s", t.name[0] ? t.name : name);
	if (live) {
		pgr_theme_apply(L->theme, c->depth);
		say(c, PGR_ROLE_OK, "theme %s", c->theme_name);
	}
}

static void run_command(struct loop *L, const char *line)
{
	struct pgr_console *c = L->c;
	struct pgr_command cmd;
	struct pgr_error err = {0};
	if (!pgr_cmdline_parse(line, &cmd, &err)) {
		say(c, PGR_ROLE_FAIL, "%s%s%s", err.msg, err.hint[0] ? "  " : "", err.hint);
		return;
	}
	switch (cmd.cmd) {
	case PGR_CMD_NONE: return;
	case PGR_CMD_THEME: load_theme(L, cmd.arg, true); return;
	case PGR_CMD_QUIT: L->quit = true; return; /* :quit leaves from any view */
	case PGR_CMD_HELP:
		c->help = true;
		c->help_top = 0;
		return;
	default: break;
	}
	if (cmd.action != PGR_ACT_NONE)
		dispatch(L, cmd.action, cmd.dangerous, cmd.arg);
}

static void on_key(struct loop *L, int ch)
{
	struct pgr_console *c = L->c;
	if (ch == KEY_RESIZE) {
		if (pgr_cmdline_active())
			pgr_cmdline_move(LINES - 2, 0, COLS);
		return;
	}
	if (pgr_cmdline_active()) {
		enum pgr_cmdline_kind kind = pgr_cmdline_kind();
		enum pgr_cmdline_state st = pgr_cmdline_feed(ch);
		if (kind == PGR_CMDLINE_FILTER) {
			if (st == PGR_CMDLINE_EDITING || st == PGR_CMDLINE_SUBMITTED)
				snprintf(c->filter, sizeof c->filter, "%s", pgr_cmdline_text());
			else if (st == PGR_CMDLINE_CANCELLED)
				snprintf(c->filter, sizeof c->filter, "%s", c->filter_before);
			c->sel = c->top = 0;
			if (st == PGR_CMDLINE_SUBMITTED)
				say(c, PGR_ROLE_MUTED, c->filter[0] ? "filter: %s (Esc clears)" : "%s",
				    c->filter[0] ? c->filter : "filter cleared");
		} else if (st == PGR_CMDLINE_SUBMITTED) {
			char line[512];
			snprintf(line, sizeof line, "%s", pgr_cmdline_text());
			run_command(L, line);
		}
		if (st == PGR_CMDLINE_EDITING && pgr_cmdline_message()[0])
			say(c, PGR_ROLE_MUTED, "%s", pgr_cmdline_message());
		return;
	}
	if (c->confirm != PGR_ACT_NONE) {
		/* The default is cancel: only y starts it. */
		enum pgr_action a = c->confirm;
		c->confirm = PGR_ACT_NONE;
		if (ch == 'y' && a == PGR_ACT_BACKUP)
			start_backup(c, L->opts);
		else
			say(c, PGR_ROLE_MUTED, "%s cancelled", action_word(a));
		return;
	}
	/* A wizard's text field takes what is typed (the confirmation, the target). */
	if (c->wiz && pgr_wiz_text_key(c, ch))
		return;
	const struct pgr_key *k = pgr_keymap_find(ch);
	if (!k) {
		const char *name = keyname(ch);
		say(c, PGR_ROLE_MUTED, "key %s does nothing here; ? lists the keys", name ? name : "?");
		return;
	}
	dispatch(L, k->action, false, NULL);
}

/* ---------------------------------------------------------------- run */

static void take_snapshot(struct pgr_console *c, struct pgr_collector *coll)
{
	struct pgr_snapshot *s = pgr_collector_snapshot(coll);
	if (!s)
		return;
	if (s == c->snap) {
		pgr_snapshot_release(s);
		return;
	}
	if (c->snap)
		pgr_snapshot_release(c->snap);
	c->snap = s;
	c->snap_mono = pgr_monotonic();
}

static void db_name(const struct pgr_env *env, char *buf, size_t n)
{
	if (!env->dsn || !*env->dsn) {
		snprintf(buf, n, "(none)");
		return;
	}
	char *db = pgr_pg_dsn_dbname(env->dsn);
	if (db && *db)
		snprintf(buf, n, "%s", db);
	else if (strstr(env->dsn, "service="))
		snprintf(buf, n, "(from its service)");
	else
		snprintf(buf, n, "(default)");
	free(db);
}

int pgr_tui_run(const struct pgr_env *env, const struct pgr_tui_opts *opts)
{
	setlocale(LC_ALL, "");
	struct pgr_console *c = xcalloc(1, sizeof *c);
	struct pgr_theme *theme = xcalloc(1, sizeof *theme);
	struct loop L = {c, NULL, opts, theme, false};
	c->env = env;
	c->coll = NULL;
	c->monitor = opts->monitor || env->readonly;
	c->unicode = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	const char *nc = getenv("NO_COLOR");
	c->no_color = opts->no_color || (nc && *nc);
	c->interval_ms = opts->interval_ms > 0 ? opts->interval_ms : 2000;
	db_name(env, c->dbname, sizeof c->dbname);
	const char *theme_name = opts->theme ? opts->theme : env->theme && *env->theme ? env->theme : "default";
	load_theme(&L, theme_name, false);
	char theme_error[sizeof c->msg];
	snprintf(theme_error, sizeof theme_error, "%s", c->msg);

	struct pgr_collector_opts co = {
	        .interval_ms = c->interval_ms, .source_timeout_ms = 5000, .readonly = c->monitor};
	struct pgr_error err = {0};
	L.coll = pgr_collector_start(env, &co, &err);
	if (!L.coll) {
		pgr_error_print(stderr, &err);
		free(theme);
		free(c);
		return 1;
	}
	c->coll = L.coll;
	/* A run this environment left unfinished: offered for resuming at once. */
	pgr_runs_scan(c, true);

	/* Diagnostics from core would scribble over the screen: they go to a log. */
	int saved_err = dup(STDERR_FILENO);
	char *dir = state_dir();
	char *logpath = dir ? xasprintf("%s/console.log", dir) : xstrdup("/dev/null");
	free(dir);
	int lfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lfd >= 0) {
		dup2(lfd, STDERR_FILENO);
		close(lfd);
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	struct sigaction old_int, old_term, old_hup;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);

	int code = 0;
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		if (saved_err >= 0)
			dup2(saved_err, STDERR_FILENO);
		fprintf(stderr,
		        "pgrescue: ERROR: cannot start the terminal UI (TERM=%s)\n"
		        "HINT: Set TERM to your terminal's type, or use `pgrescue status` for plain text.\n",
		        getenv("TERM") ? getenv("TERM") : "");
		code = 1;
		goto out;
	}
	set_term(scr);
	raw(); /* Ctrl-C reaches the line editor (cancel) and the key table (quit) */
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	/* Home and End as tmux, screen and rxvt send them, whatever TERM says:
	 * otherwise they arrive as Esc and three characters, and Esc goes back. */
	static const struct {
		const char *seq;
		int key;
	} extra[] = {{"\033[1~", KEY_HOME}, {"\033[4~", KEY_END}, {"\033[7~", KEY_HOME}, {"\033[8~", KEY_END},
	             {"\033[H", KEY_HOME},  {"\033[F", KEY_END},  {"\033OH", KEY_HOME},  {"\033OF", KEY_END}};
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
		if (key_defined(extra[i].seq) <= 0)
			define_key(extra[i].seq, extra[i].key);
	curs_set(0);
	if (!c->no_color && has_colors()) {
		start_color();
		use_default_colors();
	}
	c->depth = pgr_theme_depth(c->no_color, has_colors() ? COLORS : 0);
	pgr_theme_apply(theme, c->depth);

	bool dirty = true;
	time_t last_second = 0;
	while (!L.quit && !stop_signal) {
		double now = pgr_monotonic();
		if (c->msg[0] && now - c->msg_mono > MESSAGE_SECONDS && !theme_error[0])
			c->msg[0] = 0;
		time_t sec = pgr_now();
		if (sec != last_second) {
			last_second = sec;
			dirty = true; /* "updated N s ago" moves on */
		}
		if (dirty) {
			pgr_screen_draw(c);
			if (pgr_cmdline_active()) {
				curs_set(1);
				pgr_cmdline_draw();
			} else {
				curs_set(0);
			}
			refresh();
			dirty = false;
		}
		struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0}, {pgr_collector_fd(L.coll), POLLIN, 0}};
		int timeout = 1000 - (int)((now - (double)(long)now) * 1000.0);
		int wiz_ms = pgr_wiz_wait_ms(c);
		if (wiz_ms >= 0 && wiz_ms < timeout)
			timeout = wiz_ms;
		if (timeout < 10)
			timeout = 10;
		int pr = poll(pfd, 2, timeout);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr > 0 && (pfd[1].revents & POLLIN)) {
			pgr_collector_ack(L.coll);
			take_snapshot(c, L.coll);
			pgr_runs_scan(c, false);
			dirty = true;
		}
		if (pr > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd[0].revents & POLLIN))
			break; /* the terminal went away */
		/* Keys, and KEY_RESIZE after SIGWINCH interrupted poll(). */
		int ch, nkeys = 0;
		while (!L.quit && (ch = getch()) != ERR) {
			on_key(&L, ch);
			theme_error[0] = 0; /* a key was pressed: the theme message may go */
			dirty = true;
			if (++nkeys > 256)
				break;
		}
		reap_backup(c, L.coll);
		if (pgr_wiz_tick(c))
			dirty = true;
	}

	pgr_cmdline_close();
	endwin();
	delscreen(scr);
out:
	pgr_cmdline_shutdown();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (saved_err >= 0) {
		dup2(saved_err, STDERR_FILENO);
		close(saved_err);
	}
	free(logpath);
	if (c->snap)
		pgr_snapshot_release(c->snap);
	pgr_collector_stop(L.coll);
	for (int i = 0; i < c->n_copied; i++)
		printf("copied: %s\n", c->copied[i]);
	if (c->backup_pid > 0)
		printf("a backup started from the console is still running (pid %d); its log: %s\n", (int)c->backup_pid,
		       c->backup_log);
	char run_id[256];
	if (pgr_wiz_running_run(c, run_id, sizeof run_id))
		printf("run %s goes on without the console; follow it with `pgrescue runs attach %s`\n", run_id,
		       run_id);
	pgr_wiz_shutdown(c);
	free(theme);
	free(c);
	return code;
}
