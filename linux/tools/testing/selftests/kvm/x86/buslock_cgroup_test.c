// SPDX-License-Identifier: GPL-2.0
/*
 * The buslock cgroup's stall path in KVM_RUN, run for real.
 *
 * No machine here detects bus locks, so the test uses the test-only
 * per-vCPU debugfs file "bus_lock_inject" (CONFIG_CGROUP_RATE_DEBUG):
 * each exit consumes one injected bus lock, which KVM then handles as a
 * detected one, if detection would be on for the vCPU. Everything after
 * that (the charge, the stall served in vcpu_run(), the signal exit, the
 * steal time) is the code that runs on real hardware.
 *
 * The test moves itself into a new cgroup with a buslock.rate and checks:
 * the vCPU stalls for as long as the rate asks; a signal ends KVM_RUN
 * with KVM_EXIT_INTR and the stall is a deadline that time outside
 * KVM_RUN counts towards; the stalled vCPU is marked preempted and its
 * steal time grows by the stall; with no limit on the path nothing is
 * charged and nothing stalls; a VMM that enabled KVM_CAP_X86_BUS_LOCK_EXIT
 * gets its exits, limited or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <asm/kvm_para.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		CG_ROOT "/kvm_buslock_test"
/* Exits the guest takes between ucalls: each can carry a bus lock. */
#define GUEST_EXITS	16

