/* The audit log: one JSON line per intent, outcome, refusal or cancellation,
 * each carrying the SHA-256 (HMAC-SHA-256 when a key file is configured) of
 * the record before it, appended under an exclusive lock and fsync'd. A
 * sidecar "<log>.head" holds the last sequence number and hash, so that
 * cutting lines off the end is detected too. */
#ifndef PGR_AUDIT_H
#define PGR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "settings.h"

/* What a record says. Every string may be NULL (written as null / left out).
 * Secrets must already be redacted by the caller (pgr_redact_conninfo). */
struct pgr_audit_event {
	const char *env; /* environment name */
	const char *incident; /* incident id, asked at the start */
	const char *reason;
	const char *run; /* run id, NULL outside a run */
	const char *plan; /* "restore", "pitr", "audit", ... */
	const char *step; /* step id ("scale-down"), NULL for run-level records */
	const char *phase; /* "intent", "outcome", "refused", "cancelled", "run-start", "run-end" */
	const char *command; /* the exact command or API call */
	const char *outcome; /* "ok", "failed", "skipped" (already done), "refused", "cancelled"; NULL for intent */
	const char *detail; /* error text, counts, ... */
	int64_t duration_ms; /* -1: not applicable */
};

struct pgr_audit {
	char *path;
	char *key; /* HMAC key bytes (NULL: plain SHA-256) */
	size_t key_len;
};

/* The log at path (NULL: "<state dir>/audit.log"); key_file (NULL or ""): no
 * HMAC. The key file must not be readable by others. */
bool pgr_audit_open(struct pgr_audit *a, const char *path, const char *key_file, struct pgr_error *err);
void pgr_audit_close(struct pgr_audit *a);
/* Append one record: adds seq, time (UTC RFC 3339 with milliseconds), user
 * (OS user), sudo_user ($SUDO_USER), host, pid, prev and hash. fsyncs the log
 * and the head file before returning. */
bool pgr_audit_append(struct pgr_audit *a, const struct pgr_audit_event *ev, struct pgr_error *err);

/* One record outside a run: a refused or cancelled plan. Opens the
 * environment's log (audit_log, audit_key_file), appends, closes. */
bool pgr_audit_decision(const struct pgr_env *env, const char *plan, const char *incident, const char *reason,
                        const char *phase, const char *command, const char *detail, struct pgr_error *err);

struct pgr_audit_verdict {
	bool ok;
	size_t records; /* lines read */
	size_t first_bad_line; /* 1-based; 0 when ok */
	char problem[512]; /* "line 7: hash does not match its content (edited?)" */
};
/* Check the whole chain and the head file. False only when the log cannot
 * be read; tampering is reported in *v. */
bool pgr_audit_verify(const struct pgr_audit *a, struct pgr_audit_verdict *v, struct pgr_error *err);

struct pgr_audit_filter {
	const char *env; /* NULL: every environment */
	const char *run;
	size_t last; /* only the last N records (0: all) */
};
/* Human-readable listing: time, user, env, incident, step, phase, outcome, command. */
bool pgr_audit_show(const struct pgr_audit *a, const struct pgr_audit_filter *f, FILE *out, struct pgr_error *err);
/* The records as parsed JSON text lines (for the TUI's audit screen), newest
 * last; *lines is an array of n newly allocated strings. */
bool pgr_audit_read(const struct pgr_audit *a, const struct pgr_audit_filter *f, char ***lines, size_t *n,
                    struct pgr_error *err);

#endif
