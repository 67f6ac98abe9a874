/* test_checkpoint.c: the checkpoint file format.  Round trips are bit-exact
 * (NaN payloads, -0, denormals, infinities), the bytes match the layout
 * documented in src/io/checkpoint.c, and every kind of damage (bad magic,
 * newer version, truncation at every length, any flipped byte, trailing
 * bytes, absurd counts) is an error naming the file, never a crash.  Failed
 * writes leave the old file and no temporary behind.  Also CRC-32 and the
 * metadata helpers.  Files live in a fresh scratch directory per test
 * (tu_tmpdir, testutil.h).
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

/* ---- scratch directory (testutil.h) and whole-file helpers -------------- */

typedef struct {
    tu_tmpdir td;            /* the scratch directory              */
    const char *dir;         /* td.dir                             */
    char path[TU_PATH_MAX];  /* dir/model.ckpt                     */
} tmpdir;

static void tmp_open(tmpdir *t)
{
    tu_tmpdir_make(&t->td, "ckpt");
    t->dir = t->td.dir;
    strcpy(t->path, tu_tmpdir_path(&t->td, "model.ckpt"));
}

static void tmp_close(tmpdir *t) { tu_tmpdir_remove(&t->td); }

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static void put32(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- a sample checkpoint ------------------------------------------------ */

#define NT 4
static float sample_data[NT][40];

/* Four tensors of every kind and rank, with -0, denormals, extremes,
 * infinities and NaNs with payloads among ordinary values. */
static void make_sample(advc_checkpoint *ck, advc_ckpt_tensor *ts)
{
    memset(ck, 0, sizeof *ck);
    strcpy(ck->spec, "mlp:hidden=100,depth=2");
    strcpy(ck->act, "psoftplus:10");
    strcpy(ck->meta, "epoch=3\nseed=42\nrecipe=fgsm-rs\n");
    ck->c = 1, ck->h = 28, ck->w = 28, ck->classes = 10;
    static const struct {
        const char *name;
        int kind, ndim, dims[4];
    } shape[NT] = {
        { "fc1.w", 0, 2, { 5, 7 } },
        { "fc1.b", 1, 1, { 5 } },
        { "bn.running_var", 2, 1, { 3 } },
        { "conv.w", 0, 4, { 2, 3, 2, 2 } },
    };
    for (int i = 0; i < NT; i++) {
        advc_ckpt_tensor *t = &ts[i];
        memset(t, 0, sizeof *t);
        strcpy(t->name, shape[i].name);
        t->kind = shape[i].kind;
        t->ndim = shape[i].ndim;
        t->count = 1;
        for (int d = 0; d < t->ndim; d++) {
            t->dims[d] = shape[i].dims[d];
            t->count *= (size_t)t->dims[d];
        }
        tu_fill(sample_data[i], t->count, -3, 3, (uint64_t)i + 1);
        t->data = sample_data[i];
    }
    static const uint32_t special[] = {
        0x80000000u, /* -0.0                      */
        0x00000001u, /* smallest denormal         */
        0x00400000u, /* a mid denormal            */
        0x00800000u, /* FLT_MIN                   */
        0x7f7fffffu, /* FLT_MAX                   */
        0xff800000u, /* -inf                      */
        0x7f800000u, /* +inf                      */
        0x7fc12345u, /* quiet NaN with a payload  */
        0xffc00001u, /* negative NaN              */
        0x7f800001u, /* signalling NaN            */
    };
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
        sample_data[0][3 * k] = from_bits(special[k]);
    sample_data[3][23] = from_bits(0x807fffffu); /* largest -denormal */
    ck->ntensors = NT;
    ck->tensors = ts;
}

static void assert_same(const advc_checkpoint *a, const advc_checkpoint *b)
{
    ck_assert_str_eq(a->spec, b->spec);
    ck_assert_str_eq(a->act, b->act);
    ck_assert_str_eq(a->meta, b->meta);
    ck_assert_int_eq(a->c, b->c);
    ck_assert_int_eq(a->h, b->h);
    ck_assert_int_eq(a->w, b->w);
    ck_assert_int_eq(a->classes, b->classes);
    ck_assert_int_eq(a->ntensors, b->ntensors);
    for (int i = 0; i < a->ntensors; i++) {
        const advc_ckpt_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        ck_assert_str_eq(x->name, y->name);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_int_eq(x->ndim, y->ndim);
        for (int d = 0; d < x->ndim; d++)
            ck_assert_int_eq(x->dims[d], y->dims[d]);
        ck_assert_uint_eq(x->count, y->count);
        ck_assert_msg(memcmp(x->data, y->data, x->count * 4) == 0,
                      "tensor %s differs in its bits", x->name);
    }
}

/* Byte offsets in the sample's file, from the documented layout. */
typedef struct {
    size_t ntensors_at;     /* offset of the u32 tensor count */
    size_t start[NT];       /* each tensor's name length      */
    size_t after_name[NT];  /* each tensor's kind             */
    size_t dims_at[NT];     /* each tensor's dims             */
    size_t data_at[NT];     /* each tensor's floats           */
    size_t end[NT];         /* one past each tensor's floats  */
    size_t size;            /* whole file                     */
} layout;

static layout sample_layout(const advc_checkpoint *ck)
{
    layout L;
    size_t o = 8 + 4 + 4 + strlen(ck->spec) + 4 + strlen(ck->act) + 4 +
               strlen(ck->meta) + 16;
    L.ntensors_at = o;
    o += 4;
    for (int i = 0; i < ck->ntensors; i++) {
        const advc_ckpt_tensor *t = &ck->tensors[i];
        L.start[i] = o;
        o += 4 + strlen(t->name);
        L.after_name[i] = o;
        L.dims_at[i] = o + 8;
        o += 8 + 4 * (size_t)t->ndim + 8;
        L.data_at[i] = o;
        o += 4 * t->count;
        L.end[i] = o;
    }
    L.size = o + 4;
    return L;
}

/* Reads path expecting failure with status want and a message containing
 * the path and `part`; the output must be left empty. */
static void expect_read_error(const char *path, advc_status want,
                              const char *part, const char *ctx)
{
    advc_checkpoint ck;
    memset(&ck, 0x5a, sizeof ck);
    advc_status s = advc_checkpoint_read(path, &ck);
    ck_assert_msg(s == want, "%s: status %s (%s), want %s", ctx,
                  advc_status_name(s), advc_last_error(),
                  advc_status_name(want));
    const char *msg = advc_last_error();
    ck_assert_msg(strstr(msg, path) != NULL, "%s: '%s' does not name the "
                  "file", ctx, msg);
    ck_assert_msg(!part || strstr(msg, part) != NULL,
                  "%s: '%s' does not say '%s'", ctx, msg, part);
    ck_assert_int_eq(ck.ntensors, 0);
    ck_assert_ptr_null(ck.tensors);
    advc_checkpoint_free(&ck); /* safe on a failed read */
}

/* ---- CRC-32 ------------------------------------------------------------- */

/* Bit by bit, straight from the definition: the independent oracle. */
static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

START_TEST(crc32_vectors)
{
    ck_assert_uint_eq(advc_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(advc_crc32(0, "", 0), 0u);
    ck_assert_uint_eq(advc_crc32(0, "a", 1), 0xE8B7BE43u);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    ck_assert_uint_eq(advc_crc32(0, fox, strlen(fox)), 0x414FA339u);
    unsigned char buf[1000];
    advc_rng r;
    advc_rng_seed(&r, 11, 1);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)advc_rng_u32(&r);
    uint32_t whole = advc_crc32(0, buf, sizeof buf);
    ck_assert_uint_eq(whole, crc_bitwise(buf, sizeof buf));
    /* continuable at every split point */
    for (size_t k = 0; k <= sizeof buf; k += 37)
        ck_assert_uint_eq(advc_crc32(advc_crc32(0, buf, k), buf + k,
                                     sizeof buf - k), whole);
}
END_TEST

/* ---- round trips and the exact bytes ------------------------------------ */

START_TEST(roundtrip_bit_exact)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck, back;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    ck_assert_int_eq(tu_tmpdir_entries(&t.td, NULL, 0), 1); /* no temp left */
    ck_assert_int_eq(advc_checkpoint_read(t.path, &back), ADVC_OK);
    assert_same(&ck, &back);
    /* spot-check the specials by value too */
    ck_assert(signbit(back.tensors[0].data[0]) && back.tensors[0].data[0] == 0);
    ck_assert(isnan(back.tensors[0].data[21]));
    ck_assert(isinf(back.tensors[0].data[15]));
    advc_checkpoint_free(&back);
    ck_assert_ptr_null(back.tensors);

    /* size matches the documented layout */
    size_t len;
    free(slurp(t.path, &len));
    ck_assert_uint_eq(len, sample_layout(&ck).size);

    /* writing the read-back checkpoint gives the same bytes */
    ck_assert_int_eq(advc_checkpoint_read(t.path, &back), ADVC_OK);
    char p2[TU_PATH_MAX];
    snprintf(p2, sizeof p2, "%s/again.ckpt", t.dir);
    ck_assert_int_eq(advc_checkpoint_write(p2, &back), ADVC_OK);
    size_t l1, l2;
    unsigned char *b1 = slurp(t.path, &l1), *b2 = slurp(p2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(b1, b2, l1) == 0);
    free(b1), free(b2);
    advc_checkpoint_free(&back);

    /* no tensors, empty strings */
    advc_checkpoint e;
    memset(&e, 0, sizeof e);
    e.c = e.h = e.w = e.classes = 1;
    ck_assert_int_eq(advc_checkpoint_write(p2, &e), ADVC_OK);
    ck_assert_int_eq(advc_checkpoint_read(p2, &back), ADVC_OK);
    assert_same(&e, &back);
    advc_checkpoint_free(&back);
    tmp_close(&t);
}
END_TEST

