/* out_file.c: temporary file + fsync + rename for the picture and array
 * writers (out_file.h).  The same discipline as checkpoint.c, shared by
 * png.c, npy.c and svg.c so each of them only encodes its format.
 */
#include "out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

advc_status advc_out_open(advc_out_file *o, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!path || !*path)
        return advc_set_error(ADVC_ERR_ARG, "output path is empty");
    o->path = path;
    size_t tlen = strlen(path) + 32;
    o->tmp = malloc(tlen);
    if (!o->tmp)
        return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(o->tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        advc_status s = advc_set_error(ADVC_ERR_IO, "%s: cannot create "
                                       "temporary file '%s': %s", path,
                                       o->tmp, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return s;
    }
    return ADVC_OK;
}

void advc_out_write(advc_out_file *o, const void *p, size_t n)
{
    if (o->err || n == 0) return;
    if (fwrite(p, 1, n, o->f) != n) o->err = errno ? errno : EIO;
}

void advc_out_printf(advc_out_file *o, const char *fmt, ...)
{
    if (o->err) return;
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0) o->err = errno ? errno : EIO;
    va_end(ap);
}

/* Best effort: make the rename durable.  The file is complete either way. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

advc_status advc_out_commit(advc_out_file *o)
{
    const char *step = "write";
    int err = o->err;
    if (!err && fflush(o->f) != 0) {
        err = errno ? errno : EIO;
        step = "flush";
    }
    if (!err && ferror(o->f)) { err = EIO; step = "write"; }
    /* EINVAL: the target cannot be synced (not a regular file system
     * object); nothing more to do. */
    if (!err && fsync(fileno(o->f)) != 0 && errno != EINVAL) {
        err = errno;
        step = "fsync";
    }
    if (fclose(o->f) != 0 && !err) {
        err = errno ? errno : EIO;
        step = "close";
    }
    o->f = NULL;
    if (!err && rename(o->tmp, o->path) != 0) { err = errno; step = "rename"; }
    advc_status s = ADVC_OK;
    if (err) {
        s = advc_set_error(ADVC_ERR_IO, "%s: %s of '%s' failed: %s; %s left "
                           "unchanged", o->path, step, o->tmp, strerror(err),
                           o->path);
        remove(o->tmp);
    } else {
        sync_parent_dir(o->path);
    }
    free(o->tmp);
    o->tmp = NULL;
    return s;
}

void advc_out_abort(advc_out_file *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp) remove(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
}
