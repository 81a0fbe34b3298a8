// SPDX-License-Identifier: GPL-2.0
/* The state behind kernel_shim.h, and helpers the model's programs share. */
#include "kernel_shim.h"
#include "rate.h"

u64 shim_now;
bool shim_real_clock;
int shim_signal;
u64 shim_slept_ns;
__thread int shim_cpu;
volatile unsigned long jiffies;

/* A cgroup below @parent (NULL for the root), as css_alloc makes it. */
struct rate_cg *model_new_cg(struct rate_cg *parent)
{
	struct cgroup_subsys_state *pcss = parent ? &parent->css : NULL;
	struct rate_cg *rcg = css_rate_cg(rate_cg_css_alloc(pcss));

	rcg->css.parent = pcss;
	return rcg;
}

/* Writes @setting to the cgroup's limit file, as cgroupfs would. */
ssize_t model_write_limit(struct rate_cg *rcg, const char *setting)
{
	struct kernfs_open_file of = { .css = &rcg->css };
	char buf[64];
	size_t len = strlen(setting);

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, setting, len + 1);
	return rate_cg_limit_write(&of, buf, len, 0);
}
