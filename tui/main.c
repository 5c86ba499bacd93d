#include "config.h"
#include <stdio.h>
int main(void) { puts("pgrescue"); return 0; }
