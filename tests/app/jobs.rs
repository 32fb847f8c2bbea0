//! The background jobs of a serving process start together and stop
//! together: `Jobs::stop` returns once each has ended.

use std::sync::Arc;

use crate::engine_test;
use crate::helpers::TestApp;

async fn jobs_start_and_stop_together(app: TestApp) {
    let mut settings = app.db.settings();
    settings.report_refresh_secs = 3600;
    settings.mail.worker = true;
    let ctx = Arc::new(fuzhi::prepare(settings).await.unwrap());
    let jobs = fuzhi::jobs::Jobs::start(ctx).unwrap();
    let mut names = jobs.names();
    names.sort();
    assert_eq!(
        names,
        [
            "mail",
            "report-rollup",
            "session-prune",
            "sessions",
            "site",
            "throttle-prune"
        ]
    );
    tokio::time::timeout(std::time::Duration::from_secs(60), jobs.stop())
        .await
        .expect("every job stops when told");
    app.finish().await;
}
engine_test!(jobs_start_and_stop_together);
