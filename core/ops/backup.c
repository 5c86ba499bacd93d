/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "ops/backup.h"

void pgr_backup_opts_default(struct pgr_backup_opts *o)
{
}

bool pgr_backup_run(const struct pgr_env *env, const struct pgr_backup_opts *opts, struct pgr_backup_result *res, struct pgr_error *err)
{
	return false;
}

void pgr_backup_result_free(struct pgr_backup_result *res)
{
}

