#!/usr/bin/env bash
# Runs the official Rust client's OWN integration tests (shipped inside the
# `aerospike` crate on crates.io, tests/lib.rs + tests/src/*.rs) against a freshly
# started `aerie server --port 0`.
#
# Nothing from that crate is committed: cargo fetches it, this script copies it to
# a work directory outside the repository and builds its test binary there, with a
# target directory of its own so that reruns are incremental.
#
# Usage: scripts/client-suite.sh [extra libtest args, e.g. --nocapture]
# Env:   AERIE_BIN                  server binary (default: target/release/aerie, else target/debug/aerie)
#        AERIE_CLIENT_SUITE_DIR     work dir for the crate copy  (default: /tmp/aerie-client-suite)
#        AERIE_CLIENT_SUITE_TARGET  cargo target dir for it      (default: /tmp/aerie-client-suite-target)
#        AERIE_CLIENT_SUITE_TIMEOUT seconds for the whole test run (default: 900)
#
# Prints the cargo test summary line; exits non-zero when a test fails, when the
# server does not start, or when the run times out.
set -euo pipefail

CLIENT_VERSION="3.0.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${AERIE_CLIENT_SUITE_DIR:-/tmp/aerie-client-suite}"
TARGET="${AERIE_CLIENT_SUITE_TARGET:-/tmp/aerie-client-suite-target}"
RUN_TIMEOUT_S="${AERIE_CLIENT_SUITE_TIMEOUT:-900}"
READY_TIMEOUT_S=20

