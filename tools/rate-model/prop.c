// SPDX-License-Identifier: GPL-2.0
/*
 * Property tests of kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h, on random schedules with a fake clock. Chargers do not
 * share one clock: each charge reads the time minus a random lag, as on
 * CPUs that read the clock and then race for the bucket, and the bounds
 * are checked over windows of the readings.
 *
 *  A. random hierarchies and weights, random arrivals with lagging
 *     readings, settings and weights rewritten mid-run: at every limited
 *     level, admitted <= RATE * T + max(BURST, H + 1) over every window of
 *     each segment (H: the children's share depths), shares never sum
 *     to more than their parent passes down, and the stat files count
 *     every event once, and only events within a share as guaranteed;
 *  B. chains under continuous demand: the lower bound, RATE * T + BURST
 *     - 1 less the room X a level keeps for its children's guarantees;
 *  D. bus locks from V vCPUs with lagging readings that each wait out
 *     their stall, each with readings that do not go back: admitted <=
 *     RATE * T + max(BURST, H + 1) + V; RATE 0 stalls until the
 *     setting changes;
 *  F. fair sharing under attack: greedy siblings in tight loops (with
 *     lagging readings) never get a polite cgroup that stays within its
 *     share refused, nested or not, whatever its phase; two greedy
 *     siblings split the parent by weight;
 *  G. a setting or a share republished between a charge and its rollback
 *     gains no token;
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
	u64 depth;		/* max(BURST, H + 1) of the segment */
	u64 *at;		/* readings of the events admitted by this level */
	unsigned int n;
	unsigned int seg_start;	/* first admission of the segment */
};

static u64 rnd_state;
static unsigned long checks;
static u64 seed;

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

/* Rates spread over five decades. */
static u64 rnd_rate(void)
{
	static const u64 decade[] = { 1, 10, 100, 1000, 10000 };

	int d = rnd() % 5;

	return rnd_in(decade[d], decade[d] * 10);
}

#define FAIL(...) do {							\
	fprintf(stderr, "prop: FAIL: " __VA_ARGS__);			\
	fprintf(stderr, " (seed %llu)\n", (unsigned long long)seed);	\
	exit(1);							\
} while (0)

/* A reading of the clock up to @max_lag ns behind the true time. */
static u64 true_now;

static void read_lagging(u64 max_lag)
{
	shim_now = true_now - (max_lag ? rnd() % (max_lag + 1) : 0);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Upper bound over every window of the current segment of a level. */
static void check_upper(struct node *nd, int idx, u64 extra)
{
	unsigned int i, j, cnt = nd->n - nd->seg_start;
	u64 *at = nd->at + nd->seg_start;

	if (nd->rate == U64_MAX)
		return;
	qsort(at, cnt, sizeof(*at), cmp_u64);
	for (j = 0; j < cnt; j++)
		for (i = j; i < cnt && i < j + nd->depth + extra + 4; i++) {
			checks++;
			if ((u64)(i - j + 1) * NSEC_PER_SEC >
			    nd->rate * (at[i] - at[j]) +
			    (nd->depth + extra) * NSEC_PER_SEC)
				FAIL("node %d rate %llu burst %llu H %llu depth %llu+%llu: %u events in %llu ns",
				     idx, (unsigned long long)nd->rate, (unsigned long long)nd->burst, (unsigned long long)nd->rcg->headroom,
				     (unsigned long long)nd->depth,
				     (unsigned long long)extra, i - j + 1,
				     (unsigned long long)(at[i] - at[j]));
		}
}

/* Checks and ends every level's segment, before a change of its bounds. */
static void end_segments(struct node *nodes, int count, u64 extra)
{
	int i;

	for (i = 0; i < count; i++) {
		check_upper(&nodes[i], i, extra);
		nodes[i].seg_start = nodes[i].n;
	}
}

/* Starts new segments with the current bounds. */
static void new_segments(struct node *nodes, int count, u64 extra)
{
	int i;

	end_segments(nodes, count, extra);
	for (i = 0; i < count; i++)
		nodes[i].depth = max(nodes[i].burst, nodes[i].rcg->headroom + 1);
}

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
		FAIL("write of %s returned %zd", buf, ret);
	nd->rate = rate;
	nd->burst = rate == U64_MAX ? 0 : burst;
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
		nodes[i].burst = 0;
		nodes[i].seg_start = 0;
	}
}

