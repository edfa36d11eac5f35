/** Every workflow the worker registers; this file is the workflow bundle's entry point. */
export { altcraftExport } from './altcraft';
export { apsisProfileExport } from './apsis-profile';
export { apsisSegmentExport } from './apsis-segment';
export { mytrackerExport } from './mytracker';
export { accountsCheck } from './accounts';
