import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import type { AccountsReport } from '../client';
import { withClient } from './connect';
import { EXIT } from './output';
import { VENDOR_NAMES, VENDORS } from '../shared/vendors';

/**
 * `exportflow accounts [--check] [--json]`: the vendor accounts the workers know, asked of a worker through the
 * accountsCheck workflow (the CLI holds no vendor secret). Exit 1 when a check failed or no worker answered.
 */
export function registerAccountsCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('accounts')
    .description('vendor accounts the workers have credentials for; --check proves each with one cheap call')
    .option('--check', 'prove each account with one cheap authenticated call (myTracker: its quota endpoint)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  exportflow accounts\n  exportflow accounts --check --json')
    .action(async (opts: { check?: boolean; json?: boolean }) => {
      await withClient(async (client) => {
        let report: AccountsReport;
        try {
          report = await client.accounts({ check: opts.check === true });
        } catch (err) {
          if (err instanceof WorkflowFailedError) {
            process.stderr.write(
              `exportflow: no worker answered on task queue ${client.taskQueue} (${err.cause?.message ?? err.message})\n`,
            );
            return setExit(EXIT.failed);
          }
          throw err;
        }
        const failed = VENDORS.some((v) => report.vendors[v].some((a) => a.check && !a.check.ok));
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(formatReport(report));
        if (failed) setExit(EXIT.failed);
      });
    });
}

function formatReport(report: AccountsReport): string {
  const lines: string[] = [];
  for (const vendor of VENDORS) {
    const accounts = report.vendors[vendor];
    lines.push(`${VENDOR_NAMES[vendor]}: ${accounts.length === 0 ? 'no account configured' : ''}`.trimEnd());
    for (const a of accounts) {
      const state = a.check
        ? `${a.check.ok ? 'ok' : 'FAILED'}: ${a.check.detail}`
        : a.complete
          ? 'configured'
          : `incomplete: ${a.missing.join(', ')} not set`;
      lines.push(`  ${a.account}  ${state}`);
    }
  }
  lines.push(`(answered by worker ${report.worker})`);
  return `${lines.join('\n')}\n`;
}
