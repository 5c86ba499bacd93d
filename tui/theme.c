/* Themes: parse the files of themes/ (NAME.theme: ROLE = fg:COLOUR bg:COLOUR ATTRIBUTES), find them in the user's
 * and the shipped directories, and install them in curses. The one place that degrades colour:
 * truecolor -> xterm 256 (cube and grey ramp) -> ANSI 16 -> monochrome (attributes only). */
#include "config.h"

#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "theme.h"

#ifndef PGRESCUE_THEMEDIR
#define PGRESCUE_THEMEDIR "/usr/local/share/pgrescue/themes"
#endif

#define THEME_MAX_BYTES (64 * 1024)

static const char *const role_names[PGR_N_ROLES] = {
        [PGR_ROLE_NORMAL] = "normal",   [PGR_ROLE_OK] = "ok",
        [PGR_ROLE_WARN] = "warn",       [PGR_ROLE_FAIL] = "fail",
        [PGR_ROLE_UNKNOWN] = "unknown", [PGR_ROLE_STALE] = "stale",
        [PGR_ROLE_DANGER] = "danger",   [PGR_ROLE_READONLY] = "readonly",
        [PGR_ROLE_HEADER] = "header",   [PGR_ROLE_SELECTION] = "selection",
        [PGR_ROLE_MUTED] = "muted",     [PGR_ROLE_BORDER] = "border",
        [PGR_ROLE_TITLE] = "title",
};

const char *pgr_role_name(enum pgr_role r)
{
	if ((int)r < 0 || r >= PGR_N_ROLES)
		return NULL;
	return role_names[r];
}

/* ---------------------------------------------------------------- palettes */

/* xterm's default colours for the ANSI 16: what "red" means when a theme names it,
 * and the targets of the 16-colour mapping. */
static const unsigned char ansi16[16][3] = {
        {0, 0, 0},     {205, 0, 0},     {0, 205, 0},     {205, 205, 0},   {0, 0, 238}, {205, 0, 205},
        {0, 205, 205}, {229, 229, 229}, {127, 127, 127}, {255, 0, 0},     {0, 255, 0}, {255, 255, 0},
        {92, 92, 255}, {255, 0, 255},   {0, 255, 255},   {255, 255, 255},
};

static const char *const ansi_names[16] = {
        "black",      "red",           "green",       "yellow",      "blue",        "magenta",
        "cyan",       "white",         "brightblack", "brightred",   "brightgreen", "brightyellow",
        "brightblue", "brightmagenta", "brightcyan",  "brightwhite",
};

static const int cube_level[6] = {0, 95, 135, 175, 215, 255};

/* The RGB of an xterm 256 index. */
static struct pgr_rgb index_rgb(int i)
{
	struct pgr_rgb c = {.set = true};
	if (i < 16) {
		c.r = ansi16[i][0];
		c.g = ansi16[i][1];
		c.b = ansi16[i][2];
	} else if (i < 232) {
		int n = i - 16;
		c.r = cube_level[n / 36];
		c.g = cube_level[(n / 6) % 6];
		c.b = cube_level[n % 6];
	} else {
		c.r = c.g = c.b = 8 + 10 * (i - 232);
	}
	return c;
}

/* Squared distance weighted by the mean red ("redmean"): cheap and closer to what eyes see than
 * plain RGB distance, so orange does not land on yellow and dark blue does not land on black. */
static long colour_distance(struct pgr_rgb a, struct pgr_rgb b)
{
	long rmean = (a.r + b.r) / 2;
	long dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
	return (((512 + rmean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rmean) * db * db) >> 8);
}

