#include "log.h"
int main(void) { return 0; }
