/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hierarchical token buckets shared by the snp and buslock controllers.
 *
 * Private to kernel/cgroup: KVM and other callers use the controllers'
 * headers, <linux/snp_cgroup.h> and <linux/buslock_cgroup.h>.
 */
#ifndef _KERNEL_CGROUP_RATE_H
#define _KERNEL_CGROUP_RATE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/cgroup.h>
#include <linux/jump_label.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

/* Limits of "RATE BURST" in the rate files, documented in cgroup-v2.rst. */
#define RATE_CG_MAX_RATE	1000000ULL	/* events per second */
#define RATE_CG_MAX_BURST	1000000ULL	/* events */

/* The weight files, as cpu.weight and io.weight. */
#define RATE_CG_WEIGHT_MIN	1
#define RATE_CG_WEIGHT_DFL	100
#define RATE_CG_WEIGHT_MAX	10000

/* The shares of a rate leave 1/RATE_CG_SHARE_SLACK of it to borrowers. */
#define RATE_CG_SHARE_SLACK	64

/* The shallowest share: a request and its retry, or a short burst. */
#define RATE_CG_MIN_SHARE_DEPTH	2

/*
 * The longest interval between two events of a share and the furthest a
 * TAT runs ahead, in nanoseconds (2.3 and 36.5 years). With the clock
 * below 2^62 ns (146 years of uptime), no TAT reaches 2^63: nothing wraps.
 */
#define RATE_CG_MAX_COST	BIT_ULL(56)
#define RATE_CG_MAX_AHEAD	BIT_ULL(60)

/* A stall is served in sleeps of at most this, each followed by a re-check. */
#define RATE_CG_STALL_SLICE_NS	(100 * NSEC_PER_MSEC)

/*
 * The most events one refund gives back: at RATE_CG_MAX_COST each, a TAT
 * taken below zero still differs from any clock reading by less than 2^63.
 */
#define RATE_CG_MAX_REFUND	64U

/* Fair sharing covers this many levels nearest the charger. */
#define RATE_CG_SHARE_LEVELS	256

/**
 * struct rate_bucket - the state of a token bucket in GCRA form
 * @tat: theoretical arrival time of the next event, in nanoseconds of
 *	 ktime_get_ns(); at or before now, the bucket is full
 *
 * The state lives as long as its cgroup and is never replaced: a new
 * setting changes only the parameters it is read with.
 */
struct rate_bucket {
	atomic64_t tat;
};

/**
 * struct rate_params - how a bucket is read, published with RCU
 * @cost: nanoseconds per event, 1/rate rounded up; 0 admits nothing
 * @depth: how far the TAT may run ahead of now after an event that came
 *	   within its share of this bucket (guaranteed), in nanoseconds
 * @borrow: the same for any other event: @depth less the room kept for
 *	    the children's guaranteed events
 * @seq: when these were published; see rate_cg_rollback()
 * @rcu: frees them once no charge can read them
 */
struct rate_params {
	u64 cost;
	u64 depth;
	u64 borrow;
	unsigned long seq;
	struct rcu_head rcu;
};

struct rate_shares;

/**
 * struct rate_cg_stat - counts of a cgroup
 * @admitted: events charged
 * @throttled: events refused or stalled
 * @delay_ns: stalls owed
 * @events: refusals or stalls caused by a limit (per CPU: this cgroup's)
 * @guaranteed: events of the subtree that a congested ancestor admitted
 *		within this cgroup's share
 * @borrowed: events of the subtree that a congested ancestor admitted
 *	      beyond this cgroup's share
 *
 * Per CPU, every count is of this cgroup's own events and limit; the
 * stat files show the first four summed over the subtree.
 */
struct rate_cg_stat {
	u64 admitted;
	u64 throttled;
	u64 delay_ns;
	u64 events;
	u64 guaranteed;
	u64 borrowed;
};

