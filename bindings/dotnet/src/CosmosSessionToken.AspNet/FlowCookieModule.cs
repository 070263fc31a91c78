// TraceSource.TraceEvent is [Conditional("TRACE")]: without this the compiler drops every trace call (mcs defines no
// TRACE by itself).
#define TRACE
using System;
using System.Collections.Specialized;
using System.Configuration;
using System.Diagnostics;
using System.Globalization;
using System.Web;
using System.Web.Configuration;

namespace CosmosSessionToken.AspNet
{
    /// <summary>
    /// Read your own writes across web nodes: each user's <see cref="SessionFlow"/> carried in a sealed cookie (the
    /// core's <see cref="FlowCookies"/> policy, the same as the Python WSGI, ASGI, Django and Flask adapters). One
    /// <c>HttpClient(new SessionFlowHandler(new HttpClientHandler()))</c> (or SDK client built on it) per node serves
    /// every user; per request this module
    /// <list type="bullet">
    /// <item>opens the user's <c>cosmos_flow</c> cookie at <c>PostAcquireRequestState</c> (when the session id and the
    /// authenticated user are known), bound to the ASP.NET session id (or, with <c>binding=user</c>, the authenticated
    /// user's name) through the cookie policy's context (<see cref="CookiePolicy.Context"/>); a refused cookie (another user's, forged,
    /// an unknown key …) is no progress, never an error: its verdict — never its value — is traced as a warning and
    /// counted in <see cref="Cookies"/>' <see cref="FlowCookies.Stats"/>;</item>
    /// <item>puts the user's flow in <c>HttpContext.Items["cosmos.flow"]</c> (<see cref="FlowOf"/>) and makes it
    /// <see cref="SessionFlow.Current"/> from <c>PreRequestHandlerExecute</c> to <c>PostRequestHandlerExecute</c>, so
    /// every request the handler makes through the shared client carries the user's progress;</item>
    /// <item>when the user's progress moved, appends the sealed cookie (<c>Path=/; HttpOnly; SameSite=Lax; Secure</c>,
    /// rendered by <see cref="WebSessionPolicy.TokenCookieHeader"/>) at <c>PreSendRequestHeaders</c> or
    /// <c>EndRequest</c>, whichever comes first (a buffered response: <c>EndRequest</c>; a handler that flushes early:
    /// the flush, and writes after it are not carried).</item>
    /// </list>
    /// Configuration (<c>&lt;appSettings&gt;</c>, read once at start-up; an unknown <c>cosmosFlowCookie:</c> key is an
    /// error): <c>cosmosFlowCookie:key</c> (base64, 16+ bytes) and <c>cosmosFlowCookie:keyFallbacks</c> (comma-separated,
    /// for rotation), else the explicit <c>&lt;machineKey validationKey&gt;</c> — the provider's token-cookie rules;
    /// <c>cosmosFlowCookie:secure</c> (<c>true</c>; <c>false</c> only for plain-HTTP development);
    /// <c>cosmosFlowCookie:binding</c> (<c>session</c>, the default, or <c>user</c>); <c>cosmosFlowCookie:cookieName</c>
    /// (<c>cosmos_flow</c>); <c>cosmosFlowCookie:maxBytes</c> (the cookie's budget, default the core's).
    /// Trace output goes to the <see cref="TraceSource"/> named <see cref="TraceSourceName"/>.
    /// </summary>
    public sealed class FlowCookieModule : IHttpModule
    {
        /// <summary>The trace source name.</summary>
        public const string TraceSourceName = "CosmosSessionToken.AspNet.FlowCookieModule";

        /// <summary>The <c>HttpContext.Items</c> key of the user's <see cref="SessionFlow"/>.</summary>
        public const string ItemsKey = "cosmos.flow";

        /// <summary>The prefix of the module's <c>&lt;appSettings&gt;</c> keys.</summary>
        public const string SettingsPrefix = "cosmosFlowCookie:";

        private const string StateKey = "CosmosSessionToken.AspNet.FlowCookieModule.state";

        private static readonly TraceSource Trace = new TraceSource(TraceSourceName);
        private static readonly object Gate = new object();
        private static Settings node;

        /// <summary>This node's flow cookies (one per application domain, shared by every HttpApplication instance);
        /// null until the module is initialized. Its <see cref="FlowCookies.Stats"/> count the cookies met by verdict,
        /// its <see cref="FlowCookies.NodeStats"/> every user's requests.</summary>
        public static FlowCookies Cookies
        {
            get
            {
                var n = node;
                return n == null ? null : n.Cookies;
            }
        }

