/* pgrescue's backup manifests as JSON (see manifest.h). Writing is plain;
 * reading checks every field's type and names the field and the source in
 * its errors, because a manifest is read back from a store months later. */
#include "config.h"

#include "ops/manifest.h"

#include "base/fsutil.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_FORMAT 1

void pgr_manifest_init(struct pgr_manifest *m, enum pgr_backup_kind kind)
{
	memset(m, 0, sizeof *m);
	m->format_version = MANIFEST_FORMAT;
	m->kind = kind;
}

void pgr_manifest_free(struct pgr_manifest *m)
{
	if (!m)
		return;
	free(m->label);
	free(m->database);
	free(m->server_version);
	free(m->system_identifier);
	free(m->pgrescue_version);
	free(m->status);
	free(m->start_wal);
	free(m->stop_wal);
	for (size_t i = 0; i < m->n_files; i++)
		free(m->files[i].name);
	free(m->files);
	for (size_t i = 0; i < m->n_tables; i++) {
		free(m->tables[i].schema);
		free(m->tables[i].table);
	}
	free(m->tables);
	enum pgr_backup_kind kind = m->kind;
	pgr_manifest_init(m, kind);
}

/* Arrays grow by doubling when the count reaches a power of two, so the
 * struct needs no capacity field. */
static void *grow(void *p, size_t n, size_t elem)
{
	if (n == 0)
		return xrealloc(p, 8 * elem);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xrealloc(p, 2 * n * elem);
	return p;
}

void pgr_manifest_add_file(struct pgr_manifest *m, const char *name, uint64_t size, const char *sha256)
{
	m->files = grow(m->files, m->n_files, sizeof *m->files);
	struct pgr_manifest_file *f = &m->files[m->n_files++];
	f->name = xstrdup(name);
	f->size = size;
	snprintf(f->sha256, sizeof f->sha256, "%s", sha256 ? sha256 : "");
}

void pgr_manifest_add_table(struct pgr_manifest *m, const char *schema, const char *table, int64_t rows)
{
	m->tables = grow(m->tables, m->n_tables, sizeof *m->tables);
	struct pgr_table_count *t = &m->tables[m->n_tables++];
	t->schema = xstrdup(schema);
	t->table = xstrdup(table);
	t->rows = rows;
}

int64_t pgr_manifest_rows(const struct pgr_manifest *m, const char *schema, const char *table)
{
	for (size_t i = 0; i < m->n_tables; i++)
		if (!strcmp(m->tables[i].schema, schema) && !strcmp(m->tables[i].table, table))
			return m->tables[i].rows;
	return -1;
}

/* ------------------------------------------------------------------ writing */

