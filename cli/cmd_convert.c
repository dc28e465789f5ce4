/*
 * promscope convert: re-serialize one exposition as Prometheus text,
 * OpenMetrics or prom2json-style JSON (docs/convert.md).
 *
 * The input is validated first: with any error finding nothing is written
 * to stdout, the findings go to stderr and the exit code is 1. A model the
 * target cannot express (a name clash in OpenMetrics, a timestamp that is
 * not whole milliseconds for text) is also exit 1, with one message.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "netopts.h"
#include "parse_opts.h"

static const char convert_options[] =
    "  --to FORMAT           text, openmetrics or json (required)\n"
    "  --format F            input format: auto (default), text, text-0.0.4, text-1.0.0 or\n"
    "                        openmetrics\n"
    PARSE_LIMIT_OPTIONS_HELP
    "  -h, --help            show this help\n"
    NET_OPTIONS_HELP;

static int parse_target(const char *s, psc_out_format *out)
{
    if (strcmp(s, "text") == 0 || strcmp(s, "prometheus") == 0)
        *out = PSC_OUT_TEXT;
    else if (strcmp(s, "openmetrics") == 0 || strcmp(s, "om") == 0)
        *out = PSC_OUT_OPENMETRICS;
    else if (strcmp(s, "json") == 0)
        *out = PSC_OUT_JSON;
    else
        return -1;
    return 0;
}

static size_t count_exemplars(const psc_model *m)
{
    size_t n = 0, nf = psc_model_family_count(m);
    for (size_t i = 0; i < nf; i++) {
        const psc_family *f = psc_model_family(m, i);
        for (size_t j = 0; j < f->nmetrics; j++)
            for (size_t k = 0; k < f->metrics[j].nsamples; k++)
                n += f->metrics[j].samples[k].exemplar != NULL;
    }
    return n;
}

static int convert_one(const char *arg, psc_out_format to, const psc_parse_opts *popts,
                       struct cli_net_opts *net)
{
    /* DESIGN.md section 2: the Content-Type decides for URLs; --format is
     * the fallback when it is missing or unknown (and the format of files) */
    psc_diag_list diags;
    psc_diag_list_init(&diags);
    psc_model *m = NULL;
    psc_status st;
    char *source = NULL;
    if (cli_model_load(arg, net, popts, true, &m, &diags, &st, &source) != EXIT_OK) {
        free(source);
        psc_diag_list_release(&diags);
        return EXIT_RUNTIME;
    }
    int rc = EXIT_OK;
    if (st == PSC_E_NOMEM) {
        cli_errorf("%s: out of memory", source);
        rc = EXIT_RUNTIME;
        goto out;
    }
    if (diags.nerrors || (diags.count && !g_cli.quiet)) {
        /* the findings in the form of validate, on stderr: stdout is the data */
        struct cli_diag_printer pr;
        psc_diag_list_sort(&diags);
        cli_diag_begin(&pr, stderr, CLI_DIAG_TEXT);
        cli_diag_print(&pr, source, &diags);
        cli_diag_end(&pr);
    }
    if (diags.nerrors) {
        cli_errorf("%s: not converted: the input has %zu error%s", source, diags.nerrors,
                   diags.nerrors == 1 ? "" : "s");
        rc = EXIT_FINDINGS;
        goto out;
    }
    psc_error err;
    psc_error_clear(&err);
    st = psc_model_write(m, to, cli_write_file, stdout, &err);
    if (st == PSC_E_UNSUPPORTED) {
        if (err.line)
            cli_errorf("%s:%llu: %s", source, (unsigned long long)err.line, err.message);
        else
            cli_errorf("%s: %s", source, err.message);
        rc = EXIT_FINDINGS;
        goto out;
    }
    if (st == PSC_E_IO) {
        rc = cli_finish(EXIT_RUNTIME); /* says why, quietly for a closed pipe */
        goto out;
    }
    if (st != PSC_OK) {
        cli_errorf("%s: %s", source, err.message[0] ? err.message : psc_status_name(st));
        rc = EXIT_RUNTIME;
        goto out;
    }
    /* never a silent loss: say what the target format could not carry */
    size_t nx = to == PSC_OUT_OPENMETRICS ? 0 : count_exemplars(m);
    if (nx)
        cli_warnf("%s: dropped %zu exemplar%s: the %s output cannot carry exemplars", source, nx,
                  nx == 1 ? "" : "s", psc_out_format_name(to));
out:
    psc_model_free(m);
    psc_diag_list_release(&diags);
    free(source);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("convert");
    psc_parse_opts popts;
    psc_parse_opts_init(&popts);
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    psc_out_format to = PSC_OUT_TEXT;
    bool have_to = false;
    enum { O_TO = 1000, O_FORMAT, PARSE_LIMIT_OPTION_IDS };
    static const struct option opts[] = {
        {"to", required_argument, NULL, O_TO},
        {"format", required_argument, NULL, O_FORMAT},
        PARSE_LIMIT_OPTIONS,
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_TO:
            if (parse_target(optarg, &to)) {
                cli_net_opts_release(&net);
                return cli_usage_error("convert", "invalid --to '%s': expected text, openmetrics or json",
                                       optarg);
            }
            have_to = true;
            break;
        case O_FORMAT:
            if (cli_parse_format(optarg, &popts.format)) {
                cli_net_opts_release(&net);
                return cli_usage_error("convert", "invalid --format '%s'", optarg);
            }
            break;
        case 'h':
            cli_net_opts_release(&net);
            cli_print_command_help(stdout, self, convert_options);
            return cli_finish(EXIT_OK);
        default:
            if ((rc = cli_parse_limit_option(c, optarg, &popts, "convert")) >= 0 ||
                (rc = cli_parse_net_option(c, optarg, &net, "convert")) >= 0) {
                if (rc) {
                    cli_net_opts_release(&net);
                    return rc;
                }
                break;
            }
            cli_net_opts_release(&net);
            return cli_usage_error("convert", "unknown option '%s'", argv[optind - 1]);
        }
    }
    rc = EXIT_OK;
    if (!have_to)
        rc = cli_usage_error("convert", "missing --to (text, openmetrics or json)");
    else if (optind >= argc)
        rc = cli_usage_error("convert", "missing INPUT (a path, '-' for stdin, or a URL)");
    else if (argc - optind > 1)
        rc = cli_usage_error("convert", "too many inputs: convert takes one INPUT, got %d", argc - optind);
    if (rc != EXIT_OK) {
        cli_net_opts_release(&net);
        return rc;
    }
    /* --format is also the fallback for responses without a usable Content-Type */
    if (cli_net_set_fallback_format(&net, popts.format)) {
        cli_net_opts_release(&net);
        return EXIT_RUNTIME;
    }
    rc = convert_one(argv[optind], to, &popts, &net);
    cli_net_opts_release(&net);
    if (rc == EXIT_RUNTIME)
        return rc;
    return cli_finish(rc);
}
