/* The recovery wizards (restore, point-in-time recovery), a run's view, the
 * banner offering to resume an unfinished run, and the audit screen's data.
 * Every key reaches them through app.c's one dispatcher, after its
 * read-only gate: nothing here starts a plan in the monitor because nothing
 * here is reached for a dangerous action there. */
#ifndef PGR_WIZARD_H
#define PGR_WIZARD_H

#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "keymap.h"

/* Open the restore wizard (pitr false) or the PITR wizard. arg: the rest of
 * `:restore LABEL` (the dump to select) or `:pitr TARGET` (the target to
 * start from); NULL or "" for none. */
void pgr_wiz_open(struct pgr_console *c, bool pitr, const char *arg);
/* w or `:window`: the target picker on its own (the PITR wizard's target
 * step): bars, cursor, events. Enter hands the target to the PITR wizard,
 * or in the monitor only shows it and makes y copy the command. */
void pgr_wiz_open_picker(struct pgr_console *c, const char *arg);
/* `:sql QUERY` in the view of a PITR run paused at its target: run it
 * read-only on that server (in the background); false when no such view is open. */
bool pgr_wiz_sql(struct pgr_console *c, const char *sql);
/* U: the run the banner (or the open run view) names: a running one is
 * shown; an interrupted, failed, cancelled or waiting one is resumed after
 * the environment's name is typed. */
void pgr_wiz_resume(struct pgr_console *c);
/* Close the wizard (a run goes on without it). */
void pgr_wiz_close(struct pgr_console *c);
/* The run the open run view shows when it is still running (for the
 * goodbye line): copies its id into buf. */
bool pgr_wiz_running_run(const struct pgr_console *c, char *buf, size_t n);
/* At exit: wait for plan workers still checking, free everything. */
void pgr_wiz_shutdown(struct pgr_console *c);

/* A key while a text field has the focus (characters, Backspace, C-u, C-w):
 * true when the field took it. Other keys go through the key table. */
bool pgr_wiz_text_key(struct pgr_console *c, int ch);
/* A key-table action while the wizard is open: true when the wizard used it. */
bool pgr_wiz_action(struct pgr_console *c, enum pgr_action a);
/* Once per loop turn: worker results, the run's state. True when the screen changed. */
bool pgr_wiz_tick(struct pgr_console *c);
/* The longest the loop may sleep before the next tick (ms); -1: no need. */
int pgr_wiz_wait_ms(const struct pgr_console *c);
/* Draw rows [top, bottom) and the key line at the last row. */
void pgr_wiz_draw(struct pgr_console *c, int top, int bottom);

/* Look at this environment's runs (at most every few seconds unless force):
 * sets c->banner when the newest is unfinished. */
void pgr_runs_scan(struct pgr_console *c, bool force);

/* The audit screen: (re)read the environment's audit log and verify it. */
void pgr_audit_screen_load(struct pgr_console *c);
void pgr_audit_screen_free(struct pgr_console *c);

#endif
