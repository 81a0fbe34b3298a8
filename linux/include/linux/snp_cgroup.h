/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snp cgroup controller: rate limits for SEV-SNP guest requests.
 */
#ifndef _LINUX_SNP_CGROUP_H
#define _LINUX_SNP_CGROUP_H

#include <linux/types.h>

#ifdef CONFIG_CGROUP_SNP
bool snp_cg_try_charge(void);
#else
static inline bool snp_cg_try_charge(void)
{
	return true;
}
#endif

#endif /* _LINUX_SNP_CGROUP_H */
