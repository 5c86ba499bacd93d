/* PLACEHOLDER */
#include "config.h"
#include "platform/platform.h"
