// SPDX-License-Identifier: GPL-2.0
/*
 * Property tests of kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h, on random schedules with a fake clock. Chargers do not
 * share one clock: each charge reads the time minus a random lag, as on
 * CPUs that read the clock and then race for the bucket, and the bounds
 * are checked over windows of the readings. Idle gaps of a second to ten
 * years come between the phases of every test, at every rate a bucket
 * can take, from 1/s to 10^6/s and shares of a thousandth of that.
 *
 *  A. random hierarchies and weights, random arrivals with lagging
 *     readings, settings and weights rewritten mid-run, cgroups created
 *     and removed: at every limited level, admitted <= RATE * T + BURST
 *     over every window of each segment, exactly; the stat files count
 *     every event once;
 *  B. a chain under continuous demand: admitted >= R * T + BURST - 1,
 *     R = 10^9 / ceil(10^9 / RATE) (the rounding of the cost);
 *  C. idle gaps up to 10 years: a limit and a share refill to exactly
 *     their depth, and an idle parent gives a lone burster its whole
 *     BURST through libvirt's layout;
 *  D. bus locks from V vCPUs with lagging readings that each wait out
 *     their stall: admitted <= RATE * T + BURST + V; RATE 0 stalls until
 *     the setting changes; a stall never outlasts the levels it borrowed
 *     from;
 *  F. fair sharing under attack: greedy siblings in tight loops, with
 *     lagging readings, never get a
 *     cgroup refused whose demand conforms to its share (rate and depth),
 *     nested or not, whatever its phase and idle gaps; under continuous
 *     demand every child gets its share rate within 5% over 10 s;
 *  G. a setting republished between a charge and its rollback gains no
 *     token; a share keeps its partial fill across republications;
 *  H. a boot storm: new cgroups under a congested parent get their first
 *     request admitted;
 *  E. RATE and BURST at their maxima, RATE 0, and 0 -> N starting full.
 *
 * Usage: prop [SEED [ROUNDS]]. Exits non-zero on the first violation and
 * prints the distributions it measured.
 */
#include "kernel_shim.h"
#include "rate.h"

#define MAX_NODES	12
#define MAX_ADMIT	20000
#define YEAR_NS		(365ULL * 86400 * NSEC_PER_SEC)

struct node {
	struct rate_cg *rcg;
	int parent;
	u64 rate, burst;	/* rate == U64_MAX: no limit */
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

/* Rates spread over six decades. */
static u64 rnd_rate(void)
{
	static const u64 decade[] = { 1, 10, 100, 1000, 10000, 100000 };
	int d = rnd() % 6;

	return rnd_in(decade[d], decade[d] * 10);
}

/* An idle gap: a second to ten years, spread over the decades. */
static u64 rnd_gap(void)
{
	static const u64 scale[] = { NSEC_PER_SEC, 3600 * NSEC_PER_SEC,
				     86400 * NSEC_PER_SEC, YEAR_NS };

	return rnd_in(1, 10) * scale[rnd() % 4];
}

#define FAIL(...) do {							\
	fprintf(stderr, "prop: FAIL: " __VA_ARGS__);			\
	fprintf(stderr, " (seed %llu)\n", (unsigned long long)seed);	\
	exit(1);							\
} while (0)

