// Rule file → RuleSet. Every way a file can be wrong ends as GS_ERR_RULE_INVALID with details that
// name the file, the JSON pointer (and the line) and what is wrong.
import { readFileSync } from 'node:fs';
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import { schemaErrors } from '../contracts/validate.js';
import { ruleFileProblems } from './check.js';
import { compileRule } from './evaluate.js';
import { RuleFile } from './schema.js';
import { readableSchemaErrors } from './schema-errors.js';
import type { RuleSet } from './types.js';
import { parseYamlWithLines, withLine, YamlSyntaxError, type ParsedYaml } from '../contracts/yaml.js';

export function parseRuleFile(text: string, file: string): RuleSet {
  let parsed: ParsedYaml;
  try {
    parsed = parseYamlWithLines(text);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    throw invalid(file, 'not valid YAML', [{ file, path: '', message: err.detail }]);
  }
  const details = readableSchemaErrors(schemaErrors(RuleFile, parsed.value, file));
  const rules = (parsed.value as { rules?: unknown } | null)?.rules;
  if (Array.isArray(rules)) details.push(...ruleFileProblems(rules).map((d) => ({ ...d, file })));
  if (details.length > 0) throw invalid(file, `${details.length} problem(s)`, details.map((d) => withLine(d, parsed)));
  const spec = parsed.value as RuleFile;
  return { file, rules: spec.rules.map((r) => compileRule(r, file)) };
}

export function loadRuleFile(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw invalid(path, 'cannot be read', [{ file: path, path: '', message: `cannot read the file (${why})` }]);
  }
  return parseRuleFile(text, path);
}

/** Every file, in order. Ids must be unique across files too; RuleEngine checks that when it takes them. */
export function loadRuleFiles(paths: string[]): RuleSet[] {
  return paths.map((p) => loadRuleFile(p));
}

function invalid(file: string, what: string, details: ErrorDetail[]): GsError {
  return new GsError('GS_ERR_RULE_INVALID', `rule file ${file}: ${what}`, details);
}


