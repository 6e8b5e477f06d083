#ifndef SCALEOUT_UP_UP_H
#define SCALEOUT_UP_UP_H
#include "core/config.h"
extern const struct conf_table up_conf_table;
int up_main(int argc, char **argv);
#endif
