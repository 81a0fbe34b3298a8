// SPDX-License-Identifier: GPL-2.0
/*
 * buslock cgroup controller: rate limits for bus locks taken by guests.
 *
 * A split lock or a locked access to uncached memory locks the memory bus
 * for every CPU of the host. A guest that takes bus locks in a loop slows
 * down all other guests and the host. The bus lock has happened by the
 * time KVM sees its exit, so this controller cannot refuse it: it charges
 * every level of the vCPU's cgroup, in debt if need be, and tells KVM how
 * long to stall the vCPU before it runs the guest again.
 */

#include <linux/buslock_cgroup.h>
#include <linux/cgroup.h>
#include <linux/jump_label.h>
#include <linux/kvm_types.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "rate.h"

/*
 * Bumped after each change that can put a task under a limit or take it
 * out: a write of buslock.rate anywhere, and a migration of tasks. KVM
 * reads it before each VM-entry and looks at buslock_cg_limited() again
 * when it has moved, to turn bus-lock detection on or off.
 */
atomic_t buslock_cg_seq = ATOMIC_INIT(0);
EXPORT_SYMBOL_FOR_KVM(buslock_cg_seq);

/*
 * On while some buslock.rate is finite: until then a charge only counts,
 * and KVM need not look at buslock_cg_seq before a VM-entry.
 */
DEFINE_STATIC_KEY_FALSE(buslock_cg_limited_key);
EXPORT_SYMBOL_FOR_KVM(buslock_cg_limited_key);

/*
 * Fully ordered: a reader that sees the new count sees the new limits,
 * and a kick that follows sees a vCPU that entered the guest before it
 * could see the count (the vCPU checks it again with interrupts off).
 */
static void buslock_cg_seq_bump(void)
{
	atomic_inc_return(&buslock_cg_seq);
}

/**
 * buslock_cg_limited - whether the current task's bus locks are limited
 *
 * Return: true if the task's buslock cgroup or an ancestor has a limit,
 * so that KVM must see the task's bus locks to charge them. Read
 * buslock_cg_path_seq() first and look again when it changes.
 */
bool buslock_cg_limited(void)
{
	bool limited;

	if (!cgroup_subsys_enabled(buslock_cgrp_subsys))
		return false;
	rcu_read_lock();
	limited = rate_cg_limited(css_rate_cg(task_css(current, buslock_cgrp_id)));
	rcu_read_unlock();
	return limited;
}
EXPORT_SYMBOL_FOR_KVM(buslock_cg_limited);

/**
 * buslock_cg_charge - charge one bus lock to the current task's cgroup
 *
 * Charges the buslock cgroup of the current task and each ancestor below
 * the root, each in debt if its limit is exceeded; the debt is kept
 * whole, so the rate holds however many vCPUs charge. KVM calls it from
 * the vCPU thread that handled the bus-lock exit.
 *
 * Return: the time, in nanoseconds of ktime_get_ns(), until which the vCPU
 * should stay out of the guest; 0 if it need not stall, U64_MAX if the
 * path admits no bus lock at all (RATE 0). Serve it with buslock_cg_stall().
 */
u64 buslock_cg_charge(void)
{
	struct rate_cg *rcg;
	u64 deadline = 0;

	if (!cgroup_subsys_enabled(buslock_cgrp_subsys))
		return 0;
	rcu_read_lock();
	rcg = css_rate_cg(task_css(current, buslock_cgrp_id));
	if (static_branch_unlikely(&buslock_cg_limited_key))
		deadline = rate_cg_charge_debt(rcg);
	else
		rate_cg_count(rcg);
	rcu_read_unlock();
	return deadline;
}
EXPORT_SYMBOL_FOR_KVM(buslock_cg_charge);

