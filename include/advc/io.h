/* advc/io.h: the one safe way advc writes a whole file: checkpoints, PNG,
 * SVG, .npy and CSV all go through it.
 *
 * Bytes go to a temporary file "PATH.tmp.<pid>" beside PATH; commit then
 * flushes, fsyncs and closes it, renames it over PATH and fsyncs the
 * directory, so PATH is always either the old file or the complete new
 * one, also across a crash or a power cut.  A failed write removes its
 * temporary file and reports one line naming PATH and the step that failed
 * (create, write, flush, fsync, close or rename); PATH keeps its old
 * contents.  A process killed mid-write leaves its temporary behind; the
 * next successful commit into the same directory removes every
 * "PATH.tmp.<pid>" whose process is gone (same host and pid namespace).
 *
 * Write errors are sticky: advc_out_write and advc_out_printf do nothing
 * after the first error, and commit reports it, so a writer checks once.
 *
 *   advc_out_file o;
 *   if (advc_out_open(&o, "log.csv") != ADVC_OK) return ...;
 *   advc_out_printf(&o, "epoch,loss\n");
 *   advc_out_printf(&o, "%d,%.6f\n", 1, 0.25);
 *   return advc_out_commit(&o);   // or advc_out_abort(&o) to give up
 */
#ifndef ADVC_IO_H
#define ADVC_IO_H

#include <stddef.h>
#include <stdio.h>
#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    FILE *f;          /* the open temporary file                       */
    const char *path; /* the caller's string; must outlive the writer  */
    char *tmp;        /* "PATH.tmp.<pid>", malloc'd                    */
    int err;          /* first errno seen, 0 if none                   */
} advc_out_file;

/* Creates the temporary file.  On failure nothing is left open or on
 * disk, and the message names PATH and the temporary. */
advc_status advc_out_open(advc_out_file *o, const char *path);
/* Appends n bytes (nothing after an error). */
void advc_out_write(advc_out_file *o, const void *p, size_t n);
/* printf-style append (nothing after an error). */
void advc_out_printf(advc_out_file *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Finishes: flush, fsync, close, rename over PATH, fsync the directory,
 * then removes temporaries of dead processes beside PATH.  Reports the
 * first error with the step that failed, naming PATH.  *o is closed and
 * its temporary gone (renamed or removed) either way. */
advc_status advc_out_commit(advc_out_file *o);
/* Gives up: closes and removes the temporary, PATH untouched. */
void advc_out_abort(advc_out_file *o);

/* The whole file in one call: open, write n bytes, commit. */
advc_status advc_write_file(const char *path, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_IO_H */
