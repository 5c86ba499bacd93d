/* The `:` command line and `/` filter: GNU readline's callback interface, fed one key at a time by
 * the dashboard's loop and drawn into a curses row by us, so readline never touches the terminal
 * and the screen keeps refreshing while the user types. Also the `:` command parser. */
#include "config.h"

#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cmdline.h"
#include "theme.h"

#define HISTORY_MAX 1000
#define QUEUE_MAX 64

/* ---------------------------------------------------------------- the command table */

const struct pgr_command_info pgr_commands[] = {
        {"backup", "backup", "start a backup now (pg_dump of the database)", PGR_CMD_BACKUP, true},
        {"restore", "restore [LABEL]", "open the restore wizard (LABEL: the dump to select)", PGR_CMD_RESTORE, true},
        {"pitr", "pitr [TARGET]", "open the PITR wizard (TARGET: a time with its zone, xid N, lsn L, name N)",
         PGR_CMD_PITR, true},
        {"theme", "theme NAME", "switch to theme NAME (Tab completes the names)", PGR_CMD_THEME, false},
        {"quit", "quit, q", "leave the console", PGR_CMD_QUIT, false},
        {"help", "help", "show the keys and commands", PGR_CMD_HELP, false},
        {"audit", "audit", "the audit log: what was done, refused or cancelled", PGR_CMD_AUDIT, false},
        {"sql", "sql QUERY", "a read-only query on the server of the paused recovery in view", PGR_CMD_SQL, false},
        {"window", "window [TARGET]", "the PITR target picker: window bars, a time cursor, destructive events",
         PGR_CMD_WINDOW, false},
        {NULL, NULL, NULL, PGR_CMD_NONE, false},
};

static enum pgr_action cmd_action(enum pgr_cmd c)
{
	switch (c) {
	case PGR_CMD_BACKUP: return PGR_ACT_BACKUP;
	case PGR_CMD_RESTORE: return PGR_ACT_RESTORE;
	case PGR_CMD_PITR: return PGR_ACT_PITR;
	case PGR_CMD_QUIT: return PGR_ACT_QUIT;
	case PGR_CMD_HELP: return PGR_ACT_HELP;
	case PGR_CMD_AUDIT: return PGR_ACT_AUDIT;
	case PGR_CMD_WINDOW: return PGR_ACT_PICKER;
	case PGR_CMD_SQL: return PGR_ACT_SQL;
	case PGR_CMD_THEME:
	case PGR_CMD_NONE: break;
	}
	return PGR_ACT_NONE;
}

static void commands_hint(struct pgr_error *err)
{
	char list[512] = "";
	for (const struct pgr_command_info *c = pgr_commands; c->name; c++) {
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s:%s", c == pgr_commands ? "" : ", ", c->usage);
	}
	pgr_error_hint(err, "commands are %s", list);
}

static void themes_list(char *buf, size_t n)
{
	char names[64][64];
	int count = pgr_theme_list(names, 64);
	buf[0] = '\0';
	for (int i = 0; i < count; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s", i ? ", " : "", names[i]);
	}
}

