/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/sandbox.h"

void pgr_sandbox_opts_default(struct pgr_sandbox_opts *o)
{
}

char * pgr_sandbox_dir(const char *override)
{
	return NULL;
}

bool pgr_sandbox_up(const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	return false;
}

bool pgr_sandbox_down(const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	return false;
}

bool pgr_sandbox_status(const struct pgr_sandbox_opts *o, struct pgr_error *err)
{
	return false;
}

