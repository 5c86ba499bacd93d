/* placeholder: being written */
#include "recovery/audit.h"
typedef int pgr_placeholder_audit;
