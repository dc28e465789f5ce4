/*
 * promscope query: PromQL instant and range queries (DESIGN.md sections 3
 * and 4; docs/query.md). Instant results print as a table with one column
 * per label that varies; range results as a braille chart on a TTY, or as
 * sparklines, tables, JSON or CSV.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "chart.h"
#include "commands.h"

static const char query_options_help[] =
    "  --time T              evaluation time of an instant query (default now)\n"
    "  --start T, --end T    range query from T to T (defaults: 1h ago, now)\n"
    "  --step D              range step (default range/200 rounded up to a round duration)\n"
    "  -o, --output F        table, json or csv; range queries also chart\n"
    "                        (default: chart on a terminal, else table)\n"
    "  --sort labels|value   row order of instant tables (default labels)\n"
    "  --limit N             pass limit=N (series in the result) to the server\n"
    "  --query-timeout D     pass timeout=D (evaluation timeout) to the server\n"
    "  --lookback-delta D    pass lookback_delta=D to the server\n"
    "  --stats               ask for query statistics (stats=all); printed on stderr,\n"
    "                        or as \"stats\" in JSON output\n"
    "  --height N            chart rows (default 15)\n"
    "  --utc                 chart time axis in UTC (default local time)\n"
    "  T is RFC 3339 (2024-05-01T12:00:00Z), Unix seconds, or relative: now, -1h, now-30m\n" API_SERVER_HELP
        NET_OPTIONS_HELP;

enum {
    O_TIME = 4001,
    O_START,
    O_END,
    O_STEP,
    O_SORT,
    O_LIMIT,
    O_QTIMEOUT,
    O_LOOKBACK,
    O_STATS,
    O_HEIGHT,
    O_UTC,
};

struct query_args {
    const char *server;
    const char *time, *start, *end, *step;
    enum api_output out;
    bool sort_value;
    psc_api_query_opts q;
    int height;
    bool utc;
};

/* ---- shared printing of results ---- */

static void json_value_str(FILE *f, double v)
{
    char b[40];
    psc_format_double(v, b);
    fputc('"', f);
    fputs(b, f);
    fputc('"', f);
}

static void json_histogram(FILE *f, const psc_api_histogram *h)
{
    fputs("{\"count\":", f);
    json_value_str(f, h->count);
    fputs(",\"sum\":", f);
    json_value_str(f, h->sum);
    fputs(",\"buckets\":[", f);
    for (size_t i = 0; i < h->nbuckets; i++) {
        const psc_api_bucket *b = &h->buckets[i];
        fprintf(f, "%s[%d,", i ? "," : "", b->boundary);
        json_value_str(f, b->lower);
        fputc(',', f);
        json_value_str(f, b->upper);
        fputc(',', f);
        json_value_str(f, b->count);
        fputc(']', f);
    }
    fputs("]}", f);
}

static void json_time(FILE *f, double t)
{
    char b[48];
    api_fmt_unix(b, sizeof b, t);
    fputs(b, f);
}

static void json_point(FILE *f, const psc_api_point *p)
{
    fputc('[', f);
    json_time(f, p->t);
    fputc(',', f);
    if (p->h)
        json_histogram(f, p->h);
    else
        json_value_str(f, p->v);
    fputc(']', f);
}

/* The `data` section of the API answer, normalised (labels sorted, values
 * as canonical strings): existing jq pipelines keep working. */
