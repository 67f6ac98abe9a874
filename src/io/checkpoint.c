/* checkpoint.c: reads and writes advc model files (advc/checkpoint.h), and
 * the "key=value" metadata helpers.  Writing goes through the one safe-file
 * writer (advc/io.h: temporary file, fsync, rename), so PATH is always
 * either the old file or the complete new one.  Reading checks every length
 * against what is left of the file before allocating or reading, then the
 * CRC.
 * Not here: turning a checkpoint into a graph (models/).
 *
 * Byte layout, version 1.  Every integer is unsigned little-endian; floats
 * are IEEE-754 binary32 bit patterns, little-endian.  Strings are a u32
 * length then that many bytes, no terminator, no NUL inside.
 *
 *   size      field
 *   8         magic "ADVCKPT\0" (41 44 56 43 4B 50 54 00)
 *   4         u32 format version (1)
 *   4 + L     spec     (L <= 255)   model specification
 *   4 + L     act      (L <= 63)    activation
 *   4 + L     meta     (L <= 2047)  "key=value\n" lines
 *   4 x 4     u32 c, h, w, classes  (each in [1, 2^24])
 *   4         u32 ntensors          (at most 2^20)
 *   ntensors times:
 *     4 + L   name     (1 <= L <= 63, unique in the file)
 *     4       u32 kind: 0 weight, 1 bias, 2 state (advc_tensor_kind)
 *     4       u32 ndim (1 to 4)
 *     4 ndim  u32 dims, outermost first (each in [1, 2^31 - 1])
 *     8       u64 count, equal to the product of dims
 *     4 count f32 data, row-major
 *   4         u32 CRC-32 (advc_crc32) of every byte before it
 *
 * Nothing follows the CRC.  A new field or encoding means a new version;
 * readers refuse versions newer than they know.  The reader grows its
 * tensor array as tensors are actually read, so a huge declared ntensors
 * costs nothing before the file runs out.  read() allocates the tensor
 * array with realloc and each tensor's data with malloc;
 * advc_checkpoint_free releases both.
 */
#include "advc/checkpoint.h"
#include "advc/io.h"
#include "data_file.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CKPT_MAGIC "ADVCKPT" /* plus its terminating NUL: 8 bytes */
#define CKPT_MAGIC_LEN 8
#define CKPT_VERSION 1u
#define CKPT_MAX_TENSORS (1u << 20)  /* far above any real model          */
#define CKPT_MAX_SHAPE (1u << 24)    /* bound on c, h, w, classes         */
#define CKPT_KIND_COUNT 3u           /* weight, bias, state               */
#define CKPT_CHUNK 4096              /* bytes per float encoding batch    */

/* ---- little-endian encoding, independent of the host's byte order ------- */

static void put_le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t get_le64(const uint8_t *b)
{
    return (uint64_t)get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct {
    advc_out_file out; /* errors are sticky there; commit reports them */
    uint32_t crc;      /* of every byte written so far                  */
} ckpt_writer;

static void w_bytes(ckpt_writer *w, const void *p, size_t n)
{
    advc_out_write(&w->out, p, n);
    w->crc = advc_crc32(w->crc, p, n);
}

static void w_u32(ckpt_writer *w, uint32_t v)
{
    uint8_t b[4];
    put_le32(b, v);
    w_bytes(w, b, 4);
}

static void w_u64(ckpt_writer *w, uint64_t v)
{
    w_u32(w, (uint32_t)v);
    w_u32(w, (uint32_t)(v >> 32));
}

static void w_str(ckpt_writer *w, const char *s)
{
    size_t n = strlen(s);
    w_u32(w, (uint32_t)n);
    w_bytes(w, s, n);
}

/* Each float's bit pattern, little-endian, a chunk at a time. */
static void w_floats(ckpt_writer *w, const float *x, size_t n)
{
    uint8_t buf[CKPT_CHUNK];
    size_t per = sizeof buf / 4;
    for (size_t i = 0; i < n && !w->out.err; i += per) {
        size_t k = n - i < per ? n - i : per;
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, &x[i + j], 4);
            put_le32(buf + 4 * j, u);
        }
        w_bytes(w, buf, 4 * k);
    }
}

/* Length of s if it is NUL-terminated within cap bytes, else cap. */
static size_t bounded_len(const char *s, size_t cap)
{
    const char *z = memchr(s, '\0', cap);
    return z ? (size_t)(z - s) : cap;
}

/* Refuses anything the reader would refuse, so every file we write reads
 * back. */
