#include <stdio.h>
#include "greet.h"

int
greet(char *buf, int len, const char *name)
{
	if (name == NULL || *name == '\0')
		name = "world";
	return snprintf(buf, len, "Hello, %s!", name);
}

const char *
greet_version(void)
{
	return GREET_VERSION;
}
