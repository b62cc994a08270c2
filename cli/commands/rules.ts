import { isGsError } from '../../contracts/errors.js';

/** `gridsense rules validate <files…>`: each file compiled, every problem printed with file, rule and field. */
export async function validateRules(files: string[], out: (line: string) => void): Promise<number> {
  const { loadRuleFile } = await import('../../rules/compile.js');
  const { resolveRuleFile } = await import('../../rules/library.js');
  let bad = 0;
  for (const name of files) {
    try {
      const set = loadRuleFile(resolveRuleFile(name));
      out(`✓ ${set.file} (${set.rules.length} rule(s): ${set.rules.map((r) => r.id).join(', ')})`);
    } catch (err) {
      if (!isGsError(err)) throw err;
      bad++;
      out(`✗ ${name} [${err.code}]`);
      for (const d of err.details) out(`  ${d.file ? `${d.file}: ` : ''}${d.path || '/'}: ${d.message}`);
    }
  }
  out(`${files.length - bad} valid, ${bad} invalid`);
  return bad === 0 ? 0 : 1;
}
