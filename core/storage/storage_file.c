/* The file:// backend: a directory laid out like the bucket. Writes go to a
 * hidden temp name beside the final one and are renamed in after fsync, so a
 * reader (or a crash) never sees half an object. Names starting with
 * ".pgrescue-" are ours (temp files, the staging directory) and never listed. */
#include "config.h"

#include "storage/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"

#define INTERNAL_PREFIX ".pgrescue-"
#define TEMP_PREFIX ".pgrescue-tmp."
#define STAGING_NAME ".pgrescue-staging"
#define FILE_MODE 0640
#define DIR_MODE 0750
#define COPY_CHUNK (1u << 20)

struct file_store {
	char *root; /* absolute, no trailing slash (except "/" itself) */
	char *staging; /* created on demand */
	bool chown_new; /* running as root: give new entries the root's owner */
	uid_t uid;
	gid_t gid;
};

static struct file_store *fs_of(struct pgr_store *st)
{
	return st->backend;
}

/* ---------------------------------------------------------------- helpers */

static bool is_internal_name(const char *name)
{
	return strncmp(name, INTERNAL_PREFIX, strlen(INTERNAL_PREFIX)) == 0;
}

/* A key is a relative path of plain components: nothing that could climb out
 * of the root or reach our own temp files. */
static bool key_valid(const char *key, bool allow_trailing_slash)
{
	if (!key || !*key || key[0] == '/')
		return false;
	const char *p = key;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			return false;
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (len >= strlen(INTERNAL_PREFIX) && is_internal_name(p))
			return false;
		if (!slash)
			break;
		p = slash + 1;
		if (!*p && !allow_trailing_slash)
			return false;
	}
	return true;
}

static bool check_key(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	if (key_valid(key, false))
		return true;
	pgr_error_set(err, PGR_ERR_USAGE, "invalid object key \"%s\" for store \"%s\"", key ? key : "(null)", st->url);
	pgr_error_hint(err,
	               "Keys are relative paths such as \"wal-archive/000000010000000000000001\": no leading "
	               "or doubled '/', no \".\" or \"..\", no names starting with \".pgrescue-\".");
	return false;
}

