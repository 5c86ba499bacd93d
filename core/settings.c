/* Configuration (see settings.h): libinih does the INI syntax; this file
 * knows the keys, their types and defaults, and says file:line when wrong. */
#include "config.h"

#include "settings.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "source/pg.h"

#define ENV_PREFIX "env "
#define PGR_CONFIG_MAX_LINE 199

void pgr_env_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

void pgr_env_defaults(struct pgr_env *e)
{
	memset(e, 0, sizeof *e);
	e->platform = xstrdup("local");
	e->pg_bindir = xstrdup(PG_BINDIR_DEFAULT);
	e->run_as = xstrdup("postgres");
	e->retention_dumps = 30 * 86400;
	e->retention_base = 0; /* follows retention_wal */
	e->retention_wal = 7 * 86400;
	e->retention_snapshots = 14 * 86400;
	e->backup_max_age = 24 * 3600;
	e->wal_lag_warn = 5 * 60;
	e->wal_lag_critical = 15 * 60;
	e->rto_target = 30 * 60;
	e->rto_max = 60 * 60;
	e->app_scale = xstrdup("none");
	e->app_name = xstrdup("clipper-backend");
}

/* The string fields, for copy/free/lookup: one table instead of three lists. */
struct str_key {
	const char *name;
	size_t off;
};
#define SK(f)                                                                                                          \
	{                                                                                                              \
#f, offsetof(struct pgr_env, f)                                                                        \
	}
static const struct str_key str_keys[] = {
        SK(platform),
        SK(dsn),
        SK(store),
        SK(pg_bindir),
        SK(run_as),
        SK(data_dir),
        SK(app_scale),
        SK(app_scale_get_command),
        SK(app_scale_set_command),
        SK(app_name),
        SK(metrics_file),
        SK(pushgateway),
        SK(prometheus),
        SK(theme),
        SK(sandbox_dir),
        SK(audit_log),
        SK(audit_key_file),
        SK(s3_endpoint),
        SK(s3_region),
        SK(s3_url_style),
        SK(s3_sse),
        SK(s3_storage_class),
        SK(s3_profile),
        SK(azure_endpoint),
        SK(ca_file),
        SK(store_credentials_file),
};
struct dur_key {
	const char *name;
	size_t off;
};
#define DK(f)                                                                                                          \
	{                                                                                                              \
#f, offsetof(struct pgr_env, f)                                                                        \
	}
static const struct dur_key dur_keys[] = {
        DK(retention_dumps), DK(retention_base), DK(retention_wal),    DK(retention_snapshots),
        DK(backup_max_age),  DK(wal_lag_warn),   DK(wal_lag_critical), DK(rto_target),
        DK(rto_max),         DK(store_timeout),
};
#define N_STR (sizeof str_keys / sizeof str_keys[0])
#define N_DUR (sizeof dur_keys / sizeof dur_keys[0])

static char **str_field(struct pgr_env *e, size_t i)
{
	return (char **)((char *)e + str_keys[i].off);
}

static int64_t *dur_field(struct pgr_env *e, size_t i)
{
	return (int64_t *)((char *)e + dur_keys[i].off);
}

void pgr_env_copy(struct pgr_env *dst, const struct pgr_env *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	for (size_t i = 0; i < N_STR; i++) {
		char **f = str_field(dst, i);
		if (*f)
			*f = xstrdup(*f);
	}
}

static bool valid_env_name(const char *n);

char *pgr_env_to_ini(const struct pgr_env *e)
{
	struct strbuf sb = STRBUF_INIT;
	const char *name = e->name && valid_env_name(e->name) ? e->name : "adhoc";
	sb_printf(&sb, "[env %s]\n", name);
	for (size_t i = 0; i < N_STR; i++) {
		const char *v = *str_field((struct pgr_env *)e, i);
		if (v && *v)
			sb_printf(&sb, "%s = %s\n", str_keys[i].name, v);
	}
	for (size_t i = 0; i < N_DUR; i++)
		sb_printf(&sb, "%s = %llds\n", dur_keys[i].name, (long long)*dur_field((struct pgr_env *)e, i));
	sb_printf(&sb, "readonly = %s\n", e->readonly ? "true" : "false");
	return sb_steal(&sb);
}

