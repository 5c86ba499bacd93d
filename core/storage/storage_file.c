/* PLACEHOLDER */
#include "config.h"
#include "storage/storage.h"
const struct pgr_store_ops pgr_store_file_ops = {.scheme = "file"};
