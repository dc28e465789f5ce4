/*
 * promscope cardinality: series per metric family (with share of the total)
 * and, with --by-label, distinct values per label name, computed from
 * expositions (lib/card, docs/cardinality.md).
 *
 * The options are a table plus one switch so that other modes of the
 * command (statistics of a running server) can hook in before the INPUTs
 * are read.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "netopts.h"
#include "parse_opts.h"
#include "promscope/card.h"

static const char card_options[] =
    "  --top N               show the N largest families and labels (default 10; 0 = all)\n"
    "  --by-label            also show distinct values per label name, with example values\n"
    "                        and labels whose values look like ids (unbounded)\n"
    "  -o, --output FORMAT   table (default) or json\n"
    "  --format F            auto (default), text, text-0.0.4, text-1.0.0 or openmetrics\n"
    PARSE_LIMIT_OPTIONS_HELP
    NET_OPTIONS_HELP
    "  --server URL          instead of INPUTs: the statistics of a running Prometheus\n"
    "                        (/api/v1/status/tsdb); see 'promscope cardinality --server URL -h'\n"
    "  -h, --help            show this help\n";

enum card_out { CARD_TABLE, CARD_JSON };

struct card_args {
    unsigned long long top;
    bool by_label;
    enum card_out out;
    psc_parse_opts po;
    struct cli_net_opts net;
};

static int digits(unsigned long long v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static size_t shown(size_t n, unsigned long long top)
{
    return top && top < n ? (size_t)top : n;
}

static void print_table(const psc_card *c, const struct card_args *a, size_t ninputs)
{
    FILE *f = stdout;
    size_t nf = psc_card_family_count(c), nshow = shown(nf, a->top);
    uint64_t total = psc_card_total_series(c);
    int w = digits(total) > 6 ? digits(total) : 6;
    fprintf(f, "%*s  %6s  %-14s  %s\n", w, "SERIES", "SHARE", "TYPE", "METRIC");
    uint64_t rest = 0;
    for (size_t i = 0; i < nf; i++) {
        const psc_card_family *fam = psc_card_family_at(c, i);
        if (i >= nshow) {
            rest += fam->series;
            continue;
        }
        fprintf(f, "%*llu  %5.1f%%  %-14s  ", w, (unsigned long long)fam->series, fam->share * 100,
                psc_metric_type_name(fam->type));
        cli_print_escaped(f, fam->name.ptr, fam->name.len);
        fputc('\n', f);
    }
    if (nshow < nf)
        fprintf(f, "%*llu  %5.1f%%  %-14s  (%zu more %s)\n", w, (unsigned long long)rest,
                total ? (double)rest * 100 / (double)total : 0.0, "", nf - nshow,
                nf - nshow == 1 ? "family" : "families");
    fprintf(f, "%llu series in %zu %s", (unsigned long long)total, nf, nf == 1 ? "family" : "families");
    if (ninputs > 1)
        fprintf(f, " from %zu inputs", ninputs);
    fputc('\n', f);
    if (!a->by_label)
        return;

    size_t nl = psc_card_label_count(c), lshow = shown(nl, a->top);
    unsigned long long maxv = 0, maxs = 0;
    for (size_t i = 0; i < lshow; i++) {
        const psc_card_label *l = psc_card_label_at(c, i);
        if (l->values > maxv)
            maxv = l->values;
        if (l->series > maxs)
            maxs = l->series;
    }
    int wv = digits(maxv) > 6 ? digits(maxv) : 6, ws = digits(maxs) > 6 ? digits(maxs) : 6;
    size_t wn = 5; /* "LABEL" */
    for (size_t i = 0; i < lshow; i++) {
        size_t n = psc_card_label_at(c, i)->name.len;
        if (n > wn)
            wn = n > 40 ? 40 : n;
    }
    fprintf(f, "\n%*s  %*s  %-*s  %-9s  %s\n", wv, "VALUES", ws, "SERIES", (int)wn, "LABEL", "UNBOUNDED",
            "EXAMPLES");
    for (size_t i = 0; i < lshow; i++) {
        const psc_card_label *l = psc_card_label_at(c, i);
        fprintf(f, "%*llu  %*llu  ", wv, (unsigned long long)l->values, ws, (unsigned long long)l->series);
        cli_print_escaped(f, l->name.ptr, l->name.len);
        /* pad by bytes: names are ASCII in the legacy format; UTF-8 names may misalign */
        for (size_t k = l->name.len; k < wn; k++)
            fputc(' ', f);
        fprintf(f, "  %-9s  ", l->unbounded ? psc_value_kind_name(l->id_kind) : "-");
        for (size_t k = 0; k < l->nexamples; k++) {
            size_t n = l->examples[k].len > 40 ? 40 : l->examples[k].len;
            fputs(k ? ", \"" : "\"", f);
            cli_print_escaped(f, l->examples[k].ptr, n);
            fputs(n < l->examples[k].len ? "...\"" : "\"", f);
        }
        if (l->values > l->nexamples)
            fputs(", ...", f);
        fputc('\n', f);
    }
    if (lshow < nl)
        fprintf(f, "(%zu more %s)\n", nl - lshow, nl - lshow == 1 ? "label" : "labels");
}