static void destroy(struct node *nodes, int count)
{
	int i;

	for (i = count - 1; i >= 0; i--) {
		model_free_cg(nodes[i].rcg);
		free(nodes[i].at);
	}
}

static void record(struct node *nodes, int leaf, u64 reading)
{
	int i;

	for (i = leaf; i >= 0; i = nodes[i].parent)
		if (nodes[i].n < MAX_ADMIT)
			nodes[i].at[nodes[i].n++] = reading;
}

static bool in_subtree(struct node *nodes, int i, int top)
{
	for (; i >= 0; i = nodes[i].parent)
		if (i == top)
			return true;
	return false;
}

/* What a level passes down, in fixed point, from the settings alone. */
static u64 capacity_fp(struct node *nodes, int i)
{
	struct rate_cg *rcg = nodes[i].rcg;
	u64 fp = rcg->share_fp;

	if (nodes[i].rate != U64_MAX)
		fp = min(fp, nodes[i].rate << RATE_CG_FP_SHIFT);
	return fp;
}

/* Shares never sum to more than their parent passes down. */
static void check_shares(struct node *nodes, int count)
{
	int p, c;
	u64 sum;

	for (p = 0; p < count; p++) {
		if (capacity_fp(nodes, p) == U64_MAX)
			continue;
		sum = 0;
		for (c = 0; c < count; c++)
			if (nodes[c].parent == p) {
				struct rate_bucket *s = nodes[c].rcg->share.cur;

				if (!s)
					FAIL("node %d has no share under %d", c, p);
				sum += nodes[c].rcg->share_fp;
			}
		checks++;
		if (sum > capacity_fp(nodes, p))
			FAIL("shares of %d sum to %llu > %llu", p,
			     (unsigned long long)sum,
			     (unsigned long long)capacity_fp(nodes, p));
	}
}

