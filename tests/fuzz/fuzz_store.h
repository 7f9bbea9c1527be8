/* fuzz_store -- a scratch LMDB store for the harnesses that go through the control plane */
#ifndef DDI_TESTS_FUZZ_STORE_H
#define DDI_TESTS_FUZZ_STORE_H

#include <jansson.h>

struct store;

/*
 * The process's scratch store, made once: a fresh directory on tmpfs
 * (/dev/shm, so that a sync per change is cheap), removed at exit, holding
 * the embedded default zones of share/ and, for UPDATE, an unsigned policy
 * granting ddi.test. Aborts when it cannot be made.
 */
struct store *fuzz_store(void);

/* Run one control command on the scratch store as an admin; aborts on an unexpected failure. */
void fuzz_store_cmd(const char *json);

#endif
