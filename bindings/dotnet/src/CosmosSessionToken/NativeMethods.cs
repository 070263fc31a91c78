using System;
using System.Runtime.InteropServices;

namespace CosmosSessionToken
{
    /// <summary>P/Invoke declarations for libcstoken (ffi/include/cstoken.h). Cdecl, exact names,
    /// UTF-8 passed as byte buffers with explicit lengths, no marshalled strings or bools.</summary>
    internal static class NativeMethods
    {
        internal const string Lib = "cstoken";

        internal const int CST_OK = 0;
        internal const int CST_ERR_NULL_ARGUMENT = 1;
        internal const int CST_ERR_INVALID_UTF8 = 2;
        internal const int CST_ERR_MALFORMED = 3;
        internal const int CST_ERR_INCOMPATIBLE = 4;
        internal const int CST_ERR_BUFFER_TOO_SMALL = 5;
        internal const int CST_ERR_NOT_FOUND = 6;
        internal const int CST_ERR_INVALID_ARGUMENT = 7;
        internal const int CST_ERR_LIMIT_EXCEEDED = 8;
        internal const int CST_ERR_PANIC = 9;
        internal const int CST_ERR_REJECTED = 10;
        internal const int CST_ERR_LOCK_LOST = 11;
        internal const int CST_ERR_STORE = 12;

        internal const uint CST_FLAG_LENIENT = 1;
        internal const int CST_FORMAT_SIMPLE = 0;
        internal const int CST_FORMAT_VECTOR = 1;

