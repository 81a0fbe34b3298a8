// SPDX-License-Identifier: GPL-2.0
/*
 * Hierarchical token buckets for the snp and buslock cgroup controllers.
 *
 * Limits. A limited cgroup has one bucket in GCRA form (the generic cell
 * rate algorithm, the virtual-scheduling form of a token bucket): a single
 * theoretical arrival time (TAT) advanced with cmpxchg. An event conforms
 * when max(TAT, now) plus the event's cost runs at most BURST events ahead
 * of now. The TAT is kept in units of 1/RATE nanoseconds: an event costs
 * exactly NSEC_PER_SEC units and time advances RATE units per nanosecond,
 * so no interval is rounded and the bounds hold exactly. Time in those
 * units is now * RATE modulo 2^64 and only differences are compared.
 *
 * Fair sharing. Each child of a limited cgroup has a share of its rate,
 * rate * weight / (sum of the online siblings' weights), passed down by
 * weight through unlimited levels and capped by the child's own limit on
 * the way: a share bucket, as sch_htb's assured rate. An event that
 * conforms to its cgroup's share is guaranteed at the parent: it may use
 * the room the parent's bucket keeps for its children's guaranteed
 * events. Any other event borrows what the parent's bucket has beyond
 * that room (work conserving). The room is the sum of the children's
 * share depths H, taken out of BURST as far as BURST allows, so a parent
 * admits at most RATE * T + max(BURST, H + 1) over any interval T; with
 * BURST > H that is exactly RATE * T + BURST. Shares sum to at most the
 * parent's rate and guaranteed events are at most one share depth each
 * ahead of their shares, so they always find that room: a cgroup whose
 * demand stays within its share is never refused because of its siblings.
 *
 * Concurrency. Charges take no lock and allocate nothing; the clock is
 * read once per charge, only when some level is limited, and chargers
 * whose readings lag the last writer's see the bucket fuller than it is,
 * never emptier. Settings and shares are recomputed on the slow path under
 * rate_cg_mutex and published as new buckets in preallocated slots, with
 * the token state carried over. Statistics are per-CPU at every level, so
 * only the buckets of limited levels are shared between CPUs.
 */

#include <linux/cgroup.h>
#include <linux/bits.h>
#include <linux/ctype.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <kunit/visibility.h>

#include "rate.h"

/* Written as "max"; a cgroup with this rate has no limit bucket. */
#define RATE_CG_UNLIMITED	U64_MAX

/* Serializes settings, shares and the publication of buckets. */
static DEFINE_MUTEX(rate_cg_mutex);

/*
 * Generation of the last published bucket. A charge reads it before its
 * walk; a bucket published later has a higher @gen and was not charged by
 * that walk, so a rollback never gives it a token.
 */
static unsigned long rate_cg_gen;

/**
 * rate_bucket_init - set up a bucket
 * @b: the bucket
 * @rate: TAT units per nanosecond; 0 admits nothing
 * @cost: TAT units per event
 * @depth_borrow: events an event that borrows may find ahead, itself included
 * @depth: the same for a guaranteed event
 *
 * The callers keep @depth * @cost below RATE_CG_MAX_AHEAD.
 */
void rate_bucket_init(struct rate_bucket *b, u64 rate, u64 cost,
		      u64 depth_borrow, u64 depth)
{
	b->rate = rate;
	b->cost = cost;
	b->limit = depth * cost;
	b->limit_borrow = depth_borrow * cost;
	b->gen = 0;
	atomic64_set(&b->tat, 0);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_init);

/*
 * How far @tat runs ahead of @now_u, in TAT units; 0 if the bucket is
 * full. A TAT more than RATE_CG_MAX_AHEAD ahead cannot be debt, which
 * saturates there: it is an idle bucket whose scaled clock wrapped. A
 * charger whose clock reading lags sees the TAT further ahead by the lag,
 * which is debt to it and never reads as idle short of hours of lag.
 */
static u64 rate_bucket_ahead(s64 tat, u64 now_u)
{
	s64 ahead = (s64)((u64)tat - now_u);

	if (ahead < 0 || ahead > (s64)RATE_CG_MAX_AHEAD)
		return 0;
	return ahead;
}