static void print_json(const psc_card *c, const struct card_args *a)
{
    FILE *f = stdout;
    size_t nf = psc_card_family_count(c), nshow = shown(nf, a->top);
    fprintf(f, "{\"total_series\":%llu,\"families_total\":%zu,\"families\":[",
            (unsigned long long)psc_card_total_series(c), nf);
    for (size_t i = 0; i < nshow; i++) {
        const psc_card_family *fam = psc_card_family_at(c, i);
        fputs(i ? ",\n {\"name\":" : "\n {\"name\":", f);
        cli_json_string(f, fam->name.ptr, fam->name.len);
        const char *t = psc_metric_type_name(fam->type);
        fputs(",\"type\":", f);
        cli_json_string(f, t, strlen(t));
        fprintf(f, ",\"series\":%llu,\"share\":%.6g}", (unsigned long long)fam->series, fam->share);
    }
    fputs(nshow ? "\n]" : "]", f);
    if (a->by_label) {
        size_t nl = psc_card_label_count(c), lshow = shown(nl, a->top);
        fprintf(f, ",\"labels_total\":%zu,\"labels\":[", nl);
        for (size_t i = 0; i < lshow; i++) {
            const psc_card_label *l = psc_card_label_at(c, i);
            fputs(i ? ",\n {\"name\":" : "\n {\"name\":", f);
            cli_json_string(f, l->name.ptr, l->name.len);
            fprintf(f, ",\"values\":%llu,\"series\":%llu,\"examples\":[", (unsigned long long)l->values,
                    (unsigned long long)l->series);
            for (size_t k = 0; k < l->nexamples; k++) {
                if (k)
                    fputc(',', f);
                cli_json_string(f, l->examples[k].ptr, l->examples[k].len);
            }
            fprintf(f, "],\"unbounded\":%s,\"id_values\":%llu,\"id_kind\":", l->unbounded ? "true" : "false",
                    (unsigned long long)l->id_values);
            if (l->id_values) {
                const char *k = psc_value_kind_name(l->id_kind);
                cli_json_string(f, k, strlen(k));
                fputs(",\"id_example\":", f);
                cli_json_string(f, l->id_example.ptr, l->id_example.len);
            } else {
                fputs("null,\"id_example\":null", f);
            }
            fputc('}', f);
        }
        fputs(lshow ? "\n]" : "]", f);
    }
    fputs("}\n", f);
}

