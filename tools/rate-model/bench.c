// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h, beside the base tree's lib/ratelimit.c (the mechanism of
 * the per-VM seed patch), compiled from the unpacked base the same way.
 *
 *   bench                 the timing tables: ns per charge of each kind
 *                         at depths 1 to 8, threads on one parent, and
 *                         mkdir/rmdir under a limited parent
 *   bench one KIND DEPTH N
 *                         N charges of one kind, for callgrind: KIND is
 *                         one of kind_name[] below, or ratelimit
 *
 * Timings are wall-clock on this host and vary with it; callgrind.sh
 * turns "one" runs into instruction counts, which do not.
 */
#include "kernel_shim.h"
#include "rate.h"
#include <unistd.h>

#define MAX_DEPTH	8

static struct rate_cg *chain[MAX_DEPTH + 1];
static struct rate_cg *sibling;	/* greedy, beside chain[1] */

static void set_limit(struct rate_cg *rcg, const char *setting)
{
	if (model_write_limit(rcg, setting) < 0)
		abort();
}

/* The controllers' entry points, as snp.c and buslock.c have them. */
noinline bool snp_charge(struct rate_cg *leaf)
{
	if (!static_branch_unlikely(&model_limited)) {
		rate_cg_count(leaf);
		return true;
	}
	return rate_cg_try_charge(leaf);
}

noinline u64 buslock_charge(struct rate_cg *leaf)
{
	if (!static_branch_unlikely(&model_limited)) {
		rate_cg_count(leaf);
		return 0;
	}
	return rate_cg_charge_debt(leaf);
}

/*
 * The kinds of charge measured, on a chain: chain[0] is the root,
 * chain[depth] the charged cgroup.
 */
enum kind {
	NO_LIMIT,	/* nothing limited on the machine: the static key */
	LIMITED,	/* every level at 10^6/s: admitted through the limits */
	SHARE_ADMIT,	/* chain[1] at "1000 20", a greedy child of it beside
			 * chain[2] keeping it congested: admitted within the
			 * charger's share (depth 2 and more) */
	SHARE_REFUSE,	/* the same, the charger's share used up: refused */
	STALL,		/* every level at "1000 20", a bus lock each 10 us:
			 * every one stalls */
	NR_KINDS
};

static const char *const kind_name[NR_KINDS] = {
	"no limit", "limited", "share, admitted", "share, refused", "stall",
};

static struct rate_cg *build_chain(int depth, enum kind kind)
{
	int i;

	for (i = 0; i <= depth; i++)
		chain[i] = model_new_cg(i ? chain[i - 1] : NULL);
	sibling = NULL;
	switch (kind) {
	case NO_LIMIT:
		break;
	case LIMITED:
		for (i = 1; i <= depth; i++)
			set_limit(chain[i], "1000000 1000000");
		break;
	case SHARE_ADMIT:
	case SHARE_REFUSE:
		sibling = model_new_cg(chain[1]);
		set_limit(chain[1], "1000 20");
		break;
	case STALL:
		for (i = 1; i <= depth; i++)
			set_limit(chain[i], "1000 20");
		break;
	default:
		break;
	}
	return chain[depth];
}