static char *key_path(struct file_store *fs, const char *key)
{
	if (!strcmp(fs->root, "/"))
		return xasprintf("/%s", key);
	return xasprintf("%s/%s", fs->root, key);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* What a person can do about an access or space error inside the store. */
static void store_hint(struct file_store *fs, struct pgr_error *err, int e)
{
	if (!err || err->hint[0])
		return;
	if (e == EACCES || e == EPERM) {
		struct stat sb;
		char owner[64] = "?";
		if (stat(fs->root, &sb) == 0) {
			struct passwd *pw = getpwuid(sb.st_uid);
			if (pw)
				snprintf(owner, sizeof owner, "%s", pw->pw_name);
			else
				snprintf(owner, sizeof owner, "uid %d", (int)sb.st_uid);
		}
		struct passwd *me = getpwuid(geteuid());
		pgr_error_hint(err,
		               "pgrescue runs as \"%s\" (uid %d); the store %s belongs to \"%s\". PostgreSQL runs "
		               "archive_command and restore_command as its own user, which needs read and write "
		               "access to the whole store.",
		               me ? me->pw_name : "?", (int)geteuid(), fs->root, owner);
	} else if (e == EROFS) {
		pgr_error_hint(err, "The file system holding the store %s is mounted read-only.", fs->root);
	} else if (e == ENOSPC || e == EDQUOT) {
		pgr_error_hint(err,
		               "The file system holding the store %s is full (or over quota): free space, or "
		               "let retention prune old backups.",
		               fs->root);
	}
}

/* Give a new entry the store's owner (when root) and our mode. */
static bool adopt(struct file_store *fs, int fd, const char *path, mode_t mode, struct pgr_error *err)
{
	if (fs->chown_new) {
		int r = fd >= 0 ? fchown(fd, fs->uid, fs->gid) : lchown(path, fs->uid, fs->gid);
		if (r < 0)
			return pgr_error_errno(err, errno, "cannot give \"%s\" the owner of the store's root", path);
	}
	int r = fd >= 0 ? fchmod(fd, mode) : chmod(path, mode);
	if (r < 0)
		return pgr_error_errno(err, errno, "cannot set permissions of \"%s\"", path);
	return true;
}

/* mkdir -p for the directories between the root and dir, each adopted. */
static bool make_dirs(struct file_store *fs, const char *dir, struct pgr_error *err)
{
	if (pgr_is_dir(dir))
		return true;
	size_t rootlen = strcmp(fs->root, "/") ? strlen(fs->root) : 0;
	if (strlen(dir) <= rootlen || !pgr_is_dir(fs->root))
		return pgr_error_set(err, PGR_ERR_STORE, "the store directory \"%s\" has disappeared", fs->root);
	char *p = xstrdup(dir);
	for (char *s = p + rootlen + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char save = *s;
		*s = '\0';
		if (mkdir(p, DIR_MODE) == 0) {
			if (!adopt(fs, -1, p, DIR_MODE, err)) {
				free(p);
				return false;
			}
			pgr_fsync_parent(p, NULL);
		} else if (errno != EEXIST) {
			int e = errno;
			pgr_error_errno(err, e, "cannot create directory \"%s\" in the store", p);
			store_hint(fs, err, e);
			free(p);
			return false;
		} else if (!pgr_is_dir(p)) {
			pgr_error_set(err, PGR_ERR_STORE, "\"%s\" in the store is a file, not a directory", p);
			free(p);
			return false;
		}
		if (save == '\0')
			break;
		*s = save;
	}
	free(p);
	return true;
}

/* A hidden, unique temp file in dir; path returned in *tmp. */
static int open_temp(struct file_store *fs, const char *dir, const char *final_name, char **tmp, struct pgr_error *err)
{
	*tmp = xasprintf("%s/" TEMP_PREFIX "%.100s.XXXXXX", dir, final_name);
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot create a temporary file in \"%s\"", dir);
		if (fs)
			store_hint(fs, err, e);
		else if (e == EACCES || e == EPERM)
			pgr_error_hint(err, "The user running pgrescue (uid %d) cannot write to \"%s\".",
			               (int)geteuid(), dir);
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Copy in to out; the names are for messages. Returns bytes copied in *copied. */
static bool copy_fd(int in, const char *in_name, int out, const char *out_name, uint64_t total,
                    pgr_progress_fn progress, void *pctx, uint64_t *copied, struct pgr_error *err)
{
	char *buf = xmalloc(COPY_CHUNK);
	uint64_t done = 0;
	bool ok = true;
	if (progress && !progress(pctx, 0, total)) {
		free(buf);
		return pgr_error_set(err, PGR_ERR_STORE, "copying \"%s\" to \"%s\" was cancelled", in_name, out_name);
	}
	for (;;) {
		ssize_t r = read(in, buf, COPY_CHUNK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ok = pgr_error_errno(err, errno, "cannot read \"%s\"", in_name);
			break;
		}
		if (r == 0)
			break;
		if (!write_all(out, buf, (size_t)r)) {
			int e = errno;
			ok = pgr_error_errno(err, e, "cannot write \"%s\"", out_name);
			if (e == ENOSPC)
				pgr_error_hint(err, "The file system holding \"%s\" is full.", out_name);
			break;
		}
		done += (uint64_t)r;
		if (progress && !progress(pctx, done, total)) {
			ok = pgr_error_set(err, PGR_ERR_STORE, "copying \"%s\" to \"%s\" was cancelled", in_name,
			                   out_name);
			break;
		}
	}
	free(buf);
	*copied = done;
	return ok;
}

/* ---------------------------------------------------------------- open/close */

static bool file_open(struct pgr_store *st, const char *url, struct pgr_error *err)
{
	const char *path = url;
	if (!strncmp(url, "file://", 7)) {
		path = url + 7;
		if (path[0] != '/') {
			pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\": a file:// URL needs an absolute path", url);
			pgr_error_hint(err,
			               "Write three slashes, file:///var/backups/pg, or give the bare absolute "
			               "path /var/backups/pg.");
			return false;
		}
	}
	if (path[0] != '/') {
		pgr_error_set(err, PGR_ERR_CONFIG, "store \"%s\" is not an absolute path", url);
		pgr_error_hint(err, "Write file:///absolute/path or /absolute/path.");
		return false;
	}
	char *root = xstrdup(path);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		root[--n] = '\0';

	struct stat sb;
	if (stat(root, &sb) < 0) {
		int e = errno;
		if (e != ENOENT) {
			pgr_error_errno(err, e, "cannot open store directory \"%s\"", root);
			free(root);
			return false;
		}
		char *parent = dir_of(root);
		if (!pgr_is_dir(parent)) {
			pgr_error_set(err, PGR_ERR_STORE,
			              "store directory \"%s\" does not exist, and neither does its parent \"%s\"", root,
			              parent);
			pgr_error_hint(err, "Check the store URL (%s) for a typo, or create the directory first.", url);
			free(parent);
			free(root);
			return false;
		}
		free(parent);
		if (mkdir(root, DIR_MODE) < 0 && errno != EEXIST) {
			pgr_error_errno(err, errno, "cannot create store directory \"%s\"", root);
			free(root);
			return false;
		}
		pgr_fsync_parent(root, NULL);
		if (stat(root, &sb) < 0) {
			pgr_error_errno(err, errno, "cannot open store directory \"%s\"", root);
			free(root);
			return false;
		}
	}
	if (!S_ISDIR(sb.st_mode)) {
		pgr_error_set(err, PGR_ERR_STORE, "store \"%s\" is not a directory", root);
		pgr_error_hint(err, "A file:// store is a directory holding database/, wal-archive/ and base/.");
		free(root);
		return false;
	}
	struct file_store *fs = xcalloc(1, sizeof *fs);
	fs->root = root;
	fs->chown_new = geteuid() == 0;
	fs->uid = sb.st_uid;
	fs->gid = sb.st_gid;
	st->backend = fs;
	return true;
}

