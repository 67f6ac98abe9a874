/* util.c: scratch files and strings for the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_SLOTS 4 /* most files one input is split into (IDX: 2) */

static char dir[256];
static char paths[FUZZ_SLOTS][300];
static int fds[FUZZ_SLOTS] = { -1, -1, -1, -1 };

static void cleanup(void)
{
    for (int i = 0; i < FUZZ_SLOTS; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            unlink(paths[i]);
        }
    if (dir[0]) rmdir(dir);
}

/* Creates the private directory once: /dev/shm keeps the writes in
 * memory, which matters at millions of inputs. */
static void make_dir(void)
{
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)
                           ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/advc-fuzz-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(cleanup);
}

const char *fuzz_file(int slot, const uint8_t *data, size_t n)
{
    if (slot < 0 || slot >= FUZZ_SLOTS) abort();
    if (!dir[0]) make_dir();
    if (fds[slot] < 0) {
        snprintf(paths[slot], sizeof paths[slot], "%s/in%d", dir, slot);
        fds[slot] = open(paths[slot], O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fds[slot] < 0) {
            perror("fuzz: open");
            abort();
        }
    }
    if (ftruncate(fds[slot], 0) != 0 ||
        (n && pwrite(fds[slot], data, n, 0) != (ssize_t)n)) {
        perror("fuzz: write");
        abort();
    }
    return paths[slot];
}

char *fuzz_string(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}
