// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the token buckets of the snp and buslock controllers.
 *
 * The bucket functions take the time as an argument, so the tests drive
 * them with a fake clock: idle gaps of years run in microseconds, every
 * bound is checked exactly, not within a timing tolerance, and the clock
 * starts anywhere from boot to a century of uptime.
 */

#include <kunit/test.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "rate.h"

#define HOUR	(3600 * NSEC_PER_SEC)
#define DAY	(24 * HOUR)
#define YEAR	(365 * DAY)

/* Clocks to start from: just after boot, a day, and a century of uptime. */
static const u64 starts[] = { NSEC_PER_SEC, DAY + 12345, 100 * YEAR + 678 };

/* Idle gaps: a second to ten years, the old aliasing zones included. */
static const u64 gaps[] = {
	NSEC_PER_SEC, HOUR, 5 * HOUR, 6 * HOUR + 30 * 60 * NSEC_PER_SEC,
	10 * HOUR, 161 * DAY, YEAR, 10 * YEAR,
};

/* Costs of limits from 10^6/s down to 1/s, odd ones too, and of shares. */
static const u64 costs[] = {
	1000, 1001, 142858, NSEC_PER_SEC / 999, 333333334, NSEC_PER_SEC,
	1ULL << 40, RATE_CG_MAX_COST,
};

struct tbucket {
	struct rate_bucket b;
	struct rate_params p;
};

/* A full bucket of @depth events, @borrow of them open to borrowers. */
static struct tbucket *new_tb(struct kunit *test, u64 cost, u64 depth,
			      u64 borrow)
{
	struct tbucket *tb = kunit_kzalloc(test, sizeof(*tb), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, tb);
	rate_params_init(&tb->p, cost, depth, borrow);
	return tb;
}

static struct tbucket *new_limit(struct kunit *test, u64 rate, u64 burst)
{
	return new_tb(test, rate ? DIV_ROUND_UP(NSEC_PER_SEC, rate) : 0,
		      burst, burst);
}

static bool charge(struct tbucket *tb, u64 now, bool guaranteed)
{
	return rate_bucket_try_charge(&tb->b, &tb->p, now, guaranteed);
}

static u64 drain(struct tbucket *tb, u64 now)
{
	u64 n = 0;

	while (n <= RATE_CG_MAX_BURST && charge(tb, now, false))
		n++;
	return n;
}

static void burst_then_rate(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 10, 5);
	u64 t = starts[1];

	KUNIT_EXPECT_EQ(test, drain(tb, t), 5);
	/* One token every 100 ms, not a nanosecond early. */
	KUNIT_EXPECT_FALSE(test, charge(tb, t + 100 * NSEC_PER_MSEC - 1, false));
	KUNIT_EXPECT_TRUE(test, charge(tb, t + 100 * NSEC_PER_MSEC, false));
	KUNIT_EXPECT_FALSE(test, charge(tb, t + 100 * NSEC_PER_MSEC, false));
	/* A long idle refills to BURST and no further. */
	KUNIT_EXPECT_EQ(test, drain(tb, t + HOUR), 5);
	rate_bucket_uncharge(&tb->b, &tb->p, 1);
	KUNIT_EXPECT_EQ(test, drain(tb, t + HOUR), 1);
}

/* After @gap more of idle, a bucket @depth deep is exactly full. */
static void idle_then_drain(struct kunit *test, struct tbucket *tb, u64 *t,
			    u64 gap, u64 depth)
{
	if (gap < tb->p.depth)
		return;
	*t += gap;
	KUNIT_EXPECT_EQ_MSG(test, rate_bucket_conform_ns(&tb->b, &tb->p, *t), 0,
			    "cost %llu gap %llu", tb->p.cost, gap);
	KUNIT_EXPECT_EQ_MSG(test, drain(tb, *t), depth,
			    "cost %llu depth %llu gap %llu", tb->p.cost, depth, gap);
}

/*
 * Every idle gap at every cost, from every start: a drained bucket is
 * full again after any gap of its depth or more, and exactly full; an
 * idle bucket never reads as debt (a bus lock after it does not stall).
 */
