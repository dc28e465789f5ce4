/*
 * promscope cardinality --server URL: the cardinality statistics of a
 * running server's head block, from /api/v1/status/tsdb (DESIGN.md
 * section 4; docs/query.md): series per metric name, distinct values per
 * label name, memory per label name, series per label pair.
 * cmd_cardinality.c hands over here when --server is given.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_common.h"
#include "commands.h"

static const char card_server_help[] =
    "  --server URL          read the statistics of this server's head block\n"
    "  --top N               entries per list (default 10; passed as limit=N)\n"
    "  --by-label            accepted for symmetry with INPUTs: the server always\n"
    "                        reports label statistics\n"
    "  -o, --output F        table (default) or json\n" NET_OPTIONS_HELP;

enum { O_TOP = 4001, O_BY_LABEL };

static int stat_section(struct api_table *t, const char *head_name, const char *head_value, const psc_api_stat *s,
                        size_t n, size_t top, double total)
{
    if (api_table_init(t, total > 0 ? 3 : 2) || api_table_head(t, 0, head_value, true))
        return -1;
    size_t nc = total > 0 ? 3 : 2;
    if (total > 0 && api_table_head(t, 1, "SHARE", true))
        return -1;
    if (api_table_head(t, nc - 1, head_name, false))
        return -1;
    for (size_t i = 0; i < n && (!top || i < top); i++) {
        long row = api_table_row(t);
        char b[48];
        if (row < 0)
            return -1;
        snprintf(b, sizeof b, "%.0f", s[i].value);
        if (api_table_setz(t, (size_t)row, 0, b))
            return -1;
        if (total > 0) {
            snprintf(b, sizeof b, "%.1f%%", s[i].value * 100 / total);
            if (api_table_setz(t, (size_t)row, 1, b))
                return -1;
        }
        if (api_table_set(t, (size_t)row, nc - 1, s[i].name.ptr, s[i].name.len))
            return -1;
    }
    return 0;
}

static int print_table(const psc_api_response *r, size_t top)
{
    char b[64];
    if (!isnan(r->head_series)) {
        printf("head block: %.0f series", r->head_series);
        if (!isnan(r->head_chunks))
            printf(", %.0f chunks", r->head_chunks);
        if (!isnan(r->head_min_time_ms) && !isnan(r->head_max_time_ms) && r->head_max_time_ms >= r->head_min_time_ms &&
            r->head_min_time_ms > 0) {
            char from[40], to[40];
            api_fmt_time(from, sizeof from, r->head_min_time_ms / 1000);
            api_fmt_time(to, sizeof to, r->head_max_time_ms / 1000);
            printf(", %s to %s", from, to);
        }
        fputc('\n', stdout);
    }
    (void)b;
    struct {
        const char *title, *name, *value;
        const psc_api_stat *s;
        size_t n;
        bool share;
    } sec[] = {
        {"series per metric", "METRIC", "SERIES", r->series_by_metric, r->nseries_by_metric, true},
        {"distinct values per label", "LABEL", "VALUES", r->values_by_label, r->nvalues_by_label, false},
        {"memory per label (bytes)", "LABEL", "BYTES", r->memory_by_label, r->nmemory_by_label, false},
        {"series per label pair", "PAIR", "SERIES", r->series_by_pair, r->nseries_by_pair, true},
    };
    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++) {
        if (!sec[i].n)
            continue;
        printf("\n%s\n", sec[i].title);
        struct api_table t;
        memset(&t, 0, sizeof t);
        int rc = stat_section(&t, sec[i].name, sec[i].value, sec[i].s, sec[i].n, top,
                              sec[i].share && !isnan(r->head_series) ? r->head_series : 0);
        if (!rc)
            api_table_print(&t, stdout);
        api_table_release(&t);
        if (rc)
            return -1;
    }
    return 0;
}

static void json_stats(const char *key, const char *namekey, const char *valkey, const psc_api_stat *s, size_t n,
                       size_t top, double total)
{
    printf(",\"%s\":[", key);
    for (size_t i = 0; i < n && (!top || i < top); i++) {
        printf(i ? ",\n {\"%s\":" : "\n {\"%s\":", namekey);
        cli_json_string(stdout, s[i].name.ptr, s[i].name.len);
        printf(",\"%s\":", valkey);
        api_json_number(stdout, s[i].value);
        if (total > 0) {
            fputs(",\"share\":", stdout);
            api_json_number(stdout, s[i].value / total);
        }
        fputc('}', stdout);
    }
    fputs(n ? "\n]" : "]", stdout);
}

static void print_json(const psc_api_response *r, const char *server, size_t top)
{
    fputs("{\"server\":", stdout);
    cli_json_string(stdout, server, strlen(server));
    fputs(",\"total_series\":", stdout);
    api_json_number(stdout, r->head_series);
    fputs(",\"head_chunks\":", stdout);
    api_json_number(stdout, r->head_chunks);
    double total = isnan(r->head_series) ? 0 : r->head_series;
    json_stats("families", "name", "series", r->series_by_metric, r->nseries_by_metric, top, total);
    json_stats("labels", "name", "values", r->values_by_label, r->nvalues_by_label, top, 0);
    json_stats("memory_by_label", "name", "bytes", r->memory_by_label, r->nmemory_by_label, top, 0);
    json_stats("series_by_label_pair", "pair", "series", r->series_by_pair, r->nseries_by_pair, top, total);
    fputs("}\n", stdout);
}

int cli_cardinality_server(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("cardinality");
    static const struct option opts[] = {
        API_SERVER_OPTION,
        {"top", required_argument, NULL, O_TOP},
        {"by-label", no_argument, NULL, O_BY_LABEL},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        NET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL;
    size_t top = 10;
    enum api_output out = API_OUT_TABLE;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    int c, rc = EXIT_OK;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            if (self)
                cli_print_command_help(stdout, self, card_server_help);
            rc = cli_finish(EXIT_OK);
            goto out;
        case API_OPT_SERVER: server = optarg; break;
        case O_TOP: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || *optarg == '-' || v > 1000000) {
                rc = cli_usage_error("cardinality", "invalid --top '%s': expected a number (0 = server default)", optarg);
                goto out;
            }
            top = (size_t)v;
            break;
        }
        case O_BY_LABEL: break;
        case 'o':
            if (api_parse_output(optarg, (1u << API_OUT_TABLE) | (1u << API_OUT_JSON), &out)) {
                rc = cli_usage_error("cardinality", "invalid --output '%s': expected table or json", optarg);
                goto out;
            }
            break;
        default:
            if ((rc = cli_parse_net_option(c, optarg, &net, "cardinality")) >= 0) {
                if (rc)
                    goto out;
                break;
            }
            rc = cli_usage_error("cardinality", "option '%s' does not apply with --server", argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("cardinality", "INPUTs and --server exclude each other ('%s')", argv[optind]);
        goto out;
    }
    psc_api_client *client = NULL;
    if ((rc = api_open(server, &net, "cardinality", &client)) != 0)
        goto out;
    psc_api_response resp;
    psc_error err;
    psc_error_clear(&err);
    psc_status st = psc_api_tsdb_status_get(client, top, &resp, &err);
    api_print_notes(resp.warnings, resp.nwarnings, resp.infos, resp.ninfos);
    if (st != PSC_OK) {
        rc = api_fail(client, &err);
    } else if (out == API_OUT_JSON) {
        print_json(&resp, psc_api_client_url(client), top);
        rc = cli_finish(EXIT_OK);
    } else if (print_table(&resp, top)) {
        cli_errorf("out of memory");
        rc = EXIT_RUNTIME;
    } else {
        rc = cli_finish(EXIT_OK);
    }
    psc_api_response_release(&resp);
    psc_api_client_free(client);
out:
    cli_net_opts_release(&net);
    return rc;
}
