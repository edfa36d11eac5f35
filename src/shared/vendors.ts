/**
 * The vendors exportflow speaks to, once for everything that is kept per vendor: credentials and named accounts,
 * quotas, activity task queues, account checks and the simulator. A provider (an export kind, e.g. `apsis-profile`)
 * belongs to one of them: see PROVIDERS in ./manifest.
 */
export const VENDORS = ['altcraft', 'apsis', 'mytracker'] as const;
export type Vendor = (typeof VENDORS)[number];

/** How messages name each vendor: `APSIS One refuses calls…`, `Altcraft tasks/status`. */
export const VENDOR_NAMES: Readonly<Record<Vendor, string>> = {
  altcraft: 'Altcraft',
  apsis: 'APSIS One',
  mytracker: 'myTracker',
};
