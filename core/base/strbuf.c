/* Growable strings (see strbuf.h). */
#include "config.h"

#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static void grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->buf = xrealloc(sb->buf, cap);
	sb->cap = cap;
}

void sb_append_len(struct strbuf *sb, const char *s, size_t n)
{
	grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_append(struct strbuf *sb, const char *s)
{
	sb_append_len(sb, s, strlen(s));
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
		sb->len += (size_t)n;
	}
	va_end(ap2);
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *sb_steal(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	sb_init(sb);
	return p;
}

void sb_append_shell_quoted(struct strbuf *sb, const char *s)
{
	sb_append(sb, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_append(sb, "'\\''");
		else
			sb_append_len(sb, p, 1);
	}
	sb_append(sb, "'");
}

void sb_append_conf_literal(struct strbuf *sb, const char *s, bool percent)
{
	sb_append(sb, "'");
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			sb_append(sb, "''");
		else if (*p == '\\')
			sb_append(sb, "\\\\");
		else if (percent && *p == '%')
			sb_append(sb, "%%");
		else
			sb_append_len(sb, p, 1);
	}
	sb_append(sb, "'");
}
