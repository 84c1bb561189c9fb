#include <stdio.h>
#include "config.h"
#if USE_MINI
#include <mini.h>
#endif
int main(void) {
#if USE_MINI
	printf("optioned: mini %d\n", mini_add(2, 3));
#else
	printf("optioned: no mini\n");
#endif
#if USE_EXTRA
	printf("optioned: extra\n");
#endif
	return 0;
}