static int nearest_in(struct pgr_rgb c, int from, int to)
{
	int best = from;
	long best_d = LONG_MAX;
	for (int i = from; i <= to; i++) {
		long d = colour_distance(c, index_rgb(i));
		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	return best;
}

/* The ANSI 16 are too coarse for distance: light green is nearer to grey than to green. Keep the
 * hue (six of them), which is what a state colour means; brightness picks normal or bright; colours
 * with little chroma go to the four greys by lightness. */
static int nearest_ansi(struct pgr_rgb c)
{
	int mx = c.r > c.g ? (c.r > c.b ? c.r : c.b) : (c.g > c.b ? c.g : c.b);
	int mn = c.r < c.g ? (c.r < c.b ? c.r : c.b) : (c.g < c.b ? c.g : c.b);
	int chroma = mx - mn;
	if (chroma < 48) {
		int l = (mx + mn) / 2;
		return l < 64 ? 0 : l < 178 ? 8 : l < 242 ? 7 : 15;
	}
	int h; /* hue in degrees */
	if (mx == c.r)
		h = (60 * (c.g - c.b) / chroma + 360) % 360;
	else if (mx == c.g)
		h = 60 * (c.b - c.r) / chroma + 120;
	else
		h = 60 * (c.r - c.g) / chroma + 240;
	/* ANSI order: 1 red, 3 yellow, 2 green, 6 cyan, 4 blue, 5 magenta; sextants centred on them. */
	static const int by_sextant[6] = {1, 3, 2, 6, 4, 5};
	int idx = by_sextant[((h + 30) % 360) / 60];
	return mx >= 245 ? idx + 8 : idx;
}

int pgr_theme_nearest(struct pgr_rgb c, enum pgr_colour_depth depth)
{
	if (!c.set)
		return -1;
	switch (depth) {
	case PGR_DEPTH_MONO: return -1;
	case PGR_DEPTH_16: return nearest_ansi(c);
	/* 256: the cube and the grey ramp only. Indexes 0-15 are the user's own palette, so a
	 * colour picked there would look different on every terminal. */
	case PGR_DEPTH_256: return nearest_in(c, 16, 255);
	case PGR_DEPTH_TRUE: return (c.r << 16) | (c.g << 8) | c.b;
	}
	return -1;
}

enum pgr_colour_depth pgr_theme_depth(bool no_color, int terminal_colors)
{
	const char *nc = getenv("NO_COLOR");
	if (no_color || (nc && *nc))
		return PGR_DEPTH_MONO;
	if (terminal_colors < 8)
		return PGR_DEPTH_MONO;
	const char *ct = getenv("COLORTERM");
	if (ct && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0))
		return PGR_DEPTH_TRUE;
	if (terminal_colors >= 0x1000000)
		return PGR_DEPTH_TRUE;
	if (terminal_colors >= 256)
		return PGR_DEPTH_256;
	return PGR_DEPTH_16;
}

/* ---------------------------------------------------------------- the built-in default */

static struct pgr_rgb hex(unsigned v)
{
	return (struct pgr_rgb){.set = true, .r = (int)(v >> 16) & 0xff, .g = (int)(v >> 8) & 0xff, .b = (int)v & 0xff};
}

/* Must match themes/default.theme (the unit test compares them). */
void pgr_theme_default(struct pgr_theme *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "default");
	snprintf(t->path, sizeof(t->path), "(built-in)");
	struct pgr_style *s = t->style;
	s[PGR_ROLE_NORMAL] = (struct pgr_style){0};
	s[PGR_ROLE_OK] = (struct pgr_style){.fg = hex(0x5fd75f)};
	s[PGR_ROLE_WARN] = (struct pgr_style){.fg = hex(0xffaf00), .bold = true};
	s[PGR_ROLE_FAIL] = (struct pgr_style){.fg = hex(0xff5f5f), .bold = true};
	s[PGR_ROLE_UNKNOWN] = (struct pgr_style){.fg = hex(0xaf87ff)};
	s[PGR_ROLE_STALE] = (struct pgr_style){.fg = hex(0x8a8a8a), .underline = true};
	s[PGR_ROLE_DANGER] = (struct pgr_style){.fg = hex(0xffffff), .bg = hex(0xaf0000), .bold = true};
	s[PGR_ROLE_READONLY] = (struct pgr_style){.fg = hex(0x000000), .bg = hex(0xffd75f), .bold = true};
	s[PGR_ROLE_HEADER] = (struct pgr_style){.fg = hex(0xffffff), .bg = hex(0x303a4a), .bold = true};
	s[PGR_ROLE_SELECTION] = (struct pgr_style){.fg = hex(0xffffff), .bg = hex(0x005f87)};
	s[PGR_ROLE_MUTED] = (struct pgr_style){.fg = hex(0x808080)};
	s[PGR_ROLE_BORDER] = (struct pgr_style){.fg = hex(0x5f6f87)};
	s[PGR_ROLE_TITLE] = (struct pgr_style){.fg = hex(0x87d7ff), .bold = true};
}

