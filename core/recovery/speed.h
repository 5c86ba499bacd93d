/* How fast this machine replays WAL, measured from the environment's past
 * point-in-time recovery runs: the WAL from the base backup's start to
 * where replay stopped, over the time the server took to start and replay
 * it. The picker turns WAL bytes into an estimate with it. */
#ifndef PGR_SPEED_H
#define PGR_SPEED_H

#include <stdbool.h>
#include <stddef.h>

/* The median speed (bytes per second) of the newest runs (at most 5) of
 * env that replayed to a stop point; false when none has. *runs says how
 * many were measured. Reads the state directory only. */
bool pgr_replay_speed(const char *env, double *bps, size_t *runs);

#endif
