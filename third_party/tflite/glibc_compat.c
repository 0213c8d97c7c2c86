/* glibc 2.38 maps strtol & co. to C23 variants (__isoc23_*) that also parse "0b" prefixes.
 * Debian's prebuilt ruy objects reference them; on an older glibc these forwarders resolve
 * them to the classic functions, which ruy's decimal environment parsing cannot tell apart. */
#include <stdlib.h>

long __isoc23_strtol(const char* s, char** end, int base) { return strtol(s, end, base); }
unsigned long __isoc23_strtoul(const char* s, char** end, int base) { return strtoul(s, end, base); }
long long __isoc23_strtoll(const char* s, char** end, int base) { return strtoll(s, end, base); }
unsigned long long __isoc23_strtoull(const char* s, char** end, int base) { return strtoull(s, end, base); }
