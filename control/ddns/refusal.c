/* refusal -- refused UPDATEs counted by reason, logged at a bounded rate, noted once per (key, reason) per interval */
#include <string.h>

#include "control/log.h"
#include "control/ddns/refusal.h"
#include "control/store/store.h"
#include "dns/errcode.h"

/* ------------------------------------------------------------------------ */
/* Rate-limited log                                                         */
/* ------------------------------------------------------------------------ */

void ratelog_init(struct ratelog *r, unsigned per_sec)
{
	memset(r, 0, sizeof(*r));
	r->per_sec = per_sec;
}

/* A new second: what the old one suppressed stays in `suppressed` until reported. */
static void ratelog_roll(struct ratelog *r, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000;
	if (sec != r->sec) {
		r->sec = sec;
		r->used = 0;
	}
}

bool ratelog_take(struct ratelog *r, uint64_t now_ms, uint64_t *summary)
{
	*summary = ratelog_flush(r, now_ms);
	ratelog_roll(r, now_ms);
	if (r->used < r->per_sec) {
		r->used++;
		return true;
	}
	r->suppressed++;
	return false;
}

uint64_t ratelog_flush(struct ratelog *r, uint64_t now_ms)
{
	/* only a second that is over is summed up: one summary line per second at most */
	if (r->suppressed == 0 || now_ms / 1000 == r->sec)
		return 0;
	uint64_t n = r->suppressed;
	r->suppressed = 0;
	return n;
}

/* ------------------------------------------------------------------------ */
/* (key, reason) notes                                                      */
/* ------------------------------------------------------------------------ */

void notetab_init(struct notetab *t, uint64_t interval_ms)
{
	memset(t, 0, sizeof(*t));
	t->interval_ms = interval_ms;
}

static bool slot_live(const struct notetab *t, const struct notetab_slot *s, uint64_t now_ms)
{
	return s->used && now_ms - s->start_ms < t->interval_ms;
}

static void slot_remember(struct notetab_slot *s, const char *actor, const char *text)
{
	snprintf(s->actor, sizeof(s->actor), "%s", actor);
	snprintf(s->text, sizeof(s->text), "%s", text);
}

enum notetab_verdict notetab_hit(struct notetab *t, const char *key, enum upd_why why,
                                 const char *actor, const char *text, uint64_t now_ms,
                                 uint64_t *folded)
{
	struct notetab_slot *free_slot = NULL;
	*folded = 0;
	/* a linear scan: 64 slots of which a handful are used is cheaper than any hash */
	for (unsigned i = 0; i < DDNS_NOTE_SLOTS; i++) {
		struct notetab_slot *s = &t->slot[i];
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->why != why || strcmp(s->key, key) != 0)
			continue;
		if (slot_live(t, s, now_ms)) {
			s->folded++;
			slot_remember(s, actor, text);
			return NOTETAB_FOLD;
		}
		/* its interval is over (no sweep since): note, with what was folded, and restart */
		*folded = s->folded;
		s->folded = 0;
		s->start_ms = now_ms;
		slot_remember(s, actor, text);
		return NOTETAB_NOTE;
	}
	if (!free_slot) {
		/* a slot whose interval is over and has nothing to report can go */
		for (unsigned i = 0; i < DDNS_NOTE_SLOTS && !free_slot; i++)
			if (!slot_live(t, &t->slot[i], now_ms) && t->slot[i].folded == 0)
				free_slot = &t->slot[i];
		if (!free_slot)
			return NOTETAB_FULL;   /* never evict a live pair: that would note it twice */
	}
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->why = (uint8_t)why;
	free_slot->start_ms = now_ms;
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	slot_remember(free_slot, actor, text);
	return NOTETAB_NOTE;
}

