/* cmd_train.c: `advc train`: build a model from a spec, train it on a data
 * directory with a recipe (std, fgsm, fgsm-rs, pgd, free, trades, me-fgsm;
 * src/adv/recipes.c), write the last and best checkpoints (every epoch,
 * temp file + rename) and an optional CSV log.  Flag values are checked by
 * the library (advc_train_check) before any training: a bad one is a
 * one-line error and exit status 2. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advc/advc.h"
#include "advc/data.h"
#include "advc/train.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc train --data DIR --model SPEC [options]\n"
    "\n"
    "Trains a model and writes it to --out after every epoch.\n"
    "\n"
    "  --data DIR        MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --model SPEC      name[:key=value,...], see the list below\n"
    "  --act A           activation: relu (default), softplus, psoftplus:A,\n"
    "                    silu, gelu, elu, sigmoid, tanh\n"
    "  --epochs N        passes over the training set (default 1)\n"
    "  --batch B         batch size (default 128)\n"
    "  --opt sgd|adam    optimizer (default adam)\n"
    "  --lr X            (peak) learning rate (default 2e-3 adam, 0.05 sgd)\n"
    "  --momentum X      SGD momentum (default 0.9)\n"
    "  --nesterov        SGD with Nesterov momentum\n"
    "  --schedule S      constant (default), step:E1,E2[@G], cosine,\n"
    "                    cyclic[:F] (linear up to the peak at fraction F of\n"
    "                    training, default 0.4, then down to 0)\n"
    "  --wd X            L2 weight decay on weights (default 0)\n"
    "  --val N           hold out the last N training images (default 0)\n"
    "  --limit N         train on the first N training images only\n"
    "  --init I          he: N(0, 2/fan_in) weights, zero biases;\n"
    "                    uniform: U(+-1/sqrt(fan_in)) weights and biases\n"
    "                    (PyTorch's layer default).  Default: uniform for\n"
    "                    linear, mlp, maxout, cnn-small, cnn (as the fast-AT\n"
    "                    and TRADES scripts), he for resnet and msdnet\n"
    "  --seed S          seed for init, shuffling, dropout (default 1)\n"
    "  --threads T       worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  --out FILE        checkpoint (default model.advc)\n"
    "  --log FILE.csv    per-epoch CSV: epoch,lr,loss,train_acc,val_acc,\n"
    "                    clean_acc,fgsm_acc,pgd_acc,seconds (the last three on\n"
    "                    the guard batch; empty when not measured)\n"
    "  -h, --help        this text\n"
    "\n";

static const char usage_adv[] =
    "Adversarial training (background.md sections 1-5):\n"
    "  --recipe R        std (default): CE(x)\n"
    "                    fgsm: a CE(x) + (1-a) CE(x_fgsm) (Goodfellow et al.)\n"
    "                    fgsm-rs: FGSM from a random start (Wong et al.)\n"
    "                    pgd: PGD-k adversarial training (Madry et al.)\n"
    "                    free: each batch replayed m times, one update per\n"
    "                      replay, delta kept across batches (Shafahi et al.);\n"
    "                      runs ceil(epochs/m) epochs so the cost matches\n"
    "                    trades: CE(x) + beta KL(f(x)||f(x_adv)) (Zhang et al.)\n"
    "                    me-fgsm: multi-exit FGSM-RS + per-exit L2 on each\n"
    "                      exit's FC weights (Chen et al.; msdnet models)\n"
    "  --eps X           L-inf budget, also of the guard (default 0.3, MNIST;\n"
    "                    a fraction like 8/255 is accepted)\n"
    "  --step-size X     attack step: fgsm, free eps; fgsm-rs, me-fgsm 1.25 eps;\n"
    "                    pgd, trades 2.5 eps/steps\n"
    "  --steps K         pgd (default 7; Madry's MNIST: --steps 40\n"
    "                    --step-size 0.01), trades (default 10)\n"
    "  --alpha A         fgsm: weight of the clean loss (default 0.5)\n"
    "  --beta B          trades: weight of the KL term (default 6, the paper's\n"
    "                    1/lambda; the reference MNIST script uses 1)\n"
    "  --replays M       free: replays per batch (default 8)\n"
    "  --no-random-start me-fgsm: plain FGSM (step eps) instead of FGSM-RS\n"
    "  --adv-mode M      train|eval: model mode while making training attacks\n"
    "                    (default: train; trades: eval, as their code does)\n"
    "  --attack-grad R   SAT ablation: ReLU's derivative in the training\n"
    "                    attacks' backward passes, e.g. psoftplus:10\n"
    "  --update-grad R   ... in the parameter-update backward passes.\n"
    "                    Both need --act relu, are recorded in the checkpoint\n"
    "                    and are NOT applied when the model is evaluated (the\n"
    "                    guard and advc eval attack the real model)\n"
    "  --exit-l2 LIST    per-exit L2 on exit<i>.fc.w, one value per exit, e.g.\n"
    "                    0.1,0.1,0.1,0.15,0.15 (me-fgsm default: 0.1 for the\n"
    "                    first three exits, 0.15 after); multi-exit models only\n"
    "\n"
    "Catastrophic-overfitting guard (every recipe, std included):\n"
    "  --guard-batch N   held-out images attacked after each epoch (default\n"
    "                    512, at most a tenth of the training images; 0: off).\n"
    "                    Taken from the front of the --val split, else from\n"
    "                    the end of the training images, which are then not\n"
    "                    trained on\n"
    "  --guard-steps K   PGD-K, step 2.5 eps/K, one restart (default 10)\n"
    "  --co-threshold X  stop when held-out PGD accuracy falls more than X\n"
    "                    below the best epoch's (default 0.2 = 20 points)\n"
    "  --co-warn         warn and go on instead of stopping\n"
    "The best epoch by held-out PGD accuracy is also saved with .best before\n"
    "the extension (model.advc -> model.best.advc). On a stop, --out keeps\n"
    "the epoch before the collapse.\n"
    "\n";

enum {
    OPT_NESTEROV = 256, OPT_RECIPE, OPT_EPS, OPT_STEP_SIZE, OPT_STEPS,
    OPT_ALPHA, OPT_BETA, OPT_REPLAYS, OPT_NO_RS, OPT_ADV_MODE,
    OPT_ATTACK_GRAD, OPT_UPDATE_GRAD, OPT_EXIT_L2, OPT_GUARD_BATCH,
    OPT_GUARD_STEPS, OPT_CO_THRESHOLD, OPT_CO_WARN, OPT_INIT
};

/* --eps: a number or a fraction "a/b", in (0, 1]. */
static bool parse_eps(const char *cmd, const char *s, float *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '/') {
        const char *q = end + 1;
        double den = strtod(q, &end);
        v = end != q && den != 0 ? v / den : -1;
    }
    if (*s == '\0' || *end != '\0' || !(v > 0 && v <= 1)) {
        fprintf(stderr, "advc %s: bad value '%s' for --eps (want 0 < eps <= "
                "1, e.g. 0.3 or 8/255)\n", cmd, s);
        return false;
    }
    *out = (float)v;
    return true;
}

