#include <stdio.h>
#ifndef TL_DIALECT
#define TL_DIALECT "v2"
#endif
int main(int argc, char **argv) {
	printf("tinylang dialect %s, %d script(s)\n", TL_DIALECT, argc - 1);
	return 0;
}