        /// <summary>The user's flow of this request (null before <c>PostAcquireRequestState</c> or without the
        /// module): for code that runs outside the handler, where <see cref="SessionFlow.Current"/> is not set —
        /// <c>using (FlowCookieModule.FlowOf(context).Activate()) { … }</c>.</summary>
        public static SessionFlow FlowOf(HttpContext context)
        {
            if (context == null) throw new ArgumentNullException("context");
            return context.Items[ItemsKey] as SessionFlow;
        }

        /// <summary>Reads the configuration (once per application domain: a bad one throws here, at start-up) and
        /// hooks the request events.</summary>
        public void Init(HttpApplication application)
        {
            if (application == null) throw new ArgumentNullException("application");
            lock (Gate)
            {
                if (node == null) node = Settings.Read(WebConfigurationManager.AppSettings);
            }
            application.PostAcquireRequestState += (s, e) => Open(((HttpApplication)s).Context);
            application.PreRequestHandlerExecute += (s, e) => Activate(((HttpApplication)s).Context);
            application.PostRequestHandlerExecute += (s, e) => Deactivate(((HttpApplication)s).Context);
            application.PreSendRequestHeaders += (s, e) => Seal(((HttpApplication)s).Context, "PreSendRequestHeaders");
            application.EndRequest += (s, e) => End(((HttpApplication)s).Context);
        }

        /// <summary>Nothing to release: the node's flow cookies live as long as the application domain.</summary>
        public void Dispose()
        {
        }

        /// <summary>One request's flow and what has been done with it.</summary>
        private sealed class RequestFlow
        {
            internal CookieFlow User;
            internal string Context;
            internal string SessionId;
            internal IDisposable Activation;
            internal bool Sealed;
        }

        private static RequestFlow StateOf(HttpContext context)
        {
            return context == null ? null : context.Items[StateKey] as RequestFlow;
        }

        private static void Open(HttpContext context)
        {
            var settings = node;
            if (context == null || settings == null || StateOf(context) != null) return;
            var state = new RequestFlow();
            if (settings.BindToUser)
            {
                var user = context.User;
                string name = user != null && user.Identity != null && user.Identity.IsAuthenticated ? user.Identity.Name : null;
                state.Context = string.IsNullOrEmpty(name) ? "" : WebSessionPolicy.TokenCookieContext("aspnet", "flow-user", name);
            }
            else
            {
                string sid = context.Session != null ? context.Session.SessionID : SessionCookie.IdOf(context, settings.SessionCookieName);
                state.SessionId = sid;
                state.Context = SessionContext(sid);
            }
            var cookie = context.Request.Cookies[settings.CookieName];
            state.User = settings.Cookies.Open(state.Context, cookie == null ? null : cookie.Value);
            if (state.User.Refused)
            {
                // The verdict only: the cookie's value is the user's and never logged.
                Trace.TraceEvent(TraceEventType.Warning, 0, "flow cookie not accepted: {0}", state.User.VerdictName);
            }
            context.Items[StateKey] = state;
            context.Items[ItemsKey] = state.User.Flow;
        }

        // The seal context of a session id; "" (no session: nothing read or written) for none or one the store could
        // not use either (too long, control characters).
        private static string SessionContext(string sid)
        {
            return string.IsNullOrEmpty(sid) || !SessionStateStore.IsValidSessionId(sid)
                ? "" : node.Policy.Context(sid);
        }

        private static void Activate(HttpContext context)
        {
            var state = StateOf(context);
            if (state == null || state.Activation != null || state.Sealed) return;
            state.Activation = state.User.Flow.Activate();
        }

        private static void Deactivate(HttpContext context)
        {
            var state = StateOf(context);
            if (state == null || state.Activation == null) return;
            state.Activation.Dispose();
            state.Activation = null;
        }

        private static void Seal(HttpContext context, string at)
        {
            var settings = node;
            var state = StateOf(context);
            if (state == null || settings == null) return;
            lock (state)
            {
                if (state.Sealed) return;
                state.Sealed = true;
                string now = state.Context;
                if (!settings.BindToUser)
                {
                    // A session created or renewed during the request gets the user's progress under its new id.
                    string sid = SessionCookie.IdOf(context, settings.SessionCookieName) ?? state.SessionId;
                    now = SessionContext(sid);
                }
                string value;
                var outcome = settings.Cookies.Seal(state.User, now == state.Context ? null : now, out value);
                if (outcome == CookieSealOutcome.OverBudget)
                {
                    Trace.TraceEvent(TraceEventType.Warning, 0, "flow cookie not written: the user's progress is over the cookie budget");
                    return;
                }
                if (value == null) return;
                try
                {
                    // The header as the native policy renders it: HttpCookie has no SameSite on .NET Framework before
                    // 4.7.2, nor on Mono.
                    context.Response.AppendHeader("Set-Cookie", settings.CookieName == settings.Policy.Name
                        ? settings.Policy.Header(value)
                        : WebSessionPolicy.TokenCookieHeader(settings.CookieName, value, null, settings.Secure));
                    Trace.TraceEvent(TraceEventType.Verbose, 0, "flow cookie written at {0}", at);
                }
                catch (HttpException)
                {
                    Trace.TraceEvent(TraceEventType.Warning, 0, "flow cookie not written at {0}: the headers were already sent", at);
                }
            }
        }