/* Levenshtein distance of short words, for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 31 || lb > 31)
		return 99;
	int d[32][32];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	}
	return d[la][lb];
}

bool pgr_cmdline_parse(const char *line, struct pgr_command *out, struct pgr_error *err)
{
	memset(out, 0, sizeof(*out));
	const char *p = line ? line : "";
	while (isspace((unsigned char)*p))
		p++;
	if (*p == ':')
		p++;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return true; /* PGR_CMD_NONE */

	char word[32];
	size_t wl = 0;
	while (p[wl] && !isspace((unsigned char)p[wl]))
		wl++;
	if (wl >= sizeof(word)) {
		pgr_error_set(err, PGR_ERR_USAGE, "unknown command \"%.*s...\"", 16, p);
		commands_hint(err);
		return false;
	}
	memcpy(word, p, wl);
	word[wl] = '\0';
	for (char *w = word; *w; w++)
		*w = (char)tolower((unsigned char)*w);

	const char *arg = p + wl;
	while (isspace((unsigned char)*arg))
		arg++;
	size_t al = strlen(arg);
	while (al && isspace((unsigned char)arg[al - 1]))
		al--;

	/* Exact names, "q", then unique prefixes of the harmless commands only: a dangerous command
	 * is never started by a typo's abbreviation. */
	const struct pgr_command_info *hit = NULL;
	if (strcmp(word, "q") == 0)
		word[0] = '\0', hit = &pgr_commands[4];
	for (const struct pgr_command_info *c = pgr_commands; c->name && !hit; c++)
		if (strcmp(word, c->name) == 0)
			hit = c;
	if (!hit) {
		int matches = 0;
		const struct pgr_command_info *dangerous_match = NULL;
		for (const struct pgr_command_info *c = pgr_commands; c->name; c++) {
			if (strncmp(word, c->name, wl) != 0)
				continue;
			if (c->dangerous) {
				dangerous_match = c;
				continue;
			}
			matches++;
			hit = c;
		}
		if (matches > 1) {
			pgr_error_set(err, PGR_ERR_USAGE, "\"%s\" is short for more than one command", word);
			commands_hint(err);
			return false;
		}
		if (!hit && dangerous_match) {
			pgr_error_set(err, PGR_ERR_USAGE, "unknown command \"%s\"", word);
			pgr_error_hint(err, "write :%s in full: commands that change things are never abbreviated",
			               dangerous_match->name);
			return false;
		}
	}
	if (!hit) {
		const struct pgr_command_info *best = NULL;
		int best_d = 3;
		for (const struct pgr_command_info *c = pgr_commands; c->name; c++) {
			int d = edit_distance(word, c->name);
			if (d < best_d) {
				best_d = d;
				best = c;
			}
		}
		pgr_error_set(err, PGR_ERR_USAGE, "unknown command \"%s\"", word);
		if (best)
			pgr_error_hint(err, "did you mean :%s?", best->usage);
		else
			commands_hint(err);
		return false;
	}

	if (al >= sizeof(out->arg)) {
		pgr_error_set(err, PGR_ERR_USAGE, ":%s: argument longer than %zu characters", hit->name,
		              sizeof(out->arg) - 1);
		return false;
	}
	for (size_t i = 0; i < al; i++) {
		if (iscntrl((unsigned char)arg[i]) && arg[i] != '\t') {
			pgr_error_set(err, PGR_ERR_USAGE, ":%s: the argument has a control character", hit->name);
			return false;
		}
	}
	switch (hit->cmd) {
	case PGR_CMD_BACKUP:
	case PGR_CMD_QUIT:
	case PGR_CMD_HELP:
	case PGR_CMD_AUDIT:
		if (al) {
			pgr_error_set(err, PGR_ERR_USAGE, ":%s takes no argument (got \"%.*s\")", hit->name,
			              (int)(al > 64 ? 64 : al), arg);
			pgr_error_hint(err, "usage: :%s", hit->usage);
			return false;
		}
		break;
	case PGR_CMD_THEME:
		if (!al || memchr(arg, ' ', al) || memchr(arg, '\t', al)) {
			char list[512];
			themes_list(list, sizeof(list));
			pgr_error_set(err, PGR_ERR_USAGE, al ? ":theme takes one NAME" : ":theme needs a NAME");
			pgr_error_hint(err, "themes: %s", list);
			return false;
		}
		break;
	case PGR_CMD_RESTORE:
		if (memchr(arg, ' ', al) || memchr(arg, '\t', al)) {
			pgr_error_set(err, PGR_ERR_USAGE, ":restore takes one LABEL (got \"%.*s\")",
			              (int)(al > 64 ? 64 : al), arg);
			pgr_error_hint(err, "usage: :%s", hit->usage);
			return false;
		}
		break;
	case PGR_CMD_PITR:
	case PGR_CMD_WINDOW:
	case PGR_CMD_NONE: break;
	case PGR_CMD_SQL:
		if (!al) {
			pgr_error_set(err, PGR_ERR_USAGE, ":sql needs a query");
			pgr_error_hint(err, "usage: :%s (one SELECT, on a paused recovery's server)", hit->usage);
			return false;
		}
		break;
	}
	out->cmd = hit->cmd;
	out->action = cmd_action(hit->cmd);
	out->dangerous = hit->dangerous;
	memcpy(out->arg, arg, al);
	out->arg[al] = '\0';
	return true;
}

