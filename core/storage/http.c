/* placeholder: being written */
#include "storage/http.h"
typedef int pgr_placeholder_http;
