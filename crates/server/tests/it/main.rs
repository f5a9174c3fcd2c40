//! The server's integration tests, one binary: each module is one scenario that starts the real
//! `aerie` binary on free loopback ports and drives it with the official client or raw frames.
//! New scenarios are new modules here, not new files under `tests/`, so the suite links once.

mod background_job_official_client;
mod bench_e2e;
mod bench_server_gone;
mod cdt_server82_ops;
mod cli_clap;
mod cluster_failover;
mod cluster_racks;
mod cluster_split;
mod cluster_ten_nodes;
mod config_aerospike81;
mod exp_filters_and_ops;
mod geo_query_official_client;
mod http_console_chromium;
mod http_metrics;
mod info_cli;
mod kv_crud;
mod logging_and_histograms;
mod modify_ops_missing_bin;
mod namespace_expiry_eviction;
mod nemesis;
mod scan_during_writes;
mod scan_query_official_client;
mod security_access;
mod security_cluster;
mod sindex_restart;
mod sindex_sources_official_client;
mod storage_corruption;
mod storage_crash_restart;
mod storage_defrag;
mod storage_device_reads;
mod storage_loss_bound;
mod storage_slow_device_isolation;
mod storage_startup_refusal;
mod storage_tombstones;
mod truncate_set;
mod udf_malformed;
mod wire_garbage_frames;
