/* Themes and the command line: every shipped theme parses and names every role, broken files give
 * file:line, the colour degrade at each depth, NO_COLOR, colour-blind palettes by hue, curses pairs;
 * the `:` parser and the readline editor fed key by key, drawn into a curses screen. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curses.h>
#include <dirent.h>
#include <locale.h>

#include "base/fsutil.h"
#include "base/xalloc.h"
#include "cmdline.h"
#include "theme.h"

static char tmp_root[256];

static const char *themedir(void)
{
	const char *d = getenv("PGRESCUE_THEMEDIR");
	assert_non_null(d); /* the harness sets it to the source themes/ */
	return d;
}

static void write_text(const char *path, const char *text)
{
	struct pgr_error err = {0};
	assert_true(pgr_write_file_atomic(path, text, strlen(text), 0644, &err));
}

/* ---------------------------------------------------------------- shipped themes */

static const char *const shipped[] = {"default", "light", "mono", "high-contrast", "deuteranopia", "tritanopia"};

static void test_shipped_themes_parse(void **state)
{
	(void)state;
	DIR *d = opendir(themedir());
	assert_non_null(d);
	int files = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".theme") != 0)
			continue;
		char *path = xasprintf("%s/%s", themedir(), e->d_name);
		char *text = NULL;
		size_t n = 0;
		struct pgr_error err = {0};
		assert_true(pgr_read_file(path, &text, &n, &err));
		struct pgr_theme t;
		if (!pgr_theme_parse(text, path, &t, &err))
			fail_msg("%s: %s (%s)", path, err.msg, err.hint);
		/* A shipped theme states every role rather than leaning on the default's. */
		for (int r = 0; r < PGR_N_ROLES; r++) {
			char *needle = xasprintf("\n%s ", pgr_role_name(r));
			if (!strstr(text, needle))
				fail_msg("%s does not give role %s", path, pgr_role_name(r));
			free(needle);
		}
		free(text);
		free(path);
		files++;
	}
	closedir(d);
	assert_true(files >= 6);
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct pgr_theme t;
		struct pgr_error err = {0};
		if (!pgr_theme_load(shipped[i], &t, &err))
			fail_msg("theme %s: %s", shipped[i], err.msg);
		assert_string_equal(t.name, shipped[i]);
		assert_non_null(strstr(t.path, themedir()));
	}
	/* Mono has no colour at all. */
	struct pgr_theme m;
	struct pgr_error err = {0};
	assert_true(pgr_theme_load("mono", &m, &err));
	for (int r = 0; r < PGR_N_ROLES; r++) {
		assert_false(m.style[r].fg.set);
		assert_false(m.style[r].bg.set);
	}
	assert_true(m.style[PGR_ROLE_FAIL].bold || m.style[PGR_ROLE_FAIL].reverse);
}

static void test_default_file_matches_builtin(void **state)
{
	(void)state;
	struct pgr_theme file, builtin;
	struct pgr_error err = {0};
	assert_true(pgr_theme_load("default", &file, &err));
	pgr_theme_default(&builtin);
	assert_memory_equal(file.style, builtin.style, sizeof(file.style));
	for (int r = 0; r < PGR_N_ROLES; r++)
		assert_non_null(pgr_role_name(r));
	assert_string_equal(pgr_role_name(PGR_ROLE_READONLY), "readonly");
	assert_null(pgr_role_name(PGR_N_ROLES));
}

