/* A growable, always NUL-terminated byte string. */
#ifndef PGR_STRBUF_H
#define PGR_STRBUF_H

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
/* The string (never NULL, "" when empty). */
const char *sb_str(const struct strbuf *sb);
/* Hand the buffer to the caller (free() it); sb is left empty. */
char *sb_steal(struct strbuf *sb);

#endif
