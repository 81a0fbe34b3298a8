// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the snp and buslock cgroup controllers through cgroupfs, with
 * charges made by the test-only interface (CONFIG_CGROUP_RATE_DEBUG) as
 * the task whose cgroup is charged, like a vCPU thread in KVM.
 *
 * The guest these run in may be emulated and slow: every timing check
 * measures the elapsed time and allows for it, and only the bounds that
 * hold whatever the speed are checked exactly.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <linux/limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "rate_util.h"

static const char *const kinds[] = { "snp", "buslock" };

/* The limit file of a controller. */
static const char *limit_file(const char *kind)
{
	return strcmp(kind, "snp") ? "buslock.rate" : "snp.req_rate";
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A result shared with the child that charges from inside a cgroup. */
struct shared {
	const char *kind;
	unsigned int n;
	struct rate_result res;
	int ret;
};

static struct shared *shared_new(const char *kind, unsigned int n)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sh == MAP_FAILED)
		return NULL;
	memset(sh, 0, sizeof(*sh));
	sh->kind = kind;
	sh->n = n;
	return sh;
}

static int charge_fn(const char *cgroup, void *arg)
{
	struct shared *sh = arg;

	sh->ret = rate_charge(sh->kind, sh->n, &sh->res);
	return sh->ret ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Charges @n events of @kind from a child in @cg; the result in @res. */
static int charge_in(const char *cg, const char *kind, unsigned int n,
		     struct rate_result *res)
{
	struct shared *sh = shared_new(kind, n);
	int ret;

	if (!sh)
		return -1;
	ret = cg_run(cg, charge_fn, sh);
	*res = sh->res;
	munmap(sh, sizeof(*sh));
	return ret;
}

static long stat_key(const char *cg, const char *kind, const char *key)
{
	char file[32];

	snprintf(file, sizeof(file), "%s.stat", kind);
	return cg_read_key_long(cg, file, key);
}

static long events_count(const char *cg, const char *kind, bool local)
{
	char file[32];

	snprintf(file, sizeof(file), "%s.events%s", kind, local ? ".local" : "");
	return cg_read_key_long(cg, file, "throttled ");
}

/* Files and defaults; only stat on the root. */
static int test_rate_files(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_files");
	char buf[64];

	if (!cg || cg_create(cg))
		goto cleanup;
	if (cg_read_strcmp(cg, "snp.req_rate", "max\n") ||
	    cg_read_strcmp(cg, "buslock.rate", "max\n") ||
	    cg_read_strcmp(cg, "snp.weight", "100\n") ||
	    cg_read_strcmp(cg, "buslock.weight", "100\n") ||
	    cg_read_strcmp(cg, "snp.stat",
			   "requests 0\nthrottled 0\nguaranteed 0\nborrowed 0\n") ||
	    cg_read_strcmp(cg, "buslock.stat",
			   "locks 0\nthrottled 0\nguaranteed 0\nborrowed 0\ndelay_usec 0\n") ||
	    cg_read_strcmp(cg, "snp.events", "throttled 0\n") ||
	    cg_read_strcmp(cg, "snp.events.local", "throttled 0\n") ||
	    cg_read_strcmp(cg, "buslock.events", "throttled 0\n") ||
	    cg_read_strcmp(cg, "buslock.events.local", "throttled 0\n"))
		goto cleanup;
	if (cg_read_strstr(root, "snp.stat", "requests ") ||
	    cg_read_strstr(root, "buslock.stat", "locks "))
		goto cleanup;
	if (!cg_read(root, "snp.req_rate", buf, sizeof(buf)) ||
	    !cg_read(root, "snp.weight", buf, sizeof(buf)) ||
	    !cg_read(root, "buslock.rate", buf, sizeof(buf)) ||
	    !cg_read(root, "snp.events", buf, sizeof(buf)))
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

/* Accepted writes read back normalized; rejected ones change nothing. */
static int test_rate_writes(const char *root)
{
	static const struct {
		const char *in;
		int err;		/* 0, EINVAL or ERANGE */
		const char *out;	/* read back after an accepted write */
	} cases[] = {
		{ "max", 0, "max\n" },
		{ "10", 0, "10 10\n" },
		{ "10\n", 0, "10 10\n" },
		{ "0", 0, "0 1\n" },
		{ "0 4", 0, "0 4\n" },
		{ "5 20", 0, "5 20\n" },
		{ "1000000 1000000", 0, "1000000 1000000\n" },
		{ "max\n", 0, "max\n" },
		{ "", EINVAL }, { "\n", EINVAL }, { "-1", EINVAL },
		{ "+5", EINVAL }, { "0x10", EINVAL }, { "10 0", EINVAL },
		{ "10 20 30", EINVAL }, { " 10", EINVAL }, { "10 ", EINVAL },
		{ "10  20", EINVAL }, { "max 1", EINVAL }, { "MAX", EINVAL },
		{ "1.5", EINVAL }, { "10\n\n", EINVAL },
		{ "1000001", ERANGE }, { "1 1000001", ERANGE },
		{ "184467440737095516160", ERANGE },
	};
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_writes");
	char path[PATH_MAX];
	int k, i;

	if (!cg || cg_create(cg))
		goto cleanup;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		const char *file = limit_file(kinds[k]);

		snprintf(path, sizeof(path), "%s/%s", cg, file);
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			ssize_t len = strlen(cases[i].in), wr;

			if (cg_write(cg, file, "7 3"))
				goto cleanup;
			wr = write_text(path, (char *)cases[i].in, len);
			if (!cases[i].err) {
				if (wr != len ||
				    cg_read_strcmp(cg, file, cases[i].out)) {
					ksft_print_msg("%s: \"%s\" not accepted\n",
						       file, cases[i].in);
					goto cleanup;
				}
				continue;
			}
			/* An empty write never reaches the file: no error. */
			if (len && wr != -cases[i].err) {
				ksft_print_msg("%s: \"%s\" gave %zd, want %d\n",
					       file, cases[i].in, wr,
					       -cases[i].err);
				goto cleanup;
			}
			if (cg_read_strcmp(cg, file, "7 3\n")) {
				ksft_print_msg("%s: \"%s\" changed the setting\n",
					       file, cases[i].in);
				goto cleanup;
			}
		}
	}
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

/*
 * With RATE 1 and BURST 5, a quick series of SNP requests is admitted
 * exactly 5 times plus one per whole second it took; the stat and event
 * files count every one.
 */
static int test_rate_snp_burst(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_snp_burst");
	struct rate_result res;
	double t0, t;

	if (!cg || cg_create(cg) || cg_write(cg, "snp.req_rate", "1 5"))
		goto cleanup;
	t0 = now_sec();
	if (charge_in(cg, "snp", 50, &res))
		goto cleanup;
	t = now_sec() - t0;
	if (res.admitted + res.refused != 50 || res.admitted < 5 ||
	    res.admitted > 5 + (unsigned long long)t) {
		ksft_print_msg("admitted %llu refused %llu in %.2fs\n",
			       res.admitted, res.refused, t);
		goto cleanup;
	}
	if (stat_key(cg, "snp", "requests ") != res.admitted ||
	    stat_key(cg, "snp", "throttled ") != res.refused ||
	    events_count(cg, "snp", false) != res.refused ||
	    events_count(cg, "snp", true) != res.refused)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

/*
 * Requests given back because they never reached the firmware (a bad
 * guest address, certificates userspace refused) leave every level on
 * the path as full as before, and no fuller: after 50 charged and
 * refunded, a child of a "1 5" parent still gets 5 of 50 plus one per
 * whole second, and the stat files count none of the refunded.
 */
static int test_rate_snp_refund(const char *root)
{
	int ret = KSFT_FAIL;
	char *parent = cg_name(root, "rate_test_snp_refund");
	char *child = parent ? cg_name(parent, "vm") : NULL;
	struct rate_result res;
	double t0, t;

	if (!child || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp") ||
	    cg_write(parent, "snp.req_rate", "1 5") || cg_create(child))
		goto cleanup;
	t0 = now_sec();
	if (charge_in(child, "snp-refund", 50, &res) || res.admitted != 50 ||
	    res.refused) {
		ksft_print_msg("refunded: admitted %llu refused %llu\n",
			       res.admitted, res.refused);
		goto cleanup;
	}
	if (stat_key(child, "snp", "requests ") ||
	    stat_key(parent, "snp", "requests "))
		goto cleanup;
	if (charge_in(child, "snp", 50, &res))
		goto cleanup;
	t = now_sec() - t0;
	if (res.admitted < 5 || res.admitted > 5 + (unsigned long long)t) {
		ksft_print_msg("after refunds: admitted %llu refused %llu in %.2fs\n",
			       res.admitted, res.refused, t);
		goto cleanup;
	}
	if (stat_key(parent, "snp", "requests ") != res.admitted ||
	    stat_key(parent, "snp", "throttled ") != res.refused)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (child)
		cg_destroy(child);
	if (parent)
		cg_destroy(parent);
	free(child);
	free(parent);
	return ret;
}

/* RATE 0 admits nothing; "max" admits everything. */
static int test_rate_zero_and_max(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_zero");
	struct rate_result res;

	if (!cg || cg_create(cg) || cg_write(cg, "snp.req_rate", "0"))
		goto cleanup;
	if (charge_in(cg, "snp", 20, &res) || res.admitted || res.refused != 20)
		goto cleanup;
	if (cg_write(cg, "snp.req_rate", "max"))
		goto cleanup;
	if (charge_in(cg, "snp", 1000, &res) || res.admitted != 1000)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

/*
 * Refill over time: requests spread over about two seconds at RATE 20
 * are admitted no more than 20 * T + BURST times, and not far fewer.
 */
/* Charges from inside the cgroup, timing each write, for 2 s. */
struct refill {
	int n;
	struct { double start, end; struct rate_result res; } it[256];
};

static int refill_fn(const char *cgroup, void *arg)
{
	struct refill *r = arg;
	double t0 = now_sec();

	do {
		r->it[r->n].start = now_sec();
		if (rate_charge("snp", 5, &r->it[r->n].res))
			return EXIT_FAILURE;
		r->it[r->n].end = now_sec();
		usleep(20000);
	} while (++r->n < 256 && now_sec() - t0 < 2.0);
	return EXIT_SUCCESS;
}

static int test_rate_refill(const char *root)
{
	int ret = KSFT_FAIL, i, first, runs = 0;
	char *cg = cg_name(root, "rate_test_refill");
	struct refill *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long long admitted = 0, run_admitted;
	double t, run_start, lower;

	if (r == MAP_FAILED || !cg || cg_create(cg) ||
	    cg_write(cg, "snp.req_rate", "20 2"))
		goto cleanup;
	memset(r, 0, sizeof(*r));
	if (cg_run(cg, refill_fn, r) || !r->n)
		goto cleanup;
	for (i = 0; i < r->n; i++)
		admitted += r->it[i].res.admitted;
	t = r->it[r->n - 1].end - r->it[0].start;
	ksft_print_msg("offered %d, admitted %llu in %.2fs at 20/s, burst 2\n",
		       5 * r->n, admitted, t);
	if (admitted > 20 * t + 2)
		goto cleanup;
	/*
	 * The lower bound holds only under continuous demand: over runs of
	 * writes that were each refused some (the bucket was emptied) with
	 * gaps between them short enough that no refill spills over the
	 * burst (2 / 20 s). A charger starved of CPU breaks a run; that is
	 * not a failure of the bucket.
	 */
	for (i = 1; i < r->n; i++) {
		if (!r->it[i - 1].res.refused)
			continue;
		first = i;
		run_start = r->it[i - 1].end;
		run_admitted = 0;
		while (i < r->n && r->it[i].res.refused &&
		       r->it[i].start - r->it[i - 1].end < 0.05)
			run_admitted += r->it[i++].res.admitted;
		if (i == first)
			continue;
		lower = 20 * (r->it[i - 1].start - run_start) - 1;
		if (run_admitted < lower) {
			ksft_print_msg("admitted %llu in a run of %.3fs of demand\n",
				       run_admitted, r->it[i - 1].start - run_start);
			goto cleanup;
		}
		runs++;
	}
	ksft_print_msg("lower bound held over %d runs of continuous demand\n", runs);
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	if (r != MAP_FAILED)
		munmap(r, sizeof(*r));
	return ret;
}

/*
 * A parent's limit bounds its children together: three unlimited
 * children of a parent at RATE 1 BURST 10 get at most 10 admissions in
 * all (plus one per second elapsed), and the refusals are the parent's.
 * Each child's share is 3 deep and the parent keeps 9 of its 10 for
 * them: charged one child after the other, they get 4, 3 and 3.
 */
static int test_rate_parent_bounds_children(const char *root)
{
	int ret = KSFT_FAIL;
	char *parent = cg_name(root, "rate_test_parent");
	char *child[3] = { NULL };
	unsigned long long admitted = 0, refused = 0;
	struct rate_result res;
	double t0, t;
	int i;

	if (!parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp +buslock") ||
	    cg_write(parent, "snp.req_rate", "1 10"))
		goto cleanup;
	for (i = 0; i < 3; i++) {
		child[i] = cg_name_indexed(parent, "child", i);
		if (!child[i] || cg_create(child[i]))
			goto cleanup;
	}
	t0 = now_sec();
	for (i = 0; i < 3; i++) {
		if (charge_in(child[i], "snp", 10, &res))
			goto cleanup;
		admitted += res.admitted;
		refused += res.refused;
	}
	t = now_sec() - t0;
	ksft_print_msg("admitted %llu in %.2fs\n", admitted, t);
	if (admitted < 7 || admitted > 10 + (unsigned long long)t ||
	    admitted + refused != 30)
		goto cleanup;
	if (stat_key(parent, "snp", "requests ") != admitted ||
	    stat_key(parent, "snp", "throttled ") != refused ||
	    events_count(parent, "snp", true) != refused ||
	    events_count(parent, "snp", false) != refused)
		goto cleanup;
	for (i = 0; i < 3; i++)
		if (events_count(child[i], "snp", true) || events_count(child[i], "snp", false))
			goto cleanup;
	ret = KSFT_PASS;
cleanup:
	for (i = 0; i < 3; i++) {
		if (child[i])
			cg_destroy(child[i]);
		free(child[i]);
	}
	if (parent)
		cg_destroy(parent);
	free(parent);
	return ret;
}

/*
 * A refusal caused by a child's own limit counts in the child's
 * events.local and in the events of the child and the parent, not in
 * the parent's events.local.
 */
static int test_rate_events_hierarchy(const char *root)
{
	int ret = KSFT_FAIL;
	char *parent = cg_name(root, "rate_test_ev_parent");
	char *child = NULL;
	struct rate_result res;

	if (!parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp +buslock"))
		goto cleanup;
	child = cg_name(parent, "child");
	if (!child || cg_create(child))
		goto cleanup;
	if (cg_write(child, "snp.req_rate", "0 1") ||
	    cg_write(child, "buslock.rate", "1 1"))
		goto cleanup;
	/* snp: 3 refusals; buslock at "1 1": the second lock stalls 1 s. */
	if (charge_in(child, "snp", 3, &res) || res.refused != 3)
		goto cleanup;
	if (events_count(child, "snp", true) != 3 || events_count(child, "snp", false) != 3 ||
	    events_count(parent, "snp", false) != 3 || events_count(parent, "snp", true) != 0)
		goto cleanup;
	if (charge_in(child, "buslock", 2, &res))
		goto cleanup;
	ksft_print_msg("stall %llu ns, events %ld/%ld/%ld/%ld, throttled %ld, %ld us\n",
		       res.stall_ns, events_count(child, "buslock", true),
		       events_count(child, "buslock", false),
		       events_count(parent, "buslock", true),
		       events_count(parent, "buslock", false),
		       stat_key(parent, "buslock", "throttled "),
		       stat_key(parent, "buslock", "delay_usec "));
	if (res.stall_ns > 1000000000ULL || res.stall_ns < 900000000ULL)
		goto cleanup;
	if (events_count(child, "buslock", true) != 1 ||
	    events_count(parent, "buslock", false) != 1 ||
	    events_count(parent, "buslock", true) != 0 ||
	    stat_key(parent, "buslock", "throttled ") != 1 ||
	    stat_key(parent, "buslock", "delay_usec ") > 1000000 ||
	    stat_key(parent, "buslock", "delay_usec ") < res.stall_ns / 1000)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (child)
		cg_destroy(child);
	if (parent)
		cg_destroy(parent);
	free(child);
	free(parent);
	return ret;
}

/* poll() on snp.events wakes up when a request is refused. */
static int test_rate_events_poll(const char *root)
{
	int ret = KSFT_FAIL, fd = -1;
	char *cg = cg_name(root, "rate_test_poll");
	struct rate_result res;
	struct pollfd pfd;
	char buf[64];
	pid_t pid;

	if (!cg || cg_create(cg) || cg_write(cg, "snp.req_rate", "0"))
		goto cleanup;
	fd = cg_open(cg, "snp.events", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		goto cleanup;
	pid = fork();
	if (pid < 0)
		goto cleanup;
	if (pid == 0) {
		usleep(200000);
		exit(charge_in(cg, "snp", 1, &res) || res.refused != 1);
	}
	pfd.fd = fd;
	pfd.events = POLLPRI;
	if (poll(&pfd, 1, 10000) != 1 || !(pfd.revents & POLLPRI)) {
		ksft_print_msg("no notification\n");
		waitpid(pid, NULL, 0);
		goto cleanup;
	}
	if (clone_reap(pid, WEXITED) || events_count(cg, "snp", false) != 1)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (fd >= 0)
		close(fd);
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

static int charge_loop_fn(const char *cgroup, void *arg)
{
	struct shared *sh = arg;
	struct rate_result res;

	while (!__atomic_load_n(&sh->ret, __ATOMIC_ACQUIRE)) {
		if (rate_charge(sh->kind, 10, &res))
			return EXIT_FAILURE;
		__atomic_add_fetch(&sh->res.admitted, res.admitted, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sh->res.refused, res.refused, __ATOMIC_RELAXED);
	}
	return EXIT_SUCCESS;
}

/*
 * Charges follow a task that is moved between cgroups while it charges:
 * every charge lands in exactly one of them, and none in the one at RATE
 * 0 is admitted.
 */
static int test_rate_migrate_while_charging(const char *root)
{
	int ret = KSFT_FAIL;
	char *parent = cg_name(root, "rate_test_migrate");
	char *open_cg = NULL, *closed_cg = NULL;
	struct shared *sh = shared_new("snp", 0);
	long total;
	pid_t pid = -1;
	int i;

	if (!parent || !sh || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp"))
		goto cleanup;
	open_cg = cg_name(parent, "open");
	closed_cg = cg_name(parent, "closed");
	if (!open_cg || !closed_cg || cg_create(open_cg) || cg_create(closed_cg) ||
	    cg_write(closed_cg, "snp.req_rate", "0"))
		goto cleanup;
	pid = cg_run_nowait(open_cg, charge_loop_fn, sh);
	if (pid < 0)
		goto cleanup;
	for (i = 0; i < 200; i++) {
		if (cg_enter(i & 1 ? open_cg : closed_cg, pid))
			goto cleanup;
		usleep(1000);
	}
	__atomic_store_n(&sh->ret, 1, __ATOMIC_RELEASE);
	if (clone_reap(pid, WEXITED))
		goto cleanup;
	pid = -1;
	total = sh->res.admitted + sh->res.refused;
	if (stat_key(closed_cg, "snp", "requests ") != 0 ||
	    stat_key(open_cg, "snp", "throttled ") != 0 ||
	    stat_key(open_cg, "snp", "requests ") != sh->res.admitted ||
	    stat_key(closed_cg, "snp", "throttled ") != sh->res.refused ||
	    stat_key(parent, "snp", "requests ") +
	    stat_key(parent, "snp", "throttled ") != total)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (open_cg)
		cg_destroy(open_cg);
	if (closed_cg)
		cg_destroy(closed_cg);
	if (parent)
		cg_destroy(parent);
	free(open_cg);
	free(closed_cg);
	free(parent);
	if (sh)
		munmap(sh, sizeof(*sh));
	return ret;
}

/*
 * A cgroup is removed right after the task charging in it leaves, while
 * the task goes on charging: charges in flight must not touch freed
 * state (KASAN watches), and the parent keeps every count.
 */
static int test_rate_rmdir_while_charging(const char *root)
{
	int ret = KSFT_FAIL;
	char *parent = cg_name(root, "rate_test_rmdir");
	char *home = NULL, *child = NULL;
	struct shared *sh = shared_new("buslock", 0);
	pid_t pid = -1;
	int i;

	if (!parent || !sh || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp +buslock") ||
	    cg_write(parent, "buslock.rate", "1000000 1000000"))
		goto cleanup;
	home = cg_name(parent, "home");
	child = cg_name(parent, "child");
	if (!home || !child || cg_create(home))
		goto cleanup;
	pid = cg_run_nowait(home, charge_loop_fn, sh);
	if (pid < 0)
		goto cleanup;
	for (i = 0; i < 50; i++) {
		if (cg_create(child) || cg_write(child, "buslock.rate", "1000 1000") ||
		    cg_enter(child, pid)) {
			ksft_print_msg("round %d: cannot set up %s\n", i, child);
			goto cleanup;
		}
		usleep(2000);
		if (cg_enter(home, pid) || cg_destroy(child)) {
			ksft_print_msg("round %d: cannot remove %s\n", i, child);
			goto cleanup;
		}
	}
	__atomic_store_n(&sh->ret, 1, __ATOMIC_RELEASE);
	if (clone_reap(pid, WEXITED))
		goto cleanup;
	pid = -1;
	if (stat_key(parent, "buslock", "locks ") != sh->res.admitted) {
		ksft_print_msg("parent counts %ld locks, the task %llu\n",
			       stat_key(parent, "buslock", "locks "),
			       sh->res.admitted);
		goto cleanup;
	}
	ret = KSFT_PASS;
cleanup:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (child)
		cg_destroy(child);
	if (home)
		cg_destroy(home);
	if (parent)
		cg_destroy(parent);
	free(child);
	free(home);
	free(parent);
	if (sh)
		munmap(sh, sizeof(*sh));
	return ret;
}

/*
 * Bus locks over the rate stall the task for the time the bucket needs:
 * at RATE 10 BURST 1, three locks cost two stalls of 100 ms.
 */
static int test_rate_buslock_stall(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_stall");
	struct rate_result res;
	double t0, t;

	if (!cg || cg_create(cg) || cg_write(cg, "buslock.rate", "10 1"))
		goto cleanup;
	t0 = now_sec();
	if (charge_in(cg, "buslock", 3, &res))
		goto cleanup;
	t = now_sec() - t0;
	ksft_print_msg("3 locks: stall %llu ns, slept %llu ns, %.3fs\n",
		       res.stall_ns, res.slept_ns, t);
	/* The second and third lock owe at most 100 ms each. */
	if (res.admitted != 3 || res.stall_ns > 200000000ULL ||
	    res.stall_ns < 100000000ULL || res.slept_ns < res.stall_ns ||
	    t < res.stall_ns / 1e9 || res.interrupted)
		goto cleanup;
	/* Owed from the charge: a little more than the rest seen after it. */
	if (stat_key(cg, "buslock", "locks ") != 3 ||
	    stat_key(cg, "buslock", "delay_usec ") < res.stall_ns / 1000 ||
	    stat_key(cg, "buslock", "delay_usec ") > 200000)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

static void noop_handler(int sig)
{
}

static int stall_fn(const char *cgroup, void *arg)
{
	struct shared *sh = arg;
	struct sigaction sa = { .sa_handler = noop_handler };

	/* No SA_RESTART: the interrupted write must come back with EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	__atomic_store_n(&sh->ret, 1, __ATOMIC_RELEASE);
	if (rate_charge("buslock", 5, &sh->res))
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

/* RATE 0 stalls until a signal cuts the stall short; the debt stays. */
static int test_rate_buslock_signal(const char *root)
{
	int ret = KSFT_FAIL;
	char *cg = cg_name(root, "rate_test_signal");
	struct shared *sh = shared_new("buslock", 0);
	double t0, t;
	pid_t pid;

	if (!cg || !sh || cg_create(cg) || cg_write(cg, "buslock.rate", "0"))
		goto cleanup;
	t0 = now_sec();
	pid = cg_run_nowait(cg, stall_fn, sh);
	if (pid < 0)
		goto cleanup;
	while (!__atomic_load_n(&sh->ret, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(300000);
	kill(pid, SIGUSR1);
	if (clone_reap(pid, WEXITED))
		goto cleanup;
	t = now_sec() - t0;
	ksft_print_msg("interrupted after %.3fs: slept %llu ns, error %d, events.local %ld\n",
		       t, sh->res.slept_ns, sh->res.error,
		       events_count(cg, "buslock", true));
	if (sh->res.error != EINTR || sh->res.interrupted != 1 ||
	    sh->res.admitted != 1 || sh->res.slept_ns < 200000000ULL ||
	    t >= 5.0 || events_count(cg, "buslock", true) != 1)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	if (sh)
		munmap(sh, sizeof(*sh));
	return ret;
}

/* The weight files: 1..10000; anything else is refused and changes nothing. */
static int test_rate_weight_writes(const char *root)
{
	static const char *const bad[] = { "0", "10001", "-1", "abc", "1 2" };
	int ret = KSFT_FAIL, i, k;
	char *cg = cg_name(root, "rate_test_weight");
	char file[32];

	if (!cg || cg_create(cg))
		goto cleanup;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		snprintf(file, sizeof(file), "%s.weight", kinds[k]);
		if (cg_write(cg, file, "1") || cg_read_strcmp(cg, file, "1\n") ||
		    cg_write(cg, file, "10000") ||
		    cg_read_strcmp(cg, file, "10000\n") ||
		    cg_write(cg, file, "250\n") || cg_read_strcmp(cg, file, "250\n"))
			goto cleanup;
		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (!cg_write(cg, file, (char *)bad[i]) ||
			    cg_read_strcmp(cg, file, "250\n"))
				goto cleanup;
	}
	ret = KSFT_PASS;
cleanup:
	if (cg)
		cg_destroy(cg);
	free(cg);
	return ret;
}

/* A greedy charger: charges @kind in a tight loop until killed. */
static int greedy_fn(const char *cgroup, void *arg)
{
	const char *kind = arg;
	struct rate_result res;

	for (;;)
		if (rate_charge(kind, 1000, &res))
			return EXIT_FAILURE;
}

/* The polite charger: one of each kind every 2 s, as the Linux guest retries. */
struct polite {
	int tries;
	int snp_refused;
	unsigned long long buslock_stall_ns;
	int failed;
};

static int polite_fn(const char *cgroup, void *arg)
{
	struct polite *p = arg;
	struct rate_result res;
	double t0 = now_sec();
	int i;

	for (i = 0; now_sec() - t0 < 60.0; i++) {
		while (now_sec() - t0 < 2.0 * i)
			usleep(10000);
		if (rate_charge("snp", 1, &res))
			p->failed++;
		p->snp_refused += res.refused;
		if (rate_charge("buslock", 1, &res))
			p->failed++;
		p->buslock_stall_ns += res.stall_ns;
		p->tries++;
	}
	return EXIT_SUCCESS;
}

static pid_t run_greedy(const char *parent, const char *name, const char *kind,
			char **cg)
{
	*cg = cg_name(parent, name);
	if (!*cg || cg_create(*cg))
		return -1;
	return cg_run_nowait(*cg, greedy_fn, (void *)kind);
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		clone_reap(pid, WEXITED);
	}
}

/*
 * Fair sharing under attack: under a parent "10 10" with no limit on the
 * children, greedy siblings charge snp and bus locks in tight loops; a
 * polite sibling, one request and one bus lock every 2 s for 60 s, comes
 * within its share (10/3 per second) and is never refused nor stalled.
 */
static int test_rate_fair_polite(const char *root)
{
	int ret = KSFT_FAIL, k;
	char *parent = cg_name(root, "rate_test_fair"), *polite = NULL;
	char *greedy[2] = { NULL, NULL };
	pid_t gpid[2] = { -1, -1 };
	struct polite *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || !parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp +buslock"))
		goto cleanup;
	memset(p, 0, sizeof(*p));
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		if (cg_write(parent, limit_file(kinds[k]), "10 10"))
			goto cleanup;
	polite = cg_name(parent, "polite");
	if (!polite || cg_create(polite))
		goto cleanup;
	gpid[0] = run_greedy(parent, "greedy_snp", "snp", &greedy[0]);
	gpid[1] = run_greedy(parent, "greedy_buslock", "buslock", &greedy[1]);
	if (gpid[0] < 0 || gpid[1] < 0)
		goto cleanup;
	sleep(1);
	if (cg_run(polite, polite_fn, p))
		goto cleanup;
	ksft_print_msg("polite: %d tries, %d refused, %llu ns stalled; "
		       "greedy: %ld requests, %ld locks\n",
		       p->tries, p->snp_refused, p->buslock_stall_ns,
		       stat_key(greedy[0], "snp", "requests "),
		       stat_key(greedy[1], "buslock", "locks "));
	if (p->failed || p->tries < 29 || p->snp_refused || p->buslock_stall_ns ||
	    stat_key(polite, "snp", "requests ") != p->tries ||
	    stat_key(greedy[0], "snp", "throttled ") <= 0 ||
	    stat_key(greedy[1], "buslock", "throttled ") <= 0)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	for (k = 0; k < 2; k++) {
		stop(gpid[k]);
		if (greedy[k])
			cg_destroy(greedy[k]);
		free(greedy[k]);
	}
	if (polite)
		cg_destroy(polite);
	if (parent)
		cg_destroy(parent);
	free(polite);
	free(parent);
	if (p != MAP_FAILED)
		munmap(p, sizeof(*p));
	return ret;
}

/* Two greedy siblings with weights 100 and 300 split a parent "10 10" 1:3. */
static int test_rate_fair_weights(const char *root)
{
	int ret = KSFT_FAIL, k;
	char *parent = cg_name(root, "rate_test_weights");
	char *cg[2] = { NULL, NULL };
	pid_t pid[2] = { -1, -1 };
	long start[2], got[2];
	double ratio;

	if (!parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp +buslock") ||
	    cg_write(parent, "snp.req_rate", "10 10"))
		goto cleanup;
	for (k = 0; k < 2; k++) {
		cg[k] = cg_name_indexed(parent, "greedy", k);
		if (!cg[k] || cg_create(cg[k]) ||
		    cg_write(cg[k], "snp.weight", k ? "300" : "100"))
			goto cleanup;
	}
	for (k = 0; k < 2; k++) {
		pid[k] = cg_run_nowait(cg[k], greedy_fn, "snp");
		if (pid[k] < 0)
			goto cleanup;
	}
	/* Past the parent's initial burst, count 20 s. */
	sleep(3);
	for (k = 0; k < 2; k++)
		start[k] = stat_key(cg[k], "snp", "requests ");
	sleep(20);
	for (k = 0; k < 2; k++)
		got[k] = stat_key(cg[k], "snp", "requests ") - start[k];
	ratio = got[0] ? (double)got[1] / got[0] : 0;
	ksft_print_msg("weights 100:300 got %ld:%ld (1:%.2f)\n", got[0], got[1], ratio);
	if (ratio < 3 / 1.1 || ratio > 3 * 1.1 || got[0] + got[1] < 190)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	for (k = 0; k < 2; k++) {
		stop(pid[k]);
		if (cg[k])
			cg_destroy(cg[k]);
		free(cg[k]);
	}
	if (parent)
		cg_destroy(parent);
	free(parent);
	return ret;
}

/*
 * The attestation agent beside a greedy sibling: under a parent "10 10"
 * with two children, each share is 5/s (less 1/64) and 4 deep. A greedy
 * sibling requests in a tight loop; the agent sends a report, a derived
 * key and an extended report back to back every 10 s, and every burst is
 * admitted whole.
 */
static int burst_fn(const char *cgroup, void *arg)
{
	int *whole = arg, i;
	struct rate_result res;
	double t0 = now_sec();

	for (i = 0; i < 6; i++) {
		while (now_sec() - t0 < 10.0 * i + 1.0)
			usleep(10000);
		if (rate_charge("snp", 3, &res))
			return EXIT_FAILURE;
		ksft_print_msg("burst %d: %llu of 3 admitted\n", i, res.admitted);
		*whole += res.admitted == 3;
	}
	return EXIT_SUCCESS;
}

static int test_rate_attestation_burst(const char *root)
{
	int ret = KSFT_FAIL, *whole = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *parent = cg_name(root, "rate_test_agent"), *agent = NULL, *greedy = NULL;
	pid_t gpid = -1;

	if (whole == MAP_FAILED || !parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp") ||
	    cg_write(parent, "snp.req_rate", "10 10"))
		goto cleanup;
	*whole = 0;
	agent = cg_name(parent, "agent");
	if (!agent || cg_create(agent))
		goto cleanup;
	gpid = run_greedy(parent, "greedy", "snp", &greedy);
	if (gpid < 0 || cg_run(agent, burst_fn, whole))
		goto cleanup;
	ksft_print_msg("%d of 6 bursts whole; greedy: %ld requests, %ld borrowed\n",
		       *whole, stat_key(greedy, "snp", "requests "),
		       stat_key(greedy, "snp", "borrowed "));
	if (*whole != 6 || stat_key(agent, "snp", "throttled ") != 0 ||
	    stat_key(greedy, "snp", "throttled ") <= 0)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	stop(gpid);
	if (greedy)
		cg_destroy(greedy);
	if (agent)
		cg_destroy(agent);
	if (parent)
		cg_destroy(parent);
	free(greedy);
	free(agent);
	free(parent);
	if (whole != MAP_FAILED)
		munmap(whole, sizeof(int));
	return ret;
}

/*
 * A boot storm: a greedy VM keeps a parent "10 50" congested while 20 new
 * VMs appear, one every 200 ms; each sends its first request once it has
 * booted (1.5 s here; an SNP launch takes longer) and every one of them is
 * admitted.
 */
static int first_request_fn(const char *cgroup, void *arg)
{
	struct rate_result res;

	usleep(1500000);
	if (rate_charge("snp", 1, &res))
		return EXIT_FAILURE;
	return res.admitted == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int test_rate_boot_storm(const char *root)
{
	int ret = KSFT_FAIL, i, status, admitted = 0;
	char *parent = cg_name(root, "rate_test_storm"), *greedy = NULL;
	char *vm[20] = { NULL };
	pid_t gpid = -1, pid[20];

	for (i = 0; i < 20; i++)
		pid[i] = -1;
	if (!parent || cg_create(parent) ||
	    cg_write(parent, "cgroup.subtree_control", "+snp") ||
	    cg_write(parent, "snp.req_rate", "10 50"))
		goto cleanup;
	gpid = run_greedy(parent, "greedy", "snp", &greedy);
	if (gpid < 0)
		goto cleanup;
	sleep(2);
	for (i = 0; i < 20; i++) {
		vm[i] = cg_name_indexed(parent, "vm", i);
		if (!vm[i] || cg_create(vm[i]))
			goto cleanup;
		pid[i] = cg_run_nowait(vm[i], first_request_fn, NULL);
		if (pid[i] < 0)
			goto cleanup;
		usleep(200000);
	}
	for (i = 0; i < 20; i++) {
		if (waitpid(pid[i], &status, 0) != pid[i])
			goto cleanup;
		pid[i] = -1;
		admitted += WIFEXITED(status) && !WEXITSTATUS(status);
	}
	ksft_print_msg("%d of 20 first requests admitted; greedy: %ld requests\n",
		       admitted, stat_key(greedy, "snp", "requests "));
	if (admitted == 20 && stat_key(greedy, "snp", "throttled ") > 0)
		ret = KSFT_PASS;
cleanup:
	stop(gpid);
	for (i = 0; i < 20; i++) {
		stop(pid[i]);
		if (vm[i])
			cg_destroy(vm[i]);
		free(vm[i]);
	}
	if (greedy)
		cg_destroy(greedy);
	if (parent)
		cg_destroy(parent);
	free(greedy);
	free(parent);
	return ret;
}

/*
 * libvirt's layout: a VM's process in a domain cgroup, each vCPU thread in
 * a threaded child (vcpuN). Both controllers are threaded: they can be
 * enabled there, a thread's charge lands in its own vcpuN cgroup, a
 * per-vCPU limit holds, and the VM's limit still bounds all its threads.
 */
struct vcpu_thread {
	const char *cg;
	const char *kind;
	unsigned int n;
	struct rate_result res;
	int ret;
};

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *vt = arg;
	char tid[32];

	snprintf(tid, sizeof(tid), "%ld", (long)syscall(SYS_gettid));
	vt->ret = cg_write(vt->cg, "cgroup.threads", tid);
	if (!vt->ret)
		vt->ret = rate_charge(vt->kind, vt->n, &vt->res);
	return NULL;
}

/* One thread of the calling process joins @cg and charges there. */
static int charge_as_thread(const char *cg, const char *kind, unsigned int n,
			    struct rate_result *res)
{
	struct vcpu_thread vt = { .cg = cg, .kind = kind, .n = n };
	pthread_t thread;

	if (pthread_create(&thread, NULL, vcpu_thread_fn, &vt) ||
	    pthread_join(thread, NULL))
		return -1;
	*res = vt.res;
	return vt.ret;
}

struct vm_layout {
	char *vm, *vcpu0, *vcpu1;
	struct rate_result res[5];
};

static int vm_process_fn(const char *cgroup, void *arg)
{
	struct vm_layout *vm = arg;

	/* vcpu0 admits nothing, vcpu1 has no limit of its own */
	if (charge_as_thread(vm->vcpu0, "snp", 5, &vm->res[0]) ||
	    charge_as_thread(vm->vcpu1, "snp", 5, &vm->res[1]) ||
	    charge_as_thread(vm->vcpu0, "buslock", 3, &vm->res[2]))
		return EXIT_FAILURE;
	/* then the VM's own limit closes: it bounds every vCPU */
	if (cg_write(vm->vm, "snp.req_rate", "0") ||
	    charge_as_thread(vm->vcpu1, "snp", 3, &vm->res[3]) ||
	    charge_as_thread(vm->vm, "snp", 2, &vm->res[4]))
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

static int test_rate_threaded_vcpus(const char *root)
{
	int ret = KSFT_FAIL;
	struct vm_layout *vm = mmap(NULL, sizeof(*vm), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct rate_result *r;

	if (vm == MAP_FAILED)
		return KSFT_FAIL;
	memset(vm, 0, sizeof(*vm));
	r = vm->res;
	vm->vm = cg_name(root, "rate_test_vm");
	if (!vm->vm || cg_create(vm->vm))
		goto cleanup;
	vm->vcpu0 = cg_name(vm->vm, "vcpu0");
	vm->vcpu1 = cg_name(vm->vm, "vcpu1");
	if (!vm->vcpu0 || !vm->vcpu1 || cg_create(vm->vcpu0) || cg_create(vm->vcpu1) ||
	    cg_write(vm->vcpu0, "cgroup.type", "threaded") ||
	    cg_write(vm->vcpu1, "cgroup.type", "threaded") ||
	    cg_read_strcmp(vm->vm, "cgroup.type", "domain threaded\n") ||
	    cg_write(vm->vm, "cgroup.subtree_control", "+snp +buslock") ||
	    cg_write(vm->vcpu0, "snp.req_rate", "0") ||
	    cg_write(vm->vcpu0, "buslock.rate", "1000 1000"))
		goto cleanup;
	if (cg_run(vm->vm, vm_process_fn, vm))
		goto cleanup;
	if (r[0].admitted != 0 || r[0].refused != 5 ||
	    r[1].admitted != 5 || r[1].refused != 0 ||
	    r[2].admitted != 3 || r[2].stall_ns != 0 ||
	    r[3].admitted != 0 || r[3].refused != 3 ||
	    r[4].admitted != 0 || r[4].refused != 2)
		goto cleanup;
	if (stat_key(vm->vcpu0, "snp", "requests ") != 0 ||
	    stat_key(vm->vcpu0, "snp", "throttled ") != 5 ||
	    events_count(vm->vcpu0, "snp", true) != 5 ||
	    stat_key(vm->vcpu1, "snp", "requests ") != 5 ||
	    stat_key(vm->vcpu1, "snp", "throttled ") != 3 ||
	    events_count(vm->vcpu1, "snp", true) != 0 ||
	    stat_key(vm->vcpu0, "buslock", "locks ") != 3 ||
	    stat_key(vm->vm, "buslock", "locks ") != 3 ||
	    stat_key(vm->vm, "snp", "requests ") != 5 ||
	    stat_key(vm->vm, "snp", "throttled ") != 10 ||
	    events_count(vm->vm, "snp", true) != 5 ||
	    events_count(vm->vm, "snp", false) != 10)
		goto cleanup;
	ret = KSFT_PASS;
cleanup:
	if (vm->vcpu0)
		cg_destroy(vm->vcpu0);
	if (vm->vcpu1)
		cg_destroy(vm->vcpu1);
	if (vm->vm)
		cg_destroy(vm->vm);
	free(vm->vcpu0);
	free(vm->vcpu1);
	free(vm->vm);
	munmap(vm, sizeof(*vm));
	return ret;
}

/*
 * libvirt's layout, idle: a parent "10 10" over one VM whose 8 vCPU
 * threads each sit in a threaded vcpuN cgroup. One vCPU's burst of 10
 * gets the parent's whole BURST, after an idle second and again after a
 * second idle period.
 */
struct libvirt_vm {
	char *vcpu[8];
	struct rate_result res[2];
};

static int libvirt_fn(const char *cgroup, void *arg)
{
	struct libvirt_vm *vm = arg;

	sleep(1);
	if (charge_as_thread(vm->vcpu[3], "snp", 10, &vm->res[0]))
		return EXIT_FAILURE;
	sleep(2);
	if (charge_as_thread(vm->vcpu[5], "snp", 10, &vm->res[1]))
		return EXIT_FAILURE;
	return EXIT_SUCCESS;
}

static int test_rate_libvirt_burst(const char *root)
{
	int ret = KSFT_FAIL, i;
	struct libvirt_vm *vm = mmap(NULL, sizeof(*vm), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *part = cg_name(root, "rate_test_partition"), *dom = NULL;

	if (vm == MAP_FAILED || !part)
		goto cleanup;
	memset(vm, 0, sizeof(*vm));
	dom = cg_name(part, "domain");
	if (!dom || cg_create(part) ||
	    cg_write(part, "cgroup.subtree_control", "+snp") ||
	    cg_write(part, "snp.req_rate", "10 10") || cg_create(dom))
		goto cleanup;
	for (i = 0; i < 8; i++) {
		vm->vcpu[i] = cg_name_indexed(dom, "vcpu", i);
		if (!vm->vcpu[i] || cg_create(vm->vcpu[i]) ||
		    cg_write(vm->vcpu[i], "cgroup.type", "threaded"))
			goto cleanup;
	}
	if (cg_write(dom, "cgroup.subtree_control", "+snp") ||
	    cg_run(dom, libvirt_fn, vm))
		goto cleanup;
	ksft_print_msg("a vCPU's burst of 10: %llu admitted, then %llu\n",
		       vm->res[0].admitted, vm->res[1].admitted);
	if (vm->res[0].admitted == 10 && vm->res[1].admitted == 10)
		ret = KSFT_PASS;
cleanup:
	if (vm != MAP_FAILED) {
		for (i = 0; i < 8; i++) {
			if (vm->vcpu[i])
				cg_destroy(vm->vcpu[i]);
			free(vm->vcpu[i]);
		}
		munmap(vm, sizeof(*vm));
	}
	if (dom)
		cg_destroy(dom);
	if (part)
		cg_destroy(part);
	free(dom);
	free(part);
	return ret;
}

#define T(x) { x, #x }
static const struct rate_test {
	int (*fn)(const char *root);
	const char *name;
} tests[] = {
	T(test_rate_files),
	T(test_rate_writes),
	T(test_rate_snp_burst),
	T(test_rate_snp_refund),
	T(test_rate_zero_and_max),
	T(test_rate_refill),
	T(test_rate_parent_bounds_children),
	T(test_rate_events_hierarchy),
	T(test_rate_events_poll),
	T(test_rate_migrate_while_charging),
	T(test_rate_rmdir_while_charging),
	T(test_rate_buslock_stall),
	T(test_rate_buslock_signal),
	T(test_rate_weight_writes),
	T(test_rate_fair_polite),
	T(test_rate_fair_weights),
	T(test_rate_threaded_vcpus),
	T(test_rate_attestation_burst),
	T(test_rate_libvirt_burst),
	T(test_rate_boot_storm),
};

#undef T

int main(int argc, char **argv)
{
	char root[PATH_MAX];
	int i;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(tests));
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		char plus[16];

		if (cg_read_strstr(root, "cgroup.controllers", kinds[i]))
			ksft_exit_skip("%s controller isn't available\n", kinds[i]);
		snprintf(plus, sizeof(plus), "+%s", kinds[i]);
		if (cg_read_strstr(root, "cgroup.subtree_control", kinds[i]) &&
		    cg_write(root, "cgroup.subtree_control", plus))
			ksft_exit_skip("Failed to enable %s\n", kinds[i]);
	}
	if (access(RATE_CHARGE_PATH, W_OK))
		ksft_exit_skip("%s missing: needs CONFIG_CGROUP_RATE_DEBUG and debugfs\n",
			       RATE_CHARGE_PATH);

	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		switch (tests[i].fn(root)) {
		case KSFT_PASS:
			ksft_test_result_pass("%s\n", tests[i].name);
			break;
		case KSFT_SKIP:
			ksft_test_result_skip("%s\n", tests[i].name);
			break;
		default:
			ksft_test_result_fail("%s\n", tests[i].name);
			break;
		}
	}
	ksft_finished();
}