static void test_parse_syntax(void **state)
{
	(void)state;
	struct pgr_theme t;
	struct pgr_error err = {0};
	const char *text = "# a comment\n"
	                   "  \n"
	                   "ok = fg:#102030 bg:color21 bold underline # trailing comment\r\n"
	                   "WARN=fg:brightyellow italic dim reverse\n"
	                   "fail = fg:colour196\n"
	                   "muted = fg:grey bg:default\n";
	assert_true(pgr_theme_parse(text, "x/mine.theme", &t, &err));
	assert_string_equal(t.name, "mine");
	const struct pgr_style *ok = &t.style[PGR_ROLE_OK];
	assert_true(ok->fg.set);
	assert_int_equal(ok->fg.r, 0x10);
	assert_int_equal(ok->fg.g, 0x20);
	assert_int_equal(ok->fg.b, 0x30);
	assert_true(ok->bg.set);
	assert_int_equal(pgr_theme_nearest(ok->bg, PGR_DEPTH_256), 21);
	assert_true(ok->bold && ok->underline && !ok->dim);
	const struct pgr_style *w = &t.style[PGR_ROLE_WARN];
	assert_int_equal(pgr_theme_nearest(w->fg, PGR_DEPTH_16), 11);
	assert_true(w->italic && w->dim && w->reverse && !w->bold);
	assert_int_equal(pgr_theme_nearest(t.style[PGR_ROLE_FAIL].fg, PGR_DEPTH_256), 196);
	assert_int_equal(pgr_theme_nearest(t.style[PGR_ROLE_MUTED].fg, PGR_DEPTH_16), 8);
	assert_false(t.style[PGR_ROLE_MUTED].bg.set);
	/* A role not given keeps the built-in default's style. */
	struct pgr_theme def;
	pgr_theme_default(&def);
	assert_memory_equal(&t.style[PGR_ROLE_TITLE], &def.style[PGR_ROLE_TITLE], sizeof(struct pgr_style));
}

struct bad_case {
	const char *text;
	const char *where; /* "file:line" expected in the message */
	const char *words; /* expected in the message */
};

static void test_broken_themes_name_file_and_line(void **state)
{
	(void)state;
	const struct bad_case cases[] = {
	        {"ok = fg:green\nokay = fg:red\n", "b.theme:2:", "unknown role \"okay\""},
	        {"# c\n\nwarn = fg:#12345\n", "b.theme:3:", "bad colour \"#12345\""},
	        {"warn = fg:#12345g\n", "b.theme:1:", "bad colour"},
	        {"fail = fg:color256\n", "b.theme:1:", "bad colour \"color256\""},
	        {"fail = bg:purple\n", "b.theme:1:", "bad colour \"purple\""},
	        {"ok = bold\nwarn = dim\nok = underline\n", "b.theme:3:", "given twice (first at line 1)"},
	        {"ok = bold\nthis is garbage\n", "b.theme:2:", "expected"},
	        {"ok = blink\n", "b.theme:1:", "unknown word \"blink\""},
	        {"ok = red\n", "b.theme:1:", "unknown word \"red\""},
	        {"ok = fg:red fg:blue\n", "b.theme:1:", "fg given twice"},
	        {" = fg:red\n", "b.theme:1:", "unknown role"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pgr_theme t;
		struct pgr_error err = {0};
		if (pgr_theme_parse(cases[i].text, "b.theme", &t, &err))
			fail_msg("case %zu parsed", i);
		if (!strstr(err.msg, cases[i].where) || !strstr(err.msg, cases[i].words))
			fail_msg("case %zu: message \"%s\" lacks \"%s\" or \"%s\"", i, err.msg, cases[i].where,
			         cases[i].words);
		assert_true(err.hint[0] != '\0');
		/* On failure the theme is the default, ready to use. */
		struct pgr_theme def;
		pgr_theme_default(&def);
		assert_memory_equal(t.style, def.style, sizeof(t.style));
	}
	struct pgr_theme t;
	struct pgr_error err = {0};
	assert_false(pgr_theme_parse("okk = fg:red\n", "b.theme", &t, &err));
	assert_non_null(strstr(err.hint, "selection")); /* lists the roles */
	assert_false(pgr_theme_parse("ok = fg:rgb(1,2,3)\n", "b.theme", &t, &err));
	assert_non_null(strstr(err.hint, "#rrggbb"));
}

/* ---------------------------------------------------------------- finding themes */

static void test_user_dir_overrides_and_errors(void **state)
{
	(void)state;
	char *dir = xasprintf("%s/config/pgrescue/themes", tmp_root);
	struct pgr_error err = {0};
	assert_true(pgr_mkdir_p(dir, 0755, &err));
	char *light = xasprintf("%s/light.theme", dir);
	write_text(light, "ok = fg:#010203\n");
	char *mine = xasprintf("%s/mine.theme", dir);
	write_text(mine, "# my theme\nok = fg:#00ff00\nwarn = fg:#zzzzzz\n");

	struct pgr_theme t;
	assert_true(pgr_theme_load("light", &t, &err));
	assert_string_equal(t.path, light);
	assert_int_equal(t.style[PGR_ROLE_OK].fg.b, 3);

	/* A broken user theme: the error names the file and the line; the theme is the default. */
	pgr_error_clear(&err);
	assert_false(pgr_theme_load("mine", &t, &err));
	char *where = xasprintf("%s:3:", mine);
	assert_non_null(strstr(err.msg, where));
	struct pgr_theme def;
	pgr_theme_default(&def);
	assert_memory_equal(t.style, def.style, sizeof(t.style));

	/* Unknown names list what exists. */
	pgr_error_clear(&err);
	assert_false(pgr_theme_load("nosuch", &t, &err));
	assert_non_null(strstr(err.msg, "\"nosuch\" not found"));
	assert_non_null(strstr(err.hint, "deuteranopia"));
	assert_non_null(strstr(err.hint, "mine"));
	pgr_error_clear(&err);
	assert_false(pgr_theme_load("..", &t, &err));
	assert_non_null(strstr(err.msg, "bad theme name"));
	/* A path loads that file. */
	pgr_error_clear(&err);
	assert_true(pgr_theme_load(light, &t, &err));
	assert_string_equal(t.name, "light");

	char names[64][64];
	int n = pgr_theme_list(names, 64);
	int seen = 0;
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(shipped) / sizeof(shipped[0]); k++)
			seen += strcmp(names[i], shipped[k]) == 0;
		if (i)
			assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted, no duplicates */
	}
	assert_int_equal(seen, 6);
	assert_int_equal(n, 7); /* + mine; light only once */
	assert_int_equal(pgr_theme_list(names, 2), 2);

	unlink(light);
	unlink(mine);
	free(where);
	free(light);
	free(mine);
	free(dir);
}