# ---------------------------------------------------------------------------
# Scope. The suite has ~520 tests; these are the ones covering what Aerie
# implements today: keys, single-record CRUD, scalar operate, TTLs, batch
# (read/write/delete rows) and truncate. They are named exactly (`--exact`), so
# a test added to a later crate version never sneaks in unreviewed.
#
# Out of scope for now, each with its reason:
#   src::batch::batch_row_error_carries_server_subcode_and_message  - HLL ops + 8.2 error detail (we report 8.1.2.0: would self-skip)
#   src::batch::batch_single_row_error_carries_server_subcode_and_message - same
#   src::batch::batch_sc_delete_non_durable_forbidden_when_record_exists - strong consistency (EE); self-skips on AP, a pass would mean nothing
#   src::batch::batch_sc_delete_generation_mismatch_errors          - same
#   src::batch::batch_sc_delete_with_matching_generation_succeeds   - same
#   src::batch::batch_operate_timeout                     - asserts the client's 10 ms batch timeout fires; a fast in-memory
#                                                           server can finish first, so it tests the client's timing, not us
#   src::batch_random::same_random_read_batch_agrees_across_replica_policies - rack-aware client (rack-ids is EE-only)
#   src::batch_random::sequence_retry_resplits_onto_the_next_replica_and_succeeds - needs >= 2 nodes and RF >= 2
#   src::batch_in_doubt::*                                - pass, but each spins a Lua UDF for ~0.5 s of CPU on purpose; on a
#                                                           2-core box they starve unrelated tests into their 1 s client
#                                                           deadlines (seen: batch_operate_read_touch_ttl); run them by hand
#   src::query_aggregate::query_aggregate_missing_client_package_errors,
#   src::query_aggregate::query_aggregate_empty_set_yields_no_values
#                                                         - pass alone, but a client-side race: while one of these (an
#                                                           aggregation that yields nothing) ends, a concurrent
#                                                           aggregation in the same process sometimes gets no values
#                                                           (query_aggregate_sum/_average: 0 of 1), or this one no error;
#                                                           a TCP proxy showed the server sending every partial (99
#                                                           SUCCESS messages) to the connection whose test saw none.
#                                                           Run them by hand, apart from the other aggregation tests
#   src::server_error::*                                  - extended error detail needs server >= 8.2.0 (we report 8.1.2.0, so
#                                                           they self-skip), and most use expressions/HLL/bit/CDT ops
#   src::examples::example_{batch_operations,query,transaction,scan,geo_query,
#     hll_operations,string_operations,expression_operations,metrics,query_streaming,
#     index_management,security,tls,object_mapping,config_file,config_pigeon,read_policies}
#                                                         - UDF, queries/scans, string ops, expressions (hll_operations
#                                                           ends with HLL read expressions), transactions, sindexes,
#                                                           security, TLS, dynamic config; and read_policies sets
#                                                           rack_ids (EE-only rack-ids)
#   src::cdt_list::list_join_*                            - string_list_join is an 8.2 op; they self-skip on 8.1.2.0,
#                                                           so a pass would mean nothing. Aerie implements it: see
#                                                           crates/server/tests/it/cdt_server82_ops.rs (same answers)
#   src::cdt_bitwise::bitwise_b64_encode*                 - bit_b64_encode is an 8.2 op; they self-skip likewise;
#                                                           tested in crates/server/tests/it/cdt_server82_ops.rs. With the
#                                                           build reported as 8.2.0.0 (a local experiment) these, and
#                                                           exp_list::expression_list_join*, exp_bitwise b64, pass; only
#                                                           list_join_round_trips_with_string_split fails (string split)
#   src::exp::ael_text_as_a_filter_expression, src::exp_list::expression_list_join*,
#   src::exp_bitwise::expression_bitwise_b64_encode, src::exp_string::*
#                                                         - 8.2 features (server-compiled AEL text, list join, b64, string
#                                                           expressions); they self-skip on 8.1.2.0, a pass would mean nothing
#   proptests::kv::*, proptests::batches::* and the rest of proptests::*
#                                                         - their shared fixture (singleton_client) registers a UDF and
#                                                           creates two secondary indexes before the first case
#   src::query::query_timeout                             - asserts the client's 5 ms total timeout fires during a scan; a
#                                                           fast server can finish first (passes only on a loaded machine),
#                                                           so it tests the client's timing, not us
#   src::query::query_single_consumer_rps, src::scan::scan_single_consumer_rps
#                                                         - pass, but their throttled runs take over a minute each;
#                                                           run them by hand
#   src::{query_selection,exp*,string,txn,admin,compression,
#     cluster,connection_seed,backoff,metrics,dynamic_config,serialization,task,perf_e2e}::*
#                                                         - queries/scans, sindexes, expressions, string
#                                                           ops, transactions, security, compression (EE), cluster/tend
#                                                           internals, client-only metrics/config: later milestones
# ---------------------------------------------------------------------------
IN_SCOPE=(
  # keys, CRUD, scalar operate, TTL
  src::kv::connect
  src::kv::create_only_fails_when_record_exists
  src::kv::generation_policy_expect_gen_equal
  src::kv::infinity_and_wildcard_are_rejected_not_fatal
  src::kv::operate_empty_ops_returns_parameter_error
  src::kv::operate_header_ops_do_not_create_a_nameless_bin
  src::kv::operate_mixed_read_write_keeps_results_aligned
  src::kv::operate_multi_op_same_bin_returns_multi_result
  src::kv::operate_write_only_reports_nil_bins
  src::kv::read_touch_ttl
  src::kv::replace_drops_unreferenced_bins
  src::kv::replace_only_fails_when_record_missing
  src::kv::ttl_read_back_matches_other_clients
  src::kv::unknown_namespace_fails_with_invalid_namespace
  src::kv::unknown_value_round_trips_as_a_bin_value
  # batch
  src::batch::batch_delete_row_shape_is_the_same_alone_and_grouped
  src::batch::batch_exec_in_place_matches_batch
  src::batch::batch_exec_reuses_operations_across_calls
  src::batch::batch_fails_when_no_key_can_be_routed
  src::batch::batch_foreach_abort_stops_early_and_sweeps_the_rest
  src::batch::batch_foreach_hook_may_await
  src::batch::batch_foreach_reports_every_row_exactly_once
  src::batch::batch_foreach_reports_unroutable_key_with_its_error
  src::batch::batch_operate_read_touch_ttl
  src::batch::batch_operate_scalar_multi_op_same_bin_returns_multi_result
  src::batch::batch_records_unroutable_key_without_failing_the_batch
  src::batch::batch_single_key_fast_path_delete
  src::batch::batch_single_key_fast_path_read_missing_key
  src::batch::batch_single_key_fast_path_read_returns_record
  src::batch::batch_single_key_fast_path_write_then_read
  src::batch::batch_write_row_bins_are_the_same_alone_and_grouped
  src::batch::batch_write_to_unroutable_key_is_not_in_doubt
  src::batch::dropping_batch_foreach_stops_the_hook
  src::batch_random::arc_node_refcounts_return_to_baseline_after_many_random_batches
  src::batch_random::random_batches_with_unroutable_rows_land_at_their_index
  src::batch_random::random_mixed_batches_return_every_row_in_input_order
  # truncate
  src::truncate::truncate
  # collection data types: lists, maps, nested contexts, value order, bitwise, HyperLogLog
  src::cdt_list::cdt_list
  src::cdt_list::cdt_list_create_persistent_top_level
  src::cdt_list::cdt_list_create_with_index
  src::cdt_list::cdt_list_increment_by_one
  src::cdt_list::cdt_list_increment_by_one_with_policy
  src::cdt_list::cdt_list_set_order_with_index
  src::cdt_list::cdt_list_set_with_policy
  src::cdt_list::cdt_list_wildcard
  src::cdt_list::list_get_by_value_range_nil_end_returns_empty
  src::cdt_map::map_create_op
  src::cdt_map::map_create_with_index_op
  src::cdt_map::map_new_with_flags_and_persisted_index
  src::cdt_map::map_operations
  src::cdt_map::map_operations_wildcard
  src::cdt_map::map_put_with_flags_create_only
  src::cdt_map::map_put_with_flags_no_fail
  src::cdt_map::map_put_with_flags_update_only
  src::cdt_map::map_set_policy_op
  src::cdt_bitwise::cdt_bitwise
  src::hll::hll
  src::value_order::map_order_policy_selects_variant_not_order
  src::value_order::record_bins_preserve_server_order
  src::value_order::value_ord_matches_server_map_key_order
  src::value_order::value_ord_matches_server_sort_order
  src::kv::operate_simple_write_between_cdt_ops_keeps_results_aligned
  src::batch::batch_operate_read_multi_op_single_bin
  src::batch::batch_row_error_detail_absent_at_verbosity_zero
  src::batch::batch_write_repeat_compression
  src::examples::example_bit_operations
  src::examples::example_cdt_operations
  # the client's examples that stay within the scope above
  src::examples::example_crud
  src::examples::example_error_handling
  src::examples::example_record_operations
  src::examples::example_server_info
  src::examples::example_timeout_configuration
  # expressions: filters on single-record commands and batches, expression read/write ops
  src::exp_op::exp_ops
  src::exp_map::ordered_map_expression_comparisons
  src::cdt_map::map_apis_accept_all_three_map_collections
  # scans, secondary indexes, queries, UDF module registration (tasks)
  src::index::blob_index_serves_a_blob_equality_filter
  src::index::create_index_on_bin
  src::index::integer_index_serves_range_and_equality_filters
  src::query::query_duplicate_bin_projection_returns_scalar
  src::query::query_filter_contains_list
  src::query::query_filter_equal_by_index
  src::query::query_filter_with_index_name
  src::query::query_filter_with_specific_bins
  src::query::query_foreach_abort_and_resume_exactly_once
  src::query::query_foreach_cancel_and_resume_exactly_once
  src::query::query_foreach_delivers_all_exactly_once
  src::query::query_include_bin_data_false
  src::query::query_long_relax_ap_duration
  src::query::query_multi_consumer
  src::query::query_nobins
  src::query::query_operate_empty_ops_returns_parameter_error
  src::query::query_operate_empty_set
  src::query::query_operate_rejects_get_op
  src::query::query_operate_rejects_mixed_ops
  src::query::query_operate_rejects_read_op
  src::query::query_ops_projection_basic_read
  src::query::query_ops_projection_multiple_bins
  src::query::query_ops_projection_rejects_delete_op
  src::query::query_ops_projection_rejects_mixed_ops
  src::query::query_ops_projection_rejects_touch_op
  src::query::query_ops_projection_rejects_write_op
  src::query::query_resumes_from_a_serialized_cursor
  src::query::query_returns_user_key_when_send_key_set
  src::query::query_scan_with_specific_bins
  src::query::query_si_cancel_midway_resumes_without_loss
  src::query::query_single_consumer
  src::query::query_single_consumer_no_setname
  src::query::query_single_consumer_with_cursor
  src::query::query_some_bins
  src::query::test_short_query_not_tracked
  src::scan::scan_cancel_midway_resumes_without_loss
  src::scan::scan_drop_midway_leaves_client_usable
  src::scan::scan_multi_consumer
  src::scan::scan_multi_consumer_cancel_resumes_without_loss
  src::scan::scan_multi_consumer_stream
  src::scan::scan_single_consumer
  src::scan::scan_single_consumer_no_setname
  src::scan::scan_single_consumer_stream
  src::scan::scan_single_consumer_with_cancel
  src::scan::scan_single_consumer_with_cursor
  src::task::index_task_test
  src::task::register_task_test
  # geo2dsphere queries, CDT-context/expression/set indexes, collection ranges, background jobs
  src::query::test_query_geo_within_geojson_region
  src::query::query_filter_geo_within_radius
  src::query::query_filter_geo_contains
  src::query::query_filter_with_context_builder
  src::query::query_filter_with_expression_builder
  src::query::query_filter_expression_with_policy_filter
  src::query::query_filter_contains_range_list
  src::query::query_operate_write
  src::query::query_operate_scan_all
  src::query::query_large_i64
  src::index::create_index_using_expression
  src::index::set_index_create_drop_recreate
  # filter expressions on scans and queries
  src::exp::expression_aero_5_6
  src::exp::expression_compare
  src::exp::expression_condition
  src::exp::expression_data_types
  src::exp::expression_from_base64_query
  src::exp::expression_rec_ops
  src::exp::test_geo_val_bug
  src::exp_list::expression_list
  src::exp_map::expression_map
  src::exp_bitwise::expression_bitwise
  src::exp_hll::expression_hll
  src::examples::example_hll_operations
  # filters on every single-record command, a scan and a batch; `add` of a string to a missing bin
  # creates the bin, as aerospike-server's particle.c does (modify ops on a missing bin create it)
  src::exp::expression_commands
  # CDT path expressions (8.1.1+): select/modify by path, expression contexts, loop variables
  src::path_expressions::select_by_path_price_filter
  src::path_expressions::select_by_path_empty_result
  src::path_expressions::select_by_path_ctx_all_children
  src::path_expressions::select_by_path_index_loop_var
  src::path_expressions::select_by_path_complex_nested
  src::path_expressions::modify_by_path_multiply_prices
  src::path_expressions::exp_select_by_path_filter
  src::path_expressions::exp_modify_by_path_multiply
  src::path_expressions::loop_var_int_value
  src::path_expressions::loop_var_string_map_key
  src::path_expressions::remove_all_items_from_list
  src::path_expressions::remove_filtered_items_from_list
  src::path_expressions::remove_all_items_from_map
  src::path_expressions::remove_filtered_map_entries
  src::path_expressions::remove_books_with_low_prices
  src::path_expressions::remove_items_by_index_filter
  src::path_expressions::remove_map_entries_by_key_filter
  src::path_expressions::remove_nested_items_complex_path
  src::path_expressions::path_builder_and_select_values_wrapper
  src::path_expressions::select_map_keys_returns_keys
  src::path_expressions::select_map_entries_returns_pairs
  src::path_expressions::select_matching_tree_preserves_shape
  src::path_expressions::modify_no_fail_skips_type_mismatch
  src::path_expressions::path_remove_helper_drops_filtered_leaves
  src::path_expressions::ctx_map_keys_in_selects_subset_of_keys
  src::path_expressions::ctx_and_filter_refines_map_keys_in
  src::path_expressions::ctx_round_trip_through_base64_then_query
  src::path_expressions::exp_select_values_with_path_builder
  src::path_expressions::in_list_returns_true_for_present_value
  src::path_expressions::map_keys_extracts_all_keys
  src::path_expressions::map_values_extracts_all_values
  src::path_expressions::in_list_composes_with_map_keys
  src::path_expressions::exp_remove_through_write_exp_drops_leaves
  src::path_expressions::loop_var_bool_filters_features
  src::path_expressions::loop_var_list_filters_by_size
  src::examples::example_path_expression
  # Lua UDFs: record UDF apply and batch UDF rows
  src::udf::execute_udf
  src::batch::batch_operate_read
  src::batch::batch_udf_nil_return_is_the_same_alone_and_grouped
  # stream UDF aggregations, the final reduce in the client's embedded Lua
  src::query_aggregate::query_aggregate_sum
  src::query_aggregate::query_aggregate_average
  src::query_aggregate::query_aggregate_loads_package_from_lua_path
  src::examples::example_query_aggregate
  # background UDF jobs (query_execute_udf over a scan or an index query, job status by task)
  src::udf::query_execute_udf_with_filter
  src::udf::query_execute_udf_scan_all
  src::udf::query_execute_udf_with_args
  src::examples::example_udf
  # query ops projection: CDT/bit/HLL/expression read ops run on every record a query returns
  src::query::query_ops_projection_extended_cdt_read
)