        private static void End(HttpContext context)
        {
            var state = StateOf(context);
            if (state == null) return;
            Deactivate(context);
            Seal(context, "EndRequest");
            lock (state)
            {
                context.Items.Remove(ItemsKey);
                context.Items.Remove(StateKey);
                state.User.Dispose();
            }
        }

        /// <summary>The module's configuration, read once per application domain.</summary>
        internal sealed class Settings
        {
            internal FlowCookies Cookies;
            internal CookiePolicy Policy;
            internal string CookieName;
            internal bool Secure = true;
            internal bool BindToUser;
            internal string SessionCookieName = "ASP.NET_SessionId";

            /// <summary>Reads the <c>cosmosFlowCookie:</c> keys of <paramref name="appSettings"/>; throws
            /// <see cref="ConfigurationErrorsException"/> for a bad or unknown one and for a missing or weak key.</summary>
            internal static Settings Read(NameValueCollection appSettings)
            {
                var mine = new NameValueCollection();
                if (appSettings != null)
                {
                    foreach (string k in appSettings.AllKeys)
                    {
                        if (k != null && k.StartsWith(SettingsPrefix, StringComparison.Ordinal)) mine[k.Substring(SettingsPrefix.Length)] = appSettings[k];
                    }
                }
                var s = new Settings();
                string keyText = Take(mine, "key");
                string fallbackText = Take(mine, "keyFallbacks");
                s.Secure = ParseBool(Take(mine, "secure"), true, "secure");
                string binding = Take(mine, "binding") ?? "session";
                if (binding != "session" && binding != "user")
                {
                    throw new ConfigurationErrorsException(SettingsPrefix + "binding must be session or user");
                }
                s.BindToUser = binding == "user";
                s.CookieName = Take(mine, "cookieName");
                if (s.CookieName != null && s.CookieName.Length == 0) throw new ConfigurationErrorsException(SettingsPrefix + "cookieName must not be empty");
                int maxBytes = 0;
                string budget = Take(mine, "maxBytes");
                if (budget != null && (!int.TryParse(budget, NumberStyles.None, CultureInfo.InvariantCulture, out maxBytes) || maxBytes <= 0))
                {
                    throw new ConfigurationErrorsException(SettingsPrefix + "maxBytes must be a positive number of bytes");
                }
                if (mine.Count > 0)
                {
                    throw new ConfigurationErrorsException("unknown appSettings key '" + SettingsPrefix + mine.GetKey(0) + "'");
                }
                var section = WebConfigurationManager.GetSection("system.web/sessionState") as SessionStateSection;
                if (section != null && !string.IsNullOrEmpty(section.CookieName)) s.SessionCookieName = section.CookieName;
                var secrets = CookieSecrets.Read(keyText, fallbackText, SettingsPrefix + "key", SettingsPrefix + "keyFallbacks",
                    "FlowCookieModule needs a key shared by every node: set the appSetting " + SettingsPrefix
                    + "key (base64, 16+ bytes) or an explicit <machineKey validationKey>",
                    m => new ConfigurationErrorsException(m));
                try
                {
                    // The core's flow cookie policy: keys derived from the secrets, the name, budget and Secure.
                    s.Policy = new CookiePolicy(CookieKind.Flow, "aspnet", "", "", secrets, s.Secure, null, maxBytes);
                    s.Cookies = new FlowCookies(s.Policy);
                    s.CookieName = s.CookieName ?? s.Policy.Name;
                }
                catch (SessionTokenArgumentException e)
                {
                    throw new ConfigurationErrorsException(SettingsPrefix + "key: " + e.Message, e);
                }
                Trace.TraceEvent(TraceEventType.Information, 0, "initialized: cookie {0}, binding {1}, secure {2}, keys {3}",
                    s.CookieName, binding, s.Secure, secrets.Count);
                return s;
            }

            private static string Take(NameValueCollection settings, string key)
            {
                string value = settings[key];
                settings.Remove(key);
                return value;
            }

            private static bool ParseBool(string value, bool fallback, string what)
            {
                if (value == null) return fallback;
                bool result;
                if (!bool.TryParse(value, out result)) throw new ConfigurationErrorsException(SettingsPrefix + what + " must be true or false");
                return result;
            }
        }
    }
}
