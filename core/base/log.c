/* Diagnostics and redaction (see log.h). */
#include "config.h"

#include "base/log.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum pgr_loglevel current = PGR_LOG_WARN;

void pgr_log_set_level(enum pgr_loglevel level)
{
	current = level;
}

enum pgr_loglevel pgr_log_level(void)
{
	return current;
}

void pgr_log(enum pgr_loglevel level, const char *fmt, ...)
{
	static const char *names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};
	if (level > current)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pgrescue: %s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

char *pgr_redact_conninfo(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	if (!s)
		return xstrdup("");
	if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0) {
		/* scheme://user:password@host -> scheme://user:********@host */
		const char *auth = strstr(s, "://") + 3;
		const char *at = strchr(auth, '@');
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			sb_append_len(&sb, s, (size_t)(colon - s) + 1);
			sb_append(&sb, "********");
			s = at;
		}
		/* and ?password=... in the query string */
		const char *pw = strstr(s, "password=");
		if (pw) {
			sb_append_len(&sb, s, (size_t)(pw - s) + 9);
			sb_append(&sb, "********");
			const char *end = strchr(pw, '&');
			sb_append(&sb, end ? end : "");
		} else {
			sb_append(&sb, s);
		}
		return sb_steal(&sb);
	}
	const char *p = s;
	while (*p) {
		const char *key = p;
		while (*p && !isspace((unsigned char)*p) && *p != '=')
			p++;
		size_t klen = (size_t)(p - key);
		sb_append_len(&sb, key, klen);
		while (isspace((unsigned char)*p))
			sb_append_len(&sb, p++, 1);
		if (*p != '=')
			continue;
		sb_append_len(&sb, p++, 1);
		while (isspace((unsigned char)*p))
			sb_append_len(&sb, p++, 1);
		bool secret = klen == 8 && strncmp(key, "password", 8) == 0;
		const char *vstart = p;
		if (*p == '\'') {
			p++;
			while (*p && *p != '\'') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p == '\'')
				p++;
		} else {
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (secret)
			sb_append(&sb, "********");
		else
			sb_append_len(&sb, vstart, (size_t)(p - vstart));
		while (isspace((unsigned char)*p))
			sb_append_len(&sb, p++, 1);
	}
	return sb_steal(&sb);
}
