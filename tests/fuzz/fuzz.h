/* fuzz.h: what the libFuzzer targets in tests/fuzz/ share.  Each target is
 * one file fuzz_<name>.c defining LLVMFuzzerTestOneInput; `make fuzz`
 * finds it by that name, builds it with clang's -fsanitize=fuzzer,
 * address,undefined against a library built the same way, and runs it on
 * tests/fuzz/corpus/<name>/ (plus tests/fuzz/<name>.dict if present).
 *
 * A target for a parser of strings is one line after the include:
 *   #include "fuzz.h"
 *   FUZZ_STRING_TARGET(advc_act_spec_parse(s, &(advc_act_spec){0}))
 * (s is the input as a NUL-terminated string.)
 */
#ifndef ADVC_FUZZ_H
#define ADVC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "advc/advc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* The path of scratch file number slot (0..3), now holding data[0..n).
 * The readers under test open files by name, so inputs go through real
 * files (in a private directory under /dev/shm or $TMPDIR, removed at
 * exit). */
const char *fuzz_file(int slot, const uint8_t *data, size_t n);

/* A malloc'd NUL-terminated copy of data[0..n) (free it). */
char *fuzz_string(const uint8_t *data, size_t n);

#define FUZZ_STRING_TARGET(call)                                         \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)            \
    {                                                                    \
        char *s = fuzz_string(data, n);                                  \
        if (s) (void)(call);                                             \
        free(s);                                                         \
        return 0;                                                        \
    }

#endif
