// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h, beside the base tree's lib/ratelimit.c (the mechanism of
 * the per-VM seed patch), compiled from the unpacked base the same way.
 *
 *   bench                 the timing table (ns per charge)
 *   bench one WHAT DEPTH LIMITED N
 *                         N charges of one kind, for callgrind:
 *                         WHAT is snp, buslock or ratelimit
 *
 * Timings are wall-clock on this host and vary with it; callgrind.sh
 * turns "one" runs into instruction counts, which do not.
 */
#include "kernel_shim.h"
#include "rate.h"
#include <unistd.h>

#define MAX_DEPTH	8

static struct rate_cg *chain[MAX_DEPTH + 1];

static void set_limit(struct rate_cg *rcg, const char *setting)
{
	if (model_write_limit(rcg, setting) < 0)
		abort();
}

/*
 * chain[0] is the root; chain[depth] the charged cgroup. @limited: 0 no
 * limit, 1 every level at 10^6/s (every charge admitted, through every
 * level's limit and share), 2 the same but the top level at "1 1", so
 * that every charge but the first is refused at the top and rolled back
 * below (the worst refusal).
 */
static struct rate_cg *build_chain(int depth, int limited)
{
	int i;

	for (i = 0; i <= depth; i++)
		chain[i] = model_new_cg(i ? chain[i - 1] : NULL);
	for (i = 1; i <= depth && limited; i++)
		set_limit(chain[i], limited == 2 && i == 1 ? "1 1" : "1000000 1000000");
	return chain[depth];
}

static void free_chain(int depth)
{
	int i;

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
 * One charge per microsecond of fake time: at 10^6/s every limited level
 * admits each one, so this times the admitting path.
 */
static u64 run(const char *what, struct rate_cg *leaf, long n)
{
	struct ratelimit_state rs = { .interval = 1, .burst = 1000000000 };
	u64 sum = 0;
	long i;

	for (i = 0; i < n; i++) {
		shim_now += 1000;
		if (!strcmp(what, "snp"))
			sum += rate_cg_try_charge(leaf);
		else if (!strcmp(what, "buslock"))
			sum += rate_cg_charge_debt(leaf);
		else
			sum += ___ratelimit(&rs, "bench");
	}
	return sum;
}

static double time_per_op(const char *what, int depth, int limited)
{
	struct rate_cg *leaf = build_chain(depth, limited);
	long n = 2000000;
	double t0, t;

	run(what, leaf, n / 10);	/* warm up */
	t0 = now_ns();
	run(what, leaf, n);
	t = (now_ns() - t0) / n;
	free_chain(depth);
	return t;
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

	shim_cpu = a->cpu;
	t0 = now_ns();
	for (i = 0; i < a->n; i++)
		a->admitted += a->rs ? ___ratelimit(a->rs, "bench") :
				       rate_cg_try_charge(a->leaf);
	a->ns = (now_ns() - t0) / a->n;
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

	shim_now = 1000 * NSEC_PER_SEC;
	if (argc == 6 && !strcmp(argv[1], "one")) {
		depth = atoi(argv[3]);
		run(argv[2], build_chain(depth, atoi(argv[4])), atol(argv[5]));
		return 0;
	}

	printf("ns per charge, one thread, fake clock:\n");
	printf("%6s %14s %14s %14s %16s\n", "depth", "snp, no limit", "snp, limited",
	       "snp, refused", "buslock, limited");
	for (depth = 1; depth <= MAX_DEPTH; depth++)
		printf("%6d %14.1f %14.1f %14.1f %16.1f\n", depth,
		       time_per_op("snp", depth, 0),
		       time_per_op("snp", depth, 1),
		       time_per_op("snp", depth, 2),
		       time_per_op("buslock", depth, 1));
	printf("___ratelimit (base lib/ratelimit.c), one state: %.1f ns\n",
	       time_per_op("ratelimit", 1, false));
	threads_table(min(nproc, SHIM_NR_CPUS));
	return 0;
}
