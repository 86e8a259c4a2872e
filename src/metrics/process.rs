//! The process's own CPU time and resident memory, from `/proc/self`
//! (Linux), set as gauges at every scrape and every
//! [`REFRESH`](super::REFRESH). Elsewhere the gauges are absent.

use super::names;

/// Clock ticks per second of `/proc/<pid>/stat` times: `USER_HZ`, which
/// Linux fixes at 100 for every user-space interface.
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) from the text of `/proc/self/stat`.
pub fn cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields after its closing one. utime and stime are fields 14
    // and 15, so the 12th and 13th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// Resident set size in bytes from the text of `/proc/self/status`.
pub fn resident_bytes(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Reads `/proc/self` and sets the gauges.
pub fn refresh() {
    if let Some(cpu) = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_seconds(&s))
    {
        metrics::gauge!(names::PROCESS_CPU).set(cpu);
    }
    if let Some(rss) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| resident_bytes(&s))
    {
        metrics::gauge!(names::PROCESS_RSS).set(rss);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_even_with_spaces_in_the_name() {
        let stat = "4242 (tablestore sink) S 1 4242 4242 0 -1 4194560 12 0 0 0 250 75 0 0 20 0 9 0 100 1000 500";
        assert_eq!(cpu_seconds(stat), Some(3.25));
        assert_eq!(cpu_seconds("garbage"), None);
    }

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\ttablestore-sink\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nThreads:\t9\n";
        assert_eq!(resident_bytes(status), Some(2048.0 * 1024.0));
        assert_eq!(resident_bytes("Name: x\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(cpu_seconds(&stat).is_some_and(|s| s >= 0.0));
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(resident_bytes(&status).is_some_and(|b| b > 1_000_000.0));
    }
}
