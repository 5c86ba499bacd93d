/* Child processes started from an argv, never through a shell: pg_dump,
 * pg_basebackup, pg_ctl, initdb. Optionally as another user (root -> postgres),
 * with captured or redirected output and a timeout. */
#ifndef PGR_PROC_H
#define PGR_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/strbuf.h"

enum pgr_proc_io {
	PGR_IO_DEFAULT = 0, /* pgr_proc_run: captured through a pipe; pgr_proc_start: /dev/null */
	PGR_IO_NULL, /* /dev/null */
	PGR_IO_PIPE, /* a pipe the parent reads (stdout/stderr) */
	PGR_IO_FD, /* the given descriptor */
	PGR_IO_INHERIT, /* the parent's own */
};

struct pgr_proc_spec {
	const char *const *argv;
	const char *run_as; /* user name; applied only when running as root (NULL: self) */
	const char *cwd; /* NULL: unchanged */
	const char *const *env; /* extra "NAME=value" entries, NULL-terminated; may be NULL */
	int stdin_fd; /* -1: /dev/null */
	enum pgr_proc_io out;
	int out_fd;
	enum pgr_proc_io err;
	int err_fd;
	bool detach; /* setsid(), for daemons that outlive us */
};

struct pgr_proc {
	pid_t pid;
	int out_fd; /* read end when out == PGR_IO_PIPE, else -1 */
	int err_fd;
};

struct pgr_proc_result {
	int exit_code; /* -1 when killed by a signal */
	int term_signal; /* the signal, when killed */
	bool timed_out;
	struct strbuf out;
	struct strbuf err; /* the last 64 KiB of stderr */
};

/* Start a child. */
bool pgr_proc_start(const struct pgr_proc_spec *spec, struct pgr_proc *proc, struct pgr_error *err);
/* Drain its pipes into res and wait; timeout_sec 0 waits for ever. On timeout
 * the child's process group gets SIGTERM then SIGKILL and res->timed_out is set. */
bool pgr_proc_finish(struct pgr_proc *proc, int timeout_sec, struct pgr_proc_result *res, struct pgr_error *err);
/* Start, capture stdout and stderr, wait. False only when it could not run. */
bool pgr_proc_run(const struct pgr_proc_spec *spec, int timeout_sec, struct pgr_proc_result *res,
                  struct pgr_error *err);
/* True when res is a clean exit 0; else fills err with "<what> failed" and stderr as detail. */
bool pgr_proc_ok(const struct pgr_proc_result *res, const char *what, struct pgr_error *err);
void pgr_proc_result_free(struct pgr_proc_result *res);
/* "initdb -D /x --wal-segsize=1", for messages, audit records and --dry-run. */
char *pgr_argv_join(const char *const *argv);
/* uid/gid of a user name; false when unknown. */
bool pgr_user_ids(const char *name, uid_t *uid, gid_t *gid);

#endif
