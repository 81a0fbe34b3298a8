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
#define DIV64_U64_ROUND_UP(a, b)	(((a) + (b) - 1) / (b))
#define BIT_ULL(n)	(1ULL << (n))
static inline int fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
#define ilog2(x)	(fls64(x) - 1)
#define ns_to_ktime(ns)	((ktime_t)(ns))
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
static inline u64 div_u64(u64 a, u32 b) { return a / b; }
static inline u64 mul_u64_u64_div_u64(u64 a, u64 b, u64 c)
{
	return (u64)((unsigned __int128)a * b / c);
}
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))

/* bitmaps */
#define BITS_PER_LONG		64
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]
#define noinline		__attribute__((noinline))
#ifndef __always_inline
#define __always_inline		inline __attribute__((always_inline))
#endif
/* Inline stores, as the kernel's for a constant size. */
static inline __attribute__((always_inline)) void bitmap_zero(unsigned long *dst,
							    unsigned int nbits)
{
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(nbits); i++)
		dst[i] = 0;
}
static inline bool bitmap_empty(const unsigned long *src, unsigned int nbits)
{
	unsigned long any = 0;
	unsigned int i;

	for (i = 0; i < BITS_TO_LONGS(nbits); i++)
		any |= src[i];
	return !any;
}
/* One bts, as the kernel's __set_bit() on x86. */
static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
	asm volatile("btsq %1, %0" : "+m" (*(volatile long *)addr) : "r" (nr) : "memory");
}
static inline bool test_bit(unsigned int nr, const unsigned long *addr)
{
	return addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG) & 1;
}

/* static keys: a counter, tested on every charge */
struct static_key_false { int enabled; };
#define DEFINE_STATIC_KEY_FALSE(name)	struct static_key_false name = { 0 }
#define static_branch_inc(k)	__atomic_fetch_add(&(k)->enabled, 1, __ATOMIC_RELAXED)
#define static_branch_dec(k)	__atomic_fetch_sub(&(k)->enabled, 1, __ATOMIC_RELAXED)
#define static_branch_unlikely(k)	unlikely(__atomic_load_n(&(k)->enabled, __ATOMIC_RELAXED) > 0)

