import fsp from 'node:fs/promises';
import { callbackUrlFor } from '../providers/apsis/callback-url';
import { callbackSecret } from '../config';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { ApsisClient } from '../providers/apsis/client';
import { REPORT_FORMATS, type ReportFormat } from '../providers/apsis/constants';
import {
  checkProfileContentType,
  checkProfileDocument,
  refuseProfileRedirect,
} from '../providers/apsis/profile-answer';
import { namedSegments, reportFilter } from '../shared/apsis-filter';
import type { ApsisProfileInputParsed, ApsisReportState, ApsisSegmentInputParsed } from '../shared/apsis-inputs';
import type { ManifestFile } from '../shared/manifest';
import { activityLogger, currentWorkflowId, type ActivityDeps } from './context';
import { asActivity, asVendorCall } from './as-activity';
import { vendorCredentials, type AccountRef } from './accounts';
import { downloadInActivity, fetchWhenReadyInActivity } from './download-in-activity';
import { isS3Uri } from '../util/s3-uri';

export type ApsisReportPoll =
  { state: 'notReady'; status: number; retryAfterMs?: number } | { state: 'stored'; file: ManifestFile };

/** The profile export file is JSON of one profile: parsed in memory to check its shape only up to this size. */
const MAX_PROFILE_CHECK_BYTES = 64 * 1024 * 1024;

/** APSIS One activities: one vendor call (or one poll) each; credentials and callback secret stay in the worker. */
export function createApsisActivities(deps: ActivityDeps) {
  const client = (account: string | undefined): ApsisClient =>
    new ApsisClient(vendorCredentials(deps.config, 'apsis', account));

  return {
    /** Requests a profiles-in-segment report and returns where to poll it (not a secret). */
    async apsisRequestSegmentReport(
      input: Pick<ApsisSegmentInputParsed, 'section' | 'segments' | 'filter' | 'attributes' | 'tags'> & AccountRef,
    ): Promise<ApsisReportState> {
      const api = client(input.account);
      return asVendorCall(async (signal) => {
        const report = await api.requestSegmentReport(
          {
            section_discriminator: input.section,
            // {name: discriminator} with simple names, and always a filter over them (the union by default):
            // valid whether APSIS treats `filter` as optional (its segment-report page) or required (its duplicates-export page).
            segments: segmentsBody(input.segments, input.filter),
            ...(input.attributes.length > 0 ? { attributes: input.attributes } : {}),
            ...(input.tags.length > 0 ? { tags: input.tags } : {}),
          },
          Date.now(),
          signal,
        );
        activityLogger(deps, 'apsis-segment').info(
          { reportId: report.reportId, pollKind: report.pollKind, validUntil: report.validUntil },
          'apsis segment report requested',
        );
        return report;
      });
    },

    /** Polls the report URL once: "not ready", or the whole file streamed into the export directory. */
    async apsisPollSegmentReport(
      input: { report: ApsisReportState; format: ReportFormat } & AccountRef,
    ): Promise<ApsisReportPoll> {
      const api = client(input.account);
      return asActivity(async () => {
        const spec = api.reportPollSpec(input.report, input.format);
        const outcome = await api.withToken((auth) =>
          fetchWhenReadyInActivity(deps, {
            vendor: 'apsis',
            url: spec.url,
            headers: { ...spec.headers, ...auth },
            fileName: `segment-report${REPORT_FORMATS[input.format].extension}`,
            countCsvRows: spec.countCsvRows,
            contentTypeFallback: spec.contentTypeFallback,
            notReadyStatuses: spec.notReadyStatuses,
            classifyStatus: spec.classifyStatus,
            checkResponse: spec.checkResponse,
          }),
        );
        if (!outcome.ready) {
          return {
            state: 'notReady',
            status: outcome.status,
            ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
          };
        }
        const { file } = outcome;
        activityLogger(deps, 'apsis-segment').info(
          { file: file.name, bytes: file.bytes, rows: file.rows, encoding: file.encoding },
          'file stored',
        );
        return { state: 'stored', file };
      });
    },

    /**
     * Asks APSIS for a single-profile export with this export's own callback URL. The URL (its token) is made
     * here and sent to APSIS only: it never enters workflow history. Returns the public base for messages.
     */
    async apsisRequestProfileExport(
      input: Pick<ApsisProfileInputParsed, 'exportKey' | 'section' | 'history' | 'typeDefinitions' | 'merged'> &
        AccountRef,
    ): Promise<{ callbackBase: string }> {
      const api = client(input.account);
      const publicUrl = deps.config.callbacks.publicUrl;
      if (new URL(publicUrl).port === '0') {
        throw finalFailure(
          FAILURE_TYPES.workerMisconfigured,
          `CALLBACK_PUBLIC_URL (${publicUrl}) has port 0; set it to the URL where APSIS can reach a callback receiver`,
        );
      }
      return asVendorCall(async (signal) => {
        const callbackUrl = callbackUrlFor(publicUrl, callbackSecret(deps.config), currentWorkflowId());
        await api.requestProfileExport(
          input.exportKey,
          {
            callback_url: callbackUrl,
            ...(input.section ? { section_discriminator: input.section } : {}),
            include_attribute_history: input.history,
            include_type_definitions: input.typeDefinitions,
            include_merged_profiles: input.merged,
          },
          signal,
        );
        activityLogger(deps, 'apsis-profile').info(
          { callbackBase: publicUrl },
          'apsis single-profile export requested',
        );
        return { callbackBase: publicUrl };
      });
    },

    /** Streams the profile JSON from a code-200 callback's data URL, only if that URL is on the APSIS host. */
    async apsisDownloadProfile(input: { dataUrl: string; fileName: string } & AccountRef): Promise<ManifestFile> {
      const api = client(input.account);
      return asActivity(async () => {
        const url = api.profileDataUrl(input.dataUrl);
        const file = await api.withToken((auth) =>
          downloadInActivity(deps, {
            vendor: 'apsis',
            url,
            headers: { ...auth, accept: 'application/json' },
            fileName: input.fileName,
            countCsvRows: false,
            contentTypeFallback: 'application/json',
            classifyStatus: refuseProfileRedirect,
            checkResponse: (headers) => checkProfileContentType(headers['content-type']),
          }),
        );
        await checkProfileFile(file);
        activityLogger(deps, 'apsis-profile').info({ file: file.name, bytes: file.bytes }, 'file stored');
        return file;
      });
    },
  };
}

/**
 * Checks a locally stored export file's shape (an object store's copy is trusted to its content type). A wrong
 * document fails the export, whose failure path removes what it stored.
 */
async function checkProfileFile(file: ManifestFile): Promise<void> {
  if (isS3Uri(file.path) || file.bytes > MAX_PROFILE_CHECK_BYTES) return;
  const problem = checkProfileDocument(await fsp.readFile(file.path, 'utf8'));
  if (problem) throw problem;
}

/** The `segments` object of a report request: simple names, and the user's filter or the union of all. */
export function segmentsBody(
  specs: readonly string[],
  filter: string | undefined,
): { segment_discriminators: Record<string, string>; filter: string } {
  const named = namedSegments(specs);
  return {
    segment_discriminators: Object.fromEntries(named.map((s) => [s.name, s.discriminator])),
    filter: reportFilter(named, filter),
  };
}
