/*
 * scrape_fetch URL [POST-BODY [CONTENT-TYPE]] - one psc_fetch() with the
 * default options, for the tests of what the command line cannot reach
 * (POST and its redirects). Prints the outcome and the body:
 *   status=<psc status> http=<code> redirects=<n> error=<message or ->
 *   <body>
 */
#include <stdio.h>
#include <string.h>

#include "promscope/scrape.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: scrape_fetch URL [POST-BODY [CONTENT-TYPE]]\n");
        return 2;
    }
    psc_fetch_opts o;
    psc_fetch_opts_init(&o);
    if (argc >= 3) {
        o.post_body = argv[2];
        o.post_len = strlen(argv[2]);
    }
    if (argc == 4)
        o.post_content_type = argv[3];
    psc_fetch_result r;
    psc_status st = psc_fetch(argv[1], &o, &r, NULL);
    printf("status=%s http=%ld redirects=%d error=%s\n", psc_status_name(st), r.http_status, r.redirects,
           r.error ? r.error : "-");
    if (r.body)
        fwrite(r.body, 1, r.body_len, stdout);
    psc_fetch_result_release(&r);
    return st == PSC_OK ? 0 : 1;
}
