/* Allocation wrappers that abort on out-of-memory (there is nothing sensible
 * to do at 3 AM with a half-built structure), and small string helpers. */
#ifndef PGR_XALLOC_H
#define PGR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
