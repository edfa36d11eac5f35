/** Every workflow the worker registers; this file is the workflow bundle's entry point. */
export { altcraftExport } from './altcraft';
