// Loads this project's TypeScript as `pulumi` runs programs: CommonJS through the ts-node that
// @pulumi/pulumi vendors. For code that must run our modules outside `pulumi` (the benchmark, and
// engine tests, where Pulumi's closure serializer cannot follow vitest's ES modules).
"use strict";
const path = require("node:path");

const root = path.resolve(__dirname, "..");

function registerTypeScript() {
  const { tsnodeRequire, typescriptRequire } = require("@pulumi/pulumi/tsutils").typeScriptRequireStrings();
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    // `npm run build` type-checks everything; here only transpile.
    transpileOnly: true,
    // No compile cache in the machine's temporary folder: nothing is left behind.
    cache: false,
    project: path.join(root, "tsconfig.json"),
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext" },
  });
}

module.exports = { registerTypeScript };
