// Apart from worker.ts so that the bundling script and the tests can name a bundle without loading the worker.

/**
 * File name of a prebuilt bundle. With payload encryption the workflow sandbox must encode failure messages too,
 * and a bundle's failure converter is fixed when it is built, so there is one bundle for each case.
 */
export function workflowBundleName(encodedFailures: boolean): string {
  return encodedFailures ? 'workflow-bundle.encoded-failures.js' : 'workflow-bundle.js';
}
