/* Themes: the files in themes/ (NAME.theme) map semantic roles to colours and attributes.
 * One place degrades truecolor -> 256 -> 16 -> monochrome (NO_COLOR, --no-color).
 * State never rests on colour alone: screens always print OK/WARN/FAIL/STALE. */
#ifndef PGR_THEME_H
#define PGR_THEME_H

#include <stdbool.h>

#include "base/error.h"

enum pgr_role {
	PGR_ROLE_NORMAL = 0,
	PGR_ROLE_OK,
	PGR_ROLE_WARN,
	PGR_ROLE_FAIL,
	PGR_ROLE_UNKNOWN,
	PGR_ROLE_STALE,
	PGR_ROLE_DANGER,
	PGR_ROLE_READONLY, /* the read-only banner */
	PGR_ROLE_HEADER,
	PGR_ROLE_SELECTION,
	PGR_ROLE_MUTED,
	PGR_ROLE_BORDER,
	PGR_ROLE_TITLE,
	PGR_N_ROLES
};
const char *pgr_role_name(enum pgr_role r); /* "ok", "warn", "readonly" ... as written in theme files */

enum pgr_colour_depth { PGR_DEPTH_MONO = 0, PGR_DEPTH_16, PGR_DEPTH_256, PGR_DEPTH_TRUE };

struct pgr_rgb {
	bool set; /* false: terminal default */
	int r, g, b;
};

struct pgr_style {
	struct pgr_rgb fg, bg;
	bool bold, dim, underline, reverse, italic;
};

struct pgr_theme {
	char name[64];
	char path[512];
	struct pgr_style style[PGR_N_ROLES];
};

/* Parse a theme file; errors name file:line. */
bool pgr_theme_parse(const char *text, const char *source, struct pgr_theme *t, struct pgr_error *err);
/* Find NAME in $XDG_CONFIG_HOME/pgrescue/themes, then the shipped themes dir
 * (PGRESCUE_THEMEDIR env, the build's source themes/, PGRESCUE_THEMEDIR macro). */
bool pgr_theme_load(const char *name, struct pgr_theme *t, struct pgr_error *err);
/* The built-in default, used when a theme cannot be loaded. */
void pgr_theme_default(struct pgr_theme *t);
/* Depth from the environment: NO_COLOR (non-empty) or no_color -> mono;
 * COLORTERM=truecolor/24bit -> true; else the terminal's COLORS. */
enum pgr_colour_depth pgr_theme_depth(bool no_color, int terminal_colors);
/* Nearest colour index for a depth (16: the ANSI 16, 256: the xterm cube). */
int pgr_theme_nearest(struct pgr_rgb c, enum pgr_colour_depth depth);
/* Install colour pairs in curses for every role (after start_color()). */
void pgr_theme_apply(const struct pgr_theme *t, enum pgr_colour_depth depth);
/* The curses attribute (pair + attributes) for a role. */
int pgr_theme_attr(enum pgr_role r);
/* Names of the shipped and user themes (for :theme completion). */
int pgr_theme_list(char names[][64], int max);

#endif
