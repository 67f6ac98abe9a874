/* test_main.c: runs every suite in suites.h.
 *   advc-tests            all suites
 *   advc-tests gemm act   only the named suites
 * Exit status 0 only if every test passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"
#include "advc/advc.h"

typedef struct { const char *name; Suite *(*make)(void); } suite_entry;

#define ADVC_SUITE_ENTRY(name) { #name, advc_suite_##name },
static const suite_entry all_suites[] = { ADVC_SUITES(ADVC_SUITE_ENTRY) };
#undef ADVC_SUITE_ENTRY

int main(int argc, char **argv)
{
    size_t ns = sizeof all_suites / sizeof all_suites[0];
    SRunner *sr = NULL;
    for (size_t i = 0; i < ns; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], all_suites[i].name) == 0) want = 1;
        if (!want) continue;
        Suite *s = all_suites[i].make();
        if (!sr) sr = srunner_create(s);
        else srunner_add_suite(sr, s);
    }
    if (!sr) {
        fprintf(stderr, "advc-tests: no suite matches the given names\n");
        return 2;
    }
    printf("advc-tests: kernels built for %s\n", advc_isa_name());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
