import { ProfileLibrary } from '../../device-profiles/library.js';

export type ProfileKindResolver = (profileId: string | undefined) => string | undefined;

/**
 * Profile id → kind (water_level, smoke_detector…) from the bundled device-profile library, so an
 * alarm type the policy does not know can still be categorised by what the device senses. The fleet
 * registry (a later issue) will own profiles; until then a library that does not load leaves the
 * cloud working on type rules alone.
 */
export function bundledProfileKinds(onError: (err: unknown) => void): ProfileKindResolver {
  let kinds: Map<string, string>;
  try {
    kinds = new Map(ProfileLibrary.load().all().map((p) => [p.id, p.kind]));
  } catch (err) {
    onError(err);
    kinds = new Map();
  }
  return (id) => (id === undefined ? undefined : kinds.get(id));
}
