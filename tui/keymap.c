/* PLACEHOLDER */
#include "config.h"
#include <stddef.h>
#include "keymap.h"
const struct pgr_key pgr_keymap[] = {{0, NULL, PGR_ACT_NONE, NULL, NULL, false, false}};
const struct pgr_key *pgr_keymap_find(int key)
{
	(void)key;
	return NULL;
}
