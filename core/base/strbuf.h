/* A growable, always NUL-terminated byte string. */
#ifndef PGR_STRBUF_H
#define PGR_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT                                                                                                    \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_append(struct strbuf *sb, const char *s);
void sb_append_len(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A shell word: 'text' with embedded quotes escaped ('\''). */
void sb_append_shell_quoted(struct strbuf *sb, const char *s);
/* A postgresql.conf string literal: quotes and backslashes doubled; with
 * percent, '%' too (archive_command and restore_command expand %p, %f, %%). */
void sb_append_conf_literal(struct strbuf *sb, const char *s, bool percent);
/* The string (never NULL, "" when empty). */
const char *sb_str(const struct strbuf *sb);
/* Hand the buffer to the caller (free() it); sb is left empty. */
char *sb_steal(struct strbuf *sb);

#endif
