/* wc2: count lines, words and bytes of stdin or files; the "color" flavor
 * highlights the numbers with ANSI colours. */
#include <ctype.h>
#include <stdio.h>

#ifdef WC2_COLOR
#define NUM "\033[1;32m%8ld\033[0m"
#else
#define NUM "%8ld"
#endif

static void
count(FILE *f, long *l, long *w, long *c)
{
	int ch, inword = 0;

	*l = *w = *c = 0;
	while ((ch = getc(f)) != EOF) {
		(*c)++;
		if (ch == '\n')
			(*l)++;
		if (isspace(ch))
			inword = 0;
		else if (!inword) {
			inword = 1;
			(*w)++;
		}
	}
}

int
main(int argc, char **argv)
{
	long l, w, c;
	int i, rc = 0;
	FILE *f;

	if (argc < 2) {
		count(stdin, &l, &w, &c);
		printf(NUM NUM NUM "\n", l, w, c);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "r")) == NULL) {
			perror(argv[i]);
			rc = 1;
			continue;
		}
		count(f, &l, &w, &c);
		fclose(f);
		printf(NUM NUM NUM " %s\n", l, w, c, argv[i]);
	}
	return rc;
}
