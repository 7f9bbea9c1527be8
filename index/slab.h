/* slab -- arenas for the many small blocks of a bulk load: bump-allocated, freed with their last block */
#ifndef DDI_INDEX_SLAB_H
#define DDI_INDEX_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A bulk load makes a node block and an address leaf per name, millions of
 * them, each of a few dozen bytes: one malloc() each costs a chunk header
 * and rounding to 16 bytes (a quarter of the memory). A slab hands them
 * out of 64 KiB arenas instead, one after the other. Copy-on-write later
 * replaces such blocks one by one, from any version, and frees them from
 * the call_rcu thread: every arena counts its live blocks (atomically) and
 * is freed when the last one goes and the slab has moved on from it.
 * Arenas are mapped with mmap() (SLAB_POOL at a time, aligned by mapping
 * one more and trimming), not malloc(): an aligned malloc() leaves gaps in
 * the heap that ate the savings. Each goes back with munmap() on its own.
 *
 * The price: an arena stays while any of its blocks lives, so after heavy
 * churn a few survivors can hold whole arenas (at worst 64 KiB each); the
 * next reload from the store packs them again. Changes after the load
 * (idx_txn_rrset_set) use malloc().
 *
 * Threads: slab_alloc and slab_close on the writer thread only (one slab
 * per bulk load); slab_free from any thread.
 */

#define SLAB_ARENA (64 * 1024)     /* bytes, and the arena's alignment */
#define SLAB_POOL 32               /* arenas mapped at once */
#define SLAB_BLOCK_MAX 4096        /* larger blocks: the caller uses malloc() */

struct slab_arena;

struct slab {
	struct slab_arena *cur;    /* the arena blocks come from; NULL before the first */
	size_t used;               /* bytes of cur handed out, header included */
	uint8_t *pool, *pool_end;  /* mapped arenas not used yet */
	size_t arenas;             /* arenas this slab opened */
};

/*
 * A block of `len` bytes aligned to `align` (a power of two <= 16), from
 * the current arena or a new one. NULL when len > SLAB_BLOCK_MAX (use
 * malloc) or without memory.
 */
void *slab_alloc(struct slab *s, size_t len, size_t align);

/*
 * Grow block p (of oldlen bytes) to newlen bytes in place: true when p is
 * the last block handed out and its arena has the room, else false and
 * nothing changed. A bulk load rebuilds an owner's node for each of its
 * RRsets; growing it in place leaves no dead copy behind in the arena.
 */
bool slab_grow_last(struct slab *s, void *p, size_t oldlen, size_t newlen);

/* The slab is done: its current arena goes once its blocks are all freed. */
void slab_close(struct slab *s);

/*
 * Free one block of slab_alloc (`len` bytes, as allocated or grown); its
 * arena goes with the last one. Under AddressSanitizer the block is
 * poisoned at once, so that a stale pointer into a live arena shows.
 */
void slab_free(void *p, size_t len);

/* Bytes mapped for arenas and not unmapped yet, over all slabs (malloc statistics do not see them). */
size_t slab_bytes(void);

#endif