/* ---------------------------------------------------------------- colour degrade */

static struct pgr_rgb rgb(int r, int g, int b)
{
	return (struct pgr_rgb){.set = true, .r = r, .g = g, .b = b};
}

static void test_nearest_each_depth(void **state)
{
	(void)state;
	static const int lv[6] = {0, 95, 135, 175, 215, 255};
	/* Exact cube colours map to themselves. */
	for (int i = 16; i < 232; i++) {
		int n = i - 16;
		assert_int_equal(pgr_theme_nearest(rgb(lv[n / 36], lv[(n / 6) % 6], lv[n % 6]), PGR_DEPTH_256), i);
	}
	/* The grey ramp maps to itself, and greys between cube steps land on the ramp. */
	for (int i = 232; i < 256; i++) {
		int v = 8 + 10 * (i - 232);
		assert_int_equal(pgr_theme_nearest(rgb(v, v, v), PGR_DEPTH_256), i);
	}
	assert_int_equal(pgr_theme_nearest(rgb(100, 100, 100), PGR_DEPTH_256), 241); /* 98 */
	assert_int_equal(pgr_theme_nearest(rgb(30, 30, 30), PGR_DEPTH_256), 234);
	assert_int_equal(pgr_theme_nearest(rgb(0x5f, 0xd7, 0x5f), PGR_DEPTH_256), 77);
	assert_int_equal(pgr_theme_nearest(rgb(250, 100, 5), PGR_DEPTH_256), 202); /* ff5f00 */
	/* 16: the ANSI colours (xterm's values) map to themselves; others to the nearest. */
	static const int a16[16][3] = {{0, 0, 0},       {205, 0, 0},   {0, 205, 0},   {205, 205, 0},
	                               {0, 0, 238},     {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
	                               {127, 127, 127}, {255, 0, 0},   {0, 255, 0},   {255, 255, 0},
	                               {92, 92, 255},   {255, 0, 255}, {0, 255, 255}, {255, 255, 255}};
	for (int i = 0; i < 16; i++)
		assert_int_equal(pgr_theme_nearest(rgb(a16[i][0], a16[i][1], a16[i][2]), PGR_DEPTH_16), i);
	assert_int_equal(pgr_theme_nearest(rgb(250, 20, 20), PGR_DEPTH_16), 9);
	assert_int_equal(pgr_theme_nearest(rgb(0, 0, 120), PGR_DEPTH_16), 4);
	assert_int_equal(pgr_theme_nearest(rgb(40, 40, 40), PGR_DEPTH_16), 0);
	assert_int_equal(pgr_theme_nearest(rgb(0x5f, 0xd7, 0x5f), PGR_DEPTH_16), 2);
	/* True colour packs RGB; mono and "default" have no colour. */
	assert_int_equal(pgr_theme_nearest(rgb(0x12, 0x34, 0x56), PGR_DEPTH_TRUE), 0x123456);
	assert_int_equal(pgr_theme_nearest(rgb(1, 2, 3), PGR_DEPTH_MONO), -1);
	assert_int_equal(pgr_theme_nearest((struct pgr_rgb){0}, PGR_DEPTH_256), -1);
}

static void test_depth_and_no_color(void **state)
{
	(void)state;
	unsetenv("NO_COLOR");
	unsetenv("COLORTERM");
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_256);
	assert_int_equal(pgr_theme_depth(false, 16), PGR_DEPTH_16);
	assert_int_equal(pgr_theme_depth(false, 8), PGR_DEPTH_16);
	assert_int_equal(pgr_theme_depth(false, 0), PGR_DEPTH_MONO);
	assert_int_equal(pgr_theme_depth(false, 0x1000000), PGR_DEPTH_TRUE);
	assert_int_equal(pgr_theme_depth(true, 256), PGR_DEPTH_MONO); /* --no-color */
	setenv("COLORTERM", "truecolor", 1);
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_TRUE);
	setenv("COLORTERM", "24bit", 1);
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_TRUE);
	setenv("COLORTERM", "yes", 1);
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_256);
	setenv("NO_COLOR", "", 1); /* empty: no effect, as no-color.org says */
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_256);
	setenv("NO_COLOR", "1", 1);
	assert_int_equal(pgr_theme_depth(false, 256), PGR_DEPTH_MONO);
	setenv("COLORTERM", "truecolor", 1);
	assert_int_equal(pgr_theme_depth(false, 0x1000000), PGR_DEPTH_MONO);
	unsetenv("NO_COLOR");
	unsetenv("COLORTERM");
}