static void fmt_lsn(uint64_t lsn, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

/* Integers go out as raw text: cJSON's doubles would print 1e+15. */
static void add_u64(cJSON *o, const char *key, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	cJSON_AddRawToObject(o, key, buf);
}

static void add_i64(cJSON *o, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	cJSON_AddRawToObject(o, key, buf);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_lsn(cJSON *o, const char *key, uint64_t lsn, bool known)
{
	if (!known) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char buf[32];
	fmt_lsn(lsn, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_time(cJSON *o, const char *key, time_t t)
{
	char buf[64], ukey[64];
	pgr_time_format_utc(t, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
	snprintf(ukey, sizeof ukey, "%s_unix", key);
	add_i64(o, ukey, (int64_t)t);
}

char *pgr_manifest_to_json(const struct pgr_manifest *m)
{
	cJSON *o = cJSON_CreateObject();
	add_i64(o, "format_version", m->format_version);
	cJSON_AddStringToObject(o, "kind", m->kind == PGR_BACKUP_BASE ? "base" : "dump");
	add_str(o, "label", m->label);
	add_str(o, "status", m->status);
	add_str(o, "database", m->database);
	add_str(o, "server_version", m->server_version);
	add_str(o, "system_identifier", m->system_identifier);
	add_str(o, "pgrescue_version", m->pgrescue_version);
	add_time(o, "start_time", m->start_time);
	add_time(o, "stop_time", m->stop_time);
	add_lsn(o, "start_lsn", m->start_lsn, m->start_lsn != 0);
	add_lsn(o, "stop_lsn", m->stop_lsn, m->stop_lsn != 0);
	add_lsn(o, "rows_lsn", m->rows_lsn, m->rows_lsn != 0);
	add_u64(o, "timeline", m->timeline);
	add_u64(o, "wal_segment_size", m->wal_segment_size);
	add_str(o, "start_wal", m->start_wal);
	add_str(o, "stop_wal", m->stop_wal);

	cJSON *files = cJSON_AddArrayToObject(o, "files");
	for (size_t i = 0; i < m->n_files; i++) {
		cJSON *f = cJSON_CreateObject();
		add_str(f, "name", m->files[i].name);
		add_u64(f, "size", m->files[i].size);
		add_str(f, "sha256", m->files[i].sha256);
		cJSON_AddItemToArray(files, f);
	}
	cJSON *tables = cJSON_AddArrayToObject(o, "tables");
	for (size_t i = 0; i < m->n_tables; i++) {
		cJSON *t = cJSON_CreateObject();
		add_str(t, "schema", m->tables[i].schema);
		add_str(t, "table", m->tables[i].table);
		add_i64(t, "rows", m->tables[i].rows);
		cJSON_AddItemToArray(tables, t);
	}
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	char *out = xasprintf("%s\n", text);
	cJSON_free(text);
	return out;
}

/* ------------------------------------------------------------------ reading */

struct rd {
	const char *source;
	struct pgr_error *err;
};

static bool bad(struct rd *r, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(struct rd *r, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	pgr_error_set(r->err, PGR_ERR_STORE, "invalid pgrescue manifest %s: field \"%s\" %s", r->source, field, what);
	pgr_error_hint(r->err,
	               "The file may be damaged or not written by pgrescue; a backup whose manifest cannot "
	               "be read is not counted as complete.");
	return false;
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	return "invalid";
}

/* Optional string: absent or null leaves *out NULL. */
static bool get_str(struct rd *r, const cJSON *o, const char *key, const char *path, bool required, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return bad(r, path, "is missing");
		return true;
	}
	if (!cJSON_IsString(v))
		return bad(r, path, "must be a string, not %s", type_name(v));
	*out = xstrdup(v->valuestring);
	return true;
}

/* Integer in [min, max]; *present tells whether it was there. */
static bool get_int(struct rd *r, const cJSON *o, const char *key, const char *path, bool required, double min,
                    double max, double *out, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*present = false;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return bad(r, path, "is missing");
		return true;
	}
	if (!cJSON_IsNumber(v))
		return bad(r, path, "must be a number, not %s", type_name(v));
	double d = v->valuedouble;
	if (!isfinite(d))
		return bad(r, path, "must be a finite number");
	if (d < min || d > max)
		return bad(r, path, "is out of range (%.0f)", d);
	/* In range, so the casts are defined; no libm needed. */
	bool whole = d >= 0 ? (double)(uint64_t)d == d : (double)(int64_t)d == d;
	if (!whole)
		return bad(r, path, "must be a whole number, got %g", d);
	*out = d;
	*present = true;
	return true;
}

static bool parse_lsn(const char *s, uint64_t *out)
{
	char *end;
	if (!isxdigit((unsigned char)s[0]))
		return false;
	unsigned long long hi = strtoull(s, &end, 16);
	if (*end != '/' || end - s > 8 || hi > 0xFFFFFFFFULL || !isxdigit((unsigned char)end[1]))
		return false;
	const char *lo_s = end + 1;
	unsigned long long lo = strtoull(lo_s, &end, 16);
	if (*end != '\0' || end - lo_s > 8 || lo > 0xFFFFFFFFULL)
		return false;
	*out = ((uint64_t)hi << 32) | (uint64_t)lo;
	return true;
}

static bool get_lsn(struct rd *r, const cJSON *o, const char *key, uint64_t *out)
{
	char *s = NULL;
	*out = 0;
	if (!get_str(r, o, key, key, false, &s))
		return false;
	if (!s)
		return true;
	bool ok = parse_lsn(s, out);
	if (!ok)
		bad(r, key, "must be an LSN like \"0/16B3D48\", got \"%.64s\"", s);
	free(s);
	return ok;
}

static bool get_walname(struct rd *r, const cJSON *o, const char *key, char **out)
{
	if (!get_str(r, o, key, key, false, out))
		return false;
	if (!*out)
		return true;
	size_t n = strlen(*out);
	bool ok = n == 24;
	for (size_t i = 0; ok && i < n; i++)
		ok = isxdigit((unsigned char)(*out)[i]) != 0;
	if (!ok) {
		bad(r, key, "must be a WAL segment name of 24 hex digits, got \"%.64s\"", *out);
		free(*out);
		*out = NULL;
	}
	return ok;
}

/* A time as "key" (RFC 3339, UTC) and/or "key_unix" (seconds); both must agree. */
static bool get_time(struct rd *r, const cJSON *o, const char *key, time_t *out)
{
	char ukey[64];
	snprintf(ukey, sizeof ukey, "%s_unix", key);
	double u = 0;
	bool have_u = false;
	if (!get_int(r, o, ukey, ukey, false, 0, 253402300799.0, &u, &have_u))
		return false;
	char *s = NULL;
	if (!get_str(r, o, key, key, false, &s))
		return false;
	time_t t = 0;
	if (s) {
		struct pgr_error terr = {0};
		bool ok = pgr_time_parse(s, &t, &terr);
		if (!ok)
			bad(r, key, "must be an RFC 3339 time like \"2026-01-02T02:00:00Z\", got \"%.64s\"", s);
		free(s);
		if (!ok)
			return false;
		if (have_u && (time_t)u != t)
			return bad(r, key, "disagrees with \"%s\" (%.0f)", ukey, u);
	} else if (have_u) {
		t = (time_t)u;
	} else {
		return bad(r, key, "is missing (neither \"%s\" nor \"%s\" is present)", key, ukey);
	}
	*out = t;
	return true;
}

static bool get_files(struct rd *r, const cJSON *o, struct pgr_manifest *m)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "files");
	if (!arr || cJSON_IsNull(arr))
		return true;
	if (!cJSON_IsArray(arr))
		return bad(r, "files", "must be an array, not %s", type_name(arr));
	int i = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, arr)
	{
		char path[64];
		snprintf(path, sizeof path, "files[%d]", i);
		if (!cJSON_IsObject(f))
			return bad(r, path, "must be an object, not %s", type_name(f));
		char *name = NULL, *sha = NULL;
		double size = 0;
		bool have = false;
		snprintf(path, sizeof path, "files[%d].name", i);
		if (!get_str(r, f, "name", path, true, &name))
			return false;
		if (!*name) {
			free(name);
			return bad(r, path, "must not be empty");
		}
		snprintf(path, sizeof path, "files[%d].size", i);
		if (!get_int(r, f, "size", path, true, 0, 9007199254740992.0, &size, &have)) {
			free(name);
			return false;
		}
		snprintf(path, sizeof path, "files[%d].sha256", i);
		if (!get_str(r, f, "sha256", path, true, &sha)) {
			free(name);
			return false;
		}
		if (!pgr_is_sha256_hex(sha)) {
			bad(r, path, "must be 64 lowercase hex digits, got \"%.80s\"", sha);
			free(name);
			free(sha);
			return false;
		}
		pgr_manifest_add_file(m, name, (uint64_t)size, sha);
		free(name);
		free(sha);
		i++;
	}
	return true;
}

static bool get_tables(struct rd *r, const cJSON *o, struct pgr_manifest *m)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "tables");
	if (!arr || cJSON_IsNull(arr))
		return true;
	if (!cJSON_IsArray(arr))
		return bad(r, "tables", "must be an array, not %s", type_name(arr));
	int i = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, arr)
	{
		char path[64];
		snprintf(path, sizeof path, "tables[%d]", i);
		if (!cJSON_IsObject(t))
			return bad(r, path, "must be an object, not %s", type_name(t));
		char *schema = NULL, *table = NULL;
		double rows = 0;
		bool have = false;
		snprintf(path, sizeof path, "tables[%d].schema", i);
		if (!get_str(r, t, "schema", path, true, &schema))
			return false;
		snprintf(path, sizeof path, "tables[%d].table", i);
		if (!get_str(r, t, "table", path, true, &table)) {
			free(schema);
			return false;
		}
		snprintf(path, sizeof path, "tables[%d].rows", i);
		if (!get_int(r, t, "rows", path, true, 0, 9007199254740992.0, &rows, &have)) {
			free(schema);
			free(table);
			return false;
		}
		pgr_manifest_add_table(m, schema, table, (int64_t)rows);
		free(schema);
		free(table);
		i++;
	}
	return true;
}