static void file_close(struct pgr_store *st)
{
	struct file_store *fs = fs_of(st);
	if (!fs)
		return;
	free(fs->root);
	free(fs->staging);
	free(fs);
	st->backend = NULL;
}

/* ---------------------------------------------------------------- listing */

struct entry {
	const char *name; /* in the directory's name buffer */
	size_t off, len;
	bool dir;
	bool have_stat; /* size and mtime read (symlinks, file systems without d_type) */
	uint64_t size;
	time_t mtime;
};

static int sort_char(const struct entry *e, size_t i)
{
	if (i < e->len)
		return (unsigned char)e->name[i];
	return i == e->len && e->dir ? '/' : 0;
}

/* Order entries so that a depth-first walk yields keys in byte order: a
 * directory sorts as its name plus '/', since every key inside starts so. */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	/* The common part compares as plain bytes; only the tail needs the
	 * directory's implied '/'. */
	size_t common = x->len < y->len ? x->len : y->len;
	int m = memcmp(x->name, y->name, common);
	if (m != 0)
		return m;
	for (size_t i = common;; i++) {
		int c = sort_char(x, i), d = sort_char(y, i);
		if (c != d || c == 0)
			return c - d;
	}
}

/* One page's walk: the key of the directory being read grows and shrinks
 * as the walk descends and returns. */
struct walk {
	struct pgr_store *st;
	const char *after;
	size_t page_size;
	size_t taken;
	struct pgr_object_list *out;
	bool more;
	struct {
		char *buf;
		size_t len, cap;
	} key;
};

static void key_push(struct walk *w, const char *name, bool dir, size_t *saved)
{
	*saved = w->key.len;
	size_t n = strlen(name);
	if (w->key.len + n + 2 > w->key.cap) {
		w->key.cap = (w->key.len + n + 2) * 2;
		w->key.buf = xrealloc(w->key.buf, w->key.cap);
	}
	memcpy(w->key.buf + w->key.len, name, n);
	w->key.len += n;
	if (dir)
		w->key.buf[w->key.len++] = '/';
	w->key.buf[w->key.len] = '\0';
}