/* ---------------------------------------------------------------- colour-blind palettes */

static double hue(struct pgr_rgb c)
{
	double r = c.r / 255.0, g = c.g / 255.0, b = c.b / 255.0;
	double mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
	double mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
	double d = mx - mn;
	if (d < 0.15)
		return -1; /* grey: no hue */
	double h;
	if (mx == r)
		h = 60 * ((g - b) / d);
	else if (mx == g)
		h = 60 * ((b - r) / d + 2);
	else
		h = 60 * ((r - g) / d + 4);
	return h < 0 ? h + 360 : h;
}

static bool is_red(double h)
{
	return h >= 0 && (h < 25 || h >= 330);
}
static bool is_green(double h)
{
	return h >= 75 && h <= 165;
}
static bool is_blue(double h)
{
	return h >= 190 && h <= 260;
}
static bool is_yellow(double h)
{
	return h >= 40 && h <= 70;
}

static void state_hues(const char *name, double h[3])
{
	struct pgr_theme t;
	struct pgr_error err = {0};
	assert_true(pgr_theme_load(name, &t, &err));
	const enum pgr_role roles[3] = {PGR_ROLE_OK, PGR_ROLE_WARN, PGR_ROLE_FAIL};
	for (int i = 0; i < 3; i++) {
		assert_true(t.style[roles[i]].fg.set);
		h[i] = hue(t.style[roles[i]].fg);
		assert_true(h[i] >= 0); /* each state has a hue of its own, not a grey */
	}
}

