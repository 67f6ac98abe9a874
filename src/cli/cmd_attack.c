/* cmd_attack.c: `advc attack`: attack the first N test images of a data
 * directory with one attack and write what happened where people and
 * scripts can look at it:
 *   grid.png         one row per image: clean | perturbation | adversarial,
 *                    blown up, each captioned with label, prediction and
 *                    softmax confidence (the FGSM paper's "panda" figure)
 *   clean.npy        float32 (n, c, h, w) clean images
 *   adv.npy          float32 (n, c, h, w) adversarial images
 *   labels.npy       int32 (n) true labels
 *   pred_clean.npy   int32 (n) final-exit predictions on clean images
 *   pred_adv.npy     int32 (n) final-exit predictions on adversarial ones
 * and prints clean / adversarial accuracy on those images.  Not here:
 * accuracy over a whole test set with several attacks (advc eval).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "advc/advc.h"
#include "advc/attack.h"
#include "advc/image.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc attack --model FILE --data DIR --attack NAME [options]\n"
    "\n"
    "Attacks the first N test images of DIR and writes into --out:\n"
    "  grid.png        one row per image: clean | perturbation | adversarial\n"
    "                  (perturbation shown as 0.5 + delta / (2 eps); pgd-l2:\n"
    "                  eps = the image's largest |delta|), with\n"
    "                  'y=<label> p=<prediction> <confidence>%' captions\n"
    "  clean.npy, adv.npy             float32 (n, c, h, w) images\n"
    "  labels.npy, pred_clean.npy, pred_adv.npy   int32 (n)\n"
    "and prints the clean and adversarial accuracy on those images.\n"
    "\n"
    "  --model FILE      a checkpoint written by advc train\n"
    "  --data DIR        MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --attack NAME     fgsm, pgd, pgd-l2, cw, apgd-ce, apgd-dlr, apgd-t,\n"
    "                    noise\n"
    "  --eps X           budget (default 0.3 L-inf; pgd-l2 2.0 L2)\n"
    "  --steps K         iterations (default: the attack's, e.g. pgd 40)\n"
    "  --step-size X     per-step size (default: the attack's rule)\n"
    "  --restarts R      random restarts (default 1)\n"
    "  --seed S          seed for random starts (default 1)\n"
    "  --limit N         attack the first N test images (default 16)\n"
    "  --start I         begin at test image I (default 0)\n"
    "  --out DIR         output directory, created if missing\n"
    "                    (default attack-out)\n"
    "  --scale K         grid.png blows pixels up K times (default 4)\n"
    "  --grid-rows R     at most R rows in grid.png (default 32; 0: no\n"
    "                    grid); the .npy files always hold all N images\n"
    "  --batch B         images per attack batch (default 128)\n"
    "  --threads T       worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  -h, --help        this text\n";

#define PAD 8 /* pixels between grid elements */

static const advc_rgb white = { 255, 255, 255 }, black = { 0, 0, 0 };
static const advc_rgb border = { 190, 190, 190 };
static const advc_rgb right_col = { 0, 120, 0 }, wrong_col = { 200, 0, 0 };

/* ---- helpers ------------------------------------------------------------- */

/* mkdir -p: creates every missing directory along path. */
static int make_dirs(const char *path)
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

/* Argmax and its softmax probability for one row of logits. */
static void predict_row(const float *z, int c, int *pred, float *conf)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (z[j] > z[best]) best = j;
    double sum = 0;
    for (int j = 0; j < c; j++) sum += exp((double)z[j] - (double)z[best]);
    *pred = best;
    *conf = (float)(1.0 / sum);
}

/* Final-exit predictions of g on n inputs, batch by batch. */
static void predict(advc_graph *g, const float *x, int n, size_t per,
                    int *pred, float *conf)
{
    int b = advc_graph_batch(g), c = advc_graph_classes(g);
    int last = advc_graph_num_exits(g) - 1;
    for (int lo = 0; lo < n; lo += b) {
        int k = n - lo < b ? n - lo : b;
        advc_graph_forward(g, x + (size_t)lo * per, k, ADVC_MODE_EVAL);
        const float *z = advc_graph_logits(g, last);
        for (int i = 0; i < k; i++)
            predict_row(z + (size_t)i * c, c, &pred[lo + i], &conf[lo + i]);
    }
}

