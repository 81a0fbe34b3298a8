// SPDX-License-Identifier: GPL-2.0
/*
 * Property tests of kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h, on random schedules with a fake clock:
 *
 *  A. random hierarchies, random arrivals from random cgroups: at every
 *     limited level, admitted <= RATE * T + BURST over every interval, and
 *     every level's stat counts exactly the events of its subtree;
 *  B. random chains under continuous demand: the path admits at least
 *     min over its levels of RATE * T + BURST - 1 (and no more than any
 *     level allows);
 *  C. settings rewritten mid-run: the upper bound holds in every segment
 *     with that segment's setting;
 *  D. bus locks: the stall never exceeds the debt bound, and after it the
 *     path conforms;
 *  E. RATE and BURST at their maxima, and RATE 0.
 *
 * Usage: prop [SEED [ROUNDS]]. Exits non-zero on the first violation.
 */
#include "kernel_shim.h"
#include "rate.h"

#define MAX_NODES	12
#define MAX_ADMIT	20000

struct node {
	struct rate_cg *rcg;
	int parent;
	u64 rate, burst;	/* rate == U64_MAX: no limit */
	u64 *at;		/* admission times seen by this level */
	unsigned int n;
	u64 seg_start;		/* index of the first admission of the segment */
};

static u64 rnd_state;
static unsigned long checks;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static u64 rnd_in(u64 lo, u64 hi)
{
	return lo + rnd() % (hi - lo + 1);
}

/* Rates spread over six decades. */
static u64 rnd_rate(void)
{
	static const u64 decade[] = { 1, 10, 100, 1000, 10000, 100000 };

	int d = rnd() % 6;

	return rnd_in(decade[d], decade[d] * 10);
}

#define FAIL(...) do {							\
	fprintf(stderr, "prop: FAIL: " __VA_ARGS__);			\
	fprintf(stderr, " (seed %llu)\n", (unsigned long long)seed);	\
	exit(1);							\
} while (0)

static u64 seed;

static void set_limit(struct node *nd, u64 rate, u64 burst)
{
	char buf[64];
	ssize_t ret;

	if (rate == U64_MAX)
		snprintf(buf, sizeof(buf), "max\n");
	else
		snprintf(buf, sizeof(buf), "%llu %llu\n", (unsigned long long)rate,
			 (unsigned long long)burst);
	ret = model_write_limit(nd->rcg, buf);
	if (ret != (ssize_t)strlen(buf))
		FAIL("write of %llu %llu returned %zd", (unsigned long long)rate,
		     (unsigned long long)burst, ret);
	nd->rate = rate;
	nd->burst = burst;
	nd->seg_start = nd->n;
}

static void build(struct node *nodes, int count, bool chain)
{
	int i;

	for (i = 0; i < count; i++) {
		nodes[i].parent = i == 0 ? -1 : chain ? i - 1 : (int)rnd_in(0, i - 1);
		nodes[i].rcg = model_new_cg(nodes[i].parent >= 0 ?
					    nodes[nodes[i].parent].rcg : NULL);
		nodes[i].at = calloc(MAX_ADMIT, sizeof(u64));
		nodes[i].n = 0;
		nodes[i].rate = U64_MAX;
		nodes[i].seg_start = 0;
	}
}

static void destroy(struct node *nodes, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		rate_cg_css_free(&nodes[i].rcg->css);
		free(nodes[i].at);
	}
}

/* Upper bound over every interval of the current segment of a level. */
static void check_upper(const struct node *nd, int idx)
{
	unsigned int i, j;

	if (nd->rate == U64_MAX)
		return;
	for (j = nd->seg_start; j < nd->n; j++)
		for (i = j; i < nd->n && i < j + nd->burst + 4; i++) {
			checks++;
			if ((u64)(i - j + 1) * NSEC_PER_SEC >
			    nd->rate * (nd->at[i] - nd->at[j]) + nd->burst * NSEC_PER_SEC)
				FAIL("node %d rate %llu burst %llu: %u events in %llu ns",
				     idx, (unsigned long long)nd->rate,
				     (unsigned long long)nd->burst, i - j + 1,
				     (unsigned long long)(nd->at[i] - nd->at[j]));
		}
}

static void record(struct node *nodes, int leaf, u64 now)
{
	int i;

	for (i = leaf; i >= 0; i = nodes[i].parent)
		if (nodes[i].n < MAX_ADMIT)
			nodes[i].at[nodes[i].n++] = now;
}

static u64 subtree_events(struct node *nodes, int count, int idx, u64 *per_leaf)
{
	u64 sum = 0;
	int i, a;

	for (i = 0; i < count; i++)
		for (a = i; a >= 0; a = nodes[a].parent)
			if (a == idx) {
				sum += per_leaf[i];
				break;
			}
	return sum;
}