# The client's `lua` feature: its embedded Lua runs the client-side reduce of aggregations.
FEATURES=(--features lua)

log() { printf 'client-suite: %s\n' "$*" >&2; }

# --- 1. the crate, via cargo ------------------------------------------------
fetch_crate() {
  local fetch_dir="$WORK/fetch"
  mkdir -p "$fetch_dir/src"
  cat >"$fetch_dir/Cargo.toml" <<EOF
[package]
name = "aerie-client-suite-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
aerospike = "=$CLIENT_VERSION"

[workspace]
EOF
  : >"$fetch_dir/src/lib.rs"
  (cd "$fetch_dir" && cargo fetch --quiet) >&2
  local cargo_home="${CARGO_HOME:-$HOME/.cargo}"
  local src
  src="$(ls -d "$cargo_home"/registry/src/*/aerospike-"$CLIENT_VERSION" 2>/dev/null | head -n 1)"
  if [[ -z "$src" || ! -f "$src/tests/lib.rs" ]]; then
    log "cargo fetch did not unpack aerospike-$CLIENT_VERSION with its tests/ under $cargo_home/registry/src"
    exit 2
  fi
  printf '%s\n' "$src"
}

SRC="$(fetch_crate)"
CRATE="$WORK/aerospike-$CLIENT_VERSION"
if [[ ! -f "$CRATE/tests/lib.rs" ]]; then
  log "copying $SRC -> $CRATE"
  mkdir -p "$WORK"
  # -p keeps mtimes, so a later copy does not force a rebuild.
  cp -Rp "$SRC" "$CRATE"
