/* The audit log: one JSON line per intent, outcome, refusal or cancellation,
 * hash-chained so that editing, deleting, inserting, reordering or cutting
 * off lines is detected by pgr_audit_verify.
 *
 * Canonical form. A record is one line, a JSON object whose members come in
 * this order, with "hash" always last:
 *
 *   {"seq":N,"time":"2026-01-02T14:30:00.123Z","user":..,"sudo_user":..,
 *    "host":..,"pid":N,"env":..,"incident":..,"reason":..,"run":..,"plan":..,
 *    "step":..,"phase":..,"command":..,"outcome":..,"detail":..,
 *    "duration_ms":N|null,"prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * TEXT is the line exactly as written, without its newline and with the
 * final member `,"hash":"<64 hex>"` cut out (so TEXT ends in `"prev":"..."}`).
 * Then
 *
 *   hash = hex(SHA-256(PREV "\n" TEXT))          without a key file
 *   hash = hex(HMAC-SHA-256(KEY, PREV "\n" TEXT)) with one
 *
 * where PREV is the previous record's hash (64 "0" for the first record),
 * hex is lower case, and KEY is the key file's bytes without trailing
 * newlines/carriage returns. seq starts at 1 and grows by one per line.
 * Verification works on the bytes of each line, never on re-serialised
 * JSON, so it does not depend on how a JSON library prints.
 *
 * The sidecar "<log>.head" holds "<seq> <hash>\n" of the last record,
 * replaced atomically after each append: lines cut off the end leave the
 * head ahead of the log. (A crash between the log's fsync and the head's
 * leaves the head one record behind, which verify accepts.) An append
 * chains from the head, not from a shortened log, so truncation followed by
 * new records stays visible as a break in the chain.
 *
 * Limits: without a key anyone who can write the file can recompute a
 * consistent chain; the key file is what makes forging need a secret.
 * Deleting both the log and its head is only noticed by their absence. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "recovery/audit.h"

#define HASH_HEX 64
#define LOCK_TIMEOUT_S 10.0
/* `,"hash":"` + 64 hex + `"}` */
#define HASH_MEMBER_PREFIX ",\"hash\":\""
#define HASH_MEMBER_LEN (sizeof HASH_MEMBER_PREFIX - 1 + HASH_HEX + 2)

static const char zero_hash[HASH_HEX + 1] = "0000000000000000000000000000000000000000000000000000000000000000";

/* ------------------------------------------------------------ helpers */

static char *head_path(const char *log)
{
	return xasprintf("%s.head", log);
}

