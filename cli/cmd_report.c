/*
 * promscope report percentiles|rates: the two canned reports of
 * docs/query.md. The PromQL and the joins are library code
 * (psc_report_run, lib/promapi/report.c); this file parses options, prints
 * tables, CSV or JSON, and checks --expect (exit 1 naming the groups that
 * break it, DESIGN.md section 3).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "chart.h"
#include "commands.h"

static const char report_help[] =
    "  percentiles METRIC    p50/p90/p99 per group from a histogram (classic buckets,\n"
    "                        or native histograms when METRIC is one), and the\n"
    "                        observation rate per second\n"
    "  rates SELECTOR        per-second rate per group, top N, share of the total\n"
    "  --by L,...            group by these labels (default: one group; rates: per series)\n"
    "  --window D            rate window (default 5m)\n"
    "  --quantiles Q,...     percentiles: quantiles to compute (default 0.5,0.9,0.99)\n"
    "  --top N               rates: the N fastest groups (default 10; 0 = all)\n"
    "  --selector S          extra matchers, e.g. '{job=\"api\"}'\n"
    "  --time T              evaluation time (default now, or --end)\n"
    "  --start T, --end T    add a sparkline over this range per quantile or rate\n"
    "  --step D              range step (default range/200 rounded)\n"
    "  --expect EXPR         'p99 < 0.25', 'p99 <= 250ms', 'rate > 0', 'share < 50%':\n"
    "                        exit 1 naming the groups that break it (repeatable)\n"
    "  -o, --output F        table (default), json or csv\n"
    "  --show-queries        print the PromQL sent on stderr\n"
    "  --query-timeout D     pass timeout=D to the server\n" API_SERVER_HELP NET_OPTIONS_HELP;

enum { O_BY = 4001, O_WINDOW, O_QUANTILES, O_TOP, O_SELECTOR, O_TIME, O_START, O_END, O_STEP, O_EXPECT,
       O_SHOW, O_QTIMEOUT };

enum { MAX_EXPECT = 32 };

static void fmt_value(char *buf, size_t cap, double v, bool seconds)
{
    if (seconds)
        api_fmt_duration(buf, cap, v);
    else
        api_fmt_short(buf, cap, v);
}

/* "P50", "P99.9" */
static void quantile_head(char *buf, size_t cap, double q, const char *prefix)
{
    char t[40];
    /* q*100 can carry binary noise (0.999*100 = 99.9000...01): %.6g */
    snprintf(t, sizeof t, "%.6g", q * 100);
    snprintf(buf, cap, "%s%s", prefix, t);
}

static char *row_labels_text(const psc_report_row *row)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    api_print_labelset(m, &row->labels);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Label columns: the --by labels, or (rates without --by) the labels that
 * vary between the rows. */
static psc_str *label_columns(const psc_report *r, const psc_report_opts *o, size_t *ncols)
{
    if (o->nby) {
        psc_str *c = malloc(o->nby * sizeof *c);
        if (!c)
            return NULL;
        for (size_t i = 0; i < o->nby; i++)
            c[i] = (psc_str){o->by[i], strlen(o->by[i])};
        *ncols = o->nby;
        return c;
    }
    const psc_api_labelset **sets = malloc((r->nrows ? r->nrows : 1) * sizeof *sets);
    if (!sets)
        return NULL;
    for (size_t i = 0; i < r->nrows; i++)
        sets[i] = &r->rows[i].labels;
    psc_str *c = api_label_columns(sets, r->nrows, r->nrows > 1, ncols);
    free(sets);
    return c;
}

