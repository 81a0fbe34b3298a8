// SPDX-License-Identifier: GPL-2.0
/*
 * Hierarchical token buckets for the snp and buslock cgroup controllers.
 *
 * Buckets are in GCRA form, as in act_police: a theoretical arrival time
 * (TAT) in nanoseconds of ktime_get_ns(), advanced with cmpxchg. An event
 * costs 1/rate, rounded up to a whole nanosecond, and conforms if max(TAT,
 * now) plus its cost runs at most a depth ahead of now. An idle bucket is
 * one whose TAT has passed, however long ago: nothing wraps or aliases.
 * The state lives in the cgroup; a setting publishes new parameters (RCU)
 * and carries the state over in events. Rounding up keeps every upper
 * bound exact; the rate is 10^9 / ceil(10^9 / RATE), RATE itself when it
 * divides 10^9 and otherwise less by under RATE / 10^9 of it.
 *
 * Fair sharing. Each online child c of a cgroup P that passes a rate down
 * (its limit, or a share of its own) has a share bucket: 63/64 of P's rate
 * times w_c / W, the sum W over P's online children, and a depth out of
 * P's D: D for a lone child, else 2 events plus its weight's part of the
 * rest of D - 1 when 2 each fit, else 2. An event within its cgroup's
 * share is guaranteed one level up and may fill P's buckets to their
 * depth; others borrow and stop D - 1 short (limited P; an unlimited P
 * keeps no room, its children share what it gets first come, first
 * served). The guaranteed events of the children fit in P's rate and in
 * D - 1, so a child within its share is never refused because of its
 * siblings whenever BURST >= 2n + 1; and no event ever fills a bucket
 * past its depth, so a limited cgroup admits at most RATE * T + BURST
 * over any interval T whatever lies below it.
 *
 * Charges take no lock and allocate nothing, read the clock at most once,
 * and count only in the charging cgroup, per CPU; readers sum the
 * subtree. Settings and shares are recomputed under rate_cg_mutex for the
 * subtree they change, without waiting for a grace period.
 */

#include <linux/bitmap.h>
#include <linux/cgroup.h>
#include <linux/ctype.h>
#include <linux/hrtimer.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <kunit/visibility.h>

#include "rate.h"

/* Written as "max"; a cgroup with this rate has no limit bucket. */
#define RATE_CG_UNLIMITED	U64_MAX

/* Serializes settings, shares, publication and the folding of counts. */
static DEFINE_MUTEX(rate_cg_mutex);

/* Publications so far; see rate_cg_rollback(). */
static unsigned long rate_cg_seq;

/**
 * rate_params_init - set how a bucket is read
 * @p: the parameters
 * @cost: nanoseconds per event; 0 admits nothing
 * @depth: events a guaranteed event may find ahead, itself included
 * @borrow_depth: the same for an event that borrows
 */
void rate_params_init(struct rate_params *p, u64 cost, u64 depth,
		      u64 borrow_depth)
{
	u64 most = cost ? RATE_CG_MAX_AHEAD / cost : 0;

	/* Nothing fits in no depth: RATE 0 costs no test on the charge path. */
	p->cost = cost ?: 1;
	p->depth = depth > most ? most * cost : depth * cost;
	p->borrow = borrow_depth > most ? most * cost : borrow_depth * cost;
}
EXPORT_SYMBOL_IF_KUNIT(rate_params_init);

/*
 * How far @tat runs ahead of @now; 0 if the bucket is full. Both stay
 * below 2^63, so the difference is exact as a signed value, also for a
 * TAT that a late rollback took below zero.
 */
static u64 rate_ahead(u64 tat, u64 now)
{
	s64 ahead = (s64)(tat - now);

	return ahead > 0 ? ahead : 0;
}

static __always_inline bool rate_charge(struct rate_bucket *b,
					const struct rate_params *p, u64 now,
					bool guaranteed)
{
	u64 limit = guaranteed ? p->depth : READ_ONCE(p->borrow);
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	do {
		ahead = rate_ahead(old, now) + p->cost;
		if (ahead > limit)
			return false;
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now + ahead));
	return true;
}

/**
 * rate_bucket_try_charge - take one event from a bucket if it conforms
 * @b: the bucket
 * @p: its parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 * @guaranteed: the event came within its share and may use the room kept
 *		for guaranteed events
 *
 * Return: true if the event conforms and was charged.
 */
bool rate_bucket_try_charge(struct rate_bucket *b, const struct rate_params *p,
			    u64 now, bool guaranteed)
{
	return rate_charge(b, p, now, guaranteed);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_try_charge);

/**
 * rate_bucket_uncharge - give back events charged by rate_bucket_try_charge()
 * @b: the bucket
 * @p: the parameters they were charged with
 * @n: how many, at most RATE_CG_MAX_REFUND
 *
 * However long ago they were charged: a bucket that has drained since is
 * full, and stays full, as its TAT only moves further behind the clock.
 */
void rate_bucket_uncharge(struct rate_bucket *b, const struct rate_params *p,
			  unsigned int n)
{
	atomic64_sub(min(n, RATE_CG_MAX_REFUND) * p->cost, &b->tat);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_uncharge);

/**
 * rate_bucket_refund - give back events, if that is still exact
 * @b: the bucket
 * @p: the parameters they were charged with
 * @n: how many to give back, at most @span
 * @span: how many were charged together, at @at
 * @at: the time of the charge or earlier, in nanoseconds of ktime_get_ns()
 * @now: the time, read after @at
 *
 * The charge put the TAT at least @span costs past @at, and only this
 * charge's own refund takes that back, so until @now reaches there the
 * TAT has stayed ahead of the clock: taking the events out leaves the
 * bucket as it would be had they never been charged. Later the bucket
 * may have refilled and been charged again, and giving them back would
 * admit events no limit allows: then they stay charged.
 *
 * Return: true if they were given back.
 */
