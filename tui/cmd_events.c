/* `pgrescue window` and `pgrescue events`: the recoverable window per
 * timeline, and the destructive events found in the archived WAL (with the
 * id `pgrescue pitr --before-event` takes). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "commands.h"
#include "model/catalog.h"
#include "recovery/target.h"
#include "recovery/walscan.h"
#include "storage/storage.h"

static bool open_catalog(const struct globals *g, struct pgr_config *cfg, struct pgr_env *adhoc,
                         const struct pgr_env **env, struct pgr_store **st, struct pgr_catalog *cat, int *code)
{
	struct pgr_error err = {0};
	memset(cat, 0, sizeof *cat);
	*st = NULL;
	if (!load_env(g, cfg, adhoc, env, true, &err)) {
		*code = fail_with(&err, EXIT_USAGE);
		return false;
	}
	if (!(*env)->store || !*(*env)->store) {
		pgr_error_set(&err, PGR_ERR_CONFIG, "environment \"%s\" has no store", (*env)->name);
		pgr_error_hint(&err, "Set store = file:///... in its [env] section, or pass --store.");
		*code = fail_with(&err, EXIT_USAGE);
		return false;
	}
	*st = pgr_store_open_env(*env, &err);
	if (!*st || !pgr_catalog_build(*st, cat, &err)) {
		*code = fail_with(&err, EXIT_FAIL);
		return false;
	}
	return true;
}

static void utc(time_t t, char *buf, size_t n)
{
	if (!t)
		snprintf(buf, n, "-");
	else
		pgr_time_format_utc(t, buf, n);
}

static void json_s(struct strbuf *sb, const char *s)
{
	if (!s) {
		sb_append(sb, "null");
		return;
	}
	sb_append(sb, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_printf(sb, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			sb_printf(sb, "\\u%04x", (unsigned char)*s);
		else
			sb_append_len(sb, s, 1);
	}
	sb_append(sb, "\"");
}

static void json_t(struct strbuf *sb, time_t t)
{
	if (!t) {
		sb_append(sb, "null");
		return;
	}
	struct tm tm;
	gmtime_r(&t, &tm);
	sb_printf(sb, "\"%04d-%02d-%02dT%02d:%02d:%02dZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	          tm.tm_min, tm.tm_sec);
}

int cmd_window(const struct globals *g, int argc, char **argv)
{
	bool json = g->json;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return usage_error("unknown option \"%s\" for window", argv[i]);
	}
	struct pgr_config cfg = {0};
	struct pgr_env adhoc = {0};
	const struct pgr_env *env = NULL;
	struct pgr_store *st = NULL;
	struct pgr_catalog cat;
	int code = EXIT_OK;
	if (!open_catalog(g, &cfg, &adhoc, &env, &st, &cat, &code))
		goto out;
	struct pgr_window *w = NULL;
	size_t n = pgr_catalog_windows(&cat, &w);
	struct strbuf sb = STRBUF_INIT;
	if (json)
		sb_printf(&sb, "{\"environment\":\"%s\",\"now\":", env->name);
	if (json) {
		json_t(&sb, pgr_now());
		sb_append(&sb, ",\"timelines\":[");
	}
	for (size_t i = 0; i < n; i++) {
		/* WAL coverage and base backups of this timeline. */
		size_t segs = 0;
		uint64_t bytes = 0;
		const char *first = NULL, *last = NULL;
		for (size_t k = 0; k < cat.n_wal; k++) {
			const struct pgr_walseg *s = &cat.wal[k];
			if (s->wn.kind != PGR_WAL_SEGMENT || s->wn.tli != w[i].timeline)
				continue;
			segs++;
			bytes += s->size;
			if (!first)
				first = s->name;
			last = s->name;
		}
		char e[40], l[40], sz[32];
		utc(w[i].earliest, e, sizeof e);
		utc(w[i].latest, l, sizeof l);
		pgr_size_format(bytes, sz, sizeof sz);
		if (json) {
			sb_printf(&sb, "%s{\"timeline\":%u,\"recoverable\":%s,\"earliest\":", i ? "," : "",
			          (unsigned)w[i].timeline, w[i].exists ? "true" : "false");
			json_t(&sb, w[i].exists ? w[i].earliest : 0);
			sb_append(&sb, ",\"latest\":");
			json_t(&sb, w[i].exists ? w[i].latest : 0);
			sb_append(&sb, ",\"earliest_base\":");
			json_s(&sb, w[i].earliest_base);
			sb_append(&sb, ",\"last_wal\":");
			json_s(&sb, w[i].last_wal);
			sb_append(&sb, ",\"gap_after\":");
			json_s(&sb, w[i].gap_after);
			sb_append(&sb, ",\"why_not\":");
			json_s(&sb, w[i].why_not);
			sb_printf(&sb, ",\"wal\":{\"segments\":%zu,\"bytes\":%llu,\"first\":", segs,
			          (unsigned long long)bytes);
			json_s(&sb, first);
			sb_append(&sb, ",\"last\":");
			json_s(&sb, last);
			sb_append(&sb, "},\"base_backups\":[");
		} else {
			printf("Timeline %u: ", (unsigned)w[i].timeline);
			if (w[i].exists)
				printf("recoverable from %s to %s\n", e, l);
			else
				printf("not recoverable: %s\n", w[i].why_not ? w[i].why_not : "no base backup");
			if (w[i].earliest_base)
				printf("  earliest base backup: %s\n", w[i].earliest_base);
			printf("  WAL: %zu segments (%s), %s .. %s\n", segs, sz, first ? first : "-",
			       last ? last : "-");
			if (w[i].gap_after)
				printf("  gap: segment %s is missing\n", w[i].gap_after);
		}
		size_t nb = 0;
		for (size_t k = 0; k < cat.n_bases; k++) {
			const struct pgr_base *b = &cat.bases[k];
			if (!b->complete || b->manifest.timeline != w[i].timeline)
				continue;
			char bs[40], be[40];
			utc(b->manifest.start_time, bs, sizeof bs);
			utc(b->manifest.stop_time, be, sizeof be);
			if (json) {
				sb_printf(&sb, "%s{\"label\":\"%s\",\"start\":", nb ? "," : "", b->label);
				json_t(&sb, b->manifest.start_time);
				sb_append(&sb, ",\"stop\":");
				json_t(&sb, b->manifest.stop_time);
				sb_append(&sb, "}");
			} else {
				printf("  base backup %s: ran %s .. %s\n", b->label, bs, be);
			}
			nb++;
		}
		if (json)
			sb_append(&sb, "]}");
	}
	if (json) {
		sb_append(&sb, "]}\n");
		fputs(sb_str(&sb), stdout);
	} else if (!n) {
		printf("No archived WAL: nothing is recoverable to a point in time.\n");
	}
	sb_free(&sb);
	pgr_windows_free(w, n);
