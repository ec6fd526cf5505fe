// Lint rules for the whole project: typescript-eslint's recommended set, and use-before-define,
// which catches what Pulumi's closure serializer refuses (a provider closure that reads a `const`
// declared below it: "Unexpected missing variable in closure environment").
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".tools/", ".state/", "dist/", "bench/tmp/", "test/fixtures/*/node_modules/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-use-before-define": "off",
      "@typescript-eslint/no-use-before-define": ["error", { functions: false, classes: true, variables: true, typedefs: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      // A dynamic provider's code runs in the provider process from its serialized closure: what it
      // needs there (node:fs, ssh2) it requires inside the function.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // Tests read parsed YAML, JSON and XML documents whose shape they then assert.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // CommonJS scripts run by node directly.
    files: ["**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
    },
  },
);