void pgr_env_free(struct pgr_env *e)
{
	free(e->name);
	for (size_t i = 0; i < N_STR; i++)
		free(*str_field(e, i));
	memset(e, 0, sizeof *e);
}

char *pgr_config_default_path(const char *cli_path)
{
	if (cli_path && *cli_path)
		return xstrdup(cli_path);
	const char *env = getenv("PGRESCUE_CONFIG");
	if (env && *env)
		return xstrdup(env);
	const char *xdg = getenv("XDG_CONFIG_HOME");
	if (xdg && *xdg)
		return xasprintf("%s/pgrescue/config.ini", xdg);
	const char *home = getenv("HOME");
	return xasprintf("%s/.config/pgrescue/config.ini", home && *home ? home : ".");
}

struct parse_ctx {
	struct pgr_config *cfg;
	struct pgr_env *cur;
	const char *text; /* for finding section header lines */
	char errmsg[768];
	char errhint[512];
	bool failed;
};

static int bad(struct parse_ctx *c, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(struct parse_ctx *c, const char *hint, const char *fmt, ...)
{
	if (!c->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
		va_end(ap);
		snprintf(c->errhint, sizeof c->errhint, "%s", hint ? hint : "");
		c->failed = true;
	}
	return 0; /* inih reports the line of the first handler that returns 0 */
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		return *out = true, true;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		return *out = false, true;
	return false;
}

/* 1-based line of "[env NAME]" in text, 0 if not found. */
static int section_line(const char *text, const char *name)
{
	int line = 1;
	for (const char *p = text; p && *p; line++) {
		const char *q = p;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '[') {
			q++;
			while (*q == ' ')
				q++;
			size_t pl = strlen(ENV_PREFIX), nl = strlen(name);
			if (!strncmp(q, ENV_PREFIX, pl)) {
				q += pl;
				while (*q == ' ')
					q++;
				if (!strncmp(q, name, nl)) {
					const char *r = q + nl;
					while (*r == ' ')
						r++;
					if (*r == ']')
						return line;
				}
			}
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static bool valid_env_name(const char *n)
{
	if (!*n || strlen(n) > 63)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_' || *p == '.'))
			return false;
	return true;
}

static struct pgr_env *env_for_section(struct parse_ctx *c, const char *section)
{
	if (c->cur && c->cur->name && !strcmp(section + strlen(ENV_PREFIX), c->cur->name))
		return c->cur;
	const char *name = section + strlen(ENV_PREFIX);
	while (*name == ' ')
		name++;
	for (int i = 0; i < c->cfg->n_envs; i++)
		if (!strcmp(c->cfg->envs[i].name, name)) {
			/* inih merges a repeated section; a second [env X] block is a mistake. */
			return c->cur = &c->cfg->envs[i];
		}
	if (!valid_env_name(name)) {
		bad(c, "Environment names use letters, digits, '-', '_' and '.'.", "invalid environment name \"%s\"",
		    name);
		return NULL;
	}
	if (c->cfg->n_envs >= PGR_MAX_ENVS) {
		bad(c, NULL, "too many environments (at most %d)", PGR_MAX_ENVS);
		return NULL;
	}
	struct pgr_env *e = &c->cfg->envs[c->cfg->n_envs++];
	pgr_env_defaults(e);
	e->name = xstrdup(name);
	e->line = section_line(c->text, name);
	c->cur = e;
	return e;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;
	if (c->failed)
		return 1; /* report only the first error */
	if (!*section) {
		if (!strcmp(key, "default")) {
			if (!valid_env_name(value))
				return bad(c, NULL, "default: \"%s\" is not a valid environment name", value);
			pgr_env_set(&c->cfg->default_env, value);
			return 1;
		}
		return bad(c, "Only `default = NAME` may stand above the first [env NAME] section.",
		           "unknown top-level key \"%s\"", key);
	}
	if (strncmp(section, ENV_PREFIX, strlen(ENV_PREFIX)) != 0)
		return bad(c, "Sections are named [env NAME], one per environment.", "unknown section [%s]", section);
	struct pgr_env *e = env_for_section(c, section);
	if (!e)
		return 0;
	for (size_t i = 0; i < N_STR; i++) {
		if (strcmp(key, str_keys[i].name) != 0)
			continue;
		if (!strcmp(key, "platform") && strcmp(value, "local") && strcmp(value, "kubernetes"))
			return bad(c, "platform is local or kubernetes.", "[env %s] platform: unknown platform \"%s\"",
			           e->name, value);
		if (!strcmp(key, "app_scale") && strcmp(value, "builtin") && strcmp(value, "command") &&
		    strcmp(value, "none"))
			return bad(c,
			           "app_scale is builtin (the sandbox's app), command (with app_scale_get_command "
			           "and app_scale_set_command) or none.",
			           "[env %s] app_scale: unknown value \"%s\"", e->name, value);
		if (!strcmp(key, "dsn") && pgr_pg_dsn_has_password(value))
			return bad(c, "Remove the password: put it in ~/.pgpass (or a service file, or PGPASSWORD).",
			           "[env %s] dsn: contains a password; passwords never go in pgrescue's config",
			           e->name);
		if (!strcmp(key, "store") && !strstr(value, "://") && value[0] != '/')
			return bad(c,
			           "Stores look like file:///var/backups/pgrescue, s3://bucket/prefix, "
			           "gs://bucket/prefix or "
			           "az://account/container/prefix.",
			           "[env %s] store: \"%s\" is not a store URL", e->name, value);
		if (!strcmp(key, "store_credentials_file") && value[0] != '/')
			return bad(c,
			           "Give an absolute path: archive_command and restore_command run in the server's "
			           "own directory.",
			           "[env %s] store_credentials_file: \"%s\" is not an absolute path", e->name, value);
		if (!*value && (!strcmp(key, "dsn") || !strcmp(key, "store")))
			return bad(c, NULL, "[env %s] %s: empty value", e->name, key);
		pgr_env_set(str_field(e, i), value);
		return 1;
	}
	for (size_t i = 0; i < N_DUR; i++) {
		if (strcmp(key, dur_keys[i].name) != 0)
			continue;
		struct pgr_error derr = {0};
		int64_t secs;
		if (!pgr_duration_parse(value, &secs, &derr))
			return bad(c, "Durations look like 30d, 24h, 15m, 90s or 1h30m.",
			           "[env %s] %s: invalid duration \"%s\"", e->name, key, value);
		*dur_field(e, i) = secs;
		return 1;
	}
	if (!strcmp(key, "readonly")) {
		if (!parse_bool(value, &e->readonly))
			return bad(c, "Use true or false.", "[env %s] readonly: \"%s\" is not a boolean", e->name,
			           value);
		return 1;
	}
	if (!strcmp(key, "password"))
		return bad(c, "Put the password in ~/.pgpass (or a service file, or PGPASSWORD).",
		           "[env %s] password: passwords never go in pgrescue's config", e->name);
	return bad(c, "See `man pgrescue` (CONFIGURATION) for the keys of an [env NAME] section.",
	           "[env %s] unknown key \"%s\"", e->name, key);
}

static bool validate(struct pgr_config *cfg, const char *name, struct pgr_error *err)
{
	for (int i = 0; i < cfg->n_envs; i++) {
		struct pgr_env *e = &cfg->envs[i];
		const char *missing = !e->dsn ? "dsn" : !e->store ? "store" : NULL;
		if (missing) {
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: [env %s] is missing the key \"%s\"", name, e->line,
			              e->name, missing);
			pgr_error_hint(err, "%s",
			               !strcmp(missing, "dsn")
			                       ? "Add dsn = host=... dbname=... user=... (or service=NAME)."
			                       : "Add store = file:///path/to/backups (or s3://bucket/prefix, "
			                         "gs://bucket/prefix, az://account/container/prefix).");
			return false;
		}
		if (!strcmp(e->app_scale, "command") && (!e->app_scale_get_command || !e->app_scale_set_command)) {
			pgr_error_set(err, PGR_ERR_CONFIG,
			              "%s:%d: [env %s] app_scale = command needs app_scale_get_command and "
			              "app_scale_set_command",
			              name, e->line, e->name);
			pgr_error_hint(err, "For example: app_scale_set_command = /usr/local/bin/scale-app {replicas}");
			return false;
		}
		if (e->wal_lag_warn > e->wal_lag_critical) {
			pgr_error_set(err, PGR_ERR_CONFIG,
			              "%s:%d: [env %s] wal_lag_warn is larger than wal_lag_critical", name, e->line,
			              e->name);
			pgr_error_hint(err, "The warning threshold must come before the critical one.");
			return false;
		}
		if (e->retention_base == 0)
			e->retention_base = e->retention_wal;
	}
	if (cfg->default_env) {
		bool found = false;
		for (int i = 0; i < cfg->n_envs; i++)
			found = found || !strcmp(cfg->envs[i].name, cfg->default_env);
		if (!found) {
			pgr_error_set(err, PGR_ERR_CONFIG, "%s: default = %s, but there is no [env %s] section", name,
			              cfg->default_env, cfg->default_env);
			pgr_error_hint(err, "Add the section or correct the default.");
			return false;
		}
	}
	return true;
}

bool pgr_config_parse_string(const char *text, const char *name, struct pgr_config *cfg, struct pgr_error *err)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->path = xstrdup(name);
	/* libinih (as Debian builds it) reads lines of at most 199 characters and
	 * would silently split a longer one: refuse it with a clear message. */
	int lineno = 1;
	for (const char *p = text; *p; lineno++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > PGR_CONFIG_MAX_LINE) {
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: line is %zu characters long; at most %d are read",
			              name, lineno, len, PGR_CONFIG_MAX_LINE);
			pgr_error_hint(err,
			               "Shorten it. For a long dsn, define a service in ~/.pg_service.conf and write "
			               "dsn = service=NAME.");
			pgr_config_free(cfg);
			return false;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	struct parse_ctx c = {.cfg = cfg, .text = text};
	int line = ini_parse_string(text, on_key, &c);
	if (line != 0 || c.failed) {
		if (line < 0)
			pgr_error_set(err, PGR_ERR_CONFIG, "%s: cannot parse configuration", name);
		else if (c.failed)
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: %s", name, line, c.errmsg);
		else
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: syntax error", name, line);
		if (c.failed && c.errhint[0])
			pgr_error_hint(err, "%s", c.errhint);
		else if (!c.failed)
			pgr_error_hint(err, "Each line is `key = value`, a [env NAME] header, or a comment (; or #).");
		err->kind = PGR_ERR_CONFIG;
		pgr_config_free(cfg);
		return false;
	}
	if (!validate(cfg, name, err)) {
		pgr_config_free(cfg);
		return false;
	}
	return true;
}

bool pgr_config_load(const char *path, bool must_exist, struct pgr_config *cfg, struct pgr_error *err)
{
	char *text = NULL;
	struct pgr_error rerr = {0};
	memset(cfg, 0, sizeof *cfg);
	if (!pgr_read_file(path, &text, NULL, &rerr)) {
		if (rerr.kind == PGR_ERR_NOTFOUND && !must_exist) {
			cfg->path = xstrdup(path);
			return true;
		}
		*err = rerr;
		err->kind = PGR_ERR_CONFIG;
		if (rerr.kind == PGR_ERR_NOTFOUND)
			pgr_error_hint(err,
			               "Create it (see `man pgrescue`), or run `pgrescue sandbox up` to get a demo "
			               "environment.");
		return false;
	}
	struct stat st;
	/* Only a regular file can leak a secret to others: /dev/null (restore_command's "no config") cannot. */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)) &&
	    !getenv("PGRESCUE_NO_PERM_WARNING"))
		pgr_warn("configuration file \"%s\" is readable by others (mode %04o)\nHINT: chmod 600 %s", path,
		         (unsigned)(st.st_mode & 07777), path);
	bool ok = pgr_config_parse_string(text, path, cfg, err);
	free(text);
	return ok;
}