static void idle_gaps_at_every_rate(struct kunit *test)
{
	static const u64 depths[] = { 1, 2, 5, 100 };
	int s, g, c, d;
	u64 t, depth;

	for (s = 0; s < ARRAY_SIZE(starts); s++)
		for (c = 0; c < ARRAY_SIZE(costs); c++)
			for (d = 0; d < ARRAY_SIZE(depths); d++) {
				struct tbucket *tb = new_tb(test, costs[c], depths[d],
							    depths[d]);

				depth = tb->p.depth / costs[c];
				t = starts[s];
				KUNIT_EXPECT_EQ(test, drain(tb, t), depth);
				for (g = 0; g < ARRAY_SIZE(gaps); g++)
					idle_then_drain(test, tb, &t, gaps[g], depth);
			}
}

/*
 * A refund gives back exactly the events it names, however long after
 * the charge: @r refunded to a drained bucket, then @gap of idle, leave
 * min(depth, r + gap / cost) to take, at every cost and from every start.
 * A refund to a bucket that has refilled since never makes it deeper.
 */
static void refund_then_idle(struct kunit *test, struct tbucket *tb, u64 start,
			     u64 cost, u64 depth, unsigned int refund)
{
	u64 events, want, gap;
	unsigned int r;
	int g;

	for (g = -1; g < (int)ARRAY_SIZE(gaps); g++) {
		gap = g < 0 ? 0 : gaps[g];
		atomic64_set(&tb->b.tat, 0);
		rate_params_init(&tb->p, cost, depth, depth);
		events = tb->p.depth / cost;
		r = min_t(u64, refund, events);
		KUNIT_ASSERT_EQ(test, drain(tb, start), events);
		KUNIT_ASSERT_TRUE(test, rate_bucket_refund(&tb->b, &tb->p, r, r, start, start));
		want = min(events, r + div64_u64(gap, cost));
		KUNIT_EXPECT_EQ_MSG(test, drain(tb, start + gap), want,
				    "cost %llu depth %llu refund %u gap %llu",
				    cost, events, r, gap);
	}
}

static void refund_after_any_gap(struct kunit *test)
{
	static const unsigned int refunds[] = { 1, 2, RATE_CG_MAX_REFUND };
	static const u64 depths[] = { 1, 2, 5, 100 };
	struct tbucket *tb = new_tb(test, 1, 1, 1);
	int s, c, d, r;

	for (s = 0; s < ARRAY_SIZE(starts); s++)
		for (c = 0; c < ARRAY_SIZE(costs); c++)
			for (d = 0; d < ARRAY_SIZE(depths); d++)
				for (r = 0; r < ARRAY_SIZE(refunds); r++)
					refund_then_idle(test, tb, starts[s], costs[c],
							 depths[d], refunds[r]);
}

/*
 * A refund an idle gap after its charge is given only within the
 * charge's interval, and either way leaves the bucket exactly full.
 */
static void late_refund_after_gaps(struct kunit *test, struct tbucket *tb, u64 t)
{
	u64 cost = tb->p.cost;
	int g;

	for (g = 0; g < ARRAY_SIZE(gaps); g++) {
		t += 2 * cost;
		KUNIT_ASSERT_EQ(test, drain(tb, t), 1);
		KUNIT_EXPECT_EQ(test, rate_bucket_refund(&tb->b, &tb->p, 1, 1, t,
							 t + gaps[g]), gaps[g] < cost);
		KUNIT_EXPECT_EQ(test, drain(tb, t + gaps[g]), 1);
		t += gaps[g];
	}
}

/*
 * A refund after its charge's interval has passed gives nothing: the
 * bucket may have refilled and been charged again, and the token would
 * be one too many. At depth 1: A at t, B at t + 2 costs, then A's refund
 * must not let C through beside B. Within the interval it is exact. After
 * idle gaps of a second to ten years, a refund gives nothing either.
 */
