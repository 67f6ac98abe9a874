/* npz.c: NumPy .npz archives (advc/npy.h): a zip of stored "<name>.npy"
 * members (zip.c) whose contents are .npy arrays (npy.c).  numpy.savez
 * writes them; numpy.load reads them; so does torch-free Python.
 * Not here: the zip and .npy byte layouts.
 */
#include "advc/npy.h"
#include "data_file.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_SUFFIX ".npy"
#define NPY_SUFFIX_LEN 4

advc_status advc_npz_parse(const uint8_t *buf, size_t len, const char *path,
                           advc_npz *out)
{
    memset(out, 0, sizeof *out);
    if (!path) path = "npz";
    advc_zip z;
    advc_status st = advc_zip_parse(buf, len, path, &z);
    if (st != ADVC_OK) return st;
    if (z.n > 0) {
        out->e = calloc((size_t)z.n, sizeof *out->e);
        if (!out->e) {
            advc_zip_free(&z);
            return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", path);
        }
    }
    for (int i = 0; i < z.n && st == ADVC_OK; i++) {
        char *name = z.e[i].name;
        size_t n = strlen(name);
        if (n <= NPY_SUFFIX_LEN || strcmp(name + n - NPY_SUFFIX_LEN,
                                          NPY_SUFFIX) != 0) {
            st = advc_set_error(ADVC_ERR_FORMAT, "%s: member '%s' is not an "
                                ".npy array (an .npz holds only "
                                "<name>.npy members)", path, name);
            break;
        }
        name[n - NPY_SUFFIX_LEN] = '\0';
        char what[320];
        snprintf(what, sizeof what, "%s: tensor '%s'", path, name);
        out->e[i].name = name; /* ownership moves to *out */
        z.e[i].name = NULL;
        out->n = i + 1;
        st = advc_npy_parse(z.e[i].data, z.e[i].size, what, &out->e[i].a);
    }
    advc_zip_free(&z);
    if (st != ADVC_OK) advc_npz_free(out);
    return st;
}

advc_status advc_npz_read(const char *path, advc_npz *out)
{
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return advc_set_error(ADVC_ERR_ARG, "npz: empty file name");
    uint8_t *buf;
    size_t len;
    advc_status st = advc_data_read_all(path, &buf, &len);
    if (st == ADVC_OK) st = advc_npz_parse(buf, len, path, out);
    if (st != ADVC_OK) {
        free(buf);
        return st;
    }
    out->buf = buf;
    return ADVC_OK;
}

const advc_npz_entry *advc_npz_find(const advc_npz *z, const char *name)
{
    for (int i = 0; i < z->n; i++)
        if (!strcmp(z->e[i].name, name)) return &z->e[i];
    return NULL;
}

void advc_npz_free(advc_npz *z)
{
    if (!z) return;
    for (int i = 0; i < z->n; i++) free(z->e[i].name);
    free(z->e);
    free(z->buf);
    memset(z, 0, sizeof *z);
}

/* Empty or repeated names are the caller's mistake (numpy.savez cannot
 * express them either). */
static advc_status check_names(const char *path, const advc_npz_item *items,
                               int n)
{
    for (int i = 0; i < n; i++) {
        if (!items[i].name || !*items[i].name)
            return advc_set_error(ADVC_ERR_ARG, "%s: array %d has no name",
                                  path, i);
        for (int j = 0; j < i; j++)
            if (!strcmp(items[i].name, items[j].name))
                return advc_set_error(ADVC_ERR_ARG, "%s: tensor '%s' given "
                                      "twice", path, items[i].name);
    }
    return ADVC_OK;
}

advc_status advc_npz_write(const char *path, const advc_npz_item *items,
                           int n)
{
    if (!path || n < 0 || (n > 0 && !items))
        return advc_set_error(ADVC_ERR_ARG, "npz: bad arguments");
    advc_status st = check_names(path, items, n);
    if (st != ADVC_OK) return st;
    advc_zip_writer w;
    st = advc_zip_open(&w, path);
    if (st != ADVC_OK) return st;
    for (int i = 0; i < n && w.st == ADVC_OK; i++) {
        const advc_npz_item *it = &items[i];
        uint8_t *bytes;
        size_t len;
        w.st = advc_npy_encode(it->dtype, it->data, it->ndim, it->shape,
                               &bytes, &len);
        if (w.st != ADVC_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", advc_last_error());
            w.st = advc_set_error(w.st, "%s: tensor '%s': %s", path,
                                  it->name, msg);
            break;
        }
        size_t nl = strlen(it->name);
        char *member = malloc(nl + NPY_SUFFIX_LEN + 1);
        if (!member) {
            free(bytes);
            w.st = advc_set_error(ADVC_ERR_NOMEM, "%s: no memory", path);
            break;
        }
        memcpy(member, it->name, nl);
        memcpy(member + nl, NPY_SUFFIX, NPY_SUFFIX_LEN + 1);
        advc_zip_add(&w, member, bytes, len);
        free(member);
        free(bytes);
    }
    return advc_zip_close(&w);
}