/**
 * rate_bucket_try_charge - take one event from a bucket if it conforms
 * @b: the bucket
 * @now: the time, in nanoseconds of a monotonic clock
 * @guaranteed: the event comes within its share and may use the room kept
 *		for guaranteed events
 *
 * Return: true if the event conforms and was charged.
 */
bool rate_bucket_try_charge(struct rate_bucket *b, u64 now, bool guaranteed)
{
	u64 limit = guaranteed ? b->limit : b->limit_borrow;
	u64 now_u = now * b->rate;
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	if (!b->rate)
		return false;
	do {
		ahead = rate_bucket_ahead(old, now_u) + b->cost;
		if (ahead > limit)
			return false;
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now_u + ahead));
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_try_charge);

/**
 * rate_bucket_uncharge - give back an event charged by rate_bucket_try_charge()
 * @b: the bucket
 */
void rate_bucket_uncharge(struct rate_bucket *b)
{
	atomic64_sub(b->cost, &b->tat);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_uncharge);

/*
 * Nanoseconds until a bucket @ahead units ahead lets a borrower through;
 * never for RATE 0, which admits nothing.
 */
static u64 rate_bucket_stall(const struct rate_bucket *b, u64 ahead)
{
	if (!b->rate)
		return U64_MAX;
	if (ahead <= b->limit_borrow)
		return 0;
	return div64_u64(ahead - b->limit_borrow + b->rate - 1, b->rate);
}

/**
 * rate_bucket_charge_debt - charge one event that has already happened
 * @b: the bucket
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * The event is charged even if it does not conform, and the bucket runs
 * into debt. The debt is not capped short of RATE_CG_MAX_AHEAD: every
 * event is paid for, however many chargers there are.
 *
 * Return: nanoseconds from @now until the bucket has repaid the debt down
 * to a borrower's limit, 0 if the event conformed, U64_MAX for RATE 0.
 */
u64 rate_bucket_charge_debt(struct rate_bucket *b, u64 now)
{
	u64 now_u = now * b->rate;
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	do {
		ahead = min(rate_bucket_ahead(old, now_u) + b->cost,
			    RATE_CG_MAX_AHEAD);
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now_u + ahead));
	return rate_bucket_stall(b, ahead);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_charge_debt);

/**
 * rate_bucket_conform_ns - time until a bucket lets a borrower through
 * @b: the bucket
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * Return: nanoseconds, 0 if it does now, U64_MAX if it never will.
 */
u64 rate_bucket_conform_ns(const struct rate_bucket *b, u64 now)
{
	return rate_bucket_stall(b, rate_bucket_ahead(atomic64_read(&b->tat),
						      now * b->rate));
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_conform_ns);

/**
 * rate_bucket_inherit - start a new bucket from the state of the one it replaces
 * @b: the new bucket, set up by rate_bucket_init()
 * @old: the bucket it replaces; NULL if there was none
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * The new bucket keeps the old one's fill in events, clamped to its own
 * depth, and any debt. Where the cost of an event changes, a fraction of
 * an event of fill is dropped and of debt kept whole. Without a previous
 * bucket it starts full; after RATE 0, which admitted nothing, empty.
 */
void rate_bucket_inherit(struct rate_bucket *b, const struct rate_bucket *old,
			 u64 now)
{
	u64 ahead = 0, old_ahead, fill, debt;

	if (old && !old->rate) {
		ahead = b->limit;
	} else if (old) {
		old_ahead = rate_bucket_ahead(atomic64_read(&old->tat),
					      now * old->rate);
		if (old_ahead <= old->limit) {
			fill = old->limit - old_ahead;
			if (old->cost != b->cost)
				fill = div64_u64(fill, old->cost) * b->cost;
			ahead = b->limit - min(fill, b->limit);
		} else {
			debt = old_ahead - old->limit;
			if (old->cost != b->cost)
				debt = min(DIV64_U64_ROUND_UP(debt, old->cost),
					   div64_u64(RATE_CG_MAX_AHEAD, b->cost)) *
				       b->cost;
			ahead = min(b->limit + debt, RATE_CG_MAX_AHEAD);
		}
	}
	atomic64_set(&b->tat, now * b->rate + ahead);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_inherit);

