/* promscope/promscope.h - umbrella header of libpromscope. */
#ifndef PROMSCOPE_H
#define PROMSCOPE_H
#include "common.h"
#include "codes.h"
#include "diag.h"
#include "parse.h"
#include "model.h"
#include "write.h"
#include "card.h"
#include "lint.h"
#include "diff.h"
#include "scrape.h"
#include "promapi.h"
#endif