/**
 * buslock_cg_reserve - pay for bus locks before the guest takes them
 * @batch: filled in for buslock_cg_release()
 * @max: the most to reserve, at most BUSLOCK_CG_MAX_BATCH
 *
 * For hardware that counts bus locks down and exits only when the count
 * runs out (AMD's Bus Lock Threshold): KVM lets the guest take as many
 * bus locks without an exit as this reserves. They are charged now, to
 * every level of the current task's cgroup, as borrowers and only where
 * every level has room for twice as many (rate_cg_reserve()): a path far
 * below its limits saves exits, one near them gets nothing. Every bus
 * lock is paid for before it happens, so over the long run no limit
 * admits more than its rate; but a batch may be spent later than it was
 * paid for, so over an interval T a level sees at most
 * RATE * T + BURST + V * (1 + BUSLOCK_CG_MAX_BATCH) bus locks, V vCPUs
 * charging, where one exit at a time gives RATE * T + BURST + V. Call
 * from the vCPU thread; the cgroup charged stays pinned until
 * buslock_cg_release().
 *
 * Return: the number of bus locks reserved, 0 for none.
 */
unsigned int buslock_cg_reserve(struct buslock_cg_batch *batch,
				unsigned int max)
{
	struct cgroup_subsys_state *css;

	BUILD_BUG_ON(BUSLOCK_CG_MAX_BATCH > RATE_CG_MAX_REFUND);
	batch->n = 0;
	if (!cgroup_subsys_enabled(buslock_cgrp_subsys) ||
	    !static_branch_unlikely(&buslock_cg_limited_key))
		return 0;
	css = task_get_css(current, buslock_cgrp_id);
	rcu_read_lock();
	batch->n = rate_cg_reserve(css_rate_cg(css), min(max, BUSLOCK_CG_MAX_BATCH),
				   &batch->seq, &batch->at);
	rcu_read_unlock();
	if (batch->n)
		batch->css = css;
	else
		css_put(css);
	return batch->n;
}
EXPORT_SYMBOL_FOR_KVM(buslock_cg_reserve);

/**
 * buslock_cg_release - end a batch, giving back the bus locks not taken
 * @batch: from buslock_cg_reserve(); nothing happens if it holds none
 * @unused: how many of its bus locks the guest did not take
 *
 * They go back to the cgroup charged, wherever the task is now, while
 * that is exact: within the time the batch's bus locks cost at each
 * limit since it was reserved (rate_cg_refund()). A limit written since
 * keeps them, as does one whose bucket may have refilled meanwhile.
 * Call where a css may be put: not from the scheduler's preemption
 * notifiers.
 */
void buslock_cg_release(struct buslock_cg_batch *batch, unsigned int unused)
{
	if (!batch->n)
		return;
	if (unused) {
		rcu_read_lock();
		rate_cg_refund(css_rate_cg(batch->css), min(unused, batch->n),
			       batch->n, batch->seq, batch->at);
		rcu_read_unlock();
	}
	css_put(batch->css);
	batch->css = NULL;
	batch->n = 0;
}
EXPORT_SYMBOL_FOR_KVM(buslock_cg_release);

/* Nanoseconds until the current task's path lets a bus lock through. */
static u64 buslock_cg_conform_ns(void)
{
	u64 wait;

	rcu_read_lock();
	wait = rate_cg_conform_ns(css_rate_cg(task_css(current, buslock_cgrp_id)));
	rcu_read_unlock();
	return wait;
}

/**
 * buslock_cg_stall - serve a stall until a deadline from buslock_cg_charge()
 * @deadline: the deadline; 0 on return once it has passed
 *
 * Sleeps interruptibly, in slices of at most RATE_CG_STALL_SLICE_NS. After
 * each slice the deadline is brought forward if the limits on the task's
 * path, which may have been raised or removed meanwhile, no longer need
 * all of it; it never moves later. The caller must hold no locks and
 * must not be in an RCU read-side section.
 *
 * Return: 0 once the deadline has passed, -EINTR if a signal ended the
 * sleep first; @deadline then still holds what is left, which the caller
 * serves later: time that passes meanwhile counts towards it.
 */
int buslock_cg_stall(u64 *deadline)
{
	u64 now = ktime_get_ns(), wait;

	while (*deadline > now) {
		if (!rate_cg_sleep_until(min(*deadline,
					     now + RATE_CG_STALL_SLICE_NS)))
			return -EINTR;
		now = ktime_get_ns();
		if (now >= *deadline)
			break;
		wait = buslock_cg_conform_ns();
		if (wait < *deadline - now)
			*deadline = now + wait;
	}
	*deadline = 0;
	return 0;
}
EXPORT_SYMBOL_FOR_KVM(buslock_cg_stall);

