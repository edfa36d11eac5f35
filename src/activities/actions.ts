import { Context } from '@temporalio/activity';
import { countExportActions } from '../shared/temporal-actions';

/**
 * The activity that reads what the export cost (`temporal.actions` in the manifest) from its own history,
 * every run of the continue-as-new chain, through the worker's client. History reads are not billable actions.
 * It runs last, after the manifest's final search-attribute upsert; its own attempt is counted (it is
 * scheduled, not yet started, in the history it reads).
 */
export function createActionActivities() {
  return {
    async countTemporalActions(input: { workflowId: string; runId: string }): Promise<{ actions: number }> {
      const client = Context.current().client;
      const actions = await countExportActions(async (runId) => {
        const history = await client.workflow.getHandle(input.workflowId, runId).fetchHistory();
        return history.events ?? [];
      }, input.runId);
      // Earlier attempts of this activity are not in the history yet (its started event comes with its end).
      return { actions: actions + Context.current().info.attempt - 1 };
    },
  };
}
