/* Errors as values: what failed, the tool's or server's own words, and a hint.
 * Every fallible core function returns bool and fills a struct pgr_error;
 * only tui/main.c turns errors into exit codes. */
#ifndef PGR_ERROR_H
#define PGR_ERROR_H

#include <stdbool.h>
#include <stdio.h>

#define PGR_ERR_MSG_MAX 1024
#define PGR_ERR_DETAIL_MAX 2048
#define PGR_ERR_HINT_MAX 1024

/* Broad classes so callers (and exit codes) can react without parsing text. */
enum pgr_errkind {
	PGR_ERR_NONE = 0,
	PGR_ERR_USAGE, /* bad command line or input value */
	PGR_ERR_CONFIG, /* bad configuration file */
	PGR_ERR_IO, /* local file system */
	PGR_ERR_STORE, /* backup store */
	PGR_ERR_DB, /* database connection or query */
	PGR_ERR_TOOL, /* an external program failed */
	PGR_ERR_NOTFOUND, /* the named thing does not exist */
	PGR_ERR_CONFLICT, /* exists and differs (e.g. a WAL segment) */
	PGR_ERR_INTERNAL,
};

struct pgr_error {
	enum pgr_errkind kind;
	char msg[PGR_ERR_MSG_MAX];
	char detail[PGR_ERR_DETAIL_MAX];
	char hint[PGR_ERR_HINT_MAX];
};

/* Set the message (clears detail and hint). Always returns false, so that
 * `return pgr_error_set(err, ...)` reads naturally in bool functions. err may be NULL. */
bool pgr_error_set(struct pgr_error *err, enum pgr_errkind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Set the message with strerror(errno_value) appended as ": <text>". */
bool pgr_error_errno(struct pgr_error *err, int errno_value, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void pgr_error_detail(struct pgr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pgr_error_hint(struct pgr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the message with context: "loading config: <old message>". */
void pgr_error_prefix(struct pgr_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pgr_error_clear(struct pgr_error *err);
bool pgr_error_isset(const struct pgr_error *err);
/* "pgrescue: ERROR: msg\nDETAIL: ...\nHINT: ...\n" */
void pgr_error_print(FILE *out, const struct pgr_error *err);

#endif
