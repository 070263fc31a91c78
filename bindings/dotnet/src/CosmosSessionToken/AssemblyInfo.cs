using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("CosmosSessionToken")]
[assembly: AssemblyDescription("Azure Cosmos DB session tokens: parse, convert, merge, compare, scope (over libcstoken)")]
[assembly: AssemblyVersion("0.1.0.0")]
[assembly: AssemblyFileVersion("0.1.0.0")]
[assembly: InternalsVisibleTo("CosmosSessionToken.Tests")]
[assembly: InternalsVisibleTo("CosmosSessionToken.AspNet")]