/* ---------------------------------------------------------------- parsing */

static const char colour_hint[] = "a colour is #rrggbb, color0 to color255 (xterm), an ANSI name (black, red, green, "
                                  "yellow, blue, magenta, cyan, white, or bright- before one of them, grey) or default";

static bool parse_colour(const char *s, struct pgr_rgb *out)
{
	if (strcmp(s, "default") == 0) {
		*out = (struct pgr_rgb){0};
		return true;
	}
	if (s[0] == '#') {
		if (strlen(s) != 7)
			return false;
		for (int i = 1; i < 7; i++)
			if (!isxdigit((unsigned char)s[i]))
				return false;
		*out = hex((unsigned)strtoul(s + 1, NULL, 16));
		return true;
	}
	if (strncmp(s, "color", 5) == 0 || strncmp(s, "colour", 6) == 0) {
		const char *d = s + (strncmp(s, "colour", 6) == 0 ? 6 : 5);
		if (!*d || strlen(d) > 3)
			return false;
		for (const char *p = d; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		int n = atoi(d);
		if (n > 255)
			return false;
		*out = index_rgb(n);
		return true;
	}
	if (strcmp(s, "grey") == 0 || strcmp(s, "gray") == 0) {
		*out = index_rgb(8);
		return true;
	}
	for (int i = 0; i < 16; i++) {
		if (strcmp(s, ansi_names[i]) == 0) {
			*out = index_rgb(i);
			return true;
		}
	}
	return false;
}

static bool parse_attribute(const char *s, struct pgr_style *st)
{
	if (strcmp(s, "bold") == 0)
		st->bold = true;
	else if (strcmp(s, "dim") == 0)
		st->dim = true;
	else if (strcmp(s, "underline") == 0)
		st->underline = true;
	else if (strcmp(s, "reverse") == 0)
		st->reverse = true;
	else if (strcmp(s, "italic") == 0)
		st->italic = true;
	else if (strcmp(s, "none") == 0)
		; /* explicitly plain */
	else
		return false;
	return true;
}

static int role_lookup(const char *s)
{
	for (int i = 0; i < PGR_N_ROLES; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

static void role_list(char *buf, size_t n)
{
	buf[0] = '\0';
	for (int i = 0; i < PGR_N_ROLES; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s", i ? ", " : "", role_names[i]);
	}
}

static const char *theme_basename(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void set_name_from(struct pgr_theme *t, const char *source)
{
	const char *b = theme_basename(source);
	size_t n = strlen(b);
	if (n > 6 && strcmp(b + n - 6, ".theme") == 0)
		n -= 6;
	if (n >= sizeof(t->name))
		n = sizeof(t->name) - 1;
	memcpy(t->name, b, n);
	t->name[n] = '\0';
}

/* Parse one value: tokens separated by blanks; a token starting with '#' ends the line (colours
 * always follow fg: or bg:, so "#" alone can only be a comment). */
static bool parse_value(char *v, const char *source, int lineno, const char *role, struct pgr_style *st,
                        struct pgr_error *err)
{
	bool have_fg = false, have_bg = false;
	*st = (struct pgr_style){0};
	char *save = NULL;
	for (char *tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (tok[0] == '#')
			break;
		bool is_fg = strncmp(tok, "fg:", 3) == 0, is_bg = strncmp(tok, "bg:", 3) == 0;
		if (is_fg || is_bg) {
			if ((is_fg && have_fg) || (is_bg && have_bg)) {
				pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: %s given twice for role \"%s\"", source,
				              lineno, is_fg ? "fg" : "bg", role);
				pgr_error_hint(err, "give one fg: and one bg: per role");
				return false;
			}
			if (!parse_colour(tok + 3, is_fg ? &st->fg : &st->bg)) {
				pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: bad colour \"%s\" for role \"%s\"", source,
				              lineno, tok + 3, role);
				pgr_error_hint(err, "%s", colour_hint);
				return false;
			}
			if (is_fg)
				have_fg = true;
			else
				have_bg = true;
			continue;
		}
		if (!parse_attribute(tok, st)) {
			struct pgr_rgb ignored;
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: unknown word \"%s\" for role \"%s\"", source, lineno,
			              tok, role);
			if (parse_colour(tok, &ignored))
				pgr_error_hint(err, "write colours as fg:%s or bg:%s", tok, tok);
			else
				pgr_error_hint(
				        err,
				        "a role takes fg:COLOUR, bg:COLOUR and the attributes bold, dim, underline, "
				        "reverse, italic, none");
			return false;
		}
	}
	return true;
}

bool pgr_theme_parse(const char *text, const char *source, struct pgr_theme *t, struct pgr_error *err)
{
	/* Roles a theme leaves out keep the built-in default's style. */
	pgr_theme_default(t);
	if (!source)
		source = "(theme)";
	snprintf(t->path, sizeof(t->path), "%s", source);
	set_name_from(t, source);

	int seen_at[PGR_N_ROLES] = {0};
	char *copy = xstrdup(text ? text : "");
	char *p = copy;
	bool ok = true;
	for (int lineno = 1; p && ok; lineno++) {
		char *line = p;
		char *nl = strchr(p, '\n');
		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p = NULL;
		}
		size_t len = strlen(line);
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;

		char *eq = strchr(line, '=');
		if (!eq) {
			pgr_error_set(err, PGR_ERR_CONFIG,
			              "%s:%d: expected \"ROLE = [fg:COLOUR] [bg:COLOUR] [ATTRIBUTES]\"", source,
			              lineno);
			pgr_error_detail(err, "the line reads: %.200s", line);
			pgr_error_hint(err,
			               "lines are a role, '=', then its colours and attributes; comments start with #");
			ok = false;
			break;
		}
		char *key_end = eq;
		while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t'))
			key_end--;
		*key_end = '\0';
		for (char *k = line; *k; k++)
			*k = (char)tolower((unsigned char)*k);
		int role = role_lookup(line);
		if (role < 0) {
			char roles[256];
			role_list(roles, sizeof(roles));
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: unknown role \"%.64s\"", source, lineno,
			              *line ? line : "");
			pgr_error_hint(err, "roles are: %s", roles);
			ok = false;
			break;
		}
		if (seen_at[role]) {
			pgr_error_set(err, PGR_ERR_CONFIG, "%s:%d: role \"%s\" given twice (first at line %d)", source,
			              lineno, role_names[role], seen_at[role]);
			pgr_error_hint(err, "keep one line per role");
			ok = false;
			break;
		}
		seen_at[role] = lineno;
		ok = parse_value(eq + 1, source, lineno, role_names[role], &t->style[role], err);
	}
	free(copy);
	if (!ok)
		pgr_theme_default(t); /* the caller shows the error and goes on with the default */
	return ok;
}

