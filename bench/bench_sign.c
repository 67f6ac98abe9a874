/* bench_sign.c: placeholder, filled in by the sign kernel work. */
#include "bench.h"
int bench_sign(const bench_opts *o) { (void)o; return 0; }