/* atomics */
typedef struct { s64 counter; } atomic64_t;
#define atomic64_read(v)	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic64_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic64_inc(v)		__atomic_fetch_add(&(v)->counter, 1, __ATOMIC_RELAXED)
#define atomic64_sub(i, v)	__atomic_fetch_sub(&(v)->counter, (i), __ATOMIC_SEQ_CST)
/* Called after each successful cmpxchg: a writer can run mid-charge. */
extern void (*shim_cmpxchg_hook)(void);
static inline bool atomic64_try_cmpxchg(atomic64_t *v, s64 *old, s64 new)
{
	bool ok = __atomic_compare_exchange_n(&v->counter, old, new, false,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);

#ifndef SHIM_NO_HOOKS	/* the benchmark counts the kernel's instructions */
	if (ok && shim_cmpxchg_hook)
		shim_cmpxchg_hook();
#endif
	return ok;
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
#define kzalloc_obj(obj)	calloc(1, sizeof(obj))
#define kfree(p)		free((void *)(p))
#define kmemdup(p, size, gfp)	memcpy(malloc(size), (p), (size))
/* Freed at once unless charging threads run (shim_readers), as after a grace period. */
extern int shim_readers;
void shim_kfree_rcu(void *p);
#define kfree_rcu(p, field)	shim_kfree_rcu(p)
#define kvzalloc(size, gfp)	calloc(1, (size))
#define kvfree(p)		free((void *)(p))
#define kvfree_rcu(p, field)	shim_kfree_rcu(p)
#define struct_size(p, member, n) \
	(sizeof(*(p)) + (n) * sizeof((p)->member[0]))

/* per-CPU data */
#define SHIM_NR_CPUS		64
#define SHIM_PCPU_STRIDE	128
extern __thread int shim_cpu;
extern __thread long shim_cpu_offset;
/* Runs the calling thread as CPU @cpu. */
static inline void shim_set_cpu(int cpu)
{
	shim_cpu = cpu;
	shim_cpu_offset = (long)cpu * SHIM_PCPU_STRIDE;
}
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
/* shim_cpu's slot, in bytes: one add, as the kernel's %gs base. */
#define shim_this_cpu_lval(x) \
	(*(typeof(&(x)))((char *)&(x) + shim_cpu_offset))
#define this_cpu_inc(x)		(shim_this_cpu_lval(x) += 1)
#define this_cpu_add(x, v)	(shim_this_cpu_lval(x) += (v))
#define this_cpu_dec(x)		(shim_this_cpu_lval(x) -= 1)
#define this_cpu_sub(x, v)	(shim_this_cpu_lval(x) -= (v))

/* A kernel WARN is a bug here too: the model stops at once. */
static inline void shim_warn(const char *file, int line)
{
	fprintf(stderr, "WARN_ON_ONCE at %s:%d\n", file, line);
	abort();
}
#define WARN_ON_ONCE(c) ({ bool __c = !!(c); if (__c) shim_warn(__FILE__, __LINE__); __c; })
#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < SHIM_NR_CPUS; (cpu)++)

/* RCU: readers never race with frees in the model's runs */
#define rcu_read_lock()		do { } while (0)
#define rcu_read_unlock()	do { } while (0)
#define rcu_dereference(p)	__atomic_load_n(&(p), __ATOMIC_CONSUME)
#define rcu_dereference_protected(p, c)	(p)
#define rcu_access_pointer(p)	__atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define RCU_INIT_POINTER(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELAXED)
struct rcu_head { void *next; };
/* Grace periods: the model's programs let no reader overlap a writer. */
extern unsigned long shim_grace_periods;
static inline void synchronize_rcu(void) { shim_grace_periods++; }
static inline unsigned long get_state_synchronize_rcu(void) { return shim_grace_periods; }
static inline void cond_synchronize_rcu(unsigned long s)
{
	if (s == shim_grace_periods)
		synchronize_rcu();
}

/* locks */
#define DEFINE_MUTEX(m)		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER
#define mutex_lock(m)		pthread_mutex_lock(m)
#define mutex_unlock(m)		pthread_mutex_unlock(m)
#define lockdep_is_held(m)	1
#define lockdep_assert_held(m)	do { } while (0)

/* cgroup core */
struct cftype;
struct cgroup_subsys_state {
	struct cgroup_subsys_state *parent;
	struct cgroup_subsys_state *first_child, *next_sibling;
};
struct cgroup_subsys_state *shim_next_pre(struct cgroup_subsys_state *pos,
					  struct cgroup_subsys_state *root);
struct cgroup_subsys_state *shim_next_post(struct cgroup_subsys_state *pos,
					   struct cgroup_subsys_state *root);
#define css_for_each_child(pos, p) \
	for ((pos) = (p)->first_child; (pos); (pos) = (pos)->next_sibling)
#define css_for_each_descendant_pre(pos, root) \
	for ((pos) = shim_next_pre(NULL, (root)); (pos); \
	     (pos) = shim_next_pre((pos), (root)))
#define css_for_each_descendant_post(pos, root) \
	for ((pos) = shim_next_post(NULL, (root)); (pos); \
	     (pos) = shim_next_post((pos), (root)))
struct cgroup_subsys_state *shim_rightmost(struct cgroup_subsys_state *pos);
#define css_rightmost_descendant(pos)	shim_rightmost(pos)
#define css_tryget(css)		true
#define css_put(css)		do { } while (0)
struct timer_list { int pending; };
#define timer_pending(t)	((t)->pending)
struct cgroup_file {
	unsigned long notified;
	struct timer_list notify_timer;
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
#ifdef SHIM_RATELIMIT_ATOMIC
/* 6.16 and later (7.3): the burst left is an atomic_t, misses too. */
typedef struct { int counter; } atomic_t;
#define atomic_read(v)		__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define atomic_set(v, i)	__atomic_store_n(&(v)->counter, (i), __ATOMIC_RELAXED)
#define atomic_dec_return(v)	__atomic_sub_fetch(&(v)->counter, 1, __ATOMIC_SEQ_CST)
#define atomic_inc(v)		__atomic_fetch_add(&(v)->counter, 1, __ATOMIC_RELAXED)
#define atomic_xchg_relaxed(v, i) __atomic_exchange_n(&(v)->counter, (i), __ATOMIC_RELAXED)
static inline int shim_warn_once(int c) { return c; }
#define WARN_ONCE(c, ...)	shim_warn_once(c)
#define RATELIMIT_INITIALIZED	2
struct ratelimit_state {
	raw_spinlock_t lock;
	int interval;
	int burst;
	atomic_t rs_n_left;
	atomic_t missed;
	unsigned int flags;
	unsigned long begin;
};
static inline int ratelimit_state_reset_miss(struct ratelimit_state *rs)
{
	return atomic_xchg_relaxed(&rs->missed, 0);
}
static inline void ratelimit_state_inc_miss(struct ratelimit_state *rs)
{
	atomic_inc(&rs->missed);
}
#else
struct ratelimit_state {
	raw_spinlock_t lock;
	int interval;
	int burst;
	int printed;
	int missed;
	unsigned int flags;
	unsigned long begin;
};
#endif
int ___ratelimit(struct ratelimit_state *rs, const char *func);

/* Helpers of the model's programs (shim.c). */
struct rate_cg;
struct rate_cg *model_new_cg(struct rate_cg *parent);
void model_free_cg(struct rate_cg *rcg);
ssize_t model_write_limit(struct rate_cg *rcg, const char *setting);
int model_write_weight(struct rate_cg *rcg, u64 weight);
extern struct static_key_false model_limited;

#endif /* KERNEL_SHIM_H */
