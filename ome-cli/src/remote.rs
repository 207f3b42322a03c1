//! Global flags for remote datasets (`s3://`, `https://`): they only fill
//! [`ome_core::storage::RemoteOptions`], whose defaults come from the `AWS_*` environment.

use clap::Args;
use ome_core::storage::{RemoteOptions, set_remote_options};

/// How `s3://` and `http(s)://` datasets are reached; every flag is global.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Remote datasets (s3://BUCKET/PREFIX, https://...)")]
pub(crate) struct RemoteArgs {
    /// S3 endpoint of an S3-compatible server, addressed path-style
    /// [env: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL].
    #[arg(long, global = true, value_name = "URL")]
    endpoint: Option<String>,
    /// Unsigned S3 requests, for public buckets (also the default when no credentials
    /// are set in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) [env: AWS_NO_SIGN_REQUEST].
    #[arg(long, global = true)]
    anonymous: bool,
    /// S3 region [env: AWS_REGION; default: us-east-1].
    #[arg(long, global = true, value_name = "NAME")]
    region: Option<String>,
    /// Most requests in flight for one read or upload [default: 32].
    #[arg(long, global = true, value_name = "N")]
    max_requests: Option<usize>,
    /// Seconds allowed for one request [default: 60].
    #[arg(long, global = true, value_name = "SECONDS")]
    request_timeout: Option<u64>,
    /// Retries of a failed request (5xx, 429, timeouts, resets) [default: 6].
    #[arg(long, global = true, value_name = "N")]
    retries: Option<usize>,
}

impl RemoteArgs {
    /// Makes the flags the options of every remote open of this process.
    pub(crate) fn apply(&self) {
        let mut o = RemoteOptions::from_env();
        if let Some(e) = &self.endpoint {
            o.endpoint = Some(e.clone());
        }
        if let Some(r) = &self.region {
            o.region = Some(r.clone());
        }
        o.anonymous |= self.anonymous;
        if let Some(n) = self.max_requests {
            o.max_concurrency = n.max(1);
        }
        if let Some(s) = self.request_timeout {
            o.timeout = std::time::Duration::from_secs(s.max(1));
        }
        if let Some(n) = self.retries {
            o.max_retries = n;
        }
        set_remote_options(o);
    }
}
