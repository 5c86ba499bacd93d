/* archive_command and restore_command. Pushing is idempotent for an identical
 * file and refuses to replace a different one: overwriting an archived
 * segment is how one cluster silently destroys another's recovery path. */
#include "config.h"

#include "ops/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "storage/layout.h"

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static bool wal_name_ok(const char *name, const char *what, struct pgr_error *err)
{
	if (*name && pgr_walname_parse(name, NULL))
		return true;
	pgr_error_set(err, PGR_ERR_USAGE,
	              "refusing to %s \"%s\": not a WAL segment, .history, .backup or .partial name", what, name);
	pgr_error_hint(err,
	               "WAL files are named like 000000010000000000000003, 00000002.history or "
	               "000000010000000000000003.00000028.backup. In archive_command pass %%p (the path); in "
	               "restore_command pass %%f (the name) and %%p.");
	return false;
}

/* SHA-256 of an archived object, read through the store into a private temp
 * file (the interface streams to files, not to memory). */
static bool hash_archived(struct pgr_store *st, const char *key, char hex[65], uint64_t *size, struct pgr_error *err)
{
	const char *dir = pgr_store_staging_dir(st);
	if (!dir) {
		dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
	}
	char *tmp = xasprintf("%s/pgrescue-walcheck.XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot create a temporary file in \"%s\" to compare \"%s\"", dir, key);
		free(tmp);
		return false;
	}
	close(fd);
	bool ok = pgr_store_get(st, key, tmp, NULL, NULL, err) && pgr_sha256_file(tmp, hex, size, err);
	unlink(tmp);
	free(tmp);
	return ok;
}

enum pgr_wal_result pgr_wal_push(struct pgr_store *st, const char *path, struct pgr_error *err)
{
	if (!path || !*path) {
		pgr_error_set(err, PGR_ERR_USAGE, "wal-push needs the path of a WAL file");
		return PGR_WAL_ERROR;
	}
	const char *name = basename_of(path);
	if (!wal_name_ok(name, "archive", err))
		return PGR_WAL_ERROR;
	char *key = xasprintf(PGR_PREFIX_WAL "%s", name);
	enum pgr_wal_result res = PGR_WAL_ERROR;

	struct pgr_object obj;
	struct pgr_error serr = {0};
	if (pgr_store_stat(st, key, &obj, &serr)) {
		/* Already there: the same bytes mean a retry after a lost reply;
		 * different bytes mean someone else is writing here. */
		char local_hex[65], remote_hex[65];
		uint64_t local_size = 0, remote_size = 0;
		if (!pgr_sha256_file(path, local_hex, &local_size, err)) {
			pgr_error_prefix(err, "archiving WAL file %s", name);
			goto out;
		}
		if (local_size == obj.size) {
			if (!hash_archived(st, key, remote_hex, &remote_size, err)) {
				pgr_error_prefix(err, "comparing WAL file %s with its archived copy", name);
				goto out;
			}
		} else {
			remote_size = obj.size;
			if (!hash_archived(st, key, remote_hex, &remote_size, NULL))
				snprintf(remote_hex, sizeof remote_hex, "(not read)");
		}
		if (local_size == remote_size && !strcmp(local_hex, remote_hex)) {
			res = PGR_WAL_ALREADY;
			goto out;
		}
		pgr_error_set(err, PGR_ERR_CONFLICT,
		              "refusing to archive WAL file %s: a different file with that name is already in the "
		              "archive %s",
		              name, st->url);
		pgr_error_detail(err,
		                 "Local %s: %" PRIu64 " bytes, SHA-256 %s. Archived %s: %" PRIu64 " bytes, SHA-256 %s.",
		                 path, local_size, local_hex, key, remote_size, remote_hex);
		pgr_error_hint(err,
		               "Another cluster may be archiving into this store (for example a restored copy "
		               "that kept archive_mode on, or a second primary on the same timeline). The archived "
		               "copy is never overwritten: find which server writes here and stop its archiving, "
		               "or point it at its own store.");
		res = PGR_WAL_CONFLICT;
		goto out;
	}
	if (serr.kind != PGR_ERR_NOTFOUND) {
		if (err)
			*err = serr;
		pgr_error_prefix(err, "archiving WAL file %s", name);
		goto out;
	}
	/* Copy, never consume: the file belongs to PostgreSQL. */
	if (!pgr_store_put(st, key, path, false, NULL, NULL, err)) {
		pgr_error_prefix(err, "archiving WAL file %s into %s", name, st->url);
		goto out;
	}
	res = PGR_WAL_OK;
out:
	free(key);
	return res;
}

enum pgr_wal_result pgr_wal_fetch(struct pgr_store *st, const char *name, const char *dest, struct pgr_error *err)
{
	if (!name || !*name || strchr(name, '/')) {
		pgr_error_set(err, PGR_ERR_USAGE,
		              "refusing to fetch \"%s\": pass the WAL file's name (%%f), not a path", name ? name : "");
		pgr_error_hint(err, "restore_command = 'pgrescue --store URL wal-fetch %%f %%p'");
		return PGR_WAL_ERROR;
	}
	if (!wal_name_ok(name, "fetch", err))
		return PGR_WAL_ERROR;
	if (!dest || !*dest) {
		pgr_error_set(err, PGR_ERR_USAGE, "wal-fetch needs a destination path for %s", name);
		return PGR_WAL_ERROR;
	}
	char *key = xasprintf(PGR_PREFIX_WAL "%s", name);
	enum pgr_wal_result res = PGR_WAL_OK;
	struct pgr_error e = {0};
	if (!pgr_store_get(st, key, dest, NULL, NULL, &e)) {
		if (e.kind == PGR_ERR_NOTFOUND) {
			/* An ordinary answer: recovery asks for files past the end of the archive. */
			pgr_error_set(&e, PGR_ERR_NOTFOUND, "WAL file %s is not in the archive %s", name, st->url);
			res = PGR_WAL_MISSING;
		} else {
			pgr_error_prefix(&e, "fetching WAL file %s", name);
			res = PGR_WAL_ERROR;
		}
		if (err)
			*err = e;
	}
	free(key);
	return res;
}
