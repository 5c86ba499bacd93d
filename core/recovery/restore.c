/* placeholder: being written */
#include "recovery/restore.h"
typedef int pgr_placeholder_restore;
