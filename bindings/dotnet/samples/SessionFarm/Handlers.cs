using System;
using System.IO;
using System.Threading;
using System.Web;
using System.Web.SessionState;

namespace SessionFarm
{
    /// <summary>counter.axd — exclusive session: increments the integer n and prints the new value.</summary>
    public class CounterHandler : IHttpHandler, IRequiresSessionState
    {
        public bool IsReusable { get { return true; } }

        public void ProcessRequest(HttpContext context)
        {
            int n = context.Session["n"] is int ? (int)context.Session["n"] : 0;
            context.Session["n"] = n + 1;
            context.Response.ContentType = "text/plain";
            context.Response.Write((n + 1).ToString());
        }
    }

    /// <summary>peek.axd — read-only session: prints n (0 when absent); never takes or waits for the lock.</summary>
    public class PeekHandler : IHttpHandler, IReadOnlySessionState
    {
        public bool IsReusable { get { return true; } }

        public void ProcessRequest(HttpContext context)
        {
            int n = context.Session["n"] is int ? (int)context.Session["n"] : 0;
            context.Response.ContentType = "text/plain";
            context.Response.Write(n.ToString());
        }
    }

    /// <summary>slow.axd?ms=N — exclusive: sleeps N ms, then increments n and prints it. Writes this node's process id
    /// to $SESSION_FARM_RUN/slow-node.pid first, so a test can kill the node holding the lock.</summary>
    public class SlowHandler : IHttpHandler, IRequiresSessionState
    {
        public bool IsReusable { get { return true; } }

        public void ProcessRequest(HttpContext context)
        {
            string run = Environment.GetEnvironmentVariable("SESSION_FARM_RUN");
            if (!string.IsNullOrEmpty(run))
            {
                File.WriteAllText(Path.Combine(run, "slow-node.pid"), System.Diagnostics.Process.GetCurrentProcess().Id.ToString());
            }
            int ms;
            if (!int.TryParse(context.Request.QueryString["ms"], out ms) || ms < 0 || ms > 120000) ms = 1000;
            Thread.Sleep(ms);
            int n = context.Session["n"] is int ? (int)context.Session["n"] : 0;
            context.Session["n"] = n + 1;
            context.Response.ContentType = "text/plain";
            context.Response.Write((n + 1).ToString());
        }
    }

    /// <summary>abandon.axd — abandons the session and prints "abandoned".</summary>
    public class AbandonHandler : IHttpHandler, IRequiresSessionState
    {
        public bool IsReusable { get { return true; } }

        public void ProcessRequest(HttpContext context)
        {
            context.Session.Abandon();
            context.Response.ContentType = "text/plain";
            context.Response.Write("abandoned");
        }
    }
}