bool rate_bucket_refund(struct rate_bucket *b, const struct rate_params *p,
			unsigned int n, unsigned int span, u64 at, u64 now)
{
	if (now > at && now - at >= (u64)min(span, RATE_CG_MAX_REFUND) * p->cost)
		return false;
	rate_bucket_uncharge(b, p, min(n, span));
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_refund);

/**
 * rate_bucket_room - events a borrower could take from a bucket now
 * @b: the bucket
 * @p: its parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 *
 * Return: whole events, 0 if the bucket is at or past a borrower's limit.
 */
u64 rate_bucket_room(struct rate_bucket *b, const struct rate_params *p,
		     u64 now)
{
	u64 ahead = rate_ahead(atomic64_read(&b->tat), now);
	u64 limit = READ_ONCE(p->borrow);

	return ahead < limit ? div64_u64(limit - ahead, p->cost) : 0;
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_room);

/**
 * rate_bucket_try_charge_n - take @n events from a bucket as a borrower, or none
 * @b: the bucket
 * @p: its parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 * @n: how many, at most RATE_CG_MAX_REFUND
 *
 * Return: true if all @n conform and were charged.
 */
bool rate_bucket_try_charge_n(struct rate_bucket *b, const struct rate_params *p,
			      u64 now, unsigned int n)
{
	u64 limit = READ_ONCE(p->borrow);
	s64 old = atomic64_read(&b->tat);
	u64 ahead, cost;

	if (WARN_ON_ONCE(n > RATE_CG_MAX_REFUND))
		return false;
	cost = n * p->cost;
	do {
		ahead = rate_ahead(old, now) + cost;
		if (ahead > limit)
			return false;
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now + ahead));
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_try_charge_n);

/* Nanoseconds until @ahead drains to the limit of an event's status. */
static u64 rate_over(const struct rate_params *p, u64 ahead, bool guaranteed)
{
	u64 limit = guaranteed ? p->depth : READ_ONCE(p->borrow);

	if (!p->depth)
		return U64_MAX;
	return ahead > limit ? ahead - limit : 0;
}

static __always_inline u64 rate_charge_debt(struct rate_bucket *b,
					    const struct rate_params *p, u64 now,
					    bool guaranteed)
{
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	if (!p->depth)
		return U64_MAX;
	do {
		ahead = min(rate_ahead(old, now) + p->cost, RATE_CG_MAX_AHEAD);
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now + ahead));
	return rate_over(p, ahead, guaranteed);
}

/**
 * rate_bucket_charge_debt - charge one event that has already happened
 * @b: the bucket
 * @p: its parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 *
 * The event is charged even if it does not conform: the bucket runs into
 * debt, kept whole up to RATE_CG_MAX_AHEAD (36 years).
 *
 * Return: nanoseconds until the debt is down to a borrower's limit, 0 if
 * the event conformed, U64_MAX for RATE 0.
 */
u64 rate_bucket_charge_debt(struct rate_bucket *b, const struct rate_params *p,
			    u64 now)
{
	return rate_charge_debt(b, p, now, false);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_charge_debt);

/**
 * rate_bucket_conform_ns - time until a bucket's debt is down to a borrower's limit
 * @b: the bucket
 * @p: its parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 *
 * Return: nanoseconds, 0 if it is now, U64_MAX if never (RATE 0).
 */
u64 rate_bucket_conform_ns(struct rate_bucket *b, const struct rate_params *p,
			   u64 now)
{
	return rate_over(p, rate_ahead(atomic64_read(&b->tat), now), false);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_conform_ns);

/* @ns of time at @from ns per event, as time at @to ns per event, capped. */
static u64 rate_rescale(u64 ns, u64 from, u64 to, u64 cap)
{
	u64 events = div64_u64(ns, from);

	if (events > div64_u64(cap, to))
		return cap;
	return min(events * to + mul_u64_u64_div_u64(ns - events * from, to, from),
		   cap);
}

/**
 * rate_bucket_rebase - carry a bucket's state over to new parameters
 * @b: the bucket
 * @old: the parameters it was read with; NULL if it was not in use
 * @p: the new parameters
 * @now: the time, in nanoseconds of ktime_get_ns()
 * @keep_fill: keep the fill, clamped to the new depth (a new setting);
 *	       otherwise keep what was used (a share: its parent keeps room
 *	       for what the share may use, which moves with the depth)
 *
 * Both are kept in events, fractions and debt included. A bucket that
 * was not in use, or was at RATE 0, starts full.
 */
void rate_bucket_rebase(struct rate_bucket *b, const struct rate_params *old,
			const struct rate_params *p, u64 now, bool keep_fill)
{
	s64 tat = atomic64_read(&b->tat);
	u64 ahead;

	if (!p->depth)
		return;
	if (!old || !old->depth) {
		atomic64_set(&b->tat, now);
		return;
	}
	do {
		ahead = rate_ahead(tat, now);
		/* What a full bucket has used is nothing, at any cost. */
		if (!keep_fill && !ahead)
			return;
		if (!keep_fill)
			ahead = rate_rescale(ahead, old->cost, p->cost, RATE_CG_MAX_AHEAD);
		else if (ahead <= old->depth)
			ahead = p->depth - rate_rescale(old->depth - ahead, old->cost,
							p->cost, p->depth);
		else
			ahead = min(p->depth + rate_rescale(ahead - old->depth, old->cost,
							    p->cost, RATE_CG_MAX_AHEAD),
				    RATE_CG_MAX_AHEAD);
	} while (!atomic64_try_cmpxchg(&b->tat, &tat, now + ahead));
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_rebase);