void pgr_config_free(struct pgr_config *cfg)
{
	for (int i = 0; i < cfg->n_envs; i++)
		pgr_env_free(&cfg->envs[i]);
	free(cfg->path);
	free(cfg->default_env);
	memset(cfg, 0, sizeof *cfg);
}

static void list_names(const struct pgr_config *cfg, struct strbuf *sb)
{
	for (int i = 0; i < cfg->n_envs; i++)
		sb_printf(sb, "%s%s", i ? ", " : "", cfg->envs[i].name);
}

const struct pgr_env *pgr_config_select(const struct pgr_config *cfg, const char *name, struct pgr_error *err)
{
	const char *want = name ? name : cfg->default_env;
	if (want) {
		for (int i = 0; i < cfg->n_envs; i++)
			if (!strcmp(cfg->envs[i].name, want))
				return &cfg->envs[i];
		struct strbuf sb = STRBUF_INIT;
		list_names(cfg, &sb);
		pgr_error_set(err, PGR_ERR_CONFIG, "no environment named \"%s\" in %s", want,
		              cfg->path && *cfg->path ? cfg->path : "the configuration");
		if (cfg->n_envs)
			pgr_error_hint(err, "Known environments: %s.", sb_str(&sb));
		else
			pgr_error_hint(err,
			               "The configuration has no environments; `pgrescue sandbox up` creates one.");
		sb_free(&sb);
		return NULL;
	}
	if (cfg->n_envs == 1)
		return &cfg->envs[0];
	if (cfg->n_envs == 0) {
		pgr_error_set(err, PGR_ERR_CONFIG, "no environment configured (%s has no [env NAME] section)",
		              cfg->path && *cfg->path ? cfg->path : "no configuration file");
		pgr_error_hint(err,
		               "Run `pgrescue sandbox up` for a demo environment, or write an [env NAME] section "
		               "with platform, dsn and store.");
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	list_names(cfg, &sb);
	pgr_error_set(err, PGR_ERR_CONFIG, "%s has several environments (%s) and no default", cfg->path, sb_str(&sb));
	pgr_error_hint(err, "Choose one with --env NAME, or set `default = NAME` at the top of the file.");
	sb_free(&sb);
	return NULL;
}

/* ---- editing the file: keep every other line exactly as it was ---- */

/* Is this line a section header? Sets *is_env/name when it is [env NAME]. */
static bool header_line(const char *line, size_t len, char *name, size_t nsz)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '[')
		return false;
	name[0] = '\0';
	const char *close = memchr(line + i, ']', len - i);
	if (!close)
		return false;
	const char *s = line + i + 1;
	while (s < close && *s == ' ')
		s++;
	size_t pl = strlen(ENV_PREFIX);
	if ((size_t)(close - s) > pl && !strncmp(s, ENV_PREFIX, pl)) {
		s += pl;
		while (s < close && *s == ' ')
			s++;
		const char *e = close;
		while (e > s && e[-1] == ' ')
			e--;
		snprintf(name, nsz, "%.*s", (int)(e - s), s);
	}
	return true;
}

