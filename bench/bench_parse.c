/*
 * bench_parse: throughput of the pull parser alone and of parser + validator
 * over a file, best of N runs, in MB/s (1 MB = 10^6 bytes) of input.
 *
 * usage: bench_parse FILE [text|openmetrics] [RUNS]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "promscope/promscope.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_parse FILE [text|openmetrics] [RUNS]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        perror(argv[1]);
        return 3;
    }
    size_t len = (size_t)st.st_size;
    const char *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (buf == MAP_FAILED) {
        perror("mmap");
        return 3;
    }
    psc_parse_opts o;
    psc_parse_opts_init(&o);
    o.max_samples = 0;
    o.format = argc > 2 && strcmp(argv[2], "openmetrics") == 0 ? PSC_FORMAT_OPENMETRICS_1_0
                                                                : PSC_FORMAT_TEXT_1_0_0;
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    double best_parse = 1e9, best_validate = 1e9;
    unsigned long long samples = 0;
    size_t nerr = 0;
    for (int r = 0; r < runs; r++) {
        psc_parser *p = psc_parser_new(&o);
        double t0 = now();
        psc_parser_reset(p, buf, len);
        psc_entry ent;
        psc_error err;
        psc_status s;
        samples = 0;
        while ((s = psc_parser_next(p, &ent, &err)) != PSC_DONE)
            samples += s == PSC_OK && ent.kind == PSC_ENTRY_SAMPLE;
        double t1 = now();
        psc_parser_free(p);
        if (t1 - t0 < best_parse)
            best_parse = t1 - t0;
        psc_diag_list d;
        psc_diag_list_init(&d);
        t0 = now();
        psc_validate_buffer(buf, len, &o, &d);
        t1 = now();
        nerr = d.nerrors;
        psc_diag_list_release(&d);
        if (t1 - t0 < best_validate)
            best_validate = t1 - t0;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %.1f MB, %llu samples, %zu errors\n", argv[1], (double)len / 1e6, samples, nerr);
    printf("parse only:         %8.1f MB/s  %6.3f s\n", (double)len / 1e6 / best_parse, best_parse);
    printf("parse + validate:   %8.1f MB/s  %6.3f s\n", (double)len / 1e6 / best_validate, best_validate);
    printf("max RSS: %.1f MB (input mapped: %.1f MB)\n", (double)ru.ru_maxrss / 1024, (double)len / 1e6);
    return 0;
}
