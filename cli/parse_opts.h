/* The parser limit options shared by every command that parses expositions
 * (BAD-INPUTS "Default limits"; DESIGN.md section 6). */
#ifndef PROMSCOPE_CLI_PARSE_OPTS_H
#define PROMSCOPE_CLI_PARSE_OPTS_H

#include <getopt.h>

#include "cli.h"

#define PARSE_LIMIT_OPTION_IDS                                                                 \
    O_MAX_LINE_BYTES = 2000, O_MAX_LABELS, O_MAX_LABEL_NAME_BYTES, O_MAX_LABEL_VALUE_BYTES,    \
    O_MAX_SAMPLES, O_ALLOW_CRLF, O_ALLOW_BOM

#define PARSE_LIMIT_OPTIONS                                                                    \
    {"max-line-bytes", required_argument, NULL, 2000},                                          \
        {"max-labels", required_argument, NULL, 2001},                                          \
        {"max-label-name-bytes", required_argument, NULL, 2002},                                \
        {"max-label-value-bytes", required_argument, NULL, 2003},                               \
        {"max-samples", required_argument, NULL, 2004},                                         \
        {"allow-crlf", no_argument, NULL, 2005}, {"allow-bom", no_argument, NULL, 2006}

#define PARSE_LIMIT_OPTIONS_HELP                                                               \
    "  --max-line-bytes N    longest accepted line (default 1MiB)\n"                           \
    "  --max-labels N        labels per series (default 256)\n"                                \
    "  --max-label-name-bytes N   (default 1KiB)\n"                                            \
    "  --max-label-value-bytes N  (default 64KiB)\n"                                           \
    "  --max-samples N       samples per input, 0 for no limit (default 1000000)\n"            \
    "  --allow-crlf          accept Windows line endings in the text formats\n"               \
    "  --allow-bom           skip a UTF-8 byte order mark in the text formats\n"

/* Handle one of the options above: returns -1 when `c` is not one of them,
 * 0 when handled, EXIT_USAGE when its value is invalid. */
int cli_parse_limit_option(int c, const char *arg, psc_parse_opts *o, const char *cmd);

#endif
