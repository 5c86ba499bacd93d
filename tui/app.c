/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ui.h"

int pgr_tui_run(const struct pgr_env *env, const struct pgr_tui_opts *opts)
{
	return 0;
}