static void late_refund_gives_nothing(struct kunit *test)
{
	struct tbucket *tb = new_tb(test, 1, 1, 1);
	u64 t, cost;
	int s, c;

	for (s = 0; s < ARRAY_SIZE(starts); s++)
		for (c = 0; c < ARRAY_SIZE(costs); c++) {
			cost = costs[c];
			t = starts[s];
			atomic64_set(&tb->b.tat, 0);
			rate_params_init(&tb->p, cost, 1, 1);
			KUNIT_ASSERT_TRUE(test, charge(tb, t, false));
			KUNIT_ASSERT_TRUE(test, charge(tb, t + 2 * cost, false));
			KUNIT_EXPECT_FALSE(test, rate_bucket_refund(&tb->b, &tb->p, 1, 1, t,
								    t + 2 * cost));
			KUNIT_EXPECT_FALSE(test, charge(tb, t + 2 * cost, false));
			/* Within the interval: given back, and taken again. */
			t += 3 * cost;
			KUNIT_ASSERT_TRUE(test, charge(tb, t, false));
			KUNIT_EXPECT_TRUE(test, rate_bucket_refund(&tb->b, &tb->p, 1, 1, t,
								   t + cost - 1));
			KUNIT_EXPECT_TRUE(test, charge(tb, t + cost - 1, false));
			KUNIT_EXPECT_FALSE(test, charge(tb, t + cost - 1, false));
			late_refund_after_gaps(test, tb, t);
		}
}

/*
 * What a batch may take: after @gap of idle, a drained bucket has room
 * for exactly min(depth, gap / cost) borrowers' events, at every cost
 * and from every start; a batch of one more is refused and changes
 * nothing, a batch of exactly that many empties the bucket.
 */
static void batch_after_each_gap(struct kunit *test, struct tbucket *tb,
				 u64 t, u64 cost, u64 depth)
{
	u64 events, room, take;
	int g;

	rate_params_init(&tb->p, cost, depth, depth);
	events = tb->p.depth / cost;
	for (g = 0; g < ARRAY_SIZE(gaps); g++) {
		/* Drained at t exactly: no part of a token left over. */
		atomic64_set(&tb->b.tat, t + tb->p.depth);
		t += gaps[g];
		room = min(events, div64_u64(gaps[g], cost));
		take = min_t(u64, room, RATE_CG_MAX_REFUND);
		KUNIT_EXPECT_EQ(test, rate_bucket_room(&tb->b, &tb->p, t), room);
		if (take < RATE_CG_MAX_REFUND)
			KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge_n(&tb->b, &tb->p,
									  t, take + 1));
		KUNIT_EXPECT_EQ(test, rate_bucket_room(&tb->b, &tb->p, t), room);
		KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge_n(&tb->b, &tb->p, t, take));
		KUNIT_EXPECT_EQ_MSG(test, drain(tb, t), room - take,
				    "cost %llu depth %llu gap %llu", cost, events, gaps[g]);
	}
}

static void batch_takes_the_room_exactly(struct kunit *test)
{
	static const u64 depths[] = { 1, 2, 5, 100 };
	struct tbucket *tb = new_tb(test, 1, 1, 1);
	int s, c, d;

	for (s = 0; s < ARRAY_SIZE(starts); s++)
		for (c = 0; c < ARRAY_SIZE(costs); c++)
			for (d = 0; d < ARRAY_SIZE(depths); d++)
				batch_after_each_gap(test, tb, starts[s], costs[c], depths[d]);
}

/*
 * The documentation's example, "1000 100", on a VM that took no bus lock
 * for 161 days: the next lock takes no stall. Before the state was kept
 * in absolute time, it stalled the vCPU 52.5 days.
 */
static void idle_limit_does_not_stall(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 1000, 100);
	u64 t = starts[1];

	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	t += 161 * DAY;
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 99);
}

/*
 * An interval no whole number of nanoseconds matches, 1/3 s: the cost
 * rounds up to 333333334 ns, so over 1000 s of demand every 7 ms the
 * count is BURST plus one per 333333334 ns, never more.
 */
static void cost_rounds_up(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 3, 2);
	u64 t0 = starts[0], t, admitted = 0;

	for (t = t0; t <= t0 + 1000 * NSEC_PER_SEC; t += 7 * NSEC_PER_MSEC)
		admitted += drain(tb, t);
	KUNIT_EXPECT_EQ(test, admitted,
			2 + div64_u64(t - 7 * NSEC_PER_MSEC - t0, 333333334));
	/* The stall of a bus lock covers the whole interval, too. */
	tb = new_limit(test, 3, 1);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t0), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t0), 333333334);
}

