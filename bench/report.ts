// latest.md: the results as tables a reader can take in at a glance; latest.json has everything.
import { floorOf, shownUps, type CommandRun, type FloorRun, type Results, type UpResult } from "./results";
import type { SetupPass } from "./setup-run";

const s = (ms: number | undefined): string => (ms === undefined || Number.isNaN(ms) ? "—" : `${(ms / 1000).toFixed(1)} s`);
const x = (r: number | undefined): string => (r === undefined || Number.isNaN(r) ? "—" : `${r.toFixed(2)} ×`);
const mib = (b: number | undefined): string => (b === undefined ? "—" : `${(b / 2 ** 20).toFixed(1)} MiB`);

function row(cells: (string | number)[]): string {
  return `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
}
function table(head: string[], rows: (string | number)[][], align?: ("l" | "r")[]): string {
  const sep = head.map((_, i) => ((align?.[i] ?? "l") === "r" ? "---:" : "---"));
  return [row(head), `| ${sep.join(" | ")} |`, ...rows.map(row)].join("\n");
}

/** Where a command's time went, from its events: CLI start, preview pass, update, exit. */
function phases(r: CommandRun): string {
  const t = r.timeline;
  const parts = [`CLI start ${s(t.cliStartMs)}`];
  for (const run of t.runs) {
    const firstStep = (run.firstCustomStep ?? run.firstStep) !== undefined ? (run.firstCustomStep ?? run.firstStep)! - run.start : undefined;
    parts.push(`${run.kind} ${s(run.end - run.start)} (program load ${s(run.programLoadMs)}, first resource step after ${s(firstStep)})`);
  }
  parts.push(`exit ${s(t.exitMs)}`);
  return parts.join("; ");
}

/** Other people's VMs during the runs: "0" on a quiet machine, else the most seen. */
function vms(...runs: CommandRun[]): string {
  const most = Math.max(...runs.flatMap((r) => r.otherVms));
  return String(most);
}

const vmsOf = (n: number): string => `${n} VM${n > 1 ? "s" : ""}`;

function perVmDisk(u: UpResult): number {
  const sum = u.disk.perVm.reduce((a, v) => a + v.overlayBytes + v.seedBytes, 0);
  return sum / u.disk.perVm.length;
}

export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  const shown = shownUps(r);
  const largest = shown.at(-1);
  const pairsOf = (n: number) => r.ups.filter((u) => u.n === n).length;
  const ofPair = (u: UpResult | FloorRun) => (pairsOf(u.n) > 1 ? ` (pair ${u.pair})` : "");
  out.push(`# vm-cluster benchmark`);
  out.push("");
  out.push(`${r.startedAt} → ${r.finishedAt}${r.complete ? "" : " — **incomplete**, see the error at the end"}`);
  out.push("");
  out.push(
    `**Machine:** ${m.cores} cores (${m.cpuModel}), ${(m.memoryMiB / 1024).toFixed(1)} GiB memory, ` +
      `KVM ${m.kvm.usable ? "usable" : `not usable (/dev/kvm ${m.kvm.devKvm ? "present" : "absent"}, vmx/svm ${m.kvm.cpuFlag ? "present" : "absent"})`}; ` +
      `Linux ${m.kernel}, Node ${m.node}, pulumi ${m.pulumi}, libvirt ${m.libvirt}, QEMU ${m.qemu}. ` +
      `Load average ${m.loadAverageStart.join(" ")} at the start, ${m.loadAverageEnd?.join(" ") ?? "?"} at the end; ` +
      `other running VMs: ${m.otherRunningDomainsStart} at the start, ${m.otherRunningDomainsEnd ?? "?"} at the end.`,
  );
  out.push("");
  if (r.settings) {
    out.push(
      `**Settings:** domain type \`${r.settings.domainType}\`${r.settings.domainType === "qemu" ? " (software emulation)" : ""}; VMs of ${r.settings.memoryMiB} MiB, ` +
        `${r.settings.vcpus} vCPU, ${r.settings.disk} disk (qcow2 overlay on the base image); CA certificate ${r.settings.caCertificate ? "on" : "off"} ` +
        `(the floor's VMs and ours alike); sizes ${r.settings.sizes.join(", ")}; ` +
        `${r.settings.repeats} repeats for no-op runs; ${r.settings.pairs} floor/up pair${r.settings.pairs > 1 ? "s" : ""} of the largest size, one after the other (its ratio is their median); the floor polls every ${r.settings.floorPollMs} ms, the product every ${r.settings.productReadinessPollMs} ms. ` +
        `Test image ${mib(r.image?.bytes)} (qcow2, ${mib(r.image?.virtualBytes)} virtual); image cache on the host ` +
        `${shown.map((u) => `${u.imageCacheWarm ? "warm" : "cold"} for N=${u.n}`).join(", ") || "—"}.`,
    );
    out.push("");
  }

  out.push("## Summary");
  out.push("");
  const rows: (string | number)[][] = [];
  for (const [i, u] of r.ups.entries()) {
    const floor = floorOf(r, u);
    if (floor)
      rows.push([
        `Floor: ${vmsOf(u.n)} with plain virsh, all at once, nothing → SSH + cloud-init done${ofPair(u)}`,
        s(floor.totalMs),
        "1.00 × (floor)",
        String(Math.max(...floor.otherVms)),
      ]);
    rows.push([
      `\`pulumi up --yes\`, ${vmsOf(u.n)}, nothing → all ready${ofPair(u)}`,
      s(u.up.wallMs),
      floor ? `${x(u.up.wallMs / floor.totalMs)} the floor of ${u.n}${ofPair(u)}` : "",
      vms(u.up),
    ]);
    if (pairsOf(u.n) > 1 && r.ups[i + 1]?.n !== u.n)
      rows.push([
        `**\`pulumi up --yes\`, ${vmsOf(u.n)}, over the floor of ${u.n}: median of the ${pairsOf(u.n)} pairs**`,
        "",
        `**${x(r.ratios.upOverFloor[String(u.n)])} the floor of ${u.n}**`,
        "",
      ]);
  }
  if (r.noop) {
    rows.push([
      `No-op \`pulumi up --yes\` on the ready ${r.noop.n}-VM cluster (median)`,
      s(r.noop.upMedianMs),
      `${x(r.ratios.noopUpOverEmptyUp)} empty-program up`,
      vms(...r.noop.upRuns),
    ]);
    rows.push([
      `\`pulumi preview\` on it (median)`,
      s(r.noop.previewMedianMs),
      `${x(r.ratios.previewOverEmptyPreview)} empty-program preview`,
      vms(...r.noop.previewRuns),
    ]);
    rows.push([
      `\`pulumi refresh --yes\` on it (median; reads every object on the host)`,
      s(r.noop.refreshMedianMs),
      `${x(r.ratios.refreshOverEmptyRefresh)} empty-program refresh`,
      vms(...r.noop.refreshRuns),
    ]);
  }
  if (r.coldPreview) {
    const load = r.coldPreview.timeline.runs[0]?.programLoadMs;
    const warm = r.noop?.previewRuns.map((p) => p.timeline.runs[0]?.programLoadMs).find((x) => x !== undefined);
    rows.push([
      `First \`pulumi preview\` of a fresh project copy (the program compiled first; not in the ups above)`,
      s(r.coldPreview.wallMs),
      `program load ${s(load)}${warm === undefined ? "" : ` vs ${s(warm)} warm`}`,
      vms(r.coldPreview),
    ]);
  }
  if (r.empty) {
    rows.push(["Empty program (no resources): `pulumi up --yes` (median) — the engine's own start", s(r.empty.upMedianMs), "1.00 ×", vms(...r.empty.upRuns)]);
    rows.push(["Empty program: `pulumi preview` (median)", s(r.empty.previewMedianMs), "", vms(...r.empty.previewRuns)]);
    rows.push(["Empty program: `pulumi refresh --yes` (median)", s(r.empty.refreshMedianMs), "", vms(...r.empty.refreshRuns)]);
  }
  if (r.setup && "cold" in r.setup) {
    const silence = (p: SetupPass) => `longest wait without a line ${s(p.longestSilenceMs)}`;
    rows.push([
      "First set-up of a fresh copy, `bash tools/setup.sh`, with empty CLI, Go and npm caches (the CLI built from Go modules; Debian packages already installed)",
      s(r.setup.cold.wallMs),
      silence(r.setup.cold),
      "",
    ]);
    rows.push(["Set-up again in that copy (warm)", s(r.setup.warm.wallMs), silence(r.setup.warm), ""]);
  }
  for (const u of r.ups) if (u.destroy) rows.push([`\`pulumi destroy --yes\`, ${vmsOf(u.n)}${ofPair(u)}`, s(u.destroy.wallMs), "", vms(u.destroy)]);
  if (largest) {
    rows.push([`Disk added per VM after up (overlay + seed, du -B1; N=${largest.n})`, mib(perVmDisk(largest)), "", ""]);
    rows.push([`Base image copy in each cluster's pool (du -B1), besides the host's cache copy`, mib(largest.disk.baseBytes), "", ""]);
    const own = r.ownCosts[String(largest.n)]?.[0];
    if (own) rows.push([`**Biggest cost of ours** (${largest.n}-VM up, critical path, guest boot excluded)`, s(own.ms), own.what, ""]);
  }
  out.push(table(["Measure", "Time / size", "Ratio", "other VMs (most seen)"], rows, ["l", "r", "l", "r"]));
  out.push("");

  if (r.floors.length > 0) {
    out.push("## Floor: plain virsh, N VMs all at once");
    out.push("");
    out.push(
      table(
        ["N", "network", "pool", "base copy", "overlays + seeds", "define + start", "boot (last start → all ready)", "total"],
        r.floors.map((f) => [
          `${f.n}${ofPair(f)}`,
          s(f.phases.network),
          s(f.phases.pool),
          s(f.phases.baseCopy),
          s(f.phases.volumes),
          s(f.phases.defineStart),
          s(f.bootMs),
          s(f.totalMs),
        ]),
        Array(8).fill("r"),
      ),
    );
    out.push("");
    out.push(
      table(
        ["N", "VM", "started", "lease", "ssh login", "ready", "ssh attempts"],
        r.floors.flatMap((f) => f.vms.map((v) => [`${f.n}${ofPair(f)}`, v.vm, s(v.startedAt), s(v.leasedAt), s(v.loggedInAt), s(v.readyAt), v.sshAttempts])),
        ["r", "l", "r", "r", "r", "r", "r"],
      ),
    );
    out.push("");
    const f = r.floors[r.floors.length - 1]!;
    out.push(
      `Times from the floor's start. Overlay ${mib(f.disk.overlayBytes)} (qemu-img actual ${mib(f.disk.overlayActualBytes)}), seed ${mib(f.disk.seedBytes)}, base copy ${mib(f.disk.baseBytes)} (N=${f.n}).`,
    );
    out.push("");
  }

  for (const u of shown) {
    out.push(`## \`pulumi up\`, ${vmsOf(u.n)}${ofPair(u)}: ${s(u.up.wallMs)}`);
    out.push("");
    out.push(`Phases: ${phases(u.up)}. During the update, ${s(u.updateIdleMs)} passed with no resource step in flight (engine and program alone).`);
    out.push("");
    out.push("Approximate critical path (each step after the one that ended last before it started):");
    out.push("");
    out.push(
      table(
        ["at", "segment", "type", "time"],
        u.criticalPath.map((c) => [s(c.start), c.label, c.type ?? c.kind, s(c.ms)]),
        ["r", "l", "l", "r"],
      ),
    );
    out.push("");
    const own = r.ownCosts[String(u.n)] ?? [];
    if (own.length) {
      out.push(`Ours, not the guests' (the path above without the boot of the floor of ${u.n}), largest first:`);
      out.push("");
      out.push(
        table(
          ["cost", "time"],
          own.slice(0, 8).map((o) => [o.what, s(o.ms)]),
          ["l", "r"],
        ),
      );
      out.push("");
    }
    out.push(
      table(
        ["step type", "count", "total", "longest"],
        Object.entries(u.byType)
          .sort((a, b) => b[1].maxMs - a[1].maxMs)
          .map(([t, v]) => [t, v.count, s(v.totalMs), s(v.maxMs)]),
        ["l", "r", "r", "r"],
      ),
    );
    out.push("");
    if (u === largest) {
      out.push(`![Timeline of the ${u.n}-VM up](latest-timeline.svg)`);
      out.push("");
      out.push("<details><summary>Every step of the update</summary>");
      out.push("");
      const steps = u.up.timeline.steps.filter((st) => st.custom);
      out.push(
        table(
          ["resource", "type", "op", "start", "end", "time"],
          steps.map((st) => [st.name, st.type, st.op, s(st.start), s(st.end), s(st.end === undefined ? undefined : st.end - st.start)]),
          ["l", "l", "l", "r", "r", "r"],
        ),
      );
      out.push("");
      out.push("</details>");
      out.push("");
    }
    out.push(
      table(
        ["VM", "overlay (du)", "overlay (qemu-img actual)", "seed"],
        [...u.disk.perVm.map((v) => [v.vm, mib(v.overlayBytes), mib(v.overlayActualBytes), mib(v.seedBytes)]), ["pool total", mib(u.disk.poolBytes), "", ""]],
        ["l", "r", "r", "r"],
      ),
    );
    out.push("");
    if (u.destroy) {
      out.push(`Destroy: ${s(u.destroy.wallMs)} — ${phases(u.destroy)}; left behind: ${u.leftovers?.length ? u.leftovers.join(", ") : "nothing"}.`);
      const steps = u.destroy.timeline.steps.filter((st) => st.custom && st.end !== undefined);
      const longest = steps.sort((a, b) => b.end! - b.start - (a.end! - a.start)).slice(0, 3);
      if (longest.length) out.push(`Longest destroy steps: ${longest.map((st) => `${st.name} ${s(st.end! - st.start)}`).join(", ")}.`);
      out.push("");
    }
  }

  if (r.noop) {
    out.push(`## No-op runs on the ${r.noop.n}-VM cluster`);
    out.push("");
    const lines = [
      ...r.noop.upRuns,
      ...r.noop.previewRuns,
      ...r.noop.refreshRuns,
      ...(r.empty ? [r.empty.firstUp, ...r.empty.upRuns, ...r.empty.previewRuns, ...r.empty.refreshRuns] : []),
    ];
    out.push(
      table(
        ["run", "time", "phases"],
        lines.map((c) => [c.label, s(c.wallMs), phases(c)]),
        ["l", "r", "l"],
      ),
    );
    out.push("");
  }

  out.push("## What the figures mean");
  out.push("");
  out.push(
    "- **Floor of N**: the least this host needs for N VMs at once: a NAT network, a dir pool, the base image copied in, each VM's qcow2 overlay and NoCloud seed (ISO via xorriso, vol-upload; the same user-data as ours, CA certificate included), define, start, then polling each VM for its DHCP lease and ssh with the key until `cloud-init status --wait` returns. Plain virsh, no Pulumi.",
  );
  out.push(
    "- **`pulumi up`, N VMs**: the literal CLI on a fresh stack, from no libvirt object to the command's exit (every VM answered SSH and finished cloud-init; firewall rules in place). The ratio divides by the floor of the same N, run just before it: both pay for the guests sharing the cores.",
  );
  out.push(
    "- **No-op up / preview / refresh**: the same command on the ready cluster with nothing to change; the ratio divides by the same command on a program with no resources, i.e. what the engine, language host and SDK cost by themselves.",
  );
  out.push(
    "- **Critical path**: the steps and gaps that decided the up's wall time. *Ours* is all of it except the guests' boot (taken as the boot of the floor of the same N); *program load* is requiring the compiled project and running its top level, between the SDK's Stack registration and the program's first resource. The picture (latest-timeline.svg) shows the largest up's steps, its critical path outlined, and dashed lines where the floor's VMs were ready.",
  );
  out.push(
    "- **Disk**: allocated bytes (`du -B1`) right after up; the overlay grows with what the guest writes. Each cluster also copies the base image into its pool.",
  );
  out.push("");
  out.push("## Notes");
  out.push("");
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.error) {
    out.push("");
    out.push("## Error");
    out.push("");
    out.push("```");
    out.push(r.error);
    out.push("```");
  }
  out.push("");
  return out.join("\n");
}