        /// <summary>The ABI version this wrapper was written against (CST_ABI_VERSION).</summary>
        internal const uint ExpectedAbiVersion = 5;

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern uint cst_library_get_abi_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr cst_library_get_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_last_error_get_message(byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_last_error_get_code(byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_last_error_get_position(out long segment, out long offset);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_parse(byte[] s, UIntPtr len, uint flags, out TokenHandle token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_token_free(IntPtr token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_to_string(TokenHandle token, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_convert(TokenHandle token, int format, out TokenHandle result);

        // Hot-path entry points over raw handle pointers (no SafeHandle marshalling): callers hold
        // references on the handles for the duration of the call (HandleRefs).
        [DllImport(Lib, EntryPoint = "cst_token_merge", CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_merge_raw(IntPtr a, IntPtr b, uint flags, out IntPtr result);

        // A pointer, not a byte[]: Mono's array marshalling measured ~80 ns per call here.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern unsafe int cst_token_merge_to_string(IntPtr a, IntPtr b, uint flags, byte* buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_compare(TokenHandle a, TokenHandle b, out int order);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_hash(TokenHandle token, out ulong hash);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_partition_key_compute_effective(byte[] value, UIntPtr len, uint kind, uint version, uint levels,
            byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_routing_map_parse(byte[] json, UIntPtr len, out RoutingMapHandle map);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_routing_map_get_range_count(RoutingMapHandle map, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_routing_map_free(IntPtr map);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_scope_to_partition_key(TokenHandle token, byte[] value, UIntPtr valueLen,
            byte[] definition, UIntPtr definitionLen, RoutingMapHandle map, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_scope_to_feed_range(TokenHandle token, byte[] feedRange, UIntPtr len,
            RoutingMapHandle map, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_check_header_budget(TokenHandle token, UIntPtr maxBytes);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_resolve_for_partition_key(ContainerHandle container, byte[] collection,
            UIntPtr collectionLen, byte[] value, UIntPtr valueLen, byte[] definition, UIntPtr definitionLen,
            RoutingMapHandle map, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_compare_explain(TokenHandle a, TokenHandle b, out int order,
            byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_scope(
            TokenHandle token, byte[] rangeId, UIntPtr rangeLen, IntPtr parentIds, IntPtr parentLens,
            UIntPtr nparents, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_find_latest_for_feed_range(
            IntPtr ranges, IntPtr rangeLens, IntPtr tokens, IntPtr tokenLens, UIntPtr npairs,
            byte[] target, UIntPtr targetLen, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_seal(
            TokenHandle token, byte[] key, UIntPtr keyLen, byte[] context, UIntPtr contextLen, UIntPtr maxBytes,
            byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_unseal(
            byte[] sealedToken, UIntPtr len, IntPtr keys, IntPtr keyLens, UIntPtr nkeys, byte[] context, UIntPtr contextLen,
            UIntPtr maxBytes, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_warning_count(TokenHandle token, out UIntPtr count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_warning(
            TokenHandle token, UIntPtr index, byte[] codeBuf, UIntPtr codeCap, out UIntPtr codeLen,
            byte[] messageBuf, UIntPtr messageCap, out UIntPtr messageLen, out long segment, out long offset);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr cst_error_table_get_count();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_error_table_get_row(UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr outLen, out int status);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_new(
            IntPtr keys, IntPtr keyLens, UIntPtr nkeys, byte[] context, UIntPtr contextLen, UIntPtr maxBytes,
            out CarrierHandle carrier);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_carrier_free(IntPtr carrier);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_read(CarrierHandle carrier, byte[] sealedToken, UIntPtr len, out byte accepted);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_report(CarrierHandle carrier, byte[] headerValue, UIntPtr len, out byte reported);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_report_token(CarrierHandle carrier, TokenHandle written);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_get_token(CarrierHandle carrier, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_scope(
            CarrierHandle carrier, byte[] rangeId, UIntPtr rangeLen, IntPtr parentIds, IntPtr parentLens, UIntPtr nparents,
            out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_get_changed(CarrierHandle carrier, out byte changed);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_seal(CarrierHandle carrier, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_carrier_get_cookie_name(byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_capture_response(
            ContainerHandle container, byte[] resourceType, UIntPtr resourceTypeLen, byte[] name, UIntPtr nameLen,
            byte[] rid, UIntPtr ridLen, byte[] token, UIntPtr tokenLen, int status, int subStatus, out byte captured);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_forget_range(
            ContainerHandle container, byte[] collection, UIntPtr collectionLen, byte[] rangeId, UIntPtr rangeLen,
            out byte forgotten);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_options_new(out StateOptionsHandle options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_options_set(StateOptionsHandle options, byte[] name, UIntPtr nameLen, byte[] value,
            UIntPtr valueLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_options_get(StateOptionsHandle options, byte[] name, UIntPtr nameLen, byte[] buf,
            UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_state_options_free(IntPtr options);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_option_table_get_json(byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_open(byte[] connectionString, UIntPtr len, StateOptionsHandle options, out StateHandle state);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_open_memory(StateOptionsHandle options, out StateHandle state);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_state_free(IntPtr state);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_get(StateHandle state, byte[] sid, UIntPtr sidLen, out StateResultHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_get_exclusive(StateHandle state, byte[] sid, UIntPtr sidLen, out StateResultHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_result_get_entry(StateResultHandle result, out StateEntry entry);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_result_get_data(StateResultHandle result, out IntPtr data, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_state_result_free(IntPtr result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_set_and_release(
            StateHandle state, byte[] sid, UIntPtr sidLen, byte[] data, UIntPtr dataLen, ulong lockId, byte newItem, double timeout);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_release(StateHandle state, byte[] sid, UIntPtr sidLen, ulong lockId, out byte released);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_delete(StateHandle state, byte[] sid, UIntPtr sidLen, double wait, out byte removed);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_session_id_check(byte[] sid, UIntPtr sidLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_session_id_get_fingerprint(byte[] sid, UIntPtr sidLen, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_derive_keys(IntPtr ptrs, IntPtr lens, UIntPtr count, byte[] output, UIntPtr outputCap);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_compute_context(byte[] framework, UIntPtr frameworkLen, byte[] app, UIntPtr appLen,
            byte[] sid, UIntPtr sidLen, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_compute_header(byte[] name, UIntPtr nameLen, byte[] value, UIntPtr valueLen,
            long maxAge, [MarshalAs(UnmanagedType.I1)] bool secure, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_create_uninitialized(StateHandle state, byte[] sid, UIntPtr sidLen, double timeout);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_token_cookie_new(IntPtr secrets, IntPtr secretLens, UIntPtr count, byte[] framework,
            UIntPtr frameworkLen, byte[] app, UIntPtr appLen, [MarshalAs(UnmanagedType.I1)] bool secure, long maxAge,
            out TokenCookieHandle hook);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_state_token_cookie_free(IntPtr hook);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_token_cookie_begin(TokenCookieHandle hook, StateHandle state, byte[] sid, UIntPtr sidLen,
            byte[] cookie, UIntPtr cookieLen, out byte presented);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_token_cookie_finish(TokenCookieHandle hook, StateHandle state, byte[] sid, UIntPtr sidLen,
            byte[] cookie, UIntPtr cookieLen, byte[] buf, UIntPtr cap, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_remove(StateHandle state, byte[] sid, UIntPtr sidLen, ulong lockId, out byte removed);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_reset_timeout(StateHandle state, byte[] sid, UIntPtr sidLen, out byte renewed);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_get_token(StateHandle state, byte[] sid, UIntPtr sidLen, out TokenHandle token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_present_token(StateHandle state, byte[] sid, UIntPtr sidLen, TokenHandle token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_show(StateHandle state, byte[] sid, UIntPtr sidLen, out StateSessionInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_open_with_hooks(byte[] connectionString, UIntPtr len, StateOptionsHandle options,
            ref StateHooksNative hooks, out StateHandle state);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_get_stats(StateHandle state, out StateStats stats);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_force_unlock(StateHandle state, byte[] sid, UIntPtr sidLen, out ulong unlocked);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr cst_flow_header_get_name([MarshalAs(UnmanagedType.I1)] bool response, UIntPtr index);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_new(out FlowHandle flow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_restore(byte[] snapshot, UIntPtr snapshotLen, out FlowHandle flow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_flow_free(IntPtr flow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_merge_snapshot(FlowHandle flow, byte[] snapshot, UIntPtr snapshotLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_snapshot(FlowHandle flow, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_run_before_request(FlowHandle flow, byte[] method, UIntPtr methodLen, byte[] path,
            UIntPtr pathLen, [In] NativeHeader[] headers, UIntPtr headerCount, out TokenHandle token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_get_wants_body(FlowHandle flow, byte[] method, UIntPtr methodLen, byte[] path,
            UIntPtr pathLen, out byte wants);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_run_after_response(FlowHandle flow, byte[] method, UIntPtr methodLen, byte[] path,
            UIntPtr pathLen, int status, [In] NativeHeader[] headers, UIntPtr headerCount, byte[] body, UIntPtr bodyLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_get_stats(FlowHandle flow, out SessionFlowStats stats);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_new(IntPtr keys, IntPtr keyLens, UIntPtr nkeys, UIntPtr maxBytes,
            out FlowCookiesHandle cookies);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_flow_cookies_free(IntPtr cookies);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_get_max_bytes(FlowCookiesHandle cookies, out UIntPtr maxBytes);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_new_from_policy(CookiePolicyHandle policy, out FlowCookiesHandle cookies);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_state_token_cookie_new_from_policy(CookiePolicyHandle policy, out TokenCookieHandle hook);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_new(uint kind, byte[] framework, UIntPtr frameworkLen, byte[] database,
            UIntPtr databaseLen, byte[] container, UIntPtr containerLen, IntPtr secrets, IntPtr secretLens, UIntPtr count,
            [MarshalAs(UnmanagedType.I1)] bool secure, long maxAge, UIntPtr maxBytes, out CookiePolicyHandle policy);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_cookie_policy_free(IntPtr policy);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr cst_library_get_cookie_key_bytes();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_get_name(CookiePolicyHandle policy, byte[] buf, UIntPtr cap, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_get_legacy_name(CookiePolicyHandle policy, UIntPtr index, byte[] buf,
            UIntPtr cap, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_get_max_bytes(CookiePolicyHandle policy, out UIntPtr maxBytes);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_compute_context(CookiePolicyHandle policy, byte[] sid, UIntPtr sidLen,
            byte[] buf, UIntPtr cap, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_policy_compute_header(CookiePolicyHandle policy, byte[] value, UIntPtr valueLen,
            byte[] buf, UIntPtr cap, out UIntPtr len);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_open(FlowCookiesHandle cookies, byte[] context, UIntPtr contextLen,
            byte[] cookie, UIntPtr cookieLen, out CookieFlowHandle user);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_cookie_flow_free(IntPtr user);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_flow_get_verdict(CookieFlowHandle user, out int verdict);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr cst_cookie_verdict_get_name(int verdict);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_cookie_flow_get_flow(CookieFlowHandle user, out FlowHandle flow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_seal(FlowCookiesHandle cookies, CookieFlowHandle user, byte[] context,
            UIntPtr contextLen, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_get_stats(FlowCookiesHandle cookies, out FlowCookieStats stats);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_flow_cookies_get_node_flow(FlowCookiesHandle cookies, out FlowHandle flow);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_new(out ContainerHandle container);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void cst_container_free(IntPtr container);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_capture(
            ContainerHandle container, byte[] name, UIntPtr nameLen, byte[] rid, UIntPtr ridLen, byte[] token, UIntPtr tokenLen,
            int status, int subStatus, out byte captured);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_resolve(
            ContainerHandle container, byte[] collection, UIntPtr collectionLen, byte[] rangeId, UIntPtr rangeLen,
            IntPtr parentIds, IntPtr parentLens, UIntPtr nparents, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_resolve_all(
            ContainerHandle container, byte[] collection, UIntPtr collectionLen, out TokenHandle result);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_clear(
            ContainerHandle container, byte[] collection, UIntPtr collectionLen, out byte cleared);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_snapshot(ContainerHandle container, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_container_restore(ContainerHandle container, byte[] snapshot, UIntPtr snapshotLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_segment_count(TokenHandle token, out UIntPtr count);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_segment_text(TokenHandle token, UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_segment_range_id(
            TokenHandle token, UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr outLen);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_segment_info(
            TokenHandle token, UIntPtr index, out int format, out long version, out long globalLsn, out UIntPtr regionCount);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int cst_token_get_segment_region(
            TokenHandle token, UIntPtr index, UIntPtr regionIndex, out uint regionId, out long localLsn);
    }

    /// <summary>cst_state_stats.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StateStats
    {
        public ulong Requests;
        public ulong Retries;
        public ulong Throttled;
        public ulong ReadSessionUnavailable;
        public ulong WriteForbidden;
        public ulong RegionFailovers;
        public ulong Transient;
        public ulong Unauthorized;
        public ulong AccountReads;
        public ulong ContainersCreated;
        public double RequestCharge;
        public ulong LockWaits;
        public ulong LockTakeovers;
        public ulong FenceFailures;
    }

    /// <summary>cst_state_entry.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StateEntry
    {
        public byte Found;
        public byte Uninitialized;
        public byte Locked;
        public ulong LockId;
        public double LockAge;
        public UIntPtr DataLen;
    }

    /// <summary>cst_state_session_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StateSessionInfo
    {
        public byte Exists;
        public UIntPtr StoredBytes;
        public byte Compressed;
        public double ExpiresIn;
        public byte Uninitialized;
        public byte Locked;
        public ulong LockId;
        public double LockAge;
    }

    /// <summary>Owns a native cst_state; released by the finalizer if not disposed.</summary>
    internal sealed class StateHandle : SafeHandle
    {
        public StateHandle() : base(IntPtr.Zero, true) { }

        /// <summary>The callbacks the native store may call (kept alive as long as it lives).</summary>
        internal StateHooks Hooks;

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_state_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_state_token_cookie.</summary>
    internal sealed class StateOptionsHandle : SafeHandle
    {
        public StateOptionsHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_state_options_free(handle);
            return true;
        }
    }

    internal sealed class TokenCookieHandle : SafeHandle
    {
        public TokenCookieHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_state_token_cookie_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_state_result.</summary>
    internal sealed class StateResultHandle : SafeHandle
    {
        public StateResultHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_state_result_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_carrier; released by the finalizer if not disposed.</summary>
    internal sealed class CarrierHandle : SafeHandle
    {
        public CarrierHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_carrier_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_container; released by the finalizer if not disposed.</summary>
    internal sealed class FlowHandle : SafeHandle
    {
        public FlowHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_flow_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_flow_cookies; released by the finalizer if not disposed.</summary>
    internal sealed class CookiePolicyHandle : SafeHandle
    {
        public CookiePolicyHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_cookie_policy_free(handle);
            return true;
        }
    }

    internal sealed class FlowCookiesHandle : SafeHandle
    {
        public FlowCookiesHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_flow_cookies_free(handle);
            return true;
        }
    }

    /// <summary>Owns a native cst_cookie_flow; released by the finalizer if not disposed.</summary>
    internal sealed class CookieFlowHandle : SafeHandle
    {
        public CookieFlowHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_cookie_flow_free(handle);
            return true;
        }
    }

    /// <summary>cst_header: one HTTP header as two UTF-8 spans (pinned by the caller).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeHeader
    {
        public IntPtr Name;
        public UIntPtr NameLen;
        public IntPtr Value;
        public UIntPtr ValueLen;
    }

    internal sealed class ContainerHandle : SafeHandle
    {
        public ContainerHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_container_free(handle);
            return true;
        }
    }

    /// <summary>Owns one reference to a native cst_token; released by the finalizer if not disposed.</summary>
    internal sealed class TokenHandle : SafeHandle
    {
        public TokenHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        /// <summary>Takes ownership of a token the native library just created.</summary>
        internal void Adopt(IntPtr raw)
        {
            SetHandle(raw);
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.cst_token_free(handle);
            return true;
        }
    }

    /// <summary>References held on two token handles for one native call over raw pointers: what
    /// SafeHandle marshalling does, by hand. A handle disposed meanwhile is released only after
    /// <see cref="Release"/>; one already disposed makes <see cref="Acquire"/> throw
    /// ObjectDisposedException.</summary>
    internal struct HandleRefs
    {
        private readonly TokenHandle a, b;
        private bool heldA, heldB;

        internal HandleRefs(TokenHandle a, TokenHandle b)
        {
            this.a = a;
            this.b = b;
            heldA = heldB = false;
        }

        internal bool Held { get { return heldA && heldB; } }

        internal IntPtr A { get { return a.DangerousGetHandle(); } }

        internal IntPtr B { get { return b.DangerousGetHandle(); } }

        /// <summary>Call inside a try block whose finally calls <see cref="Release"/>.</summary>
        internal void Acquire()
        {
            a.DangerousAddRef(ref heldA);
            b.DangerousAddRef(ref heldB);
        }

        internal void Release()
        {
            if (heldA)
            {
                heldA = false;
                a.DangerousRelease();
            }
            if (heldB)
            {
                heldB = false;
                b.DangerousRelease();
            }
        }
    }
}
