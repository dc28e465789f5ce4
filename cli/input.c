/*
 * Loading an INPUT: a regular file is mapped (no copy, no size cap: its size
 * is known); stdin, pipes and character devices are read up to --max-size
 * (BAD-INPUTS A14); http(s) URLs are scraped (cli_fetch_url, cli/fetch.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

bool cli_is_url(const char *arg)
{
    return strncmp(arg, "http://", 7) == 0 || strncmp(arg, "https://", 8) == 0;
}

static int read_stream(int fd, const char *source, unsigned long long max, struct cli_input *in)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        cli_errorf("%s: out of memory", source);
        return EXIT_RUNTIME;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= max + 1) {
                free(buf);
                cli_errorf("%s: input exceeds the --max-size limit of %llu bytes", source, max);
                return EXIT_RUNTIME;
            }
            size_t nc = cap * 2;
            if (nc > max + 1)
                nc = (size_t)max + 1;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                cli_errorf("%s: out of memory", source);
                return EXIT_RUNTIME;
            }
            buf = nb;
            cap = nc;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            cli_errorf("%s: %s", source, strerror(e));
            return EXIT_RUNTIME;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > max) {
            free(buf);
            cli_errorf("%s: input exceeds the --max-size limit of %llu bytes", source, max);
            return EXIT_RUNTIME;
        }
    }
    in->owned = buf;
    in->data = buf;
    in->len = len;
    return EXIT_OK;
}

int cli_input_load(const char *arg, const struct cli_net_opts *net, struct cli_input *in)
{
    memset(in, 0, sizeof *in);
    in->format = PSC_FORMAT_AUTO;
    unsigned long long max = net && net->max_size ? net->max_size : 64ull << 20;
    if (cli_is_url(arg))
        return cli_fetch_url(arg, net, in);
    if (strcmp(arg, "-") == 0) {
        in->source = strdup("<stdin>");
        if (!in->source)
            return EXIT_RUNTIME;
        return read_stream(STDIN_FILENO, in->source, max, in);
    }
    in->source = strdup(arg);
    if (!in->source)
        return EXIT_RUNTIME;
    int fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_errorf("%s: %s", arg, strerror(errno));
        return EXIT_RUNTIME;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        cli_errorf("%s: %s", arg, strerror(e));
        return EXIT_RUNTIME;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        cli_errorf("%s: is a directory", arg);
        return EXIT_RUNTIME;
    }
    int rc;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            rc = read_stream(fd, arg, (unsigned long long)st.st_size, in);
        } else {
            madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
            in->map = m;
            in->map_len = (size_t)st.st_size;
            in->data = m;
            in->len = (size_t)st.st_size;
            rc = EXIT_OK;
        }
    } else {
        rc = read_stream(fd, arg, max, in);
    }
    close(fd);
    return rc;
}

void cli_input_release(struct cli_input *in)
{
    if (in->map)
        munmap(in->map, in->map_len);
    free(in->owned);
    free(in->source);
    free(in->content_type);
    memset(in, 0, sizeof *in);
}

int cli_stream_open(const char *arg, const struct cli_net_opts *net, struct cli_stream *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->format = PSC_FORMAT_AUTO;
    s->max = net && net->max_size ? net->max_size : 64ull << 20;
    bool is_stdin = strcmp(arg, "-") == 0;
    s->source = strdup(is_stdin ? "<stdin>" : arg);
    if (!s->source)
        return EXIT_RUNTIME;
    if (is_stdin) {
        s->fd = STDIN_FILENO;
    } else {
        s->fd = open(arg, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            cli_errorf("%s: %s", arg, strerror(errno));
            return EXIT_RUNTIME;
        }
        s->own_fd = true;
    }
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        cli_errorf("%s: %s", s->source, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_errorf("%s: is a directory", s->source);
        return EXIT_RUNTIME;
    }
    s->capped = !S_ISREG(st.st_mode);
    if (!s->capped && st.st_size > 0) {
        /* detection needs the head and the last line only */
        char head[65536];
        ssize_t n = pread(s->fd, head, sizeof head, 0);
        char tail[16];
        off_t toff = st.st_size > (off_t)sizeof tail ? st.st_size - (off_t)sizeof tail : 0;
        ssize_t tn = pread(s->fd, tail, sizeof tail, toff);
        size_t te = tn > 0 ? (size_t)tn : 0;
        while (te > 0 && tail[te - 1] == '\n')
            te--;
        if (te >= 5 && memcmp(tail + te - 5, "# EOF", 5) == 0 && (te == 5 ? toff == 0 : tail[te - 6] == '\n'))
            s->format = PSC_FORMAT_OPENMETRICS_1_0;
        else if (n > 0)
            s->format = psc_format_detect(head, (size_t)n);
    }
    return EXIT_OK;
}

long cli_stream_read(void *ctx, char *buf, size_t cap, psc_error *err)
{
    struct cli_stream *s = ctx;
    for (;;) {
        ssize_t r = read(s->fd, buf, cap);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (err)
                snprintf(err->message, sizeof err->message, "%s", strerror(errno));
            return -1;
        }
        s->total += (unsigned long long)r;
        if (s->capped && s->total > s->max) {
            if (err)
                snprintf(err->message, sizeof err->message,
                         "input exceeds the --max-size limit of %llu bytes", s->max);
            return -1;
        }
        return (long)r;
    }
}

void cli_stream_close(struct cli_stream *s)
{
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->source);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

int cli_model_load(const char *arg, const struct cli_net_opts *net, const psc_parse_opts *popts,
                   bool content_type_wins, psc_model **m, psc_diag_list *diags, psc_status *st,
                   char **source)
{
    psc_parse_opts o = *popts;
    *m = NULL;
    *source = NULL;
    if (cli_is_url(arg)) {
        struct cli_input in;
        if (cli_input_load(arg, net, &in) != EXIT_OK) {
            cli_input_release(&in);
            return EXIT_RUNTIME;
        }
        if (in.format != PSC_FORMAT_AUTO && (content_type_wins || o.format == PSC_FORMAT_AUTO))
            o.format = in.format;
        *st = psc_model_parse(in.data, in.len, &o, m, diags);
        *source = in.source;
        in.source = NULL;
        cli_input_release(&in);
        return EXIT_OK;
    }
    /* files and stdin are streamed: the input is never held whole */
    struct cli_stream s;
    if (cli_stream_open(arg, net, &s) != EXIT_OK) {
        cli_stream_close(&s);
        return EXIT_RUNTIME;
    }
    if (o.format == PSC_FORMAT_AUTO) /* files: --format decides, detection is the default */
        o.format = s.format;
    psc_error err;
    psc_error_clear(&err);
    *st = psc_model_parse_stream(cli_stream_read, &s, &o, m, diags, &err);
    *source = s.source;
    s.source = NULL;
    cli_stream_close(&s);
    if (*st == PSC_E_IO) {
        cli_errorf("%s: %s", *source, err.message);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}