static void key_pop(struct walk *w, size_t saved)
{
	w->key.len = saved;
	w->key.buf[saved] = '\0';
}

static void free_entries(struct entry *e, char *names)
{
	free(names);
	free(e);
}

/* Is the key dirkey+name (+'/' for a directory) entirely at or before
 * `after`, so that neither it nor anything inside it belongs on this page? */
static bool before_after(const char *dirkey, size_t dlen, const char *name, bool dir, const char *after)
{
	if (!after)
		return false;
	int c = strncmp(after, dirkey, dlen);
	if (c != 0)
		return c > 0;
	const char *a = after + dlen;
	size_t nlen = strlen(name);
	c = strncmp(a, name, nlen);
	if (c != 0)
		return c > 0;
	a += nlen;
	if (!dir)
		return true; /* after == key or after extends it: key <= after */
	/* a directory: skip only when after is past "name/" without being inside */
	return *a > '/';
}

/* Read dir (path), keeping names that start with name_prefix and could
 * still come after `after`; dirkey is the directory's key prefix. A missing
 * directory is an empty one: listings race with deletes. Most entries are
 * classified by d_type alone, so a page costs one stat per listed key. */
static bool read_entries(struct file_store *fs, const char *path, const char *dirkey, const char *after,
                         const char *name_prefix, struct entry **out, size_t *count, char **names,
                         struct pgr_error *err)
{
	size_t dlen = strlen(dirkey);
	*out = NULL;
	*count = 0;
	*names = NULL;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return true;
		int e = errno;
		pgr_error_errno(err, e, "cannot list store directory \"%s\"", path);
		store_hint(fs, err, e);
		return false;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return pgr_error_errno(err, e, "cannot list store directory \"%s\"", path);
	}
	size_t cap = 0, n = 0, ncap = 0, nlen = 0;
	struct entry *v = NULL;
	char *nbuf = NULL; /* all names, NUL-separated: one allocation, not one per entry */
	size_t plen = name_prefix ? strlen(name_prefix) : 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || is_internal_name(name))
			continue;
		if (plen && strncmp(name, name_prefix, plen) != 0)
			continue;
		struct stat sb;
		bool dir, have_stat = false;
		if (de->d_type == DT_DIR || de->d_type == DT_REG) {
			dir = de->d_type == DT_DIR;
		} else {
			if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* vanished meanwhile */
			dir = S_ISDIR(sb.st_mode);
			if (S_ISLNK(sb.st_mode)) {
				/* Follow links to files; never to directories (no loops). */
				if (fstatat(dfd, name, &sb, 0) < 0 || !S_ISREG(sb.st_mode))
					continue;
			} else if (!dir && !S_ISREG(sb.st_mode)) {
				continue;
			}
			have_stat = !dir;
		}
		if (before_after(dirkey, dlen, name, dir, after))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof *v);
		}
		size_t len = strlen(name);
		if (nlen + len + 1 > ncap) {
			ncap = (nlen + len + 1) * 2 + 4096;
			nbuf = xrealloc(nbuf, ncap);
		}
		memcpy(nbuf + nlen, name, len + 1);
		v[n].off = nlen;
		v[n].len = len;
		nlen += len + 1;
		v[n].dir = dir;
		v[n].have_stat = have_stat;
		v[n].size = have_stat ? (uint64_t)sb.st_size : 0;
		v[n].mtime = have_stat ? sb.st_mtime : 0;
		n++;
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e) {
		free_entries(v, nbuf);
		return pgr_error_errno(err, e, "cannot list store directory \"%s\"", path);
	}
	for (size_t i = 0; i < n; i++)
		v[i].name = nbuf + v[i].off;
	*names = nbuf;
	*out = v;
	*count = n;
	return true;
}

static void swap_entries(struct entry *a, struct entry *b)
{
	struct entry t = *a;
	*a = *b;
	*b = t;
}

/* Rearrange v[0..n) so that its k smallest entries come first, in any order
 * (quickselect): a page needs only the first few of a large directory. */
