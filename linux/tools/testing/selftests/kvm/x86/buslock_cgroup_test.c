// SPDX-License-Identifier: GPL-2.0
/*
 * The buslock cgroup in KVM_RUN, driven by real bus locks: the guest
 * takes locked increments that split a cache line, and the CPU's bus-lock
 * detection (Intel's bus-lock VM exit, AMD's Bus Lock Threshold) reports
 * them to KVM, which charges them to the vCPU thread's buslock cgroup.
 *
 * The test moves itself into a new cgroup with a buslock.rate and checks:
 * the vCPU stalls for as long as the rate asks; a signal ends KVM_RUN
 * with KVM_EXIT_INTR and the stall is a deadline that time outside
 * KVM_RUN counts towards; the stalled vCPU is marked preempted and its
 * steal time grows by the stall; with no limit on the path nothing is
 * charged and nothing stalls; a limit written while a vCPU spins in one
 * KVM_RUN applies to it; vCPUs in one cgroup share its rate, however many
 * spin; the limit follows a vCPU thread moved mid-run, and each KVM_RUN
 * from another thread is limited by that thread's cgroup; an L2 guest
 * gets past a stall that outlasts L1's timer tick; a VMM that enabled
 * KVM_CAP_X86_BUS_LOCK_EXIT gets its exits, limited or not. The guest
 * counts its own bus locks, so that no case can pass by charging what
 * the guest never did.
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
#include "apic.h"
#include "svm_util.h"
#include "ucall_common.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_TEST		CG_ROOT "/kvm_buslock_test"
/* Threaded children, one unlimited, one limited */
#define CG_FREE		CG_TEST "/free"
#define CG_LIMITED	CG_TEST "/limited"
#define CACHE_LINE_SIZE	64
#define SPIN_VCPUS	2
/* The nested case: L2's bus locks, and L1's timer (1 GHz APIC bus) */
#define L2_BUS_LOCKS	3
#define L1_TIMER_VECTOR	0x40
#define L1_TICK_NS	10000000

/* An int that straddles two cache lines: a locked access to it is a bus lock. */
static u8 buffer[CACHE_LINE_SIZE * 2] __aligned(CACHE_LINE_SIZE);
static int *split = (int *)&buffer[CACHE_LINE_SIZE - sizeof(int) / 2];
/* The bus locks taken, where the host can read it whole */
static int bus_locks_taken;

/* Set by the host: bus locks per round of guest_code, and spin_code's end. */
static int nr_bus_locks;
static int spin_stop;
/* #VMEXIT(INTR)s L1 took from L2 */
static int l1_ticks;

static void bus_lock(void)
{
	asm volatile("lock incl %0" : "+m" (*split) : : "memory");
	/* Within a line: no bus lock, and the host reads it atomically */
	asm volatile("lock incl %0" : "+m" (bus_locks_taken) : : "memory");
}

static void guest_code(void)
{
	int i;

	for (;;) {
		for (i = 0; i < READ_ONCE(nr_bus_locks); i++)
			bus_lock();
		GUEST_SYNC(0);
	}
}

static void l2_code(void)
{
	int i;

	for (i = 0; i < L2_BUS_LOCKS; i++)
		bus_lock();
	vmmcall();
}

static void l1_timer_handler(struct ex_regs *regs)
{
	x2apic_write_reg(APIC_EOI, 0);
}

/*
 * L1 runs L2 with a periodic timer of its own that it intercepts, as a
 * hypervisor does: each tick during L2 is a #VMEXIT(INTR) to L1, which
 * takes the interrupt and runs L2 again from where it left off.
 */
