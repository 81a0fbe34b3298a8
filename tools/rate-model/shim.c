// SPDX-License-Identifier: GPL-2.0
/* The state behind kernel_shim.h, and helpers the model's programs share. */
#include "kernel_shim.h"
#include "rate.h"

u64 shim_now;
bool shim_real_clock;
int shim_signal;
u64 shim_slept_ns;
__thread int shim_cpu;
__thread long shim_cpu_offset;
volatile unsigned long jiffies;
unsigned long shim_grace_periods;
void (*shim_cmpxchg_hook)(void);

/*
 * Parameters retired while charging threads may still read them: freed
 * once none runs (the grace period of the model's programs).
 */
static void **retired;
static size_t nr_retired, max_retired;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
int shim_readers;

void shim_kfree_rcu(void *p)
{
	pthread_mutex_lock(&retired_lock);
	if (!__atomic_load_n(&shim_readers, __ATOMIC_ACQUIRE)) {
		while (nr_retired)
			free(retired[--nr_retired]);
		free(p);
	} else {
		if (nr_retired == max_retired) {
			max_retired = max_retired ? 2 * max_retired : 1024;
			retired = realloc(retired, max_retired * sizeof(*retired));
		}
		retired[nr_retired++] = p;
	}
	pthread_mutex_unlock(&retired_lock);
}

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

/* The last cgroup of @pos's subtree in pre-order. */
struct cgroup_subsys_state *shim_rightmost(struct cgroup_subsys_state *pos)
{
	struct cgroup_subsys_state *c;

	for (;;) {
		for (c = pos->first_child; c && c->next_sibling; c = c->next_sibling)
			;
		if (!c)
			return pos;
		pos = c;
	}
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

/* The controller's key, as snp.c and buslock.c keep it. */
DEFINE_STATIC_KEY_FALSE(model_limited);

/* A cgroup below @parent (NULL for the root), as mkdir makes it. */
struct rate_cg *model_new_cg(struct rate_cg *parent)
{
	struct cgroup_subsys_state *pcss = parent ? &parent->css : NULL;
	struct rate_cg *rcg = css_rate_cg(rate_cg_css_alloc(pcss, &model_limited));
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
