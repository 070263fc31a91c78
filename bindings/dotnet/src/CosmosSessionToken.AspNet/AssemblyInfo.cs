using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("CosmosSessionToken.AspNet")]
[assembly: AssemblyDescription("ASP.NET (System.Web) session-state provider on Azure Cosmos DB, over libcstoken's session-state engine")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: AssemblyFileVersion("0.1.0.0")]
[assembly: InternalsVisibleTo("CosmosSessionToken.AspNet.Tests")]
