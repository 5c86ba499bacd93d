/* The console's insides, shared by app.c (the loop, the one dispatcher and its
 * read-only gate), screens.c (what the dashboard and its views show) and
 * widgets.c (how: boxes, tables, bars, sparklines, dialogs, footer, help). */
#ifndef PGR_CONSOLE_H
#define PGR_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "keymap.h"
#include "recovery/runner.h"
#include "source/collect.h"
#include "theme.h"
#include "ui.h"

#define PGR_MIN_COLS 80
#define PGR_MIN_ROWS 24

enum pgr_panel {
	PGR_PANEL_BACKUPS = 0,
	PGR_PANEL_WAL,
	PGR_PANEL_RESTORE,
	PGR_PANEL_ALERTS,
	PGR_PANEL_SNAPSHOTS,
	PGR_PANEL_WINDOW,
	PGR_N_PANELS
};
const char *pgr_panel_title(enum pgr_panel p);

struct pgr_wizard; /* wizard.c */

/* One audit record as the audit screen shows it (strings may be NULL). */
struct pgr_audit_row {
	char *time, *user, *env, *incident, *reason, *run, *plan, *step, *phase, *outcome, *command, *detail;
	long long seq, duration_ms;
};

struct pgr_console {
	const struct pgr_env *env;
	struct pgr_collector *coll;
	bool monitor; /* the read-only status monitor */
	bool unicode; /* the locale is UTF-8: block characters and box glyphs */
	bool no_color;
	enum pgr_colour_depth depth;
	char theme_name[64];
	int interval_ms;
	bool paused;
	char dbname[128]; /* from the DSN; no secrets */

	struct pgr_snapshot *snap; /* newest, referenced; NULL before the first refresh */
	double snap_mono; /* when that snapshot arrived */

	enum pgr_panel panel; /* selected */
	bool detail; /* the selected panel's detail view is open */
	int sel, top; /* detail view: selected row, first row shown */
	int n_rows; /* detail view: rows after the filter (set while drawing) */
	int page; /* detail view: rows that fit (set while drawing) */
	char sel_copy[200]; /* the value `y` copies (set while drawing) */

	bool help;
	int help_top, help_rows, help_page;

	char filter[256]; /* `/`: case-insensitive substring of list rows */
	char filter_before[256]; /* restored when the filter editor is cancelled */

	char msg[512];
	enum pgr_role msg_role;
	double msg_mono;

	enum pgr_action confirm; /* an action waiting for its y/N, NONE when no dialog */

	struct pgr_wizard *wiz; /* the restore or PITR wizard, or a run's view; NULL when closed */

	/* The newest run of this environment when it is unfinished (running,
	 * interrupted, waiting): the banner offering to resume it. */
	char banner[400];
	char banner_dir[1024];
	enum pgr_run_status banner_status;
	double banner_mono; /* when the runs were last looked at */

	bool audit; /* the audit screen is open */
	struct pgr_audit_row *audit_rows; /* newest first */
	int n_audit;
	char audit_verdict[700]; /* "chain intact, N records" or the first bad line */
	bool audit_ok;
	char audit_path[512];

	pid_t backup_pid; /* a backup this console started, 0 when none */
	char backup_log[512];

	char copied[16][200]; /* printed on exit */
	int n_copied;
};

/* app.c: the message row. */
void pgr_console_say(struct pgr_console *c, enum pgr_role role, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* screens.c */
void pgr_screen_draw(struct pgr_console *c);
/* The status word and role of a verdict level. */
enum pgr_role pgr_level_role(enum pgr_vlevel l);

/* widgets.c: drawing on stdscr; text is UTF-8, clipped to display columns. */
int pgr_w_width(const char *s);
int pgr_w_put(int y, int x, int maxw, int attr, const char *s);
int pgr_w_printf(int y, int x, int maxw, int attr, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pgr_w_blank(int y, int x, int w, int attr);
/* A panel: border, title at the left, the state word at the right (in its
 * role's colour, never colour alone), a marker when selected. */
void pgr_w_box(int y, int x, int h, int w, const char *title, const char *word, enum pgr_role word_role, bool selected,
               bool unicode);
/* A bar of w columns filled to frac (0..1). */
void pgr_w_meter(int y, int x, int w, double frac, bool unicode, int attr_fill, int attr_empty);
/* A sparkline of n values (negative: unknown) scaled to max, w columns wide. */
void pgr_w_sparkline(int y, int x, int w, const double *v, int n, double max, bool unicode, int attr);
/* A centred box with a title and lines (a message or a question). */
void pgr_w_dialog(const char *title, const char *const *lines, int n, enum pgr_role role, bool unicode);
/* The footer row from the key table's in_footer entries (dangerous ones left out in the monitor). */
void pgr_w_footer(int y, int w, bool monitor, const char *right);
/* The help overlay: every key of pgr_keymap and every : command; dangerous ones greyed in the monitor. */
void pgr_w_help(struct pgr_console *c);

/* A table: columns sized to their widest cell (up to a maximum), formatted
 * into lines that the list views draw and filter. */
struct pgr_w_table {
	int ncols;
	const char *head[12];
	int maxw[12]; /* 0: no limit */
	bool right[12];
	int width[12]; /* computed */
};
void pgr_w_table_fit(struct pgr_w_table *t, const char *const *cells); /* widen for one row */
/* One row as a line of text (newly allocated). */
char *pgr_w_table_line(const struct pgr_w_table *t, const char *const *cells);

#endif
