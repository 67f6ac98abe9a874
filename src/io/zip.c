/* zip.c: reading and writing uncompressed zip archives (zip.h), the
 * subset of PKWARE's APPNOTE.TXT that numpy.savez produces.  All integers
 * are little-endian.  An archive is
 *   per member: local header (30 bytes + name + extra), the stored data
 *   the central directory: one 46-byte entry + name + extra + comment per
 *                member, pointing at its local header
 *   [zip64 end record (56+ bytes) and its locator (20 bytes)]
 *   the end record (22 bytes + comment): member count, directory size and
 *                offset
 * Zip64: a 16-bit count of 0xFFFF or a 32-bit size or offset of 0xFFFFFFFF
 * means "see the zip64 field": in the zip64 end record for the end
 * record's fields, in the entry's extra field with id 0x0001 for an
 * entry's sizes and offset (in that order, only those that overflowed).
 * Python's zipfile, under numpy.savez, puts a zip64 extra field on every
 * local header (force_zip64) but uses zip64 in the central directory and
 * end record only past 2^31 - 1 bytes.
 *
 * The reader never trusts a field: every offset and length is checked
 * against the buffer (and the central directory against the end record)
 * before use, and each member's data against its CRC-32.  When the end
 * record is missing it walks the local headers to say where the file was
 * cut.  The writer produces the bytes Python's zipfile writes for
 * numpy.savez (same versions, dates, attributes), up to 2^31 - 1 bytes.
 */
#include "zip.h"
#include "advc/checkpoint.h" /* advc_crc32 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u   /* "PK\3\4" */
#define SIG_CENTRAL 0x02014b50u /* "PK\1\2" */
#define SIG_END 0x06054b50u     /* "PK\5\6" */
#define SIG_END64 0x06064b50u   /* "PK\6\6" */
#define SIG_LOC64 0x07064b50u   /* "PK\6\7" */
#define LOCAL_FIXED 30
#define CENTRAL_FIXED 46
#define END_FIXED 22
#define END64_FIXED 56          /* up to and including the directory offset */
#define LOC64_FIXED 20
#define MAX_COMMENT 65535       /* the end record's comment length is a u16 */
#define X16 0xFFFFu             /* "see the zip64 field" in a 16-bit field  */
#define X32 0xFFFFFFFFu         /* ... in a 32-bit field                    */
#define EXTRA_ZIP64 0x0001u     /* extra field id of the zip64 sizes        */
#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DESCRIPTOR 0x0008u /* CRC and sizes follow the data            */
#define FLAG_UTF8 0x0800u       /* the name is UTF-8                        */
#define METHOD_STORED 0
#define METHOD_DEFLATED 8
/* What Python's zipfile writes: version 2.0 needed; made by Unix (3) 2.0;
 * date 1980-01-01 ((0 << 9) | (1 << 5) | 1), time 00:00; file mode 0600
 * in the high half of the external attributes. */
#define VERSION_NEEDED 20
#define VERSION_MADE ((3u << 8) | 20u)
#define DOS_DATE_1980 0x0021u
#define EXT_ATTR_0600 (0600u << 16)
#define WRITE_LIMIT 0x7FFFFFFFu /* zipfile's ZIP64_LIMIT: 2^31 - 1         */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

void advc_zip_member_label(const char *name, char *out, size_t outsz)
{
    size_t n = strlen(name);
    if (n > 4 && !strcmp(name + n - 4, ".npy"))
        snprintf(out, outsz, "tensor '%.*s'", (int)(n - 4), name);
    else
        snprintf(out, outsz, "member '%s'", name);
}

