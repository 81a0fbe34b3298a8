// SPDX-License-Identifier: GPL-2.0
/*
 * The seed experiment, simulated with the real core (kernel/cgroup/rate.c
 * through kernel_shim.h) on a virtual clock.
 *
 * The AMD-SP is one FIFO server: every SEV command waits for the ones
 * before it (the global sev_cmd_mutex). A victim VM launches again and
 * again: LAUNCH_START, LAUNCH_UPDATE_COMMANDS x LAUNCH_UPDATE, then
 * LAUNCH_FINISH, each issued when the previous one completes. N
 * antagonist VMs send guest requests in a tight loop: the next as soon as
 * the previous completes. A polite VM sends one guest request a minute.
 * Every guest runs the Linux guest driver: a BUSY reply makes it retry
 * after 2 s, and 60 s of BUSY wipes its VMPCK.
 *
 * Policies: (a) no limit; (b) the seed's per-VM limit of 1/s; (c) the same
 * per-VM limits under a parent limit sized to the device; (d) as (c), but
 * the antagonists run a modified driver that retries BUSY after 10 ms.
 *
 * The victim launches back to back, so the AMD-SP is always busy; "PSP
 * req" is the share of its time that went to guest requests.
 *
 * Then fair sharing under attack: see simulate_fair().
 *
 * Output: tables on stdout and, with -o FILE, the data for the plot;
 * with -f, only the fair-sharing table.
 */
#include "kernel_shim.h"
#include "rate.h"

/* Command costs on the AMD-SP, in ns, and their sources. */
/* Attestation report: published figure, ~8 ms per request. */
#define COST_GUEST_REQ		(8 * NSEC_PER_MSEC)
/* Assumptions: launch commands are not published; 1 ms per update. */
#define COST_LAUNCH_START	(2 * NSEC_PER_MSEC)
#define COST_LAUNCH_UPDATE	(1 * NSEC_PER_MSEC)
#define COST_LAUNCH_FINISH	(2 * NSEC_PER_MSEC)
#define LAUNCH_UPDATE_COMMANDS	48	/* "dozens": assumption */
/* Linux guest driver (drivers/virt/coco/sev-guest): */
#define GUEST_RETRY_NS		(2 * NSEC_PER_SEC)	/* SNP_REQ_RETRY_DELAY */
#define GUEST_GIVE_UP_NS	(60 * NSEC_PER_SEC)	/* SNP_REQ_MAX_RETRY_DURATION */
#define POLITE_PERIOD_NS	(60 * NSEC_PER_SEC)
#define AGGRESSIVE_RETRY_NS	(10 * NSEC_PER_MSEC)
/* The device's guest-request capacity is 125/s; leave a fifth to launches. */
#define PARENT_LIMIT		"100 100"
#define PER_VM_LIMIT		"1 1"
#define SIM_NS			(1200 * NSEC_PER_SEC)

enum kind { ANTAGONIST, POLITE, VICTIM };
enum ev { EV_ISSUE, EV_DONE };

struct vm {
	enum kind kind;
	struct rate_cg *cg;
	u64 first_try;		/* polite: when the current request started */
	int launch_step;	/* victim: commands done in this launch */
	u64 launch_start;
};

struct event {
	u64 t;
	enum ev ev;
	int vm;
};

/* A binary heap of events ordered by time. */
static struct event *heap;
static int heap_n, heap_cap;

static void push(u64 t, enum ev ev, int vm)
{
	int i = heap_n++;

	if (heap_n > heap_cap) {
		heap_cap = heap_cap ? 2 * heap_cap : 1024;
		heap = realloc(heap, heap_cap * sizeof(*heap));
	}
	while (i && heap[(i - 1) / 2].t > t) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = (struct event){ t, ev, vm };
}

static struct event pop(void)
{
	struct event top = heap[0], last = heap[--heap_n];
	int i = 0, c;