static bool is_default_for(const char *line, size_t len, const char *name)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < 7 || strncmp(line + i, "default", 7) != 0)
		return false;
	i += 7;
	while (i < len && line[i] == ' ')
		i++;
	if (i >= len || line[i] != '=')
		return false;
	i++;
	while (i < len && line[i] == ' ')
		i++;
	size_t e = len;
	while (e > i && (line[e - 1] == ' ' || line[e - 1] == '\r'))
		e--;
	return e - i == strlen(name) && !strncmp(line + i, name, e - i);
}

/* Copy text without section [env name] (and, if drop_default, its default line)
 * into out. Returns true if the section was found. */
static bool strip_env(const char *text, const char *name, bool drop_default, struct strbuf *out)
{
	bool in_target = false, found = false;
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char sec[128];
		if (header_line(p, len, sec, sizeof sec)) {
			in_target = !strcmp(sec, name);
			found = found || in_target;
		}
		bool drop = in_target || (drop_default && is_default_for(p, len, name));
		if (!drop) {
			sb_append_len(out, p, len);
			sb_append(out, "\n");
		}
		p = nl ? nl + 1 : NULL;
	}
	return found;
}

static bool write_config(const char *path, const struct strbuf *text, struct pgr_error *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (!pgr_mkdir_p(dir, 0700, err)) {
			free(dir);
			return false;
		}
	}
	free(dir);
	/* Test the result before replacing the user's file. */
	struct pgr_config check;
	struct pgr_error perr = {0};
	if (!pgr_config_parse_string(sb_str(text), path, &check, &perr)) {
		*err = perr;
		pgr_error_prefix(err, "refusing to write %s, the result would not load", path);
		return false;
	}
	pgr_config_free(&check);
	return pgr_write_file_atomic(path, text->buf, text->len, 0600, err);
}

