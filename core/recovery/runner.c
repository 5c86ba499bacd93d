/* placeholder: being written */
#include "recovery/runner.h"
typedef int pgr_placeholder_runner;
