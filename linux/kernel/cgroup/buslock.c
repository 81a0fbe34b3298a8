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
#include <linux/seq_file.h>

#include "rate.h"

/**
 * buslock_cg_charge - charge one bus lock to the current task's cgroup
 *
 * Charges the buslock cgroup of the current task and each ancestor below
 * the root, each in debt if its limit is exceeded (the debt is bounded).
 * KVM calls it from the vCPU thread that handled the bus-lock exit.
 *
 * Return: nanoseconds the vCPU should stall before it enters the guest
 * again, so that the most indebted level on the path conforms; 0 if every
 * level conforms. Serve the stall with buslock_cg_stall().
 */
u64 buslock_cg_charge(void)
{
	u64 stall;

	if (!cgroup_subsys_enabled(buslock_cgrp_subsys))
		return 0;
	rcu_read_lock();
	stall = rate_cg_charge_debt(css_rate_cg(task_css(current, buslock_cgrp_id)));
	rcu_read_unlock();
	return stall;
}
EXPORT_SYMBOL_GPL(buslock_cg_charge);

/**
 * buslock_cg_stall - serve a stall returned by buslock_cg_charge()
 * @ns: nanoseconds to stall
 *
 * Sleeps, interruptibly; the caller must hold no locks and must not be in
 * an RCU read-side section. A signal ends the stall early.
 *
 * Return: the nanoseconds not yet served, 0 if the stall was served whole.
 * The caller may carry them over, or let the bucket's debt, which already
 * accounts for them, stall the next bus lock.
 */
u64 buslock_cg_stall(u64 ns)
{
	return rate_cg_stall(ns);
}
EXPORT_SYMBOL_GPL(buslock_cg_stall);

static int buslock_stat_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "locks %llu\n", sum.admitted);
	seq_printf(sf, "throttled %llu\n", sum.throttled);
	seq_printf(sf, "delay_usec %llu\n", div_u64(sum.delay_ns, NSEC_PER_USEC));
	return 0;
}

static struct cftype buslock_files[] = {
	{
		.name = "rate",
		.flags = CFTYPE_NOT_ON_ROOT,
		.seq_show = rate_cg_limit_show,
		.write = rate_cg_limit_write,
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

struct cgroup_subsys buslock_cgrp_subsys = {
	.css_alloc = rate_cg_css_alloc,
	.css_free = rate_cg_css_free,
	.dfl_cftypes = buslock_files,
};
