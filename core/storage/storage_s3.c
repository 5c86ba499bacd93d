/* placeholder: being written */
#include "storage/storage.h"
typedef int pgr_placeholder_s3;
