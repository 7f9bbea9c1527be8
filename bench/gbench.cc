// gbench -- the C shim over Google Benchmark: the only C++ in ddiplane
#include <benchmark/benchmark.h>

#include "bench/gbench.h"

struct gb_state {
	benchmark::State *st;
	int64_t range;
};

namespace {

struct entry {
	gb_fn fn;
	void *arg;
	int64_t range;
};

void trampoline(benchmark::State &state, entry e)
{
	gb_state s{&state, e.range};
	e.fn(&s, e.arg);
}

} // namespace

extern "C" {

void gb_register(const char *name, gb_fn fn, void *arg, int64_t range)
{
	benchmark::RegisterBenchmark(name, trampoline, entry{fn, arg, range});
}

void gb_register_unit(const char *name, gb_fn fn, void *arg, int64_t range, char unit)
{
	benchmark::TimeUnit u = unit == 'u' ? benchmark::kMicrosecond
	                        : unit == 'm' ? benchmark::kMillisecond
	                        : unit == 's' ? benchmark::kSecond
	                                      : benchmark::kNanosecond;
	benchmark::RegisterBenchmark(name, trampoline, entry{fn, arg, range})->Unit(u);
}

bool gb_next(struct gb_state *st)
{
	return st->st->KeepRunning();
}

int64_t gb_range(const struct gb_state *st)
{
	return st->range;
}

int64_t gb_iterations(const struct gb_state *st)
{
	return static_cast<int64_t>(st->st->iterations());
}

void gb_pause(struct gb_state *st)
{
	st->st->PauseTiming();
}

void gb_resume(struct gb_state *st)
{
	st->st->ResumeTiming();
}

void gb_set_items(struct gb_state *st, int64_t items)
{
	st->st->SetItemsProcessed(items);
}

void gb_counter(struct gb_state *st, const char *name, double value, bool rate)
{
	st->st->counters[name] = benchmark::Counter(value, rate ? benchmark::Counter::kIsRate
	                                                         : benchmark::Counter::kDefaults);
}

int gb_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

void gb_do_not_optimize(const void *p)
{
	benchmark::DoNotOptimize(p);
}

} // extern "C"
