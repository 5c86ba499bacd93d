/* PLACEHOLDER */
#include "config.h"
#include "platform/platform.h"
const struct pgr_platform_ops pgr_platform_local_ops = {.name = "local"};