/* A: random hierarchies, weights, lagging arrivals, rewrites. */
static void prop_hierarchy(int rewrites)
{
	struct node nodes[MAX_NODES];
	u64 per_leaf[MAX_NODES] = { 0 };
	int count = rnd_in(2, MAX_NODES), i, step;
	u64 mean_gap = rnd_in(1, 2000000);
	u64 max_lag = rnd() % 3 ? rnd_in(0, 3 * NSEC_PER_SEC) : 0;

	build(nodes, count, false);
	for (i = 1; i < count; i++) {
		if (rnd() % 10 < 6)
			set_limit(&nodes[i], rnd_rate(), rnd_in(1, 50));
		if (rnd() % 2)
			model_write_weight(nodes[i].rcg, rnd_in(1, 10000));
	}
	new_segments(nodes, count, 0);
	check_shares(nodes, count);
	for (step = 0; step < 3000; step++) {
		int leaf = rnd_in(0, count - 1);

		true_now += rnd() % (2 * mean_gap);
		if (rewrites && rnd() % 300 == 0) {
			int k = rnd_in(1, count - 1);

			end_segments(nodes, count, 0);
			if (rnd() % 2)
				set_limit(&nodes[k], rnd() % 4 ? rnd_rate() : U64_MAX,
					  rnd_in(1, 50));
			else
				model_write_weight(nodes[k].rcg, rnd_in(1, 10000));
			/* Fill carries over: a new segment starts full. */
			new_segments(nodes, count, 0);
			check_shares(nodes, count);
		}
		per_leaf[leaf]++;
		read_lagging(max_lag);
		if (rate_cg_try_charge(nodes[leaf].rcg))
			record(nodes, leaf, shim_now);
	}
	shim_now = true_now;
	for (i = 0; i < count; i++) {
		struct rate_cg_stat sum;
		u64 events = 0;
		int j;

		check_upper(&nodes[i], i, 0);
		for (j = 0; j < count; j++)
			if (in_subtree(nodes, j, i))
				events += per_leaf[j];
		rate_cg_stat_read(nodes[i].rcg, &sum);
		checks++;
		if (sum.admitted != nodes[i].n ||
		    sum.admitted + sum.throttled != events)
			FAIL("node %d counts %llu+%llu", i,
			     (unsigned long long)sum.admitted,
			     (unsigned long long)sum.throttled);
		if (sum.guaranteed > sum.admitted || (!nodes[i].rcg->share.cur &&
						       !rewrites && sum.guaranteed))
			FAIL("node %d guaranteed %llu of %llu", i,
			     (unsigned long long)sum.guaranteed,
			     (unsigned long long)sum.admitted);
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
	for (i = 1; i < count; i++)
		set_limit(&nodes[i], rnd_rate(), rnd_in(10, 50));
	/* Steps short enough that no level's borrowers' room overflows. */
	for (i = 1; i < count; i++) {
		u64 keep = min(nodes[i].rcg->headroom, nodes[i].burst - 1);

		max_step = min(max_step, max(nodes[i].burst - keep - 1, 1ULL) *
				NSEC_PER_SEC / nodes[i].rate);
	}
	shim_now = true_now;
	new_segments(nodes, count, 0);
	start = shim_now;
	for (step = 0; step < 2000; step++) {
		while (rate_cg_try_charge(nodes[depth].rcg)) {
			total++;
			record(nodes, depth, shim_now);
		}
		/*
		 * total >= min over levels of RATE * T + BURST - X - 1, X the
		 * room a level keeps for its children's guaranteed events
		 */
		low = U64_MAX;
		for (i = 1; i < count; i++) {
			u64 keep = min(nodes[i].rcg->headroom, nodes[i].burst - 1);

			bound = nodes[i].rate * (shim_now - start) +
				(nodes[i].burst - keep - 1) * NSEC_PER_SEC;
			low = min(low, bound);
		}
		checks++;
		if (total * NSEC_PER_SEC < low) {
			for (i = 1; i < count; i++)
				fprintf(stderr, "level %d: %llu %llu H %llu share %llu\n", i,
					(unsigned long long)nodes[i].rate, (unsigned long long)nodes[i].burst,
					(unsigned long long)nodes[i].rcg->headroom,
					(unsigned long long)(nodes[i].rcg->share_fp >> 20));
			FAIL("chain depth %d: %llu admitted after %llu ns", depth,
			     (unsigned long long)total,
			     (unsigned long long)(shim_now - start));
		}
		shim_now += rnd_in(1, max_step);
	}
	true_now = shim_now;
	for (i = 1; i < count; i++)
		check_upper(&nodes[i], i, 0);
	destroy(nodes, count);
}

/* D: bus locks from V vCPUs under a random tree, each waiting out its stall. */
static void prop_debt(void)
{
	struct node nodes[MAX_NODES];
	int count = rnd_in(2, MAX_NODES), v, i, step, nv = rnd_in(1, 64);
	u64 deadline[64] = { 0 }, last[64] = { 0 }, max_lag = rnd() % 2 ? rnd_in(0, NSEC_PER_SEC) : 0;

	int where[64];

	build(nodes, count, false);
	for (i = 1; i < count; i++) {
		if (rnd() % 10 < 6)
			set_limit(&nodes[i], rnd_rate(), rnd_in(1, 50));
		if (rnd() % 2)
			model_write_weight(nodes[i].rcg, rnd_in(1, 10000));
	}
	new_segments(nodes, count, 0);
	for (v = 0; v < nv; v++)
		where[v] = rnd_in(0, count - 1);
	for (step = 0; step < 4000; step++) {
		true_now += rnd() % 2000000;
		v = rnd() % nv;
		/* A vCPU runs the guest only once its deadline has passed. */
		if (deadline[v] > true_now)
			continue;
		read_lagging(max_lag);
		/*
		 * A vCPU's own readings do not go back, and come after its
		 * deadline; they lag the other vCPUs' readings at random.
		 */
		shim_now = max(shim_now, max(deadline[v], last[v]));
		last[v] = shim_now;
		deadline[v] = rate_cg_charge_debt(nodes[where[v]].rcg);
		record(nodes, where[v], shim_now);
		checks++;
		if (deadline[v] && deadline[v] <= shim_now)
			FAIL("deadline %llu not after the charge",
			     (unsigned long long)deadline[v]);
	}
	for (i = 0; i < count; i++)
		check_upper(&nodes[i], i, nv);
	destroy(nodes, count);
}

/* Charges of a greedy cgroup: @tries in a tight loop at lagging readings. */
static u64 greedy(struct rate_cg *rcg, int tries, u64 max_lag)
{
	u64 ok = 0;

	while (tries--) {
		read_lagging(max_lag);
		ok += rate_cg_try_charge(rcg);
	}
	return ok;
}

/*
 * F1: a polite cgroup within its share beside greedy siblings, directly
 * under the limited parent or one level down under an unlimited or a
 * limited middle cgroup, with random weights and phase.
 */
static void prop_fair_polite(void)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	struct rate_cg *mid, *polite, *g[8];
	int ng = rnd_in(1, 8), i, shape = rnd() % 3, k;
	u64 rate = rnd_in(1, 2000), burst = rnd_in(1, 2 * rate + 20);
	u64 max_lag = rnd() % 2 ? rnd_in(0, 100000) : 0, interval, next;
	u64 tick, end, refused = 0, tries = 0;
	char buf[64];

	snprintf(buf, sizeof(buf), "%llu %llu", (unsigned long long)rate,
		 (unsigned long long)burst);
	mid = shape ? model_new_cg(parent) : parent;
	if (shape == 2) {
		snprintf(buf + 32, 32, "%llu", (unsigned long long)rnd_in(1, 2 * rate));
		model_write_limit(mid, buf + 32);
	}
	polite = model_new_cg(mid);
	model_write_weight(polite, rnd_in(1, 10000));
	for (i = 0; i < ng; i++) {
		g[i] = model_new_cg(i % 2 || !shape ? parent : mid);
		model_write_weight(g[i], rnd_in(1, 10000));
	}
	model_write_limit(parent, buf);
	if (polite->share_fp == U64_MAX || !polite->share_fp)
		FAIL("polite has no share");
	/* Just within the share: one request per 1/share, rounded up. */
	interval = (((u64)NSEC_PER_SEC << RATE_CG_FP_SHIFT) + polite->share_fp - 1) /
		   polite->share_fp + 1;
	/* Greedy siblings try a few times per parent token, or more. */
	tick = rnd_in(NSEC_PER_SEC / rate / 16, NSEC_PER_SEC / rate / 2) + 1;
	next = true_now + rnd() % interval;
	end = true_now + min(max((u64)60 * NSEC_PER_SEC, 20 * interval),
			     20000 * tick);
	while (true_now < end) {
		true_now += tick;
		for (i = 0; i < ng; i++)
			greedy(g[i], 4, max_lag);
		if (true_now >= next) {
			shim_now = true_now;
			tries++;
			if (!rate_cg_try_charge(polite))
				refused++;
			next = true_now + interval;
		}
		for (k = ng - 1; k > 0 && rnd() % 2; k--)
			greedy(g[k], 2, max_lag);
	}
	checks++;
	if (refused)
		FAIL("polite refused %llu of %llu (shape %d, rate %llu burst %llu, %d greedy)",
		     (unsigned long long)refused, (unsigned long long)tries, shape,
		     (unsigned long long)rate, (unsigned long long)burst, ng);
	for (i = ng - 1; i >= 0; i--)
		model_free_cg(g[i]);
	model_free_cg(polite);
	if (shape)
		model_free_cg(mid);
	model_free_cg(parent);
	model_free_cg(root);
}

