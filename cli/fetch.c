/*
 * Scraping URL INPUTs (cli_fetch_url, cli/cli.h): one psc_fetch() in scrape
 * mode with the command's server options (cli/netopts.h). The parser format
 * comes from the response Content-Type (DESIGN.md section 2); a missing or
 * unknown Content-Type is an error unless the command set a fallback format
 * (cli_net_set_fallback_format), which then comes with a warning.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "netopts.h"

/* s with control characters, DEL and backslash as C escapes (BAD-INPUTS
 * H1): for URLs taken from a server (--targets-from) or the command line. */
char *cli_escape_dup(const char *s)
{
    size_t n = strlen(s), w = 0;
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out[w++] = '\\';
            if (c == '\\') {
                out[w++] = '\\';
            } else {
                out[w++] = 'x';
                out[w++] = hex[c >> 4];
                out[w++] = hex[c & 15];
            }
        } else {
            out[w++] = (char)c;
        }
    }
    out[w] = '\0';
    return out;
}

/* The redacted, escaped form of url that messages and SOURCE use. */
char *cli_url_source(const char *url)
{
    size_t n = psc_url_redact(url, NULL, 0);
    char *red = malloc(n + 1);
    if (!red)
        return NULL;
    psc_url_redact(url, red, n + 1);
    char *esc = cli_escape_dup(red);
    free(red);
    return esc;
}

int cli_fetch_url(const char *url, const struct cli_net_opts *net, struct cli_input *in)
{
    memset(in, 0, sizeof *in);
    in->format = PSC_FORMAT_AUTO;
    in->source = cli_url_source(url);
    if (!in->source) {
        cli_errorf("out of memory");
        return EXIT_RUNTIME;
    }
    struct cli_net_opts defaults;
    bool own = !net;
    if (own) {
        cli_net_opts_init(&defaults);
        net = &defaults;
    }
    int rc = EXIT_OK;
    const psc_fetch_opts *fo = cli_net_fetch_opts(net, &rc);
    if (!fo) {
        if (own)
            cli_net_opts_release(&defaults);
        return rc ? rc : EXIT_RUNTIME;
    }
    psc_fetch_opts o = *fo;
    o.scrape = true;
    psc_fetch_result r;
    psc_status st = psc_fetch(url, &o, &r, NULL);
    if (own)
        cli_net_opts_release(&defaults);
    if (st != PSC_OK) {
        cli_errorf("%s: %s", in->source, r.error ? r.error : psc_status_name(st));
        psc_fetch_result_release(&r);
        return EXIT_RUNTIME;
    }
    if (r.format_fallback) {
        char *ct = r.content_type ? cli_escape_dup(r.content_type) : NULL;
        if (ct)
            cli_warnf("%s: unsupported Content-Type '%s'; parsing as %s (--format)", in->source, ct,
                      psc_format_name(r.format));
        else
            cli_warnf("%s: response has no Content-Type; parsing as %s (--format)", in->source,
                      psc_format_name(r.format));
        free(ct);
    }
    in->format = r.format;
    if (r.content_type) {
        in->content_type = strdup(r.content_type);
        if (!in->content_type) {
            psc_fetch_result_release(&r);
            cli_errorf("out of memory");
            return EXIT_RUNTIME;
        }
    }
    in->owned = r.body; /* malloc'd (scrape.h); freed by cli_input_release */
    in->data = r.body ? r.body : "";
    in->len = r.body_len;
    r.body = NULL;
    psc_fetch_result_release(&r);
    return EXIT_OK;
}
