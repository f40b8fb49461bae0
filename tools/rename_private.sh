#!/usr/bin/env bash
# tools/rename_private.sh - private modules drop the tern_ prefix, so that the
# prefix means public API (docs/architecture.md, "The library's symbols").
#
# Renames every function and global named tern_* that include/tern/ does not
# declare (they were found with nm over every object of the build and a grep
# of the private headers' static inline functions), by the explicit list
# below, in whole identifiers only (\b...\b), in every text file tracked (or
# new and not ignored) under src/ tests/ fuzz/ bench/ docs/ tools/ examples/
# include/, README.md and the Makefile - never fuzz/corpus/ nor this script.
# Idempotent: once renamed, an old name no longer occurs, so a second run
# changes nothing; run it again after merging work that still uses old names.
#
#   tools/rename_private.sh          rename in place; prints the files changed
#   tools/rename_private.sh --check  list the old names still in use (exit 1 if any)
#
# Most names just lose the prefix; where that would meet an existing name
# (a static function, a TEST() name, a system header's macro) the new name
# says what the module is: the timer heap (timer_heap_*), RACK (tcp_rack_*),
# IPv4 reassembly (ip_reasm_*), the stack's generator (prng_*), the classic
# services (classic_*), the simulator's SHA-256 (sim_sha256_*), the
# benchmarks' tern runs (bench_tern_*), and a few HTTP and netstat functions.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: tools/rename_private.sh [--check]" >&2; exit 2 ;;
esac

