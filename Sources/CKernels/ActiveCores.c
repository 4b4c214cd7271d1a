// The cores this process may use, without Foundation: ProcessInfo's
// activeProcessorCount reads the same facts on Linux through URL and Data,
// and its first call (inside the first parallel loop of a process, that is
// inside the user's first selection) cost about 0.25 ms of Swift runtime
// set-up, 2 % of a 10,000-row FPS.
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "CKernels.h"

#if defined(__linux__)
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/// ceil(quota / period) from a cgroup v2 `cpu.max` ("max 100000" or
/// "150000 100000"), or 0 when there is no limit or no file.
static long cgroup2_limit(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) return 0;
    char quota[32] = {0};
    long period = 0, cores = 0;
    if (fscanf(file, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
        long q = 0;
        if (sscanf(quota, "%ld", &q) == 1 && q > 0) cores = (q + period - 1) / period;
    }
    fclose(file);
    return cores;
}

/// The same from cgroup v1's `cpu.cfs_quota_us` (−1: no limit) and `cpu.cfs_period_us`.
static long cgroup1_limit(void) {
    long quota = -1, period = 0;
    FILE *file = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
    if (!file) return 0;
    if (fscanf(file, "%ld", &quota) != 1) quota = -1;
    fclose(file);
    file = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
    if (!file) return 0;
    if (fscanf(file, "%ld", &period) != 1) period = 0;
    fclose(file);
    return quota > 0 && period > 0 ? (quota + period - 1) / period : 0;
}

/// The cgroup v2 limit of this process's own group ("0::/path" in
/// /proc/self/cgroup), else of the root the process sees.
static long cgroup_limit(void) {
    char line[512], path[600];
    FILE *file = fopen("/proc/self/cgroup", "r");
    if (file) {
        while (fgets(line, sizeof line, file)) {
            if (strncmp(line, "0::", 3) != 0) continue;
            line[strcspn(line, "\n")] = 0;
            snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", strcmp(line + 3, "/") == 0 ? "" : line + 3);
            long cores = cgroup2_limit(path);
            fclose(file);
            if (cores > 0) return cores;
            return cgroup2_limit("/sys/fs/cgroup/cpu.max");
        }
        fclose(file);
    }
    return cgroup1_limit();
}

int curator_active_cores(void) {
    long cores = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
    if (cores <= 0) cores = sysconf(_SC_NPROCESSORS_ONLN);
    long limit = cgroup_limit();
    if (limit > 0 && limit < cores) cores = limit;
    return cores > 0 ? (int)cores : 1;
}
#else
#include <unistd.h>

int curator_active_cores(void) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 0 ? (int)cores : 1;
}
#endif