/*
 * Random rates, bursts and arrivals, from random starts.
 *
 * Upper bound, for any arrivals: between any two admitted events a and b,
 * the events admitted in [t_a, t_b] number at most (t_b - t_a) / cost +
 * BURST, and cost >= 10^9 / RATE: at most RATE * T + BURST.
 *
 * Lower bound, under continuous demand: demand drained at steps no longer
 * than (BURST - 1) * cost loses no refill to lateness, so the count since
 * a full start is at least T / cost + BURST - 1.
 */
#define SCHEDULES	40
#define STEPS		400
#define MAX_EVENTS	(STEPS * 16)

static u64 random_in(struct rnd_state *rnd, u64 lo, u64 hi)
{
	return lo + div64_u64((u64)prandom_u32_state(rnd) * (hi - lo), U32_MAX);
}

static void check_upper_bound(struct kunit *test, struct rnd_state *rnd,
			      u64 *at, u64 rate, u64 burst)
{
	struct tbucket *tb = new_limit(test, rate, burst);
	u64 gap = random_in(rnd, 1, 4 * NSEC_PER_SEC / rate);
	u64 now = starts[prandom_u32_state(rnd) % 3] + prandom_u32_state(rnd);
	unsigned int n = 0, i, j;
	int step;

	for (step = 0; step < STEPS; step++) {
		while (n < MAX_EVENTS && charge(tb, now, false))
			at[n++] = now;
		now += random_in(rnd, 1, 2 * gap);
		if (!(prandom_u32_state(rnd) % 64))
			now += gaps[prandom_u32_state(rnd) % ARRAY_SIZE(gaps)];
	}
	for (j = 0; j < n; j++)
		for (i = j; i < n && i < j + burst + 64; i++)
			KUNIT_ASSERT_LE_MSG(test, (i - j + 1) * NSEC_PER_SEC,
					    rate * (at[i] - at[j]) + burst * NSEC_PER_SEC,
					    "rate %llu burst %llu", rate, burst);
}

static void check_lower_bound(struct kunit *test, struct rnd_state *rnd,
			      u64 rate, u64 burst)
{
	struct tbucket *tb = new_limit(test, rate, burst);
	u64 start = starts[prandom_u32_state(rnd) % 3] + prandom_u32_state(rnd);
	u64 cost = tb->p.cost, now = start, total = 0;
	int step;

	for (step = 0; step < STEPS; step++) {
		total += drain(tb, now);
		KUNIT_ASSERT_GE_MSG(test, total * cost, now - start + (burst - 1) * cost,
				    "rate %llu burst %llu step %d", rate, burst, step);
		now += random_in(rnd, 1, (burst - 1) * cost);
	}
}

static void random_schedules_bounds(struct kunit *test)
{
	u64 *at = kunit_kcalloc(test, MAX_EVENTS, sizeof(*at), GFP_KERNEL);
	struct rnd_state rnd;
	u64 rate, burst;
	int s;

	KUNIT_ASSERT_NOT_NULL(test, at);
	prandom_seed_state(&rnd, 20261204);
	for (s = 0; s < SCHEDULES; s++) {
		rate = random_in(&rnd, 1, s & 1 ? 1000 : RATE_CG_MAX_RATE);
		burst = random_in(&rnd, 1, 8);
		check_upper_bound(test, &rnd, at, rate, burst);
		check_lower_bound(test, &rnd, rate, burst + 1);
	}
}

/*
 * Batches and refunds from chargers whose clock readings lag the true
 * time by up to a random lag, at random rates: batches of 1 to 8 events
 * (all or none); one in four held, and given back in part at a random
 * later step, when the batch's interval may have passed and the bucket
 * refilled and been charged again (then nothing comes back). Between
 * any two events kept (admitted, not given back), no more were kept
 * than RATE * (T + lag) + BURST.
 */
