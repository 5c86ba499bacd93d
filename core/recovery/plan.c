/* placeholder: being written */
#include "recovery/plan.h"
typedef int pgr_placeholder_plan;
