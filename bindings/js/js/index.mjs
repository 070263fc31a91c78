// The ES module entry of `cosmos-session-token` (Node): the CommonJS entry's exports, so
// `import` and `require` share one WebAssembly instance and one SessionTokenError class.
import api from "./index.js";

export default api;
export const {
  SessionToken, SessionContainer, RoutingMap, SessionFlow, FlowCookies, CookieFlow, SessionTokenError,
  parse, merge, convert, latestForFeedRange, explainLatestForFeedRange,
  effectivePartitionKey, feedRangeFromPartitionKey, tokenForPartitionKey, tokenForFeedRange, checkHeaderBudget,
  cosmosPlugins, flowCookieMiddleware, currentFlow, runWithFlow,
  seal, unseal, sealFlow, unsealFlow, deriveCookieKeys, tokenCookieContext, tokenCookieHeader, constants,
  HEADER, FLOW_COOKIE_NAME, TOKEN_COOKIE_NAME, DEFAULT_COOKIE_NAME, DEFAULT_SEAL_BUDGET, MESSAGE_FLOW_BUDGET,
  COMPOSITE_BUDGET, MAX_SCOPE_PARENTS, MAX_SEAL_KEYS, READ_SESSION_NOT_AVAILABLE, ERROR_CODES, VERSION,
} = api;
