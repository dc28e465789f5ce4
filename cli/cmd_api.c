/*
 * promscope series, labels, label-values, metadata, targets: the metadata
 * endpoints of the Prometheus HTTP API (DESIGN.md section 4), printed as
 * tables or JSON (docs/query.md).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "commands.h"

enum api_cmd { CMD_SERIES, CMD_LABELS, CMD_LABEL_VALUES, CMD_METADATA, CMD_TARGETS };

static const char *const cmd_names[] = {"series", "labels", "label-values", "metadata", "targets"};

static const char series_help[] =
    "  --start T, --end T    time range to look in (default: the server's, usually all)\n"
    "  --limit N             pass limit=N to the server\n"
    "  -o, --output F        table or json (default table)\n"
    "  T is RFC 3339, Unix seconds, or relative: now, -1h, now-30m\n" API_SERVER_HELP NET_OPTIONS_HELP;
static const char labels_help[] =
    "  --match SELECTOR      only labels of matching series (repeatable)\n"
    "  --start T, --end T    time range to look in\n"
    "  --limit N             pass limit=N to the server\n"
    "  -o, --output F        table or json (default table)\n" API_SERVER_HELP NET_OPTIONS_HELP;
static const char metadata_help[] =
    "  --limit N             at most N metrics\n"
    "  -o, --output F        table or json (default table)\n" API_SERVER_HELP NET_OPTIONS_HELP;
static const char targets_help[] = "  -o, --output F        table or json (default table)\n" API_SERVER_HELP NET_OPTIONS_HELP;

enum { O_START = 4001, O_END, O_LIMIT, O_MATCH };

struct api_args {
    enum api_cmd cmd;
    const char *server;
    const char *start, *end;
    uint64_t limit;
    const char **match;
    size_t nmatch;
    enum api_output out;
};

/* ---- printing ---- */

static int sort_name_first(const void *a, const void *b)
{
    const psc_str *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->ptr, y->ptr, m) : 0;
    return c ? c : (x->len < y->len ? -1 : x->len > y->len);
}

static int print_strings(const psc_api_response *r, const char *head, enum api_output out)
{
    psc_str *v = malloc((r->nstrings ? r->nstrings : 1) * sizeof *v);
    if (!v)
        return -1;
    memcpy(v, r->strings, r->nstrings * sizeof *v);
    qsort(v, r->nstrings, sizeof *v, sort_name_first);
    int rc = 0;
    if (out == API_OUT_JSON) {
        fputc('[', stdout);
        for (size_t i = 0; i < r->nstrings; i++) {
            fputs(i ? ",\n" : "\n", stdout);
            cli_json_string(stdout, v[i].ptr, v[i].len);
        }
        fputs(r->nstrings ? "\n]\n" : "]\n", stdout);
    } else {
        struct api_table t;
        rc = api_table_init(&t, 1) || api_table_head(&t, 0, head, false);
        for (size_t i = 0; i < r->nstrings && !rc; i++) {
            long row = api_table_row(&t);
            rc = row < 0 || api_table_set(&t, (size_t)row, 0, v[i].ptr, v[i].len);
        }
        if (!rc)
            api_table_print(&t, stdout);
        api_table_release(&t);
    }
    free(v);
    return rc;
}

static const psc_api_labelset *g_sets;

static int cmp_sets(const void *a, const void *b)
{
    const psc_api_labelset *x = &g_sets[*(const size_t *)a], *y = &g_sets[*(const size_t *)b];
    const psc_str *nx = api_label_get(x, (psc_str){"__name__", 8}), *ny = api_label_get(y, (psc_str){"__name__", 8});
    size_t n = x->nlabels < y->nlabels ? x->nlabels : y->nlabels;
    if (nx && ny) {
        int c = sort_name_first(nx, ny);
        if (c)
            return c;
    }
    for (size_t i = 0; i < n; i++) {
        int c = sort_name_first(&x->labels[i].name, &y->labels[i].name);
        if (!c)
            c = sort_name_first(&x->labels[i].value, &y->labels[i].value);
        if (c)
            return c;
    }
    return x->nlabels < y->nlabels ? -1 : x->nlabels > y->nlabels;
}

