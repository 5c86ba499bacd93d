/* Errors as values (see error.h). */
#include "config.h"

#include "base/error.h"

#include <stdarg.h>
#include <string.h>

static void vfill(char *dst, size_t n, const char *fmt, va_list ap)
{
	vsnprintf(dst, n, fmt, ap);
}

bool pgr_error_set(struct pgr_error *err, enum pgr_errkind kind, const char *fmt, ...)
{
	if (!err)
		return false;
	va_list ap;
	err->kind = kind;
	err->detail[0] = '\0';
	err->hint[0] = '\0';
	va_start(ap, fmt);
	vfill(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return false;
}

bool pgr_error_errno(struct pgr_error *err, int errno_value, const char *fmt, ...)
{
	if (!err)
		return false;
	char head[PGR_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vfill(head, sizeof head, fmt, ap);
	va_end(ap);
	char joined[PGR_ERR_MSG_MAX + 256];
	snprintf(joined, sizeof joined, "%s: %s", head, strerror(errno_value));
	return pgr_error_set(err, PGR_ERR_IO, "%.1000s", joined);
}

void pgr_error_detail(struct pgr_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfill(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
}

void pgr_error_hint(struct pgr_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfill(err->hint, sizeof err->hint, fmt, ap);
	va_end(ap);
}

void pgr_error_prefix(struct pgr_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char head[PGR_ERR_MSG_MAX], old[PGR_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vfill(head, sizeof head, fmt, ap);
	va_end(ap);
	char joined[2 * PGR_ERR_MSG_MAX + 4];
	memcpy(old, err->msg, sizeof old);
	snprintf(joined, sizeof joined, "%s: %s", head, old);
	memcpy(err->msg, joined, sizeof err->msg - 1);
	err->msg[sizeof err->msg - 1] = '\0';
}

void pgr_error_clear(struct pgr_error *err)
{
	if (err)
		memset(err, 0, sizeof *err);
}

bool pgr_error_isset(const struct pgr_error *err)
{
	return err && err->msg[0] != '\0';
}

static void print_block(FILE *out, const char *label, const char *text)
{
	/* Strip one trailing newline that tools' stderr often carries. */
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	fprintf(out, "%s: %.*s\n", label, (int)n, text);
}

void pgr_error_print(FILE *out, const struct pgr_error *err)
{
	if (!err)
		return;
	fprintf(out, "pgrescue: ERROR: %s\n", err->msg[0] ? err->msg : "unknown error");
	print_block(out, "DETAIL", err->detail);
	print_block(out, "HINT", err->hint);
}
