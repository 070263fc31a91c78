using System;
using System.Collections.Generic;
using System.Text;
using System.Web.Configuration;

namespace CosmosSessionToken.AspNet
{
    /// <summary>The secrets a sealed cookie's keys are derived from, read the one way every cookie of this assembly
    /// reads them (the provider's token cookie, <see cref="FlowCookieModule"/>'s flow cookie): a base64 key (16+ bytes)
    /// and its comma-separated fallbacks for rotation (the first seals, all open), or else an explicit
    /// <c>&lt;machineKey validationKey&gt;</c> — never an auto-generated one, which differs from node to node.</summary>
    internal static class CookieSecrets
    {
        internal static List<byte[]> Read(string keyText, string fallbackText, string keyName, string fallbackName,
            string missing, Func<string, Exception> fail)
        {
            var secrets = new List<byte[]>();
            if (keyText != null)
            {
                secrets.Add(Base64Secret(keyText, keyName, fail));
                if (fallbackText != null)
                {
                    foreach (string part in fallbackText.Split(','))
                    {
                        if (part.Trim().Length > 0) secrets.Add(Base64Secret(part.Trim(), fallbackName, fail));
                    }
                }
                return secrets;
            }
            var machineKey = WebConfigurationManager.GetSection("system.web/machineKey") as MachineKeySection;
            string validation = machineKey == null ? null : machineKey.ValidationKey;
            if (string.IsNullOrEmpty(validation) || validation.StartsWith("AutoGenerate", StringComparison.Ordinal))
            {
                throw fail(missing);
            }
            secrets.Add(Encoding.UTF8.GetBytes(validation));
            return secrets;
        }

        private static byte[] Base64Secret(string text, string what, Func<string, Exception> fail)
        {
            try
            {
                return Convert.FromBase64String(text);
            }
            catch (FormatException)
            {
                throw fail(what + " must be base64 (16+ bytes once decoded)");
            }
        }
    }
}
