// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the token buckets of the snp and buslock controllers.
 *
 * The bucket functions take the time as an argument, so the tests drive
 * them with a fake clock: schedules of many hours run in milliseconds and
 * every bound is checked exactly, not within a timing tolerance.
 */

#include <kunit/test.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "rate.h"

/* Far from zero, and near a wrap of time * RATE for RATE 10^6. */
#define T0	(18446744073709ULL * 1000 - 5 * NSEC_PER_SEC)

/* A limit bucket, as "RATE BURST" with no children's shares to keep room for. */
static void init_limit(struct rate_bucket *b, u64 rate, u64 burst)
{
	rate_bucket_init(b, rate, NSEC_PER_SEC, burst, burst);
}

static struct rate_bucket *new_bucket(struct kunit *test, u64 rate, u64 burst,
				      u64 now)
{
	struct rate_bucket *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	init_limit(b, rate, burst);
	rate_bucket_inherit(b, NULL, now);
	return b;
}

static unsigned int drain(struct rate_bucket *b, u64 now)
{
	unsigned int n = 0;

	while (rate_bucket_try_charge(b, now, false))
		n++;
	return n;
}

static void burst_then_rate(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 10, 5, T0);

	KUNIT_EXPECT_EQ(test, drain(b, T0), 5);
	/* One token every 100 ms, not a nanosecond early. */
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 + 100 * NSEC_PER_MSEC - 1, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0 + 100 * NSEC_PER_MSEC, false));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 + 100 * NSEC_PER_MSEC, false));
	/* A long idle refills to BURST and no further. */
	KUNIT_EXPECT_EQ(test, drain(b, T0 + 3600 * NSEC_PER_SEC), 5);
}

static void default_burst_and_uncharge(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 1, 1, T0);

	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, false));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0, false));
	rate_bucket_uncharge(b);
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, false));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 + NSEC_PER_SEC - 1, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0 + NSEC_PER_SEC, false));
}

/*
 * An interval that no whole number of nanoseconds matches: 1/3 s. With
 * BURST 2, demand every 7 ms loses no token to lateness, so over 1000 s
 * the count is exact: BURST plus one per 1/3 s elapsed.
 */
static void non_integral_interval(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 3, 2, T0);
	u64 t, admitted = 0;

	for (t = T0; t <= T0 + 1000 * NSEC_PER_SEC; t += 7 * NSEC_PER_MSEC)
		admitted += drain(b, t);
	/* The last demand is at 999.999 s: 2 + 2999 tokens. */
	KUNIT_EXPECT_EQ(test, admitted, 3001);
}

/*
 * Random rates, bursts and arrivals.
 *
 * Upper bound, for any arrivals: between any two admitted events a and b,
 * the events admitted in [t_a, t_b] number at most
 * RATE * (t_b - t_a) + BURST.
 *
 * Lower bound, under continuous demand: demand drained at steps no longer
 * than (BURST - 1) / RATE loses no refill to lateness, so at every step
 * the count since a full start is at least RATE * T + BURST - 1.
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
	u64 gap = random_in(rnd, 1, 4 * NSEC_PER_SEC / rate);
	u64 now = T0 + prandom_u32_state(rnd);
	struct rate_bucket *b = new_bucket(test, rate, burst, now);
	unsigned int n = 0, i, j;
	int step;

	for (step = 0; step < STEPS; step++) {
		while (n < MAX_EVENTS && rate_bucket_try_charge(b, now, false))
			at[n++] = now;
		now += random_in(rnd, 1, 2 * gap);
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
	u64 start = T0 + prandom_u32_state(rnd), now = start, total = 0;
	u64 max_step = (burst - 1) * NSEC_PER_SEC / rate;
	struct rate_bucket *b = new_bucket(test, rate, burst, start);
	int step;

	for (step = 0; step < STEPS; step++) {
		total += drain(b, now);
		KUNIT_ASSERT_GE_MSG(test, total * NSEC_PER_SEC,
				    rate * (now - start) + (burst - 1) * NSEC_PER_SEC,
				    "rate %llu burst %llu step %d", rate, burst, step);
		now += random_in(rnd, 1, max_step);
	}
}

static void random_schedules_bounds(struct kunit *test)
{
	u64 *at = kunit_kcalloc(test, MAX_EVENTS, sizeof(*at), GFP_KERNEL);
	struct rnd_state rnd;
	u64 rate, burst;
	int s;

	KUNIT_ASSERT_NOT_NULL(test, at);
	prandom_seed_state(&rnd, 20261121);
	for (s = 0; s < SCHEDULES; s++) {
		rate = random_in(&rnd, 1, s & 1 ? 1000 : RATE_CG_MAX_RATE);
		burst = random_in(&rnd, 1, 8);
		check_upper_bound(test, &rnd, at, rate, burst);
		check_lower_bound(test, &rnd, rate, burst + 1);
	}
}

static void rate_zero_admits_nothing(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 0, 1, T0);

	KUNIT_EXPECT_EQ(test, drain(b, T0), 0);
	KUNIT_EXPECT_EQ(test, drain(b, T0 + 3600 * NSEC_PER_SEC), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), U64_MAX);
}

static void maxima_do_not_overflow(struct kunit *test)
{
	u64 starts[] = { 0, T0, U64_MAX / 2, U64_MAX - 10 * NSEC_PER_SEC };
	int i;

	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		struct rate_bucket *b = new_bucket(test, RATE_CG_MAX_RATE,
						   RATE_CG_MAX_BURST, starts[i]);
		u64 t = starts[i];

		KUNIT_EXPECT_EQ(test, drain(b, t), RATE_CG_MAX_BURST);
		/* 10^6 per second: one per microsecond. */
		KUNIT_EXPECT_EQ(test, drain(b, t + NSEC_PER_USEC - 1), 0);
		KUNIT_EXPECT_EQ(test, drain(b, t + NSEC_PER_USEC), 1);
		KUNIT_EXPECT_EQ(test, drain(b, t + 5 * NSEC_PER_SEC),
				RATE_CG_MAX_BURST);
	}
}

