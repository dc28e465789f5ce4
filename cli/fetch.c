/* Scraping URL inputs. */
#include "cli.h"

int cli_fetch_url(const char *url, const struct cli_net_opts *net, struct cli_input *in)
{
    (void)net;
    (void)in;
    cli_errorf("%s: URL inputs are not supported in this build", url);
    return EXIT_RUNTIME;
}
