/* faults.c: checkpoints under faults, with the real `advc train`.
 *
 * Kill test: TRIALS times, start a training run (a 670k-parameter MLP on
 * 100 images, one batch per epoch, so most of the time goes to writing
 * the 2.7 MB checkpoint each epoch), watch its directory with inotify,
 * and when the run creates its K-th temporary checkpoint file (K random
 * in 2..4) send SIGKILL after a random delay of up to 1.5 times a
 * measured write.  Then the checkpoint must be there and load, holding
 * epoch K-1 (the previous one) or K (the new one, when the rename came
 * first); and the temporary files that killed runs left behind must be
 * gone once the next run has written a checkpoint.
 *
 * Each epoch also rewrites the run's resume file "m.advc.resume" (a
 * checkpoint too, through the same writer): after every kill it must
 * read back whole (CRC checked), whichever version it holds.
 *
 * Full-disk test: mount a tmpfs with room for epoch 1's checkpoint and
 * resume file but not for epoch 2's new checkpoint beside them, train
 * into it: the run must stop with exit status 1 and a last stderr line
 * naming the checkpoint and the cause, and leave the epoch-1 checkpoint
 * loadable, the resume file readable and no temporary.  Mounting needs root (CAP_SYS_ADMIN);
 * elsewhere this part prints SKIP and the reason.
 *
 *   advc-faults ADVC DATA [TRIALS]      (make test: 60 trials)
 * Linux only (inotify, mount).  Exit status 0 when everything held.
 */
#define _GNU_SOURCE /* inotify_init1 flags, mount(2) */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "advc/advc.h"

#define KILL_MODEL "mlp:hidden=512-512" /* 2.7 MB per checkpoint        */
#define DISK_MODEL "mlp:hidden=8"       /* 26 KB per checkpoint          */
/* tmpfs room, in 4 KB pages: epoch 1 takes 28 KB (checkpoint) + 76 KB
 * (resume file: weights and Adam's two moments) = 104 KB; epoch 2's
 * temporary checkpoint beside them would need 132 KB. */
#define DISK_SIZE "120k"
#define WAIT_MS 60000    /* longest wait for a run's next file event      */
#define MAX_STRAYS 64

static const char *prog, *data;
static int failures;

static void fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("faults: FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Starts `advc train` writing dir/m.advc with stderr to errfile; returns
 * its pid. */
static pid_t start_train(const char *dir, const char *model, int epochs,
                         int seed, const char *errfile)
{
    char out[512], ep[16], sd[16];
    snprintf(out, sizeof out, "%s/m.advc", dir);
    snprintf(ep, sizeof ep, "%d", epochs);
    snprintf(sd, sizeof sd, "%d", seed);
    fflush(stdout); /* or the child's freopen writes our buffer again */
    pid_t pid = fork();
    if (pid < 0) {
        perror("faults: fork");
        exit(1);
    }
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen(errfile, "w", stderr))
            _exit(126);
        execl(prog, prog, "train", "--data", data, "--model", model,
              "--epochs", ep, "--limit", "100", "--batch", "100",
              "--guard-batch", "0", "--threads", "1", "--seed", sd, "--out",
              out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* inotify events read but not yet looked at. */
static char ev_buf[4096] __attribute__((aligned(8)));
static ssize_t ev_len, ev_pos;

/* The next event about a checkpoint file: 'c' the creation of a
 * temporary "m.advc.tmp.<pid>", 'r' a rename onto "m.advc"; 0 when none
 * comes within wait_ms.  Other names are skipped. */
static int next_event(int fd, int wait_ms)
{
    for (;;) {
        while (ev_pos < ev_len) {
            struct inotify_event *e =
                (struct inotify_event *)(ev_buf + ev_pos);
            ev_pos += (ssize_t)sizeof *e + e->len;
            if (!e->len) continue;
            if ((e->mask & IN_CREATE) &&
                !strncmp(e->name, "m.advc.tmp.", 11))
                return 'c';
            if ((e->mask & IN_MOVED_TO) && !strcmp(e->name, "m.advc"))
                return 'r';
        }
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, wait_ms) <= 0) return 0;
        ev_len = read(fd, ev_buf, sizeof ev_buf);
        ev_pos = 0;
        if (ev_len <= 0) return 0;
    }
}

/* The epoch stored in path, after loading it as a model; -1 if it does
 * not load. */