/* A: random hierarchies, random arrivals, rewrites mid-run (C). */
static void prop_hierarchy(int rewrites)
{
	struct node nodes[MAX_NODES];
	u64 per_leaf[MAX_NODES] = { 0 };
	int count = rnd_in(2, MAX_NODES), i, step;
	u64 mean_gap = rnd_in(1, 2000000);

	build(nodes, count, false);
	for (i = 1; i < count; i++)
		if (rnd() % 10 < 6)
			set_limit(&nodes[i], rnd_rate(), rnd_in(1, 50));
	for (step = 0; step < 3000; step++) {
		int leaf = rnd_in(0, count - 1);

		shim_now += rnd() % (2 * mean_gap);
		if (rewrites && rnd() % 500 == 0) {
			int k = rnd_in(1, count - 1);

			check_upper(&nodes[k], k);
			set_limit(&nodes[k], rnd() % 4 ? rnd_rate() : U64_MAX,
				  rnd_in(1, 50));
		}
		per_leaf[leaf]++;
		if (rate_cg_try_charge(nodes[leaf].rcg))
			record(nodes, leaf, shim_now);
	}
	for (i = 0; i < count; i++) {
		struct rate_cg_stat sum;

		check_upper(&nodes[i], i);
		rate_cg_stat_read(nodes[i].rcg, &sum);
		if (sum.admitted != nodes[i].n ||
		    sum.admitted + sum.throttled !=
		    subtree_events(nodes, count, i, per_leaf))
			FAIL("node %d counts %llu+%llu", i,
			     (unsigned long long)sum.admitted,
			     (unsigned long long)sum.throttled);
	}
	destroy(nodes, count);
}

/* B: a chain under continuous demand from its leaf. */
static void prop_chain_lower(void)
{
	struct node nodes[9];
	int depth = rnd_in(1, 8), count = depth + 1, i, step;
	u64 start, max_step = U64_MAX, total = 0, low, bound;

	build(nodes, count, true);
	for (i = 1; i < count; i++) {
		set_limit(&nodes[i], rnd_rate(), rnd_in(2, 50));
		max_step = min(max_step, (nodes[i].burst - 1) * NSEC_PER_SEC / nodes[i].rate);
	}
	start = shim_now;
	for (step = 0; step < 2000; step++) {
		while (rate_cg_try_charge(nodes[depth].rcg)) {
			total++;
			record(nodes, depth, shim_now);
		}
		/* total >= min over levels of RATE * T + BURST - 1 */
		low = U64_MAX;
		for (i = 1; i < count; i++) {
			bound = nodes[i].rate * (shim_now - start) +
				(nodes[i].burst - 1) * NSEC_PER_SEC;
			low = min(low, bound);
		}
		checks++;
		if (total * NSEC_PER_SEC < low)
			FAIL("chain depth %d: %llu admitted after %llu ns", depth,
			     (unsigned long long)total,
			     (unsigned long long)(shim_now - start));
		shim_now += rnd_in(1, max_step);
	}
	for (i = 1; i < count; i++)
		check_upper(&nodes[i], i);
	destroy(nodes, count);
}

/* D: bus locks in a chain, many at one instant: bounded stall, then conform. */
static void prop_debt(void)
{
	struct node nodes[9];
	int depth = rnd_in(1, 8), count = depth + 1, i, n = rnd_in(1, 5000);
	u64 stall = 0;

	build(nodes, count, true);
	for (i = 1; i < count; i++)
		set_limit(&nodes[i], rnd() % 20 ? rnd_rate() : 0, rnd_in(1, 50));
	for (i = 0; i < n; i++) {
		stall = rate_cg_charge_debt(nodes[depth].rcg);
		checks++;
		if (stall > RATE_CG_MAX_STALL_NS)
			FAIL("stall %llu ns over the bound", (unsigned long long)stall);
	}
	/* After the stall every level conforms again (RATE 0 never does). */
	shim_now += stall;
	for (i = 1; i < count; i++) {
		struct rate_bucket *b = nodes[i].rcg->bucket;

		checks++;
		if (b->rate && (s64)(atomic64_read(&b->tat) - shim_now * b->rate) >
		    (s64)b->limit)
			FAIL("level %d still in debt after the stall", i);
	}
	destroy(nodes, count);
}

/* E: the extremes. */
static void prop_extremes(void)
{
	struct node nodes[2];
	u64 n = 0;

	build(nodes, 2, true);
	set_limit(&nodes[1], RATE_CG_MAX_RATE, RATE_CG_MAX_BURST);
	while (rate_cg_try_charge(nodes[1].rcg))
		n++;
	if (n != RATE_CG_MAX_BURST)
		FAIL("max burst: %llu", (unsigned long long)n);
	shim_now += 3600 * NSEC_PER_SEC;
	n = 0;
	while (rate_cg_try_charge(nodes[1].rcg))
		n++;
	if (n != RATE_CG_MAX_BURST)
		FAIL("max burst after an hour: %llu", (unsigned long long)n);
	set_limit(&nodes[1], 0, 1);
	shim_now += 3600 * NSEC_PER_SEC;
	if (rate_cg_try_charge(nodes[1].rcg))
		FAIL("RATE 0 admitted");
	if (rate_cg_charge_debt(nodes[1].rcg) != RATE_CG_MAX_STALL_NS)
		FAIL("RATE 0 stall");
	checks += 4;
	destroy(nodes, 2);
}

int main(int argc, char **argv)
{
	int rounds, r;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261121;
	rounds = argc > 2 ? atoi(argv[2]) : 200;
	rnd_state = seed * 2654435761ULL + 1;
	/* Start far from zero, near a wrap of the scaled clock at 10^6/s. */
	shim_now = 18446744073709ULL * 1000 - 5 * NSEC_PER_SEC;
	for (r = 0; r < rounds; r++) {
		prop_hierarchy(r & 1);
		prop_chain_lower();
		prop_debt();
		if (r % 50 == 0)
			prop_extremes();
		shim_now += rnd() % (100 * NSEC_PER_SEC);
	}
	printf("prop: %d rounds, %lu bound checks, all held (seed %llu)\n",
	       rounds, checks, (unsigned long long)seed);
	return 0;
}
