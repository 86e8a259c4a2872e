//! Series of revoked partitions disappear from the endpoint: the exporter
//! drops gauges nobody has set for `GAUGE_IDLE_TIMEOUT`, and the sink's
//! live owners re-set theirs every `REFRESH`. Uses real time (bounded:
//! about 35 s).

use std::time::{Duration, Instant};

use tablestore_sink::metrics::{self, names, GAUGE_IDLE_TIMEOUT, REFRESH};

#[test]
fn gauges_no_longer_set_expire_and_refreshed_ones_stay() {
    let handle = metrics::install(None).expect("installing the recorder");
    let revoked = [("topic", "t".to_string()), ("partition", "0".to_string())];
    let assigned = [("topic", "t".to_string()), ("partition", "1".to_string())];
    ::metrics::gauge!(names::COMMITTED_OFFSET, &revoked).set(10.0);
    ::metrics::gauge!(names::COMMITTED_OFFSET, &assigned).set(20.0);
    let text = handle.render();
    assert!(
        text.contains(r#"partition="0"} 10"#) && text.contains(r#"partition="1"} 20"#),
        "{text}"
    );

    // Only partition 1 keeps being refreshed, as its live owner does.
    let until = Instant::now() + GAUGE_IDLE_TIMEOUT + Duration::from_secs(3);
    while Instant::now() < until {
        std::thread::sleep(REFRESH.min(Duration::from_secs(1)));
        ::metrics::gauge!(names::COMMITTED_OFFSET, &assigned).set(20.0);
    }
    let text = handle.render();
    assert!(
        !text.contains(r#"partition="0""#),
        "the revoked partition's series is gone:\n{text}"
    );
    assert!(
        text.contains(r#"partition="1"} 20"#),
        "the assigned partition's series stays:\n{text}"
    );
}
