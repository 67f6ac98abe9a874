/* bench_act.c: placeholder, filled in by the act kernel work. */
#include "bench.h"
int bench_act(const bench_opts *o) { (void)o; return 0; }