typedef unsigned long long ull;

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
	u64 cost;

	if (nd->rate == U64_MAX)
		return;
	if (!nd->rate) {
		if (cnt)
			FAIL("node %d admitted %u at RATE 0", idx, cnt);
		return;
	}
	cost = DIV_ROUND_UP(NSEC_PER_SEC, nd->rate);
	qsort(at, cnt, sizeof(*at), cmp_u64);
	for (j = 0; j < cnt; j++)
		for (i = j; i < cnt && i < j + nd->burst + extra + 4; i++) {
			checks++;
			if ((u64)(i - j + 1) * cost >
			    at[i] - at[j] + (nd->burst + extra) * cost)
				FAIL("node %d rate %llu burst %llu +%llu: %u events in %llu ns",
				     idx, (ull)nd->rate, (ull)nd->burst, (ull)extra,
				     i - j + 1, (ull)(at[i] - at[j]));
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

static void write_limit(struct rate_cg *rcg, u64 rate, u64 burst)
{
	char buf[64];
	ssize_t ret;

	if (rate == U64_MAX)
		snprintf(buf, sizeof(buf), "max\n");
	else
		snprintf(buf, sizeof(buf), "%llu %llu\n", (ull)rate, (ull)burst);
	ret = model_write_limit(rcg, buf);
	if (ret != (ssize_t)strlen(buf))
		FAIL("write of %s returned %zd", buf, ret);
}

static void set_limit(struct node *nd, u64 rate, u64 burst)
{
	write_limit(nd->rcg, rate, burst);
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

/* A: random hierarchies, weights, lagging arrivals, rewrites, mkdir/rmdir. */
static void prop_hierarchy(bool rewrites)
{
	struct node nodes[MAX_NODES];
	u64 per_leaf[MAX_NODES] = { 0 };
	int count = rnd_in(2, MAX_NODES), i, step;
	u64 mean_gap = rnd_in(1, 2000000);
	u64 max_lag = rnd() % 3 ? rnd_in(0, 3 * NSEC_PER_SEC) : 0;
	struct rate_cg *extra = NULL;

	build(nodes, count, false);
	for (i = 1; i < count; i++) {
		if (rnd() % 10 < 6)
			set_limit(&nodes[i], rnd() % 20 ? rnd_rate() : 0, rnd_in(1, 50));
		if (rnd() % 2)
			model_write_weight(nodes[i].rcg, rnd_in(1, 10000));
	}
	for (step = 0; step < 3000; step++) {
		int leaf = rnd_in(0, count - 1);

		true_now += rnd() % (2 * mean_gap);
		if (rnd() % 500 == 0)
			true_now += rnd_gap();
		if (rewrites && rnd() % 300 == 0) {
			int k = rnd_in(1, count - 1);

			/* The fill carries over: a new segment starts full. */
			shim_now = true_now;
			end_segments(nodes, count, 0);
			if (rnd() % 2)
				set_limit(&nodes[k], rnd() % 4 ? rnd_rate() : U64_MAX,
					  rnd_in(1, 50));
			else
				model_write_weight(nodes[k].rcg, rnd_in(1, 10000));
		}
		if (rewrites && rnd() % 200 == 0) {
			shim_now = true_now;
			if (extra) {
				model_free_cg(extra);
				extra = NULL;
			} else {
				extra = model_new_cg(nodes[rnd_in(0, count - 1)].rcg);
			}
		}
		per_leaf[leaf]++;
		read_lagging(max_lag);
		if (rate_cg_try_charge(nodes[leaf].rcg))
			record(nodes, leaf, shim_now);
	}
	if (extra)
		model_free_cg(extra);
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
			FAIL("node %d counts %llu+%llu", i, (ull)sum.admitted,
			     (ull)sum.throttled);
		if (sum.guaranteed + sum.borrowed > sum.admitted)
			FAIL("node %d guaranteed %llu borrowed %llu of %llu", i,
			     (ull)sum.guaranteed, (ull)sum.borrowed, (ull)sum.admitted);
	}
	/* Nothing limited above the root's children: nothing borrowed there. */
	{
		struct rate_cg_stat sum;

		rate_cg_stat_read(nodes[0].rcg, &sum);
		if (sum.guaranteed || sum.borrowed)
			FAIL("the root counts %llu guaranteed, %llu borrowed",
			     (ull)sum.guaranteed, (ull)sum.borrowed);
	}
	destroy(nodes, count);
}

/* B: a chain under continuous demand, checked at every step. */
static void prop_chain_lower(void)
{
	struct node nodes[5];
	int depth = rnd_in(1, 4), i, tight = -1, step;
	u64 start, total = 0, best = U64_MAX, cost, max_step;

	build(nodes, depth + 1, true);
	for (i = 1; i <= depth; i++) {
		set_limit(&nodes[i], rnd_rate(), rnd_in(2, 60));
		/* The level that lets fewest events through over a long run. */
		cost = DIV_ROUND_UP(NSEC_PER_SEC, nodes[i].rate);
		if (tight < 0 || cost > best) {
			best = cost;
			tight = i;
		}
	}
	true_now += rnd_gap();
	shim_now = true_now;
	cost = best;
	max_step = (nodes[tight].burst - 1) * cost;
	for (i = 1; i <= depth; i++)
		max_step = min(max_step, (nodes[i].burst - 1) *
			       DIV_ROUND_UP(NSEC_PER_SEC, nodes[i].rate));
	start = true_now;
	for (step = 0; step < 2000 && total < 100000; step++) {
		while (rate_cg_try_charge(nodes[depth].rcg) && total < 100000)
			total++;
		checks++;
		if (total * cost + cost < (true_now - start) +
		    nodes[tight].burst * cost && total < 100000) {
			/* A shallower level above may hold it back: allowed. */
			bool held = false;

			for (i = 1; i <= depth; i++)
				held |= nodes[i].burst < nodes[tight].burst;
			if (!held)
				FAIL("chain of %d: %llu admitted in %llu ns at cost %llu, burst %llu",
				     depth, (ull)total, (ull)(true_now - start),
				     (ull)cost, (ull)nodes[tight].burst);
		}
		true_now += rnd_in(1, max_step ? max_step : 1);
		shim_now = true_now;
	}
	destroy(nodes, depth + 1);
}

/* Drains @rcg at one instant; the number admitted. */
static u64 drain(struct rate_cg *rcg, u64 limit)
{
	u64 n = 0;

	while (n < limit && rate_cg_try_charge(rcg))
		n++;
	return n;
}

/*
 * C: after any idle gap, a limit and a share refill to exactly their
 * depth; an idle "10 10" over a VM with 8 vCPU cgroups (libvirt) admits a
 * burst of 10 from one vCPU, and an idle parent of one child its BURST.
 */
static void prop_idle(void)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg *vm = model_new_cg(p), *vcpu[8];
	u64 rate = rnd_rate(), burst = rnd_in(1, 200), got;
	int i, round;

	for (i = 0; i < 8; i++)
		vcpu[i] = model_new_cg(vm);
	write_limit(p, 10, 10);
	for (round = 0; round < 4; round++) {
		true_now += rnd_gap();
		shim_now = true_now;
		got = drain(vcpu[rnd() % 8], 100);
		checks++;
		if (got != 10)
			FAIL("libvirt layout after %llu s idle: %llu of a burst of 10",
			     (ull)(true_now / NSEC_PER_SEC), (ull)got);
	}
	write_limit(p, rate, burst);
	for (round = 0; round < 4; round++) {
		/* Long enough for every bucket on the path to refill. */
		true_now += rnd_gap() + 8 * burst * NSEC_PER_SEC / rate;
		shim_now = true_now;
		got = drain(vcpu[rnd() % 8], burst + 10);
		checks++;
		if (got != burst)
			FAIL("\"%llu %llu\" idle %llu s: %llu admitted", (ull)rate,
			     (ull)burst, (ull)(true_now / NSEC_PER_SEC), (ull)got);
	}
	for (i = 7; i >= 0; i--)
		model_free_cg(vcpu[i]);
	model_free_cg(vm);
	model_free_cg(p);
	model_free_cg(root);
}