static void print_json(FILE *f, const psc_api_response *r)
{
    fprintf(f, "{\"resultType\":\"%s\",\"result\":", psc_api_result_type_name(r->result_type));
    if (r->result_type == PSC_API_RESULT_SCALAR) {
        json_point(f, &r->scalar);
    } else if (r->result_type == PSC_API_RESULT_STRING) {
        fputc('[', f);
        json_time(f, r->scalar.t);
        fputc(',', f);
        cli_json_string(f, r->string.ptr, r->string.len);
        fputc(']', f);
    } else {
        fputc('[', f);
        for (size_t i = 0; i < r->nseries; i++) {
            const psc_api_series *s = &r->series[i];
            fputs(i ? ",\n{\"metric\":" : "\n{\"metric\":", f);
            api_json_labels(f, &s->metric);
            if (r->result_type == PSC_API_RESULT_VECTOR) {
                if (s->npoints) {
                    fputs(s->points[0].h ? ",\"histogram\":" : ",\"value\":", f);
                    json_point(f, &s->points[0]);
                }
            } else {
                bool anyf = false, anyh = false;
                for (size_t k = 0; k < s->npoints; k++)
                    if (s->points[k].h)
                        anyh = true;
                    else
                        anyf = true;
                if (anyf || !anyh) {
                    fputs(",\"values\":[", f);
                    bool first = true;
                    for (size_t k = 0; k < s->npoints; k++) {
                        if (s->points[k].h)
                            continue;
                        if (!first)
                            fputc(',', f);
                        first = false;
                        json_point(f, &s->points[k]);
                    }
                    fputc(']', f);
                }
                if (anyh) {
                    fputs(",\"histograms\":[", f);
                    bool first = true;
                    for (size_t k = 0; k < s->npoints; k++) {
                        if (!s->points[k].h)
                            continue;
                        if (!first)
                            fputc(',', f);
                        first = false;
                        json_point(f, &s->points[k]);
                    }
                    fputc(']', f);
                }
            }
            fputc('}', f);
        }
        fputs(r->nseries ? "\n]" : "]", f);
    }
    if (r->stats.len) {
        fputs(",\"stats\":", f);
        fwrite(r->stats.ptr, 1, r->stats.len, f);
    }
    fputs("}\n", f);
}

static void fmt_point_value(char *buf, size_t cap, const psc_api_point *p)
{
    if (p->h) {
        char c[40], s[40];
        psc_format_double(p->h->count, c);
        psc_format_double(p->h->sum, s);
        snprintf(buf, cap, "histogram count=%s sum=%s buckets=%zu", c, s, p->h->nbuckets);
    } else {
        api_fmt_value(buf, cap, p->v);
    }
}

static void print_csv(FILE *f, const psc_api_response *r)
{
    if (r->result_type == PSC_API_RESULT_SCALAR || r->result_type == PSC_API_RESULT_STRING) {
        char t[40], v[64];
        fputs("timestamp,value\n", f);
        api_fmt_unix(t, sizeof t, r->scalar.t);
        fputs(t, f);
        fputc(',', f);
        if (r->result_type == PSC_API_RESULT_STRING) {
            api_csv_field(f, r->string.ptr, r->string.len);
        } else {
            api_fmt_value(v, sizeof v, r->scalar.v);
            fputs(v, f);
        }
        fputc('\n', f);
        return;
    }
    const psc_api_labelset **sets = malloc((r->nseries ? r->nseries : 1) * sizeof *sets);
    if (!sets)
        return;
    for (size_t i = 0; i < r->nseries; i++)
        sets[i] = &r->series[i].metric;
    size_t ncols = 0;
    psc_str *cols = api_label_columns(sets, r->nseries, false, &ncols);
    free(sets);
    if (!cols)
        return;
    for (size_t c = 0; c < ncols; c++) {
        api_csv_field(f, cols[c].ptr, cols[c].len);
        fputc(',', f);
    }
    fputs("timestamp,value\n", f);
    for (size_t i = 0; i < r->nseries; i++) {
        const psc_api_series *s = &r->series[i];
        for (size_t k = 0; k < s->npoints; k++) {
            for (size_t c = 0; c < ncols; c++) {
                const psc_str *v = api_label_get(&s->metric, cols[c]);
                if (v)
                    api_csv_field(f, v->ptr, v->len);
                fputc(',', f);
            }
            char t[40], v[160];
            api_fmt_unix(t, sizeof t, s->points[k].t);
            fmt_point_value(v, sizeof v, &s->points[k]);
            fputs(t, f);
            fputc(',', f);
            api_csv_field(f, v, strlen(v));
            fputc('\n', f);
        }
    }
    free(cols);
}