static struct rate_cg *rate_cg_parent(struct rate_cg *rcg)
{
	return css_rate_cg(rcg->css.parent);
}

/* The clock, read once per charge and only if some level needs it. */
static u64 rate_cg_now(u64 *now)
{
	if (!*now)
		*now = ktime_get_ns();
	return *now;
}

/* A bucket published no later than generation @gen. */
static bool rate_bucket_published_by(const struct rate_bucket *b,
				     unsigned long gen)
{
	return (long)(b->gen - gen) <= 0;
}

/*
 * Counts an admitted event at its cgroup and every ancestor, root
 * included. Bit L of @within says the event came within the share of the
 * cgroup L levels above the originator. @stall_ns is its stall, U64_MAX
 * for one until the settings change, which adds nothing to delay_ns.
 */
static void rate_cg_count_admitted(struct rate_cg *leaf, u64 within,
				   u64 stall_ns)
{
	u64 delay_ns = stall_ns == U64_MAX ? 0 : stall_ns;
	struct rate_cg *rcg;
	u64 bit = 1;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg), bit <<= 1) {
		this_cpu_inc(rcg->stat->admitted);
		if (within & bit)
			this_cpu_inc(rcg->stat->guaranteed);
		if (stall_ns) {
			this_cpu_inc(rcg->stat->throttled);
			this_cpu_add(rcg->stat->delay_ns, delay_ns);
		}
	}
}

/* Counts a refused event at its cgroup and every ancestor, root included. */
static void rate_cg_count_refused(struct rate_cg *leaf)
{
	struct rate_cg *rcg;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg))
		this_cpu_inc(rcg->stat->throttled);
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

/*
 * Records a refusal or stall caused by the limit of @cause. The counts are
 * per CPU too: a flood of refusals from many CPUs under one parent must
 * not make them fight over the parent's cache lines. The root has neither
 * a limit nor events files.
 */
static void rate_cg_throttled(struct rate_cg *cause)
{
	struct rate_cg *rcg;

	this_cpu_inc(cause->stat->events_local);
	rate_cg_notify(&cause->events_local_file);
	for (rcg = cause; rate_cg_parent(rcg); rcg = rate_cg_parent(rcg)) {
		this_cpu_inc(rcg->stat->events);
		rate_cg_notify(&rcg->events_file);
	}
}

/*
 * Gives back what a walk charged below @stop: every limit, and the shares
 * of the levels set in @within. A bucket published since the walk began
 * (after generation @gen) was not charged by it and gets nothing, so a
 * setting rewritten during a refusal never gains a token from it.
 */
static void rate_cg_rollback(struct rate_cg *leaf, struct rate_cg *stop,
			     unsigned long gen, u64 within)
{
	struct rate_bucket *b;
	struct rate_cg *rcg;
	u64 bit = 1;

	for (rcg = leaf; rcg != stop; rcg = rate_cg_parent(rcg), bit <<= 1) {
		b = rcu_dereference(rcg->limit.cur);
		if (b && rate_bucket_published_by(b, gen))
			rate_bucket_uncharge(b);
		if (!(within & bit))
			continue;
		b = rcu_dereference(rcg->share.cur);
		if (b && rate_bucket_published_by(b, gen))
			rate_bucket_uncharge(b);
	}
}

/*
 * The walk with fair sharing. At each level the cgroup's own limit
 * decides first, with the status the event has there; then the cgroup's
 * share decides its status one level up: within the share, the event is
 * guaranteed there and may use the room kept for guaranteed events. The
 * limits below @first have already admitted the event as borrowing, which
 * they would whatever its status, and keep that charge. Sets in @within
 * the levels whose share it came within (and took a token from); beyond
 * RATE_CG_SHARE_LEVELS levels it borrows.
 *
 * Return: the level whose limit refused the event, NULL if none did.
 */
