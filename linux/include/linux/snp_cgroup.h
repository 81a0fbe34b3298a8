/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snp cgroup controller: rate limits for SEV-SNP guest requests.
 */
#ifndef _LINUX_SNP_CGROUP_H
#define _LINUX_SNP_CGROUP_H

#include <linux/types.h>

struct cgroup_subsys_state;

#ifdef CONFIG_CGROUP_SNP
/**
 * struct snp_cg_charge - a guest request admitted but not yet sent on
 * @css: the snp cgroup charged, pinned until snp_cg_commit() or
 *	 snp_cg_uncharge(); NULL for none
 * @seq: the settings the charge was judged by
 * @at: when it was charged, in nanoseconds of ktime_get_ns()
 */
struct snp_cg_charge {
	struct cgroup_subsys_state *css;
	unsigned long seq;
	u64 at;
};

bool snp_cg_try_charge(struct snp_cg_charge *charge);
void snp_cg_commit(struct snp_cg_charge *charge);
void snp_cg_uncharge(struct snp_cg_charge *charge);
#else
struct snp_cg_charge {};

static inline bool snp_cg_try_charge(struct snp_cg_charge *charge)
{
	return true;
}

static inline void snp_cg_commit(struct snp_cg_charge *charge)
{
}

static inline void snp_cg_uncharge(struct snp_cg_charge *charge)
{
}
#endif

#endif /* _LINUX_SNP_CGROUP_H */