/* The byte layout of checkpoint.c's header comment, byte for byte. */
START_TEST(golden_bytes)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    strcpy(ck.spec, "m");
    strcpy(ck.act, "relu");
    ck.c = 1, ck.h = 2, ck.w = 3, ck.classes = 258;
    float data[2] = { 1.0f, -2.0f };
    advc_ckpt_tensor ten;
    memset(&ten, 0, sizeof ten);
    strcpy(ten.name, "t");
    ten.kind = 1;
    ten.ndim = 2;
    ten.dims[0] = 1, ten.dims[1] = 2;
    ten.count = 2;
    ten.data = data;
    ck.ntensors = 1;
    ck.tensors = &ten;
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    static const unsigned char want[] = {
        'A', 'D', 'V', 'C', 'K', 'P', 'T', 0,   /* magic               */
        1, 0, 0, 0,                             /* version 1           */
        1, 0, 0, 0, 'm',                        /* spec                */
        4, 0, 0, 0, 'r', 'e', 'l', 'u',         /* act                 */
        0, 0, 0, 0,                             /* meta (empty)        */
        1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,     /* c, h, w             */
        2, 1, 0, 0,                             /* classes 258         */
        1, 0, 0, 0,                             /* ntensors            */
        1, 0, 0, 0, 't',                        /* name                */
        1, 0, 0, 0,                             /* kind: bias          */
        2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,     /* ndim, dims          */
        2, 0, 0, 0, 0, 0, 0, 0,                 /* count (u64)         */
        0x00, 0x00, 0x80, 0x3f,                 /* 1.0f  = 0x3f800000  */
        0x00, 0x00, 0x00, 0xc0,                 /* -2.0f = 0xc0000000  */
    };
    size_t len;
    unsigned char *b = slurp(t.path, &len);
    ck_assert_uint_eq(len, sizeof want + 4);
    ck_assert(memcmp(b, want, sizeof want) == 0);
    uint32_t crc = crc_bitwise(want, sizeof want);
    unsigned char cb[4];
    put32(cb, crc);
    ck_assert(memcmp(b + sizeof want, cb, 4) == 0);
    free(b);
    tmp_close(&t);
}
END_TEST

