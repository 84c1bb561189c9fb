#include <stdio.h>
#include <mini.h>
int main(int argc, char **argv) {
	int i, n = 0;
	for (i = 1; i < argc; i++) n = mini_add(n, 1);
	printf("minicat (%s): %d args\n", mini_version(), n);
	return 0;
}