/* F2: two greedy siblings split a saturated parent by weight. */
static void prop_fair_weights(void)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	struct rate_cg *a = model_new_cg(parent), *b = model_new_cg(parent);
	u64 wa = rnd_in(1, 1000), wb = rnd_in(1, 1000), na = 0, nb = 0;
	u64 rate = rnd_in(50, 5000), end = true_now + 100 * NSEC_PER_SEC;

	end = true_now + 20000 * NSEC_PER_SEC / rate;
	double want, got;

	model_write_weight(a, wa);
	model_write_weight(b, wb);
	model_write_limit(parent, "1 1");
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)rate);
		model_write_limit(parent, buf);
	}
	while (true_now < end) {
		true_now += rnd_in(1, NSEC_PER_SEC / rate / 20 + 1);
		if (rnd() % 2) {
			na += greedy(a, 2, 0);
			nb += greedy(b, 2, 0);
		} else {
			nb += greedy(b, 2, 0);
			na += greedy(a, 2, 0);
		}
	}
	/*
	 * Each gets at least 95% of its share (a share bucket one event deep
	 * loses to the jitter of the arrivals what the sibling then borrows),
	 * both together the parent's rate, and for weights up to 1:4 apart
	 * the split is the weights' within 10%.
	 */
	want = (double)wa / wb;
	got = (double)na / (nb ? nb : 1);
	checks++;
	if (na < 0.95 * 20000 * wa / (wa + wb) ||
	    nb < 0.95 * 20000 * wb / (wa + wb) ||
	    na + nb < 0.99 * 20000 ||
	    (want <= 4 && want >= 0.25 && (got > want * 1.1 || got < want / 1.1)))
		FAIL("weights %llu:%llu split %llu:%llu at rate %llu",
		     (unsigned long long)wa, (unsigned long long)wb,
		     (unsigned long long)na, (unsigned long long)nb,
		     (unsigned long long)rate);
	model_free_cg(b);
	model_free_cg(a);
	model_free_cg(parent);
	model_free_cg(root);
}