static advc_status check_for_write(const char *path, const advc_checkpoint *ck)
{
    if (bounded_len(ck->spec, sizeof ck->spec) == sizeof ck->spec ||
        bounded_len(ck->act, sizeof ck->act) == sizeof ck->act ||
        bounded_len(ck->meta, sizeof ck->meta) == sizeof ck->meta)
        return advc_set_error(ADVC_ERR_ARG, "%s: spec, act or meta is not "
                              "NUL-terminated", path);
    const int shape[4] = { ck->c, ck->h, ck->w, ck->classes };
    for (int i = 0; i < 4; i++)
        if (shape[i] < 1 || (unsigned)shape[i] > CKPT_MAX_SHAPE)
            return advc_set_error(ADVC_ERR_ARG,
                                  "%s: input shape / classes (%d, %d, %d; "
                                  "%d) must be in [1, %u]", path, ck->c,
                                  ck->h, ck->w, ck->classes, CKPT_MAX_SHAPE);
    if (ck->ntensors < 0 || (unsigned)ck->ntensors > CKPT_MAX_TENSORS ||
        (ck->ntensors > 0 && !ck->tensors))
        return advc_set_error(ADVC_ERR_ARG, "%s: bad tensor list (%d "
                              "tensors)", path, ck->ntensors);
    for (int i = 0; i < ck->ntensors; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        size_t nl = bounded_len(t->name, sizeof t->name);
        if (nl == 0 || nl == sizeof t->name)
            return advc_set_error(ADVC_ERR_ARG, "%s: tensor %d has an empty "
                                  "or unterminated name", path, i);
        if (t->kind < 0 || (unsigned)t->kind >= CKPT_KIND_COUNT)
            return advc_set_error(ADVC_ERR_ARG, "%s: tensor '%s' has unknown "
                                  "kind %d", path, t->name, t->kind);
        if (t->ndim < 1 || t->ndim > 4)
            return advc_set_error(ADVC_ERR_ARG, "%s: tensor '%s' has %d "
                                  "dimensions (1 to 4 allowed)", path,
                                  t->name, t->ndim);
        uint64_t prod = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->dims[d] < 1)
                return advc_set_error(ADVC_ERR_ARG, "%s: tensor '%s' "
                                      "dimension %d is %d", path, t->name, d,
                                      t->dims[d]);
            uint64_t v = (uint64_t)t->dims[d];
            /* saturate past 2^62: no such tensor fits in memory anyway */
            prod = prod > (UINT64_C(1) << 62) / v ? UINT64_MAX : prod * v;
        }
        if (prod != (uint64_t)t->count || !t->data)
            return advc_set_error(ADVC_ERR_ARG, "%s: tensor '%s' count %zu "
                                  "does not match its dims, or has no data",
                                  path, t->name, t->count);
        for (int j = 0; j < i; j++)
            if (strcmp(ck->tensors[j].name, t->name) == 0)
                return advc_set_error(ADVC_ERR_ARG, "%s: tensor name '%s' "
                                      "appears twice", path, t->name);
    }
    return ADVC_OK;
}

static void write_body(ckpt_writer *w, const advc_checkpoint *ck)
{
    w_bytes(w, CKPT_MAGIC, CKPT_MAGIC_LEN); /* the 7 letters and a NUL */
    w_u32(w, CKPT_VERSION);
    w_str(w, ck->spec);
    w_str(w, ck->act);
    w_str(w, ck->meta);
    w_u32(w, (uint32_t)ck->c);
    w_u32(w, (uint32_t)ck->h);
    w_u32(w, (uint32_t)ck->w);
    w_u32(w, (uint32_t)ck->classes);
    w_u32(w, (uint32_t)ck->ntensors);
    for (int i = 0; i < ck->ntensors; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        w_str(w, t->name);
        w_u32(w, (uint32_t)t->kind);
        w_u32(w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) w_u32(w, (uint32_t)t->dims[d]);
        w_u64(w, (uint64_t)t->count);
        w_floats(w, t->data, t->count);
    }
    w_u32(w, w->crc); /* the CRC of everything before it */
}

advc_status advc_checkpoint_write(const char *path, const advc_checkpoint *ck)
{
    if (!path || !*path || !ck)
        return advc_set_error(ADVC_ERR_ARG,
                              "checkpoint: path is empty or checkpoint NULL");
    advc_status s = check_for_write(path, ck);
    if (s != ADVC_OK) return s;
    ckpt_writer w = { .crc = 0 };
    if ((s = advc_out_open(&w.out, path)) != ADVC_OK) return s;
    write_body(&w, ck);
    return advc_out_commit(&w.out);
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    FILE *f;
    const char *path;
    uint64_t left;   /* bytes of the file not read yet (CRC included) */
    uint32_t crc;    /* of every byte read so far                     */
    char where[96];  /* for "truncated <where>": which part was read  */
} ckpt_reader;

