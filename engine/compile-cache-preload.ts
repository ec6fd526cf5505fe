// Preloaded (node -r) into our language host and provider host by their launchers (tools/setup.sh),
// and into the program the language host runs: every module after it is compiled through the code
// cache (compile-cache.ts).
import { defaultCacheDir, installCompileCache } from "./compile-cache";

installCompileCache(defaultCacheDir(__dirname));