struct held_batch {
	u64 at;
	unsigned int first, n;
};

static void check_kept_window(struct kunit *test, u64 *at, bool *kept,
			      unsigned int n, u64 rate, u64 burst, u64 lag)
{
	unsigned int i, j, k = 0;

	for (i = 0; i < n; i++)
		if (kept[i])
			at[k++] = at[i];
	for (j = 0; j < k; j++)
		for (i = j; i < k && i < j + burst + 64; i++)
			KUNIT_ASSERT_LE_MSG(test, (i - j + 1) * NSEC_PER_SEC,
					    rate * (at[i] - at[j] + lag) + burst * NSEC_PER_SEC,
					    "rate %llu burst %llu lag %llu", rate, burst, lag);
}

static void batches_and_refunds_keep_the_bound(struct kunit *test)
{
	u64 *at = kunit_kcalloc(test, MAX_EVENTS, sizeof(*at), GFP_KERNEL);
	bool *kept = kunit_kcalloc(test, MAX_EVENTS, sizeof(*kept), GFP_KERNEL);
	struct held_batch *held = kunit_kcalloc(test, STEPS, sizeof(*held), GFP_KERNEL);
	struct tbucket *tb = new_tb(test, 1, 1, 1);
	u64 rate, burst, lag, now, reading;
	unsigned int n, k, ev, nheld, i;
	struct held_batch *h;
	struct rnd_state rnd;
	int sched, step;

	KUNIT_ASSERT_NOT_NULL(test, at);
	KUNIT_ASSERT_NOT_NULL(test, kept);
	KUNIT_ASSERT_NOT_NULL(test, held);
	prandom_seed_state(&rnd, 20261205);
	for (sched = 0; sched < SCHEDULES; sched++) {
		rate = random_in(&rnd, 1, sched & 1 ? 1000 : RATE_CG_MAX_RATE);
		burst = random_in(&rnd, 1, 16);
		lag = random_in(&rnd, 0, 4 * NSEC_PER_SEC / rate);
		atomic64_set(&tb->b.tat, 0);
		rate_params_init(&tb->p, DIV_ROUND_UP(NSEC_PER_SEC, rate), burst, burst);
		now = starts[prandom_u32_state(&rnd) % 3] + prandom_u32_state(&rnd);
		ev = 0;
		nheld = 0;
		for (step = 0; step < STEPS && ev + 8 <= MAX_EVENTS; step++) {
			if (nheld && !(prandom_u32_state(&rnd) % 3)) {
				h = &held[--nheld];
				k = random_in(&rnd, 1, h->n);
				if (rate_bucket_refund(&tb->b, &tb->p, k, h->n, h->at, now))
					for (i = h->first + h->n - k; i < h->first + h->n; i++)
						kept[i] = false;
			}
			n = random_in(&rnd, 1, 8);
			reading = now - random_in(&rnd, 0, lag);
			if (rate_bucket_try_charge_n(&tb->b, &tb->p, reading, n)) {
				if (!(prandom_u32_state(&rnd) % 4))
					held[nheld++] = (struct held_batch){ reading, ev, n };
				for (i = 0; i < n; i++, ev++) {
					at[ev] = now;
					kept[ev] = true;
				}
			}
			now += random_in(&rnd, 0, 2 * NSEC_PER_SEC / rate);
			if (!(prandom_u32_state(&rnd) % 128))
				now += gaps[prandom_u32_state(&rnd) % ARRAY_SIZE(gaps)];
		}
		check_kept_window(test, at, kept, ev, rate, burst, lag);
	}
}

static void rate_zero_admits_nothing(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 0, 1);
	u64 t = starts[2];

	KUNIT_EXPECT_EQ(test, drain(tb, t), 0);
	KUNIT_EXPECT_EQ(test, drain(tb, t + 10 * YEAR), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), U64_MAX);
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(&tb->b, &tb->p, t), U64_MAX);
}