/* Reads exactly n bytes if they fit before the trailing CRC; a file too
 * short is reported as truncated <where>. */
static advc_status r_bytes(ckpt_reader *r, void *p, uint64_t n)
{
    if (r->left < 4 || n > r->left - 4)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: truncated %s (needs "
                              "%llu more bytes, %llu left before the CRC)",
                              r->path, r->where, (unsigned long long)n,
                              (unsigned long long)(r->left < 4 ? 0
                                                   : r->left - 4));
    if (n == 0) return ADVC_OK;
    advc_status s = advc_data_read(r->f, p, (size_t)n, r->path);
    if (s != ADVC_OK) return s;
    r->left -= n;
    r->crc = advc_crc32(r->crc, p, (size_t)n);
    return ADVC_OK;
}

static advc_status r_u32(ckpt_reader *r, uint32_t *v)
{
    uint8_t b[4];
    advc_status s = r_bytes(r, b, 4);
    if (s == ADVC_OK) *v = get_le32(b);
    return s;
}

static advc_status r_u64(ckpt_reader *r, uint64_t *v)
{
    uint8_t b[8];
    advc_status s = r_bytes(r, b, 8);
    if (s == ADVC_OK) *v = get_le64(b);
    return s;
}

/* A length-prefixed string into dst (cap bytes with the NUL); what names
 * it in messages. */
static advc_status r_str(ckpt_reader *r, char *dst, size_t cap,
                         const char *what)
{
    uint32_t n;
    advc_status s = r_u32(r, &n);
    if (s != ADVC_OK) return s;
    if (n >= cap)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: %s length %u is too "
                              "long (at most %zu)", r->path, what,
                              (unsigned)n, cap - 1);
    if ((s = r_bytes(r, dst, n)) != ADVC_OK) return s;
    dst[n] = '\0';
    if (strlen(dst) != n)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: %s contains a NUL byte",
                              r->path, what);
    return ADVC_OK;
}

static advc_status read_magic_version(ckpt_reader *r)
{
    uint8_t b[CKPT_MAGIC_LEN + 4];
    size_t have = r->left < sizeof b ? (size_t)r->left : sizeof b;
    advc_status s = advc_data_read(r->f, b, have, r->path);
    if (s != ADVC_OK) return s;
    size_t nm = have < CKPT_MAGIC_LEN ? have : CKPT_MAGIC_LEN;
    if (memcmp(b, CKPT_MAGIC, nm) != 0 || have == 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: not an advc checkpoint "
                              "(bad magic)", r->path);
    if (have < sizeof b)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: truncated in the header "
                              "(%zu bytes)", r->path, have);
    r->left -= have;
    r->crc = advc_crc32(0, b, have);
    uint32_t v = get_le32(b + CKPT_MAGIC_LEN);
    if (v > CKPT_VERSION)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: checkpoint format "
                              "version %u is newer than this advc supports "
                              "(%u); upgrade advc", r->path, (unsigned)v,
                              CKPT_VERSION);
    if (v == 0)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: checkpoint format "
                              "version 0 is not valid", r->path);
    return ADVC_OK;
}

static advc_status read_header(ckpt_reader *r, advc_checkpoint *ck,
                               uint32_t *ntensors)
{
    advc_status s;
    strcpy(r->where, "in the header");
    if ((s = read_magic_version(r)) != ADVC_OK) return s;
    if ((s = r_str(r, ck->spec, sizeof ck->spec, "spec")) != ADVC_OK ||
        (s = r_str(r, ck->act, sizeof ck->act, "act")) != ADVC_OK ||
        (s = r_str(r, ck->meta, sizeof ck->meta, "meta")) != ADVC_OK)
        return s;
    static const char *const names[4] = { "c", "h", "w", "classes" };
    int *dst[4] = { &ck->c, &ck->h, &ck->w, &ck->classes };
    for (int i = 0; i < 4; i++) {
        uint32_t v;
        if ((s = r_u32(r, &v)) != ADVC_OK) return s;
        if (v < 1 || v > CKPT_MAX_SHAPE)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: %s = %u is out of "
                                  "range [1, %u]", r->path, names[i],
                                  (unsigned)v, CKPT_MAX_SHAPE);
        *dst[i] = (int)v;
    }
    uint32_t nt;
    if ((s = r_u32(r, &nt)) != ADVC_OK) return s;
    if (nt > CKPT_MAX_TENSORS)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor count %u is "
                              "absurd (at most %u)", r->path, (unsigned)nt,
                              CKPT_MAX_TENSORS);
    *ntensors = nt;
    return ADVC_OK;
}

