/* cli_util.c: the one-line error formats of the CLI, the thread pool with
 * its error, and small path helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli_util.h"

int cli_fail(const char *cmd)
{
    fprintf(stderr, "advc %s: %s\n", cmd, advc_last_error());
    /* A bad value given on the command line (a model spec, say) is a
     * usage error like a bad flag: 2.  Bad files and the rest: 1. */
    return advc_last_status() == ADVC_ERR_ARG ? 2 : 1;
}

int cli_usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "advc %s: %s (see advc %s --help)\n", cmd, what, cmd);
    return 2;
}

int cli_check_first(const char *cmd, int first, const char *data, int n)
{
    if (first < n) return 0;
    fprintf(stderr, "advc %s: bad value '%d' for --first: past the end of "
            "%s's test split (%d images)\n", cmd, first, data, n);
    return 2;
}

advc_pool *cli_pool(const char *cmd, int threads)
{
    advc_pool *p = advc_pool_create(threads);
    if (!p) exit(cli_fail(cmd));
    return p;
}

/* mkdir -p: creates every missing directory along path. */
int cli_make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        advc_set_error(ADVC_ERR_ARG, "bad output directory '%s'", path);
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            advc_set_error(ADVC_ERR_IO, "cannot create directory '%s': %s",
                           buf, strerror(errno));
            return -1;
        }
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        advc_set_error(ADVC_ERR_IO, "'%s' is not a directory", path);
        return -1;
    }
    return 0;
}

bool cli_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void cli_dir_name(const char *path, char *buf, size_t bufsz)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    snprintf(buf, bufsz, "%.*s", (int)(n - b), path + b);
}

/* The checkpoint's data_test fingerprint against the split we have. */
static void warn_data(const char *cmd, const char *path,
                      const advc_checkpoint *head, const char *dir,
                      const advc_dataset *test)
{
    char want[64], have[64], name[128] = "";
    if (!advc_meta_get(head->meta, "data_test", want, sizeof want)) return;
    advc_dataset_fingerprint(test, have, sizeof have);
    if (strcmp(want, have) == 0) return;
    advc_meta_get(head->meta, "data", name, sizeof name);
    fprintf(stderr, "advc %s: warning: %s was trained on %s%s(test split "
            "%s), but the test split in %s differs (%s)\n", cmd, path,
            name[0] ? name : "other data", name[0] ? " " : "", want, dir,
            have);
}

int cli_open(cli_session *s, const char *cmd, const char *path,
             const char *dir, int batch, int threads)
{
    memset(s, 0, sizeof *s);
    s->pool = cli_pool(cmd, threads);
    if (advc_dataset_load_dir(dir, false, &s->test) != ADVC_OK)
        return cli_fail(cmd);
    /* A comma list of checkpoints is an ensemble (averaged logits). */
    advc_status st = strchr(path, ',')
        ? advc_ensemble_load(path, batch, s->pool, &s->g, &s->head)
        : advc_model_load(path, batch, s->pool, &s->g, &s->head);
    if (st != ADVC_OK) return cli_fail(cmd);
    advc_shape in = advc_graph_input_shape(s->g);
    const advc_dataset *t = &s->test;
    if (in.c != t->c || in.h != t->h || in.w != t->w) {
        fprintf(stderr, "advc %s: %s takes %dx%dx%d images but %s holds "
                "%dx%dx%d\n", cmd, path, in.c, in.h, in.w, dir, t->c, t->h,
                t->w);
        return 1;
    }
    warn_data(cmd, path, &s->head, dir, t);
    return 0;
}

void cli_close(cli_session *s)
{
    advc_graph_free(s->g);
    advc_pool_destroy(s->pool);
    advc_dataset_free(&s->test);
    memset(s, 0, sizeof *s);
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}