	while ((c = 2 * i + 1) < heap_n) {
		if (c + 1 < heap_n && heap[c + 1].t < heap[c].t)
			c++;
		if (last.t <= heap[c].t)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
	return top;
}

/* The AMD-SP: a FIFO server; returns the completion time of a command. */
static u64 psp_free_at, psp_busy, psp_guest;

static u64 psp_submit(u64 now, u64 cost)
{
	u64 start = max(now, psp_free_at);

	psp_free_at = start + cost;
	psp_busy += cost;
	return psp_free_at;
}

static void set_limit(struct rate_cg *rcg, const char *setting)
{
	if (model_write_limit(rcg, setting) < 0)
		abort();
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double launch_mean_ms, launch_p99_ms, psp_util;
	double polite_wait_mean_s, polite_wait_max_s;
	int polite_requests, polite_wipes, launches;
};

static u64 launch_cost(int step)
{
	if (step == 0)
		return COST_LAUNCH_START;
	return step <= LAUNCH_UPDATE_COMMANDS ? COST_LAUNCH_UPDATE : COST_LAUNCH_FINISH;
}

static struct result simulate(int n, char policy)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	int nvms = n + 2, i, launches = 0, polite_done = 0, wipes = 0;
	struct vm *vms = calloc(nvms, sizeof(*vms));
	u64 *launch_ns = calloc(SIM_NS / NSEC_PER_MSEC, sizeof(u64));
	double polite_wait = 0, polite_max = 0;
	struct result r = { 0 };

	heap_n = 0;
	psp_free_at = psp_busy = psp_guest = 0;
	shim_now = NSEC_PER_SEC;
	if (policy == 'c' || policy == 'd')
		set_limit(parent, PARENT_LIMIT);
	for (i = 0; i < nvms; i++) {
		vms[i].kind = i == 0 ? VICTIM : i == 1 ? POLITE : ANTAGONIST;
		vms[i].cg = model_new_cg(parent);
		if (policy != 'a' && vms[i].kind != VICTIM)
			set_limit(vms[i].cg, PER_VM_LIMIT);
		/* Antagonists start spread over the first second. */
		push(shim_now + (vms[i].kind == ANTAGONIST ? (u64)i * NSEC_PER_SEC / nvms : 0),
		     EV_ISSUE, i);
	}

	while (heap_n) {
		struct event e = pop();
		struct vm *vm = &vms[e.vm];

		if (e.t >= SIM_NS + NSEC_PER_SEC)
			break;
		shim_now = e.t;
		if (vm->kind == VICTIM) {
			if (e.ev == EV_ISSUE) {
				vm->launch_step = 0;
				vm->launch_start = e.t;
			} else if (++vm->launch_step > LAUNCH_UPDATE_COMMANDS + 1) {
				launch_ns[launches++] = e.t - vm->launch_start;
				vm->launch_step = 0;
				vm->launch_start = e.t;
			}
			push(psp_submit(e.t, launch_cost(vm->launch_step)), EV_DONE, e.vm);
			continue;
		}
		if (e.ev == EV_DONE) {
			if (vm->kind == POLITE) {
				double w = (e.t - vm->first_try) / 1e9;

				polite_wait += w;
				polite_max = max(polite_max, w);
				polite_done++;
				push(vm->first_try + POLITE_PERIOD_NS, EV_ISSUE, e.vm);
				vm->first_try = 0;
			} else {
				push(e.t, EV_ISSUE, e.vm);	/* tight loop */
			}
			continue;
		}
		/* EV_ISSUE: a guest request reaches KVM and is charged. */
		if (vm->kind == POLITE && !vm->first_try)
			vm->first_try = e.t;
		if (rate_cg_try_charge(vm->cg)) {
			psp_guest += COST_GUEST_REQ;
			push(psp_submit(e.t, COST_GUEST_REQ), EV_DONE, e.vm);
			continue;
		}
		/* BUSY: the Linux guest driver retries in 2 s, or gives up. */
		if (vm->kind == POLITE && e.t + GUEST_RETRY_NS - vm->first_try > GUEST_GIVE_UP_NS) {
			wipes++;
			push(vm->first_try + POLITE_PERIOD_NS, EV_ISSUE, e.vm);
			vm->first_try = 0;
			continue;
		}
		push(e.t + (policy == 'd' && vm->kind == ANTAGONIST ?
			    AGGRESSIVE_RETRY_NS : GUEST_RETRY_NS), EV_ISSUE, e.vm);
	}