static struct rate_cg *rate_cg_fair_try_charge(struct rate_cg *leaf,
					       struct rate_cg *first, u64 now,
					       u64 *within)
{
	bool guaranteed = false, charged = true;
	struct rate_bucket *b;
	struct rate_cg *rcg;
	u64 bit = 1;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg), bit <<= 1) {
		if (rcg == first)
			charged = false;
		b = rcu_dereference(rcg->limit.cur);
		if (b && !charged && !rate_bucket_try_charge(b, now, guaranteed))
			return rcg;
		b = rcu_dereference(rcg->share.cur);
		guaranteed = b && bit && rate_bucket_try_charge(b, now, guaranteed);
		if (guaranteed)
			*within |= bit;
	}
	return NULL;
}

/**
 * rate_cg_try_charge - charge one event to a cgroup and its ancestors, or none
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). First every limit is charged as for
 * an event that borrows, which leaves the room kept for guaranteed events
 * alone: while no level is congested, that is all, and no share is
 * touched. Only if some level refuses does the walk go on with fair
 * sharing from there, where coming within its shares may admit it. A refused
 * event is counted as throttled at @leaf and above, and as an event of
 * the refusing level.
 *
 * Return: true if every limited level admitted the event.
 */
bool rate_cg_try_charge(struct rate_cg *leaf)
{
	/* Pairs with rate_slots_publish(): buckets up to @gen are visible. */
	unsigned long gen = smp_load_acquire(&rate_cg_gen);
	struct rate_cg *rcg, *refused;
	struct rate_bucket *b;
	u64 now = 0, within = 0;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg)) {
		b = rcu_dereference(rcg->limit.cur);
		if (b && !rate_bucket_try_charge(b, rate_cg_now(&now), false))
			break;
	}
	if (rcg) {
		refused = rate_cg_fair_try_charge(leaf, rcg, now, &within);
		if (refused) {
			rate_cg_rollback(leaf, refused, gen, within);
			rate_cg_count_refused(leaf);
			rate_cg_throttled(refused);
			return false;
		}
	}
	rate_cg_count_admitted(leaf, within, 0);
	return true;
}

/*
 * The stall of a bus lock already charged to every level, with fair
 * sharing: the statuses come from the shares as in the try-charge walk,
 * and only the levels where the lock borrowed stall the vCPU, until they
 * let a borrower through again; the one that takes longest is @cause.
 */
static u64 rate_cg_fair_stall(struct rate_cg *leaf, u64 now, u64 *within,
			      struct rate_cg **cause)
{
	u64 bit = 1, stall = 0, owed;
	bool guaranteed = false;
	struct rate_bucket *b;
	struct rate_cg *rcg;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg), bit <<= 1) {
		b = rcu_dereference(rcg->limit.cur);
		if (b && !guaranteed) {
			owed = rate_bucket_conform_ns(b, now);
			if (owed > stall) {
				stall = owed;
				*cause = rcg;
			}
		}
		b = rcu_dereference(rcg->share.cur);
		guaranteed = b && bit && rate_bucket_try_charge(b, now, guaranteed);
		if (guaranteed)
			*within |= bit;
	}
	return stall;
}

/**
 * rate_cg_charge_debt - charge an event that has happened to every level
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). Every limited level is charged, in
 * debt if need be. If that leaves some level in debt, the shares decide
 * which levels the event borrowed from: a level where it came within its
 * share does not stall it, since the shares below fit in the level's
 * rate. Of the others, the most indebted decides the stall and counts it
 * as its event.
 *
 * Return: the time until which the originator should stall, in
 * nanoseconds of ktime_get_ns(); 0 for no stall, U64_MAX for one that
 * ends only when the settings change (RATE 0).
 */