/*
 * Every bus lock is paid for: the debt is not capped, so V vCPUs charging
 * at once owe V events, and the rate holds whatever V is.
 */
static void debt_is_kept_whole(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 100, 2, T0);
	u64 stall = 0;
	int i;

	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), 0);
	/* Every further lock at the same instant owes 10 ms more, without end. */
	for (i = 1; i <= 1000; i++) {
		stall = rate_bucket_charge_debt(b, T0);
		KUNIT_EXPECT_EQ(test, stall, i * 10 * NSEC_PER_MSEC);
	}
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(b, T0), stall);
	/*
	 * When the stall is over the bucket conforms, with nothing to spare:
	 * the next lock owes one interval. A refusal of try_charge takes
	 * nothing from the indebted bucket.
	 */
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(b, T0 + stall), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0 + stall), 10 * NSEC_PER_MSEC);
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 + stall, false));
	/* 30 ms later the debt is repaid and 2 tokens are back. */
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0 + stall + 30 * NSEC_PER_MSEC), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0 + stall + 30 * NSEC_PER_MSEC), 0);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0 + stall + 30 * NSEC_PER_MSEC),
			10 * NSEC_PER_MSEC);
}

/*
 * Chargers read the clock, then race: one whose reading is older than
 * the last writer's must see the bucket further in debt, never idle. A
 * bucket deep in debt and a reading 1 ns stale once reset the debt.
 */
static void stale_reading_keeps_debt(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 10, 10, T0);
	u64 stall, lag;
	int i;

	for (i = 0; i < 30; i++)
		rate_bucket_charge_debt(b, T0);
	for (lag = 1; lag <= 4 * NSEC_PER_SEC; lag *= 7) {
		stall = rate_bucket_charge_debt(b, T0 - lag);
		KUNIT_EXPECT_GE(test, stall, 2 * NSEC_PER_SEC + lag);
		KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 - lag, false));
		KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 - lag, true));
	}
	/* A reading 1 s stale sees 10 more events ahead: refused. */
	b = new_bucket(test, 10, 2, T0);
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, false));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0 - NSEC_PER_SEC, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, false));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0, false));
}

/*
 * A parent "10 10" with two children whose shares are 5/s, one event
 * deep: it keeps room for 2 guaranteed events, so borrowers find 8 and
 * guaranteed events 10. A greedy child that retries every 1 ms for ten
 * minutes of fake time takes every token it can; the polite child, one
 * request every 2 s, comes within its share and is never refused. The
 * parent admits at most 10 * T + 10 over every window.
 */
static void greedy_sibling_cannot_starve_share(struct kunit *test)
{
	struct rate_bucket *parent = kunit_kzalloc(test, sizeof(*parent), GFP_KERNEL);
	struct rate_bucket *greedy = kunit_kzalloc(test, sizeof(*greedy), GFP_KERNEL);
	struct rate_bucket *polite = kunit_kzalloc(test, sizeof(*polite), GFP_KERNEL);
	u64 t, admitted = 0, window_start = T0, window_admitted = 0;
	u64 polite_tries = 0, polite_ok = 0;
	bool g;

	KUNIT_ASSERT_NOT_NULL(test, parent);
	KUNIT_ASSERT_NOT_NULL(test, greedy);
	KUNIT_ASSERT_NOT_NULL(test, polite);
	rate_bucket_init(parent, 10, NSEC_PER_SEC, 8, 10);
	rate_bucket_init(greedy, 5, NSEC_PER_SEC, 1, 1);
	rate_bucket_init(polite, 5, NSEC_PER_SEC, 1, 1);
	rate_bucket_inherit(parent, NULL, T0);
	rate_bucket_inherit(greedy, NULL, T0);
	rate_bucket_inherit(polite, NULL, T0);

	for (t = T0; t < T0 + 600 * NSEC_PER_SEC; t += NSEC_PER_MSEC) {
		g = rate_bucket_try_charge(greedy, t, false);
		if (rate_bucket_try_charge(parent, t, g)) {
			admitted++;
			window_admitted++;
		} else if (g) {
			rate_bucket_uncharge(greedy);
		}
		if ((t - T0) % (2 * NSEC_PER_SEC) == 1234 * NSEC_PER_USEC) {
			polite_tries++;
			g = rate_bucket_try_charge(polite, t, false);
			KUNIT_EXPECT_TRUE(test, g);
			if (rate_bucket_try_charge(parent, t, g)) {
				polite_ok++;
				admitted++;
				window_admitted++;
			}
		}
		if (t - window_start >= 10 * NSEC_PER_SEC) {
			KUNIT_EXPECT_LE(test, window_admitted, 10 * 10 + 10);
			window_start = t;
			window_admitted = 0;
		}
	}
	KUNIT_EXPECT_EQ(test, polite_ok, polite_tries);
	KUNIT_EXPECT_LE(test, admitted, 10 * 600 + 10);
	KUNIT_EXPECT_GE(test, admitted, 10 * 600 - 1);
}