/* ---------------------------------------------------------------- readline, fed by us */

static struct {
	bool initialised;
	bool active;
	enum pgr_cmdline_kind kind;
	enum pgr_cmdline_state result; /* set by the line handler */
	int row, col, width;
	int scroll; /* first display column shown */
	int cursor_prev; /* curs_set before open */
	unsigned char queue[QUEUE_MAX];
	int qhead, qlen;
	char *text; /* the submitted line */
	char message[512];
	FILE *devnull_in, *devnull_out;
	/* Each kind has its own history; the other kind's waits here. */
	HISTORY_STATE *parked[2];
	enum pgr_cmdline_kind live_history;
	bool history_loaded;
	char *history_path;
} ed = {.cursor_prev = -1};

static int queue_getc(FILE *unused)
{
	(void)unused;
	if (ed.qlen == 0)
		return EOF;
	int c = ed.queue[ed.qhead];
	ed.qhead = (ed.qhead + 1) % QUEUE_MAX;
	ed.qlen--;
	return c;
}

static int queue_available(void)
{
	return ed.qlen > 0;
}

static void no_redisplay(void)
{
	/* We draw in pgr_cmdline_draw, from the dashboard's frame. */
}

static void no_prep(int meta)
{
	(void)meta;
}

static void no_deprep(void)
{
}

static void show_matches(char **matches, int n, int max_length)
{
	(void)max_length;
	size_t len = 0;
	ed.message[0] = '\0';
	for (int i = 1; i <= n && len + 2 < sizeof(ed.message); i++) {
		snprintf(ed.message + len, sizeof(ed.message) - len, "%s%s", i > 1 ? " " : "", matches[i]);
		len = strlen(ed.message);
	}
}

static char *command_generator(const char *text, int state)
{
	static int i;
	if (!state)
		i = 0;
	size_t n = strlen(text);
	while (pgr_commands[i].name) {
		const char *name = pgr_commands[i++].name;
		if (strncmp(name, text, n) == 0)
			return xstrdup(name);
	}
	return NULL;
}

