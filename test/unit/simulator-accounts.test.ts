import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { simulatorEnv, startSimulator, type Simulator } from '../../src/simulator';
import { z } from 'zod';
import { json, postJson, rawRequest, signedRequest } from '../../src/simulator/probe';

/** myTracker's quotas/get.json answer, as far as the test reads it. */
const QuotasAnswerSchema = z.object({
  data: z.object({ quotas: z.array(z.looseObject({ name: z.string(), count: z.number(), limit: z.number() })) }),
});

describe('simulator: several accounts per vendor', () => {
  let sim: Simulator;
  before(async () => {
    sim = await startSimulator({
      accounts: ['eu'],
      altcraft: { taskDurationMs: 0 },
      mytracker: { exportDurationMs: 0 },
    });
  });
  after(() => sim.close());

  it('gives each named account its own credentials and __<NAME> variables', () => {
    const eu = sim.accountCredentials('EU')!;
    assert.notEqual(eu.altcraftToken, sim.credentials.altcraftToken);
    assert.notEqual(eu.mytrackerUserId, sim.credentials.mytrackerUserId);
    assert.equal(sim.accountCredentials('us'), undefined);
    const env = simulatorEnv(sim, ['eu']);
    assert.equal(env.ALTCRAFT_TOKEN__EU, eu.altcraftToken);
    assert.equal(env.MYTRACKER_API_SECRET__EU, eu.mytrackerSecret);
    assert.equal(env.ALTCRAFT_TOKEN, sim.credentials.altcraftToken);
  });

  it('Altcraft: a task is visible to its own account only; a foreign task id and file are refused as unknown', async () => {
    const eu = sim.accountCredentials('eu')!;
    const created = json(
      await postJson(`${sim.url}/api/v1.1/profiles/get_all`, {
        token: eu.altcraftToken,
        source_type: 'database',
        source_id: 3,
      }),
    );
    const taskId = created.data.task_id as string;
    const own = json(await postJson(`${sim.url}/api/v1.1/tasks/status`, { token: eu.altcraftToken, task_id: taskId }));
    assert.equal(own.error, 0);
    const foreign = json(
      await postJson(`${sim.url}/api/v1.1/tasks/status`, { token: sim.credentials.altcraftToken, task_id: taskId }),
    );
    assert.equal(foreign.error, 9, 'the default account must not see the eu task');
    const url = own.data.result.urls[0] as string;
    const foreignFile = await rawRequest(`${sim.url}${url}`, {
      headers: { authorization: `Bearer ${sim.credentials.altcraftToken}` },
    });
    assert.equal(foreignFile.status, 404);
    const ownFile = await rawRequest(`${sim.url}${url}`, { headers: { authorization: `Bearer ${eu.altcraftToken}` } });
    assert.equal(ownFile.status, 200);
    const refused = sim.requests.filter((r) => r.vendor === 'altcraft' && r.foreign);
    assert.deepEqual(
      refused.map((r) => [r.endpoint, r.account]),
      [
        ['status', 'default'],
        ['download', 'default'],
      ],
    );
    assert.equal(sim.altcraft.tasks().find((t) => t.id === taskId)?.account, 'eu');
  });

  it('myTracker: exports are per API user (404 for another user), and the quota endpoint counts per user', async () => {
    const eu = sim.accountCredentials('eu')!;
    const euCreds = { userId: eu.mytrackerUserId, secret: eu.mytrackerSecret };
    const defCreds = { userId: sim.credentials.mytrackerUserId, secret: sim.credentials.mytrackerSecret };
    const created = json(
      await signedRequest(`${sim.url}/api/segment/v1/export/create.json?idSegment=5`, euCreds, { method: 'POST' }),
    );
    const id = created.data.idSegmentExport as string;
    const own = await signedRequest(`${sim.url}/api/segment/v1/export/get.json?idSegmentExport=${id}`, euCreds);
    assert.equal(own.status, 200);
    const foreign = await signedRequest(`${sim.url}/api/segment/v1/export/get.json?idSegmentExport=${id}`, defCreds);
    assert.equal(foreign.status, 404);
    const quotas = async (creds: { userId: string; secret: string }) => {
      const res = await signedRequest(`${sim.url}/api/open/user/v1/quotas/get.json`, creds);
      assert.equal(res.status, 200, res.body.toString());
      const { quotas } = QuotasAnswerSchema.parse(json(res)).data;
      return Object.fromEntries(quotas.map((q): [string, [number, number]] => [q.name, [q.count, q.limit]]));
    };
    // eu made create + get (2); default made one refused get (404 still counts: it was an accepted request).
    assert.deepEqual((await quotas(euCreds)).RequestsByUserPerHour, [2, 1000]);
    assert.deepEqual((await quotas(defCreds)).RequestsByUserPerHour, [1, 1000]);
    const wrong = await signedRequest(`${sim.url}/api/open/user/v1/quotas/get.json`, { ...euCreds, secret: 'nope' });
    assert.equal(wrong.status, 403);
  });

  it("APSIS: each account gets its own token; a report polled with another account's token is an invalid id", async () => {
    const eu = sim.accountCredentials('eu')!;
    const token = async (clientId: string, clientSecret: string) =>
      json(
        await postJson(`${sim.url}/oauth/token`, {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret,
        }),
      ).access_token as string;
    const euToken = await token(eu.apsisClientId, eu.apsisClientSecret);
    const defToken = await token(sim.credentials.apsisClientId, sim.credentials.apsisClientSecret);
    const report = json(
      await postJson(
        `${sim.url}/audience/profiles/reports/segments`,
        { section_discriminator: 's', segments: { segment_discriminators: { s1: 'seg' }, filter: 's1' } },
        { authorization: `Bearer ${euToken}` },
      ),
    );
    const pollUrl = (report.file_download_url_v2 ?? report.file_download_url ?? report.poll_url) as string;
    const foreign = await rawRequest(pollUrl, { headers: { authorization: `Bearer ${defToken}` } });
    assert.ok([404, 410].includes(foreign.status), `foreign poll answered ${foreign.status}`);
    const own = await rawRequest(pollUrl, { headers: { authorization: `Bearer ${euToken}` } });
    assert.ok([200, 202, 404].includes(own.status));
    assert.ok(
      sim.requests.some((r) => r.vendor === 'apsis' && r.endpoint === 'poll' && r.foreign && r.account === 'default'),
    );
  });
});