/* ---- grid.png ------------------------------------------------------------ */

typedef struct {
    int n;                      /* rows drawn                              */
    int c, h, w, scale;
    const float *clean, *adv;   /* (n, c, h, w)                            */
    const int *y, *pc, *pa;     /* labels, predictions clean / adversarial */
    const float *cc, *ca;       /* confidences                             */
    const advc_attack_config *cfg;
    const char *footer;
} grid_spec;

/* ||x_adv - x||_2 of row r. */
static double row_l2(const grid_spec *gs, int r)
{
    size_t per = (size_t)gs->c * gs->h * gs->w;
    const float *xc = gs->clean + (size_t)r * per;
    const float *xa = gs->adv + (size_t)r * per;
    double sq = 0;
    for (size_t i = 0; i < per; i++) {
        double d = (double)xa[i] - (double)xc[i];
        sq += d * d;
    }
    return sqrt(sq);
}

/* The caption under column k (0 clean, 1 perturbation, 2 adversarial)
 * of row r. */
static void caption(const grid_spec *gs, int r, int k, char *out,
                    size_t outsz)
{
    if (k == 0)
        snprintf(out, outsz, "y=%d p=%d %.0f%%", gs->y[r], gs->pc[r],
                 100.0 * gs->cc[r]);
    else if (k == 2)
        snprintf(out, outsz, "p=%d %.0f%%", gs->pa[r], 100.0 * gs->ca[r]);
    else if (gs->cfg->kind == ADVC_ATK_PGD_L2)
        snprintf(out, outsz, "L2=%.3g", row_l2(gs, r));
    else
        snprintf(out, outsz, "eps=%.3g", (double)gs->cfg->eps);
}

static advc_status write_grid(const char *path, const grid_spec *gs)
{
    size_t per = (size_t)gs->c * gs->h * gs->w;
    int img_w = gs->w * gs->scale, img_h = gs->h * gs->scale;
    /* Captions at twice the font size when the images are blown up
     * enough to go with it; cells widen to the widest caption. */
    int ts = gs->scale >= 3 ? 2 : 1;
    int ch = ADVC_FONT_CELL_H * ts;
    const char *titles[3] = { "clean", "perturbation", "adversarial" };
    int cell_w = img_w;
    for (int k = 0; k < 3; k++)
        if (advc_text_width(titles[k], ts) > cell_w)
            cell_w = advc_text_width(titles[k], ts);
    for (int r = 0; r < gs->n; r++)
        for (int k = 0; k < 3; k++) {
            char cap[48];
            caption(gs, r, k, cap, sizeof cap);
            int tw = advc_text_width(cap, ts);
            if (tw > cell_w) cell_w = tw;
        }
    int gap = advc_text_width("=", 2) + 2 * PAD; /* room for "+" and "=" */
    int header_h = ch + PAD;
    int row_h = img_h + 2 + PAD / 2 + ch + PAD;
    int W = PAD + 3 * cell_w + 2 * gap + PAD;
    int fw = advc_text_width(gs->footer, 1) + 2 * PAD;
    if (fw > W) W = fw;
    int H = PAD + header_h + gs->n * row_h + ADVC_FONT_CELL_H + PAD;

    advc_image im;
    advc_status s = advc_image_init(&im, W, H, 3, white);
    if (s != ADVC_OK) return s;
    int col_x[3];
    for (int k = 0; k < 3; k++) {
        col_x[k] = PAD + k * (cell_w + gap);
        int tw = advc_text_width(titles[k], ts);
        advc_image_text(&im, col_x[k] + (cell_w - tw) / 2, PAD, titles[k],
                        ts, black);
    }
    float *pert = malloc(per * sizeof *pert);
    if (!pert) {
        advc_image_free(&im);
        return advc_set_error(ADVC_ERR_NOMEM, "grid: out of memory");
    }
    bool l2 = gs->cfg->kind == ADVC_ATK_PGD_L2;
    for (int r = 0; r < gs->n; r++) {
        const float *xc = gs->clean + (size_t)r * per;
        const float *xa = gs->adv + (size_t)r * per;
        /* L-inf: delta / eps is in [-1, 1]; L2: scale by the largest
         * |delta| of this image instead, and caption the L2 norm. */
        double maxabs = 0;
        for (size_t i = 0; i < per; i++) {
            double d = (double)xa[i] - (double)xc[i];
            if (fabs(d) > maxabs) maxabs = fabs(d);
        }
        double sc = l2 ? maxabs : (double)gs->cfg->eps;
        if (!(sc > 0)) sc = 1;
        for (size_t i = 0; i < per; i++)
            pert[i] = (float)(0.5 + ((double)xa[i] - (double)xc[i]) /
                                        (2 * sc));
        int y0 = PAD + header_h + r * row_h;
        const float *imgs[3] = { xc, pert, xa };
        for (int k = 0; k < 3; k++) {
            int x0 = col_x[k] + (cell_w - img_w) / 2;
            advc_image_rect(&im, x0 - 1, y0 - 1, img_w + 2, img_h + 2, border);
            advc_image_draw_chw(&im, x0, y0, imgs[k], gs->c, gs->h, gs->w,
                                gs->scale);
        }
        /* "+" and "=" between the columns, like x + eta = x_adv. */
        int sy = y0 + img_h / 2 - ADVC_FONT_CELL_H;
        advc_image_text(&im, col_x[0] + cell_w + PAD, sy, "+", 2, black);
        advc_image_text(&im, col_x[1] + cell_w + PAD, sy, "=", 2, black);
        char cap[3][48];
        for (int k = 0; k < 3; k++)
            caption(gs, r, k, cap[k], sizeof cap[k]);
        advc_rgb colors[3] = { gs->pc[r] == gs->y[r] ? right_col : wrong_col,
                               black,
                               gs->pa[r] == gs->y[r] ? right_col : wrong_col };
        for (int k = 0; k < 3; k++) {
            int tw = advc_text_width(cap[k], ts);
            advc_image_text(&im, col_x[k] + (cell_w - tw) / 2,
                            y0 + img_h + 2 + PAD / 2, cap[k], ts, colors[k]);
        }
    }
    advc_image_text(&im, PAD, H - PAD - ADVC_FONT_CELL_H + 1, gs->footer, 1,
                    black);
    free(pert);
    s = advc_image_write_png(path, &im);
    advc_image_free(&im);
    return s;
}

