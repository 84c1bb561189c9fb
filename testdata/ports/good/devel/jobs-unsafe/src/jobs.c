#include <stdio.h>
int main(void) { puts("jobs: built with -j1"); return 0; }
