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
unsigned long shim_grace_periods;
void (*shim_cmpxchg_hook)(void);

struct cgroup_subsys_state *shim_next_pre(struct cgroup_subsys_state *pos,
					  struct cgroup_subsys_state *root)
{
	if (!pos)
		return root;
	if (pos->first_child)
		return pos->first_child;
	while (pos != root) {
		if (pos->next_sibling)
			return pos->next_sibling;
		pos = pos->parent;
	}
	return NULL;
}

static struct cgroup_subsys_state *leftmost(struct cgroup_subsys_state *pos)
{
	while (pos->first_child)
		pos = pos->first_child;
	return pos;
}

struct cgroup_subsys_state *shim_next_post(struct cgroup_subsys_state *pos,
					   struct cgroup_subsys_state *root)
{
	if (!pos)
		return leftmost(root);
	if (pos == root)
		return NULL;
	if (pos->next_sibling)
		return leftmost(pos->next_sibling);
	return pos->parent;
}

/* A cgroup below @parent (NULL for the root), as mkdir makes it. */
struct rate_cg *model_new_cg(struct rate_cg *parent)
{
	struct cgroup_subsys_state *pcss = parent ? &parent->css : NULL;
	struct rate_cg *rcg = css_rate_cg(rate_cg_css_alloc(pcss));
	struct cgroup_subsys_state **link;

	rcg->css.parent = pcss;
	if (pcss) {
		for (link = &pcss->first_child; *link; link = &(*link)->next_sibling)
			;
		*link = &rcg->css;
	}
	rate_cg_css_online(&rcg->css);
	return rcg;
}

/* Removes a childless cgroup, as rmdir does. */
void model_free_cg(struct rate_cg *rcg)
{
	struct cgroup_subsys_state *pcss = rcg->css.parent, **link;

	rate_cg_css_offline(&rcg->css);
	if (pcss) {
		for (link = &pcss->first_child; *link != &rcg->css;
		     link = &(*link)->next_sibling)
			;
		*link = rcg->css.next_sibling;
	}
	rate_cg_css_free(&rcg->css);
}

/* Writes the weight file. */
int model_write_weight(struct rate_cg *rcg, u64 weight)
{
	return rate_cg_weight_write(&rcg->css, NULL, weight);
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