static bool is_hex64(const char *s, size_t len)
{
	if (len != HASH_HEX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* The chain hash of TEXT following PREV (see the top of the file). */
static void chain_hash(const struct pgr_audit *a, const char *prev, const char *text, size_t len,
                       char out[HASH_HEX + 1])
{
	size_t n = HASH_HEX + 1 + len;
	unsigned char *msg = xmalloc(n);
	memcpy(msg, prev, HASH_HEX);
	msg[HASH_HEX] = '\n';
	memcpy(msg + HASH_HEX + 1, text, len);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (a->key)
		HMAC(EVP_sha256(), a->key, (int)a->key_len, msg, n, md, &mdlen);
	else
		EVP_Digest(msg, n, md, &mdlen, EVP_sha256(), NULL);
	free(msg);
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[HASH_HEX] = '\0';
}

/* Take flock op (LOCK_EX or LOCK_SH), waiting at most LOCK_TIMEOUT_S: an
 * append holds the lock for milliseconds, so a longer wait means a stuck
 * process, and a recovery must not hang on its audit log. */
static bool lock_log(int fd, int op, const char *path, struct pgr_error *err)
{
	double deadline = pgr_monotonic() + LOCK_TIMEOUT_S;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return true;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return pgr_error_errno(err, errno, "cannot lock the audit log \"%s\"", path);
		if (pgr_monotonic() > deadline) {
			pgr_error_set(err, PGR_ERR_IO,
			              "the audit log \"%s\" has been locked by another process for %.0f s", path,
			              LOCK_TIMEOUT_S);
			pgr_error_hint(err, "See which process holds it with: fuser -v %s", path);
			return false;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* Read all of fd (from offset 0); *data is NUL-terminated. */
static bool read_fd(int fd, const char *path, char **data, size_t *len, struct pgr_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return pgr_error_errno(err, errno, "cannot stat \"%s\"", path);
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = pread(fd, buf + n, cap - n - 1, (off_t)n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			return pgr_error_errno(err, e, "cannot read \"%s\"", path);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return true;
}

enum head_state { HEAD_MISSING, HEAD_OK, HEAD_BAD };

/* The head file: "<seq> <hash>\n". */
static enum head_state head_read(const char *log, int64_t *seq, char hash[HASH_HEX + 1])
{
	char *hp = head_path(log);
	char *data = NULL;
	size_t len = 0;
	struct pgr_error e = {0};
	bool ok = pgr_read_file(hp, &data, &len, &e);
	free(hp);
	if (!ok)
		return e.kind == PGR_ERR_NOTFOUND ? HEAD_MISSING : HEAD_BAD;
	enum head_state st = HEAD_BAD;
	char *end = NULL;
	errno = 0;
	long long s = strtoll(data, &end, 10);
	if (errno == 0 && end != data && s >= 0 && *end == ' ' && is_hex64(end + 1, strcspn(end + 1, "\n")) &&
	    (end[1 + HASH_HEX] == '\n' || end[1 + HASH_HEX] == '\0')) {
		*seq = s;
		memcpy(hash, end + 1, HASH_HEX);
		hash[HASH_HEX] = '\0';
		st = HEAD_OK;
	}
	free(data);
	return st;
}

/* What a line says about its place in the chain. */
struct line_info {
	bool json; /* parses as a JSON object */
	bool shaped; /* ends in the "hash" member, which is the object's last */
	bool fields; /* has an integer seq >= 1 and a 64-hex prev */
	bool hash_ok; /* hash matches prev + text */
	int64_t seq;
	char prev[HASH_HEX + 1];
	char hash[HASH_HEX + 1];
};

/* Parse one line (without its newline). a may be NULL: then hash_ok is not
 * computed. */
static void line_parse(const struct pgr_audit *a, const char *s, size_t len, struct line_info *li)
{
	memset(li, 0, sizeof *li);
	li->seq = -1;
	cJSON *o = cJSON_ParseWithLength(s, len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return;
	}
	li->json = true;
	size_t plen = sizeof HASH_MEMBER_PREFIX - 1;
	cJSON *last = o->child;
	while (last && last->next)
		last = last->next;
	if (len >= HASH_MEMBER_LEN + 1 && memcmp(s + len - HASH_MEMBER_LEN, HASH_MEMBER_PREFIX, plen) == 0 &&
	    is_hex64(s + len - HASH_MEMBER_LEN + plen, HASH_HEX) && memcmp(s + len - 2, "\"}", 2) == 0 && last &&
	    last->string && strcmp(last->string, "hash") == 0 && cJSON_IsString(last) &&
	    strlen(last->valuestring) == HASH_HEX &&
	    memcmp(last->valuestring, s + len - HASH_MEMBER_LEN + plen, HASH_HEX) == 0) {
		li->shaped = true;
		memcpy(li->hash, last->valuestring, HASH_HEX + 1);
	}
	cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	cJSON *prev = cJSON_GetObjectItemCaseSensitive(o, "prev");
	if (cJSON_IsNumber(seq) && seq->valuedouble >= 1 && seq->valuedouble < 9e15 &&
	    seq->valuedouble == (double)(int64_t)seq->valuedouble && cJSON_IsString(prev) &&
	    is_hex64(prev->valuestring, strlen(prev->valuestring))) {
		li->fields = true;
		li->seq = (int64_t)seq->valuedouble;
		memcpy(li->prev, prev->valuestring, HASH_HEX + 1);
	}
	cJSON_Delete(o);
	if (a && li->shaped && li->fields) {
		/* TEXT: the line without `,"hash":"..."`, closed again. */
		size_t body = len - HASH_MEMBER_LEN;
		char *text = xmalloc(body + 1);
		memcpy(text, s, body);
		text[body] = '}';
		char h[HASH_HEX + 1];
		chain_hash(a, li->prev, text, body + 1, h);
		free(text);
		li->hash_ok = strcmp(h, li->hash) == 0;
	}
}

/* The last complete line of the log (*line, NULL when there is none),
 * whether the log is empty and whether it ends in a newline. Reads only
 * the tail: appends must not get slower as the log grows. */
static bool tail_line(int fd, const char *path, char **line, size_t *line_len, bool *empty, bool *ends_nl,
                      struct pgr_error *err)
{
	*line = NULL;
	*line_len = 0;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return pgr_error_errno(err, errno, "cannot stat \"%s\"", path);
	size_t size = (size_t)st.st_size;
	*empty = size == 0;
	*ends_nl = true;
	if (size == 0)
		return true;
	size_t want = 8192;
	for (;;) {
		if (want > size)
			want = size;
		char *buf = xmalloc(want);
		size_t got = 0;
		while (got < want) {
			ssize_t r = pread(fd, buf + got, want - got, (off_t)(size - want + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				int e = r < 0 ? errno : EIO;
				free(buf);
				return pgr_error_errno(err, e, "cannot read \"%s\"", path);
			}
			got += (size_t)r;
		}
		*ends_nl = buf[want - 1] == '\n';
		/* end: the newline closing the last complete line */
		size_t end = want;
		while (end > 0 && buf[end - 1] != '\n')
			end--;
		if (end > 0) {
			size_t start = end - 1;
			while (start > 0 && buf[start - 1] != '\n')
				start--;
			if (start > 0 || want == size) {
				*line_len = end - 1 - start;
				*line = xstrndup(buf + start, *line_len);
				free(buf);
				return true;
			}
		} else if (want == size) {
			free(buf);
			return true; /* no complete line at all */
		}
		free(buf);
		want *= 2;
	}
}

/* ------------------------------------------------------------ secrets */

/* Replace the value after every "password=" (any case: PGPASSWORD=,
 * --password=, ?password=) and the password of every URI's user:password@,
 * in text that is not a connection string as a whole (a command line). */
static char *redact_more(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = s;
	while (*p) {
		if (strncasecmp(p, "password=", 9) == 0) {
			sb_append_len(&sb, p, 9);
			p += 9;
			char q = (*p == '\'' || *p == '"') ? *p : 0;
			if (q) {
				sb_append_len(&sb, p, 1);
				p++;
				while (*p && *p != q) {
					if (*p == '\\' && p[1])
						p++;
					p++;
				}
				sb_append(&sb, "********");
				if (*p == q)
					sb_append_len(&sb, p++, 1);
			} else {
				while (*p && !strchr(" \t\r\n&;'\"", *p))
					p++;
				sb_append(&sb, "********");
			}
			continue;
		}
		if (strncmp(p, "://", 3) == 0) {
			sb_append_len(&sb, p, 3);
			p += 3;
			size_t auth = strcspn(p, "/?# \t\r\n'\"");
			const char *at = NULL;
			for (size_t i = 0; i < auth; i++)
				if (p[i] == '@')
					at = p + i;
			const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
			if (colon) {
				sb_append_len(&sb, p, (size_t)(colon - p) + 1);
				sb_append(&sb, "********");
				p = at;
			}
			continue;
		}
		sb_append_len(&sb, p++, 1);
	}
	return sb_steal(&sb);
}

/* Defence in depth: callers redact already; a password must never reach the
 * log even if one forgets. NULL stays NULL. */
static char *redact(const char *s)
{
	if (!s)
		return NULL;
	char *once = pgr_redact_conninfo(s);
	char *twice = redact_more(once);
	free(once);
	return twice;
}

/* ------------------------------------------------------------ open/close */

bool pgr_audit_open(struct pgr_audit *a, const char *path, const char *key_file, struct pgr_error *err)
{
	memset(a, 0, sizeof *a);
	if (path && *path) {
		a->path = xstrdup(path);
	} else {
		char *dir = pgr_state_dir();
		a->path = xasprintf("%s/audit.log", dir);
		free(dir);
	}
	if (!key_file || !*key_file)
		return true;
	struct stat st;
	if (stat(key_file, &st) < 0) {
		int e = errno;
		pgr_error_errno(err, e, "cannot use the audit key file \"%s\"", key_file);
		if (e == ENOENT && err)
			err->kind = PGR_ERR_NOTFOUND;
		pgr_error_hint(err,
		               "Check audit_key_file in the configuration; the key is needed to write and verify "
		               "the audit log \"%s\".",
		               a->path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		pgr_error_set(err, PGR_ERR_CONFIG, "the audit key file \"%s\" is not a regular file", key_file);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		pgr_error_set(
		        err, PGR_ERR_CONFIG,
		        "the audit key file \"%s\" is accessible by group or others (mode %04o); refusing to use it",
		        key_file, (unsigned)(st.st_mode & 07777));
		pgr_error_hint(err, "chmod 600 %s (and consider a new key: others may have read this one)", key_file);
		goto fail;
	}
	char *data = NULL;
	size_t len = 0;
	if (!pgr_read_file(key_file, &data, &len, err)) {
		pgr_error_prefix(err, "audit key file");
		goto fail;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len == 0) {
		free(data);
		pgr_error_set(err, PGR_ERR_CONFIG, "the audit key file \"%s\" is empty", key_file);
		pgr_error_hint(err, "Put a random key in it, e.g.: head -c 32 /dev/urandom | base64 > %s", key_file);
		goto fail;
	}
	a->key = data;
	a->key_len = len;
	return true;
fail:
	pgr_audit_close(a);
	return false;
}

void pgr_audit_close(struct pgr_audit *a)
{
	if (!a)
		return;
	free(a->path);
	if (a->key) {
		volatile char *k = a->key;
		for (size_t i = 0; i < a->key_len; i++)
			k[i] = 0;
		free(a->key);
	}
	memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------ append */

static void add_str(cJSON *o, const char *name, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, name, value);
	else
		cJSON_AddNullToObject(o, name);
}

static void time_now_utc_ms(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* TEXT of a new record (see the top of the file): the JSON object without hash. */
static char *record_text(const struct pgr_audit_event *ev, int64_t seq, const char *prev)
{
	char when[48];
	time_now_utc_ms(when, sizeof when);
	char uidbuf[32];
	struct passwd *pw = getpwuid(geteuid());
	const char *user = pw ? pw->pw_name : NULL;
	if (!user) {
		snprintf(uidbuf, sizeof uidbuf, "uid %ld", (long)geteuid());
		user = uidbuf;
	}
	const char *sudo = getenv("SUDO_USER");
	char host[256];
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	char *reason = redact(ev->reason), *command = redact(ev->command), *detail = redact(ev->detail);

	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	add_str(o, "time", when);
	add_str(o, "user", user);
	add_str(o, "sudo_user", sudo && *sudo ? sudo : NULL);
	add_str(o, "host", host);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	add_str(o, "env", ev->env);
	add_str(o, "incident", ev->incident);
	add_str(o, "reason", reason);
	add_str(o, "run", ev->run);
	add_str(o, "plan", ev->plan);
	add_str(o, "step", ev->step);
	add_str(o, "phase", ev->phase);
	add_str(o, "command", command);
	add_str(o, "outcome", ev->outcome);
	add_str(o, "detail", detail);
	if (ev->duration_ms >= 0)
		cJSON_AddNumberToObject(o, "duration_ms", (double)ev->duration_ms);
	else
		cJSON_AddNullToObject(o, "duration_ms");
	add_str(o, "prev", prev);
	char *printed = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(reason);
	free(command);
	free(detail);
	char *text = xstrdup(printed);
	cJSON_free(printed);
	return text;
}

/* Where the next record chains from: the head file, unless the log's last
 * line is the one record the head missed (a crash between the two fsyncs). */
static void chain_point(const char *path, const char *last, size_t last_len, int64_t *seq, char prev[HASH_HEX + 1])
{
	struct line_info li;
	bool have_last = false;
	if (last) {
		line_parse(NULL, last, last_len, &li);
		have_last = li.shaped && li.fields;
	}
	int64_t hseq = 0;
	char hhash[HASH_HEX + 1];
	if (head_read(path, &hseq, hhash) == HEAD_OK) {
		if (have_last && li.seq == hseq + 1 && strcmp(li.prev, hhash) == 0) {
			*seq = li.seq;
			memcpy(prev, li.hash, HASH_HEX + 1);
		} else {
			*seq = hseq;
			memcpy(prev, hhash, HASH_HEX + 1);
		}
	} else if (have_last) {
		*seq = li.seq;
		memcpy(prev, li.hash, HASH_HEX + 1);
	} else {
		*seq = 0;
		memcpy(prev, zero_hash, HASH_HEX + 1);
	}
}

bool pgr_audit_append(struct pgr_audit *a, const struct pgr_audit_event *ev, struct pgr_error *err)
{
	char *dir = xstrdup(a->path);
	char *slash = strrchr(dir, '/');
	bool ok = true;
	if (slash && slash != dir) {
		*slash = '\0';
		ok = pgr_mkdir_p(dir, 0700, err);
	}
	free(dir);
	if (!ok) {
		pgr_error_prefix(err, "audit log");
		return false;
	}
	int fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		pgr_error_errno(err, errno, "cannot open the audit log \"%s\"", a->path);
		pgr_error_hint(err,
		               "The audit log must be writable by the user running pgrescue (audit_log in the "
		               "configuration names it).");
		return false;
	}
	if (!lock_log(fd, LOCK_EX, a->path, err)) {
		close(fd);
		return false;
	}
	char *last = NULL;
	size_t last_len = 0;
	bool empty = true, ends_nl = true;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		pgr_error_errno(err, errno, "cannot stat \"%s\"", a->path);
		close(fd);
		return false;
	}
	if (!tail_line(fd, a->path, &last, &last_len, &empty, &ends_nl, err)) {
		close(fd);
		return false;
	}
	int64_t seq;
	char prev[HASH_HEX + 1];
	chain_point(a->path, last, last_len, &seq, prev);
	free(last);
	seq++;

	char *text = record_text(ev, seq, prev);
	size_t tlen = strlen(text);
	char hash[HASH_HEX + 1];
	chain_hash(a, prev, text, tlen, hash);
	struct strbuf line = STRBUF_INIT;
	if (!empty && !ends_nl)
		sb_append(&line, "\n"); /* a line cut off by a crash stays, visible, on its own */
	sb_append_len(&line, text, tlen - 1);
	sb_printf(&line, HASH_MEMBER_PREFIX "%s\"}\n", hash);
	free(text);

	if (!write_all(fd, line.buf, line.len) || fsync(fd) < 0) {
		int e = errno;
		/* Take back a partial line of ours so the log stays well formed. */
		if (ftruncate(fd, st.st_size) == 0)
			(void)fsync(fd);
		sb_free(&line);
		close(fd);
		return pgr_error_errno(err, e, "cannot write the audit log \"%s\"", a->path);
	}
	sb_free(&line);
	char *hp = head_path(a->path);
	char head[128];
	int hn = snprintf(head, sizeof head, "%" PRId64 " %s\n", seq, hash);
	ok = pgr_write_file_atomic(hp, head, (size_t)hn, 0600, err);
	if (!ok)
		pgr_error_prefix(err, "audit log head");
	free(hp);
	close(fd);
	return ok;
}

/* ------------------------------------------------------------ reading */

struct log_lines {
	char *data;
	size_t n;
	const char **s; /* start of each line */
	size_t *len; /* without the newline */
	bool ends_nl;
	enum head_state head;
	int64_t head_seq;
	char head_hash[HASH_HEX + 1];
};

static void log_lines_free(struct log_lines *l)
{
	free(l->data);
	free(l->s);
	free(l->len);
	memset(l, 0, sizeof *l);
}

/* Read the log and its head under a shared lock (no half-written line). */
static bool log_read(const struct pgr_audit *a, struct log_lines *l, struct pgr_error *err)
{
	memset(l, 0, sizeof *l);
	int fd = open(a->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e != ENOENT)
			return pgr_error_errno(err, e, "cannot open the audit log \"%s\"", a->path);
		int64_t hseq = 0;
		char hhash[HASH_HEX + 1];
		if (head_read(a->path, &hseq, hhash) == HEAD_OK && hseq > 0) {
			pgr_error_set(err, PGR_ERR_NOTFOUND,
			              "the audit log \"%s\" is missing, but its head file says %" PRId64
			              " records were written to it",
			              a->path, hseq);
			pgr_error_hint(err,
			               "The log has been deleted or moved. Restore it from a backup; keep %s.head "
			               "as evidence.",
			               a->path);
		} else {
			pgr_error_set(err, PGR_ERR_NOTFOUND, "there is no audit log at \"%s\"", a->path);
			pgr_error_hint(err,
			               "Nothing has been recorded there yet: the log is created by the first "
			               "restore, pitr or refused action. Another log is chosen with audit_log in "
			               "the environment's configuration (and --env).");
		}
		return false;
	}
	if (!lock_log(fd, LOCK_SH, a->path, err)) {
		close(fd);
		return false;
	}
	size_t len = 0;
	bool ok = read_fd(fd, a->path, &l->data, &len, err);
	if (ok)
		l->head = head_read(a->path, &l->head_seq, l->head_hash);
	close(fd);
	if (!ok)
		return false;
	l->ends_nl = len == 0 || l->data[len - 1] == '\n';
	size_t cap = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(l->data + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - l->data) : len;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 256;
			l->s = xrealloc(l->s, cap * sizeof *l->s);
			l->len = xrealloc(l->len, cap * sizeof *l->len);
		}
		l->s[l->n] = l->data + i;
		l->len[l->n] = e - i;
		l->n++;
		i = e + 1;
	}
	return true;
}

/* ------------------------------------------------------------ verify */

/* Record the first bad line and what is wrong with it. */
static void bad(struct pgr_audit_verdict *v, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(struct pgr_audit_verdict *v, size_t line, const char *fmt, ...)
{
	v->ok = false;
	v->first_bad_line = line;
	int k = snprintf(v->problem, sizeof v->problem, "line %zu: ", line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->problem + k, sizeof v->problem - (size_t)k, fmt, ap);
	va_end(ap);
}

/* The first line whose place in the chain is wrong, in words. */
static void check_chain(const struct pgr_audit *a, const struct log_lines *l, const struct line_info *li,
                        struct pgr_audit_verdict *v)
{
	int64_t expected = 1;
	const char *prev = zero_hash;
	size_t hash_ok = 0;
	for (size_t i = 0; i < l->n; i++)
		hash_ok += li[i].hash_ok;
	for (size_t i = 0; i < l->n; i++) {
		size_t k = i + 1;
		const struct line_info *r = &li[i];
		if (l->len[i] == 0) {
			bad(v, k, "empty line where a record was expected");
			return;
		}
		if (!r->json) {
			if (i + 1 == l->n && !l->ends_nl)
				bad(v, k, "cut off in the middle (not a complete JSON record)");
			else
				bad(v, k, "not a JSON record");
			return;
		}
		if (!r->shaped) {
			bad(v, k, "does not end in a \"hash\" member (not a pgrescue audit record, or edited)");
			return;
		}
		if (!r->fields) {
			bad(v, k, "has no valid \"seq\" or \"prev\" member (edited?)");
			return;
		}
		if (r->seq < expected) {
			for (size_t j = 0; j < i; j++) {
				if (l->len[j] == l->len[i] && memcmp(l->s[j], l->s[i], l->len[i]) == 0) {
					bad(v, k, "a copy of line %zu (record %" PRId64 " inserted again)", j + 1,
					    r->seq);
					return;
				}
			}
			for (size_t j = 0; j < i; j++) {
				if (li[j].seq == r->seq) {
					bad(v, k, "record %" PRId64 " again, already at line %zu (line inserted?)",
					    r->seq, j + 1);
					return;
				}
			}
			bad(v, k, "record %" PRId64 " comes after record %" PRId64 " (lines reordered?)", r->seq,
			    expected - 1);
			return;
		}
		if (r->seq > expected) {
			for (size_t j = i + 1; j < l->n; j++) {
				if (li[j].seq == expected) {
					bad(v, k,
					    "record %" PRId64 " is here but record %" PRId64
					    " comes later, at line %zu (lines reordered)",
					    r->seq, expected, j + 1);
					return;
				}
			}
			if (r->seq == expected + 1)
				bad(v, k, "record %" PRId64 " is missing before it (line deleted?)", expected);
			else
				bad(v, k, "records %" PRId64 " to %" PRId64 " are missing before it (lines deleted?)",
				    expected, r->seq - 1);
			return;
		}
		if (strcmp(r->prev, prev) != 0) {
			if (i == 0)
				bad(v, k, "the first record does not start the chain (its \"prev\" is not zeros)");
			else
				bad(v, k,
				    "its \"prev\" does not match the hash of line %zu (a line before it replaced?)", i);
			return;
		}
		if (!r->hash_ok) {
			if (hash_ok == 0 && a->key)
				bad(v, k,
				    "hash does not match its content, nor does any other record's: the log was "
				    "written with a different HMAC key, or without one");
			else if (hash_ok == 0)
				bad(v, k,
				    "hash does not match its content, nor does any other record's: the log was "
				    "probably written with an HMAC key (audit_key_file)");
			else
				bad(v, k, "hash does not match its content (edited?)");
			return;
		}
		prev = r->hash;
		expected++;
	}

	/* The chain is whole; has its end been cut off? */
	size_t n = l->n;
	int64_t last_seq = n ? li[n - 1].seq : 0;
	if (l->head == HEAD_MISSING) {
		if (n > 0)
			bad(v, n + 1, "the head file %s.head is missing, so lines cut off the end cannot be ruled out",
			    a->path);
		return;
	}
	if (l->head == HEAD_BAD) {
		bad(v, n + 1, "the head file %s.head is unreadable or not \"<seq> <hash>\"", a->path);
		return;
	}
	if (l->head_seq > last_seq) {
		bad(v, n + 1,
		    "missing: the log ends after record %" PRId64 " but %s.head says %" PRId64
		    " records were written (lines cut off the end)",
		    last_seq, a->path, l->head_seq);
		return;
	}
	if (l->head_seq >= 1 && strcmp(l->head_hash, li[l->head_seq - 1].hash) != 0) {
		bad(v, (size_t)l->head_seq,
		    "the hash of record %" PRId64
		    " is not the one in %s.head (line replaced, or the head file edited?)",
		    l->head_seq, a->path);
		return;
	}
	/* The head one record behind is a crash between the two fsyncs; more is not. */
	if (last_seq - l->head_seq >= 2)
		bad(v, (size_t)l->head_seq + 2,
		    "record %" PRId64 " and later are not covered by %s.head (appended behind pgrescue's back, or the "
		    "head file replaced?)",
		    l->head_seq + 2, a->path);
}

bool pgr_audit_verify(const struct pgr_audit *a, struct pgr_audit_verdict *v, struct pgr_error *err)
{
	memset(v, 0, sizeof *v);
	struct log_lines l;
	if (!log_read(a, &l, err))
		return false;
	struct line_info *li = xcalloc(l.n ? l.n : 1, sizeof *li);
	for (size_t i = 0; i < l.n; i++)
		line_parse(a, l.s[i], l.len[i], &li[i]);
	v->ok = true;
	v->records = l.n;
	check_chain(a, &l, li, v);
	free(li);
	log_lines_free(&l);
	return true;
}

/* ------------------------------------------------------------ show / read */

static const char *jstr(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static bool matches(const cJSON *o, const struct pgr_audit_filter *f)
{
	if (!f)
		return true;
	const char *env = jstr(o, "env"), *run = jstr(o, "run");
	if (f->env && (!env || strcmp(env, f->env) != 0))
		return false;
	if (f->run && (!run || strcmp(run, f->run) != 0))
		return false;
	return true;
}

/* The indices of the lines that are records and pass the filter, newest
 * last; *unreadable counts lines that are not JSON objects. */
static size_t *select_lines(const struct log_lines *l, const struct pgr_audit_filter *f, size_t *count,
                            size_t *unreadable)
{
	size_t *idx = xmalloc((l->n ? l->n : 1) * sizeof *idx);
	size_t n = 0;
	*unreadable = 0;
	for (size_t i = 0; i < l->n; i++) {
		cJSON *o = cJSON_ParseWithLength(l->s[i], l->len[i]);
		if (!cJSON_IsObject(o)) {
			(*unreadable)++;
			cJSON_Delete(o);
			continue;
		}
		if (matches(o, f))
			idx[n++] = i;
		cJSON_Delete(o);
	}
	size_t skip = f && f->last && n > f->last ? n - f->last : 0;
	memmove(idx, idx + skip, (n - skip) * sizeof *idx);
	*count = n - skip;
	return idx;
}

bool pgr_audit_read(const struct pgr_audit *a, const struct pgr_audit_filter *f, char ***lines, size_t *n,
                    struct pgr_error *err)
{
	*lines = NULL;
	*n = 0;
	struct log_lines l;
	if (!log_read(a, &l, err))
		return false;
	size_t count, unreadable;
	size_t *idx = select_lines(&l, f, &count, &unreadable);
	char **out = xcalloc(count ? count : 1, sizeof *out);
	for (size_t i = 0; i < count; i++)
		out[i] = xstrndup(l.s[idx[i]], l.len[idx[i]]);
	free(idx);
	log_lines_free(&l);
	*lines = out;
	*n = count;
	return true;
}

/* COL_DETAIL is not a column of its own: it shares the last one with the command. */
enum {
	COL_TIME,
	COL_USER,
	COL_ENV,
	COL_INCIDENT,
	COL_RUN,
	COL_STEP,
	COL_PHASE,
	COL_OUTCOME,
	COL_COMMAND,
	COL_DETAIL,
	NCOLS
};
static const char *const col_title[NCOLS] = {"TIME (UTC)", "USER",  "ENV",     "INCIDENT",         "RUN",
                                             "STEP",       "PHASE", "OUTCOME", "COMMAND / DETAIL", ""};
#define CELL_MAX 24
#define COMMAND_MIN 24

/* Copy s into a cell of at most max bytes, marking a cut with "..." and
 * never splitting a UTF-8 sequence. */
static char *cell(const char *s, size_t max)
{
	if (!s || !*s)
		return xstrdup("-");
	size_t len = strlen(s);
	if (len <= max)
		return xstrdup(s);
	size_t keep = max > 3 ? max - 3 : 0;
	while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
		keep--;
	char *c = xmalloc(keep + 4);
	memcpy(c, s, keep);
	memcpy(c + keep, "...", 4);
	return c;
}

/* s in at most max bytes, cut in the middle: a command's program and its
 * last arguments (the target) both stay readable. */
static char *elide_middle(const char *s, size_t max)
{
	size_t len = strlen(s);
	if (len <= max)
		return xstrdup(s);
	if (max < 12)
		return cell(s, max);
	size_t head = (max - 5) * 3 / 5, tail = max - 5 - head;
	while (head > 0 && ((unsigned char)s[head] & 0xC0) == 0x80)
		head--;
	size_t from = len - tail;
	while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80)
		from++;
	return xasprintf("%.*s ... %s", (int)head, s, s + from);
}

/* The last column: "command -- detail", the detail (an error, counts) kept
 * whole when it fits in half the width. */
static char *what_cell(const char *cmd, const char *detail, size_t max)
{
	bool has_cmd = cmd && *cmd && strcmp(cmd, "-") != 0, has_detail = detail && *detail && strcmp(detail, "-") != 0;
	if (!has_cmd && !has_detail)
		return xstrdup("-");
	if (!has_detail)
		return elide_middle(cmd, max);
	if (!has_cmd)
		return cell(detail, max);
	size_t clen = strlen(cmd), dlen = strlen(detail);
	if (clen + 4 + dlen <= max)
		return xasprintf("%s -- %s", cmd, detail);
	size_t dmax = dlen < max / 2 ? dlen : max / 2;
	if (max - 4 - dmax < 16) /* no room for both: the detail says how it went */
		return cell(detail, max);
	char *d = cell(detail, dmax);
	char *c = elide_middle(cmd, max - 4 - strlen(d));
	char *w = xasprintf("%s -- %s", c, d);
	free(c);
	free(d);
	return w;
}

static void flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\t' || *s == '\r')
			*s = ' ';
}

/* The terminal's width; COLUMNS when set; else (a pipe, a file) no limit. */
static size_t out_width(FILE *out)
{
	struct winsize ws;
	if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	if (c && atoi(c) > 0)
		return (size_t)atoi(c);
	return SIZE_MAX / 2;
}

bool pgr_audit_show(const struct pgr_audit *a, const struct pgr_audit_filter *f, FILE *out, struct pgr_error *err)
{
	struct log_lines l;
	if (!log_read(a, &l, err))
		return false;
	size_t count, unreadable;
	size_t *idx = select_lines(&l, f, &count, &unreadable);
	char **cells = xcalloc((count + 1) * NCOLS, sizeof *cells);
	size_t width[NCOLS];
	for (int c = 0; c < NCOLS; c++) {
		cells[c] = xstrdup(col_title[c]);
		width[c] = strlen(col_title[c]);
	}
	for (size_t r = 0; r < count; r++) {
		cJSON *o = cJSON_ParseWithLength(l.s[idx[r]], l.len[idx[r]]);
		char **row = cells + (r + 1) * NCOLS;
		char when[32] = "";
		const char *t = jstr(o, "time");
		if (t) {
			snprintf(when, sizeof when, "%.19s", t);
			if (strlen(when) > 10 && when[10] == 'T')
				when[10] = ' ';
		}
		const char *user = jstr(o, "user"), *sudo = jstr(o, "sudo_user");
		char *who = sudo ? xasprintf("%s (sudo)", sudo) : xstrdup(user ? user : "");
		row[COL_TIME] = cell(when, CELL_MAX);
		row[COL_USER] = cell(who, CELL_MAX);
		row[COL_ENV] = cell(jstr(o, "env"), CELL_MAX);
		row[COL_INCIDENT] = cell(jstr(o, "incident"), CELL_MAX);
		row[COL_RUN] = cell(jstr(o, "run"), CELL_MAX);
		row[COL_STEP] = cell(jstr(o, "step"), CELL_MAX);
		row[COL_PHASE] = cell(jstr(o, "phase"), CELL_MAX);
		row[COL_OUTCOME] = cell(jstr(o, "outcome"), CELL_MAX);
		row[COL_COMMAND] = xstrdup(jstr(o, "command") ? jstr(o, "command") : "");
		row[COL_DETAIL] = xstrdup(jstr(o, "detail") ? jstr(o, "detail") : "");
		flatten(row[COL_COMMAND]);
		flatten(row[COL_DETAIL]);
		free(who);
		cJSON_Delete(o);
		for (int c = 0; c < COL_COMMAND; c++)
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
	}
	/* A column the filter fixes says nothing. */
	bool hide[NCOLS] = {false};
	hide[COL_ENV] = f && f->env;
	hide[COL_RUN] = f && f->run;
	size_t used = 0;
	for (int c = 0; c < COL_COMMAND; c++)
		used += hide[c] ? 0 : width[c] + 2;
	size_t total = out_width(out);
	size_t cmd_max = total > used + COMMAND_MIN ? total - used : COMMAND_MIN;
	for (size_t r = 0; r <= count; r++) {
		char **row = cells + r * NCOLS;
		for (int c = 0; c < COL_COMMAND; c++)
			if (!hide[c])
				fprintf(out, "%-*s  ", (int)width[c], row[c]);
		char *what = r ? what_cell(row[COL_COMMAND], row[COL_DETAIL], cmd_max) : xstrdup(row[COL_COMMAND]);
		fprintf(out, "%s\n", what);
		free(what);
	}
	if (count == 0)
		fprintf(out, "(no audit records%s)\n", f && (f->env || f->run) ? " match" : "");
	if (unreadable)
		fprintf(out, "note: %zu line%s of %s could not be read as records; run `pgrescue audit verify`\n",
		        unreadable, unreadable == 1 ? "" : "s", a->path);
	for (size_t i = 0; i < (count + 1) * NCOLS; i++)
		free(cells[i]);
	free(cells);
	free(idx);
	log_lines_free(&l);
	return true;
}

bool pgr_audit_decision(const struct pgr_env *env, const char *plan, const char *incident, const char *reason,
                        const char *phase, const char *command, const char *detail, struct pgr_error *err)
{
	struct pgr_audit a;
	if (!pgr_audit_open(&a, env ? env->audit_log : NULL, env ? env->audit_key_file : NULL, err))
		return false;
	struct pgr_audit_event ev = {
	        .env = env ? env->name : NULL,
	        .incident = incident,
	        .reason = reason,
	        .plan = plan,
	        .phase = phase,
	        .command = command,
	        .outcome = phase,
	        .detail = detail,
	        .duration_ms = -1,
	};
	bool ok = pgr_audit_append(&a, &ev, err);
	pgr_audit_close(&a);
	return ok;
}
