/* placeholder: being written by the lead */
#include "recovery/pitr.h"
const struct pgr_step_impl pgr_pitr_steps[] = {{0}};