out:
	pgr_catalog_free(&cat);
	if (st)
		pgr_store_close(st);
	pgr_env_free(&adhoc);
	pgr_config_free(&cfg);
	return code;
}

static volatile int g_cancel;
static void on_int(int sig)
{
	(void)sig;
	g_cancel = 1;
}

static void progress(void *ctx, size_t done, size_t total, const char *segment)
{
	(void)ctx;
	fprintf(stderr, "\r\033[Kscanning WAL: %zu/%zu segments (%s)", done, total, segment ? segment : "");
	fflush(stderr);
}

static bool parse_time(const char *opt, const char *v, time_t *out)
{
	struct pgr_target t;
	struct pgr_error err = {0};
	if (!pgr_target_parse("time", v, &t, &err)) {
		pgr_error_prefix(&err, "%s", opt);
		fail_with(&err, EXIT_USAGE);
		return false;
	}
	*out = t.time;
	return true;
}

int cmd_events(const struct globals *g, int argc, char **argv)
{
	bool json = g->json;
	struct pgr_walscan_opts o;
	pgr_walscan_opts_default(&o);
	const char *since = NULL, *until = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(a, "--since") || !strcmp(a, "--until") || !strcmp(a, "--min-rows")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--since"))
				since = v;
			else if (!strcmp(a, "--until"))
				until = v;
			else {
				char *end;
				long long n = strtoll(v, &end, 10);
				if (*end || n < 1)
					return usage_error("--min-rows takes a positive number, not \"%s\"", v);
				o.min_rows = n;
			}
			continue;
		}
		return usage_error("unknown option \"%s\" for events", a);
	}
	if (!since)
		return usage_error("events needs --since TIME (with its zone: 2026-11-24 03:00:00+01, or Z for UTC)");
	if (!parse_time("--since", since, &o.since))
		return EXIT_USAGE;
	if (until && !parse_time("--until", until, &o.until))
		return EXIT_USAGE;
	struct pgr_config cfg = {0};
	struct pgr_env adhoc = {0};
	const struct pgr_env *env = NULL;
	struct pgr_store *st = NULL;
	struct pgr_catalog cat;
	int code = EXIT_OK;
	if (!open_catalog(g, &cfg, &adhoc, &env, &st, &cat, &code))
		goto out;
	bool tty = isatty(STDERR_FILENO);
	if (tty)
		o.progress = progress;
	struct sigaction sa = {0}, old;
	sa.sa_handler = on_int;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	o.cancel = &g_cancel;
	struct pgr_event_list ev;
	struct pgr_walscan_stats stats;
	struct pgr_error err = {0};
	bool ok = pgr_walscan_events(env, st, &cat, &o, &ev, &stats, &err);
	sigaction(SIGINT, &old, NULL);
	if (tty)
		fprintf(stderr, "\r\033[K");
	if (!ok) {
		code = fail_with(&err, EXIT_FAIL);
		goto out;
	}
	char sz[32];
	pgr_size_format(stats.bytes, sz, sizeof sz);
	if (json) {
		printf("{\"environment\":\"%s\",\"segments_scanned\":%zu,\"bytes_scanned\":%llu,\"seconds\":%.3f,"
		       "\"min_rows\":%lld,\"events\":[",
		       env->name, stats.segments, (unsigned long long)stats.bytes, stats.seconds,
		       (long long)o.min_rows);
		for (size_t i = 0; i < ev.n; i++) {
			char *j = pgr_event_json(&ev.v[i]);
			printf("%s%s", i ? "," : "", j);
			free(j);
		}
		printf("]}\n");
	} else {
		fprintf(stderr, "Scanned %zu WAL segments (%s) in %.1f s.\n", stats.segments, sz, stats.seconds);
		if (!ev.n)
			printf("No destructive events in that time range.\n");
		for (size_t i = 0; i < ev.n; i++) {
			char *l = pgr_event_line(&ev.v[i]);
			printf("%s\n", l);
			free(l);
		}
		if (ev.n)
			printf("\nRecover to just before one: pgrescue pitr --before-event ID\n");
	}
	pgr_event_list_free(&ev);
out:
	pgr_catalog_free(&cat);
	if (st)
		pgr_store_close(st);
	pgr_env_free(&adhoc);
	pgr_config_free(&cfg);
	return code;
}