static int print_series(const psc_api_response *r, enum api_output out)
{
    size_t *ord = malloc((r->nlabelsets ? r->nlabelsets : 1) * sizeof *ord);
    if (!ord)
        return -1;
    for (size_t i = 0; i < r->nlabelsets; i++)
        ord[i] = i;
    g_sets = r->labelsets;
    qsort(ord, r->nlabelsets, sizeof *ord, cmp_sets);
    int rc = 0;
    if (out == API_OUT_JSON) {
        fputc('[', stdout);
        for (size_t i = 0; i < r->nlabelsets; i++) {
            fputs(i ? ",\n" : "\n", stdout);
            api_json_labels(stdout, &r->labelsets[ord[i]]);
        }
        fputs(r->nlabelsets ? "\n]\n" : "]\n", stdout);
        free(ord);
        return 0;
    }
    if (r->nlabelsets == 0) {
        free(ord);
        if (!g_cli.quiet)
            fputs("promscope: no series matched\n", stderr);
        return 0;
    }
    const psc_api_labelset **sets = malloc(r->nlabelsets * sizeof *sets);
    if (!sets) {
        free(ord);
        return -1;
    }
    for (size_t i = 0; i < r->nlabelsets; i++)
        sets[i] = &r->labelsets[ord[i]];
    size_t ncols = 0;
    psc_str *cols = api_label_columns(sets, r->nlabelsets, true, &ncols);
    /* Always show the metric name. */
    bool has_name = false;
    for (size_t i = 0; i < r->nlabelsets && !has_name; i++)
        has_name = api_label_get(sets[i], (psc_str){"__name__", 8}) != NULL;
    bool name_col = cols && has_name && !(ncols && psc_str_eq(cols[0], (psc_str){"__name__", 8}));
    struct api_table t;
    rc = !cols || api_table_init(&t, ncols + name_col);
    if (!rc && name_col)
        rc = api_table_head(&t, 0, "__name__", false);
    for (size_t c = 0; c < ncols && !rc; c++) {
        char *h = strndup(cols[c].ptr, cols[c].len);
        rc = !h || api_table_head(&t, c + name_col, h, false);
        free(h);
    }
    for (size_t i = 0; i < r->nlabelsets && !rc; i++) {
        long row = api_table_row(&t);
        if (row < 0) {
            rc = -1;
            break;
        }
        if (name_col) {
            const psc_str *v = api_label_get(sets[i], (psc_str){"__name__", 8});
            if (v)
                rc = api_table_set(&t, (size_t)row, 0, v->ptr, v->len);
        }
        for (size_t c = 0; c < ncols && !rc; c++) {
            const psc_str *v = api_label_get(sets[i], cols[c]);
            if (v)
                rc = api_table_set(&t, (size_t)row, c + name_col, v->ptr, v->len);
        }
    }
    if (!rc && cols)
        api_table_print(&t, stdout);
    if (cols)
        api_table_release(&t);
    free(cols);
    free(sets);
    free(ord);
    return rc;
}

