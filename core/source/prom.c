/* Prometheus HTTP API (see prom.h): request URLs and answers parsed with
 * cJSON. Every answer is checked for shape before use, since a proxy or a
 * wrong port may answer with anything. */
#include "config.h"

#include "source/prom.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"

static const struct {
	const char *name, *query;
} metrics[PGR_PM_N] = {
        [PGR_PM_BACKUP_SUCCESS] = {"postgres_backup_success", "min(postgres_backup_success)"},
        [PGR_PM_BACKUP_TIMESTAMP] = {"postgres_backup_timestamp", "max(postgres_backup_timestamp)"},
        [PGR_PM_BACKUP_SIZE] = {"postgres_backup_size_bytes", "max(postgres_backup_size_bytes)"},
        [PGR_PM_RESTORE_SUCCESS] = {"postgres_restore_test_success", "min(postgres_restore_test_success)"},
        [PGR_PM_RESTORE_TIMESTAMP] = {"postgres_restore_test_timestamp", "max(postgres_restore_test_timestamp)"},
        [PGR_PM_RESTORE_DURATION] = {"postgres_restore_test_duration_seconds",
                                     "max(postgres_restore_test_duration_seconds)"},
        [PGR_PM_RESTORE_CLIP_COUNT] = {"postgres_restore_test_clip_count", "max(postgres_restore_test_clip_count)"},
        [PGR_PM_RESTORE_USER_COUNT] = {"postgres_restore_test_user_count", "max(postgres_restore_test_user_count)"},
        [PGR_PM_STORAGE_USED] = {"backup_storage_used_bytes", "max(backup_storage_used_bytes)"},
        [PGR_PM_STORAGE_TOTAL] = {"backup_storage_total_bytes", "max(backup_storage_total_bytes)"},
};

const char *pgr_prom_metric_name(enum pgr_prom_metric m)
{
	return (unsigned)m < PGR_PM_N ? metrics[m].name : "?";
}

const char *pgr_prom_metric_query(enum pgr_prom_metric m)
{
	return (unsigned)m < PGR_PM_N ? metrics[m].query : "?";
}

char *pgr_prom_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '.' || *p == '_' || *p == '~') {
			sb_append_len(&sb, (const char *)p, 1);
		} else {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			sb_append_len(&sb, esc, 3);
		}
	}
	return sb_steal(&sb);
}

/* The base without trailing slashes. */
static size_t base_len(const char *base)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	return n;
}

char *pgr_prom_query_url(const char *base, const char *promql)
{
	char *q = pgr_prom_urlencode(promql);
	char *url = xasprintf("%.*s/api/v1/query?query=%s", (int)base_len(base), base, q);
	free(q);
	return url;
}

char *pgr_prom_alerts_url(const char *base)
{
	return xasprintf("%.*s/api/v1/alerts", (int)base_len(base), base);
}

char *pgr_prom_redact_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *host = scheme ? scheme + 3 : url;
	size_t hostpart = strcspn(host, "/?#");
	const char *at = NULL;
	for (const char *p = host; p < host + hostpart; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

/* Parse the envelope: {"status":"success","data":...} or an error answer. */
static cJSON *parse_envelope(const char *text, size_t len, const char *what, cJSON **data, struct pgr_error *err)
{
	const char *end = NULL;
	cJSON *root = text ? cJSON_ParseWithLengthOpts(text, len, &end, false) : NULL;
	if (!root) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s is not JSON (parse error at byte %zu of %zu)", what,
		              at, len);
		/* The first bytes usually say what answered instead (an HTML proxy page, a login form). */
		size_t show = len < 120 ? len : 120;
		char buf[121];
		size_t k = 0;
		for (size_t i = 0; i < show && text; i++)
			buf[k++] = (text[i] >= 32 && text[i] < 127) ? text[i] : ' ';
		buf[k] = '\0';
		if (k)
			pgr_error_detail(err, "the answer began: %s", buf);
		pgr_error_hint(err,
		               "Is the prometheus URL in the configuration the Prometheus server itself (port 9090), "
		               "not a proxy or the Pushgateway?");
		return NULL;
	}
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsString(status)) {
		pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s is not a Prometheus API answer (no \"status\")",
		              what);
		pgr_error_hint(err, "Is the prometheus URL in the configuration the Prometheus server (port 9090)?");
		cJSON_Delete(root);
		return NULL;
	}
	if (strcmp(status->valuestring, "success") != 0) {
		const cJSON *etype = cJSON_GetObjectItemCaseSensitive(root, "errorType");
		const cJSON *emsg = cJSON_GetObjectItemCaseSensitive(root, "error");
		pgr_error_set(err, PGR_ERR_TOOL, "Prometheus answered %s with an error (%s): %s", what,
		              cJSON_IsString(etype) ? etype->valuestring : status->valuestring,
		              cJSON_IsString(emsg) ? emsg->valuestring : "no message");
		cJSON_Delete(root);
		return NULL;
	}
	*data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(*data)) {
		pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s has no \"data\" object", what);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* A sample [<time>, "<value>"]. */
