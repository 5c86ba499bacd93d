/* placeholder: being written */
#include "recovery/target.h"
typedef int pgr_placeholder_target;