static int print_table(const psc_report *r, const psc_report_opts *o, bool range)
{
    size_t nl = 0;
    psc_str *cols = label_columns(r, o, &nl);
    if (!cols)
        return -1;
    bool pct = r->kind == PSC_REPORT_PERCENTILES;
    size_t nvals = pct ? r->nquantiles + 1 : 2;
    size_t ntrend = range ? (pct ? r->nquantiles : 1) : 0;
    struct api_table t;
    int rc = api_table_init(&t, nl + nvals + ntrend);
    for (size_t c = 0; c < nl && !rc; c++) {
        char *h = strndup(cols[c].ptr, cols[c].len);
        rc = !h || api_table_head(&t, c, h, false);
        free(h);
    }
    char head[64];
    if (pct) {
        for (size_t q = 0; q < r->nquantiles && !rc; q++) {
            quantile_head(head, sizeof head, r->quantiles[q], "P");
            rc = api_table_head(&t, nl + q, head, true);
        }
        rc = rc || api_table_head(&t, nl + r->nquantiles, "RATE/S", true);
        for (size_t q = 0; q < ntrend && !rc; q++) {
            quantile_head(head, sizeof head, r->quantiles[q], "P");
            strncat(head, " TREND", sizeof head - strlen(head) - 1);
            rc = api_table_head(&t, nl + nvals + q, head, false);
        }
    } else {
        rc = rc || api_table_head(&t, nl, "RATE/S", true) || api_table_head(&t, nl + 1, "SHARE", true);
        if (ntrend)
            rc = rc || api_table_head(&t, nl + 2, "TREND", false);
    }
    enum { SPARK = 24 };
    char spark[SPARK * 3 + 1];
    for (size_t i = 0; i < r->nrows && !rc; i++) {
        const psc_report_row *row = &r->rows[i];
        long ri = api_table_row(&t);
        if (ri < 0) {
            rc = -1;
            break;
        }
        for (size_t c = 0; c < nl && !rc; c++) {
            const psc_str *v = api_label_get(&row->labels, cols[c]);
            if (v)
                rc = api_table_set(&t, (size_t)ri, c, v->ptr, v->len);
        }
        char b[64];
        if (pct) {
            for (size_t q = 0; q < r->nquantiles && !rc; q++) {
                fmt_value(b, sizeof b, row->quantiles[q], r->seconds);
                rc = api_table_setz(&t, (size_t)ri, nl + q, b);
            }
            api_fmt_short(b, sizeof b, row->rate);
            rc = rc || api_table_setz(&t, (size_t)ri, nl + r->nquantiles, b);
        } else {
            api_fmt_short(b, sizeof b, row->rate);
            rc = rc || api_table_setz(&t, (size_t)ri, nl, b);
            if (isnan(row->share))
                snprintf(b, sizeof b, "-");
            else
                snprintf(b, sizeof b, "%.1f%%", row->share * 100);
            rc = rc || api_table_setz(&t, (size_t)ri, nl + 1, b);
        }
        for (size_t k = 0; k < ntrend && !rc; k++) {
            spark[0] = '\0';
            if (row->trends && k < row->ntrends) {
                double mn, av, mx, last;
                chart_stats(row->trends[k].points, row->trends[k].npoints, &mn, &av, &mx, &last);
                chart_sparkline(spark, sizeof spark, row->trends[k].points, row->trends[k].npoints, o->start, o->end,
                                SPARK, mn, mx);
            }
            rc = api_table_setz(&t, (size_t)ri, nl + nvals + k, spark);
        }
    }
    if (!rc)
        api_table_print(&t, stdout);
    api_table_release(&t);
    free(cols);
    return rc;
}

static void print_notes(const psc_report *r)
{
    if (g_cli.quiet)
        return;
    if (r->nrows == 0) {
        fputs("promscope: no group matched\n", stderr);
    } else if (r->kind == PSC_REPORT_RATES && r->ngroups > r->nrows) {
        char tot[40];
        api_fmt_short(tot, sizeof tot, r->total);
        fprintf(stderr, "promscope: top %zu of %zu groups; total %s/s\n", r->nrows, r->ngroups, tot);
    }
}