u64 rate_cg_charge_debt(struct rate_cg *leaf)
{
	u64 now = 0, stall = 0, owed, within = 0;
	struct rate_cg *rcg, *cause = NULL;
	struct rate_bucket *b;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg)) {
		b = rcu_dereference(rcg->limit.cur);
		if (!b)
			continue;
		owed = rate_bucket_charge_debt(b, rate_cg_now(&now));
		stall = max(stall, owed);
	}
	if (stall)
		stall = rate_cg_fair_stall(leaf, now, &within, &cause);
	rate_cg_count_admitted(leaf, within, stall);
	if (!stall)
		return 0;
	rate_cg_throttled(cause);
	return stall > U64_MAX - now ? U64_MAX : now + stall;
}

/**
 * rate_cg_conform_ns - time until every limit on a path lets a borrower through
 * @leaf: the cgroup
 *
 * The caller holds rcu_read_lock(). A stalled charger re-checks with this,
 * so that a limit raised or removed while it sleeps ends its stall early.
 *
 * Return: nanoseconds, U64_MAX if never under the current settings.
 */
u64 rate_cg_conform_ns(struct rate_cg *leaf)
{
	struct rate_cg *rcg;
	struct rate_bucket *b;
	u64 now = 0, wait = 0;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg)) {
		b = rcu_dereference(rcg->limit.cur);
		if (!b)
			continue;
		if (!now)
			now = ktime_get_ns();
		wait = max(wait, rate_bucket_conform_ns(b, now));
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

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg))
		if (rcu_access_pointer(rcg->limit.cur))
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

/* The published bucket of @s, on the slow path. */
static struct rate_bucket *rate_slots_cur(struct rate_slots *s)
{
	return rcu_dereference_protected(s->cur,
					 lockdep_is_held(&rate_cg_mutex));
}

/* No charge may use @old once a grace period has passed. */
static void rate_slots_retire(struct rate_slots *s, struct rate_bucket *old)
{
	int i;

	if (!old)
		return;
	i = old - s->slot;
	s->retired_gp[i] = get_state_synchronize_rcu();
	s->retired[i] = true;
}

/* Whether @want differs from what @s publishes, NULL meaning none. */
static bool rate_slots_differ(struct rate_slots *s,
			      const struct rate_bucket *want)
{
	struct rate_bucket *cur = rate_slots_cur(s);

	if (!cur || !want)
		return cur || want;
	return cur->rate != want->rate || cur->cost != want->cost ||
	       cur->limit != want->limit ||
	       cur->limit_borrow != want->limit_borrow;
}

/*
 * Publishes @want's parameters in the spare slot, with the token state of
 * the bucket it replaces, or publishes no bucket if @want is NULL. Waits
 * for a grace period if the spare slot was retired less than one ago.
 */
static void rate_slots_publish(struct rate_slots *s,
			       const struct rate_bucket *want)
{
	struct rate_bucket *old = rate_slots_cur(s), *b;
	int i = old == &s->slot[0];

	if (!rate_slots_differ(s, want))
		return;
	if (!want) {
		RCU_INIT_POINTER(s->cur, NULL);
		rate_slots_retire(s, old);
		return;
	}
	if (s->retired[i]) {
		cond_synchronize_rcu(s->retired_gp[i]);
		s->retired[i] = false;
	}
	b = &s->slot[i];
	rate_bucket_init(b, want->rate, want->cost,
			 div64_u64(want->limit_borrow, want->cost),
			 div64_u64(want->limit, want->cost));
	rate_bucket_inherit(b, old, ktime_get_ns());
	b->gen = rate_cg_gen + 1;
	rcu_assign_pointer(s->cur, b);
	/* A charge that reads this generation sees @b, or a newer bucket. */
	smp_store_release(&rate_cg_gen, b->gen);
	rate_slots_retire(s, old);
}

/*
 * The limit bucket @rcg's setting asks for: BURST deep, of which up to
 * all but one event is kept for the children's guaranteed events, and
 * deeper for those if BURST is too shallow to keep them all.
 */
static bool rate_cg_want_limit(struct rate_cg *rcg, struct rate_bucket *want)
{
	u64 keep;

	if (rcg->rate == RATE_CG_UNLIMITED)
		return false;
	keep = min(rcg->headroom, rcg->burst - 1);
	rate_bucket_init(want, rcg->rate, NSEC_PER_SEC, rcg->burst - keep,
			 rcg->burst - keep + rcg->headroom);
	return true;
}