static int buslock_stat_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "locks %llu\n", sum.admitted);
	seq_printf(sf, "throttled %llu\n", sum.throttled);
	seq_printf(sf, "guaranteed %llu\n", sum.guaranteed);
	seq_printf(sf, "borrowed %llu\n", sum.borrowed);
	seq_printf(sf, "delay_usec %llu\n", div_u64(sum.delay_ns, NSEC_PER_USEC));
	return 0;
}

/*
 * A vCPU thread in guest mode looks at the sequence count again only at
 * its next VM-exit, which a guest alone on a nohz_full CPU may not take
 * for a long time: make the tasks whose limits changed exit now. Only
 * those running on another CPU get an IPI; a migration kicks none while
 * no limit is finite, as then no vCPU needs to look.
 */
static void buslock_cg_kick_subtree(struct cgroup_subsys_state *top)
{
	struct cgroup_subsys_state *css;
	struct css_task_iter it;
	struct task_struct *task;

	rcu_read_lock();
	css_for_each_descendant_pre(css, top) {
		css_task_iter_start(css, 0, &it);
		while ((task = css_task_iter_next(&it)))
			kick_process(task);
		css_task_iter_end(&it);
	}
	rcu_read_unlock();
}

/*
 * Only a write that puts a limit on a path or takes the last one off can
 * change which vCPUs must detect bus locks: a new RATE or BURST reaches
 * their next charge by itself, and a writer rewriting the same setting
 * in a loop interrupts nobody.
 */
static ssize_t buslock_rate_write(struct kernfs_open_file *of, char *buf,
				  size_t nbytes, loff_t off)
{
	bool toggled;
	ssize_t ret = rate_cg_set_limit(of, buf, nbytes, &toggled);

	if (ret >= 0 && toggled) {
		buslock_cg_seq_bump();
		buslock_cg_kick_subtree(of_css(of));
	}
	return ret;
}

static void buslock_attach(struct cgroup_taskset *tset)
{
	struct cgroup_subsys_state *css;
	struct task_struct *task;

	buslock_cg_seq_bump();
	if (!buslock_cg_any_limit())
		return;
	cgroup_taskset_for_each(task, css, tset)
		kick_process(task);
}

static struct cftype buslock_files[] = {
	{
		.name = "rate",
		.flags = CFTYPE_NOT_ON_ROOT,
		.seq_show = rate_cg_limit_show,
		.write = buslock_rate_write,
	},
	{
		.name = "weight",
		.flags = CFTYPE_NOT_ON_ROOT,
		.read_u64 = rate_cg_weight_read,
		.write_u64 = rate_cg_weight_write,
	},
	{
		.name = "stat",
		.seq_show = buslock_stat_show,
	},
	{
		.name = "events",
		.flags = CFTYPE_NOT_ON_ROOT,
		.file_offset = offsetof(struct rate_cg, events_file),
		.seq_show = rate_cg_events_show,
	},
	{
		.name = "events.local",
		.flags = CFTYPE_NOT_ON_ROOT,
		.file_offset = offsetof(struct rate_cg, events_local_file),
		.seq_show = rate_cg_events_local_show,
	},
	{ }	/* terminate */
};

static struct cgroup_subsys_state *
buslock_css_alloc(struct cgroup_subsys_state *parent)
{
	return rate_cg_css_alloc(parent, &buslock_cg_limited_key);
}

/*
 * Threaded: every charge is the current thread's, so a VMM that puts each
 * vCPU thread in a threaded cgroup of its own (libvirt's vcpuN) can limit
 * vCPUs one by one, and the VM's cgroup above them still bounds them all.
 */
struct cgroup_subsys buslock_cgrp_subsys = {
	.css_alloc = buslock_css_alloc,
	.css_online = rate_cg_css_online,
	.css_offline = rate_cg_css_offline,
	.css_free = rate_cg_css_free,
	.attach = buslock_attach,
	.dfl_cftypes = buslock_files,
	.threaded = true,
};
