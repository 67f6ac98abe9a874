/* test_vec.c: placeholder, filled in by the vec kernel work. */
#include "testutil.h"
Suite *advc_suite_vec(void) { return suite_create("vec"); }
