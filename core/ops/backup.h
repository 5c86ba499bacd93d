/* `pgrescue backup`: the daily job. A logical dump (pg_dump -Fc, consistent
 * with exact per-table row counts through an exported snapshot) and a
 * physical base backup (pg_basebackup -Ft -X none with its manifest), both
 * with pgrescue manifests; then retention; then metrics (success 0 too). */
#ifndef PGR_BACKUP_H
#define PGR_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "settings.h"

struct pgr_backup_opts {
	bool dump; /* default true */
	bool base; /* default true */
	bool retention; /* apply retention after a good backup (default true) */
	bool quiet; /* no progress lines on stderr */
};

struct pgr_backup_result {
	bool ok;
	char label[32];
	char *dump_key;
	char *base_prefix;
	uint64_t dump_size;
	uint64_t base_size;
	double seconds;
	int deleted; /* objects removed by retention */
};

void pgr_backup_opts_default(struct pgr_backup_opts *o);
bool pgr_backup_run(const struct pgr_env *env, const struct pgr_backup_opts *opts, struct pgr_backup_result *res,
                    struct pgr_error *err);
void pgr_backup_result_free(struct pgr_backup_result *res);

#endif
