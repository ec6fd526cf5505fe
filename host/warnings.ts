// Dynamic providers cannot log (their process has no engine connection), so a provider returns
// its warnings as an output and the resource shows them from the program, attached to itself.
import * as pulumi from "../provider/pulumi";

export function showWarnings(resource: pulumi.Resource, warnings: pulumi.Output<string[] | undefined>): void {
  warnings.apply((ws) => {
    for (const w of ws ?? []) void pulumi.log.warn(w, resource);
  });
}
