/* One key table drives dispatch, the help overlay and the footer: key, action,
 * label, help text, dangerous flag, and the screens where it applies. In the
 * read-only monitor a dangerous action does not exist: help shows it greyed,
 * the key answers "read-only monitor". */
#ifndef PGR_KEYMAP_H
#define PGR_KEYMAP_H

#include <stdbool.h>

enum pgr_action {
	PGR_ACT_NONE = 0,
	PGR_ACT_QUIT,
	PGR_ACT_HELP,
	PGR_ACT_CLOSE, /* Esc: close overlay / back */
	PGR_ACT_UP,
	PGR_ACT_DOWN,
	PGR_ACT_NEXT_PANEL,
	PGR_ACT_PREV_PANEL,
	PGR_ACT_OPEN, /* Enter: panel detail */
	PGR_ACT_REFRESH,
	PGR_ACT_FASTER, /* + */
	PGR_ACT_SLOWER, /* - */
	PGR_ACT_PAUSE, /* p */
	PGR_ACT_COMMAND, /* : */
	PGR_ACT_FILTER, /* / */
	PGR_ACT_COPY, /* y: copy the selected value (OSC 52) */
	PGR_ACT_BACKUP, /* dangerous: start a backup */
	PGR_ACT_RESTORE, /* dangerous: the restore wizard */
	PGR_ACT_PITR, /* dangerous: the PITR wizard */
	PGR_ACT_RESUME, /* dangerous: resume (or open) this environment's unfinished run */
	PGR_ACT_AUDIT, /* the audit screen */
	PGR_ACT_LEAVE, /* a run view: leave it, the run goes on */
	PGR_ACT_PICKER, /* the PITR target picker on its own (read-only) */
	PGR_ACT_INSPECT, /* a paused PITR: the row counts at the target again */
	PGR_ACT_RETARGET, /* dangerous: a paused PITR: move its target later and replay on */
	PGR_ACT_SQL, /* :sql QUERY on a paused PITR's server, read-only (a command, no key) */
	PGR_N_ACTIONS
};

struct pgr_key {
	int key; /* curses key code or character */
	const char *keyname; /* as shown: "q", "F1", "Enter", "Esc" */
	enum pgr_action action;
	const char *label; /* footer label, short: "Quit" */
	const char *help; /* help overlay text */
	bool dangerous;
	bool in_footer;
};

/* The table, terminated by an entry with action PGR_ACT_NONE. */
extern const struct pgr_key pgr_keymap[];
/* The entry for a key, NULL if unbound. */
const struct pgr_key *pgr_keymap_find(int key);
/* The first entry for an action (screens name its key from the table), NULL if none. */
const struct pgr_key *pgr_keymap_for(enum pgr_action a);

#endif