static int print_metadata(const psc_api_response *r, enum api_output out)
{
    if (out == API_OUT_JSON) {
        fputc('[', stdout);
        for (size_t i = 0; i < r->nmetadata; i++) {
            const psc_api_metadata *m = &r->metadata[i];
            fputs(i ? ",\n{\"metric\":" : "\n{\"metric\":", stdout);
            cli_json_string(stdout, m->metric.ptr, m->metric.len);
            fputs(",\"type\":", stdout);
            cli_json_string(stdout, m->type.ptr, m->type.len);
            fputs(",\"unit\":", stdout);
            cli_json_string(stdout, m->unit.ptr, m->unit.len);
            fputs(",\"help\":", stdout);
            cli_json_string(stdout, m->help.ptr, m->help.len);
            fputc('}', stdout);
        }
        fputs(r->nmetadata ? "\n]\n" : "]\n", stdout);
        return 0;
    }
    struct api_table t;
    int rc = api_table_init(&t, 4) || api_table_head(&t, 0, "METRIC", false) ||
             api_table_head(&t, 1, "TYPE", false) || api_table_head(&t, 2, "UNIT", false) ||
             api_table_head(&t, 3, "HELP", false);
    for (size_t i = 0; i < r->nmetadata && !rc; i++) {
        const psc_api_metadata *m = &r->metadata[i];
        long row = api_table_row(&t);
        rc = row < 0 || api_table_set(&t, (size_t)row, 0, m->metric.ptr, m->metric.len) ||
             api_table_set(&t, (size_t)row, 1, m->type.ptr, m->type.len) ||
             api_table_set(&t, (size_t)row, 2, m->unit.ptr, m->unit.len) ||
             api_table_set(&t, (size_t)row, 3, m->help.ptr, m->help.len);
    }
    if (!rc)
        api_table_print(&t, stdout);
    api_table_release(&t);
    return rc;
}

static const psc_api_target *g_targets;

static int cmp_targets(const void *a, const void *b)
{
    const psc_api_target *x = &g_targets[*(const size_t *)a], *y = &g_targets[*(const size_t *)b];
    int c = sort_name_first(&x->scrape_pool, &y->scrape_pool);
    return c ? c : sort_name_first(&x->scrape_url, &y->scrape_url);
}

/* "12s ago" from an RFC 3339 time with nanoseconds. */
static void fmt_ago(char *buf, size_t cap, psc_str when, double now)
{
    char tmp[64];
    if (when.len == 0 || when.len >= sizeof tmp) {
        snprintf(buf, cap, "-");
        return;
    }
    memcpy(tmp, when.ptr, when.len);
    tmp[when.len] = '\0';
    double t;
    if (strncmp(tmp, "0001-01-01", 10) == 0 || api_parse_time(tmp, now, &t)) {
        snprintf(buf, cap, "never");
        return;
    }
    char d[48];
    double age = now - t;
    if (age < 0)
        age = 0;
    api_fmt_duration(d, sizeof d, age < 1 ? age : floor(age));
    snprintf(buf, cap, "%s ago", d);
}