/* ---------------------------------------------------------------- finding theme files */

static char *user_theme_dir(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	if (x && x[0] == '/')
		return xasprintf("%s/pgrescue/themes", x);
	const char *home = getenv("HOME");
	if (home && *home)
		return xasprintf("%s/.config/pgrescue/themes", home);
	return NULL;
}

static const char *shipped_theme_dir(void)
{
	const char *e = getenv("PGRESCUE_THEMEDIR");
	if (e && *e)
		return e;
	return PGRESCUE_THEMEDIR;
}

static bool valid_theme_name(const char *name)
{
	if (!name[0] || name[0] == '.' || strlen(name) >= 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

static bool load_file(const char *path, const char *name, struct pgr_theme *t, struct pgr_error *err)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > THEME_MAX_BYTES) {
		pgr_theme_default(t);
		pgr_error_set(err, PGR_ERR_CONFIG, "theme file %s is %lld bytes, more than a theme can be", path,
		              (long long)st.st_size);
		pgr_error_hint(err, "a theme file is a few lines, one per role");
		return false;
	}
	char *data = NULL;
	size_t len = 0;
	if (!pgr_read_file(path, &data, &len, err)) {
		pgr_theme_default(t);
		pgr_error_prefix(err, "reading theme \"%s\"", name);
		return false;
	}
	if (memchr(data, '\0', len)) {
		free(data);
		pgr_theme_default(t);
		pgr_error_set(err, PGR_ERR_CONFIG, "%s: not a text file", path);
		pgr_error_hint(err, "a theme file is text, one role per line");
		return false;
	}
	bool ok = pgr_theme_parse(data, path, t, err);
	free(data);
	if (ok)
		snprintf(t->name, sizeof(t->name), "%s", name);
	return ok;
}

