#!/usr/bin/env node
// `npm run bench` (see bench/bench.ts): runs the TypeScript benchmark under plain Node, with the
// ts-node that @pulumi/pulumi vendors (no tsx or ts-node CLI needed), as `pulumi` runs programs.
// Knobs: BENCH_SIZES=1,2,4 (cluster sizes), BENCH_REPEATS=3 (no-op runs), BENCH_PAIRS=3 (floor/up
// pairs of the largest size), BENCH_FLOOR_POLL_MS=250, BENCH_DOMAIN_TYPE=kvm|qemu (default: kvm where
// usable), BENCH_RESULTS_DIR (default bench/results).
"use strict";
require("../tools/register-ts.js").registerTypeScript();

require("./bench.ts")
  .main()
  .then((code) => process.exit(code))
  .catch((err) => {
    process.stderr.write(`bench: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