/* Walks stop below the root, which has neither a limit nor a share. */
static struct rate_cg *rate_cg_parent(struct rate_cg *rcg)
{
	return css_rate_cg(rcg->css.parent);
}

/**
 * struct rate_walk - what a charge did at each level, to undo it
 * @seq: rate_cg_seq when the charge began
 * @now: the clock, read once
 * @charged: some limit below the first that refused took the event
 * @within: levels (0 for the charging cgroup) whose share took the event
 * @beyond: levels whose share refused it, so that it borrowed above
 */
struct rate_walk {
	unsigned long seq;
	u64 now;
	bool charged;
	DECLARE_BITMAP(within, RATE_CG_SHARE_LEVELS);
	DECLARE_BITMAP(beyond, RATE_CG_SHARE_LEVELS);
};

/**
 * rate_cg_count - count an event that no limit had to decide on
 * @leaf: the cgroup the event originates in
 *
 * Also the whole charge while no limit of the controller is finite.
 */
void rate_cg_count(struct rate_cg *leaf)
{
	this_cpu_inc(leaf->stat->admitted);
}

/*
 * cgroup_file_notify() takes a lock global to all cgroups on every call;
 * a flood of refusals must not. A pending notify timer already promises
 * a notification after this event, so there is nothing to add.
 */
static void rate_cg_notify(struct cgroup_file *cfile)
{
	if (!timer_pending(&cfile->notify_timer))
		cgroup_file_notify(cfile);
}

/* Counts a refusal or stall of @leaf's event caused by @cause's limit. */
static void rate_cg_throttled(struct rate_cg *leaf, struct rate_cg *cause,
			      u64 delay_ns)
{
	struct rate_cg *rcg;

	this_cpu_inc(leaf->stat->throttled);
	this_cpu_add(leaf->stat->delay_ns, delay_ns);
	this_cpu_inc(cause->stat->events);
	rate_cg_notify(&cause->events_local_file);
	for (rcg = cause; rate_cg_parent(rcg); rcg = rate_cg_parent(rcg))
		rate_cg_notify(&rcg->events_file);
}

/*
 * Whether @rcg's share takes the event, given its status at @rcg: then
 * it is guaranteed one level up, and counted so at @rcg. A walk that
 * may roll back notes which in @w.
 */
static __always_inline bool rate_cg_share(struct rate_cg *rcg, u64 now,
					  bool guaranteed, struct rate_walk *w,
					  unsigned int level)
{
	struct rate_params *p = rcu_dereference(rcg->share_p);

	if (!p || (w && level >= RATE_CG_SHARE_LEVELS))
		return false;
	guaranteed = rate_charge(&rcg->share, p, now, guaranteed);
	if (guaranteed)
		this_cpu_inc(rcg->stat->guaranteed);
	if (w)
		__set_bit(level, guaranteed ? w->within : w->beyond);
	else if (!guaranteed)
		this_cpu_inc(rcg->stat->borrowed);
	return guaranteed;
}

/* Counts an admitted event as borrowed where its share refused it. */
static void rate_cg_count_borrowed(struct rate_cg *leaf, struct rate_walk *w)
{
	unsigned int level = 0;
	struct rate_cg *rcg;

	for (rcg = leaf; rcg->css.parent && level < RATE_CG_SHARE_LEVELS;
	     rcg = rate_cg_parent(rcg), level++)
		if (test_bit(level, w->beyond))
			this_cpu_inc(rcg->stat->borrowed);
}

/*
 * Gives back what a walk charged below @stop. Parameters published since
 * the walk began may differ from those it charged with: their buckets
 * keep the charge, so a rewritten setting never gains a token from it.
 */
static void rate_cg_rollback(struct rate_cg *leaf, struct rate_cg *stop,
			     struct rate_walk *w)
{
	unsigned int level = 0;
	struct rate_params *p;
	struct rate_cg *rcg;

	for (rcg = leaf; rcg != stop; rcg = rate_cg_parent(rcg), level++) {
		p = rcu_dereference(rcg->limit_p);
		if (p && (long)(p->seq - w->seq) <= 0)
			rate_bucket_uncharge(&rcg->limit, p, 1);
		if (level >= RATE_CG_SHARE_LEVELS || !test_bit(level, w->within))
			continue;
		this_cpu_dec(rcg->stat->guaranteed);
		p = rcu_dereference(rcg->share_p);
		if (p && (long)(p->seq - w->seq) <= 0)
			rate_bucket_uncharge(&rcg->share, p, 1);
	}
}

/*
 * A charge that the limit of @first refused as borrowing: at each level
 * the limit decides with the status the event has there (guaranteed if
 * it came within the share of the cgroup below), then the cgroup's share
 * decides its status one level up. The limits below @first admitted the
 * event as borrowing, which they would whatever its status; one that
 * comes to @first borrowing again is refused again.
 */
static noinline bool rate_cg_try_fair(struct rate_cg *leaf,
				      struct rate_cg *first, struct rate_walk *w)
{
	bool guaranteed = false, charged = true;
	unsigned int level = 0;
	struct rate_params *p;
	struct rate_cg *rcg;

	bitmap_zero(w->within, RATE_CG_SHARE_LEVELS);
	bitmap_zero(w->beyond, RATE_CG_SHARE_LEVELS);
	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg), level++) {
		if (rcg == first)
			charged = false;
		p = rcu_dereference(rcg->limit_p);
		if (p && !charged &&
		    ((rcg == first && !guaranteed) ||
		     !rate_charge(&rcg->limit, p, w->now, guaranteed))) {
			if (w->charged || !bitmap_empty(w->within, RATE_CG_SHARE_LEVELS))
				rate_cg_rollback(leaf, rcg, w);
			rate_cg_throttled(leaf, rcg, 0);
			return false;
		}
		guaranteed = rate_cg_share(rcg, w->now, guaranteed, w, level);
	}
	rate_cg_count(leaf);
	if (!bitmap_empty(w->beyond, RATE_CG_SHARE_LEVELS))
		rate_cg_count_borrowed(leaf, w);
	return true;
}