static bool parse_sample(const cJSON *pair, const char *what, double *value, double *t, struct pgr_error *err)
{
	const cJSON *tm = cJSON_GetArrayItem(pair, 0);
	const cJSON *v = cJSON_GetArrayItem(pair, 1);
	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(tm) || !cJSON_IsString(v))
		return pgr_error_set(err, PGR_ERR_TOOL,
		                     "the answer to %s has a sample that is not [<time>, \"<value>\"]", what);
	char *end = NULL;
	double d = strtod(v->valuestring, &end);
	if (end == v->valuestring || *end != '\0')
		return pgr_error_set(err, PGR_ERR_TOOL,
		                     "the answer to %s has a sample value \"%.40s\" that is not a number", what,
		                     v->valuestring);
	*value = d;
	*t = tm->valuedouble;
	return true;
}

bool pgr_prom_parse_query(const char *text, size_t len, const char *what, bool *found, double *value,
                          double *sample_time, int *n_series, struct pgr_error *err)
{
	cJSON *data = NULL;
	*found = false;
	*value = NAN;
	*sample_time = 0;
	if (n_series)
		*n_series = 0;
	cJSON *root = parse_envelope(text, len, what, &data, err);
	if (!root)
		return false;
	bool ok = false;
	const cJSON *rtype = cJSON_GetObjectItemCaseSensitive(data, "resultType");
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(data, "result");
	if (!cJSON_IsString(rtype)) {
		pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s has no resultType", what);
	} else if (!strcmp(rtype->valuestring, "scalar")) {
		ok = parse_sample(result, what, value, sample_time, err);
		*found = ok;
		if (ok && n_series)
			*n_series = 1;
	} else if (!strcmp(rtype->valuestring, "vector")) {
		if (!cJSON_IsArray(result)) {
			pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s has a vector result that is not a list",
			              what);
		} else {
			int n = cJSON_GetArraySize(result);
			ok = true;
			if (n > 0) {
				const cJSON *first = cJSON_GetArrayItem(result, 0);
				ok = parse_sample(cJSON_GetObjectItemCaseSensitive(first, "value"), what, value,
				                  sample_time, err);
				*found = ok;
			}
			if (ok && n_series)
				*n_series = n;
		}
	} else {
		pgr_error_set(err, PGR_ERR_TOOL, "the answer to %s is a %s, not an instant vector", what,
		              rtype->valuestring);
	}
	if (!ok) {
		*found = false;
		*value = NAN;
	}
	cJSON_Delete(root);
	return ok;
}

bool pgr_prom_parse_alerts(const char *text, size_t len, char (**names)[64], int *n, struct pgr_error *err)
{
	cJSON *data = NULL;
	*names = NULL;
	*n = 0;
	cJSON *root = parse_envelope(text, len, "/api/v1/alerts", &data, err);
	if (!root)
		return false;
	const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(data, "alerts");
	if (!cJSON_IsArray(alerts)) {
		cJSON_Delete(root);
		return pgr_error_set(err, PGR_ERR_TOOL, "the answer to /api/v1/alerts has no \"alerts\" list");
	}
	int cap = cJSON_GetArraySize(alerts);
	char(*out)[64] = xcalloc(cap > 0 ? (size_t)cap : 1, sizeof *out);
	int count = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, alerts)
	{
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(a, "state");
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(a, "labels");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(labels, "alertname");
		if (!cJSON_IsString(state) || !cJSON_IsString(name)) {
			free(out);
			cJSON_Delete(root);
			return pgr_error_set(
			        err, PGR_ERR_TOOL,
			        "the answer to /api/v1/alerts has an alert without state or labels.alertname");
		}
		if (strcmp(state->valuestring, "firing") != 0)
			continue; /* "pending": its `for:` has not elapsed */
		bool dup = false;
		for (int i = 0; i < count && !dup; i++)
			dup = !strcmp(out[i], name->valuestring);
		if (dup)
			continue;
		size_t l = strlen(name->valuestring);
		if (l > 63)
			l = 63;
		memcpy(out[count], name->valuestring, l);
		out[count][l] = '\0';
		count++;
	}
	cJSON_Delete(root);
	*names = out;
	*n = count;
	return true;
}