/* The file's kind ids are advc_tensor_kind's values. */
START_TEST(kind_ids_match_nn)
{
    ck_assert_int_eq(ADVC_TENSOR_WEIGHT, 0);
    ck_assert_int_eq(ADVC_TENSOR_BIAS, 1);
    ck_assert_int_eq(ADVC_TENSOR_STATE, 2);
}
END_TEST

/* ---- damaged files ------------------------------------------------------ */

START_TEST(bad_magic_and_version)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    size_t len;
    unsigned char *b = slurp(t.path, &len);

    b[0] = 'X';
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "not an advc checkpoint",
                      "magic");
    b[0] = 'A';
    b[7] = '!'; /* the NUL is part of the magic */
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "not an advc checkpoint",
                      "magic NUL");
    b[7] = 0;
    put32(b + 8, 2);
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT,
                      "version 2 is newer than this advc supports",
                      "version 2");
    put32(b + 8, 0xffffffffu);
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "newer", "version max");
    put32(b + 8, 0);
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "version 0", "version 0");

    /* an IDX file, a text file, an empty file */
    static const unsigned char idx[16] = { 0, 0, 8, 3, 0, 0, 0, 1 };
    spit(t.path, idx, sizeof idx);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "not an advc checkpoint",
                      "idx");
    spit(t.path, "hello\n", 6);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "not an advc checkpoint",
                      "text");
    spit(t.path, "", 0);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "not an advc checkpoint",
                      "empty");
    free(b);
    tmp_close(&t);
}
END_TEST