/* D: bus locks from V vCPUs that wait out their stalls. */
static void prop_debt(void)
{
	struct node nodes[3];
	u64 deadline[16] = { 0 }, last[16] = { 0 };
	int v, nv = rnd_in(1, 16), step;
	u64 max_lag = rnd_in(0, 50 * NSEC_PER_MSEC);

	build(nodes, 3, true);
	set_limit(&nodes[1], rnd_rate() % 20000 + 1, rnd_in(1, 30));
	if (rnd() % 2)
		set_limit(&nodes[2], rnd_rate() % 20000 + 1, rnd_in(1, 30));
	true_now += rnd_gap();
	for (step = 0; step < 4000; step++) {
		v = rnd() % nv;
		true_now += rnd() % 200000;
		if (rnd() % 400 == 0)
			true_now += rnd_gap();
		if (deadline[v] > true_now)
			continue;
		read_lagging(max_lag);
		/*
		 * A vCPU's own readings do not go back, nor come before the
		 * end of the stall it slept through.
		 */
		shim_now = max(shim_now, max(last[v], deadline[v]));
		last[v] = shim_now;
		deadline[v] = rate_cg_charge_debt(nodes[2].rcg);
		if (deadline[v] == U64_MAX)
			FAIL("finite limits stalled for ever");
		if (deadline[v] && deadline[v] <= shim_now)
			FAIL("deadline before the charge");
		record(nodes, 2, shim_now);
	}
	end_segments(nodes, 3, nv);
	destroy(nodes, 3);
}

/* The published share of @rcg: nanoseconds per event and depth in events. */
static void share_of(struct rate_cg *rcg, u64 *cost, u64 *depth)
{
	struct rate_params *p = rcg->share_p;

	if (!p)
		FAIL("no share where one is expected");
	*cost = p->cost;
	*depth = p->depth / p->cost;
}

