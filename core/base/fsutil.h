/* Local file system helpers: durable writes (temp, fsync, rename, fsync dir),
 * recursive mkdir/rm, SHA-256 of files and streams. */
#ifndef PGR_FSUTIL_H
#define PGR_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

bool pgr_mkdir_p(const char *path, mode_t mode, struct pgr_error *err);
/* Remove a file or a directory tree; a missing path is not an error. */
bool pgr_rm_rf(const char *path, struct pgr_error *err);
bool pgr_fsync_path(const char *path, struct pgr_error *err);
/* fsync the directory that holds path, so a rename in it is durable. */
bool pgr_fsync_parent(const char *path, struct pgr_error *err);
/* Write a whole file durably: path.tmp.<pid>, fsync, rename, fsync directory. */
bool pgr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct pgr_error *err);
/* Read a whole file (NUL-terminated for convenience); *data is xmalloc'd. */
bool pgr_read_file(const char *path, char **data, size_t *len, struct pgr_error *err);
bool pgr_path_exists(const char *path);
bool pgr_is_dir(const char *path);
/* Change owner of a path (and everything under it when recursive). */
bool pgr_chown_tree(const char *path, uid_t uid, gid_t gid, bool recursive, struct pgr_error *err);
/* Would user uid/gid be able to reach path (x on every ancestor directory)? */
bool pgr_path_reachable_by(const char *path, uid_t uid, gid_t gid);
/* Absolute path of the running executable (static buffer). */
const char *pgr_self_exe(void);
/* Where pgrescue keeps its state (runs, locks, the audit log):
 * $PGRESCUE_STATE_DIR, else $XDG_STATE_HOME/pgrescue, else
 * ~/.local/state/pgrescue. Newly allocated; not created. */
char *pgr_state_dir(void);
/* Free bytes on the file system holding path; false when unknown. */
bool pgr_fs_free_bytes(const char *path, uint64_t *bytes);

/* Streaming SHA-256. */
struct pgr_sha256;
struct pgr_sha256 *pgr_sha256_new(void);
void pgr_sha256_update(struct pgr_sha256 *h, const void *data, size_t len);
/* Writes 64 hex digits and a NUL to hex[65]; frees h. */
void pgr_sha256_final(struct pgr_sha256 *h, char hex[65]);
bool pgr_sha256_file(const char *path, char hex[65], uint64_t *size, struct pgr_error *err);
/* Whether s is a SHA-256 as written above: 64 lowercase hex digits. */
bool pgr_is_sha256_hex(const char *s);

#endif
