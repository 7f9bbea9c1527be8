/* gbench -- Google Benchmark behind a C interface, so ddiplane's benchmarks are written in C */
#ifndef DDI_BENCH_GBENCH_H
#define DDI_BENCH_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gb_state;   /* a benchmark::State */

typedef void (*gb_fn)(struct gb_state *st, void *arg);

/*
 * Register a benchmark. `arg` is passed to every run; `range` is the
 * argument the run reads back with gb_range() (a name size, say), ignored
 * when negative. Call before gb_main().
 */
void gb_register(const char *name, gb_fn fn, void *arg, int64_t range);

/* The same, reported in another time unit: 'n' (default), 'u', 'm' or 's'. */
void gb_register_unit(const char *name, gb_fn fn, void *arg, int64_t range, char unit);

/* The inner loop: `while (gb_next(st)) { ... }`. */
bool gb_next(struct gb_state *st);

/* The argument given at registration. */
int64_t gb_range(const struct gb_state *st);

/* Iterations run so far (all of them once the loop has ended). */
int64_t gb_iterations(const struct gb_state *st);

/* Exclude setup work inside the loop from the timing. */
void gb_pause(struct gb_state *st);
void gb_resume(struct gb_state *st);

/* items/s is reported from the count of items processed. */
void gb_set_items(struct gb_state *st, int64_t items);

/* A named counter; with `rate` it is divided by the elapsed time. */
void gb_counter(struct gb_state *st, const char *name, double value, bool rate);

/* Run what was registered (parses --benchmark_* options). Returns an exit code. */
int gb_main(int argc, char **argv);

/* Keep the compiler from optimising a value away. */
void gb_do_not_optimize(const void *p);

#ifdef __cplusplus
}
#endif

#endif