/**
 * rate_cg_try_charge - charge one event to a cgroup and its ancestors, or none
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). Every limit is first charged as for
 * an event that borrows, which leaves the room kept for guaranteed events
 * alone: while no level is congested that is all, and no share is
 * touched. If some level refuses, the shares decide.
 *
 * Return: true if every limited level admitted the event.
 */
bool rate_cg_try_charge(struct rate_cg *leaf)
{
	struct rate_params *p;
	struct rate_walk w;
	struct rate_cg *rcg;

	/* Pairs with the publishers' release: parameters up to @seq are seen. */
	w.seq = smp_load_acquire(&rate_cg_seq);
	w.now = 0;
	w.charged = false;
	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		if (!p)
			continue;
		if (!w.now)
			w.now = ktime_get_ns();
		if (!rate_charge(&rcg->limit, p, w.now, false))
			return rate_cg_try_fair(leaf, rcg, &w);
		w.charged = true;
	}
	rate_cg_count(leaf);
	return true;
}

/**
 * rate_cg_charge_debt - charge an event that has happened to every level
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). Every limited level is charged, in
 * debt if need be, with the status the shares give the event there; each
 * stalls the originator until it is back within that status's limit,
 * which a level where the event came within its share never needs while
 * the room kept for it holds. The level that takes longest counts the
 * stall as its event. V vCPUs charging at once each take their event
 * before they stall, so a level admits at most RATE * T + BURST + V.
 *
 * Return: the time until which the originator should stall, in
 * nanoseconds of ktime_get_ns(); 0 for no stall, U64_MAX for one that
 * ends only when the settings change (RATE 0).
 */
u64 rate_cg_charge_debt(struct rate_cg *leaf)
{
	struct rate_cg *rcg, *cause = NULL;
	u64 now = ktime_get_ns(), stall = 0, owed;
	bool guaranteed = false;
	struct rate_params *p;

	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		owed = p ? rate_charge_debt(&rcg->limit, p, now, guaranteed) : 0;
		if (owed > stall) {
			stall = owed;
			cause = rcg;
		}
		guaranteed = rate_cg_share(rcg, now, guaranteed, NULL, 0);
	}
	rate_cg_count(leaf);
	if (!stall)
		return 0;
	rate_cg_throttled(leaf, cause, stall == U64_MAX ? 0 : stall);
	return stall > U64_MAX - now ? U64_MAX : now + stall;
}

/*
 * Gives @n of @span events charged at @at back to the limits from @leaf
 * up to, not including, @stop (NULL: all), where that is still exact
 * at @now (rate_bucket_refund()), except those published after @seq.
 */
static void rate_cg_unreserve(struct rate_cg *leaf, struct rate_cg *stop,
			      unsigned int n, unsigned int span,
			      unsigned long seq, u64 at, u64 now)
{
	struct rate_params *p;
	struct rate_cg *rcg;

	for (rcg = leaf; rcg != stop && rcg->css.parent; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		if (p && (long)(p->seq - seq) <= 0)
			rate_bucket_refund(&rcg->limit, p, n, span, at, now);
	}
}

/**
 * rate_cg_charge_seq - the settings a charge that begins now is judged by
 *
 * Read before a charge that may be refunded, for rate_cg_refund().
 *
 * Return: the count of publications so far.
 */
unsigned long rate_cg_charge_seq(void)
{
	/* Pairs with the publishers' release, as in rate_cg_try_charge(). */
	return smp_load_acquire(&rate_cg_seq);
}

/**
 * rate_cg_refund - give back admitted events that never reached the resource
 * @leaf: the cgroup they were charged to, pinned by the caller since
 * @n: how many, at most @span
 * @span: how many were charged together, at most RATE_CG_MAX_REFUND
 * @seq: rate_cg_charge_seq() read before they were charged
 * @at: ktime_get_ns() read before they were charged
 *
 * The caller holds rcu_read_lock(). Every limit on the path gets @n
 * events back while that is exact, that is until @span of its costs have
 * passed since @at (rate_bucket_refund()), and unless its parameters
 * were published after @seq: as for a rollback, a setting written since
 * keeps the charge. So a refund never gives a limit a token it would not
 * have had; a late one gives nothing. The shares keep what they took: a
 * refunded event counts against its subtree's guaranteed room until that
 * drains, never for it. The stat files stop counting the events.
 */
void rate_cg_refund(struct rate_cg *leaf, unsigned int n, unsigned int span,
		    unsigned long seq, u64 at)
{
	if (WARN_ON_ONCE(span > RATE_CG_MAX_REFUND || n > span))
		return;
	rate_cg_unreserve(leaf, NULL, n, span, seq, at, ktime_get_ns());
	this_cpu_sub(leaf->stat->admitted, n);
}

/*
 * The most events every limit on @leaf's path has room for as borrowers,
 * capped at @max; reading the time once for all levels into @now.
 */
static unsigned int rate_cg_path_room(struct rate_cg *leaf, unsigned int max,
				      u64 *now)
{
	struct rate_params *p;
	struct rate_cg *rcg;
	bool limited = false;
	u64 room = max;

	*now = ktime_get_ns();
	for (rcg = leaf; rcg->css.parent && room; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		if (p) {
			room = min(room, rate_bucket_room(&rcg->limit, p, *now));
			limited = true;
		}
	}
	return limited ? room : 0;
}

