/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "source/collect.h"

struct pgr_collector *pgr_collector_start(const struct pgr_env *env, const struct pgr_collector_opts *opts,
                                          struct pgr_error *err)
{
	return NULL;
}

struct pgr_snapshot *pgr_collector_snapshot(struct pgr_collector *c)
{
	return NULL;
}

void pgr_snapshot_release(struct pgr_snapshot *s)
{
}

int pgr_collector_fd(struct pgr_collector *c)
{
	return 0;
}

void pgr_collector_ack(struct pgr_collector *c)
{
}

void pgr_collector_set_interval(struct pgr_collector *c, int interval_ms)
{
}

void pgr_collector_pause(struct pgr_collector *c, bool paused)
{
}

void pgr_collector_refresh_now(struct pgr_collector *c)
{
}

void pgr_collector_stop(struct pgr_collector *c)
{
}
