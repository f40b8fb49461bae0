/* Temporary until dump/demo land. */
#include <stdio.h>
#include "tools.h"
int cmd_dump(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tern dump: not built yet\n"); return 1; }
int cmd_demo(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "tern demo: not built yet\n"); return 1; }