static void json_trend(FILE *f, const psc_api_series *s)
{
    fputc('[', f);
    for (size_t k = 0; k < s->npoints; k++) {
        char tb[48];
        api_fmt_unix(tb, sizeof tb, s->points[k].t);
        fputs(k ? ",[" : "[", f);
        fputs(tb, f);
        fputc(',', f);
        api_json_number(f, s->points[k].v);
        fputc(']', f);
    }
    fputc(']', f);
}

static void print_json(const psc_report *r, bool range)
{
    FILE *f = stdout;
    bool pct = r->kind == PSC_REPORT_PERCENTILES;
    fputc('[', f);
    for (size_t i = 0; i < r->nrows; i++) {
        const psc_report_row *row = &r->rows[i];
        fputs(i ? ",\n{\"labels\":" : "\n{\"labels\":", f);
        api_json_labels(f, &row->labels);
        if (pct) {
            fputs(",\"quantiles\":{", f);
            for (size_t q = 0; q < r->nquantiles; q++) {
                char k[40];
                api_fmt_value(k, sizeof k, r->quantiles[q]);
                fprintf(f, "%s\"%s\":", q ? "," : "", k);
                api_json_number(f, row->quantiles[q]);
            }
            fputc('}', f);
        }
        fputs(",\"rate\":", f);
        api_json_number(f, row->rate);
        if (!pct) {
            fputs(",\"share\":", f);
            api_json_number(f, row->share);
        }
        if (range) {
            if (pct) {
                fputs(",\"trends\":{", f);
                for (size_t q = 0; q < r->nquantiles; q++) {
                    char k[40];
                    api_fmt_value(k, sizeof k, r->quantiles[q]);
                    fprintf(f, "%s\"%s\":", q ? "," : "", k);
                    if (row->trends && q < row->ntrends)
                        json_trend(f, &row->trends[q]);
                    else
                        fputs("[]", f);
                }
                fputc('}', f);
            } else {
                fputs(",\"trend\":", f);
                if (row->trends && row->ntrends)
                    json_trend(f, &row->trends[0]);
                else
                    fputs("[]", f);
            }
        }
        fputc('}', f);
    }
    fputs(r->nrows ? "\n]\n" : "]\n", f);
}

static int print_csv(const psc_report *r, const psc_report_opts *o)
{
    FILE *f = stdout;
    size_t nl = 0;
    psc_str *cols = label_columns(r, o, &nl);
    if (!cols)
        return -1;
    bool pct = r->kind == PSC_REPORT_PERCENTILES;
    for (size_t c = 0; c < nl; c++) {
        api_csv_field(f, cols[c].ptr, cols[c].len);
        fputc(',', f);
    }
    if (pct) {
        for (size_t q = 0; q < r->nquantiles; q++) {
            char h[64];
            quantile_head(h, sizeof h, r->quantiles[q], "p");
            fprintf(f, "%s,", h);
        }
        fputs("rate\n", f);
    } else {
        fputs("rate,share\n", f);
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const psc_report_row *row = &r->rows[i];
        for (size_t c = 0; c < nl; c++) {
            const psc_str *v = api_label_get(&row->labels, cols[c]);
            if (v)
                api_csv_field(f, v->ptr, v->len);
            fputc(',', f);
        }
        char b[40];
        for (size_t q = 0; pct && q < r->nquantiles; q++) {
            api_fmt_value(b, sizeof b, row->quantiles[q]);
            fprintf(f, "%s,", b);
        }
        api_fmt_value(b, sizeof b, row->rate);
        fputs(b, f);
        if (!pct) {
            api_fmt_value(b, sizeof b, row->share);
            fprintf(f, ",%s", b);
        }
        fputc('\n', f);
    }
    free(cols);
    return 0;
}

/* Check every expectation on every row; print the breaks. Returns the
 * number of broken (expectation, group) pairs, -1 when out of memory. */
