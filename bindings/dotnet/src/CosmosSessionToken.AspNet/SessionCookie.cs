using System;
using System.Web;

namespace CosmosSessionToken.AspNet
{
    /// <summary>The session id of a request as the session-state module's cookie carries it.</summary>
    internal static class SessionCookie
    {
        /// <summary>A new id the module is setting in this response, else the incoming cookie's; null when neither.
        /// (The Response.Cookies indexer would add an empty cookie, so the name is looked up first.)</summary>
        internal static string IdOf(HttpContext context, string cookieName)
        {
            if (Array.IndexOf(context.Response.Cookies.AllKeys, cookieName) >= 0)
            {
                string issued = context.Response.Cookies[cookieName].Value;
                if (!string.IsNullOrEmpty(issued)) return issued;
            }
            var incoming = context.Request.Cookies[cookieName];
            return incoming == null || string.IsNullOrEmpty(incoming.Value) ? null : incoming.Value;
        }
    }
}