static advc_status read_tensor(ckpt_reader *r, advc_checkpoint *ck, int i)
{
    advc_ckpt_tensor *t = &ck->tensors[i];
    advc_status s;
    snprintf(r->where, sizeof r->where, "at tensor %d (its name)", i);
    if ((s = r_str(r, t->name, sizeof t->name, "tensor name")) != ADVC_OK)
        return s;
    if (t->name[0] == '\0')
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor %d has an empty "
                              "name", r->path, i);
    for (int j = 0; j < i; j++)
        if (strcmp(ck->tensors[j].name, t->name) == 0)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor name '%s' "
                                  "appears twice", r->path, t->name);
    snprintf(r->where, sizeof r->where, "at tensor '%s'", t->name);

    uint32_t kind, ndim;
    if ((s = r_u32(r, &kind)) != ADVC_OK) return s;
    if (kind >= CKPT_KIND_COUNT)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' has unknown "
                              "kind %u", r->path, t->name, (unsigned)kind);
    if ((s = r_u32(r, &ndim)) != ADVC_OK) return s;
    if (ndim < 1 || ndim > 4)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' has %u "
                              "dimensions (1 to 4 allowed)", r->path,
                              t->name, (unsigned)ndim);
    t->kind = (int)kind;
    t->ndim = (int)ndim;
    uint64_t prod = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        uint32_t v;
        if ((s = r_u32(r, &v)) != ADVC_OK) return s;
        if (v < 1 || v > INT_MAX)
            return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' "
                                  "dimension %u is %u", r->path, t->name,
                                  (unsigned)d, (unsigned)v);
        t->dims[d] = (int)v;
        /* a product over 2^62 cannot fit any file; stop before overflow */
        prod = prod > (UINT64_C(1) << 62) / v ? UINT64_MAX : prod * v;
    }
    uint64_t count;
    if ((s = r_u64(r, &count)) != ADVC_OK) return s;
    if (count != prod)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: tensor '%s' count %llu "
                              "is not the product of its dims", r->path,
                              t->name, (unsigned long long)count);
    if (count > SIZE_MAX / 4 || count > (r->left < 4 ? 0 : r->left - 4) / 4)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: truncated %s (%llu "
                              "floats declared, %llu bytes left)", r->path,
                              r->where, (unsigned long long)count,
                              (unsigned long long)r->left);
    t->count = (size_t)count;
    if (!(t->data = malloc(t->count * 4)))
        return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory for tensor "
                              "'%s' (%zu floats)", r->path, t->name,
                              t->count);
    if ((s = r_bytes(r, t->data, count * 4)) != ADVC_OK) return s;
    /* decode in place: each 4 little-endian bytes become one float */
    uint8_t *b = (uint8_t *)t->data;
    for (size_t j = 0; j < t->count; j++) {
        uint32_t u = get_le32(b + 4 * j);
        memcpy(&t->data[j], &u, 4);
    }
    return ADVC_OK;
}

/* The tensor array grows as tensors are read (doubling), so its size is
 * bounded by what the file really holds, not by the count it declares. */
static advc_status read_all(ckpt_reader *r, advc_checkpoint *ck)
{
    uint32_t nt = 0, cap = 0;
    advc_status s = read_header(r, ck, &nt);
    for (uint32_t i = 0; s == ADVC_OK && i < nt; i++) {
        if (i == cap) {
            uint32_t nc = cap ? (cap > nt / 2 ? nt : 2 * cap) : (nt < 16 ? nt
                                                                 : 16);
            advc_ckpt_tensor *nb = realloc(ck->tensors, nc * sizeof *nb);
            if (!nb)
                return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory "
                                      "for %u tensors", r->path,
                                      (unsigned)nc);
            memset(nb + cap, 0, (nc - cap) * sizeof *nb);
            ck->tensors = nb;
            cap = nc;
        }
        ck->ntensors = (int)i + 1; /* so a failure frees this one too */
        s = read_tensor(r, ck, (int)i);
    }
    if (s != ADVC_OK) return s;
    if (r->left > 4)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: %llu trailing bytes "
                              "after the last tensor", r->path,
                              (unsigned long long)(r->left - 4));
    uint8_t b[4];
    if (r->left < 4)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: truncated before the "
                              "CRC", r->path);
    if ((s = advc_data_read(r->f, b, 4, r->path)) != ADVC_OK) return s;
    r->left = 0;
    uint32_t stored = get_le32(b);
    if (stored != r->crc)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: corrupt: CRC mismatch "
                              "(stored 0x%08x, computed 0x%08x)", r->path,
                              (unsigned)stored, (unsigned)r->crc);
    return ADVC_OK;
}