/*
 * G: a writer runs between the charge of a lower level and the refusal
 * above it: it sets a limit on the leaf, which had none when the walk
 * charged it, and drains the new bucket. The rollback must not give the
 * new bucket the refused event's token.
 */
static struct rate_cg *g_victim;

static void rewrite_mid_charge(void)
{
	int i;

	shim_cmpxchg_hook = NULL;
	model_write_limit(g_victim, "10 10");
	for (i = 0; i < 10; i++)
		rate_cg_charge_debt(g_victim);
}

static void prop_rollback(void)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	struct rate_cg *leaf = model_new_cg(parent), *sib = model_new_cg(parent);
	int n = rnd_in(1, 50), i;
	struct rate_bucket *b;
	s64 ahead;

	shim_now = true_now;
	model_write_limit(parent, "1 1");
	g_victim = leaf;
	/* A sibling's bus locks put the parent in debt; the leaf's share is full. */
	for (i = 0; i < 5; i++)
		rate_cg_charge_debt(sib);
	for (i = 0; i < n; i++) {
		model_write_limit(leaf, "max");
		/* The leaf's share conforms; the writer runs; the parent refuses. */
		shim_cmpxchg_hook = rewrite_mid_charge;
		rate_cg_try_charge(leaf);
		if (shim_cmpxchg_hook)
			FAIL("the writer did not run mid-charge");
		b = leaf->limit.cur;
		ahead = atomic64_read(&b->tat) - shim_now * b->rate;
		checks++;
		if (ahead < (s64)b->limit_borrow)
			FAIL("refusal %d gave the new bucket %lld units", i,
			     (long long)(b->limit_borrow - ahead));
	}
	model_free_cg(sib);
	model_free_cg(leaf);
	model_free_cg(parent);
	model_free_cg(root);
}

/* E: the extremes. */
static void prop_extremes(void)
{
	struct node nodes[2];
	u64 n = 0;

	shim_now = true_now;
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
	if (rate_cg_charge_debt(nodes[1].rcg) != U64_MAX)
		FAIL("RATE 0 stall is not until the setting changes");
	set_limit(&nodes[1], 10, 1);
	if (rate_cg_conform_ns(nodes[1].rcg) == U64_MAX)
		FAIL("RATE 0 debt not repayable at a new rate");
	set_limit(&nodes[1], U64_MAX, 1);
	if (rate_cg_conform_ns(nodes[1].rcg))
		FAIL("stall left without a limit");
	checks += 6;
	true_now = shim_now;
	destroy(nodes, 2);
}

int main(int argc, char **argv)
{
	int rounds, r;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261121;
	rounds = argc > 2 ? atoi(argv[2]) : 200;
	rnd_state = seed * 2654435761ULL + 1;
	/* Start far from zero, near a wrap of the scaled clock at 10^6/s. */
	true_now = 18446744073709ULL * 1000 - 5 * NSEC_PER_SEC;
	for (r = 0; r < rounds; r++) {
		prop_hierarchy(r & 1);
		prop_chain_lower();
		prop_debt();
		if (r % 4 == 0)
			prop_fair_polite();
		if (r % 8 == 0)
			prop_fair_weights();
		prop_rollback();
		if (r % 50 == 0)
			prop_extremes();
		true_now += rnd() % (100 * NSEC_PER_SEC);
	}
	printf("prop: %d rounds, %lu bound checks, all held (seed %llu)\n",
	       rounds, checks, (unsigned long long)seed);
	return 0;
}