/* The largest settings, and shares as slow and deep as they get. */
static void maxima_do_not_overflow(struct kunit *test)
{
	struct tbucket *tb;
	int i;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		u64 t = starts[i];

		tb = new_limit(test, RATE_CG_MAX_RATE, RATE_CG_MAX_BURST);
		KUNIT_EXPECT_EQ(test, drain(tb, t), RATE_CG_MAX_BURST);
		/* 10^6 per second: one per microsecond. */
		KUNIT_EXPECT_EQ(test, drain(tb, t + NSEC_PER_USEC - 1), 0);
		KUNIT_EXPECT_EQ(test, drain(tb, t + NSEC_PER_USEC), 1);
		KUNIT_EXPECT_EQ(test, drain(tb, t + 5 * NSEC_PER_SEC), RATE_CG_MAX_BURST);

		/* A share of one event in 2.3 years, as deep as a limit can be. */
		tb = new_tb(test, RATE_CG_MAX_COST, RATE_CG_MAX_BURST, RATE_CG_MAX_BURST);
		KUNIT_EXPECT_EQ(test, tb->p.depth, RATE_CG_MAX_AHEAD);
		KUNIT_EXPECT_EQ(test, drain(tb, t), RATE_CG_MAX_AHEAD / RATE_CG_MAX_COST);
		/* Its debt saturates at RATE_CG_MAX_AHEAD, which it never wraps past. */
		rate_bucket_charge_debt(&tb->b, &tb->p, t);
		KUNIT_EXPECT_EQ(test, atomic64_read(&tb->b.tat), t + RATE_CG_MAX_AHEAD);
		KUNIT_EXPECT_EQ(test, drain(tb, t + 100 * YEAR),
				RATE_CG_MAX_AHEAD / RATE_CG_MAX_COST);
	}
}

/*
 * Every bus lock is paid for: V vCPUs charging at once owe V events, and
 * the rate holds whatever V is.
 */
static void debt_is_kept_whole(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 100, 2);
	u64 t = starts[1], stall = 0;
	int i;

	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	for (i = 1; i <= 1000; i++) {
		stall = rate_bucket_charge_debt(&tb->b, &tb->p, t);
		KUNIT_EXPECT_EQ(test, stall, i * 10 * NSEC_PER_MSEC);
	}
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(&tb->b, &tb->p, t), stall);
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(&tb->b, &tb->p, t + stall), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t + stall),
			10 * NSEC_PER_MSEC);
	KUNIT_EXPECT_FALSE(test, charge(tb, t + stall, false));
	t += stall + 30 * NSEC_PER_MSEC;
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t), 10 * NSEC_PER_MSEC);
}

/*
 * Chargers read the clock, then race: one whose reading is older than
 * the last writer's sees the bucket further in debt, by the lag, never
 * idle, however far it lags.
 */
static void stale_reading_keeps_debt(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 10, 10);
	u64 t = starts[1], lag, stall;
	int i;

	for (i = 0; i < 30; i++)
		rate_bucket_charge_debt(&tb->b, &tb->p, t);
	for (lag = 1; lag <= DAY; lag *= 7) {
		stall = rate_bucket_charge_debt(&tb->b, &tb->p, t - lag);
		KUNIT_EXPECT_GE(test, stall, 2 * NSEC_PER_SEC + lag);
		KUNIT_EXPECT_FALSE(test, charge(tb, t - lag, false));
		KUNIT_EXPECT_FALSE(test, charge(tb, t - lag, true));
	}
	tb = new_limit(test, 10, 2);
	KUNIT_EXPECT_TRUE(test, charge(tb, t, false));
	KUNIT_EXPECT_FALSE(test, charge(tb, t - NSEC_PER_SEC, false));
	KUNIT_EXPECT_TRUE(test, charge(tb, t, false));
	KUNIT_EXPECT_FALSE(test, charge(tb, t, false));
}

/* A guaranteed event may use the room kept for it; a borrower may not. */
static void room_kept_for_guaranteed(struct kunit *test)
{
	struct tbucket *tb = new_tb(test, 100 * NSEC_PER_MSEC, 5, 3);
	u64 t = starts[0];

	KUNIT_EXPECT_EQ(test, drain(tb, t), 3);
	KUNIT_EXPECT_TRUE(test, charge(tb, t, true));
	KUNIT_EXPECT_TRUE(test, charge(tb, t, true));
	KUNIT_EXPECT_FALSE(test, charge(tb, t, true));
	/* In debt, a borrower waits until the bucket is back at its limit. */
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(&tb->b, &tb->p, t),
			300 * NSEC_PER_MSEC);
}