/* Cut the file at every length: always an error saying "truncated" (or
 * "not an advc checkpoint" at 0 bytes), and the right tensor's name when
 * the cut falls inside it. */
START_TEST(truncated_at_every_length)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    size_t len;
    unsigned char *b = slurp(t.path, &len);
    layout L = sample_layout(&ck);
    ck_assert_uint_eq(len, L.size);
    char cut_path[TU_PATH_MAX], ctx[64], want[128];
    snprintf(cut_path, sizeof cut_path, "%s/cut.ckpt", t.dir);
    for (size_t cut = 0; cut < len; cut++) {
        spit(cut_path, b, cut);
        snprintf(ctx, sizeof ctx, "cut at %zu of %zu", cut, len);
        const char *part = cut == 0 ? "not an advc checkpoint" : "truncated";
        for (int i = 0; i < NT; i++)
            /* the reader keeps the last 4 bytes for the CRC, so a cut
             * is inside tensor i from 4 bytes past its name to 4 bytes
             * past its data */
            if (cut >= L.after_name[i] + 4 && cut < L.end[i] + 4) {
                snprintf(want, sizeof want, "truncated at tensor '%.63s'",
                         ts[i].name);
                part = want;
            }
        expect_read_error(cut_path, ADVC_ERR_FORMAT, part, ctx);
    }
    free(b);
    tmp_close(&t);
}
END_TEST

/* Every single flipped byte is an error; inside data or the CRC, it is the
 * CRC that catches it. */
START_TEST(flipped_byte_anywhere)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    size_t len;
    unsigned char *b = slurp(t.path, &len);
    layout L = sample_layout(&ck);
    char p[TU_PATH_MAX], ctx[64];
    snprintf(p, sizeof p, "%s/flip.ckpt", t.dir);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) { /* low and high bit */
            b[i] ^= (unsigned char)(1u << bit);
            spit(p, b, len);
            b[i] ^= (unsigned char)(1u << bit);
            bool in_data = i >= len - 4;
            for (int k = 0; k < NT; k++)
                in_data |= i >= L.data_at[k] && i < L.end[k];
            snprintf(ctx, sizeof ctx, "bit %d of byte %zu", bit, i);
            expect_read_error(p, ADVC_ERR_FORMAT,
                              in_data ? "corrupt: CRC mismatch" : NULL, ctx);
        }
    }
    free(b);
    tmp_close(&t);
}
END_TEST

