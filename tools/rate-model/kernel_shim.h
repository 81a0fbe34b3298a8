/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel for kernel/cgroup/rate.c (and the base tree's
 * lib/ratelimit.c) to compile and run in userspace, unchanged, the way
 * tools/testing/vma builds mm/vma.c. Force-included before the source;
 * the kernel headers the source names resolve to empty files.
 *
 * The clock is settable (shim_now) or real (shim_real_clock). Per-CPU
 * data is an array of SHIM_NR_CPUS slots of SHIM_PCPU_STRIDE bytes; each
 * thread sets shim_cpu to the slot it owns.
 */
#ifndef KERNEL_SHIM_H
#define KERNEL_SHIM_H

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t u64;
typedef int64_t s64;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef s64 ktime_t;
typedef unsigned int gfp_t;

#define U64_MAX		UINT64_MAX
#define U32_MAX		UINT32_MAX
#define NSEC_PER_SEC	1000000000L
#define NSEC_PER_MSEC	1000000L
#define NSEC_PER_USEC	1000L
#define GFP_KERNEL	0

#define __rcu
#define __percpu
#define __init
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#define EXPORT_SYMBOL(x)
#define EXPORT_SYMBOL_GPL(x)
#define EXPORT_SYMBOL_IF_KUNIT(x)
#define might_sleep()	do { } while (0)

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define clamp_t(t, v, lo, hi) \
	((t)(v) < (t)(lo) ? (t)(lo) : (t)(v) > (t)(hi) ? (t)(hi) : (t)(v))
#define ERR_PTR(e)	((void *)(long)(e))

static inline u64 div64_u64(u64 a, u64 b) { return a / b; }
static inline u64 div_u64(u64 a, u32 b) { return a / b; }

/* atomics */
typedef struct { s64 counter; } atomic64_t;
#define atomic64_read(v)	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic64_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic64_inc(v)		__atomic_fetch_add(&(v)->counter, 1, __ATOMIC_RELAXED)
#define atomic64_sub(i, v)	__atomic_fetch_sub(&(v)->counter, (i), __ATOMIC_SEQ_CST)
static inline bool atomic64_try_cmpxchg(atomic64_t *v, s64 *old, s64 new)
{
	return __atomic_compare_exchange_n(&v->counter, old, new, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* the clock */
extern u64 shim_now;
extern bool shim_real_clock;
static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	if (!shim_real_clock)
		return __atomic_load_n(&shim_now, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
#define ktime_get()		((ktime_t)ktime_get_ns())
#define ktime_add_ns(t, ns)	((t) + (s64)(ns))
#define ktime_sub(a, b)		((a) - (b))

/* sleeping: a fake sleep moves the fake clock; signals are settable */
#define TASK_INTERRUPTIBLE	1
#define TASK_RUNNING		0
#define HRTIMER_MODE_ABS	0
extern int shim_signal;
extern u64 shim_slept_ns;
#define current			NULL
#define set_current_state(s)	do { } while (0)
#define __set_current_state(s)	do { } while (0)
#define signal_pending(t)	(shim_signal)
static inline int schedule_hrtimeout(ktime_t *end, int mode)
{
	u64 now = ktime_get_ns();

	if ((u64)*end > now && !shim_real_clock) {
		shim_slept_ns += *end - now;
		shim_now = *end;
	}
	return 0;
}

/* memory */
#define kzalloc(size, gfp)	calloc(1, (size))
#define kfree(p)		free((void *)(p))
#define kfree_rcu(p, field)	free(p)

/* per-CPU data */
#define SHIM_NR_CPUS		64
#define SHIM_PCPU_STRIDE	128
extern __thread int shim_cpu;
/* Zeroed, as the kernel's alloc_percpu() memory is. */
static inline void *shim_alloc_percpu(void)
{
	void *p = aligned_alloc(64, SHIM_NR_CPUS * SHIM_PCPU_STRIDE);

	if (p)
		memset(p, 0, SHIM_NR_CPUS * SHIM_PCPU_STRIDE);
	return p;
}
#define alloc_percpu(type)	((type *)shim_alloc_percpu())
#define free_percpu(p)		free(p)
#define per_cpu_ptr(p, cpu) \
	((typeof(p))((char *)(p) + (cpu) * SHIM_PCPU_STRIDE))
#define shim_this_cpu_lval(x) \
	(*(typeof(&(x)))((char *)&(x) + shim_cpu * SHIM_PCPU_STRIDE))
#define this_cpu_inc(x)		(shim_this_cpu_lval(x) += 1)
#define this_cpu_add(x, v)	(shim_this_cpu_lval(x) += (v))
#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < SHIM_NR_CPUS; (cpu)++)

/* RCU: readers never race with frees in the model's runs */
#define rcu_read_lock()		do { } while (0)
#define rcu_read_unlock()	do { } while (0)
#define rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_CONSUME)
#define rcu_dereference_protected(p, c)	(p)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
struct rcu_head { void *next; };

/* locks */
#define DEFINE_MUTEX(m)		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER
#define mutex_lock(m)		pthread_mutex_lock(m)
#define mutex_unlock(m)		pthread_mutex_unlock(m)
#define lockdep_is_held(m)	1

/* cgroup core */
struct cgroup_subsys_state {
	struct cgroup_subsys_state *parent;
};
struct cgroup_file {
	unsigned long notified;
};
static inline void cgroup_file_notify(struct cgroup_file *cfile)
{
	__atomic_fetch_add(&cfile->notified, 1, __ATOMIC_RELAXED);
}
struct seq_file {
	struct cgroup_subsys_state *css;
	char buf[256];
	size_t len;
};
struct kernfs_open_file {
	struct cgroup_subsys_state *css;
};
#define seq_css(sf)		((sf)->css)
#define of_css(of)		((of)->css)
static inline void seq_printf(struct seq_file *sf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sf->len += vsnprintf(sf->buf + sf->len, sizeof(sf->buf) - sf->len, fmt, ap);
	va_end(ap);
}
#define seq_puts(sf, s)		seq_printf((sf), "%s", (s))

static inline int kstrtou64(const char *s, unsigned int base, u64 *res)
{
	char *end;

	errno = 0;
	*res = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	return *end ? -EINVAL : 0;
}

/* for lib/ratelimit.c */
#define KERN_WARNING		""
#define printk_deferred(...)	do { } while (0)
#define RATELIMIT_MSG_ON_RELEASE	1
extern volatile unsigned long jiffies;
#define time_is_before_jiffies(a)	((long)(jiffies - (a)) > 0)
typedef struct { int locked; } raw_spinlock_t;
#define raw_spin_trylock_irqsave(l, flags) \
	((void)(flags), !__atomic_exchange_n(&(l)->locked, 1, __ATOMIC_ACQUIRE))
#define raw_spin_unlock_irqrestore(l, flags) \
	__atomic_store_n(&(l)->locked, 0, __ATOMIC_RELEASE)
struct ratelimit_state {
	raw_spinlock_t lock;
	int interval;
	int burst;
	int printed;
	int missed;
	unsigned int flags;
	unsigned long begin;
};
int ___ratelimit(struct ratelimit_state *rs, const char *func);

/* Helpers of the model's programs (shim.c). */
struct rate_cg;
struct rate_cg *model_new_cg(struct rate_cg *parent);
ssize_t model_write_limit(struct rate_cg *rcg, const char *setting);

#endif /* KERNEL_SHIM_H */
