/* The shared server options of DESIGN.md section 4. */
#include <string.h>

#include "cli.h"

void cli_net_opts_init(struct cli_net_opts *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 10000;
    o->max_size = 64ull << 20;
}

void cli_net_opts_release(struct cli_net_opts *o)
{
    memset(o, 0, sizeof *o);
}