START_TEST(trailing_bytes)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    size_t len;
    unsigned char *b = slurp(t.path, &len);
    unsigned char *b2 = malloc(len + 100);
    memcpy(b2, b, len);
    memset(b2 + len, 0, 100);
    for (size_t extra = 1; extra <= 100; extra += 33) {
        spit(t.path, b2, len + extra);
        expect_read_error(t.path, ADVC_ERR_FORMAT, "trailing", "trailing");
    }
    /* a second copy appended: still trailing bytes */
    unsigned char *b3 = malloc(2 * len);
    memcpy(b3, b, len);
    memcpy(b3 + len, b, len);
    spit(t.path, b3, 2 * len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "trailing", "doubled");
    free(b), free(b2), free(b3);
    tmp_close(&t);
}
END_TEST

/* Absurd header and tensor fields: refused before any allocation. */
START_TEST(absurd_fields)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    size_t len;
    unsigned char *orig = slurp(t.path, &len);
    unsigned char *b = malloc(len);
    layout L = sample_layout(&ck);
    static const struct {
        int where;     /* 0 header offset, 1: tensor 0 + off, 2: tensor 1 */
        size_t off;
        uint32_t val;
        const char *part;
    } cases[] = {
        { 0, 12, 0xfffffff0u, "spec length" },       /* spec length   */
        { 0, 12, 256, "spec length 256 is too long" },
        { 0, 12, 200, NULL },   /* fits the cap: misparses later */
        { 3, 0, 0xffffffffu, "absurd" },              /* ntensors       */
        { 3, 0, 1000, "truncated" },                  /* > file holds   */
        { 3, 0, 5, "truncated" },                     /* one too many   */
        { 1, 0, 0, "empty name" },                    /* name length 0  */
        { 1, 0, 64, "tensor name length 64" },        /* too long       */
        { 1, 0, 0x7fffffffu, "tensor name length" },
        { 2, 0, 9, "unknown kind 9" },                /* kind           */
        { 2, 4, 0, "0 dimensions" },                  /* ndim           */
        { 2, 4, 5, "5 dimensions" },
        { 4, 0, 0, "dimension 0 is 0" },              /* dims[0]        */
        { 4, 0, 0x80000000u, "dimension 0 is" },
        { 4, 0, 6, "not the product" },               /* 6*7 != 35      */
        { 5, 0, 36, "not the product" },              /* count          */
        { 5, 4, 1, "not the product" },               /* count high u32 */
    };
    char ctx[64];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(b, orig, len);
        size_t at = cases[k].off;
        switch (cases[k].where) {
        case 1: at += L.start[0]; break;
        case 2: at += L.after_name[0]; break;
        case 3: at += L.ntensors_at; break;
        case 4: at += L.dims_at[0]; break;
        case 5: at += L.dims_at[0] + 8; break; /* fc1.w has 2 dims */
        default: break;
        }
        put32(b + at, cases[k].val);
        spit(t.path, b, len);
        snprintf(ctx, sizeof ctx, "case %zu", k);
        expect_read_error(t.path, ADVC_ERR_FORMAT, cases[k].part, ctx);
    }
    /* huge dims with a consistent count: 65536 x 65536 = 2^32 floats */
    memcpy(b, orig, len);
    put32(b + L.dims_at[0], 65536);
    put32(b + L.dims_at[0] + 4, 65536);
    put32(b + L.dims_at[0] + 8, 0);
    put32(b + L.dims_at[0] + 12, 1);
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "truncated at tensor 'fc1.w'",
                      "huge tensor");
    /* a duplicate name: "fc1.b" renamed "fc1.w" */
    memcpy(b, orig, len);
    b[L.start[1] + 4 + 4] = 'w';
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "appears twice", "dup name");
    /* a NUL inside a string */
    memcpy(b, orig, len);
    b[8 + 4 + 4 + 2] = 0;
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "NUL", "NUL in spec");
    /* input shape out of range */
    memcpy(b, orig, len);
    put32(b + L.ntensors_at - 4, 0); /* classes = 0 */
    spit(t.path, b, len);
    expect_read_error(t.path, ADVC_ERR_FORMAT, "classes", "classes 0");
    free(b), free(orig);
    tmp_close(&t);
}
END_TEST

