/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Charging through the test-only interface of the snp and buslock
 * controllers (CONFIG_CGROUP_RATE_DEBUG), shared by test_rate and the
 * rate_charge command.
 */
#ifndef __RATE_UTIL_H
#define __RATE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RATE_CHARGE_PATH "/sys/kernel/debug/cgroup_rate/charge"

struct rate_result {
	unsigned long long admitted;
	unsigned long long refused;
	unsigned long long stall_ns;
	unsigned long long slept_ns;
	unsigned long long interrupted;
	int error;		/* errno of the write, 0 on success */
};

/*
 * Charges @n events of @kind ("snp" or "buslock") as the calling task.
 * Returns 0 with @res filled in (also when a signal ended the write, with
 * res->error EINTR), or -1 if the interface is missing or misbehaves.
 */
static inline int rate_charge(const char *kind, unsigned int n,
			      struct rate_result *res)
{
	char buf[256];
	ssize_t len;
	int fd;

	memset(res, 0, sizeof(*res));
	fd = open(RATE_CHARGE_PATH, O_RDWR);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%s %u", kind, n);
	if (write(fd, buf, len) != len)
		res->error = errno;
	len = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	if (sscanf(buf, "admitted %llu refused %llu stall_ns %llu slept_ns %llu interrupted %llu",
		   &res->admitted, &res->refused, &res->stall_ns,
		   &res->slept_ns, &res->interrupted) != 5)
		return -1;
	return 0;
}

#endif /* __RATE_UTIL_H */