static int load_epoch(const char *path)
{
    advc_graph *g = NULL;
    advc_checkpoint ck;
    if (advc_model_load(path, 1, NULL, &g, &ck) != ADVC_OK) return -1;
    char v[32] = "";
    int e = advc_meta_get(ck.meta, "epoch", v, sizeof v) ? atoi(v) : -1;
    advc_graph_free(g);
    return e;
}

/* True if path is absent or reads as a whole checkpoint. */
static int resume_whole(const char *path)
{
    advc_checkpoint ck;
    if (access(path, F_OK) != 0) return 1;
    memset(&ck, 0, sizeof ck);
    int ok = advc_checkpoint_read(path, &ck) == ADVC_OK;
    advc_checkpoint_free(&ck);
    return ok;
}

/* Names in dir containing ".tmp." (temporary checkpoints). */
static int list_temps(const char *dir, char names[][256], int cap)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.") && n < cap)
            snprintf(names[n++], 256, "%s", e->d_name);
    if (d) closedir(d);
    return n;
}

/* Microseconds from the creation of a temporary checkpoint to its rename,
 * the median over a short clean run: the scale of the random delays. */
static double measure_write(int fd, const char *dir, const char *errfile)
{
    double t[8], created = 0;
    int n = 0, ev;
    pid_t pid = start_train(dir, KILL_MODEL, 8, 1, errfile);
    while (n < 8 && (ev = next_event(fd, WAIT_MS)) != 0) {
        if (ev == 'c') created = now_us();
        if (ev == 'r' && created > 0) t[n++] = now_us() - created;
    }
    int status;
    waitpid(pid, &status, 0);
    while (next_event(fd, 0)) {
    }
    if (n < 8 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail("the calibration run failed (status 0x%x; see %s)", status,
             errfile);
        return 0;
    }
    for (int i = 1; i < n; i++) /* insertion sort: 8 numbers */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double s = t[j];
            t[j] = t[j - 1];
            t[j - 1] = s;
        }
    return t[n / 2];
}

/* One trial: kill the run DELAY us after it creates its K-th temporary
 * checkpoint; *renames counts the renames it completed before dying
 * (events queued before the kill are all read).  Returns 0 if the run
 * never got that far. */
static int strike(int fd, const char *dir, const char *errfile, int seed,
                  int k, double delay, int *renames)
{
    pid_t pid = start_train(dir, KILL_MODEL, 1000, seed, errfile);
    int created = 0, ev;
    *renames = 0;
    while (created < k && (ev = next_event(fd, WAIT_MS)) != 0) {
        created += ev == 'c';
        *renames += ev == 'r';
    }
    for (double t0 = now_us(); now_us() - t0 < delay;) {
    } /* spin: sleeping would round the delay up to the timer tick */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while ((ev = next_event(fd, 0)) != 0) *renames += ev == 'r';
    return created == k;
}