int cmd_cardinality(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("cardinality");
    /* `--server URL` is the other mode of the command: statistics of a
     * running server (cli/cardinality_server.c), which parses argv itself. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--server") == 0 || strncmp(argv[i], "--server=", 9) == 0)
            return cli_cardinality_server(argc, argv);
    enum { O_TOP = 1000, O_BY_LABEL, O_OUTPUT, O_FORMAT, PARSE_LIMIT_OPTION_IDS };
    static const struct option opts[] = {
        {"top", required_argument, NULL, O_TOP},
        {"by-label", no_argument, NULL, O_BY_LABEL},
        {"output", required_argument, NULL, O_OUTPUT},
        {"format", required_argument, NULL, O_FORMAT},
        PARSE_LIMIT_OPTIONS,
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct card_args a;
    memset(&a, 0, sizeof a);
    a.top = 10;
    a.out = CARD_TABLE;
    psc_parse_opts_init(&a.po);
    cli_net_opts_init(&a.net);
    int c, rc = EXIT_OK;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case O_TOP: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || *optarg == '-') {
                rc = cli_usage_error("cardinality", "invalid --top '%s': expected a number (0 = all)", optarg);
                goto done;
            }
            a.top = v;
            break;
        }
        case O_BY_LABEL:
            a.by_label = true;
            break;
        case 'o':
        case O_OUTPUT:
            if (strcmp(optarg, "table") == 0)
                a.out = CARD_TABLE;
            else if (strcmp(optarg, "json") == 0)
                a.out = CARD_JSON;
            else {
                rc = cli_usage_error("cardinality", "invalid --output '%s': expected table or json", optarg);
                goto done;
            }
            break;
        case O_FORMAT:
            if (cli_parse_format(optarg, &a.po.format)) {
                rc = cli_usage_error("cardinality", "invalid --format '%s'", optarg);
                goto done;
            }
            break;
        case 'h':
            cli_print_command_help(stdout, self, card_options);
            rc = cli_finish(EXIT_OK);
            goto done;
        default:
            if ((rc = cli_parse_limit_option(c, optarg, &a.po, "cardinality")) >= 0) {
                if (rc)
                    goto done;
                break;
            }
            if ((rc = cli_parse_net_option(c, optarg, &a.net, "cardinality")) >= 0) {
                if (rc)
                    goto done;
                break;
            }
            rc = cli_usage_error("cardinality", "unknown option '%s'", argv[optind - 1]);
            goto done;
        }
    }
    rc = EXIT_OK;
    if (optind >= argc) {
        rc = cli_usage_error("cardinality", "missing INPUT (a path, '-' for stdin, or a URL)");
        goto done;
    }
    if ((rc = cli_net_opts_finish(&a.net, "cardinality")) != 0)
        goto done;

    psc_card_opts co;
    psc_card_opts_init(&co);
    co.by_label = a.by_label;
    psc_card *card = psc_card_new(&co);
    if (!card) {
        cli_errorf("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    int status = EXIT_OK;
    size_t ninputs = 0;
    for (int i = optind; i < argc; i++) {
        psc_diag_list diags;
        psc_diag_list_init(&diags);
        psc_model *m = NULL;
        psc_status st;
        char *source = NULL;
        if (cli_model_load(argv[i], &a.net, &a.po, false, &m, &diags, &st, &source) != EXIT_OK) {
            free(source);
            psc_diag_list_release(&diags);
            status = EXIT_RUNTIME;
            continue;
        }
        if (!m) {
            cli_errorf("%s: out of memory", source);
            status = EXIT_RUNTIME;
        } else {
            if (diags.nerrors) {
                /* the report still covers every valid line */
                const psc_diag *first = NULL;
                for (size_t k = 0; k < diags.count && !first; k++)
                    if (diags.items[k].severity == PSC_SEV_ERROR)
                        first = &diags.items[k];
                if (!g_cli.quiet) {
                    fprintf(stderr, "promscope: ");
                    cli_print_escaped(stderr, source, strlen(source));
                    fprintf(stderr, ": %zu format %s, lines with errors are not counted", diags.nerrors,
                            diags.nerrors == 1 ? "error" : "errors");
                    if (first)
                        fprintf(stderr, " (first at line %llu: %s)", (unsigned long long)first->line,
                                first->message);
                    fputs("; see 'promscope validate'\n", stderr);
                }
                if (status == EXIT_OK)
                    status = EXIT_FINDINGS;
            }
            psc_error err;
            psc_error_clear(&err);
            if (psc_card_add(card, m, &err) != PSC_OK) {
                cli_errorf("%s: out of memory", source);
                status = EXIT_RUNTIME;
            }
            ninputs++;
        }
        (void)st;
        psc_model_free(m);
        psc_diag_list_release(&diags);
        free(source);
    }
    if (ninputs) {
        if (a.out == CARD_JSON)
            print_json(card, &a);
        else
            print_table(card, &a, ninputs);
    }
    psc_card_free(card);
    rc = cli_finish(status);
done:
    cli_net_opts_release(&a.net);
    return rc;
}