static void select_smallest(struct entry *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;
	while (hi - lo > 1) {
		swap_entries(&v[lo + (hi - lo) / 2], &v[hi - 1]);
		size_t store = lo;
		for (size_t i = lo; i + 1 < hi; i++)
			if (entry_cmp(&v[i], &v[hi - 1]) < 0)
				swap_entries(&v[i], &v[store++]);
		swap_entries(&v[store], &v[hi - 1]);
		if (k == store || k == store + 1)
			return;
		if (k < store)
			hi = store;
		else
			lo = store + 1;
	}
}

/* Walk the directory whose key prefix is w->key (ending in '/' or empty). */
static bool walk_dir(struct walk *w, const char *path, const char *name_prefix, struct pgr_error *err)
{
	struct entry *v;
	size_t n;
	char *names;
	if (!read_entries(fs_of(w->st), path, w->key.buf, w->after, name_prefix, &v, &n, &names, err))
		return false;
	/* Sort only what this page can use; the rest is sorted if the first
	 * part runs out (directories that turn out empty). */
	size_t need = w->page_size - w->taken + 1, sorted = n;
	if (n > 2 * need + 64) {
		select_smallest(v, n, need);
		sorted = need;
	}
	if (sorted > 1)
		qsort(v, sorted, sizeof *v, entry_cmp);
	bool ok = true;
	int dfd = -1;
	for (size_t i = 0; i < n && ok && !w->more; i++) {
		if (i == sorted) {
			qsort(v + sorted, n - sorted, sizeof *v, entry_cmp);
			sorted = n;
		}
		size_t saved;
		key_push(w, v[i].name, v[i].dir, &saved);
		const char *k = w->key.buf;
		if (v[i].dir) {
			char *sub = xasprintf("%s/%s", path, v[i].name);
			ok = walk_dir(w, sub, NULL, err);
			free(sub);
		} else if (w->taken == w->page_size) {
			w->more = true;
		} else {
			struct stat sb;
			bool present = true;
			if (!v[i].have_stat) {
				/* Relative to the open directory: no path building and
				 * resolution per file (100,000 WAL segments). */
				if (dfd < 0)
					dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				present = dfd >= 0 && fstatat(dfd, v[i].name, &sb, 0) == 0 &&
				        S_ISREG(sb.st_mode); /* else deleted meanwhile */
				v[i].size = present ? (uint64_t)sb.st_size : 0;
				v[i].mtime = present ? sb.st_mtime : 0;
			}
			if (present) {
				pgr_object_list_add(w->out, k, v[i].size, v[i].mtime);
				w->taken++;
			}
		}
		key_pop(w, saved);
	}
	if (dfd >= 0)
		close(dfd);
	free_entries(v, names);
	return ok;
}

static bool file_list_page(struct pgr_store *st, const char *prefix, const char *after, size_t page_size,
                           struct pgr_object_list *out, bool *more, struct pgr_error *err)
{
	struct file_store *fs = fs_of(st);
	*more = false;
	if (!prefix)
		prefix = "";
	if (*prefix && !key_valid(prefix, true)) {
		pgr_error_set(err, PGR_ERR_USAGE, "invalid prefix \"%s\" for listing store \"%s\"", prefix, st->url);
		return false;
	}
	/* "database/postgres-backup-" = directory "database", names starting "postgres-backup-". */
	const char *slash = strrchr(prefix, '/');
	char *dirkey = slash ? xstrndup(prefix, (size_t)(slash - prefix)) : xstrdup("");
	const char *name_prefix = slash ? slash + 1 : prefix;
	char *path = *dirkey ? key_path(fs, dirkey) : xstrdup(fs->root);

	struct walk w = {0};
	w.st = st;
	w.after = after && *after ? after : NULL;
	w.page_size = page_size ? page_size : 1000;
	w.out = out;
	size_t saved;
	w.key.cap = 256;
	w.key.buf = xmalloc(w.key.cap);
	w.key.buf[0] = '\0';
	if (*dirkey)
		key_push(&w, dirkey, true, &saved);
	bool ok = walk_dir(&w, path, *name_prefix ? name_prefix : NULL, err);
	if (!ok)
		pgr_error_prefix(err, "listing store \"%s\"", st->url);
	*more = ok && w.more;
	free(w.key.buf);
	free(path);
	free(dirkey);
	return ok;
}