/*
 * The reference a polite cgroup paces itself with: a GCRA at its share's
 * rate and depth. It sends only what conforms.
 */
struct pacer {
	u64 tat, cost, depth;
};

static bool pacer_conforms(struct pacer *pc, u64 now)
{
	u64 next = max(pc->tat, now) + pc->cost;

	if (next - now > pc->depth * pc->cost)
		return false;
	pc->tat = next;
	return true;
}

/*
 * F: a polite cgroup within its share beside greedy siblings. P has a
 * random rate and a BURST at least 2n + 1 at every level; the polite child
 * sits directly under P or under a mid level with greedy siblings of its
 * own; greedy siblings retry every few microseconds with lagging
 * readings. The polite child paces itself at its share and sends bursts
 * as deep as that allows, after random idle gaps. (Weights rewritten
 * mid-run are test G's: a child paced at its share's rate.)
 */
static void prop_fair_polite(u64 *sent_total)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg *g[6], *mid = NULL, *polite, *under;
	int ng = rnd_in(1, 5), i, step, nested = rnd() % 2, k, n_mid = 1, n_top;
	u64 rate = rnd_in(2, 2000), burst, cost, depth;
	u64 max_lag = rnd_in(0, 20 * NSEC_PER_USEC);
	u64 gw;
	struct pacer pc = { 0 };

	under = p;
	if (nested) {
		mid = model_new_cg(p);
		under = mid;
	}
	polite = model_new_cg(under);
	n_top = 1;
	for (i = 0; i < ng; i++) {
		bool low = nested && rnd() % 2;

		g[i] = model_new_cg(low ? under : p);
		if (low)
			n_mid++;
		else
			n_top++;
		gw = rnd_in(1, 1000);
		model_write_weight(g[i], gw);
	}
	model_write_weight(polite, rnd_in(50, 1000));
	/*
	 * Below an unlimited level its children share its guarantee first
	 * come, first served: a mid level with greedy children has a limit.
	 */
	if (nested && n_mid > 1)
		write_limit(mid, rnd_in(1, 2 * rate), rnd_in(2 * n_mid + 1, 2 * n_mid + 20));
	burst = rnd_in(2 * n_top + 1, 2 * n_top + 40);
	write_limit(p, rate, burst);
	/* The mid level's depth must fit its children's too. */
	while (nested && n_mid > 1) {
		share_of(mid, &cost, &depth);
		if (depth >= 2 * (u64)n_mid + 1)
			break;
		burst += 8;
		write_limit(p, rate, burst);
	}
	share_of(polite, &pc.cost, &pc.depth);

	/* A setting written while running takes effect at once, its fill kept. */
	true_now += rnd_gap();
	for (step = 0; step < 20000; step++) {
		true_now += rnd_in(1, 5 * NSEC_PER_USEC);
		if (rnd() % 4000 == 0)
			true_now += rnd_gap();
		for (i = 0; i < ng; i++) {
			read_lagging(max_lag);
			rate_cg_try_charge(g[i]);
		}
		shim_now = true_now;
		if (rnd() % 20)
			continue;
		for (k = rnd_in(1, pc.depth); k > 0; k--) {
			if (!pacer_conforms(&pc, true_now))
				break;
			(*sent_total)++;
			if (!rate_cg_try_charge(polite))
				FAIL("polite refused: rate %llu burst %llu, %d greedy, nested %d (%d below), paced %llu ns x %llu, step %d",
				     (ull)rate, (ull)burst, ng, nested, n_mid,
				     (ull)pc.cost, (ull)pc.depth, step);
		}
	}
	for (i = 0; i < ng; i++)
		model_free_cg(g[i]);
	model_free_cg(polite);
	if (mid)
		model_free_cg(mid);
	model_free_cg(p);
	model_free_cg(root);
}

/*
 * F, continuous demand: greedy children of random weights under one
 * parent each get at least their share rate, within 5% over 10 s.
 */