static void test_colour_blind_themes(void **state)
{
	(void)state;
	double h[3];
	state_hues("deuteranopia", h);
	/* ok/warn/fail: never a red against a green. */
	for (int i = 0; i < 3; i++) {
		assert_false(is_green(h[i]));
		for (int j = 0; j < 3; j++)
			assert_false(is_red(h[i]) && is_green(h[j]));
	}
	assert_true(is_blue(h[0])); /* ok is blue */
	state_hues("tritanopia", h);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			assert_false(is_blue(h[i]) && is_yellow(h[j]));
	/* The default theme is red/green, which is why the other two exist. */
	state_hues("default", h);
	assert_true(is_green(h[0]) && is_red(h[2]));
}

/* ---------------------------------------------------------------- curses */

static SCREEN *screen;
static FILE *scr_out, *scr_in;

static void screen_open(const char *term)
{
	scr_out = fopen("/dev/null", "w");
	scr_in = fopen("/dev/null", "r");
	assert_non_null(scr_out);
	screen = newterm(term, scr_out, scr_in);
	assert_non_null(screen);
	set_term(screen);
	start_color();
}

static void screen_close(void)
{
	endwin();
	delscreen(screen);
	fclose(scr_out);
	fclose(scr_in);
	screen = NULL;
}

static void test_apply_pairs(void **state)
{
	(void)state;
	unsetenv("NO_COLOR");
	unsetenv("COLORTERM");
	screen_open("xterm-256color");
	assert_int_equal(COLORS, 256);
	struct pgr_theme t;
	struct pgr_error err = {0};
	assert_true(pgr_theme_load("default", &t, &err));
	enum pgr_colour_depth depth = pgr_theme_depth(false, COLORS);
	assert_int_equal(depth, PGR_DEPTH_256);
	pgr_theme_apply(&t, depth);
	for (int r = 0; r < PGR_N_ROLES; r++) {
		int a = pgr_theme_attr(r);
		int pair = PAIR_NUMBER(a);
		assert_int_equal(pair, r + 1);
		int fg, bg;
		assert_int_equal(extended_pair_content(pair, &fg, &bg), OK);
		assert_int_equal(fg, pgr_theme_nearest(t.style[r].fg, PGR_DEPTH_256));
		assert_int_equal(bg, pgr_theme_nearest(t.style[r].bg, PGR_DEPTH_256));
	}
	assert_true(pgr_theme_attr(PGR_ROLE_FAIL) & A_BOLD);
	/* 16 colours. */
	pgr_theme_apply(&t, PGR_DEPTH_16);
	int fg, bg;
	assert_int_equal(extended_pair_content(PGR_ROLE_OK + 1, &fg, &bg), OK);
	assert_int_equal(fg, 2);
	assert_int_equal(bg, -1);
	/* NO_COLOR: no colour pairs at all, attributes only. */
	setenv("NO_COLOR", "1", 1);
	pgr_theme_apply(&t, pgr_theme_depth(false, COLORS));
	for (int r = 0; r < PGR_N_ROLES; r++)
		assert_int_equal(PAIR_NUMBER(pgr_theme_attr(r)), 0);
	assert_int_equal(pgr_theme_attr(PGR_ROLE_WARN), A_BOLD);
	assert_int_equal(pgr_theme_attr(PGR_ROLE_NORMAL), A_NORMAL);
	unsetenv("NO_COLOR");
	/* COLORTERM=truecolor on a terminal that can neither redefine colours nor take direct ones:
	 * degrade to 256 rather than show nothing. */
	setenv("COLORTERM", "truecolor", 1);
	depth = pgr_theme_depth(false, COLORS);
	assert_int_equal(depth, PGR_DEPTH_TRUE);
	pgr_theme_apply(&t, depth);
	assert_int_equal(extended_pair_content(PGR_ROLE_OK + 1, &fg, &bg), OK);
	if (!can_change_color())
		assert_int_equal(fg, 77);
	unsetenv("COLORTERM");
	screen_close();
	/* A terminal without colours: mono whatever the theme says. */
	screen_open("xterm-mono");
	pgr_theme_apply(&t, PGR_DEPTH_256);
	assert_int_equal(PAIR_NUMBER(pgr_theme_attr(PGR_ROLE_OK)), 0);
	screen_close();
	assert_int_equal(pgr_theme_attr(PGR_N_ROLES), A_NORMAL);
}