	qsort(launch_ns, launches, sizeof(u64), cmp_u64);
	for (i = 0; i < launches; i++)
		r.launch_mean_ms += launch_ns[i] / 1e6 / launches;
	r.launch_p99_ms = launches ? launch_ns[launches * 99 / 100] / 1e6 : 0;
	r.launches = launches;
	r.psp_util = psp_busy ? (double)psp_guest / psp_busy : 0;
	r.polite_requests = polite_done + wipes;
	r.polite_wipes = wipes;
	r.polite_wait_mean_s = polite_done ? polite_wait / polite_done : 0;
	r.polite_wait_max_s = polite_max;

	for (i = 0; i < nvms; i++)
		model_free_cg(vms[i].cg);
	model_free_cg(parent);
	model_free_cg(root);
	free(vms);
	free(launch_ns);
	return r;
}

/*
 * Fair sharing under attack: a parent "100 100" and no per-VM limit; N
 * antagonists run a modified (non-Linux) driver that re-sends a refused
 * request 5-20 us later, and a Linux guest sends one request a minute
 * (retry 2 s, wipe at 60 s). Without weights all VMs are in one cgroup
 * under the parent (first come, first served); with weights each VM has
 * its own cgroup, weight 100. The polite VM's phase is random per seed.
 */
struct fair_result {
	int requests, wipes, seeds_wiped;
	double wait_max_s;
	double *waits;
	int nwaits;
};

static u64 sim_rnd_state;

static u64 sim_rnd(void)
{
	sim_rnd_state ^= sim_rnd_state << 13;
	sim_rnd_state ^= sim_rnd_state >> 7;
	sim_rnd_state ^= sim_rnd_state << 17;
	return sim_rnd_state;
}

#define FAIR_SIM_NS	(125 * NSEC_PER_SEC)

static void simulate_fair(int n, bool weights, u64 seed, struct fair_result *fr)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	struct rate_cg *shared = weights ? NULL : model_new_cg(parent);
	int nvms = n + 1, i, wipes = 0;
	struct vm *vms = calloc(nvms, sizeof(*vms));

	sim_rnd_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	heap_n = 0;
	psp_free_at = psp_busy = psp_guest = 0;
	shim_now = NSEC_PER_SEC;
	set_limit(parent, PARENT_LIMIT);
	for (i = 0; i < nvms; i++) {
		vms[i].kind = i == 0 ? POLITE : ANTAGONIST;
		vms[i].cg = weights ? model_new_cg(parent) : shared;
		push(shim_now + sim_rnd() % (i ? NSEC_PER_MSEC : POLITE_PERIOD_NS),
		     EV_ISSUE, i);
	}
	while (heap_n) {
		struct event e = pop();
		struct vm *vm = &vms[e.vm];

		if (e.t >= FAIR_SIM_NS + NSEC_PER_SEC)
			break;
		shim_now = e.t;
		if (e.ev == EV_DONE) {
			if (vm->kind == POLITE) {
				double w = (e.t - vm->first_try) / 1e9;

				fr->waits[fr->nwaits++] = w;
				fr->wait_max_s = max(fr->wait_max_s, w);
				fr->requests++;
				push(vm->first_try + POLITE_PERIOD_NS, EV_ISSUE, e.vm);
				vm->first_try = 0;
			} else {
				push(e.t, EV_ISSUE, e.vm);
			}
			continue;
		}
		if (vm->kind == POLITE && !vm->first_try)
			vm->first_try = e.t;
		if (rate_cg_try_charge(vm->cg)) {
			push(psp_submit(e.t, COST_GUEST_REQ), EV_DONE, e.vm);
			continue;
		}
		if (vm->kind == POLITE) {
			if (e.t + GUEST_RETRY_NS - vm->first_try > GUEST_GIVE_UP_NS) {
				wipes++;
				fr->requests++;
				push(vm->first_try + POLITE_PERIOD_NS, EV_ISSUE, e.vm);
				vm->first_try = 0;
			} else {
				push(e.t + GUEST_RETRY_NS, EV_ISSUE, e.vm);
			}
			continue;
		}
		push(e.t + 5 * NSEC_PER_USEC + sim_rnd() % (15 * NSEC_PER_USEC),
		     EV_ISSUE, e.vm);
	}
	fr->wipes += wipes;
	fr->seeds_wiped += !!wipes;
	if (weights)
		for (i = nvms - 1; i >= 0; i--)
			model_free_cg(vms[i].cg);
	else
		model_free_cg(shared);
	model_free_cg(parent);
	model_free_cg(root);
	free(vms);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void fair_table(FILE *data, int seeds)
{
	static const int ns[] = { 1, 4 };
	int w, i, s;

	printf("\nFair sharing: parent %s, no per-VM limits; antagonists re-send 5-20 us after BUSY;\n"
	       "polite Linux guest, one request a minute, phase random per seed (%d seeds, %llu s each)\n",
	       PARENT_LIMIT, seeds, (unsigned long long)(FAIR_SIM_NS / NSEC_PER_SEC));
	printf("%-34s %4s %10s %14s %12s %12s %12s\n", "cell", "N", "seeds", "P(seed wiped)",
	       "wiped req", "wait p50", "wait p99");
	for (w = 0; w < 2; w++)
		for (i = 0; i < 2; i++) {
			struct fair_result fr = { 0 };

			fr.waits = calloc(seeds * (FAIR_SIM_NS / POLITE_PERIOD_NS + 2),
					  sizeof(double));
			for (s = 0; s < seeds; s++)
				simulate_fair(ns[i], w, s + 1, &fr);
			qsort(fr.waits, fr.nwaits, sizeof(double), cmp_double);
			printf("%-34s %4d %10d %13.2f%% %6d/%-5d %11.3fs %11.3fs\n",
			       w ? "with weights (a cgroup per VM)" : "without (one cgroup, FCFS)",
			       ns[i], seeds, 100.0 * fr.seeds_wiped / seeds, fr.wipes,
			       fr.requests,
			       fr.nwaits ? fr.waits[fr.nwaits / 2] : 0,
			       fr.nwaits ? fr.waits[fr.nwaits * 99 / 100] : 0);
			if (data)
				fprintf(data, "# fair %c %d %f %d %d\n", w ? 'w' : 'f', ns[i],
					(double)fr.seeds_wiped / seeds, fr.wipes, fr.requests);
			fflush(stdout);
			free(fr.waits);
		}
}

