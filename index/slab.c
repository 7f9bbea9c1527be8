/* slab -- arenas for the many small blocks of a bulk load: bump-allocated, freed with their last block */
#include <stdlib.h>
#include <sys/mman.h>

#include "index/slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#ifdef SLAB_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/*
 * An arena is SLAB_ARENA bytes aligned to SLAB_ARENA, so that a block
 * finds its arena by masking its address. `live` counts the blocks not
 * freed yet, plus one while the arena is a slab's current one.
 */
struct slab_arena {
	size_t live;
	size_t pad;   /* blocks start 16-aligned */
};

_Static_assert((SLAB_ARENA & (SLAB_ARENA - 1)) == 0, "arena size is a power of two");
_Static_assert(sizeof(struct slab_arena) % 16 == 0, "arena header keeps 16-byte alignment");

static size_t arena_bytes;   /* atomic: bytes mapped and not unmapped */

static void unmap(void *p, size_t len)
{
	if (len == 0)
		return;
	munmap(p, len);
	__atomic_sub_fetch(&arena_bytes, len, __ATOMIC_RELAXED);
}

static void arena_put(struct slab_arena *a)
{
	if (__atomic_sub_fetch(&a->live, 1, __ATOMIC_ACQ_REL) == 0) {
		UNPOISON(a, SLAB_ARENA);   /* the range may be mapped again */
		unmap(a, SLAB_ARENA);
	}
}

/* The next arena of the slab's pool; a new pool when it is used up. */
static struct slab_arena *arena_new(struct slab *s)
{
	if (s->pool == s->pool_end) {
		size_t len = (size_t)SLAB_ARENA * (SLAB_POOL + 1);
		uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		__atomic_add_fetch(&arena_bytes, len, __ATOMIC_RELAXED);
		uint8_t *a = (uint8_t *)(((uintptr_t)m + SLAB_ARENA - 1) & ~(uintptr_t)(SLAB_ARENA - 1));
		size_t head = (size_t)(a - m);
		unmap(m, head);
		unmap(a + (size_t)SLAB_ARENA * SLAB_POOL, SLAB_ARENA - head);
		s->pool = a;
		s->pool_end = a + (size_t)SLAB_ARENA * SLAB_POOL;
	}
	struct slab_arena *a = (struct slab_arena *)s->pool;
	s->pool += SLAB_ARENA;
	return a;
}

void *slab_alloc(struct slab *s, size_t len, size_t align)
{
	if (len > SLAB_BLOCK_MAX || len == 0)
		return NULL;
	size_t at = (s->used + align - 1) & ~(align - 1);
	if (s->cur == NULL || at + len > SLAB_ARENA) {
		struct slab_arena *a = arena_new(s);
		if (a == NULL)
			return NULL;
		a->live = 1;   /* the slab's reference */
		a->pad = 0;
		if (s->cur != NULL)
			arena_put(s->cur);
		s->cur = a;
		s->arenas++;
		at = sizeof(*a);
	}
	__atomic_add_fetch(&s->cur->live, 1, __ATOMIC_RELAXED);
	s->used = at + len;
	return (uint8_t *)s->cur + at;
}

bool slab_grow_last(struct slab *s, void *p, size_t oldlen, size_t newlen)
{
	uint8_t *base = (uint8_t *)s->cur;
	if (base == NULL || (uint8_t *)p < base || (uint8_t *)p + oldlen != base + s->used)
		return false;
	size_t at = (size_t)((uint8_t *)p - base);
	if (newlen > SLAB_BLOCK_MAX || at + newlen > SLAB_ARENA)
		return false;
	s->used = at + newlen;
	return true;
}

void slab_close(struct slab *s)
{
	if (s->cur != NULL)
		arena_put(s->cur);
	unmap(s->pool, (size_t)(s->pool_end - s->pool));   /* arenas never used */
	s->cur = NULL;
	s->pool = s->pool_end = NULL;
	s->used = 0;
}

void slab_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	POISON(p, len);
	arena_put((struct slab_arena *)((uintptr_t)p & ~(uintptr_t)(SLAB_ARENA - 1)));
}

size_t slab_bytes(void)
{
	return __atomic_load_n(&arena_bytes, __ATOMIC_RELAXED);
}
