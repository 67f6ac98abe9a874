/* out_file.c: the one safe-file writer (advc/io.h): temporary file, write,
 * flush, fsync, rename, fsync of the directory.  Every writer of a whole
 * file (checkpoint.c, png.c, npy.c, svg.c, and the CSV writers above this
 * floor) encodes its format into an advc_out_file and commits it here.
 * Not here: any file format, or reading.
 */
#include "advc/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define TMP_TAG ".tmp."  /* PATH + TMP_TAG + decimal pid names a temporary */
#define TMP_EXTRA 32     /* bytes for TMP_TAG, a 64-bit pid and the NUL    */
#define DIR_MAX 4096     /* longest directory we fsync or scan (PATH_MAX) */

advc_status advc_out_open(advc_out_file *o, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!path || !*path)
        return advc_set_error(ADVC_ERR_ARG, "output path is empty");
    o->path = path;
    size_t tlen = strlen(path) + TMP_EXTRA;
    o->tmp = malloc(tlen);
    if (!o->tmp)
        return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(o->tmp, tlen, "%s" TMP_TAG "%ld", path, (long)getpid());
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

/* Splits path into its directory (into dir, "." when there is no slash)
 * and returns its last component; NULL if the directory does not fit. */
static const char *split_dir(const char *path, char dir[DIR_MAX])
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
        return path;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/x": "/" */
    if (n >= DIR_MAX) return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return slash + 1;
}

/* Is name "<base>.tmp.<pid>" for a process other than us that no longer
 * exists?  kill(pid, 0) sends nothing; ESRCH means no such process (EPERM
 * means it exists under another user: keep its file). */
static bool is_stale_tmp(const char *name, const char *base, size_t blen)
{
    size_t tag = sizeof TMP_TAG - 1;
    if (strncmp(name, base, blen) != 0 ||
        strncmp(name + blen, TMP_TAG, tag) != 0)
        return false;
    const char *digits = name + blen + tag;
    if (*digits < '0' || *digits > '9') return false;
    char *end;
    errno = 0;
    long pid = strtol(digits, &end, 10);
    if (*end || errno || pid <= 0 || (long)(pid_t)pid != pid) return false;
    if ((pid_t)pid == getpid()) return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Best effort, after a successful rename: remove the temporaries that
 * killed writers left beside PATH, then fsync the directory so the rename
 * (and the removals) are durable.  Failures change nothing: PATH is
 * complete either way. */
static void tidy_dir(const char *path)
{
    char dir[DIR_MAX];
    const char *base = split_dir(path, dir);
    if (!base) return;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char stale[DIR_MAX + 256];
        while ((e = readdir(d)) != NULL) {
            if (!is_stale_tmp(e->d_name, base, blen)) continue;
            int w = snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name);
            if (w > 0 && (size_t)w < sizeof stale) (void)unlink(stale);
        }
        closedir(d);
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
    /* fsync before rename: otherwise a crash can leave PATH naming a file
     * whose blocks never reached the disk.  EINVAL: the target cannot be
     * synced (not a regular file system object); nothing more to do. */
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
        tidy_dir(o->path);
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

advc_status advc_write_file(const char *path, const void *data, size_t n)
{
    if (n > 0 && !data)
        return advc_set_error(ADVC_ERR_ARG, "%s: NULL data",
                              path ? path : "write");
    advc_out_file o;
    advc_status s = advc_out_open(&o, path);
    if (s != ADVC_OK) return s;
    advc_out_write(&o, data, n);
    return advc_out_commit(&o);
}