# old new
read -r -d '' MAP <<'LIST' || true
tern_bulk bench_tern_bulk
tern_cc_by_name cc_by_name
tern_cc_cubic cc_cubic
tern_cc_cwnd cc_cwnd
tern_cc_default cc_default
tern_cc_init cc_init
tern_cc_initial_window cc_initial_window
tern_cc_name cc_name
tern_cc_newreno cc_newreno
tern_cc_reno_grow cc_reno_grow
tern_cc_reno_ssthresh cc_reno_ssthresh
tern_cc_restart_after_idle cc_restart_after_idle
tern_cc_set_mss cc_set_mss
tern_cc_ssthresh cc_ssthresh
tern_cubic_k_us cubic_k_us
tern_cubic_w cubic_w
tern_dev_count_tx dev_count_tx
tern_dev_hdr_len dev_hdr_len
tern_dev_max_frame dev_max_frame
tern_dev_max_tx dev_max_tx
tern_dev_pass_down dev_pass_down
tern_dhcp_client_free dhcp_client_free
tern_dhcp_client_lease dhcp_client_lease
tern_dhcp_client_release dhcp_client_release
tern_dhcp_client_start dhcp_client_start
tern_dhcp_client_state dhcp_client_state
tern_dhcp_client_stats dhcp_client_stats
tern_dhcp_lease_format dhcp_lease_format
tern_dhcp_server_free dhcp_server_free
tern_dhcp_server_leases dhcp_server_leases
tern_dhcp_server_load dhcp_server_load
tern_dhcp_server_save dhcp_server_save
tern_dhcp_server_start dhcp_server_start
tern_dhcp_server_stats dhcp_server_stats
tern_dhcp_state_name dhcp_state_name
tern_dns_server_free dns_server_free
tern_dns_server_start dns_server_start
tern_dns_server_stats dns_server_stats
tern_dns_zone_answer dns_zone_answer
tern_dns_zone_answer_tcp dns_zone_answer_tcp
tern_dns_zone_apex dns_zone_apex
tern_dns_zone_count dns_zone_count
tern_dns_zone_free dns_zone_free
tern_dns_zone_load dns_zone_load
tern_dns_zone_parse dns_zone_parse
tern_dns_zone_record dns_zone_record
tern_env_close env_close
tern_env_open env_open
tern_heap_arm timer_heap_arm
tern_heap_cancel timer_heap_cancel
tern_heap_count timer_heap_count
tern_heap_free timer_heap_free
tern_heap_init timer_heap_init
tern_heap_peek timer_heap_peek
tern_heap_pop timer_heap_pop
tern_http_content_type http_content_type
tern_http_date http_date
tern_http_get_free http_get_free
tern_http_get_redirects http_get_redirects
tern_http_get_start http_get_start
tern_http_get_status http_get_status
tern_http_get_stop http_get_stop
tern_http_head_write http_write_head
tern_http_html_escape http_html_escape
tern_http_path_escape http_path_escape
tern_http_reason http_reason
tern_http_req_feed http_req_feed
tern_http_req_field http_req_field
tern_http_req_init http_req_init
tern_http_resp_eof http_resp_eof
tern_http_resp_feed http_resp_feed
tern_http_resp_field http_resp_field
tern_http_resp_init http_resp_init
tern_http_server_conns http_server_conns
tern_http_server_free http_server_free
tern_http_server_start http_server_start
tern_http_server_stats http_server_stats
tern_http_target_to_path http_path_of_target
tern_http_url_parse http_parse_url
tern_idle bench_tern_idle
tern_ipv4_fragment ipv4_fragment
tern_isn tcp_isn
tern_nc_free nc_free
tern_nc_input nc_input
tern_nc_input_eof nc_input_eof
tern_nc_start nc_start
tern_nc_stop nc_stop
tern_netstat_info netstat_details
tern_netstat_print netstat_print
tern_netstat_row netstat_row
tern_perf_free perf_free
tern_perf_get_result perf_get_result
tern_perf_start perf_start
tern_perf_stop perf_stop
tern_ping_free ping_free
tern_ping_start ping_start
tern_ping_stop ping_stop
tern_pop3_free pop3_free
tern_pop3_start pop3_start
tern_pop3_stats pop3_stats
tern_rack_any_lost tcp_rack_any_lost
tern_rack_any_sacked tcp_rack_any_sacked
tern_rack_at tcp_rack_at
tern_rack_count tcp_rack_count
tern_rack_detect_loss tcp_rack_detect_loss
tern_rack_fini tcp_rack_fini
tern_rack_init tcp_rack_init
tern_rack_next_lost tcp_rack_next_lost
tern_rack_on_ack tcp_rack_on_ack
tern_rack_on_rto tcp_rack_on_rto
tern_rack_on_send tcp_rack_on_send
tern_rack_pto tcp_rack_pto
tern_rack_recovery_done tcp_rack_recovery_done
tern_rack_reo_wnd tcp_rack_reo_wnd
tern_rack_start tcp_rack_start
tern_rack_tlp_on_ack tcp_rack_tlp_on_ack
tern_rack_tlp_sent tcp_rack_tlp_sent
tern_rate bench_tern_rate
tern_reasm_bytes_held ip_reasm_bytes_held
tern_reasm_datagrams_held ip_reasm_datagrams_held
tern_reasm_expire ip_reasm_expire
tern_reasm_free ip_reasm_free
tern_reasm_input ip_reasm_input
tern_reasm_new ip_reasm_new
tern_reasm_stats ip_reasm_stats
tern_rec_init rec_init
tern_rec_on_ack rec_on_ack
tern_rec_on_dupack rec_on_dupack
tern_rec_on_rto rec_on_rto
tern_resolve_free resolve_free
tern_resolve_print resolve_print
tern_resolve_ptr_name resolve_ptr_name
tern_resolve_start resolve_start
tern_ringbuf_cap ringbuf_cap
tern_ringbuf_clear ringbuf_clear
tern_ringbuf_commit ringbuf_commit
tern_ringbuf_consume ringbuf_consume
tern_ringbuf_fini ringbuf_fini
tern_ringbuf_free ringbuf_free
tern_ringbuf_free_spans ringbuf_free_spans
tern_ringbuf_init ringbuf_init
tern_ringbuf_len ringbuf_len
tern_ringbuf_peek ringbuf_peek
tern_ringbuf_peek_at ringbuf_peek_at
tern_ringbuf_read ringbuf_read
tern_ringbuf_spans ringbuf_spans
tern_ringbuf_write ringbuf_write
tern_ringbuf_write_at ringbuf_write_at
tern_rng_below prng_below
tern_rng_hash prng_hash
tern_rng_init prng_init
tern_rng_next prng_next
tern_rtt_backoff rtt_backoff
tern_rtt_cfg_default rtt_cfg_default
tern_rtt_init rtt_init
tern_rtt_on_ack rtt_on_ack
tern_rtt_on_send rtt_on_send
tern_rtt_reset_backoff rtt_reset_backoff
tern_rtt_rto rtt_rto
tern_rtt_rttvar_us rtt_rttvar_us
tern_rtt_sample rtt_sample
tern_rtt_sample_ts rtt_sample_ts
tern_rtt_srtt_us rtt_srtt_us
tern_rtt_syn_retransmitted rtt_syn_retransmitted
tern_servdb_builtin servdb_builtin
tern_servdb_free servdb_free
tern_servdb_name servdb_name
tern_servdb_open servdb_open
tern_servdb_parse_port servdb_parse_port
tern_servdb_port servdb_port
tern_servdb_proto servdb_proto
tern_servdb_read servdb_read
tern_servdb_stats servdb_stats
tern_services_free services_free
tern_services_start services_start
tern_services_stats services_stats
tern_services_tcp_free services_tcp_free
tern_services_tcp_start services_tcp_start
tern_services_tcp_stats services_tcp_stats
tern_sha256_final sim_sha256_final
tern_sha256_hex sim_sha256_hex
tern_sha256_init sim_sha256_init
tern_sha256_update sim_sha256_update
tern_siphash24 siphash24
tern_stack_mem_usage stack_mem_usage
tern_svc_answer classic_answer
tern_svc_chargen classic_chargen
tern_svc_daytime classic_daytime
tern_svc_default_quote classic_default_quote
tern_svc_name classic_name
tern_svc_port classic_port
tern_svc_time_value classic_time_value
tern_svc_unix_now classic_unix_now
tern_syncookie_decode syncookie_decode
tern_syncookie_encode syncookie_encode
tern_syncookie_mss_table syncookie_mss_table
tern_tcp_ooo_bytes tcp_ooo_bytes
tern_tcp_ooo_clear tcp_ooo_clear
tern_tcp_ooo_fini tcp_ooo_fini
tern_tcp_ooo_init tcp_ooo_init
tern_tcp_ooo_input tcp_ooo_input
tern_tcp_ooo_ranges tcp_ooo_ranges
tern_tcp_ooo_sack_blocks tcp_ooo_sack_blocks
tern_tcp_sack_enter_recovery tcp_sack_enter_recovery
tern_tcp_sack_exit_recovery tcp_sack_exit_recovery
tern_tcp_sack_fini tcp_sack_fini
tern_tcp_sack_init tcp_sack_init
tern_tcp_sack_is_lost tcp_sack_is_lost
tern_tcp_sack_next_seg tcp_sack_next_seg
tern_tcp_sack_on_ack tcp_sack_on_ack
tern_tcp_sack_on_rto tcp_sack_on_rto
tern_tcp_sack_on_send tcp_sack_on_send
tern_tcp_sack_pipe_of tcp_sack_pipe_of
tern_tcp_sack_recovery_done tcp_sack_recovery_done
tern_tcp_sack_sent tcp_sack_sent
tern_tcp_sack_set_pipe tcp_sack_set_pipe
tern_tcp_sack_set_smss tcp_sack_set_smss
tern_tcp_sack_skip tcp_sack_skip
tern_tcpplot_counts tcpplot_counts
tern_tcpplot_free tcpplot_free
tern_tcpplot_new tcpplot_new
tern_tcpplot_packet tcpplot_packet
tern_tcpplot_retransmissions tcpplot_retransmissions
tern_tcpplot_sample tcpplot_sample
tern_tcpplot_write_cwnd tcpplot_write_cwnd
tern_tcpplot_write_tsg tcpplot_write_tsg
tern_telnet_rx telnet_rx
tern_telnet_tx telnet_tx
tern_test_argc test_argc
tern_test_argv test_argv
tern_test_fail test_fail
tern_test_failed_now test_failed_now
tern_test_hex test_hex
tern_test_rand test_rand
tern_test_register test_register
tern_test_result test_result
tern_timewait bench_tern_timewait
tern_traceroute_free traceroute_free
tern_traceroute_start traceroute_start
tern_traceroute_stop traceroute_stop
LIST

