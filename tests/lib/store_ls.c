/* Test helper: every key under a prefix of a store, one per line, as
 * pgr_store_list gives them (PGRESCUE_LIST_WORKERS=1: one page after the
 * other). The integration tests compare it with the server's own listing.
 * Usage: store_ls URL PREFIX */
#include "config.h"

#include <stdio.h>

#include "base/error.h"
#include "storage/storage.h"

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: store_ls URL PREFIX\n");
		return 2;
	}
	struct pgr_error err = {0};
	struct pgr_store *st = pgr_store_open(argv[1], &err);
	struct pgr_object_list l = {0};
	if (!st || !pgr_store_list(st, argv[2], &l, &err)) {
		fprintf(stderr, "store_ls: %s\n", err.msg);
		pgr_store_close(st);
		return 1;
	}
	for (size_t i = 0; i < l.n; i++)
		printf("%s\n", l.items[i].key);
	pgr_object_list_free(&l);
	pgr_store_close(st);
	return 0;
}