bool pgr_theme_load(const char *name, struct pgr_theme *t, struct pgr_error *err)
{
	if (!name || !*name)
		name = "default";
	/* A path (it has a slash): that file. */
	if (strchr(name, '/')) {
		char base[64];
		snprintf(base, sizeof(base), "%s", theme_basename(name));
		size_t n = strlen(base);
		if (n > 6 && strcmp(base + n - 6, ".theme") == 0)
			base[n - 6] = '\0';
		return load_file(name, base, t, err);
	}
	if (!valid_theme_name(name)) {
		pgr_theme_default(t);
		pgr_error_set(err, PGR_ERR_USAGE, "bad theme name \"%.64s\"", name);
		pgr_error_hint(err,
		               "a theme name is letters, digits, '-', '_' and '.'; give a path with a '/' to load "
		               "a file elsewhere");
		return false;
	}
	char *dirs[2] = {user_theme_dir(), xstrdup(shipped_theme_dir())};
	bool ok = false, found = false;
	for (int i = 0; i < 2 && !found; i++) {
		if (!dirs[i])
			continue;
		char *path = xasprintf("%s/%s.theme", dirs[i], name);
		if (access(path, F_OK) == 0) {
			found = true;
			ok = load_file(path, name, t, err);
		}
		free(path);
	}
	if (!found && strcmp(name, "default") == 0) {
		/* No shipped files installed: the built-in default is the same theme. */
		pgr_theme_default(t);
		ok = found = true;
	}
	if (!found) {
		pgr_theme_default(t);
		char names[64][64];
		int n = pgr_theme_list(names, 64);
		char list[1024] = "";
		for (int i = 0; i < n; i++) {
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", names[i]);
		}
		pgr_error_set(err, PGR_ERR_NOTFOUND, "theme \"%s\" not found", name);
		pgr_error_detail(err, "looked for %s.theme in %s and %s", name, dirs[0] ? dirs[0] : "(no $HOME)",
		                 dirs[1]);
		pgr_error_hint(err, "themes available: %s", n ? list : "(none found)");
	}
	free(dirs[0]);
	free(dirs[1]);
	return ok;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int list_dir(const char *dir, char names[][64], int n, int max)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return n;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len <= 6 || len - 6 >= 64 || strcmp(e->d_name + len - 6, ".theme") != 0)
			continue;
		char name[64];
		memcpy(name, e->d_name, len - 6);
		name[len - 6] = '\0';
		if (!valid_theme_name(name))
			continue;
		bool dup = false;
		for (int i = 0; i < n && !dup; i++)
			dup = strcmp(names[i], name) == 0;
		if (!dup)
			memcpy(names[n++], name, sizeof(name));
	}
	closedir(d);
	return n;
}