int main(int argc, char **argv)
{
	static const int ns[] = { 0, 4, 16, 64, 256, 1024 };
	static const char policies[] = { 'a', 'b', 'c', 'd' };
	static const char *const names[] = {
		"(a) no limit", "(b) per-VM 1/s (seed)", "(c) per-VM 1/s + parent 100/s",
		"(d) as (c), antagonists retry BUSY after 10 ms",
	};
	FILE *data = NULL;
	int p, i;

	if (argc == 2 && !strcmp(argv[1], "-f")) {
		fair_table(NULL, 100);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "-o"))
		data = fopen(argv[2], "w");
	printf("Simulated %llu s; AMD-SP costs: guest request %llu ms, launch = start %llu ms + %d x update %llu ms + finish %llu ms\n",
	       (unsigned long long)(SIM_NS / NSEC_PER_SEC),
	       (unsigned long long)(COST_GUEST_REQ / NSEC_PER_MSEC),
	       (unsigned long long)(COST_LAUNCH_START / NSEC_PER_MSEC),
	       LAUNCH_UPDATE_COMMANDS,
	       (unsigned long long)(COST_LAUNCH_UPDATE / NSEC_PER_MSEC),
	       (unsigned long long)(COST_LAUNCH_FINISH / NSEC_PER_MSEC));
	for (p = 0; p < 4; p++) {
		printf("\n%s\n%6s %12s %12s %8s %10s %12s %12s %8s\n", names[p], "N",
		       "launch mean", "launch p99", "PSP req", "launches",
		       "polite wait", "polite max", "wipes");
		for (i = 0; i < 6; i++) {
			struct result r = simulate(ns[i], policies[p]);

			printf("%6d %10.1fms %10.1fms %7.0f%% %10d %11.2fs %11.2fs %4d/%d\n",
			       ns[i], r.launch_mean_ms, r.launch_p99_ms, 100 * r.psp_util,
			       r.launches, r.polite_wait_mean_s, r.polite_wait_max_s,
			       r.polite_wipes, r.polite_requests);
			if (data)
				fprintf(data, "%c %d %f %f %f %f %d %f\n", policies[p], ns[i],
					r.launch_mean_ms, r.launch_p99_ms, r.psp_util,
					r.polite_wait_mean_s, r.polite_wipes,
					r.polite_wait_max_s);
		}
	}
	fair_table(data, 100);
	if (data)
		fclose(data);
	return 0;
}
