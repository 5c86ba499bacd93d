/* placeholder: being written */
#include "recovery/pitr.h"
typedef int pgr_placeholder_pitr;
