/* Temporary until demo lands. */
#include <stdio.h>
#include "tools.h"
int cmd_demo(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tern demo: not built yet\n"); return 1; }
