/*
 * promscope - entry point: global options and the exact-match command table
 * (no prefix matching, STYLE.md "Command line").
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

struct cli_global g_cli;

const struct cli_command cli_commands[] = {
    {"help", cmd_help, "promscope help [COMMAND]", "show the commands, or the synopsis of one"},
    {"validate", cmd_validate, "promscope validate [--format auto|text|openmetrics] [--output text|json|github] [--strict] [--targets-from SERVER_URL] [LIMITS] [SERVER OPTIONS] INPUT...",
     "strict format check of expositions; every error reported with line and column"},
    {"convert", cmd_convert, "promscope convert --to text|openmetrics|json [--format auto|text|openmetrics] INPUT",
     "re-serialize an exposition to stdout"},
    {"lint", cmd_lint, "promscope lint [--format F] [--output text|json|github|sarif] [--fail-on error|warning|info] [--disable ID,...] [--enable ID,...] [--ignore-metric REGEX]... [--max-series-per-metric N] [--max-label-values N] [--max-series N] [--baseline FILE] [--config FILE] INPUT...",
     "validate, then naming, metadata, histogram and cardinality rules for CI"},
    {"cardinality", cmd_cardinality, "promscope cardinality [--top N] [--by-label] [--output table|json] [--format F] INPUT... | --server URL",
     "series per metric family and distinct values per label"},
    {"diff", cmd_diff, "promscope diff [--output text|json] [--only families|metadata|series|values] [--ignore-label L]... [--ignore-metric REGEX]... [--interval D] [--after D] [--quantiles LIST] [--min-change X] [--format F] [SERVER OPTIONS] OLD NEW",
     "what changed between two snapshots: families, series, values, rates, resets, percentiles"},
    {"scrape", cmd_scrape, "promscope scrape [--summary] [-o DIR] [--parallel N] [--output table|json] [--format F] [--targets-from SERVER_URL] [SERVER OPTIONS] URL...",
     "fetch targets like Prometheus does; print a body, write files, or a per-target summary"},
    {"query", cmd_query, "promscope query [--server URL] [--time T | --start T --end T --step D] [--output table|json|csv|chart] [SERVER OPTIONS] EXPR",
     "PromQL instant query as a table, or range query as a chart"},
    {"series", cmd_series, "promscope series [--server URL] [--start T] [--end T] [--limit N] [--output table|json] [SERVER OPTIONS] MATCH...",
     "series of a Prometheus server matching selectors"},
    {"labels", cmd_labels, "promscope labels [--server URL] [--match SELECTOR]... [--start T] [--end T] [--output table|json] [SERVER OPTIONS]",
     "label names of a Prometheus server"},
    {"label-values", cmd_label_values, "promscope label-values [--server URL] [--match SELECTOR]... [--start T] [--end T] [--output table|json] [SERVER OPTIONS] NAME",
     "values of one label on a Prometheus server"},
    {"metadata", cmd_metadata, "promscope metadata [--server URL] [--limit N] [--output table|json] [SERVER OPTIONS] [METRIC]",
     "type, unit and help of metrics known to a Prometheus server"},
    {"targets", cmd_targets, "promscope targets [--server URL] [--output table|json] [SERVER OPTIONS]",
     "scrape targets of a Prometheus server: health, last error, scrape duration"},
    {"report", cmd_report, "promscope report percentiles|rates [--by L,...] [--window D] [--quantiles Q,...] [--top N] [--selector S] [--time T] [--start T --end T --step D] [--expect EXPR] [--output table|json|csv] [--server URL] [SERVER OPTIONS] METRIC|SELECTOR",
     "p50/p90/p99 per group of a histogram, or the fastest-moving counters"},
    {NULL, NULL, NULL, NULL},
};

const struct cli_command *cli_find_command(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void print_main_usage(FILE *f)
{
    fprintf(f, "usage: promscope [--color=auto|always|never] [-q] COMMAND [OPTIONS] [ARGS]\n"
               "       promscope --version\n\ncommands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        fprintf(f, "  %-13s %s\n", c->name, c->summary);
    fprintf(f, "\nRun 'promscope help COMMAND' or 'promscope COMMAND -h' for the options of a command.\n"
               "Exit codes: 0 success, 1 findings, 2 usage error, 3 runtime failure.\n");
}

int cmd_help(int argc, char **argv)
{
    if (argc > 2)
        return cli_usage_error("help", "too many arguments");
    if (argc == 2 && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0) {
        const struct cli_command *c = cli_find_command(argv[1]);
        if (!c)
            return cli_usage_error("help", "unknown command '%s'", argv[1]);
        char *args[] = {(char *)c->name, (char *)"-h", NULL};
        return c->run(2, args);
    }
    print_main_usage(stdout);
    return cli_finish(EXIT_OK);
}

int main(int argc, char **argv)
{
    enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color = COLOR_AUTO;
    static const struct option opts[] = {
        {"color", required_argument, NULL, 'C'},
        {"quiet", no_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* "+": stop at the first non-option, the command name. */
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qhV", opts, NULL)) != -1) {
        switch (c) {
        case 'C':
            if (strcmp(optarg, "auto") == 0)
                color = COLOR_AUTO;
            else if (strcmp(optarg, "always") == 0)
                color = COLOR_ALWAYS;
            else if (strcmp(optarg, "never") == 0)
                color = COLOR_NEVER;
            else
                return cli_usage_error(NULL, "invalid --color '%s': expected auto, always or never", optarg);
            break;
        case 'q':
            g_cli.quiet = true;
            break;
        case 'V':
            printf("promscope %s\n", psc_version());
            return cli_finish(EXIT_OK);
        case 'h':
            print_main_usage(stdout);
            return cli_finish(EXIT_OK);
        default:
            return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
        }
    }
    g_cli.stdout_tty = isatty(STDOUT_FILENO);
    g_cli.stderr_tty = isatty(STDERR_FILENO);
    const char *nc = getenv("NO_COLOR");
    bool no_color = nc && *nc;
    g_cli.color_stdout = color == COLOR_ALWAYS || (color == COLOR_AUTO && !no_color && g_cli.stdout_tty);
    g_cli.color_stderr = color == COLOR_ALWAYS || (color == COLOR_AUTO && !no_color && g_cli.stderr_tty);

    if (optind >= argc) {
        print_main_usage(stderr);
        return EXIT_USAGE;
    }
    const struct cli_command *cmd = cli_find_command(argv[optind]);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command '%s' (see 'promscope help')", argv[optind]);
    /* Each command parses its own options with getopt_long; argv[0] is the
     * command name. optind = 0 makes glibc re-initialise getopt. */
    int first = optind;
    optind = 0;
    opterr = 0;
    return cmd->run(argc - first, argv + first);
}
