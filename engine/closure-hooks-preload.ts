// Preloaded (node -r) by our language host into the program, whose node runs the SDK's cmd/run as
// its script (argv[1]): the SDK's closure hooks turn the debugger on only when used (closure-hooks.ts).
import { deferClosureHooks } from "./closure-hooks";

if (process.argv[1] !== undefined) deferClosureHooks(process.argv[1]);