/* ---------------------------------------------------------------- the : parser */

static void test_parse_commands(void **state)
{
	(void)state;
	struct pgr_command c;
	struct pgr_error err = {0};
	assert_true(pgr_cmdline_parse(":backup", &c, &err));
	assert_int_equal(c.cmd, PGR_CMD_BACKUP);
	assert_int_equal(c.action, PGR_ACT_BACKUP);
	assert_true(c.dangerous);
	assert_true(pgr_cmdline_parse("  restore  20240101-020000 ", &c, &err));
	assert_int_equal(c.action, PGR_ACT_RESTORE);
	assert_string_equal(c.arg, "20240101-020000");
	assert_true(pgr_cmdline_parse("pitr 2024-01-01 02:00:00+00", &c, &err));
	assert_int_equal(c.action, PGR_ACT_PITR);
	assert_string_equal(c.arg, "2024-01-01 02:00:00+00");
	assert_true(pgr_cmdline_parse("theme light", &c, &err));
	assert_int_equal(c.cmd, PGR_CMD_THEME);
	assert_int_equal(c.action, PGR_ACT_NONE);
	assert_false(c.dangerous);
	assert_string_equal(c.arg, "light");
	assert_true(pgr_cmdline_parse("th dark", &c, &err)); /* unique prefix */
	assert_int_equal(c.cmd, PGR_CMD_THEME);
	assert_true(pgr_cmdline_parse("q", &c, &err));
	assert_int_equal(c.action, PGR_ACT_QUIT);
	assert_true(pgr_cmdline_parse(":QUIT", &c, &err));
	assert_int_equal(c.cmd, PGR_CMD_QUIT);
	assert_true(pgr_cmdline_parse("help", &c, &err));
	assert_int_equal(c.action, PGR_ACT_HELP);
	assert_true(pgr_cmdline_parse("   ", &c, &err));
	assert_int_equal(c.cmd, PGR_CMD_NONE);
	assert_true(pgr_cmdline_parse(":", &c, &err));
	assert_int_equal(c.cmd, PGR_CMD_NONE);

	/* Errors say what and hint how. */
	assert_false(pgr_cmdline_parse("frobnicate", &c, &err));
	assert_string_equal(err.msg, "unknown command \"frobnicate\"");
	assert_non_null(strstr(err.hint, ":theme NAME"));
	assert_false(pgr_cmdline_parse("restor", &c, &err));
	assert_non_null(strstr(err.hint, "write :restore in full"));
	assert_false(pgr_cmdline_parse("b", &c, &err)); /* dangerous: never abbreviated */
	assert_int_equal(c.cmd, PGR_CMD_NONE);
	assert_false(pgr_cmdline_parse("bakcup", &c, &err));
	assert_non_null(strstr(err.hint, "did you mean :backup"));
	assert_false(pgr_cmdline_parse("theme", &c, &err));
	assert_non_null(strstr(err.msg, "needs a NAME"));
	assert_non_null(strstr(err.hint, "tritanopia"));
	assert_false(pgr_cmdline_parse("theme a b", &c, &err));
	assert_false(pgr_cmdline_parse("quit now", &c, &err));
	assert_non_null(strstr(err.msg, "takes no argument"));
	assert_false(pgr_cmdline_parse("restore a b", &c, &err));
	assert_false(pgr_cmdline_parse("restore a\033b", &c, &err));
	char longline[400];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "pitr ", 5);
	longline[sizeof(longline) - 1] = '\0';
	assert_false(pgr_cmdline_parse(longline, &c, &err));
	for (const struct pgr_command_info *i = pgr_commands; i->name; i++)
		assert_true(i->help && i->usage);
}

/* ---------------------------------------------------------------- the editor */

static void row_text(int row, char *buf, int n)
{
	mvinnstr(row, 0, buf, n);
	for (int i = (int)strlen(buf) - 1; i >= 0 && buf[i] == ' '; i--)
		buf[i] = '\0';
}