fi

log "building the suite's test binary (target: $TARGET)"
(cd "$CRATE" && CARGO_TARGET_DIR="$TARGET" cargo test --quiet --test lib "${FEATURES[@]}" --no-run) >&2

# --- 2. a fresh server ------------------------------------------------------
if [[ -n "${AERIE_BIN:-}" ]]; then
  BIN="$AERIE_BIN"
elif [[ -x "$ROOT/target/release/aerie" ]]; then
  BIN="$ROOT/target/release/aerie"
else
  BIN="$ROOT/target/debug/aerie"
fi
if [[ ! -x "$BIN" ]]; then
  log "no server binary at $BIN (run: cargo build --release -p aerie-server, or set AERIE_BIN)"
  exit 2
fi

RUN_DIR="$(mktemp -d /tmp/aerie-client-suite-run.XXXXXX)"
SERVER_OUT="$RUN_DIR/stdout.log"
SERVER_ERR="$RUN_DIR/stderr.log"
"$BIN" server --port 0 --http-port 0 </dev/null >"$SERVER_OUT" 2>"$SERVER_ERR" &
SERVER_PID=$!

stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
}
trap stop_server EXIT

PORT=""
for _ in $(seq 1 $((READY_TIMEOUT_S * 10))); do
  line="$(grep -m 1 '^aerie ready: service ' "$SERVER_OUT" 2>/dev/null || true)"
  if [[ -n "$line" ]]; then
    PORT="${line##*:}"
    break
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [[ -z "$PORT" ]]; then
  log "server did not print its ready line within ${READY_TIMEOUT_S}s; stderr tail:"
  tail -n 40 "$SERVER_ERR" >&2 || true
  exit 2
