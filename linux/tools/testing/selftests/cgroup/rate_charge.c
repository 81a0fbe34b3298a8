// SPDX-License-Identifier: GPL-2.0
/*
 * rate_charge KIND N: charge N SNP guest requests (KIND snp) or bus locks
 * (KIND buslock) to the calling task's cgroup through the test-only
 * interface of the snp and buslock controllers, and print the result as
 * "admitted A refused R stall_ns S slept_ns S interrupted I".
 */
#include <stdlib.h>
#include <string.h>

#include "rate_util.h"

int main(int argc, char **argv)
{
	struct rate_result res;
	char *end;
	unsigned long n;

	if (argc != 3 || (strcmp(argv[1], "snp") && strcmp(argv[1], "buslock"))) {
		fprintf(stderr, "usage: %s snp|buslock N\n", argv[0]);
		return 2;
	}
	n = strtoul(argv[2], &end, 10);
	if (*end || !n) {
		fprintf(stderr, "%s: bad count %s\n", argv[0], argv[2]);
		return 2;
	}
	if (rate_charge(argv[1], n, &res)) {
		perror(RATE_CHARGE_PATH);
		return 1;
	}
	printf("admitted %llu refused %llu stall_ns %llu slept_ns %llu interrupted %llu\n",
	       res.admitted, res.refused, res.stall_ns, res.slept_ns,
	       res.interrupted);
	if (res.error) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(res.error));
		return 1;
	}
	return 0;
}
