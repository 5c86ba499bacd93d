/* pg_waldump, as both the collector (the last archived commit) and walscan
 * (destructive events) run it: the program in the server's bindir, in UTC
 * and the C locale, and the commit time in its Transaction records. */
#ifndef PGR_WALDUMP_H
#define PGR_WALDUMP_H

#include <stdbool.h>
#include <time.h>

/* "<pg_bindir>/pg_waldump" ("./pg_waldump" without a bindir); newly allocated. */
char *pgr_waldump_path(const char *pg_bindir);
/* The environment to run it with: TZ=UTC (its times then say UTC), LC_ALL=C. */
extern const char *const pgr_waldump_env[];
/* The commit time in a Transaction record's description ("COMMIT 2026-11-24
 * 06:36:11.760091 UTC; ...", "COMMIT_PREPARED 740: 2026-...", "ABORT ..."),
 * read as UTC. usec may be NULL. False when the description has none. */
bool pgr_waldump_commit_time(const char *desc, time_t *t, int *usec);

#endif