int pgr_theme_list(char names[][64], int max)
{
	if (max <= 0)
		return 0;
	char *user = user_theme_dir();
	int n = list_dir(user, names, 0, max);
	n = list_dir(shipped_theme_dir(), names, n, max);
	free(user);
	bool has_default = false;
	for (int i = 0; i < n; i++)
		has_default = has_default || strcmp(names[i], "default") == 0;
	if (!has_default && n < max)
		snprintf(names[n++], 64, "default");
	qsort(names, (size_t)n, sizeof(names[0]), cmp_name);
	return n;
}

/* ---------------------------------------------------------------- curses */

static int role_attr[PGR_N_ROLES];

static int style_attrs(const struct pgr_style *s)
{
	int a = A_NORMAL;
	if (s->bold)
		a |= A_BOLD;
	if (s->dim)
		a |= A_DIM;
	if (s->underline)
		a |= A_UNDERLINE;
	if (s->reverse)
		a |= A_REVERSE;
#ifdef A_ITALIC
	if (s->italic)
		a |= A_ITALIC;
#endif
	return a;
}

/* Truecolor through init_color: colour numbers from 16 up, one per distinct RGB value. */
struct palette {
	struct pgr_rgb rgb[2 * PGR_N_ROLES];
	int n;
};

static int palette_slot(struct palette *p, struct pgr_rgb c)
{
	for (int i = 0; i < p->n; i++)
		if (p->rgb[i].r == c.r && p->rgb[i].g == c.g && p->rgb[i].b == c.b)
			return 16 + i;
	p->rgb[p->n] = c;
	int slot = 16 + p->n++;
	init_color((short)slot, (short)(c.r * 1000 / 255), (short)(c.g * 1000 / 255), (short)(c.b * 1000 / 255));
	return slot;
}

void pgr_theme_apply(const struct pgr_theme *t, enum pgr_colour_depth depth)
{
	if (depth != PGR_DEPTH_MONO && !has_colors())
		depth = PGR_DEPTH_MONO;
	for (int r = 0; r < PGR_N_ROLES; r++)
		role_attr[r] = style_attrs(&t->style[r]);
	if (depth == PGR_DEPTH_MONO)
		return;

	/* Terminal default colours where the theme says "default"; else white on black. */
	bool defaults = use_default_colors() == OK;
	int def_fg = defaults ? -1 : COLOR_WHITE, def_bg = defaults ? -1 : COLOR_BLACK;

	bool direct = false, redefine = false;
	if (depth == PGR_DEPTH_TRUE) {
		direct = COLORS >= 0x1000000;
		redefine = !direct && can_change_color() && COLORS >= 16 + 2 * PGR_N_ROLES;
		if (!direct && !redefine)
			depth = COLORS >= 256 ? PGR_DEPTH_256 : PGR_DEPTH_16;
	}
	if (depth == PGR_DEPTH_256 && COLORS < 256)
		depth = PGR_DEPTH_16;
	bool only8 = depth == PGR_DEPTH_16 && COLORS < 16;

	struct palette pal = {.n = 0};
	for (int r = 0; r < PGR_N_ROLES; r++) {
		const struct pgr_style *s = &t->style[r];
		int c[2];
		const struct pgr_rgb *rgb[2] = {&s->fg, &s->bg};
		for (int k = 0; k < 2; k++) {
			if (!rgb[k]->set)
				c[k] = k == 0 ? def_fg : def_bg;
			else if (redefine)
				c[k] = palette_slot(&pal, *rgb[k]);
			else if (only8) {
				int i = nearest_ansi(*rgb[k]);
				c[k] = i == 8 ? 7 : i & 7; /* dark grey would vanish on black */
			} else
				c[k] = pgr_theme_nearest(*rgb[k], direct ? PGR_DEPTH_TRUE : depth);
		}
		int pair = r + 1;
		if (init_extended_pair(pair, c[0], c[1]) == OK)
			role_attr[r] |= (int)COLOR_PAIR(pair);
	}
}

int pgr_theme_attr(enum pgr_role r)
{
	if ((int)r < 0 || r >= PGR_N_ROLES)
		return A_NORMAL;
	return role_attr[r];
}
