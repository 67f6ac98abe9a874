/* test_main.c: runs every suite in suites.h.
 *   advc-tests                 all suites, one process
 *   advc-tests gemm act        only the named suites
 *   advc-tests -j 2 [names]    the suites shared out to 2 worker processes,
 *                              their output printed afterwards in suite order
 *   advc-tests -x NAME ...     all suites (or the named ones) but NAME, said
 *                              on the first line (make test-neon's budget)
 * With -j, each worker takes the next suite (the slowest first, by the
 * weights in suites.h) and writes its report to a scratch file; the parent
 * prints the reports in the order of suites.h, then one total line.  Every
 * test still runs in its own forked child (Check's CK_FORK), so the
 * results do not depend on -j; only the wall time does (under qemu the
 * test binary is otherwise one core's work).
 * Exit status 0 only if every test passed (2 for a bad argument). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "suites.h"
#include "advc/advc.h"

typedef struct {
    const char *name;
    Suite *(*make)(void);
    int weight; /* relative run time, to start the slow suites first */
} suite_entry;

#define ADVC_SUITE_ENTRY(name, weight) { #name, advc_suite_##name, weight },
static const suite_entry all_suites[] = { ADVC_SUITES(ADVC_SUITE_ENTRY) };
#undef ADVC_SUITE_ENTRY
#define NSUITES (sizeof all_suites / sizeof all_suites[0])

/* One suite's result as a worker reports it to the parent. */
typedef struct {
    int run, failed; /* checks run, checks failed (or errored) */
    double seconds;  /* wall time of the suite */
} suite_result;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs suite i in this process with Check's normal report on stdout. */
static suite_result run_suite(size_t i)
{
    suite_result r;
    double t0 = now_seconds();
    SRunner *sr = srunner_create(all_suites[i].make());
    srunner_run_all(sr, CK_NORMAL);
    r.run = srunner_ntests_run(sr);
    r.failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    r.seconds = now_seconds() - t0;
    return r;
}

/* ---- one process: every wanted suite in one runner, as Check prints it */

static int run_serial(const int *want)
{
    SRunner *sr = NULL;
    for (size_t i = 0; i < NSUITES; i++) {
        if (!want[i]) continue;
        Suite *s = all_suites[i].make();
        if (!sr) sr = srunner_create(s);
        else srunner_add_suite(sr, s);
    }
    if (!sr) return EXIT_SUCCESS; /* every suite left out */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- -j N: workers take suites from a pipe of indices ---------------- */

static void scratch_path(char *out, size_t n, const char *dir, size_t i,
                         const char *ext)
{
    snprintf(out, n, "%s/%s.%s", dir, all_suites[i].name, ext);
}

/* A worker: reads suite indices (one byte each) until the pipe is empty;
 * runs each with stdout and stderr sent to DIR/<name>.out and its counts
 * written to DIR/<name>.res.  Never returns. */
static void worker(int fd, const char *dir)
{
    unsigned char b;
    while (read(fd, &b, 1) == 1) {
        char path[1024];
        scratch_path(path, sizeof path, dir, b, "out");
        fflush(stdout);
        fflush(stderr);
        int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(3);
        close(out);
        suite_result r = run_suite(b);
        fflush(stdout);
        scratch_path(path, sizeof path, dir, b, "res");
        FILE *f = fopen(path, "w");
        if (!f) _exit(3);
        fprintf(f, "%d %d %.3f\n", r.run, r.failed, r.seconds);
        if (fclose(f) != 0) _exit(3);
    }
    _exit(0);
}

/* Writes the wanted suites' indices into a pipe, heaviest first; returns
 * its read end, or -1. */
static int suite_queue(const int *want)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    int done[NSUITES] = { 0 };
    for (;;) { /* selection by weight: a few dozen suites */
        size_t best = NSUITES;
        for (size_t i = 0; i < NSUITES; i++)
            if (want[i] && !done[i] &&
                (best == NSUITES || all_suites[i].weight >
                                        all_suites[best].weight))
                best = i;
        if (best == NSUITES) break;
        done[best] = 1;
        unsigned char b = (unsigned char)best;
        if (write(p[1], &b, 1) != 1) return -1;
    }
    close(p[1]);
    return p[0];
}

/* Prints suite i's report from DIR and adds its counts; a suite without
 * a result (a worker died) counts as one failure. */
static void report_suite(const char *dir, size_t i, suite_result *total)
{
    char path[1024];
    scratch_path(path, sizeof path, dir, i, "out");
    FILE *f = fopen(path, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) fputs(line, stdout);
    if (f) fclose(f);
    remove(path);
    scratch_path(path, sizeof path, dir, i, "res");
    suite_result r = { 0, 1, 0.0 };
    f = fopen(path, "r");
    if (!f || fscanf(f, "%d %d %lf", &r.run, &r.failed, &r.seconds) != 3) {
        printf("advc-tests: suite %s left no result (its worker died)\n",
               all_suites[i].name);
        r.run = 0, r.failed = 1;
    }
    if (f) fclose(f);
    remove(path);
    printf("   (suite %s: %.1f s)\n", all_suites[i].name, r.seconds);
    total->run += r.run;
    total->failed += r.failed;
}

static int run_parallel(const int *want, int jobs)
{
    const char *base = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/advc-tests-XXXXXX",
             base && *base ? base : "/tmp");
    int q = mkdtemp(dir) ? suite_queue(want) : -1;
    if (q < 0) {
        fprintf(stderr, "advc-tests: cannot set up -j: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    double t0 = now_seconds();
    fflush(stdout);
    for (int w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid == 0) worker(q, dir);
        if (pid < 0) break; /* fewer workers: the others take the rest */
    }
    close(q);
    while (wait(NULL) > 0) {}
    suite_result total = { 0, 0, 0.0 };
    for (size_t i = 0; i < NSUITES; i++)
        if (want[i]) report_suite(dir, i, &total);
    rmdir(dir);
    printf("advc-tests: %d checks, %d failed, %.1f s with %d worker "
           "processes\n", total.run, total.failed, now_seconds() - t0, jobs);
    return total.failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The index of the suite called name, or NSUITES after saying so. */
static size_t suite_index(const char *name)
{
    size_t i = 0;
    while (i < NSUITES && strcmp(name, all_suites[i].name) != 0) i++;
    if (i == NSUITES) fprintf(stderr, "advc-tests: %s: no such suite\n", name);
    return i;
}

int main(int argc, char **argv)
{
    int jobs = 1, want[NSUITES] = { 0 }, skip[NSUITES] = { 0 }, named = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "-x") == 0 && a + 1 < argc) {
            size_t i = suite_index(argv[++a]);
            if (i == NSUITES) return 2;
            skip[i] = 1;
            continue;
        }
        if (strcmp(argv[a], "-j") == 0 && a + 1 < argc) {
            jobs = atoi(argv[++a]);
            if (jobs < 1 || jobs > 64) {
                fprintf(stderr, "advc-tests: -j %s: want 1 to 64\n", argv[a]);
                return 2;
            }
            continue;
        }
        size_t i = suite_index(argv[a]);
        if (i == NSUITES) return 2;
        want[i] = 1, named = 1;
    }
    for (size_t i = 0; i < NSUITES && !named; i++) want[i] = 1;
    printf("advc-tests: kernels built for %s\n", advc_isa_name());
    for (size_t i = 0; i < NSUITES; i++)
        if (skip[i] && want[i]) {
            printf("advc-tests: LEFT OUT suite %s (-x)\n", all_suites[i].name);
            want[i] = 0;
        }
    return jobs > 1 ? run_parallel(want, jobs) : run_serial(want);
}
