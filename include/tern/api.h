/*
 * tern/api.h - TERN_API, the mark of a public function.
 *
 * libtern is compiled with -fvisibility=hidden: only the functions whose
 * declaration in include/tern/ starts with TERN_API are exported from
 * libtern.so, and each of them is named tern_*. Everything else - the stack's
 * internal modules - stays inside the library (docs/architecture.md, "The
 * library's symbols"). tools/mark_api.py adds the marker to a new
 * declaration; tests/scripts/lib_symbols.sh checks both directions.
 */
#ifndef TERN_API_H
#define TERN_API_H

#if defined(__GNUC__) || defined(__clang__)
#define TERN_API __attribute__((visibility("default")))
#else
#define TERN_API
#endif

#endif