advc_status advc_checkpoint_read(const char *path, advc_checkpoint *ck)
{
    if (!ck)
        return advc_set_error(ADVC_ERR_ARG, "checkpoint: output is NULL");
    memset(ck, 0, sizeof *ck);
    if (!path || !*path)
        return advc_set_error(ADVC_ERR_ARG, "checkpoint: path is empty");
    ckpt_reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    advc_status s = advc_data_open(path, &r.f, &r.left);
    if (s != ADVC_OK) return s;
    s = read_all(&r, ck);
    fclose(r.f);
    if (s != ADVC_OK) advc_checkpoint_free(ck);
    return s;
}

void advc_checkpoint_free(advc_checkpoint *ck)
{
    if (!ck) return;
    for (int i = 0; ck->tensors && i < ck->ntensors; i++)
        free(ck->tensors[i].data);
    free(ck->tensors);
    memset(ck, 0, sizeof *ck);
}

/* ---- metadata: "key=value\n" lines -------------------------------------- */

/* An appender that refuses to pass cap - 1 characters. */
typedef struct {
    char *buf;
    size_t len, cap;
    bool full;
} meta_buf;

static void mb_put(meta_buf *m, const char *s, size_t n)
{
    if (m->full || n > m->cap - 1 - m->len) {
        m->full = true;
        return;
    }
    memcpy(m->buf + m->len, s, n);
    m->len += n;
    m->buf[m->len] = '\0';
}

/* Does line [p, p + n) set key (keylen bytes)?  i.e. starts "key=". */
static bool line_has_key(const char *p, size_t n, const char *key,
                         size_t keylen)
{
    return n > keylen && memcmp(p, key, keylen) == 0 && p[keylen] == '=';
}

advc_status advc_meta_set(char *meta, size_t metasz, const char *key,
                          const char *value)
{
    if (!meta || metasz == 0 || !key || !value)
        return advc_set_error(ADVC_ERR_ARG, "metadata: NULL argument");
    if (!memchr(meta, '\0', metasz))
        return advc_set_error(ADVC_ERR_ARG, "metadata: not NUL-terminated");
    size_t keylen = strlen(key);
    if (keylen == 0 || strpbrk(key, "=\n") || strchr(value, '\n'))
        return advc_set_error(ADVC_ERR_ARG, "metadata: key '%s' must be "
                              "non-empty without '=' or newline, and the "
                              "value without newline", key);
    meta_buf m = { malloc(metasz), 0, metasz, false };
    if (!m.buf) return advc_set_error(ADVC_ERR_NOMEM, "metadata: no memory");
    m.buf[0] = '\0';
    bool done = false;
    for (const char *p = meta; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (line_has_key(p, n, key, keylen)) {
            if (!done) { /* the first "key=" line becomes the new one */
                mb_put(&m, key, keylen);
                mb_put(&m, "=", 1);
                mb_put(&m, value, strlen(value));
                mb_put(&m, "\n", 1);
                done = true;
            } /* later duplicates are dropped */
        } else {
            mb_put(&m, p, n);
            mb_put(&m, "\n", 1);
        }
        p += n + (nl != NULL);
    }
    if (!done) {
        mb_put(&m, key, keylen);
        mb_put(&m, "=", 1);
        mb_put(&m, value, strlen(value));
        mb_put(&m, "\n", 1);
    }
    if (m.full) {
        free(m.buf);
        return advc_set_error(ADVC_ERR_ARG, "metadata: no room to set '%s' "
                              "(%zu bytes available)", key, metasz);
    }
    memcpy(meta, m.buf, m.len + 1);
    free(m.buf);
    return ADVC_OK;
}

int advc_meta_get(const char *meta, const char *key, char *out, size_t outsz)
{
    if (!meta || !key || !*key || strpbrk(key, "=\n")) return 0;
    size_t keylen = strlen(key);
    for (const char *p = meta; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (line_has_key(p, n, key, keylen)) {
            if (out && outsz > 0) { /* truncated to fit, always terminated */
                size_t v = n - keylen - 1;
                if (v > outsz - 1) v = outsz - 1;
                memcpy(out, p + keylen + 1, v);
                out[v] = '\0';
            }
            return 1;
        }
        p += n + (nl != NULL);
    }
    return 0;
}
