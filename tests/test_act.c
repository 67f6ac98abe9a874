/* test_act.c: placeholder, filled in by the act kernel work. */
#include "testutil.h"
Suite *advc_suite_act(void) { return suite_create("act"); }
