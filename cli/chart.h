/*
 * cli/chart.h - terminal charts of range query results: a line chart in
 * Unicode braille (2x4 dots per character cell) with y-axis labels, a time
 * axis and a legend, and block-character sparklines.
 */
#ifndef PROMSCOPE_CLI_CHART_H
#define PROMSCOPE_CLI_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "promscope/promapi.h"

struct chart_series {
    const char *label;            /* legend text, already escaped for a terminal */
    const psc_api_point *points;  /* ascending by time; histogram points are skipped */
    size_t npoints;
};

struct chart_opts {
    double start, end, step;      /* seconds; step > 0 breaks lines across gaps > 1.5 steps */
    int width;                    /* total width in columns (>= 30) */
    int height;                   /* plot rows (>= 3) */
    bool color;                   /* ANSI colours per series */
    bool durations;               /* y labels as durations (values in seconds) */
    bool utc;                     /* time axis in UTC, else local time */
};

/* Draw all series in one braille chart with a legend. Series beyond the
 * palette reuse colours. */
void chart_braille(FILE *f, const struct chart_series *s, size_t n, const struct chart_opts *o);

/* A sparkline of `width` cells over [start, end] into buf (UTF-8, NUL-
 * terminated; needs 3*width+1 bytes): each cell the mean of the points
 * falling in it, scaled between lo and hi (when lo == hi: the middle
 * level); cells without points are spaces. */
void chart_sparkline(char *buf, size_t cap, const psc_api_point *p, size_t n, double start, double end, int width,
                     double lo, double hi);

/* min, mean, max and last of the finite float points; NaN when none. */
void chart_stats(const psc_api_point *p, size_t n, double *min, double *avg, double *max, double *last);

/* Terminal width: $COLUMNS, else the tty's, else 80. */
int chart_term_width(void);

/* ANSI colour escape of series i ("" when !color). */
const char *chart_color(size_t i, bool color);

#endif