/* Row order: by the values of the shown label columns, or by value. */
struct sort_ctx {
    const psc_api_response *r;
    const psc_str *cols;
    size_t ncols;
    bool by_value;
};
static struct sort_ctx g_sort;

static int cmp_str(const psc_str *a, const psc_str *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    size_t m = a->len < b->len ? a->len : b->len;
    int c = m ? memcmp(a->ptr, b->ptr, m) : 0;
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int cmp_series(const void *x, const void *y)
{
    const psc_api_series *a = &g_sort.r->series[*(const size_t *)x];
    const psc_api_series *b = &g_sort.r->series[*(const size_t *)y];
    if (g_sort.by_value && a->npoints && b->npoints) {
        double u = a->points[0].v, v = b->points[0].v;
        bool un = isnan(u), vn = isnan(v);
        if (un != vn)
            return un ? 1 : -1;
        if (!un && u != v)
            return u > v ? -1 : 1;
    }
    for (size_t c = 0; c < g_sort.ncols; c++) {
        int r = cmp_str(api_label_get(&a->metric, g_sort.cols[c]), api_label_get(&b->metric, g_sort.cols[c]));
        if (r)
            return r;
    }
    size_t ia = *(const size_t *)x, ib = *(const size_t *)y;
    return ia < ib ? -1 : ia > ib;
}

static size_t *sorted_order(const psc_api_response *r, const psc_str *cols, size_t ncols, bool by_value)
{
    size_t *ord = malloc((r->nseries ? r->nseries : 1) * sizeof *ord);
    if (!ord)
        return NULL;
    for (size_t i = 0; i < r->nseries; i++)
        ord[i] = i;
    g_sort = (struct sort_ctx){r, cols, ncols, by_value};
    qsort(ord, r->nseries, sizeof *ord, cmp_series);
    return ord;
}

static psc_str *varying_columns(const psc_api_response *r, size_t *ncols)
{
    const psc_api_labelset **sets = malloc((r->nseries ? r->nseries : 1) * sizeof *sets);
    if (!sets)
        return NULL;
    for (size_t i = 0; i < r->nseries; i++)
        sets[i] = &r->series[i].metric;
    psc_str *cols = api_label_columns(sets, r->nseries, true, ncols);
    free(sets);
    return cols;
}

static int print_table(FILE *f, const psc_api_response *r, bool sort_value)
{
    if (r->result_type == PSC_API_RESULT_SCALAR) {
        char v[64];
        api_fmt_value(v, sizeof v, r->scalar.v);
        fprintf(f, "%s\n", v);
        return 0;
    }
    if (r->result_type == PSC_API_RESULT_STRING) {
        cli_print_escaped(f, r->string.ptr, r->string.len);
        fputc('\n', f);
        return 0;
    }
    if (r->nseries == 0) {
        if (!g_cli.quiet)
            fputs("promscope: the query returned no series\n", stderr);
        return 0;
    }
    size_t ncols = 0;
    psc_str *cols = varying_columns(r, &ncols);
    if (!cols)
        return -1;
    bool range = r->result_type == PSC_API_RESULT_MATRIX;
    size_t *ord = sorted_order(r, cols, ncols, sort_value && !range);
    struct api_table t;
    if (!ord || api_table_init(&t, ncols + (range ? 2 : 1))) {
        free(cols);
        free(ord);
        return -1;
    }
    int rc = 0;
    for (size_t c = 0; c < ncols && !rc; c++) {
        char *h = strndup(cols[c].ptr, cols[c].len);
        rc = !h || api_table_head(&t, c, h, false);
        free(h);
    }
    if (range)
        rc = rc || api_table_head(&t, ncols, "TIME", false);
    rc = rc || api_table_head(&t, ncols + range, "VALUE", true);
    for (size_t i = 0; i < r->nseries && !rc; i++) {
        const psc_api_series *s = &r->series[ord[i]];
        for (size_t k = 0; k < s->npoints && !rc; k++) {
            long row = api_table_row(&t);
            if (row < 0) {
                rc = -1;
                break;
            }
            for (size_t c = 0; c < ncols && !rc; c++) {
                const psc_str *v = api_label_get(&s->metric, cols[c]);
                if (v)
                    rc = api_table_set(&t, (size_t)row, c, v->ptr, v->len);
            }
            char b[160];
            if (range) {
                api_fmt_time(b, sizeof b, s->points[k].t);
                rc = rc || api_table_setz(&t, (size_t)row, ncols, b);
            }
            fmt_point_value(b, sizeof b, &s->points[k]);
            rc = rc || api_table_setz(&t, (size_t)row, ncols + range, b);
        }
    }
    if (!rc)
        api_table_print(&t, f);
    api_table_release(&t);
    free(cols);
    free(ord);
    return rc;
}

/* Legend / row text of series i: its varying labels. */
static char *series_label(const psc_api_series *s, const psc_str *cols, size_t ncols, size_t nseries)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    if (nseries == 1 || ncols == 0) {
        api_print_labelset(m, &s->metric);
    } else {
        psc_label *l = malloc(ncols * sizeof *l);
        size_t k = 0;
        for (size_t c = 0; l && c < ncols; c++) {
            const psc_str *v = api_label_get(&s->metric, cols[c]);
            if (v)
                l[k++] = (psc_label){cols[c], *v};
        }
        psc_api_labelset ls = {l, k};
        api_print_labelset(m, &ls);
        free(l);
    }
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int print_sparklines(FILE *f, const psc_api_response *r, const psc_str *cols, size_t ncols,
                            const size_t *ord, double start, double end, int width)
{
    struct api_table t;
    if (api_table_init(&t, 6))
        return -1;
    int rc = api_table_head(&t, 0, "SERIES", false) || api_table_head(&t, 1, "TREND", false) ||
             api_table_head(&t, 2, "MIN", true) || api_table_head(&t, 3, "AVG", true) ||
             api_table_head(&t, 4, "MAX", true) || api_table_head(&t, 5, "LAST", true);
    int sw = width / 3;
    if (sw < 10)
        sw = 10;
    if (sw > 60)
        sw = 60;
    char *spark = malloc((size_t)sw * 3 + 1);
    if (!spark)
        rc = -1;
    for (size_t i = 0; i < r->nseries && !rc; i++) {
        const psc_api_series *s = &r->series[ord[i]];
        long row = api_table_row(&t);
        char *lab = series_label(s, cols, ncols, r->nseries);
        if (row < 0 || !lab) {
            free(lab);
            rc = -1;
            break;
        }
        /* Already escaped: set it raw through a plain copy (escaping
         * twice would double the backslashes). */
        free(t.cells[(size_t)row * t.ncols]);
        t.cells[(size_t)row * t.ncols] = lab;
        double mn, av, mx, last;
        chart_stats(s->points, s->npoints, &mn, &av, &mx, &last);
        chart_sparkline(spark, (size_t)sw * 3 + 1, s->points, s->npoints, start, end, sw, mn, mx);
        rc = api_table_setz(&t, (size_t)row, 1, spark);
        double vals[4] = {mn, av, mx, last};
        for (int k = 0; k < 4 && !rc; k++) {
            char b[40];
            api_fmt_short(b, sizeof b, vals[k]);
            rc = api_table_setz(&t, (size_t)row, (size_t)k + 2, b);
        }
    }
    if (!rc)
        api_table_print(&t, f);
    free(spark);
    api_table_release(&t);
    return rc;
}

static int print_chart(FILE *f, const psc_api_response *r, const struct query_args *a, double start, double end,
                       double step)
{
    if (r->nseries == 0) {
        if (!g_cli.quiet)
            fputs("promscope: the query returned no series\n", stderr);
        return 0;
    }
    size_t ncols = 0;
    psc_str *cols = varying_columns(r, &ncols);
    size_t *ord = cols ? sorted_order(r, cols, ncols, false) : NULL;
    if (!ord) {
        free(cols);
        return -1;
    }
    int width = chart_term_width();
    int rc = 0;
    bool color = g_cli.color_stdout;
    if (r->nseries > 8 || (!color && r->nseries > 1)) {
        rc = print_sparklines(f, r, cols, ncols, ord, start, end, width);
    } else {
        struct chart_series *cs = calloc(r->nseries, sizeof *cs);
        if (!cs)
            rc = -1;
        for (size_t i = 0; i < r->nseries && !rc; i++) {
            const psc_api_series *s = &r->series[ord[i]];
            cs[i].label = series_label(s, cols, ncols, r->nseries);
            cs[i].points = s->points;
            cs[i].npoints = s->npoints;
            if (!cs[i].label)
                rc = -1;
        }
        if (!rc) {
            struct chart_opts o = {start, end, step, width, a->height, color, false, a->utc};
            chart_braille(f, cs, r->nseries, &o);
        }
        for (size_t i = 0; cs && i < r->nseries; i++)
            free((char *)cs[i].label);
        free(cs);
    }
    free(cols);
    free(ord);
    return rc;
}

static int parse_pos_int(const char *s, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

int cmd_query(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("query");
    static const struct option opts[] = {
        API_SERVER_OPTION,
        {"time", required_argument, NULL, O_TIME},
        {"start", required_argument, NULL, O_START},
        {"end", required_argument, NULL, O_END},
        {"step", required_argument, NULL, O_STEP},
        {"output", required_argument, NULL, 'o'},
        {"sort", required_argument, NULL, O_SORT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"query-timeout", required_argument, NULL, O_QTIMEOUT},
        {"lookback-delta", required_argument, NULL, O_LOOKBACK},
        {"stats", no_argument, NULL, O_STATS},
        {"height", required_argument, NULL, O_HEIGHT},
        {"utc", no_argument, NULL, O_UTC},
        {"help", no_argument, NULL, 'h'},
        NET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct query_args a;
    memset(&a, 0, sizeof a);
    a.height = 15;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    int c, rc = EXIT_OK;
    long long n;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_command_help(stdout, self, query_options_help);
            cli_net_opts_release(&net);
            return cli_finish(EXIT_OK);
        case API_OPT_SERVER: a.server = optarg; break;
        case O_TIME: a.time = optarg; break;
        case O_START: a.start = optarg; break;
        case O_END: a.end = optarg; break;
        case O_STEP: a.step = optarg; break;
        case 'o':
            if (api_parse_output(optarg,
                                 (1u << API_OUT_TABLE) | (1u << API_OUT_JSON) | (1u << API_OUT_CSV) |
                                     (1u << API_OUT_CHART),
                                 &a.out)) {
                rc = cli_usage_error("query", "invalid --output '%s': expected table, json, csv or chart", optarg);
                goto out;
            }
            break;
        case O_SORT:
            if (strcmp(optarg, "value") == 0)
                a.sort_value = true;
            else if (strcmp(optarg, "labels") != 0) {
                rc = cli_usage_error("query", "invalid --sort '%s': expected labels or value", optarg);
                goto out;
            }
            break;
        case O_LIMIT:
            if (parse_pos_int(optarg, (long long)1 << 40, &n) || n == 0) {
                rc = cli_usage_error("query", "invalid --limit '%s': expected a positive integer", optarg);
                goto out;
            }
            a.q.limit = (uint64_t)n;
            break;
        case O_QTIMEOUT:
        case O_LOOKBACK: {
            long long ms;
            if (cli_parse_duration_ms(optarg, &ms) || ms <= 0) {
                rc = cli_usage_error("query", "invalid %s '%s': expected a duration such as 30s",
                                     c == O_QTIMEOUT ? "--query-timeout" : "--lookback-delta", optarg);
                goto out;
            }
            if (c == O_QTIMEOUT)
                a.q.timeout = optarg;
            else
                a.q.lookback_delta = optarg;
            break;
        }
        case O_STATS: a.q.stats = true; break;
        case O_HEIGHT:
            if (parse_pos_int(optarg, 200, &n) || n < 3) {
                rc = cli_usage_error("query", "invalid --height '%s': expected 3 to 200", optarg);
                goto out;
            }
            a.height = (int)n;
            break;
        case O_UTC: a.utc = true; break;
        default:
            if ((rc = cli_parse_net_option(c, optarg, &net, "query")) >= 0) {
                if (rc)
                    goto out;
                break;
            }
            rc = cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = cli_usage_error("query", "%s", optind == argc ? "missing EXPR" : "too many arguments: quote the expression");
        goto out;
    }
    const char *expr = argv[optind];
    bool range = a.start || a.end || a.step;
    if (range && a.time) {
        rc = cli_usage_error("query", "--time is for instant queries; a range query takes --start, --end, --step");
        goto out;
    }
    if (!range && a.out == API_OUT_CHART) {
        rc = cli_usage_error("query", "--output chart needs a range (--start, --end, --step)");
        goto out;
    }
    double now = api_now();
    double t = NAN, start = NAN, end = NAN, step = NAN;
    if (a.time && api_parse_time(a.time, now, &t)) {
        rc = cli_usage_error("query", "invalid --time '%s': expected RFC 3339, Unix seconds or now-1h", a.time);
        goto out;
    }
    if (range) {
        if (a.end ? api_parse_time(a.end, now, &end) : (end = now, 0)) {
            rc = cli_usage_error("query", "invalid --end '%s': expected RFC 3339, Unix seconds or now-1h", a.end);
            goto out;
        }
        if (a.start ? api_parse_time(a.start, now, &start) : (start = end - 3600, 0)) {
            rc = cli_usage_error("query", "invalid --start '%s': expected RFC 3339, Unix seconds or -1h", a.start);
            goto out;
        }
        if (!(end >= start)) {
            rc = cli_usage_error("query", "--end is before --start");
            goto out;
        }
        if (a.step) {
            long long ms;
            if (cli_parse_duration_ms(a.step, &ms) || ms <= 0) {
                rc = cli_usage_error("query", "invalid --step '%s': expected a duration such as 30s", a.step);
                goto out;
            }
            step = (double)ms / 1000.0;
        } else {
            step = api_default_step(end - start);
        }
        if ((end - start) / step > 11000) {
            rc = cli_usage_error("query", "range/step gives more than 11000 points per series: raise --step");
            goto out;
        }
    }
    if (a.out == API_OUT_DEFAULT)
        a.out = range && g_cli.stdout_tty ? API_OUT_CHART : API_OUT_TABLE;

    psc_api_client *client = NULL;
    if ((rc = api_open(a.server, &net, "query", &client)) != 0)
        goto out;
    psc_api_response resp;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = range ? psc_api_query_range(client, expr, start, end, step, &a.q, &resp, &err)
                          : psc_api_query(client, expr, t, &a.q, &resp, &err);
    api_print_notes(resp.warnings, resp.nwarnings, resp.infos, resp.ninfos);
    if (st != PSC_OK) {
        rc = api_fail(client, &err);
    } else {
        int prc = 0;
        switch (a.out) {
        case API_OUT_JSON: print_json(stdout, &resp); break;
        case API_OUT_CSV: print_csv(stdout, &resp); break;
        case API_OUT_CHART: prc = print_chart(stdout, &resp, &a, start, end, step); break;
        default: prc = print_table(stdout, &resp, a.sort_value); break;
        }
        if (a.q.stats && resp.stats.len && a.out != API_OUT_JSON && !g_cli.quiet) {
            fputs("promscope: stats: ", stderr);
            cli_print_escaped(stderr, resp.stats.ptr, resp.stats.len);
            fputc('\n', stderr);
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
    cli_net_opts_release(&net);
    return rc;
}
