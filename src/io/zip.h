/* zip.h: uncompressed zip archives, the container of NumPy's .npz files.
 * The reader is a pure function over a byte buffer; the writer streams
 * members through the safe-file writer (advc/io.h).  Private to
 * src/io/ (npz.c is the user); the format notes are in zip.c.
 */
#ifndef ADVC_IO_ZIP_H
#define ADVC_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include "advc/core.h"
#include "advc/io.h"

typedef struct {
    char *name;            /* NUL-terminated copy (malloc'd)         */
    const uint8_t *data;   /* the stored bytes, inside the buffer    */
    size_t size;
} advc_zip_entry;

typedef struct {
    int n;
    advc_zip_entry *e;     /* (n), central-directory order           */
} advc_zip;

/* Parses buf[0..len): end record (and zip64 end record when a field
 * needs it), central directory, each local header, each member's CRC-32.
 * Only stored members; a deflated one is refused naming it.  Names are
 * unique and contain no NUL.  `path` names the file in messages.  *z is
 * zeroed first: advc_zip_free is safe after any return. */
advc_status advc_zip_parse(const uint8_t *buf, size_t len, const char *path,
                           advc_zip *z);
void advc_zip_free(advc_zip *z);

/* A member name as npz reports it: "tensor 'x'" for "x.npy", else
 * "member 'x'", into out[outsz]. */
void advc_zip_member_label(const char *name, char *out, size_t outsz);

/* ---- writing ------------------------------------------------------------ */
typedef struct {
    char *name;
    uint32_t crc;
    uint32_t size;
    uint32_t offset;       /* of its local header */
} advc_zip_cd;

typedef struct {
    advc_out_file o;
    uint64_t off;          /* bytes written so far                    */
    int n, cap;
    advc_zip_cd *cd;       /* (n) what the central directory lists    */
    advc_status st;        /* first error, sticky                     */
} advc_zip_writer;

advc_status advc_zip_open(advc_zip_writer *w, const char *path);
/* Appends a stored member (nothing after an error). */
void advc_zip_add(advc_zip_writer *w, const char *name, const uint8_t *data,
                  size_t size);
/* Writes the central directory and end record, then commits the file;
 * after an error, removes the temporary and returns the error. */
advc_status advc_zip_close(advc_zip_writer *w);

#endif /* ADVC_IO_ZIP_H */
