/* fortune-lite: print a fortune from $PREFIX/share/fortune-lite. The
 * fortune is chosen by the day of the year unless -n N is given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FORTUNE_DIR
#define FORTUNE_DIR "/usr/local/share/fortune-lite"
#endif

int
main(int argc, char **argv)
{
	char path[1024], line[1024];
	const char *file = "fortunes";
	int want, n = 0, printed = 0, i;
	FILE *f;
	time_t now = time(NULL);

	want = localtime(&now)->tm_yday;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			want = atoi(argv[++i]);
		else if (strcmp(argv[i], "-l") == 0)
			file = "fortunes-long";
	}
	snprintf(path, sizeof(path), "%s/%s", FORTUNE_DIR, file);
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return 1;
	}
	/* count the fortunes, then print the chosen one */
	while (fgets(line, sizeof(line), f) != NULL)
		if (strcmp(line, "%\n") == 0)
			n++;
	n++;
	want %= n;
	rewind(f);
	n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, "%\n") == 0) {
			n++;
			continue;
		}
		if (n == want) {
			fputs(line, stdout);
			printed = 1;
		}
	}
	fclose(f);
	return printed ? 0 : 1;
}