self=tools/rename_private.sh
mapfile -t files < <(git ls-files -co --exclude-standard -- src tests fuzz bench docs tools examples include README.md Makefile |
    grep -v -e '^fuzz/corpus/' -e "^$self\$" | sort -u | while read -r f; do
        [ -f "$f" ] && grep -Iq 'tern_' "$f" && printf '%s\n' "$f"; done)
[ ${#files[@]} -gt 0 ] || { echo "rename_private: no file uses a tern_ name"; exit 0; }

if [ "$check" = 1 ]; then
    pattern=$(printf '%s\n' "$MAP" | awk 'NF == 2 {printf "%s%s", sep, $1; sep = "|"}')
    if grep -nwE "$pattern" "${files[@]}"; then
        echo "rename_private: old names above are still in use (run tools/rename_private.sh)"
        exit 1
    fi
    echo "rename_private: no old name in use"
    exit 0
fi

script=$(mktemp)
trap 'rm -f "$script"' EXIT
printf '%s\n' "$MAP" | awk 'NF == 2 {printf "s/\\b%s\\b/%s/g\n", $1, $2}' >"$script"
changed=0
for f in "${files[@]}"; do
    before=$(cksum <"$f")
    sed -i -f "$script" "$f"
    if [ "$(cksum <"$f")" != "$before" ]; then
        echo "renamed in $f"
        changed=$((changed + 1))
    fi
done
echo "rename_private: $(printf '%s\n' "$MAP" | awk 'NF == 2' | wc -l) names, $changed files changed"