static char *theme_generator(const char *text, int state)
{
	static char names[64][64];
	static int n, i;
	if (!state) {
		n = pgr_theme_list(names, 64);
		i = 0;
	}
	size_t len = strlen(text);
	while (i < n) {
		const char *name = names[i++];
		if (strncmp(name, text, len) == 0)
			return xstrdup(name);
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never file names */
	if (ed.kind != PGR_CMDLINE_COMMAND)
		return NULL;
	const char *p = rl_line_buffer;
	while (*p == ' ' || *p == ':')
		p++;
	int first = (int)(p - rl_line_buffer);
	if (start <= first)
		return rl_completion_matches(text, command_generator);
	if (strncmp(p, "theme ", 6) == 0 || strncmp(p, "th ", 3) == 0 || strncmp(p, "the ", 4) == 0 ||
	    strncmp(p, "them ", 5) == 0)
		return rl_completion_matches(text, theme_generator);
	return NULL;
}

static void line_handler(char *line)
{
	free(ed.text);
	ed.text = NULL;
	if (!line) {
		/* Ctrl-D on an empty line */
		ed.result = PGR_CMDLINE_CANCELLED;
	} else {
		ed.text = line;
		ed.result = PGR_CMDLINE_SUBMITTED;
		if (*line) {
			HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
			if (!last || strcmp(last->line, line) != 0) {
				add_history(line);
				if (ed.kind == PGR_CMDLINE_COMMAND && ed.history_path) {
					/* Best effort: a history that cannot be saved must not stop the console. */
					if (append_history(1, ed.history_path) != 0)
						write_history(ed.history_path);
					history_truncate_file(ed.history_path, HISTORY_MAX);
				}
			}
		}
	}
	rl_callback_handler_remove();
}

static char *history_file_path(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	char *dir;
	if (x && x[0] == '/')
		dir = xasprintf("%s/pgrescue", x);
	else if (getenv("HOME") && *getenv("HOME"))
		dir = xasprintf("%s/.local/state/pgrescue", getenv("HOME"));
	else
		return NULL;
	struct pgr_error err;
	char *path = NULL;
	if (pgr_mkdir_p(dir, 0700, &err))
		path = xasprintf("%s/history", dir);
	free(dir);
	return path;
}

static void editor_init(void)
{
	if (ed.initialised)
		return;
	ed.initialised = true;
	/* Readline must never read or write the terminal curses owns. */
	ed.devnull_in = fopen("/dev/null", "r");
	ed.devnull_out = fopen("/dev/null", "w");
	rl_instream = ed.devnull_in;
	rl_outstream = ed.devnull_out;
	rl_readline_name = "pgrescue";
	rl_getc_function = queue_getc;
	rl_input_available_hook = queue_available;
	rl_redisplay_function = no_redisplay;
	rl_prep_term_function = no_prep;
	rl_deprep_term_function = no_deprep;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_attempted_completion_function = complete;
	rl_completion_display_matches_hook = show_matches;
	rl_initialize();
	rl_variable_bind("bell-style", "none");
	rl_variable_bind("enable-bracketed-paste", "off");
	rl_variable_bind("show-all-if-ambiguous", "on");
	/* Esc cancels, so vi mode (from ~/.inputrc) cannot work here: always emacs keys. */
	rl_variable_bind("editing-mode", "emacs");
	rl_set_keymap(rl_get_keymap_by_name("emacs"));
	stifle_history(HISTORY_MAX);
	ed.live_history = PGR_CMDLINE_COMMAND;
}

static void switch_history(enum pgr_cmdline_kind kind)
{
	if (kind == ed.live_history)
		return;
	ed.parked[ed.live_history] = history_get_history_state();
	if (ed.parked[kind]) {
		history_set_history_state(ed.parked[kind]);
		free(ed.parked[kind]);
		ed.parked[kind] = NULL;
	} else {
		HISTORY_STATE empty = {0};
		history_set_history_state(&empty);
		stifle_history(HISTORY_MAX);
	}
	ed.live_history = kind;
}

void pgr_cmdline_open(enum pgr_cmdline_kind kind, int row, int col, int width, const char *initial)
{
	editor_init();
	if (ed.active)
		rl_callback_handler_remove();
	ed.kind = kind;
	switch_history(kind);
	if (kind == PGR_CMDLINE_COMMAND && !ed.history_loaded) {
		ed.history_loaded = true;
		ed.history_path = history_file_path();
		if (ed.history_path)
			read_history(ed.history_path); /* absent on first use */
	}
	ed.qlen = ed.qhead = 0;
	ed.message[0] = '\0';
	ed.scroll = 0;
	ed.result = PGR_CMDLINE_EDITING;
	free(ed.text);
	ed.text = NULL;
	rl_callback_handler_install("", line_handler);
	if (initial && *initial) {
		rl_replace_line(initial, 0);
		rl_point = rl_end;
	}
	ed.active = true;
	pgr_cmdline_move(row, col, width);
	if (stdscr && ed.cursor_prev < 0)
		ed.cursor_prev = curs_set(1);
}

void pgr_cmdline_move(int row, int col, int width)
{
	ed.row = row < 0 ? 0 : row;
	ed.col = col < 0 ? 0 : col;
	int right = stdscr ? getmaxx(stdscr) : 80;
	ed.width = width > 0 ? width : right - ed.col;
	if (ed.col + ed.width > right)
		ed.width = right - ed.col;
	if (ed.width < 1)
		ed.width = 1;
}

bool pgr_cmdline_active(void)
{
	return ed.active;
}

enum pgr_cmdline_kind pgr_cmdline_kind(void)
{
	return ed.kind;
}

static void restore_cursor(void)
{
	if (stdscr && ed.cursor_prev >= 0)
		curs_set(ed.cursor_prev);
	ed.cursor_prev = -1;
}

static enum pgr_cmdline_state finish(enum pgr_cmdline_state st)
{
	ed.active = false;
	ed.message[0] = '\0';
	restore_cursor();
	return st;
}

/* Hand bytes to readline and let it act on each. */
static enum pgr_cmdline_state feed_bytes(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n && ed.active; i++) {
		if (ed.qlen == QUEUE_MAX)
			break;
		ed.queue[(ed.qhead + ed.qlen) % QUEUE_MAX] = b[i];
		ed.qlen++;
		while (ed.qlen > 0 && ed.result == PGR_CMDLINE_EDITING)
			rl_callback_read_char();
		if (ed.result != PGR_CMDLINE_EDITING)
			return finish(ed.result);
	}
	return ed.active ? PGR_CMDLINE_EDITING : ed.result;
}

