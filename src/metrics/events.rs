//! Named events the pipeline reports, each a one-line call at its site:
//! the metric names, labels and aggregation live here, so the pipeline's
//! structure can change without touching what is exported.

use std::sync::Arc;
use std::time::Duration;

use super::names;
use crate::convert::ClashTally;

/// How often conversion tallies are moved into their counters.
const TALLY_FLUSH: Duration = Duration::from_secs(1);

/// Exports a converter's clash totals as
/// `tablestore_sink_field_clashes_total{topic, kind}`: both series start
/// at zero now, and the totals are added every [`TALLY_FLUSH`] (per
/// interval, not per message). Needs a Tokio runtime.
pub fn watch_clashes(tally: Arc<ClashTally>, topic: &str) {
    let key_value =
        metrics::counter!(names::FIELD_CLASHES, "topic" => topic.to_owned(), "kind" => "key_value");
    let primary_key = metrics::counter!(names::FIELD_CLASHES, "topic" => topic.to_owned(), "kind" => "primary_key");
    key_value.absolute(0);
    primary_key.absolute(0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TALLY_FLUSH);
        loop {
            tick.tick().await;
            let (kv, pk) = tally.take();
            key_value.increment(kv);
            primary_key.increment(pk);
        }
    });
}