static void prop_fair_rate(double *worst)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg *c[6];
	u64 w[6], wsum = 0, got[6] = { 0 }, rate = rnd_in(10, 5000), t0;
	int n = rnd_in(2, 6), i, turn = 0;
	double share, ratio;

	for (i = 0; i < n; i++) {
		c[i] = model_new_cg(p);
		w[i] = rnd_in(1, 10000);
		wsum += w[i];
		model_write_weight(c[i], w[i]);
	}
	write_limit(p, rate, rnd_in(2 * n + 1, 4 * n + 20));
	true_now += rnd_gap();
	t0 = true_now;
	while (true_now - t0 < 10 * NSEC_PER_SEC) {
		true_now += rnd_in(1, NSEC_PER_SEC / rate / 4 + 1);
		shim_now = true_now;
		turn++;
		for (i = 0; i < n; i++)
			got[(i + turn) % n] += rate_cg_try_charge(c[(i + turn) % n]);
	}
	for (i = 0; i < n; i++) {
		share = (double)rate * w[i] / wsum * 10;
		ratio = (got[i] + 1.0) / share;
		if (ratio < *worst)
			*worst = ratio;
		checks++;
		if (share >= 20 && ratio < 0.95)
			FAIL("child of weight %llu/%llu got %llu of a share of %.1f in 10 s at %llu/s",
			     (ull)w[i], (ull)wsum, (ull)got[i], share, (ull)rate);
	}
	for (i = 0; i < n; i++)
		model_free_cg(c[i]);
	model_free_cg(p);
	model_free_cg(root);
}

/* G: a setting rewritten between a charge and its rollback. */
static struct rate_cg *g_rewrite;
static int g_toggle;

static void rewrite_mid_charge(void)
{
	void (*hook)(void) = shim_cmpxchg_hook;

	shim_cmpxchg_hook = NULL;
	write_limit(g_rewrite, g_toggle++ % 2 ? 1000 : 1001, 5);
	shim_cmpxchg_hook = hook;
}

static void prop_rollback(void)
{
	struct node nodes[3];
	int step;

	build(nodes, 3, true);
	set_limit(&nodes[1], 1, 1);
	set_limit(&nodes[2], 1000, 5);
	g_rewrite = nodes[2].rcg;
	true_now += rnd_gap();
	for (step = 0; step < 2000; step++) {
		true_now += rnd_in(1, 3 * NSEC_PER_MSEC);
		shim_now = true_now;
		shim_cmpxchg_hook = rnd() % 2 ? rewrite_mid_charge : NULL;
		if (rate_cg_try_charge(nodes[2].rcg))
			record(nodes, 2, shim_now);
		shim_cmpxchg_hook = NULL;
	}
	/* Level 2's own rate changes under it; level 1 is the bound. */
	nodes[2].rate = U64_MAX;
	end_segments(nodes, 3, 0);
	destroy(nodes, 3);
}

/*
 * G: a child paced exactly at its share keeps being admitted while its
 * sibling's weight toggles every 10-100 ms and its parent's rate every
 * 50 ms beside a greedy sibling: the partial fill carries over.
 */
static void prop_partial_fill(void)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg *a = model_new_cg(p), *b = model_new_cg(p);
	u64 next_toggle, t0, cost, depth, next = 0;
	int toggles = 0, sent = 0;

	write_limit(p, 100, 10);
	model_write_weight(b, 300);
	share_of(a, &cost, &depth);
	model_write_weight(b, 100);
	true_now += rnd_gap();
	t0 = next_toggle = true_now;
	while (true_now - t0 < 30 * NSEC_PER_SEC) {
		true_now += rnd_in(1, 20 * NSEC_PER_USEC);
		shim_now = true_now;
		rate_cg_try_charge(b);
		if (true_now >= next_toggle) {
			if (toggles % 7 == 6)
				write_limit(p, toggles % 2 ? 100 : 101, 10);
			else
				model_write_weight(b, toggles % 2 ? 300 : 100);
			toggles++;
			next_toggle = true_now + rnd_in(10, 100) * NSEC_PER_MSEC;
		}
		if (true_now >= next) {
			sent++;
			if (!rate_cg_try_charge(a))
				FAIL("paced child refused after %d republications", toggles);
			next = true_now + cost;
		}
	}
	checks += sent;
	model_free_cg(b);
	model_free_cg(a);
	model_free_cg(p);
	model_free_cg(root);
}

/*
 * H: a boot storm. A greedy VM keeps a "10 50" parent congested; 20 new
 * VMs are created one every 100-500 ms and each sends its first request
 * once it has booted (a launch takes seconds; 1-3 s here). Every first
 * request is admitted.
 */