static void test_editor(void **state)
{
	(void)state;
	screen_open("xterm-256color");
	resizeterm(24, 80);
	assert_false(pgr_cmdline_active());
	assert_int_equal(pgr_cmdline_feed('x'), PGR_CMDLINE_CLOSED);

	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	assert_true(pgr_cmdline_active());
	assert_int_equal(pgr_cmdline_kind(), PGR_CMDLINE_COMMAND);
	assert_int_equal(pgr_cmdline_feed_text("theme trit"), PGR_CMDLINE_EDITING);
	assert_string_equal(pgr_cmdline_text(), "theme trit");
	/* Tab completes theme names from the theme directories. */
	assert_int_equal(pgr_cmdline_feed('\t'), PGR_CMDLINE_EDITING);
	assert_string_equal(pgr_cmdline_text(), "theme tritanopia ");
	pgr_cmdline_draw();
	int y, x;
	getyx(stdscr, y, x);
	assert_int_equal(y, 23);
	assert_int_equal(x, 18); /* after the space, at the editing point */
	char buf[128];
	row_text(23, buf, sizeof(buf));
	assert_string_equal(buf, ":theme tritanopia");
	/* Editing keys: backspace, left, delete, home, insert. */
	assert_int_equal(pgr_cmdline_feed(KEY_BACKSPACE), PGR_CMDLINE_EDITING);
	assert_int_equal(pgr_cmdline_feed(KEY_LEFT), PGR_CMDLINE_EDITING);
	assert_int_equal(pgr_cmdline_feed(KEY_DC), PGR_CMDLINE_EDITING);
	assert_string_equal(pgr_cmdline_text(), "theme tritanopi");
	pgr_cmdline_feed(KEY_END);
	pgr_cmdline_feed('a');
	pgr_cmdline_feed(KEY_HOME);
	pgr_cmdline_feed_text("  ");
	pgr_cmdline_feed(KEY_RESIZE); /* ignored */
	pgr_cmdline_feed(KEY_F(5)); /* ignored */
	assert_string_equal(pgr_cmdline_text(), "  theme tritanopia");
	assert_int_equal(pgr_cmdline_feed('\r'), PGR_CMDLINE_SUBMITTED);
	assert_false(pgr_cmdline_active());
	assert_string_equal(pgr_cmdline_text(), "  theme tritanopia");
	struct pgr_command c;
	struct pgr_error err = {0};
	assert_true(pgr_cmdline_parse(pgr_cmdline_text(), &c, &err));
	assert_string_equal(c.arg, "tritanopia");

	/* Command names complete too; two candidates are listed in the message. */
	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	pgr_cmdline_feed_text("ba");
	pgr_cmdline_feed('\t');
	assert_string_equal(pgr_cmdline_text(), "backup ");
	pgr_cmdline_feed(21); /* Ctrl-U: readline's own binding */
	assert_string_equal(pgr_cmdline_text(), "");
	pgr_cmdline_feed_text("h");
	pgr_cmdline_feed('\t');
	assert_string_equal(pgr_cmdline_message(), ""); /* only help */
	assert_string_equal(pgr_cmdline_text(), "help ");
	pgr_cmdline_feed(21);
	pgr_cmdline_feed_text("theme ");
	pgr_cmdline_feed('\t');
	assert_non_null(strstr(pgr_cmdline_message(), "deuteranopia"));
	pgr_cmdline_draw();
	row_text(23, buf, sizeof(buf));
	assert_non_null(strstr(buf, "high-contrast"));
	/* Esc cancels at once and submits nothing. */
	assert_int_equal(pgr_cmdline_feed(27), PGR_CMDLINE_CANCELLED);
	assert_false(pgr_cmdline_active());
	assert_string_equal(pgr_cmdline_text(), "");
	assert_string_equal(pgr_cmdline_message(), "");

	/* History: Up recalls the last command, and it was written to $XDG_STATE_HOME. */
	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	pgr_cmdline_feed(KEY_UP);
	assert_string_equal(pgr_cmdline_text(), "  theme tritanopia");
	pgr_cmdline_feed(KEY_DOWN);
	assert_string_equal(pgr_cmdline_text(), "");
	pgr_cmdline_feed_text("help\n");
	assert_false(pgr_cmdline_active());
	char *hist = xasprintf("%s/state/pgrescue/history", tmp_root);
	char *data = NULL;
	size_t len = 0;
	assert_true(pgr_read_file(hist, &data, &len, &err));
	assert_non_null(strstr(data, "  theme tritanopia\nhelp\n"));
	free(data);

	/* The filter has its own history and prompt; Tab does nothing there. */
	pgr_cmdline_open(PGR_CMDLINE_FILTER, 10, 5, 20, "2024");
	assert_int_equal(pgr_cmdline_kind(), PGR_CMDLINE_FILTER);
	assert_string_equal(pgr_cmdline_text(), "2024");
	pgr_cmdline_feed('\t');
	pgr_cmdline_feed(KEY_UP);
	assert_string_equal(pgr_cmdline_text(), "2024");
	pgr_cmdline_feed_text("01\n");
	assert_string_equal(pgr_cmdline_text(), "202401");
	pgr_cmdline_open(PGR_CMDLINE_FILTER, 10, 5, 20, NULL);
	pgr_cmdline_feed(KEY_UP);
	assert_string_equal(pgr_cmdline_text(), "202401");
	/* A long line scrolls so the cursor stays inside the editor's 20 columns. */
	pgr_cmdline_feed_text("-abcdefghijklmnopqrstuvwxyz");
	pgr_cmdline_draw();
	getyx(stdscr, y, x);
	assert_int_equal(y, 10);
	assert_true(x > 5 && x < 25);
	mvinnstr(10, 5, buf, 20);
	assert_int_equal(buf[0], '/');
	assert_non_null(strstr(buf, "xyz"));
	mvinnstr(10, 25, buf, 5);
	assert_string_equal(buf, "     "); /* nothing drawn past the width */
	/* UTF-8, typed as bytes. */
	pgr_cmdline_feed(21);
	pgr_cmdline_feed_text("caf\xc3\xa9");
	assert_string_equal(pgr_cmdline_text(), "caf\xc3\xa9");
	pgr_cmdline_feed(KEY_BACKSPACE);
	assert_string_equal(pgr_cmdline_text(), "caf");
	assert_int_equal(pgr_cmdline_feed(3), PGR_CMDLINE_CANCELLED); /* Ctrl-C */

	/* Back to commands: their history is intact. */
	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	pgr_cmdline_feed(KEY_UP);
	assert_string_equal(pgr_cmdline_text(), "help");
	pgr_cmdline_close();
	assert_false(pgr_cmdline_active());
	/* Opening twice restarts with an empty line. */
	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	pgr_cmdline_feed_text("abc");
	pgr_cmdline_open(PGR_CMDLINE_COMMAND, 23, 0, 0, NULL);
	assert_string_equal(pgr_cmdline_text(), "");
	pgr_cmdline_close();
	pgr_cmdline_shutdown();
	free(hist);
	screen_close();
}

/* ---------------------------------------------------------------- setup */

static int setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/pgr-test-theme-XXXXXX");
	if (!mkdtemp(tmp_root))
		return -1;
	char *cfg = xasprintf("%s/config", tmp_root);
	char *st = xasprintf("%s/state", tmp_root);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	setenv("XDG_STATE_HOME", st, 1);
	free(cfg);
	free(st);
	setenv("LC_ALL", "C.UTF-8", 1);
	setlocale(LC_ALL, "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	struct pgr_error err = {0};
	pgr_rm_rf(tmp_root, &err);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_shipped_themes_parse),
	        cmocka_unit_test(test_default_file_matches_builtin),
	        cmocka_unit_test(test_parse_syntax),
	        cmocka_unit_test(test_broken_themes_name_file_and_line),
	        cmocka_unit_test(test_user_dir_overrides_and_errors),
	        cmocka_unit_test(test_nearest_each_depth),
	        cmocka_unit_test(test_depth_and_no_color),
	        cmocka_unit_test(test_colour_blind_themes),
	        cmocka_unit_test(test_apply_pairs),
	        cmocka_unit_test(test_parse_commands),
	        cmocka_unit_test(test_editor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