static enum pgr_cmdline_state run(int (*fn)(int, int))
{
	fn(1, 0);
	return PGR_CMDLINE_EDITING;
}

enum pgr_cmdline_state pgr_cmdline_feed(int key)
{
	if (!ed.active)
		return PGR_CMDLINE_CLOSED;
	if (key != '\t')
		ed.message[0] = '\0';
	switch (key) {
	case 27:
	case 3: /* Ctrl-C */
	case 7: /* Ctrl-G */
		rl_callback_handler_remove();
		free(ed.text);
		ed.text = NULL;
		ed.result = PGR_CMDLINE_CANCELLED;
		return finish(PGR_CMDLINE_CANCELLED);
	case KEY_ENTER:
	case '\r':
	case '\n': return feed_bytes((const unsigned char *)"\n", 1);
	case KEY_BACKSPACE:
	case 8:
	case 127:
		if (rl_end == 0 && ed.kind == PGR_CMDLINE_FILTER)
			return PGR_CMDLINE_EDITING;
		return run(rl_rubout);
	case KEY_DC: return run(rl_delete);
	case KEY_LEFT: return run(rl_backward_char);
	case KEY_RIGHT: return run(rl_forward_char);
	case KEY_HOME: return run(rl_beg_of_line);
	case KEY_END: return run(rl_end_of_line);
	case KEY_UP: return run(rl_get_previous_history);
	case KEY_DOWN: return run(rl_get_next_history);
	case '\t':
		if (ed.kind != PGR_CMDLINE_COMMAND)
			return PGR_CMDLINE_EDITING;
		return feed_bytes((const unsigned char *)"\t", 1);
	case KEY_RESIZE: return PGR_CMDLINE_EDITING;
	default: break;
	}
	if (key >= 0 && key <= 0xff) {
		unsigned char b = (unsigned char)key;
		return feed_bytes(&b, 1);
	}
	if (key > KEY_MAX && key <= 0x10ffff) {
		/* A wide character (get_wch users): as UTF-8. */
		char mb[MB_LEN_MAX];
		mbstate_t ps;
		memset(&ps, 0, sizeof(ps));
		size_t n = wcrtomb(mb, (wchar_t)key, &ps);
		if (n != (size_t)-1)
			return feed_bytes((const unsigned char *)mb, n);
	}
	return PGR_CMDLINE_EDITING; /* other function keys: nothing */
}

enum pgr_cmdline_state pgr_cmdline_feed_text(const char *utf8)
{
	if (!ed.active)
		return PGR_CMDLINE_CLOSED;
	for (const char *p = utf8; *p; p++) {
		enum pgr_cmdline_state st = pgr_cmdline_feed(*p == '\r' ? '\n' : (unsigned char)*p);
		if (st != PGR_CMDLINE_EDITING)
			return st;
	}
	return PGR_CMDLINE_EDITING;
}

