/* fuzz_index -- one index for the answer and frame harnesses: the embedded default zones plus a zone of every shape */
#ifndef DDI_TESTS_FUZZ_INDEX_H
#define DDI_TESTS_FUZZ_INDEX_H

#include "index/snapshot.h"

/*
 * Built once per process (the calling thread becomes a registered, online
 * QSBR reader and stays one): the zone files of share/ in the source tree and a zone
 * with CNAME chains and loops, wildcards, a delegation with glue, large
 * RRsets. Aborts when the zones do not load (a harness without data would
 * fuzz nothing).
 */
const struct idx_version *fuzz_index(void);

/* The same index itself (built by the first call of either), for harnesses that acquire on their own. */
struct idx *fuzz_index_idx(void);

#endif