/*
 * The share bucket @rcg's share asks for. Its rate is scaled down to at
 * most 2^20 units per nanosecond, rounding down, so that shares never sum
 * to more than the parent's rate. It is one event deep for what @rcg's
 * subtree borrows and deeper by the headroom for its guaranteed events.
 */
static bool rate_cg_want_share(struct rate_cg *rcg, struct rate_bucket *want)
{
	int shift;

	if (rcg->share_fp == RATE_CG_UNLIMITED)
		return false;
	shift = max(fls64(rcg->share_fp) - RATE_CG_FP_SHIFT, 0);
	rate_bucket_init(want, rcg->share_fp >> shift,
			 NSEC_PER_SEC << (RATE_CG_FP_SHIFT - shift), 1,
			 min(1 + rcg->headroom, RATE_CG_MAX_SHARE_BURST));
	return true;
}

/* The rate of a share bucket, back in fixed point. */
static u64 rate_share_fp(const struct rate_bucket *b)
{
	return b->rate << (RATE_CG_FP_SHIFT -
			   ilog2(div64_u64(b->cost, NSEC_PER_SEC)));
}

/* What @rcg passes down to its children, in fixed point; U64_MAX for all. */
static u64 rate_cg_capacity_fp(struct rate_cg *rcg)
{
	u64 fp = rcg->share_fp;

	if (rcg->rate != RATE_CG_UNLIMITED)
		fp = min(fp, rcg->rate << RATE_CG_FP_SHIFT);
	return fp;
}

/* Children first: the headroom and weight sum of each cgroup. */
static void rate_cg_sum_children(struct rate_cg *top)
{
	struct cgroup_subsys_state *pos, *child;
	struct rate_cg *rcg, *c;

	rcu_read_lock();
	css_for_each_descendant_post(pos, &top->css) {
		rcg = css_rate_cg(pos);
		rcg->headroom = 0;
		rcg->weight_sum = 0;
		css_for_each_child(child, pos) {
			c = css_rate_cg(child);
			if (!c->online)
				continue;
			rcg->headroom += min(1 + c->headroom,
					     RATE_CG_MAX_SHARE_BURST);
			rcg->weight_sum += c->weight;
		}
		rcg->headroom = min(rcg->headroom, RATE_CG_MAX_BURST);
	}
	rcu_read_unlock();
}

/* Parents first: each child's share of what its parent passes down. */
static void rate_cg_split_shares(struct rate_cg *top)
{
	struct cgroup_subsys_state *pos, *child;
	struct rate_cg *c;
	u64 cap;

	rcu_read_lock();
	css_for_each_descendant_pre(pos, &top->css) {
		cap = rate_cg_capacity_fp(css_rate_cg(pos));
		css_for_each_child(child, pos) {
			c = css_rate_cg(child);
			if (!c->online || cap == RATE_CG_UNLIMITED)
				c->share_fp = RATE_CG_UNLIMITED;
			else
				c->share_fp = div64_u64(cap * c->weight,
							css_rate_cg(pos)->weight_sum);
		}
	}
	rcu_read_unlock();
}

/*
 * Publishes the buckets of @top's subtree that changed. With @grow false,
 * the limits and the shares that did not grow; with @grow true, the
 * shares that grew. May sleep: each cgroup is pinned while it is updated.
 */
static void rate_cg_publish(struct rate_cg *top, bool grow, bool *grew)
{
	struct cgroup_subsys_state *pos;
	struct rate_bucket want, *cur;
	struct rate_cg *rcg;
	bool has;

	rcu_read_lock();
	css_for_each_descendant_pre(pos, &top->css) {
		if (!css_tryget(pos))
			continue;
		rcu_read_unlock();
		rcg = css_rate_cg(pos);
		if (!grow) {
			has = rate_cg_want_limit(rcg, &want);
			rate_slots_publish(&rcg->limit, has ? &want : NULL);
		}
		has = rate_cg_want_share(rcg, &want);
		cur = rate_slots_cur(&rcg->share);
		if (has && (!cur || rcg->share_fp > rate_share_fp(cur))) {
			*grew = true;
			if (grow)
				rate_slots_publish(&rcg->share, &want);
		} else if (!grow) {
			rate_slots_publish(&rcg->share, has ? &want : NULL);
		}
		rcu_read_lock();
		css_put(pos);
	}
	rcu_read_unlock();
}

