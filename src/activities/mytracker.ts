import { FAILURE_TYPES } from '../shared/failure-types';
import { ClassifiedError } from '../providers/errors';
import { MyTrackerClient, isLinkExpired, type MyTrackerExportState } from '../providers/mytracker/client';
import type { ManifestFile } from '../shared/manifest';
import { activityLogger, type ActivityDeps } from './context';
import { asActivity, asVendorCall } from './as-activity';
import { vendorCredentials, type AccountRef } from './accounts';
import type { CsvFacts } from './download/checks/row-counter';
import { fetchWhenReadyInActivity } from './download-in-activity';

export type { MyTrackerLink } from '../providers/mytracker/client';

export type MyTrackerPoll = MyTrackerExportState;

/**
 * A stored file, or why its link could not be used (expired, or 403/404/410 at download): refresh it. `csv`
 * (records with the first one, and that first record's sha256) lets the workflow count a header only in the
 * files that have one; `stored.rows` assumes a header, as before.
 */
export type MyTrackerDownload = { stored: ManifestFile; csv?: CsvFacts } | { expired: string };

/** Redirects a file link may take (object storage may redirect to a regional endpoint); credentials never follow. */
const MAX_LINK_REDIRECTS = 5;

/** Statuses a download link answers once it has expired or was replaced. */
const DEAD_LINK_STATUSES = [403, 404, 410];

/** myTracker activities: one signed vendor call each; the API secret comes from the worker's environment only. */
export function createMyTrackerActivities(deps: ActivityDeps) {
  const client = (account: string | undefined): MyTrackerClient =>
    new MyTrackerClient(vendorCredentials(deps.config, 'mytracker', account));

  return {
    /** Requests a segment export and returns its idSegmentExport. */
    async mytrackerCreateExport(
      input: { segmentId: number; fields?: string[] } & AccountRef,
    ): Promise<{ exportId: string }> {
      const api = client(input.account);
      return asVendorCall(async (signal) => {
        const exportId = await api.createExport(input, signal);
        activityLogger(deps, 'mytracker').info({ exportId, segmentId: input.segmentId }, 'mytracker export requested');
        return { exportId };
      });
    },

    /** Reads the export's state once (get.json); finished exports come with fresh links. */
    async mytrackerExportStatus(input: { exportId: string } & AccountRef): Promise<MyTrackerPoll> {
      const api = client(input.account);
      return asVendorCall(async (signal) => {
        const state = await api.exportStatus(input.exportId, signal);
        // Field by field: the activity's result shape is what histories hold.
        if (state.state === 'done') return { state: 'done', status: state.status, files: state.files };
        if (state.state === 'errorOccurred') return { state: 'errorOccurred', status: state.status };
        return { state: 'running', status: state.status, progress: state.progress };
      });
    },

    /**
     * Streams one file as served (`.csv.gz`), checksummed, rows counted from the decompressed stream. A link
     * past its expiry is not even tried; one the vendor refuses (403/404/410) is reported for a refresh. Links on
     * object storage are fetched without the AuthHMAC header first, following at most 5 redirects; if the
     * storage host answers 401/403 to that, the link is fetched once more signed, as the vendor's Python client
     * signs every link (myTracker calls authorization for downloads "a recommendation" that "will become
     * mandatory"). Only then does a 403 read as a dead link.
     */
    async mytrackerDownload(
      input: { link: string; expiresAt: number; fileName: string } & AccountRef,
    ): Promise<MyTrackerDownload> {
      if (isLinkExpired(input.expiresAt)) {
        return { expired: `link expired at ${new Date(input.expiresAt * 1000).toISOString()}` };
      }
      const api = client(input.account);
      return asActivity(async () => {
        let target = api.downloadTarget(input.link);
        const fetchLink = (unsignedFirst: boolean) =>
          fetchWhenReadyInActivity(deps, {
            vendor: 'mytracker',
            url: target.url,
            headers: target.headers,
            fileName: input.fileName,
            countCsvRows: true,
            contentTypeFallback: 'application/gzip',
            maxRedirects: MAX_LINK_REDIRECTS,
            classifyStatus: (status) => linkStatusError(status, unsignedFirst),
          });
        try {
          let outcome;
          try {
            // Unsigned: a link on object storage (no headers); API-host links are signed already.
            outcome = await fetchLink(Object.keys(target.headers).length === 0);
          } catch (err) {
            if (!(err instanceof UnsignedLinkRefused)) throw err;
            activityLogger(deps, 'mytracker').info(
              { file: input.fileName, status: err.details.status },
              'storage refused the unsigned link; fetching it signed',
            );
            target = api.signedDownloadTarget(input.link);
            outcome = await fetchLink(false);
          }
          // No status is "not ready" here, so an outcome that is not a file cannot happen; guard the type anyway.
          if (!outcome.ready) throw new Error(`download of ${input.fileName} answered ${outcome.status}`);
          const stored = asStoredCsvGz(outcome.file);
          activityLogger(deps, 'mytracker').info(
            {
              file: stored.name,
              bytes: stored.bytes,
              records: outcome.csv?.records,
              signed: 'authorization' in target.headers,
            },
            'file stored',
          );
          return { stored, ...(outcome.csv ? { csv: outcome.csv } : {}) };
        } catch (err) {
          if (err instanceof ClassifiedError && err.type === FAILURE_TYPES.gone) return { expired: err.message };
          throw err;
        }
      });
    },
  };
}

/** A storage host's 401/403 to a link fetched without a signature: worth one signed try, not yet an answer. */
class UnsignedLinkRefused extends ClassifiedError {}

/**
 * What a link's error status means. Unsigned, 401/403 call for the signed try. Signed, 403/404/410 mean the link
 * died (refresh it through get.json) and 401 means the signature itself is refused: final, naming the settings.
 */
function linkStatusError(status: number, unsignedFirst: boolean): ClassifiedError | undefined {
  const details = { vendor: 'mytracker' as const, endpoint: 'download', status };
  if (unsignedFirst && (status === 401 || status === 403)) {
    return new UnsignedLinkRefused(
      FAILURE_TYPES.auth,
      `myTracker storage refused the unsigned link (HTTP ${status})`,
      false,
      details,
    );
  }
  if (DEAD_LINK_STATUSES.includes(status)) {
    return new ClassifiedError(FAILURE_TYPES.gone, `myTracker link answered HTTP ${status}`, false, details);
  }
  if (status === 401) {
    return new ClassifiedError(
      FAILURE_TYPES.auth,
      `myTracker storage refused the signed link too (HTTP 401); check MYTRACKER_API_USER_ID and MYTRACKER_API_SECRET`,
      false,
      details,
    );
  }
  return undefined;
}

/** A `.csv.gz` is stored as served: CSV content, gzip encoding (whatever Content-Type the vendor sent). */
function asStoredCsvGz(file: ManifestFile): ManifestFile {
  if (!/\.gz$/i.test(file.name)) return file;
  return { ...file, encoding: 'gzip', contentType: /\.csv\.gz$/i.test(file.name) ? 'text/csv' : file.contentType };
}
