/* Local file system helpers (see fsutil.h). */
#include "config.h"

#include "base/fsutil.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

bool pgr_mkdir_p(const char *path, mode_t mode, struct pgr_error *err)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;
			pgr_error_errno(err, e, "cannot create directory \"%s\"", p);
			free(p);
			return false;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		int e = errno;
		pgr_error_errno(err, e, "cannot create directory \"%s\"", p);
		free(p);
		return false;
	}
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		pgr_error_set(err, PGR_ERR_IO, "\"%s\" exists and is not a directory", p);
		free(p);
		return false;
	}
	free(p);
	return true;
}

bool pgr_rm_rf(const char *path, struct pgr_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? true : pgr_error_errno(err, errno, "cannot remove \"%s\"", path);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return pgr_error_errno(err, errno, "cannot open directory \"%s\"", path);
		struct dirent *de;
		bool ok = true;
		while (ok && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char *child = xasprintf("%s/%s", path, de->d_name);
			ok = pgr_rm_rf(child, err);
			free(child);
		}
		closedir(d);
		if (!ok)
			return false;
		if (rmdir(path) < 0 && errno != ENOENT)
			return pgr_error_errno(err, errno, "cannot remove directory \"%s\"", path);
		return true;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return pgr_error_errno(err, errno, "cannot remove \"%s\"", path);
	return true;
}

bool pgr_fsync_path(const char *path, struct pgr_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot open \"%s\" to sync it", path);
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;
		close(fd);
		return pgr_error_errno(err, e, "cannot sync \"%s\"", path);
	}
	close(fd);
	return true;
}

bool pgr_fsync_parent(const char *path, struct pgr_error *err)
{
	char *copy = xstrdup(path);
	bool ok = pgr_fsync_path(dirname(copy), err);
	free(copy);
	return ok;
}

bool pgr_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, struct pgr_error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot create \"%s\"", tmp);
		free(tmp);
		return false;
	}
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			pgr_error_errno(err, errno, "cannot write \"%s\"", tmp);
			close(fd);
			unlink(tmp);
			free(tmp);
			return false;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		pgr_error_errno(err, errno, "cannot sync \"%s\"", tmp);
		unlink(tmp);
		free(tmp);
		return false;
	}
	if (rename(tmp, path) < 0) {
		pgr_error_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, path);
		unlink(tmp);
		free(tmp);
		return false;
	}
	free(tmp);
	return pgr_fsync_parent(path, err);
}

bool pgr_read_file(const char *path, char **data, size_t *len, struct pgr_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot open \"%s\"", path);
		if (e == ENOENT && err)
			err->kind = PGR_ERR_NOTFOUND;
		return false;
	}
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			free(buf);
			return pgr_error_errno(err, e, "cannot read \"%s\"", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*data = buf;
	if (len)
		*len = n;
	return true;
}

bool pgr_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool pgr_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool pgr_chown_tree(const char *path, uid_t uid, gid_t gid, bool recursive, struct pgr_error *err)
{
	if (lchown(path, uid, gid) < 0)
		return pgr_error_errno(err, errno, "cannot change owner of \"%s\"", path);
	if (!recursive || !pgr_is_dir(path))
		return true;
	DIR *d = opendir(path);
	if (!d)
		return pgr_error_errno(err, errno, "cannot open directory \"%s\"", path);
	struct dirent *de;
	bool ok = true;
	while (ok && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *child = xasprintf("%s/%s", path, de->d_name);
		ok = pgr_chown_tree(child, uid, gid, true, err);
		free(child);
	}
	closedir(d);
	return ok;
}

static bool may_search(const struct stat *st, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

bool pgr_path_reachable_by(const char *path, uid_t uid, gid_t gid)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return false;
	/* Check every ancestor, from / down to the path itself. */
	size_t n = strlen(real);
	for (size_t i = 1; i <= n; i++) {
		if (real[i] != '/' && real[i] != '\0')
			continue;
		char save = real[i];
		real[i] = '\0';
		struct stat st;
		bool ok = stat(i == 0 ? "/" : real, &st) == 0;
		if (ok && S_ISDIR(st.st_mode))
			ok = may_search(&st, uid, gid);
		real[i] = save;
		if (!ok)
			return false;
	}
	return true;
}

const char *pgr_self_exe(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n <= 0)
		return "pgrescue";
	path[n] = '\0';
	return path;
}

bool pgr_fs_free_bytes(const char *path, uint64_t *bytes)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return false;
	*bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return true;
}

struct pgr_sha256 {
	EVP_MD_CTX *ctx;
};

struct pgr_sha256 *pgr_sha256_new(void)
{
	struct pgr_sha256 *h = xcalloc(1, sizeof *h);
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

void pgr_sha256_update(struct pgr_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void pgr_sha256_final(struct pgr_sha256 *h, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_DigestFinal_ex(h->ctx, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

bool pgr_is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

bool pgr_sha256_file(const char *path, char hex[65], uint64_t *size, struct pgr_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot open \"%s\"", path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct pgr_sha256 *h = pgr_sha256_new();
	size_t cap = 1 << 20;
	char *buf = xmalloc(cap);
	uint64_t total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, cap);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			pgr_sha256_final(h, hex);
			return pgr_error_errno(err, e, "cannot read \"%s\"", path);
		}
		if (r == 0)
			break;
		pgr_sha256_update(h, buf, (size_t)r);
		total += (uint64_t)r;
	}
	free(buf);
	close(fd);
	pgr_sha256_final(h, hex);
	if (size)
		*size = total;
	return true;
}

char *pgr_state_dir(void)
{
	const char *d = getenv("PGRESCUE_STATE_DIR");
	if (d && *d)
		return xstrdup(d);
	const char *xdg = getenv("XDG_STATE_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/pgrescue", xdg);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw ? pw->pw_dir : "/tmp";
	}
	return xasprintf("%s/.local/state/pgrescue", home);
}