/**
 * rate_cg_reserve - pay in advance for events that may happen without a charge
 * @leaf: the cgroup the events will originate in
 * @max: the most to reserve, at most RATE_CG_MAX_REFUND
 * @seq: set to the settings it was judged by, for rate_cg_refund()
 * @at: set to the time of the charge, for rate_cg_refund()
 *
 * The caller holds rcu_read_lock(). For a user that can let events happen
 * unseen once they are paid for (AMD's Bus Lock Threshold counts down bus
 * locks without an exit). Charges the same number of events to every
 * limit on the path, as borrowers, all or none: half of what the fullest
 * limit's borrowers have left, at most @max. A path far below its limits
 * gets a batch; one near them, or whose room is kept for guaranteed
 * events, gets none, so a reservation never takes a sibling's share.
 * What is reserved counts as admitted; give back what goes unused with
 * rate_cg_refund().
 *
 * Return: the number reserved, 0 for none (also with no limit on the
 * path); with @seq and @at set for rate_cg_refund().
 */
unsigned int rate_cg_reserve(struct rate_cg *leaf, unsigned int max,
			     unsigned long *seq, u64 *at)
{
	struct rate_params *p;
	struct rate_cg *rcg;
	unsigned int n;

	*seq = rate_cg_charge_seq();
	n = rate_cg_path_room(leaf, min(2 * max, 2 * RATE_CG_MAX_REFUND), at) / 2;
	if (!n)
		return 0;
	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		if (p && !rate_bucket_try_charge_n(&rcg->limit, p, *at, n)) {
			rate_cg_unreserve(leaf, rcg, n, n, *seq, *at, *at);
			return 0;
		}
	}
	this_cpu_add(leaf->stat->admitted, n);
	return n;
}

/**
 * rate_cg_conform_ns - time until every limit on a path lets a borrower through
 * @leaf: the cgroup
 *
 * The caller holds rcu_read_lock(). A stalled charger takes the earlier
 * of this and its deadline, so that a limit raised or removed while it
 * sleeps ends its stall early.
 *
 * Return: nanoseconds, U64_MAX if never under the current settings.
 */
u64 rate_cg_conform_ns(struct rate_cg *leaf)
{
	u64 now = ktime_get_ns(), wait = 0;
	struct rate_params *p;
	struct rate_cg *rcg;

	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg)) {
		p = rcu_dereference(rcg->limit_p);
		if (p)
			wait = max(wait, rate_bucket_conform_ns(&rcg->limit, p, now));
	}
	return wait;
}

/**
 * rate_cg_limited - whether a limit bounds a cgroup's events
 * @leaf: the cgroup
 *
 * The caller holds rcu_read_lock(). A user that only needs to see events
 * while they are limited (KVM turns bus-lock detection on and off with
 * this) must look again whenever a limit or the task's cgroup changes.
 *
 * Return: true if @leaf or an ancestor has a limit other than "max".
 */
bool rate_cg_limited(struct rate_cg *leaf)
{
	struct rate_cg *rcg;

	for (rcg = leaf; rcg->css.parent; rcg = rate_cg_parent(rcg))
		if (rcu_access_pointer(rcg->limit_p))
			return true;
	return false;
}

/**
 * rate_cg_sleep_until - sleep until a time, unless a signal arrives first
 * @until: nanoseconds of ktime_get_ns()
 *
 * Sleeps interruptibly on an hrtimer; the caller must hold no locks.
 *
 * Return: false if a signal ended the sleep.
 */
bool rate_cg_sleep_until(u64 until)
{
	ktime_t end = ns_to_ktime(until);

	might_sleep();
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			return false;
		}
		if (!schedule_hrtimeout(&end, HRTIMER_MODE_ABS))
			return true;
	}
}

static u64 rate_cg_limit_cost(struct rate_cg *rcg)
{
	return rcg->rate ? DIV_ROUND_UP(NSEC_PER_SEC, rcg->rate) : 0;
}

/* What @rcg passes down to its children: a cost per event and a depth. */
static bool rate_cg_passes(struct rate_cg *rcg, u64 *cost, u64 *depth)
{
	bool limited = rcg->rate != RATE_CG_UNLIMITED;

	*cost = limited ? rate_cg_limit_cost(rcg) : rcg->share_cost;
	*depth = limited ? rcg->burst : rcg->share_depth;
	if (limited && rcg->share_depth) {
		*cost = *cost && rcg->share_cost ? max(*cost, rcg->share_cost) : 0;
		*depth = min(*depth, rcg->share_depth);
	}
	return limited || rcg->share_depth;
}

/*
 * A child's part of @cost per event among children of weight @wsum: 1/64
 * slower than its weight's part of the rate, and rounded up, so that the
 * shares leave the parent room to drain what republications and lagging
 * clocks leave ahead, even when every child uses all of its share.
 */
static u64 rate_share_cost(u64 cost, u64 weight, u64 wsum)
{
	u64 share;

	if (!cost)
		return 0;
	cost += DIV_ROUND_UP(cost, RATE_CG_SHARE_SLACK);
	if (div64_u64(wsum, weight) >= div64_u64(RATE_CG_MAX_COST, cost))
		return RATE_CG_MAX_COST;
	share = mul_u64_u64_div_u64(cost, wsum, weight);
	return share + (mul_u64_u64_div_u64(share, weight, wsum) != cost);
}