static bool parse_fields(struct rd *r, const cJSON *o, struct pgr_manifest *m)
{
	double d = 0;
	bool have = false;
	if (!get_int(r, o, "format_version", "format_version", true, 1, 1000000, &d, &have))
		return false;
	if ((int)d > MANIFEST_FORMAT) {
		pgr_error_set(r->err, PGR_ERR_STORE,
		              "pgrescue manifest %s has format_version %d; this pgrescue reads version %d", r->source,
		              (int)d, MANIFEST_FORMAT);
		pgr_error_hint(r->err, "It was written by a newer pgrescue: upgrade pgrescue to read it.");
		return false;
	}
	m->format_version = (int)d;

	char *kind = NULL;
	if (!get_str(r, o, "kind", "kind", true, &kind))
		return false;
	if (!strcmp(kind, "dump")) {
		m->kind = PGR_BACKUP_DUMP;
	} else if (!strcmp(kind, "base")) {
		m->kind = PGR_BACKUP_BASE;
	} else {
		bad(r, "kind", "must be \"dump\" or \"base\", got \"%.64s\"", kind);
		free(kind);
		return false;
	}
	free(kind);

	if (!get_str(r, o, "label", "label", true, &m->label))
		return false;
	time_t lt;
	if (!pgr_label_parse(m->label, &lt))
		return bad(r, "label", "must be a UTC time like \"20260102-020000\", got \"%.64s\"", m->label);
	if (!get_str(r, o, "status", "status", true, &m->status))
		return false;
	if (strcmp(m->status, "complete") != 0 && strcmp(m->status, "failed") != 0)
		return bad(r, "status", "must be \"complete\" or \"failed\", got \"%.64s\"", m->status);

	if (!get_str(r, o, "database", "database", false, &m->database) ||
	    !get_str(r, o, "server_version", "server_version", false, &m->server_version) ||
	    !get_str(r, o, "system_identifier", "system_identifier", false, &m->system_identifier) ||
	    !get_str(r, o, "pgrescue_version", "pgrescue_version", false, &m->pgrescue_version))
		return false;
	if (!get_time(r, o, "start_time", &m->start_time) || !get_time(r, o, "stop_time", &m->stop_time))
		return false;
	if (m->stop_time < m->start_time)
		return bad(r, "stop_time", "is before start_time");
	if (!get_lsn(r, o, "start_lsn", &m->start_lsn) || !get_lsn(r, o, "stop_lsn", &m->stop_lsn) ||
	    !get_lsn(r, o, "rows_lsn", &m->rows_lsn))
		return false;
	if (m->stop_lsn && m->stop_lsn < m->start_lsn)
		return bad(r, "stop_lsn", "is before start_lsn");

	if (!get_int(r, o, "timeline", "timeline", false, 0, 4294967295.0, &d, &have))
		return false;
	m->timeline = have ? (uint32_t)d : 0;
	if (!get_int(r, o, "wal_segment_size", "wal_segment_size", false, 0, 1073741824.0, &d, &have))
		return false;
	m->wal_segment_size = have ? (uint64_t)d : 0;
	if (m->wal_segment_size &&
	    (m->wal_segment_size < 1048576 || (m->wal_segment_size & (m->wal_segment_size - 1)) != 0))
		return bad(r, "wal_segment_size", "must be a power of two between 1 MB and 1 GB, got %" PRIu64,
		           m->wal_segment_size);
	if (!get_walname(r, o, "start_wal", &m->start_wal) || !get_walname(r, o, "stop_wal", &m->stop_wal))
		return false;

	if (m->kind == PGR_BACKUP_BASE && !strcmp(m->status, "complete")) {
		/* A restore needs these to find its WAL: a complete base without them is useless. */
		if (!m->start_lsn)
			return bad(r, "start_lsn", "is missing (required for a complete base backup)");
		if (!m->stop_lsn)
			return bad(r, "stop_lsn", "is missing (required for a complete base backup)");
		if (!m->timeline)
			return bad(r, "timeline", "is missing or 0 (required for a complete base backup)");
		if (!m->wal_segment_size)
			return bad(r, "wal_segment_size", "is missing or 0 (required for a complete base backup)");
		if (!m->start_wal)
			return bad(r, "start_wal", "is missing (required for a complete base backup)");
		if (!m->stop_wal)
			return bad(r, "stop_wal", "is missing (required for a complete base backup)");
	}
	return get_files(r, o, m) && get_tables(r, o, m);
}