static int print_targets(const psc_api_response *r, enum api_output out)
{
    size_t *ord = malloc((r->ntargets ? r->ntargets : 1) * sizeof *ord);
    if (!ord)
        return -1;
    for (size_t i = 0; i < r->ntargets; i++)
        ord[i] = i;
    g_targets = r->targets;
    qsort(ord, r->ntargets, sizeof *ord, cmp_targets);
    int rc = 0;
    if (out == API_OUT_JSON) {
        fputc('[', stdout);
        for (size_t i = 0; i < r->ntargets; i++) {
            const psc_api_target *t = &r->targets[ord[i]];
            fputs(i ? ",\n{\"scrapePool\":" : "\n{\"scrapePool\":", stdout);
            cli_json_string(stdout, t->scrape_pool.ptr, t->scrape_pool.len);
            fputs(",\"scrapeUrl\":", stdout);
            cli_json_string(stdout, t->scrape_url.ptr, t->scrape_url.len);
            fputs(",\"health\":", stdout);
            cli_json_string(stdout, t->health.ptr, t->health.len);
            fputs(",\"labels\":", stdout);
            api_json_labels(stdout, &t->labels);
            fputs(",\"lastError\":", stdout);
            cli_json_string(stdout, t->last_error.ptr, t->last_error.len);
            fputs(",\"lastScrape\":", stdout);
            cli_json_string(stdout, t->last_scrape.ptr, t->last_scrape.len);
            fputs(",\"lastScrapeDuration\":", stdout);
            api_json_number(stdout, t->last_scrape_duration);
            fputs(",\"scrapeInterval\":", stdout);
            cli_json_string(stdout, t->scrape_interval.ptr, t->scrape_interval.len);
            fputc('}', stdout);
        }
        fputs(r->ntargets ? "\n]\n" : "]\n", stdout);
        free(ord);
        return 0;
    }
    struct api_table t;
    static const char *const heads[] = {"POOL", "ENDPOINT", "HEALTH", "LAST SCRAPE", "DURATION", "ERROR"};
    rc = api_table_init(&t, 6);
    for (size_t c = 0; c < 6 && !rc; c++)
        rc = api_table_head(&t, c, heads[c], c == 3 || c == 4);
    double now = api_now();
    for (size_t i = 0; i < r->ntargets && !rc; i++) {
        const psc_api_target *tg = &r->targets[ord[i]];
        long row = api_table_row(&t);
        if (row < 0) {
            rc = -1;
            break;
        }
        char ago[64], dur[48];
        fmt_ago(ago, sizeof ago, tg->last_scrape, now);
        if (isnan(tg->last_scrape_duration))
            snprintf(dur, sizeof dur, "-");
        else
            api_fmt_duration(dur, sizeof dur, tg->last_scrape_duration);
        rc = api_table_set(&t, (size_t)row, 0, tg->scrape_pool.ptr, tg->scrape_pool.len) ||
             api_table_set(&t, (size_t)row, 1, tg->scrape_url.ptr, tg->scrape_url.len) ||
             api_table_set(&t, (size_t)row, 2, tg->health.ptr, tg->health.len) ||
             api_table_setz(&t, (size_t)row, 3, ago) || api_table_setz(&t, (size_t)row, 4, dur) ||
             api_table_set(&t, (size_t)row, 5, tg->last_error.ptr, tg->last_error.len > 200 ? 200 : tg->last_error.len);
    }
    if (!rc)
        api_table_print(&t, stdout);
    api_table_release(&t);
    if (!rc && r->ndropped && !g_cli.quiet)
        fprintf(stderr, "promscope: %zu dropped targets not shown\n", r->ndropped);
    free(ord);
    return rc;
}

/* ---- the commands ---- */