static long check_expectations(const psc_report *r, const psc_expect *e, size_t ne)
{
    long broken = 0;
    for (size_t k = 0; k < ne; k++) {
        if (r->nrows == 0) {
            fprintf(stderr, "promscope: expectation '%s' failed: no group matched\n", e[k].text);
            broken++;
            continue;
        }
        for (size_t i = 0; i < r->nrows; i++) {
            double v;
            if (psc_expect_check(&e[k], r, &r->rows[i], &v))
                continue;
            broken++;
            char *lab = row_labels_text(&r->rows[i]);
            if (!lab)
                return -1;
            char val[64];
            if (isnan(v))
                snprintf(val, sizeof val, "no data");
            else if (e[k].field == PSC_EXPECT_QUANTILE && r->seconds)
                api_fmt_duration(val, sizeof val, v);
            else if (e[k].field == PSC_EXPECT_SHARE)
                snprintf(val, sizeof val, "%.4g%%", v * 100);
            else
                api_fmt_value(val, sizeof val, v);
            const char *what = e[k].field == PSC_EXPECT_RATE ? "rate" : e[k].field == PSC_EXPECT_SHARE ? "share" : NULL;
            char qn[48];
            if (!what) {
                quantile_head(qn, sizeof qn, e[k].quantile, "p");
                what = qn;
            }
            fprintf(stderr, "promscope: expectation '%s' failed for %s: %s = %s\n", e[k].text, lab, what, val);
            free(lab);
        }
    }
    return broken;
}

static int split_list(char *s, const char **out, size_t max, size_t *n)
{
    *n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ')
            tok[--l] = '\0';
        if (!*tok)
            continue;
        if (*n >= max)
            return -1;
        out[(*n)++] = tok;
    }
    return 0;
}

