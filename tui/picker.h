/* The PITR target picker's parts: the recoverable window drawn as one
 * horizontal bar per timeline (WAL coverage, holes, base backups, now, the
 * cursor), the verdict block for the time under the cursor, and the
 * background scan for destructive events. The wizard's target step uses
 * them; `:window` opens that step on its own (also in the monitor, where it
 * only shows and copies a target). */
#ifndef PGR_PICKER_H
#define PGR_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "model/health.h"
#include "recovery/target.h"
#include "recovery/walscan.h"
#include "settings.h"

/* The time axis the bars cover: from a little before the first recoverable
 * point (or the first archived segment) to now. False when the store has
 * nothing to draw. */
bool pgr_picker_axis(const struct pgr_catalog *cat, time_t now, time_t *from, time_t *to);
/* Draw the bars (a legend line, one row per timeline, the cursor row, the
 * axis labels); at most max_rows rows. Returns the rows used. */
int pgr_picker_draw_bars(const struct pgr_facts *f, bool has_cursor, time_t cursor, int y, int x, int width,
                         int max_rows, bool unicode);

/* The background scan for destructive events (pgr_walscan_events over the
 * environment's store, in a thread of its own: the screen never waits). */
struct pgr_evscan;
struct pgr_evscan *pgr_evscan_start(const struct pgr_env *env, time_t since, int64_t min_rows);
/* Progress so far: segments read of the total, and whether it ended. */
void pgr_evscan_progress(struct pgr_evscan *s, size_t *done, size_t *total, bool *finished);
/* Ask it to stop; it ends soon with "cancelled". */
void pgr_evscan_cancel(struct pgr_evscan *s);
/* Once finished: the events (newest last) or the error. */
const struct pgr_event_list *pgr_evscan_events(const struct pgr_evscan *s);
const struct pgr_error *pgr_evscan_error(const struct pgr_evscan *s);
bool pgr_evscan_ok(const struct pgr_evscan *s);
/* Cancel (if running), wait for the thread, free. */
void pgr_evscan_free(struct pgr_evscan *s);

#endif
