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
 *
 * Charges the snp cgroup of the current task and each ancestor below the
 * root, all of them or none. KVM calls it from the vCPU thread that
 * handles the request, before the request reaches the firmware, so the
 * charge follows the thread if it is moved to another cgroup.
 *
 * Return: true if the request may go to the firmware; false if a limit on
 * the path refused it. A refusal is counted in snp.stat and snp.events.
 */
bool snp_cg_try_charge(void)
{
	struct rate_cg *rcg;
	bool admitted;

	if (!cgroup_subsys_enabled(snp_cgrp_subsys))
		return true;
	rcu_read_lock();
	rcg = css_rate_cg(task_css(current, snp_cgrp_id));
	if (static_branch_unlikely(&snp_cg_limited)) {
		admitted = rate_cg_try_charge(rcg);
	} else {
		rate_cg_count(rcg);
		admitted = true;
	}
	rcu_read_unlock();
	return admitted;
}
EXPORT_SYMBOL_FOR_KVM(snp_cg_try_charge);

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
