#include "parse_opts.h"

int cli_parse_limit_option(int c, const char *arg, psc_parse_opts *o, const char *cmd)
{
    unsigned long long v = 0;
    if (c >= 2000 && c <= 2004) {
        if (cli_parse_size(arg, &v) || (c != 2004 && v == 0) || v > (1ull << 40))
            return cli_usage_error(cmd, "invalid value '%s' for a limit", arg);
    }
    switch (c) {
    case 2000: o->max_line_bytes = (size_t)v; return 0;
    case 2001: o->max_labels = (size_t)v; return 0;
    case 2002: o->max_label_name_bytes = (size_t)v; return 0;
    case 2003: o->max_label_value_bytes = (size_t)v; return 0;
    case 2004: o->max_samples = v; return 0;
    case 2005: o->flags |= PSC_PARSE_ALLOW_CRLF; return 0;
    case 2006: o->flags |= PSC_PARSE_ALLOW_BOM; return 0;
    default: return -1;
    }
}
