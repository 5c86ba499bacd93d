/* placeholder: being written */
#include "recovery/lock.h"
typedef int pgr_placeholder_lock;
