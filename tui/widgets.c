/* Widgets: how things are drawn. Text is UTF-8 clipped to display columns;
 * boxes, bars and sparklines use Unicode block characters in a UTF-8 locale
 * and plain ASCII otherwise. Colour comes only from theme roles, and every
 * state is also written as a word, so monochrome loses nothing. */
#include "config.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cmdline.h"
#include "console.h"

/* Attributes as int, the type of pgr_theme_attr(). */
#define BOLD ((int)A_BOLD)
#define UNDERLINE ((int)A_UNDERLINE)
#define DIM ((int)A_DIM)

/* Decode UTF-8 into at most max wide characters; bytes that are not valid
 * text become '?', control characters a space. */
static size_t decode(const char *s, wchar_t *out, size_t max)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t left = strlen(s), n = 0;
	while (left > 0 && n < max) {
		wchar_t wc;
		size_t r = mbrtowc(&wc, s, left, &st);
		if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
			wc = L'?';
			r = 1;
			memset(&st, 0, sizeof st);
		}
		if (wc < 32 || wc == 127)
			wc = L' ';
		out[n++] = wc;
		s += r;
		left -= r;
	}
	return n;
}

static int wc_cols(wchar_t wc)
{
	int w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

int pgr_w_width(const char *s)
{
	size_t len = strlen(s);
	wchar_t *buf = xcalloc(len + 1, sizeof *buf);
	size_t n = decode(s, buf, len);
	int w = 0;
	for (size_t i = 0; i < n; i++)
		w += wc_cols(buf[i]);
	free(buf);
	return w;
}

int pgr_w_put(int y, int x, int maxw, int attr, const char *s)
{
	if (maxw <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (x + maxw > COLS)
		maxw = COLS - x;
	size_t len = strlen(s);
	wchar_t *buf = xcalloc(len + 1, sizeof *buf);
	size_t n = decode(s, buf, len);
	int w = 0;
	size_t keep = 0;
	for (; keep < n; keep++) {
		int cw = wc_cols(buf[keep]);
		if (w + cw > maxw)
			break;
		w += cw;
	}
	for (size_t i = 0; i < keep; i++)
		if (wcwidth(buf[i]) < 0)
			buf[i] = L'?';
	attrset(attr);
	if (keep > 0)
		mvaddnwstr(y, x, buf, (int)keep);
	attrset(A_NORMAL);
	free(buf);
	return w;
}

int pgr_w_printf(int y, int x, int maxw, int attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return pgr_w_put(y, x, maxw, attr, buf);
}

void pgr_w_blank(int y, int x, int w, int attr)
{
	if (y < 0 || y >= LINES || w <= 0)
		return;
	if (x + w > COLS)
		w = COLS - x;
	attrset(attr);
	mvhline(y, x, ' ', w);
	attrset(A_NORMAL);
}

void pgr_w_box(int y, int x, int h, int w, const char *title, const char *word, enum pgr_role word_role, bool selected,
               bool unicode)
{
	if (h < 2 || w < 4)
		return;
	int battr = selected ? pgr_theme_attr(PGR_ROLE_TITLE) | BOLD : pgr_theme_attr(PGR_ROLE_BORDER);
	for (int r = y + 1; r < y + h - 1; r++)
		pgr_w_blank(r, x + 1, w - 2, A_NORMAL);
	/* Box characters as text (not the alternate character set), so a
	 * screen capture reads as what a person sees. */
	const char *hl = unicode ? "\u2500" : "-", *vl = unicode ? "\u2502" : "|";
	pgr_w_put(y, x, 1, battr, unicode ? "\u250c" : "+");
	pgr_w_put(y, x + w - 1, 1, battr, unicode ? "\u2510" : "+");
	pgr_w_put(y + h - 1, x, 1, battr, unicode ? "\u2514" : "+");
	pgr_w_put(y + h - 1, x + w - 1, 1, battr, unicode ? "\u2518" : "+");
	for (int i = 1; i < w - 1; i++) {
		pgr_w_put(y, x + i, 1, battr, hl);
		pgr_w_put(y + h - 1, x + i, 1, battr, hl);
	}
	for (int r = y + 1; r < y + h - 1; r++) {
		pgr_w_put(r, x, 1, battr, vl);
		pgr_w_put(r, x + w - 1, 1, battr, vl);
	}
	char t[160];
	snprintf(t, sizeof t, "%s%s ", selected ? (unicode ? " \u25b6 " : " > ") : " ", title);
	int tattr = selected ? pgr_theme_attr(PGR_ROLE_SELECTION) | BOLD : pgr_theme_attr(PGR_ROLE_TITLE);
	int used = pgr_w_put(y, x + 1, w - 4, tattr, t);
	if (word && *word) {
		char wbuf[48];
		snprintf(wbuf, sizeof wbuf, " %s ", word);
		int ww = pgr_w_width(wbuf);
		if (used + ww + 2 <= w - 2)
			pgr_w_put(y, x + w - 2 - ww, ww, pgr_theme_attr(word_role) | BOLD, wbuf);
	}
}

void pgr_w_meter(int y, int x, int w, double frac, bool unicode, int attr_fill, int attr_empty)
{
	if (w <= 0)
		return;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	int fill = (int)(frac * w + 0.5);
	for (int i = 0; i < w; i++)
		pgr_w_put(y, x + i, 1, i < fill ? attr_fill : attr_empty,
		          i < fill ? (unicode ? "\u2588" : "#") : (unicode ? "\u2591" : "-"));
}

void pgr_w_sparkline(int y, int x, int w, const double *v, int n, double max, bool unicode, int attr)
{
	static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                     "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.-:=+*#";
	if (w <= 0)
		return;
	int first = n > w ? n - w : 0;
	int col = x + w - (n - first); /* right-aligned: the newest at the right edge */
	for (int i = first; i < n; i++, col++) {
		const char *g;
		char a[2] = {0, 0};
		if (v[i] < 0) {
			g = unicode ? "\u00b7" : " ";
		} else {
			int level = max > 0 ? (int)(v[i] / max * 7.0 + 0.5) : 0;
			if (level > 7)
				level = 7;
			if (level < 0)
				level = 0;
			if (unicode) {
				g = blocks[level];
			} else {
				a[0] = ascii[level];
				g = a;
			}
		}
		pgr_w_put(y, col, 1, attr, g);
	}
}

void pgr_w_dialog(const char *title, const char *const *lines, int n, enum pgr_role role, bool unicode)
{
	int w = pgr_w_width(title) + 8;
	for (int i = 0; i < n; i++) {
		int lw = pgr_w_width(lines[i]) + 4;
		if (lw > w)
			w = lw;
	}
	if (w > COLS - 2)
		w = COLS - 2;
	int h = n + 4;
	if (h > LINES - 2)
		h = LINES - 2;
	int y = (LINES - h) / 2, x = (COLS - w) / 2;
	pgr_w_box(y, x, h, w, title, NULL, role, false, unicode);
	pgr_w_blank(y + 1, x + 1, w - 2, A_NORMAL);
	for (int i = 0; i < n && i < h - 3; i++)
		pgr_w_put(y + 2 + i, x + 2, w - 4, pgr_theme_attr(i == 0 ? role : PGR_ROLE_NORMAL), lines[i]);
	pgr_w_blank(y + h - 2, x + 1, w - 2, A_NORMAL);
}

void pgr_w_footer(int y, int w, bool monitor, const char *right)
{
	pgr_w_blank(y, 0, w, pgr_theme_attr(PGR_ROLE_NORMAL));
	int rw = right ? pgr_w_width(right) : 0;
	int x = 0, kattr = pgr_theme_attr(PGR_ROLE_HEADER) | BOLD, lattr = pgr_theme_attr(PGR_ROLE_NORMAL);
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE; k++) {
		if (!k->in_footer || (monitor && k->dangerous))
			continue;
		int need = pgr_w_width(k->keyname) + 1 + pgr_w_width(k->label) + 1;
		if (x + need > w - rw - 1)
			break;
		x += pgr_w_put(y, x, w - x, kattr, k->keyname);
		x += 1;
		x += pgr_w_put(y, x, w - x, lattr, k->label);
		x += 1;
	}
	if (right && rw < w)
		pgr_w_put(y, w - rw, rw, pgr_theme_attr(PGR_ROLE_MUTED), right);
}

/* ---------------------------------------------------------------- help */

struct help_line {
	char keys[64];
	const char *text;
	bool dangerous;
	bool heading;
};

static int help_lines(bool monitor, struct help_line *out, int max)
{
	int n = 0;
	if (monitor && n < max)
		out[n++] = (struct help_line){"", "Read-only monitor: greyed keys and commands are not available.",
		                              false, true};
	bool seen[PGR_N_ACTIONS] = {false};
	for (const struct pgr_key *k = pgr_keymap; k->action != PGR_ACT_NONE && n < max; k++) {
		if (seen[k->action])
			continue;
		seen[k->action] = true;
		struct help_line *l = &out[n++];
		memset(l, 0, sizeof *l);
		l->text = k->help;
		l->dangerous = k->dangerous;
		for (const struct pgr_key *o = k; o->action != PGR_ACT_NONE; o++) {
			if (o->action != k->action)
				continue;
			size_t len = strlen(l->keys);
			snprintf(l->keys + len, sizeof l->keys - len, "%s%s", len ? " " : "", o->keyname);
		}
	}
	if (n < max)
		out[n++] = (struct help_line){"", "Commands (type : then the command, Tab completes):", false, true};
	for (const struct pgr_command_info *ci = pgr_commands; ci->name && n < max; ci++) {
		struct help_line *l = &out[n++];
		memset(l, 0, sizeof *l);
		snprintf(l->keys, sizeof l->keys, ":%s", ci->usage ? ci->usage : ci->name);
		l->text = ci->help;
		l->dangerous = ci->dangerous;
	}
	return n;
}

void pgr_w_help(struct pgr_console *c)
{
	struct help_line lines[64];
	int n = help_lines(c->monitor, lines, 64);
	int kw = 0;
	for (int i = 0; i < n; i++)
		if (!lines[i].heading && (int)strlen(lines[i].keys) > kw)
			kw = (int)strlen(lines[i].keys);
	int w = COLS > 96 ? 96 : COLS;
	int h = n + 2 > LINES ? LINES : n + 2;
	int y = (LINES - h) / 2, x = (COLS - w) / 2;
	int page = h - 2;
	c->help_rows = n;
	c->help_page = page;
	if (c->help_top > n - page)
		c->help_top = n - page;
	if (c->help_top < 0)
		c->help_top = 0;
	char word[48];
	if (n > page)
		snprintf(word, sizeof word, "%d-%d of %d, Up/Down, Esc closes", c->help_top + 1, c->help_top + page, n);
	else
		snprintf(word, sizeof word, "Esc closes");
	pgr_w_box(y, x, h, w, "Keys", word, PGR_ROLE_MUTED, false, c->unicode);
	for (int i = 0; i < page && c->help_top + i < n; i++) {
		const struct help_line *l = &lines[c->help_top + i];
		int row = y + 1 + i;
		if (l->heading) {
			pgr_w_put(row, x + 2, w - 4, pgr_theme_attr(c->monitor ? PGR_ROLE_READONLY : PGR_ROLE_TITLE),
			          l->text);
			continue;
		}
		bool off = c->monitor && l->dangerous;
		int attr = pgr_theme_attr(off ? PGR_ROLE_MUTED : PGR_ROLE_NORMAL);
		int kattr = off ? attr : pgr_theme_attr(PGR_ROLE_HEADER) | BOLD;
		pgr_w_put(row, x + 2, kw, kattr, l->keys);
		char text[300];
		snprintf(text, sizeof text, "%s%s", off ? "(not in monitor) " : "", l->text ? l->text : "");
		pgr_w_put(row, x + 4 + kw, w - 6 - kw, attr | (off ? DIM : 0), text);
	}
}

/* ---------------------------------------------------------------- tables */

void pgr_w_table_fit(struct pgr_w_table *t, const char *const *cells)
{
	for (int i = 0; i < t->ncols; i++) {
		const char *s = cells ? cells[i] : t->head[i];
		int w = pgr_w_width(s ? s : "");
		if (t->maxw[i] > 0 && w > t->maxw[i])
			w = t->maxw[i];
		if (w > t->width[i])
			t->width[i] = w;
	}
}

char *pgr_w_table_line(const struct pgr_w_table *t, const char *const *cells)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < t->ncols; i++) {
		const char *s = cells ? cells[i] : t->head[i];
		if (!s)
			s = "";
		int w = pgr_w_width(s);
		char *cut = NULL;
		if (w > t->width[i]) {
			/* Clip by bytes to the column (cells are mostly ASCII). */
			cut = xstrndup(s, (size_t)t->width[i]);
			s = cut;
			w = pgr_w_width(s);
		}
		if (i > 0)
			sb_append(&sb, "  ");
		if (t->right[i])
			for (int p = w; p < t->width[i]; p++)
				sb_append(&sb, " ");
		sb_append(&sb, s);
		if (!t->right[i] && i < t->ncols - 1)
			for (int p = w; p < t->width[i]; p++)
				sb_append(&sb, " ");
		free(cut);
	}
	return sb_steal(&sb);
}
