// Types of `cosmos-session-token/web`: the browser build (an ES module). Call `await init()`
// (or `initSync(bytes)`) once before anything else; the API is the package's, without the
// constant exports (use constants()).
export type * from "./index.js";
export {
  SessionToken, SessionContainer, RoutingMap, SessionFlow, FlowCookies, CookieFlow, SessionTokenError,
  parse, merge, convert, latestForFeedRange, explainLatestForFeedRange,
  effectivePartitionKey, feedRangeFromPartitionKey, tokenForPartitionKey, tokenForFeedRange, checkHeaderBudget,
  seal, unseal, sealFlow, unsealFlow, deriveCookieKeys, tokenCookieContext, tokenCookieHeader, constants,
} from "./index.js";

type WasmSource = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/** Loads the .wasm (default: web/cosmos_session_token_bg.wasm next to the module). */
export default function init(options?: { module_or_path?: WasmSource | Promise<WasmSource> }): Promise<unknown>;
/** Instantiates from bytes or a compiled module, synchronously. */
export function initSync(options: { module: BufferSource | WebAssembly.Module }): unknown;