int cmd_report(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("report");
    static const struct option opts[] = {
        API_SERVER_OPTION,
        {"by", required_argument, NULL, O_BY},
        {"window", required_argument, NULL, O_WINDOW},
        {"quantiles", required_argument, NULL, O_QUANTILES},
        {"top", required_argument, NULL, O_TOP},
        {"selector", required_argument, NULL, O_SELECTOR},
        {"time", required_argument, NULL, O_TIME},
        {"start", required_argument, NULL, O_START},
        {"end", required_argument, NULL, O_END},
        {"step", required_argument, NULL, O_STEP},
        {"expect", required_argument, NULL, O_EXPECT},
        {"output", required_argument, NULL, 'o'},
        {"show-queries", no_argument, NULL, O_SHOW},
        {"query-timeout", required_argument, NULL, O_QTIMEOUT},
        {"help", no_argument, NULL, 'h'},
        NET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        cli_print_command_help(stdout, self, report_help);
        return cli_finish(EXIT_OK);
    }
    if (argc < 2)
        return cli_usage_error("report", "missing REPORT: percentiles or rates");
    psc_report_kind kind;
    if (strcmp(argv[1], "percentiles") == 0)
        kind = PSC_REPORT_PERCENTILES;
    else if (strcmp(argv[1], "rates") == 0)
        kind = PSC_REPORT_RATES;
    else
        return cli_usage_error("report", "unknown report '%s': expected percentiles or rates", argv[1]);
    const char *cmdname = kind == PSC_REPORT_PERCENTILES ? "report percentiles" : "report rates";
    argc--;
    argv++;

    psc_report_opts o;
    psc_report_opts_init(&o);
    psc_api_query_opts qo;
    memset(&qo, 0, sizeof qo);
    o.query = &qo;
    const char *server = NULL, *t_time = NULL, *t_start = NULL, *t_end = NULL, *t_step = NULL;
    char *by_buf = NULL;
    psc_expect expects[MAX_EXPECT];
    size_t nexpect = 0;
    bool user_quantiles = false, show = false;
    enum api_output out = API_OUT_TABLE;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    int c, rc = EXIT_OK;
    psc_report rep;
    memset(&rep, 0, sizeof rep);
    psc_api_client *client = NULL;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_print_command_help(stdout, self, report_help);
            rc = cli_finish(EXIT_OK);
            goto out;
        case API_OPT_SERVER: server = optarg; break;
        case O_BY: {
            free(by_buf);
            by_buf = strdup(optarg);
            if (!by_buf || split_list(by_buf, o.by, PSC_REPORT_MAX_BY, &o.nby)) {
                rc = cli_usage_error(cmdname, "invalid --by '%s': at most %d label names", optarg, PSC_REPORT_MAX_BY);
                goto out;
            }
            break;
        }
        case O_WINDOW: o.window = optarg; break;
        case O_QUANTILES: {
            char *buf = strdup(optarg);
            const char *parts[PSC_REPORT_MAX_QUANTILES];
            size_t n = 0;
            int bad = !buf || split_list(buf, parts, PSC_REPORT_MAX_QUANTILES, &n) || n == 0;
            for (size_t i = 0; i < n && !bad; i++) {
                double q;
                bad = psc_parse_double(parts[i], strlen(parts[i]), &q) != PSC_OK || !(q >= 0 && q <= 1);
                o.quantiles[i] = q;
            }
            free(buf);
            if (kind != PSC_REPORT_PERCENTILES) {
                rc = cli_usage_error(cmdname, "--quantiles is an option of 'report percentiles'");
                goto out;
            }
            if (bad) {
                rc = cli_usage_error(cmdname,
                                     "invalid --quantiles '%s': expected numbers between 0 and 1, e.g. 0.5,0.9,0.99",
                                     optarg);
                goto out;
            }
            o.nquantiles = n;
            user_quantiles = true;
            break;
        }
        case O_TOP: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (kind != PSC_REPORT_RATES) {
                rc = cli_usage_error(cmdname, "--top is an option of 'report rates'");
                goto out;
            }
            if (errno || end == optarg || *end || *optarg == '-') {
                rc = cli_usage_error(cmdname, "invalid --top '%s': expected a number (0 = all)", optarg);
                goto out;
            }
            o.top = (size_t)v;
            break;
        }
        case O_SELECTOR: o.selector = optarg; break;
        case O_TIME: t_time = optarg; break;
        case O_START: t_start = optarg; break;
        case O_END: t_end = optarg; break;
        case O_STEP: t_step = optarg; break;
        case O_EXPECT: {
            psc_error err;
            psc_error_clear(&err);
            if (nexpect >= MAX_EXPECT) {
                rc = cli_usage_error(cmdname, "too many --expect (at most %d)", MAX_EXPECT);
                goto out;
            }
            if (psc_expect_parse(optarg, &expects[nexpect], &err) != PSC_OK) {
                rc = cli_usage_error(cmdname, "%s", err.message);
                goto out;
            }
            psc_expect_field fld = expects[nexpect].field;
            if ((fld == PSC_EXPECT_QUANTILE && kind != PSC_REPORT_PERCENTILES) ||
                (fld == PSC_EXPECT_SHARE && kind != PSC_REPORT_RATES)) {
                rc = cli_usage_error(cmdname, "expectation '%s' does not fit this report (%s)", expects[nexpect].text,
                                     kind == PSC_REPORT_RATES ? "rate, share" : "pNN, rate");
                goto out;
            }
            nexpect++;
            break;
        }
        case 'o':
            if (api_parse_output(optarg, (1u << API_OUT_TABLE) | (1u << API_OUT_JSON) | (1u << API_OUT_CSV), &out)) {
                rc = cli_usage_error(cmdname, "invalid --output '%s': expected table, json or csv", optarg);
                goto out;
            }
            break;
        case O_SHOW: show = true; break;
        case O_QTIMEOUT: {
            long long ms;
            if (cli_parse_duration_ms(optarg, &ms) || ms <= 0) {
                rc = cli_usage_error(cmdname, "invalid --query-timeout '%s': expected a duration such as 30s", optarg);
                goto out;
            }
            qo.timeout = optarg;
            break;
        }
        default:
            if ((rc = cli_parse_net_option(c, optarg, &net, cmdname)) >= 0) {
                if (rc)
                    goto out;
                break;
            }
            rc = cli_usage_error(cmdname, "unknown option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = cli_usage_error(cmdname, "%s",
                             optind < argc                       ? "too many arguments: quote the selector"
                             : kind == PSC_REPORT_PERCENTILES    ? "missing METRIC"
                                                                 : "missing SELECTOR");
        goto out;
    }
    o.metric = argv[optind];
    /* Quantiles named by --expect are computed too. */
    for (size_t k = 0; k < nexpect; k++) {
        if (expects[k].field != PSC_EXPECT_QUANTILE)
            continue;
        bool have = false;
        for (size_t i = 0; i < o.nquantiles && !have; i++)
            have = fabs(o.quantiles[i] - expects[k].quantile) < 1e-12;
        if (have)
            continue;
        if (o.nquantiles >= PSC_REPORT_MAX_QUANTILES) {
            rc = cli_usage_error(cmdname, "too many quantiles (at most %d)", PSC_REPORT_MAX_QUANTILES);
            goto out;
        }
        o.quantiles[o.nquantiles++] = expects[k].quantile;
    }
    (void)user_quantiles;
    double now = api_now();
    if (t_time && api_parse_time(t_time, now, &o.time)) {
        rc = cli_usage_error(cmdname, "invalid --time '%s': expected RFC 3339, Unix seconds or now-1h", t_time);
        goto out;
    }
    bool range = t_start || t_end || t_step;
    if (range) {
        double s, e;
        if (t_end ? api_parse_time(t_end, now, &e) : (e = isnan(o.time) ? now : o.time, 0)) {
            rc = cli_usage_error(cmdname, "invalid --end '%s'", t_end);
            goto out;
        }
        if (t_start ? api_parse_time(t_start, now, &s) : (s = e - 3600, 0)) {
            rc = cli_usage_error(cmdname, "invalid --start '%s'", t_start);
            goto out;
        }
        if (!(e >= s)) {
            rc = cli_usage_error(cmdname, "--end is before --start");
            goto out;
        }
        o.start = s;
        o.end = e;
        if (t_step) {
            long long ms;
            if (cli_parse_duration_ms(t_step, &ms) || ms <= 0) {
                rc = cli_usage_error(cmdname, "invalid --step '%s': expected a duration such as 30s", t_step);
                goto out;
            }
            o.step = (double)ms / 1000.0;
        } else {
            o.step = api_default_step(e - s);
        }
        if ((e - s) / o.step > 11000) {
            rc = cli_usage_error(cmdname, "range/step gives more than 11000 points: raise --step");
            goto out;
        }
    }

    if ((rc = api_open(server, &net, cmdname, &client)) != 0)
        goto out;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_report_run(client, kind, &o, &rep, &err);
    if (show && !g_cli.quiet)
        for (size_t i = 0; i < rep.nqueries; i++) {
            fputs("promscope: query: ", stderr);
            cli_print_escaped(stderr, rep.queries[i].ptr, rep.queries[i].len);
            fputc('\n', stderr);
        }
    api_print_notes(rep.warnings, rep.nwarnings, NULL, 0);
    if (st != PSC_OK) {
        rc = api_fail(client, &err);
        goto out;
    }
    int prc = 0;
    switch (out) {
    case API_OUT_JSON: print_json(&rep, range); break;
    case API_OUT_CSV: prc = print_csv(&rep, &o); break;
    default: prc = print_table(&rep, &o, range); break;
    }
    if (!prc && fflush(stdout) == 0)
        print_notes(&rep);
    long broken = prc ? 0 : check_expectations(&rep, expects, nexpect);
    if (prc || broken < 0) {
        cli_errorf("out of memory");
        rc = EXIT_RUNTIME;
        goto out;
    }
    rc = cli_finish(broken ? EXIT_FINDINGS : EXIT_OK);
out:
    psc_report_release(&rep);
    psc_api_client_free(client);
    free(by_buf);
    cli_net_opts_release(&net);
    return rc;
}
