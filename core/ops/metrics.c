/* The runbook's backup gauges in Prometheus text format: formatted here,
 * written atomically for a textfile collector, and PUT to a Pushgateway.
 * A failed run is reported too, which the deployment's own job never does. */
#include "config.h"

#include "ops/metrics.h"

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <curl/curl.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest text that reads back as the same double; integers without an exponent. */
static void fmt_value(double v, char *buf, size_t n)
{
	if (isnan(v)) {
		snprintf(buf, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(int64_t)v == v) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* HELP text escapes backslash and newline. */
static void append_help(struct strbuf *sb, const char *help)
{
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			sb_append(sb, "\\\\");
		else if (*p == '\n')
			sb_append(sb, "\\n");
		else
			sb_append_len(sb, p, 1);
	}
}

char *pgr_metrics_format(const struct pgr_metric *m, int n)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < n; i++) {
		char val[64];
		fmt_value(m[i].value, val, sizeof val);
		if (m[i].help && *m[i].help) {
			sb_printf(&sb, "# HELP %s ", m[i].name);
			append_help(&sb, m[i].help);
			sb_append(&sb, "\n");
		}
		sb_printf(&sb, "# TYPE %s gauge\n%s %s\n", m[i].name, m[i].name, val);
	}
	return sb_steal(&sb);
}

bool pgr_metrics_write_file(const char *path, const struct pgr_metric *m, int n, struct pgr_error *err)
{
	char *dir = xstrdup(path);
	bool ok = pgr_mkdir_p(dirname(dir), 0755, err);
	free(dir);
	if (!ok) {
		pgr_error_prefix(err, "cannot write metrics file \"%s\"", path);
		return false;
	}
	char *text = pgr_metrics_format(m, n);
	/* 0644: a node_exporter textfile collector usually runs as another user. */
	ok = pgr_write_file_atomic(path, text, strlen(text), 0644, err);
	free(text);
	if (!ok)
		pgr_error_hint(err, "Check metrics_file in the config: its directory must be writable.");
	return ok;
}

/* The URL with any user:password@ replaced, for messages. */
static char *redact_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	if (!scheme)
		return xstrdup(url);
	const char *host = scheme + 3;
	const char *slash = strchr(host, '/');
	const char *at = strchr(host, '@');
	if (!at || (slash && at > slash))
		return xstrdup(url);
	return xasprintf("%.*s***@%s", (int)(host - url), url, at + 1);
}

struct body {
	struct strbuf sb;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t len = size * nmemb;
	if (b->sb.len < 2048)
		sb_append_len(&b->sb, data, len < 2048 ? len : 2048);
	return len;
}

bool pgr_metrics_push(const char *gateway, const char *job, const struct pgr_metric *m, int n, int timeout_sec,
                      struct pgr_error *err)
{
	if (strncmp(gateway, "http://", 7) != 0 && strncmp(gateway, "https://", 8) != 0) {
		char *shown = redact_url(gateway);
		pgr_error_set(err, PGR_ERR_CONFIG, "pushgateway \"%s\" is not an http:// or https:// URL", shown);
		pgr_error_hint(err, "Set pushgateway in the config to e.g. http://prometheus-pushgateway:9091");
		free(shown);
		return false;
	}
	if (timeout_sec <= 0)
		timeout_sec = 10;
	CURL *c = curl_easy_init();
	if (!c)
		return pgr_error_set(err, PGR_ERR_INTERNAL, "cannot initialise libcurl to push metrics");
	size_t glen = strlen(gateway);
	while (glen > 0 && gateway[glen - 1] == '/')
		glen--;
	char *ejob = curl_easy_escape(c, job, 0);
	char *url = xasprintf("%.*s/metrics/job/%s", (int)glen, gateway, ejob ? ejob : job);
	curl_free(ejob);
	char *shown = redact_url(url);
	char *text = pgr_metrics_format(m, n);
	struct body resp = {STRBUF_INIT};
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: text/plain; version=0.0.4; charset=utf-8");

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(timeout_sec < 10 ? timeout_sec : 10));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)timeout_sec);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pgrescue/" PACKAGE_VERSION);

	bool ok = true;
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	if (rc != CURLE_OK) {
		ok = pgr_error_set(err, PGR_ERR_STORE, "cannot push metrics to %s: %s", shown, curl_easy_strerror(rc));
		pgr_error_hint(err, "Is the Pushgateway running and reachable? Check pushgateway in the config.");
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299) {
			ok = pgr_error_set(err, PGR_ERR_STORE, "Pushgateway %s answered HTTP %ld", shown, status);
			pgr_error_detail(err, "%s", sb_str(&resp.sb));
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	sb_free(&resp.sb);
	free(text);
	free(shown);
	free(url);
	return ok;
}

void pgr_metrics_backup(const struct pgr_backup_metrics *in, struct pgr_metric *out)
{
	bool s = in->success;
	out[0] = (struct pgr_metric){"postgres_backup_success", "1 if the last backup run succeeded, 0 if it failed",
	                             s ? 1.0 : 0.0};
	out[1] = (struct pgr_metric){"postgres_backup_timestamp", "Unix time at the end of the last successful backup",
	                             (double)(s ? in->attempt_end : in->last_success)};
	out[2] = (struct pgr_metric){"postgres_backup_size_bytes", "Size of the last successful logical dump in bytes",
	                             (double)(s ? in->dump_size : in->last_dump_size)};
	out[3] = (struct pgr_metric){"pgrescue_backup_base_size_bytes",
	                             "Size of the last successful physical base backup in bytes",
	                             (double)(s ? in->base_size : in->last_base_size)};
	out[4] = (struct pgr_metric){"pgrescue_backup_duration_seconds", "Duration of the last backup run in seconds",
	                             in->duration_seconds};
	out[5] = (struct pgr_metric){"pgrescue_backup_last_attempt_timestamp",
	                             "Unix time at the end of the last backup run, successful or not",
	                             (double)in->attempt_end};
}

bool pgr_metrics_parse_value(const char *text, const char *name, double *value)
{
	size_t nl = strlen(name);
	const char *p = text;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		if (*p != '#' && !strncmp(p, name, nl) && (p[nl] == ' ' || p[nl] == '\t')) {
			char *end;
			double v = strtod(p + nl, &end);
			if (end != p + nl) {
				*value = v;
				return true;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}