static void guest_code(void)
{
	u32 eax, ebx, ecx, edx;
	int i;

	for (;;) {
		for (i = 0; i < GUEST_EXITS; i++)
			cpuid(0, &eax, &ebx, &ecx, &edx);
		GUEST_SYNC(0);
	}
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static unsigned long long stat_field(const char *field)
{
	char buf[512], *p;
	unsigned long long val = 0;
	FILE *f = fopen(CG_TEST "/buslock.stat", "r");

	TEST_ASSERT(f, "open buslock.stat");
	while (fgets(buf, sizeof(buf), f)) {
		p = strchr(buf, ' ');
		if (p && !strncmp(buf, field, p - buf) && strlen(field) == p - buf)
			val = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_rate(const char *rate)
{
	TEST_ASSERT(!write_file(CG_TEST "/buslock.rate", rate),
		    "write buslock.rate %s", rate);
}

static void inject_path(struct kvm_vm *vm, char *path, size_t size)
{
	snprintf(path, size, "/sys/kernel/debug/kvm/%d-%d/vcpu0/bus_lock_inject",
		 getpid(), vm->fd);
}

/* The vCPU's next @n exits report a bus lock. */
static void inject(struct kvm_vm *vm, int n)
{
	char path[PATH_MAX], buf[16];

	inject_path(vm, path, sizeof(path));
	snprintf(buf, sizeof(buf), "%d", n);
	TEST_ASSERT(!write_file(path, buf), "write %s", path);
}

/* One KVM_RUN to the guest's next ucall, which must be a GUEST_SYNC. */
static void run_to_sync(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
}

static bool near(double got, double want, double tol)
{
	ksft_print_msg("  took %.3f s, expected %.3f s +- %.3f\n", got, want, tol);
	return got > want - tol && got < want + tol;
}

/* Three bus locks at "2 1": the first is free, the others 0.5 s each. */
static void test_stall(struct kvm_vcpu *vcpu)
{
	unsigned long long locks = stat_field("locks");
	double t0;

	set_rate("2 1");
	sleep(1);	/* a full bucket */
	inject(vcpu->vm, 3);
	t0 = now_s();
	run_to_sync(vcpu);
	run_to_sync(vcpu);	/* serves what the last bus lock owes */
	ksft_test_result(near(now_s() - t0, 1.0, 0.25) &&
			 stat_field("locks") == locks + 3,
			 "stall: the vCPU waits as long as buslock.rate asks\n");
}

static void on_alarm(int sig)
{
}

/*
 * At "1 1" three bus locks owe 2 s. A signal at 0.3 s ends KVM_RUN with
 * KVM_EXIT_INTR; the VMM then spends 1 s outside KVM_RUN, which counts:
 * the whole still takes 2 s, not 3.3 s.
 */
static void test_signal(struct kvm_vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 300000 };
	double t0, t_intr;
	int r;

	set_rate("1 1");
	sleep(2);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	inject(vcpu->vm, 3);
	t0 = now_s();
	setitimer(ITIMER_REAL, &it, NULL);
	r = __vcpu_run(vcpu);
	t_intr = now_s() - t0;
	ksft_test_result(r == -1 && errno == EINTR &&
			 vcpu->run->exit_reason == KVM_EXIT_INTR &&
			 near(t_intr, 0.3, 0.2),
			 "signal: KVM_RUN ends with KVM_EXIT_INTR during a stall\n");
	sleep(1);
	run_to_sync(vcpu);
	run_to_sync(vcpu);
	ksft_test_result(near(now_s() - t0, 2.0, 0.3),
			 "signal: the stall is a deadline, time outside KVM_RUN counts\n");
}

struct preempted_probe {
	struct kvm_steal_time *st;
	int preempted;
};

static void *probe_preempted(void *arg)
{
	struct preempted_probe *p = arg;

	usleep(500000);
	p->preempted = READ_ONCE(p->st->preempted);
	return NULL;
}

/* At "1 1" two bus locks owe 1 s: steal time must grow by about that. */
static void test_steal(struct kvm_vm *vm, struct kvm_vcpu *vcpu)
{
	gva_t gva = vm_alloc_page(vm);
	struct preempted_probe probe = { .st = addr_gva2hva(vm, gva) };
	unsigned long long steal0;
	pthread_t thread;

	memset(probe.st, 0, sizeof(*probe.st));
	vcpu_set_msr(vcpu, MSR_KVM_STEAL_TIME, addr_gva2gpa(vm, gva) | KVM_MSR_ENABLED);
	set_rate("1 1");
	sleep(2);
	run_to_sync(vcpu);
	steal0 = READ_ONCE(probe.st->steal);
	inject(vcpu->vm, 2);
	pthread_create(&thread, NULL, probe_preempted, &probe);
	run_to_sync(vcpu);
	run_to_sync(vcpu);
	pthread_join(thread, NULL);
	ksft_print_msg("  steal grew by %.3f s\n",
		       (READ_ONCE(probe.st->steal) - steal0) / 1e9);
	ksft_test_result(probe.preempted & KVM_VCPU_PREEMPTED,
			 "steal: a stalled vCPU is marked preempted\n");
	ksft_test_result(READ_ONCE(probe.st->steal) - steal0 > 800000000ull,
			 "steal: steal time grows by the stall\n");
	vcpu_set_msr(vcpu, MSR_KVM_STEAL_TIME, 0);
}

/* No limit on the path: the injected bus locks are neither seen nor charged. */
static void test_no_limit(struct kvm_vcpu *vcpu)
{
	unsigned long long locks;
	double t0;

	set_rate("max");
	locks = stat_field("locks");
	inject(vcpu->vm, GUEST_EXITS);
	t0 = now_s();
	run_to_sync(vcpu);
	run_to_sync(vcpu);
	ksft_test_result(now_s() - t0 < 0.2 && stat_field("locks") == locks,
			 "no limit: nothing is charged, nothing stalls\n");
}

/* The next exit of @vcpu must be the bus lock userspace asked for. */
static bool bus_lock_exit(struct kvm_vcpu *vcpu)
{
	vcpu_run(vcpu);
	return vcpu->run->exit_reason == KVM_EXIT_X86_BUS_LOCK &&
	       (vcpu->run->flags & KVM_RUN_X86_BUS_LOCK);
}

/*
 * A VMM that enabled KVM_CAP_X86_BUS_LOCK_EXIT gets an exit per bus lock
 * whether or not its cgroup is limited, and a limit still charges them.
 */
static void test_cap(void)
{
	unsigned long long locks;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	bool seen;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_enable_cap(vm, KVM_CAP_X86_BUS_LOCK_EXIT, KVM_BUS_LOCK_DETECTION_EXIT);
	run_to_sync(vcpu);

	set_rate("1000 1000");
	locks = stat_field("locks");
	inject(vm, 1);
	seen = bus_lock_exit(vcpu);
	ksft_test_result(seen && stat_field("locks") == locks + 1,
			 "cap: a limited VMM with the capability gets its exit, charged\n");

	set_rate("max");
	inject(vm, 1);
	ksft_test_result(bus_lock_exit(vcpu),
			 "cap: an unlimited VMM with the capability gets its exit\n");
	run_to_sync(vcpu);
	kvm_vm_free(vm);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	char buf[32], path[PATH_MAX];
	struct kvm_vm *vm;

	ksft_print_header();
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+buslock"))
		ksft_exit_skip("no buslock controller in %s\n", CG_ROOT);
	rmdir(CG_TEST);
	TEST_ASSERT(!mkdir(CG_TEST, 0755) || errno == EEXIST, "mkdir " CG_TEST);
	snprintf(buf, sizeof(buf), "%d", getpid());
	TEST_ASSERT(!write_file(CG_TEST "/cgroup.procs", buf), "enter " CG_TEST);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	inject_path(vm, path, sizeof(path));
	if (access(path, W_OK))
		ksft_exit_skip("%s: no test-only injection (CONFIG_CGROUP_RATE_DEBUG)\n",
			       path);
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_BUS_LOCK_EXIT));

	ksft_set_plan(8);
	test_stall(vcpu);
	test_signal(vcpu);
	test_steal(vm, vcpu);
	test_no_limit(vcpu);
	kvm_vm_free(vm);
	test_cap();

	write_file(CG_ROOT "/cgroup.procs", buf);
	rmdir(CG_TEST);
	ksft_finished();
}