unsigned notetab_sweep(struct notetab *t, uint64_t now_ms,
                       void (*cb)(void *ctx, const struct notetab_slot *s, uint64_t folded),
                       void *ctx)
{
	unsigned n = 0;
	for (unsigned i = 0; i < DDNS_NOTE_SLOTS; i++) {
		struct notetab_slot *s = &t->slot[i];
		if (!s->used || slot_live(t, s, now_ms))
			continue;
		if (s->folded == 0) {
			s->used = false;
			continue;
		}
		uint64_t f = s->folded;
		s->folded = 0;
		s->start_ms = now_ms;   /* the closing note opens an interval: still one per interval */
		if (cb)
			cb(ctx, s, f);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* The DDNS thread's bookkeeping                                            */
/* ------------------------------------------------------------------------ */

static void add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

void ddns_refusals_init(struct ddns_refusals *r, FILE *log)
{
	memset(r, 0, sizeof(*r));
	r->log = log;
	ratelog_init(&r->rl, DDNS_LOG_PER_SEC);
	notetab_init(&r->notes, DDNS_NOTE_INTERVAL_MS);
}

static void log_summary(struct ddns_refusals *r, uint64_t n)
{
	if (n && r->log)
		ddi_log(LOG_SUB_DDNS, LOG_LVL_NOTICE, NULL, "%llu more refused updates not logged (at "
		        "most %u lines a second; every one is counted in ddictl stats)",
		        (unsigned long long)n, r->rl.per_sec);
}

struct note_ctx {
	struct ddns_refusals *r;
	struct store *st;
	struct store_txn *txn;
};

static void note(struct note_ctx *c, const char *actor, const char *text, enum upd_why why,
                 uint64_t folded)
{
	char buf[1024];
	struct store_error e;
	if (folded)
		snprintf(buf, sizeof(buf), "%s [%s: %llu more like this folded since the last note]",
		         text, upd_why_names[why], (unsigned long long)folded);
	else
		snprintf(buf, sizeof(buf), "%s", text);
	/* best effort: the answer does not depend on it; a full store is counted */
	if (store_journal_note(c->st, c->txn, actor, buf, NULL, &e) == DDI_EOK)
		add(&c->r->st.notes, 1);
	else
		add(&c->r->st.note_failed, 1);
}

static void closing_note(void *ctx, const struct notetab_slot *s, uint64_t folded)
{
	note(ctx, s->actor, s->text, (enum upd_why)s->why, folded);
}

void ddns_refusals_record(struct ddns_refusals *r, struct store *st, struct store_txn *txn,
                          const struct upd_outcome *o, uint64_t now_ms)
{
	if (!r || o->why == UPD_WHY_NONE || o->why >= UPD_WHY__COUNT)
		return;
	add(&r->st.why[o->why], 1);
	if (o->why != UPD_WHY_NOCHANGE) {
		uint64_t summary;
		bool may = ratelog_take(&r->rl, now_ms, &summary);
		log_summary(r, summary);
		if (may && r->log)
			ddi_log(LOG_SUB_DDNS, LOG_LVL_INFO, o->actor, "update refused (%s): %s",
			        upd_why_names[o->why], o->text);
		add(may ? &r->st.log_lines : &r->st.log_suppressed, 1);
	}
	if (!o->authenticated)
		return;   /* a stranger's: counted and logged, never in the store */
	uint64_t folded;
	switch (notetab_hit(&r->notes, o->key, o->why, o->actor, o->text, now_ms, &folded)) {
	case NOTETAB_NOTE:
		note(&(struct note_ctx){ r, st, txn }, o->actor, o->text, o->why, folded);
		break;
	case NOTETAB_FOLD:
		add(&r->st.folded, 1);
		break;
	case NOTETAB_FULL:
		add(&r->st.table_full, 1);
		break;
	}
}

void ddns_refusals_tick(struct ddns_refusals *r, struct store *st, struct store_txn *txn,
                        uint64_t now_ms)
{
	if (!r)
		return;
	log_summary(r, ratelog_flush(&r->rl, now_ms));
	notetab_sweep(&r->notes, now_ms, closing_note, &(struct note_ctx){ r, st, txn });
}

void ddns_refusals_stats(const struct ddns_refusals *r, struct ddns_refusal_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!r)
		return;
	const uint64_t *src = (const uint64_t *)&r->st;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