fi
log "server $BIN ready on 127.0.0.1:$PORT (logs in $RUN_DIR)"

# --- 3. the tests -----------------------------------------------------------
OUT="$RUN_DIR/cargo-test.log"
set +e
(
  cd "$CRATE" &&
    AEROSPIKE_HOSTS="127.0.0.1:$PORT" AEROSPIKE_NAMESPACE=test CARGO_TARGET_DIR="$TARGET" \
      timeout --kill-after=10 "$RUN_TIMEOUT_S" \
      cargo test --quiet --test lib "${FEATURES[@]}" -- --exact "${IN_SCOPE[@]}" "$@"
) 2>&1 | tee "$OUT"
STATUS=${PIPESTATUS[0]}
set -e

SUMMARY="$(grep -E '^test result: ' "$OUT" | tail -n 1 || true)"
if [[ "$STATUS" -eq 124 || "$STATUS" -eq 137 ]]; then
  log "timed out after ${RUN_TIMEOUT_S}s"
fi
if [[ "$STATUS" -ne 0 ]]; then
  log "server stderr tail ($SERVER_ERR):"
  tail -n 20 "$SERVER_ERR" >&2 || true
fi
echo "client-suite (aerospike $CLIENT_VERSION, ${#IN_SCOPE[@]} tests in scope): ${SUMMARY:-no summary line (exit $STATUS)}"
if [[ "$STATUS" -eq 0 ]]; then
  stop_server
  rm -rf "$RUN_DIR"
else
  log "logs kept in $RUN_DIR"
fi
exit "$STATUS"