/*
 * Recomputes and publishes the limits and shares of the whole hierarchy
 * of @rcg after a setting, a weight or the set of online cgroups changed.
 * Shares that shrink are published first and those that grow only after
 * a grace period, so that no charge ever sees shares that sum to more
 * than their parent's rate.
 */
static void rate_cg_update(struct rate_cg *rcg)
{
	bool grew = false;

	lockdep_assert_held(&rate_cg_mutex);
	while (rate_cg_parent(rcg))
		rcg = rate_cg_parent(rcg);
	rate_cg_sum_children(rcg);
	rate_cg_split_shares(rcg);
	rate_cg_publish(rcg, false, &grew);
	if (!grew)
		return;
	synchronize_rcu();
	rate_cg_publish(rcg, true, &grew);
}

struct cgroup_subsys_state *
rate_cg_css_alloc(struct cgroup_subsys_state *parent_css)
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
	rcg->rate = RATE_CG_UNLIMITED;
	rcg->weight = RATE_CG_WEIGHT_DFL;
	rcg->share_fp = RATE_CG_UNLIMITED;
	return &rcg->css;
}

/* A new cgroup takes its share, and its siblings' shrink. */
int rate_cg_css_online(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	mutex_lock(&rate_cg_mutex);
	rcg->online = true;
	rate_cg_update(rcg);
	mutex_unlock(&rate_cg_mutex);
	return 0;
}

/* A removed cgroup's share goes back to its siblings. */
void rate_cg_css_offline(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	mutex_lock(&rate_cg_mutex);
	rcg->online = false;
	rate_cg_update(rcg);
	mutex_unlock(&rate_cg_mutex);
}

/* Called after an RCU grace period: no charge can still see the buckets. */
void rate_cg_css_free(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	free_percpu(rcg->stat);
	kfree(rcg);
}

/* Sums the per-CPU counters; exact once charging has stopped. */
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum)
{
	struct rate_cg_stat *s;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(rcg->stat, cpu);
		sum->admitted += READ_ONCE(s->admitted);
		sum->throttled += READ_ONCE(s->throttled);
		sum->delay_ns += READ_ONCE(s->delay_ns);
		sum->guaranteed += READ_ONCE(s->guaranteed);
		sum->events += READ_ONCE(s->events);
		sum->events_local += READ_ONCE(s->events_local);
	}
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

ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off)
{
	struct rate_cg *rcg = css_rate_cg(of_css(of));
	u64 rate, burst;
	int ret;

	/* An embedded NUL would hide the rest of the write from the parser. */
	if (strlen(buf) != nbytes)
		return -EINVAL;
	ret = rate_cg_parse(buf, &rate, &burst);
	if (ret)
		return ret;

	mutex_lock(&rate_cg_mutex);
	rcg->rate = rate;
	rcg->burst = burst;
	rate_cg_update(rcg);
	mutex_unlock(&rate_cg_mutex);
	return nbytes;
}

u64 rate_cg_weight_read(struct cgroup_subsys_state *css, struct cftype *cft)
{
	return READ_ONCE(css_rate_cg(css)->weight);
}

int rate_cg_weight_write(struct cgroup_subsys_state *css, struct cftype *cft,
			 u64 weight)
{
	struct rate_cg *rcg = css_rate_cg(css);

	if (weight < RATE_CG_WEIGHT_MIN || weight > RATE_CG_WEIGHT_MAX)
		return -ERANGE;
	mutex_lock(&rate_cg_mutex);
	WRITE_ONCE(rcg->weight, weight);
	rate_cg_update(rcg);
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
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "throttled %llu\n", sum.events_local);
	return 0;
}
