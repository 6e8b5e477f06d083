"""procstat.py — CPU sampling for the Python benchmarks under bench/ (the
counterpart of bench_cpu_ticks / bench_sys_busy_ticks in bench/lib/bench.sh).

All figures are clock ticks (TICK per second) read from /proc.
"""
import os

TICK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (comm may hold spaces: split after the last ')')."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_ticks(pid):
    """utime + stime of one process (all its threads); 0 for None."""
    if pid is None:
        return 0
    f = _stat_fields(pid)
    return int(f[11]) + int(f[12])


def cpu_ticks_tree(pid):
    """pid and its direct children (Pgpool-II forks one per client), the
    children's reaped time (cutime + cstime) included."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = _stat_fields(d)
        except OSError:
            continue
        if int(d) == pid or int(f[1]) == pid:
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total


def machine_busy():
    """Busy ticks of the whole machine (all CPUs) since boot: all but idle and iowait."""
    with open("/proc/stat") as f:
        v = list(map(int, f.readline().split()[1:]))
    return sum(v) - v[3] - v[4]