/* A guaranteed event may use the room kept for it; a borrower may not. */
static void room_kept_for_guaranteed(struct kunit *test)
{
	struct rate_bucket *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	rate_bucket_init(b, 10, NSEC_PER_SEC, 3, 5);
	rate_bucket_inherit(b, NULL, T0);
	KUNIT_EXPECT_EQ(test, drain(b, T0), 3);
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, true));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(b, T0, true));
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0, true));
	/* In debt, a borrower waits until the bucket is back at its depth. */
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), 300 * NSEC_PER_MSEC);
}

/* Fill moves between buckets whose events cost different units. */
static void inherit_across_costs(struct kunit *test)
{
	struct rate_bucket *old = new_bucket(test, 10, 10, T0);
	struct rate_bucket *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, drain(old, T0), 10);
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(old, T0), 100 * NSEC_PER_MSEC);
	/*
	 * One event of debt moves to a share of 5/s, scaled as shares are
	 * (by 2^17 for that rate), 3 deep: 4 events ahead, of which 3 must
	 * be repaid before a borrower gets through, 600 ms.
	 */
	rate_bucket_init(b, 5 << 17, NSEC_PER_SEC << 17, 1, 3);
	rate_bucket_inherit(b, old, T0);
	KUNIT_EXPECT_FALSE(test, rate_bucket_try_charge(b, T0, true));
	KUNIT_EXPECT_EQ(test, rate_bucket_conform_ns(b, T0), 600 * NSEC_PER_MSEC);
}

static void stall_length_rounds_up(struct kunit *test)
{
	struct rate_bucket *b = new_bucket(test, 3, 1, T0);

	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), 0);
	/* 1/3 s is 333333333.3 ns: the stall must cover it, so 333333334. */
	KUNIT_EXPECT_EQ(test, rate_bucket_charge_debt(b, T0), 333333334);
}

static void new_setting_keeps_fill(struct kunit *test)
{
	struct rate_bucket *old = new_bucket(test, 10, 10, T0);
	struct rate_bucket *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, b);
	/* Take 4 of 10: 6 left. A deeper bucket keeps 6, a shallower 3. */
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(old, T0, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(old, T0, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(old, T0, false));
	KUNIT_EXPECT_TRUE(test, rate_bucket_try_charge(old, T0, false));

	init_limit(b, 1, 100);
	rate_bucket_inherit(b, old, T0);
	KUNIT_EXPECT_EQ(test, drain(b, T0), 6);

	init_limit(b, 1, 3);
	rate_bucket_inherit(b, old, T0);
	KUNIT_EXPECT_EQ(test, drain(b, T0), 3);

	/* From RATE 0 a bucket starts empty; from "max", full. */
	init_limit(old, 0, 5);
	init_limit(b, 1, 5);
	rate_bucket_inherit(b, old, T0);
	KUNIT_EXPECT_EQ(test, drain(b, T0), 0);
	KUNIT_EXPECT_EQ(test, drain(b, T0 + NSEC_PER_SEC), 1);
	rate_bucket_inherit(b, NULL, T0);
	KUNIT_EXPECT_EQ(test, drain(b, T0), 5);
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
	KUNIT_CASE(default_burst_and_uncharge),
	KUNIT_CASE(non_integral_interval),
	KUNIT_CASE(random_schedules_bounds),
	KUNIT_CASE(rate_zero_admits_nothing),
	KUNIT_CASE(maxima_do_not_overflow),
	KUNIT_CASE(debt_is_kept_whole),
	KUNIT_CASE(stale_reading_keeps_debt),
	KUNIT_CASE(greedy_sibling_cannot_starve_share),
	KUNIT_CASE(room_kept_for_guaranteed),
	KUNIT_CASE(inherit_across_costs),
	KUNIT_CASE(stall_length_rounds_up),
	KUNIT_CASE(new_setting_keeps_fill),
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
