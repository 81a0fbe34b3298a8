// SPDX-License-Identifier: GPL-2.0
/*
 * snp cgroup controller: rate limits for SEV-SNP guest requests.
 *
 * The AMD Secure Processor runs every SEV command of the host, one at a
 * time. Guest requests (attestation reports, key derivation) from a few
 * VMs can keep it busy and delay other VMs' requests and launches. KVM
 * asks this controller before it passes a guest request to the firmware;
 * a refused request goes back to the guest as busy and the guest retries.
 *
 * The limit belongs to whoever owns the cgroup tree, not to the VMM being
 * limited, and a parent's limit bounds the sum of its children.
 */

#include <linux/cgroup.h>
#include <linux/jump_label.h>
#include <linux/kvm_types.h>
#include <linux/seq_file.h>
#include <linux/snp_cgroup.h>

#include "rate.h"

/* On while some snp.req_rate is finite: until then a charge only counts. */
static DEFINE_STATIC_KEY_FALSE(snp_cg_limited);

/**
 * snp_cg_try_charge - admit one SEV-SNP guest request or refuse it
 * @charge: filled in for snp_cg_commit() or snp_cg_uncharge()
 *
 * Charges the snp cgroup of the current task and each ancestor below the
 * root, all of them or none. KVM calls it from the vCPU thread that
 * handles the request, before the request can queue for the firmware, so
 * the charge follows the thread if it is moved to another cgroup. An
 * admitted request pins the cgroup it was charged to until the caller
 * knows whether it reached the firmware: snp_cg_commit() if it did,
 * snp_cg_uncharge() if it failed before, or the guest's retry would pay
 * twice for one report.
 *
 * Return: true if the request may go to the firmware; false if a limit on
 * the path refused it. A refusal is counted in snp.stat and snp.events.
 */
bool snp_cg_try_charge(struct snp_cg_charge *charge)
{
	struct cgroup_subsys_state *css;
	bool admitted = true;

	charge->css = NULL;
	if (!cgroup_subsys_enabled(snp_cgrp_subsys))
		return true;
	css = task_get_css(current, snp_cgrp_id);
	charge->seq = rate_cg_charge_seq();
	charge->at = ktime_get_ns();
	rcu_read_lock();
	if (static_branch_unlikely(&snp_cg_limited))
		admitted = rate_cg_try_charge(css_rate_cg(css));
	else
		rate_cg_count(css_rate_cg(css));
	rcu_read_unlock();
	if (admitted)
		charge->css = css;
	else
		css_put(css);
	return admitted;
}
EXPORT_SYMBOL_FOR_KVM(snp_cg_try_charge);

/**
 * snp_cg_commit - keep the charge of a request that reached the firmware
 * @charge: from snp_cg_try_charge(); nothing happens if it holds none
 */
void snp_cg_commit(struct snp_cg_charge *charge)
{
	if (charge->css) {
		css_put(charge->css);
		charge->css = NULL;
	}
}
EXPORT_SYMBOL_FOR_KVM(snp_cg_commit);

/**
 * snp_cg_uncharge - give back the charge of a request that never reached the firmware
 * @charge: from snp_cg_try_charge(); nothing happens if it holds none
 *
 * For a request that failed before the firmware (a guest address KVM
 * could not read) or that userspace answered instead (an extended
 * request's certificates: EAGAIN, ENOSPC, EIO). The cgroup charged gets
 * the request back, wherever the task is now, if that is still exact:
 * within one interval of each limit since the charge (rate_cg_refund());
 * a limit written since the charge keeps it too.
 */
void snp_cg_uncharge(struct snp_cg_charge *charge)
{
	if (!charge->css)
		return;
	rcu_read_lock();
	rate_cg_refund(css_rate_cg(charge->css), 1, 1, charge->seq, charge->at);
	rcu_read_unlock();
	snp_cg_commit(charge);
}
EXPORT_SYMBOL_FOR_KVM(snp_cg_uncharge);

static int snp_stat_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "requests %llu\n", sum.admitted);
	seq_printf(sf, "throttled %llu\n", sum.throttled);
	seq_printf(sf, "guaranteed %llu\n", sum.guaranteed);
	seq_printf(sf, "borrowed %llu\n", sum.borrowed);
	return 0;
}

static struct cftype snp_files[] = {
	{
		.name = "req_rate",
		.flags = CFTYPE_NOT_ON_ROOT,
		.seq_show = rate_cg_limit_show,
		.write = rate_cg_limit_write,
	},
	{
		.name = "weight",
		.flags = CFTYPE_NOT_ON_ROOT,
		.read_u64 = rate_cg_weight_read,
		.write_u64 = rate_cg_weight_write,
	},
	{
		.name = "stat",
		.seq_show = snp_stat_show,
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
snp_css_alloc(struct cgroup_subsys_state *parent)
{
	return rate_cg_css_alloc(parent, &snp_cg_limited);
}

/*
 * Threaded: every charge is the current thread's, so a VMM that puts each
 * vCPU thread in a threaded cgroup of its own (libvirt's vcpuN) can limit
 * vCPUs one by one, and the VM's cgroup above them still bounds them all.
 */
struct cgroup_subsys snp_cgrp_subsys = {
	.css_alloc = snp_css_alloc,
	.css_online = rate_cg_css_online,
	.css_offline = rate_cg_css_offline,
	.css_free = rate_cg_css_free,
	.dfl_cftypes = snp_files,
	.threaded = true,
};