static void kill_test(const char *dir, int trials)
{
    char errfile[512], out[512];
    snprintf(errfile, sizeof errfile, "%s/../train.err", dir);
    snprintf(out, sizeof out, "%s/m.advc", dir);
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0) {
        fail("inotify on %s failed: %s", dir, strerror(errno));
        return;
    }
    double write_us = measure_write(fd, dir, errfile);
    if (write_us <= 0) return;
    srand(12345); /* fixed: the same kill schedule every run */
    int mid_write = 0, after = 0, done = 0, nprev = 0;
    char prev[MAX_STRAYS][256], now[MAX_STRAYS][256];
    for (int t = 0; t < trials; t++) {
        int k = 2 + rand() % 3, renames;
        double delay = 2.0 * write_us * rand() / RAND_MAX;
        if (!strike(fd, dir, errfile, t + 2, k, delay, &renames)) {
            fail("trial %d: the run never wrote checkpoint %d", t, k);
            break;
        }
        done++;
        /* the checkpoint is the last one renamed into place: the write
         * in progress left it as it was, or had just replaced it */
        int e = load_epoch(out);
        if (getenv("FAULTS_DEBUG"))
            printf("trial %d: k %d delay %.1f ms renames %d -> epoch %d\n",
                   t, k, delay / 1e3, renames, e);
        if (e != renames || renames < k - 1)
            fail("trial %d: %s holds epoch %d (load: %s), but %d were "
                 "renamed into place", t, out, e,
                 e < 0 ? advc_last_error() : "ok", renames);
        char rs[600];
        snprintf(rs, sizeof rs, "%s.resume", out);
        if (!resume_whole(rs))
            fail("trial %d: %s does not read: %s", t, rs, advc_last_error());
        int n = list_temps(dir, now, MAX_STRAYS);
        if (n > 0) mid_write++;
        else after++;
        /* temporaries a killed run left are gone now: this run wrote
         * checkpoint 1 (k >= 2) after they were left */
        for (int i = 0; i < nprev; i++)
            for (int j = 0; j < n; j++)
                if (!strcmp(prev[i], now[j]))
                    fail("trial %d: stray %s survived the next write", t,
                         now[j]);
        memcpy(prev, now, sizeof now);
        nprev = n;
    }
    /* a clean run afterwards leaves the checkpoint and nothing else */
    pid_t pid = start_train(dir, KILL_MODEL, 1, 1, errfile);
    int status;
    waitpid(pid, &status, 0);
    if (list_temps(dir, now, MAX_STRAYS) != 0)
        fail("a clean run left %s behind", now[0]);
    close(fd);
    printf("faults: %d SIGKILLs 0-%.0f ms after a checkpoint write began "
           "(a write takes %.0f ms): %d mid-write, leaving the previous "
           "checkpoint and a temporary; %d after the rename, leaving the new "
           "one; every checkpoint loadable and the one last renamed, every "
           "resume file whole; every temporary gone after the next write\n",
           done,
           2.0 * write_us / 1e3, write_us / 1e3, mid_write, after);
    if (done < trials) fail("only %d of %d trials completed", done, trials);
}

static void full_disk_test(const char *dir)
{
    if (mount("tmpfs", dir, "tmpfs", 0, "size=" DISK_SIZE) != 0) {
        printf("SKIP faults/full-disk: cannot mount a %s tmpfs on %s (%s; "
               "needs root)\n", DISK_SIZE, dir, strerror(errno));
        return;
    }
    char errfile[512], out[512], named[520], rs[520];
    snprintf(errfile, sizeof errfile, "%s/../disk.err", dir);
    snprintf(out, sizeof out, "%s/m.advc", dir);
    snprintf(named, sizeof named, "%s: ", out); /* the message's subject */
    snprintf(rs, sizeof rs, "%s.resume", out);
    pid_t pid = start_train(dir, DISK_MODEL, 3, 1, errfile);
    int status;
    waitpid(pid, &status, 0);
    FILE *f = fopen(errfile, "r");
    char line[1024] = "", last[1024] = "";
    while (f && fgets(line, sizeof line, f)) strcpy(last, line);
    if (f) fclose(f);
    char temps[MAX_STRAYS][256];
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail("full disk: advc train ended with status 0x%x", status);
    else if (!strstr(last, named) || !strstr(last, "No space left") ||
             strchr(last, '\n') != last + strlen(last) - 1)
        fail("full disk: the last line does not name %s and the cause: %s",
             out, last);
    else if (load_epoch(out) != 1)
        fail("full disk: %s does not hold epoch 1", out);
    else if (!resume_whole(rs))
        fail("full disk: %s does not read: %s", rs, advc_last_error());
    else if (list_temps(dir, temps, MAX_STRAYS) != 0)
        fail("full disk: %s left behind", temps[0]);
    else
        printf("faults: full disk (%s tmpfs): exit 1, %s", DISK_SIZE, last);
    umount(dir);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: advc-faults ADVC DATA [TRIALS]\n");
        return 2;
    }
    prog = argv[1];
    data = argv[2];
    int trials = argc > 3 ? atoi(argv[3]) : 60;
    const char *base = getenv("TMPDIR");
    char root[256], kdir[300], ddir[300];
    snprintf(root, sizeof root, "%s/advc-faults-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(root)) {
        perror("faults: mkdtemp");
        return 1;
    }
    snprintf(kdir, sizeof kdir, "%s/kill", root);
    snprintf(ddir, sizeof ddir, "%s/disk", root);
    mkdir(kdir, 0700);
    mkdir(ddir, 0700);
    kill_test(kdir, trials);
    full_disk_test(ddir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "faults: could not remove %s\n",
                                  root);
    if (failures) printf("faults: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
