/* out_file.h: writing a whole output file safely, for the PNG, .npy and
 * SVG writers: bytes go to "PATH.tmp.<pid>", then flush, fsync, close and
 * rename over PATH; any failure removes the temporary and leaves PATH as
 * it was.  Write errors are sticky, so writers check once, at commit.
 * Private to src/io/.
 */
#ifndef ADVC_IO_OUT_FILE_H
#define ADVC_IO_OUT_FILE_H

#include <stdio.h>
#include "advc/core.h"

typedef struct {
    FILE *f;
    const char *path; /* the caller's string; must outlive the writer */
    char *tmp;        /* "PATH.tmp.<pid>", malloc'd                    */
    int err;          /* first errno seen, 0 if none                   */
} advc_out_file;

/* Creates the temporary file.  On failure nothing is left open. */
advc_status advc_out_open(advc_out_file *o, const char *path);
/* Appends n bytes (nothing after an error). */
void advc_out_write(advc_out_file *o, const void *p, size_t n);
/* printf-style append (nothing after an error). */
void advc_out_printf(advc_out_file *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Finishes: flush, fsync, close, rename.  Reports the first error with
 * the step that failed, naming PATH.  *o is closed either way. */
advc_status advc_out_commit(advc_out_file *o);
/* Gives up: closes and removes the temporary, PATH untouched. */
void advc_out_abort(advc_out_file *o);

#endif /* ADVC_IO_OUT_FILE_H */