START_TEST(missing_or_not_a_file)
{
    tmpdir t;
    tmp_open(&t);
    expect_read_error(t.path, ADVC_ERR_IO, NULL, "missing");
    expect_read_error(t.dir, ADVC_ERR_IO, NULL, "directory");
    advc_checkpoint ck;
    ck_assert_int_eq(advc_checkpoint_read("", &ck), ADVC_ERR_ARG);
    tmp_close(&t);
}
END_TEST

/* ---- failed writes ------------------------------------------------------ */

START_TEST(write_to_missing_directory)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    char p[TU_PATH_MAX];
    snprintf(p, sizeof p, "%s/no/such/dir/model.ckpt", t.dir);
    ck_assert_int_eq(advc_checkpoint_write(p, &ck), ADVC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), p));
    ck_assert_int_eq(tu_tmpdir_entries(&t.td, NULL, 0), 0);
    tmp_close(&t);
}
END_TEST

static const char old_bytes[] = "the previous model, which must survive";

static void write_old(const char *path)
{
    spit(path, old_bytes, sizeof old_bytes);
}

static void assert_old(const char *path)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    ck_assert_uint_eq(len, sizeof old_bytes);
    ck_assert(memcmp(b, old_bytes, len) == 0);
    free(b);
}

/* Writes that fail: an invalid checkpoint (refused before any file is
 * made), a rename that fails, a disk that fills up mid-write.  Each time
 * PATH keeps its old bytes and no temporary file is left. */
START_TEST(failed_write_leaves_old_file)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    write_old(t.path);
    char names[256];

    /* invalid: unknown kind */
    ts[2].kind = 7;
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), t.path));
    ts[2].kind = 2;
    assert_old(t.path);
    ck_assert_int_eq(tu_tmpdir_entries(&t.td, names, sizeof names), 1);

    /* rename fails: PATH is a non-empty directory */
    char dpath[TU_PATH_MAX], inner[TU_PATH_MAX + 16];
    snprintf(dpath, sizeof dpath, "%s/adir", t.dir);
    ck_assert_int_eq(mkdir(dpath, 0700), 0);
    snprintf(inner, sizeof inner, "%s/keep", dpath);
    write_old(inner);
    ck_assert_int_eq(advc_checkpoint_write(dpath, &ck), ADVC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "rename"));
    ck_assert_msg(tu_tmpdir_entries(&t.td, names, sizeof names) == 2,
                  "left: %s", names);
    assert_old(inner);

    /* the file-size limit hits mid-write (as a full disk would), in a
     * child process so the limit does not outlive this test */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* get EFBIG instead of a signal */
        struct rlimit rl = { 100, 100 };
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
        advc_status s = advc_checkpoint_write(t.path, &ck);
        _exit(s == ADVC_ERR_IO && strstr(advc_last_error(), t.path) ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: status 0x%x", (unsigned)status);
    assert_old(t.path);
    ck_assert_msg(tu_tmpdir_entries(&t.td, names, sizeof names) == 2,
                  "left: %s", names);

    /* and a write that works replaces it */
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    advc_checkpoint back;
    ck_assert_int_eq(advc_checkpoint_read(t.path, &back), ADVC_OK);
    assert_same(&ck, &back);
    advc_checkpoint_free(&back);
    ck_assert_msg(tu_tmpdir_entries(&t.td, names, sizeof names) == 2,
                  "left: %s", names);
    tmp_close(&t);
}
END_TEST