static void prop_boot_storm(u64 *worst_wait)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg *greedy = model_new_cg(p), *vm[20];
	u64 born[20], boot[20];
	int made = 0, done = 0, i;
	u64 next_make;

	write_limit(p, 10, 50);
	true_now += rnd_gap();
	next_make = true_now + NSEC_PER_SEC;
	while (done < 20) {
		true_now += rnd_in(1, 20 * NSEC_PER_USEC);
		shim_now = true_now;
		rate_cg_try_charge(greedy);
		if (made < 20 && true_now >= next_make) {
			vm[made] = model_new_cg(p);
			born[made] = true_now;
			boot[made] = true_now + rnd_in(1000, 3000) * NSEC_PER_MSEC;
			made++;
			next_make = true_now + rnd_in(100, 500) * NSEC_PER_MSEC;
		}
		for (i = done; i < made; i++) {
			if (boot[i] > true_now || i != done)
				continue;
			if (!rate_cg_try_charge(vm[i]))
				FAIL("new VM %d refused its first request, %llu ms after it appeared",
				     i, (ull)((true_now - born[i]) / NSEC_PER_MSEC));
			*worst_wait = max(*worst_wait, true_now - born[i]);
			done++;
		}
	}
	for (i = 19; i >= 0; i--)
		model_free_cg(vm[i]);
	model_free_cg(greedy);
	model_free_cg(p);
	model_free_cg(root);
}

/* E: the maxima, RATE 0, and RATE 0 -> N, after 100 years of uptime. */
static void prop_extremes(void)
{
	struct node nodes[3];
	u64 got;

	build(nodes, 3, true);
	true_now = 100 * YEAR_NS + rnd_gap();
	shim_now = true_now;
	set_limit(&nodes[1], RATE_CG_MAX_RATE, RATE_CG_MAX_BURST);
	got = drain(nodes[2].rcg, 2 * RATE_CG_MAX_BURST);
	if (got != RATE_CG_MAX_BURST)
		FAIL("at the maxima a full bucket admitted %llu", (ull)got);
	true_now += NSEC_PER_SEC;
	shim_now = true_now;
	got = drain(nodes[2].rcg, 2 * RATE_CG_MAX_BURST);
	if (got != RATE_CG_MAX_RATE)
		FAIL("at the maxima one second refilled %llu", (ull)got);
	set_limit(&nodes[1], 0, 1);
	if (rate_cg_try_charge(nodes[2].rcg))
		FAIL("RATE 0 admitted");
	if (rate_cg_charge_debt(nodes[2].rcg) != U64_MAX)
		FAIL("RATE 0 gave a finite stall");
	if (rate_cg_conform_ns(nodes[2].rcg) != U64_MAX)
		FAIL("RATE 0 conforms some day");
	model_write_limit(nodes[2].rcg, "5 5");
	set_limit(&nodes[1], 10, 4);
	got = drain(nodes[2].rcg, 100);
	if (got != 4)
		FAIL("RATE 0 -> \"10 4\" admitted %llu at once, not 4", (ull)got);
	destroy(nodes, 3);
}

int main(int argc, char **argv)
{
	u64 sent = 0, storm_wait = 0;
	double worst_rate = 1e9;
	int rounds, r;

	seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	rounds = argc > 2 ? atoi(argv[2]) : 100;
	rnd_state = seed * 2654435761ULL + 1;
	true_now = NSEC_PER_SEC + rnd() % (YEAR_NS);
	for (r = 0; r < rounds; r++) {
		prop_hierarchy(r % 2);
		prop_chain_lower();
		prop_idle();
		prop_debt();
		prop_fair_polite(&sent);
		if (r % 4 == 0)
			prop_fair_rate(&worst_rate);
		if (r % 10 == 0) {
			prop_rollback();
			prop_partial_fill();
			prop_boot_storm(&storm_wait);
		}
		prop_extremes();
	}
	printf("prop: %d rounds, %lu bound checks, all held (seed %llu)\n",
	       rounds, checks, (ull)seed);
	printf("prop: polite requests within their share beside greedy siblings: %llu sent, 0 refused\n",
	       (ull)sent);
	printf("prop: worst share rate got under continuous demand: %.3f of the share\n",
	       worst_rate);
	printf("prop: boot storm: every first request admitted, the latest %.2f s after its cgroup appeared\n",
	       storm_wait / 1e9);
	printf("prop: clock at the end: %.1f years of uptime\n",
	       (double)true_now / YEAR_NS);
	return 0;
}