static bool parse_rule(const char *cmd, const char *flag, const char *s,
                       advc_act_spec *out)
{
    if (advc_grad_rule_parse(s, out) == ADVC_OK) return true;
    fprintf(stderr, "advc %s: bad value '%s' for --%s: %s\n", cmd, s, flag,
            advc_last_error());
    return false;
}

/* "epoch 7 (held-out clean 98.0%, FGSM 91.0%, PGD 89.0%)" */
static void print_point(const char *what, const advc_guard_point *p,
                        const char *path)
{
    fprintf(stderr, "advc train: %s epoch %d (held-out clean %.1f%%, FGSM "
            "%.1f%%, PGD %.1f%%)%s%s\n", what, p->epoch, 100.0 * p->clean,
            100.0 * p->fgsm, 100.0 * p->pgd, path ? " in " : "",
            path ? path : "");
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train", *data_dir = NULL, *spec = NULL;
    const char *act_s = "relu", *opt_s = "adam", *sched_s = "constant";
    const char *out = "model.advc", *log = NULL;
    int epochs = 1, batch = 128, threads = 0, val = 0, limit = 0;
    int lr_set = 0, nesterov = 0;
    float lr = 0, momentum = 0.9f, wd = 0;
    uint64_t seed = 1;
    advc_train_config cfg = advc_train_defaults();
    const char *recipe_s = "std", *init_s = NULL;
    static const struct option longopts[] = {
        { "recipe", required_argument, NULL, OPT_RECIPE },
        { "eps", required_argument, NULL, OPT_EPS },
        { "step-size", required_argument, NULL, OPT_STEP_SIZE },
        { "steps", required_argument, NULL, OPT_STEPS },
        { "alpha", required_argument, NULL, OPT_ALPHA },
        { "beta", required_argument, NULL, OPT_BETA },
        { "replays", required_argument, NULL, OPT_REPLAYS },
        { "no-random-start", no_argument, NULL, OPT_NO_RS },
        { "adv-mode", required_argument, NULL, OPT_ADV_MODE },
        { "attack-grad", required_argument, NULL, OPT_ATTACK_GRAD },
        { "update-grad", required_argument, NULL, OPT_UPDATE_GRAD },
        { "exit-l2", required_argument, NULL, OPT_EXIT_L2 },
        { "guard-batch", required_argument, NULL, OPT_GUARD_BATCH },
        { "guard-steps", required_argument, NULL, OPT_GUARD_STEPS },
        { "co-threshold", required_argument, NULL, OPT_CO_THRESHOLD },
        { "co-warn", no_argument, NULL, OPT_CO_WARN },
        { "data", required_argument, NULL, 'd' },
        { "model", required_argument, NULL, 'm' },
        { "act", required_argument, NULL, 'a' },
        { "epochs", required_argument, NULL, 'e' },
        { "batch", required_argument, NULL, 'b' },
        { "opt", required_argument, NULL, 'o' },
        { "lr", required_argument, NULL, 'l' },
        { "momentum", required_argument, NULL, 'M' },
        { "nesterov", no_argument, NULL, OPT_NESTEROV },
        { "schedule", required_argument, NULL, 's' },
        { "wd", required_argument, NULL, 'w' },
        { "val", required_argument, NULL, 'v' },
        { "limit", required_argument, NULL, 'L' },
        { "seed", required_argument, NULL, 'S' },
        { "init", required_argument, NULL, OPT_INIT },
        { "threads", required_argument, NULL, 't' },
        { "out", required_argument, NULL, 'O' },
        { "log", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'm': spec = optarg; break;
        case 'a': act_s = optarg; break;
        case 'e': ok = cli_int(cmd, "epochs", optarg, 1, 100000, &epochs); break;
        case 'b': ok = cli_int(cmd, "batch", optarg, 1, 65536, &batch); break;
        case 'o': opt_s = optarg; break;
        case 'l':
            ok = cli_float(cmd, "lr", optarg, 0, 100, &lr);
            lr_set = 1;
            break;
        case 'M': ok = cli_float(cmd, "momentum", optarg, 0, 1, &momentum); break;
        case OPT_NESTEROV: nesterov = 1; break;
        case 's': sched_s = optarg; break;
        case 'w': ok = cli_float(cmd, "wd", optarg, 0, 10, &wd); break;
        case 'v': ok = cli_int(cmd, "val", optarg, 0, 100000000, &val); break;
        case 'L': ok = cli_int(cmd, "limit", optarg, 1, 100000000, &limit); break;
        case 'S': ok = cli_u64(cmd, "seed", optarg, &seed); break;
        case OPT_INIT: init_s = optarg; break;
        case 't': ok = cli_int(cmd, "threads", optarg, 1, 1024, &threads); break;
        case 'O': out = optarg; break;
        case 'g': log = optarg; break;
        case OPT_RECIPE:
            recipe_s = optarg;
            cfg.recipe = advc_recipe_parse(optarg);
            if (cfg.recipe == ADVC_RECIPE_COUNT) {
                fprintf(stderr, "advc train: bad value '%s' for --recipe "
                        "(std, fgsm, fgsm-rs, pgd, free, trades, me-fgsm)\n",
                        optarg);
                return 2;
            }
            break;
        case OPT_EPS: ok = parse_eps(cmd, optarg, &cfg.rc.eps); break;
        case OPT_STEP_SIZE:
            ok = cli_float(cmd, "step-size", optarg, 1e-6, 1,
                           &cfg.rc.step_size);
            break;
        case OPT_STEPS:
            ok = cli_int(cmd, "steps", optarg, 1, 10000, &cfg.rc.steps);
            break;
        case OPT_ALPHA:
            ok = cli_float(cmd, "alpha", optarg, 0, 1, &cfg.rc.alpha);
            break;
        case OPT_BETA:
            ok = cli_float(cmd, "beta", optarg, 0, 1e4, &cfg.rc.beta);
            break;
        case OPT_REPLAYS:
            ok = cli_int(cmd, "replays", optarg, 1, 1000, &cfg.rc.replays);
            break;
        case OPT_NO_RS: cfg.rc.no_random_start = true; break;
        case OPT_ADV_MODE:
            if (!strcmp(optarg, "train")) {
                cfg.rc.adv_mode = ADVC_ADV_MODE_TRAIN;
            } else if (!strcmp(optarg, "eval")) {
                cfg.rc.adv_mode = ADVC_ADV_MODE_EVAL;
            } else {
                fprintf(stderr, "advc train: bad value '%s' for --adv-mode "
                        "(train or eval)\n", optarg);
                return 2;
            }
            break;
        case OPT_ATTACK_GRAD:
            ok = parse_rule(cmd, "attack-grad", optarg, &cfg.rc.attack_grad);
            break;
        case OPT_UPDATE_GRAD:
            ok = parse_rule(cmd, "update-grad", optarg, &cfg.rc.update_grad);
            break;
        case OPT_EXIT_L2:
            if (advc_param_set(&advc_recipe_describe(ADVC_RECIPE_ME_FGSM)->params[6], &cfg.rc, optarg) != ADVC_OK) {
                fprintf(stderr, "advc train: %s\n", advc_last_error());
                return 2;
            }
            break;
        case OPT_GUARD_BATCH:
            ok = cli_int(cmd, "guard-batch", optarg, 0, 100000000,
                         &cfg.guard.count);
            break;
        case OPT_GUARD_STEPS:
            ok = cli_int(cmd, "guard-steps", optarg, 1, 10000,
                         &cfg.guard.steps);
            break;
        case OPT_CO_THRESHOLD:
            ok = cli_float(cmd, "co-threshold", optarg, 0, 1,
                           &cfg.guard.co_threshold);
            break;
        case OPT_CO_WARN: cfg.guard.co_warn = true; break;
        case 'h':
            fputs(usage, stdout);
            fputs(usage_adv, stdout);
            fputs(advc_model_usage(), stdout);
            return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
        if (!ok) return 2;
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!data_dir) return cli_usage_error(cmd, "--data DIR is required");
    if (!spec) return cli_usage_error(cmd, "--model SPEC is required");

    if (advc_act_spec_parse(act_s, &cfg.act) != ADVC_OK) {
        fprintf(stderr, "advc train: bad value '%s' for --act: %s\n", act_s,
                advc_last_error());
        return 2;
    }
    if (!strcmp(opt_s, "adam")) {
        cfg.opt = advc_opt_defaults(ADVC_OPT_ADAM);
        if (!lr_set) lr = 2e-3f;
    } else if (!strcmp(opt_s, "sgd")) {
        cfg.opt = advc_opt_defaults(ADVC_OPT_SGD);
        cfg.opt.momentum = momentum;
        cfg.opt.nesterov = nesterov;
        if (!lr_set) lr = 0.05f;
    } else {
        fprintf(stderr, "advc train: bad value '%s' for --opt (sgd or adam)\n",
                opt_s);
        return 2;
    }
    cfg.opt.weight_decay = wd;
    cfg.init = init_s ? advc_init_parse(init_s)
                      : advc_model_default_init(spec);
    if (cfg.init == ADVC_INIT_COUNT) {
        fprintf(stderr, "advc train: bad value '%s' for --init (he or "
                "uniform)\n", init_s);
        return 2;
    }
    if (advc_schedule_parse(sched_s, lr, &cfg.sched) != ADVC_OK) {
        fprintf(stderr, "advc train: bad value '%s' for --schedule: %s\n",
                sched_s, advc_last_error());
        return 2;
    }
    cfg.epochs = epochs;
    cfg.batch = batch;
    cfg.seed = seed;
    cfg.val_count = val;
    cfg.out_path = out;
    cfg.log_path = log;
    cfg.spec = spec;
    cfg.progress = isatty(2) ? ADVC_PROGRESS_LIVE : ADVC_PROGRESS_EPOCH;

    advc_dataset all, data;
    if (advc_dataset_load_dir(data_dir, true, &all) != ADVC_OK)
        return cli_fail(cmd);
    if (limit > 0 && limit < all.n) {
        if (advc_dataset_slice(&all, 0, limit, &data) != ADVC_OK) {
            advc_dataset_free(&all);
            return cli_fail(cmd);
        }
        advc_dataset_free(&all);
    } else {
        data = all;
    }
    if (val >= data.n) {
        advc_dataset_free(&data);
        fprintf(stderr, "advc train: --val %d leaves no training images "
                "(the set has %d)\n", val, data.n);
        return 2;
    }

    advc_pool *pool = cli_pool(cmd, threads);
    advc_graph *g = NULL;
    advc_shape in = { data.c, data.h, data.w };
    int rc = 0;
    if (advc_model_build(spec, in, data.classes, cfg.act, &g) != ADVC_OK ||
        advc_graph_compile(g, batch, pool) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    if (advc_train_check(g, &cfg) != ADVC_OK) {
        fprintf(stderr, "advc train: %s\n", advc_last_error());
        rc = 2;
        goto done;
    }
    advc_graph_init_params_as(g, seed, cfg.init);
    advc_recipe_config rcr = advc_recipe_resolve(
        cfg.recipe, &cfg.rc, advc_graph_num_exits(g));
    fprintf(stderr,
            "advc train: %s (%zu parameters, act %s) on %s: %d images, "
            "%d epochs, batch %d, %s lr %g %s, init %s, seed %llu, "
            "%d threads\n",
            spec, advc_graph_num_params(g), act_s, data_dir, data.n - val,
            epochs, batch, opt_s, (double)lr, sched_s,
            advc_init_name(cfg.init),
            (unsigned long long)seed, advc_pool_threads(pool));
    fprintf(stderr, "advc train: recipe %s, eps %g", recipe_s,
            (double)rcr.eps);
    if (cfg.recipe != ADVC_RECIPE_STD)
        fprintf(stderr, ", step %g, attacks in %s mode", (double)rcr.step_size,
                rcr.adv_mode == ADVC_ADV_MODE_EVAL ? "eval" : "train");
    if (cfg.recipe == ADVC_RECIPE_PGD || cfg.recipe == ADVC_RECIPE_TRADES)
        fprintf(stderr, ", %d steps", rcr.steps);
    if (cfg.recipe == ADVC_RECIPE_FGSM)
        fprintf(stderr, ", alpha %g", (double)rcr.alpha);
    if (cfg.recipe == ADVC_RECIPE_TRADES)
        fprintf(stderr, ", beta %g", (double)rcr.beta);
    if (cfg.recipe == ADVC_RECIPE_FREE)
        fprintf(stderr, ", %d replays (%d epochs)", rcr.replays,
                (epochs + rcr.replays - 1) / rcr.replays);
    for (int e = 0; e < rcr.n_exit_l2; e++)
        fprintf(stderr, "%s%g", e ? "," : ", exit L2 ",
                (double)rcr.exit_l2[e]);
    fputc('\n', stderr);
    advc_train_result res;
    advc_status st = advc_train(g, &data, &cfg, &res);
    if (st != ADVC_OK) {
        rc = cli_fail(cmd);
        if (st == ADVC_ERR_ARG) rc = 2;
        goto done;
    }
    fprintf(stderr, "advc train: %d epochs in %.1fs (%.0f img/s); wrote %s\n",
            res.epochs_done, res.seconds,
            res.seconds > 0 ? (double)res.steps * batch / res.seconds : 0.0,
            out);
    if (res.guard_n > 0) {
        char best[4096];
        advc_train_best_path(out, best, sizeof best);
        if (res.co.epoch > 0)
            print_point(res.stopped ? "catastrophic overfitting, stopped at"
                                    : "catastrophic overfitting from",
                        &res.co, NULL);
        if (res.last.epoch > 0) print_point("last:", &res.last, out);
        print_point("best:", &res.best, best);
    }
done:
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&data);
    return rc;
}