/* ---------------------------------------------------------------- objects */

static bool not_found(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	pgr_error_set(err, PGR_ERR_NOTFOUND, "\"%s\" is not in the store %s", key, st->url);
	return false;
}

/* Open an object for reading; NOTFOUND when it is missing or is a directory. */
static int open_object(struct pgr_store *st, const char *key, struct stat *sb, struct pgr_error *err)
{
	if (!check_key(st, key, err))
		return -1;
	char *path = key_path(fs_of(st), key);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			not_found(st, key, err);
		else
			pgr_error_errno(err, e, "cannot open \"%s\" in the store", path);
		store_hint(fs_of(st), err, e);
		free(path);
		return -1;
	}
	if (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode)) {
		close(fd);
		free(path);
		not_found(st, key, err);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	free(path);
	return fd;
}

static bool file_stat(struct pgr_store *st, const char *key, struct pgr_object *out, struct pgr_error *err)
{
	if (out)
		out->key = NULL; /* the caller has the key; nothing to free, on any path */
	if (!check_key(st, key, err))
		return false;
	char *path = key_path(fs_of(st), key);
	struct stat sb;
	if (stat(path, &sb) < 0) {
		int e = errno;
		free(path);
		if (e == ENOENT || e == ENOTDIR)
			return not_found(st, key, err);
		pgr_error_errno(err, e, "cannot look up \"%s\" in the store %s", key, st->url);
		store_hint(fs_of(st), err, e);
		return false;
	}
	free(path);
	if (!S_ISREG(sb.st_mode))
		return not_found(st, key, err);
	if (out) {
		out->size = (uint64_t)sb.st_size;
		out->mtime = sb.st_mtime;
	}
	return true;
}

static bool file_get(struct pgr_store *st, const char *key, const char *local_path, pgr_progress_fn progress,
                     void *pctx, struct pgr_error *err)
{
	struct stat sb;
	int in = open_object(st, key, &sb, err);
	if (in < 0)
		return false;
	char *dir = dir_of(local_path);
	if (!pgr_is_dir(dir)) {
		pgr_error_set(err, PGR_ERR_IO, "cannot download \"%s\" to \"%s\": directory \"%s\" does not exist", key,
		              local_path, dir);
		free(dir);
		close(in);
		return false;
	}
	char *tmp;
	int out = open_temp(NULL, dir, base_of(local_path), &tmp, err);
	free(dir);
	if (out < 0) {
		close(in);
		return false;
	}
	uint64_t total = (uint64_t)sb.st_size, copied = 0;
	bool ok = copy_fd(in, key, out, tmp, total, progress, pctx, &copied, err);
	close(in);
	if (ok && copied != total) {
		ok = pgr_error_set(err, PGR_ERR_STORE,
		                   "\"%s\" changed size while it was being read (%llu of %llu bytes)", key,
		                   (unsigned long long)copied, (unsigned long long)total);
	}
	if (ok && fchmod(out, 0600) < 0)
		ok = pgr_error_errno(err, errno, "cannot set permissions of \"%s\"", tmp);
	if (ok && !st->opts.no_sync && fsync(out) < 0)
		ok = pgr_error_errno(err, errno, "cannot sync \"%s\"", tmp);
	if (close(out) < 0 && ok)
		ok = pgr_error_errno(err, errno, "cannot write \"%s\"", tmp);
	if (ok && rename(tmp, local_path) < 0)
		ok = pgr_error_errno(err, errno, "cannot rename \"%s\" to \"%s\"", tmp, local_path);
	if (!ok)
		unlink(tmp);
	else if (!st->opts.no_sync)
		ok = pgr_fsync_parent(local_path, err);
	free(tmp);
	return ok;
}