/*
 * The attestation agent: a parent "10 10" with two children at 5/s (less
 * the slack the shares leave), each share 4 deep, the parent keeping 9 of
 * its 10 events for them. A greedy child retries every millisecond for an
 * hour of fake time; the polite child sends a report, a derived key and
 * an extended report back to back every 10 s, and all three are admitted
 * every time. The parent admits at most 10 * T + 10 over every window.
 */
static void attestation_burst_beside_greedy(struct kunit *test)
{
	struct tbucket *parent = new_tb(test, 100 * NSEC_PER_MSEC, 10, 1);
	u64 share_cost = 2 * (100 * NSEC_PER_MSEC + DIV_ROUND_UP(100 * NSEC_PER_MSEC, 64));
	struct tbucket *greedy = new_tb(test, share_cost, 4, 4);
	struct tbucket *polite = new_tb(test, share_cost, 4, 4);
	u64 t0 = starts[2], t, admitted = 0, win = t0, in_win = 0;
	u64 bursts = 0, whole = 0;
	bool g;
	int i, ok;

	for (t = t0; t < t0 + HOUR; t += NSEC_PER_MSEC) {
		g = charge(greedy, t, false);
		if (charge(parent, t, g))
			admitted++, in_win++;
		else if (g)
			rate_bucket_uncharge(&greedy->b, &greedy->p, 1);
		if ((t - t0) % (10 * NSEC_PER_SEC) == 4321 * NSEC_PER_USEC) {
			bursts++;
			for (i = 0, ok = 0; i < 3; i++) {
				g = charge(polite, t, false);
				KUNIT_EXPECT_TRUE(test, g);
				if (charge(parent, t, g))
					ok++, admitted++, in_win++;
			}
			whole += ok == 3;
		}
		if (t - win >= 10 * NSEC_PER_SEC) {
			KUNIT_EXPECT_LE(test, in_win, 10 * 10 + 10);
			win = t;
			in_win = 0;
		}
	}
	KUNIT_EXPECT_EQ(test, whole, bursts);
	KUNIT_EXPECT_LE(test, admitted, 10 * 3600 + 10);
	KUNIT_EXPECT_GE(test, admitted, 10 * 3600 - 1);
}

/* Moves @tb to new parameters at @now, as a publication does. */
static void rebase_to(struct tbucket *tb, u64 cost, u64 depth, u64 now,
		      bool keep_fill)
{
	struct rate_params p;

	rate_params_init(&p, cost, depth, depth);
	rate_bucket_rebase(&tb->b, &tb->p, &p, now, keep_fill);
	tb->p = p;
}

/*
 * A new setting keeps the fill, clamped, fractions included; a share
 * keeps what it consumed; from RATE 0 or from no bucket, full.
 */
static void rebase_keeps_state(struct kunit *test)
{
	struct tbucket *tb = new_limit(test, 10, 10);
	u64 t = starts[1];
	int i;

	/* Take 4 of 10 and wait 50 ms: 6.5 left. */
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, charge(tb, t, false));
	t += 50 * NSEC_PER_MSEC;
	rebase_to(tb, NSEC_PER_SEC / 20, 100, t, true);
	/* 6.5 events at 20/s: 6 now, the seventh 25 ms later. */
	KUNIT_EXPECT_EQ(test, drain(tb, t), 6);
	KUNIT_EXPECT_EQ(test, drain(tb, t + 25 * NSEC_PER_MSEC - 1), 0);
	KUNIT_EXPECT_EQ(test, drain(tb, t + 25 * NSEC_PER_MSEC), 1);

	/* Clamped to a shallower bucket. */
	tb = new_limit(test, 10, 10);
	rebase_to(tb, NSEC_PER_SEC, 3, t, true);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 3);

	/* A share keeps what it consumed: 2 of 4, then 2 of 8. */
	tb = new_tb(test, 200 * NSEC_PER_MSEC, 4, 4);
	KUNIT_EXPECT_TRUE(test, charge(tb, t, true));
	KUNIT_EXPECT_TRUE(test, charge(tb, t, true));
	rebase_to(tb, 100 * NSEC_PER_MSEC, 8, t, false);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 6);

	/* From RATE 0, and from no bucket, full at once. */
	tb = new_limit(test, 0, 5);
	rebase_to(tb, NSEC_PER_SEC, 5, t, true);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 5);
	rate_bucket_rebase(&tb->b, NULL, &tb->p, t, true);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 5);

	/* "1000000" idle 3.9 h, rewritten to "1000 1000": full, not in debt. */
	tb = new_limit(test, 1000000, 1000000);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 1000000);
	t += 39 * HOUR / 10;
	rebase_to(tb, NSEC_PER_MSEC, 1000, t, true);
	KUNIT_EXPECT_EQ(test, drain(tb, t), 1000);
}