/* ---- the command --------------------------------------------------------- */

/* The arrays written, in this order: clean and adversarial images, then
 * labels and the two prediction vectors. */
static const char *const npy_names[5] = {
    "clean.npy", "adv.npy", "labels.npy", "pred_clean.npy", "pred_adv.npy"
};

/* An int vector as an int32 .npy (int may be wider than 32 bits). */
static advc_status write_ints(const char *path, const int *v, int n)
{
    int32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!t) return advc_set_error(ADVC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) t[i] = (int32_t)v[i];
    size_t shape[1] = { (size_t)n };
    advc_status s = advc_npy_write(path, ADVC_NPY_I32, t, 1, shape);
    free(t);
    return s;
}

int cmd_attack(int argc, char **argv)
{
    const char *cmd = "attack", *model = NULL, *data_dir = NULL;
    const char *attack = NULL, *out_dir = "attack-out";
    int limit = 16, start = 0, scale = 4, grid_rows = 32, batch = 128;
    int threads = 0, steps = -1, restarts = -1;
    float eps = -1, step_size = -1;
    uint64_t seed = 1;
    enum { O_STEPS = 256, O_STEPSIZE, O_RESTARTS, O_START, O_SCALE, O_GRID };
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "data", required_argument, NULL, 'd' },
        { "attack", required_argument, NULL, 'a' },
        { "eps", required_argument, NULL, 'e' },
        { "steps", required_argument, NULL, O_STEPS },
        { "step-size", required_argument, NULL, O_STEPSIZE },
        { "restarts", required_argument, NULL, O_RESTARTS },
        { "seed", required_argument, NULL, 'S' },
        { "limit", required_argument, NULL, 'L' },
        { "start", required_argument, NULL, O_START },
        { "out", required_argument, NULL, 'o' },
        { "scale", required_argument, NULL, O_SCALE },
        { "grid-rows", required_argument, NULL, O_GRID },
        { "batch", required_argument, NULL, 'b' },
        { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'a': attack = optarg; break;
        case 'e': ok = cli_float(cmd, "eps", optarg, 0, 1e6, &eps); break;
        case O_STEPS:
            ok = cli_int(cmd, "steps", optarg, 1, 1000000, &steps);
            break;
        case O_STEPSIZE:
            ok = cli_float(cmd, "step-size", optarg, 0, 1e6, &step_size);
            break;
        case O_RESTARTS:
            ok = cli_int(cmd, "restarts", optarg, 1, 100000, &restarts);
            break;
        case 'S': ok = cli_u64(cmd, "seed", optarg, &seed); break;
        case 'L':
            ok = cli_int(cmd, "limit", optarg, 1, 100000000, &limit);
            break;
        case O_START:
            ok = cli_int(cmd, "start", optarg, 0, 100000000, &start);
            break;
        case 'o': out_dir = optarg; break;
        case O_SCALE: ok = cli_int(cmd, "scale", optarg, 1, 32, &scale); break;
        case O_GRID:
            ok = cli_int(cmd, "grid-rows", optarg, 0, 10000, &grid_rows);
            break;
        case 'b': ok = cli_int(cmd, "batch", optarg, 1, 65536, &batch); break;
        case 't':
            ok = cli_int(cmd, "threads", optarg, 1, 1024, &threads);
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
        if (!ok) return 2;
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!model) return cli_usage_error(cmd, "--model FILE is required");
    if (!data_dir) return cli_usage_error(cmd, "--data DIR is required");
    if (!attack) return cli_usage_error(cmd, "--attack NAME is required");
    advc_attack_kind kind = advc_attack_parse(attack);
    if (kind == ADVC_ATK_COUNT) {
        char m[200];
        snprintf(m, sizeof m, "unknown attack '%s'", attack);
        return cli_usage_error(cmd, m);
    }
    advc_attack_config cfg = advc_attack_defaults(kind);
    if (eps >= 0) cfg.eps = eps;
    if (steps > 0) cfg.steps = steps;
    if (step_size >= 0) cfg.step_size = step_size;
    if (restarts > 0) cfg.restarts = restarts;
    cfg.seed = seed;

    advc_dataset all, d;
    memset(&d, 0, sizeof d);
    if (advc_dataset_load_dir(data_dir, false, &all) != ADVC_OK)
        return cli_fail(cmd);
    if (start >= all.n) {
        fprintf(stderr, "advc attack: --start %d is past the end of %s's "
                "test split (%d images)\n", start, data_dir, all.n);
        advc_dataset_free(&all);
        return 2;
    }
    int n = all.n - start < limit ? all.n - start : limit;
    advc_status st = advc_dataset_slice(&all, start, start + n, &d);
    advc_dataset_free(&all);
    if (st != ADVC_OK) return cli_fail(cmd);

    advc_pool *pool = cli_pool(cmd, threads);
    advc_graph *g = NULL;
    advc_checkpoint head;
    int rc = 0;
    size_t per = (size_t)d.c * d.h * d.w;
    float *xadv = NULL, *conf_c = NULL, *conf_a = NULL;
    int *y = NULL, *pred_c = NULL, *pred_a = NULL;
    int b = batch < n ? batch : n;
    if (advc_model_load(model, b, pool, &g, &head) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != d.c || in.h != d.h || in.w != d.w) {
        fprintf(stderr, "advc attack: %s takes %dx%dx%d images but %s holds "
                "%dx%dx%d\n", model, in.c, in.h, in.w, data_dir, d.c, d.h,
                d.w);
        rc = 1;
        goto done;
    }
    xadv = malloc((size_t)n * per * sizeof *xadv);
    conf_c = malloc((size_t)n * sizeof *conf_c);
    conf_a = malloc((size_t)n * sizeof *conf_a);
    y = malloc((size_t)n * sizeof *y);
    pred_c = malloc((size_t)n * sizeof *pred_c);
    pred_a = malloc((size_t)n * sizeof *pred_a);
    if (!xadv || !conf_c || !conf_a || !y || !pred_c || !pred_a) {
        fprintf(stderr, "advc attack: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 0; i < n; i++) y[i] = d.y[i];

    double t0 = advc_now();
    for (int lo = 0; lo < n; lo += b) {
        int k = n - lo < b ? n - lo : b;
        if (advc_attack_run(g, &cfg, d.x + (size_t)lo * per, y + lo, k,
                            xadv + (size_t)lo * per) != ADVC_OK) {
            rc = cli_fail(cmd);
            goto done;
        }
    }
    double secs = advc_now() - t0;
    predict(g, d.x, n, per, pred_c, conf_c);
    predict(g, xadv, n, per, pred_a, conf_a);

    int right_c = 0, right_a = 0;
    double linf = 0, l2max = 0;
    for (int i = 0; i < n; i++) {
        right_c += pred_c[i] == y[i];
        right_a += pred_a[i] == y[i];
        double sq = 0;
        for (size_t j = 0; j < per; j++) {
            double dd = (double)xadv[(size_t)i * per + j] -
                        (double)d.x[(size_t)i * per + j];
            if (fabs(dd) > linf) linf = fabs(dd);
            sq += dd * dd;
        }
        if (sqrt(sq) > l2max) l2max = sqrt(sq);
    }

    if (make_dirs(out_dir) != 0) {
        rc = cli_fail(cmd);
        goto done;
    }
    /* step=: only when set; 0 means the attack's own rule (FGSM: eps,
     * APGD: its schedule, pgd-l2: 2.5 eps / steps). */
    char settings[256], step[48] = "";
    if (cfg.step_size > 0)
        snprintf(step, sizeof step, " step=%g", (double)cfg.step_size);
    snprintf(settings, sizeof settings, "%s eps=%g steps=%d%s restarts=%d "
             "seed=%llu", advc_attack_name(kind), (double)cfg.eps, cfg.steps,
             step, cfg.restarts, (unsigned long long)seed);
    char footer[320];
    snprintf(footer, sizeof footer, "%s  clean %d/%d  adv %d/%d", settings,
             right_c, n, right_a, n);
    char path[4200];
    int rows = n < grid_rows ? n : grid_rows;
    if (rows > 0) {
        grid_spec gs = { rows, d.c, d.h, d.w, scale, d.x, xadv, y, pred_c,
                         pred_a, conf_c, conf_a, &cfg, footer };
        snprintf(path, sizeof path, "%s/grid.png", out_dir);
        if (write_grid(path, &gs) != ADVC_OK) {
            rc = cli_fail(cmd);
            goto done;
        }
    }
    size_t shape[4] = { (size_t)n, (size_t)d.c, (size_t)d.h, (size_t)d.w };
    const float *arrays[2] = { d.x, xadv };
    const int *ints[3] = { y, pred_c, pred_a };
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", out_dir, npy_names[k]);
        advc_status ws = k < 2 ? advc_npy_write(path, ADVC_NPY_F32,
                                                arrays[k], 4, shape)
                               : write_ints(path, ints[k - 2], n);
        if (ws != ADVC_OK) {
            rc = cli_fail(cmd);
            goto done;
        }
    }

    printf("model %s (%s, act %s) on %s, test images %d..%d (n=%d)\n", model,
           head.spec, head.act, data_dir, start, start + n - 1, n);
    printf("attack %s, %.2fs\n", settings, secs);
    printf("clean accuracy        %6.2f%% (%d/%d)\n", 100.0 * right_c / n,
           right_c, n);
    printf("adversarial accuracy  %6.2f%% (%d/%d)\n", 100.0 * right_a / n,
           right_a, n);
    if (kind == ADVC_ATK_PGD_L2)
        printf("largest L2 distance   %.4f (budget %g)\n", l2max,
               (double)cfg.eps);
    else
        printf("largest L-inf distance %.4f (budget %g)\n", linf,
               (double)cfg.eps);
    if (rows > 0) printf("wrote %s/grid.png (%d rows)\n", out_dir, rows);
    for (int k = 0; k < 5; k++) printf("wrote %s/%s\n", out_dir, npy_names[k]);
    if (rows < n)
        printf("grid.png shows the first %d of %d images (--grid-rows)\n",
               rows, n);
done:
    free(xadv);
    free(conf_c);
    free(conf_a);
    free(y);
    free(pred_c);
    free(pred_a);
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&d);
    return rc;
}
