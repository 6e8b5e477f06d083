#include "up/up.h"
static const struct conf_directive d[] = {{NULL, 0, 0, 0, 0, NULL, NULL, 0, NULL, 0, NULL, NULL}};
const struct conf_table up_conf_table = {"up", d, 8, NULL};
int up_main(int argc, char **argv) { (void)argc; (void)argv; return 1; }