static int run_api(enum api_cmd cmd, int argc, char **argv)
{
    const char *name = cmd_names[cmd];
    const struct cli_command *self = cli_find_command(name);
    static const struct option opts[] = {
        API_SERVER_OPTION,
        {"start", required_argument, NULL, O_START},
        {"end", required_argument, NULL, O_END},
        {"limit", required_argument, NULL, O_LIMIT},
        {"match", required_argument, NULL, O_MATCH},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        NET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct api_args a;
    memset(&a, 0, sizeof a);
    a.cmd = cmd;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    int c, rc = EXIT_OK;
    a.match = calloc((size_t)argc + 1, sizeof *a.match);
    if (!a.match) {
        cli_errorf("out of memory");
        return EXIT_RUNTIME;
    }
    const char *help = cmd == CMD_SERIES ? series_help
                       : cmd == CMD_METADATA ? metadata_help
                       : cmd == CMD_TARGETS ? targets_help
                                            : labels_help;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_command_help(stdout, self, help);
            rc = cli_finish(EXIT_OK);
            goto out;
        case API_OPT_SERVER: a.server = optarg; break;
        case O_START:
        case O_END:
            if (cmd == CMD_METADATA || cmd == CMD_TARGETS)
                goto unknown;
            *(c == O_START ? &a.start : &a.end) = optarg;
            break;
        case O_LIMIT: {
            if (cmd == CMD_TARGETS)
                goto unknown;
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || v == 0 || *optarg == '-') {
                rc = cli_usage_error(name, "invalid --limit '%s': expected a positive integer", optarg);
                goto out;
            }
            a.limit = v;
            break;
        }
        case O_MATCH:
            if (cmd != CMD_LABELS && cmd != CMD_LABEL_VALUES)
                goto unknown;
            a.match[a.nmatch++] = optarg;
            break;
        case 'o':
            if (api_parse_output(optarg, (1u << API_OUT_TABLE) | (1u << API_OUT_JSON), &a.out)) {
                rc = cli_usage_error(name, "invalid --output '%s': expected table or json", optarg);
                goto out;
            }
            break;
        default:
            if ((rc = cli_parse_net_option(c, optarg, &net, name)) >= 0) {
                if (rc)
                    goto out;
                break;
            }
        unknown:
            rc = cli_usage_error(name, "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    int nargs = argc - optind;
    const char *label = NULL, *metric = NULL;
    switch (cmd) {
    case CMD_SERIES:
        if (nargs < 1) {
            rc = cli_usage_error(name, "missing MATCH: give at least one series selector, e.g. 'up{job=\"node\"}'");
            goto out;
        }
        for (int i = optind; i < argc; i++)
            a.match[a.nmatch++] = argv[i];
        break;
    case CMD_LABEL_VALUES:
        if (nargs != 1) {
            rc = cli_usage_error(name, nargs ? "too many arguments" : "missing NAME (a label name, e.g. job)");
            goto out;
        }
        label = argv[optind];
        break;
    case CMD_METADATA:
        if (nargs > 1) {
            rc = cli_usage_error(name, "too many arguments");
            goto out;
        }
        metric = nargs ? argv[optind] : NULL;
        break;
    default:
        if (nargs) {
            rc = cli_usage_error(name, "unexpected argument '%s'", argv[optind]);
            goto out;
        }
        break;
    }
    double now = api_now();
    psc_api_select sel = {a.match, a.nmatch, NAN, NAN, a.limit};
    if (a.start && api_parse_time(a.start, now, &sel.start)) {
        rc = cli_usage_error(name, "invalid --start '%s': expected RFC 3339, Unix seconds or -1h", a.start);
        goto out;
    }
    if (a.end && api_parse_time(a.end, now, &sel.end)) {
        rc = cli_usage_error(name, "invalid --end '%s': expected RFC 3339, Unix seconds or now", a.end);
        goto out;
    }

    psc_api_client *client = NULL;
    if ((rc = api_open(a.server, &net, name, &client)) != 0)
        goto out;
    psc_api_response resp;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = PSC_OK;
    switch (cmd) {
    case CMD_SERIES: st = psc_api_series_get(client, &sel, &resp, &err); break;
    case CMD_LABELS: st = psc_api_labels_get(client, &sel, &resp, &err); break;
    case CMD_LABEL_VALUES: st = psc_api_label_values_get(client, label, &sel, &resp, &err); break;
    case CMD_METADATA: st = psc_api_metadata_get(client, metric, a.limit, &resp, &err); break;
    case CMD_TARGETS: st = psc_api_targets_get(client, &resp, &err); break;
    }
    api_print_notes(resp.warnings, resp.nwarnings, resp.infos, resp.ninfos);
    if (st != PSC_OK) {
        rc = api_fail(client, &err);
    } else {
        int prc = 0;
        switch (cmd) {
        case CMD_SERIES: prc = print_series(&resp, a.out); break;
        case CMD_LABELS: prc = print_strings(&resp, "LABEL", a.out); break;
        case CMD_LABEL_VALUES: prc = print_strings(&resp, label, a.out); break;
        case CMD_METADATA: prc = print_metadata(&resp, a.out); break;
        case CMD_TARGETS: prc = print_targets(&resp, a.out); break;
        }
        if (prc) {
            cli_errorf("out of memory");
            rc = EXIT_RUNTIME;
        } else {
            rc = cli_finish(EXIT_OK);
        }
    }
    psc_api_response_release(&resp);
    psc_api_client_free(client);
out:
    free(a.match);
    cli_net_opts_release(&net);
    return rc;
}

int cmd_series(int argc, char **argv)
{
    return run_api(CMD_SERIES, argc, argv);
}

int cmd_labels(int argc, char **argv)
{
    return run_api(CMD_LABELS, argc, argv);
}

int cmd_label_values(int argc, char **argv)
{
    return run_api(CMD_LABEL_VALUES, argc, argv);
}

int cmd_metadata(int argc, char **argv)
{
    return run_api(CMD_METADATA, argc, argv);
}

int cmd_targets(int argc, char **argv)
{
    return run_api(CMD_TARGETS, argc, argv);
}