/* Sets the share of each of @rcg's online children. Under rcu_read_lock(). */
static void rate_cg_split(struct rate_cg *rcg)
{
	u64 cost, depth, n = rcg->nr_online, spare = 0;
	struct cgroup_subsys_state *pos;
	bool passes = rate_cg_passes(rcg, &cost, &depth) && n;
	struct rate_cg *c;

	if (passes && n > 1 && 2 * n <= depth - 1)
		spare = depth - 1 - 2 * n;
	css_for_each_child(pos, &rcg->css) {
		c = css_rate_cg(pos);
		c->share_depth = 0;
		if (!passes || !c->online)
			continue;
		c->share_cost = n == 1 ? cost :
			rate_share_cost(cost, c->weight, rcg->weight_sum);
		c->share_depth = n == 1 ? depth : RATE_CG_MIN_SHARE_DEPTH +
			div64_u64(spare * c->weight, rcg->weight_sum);
	}
}

/*
 * The room @rcg's buckets keep for its children's guaranteed events: all
 * but one event of what it passes down, if it has a limit and children.
 * The children's depths sum to no more than that.
 */
static u64 rate_cg_room(struct rate_cg *rcg)
{
	u64 cost, depth;

	if (rcg->rate == RATE_CG_UNLIMITED || !rcg->nr_online ||
	    !rate_cg_passes(rcg, &cost, &depth))
		return 0;
	return depth - 1;
}

/* The parameters of @rcg's share, set by its parent's split. */
static void rate_cg_share_params(struct rate_cg *rcg, struct rate_params *p)
{
	u64 d = rcg->share_depth;

	rate_params_init(p, rcg->share_cost, d, d - min(rate_cg_room(rcg), d - 1));
}

static bool rate_params_equal(const struct rate_params *a,
			      const struct rate_params *b)
{
	return a->cost == b->cost && a->depth == b->depth && a->borrow == b->borrow;
}

/* Publishes the next parameters: a charge that reads the sequence sees them. */
static unsigned long rate_cg_next_seq(void)
{
	return rate_cg_seq + 1;
}

/*
 * Publishes @rcg's limit if it changed, carrying the fill over. Without
 * memory for it the old one stays; the write that asked for it fails.
 */