/* Everything the reader would refuse, the writer refuses first. */
START_TEST(write_rejects_invalid)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck;
    advc_ckpt_tensor ts[NT];
    struct { const char *what; int field; } cases[] = {
        { "classes 0", 0 }, { "negative c", 1 }, { "empty name", 2 },
        { "ndim 5", 3 }, { "dim 0", 4 }, { "count mismatch", 5 },
        { "NULL data", 6 }, { "duplicate name", 7 }, { "unterminated", 8 },
        { "NULL tensors", 9 }, { "negative ntensors", 10 },
        { "kind -1", 11 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        make_sample(&ck, ts);
        switch (cases[k].field) {
        case 0: ck.classes = 0; break;
        case 1: ck.c = -1; break;
        case 2: ts[1].name[0] = '\0'; break;
        case 3: ts[1].ndim = 5; break;
        case 4: ts[3].dims[2] = 0; break;
        case 5: ts[0].count = 34; break;
        case 6: ts[2].data = NULL; break;
        case 7: strcpy(ts[3].name, "fc1.b"); break;
        case 8: memset(ck.act, 'x', sizeof ck.act); break;
        case 9: ck.tensors = NULL; break;
        case 10: ck.ntensors = -1; break;
        case 11: ts[0].kind = -1; break;
        }
        ck_assert_msg(advc_checkpoint_write(t.path, &ck) == ADVC_ERR_ARG,
                      "%s accepted", cases[k].what);
        ck_assert_int_eq(tu_tmpdir_entries(&t.td, NULL, 0), 0);
    }
    tmp_close(&t);
}
END_TEST

/* ---- metadata ----------------------------------------------------------- */

START_TEST(meta_set_get)
{
    char meta[64] = "";
    char v[32];
    ck_assert_int_eq(advc_meta_get(meta, "epoch", v, sizeof v), 0);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "epoch", "3"), ADVC_OK);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "seed", "42"), ADVC_OK);
    ck_assert_str_eq(meta, "epoch=3\nseed=42\n");
    ck_assert_int_eq(advc_meta_get(meta, "epoch", v, sizeof v), 1);
    ck_assert_str_eq(v, "3");
    ck_assert_int_eq(advc_meta_get(meta, "seed", v, sizeof v), 1);
    ck_assert_str_eq(v, "42");
    /* replace keeps the order; "ep" is not a prefix match for "epoch" */
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "epoch", "10"),
                     ADVC_OK);
    ck_assert_str_eq(meta, "epoch=10\nseed=42\n");
    ck_assert_int_eq(advc_meta_get(meta, "ep", v, sizeof v), 0);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "ep", ""), ADVC_OK);
    ck_assert_int_eq(advc_meta_get(meta, "ep", v, sizeof v), 1);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(advc_meta_get(meta, "epoch", v, sizeof v), 1);
    ck_assert_str_eq(v, "10");
    /* values may contain '=' */
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "act", "a=b"), ADVC_OK);
    ck_assert_int_eq(advc_meta_get(meta, "act", v, sizeof v), 1);
    ck_assert_str_eq(v, "a=b");
    /* a small output buffer truncates but terminates */
    char s3[3];
    ck_assert_int_eq(advc_meta_get(meta, "epoch", s3, sizeof s3), 1);
    ck_assert_str_eq(s3, "10");
    char s2[2];
    ck_assert_int_eq(advc_meta_get(meta, "seed", s2, sizeof s2), 1);
    ck_assert_str_eq(s2, "4");
    /* bad keys and values */
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "", "x"), ADVC_ERR_ARG);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "a=b", "x"),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "a\nb", "x"),
                     ADVC_ERR_ARG);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "k", "x\ny"),
                     ADVC_ERR_ARG);
    /* full: refused, unchanged */
    char before[64];
    strcpy(before, meta);
    ck_assert_int_eq(advc_meta_set(meta, sizeof meta, "long",
                                   "0123456789012345678901234567890123456789"),
                     ADVC_ERR_ARG);
    ck_assert_str_eq(meta, before);
    /* exactly fitting: 63 characters and the NUL */
    char m2[8] = "";
    ck_assert_int_eq(advc_meta_set(m2, sizeof m2, "ab", "cde"), ADVC_OK);
    ck_assert_str_eq(m2, "ab=cde\n");
    ck_assert_int_eq(advc_meta_set(m2, sizeof m2, "ab", "cdef"),
                     ADVC_ERR_ARG);
    ck_assert_str_eq(m2, "ab=cde\n");
    /* hand-written meta: no final newline, duplicates collapse */
    char m3[64] = "x=1\ny=2\nx=3";
    ck_assert_int_eq(advc_meta_get(m3, "x", v, sizeof v), 1);
    ck_assert_str_eq(v, "1");
    ck_assert_int_eq(advc_meta_set(m3, sizeof m3, "x", "9"), ADVC_OK);
    ck_assert_str_eq(m3, "x=9\ny=2\n");
    ck_assert_int_eq(advc_meta_set(m3, sizeof m3, "z", "0"), ADVC_OK);
    ck_assert_str_eq(m3, "x=9\ny=2\nz=0\n");
}
END_TEST

