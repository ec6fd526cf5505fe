// Values used when the stack config leaves a key out.

export const DEFAULT_DISK = "35G";
export const DEFAULT_MEMORY_MIB = 2048;
export const DEFAULT_VCPUS = 1;
export const DEFAULT_DOMAIN_TYPE = "kvm";
export const DEFAULT_READINESS_TIMEOUT_SECONDS = 600;
export const DEFAULT_SSH_PORT = 22;

// The seed's Debian 11 image is end of life. Debian 12 "genericcloud" is the current
// cloud image without hardware drivers a VM does not need; "latest" moves with point
// releases, and SHA512SUMS beside it always matches what is served.
const DEBIAN_CLOUD = "https://cloud.debian.org/images/cloud/bookworm/latest";
export const DEFAULT_IMAGE = {
  url: `${DEBIAN_CLOUD}/debian-12-genericcloud-amd64.qcow2`,
  checksumsUrl: `${DEBIAN_CLOUD}/SHA512SUMS`,
} as const;