static int rate_cg_publish_limit(struct rate_cg *rcg)
{
	struct rate_params want, *old, *p = NULL;
	u64 d = rcg->burst;

	old = rcu_dereference_protected(rcg->limit_p, lockdep_is_held(&rate_cg_mutex));
	if (rcg->rate != RATE_CG_UNLIMITED) {
		rate_params_init(&want, rate_cg_limit_cost(rcg), d,
				 d - min(rate_cg_room(rcg), d - 1));
		if (old && rate_params_equal(old, &want))
			return 0;
		p = kmemdup(&want, sizeof(want), GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		p->seq = rate_cg_next_seq();
	} else if (!old) {
		return 0;
	}
	/*
	 * The state moves to the new units first: a charge made with the new
	 * parameters must not land on a state still in the old ones.
	 */
	if (p)
		rate_bucket_rebase(&rcg->limit, old, p, ktime_get_ns(), true);
	rcu_assign_pointer(rcg->limit_p, p);
	/* A charge that reads the new sequence number sees @p, or newer. */
	smp_store_release(&rate_cg_seq, rate_cg_next_seq());
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

/**
 * struct rate_shares - the share parameters of a cgroup's children
 * @rcu: frees them once no charge can read them
 * @share: one per online child, which points at its own
 *
 * One allocation per republication, whatever the number of children.
 */
struct rate_shares {
	struct rcu_head rcu;
	struct rate_params share[];
};

/*
 * Publishes the shares of @rcg's children, all in one allocation, and
 * carries each share's state over: a share keeps what it has used. May
 * sleep. Without memory for them the old ones stay published and the
 * caller fails.
 */
static int rate_cg_publish_shares(struct rate_cg *rcg)
{
	unsigned long seq = rate_cg_next_seq();
	struct rate_shares *new = NULL, *old = rcg->shares;
	struct cgroup_subsys_state *pos;
	struct rate_params *p, *was;
	unsigned int i = 0;
	u64 cost, depth;
	struct rate_cg *c;

	if (rcg->nr_online && rate_cg_passes(rcg, &cost, &depth)) {
		new = kvzalloc(struct_size(new, share, rcg->nr_online), GFP_KERNEL);
		if (!new)
			return -ENOMEM;
	}
	rcu_read_lock();
	css_for_each_child(pos, &rcg->css) {
		c = css_rate_cg(pos);
		was = rcu_dereference_protected(c->share_p, lockdep_is_held(&rate_cg_mutex));
		p = new && c->online && i < rcg->nr_online ? &new->share[i++] : NULL;
		c->share_changed = !p != !was;
		if (!p) {
			RCU_INIT_POINTER(c->share_p, NULL);
			continue;
		}
		rate_cg_share_params(c, p);
		p->seq = seq;
		c->share_changed |= was && !rate_params_equal(p, was);
		/* As for a limit: the state in the new units first. */
		rate_bucket_rebase(&c->share, was, p, ktime_get_ns(), false);
		rcu_assign_pointer(c->share_p, p);
	}
	rcu_read_unlock();
	/* A charge that reads @seq sees these shares, or newer. */
	smp_store_release(&rate_cg_seq, seq);
	rcg->shares = new;
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

/*
 * Recomputes and publishes @top and its subtree, after a setting, weight
 * or online child of @top changed. Nothing above @top changes. May
 * sleep: each cgroup is pinned while it is published.
 */
static int rate_cg_update(struct rate_cg *top)
{
	struct cgroup_subsys_state *pos;
	int ret = 0;

	lockdep_assert_held(&rate_cg_mutex);
	rcu_read_lock();
	css_for_each_descendant_pre(pos, &top->css) {
		/* A share that did not change changes nothing below it. */
		if (pos != &top->css && !css_rate_cg(pos)->share_changed) {
			pos = css_rightmost_descendant(pos);
			continue;
		}
		rate_cg_split(css_rate_cg(pos));
		if (!css_tryget(pos))
			continue;
		rcu_read_unlock();
		ret = rate_cg_publish_limit(css_rate_cg(pos)) ?: ret;
		ret = rate_cg_publish_shares(css_rate_cg(pos)) ?: ret;
		rcu_read_lock();
		css_put(pos);
	}
	rcu_read_unlock();
	return ret;
}

/*
 * Whether a cgroup keeps room for its children changes its own share's
 * borrowing limit, and nothing else of it: one value, updated in place.
 */
static void rate_cg_update_borrow(struct rate_cg *rcg)
{
	struct rate_params *p, want;

	p = rcu_dereference_protected(rcg->share_p, lockdep_is_held(&rate_cg_mutex));
	if (p) {
		rate_cg_share_params(rcg, &want);
		WRITE_ONCE(p->borrow, want.borrow);
	}
}

/* A change in @rcg's weight or presence changes its parent's split. */
static int rate_cg_update_parent(struct rate_cg *rcg, s64 weight, s64 count)
{
	struct rate_cg *parent = rate_cg_parent(rcg);
	int ret;

	if (!parent)
		return 0;
	parent->weight_sum += weight;
	parent->nr_online += count;
	rcg->share_changed = true;
	ret = rate_cg_update(parent);
	if (count)
		rate_cg_update_borrow(parent);
	return ret;
}

struct cgroup_subsys_state *
rate_cg_css_alloc(struct cgroup_subsys_state *parent_css,
		  struct static_key_false *limited_key)
{
	struct rate_cg *rcg;

	rcg = kzalloc_obj(*rcg);
	if (!rcg)
		return ERR_PTR(-ENOMEM);
	rcg->stat = alloc_percpu(struct rate_cg_stat);
	if (!rcg->stat) {
		kfree(rcg);
		return ERR_PTR(-ENOMEM);
	}
	rcg->limited_key = limited_key;
	rcg->rate = RATE_CG_UNLIMITED;
	rcg->weight = RATE_CG_WEIGHT_DFL;
	return &rcg->css;
}

/* A new cgroup takes its share, and its siblings' shrink. */
int rate_cg_css_online(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	int ret;

	mutex_lock(&rate_cg_mutex);
	WRITE_ONCE(rcg->online, true);
	ret = rate_cg_update_parent(rcg, rcg->weight, 1);
	if (ret) {
		WRITE_ONCE(rcg->online, false);
		rate_cg_update_parent(rcg, -rcg->weight, -1);
	}
	mutex_unlock(&rate_cg_mutex);
	return ret;
}

/* Adds @rcg's own counts, and those of its removed descendants, to @sum. */
static void rate_cg_stat_add(struct rate_cg *rcg, struct rate_cg_stat *sum)
{
	struct rate_cg_stat *s;
	int cpu;

	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(rcg->stat, cpu);
		sum->admitted += READ_ONCE(s->admitted);
		sum->throttled += READ_ONCE(s->throttled);
		sum->delay_ns += READ_ONCE(s->delay_ns);
		sum->events += READ_ONCE(s->events);
	}
	sum->admitted += READ_ONCE(rcg->removed.admitted);
	sum->throttled += READ_ONCE(rcg->removed.throttled);
	sum->delay_ns += READ_ONCE(rcg->removed.delay_ns);
	sum->events += READ_ONCE(rcg->removed.events);
}

/* Moves a removed cgroup's counts to its parent, under rate_cg_mutex. */
static void rate_cg_stat_fold(struct rate_cg *rcg, struct rate_cg *parent)
{
	struct rate_cg_stat sum = {};

	rate_cg_stat_add(rcg, &sum);
	WRITE_ONCE(parent->removed.admitted, parent->removed.admitted + sum.admitted);
	WRITE_ONCE(parent->removed.throttled, parent->removed.throttled + sum.throttled);
	WRITE_ONCE(parent->removed.delay_ns, parent->removed.delay_ns + sum.delay_ns);
	WRITE_ONCE(parent->removed.events, parent->removed.events + sum.events);
}

/* A removed cgroup's share goes back to its siblings, its counts up. */
void rate_cg_css_offline(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css), *parent = rate_cg_parent(rcg);

	mutex_lock(&rate_cg_mutex);
	WRITE_ONCE(rcg->online, false);
	if (parent)
		rate_cg_stat_fold(rcg, parent);
	rate_cg_update_parent(rcg, -rcg->weight, -1);
	mutex_unlock(&rate_cg_mutex);
}

/* Called after an RCU grace period: no charge can still see the cgroup. */
void rate_cg_css_free(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	if (rcg->rate != RATE_CG_UNLIMITED && rcg->limited_key)
		static_branch_dec(rcg->limited_key);
	kfree(rcu_dereference_protected(rcg->limit_p, true));
	kvfree(rcg->shares);
	free_percpu(rcg->stat);
	kfree(rcg);
}

/**
 * rate_cg_stat_read - the counts of a cgroup's subtree
 * @rcg: the cgroup
 * @sum: admitted, throttled, delay_ns and events of the whole subtree,
 *	 removed cgroups included; guaranteed and borrowed of @rcg itself
 *
 * Takes no lock: exact once charging has stopped, except that a read
 * during an rmdir below may count the removed cgroup's events twice or
 * not at all, that once.
 */
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum)
{
	struct cgroup_subsys_state *pos;
	struct rate_cg_stat *s;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	rcu_read_lock();
	css_for_each_descendant_pre(pos, &rcg->css)
		if (pos == &rcg->css || READ_ONCE(css_rate_cg(pos)->online))
			rate_cg_stat_add(css_rate_cg(pos), sum);
	rcu_read_unlock();
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(rcg->stat, cpu);
		sum->guaranteed += READ_ONCE(s->guaranteed);
		sum->borrowed += READ_ONCE(s->borrowed);
	}
}

