/* tmpdir.h: a fresh scratch directory for a test, and its removal with
 * everything in it.  Used by the suites added with resume and
 * augmentation (test_augment.c, test_resume.c). */
#ifndef ADVC_TEST_TMPDIR_H
#define ADVC_TEST_TMPDIR_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char dir[96];
} tu_dir;

/* mkdtemp("/tmp/advc-test-TAG-XXXXXX"). */
static inline void tu_dir_open(tu_dir *t, const char *tag)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/advc-test-%s-XXXXXX", tag);
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

/* dir/name into buf (size sz); returns buf. */
static inline char *tu_dir_path(const tu_dir *t, const char *name, char *buf,
                                size_t sz)
{
    snprintf(buf, sz, "%s/%s", t->dir, name);
    return buf;
}

static inline void tu_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024]; /* dir (< 512) + "/" + a name (< 256) */
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        int len = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (len < 0 || len >= (int)sizeof p) continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) tu_rm_tree(p);
        else unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void tu_dir_close(tu_dir *t) { tu_rm_tree(t->dir); }

#endif
