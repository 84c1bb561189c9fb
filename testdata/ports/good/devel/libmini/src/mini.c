#include "mini.h"
int mini_add(int a, int b) { return a + b; }
const char *mini_version(void) { return "libmini 1.2"; }
