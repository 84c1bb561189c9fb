/* libgreet: a tiny greeting library (the demo's shared library). */
#ifndef GREET_H
#define GREET_H
#define GREET_VERSION "1.0"
/* greet writes a greeting for name into buf (size len); returns its length. */
int greet(char *buf, int len, const char *name);
const char *greet_version(void);
#endif
