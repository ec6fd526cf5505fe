// Which directories may hold a cluster's storage pool. Destroy removes the directory when `up` made
// it, and libvirt sets owner and mode on it, so it must be one of the cluster's own: never a system
// directory, nothing inside the system's trees, no home directory itself, no hidden folder. Whether
// it exists already is for the host to say (the pool provider refuses a non-empty one).

/** Directories that hold everything else: a pool directly in them is fine, one equal to them is not. */
const SYSTEM_DIRS = new Set([
  "/",
  "/home",
  "/media",
  "/mnt",
  "/opt",
  "/root",
  "/srv",
  "/tmp",
  "/var",
  "/var/lib",
  "/var/lib/libvirt",
  "/var/lib/libvirt/images",
  "/var/tmp",
]);
/** The system's own trees: nothing in them belongs to a cluster. */
const SYSTEM_TREES = [
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/proc",
  "/run",
  "/sbin",
  "/sys",
  "/usr",
  "/var/lib/libvirt/qemu",
  "/var/log",
  "/var/run",
];

/** The path with repeated and trailing slashes dropped: `//root/` is `/root`. */
export function normalPoolDir(s: string): string {
  return s.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

/** Why `s` cannot be a pool directory, naming the fix; undefined when it can. */
export function poolDirProblem(s: string): string | undefined {
  const example = "use a directory of its own, e.g. /var/lib/libvirt/images/<cluster>";
  if (!s.startsWith("/")) return `"${s}" is not absolute; give a path on the VM host starting with /`;
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f]/.test(s)) return `${JSON.stringify(s)} contains control characters; remove them`;
  const segments = s.split("/").filter((seg) => seg !== "");
  if (segments.some((seg) => seg === ".." || seg === ".")) return `"${s}" contains "." or ".." segments; give the plain absolute path`;
  const dir = normalPoolDir(s);
  if (SYSTEM_DIRS.has(dir)) return `"${s}" is a system directory that destroy would remove; ${example}`;
  const tree = SYSTEM_TREES.find((t) => dir === t || dir.startsWith(`${t}/`));
  if (tree !== undefined) return `"${s}" is inside ${tree}, which belongs to the system; ${example}`;
  if (/^\/home\/[^/]+$/.test(dir)) return `"${s}" is a home directory; ${example}, or a folder inside it such as ${dir}/vm-pools/<cluster>`;
  const hidden = segments.find((seg) => seg.startsWith("."));
  if (hidden !== undefined) return `"${s}" is in the hidden folder ${hidden}, where programs keep their settings (such as .ssh); ${example}`;
  return undefined;
}