/**
 * struct rate_cg - a cgroup's state in a rate controller (snp or buslock)
 * @css: the controller's css; first member, so file_offset works
 * @limit_p: the parameters of the cgroup's own limit; NULL for "max"
 * @share_p: those of its share of the nearest limited ancestor; NULL if none
 * @limit: the state of the limit
 * @share: the state of the share
 * @stat: per-CPU counts of the cgroup's own events
 * @shares: the share parameters of the children, which their @share_p
 *	    point into
 * @removed: the counts of removed descendants
 * @events_file: notified on a refusal or stall caused in the subtree
 * @events_local_file: notified on one caused by this cgroup's limit
 * @limited_key: the controller's key, on while any of its limits is finite
 * @rate: the setting of the limit file, RATE or U64_MAX for "max"
 * @burst: the setting's BURST
 * @weight: the weight file
 * @online: counts in its parent's shares
 * @weight_sum: the sum of the online children's weights
 * @nr_online: the number of online children
 * @share_cost: the share's nanoseconds per event; 0 admits nothing
 * @share_depth: the share's depth in events; 0 for no share
 * @share_changed: the last split changed the share, so its subtree too
 *
 * The fields from @shares on belong to the slow path and are serialized
 * by a mutex in rate.c; charges read the parameters and bucket states.
 */
struct rate_cg {
	struct cgroup_subsys_state css;
	struct rate_params __rcu *limit_p;
	struct rate_params __rcu *share_p;
	struct rate_bucket limit;
	struct rate_bucket share;
	struct rate_cg_stat __percpu *stat;
	struct rate_shares *shares;
	struct rate_cg_stat removed;
	struct cgroup_file events_file;
	struct cgroup_file events_local_file;
	struct static_key_false *limited_key;
	u64 rate;
	u64 burst;
	u64 weight;
	bool online;
	u64 weight_sum;
	u64 nr_online;
	u64 share_cost;
	u64 share_depth;
	bool share_changed;
};

static inline struct rate_cg *css_rate_cg(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct rate_cg, css) : NULL;
}

/* Bucket arithmetic, exposed for the KUnit tests. */
void rate_params_init(struct rate_params *p, u64 cost, u64 depth,
		      u64 borrow_depth);
bool rate_bucket_try_charge(struct rate_bucket *b, const struct rate_params *p,
			    u64 now, bool guaranteed);
void rate_bucket_uncharge(struct rate_bucket *b, const struct rate_params *p,
			  unsigned int n);
u64 rate_bucket_room(struct rate_bucket *b, const struct rate_params *p,
		     u64 now);
bool rate_bucket_try_charge_n(struct rate_bucket *b, const struct rate_params *p,
			      u64 now, unsigned int n);
bool rate_bucket_refund(struct rate_bucket *b, const struct rate_params *p,
			unsigned int n, unsigned int span, u64 at, u64 now);
u64 rate_bucket_charge_debt(struct rate_bucket *b, const struct rate_params *p,
			    u64 now);
u64 rate_bucket_conform_ns(struct rate_bucket *b, const struct rate_params *p,
			   u64 now);
void rate_bucket_rebase(struct rate_bucket *b, const struct rate_params *old,
			const struct rate_params *p, u64 now, bool keep_fill);

int rate_cg_parse(char *buf, u64 *rate, u64 *burst);

/* Charging a cgroup and its ancestors; the caller holds rcu_read_lock(). */
void rate_cg_count(struct rate_cg *leaf);
bool rate_cg_try_charge(struct rate_cg *leaf);
unsigned long rate_cg_charge_seq(void);
void rate_cg_refund(struct rate_cg *leaf, unsigned int n, unsigned int span,
		    unsigned long seq, u64 at);
unsigned int rate_cg_reserve(struct rate_cg *leaf, unsigned int max,
			     unsigned long *seq, u64 *at);
u64 rate_cg_charge_debt(struct rate_cg *leaf);
u64 rate_cg_conform_ns(struct rate_cg *leaf);
bool rate_cg_limited(struct rate_cg *leaf);
bool rate_cg_sleep_until(u64 until);

/* Controller plumbing shared by snp and buslock. */
struct cgroup_subsys_state *rate_cg_css_alloc(struct cgroup_subsys_state *parent,
					      struct static_key_false *limited_key);
int rate_cg_css_online(struct cgroup_subsys_state *css);
void rate_cg_css_offline(struct cgroup_subsys_state *css);
void rate_cg_css_free(struct cgroup_subsys_state *css);
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum);
int rate_cg_limit_show(struct seq_file *sf, void *v);
ssize_t rate_cg_set_limit(struct kernfs_open_file *of, char *buf,
			  size_t nbytes, bool *toggled);
ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off);
u64 rate_cg_weight_read(struct cgroup_subsys_state *css, struct cftype *cft);
int rate_cg_weight_write(struct cgroup_subsys_state *css, struct cftype *cft,
			 u64 weight);
int rate_cg_events_show(struct seq_file *sf, void *v);
int rate_cg_events_local_show(struct seq_file *sf, void *v);

#endif /* _KERNEL_CGROUP_RATE_H */