/* The events of @rcg's own limit. */
static u64 rate_cg_events_local(struct rate_cg *rcg)
{
	u64 events = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		events += READ_ONCE(per_cpu_ptr(rcg->stat, cpu)->events);
	return events;
}

/* One decimal field: digits only, so no sign, space or base prefix. */
static int rate_cg_parse_u64(const char *s, u64 *val)
{
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++)
		if (!isdigit(*p))
			return -EINVAL;
	return kstrtou64(s, 10, val);
}

/**
 * rate_cg_parse - parse "max", "RATE" or "RATE BURST"
 * @buf: NUL-terminated input; one trailing newline is allowed
 * @rate: RATE, or RATE_CG_UNLIMITED for "max"
 * @burst: BURST, by default max(RATE, 1)
 *
 * Return: 0, -EINVAL for malformed input or BURST 0, -ERANGE for a value
 * above RATE_CG_MAX_RATE or RATE_CG_MAX_BURST.
 */
int rate_cg_parse(char *buf, u64 *rate, u64 *burst)
{
	size_t len = strlen(buf);
	char *field;
	int ret;

	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	if (!strcmp(buf, "max")) {
		*rate = RATE_CG_UNLIMITED;
		*burst = 0;
		return 0;
	}
	field = strsep(&buf, " ");
	ret = rate_cg_parse_u64(field, rate);
	if (ret)
		return ret;
	if (buf) {
		ret = rate_cg_parse_u64(buf, burst);
		if (ret)
			return ret;
		if (!*burst)
			return -EINVAL;
	} else {
		*burst = max(*rate, 1ULL);
	}
	if (*rate > RATE_CG_MAX_RATE || *burst > RATE_CG_MAX_BURST)
		return -ERANGE;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(rate_cg_parse);

int rate_cg_limit_show(struct seq_file *sf, void *v)
{
	struct rate_cg *rcg = css_rate_cg(seq_css(sf));

	mutex_lock(&rate_cg_mutex);
	if (rcg->rate == RATE_CG_UNLIMITED)
		seq_puts(sf, "max\n");
	else
		seq_printf(sf, "%llu %llu\n", rcg->rate, rcg->burst);
	mutex_unlock(&rate_cg_mutex);
	return 0;
}

/**
 * rate_cg_set_limit - write a cgroup's limit file
 * @of: the file
 * @buf: what was written, NUL-terminated
 * @nbytes: its length
 * @toggled: set to whether the cgroup went from "max" to a limit or back
 *
 * Return: @nbytes, or an error and nothing changed.
 */
ssize_t rate_cg_set_limit(struct kernfs_open_file *of, char *buf,
			  size_t nbytes, bool *toggled)
{
	struct rate_cg *rcg = css_rate_cg(of_css(of));
	u64 rate, burst, old_rate, old_burst;
	bool was, is;
	int ret;

	*toggled = false;
	/* An embedded NUL would hide the rest of the write from the parser. */
	if (strlen(buf) != nbytes)
		return -EINVAL;
	ret = rate_cg_parse(buf, &rate, &burst);
	if (ret)
		return ret;

	mutex_lock(&rate_cg_mutex);
	old_rate = rcg->rate;
	old_burst = rcg->burst;
	was = old_rate != RATE_CG_UNLIMITED;
	is = rate != RATE_CG_UNLIMITED;
	/* The controller's key is on before a limit is published. */
	if (is && !was && rcg->limited_key)
		static_branch_inc(rcg->limited_key);
	rcg->rate = rate;
	rcg->burst = burst;
	ret = rate_cg_update(rcg);
	if (ret) {
		/* No memory for the new limit: the old one is still published. */
		rcg->rate = old_rate;
		rcg->burst = old_burst;
		rate_cg_update(rcg);
	}
	rate_cg_update_borrow(rcg);
	/* ... and off once it is gone, or was never published. */
	if (rcg->rate == RATE_CG_UNLIMITED && (was || is) && rcg->limited_key)
		static_branch_dec(rcg->limited_key);
	*toggled = was != (rcg->rate != RATE_CG_UNLIMITED);
	mutex_unlock(&rate_cg_mutex);
	return ret ?: nbytes;
}

ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off)
{
	bool toggled;

	return rate_cg_set_limit(of, buf, nbytes, &toggled);
}

u64 rate_cg_weight_read(struct cgroup_subsys_state *css, struct cftype *cft)
{
	return READ_ONCE(css_rate_cg(css)->weight);
}

int rate_cg_weight_write(struct cgroup_subsys_state *css, struct cftype *cft,
			 u64 weight)
{
	struct rate_cg *rcg = css_rate_cg(css);
	s64 delta;

	if (weight < RATE_CG_WEIGHT_MIN || weight > RATE_CG_WEIGHT_MAX)
		return -ERANGE;
	mutex_lock(&rate_cg_mutex);
	delta = weight - rcg->weight;
	WRITE_ONCE(rcg->weight, weight);
	if (rcg->online && delta)
		rate_cg_update_parent(rcg, delta, 0);
	mutex_unlock(&rate_cg_mutex);
	return 0;
}

int rate_cg_events_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "throttled %llu\n", sum.events);
	return 0;
}

int rate_cg_events_local_show(struct seq_file *sf, void *v)
{
	seq_printf(sf, "throttled %llu\n",
		   rate_cg_events_local(css_rate_cg(seq_css(sf))));
	return 0;
}