START_TEST(meta_roundtrip)
{
    tmpdir t;
    tmp_open(&t);
    advc_checkpoint ck, back;
    advc_ckpt_tensor ts[NT];
    make_sample(&ck, ts);
    ck.meta[0] = '\0';
    ck_assert_int_eq(advc_meta_set(ck.meta, sizeof ck.meta, "recipe",
                                   "pgd-at:steps=7"), ADVC_OK);
    ck_assert_int_eq(advc_meta_set(ck.meta, sizeof ck.meta, "seed",
                                   "18446744073709551615"), ADVC_OK);
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    ck_assert_int_eq(advc_checkpoint_read(t.path, &back), ADVC_OK);
    char v[64];
    ck_assert_int_eq(advc_meta_get(back.meta, "recipe", v, sizeof v), 1);
    ck_assert_str_eq(v, "pgd-at:steps=7");
    ck_assert_int_eq(advc_meta_get(back.meta, "seed", v, sizeof v), 1);
    ck_assert_str_eq(v, "18446744073709551615");
    advc_checkpoint_free(&back);
    /* a full-size meta (2047 characters) round-trips too */
    memset(ck.meta, 'k', sizeof ck.meta - 1);
    ck.meta[sizeof ck.meta - 1] = '\0';
    ck_assert_int_eq(advc_checkpoint_write(t.path, &ck), ADVC_OK);
    ck_assert_int_eq(advc_checkpoint_read(t.path, &back), ADVC_OK);
    ck_assert_str_eq(back.meta, ck.meta);
    advc_checkpoint_free(&back);
    tmp_close(&t);
}
END_TEST

Suite *advc_suite_checkpoint(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, crc32_vectors);
    tcase_add_test(tc, roundtrip_bit_exact);
    tcase_add_test(tc, golden_bytes);
    tcase_add_test(tc, kind_ids_match_nn);
    tcase_add_test(tc, meta_set_get);
    tcase_add_test(tc, meta_roundtrip);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("damage");
    /* thousands of small files under the sanitizers: allow time */
    tcase_set_timeout(td, 60);
    tcase_add_test(td, bad_magic_and_version);
    tcase_add_test(td, truncated_at_every_length);
    tcase_add_test(td, flipped_byte_anywhere);
    tcase_add_test(td, trailing_bytes);
    tcase_add_test(td, absurd_fields);
    tcase_add_test(td, missing_or_not_a_file);
    tcase_add_test(td, write_to_missing_directory);
    tcase_add_test(td, failed_write_leaves_old_file);
    tcase_add_test(td, write_rejects_invalid);
    suite_add_tcase(s, td);
    return s;
}
