/*
 * The server options shared by every command that reads INPUTs or talks to
 * a server (DESIGN.md section 4; docs/man/promscope-scrape.1.scd "SERVER
 * OPTIONS"). A command adds NET_OPTIONS to its getopt_long table,
 * NET_OPTIONS_HELP to its help text, and calls cli_parse_net_option() from
 * the default branch of its option switch, like cli/parse_opts.h:
 *
 *     struct cli_net_opts net;
 *     cli_net_opts_init(&net);
 *     ...
 *     default:
 *         if ((rc = cli_parse_net_option(c, optarg, &net, "validate")) >= 0) {
 *             if (rc)
 *                 return rc;   (after cli_net_opts_release(&net))
 *             break;
 *         }
 *     ...
 *     if ((rc = cli_net_opts_finish(&net, "validate")) != 0)
 *         return rc;           (optional: cli_fetch_url() does it lazily)
 *     ...
 *     cli_net_opts_release(&net);
 *
 * Secrets never come from argv: the bearer token comes from
 * --bearer-token-file or PROMSCOPE_BEARER_TOKEN, the basic-auth password
 * from --password-file or PROMSCOPE_PASSWORD (BAD-INPUTS H5, H6).
 */
#ifndef PROMSCOPE_CLI_NETOPTS_H
#define PROMSCOPE_CLI_NETOPTS_H

#include <getopt.h>

#include "cli.h"

/* getopt_long values 3000..3016 belong to these options. */
#define NET_OPTION_FIRST 3000
#define NET_OPTION_LAST 3016

#define NET_OPTIONS                                                                                \
    {"timeout", required_argument, NULL, 3000},                                                    \
        {"max-size", required_argument, NULL, 3001},                                               \
        {"header", required_argument, NULL, 3002},                                                 \
        {"bearer-token-file", required_argument, NULL, 3003},                                      \
        {"basic-auth", required_argument, NULL, 3004},                                             \
        {"password-file", required_argument, NULL, 3005},                                          \
        {"ca-file", required_argument, NULL, 3006},                                                \
        {"cert", required_argument, NULL, 3007},                                                   \
        {"key", required_argument, NULL, 3008},                                                    \
        {"insecure", no_argument, NULL, 3009},                                                     \
        {"connect-timeout", required_argument, NULL, 3010},                                        \
        {"low-speed-time", required_argument, NULL, 3011},                                         \
        {"low-speed-limit", required_argument, NULL, 3012},                                        \
        {"accept", required_argument, NULL, 3013},                                                 \
        {"escaping", required_argument, NULL, 3014},                                               \
        {"no-gzip", no_argument, NULL, 3015},                                                      \
        {"max-redirects", required_argument, NULL, 3016}

#define NET_OPTIONS_HELP                                                                           \
    "server options (for URL inputs and servers):\n"                                               \
    "  --timeout D           whole transfer incl. redirects (default 10s)\n"                       \
    "  --max-size BYTES      body limit after decompression; also caps stdin (default 64MiB)\n"   \
    "  --connect-timeout D   TCP and TLS connect (default 5s)\n"                                   \
    "  --low-speed-time D    abort when below --low-speed-limit for this long (default 10s)\n"      \
    "  --low-speed-limit BYTES  bytes per second (default 1)\n"                                    \
    "  --header 'K: V'       extra request header (repeatable)\n"                                  \
    "  --bearer-token-file F bearer token (else $PROMSCOPE_BEARER_TOKEN)\n"                       \
    "  --basic-auth USER     basic auth; password from --password-file or $PROMSCOPE_PASSWORD\n"  \
    "  --password-file F     basic auth password\n"                                                \
    "  --ca-file F           PEM CA bundle to verify servers with\n"                               \
    "  --cert F, --key F     PEM client certificate and key (mutual TLS)\n"                        \
    "  --insecure            do not verify server certificates (warns)\n"                          \
    "  --accept VALUE        Accept header of scrapes (default: as Prometheus 3)\n"                \
    "  --escaping E          allow-utf-8 (default), underscores, dots or values\n"                 \
    "  --no-gzip             ask for an uncompressed body (Accept-Encoding: identity)\n"           \
    "  --max-redirects N     0..20 (default 5); never https to http\n"

/* Handle one of the options above: -1 when `c` is not one of them, 0 when
 * handled, EXIT_USAGE (bad value) or EXIT_RUNTIME (unreadable file) after
 * printing why. */
int cli_parse_net_option(int c, const char *arg, struct cli_net_opts *net, const char *cmd);

/* After option parsing: take secrets from the environment where no file was
 * given, check that the options fit together, warn about --insecure. 0 on
 * success, else an exit code after printing why. Idempotent. */
int cli_net_opts_finish(struct cli_net_opts *net, const char *cmd);

/* Scrapes of URL INPUTs use `f` when the response has no usable
 * Content-Type (with a warning), like Prometheus' fallback_scrape_protocol.
 * PSC_FORMAT_AUTO (the default) makes such a response an error. Returns 0,
 * or EXIT_RUNTIME when out of memory. */
int cli_net_set_fallback_format(struct cli_net_opts *net, psc_format f);

/* The fetch options for library calls (psc_fetch, psc_api_client_new):
 * limits, auth, TLS, headers. Valid until cli_net_opts_release(); the
 * strings it points to too. Scrape mode is off; callers that scrape set
 * .scrape and .fallback_format on a copy. Calls cli_net_opts_finish() if
 * the command did not; NULL after printing why when that fails (*rc gets
 * the exit code). */
const psc_fetch_opts *cli_net_fetch_opts(const struct cli_net_opts *net, int *rc);

/* --targets-from SERVER_URL: the scrapeUrl of every active target of a
 * Prometheus server (/api/v1/targets), duplicates removed, in response
 * order. *urls is a malloc'd array of malloc'd strings (free each and the
 * array). 0, or EXIT_RUNTIME after printing why. */
int cli_targets_from(const char *server, const struct cli_net_opts *net, char ***urls, size_t *n);

/* url with its userinfo redacted and control characters escaped, as
 * messages and diagnostics show it (BAD-INPUTS F19, H1); malloc'd, NULL
 * when out of memory. */
char *cli_url_source(const char *url);
/* s with control characters, DEL and backslash C-escaped; malloc'd. */
char *cli_escape_dup(const char *s);

#endif
