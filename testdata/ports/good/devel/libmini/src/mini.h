#ifndef MINI_H
#define MINI_H
int mini_add(int a, int b);
const char *mini_version(void);
#endif