/* The label of a name that is not NUL-terminated (a header's bytes). */
static void label_span(const uint8_t *name, size_t n, char *out,
                       size_t outsz)
{
    char tmp[200];
    if (n >= sizeof tmp) n = sizeof tmp - 1;
    memcpy(tmp, name, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (tmp[i] == '\0') tmp[i] = '?';
    advc_zip_member_label(tmp, out, outsz);
}

/* ---- reading: the end record ------------------------------------------- */

typedef struct {
    const uint8_t *b;
    size_t len;
    const char *path;
} zsrc;

typedef struct {
    uint64_t count, cd_off, cd_size;
    size_t limit; /* the directory must end at or before this offset */
} zend;

/* "<path>: <message>" as a format error. */
static advc_status zerr(const zsrc *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static advc_status zerr(const zsrc *s, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return advc_set_error(ADVC_ERR_FORMAT, "%s: %s", s->path, msg);
}

/* No end record: say what the file is, or where it was cut. */
static advc_status diagnose(const zsrc *s)
{
    if (s->len >= 6 && !memcmp(s->b, "\x93NUMPY", 6))
        return zerr(s, "a single .npy array, not an .npz archive");
    if (s->len < 4 || le32(s->b) != SIG_LOCAL)
        return zerr(s, "not a zip archive (no end-of-central-directory "
                       "record)");
    size_t p = 0;
    char last[256] = "";
    while (s->len - p >= 4 && le32(s->b + p) == SIG_LOCAL) {
        if (s->len - p < LOCAL_FIXED)
            return zerr(s, "truncated in a local header after %s",
                        last[0] ? last : "the start");
        const uint8_t *h = s->b + p;
        size_t nl = le16(h + 26), xl = le16(h + 28);
        uint64_t size = le32(h + 18);
        char label[256];
        label_span(h + LOCAL_FIXED, nl < s->len - p - LOCAL_FIXED
                                        ? nl : s->len - p - LOCAL_FIXED,
                   label, sizeof label);
        if (s->len - p - LOCAL_FIXED < nl + xl)
            return zerr(s, "truncated in the local header of %s", label);
        if (le16(h + 6) & FLAG_DESCRIPTOR) break; /* size unknown here */
        if (size == X32 && xl >= 20 && le16(h + LOCAL_FIXED + nl) ==
                                           EXTRA_ZIP64)
            size = le64(h + LOCAL_FIXED + nl + 4 + 8); /* usize, csize */
        size_t data = p + LOCAL_FIXED + nl + xl;
        if (size > s->len - data)
            return zerr(s, "truncated inside %s (%zu of %llu bytes present)",
                        label, s->len - data, (unsigned long long)size);
        p = data + (size_t)size;
        snprintf(last, sizeof last, "%s", label);
    }
    return zerr(s, "truncated after %s: the central directory is missing "
                   "or cut short", last[0] ? last : "the start");
}

/* The zip64 end record named by the locator just before offset `pos`. */
static advc_status read_end64(const zsrc *s, size_t pos, zend *e)
{
    if (pos < LOC64_FIXED || le32(s->b + pos - LOC64_FIXED) != SIG_LOC64)
        return zerr(s, "the end record needs zip64 fields but the zip64 "
                       "locator is missing");
    const uint8_t *l = s->b + pos - LOC64_FIXED;
    uint64_t off = le64(l + 8);
    if (le32(l + 4) != 0 || le32(l + 16) != 1)
        return zerr(s, "multi-disk (spanned) archives are not supported");
    size_t lpos = pos - LOC64_FIXED;
    if (off > lpos || lpos - off < END64_FIXED ||
        le32(s->b + off) != SIG_END64)
        return zerr(s, "no zip64 end record at offset %llu",
                    (unsigned long long)off);
    const uint8_t *r = s->b + off;
    uint64_t rsize = le64(r + 4); /* bytes after this field */
    if (rsize < END64_FIXED - 12 || rsize > lpos - off - 12)
        return zerr(s, "zip64 end record of bad size %llu",
                    (unsigned long long)rsize);
    if (le32(r + 16) != 0 || le32(r + 20) != 0 ||
        le64(r + 24) != le64(r + 32))
        return zerr(s, "multi-disk (spanned) archives are not supported");
    e->count = le64(r + 32);
    e->cd_size = le64(r + 40);
    e->cd_off = le64(r + 48);
    e->limit = (size_t)off;
    return ADVC_OK;
}

static advc_status read_end(const zsrc *s, zend *e)
{
    if (s->len < END_FIXED) return diagnose(s);
    size_t last = s->len - END_FIXED;
    size_t first = last > MAX_COMMENT ? last - MAX_COMMENT : 0;
    size_t pos = last + 1;
    for (size_t p = last + 1; p-- > first;) {
        if (le32(s->b + p) == SIG_END &&
            le16(s->b + p + 20) == s->len - p - END_FIXED) {
            pos = p;
            break;
        }
    }
    if (pos > last) return diagnose(s);
    const uint8_t *r = s->b + pos;
    uint16_t disk = le16(r + 4), cd_disk = le16(r + 6);
    uint16_t n_here = le16(r + 8), n_all = le16(r + 10);
    if ((disk != 0 && disk != X16) || (cd_disk != 0 && cd_disk != X16) ||
        n_here != n_all)
        return zerr(s, "multi-disk (spanned) archives are not supported");
    e->count = n_all;
    e->cd_size = le32(r + 12);
    e->cd_off = le32(r + 16);
    e->limit = pos;
    if (n_all == X16 || e->cd_size == X32 || e->cd_off == X32) {
        advc_status st = read_end64(s, pos, e);
        if (st != ADVC_OK) return st;
    }
    if (e->cd_off > e->limit || e->cd_size > e->limit - e->cd_off)
        return zerr(s, "the central directory (%llu bytes at offset %llu) "
                       "lies outside the file",
                    (unsigned long long)e->cd_size,
                    (unsigned long long)e->cd_off);
    if (e->count > e->cd_size / CENTRAL_FIXED)
        return zerr(s, "the end record claims %llu members, the central "
                       "directory has room for %llu",
                    (unsigned long long)e->count,
                    (unsigned long long)(e->cd_size / CENTRAL_FIXED));
    return ADVC_OK;
}

/* ---- reading: one central-directory entry ------------------------------ */

typedef struct {
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, off;
    const uint8_t *name;
    size_t nl;
} zcentral;

/* Replaces 0xFFFFFFFF sizes and offset by the zip64 extra field's values
 * (usize, csize, offset, in that order, only those that overflowed). */
static bool apply_zip64(zcentral *c, const uint8_t *x, size_t xl)
{
    while (xl >= 4) {
        size_t id = le16(x), sz = le16(x + 2);
        if (sz > xl - 4) return false;
        if (id == EXTRA_ZIP64) {
            uint64_t *f[3] = { &c->usize, &c->csize, &c->off };
            const uint8_t *v = x + 4;
            size_t left = sz;
            for (int i = 0; i < 3; i++) {
                if (*f[i] != X32) continue;
                if (left < 8) return false;
                *f[i] = le64(v);
                v += 8;
                left -= 8;
            }
        }
        x += 4 + sz;
        xl -= 4 + sz;
    }
    return c->usize != X32 && c->csize != X32 && c->off != X32;
}

/* Checks the member's local header and CRC; *data is where its bytes
 * start.  The local header and data lie before the directory (cd_off). */
static advc_status check_local(const zsrc *s, const zcentral *c,
                               uint64_t cd_off, const char *label,
                               const uint8_t **data)
{
    if (c->off > cd_off || cd_off - c->off < LOCAL_FIXED ||
        le32(s->b + c->off) != SIG_LOCAL)
        return zerr(s, "no local header for %s at offset %llu", label,
                    (unsigned long long)c->off);
    const uint8_t *h = s->b + c->off;
    uint64_t nl = le16(h + 26), xl = le16(h + 28);
    uint64_t start = c->off + LOCAL_FIXED + nl + xl;
    if (start > cd_off || c->usize > cd_off - start)
        return zerr(s, "%s runs into the central directory (%llu bytes at "
                       "offset %llu)", label, (unsigned long long)c->usize,
                    (unsigned long long)start);
    if (nl != c->nl || memcmp(h + LOCAL_FIXED, c->name, nl) != 0 ||
        le16(h + 8) != c->method)
        return zerr(s, "the local header of %s disagrees with the central "
                       "directory (name or method)", label);
    if (!(le16(h + 6) & FLAG_DESCRIPTOR)) {
        uint32_t lc = le32(h + 18), lu = le32(h + 22);
        if (le32(h + 14) != c->crc || (lc != X32 && lc != c->csize) ||
            (lu != X32 && lu != c->usize))
            return zerr(s, "the local header of %s disagrees with the "
                           "central directory (CRC or size)", label);
    }
    *data = s->b + start;
    if (advc_crc32(0, *data, (size_t)c->usize) != c->crc)
        return zerr(s, "%s is damaged (CRC-32 mismatch)", label);
    return ADVC_OK;
}

/* Entry at s->b + *p (the directory ends at `end`); fills z->e[i]. */
static advc_status read_central(const zsrc *s, const zend *e, size_t *p,
                                int i, advc_zip *z)
{
    size_t end = (size_t)(e->cd_off + e->cd_size);
    if (end - *p < CENTRAL_FIXED || le32(s->b + *p) != SIG_CENTRAL)
        return zerr(s, "central directory entry %d is missing or cut short",
                    i);
    const uint8_t *h = s->b + *p;
    zcentral c = { le16(h + 8), le16(h + 10), le32(h + 16), le32(h + 20),
                   le32(h + 24), le32(h + 42), h + CENTRAL_FIXED,
                   le16(h + 28) };
    size_t xl = le16(h + 30), cl = le16(h + 32);
    if (end - *p - CENTRAL_FIXED < c.nl + xl + cl)
        return zerr(s, "central directory entry %d is cut short", i);
    char label[256];
    label_span(c.name, c.nl, label, sizeof label);
    if (c.nl == 0 || memchr(c.name, 0, c.nl))
        return zerr(s, "member %d has an empty name or a NUL byte in it",
                    i);
    if ((c.usize == X32 || c.csize == X32 || c.off == X32) &&
        !apply_zip64(&c, c.name + c.nl, xl))
        return zerr(s, "%s: bad or missing zip64 extra field", label);
    uint16_t disk = le16(h + 34);
    if (disk != 0 && disk != X16)
        return zerr(s, "%s starts on disk %u: multi-disk (spanned) archives "
                       "are not supported", label, (unsigned)disk);
    if (c.flags & FLAG_ENCRYPTED)
        return zerr(s, "%s is encrypted", label);
    if (c.method == METHOD_DEFLATED)
        return zerr(s, "%s is compressed (deflate); only uncompressed "
                       "archives are read: save with numpy.savez, not "
                       "numpy.savez_compressed", label);
    if (c.method != METHOD_STORED)
        return zerr(s, "%s uses compression method %u; only stored "
                       "(uncompressed) members are read", label,
                    (unsigned)c.method);
    if (c.csize != c.usize)
        return zerr(s, "%s is stored but its sizes differ (%llu, %llu)",
                    label, (unsigned long long)c.csize,
                    (unsigned long long)c.usize);
    const uint8_t *data = NULL;
    advc_status st = check_local(s, &c, e->cd_off, label, &data);
    if (st != ADVC_OK) return st;
    advc_zip_entry *out = &z->e[i];
    out->name = malloc(c.nl + 1);
    if (!out->name)
        return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", s->path);
    memcpy(out->name, c.name, c.nl);
    out->name[c.nl] = '\0';
    out->data = data;
    out->size = (size_t)c.usize;
    z->n = i + 1;
    *p += CENTRAL_FIXED + c.nl + xl + cl;
    return ADVC_OK;
}

static int cmp_names(const void *a, const void *b)
{
    const advc_zip_entry *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Sorted copy of the entry pointers; a duplicate name is an error. */
static advc_status check_unique(const zsrc *s, const advc_zip *z)
{
    if (z->n < 2) return ADVC_OK;
    const advc_zip_entry **v = malloc((size_t)z->n * sizeof *v);
    if (!v) return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", s->path);
    for (int i = 0; i < z->n; i++) v[i] = &z->e[i];
    qsort(v, (size_t)z->n, sizeof *v, cmp_names);
    advc_status st = ADVC_OK;
    for (int i = 1; i < z->n && st == ADVC_OK; i++)
        if (!strcmp(v[i - 1]->name, v[i]->name)) {
            char label[256];
            advc_zip_member_label(v[i]->name, label, sizeof label);
            st = zerr(s, "%s appears twice", label);
        }
    free(v);
    return st;
}

advc_status advc_zip_parse(const uint8_t *buf, size_t len, const char *path,
                           advc_zip *z)
{
    memset(z, 0, sizeof *z);
    zsrc s = { buf, len, path ? path : "zip" };
    if (!buf && len) return advc_set_error(ADVC_ERR_ARG, "zip: NULL buffer");
    zend e = { 0, 0, 0, 0 };
    advc_status st = read_end(&s, &e);
    if (st != ADVC_OK) return st;
    if (e.count > 0) {
        z->e = calloc((size_t)e.count, sizeof *z->e);
        if (!z->e)
            return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", s.path);
    }
    size_t p = (size_t)e.cd_off;
    for (uint64_t i = 0; i < e.count && st == ADVC_OK; i++)
        st = read_central(&s, &e, &p, (int)i, z);
    if (st == ADVC_OK && p != e.cd_off + e.cd_size)
        st = zerr(&s, "%llu unexplained bytes after the last central "
                      "directory entry",
                  (unsigned long long)(e.cd_off + e.cd_size - p));
    if (st == ADVC_OK) st = check_unique(&s, z);
    if (st != ADVC_OK) advc_zip_free(z);
    return st;
}

void advc_zip_free(advc_zip *z)
{
    if (!z) return;
    for (int i = 0; i < z->n; i++) free(z->e[i].name);
    free(z->e);
    memset(z, 0, sizeof *z);
}

/* ---- writing ------------------------------------------------------------ */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void zw_write(advc_zip_writer *w, const void *p, size_t n)
{
    advc_out_write(&w->o, p, n);
    w->off += n;
}

static uint32_t name_flags(const char *name)
{
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        if (*c >= 0x80) return FLAG_UTF8;
    return 0;
}

advc_status advc_zip_open(advc_zip_writer *w, const char *path)
{
    memset(w, 0, sizeof *w);
    return advc_out_open(&w->o, path);
}

void advc_zip_add(advc_zip_writer *w, const char *name, const uint8_t *data,
                  size_t size)
{
    if (w->st != ADVC_OK) return;
    size_t nl = strlen(name);
    if (nl == 0 || nl > X16) {
        w->st = advc_set_error(ADVC_ERR_ARG, "%s: member name of %zu bytes",
                               w->o.path, nl);
        return;
    }
    if (w->n >= (int)X16 || size > WRITE_LIMIT ||
        w->off + LOCAL_FIXED + nl + 20 + size > WRITE_LIMIT) {
        w->st = advc_set_error(ADVC_ERR_ARG, "%s: more than 65535 members "
                               "or 2 GiB would need zip64 records, which "
                               "are not written", w->o.path);
        return;
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 16;
        advc_zip_cd *cd = realloc(w->cd, (size_t)cap * sizeof *cd);
        if (!cd) {
            w->st = advc_set_error(ADVC_ERR_NOMEM, "%s: no memory",
                                   w->o.path);
            return;
        }
        w->cd = cd;
        w->cap = cap;
    }
    advc_zip_cd *c = &w->cd[w->n];
    c->name = malloc(nl + 1);
    if (!c->name) {
        w->st = advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", w->o.path);
        return;
    }
    memcpy(c->name, name, nl + 1);
    c->crc = advc_crc32(0, data, size);
    c->size = (uint32_t)size;
    c->offset = (uint32_t)w->off;
    w->n++;
    /* local header, then the zip64 extra field: id, 16, usize, csize */
    uint8_t h[LOCAL_FIXED], x[20];
    put32(h, SIG_LOCAL);
    put16(h + 4, VERSION_NEEDED);
    put16(h + 6, name_flags(name));
    put16(h + 8, METHOD_STORED);
    put16(h + 10, 0);
    put16(h + 12, DOS_DATE_1980);
    put32(h + 14, c->crc);
    put32(h + 18, c->size);
    put32(h + 22, c->size);
    put16(h + 26, (uint32_t)nl);
    put16(h + 28, sizeof x);
    put16(x, EXTRA_ZIP64);
    put16(x + 2, 16);
    put64(x + 4, size);
    put64(x + 12, size);
    zw_write(w, h, sizeof h);
    zw_write(w, name, nl);
    zw_write(w, x, sizeof x);
    zw_write(w, data, size);
}

static void write_directory(advc_zip_writer *w)
{
    uint64_t cd_off = w->off;
    for (int i = 0; i < w->n; i++) {
        const advc_zip_cd *c = &w->cd[i];
        size_t nl = strlen(c->name);
        uint8_t h[CENTRAL_FIXED];
        put32(h, SIG_CENTRAL);
        put16(h + 4, VERSION_MADE);
        put16(h + 6, VERSION_NEEDED);
        put16(h + 8, name_flags(c->name));
        put16(h + 10, METHOD_STORED);
        put16(h + 12, 0);
        put16(h + 14, DOS_DATE_1980);
        put32(h + 16, c->crc);
        put32(h + 20, c->size);
        put32(h + 24, c->size);
        put16(h + 28, (uint32_t)nl);
        put16(h + 30, 0);        /* extra     */
        put16(h + 32, 0);        /* comment   */
        put16(h + 34, 0);        /* disk      */
        put16(h + 36, 0);        /* internal attributes */
        put32(h + 38, EXT_ATTR_0600);
        put32(h + 42, c->offset);
        zw_write(w, h, sizeof h);
        zw_write(w, c->name, nl);
    }
    uint64_t cd_size = w->off - cd_off;
    if (w->off > WRITE_LIMIT) {
        w->st = advc_set_error(ADVC_ERR_ARG, "%s: the archive would pass 2 "
                               "GiB and need zip64 records, which are not "
                               "written", w->o.path);
        return;
    }
    uint8_t r[END_FIXED];
    put32(r, SIG_END);
    put16(r + 4, 0);
    put16(r + 6, 0);
    put16(r + 8, (uint32_t)w->n);
    put16(r + 10, (uint32_t)w->n);
    put32(r + 12, (uint32_t)cd_size);
    put32(r + 16, (uint32_t)cd_off);
    put16(r + 20, 0);
    zw_write(w, r, sizeof r);
}

advc_status advc_zip_close(advc_zip_writer *w)
{
    if (w->st == ADVC_OK) write_directory(w);
    advc_status st = w->st;
    if (st == ADVC_OK) st = advc_out_commit(&w->o);
    else advc_out_abort(&w->o);
    for (int i = 0; i < w->n; i++) free(w->cd[i].name);
    free(w->cd);
    w->cd = NULL;
    w->n = w->cap = 0;
    return st;
}
