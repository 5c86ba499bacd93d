/* Replay speed from past runs' plans and journals. */
#include "config.h"

#include "recovery/speed.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "recovery/plan.h"
#include "recovery/runner.h"
#include "storage/layout.h"

/* The stop_lsn fact from a run's journal; false when it has none. */
static bool journal_stop_lsn(const char *dir, uint64_t *lsn)
{
	char *path = xasprintf("%s/journal.jsonl", dir);
	char *text = NULL;
	bool found = false;
	if (pgr_read_file(path, &text, NULL, NULL)) {
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strstr(line, "\"stop_lsn\""))
				continue;
			cJSON *ev = cJSON_Parse(line);
			const cJSON *v = ev ? cJSON_GetObjectItemCaseSensitive(ev, "value") : NULL;
			if (cJSON_IsString(v) && pgr_lsn_parse(v->valuestring, lsn))
				found = true;
			cJSON_Delete(ev);
		}
	}
	free(text);
	free(path);
	return found;
}

static uint64_t plan_base_start_lsn(const char *dir)
{
	char *path = xasprintf("%s/plan.json", dir);
	char *text = NULL;
	uint64_t lsn = 0;
	if (pgr_read_file(path, &text, NULL, NULL)) {
		struct pgr_plan p;
		if (pgr_plan_from_json(text, path, &p, NULL)) {
			const char *v = pgr_kv_get(&p.params, "base_start_lsn");
			lsn = v ? strtoull(v, NULL, 10) : 0;
			pgr_plan_free(&p);
		}
	}
	free(text);
	free(path);
	return lsn;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

bool pgr_replay_speed(const char *env, double *bps, size_t *runs)
{
	*bps = 0;
	*runs = 0;
	struct pgr_run_info *v = NULL;
	size_t n = 0;
	if (!pgr_runs_list(env, &v, &n, NULL))
		return false;
	double got[5];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 5; i++) {
		if (!v[i].kind || strcmp(v[i].kind, "pitr") != 0)
			continue;
		double secs = 0;
		bool replayed = false;
		for (size_t s = 0; s < v[i].n_steps; s++) {
			const struct pgr_run_step_info *st = &v[i].steps[s];
			if (!strcmp(st->id, "start-recovery") || !strcmp(st->id, "replay"))
				secs += st->seconds;
			if (!strcmp(st->id, "replay"))
				replayed = st->state == PGR_STEP_DONE;
		}
		uint64_t stop = 0, start = plan_base_start_lsn(v[i].dir);
		if (!replayed || secs < 0.5 || !start || !journal_stop_lsn(v[i].dir, &stop) || stop <= start)
			continue;
		got[k++] = (double)(stop - start) / secs;
	}
	pgr_runs_free(v, n);
	if (!k)
		return false;
	qsort(got, k, sizeof got[0], cmp_double);
	*bps = k % 2 ? got[k / 2] : (got[k / 2 - 1] + got[k / 2]) / 2;
	*runs = k;
	return true;
}
