/* The console's one-line editor: the `:` command line and the `/` filter, on GNU readline's
 * callback interface so the dashboard keeps the screen and keeps refreshing while the user types.
 * One editor at a time (readline is global). Also the parser for `:` commands. */
#ifndef PGR_CMDLINE_H
#define PGR_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "keymap.h"

enum pgr_cmdline_kind {
	PGR_CMDLINE_COMMAND = 0, /* prompt ":", history saved in $XDG_STATE_HOME/pgrescue/history */
	PGR_CMDLINE_FILTER, /* prompt "/", history kept for this run only */
};

enum pgr_cmdline_state {
	PGR_CMDLINE_CLOSED = 0, /* no editor open (feed on a closed editor returns this) */
	PGR_CMDLINE_EDITING, /* still typing: keep feeding keys */
	PGR_CMDLINE_SUBMITTED, /* Enter: pgr_cmdline_text() is the line (may be ""); editor closed */
	PGR_CMDLINE_CANCELLED, /* Esc, Ctrl-C or Ctrl-G: nothing submitted; editor closed */
};

/* Open the editor on screen row `row` of stdscr, from column `col`, `width` columns wide
 * (width <= 0: to the right edge). Shows the cursor. Opening while open restarts with an
 * empty line. `initial` may be NULL, else the line starts with that text (e.g. the current filter). */
void pgr_cmdline_open(enum pgr_cmdline_kind kind, int row, int col, int width, const char *initial);
/* Move the editor after KEY_RESIZE (same meaning as in open). */
void pgr_cmdline_move(int row, int col, int width);
/* True between open and submit/cancel/close. */
bool pgr_cmdline_active(void);
enum pgr_cmdline_kind pgr_cmdline_kind(void);
/* Feed one key exactly as wgetch() returned it (keypad on): characters and bytes of UTF-8
 * sequences, KEY_LEFT/RIGHT/HOME/END/UP/DOWN/BACKSPACE/DC, Tab (completion of command names and
 * theme names), Ctrl-A/E/K/U/W and readline's other emacs bindings; Esc (27) cancels at once.
 * KEY_RESIZE is ignored (call move). After SUBMITTED or CANCELLED the editor is closed. */
enum pgr_cmdline_state pgr_cmdline_feed(int key);
/* Feed UTF-8 text as if typed (paste; tests). Stops at a newline, which submits. */
enum pgr_cmdline_state pgr_cmdline_feed_text(const char *utf8);
/* While editing: the current line (drive a live `/` filter from it). After SUBMITTED: the
 * submitted line, valid until the next open. Never NULL. */
const char *pgr_cmdline_text(void);
/* A one-line message from the editor (Tab's list of completions), "" if none. */
const char *pgr_cmdline_message(void);
/* Draw prompt and line on the editor's row of stdscr (scrolled so the cursor shows), with
 * pgr_theme_attr(PGR_ROLE_NORMAL), and leave the cursor at the editing point. Call it last
 * in a frame, before refresh()/doupdate(). No-op when not active. */
void pgr_cmdline_draw(void);
/* Close without submitting (also hides the cursor again). Safe when not open. */
void pgr_cmdline_close(void);
/* At exit: write nothing more, free the history. */
void pgr_cmdline_shutdown(void);

/* ---- `:` commands ---- */
enum pgr_cmd {
	PGR_CMD_NONE = 0, /* empty line: do nothing */
	PGR_CMD_BACKUP, /* :backup */
	PGR_CMD_RESTORE, /* :restore [LABEL] */
	PGR_CMD_PITR, /* :pitr [TARGET...] (the rest of the line) */
	PGR_CMD_THEME, /* :theme NAME */
	PGR_CMD_QUIT, /* :quit, :q */
	PGR_CMD_HELP, /* :help */
	PGR_CMD_AUDIT, /* :audit: the audit screen */
	PGR_CMD_WINDOW, /* :window [TARGET]: the PITR target picker on its own */
	PGR_CMD_SQL, /* :sql QUERY: a read-only query on a paused recovery's server */
};

struct pgr_command {
	enum pgr_cmd cmd;
	/* The key-table action the dashboard should dispatch through its one read-only gate:
	 * PGR_ACT_BACKUP/RESTORE/PITR/QUIT/HELP/AUDIT; PGR_ACT_NONE for :theme (and NONE). */
	enum pgr_action action;
	bool dangerous; /* backup, restore, pitr: refused in the read-only monitor */
	char arg[256]; /* argument, trimmed; "" if none */
};

struct pgr_command_info {
	const char *name; /* "backup" */
	const char *usage; /* "backup" / "theme NAME" */
	const char *help; /* one line for the help overlay */
	enum pgr_cmd cmd;
	bool dangerous;
};
/* The command table, terminated by an entry with name NULL. */
extern const struct pgr_command_info pgr_commands[];

/* Parse a `:` line (with or without the leading ':'). Unique prefixes of the harmless commands are accepted ("th
 * dark"); backup, restore and pitr must be written in full. Unknown or ambiguous command, missing or extra argument:
 * false, err->msg names the command and err->hint lists the commands (or the themes, for :theme without a name). */
bool pgr_cmdline_parse(const char *line, struct pgr_command *out, struct pgr_error *err);

#endif
