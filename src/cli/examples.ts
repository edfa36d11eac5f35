/** Examples shown by `--help`, so a newcomer can copy a working line. */
export const EXPORT_EXAMPLES: Record<string, string[]> = {
  altcraft: [
    'exportflow export altcraft --source-type database --source-id 1 --wait',
    `exportflow export altcraft --source-type segment --source-id 7 --filter '{"city":"Berlin"}' --json`,
  ],
  'apsis-segment': [
    'exportflow export apsis-segment --section com.example.main --segment com.example.vip --format csv.gz --wait',
  ],
  'apsis-profile': [
    'exportflow export apsis-profile --export-key user@example.com --history --type-definitions --wait',
  ],
  mytracker: [
    'exportflow export mytracker --segment 123 --fields idUser,country --wait',
    'exportflow export mytracker --export-id 456 --wait --json',
  ],
};

export const PROGRAM_EXAMPLES = [
  'npx exportflow dev --simulate                      # local Temporal + worker + vendor simulator',
  'npx exportflow export altcraft --source-type database --source-id 1 --wait',
  'npx exportflow status <workflowId>',
  'npx exportflow list --provider altcraft --phase waiting',
  'npx exportflow schedule create nightly --cron "0 3 * * *" -- export altcraft --source-type database --source-id 1',
];

export function examplesText(lines: string[] | undefined): string {
  return lines && lines.length > 0 ? `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n` : '';
}
