/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "theme.h"

const char *pgr_role_name(enum pgr_role r)
{
	return NULL;
}

bool pgr_theme_parse(const char *text, const char *source, struct pgr_theme *t, struct pgr_error *err)
{
	return false;
}

bool pgr_theme_load(const char *name, struct pgr_theme *t, struct pgr_error *err)
{
	return false;
}

void pgr_theme_default(struct pgr_theme *t)
{
}

enum pgr_colour_depth pgr_theme_depth(bool no_color, int terminal_colors)
{
	return (enum pgr_colour_depth)0;
}

int pgr_theme_nearest(struct pgr_rgb c, enum pgr_colour_depth depth)
{
	return 0;
}

void pgr_theme_apply(const struct pgr_theme *t, enum pgr_colour_depth depth)
{
}

int pgr_theme_attr(enum pgr_role r)
{
	return 0;
}

int pgr_theme_list(char names[][64], int max)
{
	return 0;
}
