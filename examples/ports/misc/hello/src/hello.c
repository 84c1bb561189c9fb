#include <stdio.h>
#include <greet.h>

int
main(int argc, char **argv)
{
	char buf[256];

	greet(buf, sizeof(buf), argc > 1 ? argv[1] : NULL);
	printf("%s (libgreet %s)\n", buf, greet_version());
	return 0;
}