static bool file_get_head(struct pgr_store *st, const char *key, void *buf, size_t n, size_t *got,
                          struct pgr_error *err)
{
	struct stat sb;
	int fd = open_object(st, key, &sb, err);
	if (fd < 0)
		return false;
	size_t have = 0;
	while (have < n) {
		ssize_t r = read(fd, (char *)buf + have, n - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return pgr_error_errno(err, e, "cannot read \"%s\" in the store %s", key, st->url);
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	*got = have;
	return true;
}

/* consume: the source is on the same file system, so rename it in. false
 * with *fallback set when it is not (the caller copies instead). */
static bool put_by_rename(struct file_store *fs, const char *src, const char *final, uint64_t size, bool *fallback,
                          struct pgr_error *err)
{
	*fallback = false;
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pgr_error_errno(err, errno, "cannot open \"%s\"", src);
	/* Durable before it becomes visible, and owned like the rest of the store. */
	bool ok = fsync(fd) == 0 || errno == EINVAL;
	if (!ok)
		pgr_error_errno(err, errno, "cannot sync \"%s\"", src);
	if (ok)
		ok = adopt(fs, fd, src, FILE_MODE, err);
	close(fd);
	if (!ok)
		return false;
	int e = rename(src, final) < 0 ? errno : 0;
	if (e == ENOENT) {
		/* A delete may have pruned the directory just after we made it. */
		char *dir = dir_of(final);
		if (!pgr_is_dir(dir) && make_dirs(fs, dir, NULL))
			e = rename(src, final) < 0 ? errno : 0;
		free(dir);
	}
	if (e == EXDEV) {
		*fallback = true;
		return false;
	}
	if (e) {
		pgr_error_errno(err, e, "cannot move \"%s\" to \"%s\"", src, final);
		store_hint(fs, err, e);
		return false;
	}
	struct stat sb;
	if (stat(final, &sb) < 0)
		return pgr_error_errno(err, errno, "cannot check \"%s\" after moving it in", final);
	if ((uint64_t)sb.st_size != size)
		return pgr_error_set(err, PGR_ERR_STORE, "\"%s\" has %llu bytes after moving it in, expected %llu",
		                     final, (unsigned long long)sb.st_size, (unsigned long long)size);
	pgr_fsync_parent(src, NULL);
	return pgr_fsync_parent(final, err);
}

static bool file_put(struct pgr_store *st, const char *key, const char *local_path, bool consume,
                     pgr_progress_fn progress, void *pctx, struct pgr_error *err)
{
	struct file_store *fs = fs_of(st);
	if (!check_key(st, key, err))
		return false;
	int in = open(local_path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot read \"%s\" to store it as \"%s\"", local_path, key);
		if (e == ENOENT)
			err->kind = PGR_ERR_NOTFOUND;
		return false;
	}
	struct stat src_sb;
	if (fstat(in, &src_sb) < 0 || !S_ISREG(src_sb.st_mode)) {
		close(in);
		return pgr_error_set(err, PGR_ERR_IO, "\"%s\" is not a regular file; cannot store it as \"%s\"",
		                     local_path, key);
	}
	uint64_t size = (uint64_t)src_sb.st_size;
	char *final = key_path(fs, key);
	char *dir = dir_of(final);
	bool ok = make_dirs(fs, dir, err);

	if (ok && consume) {
		bool fallback = false;
		ok = put_by_rename(fs, local_path, final, size, &fallback, err);
		if (ok) {
			if (progress)
				progress(pctx, size, size);
			close(in);
			free(dir);
			free(final);
			return true;
		}
		if (!fallback) {
			close(in);
			free(dir);
			free(final);
			pgr_error_prefix(err, "storing \"%s\"", key);
			return false;
		}
		ok = true; /* another file system: copy below */
	}

	char *tmp = NULL;
	int out = -1;
	if (ok) {
		out = open_temp(fs, dir, base_of(final), &tmp, err);
		/* A delete may have pruned the directory just after we made it. */
		if (out < 0 && !pgr_is_dir(dir) && make_dirs(fs, dir, err))
			out = open_temp(fs, dir, base_of(final), &tmp, err);
		ok = out >= 0;
	}
	if (ok)
		ok = adopt(fs, out, tmp, FILE_MODE, err);
	uint64_t copied = 0;
	if (ok)
		ok = copy_fd(in, local_path, out, tmp, size, progress, pctx, &copied, err);
	if (ok && fsync(out) < 0) {
		int e = errno;
		ok = pgr_error_errno(err, e, "cannot sync \"%s\"", tmp);
		store_hint(fs, err, e);
	}
	if (ok) {
		/* The size check: what landed is what the source held, and the
		 * source did not grow or shrink while we read it. */
		struct stat now_src, now_dst;
		if (fstat(out, &now_dst) < 0 || fstat(in, &now_src) < 0)
			ok = pgr_error_errno(err, errno, "cannot check the size of \"%s\"", tmp);
		else if ((uint64_t)now_dst.st_size != size || copied != size || (uint64_t)now_src.st_size != size)
			ok = pgr_error_set(err, PGR_ERR_STORE,
			                   "size mismatch storing \"%s\" as \"%s\": source %llu bytes (now %llu), "
			                   "copied %llu, written %llu",
			                   local_path, key, (unsigned long long)size,
			                   (unsigned long long)now_src.st_size, (unsigned long long)copied,
			                   (unsigned long long)now_dst.st_size);
	}
	if (out >= 0 && close(out) < 0 && ok)
		ok = pgr_error_errno(err, errno, "cannot write \"%s\"", tmp);
	close(in);
	if (ok && rename(tmp, final) < 0) {
		int e = errno;
		ok = pgr_error_errno(err, e, "cannot rename \"%s\" to \"%s\"", tmp, final);
		store_hint(fs, err, e);
	}
	if (ok)
		ok = pgr_fsync_path(dir, err);
	if (!ok && tmp)
		unlink(tmp);
	if (ok && consume)
		unlink(local_path); /* consumed either way: the caller cannot tell a move from a copy */
	free(tmp);
	free(dir);
	free(final);
	return ok;
}

static bool file_del(struct pgr_store *st, const char *key, struct pgr_error *err)
{
	struct file_store *fs = fs_of(st);
	if (!check_key(st, key, err))
		return false;
	char *path = key_path(fs, key);
	struct stat sb;
	if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		free(path);
		return pgr_error_set(err, PGR_ERR_USAGE, "\"%s\" in the store %s is a directory, not an object", key,
		                     st->url);
	}
	/* Deleting what is already gone succeeds, as in object stores: a
	 * retention run that was interrupted can simply run again. */
	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR) {
		int e = errno;
		pgr_error_errno(err, e, "cannot delete \"%s\" from the store %s", key, st->url);
		store_hint(fs, err, e);
		free(path);
		return false;
	}
	/* Prune directories left empty, stopping below the root. */
	char *dir = dir_of(path);
	size_t rootlen = strlen(fs->root);
	while (strlen(dir) > rootlen && !strncmp(dir, fs->root, rootlen)) {
		if (rmdir(dir) < 0)
			break;
		char *up = dir_of(dir);
		free(dir);
		dir = up;
	}
	pgr_fsync_path(dir, NULL);
	free(dir);
	free(path);
	return true;
}

static const char *file_staging_dir(struct pgr_store *st)
{
	struct file_store *fs = fs_of(st);
	if (fs->staging)
		return fs->staging;
	char *path = key_path(fs, STAGING_NAME);
	if (mkdir(path, DIR_MODE) == 0) {
		if (!adopt(fs, -1, path, DIR_MODE, NULL)) {
			free(path);
			return NULL;
		}
	} else if (errno != EEXIST || !pgr_is_dir(path)) {
		free(path);
		return NULL;
	}
	fs->staging = path;
	return path;
}

static char *file_local_path(struct pgr_store *st, const char *key)
{
	if (!key_valid(key, false))
		return NULL;
	char *path = key_path(fs_of(st), key);
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		free(path);
		return NULL;
	}
	return path;
}

const struct pgr_store_ops pgr_store_file_ops = {
        .scheme = "file",
        .open = file_open,
        .close = file_close,
        .list_page = file_list_page,
        .stat = file_stat,
        .get = file_get,
        .get_head = file_get_head,
        .put = file_put,
        .del = file_del,
        .staging_dir = file_staging_dir,
        .local_path = file_local_path,
};