static void free_chain(int depth)
{
	int i;

	if (sibling)
		model_free_cg(sibling);
	for (i = depth; i >= 0; i--)
		model_free_cg(chain[i]);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * @n charges of @kind on @leaf, the fake clock moving so that each is of
 * its kind: at 10^6/s one per microsecond is admitted; under a congested
 * parent a charge within the share comes once per share interval, the
 * greedy sibling filling the parent in between (not measured).
 */
static u64 run(enum kind kind, struct rate_cg *leaf, long n)
{
	u64 sum = 0;
	long i;

	for (i = 0; i < n; i++) {
		switch (kind) {
		case NO_LIMIT:
		case LIMITED:
			shim_now += 1000;
			sum += snp_charge(leaf);
			break;
		case SHARE_ADMIT:
		case SHARE_REFUSE:
			/* A share of 1000/s, less 1/64, halved: 2031250 ns. */
			shim_now += 2031250;
			while (rate_cg_try_charge(sibling))
				;
			if (kind == SHARE_REFUSE)
				rate_cg_try_charge(leaf);
			sum += snp_charge(leaf);
			break;
		case STALL:
			shim_now += 10 * NSEC_PER_USEC;
			sum += buslock_charge(leaf) != 0;
			break;
		default:
			break;
		}
	}
	return sum;
}

static u64 run_ratelimit(long n)
{
	struct ratelimit_state rs = { .interval = 1, .burst = 1000000000 };
	u64 sum = 0;
	long i;

	for (i = 0; i < n; i++) {
		shim_now += 1000;
		sum += ___ratelimit(&rs, "bench");
	}
	return sum;
}

static bool share_kind(enum kind kind)
{
	return kind == SHARE_ADMIT || kind == SHARE_REFUSE;
}

static double time_per_op(enum kind kind, int depth)
{
	long n = share_kind(kind) ? 200000 : 2000000;
	struct rate_cg *leaf;
	double t0, t;

	if (share_kind(kind) && depth < 2)
		return 0;
	leaf = build_chain(depth, kind);
	run(kind, leaf, n / 10);	/* warm up */
	t0 = now_ns();
	run(kind, leaf, n);
	t = (now_ns() - t0) / n;
	free_chain(depth);
	return t;
}

/*
 * mkdir and rmdir of @n cgroups under a limited parent, as cgroupfs does
 * them (css online and offline): each recomputes the parent's shares.
 */
static void mkdir_table(int n)
{
	struct rate_cg *root = model_new_cg(NULL), *p = model_new_cg(root);
	struct rate_cg **c = calloc(n, sizeof(*c));
	double t0, t1, t2;
	int i;

	set_limit(p, "10 10");
	t0 = now_ns();
	for (i = 0; i < n; i++)
		c[i] = model_new_cg(p);
	t1 = now_ns();
	for (i = n - 1; i >= 0; i--)
		model_free_cg(c[i]);
	t2 = now_ns();
	printf("\n%d mkdirs under a limited parent: %.0f/s, then %d rmdirs: %.0f/s\n",
	       n, n / ((t1 - t0) / 1e9), n, n / ((t2 - t1) / 1e9));
	free(c);
	model_free_cg(p);
	model_free_cg(root);
}

struct thread_arg {
	int cpu;
	struct rate_cg *leaf;
	struct ratelimit_state *rs;
	long n;
	double ns;
	long admitted;
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;
	double t0;
	long i;

	shim_set_cpu(a->cpu);
	__atomic_fetch_add(&shim_readers, 1, __ATOMIC_ACQ_REL);
	t0 = now_ns();
	for (i = 0; i < a->n; i++)
		a->admitted += a->rs ? ___ratelimit(a->rs, "bench") :
				       snp_charge(a->leaf);
	a->ns = (now_ns() - t0) / a->n;
	__atomic_fetch_sub(&shim_readers, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

/*
 * Threads, each with its own child cgroup, charging one limited parent
 * on the real clock: the parent's bucket is the one shared cache line.
 */
static void threads_table(int nthreads_max)
{
	struct ratelimit_state rs = { .interval = 1, .burst = 1000000000 };
	int nt, i;

	printf("\nthreads charging one shared limited parent (real clock), ns per charge:\n");
	printf("%8s %14s %14s %16s\n", "threads", "snp try", "___ratelimit", "snp admitted/s");
	shim_real_clock = true;
	for (nt = 1; nt <= nthreads_max; nt++) {
		struct rate_cg *root = model_new_cg(NULL);
		struct rate_cg *parent = model_new_cg(root);
		struct thread_arg args[SHIM_NR_CPUS];
		pthread_t tid[SHIM_NR_CPUS];
		double snp = 0, rl = 0, t0, secs;
		long admitted = 0;

		set_limit(parent, "1000000 1000");
		t0 = now_ns();
		for (i = 0; i < nt; i++) {
			struct rate_cg *child = model_new_cg(parent);

			args[i] = (struct thread_arg){ .cpu = i, .leaf = child, .n = 1000000 };
			pthread_create(&tid[i], NULL, thread_fn, &args[i]);
		}
		for (i = 0; i < nt; i++) {
			pthread_join(tid[i], NULL);
			snp += args[i].ns / nt;
			admitted += args[i].admitted;
			model_free_cg(args[i].leaf);
		}
		secs = (now_ns() - t0) / 1e9;
		for (i = 0; i < nt; i++) {
			args[i] = (struct thread_arg){ .cpu = i, .rs = &rs, .n = 1000000 };
			pthread_create(&tid[i], NULL, thread_fn, &args[i]);
		}
		for (i = 0; i < nt; i++) {
			pthread_join(tid[i], NULL);
			rl += args[i].ns / nt;
		}
		printf("%8d %14.1f %14.1f %16.0f\n", nt, snp, rl, admitted / secs);
		model_free_cg(parent);
		model_free_cg(root);
	}
	shim_real_clock = false;
}

int main(int argc, char **argv)
{
	int depth, nproc = sysconf(_SC_NPROCESSORS_ONLN);
	enum kind k;

	shim_now = 1000 * NSEC_PER_SEC;
	if (argc == 5 && !strcmp(argv[1], "one")) {
		depth = atoi(argv[3]);
		if (!strcmp(argv[2], "ratelimit")) {
			run_ratelimit(atol(argv[4]));
			return 0;
		}
		for (k = 0; k < NR_KINDS; k++)
			if (!strcmp(argv[2], kind_name[k]) &&
			    (!share_kind(k) || depth >= 2))
				fprintf(stderr, "bench: %s, depth %d: %llu of %ld admitted (or stalled)\n",
					kind_name[k], depth,
					(unsigned long long)run(k, build_chain(depth, k), atol(argv[4])),
					atol(argv[4]));
		return 0;
	}

	printf("ns per charge, one thread, fake clock:\n%6s", "depth");
	for (k = 0; k < NR_KINDS; k++)
		printf(" %16s", kind_name[k]);
	printf("\n");
	for (depth = 1; depth <= MAX_DEPTH; depth++) {
		printf("%6d", depth);
		for (k = 0; k < NR_KINDS; k++)
			printf(" %16.1f", time_per_op(k, depth));
		printf("\n");
	}
	{
		double t0 = now_ns();

		run_ratelimit(2000000);
		printf("___ratelimit (base lib/ratelimit.c), one state: %.1f ns\n",
		       (now_ns() - t0) / 2000000);
	}
	threads_table(min(nproc, SHIM_NR_CPUS));
	mkdir_table(8000);
	return 0;
}
