/* promscope validate: strict format check; every error reported. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "netopts.h"
#include "parse_opts.h"

static const char validate_options[] =
    "  --format F            auto (default), text, text-0.0.4, text-1.0.0 or openmetrics\n"
    "  --output FORMAT       text (default), json or github\n"
    "  --strict              warnings (missing final newline, interleaved families in text\n"
    "                        formats) become errors\n"
    PARSE_LIMIT_OPTIONS_HELP
    "  --targets-from URL    also validate the active targets of this Prometheus server\n"
    "  -h, --help            show this help\n"
    NET_OPTIONS_HELP;

int cmd_validate(int argc, char **argv)
{
    const struct cli_command *self = cli_find_command("validate");
    psc_parse_opts popts;
    psc_parse_opts_init(&popts);
    enum cli_diag_format ofmt = CLI_DIAG_TEXT;
    struct cli_net_opts net;
    cli_net_opts_init(&net);
    enum { O_FORMAT = 1000, O_OUTPUT, O_STRICT, O_TARGETS_FROM, PARSE_LIMIT_OPTION_IDS };
    const char *targets_from = NULL;
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, O_OUTPUT},
        {"strict", no_argument, NULL, O_STRICT},
        {"targets-from", required_argument, NULL, O_TARGETS_FROM},
        PARSE_LIMIT_OPTIONS,
        NET_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            if (cli_parse_format(optarg, &popts.format))
                return cli_usage_error("validate", "invalid --format '%s'", optarg);
            break;
        case O_OUTPUT:
            if (cli_parse_diag_format(optarg, &ofmt))
                return cli_usage_error("validate", "invalid --output '%s': expected text, json or github", optarg);
            break;
        case O_STRICT:
            popts.flags |= PSC_PARSE_STRICT;
            break;
        case O_TARGETS_FROM:
            if (!cli_is_url(optarg))
                return cli_usage_error("validate", "invalid --targets-from '%s': expected an http(s) URL", optarg);
            targets_from = optarg;
            break;
        case 'h':
            cli_print_command_help(stdout, self, validate_options);
            return cli_finish(EXIT_OK);
        default:
            if ((rc = cli_parse_limit_option(c, optarg, &popts, "validate")) >= 0 ||
                (rc = cli_parse_net_option(c, optarg, &net, "validate")) >= 0) {
                if (rc) {
                    cli_net_opts_release(&net);
                    return rc;
                }
                break;
            }
            return cli_usage_error("validate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc && !targets_from)
        return cli_usage_error("validate", "missing INPUT (a path, '-' for stdin, or a URL)");
    /* --format is also the fallback for responses without a usable Content-Type */
    char **targets = NULL;
    size_t ntargets = 0;
    if (cli_net_set_fallback_format(&net, popts.format) ||
        (targets_from && (rc = cli_targets_from(targets_from, &net, &targets, &ntargets)) != 0)) {
        cli_net_opts_release(&net);
        return EXIT_RUNTIME;
    }

    int status = EXIT_OK;
    struct cli_diag_printer pr;
    cli_diag_begin(&pr, stdout, ofmt);
    for (int i = optind; i < argc + (int)ntargets; i++) {
        const char *arg = i < argc ? argv[i] : targets[i - argc];
        psc_diag_list diags;
        psc_diag_list_init(&diags);
        psc_parse_opts o = popts;
        psc_status st;
        char *source = NULL;
        psc_error err;
        psc_error_clear(&err);
        if (cli_is_url(arg)) {
            struct cli_input in;
            if ((rc = cli_input_load(arg, &net, &in)) != EXIT_OK) {
                cli_input_release(&in);
                status = EXIT_RUNTIME;
                continue;
            }
            /* DESIGN.md section 2: the Content-Type decides for scrapes;
             * --format is only the fallback when it is missing or unknown */
            if (in.format != PSC_FORMAT_AUTO)
                o.format = in.format;
            st = psc_validate_buffer(in.data, in.len, &o, &diags);
            source = in.source;
            in.source = NULL;
            cli_input_release(&in);
        } else {
            /* files and stdin are streamed: memory does not grow with the input */
            struct cli_stream s;
            if (cli_stream_open(arg, &net, &s) != EXIT_OK) {
                cli_stream_close(&s);
                status = EXIT_RUNTIME;
                continue;
            }
            if (o.format == PSC_FORMAT_AUTO)
                o.format = s.format;
            st = psc_validate_stream(cli_stream_read, &s, &o, &diags, &err);
            source = s.source;
            s.source = NULL;
            cli_stream_close(&s);
        }
        if (st == PSC_E_IO) {
            /* the input was cut (read error, --max-size of a pipe): show what
             * was found up to there, then why validation stopped */
            psc_diag_list_sort(&diags);
            cli_diag_print(&pr, source, &diags);
            cli_errorf("%s: %s", source, err.message);
            status = EXIT_RUNTIME;
        } else if (st == PSC_E_NOMEM) {
            cli_errorf("%s: out of memory", source);
            status = EXIT_RUNTIME;
        } else {
            psc_diag_list_sort(&diags);
            cli_diag_print(&pr, source, &diags);
            if (diags.nerrors && status == EXIT_OK)
                status = EXIT_FINDINGS;
        }
        free(source);
        psc_diag_list_release(&diags);
    }
    cli_diag_end(&pr);
    for (size_t i = 0; i < ntargets; i++)
        free(targets[i]);
    free(targets);
    cli_net_opts_release(&net);
    return cli_finish(status);
}