bool pgr_config_upsert_env(const char *path, const char *name, const char *const *keys, const char *const *values,
                           int n, struct pgr_error *err)
{
	char *text = NULL;
	struct pgr_error rerr = {0};
	if (!valid_env_name(name))
		return pgr_error_set(err, PGR_ERR_USAGE, "invalid environment name \"%s\"", name);
	if (!pgr_read_file(path, &text, NULL, &rerr)) {
		if (rerr.kind != PGR_ERR_NOTFOUND) {
			*err = rerr;
			return false;
		}
		text = xstrdup("; pgrescue configuration: one [env NAME] section per environment.\n"
		               "; Passwords never go here: use ~/.pgpass, a service file or PGPASSWORD.\n\n");
	}
	struct strbuf out = STRBUF_INIT;
	strip_env(text, name, false, &out);
	free(text);
	/* Trim trailing blank lines, then append the section. */
	while (out.len >= 2 && out.buf[out.len - 1] == '\n' && out.buf[out.len - 2] == '\n')
		out.buf[--out.len] = '\0';
	if (out.len > 0)
		sb_append(&out, "\n");
	sb_printf(&out, "[env %s]\n", name);
	for (int i = 0; i < n; i++) {
		if (strpbrk(values[i], "\r\n") || strpbrk(keys[i], "\r\n=[]")) {
			sb_free(&out);
			return pgr_error_set(err, PGR_ERR_USAGE, "invalid value for key \"%s\"", keys[i]);
		}
		sb_printf(&out, "%s = %s\n", keys[i], values[i]);
	}
	bool ok = write_config(path, &out, err);
	sb_free(&out);
	return ok;
}

bool pgr_config_remove_env(const char *path, const char *name, struct pgr_error *err)
{
	char *text = NULL;
	struct pgr_error rerr = {0};
	if (!pgr_read_file(path, &text, NULL, &rerr))
		return rerr.kind == PGR_ERR_NOTFOUND ? true : (*err = rerr, false);
	struct strbuf out = STRBUF_INIT;
	bool found = strip_env(text, name, true, &out);
	free(text);
	bool ok = true;
	if (found) {
		while (out.len >= 2 && out.buf[out.len - 1] == '\n' && out.buf[out.len - 2] == '\n')
			out.buf[--out.len] = '\0';
		ok = write_config(path, &out, err);
	}
	sb_free(&out);
	return ok;
}
