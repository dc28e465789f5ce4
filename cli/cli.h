/*
 * cli/cli.h - what the command files of `promscope` share: exit codes, global
 * options, input loading, output helpers. No format logic lives in cli/:
 * everything about the exposition formats is library code.
 */
#ifndef PROMSCOPE_CLI_H
#define PROMSCOPE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "promscope/promscope.h"

/* Exit codes, DESIGN.md section 3. */
enum {
    EXIT_OK = 0,       /* success; no findings */
    EXIT_FINDINGS = 1, /* invalid input, lint problems, differences, failed --expect */
    EXIT_USAGE = 2,    /* unknown command or flag, bad argument */
    EXIT_RUNTIME = 3,  /* unreadable input, network/TLS/HTTP/API failure, transfer limit */
};

/* Global options: `promscope [--color=auto|always|never] [-q] COMMAND ...` */
struct cli_global {
    bool color_stdout; /* colour escapes allowed on stdout */
    bool color_stderr;
    bool quiet;        /* -q: no warnings or progress on stderr */
    bool stdout_tty;
    bool stderr_tty;
};
extern struct cli_global g_cli;

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *synopsis;              /* first line of `COMMAND -h` and the man page */
    const char *summary;               /* one line for `promscope help` */
};

/* Command table (cli/main.c); NULL-terminated. */
extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

/* Print "promscope CMD: MESSAGE" and a hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Print "promscope: MESSAGE" to stderr (unless the message is empty). */
void cli_errorf(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* A warning on stderr, suppressed by -q. */
void cli_warnf(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Print the usage of a command (synopsis and options) to f. */
void cli_print_command_help(FILE *f, const struct cli_command *c, const char *options_text);

/* Parse `--format auto|text|openmetrics` (also text-0.0.4, text-1.0.0). -1 when invalid. */
int cli_parse_format(const char *s, psc_format *out);

/* Parse a duration: "10s", "500ms", "1m30s", "2h", "1.5s", or plain seconds. Milliseconds out.
 * Returns 0 on success. */
int cli_parse_duration_ms(const char *s, long long *out_ms);
/* Parse a size: "64MiB", "1GiB", "512KiB", "1000", "10MB". Bytes out. 0 on success. */
int cli_parse_size(const char *s, unsigned long long *out);

/* psc_write_fn writing to a FILE *. */
int cli_write_file(void *ctx, const char *p, size_t n);
/* Flush stdout and check for errors; returns EXIT_RUNTIME (quietly for EPIPE) or `code`. */
int cli_finish(int code);

/* JSON string with escaping (control characters, quotes, invalid UTF-8 as U+FFFD). */
void cli_json_string(FILE *f, const char *s, size_t n);
/* Print s escaped for a terminal (control characters as \xNN, BAD-INPUTS H1). */
void cli_print_escaped(FILE *f, const char *s, size_t n);

/* ---- inputs: a path, "-" for stdin, or an http(s) URL ---- */

/* Options for fetching URLs and reading inputs (DESIGN.md section 4). */
struct cli_net_opts {
    long long timeout_ms;           /* --timeout, default 10 s */
    unsigned long long max_size;    /* --max-size, default 64 MiB (also caps stdin/pipes) */
    void *priv;                     /* scrape options owned by cli/netopts.c */
};
void cli_net_opts_init(struct cli_net_opts *o);
void cli_net_opts_release(struct cli_net_opts *o);

struct cli_input {
    char *source;       /* path, "<stdin>" or the URL with userinfo redacted; owned */
    const char *data;   /* the bytes; never NUL-terminated as far as callers know */
    size_t len;
    psc_format format;  /* from the Content-Type for URLs; AUTO for files */
    char *content_type; /* URLs only; owned; may be NULL */
    /* private */
    void *map;
    size_t map_len;
    char *owned;
};

/*
 * Load INPUT `arg`. On failure prints "promscope: SOURCE: reason" to stderr
 * and returns EXIT_RUNTIME; returns EXIT_OK on success.
 */
int cli_input_load(const char *arg, const struct cli_net_opts *net, struct cli_input *in);
/* Scrape an http(s) URL into `in` (cli/fetch.c); same contract as cli_input_load. */
int cli_fetch_url(const char *url, const struct cli_net_opts *net, struct cli_input *in);
void cli_input_release(struct cli_input *in);
bool cli_is_url(const char *arg);

/*
 * Streaming a path or "-" (not a URL) to psc_validate_stream(): memory stays
 * bounded whatever the input size. Regular files have no size cap; pipes and
 * character devices stop at --max-size (an endless /dev/zero must end,
 * BAD-INPUTS A14). For regular files with --format auto, `format` is
 * detected from the head of the file and its last line (`# EOF`).
 */
struct cli_stream {
    int fd;
    bool own_fd;
    bool capped;
    unsigned long long max;
    unsigned long long total;
    char *source;        /* owned */
    psc_format format;   /* detected for regular files; AUTO otherwise */
};
int cli_stream_open(const char *arg, const struct cli_net_opts *net, struct cli_stream *s);
long cli_stream_read(void *ctx, char *buf, size_t cap, psc_error *err);
void cli_stream_close(struct cli_stream *s);

/*
 * The model of INPUT `arg` (convert, cardinality, diff): URLs are fetched
 * whole and parsed, files and stdin are streamed to psc_model_parse_stream(),
 * so that memory is the model's, not the model's plus the input's. A URL's
 * Content-Type replaces popts->format when content_type_wins or
 * popts->format is AUTO; a file's detected format only when it is AUTO. Returns
 * EXIT_OK with *st the parse status (*m NULL on PSC_E_NOMEM), or
 * EXIT_RUNTIME after printing why the input could not be read. *source
 * receives the input's display name (owned, free(); may be NULL on
 * EXIT_RUNTIME).
 */
int cli_model_load(const char *arg, const struct cli_net_opts *net, const psc_parse_opts *popts,
                   bool content_type_wins, psc_model **m, psc_diag_list *diags, psc_status *st,
                   char **source);

/* ---- diagnostics output (validate, lint) ---- */
enum cli_diag_format { CLI_DIAG_TEXT, CLI_DIAG_JSON, CLI_DIAG_GITHUB };
int cli_parse_diag_format(const char *s, enum cli_diag_format *out);

/* One diagnostics printer for several inputs: JSON output is one array
 * across all inputs. */
struct cli_diag_printer {
    FILE *f;
    enum cli_diag_format fmt;
    size_t printed;
};
void cli_diag_begin(struct cli_diag_printer *p, FILE *f, enum cli_diag_format fmt);
void cli_diag_print(struct cli_diag_printer *p, const char *source, const psc_diag_list *l);
void cli_diag_end(struct cli_diag_printer *p);

#endif