static void parse_accepts_and_rejects(struct kunit *test)
{
	static const struct {
		const char *in;
		int ret;
		u64 rate, burst;
	} cases[] = {
		{ "max", 0, U64_MAX, 0 },
		{ "max\n", 0, U64_MAX, 0 },
		{ "10", 0, 10, 10 },
		{ "10\n", 0, 10, 10 },
		{ "0", 0, 0, 1 },
		{ "10 20", 0, 10, 20 },
		{ "0 5\n", 0, 0, 5 },
		{ "1000000 1000000", 0, 1000000, 1000000 },
		{ "", -EINVAL }, { "\n", -EINVAL }, { "max\n\n", -EINVAL },
		{ "-1", -EINVAL }, { "+1", -EINVAL }, { "0x10", -EINVAL },
		{ "10 0", -EINVAL }, { "10 20 30", -EINVAL }, { " 10", -EINVAL },
		{ "10 ", -EINVAL }, { "10  20", -EINVAL }, { "10\t20", -EINVAL },
		{ "max 5", -EINVAL }, { "1e3", -EINVAL }, { "ten", -EINVAL },
		{ "1000001", -ERANGE }, { "1 1000001", -ERANGE },
		{ "99999999999999999999999", -ERANGE },
	};
	char buf[64];
	u64 rate, burst;
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strscpy(buf, cases[i].in, sizeof(buf));
		KUNIT_EXPECT_EQ_MSG(test, rate_cg_parse(buf, &rate, &burst),
				    cases[i].ret, "input \"%s\"", cases[i].in);
		if (cases[i].ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, rate, cases[i].rate, "input \"%s\"", cases[i].in);
		if (cases[i].rate != U64_MAX)
			KUNIT_EXPECT_EQ_MSG(test, burst, cases[i].burst,
					    "input \"%s\"", cases[i].in);
	}
}

static struct kunit_case rate_test_cases[] = {
	KUNIT_CASE(burst_then_rate),
	KUNIT_CASE(idle_gaps_at_every_rate),
	KUNIT_CASE(refund_after_any_gap),
	KUNIT_CASE(late_refund_gives_nothing),
	KUNIT_CASE(batch_takes_the_room_exactly),
	KUNIT_CASE(batches_and_refunds_keep_the_bound),
	KUNIT_CASE(idle_limit_does_not_stall),
	KUNIT_CASE(cost_rounds_up),
	KUNIT_CASE(random_schedules_bounds),
	KUNIT_CASE(rate_zero_admits_nothing),
	KUNIT_CASE(maxima_do_not_overflow),
	KUNIT_CASE(debt_is_kept_whole),
	KUNIT_CASE(stale_reading_keeps_debt),
	KUNIT_CASE(room_kept_for_guaranteed),
	KUNIT_CASE(attestation_burst_beside_greedy),
	KUNIT_CASE(rebase_keeps_state),
	KUNIT_CASE(parse_accepts_and_rejects),
	{}
};

static struct kunit_suite rate_test_suite = {
	.name = "cgroup_rate",
	.test_cases = rate_test_cases,
};

kunit_test_suite(rate_test_suite);

MODULE_DESCRIPTION("KUnit tests for the cgroup rate token buckets");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
