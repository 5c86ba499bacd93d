/* PLACEHOLDER */
#include "config.h"
typedef int pgr_placeholder_prom;