static void l1_code(struct svm_test_data *svm)
{
	struct vmcb *vmcb = svm->vmcb;

	x2apic_enable();
	x2apic_write_reg(APIC_TDCR, 0xb);	/* divide by 1 */
	x2apic_write_reg(APIC_LVTT, APIC_LVT_TIMER_PERIODIC | L1_TIMER_VECTOR);
	x2apic_write_reg(APIC_TMICT, L1_TICK_NS);
	asm volatile("sti");

	generic_svm_setup(svm, l2_code);
	vmcb->control.intercept |= BIT_ULL(INTERCEPT_INTR);
	vmcb->control.int_ctl |= V_INTR_MASKING_MASK;
	for (;;) {
		run_guest(vmcb, svm->vmcb_gpa);
		stgi();		/* takes the tick, if it was one */
		if (vmcb->control.exit_code != SVM_EXIT_INTR)
			break;
		WRITE_ONCE(l1_ticks, l1_ticks + 1);
	}
	GUEST_ASSERT_EQ(vmcb->control.exit_code, SVM_EXIT_VMMCALL);
	x2apic_write_reg(APIC_TMICT, 0);
	GUEST_DONE();
}

/* Bus locks in one KVM_RUN until the host says stop. */
static void spin_code(void)
{
	while (!READ_ONCE(spin_stop))
		bus_lock();
	GUEST_DONE();
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A field of @cg's buslock.stat */
static void sleep_s(double secs)
{
	struct timespec ts = { .tv_sec = secs, .tv_nsec = (secs - (long)secs) * 1e9 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static unsigned long long cg_stat_field(const char *cg, const char *field)
{
	char buf[512], *p;
	unsigned long long val = 0;
	FILE *f;

	snprintf(buf, sizeof(buf), "%s/buslock.stat", cg);
	f = fopen(buf, "r");
	TEST_ASSERT(f, "open %s", buf);
	while (fgets(buf, sizeof(buf), f)) {
		p = strchr(buf, ' ');
		if (p && !strncmp(buf, field, p - buf) && strlen(field) == p - buf)
			val = strtoull(p + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

static unsigned long long stat_field(const char *field)
{
	return cg_stat_field(CG_TEST, field);
}

/* A threaded child of CG_TEST with a buslock.rate of @rate */
static void make_threaded(const char *cg, const char *rate)
{
	char path[PATH_MAX];

	TEST_ASSERT(!mkdir(cg, 0755), "mkdir %s", cg);
	snprintf(path, sizeof(path), "%s/cgroup.type", cg);
	TEST_ASSERT(!write_file(path, "threaded"), "write %s", path);
	snprintf(path, sizeof(path), "%s/buslock.rate", cg);
	TEST_ASSERT(!write_file(path, rate), "write %s", path);
}

/*
 * Remove @cg, once the threads that left it are gone: a thread that
 * pthread_join() saw exit leaves its cgroup a little later.
 */
static void remove_cgroup(const char *cg)
{
	double t0 = now_s();

	while (rmdir(cg) && errno == EBUSY && now_s() - t0 < 5)
		usleep(10000);
	TEST_ASSERT(access(cg, F_OK), "rmdir %s", cg);
}

static void move_thread(const char *cg, pid_t tid)
{
	char path[PATH_MAX], buf[16];

	snprintf(path, sizeof(path), "%s/cgroup.threads", cg);
	snprintf(buf, sizeof(buf), "%d", tid);
	TEST_ASSERT(!write_file(path, buf), "move thread %d to %s", tid, cg);
}

static void set_rate(const char *rate)
{
	TEST_ASSERT(!write_file(CG_TEST "/buslock.rate", rate),
		    "write buslock.rate %s", rate);
}

/* The bus locks the guest has taken so far. */
static int guest_bus_locks(struct kvm_vm *vm)
{
	return READ_ONCE(*(int *)addr_gva2hva(vm, (gva_t)&bus_locks_taken));
}

static void set_bus_locks(struct kvm_vm *vm, int n)
{
	nr_bus_locks = n;
	sync_global_to_guest(vm, nr_bus_locks);
}

/* One KVM_RUN to the guest's next ucall, which must be a GUEST_SYNC. */
static void run_to_sync(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
}

/*
 * The guest takes @n bus locks, then a round with none serves a stall its
 * last one left (Intel's exit comes after the bus lock, AMD's before it).
 */
static void run_bus_locks(struct kvm_vcpu *vcpu, int n)
{
	int before = guest_bus_locks(vcpu->vm);

	set_bus_locks(vcpu->vm, n);
	run_to_sync(vcpu);
	set_bus_locks(vcpu->vm, 0);
	run_to_sync(vcpu);
	TEST_ASSERT_EQ(guest_bus_locks(vcpu->vm), before + n);
}

static bool near(double got, double want, double tol)
{
	ksft_print_msg("  took %.3f s, expected %.3f s +- %.3f\n", got, want, tol);
	return got > want - tol && got < want + tol;
}

/*
 * Three bus locks at "2 1": the first is free, the others 0.5 s each,
 * two stalls in KVM's stats with the time they slept.
 */
static void test_stall(struct kvm_vcpu *vcpu)
{
	unsigned long long locks = stat_field("locks");
	unsigned long long stalls = vcpu_get_stat(vcpu, bus_lock_stalls);
	unsigned long long slept_ns = vcpu_get_stat(vcpu, cgroup_stall_ns);
	double t0;

	set_rate("2 1");
	sleep(1);	/* a full bucket */
	t0 = now_s();
	run_bus_locks(vcpu, 3);
	stalls = vcpu_get_stat(vcpu, bus_lock_stalls) - stalls;
	slept_ns = vcpu_get_stat(vcpu, cgroup_stall_ns) - slept_ns;
	ksft_print_msg("  %llu stalls in KVM's stats, %.3f s asleep\n",
		       stalls, slept_ns / 1e9);
	ksft_test_result(near(now_s() - t0, 1.0, 0.25) &&
			 stat_field("locks") == locks + 3 && stalls == 2 &&
			 near(slept_ns / 1e9, 1.0, 0.25),
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
	int before = guest_bus_locks(vcpu->vm);
	double t0, t_intr;
	int r;

	set_rate("1 1");
	sleep(2);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	set_bus_locks(vcpu->vm, 3);
	t0 = now_s();
	setitimer(ITIMER_REAL, &it, NULL);
	r = __vcpu_run(vcpu);
	t_intr = now_s() - t0;
	it.it_value.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);	/* if KVM_RUN ended first */
	ksft_test_result(r == -1 && errno == EINTR &&
			 vcpu->run->exit_reason == KVM_EXIT_INTR &&
			 near(t_intr, 0.3, 0.2),
			 "signal: KVM_RUN ends with KVM_EXIT_INTR during a stall\n");
	sleep(1);
	run_to_sync(vcpu);
	set_bus_locks(vcpu->vm, 0);
	run_to_sync(vcpu);
	TEST_ASSERT_EQ(guest_bus_locks(vcpu->vm), before + 3);
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

static void *run_until_signal(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	long r = __vcpu_run(vcpu);

	TEST_ASSERT(r == -1 && errno == EINTR, "KVM_RUN: %ld, errno %d", r, errno);
	return NULL;
}

/*
 * A vCPU that halts once its stall has ended must not stay marked
 * preempted: the guest would take its idle CPU for a busy one. At "1 1"
 * three bus locks owe 2 s; a signal ends KVM_RUN during the first stall,
 * the VMM halts the vCPU, and KVM_RUN from another thread serves the
 * rest of the stall and blocks. The flag is read while it is blocked.
 */
static void test_steal_halted(struct kvm_vcpu *vcpu, struct kvm_steal_time *st)
{
	struct kvm_mp_state halted = { .mp_state = KVM_MP_STATE_HALTED };
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value.tv_usec = 300000 };
	int before = guest_bus_locks(vcpu->vm);
	unsigned long long stalls;
	pthread_t thread;
	int preempted;

	set_rate("1 1");
	sleep(2);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	set_bus_locks(vcpu->vm, 3);
	stalls = vcpu_get_stat(vcpu, bus_lock_stalls);
	setitimer(ITIMER_REAL, &it, NULL);
	TEST_ASSERT(__vcpu_run(vcpu) == -1 && errno == EINTR, "KVM_RUN not interrupted");
	/* The signal must have cut a stall short, or this shows nothing */
	stalls = vcpu_get_stat(vcpu, bus_lock_stalls) - stalls;
	vcpu_mp_state_set(vcpu, &halted);
	TEST_ASSERT(!pthread_create(&thread, NULL, run_until_signal, vcpu), "pthread_create");
	sleep_s(1.5);	/* the stall ends at 1 s */
	preempted = READ_ONCE(st->preempted);
	pthread_kill(thread, SIGALRM);
	pthread_join(thread, NULL);
	vcpu_mp_state_set(vcpu, &runnable);
	run_to_sync(vcpu);
	set_bus_locks(vcpu->vm, 0);
	run_to_sync(vcpu);
	TEST_ASSERT_EQ(guest_bus_locks(vcpu->vm), before + 3);
	ksft_test_result(stalls && !(preempted & KVM_VCPU_PREEMPTED),
			 "steal: a vCPU halted after its stall is not left marked preempted\n");
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
	TEST_ASSERT(!pthread_create(&thread, NULL, probe_preempted, &probe),
		    "pthread_create");
	run_bus_locks(vcpu, 2);
	pthread_join(thread, NULL);
	ksft_print_msg("  steal grew by %.3f s\n",
		       (READ_ONCE(probe.st->steal) - steal0) / 1e9);
	ksft_test_result(probe.preempted & KVM_VCPU_PREEMPTED,
			 "steal: a stalled vCPU is marked preempted\n");
	ksft_test_result(READ_ONCE(probe.st->steal) - steal0 > 800000000ull,
			 "steal: steal time grows by the stall\n");
	test_steal_halted(vcpu, probe.st);
	vcpu_set_msr(vcpu, MSR_KVM_STEAL_TIME, 0);
}

/* No limit on the path: the guest's bus locks are neither charged nor stalled. */
static void test_no_limit(struct kvm_vcpu *vcpu)
{
	unsigned long long locks;
	double t0;

	set_rate("max");
	locks = stat_field("locks");
	t0 = now_s();
	run_bus_locks(vcpu, 100);
	ksft_test_result(now_s() - t0 < 0.5 && stat_field("locks") == locks,
			 "no limit: nothing is charged, nothing stalls\n");
}

struct spinner {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	pid_t tid;
};

static void *spin_vcpu(void *arg)
{
	struct spinner *sp = arg;
	struct ucall uc;

	WRITE_ONCE(sp->tid, gettid());
	vcpu_run(sp->vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(sp->vcpu, KVM_EXIT_IO);
	TEST_ASSERT_EQ(get_ucall(sp->vcpu, &uc), UCALL_DONE);
	return NULL;
}

/*
 * Bus locks the guest of @vm takes in about @secs of wall time; the time
 * it really was in *@elapsed, if given, as a loaded host oversleeps.
 */
static int bus_locks_in(struct kvm_vm *vm, double secs, double *elapsed)
{
	int before = guest_bus_locks(vm);
	double t0 = now_s();

	sleep_s(secs);
	if (elapsed)
		*elapsed = now_s() - t0;
	return guest_bus_locks(vm) - before;
}

/* At most what RATE admits in @secs with BURST, and one in flight per vCPU */
static bool within_rate(int locks, int rate, int burst, double secs, int vcpus)
{
	return locks <= rate * secs + burst + vcpus;
}

/*
 * The adversary: SPIN_VCPUS vCPUs of one VM, each in a single KVM_RUN
 * that takes bus locks back to back. Unlimited, they run free. A limit
 * written from another thread meanwhile applies without a new KVM_RUN,
 * and the vCPUs share it: "10 1" over 2 s admits 10 * 2 + 1, plus at
 * most one charge in flight per vCPU.
 */
static void test_spin(void)
{
	struct kvm_vcpu *vcpus[SPIN_VCPUS];
	struct spinner sp[SPIN_VCPUS];
	unsigned long long locks;
	int i, free_run, limited;
	struct kvm_vm *vm;
	double secs;

	set_rate("max");
	vm = vm_create_with_vcpus(SPIN_VCPUS, spin_code, vcpus);
	for (i = 0; i < SPIN_VCPUS; i++) {
		sp[i].vcpu = vcpus[i];
		TEST_ASSERT(!pthread_create(&sp[i].thread, NULL, spin_vcpu, &sp[i]),
			    "pthread_create");
	}
	free_run = bus_locks_in(vm, 1.0, NULL);

	set_rate("10 1");
	bus_locks_in(vm, 0.5, NULL);	/* the limit reaches each running vCPU */
	locks = stat_field("locks");
	limited = bus_locks_in(vm, 2.0, &secs);
	ksft_print_msg("  %d bus locks in 1 s unlimited, %d in %.3f s at \"10 1\", %llu charged\n",
		       free_run, limited, secs, stat_field("locks") - locks);
	ksft_test_result(free_run > 100,
			 "spin: unlimited vCPUs take bus locks freely\n");
	ksft_test_result(limited >= 10 && within_rate(limited, 10, 1, secs, SPIN_VCPUS),
			 "spin: a limit written mid-run holds %d vCPUs to the shared rate\n",
			 SPIN_VCPUS);

	set_rate("max");
	*(int *)addr_gva2hva(vm, (gva_t)&spin_stop) = 1;
	for (i = 0; i < SPIN_VCPUS; i++)
		pthread_join(sp[i].thread, NULL);
	kvm_vm_free(vm);
}

/* Rounds of bus locks, far below "1000 100": 20 every 50 ms, 400 a second */
#define PACED_ROUNDS	25
#define PACED_LOCKS	20
#define PACED_GAP_S	0.05

/* Exits and bus locks of @vcpu over PACED_ROUNDS paced rounds. */
static double paced_rounds(struct kvm_vcpu *vcpu, unsigned long long *exits,
			   unsigned long long *charged)
{
	unsigned long long exits0 = vcpu_get_stat(vcpu, exits);
	unsigned long long locks0 = stat_field("locks");
	double t0 = now_s();
	int i;

	for (i = 0; i < PACED_ROUNDS; i++) {
		sleep_s(PACED_GAP_S);
		run_bus_locks(vcpu, PACED_LOCKS);
	}
	*exits = vcpu_get_stat(vcpu, exits) - exits0;
	*charged = stat_field("locks") - locks0;
	return now_s() - t0;
}

/*
 * AMD's Bus Lock Threshold is a count: far below its limit, a guest takes
 * a batch of bus locks, paid for in advance, for one exit. Paced at 400 a
 * second under "1000 100", the bus locks cost at most one exit per 4
 * beyond the exits of the same rounds unlimited, and buslock.stat counts
 * exactly the bus locks the guest took once KVM_RUN has returned (what a
 * batch leaves unused goes back). A guest spinning at the limit gets no
 * batch and still no more than the rate. Prints exits per second.
 */
static void test_batch(void)
{
	unsigned long long free_exits, paced_exits, charged, exits0, locks0;
	int taken = PACED_ROUNDS * PACED_LOCKS, locks;
	struct kvm_vcpu *vcpu;
	struct spinner sp;
	struct kvm_vm *vm;
	double secs;

	if (!host_cpu_is_amd) {
		/* Intel's exit comes after each bus lock: nothing to batch */
		ksft_test_result_skip("batch: AMD's Bus Lock Threshold only\n");
		goto spin;
	}
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	set_rate("max");
	secs = paced_rounds(vcpu, &free_exits, &charged);
	ksft_print_msg("  %d bus locks, %d per %.0f ms, no limit: %llu exits in %.2f s, %.0f/s\n",
		       taken, PACED_LOCKS, PACED_GAP_S * 1000, free_exits, secs,
		       free_exits / secs);
	set_rate("1000 100");
	secs = paced_rounds(vcpu, &paced_exits, &charged);
	ksft_print_msg("  the same at \"1000 100\": %llu exits in %.2f s, %.0f/s, %llu charged\n",
		       paced_exits, secs, paced_exits / secs, charged);
	ksft_test_result(charged == taken &&
			 paced_exits <= free_exits + taken / 4,
			 "batch: far below its limit a guest takes bus locks in batches\n");
	kvm_vm_free(vm);
spin:
	vm = vm_create_with_one_vcpu(&vcpu, spin_code);
	sp.vcpu = vcpu;
	TEST_ASSERT(!pthread_create(&sp.thread, NULL, spin_vcpu, &sp), "pthread_create");
	bus_locks_in(vm, 0.5, NULL);
	exits0 = vcpu_get_stat(vcpu, exits);
	locks0 = stat_field("locks");
	locks = bus_locks_in(vm, 2.0, &secs);
	ksft_print_msg("  spinning at \"1000 100\": %.0f bus locks, %.0f exits, %.0f charged/s\n",
		       locks / secs, (vcpu_get_stat(vcpu, exits) - exits0) / secs,
		       (stat_field("locks") - locks0) / secs);
	/* At least a third of the rate, or a loaded host proved nothing */
	ksft_test_result(locks >= 300 * secs && within_rate(locks, 1000, 100, secs, 1),
			 "batch: a guest spinning at its limit gets no more than the rate\n");
	set_rate("max");
	*(int *)addr_gva2hva(vm, (gva_t)&spin_stop) = 1;
	pthread_join(sp.thread, NULL);
	kvm_vm_free(vm);
}

static void *run_to_done(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_ASSERT_EQ(uc.cmd, UCALL_DONE);
	return NULL;
}

/*
 * An L2 guest's bus locks under a limit whose stall (0.5 s at "2 1")
 * outlasts L1's timer tick (10 ms). The exit comes before the bus lock;
 * while the vCPU stalls, L1's tick falls due and L1 re-enters L2 before
 * the instruction ran. The bus lock must then be let through, not charged
 * and stalled again: otherwise L2 never gets past it, however long it
 * waits. Three bus locks take 1 s, each charged once.
 */
static void test_nested(void)
{
	unsigned long long locks, charged;
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	struct kvm_vm *vm;
	gva_t svm_gva;
	double t0, took;
	int done, ticks;

	if (!kvm_cpu_has(X86_FEATURE_SVM)) {
		ksft_test_result_skip("nested: no nested SVM\n");
		return;
	}
	vm = vm_create_with_one_vcpu(&vcpu, l1_code);
	vm_install_exception_handler(vm, L1_TIMER_VECTOR, l1_timer_handler);
	vcpu_alloc_svm(vm, &svm_gva);
	vcpu_args_set(vcpu, 1, svm_gva);

	set_rate("2 1");
	sleep(1);
	locks = stat_field("locks");
	t0 = now_s();
	TEST_ASSERT(!pthread_create(&thread, NULL, run_to_done, vcpu), "pthread_create");
	while ((done = guest_bus_locks(vm)) < L2_BUS_LOCKS && now_s() - t0 < 5)
		usleep(10000);
	took = now_s() - t0;
	charged = stat_field("locks") - locks;
	ticks = READ_ONCE(*(int *)addr_gva2hva(vm, (gva_t)&l1_ticks));
	ksft_print_msg("  L2 took %d of %d bus locks in %.3f s, %llu charged, L1 ticked %d times\n",
		       done, L2_BUS_LOCKS, took, charged, ticks);
	set_rate("max");	/* lets a stuck L2 go */
	pthread_join(thread, NULL);
	/* A tick during each stall, or the case proves nothing */
	if (ticks < L2_BUS_LOCKS - 1)
		ksft_print_msg("  L1 did not tick during each stall: nothing shown\n");
	ksft_test_result(ticks >= L2_BUS_LOCKS - 1 && done == L2_BUS_LOCKS &&
			 near(took, 1.0, 0.4) && charged == L2_BUS_LOCKS,
			 "nested: L2 gets past a stall longer than L1's tick, each bus lock charged once\n");
	kvm_vm_free(vm);
}

/*
 * The vCPU thread, spinning on bus locks inside one KVM_RUN, is moved
 * through cgroup.threads from an unlimited threaded cgroup to one at
 * "10 1" and back: the limit it is under follows it without a new
 * KVM_RUN, either way.
 */
static void test_moved(void)
{
	int free_before, limited, free_after;
	struct kvm_vcpu *vcpu;
	struct spinner sp = { 0 };
	struct kvm_vm *vm;
	double secs;

	set_rate("max");
	make_threaded(CG_FREE, "max");
	make_threaded(CG_LIMITED, "10 1");
	vm = vm_create_with_one_vcpu(&vcpu, spin_code);
	sp.vcpu = vcpu;
	TEST_ASSERT(!pthread_create(&sp.thread, NULL, spin_vcpu, &sp), "pthread_create");
	while (!READ_ONCE(sp.tid))
		usleep(1000);
	move_thread(CG_FREE, sp.tid);
	free_before = bus_locks_in(vm, 1.0, NULL);

	move_thread(CG_LIMITED, sp.tid);
	bus_locks_in(vm, 0.5, NULL);
	limited = bus_locks_in(vm, 2.0, &secs);

	move_thread(CG_FREE, sp.tid);
	bus_locks_in(vm, 0.5, NULL);
	free_after = bus_locks_in(vm, 1.0, NULL);
	ksft_print_msg("  %d bus locks in 1 s unlimited, %d in %.3f s moved to \"10 1\",\n",
		       free_before, limited, secs);
	ksft_print_msg("  %d in 1 s moved back\n", free_after);
	ksft_test_result(free_before > 100 && limited >= 10 &&
			 within_rate(limited, 10, 1, secs, 1) && free_after > 100,
			 "moved: a limit follows the vCPU thread through cgroup.threads mid-run\n");

	*(int *)addr_gva2hva(vm, (gva_t)&spin_stop) = 1;
	pthread_join(sp.thread, NULL);
	kvm_vm_free(vm);
	remove_cgroup(CG_FREE);
	remove_cgroup(CG_LIMITED);
}

struct round {
	struct kvm_vcpu *vcpu;
	const char *cg;
	int bus_locks;
	double secs;
};

/*
 * A thread of its own in round->cg runs the guest's round of bus locks.
 * The clock starts after the move and a first KVM_RUN without bus locks,
 * both slow under emulation (RCU grace periods), so it times the round.
 */
static void *run_round(void *arg)
{
	struct round *r = arg;
	double t0;

	move_thread(r->cg, gettid());
	run_bus_locks(r->vcpu, 0);
	t0 = now_s();
	run_bus_locks(r->vcpu, r->bus_locks);
	r->secs = now_s() - t0;
	return NULL;
}

/* How long a round in @cg takes, and what @cg was charged for it */
static double round_in(struct kvm_vcpu *vcpu, const char *cg, int bus_locks,
		       unsigned long long *charged)
{
	struct round r = { vcpu, cg, bus_locks };
	unsigned long long before = cg_stat_field(cg, "locks");
	pthread_t thread;

	TEST_ASSERT(!pthread_create(&thread, NULL, run_round, &r), "pthread_create");
	pthread_join(thread, NULL);
	*charged = cg_stat_field(cg, "locks") - before;
	return r.secs;
}

/*
 * One vCPU, its KVM_RUN issued in turn by threads in different threaded
 * cgroups, as a VMM may do: each KVM_RUN is charged to, and limited by,
 * the cgroup of the thread that issues it. At "10 1", five bus locks
 * take 0.4 s; a hundred from the unlimited cgroup take no stall.
 */
static void test_alternate(void)
{
	unsigned long long free1, limited, free2;
	double t_free1, t_limited, t_free2;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;

	set_rate("max");
	make_threaded(CG_FREE, "max");
	make_threaded(CG_LIMITED, "10 1");
	sleep(1);
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	t_free1 = round_in(vcpu, CG_FREE, 100, &free1);
	t_limited = round_in(vcpu, CG_LIMITED, 5, &limited);
	t_free2 = round_in(vcpu, CG_FREE, 100, &free2);
	ksft_print_msg("  100 unlimited: %.3f s, %llu charged\n", t_free1, free1);
	ksft_print_msg("  5 at \"10 1\": %.3f s, %llu charged\n", t_limited, limited);
	ksft_print_msg("  100 unlimited: %.3f s, %llu charged\n", t_free2, free2);
	ksft_test_result(free1 == 0 && free2 == 0 && limited == 5 &&
			 t_free1 < 0.5 && t_free2 < 0.5 && near(t_limited, 0.4, 0.2),
			 "alternate: each KVM_RUN is limited by its own thread's cgroup\n");
	kvm_vm_free(vm);
	remove_cgroup(CG_FREE);
	remove_cgroup(CG_LIMITED);
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

	/* Enabled before the vCPU is created, as KVM's API asks. */
	vm = vm_create(1);
	vm_enable_cap(vm, KVM_CAP_X86_BUS_LOCK_EXIT, KVM_BUS_LOCK_DETECTION_EXIT);
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	run_to_sync(vcpu);
	set_bus_locks(vm, 1);

	set_rate("1000 1000");
	locks = stat_field("locks");
	seen = bus_lock_exit(vcpu);
	ksft_test_result(seen && stat_field("locks") == locks + 1,
			 "cap: a limited VMM with the capability gets its exit, charged\n");
	run_to_sync(vcpu);

	set_rate("max");
	ksft_test_result(bus_lock_exit(vcpu),
			 "cap: an unlimited VMM with the capability gets its exit\n");
	run_to_sync(vcpu);
	TEST_ASSERT_EQ(guest_bus_locks(vm), 2);
	kvm_vm_free(vm);
}

int main(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	char buf[32];

	ksft_print_header();
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_X86_BUS_LOCK_EXIT));
	if (write_file(CG_ROOT "/cgroup.subtree_control", "+buslock"))
		ksft_exit_skip("no buslock controller in %s\n", CG_ROOT);
	/* What an aborted run left */
	rmdir(CG_FREE);
	rmdir(CG_LIMITED);
	rmdir(CG_TEST);
	TEST_ASSERT(!mkdir(CG_TEST, 0755) || errno == EEXIST, "mkdir " CG_TEST);
	snprintf(buf, sizeof(buf), "%d", getpid());
	TEST_ASSERT(!write_file(CG_TEST "/cgroup.procs", buf), "enter " CG_TEST);
	TEST_ASSERT(!write_file(CG_TEST "/cgroup.subtree_control", "+buslock"),
		    "enable buslock in " CG_TEST);

	ksft_set_plan(16);
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	test_stall(vcpu);
	test_signal(vcpu);
	if (kvm_cpu_has(X86_FEATURE_KVM_STEAL_TIME)) {
		test_steal(vm, vcpu);
	} else {
		ksft_test_result_skip("steal: no KVM steal time\n");
		ksft_test_result_skip("steal: no KVM steal time\n");
		ksft_test_result_skip("steal: no KVM steal time\n");
	}
	test_no_limit(vcpu);
	kvm_vm_free(vm);
	test_spin();
	test_moved();
	test_alternate();
	test_nested();
	test_batch();
	test_cap();

	write_file(CG_ROOT "/cgroup.procs", buf);
	rmdir(CG_TEST);
	ksft_finished();
}
