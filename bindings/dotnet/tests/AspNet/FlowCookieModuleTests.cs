using System;
using System.Collections.Specialized;
using System.Configuration;
using CosmosSessionToken;
using CosmosSessionToken.AspNet;
using NUnit.Framework;

namespace CosmosSessionToken.AspNet.Tests
{
    /// <summary>FlowCookieModule's configuration (appSettings, read once at start-up): the provider's key rules, and
    /// every mistake an error at start-up. The module itself runs in the farm (bindings/dotnet/tests/farm).</summary>
    [TestFixture]
    public class FlowCookieModuleTests
    {
        private static FlowCookieModule.Settings Read(params string[] pairs)
        {
            var settings = new NameValueCollection { { "unrelated", "ignored" } };
            for (int i = 0; i < pairs.Length; i += 2) settings.Add(pairs[i], pairs[i + 1]);
            return FlowCookieModule.Settings.Read(settings);
        }

        private static readonly string Key = Convert.ToBase64String(new byte[32]);

        [Test]
        public void AKeyFromAppSettingsAndTheDefaults()
        {
            var s = Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:keyFallbacks", Convert.ToBase64String(new byte[16]));
            Assert.IsNotNull(s.Cookies);
            Assert.AreEqual("cosmos_flow", s.CookieName);
            Assert.IsTrue(s.Secure);
            Assert.IsFalse(s.BindToUser);
            var t = Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:secure", "false", "cosmosFlowCookie:binding", "user",
                "cosmosFlowCookie:cookieName", "flow2", "cosmosFlowCookie:maxBytes", "3000");
            Assert.IsFalse(t.Secure);
            Assert.IsTrue(t.BindToUser);
            Assert.AreEqual("flow2", t.CookieName);
        }

        [Test]
        public void EveryMistakeFailsAtStartUp()
        {
            var weak = Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", Convert.ToBase64String(new byte[8])));
            StringAssert.Contains("16 bytes", weak.Message);
            StringAssert.Contains("must be base64",
                Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", "not base64!")).Message);
            StringAssert.Contains("cosmosFlowCookie:kee",
                Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:kee", "x")).Message);
            Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:binding", "ip"));
            Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:secure", "yes"));
            Assert.Throws<ConfigurationErrorsException>(() => Read("cosmosFlowCookie:key", Key, "cosmosFlowCookie:maxBytes", "-1"));
            // No key and no explicit machine key (this process has the auto-generated one, which differs per node).
            StringAssert.Contains("needs a key shared by every node", Assert.Throws<ConfigurationErrorsException>(() => Read()).Message);
        }
    }
}