bool pgr_manifest_from_json(const char *text, const char *source, struct pgr_manifest *m, struct pgr_error *err)
{
	struct rd r = {.source = source ? source : "(manifest)", .err = err};
	pgr_manifest_init(m, PGR_BACKUP_DUMP);
	if (!text)
		return pgr_error_set(err, PGR_ERR_STORE, "pgrescue manifest %s is empty", r.source);
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithOpts(text, &end, true);
	if (!o) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;
		pgr_error_set(err, PGR_ERR_STORE, "pgrescue manifest %s is not valid JSON (near byte %zu)", r.source,
		              off);
		pgr_error_hint(err,
		               "The file may be truncated or damaged; a backup whose manifest cannot be read is "
		               "not counted as complete.");
		return false;
	}
	bool ok;
	if (!cJSON_IsObject(o))
		ok = bad(&r, "(top level)", "must be an object, not %s", type_name(o));
	else
		ok = parse_fields(&r, o, m);
	cJSON_Delete(o);
	if (!ok)
		pgr_manifest_free(m);
	return ok;
}

const struct pgr_manifest_file *pgr_manifest_file(const struct pgr_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_files; i++)
		if (!strcmp(m->files[i].name, name))
			return &m->files[i];
	return NULL;
}

bool pgr_manifest_file_check(const struct pgr_manifest_file *f, const char *path, const char *what,
                             const char *manifest_key, char got[65], struct pgr_error *err)
{
	got[0] = '\0';
	if (!f->sha256[0])
		return true;
	uint64_t size = 0;
	if (!pgr_sha256_file(path, got, &size, err))
		return false;
	if (size == f->size && !strcmp(got, f->sha256))
		return true;
	return pgr_error_set(err, PGR_ERR_STORE,
	                     "the %s %s is damaged: %" PRIu64 " bytes with SHA-256 %s, but its manifest %s recorded "
	                     "%" PRIu64 " bytes with SHA-256 %s",
	                     what, f->name, size, got, manifest_key, f->size, f->sha256);
}
