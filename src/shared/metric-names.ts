/** Metric names exportflow adds to the SDK's own (served together on METRICS_LISTEN). */
export const METRIC_NAMES = {
  started: 'exportflow_exports_started',
  completed: 'exportflow_exports_completed',
  failed: 'exportflow_exports_failed',
  duration: 'exportflow_export_duration',
  polls: 'exportflow_vendor_polls',
  http: 'exportflow_vendor_http_responses',
  bytes: 'exportflow_bytes_downloaded',
  callDuration: 'exportflow_vendor_call_duration',
  rateLimited: 'exportflow_vendor_rate_limited',
  quotaWait: 'exportflow_vendor_quota_wait',
} as const;
