import type { SupportedProvider } from '../../src/client';
import type { Simulator } from '../../src/simulator';

/** Vendor jobs the simulator created for one export's subject (Altcraft `type:id`, APSIS section or key, myTracker segment). */
export function jobsFor(sim: Simulator, provider: SupportedProvider, subject: string): number {
  switch (provider) {
    case 'altcraft':
      return sim.altcraft.tasks().filter((t) => `${t.sourceType}:${t.sourceId}` === subject).length;
    case 'apsis-segment':
      return sim.apsis.reports().filter((r) => r.section === subject).length;
    case 'apsis-profile':
      return sim.apsis.profileExports().filter((e) => e.exportKey === subject).length;
    case 'mytracker':
      return sim.mytracker.exports().filter((e) => e.idSegment === subject).length;
  }
}