const char *pgr_cmdline_text(void)
{
	if (ed.active)
		return rl_line_buffer ? rl_line_buffer : "";
	return ed.text ? ed.text : "";
}

const char *pgr_cmdline_message(void)
{
	return ed.active ? ed.message : "";
}

/* Display columns of one character; control and unprintable characters show as '?'. */
static int char_cols(wchar_t wc)
{
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

void pgr_cmdline_draw(void)
{
	if (!ed.active || !stdscr)
		return;
	const char *prompt = ed.kind == PGR_CMDLINE_COMMAND ? ":" : "/";
	const char *line = rl_line_buffer ? rl_line_buffer : "";
	int attr = pgr_theme_attr(PGR_ROLE_NORMAL);

	/* Decode once: each character with its byte offset and width. */
	size_t len = strlen(line);
	wchar_t *wcs = xcalloc(len + 1, sizeof(wchar_t));
	int *cols = xcalloc(len + 1, sizeof(int));
	size_t *offs = xcalloc(len + 1, sizeof(size_t));
	size_t n = 0, off = 0;
	mbstate_t ps;
	memset(&ps, 0, sizeof(ps));
	while (off < len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, line + off, len - off, &ps);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&ps, 0, sizeof(ps));
			wc = L'?';
			k = 1;
		} else if (!iswprint((wint_t)wc)) {
			wc = L'?';
		}
		wcs[n] = wc;
		cols[n] = char_cols(wc);
		offs[n] = off;
		n++;
		off += k;
	}
	int cursor_col = 0;
	for (size_t i = 0; i < n && offs[i] < (size_t)rl_point; i++)
		cursor_col += cols[i];

	int avail = ed.width - 1; /* after the prompt */
	if (avail < 1)
		avail = 1;
	if (cursor_col < ed.scroll)
		ed.scroll = cursor_col;
	if (cursor_col >= ed.scroll + avail)
		ed.scroll = cursor_col - avail + 1;

	attr_t old_attrs;
	short old_pair;
	attr_get(&old_attrs, &old_pair, NULL);
	attrset(attr);
	mvhline(ed.row, ed.col, ' ', ed.width);
	mvaddstr(ed.row, ed.col, prompt);
	int x = 0, used = 0;
	for (size_t i = 0; i < n; i++) {
		if (x >= ed.scroll && x + cols[i] <= ed.scroll + avail) {
			mvaddnwstr(ed.row, ed.col + 1 + (x - ed.scroll), &wcs[i], 1);
			used = x + cols[i] - ed.scroll;
		}
		x += cols[i];
	}
	if (ed.message[0]) {
		int mlen = (int)strlen(ed.message);
		int room = avail - used - 3;
		if (room >= 8) {
			int show = mlen < room ? mlen : room;
			attrset(pgr_theme_attr(PGR_ROLE_MUTED));
			mvaddnstr(ed.row, ed.col + ed.width - show, ed.message, show);
		}
	}
	attr_set(old_attrs, old_pair, NULL);
	move(ed.row, ed.col + 1 + cursor_col - ed.scroll);
	free(wcs);
	free(cols);
	free(offs);
}

void pgr_cmdline_close(void)
{
	if (!ed.active)
		return;
	rl_callback_handler_remove();
	ed.result = PGR_CMDLINE_CANCELLED;
	finish(PGR_CMDLINE_CANCELLED);
}

void pgr_cmdline_shutdown(void)
{
	pgr_cmdline_close();
	free(ed.text);
	ed.text = NULL;
	if (!ed.initialised)
		return;
	clear_history();
	for (int k = 0; k < 2; k++) {
		if (!ed.parked[k])
			continue;
		/* Make the parked history live to free its entries, and free the emptied array. */
		HISTORY_STATE *old = history_get_history_state();
		history_set_history_state(ed.parked[k]);
		free(ed.parked[k]);
		ed.parked[k] = NULL;
		free(old->entries);
		free(old);
		clear_history();
	}
	free(ed.history_path);
	ed.history_path = NULL;
	ed.history_loaded = false;
}
