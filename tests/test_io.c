/* test_io.c: the one safe-file writer (advc/io.h).  A commit leaves exactly
 * the new file; every failure (missing directory, a rename onto a
 * directory, a write cut short by the file-size limit, an abort) leaves
 * the old file and no temporary; temporaries of killed writers are removed
 * by the next successful commit beside them, and only theirs.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "testutil.h"

static const char old_text[] = "the previous contents, which must survive\n";

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

/* True if path holds exactly text. */
static int holds(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* A pid that no process has: a child that has exited and been reaped
 * (Linux hands out pids in increasing order, so it is not reused at
 * once). */
static long dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return (long)pid;
}

START_TEST(commit_writes_whole_file)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "io");
    const char *p = tu_tmpdir_path(&t, "log.csv");
    advc_out_file o;
    ck_assert_int_eq(advc_out_open(&o, p), ADVC_OK);
    advc_out_printf(&o, "epoch,loss\n");
    for (int e = 1; e <= 3; e++) advc_out_printf(&o, "%d,%.2f\n", e, e / 4.0);
    advc_out_write(&o, "end\n", 4);
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1); /* the temporary */
    ck_assert_int_eq(access(p, F_OK), -1);             /* PATH not yet   */
    ck_assert_int_eq(advc_out_commit(&o), ADVC_OK);
    ck_assert(holds(p, "epoch,loss\n1,0.25\n2,0.50\n3,0.75\nend\n"));
    char names[256];
    ck_assert_int_eq(tu_tmpdir_entries(&t, names, sizeof names), 1);
    ck_assert_str_eq(names, "log.csv ");
    /* the one-call form replaces it */
    ck_assert_int_eq(advc_write_file(p, "x\n", 2), ADVC_OK);
    ck_assert(holds(p, "x\n"));
    ck_assert_int_eq(advc_write_file(p, NULL, 0), ADVC_OK);
    ck_assert(holds(p, ""));
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1);
    tu_tmpdir_remove(&t);
}
END_TEST

START_TEST(abort_leaves_old_file)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "io");
    const char *p = tu_tmpdir_path(&t, "a.svg");
    spit(p, old_text);
    advc_out_file o;
    ck_assert_int_eq(advc_out_open(&o, p), ADVC_OK);
    advc_out_printf(&o, "half a file");
    advc_out_abort(&o);
    ck_assert(holds(p, old_text));
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1);
    tu_tmpdir_remove(&t);
}
END_TEST

START_TEST(failures_leave_no_temporary)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "io");
    /* a missing directory: open fails, naming PATH */
    const char *missing = tu_tmpdir_path(&t, "no/such/dir/x.csv");
    advc_out_file o;
    ck_assert_int_eq(advc_out_open(&o, missing), ADVC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), missing));
    ck_assert_int_eq(advc_write_file(missing, "x", 1), ADVC_ERR_IO);
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 0);
    ck_assert_int_eq(advc_out_open(&o, ""), ADVC_ERR_ARG);

    /* the rename fails: PATH is a non-empty directory */
    const char *d = tu_tmpdir_path(&t, "adir");
    ck_assert_int_eq(mkdir(d, 0700), 0);
    spit(tu_tmpdir_path(&t, "adir/keep"), old_text);
    ck_assert_int_eq(advc_write_file(d, "new", 3), ADVC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(advc_last_error(), "rename"));
    ck_assert_ptr_nonnull(strstr(advc_last_error(), d));
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1);
    ck_assert(holds(tu_tmpdir_path(&t, "adir/keep"), old_text));
    tu_tmpdir_remove(&t);
}
END_TEST

/* The file-size limit cuts the write short, as a full disk would: the
 * error is sticky, commit reports it naming PATH, PATH keeps its old
 * bytes and the temporary is gone.  In a child, so the limit dies with
 * it. */
START_TEST(short_write_is_reported_once)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "io");
    const char *p = tu_tmpdir_path(&t, "big.npy");
    spit(p, old_text);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
        struct rlimit rl = { 1000, 1000 };
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
        advc_out_file o;
        if (advc_out_open(&o, p) != ADVC_OK) _exit(4);
        char block[512];
        memset(block, 'z', sizeof block);
        for (int i = 0; i < 100; i++) advc_out_write(&o, block, sizeof block);
        advc_out_printf(&o, "after the error: %d\n", 1);
        advc_status s = advc_out_commit(&o);
        const char *m = advc_last_error();
        _exit(s == ADVC_ERR_IO && strstr(m, p) && strstr(m, "left unchanged")
                  ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status 0x%x", (unsigned)status);
    ck_assert(holds(p, old_text));
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1);
    tu_tmpdir_remove(&t);
}
END_TEST

/* A writer killed mid-write leaves "PATH.tmp.<pid>"; the next commit of
 * PATH removes it, and leaves alone the temporaries of live processes,
 * of other files, and names that are not ours. */
START_TEST(killed_writers_are_tidied)
{
    tu_tmpdir t;
    tu_tmpdir_make(&t, "io");
    const char *p = tu_tmpdir_path(&t, "m.advc");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        advc_out_file o;
        if (advc_out_open(&o, p) != ADVC_OK) _exit(4);
        advc_out_printf(&o, "half");
        fflush(o.f);
        raise(SIGKILL);
        _exit(5);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    char killed[64], dead[64], live[64], other[64];
    snprintf(killed, sizeof killed, "m.advc.tmp.%ld", (long)pid);
    snprintf(dead, sizeof dead, "m.advc.tmp.%ld", dead_pid());
    snprintf(live, sizeof live, "m.advc.tmp.%ld", (long)getppid());
    snprintf(other, sizeof other, "n.advc.tmp.%ld", dead_pid());
    ck_assert_int_eq(access(tu_tmpdir_path(&t, killed), F_OK), 0);
    spit(tu_tmpdir_path(&t, dead), "x");
    spit(tu_tmpdir_path(&t, live), "x");
    spit(tu_tmpdir_path(&t, other), "x");
    spit(tu_tmpdir_path(&t, "m.advc.tmp.12ab"), "x");
    spit(tu_tmpdir_path(&t, "m.advc.tmp."), "x");
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 6);

    ck_assert_int_eq(advc_write_file(p, "new\n", 4), ADVC_OK);
    ck_assert(holds(p, "new\n"));
    ck_assert_int_eq(access(tu_tmpdir_path(&t, killed), F_OK), -1);
    ck_assert_int_eq(access(tu_tmpdir_path(&t, dead), F_OK), -1);
    ck_assert_int_eq(access(tu_tmpdir_path(&t, live), F_OK), 0);
    ck_assert_int_eq(access(tu_tmpdir_path(&t, other), F_OK), 0);
    ck_assert_int_eq(access(tu_tmpdir_path(&t, "m.advc.tmp.12ab"), F_OK), 0);
    ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 5);
    tu_tmpdir_remove(&t);
}
END_TEST

Suite *advc_suite_io(void)
{
    Suite *s = suite_create("io");
    TCase *t = tcase_create("writer");
    tcase_add_test(t, commit_writes_whole_file);
    tcase_add_test(t, abort_leaves_old_file);
    tcase_add_test(t, failures_leave_no_temporary);
    tcase_add_test(t, short_write_is_reported_once);
    tcase_add_test(t, killed_writers_are_tidied);
    suite_add_tcase(s, t);
    return s;
}
