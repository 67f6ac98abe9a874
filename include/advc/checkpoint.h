/* advc/checkpoint.h: the model file format, as plain data.
 *
 * A checkpoint holds what is needed to rebuild and run a model: the model
 * spec string, its activation, input shape and class count, free-form
 * training metadata ("key=value" lines: epoch, seed, recipe, ...) and the
 * named tensors (parameters and batch-norm state).  This floor (io) only
 * reads and writes the file; models/ turns it into a graph.
 *
 * Writing goes through the safe-file writer (advc/io.h: "PATH.tmp.<pid>",
 * fsync, rename), so a crash never leaves a half-written model under PATH.
 * Reading validates magic, version, every length against the file size,
 * and the CRC32, and names the file and the problem in the error.  The
 * byte layout is documented in checkpoint.c.
 */
#ifndef ADVC_CHECKPOINT_H
#define ADVC_CHECKPOINT_H

#include <stdint.h>
#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char name[64];
    int kind;        /* advc_tensor_kind value */
    int ndim;
    int dims[4];
    size_t count;    /* product of dims */
    float *data;     /* (count) */
} advc_ckpt_tensor;

typedef struct {
    char spec[256];      /* e.g. "resnet:depth=20,width=16"            */
    char act[64];        /* e.g. "relu", "psoftplus:10"                */
    int c, h, w;         /* input shape                                */
    int classes;
    char meta[2048];     /* "key=value\n" lines                        */
    int ntensors;
    advc_ckpt_tensor *tensors;
} advc_checkpoint;

advc_status advc_checkpoint_write(const char *path, const advc_checkpoint *ck);
/* On success *ck owns its tensors; free with advc_checkpoint_free. */
advc_status advc_checkpoint_read(const char *path, advc_checkpoint *ck);
void advc_checkpoint_free(advc_checkpoint *ck);

/* Metadata helpers: set replaces or appends "key=value"; get copies the
 * value into out (size outsz) and returns 1, or returns 0 if absent. */
advc_status advc_meta_set(char *meta, size_t metasz, const char *key,
                          const char *value);
int advc_meta_get(const char *meta, const char *key, char *out,
                  size_t outsz);

/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), continuable:
 * crc = advc_crc32(0, a, na); crc = advc_crc32(crc, b, nb); */
uint32_t advc_crc32(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_CHECKPOINT_H */
