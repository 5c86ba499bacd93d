/* The one key table: dispatch, the help overlay, the footer and
 * `pgrescue --help-keys` all read it, so a key cannot do one thing and be
 * documented as another. Dangerous entries do not exist in the monitor. */
#include "config.h"

#include <curses.h>
#include <stddef.h>

#include "keymap.h"

#define ESC 27

/* Keys of one action share their help text: the overlay lists them on one line. */
#define H_QUIT "Quit the console (in a view or the help: close it)"
#define H_HELP "This help: every key and command"
#define H_UP "Previous panel; in a list or a wizard the previous row"
#define H_DOWN "Next panel; in a list or a wizard the next row"
#define H_NEXT "Next panel, also from its view; in a wizard: the next option"
#define H_PREV "Previous panel, also from its view; in a wizard: the previous option"

const struct pgr_key pgr_keymap[] = {
        {'q', "q", PGR_ACT_QUIT, "Quit", H_QUIT, false, true},
        {3, "C-c", PGR_ACT_QUIT, "Quit", H_QUIT, false, false},
        {'?', "?", PGR_ACT_HELP, "Help", H_HELP, false, true},
        {KEY_F(1), "F1", PGR_ACT_HELP, "Help", H_HELP, false, false},
        {ESC, "Esc", PGR_ACT_CLOSE, "Close", "Close the help, a view or a message; clear the filter; wizard: back",
         false, false},
        {'\t', "Tab", PGR_ACT_NEXT_PANEL, "Next", H_NEXT, false, true},
        {KEY_RIGHT, "Right", PGR_ACT_NEXT_PANEL, "Next", H_NEXT, false, false},
        {KEY_BTAB, "S-Tab", PGR_ACT_PREV_PANEL, "Prev", H_PREV, false, false},
        {KEY_LEFT, "Left", PGR_ACT_PREV_PANEL, "Prev", H_PREV, false, false},
        {KEY_UP, "Up", PGR_ACT_UP, "Up", H_UP, false, false},
        {'k', "k", PGR_ACT_UP, "Up", H_UP, false, false},
        {KEY_DOWN, "Down", PGR_ACT_DOWN, "Down", H_DOWN, false, false},
        {'j', "j", PGR_ACT_DOWN, "Down", H_DOWN, false, false},
        {'\n', "Enter", PGR_ACT_OPEN, "Open", "Open the selected panel's detail view; in a wizard: accept, go on",
         false, true},
        {'r', "r", PGR_ACT_REFRESH, "Refresh", "Refresh now (also while paused)", false, true},
        {'+', "+", PGR_ACT_FASTER, "Faster", "Refresh more often (down to every 0.5 s)", false, false},
        {'-', "-", PGR_ACT_SLOWER, "Slower", "Refresh less often (up to every 60 s)", false, false},
        {'p', "p", PGR_ACT_PAUSE, "Pause", "Pause or resume the automatic refresh", false, false},
        {':', ":", PGR_ACT_COMMAND, "Cmd", "Command line (:backup :restore :pitr :audit :theme NAME :quit)", false,
         true},
        {'/', "/", PGR_ACT_FILTER, "Filter", "Filter the lists (backups, alerts); Esc clears", false, true},
        {'y', "y", PGR_ACT_COPY, "Copy", "Copy the selected value (label, LSN) to the clipboard (OSC 52)", false, true},
        {'b', "b", PGR_ACT_BACKUP, "Backup", "Start a backup now (dump and base backup); asks first", true, true},
        {'R', "R", PGR_ACT_RESTORE, "Restore", "Restore wizard", true, true},
        {'P', "P", PGR_ACT_PITR, "PITR", "Point-in-time recovery wizard", true, true},
        {'U', "U", PGR_ACT_RESUME, "Resume", "Resume the unfinished run (or open the running one); asks first", true,
         false},
        {'A', "A", PGR_ACT_AUDIT, "Audit", "Audit log: what was done, refused or cancelled, newest first", false, true},
        {'w', "w", PGR_ACT_PICKER, "Window", "PITR target picker: window bars, a time cursor, events (changes nothing)",
         false, true},
        {'i', "i", PGR_ACT_INSPECT, "Inspect", "Paused recovery: the row counts at the target (also :sql QUERY)", false,
         false},
        {'t', "t", PGR_ACT_RETARGET, "Retarget", "Paused recovery: move the target later, replay goes on; asks first",
         true, false},
        {'d', "d", PGR_ACT_LEAVE, "Leave", "In a run view: leave it; the run goes on", false, false},
        {0, NULL, PGR_ACT_NONE, NULL, NULL, false, false},
};

const struct pgr_key *pgr_keymap_find(int key)
{
	/* One Enter whatever the terminal sends (nonl() gives CR, keypad KEY_ENTER). */
	if (key == '\r' || key == KEY_ENTER)
		key = '\n';
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE; k++)
		if (k->key == key)
			return k;
	return NULL;
}

const struct pgr_key *pgr_keymap_for(enum pgr_action a)
{
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE; k++)
		if (k->action == a)
			return k;
	return NULL;
}
