// Loaded first by our language host and provider host, and preloaded (node -r) into the program
// they run: every module after it is compiled through the code cache (compile-cache.ts).
import { defaultCacheDir, installCompileCache } from "./compile-cache";

installCompileCache(defaultCacheDir(__dirname));
